"""``torch.linalg``: norms, inverses, solvers and decompositions, batched over leading dimensions.

The differentiable primitives live in ``ember/ops/decomp.py``; norms and the rest are composites of ember
ops, so their gradients (and second derivatives) come for free.
"""

from __future__ import annotations

import math
from collections import namedtuple
from collections.abc import Sequence

from . import dtypes as D
from .ops import decomp as _dc
from .ops.decomp import LinAlgError, check_float, check_matrix
from .ops.inplace import write_out
from .ops.linalg import cross as _cross
from .ops.linalg import matmul
from .ops.reduction import VectorNorm, _axes, amax, amin
from .ops.shape import diagonal as _diagonal
from .tensor import Tensor, _dim

__all__ = [
    "LinAlgError",
    "vector_norm",
    "matrix_norm",
    "norm",
    "inv",
    "det",
    "slogdet",
    "solve",
    "solve_triangular",
    "cholesky",
    "qr",
    "svd",
    "svdvals",
    "eigh",
    "eigvalsh",
    "matmul",
    "cross",
    "multi_dot",
    "diagonal",
    "vecdot",
]

linalg_qr = namedtuple("linalg_qr", ["Q", "R"])
linalg_svd = namedtuple("linalg_svd", ["U", "S", "Vh"])
linalg_eigh = namedtuple("linalg_eigh", ["eigenvalues", "eigenvectors"])

_type_name = _dc._type_name


# -- norms ----------------------------------------------------------------------------------------------
def vector_norm(
    x: Tensor, ord: float = 2, dim: int | Sequence[int] | None = None, keepdim: bool = False, *, dtype=None
) -> Tensor:
    """The ``ord``-norm of ``x`` over ``dim`` (all elements when None), as if ``x`` were flattened there.

    Args: ord: any real p, ``inf``, ``-inf`` or 0 (the count of nonzeros). dtype: compute in this dtype.
    Example: ``ember.linalg.vector_norm(ember.ones(3, 4), 1, dim=1)`` is ``tensor([4., 4., 4.])``.
    """
    if isinstance(ord, str) or not isinstance(ord, (int, float)):
        raise TypeError(f"linalg_vector_norm(): argument 'ord' must be Number, not {type(ord).__name__}")
    if not x.dtype.is_floating_point:
        raise RuntimeError(
            "linalg.vector_norm: Expected a floating point or complex tensor as input. "
            f"Got {_type_name(x.dtype)}"
        )
    if dtype is not None:
        dt = D.to_dtype(dtype)
        if dt.itemsize < x.dtype.itemsize or not dt.is_floating_point:
            raise RuntimeError(
                f"linalg.vector_norm: the dtype of the input ({_type_name(x.dtype)}) should be convertible "
                f"without narrowing to the specified dtype ({_type_name(dt)})"
            )
        x = x.to(dt)
    if isinstance(dim, int):
        dim = (dim,)
    axes = _axes(dim, x.ndim)
    if axes is not None and len(set(axes)) != len(axes):
        d = next(a for a in axes if axes.count(a) > 1)
        raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
    if ord < 0 or math.isinf(ord):
        sizes = x.shape if axes is None else [x.shape[a] for a in axes]
        if any(n == 0 for n in sizes) or x.numel() == 0:
            what = "inf" if ord == math.inf else f"{ord:g}" if ord != -math.inf else "-inf"
            raise RuntimeError(
                f"linalg.vector_norm cannot compute the {what} norm on an empty tensor because the operation "
                "does not have an identity"
            )
    return VectorNorm.apply(x, float(ord), axes, keepdim)


