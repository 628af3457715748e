"""ember._printing against torch's own repr (torch is only the oracle here)."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

from ember import _printing as P

torch = pytest.importorskip("torch")


@pytest.fixture(autouse=True)
def _restore_defaults():
    """Every test starts and ends with default options and default dtype, in both libraries."""
    torch.set_printoptions(profile="default")
    P.set_printoptions(profile="default")
    torch.set_default_dtype(torch.float32)
    yield
    torch.set_printoptions(profile="default")
    P.set_printoptions(profile="default")
    torch.set_default_dtype(torch.float32)


def _dtype_name(dtype) -> str:
    return str(dtype).removeprefix("torch.")


def ember_repr(t, **kwargs) -> str:
    """Feed torch's tensor facts to tensor_repr the way the Tensor class will."""
    a = t.detach()
    if a.dtype == torch.bfloat16:  # NumPy has no bfloat16: the values travel as float32
        a = a.float()
    grad_fn = type(t.grad_fn).__name__ if t.grad_fn is not None else None
    return P.tensor_repr(
        a.numpy(),
        _dtype_name(t.dtype),
        default_dtype_name=_dtype_name(torch.get_default_dtype()),
        requires_grad=t.requires_grad,
        grad_fn=grad_fn,
        is_leaf=t.is_leaf,
        **kwargs,
    )


def check(t) -> None:
    assert ember_repr(t) == repr(t)
    assert repr(t) == str(t)


def _seeded(fn: Callable[[], object]) -> Callable[[], object]:
    def make():
        torch.manual_seed(0)
        return fn()

    return make


def _with(values, positions) -> Callable[[], object]:
    """A randn tensor with special values written at flat positions."""

    def make():
        t = torch.randn(4, 5)
        flat = t.view(-1)
        for pos, v in zip(positions, values):
            flat[pos] = v
        return t

    return make


inf, nan = math.inf, math.nan

# ------------------------------------------------------------------------------ tensors at default options

