"""bfloat16 against torch: type promotion with every other dtype, values of the ops, creation, random
streams, printing, autograd and save/load.

NumPy has no bfloat16; ember's comes from the optional ``ml_dtypes`` package, so the whole module skips
without it. torch computes most bfloat16 ops in float32 and rounds once at the end, so values are
compared bit for bit unless a test says otherwise.
"""

from __future__ import annotations

import numpy as np
import pytest

ml_dtypes = pytest.importorskip("ml_dtypes")
torch = pytest.importorskip("torch")

from test_promotion import (  # noqa: E402 - after the importorskips; the 81-pair tables, reused
    _A,
    _B,
    _COND,
    BINARY,
    DTYPES,
    INPLACE,
    SCALARS,
    _rhs,
    agree,
    inplace_cases,
    tensor_tensor_cases,
    where_cases,
    zero_dim_cases,
)
from test_promotion import make as _make  # noqa: E402

import ember  # noqa: E402

BF = "bfloat16"
# bfloat16 with every dtype on either side, and with itself: the rows and columns test_promotion leaves out
PAIRS = [(BF, d) for d in DTYPES] + [(d, BF) for d in DTYPES] + [(BF, BF)]


def make(T, values: np.ndarray, name: str):
    """``test_promotion.make``, plus bfloat16 (NumPy has no bfloat16 that torch reads: cast after)."""
    if name == BF:
        return T.tensor(values.astype(np.float32)).to(T.bfloat16)
    return _make(T, values, name)


def host(t) -> np.ndarray:
    """An ember or torch tensor's values as NumPy; bfloat16 widened to float32 (exact)."""
    t = t.detach()
    if str(t.dtype) == "torch.bfloat16":
        t = t.float()
    return np.asarray(t.numpy())


def bits(t) -> np.ndarray:
    """A bfloat16 tensor's raw 16-bit patterns: equal bits, not merely close values."""
    return host(t).view(np.uint32) >> 16


def outcome(fn):
    """``test_promotion.outcome`` that reads bfloat16 results (torch's ``.numpy()`` refuses them)."""
    try:
        r = fn()
    except Exception as e:  # noqa: BLE001 - comparing what each library raises
        return ("error", type(e).__name__, str(e))
    return ("ok", str(r.dtype).removeprefix("torch."), host(r))


def check_all(cases):
    """``(label, fn(T))`` pairs; fails listing every label where ember and torch disagree."""
    bad = []
    for label, fn in cases:
        msg = agree(outcome(lambda fn=fn: fn(ember)), outcome(lambda fn=fn: fn(torch)))
        if msg is not None:
            bad.append(f"{label}: {msg}")
    assert not bad, f"{len(bad)} mismatches:\n" + "\n".join(bad[:40])


# -- promotion -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("op", list(BINARY))
def test_promotion_tensor_tensor(op):
    check_all(tensor_tensor_cases(op, PAIRS, make))


@pytest.mark.parametrize("op", list(BINARY))
def test_promotion_tensor_zero_dim_tensor(op):
    check_all(zero_dim_cases(op, PAIRS, make))


@pytest.mark.parametrize("op", list(BINARY))
def test_promotion_tensor_python_scalar(op):
    f, rhs = BINARY[op], _rhs(op)
    cases = []
    for s in SCALARS:
        cases.append((f"bfloat16 {op} {s!r}", lambda T, s=s: f(make(T, _A, BF), s)))
        cases.append((f"bfloat16[] {op} {s!r}", lambda T, s=s: f(make(T, _A[:1], BF)[0], s)))
        if op not in ("fmod", "div_trunc", "div_floor", "maximum"):  # these take a tensor first
            cases.append((f"{s!r} {op} bfloat16", lambda T, s=s: f(s, make(T, rhs, BF))))
    check_all(cases)


def test_promotion_where():
    cases = where_cases(PAIRS, make)
    for s in SCALARS:
        cases.append((f"where bf16 {s!r}", lambda T, s=s: T.where(T.tensor(_COND), make(T, _A, BF), s)))
        cases.append((f"where {s!r} bf16", lambda T, s=s: T.where(T.tensor(_COND), s, make(T, _A, BF))))
    check_all(cases)


