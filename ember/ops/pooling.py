# ruff: noqa: PLR0917, A002 - an Op's forward takes the op's own argument list; `input` is PyTorch's name
"""Pooling primitives: max (with indices), average and adaptive pooling, 1-D to 3-D.

Max pooling reads a strided window view (no copy) and keeps the first maximum of each window, as
PyTorch does; its backward scatters the gradient to the argmax positions, and that scatter's backward
gathers. Average pooling is separable, so it is an ``AxisGather`` (``ember.ops.resample``) with
per-axis weights 1/divisor. 1-D pooling runs as 2-D pooling of a height-1 image, as in PyTorch.
"""

from __future__ import annotations

import math

from ._base import D, Op, Tensor, _wrap, np
from ._sliding import _as_strided, _batched, _ntuple, _out_size
from .resample import _apply_tables


# -- max pooling ----------------------------------------------------------------------------------
def _window_argmax(win, k):
    """Max and flat kernel index over the trailing kernel axes of a window view, by PyTorch's rule: the
    first maximum wins, and a NaN wins over everything (the last NaN, as PyTorch scans).

    NOTE [ arithmetic argmax ]: masked writes (``idx[mask] = j``, ``np.where``) cost ~4 ns an element
    on random masks, ten times an arithmetic pass; so the index is accumulated with arithmetic only,
    Horner-style from the last tap: ``r_j = (tap_j != max) * (1 + r_{j+1})`` with ``r_{K-1} = 0``
    makes ``r_0`` the first tap equal to the max, in three in-place passes a tap.
    """
    taps = [win[(..., *kidx)] for kidx in np.ndindex(*k)]
    it = np.int8 if len(taps) <= 128 else np.int32
    if len(taps) == 1:
        return taps[0].copy(), np.zeros(taps[0].shape, it)
    best = np.maximum(taps[0], taps[1])  # propagates NaN, as PyTorch's max pool does
    for v in taps[2:]:
        np.maximum(best, v, out=best)
    ne = np.not_equal(taps[-2], best)
    idx = ne.astype(it)
    for v in reversed(taps[:-2]):
        np.not_equal(v, best, out=ne)
        idx += 1
        idx *= ne
    if best.dtype.kind == "f" and np.isnan(best).any():
        last = np.zeros(best.shape, it)
        for j, v in enumerate(taps):
            isnan = np.isnan(v)
            last += isnan.astype(it) * (it(j) - last)
        idx = np.where(np.isnan(best), last, idx)
    return best, idx


def _flat_index(kidx, k, starts, steps, sizes):
    """The flat input index (over the spatial dims) of each chosen tap: window o along axis i starts at
    ``starts[i][o]`` and its taps are ``steps[i]`` apart. Separable, so no per-element fancy indexing."""
    d = len(k)
    place = [math.prod(sizes[i + 1 :]) for i in range(d)]
    start = 0
    for i in range(d):
        start = start + (starts[i] * place[i]).reshape((-1,) + (1,) * (d - 1 - i))
    tap = np.zeros(k, np.int64)
    for i in range(d):
        tap = tap + (np.arange(k[i]) * steps[i] * place[i]).reshape((-1,) + (1,) * (d - 1 - i))
    flat = np.take(tap.ravel(), kidx)
    flat += start
    return flat


class _PoolScatter(Op):
    """gx = g added at the flat spatial positions idx;  its backward gathers: gg[idx]"""

    @staticmethod
    def forward(ctx, g, idx, shape):
        ctx.idx = idx
        gd, nc, n_sp = g._data, math.prod(shape[:2]), math.prod(shape[2:])
        base = (np.arange(nc, dtype=np.int64) * n_sp).reshape(*shape[:2], *(1,) * (gd.ndim - 2))
        out = np.zeros(nc * n_sp, gd.dtype)
        np.add.at(out, (base + idx._data).ravel(), gd.ravel())
        return out.reshape(shape)

    @staticmethod
    def backward(ctx, gg):
        idx = ctx.idx
        return gg.flatten(2).gather(2, idx.flatten(2)).view(idx.shape), None, None


