"""Indexing: ``x[idx]`` read and write, gather/scatter, index_select, masks, nonzero."""

from __future__ import annotations

from ..tensor import _dim
from ._base import D, Op, Tensor, _wrap, np


def _np_index(idx):
    """Translate an index expression: tensors become arrays (bool masks stay masks)."""
    if isinstance(idx, tuple):
        return tuple(_np_index_one(i) for i in idx)
    return _np_index_one(idx)


def _np_index_one(i):
    if isinstance(i, Tensor):
        if i.dtype.is_floating_point:
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        d = i._data
        if i.dtype is D.uint8:
            return d.astype(bool)
        if d.ndim == 0 and i.dtype is not D.bool_:
            return int(d)  # a 0-dim integer tensor indexes like an int (a view, SelectBackward0)
        return d
    if isinstance(i, (list, tuple)) and any(isinstance(v, Tensor) for v in i):
        return np.asarray([v.item() if isinstance(v, Tensor) else v for v in i])
    if isinstance(i, slice) and any(isinstance(v, Tensor) for v in (i.start, i.stop, i.step)):
        return slice(*(int(v) if isinstance(v, Tensor) else v for v in (i.start, i.stop, i.step)))
    return i


def _has_tensor(s: slice) -> bool:
    return isinstance(s.start, Tensor) or isinstance(s.stop, Tensor) or isinstance(s.step, Tensor)


def _is_basic(idx) -> bool:
    items = idx if isinstance(idx, tuple) else (idx,)
    return all(i is None or i is Ellipsis or isinstance(i, (int, slice, np.integer)) for i in items)


class Place(Op):
    """y = zeros(shape) with x accumulated at idx;  dx = g[idx]"""

    _node_name = "IndexPutBackward0"

    @staticmethod
    def forward(ctx, x, shape, idx, basic):
        ctx.idx = idx
        z = np.zeros(shape, dtype=x._data.dtype)
        if basic:
            z[idx] = x._data
        else:
            np.add.at(z, idx, x._data)
        return z

    @staticmethod
    def backward(ctx, g):
        return index(g, ctx.idx), None, None, None


def place(x, shape, idx):
    return Place.apply(x, tuple(shape), idx, _is_basic(idx))


class Index(Op):
    """y = x[idx];  dx = g accumulated at idx (duplicates add up)"""

    @staticmethod
    def forward(ctx, x, idx):
        ctx.shape, ctx.idx = x._data.shape, idx
        return x._data[idx]

    @staticmethod
    def backward(ctx, g):
        return place(g, ctx.shape, ctx.idx), None


class SelectI(Index):
    _node_name = "SelectBackward0"


class SliceI(Index):
    _node_name = "SliceBackward0"


class UnsqueezeI(Index):
    _node_name = "UnsqueezeBackward0"


class AliasI(Index):
    _node_name = "AliasBackward0"


def _node_for(idx, shape):
    """The node class, named as PyTorch names it: by the last view op its step-by-step indexing applies."""
    if not _is_basic(idx):
        return Index
    if not isinstance(idx, tuple):
        if isinstance(idx, slice):
            return SliceI
        return UnsqueezeI if idx is None else AliasI if idx is Ellipsis else SelectI
    consuming = sum(1 for i in idx if i is not None and i is not Ellipsis)
    last, dim = AliasI, 0
    for i in idx:
        if i is None:
            last = UnsqueezeI
        elif i is Ellipsis:
            dim += len(shape) - consuming
        elif isinstance(i, slice):
            n = shape[dim] if dim < len(shape) else 0
            start, stop, step = i.start, i.stop, i.step
            if not (start in (None, 0) and (stop is None or stop >= n) and step in (None, 1)):
                last = SliceI  # a slice over the whole dim is skipped, as PyTorch skips it
            dim += 1
        else:
            last = SelectI
            dim += 1
    return last