def test_promote_types_and_result_type():
    bad = []
    for a, b in PAIRS:
        e = ember.promote_types(getattr(ember, a), getattr(ember, b))
        t = torch.promote_types(getattr(torch, a), getattr(torch, b))
        if str(e) != str(t):
            bad.append(f"promote_types({a}, {b}): {e} vs {t}")
    for s in SCALARS:
        e = ember.result_type(make(ember, _A, BF), s)
        t = torch.result_type(make(torch, _A, BF), s)
        if str(e) != str(t):
            bad.append(f"result_type(bfloat16, {s!r}): {e} vs {t}")
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("op", list(INPLACE))
def test_promotion_inplace(op):
    f = INPLACE[op]
    cases = inplace_cases(op, PAIRS, make)
    for s in (3, 2.5, True):
        cases.append((f"bfloat16.{op}({s!r})", lambda T, s=s: f(make(T, _A, BF), s)))
    check_all(cases)


_TORCH_NAME = {
    "bool": "Bool",
    "uint8": "Byte",
    "int8": "Char",
    "int16": "Short",
    "int32": "Int",
    "int64": "Long",
}


@pytest.mark.parametrize("name", list(_TORCH_NAME))
@pytest.mark.parametrize("op", ["add_", "mul_", "div_", "sub_"])
def test_inplace_refuses_bfloat16_into_integers(name, op):
    if op == "sub_" and name == "bool":
        pytest.skip("bool subtraction is refused first, for another reason")
    want = f"result type BFloat16 can't be cast to the desired output type {_TORCH_NAME[name]}"
    for T in (ember, torch):
        for other in (make(T, _B, BF), make(T, _B[:1], BF)[0]):
            x = make(T, _A, name)
            with pytest.raises(RuntimeError) as info:
                getattr(x, op)(other)
            assert str(info.value) == want
            assert np.array_equal(host(x), host(make(T, _A, name)))  # refused before writing anything


# -- values --------------------------------------------------------------------------------------------------
def bf16(T, values):
    return T.tensor(np.asarray(values, np.float32)).to(T.bfloat16)


_rng = np.random.default_rng(2026)
# 4096 elements: a multiple of every SIMD width, so torch runs its vectorised kernel on all of them (its
# scalar tail loop rounds a few ops differently, e.g. rsqrt and add with alpha, without the FMA)
X = (_rng.standard_normal(4096) * 3).astype(np.float32)
Y = (_rng.standard_normal(4096) * 3).astype(np.float32)


def assert_same(e, t, atol: float = 0.0):
    """Same dtype and shape, and the same bfloat16 values bit for bit (or within ``atol``)."""
    assert str(e.dtype) == str(t.dtype), f"dtype {e.dtype} vs {t.dtype}"
    assert tuple(e.shape) == tuple(t.shape), f"shape {tuple(e.shape)} vs {tuple(t.shape)}"
    a, b = host(e), host(t)
    if atol:
        np.testing.assert_allclose(a, b, rtol=0, atol=atol)
        return
    same = (a == b) | (np.isnan(a) & np.isnan(b))
    if a.dtype.kind == "f":
        same &= (np.signbit(a) == np.signbit(b)) | np.isnan(b)  # -0.0 is not 0.0; a NaN's sign means nothing
    assert same.all(), f"{(~same).sum()} of {same.size} differ: {a[~same][:8]} vs {b[~same][:8]}"


ARITHMETIC = {
    "add": lambda T, x, y: x + y,
    "sub": lambda T, x, y: x - y,
    "mul": lambda T, x, y: x * y,
    "div": lambda T, x, y: x / y,
    "remainder": lambda T, x, y: x % y,
    "pow": lambda T, x, y: x.abs() ** (y / 4),
    "add_scalar": lambda T, x, y: x + 0.1,
    "sub_scalar": lambda T, x, y: x - 1.7,
    "rsub_scalar": lambda T, x, y: 1.7 - x,
    "mul_scalar": lambda T, x, y: x * 0.1,  # torch multiplies by 0.1 in float32, not by bfloat16(0.1)
    "mul_int": lambda T, x, y: x * 3,
    "div_scalar": lambda T, x, y: x / 3.0,
    "rdiv_scalar": lambda T, x, y: 1.3 / x,
    "square": lambda T, x, y: x**2,
    "pow_scalar": lambda T, x, y: x.abs() ** 0.37,
    "rpow": lambda T, x, y: 1.1**x,
    "add_alpha": lambda T, x, y: T.add(x, y, alpha=0.3),
    "sub_alpha": lambda T, x, y: T.sub(x, y, alpha=0.7),
    "rsub_alpha": lambda T, x, y: T.rsub(x, y, alpha=0.7),
    "maximum": lambda T, x, y: T.maximum(x, y),
    "atan2": lambda T, x, y: T.atan2(x, y),
    "hypot": lambda T, x, y: T.hypot(x, y),
    "lerp": lambda T, x, y: T.lerp(x, y, 0.25),
    "clamp": lambda T, x, y: x.clamp(-1.1, 2.3),
    "where": lambda T, x, y: T.where(x > y, x, 0.3),
}