class _MaxPoolBase(Op):
    """(y, indices) = the max of each window;  dx = g scattered to the argmax positions"""

    _scatter = None

    @staticmethod
    def backward(ctx, g, _gi):
        idx = _wrap(ctx.idx, D.int64, g.device)
        return (type(ctx)._forward_cls._scatter.apply(g, idx, ctx.shape), *(None,) * ctx.n_args)


class MaxPool(_MaxPoolBase):
    @staticmethod
    def forward(ctx, x, k, s, p, dl, ceil):
        d, xd = len(k), x._data
        sp = xd.shape[2:]
        out = tuple(_out_size(*a, ceil) for a in zip(sp, k, s, p, dl, strict=True))
        # pad with the lowest value (never chosen); the right side also covers ceil_mode's last window
        hi = [
            max((o - 1) * st + dd * (kk - 1) + 1 - n - pp, 0)
            for o, st, dd, kk, n, pp in zip(out, s, dl, k, sp, p, strict=True)
        ]
        low = -np.inf if xd.dtype.kind == "f" else np.iinfo(xd.dtype).min
        xp = (
            np.pad(xd, [(0, 0)] * 2 + list(zip(p, hi, strict=True)), constant_values=low)
            if any(p) or any(hi)
            else xd
        )
        st = xp.strides
        strides = (*st[:2], *(st[2 + i] * s[i] for i in range(d)), *(st[2 + i] * dl[i] for i in range(d)))
        win = _as_strided(xp, (*xp.shape[:2], *out, *k), strides, writeable=False)
        y, kidx = _window_argmax(win, k)
        starts = [np.arange(o) * a - b for o, a, b in zip(out, s, p, strict=True)]
        ctx.idx, ctx.shape, ctx.n_args = _flat_index(kidx, k, starts, dl, sp), xd.shape, 5
        return y, ctx.idx


class AdaptiveMaxPool(_MaxPoolBase):
    @staticmethod
    def forward(ctx, x, tables):
        xd = x._data
        d = xd.ndim - 2
        win = xd
        for i, (pos, _) in enumerate(tables):  # (N, C, o1, m1, o2, m2, ...)
            win = np.take(win, pos, axis=2 + 2 * i)
        win = win.transpose(0, 1, *range(2, 2 + 2 * d, 2), *range(3, 3 + 2 * d, 2))
        k = tuple(pos.shape[1] for pos, _ in tables)
        y, kidx = _window_argmax(win, k)
        # the chosen tap is never a repeated (clamped) one, so it sits at start + j
        starts = [pos[:, 0] for pos, _ in tables]
        ctx.idx = _flat_index(kidx, k, starts, (1,) * d, xd.shape[2:])
        ctx.shape, ctx.n_args = xd.shape, 1
        return y, ctx.idx


def _named(base, name: str, scatter=None):
    """A subclass of a primitive whose graph node carries PyTorch's name for ``name``."""
    cls = type(name, (base,), {"_node_name": f"{name}Backward0"})
    if scatter is not None:
        cls._scatter = type(name + "Scatter", (scatter,), {"_node_name": f"{name}BackwardBackward0"})
    return cls


_MAX_POOL = {d: _named(MaxPool, f"MaxPool{d}DWithIndices", _PoolScatter) for d in (2, 3)}
_ADAPTIVE_MAX_POOL = {d: _named(AdaptiveMaxPool, f"AdaptiveMaxPool{d}D", _PoolScatter) for d in (2, 3)}


def _pool_args(kernel_size, stride, padding, d: int):
    k = _ntuple(kernel_size, d, "kernel_size")
    empty = stride is None or (not isinstance(stride, (int, np.integer)) and len(stride) == 0)
    return k, k if empty else _ntuple(stride, d, "stride"), _ntuple(padding, d, "padding")


