"""nn.init and nn.utils against torch: after the same seed, the same values (bit for bit where PyTorch's
generator decides them) and the same generator state afterwards."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import ember
from ember import nn

torch = pytest.importorskip("torch")


def _pair(shape, dtype="float32"):
    return torch.empty(shape, dtype=getattr(torch, dtype)), ember.empty(shape, dtype=getattr(ember, dtype))


INITS = [
    ("uniform_", (5, 7), lambda I, t: I.uniform_(t, -0.3, 2.0)),
    ("normal_small", (3, 4), lambda I, t: I.normal_(t, 0.5, 2.0)),
    ("normal_big", (9, 7), lambda I, t: I.normal_(t, 0.5, 2.0)),
    ("trunc_normal_wide", (20, 9), lambda I, t: I.trunc_normal_(t, std=1.0)),
    ("trunc_normal_small", (3, 3), lambda I, t: I.trunc_normal_(t, mean=0.2, std=0.5, a=-0.5, b=1.0)),
    ("trunc_normal_narrow", (11, 5), lambda I, t: I.trunc_normal_(t, std=1.0, a=0.5, b=0.8)),
    ("trunc_normal_std02", (64, 33), lambda I, t: I.trunc_normal_(t, std=0.02)),
    ("constant_", (2, 3), lambda I, t: I.constant_(t, 0.3)),
    ("ones_", (2, 3), lambda I, t: I.ones_(t)),
    ("zeros_", (2, 3), lambda I, t: I.zeros_(t)),
    ("eye_", (3, 5), lambda I, t: I.eye_(t)),
    ("dirac_", (4, 2, 3, 3), lambda I, t: I.dirac_(t, groups=2)),
    ("xavier_uniform_", (6, 4), lambda I, t: I.xavier_uniform_(t, gain=I.calculate_gain("tanh"))),
    ("xavier_normal_", (6, 4, 3), lambda I, t: I.xavier_normal_(t)),
    ("kaiming_uniform_", (8, 5), lambda I, t: I.kaiming_uniform_(t, a=math.sqrt(5))),
    (
        "kaiming_uniform_fan_out",
        (8, 5, 2),
        lambda I, t: I.kaiming_uniform_(t, mode="fan_out", nonlinearity="relu"),
    ),
    ("kaiming_normal_", (8, 5), lambda I, t: I.kaiming_normal_(t, nonlinearity="leaky_relu", a=0.1)),
    ("kaiming_normal_small", (2, 3), lambda I, t: I.kaiming_normal_(t)),
    ("sparse_", (6, 4), lambda I, t: I.sparse_(t, 0.5)),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,shape,fn", INITS, ids=[i[0] for i in INITS])
def test_init_matches_torch_bit_for_bit(name, shape, fn, dtype):
    tt, et = _pair(shape, dtype)
    torch.manual_seed(11)
    tout = fn(torch.nn.init, tt)
    ember.manual_seed(11)
    eout = fn(nn.init, et)
    assert eout is et and tout is tt
    np.testing.assert_array_equal(et.numpy(), tt.numpy())
    # the same number of draws was consumed
    np.testing.assert_array_equal(ember.rand(5).numpy(), torch.rand(5).numpy())


def test_orthogonal_matches_torch():
    for shape in [(5, 3), (3, 5), (4, 2, 2)]:
        tt, et = _pair(shape, "float64")
        torch.manual_seed(2)
        torch.nn.init.orthogonal_(tt, gain=2.0)
        ember.manual_seed(2)
        nn.init.orthogonal_(et, gain=2.0)
        np.testing.assert_allclose(et.numpy(), tt.numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_array_equal(ember.rand(3).numpy(), torch.rand(3).numpy())


def test_init_runs_under_no_grad_on_parameters():
    p = nn.Parameter(ember.empty(3, 4))
    out = nn.init.kaiming_uniform_(p)
    assert out is p and p.is_leaf and p.grad_fn is None and p.requires_grad


def test_calculate_gain_and_errors():
    gains = [("linear",), ("conv2d",), ("sigmoid",), ("tanh",), ("relu",), ("leaky_relu",)]
    for args in [*gains, ("leaky_relu", 0.2), ("leaky_relu", 3), ("selu",)]:
        assert nn.init.calculate_gain(*args) == torch.nn.init.calculate_gain(*args)
    cases = [
        lambda T: T.nn.init.calculate_gain("foo"),
        lambda T: T.nn.init.calculate_gain("leaky_relu", "x"),
        lambda T: T.nn.init.kaiming_uniform_(T.empty(3)),
        lambda T: T.nn.init.kaiming_normal_(T.empty(3, 2), mode="fan"),
        lambda T: T.nn.init.eye_(T.empty(3)),
        lambda T: T.nn.init.dirac_(T.empty(3, 3)),
        lambda T: T.nn.init.orthogonal_(T.empty(3)),
    ]
    for fn in cases:
        with pytest.raises(ValueError) as te:
            fn(torch)
        with pytest.raises(ValueError) as ee:
            fn(ember)
        assert str(ee.value) == str(te.value)


def test_zero_element_warns():
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        nn.init.kaiming_uniform_(ember.empty(0, 3))


def test_deprecated_aliases_warn():
    with pytest.warns(
        FutureWarning, match=r"`nn.init.normal` is now deprecated in favor of `nn.init.normal_`."
    ):
        nn.init.normal(ember.empty(2))


# -- nn.utils --------------------------------------------------------------------------------------
def _grads(T, dtype="float32"):
    rng = np.random.default_rng(0)
    params = []
    for shape in [(3, 4), (4,), (2, 2)]:
        p = T.nn.Parameter(T.tensor(rng.standard_normal(shape).astype(dtype)))
        p.grad = T.tensor((rng.standard_normal(shape) * 3).astype(dtype))
        params.append(p)
    params.append(T.nn.Parameter(T.zeros(2)))  # no grad: skipped
    return params


@pytest.mark.parametrize("norm_type", [2.0, 1, float("inf"), 3.0])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    tp, ep = _grads(torch), _grads(ember)
    tn = torch.nn.utils.clip_grad_norm_(tp, max_norm, norm_type)
    en = nn.utils.clip_grad_norm_(ep, max_norm, norm_type)
    assert en.dtype is ember.float32 and en.shape == ()
    np.testing.assert_allclose(en.item(), tn.item(), rtol=1e-6)
    for a, b in zip(ep, tp, strict=True):
        if b.grad is not None:
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-6)


def test_clip_grad_norm_nonfinite_and_single_tensor():
    p = nn.Parameter(ember.zeros(2))
    p.grad = ember.tensor([float("inf"), 1.0])
    with pytest.raises(
        RuntimeError, match="The total norm of order 2.0 for gradients from `parameters` is non-finite"
    ):
        nn.utils.clip_grad_norm_(p, 1.0, error_if_nonfinite=True)
    q = nn.Parameter(ember.zeros(2))
    q.grad = ember.tensor([3.0, 4.0])
    assert nn.utils.clip_grad_norm_(q, 1.0).item() == 5.0
    np.testing.assert_allclose(q.grad.numpy(), [0.6, 0.8], rtol=1e-5)
    assert nn.utils.clip_grad_norm_([], 1.0).item() == 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(UserWarning, match="empty generator"):
            nn.utils.clip_grad_norm_((x for x in []), 1.0)


def test_clip_grad_value():
    tp, ep = _grads(torch), _grads(ember)
    torch.nn.utils.clip_grad_value_(tp, 1.5)
    nn.utils.clip_grad_value_(ep, 1.5)
    for a, b in zip(ep, tp, strict=True):
        if b.grad is not None:
            np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())


def test_parameters_to_vector_and_back():
    m = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1))
    vec = nn.utils.parameters_to_vector(m.parameters())
    assert vec.shape == (11,) and vec.grad_fn is not None
    expected = np.concatenate([p.detach().numpy().ravel() for p in m.parameters()])
    np.testing.assert_array_equal(vec.detach().numpy(), expected)
    nn.utils.vector_to_parameters(ember.arange(11.0), m.parameters())
    assert m[0].weight.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]] and m[1].bias.tolist() == [10.0]
    assert isinstance(m[0].weight, nn.Parameter)
    with pytest.raises(TypeError, match="expected torch.Tensor, but got: list"):
        nn.utils.vector_to_parameters([1.0], m.parameters())