@pytest.mark.parametrize("name", list(ARITHMETIC))
def test_arithmetic_values(name):
    f = ARITHMETIC[name]
    assert_same(f(ember, bf16(ember, X), bf16(ember, Y)), f(torch, bf16(torch, X), bf16(torch, Y)))


def _pos(T, x):
    return x.abs() + 0.125


UNARY = {
    "exp": lambda T, x: x.exp(),
    "log": lambda T, x: _pos(T, x).log(),
    "log2": lambda T, x: _pos(T, x).log2(),
    "log1p": lambda T, x: _pos(T, x).log1p(),
    "expm1": lambda T, x: x.expm1(),
    "exp2": lambda T, x: T.exp2(x),
    "sin": lambda T, x: x.sin(),
    "cos": lambda T, x: x.cos(),
    "tan": lambda T, x: x.tan(),
    "tanh": lambda T, x: x.tanh(),
    "atan": lambda T, x: x.atan(),
    "sqrt": lambda T, x: _pos(T, x).sqrt(),
    "rsqrt": lambda T, x: _pos(T, x).rsqrt(),
    "reciprocal": lambda T, x: x.reciprocal(),
    "sigmoid": lambda T, x: x.sigmoid(),
    "relu": lambda T, x: x.relu(),
    "abs": lambda T, x: x.abs(),
    "neg": lambda T, x: -x,
    "sign": lambda T, x: x.sign(),
    "floor": lambda T, x: x.floor(),
    "round": lambda T, x: x.round(),
    "erf": lambda T, x: x.erf(),
    "silu": lambda T, x: T.nn.functional.silu(x),
    "softplus": lambda T, x: T.nn.functional.softplus(x),
    "elu": lambda T, x: T.nn.functional.elu(x),
    "leaky_relu": lambda T, x: T.nn.functional.leaky_relu(x, 0.1),
    "hardtanh": lambda T, x: T.nn.functional.hardtanh(x),
    "gelu_tanh": lambda T, x: T.nn.functional.gelu(x, approximate="tanh"),
    "softmax": lambda T, x: T.softmax(x.reshape(64, 64), -1),
    "log_softmax": lambda T, x: T.log_softmax(x.reshape(64, 64), -1),
}
# torch's float32 erf (inside gelu) is a polynomial that gives exactly -1 for x below about -3.9, so gelu
# there is -0.0 where ember's is -1e-11: the same to within far less than the outputs' size
UNARY_ATOL = {"gelu_tanh": 1e-3}


@pytest.mark.parametrize("name", list(UNARY))
def test_unary_values(name):
    f = UNARY[name]
    assert_same(f(ember, bf16(ember, X)), f(torch, bf16(torch, X)), atol=UNARY_ATOL.get(name, 0.0))


def test_gelu_values_close():
    e = ember.nn.functional.gelu(bf16(ember, X))
    t = torch.nn.functional.gelu(bf16(torch, X))
    assert_same(e, t, atol=1e-3)
    big = np.abs(X) > 0.5  # away from its left tail gelu is bit for bit torch's
    assert np.array_equal(host(e)[big & (X > -3)], host(t)[big & (X > -3)])


