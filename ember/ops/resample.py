# ruff: noqa: PLR0917, A002 - an Op's forward takes the op's own argument list; `input` is PyTorch's name
"""Separable resampling: reflect/replicate/circular padding, nearest and (bi/tri)linear interpolation,
and pixel (un)shuffle.

Each of these ops is separable: along each spatial axis, every output is a weighted sum of a few
inputs. One primitive, ``AxisGather``, applies such per-axis tables (index, weight); its transpose (the
backward) is the same primitive with the inverted tables, and the transpose of that is the original:
double backward for free. Named subclasses carry PyTorch's node names (``UpsampleBilinear2DBackward0``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from ._base import Op, Tensor, np
from ._sliding import _ntuple
from .nn_ops import ConstantPadNd


# -- separable resampling: one gather primitive ---------------------------------------------------
def _gather_axis(a, axis, idx, w):
    """Along ``axis``: out[o] = sum_j w[o, j] a[idx[o, j]] (a plain take when w is None)."""
    if w is None:
        return np.take(a, idx[:, 0], axis=axis, mode="clip")
    shape = (-1,) + (1,) * (a.ndim - 1 - axis)
    w = w.astype(a.dtype, copy=False)
    if idx.shape[1] == 0:
        return np.zeros(a.shape[:axis] + (idx.shape[0],) + a.shape[axis + 1 :], a.dtype)
    out = np.take(a, idx[:, 0], axis=axis, mode="clip") * w[:, 0].reshape(shape)
    for j in range(1, idx.shape[1]):
        out += np.take(a, idx[:, j], axis=axis, mode="clip") * w[:, j].reshape(shape)
    return out


def _invert(table):
    """The transposed table: for each input position, the (output position, weight) pairs reading it."""
    axis, idx, w, n_in = table
    n_out, m = idx.shape
    src, tgt = np.repeat(np.arange(n_out), m), idx.ravel()
    wt = np.ones(tgt.size) if w is None else w.ravel()
    keep = wt != 0
    src, tgt, wt = src[keep], tgt[keep], wt[keep]
    order = np.argsort(tgt, kind="stable")
    src, tgt, wt = src[order], tgt[order], wt[order]
    counts = np.bincount(tgt, minlength=n_in)
    width = int(counts.max()) if counts.size else 0
    slot = np.arange(tgt.size) - np.repeat(np.cumsum(counts) - counts, counts)
    inv_idx, inv_w = np.zeros((n_in, width), np.int64), np.zeros((n_in, width))
    inv_idx[tgt, slot], inv_w[tgt, slot] = src, wt
    if w is None and (counts == 1).all():
        inv_w = None  # a permutation stays a plain take
    return axis, inv_idx, inv_w, n_out


class AxisGather(Op):
    """y = per axis, sum_j w[o, j] x[idx[o, j]];  dx = the same gather with the transposed tables"""

    _partner = None

    @staticmethod
    def forward(ctx, x, tables, inverse=None):
        ctx.tables, ctx.inverse = tables, inverse
        y = x._data
        for axis, idx, w, _ in tables:
            y = _gather_axis(y, axis, idx, w)
        return y if y is not x._data else y.copy()

    @staticmethod
    def backward(ctx, g):
        inverse = ctx.inverse if ctx.inverse is not None else tuple(_invert(t) for t in ctx.tables)
        return type(ctx)._forward_cls._partner.apply(g, inverse, ctx.tables), None, None


_GATHER_OPS: dict = {}


def _gather_op(name: str):
    """The AxisGather primitive named ``name`` (node ``{name}Backward0``) and its transpose."""
    op = _GATHER_OPS.get(name)
    if op is None:
        node = (
            name if name == "CopySlices" else f"{name}Backward0"
        )  # circular padding: PyTorch's slice copies
        op = type(name, (AxisGather,), {"_node_name": node})
        op._partner = type(
            name + "T", (AxisGather,), {"_node_name": node.replace("Backward0", "BackwardBackward0")}
        )
        op._partner._partner = op
        _GATHER_OPS[name] = op
    return op


def _apply_tables(name: str, x: Tensor, tables) -> Tensor:
    return _gather_op(name).apply(x, tuple(tables))


# -- padding --------------------------------------------------------------------------------------
_PAD_MODES = {
    "reflect": ("reflect", "ReflectionPad{}D"),
    "replicate": ("edge", "ReplicationPad{}D"),
    "circular": ("wrap", "CopySlices"),
}


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad the last ``len(pad) // 2`` dims; ``pad`` runs last dim first: (left, right, top, bottom, ...).

    Modes: 'constant' (with ``value``), 'reflect', 'replicate', 'circular'. Negative pads crop.
    """
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) // 2 > input.ndim:
        raise RuntimeError(
            "Padding length should be less than or equal to two times the input dimension but got padding "
            f"length {len(pad)} and input of dimension {input.ndim}"
        )
    if mode == "constant":
        return ConstantPadNd.apply(input, pad, 0.0 if value is None else value)
    if mode not in _PAD_MODES:
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if value:
        raise ValueError(f'Padding mode "{mode}" doesn\'t take in value argument')
    d = len(pad) // 2
    if not (1 <= d <= 3 and d + 1 <= input.ndim <= d + 2):
        raise NotImplementedError(
            f"Padding size {len(pad)} is not supported for {input.ndim}D input tensor.\n"
            "Supported combinations for non-constant padding:\n"
            "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
            "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
            "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)"
        )
    np_mode, name = _PAD_MODES[mode]
    tables = []
    for i in range(d):
        axis = input.ndim - 1 - i
        n, lo, hi = input.shape[axis], pad[2 * i], pad[2 * i + 1]
        if mode == "reflect" and (lo >= n or hi >= n):
            raise RuntimeError(
                "Argument #4: Padding size should be less than the corresponding input dimension, but got: "
                "padding "
                f"({lo}, {hi}) at dimension {axis} of input {list(input.shape)}"
            )
        if mode == "circular" and (lo > n or hi > n):
            raise RuntimeError("Padding value causes wrapping around more than once.")
        src = np.pad(np.arange(n), (max(lo, 0), max(hi, 0)), mode=np_mode)
        src = src[max(-lo, 0) : src.size - max(-hi, 0)]
        tables.append((axis, src[:, None], None, n))
    return _apply_tables(name.format(d), input, tables)


