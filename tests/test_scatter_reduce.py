"""scatter_reduce, masked_scatter and index_fill: values, gradients (ties, zeros), double backward and
errors, against torch where it is installed and against NumPy references where it is not."""

from __future__ import annotations

import re

import numpy as np
import pytest
from _spec import assert_close, grad_fn_name, needs_torch, to_np, torch

import ember
from ember.autograd import gradcheck, gradgradcheck

REDUCES = ["sum", "prod", "mean", "amax", "amin"]


def _distinct(rng, shape, lo=0.5):
    """Distinct values clear of 0 (no ties for amax/amin, no zeros for prod)."""
    n = int(np.prod(shape))
    mag = lo + rng.permutation(n) * 0.17 + rng.uniform(0, 0.05, n)
    return (mag * np.where(rng.random(n) < 0.5, -1, 1)).reshape(shape)


# (name, dim, x, index, src): index arrays within bounds, src at least index's size
def _cases():
    rng = np.random.default_rng(0)
    return [
        (
            "dim1",
            1,
            _distinct(rng, (3, 4)),
            np.array([[0, 1, 0], [2, 2, 3], [1, 1, 1]]),
            _distinct(rng, (3, 3)),
        ),
        ("dim0", 0, _distinct(rng, (3, 4)), np.array([[0, 2, 2, 0], [0, 2, 1, 0]]), _distinct(rng, (2, 4))),
        (
            "neg_dim_3d",
            -2,
            _distinct(rng, (2, 3, 2)),
            rng.integers(0, 3, (2, 4, 2)),
            _distinct(rng, (2, 4, 2)),
        ),
        ("src_bigger_rows", 1, _distinct(rng, (2, 3)), np.array([[2, 2]]), _distinct(rng, (2, 2))),
        ("1d", 0, _distinct(rng, (5,)), np.array([4, 0, 4, 4, 1, 0]), _distinct(rng, (6,))),
    ]


CASES = _cases()
GRAD_CASES = [c for c in CASES if c[0] != "src_bigger_rows"]


def _ref(reduce, include_self, dim, x, index, src):
    """A loop-by-loop NumPy reference."""
    out = x.astype(np.float64).copy()
    groups: dict = {}
    for pos in np.ndindex(*index.shape):
        tgt = list(pos)
        tgt[dim] = index[pos]
        groups.setdefault(tuple(tgt), []).append(src[pos])
    for tgt, vals in groups.items():
        vals = ([out[tgt]] if include_self else []) + vals
        out[tgt] = {"sum": np.sum, "prod": np.prod, "mean": np.mean, "amax": np.max, "amin": np.min}[reduce](
            vals
        )
    return out


def _inputs(T, x, index, src, dtype="float64", grad=True):
    dt = getattr(T, dtype)
    return (
        T.tensor(x, dtype=dt, requires_grad=grad),
        T.tensor(index),
        T.tensor(src, dtype=dt, requires_grad=grad),
    )


@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("reduce", REDUCES)
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_forward_matches_numpy(case, reduce, include_self):
    _, dim, x, index, src = case
    xe, ie, se = _inputs(ember, x, index, src, grad=False)
    out = ember.scatter_reduce(xe, dim, ie, se, reduce, include_self=include_self)
    d = dim % x.ndim
    assert_close(
        to_np(out), _ref(reduce, include_self, d, x, index, src[tuple(slice(0, n) for n in index.shape)])
    )


@needs_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("reduce", REDUCES)
@pytest.mark.parametrize("case", GRAD_CASES, ids=[c[0] for c in GRAD_CASES])
def test_torch_parity(case, reduce, include_self, dtype):
    _, dim, x, index, src = case
    outs, grads = [], []
    up = np.random.default_rng(1).standard_normal(x.shape)
    for T in (ember, torch):
        xt, it, st = _inputs(T, x, index, src, dtype)
        y = xt.scatter_reduce(dim, it, st, reduce, include_self=include_self)
        outs.append(y)
        grads.append(T.autograd.grad(y, (xt, st), T.tensor(up, dtype=y.dtype)))
    (e, t), ((egx, egs), (tgx, tgs)) = outs, grads
    assert grad_fn_name(e) == grad_fn_name(t) == "ScatterReduceBackward0"
    assert str(e.dtype) == str(t.dtype)
    assert_close(to_np(e), to_np(t), what="value")
    assert_close(to_np(egx), to_np(tgx), what="grad self")
    assert_close(to_np(egs), to_np(tgs), what="grad src")


