"""Elementwise ops: arithmetic, comparison and math. Each primitive: forward + backward side by side."""

from __future__ import annotations

from ._base import D, Op, Tensor, _scalar, _wrap, arr, fdata, np, operands, opmath
from .inplace import type_name, write_out


# -- arithmetic ------------------------------------------------------------------------------------
def _axpy(a, b, alpha):
    """a + alpha*b on arrays or numbers. bfloat16 as torch computes it: alpha rounded to bfloat16, one
    float32 FMA, rounded once (ml_dtypes would round alpha*b to bfloat16 first)."""
    if "bfloat16" not in (
        getattr(getattr(a, "dtype", None), "name", ""),
        getattr(getattr(b, "dtype", None), "name", ""),
    ):
        return np.add(a, np.multiply(b, alpha))
    bf = D.bfloat16.np
    a64, b64, w = (np.asarray(v).astype(bf).astype(np.float64) for v in (a, b, alpha))
    return (a64 + w * b64).astype(np.float32).astype(bf)  # float64 holds the FMA's exact value


class Add(Op):
    """z = x + alpha*y;  dz/dx = 1,  dz/dy = alpha"""

    _scalar_operands = True

    @staticmethod
    def forward(ctx, x, y, alpha=1):
        ctx.alpha = alpha
        if alpha != 1:
            return _axpy(arr(x), arr(y), alpha)
        return np.add(arr(x), arr(y))

    @staticmethod
    def backward(ctx, g):
        return g, (g if ctx.alpha == 1 else g * ctx.alpha), None


class Sub(Op):
    """z = x - alpha*y;  dz/dx = 1,  dz/dy = -alpha"""

    _scalar_operands = True

    @staticmethod
    def forward(ctx, x, y, alpha=1):
        ctx.alpha = alpha
        if alpha != 1:
            return _axpy(arr(x), arr(y), -alpha)
        return np.subtract(arr(x), arr(y))

    @staticmethod
    def backward(ctx, g):
        if not ctx.needs_input_grad[1]:
            return g, None, None
        return g, (-g if ctx.alpha == 1 else g * -ctx.alpha), None


class RSub(Op):
    """z = y - alpha*x (``2 - t``);  dz/dx = -alpha,  dz/dy = 1"""

    _node_name = "RsubBackward0"

    @staticmethod
    def forward(ctx, x, y, alpha=1):
        ctx.alpha = alpha
        return _axpy(arr(y), arr(x), -alpha) if alpha != 1 else np.subtract(arr(y), arr(x))

    @staticmethod
    def backward(ctx, g):
        return (-g if ctx.alpha == 1 else g * -ctx.alpha), g, None


class RSubScalar(RSub):
    _node_name = "RsubBackward1"  # a Python number on the left: ``2 - t``


def _by_scalar(ufunc, x, s):
    """``ufunc(x, s)``, a tensor and a number. torch's mul and div take a bfloat16 tensor's number in
    float32, unrounded, and round the product once (NOTE [ bfloat16 op math ] in _base.py)."""
    if x.dtype is D.bfloat16:
        return ufunc(x._data.astype(np.float32), s).astype(x._data.dtype)
    return ufunc(x._data, s)


class Mul(Op):
    """z = x * y;  dz/dx = y,  dz/dy = x"""

    _scalar_operands = True

    @staticmethod
    def forward(ctx, x, y):
        ctx._to_save = (x, y)
        if isinstance(y, Tensor):
            return np.multiply(x._data, y._data)
        return _by_scalar(np.multiply, x, y)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        e = ctx._edges
        return (g * y if e[0] is not None else None), (g * x if e[1] is not None else None)


class Div(Op):
    """z = x / y;  dz/dx = 1/y,  dz/dy = -x/y^2"""

    _scalar_operands = True

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        if isinstance(y, Tensor) or not isinstance(x, Tensor):
            return np.true_divide(arr(x), arr(y))
        return _by_scalar(np.true_divide, x, y)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        nig = ctx.needs_input_grad
        return (g / y if nig[0] else None), (-g * x / (y * y) if nig[1] else None)


class Neg(Op):
    """y = -x;  dy/dx = -1"""

    @staticmethod
    def forward(ctx, x):
        return np.negative(x._data)

    @staticmethod
    def backward(ctx, g):
        return -g


