"""Shape ops: views (sharing storage with their base, as PyTorch's do), joins and splits."""

from __future__ import annotations

from ..autograd.grad_mode import STATE
from ..tensor import _dim
from ._base import D, Op, Tensor, _wrap, np
from .indexing import place
from .inplace import write_out


def as_view(out: Tensor, src: Tensor) -> Tensor:
    """Mark ``out`` as a view of ``src``: same version counter, same base."""
    if src._vc is None:
        src._vc = [0]
    out._vc = src._vc
    d = out.__dict__
    d["_base"] = src if src._base is None else src._base
    d["_vver"] = src._vc[0]
    if src._rg and not STATE.enabled:
        d["_nograd_view"] = True
    return out


def _multi_views(outs, src: Tensor, name: str) -> tuple:
    """Views from an op that returns several (split, unbind): PyTorch forbids modifying them in place."""
    for o in outs:
        as_view(o, src).__dict__["_multi_view"] = name
    return tuple(outs)


def _shape_arg(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return tuple(int(s) for s in shape)


def _infer(shape, numel):
    """Resolve one -1 in ``shape``, with PyTorch's error for a size that does not fit."""
    if -1 in shape:
        known = 1
        for s in shape:
            if s != -1:
                known *= s
        if shape.count(-1) > 1:
            raise RuntimeError("only one dimension can be inferred")
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        return tuple(numel // known if s == -1 else s for s in shape)
    n = 1
    for s in shape:
        n *= s
    if n != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


class View(Op):
    """y = x viewed with a new shape;  dx = g reshaped back"""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x._data.shape
        d = x._data
        out = d.view()
        try:
            out.shape = shape  # raises instead of copying when no view is possible
        except AttributeError:
            raise RuntimeError(
                "view size is not compatible with input tensor's size and stride (at least one "
                "dimension spans "
                "across two contiguous subspaces). Use .reshape(...) instead."
            ) from None
        return out

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.shape), None


class Reshape(Op):
    """y = x reshaped (a copy when no view is possible);  dx = g reshaped back"""

    _node_name = "UnsafeViewBackward0"

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x._data.shape
        return np.reshape(x._data, shape)

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.shape), None


def view(input, *shape):
    if len(shape) == 1 and isinstance(shape[0], D.dtype):
        dt = shape[0]
        return _wrap(input._data.view(dt.np), dt, input.device)
    shape = _infer(_shape_arg(shape), input._data.size)
    return as_view(View.apply(input, shape), input)


def reshape(input, *shape):
    shape = _infer(_shape_arg(shape), input._data.size)
    if shape == input._data.shape and not input._rg:
        return as_view(_wrap(input._data.view(), input.dtype, input.device), input)
    d = input._data
    if d.flags.c_contiguous or _viewable(d, shape):
        return as_view(View.apply(input, shape), input)
    return Reshape.apply(input, shape)


def _viewable(d, shape) -> bool:
    v = d.view()
    try:
        v.shape = shape
        return True
    except AttributeError:
        return False


class Unsqueeze(Op):
    """y = x with a new size-1 dim;  dx = g squeezed"""

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        return np.expand_dims(x._data, dim)

    @staticmethod
    def backward(ctx, g):
        return g.squeeze(ctx.dim), None


def unsqueeze(input, dim):
    return as_view(Unsqueeze.apply(input, _dim(dim, input._data.ndim + 1)), input)


class Squeeze(Op):
    """y = x without size-1 dims;  dx = g reshaped back"""

    _node_name = "SqueezeBackward1"

    @staticmethod
    def forward(ctx, x, axes):
        ctx.shape = x._data.shape
        return np.squeeze(x._data, axis=axes)

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.shape), None


def squeeze(input, dim=None):
    d = input._data
    if dim is None:
        axes = tuple(i for i, s in enumerate(d.shape) if s == 1)
    else:
        dims = dim if isinstance(dim, (tuple, list)) else (dim,)
        axes = tuple(a for a in (_dim(x, d.ndim) for x in dims) if d.ndim and d.shape[a] == 1)
    # PyTorch names the node by the overload: squeeze(), squeeze(int), squeeze(dims)
    cls = SqueezeAll if dim is None else SqueezeDims if isinstance(dim, (tuple, list)) else Squeeze
    return as_view(cls.apply(input, axes), input)


