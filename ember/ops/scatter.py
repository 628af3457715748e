"""Reducing into a tensor: ``scatter_reduce`` (sum, prod, mean, amax, amin) and ``masked_scatter``."""

from __future__ import annotations

from ..tensor import _dim
from ._base import D, Op, Tensor, _wrap, np
from .indexing import _scatter_idx

_REDUCES = {"sum": np.add, "prod": np.multiply, "mean": np.add, "amax": np.maximum, "amin": np.minimum}


def _identity(reduce, dt):
    """The value a reduction starts from where ``include_self=False`` leaves out self."""
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    if dt.kind == "f" or dt == D.bfloat16.np:
        return -np.inf if reduce == "amax" else np.inf
    if dt.kind == "b":
        return reduce == "amin"
    info = np.iinfo(dt)
    return info.min if reduce == "amax" else info.max


def _nonempty(shape):
    return tuple(shape) or (1,)  # torch treats a 0-dim tensor as 1-dim here


def _scatter_args(input, dim, index, src):
    """Check scatter operands as torch does; returns the dim normalised."""
    if not isinstance(index, Tensor) or index.dtype not in (D.int64, D.int32):
        raise RuntimeError("scatter(): Expected dtype int32/int64 for index")
    if src.dtype is not input.dtype:
        raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
    xs, ixs, ss = _nonempty(input.shape), _nonempty(index.shape), _nonempty(src.shape)
    dim = _dim(dim, len(xs))
    if len(ixs) != len(xs):
        raise RuntimeError("Index tensor must have the same number of dimensions as self tensor")
    if len(ixs) != len(ss):
        raise RuntimeError("Index tensor must have the same number of dimensions as src tensor")
    if index._data.size and any(
        n > s or (d != dim and n > x) for d, (n, x, s) in enumerate(zip(ixs, xs, ss, strict=True))
    ):
        raise RuntimeError(
            f"Expected index {list(ixs)} to be no larger than self {list(xs)} apart from dimension {dim} "
            f"and to be no larger size than src {list(ss)}"
        )
    bad = (index._data < 0) | (index._data >= xs[dim])
    if bad.any():
        first = int(index._data[bad].reshape(-1)[0])
        raise RuntimeError(f"index {first} is out of bounds for dimension {dim} with size {xs[dim]}")
    return dim


class ScatterReduce(Op):
    """y = x with src reduced into it at index along dim;  gradients as torch's scatter_reduce_backward"""

    @staticmethod
    def forward(ctx, x, src, dim, index, reduce, include_self):  # src second: torch numbers its gradient 1
        ctx.save_for_backward(x, src)
        ctx.dim, ctx.index, ctx.reduce, ctx.include_self = dim, index, reduce, include_self
        out = x._data.reshape(_nonempty(x.shape)).copy()
        ix = index._data.reshape(_nonempty(index.shape))
        idx = _scatter_idx(out.shape, dim, ix)
        s = src._data.reshape(_nonempty(src.shape))[tuple(slice(0, n) for n in ix.shape)]
        if not include_self:
            out[idx] = _identity(reduce, out.dtype)
        _REDUCES[reduce].at(out, idx, s)
        if reduce == "mean":
            count = np.full(out.shape, int(include_self), dtype=np.int64)
            np.add.at(count, idx, 1)
            count[count == 0] = 1
            is_int = out.dtype.kind in "iub"
            out = np.floor_divide(out, count) if is_int else (out / count.astype(out.dtype)).astype(out.dtype)
        return out.reshape(x.shape)

    @staticmethod
    def backward(ctx, g):
        x, src = ctx.saved_tensors
        dim, index, reduce, inc = ctx.dim, ctx.index, ctx.reduce, ctx.include_self
        xshape, ishape = x.shape, index.shape
        if not (x.ndim and index.ndim):  # 0-dim operands: computed as 1-dim, as torch treats them
            g, x, index, src = (t.reshape(_nonempty(t.shape)) for t in (g, x, index, src))
        if src.shape != index.shape:  # torch's gradient has index's shape: the engine refuses it, as torch's
            src = src[tuple(slice(0, n) for n in index.shape)]
        gx, gs = _scatter_reduce_grads(g, x, dim, index, src, reduce, inc)
        if not inc:
            gx = gx.scatter(dim, index, 0.0)
        nig = ctx.needs_input_grad
        gx = gx if gx.shape == xshape else gx.reshape(xshape)
        gs = gs if gs.shape == ishape else gs.reshape(ishape)
        return (gx if nig[0] else None), (gs if nig[1] else None), None, None, None, None