class Pow(Op):
    """y = x ** e (e a number);  dy/dx = e * x^(e-1)"""

    @staticmethod
    def forward(ctx, x, e):
        ctx.save_for_backward(x)
        ctx.e = e
        d = x._data
        # PyTorch's special cases, for its exact bits (and far faster than np.power)
        if e == 2:
            return np.multiply(d, d)
        if e == 3:
            return np.multiply(np.multiply(d, d), d)
        if e == 0.5 and x.dtype.is_floating_point:
            return np.sqrt(d)
        if e == -1 and x.dtype.is_floating_point:
            return np.reciprocal(d)
        if e == 1:
            return d.copy()
        if e in (4, 5) and x.dtype.is_floating_point:
            # squaring in float64, rounded once: ~10x faster than np.power on float32, and closer to
            # PyTorch's pow (98% of float32 results bit-identical, vs 88% for np.power)
            w = d.astype(np.float64)
            sq = np.multiply(w, w)
            if type(sq) is not np.ndarray:  # a 0-d input: NumPy gives a scalar, which takes no out=
                sq = np.asarray(sq)
            out = np.multiply(sq, sq, out=sq)
            if e == 5:
                np.multiply(out, w, out=out)
            return out.astype(d.dtype, copy=False)
        return np.power(d, e)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        e = ctx.e
        if e == 0:
            return g * 0, None
        if e == 2:
            return g * (2.0 * x), None
        return g * (e * x ** (e - 1)), None


class PowTensor(Op):
    """z = x ** y;  dz/dx = y * x^(y-1),  dz/dy = z * log(x) (0 where x == 0 and y >= 0)"""

    _node_name = "PowBackward1"
    _saves_output = True

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return np.power(arr(x), arr(y))

    @staticmethod
    def backward(ctx, g):
        x, y, z = ctx.saved_tensors
        nig = ctx.needs_input_grad
        gx = gy = None
        if nig[0]:
            gx = g * (y * x ** (y - 1)).masked_fill((y == 0), 0.0)
        if nig[1]:
            gy = (g * z * x.log()).masked_fill((x == 0) & (y >= 0), 0.0)
        return gx, gy


class RPow(Op):
    """z = base ** y (base a number);  dz/dy = z * log(base) (0 where base == 0 and y >= 0)"""

    _node_name = "PowBackward2"
    _saves_output = True

    @staticmethod
    def forward(ctx, base, y):
        ctx.base = base
        ctx.save_for_backward(y)
        return np.power(base, y._data)

    @staticmethod
    def backward(ctx, g):
        y, z = ctx.saved_tensors
        if ctx.base == 0:
            return None, (g * z * float("-inf")).masked_fill(y >= 0, 0.0)
        return None, g * z * float(np.log(ctx.base))


# -- unary math ------------------------------------------------------------------------------------
class Exp(Op):
    """y = exp(x);  dy/dx = y"""

    _saves_output = True

    @staticmethod
    def forward(ctx, x):
        return np.exp(fdata(x))

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * y


class Log(Op):
    """y = log(x);  dy/dx = 1/x"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log(fdata(x))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g / x


class Sin(Op):
    """y = sin(x);  dy/dx = cos(x)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sin(fdata(x))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * x.cos()


class Cos(Op):
    """y = cos(x);  dy/dx = -sin(x)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.cos(fdata(x))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * -x.sin()


class Tan(Op):
    """y = tan(x);  dy/dx = 1 + y^2"""

    _saves_output = True

    @staticmethod
    def forward(ctx, x):
        return np.tan(fdata(x))

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * (1 + y * y)


class Tanh(Op):
    """y = tanh(x);  dy/dx = 1 - y^2"""

    _saves_output = True

    @staticmethod
    def forward(ctx, x):
        return np.tanh(fdata(x))

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * (1 - y * y)


class Sigmoid(Op):
    """y = 1 / (1 + exp(-x));  dy/dx = y (1 - y)"""

    _saves_output = True

    @staticmethod
    @opmath
    def forward(ctx, x):
        d = fdata(x)
        # exp of a non-positive number only: no overflow warning for large |x|
        e = np.exp(-np.abs(d))
        return np.where(d >= 0, 1 / (1 + e), e / (1 + e)).astype(d.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * (y * (1 - y))


class Sqrt(Op):
    """y = sqrt(x);  dy/dx = 1 / (2y)"""

    _saves_output = True

    @staticmethod
    def forward(ctx, x):
        return np.sqrt(fdata(x))

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g / (2 * y)


class Rsqrt(Op):
    """y = x^(-1/2);  dy/dx = -y^3 / 2"""

    _saves_output = True

    @staticmethod
    @opmath
    def forward(ctx, x):
        return 1 / np.sqrt(fdata(x))

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * (-0.5 * y * y * y)


class Reciprocal(Op):
    """y = 1/x;  dy/dx = -y^2"""

    _saves_output = True

    @staticmethod
    def forward(ctx, x):
        return np.reciprocal(fdata(x))

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * -(y * y)


class Abs(Op):
    """y = |x|;  dy/dx = sign(x)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.abs(x._data)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * x.sign()


