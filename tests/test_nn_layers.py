"""Every layer and loss module against torch: copy torch's state in, then compare repr, outputs and the
gradients of inputs and parameters, in float32 and float64."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember
from ember import nn

torch = pytest.importorskip("torch")


def f(*shape):
    return lambda r: r.standard_normal(shape)


def i(high, *shape):
    return lambda r: r.integers(0, high, size=shape)


def u(*shape):
    return lambda r: r.uniform(0.05, 0.95, size=shape)


def pm1(*shape):
    return lambda r: np.where(r.random(shape) < 0.5, -1.0, 1.0)


LAYERS = [
    (lambda T: T.nn.Linear(4, 3), [f(5, 4)]),
    (lambda T: T.nn.Linear(4, 3, bias=False), [f(2, 5, 4)]),
    (lambda T: T.nn.Bilinear(3, 2, 4), [f(5, 3), f(5, 2)]),
    (lambda T: T.nn.Identity(3, foo=1), [f(2, 3)]),
    (lambda T: T.nn.Flatten(), [f(2, 3, 4)]),
    (lambda T: T.nn.Flatten(0, 1), [f(2, 3, 4)]),
    (lambda T: T.nn.Unflatten(1, (2, 2)), [f(3, 4)]),
    (lambda T: T.nn.Embedding(7, 3, padding_idx=2), [i(7, 2, 5)]),
    (lambda T: T.nn.Embedding(7, 3, max_norm=1.0), [i(7, 2, 5)]),
    (lambda T: T.nn.EmbeddingBag(7, 3, mode="sum"), [i(7, 2, 5)]),
    (lambda T: T.nn.EmbeddingBag(7, 3, mode="max"), [i(7, 3, 4)]),
    (lambda T: T.nn.LayerNorm([3, 4]), [f(2, 3, 4)]),
    (lambda T: T.nn.LayerNorm(4, elementwise_affine=False), [f(2, 3, 4)]),
    (lambda T: T.nn.LayerNorm(4, bias=False), [f(2, 3, 4)]),
    (lambda T: T.nn.RMSNorm(4), [f(2, 3, 4)]),
    (lambda T: T.nn.GroupNorm(2, 4), [f(3, 4, 5)]),
    (lambda T: T.nn.BatchNorm1d(4), [f(6, 4)]),
    (lambda T: T.nn.BatchNorm1d(4, momentum=None, affine=False), [f(6, 4, 3)]),
    (lambda T: T.nn.BatchNorm1d(4, track_running_stats=False), [f(6, 4)]),
    (lambda T: T.nn.BatchNorm2d(3), [f(2, 3, 4, 4)]),
    (lambda T: T.nn.BatchNorm3d(2), [f(2, 2, 3, 2, 2)]),
    (lambda T: T.nn.ReLU(), [f(3, 4)]),
    (lambda T: T.nn.ReLU6(), [lambda r: r.standard_normal((3, 4)) * 5]),
    (lambda T: T.nn.LeakyReLU(0.1), [f(3, 4)]),
    (lambda T: T.nn.PReLU(), [f(3, 4)]),
    (lambda T: T.nn.PReLU(4, init=0.1), [f(3, 4, 2)]),
    (lambda T: T.nn.ELU(0.5), [f(3, 4)]),
    (lambda T: T.nn.SELU(), [f(3, 4)]),
    (lambda T: T.nn.CELU(2.0), [f(3, 4)]),
    (lambda T: T.nn.GELU(), [f(3, 4)]),
    (lambda T: T.nn.GELU("tanh"), [f(3, 4)]),
    (lambda T: T.nn.SiLU(), [f(3, 4)]),
    (lambda T: T.nn.Mish(), [f(3, 4)]),
    (lambda T: T.nn.Sigmoid(), [f(3, 4)]),
    (lambda T: T.nn.Tanh(), [f(3, 4)]),
    (lambda T: T.nn.Hardtanh(-0.5, 0.5), [f(3, 4)]),
    (lambda T: T.nn.Hardsigmoid(), [lambda r: r.standard_normal((3, 4)) * 4]),
    (lambda T: T.nn.Hardswish(), [lambda r: r.standard_normal((3, 4)) * 4]),
    (lambda T: T.nn.Softplus(beta=0.5, threshold=2), [f(3, 4)]),
    (lambda T: T.nn.Softsign(), [f(3, 4)]),
    (lambda T: T.nn.Tanhshrink(), [f(3, 4)]),
    (lambda T: T.nn.Threshold(0.2, -1.0), [f(3, 4)]),
    (lambda T: T.nn.LogSigmoid(), [f(3, 4)]),
    (lambda T: T.nn.Softmax(dim=-1), [f(3, 4)]),
    (lambda T: T.nn.Softmin(dim=0), [f(3, 4)]),
    (lambda T: T.nn.LogSoftmax(dim=1), [f(3, 4)]),
    (lambda T: T.nn.Softmax2d(), [f(2, 3, 2, 2)]),
    (lambda T: T.nn.GLU(), [f(3, 4)]),
    (lambda T: T.nn.Hardshrink(0.3), [f(3, 4)]),
    (lambda T: T.nn.Softshrink(0.3), [f(3, 4)]),
    (lambda T: T.nn.Dropout(0.3), [f(4, 5)]),
    (lambda T: T.nn.Dropout1d(0.3), [f(4, 5, 2)]),
    (lambda T: T.nn.Dropout2d(0.3), [f(4, 5, 2, 2)]),
    (lambda T: T.nn.Dropout3d(0.3), [f(2, 5, 2, 2, 1)]),
    (lambda T: T.nn.AlphaDropout(0.3), [f(4, 5)]),
    (lambda T: T.nn.FeatureAlphaDropout(0.3), [f(4, 5, 2)]),
    # losses
    (lambda T: T.nn.MSELoss(), [f(3, 4), f(3, 4)]),
    (lambda T: T.nn.L1Loss(reduction="sum"), [f(3, 4), f(3, 4)]),
    (lambda T: T.nn.SmoothL1Loss(beta=0.5), [f(3, 4), f(3, 4)]),
    (lambda T: T.nn.HuberLoss(delta=0.3), [f(3, 4), f(3, 4)]),
    (lambda T: T.nn.CrossEntropyLoss(), [f(5, 3), i(3, 5)]),
    (
        lambda T: T.nn.CrossEntropyLoss(
            weight=T.tensor([0.2, 1.0, 3.0]), ignore_index=1, label_smoothing=0.1
        ),
        [f(5, 3), i(3, 5)],
    ),
    (lambda T: T.nn.NLLLoss(reduction="none"), [f(5, 3), i(3, 5)]),
    (lambda T: T.nn.BCELoss(), [u(3, 4), u(3, 4)]),
    (lambda T: T.nn.BCEWithLogitsLoss(pos_weight=T.tensor([1.0, 2.0, 0.5, 3.0])), [f(3, 4), u(3, 4)]),
    (lambda T: T.nn.KLDivLoss(reduction="batchmean", log_target=True), [f(3, 4), f(3, 4)]),
    (lambda T: T.nn.PoissonNLLLoss(), [f(3, 4), u(3, 4)]),
    (lambda T: T.nn.GaussianNLLLoss(), [f(3, 4), f(3, 4), u(3, 4)]),
    (lambda T: T.nn.CosineEmbeddingLoss(margin=0.2), [f(4, 3), f(4, 3), pm1(4)]),
    (lambda T: T.nn.MarginRankingLoss(margin=0.1), [f(4), f(4), pm1(4)]),
    (lambda T: T.nn.HingeEmbeddingLoss(), [f(3, 4), pm1(3, 4)]),
    (lambda T: T.nn.TripletMarginLoss(), [f(4, 3), f(4, 3), f(4, 3)]),
    (lambda T: T.nn.TripletMarginWithDistanceLoss(margin=0.5, swap=True), [f(4, 3), f(4, 3), f(4, 3)]),
    (lambda T: T.nn.MultiLabelSoftMarginLoss(), [f(3, 4), lambda r: (r.random((3, 4)) < 0.5) * 1.0]),
    (lambda T: T.nn.SoftMarginLoss(), [f(3, 4), pm1(3, 4)]),
    (lambda T: T.nn.PairwiseDistance(p=1.0, keepdim=True), [f(3, 4), f(3, 4)]),
    (lambda T: T.nn.CosineSimilarity(dim=0), [f(3, 4), f(3, 4)]),
]


def _to(T, a, dtype, grad):
    if a.dtype.kind == "f":
        t = T.tensor(a.astype(dtype))
        return t.requires_grad_(grad)
    return T.tensor(a.astype(np.int64))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("k", range(len(LAYERS)))
def test_layer_matches_torch(k, dtype):
    builder, makers = LAYERS[k]
    rng = np.random.default_rng(k)
    arrays = [np.asarray(m(rng)) for m in makers]
    torch.manual_seed(k)
    tm = builder(torch)
    em = builder(ember)
    assert repr(em) == repr(tm)
    em.load_state_dict({key: ember.tensor(v.detach().numpy().copy()) for key, v in tm.state_dict().items()})
    if dtype == "float64":
        tm, em = tm.double(), em.double()
    tin = [_to(torch, a, dtype, grad=(j == 0)) for j, a in enumerate(arrays)]
    ein = [_to(ember, a, dtype, grad=(j == 0)) for j, a in enumerate(arrays)]
    rtol, atol = (3e-5, 1e-5) if dtype == "float32" else (1e-10, 1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.manual_seed(100 + k)  # dropout layers draw the same masks
        tout = tm(*tin)
        ember.manual_seed(100 + k)
        eout = em(*ein)
    assert eout.dtype.name == str(tout.dtype).removeprefix("torch.") and tuple(eout.shape) == tuple(
        tout.shape
    )
    np.testing.assert_allclose(eout.detach().numpy(), tout.detach().numpy(), rtol=rtol, atol=atol)
    w = rng.standard_normal(tuple(tout.shape)).astype(dtype)
    (tout * torch.tensor(w)).sum().backward()
    (eout * ember.tensor(w)).sum().backward()
    pairs = [(ein[0], tin[0])] + list(zip(em.parameters(), tm.parameters(), strict=True))
    for e, t in pairs:
        if t.grad is None:
            assert e.grad is None
        else:
            np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), rtol=rtol, atol=atol)
    for (name, eb), (_, tb) in zip(em.named_buffers(), tm.named_buffers(), strict=True):
        np.testing.assert_allclose(eb.numpy(), tb.numpy(), rtol=rtol, atol=atol, err_msg=name)


def test_eval_mode_layers():
    for builder, shape in [(lambda T: T.nn.Dropout(0.5), (3, 4)), (lambda T: T.nn.AlphaDropout(0.5), (3, 4))]:
        x = ember.randn(*shape)
        assert builder(ember).eval()(x) is x


def test_mse_loss_legacy_flags_warn_at_construction():
    with pytest.warns(
        UserWarning,
        match=r"size_average and reduce args will be deprecated, please use reduction='sum' instead\.",
    ):
        loss = nn.MSELoss(size_average=False)
    assert loss.reduction == "sum"
    assert loss(ember.ones(2, 2), ember.zeros(2, 2)).item() == 4.0
    with pytest.warns(UserWarning, match="reduction='none'"):
        assert nn.MSELoss(reduce=False).reduction == "none"
    with pytest.warns(UserWarning, match="reduction='mean'"):
        assert nn.CrossEntropyLoss(size_average=True, reduce=True).reduction == "mean"


def test_loss_weight_buffers_in_state_dict():
    for T in (torch, ember):
        assert list(T.nn.CrossEntropyLoss(weight=T.ones(3)).state_dict()) == ["weight"]
        assert list(T.nn.BCEWithLogitsLoss(pos_weight=T.ones(3)).state_dict()) == ["pos_weight"]


def test_embedding_from_pretrained_and_padding():
    w = ember.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    emb = nn.Embedding.from_pretrained(w)
    assert not emb.weight.requires_grad and emb(ember.tensor([2])).tolist() == [[5.0, 6.0]]
    emb = nn.Embedding(4, 2, padding_idx=-1)
    assert emb.padding_idx == 3 and emb.weight[3].tolist() == [0.0, 0.0]
    out = emb(ember.tensor([3, 0, 3]))
    out.sum().backward()
    assert emb.weight.grad[3].tolist() == [0.0, 0.0] and emb.weight.grad[0].tolist() == [1.0, 1.0]
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        nn.Embedding(4, 2, padding_idx=4)


def test_seed_program_linear_regression_matches_torch():
    """The tutorial loop: Sequential(Linear(3, 1), Flatten(0, 1)) fit by hand with MSELoss(sum)."""

    def run(T):
        T.manual_seed(0)
        x = T.linspace(-3.14159, 3.14159, 2000)
        y = T.sin(x)
        xx = x.unsqueeze(-1).pow(T.tensor([1, 2, 3]))
        model = T.nn.Sequential(T.nn.Linear(3, 1), T.nn.Flatten(0, 1))
        loss_fn = T.nn.MSELoss(reduction="sum")
        losses = []
        for _ in range(30):
            loss = loss_fn(model(xx), y)
            losses.append(loss.item())
            model.zero_grad()
            loss.backward()
            with T.no_grad():
                for param in model.parameters():
                    param -= 1e-6 * param.grad  # noqa: PLW2901 - the tutorial's in-place update
        return losses, [p.detach().numpy().copy() for p in model.parameters()]

    el, ep = run(ember)
    tl, tp = run(torch)
    np.testing.assert_allclose(el, tl, rtol=1e-5)
    for a, b in zip(ep, tp, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