def index(input, idx):
    """``input[idx]`` with NumPy/PyTorch indexing rules (basic indexing gives a view)."""
    from .shape import as_view  # noqa: PLC0415

    kind = type(idx)
    if (kind is int or (kind is slice and not _has_tensor(idx))) and input._data.ndim:
        try:  # the common ``x[i]`` and ``x[a:b]``: straight to the view
            out = (SelectI if kind is int else SliceI).apply(input, idx)
        except IndexError as e:
            raise IndexError(_index_message(e, input._data, idx)) from None
        return as_view(out, input)
    if kind is tuple and all(type(i) is int or (type(i) is slice and not _has_tensor(i)) for i in idx):
        try:  # ints and slices only: a view, no translation needed
            out = _node_for(idx, input._data.shape).apply(input, idx)
        except IndexError as e:
            raise IndexError(_index_message(e, input._data, idx)) from None
        return as_view(out, input)
    np_idx = _np_index(idx)
    d = input._data
    if d.ndim == 0 and isinstance(np_idx, (int, np.integer)) and not isinstance(np_idx, bool):
        from ..compat import index_zero_dim  # noqa: PLC0415 - PyTorch's error, or legacy mode's 0.3 answer

        return index_zero_dim(input, int(np_idx))
    try:
        out = _node_for(np_idx, d.shape).apply(input, np_idx)
    except IndexError as e:
        raise IndexError(_index_message(e, d, np_idx)) from None
    if _is_basic(np_idx):
        as_view(out, input)
        if np_idx is None or isinstance(np_idx, tuple) and None in np_idx:
            out._data = _unsqueeze_strides(out._data)
    return out


def _unsqueeze_strides(a):
    """PyTorch's strides for the size-1 dims ``None`` adds (NumPy gives them stride 0)."""
    strides = list(a.strides)
    changed = False
    for i in range(a.ndim - 1, -1, -1):
        if a.shape[i] == 1 and strides[i] == 0:
            strides[i] = strides[i + 1] * a.shape[i + 1] if i + 1 < a.ndim else a.itemsize
            changed = True
    return np.lib.stride_tricks.as_strided(a, a.shape, strides) if changed else a


def _index_message(e, d, idx):
    msg = str(e)
    if "out of bounds" in msg:
        items = idx if isinstance(idx, tuple) else (idx,)
        for axis, i in enumerate(items):
            if isinstance(i, (int, np.integer)) and axis < d.ndim and not -d.shape[axis] <= i < d.shape[axis]:
                return f"index {i} is out of bounds for dimension {axis} with size {d.shape[axis]}"
    if d.ndim == 0:
        return (
            "invalid index of a 0-dim tensor. Use `tensor.item()` in Python or `tensor.item<T>()` in C++ to "
            "convert a 0-dim tensor to a number"
        )
    if msg.startswith("too many indices"):
        return f"too many indices for tensor of dimension {d.ndim}"
    return msg.replace(" for axis ", " for dimension ")


class IndexPut(Op):
    """y = x with v written at idx (or added, with accumulate);  dx = g zeroed at idx,  dv = g[idx]"""

    @staticmethod
    def forward(ctx, x, idx, v, accumulate):
        ctx.idx, ctx.accumulate = idx, accumulate
        ctx.vshape = v._data.shape if isinstance(v, Tensor) else ()
        out = x._data.copy()
        vd = v._data if isinstance(v, Tensor) else v
        if accumulate:
            np.add.at(out, idx, vd)
        else:
            out[idx] = vd
        return out

    @staticmethod
    def backward(ctx, g):
        gx = gv = None
        nig = ctx.needs_input_grad
        if nig[0]:
            gx = g if ctx.accumulate else IndexPut.apply(g, ctx.idx, 0.0, False)
        if nig[2]:
            gv = index(g, ctx.idx)
            vnd = len(ctx.vshape)
            if gv.ndim < vnd:  # the value had extra leading size-1 dims
                gv = gv.reshape((1,) * (vnd - gv.ndim) + tuple(gv.shape))
        return gx, None, gv, None


class CopySlices(IndexPut):
    _node_name = "CopySlices"  # ``y[basic index] = v`` on a tensor in the graph


class IndexFill(IndexPut):
    pass


class IndexFillTensor(IndexPut):
    _node_name = "IndexFillBackward1"  # a 0-dim tensor as the value: differentiable w.r.t. it too


def index_put(input, indices, values, accumulate=False):
    idx = _np_index(tuple(indices))
    return IndexPut.apply(input, idx, values, accumulate)


