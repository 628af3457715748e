"""Bit shifts and the inverse hyperbolic functions, beyond the op-spec table: PyTorch's rule for shift
amounts outside the bit width, promotion with Python numbers, in-place variants, error messages, and
the edge values of asinh/acosh/atanh. Values are checked against a pure-Python reference of
PyTorch's rule; where torch is installed, against torch itself as well."""

from __future__ import annotations

import operator

import numpy as np
import pytest
from _spec import needs_torch, torch

import ember

INT_DTYPES = ["int8", "uint8", "int16", "int32", "int64"]
SHIFTS = [0, 1, 3, 7, 8, 9, 15, 16, 31, 32, 33, 63, 64, 65, 100, 300, -1, -5, 2**40, 2**63]
VALUES = {
    "int8": [0, 1, -1, 5, 127, -128, -3],
    "uint8": [0, 1, 255, 5, 127, 128, 3],
    "int16": [0, 1, -1, 5, 32767, -32768, -3],
    "int32": [0, 1, -1, 5, 2**31 - 1, -(2**31), -3],
    "int64": [0, 1, -1, 5, 2**63 - 1, -(2**63), -3],
}


def _ref(x: int, s: int, dtype: str, left: bool) -> int:
    """PyTorch's shift of one element: s and the result wrap to ``dtype``; a shift outside [0, bits)
    gives 0, except a signed right shift, which fills with the sign bit."""
    info = np.iinfo(dtype)
    bits = info.bits

    def wrap(v):
        return v % 2**bits if info.min == 0 else (v + 2 ** (bits - 1)) % 2**bits - 2 ** (bits - 1)

    s = wrap(s)
    if not 0 <= s < bits:
        if left or info.min == 0:
            return 0
        return -1 if x < 0 else 0
    return wrap(x << s) if left else x >> s


@pytest.mark.parametrize("left", [True, False], ids=["lshift", "rshift"])
@pytest.mark.parametrize("dtype", INT_DTYPES)
def test_shift_by_scalar(dtype, left):
    x = ember.tensor(VALUES[dtype], dtype=getattr(ember, dtype))
    op = operator.lshift if left else operator.rshift
    for s in SHIFTS:
        out = op(x, s)
        assert out.dtype is getattr(ember, dtype), s
        assert out.tolist() == [_ref(v, s, dtype, left) for v in VALUES[dtype]], s


@pytest.mark.parametrize("left", [True, False], ids=["lshift", "rshift"])
@pytest.mark.parametrize("dtype", INT_DTYPES)
def test_shift_by_tensor(dtype, left):
    info = np.iinfo(dtype)
    shifts = [s for s in SHIFTS if info.min <= s <= info.max]
    x = ember.tensor(VALUES[dtype] * len(shifts), dtype=getattr(ember, dtype))
    s = ember.tensor([k for k in shifts for _ in VALUES[dtype]], dtype=getattr(ember, dtype))
    out = ember.bitwise_left_shift(x, s) if left else ember.bitwise_right_shift(x, s)
    assert out.dtype is x.dtype
    assert out.tolist() == [_ref(a, b, dtype, left) for a, b in zip(x.tolist(), s.tolist(), strict=True)]


def test_shift_promotion_and_reflected():
    i8 = ember.tensor([1, -3, 5], dtype=ember.int8)
    assert (i8 << ember.tensor([1, 2, 70])).tolist() == [2, -12, 0]  # computed in int64
    assert (i8 << ember.tensor([1, 2, 70])).dtype is ember.int64
    assert (i8 << ember.tensor(10)).dtype is ember.int8  # a 0-d tensor does not promote
    assert (2 << i8).tolist() == [4, 0, 64] and (2 << i8).dtype is ember.int8
    assert (100 >> i8).tolist() == [50, 0, 3]
    assert (True << i8).tolist() == [2, 0, 32]
    assert ember.bitwise_left_shift(2, i8).tolist() == [4, 0, 64]
    b = ember.tensor([True, False]) << 1
    assert b.tolist() == [2, 0] and b.dtype is ember.int64
    assert i8.bitwise_left_shift(1).tolist() == [2, -6, 10]
    assert i8.bitwise_right_shift(1).tolist() == [0, -2, 2]
    out = ember.empty(3, dtype=ember.int8)
    assert ember.bitwise_left_shift(i8, 1, out=out) is out and out.tolist() == [2, -6, 10]


