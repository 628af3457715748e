"""Tensor methods and operators: one-line aliases of the ops, attached to the Tensor class."""

from __future__ import annotations

from . import _backend as B
from . import creation as C
from . import dtypes as D
from ._backend import np
from .ops import elementwise as E
from .ops import indexing as I
from .ops import inplace as P
from .ops import linalg as L
from .ops import reduction as R
from .ops import scatter as SC
from .ops import shape as S
from .ops import special as SP
from .tensor import Tensor, _wrap


def _to(self, *args, **kwargs):
    """Cast and/or move: ``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(other)``."""
    dtype = kwargs.get("dtype")
    device = kwargs.get("device")
    copy = kwargs.get("copy", False)
    for a in args:
        if isinstance(a, Tensor):
            dtype, device = a.dtype, a.device
        elif isinstance(a, D.dtype) or getattr(a, "_ember_dtype", None) is not None:
            dtype = a
        elif isinstance(a, (str, B.Device, int)) and not isinstance(a, bool):
            device = a
    dt = None if dtype is None else D.to_dtype(dtype)
    dev = None if device is None else B.canonical(device)
    if (dt is None or dt is self.dtype) and (dev is None or dev is self.device):
        return self.clone() if copy else self
    return E.ToCopy.apply(self, dt, dev)


def _cast(dt):
    def method(self, memory_format=None):
        return _to(self, dt)

    return method


def _new(fn):
    def method(self, *size, dtype=None, device=None, requires_grad=False, **kw):
        return fn(*size, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)

    return method


def _new_tensor(self, data, *, dtype=None, device=None, requires_grad=False):
    return C.tensor(
        data, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad
    )


def _new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False):
    return C.full(
        size, fill_value, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad
    )


def _reflect(fn):
    def method(self, other):
        return fn(other, self)

    return method


def _iop(ufunc, op):
    def method(self, other, **kw):
        return P.binary_(self, other, ufunc, op, **kw)

    return method


def _iunary(op):
    def method(self, *args, **kw):
        return P.unary_(self, lambda t, *a: op(t, *a, **kw), *args)

    return method


def _ishift(op):
    """``self <<= other``: shifted in the promoted dtype (``int8 <<= int64`` in int64), then cast back."""

    def method(self, other):
        P.check_cast(D.result_type(self, other), self.dtype)
        return P.unary_(self, op, other)

    return method


def _matmul(self, other):
    return L.matmul(self, other)


def _getitem(self, idx):
    return I.index(self, idx)


def _uniform_(self, a=0.0, b=1.0, *, generator=None):
    self._data[...] = C._gen(generator)._uniform(self.shape, self.dtype.np, a, b)
    self._bump()
    return self


def _normal_(self, mean=0.0, std=1.0, *, generator=None):
    self._data[...] = C._gen(generator)._normal(self.shape, self.dtype.np, mean, std)
    self._bump()
    return self


def _random_(self, from_=None, to=None, *, generator=None):
    if from_ is None and to is None:  # no bounds: [0, 2**mantissa] for floats, [0, max] for integers
        self._data[...] = C._gen(generator)._random_bits(self.shape, self.dtype.np)
        self._bump()
        return self
    if to is None:
        from_, to = 0, from_
    self._data[...] = C._gen(generator)._randint(from_, to, self.shape, self.dtype.np)
    self._bump()
    return self


def _bernoulli_(self, p=0.5, *, generator=None):
    self._data[...] = C._gen(generator)._bernoulli(
        p._data if isinstance(p, Tensor) else p, self.shape, self.dtype.np
    )
    self._bump()
    return self


def _exponential_(self, lambd=1.0, *, generator=None):
    self._data[...] = C._gen(generator)._exponential(self.shape, self.dtype.np, lambd)
    self._bump()
    return self


def _masked_fill_(self, mask, value):
    return P.unary_(self, E.masked_fill, mask, value)


