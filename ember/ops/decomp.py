"""Inverses and decompositions as differentiable primitives: inv, det, slogdet, solve, cholesky, qr,
svd, eigh.

Every backward is written with ember ops (matmul, solve, tril, ...), so it is itself differentiable and
double backward works. The public, checked entry points live in ``ember.linalg``; the four that are also
top-level functions and Tensor methods (inverse, det, logdet, slogdet) are defined here.
"""

from __future__ import annotations

from collections import namedtuple

from ._base import Op, Tensor, _wrap, np
from .inplace import type_name as _type_name
from .inplace import write_out

__all__ = ["LinAlgError", "inverse", "det", "slogdet", "logdet"]

slogdet_result = namedtuple("slogdet", ["sign", "logabsdet"])
linalg_slogdet_result = namedtuple("linalg_slogdet", ["sign", "logabsdet"])


class LinAlgError(RuntimeError):
    """Raised when a matrix is singular or not positive-definite (``torch.linalg.LinAlgError``)."""


# -- checks and PyTorch's error messages --------------------------------------------------------------
def check_float(A: Tensor, fn: str) -> None:
    if not A.dtype.is_floating_point:
        raise RuntimeError(
            f"{fn}: Expected a floating point or complex tensor as input. Got {_type_name(A.dtype)}"
        )
    if A.dtype.itemsize < 4:  # LAPACK has no half-precision routines (nor has PyTorch's CPU build)
        raise RuntimeError(f"{fn}: Low precision dtypes not supported. Got {_type_name(A.dtype)}")


def check_matrix(A: Tensor, fn: str, square: bool = True) -> None:
    """At least 2-d, (square,) floating point: PyTorch's checks in PyTorch's words."""
    if A.ndim < 2:
        raise RuntimeError(f"{fn}: The input tensor A must have at least 2 dimensions.")
    if square and A.shape[-1] != A.shape[-2]:
        raise RuntimeError(
            f"{fn}: A must be batches of square matrices, but they are {A.shape[-2]} by {A.shape[-1]} "
            "matrices"
        )
    check_float(A, fn)


def _batches(a):
    """(prefix, matrix) per matrix of a batch; the prefix names the batch element as PyTorch does."""
    mats = a.reshape(-1, *a.shape[-2:])
    for i, m in enumerate(mats):
        yield (f"(Batch element {i}): " if a.ndim > 2 else ""), m


def _zero_pivot(a) -> int:
    """The 1-based index of LU's first zero pivot (partial pivoting, as LAPACK's getrf), or 0."""
    a = np.array(a, dtype=a.dtype)
    n = a.shape[0]
    for k in range(n):
        p = k + int(np.argmax(np.abs(a[k:, k])))
        if a[p, k] == 0:
            return k + 1
        a[[k, p]] = a[[p, k]]
        a[k + 1 :, k] /= a[k, k]
        a[k + 1 :, k + 1 :] -= np.outer(a[k + 1 :, k], a[k, k + 1 :])
    return 0


def _singular_error(a, fn: str) -> LinAlgError:
    for prefix, m in _batches(a):
        k = _zero_pivot(m)
        if k:
            if fn == "linalg.solve":
                return LinAlgError(
                    f"torch.linalg.solve: {prefix}The solver failed because the input matrix is singular."
                )
            return LinAlgError(
                f"{fn}: {prefix}The diagonal element {k} is zero, the inversion could not be completed "
                "because the input matrix is singular."
            )
    return LinAlgError(f"{fn}: The input matrix is singular.")


def _not_pd_error(a) -> LinAlgError:
    """Names the first leading minor that is not positive-definite, as LAPACK's potrf reports it."""
    for prefix, m in _batches(a):
        m = m.astype(np.float64)
        n = m.shape[0]
        L = np.zeros_like(m)
        for j in range(n):
            d = m[j, j] - L[j, :j] @ L[j, :j]
            if not d > 0:  # also catches nan
                return LinAlgError(
                    f"linalg.cholesky: {prefix}The factorization could not be completed because the input "
                    f"is not positive-definite (the leading minor of order {j + 1} is not positive-definite)."
                )
            L[j, j] = np.sqrt(d)
            L[j + 1 :, j] = (m[j + 1 :, j] - L[j + 1 :, :j] @ L[j, :j]) / L[j, j]
    return LinAlgError("linalg.cholesky: The factorization could not be completed because the input is not "
                       "positive-definite.")  # fmt: skip


