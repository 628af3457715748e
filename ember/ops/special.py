"""Lerp, two-input math (atan2, hypot, xlogy, logaddexp, copysign) and special functions
(nan_to_num, erfc, erfinv, lgamma, digamma, polygamma). Each primitive: forward + backward side by side."""

from __future__ import annotations

import math

from ._base import Op, Tensor, _wrap, arr, fdata, np, operands, opmath
from .elementwise import _unary, where


class Lerp(Op):
    """z = x + w*(y - x), w a number;  dz/dx = 1 - w,  dz/dy = w"""

    @staticmethod
    @opmath
    def forward(ctx, x, y, w):
        ctx.w = w
        return x._data + w * (y._data - x._data)

    @staticmethod
    def backward(ctx, g):
        return g * (1 - ctx.w), g * ctx.w, None


class LerpTensor(Op):
    """z = x + w*(y - x);  dz/dx = 1 - w,  dz/dy = w,  dz/dw = y - x"""

    _node_name = "LerpBackward1"

    @staticmethod
    @opmath
    def forward(ctx, x, y, w):
        ctx.save_for_backward(x, y, w)
        return x._data + w._data * (y._data - x._data)

    @staticmethod
    def backward(ctx, g):
        x, y, w = ctx.saved_tensors
        nig = ctx.needs_input_grad
        gx = g * (1 - w) if nig[0] else None
        gy = g * w if nig[1] else None
        gw = g * (y - x) if nig[2] else None
        return gx, gy, gw


def lerp(input, end, weight):
    if input.dtype is not end.dtype:
        raise RuntimeError(f"expected dtype {input.dtype} for `end` but got dtype {end.dtype}")
    if isinstance(weight, Tensor):
        if weight.dtype is not input.dtype:
            raise RuntimeError(f"expected dtype {input.dtype} for `weight` but got dtype {weight.dtype}")
        return LerpTensor.apply(input, end, weight)
    return Lerp.apply(input, end, weight)


# -- binary math: atan2, hypot, xlogy, logaddexp, copysign ----------------------------------------------
class Atan2(Op):
    """z = atan2(y, x);  dz/dy = x/(x^2+y^2),  dz/dx = -y/(x^2+y^2)"""

    @staticmethod
    @opmath
    def forward(ctx, y, x):
        ctx.save_for_backward(y, x)
        return np.arctan2(y._data, x._data)

    @staticmethod
    def backward(ctx, g):
        y, x = ctx.saved_tensors
        r = g / (x * x + y * y)
        nig = ctx.needs_input_grad
        return (r * x if nig[0] else None), (r * -y if nig[1] else None)


class Hypot(Op):
    """z = sqrt(x^2 + y^2);  dz/dx = x/z,  dz/dy = y/z"""

    _saves_output = True

    @staticmethod
    @opmath
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return np.hypot(x._data, y._data)

    @staticmethod
    def backward(ctx, g):
        x, y, z = ctx.saved_tensors
        nig = ctx.needs_input_grad
        return (g * x / z if nig[0] else None), (g * y / z if nig[1] else None)


def _xlogy_data(x, y):
    with np.errstate(all="ignore"):
        r = np.multiply(x, np.log(y))
    return np.where((np.asarray(x) == 0) & ~np.isnan(y), np.zeros((), r.dtype), r)


class Xlogy(Op):
    """z = x*log(y) (0 where x == 0 and y is not nan);  dz/dx = log(y) (0 where x == 0),  dz/dy = x/y"""

    @staticmethod
    @opmath
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return np.asarray(_xlogy_data(arr(x), arr(y)))

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        nig = ctx.needs_input_grad
        gx = gy = None
        if nig[0]:
            gx = g * xlogy((x != 0).to(y.dtype), y)
        if nig[1]:
            gy = g * x / y
        return gx, gy


