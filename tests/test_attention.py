"""MultiheadAttention and the transformer layers against torch: outputs, attention weights and the
gradients of inputs and every parameter (eval mode, so dropout is off), in float32 and float64."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember
from ember import nn

torch = pytest.importorskip("torch")

TOL = {"float32": dict(rtol=1e-4, atol=1e-5), "float64": dict(rtol=1e-10, atol=1e-12)}


def copy_into(tm, em) -> None:
    assert list(em.state_dict()) == list(tm.state_dict())
    em.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})


def close(e, t, dtype: str, what: str = "") -> None:
    np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), err_msg=what, **TOL[dtype])


def both(array):
    """The same array as a torch and an ember leaf (requiring grad if floating point)."""
    grad = array.dtype.kind == "f"
    return torch.tensor(array, requires_grad=grad), ember.tensor(array, requires_grad=grad)


def backward_both(t_out, e_out) -> None:
    w = np.linspace(-1.0, 2.0, t_out.numel()).reshape(tuple(t_out.shape))
    (t_out * torch.tensor(w, dtype=t_out.dtype)).sum().backward()
    (e_out * ember.tensor(w, dtype=e_out.dtype)).sum().backward()


def compare_grads(tm, em, pairs, dtype) -> None:
    for (name, tp), ep in zip(tm.named_parameters(), em.parameters(), strict=True):
        close(ep.grad, tp.grad, dtype, f"grad of {name}")
    for k, (t, e) in enumerate(pairs):
        close(e.grad, t.grad, dtype, f"grad of input {k}")


# -- MultiheadAttention --------------------------------------------------------------------------------
MHA_CONFIGS = [
    {},
    {"batch_first": True},
    {"kdim": 5, "vdim": 3},
    {"add_bias_kv": True, "add_zero_attn": True},
    {"bias": False},
]


def masks(kind: str, rng, batch: int, heads: int, tgt: int, src: int) -> dict:
    if kind == "none":
        return {}
    if kind == "bool2d":
        am = rng.random((tgt, src)) < 0.3
        am[:, 0] = False  # every query keeps at least one key
        return {"attn_mask": am}
    if kind == "float2d":
        return {"attn_mask": rng.standard_normal((tgt, src))}
    if kind == "bool3d":
        am = rng.random((batch * heads, tgt, src)) < 0.3
        am[:, :, 0] = False
        return {"attn_mask": am}
    kpm = np.zeros((batch, src), bool)
    kpm[0, -2:] = True
    if kind == "padding":
        return {"key_padding_mask": kpm}
    if kind == "padding_float":
        return {"key_padding_mask": np.where(kpm, -np.inf, 0.0)}
    am = rng.random((tgt, src)) < 0.3
    am[:, 0] = False  # no fully masked row (torch's fused path gives those zeros, its reference path NaN)
    return {"key_padding_mask": kpm, "attn_mask": am}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("weights", ["avg", "per_head", "none"])
@pytest.mark.parametrize("mask", ["none", "bool2d", "float2d", "bool3d", "padding", "padding_float", "both"])
@pytest.mark.parametrize(
    "config", MHA_CONFIGS, ids=["default", "batch_first", "kdim_vdim", "bias_kv", "no_bias"]
)
def test_mha(config, mask, weights, dtype):
    rng = np.random.default_rng(0)
    torch.manual_seed(0)
    tm = torch.nn.MultiheadAttention(8, 2, **config).to(getattr(torch, dtype))
    em = nn.MultiheadAttention(8, 2, **config).to(getattr(ember, dtype))
    copy_into(tm, em)
    batch, tgt, src = 3, 4, 5
    bf = config.get("batch_first", False)

    def shape(length, dim):
        return (batch, length, dim) if bf else (length, batch, dim)

    arrays = [rng.standard_normal(shape(tgt, 8)), rng.standard_normal(shape(src, config.get("kdim", 8))),
              rng.standard_normal(shape(src, config.get("vdim", 8)))]  # fmt: skip
    (tq, eq), (tk, ek), (tv, ev) = (both(a.astype(dtype)) for a in arrays)
    m = {
        k: v.astype(dtype) if v.dtype.kind == "f" else v
        for k, v in masks(mask, rng, batch, 2, tgt, src).items()
    }
    kw = {"need_weights": weights != "none", "average_attn_weights": weights == "avg"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # mismatched mask types: a deprecation warning in both
        t_out, t_w = tm(tq, tk, tv, **kw, **{k: torch.tensor(v) for k, v in m.items()})
        e_out, e_w = em(eq, ek, ev, **kw, **{k: ember.tensor(v) for k, v in m.items()})
    close(e_out, t_out, dtype, "output")
    assert (e_w is None) == (t_w is None)
    if t_w is not None:
        close(e_w, t_w, dtype, "weights")
    backward_both(t_out, e_out)
    compare_grads(tm, em, [(tq, eq), (tk, ek), (tv, ev)], dtype)


@pytest.mark.parametrize("need_weights", [False, True])
def test_mha_self_attention_causal_and_unbatched(need_weights):
    rng = np.random.default_rng(1)
    tm = torch.nn.MultiheadAttention(6, 3).double()
    em = nn.MultiheadAttention(6, 3).double()
    copy_into(tm, em)
    tx, ex = both(rng.standard_normal((4, 2, 6)))
    causal = np.triu(np.full((4, 4), -np.inf), 1)
    t_out, _ = tm(tx, tx, tx, attn_mask=torch.tensor(causal), is_causal=True, need_weights=need_weights)
    e_out, _ = em(ex, ex, ex, attn_mask=ember.tensor(causal), is_causal=True, need_weights=need_weights)
    close(e_out, t_out, "float64")
    backward_both(t_out, e_out)
    compare_grads(tm, em, [(tx, ex)], "float64")
    tu, eu = both(rng.standard_normal((4, 6)))  # unbatched (L, E)
    t_out, t_w = tm(tu, tu, tu, key_padding_mask=torch.tensor([False, False, True, False]))
    e_out, e_w = em(eu, eu, eu, key_padding_mask=ember.tensor([False, False, True, False]))
    close(e_out, t_out, "float64")
    close(e_w, t_w, "float64")


def test_mha_dropout_matches_torch_in_training():
    torch.manual_seed(0)
    tm = torch.nn.MultiheadAttention(8, 2, dropout=0.5)
    ember.manual_seed(0)
    em = nn.MultiheadAttention(8, 2, dropout=0.5)
    x = np.random.default_rng(2).standard_normal((3, 2, 8)).astype(np.float32)
    torch.manual_seed(1)
    ember.manual_seed(1)
    t_out, t_w = tm(*[torch.tensor(x)] * 3)
    e_out, e_w = em(*[ember.tensor(x)] * 3)
    close(e_out, t_out, "float32")
    close(e_w, t_w, "float32")


@pytest.mark.parametrize(
    "config", MHA_CONFIGS, ids=["default", "batch_first", "kdim_vdim", "bias_kv", "no_bias"]
)
def test_mha_init_equals_torch(config):
    torch.manual_seed(5)
    tm = torch.nn.MultiheadAttention(8, 2, **config)
    ember.manual_seed(5)
    em = nn.MultiheadAttention(8, 2, **config)
    assert list(em.state_dict()) == list(tm.state_dict())
    for (name, tp), ep in zip(tm.named_parameters(), em.parameters(), strict=True):
        np.testing.assert_array_equal(ep.detach().numpy(), tp.detach().numpy(), err_msg=name)
    assert repr(em) == repr(tm)


@pytest.mark.parametrize(
    "call",
    [
        lambda T: T.nn.MultiheadAttention(8, 3),
        lambda T: T.nn.MultiheadAttention(0, 2),
        lambda T: T.nn.MultiheadAttention(4, 2)(
            T.randn(3, 2, 4), T.randn(3, 2, 4), T.randn(3, 2, 4), attn_mask=T.zeros(2, 2)
        ),  # fmt: skip
        lambda T: T.nn.MultiheadAttention(4, 2)(
            T.randn(3, 2, 4), T.randn(3, 2, 4), T.randn(3, 2, 4), is_causal=True
        ),
        lambda T: T.nn.MultiheadAttention(4, 2)(T.randn(3, 2, 4), T.randn(3, 4), T.randn(3, 4)),
    ],
)
def test_mha_errors_match_torch(call):
    with pytest.raises(Exception) as t_err:
        call(torch)
    with pytest.raises(Exception) as e_err:
        call(ember)
    assert type(e_err.value) is type(t_err.value)
    assert str(e_err.value) == str(t_err.value)


# -- transformer layers ----------------------------------------------------------------------------------
ACTIVATIONS = {"relu": "relu", "gelu": "gelu", "callable": lambda lib: lib.nn.functional.silu}


def activation(name, lib):
    act = ACTIVATIONS[name]
    return act(lib) if callable(act) else act


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("act", ["relu", "gelu", "callable"])
@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_layer(norm_first, act, batch_first, dtype):
    rng = np.random.default_rng(3)
    kw = dict(dim_feedforward=16, norm_first=norm_first, batch_first=batch_first, layer_norm_eps=1e-6)
    tm = torch.nn.TransformerEncoderLayer(8, 2, activation=activation(act, torch), **kw).to(
        getattr(torch, dtype)
    )
    em = nn.TransformerEncoderLayer(8, 2, activation=activation(act, ember), **kw).to(getattr(ember, dtype))
    copy_into(tm, em)
    tm.eval()
    em.eval()
    batch, length = 2, 5
    tx, ex = both(
        rng.standard_normal((batch, length, 8) if batch_first else (length, batch, 8)).astype(dtype)
    )
    src_mask = rng.standard_normal((length, length)).astype(dtype)
    kpm = np.zeros((batch, length), bool)
    kpm[1, -1] = True
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a float mask with a bool padding mask: deprecated in both
        t_out = tm(tx, src_mask=torch.tensor(src_mask), src_key_padding_mask=torch.tensor(kpm))
        e_out = em(ex, src_mask=ember.tensor(src_mask), src_key_padding_mask=ember.tensor(kpm))
    close(e_out, t_out, dtype)
    backward_both(t_out, e_out)
    compare_grads(tm, em, [(tx, ex)], dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("act", ["relu", "gelu", "callable"])
@pytest.mark.parametrize("norm_first", [False, True])
def test_decoder_layer(norm_first, act, batch_first, dtype):
    rng = np.random.default_rng(4)
    kw = dict(dim_feedforward=16, norm_first=norm_first, batch_first=batch_first)
    tm = torch.nn.TransformerDecoderLayer(8, 2, activation=activation(act, torch), **kw).to(
        getattr(torch, dtype)
    )
    em = nn.TransformerDecoderLayer(8, 2, activation=activation(act, ember), **kw).to(getattr(ember, dtype))
    copy_into(tm, em)
    tm.eval()
    em.eval()
    batch, tgt, src = 2, 4, 5

    def shape(length):
        return (batch, length, 8) if batch_first else (length, batch, 8)

    (tx, ex), (tmem, emem) = (
        both(rng.standard_normal(shape(tgt)).astype(dtype)),
        both(rng.standard_normal(shape(src)).astype(dtype)),
    )
    causal = np.triu(np.full((tgt, tgt), -np.inf), 1).astype(dtype)
    mpm = np.zeros((batch, src), bool)
    mpm[0, -2:] = True
    t_out = tm(
        tx, tmem, tgt_mask=torch.tensor(causal), tgt_is_causal=True, memory_key_padding_mask=torch.tensor(mpm)
    )
    e_out = em(
        ex, emem, tgt_mask=ember.tensor(causal), tgt_is_causal=True, memory_key_padding_mask=ember.tensor(mpm)
    )
    close(e_out, t_out, dtype)
    backward_both(t_out, e_out)
    compare_grads(tm, em, [(tx, ex), (tmem, emem)], dtype)


@pytest.mark.parametrize("norm_first", [False, True])
def test_stacks_and_transformer(norm_first):
    rng = np.random.default_rng(5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns that nested tensors are off for norm_first
        torch.manual_seed(7)
        tm = torch.nn.Transformer(8, 2, 2, 2, 16, norm_first=norm_first).double()
    ember.manual_seed(7)
    em = nn.Transformer(8, 2, 2, 2, 16, norm_first=norm_first).double()
    assert list(em.state_dict()) == list(tm.state_dict())
    for (name, tp), ep in zip(tm.named_parameters(), em.parameters(), strict=True):  # same seeded init
        np.testing.assert_allclose(
            ep.detach().numpy(), tp.detach().numpy(), rtol=1e-6, atol=1e-7, err_msg=name
        )
    copy_into(tm, em)
    tm.eval()
    em.eval()
    (ts, es), (tt, et) = both(rng.standard_normal((6, 2, 8))), both(rng.standard_normal((5, 2, 8)))
    t_out = tm(ts, tt, tgt_mask=torch.nn.Transformer.generate_square_subsequent_mask(5, dtype=torch.float64))
    e_out = em(es, et, tgt_mask=nn.Transformer.generate_square_subsequent_mask(5, dtype=ember.float64))
    close(e_out, t_out, "float64")
    backward_both(t_out, e_out)
    compare_grads(tm, em, [(ts, es), (tt, et)], "float64")


def test_encoder_stack_with_norm_and_causal_detection():
    rng = np.random.default_rng(6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tm = torch.nn.TransformerEncoder(
            torch.nn.TransformerEncoderLayer(8, 2, 16), 2, torch.nn.LayerNorm(8)
        ).double()
    em = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16), 2, nn.LayerNorm(8)).double()
    copy_into(tm, em)
    tm.eval()
    em.eval()
    tx, ex = both(rng.standard_normal((5, 2, 8)))
    t_out = tm(tx, mask=torch.nn.Transformer.generate_square_subsequent_mask(5, dtype=torch.float64))
    e_out = em(ex, mask=nn.Transformer.generate_square_subsequent_mask(5, dtype=ember.float64))
    close(e_out, t_out, "float64")
    backward_both(t_out, e_out)
    compare_grads(tm, em, [(tx, ex)], "float64")
    assert em.layers[0] is not em.layers[1] and em.layers[0].linear1.weight is not em.layers[1].linear1.weight


def test_square_subsequent_mask_and_repr():
    a = nn.Transformer.generate_square_subsequent_mask(4)
    b = torch.nn.Transformer.generate_square_subsequent_mask(4)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert a.dtype == ember.float32
    assert repr(nn.TransformerEncoderLayer(8, 2, 16)) == repr(torch.nn.TransformerEncoderLayer(8, 2, 16))
    assert repr(nn.TransformerDecoderLayer(8, 2, 16)) == repr(torch.nn.TransformerDecoderLayer(8, 2, 16))


def test_transformer_errors_match_torch():
    for lib in (torch, ember):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = lib.nn.Transformer(8, 2, 1, 1, 16)
        with pytest.raises(RuntimeError, match="the batch number of src and tgt must be equal"):
            model(lib.randn(3, 2, 8), lib.randn(3, 4, 8))
        with pytest.raises(RuntimeError, match="the feature number of src and tgt must be equal to d_model"):
            model(lib.randn(3, 2, 8), lib.randn(3, 2, 6))
        with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
            lib.nn.TransformerEncoderLayer(8, 2, activation="tanh")
