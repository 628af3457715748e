"""Sorting and order statistics: sort, topk, kthvalue, median, mode, cummax/cummin, quantile, unique.

Each selecting op computes (values, indices) on arrays; one backward serves them all: the gradient
goes back to the selected positions (accumulated, since cummax may select one position many times).
Ties follow PyTorch where it documents them: sort is stable (descending too), NaN sorts as the
largest value, cummax/cummin take the latest of equal extrema, mode the smallest most frequent value
at its last occurrence.
"""

from __future__ import annotations

from collections import namedtuple

from ..tensor import _dim
from ._base import D, Op, Tensor, _wrap, np
from .reduction import MaxAll

sort_result = namedtuple("sort", ["values", "indices"])
_topk_result = namedtuple("topk", ["values", "indices"])
_kthvalue_result = namedtuple("kthvalue", ["values", "indices"])
_median_result = namedtuple("median", ["values", "indices"])
_mode_result = namedtuple("mode", ["values", "indices"])
_cummax_result = namedtuple("cummax", ["values", "indices"])
_cummin_result = namedtuple("cummin", ["values", "indices"])
__all__ = ["sort", "argsort", "msort", "topk", "kthvalue", "median", "mode", "cummax", "cummin", "quantile"]


def _argsort(d, axis, descending):
    """A stable argsort along axis; NaN is the largest value, and descending keeps equal elements in order."""
    if not descending:
        return np.argsort(d, axis=axis, kind="stable")
    n = d.shape[axis]
    return n - 1 - np.flip(np.argsort(np.flip(d, axis), axis=axis, kind="stable"), axis)


class _Selected(Op):
    """(values, indices) picked along dim by ``pick(d, dim)``;  dx = g accumulated at the indices"""

    @staticmethod
    def forward(ctx, x, dim, keepdim, pick):
        d = x._data
        scalar = d.ndim == 0
        if scalar:
            d = d.reshape(1)
        vals, idx = pick(d, dim)  # both keep dim
        ctx.shape, ctx.dim, ctx.keepdim, ctx.idx, ctx.scalar = d.shape, dim, keepdim, idx, scalar
        if scalar:
            vals, idx = vals.reshape(()), idx.reshape(())
        elif not keepdim:
            vals, idx = vals.squeeze(dim), idx.squeeze(dim)
        ind = _wrap(np.asarray(idx, dtype=np.int64, order="C"), D.int64, x.device)
        ctx.mark_non_differentiable(ind)
        return np.asarray(vals, order="C"), ind

    @staticmethod
    def backward(ctx, g, _gi):
        if ctx.scalar:
            return g.reshape(()) * 1, None, None, None
        if not ctx.keepdim:
            g = g.unsqueeze(ctx.dim)
        idx = _wrap(np.asarray(ctx.idx, dtype=np.int64, order="C"), D.int64, g.device)
        return g.new_zeros(ctx.shape).scatter_add(ctx.dim, idx, g), None, None, None


class Sort(_Selected):
    pass


class SortStable(_Selected):
    _node_name = "SortBackward1"


class Topk(_Selected):
    pass


class Kthvalue(_Selected):
    pass


class MedianDim(_Selected):
    _node_name = "MedianBackward1"


class Mode(_Selected):
    pass


class Cummax(_Selected):
    pass


class Cummin(_Selected):
    pass