def setitem(self, idx, value) -> None:
    """``self[idx] = value``: writes in place; with autograd, rebases self onto an IndexPut node."""
    from .inplace import inplace  # noqa: PLC0415

    np_idx = _np_index(idx)
    if isinstance(value, Tensor):
        if value.dtype is not self.dtype:
            value = value.to(self.dtype)
    elif not isinstance(value, (int, float, bool)):
        value = _wrap(np.asarray(value, dtype=self.dtype.np), self.dtype, self.device)
    node = CopySlices if _is_basic(np_idx) else IndexPut
    if node is CopySlices and self._rg and self.grad_fn is None:
        from ..autograd.grad_mode import STATE  # noqa: PLC0415

        if STATE.enabled:  # PyTorch writes through a view of the leaf: its message says so
            raise RuntimeError(
                "a view of a leaf Variable that requires grad is being used in an in-place operation."
            )
    inplace(
        self,
        lambda old: node.apply(old, np_idx, value, False),
        (value,),
        raw=lambda: _raw_set(self, np_idx, value),
    )


def _raw_set(self, idx, value):
    try:
        self._data[idx] = value._data if isinstance(value, Tensor) else value
    except IndexError as e:
        raise IndexError(_index_message(e, self._data, idx)) from None
    except ValueError as e:
        from .inplace import expand_message  # noqa: PLC0415

        try:
            target = self._data[idx].shape
        except (IndexError, ValueError):
            raise RuntimeError(str(e)) from None
        vshape = np.shape(value._data if isinstance(value, Tensor) else value)
        raise RuntimeError(expand_message(target, vshape)) from None


class Gather(Op):
    """y = x.gather(dim, index);  dx = zeros.scatter_add(dim, index, g)"""

    @staticmethod
    def forward(ctx, x, dim, idx):
        ctx.shape, ctx.dim, ctx.idx = x._data.shape, dim, idx
        return np.take_along_axis(x._data, idx._data, axis=dim)

    @staticmethod
    def backward(ctx, g):
        return g.new_zeros(ctx.shape).scatter_add(ctx.dim, ctx.idx, g), None, None


def gather(input, dim, index, *, sparse_grad=False):
    dim = _dim(dim, input._data.ndim)
    if index.dtype is not D.int64:
        raise RuntimeError("gather(): Expected dtype int64 for index")
    return Gather.apply(input, dim, index)


def _scatter_idx(shape, dim, index):
    """Full index arrays addressing ``x[..., index[...], ...]`` along dim."""
    grids = list(np.indices(index.shape, sparse=True))
    grids[dim] = index
    return tuple(grids)


class Scatter(Op):
    """y = x with src written at index along dim (or added);  dx = g where not overwritten, dsrc = g.gather"""

    @staticmethod
    def forward(ctx, x, dim, index, src, add):
        ctx.dim, ctx.index, ctx.add = dim, index, add
        out = x._data.copy()
        idx = _scatter_idx(out.shape, dim, index._data)
        s = src._data[tuple(slice(0, n) for n in index._data.shape)] if isinstance(src, Tensor) else src
        if add:
            np.add.at(out, idx, s)
        else:
            out[idx] = s
        return out

    @staticmethod
    def backward(ctx, g):
        nig = ctx.needs_input_grad
        gx = g if ctx.add else (g.scatter(ctx.dim, ctx.index, 0.0) if nig[0] else None)
        gs = g.gather(ctx.dim, ctx.index) if nig[3] else None
        return gx, None, None, gs, None


class ScatterValue(Scatter):
    _node_name = "ScatterBackward1"  # a number as the source


class ScatterAdd(Scatter):
    pass


def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    if src is None:
        src = value
    dim = _dim(dim, input._data.ndim)
    if reduce == "add":
        return Scatter.apply(input, dim, index, src, True)
    return (Scatter if isinstance(src, Tensor) else ScatterValue).apply(input, dim, index, src, False)


def scatter_add(input, dim, index, src):
    return ScatterAdd.apply(input, _dim(dim, input._data.ndim), index, src, True)


class IndexSelect(Index):
    pass


class MaskedSelect(Index):
    pass


