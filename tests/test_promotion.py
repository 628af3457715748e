"""Type promotion for every pair of supported dtypes, with Python scalars and 0-dim tensors, for the
arithmetic, comparison and ``where`` ops and their in-place forms, against torch's own results.

Each test walks all dtype pairs and collects every mismatch, so one failure lists them all.
"""

from __future__ import annotations

import itertools
import operator

import numpy as np
import pytest
from _spec import dtype_name, needs_torch, to_np, torch

import ember
from ember import dtypes as D

pytestmark = needs_torch

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]
PAIRS = list(itertools.product(DTYPES, DTYPES))

_A = np.array([-7, 5, 3, -2, 0, 9])
_B = np.array([2, -3, 4, 5, 7, -1])  # no zeros: integer division by zero is an error


def make(T, values: np.ndarray, name: str):
    arr = values.astype(bool) if name == "bool" else values.astype(name)  # uint8 wraps the negatives
    return T.tensor(arr)


def outcome(fn):
    """What ``fn()`` does: ('ok', dtype, values) or ('error', type, message)."""
    try:
        r = fn()
    except Exception as e:  # noqa: BLE001 - comparing what each library raises
        return ("error", type(e).__name__, str(e))
    return ("ok", dtype_name(r.dtype), to_np(r))


def agree(e, t) -> str | None:
    """None when ember's outcome matches torch's, else a description."""
    if e[0] != t[0]:
        return f"ember {e[0]} {e[1:]} vs torch {t[0]} {t[1:]}"
    if e[0] == "error":
        return None if e[1] == t[1] and e[2] == t[2] else f"error {e[1]}: {e[2]!r} vs {t[1]}: {t[2]!r}"
    if e[1] != t[1]:
        return f"dtype {e[1]} vs {t[1]}"
    a, b = np.asarray(e[2]), np.asarray(t[2])
    if a.shape != b.shape:
        return f"shape {a.shape} vs {b.shape}"
    if a.dtype.kind == "f" or b.dtype.kind == "f":
        rtol = 1e-3 if e[1] == "float16" else 1e-6
        ok = np.allclose(a.astype(np.float64), b.astype(np.float64), rtol=rtol, atol=0, equal_nan=True)
    else:
        ok = np.array_equal(a, b)
    return None if ok else f"values {a} vs {b}"


def check_all(cases):
    """``cases``: (label, fn(T)) pairs. Fails listing every label where ember and torch disagree."""
    bad = []
    for label, fn in cases:
        msg = agree(outcome(lambda fn=fn: fn(ember)), outcome(lambda fn=fn: fn(torch)))
        if msg is not None:
            bad.append(f"{label}: {msg}")
    assert not bad, f"{len(bad)} mismatches:\n" + "\n".join(bad[:40])


BINARY = {
    "add": operator.add,
    "sub": operator.sub,
    "mul": operator.mul,
    "div": operator.truediv,
    "floor_divide": operator.floordiv,
    "remainder": operator.mod,
    "pow": operator.pow,
    "eq": operator.eq,
    "ne": operator.ne,
    "lt": operator.lt,
    "le": operator.le,
    "gt": operator.gt,
    "ge": operator.ge,
    "fmod": lambda a, b: (
        ember if isinstance(a, ember.Tensor) or isinstance(b, ember.Tensor) else torch
    ).fmod(a, b),
    "div_trunc": lambda a, b: (ember if isinstance(a, ember.Tensor) else torch).div(
        a, b, rounding_mode="trunc"
    ),
    "div_floor": lambda a, b: (ember if isinstance(a, ember.Tensor) else torch).div(
        a, b, rounding_mode="floor"
    ),
    "maximum": lambda a, b: (ember if isinstance(a, ember.Tensor) else torch).maximum(a, b),
    "bitwise_and": operator.and_,
}
_POW_EXP = np.array([2, 0, 3, 1, 2, 1])  # integer tensors to negative powers are implementation-defined


def _rhs(op):
    return _POW_EXP if op in ("pow", "pow_") else _B


# The case builders take the dtype pairs and ``make`` as arguments: tests/test_bfloat16.py reuses them
# with its own pairs and a ``make`` that knows bfloat16.
def tensor_tensor_cases(op, pairs, make=make) -> list:
    f, rhs = BINARY[op], _rhs(op)
    return [(f"{a} {op} {b}", lambda T, a=a, b=b: f(make(T, _A, a), make(T, rhs, b))) for a, b in pairs]