REDUCTIONS = {
    "sum": lambda T, x: x.sum(),
    "sum_dim0": lambda T, x: x.reshape(64, 64).sum(0),
    "sum_dim1": lambda T, x: x.reshape(64, 64).sum(1),
    "sum_float32": lambda T, x: x.sum(dtype=T.float32),
    "mean": lambda T, x: x.mean(),
    "mean_dim": lambda T, x: x.reshape(64, 64).mean(1, keepdim=True),
    "max": lambda T, x: x.max(),
    "max_dim": lambda T, x: x.reshape(64, 64).max(1).values,
    "argmax": lambda T, x: x.reshape(64, 64).argmax(1),
    "min": lambda T, x: x.min(),
    "amax": lambda T, x: x.reshape(64, 64).amax(0),
    "prod": lambda T, x: (x[:32] / 2).prod(),
    "prod_dim": lambda T, x: x.reshape(1024, 4).prod(1),
    "cumsum": lambda T, x: x.cumsum(0),
    "cumsum_dim": lambda T, x: x.reshape(64, 64).cumsum(1),
    "cumprod": lambda T, x: (x[:24] / 2).cumprod(0),
    "var": lambda T, x: x.var(),
    "std_dim": lambda T, x: x.reshape(64, 64).std(1),
    "norm": lambda T, x: x.norm(),
    "logsumexp": lambda T, x: x.reshape(64, 64).logsumexp(1),
}


@pytest.mark.parametrize("name", list(REDUCTIONS))
def test_reduction_values(name):
    f = REDUCTIONS[name]
    assert_same(f(ember, bf16(ember, X)), f(torch, bf16(torch, X)))


MATMUL = {
    "mm": lambda T, x, y: x.reshape(64, 64) @ y.reshape(64, 64),
    "mv": lambda T, x, y: x.reshape(64, 64) @ y[:64],
    "dot": lambda T, x, y: x.dot(y),
    "bmm": lambda T, x, y: x.reshape(4, 16, 64) @ y.reshape(4, 64, 16),
    "matmul_broadcast": lambda T, x, y: x.reshape(4, 16, 64) @ y[:1024].reshape(64, 16),
    "linear": lambda T, x, y: T.nn.functional.linear(x.reshape(64, 64), y.reshape(64, 64), y[:64]),
    "addmm": lambda T, x, y: T.addmm(y[:64], x.reshape(64, 64), y.reshape(64, 64)),
    "mse_loss": lambda T, x, y: T.nn.functional.mse_loss(x, y),
    "layer_norm": lambda T, x, y: T.nn.functional.layer_norm(x.reshape(64, 64), (64,), y[:64], y[64:128]),
}


@pytest.mark.parametrize("name", list(MATMUL))
def test_matmul_and_loss_values(name):
    f = MATMUL[name]
    assert_same(f(ember, bf16(ember, X), bf16(ember, Y)), f(torch, bf16(torch, X), bf16(torch, Y)))


# -- conversion, creation, random streams ----------------------------------------------------------------
TIE = 1 + 2**-8 + 2**-30  # just above a bfloat16 tie in float64, but a tie once rounded to float32 first

CONVERSIONS = {
    "to_float32": lambda T: bf16(T, X[:64]).to(T.float32),
    "float": lambda T: bf16(T, X[:64]).float(),
    "double": lambda T: bf16(T, X[:64]).double(),
    "half": lambda T: bf16(T, X[:64]).half(),
    "int": lambda T: bf16(T, X[:64] * 10).int(),
    "long": lambda T: bf16(T, X[:64] * 10).long(),
    "bool": lambda T: bf16(T, np.round(X[:64])).bool(),
    "from_float32": lambda T: T.tensor(X[:64]).bfloat16(),
    "from_float64": lambda T: T.tensor(X[:64].astype(np.float64) / 3).to(T.bfloat16),
    "from_float16": lambda T: T.tensor(X[:64].astype(np.float16)).bfloat16(),
    "from_int64": lambda T: T.tensor([3, -7, 2**24 + 1, 2**31 - 1]).bfloat16(),
    "from_bool": lambda T: T.tensor([True, False]).bfloat16(),
    "float64_tie": lambda T: T.tensor([TIE, -TIE], dtype=T.float64).to(T.bfloat16),
    "list_tie": lambda T: T.tensor([TIE, -TIE, 1 / 3], dtype=T.bfloat16),
    "to_dtype_arg": lambda T: T.tensor([0.1, 0.2]).to(dtype=T.bfloat16),
    "type_as": lambda T: T.tensor([0.1, 0.2]).type_as(bf16(T, [1.0])),
    "overflow_to_inf": lambda T: T.tensor([3.0e38, -3.0e38]).bfloat16(),
    "nan_inf": lambda T: T.tensor([float("nan"), float("inf"), -float("inf")]).bfloat16(),
}


