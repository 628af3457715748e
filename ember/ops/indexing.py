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
        return d.astype(bool) if i.dtype is D.uint8 else d
    if isinstance(i, (list, tuple)) and any(isinstance(v, Tensor) for v in i):
        return np.asarray([v.item() if isinstance(v, Tensor) else v for v in i])
    if isinstance(i, slice) and any(isinstance(v, Tensor) for v in (i.start, i.stop, i.step)):
        return slice(*(int(v) if isinstance(v, Tensor) else v for v in (i.start, i.stop, i.step)))
    return i


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


def _node_for(idx):
    items = idx if isinstance(idx, tuple) else (idx,)
    if not _is_basic(idx):
        return Index
    if any(isinstance(i, (int, np.integer)) for i in items):
        return SelectI
    return SliceI


def index(input, idx):
    """``input[idx]`` with NumPy/PyTorch indexing rules (basic indexing gives a view)."""
    from .shape import as_view  # noqa: PLC0415

    np_idx = _np_index(idx)
    d = input._data
    if d.ndim == 0 and isinstance(np_idx, (int, np.integer)) and not isinstance(np_idx, bool):
        from ..compat import index_zero_dim  # noqa: PLC0415 - PyTorch's error, or legacy mode's 0.3 answer

        return index_zero_dim(input, int(np_idx))
    try:
        out = _node_for(np_idx).apply(input, np_idx)
    except IndexError as e:
        raise IndexError(_index_message(e, d, np_idx)) from None
    if _is_basic(np_idx):
        as_view(out, input)
    return out


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
    return msg


class IndexPut(Op):
    """y = x with v written at idx (or added, with accumulate);  dx = g zeroed at idx,  dv = g[idx]"""

    @staticmethod
    def forward(ctx, x, idx, v, accumulate):
        ctx.idx, ctx.accumulate = idx, accumulate
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
        return gx, None, gv, None


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
    inplace(self, lambda old: IndexPut.apply(old, np_idx, value, False), (value,), raw=lambda: _raw_set(self, np_idx, value))


def _raw_set(self, idx, value):
    try:
        self._data[idx] = value._data if isinstance(value, Tensor) else value
    except (ValueError, IndexError) as e:
        raise RuntimeError(str(e)) from None


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


def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    if src is None:
        src = value
    dim = _dim(dim, input._data.ndim)
    if reduce == "add":
        return Scatter.apply(input, dim, index, src, True)
    return Scatter.apply(input, dim, index, src, False)


def scatter_add(input, dim, index, src):
    return Scatter.apply(input, _dim(dim, input._data.ndim), index, src, True)


def index_select(input, dim, index):
    dim = _dim(dim, input._data.ndim)
    idx = (slice(None),) * dim + (index._data.reshape(-1),)
    return Index.apply(input, idx)


def masked_select(input, mask):
    from .shape import broadcast_to  # noqa: PLC0415

    shape = np.broadcast_shapes(input._data.shape, mask._data.shape)
    return index(broadcast_to(input, shape), broadcast_to(mask, shape))


def take(input, index):
    return index_fn(input.reshape(-1), index)


def index_fn(x, i):
    return index(x, i)


def take_along_dim(input, indices, dim=None):
    if dim is None:
        return take(input, indices.reshape(-1))
    return gather(input, dim, indices.expand(*[max(a, b) if i != _dim(dim, input.ndim) else b for i, (a, b) in enumerate(zip(input.shape, indices.shape, strict=True))]))


def nonzero(input, *, as_tuple=False):
    nz = np.nonzero(input._data) if input._data.ndim else np.nonzero(input._data.reshape(1))
    if as_tuple:
        return tuple(_wrap(a.astype(np.int64), D.int64, input.device) for a in nz)
    return _wrap(np.stack(nz, axis=1).astype(np.int64) if nz else np.zeros((0, 0), np.int64), D.int64, input.device)


def argwhere(input):
    return nonzero(input)