# -- interpolation --------------------------------------------------------------------------------
def _scale(n_in, n_out, scale, dt):
    """PyTorch's compute_scales_value: 1 / scale_factor when one was given, else in / out (in op math)."""
    return dt.type(1.0 / scale) if scale is not None and scale > 0 else dt.type(n_in) / dt.type(n_out)


def _nearest_table(n_in, n_out, scale, exact, dt, axis):
    o = np.arange(n_out)
    if not exact and n_out == n_in:
        src = o
    elif not exact and n_out == 2 * n_in:
        src = o >> 1
    else:
        sc = _scale(n_in, n_out, scale, np.dtype(np.float32))
        src = np.floor((o + 0.5) * np.float64(sc)) if exact else np.floor(o.astype(np.float32) * sc)
        src = np.minimum(src.astype(np.int64), n_in - 1)
    return axis, src[:, None], None, n_in


def _linear_table(n_in, n_out, scale, align_corners, dt, axis):
    o = np.arange(n_out).astype(dt)
    if align_corners:
        sc = dt.type(n_in - 1) / dt.type(n_out - 1) if n_out > 1 else dt.type(0)
        src = sc * o
    else:
        src = np.maximum(_scale(n_in, n_out, scale, dt) * (o + dt.type(0.5)) - dt.type(0.5), 0)
    i0 = np.minimum(src.astype(np.int64), n_in - 1)
    l1 = np.clip(src - i0.astype(dt), 0, 1)
    idx = np.stack([i0, np.minimum(i0 + 1, n_in - 1)], 1)
    return axis, idx, np.stack([1 - l1, l1], 1).astype(np.float64), n_in


_LINEAR = {1: "UpsampleLinear1D", 2: "UpsampleBilinear2D", 3: "UpsampleTrilinear3D"}
_LINEAR_MODES = {"linear": 1, "bilinear": 2, "trilinear": 3}


