"""Reductions: sum, mean, prod, max/min, var/std, logsumexp, argmax, cumsum and friends."""

from __future__ import annotations

import builtins
from collections import namedtuple

from ..autograd.grad_mode import STATE
from ..tensor import _dim
from ._base import D, Op, Tensor, _wrap, bf16_round, fdata, np, opmath

values_indices = namedtuple("values_indices", ["values", "indices"])


def _nd(x):
    """A full reduction gives a NumPy scalar; as a 0-d array it takes Function.apply's fast path."""
    return np.asarray(x) if isinstance(x, np.generic) else x


def _count(shape, axes) -> int:
    """How many elements each output of a reduction over ``axes`` sums (a plain loop: np.prod is slow)."""
    n = 1
    for a in axes:
        n *= shape[a]
    return n


def _axes(dim, ndim):
    """A dim argument as a tuple of non-negative axes (None means all)."""
    if dim is None:
        return None
    if isinstance(dim, (list, tuple)):
        if len(dim) == 0:
            return None
        return tuple(sorted(_dim(d, ndim) for d in dim))
    return (_dim(dim, ndim),)


def _expand_back(g, shape, axes, keepdim):
    """Broadcast a reduced gradient back over the reduced axes of ``shape``."""
    if not keepdim and axes is not None and g.ndim != len(shape):
        kept = list(shape)
        for a in axes:
            kept[a] = 1
        g = g.reshape(kept)
    if not STATE.enabled and not g._rg:  # plain backward: a broadcast view, without the expand op
        return _wrap(np.broadcast_to(g._data, shape), g.dtype, g.device)
    return g.expand(shape)


class Sum(Op):
    """y = sum(x, dims);  dy/dx = 1 (broadcast back)"""

    @staticmethod
    @opmath
    def forward(ctx, x, axes, keepdim, dtype):
        ctx.shape, ctx.axes, ctx.keepdim = x._data.shape, axes, keepdim
        d = x._data
        out_dt = dtype.np if dtype is not None else (np.int64 if not x.dtype.is_floating_point else None)
        return _nd(d.sum(axis=axes, keepdims=keepdim, dtype=out_dt))  # the method: no np.sum dispatch layer

    @staticmethod
    def backward(ctx, g):
        return _expand_back(g, ctx.shape, ctx.axes, ctx.keepdim), None, None, None


class SumDim(Sum):
    _node_name = "SumBackward1"  # sum with a dim argument


class Nansum(Op):
    """y = sum of the non-NaN x;  dy/dx = 1 where x is not NaN"""

    @staticmethod
    def forward(ctx, x, axes, keepdim, dtype):
        ctx.save_for_backward(x)
        ctx.axes, ctx.keepdim = axes, keepdim
        return _nd(np.nansum(x._data, axis=axes, keepdims=keepdim, dtype=None if dtype is None else dtype.np))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return _expand_back(g, x.shape, ctx.axes, ctx.keepdim) * ~x.isnan(), None, None, None


class Mean(Op):
    """y = mean(x, dims);  dy/dx = 1/n (broadcast back)"""

    @staticmethod
    @opmath
    def forward(ctx, x, axes, keepdim, dtype):
        d = x._data if dtype is None else x._data.astype(dtype.np)
        ctx.shape, ctx.axes, ctx.keepdim = d.shape, axes, keepdim
        n = d.size if axes is None else _count(d.shape, axes)
        ctx.n = n
        if d.dtype == np.float16:  # accumulate in float32, as both NumPy and PyTorch do
            return _nd((d.sum(axis=axes, keepdims=keepdim, dtype=np.float32) / n).astype(np.float16))
        return _nd(d.sum(axis=axes, keepdims=keepdim) / n)  # np.mean's own arithmetic, minus its overhead

    @staticmethod
    def backward(ctx, g):
        return _expand_back(g / ctx.n, ctx.shape, ctx.axes, ctx.keepdim), None, None, None


class MeanDim(Mean):
    _node_name = "MeanBackward1"


class Prod(Op):
    """y = prod(x, dim);  dy/dx_i = prod_{j != i} x_j"""

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.save_for_backward(x)
        ctx.axes, ctx.keepdim = axes, keepdim
        return _nd(np.prod(x._data, axis=axes, keepdims=keepdim))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        axes = ctx.axes
        shape = x.shape
        g = _expand_back(g, shape, axes, ctx.keepdim)
        # product of the others, computed without dividing (safe with zeros)
        if axes is None:
            flat = x.reshape(-1)
            return (g * _prod_others(flat, 0).reshape(shape)), None, None
        return g * _prod_others(x, axes[0]), None, None


