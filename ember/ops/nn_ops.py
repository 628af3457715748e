# ruff: noqa: PLR0917, A001, A002 - an Op's forward takes the op's own argument list; `input` is PyTorch's name
"""Neural-network primitives: activations, softmax, losses, normalisation, embedding, padding.

Each is one ``Op``: forward computes on arrays, backward is written with ember ops so that second
derivatives work. Only the numerically delicate or PyTorch-named ops live here; composites
(softsign, l1_loss, rms_norm, dropout, ...) are plain ember code in ``ember.nn.functional``.
"""

from __future__ import annotations

import math

from ..tensor import _dim
from ._base import Op, Tensor, _wrap, bf16_round, fdata, np, opmath
from .indexing import place

_SQRT1_2 = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_GELU_K = math.sqrt(2.0 / math.pi)
_GELU_C = 0.044715
_ONE_SIXTH_F32 = float(np.float32(1.0) / np.float32(6.0))  # PyTorch's hardsigmoid backward uses 1.0f / 6.0f

# NOTE [ erf ]: NumPy has no erf. math.erf (glibc's, correctly rounded to double) mapped over the
# elements is exact for float32 and float64 results; it costs ~0.1 us an element, which is fine for
# the sizes a NumPy-backed framework trains at.
_erf_elem = np.frompyfunc(math.erf, 1, 1)


def erf_array(a):
    """erf of a float array, in the array's dtype."""
    return np.asarray(_erf_elem(a), dtype=np.float64).astype(a.dtype, copy=False)


def _like(a, x):
    """``a`` as an array of x's floating dtype (guards against float64 NumPy scalars upcasting)."""
    return np.asarray(a).astype(x.dtype, copy=False)


# -- reduction helpers for losses ----------------------------------------------------------------
def reduce_array(a, reduction: str):
    if reduction == "none":
        return a
    if reduction == "sum":
        return np.asarray(a.sum(), dtype=a.dtype)
    if a.size == 0:
        return np.asarray(np.nan, dtype=a.dtype)
    return np.asarray(a.mean(), dtype=a.dtype)


def unreduce(g: Tensor, shape, reduction: str) -> Tensor:
    """The per-element gradient of a reduced loss."""
    if reduction == "none":
        return g
    if reduction == "mean":
        n = math.prod(shape)
        g = g / n if n else g
    return g.expand(shape)