class Log1p(Op):
    """y = log(1 + x);  dy/dx = 1 / (1 + x)"""

    _node_name = "Log1PBackward0"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log1p(fdata(x))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g / (x + 1)


class Expm1(Op):
    """y = exp(x) - 1;  dy/dx = y + 1"""

    _saves_output = True

    @staticmethod
    def forward(ctx, x):
        return np.expm1(fdata(x))

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * (y + 1)


class Sinh(Op):
    """y = sinh(x);  dy/dx = cosh(x)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sinh(fdata(x))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * x.cosh()


class Cosh(Op):
    """y = cosh(x);  dy/dx = sinh(x)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.cosh(fdata(x))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * x.sinh()


class Asin(Op):
    """y = asin(x);  dy/dx = 1 / sqrt(1 - x^2)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.arcsin(fdata(x))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * (1 - x * x).rsqrt()


class Acos(Op):
    """y = acos(x);  dy/dx = -1 / sqrt(1 - x^2)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.arccos(fdata(x))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * -(1 - x * x).rsqrt()


class Atan(Op):
    """y = atan(x);  dy/dx = 1 / (1 + x^2)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.arctan(fdata(x))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g / (1 + x * x)


class Asinh(Op):
    """y = asinh(x);  dy/dx = 1 / sqrt(x^2 + 1)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.arcsinh(fdata(x))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * (x * x + 1).rsqrt()


class Acosh(Op):
    """y = acosh(x);  dy/dx = 1 / sqrt(x^2 - 1)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.arccosh(fdata(x))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * (x * x - 1).rsqrt()


class Atanh(Op):
    """y = atanh(x);  dy/dx = 1 / (1 - x^2)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.arctanh(fdata(x))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g / (1 - x * x)


class Relu(Op):
    """y = max(x, 0);  dy/dx = 1 where y > 0 (relu'(0) = 0, as PyTorch)"""

    _saves_output = True

    @staticmethod
    def forward(ctx, x):
        d = x._data
        return np.maximum(d, d.dtype.type(0))

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * (y > 0)


class Clamp(Op):
    """y = min(max(x, lo), hi) (either bound may be None);  dy/dx = 1 where lo <= x <= hi"""

    _node_name = "ClampBackward1"

    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.save_for_backward(x)
        ctx.lo, ctx.hi = lo, hi
        d = x._data
        if hi is None:
            return np.maximum(d, d.dtype.type(lo))
        if lo is None:
            return np.minimum(d, d.dtype.type(hi))
        return np.minimum(np.maximum(d, d.dtype.type(lo)), d.dtype.type(hi))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        lo, hi = ctx.lo, ctx.hi
        inside = (x >= lo) if hi is None else (x <= hi) if lo is None else (x >= lo) & (x <= hi)
        return g * inside, None, None


class ClampTensor(Op):
    """y = min(max(x, lo), hi) with tensor bounds;  the gradient goes to whichever of x, lo, hi is picked"""

    _node_name = "ClampBackward0"

    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.save_for_backward(x, lo, hi)
        out = x._data
        if lo is not None:
            out = np.maximum(out, lo._data)
        if hi is not None:
            out = np.minimum(out, hi._data)
        return out

    @staticmethod
    def backward(ctx, g):
        x, lo, hi = ctx.saved_tensors
        nig = ctx.needs_input_grad
        gx = glo = ghi = None
        if lo is not None and hi is not None:  # PyTorch's clamp_backward_min_max: hi wins when lo > hi
            if nig[0]:
                gx = g * ((x >= lo) & (x <= hi))
            if nig[1]:
                glo = g * ((x < lo) & (lo < hi))
            if nig[2]:
                ghi = g * ((x > hi) | (hi < lo))
        elif lo is not None:
            gx = g * (x >= lo) if nig[0] else None
            glo = g * (x < lo) if nig[1] else None
        else:
            gx = g * (x <= hi) if nig[0] else None
            ghi = g * (x > hi) if nig[2] else None
        return gx, glo, ghi


