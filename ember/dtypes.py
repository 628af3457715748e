"""dtype objects, the default dtype, and PyTorch's type promotion."""

from __future__ import annotations

from ._backend import np

__all__ = ["dtype", "get_default_dtype", "set_default_dtype", "promote_types", "result_type"]


class dtype:
    """A tensor element type with PyTorch's name, e.g. ``torch.float32``."""

    __slots__ = ("name", "np", "itemsize", "is_floating_point", "is_signed", "is_complex", "_cat", "_legacy")

    def __init__(self, name: str, np_dtype, category: int, legacy: str | None):
        self.name = name
        self.np = np.dtype(np_dtype) if np_dtype is not None else None
        self.itemsize = self.np.itemsize if self.np is not None else 2
        self._cat = category  # 0 bool, 1 integer, 2 floating: what promotion compares first
        self.is_floating_point = category == 2
        self.is_complex = False
        self.is_signed = name not in ("bool", "uint8")
        self._legacy = legacy  # the legacy type name, e.g. "FloatTensor"

    def __repr__(self) -> str:
        return f"torch.{self.name}"

    def __reduce__(self):
        return (_by_name, (self.name,))

    def to_real(self) -> dtype:
        return self

    @property
    def is_integer(self) -> bool:
        return self._cat == 1


class _LazyDtype(dtype):
    """bfloat16: its NumPy dtype comes from the optional ml_dtypes package, imported on first use
    (importing it costs more than the rest of ``import ember``)."""

    __slots__ = ()

    def __init__(self, name: str, category: int, legacy: str):
        super().__init__(name, None, category, legacy)
        del self.np  # unset: the first read of ``.np`` lands in __getattr__

    def __getattr__(self, attr: str):
        if attr != "np":
            raise AttributeError(attr)
        try:
            import ml_dtypes  # noqa: PLC0415 - optional extra

            self.np = np.dtype(ml_dtypes.bfloat16)
            FROM_NP[self.np] = self
        except ImportError:
            self.np = None
        return self.np


class _FromNp(dict):
    """numpy dtype -> ember dtype. A bfloat16 array can arrive before ``bfloat16.np`` was read."""

    def __missing__(self, key):
        if getattr(key, "name", None) == "bfloat16" and bfloat16.np is not None and key == bfloat16.np:
            return bfloat16
        raise KeyError(key)


bool_ = dtype("bool", np.bool_, 0, "BoolTensor")
uint8 = dtype("uint8", np.uint8, 1, "ByteTensor")
int8 = dtype("int8", np.int8, 1, "CharTensor")
int16 = dtype("int16", np.int16, 1, "ShortTensor")
int32 = dtype("int32", np.int32, 1, "IntTensor")
int64 = dtype("int64", np.int64, 1, "LongTensor")
float16 = dtype("float16", np.float16, 2, "HalfTensor")
float32 = dtype("float32", np.float32, 2, "FloatTensor")
float64 = dtype("float64", np.float64, 2, "DoubleTensor")
bfloat16 = _LazyDtype("bfloat16", 2, "BFloat16Tensor")

ALL = (bool_, uint8, int8, int16, int32, int64, float16, float32, float64, bfloat16)
_NAMES = {d.name: d for d in ALL}
# numpy dtype -> ember dtype, the lookup every new tensor makes
FROM_NP = _FromNp({d.np: d for d in ALL if d is not bfloat16})

ALIASES = {
    "float": float32,
    "double": float64,
    "half": float16,
    "long": int64,
    "int": int32,
    "short": int16,
    "bool": bool_,
    "uint8": uint8,
}


def _by_name(name: str) -> dtype:
    return _NAMES[name]


def from_np(np_dtype) -> dtype:
    try:
        return FROM_NP[np_dtype]
    except KeyError:
        d = np.dtype(np_dtype)
        if d in FROM_NP:
            return FROM_NP[d]
        raise TypeError(
            f"can't convert np.ndarray of type numpy.{d.name}. The only supported types are: "
            "float64, float32, float16, int64, int32, int16, int8, uint8, and bool."
        ) from None


class _DefaultDtype:
    value: dtype = float32


_default = _DefaultDtype()


def get_default_dtype() -> dtype:
    """The dtype of floating tensors created from Python floats (float32 unless changed)."""
    return _default.value


def set_default_dtype(d: dtype) -> None:
    if not isinstance(d, dtype) or d not in (float16, float32, float64, bfloat16):
        raise TypeError(f"only floating-point types are supported as the default type, got {d}")
    _default.value = d


