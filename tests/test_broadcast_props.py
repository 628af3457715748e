"""Property tests (hypothesis) for broadcasting: forward shapes and values, gradient shapes and values,
and the errors for shapes that do not broadcast, against NumPy's rules and torch's results."""

from __future__ import annotations

import numpy as np
import pytest
from _spec import to_np, torch

import ember

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

SETTINGS = settings(max_examples=25, deadline=None, derandomize=True)
dims = st.integers(min_value=1, max_value=3)


@st.composite
def broadcastable(draw, n=2):
    """``n`` shapes that broadcast together: a result shape, each operand dropping leading dims or
    setting some dims to 1."""
    out = draw(st.lists(dims, min_size=0, max_size=4))
    shapes = []
    for _ in range(n):
        drop = draw(st.integers(min_value=0, max_value=len(out)))
        s = [1 if draw(st.booleans()) else d for d in out[drop:]]
        shapes.append(tuple(s))
    return shapes


@st.composite
def incompatible(draw):
    """Two shapes with one aligned dim of different sizes, neither 1."""
    a, b = draw(broadcastable())
    n = max(len(a), len(b), 1)
    a, b = (1,) * (n - len(a)) + a, (1,) * (n - len(b)) + b
    k = draw(st.integers(min_value=0, max_value=n - 1))
    x = draw(st.integers(min_value=2, max_value=3))
    a, b = list(a), list(b)
    a[k], b[k] = x, x + 1
    return tuple(a), tuple(b)


def _sum_to(arr, shape):
    """NumPy reference: sum a broadcast array back down to ``shape``."""
    lead = arr.ndim - len(shape)
    arr = arr.sum(axis=tuple(range(lead))) if lead else arr
    axes = tuple(i for i, s in enumerate(shape) if s == 1 and arr.shape[i] != 1)
    return arr.sum(axis=axes, keepdims=True) if axes else arr


def _arrays(shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.uniform(0.5, 2.0, size=s) * rng.choice([-1, 1], size=s) for s in shapes]


BINARY = {
    "add": lambda T, a, b: a + b,
    "sub": lambda T, a, b: T.sub(a, b, alpha=2),
    "mul": lambda T, a, b: a * b,
    "div": lambda T, a, b: a / b,
    "pow": lambda T, a, b: a.abs() ** b,
    "maximum": lambda T, a, b: T.maximum(a, b),
    "atan_mix": lambda T, a, b: (a * b).sin() + a,
}


@pytest.mark.parametrize("op", list(BINARY))
@SETTINGS
@given(shapes=broadcastable())
def test_binary_forward_and_grad_shapes(op, shapes):
    fn = BINARY[op]
    arrays = _arrays(shapes)
    expected_shape = np.broadcast_shapes(*shapes)
    xs = [ember.tensor(a, requires_grad=True) for a in arrays]
    out = fn(ember, *xs)
    assert tuple(out.shape) == expected_shape
    g = np.random.default_rng(1).standard_normal(expected_shape)
    grads = ember.autograd.grad(out, xs, ember.tensor(g))
    for x, gx in zip(xs, grads, strict=True):
        assert tuple(gx.shape) == tuple(x.shape)  # summed back over the broadcast dims
        assert gx.dtype is x.dtype
    if torch is not None:
        ts = [torch.tensor(a, requires_grad=True) for a in arrays]
        t_out = fn(torch, *ts)
        np.testing.assert_allclose(to_np(out), to_np(t_out), rtol=1e-12, atol=1e-12)
        t_grads = torch.autograd.grad(t_out, ts, torch.tensor(g))
        for gx, tg in zip(grads, t_grads, strict=True):
            assert tuple(gx.shape) == tuple(tg.shape)
            np.testing.assert_allclose(to_np(gx), to_np(tg), rtol=1e-10, atol=1e-12)


@SETTINGS
@given(shapes=broadcastable(n=3))
def test_where_three_way_broadcast(shapes):
    c, a, b = _arrays(shapes)
    cond = c > 0
    xa, xb = ember.tensor(a, requires_grad=True), ember.tensor(b, requires_grad=True)
    out = ember.where(ember.tensor(cond), xa, xb)
    assert tuple(out.shape) == np.broadcast_shapes(*shapes)
    np.testing.assert_array_equal(out.detach().numpy(), np.where(cond, a, b))
    out.sum().backward()
    assert tuple(xa.grad.shape) == a.shape and tuple(xb.grad.shape) == b.shape
    mask = np.broadcast_to(cond, out.shape).astype(float)
    np.testing.assert_allclose(xa.grad.numpy(), _sum_to(mask, a.shape))
    np.testing.assert_allclose(xb.grad.numpy(), _sum_to(1 - mask, b.shape))
    if torch is not None:
        ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
        torch.where(torch.tensor(cond), ta, tb).sum().backward()
        np.testing.assert_allclose(xa.grad.numpy(), ta.grad.numpy())
        np.testing.assert_allclose(xb.grad.numpy(), tb.grad.numpy())