class XlogyScalarSelf(Op):
    """z = a*log(y), a a number;  dz/dy = a/y"""

    _node_name = "XlogyBackward1"

    @staticmethod
    def forward(ctx, a, y):
        ctx.a = a
        ctx.save_for_backward(y)
        return np.asarray(_xlogy_data(a, y._data)).astype(y._data.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return None, g * ctx.a / y


class XlogyScalarOther(Op):
    """z = x*log(b), b a number;  dz/dx = log(b) (0 where x == 0)"""

    _node_name = "XlogyBackward2"

    @staticmethod
    def forward(ctx, x, b):
        ctx.b = b
        ctx.save_for_backward(x)
        return np.asarray(_xlogy_data(x._data, b)).astype(x._data.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * xlogy((x != 0).to(g.dtype), ctx.b), None


def xlogy(input, other):
    if not isinstance(input, Tensor):
        a, y, dt = operands(input, other, float_only=True)
        return XlogyScalarSelf.apply(float(a), y)
    if not isinstance(other, Tensor):
        x, b, dt = operands(input, other, float_only=True)
        return XlogyScalarOther.apply(x, float(b))
    x, y, _ = operands(input, other, float_only=True)
    return Xlogy.apply(x, y)


class Logaddexp(Op):
    """z = log(exp(x) + exp(y));  dz/dx = sigmoid(x - y),  dz/dy = sigmoid(y - x)"""

    @staticmethod
    @opmath
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return np.logaddexp(x._data, y._data)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        nig = ctx.needs_input_grad
        return (g * (x - y).sigmoid() if nig[0] else None), (g * (y - x).sigmoid() if nig[1] else None)


class Copysign(Op):
    """z = |x| with the sign of y;  dz/dx = z/x (0 where x == 0),  dz/dy = 0"""

    _saves_output = True

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x)
        return np.asarray(np.copysign(x._data, arr(y)))

    @staticmethod
    def backward(ctx, g):
        x, z = ctx.saved_tensors
        gx = g * where(x == 0, zeros_like_(x), z / x) if ctx.needs_input_grad[0] else None
        gy = g * 0.0 if len(ctx.needs_input_grad) > 1 and ctx.needs_input_grad[1] else None  # torch: zeros
        return gx, gy


class CopysignScalar(Copysign):
    _node_name = "CopysignBackward1"


def zeros_like_(t):
    return _wrap(np.zeros(t._data.shape, t._data.dtype), t.dtype, t.device)


def _tensors_only(name, *xs):
    for v in xs:
        if not isinstance(v, Tensor):
            raise TypeError(f"{name}(): argument 'other' (position 2) must be Tensor, not {type(v).__name__}")


def atan2(input, other):
    _tensors_only("atan2", other)
    y, x, _ = operands(input, other, float_only=True)
    return Atan2.apply(y, x)


def hypot(input, other):
    _tensors_only("hypot", other)
    x, y, _ = operands(input, other, float_only=True)
    return Hypot.apply(x, y)


def logaddexp(input, other):
    _tensors_only("logaddexp", other)
    x, y, _ = operands(input, other, float_only=True)
    return Logaddexp.apply(x, y)


def copysign(input, other):
    x, y, _ = operands(input, other, float_only=True)
    return (Copysign if isinstance(y, Tensor) else CopysignScalar).apply(x, y)


# -- special functions: nan_to_num, erfc, erfinv, lgamma, digamma, polygamma ------------------------------
class NanToNum(Op):
    """y = x with nan, +inf, -inf replaced;  dy/dx = 1 where x is finite, else 0"""

    @staticmethod
    def forward(ctx, x, nan, posinf, neginf):
        ctx.save_for_backward(x)
        d = x._data
        if d.dtype.kind not in "fc":
            return d.copy()
        fi = np.finfo(d.dtype)
        return np.nan_to_num(
            d,
            nan=nan,
            posinf=fi.max if posinf is None else posinf,
            neginf=fi.min if neginf is None else neginf,
        )

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * x.isfinite().to(g.dtype), None, None, None


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    return NanToNum.apply(input, nan, posinf, neginf)


def _math_map(fn, bad=float("nan")):
    def safe(v):
        try:
            return fn(v)
        except (ValueError, OverflowError):
            return bad

    u = np.frompyfunc(safe, 1, 1)

    def run(a):
        return np.asarray(u(a), dtype=np.float64).astype(a.dtype, copy=False)

    return run


_erfc_array = _math_map(math.erfc)
_lgamma_array = _math_map(math.lgamma, float("inf"))
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _erfinv_array(y):
    """erfinv: Giles' single-precision approximation, refined by two Newton steps on erf."""
    from .nn_ops import erf_array  # noqa: PLC0415

    a = np.asarray(y, dtype=np.float64)
    with np.errstate(all="ignore"):
        w = -np.log((1.0 - a) * (1.0 + a))
        lo = w - 2.5
        p1 = 2.81022636e-08
        for c in (3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503,
                  -0.00417768164, 0.246640727, 1.50140941):  # fmt: skip
            p1 = c + p1 * lo
        hi = np.sqrt(w) - 3.0
        p2 = -0.000200214257
        for c in (0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613,
                  0.00943887047, 1.00167406, 2.83297682):  # fmt: skip
            p2 = c + p2 * hi
        x = np.where(w < 5.0, p1, p2) * a
        for _ in range(2):
            x = x - (erf_array(x) - a) / (_TWO_OVER_SQRT_PI * np.exp(-x * x))
        x = np.where(np.abs(a) == 1, np.copysign(np.inf, a), x)
        x = np.where(np.abs(a) > 1, np.nan, x)
    return x.astype(np.asarray(y).dtype, copy=False)


# Bernoulli numbers B_2, B_4, ... for the asymptotic series of digamma and polygamma
_B2K = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510)