BASIC = {
    # floats: magnitudes that flip between fixed and scientific notation
    **{f"randn_1e{e}": (lambda e=e: torch.randn(5) * 10.0**e) for e in range(-8, 9)},
    **{f"randn_2d_1e{e}": (lambda e=e: torch.randn(3, 4) * 10.0**e) for e in (-8, -5, -3, 0, 3, 5, 8)},
    "mixed_range": lambda: torch.tensor([1e-3, 1.0, 1e3]),
    "ratio_just_below_1000": lambda: torch.tensor([1.0, 999.0, 0.5]),
    "ratio_above_1000": lambda: torch.tensor([1.0, 1001.5]),
    "min_below_1e-4": lambda: torch.tensor([1e-5]),
    "max_above_1e8": lambda: torch.tensor([123456789.0]),
    "exactly_1e8": lambda: torch.tensor([1e8, 1.0]),
    "value_1e-5": lambda: torch.tensor(1e-5),
    "rounding_carry": lambda: torch.tensor([9.99999, 0.5]),
    "neg_and_pos": lambda: torch.tensor([-1.5, 2.25, -300.125]),
    # integral floats
    "integral_scalar": lambda: torch.tensor(222.0),
    "integral_vec": lambda: torch.tensor([1.0, 2.0, 222.0]),
    "integral_neg": lambda: torch.tensor([-1.0, 20.0, -300.0]),
    "integral_big": lambda: torch.tensor([1.0, 1e9]),
    "integral_huge_ratio": lambda: torch.tensor([1.0, 5000.0]),
    "integral_2d": lambda: torch.arange(12.0).reshape(3, 4),
    "ones": lambda: torch.ones(2, 3),
    "zeros": lambda: torch.zeros(3),
    "zeros_2d": lambda: torch.zeros(2, 2),
    "zero_scalar": lambda: torch.tensor(0.0),
    "neg_zero": lambda: torch.tensor(-0.0),
    "neg_zero_vec": lambda: torch.tensor([0.0, -0.0, 1.0]),
    "neg_zero_frac": lambda: torch.tensor([-0.0, 1.5]),
    # inf / nan
    "inf": lambda: torch.tensor(inf),
    "neg_inf": lambda: torch.tensor(-inf),
    "nan": lambda: torch.tensor(nan),
    "all_nonfinite": lambda: torch.tensor([inf, -inf, nan]),
    "nan_integral": lambda: torch.tensor([nan, 1.0, -0.0]),
    "inf_frac": lambda: torch.tensor([inf, 1.5, -2.25]),
    "nan_sci": lambda: torch.tensor([nan, 1e-6, 1.0]),
    "inf_big": lambda: torch.tensor([-inf, 1e10, 3.5]),
    "nan_grid": _with([nan, inf, -inf, 0.0, -0.0], [0, 3, 7, 11, 19]),
    "inf_only_finite_zero": lambda: torch.tensor([inf, 0.0]),
    # 0-dim and scalars
    "scalar_float": lambda: torch.tensor(3.14159),
    "scalar_big": lambda: torch.tensor(1.5e20),
    "scalar_int": lambda: torch.tensor(7),
    "scalar_int_neg": lambda: torch.tensor(-12345678901),
    "scalar_true": lambda: torch.tensor(True),
    "scalar_false": lambda: torch.tensor(False),
    "scalar_f64": lambda: torch.tensor(2.5, dtype=torch.float64),
    "scalar_f16": lambda: torch.tensor(2.5, dtype=torch.float16),
    "scalar_i32": lambda: torch.tensor(5, dtype=torch.int32),
    # integers and bools
    "arange": lambda: torch.arange(10),
    "arange_neg": lambda: torch.arange(-5, 5),
    "ints_large": lambda: torch.tensor([1, -2, 3_000_000_000, -9_223_372_036_854_775_807]),
    "ints_2d": lambda: torch.randint(-1000, 1000, (4, 6)),
    "int32": lambda: torch.arange(-3, 3, dtype=torch.int32),
    "int16": lambda: torch.tensor([-300, 2, 32000], dtype=torch.int16),
    "int8": lambda: torch.tensor([-128, 0, 127], dtype=torch.int8),
    "uint8": lambda: torch.tensor([0, 17, 255], dtype=torch.uint8),
    "uint8_2d": lambda: torch.randint(0, 255, (3, 3), dtype=torch.uint8),
    "bools": lambda: torch.tensor([True, False, True]),
    "bools_2d": lambda: torch.randn(3, 4) > 0,
    # other float dtypes
    "f64_vec": lambda: torch.randn(6, dtype=torch.float64),
    "f64_integral": lambda: torch.tensor([1.0, 2.0], dtype=torch.float64),
    "f64_big": lambda: torch.randn(3, 3, dtype=torch.float64) * 1e12,
    "f16_vec": lambda: torch.randn(6).half(),
    "f16_big": lambda: torch.tensor([60000.0, 1.0, -0.001], dtype=torch.float16),
    "f16_2d": lambda: (torch.randn(3, 4) * 100).half(),
    "bf16_vec": lambda: torch.randn(5).bfloat16(),
    "bf16_integral": lambda: torch.tensor([1.0, 256.0, -8.0], dtype=torch.bfloat16),
    # complex
    "complex64": lambda: torch.tensor([1 + 2j, -0.5 - 3j]),
    "complex64_scalar": lambda: torch.tensor(1.5 + 0j, dtype=torch.complex64),
    "complex128": lambda: torch.randn(3, dtype=torch.complex128),
    "complex_2d_sci": lambda: torch.randn(2, 3, dtype=torch.complex64) * 1e6,
    # empty tensors
    "empty_1d": lambda: torch.tensor([]),
    "empty_0x3": lambda: torch.empty(0, 3),
    "empty_3x0": lambda: torch.empty(3, 0),
    "empty_2x0x4": lambda: torch.empty(2, 0, 4),
    "empty_int64": lambda: torch.tensor([], dtype=torch.int64),
    "empty_bool": lambda: torch.empty(0, dtype=torch.bool),
    "empty_f64_2d": lambda: torch.empty(0, 2, dtype=torch.float64),
    "empty_uint8": lambda: torch.empty(1, 0, dtype=torch.uint8),
    "empty_f16": lambda: torch.empty(0, dtype=torch.float16),
    # shapes up to 4-d
    "row": lambda: torch.randn(1, 5),
    "column": lambda: torch.randn(5, 1),
    "singleton_3d": lambda: torch.randn(1, 1, 1),
    "3d": lambda: torch.randn(2, 3, 4),
    "3d_ints": lambda: torch.arange(24).reshape(2, 3, 4),
    "4d": lambda: torch.randn(2, 2, 2, 3),
    "4d_bool": lambda: torch.randn(2, 1, 3, 2) > 0,
    "4d_sci": lambda: torch.randn(2, 2, 3, 2) * 1e-7,
    # line wrapping of long rows
    "wrap_1d": lambda: torch.randn(40),
    "wrap_1d_ints": lambda: torch.arange(100),
    "wrap_1d_big_ints": lambda: torch.arange(100) * 1_000_000,
    "wrap_2d": lambda: torch.randn(3, 25),
    "wrap_3d": lambda: torch.randn(2, 2, 30),
    "wrap_f64": lambda: torch.randn(30, dtype=torch.float64) * 1e5,
    # summarisation
    "summ_2000": lambda: torch.randn(2000),
    "summ_arange_2000": lambda: torch.arange(2000),
    "summ_1001": lambda: torch.arange(1001.0),
    "exactly_1000": lambda: torch.arange(1000),
    "summ_50x50": lambda: torch.randn(50, 50),
    "summ_50x50_ints": lambda: torch.arange(2500).reshape(50, 50),
    "summ_10x200": lambda: torch.randn(10, 200),
    "summ_200x6": lambda: torch.randn(200, 6),
    "summ_3d": lambda: torch.randn(20, 20, 20),
    "summ_4d": lambda: torch.randn(8, 8, 8, 8),
    "summ_bool": lambda: torch.randn(40, 40) > 0,
    "summ_edges_decide_mode": lambda: torch.cat([torch.ones(3), torch.full((2000,), 1e-9), torch.ones(3)]),
    "summ_f64_sci": lambda: torch.randn(100, 100, dtype=torch.float64) * 1e10,
    "summ_nan": lambda: torch.cat([torch.tensor([nan]), torch.randn(1500), torch.tensor([inf])]),
    "summ_1000x1000": lambda: torch.randn(1000, 1000),
    # suffixes that wrap onto the next line
    "suffix_wrap_dtype": lambda: torch.randn(8, dtype=torch.float64),
    "suffix_wrap_int32": lambda: torch.arange(17, dtype=torch.int32),
    "suffix_2d_dtype": lambda: torch.randn(3, 8, dtype=torch.float64),
}