@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("reduce", REDUCES)
@pytest.mark.parametrize("case", GRAD_CASES, ids=[c[0] for c in GRAD_CASES])
def test_gradcheck_and_gradgradcheck(case, reduce, include_self):
    _, dim, x, index, src = case
    xe, ie, se = _inputs(ember, x, index, src)

    def fn(a, b):
        return ember.scatter_reduce(a, dim, ie, b, reduce, include_self=include_self)

    assert gradcheck(fn, (xe, se))
    assert gradgradcheck(fn, (xe, se))


# -- the subgradient conventions: ties share evenly, products with zeros --------------------------------
_SPECIAL = [
    # amax ties: self 5 ties with two src 5s, the gradient splits three ways
    ("amax_ties", "amax", [1.0, 5.0, 3.0], [1, 1, 0, 2], [5.0, 5.0, 1.0, 3.0]),
    ("amin_ties", "amin", [1.0, 5.0, 3.0], [0, 0, 2, 2], [1.0, 1.0, 3.0, 4.0]),
    # prod: a zero in self, a single zero in src, and (position 2) two zeros sent to one place
    ("prod_zeros", "prod", [0.0, 2.0, 3.0], [0, 1, 1, 2, 2], [4.0, 0.0, 5.0, 0.0, 0.0]),
    ("prod_self_zero", "prod", [0.0, 2.0, 0.0], [0, 0, 1, 2], [4.0, 3.0, 5.0, 2.0]),
]
_EXPECTED = {  # torch 2.13's answers, for when torch is absent: (value, grad self, grad src) for inc=True
    "amax_ties": ([1.0, 5.0, 3.0], [0.5, 1 / 3, 0.5], [1 / 3, 1 / 3, 0.5, 0.5]),
    "prod_zeros": ([0.0, 0.0, 0.0], [4.0, 0.0, 0.0], [0.0, 10.0, 0.0, 0.0, 0.0]),
}


@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("name,reduce,x,index,src", _SPECIAL, ids=[s[0] for s in _SPECIAL])
def test_ties_and_zeros(name, reduce, x, index, src, include_self):
    res = []
    for T in (ember, torch) if torch is not None else (ember,):
        xt, it, st = _inputs(T, np.array(x), np.array(index), np.array(src))
        y = T.scatter_reduce(xt, 0, it, st, reduce, include_self=include_self)
        res.append([to_np(y), *(to_np(g) for g in T.autograd.grad(y.sum(), (xt, st)))])
    if include_self and name in _EXPECTED:
        for got, want in zip(res[0], _EXPECTED[name], strict=True):
            assert_close(got, np.array(want))
    if torch is not None:
        for got, want in zip(res[0], res[1], strict=True):
            assert_close(got, want)


def test_prod_double_backward_refused_for_two_zeros_in_one_place():
    x = ember.tensor([1.0, 2.0], dtype=ember.float64, requires_grad=True)
    s = ember.tensor([0.0, 0.0, 3.0], dtype=ember.float64, requires_grad=True)
    y = ember.scatter_reduce(x, 0, ember.tensor([0, 0, 1]), s, "prod")
    _, gs = ember.autograd.grad(y.sum(), (x, s), create_graph=True)
    assert grad_fn_name(gs) == "Error"
    assert_close(to_np(gs), np.array([0.0, 0.0, 2.0]))
    with pytest.raises(RuntimeError, match="Double backward is unsupported for src when >1 zeros"):
        ember.autograd.grad(gs.sum(), s)
    # one zero per place: double backward works
    s1 = ember.tensor([0.0, 4.0, 3.0], dtype=ember.float64, requires_grad=True)
    assert gradgradcheck(lambda a, b: ember.scatter_reduce(a, 0, ember.tensor([0, 0, 1]), b, "prod"), (x, s1))