class ProdDim(Prod):
    _node_name = "ProdBackward1"


def _prod_others(x, dim):
    """For each element, the product of the other elements along ``dim`` (exclusive cumprods)."""
    ones = x.narrow(dim, 0, 1) * 0 + 1
    left = cat_((ones, x.narrow(dim, 0, x.shape[dim] - 1).cumprod(dim)), dim)
    rev = x.flip(dim)
    right = cat_((ones, rev.narrow(dim, 0, x.shape[dim] - 1).cumprod(dim)), dim).flip(dim)
    return left * right


def cat_(ts, dim):
    from .shape import cat  # noqa: PLC0415

    return cat(ts, dim)


class MaxAll(Op):
    """y = max(x) (or min);  the gradient is split evenly among the tied extrema, as PyTorch"""

    _node_name = "MaxBackward1"
    _saves_output = True

    @staticmethod
    def forward(ctx, x, is_max):
        ctx.save_for_backward(x)
        if x._data.size == 0:
            op = "max" if is_max else "min"
            raise RuntimeError(
                f"{op}(): Expected reduction dim to be specified for input.numel() == 0. "
                "Specify the reduction dim with the 'dim' argument."
            )
        return _nd(np.max(x._data) if is_max else np.min(x._data))

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        mask = x == y
        return g * mask / mask.sum(), None


class MinAll(MaxAll):
    _node_name = "MinBackward1"


class Amax(Op):
    """y = amax(x, dims) (or amin);  the gradient is split evenly among the tied extrema"""

    _saves_output = True

    @staticmethod
    def forward(ctx, x, axes, keepdim, is_max):
        ctx.save_for_backward(x)
        ctx.axes, ctx.keepdim = axes, keepdim
        if x._data.size == 0:
            name = "amax" if is_max else "amin"
            raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0.")
        return _nd((np.amax if is_max else np.amin)(x._data, axis=axes, keepdims=keepdim))

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        y = _expand_back(y, x.shape, ctx.axes, ctx.keepdim)
        mask = x == y
        count = mask.sum(ctx.axes, keepdim=True) if ctx.axes is not None else mask.sum()
        return _expand_back(g, x.shape, ctx.axes, ctx.keepdim) * mask / count, None, None, None


class Amin(Amax):
    pass


class MaxDim(Op):
    """(values, indices) = max(x, dim);  the gradient goes to the selected index"""

    _node_name = "MaxBackward0"

    @staticmethod
    def forward(ctx, x, dim, keepdim, is_max):
        d = x._data
        idx = np.argmax(d, axis=dim, keepdims=True) if is_max else np.argmin(d, axis=dim, keepdims=True)
        vals = np.take_along_axis(d, idx, axis=dim)
        ctx.shape, ctx.dim, ctx.keepdim = d.shape, dim, keepdim
        ctx.idx = idx
        if not keepdim:
            vals, idx = vals.squeeze(dim), idx.squeeze(dim)
        ind = _wrap(np.asarray(idx, dtype=np.int64), D.int64, x.device)
        ctx.mark_non_differentiable(ind)
        return vals, ind

    @staticmethod
    def backward(ctx, g, _gi):
        if not ctx.keepdim:
            g = g.unsqueeze(ctx.dim)
        idx = _wrap(ctx.idx.astype(np.int64), D.int64, g.device)
        z = g.new_zeros(ctx.shape)
        return z.scatter(ctx.dim, idx, g), None, None, None


class MinDim(MaxDim):
    _node_name = "MinBackward0"


class Var(Op):
    """y = var(x, dims, correction);  dy/dx = 2 (x - mean) / (n - correction)"""

    @staticmethod
    @opmath
    def forward(ctx, x, axes, correction, keepdim):
        ctx.save_for_backward(x)
        d = x._data
        n = d.size if axes is None else _count(d.shape, axes)
        ctx.axes, ctx.keepdim, ctx.denom = axes, keepdim, builtins.max(n - correction, 0)
        return _nd(_np_var(d, axes, correction, keepdim))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return _var_backward(g, x, ctx.axes, ctx.keepdim, ctx.denom), None, None, None