def _eye(n: int, like: Tensor) -> Tensor:
    return _wrap(np.eye(n, dtype=like._data.dtype), like.dtype, like.device)


def _wrap_like(a, like: Tensor) -> Tensor:
    return _wrap(np.asarray(a), None, like.device)


def _rsolve(X: Tensor, R: Tensor) -> Tensor:
    """X R^{-T} = solve(R, X^T)^T, differentiably."""
    return Solve.apply(R, X.mT).mT


# -- the primitives ---------------------------------------------------------------------------------
class Inv(Op):
    """Y = A^{-1};  dA = -Y^T g Y^T"""

    _node_name = "LinalgInvExBackward0"
    _saves_output = True

    @staticmethod
    def forward(ctx, A):
        try:
            return np.linalg.inv(A._data)
        except np.linalg.LinAlgError:
            raise _singular_error(A._data, "linalg.inv") from None

    @staticmethod
    def backward(ctx, g):
        (Y,) = ctx.saved_tensors
        return -(Y.mT.matmul(g).matmul(Y.mT))


class Det(Op):
    """d = det(A);  dA = g d A^{-T} (the cofactor matrix; taken from the SVD where A is singular)"""

    _node_name = "LinalgDetBackward0"
    _saves_output = True

    @staticmethod
    def forward(ctx, A):
        ctx.save_for_backward(A)
        return np.asarray(np.linalg.det(A._data))

    @staticmethod
    def backward(ctx, g):
        A, d = ctx.saved_tensors
        if np.all(d._data != 0):
            return (g * d).unsqueeze(-1).unsqueeze(-1) * Inv.apply(A).mT
        # NOTE [ det of a singular matrix ]: the cofactor matrix is still well defined (and nonzero when
        # rank = n - 1). It is computed from the SVD as a constant, so it has no second derivative.
        return g.unsqueeze(-1).unsqueeze(-1) * _wrap(_cofactor(A._data), A.dtype, A.device)


def _cofactor(a):
    """cof(A) = det(A) A^{-T} = det(U) det(Vh) U diag(prod_{j != i} s_j) Vh, valid for singular A too."""
    u, s, vh = np.linalg.svd(a)
    n = s.shape[-1]
    others = np.where(np.eye(n, dtype=bool), 1, s[..., None, :])
    p = np.prod(others, axis=-1)
    sign = np.linalg.det(u) * np.linalg.det(vh)
    return sign[..., None, None] * np.matmul(u * p[..., None, :], vh)


class Slogdet(Op):
    """(sign, log|det A|) = slogdet(A);  dA = g_logabsdet A^{-T} (sign is piecewise constant)"""

    _node_name = "LinalgSlogdetBackward0"

    @staticmethod
    def forward(ctx, A):
        ctx.save_for_backward(A)
        sign, logabs = np.linalg.slogdet(A._data)
        return np.asarray(sign), np.asarray(logabs)

    @staticmethod
    def backward(ctx, _gsign, g):
        (A,) = ctx.saved_tensors
        return g.unsqueeze(-1).unsqueeze(-1) * Inv.apply(A).mT


class Solve(Op):
    """X = A^{-1} B (B a batch of matrices);  dB = A^{-T} g,  dA = -dB X^T"""

    _node_name = "LinalgSolveExBackward0"
    _saves_output = True

    @staticmethod
    def forward(ctx, A, B):
        ctx.save_for_backward(A)
        try:
            return np.linalg.solve(A._data, B._data)
        except np.linalg.LinAlgError:
            raise _singular_error(A._data, "linalg.solve") from None

    @staticmethod
    def backward(ctx, g):
        A, X = ctx.saved_tensors
        gB = Solve.apply(A.mT, g)
        gA = -(gB.matmul(X.mT)) if ctx.needs_input_grad[0] else None
        return gA, gB


