"""Tensor creation: tensor, zeros, ones, full, arange, linspace, eye, rand*, *_like, from_numpy."""

from __future__ import annotations

import builtins

from . import _backend as B
from . import dtypes as D
from ._backend import np
from .tensor import Tensor, _wrap


def _dev(device):
    return B.canonical(device)


def _dtype(dtype, default=None):
    if dtype is None:
        return default if default is not None else D.get_default_dtype()
    return D.to_dtype(dtype)


def _size(size):
    if (
        len(size) == 1
        and isinstance(size[0], (tuple, list, Tensor))
        or len(size) == 1
        and hasattr(size[0], "__iter__")
    ):
        size = tuple(size[0])
    out = []
    for s in size:
        if isinstance(s, Tensor):
            s = s.item()
        if not isinstance(s, (int, np.integer)) or isinstance(s, bool):
            raise TypeError(
                "empty(): argument 'size' must be tuple of ints, but found element of type "
                f"{type(s).__name__}"
            )
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(size)}")
        out.append(int(s))
    return tuple(out)


def _finish(data, dt, device, requires_grad=False):
    dev = _dev(device)
    if dev.type != "cpu":
        data = B.to_device(data, dev)
    t = _wrap(data, dt, dev)
    if requires_grad:
        if not dt.is_floating_point:
            raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
        t._rg = True
    return t


_PY_SCALARS = {bool: 0, int: 1, float: 2}


def _infer_dtype(data) -> D.dtype:
    """PyTorch's inference: Python floats take the default dtype, ints int64, bools bool; NumPy values
    and tensors their own dtype; a sequence promotes its items' dtypes (an empty one is the default)."""
    if isinstance(data, (list, tuple)):
        if not data:
            return D.get_default_dtype()
        kinds = {_PY_SCALARS.get(type(x), -1) for x in data}
        if -1 not in kinds:  # the common case: a flat list of Python numbers
            return (D.bool_, D.int64, D.get_default_dtype())[builtins.max(kinds)]
        dt = None
        for x in data:
            d = _infer_dtype(x)
            dt = d if dt is None else D.promote_types(dt, d)
        return dt
    if isinstance(data, Tensor):
        return data.dtype
    if isinstance(data, (np.ndarray, np.generic)):
        return D.from_np(data.dtype)
    kind = _PY_SCALARS.get(type(data))
    if kind is not None:
        return (D.bool_, D.int64, D.get_default_dtype())[kind]
    if isinstance(data, bool):
        return D.bool_
    if isinstance(data, int):
        return D.int64
    if isinstance(data, float):
        return D.get_default_dtype()
    if isinstance(data, complex):
        raise TypeError("ember does not support complex tensors")
    if isinstance(data, str):
        raise ValueError("too many dimensions 'str'")
    raise RuntimeError(f"Could not infer dtype of {type(data).__name__}")


def _ragged_message(data) -> str:
    """PyTorch's message for nested lists of unequal lengths: sizes come from the first elements."""
    sizes = []
    x = data
    while isinstance(x, (list, tuple)):
        sizes.append(len(x))
        if not x:
            break
        x = x[0]

    def check(x, dim):
        if dim == len(sizes):
            return None
        if not isinstance(x, (list, tuple, np.ndarray, Tensor)):
            return "not a sequence"
        if len(x) != sizes[dim]:
            return f"expected sequence of length {sizes[dim]} at dim {dim} (got {len(x)})"
        for y in x:
            msg = check(y, dim + 1)
            if msg is not None:
                return msg
        return None

    return check(data, 0) or "expected sequences of equal length"