@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("reduce", ["mean", "amax", "amin", "sum", "prod"])
def test_integer_inputs(reduce, include_self):
    """Integer mean rounds toward -inf, as torch's floor division; amax/amin start from the dtype's limits."""
    x = np.array([[1, 2, 3, 4], [5, 6, 7, 8]])
    index, src = np.array([[0, 1, 0], [2, 2, 3]]), np.array([[-2, 2, -1], [0, 6, -7]])
    out = ember.tensor(x).scatter_reduce(
        1, ember.tensor(index), ember.tensor(src), reduce, include_self=include_self
    )
    assert out.dtype is ember.int64
    want = {
        ("mean", True): [[-1, 2, 3, 4], [5, 6, 4, 0]],
        ("mean", False): [[-2, 2, 3, 4], [5, 6, 3, -7]],
    }.get((reduce, include_self))
    if want is None:
        want = _ref(reduce, include_self, 1, x, index, src).astype(np.int64)
    np.testing.assert_array_equal(to_np(out), np.array(want))
    if torch is not None:
        t = torch.tensor(x).scatter_reduce(
            1, torch.tensor(index), torch.tensor(src), reduce, include_self=include_self
        )
        np.testing.assert_array_equal(to_np(out), t.numpy())


def test_nan_propagates_through_amax_amin():
    n = ember.tensor([1.0, float("nan"), 3.0])
    i = ember.tensor([0, 0, 1])
    assert np.isnan(to_np(ember.scatter_reduce(ember.zeros(2), 0, i, n, "amax"))[0])
    assert_close(to_np(ember.scatter_reduce(ember.zeros(2), 0, i, n, "amin"))[1], np.float32(0))


def test_zero_dim_and_int32_index():
    a = ember.tensor(1.0, dtype=ember.float64, requires_grad=True)
    y = ember.scatter_reduce(a, 0, ember.tensor(0), ember.tensor(2.0, dtype=ember.float64), "prod")
    assert y.shape == () and y.item() == 2.0
    assert ember.autograd.grad(y, a)[0].item() == 2.0
    out = ember.scatter_reduce(
        ember.zeros(3), 0, ember.tensor([2, 2], dtype=ember.int32), ember.ones(2), "sum"
    )
    assert out.tolist() == [0.0, 0.0, 2.0]


def test_inplace_scatter_reduce_():
    x = ember.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y = x * 1
    r = y.scatter_reduce_(1, ember.tensor([[0, 0], [1, 0]]), ember.tensor([[5.0, 6.0], [7.0, 8.0]]), "amax")
    assert r is y and grad_fn_name(y) == "ScatterReduceBackward0"
    assert y.tolist() == [[6.0, 2.0], [8.0, 7.0]]
    y.sum().backward()
    assert x.grad.tolist() == [[0.0, 1.0], [0.0, 0.0]]
    z = ember.zeros(3)
    z.scatter_reduce_(0, ember.tensor([1, 1]), ember.tensor([2.0, 3.0]), "mean", include_self=False)
    assert z.tolist() == [0.0, 2.5, 0.0]


# -- errors: torch's messages ------------------------------------------------------------------------------
def _x(T):
    return T.ones(2, 4)