class Cholesky(Op):
    """L = chol(A), A = L L^T;  dA = L^{-T} Φ(L^T g) L^{-1},  Φ(X): tril(X), diagonal halved, symmetrised"""

    _node_name = "LinalgCholeskyExBackward0"
    _saves_output = True

    @staticmethod
    def forward(ctx, A, upper):
        ctx.upper = upper
        a = np.swapaxes(A._data, -1, -2) if upper else A._data  # upper: PyTorch reads A's upper triangle
        try:
            L = np.linalg.cholesky(a)
        except np.linalg.LinAlgError:
            raise _not_pd_error(a) from None
        return np.ascontiguousarray(np.swapaxes(L, -1, -2)) if upper else L

    @staticmethod
    def backward(ctx, g):
        (L,) = ctx.saved_tensors
        if ctx.upper:
            L, g = L.mT, g.mT
        gA = L.mT.matmul(g).tril()
        gA = 0.5 * (gA + gA.tril(-1).mT)
        gA = Solve.apply(L.mT, gA)  # L^{-T} gA
        return _rsolve(gA, L.mT), None  # ... L^{-1}


class Qr(Op):
    """A = QR;  dA = (gQ + Q copyltu(G)) R^{-T}, G = gR R^T - Q^T gQ, copyltu(G) = triu(G) + triu(G, 1)^T
    (m >= n; for m < n, A = [X | Y] with Y = Q R_Y gives gY = Q gR_Y and an extra Y gR_Y^T in gQ)"""

    _node_name = "LinalgQrBackward0"

    @staticmethod
    def forward(ctx, A, mode):
        ctx.mode = mode
        ctx.set_materialize_grads(False)
        a = A._data
        if mode == "r":
            q, r = np.zeros((0,), a.dtype), np.linalg.qr(a, mode="r")
        else:
            q, r = np.linalg.qr(a, mode=mode)
        Q, R = _wrap_like(q, A), _wrap_like(r, A)
        ctx.save_for_backward(Q, R)
        return Q, R

    @staticmethod
    def backward(ctx, gQ, gR):
        if ctx.mode == "r":
            raise RuntimeError(
                "The derivative of linalg.qr depends on Q, which is not computed when mode='r'. Please use "
                "linalg.qr(A, mode='reduced') if you are going to differentiate through linalg.qr."
            )
        Q, R = ctx.saved_tensors
        m, n = Q.shape[-2], R.shape[-1]
        if ctx.mode == "complete" and m > n:
            raise RuntimeError(
                "The QR decomposition is not differentiable when mode='complete' and nrows > ncols."
            )
        if m >= n:
            return _qr_backward(gQ, gR, Q, R), None
        from .shape import cat  # noqa: PLC0415

        gRX = gRY = None
        if gR is not None:
            gRX, gRY = gR[..., :m], gR[..., m:]
            Y = Q.matmul(R[..., m:])
            gQ = Y.matmul(gRY.mT) if gQ is None else gQ + Y.matmul(gRY.mT)
        gX = _qr_backward(gQ, gRX, Q, R[..., :m])
        gY = Q.matmul(gRY) if gRY is not None else gX.new_zeros((*gX.shape[:-1], n - m))
        return cat([gX, gY], -1), None


def _qr_backward(gQ, gR, Q, R):
    G = None
    if gR is not None:
        G = gR.matmul(R.mT)
    if gQ is not None:
        G = -(Q.mT.matmul(gQ)) if G is None else G - Q.mT.matmul(gQ)
    B = Q.matmul(G.triu() + G.triu(1).mT)
    if gQ is not None:
        B = B + gQ
    return _rsolve(B, R)