def _to_array(data):
    if isinstance(data, Tensor):
        return B.to_host(data._data)
    if isinstance(data, (list, tuple)) and any(isinstance(x, Tensor) for x in data):
        return np.array([_to_array(x) for x in data])
    return data


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False) -> Tensor:
    """A new tensor holding a copy of ``data`` (nested lists, numbers, arrays or tensors).

    Example::

        >>> torch.tensor([[1., 2.], [3., 4.]])
        tensor([[1., 2.],
                [3., 4.]])
    """
    if isinstance(data, Tensor):
        import warnings  # noqa: PLC0415

        warnings.warn(
            "To copy construct from a tensor, it is recommended to use sourceTensor.detach().clone() or "
            "sourceTensor.detach().clone().requires_grad_(True), rather than torch.tensor(sourceTensor).",
            UserWarning,
            stacklevel=2,
        )
        dt = data.dtype if dtype is None else D.to_dtype(dtype)
        arr = B.to_host(data._data).astype(dt.np, copy=True)
    elif isinstance(data, np.ndarray) or isinstance(data, np.generic):
        arr = np.array(data, copy=True)
        dt = D.from_np(arr.dtype) if dtype is None else D.to_dtype(dtype)
        arr = D.cast_array(arr, dt) if dt is D.bfloat16 else arr.astype(dt.np, copy=False)
    else:
        dt = _infer_dtype(data) if dtype is None else D.to_dtype(dtype)
        try:
            arr = np.array(_to_array(data), dtype=dt.np if dt is not D.bfloat16 else np.float32).astype(dt.np)
        except ValueError:
            msg = _ragged_message(data)
            raise (TypeError if msg == "not a sequence" else ValueError)(msg) from None
        except OverflowError:
            raise ValueError("Overflow when unpacking long long") from None
    return _finish(arr, dt, device, requires_grad)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like ``tensor`` but shares memory with a NumPy array or tensor when no conversion is needed."""
    if isinstance(data, Tensor):
        out = data
        if dtype is not None or device is not None:
            out = data.to(device=device, dtype=dtype)
        return out
    if (
        isinstance(data, np.ndarray)
        and (dtype is None or D.to_dtype(dtype).np == data.dtype)
        and _dev(device).type == "cpu"
    ):
        return from_numpy(data)
    return tensor(data, dtype=dtype, device=device)


asarray = as_tensor


def from_numpy(ndarray) -> Tensor:
    """A tensor sharing memory with ``ndarray``: writes to either are seen by the other."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    return _wrap(ndarray, D.from_np(ndarray.dtype))


def _filled(fill, size, dtype, device, requires_grad, default=None):
    dt = _dtype(dtype, default)
    shape = _size(size)
    xp = B.xp_for(_dev(device))
    if fill is None:
        data = xp.empty(shape, dt.np)
    elif fill == 0:
        data = xp.zeros(shape, dt.np)
    elif fill == 1:
        data = xp.ones(shape, dt.np)
    else:
        data = xp.full(shape, fill, dt.np)
    return _finish(data, dt, device, requires_grad)


def zeros(
    *size, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False
) -> Tensor:
    if len(size) == 1 and isinstance(size[0], int) and size[0] < 0:
        raise RuntimeError("zeros: Dimension size must be non-negative.")
    return _filled(0, size, dtype, device, requires_grad)


def ones(
    *size, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False
) -> Tensor:
    return _filled(1, size, dtype, device, requires_grad)


def empty(
    *size,
    out=None,
    dtype=None,
    layout=None,
    device=None,
    requires_grad=False,
    pin_memory=False,
    memory_format=None,
) -> Tensor:
    return _filled(0, size, dtype, device, requires_grad)


def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None, requires_grad=False) -> Tensor:
    if dtype is None:
        dtype = D.scalar_dtype(fill_value.item() if isinstance(fill_value, Tensor) else fill_value)
    v = fill_value.item() if isinstance(fill_value, Tensor) else fill_value
    dt = _dtype(dtype)
    xp = B.xp_for(_dev(device))
    return _finish(
        xp.full(_size((size,) if isinstance(size, int) else (size,)), v, dt.np), dt, device, requires_grad
    )


def _like(input, dtype):
    return input.dtype if dtype is None else D.to_dtype(dtype)


def zeros_like(
    input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None
) -> Tensor:
    return zeros(
        input.shape, dtype=_like(input, dtype), device=device or input.device, requires_grad=requires_grad
    )


def ones_like(
    input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None
) -> Tensor:
    return ones(
        input.shape, dtype=_like(input, dtype), device=device or input.device, requires_grad=requires_grad
    )


def empty_like(
    input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None
) -> Tensor:
    return empty(
        input.shape, dtype=_like(input, dtype), device=device or input.device, requires_grad=requires_grad
    )


