"""ember: PyTorch's core (tensors, autograd, nn, optim) in readable Python on NumPy.

``import ember as torch`` runs tutorial-style PyTorch programs; ``python -m ember run script.py``
runs an unmodified script with ``torch`` resolved to ember.
"""

from __future__ import annotations

__version__ = "0.1.0"

import builtins as _builtins

from . import (
    _methods,  # noqa: F401 - attaches the Tensor methods
    autograd,
    cuda,
)
from ._backend import Device as device
from ._printing import get_printoptions, set_printoptions
from .autograd import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .autograd.grad_mode import is_inference_mode_enabled
from .creation import LEGACY as _LEGACY
from .creation import (
    arange,
    as_tensor,
    asarray,
    bernoulli,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    logspace,
    multinomial,
    normal,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
    tensor,
    zeros,
    zeros_like,
)  # fmt: skip
from .dtypes import (
    bfloat16,
    dtype,
    float16,
    float32,
    float64,
    get_default_dtype,
    int8,
    int16,
    int32,
    int64,
    promote_types,
    result_type,
    set_default_dtype,
    uint8,
)  # fmt: skip
from .dtypes import bool_ as bool  # noqa: A001 - PyTorch's name
from .ops.decomp import det, inverse, logdet, slogdet
from .ops.elementwise import (
    abs,
    acos,
    acosh,
    add,
    asin,
    asinh,
    atan,
    atanh,
    bitwise_and,
    bitwise_left_shift,
    bitwise_not,
    bitwise_or,
    bitwise_right_shift,
    bitwise_xor,
    ceil,
    clamp,
    clamp_max,
    clamp_min,
    cos,
    cosh,
    div,
    eq,
    exp,
    exp2,
    expm1,
    floor,
    floor_divide,
    fmod,
    frac,
    ge,
    gt,
    isfinite,
    isinf,
    isnan,
    le,
    log,
    log1p,
    log2,
    log10,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    lt,
    masked_fill,
    maximum,
    minimum,
    mul,
    ne,
    neg,
    pow,
    reciprocal,
    relu,
    remainder,
    round,
    rsqrt,
    rsub,
    sigmoid,
    sign,
    sin,
    sinh,
    sqrt,
    square,
    sub,
    tan,
    tanh,
    trunc,
    where,
)  # fmt: skip
from .ops.indexing import (
    argwhere,
    gather,
    index_add,
    index_copy,
    index_fill,
    index_put,
    index_select,
    masked_select,
    nonzero,
    scatter,
    scatter_add,
    take,
    take_along_dim,
)  # fmt: skip
from .ops.inplace import as_strided
from .ops.linalg import (
    addbmm,
    addmm,
    addmv,
    baddbmm,
    bmm,
    cross,
    dot,
    einsum,
    ger,
    kron,
    matmul,
    mm,
    mv,
    outer,
    tensordot,
)
from .ops.nn_ops import erf, log_softmax, softmax
from .ops.reduction import (
    all,
    amax,
    amin,
    any,
    argmax,
    argmin,
    count_nonzero,
    cumprod,
    cumsum,
    logsumexp,
    max,
    mean,
    min,
    nanmean,
    nansum,
    norm,
    prod,
    std,
    std_mean,
    sum,
    trace,
    var,
    var_mean,
)  # fmt: skip
from .ops.scatter import masked_scatter, scatter_reduce
from .ops.shape import (
    atleast_1d,
    atleast_2d,
    atleast_3d,
    broadcast_tensors,
    broadcast_to,
    cat,
    chunk,
    clone,
    concat,
    concatenate,
    diag,
    diag_embed,
    diagonal,
    dstack,
    flatten,
    flip,
    fliplr,
    flipud,
    hstack,
    meshgrid,
    moveaxis,
    movedim,
    narrow,
    permute,
    ravel,
    repeat_interleave,
    reshape,
    roll,
    rot90,
    select,
    split,
    squeeze,
    stack,
    swapaxes,
    swapdims,
    t,
    tensor_split,
    tile,
    transpose,
    tril,
    triu,
    unbind,
    unflatten,
    unsqueeze,
    vstack,
)  # fmt: skip
from .ops.sorting import argsort, cummax, cummin, kthvalue, median, mode, msort, quantile, sort, topk, unique
from .ops.special import (
    atan2,
    copysign,
    digamma,
    erfc,
    erfinv,
    hypot,
    lerp,
    lgamma,
    logaddexp,
    nan_to_num,
    polygamma,
    xlogy,
)
from .random import (
    Generator,
    default_generator,
    get_rng_state,
    initial_seed,
    manual_seed,
    seed,
    set_rng_state,
)
from .tensor import Size, Tensor

float = float32  # noqa: A001
double = float64
half = float16
long = int64
int = int32  # noqa: A001
short = int16
FloatTensor = _LEGACY["FloatTensor"]
DoubleTensor = _LEGACY["DoubleTensor"]
HalfTensor = _LEGACY["HalfTensor"]
LongTensor = _LEGACY["LongTensor"]
IntTensor = _LEGACY["IntTensor"]
ShortTensor = _LEGACY["ShortTensor"]
CharTensor = _LEGACY["CharTensor"]
ByteTensor = _LEGACY["ByteTensor"]
BoolTensor = _LEGACY["BoolTensor"]
BFloat16Tensor = _LEGACY["BFloat16Tensor"]
strided = "torch.strided"
contiguous_format = preserve_format = channels_last = None
clip = clamp
absolute = abs
negative = neg
multiply = mul
subtract = sub
divide = div
true_divide = div
arcsin, arccos, arctan = asin, acos, atan
arcsinh, arccosh, arctanh = asinh, acosh, atanh
arctan2 = atan2


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def numel(input: Tensor) -> int:
    return input.numel()


def is_floating_point(input: Tensor) -> bool:
    return input.dtype.is_floating_point


def equal(input: Tensor, other: Tensor) -> bool:
    return input.shape == other.shape and _builtins.bool((input == other).all())


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    from ._backend import np as _np  # noqa: PLC0415

    return _builtins.bool(
        _np.allclose(
            input.detach().numpy(), other.detach().numpy(), rtol=rtol, atol=atol, equal_nan=equal_nan
        )
    )


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> Tensor:
    from ._backend import np as _np  # noqa: PLC0415
    from .tensor import _wrap  # noqa: PLC0415

    o = other._data if isinstance(other, Tensor) else other
    return _wrap(
        _np.asarray(_np.isclose(input._data, o, rtol=rtol, atol=atol, equal_nan=equal_nan)),
        bool,
        input.device,
    )


def set_num_threads(n: int) -> None:
    """Accepted for compatibility; NumPy's BLAS threads are set by its environment variables."""


def get_num_threads() -> int:
    return 1


def is_nonzero(input: Tensor) -> bool:
    return _builtins.bool(input)


def __getattr__(name: str):
    # submodules that are loaded on first use keep ``import ember`` fast
    import importlib  # noqa: PLC0415

    if name in ("nn", "optim", "utils", "compat", "linalg", "serialization", "backends"):
        return importlib.import_module(f".{name}", __name__)
    if name in ("save", "load"):  # serialization is loaded on first use, keeping the import fast
        return getattr(importlib.import_module(".serialization", __name__), name)
    raise AttributeError(f"module 'ember' has no attribute '{name}'")