def test_shift_in_place():
    t = ember.tensor([1, -3, 5], dtype=ember.int8)
    v0 = t._version
    t <<= 1
    assert t.tolist() == [2, -6, 10] and t._version == v0 + 1
    t >>= 2
    assert t.tolist() == [0, -2, 2]
    assert t.bitwise_left_shift_(3) is t and t.tolist() == [0, -16, 16]
    assert t.bitwise_right_shift_(ember.tensor([1, 1, 9], dtype=ember.int8)).tolist() == [0, -8, 0]
    t = ember.tensor([1, -3, 5], dtype=ember.int8)
    t <<= ember.tensor([1, 2, 70])  # computed in int64, cast back
    assert t.tolist() == [2, -12, 0] and t.dtype is ember.int8
    base = ember.arange(6).view(2, 3)
    row = base[1]
    row <<= 2
    assert base.tolist() == [[0, 1, 2], [12, 16, 20]]


ERRORS = {
    "float_tensor": lambda T: T.tensor([1.0, 2.0]) << 1,
    "float_rshift": lambda T: T.tensor([1.0, 2.0]) >> 1,
    "double_fn": lambda T: T.bitwise_left_shift(T.tensor([1.0], dtype=T.float64), 1),
    "half": lambda T: T.tensor([1.0], dtype=T.float16) >> 1,
    "float_scalar": lambda T: T.tensor([1, 2]) << 1.5,
    "float_whole_scalar": lambda T: T.tensor([1, 2]) >> 2.0,
    "float_rhs_tensor": lambda T: T.tensor([1, 2]) << T.tensor([1.0, 2.0]),
    "float_reflected": lambda T: 2.5 << T.tensor([1, 2]),
    "bool_bool": lambda T: T.tensor([True]) << T.tensor([True]),
    "bool_true": lambda T: T.tensor([True]) >> True,
    "float_method": lambda T: T.tensor([1.0]).bitwise_right_shift(1),
    "float_in_place": lambda T: T.tensor([1.0]).__ilshift__(1),
    "float_in_place_method": lambda T: T.tensor([1.0]).bitwise_right_shift_(1),
    "cast_in_place": lambda T: T.tensor([1, 2], dtype=T.int8).__ilshift__(1.5),
    "cast_in_place_tensor": lambda T: T.tensor([1, 2]).__irshift__(T.tensor([1.0, 1.0])),
    "broadcast": lambda T: T.ones(2, 3, dtype=T.int64) << T.ones(4, dtype=T.int64),
    "too_big": lambda T: T.tensor([1]) << 2**70,
}


def _error(fn, T):
    try:
        fn(T)
    except Exception as e:  # noqa: BLE001 - the type and message are what is compared
        return type(e).__name__, str(e)
    return None


@pytest.mark.parametrize("name", list(ERRORS))
def test_shift_errors(name):
    assert _error(ERRORS[name], ember) is not None


@needs_torch
@pytest.mark.parametrize("name", [n for n in ERRORS if n != "too_big"])
def test_shift_error_messages_match_torch(name):
    assert _error(ERRORS[name], ember) == _error(ERRORS[name], torch)


@needs_torch
def test_shift_too_big_is_overflow_error_as_torch():
    assert _error(ERRORS["too_big"], ember)[0] == _error(ERRORS["too_big"], torch)[0] == "OverflowError"