def full_like(
    input, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None
) -> Tensor:
    return full(
        input.shape,
        fill_value,
        dtype=_like(input, dtype),
        device=device or input.device,
        requires_grad=requires_grad,
    )


def arange(
    start=0, end=None, step=1, *, out=None, dtype=None, layout=None, device=None, requires_grad=False
) -> Tensor:
    """Values from ``start`` to ``end`` (exclusive) by ``step``; integer arguments give int64."""
    if end is None:
        start, end = 0, start
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if dtype is None:
        dt = D.get_default_dtype() if any(isinstance(v, float) for v in vals) else D.int64
    else:
        dt = D.to_dtype(dtype)
    s, e, st = vals
    if not dt.is_floating_point:  # an integer range takes integer bounds and step (truncated)
        s, e, st = int(s), int(e), int(st)
        if st == 0:
            raise RuntimeError("step must be nonzero")
    if (e - s > 0 and st < 0) or (e - s < 0 and st > 0):
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    n = builtins.max(int(np.ceil((e - s) / st)), 0)
    if dt.is_floating_point:
        data = _arange_float(s, st, n, dt.np)
    else:
        data = (s + np.arange(n, dtype=np.int64) * st).astype(dt.np)
    return _finish(data, dt, device, requires_grad)


# NOTE [ PyTorch's range kernels, bit for bit ]
# ATen's CPU arange computes ``start + step * i`` in the accumulate type (double for float32) with
# a fused multiply-add, but in SIMD chunks of 32 bytes (two vectors per loop turn, the tail scalar):
# each chunk's first value is rounded to the output dtype and the chunk is ``base + k * step``.
# linspace is scalar: ``start + step * i`` for the first half and ``end - step * (steps - i - 1)``
# for the second, each one fused multiply-add in the output dtype. NumPy has no fma, so ``_fma``
# below is the exact one of Boldo & Melquiond (error-free products and sums, rounding to odd).
def _two_sum(a, b):
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _split(a):
    c = 134217729.0 * a  # 2**27 + 1: Veltkamp's splitter for binary64
    hi = c - (c - a)
    return hi, a - hi


def _round_to_odd(s, err):
    """The float64 neighbour of ``s + err`` (|err| below half an ulp of s) with an odd last bit."""
    s, err = np.asarray(s, np.float64), np.asarray(err, np.float64)
    odd = (s.view(np.int64) & 1) == 1
    return np.where((err == 0) | odd, s, np.nextafter(s, np.where(err > 0, np.inf, -np.inf)))


def _fma(a, b, c, dt):
    """``a * b + c`` rounded once to ``dt`` (float32 or float64), elementwise."""
    a, b, c = (np.asarray(x, np.float64) for x in (a, b, c))
    if dt == np.float32:  # the float64 product of two float32 values is exact
        return _round_to_odd(*_two_sum(a * b, c)).astype(np.float32)
    p = a * b
    ah, al = _split(a)
    bh, bl = _split(b)
    perr = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    th, tl = _two_sum(c, p)
    return th + _round_to_odd(*_two_sum(tl, perr))