class ClampMin(Op):
    """y = max(x, lo);  dy/dx = 1 where x >= lo"""

    @staticmethod
    def forward(ctx, x, lo):
        ctx.save_for_backward(x)
        ctx.lo = lo
        d = x._data
        return np.maximum(d, d.dtype.type(lo))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * (x >= ctx.lo), None


class ClampMax(Op):
    """y = min(x, hi);  dy/dx = 1 where x <= hi"""

    @staticmethod
    def forward(ctx, x, hi):
        ctx.save_for_backward(x)
        ctx.hi = hi
        d = x._data
        return np.minimum(d, d.dtype.type(hi))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * (x <= ctx.hi), None


class Maximum(Op):
    """z = max(x, y);  the gradient goes to the larger input, split in half on ties (PyTorch's rule)"""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return np.maximum(arr(x), arr(y))

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        w = (x > y) + (x == y) * 0.5
        return g * w, g * (1 - w)


class Minimum(Op):
    """z = min(x, y);  the gradient goes to the smaller input, split in half on ties"""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return np.minimum(arr(x), arr(y))

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        w = (x < y) + (x == y) * 0.5
        return g * w, g * (1 - w)


class Where(Op):
    """z = cond ? x : y;  dz/dx = cond,  dz/dy = !cond"""

    _node_name = "WhereBackward0"

    @staticmethod
    def forward(ctx, cond, x, y):
        ctx.cond = cond
        return np.where(cond._data, arr(x), arr(y))

    @staticmethod
    def backward(ctx, g):
        c = ctx.cond
        nig = ctx.needs_input_grad
        return None, (g.masked_fill(~c, 0.0) if nig[1] else None), (g.masked_fill(c, 0.0) if nig[2] else None)


class MaskedFill(Op):
    """y = x with value where mask;  dy/dx = !mask,  dy/dvalue = sum(g[mask])"""

    _node_name = "MaskedFillBackward0"

    @staticmethod
    def forward(ctx, x, mask, value):
        ctx.mask = mask
        v = arr(value)
        return np.where(mask._data, np.asarray(v, dtype=x._data.dtype), x._data)

    @staticmethod
    def backward(ctx, g):
        m = ctx.mask
        gv = (g * m).sum() if ctx.needs_input_grad[2] else None
        return g * ~m, None, gv


class MaskedFillTensor(MaskedFill):
    _node_name = "MaskedFillBackward1"  # the fill value is a (0-dim) tensor


class ToCopy(Op):
    """y = x cast to another dtype/device;  dy/dx = 1 (cast back by the engine)"""

    @staticmethod
    def forward(ctx, x, dtype, device):
        from .._backend import to_device  # noqa: PLC0415

        d = x._data
        if dtype is not None and dtype is not x.dtype:
            d = D.cast_array(d, dtype)
        if device is not None and device is not x.device:
            d = to_device(d, device)
            out = _wrap(d, dtype or x.dtype, device)
            return out
        return d if d is not x._data else d.copy()

    @staticmethod
    def backward(ctx, g):
        return g, None, None


class Sign(Op):
    """y = sign(x);  dy/dx = 0"""

    @staticmethod
    def forward(ctx, x):
        return np.sign(x._data)

    @staticmethod
    def backward(ctx, g):
        return g * 0


def _zero_grad_op(name, fn):
    """Piecewise-constant ops (floor, ceil, ...): gradient zero everywhere, as PyTorch defines it."""

    def forward(ctx, x):
        return fn(x._data)

    def backward(ctx, g):
        return g * 0

    return type(name, (Op,), {"forward": staticmethod(forward), "backward": staticmethod(backward)})


Floor = _zero_grad_op("Floor", np.floor)
Ceil = _zero_grad_op("Ceil", np.ceil)
Trunc = _zero_grad_op("Trunc", np.trunc)
Round = _zero_grad_op("Round", np.round)