def _np_var(d, axes, correction, keepdim, name="var"):
    """NumPy's var, with PyTorch's warning (not NumPy's) for a non-positive ``n - correction``."""
    n = d.size if axes is None else _count(d.shape, axes)
    if n - correction > 0:
        if d.dtype.kind != "f" or d.dtype.itemsize < 4:
            return np.var(d, axis=axes, ddof=correction, keepdims=keepdim)
        # np.var's own arithmetic (mean, squared deviations, sum, divide), without its Python overhead
        dev = d - d.sum(axis=axes, keepdims=True) / n
        return np.multiply(dev, dev, out=dev).sum(axis=axes, keepdims=keepdim) / (n - correction)
    import warnings  # noqa: PLC0415

    warnings.warn(
        f"{name}(): degrees of freedom is <= 0. Correction should be strictly less than the reduction factor "
        "(input numel divided by output numel).",
        UserWarning,
        stacklevel=5,
    )
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.var(d, axis=axes, ddof=correction, keepdims=keepdim)


def _var_backward(g, x, axes, keepdim, denom):
    g = _expand_back(g, x.shape, axes, keepdim)
    mu = x.mean(dim=axes, keepdim=True) if axes is not None else x.mean()
    return g * (2.0 / denom if denom else float("inf")) * (x - mu)  # n <= correction: nan, as PyTorch


class Std(Op):
    """y = sqrt(var(x, dims, correction));  dy/dx = (x - mean) / (y (n - correction)), 0 where y == 0"""

    _saves_output = True

    @staticmethod
    @opmath
    def forward(ctx, x, axes, correction, keepdim):
        ctx.save_for_backward(x)
        d = x._data
        n = d.size if axes is None else _count(d.shape, axes)
        ctx.axes, ctx.keepdim, ctx.denom = axes, keepdim, builtins.max(n - correction, 0)
        return _nd(np.sqrt(_np_var(d, axes, correction, keepdim, "std")))

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        gvar = (g / (2 * y)).masked_fill(y == 0, 0.0)
        return _var_backward(gvar, x, ctx.axes, ctx.keepdim, ctx.denom), None, None, None


class LogSumExp(Op):
    """y = log(sum(exp(x), dims));  dy/dx = exp(x - y)"""

    _node_name = "LogsumexpBackward0"

    _saves_output = True

    @staticmethod
    @opmath
    def forward(ctx, x, axes, keepdim):
        ctx.save_for_backward(x)
        ctx.axes, ctx.keepdim = axes, keepdim
        d = fdata(x)
        m = np.max(d, axis=axes, keepdims=True)
        m = np.where(np.isfinite(m), m, 0)
        if x.dtype is D.bfloat16:  # torch's composite: each step rounds to bfloat16 (the sum adds in float32)
            e = bf16_round(np.exp(bf16_round(d - m)))
            out = bf16_round(np.log(bf16_round(np.sum(e, axis=axes, keepdims=True)))) + m
        else:
            out = np.log(np.sum(np.exp(d - m), axis=axes, keepdims=True)) + m
        return out if keepdim else np.squeeze(out, axis=axes)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        g = _expand_back(g, x.shape, ctx.axes, ctx.keepdim)
        y = _expand_back(y, x.shape, ctx.axes, ctx.keepdim)
        return g * (x - y).exp(), None, None


class Cumsum(Op):
    """y_i = sum_{j<=i} x_j;  dx = reversed cumsum of g"""

    @staticmethod
    @opmath
    def forward(ctx, x, dim):
        ctx.dim = dim
        d = x._data
        return np.cumsum(d, axis=dim, dtype=np.int64 if not x.dtype.is_floating_point else None)

    @staticmethod
    def backward(ctx, g):
        return g.flip(ctx.dim).cumsum(ctx.dim).flip(ctx.dim), None


class Cumprod(Op):
    """y_i = prod_{j<=i} x_j;  dx_i = sum_{k>=i} g_k y_k / x_i (computed without division)"""

    @staticmethod
    @opmath
    def forward(ctx, x, dim):
        ctx.save_for_backward(x)
        ctx.dim = dim
        return np.cumprod(x._data, axis=dim)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        dim = ctx.dim
        n = x.shape[dim]
        # dx_i = sum_{k >= i} g_k * prod_{j <= k, j != i} x_j: build it with a triangular mask
        xs = x.movedim(dim, -1).unsqueeze(-2).expand(*x.movedim(dim, -1).shape[:-1], n, n)
        eye = _wrap(np.eye(n, dtype=bool), D.bool_, x.device)
        tri = _wrap(np.tril(np.ones((n, n), dtype=bool)), D.bool_, x.device)  # [k, j]: j <= k
        # p[..., k, i] = prod_{j<=k, j != i} x_j  (for i <= k)
        vals = xs.masked_fill(~tri, 1.0)
        p_all = []
        for i in range(n):
            p_all.append(vals.masked_fill(eye[i].expand(n, n), 1.0).prod(-1))
        from .shape import stack  # noqa: PLC0415

        p = stack(p_all, -1)  # [..., k, i]
        gk = g.movedim(dim, -1).unsqueeze(-1)
        mask = tri  # only i <= k contributes
        dx = (gk * p.masked_fill(~mask, 0.0)).sum(-2)
        return dx.movedim(-1, dim), None