_ERRORS = [
    (
        "bad_reduce",
        lambda T: T.scatter_reduce(_x(T), 1, T.zeros(2, 2, dtype=T.long), T.ones(2, 2), "foo"),
        "reduce argument must be either sum, prod, mean, amax or amin, got foo",
    ),
    (
        "float_index",
        lambda T: T.scatter_reduce(_x(T), 1, T.zeros(2, 2), T.ones(2, 2), "sum"),
        "scatter(): Expected dtype int32/int64 for index",
    ),
    (
        "src_dtype",
        lambda T: T.scatter_reduce(
            _x(T), 1, T.zeros(2, 2, dtype=T.long), T.ones(2, 2, dtype=T.float64), "sum"
        ),
        "scatter(): Expected self.dtype to be equal to src.dtype",
    ),
    (
        "out_of_bounds",
        lambda T: T.scatter_reduce(_x(T), 1, T.full((2, 2), 4), T.ones(2, 2), "sum"),
        "index 4 is out of bounds for dimension 1 with size 4",
    ),
    (
        "index_too_big",
        lambda T: T.scatter_reduce(_x(T), 1, T.zeros(2, 5, dtype=T.long), T.ones(2, 3), "sum"),
        "Expected index [2, 5] to be no larger than self [2, 4] apart from dimension 1 and to be no larger "
        "size than src [2, 3]",
    ),
    (
        "index_ndim",
        lambda T: T.scatter_reduce(_x(T), 1, T.zeros(2, 1, 1, dtype=T.long), T.ones(2, 2), "sum"),
        "Index tensor must have the same number of dimensions as self tensor",
    ),
    (
        "src_smaller_than_index_grad",
        lambda T: (
            T.scatter_reduce(
                _x(T).requires_grad_(),
                1,
                T.zeros(2, 2, dtype=T.long),
                T.ones(2, 3, requires_grad=True),
                "sum",
            )
            .sum()
            .backward()
        ),
        "Function ScatterReduceBackward0 returned an invalid gradient at index 1 - got [2, 2] but expected "
        "shape compatible with [2, 3]",
    ),
    (
        "leaf_inplace",
        lambda T: T.ones(2, requires_grad=True).scatter_reduce_(0, T.tensor([0]), T.ones(1), "sum"),
        "a leaf Variable that requires grad is being used in an in-place operation.",
    ),
    (
        "masked_scatter_float_mask",
        lambda T: T.zeros(3).masked_scatter(T.ones(3), T.ones(3)),
        "masked_scatter_ only supports boolean masks, but got mask with dtype Float",
    ),
    (
        "masked_scatter_source_dtype",
        lambda T: T.zeros(3).masked_scatter(T.ones(3, dtype=T.bool), T.ones(3, dtype=T.float64)),
        "masked_scatter: expected self and source to have same dtypes but gotFloat and Double",
    ),
    (
        "masked_scatter_source_small",
        lambda T: T.zeros(2, 3).masked_scatter(T.tensor([True, False, True]), T.ones(3)),
        "Number of elements of source < number of ones in mask",
    ),
    (
        "masked_scatter_bad_broadcast",
        lambda T: T.zeros(3).masked_scatter(T.tensor([True, False]), T.ones(3)),
        "The size of tensor a (2) must match the size of tensor b (3) at non-singleton dimension 0",
    ),
    (
        "masked_scatter__mask_ndim",
        lambda T: T.zeros(3).masked_scatter_(T.tensor([[True, False, True]]), T.ones(3)),
        "expand(CPUBoolType{[1, 3]}, size=[3]): the number of sizes provided (1) must be greater or equal to "
        "the number of dimensions in the tensor (2)",
    ),
    (
        "masked_scatter__mask_size",
        lambda T: T.zeros(3).masked_scatter_(T.tensor([True, False]), T.ones(3)),
        "The expanded size of the tensor (3) must match the existing size (2) at non-singleton dimension 0.  "
        "Target sizes: [3].  Tensor sizes: [2]",
    ),
    (
        "index_fill_int32",
        lambda T: T.index_fill(_x(T), 1, T.tensor([0], dtype=T.int32), 1.0),
        "index_fill_(): Expected dtype int64 for index.",
    ),
    (
        "index_fill_2d_index",
        lambda T: T.index_fill(_x(T), 1, T.tensor([[0, 1]]), 1.0),
        "Index has to be a vector/scalar",
    ),
    (
        "index_fill_value_dim",
        lambda T: T.index_fill(_x(T), 1, T.tensor([0]), T.ones(2)),
        "index_fill_ only supports a 0-dimensional value tensor, but got tensor with 1 dimension(s).",
    ),
    (
        "index_fill_out_of_bounds",
        lambda T: T.index_fill(_x(T), 1, T.tensor([4]), 1.0),
        "index 4 is out of bounds for dimension 1 with size 4",
    ),
]


@pytest.mark.filterwarnings("ignore:masked_scatter_ received a mask with dtype torch.uint8")
@pytest.mark.parametrize("name,fn,msg", _ERRORS, ids=[e[0] for e in _ERRORS])
def test_errors_match_torch(name, fn, msg):
    libs = (ember, torch) if torch is not None else (ember,)
    for T in libs:
        with pytest.raises((RuntimeError, IndexError)) as info:
            fn(T)
        assert re.search(re.escape(msg), str(info.value)), f"{T.__name__}: {info.value}"
    if torch is not None:  # the same exception class too
        classes = []
        for T in libs:
            try:
                fn(T)
            except Exception as e:  # noqa: BLE001 - comparing the two libraries' classes
                classes.append(type(e))
        assert classes[0] is classes[1] or issubclass(classes[1], classes[0])


# -- masked_scatter ------------------------------------------------------------------------------------
_MASKED = [  # (name, x shape, mask, source shape)
    ("same_shape", (2, 3), [[True, False, True], [False, True, True]], (6,)),
    ("mask_broadcast_rows", (2, 3), [True, False, True], (2, 5)),
    ("self_broadcast", (3,), [[True], [False]], (10,)),
    ("source_exact", (4,), [True, True, False, True], (3,)),
    ("all_false", (2, 2), [[False, False], [False, False]], (1,)),
]