# Promotion lattice: the index order below is PyTorch's promoteTypes table for the real types.
_ORDER = (uint8, int8, int16, int32, int64, float16, float32, float64, bool_, bfloat16)
_u1, _i1, _i2, _i4, _i8, _f2, _f4, _f8, _b1, _bf = range(10)
_TABLE = (
    # u1   i1   i2   i4   i8   f2   f4   f8   b1   bf
    (_u1, _i2, _i2, _i4, _i8, _f2, _f4, _f8, _u1, _bf),  # u1
    (_i2, _i1, _i2, _i4, _i8, _f2, _f4, _f8, _i1, _bf),  # i1
    (_i2, _i2, _i2, _i4, _i8, _f2, _f4, _f8, _i2, _bf),  # i2
    (_i4, _i4, _i4, _i4, _i8, _f2, _f4, _f8, _i4, _bf),  # i4
    (_i8, _i8, _i8, _i8, _i8, _f2, _f4, _f8, _i8, _bf),  # i8
    (_f2, _f2, _f2, _f2, _f2, _f2, _f4, _f8, _f2, _f4),  # f2
    (_f4, _f4, _f4, _f4, _f4, _f4, _f4, _f8, _f4, _f4),  # f4
    (_f8, _f8, _f8, _f8, _f8, _f8, _f8, _f8, _f8, _f8),  # f8
    (_u1, _i1, _i2, _i4, _i8, _f2, _f4, _f8, _b1, _bf),  # b1
    (_bf, _bf, _bf, _bf, _bf, _f4, _f4, _f8, _bf, _bf),  # bf
)
_INDEX = {d: i for i, d in enumerate(_ORDER)}


def promote_types(a: dtype, b: dtype) -> dtype:
    """The smallest dtype both ``a`` and ``b`` convert to safely (``torch.promote_types``)."""
    if a is b:
        return a
    return _ORDER[_TABLE[_INDEX[a]][_INDEX[b]]]


def _combine(higher: dtype | None, lower: dtype | None) -> dtype | None:
    """Merge two promotion tiers: a lower tier only matters when its category is higher."""
    if higher is None:
        return lower
    if lower is None or higher.is_floating_point:
        return higher
    if higher is bool_ or lower.is_floating_point:
        return promote_types(higher, lower)
    return higher


def scalar_dtype(x) -> dtype:
    """The dtype a Python scalar takes part in promotion as (floats as the default dtype)."""
    if isinstance(x, bool):
        return bool_
    if isinstance(x, int):
        return int64
    if isinstance(x, float):
        return _default.value
    if isinstance(x, complex):
        raise TypeError("ember does not support complex numbers")
    if isinstance(x, np.generic):
        return scalar_dtype(x.item())
    raise TypeError(f"unsupported operand type: {type(x).__name__}")


def result_type(*operands) -> dtype:
    """PyTorch's result dtype for tensors and Python scalars: dim>0 tensors, then 0-dim, then scalars."""
    dim = zero = wrapped = None
    for x in operands:
        d = getattr(x, "dtype", None)
        if isinstance(d, dtype):
            if x.ndim:
                dim = d if dim is None else promote_types(dim, d)
            else:
                zero = d if zero is None else promote_types(zero, d)
        else:
            s = scalar_dtype(x)
            wrapped = s if wrapped is None else promote_types(wrapped, s)
    return _combine(dim, _combine(zero, wrapped))


def cast_array(a, dst: dtype):
    """``a.astype(dst.np)``; to bfloat16 through float32, as c10 builds a BFloat16 from a float (a float64
    just above a bfloat16 tie rounds to the tie's even side in torch, not up)."""
    if dst is bfloat16 and a.dtype.itemsize >= 4 and a.dtype != np.float32:
        a = a.astype(np.float32)
    return a.astype(dst.np)


def can_cast(src: dtype, dst: dtype) -> bool:
    """Whether an in-place op may write a ``src`` result into ``dst`` (no category downgrade)."""
    return src._cat <= dst._cat


def to_dtype(x) -> dtype:
    """Accept an ember dtype, a legacy tensor type, a numpy dtype, a string or a Python type."""
    if isinstance(x, dtype):
        return x
    legacy = getattr(x, "_ember_dtype", None)
    if legacy is not None:
        return legacy
    if x is float:
        return float64
    if x is int:
        return int64
    if x is bool:
        return bool_
    if isinstance(x, str):
        name = x.removeprefix("torch.")
        if name in _NAMES:
            return _NAMES[name]
        if name in ALIASES:
            return ALIASES[name]
        raise TypeError(f"invalid dtype string: {x!r}")
    return from_np(np.dtype(x))