def interpolate(
    input: Tensor,
    size=None,
    scale_factor=None,
    mode: str = "nearest",
    align_corners: bool | None = None,
    recompute_scale_factor: bool | None = None,
    antialias: bool = False,
) -> Tensor:
    """Resize the spatial dims of (N, C, *S) by ``size`` or ``scale_factor``.

    Modes: 'nearest', 'nearest-exact', 'linear' (3-D input), 'bilinear' (4-D), 'trilinear' (5-D), 'area'.
    """
    d = input.ndim - 2
    if d < 1 or d > 3:
        raise NotImplementedError(
            f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.ndim}D) for the modes: "
            f"nearest | linear | bilinear | bicubic | trilinear | area | nearest-exact (got {mode})"
        )
    if antialias or mode == "bicubic":
        raise NotImplementedError(
            f"ember: interpolate mode={mode!r} antialias={antialias} is not implemented"
        )
    if mode in _LINEAR_MODES:
        if _LINEAR_MODES[mode] != d:
            raise NotImplementedError(
                f"Got {input.ndim}D input, but {mode} mode needs {_LINEAR_MODES[mode] + 2}D input"
            )
    elif align_corners is not None:
        raise ValueError(
            "align_corners option can only be set with the interpolating modes: linear | bilinear | "
            "bicubic | trilinear"
        )
    if (size is None) == (scale_factor is None):
        raise ValueError(
            "either size or scale_factor should be defined"
            if size is None
            else "only one of size or scale_factor should be defined"
        )
    sp = input.shape[2:]
    if size is not None:
        out = _ntuple(size, d, "size")
        scales = (None,) * d
    else:
        sf = (
            (float(scale_factor),) * d
            if isinstance(scale_factor, (int, float))
            else tuple(float(f) for f in scale_factor)
        )
        if len(sf) != d:
            raise ValueError(
                "Input and scale_factor must have the same number of spatial dimensions, but got input "
                f"with spatial dimensions of {list(sp)} and scale_factor of shape {list(sf)}."
            )
        out = tuple(math.floor(n * f) for n, f in zip(sp, sf, strict=True))
        scales = (None,) * d if recompute_scale_factor else sf
    if mode == "area":
        from .pooling import _adaptive_avg_pool  # pooling builds on this module  # noqa: PLC0415

        return _adaptive_avg_pool(input, out, d)
    dt = np.dtype(input._data.dtype if input.dtype.is_floating_point else np.float32)
    tables = []
    for i in reversed(range(d)):  # last axis first: PyTorch's order of the linear blend
        if mode in _LINEAR_MODES:
            tables.append(_linear_table(sp[i], out[i], scales[i], bool(align_corners), dt, 2 + i))
        elif mode in ("nearest", "nearest-exact"):
            tables.append(_nearest_table(sp[i], out[i], scales[i], mode == "nearest-exact", dt, 2 + i))
        else:
            raise NotImplementedError(f"ember: interpolate mode {mode!r} is not implemented")
    if mode in _LINEAR_MODES:
        name = _LINEAR[d]
    else:
        name = f"UpsampleNearest{'Exact' if mode == 'nearest-exact' else ''}{d}D"
    return _apply_tables(name, input, tables)


def upsample(
    input: Tensor, size=None, scale_factor=None, mode: str = "nearest", align_corners: bool | None = None
) -> Tensor:
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input: Tensor, size=None, scale_factor=None) -> Tensor:
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input: Tensor, size=None, scale_factor=None) -> Tensor:
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# -- pixel shuffle --------------------------------------------------------------------------------
def _fresh(a, src):
    """``a``, copied when it is a view of ``src`` (r = 1 rearranges nothing): outputs own their memory."""
    return a.copy() if np.may_share_memory(a, src) else a


class PixelShuffle(Op):
    """(*, C r^2, H, W) -> (*, C, H r, W r);  dx = pixel_unshuffle(g)"""

    @staticmethod
    def forward(ctx, x, r):
        ctx.r = r
        *b, c, h, w = x._data.shape
        y = x._data.reshape(*b, c // (r * r), r, r, h, w)
        n = y.ndim
        y = y.transpose(*range(n - 5), n - 5, n - 2, n - 4, n - 1, n - 3)  # (*, C, H, r, W, r)
        return _fresh(y.reshape(*b, c // (r * r), h * r, w * r), x._data)

    @staticmethod
    def backward(ctx, g):
        return PixelUnshuffle.apply(g, ctx.r), None


class PixelUnshuffle(Op):
    """(*, C, H r, W r) -> (*, C r^2, H, W);  dx = pixel_shuffle(g)"""

    @staticmethod
    def forward(ctx, x, r):
        ctx.r = r
        *b, c, hr, wr = x._data.shape
        y = x._data.reshape(*b, c, hr // r, r, wr // r, r)
        n = y.ndim
        y = y.transpose(*range(n - 5), n - 5, n - 3, n - 1, n - 4, n - 2)  # (*, C, r, r, H, W)
        return _fresh(y.reshape(*b, c * r * r, hr // r, wr // r), x._data)

    @staticmethod
    def backward(ctx, g):
        return PixelShuffle.apply(g, ctx.r), None


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """Rearrange (*, C r^2, H, W) into (*, C, H r, W r)."""
    r = int(upscale_factor)
    if input.ndim < 3:
        raise RuntimeError(
            f"pixel_shuffle expects input to have at least 3 dimensions, but got input with {input.ndim} "
            "dimension(s)"
        )
    if input.shape[-3] % (r * r):
        raise RuntimeError(
            "pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of "
            "upscale_factor, "
            f"but input.size(-3)={input.shape[-3]} is not divisible by {r * r}"
        )
    return PixelShuffle.apply(input, r)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """Rearrange (*, C, H r, W r) into (*, C r^2, H, W)."""
    r = int(downscale_factor)
    if input.ndim < 3:
        raise RuntimeError(
            f"pixel_unshuffle expects input to have at least 3 dimensions, but got input with {input.ndim} "
            "dimension(s)"
        )
    if input.shape[-2] % r or input.shape[-1] % r:
        raise RuntimeError(
            "pixel_unshuffle expects height and width to be divisible by downscale_factor, but "
            "input.size(-2)="
            f"{input.shape[-2]} and input.size(-1)={input.shape[-1]} are not divisible by {r}"
        )
    return PixelUnshuffle.apply(input, r)