@pytest.mark.parametrize("name", list(CONVERSIONS))
def test_conversion(name):
    f = CONVERSIONS[name]
    assert_same(f(ember), f(torch))


CREATION = {
    "zeros": lambda T: T.zeros(2, 3, dtype=T.bfloat16),
    "ones": lambda T: T.ones(4, dtype=T.bfloat16),
    "full": lambda T: T.full((2, 2), 1.1, dtype=T.bfloat16),
    "full_tie": lambda T: T.full((2,), TIE, dtype=T.bfloat16),
    "arange_int": lambda T: T.arange(300, dtype=T.bfloat16),
    "arange_float": lambda T: T.arange(0, 1, 0.1, dtype=T.bfloat16),
    "linspace": lambda T: T.linspace(-1, 1, 7, dtype=T.bfloat16),
    "eye": lambda T: T.eye(3, dtype=T.bfloat16),
    "tensor_list": lambda T: T.tensor([[1.5, -2.7], [3e5, 1e-8]], dtype=T.bfloat16),
    "tensor_scalar": lambda T: T.tensor(2.7, dtype=T.bfloat16),
    "empty_fill": lambda T: T.empty(3, dtype=T.bfloat16).fill_(0.3),
    "zeros_like": lambda T: T.zeros_like(bf16(T, [1.0, 2.0])),
    "full_like": lambda T: T.full_like(bf16(T, [1.0, 2.0]), 0.7),
    "ones_like_dtype": lambda T: T.ones_like(T.tensor([1, 2]), dtype=T.bfloat16),
    "default_dtype": lambda T: (T.set_default_dtype(T.bfloat16), T.tensor([0.1, 2.5]))[1],
    "default_dtype_ops": lambda T: (T.set_default_dtype(T.bfloat16), T.tensor([1, 2]) / 3)[1],
}


@pytest.mark.parametrize("name", list(CREATION))
def test_creation(name):
    f = CREATION[name]
    try:
        e = f(ember)
    finally:
        ember.set_default_dtype(ember.float32)
    try:
        t = f(torch)
    finally:
        torch.set_default_dtype(torch.float32)
    assert_same(e, t)


RANDOM = {
    "rand": lambda T, n: T.rand(n, dtype=T.bfloat16),
    "randn": lambda T, n: T.randn(n, dtype=T.bfloat16),
    "uniform_": lambda T, n: T.empty(n, dtype=T.bfloat16).uniform_(-3.3, 7.7),
    "normal_": lambda T, n: T.empty(n, dtype=T.bfloat16).normal_(1.7, 2.9),
    "normal": lambda T, n: T.normal(0.5, 2.0, size=(n,), dtype=T.bfloat16),
    "randint": lambda T, n: T.randint(0, 10, (n,), dtype=T.bfloat16),
    "rand_like": lambda T, n: T.rand_like(T.zeros(n, dtype=T.bfloat16)),
    "randn_like": lambda T, n: T.randn_like(T.zeros(n, dtype=T.bfloat16)),
    "random_": lambda T, n: T.empty(n, dtype=T.bfloat16).random_(),
    "exponential_": lambda T, n: T.empty(n, dtype=T.bfloat16).exponential_(),
    "bernoulli": lambda T, n: T.bernoulli(T.full((n,), 0.3, dtype=T.bfloat16)),
    "dropout": lambda T, n: T.nn.functional.dropout(T.ones(n, dtype=T.bfloat16), 0.3),
}


# below 16 elements torch draws normals one double at a time; from 16 on, in 16-wide Box-Muller blocks
@pytest.mark.parametrize("n", [1, 5, 16, 17, 100, 1000])
@pytest.mark.parametrize("name", list(RANDOM))
def test_random_streams_bit_for_bit(name, n):
    f = RANDOM[name]
    out = []
    for T in (ember, torch):
        T.manual_seed(11)
        out.append((f(T, n), f(T, n), T.rand(3)))  # two draws, then the generator's state
    for e, t in zip(*out):
        assert_same(e, t)