def _arange_float(start, step, n, dt):
    dt = np.dtype(dt)
    acc = np.float32 if dt.itemsize == 2 else np.float64  # ATen's acc_type on the cpu
    st, s = acc(step), acc(start)
    out = np.empty(n, dt)
    width = 32 // dt.itemsize
    chunked = (n // (2 * width)) * 2 * width
    if chunked:
        starts = np.arange(0, chunked, width)
        base = _fma(st, starts, s, acc).astype(dt).astype(acc)
        k = np.arange(width)
        out[:chunked] = _fma(k[None, :], st, base[:, None], acc).astype(dt).reshape(-1)
    out[chunked:] = _fma(st, np.arange(chunked, n), s, acc).astype(dt)
    return out


def range_(start=0, end=None, step=1, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    dt = _dtype(dtype)
    n = int(np.floor((end - start) / step)) + 1
    return _finish((start + np.arange(n) * step).astype(dt.np), dt, device, requires_grad)


def linspace(
    start, end, steps, *, out=None, dtype=None, layout=None, device=None, requires_grad=False
) -> Tensor:
    """``steps`` evenly spaced values from start to end, computed as PyTorch does (symmetric halves)."""
    dt = _dtype(dtype)
    start = start.item() if isinstance(start, Tensor) else start
    end = end.item() if isinstance(end, Tensor) else end
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    # PyTorch fills the first half from start and the second half from end (NOTE [ PyTorch's range kernels ])
    if steps == 1:
        return _finish(np.array([start]).astype(dt.np), dt, device, requires_grad)
    i = np.arange(steps)
    first = i < steps // 2
    if dt.np in (np.float32, np.float64):
        s, e = np.asarray(start).astype(dt.np), np.asarray(end).astype(dt.np)
        step = (e - s) / dt.np.type(steps - 1)
        up = _fma(step, i, s, dt.np)
        down = _fma(-step, steps - 1 - i, e, dt.np)
        data = np.where(first, up, down)
    elif dt.is_floating_point:  # half types: every operation rounds to the dtype, no fma
        t = dt.np.type
        s, e = t(start), t(end)
        step = t(t(e - s) / t(steps - 1))
        data = np.where(first, s + step * i.astype(dt.np), e - step * (steps - 1 - i).astype(dt.np))
    else:  # integer output: a double step, truncated results
        s, e = np.float64(int(start)), np.float64(int(end))
        step = (e - s) / (steps - 1)
        data = np.trunc(
            np.where(first, _fma(step, i, s, np.float64), _fma(-step, steps - 1 - i, e, np.float64))
        )
    return _finish(data.astype(dt.np), dt, device, requires_grad)


def logspace(start, end, steps, base=10.0, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    lin = linspace(start, end, steps, dtype=D.float64)
    dt = _dtype(dtype)
    return _finish(np.power(base, lin._data).astype(dt.np), dt, device, requires_grad)


def eye(n, m=None, *, out=None, dtype=None, layout=None, device=None, requires_grad=False) -> Tensor:
    dt = _dtype(dtype)
    return _finish(np.eye(n, n if m is None else m, dtype=dt.np), dt, device, requires_grad)


# -- random ----------------------------------------------------------------------------------------
def _gen(generator):
    from . import random as R  # noqa: PLC0415

    return R.default_generator if generator is None else generator


def rand(
    *size, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False
) -> Tensor:
    """Uniform samples on [0, 1), the same stream as PyTorch's CPU generator."""
    dt = _dtype(dtype)
    return _finish(_gen(generator)._uniform(_size(size), dt.np), dt, device, requires_grad)


def randn(
    *size, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False
) -> Tensor:
    """Standard normal samples, the same stream as PyTorch's CPU generator."""
    dt = _dtype(dtype)
    return _finish(_gen(generator)._normal(_size(size), dt.np), dt, device, requires_grad)


def randint(
    low=0,
    high=None,
    size=None,
    *,
    generator=None,
    out=None,
    dtype=None,
    layout=None,
    device=None,
    requires_grad=False,
) -> Tensor:
    if size is None:  # randint(high, size)
        low, high, size = 0, low, high
    dt = _dtype(dtype, D.int64)
    return _finish(_gen(generator)._randint(low, high, _size((size,)), dt.np), dt, device, requires_grad)


def randperm(
    n, *, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False
) -> Tensor:
    dt = _dtype(dtype, D.int64)
    return _finish(_gen(generator)._randperm(int(n), dt.np), dt, device, requires_grad)


def rand_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None) -> Tensor:
    return rand(
        input.shape, dtype=_like(input, dtype), device=device or input.device, requires_grad=requires_grad
    )


def randn_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None) -> Tensor:
    return randn(
        input.shape, dtype=_like(input, dtype), device=device or input.device, requires_grad=requires_grad
    )


def randint_like(input, low=0, high=None, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    if high is None:
        low, high = 0, low
    return randint(low, high, input.shape, dtype=_like(input, dtype), device=device or input.device)


def normal(
    mean=0.0, std=1.0, size=None, *, generator=None, out=None, dtype=None, device=None, requires_grad=False
) -> Tensor:
    if size is not None:
        dt = _dtype(dtype)
        return _finish(_gen(generator)._normal(_size((size,)), dt.np, mean, std), dt, device, requires_grad)
    ref = mean if isinstance(mean, Tensor) else std
    z = _gen(generator)._normal(ref.shape, ref.dtype.np)
    return _wrap(z, ref.dtype, ref.device) * std + mean


def bernoulli(input, p=None, *, generator=None) -> Tensor:
    prob = input._data if p is None else p
    return _wrap(_gen(generator)._bernoulli(prob, input.shape, input.dtype.np), input.dtype, input.device)


def multinomial(input, num_samples, replacement=False, *, generator=None) -> Tensor:
    probs = input._data.astype(np.float64)
    flat = probs.reshape(-1, probs.shape[-1])
    if not replacement or num_samples == 1:
        # torch's CPU kernel: the top num_samples of p / q with q ~ Exp(1), one draw over the whole input
        q = _gen(generator)._exponential(input._data.shape, input._data.dtype)
        keys = (input._data / q).reshape(flat.shape)
        res = np.argsort(-keys, axis=-1, kind="stable")[:, :num_samples].astype(np.int64)
        return _wrap(res.reshape(*probs.shape[:-1], num_samples), D.int64, input.device)
    out = []
    for row in flat:
        p = row / row.sum()
        u = _gen(generator)._uniform((num_samples,), np.float64)
        if replacement:
            out.append(np.searchsorted(np.cumsum(p), u, side="right").clip(0, len(p) - 1))
        else:
            keys = np.log(_gen(generator)._uniform((len(p),), np.float64)) / np.where(p > 0, p, 1e-300)
            out.append(np.argsort(-keys)[:num_samples])
    res = np.stack(out).astype(np.int64)
    return _wrap(res.reshape(*probs.shape[:-1], num_samples), D.int64, input.device)


# -- the legacy constructors: torch.FloatTensor(2, 3), torch.Tensor([1, 2]) ----------------------------
def _legacy_new(cls, dtype, args, device):
    dt = D.to_dtype(dtype)
    if len(args) == 1 and not isinstance(args[0], (int, np.integer)) and not isinstance(args[0], D.dtype):
        data = args[0]
        if isinstance(data, Tensor):
            return data if data.dtype is dt else data.to(dt)
        if isinstance(data, np.ndarray):
            return tensor(data, dtype=dt, device=device)
        if isinstance(data, (list, tuple)) or hasattr(data, "__len__"):
            return tensor(data, dtype=dt, device=device)
    if args == ():
        return _finish(np.zeros((0,), dt.np), dt, device)
    shape = _size(args)
    # PyTorch leaves the memory uninitialised; zeros are one valid such content and reproducible
    return _finish(np.zeros(shape, dt.np), dt, device)


class _LegacyTypeMeta(type):
    """``isinstance(x, torch.FloatTensor)`` checks the dtype and device, as PyTorch's legacy types do."""

    def __instancecheck__(cls, obj):
        return (
            isinstance(obj, Tensor)
            and obj.dtype is cls._ember_dtype
            and obj.device.type == cls._ember_device_type
        )

    def __repr__(cls):
        return f"<class '{cls.__qualname__}'>"


def _legacy_type(name, dt, device_type):
    def __new__(cls, *args, device=None):
        if device_type == "cuda":
            B.canonical("cuda")  # raises the clear no-GPU error
        return _legacy_new(Tensor, dt, args, device if device is not None else device_type)

    qual = ("torch.cuda." if device_type == "cuda" else "torch.") + name
    return _LegacyTypeMeta(
        name,
        (),
        {
            "__new__": __new__,
            "_ember_dtype": dt,
            "_ember_device": device_type,
            "_ember_device_type": device_type,
            "__qualname__": qual,
            "dtype": dt,
            "is_cuda": device_type == "cuda",
        },
    )


LEGACY = {d._legacy: _legacy_type(d._legacy, d, "cpu") for d in D.ALL}
LEGACY_CUDA = {d._legacy: _legacy_type(d._legacy, d, "cuda") for d in D.ALL}


def legacy_type(name: str):
    """``'torch.cuda.FloatTensor'`` -> the legacy type object."""
    short = name.rsplit(".", 1)[-1]
    return (LEGACY_CUDA if ".cuda." in name else LEGACY)[short]
