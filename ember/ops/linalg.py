"""Matrix products: mm, mv, dot, bmm, matmul (every rank), addmm, outer, einsum and friends."""

from __future__ import annotations

from ._base import D, Op, Tensor, _wrap, np, operands, opmath
from .inplace import write_out


def _check_same(a, b, name):
    if a.dtype is not b.dtype:
        raise RuntimeError(
            f"expected m1 and m2 to have the same dtype, but got: {_tn(a.dtype)} != {_tn(b.dtype)}"
            if name in ("mm", "addmm", "matmul")
            else f"{name}: expected both inputs to have the same dtype, "
            f"but got {_tn(a.dtype)} and {_tn(b.dtype)}"
        )


def _tn(dt):
    return {
        "float32": "float",
        "float64": "double",
        "int64": "long int",
        "int32": "int",
        "float16": "c10::Half",
    }.get(dt.name, dt.name)


class Mm(Op):
    """z = x @ y (2-d);  dx = g @ y^T,  dy = x^T @ g"""

    @staticmethod
    @opmath
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return np.matmul(x._data, y._data)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        nig = ctx.needs_input_grad
        return (g.mm(y.t()) if nig[0] else None), (x.t().mm(g) if nig[1] else None)


class Mv(Op):
    """z = A @ v;  dA = outer(g, v),  dv = A^T @ g"""

    @staticmethod
    @opmath
    def forward(ctx, a, v):
        ctx.save_for_backward(a, v)
        return np.matmul(a._data, v._data)

    @staticmethod
    def backward(ctx, g):
        a, v = ctx.saved_tensors
        nig = ctx.needs_input_grad
        return (g.unsqueeze(1) * v.unsqueeze(0) if nig[0] else None), (a.t().mv(g) if nig[1] else None)


class Dot(Op):
    """z = sum(x * y) (1-d);  dx = g y,  dy = g x"""

    @staticmethod
    @opmath
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return np.asarray(np.dot(x._data, y._data))  # a 0-d array, not a NumPy scalar: the fast path

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        nig = ctx.needs_input_grad
        return (g * y if nig[0] else None), (g * x if nig[1] else None)


class Bmm(Op):
    """z = x @ y batched (broadcast over leading dims);  dx = g @ y^T,  dy = x^T @ g (summed by the engine)"""

    @staticmethod
    @opmath
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return np.matmul(x._data, y._data)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        nig = ctx.needs_input_grad
        return (g.matmul(y.mT) if nig[0] else None), (x.mT.matmul(g) if nig[1] else None)


class Matmul(Op):
    """z = x @ y for any ranks >= 1 (1-d operands promoted and removed as NumPy/PyTorch do);
    dx = g @ y^T,  dy = x^T @ g (batch dims summed by the engine)"""

    _node_name = "UnsafeViewBackward0"

    @staticmethod
    @opmath
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return np.matmul(x._data, y._data)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        nig = ctx.needs_input_grad
        x1, y1 = x.ndim == 1, y.ndim == 1
        if x1:
            x, g = x.unsqueeze(0), g.unsqueeze(-2)
        if y1:
            y, g = y.unsqueeze(-1), g.unsqueeze(-1)
        gx = gy = None
        if nig[0]:
            gx = g.matmul(y.mT)
            if x1:
                gx = gx.squeeze(-2)
        if nig[1]:
            gy = x.mT.matmul(g)
            if y1:
                gy = gy.squeeze(-1)
        return gx, gy


class MatmulVecMat(Matmul):
    _node_name = "SqueezeBackward4"  # PyTorch: x.unsqueeze(0).mm(y).squeeze_(0)


class MatmulClone(Matmul):
    _node_name = "CloneBackward0"  # PyTorch: (y^T @ x^T)^T .contiguous() for a matrix times a batch


class MatmulTranspose(Matmul):
    _node_name = "TransposeBackward0"  # the same, when that transpose is already contiguous


class Addmm(Op):
    """z = beta*c + alpha*(x @ y);  dc = beta g,  dx = alpha g y^T,  dy = alpha x^T g"""

    @staticmethod
    @opmath
    def forward(ctx, c, x, y, beta, alpha):
        ctx.save_for_backward(x, y)
        ctx.beta, ctx.alpha = beta, alpha
        p = np.matmul(x._data, y._data)
        if alpha != 1:
            p *= alpha
        cd = c._data if beta == 1 else c._data * beta
        p += cd
        return p

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        nig = ctx.needs_input_grad
        a = ctx.alpha
        gc = (g if ctx.beta == 1 else g * ctx.beta) if nig[0] else None
        gx = (g.mm(y.t()) if a == 1 else g.mm(y.t()) * a) if nig[1] else None
        gy = (x.t().mm(g) if a == 1 else x.t().mm(g) * a) if nig[2] else None
        return gc, gx, gy, None, None