# -- public functions ------------------------------------------------------------------------------
def sum(input, dim=None, keepdim=False, *, dtype=None):  # noqa: A001
    axes = _axes(dim, input._data.ndim)
    dt = D.to_dtype(dtype) if dtype is not None else None
    return (Sum if dim is None else SumDim).apply(input, axes, keepdim, dt)


def nansum(input, dim=None, keepdim=False, *, dtype=None):
    if not input.dtype.is_floating_point:
        return sum(input, dim, keepdim, dtype=dtype)
    dt = D.to_dtype(dtype) if dtype is not None else None
    return Nansum.apply(input, _axes(dim, input._data.ndim), keepdim, dt)


def mean(input, dim=None, keepdim=False, *, dtype=None):
    dt = D.to_dtype(dtype) if dtype is not None else None
    if dt is None and not input.dtype.is_floating_point:
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating point or complex "
            f"dtype. Got: {input.dtype.name.capitalize() if input.dtype.name != 'int64' else 'Long'}"
        )
    return (Mean if dim is None else MeanDim).apply(input, _axes(dim, input._data.ndim), keepdim, dt)


def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    keep = ~input.isnan()
    return nansum(input, dim, keepdim) / keep.sum(dim, keepdim).to(input.dtype)


def prod(input, dim=None, keepdim=False, *, dtype=None):
    if dtype is not None:
        input = input.to(dtype)
    if dim is None:
        return Prod.apply(input, None, False)
    return ProdDim.apply(input, (_dim(dim, input._data.ndim),), keepdim)


def _maxmin(input, dim, keepdim, other, is_max):
    if isinstance(dim, Tensor):  # torch.max(a, b) is maximum
        from .elementwise import maximum, minimum  # noqa: PLC0415

        return maximum(input, dim) if is_max else minimum(input, dim)
    if other is not None:
        from .elementwise import maximum, minimum  # noqa: PLC0415

        return maximum(input, other) if is_max else minimum(input, other)
    if dim is None:
        return (MaxAll if is_max else MinAll).apply(input, is_max)
    d = _dim(dim, input._data.ndim) if input._data.ndim else 0
    if input._data.ndim == 0:
        return values_indices(input.clone(), _wrap(np.asarray(0, dtype=np.int64), D.int64, input.device))
    vals, idx = (MaxDim if is_max else MinDim).apply(input, d, keepdim, is_max)
    return values_indices(vals, idx)


def max(input, dim=None, keepdim=False, *, other=None):  # noqa: A001
    return _maxmin(input, dim, keepdim, other, True)


def min(input, dim=None, keepdim=False, *, other=None):  # noqa: A001
    return _maxmin(input, dim, keepdim, other, False)


def amax(input, dim=(), keepdim=False):
    return Amax.apply(input, _axes(dim, input._data.ndim), keepdim, True)


def amin(input, dim=(), keepdim=False):
    return Amin.apply(input, _axes(dim, input._data.ndim), keepdim, False)


def _arg(fn, input, dim, keepdim):
    d = input._data
    if dim is None:
        r = fn(d.reshape(-1))
        return _wrap(
            np.asarray(r, dtype=np.int64).reshape((1,) * d.ndim if keepdim else ()), D.int64, input.device
        )
    return _wrap(
        np.asarray(fn(d, axis=_dim(dim, d.ndim), keepdims=keepdim), dtype=np.int64), D.int64, input.device
    )


def argmax(input, dim=None, keepdim=False):
    return _arg(np.argmax, input, dim, keepdim)


def argmin(input, dim=None, keepdim=False):
    return _arg(np.argmin, input, dim, keepdim)


def _correction(unbiased, correction):
    if correction is not None:
        return correction
    return 1 if unbiased in (None, True) else 0


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    if isinstance(dim, bool):  # var(input, unbiased)
        dim, unbiased = None, dim
    return Var.apply(input, _axes(dim, input._data.ndim), _correction(unbiased, correction), keepdim)


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    if isinstance(dim, bool):  # std(input, unbiased)
        dim, unbiased = None, dim
    return Std.apply(input, _axes(dim, input._data.ndim), _correction(unbiased, correction), keepdim)


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return var(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim)


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return std(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim)