def _scatter_reduce_grads(g, x, dim, index, src, reduce, inc):
    """torch's scatter_reduce_backward, in ember ops (so double backward works)."""
    from .elementwise import where  # noqa: PLC0415

    if reduce == "sum":
        return g, g.gather(dim, index)
    if reduce == "mean":
        n = (g.new_ones(g.shape) if inc else g.new_zeros(g.shape)).scatter_add(
            dim, index, src.new_ones(src.shape)
        )
        n = n.masked_fill(n == 0, 1)
        return g / n, g.gather(dim, index) / n.gather(dim, index)
    result = scatter_reduce(x, dim, index, src, reduce, include_self=inc)
    if reduce == "prod":
        # NOTE [ scatter_reduce prod with zeros ]
        # result / x is undefined where x == 0; as torch does, the product excluding a zero is computed
        # directly: for self by reducing into x with its zeros set to 1, for a src element that is the
        # only zero sent to its place by reducing with that zero set to 1. Two or more zeros sent to one
        # place give gradient 0 there; torch refuses the double backward of that case, and so does ember.
        x1 = x.masked_fill(x == 0, 1)
        gx = g * scatter_reduce(x1, dim, index, src, "prod", include_self=inc) / x1
        zero = src == 0
        zeros_at = x.new_zeros(x.shape).scatter_add(dim, index, zero.to(x.dtype)).gather(dim, index)
        single = zero & (zeros_at == 1)
        without = scatter_reduce(x, dim, index, src.masked_fill(single, 1), "prod", include_self=inc)
        gs = where(
            single,
            (g * without).gather(dim, index),
            (g * result).gather(dim, index) / src.masked_fill(zero, 1),
        )
        if bool((zeros_at > 1).any()):
            gs = _DelayedError.apply(gs)
        return gx, gs
    # amax / amin: the gradient is shared evenly among the elements that attain the result (ties)
    value = result.gather(dim, index)
    x_hit, s_hit = x == result, src == value
    share = g / x_hit.to(x.dtype).scatter_add(dim, index, s_hit.to(x.dtype))
    return x_hit * share, s_hit * share.gather(dim, index)


class _DelayedError(Op):
    """y = x;  backward raises: torch's DelayedError for a gradient it cannot differentiate again"""

    _node_name = "Error"  # torch's DelayedError node calls itself Error

    @staticmethod
    def forward(ctx, x):
        return x._data

    @staticmethod
    def backward(ctx, g):
        raise RuntimeError(
            "scatter_reduce(): Double backward is unsupported for src when >1 zeros in src are scattered to "
            "the same position in self"
        )


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    """Reduces all values of ``src`` into ``input`` at the places ``index`` gives along ``dim``.

    Args:
        input: the tensor reduced into.
        dim: the axis along which to index.
        index: int64 indices, the same number of dims as input and src.
        src: the values to reduce, the same dtype as input.
        reduce: one of ``"sum"``, ``"prod"``, ``"mean"``, ``"amax"``, ``"amin"``.
        include_self: whether input's own values at the indexed places take part.

    Example::

        >>> x = ember.zeros(3)
        >>> ember.scatter_reduce(x, 0, ember.tensor([0, 0, 2]), ember.tensor([1.0, 3.0, 5.0]), "amax")
        tensor([3., 0., 5.])
    """
    if reduce not in _REDUCES:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")
    dim = _scatter_args(input, dim, index, src)
    return ScatterReduce.apply(input, src, dim, index, reduce, include_self)