class SqueezeAll(Squeeze):
    _node_name = "SqueezeBackward0"


class SqueezeDims(Squeeze):
    _node_name = "SqueezeBackward2"


class Permute(Op):
    """y = x with dims permuted;  dx = g with the inverse permutation"""

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return np.transpose(x._data, dims)

    @staticmethod
    def backward(ctx, g):
        return g.permute(*np.argsort(ctx.dims).tolist()), None


class Transpose(Op):
    """y = x with two dims swapped;  dx = g with them swapped back"""

    @staticmethod
    def forward(ctx, x, d0, d1):
        ctx.d0, ctx.d1 = d0, d1
        return np.swapaxes(x._data, d0, d1)

    @staticmethod
    def backward(ctx, g):
        return g.transpose(ctx.d0, ctx.d1), None, None


class T(Op):
    """y = x^T (at most 2-d);  dx = g^T"""

    @staticmethod
    def forward(ctx, x):
        return x._data.T

    @staticmethod
    def backward(ctx, g):
        return g.t()


def permute(input, *dims):
    dims = _shape_arg(dims)
    nd = input._data.ndim
    if len(dims) != nd:
        raise RuntimeError(
            f"permute(sparse_coo): number of dimensions in the tensor input does not match the length of the "
            f"desired ordering of dimensions i.e. input.dim() = {nd} is not equal to len(dims) = {len(dims)}"
        )
    return as_view(Permute.apply(input, tuple(_dim(d, nd) for d in dims)), input)


def transpose(input, dim0, dim1):
    nd = input._data.ndim
    return as_view(Transpose.apply(input, _dim(dim0, nd), _dim(dim1, nd)), input)


swapaxes = swapdims = transpose


def t(input):
    if input._data.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input._data.ndim}D")
    return as_view(T.apply(input), input)


def _broadcast_view(d, shape):
    """A read-only zero-stride view of contiguous ``d`` (np.broadcast_to costs ~4 us in Python)."""
    lead = len(shape) - d.ndim
    strides = [0] * lead
    for n, st, want in zip(d.shape, d.strides, shape[lead:], strict=True):
        strides.append(0 if n == 1 and want != 1 else st)
    out = np.ndarray(shape, d.dtype, buffer=d, strides=tuple(strides))
    out.flags.writeable = False
    return out


class Expand(Op):
    """y = x broadcast to a shape;  dx = g summed back to x's shape"""

    @staticmethod
    def forward(ctx, x, shape):
        d = x._data
        ctx.shape = d.shape
        if type(d) is np.ndarray and d.flags.c_contiguous:
            return _broadcast_view(d, shape)
        return np.broadcast_to(d, shape)

    @staticmethod
    def backward(ctx, g):
        return g.sum_to_size(ctx.shape), None