class MedianAll(MaxAll):
    """y = the lower median of all elements;  the gradient is split evenly among the elements equal to it"""

    _node_name = "MedianBackward0"

    @staticmethod
    def forward(ctx, x, _unused):
        ctx.save_for_backward(x)
        d = x._data.reshape(-1)
        if d.size == 0:
            return np.asarray(np.nan, dtype=d.dtype)
        s = np.sort(d, kind="stable")
        return np.asarray(s[-1] if np.isnan(s[-1]) else s[(d.size - 1) // 2])


def _sort_pick(descending):
    def pick(d, dim):
        idx = _argsort(d, dim, descending)
        return np.take_along_axis(d, idx, dim), idx

    return pick


def _dim_of(input, dim):
    return _dim(dim, input._data.ndim) if input._data.ndim else 0


def sort(input, dim=-1, descending=False, *, stable=None):
    node = Sort if stable is None else SortStable
    v, i = node.apply(input, _dim_of(input, dim), True, _sort_pick(descending))
    return sort_result(v, i)


def argsort(input, dim=-1, descending=False, stable=False):
    d = input._data
    if d.ndim == 0:
        return _wrap(np.asarray(0, dtype=np.int64), D.int64, input.device)
    return _wrap(_argsort(d, _dim(dim, d.ndim), descending).astype(np.int64), D.int64, input.device)


def msort(input):
    return sort(input, 0).values


def topk(input, k, dim=-1, largest=True, sorted=True):  # noqa: A002 - PyTorch's name
    d = _dim_of(input, dim)
    n = input._data.shape[d] if input._data.ndim else 1
    if not 0 <= k <= n:
        raise RuntimeError("selected index k out of range")

    def pick(a, dim):
        idx = np.take(_argsort(a, dim, largest), np.arange(k), axis=dim)
        return np.take_along_axis(a, idx, dim), idx

    v, i = Topk.apply(input, d, True, pick)
    return _topk_result(v, i)


def kthvalue(input, k, dim=-1, keepdim=False):
    d = _dim_of(input, dim)
    n = input._data.shape[d] if input._data.ndim else 1
    if n == 0:
        raise IndexError(f"kthvalue(): Expected reduction dim {d} to have non-zero size.")
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}")

    def pick(a, dim):
        idx = np.take(_argsort(a, dim, False), [k - 1], axis=dim)
        return np.take_along_axis(a, idx, dim), idx

    v, i = Kthvalue.apply(input, d, keepdim, pick)
    return _kthvalue_result(v, i)


def _nonempty(name, a, dim):
    if a.shape[dim] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {dim} to have non-zero size.")


def _median_pick(a, dim):
    _nonempty("median", a, dim)
    n = a.shape[dim]
    order = _argsort(a, dim, False)
    idx = np.take(order, [(n - 1) // 2], axis=dim)
    nan = np.isnan(a)
    has_nan = nan.any(axis=dim, keepdims=True)
    idx = np.where(has_nan, np.argmax(nan, axis=dim, keepdims=True), idx)  # NaN propagates: the first NaN
    return np.take_along_axis(a, idx, dim), idx


def median(input, dim=None, keepdim=False):
    if dim is None:
        return MedianAll.apply(input, True)
    v, i = MedianDim.apply(input, _dim_of(input, dim), keepdim, _median_pick)
    return _median_result(v, i)


def _mode_pick(a, dim):
    _nonempty("mode", a, dim)
    m = np.moveaxis(a, dim, -1)
    n = m.shape[-1]
    flat = m.reshape(-1, n)
    vals = np.empty(flat.shape[0], a.dtype)
    idxs = np.empty(flat.shape[0], np.int64)
    for r, row in enumerate(flat):
        u, counts = np.unique(row, return_counts=True)  # sorted: the first of the most frequent is smallest
        v = u[np.argmax(counts)]
        vals[r] = v
        hits = np.flatnonzero((row == v) | (np.isnan(row) & np.isnan(v)))
        idxs[r] = hits[-1]
    shape = m.shape[:-1] + (1,)
    return (np.moveaxis(vals.reshape(shape), -1, dim), np.moveaxis(idxs.reshape(shape), -1, dim))


def mode(input, dim=-1, keepdim=False):
    v, i = Mode.apply(input, _dim_of(input, dim), keepdim, _mode_pick)
    return _mode_result(v, i)


def _cum_pick(is_max):
    def pick(a, dim):
        m = np.moveaxis(a, dim, 0)
        vals, idxs = np.empty_like(m), np.empty(m.shape, np.int64)
        cur, ci = m[0].copy(), np.zeros(m.shape[1:], np.int64)
        for i in range(m.shape[0]):
            x = m[i]
            better = (x >= cur) if is_max else (x <= cur)
            take = np.isnan(x) | (~np.isnan(cur) & better)
            cur = np.where(take, x, cur)
            ci = np.where(take, i, ci)
            vals[i], idxs[i] = cur, ci
        return np.moveaxis(vals, 0, dim), np.moveaxis(idxs, 0, dim)

    return pick


def cummax(input, dim):
    v, i = Cummax.apply(input, _dim_of(input, dim), True, _cum_pick(True))
    return _cummax_result(v, i)


def cummin(input, dim):
    v, i = Cummin.apply(input, _dim_of(input, dim), True, _cum_pick(False))
    return _cummin_result(v, i)


_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    """Composite (sort, gather, lerp), as PyTorch's is: the gradient flows through the sort."""
    if not input.dtype.is_floating_point:
        raise RuntimeError("quantile() input tensor must be either float or double dtype")
    if interpolation not in _INTERPOLATIONS:
        raise RuntimeError(
            "quantile() interpolation must be one of linear, lower, higher, midpoint or nearest, "
            f"but got {interpolation}"
        )
    qs = q._data if isinstance(q, Tensor) else np.asarray(q, dtype=np.float64)
    if isinstance(q, Tensor) and q.dtype is not input.dtype:
        raise RuntimeError("quantile() q tensor must be same dtype as the input tensor")
    if qs.ndim > 1:
        raise RuntimeError("quantile() q must be a scalar or 1D tensor")
    if ((qs < 0) | (qs > 1)).any():
        bad = float(qs.reshape(-1)[((qs < 0) | (qs > 1)).reshape(-1)][0])
        raise RuntimeError(f"quantile() q must be in the range [0, 1] but got {bad:g}")
    x = input
    if dim is None:
        x, d = input.reshape(-1), 0
    else:
        d = _dim_of(input, dim)
        if input._data.ndim == 0:
            x = input.reshape(1)
    n = x._data.shape[d]
    if n == 0:
        raise RuntimeError("quantile() input tensor must be non-empty")
    s = sort(x, d).values
    pos = qs.reshape(-1).astype(np.float64) * (n - 1)
    lo = np.floor(pos).astype(np.int64)
    hi = np.ceil(pos).astype(np.int64)
    frac = pos - lo
    if interpolation == "lower":
        hi, frac = lo, frac * 0
    elif interpolation == "higher":
        lo, frac = hi, frac * 0
    elif interpolation == "nearest":
        near = np.round(pos).astype(np.int64)  # half to even, as PyTorch
        lo = hi = near
        frac = frac * 0
    elif interpolation == "midpoint":
        frac = np.where(hi > lo, 0.5, 0.0)
    dev = input.device
    a = s.index_select(d, _wrap(lo, D.int64, dev))
    b = s.index_select(d, _wrap(hi, D.int64, dev))
    shape = [1] * s.ndim
    shape[d] = -1
    w = _wrap(frac.astype(input.dtype.np).reshape(shape), input.dtype, dev)
    out = a + w * (b - a)
    # NaN anywhere in a slice makes every quantile of it NaN (sort put the NaNs last)
    nan = np.isnan(x._data).any(axis=d, keepdims=True)
    if nan.any():
        out = out.masked_fill(_wrap(np.broadcast_to(nan, out.shape).copy(), D.bool_, dev), float("nan"))
    out = out.movedim(d, 0)  # the q dim leads
    if keepdim:
        if dim is None:
            out = out.reshape((out.shape[0],) + (1,) * input._data.ndim)
        elif input._data.ndim:
            out = out.unsqueeze(d + 1)
    if qs.ndim == 0:
        out = out.squeeze(0)
    return out


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):  # noqa: A002
    """The distinct values (always sorted, as PyTorch's CPU unique); not differentiable."""
    d = input._data
    dev = input.device
    if dim is None:
        u, inv, cnt = np.unique(d.reshape(-1), return_inverse=True, return_counts=True)
        inv = inv.reshape(d.shape)
    else:
        ax = _dim(dim, d.ndim)
        u, inv, cnt = np.unique(d, return_inverse=True, return_counts=True, axis=ax)
        inv = inv.reshape(-1)
    out = _wrap(np.asarray(u, order="C"), input.dtype, dev)
    res = [out]
    if return_inverse:
        res.append(_wrap(inv.astype(np.int64), D.int64, dev))
    if return_counts:
        res.append(_wrap(cnt.astype(np.int64), D.int64, dev))
    return res[0] if len(res) == 1 else tuple(res)