def _same_dtype(a, b):
    if a.dtype is not b.dtype:
        raise RuntimeError(
            f"expected m1 and m2 to have the same dtype, but got: {_tn(a.dtype)} != {_tn(b.dtype)}"
        )


def mm(input, mat2, *, out=None):
    if out is not None:
        return write_out("mm", out, mm, input, mat2, _rule="same")
    if input.ndim != 2 or mat2.ndim != 2:
        bad = input if input.ndim != 2 else mat2
        raise RuntimeError(f"{'self' if bad is input else 'mat2'} must be a matrix")
    _same_dtype(input, mat2)
    if input.shape[1] != mat2.shape[0]:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({input.shape[0]}x{input.shape[1]} and "
            f"{mat2.shape[0]}x{mat2.shape[1]})"
        )
    return Mm.apply(input, mat2)


def mv(input, vec, *, out=None):
    if out is not None:
        return write_out("mv", out, mv, input, vec, _rule="same")
    _same_dtype(input, vec)
    if input.ndim != 2 or vec.ndim != 1 or input.shape[1] != vec.shape[0]:
        raise RuntimeError(
            f"size mismatch, got input ({input.shape[0]}), mat ({input.shape[0]}x{input.shape[1]}), vec "
            f"({vec.shape[0]})"
        )
    return Mv.apply(input, vec)


def dot(input, other, *, out=None):
    if out is not None:
        return write_out("dot", out, dot, input, other, _rule="same")
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {other.ndim}D tensors")
    if input.dtype is not other.dtype:
        raise RuntimeError(
            f"dot : expected both vectors to have same dtype, but found {input.dtype.name.capitalize()} and "
            f"{other.dtype.name.capitalize()}"
        )
    if input.shape[0] != other.shape[0]:
        raise RuntimeError(
            f"inconsistent tensor size, expected tensor [{input.shape[0]}] and src [{other.shape[0]}] "
            "to have "
            "the same number of elements, but got "
            f"{input.shape[0]} and {other.shape[0]} elements respectively"
        )
    return Dot.apply(input, other)


vdot = dot
inner = None


def bmm(input, mat2, *, out=None):
    if out is not None:
        return write_out("bmm", out, bmm, input, mat2, _rule="same")
    if input.ndim != 3 or mat2.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    _same_dtype(input, mat2)
    return Bmm.apply(input, mat2)


def matmul(input, other, *, out=None):
    if out is not None:
        return write_out("matmul", out, matmul, input, other, _rule="same")
    a, b = input, other
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(
            f"both arguments to matmul need to be at least 1D, but they are {a.ndim}D and {b.ndim}D"
        )
    _same_dtype(a, b)
    na, nb = a.ndim, b.ndim
    if na == 1 and nb == 1:
        return dot(a, b)
    if na == 2 and nb == 2:
        return mm(a, b)
    if na == 2 and nb == 1:
        return mv(a, b)
    ka, kb = a.shape[-1], b.shape[0 if nb == 1 else -2]
    if ka != kb:
        if na == 1 or nb == 1:
            raise RuntimeError(
                f"size mismatch, got input ({a.shape[0]}), mat ({a.shape[0]}x{ka}), vec ({kb})"
                if nb == 1
                else f"mat1 and mat2 shapes cannot be multiplied (1x{ka} and {kb}x{b.shape[-1]})"
            )
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: [{b.shape[0]}, {ka}] but "
            f"got: [{b.shape[0]}, {kb}]."
        )
    if na == 1 and nb == 2:
        return MatmulVecMat.apply(a, b)
    # the node PyTorch's matmul ends with: a clone when it folds a matrix (that needs grad) times a batch
    if a._rg and nb >= 3 and (na == 2 or na == 3 == nb and a.shape[0] == 1 != b.shape[0]):
        return (MatmulTranspose if a.shape[-2] == 1 or b.shape[-1] == 1 else MatmulClone).apply(a, b)
    return Matmul.apply(a, b)


def addmm(input, mat1, mat2, *, beta=1, alpha=1, out=None):
    if out is not None:
        return write_out("addmm", out, addmm, input, mat1, mat2, beta=beta, alpha=alpha, _rule="same")
    return Addmm.apply(input, mat1, mat2, beta, alpha)


def outer(input, vec2):
    return input.unsqueeze(1) * vec2.unsqueeze(0)


ger = outer