def _trigamma_array(a):
    """psi^(1)(x) by PyTorch's own recipe (reflection, six recurrence steps, a short series): its values."""
    x = np.array(a, dtype=np.float64, copy=True)
    with np.errstate(all="ignore"):
        neg = x < 0.5
        res = np.where(neg, -((np.pi / np.sin(np.pi * x)) ** 2), 0.0)
        x = np.where(neg, 1.0 - x, x)
        for _ in range(6):
            res = res + 1.0 / (x * x)
            x = x + 1.0
        ixx = 1.0 / (x * x)
        res = res + (1.0 + 1.0 / (2.0 * x) + ixx * (1.0 / 6 - ixx * (1.0 / 30 - ixx * (1.0 / 42)))) / x
        res = np.where(neg, -res, res)
    return res.astype(np.asarray(a).dtype, copy=False)


def _polygamma_array(n: int, a):
    """psi^(n)(x) for float arrays: the recurrence up to x >= 15 + n, then the asymptotic series."""
    x = np.array(a, dtype=np.float64, copy=True)
    out_dtype = np.asarray(a).dtype
    with np.errstate(all="ignore"):
        bad = np.isnan(x)
        pole = (x <= 0) & (x == np.floor(x))
        res = np.zeros_like(x)
        refl = (x < 0) & ~pole & (n == 0)
        if n == 0 and refl.any():  # digamma's reflection: psi(x) = psi(1 - x) - pi / tan(pi x)
            xr = x[refl]
            res[refl] = -np.pi / np.tan(np.pi * xr)
            x[refl] = 1.0 - xr
        fin = np.isfinite(x) & ~pole
        xx = np.where(fin, x, 20.0 + n)
        lim = 15.0 + n
        fact = math.factorial(n)
        sgn = -1.0 if n % 2 == 0 else 1.0  # (-1)^(n+1)
        while True:
            small = xx < lim
            if not small.any():
                break
            if n == 0:
                res = res - np.where(small, 1.0 / xx, 0.0)
            else:
                res = res + np.where(small, sgn * fact / xx ** (n + 1), 0.0)
            xx = np.where(small, xx + 1.0, xx)
        if n == 0:
            s = np.log(xx) - 0.5 / xx
            x2 = xx * xx
            pw = x2
            for k, b in enumerate(_B2K, start=1):
                s = s - b / (2 * k) / pw
                pw = pw * x2
        else:
            s = math.factorial(n - 1) / xx**n + fact / (2.0 * xx ** (n + 1))
            for k, b in enumerate(_B2K, start=1):
                s = s + b * math.factorial(2 * k + n - 1) / math.factorial(2 * k) / xx ** (2 * k + n)
            s = sgn * s
        res = res + s
        if n == 0:
            res = np.where(np.isposinf(x), np.inf, res)
            res = np.where(np.isneginf(x), np.nan, res)
            res = np.where(pole, np.where(x == 0, -np.inf, np.nan), res)
        else:
            res = np.where(np.isposinf(x), 0.0, res)
            res = np.where(pole, np.inf if n % 2 == 1 else -np.inf, res)
        res = np.where(bad, np.nan, res)
    return res.astype(out_dtype, copy=False)


class Erfc(Op):
    """y = erfc(x);  dy/dx = -2/sqrt(pi) exp(-x^2)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _erfc_array(fdata(x))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * ((x * x).neg().exp() * -_TWO_OVER_SQRT_PI)


class Erfinv(Op):
    """y = erfinv(x);  dy/dx = sqrt(pi)/2 exp(y^2)"""

    _saves_output = True

    @staticmethod
    def forward(ctx, x):
        return _erfinv_array(fdata(x))

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * ((y * y).exp() * (math.sqrt(math.pi) / 2))


class Lgamma(Op):
    """y = log|gamma(x)|;  dy/dx = digamma(x)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _lgamma_array(fdata(x))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * digamma(x)


class Digamma(Op):
    """y = psi(x) = d/dx log gamma(x);  dy/dx = polygamma(1, x)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _polygamma_array(0, fdata(x))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * polygamma(1, x)


class Polygamma(Op):
    """y = psi^(n)(x);  dy/dx = psi^(n+1)(x)"""

    @staticmethod
    def forward(ctx, x, n):
        ctx.save_for_backward(x)
        ctx.n = n
        return _trigamma_array(fdata(x)) if n == 1 else _polygamma_array(n, fdata(x))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * polygamma(ctx.n + 1, x), None


erfc, erfinv, lgamma, digamma = map(_unary, (Erfc, Erfinv, Lgamma, Digamma))


def polygamma(n, input):
    if int(n) != n or n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    return Polygamma.apply(input, int(n))