GRAD = {
    "requires_grad": lambda: torch.randn(3, requires_grad=True),
    "requires_grad_scalar": lambda: torch.tensor(2.0, requires_grad=True),
    "requires_grad_f64": lambda: torch.randn(4, dtype=torch.float64, requires_grad=True),
    "requires_grad_wrap": lambda: torch.randn(7, requires_grad=True),
    "requires_grad_empty": lambda: torch.empty(0, 2, requires_grad=True),
    "sum_backward": lambda: (torch.randn(3, requires_grad=True) * 2).sum(),
    "mul_backward": lambda: torch.randn(3, requires_grad=True) * 2,
    "add_backward_2d": lambda: torch.randn(2, 3, requires_grad=True) + 1,
    "mean_backward": lambda: torch.randn(4, requires_grad=True).mean(),
    "f64_mul_backward": lambda: torch.randn(6, dtype=torch.float64, requires_grad=True) * 3,
    "view_backward": lambda: torch.randn(6, requires_grad=True).view(2, 3),
    "exp_backward_wrap": lambda: torch.randn(8, dtype=torch.float64, requires_grad=True).exp(),
    "summ_grad": lambda: torch.randn(50, 50, requires_grad=True) * 1,
}


@pytest.mark.parametrize("make", list(BASIC.values()), ids=list(BASIC))
def test_matches_torch(make):
    check(_seeded(make)())