def einsum(equation, *operands_):
    """Einstein summation, built from permute/reshape/mul/sum so it is differentiable twice."""
    if len(operands_) == 1 and isinstance(operands_[0], (list, tuple)):
        operands_ = tuple(operands_[0])
    eq = equation.replace(" ", "")
    lhs, _, rhs = eq.partition("->")
    ins = lhs.split(",")
    if "->" not in eq:
        letters = sorted(set(lhs.replace(",", "")))
        rhs = "".join(c for c in letters if lhs.count(c) == 1)
    letters = []
    for s in ins:
        for c in s:
            if c not in letters:
                letters.append(c)
    sizes = {}
    out = None
    for spec, t in zip(ins, operands_, strict=True):
        # diagonal for repeated letters in one operand
        while len(set(spec)) != len(spec):
            c = next(c for c in spec if spec.count(c) > 1)
            i, j = spec.index(c), spec.index(c, spec.index(c) + 1)
            t = t.diagonal(0, i, j)
            spec = spec[:i] + spec[i + 1 : j] + spec[j + 1 :] + c
        for c, n in zip(spec, t.shape, strict=True):
            sizes[c] = n
        perm = [spec.index(c) for c in letters if c in spec]
        t = t.permute(*perm) if perm else t
        shape = [sizes[c] if c in spec else 1 for c in letters]
        t = t.reshape(shape)
        out = t if out is None else out * t
    red = [i for i, c in enumerate(letters) if c not in rhs]
    if red:
        out = out.sum(red)
    kept = [c for c in letters if c in rhs]
    return out.permute(*[kept.index(c) for c in rhs]) if rhs else out


def tensordot(a, b, dims=2):
    if isinstance(dims, int):
        da = list(range(a.ndim - dims, a.ndim))
        db = list(range(dims))
    else:
        da, db = (list(d) if isinstance(d, (list, tuple)) else [d] for d in dims)
    fa = [i for i in range(a.ndim) if i not in da]
    fb = [i for i in range(b.ndim) if i not in db]
    n = 1
    for i in da:
        n *= a.shape[i]
    am = a.permute(*fa, *da).reshape(-1, n)
    bm = b.permute(*db, *fb).reshape(n, -1)
    return am.mm(bm).reshape(*[a.shape[i] for i in fa], *[b.shape[i] for i in fb])


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    return (
        input * beta + bmm(batch1, batch2) * alpha if beta != 1 or alpha != 1 else input + bmm(batch1, batch2)
    )


def addmv(input, mat, vec, *, beta=1, alpha=1):
    return input * beta + mv(mat, vec) * alpha


def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    return input * beta + bmm(batch1, batch2).sum(0) * alpha


__all__ = [
    "mm",
    "mv",
    "dot",
    "bmm",
    "matmul",
    "addmm",
    "outer",
    "einsum",
    "tensordot",
    "D",
    "Tensor",
    "_wrap",
    "operands",
]


class LinalgCross(Op):
    """z = x × y along dim (length 3);  dx = y × g,  dy = g × x"""

    @staticmethod
    def forward(ctx, x, y, dim):
        ctx.dim = dim
        ctx.save_for_backward(x, y)
        return np.asarray(np.cross(x._data, y._data, axis=dim), order="C")

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        nig = ctx.needs_input_grad
        gx = LinalgCross.apply(y, g, ctx.dim) if nig[0] else None
        gy = LinalgCross.apply(g, x, ctx.dim) if nig[1] else None
        return gx, gy, None


def cross(input, other, dim=None):
    from ..tensor import _dim  # noqa: PLC0415
    from .shape import broadcast_tensors  # noqa: PLC0415

    if input.dtype is not other.dtype:
        raise RuntimeError(
            "linalg.cross: expected input and other to have the same dtype, "
            f"but got {input.dtype} and {other.dtype}"
        )
    x, y = broadcast_tensors(input, other)
    if dim is None:  # the first dimension of size 3, with PyTorch's deprecation warning
        import warnings  # noqa: PLC0415

        warnings.warn(
            "Using torch.cross without specifying the dim arg is deprecated.\n"
            "Please either pass the dim explicitly or simply use torch.linalg.cross.\n"
            "The default value of dim will change to agree with that of linalg.cross in a future release.",
            UserWarning,
            stacklevel=2,
        )
        dim = next((i for i, n in enumerate(x._data.shape) if n == 3), None)
        if dim is None:
            raise RuntimeError("no dimension of size 3 in input")
    d = _dim(dim, x._data.ndim)
    if x._data.shape[d] != 3:
        n = x._data.shape[d]
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got {n} and {n}")
    return LinalgCross.apply(x, y, d)


def kron(input, other):
    """Kronecker product, composite (as PyTorch's): interleaved broadcast multiply, then one reshape."""
    from .shape import Reshape  # noqa: PLC0415

    nd = max(input._data.ndim, other._data.ndim)
    a = input.reshape((1,) * (nd - input._data.ndim) + tuple(input._data.shape))
    b = other.reshape((1,) * (nd - other._data.ndim) + tuple(other._data.shape))
    sa, sb = a._data.shape, b._data.shape
    a2 = a.reshape(tuple(v for n in sa for v in (n, 1)))
    b2 = b.reshape(tuple(v for n in sb for v in (1, n)))
    prod = a2 * b2
    return Reshape.apply(prod, tuple(m * n for m, n in zip(sa, sb, strict=True)))