def _check_pool(x, k, s, p, dl, ceil, name):
    for pp, kk, dd in zip(p, k, dl, strict=True):
        if pp > (dd * (kk - 1) + 1) // 2:
            raise RuntimeError(
                f"pad should be at most half of effective kernel size, but got pad={pp}, kernel_size={kk} "
                f"and dilation={dd}"
            )
    out = [_out_size(*a, ceil) for a in zip(x.shape[2:], k, s, p, dl, strict=True)]
    if any(o <= 0 for o in out):
        raise RuntimeError(
            f"Given input size: {tuple(x.shape[1:])}. Calculated output size: {(x.shape[1], *out)}. Output "
            "size is too small"
        )


def _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, d):
    x, unbatched = _batched(input, d, f"max_pool{d}d")
    k, s, p = _pool_args(kernel_size, stride, padding, d)
    dl = _ntuple(dilation, d, "dilation")
    _check_pool(x, k, s, p, dl, ceil_mode, f"max_pool{d}d")
    y, idx = _MAX_POOL[d].apply(x, k, s, p, dl, ceil_mode)
    if unbatched:
        y, idx = y.squeeze(0), idx.squeeze(0)
    return (y, idx) if return_indices else y


def max_pool2d(
    input: Tensor,
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode: bool = False,
    return_indices: bool = False,
):
    """2-D max pooling over (N, C, H, W); ``return_indices`` also returns the flat argmax positions.

    Example::

        >>> y = max_pool2d(torch.randn(8, 16, 28, 28), 2)   # (8, 16, 14, 14)
    """
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 2)


def max_pool3d(
    input: Tensor,
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode: bool = False,
    return_indices: bool = False,
):
    """3-D max pooling over (N, C, D, H, W)."""
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 3)


def _as_2d(v, pad_value):
    """A 1-D pooling argument as the 2-D one of a height-1 image."""
    return (
        None
        if v is None or (not isinstance(v, (int, np.integer)) and len(v) == 0)
        else (pad_value, *_ntuple(v, 1))
    )


def max_pool1d(
    input: Tensor,
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode: bool = False,
    return_indices: bool = False,
):
    """1-D max pooling over (N, C, L), run (as PyTorch runs it) as 2-D pooling of a height-1 image."""
    r = max_pool2d(input.unsqueeze(-2), _as_2d(kernel_size, 1), _as_2d(stride, 1), _as_2d(padding, 0),
                   _as_2d(dilation, 1), ceil_mode, return_indices)  # fmt: skip
    return (r[0].squeeze(-2), r[1].squeeze(-2)) if return_indices else r.squeeze(-2)


# -- average pooling ------------------------------------------------------------------------------
def _avg_table(n, k, s, p, ceil, include_pad, axis):
    out = _out_size(n, k, s, p, 1, ceil)
    start = np.arange(out) * s - p
    pos = start[:, None] + np.arange(k)
    valid = (pos >= 0) & (pos < n)
    end = np.minimum(start + k, n + p)
    size = end - start if include_pad else np.minimum(end, n) - np.maximum(start, 0)
    return [axis, np.clip(pos, 0, n - 1), valid / size[:, None], n]


def _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, d):
    x, unbatched = _batched(input, d, f"avg_pool{d}d")
    k, s, p = _pool_args(kernel_size, stride, padding, d)
    for pp, kk in zip(p, k, strict=True):
        if pp > kk // 2:
            raise RuntimeError(
                f"pad should be at most half of effective kernel size, but got pad={pp}, kernel_size={kk} "
                "and dilation=1"
            )
    _check_pool(x, k, s, p, (1,) * d, ceil_mode, f"avg_pool{d}d")
    tables = [
        _avg_table(x.shape[2 + i], k[i], s[i], p[i], ceil_mode, count_include_pad, 2 + i) for i in range(d)
    ]
    if divisor_override:
        for t in tables:
            t[2] = (t[2] > 0).astype(np.float64)
        tables[-1][2] = tables[-1][2] / divisor_override
    y = _apply_tables(f"AvgPool{d}D", x, [tuple(t) for t in reversed(tables)])
    return y.squeeze(0) if unbatched else y


def avg_pool2d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:  # fmt: skip
    """2-D average pooling over (N, C, H, W)."""
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, 2)