class Frac(Op):
    """y = x - trunc(x);  dy/dx = 1"""

    @staticmethod
    def forward(ctx, x):
        d = x._data
        return d - np.trunc(d)

    @staticmethod
    def backward(ctx, g):
        return g


class Log2(Op):
    """y = log2(x);  dy/dx = 1 / (x ln 2)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log2(fdata(x))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g / (x * _LN2)


class Log10(Op):
    """y = log10(x);  dy/dx = 1 / (x ln 10)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log10(fdata(x))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g / (x * _LN10)


class Exp2(Op):
    """y = 2^x;  dy/dx = y ln 2"""

    _saves_output = True

    @staticmethod
    @opmath
    def forward(ctx, x):
        return np.exp2(fdata(x))

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * (y * _LN2)


_LN2 = float(np.log(2.0))
_LN10 = float(np.log(10.0))


def _remainder(a, b):
    """np.remainder, but a zero takes the sign of ``a`` as torch's (fmod-based) one does, not of ``b``."""
    r = np.remainder(a, b)
    if r.dtype.kind == "f" or r.dtype.name == "bfloat16":
        r = np.where(r == 0, np.copysign(r, a), r)
    return r


class Remainder(Op):
    """z = x - floor(x / y) * y (the sign of y);  dz/dx = 1,  dz/dy = -floor(x / y)"""

    _node_name = "RemainderBackward1"
    _ufunc = staticmethod(_remainder)
    _round = "floor"

    @classmethod
    def forward(cls, ctx, x, y):
        ctx.save_for_backward(x, y if isinstance(y, Tensor) else None)
        return cls._ufunc(arr(x), arr(y))

    @classmethod
    def backward(cls, ctx, g):
        x, y = ctx.saved_tensors
        if y is None:  # a Python number divisor
            return g, None
        gy = None
        if ctx.needs_input_grad[1]:
            q = x / y
            gy = -g * (q.floor() if cls._round == "floor" else q.trunc())
        return g, gy


class RemainderScalar(Remainder):
    _node_name = "RemainderBackward0"


class Fmod(Remainder):
    """z = x - trunc(x / y) * y (the sign of x);  dz/dx = 1,  dz/dy = -trunc(x / y)"""

    _node_name = "FmodBackward1"
    _ufunc = staticmethod(np.fmod)
    _round = "trunc"


class FmodScalar(Fmod):
    _node_name = "FmodBackward0"


# -- public functions ------------------------------------------------------------------------------
def add(input, other, *, alpha=1, out=None):
    if out is not None:
        return write_out("add", out, add, input, other, alpha=alpha)
    if (
        isinstance(other, Tensor)
        and isinstance(input, Tensor)
        and input.dtype is other.dtype
        and input.device is other.device
    ):
        return Add.apply(input, other, alpha)
    a, b, _ = operands(input, other)
    if not isinstance(a, Tensor):
        return Add.apply(b, a, alpha) if alpha == 1 else RSub.apply(b, a, -alpha)
    return Add.apply(a, b, alpha)


def sub(input, other, *, alpha=1, out=None):
    if out is not None:
        return write_out("sub", out, sub, input, other, alpha=alpha)
    if input.dtype is D.bool_ if isinstance(input, Tensor) else type(input) is bool:
        _sub_check(input, other)
    elif other.dtype is D.bool_ if isinstance(other, Tensor) else type(other) is bool:
        _sub_check(input, other)
    a, b, dt = operands(input, other)
    if not isinstance(a, Tensor):
        return RSubScalar.apply(b, a, alpha)
    return Sub.apply(a, b, alpha)


def _sub_check(a, b) -> None:
    """PyTorch's sub_check: no subtraction with bool operands (a Python bool counts as one)."""
    if all(x.dtype is D.bool_ if isinstance(x, Tensor) else type(x) is bool for x in (a, b)):
        raise RuntimeError(
            "Subtraction, the `-` operator, with two bool tensors is not supported. "
            "Use the `^` or `logical_xor()` operator instead."
        )
    raise RuntimeError(
        "Subtraction, the `-` operator, with a bool tensor is not supported. "
        "If you are trying to invert a mask, use the `~` or `logical_not()` operator instead."
    )


