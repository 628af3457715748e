# ruff: noqa: PLR0917, A002 - an Op's forward takes the op's own argument list; `input` is PyTorch's name
"""Convolution and im2col/col2im (unfold/fold): fast primitives on NumPy + BLAS.

NOTE [ conv as im2col ]: the input is copied once into a zero-padded channels-last array; a strided
window view of it (no copy) is reshaped into columns (the im2col copy, contiguous along channels)
and contracted with the weight by one matmul per group. The adjoint (the input gradient, and
conv_transpose's forward) is, for stride 1, the same with the flipped kernel; for larger strides, one
matmul to columns, then one strided slice-add per kernel offset (col2im). Python loops run over kernel
offsets only, never over pixels or batch elements.

The backward of ``Convolution`` is ``ConvolutionBackward``, itself a primitive whose backward is made of
``Convolution`` and ``ConvolutionBackward`` (PyTorch's ``_convolution_double_backward``), so derivatives
of any order work. This module also re-exports the pooling and resampling functions
(``ember.ops.pooling``, ``ember.ops.resample``): ``ember.ops.conv`` is the one place to alias them from.
"""

from __future__ import annotations

import math

from ._base import Op, Tensor, np
from ._sliding import _as_strided, _batched, _ntuple, _offsets, _out_size
from .nn_ops import ConstantPadNd
from .pooling import (
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_avg_pool3d,
    adaptive_max_pool1d,
    adaptive_max_pool2d,
    adaptive_max_pool3d,
    avg_pool1d,
    avg_pool2d,
    avg_pool3d,
    max_pool1d,
    max_pool2d,
    max_pool3d,
)
from .resample import (
    interpolate,
    pad,
    pixel_shuffle,
    pixel_unshuffle,
    upsample,
    upsample_bilinear,
    upsample_nearest,
)


# -- convolution kernels (arrays) -----------------------------------------------------------------
def _cl_pad(x, pads):
    """x (N, C, *S) as channels-last (N, *S, C), each spatial axis padded by a (lo, hi) pair of zeros
    (negative pads crop)."""
    moved = np.moveaxis(x, 1, -1)
    if not any(lo or hi for lo, hi in pads):
        return np.ascontiguousarray(moved)
    crop = tuple(slice(max(-lo, 0), n - max(-hi, 0)) for n, (lo, hi) in zip(x.shape[2:], pads, strict=True))
    moved = moved[(slice(None), *crop)]
    shape = (
        x.shape[0],
        *(n + max(lo, 0) + max(hi, 0) for n, (lo, hi) in zip(moved.shape[1:-1], pads, strict=True)),
        x.shape[1],
    )
    xp = np.zeros(shape, x.dtype)
    xp[
        (
            slice(None),
            *(slice(max(lo, 0), max(lo, 0) + n) for n, (lo, _) in zip(moved.shape[1:-1], pads, strict=True)),
        )
    ] = moved
    return xp


def _im2col(xp, out, k, s, dl, groups):
    """The windows of channels-last xp (N, *Sp, C) as (G, N*prod(out), prod(k)*C/G) columns."""
    n, c, d = xp.shape[0], xp.shape[-1], len(k)
    cg, st = c // groups, xp.strides
    shape = (n, *out, *k, groups, cg)
    strides = (
        st[0],
        *(st[1 + i] * s[i] for i in range(d)),
        *(st[1 + i] * dl[i] for i in range(d)),
        st[-1] * cg,
        st[-1],
    )
    win = _as_strided(xp, shape, strides, writeable=False)
    return np.moveaxis(win, 1 + 2 * d, 0).reshape(groups, n * math.prod(out), -1)


