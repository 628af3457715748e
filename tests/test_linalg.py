"""ember.linalg: forward values against NumPy, gradcheck/gradgradcheck in float64, PyTorch's error messages,
and (where torch is installed) parity of values, gradients and grad_fn names with torch.linalg."""

from __future__ import annotations

import math
import types
import zlib

import numpy as np
import pytest

import ember
from ember.autograd import gradcheck, gradgradcheck

BATCHES = [(), (2,), (2, 3)]
DTYPES = ["float32", "float64"]


def _rng(*key) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(repr(key).encode()))  # hash() of a str varies run to run


def square(shape, rng) -> np.ndarray:
    """Well-conditioned square matrices: Gaussian plus n on the diagonal."""
    n = shape[-1]
    return rng.standard_normal(shape) + n * np.eye(n)


def spd(shape, rng) -> np.ndarray:
    a = rng.standard_normal(shape)
    return a @ np.swapaxes(a, -1, -2) + shape[-1] * np.eye(shape[-1])


def sym(shape, rng) -> np.ndarray:
    a = rng.standard_normal(shape)
    return a + np.swapaxes(a, -1, -2)


def N(*shape):
    """A maker of standard normal inputs."""
    return lambda r: r.standard_normal(shape)


def SQ(*shape):
    return lambda r: square(shape, r)


def SYM(*shape):
    return lambda r: sym(shape, r)


def _eigh_parts(r):
    return r.eigenvalues, r.eigenvectors.abs()  # |V|: free of each eigenvector's sign


def T(a, dtype="float64", rg=False):
    return ember.tensor(np.asarray(a, dtype=dtype), requires_grad=rg)


def close(actual, expected, dtype="float64", rtol=None, atol=None):
    rtol = rtol or (1e-9 if dtype == "float64" else 2e-4)
    atol = atol or (1e-10 if dtype == "float64" else 2e-4)
    a = actual.detach().numpy() if isinstance(actual, ember.Tensor) else np.asarray(actual)
    np.testing.assert_allclose(a, expected, rtol=rtol, atol=atol)