# -- printing, item, tolist ----------------------------------------------------------------------------------
PRINTED = {
    "vector": lambda T: bf16(T, X[:5]),
    "integral": lambda T: T.tensor([1.0, 256.0, -8.0], dtype=T.bfloat16),
    "scientific": lambda T: T.tensor([1e-3, 1e5, 3.14159], dtype=T.bfloat16),
    "tiny": lambda T: T.tensor([1e-8, 1.0], dtype=T.bfloat16),
    "scalar": lambda T: T.tensor(2.7, dtype=T.bfloat16),
    "empty": lambda T: T.tensor([], dtype=T.bfloat16),
    "nan_inf": lambda T: T.tensor([float("nan"), float("inf"), -1.5], dtype=T.bfloat16),
    "matrix": lambda T: bf16(T, X[:12]).reshape(3, 4),
    "long_row": lambda T: T.arange(0, 1, 0.1, dtype=T.bfloat16),
    "summarised": lambda T: T.arange(2000, dtype=T.bfloat16),
    "requires_grad": lambda T: bf16(T, X[:3]).requires_grad_(),
    "grad_fn": lambda T: bf16(T, X[:3]).requires_grad_() * 2,
    "default_dtype": lambda T: (T.set_default_dtype(T.bfloat16), T.tensor([0.5, 1.25]))[1],
}


@pytest.mark.parametrize("name", list(PRINTED))
def test_printing(name):
    f = PRINTED[name]
    try:
        e = f(ember)
        e_repr, e_str = repr(e), str(e)
    finally:
        ember.set_default_dtype(ember.float32)
    try:
        t = f(torch)
        t_repr, t_str = repr(t), str(t)
    finally:
        torch.set_default_dtype(torch.float32)
    assert e_repr == t_repr
    assert e_str == t_str


@pytest.mark.parametrize("values", [[1.5, -2.7, 3e5], [1e-8], [[0.1, 0.2], [0.3, 0.4]], []])
def test_tolist_and_item(values):
    e, t = ember.tensor(values, dtype=ember.bfloat16), torch.tensor(values, dtype=torch.bfloat16)
    assert e.tolist() == t.tolist()
    flat = e.reshape(-1).tolist()
    assert flat == t.reshape(-1).tolist() and all(type(v) is float for v in flat)
    if e.numel():
        first = (0,) * e.ndim
        assert e[first].item() == t[first].item()
        assert type(e[first].item()) is float


# -- autograd ------------------------------------------------------------------------------------------------
ACTIVATIONS = {
    "identity": lambda T, y: y,
    "relu": lambda T, y: y.relu(),
    "tanh": lambda T, y: y.tanh(),
    "sigmoid": lambda T, y: y.sigmoid(),
    "gelu": lambda T, y: T.nn.functional.gelu(y),
}


def _linear_step(T, act):
    T.manual_seed(0)
    lin = T.nn.Linear(64, 32).bfloat16()
    x = T.randn(16, 64).bfloat16().requires_grad_()
    y = lin(x)
    loss = act(T, y).square().mean()
    loss.backward()
    return y, loss, {"weight": lin.weight.grad, "bias": lin.bias.grad, "x": x.grad}


@pytest.mark.parametrize("act", list(ACTIVATIONS))
def test_linear_forward_backward(act):
    ye, le, ge = _linear_step(ember, ACTIVATIONS[act])
    yt, lt, gt = _linear_step(torch, ACTIVATIONS[act])
    assert_same(ye, yt)  # the forward rounds exactly as torch's
    assert_same(le, lt)
    assert le.grad_fn.name() == type(lt.grad_fn).__name__
    for k in gt:
        assert ge[k].dtype is ember.bfloat16, k
        a, b = host(ge[k]), host(gt[k])
        # backward formulas are chains of bfloat16 ops, each rounding, and ember's chains are not torch's
        # op for op: allow 2 bfloat16 ulps, relative to each value and to the gradient's largest entry
        scale = np.abs(b).max()
        np.testing.assert_allclose(a, b, rtol=2**-6, atol=2**-6 * scale, err_msg=k)
        assert np.mean(np.abs(a - b)) <= 2**-8 * scale, k  # and on average within rounding