def matrix_norm(
    A: Tensor, ord: str | float = "fro", dim: tuple[int, int] = (-2, -1), keepdim: bool = False, *, dtype=None
) -> Tensor:
    """A matrix norm of each matrix over the two dims ``dim``.

    Args: ord: ``'fro'``, ``'nuc'``, ``inf``, ``-inf`` (max/min row sum), 1, -1 (max/min column sum),
    2, -2 (largest/smallest singular value).
    Shape: ``(*, m, n) -> (*)``. Example: ``ember.linalg.matrix_norm(ember.eye(3), 'nuc')`` is 3.
    """
    if A.ndim < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 dimensions.")
    if not A.dtype.is_floating_point:
        check_float(A, "linalg.matrix_norm")
    dim = tuple(dim) if isinstance(dim, (list, tuple)) else (dim,)
    if len(dim) != 2:
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {' '.join(map(str, dim))}")
    d0, d1 = _dim(dim[0], A.ndim), _dim(dim[1], A.ndim)
    if d0 == d1:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({dim[0]}, {dim[1]})")
    if dtype is not None:
        A = A.to(D.to_dtype(dtype))
    if ord == "fro":
        return vector_norm(A, 2, (d0, d1), keepdim)
    if ord in ("nuc", 2, -2):
        check_float(A, "linalg.svd")
        rest = [i for i in range(A.ndim) if i not in (d0, d1)]
        s = svdvals(A.permute(*rest, d0, d1))
        r = s.sum(-1) if ord == "nuc" else amax(s, -1) if ord == 2 else amin(s, -1)
        if keepdim:
            for d in sorted((d0, d1)):
                r = r.unsqueeze(d)
        return r
    if ord in (1, -1, math.inf, -math.inf) and not isinstance(ord, str):
        if math.isinf(ord):  # the row sums: reduce over dim[1] first
            d0, d1 = d1, d0
        if not keepdim and d0 < d1:
            d1 -= 1
        r = vector_norm(A, 1, d0, keepdim)
        return amax(r, d1, keepdim) if ord > 0 else amin(r, d1, keepdim)
    raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")


def norm(
    A: Tensor,
    ord: str | float | None = None,
    dim: int | Sequence[int] | None = None,
    keepdim: bool = False,
    *,
    dtype=None,
) -> Tensor:
    """A vector or matrix norm, chosen as ``torch.linalg.norm`` chooses.

    ``dim`` an int or 1-tuple: a vector norm; a 2-tuple: a matrix norm. ``dim=None``: the 2-norm of the
    flattened input when ``ord`` is None, else a vector norm of a 1-D input or a matrix norm of a 2-D one.
    Example: ``ember.linalg.norm(ember.ones(2, 2))`` is 2.
    """
    if isinstance(dim, int):
        dim = (dim,)
    if dim is not None:
        dim = tuple(dim)
        if len(dim) not in (1, 2):
            raise RuntimeError(
                f"linalg.norm: If dim is specified, it must be of length 1 or 2. Got {list(dim)}"
            )
    elif ord is not None and A.ndim not in (1, 2):
        raise RuntimeError(
            f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got {A.ndim}D."
        )
    if isinstance(ord, str) or (
        ord is not None and (dim is not None and len(dim) == 2 or dim is None and A.ndim == 2)
    ):
        return matrix_norm(A, ord, dim if dim is not None else (0, 1), keepdim, dtype=dtype)
    return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)


# -- inverses and solvers ----------------------------------------------------------------------------------
inv = _dc.inverse
det = _dc.det


def slogdet(A: Tensor) -> tuple:
    """``(sign, logabsdet)`` of each square matrix: det = sign * exp(logabsdet).

    Shape: ``(*, n, n) -> (*), (*)``.
    """
    return _dc._slogdet(A, "linalg.slogdet", _dc.linalg_slogdet_result)