def rsub(input, other, *, alpha=1):
    for x in (input, other):
        if x.dtype is D.bool_ if isinstance(x, Tensor) else type(x) is bool:
            _sub_check(input, other)
    a, b, _ = operands(input, other)
    return (RSub if isinstance(b, Tensor) else RSubScalar).apply(a, b, alpha)


def mul(input, other, *, out=None):
    if out is not None:
        return write_out("mul", out, mul, input, other)
    if (
        isinstance(other, Tensor)
        and isinstance(input, Tensor)
        and input.dtype is other.dtype
        and input.device is other.device
    ):
        return Mul.apply(input, other)  # the common case, without the promotion machinery
    a, b, _ = operands(input, other)
    if not isinstance(a, Tensor):
        a, b = b, a
    return Mul.apply(a, b)


def div(input, other, *, rounding_mode=None, out=None):
    if out is not None:
        return write_out("div", out, div, input, other, rounding_mode=rounding_mode)
    if rounding_mode is not None:
        if rounding_mode == "floor":
            return floor_divide(input, other)
        if rounding_mode == "trunc":
            a, b, dt = operands(input, other)
            _not_for_bool("div_trunc_cpu", dt)
            return _nograd(np.trunc(_call(np.true_divide, a, b)).astype(dt.np), dt, a, b)
        raise RuntimeError(
            f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '{rounding_mode}'"
        )
    if not isinstance(input, Tensor):  # ``2 / t``: PyTorch computes reciprocal(t) * 2
        return mul(reciprocal(other), input)
    a, b, _ = operands(input, other, float_only=True)
    return Div.apply(a, b)


def _call(ufunc, a, b):
    """``ufunc`` on two operands' arrays, with PyTorch's error when their shapes do not broadcast."""
    try:
        return ufunc(arr(a), arr(b))
    except ValueError as e:
        from ..autograd.function import _broadcast_error  # noqa: PLC0415

        raise _broadcast_error((a, b), e) from None


def _nograd(data, dt, *ops):
    dev = next(o.device for o in ops if isinstance(o, Tensor))
    return _wrap(np.asarray(data), dt, dev)


def floor_divide(input, other):
    a, b, dt = operands(input, other)
    _not_for_bool("div_floor_cpu", dt)
    if not dt.is_floating_point and np.any(np.asarray(arr(b)) == 0):
        raise RuntimeError("ZeroDivisionError")
    return _nograd(_call(np.floor_divide, a, b), dt, a, b)


def remainder(input, other):
    a, b, dt = operands(input, other)
    _not_for_bool("remainder_cpu", dt)
    if not dt.is_floating_point and np.any(np.asarray(arr(b)) == 0):
        raise RuntimeError("ZeroDivisionError")
    if not isinstance(a, Tensor):  # ``3 % t``: differentiable in t only
        if b._rg:
            return a - floor_divide(a, b).detach() * b
        return _nograd(_remainder(a, b._data), dt, a, b)
    return (Remainder if isinstance(b, Tensor) else RemainderScalar).apply(a, b)


def fmod(input, other):
    a, b, dt = operands(input, other)
    _not_for_bool("fmod_cpu", dt)
    if not dt.is_floating_point and np.any(np.asarray(arr(b)) == 0):
        raise RuntimeError("ZeroDivisionError")
    return (Fmod if isinstance(b, Tensor) else FmodScalar).apply(a, b)


def neg(input):
    if input.dtype is D.bool_:
        raise RuntimeError(
            "Negation, the `-` operator, on a bool tensor is not supported. "
            "If you are trying to invert a mask, use the `~` or `logical_not()` operator instead."
        )
    return Neg.apply(input)


def pow(input, exponent):  # noqa: A001 - PyTorch's name
    kind = type(exponent)
    if (kind is int or kind is float) and isinstance(input, Tensor) and input.dtype.is_floating_point:
        return Pow.apply(input, exponent)  # ``x ** 2``: a float tensor keeps its dtype
    if isinstance(input, Tensor) and not isinstance(exponent, Tensor):
        if type(exponent) is bool:
            if input.dtype is D.bool_:  # bool ** bool stays bool: x ** True is x, x ** False all True
                data = input._data.copy() if exponent else np.ones_like(input._data)
                return _wrap(data, D.bool_, input.device)
            exponent = int(exponent)
        dt = D.result_type(input, exponent)
        if not dt.is_floating_point and isinstance(exponent, int) and exponent < 0:
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        x = input if dt is input.dtype else input.to(dt)
        return Pow.apply(x, exponent)
    if not isinstance(input, Tensor):
        _, y, dt = operands(input, exponent)
        _not_for_bool("pow", dt)
        return RPow.apply(input if dt.is_floating_point else _scalar(input, dt), y)
    a, b, dt = operands(input, exponent)
    _not_for_bool("pow", dt)
    return PowTensor.apply(a, b)