class MaskedScatter(Op):
    """y = x with its masked places filled in order from source;  dx = g.masked_fill(mask, 0),
    dsource = g[mask] padded with zeros to source's shape"""

    @staticmethod
    def forward(ctx, x, mask, source):
        ctx.mask, ctx.sshape = mask, source.shape
        out = x._data.copy()
        out[mask] = source._data.reshape(-1)[: int(np.count_nonzero(mask))]
        return out

    @staticmethod
    def backward(ctx, g):
        from .indexing import masked_select  # noqa: PLC0415
        from .shape import cat  # noqa: PLC0415

        nig = ctx.needs_input_grad
        mask = _wrap(ctx.mask, D.bool_, g.device)
        gx = g.masked_fill(mask, 0.0) if nig[0] else None
        gs = None
        if nig[2]:
            picked = masked_select(g, mask)
            n = int(np.prod(ctx.sshape, dtype=np.int64))
            if n > picked.shape[0]:
                picked = cat([picked, g.new_zeros((n - picked.shape[0],))])
            gs = picked.reshape(ctx.sshape)
        return gx, None, gs


def masked_scatter(input, mask, source):
    """Copies elements of ``source`` into ``input`` where ``mask`` is True, in row-major order.

    Args:
        input: the tensor written into (broadcast with mask).
        mask: a bool tensor, broadcastable with input.
        source: at least as many elements as mask has True values, input's dtype.

    Example::

        >>> ember.zeros(2, 2).masked_scatter(ember.tensor([True, False]), ember.tensor([1.0, 2.0]))
        tensor([[1., 0.],
                [2., 0.]])
    """
    from .shape import broadcast_to  # noqa: PLC0415

    _check_dtypes(input, mask, source)
    try:
        shape = np.broadcast_shapes(mask.shape, input.shape)
    except ValueError:
        from .shape import broadcast_tensors  # noqa: PLC0415

        broadcast_tensors(mask, input)  # raises torch's message
        raise
    m = mask._data if mask.shape == shape else np.broadcast_to(mask._data, shape)
    if int(np.count_nonzero(m)) > source._data.size:
        raise RuntimeError("Number of elements of source < number of ones in mask")
    return MaskedScatter.apply(input if input.shape == shape else broadcast_to(input, shape), m, source)


def _check_dtypes(input, mask, source) -> None:
    from .inplace import type_name  # noqa: PLC0415

    if not isinstance(mask, Tensor) or mask.dtype is not D.bool_:
        name = type_name(mask.dtype) if isinstance(mask, Tensor) else type(mask).__name__
        raise RuntimeError(f"masked_scatter_ only supports boolean masks, but got mask with dtype {name}")
    if source.dtype is not input.dtype:  # torch's message, missing space and all
        a, b = type_name(input.dtype), type_name(source.dtype)
        raise RuntimeError(f"masked_scatter: expected self and source to have same dtypes but got{a} and {b}")


def scatter_reduce_(self, dim, index, src, reduce, *, include_self=True):
    """In-place :func:`scatter_reduce`."""
    from .inplace import _write, inplace  # noqa: PLC0415

    def run(x):
        return scatter_reduce(x, dim, index, src, reduce, include_self=include_self)

    return inplace(self, run, (src,), lambda: _write(self, run(self)._data))


def masked_scatter_(self, mask, source):
    """In-place :func:`masked_scatter`: mask must expand to self's shape (self does not broadcast)."""
    from .inplace import _write, expand_message, inplace  # noqa: PLC0415

    _check_dtypes(self, mask, source)
    if mask.ndim > self.ndim:
        raise RuntimeError(
            f"expand(CPUBoolType{{{list(mask.shape)}}}, size={list(self.shape)}): the number of sizes "
            f"provided ({self.ndim}) must be greater or equal to the number of dimensions in the tensor "
            f"({mask.ndim})"
        )
    if any(n not in (1, t) for n, t in zip(mask.shape[::-1], self.shape[::-1], strict=False)):
        raise RuntimeError(expand_message(self.shape, mask.shape))
    return inplace(
        self,
        lambda x: masked_scatter(x, mask, source),
        (source,),
        lambda: _write(self, masked_scatter(self, mask, source)._data),
    )