def solve(A: Tensor, B: Tensor, *, left: bool = True, out=None) -> Tensor:
    """The solution X of ``A X = B`` (``X A = B`` when ``left=False``), A square and invertible.

    B is a batch of vectors when it is 1-D or has A's shape without the last dim; batch dims broadcast.
    Shape: ``(*, n, n), (*, n, k) -> (*, n, k)``. Example: ``ember.linalg.solve(2 * ember.eye(2), b)``.
    """
    if out is not None:
        return write_out("linalg.solve", out, solve, A, B, left=left)
    check_matrix(A, "linalg.solve")
    if B.dtype is not A.dtype:
        raise RuntimeError(
            "linalg.solve: Expected A and B to have the same dtype, but found A of type "
            f"{_type_name(A.dtype)} and B of type {_type_name(B.dtype)} instead"
        )
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and B.shape == A.shape[:-1])
    B2 = B.unsqueeze(-1) if vector else B
    n = A.shape[-1]
    if B2.ndim < 2 or (B2.shape[-2] if left else B2.shape[-1]) != n:
        rows, cols = (B2.shape[-2], B2.shape[-1]) if B2.ndim >= 2 else (B2.shape[-1], 1)
        raise RuntimeError(
            f"linalg.solve: Incompatible shapes of A and B for the equation {'AX = B' if left else 'XA = B'} "
            f"({n}x{n} and {rows}x{cols})"
        )
    X = _dc.Solve.apply(A, B2) if left else _dc.Solve.apply(A.mT, B2.mT).mT
    return X.squeeze(-1) if vector else X


def solve_triangular(
    A: Tensor, B: Tensor, *, upper: bool, left: bool = True, unitriangular: bool = False
) -> Tensor:
    """The solution X of ``A X = B`` (``X A = B`` when ``left=False``) reading only A's triangle.

    Shape: ``(*, n, n), (*, n, k) -> (*, n, k)``.
    """
    check_matrix(A, "linalg.solve_triangular")
    T = A.triu(1 if unitriangular else 0) if upper else A.tril(-1 if unitriangular else 0)
    if unitriangular:
        T = T + _dc._eye(A.shape[-1], A)
    return _dc.Solve.apply(T, B) if left else _dc.Solve.apply(T.mT, B.mT).mT


# -- decompositions ----------------------------------------------------------------------------------------
def cholesky(A: Tensor, *, upper: bool = False, out=None) -> Tensor:
    """L with ``A = L L^T`` for symmetric positive-definite A (reads A's lower triangle; ``upper``:
    returns ``U = L^T`` computed from A's upper triangle). Shape: ``(*, n, n) -> (*, n, n)``."""
    if out is not None:
        return write_out("linalg.cholesky", out, cholesky, A, upper=upper)
    check_matrix(A, "linalg.cholesky")
    return _dc.Cholesky.apply(A, bool(upper))


def qr(A: Tensor, mode: str = "reduced", *, out=None) -> tuple:
    """``(Q, R)`` with ``A = Q R``, Q orthonormal columns, R upper triangular.

    Args: mode: ``'reduced'`` (Q is m x k), ``'complete'`` (Q is m x m) or ``'r'`` (Q is empty).
    Shape: ``(*, m, n) -> (*, m, k), (*, k, n)`` with k = min(m, n).
    """
    if out is not None:
        raise NotImplementedError("ember: linalg.qr(out=...) is not supported; use the returned tuple")
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(
            f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), 'r', "
            "or 'complete'"
        )
    check_matrix(A, "linalg.qr", square=False)
    return linalg_qr(*_dc.Qr.apply(A, mode))


def svd(A: Tensor, full_matrices: bool = True, *, driver: str | None = None, out=None) -> tuple:
    """``(U, S, Vh)`` with ``A = U diag(S) Vh``, S descending.

    Shape: ``(*, m, n) -> (*, m, m), (*, k), (*, n, n)`` (``full_matrices=False``: ``(*, m, k)``,
    ``(*, k, n)``). Gradients are defined for distinct nonzero singular values, as PyTorch's.
    """
    if out is not None:
        raise NotImplementedError("ember: linalg.svd(out=...) is not supported; use the returned tuple")
    check_matrix(A, "linalg.svd", square=False)
    return linalg_svd(*_dc.Svd.apply(A, bool(full_matrices)))


def svdvals(A: Tensor, *, driver: str | None = None, out=None) -> Tensor:
    """The singular values of each matrix, descending. Shape: ``(*, m, n) -> (*, k)``."""
    if out is not None:
        return write_out("linalg.svdvals", out, svdvals, A, driver=driver)
    check_matrix(A, "linalg.svd", square=False)
    return _dc.Svd.apply(A, False)[1]