# -- forward against NumPy ----------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch", BATCHES)
def test_inverses_and_solve_match_numpy(batch, dtype):
    rng = _rng("inv", batch, dtype)
    a = square((*batch, 4, 4), rng).astype(dtype)
    b = rng.standard_normal((*batch, 4, 2)).astype(dtype)
    A, B = T(a, dtype), T(b, dtype)
    for out in (ember.linalg.inv(A), ember.inverse(A), A.inverse()):
        assert out.dtype is A.dtype and out.shape == A.shape
        close(out, np.linalg.inv(a), dtype)
    close(ember.linalg.det(A), np.linalg.det(a), dtype)
    close(A.det(), np.linalg.det(a), dtype)
    sign, logabs = np.linalg.slogdet(a)
    for r in (ember.linalg.slogdet(A), ember.slogdet(A), A.slogdet()):
        close(r.sign, sign, dtype)
        close(r.logabsdet, logabs, dtype)
    close(ember.logdet(A), np.where(sign < 0, np.nan, logabs), dtype)
    close(ember.linalg.solve(A, B), np.linalg.solve(a, b), dtype)
    close(
        ember.linalg.solve(A, B.mT, left=False),
        np.swapaxes(np.linalg.solve(np.swapaxes(a, -1, -2), b), -1, -2),
        dtype,
    )
    vec = b[..., 0]
    close(ember.linalg.solve(A, T(vec, dtype)), np.linalg.solve(a, vec[..., None])[..., 0], dtype)
    up = np.triu(a)
    close(ember.linalg.solve_triangular(A, B, upper=True), np.linalg.solve(up, b), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch", BATCHES)
def test_decompositions_match_numpy(batch, dtype):
    rng = _rng("dec", batch, dtype)
    p = spd((*batch, 4, 4), rng).astype(dtype)
    L = ember.linalg.cholesky(T(p, dtype))
    close(L, np.linalg.cholesky(p), dtype)
    close(ember.linalg.cholesky(T(p, dtype), upper=True), np.swapaxes(np.linalg.cholesky(p), -1, -2), dtype)
    for m, n in ((5, 3), (3, 5), (4, 4)):
        a = rng.standard_normal((*batch, m, n)).astype(dtype)
        Q, R = ember.linalg.qr(T(a, dtype))
        q, r = np.linalg.qr(a)
        close(Q, q, dtype)
        close(R, r, dtype)
        assert ember.linalg.qr(T(a, dtype), mode="complete").Q.shape == (*batch, m, m)
        close(ember.linalg.qr(T(a, dtype), mode="r").R, r, dtype)
        U, S, Vh = ember.linalg.svd(T(a, dtype))
        k = min(m, n)
        assert U.shape == (*batch, m, m) and S.shape == (*batch, k) and Vh.shape == (*batch, n, n)
        close(S, np.linalg.svd(a, compute_uv=False), dtype)
        close(ember.linalg.svdvals(T(a, dtype)), np.linalg.svd(a, compute_uv=False), dtype)
        U, S, Vh = ember.linalg.svd(T(a, dtype), full_matrices=False)
        close((U * S.unsqueeze(-2)) @ Vh, a, dtype)
    s = sym((*batch, 4, 4), rng).astype(dtype)
    w, v = ember.linalg.eigh(T(s, dtype))
    close(w, np.linalg.eigvalsh(s), dtype)
    close((v * w.unsqueeze(-2)) @ v.mT, s, dtype)
    close(ember.linalg.eigvalsh(T(s, dtype), UPLO="U"), np.linalg.eigvalsh(s, UPLO="U"), dtype)


NORM_ORDS = ["fro", "nuc", math.inf, -math.inf, 1, -1, 2, -2]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("ord", NORM_ORDS)
def test_matrix_norm_matches_numpy(ord, dtype):
    a = _rng("mn", str(ord)).standard_normal((2, 3, 4)).astype(dtype)
    close(ember.linalg.matrix_norm(T(a, dtype), ord), np.linalg.norm(a, ord, axis=(-2, -1)), dtype)
    got = ember.linalg.matrix_norm(T(a, dtype), ord, dim=(2, 0), keepdim=True)
    close(got, np.linalg.norm(a, ord, axis=(2, 0), keepdims=True), dtype)
    close(ember.linalg.norm(T(a[0], dtype), ord), np.linalg.norm(a[0], ord), dtype)


@pytest.mark.parametrize("ord", [2, 1, 0, 3.5, 0.5, math.inf, -math.inf, -1])
def test_vector_norm_matches_numpy(ord):
    x = _rng("vn", ord).standard_normal((3, 4))
    close(ember.linalg.vector_norm(T(x), ord), np.linalg.norm(x.ravel(), ord))
    close(
        ember.linalg.vector_norm(T(x), ord, dim=1, keepdim=True),
        np.linalg.norm(x, ord, axis=1, keepdims=True),
    )
    close(ember.linalg.norm(T(x), ord, dim=0), np.linalg.norm(x, ord, axis=0))
    close(ember.linalg.norm(T(x[0]), ord), np.linalg.norm(x[0], ord))


def test_norm_dispatch():
    x = _rng("nd").standard_normal((2, 3, 4))
    close(ember.linalg.norm(T(x)), np.sqrt((x**2).sum()))  # ord=None, dim=None: the flattened 2-norm
    close(ember.linalg.norm(T(x), dim=(1, 2)), np.linalg.norm(x, axis=(1, 2)))
    close(ember.linalg.norm(T(x), 2, dim=(1, 2)), np.linalg.norm(x, 2, axis=(1, 2)))
    assert ember.linalg.norm(T(x)).grad_fn is None
    r = ember.linalg.vector_norm(T(x, "float32"), dtype=ember.float64)
    assert r.dtype is ember.float64


def test_products_and_views():
    rng = _rng("prod")
    a, b, c, v = (rng.standard_normal(s) for s in ((3,), (3, 4), (4, 5), (5,)))
    close(ember.linalg.multi_dot([T(a), T(b), T(c), T(v)]), np.linalg.multi_dot([a, b, c, v]))
    close(ember.linalg.multi_dot([T(b), T(c)]), b @ c)
    x, y = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    close(ember.linalg.cross(T(x), T(y)), np.cross(x, y))
    close(ember.linalg.vecdot(T(x), T(y)), (x * y).sum(-1))
    close(ember.linalg.matmul(T(b), T(c)), b @ c)
    z = rng.standard_normal((2, 3, 4))
    close(ember.linalg.diagonal(T(z), offset=1), np.diagonal(z, 1, -2, -1))


def test_namedtuple_fields():
    A = T(square((3, 3), _rng("nt")))
    r = ember.linalg.slogdet(A)
    assert type(r).__name__ == "linalg_slogdet" and r._fields == ("sign", "logabsdet")
    assert type(ember.slogdet(A)).__name__ == "slogdet"
    assert ember.linalg.qr(A)._fields == ("Q", "R")
    assert ember.linalg.svd(A)._fields == ("U", "S", "Vh")
    assert ember.linalg.eigh(A)._fields == ("eigenvalues", "eigenvectors")
    q, r = ember.linalg.qr(A)  # unpacks as a tuple
    assert q.shape == r.shape == (3, 3)
    assert ember.linalg.qr(A, mode="r").Q.shape == (0,)


def test_det_and_logdet_of_singular_and_negative():
    s = T([[1.0, 2.0], [2.0, 4.0]])
    assert float(ember.linalg.det(s)) == 0.0
    sign, logabs = ember.linalg.slogdet(s)
    assert float(sign) == 0.0 and float(logabs) == -math.inf
    assert math.isnan(float(ember.logdet(T([[1.0, 0.0], [0.0, -1.0]]))))
    assert float(ember.linalg.det(ember.zeros(0, 0, dtype=ember.float64))) == 1.0


# -- gradients --------------------------------------------------------------------------------------------
def _svd_parts(r):
    return r.U.abs(), r.S, r.Vh.abs()  # |U|, |Vh|: free of the sign gauge of each singular pair


def _I(n):
    return ember.eye(n, dtype=ember.float64)


# (name, fn, input makers); each maker takes a rng. Inputs are float64 and require grad.
GRAD_CASES = [
    ("inv", lambda A: ember.linalg.inv(A), [SQ(2, 3, 3)]),
    ("det", lambda A: ember.linalg.det(A), [SQ(2, 3, 3)]),
    ("det_singular", lambda A: ember.linalg.det(A), [lambda r: np.arange(1.0, 10.0).reshape(3, 3)]),
    ("slogdet", lambda A: ember.linalg.slogdet(A).logabsdet, [SQ(2, 3, 3)]),
    ("logdet", lambda A: ember.logdet(A), [lambda r: spd((3, 3), r)]),
    ("solve", lambda A, B: ember.linalg.solve(A, B), [SQ(2, 3, 3), N(2, 3, 2)]),
    ("solve_bcast", lambda A, B: ember.linalg.solve(A, B), [SQ(3, 3), N(2, 3, 2)]),
    ("solve_vec", lambda A, b: ember.linalg.solve(A, b), [SQ(2, 3, 3), N(3)]),
    ("solve_right", lambda A, B: ember.linalg.solve(A, B, left=False), [SQ(3, 3), N(2, 3)]),
    ("solve_triangular", lambda A, B: ember.linalg.solve_triangular(A, B, upper=False), [SQ(3, 3), N(3, 2)]),
    ("cholesky", lambda A: ember.linalg.cholesky(A @ A.mT + _I(3)), [N(2, 3, 3)]),
    ("cholesky_upper", lambda A: ember.linalg.cholesky(A @ A.mT + _I(3), upper=True), [N(3, 3)]),
    ("qr_tall", lambda A: tuple(ember.linalg.qr(A)), [N(2, 4, 3)]),
    ("qr_square", lambda A: tuple(ember.linalg.qr(A, mode="complete")), [N(3, 3)]),
    ("qr_wide", lambda A: tuple(ember.linalg.qr(A)), [N(3, 5)]),
    ("qr_R_only_grad", lambda A: ember.linalg.qr(A).R, [N(4, 3)]),
    ("svd_tall", lambda A: _svd_parts(ember.linalg.svd(A, full_matrices=False)), [N(2, 4, 3)]),
    ("svd_wide", lambda A: _svd_parts(ember.linalg.svd(A, full_matrices=False)), [N(3, 4)]),
    ("svd_full", lambda A: _svd_parts(ember.linalg.svd(A))[1:], [N(4, 3)]),
    ("svd_square", lambda A: _svd_parts(ember.linalg.svd(A)), [N(3, 3)]),
    ("svdvals", lambda A: ember.linalg.svdvals(A), [N(2, 3, 4)]),
    ("eigh", lambda A: _eigh_parts(ember.linalg.eigh(A + A.mT)), [N(2, 3, 3)]),
    ("eigh_upper", lambda A: ember.linalg.eigh(A + A.mT, UPLO="U").eigenvectors.abs(), [N(3, 3)]),
    ("eigvalsh", lambda A: ember.linalg.eigvalsh(A + A.mT), [N(2, 3, 3)]),
    ("vector_norm", lambda x: ember.linalg.vector_norm(x, 3, dim=1), [N(3, 4)]),
    ("norm", lambda x: ember.linalg.norm(x), [N(3, 4)]),
    ("multi_dot", lambda a, b, c: ember.linalg.multi_dot([a, b, c]), [N(3), N(3, 4), N(4, 2)]),
]
GRAD_CASES += [
    (
        f"matrix_norm_{o}",
        lambda A, o=o: ember.linalg.matrix_norm(A, o),
        [N(2, 3, 4)],
    )
    for o in NORM_ORDS
]


@pytest.mark.parametrize("case", GRAD_CASES, ids=[c[0] for c in GRAD_CASES])
def test_gradcheck(case):
    name, fn, makers = case
    rng = _rng("grad", name)
    inputs = [T(m(rng), rg=True) for m in makers]
    assert gradcheck(fn, inputs)
    if name != "det_singular":  # NOTE [ det of a singular matrix ]: its cofactor is a constant
        assert gradgradcheck(fn, inputs)


def test_backward_errors():
    A = T(_rng("qrerr").standard_normal((4, 3)), rg=True)
    with pytest.raises(RuntimeError, match="not differentiable when mode='complete' and nrows > ncols"):
        ember.linalg.qr(A, mode="complete").Q.sum().backward()
    with pytest.raises(RuntimeError, match="which is not computed when mode='r'"):
        ember.linalg.qr(A, mode="r").R.sum().backward()


# -- errors ------------------------------------------------------------------------------------------------
ERRORS = [
    (lambda: ember.linalg.inv(T([[1.0, 2, 3], [2, 4, 6], [1, 0, 1]])), ember.linalg.LinAlgError,
     "linalg.inv: The diagonal element 3 is zero, the inversion could not be completed because the input "
     "matrix is singular."),
    (lambda: ember.linalg.inv(T([[1.0, 1.0], [1.0, 1.0]])), ember.linalg.LinAlgError,
     "linalg.inv: The diagonal element 2 is zero, the inversion could not be completed because the input "
     "matrix is singular."),
    (lambda: ember.inverse(ember.stack([ember.eye(2), ember.zeros(2, 2)])), RuntimeError,
     "linalg.inv: (Batch element 1): The diagonal element 1 is zero, the inversion could not be completed "
     "because the input matrix is singular."),
    (lambda: ember.linalg.inv(ember.ones(2, 3)), RuntimeError,
     "linalg.inv: A must be batches of square matrices, but they are 2 by 3 matrices"),
    (lambda: ember.linalg.inv(ember.ones(3)), RuntimeError,
     "linalg.inv: The input tensor A must have at least 2 dimensions."),
    (lambda: ember.linalg.inv(ember.ones(3, 3, dtype=ember.long)), RuntimeError,
     "linalg.inv: Expected a floating point or complex tensor as input. Got Long"),
    (lambda: ember.linalg.inv(ember.ones(3, 3, dtype=ember.half)), RuntimeError,
     "linalg.inv: Low precision dtypes not supported. Got Half"),
    (lambda: ember.det(ember.ones(2, 3)), RuntimeError,
     "linalg.det: A must be batches of square matrices, but they are 2 by 3 matrices"),
    (lambda: ember.logdet(ember.ones(2, 2, dtype=ember.long)), RuntimeError,
     "logdet: Expected a floating point or complex tensor as input. Got Long"),
    (lambda: ember.linalg.slogdet(ember.ones(2, 2, dtype=ember.int32)), RuntimeError,
     "linalg.slogdet: Expected a floating point or complex tensor as input. Got Int"),
    (lambda: ember.linalg.solve(ember.zeros(3, 3), ember.ones(3)), ember.linalg.LinAlgError,
     "torch.linalg.solve: The solver failed because the input matrix is singular."),
    (lambda: ember.linalg.solve(ember.eye(3), ember.ones(4, 2)), RuntimeError,
     "linalg.solve: Incompatible shapes of A and B for the equation AX = B (3x3 and 4x2)"),
    (lambda: ember.linalg.solve(ember.eye(3), ember.ones(3), left=False), RuntimeError,
     "linalg.solve: Incompatible shapes of A and B for the equation XA = B (3x3 and 3x1)"),
    (lambda: ember.linalg.solve(ember.eye(3), ember.ones(3, dtype=ember.float64)), RuntimeError,
     "linalg.solve: Expected A and B to have the same dtype, but found A of type Float and B of type Double "
     "instead"),
    (lambda: ember.linalg.cholesky(-ember.eye(3)), ember.linalg.LinAlgError,
     "linalg.cholesky: The factorization could not be completed because the input is not positive-definite "
     "(the leading minor of order 1 is not positive-definite)."),
    (lambda: ember.linalg.cholesky(ember.stack([ember.eye(2), T([[1.0, 2.0], [2.0, 1.0]], "float32")])),
     ember.linalg.LinAlgError,
     "linalg.cholesky: (Batch element 1): The factorization could not be completed because the input is not "
     "positive-definite (the leading minor of order 2 is not positive-definite)."),
    (lambda: ember.linalg.cholesky(ember.ones(3, 3, dtype=ember.long)), RuntimeError,
     "linalg.cholesky: Expected a floating point or complex tensor as input. Got Long"),
    (lambda: ember.linalg.qr(ember.ones(3)), RuntimeError,
     "linalg.qr: The input tensor A must have at least 2 dimensions."),
    (lambda: ember.linalg.qr(ember.ones(3, 3), mode="foo"), RuntimeError,
     "qr received unrecognized mode 'foo' but expected one of 'reduced' (default), 'r', or 'complete'"),
    (lambda: ember.linalg.svdvals(ember.ones(3, 3, dtype=ember.long)), RuntimeError,
     "linalg.svd: Expected a floating point or complex tensor as input. Got Long"),
    (lambda: ember.linalg.eigh(ember.ones(3, 3, dtype=ember.long)), NotImplementedError,
     "\"linalg_eigh_cpu\" not implemented for 'Long'"),
    (lambda: ember.linalg.eigvalsh(ember.ones(2, 3)), RuntimeError,
     "linalg.eigh: A must be batches of square matrices, but they are 2 by 3 matrices"),
    (lambda: ember.linalg.eigh(ember.ones(3, 3), UPLO="X"), RuntimeError,
     "Expected UPLO argument to be 'L' or 'U', but got X"),
    (lambda: ember.linalg.matrix_norm(ember.ones(3, 3), ord=3), RuntimeError,
     "linalg.matrix_norm: Order 3 not supported."),
    (lambda: ember.linalg.matrix_norm(ember.ones(2, 3, 4), dim=(1, 1)), RuntimeError,
     "linalg.matrix_norm: dims must be different. Got (1, 1)"),
    (lambda: ember.linalg.matrix_norm(ember.ones(3)), RuntimeError,
     "linalg.matrix_norm: The input tensor A must have at least 2 dimensions."),
    (lambda: ember.linalg.vector_norm(ember.ones(3, dtype=ember.long)), RuntimeError,
     "linalg.vector_norm: Expected a floating point or complex tensor as input. Got Long"),
    (lambda: ember.linalg.vector_norm(ember.ones(3, dtype=ember.float64), dtype=ember.float32), RuntimeError,
     "linalg.vector_norm: the dtype of the input (Double) should be convertible without narrowing to the "
     "specified dtype (Float)"),
    (lambda: ember.linalg.norm(ember.ones(3, 3, 3), ord=2), RuntimeError,
     "linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got 3D."),
    (lambda: ember.linalg.norm(ember.ones(3, 3, 3), dim=(1, 2, 0)), RuntimeError,
     "linalg.norm: If dim is specified, it must be of length 1 or 2. Got [1, 2, 0]"),
    (lambda: ember.linalg.norm(ember.ones(3, 3), "fro", dim=0), RuntimeError,
     "linalg.matrix_norm: dim must be a 2-tuple. Got 0"),
    (lambda: ember.linalg.multi_dot([ember.ones(3)]), RuntimeError,
     "multi_dot(): expected at least 2 tensors but got 1"),
    (lambda: ember.linalg.multi_dot([ember.ones(3, 3), ember.ones(4, 4)]), RuntimeError,
     "multi_dot(): tensors 0 and 1 with shapes [3, 3] and [4, 4] cannot be multiplied"),
]  # fmt: skip


@pytest.mark.parametrize("i", range(len(ERRORS)))
def test_error_messages(i):
    fn, exc, msg = ERRORS[i]
    with pytest.raises(exc) as info:
        fn()
    assert str(info.value) == msg
    if exc is ember.linalg.LinAlgError:
        assert isinstance(info.value, RuntimeError)


# -- parity with torch ----------------------------------------------------------------------------------
@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _to_torch(torch, a, dtype, rg=False):
    return torch.tensor(np.asarray(a), dtype=getattr(torch, dtype), requires_grad=rg)


def _outs(o):
    return list(o) if isinstance(o, tuple) else [o]


# (name, fn(M, *inputs) for M = ember or torch, input makers, expected grad_fn name of the first output)
PARITY = [
    ("inv", lambda M, A: M.linalg.inv(A), [SQ(2, 3, 3)], "LinalgInvExBackward0"),
    ("inverse", lambda M, A: M.inverse(A), [SQ(3, 3)], "LinalgInvExBackward0"),
    ("det", lambda M, A: M.linalg.det(A), [SQ(2, 3, 3)], "LinalgDetBackward0"),
    ("det_method", lambda M, A: A.det(), [SQ(3, 3)], "LinalgDetBackward0"),
    ("slogdet", lambda M, A: tuple(M.linalg.slogdet(A)), [SQ(2, 3, 3)], "LinalgSlogdetBackward0"),
    ("logdet", lambda M, A: M.logdet(A), [SQ(2, 3, 3)], "WhereBackward0"),
    ("solve", lambda M, A, B: M.linalg.solve(A, B), [SQ(2, 3, 3), N(2, 3, 2)], "LinalgSolveExBackward0"),
    ("solve_vec", lambda M, A, B: M.linalg.solve(A, B), [SQ(2, 3, 3), N(2, 3)], None),
    ("solve_right", lambda M, A, B: M.linalg.solve(A, B, left=False), [SQ(3, 3), N(4, 3)], None),
    (
        "solve_triangular",
        lambda M, A, B: M.linalg.solve_triangular(A, B, upper=True),
        [SQ(3, 3), N(3, 2)],
        None,
    ),
    (
        "cholesky",
        lambda M, A: M.linalg.cholesky(A @ A.mT + 3 * M.eye(3, dtype=A.dtype)),
        [N(2, 3, 3)],
        "LinalgCholeskyExBackward0",
    ),
    (
        "cholesky_upper",
        lambda M, A: M.linalg.cholesky(A @ A.mT + 3 * M.eye(3, dtype=A.dtype), upper=True),
        [N(3, 3)],
        None,
    ),
    ("qr", lambda M, A: tuple(M.linalg.qr(A)), [N(2, 4, 3)], "LinalgQrBackward0"),
    ("qr_wide", lambda M, A: tuple(M.linalg.qr(A)), [N(3, 5)], None),
    ("svd", lambda M, A: _svd_parts(M.linalg.svd(A, full_matrices=False)), [N(2, 4, 3)], None),
    ("svd_wide", lambda M, A: _svd_parts(M.linalg.svd(A)), [N(3, 4)], None),
    ("svdvals", lambda M, A: M.linalg.svdvals(A), [N(2, 3, 4)], "LinalgSvdBackward0"),
    ("eigh", lambda M, A: _eigh_parts(M.linalg.eigh(A)), [SYM(2, 3, 3)], "LinalgEighBackward0"),
    ("eigvalsh", lambda M, A: M.linalg.eigvalsh(A, UPLO="U"), [N(3, 3)], "LinalgEighBackward0"),
    ("multi_dot", lambda M, a, b: M.linalg.multi_dot([a, b, a]), [N(3, 3), N(3, 3)], None),
]
PARITY += [
    (
        f"matrix_norm_{o}_{k}",
        lambda M, A, o=o, k=k: M.linalg.matrix_norm(A, o, dim=(0, 2), keepdim=k),
        [N(3, 2, 4)],
        None,
    )
    for o in NORM_ORDS
    for k in (False,)
]
PARITY += [
    (f"norm_{o}_{d}_{k}", lambda M, A, o=o, d=d, k=k: M.linalg.norm(A, o, d, k), [N(3, 4)], None)
    for o in (None, 2, 1, math.inf, -1, "fro", "nuc", 0.5)
    for d in (None, 0, (0, 1), (1, 0))
    for k in (False, True)
    if not (isinstance(o, str) and isinstance(d, int)) and not (o == 0.5 and d in (None, (0, 1), (1, 0)))
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", PARITY, ids=[c[0] for c in PARITY])
def test_parity_with_torch(torch, case, dtype):
    name, fn, makers, node = case
    rng = _rng("parity", name)
    arrays = [m(rng) for m in makers]
    ours_in = [T(a, dtype, rg=True) for a in arrays]
    theirs_in = [_to_torch(torch, a, dtype, rg=True) for a in arrays]
    ours, theirs = _outs(fn(ember, *ours_in)), _outs(fn(torch, *theirs_in))
    assert len(ours) == len(theirs)
    for o, t in zip(ours, theirs, strict=True):
        assert tuple(o.shape) == tuple(t.shape) and o.dtype.name == str(t.dtype).split(".")[-1]
        close(o, t.detach().numpy(), dtype, rtol=1e-8 if dtype == "float64" else 1e-4)
    if node is not None:
        assert type(ours[0].grad_fn).__name__ == node == type(theirs[0].grad_fn).__name__
    weights = [rng.standard_normal(tuple(o.shape)) for o in ours]
    loss_o = sum((o * T(w, dtype)).sum() for o, w in zip(ours, weights, strict=True) if o.requires_grad)
    loss_t = sum(
        (t * _to_torch(torch, w, dtype)).sum()
        for t, w in zip(theirs, weights, strict=True)
        if t.requires_grad
    )
    loss_o.backward()
    loss_t.backward()
    for a, b in zip(ours_in, theirs_in, strict=True):
        close(
            a.grad,
            b.grad.numpy(),
            dtype,
            rtol=1e-7 if dtype == "float64" else 2e-3,
            atol=1e-9 if dtype == "float64" else 2e-3,
        )


@pytest.mark.parametrize("i", range(len(ERRORS)))
def test_error_messages_match_torch(torch, i):
    """Each message in ERRORS is the one torch 2.13 raises for the same call."""
    fn, exc, msg = ERRORS[i]
    with pytest.raises(exc if exc is not ember.linalg.LinAlgError else torch.linalg.LinAlgError) as info:
        _retarget(fn, torch)()
    assert str(info.value) == msg


def _retarget(fn, torch):
    """The same lambda with ``ember`` resolved to ``torch`` (and T building torch tensors)."""

    def t_(a, dtype="float64", rg=False):
        return _to_torch(torch, a, dtype, rg)

    g = dict(fn.__globals__, ember=torch, T=t_)
    return types.FunctionType(fn.__code__, g, fn.__name__, fn.__defaults__, fn.__closure__)