def _not_for_bool(kernel: str, dt) -> None:
    """PyTorch has no bool kernel for the arithmetic ops beyond add/mul: the same error, by name."""
    if dt is D.bool_:
        raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")


def clamp(input, min=None, max=None, *, out=None):  # noqa: A002
    if out is not None:
        return write_out("clamp", out, clamp, input, min, max, _rule="found")
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        bounds = [b for b in (min, max) if b is not None]
        dt = D.result_type(input, *bounds)
        x, lo, hi = (None if b is None else _cast_to(b, dt, input) for b in (input, min, max))
        return ClampTensor.apply(x, lo, hi)
    return Clamp.apply(_float_if_needed(input, min, max), min, max)


def clamp_min(input, min):  # noqa: A002
    if isinstance(min, Tensor):
        return clamp(input, min=min)
    return ClampMin.apply(_float_if_needed(input, min), min)


def clamp_max(input, max):  # noqa: A002
    if isinstance(max, Tensor):
        return clamp(input, max=max)
    return ClampMax.apply(_float_if_needed(input, max), max)


def _not_tensor(name, other) -> str:
    return f"{name}(): argument 'other' (position 2) must be Tensor, not {type(other).__name__}"


def _cast_to(v, dt, like):
    if not isinstance(v, Tensor):
        return _wrap(np.asarray(v, dtype=dt.np), dt, like.device)
    return v if v.dtype is dt else v.to(dt)


def _float_if_needed(x, *bounds):
    if not x.dtype.is_floating_point and any(type(b) is float for b in bounds):
        return x.to(D.get_default_dtype())
    return x


def maximum(input, other):
    if not isinstance(other, Tensor):
        raise TypeError(_not_tensor("maximum", other))
    a, b, _ = operands(input, other)
    return Maximum.apply(a, b)


def minimum(input, other):
    if not isinstance(other, Tensor):
        raise TypeError(_not_tensor("minimum", other))
    a, b, _ = operands(input, other)
    return Minimum.apply(a, b)


def where(condition, input=None, other=None):
    if input is None and other is None:
        from .indexing import nonzero  # noqa: PLC0415

        return nonzero(condition, as_tuple=True)
    if condition.dtype is not D.bool_:
        condition = _wrap(condition._data.astype(bool), D.bool_, condition.device)
    a, b, dt = operands(input, other)
    if not isinstance(a, Tensor):  # np.where(c, 2.5, bfloat16 array) is float32: give the scalar dt
        a = _scalar(a, dt)
    return Where.apply(condition, a, b)


def masked_fill(input, mask, value):
    if not isinstance(mask, Tensor) or mask.dtype is not D.bool_:
        raise RuntimeError(
            "masked_fill_ only supports boolean masks, but got mask with dtype "
            f"{getattr(mask, 'dtype', type(mask))}"
        )
    if isinstance(value, Tensor):
        if value._data.ndim:
            raise RuntimeError(
                "masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                f"{value._data.ndim} dimension(s)."
            )
        return MaskedFillTensor.apply(input, mask, value)
    return MaskedFill.apply(input, mask, value)


def _compare(ufunc):
    def op(input, other, *, out=None):
        if out is not None:
            return write_out(op.__name__, out, op, input, other)
        a, b, _ = operands(input, other)
        t = a if isinstance(a, Tensor) else b
        return _wrap(np.asarray(_call(ufunc, a, b)), D.bool_, t.device)

    op.__name__ = ufunc.__name__
    return op


eq = _compare(np.equal)
ne = _compare(np.not_equal)
lt = _compare(np.less)
le = _compare(np.less_equal)
gt = _compare(np.greater)
ge = _compare(np.greater_equal)


def _logical(ufunc, name):
    def op(input, other=None):
        if other is None:
            return _wrap(np.asarray(ufunc(input._data)), D.bool_, input.device)
        return _wrap(np.asarray(_call(ufunc, input, other)), D.bool_, input.device)

    op.__name__ = name
    return op