def _apply_methods() -> None:
    T = Tensor
    f = E
    m = {
        # arithmetic and operators
        "add": f.add,
        "sub": f.sub,
        "subtract": f.sub,
        "mul": f.mul,
        "multiply": f.mul,
        "div": f.div,
        "divide": f.div,
        "true_divide": f.div,
        "floor_divide": f.floor_divide,
        "remainder": f.remainder,
        "fmod": f.fmod,
        "neg": f.neg,
        "negative": f.neg,
        "pow": f.pow,
        "__add__": f.add,
        "__radd__": f.add,
        "__sub__": f.sub,
        "__rsub__": _reflect(f.sub),
        "__mul__": f.mul,
        "__rmul__": f.mul,
        "__truediv__": f.div,
        "__rtruediv__": _reflect(f.div),
        "__floordiv__": f.floor_divide,
        "__rfloordiv__": _reflect(f.floor_divide),
        "__mod__": f.remainder,
        "__rmod__": _reflect(f.remainder),
        "__pow__": f.pow,
        "__rpow__": _reflect(f.pow),
        "__neg__": f.neg,
        "__pos__": lambda s: s,
        "__abs__": f.abs,
        "__matmul__": _matmul,
        "__rmatmul__": _reflect(L.matmul),
        "__and__": f.bitwise_and,
        "__or__": f.bitwise_or,
        "__xor__": f.bitwise_xor,
        "__invert__": f.bitwise_not,
        "__rand__": f.bitwise_and,
        "__ror__": f.bitwise_or,
        "__rxor__": f.bitwise_xor,
        "__lshift__": f.bitwise_left_shift,
        "__rshift__": f.bitwise_right_shift,
        "__rlshift__": _reflect(f.bitwise_left_shift),
        "__rrshift__": _reflect(f.bitwise_right_shift),
        "__eq__": f.eq,
        "__ne__": f.ne,
        "__lt__": f.lt,
        "__le__": f.le,
        "__gt__": f.gt,
        "__ge__": f.ge,
        "eq": f.eq,
        "ne": f.ne,
        "lt": f.lt,
        "le": f.le,
        "gt": f.gt,
        "ge": f.ge,
        "greater": f.gt,
        "less": f.lt,
        "greater_equal": f.ge,
        "less_equal": f.le,
        "not_equal": f.ne,
        "logical_and": f.logical_and,
        "logical_or": f.logical_or,
        "logical_xor": f.logical_xor,
        "logical_not": f.logical_not,
        "bitwise_and": f.bitwise_and,
        "bitwise_or": f.bitwise_or,
        "bitwise_xor": f.bitwise_xor,
        "bitwise_not": f.bitwise_not,
        "bitwise_left_shift": f.bitwise_left_shift,
        "bitwise_right_shift": f.bitwise_right_shift,
        # unary math
        "exp": f.exp,
        "log": f.log,
        "log2": f.log2,
        "log10": f.log10,
        "log1p": f.log1p,
        "expm1": f.expm1,
        "exp2": f.exp2,
        "sin": f.sin,
        "cos": f.cos,
        "tan": f.tan,
        "tanh": f.tanh,
        "sigmoid": f.sigmoid,
        "sinh": f.sinh,
        "cosh": f.cosh,
        "asin": f.asin,
        "acos": f.acos,
        "atan": f.atan,
        "arcsin": f.asin,
        "arccos": f.acos,
        "arctan": f.atan,
        "asinh": f.asinh,
        "acosh": f.acosh,
        "atanh": f.atanh,
        "arcsinh": f.asinh,
        "arccosh": f.acosh,
        "arctanh": f.atanh,
        "sqrt": f.sqrt,
        "rsqrt": f.rsqrt,
        "reciprocal": f.reciprocal,
        "abs": f.abs,
        "absolute": f.abs,
        "relu": f.relu,
        "sign": f.sign,
        "sgn": f.sign,
        "floor": f.floor,
        "ceil": f.ceil,
        "trunc": f.trunc,
        "fix": f.trunc,
        "round": f.round,
        "frac": f.frac,
        "square": f.square,
        "clamp": f.clamp,
        "clip": f.clamp,
        "maximum": f.maximum,
        "minimum": f.minimum,
        "where": lambda s, c, o: f.where(c, s, o),
        "clamp_min": f.clamp_min,
        "clamp_max": f.clamp_max,
        "masked_fill": f.masked_fill,
        "isnan": f.isnan,
        "isinf": f.isinf,
        "isfinite": f.isfinite,
        # reductions
        "sum": R.sum,
        "nansum": R.nansum,
        "mean": R.mean,
        "nanmean": R.nanmean,
        "prod": R.prod,
        "max": R.max,
        "min": R.min,
        "amax": R.amax,
        "amin": R.amin,
        "argmax": R.argmax,
        "argmin": R.argmin,
        "var": R.var,
        "std": R.std,
        "logsumexp": R.logsumexp,
        "cumsum": R.cumsum,
        "cumprod": R.cumprod,
        "all": R.all,
        "any": R.any,
        "count_nonzero": R.count_nonzero,
        "norm": R.norm,
        # shape
        "view": S.view,
        "reshape": S.reshape,
        "view_as": lambda s, o: S.view(s, o.shape),
        "reshape_as": lambda s, o: S.reshape(s, o.shape),
        "unsqueeze": S.unsqueeze,
        "squeeze": S.squeeze,
        "permute": S.permute,
        "transpose": S.transpose,
        "swapaxes": S.transpose,
        "swapdims": S.transpose,
        "t": S.t,
        "expand": S.expand,
        "expand_as": S.expand_as,
        "broadcast_to": S.broadcast_to,
        "sum_to_size": S.sum_to_size,
        "flatten": S.flatten,
        "unflatten": S.unflatten,
        "ravel": S.ravel,
        "clone": S.clone,
        "contiguous": S.contiguous,
        "narrow": S.narrow,
        "as_strided": P.as_strided,
        "split": S.split,
        "chunk": S.chunk,
        "tensor_split": S.tensor_split,
        "select": S.select,
        "unbind": S.unbind,
        "flip": S.flip,
        "fliplr": S.fliplr,
        "flipud": S.flipud,
        "movedim": S.movedim,
        "moveaxis": S.movedim,
        "repeat": S.repeat,
        "tile": S.tile,
        "roll": S.roll,
        "diagonal": S.diagonal,
        # indexing
        "__getitem__": _getitem,
        "__setitem__": I.setitem,
        "index_select": I.index_select,
        "gather": I.gather,
        "scatter": I.scatter,
        "scatter_add": I.scatter_add,
        "masked_select": I.masked_select,
        "take": I.take,
        "take_along_dim": I.take_along_dim,
        "nonzero": I.nonzero,
        "argwhere": I.argwhere,
        "index_put": I.index_put,
        "index_fill": I.index_fill,
        "scatter_reduce": SC.scatter_reduce,
        "masked_scatter": SC.masked_scatter,
        # linear algebra
        "mm": L.mm,
        "mv": L.mv,
        "dot": L.dot,
        "bmm": L.bmm,
        "matmul": L.matmul,
        "outer": L.outer,
        "addmm": L.addmm,
        # conversion and creation
        "to": _to,
        "float": _cast(D.float32),
        "double": _cast(D.float64),
        "half": _cast(D.float16),
        "bfloat16": _cast(D.bfloat16),
        "long": _cast(D.int64),
        "int": _cast(D.int32),
        "short": _cast(D.int16),
        "char": _cast(D.int8),
        "byte": _cast(D.uint8),
        "bool": _cast(D.bool_),
        "type_as": lambda s, o: _to(s, o.dtype),
        "new_zeros": _new(C.zeros),
        "new_ones": _new(C.ones),
        "new_empty": _new(C.empty),
        "new_tensor": _new_tensor,
        "new_full": _new_full,
        # in place
        "add_": _iop(np.add, f.add),
        "sub_": _iop(np.subtract, f.sub),
        "mul_": _iop(np.multiply, f.mul),
        "div_": _iop(np.true_divide, f.div),
        "pow_": P.pow_,
        "__iadd__": _iop(np.add, f.add),
        "__isub__": _iop(np.subtract, f.sub),
        "__imul__": _iop(np.multiply, f.mul),
        "__itruediv__": _iop(np.true_divide, f.div),
        "__ipow__": P.pow_,
        "__imatmul__": lambda s, o: s.copy_(L.matmul(s, o)),
        "subtract_": _iop(np.subtract, f.sub),
        "multiply_": _iop(np.multiply, f.mul),
        "__iand__": _iop(np.bitwise_and, f.bitwise_and),
        "__ior__": _iop(np.bitwise_or, f.bitwise_or),
        "__ixor__": _iop(np.bitwise_xor, f.bitwise_xor),
        "__ilshift__": _ishift(f.bitwise_left_shift),
        "__irshift__": _ishift(f.bitwise_right_shift),
        "bitwise_left_shift_": _ishift(f.bitwise_left_shift),
        "bitwise_right_shift_": _ishift(f.bitwise_right_shift),
        "exp_": _iunary(f.exp),
        "log_": _iunary(f.log),
        "sqrt_": _iunary(f.sqrt),
        "abs_": _iunary(f.abs),
        "neg_": _iunary(f.neg),
        "sigmoid_": _iunary(f.sigmoid),
        "tanh_": _iunary(f.tanh),
        "relu_": _iunary(f.relu),
        "clamp_": _iunary(f.clamp),
        "clip_": _iunary(f.clamp),
        "floor_": _iunary(f.floor),
        "ceil_": _iunary(f.ceil),
        "clamp_min_": _iunary(f.clamp_min),
        "clamp_max_": _iunary(f.clamp_max),
        "round_": _iunary(f.round),
        "trunc_": _iunary(f.trunc),
        "sin_": _iunary(f.sin),
        "cos_": _iunary(f.cos),
        "reciprocal_": _iunary(f.reciprocal),
        "sign_": _iunary(f.sign),
        "square_": _iunary(f.square),
        "asinh_": _iunary(f.asinh),
        "acosh_": _iunary(f.acosh),
        "atanh_": _iunary(f.atanh),
        "arcsinh_": _iunary(f.asinh),
        "arccosh_": _iunary(f.acosh),
        "arctanh_": _iunary(f.atanh),
        "t_": lambda s: _shape_(s, S.t),
        "transpose_": lambda s, a, b: _shape_(s, S.transpose, a, b),
        "unsqueeze_": lambda s, d: _shape_(s, S.unsqueeze, d),
        "squeeze_": lambda s, d=None: _shape_(s, S.squeeze, d),
        "masked_fill_": _masked_fill_,
        "copy_": P.copy_,
        "zero_": P.zero_,
        "fill_": P.fill_,
        "uniform_": _uniform_,
        "normal_": _normal_,
        "random_": _random_,
        "bernoulli_": _bernoulli_,
        "exponential_": _exponential_,
        "bernoulli": lambda s, p=None, *, generator=None: C.bernoulli(s, p, generator=generator),
        "index_put_": lambda s, i, v, accumulate=False: _assign(s, I.index_put(s, i, v, accumulate)),
        "scatter_": lambda s, d, i, src=None, value=None, reduce=None: _assign(
            s, I.scatter(s, d, i, src, value=value, reduce=reduce)
        ),
        "scatter_add_": lambda s, d, i, src: _assign(s, I.scatter_add(s, d, i, src)),
        "index_fill_": lambda s, d, i, v: _assign(s, I.index_fill(s, d, i, v)),
        "scatter_reduce_": SC.scatter_reduce_,
        "masked_scatter_": SC.masked_scatter_,
    }
    from .ops import decomp as DC  # noqa: PLC0415
    from .ops import nn_ops as N  # noqa: PLC0415 - imports this module's siblings
    from .ops import sorting as O  # noqa: PLC0415

    m.update({"softmax": N.softmax, "log_softmax": N.log_softmax, "erf": N.erf})
    m.update(
        {
            "tril": S.tril,
            "triu": S.triu,
            "tril_": lambda s, k=0: _assign(s, S.tril(s, k)),
            "triu_": lambda s, k=0: _assign(s, S.triu(s, k)),
            "trace": R.trace,
            "diag": S.diag,
            "diag_embed": S.diag_embed,
            "lerp": SP.lerp,
            "lerp_": lambda s, e, w: _assign(s, SP.lerp(s, e, w)),
            "index_add": I.index_add,
            "index_add_": lambda s, d, i, src, alpha=1: _assign(s, I.index_add(s, d, i, src, alpha=alpha)),
            "index_copy": I.index_copy,
            "index_copy_": lambda s, d, i, src: _assign(s, I.index_copy(s, d, i, src)),
            "repeat_interleave": S.repeat_interleave,
            "atan2": SP.atan2,
            "arctan2": SP.atan2,
            "hypot": SP.hypot,
            "xlogy": SP.xlogy,
            "logaddexp": SP.logaddexp,
            "copysign": SP.copysign,
            "nan_to_num": SP.nan_to_num,
            "nan_to_num_": _iunary(SP.nan_to_num),
            "erfc": SP.erfc,
            "erfinv": SP.erfinv,
            "lgamma": SP.lgamma,
            "digamma": SP.digamma,
            "polygamma": lambda s, n: SP.polygamma(n, s),
            "sort": O.sort,
            "argsort": O.argsort,
            "msort": O.msort,
            "topk": O.topk,
            "kthvalue": O.kthvalue,
            "median": O.median,
            "mode": O.mode,
            "cummax": O.cummax,
            "cummin": O.cummin,
            "quantile": O.quantile,
            "unique": O.unique,
            "cross": L.cross,
            "kron": L.kron,
            "rot90": S.rot90,
            "inverse": DC.inverse,
            "det": DC.det,
            "logdet": DC.logdet,
            "slogdet": DC.slogdet,
        }
    )
    for name, fn in m.items():
        setattr(T, name, fn)
    T.T = property(lambda s: S.permute(s, *reversed(range(s.ndim))))
    T.mT = property(lambda s: S.transpose(s, -2, -1))
    T.H = T.T
    T.mH = T.mT
    T.__rdiv__ = T.__rtruediv__
    T.__div__ = T.__truediv__
    T.__idiv__ = T.__itruediv__


def _assign(self, result):
    """Write an out-of-place result back into ``self`` (used by the index/scatter ``_`` variants)."""
    return P.inplace(self, lambda old: result, (result,), lambda: P._write(self, result._data))


def _shape_(self, fn, *args):
    """In-place shape change (t_, unsqueeze_): self takes the new shape and history."""
    res = fn(self, *args)
    self._data = res._data
    if res.grad_fn is not None:
        self.grad_fn, self._output_nr = res.grad_fn, res._output_nr
    return self


_apply_methods()
_ = _wrap