def _wmat(w, groups):
    """Weight (O, Cg, *k) as (G, O/G, prod(k)*Cg), the column order of ``_im2col``."""
    o, cg = w.shape[:2]
    return np.ascontiguousarray(
        w.reshape(groups, o // groups, cg, -1).transpose(0, 1, 3, 2).reshape(groups, o // groups, -1)
    )


def _pairs(p):
    return [(a, a) for a in p]


def _conv_fwd(x, w, s, pads, dl, groups):
    """y = conv(x, w): (N, C, *S) x (O, C/G, *k) -> (N, O, *out); ``pads`` are (lo, hi) pairs."""
    n, o, k = x.shape[0], w.shape[0], w.shape[2:]
    xp = _cl_pad(x, pads)
    out = tuple(_out_size(*a) for a in zip(xp.shape[1:-1], k, s, (0,) * len(k), dl, strict=True))
    cols = _im2col(xp, out, k, s, dl, groups)
    y = cols @ _wmat(w, groups).transpose(0, 2, 1)  # (G, N*P, O/G)
    return np.ascontiguousarray(
        y.reshape(groups, n, -1, o // groups).transpose(1, 0, 3, 2).reshape(n, o, *out)
    )


def _conv_adj(g, w, xshape, s, p, dl, groups):
    """The adjoint of conv(., w) at g, shaped ``xshape``: conv's input gradient, conv_transpose's output."""
    n, o, *out = g.shape
    cg, k, d, sp = w.shape[1], w.shape[2:], len(out), xshape[2:]
    if all(st == 1 for st in s):
        # stride 1: a plain convolution of g with the flipped, in/out-swapped kernel (im2col again)
        wf = w.reshape(groups, o // groups, cg, *k).swapaxes(1, 2).reshape(cg * groups, o // groups, *k)
        wf = np.ascontiguousarray(wf[(slice(None), slice(None), *(slice(None, None, -1),) * d)])
        lo = [dd * (kk - 1) - pp for dd, kk, pp in zip(dl, k, p, strict=True)]
        pads = [(a, t - q - a + dd * (kk - 1)) for a, t, q, dd, kk in zip(lo, sp, out, dl, k, strict=True)]
        return _conv_fwd(g, wf, s, pads, dl, groups)
    gm = np.ascontiguousarray(
        g.reshape(n, groups, o // groups, -1).transpose(1, 0, 3, 2).reshape(groups, -1, o // groups)
    )
    cols = (gm @ _wmat(w, groups)).reshape(groups, n, *out, *k, cg)
    xp = np.zeros((n, *(a + 2 * b for a, b in zip(sp, p, strict=True)), groups, cg), g.dtype)
    lead = (slice(None),) * (2 + d)
    for kidx, sl in _offsets(k, s, dl, out):  # col2im: one strided add per kernel offset
        xp[(slice(None), *sl)] += np.moveaxis(cols[(*lead, *kidx)], 0, -2)
    crop = xp[(slice(None), *(slice(b, b + a) for a, b in zip(sp, p, strict=True)))]
    return np.ascontiguousarray(np.moveaxis(crop.reshape(n, *sp, -1), -1, 1))


def _conv_wgrad(x, g, wshape, s, p, dl, groups):
    """dL/dw of y = conv(x, w) given g = dL/dy, for a weight of ``wshape``."""
    n, o, *out = g.shape
    og, cg = o // groups, wshape[1]
    cols = _im2col(_cl_pad(x, _pairs(p)), out, wshape[2:], s, dl, groups)
    # contiguous operands keep matmul on BLAS (an expanded grad has zero strides)
    gm = np.ascontiguousarray(g.reshape(n, groups, og, -1).transpose(1, 2, 0, 3).reshape(groups, og, -1))
    return (gm @ cols).reshape(groups, og, -1, cg).transpose(0, 1, 3, 2).reshape(wshape)


def _transposed_size(sp, k, s, p, dl, op):
    return tuple(
        (i - 1) * st - 2 * pp + d * (kk - 1) + o + 1
        for i, kk, st, pp, d, o in zip(sp, k, s, p, dl, op, strict=True)
    )


class Convolution(Op):
    """y = conv(x, w) + b, or its adjoint conv_transpose(x, w) + b;  backward is ConvolutionBackward"""

    @staticmethod
    def forward(ctx, x, w, b, stride, padding, dilation, transposed, output_padding, groups):
        ctx.save_for_backward(x, w)
        ctx.args = (stride, padding, dilation, transposed, output_padding, groups)
        xd, wd = x._data, w._data
        if transposed:
            sp = _transposed_size(xd.shape[2:], wd.shape[2:], stride, padding, dilation, output_padding)
            y = _conv_adj(xd, wd, (xd.shape[0], wd.shape[1] * groups, *sp), stride, padding, dilation, groups)
        else:
            y = _conv_fwd(xd, wd, stride, _pairs(padding), dilation, groups)
        if b is not None:
            y += b._data.reshape(1, -1, *(1,) * (y.ndim - 2))
        return y

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        nig = ctx.needs_input_grad
        gx, gw, gb = ConvolutionBackward.apply(g, x, w, *ctx.args, nig[:3])
        return gx, gw, gb, None, None, None, None, None, None


class ConvolutionBackward(Op):
    """(gx, gw, gb) of Convolution at g;  bilinear in (g, x) and (g, w), so its backward is convolutions"""

    _node_name = "ConvolutionBackwardBackward0"

    @staticmethod
    def forward(ctx, g, x, w, stride, padding, dilation, transposed, output_padding, groups, mask):
        ctx.save_for_backward(g, x, w)
        ctx.args = (stride, padding, dilation, transposed, output_padding, groups)
        ctx.set_materialize_grads(False)
        gd, xd, wd = g._data, x._data, w._data
        a = (stride, padding, dilation)
        pa = (stride, _pairs(padding), dilation)
        gx = gw = gb = None
        if mask[0]:
            if transposed:  # the adjoint of conv_transpose is conv (cropped: output_padding may add rows)
                gx = _conv_fwd(gd, wd, *pa, groups)[(..., *(slice(0, n) for n in xd.shape[2:]))]
                gx = np.ascontiguousarray(gx)
            else:
                gx = _conv_adj(gd, wd, xd.shape, *a, groups)
        if mask[1]:
            gw = (
                _conv_wgrad(gd, xd, wd.shape, *a, groups)
                if transposed
                else _conv_wgrad(xd, gd, wd.shape, *a, groups)
            )
        if mask[2]:
            gb = gd.sum(axis=(0, *range(2, gd.ndim)))
        return gx, gw, gb

    @staticmethod
    def backward(ctx, ggx, ggw, ggb):
        # PyTorch's _convolution_double_backward: each term is a convolution of the same kind
        g, x, w = ctx.saved_tensors
        args = ctx.args
        nig = ctx.needs_input_grad
        dg = dx = dw = None
        if nig[0]:
            if ggx is not None:
                dg = Convolution.apply(ggx, w, ggb, *args)
            if ggw is not None:
                t = Convolution.apply(x, ggw, None if dg is not None else ggb, *args)
                dg = t if dg is None else dg + t
            if dg is None and ggb is not None:
                dg = ggb.reshape(1, -1, *(1,) * (g.ndim - 2)).expand(g.shape)
        if nig[1] and ggw is not None:
            dx = ConvolutionBackward.apply(g, x, ggw, *args, (True, False, False))[0]
        if nig[2] and ggx is not None:
            dw = ConvolutionBackward.apply(g, ggx, w, *args, (False, True, False))[1]
        return dg, dx, dw, None, None, None, None, None, None, None


# -- convolution: the functional API --------------------------------------------------------------
def _check_conv(x: Tensor, w: Tensor, b, groups: int, transposed: bool) -> None:
    if x.dtype is not w.dtype:
        raise RuntimeError(
            f"Input type ({x.type()}) and weight type ({w.type()}) should be the same or input should be a "
            "MKLDNN tensor and weight is a dense tensor"
        )
    if w.ndim != x.ndim:
        raise RuntimeError(
            f"Expected {x.ndim}-dimensional weight for {x.ndim}-dimensional input, but got weight of size "
            f"{list(w.shape)}"
        )
    c_in = w.shape[0] if transposed else w.shape[1] * groups
    if not transposed and w.shape[0] % groups:
        raise RuntimeError(
            f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, but got "
            "weight "
            f"of size [{list(w.shape)}] instead"
        )
    if x.shape[1] != c_in:
        what = f"weight of size {list(w.shape)}, expected input{list(x.shape)} to have {c_in} channels"
        raise RuntimeError(f"Given groups={groups}, {what}, but got {x.shape[1]} channels instead")
    c_out = w.shape[1] * groups if transposed else w.shape[0]
    if b is not None and (b.ndim != 1 or b.shape[0] != c_out):
        raise RuntimeError(
            f"Given weight of size {list(w.shape)}, expected bias to be 1-dimensional with {c_out} "
            "elements, but "
            f"got bias of size {list(b.shape)} instead"
        )


def _conv(input, weight, bias, stride, padding, dilation, groups, d: int, name: str) -> Tensor:
    x, unbatched = _batched(input, d, name)
    _check_conv(x, weight, bias, groups, False)
    stride, dilation = _ntuple(stride, d, "stride"), _ntuple(dilation, d, "dilation")
    k = weight.shape[2:]
    if isinstance(padding, str):
        if padding == "valid":
            padding = (0,) * d
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            total = [dl * (kk - 1) for dl, kk in zip(dilation, k, strict=True)]
            padding = tuple(t // 2 for t in total)
            extra = [t - 2 * (t // 2) for t in total]
            if any(extra):  # an even kernel: PyTorch pads the extra zero on the right, then convolves
                pads = []
                for e in reversed(extra):
                    pads += [0, e]
                x = ConstantPadNd.apply(x, tuple(pads), 0.0)
        else:
            raise ValueError(f"Invalid padding string '{padding}', should be one of ('valid', 'same')")
    padding = _ntuple(padding, d, "padding")
    sp = [n + 2 * p for n, p in zip(x.shape[2:], padding, strict=True)]
    span = [dl * (kk - 1) + 1 for dl, kk in zip(dilation, k, strict=True)]
    if any(a < b for a, b in zip(sp, span, strict=True)):
        raise RuntimeError(
            f"Calculated padded input size per channel: ({' x '.join(map(str, sp))}). Kernel size: "
            f"({' x '.join(map(str, span))}). Kernel size can't be greater than actual input size"
        )
    y = Convolution.apply(x, weight, bias, stride, padding, dilation, False, (0,) * d, groups)
    return y.squeeze(0) if unbatched else y


def conv1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride=1,
    padding=0,
    dilation=1,
    groups: int = 1,
) -> Tensor:
    """1-D convolution (cross-correlation) over (N, C_in, L) with weight (C_out, C_in/groups, k)."""
    return _conv(input, weight, bias, stride, padding, dilation, groups, 1, "conv1d")


def conv2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride=1,
    padding=0,
    dilation=1,
    groups: int = 1,
) -> Tensor:
    """2-D convolution over (N, C_in, H, W) with weight (C_out, C_in/groups, kH, kW).

    Example::

        >>> y = conv2d(torch.randn(8, 3, 32, 32), torch.randn(16, 3, 3, 3), padding=1)   # (8, 16, 32, 32)
    """
    return _conv(input, weight, bias, stride, padding, dilation, groups, 2, "conv2d")


def conv3d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride=1,
    padding=0,
    dilation=1,
    groups: int = 1,
) -> Tensor:
    """3-D convolution over (N, C_in, D, H, W) with weight (C_out, C_in/groups, kD, kH, kW)."""
    return _conv(input, weight, bias, stride, padding, dilation, groups, 3, "conv3d")


def _conv_transpose(
    input, weight, bias, stride, padding, output_padding, groups, dilation, d: int, name: str
):
    x, unbatched = _batched(input, d, name)
    _check_conv(x, weight, bias, groups, True)
    stride, padding = _ntuple(stride, d, "stride"), _ntuple(padding, d, "padding")
    dilation, output_padding = _ntuple(dilation, d, "dilation"), _ntuple(output_padding, d, "output_padding")
    for op, s, dl in zip(output_padding, stride, dilation, strict=True):
        if op >= max(s, dl):
            raise RuntimeError(
                "output padding must be smaller than either stride or dilation, but got "
                f"output_padding={list(output_padding)}, "
                f"stride={list(stride)}, dilation={list(dilation)}"
            )
    sp = _transposed_size(x.shape[2:], weight.shape[2:], stride, padding, dilation, output_padding)
    if any(n <= 0 for n in sp):
        raise RuntimeError(
            f"Given input size per channel: {list(x.shape[2:])}. Calculated output size per channel: "
            f"{list(sp)}. Output size is too small"
        )
    y = Convolution.apply(x, weight, bias, stride, padding, dilation, True, output_padding, groups)
    return y.squeeze(0) if unbatched else y


def conv_transpose1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride=1,
    padding=0,
    output_padding=0,
    groups: int = 1,
    dilation=1,
) -> Tensor:
    """1-D transposed convolution; weight is (C_in, C_out/groups, k)."""
    return _conv_transpose(
        input, weight, bias, stride, padding, output_padding, groups, dilation, 1, "conv_transpose1d"
    )


def conv_transpose2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride=1,
    padding=0,
    output_padding=0,
    groups: int = 1,
    dilation=1,
) -> Tensor:
    """2-D transposed convolution ("deconvolution"); weight is (C_in, C_out/groups, kH, kW)."""
    return _conv_transpose(
        input, weight, bias, stride, padding, output_padding, groups, dilation, 2, "conv_transpose2d"
    )


def conv_transpose3d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride=1,
    padding=0,
    output_padding=0,
    groups: int = 1,
    dilation=1,
) -> Tensor:
    """3-D transposed convolution; weight is (C_in, C_out/groups, kD, kH, kW)."""
    return _conv_transpose(
        input, weight, bias, stride, padding, output_padding, groups, dilation, 3, "conv_transpose3d"
    )


# -- unfold / fold (im2col / col2im) --------------------------------------------------------------
def _unfold_array(x, k, dl, p, s):
    """(N, C, H, W) -> (N, C * kH * kW, L) sliding-block columns."""
    xp = np.pad(x, ((0, 0), (0, 0), *((a, a) for a in p))) if any(p) else x
    out = [_out_size(n, *a) for n, *a in zip(x.shape[2:], k, s, p, dl, strict=True)]
    st = xp.strides
    win = _as_strided(
        xp,
        (*xp.shape[:2], *k, *out),
        (*st[:2], *(st[2 + i] * dl[i] for i in range(2)), *(st[2 + i] * s[i] for i in range(2))),
        writeable=False,
    )
    cols = win.reshape(x.shape[0], -1, math.prod(out))
    return cols.copy() if np.may_share_memory(cols, x) else cols  # a 1x1 kernel's columns are x itself


def _fold_array(cols, size, k, dl, p, s):
    """(N, C * kH * kW, L) -> (N, C, H, W): overlapping blocks summed."""
    n = cols.shape[0]
    out = [_out_size(a, *b) for a, *b in zip(size, k, s, p, dl, strict=True)]
    blocks = cols.reshape(n, -1, *k, *out)
    xp = np.zeros((n, blocks.shape[1], *(a + 2 * b for a, b in zip(size, p, strict=True))), cols.dtype)
    for kidx, sl in _offsets(k, s, dl, out):
        xp[(slice(None), slice(None), *sl)] += blocks[(slice(None), slice(None), *kidx)]
    return np.ascontiguousarray(
        xp[(slice(None), slice(None), *(slice(b, b + a) for a, b in zip(size, p, strict=True)))]
    )


class Im2Col(Op):
    """y = the sliding blocks of x as columns;  dx = col2im(g)"""

    @staticmethod
    def forward(ctx, x, k, dl, p, s):
        ctx.args, ctx.size = (k, dl, p, s), x._data.shape[2:]
        return _unfold_array(x._data, k, dl, p, s)

    @staticmethod
    def backward(ctx, g):
        return Col2Im.apply(g, ctx.size, *ctx.args), None, None, None, None


class Col2Im(Op):
    """y = the columns summed back into an image;  dx = im2col(g)"""

    @staticmethod
    def forward(ctx, x, size, k, dl, p, s):
        ctx.args = (k, dl, p, s)
        return _fold_array(x._data, size, k, dl, p, s)

    @staticmethod
    def backward(ctx, g):
        return Im2Col.apply(g, *ctx.args), None, None, None, None, None


def unfold(input: Tensor, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Extract sliding local blocks: (N, C, H, W) -> (N, C * prod(kernel_size), L)."""
    x, unbatched = _batched(input, 2, "unfold")
    a = [
        _ntuple(v, 2, n)
        for v, n in (
            (kernel_size, "kernel_size"),
            (dilation, "dilation"),
            (padding, "padding"),
            (stride, "stride"),
        )
    ]
    y = Im2Col.apply(x, *a)
    return y.squeeze(0) if unbatched else y


def fold(input: Tensor, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Combine sliding local blocks into an image: (N, C * prod(kernel_size), L) -> (N, C, *output_size)."""
    unbatched = input.ndim == 2
    x = input.unsqueeze(0) if unbatched else input
    size = _ntuple(output_size, 2, "output_size")
    k, dl, p, s = (
        _ntuple(v, 2, n)
        for v, n in (
            (kernel_size, "kernel_size"),
            (dilation, "dilation"),
            (padding, "padding"),
            (stride, "stride"),
        )
    )
    kk = math.prod(k)
    if x.shape[1] % kk:
        raise RuntimeError(
            "Expected size of input's dimension 1 to be divisible by the product of kernel_size, but got "
            f"input.size(1)={x.shape[1]} and kernel_size={k}"
        )
    blocks = [_out_size(a, *b) for a, *b in zip(size, k, s, p, dl, strict=True)]
    if x.shape[2] != math.prod(blocks):
        raise RuntimeError(
            f"Given output_size={size}, kernel_size={k}, dilation={dl}, padding={p}, stride={s}, expected "
            "size of "
            f"input's dimension 2 to match the calculated number of sliding blocks {blocks[0]} * "
            f"{blocks[1]} = "
            f"{math.prod(blocks)}, but got input.size(2)={x.shape[2]}."
        )
    y = Col2Im.apply(x, size, k, dl, p, s)
    return y.squeeze(0) if unbatched else y


__all__ = [
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "adaptive_avg_pool3d",
    "adaptive_max_pool1d",
    "adaptive_max_pool2d",
    "adaptive_max_pool3d",
    "avg_pool1d",
    "avg_pool2d",
    "avg_pool3d",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "fold",
    "interpolate",
    "max_pool1d",
    "max_pool2d",
    "max_pool3d",
    "pad",
    "pixel_shuffle",
    "pixel_unshuffle",
    "unfold",
    "upsample",
    "upsample_bilinear",
    "upsample_nearest",
]