class Svd(Op):
    """A = U diag(S) Vh;  dA = U [(J_U S + S J_V) / E + diag(gS)] Vh + gU's, gVh's parts off U's, V's span,
    J_U = U^T gU - gU^T U,  J_V = Vh gVh^T - gVh Vh^T,  E_ij = s_j^2 - s_i^2 (1 on the diagonal)"""

    _node_name = "LinalgSvdBackward0"

    @staticmethod
    def forward(ctx, A, full_matrices):
        ctx.full = full_matrices
        ctx.set_materialize_grads(False)
        u, s, vh = np.linalg.svd(A._data, full_matrices=full_matrices)
        U, S, Vh = _wrap_like(u, A), _wrap_like(s, A), _wrap_like(vh, A)
        ctx.save_for_backward(U, S, Vh)
        return U, S, Vh

    @staticmethod
    def backward(ctx, gU, gS, gVh):
        U, S, Vh = ctx.saved_tensors
        k = S.shape[-1]
        m, n = U.shape[-2], Vh.shape[-1]
        if ctx.full:  # the extra columns of a full U or Vh do not take part (as PyTorch)
            U, Vh = U[..., :k], Vh[..., :k, :]
            gU = gU[..., :k] if gU is not None else None
            gVh = gVh[..., :k, :] if gVh is not None else None
        if gU is None and gVh is None:
            return U.matmul(gS.unsqueeze(-1) * Vh), None
        S2 = S * S
        E = S2.unsqueeze(-2) - S2.unsqueeze(-1) + _eye(k, S)
        inner = None
        if gU is not None:
            UtgU = U.mT.matmul(gU)
            inner = (UtgU - UtgU.mT) * S.unsqueeze(-2)
        if gVh is not None:
            VtgV = Vh.matmul(gVh.mT)
            term = S.unsqueeze(-1) * (VtgV - VtgV.mT)
            inner = term if inner is None else inner + term
        inner = inner / E
        if gS is not None:
            inner = inner + gS.diag_embed()
        if m > k and gU is not None:  # gA = [U inner + (I - U U^T) gU S^{-1}] Vh
            gUS = gU / S.unsqueeze(-2)
            gA = U.matmul(inner) + gUS - U.matmul(U.mT.matmul(gUS))
            return gA.matmul(Vh), None
        if n > k and gVh is not None:  # gA = U [inner Vh + S^{-1} gVh (I - V Vh)]
            SgVh = gVh / S.unsqueeze(-1)
            gA = inner.matmul(Vh) + SgVh - SgVh.matmul(Vh.mT).matmul(Vh)
            return U.matmul(gA), None
        return U.matmul(inner).matmul(Vh), None


class Eigh(Op):
    """A = V diag(L) V^T;  dA = V [diag(gL) + skew(V^T gV) / 2E] V^T,  E_ij = L_j - L_i (E_ii = 1)"""

    _node_name = "LinalgEighBackward0"

    @staticmethod
    def forward(ctx, A, uplo):
        ctx.set_materialize_grads(False)
        w, v = np.linalg.eigh(A._data, UPLO=uplo)
        L, V = _wrap_like(w, A), _wrap_like(v, A)
        ctx.save_for_backward(L, V)
        return L, V

    @staticmethod
    def backward(ctx, gL, gV):
        L, V = ctx.saved_tensors
        if gV is None:
            return V.matmul(gL.unsqueeze(-1) * V.mT), None
        VtgV = V.mT.matmul(gV)
        E = L.unsqueeze(-2) - L.unsqueeze(-1) + _eye(L.shape[-1], L)
        inner = 0.5 * (VtgV - VtgV.mT) / E
        if gL is not None:
            inner = inner + gL.diag_embed()
        return V.matmul(inner).matmul(V.mT), None


# -- the entry points that are also top-level functions and Tensor methods ----------------------------
def inverse(input: Tensor, *, out=None) -> Tensor:
    """The inverse of each square matrix in ``input`` (``torch.inverse``, ``torch.linalg.inv``).

    Shape: ``(*, n, n) -> (*, n, n)``. Example: ``ember.linalg.inv(ember.eye(3))``.
    """
    if out is not None:
        return write_out("inverse", out, inverse, input)
    check_matrix(input, "linalg.inv")
    return Inv.apply(input)


def det(input: Tensor) -> Tensor:
    """The determinant of each square matrix in ``input``. Shape: ``(*, n, n) -> (*)``."""
    check_matrix(input, "linalg.det")
    return Det.apply(input)


def _slogdet(A: Tensor, fn: str, result) -> tuple:
    check_matrix(A, fn)
    return result(*Slogdet.apply(A))


def slogdet(input: Tensor) -> tuple:
    """``(sign, logabsdet)`` of each square matrix, with det = sign * exp(logabsdet)."""
    return _slogdet(input, "linalg.slogdet", slogdet_result)


def logdet(input: Tensor) -> Tensor:
    """log det(A): nan where det < 0, -inf where A is singular. Shape: ``(*, n, n) -> (*)``."""
    from .elementwise import where  # noqa: PLC0415

    check_matrix(input, "logdet")
    sign, logabs = Slogdet.apply(input)
    return where(sign < 0, float("nan"), logabs)