@SETTINGS
@given(shapes=broadcastable())
def test_comparison_and_inplace_broadcast(shapes):
    a, b = _arrays(shapes)
    out = ember.tensor(a) < ember.tensor(b)
    assert tuple(out.shape) == np.broadcast_shapes(a.shape, b.shape)
    np.testing.assert_array_equal(out.numpy(), a < b)
    # in place: fine when the broadcast shape is self's shape, PyTorch's error otherwise
    x = ember.tensor(a)
    if np.broadcast_shapes(a.shape, b.shape) == a.shape:
        x.add_(ember.tensor(b))
        np.testing.assert_allclose(x.numpy(), a + b)
    else:
        with pytest.raises(RuntimeError) as info:
            x.add_(ember.tensor(b))
        if torch is not None:
            with pytest.raises(RuntimeError) as tinfo:
                torch.tensor(a).add_(torch.tensor(b))
            assert str(info.value) == str(tinfo.value)


@SETTINGS
@given(shapes=incompatible())
def test_incompatible_shapes_raise_torch_error(shapes):
    a, b = (np.ones(s) for s in shapes)
    for fn in (
        lambda T, x, y: x + y,
        lambda T, x, y: x * y,
        lambda T, x, y: x == y,
        lambda T, x, y: T.maximum(x, y),
    ):
        with pytest.raises(RuntimeError) as info:
            fn(ember, ember.tensor(a), ember.tensor(b))
        assert "must match the size of tensor b" in str(info.value)
        if torch is not None:
            with pytest.raises(RuntimeError) as tinfo:
                fn(torch, torch.tensor(a), torch.tensor(b))
            assert str(info.value) == str(tinfo.value)


@SETTINGS
@given(shapes=broadcastable(), data=st.data())
def test_expand_and_sum_to_size_roundtrip(shapes, data):
    small, _ = shapes
    big = np.broadcast_shapes(*shapes)
    x = ember.tensor(_arrays([small])[0], requires_grad=True)
    e = x.expand(*big) if big else x.expand(())
    assert tuple(e.shape) == big
    assert e.data_ptr() == x.data_ptr()  # a view
    back = e.sum_to_size(*small) if small else e.sum()
    assert tuple(back.shape) == small
    back.sum().backward()
    assert tuple(x.grad.shape) == small
    if torch is not None:
        tx = torch.tensor(_arrays([small])[0], requires_grad=True)
        te = tx.expand(*big) if big else tx.expand(())
        (te.sum_to_size(*small) if small else te.sum()).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())
        np.testing.assert_allclose(
            back.detach().numpy(), (te.sum_to_size(*small) if small else te.sum()).detach().numpy()
        )


@st.composite
def matmul_shapes(draw):
    batch_a, batch_b = draw(broadcastable())
    n, k, m = (draw(dims) for _ in range(3))
    a = batch_a + (n, k) if draw(st.booleans()) or batch_a else (k,)
    b = batch_b + (k, m) if draw(st.booleans()) or batch_b else (k,)
    return a, b


@SETTINGS
@given(shapes=matmul_shapes())
def test_matmul_batch_broadcast(shapes):
    a, b = _arrays(shapes)
    xa, xb = ember.tensor(a, requires_grad=True), ember.tensor(b, requires_grad=True)
    out = xa @ xb
    np.testing.assert_allclose(out.detach().numpy(), np.matmul(a, b), rtol=1e-12)
    g = np.random.default_rng(2).standard_normal(out.shape)
    ga, gb = ember.autograd.grad(out, [xa, xb], ember.tensor(g))
    assert tuple(ga.shape) == a.shape and tuple(gb.shape) == b.shape
    if torch is not None:
        ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
        t_out = ta @ tb
        assert type(t_out.grad_fn).__name__ == out.grad_fn.name()
        tga, tgb = torch.autograd.grad(t_out, [ta, tb], torch.tensor(g))
        np.testing.assert_allclose(ga.numpy(), tga.numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(gb.numpy(), tgb.numpy(), rtol=1e-10, atol=1e-12)


@SETTINGS
@given(shapes=broadcastable(), scalar=st.sampled_from([2, -1.5, True, 0.25]))
def test_scalar_operands_keep_shape_and_dtype(shapes, scalar):
    (a, _) = _arrays(shapes)
    for dt in ("float32", "float64"):
        x = ember.tensor(a, dtype=getattr(ember, dt), requires_grad=True)
        for y in (x * scalar, scalar * x, x + scalar, x / scalar, x**2, 2.5 - x, x - 1):
            assert tuple(y.shape) == a.shape and y.dtype is x.dtype
        (g,) = ember.autograd.grad((2 - x * scalar).sum(), x)
        assert tuple(g.shape) == a.shape and g.dtype is x.dtype