def zero_dim_cases(op, pairs, make=make) -> list:
    f, rhs = BINARY[op], _rhs(op)
    cases = []
    for a, b in pairs:
        cases.append((f"{a}[6] {op} {b}[]", lambda T, a=a, b=b: f(make(T, _A, a), make(T, rhs[1:2], b)[0])))
        cases.append((f"{a}[] {op} {b}[6]", lambda T, a=a, b=b: f(make(T, _A[1:2], a)[0], make(T, rhs, b))))
        cases.append(
            (f"{a}[] {op} {b}[]", lambda T, a=a, b=b: f(make(T, _A[:1], a)[0], make(T, rhs[2:3], b)[0]))
        )
    return cases


_COND = np.array([True, False, True, False, True, False])


def where_cases(pairs, make=make) -> list:
    cases = []
    for a, b in pairs:
        cases.append(
            (f"where {a} {b}", lambda T, a=a, b=b: T.where(T.tensor(_COND), make(T, _A, a), make(T, _B, b)))
        )
        cases.append(
            (
                f"where {a} {b}[]",
                lambda T, a=a, b=b: T.where(T.tensor(_COND), make(T, _A, a), make(T, _B[:1], b)[0]),
            )
        )
    return cases


def inplace_cases(op, pairs, make=make) -> list:
    f = INPLACE[op]

    def run(T, a, b):
        x = make(T, _A, a)
        r = f(x, make(T, _rhs(op), b))
        assert r is x
        return x

    return [(f"{a}.{op}({b})", lambda T, a=a, b=b: run(T, a, b)) for a, b in pairs]


@pytest.mark.parametrize("op", list(BINARY))
def test_tensor_tensor(op):
    check_all(tensor_tensor_cases(op, PAIRS))


@pytest.mark.parametrize("op", list(BINARY))
def test_tensor_zero_dim_tensor(op):
    check_all(zero_dim_cases(op, PAIRS))


SCALARS = [3, -2, 2.5, True, False, 0.5]


@pytest.mark.parametrize("op", list(BINARY))
def test_tensor_python_scalar(op):
    f = BINARY[op]
    cases = []
    for a, s in itertools.product(DTYPES, SCALARS):
        if (
            s in (0, False)
            and op in ("floor_divide", "remainder", "fmod", "div_trunc", "div_floor")
            and not isinstance(s, float)
        ):
            continue  # integer division by zero raises in torch and ember both, with different messages
        cases.append((f"{a} {op} {s!r}", lambda T, a=a, s=s: f(make(T, _A, a), s)))
        if op not in ("fmod", "div_trunc", "div_floor", "maximum"):  # these take a tensor first
            rhs = _B if op not in ("pow",) else _POW_EXP
            cases.append((f"{s!r} {op} {a}", lambda T, a=a, s=s, rhs=rhs: f(s, make(T, rhs, a))))
    check_all(cases)


def test_where_promotion():
    cases = where_cases(PAIRS)
    for a, s in itertools.product(DTYPES, SCALARS):
        cases.append((f"where {a} {s!r}", lambda T, a=a, s=s: T.where(T.tensor(_COND), make(T, _A, a), s)))
        cases.append((f"where {s!r} {a}", lambda T, a=a, s=s: T.where(T.tensor(_COND), s, make(T, _A, a))))
    check_all(cases)


INPLACE = {
    "add_": lambda x, y: x.add_(y),
    "sub_": lambda x, y: x.sub_(y),
    "mul_": lambda x, y: x.mul_(y),
    "div_": lambda x, y: x.div_(y),
    "iadd": operator.iadd,
    "imul": operator.imul,
    "itruediv": operator.itruediv,
    "pow_": lambda x, y: x.pow_(y),
}


@pytest.mark.parametrize("op", list(INPLACE))
def test_inplace(op):
    f = INPLACE[op]
    cases = inplace_cases(op, PAIRS)
    for a, s in itertools.product(DTYPES, [3, 2.5, True]):
        cases.append((f"{a}.{op}({s!r})", lambda T, a=a, s=s: f(make(T, _A, a), s)))
    check_all(cases)


def test_inplace_error_message():
    def fn(T):
        T.tensor([1, 2]).add_(T.tensor([0.5, 1.5]))

    for T in (ember, torch):
        with pytest.raises(RuntimeError) as info:
            fn(T)
        assert str(info.value) == "result type Float can't be cast to the desired output type Long"
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type Long"):
        x = ember.tensor([1, 2])
        x /= 2