def _check_eigh(A: Tensor, UPLO: str) -> None:
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    if not A.dtype.is_floating_point:
        raise NotImplementedError(f"\"linalg_eigh_cpu\" not implemented for '{_type_name(A.dtype)}'")
    check_matrix(A, "linalg.eigh")


def eigh(A: Tensor, UPLO: str = "L", *, out=None) -> tuple:
    """``(eigenvalues, eigenvectors)`` of symmetric matrices (reading the ``UPLO`` triangle), ascending.

    Shape: ``(*, n, n) -> (*, n), (*, n, n)``; ``A = V diag(L) V^T``.
    """
    if out is not None:
        raise NotImplementedError("ember: linalg.eigh(out=...) is not supported; use the returned tuple")
    _check_eigh(A, UPLO)
    return linalg_eigh(*_dc.Eigh.apply(A, UPLO))


def eigvalsh(A: Tensor, UPLO: str = "L", *, out=None) -> Tensor:
    """The eigenvalues of symmetric matrices, ascending. Shape: ``(*, n, n) -> (*, n)``."""
    if out is not None:
        return write_out("linalg.eigvalsh", out, eigvalsh, A, UPLO)
    _check_eigh(A, UPLO)
    return _dc.Eigh.apply(A, UPLO)[0]


# -- products and views ------------------------------------------------------------------------------------
def cross(input: Tensor, other: Tensor, *, dim: int = -1, out=None) -> Tensor:
    """The cross product of 3-vectors along ``dim`` (inputs broadcast)."""
    if out is not None:
        return write_out("linalg.cross", out, cross, input, other, dim=dim)
    return _cross(input, other, dim)


def vecdot(x: Tensor, y: Tensor, *, dim: int = -1, out=None) -> Tensor:
    """The dot product of vectors along ``dim`` (inputs broadcast)."""
    if out is not None:
        return write_out("linalg.vecdot", out, vecdot, x, y, dim=dim)
    return (x * y).sum(dim)


def multi_dot(tensors: Sequence[Tensor], *, out=None) -> Tensor:
    """The product of a chain of matrices; the first and last may be vectors: ``multi_dot([a, B, c])``."""
    if out is not None:
        return write_out("linalg.multi_dot", out, multi_dot, tensors)
    ts = list(tensors)
    if len(ts) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(ts)}")
    if ts[0].ndim not in (1, 2):
        raise RuntimeError(f"multi_dot(): the first tensor must be 1D or 2D but got {ts[0].ndim}D")
    if ts[-1].ndim not in (1, 2):
        raise RuntimeError(f"multi_dot(): the last tensor must be 1D or 2D but got {ts[-1].ndim}D")
    for i, t in enumerate(ts[1:-1], 1):
        if t.ndim != 2:
            raise RuntimeError(f"multi_dot(): tensor {i} must be 2D but got {t.ndim}D")
    first, last = ts[0].ndim == 1, ts[-1].ndim == 1
    if first:
        ts[0] = ts[0].unsqueeze(0)
    if last:
        ts[-1] = ts[-1].unsqueeze(-1)
    for i in range(len(ts) - 1):
        if ts[i].shape[1] != ts[i + 1].shape[0]:
            a, b = list(tensors[i].shape), list(tensors[i + 1].shape)
            raise RuntimeError(
                f"multi_dot(): tensors {i} and {i + 1} with shapes {a} and {b} cannot be multiplied"
            )
    out_ = ts[0]
    for t in ts[1:]:
        out_ = matmul(out_, t)
    if first:
        out_ = out_.squeeze(0)
    if last:
        out_ = out_.squeeze(-1)
    return out_


def diagonal(A: Tensor, *, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """The ``offset`` diagonal over ``(dim1, dim2)``: ``torch.diagonal`` with matrix defaults."""
    return _diagonal(A, offset, dim1, dim2)