@pytest.mark.parametrize("make", list(GRAD.values()), ids=list(GRAD))
def test_autograd_suffixes(make):
    t = _seeded(make)()
    assert ember_repr(t) == repr(t)


# ------------------------------------------------------------------------------ print options

OPTION_SETS = {
    "precision2": {"precision": 2},
    "precision0": {"precision": 0},
    "precision8": {"precision": 8},
    "sci_on": {"sci_mode": True},
    "sci_off": {"sci_mode": False},
    "sci_on_precision2": {"sci_mode": True, "precision": 2},
    "threshold5": {"threshold": 5},
    "threshold5_edge1": {"threshold": 5, "edgeitems": 1},
    "edge0": {"threshold": 5, "edgeitems": 0},
    "edge0_default_threshold": {"edgeitems": 0},
    "edge5": {"edgeitems": 5},
    "linewidth30": {"linewidth": 30},
    "linewidth200": {"linewidth": 200},
    "linewidth5": {"linewidth": 5},
    "profile_full": {"profile": "full"},
    "profile_short": {"profile": "short"},
    "profile_short_override": {"profile": "short", "precision": 6},
}

OPTION_TENSORS = {
    "randn": lambda: torch.randn(6) * 10,
    "sci_range": lambda: torch.tensor([1e-6, 1.0, 1e6]),
    "integral": lambda: torch.tensor([1.0, 250.0, -3.0]),
    "zeros_nan": lambda: torch.tensor([0.0, nan]),
    "ints": lambda: torch.arange(30),
    "2d_big": lambda: torch.randn(40, 40) * 1e3,
    "3d": lambda: torch.randn(4, 5, 6),
    "scalar": lambda: torch.tensor(1234.5678),
    "f64_grad": lambda: torch.randn(12, dtype=torch.float64, requires_grad=True) * 2,
}


@pytest.mark.parametrize("opts", list(OPTION_SETS.values()), ids=list(OPTION_SETS))
@pytest.mark.parametrize("make", list(OPTION_TENSORS.values()), ids=list(OPTION_TENSORS))
def test_printoptions_match_torch(make, opts):
    t = _seeded(make)()
    torch.set_printoptions(**opts)
    P.set_printoptions(**opts)
    assert ember_repr(t) == repr(t)


def test_full_profile_large():
    t = _seeded(lambda: torch.randn(40, 40))()
    torch.set_printoptions(profile="full")
    P.set_printoptions(profile="full")
    assert ember_repr(t) == repr(t)
    assert "..." not in repr(t)


def test_get_set_printoptions_match_torch():
    assert P.get_printoptions() == torch._tensor_str.get_printoptions()
    for kwargs in ({"precision": 2, "sci_mode": True}, {"profile": "full"}, {"profile": "short"}, {}):
        torch.set_printoptions(**kwargs)
        P.set_printoptions(**kwargs)
        assert P.get_printoptions() == torch._tensor_str.get_printoptions()
    # Any call without sci_mode resets it, as in torch.
    P.set_printoptions(sci_mode=True)
    P.set_printoptions(precision=3)
    assert P.get_printoptions()["sci_mode"] is None


def test_unknown_profile_is_ignored():
    P.set_printoptions(profile="nonsense")
    assert P.get_printoptions() == dataclasses_defaults()


def dataclasses_defaults() -> dict:
    return {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80, "sci_mode": None}


def test_printoptions_context_manager():
    t = torch.tensor([1.23456, 2.0])
    with P.printoptions(precision=2), torch._tensor_str.printoptions(precision=2):
        assert ember_repr(t) == repr(t) == "tensor([1.23, 2.00])"
    assert P.get_printoptions() == dataclasses_defaults()
    with pytest.raises(RuntimeError), P.printoptions(threshold=1):
        raise RuntimeError
    assert P.get_printoptions()["threshold"] == 1000


# ------------------------------------------------------------------------------ default dtype float64