def test_promote_types_and_result_type():
    bad = []
    for a, b in PAIRS:
        e = ember.promote_types(getattr(ember, a), getattr(ember, b))
        t = torch.promote_types(getattr(torch, a), getattr(torch, b))
        if dtype_name(e) != dtype_name(t):
            bad.append(f"promote_types({a}, {b}): {e} vs {t}")
        for s in SCALARS:
            e = D.result_type(make(ember, _A, a), s)
            t = torch.result_type(make(torch, _A, a), s)
            if dtype_name(e) != dtype_name(t):
                bad.append(f"result_type({a}, {s!r}): {e} vs {t}")
    assert not bad, "\n".join(bad)


def test_default_dtype_changes_float_scalar_promotion():
    for T in (ember, torch):
        T.set_default_dtype(T.float64)
        try:
            assert dtype_name((T.tensor([1, 2]) * 1.5).dtype) == "float64"
            assert dtype_name((T.tensor([1.0], dtype=T.float32) * 1.5).dtype) == "float32"
            assert dtype_name(T.tensor([1.5]).dtype) == "float64"
        finally:
            T.set_default_dtype(T.float32)


# -- integer semantics ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "expr",
    [
        lambda T: T.tensor([-7, 7, -7, 7]) // T.tensor([2, -2, -2, 2]),
        lambda T: T.tensor([-7, 7, -7, 7]) % T.tensor([2, -2, -2, 2]),
        lambda T: T.fmod(T.tensor([-7, 7, -7, 7]), T.tensor([2, -2, -2, 2])),
        lambda T: T.div(T.tensor([-7, 7, -7, 7]), T.tensor([2, -2, -2, 2]), rounding_mode="trunc"),
        lambda T: T.div(T.tensor([-7, 7, -7, 7]), T.tensor([2, -2, -2, 2]), rounding_mode="floor"),
        lambda T: T.tensor([-7.5, 7.5, -7.5, 7.5]) // T.tensor([2.0, -2.0, -2.0, 2.0]),
        lambda T: T.tensor([-7.5, 7.5, -7.5, 7.5]) % T.tensor([2.0, -2.0, -2.0, 2.0]),
        lambda T: T.remainder(T.tensor([-3, 3]), 5),
        lambda T: -7 // T.tensor([2, -2]),
        lambda T: T.tensor([-7, 7]) / 2,
        lambda T: T.tensor([127], dtype=T.int8) + 1,
        lambda T: T.tensor([127], dtype=T.int8) + T.tensor([1], dtype=T.int8),
        lambda T: T.tensor([0], dtype=T.uint8) - 1,
        lambda T: T.tensor([200], dtype=T.uint8) * 2,
        lambda T: T.tensor([2**31 - 1], dtype=T.int32) + 1,
        lambda T: T.tensor([2**62]) * 4,
        lambda T: T.tensor([-(2**63)]) - 1,
        lambda T: T.tensor([100], dtype=T.int8) * T.tensor([3], dtype=T.int8),
        lambda T: T.tensor([5], dtype=T.uint8) - T.tensor([10], dtype=T.uint8),
        lambda T: T.tensor([3], dtype=T.int16) ** 15,
        lambda T: T.tensor([1, 2, 3], dtype=T.int8).sum(),
        lambda T: T.tensor([200, 100], dtype=T.uint8).sum(),
        lambda T: T.tensor([True, True, False]).sum(),
        lambda T: T.tensor([1, 2, 3], dtype=T.int32).cumsum(0),
        lambda T: T.tensor([1, 2, 3], dtype=T.int16).prod(),
        lambda T: -T.tensor([0, 5], dtype=T.uint8),
        lambda T: T.tensor([-128], dtype=T.int8).abs(),
        lambda T: T.tensor([3, -3]) // 0.0,
        lambda T: T.tensor([1.0, -1.0, 0.0]) / 0,
    ],
)
def test_integer_semantics(expr):
    check_all([("expr", expr)])


@pytest.mark.parametrize(
    "expr",
    [
        lambda T: T.tensor([5]) // T.tensor([0]),
        lambda T: T.tensor([5]) % 0,
        lambda T: T.tensor([2]) ** -1,
        lambda T: T.tensor([True]) - T.tensor([True]),
        lambda T: -T.tensor([True]),
        lambda T: T.tensor([1.5]) & T.tensor([1.0]),
    ],
)
def test_integer_errors(expr):
    e, t = outcome(lambda: expr(ember)), outcome(lambda: expr(torch))
    assert e[0] == t[0] == "error"
    assert e[1] == t[1]