def logsumexp(input, dim, keepdim=False):
    return LogSumExp.apply(input, _axes(dim, input._data.ndim), keepdim)


def cumsum(input, dim, *, dtype=None):
    if dtype is not None:
        input = input.to(dtype)
    return Cumsum.apply(input, _dim(dim, input._data.ndim))


def cumprod(input, dim, *, dtype=None):
    if dtype is not None:
        input = input.to(dtype)
    return Cumprod.apply(input, _dim(dim, input._data.ndim))


def all(input, dim=None, keepdim=False):  # noqa: A001
    axes = _axes(dim, input._data.ndim)
    return _wrap(np.asarray(np.all(input._data, axis=axes, keepdims=keepdim)), D.bool_, input.device)


def any(input, dim=None, keepdim=False):  # noqa: A001
    axes = _axes(dim, input._data.ndim)
    return _wrap(np.asarray(np.any(input._data, axis=axes, keepdims=keepdim)), D.bool_, input.device)


def count_nonzero(input, dim=None):
    axes = _axes(dim, input._data.ndim)
    return _wrap(np.asarray(np.count_nonzero(input._data, axis=axes), dtype=np.int64), D.int64, input.device)


class VectorNorm(Op):
    """y = (sum |x|^p)^(1/p) over dims;  dy/dx = x |x|^(p-2) / y^(p-1) (0 where y == 0; p=inf splits ties)"""

    _node_name = "LinalgVectorNormBackward0"
    _saves_output = True

    @staticmethod
    @opmath
    def forward(ctx, x, p, axes, keepdim):
        ctx.save_for_backward(x)
        ctx.p, ctx.axes, ctx.keepdim = p, axes, keepdim
        return _nd(_vector_norm(np.abs(x._data), p, axes, keepdim))

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        p, axes, keepdim = ctx.p, ctx.axes, ctx.keepdim
        g = _expand_back(g, x.shape, axes, keepdim)
        y = _expand_back(y, x.shape, axes, keepdim)
        if p == 0:
            return g * 0, None, None, None
        if p == 1:
            return g * x.sign(), None, None, None
        if p in (np.inf, -np.inf):
            mask = x.abs() == y
            count = mask.sum(axes, keepdim=True) if axes is not None else mask.sum()
            return g * x.sign() * mask / _expand_back(count, x.shape, axes, True), None, None, None
        if p == 2:
            return x * (g / y).masked_fill(y == 0, 0.0), None, None, None
        scale = (g / y ** (p - 1)).masked_fill(y == 0, 0.0)
        return x * x.abs() ** (p - 2) * scale, None, None, None


def _vector_norm(a, p, axes, keepdim):
    if p == 2:
        return np.sqrt(np.sum(a * a, axis=axes, keepdims=keepdim))
    if p == 1:
        return np.sum(a, axis=axes, keepdims=keepdim)
    if p == np.inf:
        return np.amax(a, axis=axes, keepdims=keepdim)
    if p == -np.inf:
        return np.amin(a, axis=axes, keepdims=keepdim)
    if p == 0:
        return np.sum(a != 0, axis=axes, keepdims=keepdim).astype(a.dtype)
    return np.power(np.sum(np.power(a, p), axis=axes, keepdims=keepdim), 1.0 / p)


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    if dtype is not None:
        input = input.to(dtype)
    if p in ("fro", None):
        p = 2
    elif isinstance(p, str):
        if p == "inf":
            p = float("inf")
        else:
            raise RuntimeError(f"ember's norm supports vector p-norms and 'fro', not p={p!r}")
    if isinstance(dim, int):
        dim = (dim,)
    return VectorNorm.apply(input, float(p), _axes(dim, input._data.ndim), keepdim)


class Trace(Op):
    """y = sum of the main diagonal of a matrix;  dx = g on the diagonal, zeros elsewhere"""

    @staticmethod
    def forward(ctx, x):
        d = x._data
        if d.ndim != 2:
            raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {d.ndim}")
        ctx.shape = d.shape
        r = np.trace(d)
        if d.dtype.kind in "biu":
            r = r.astype(np.int64)
        return np.asarray(r)

    @staticmethod
    def backward(ctx, g):
        from .shape import DiagonalScatter  # noqa: PLC0415

        n = builtins.min(ctx.shape)
        return DiagonalScatter.apply(g.expand(n), ctx.shape, 0, 0, 1)


def trace(input):
    return Trace.apply(input)