DEFAULT_F64 = {
    "f32_vec": lambda: torch.randn(3, dtype=torch.float32),
    "f32_wrap": lambda: torch.randn(7, dtype=torch.float32),
    "f64_vec": lambda: torch.randn(3, dtype=torch.float64),
    "f16_vec": lambda: torch.randn(3).half(),
    "ints": lambda: torch.arange(4),
    "bools": lambda: torch.tensor([True]),
    "int32": lambda: torch.arange(4, dtype=torch.int32),
    "empty_default": lambda: torch.empty(0),
    "empty_f32": lambda: torch.empty(0, 3, dtype=torch.float32),
    "empty_int64": lambda: torch.empty(0, dtype=torch.int64),
    "complex64": lambda: torch.tensor([1 + 1j], dtype=torch.complex64),
    "complex128": lambda: torch.tensor([1 + 1j], dtype=torch.complex128),
    "f32_grad_fn": lambda: torch.randn(3, dtype=torch.float32, requires_grad=True).sum(),
}


@pytest.mark.parametrize("make", list(DEFAULT_F64.values()), ids=list(DEFAULT_F64))
def test_default_dtype_float64(make):
    torch.set_default_dtype(torch.float64)
    t = _seeded(make)()
    assert ember_repr(t) == repr(t)


# ------------------------------------------------------------------------------ device, meta, Parameter


def test_cuda_device_suffix():
    arr = np.array([1.0, 2.0], dtype=np.float32)
    assert P.tensor_repr(arr, "float32", device="cuda:0") == "tensor([1., 2.], device='cuda:0')"
    assert P.tensor_repr(arr, "float32", device="cuda") == "tensor([1., 2.], device='cuda:0')"
    got = P.tensor_repr(arr.astype(np.float64), "float64", device="cuda:1", requires_grad=True)
    assert got == "tensor([1., 2.], device='cuda:1', dtype=torch.float64, requires_grad=True)"


def test_cuda_device_suffix_wraps():
    # Same layout torch produces: the device suffix goes on its own line when the row is full.
    t = _seeded(lambda: torch.randn(7))()
    cpu = repr(t)
    assert cpu.endswith(")") and "\n" not in cpu
    got = P.tensor_repr(t.numpy(), "float32", device="cuda:0")
    assert got == cpu[:-1] + ",\n       device='cuda:0')"


@pytest.mark.parametrize(
    ("shape", "dtype"),
    [((2, 3), torch.float32), ((2, 3), torch.int64), ((0,), torch.float32), ((), torch.float16)],
)
def test_meta_device(shape, dtype):
    t = torch.empty(shape, dtype=dtype, device="meta")
    got = P.tensor_repr(np.empty(shape), _dtype_name(dtype), device="meta")
    assert got == repr(t)


@pytest.mark.parametrize("requires_grad", [True, False])
@pytest.mark.parametrize(
    "make",
    [lambda: torch.ones(2), lambda: torch.randn(3, 4, dtype=torch.float64), lambda: torch.randn(9)],
    ids=["ones", "f64_2d", "wrap"],
)
def test_parameter_repr(make, requires_grad):
    data = _seeded(make)()
    p = torch.nn.Parameter(data, requires_grad=requires_grad)
    got = P.parameter_repr(p.detach().numpy(), _dtype_name(p.dtype), requires_grad=requires_grad)
    assert got == repr(p)
    assert (
        repr(torch.nn.Parameter(torch.ones(2)))
        == "Parameter containing:\ntensor([1., 1.], requires_grad=True)"
    )


def test_custom_prefix():
    got = P.tensor_repr(np.arange(3.0, dtype=np.float32), "float32", prefix="Foo(")
    assert got == "Foo([0., 1., 2.])"


def test_dtype_name_with_torch_prefix():
    got = P.tensor_repr(np.arange(3.0), "torch.float64", default_dtype_name="torch.float32")
    assert got == "tensor([0., 1., 2.], dtype=torch.float64)"


# ------------------------------------------------------------------------------ speed


def test_huge_tensor_formats_only_edges():
    import time

    arr = np.random.default_rng(0).standard_normal((2000, 2000)).astype(np.float32)
    start = time.perf_counter()
    out = P.tensor_repr(arr, "float32")
    assert time.perf_counter() - start < 0.5
    assert out.count("\n") == 6