class Take(Index):
    """y = x.flatten()[idx];  dx = g accumulated at idx of the flattened x"""

    @staticmethod
    def forward(ctx, x, idx):
        ctx.shape, ctx.idx = x._data.shape, idx
        return x._data.reshape(-1)[idx]

    @staticmethod
    def backward(ctx, g):
        n = 1
        for s in ctx.shape:
            n *= s
        return place(g, (n,), ctx.idx).reshape(ctx.shape), None


def index_select(input, dim, index):
    dim = _dim(dim, input._data.ndim)
    idx = (slice(None),) * dim + (index._data.reshape(-1),)
    return IndexSelect.apply(input, idx)


def masked_select(input, mask):
    from .shape import broadcast_to  # noqa: PLC0415

    shape = np.broadcast_shapes(input._data.shape, mask._data.shape)
    m = mask._data if mask._data.shape == shape else np.broadcast_to(mask._data, shape)
    return MaskedSelect.apply(broadcast_to(input, shape), m)


def take(input, index):
    return Take.apply(input, _np_index_one(index))


def index_fill(input, dim, index, value):
    """Fills the slices of ``input`` at ``index`` along ``dim`` with ``value`` (a number or 0-dim tensor)."""
    if not isinstance(index, Tensor) or index.dtype is not D.int64:
        raise IndexError("index_fill_(): Expected dtype int64 for index.")
    if index._data.ndim > 1:
        raise RuntimeError("Index has to be a vector/scalar")
    if isinstance(value, Tensor) and value._data.ndim:
        raise RuntimeError(
            "index_fill_ only supports a 0-dimensional value tensor, but got tensor with "
            f"{value._data.ndim} dimension(s)."
        )
    dim = _dim(dim, input._data.ndim)
    size = input._data.shape[dim] if input._data.ndim else 1
    ix = index._data.reshape(-1)
    bad = (ix < -size) | (ix >= size)
    if bad.any():
        raise IndexError(f"index {int(ix[bad][0])} is out of bounds for dimension {dim} with size {size}")
    ix = np.where(ix < 0, ix + size, ix)
    if not input._data.ndim:
        return IndexFill.apply(input, (), value, False) if len(ix) else input.clone()
    idx = (slice(None),) * dim + (ix,)
    return (IndexFillTensor if isinstance(value, Tensor) else IndexFill).apply(input, idx, value, False)


def take_along_dim(input, indices, dim=None):
    if dim is None:
        return take(input, indices.reshape(-1))
    return gather(
        input,
        dim,
        indices.expand(
            *[
                max(a, b) if i != _dim(dim, input.ndim) else b
                for i, (a, b) in enumerate(zip(input.shape, indices.shape, strict=True))
            ]
        ),
    )


def nonzero(input, *, as_tuple=False):
    nz = np.nonzero(input._data) if input._data.ndim else np.nonzero(input._data.reshape(1))
    if as_tuple:
        return tuple(_wrap(a.astype(np.int64), D.int64, input.device) for a in nz)
    return _wrap(
        np.stack(nz, axis=1).astype(np.int64) if nz else np.zeros((0, 0), np.int64), D.int64, input.device
    )


def argwhere(input):
    return nonzero(input)


# -- index_add / index_copy ------------------------------------------------------------------------------
_SCALAR_NAMES = {
    D.float32: "Float",
    D.float64: "Double",
    D.float16: "Half",
    D.bfloat16: "BFloat16",
    D.bool_: "Bool",
}