@needs_torch
@pytest.mark.parametrize("op", ["<<", ">>"])
@pytest.mark.parametrize("dtype", INT_DTYPES)
@pytest.mark.parametrize("shift", SHIFTS)
def test_shift_matches_torch(dtype, shift, op):
    f = operator.lshift if op == "<<" else operator.rshift
    s64 = (shift + 2**63) % 2**64 - 2**63  # as an int64 tensor holds it
    cases = [
        lambda T: f(T.tensor(VALUES[dtype], dtype=getattr(T, dtype)), shift),
        lambda T: f(T.tensor(VALUES[dtype], dtype=getattr(T, dtype)), T.tensor(s64)),  # 0-d: wraps to dtype
        lambda T: f(T.tensor(VALUES[dtype], dtype=getattr(T, dtype)), T.tensor([s64] * 7)),  # int64
    ]
    if -(2**63) <= shift < 2**63:
        cases.append(lambda T: f(shift, T.tensor([0, 1, 3, 8, 70, 7, 2], dtype=getattr(T, dtype))))
    for k, case in enumerate(cases):
        e, t = case(ember), case(torch)
        assert str(e.dtype) == str(t.dtype), k
        assert e.tolist() == t.tolist(), k


@needs_torch
@pytest.mark.parametrize(
    "method", ["__ilshift__", "__irshift__", "bitwise_left_shift_", "bitwise_right_shift_"]
)
@pytest.mark.parametrize("dtype", INT_DTYPES)
def test_shift_in_place_matches_torch(dtype, method):
    for other in (3, 9, -1, lambda T: T.tensor([1, 2, 70, 0, 5, 63, 64])):
        res = []
        for T in (ember, torch):
            t = T.tensor(VALUES[dtype], dtype=getattr(T, dtype))
            out = getattr(t, method)(other(T) if callable(other) else other)
            assert out is t
            res.append((str(t.dtype), t.tolist()))
        assert res[0] == res[1], other


# -- asinh, acosh, atanh -----------------------------------------------------------------------
HYPER = {
    "asinh": [-2.0, -0.5, 0.0, 0.5, 3.0],
    "acosh": [1.0, 1.5, 3.0, 0.5],
    "atanh": [-1.0, -0.5, 0.0, 0.5, 1.0, 2.0],
}
ALIASES = {"arcsinh": "asinh", "arccosh": "acosh", "arctanh": "atanh"}


@pytest.mark.parametrize("name", list(HYPER))
def test_hyperbolic_names_and_promotion(name):
    alias = next(a for a, n in ALIASES.items() if n == name)
    assert getattr(ember, alias) is getattr(ember, name)
    x = ember.tensor([0.5, 1.5], dtype=ember.float64, requires_grad=True)
    assert getattr(x, name)().grad_fn.name() == f"{name.capitalize()}Backward0"
    for dt in (ember.int64, ember.int8, ember.uint8, ember.bool):
        y = getattr(ember, name)(ember.tensor([1, 0], dtype=dt))
        assert y.dtype is ember.float32
        with np.errstate(all="ignore"):
            np.testing.assert_allclose(y.numpy(), getattr(np, alias)([1.0, 0.0]))
    t = ember.tensor([0.5, 0.25] if name != "acosh" else [1.5, 2.0])
    ref = getattr(t, name)()
    assert getattr(t.clone(), f"{name}_")().tolist() == ref.tolist()
    assert getattr(t.clone(), f"{alias}_")().tolist() == ref.tolist()
    assert getattr(t, alias)().tolist() == ref.tolist()


def test_hyperbolic_in_place_records_history():
    x = ember.tensor([0.2, 0.4], dtype=ember.float64, requires_grad=True)
    y = x * 1
    y.atanh_()
    assert y.grad_fn.name() == "AtanhBackward0"
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 1 / (1 - np.array([0.2, 0.4]) ** 2))


@needs_torch
@pytest.mark.filterwarnings("ignore:.*")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", list(HYPER))
def test_hyperbolic_edges_and_double_backward_match_torch(name, dtype):
    res = []
    for T in (ember, torch):
        x = T.tensor(HYPER[name], dtype=getattr(T, dtype), requires_grad=True)
        y = getattr(T, name)(x)
        (g,) = T.autograd.grad(y.sum(), x, create_graph=True)
        (gg,) = T.autograd.grad(g.sum(), x)
        res.append([v.detach().numpy() for v in (y, g, gg)])
    for e, t in zip(*res, strict=True):
        assert e.dtype == t.dtype
        np.testing.assert_allclose(e, t, rtol=1e-6, atol=1e-7, equal_nan=True)