def avg_pool3d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:  # fmt: skip
    """3-D average pooling over (N, C, D, H, W)."""
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, 3)


def avg_pool1d(
    input: Tensor,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> Tensor:
    """1-D average pooling over (N, C, L), run as 2-D pooling of a height-1 image (as PyTorch does)."""
    y = avg_pool2d(
        input.unsqueeze(-2),
        _as_2d(kernel_size, 1),
        _as_2d(stride, 1),
        _as_2d(padding, 0),
        ceil_mode,
        count_include_pad,
    )
    return y.squeeze(-2)


# -- adaptive pooling -----------------------------------------------------------------------------
def _adaptive_table(n, out):
    """Windows [floor(o n / out), ceil((o + 1) n / out)): positions padded by repeating the last one."""
    o = np.arange(out)
    start, end = o * n // out, -(-(o + 1) * n // out)
    j = np.arange(int((end - start).max()))
    pos = np.minimum(start[:, None] + j, end[:, None] - 1)
    return pos, j < (end - start)[:, None], end - start


def _adaptive_size(x, output_size, d):
    out = (output_size,) * d if isinstance(output_size, (int, np.integer)) else tuple(output_size)
    if len(out) == 1 and d > 1:
        out = out * d
    return tuple(x.shape[2 + i] if o is None else int(o) for i, o in enumerate(out))


def _adaptive_avg_pool(input, output_size, d):
    x, unbatched = _batched(input, d, f"adaptive_avg_pool{d}d")
    out = _adaptive_size(x, output_size, d)
    if all(o == 1 for o in out):  # PyTorch takes the mean here (global average pooling)
        y = x.mean(tuple(range(-d, 0)), keepdim=True)
    else:
        tables = []
        for i in reversed(range(d)):
            pos, valid, size = _adaptive_table(x.shape[2 + i], out[i])
            tables.append((2 + i, pos, valid / size[:, None], x.shape[2 + i]))
        y = _apply_tables(f"AdaptiveAvgPool{d}D", x, tables)
    return y.squeeze(0) if unbatched else y


def adaptive_avg_pool2d(input: Tensor, output_size) -> Tensor:
    """Average pooling to a fixed (H_out, W_out); ``None`` keeps that input size."""
    return _adaptive_avg_pool(input, output_size, 2)


def adaptive_avg_pool3d(input: Tensor, output_size) -> Tensor:
    return _adaptive_avg_pool(input, output_size, 3)


def adaptive_avg_pool1d(input: Tensor, output_size) -> Tensor:
    """Average pooling to a fixed length, run as 2-D pooling of a height-1 image (as PyTorch does)."""
    return adaptive_avg_pool2d(input.unsqueeze(-2), (1, *_ntuple(output_size, 1))).squeeze(-2)


def _adaptive_max_pool(input, output_size, return_indices, d):
    x, unbatched = _batched(input, d, f"adaptive_max_pool{d}d")
    out = _adaptive_size(x, output_size, d)
    tables = tuple((_adaptive_table(x.shape[2 + i], out[i])[0], x.shape[2 + i]) for i in range(d))
    y, idx = _ADAPTIVE_MAX_POOL[d].apply(x, tables)
    if unbatched:
        y, idx = y.squeeze(0), idx.squeeze(0)
    return (y, idx) if return_indices else y


def adaptive_max_pool2d(input: Tensor, output_size, return_indices: bool = False):
    """Max pooling to a fixed (H_out, W_out)."""
    return _adaptive_max_pool(input, output_size, return_indices, 2)


def adaptive_max_pool3d(input: Tensor, output_size, return_indices: bool = False):
    return _adaptive_max_pool(input, output_size, return_indices, 3)


def adaptive_max_pool1d(input: Tensor, output_size, return_indices: bool = False):
    """Max pooling to a fixed length, run as 2-D pooling of a height-1 image (as PyTorch does)."""
    r = adaptive_max_pool2d(input.unsqueeze(-2), (1, *_ntuple(output_size, 1)), return_indices)
    return (r[0].squeeze(-2), r[1].squeeze(-2)) if return_indices else r.squeeze(-2)