def _index_args(name, input, dim, index, source):
    """Check index_add/index_copy operands as torch does; returns (dim, index array)."""
    nd = input._data.ndim
    dim = _dim(dim, nd)
    if not isinstance(index, Tensor) or index.dtype not in (D.int64, D.int32):
        got = (
            _SCALAR_NAMES.get(index.dtype, index.dtype) if isinstance(index, Tensor) else type(index).__name__
        )
        raise RuntimeError(f"{name}_(): Expected dtype int32/int64 for index but got: {got}")
    if index._data.ndim > 1:
        raise IndexError(f"{name}_(): Index is supposed to be a vector, but got dim: {index._data.ndim}")
    idx = index._data.reshape(-1).astype(np.int64)
    if source.dtype is not input.dtype:
        raise RuntimeError(
            f"{name}_(): self ({input.dtype}) and source ({source.dtype}) must have the same scalar type"
        )
    ss = source._data.shape
    if nd and len(ss):
        if len(ss) != nd:
            raise IndexError(
                f"{name}_(): When source and destination are not scalars, their dimensionality must match. "
                f"Source dimensionality ({len(ss)}), destination dimensionality ({nd})"
            )
        if ss[dim] != len(idx):
            raise RuntimeError(
                f"{name}_(): Number of indices ({len(idx)}) should be equal to source.size(dim): "
                f"({ss[dim]}), for dim: {dim}"
            )
        if any(a != b for i, (a, b) in enumerate(zip(ss, input._data.shape, strict=True)) if i != dim):
            raise RuntimeError(
                "source tensor shape must match self tensor shape, excluding the specified dimension. "
                f"Got self.shape = {list(input._data.shape)} source.shape = {list(ss)}"
            )
    elif source._data.size != len(idx) * (
        int(np.prod(input._data.shape)) // max(input._data.shape[dim] if nd else 1, 1)
    ):
        raise RuntimeError(f"{name}_(): Number of indices ({len(idx)}) should be equal to source.size(dim)")
    size = input._data.shape[dim] if nd else 1
    bad = (idx < -size) | (idx >= size)
    if bad.any():
        msg = f"index {int(idx[bad][0])} is out of bounds for dimension {dim} with size {size}"
        raise (RuntimeError(msg) if name == "index_add" else IndexError(f"{name}_(): {msg}"))
    return dim, np.where(idx < 0, idx + size, idx)


class IndexAdd(Op):
    """y = x with alpha*src added at index along dim;  dx = g,  dsrc = alpha * g.index_select(dim, index)"""

    @staticmethod
    def forward(ctx, x, dim, idx, src, alpha):
        ctx.dim, ctx.idx, ctx.alpha, ctx.sshape = dim, idx, alpha, src._data.shape
        out = x._data.copy()
        s = src._data.reshape(tuple(len(idx) if i == dim else n for i, n in enumerate(out.shape)))
        if out.ndim == 0:
            out[...] += s.sum() * alpha if alpha != 1 else s.sum()
            return out
        np.add.at(out, (slice(None),) * dim + (idx,), s * alpha if alpha != 1 else s)
        return out

    @staticmethod
    def backward(ctx, g):
        gs = None
        if ctx.needs_input_grad[3]:
            gs = _select(g, ctx.dim, ctx.idx).reshape(ctx.sshape)
            if ctx.alpha != 1:
                gs = gs * ctx.alpha
        return g, None, None, gs, None


class IndexCopy(Op):
    """y = x with src written at index along dim;  dx = g with those slices zeroed,  dsrc = g at index"""

    @staticmethod
    def forward(ctx, x, dim, idx, src):
        ctx.dim, ctx.idx, ctx.sshape = dim, idx, src._data.shape
        out = x._data.copy()
        if out.ndim == 0:
            out[...] = src._data.reshape(())
            return out
        out[(slice(None),) * dim + (idx,)] = src._data.reshape(
            tuple(len(idx) if i == dim else n for i, n in enumerate(out.shape))
        )
        return out

    @staticmethod
    def backward(ctx, g):
        gx = gs = None
        ix = _wrap(ctx.idx, D.int64, g.device)
        if ctx.needs_input_grad[0]:
            gx = g.index_fill(ctx.dim, ix, 0) if g.ndim else g * 0
        if ctx.needs_input_grad[3]:
            gs = _select(g, ctx.dim, ctx.idx).reshape(ctx.sshape)
        return gx, None, None, gs


def _select(g, dim, idx):
    if g.ndim == 0:
        return g.reshape(1).expand(len(idx))
    return index_select(g, dim, _wrap(idx, D.int64, g.device))


def index_add(input, dim, index, source, *, alpha=1):
    dim, idx = _index_args("index_add", input, dim, index, source)
    return IndexAdd.apply(input, dim, idx, source, alpha)


def index_copy(input, dim, index, source):
    dim, idx = _index_args("index_copy", input, dim, index, source)
    return IndexCopy.apply(input, dim, idx, source)