def test_float32_op_math_leaves_inputs_bfloat16():
    """Ops that compute in float32 widen their inputs' data for the call only (NOTE [ bfloat16 op math ])."""
    x = bf16(ember, X[:64]).reshape(8, 8).requires_grad_()
    before = bits(x)
    out = (x @ x).sum() + x.softmax(-1).mean() + (x * 0.1).sigmoid().sum() + x.var()
    out.backward()
    assert x._data.dtype == ml_dtypes.bfloat16 and x.grad.dtype is ember.bfloat16
    assert x.grad._data.dtype == ml_dtypes.bfloat16
    assert np.array_equal(bits(x), before)
    xt = bf16(torch, X[:64]).reshape(8, 8).requires_grad_()
    ((xt @ xt).sum() + xt.softmax(-1).mean() + (xt * 0.1).sigmoid().sum() + xt.var()).backward()
    assert_same(out, ((xt @ xt).sum() + xt.softmax(-1).mean() + (xt * 0.1).sigmoid().sum() + xt.var()))
    np.testing.assert_allclose(
        host(x.grad), host(xt.grad), rtol=2**-6, atol=2**-6 * np.abs(host(xt.grad)).max()
    )


# -- serialization -------------------------------------------------------------------------------------------
def test_ember_save_torch_load(tmp_path):
    x = bf16(ember, X[:12]).reshape(3, 4)
    ember.save({"x": x, "row": x[1], "p": ember.nn.Parameter(bf16(ember, Y[:6]))}, tmp_path / "e.pt")
    got = torch.load(tmp_path / "e.pt", weights_only=True)
    assert got["x"].dtype is torch.bfloat16 and type(got["p"]) is torch.nn.Parameter
    assert np.array_equal(bits(got["x"]), bits(x))
    assert np.array_equal(bits(got["row"]), bits(x[1]))
    assert np.array_equal(bits(got["p"]), bits(bf16(ember, Y[:6])))
    assert got["row"].untyped_storage().data_ptr() == got["x"].untyped_storage().data_ptr()


def test_torch_save_ember_load(tmp_path):
    x = bf16(torch, X[:12]).reshape(3, 4)
    net = torch.nn.Linear(4, 2).bfloat16()
    torch.save({"x": x, "strided": x[:, ::2], "sd": net.state_dict()}, tmp_path / "t.pt")
    got = ember.load(tmp_path / "t.pt")
    assert got["x"].dtype is ember.bfloat16
    assert np.array_equal(bits(got["x"]), bits(x))
    assert np.array_equal(bits(got["strided"]), bits(x[:, ::2]))
    lin = ember.nn.Linear(4, 2).bfloat16()
    lin.load_state_dict(got["sd"])
    assert np.array_equal(bits(lin.weight), bits(net.weight))
    inp = [[1.0, 2.0, 3.0, 4.0], [-0.5, 0.25, 8.0, 1.0]]
    assert repr(lin(bf16(ember, inp))) == repr(net(bf16(torch, inp)))


# -- known differences: strict xfails, so fixing one turns its test red until it moves above -------------
KNOWN_GAPS = {
    # torch reads a 0-dim float32 operand of mul as a float32 scalar; ember casts it to bfloat16 first
    "mul_zero_dim_float32": lambda T, x, y: x * T.tensor(0.1),
    # torch's nll_loss sums in an order (and precision) of its own: 1 ulp off on the mean
    "cross_entropy": lambda T, x, y: T.nn.functional.cross_entropy(x.reshape(64, 64), T.arange(64)),
}


INPLACE_SCALAR = {
    "mul_scalar_inplace": lambda T, x, y: x.mul_(0.1),
    "add_alpha_inplace": lambda T, x, y: x.add_(y, alpha=0.3),
    "sub_alpha_inplace": lambda T, x, y: x.sub_(y, alpha=0.7),
    "div_scalar_inplace": lambda T, x, y: x.div_(3.3),
}


@pytest.mark.parametrize("name", list(INPLACE_SCALAR))
def test_inplace_scalar_in_float32(name):
    """In-place ops with a scalar or alpha: the scalar in float32 and one rounding, as torch."""
    f = INPLACE_SCALAR[name]
    assert_same(f(ember, bf16(ember, X), bf16(ember, Y)), f(torch, bf16(torch, X), bf16(torch, Y)))


@pytest.mark.xfail(strict=True, reason="a known bfloat16 rounding difference, see KNOWN_GAPS")
@pytest.mark.parametrize("name", list(KNOWN_GAPS))
def test_known_gaps(name):
    f = KNOWN_GAPS[name]
    assert_same(f(ember, bf16(ember, X), bf16(ember, Y)), f(torch, bf16(torch, X), bf16(torch, Y)))
