"""In-place ops on views of tensors in an autograd graph: values, gradients, names, errors as torch's."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from _spec import needs_torch, torch

import ember
from ember.autograd import gradcheck, gradgradcheck

# Each case builds a scalar from x (3x4) and w (4) through an in-place op on a view.
CASES = {
    "select_mul": lambda T, x, w: _then((y := x * 1), y[0].mul_(2), (y * y).sum()),
    "select_add_then_t_": lambda T, x, w: _then((y := x * 1), y[1].add_(w), y.t_(), (y * y * y).sum()),
    "column_exp": lambda T, x, w: _then((y := x * 1), y[:, 1].exp_(), (y * y).sum()),
    "view_of_view": lambda T, x, w: _then((y := x * 1), y.t()[1:3].mul_(w[:1]), (y * y).sum()),
    "base_changed_after_view": lambda T, x, w: _then((y := x * 1), (v := y[0]), y.mul_(3), (v * v).sum()),
    "overlapping_views": lambda T, x, w: _then(
        (y := x * 1), (a := y[0]), (b := y[:, 0]), a.mul_(2), (b * b).sum() + (y * y).sum()
    ),
    "setitem_on_view": lambda T, x, w: _then((y := x * 1), y[1].__setitem__(2, w[0] * 5), (y * y).sum()),
    "constant_base": lambda T, x, w: _then(
        (z := T.zeros(3, 4, dtype=T.float64)), z[1].add_(w), (z * x).sum()
    ),
    "flat_view_sigmoid": lambda T, x, w: _then((y := x * 1), y.view(12)[2:6].sigmoid_(), (y * y).sum()),
    "diagonal": lambda T, x, w: _then((y := x * 1), y.diagonal().mul_(w[:3]), (y**2).sum()),
    "copy_into_view": lambda T, x, w: _then((y := x * 1), y[2].copy_(w * w), (y**3).sum()),
    "strided_slice": lambda T, x, w: _then((y := x * 2 + 1), y[::2, 1::2].div_(w[:2]), (y * x).sum()),
    "view_result_used": lambda T, x, w: _then((y := x * 1), (v := y[1:]), v.clamp_(min=0), (v * w).sum()),
    "twice_same_view": lambda T, x, w: _then((y := x * 1), (v := y[0]), v.mul_(w), v.add_(1), (y * y).sum()),
}


def _then(*steps):
    return steps[-1]


def _run(T, name):
    T.manual_seed(0)
    x = T.randn(3, 4, dtype=T.float64, requires_grad=True)
    w = T.randn(4, dtype=T.float64, requires_grad=True)
    out = CASES[name](T, x, w)
    out.backward()
    grads = [None if t.grad is None else t.grad.numpy() for t in (x, w)]
    return out.item(), grads


@pytest.mark.parametrize("name", CASES)
def test_gradients_match_torch(name: str) -> None:
    ours = _run(ember, name)
    if torch is None:
        pytest.skip("torch not installed")
    theirs = _run(torch, name)
    assert ours[0] == pytest.approx(theirs[0], rel=1e-12)
    for a, b in zip(ours[1], theirs[1], strict=True):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", ["select_mul", "view_of_view", "column_exp", "diagonal", "copy_into_view"])
def test_gradcheck_and_gradgradcheck(name: str) -> None:
    def f(x, w):
        return CASES[name](ember, x, w)

    ember.manual_seed(1)
    x = ember.randn(3, 4, dtype=ember.float64, requires_grad=True)
    w = ember.randn(4, dtype=ember.float64, requires_grad=True)
    assert gradcheck(f, (x, w))
    assert gradgradcheck(f, (x, w))


def test_node_names_and_values() -> None:
    x = ember.randn(3, 3, requires_grad=True)
    y = x * 1
    v = y[0]
    assert v.grad_fn.name() == "SelectBackward0"
    v.mul_(2)
    assert v.grad_fn.name() == "AsStridedBackward0"
    assert y.grad_fn.name() == "CopySlices"
    assert y._version == v._version == 1
    np.testing.assert_allclose(y.detach().numpy()[0], 2 * x.detach().numpy()[0])


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda y: y.split(2)[1], "Output 1 of Split is a view and is being modified inplace"),
        (lambda y: y.split([1, 3])[1], "Output 1 of SplitWithSizes is a view"),
        (lambda y: y.chunk(2)[0], "Output 0 of Split is a view"),
        (lambda y: y.unbind(1)[2], "Output 2 of Unbind is a view"),
    ],
)
def test_multi_output_views_refuse_inplace(make, message) -> None:
    y = ember.randn(4, 4, requires_grad=True) * 1
    with pytest.raises(RuntimeError, match=message):
        make(y).mul_(2)
    with ember.no_grad():  # outside the graph it is allowed
        make(y).mul_(2)


def test_leaf_view_and_no_grad_view_errors() -> None:
    x = ember.randn(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
        x[0:2].mul_(2)
    y = x * 1
    with ember.no_grad():
        v = y[0:2]
    with pytest.raises(RuntimeError, match="A view was created in no_grad mode"):
        v.mul_(2)
    assert y._version == 0  # refused before anything changed


def test_detached_view_is_not_tracked() -> None:
    x = ember.randn(3, requires_grad=True)
    y = x * 1
    d = y[0:2].detach()
    d.mul_(0)
    assert y.grad_fn.name() == "MulBackward0"
    assert y.detach().numpy()[:2].tolist() == [0.0, 0.0]
    assert d._base is None
    d.requires_grad_()  # a fresh leaf, even though y's version moved: nothing flows back to x
    (d * 3).sum().backward()
    assert x.grad is None and d.grad.tolist() == [3.0, 3.0]


@needs_torch
def test_next_functions_list_tensor_inputs_only() -> None:
    # dims and sizes are not inputs; a scalar operand of +, -, *, / is (PyTorch wraps it in a tensor)
    exprs = ["a.sum(1)", "a.narrow(1, 0, 2)", "a.pow(2)", "a.clamp(0, 1)", "a * 2", "a + 2", "a - 2", "a / 2"]
    exprs += ["a.transpose(0, 1)", "a.reshape(3, 2)", "a.mean(0, keepdim=True)", "torch.maximum(a, a)"]
    for expr in exprs:
        names = []
        for T in (ember, torch):
            a = T.ones(2, 3, requires_grad=True)
            fn = eval(expr, {"a": a, "torch": T}).grad_fn
            names.append([None if n is None else type(n).__name__ for n, _ in fn.next_functions])
        assert names[0] == names[1], expr
    ours = ember.ones(2, 3, requires_grad=True).narrow(1, 0, 2).grad_fn.next_functions
    theirs = torch.ones(2, 3, requires_grad=True).narrow(1, 0, 2).grad_fn.next_functions
    assert len(ours) == len(theirs) == 1


OUT_CASES = [
    ("add", lambda T, a, b: dict(input=a, other=b, alpha=2)),
    ("sub", lambda T, a, b: dict(input=a, other=2.5)),
    ("mul", lambda T, a, b: dict(input=a, other=b)),
    ("div", lambda T, a, b: dict(input=a, other=b, rounding_mode="floor")),
    ("exp", lambda T, a, b: dict(input=a)),
    ("eq", lambda T, a, b: dict(input=a, other=b)),
    ("clamp", lambda T, a, b: dict(input=a, min=-0.5, max=0.5)),
    ("matmul", lambda T, a, b: dict(input=a, other=b.t())),
    ("cat", lambda T, a, b: dict(tensors=[a, b], dim=1)),
    ("stack", lambda T, a, b: dict(tensors=[a, b])),
]


@needs_torch
@pytest.mark.parametrize("name,make", OUT_CASES, ids=[c[0] for c in OUT_CASES])
@pytest.mark.parametrize("out_shape", [(0,), (3, 4), (7,)])
@pytest.mark.parametrize("out_dtype", ["float32", "float64", "int64"])
def test_out_argument(name, make, out_shape, out_dtype) -> None:
    results = []
    for T in (ember, torch):
        T.manual_seed(0)
        a, b = T.randn(3, 4), T.randn(3, 4)
        out = T.zeros(out_shape, dtype=getattr(T, out_dtype))
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                r = getattr(T, name)(**make(T, a, b), out=out)
        except (RuntimeError, TypeError) as e:
            results.append((type(e).__name__, str(e)))
            continue
        assert r is out
        results.append((out.numpy(), str(out.dtype), len(caught) > 0))
    errors = [isinstance(r[0], str) for r in results]
    assert errors[0] == errors[1], results
    if errors[0]:
        assert results[0] == results[1]
    else:
        np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-6)
        assert results[0][1:] == results[1][1:]


@needs_torch
def test_out_argument_refuses_autograd() -> None:
    msgs = []
    for T in (ember, torch):
        a = T.ones(3, requires_grad=True)
        with pytest.raises(RuntimeError) as info:
            T.mul(a, 2, out=T.empty(3))
        msgs.append(str(info.value))
        with T.no_grad():
            assert T.mul(a, 2, out=T.empty(3)).tolist() == [2.0, 2.0, 2.0]
    assert msgs[0] == msgs[1]


AS_STRIDED = [
    ((2, 2), (1, 2), 1),
    ((3, 2), (1, 1), None),  # overlapping: gradients add up
    ((2, 3), (4, 1), 5),
    ((4,), (3,), 0),
    ((2, 3), (0, 2), 2),  # a zero stride: each element read twice
]


@needs_torch
@pytest.mark.parametrize("size,stride,offset", AS_STRIDED)
def test_as_strided_matches_torch(size, stride, offset) -> None:
    results = []
    for T in (ember, torch):
        x = T.arange(12.0, dtype=T.float64).reshape(3, 4).requires_grad_()
        base = x * 1
        y = base.as_strided(size, stride, offset) if offset is not None else base.as_strided(size, stride)
        (y * T.arange(1.0, y.numel() + 1, dtype=T.float64).reshape(y.shape)).sum().backward()
        results.append((y.detach().numpy().tolist(), y.storage_offset(), y.stride(), x.grad.numpy().tolist()))
        assert type(y.grad_fn).__name__ == "AsStridedBackward0"
    assert results[0] == results[1]


def test_as_strided_shares_storage_and_checks_bounds() -> None:
    z = ember.zeros(4)
    z.as_strided((2,), (2,)).fill_(1)
    assert z.tolist() == [1.0, 0.0, 1.0, 0.0]
    with pytest.raises(RuntimeError, match="out of bounds for storage of size 48"):
        ember.arange(12.0).as_strided((5, 5), (4, 1))
    with pytest.raises(RuntimeError, match="Negative strides are not supported"):
        ember.arange(3.0).as_strided((2,), (-1,))


def test_as_strided_gradgradcheck() -> None:
    x = ember.randn(3, 4, dtype=ember.float64, requires_grad=True)

    def f(x):
        return (x * 1).as_strided((3, 2), (1, 2), 1) ** 2

    assert gradcheck(f, (x,))
    assert gradgradcheck(f, (x,))


@needs_torch
@pytest.mark.parametrize(
    "name", ["sin_", "exp_", "sqrt_", "sigmoid_", "abs_", "neg_", "relu_", "floor_", "round_"]
)
@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "float32"])
def test_unary_inplace_casts_like_torch(name, dtype) -> None:
    results = []
    for T in (ember, torch):
        x = T.tensor([1, 2, 3], dtype=getattr(T, dtype))
        try:
            getattr(x, name)()
            results.append(("ok", np.round(x.numpy().astype(np.float64), 5).tolist()))
        except RuntimeError as e:
            results.append(("error", str(e), x.tolist()))  # refused before anything changed
    assert results[0] == results[1]