# -- math ----------------------------------------------------------------------------------------
class Erf(Op):
    """y = erf(x);  dy/dx = 2/sqrt(pi) exp(-x^2)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return erf_array(fdata(x))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * ((x * x).neg().exp() * (2.0 / math.sqrt(math.pi)))


# -- softmax family ------------------------------------------------------------------------------
class Softmax(Op):
    """y = exp(x - max) / sum(exp(x - max));  dx = y (g - sum(g y))"""

    _saves_output = True

    @staticmethod
    @opmath
    def forward(ctx, x, dim):
        ctx.dim = dim
        d = fdata(x)
        if d.size == 0:
            return d.copy()
        e = np.exp(d - d.max(axis=dim, keepdims=True))
        return e / e.sum(axis=dim, keepdims=True)

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        gy = g * y
        return gy - y * gy.sum(ctx.dim, keepdim=True), None


class LogSoftmax(Op):
    """y = x - max - log(sum(exp(x - max)));  dx = g - exp(y) sum(g)"""

    _saves_output = True

    @staticmethod
    @opmath
    def forward(ctx, x, dim):
        ctx.dim = dim
        d = fdata(x)
        if d.size == 0:
            return d.copy()
        s = d - d.max(axis=dim, keepdims=True)
        if x.dtype.name == "bfloat16":  # torch keeps the sum and its log in bfloat16 buffers
            return s - bf16_round(np.log(bf16_round(np.exp(s).sum(axis=dim, keepdims=True))))
        return s - np.log(np.exp(s).sum(axis=dim, keepdims=True))

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g - y.exp() * g.sum(ctx.dim, keepdim=True), None


# -- activations ---------------------------------------------------------------------------------
class Gelu(Op):
    """y = x Phi(x) (or the tanh approximation);  dy/dx = Phi(x) + x phi(x)"""

    @staticmethod
    @opmath
    def forward(ctx, x, approximate):
        ctx.save_for_backward(x)
        ctx.approximate = approximate
        d = fdata(x)
        w = d.astype(np.float64)
        if approximate == "tanh":
            y = 0.5 * w * (1.0 + np.tanh(_GELU_K * (w + _GELU_C * w * w * w)))
        else:
            y = 0.5 * w * (1.0 + erf_array(w * _SQRT1_2))
        return y.astype(d.dtype)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        if ctx.approximate == "tanh":
            x2 = x * x
            t = ((x + x2 * x * _GELU_C) * _GELU_K).tanh()
            d = (t + 1) * 0.5 + x * (1 - t * t) * (0.5 * _GELU_K) * (x2 * (3 * _GELU_C) + 1)
        else:
            cdf = (Erf.apply(x * _SQRT1_2) + 1) * 0.5
            d = cdf + x * (x * x * -0.5).exp() * _INV_SQRT_2PI
        return g * d, None


class Silu(Op):
    """y = x sigmoid(x);  dy/dx = s (1 + x (1 - s))"""

    @staticmethod
    @opmath
    def forward(ctx, x):
        ctx.save_for_backward(x)
        d = fdata(x)
        return d * _sigmoid(d)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        s = x.sigmoid()
        return g * (s * (x * (1 - s) + 1))


def _sigmoid(d):
    e = np.exp(-np.abs(d))
    return np.where(d >= 0, 1 / (1 + e), e / (1 + e)).astype(d.dtype, copy=False)


class Elu(Op):
    """y = scale x (x > 0), scale alpha (exp(input_scale x) - 1) otherwise;  dy/dx piecewise"""

    @staticmethod
    @opmath
    def forward(ctx, x, alpha, scale, input_scale):
        ctx.save_for_backward(x)
        ctx.args, ctx.celu = (alpha, scale, input_scale), ctx._forward_cls is Celu
        d = fdata(x)
        neg = np.expm1(np.minimum(d, 0) * input_scale) * (alpha * scale)
        return _like(np.where(d > 0, d * scale, neg), d)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        alpha, scale, input_scale = ctx.args
        if ctx.celu:  # PyTorch's celu backward uses 1 / float32(alpha) as the input scale
            input_scale = 1.0 / float(np.float32(alpha))
        neg = (x.clamp(max=0) * input_scale).exp() * (alpha * scale * input_scale)
        pos = (x > 0).to(g.dtype)
        return g * (pos * scale + (1 - pos) * neg), None, None, None


class Celu(Elu):
    _node_name = "CeluBackward0"


class LeakyRelu(Op):
    """y = x (x > 0), slope x otherwise;  dy/dx = 1 or slope"""

    @staticmethod
    @opmath
    def forward(ctx, x, slope):
        ctx.save_for_backward(x)
        ctx.slope = slope
        d = fdata(x)
        return _like(np.where(d > 0, d, d * slope), d)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * ((x > 0).to(g.dtype) * (1 - ctx.slope) + ctx.slope), None


class Hardtanh(Op):
    """y = clamp(x, lo, hi);  dy/dx = 1 strictly inside (lo, hi), else 0"""

    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.save_for_backward(x)
        ctx.lo, ctx.hi = lo, hi
        d = fdata(x)
        return _like(np.clip(d, lo, hi), d)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * ((x > ctx.lo) & (x < ctx.hi)), None, None


class Softplus(Op):
    """y = log(1 + exp(beta x)) / beta (x where beta x > threshold);  dy/dx = sigmoid(beta x)"""

    @staticmethod
    @opmath
    def forward(ctx, x, beta, threshold):
        ctx.save_for_backward(x)
        ctx.beta, ctx.threshold = beta, threshold
        d = fdata(x)
        bx = d * beta
        soft = np.logaddexp(0, bx) / beta  # log1p(exp(bx)) without overflow
        return _like(np.where(bx > threshold, d, soft), d)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        bx = x * ctx.beta
        return g * (bx.sigmoid() * (bx <= ctx.threshold) + (bx > ctx.threshold)), None, None


class Mish(Op):
    """y = x tanh(softplus(x));  dy/dx = tanh(sp) + x sigmoid(x) (1 - tanh(sp)^2)"""

    @staticmethod
    @opmath
    def forward(ctx, x):
        ctx.save_for_backward(x)
        d = fdata(x)
        return _like(d * np.tanh(np.logaddexp(0, d)), d)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        t = Softplus.apply(x, 1.0, 20.0).tanh()
        return g * (t + x * x.sigmoid() * (1 - t * t))


class Hardswish(Op):
    """y = x relu6(x + 3) / 6;  dy/dx = 0 (x < -3), x/3 + 1/2 (x <= 3), 1"""

    @staticmethod
    @opmath
    def forward(ctx, x):
        ctx.save_for_backward(x)
        d = fdata(x)
        return _like(d * np.clip(d + 3, 0, 6) / 6, d)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        mid = (x >= -3) & (x <= 3)
        return g * ((x / 3 + 0.5) * mid + (x > 3))


class Hardsigmoid(Op):
    """y = relu6(x + 3) / 6;  dy/dx = 1/6 strictly inside (-3, 3)"""

    @staticmethod
    @opmath
    def forward(ctx, x):
        ctx.save_for_backward(x)
        d = fdata(x)
        return _like(np.clip(d + 3, 0, 6) / 6, d)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * ((x > -3) & (x < 3)) * _ONE_SIXTH_F32


class LogSigmoid(Op):
    """y = -softplus(-x) = min(x, 0) - log1p(exp(-|x|));  dy/dx = sigmoid(-x)"""

    @staticmethod
    @opmath
    def forward(ctx, x):
        ctx.save_for_backward(x)
        d = fdata(x)
        return _like(np.minimum(d, 0) - np.log1p(np.exp(-np.abs(d))), d)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * (-x).sigmoid()


class Threshold(Op):
    """y = x (x > threshold), value otherwise;  dy/dx = 1 where x > threshold"""

    @staticmethod
    def forward(ctx, x, threshold, value):
        ctx.save_for_backward(x)
        ctx.threshold = threshold
        d = x._data
        return np.where(d > threshold, d, np.asarray(value, dtype=d.dtype))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * (x > ctx.threshold), None, None


class Glu(Op):
    """y = a sigmoid(b), (a, b) the halves of x along dim;  da = sigmoid(b),  db = a s (1 - s)"""

    @staticmethod
    def forward(ctx, x, dim):
        ctx.save_for_backward(x)
        ctx.dim = dim
        d = fdata(x)
        a, b = np.split(d, 2, axis=dim)
        return a * _sigmoid(b)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        a, b = x.chunk(2, ctx.dim)
        s = b.sigmoid()
        from .shape import cat  # noqa: PLC0415

        return cat((g * s, g * a * s * (1 - s)), ctx.dim), None


class PreluKernel(Op):
    """y = x (x > 0), w x otherwise (w per channel, dim 1);  dx = 1 or w,  dw = sum of g x where x <= 0"""

    @staticmethod
    def forward(ctx, x, w):
        ctx.save_for_backward(x, w)
        d = x._data
        wd = _channel_view(w._data, d.ndim)
        return np.where(d > 0, d, wd * d)

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        nd = x.ndim
        wv = w.reshape(_channel_shape(w.shape[0], nd))
        pos = x > 0
        gx = g * (pos + (~pos) * wv)
        gw = None
        if ctx.needs_input_grad[1]:
            gw = _sum_except_channel(g * x * (~pos), nd)
            gw = gw.sum().reshape(w.shape) if w.numel() == 1 else gw.reshape(w.shape)
        return gx, gw


def _channel_shape(c, ndim):
    return (c,) + (1,) * (ndim - 2) if ndim >= 2 else (c,)


def _channel_view(a, ndim):
    """A per-channel array (C,) shaped to broadcast against an (N, C, *) array."""
    if ndim < 2 or a.size == 1:
        return a.reshape(()) if a.size == 1 else a
    return a.reshape(_channel_shape(a.shape[0], ndim))


def _sum_except_channel(t, ndim):
    if ndim < 2:
        return t
    return t.sum([0, *range(2, ndim)])


# -- losses --------------------------------------------------------------------------------------
class MseLoss(Op):
    """l = (x - t)^2 reduced;  dl/dx = 2 (x - t),  dl/dt = -2 (x - t)"""

    @staticmethod
    @opmath
    def forward(ctx, x, t, reduction):
        ctx.save_for_backward(x, t)
        ctx.reduction = reduction
        d = x._data - t._data
        ctx.shape = d.shape
        return reduce_array(d * d, reduction)

    @staticmethod
    def backward(ctx, g):
        x, t = ctx.saved_tensors
        if ctx.reduction == "none":
            gd = g * (x - t) * 2
        else:  # a 0-d g broadcasts itself; scaling by 2 is exact, so this is g * (x - t) * 2 bit for bit
            n = math.prod(ctx.shape)
            gd = (x - t) * ((g / n if ctx.reduction == "mean" and n else g) * 2)
        nig = ctx.needs_input_grad
        return (gd if nig[0] else None), (-gd if nig[1] else None), None


class SmoothL1Loss(Op):
    """l = 0.5 d^2 / beta (|d| < beta), |d| - beta/2 otherwise;  dl/dd = clamp(d / beta, -1, 1)"""

    @staticmethod
    @opmath
    def forward(ctx, x, t, reduction, beta):
        ctx.save_for_backward(x, t)
        ctx.reduction, ctx.beta = reduction, beta
        d = x._data - t._data
        ctx.shape = d.shape
        a = np.abs(d)
        return reduce_array(_like(np.where(a < beta, 0.5 * d * d / beta, a - 0.5 * beta), d), reduction)

    @staticmethod
    def backward(ctx, g):
        x, t = ctx.saved_tensors
        gd = unreduce(g, ctx.shape, ctx.reduction) * ((x - t) / ctx.beta).clamp(-1.0, 1.0)
        nig = ctx.needs_input_grad
        return (gd if nig[0] else None), (-gd if nig[1] else None), None, None


class HuberLoss(Op):
    """l = 0.5 d^2 (|d| < delta), delta (|d| - delta/2) otherwise;  dl/dd = clamp(d, -delta, delta)"""

    @staticmethod
    @opmath
    def forward(ctx, x, t, reduction, delta):
        ctx.save_for_backward(x, t)
        ctx.reduction, ctx.delta = reduction, delta
        d = x._data - t._data
        ctx.shape = d.shape
        a = np.abs(d)
        return reduce_array(_like(np.where(a < delta, 0.5 * d * d, delta * (a - 0.5 * delta)), d), reduction)

    @staticmethod
    def backward(ctx, g):
        x, t = ctx.saved_tensors
        gd = unreduce(g, ctx.shape, ctx.reduction) * (x - t).clamp(-ctx.delta, ctx.delta)
        nig = ctx.needs_input_grad
        return (gd if nig[0] else None), (-gd if nig[1] else None), None, None


class NllLoss(Op):
    """l = -w[t] x[t] reduced (mean divides by the summed weights);  dx = -w[t] at the target class"""

    @staticmethod
    def forward(ctx, x, target, weight, reduction, ignore_index):
        d = x._data
        # classes on the last axis, everything else flattened into rows: (M, C)
        moved = np.moveaxis(d, 1, -1) if d.ndim >= 2 else d[None]
        c = moved.shape[-1]
        flat = moved.reshape(-1, c)
        tg = target._data.reshape(-1)
        keep = tg != ignore_index
        safe = np.where(keep, tg, 0)
        bad = keep & ((tg < 0) | (tg >= c))
        if bad.any():
            raise IndexError(f"Target {int(tg[bad][0])} is out of bounds.")
        w = np.ones(c, dtype=d.dtype) if weight is None else weight._data
        wt = np.where(keep, w[safe], 0).astype(d.dtype)
        picked = flat[np.arange(flat.shape[0]), safe]
        losses = -picked * wt
        if reduction == "none":
            out = losses.reshape(target._data.shape)
            total = None
        elif reduction == "sum":
            out = np.asarray(losses.sum(), dtype=d.dtype)
            total = None
        else:
            total = wt.sum()
            with np.errstate(divide="ignore", invalid="ignore"):
                out = np.asarray(losses.sum() / total, dtype=d.dtype)
        # the gradient is linear in g: keep the (M, C) coefficient array, non-differentiable
        coef = np.zeros_like(flat)
        with np.errstate(divide="ignore", invalid="ignore"):
            coef[np.arange(flat.shape[0]), safe] = -wt / total if total is not None else -wt
        coef[~keep, 0] = 0  # ignored rows wrote their (zero) weight at class 0; keep it exactly zero
        ctx.coef, ctx.moved_shape, ctx.reduction, ctx.xshape = coef, moved.shape, reduction, d.shape
        return out

    @staticmethod
    def backward(ctx, g):
        coef = _wrap(ctx.coef, g.dtype, g.device)
        m = ctx.coef.shape[0]
        gm = g.reshape(m, 1) if ctx.reduction == "none" else g
        gx = (gm * coef).reshape(ctx.moved_shape)
        gx = gx.movedim(-1, 1) if len(ctx.xshape) >= 2 else gx.reshape(ctx.xshape)
        return gx, None, None, None, None


class NllLoss2d(NllLoss):
    """NllLoss over spatial dims ``(N, C, H, W)``: the node PyTorch records for inputs of 3 or more dims."""

    _node_name = "NllLoss2DBackward0"


class BinaryCrossEntropy(Op):
    """l = -w (t log x + (1-t) log(1-x)), logs clamped at -100;  dl/dx = w (x - t) / max(x (1-x), eps)"""

    @staticmethod
    @opmath
    def forward(ctx, x, t, weight, reduction):
        ctx.save_for_backward(x, t, weight)
        ctx.reduction = reduction
        d, td = x._data, t._data
        if not np.all((d >= 0) & (d <= 1)):
            raise RuntimeError("all elements of input should be between 0 and 1")
        if not np.all((td >= 0) & (td <= 1)):
            raise RuntimeError("all elements of target should be between 0 and 1")
        with np.errstate(divide="ignore"):
            lx = np.maximum(np.log(d), -100)
            l1x = np.maximum(np.log1p(-d), -100)
        loss = -(td * lx + (1 - td) * l1x)
        if weight is not None:
            loss = loss * weight._data
        ctx.shape = loss.shape
        return reduce_array(_like(loss, d), reduction)

    @staticmethod
    def backward(ctx, g):
        x, t, w = ctx.saved_tensors
        gl = unreduce(g, ctx.shape, ctx.reduction)
        if w is not None:
            gl = gl * w
        nig = ctx.needs_input_grad
        gx = gt = None
        if nig[0]:
            gx = gl * (x - t) / (x * (1 - x)).clamp(min=1e-12)
        if nig[1]:
            gt = gl * ((1 - x).log().clamp(min=-100) - x.log().clamp(min=-100))
        return gx, gt, None, None


class BinaryCrossEntropyWithLogits(Op):
    """l = w ((1 - t) x - lw logsigmoid(x)), lw = 1 + (pw - 1) t;  dl/dx = w (lw sigmoid(x) - pw t)"""

    @staticmethod
    @opmath
    def forward(ctx, x, t, weight, pos_weight, reduction):
        ctx.save_for_backward(x, t, weight, pos_weight)
        ctx.reduction = reduction
        d, td = x._data, t._data
        logsig = np.minimum(d, 0) - np.log1p(np.exp(-np.abs(d)))
        if pos_weight is not None:
            logsig = logsig * ((pos_weight._data - 1) * td + 1)
        loss = (1 - td) * d - logsig
        if weight is not None:
            loss = loss * weight._data
        ctx.shape = loss.shape
        return reduce_array(_like(loss, d), reduction)

    @staticmethod
    def backward(ctx, g):
        x, t, w, pw = ctx.saved_tensors
        gl = unreduce(g, ctx.shape, ctx.reduction)
        if w is not None:
            gl = gl * w
        nig = ctx.needs_input_grad
        gx = gt = gpw = None
        s = x.sigmoid()
        if nig[0]:
            gx = gl * ((pw * t + 1 - t) * s - pw * t if pw is not None else s - t)
        if nig[1]:
            gt = gl * (-x - (pw - 1) * LogSigmoid.apply(x) if pw is not None else -x)
        if pw is not None and nig[3]:
            gpw = -gl * t * LogSigmoid.apply(x)
        return gx, gt, None, gpw, None


# -- normalisation -------------------------------------------------------------------------------
def _normalized(x: Tensor, axes, eps):
    """(x - mean) * rstd over ``axes``, and rstd, as differentiable ember tensors."""
    mu = x.mean(axes, keepdim=True)
    xc = x - mu
    rstd = ((xc * xc).mean(axes, keepdim=True) + eps).rsqrt()
    return xc * rstd, rstd


def _norm_backward(gxhat: Tensor, xhat: Tensor, rstd: Tensor, axes) -> Tensor:
    """dL/dx of xhat = (x - mean) rstd, given dL/dxhat."""
    return rstd * (gxhat - gxhat.mean(axes, keepdim=True) - xhat * (gxhat * xhat).mean(axes, keepdim=True))


def _stats(d, axes, eps):
    mu = d.mean(axis=axes, keepdims=True)
    xc = d - mu
    var = (xc * xc).mean(axis=axes, keepdims=True)
    return xc, _like(1.0 / np.sqrt(var + eps), d), var


class NativeLayerNorm(Op):
    """y = (x - mean) / sqrt(var + eps) * w + b over the last dims;  dx by the normalisation rule"""

    @staticmethod
    @opmath
    def forward(ctx, x, k, weight, bias, eps):
        ctx.save_for_backward(x, weight)
        d = x._data
        axes = tuple(range(d.ndim - k, d.ndim))
        ctx.axes, ctx.eps = axes, eps
        if d.size == 0:
            return d.copy()
        xc, rstd, _ = _stats(d, axes, eps)
        y = xc * rstd
        if weight is not None:
            y = y * weight._data
        if bias is not None:
            y = y + bias._data
        return y

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        xhat, rstd = _normalized(x, ctx.axes, ctx.eps)
        nig = ctx.needs_input_grad
        gx = _norm_backward(g * w if w is not None else g, xhat, rstd, ctx.axes) if nig[0] else None
        gw = g * xhat if nig[2] else None  # the engine sums over the leading dims
        gb = g if nig[3] else None
        return gx, None, gw, gb, None


class NativeGroupNorm(Op):
    """y = per-(sample, group) normalisation of (N, C, *), then per-channel w, b"""

    @staticmethod
    @opmath
    def forward(ctx, x, groups, weight, bias, eps):
        ctx.save_for_backward(x, weight)
        d = x._data
        n = d.shape[0]
        ctx.groups, ctx.eps = groups, eps
        if d.size == 0:
            return d.copy()
        xc, rstd, _ = _stats(d.reshape(n, groups, -1), (2,), eps)
        y = (xc * rstd).reshape(d.shape)
        if weight is not None:
            y = y * _channel_view(weight._data, d.ndim)
        if bias is not None:
            y = y + _channel_view(bias._data, d.ndim)
        return _like(y, d)

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        n, c = x.shape[0], x.shape[1]
        xg = x.reshape(n, ctx.groups, -1)
        xhat, rstd = _normalized(xg, (2,), ctx.eps)
        nig = ctx.needs_input_grad
        gx = gw = gb = None
        if nig[0]:
            gxhat = g * w.reshape(_channel_shape(c, x.ndim)) if w is not None else g
            gx = _norm_backward(gxhat.reshape(n, ctx.groups, -1), xhat, rstd, (2,)).reshape(x.shape)
        if nig[2]:
            gw = _sum_except_channel(g * xhat.reshape(x.shape), x.ndim)
        if nig[3]:
            gb = _sum_except_channel(g, x.ndim)
        return gx, None, gw, gb, None


class NativeBatchNorm(Op):
    """y = (x - mean) / sqrt(var + eps) * w + b per channel; batch stats in training (updating running
    stats in place), running stats in eval"""

    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, training, momentum, eps):
        ctx.save_for_backward(x, weight)
        d = x._data
        axes = (0, *range(2, d.ndim))
        ctx.axes, ctx.eps, ctx.training = axes, eps, training
        if training:
            xc, rstd, var = _stats(d, axes, eps)
            if running_mean is not None:
                # PyTorch updates the running stats from double-precision batch stats, var unbiased
                n = d.size // d.shape[1]
                wide = d.astype(np.float64)
                mean64 = wide.mean(axis=axes)
                var64 = ((wide - _channel_view(mean64, d.ndim)) ** 2).sum(axis=axes) / max(n - 1, 1)
                for buf, stat in ((running_mean, mean64), (running_var, var64)):
                    buf._data[...] = momentum * stat + (1 - momentum) * buf._data
                    buf._bump()
            y = xc * rstd
        else:
            rm = _channel_view(running_mean._data, d.ndim)
            rstd = _like(1.0 / np.sqrt(_channel_view(running_var._data, d.ndim) + eps), d)
            ctx.stats = (rm, rstd)
            y = (d - rm) * rstd
        if weight is not None:
            y = y * _channel_view(weight._data, d.ndim)
        if bias is not None:
            y = y + _channel_view(bias._data, d.ndim)
        return _like(y, d)

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        c, nd, axes = x.shape[1], x.ndim, ctx.axes
        if ctx.training:
            xhat, rstd = _normalized(x, axes, ctx.eps)
        else:
            rm, rstd_arr = ctx.stats
            rstd = _wrap(rstd_arr, x.dtype, x.device)
            xhat = (x - _wrap(rm.astype(x.dtype.np), x.dtype, x.device)) * rstd
        nig = ctx.needs_input_grad
        gx = gw = gb = None
        if nig[0]:
            gxhat = g * w.reshape(_channel_shape(c, nd)) if w is not None else g
            gx = _norm_backward(gxhat, xhat, rstd, axes) if ctx.training else gxhat * rstd
        if nig[1]:
            gw = _sum_except_channel(g * xhat, nd)
        if nig[2]:
            gb = _sum_except_channel(g, nd)
        return gx, gw, gb, None, None, None, None, None


# -- embedding and padding -----------------------------------------------------------------------
class Embedding(Op):
    """y = weight[indices];  dweight = g summed into the looked-up rows (padding_idx row stays 0)"""

    @staticmethod
    def forward(ctx, weight, indices, padding_idx, scale_grad_by_freq):
        idx = indices._data
        n = weight._data.shape[0]
        if idx.size and (idx.min() < 0 or idx.max() >= n):
            raise IndexError("index out of range in self")
        ctx.idx, ctx.shape = idx, weight._data.shape
        ctx.padding_idx, ctx.scale = padding_idx, scale_grad_by_freq
        return weight._data[idx]

    @staticmethod
    def backward(ctx, g):
        idx = ctx.idx.reshape(-1)
        rows = g.reshape(-1, ctx.shape[1])
        keep = np.ones(idx.shape, dtype=bool) if ctx.padding_idx is None else idx != ctx.padding_idx
        scale = keep.astype(np.float64)
        if ctx.scale:
            counts = np.bincount(idx, minlength=ctx.shape[0])
            scale = scale / counts[idx]
        if not keep.all() or ctx.scale:
            rows = rows * _wrap(scale.astype(g.dtype.np).reshape(-1, 1), g.dtype, g.device)
        return place(rows, ctx.shape, (idx,)), None, None, None


class ConstantPadNd(Op):
    """y = x padded with value (negative pads crop), pad given last dim first;  dx = g cropped back"""

    @staticmethod
    def forward(ctx, x, pad, value):
        ctx.pad = pad
        d = x._data
        nd = d.ndim
        width, crop = [(0, 0)] * nd, [slice(None)] * nd
        for i in range(len(pad) // 2):
            ax = nd - 1 - i
            lo, hi = pad[2 * i], pad[2 * i + 1]
            crop[ax] = slice(max(-lo, 0), d.shape[ax] - max(-hi, 0))
            width[ax] = (max(lo, 0), max(hi, 0))
        return np.pad(d[tuple(crop)], width, constant_values=value)

    @staticmethod
    def backward(ctx, g):
        return ConstantPadNd.apply(g, tuple(-p for p in ctx.pad), 0.0), None, None


# -- public functions (``torch.softmax``, ``Tensor.log_softmax``, ``torch.erf`` can alias these) -------------
def softmax(input: Tensor, dim: int, dtype=None) -> Tensor:
    """softmax along ``dim``, computed in ``dtype`` when given."""
    if dtype is not None:
        input = input.to(dtype)
    return Softmax.apply(input, _dim(dim, input.ndim))


def log_softmax(input: Tensor, dim: int, dtype=None) -> Tensor:
    """log(softmax) along ``dim``, computed stably in one step, in ``dtype`` when given."""
    if dtype is not None:
        input = input.to(dtype)
    return LogSoftmax.apply(input, _dim(dim, input.ndim))


def erf(input: Tensor) -> Tensor:
    """The error function, elementwise."""
    return Erf.apply(input)