def expand(input, *sizes):
    sizes = _shape_arg(sizes)
    d = input._data
    if len(sizes) < d.ndim:
        raise RuntimeError(
            f"expand(torch.FloatTensor{{{list(d.shape)}}}, size={list(sizes)}): the number of sizes provided "
            f"({len(sizes)}) must be greater or equal to the number of dimensions in the tensor ({d.ndim})"
        )
    lead = len(sizes) - d.ndim
    shape = tuple(d.shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
    for i in range(d.ndim):
        if d.shape[i] != 1 and d.shape[i] != shape[i + lead]:
            raise RuntimeError(
                f"The expanded size of the tensor ({shape[i + lead]}) must match the existing size "
                f"({d.shape[i]}) "
                f"at non-singleton dimension {i + lead}.  Target sizes: {list(sizes)}.  Tensor sizes: "
                f"{list(d.shape)}"
            )
    if shape == d.shape:
        return as_view(Expand.apply(input, shape), input) if input._rg else input.view(shape)
    return as_view(Expand.apply(input, shape), input)


def expand_as(input, other):
    return expand(input, other.shape)


def broadcast_to(input, shape):
    return expand(input, tuple(shape))


class SumToSize(Op):
    """y = x summed down to a broadcast-compatible shape;  dx = g expanded"""

    _node_name = "SumBackward1"

    @staticmethod
    def forward(ctx, x, shape):
        from ..autograd.engine import _sum_to  # noqa: PLC0415

        ctx.shape = x._data.shape
        return _sum_to(x._data, shape)

    @staticmethod
    def backward(ctx, g):
        return g.expand(ctx.shape), None


def sum_to_size(input, *size):
    size = _shape_arg(size)
    if tuple(size) == input._data.shape:
        return input
    return SumToSize.apply(input, size)


def flatten(input, start_dim=0, end_dim=-1):
    d = input._data
    if d.ndim == 0:
        return reshape(input, (1,))
    s, e = _dim(start_dim, d.ndim), _dim(end_dim, d.ndim)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return input
    shape = (
        d.shape[:s]
        + (-1 if d.size == 0 and 0 in d.shape[s : e + 1] else int(np.prod(d.shape[s : e + 1])),)
        + d.shape[e + 1 :]
    )
    if -1 in shape:
        shape = d.shape[:s] + (0,) + d.shape[e + 1 :]
    return reshape(input, shape)


def unflatten(input, dim, sizes):
    d = input._data
    dim = _dim(dim, d.ndim)
    sizes = _infer(tuple(sizes), d.shape[dim])
    return view(input, d.shape[:dim] + sizes + d.shape[dim + 1 :])


def ravel(input):
    return reshape(input, (-1,))


class Clone(Op):
    """y = copy of x;  dx = g"""

    @staticmethod
    def forward(ctx, x):
        return x._data.copy()

    @staticmethod
    def backward(ctx, g):
        return g


def clone(input, *, memory_format=None):
    return Clone.apply(input)


def contiguous(input, memory_format=None):
    if input._data.flags.c_contiguous:
        return input
    return Clone.apply(input)


class Cat(Op):
    """y = concatenation along dim;  dx_i = the matching slice of g"""

    @staticmethod
    def forward(ctx, dim, *xs):
        ctx.dim = dim
        ctx.sizes = [x._data.shape[dim] if x._data.ndim else 0 for x in xs]
        return np.concatenate([x._data for x in xs if x._data.shape != (0,) or len(xs) == 1], axis=dim)

    @staticmethod
    def backward(ctx, g):
        out, start = [None], 0
        for n, need in zip(ctx.sizes, ctx.needs_input_grad[1:], strict=True):
            out.append(g.narrow(ctx.dim, start, n) if need else None)
            start += n
        return tuple(out)


def cat(tensors, dim=0, *, out=None):
    if out is not None:
        return write_out("cat", out, cat, tensors, dim, _rule="cat")
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("torch.cat(): expected a non-empty list of Tensors")
    ref = next((t for t in tensors if t._data.shape != (0,)), tensors[0])
    dim = _dim(dim, ref._data.ndim)
    dt = tensors[0].dtype
    for t in tensors[1:]:
        if t.dtype is not dt:
            dt = D.promote_types(dt, t.dtype)
    tensors = [t if t.dtype is dt else t.to(dt) for t in tensors]
    for i, t in enumerate(tensors):
        if t._data.ndim != ref._data.ndim and t._data.shape != (0,):
            raise RuntimeError(
                f"Tensors must have same number of dimensions: got {ref._data.ndim} and {t._data.ndim}"
            )
        if t._data.shape != (0,):
            for a in range(ref._data.ndim):
                if a != dim and t._data.shape[a] != ref._data.shape[a]:
                    raise RuntimeError(
                        f"Sizes of tensors must match except in dimension {dim}. Expected size "
                        f"{ref._data.shape[a]} but got size {t._data.shape[a]} for tensor number {i} in "
                        "the list."
                    )
    return Cat.apply(dim, *tensors)


concat = concatenate = cat


def stack(tensors, dim=0, *, out=None):
    if out is not None:
        return write_out("stack", out, stack, tensors, dim, _rule="cat")
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    shape = tensors[0]._data.shape
    for i, t in enumerate(tensors):
        if t._data.shape != shape:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(shape)} at entry 0 and "
                f"{list(t._data.shape)} at entry {i}"
            )
    dim = _dim(dim, len(shape) + 1)
    dt = tensors[0].dtype
    for t in tensors[1:]:
        if t.dtype is not dt:
            dt = D.promote_types(dt, t.dtype)
    return Stack.apply(dim, *(t if t.dtype is dt else t.to(dt) for t in tensors))