def _masked_ref(x, m, s):
    shape = np.broadcast_shapes(x.shape, m.shape)
    out = np.broadcast_to(x, shape).copy()
    mb = np.broadcast_to(m, shape)
    out[mb] = s.reshape(-1)[: mb.sum()]
    return out


@pytest.mark.parametrize("name,xs,m,ss", _MASKED, ids=[c[0] for c in _MASKED])
def test_masked_scatter(name, xs, m, ss):
    rng = np.random.default_rng(2)
    x, s, m = rng.standard_normal(xs), rng.standard_normal(ss), np.array(m)
    xe = ember.tensor(x, requires_grad=True)
    se = ember.tensor(s, requires_grad=True)
    y = ember.masked_scatter(xe, ember.tensor(m), se)
    assert grad_fn_name(y) == "MaskedScatterBackward0"
    assert_close(to_np(y), _masked_ref(x, m, s))
    up = rng.standard_normal(y.shape)
    gx, gs = ember.autograd.grad(y, (xe, se), ember.tensor(up))
    if torch is not None:
        xt, st = torch.tensor(x, requires_grad=True), torch.tensor(s, requires_grad=True)
        yt = xt.masked_scatter(torch.tensor(m), st)
        tgx, tgs = torch.autograd.grad(yt, (xt, st), torch.tensor(up))
        assert_close(to_np(y), to_np(yt))
        assert_close(to_np(gx), to_np(tgx))
        assert_close(to_np(gs), to_np(tgs))
    me = ember.tensor(m)
    assert gradcheck(lambda a, b: a.masked_scatter(me, b), (xe, se))
    assert gradgradcheck(lambda a, b: a.masked_scatter(me, b), (xe, se))


def test_masked_scatter_inplace():
    x = ember.zeros(2, 3, requires_grad=True)
    s = ember.arange(6.0, requires_grad=True)
    y = x * 2
    y.masked_scatter_(ember.tensor([[True, False, True]]), s)
    assert y.tolist() == [[0.0, 0.0, 1.0], [2.0, 0.0, 3.0]]
    assert grad_fn_name(y) == "MaskedScatterBackward0"
    y.sum().backward()
    assert x.grad.tolist() == [[0.0, 2.0, 0.0], [0.0, 2.0, 0.0]]
    assert s.grad.tolist() == [1.0, 1.0, 1.0, 1.0, 0.0, 0.0]


# -- index_fill ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("value_tensor", [False, True])
@pytest.mark.parametrize("dim,index", [(1, [0, 2]), (0, [1]), (-1, [-1, 0]), (1, 2)])
def test_index_fill(dim, index, value_tensor):
    x = np.arange(6.0).reshape(2, 3)
    res = []
    # torch 2.13 cannot differentiate a tensor value filled at negative indices ("INDICES element is out
    # of DATA bounds"); ember can, so there only the forward is compared
    torch_grads = not (value_tensor and np.min(index) < 0)
    for T in (ember, torch) if torch is not None else (ember,):
        xt = T.tensor(x, dtype=T.float64, requires_grad=True)
        v = T.tensor(-1.5, dtype=T.float64, requires_grad=True) if value_tensor else -1.5
        y = T.index_fill(xt, dim, T.tensor(index), v)
        assert grad_fn_name(y) == ("IndexFillBackward1" if value_tensor else "IndexFillBackward0")
        wrt = (xt, v) if value_tensor else (xt,)
        grads = T.autograd.grad((y * y).sum(), wrt) if T is ember or torch_grads else ()
        res.append([to_np(y), *(to_np(g) for g in grads)])
        assert to_np(xt.index_fill(dim, T.tensor(index), v)).tolist() == to_np(y).tolist()
    want = x.copy()
    want[(slice(None),) * (dim % 2) + (np.array(index),)] = -1.5
    assert_close(res[0][0], want)
    if torch is not None:
        for got, exp in zip(res[0], res[1], strict=False):  # no torch gradients where it cannot
            assert_close(got, exp)
    v = ember.tensor(-1.5, dtype=ember.float64, requires_grad=True)
    xe = ember.tensor(x, dtype=ember.float64, requires_grad=True)
    assert gradgradcheck(lambda a, b: ember.index_fill(a, dim, ember.tensor(index), b), (xe, v))


def test_index_fill_inplace():
    x = ember.zeros(2, 3)
    assert x.index_fill_(1, ember.tensor([1]), 7.0) is x
    assert x.tolist() == [[0.0, 7.0, 0.0], [0.0, 7.0, 0.0]]