logical_and = _logical(np.logical_and, "logical_and")
logical_or = _logical(np.logical_or, "logical_or")
logical_xor = _logical(np.logical_xor, "logical_xor")
logical_not = _logical(np.logical_not, "logical_not")


def _bitwise(ufunc, name):
    def op(input, other):
        a, b, dt = operands(input, other)
        if dt.is_floating_point:
            kind = type_name(dt)
            raise NotImplementedError(f"\"{name}_cpu\" not implemented for '{kind}'")
        return _nograd(_call(ufunc, a, b), dt, a, b)

    op.__name__ = name
    return op


bitwise_and = _bitwise(np.bitwise_and, "bitwise_and")
bitwise_or = _bitwise(np.bitwise_or, "bitwise_or")
bitwise_xor = _bitwise(np.bitwise_xor, "bitwise_xor")


# NOTE [ shifts outside the bit width ]
# C leaves ``x << s`` undefined for s < 0 or s >= the bit width; PyTorch defines it: a left shift, or an
# unsigned right shift, gives 0; a signed right shift fills with the sign bit (0 or -1). NumPy happens to
# agree on the CPU, but the rule is spelled out here so every backend computes the same thing.
def _shifter(ufunc, dt):
    bits = 8 * dt.itemsize

    def shift(x, s):
        s = np.asarray(s)
        ok = (s >= 0) & (s < bits)
        if ufunc is np.right_shift and dt.is_signed:
            return ufunc(x, np.where(ok, s, bits - 1))
        return np.where(ok, ufunc(x, np.where(ok, s, 0)), 0)

    return shift


def _shift(ufunc, name, kernel):
    def op(input, other, *, out=None):
        if out is not None:
            return write_out(name, out, op, input, other)
        a, b, dt = operands(input, other)
        if dt.is_floating_point or dt is D.bool_:
            kind = type_name(dt)
            raise NotImplementedError(f"\"{kernel}_cpu\" not implemented for '{kind}'")
        a, b = (v if isinstance(v, Tensor) else _scalar(v, dt) for v in (a, b))  # 2**63 wraps, as torch's
        return _nograd(_call(_shifter(ufunc, dt), a, b), dt, a, b)

    op.__name__ = name
    return op


bitwise_left_shift = _shift(np.left_shift, "bitwise_left_shift", "lshift")
bitwise_right_shift = _shift(np.right_shift, "bitwise_right_shift", "rshift")


def bitwise_not(input):
    if input.dtype.is_floating_point:
        raise RuntimeError("bitwise_not is only supported for integer and boolean tensors")
    return _wrap(np.asarray(np.invert(input._data)), input.dtype, input.device)


def _unary(cls):
    def op(input, *, out=None):
        if out is not None:
            return write_out(op.__name__, out, op, input)
        return cls.apply(input)

    op.__name__ = cls.__name__.lower()
    return op


exp, log, sin, cos, tan, tanh, sigmoid = map(_unary, (Exp, Log, Sin, Cos, Tan, Tanh, Sigmoid))
sqrt, rsqrt, reciprocal, abs, log1p, expm1 = map(_unary, (Sqrt, Rsqrt, Reciprocal, Abs, Log1p, Expm1))  # noqa: A001
sinh, cosh, asin, acos, atan, relu, sign = map(_unary, (Sinh, Cosh, Asin, Acos, Atan, Relu, Sign))
asinh, acosh, atanh = map(_unary, (Asinh, Acosh, Atanh))
floor, ceil, trunc = map(_unary, (Floor, Ceil, Trunc))


def round(input, *, decimals=0):  # noqa: A001
    if decimals:
        s = 10.0**decimals
        return _wrap(np.round(input._data * s) / s, input.dtype, input.device)
    return Round.apply(input)


def square(input):
    return pow(input, 2)


def log2(input):
    return Log2.apply(input)


def log10(input):
    return Log10.apply(input)


def exp2(input):
    return Exp2.apply(input)


def frac(input):
    return Frac.apply(input)


def isnan(input):
    return _wrap(np.asarray(np.isnan(input._data)), D.bool_, input.device)


def isinf(input):
    return _wrap(np.asarray(np.isinf(input._data)), D.bool_, input.device)


def isfinite(input):
    return _wrap(np.asarray(np.isfinite(input._data)), D.bool_, input.device)