class Stack(Op):
    """y = the inputs stacked along a new dim;  dx_i = g.select(dim, i)"""

    @staticmethod
    def forward(ctx, dim, *xs):
        ctx.dim = dim
        return np.stack([x._data for x in xs], axis=dim)

    @staticmethod
    def backward(ctx, g):
        return (None, *unbind(g, ctx.dim))


def hstack(tensors):
    tensors = [atleast_1d(t) for t in tensors]
    return cat(tensors, 0 if tensors[0].ndim == 1 else 1)


def vstack(tensors):
    return cat([atleast_2d(t) for t in tensors], 0)


def dstack(tensors):
    return cat([atleast_3d(t) for t in tensors], 2)


def atleast_1d(t):
    return t if t.ndim >= 1 else reshape(t, (1,))


def atleast_2d(t):
    if t.ndim == 1:
        return unsqueeze(t, 0)
    return t if t.ndim >= 2 else reshape(t, (1, 1))


def atleast_3d(t):
    if t.ndim >= 3:
        return t
    if t.ndim == 2:
        return unsqueeze(t, -1)
    return reshape(t, (1, t.numel(), 1) if t.ndim == 1 else (1, 1, 1))


class Narrow(Op):
    """y = x[start:start+length] along dim;  dx = g padded with zeros"""

    _node_name = "SliceBackward0"

    @staticmethod
    def forward(ctx, x, dim, start, length):
        ctx.shape, ctx.dim, ctx.start = x._data.shape, dim, start
        idx = [slice(None)] * x._data.ndim
        idx[dim] = slice(start, start + length)
        return x._data[tuple(idx)]

    @staticmethod
    def backward(ctx, g):
        idx = (slice(None),) * ctx.dim + (slice(ctx.start, ctx.start + g.shape[ctx.dim]),)
        return place(g, ctx.shape, idx), None, None, None


def narrow(input, dim, start, length):
    dim = _dim(dim, input._data.ndim)
    n = input._data.shape[dim]
    start = int(start)
    if start < 0:
        start += n
    if not (0 <= start <= n and 0 <= length and start + length <= n):
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({n}).")
    return as_view(Narrow.apply(input, dim, start, int(length)), input)


def split(tensor, split_size_or_sections, dim=0):
    dim = _dim(dim, tensor._data.ndim)
    n = tensor._data.shape[dim]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        sizes = [min(step, n - i) for i in range(0, n, step)] or [0]
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != n:
            raise RuntimeError(
                f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size at "
                "dimension "
                f"{dim}), but got split_sizes={sizes}"
            )
    cls = Split if isinstance(split_size_or_sections, int) else SplitWithSizes
    return _multi_views(cls.apply(tensor, tuple(sizes), dim), tensor, cls.__name__)


class Split(Op):
    """(y_0, y_1, ...) = consecutive slices of x along dim (views);  dx = cat(g_0, g_1, ...)"""

    @staticmethod
    def forward(ctx, x, sizes, dim):
        ctx.dim = dim
        d = x._data
        idx = [slice(None)] * d.ndim
        out, start = [], 0
        for s in sizes:
            idx[dim] = slice(start, start + s)
            out.append(d[tuple(idx)])
            start += s
        return tuple(out)

    @staticmethod
    def backward(ctx, *grads):
        return cat(grads, ctx.dim), None, None


class SplitWithSizes(Split):
    pass


def chunk(input, chunks, dim=0):
    n = input._data.shape[_dim(dim, input._data.ndim)]
    step = -(-n // chunks) if n else 1
    return split(input, step, dim)


def tensor_split(input, indices_or_sections, dim=0):
    dim = _dim(dim, input._data.ndim)
    n = input._data.shape[dim]
    if isinstance(indices_or_sections, int):
        k = indices_or_sections
        if k <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {k}")
        sizes = [n // k + (1 if i < n % k else 0) for i in range(k)]
        bounds = [0]
        for s in sizes:
            bounds.append(bounds[-1] + s)
    else:
        bounds = [0, *(min(max(int(i) + (n if i < 0 else 0), 0), n) for i in indices_or_sections), n]
    # each piece is x[a:b] (empty when b < a), a SliceBackward0 view as in PyTorch
    return tuple(narrow(input, dim, a, max(b - a, 0)) for a, b in zip(bounds[:-1], bounds[1:], strict=True))


class Select(Op):
    """y = x[index] along dim;  dx = g placed at index, zeros elsewhere"""

    @staticmethod
    def forward(ctx, x, dim, index):
        ctx.shape, ctx.dim, ctx.index = x._data.shape, dim, index
        return x._data[(slice(None),) * dim + (index,)]

    @staticmethod
    def backward(ctx, g):
        return place(g, ctx.shape, (slice(None),) * ctx.dim + (ctx.index,)), None, None


def select(input, dim, index):
    d = input._data
    dim = _dim(dim, d.ndim)
    n = d.shape[dim]
    if not -n <= index < n:
        raise IndexError(
            f"select(): index {index} out of range for tensor of size {list(d.shape)} at dimension {dim}"
        )
    index = index + n if index < 0 else index
    return as_view(Select.apply(input, dim, index), input)


def unbind(input, dim=0):
    dim = _dim(dim, input._data.ndim)
    if input._data.shape[dim] == 0:
        return ()
    return _multi_views(Unbind.apply(input, dim), input, "Unbind")


class Unbind(Op):
    """(y_0, y_1, ...) = x.select(dim, i) for each i (views);  dx = stack(g_0, g_1, ...)"""

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        d = x._data
        return tuple(d[(slice(None),) * dim + (i,)] for i in range(d.shape[dim]))

    @staticmethod
    def backward(ctx, *grads):
        return stack(grads, ctx.dim), None


def _diag_view(a, offset, d1, d2):
    """A writable view of a diagonal (np.diagonal's view is read-only by default; the memory is not)."""
    v = np.diagonal(a, offset, d1, d2)
    if a.flags.writeable and not v.flags.writeable:
        v.flags.writeable = True
    return v


class Diagonal(Op):
    """y = the diagonal of x over (dim1, dim2), as a view;  dx = zeros with g on that diagonal"""

    @staticmethod
    def forward(ctx, x, offset, d1, d2):
        ctx.shape, ctx.args = x._data.shape, (offset, d1, d2)
        return _diag_view(x._data, offset, d1, d2)

    @staticmethod
    def backward(ctx, g):
        return DiagonalScatter.apply(g, ctx.shape, *ctx.args), None, None, None


class DiagonalScatter(Op):
    """y = zeros(shape) with x written on a diagonal;  dx = the diagonal of g"""

    _node_name = "DiagonalBackwardBackward0"

    @staticmethod
    def forward(ctx, x, shape, offset, d1, d2):
        ctx.args = (offset, d1, d2)
        z = np.zeros(shape, x._data.dtype)
        _diag_view(z, offset, d1, d2)[...] = x._data
        return z

    @staticmethod
    def backward(ctx, g):
        return diagonal(g, *ctx.args), None, None, None, None


def diagonal(input, offset=0, dim1=0, dim2=1):
    nd = input._data.ndim
    d1, d2 = _dim(dim1, nd), _dim(dim2, nd)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return as_view(Diagonal.apply(input, int(offset), d1, d2), input)


class Flip(Op):
    """y = x reversed along dims;  dx = g reversed back"""

    @staticmethod
    def forward(ctx, x, axes):
        ctx.axes = axes
        return np.flip(x._data, axes).copy()

    @staticmethod
    def backward(ctx, g):
        return g.flip(ctx.axes), None


def flip(input, *dims):
    dims = _shape_arg(dims)
    return Flip.apply(input, tuple(_dim(d, input._data.ndim) for d in dims))


def fliplr(input):
    return flip(input, 1)


def flipud(input):
    return flip(input, 0)


def movedim(input, source, destination):
    nd = input._data.ndim
    src = [_dim(s, nd) for s in (source if isinstance(source, (list, tuple)) else [source])]
    dst = [_dim(s, nd) for s in (destination if isinstance(destination, (list, tuple)) else [destination])]
    order = [i for i in range(nd) if i not in src]
    for d, s in sorted(zip(dst, src, strict=True)):
        order.insert(d, s)
    return permute(input, order)


moveaxis = movedim


def repeat(input, *sizes):
    sizes = _shape_arg(sizes)
    d = input
    if len(sizes) < d.ndim:
        raise RuntimeError(
            "Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor"
        )
    return Repeat.apply(input, tuple(sizes))


class Repeat(Op):
    """y = x tiled ``sizes`` times;  dx = g folded into (repeat, size) pairs and summed over the repeats"""

    @staticmethod
    def forward(ctx, x, sizes):
        d = x._data
        ctx.shape, ctx.sizes = d.shape, sizes
        return np.tile(d.reshape((1,) * (len(sizes) - d.ndim) + d.shape), sizes)

    @staticmethod
    def backward(ctx, g):
        sizes, shape = ctx.sizes, ctx.shape
        padded = (1,) * (len(sizes) - len(shape)) + shape
        inter = tuple(x for r, s in zip(sizes, padded, strict=True) for x in (r, s))
        folded = g.reshape(inter)
        if sizes:
            folded = folded.sum(tuple(range(0, 2 * len(sizes), 2)))
        return folded.reshape(shape), None


def tile(input, dims):
    dims = tuple(dims)
    if len(dims) < input.ndim:
        dims = (1,) * (input.ndim - len(dims)) + dims
    return repeat(input, dims)


def roll(input, shifts, dims=None):
    if dims is not None:
        shifts = tuple(shifts) if isinstance(shifts, (tuple, list)) else (shifts,)
        dims = tuple(
            _dim(d, input._data.ndim) for d in (dims if isinstance(dims, (tuple, list)) else (dims,))
        )
        if len(shifts) != len(dims):
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}")
    elif isinstance(shifts, (tuple, list)):
        if len(shifts) != 1:
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:0")
        shifts = shifts[0]
    return Roll.apply(input, shifts, dims)


class Roll(Op):
    """y = x rolled by shifts along dims (flattened when dims is None);  dx = g rolled back"""

    @staticmethod
    def forward(ctx, x, shifts, dims):
        ctx.shifts, ctx.dims = shifts, dims
        return np.roll(x._data, shifts, dims)

    @staticmethod
    def backward(ctx, g):
        s = ctx.shifts
        back = tuple(-v for v in s) if isinstance(s, tuple) else -s
        return roll(g, back, ctx.dims), None, None


# -- triangles, diagonals and grids ---------------------------------------------------------------------
class Tril(Op):
    """y = x with the elements above (tril) or below (triu) diagonal k zeroed;  dx = the same of g"""

    @staticmethod
    def forward(ctx, x, k, upper):
        ctx.k, ctx.upper = k, upper
        d = x._data
        if d.ndim < 2:
            raise RuntimeError(f"{'triu' if upper else 'tril'}: input tensor must have at least 2 dimensions")
        return np.triu(d, k) if upper else np.tril(d, k)

    @staticmethod
    def backward(ctx, g):
        return (g.triu(ctx.k) if ctx.upper else g.tril(ctx.k)), None, None


class Triu(Tril):
    pass


def tril(input, diagonal=0):
    return Tril.apply(input, int(diagonal), False)


def triu(input, diagonal=0):
    return Triu.apply(input, int(diagonal), True)


class DiagEmbed(Op):
    """y = zeros with the last dim of x written on the (offset, d1, d2) diagonal;  dx = that diagonal of g"""

    @staticmethod
    def forward(ctx, x, offset, d1, d2):
        ctx.args = (offset, d1, d2)
        d = x._data
        n = d.shape[-1] + abs(offset)
        shape = list(d.shape[:-1])
        for p in sorted((d1, d2)):
            shape.insert(p, n)
        z = np.zeros(shape, d.dtype)
        _diag_view(z, offset, d1, d2)[...] = d
        return z

    @staticmethod
    def backward(ctx, g):
        return diagonal(g, *ctx.args), None, None, None


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    nd = input._data.ndim + 1
    d1, d2 = _dim(dim1, nd), _dim(dim2, nd)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return DiagEmbed.apply(input, int(offset), d1, d2)


class DiagCopy(Diagonal):
    """torch.diag of a matrix: the diagonal as a copy"""

    _node_name = "DiagonalBackward0_copy"

    @staticmethod
    def forward(ctx, x, offset, d1, d2):
        return Diagonal.forward(ctx, x, offset, d1, d2).copy()


def diag(input, diagonal=0):
    nd = input._data.ndim
    if nd == 1:
        return DiagEmbed.apply(input, int(diagonal), 0, 1)
    if nd == 2:
        return DiagCopy.apply(input, int(diagonal), 0, 1)
    raise RuntimeError("diag(): Supports 1D or 2D tensors. Got " + f"{nd}D")


def broadcast_tensors(*tensors):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    shape = ()
    for t in tensors:  # pairwise, for PyTorch's message on a mismatch
        a, b = shape, t._data.shape
        n = max(len(a), len(b))
        a, b = (1,) * (n - len(a)) + tuple(a), (1,) * (n - len(b)) + tuple(b)
        for i, (p, q) in enumerate(zip(a, b, strict=True)):
            if p not in (q, 1) and q != 1:
                raise RuntimeError(
                    f"The size of tensor a ({p}) must match the size of tensor b ({q}) "
                    f"at non-singleton dimension {i}"
                )
        shape = tuple(q if p == 1 else p for p, q in zip(a, b, strict=True))
    return tuple(t if t._data.shape == shape else expand(t, shape) for t in tensors)


def meshgrid(*tensors, indexing="ij"):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f'torch.meshgrid: indexing must be one of "xy" or "ij", but received: {indexing}')
    for t in tensors:
        if t._data.ndim > 1:
            raise RuntimeError(
                "torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: " + str(t)
            )
    ts = [t.reshape(-1) if t._data.ndim == 0 else t for t in tensors]
    pos = list(range(len(ts)))
    if indexing == "xy" and len(ts) >= 2:  # the first two inputs index the columns and the rows
        pos[0], pos[1] = 1, 0
    shape = [0] * len(ts)
    for t, p in zip(ts, pos, strict=True):
        shape[p] = t._data.shape[0]
    n = len(ts)
    out = [
        t.view(*[-1 if j == p else 1 for j in range(n)]).expand(shape) for t, p in zip(ts, pos, strict=True)
    ]
    return tuple(out)


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    if repeats is None:  # torch.repeat_interleave(counts): each index i repeated counts[i] times
        counts = input._data
        if counts.ndim > 1 or counts.dtype.kind not in "iu":
            raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
        if (counts < 0).any():
            raise RuntimeError("repeats can not be negative")
        return _wrap(
            np.repeat(np.arange(counts.shape[0] if counts.ndim else 1), counts), D.int64, input.device
        )
    x = input
    if dim is None:
        x, dim = input.reshape(-1), 0
    d = _dim(dim, x._data.ndim)
    if x._data.ndim == 0:
        x = x.reshape(1)
    n = x._data.shape[d]
    if isinstance(repeats, Tensor):
        r = repeats._data
        if r.ndim > 1:
            raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
        if r.dtype.kind not in "iu":
            raise NotImplementedError(f"\"repeat_interleave_cpu\" not implemented for '{repeats.dtype}'")
        r = np.broadcast_to(r.reshape(-1), (n,)) if r.size == 1 else r
        if r.shape[0] != n:
            raise RuntimeError(
                "repeats must have the same size as input along dim, but got "
                f"repeats.size(0) = {r.shape[0]} and input.size({d}) = {n}"
            )
        if (r < 0).any():
            raise RuntimeError("repeats can not be negative")
        return x.index_select(d, _wrap(np.repeat(np.arange(n), r), D.int64, x.device))
    repeats = int(repeats)
    if repeats < 0:
        raise RuntimeError("Repeats must be non-negative")
    shape = list(x._data.shape)
    big = shape[: d + 1] + [repeats] + shape[d + 1 :]
    out = shape[:d] + [n * repeats] + shape[d + 1 :]
    return x.unsqueeze(d + 1).expand(big).clone().view(out)


class Rot90(Op):
    """y = x turned k quarter turns in the plane dims (first towards second);  dx = g turned back"""

    @staticmethod
    def forward(ctx, x, k, dims):
        ctx.k, ctx.dims = k, dims
        return np.asarray(np.rot90(x._data, k, dims), order="C")

    @staticmethod
    def backward(ctx, g):
        return rot90(g, -ctx.k, ctx.dims), None, None


def rot90(input, k=1, dims=(0, 1)):
    dims = tuple(dims)
    nd = input._data.ndim
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if nd < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {nd}")
    d0, d1 = _dim(dims[0], nd), _dim(dims[1], nd)
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {d0} and dim1 = {d1}")
    return Rot90.apply(input, int(k) % 4, (d0, d1))
