"""In-place ops: version counters, the leaf check, and rebasing a graph tensor onto its new history."""

from __future__ import annotations

import warnings

from ..autograd.grad_mode import STATE
from ..tensor import _ptr
from ._base import D, Op, Tensor, _wrap, arr, np
from .indexing import Take, place


def type_name(dt: D.dtype) -> str:
    return dt._legacy.removesuffix("Tensor")


def check_cast(result: D.dtype, target: D.dtype) -> None:
    if not D.can_cast(result, target):
        raise RuntimeError(
            f"result type {type_name(result)} can't be cast to the desired output type {type_name(target)}"
        )


def inplace(self: Tensor, graph_fn, others, raw) -> Tensor:
    """Change ``self`` in place.

    Without a graph to record, ``raw()`` writes the new values directly. With one, ``graph_fn(old)``
    computes the result out of place from a copy of the old values, the values are written back into
    ``self``'s storage (so views see them) and ``self`` takes the new node as its grad_fn. A view
    rebases its base instead (see ``_inplace_view``).
    """
    if STATE.enabled and (
        self._rg or self._nograd_view or any(isinstance(o, Tensor) and o._rg for o in others)
    ):
        if self.grad_fn is None and self._rg and self._base is None:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
        if self._base is not None:
            return _inplace_view(self, graph_fn)
        old = _wrap(self._data.copy(), self.dtype, self.device)
        old._rg, old.grad_fn, old._output_nr = self._rg, self.grad_fn, self._output_nr
        res = graph_fn(old)
        check_cast(res.dtype, self.dtype)
        _write(self, res._data)
        self._bump()
        self.grad_fn, self._output_nr, self._rg = res.grad_fn, res._output_nr, res._rg
        return self
    raw()
    self._bump()
    return self


# NOTE [ in-place on a view ]
# PyTorch's approach, in index form: the view's elements are positions ``pos`` in its base (found from
# the two arrays' strides, so any chain of views works). The op runs on ``old_base[pos]``; the base
# takes a CopySlices node (old base with ``pos`` replaced by the result) and the view's grad_fn is
# rebuilt from the new base. Other views of the base rebuild theirs when next used, on seeing the
# version counter moved (``_edges`` in autograd/function.py).


def _inplace_view(self: Tensor, graph_fn) -> Tensor:
    base = self._base
    if base._rg and base.grad_fn is None:
        raise RuntimeError(
            "a view of a leaf Variable that requires grad is being used in an in-place operation."
        )
    if self._nograd_view:
        raise RuntimeError(
            "A view was created in no_grad mode and is being modified inplace with grad mode enabled. Given "
            "that this use case is ambiguous and error-prone, it is forbidden. You can clarify your code by "
            "moving both the view and the inplace either both inside the no_grad block (if you don't want "
            "the inplace to be tracked) or both outside (if you want the inplace to be tracked)."
        )
    multi = self.__dict__.get("_multi_view")
    if multi is not None:
        raise RuntimeError(
            f"Output {self._output_nr} of {multi} is a view and is being modified inplace. This view is the "
            "output of a function that returns multiple views. Such functions do not allow the output views "
            "to be modified inplace. You should replace the inplace operation by an out-of-place one."
        )
    pos = _positions(base._data, self._data)
    # no copy: ViewOf gathers its values and CopySlices copies the base before anything is written
    old_base = _wrap(base._data, base.dtype, base.device)
    old_base._rg, old_base.grad_fn, old_base._output_nr = base._rg, base.grad_fn, base._output_nr
    res = graph_fn(ViewOf.apply(old_base, pos))
    check_cast(res.dtype, self.dtype)
    new_base = CopySlices.apply(old_base, pos, res)
    _write(self, res._data)
    self._bump()
    base.grad_fn, base._output_nr, base._rg = new_base.grad_fn, 0, True
    refresh_view(self)
    return self


def refresh_view(view: Tensor):
    """Give ``view`` a grad_fn that reads it out of its base's current history; returns it."""
    base = view._base
    view.__dict__["_vver"] = view._vc[0]
    if not base._rg:
        return view.grad_fn
    from ..autograd.grad_mode import enable_grad  # noqa: PLC0415

    with enable_grad():
        v = ViewOf.apply(base, _positions(base._data, view._data))
    view.grad_fn, view._output_nr, view._rg = v.grad_fn, 0, True
    return view.grad_fn


def _addresses(a, origin: int, item: int):
    """Each element's storage offset (in elements) from ``origin``, as an array of ``a``'s shape."""
    off = np.full(a.shape, (_ptr(a) - origin) // item, dtype=np.int64)
    for axis, (n, st) in enumerate(zip(a.shape, a.strides, strict=True)):
        shape = [1] * a.ndim
        shape[axis] = n
        off = off + (np.arange(n, dtype=np.int64) * (st // item)).reshape(shape)
    return off


def _positions(base, view):
    """For each element of ``view``, its flat (C-order) index in ``base``, which it shares storage with."""
    item = base.itemsize
    origin = _ptr(base)
    addr = _addresses(base, origin, item)
    lo = int(addr.min()) if addr.size else 0
    lut = np.full(int(addr.max()) - lo + 1 if addr.size else 1, -1, dtype=np.int64)
    lut[(addr - lo).reshape(-1)] = np.arange(base.size, dtype=np.int64)
    at = _addresses(view, origin, item) - lo
    inside = (at >= 0) & (at < lut.size)
    if inside.all():
        return lut[at]
    pos = np.full(at.shape, -1, dtype=np.int64)  # -1: memory outside base (as_strided can reach it)
    pos[inside] = lut[at[inside]]
    return pos


def as_strided(input: Tensor, size, stride, storage_offset: int | None = None) -> Tensor:
    """A view of ``input``'s storage with the given sizes, strides and offset (in elements)."""
    from .shape import as_view  # noqa: PLC0415

    size, stride = tuple(int(n) for n in size), tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise RuntimeError(f"mismatch in length of strides and shape: {len(stride)} vs {len(size)}")
    if any(s < 0 for s in stride):
        raise RuntimeError(
            f"as_strided: Negative strides are not supported at the moment, got strides: {list(stride)}"
        )
    offset = input.storage_offset() if storage_offset is None else int(storage_offset)
    root, item = input.untyped_storage(), input._data.itemsize
    need = 0 if 0 in size else offset + 1 + sum((n - 1) * s for n, s in zip(size, stride, strict=True))
    if need * item > root.nbytes or offset < 0:
        raise RuntimeError(
            f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset {offset}, and itemsize "
            f"{item} requiring a storage size of {need * item} are out of bounds for storage of size "
            f"{root.nbytes}"
        )
    return as_view(AsStrided.apply(input, size, stride, offset), input)


class AsStrided(Op):
    """y = a strided view of x's storage;  dx = g added into the elements of x each y element reads"""

    @staticmethod
    def forward(ctx, x, size, stride, offset):
        d, root = x._data, x.untyped_storage()
        if not root.flags.c_contiguous:
            raise RuntimeError("ember: as_strided needs its input's storage to be one contiguous block")
        item = d.itemsize
        out = np.ndarray(size, d.dtype, buffer=root, offset=offset * item, strides=[s * item for s in stride])
        ctx.x, ctx.out = d, out
        return out

    @staticmethod
    def backward(ctx, g):
        pos = _positions(ctx.x, ctx.out)
        if (pos < 0).any():
            raise RuntimeError("ember: as_strided backward reads memory outside its input's elements")
        return _scatter(g, pos, ctx.x.shape), None, None, None


class ViewOf(Take):
    """y = base.flatten()[pos], a view in index form: Take's gather and backward, under PyTorch's name"""

    _node_name = "AsStridedBackward0"


def _scatter(g: Tensor, pos, shape) -> Tensor:
    """zeros(shape) with g added at the flat positions ``pos`` (the gradient of a gather at pos)."""
    return place(g, (int(np.prod(shape)),), pos).reshape(shape)


class CopySlices(Op):
    """y = base with y.flatten()[pos] = src;  dbase = g with pos zeroed,  dsrc = g.flatten()[pos]"""

    _node_name = "CopySlices"

    @staticmethod
    def forward(ctx, base, pos, src):
        ctx.pos = pos
        out = base._data.copy()
        flat = out.reshape(-1)  # a view: ``out`` is a fresh C-contiguous copy
        flat[pos] = src._data
        return out

    @staticmethod
    def backward(ctx, g):
        e = ctx._edges
        picked = ViewOf.apply(g, ctx.pos)
        dbase = g - _scatter(picked, ctx.pos, g.shape) if e[0] is not None else None
        return dbase, None, picked


def _write(self, values) -> None:
    if np.ndim(values) > self._data.ndim:  # NumPy would drop leading size-1 dims; PyTorch refuses
        raise RuntimeError(_shape_message(self._data, np.shape(values)))
    try:
        np.copyto(self._data, values, casting="unsafe")
    except ValueError:
        raise RuntimeError(_shape_message(self._data, np.shape(values))) from None


def _shape_message(dest, shape) -> str:
    """PyTorch's message for an in-place write that cannot land in ``dest``."""
    if any(st == 0 and n > 1 for st, n in zip(dest.strides, dest.shape, strict=True)):
        return (
            "unsupported operation: more than one element of the written-to tensor refers to a single memory "
            "location. Please clone() the tensor before performing the operation."
        )
    a, b = tuple(dest.shape), tuple(shape)
    for i in range(1, max(len(a), len(b)) + 1):
        x, y = (a[-i] if i <= len(a) else 1), (b[-i] if i <= len(b) else 1)
        if x != y and 1 not in (x, y):
            dim = max(len(a), len(b)) - i
            return (
                f"The size of tensor a ({x}) must match the size of tensor b ({y}) at non-singleton "
                f"dimension {dim}"
            )
    return f"output with shape {list(a)} doesn't match the broadcast shape {list(np.broadcast_shapes(a, b))}"


def expand_message(target, shape) -> str:
    """PyTorch's message when a value of ``shape`` cannot be expanded to ``target`` (``x[i] = v``)."""
    target, shape = tuple(target), tuple(shape)
    lead = len(target) - len(shape)
    for i, n in enumerate(shape):
        t = target[i + lead] if i + lead >= 0 else None
        if n not in (1, t):
            return (
                f"The expanded size of the tensor ({t}) must match the existing size ({n}) at non-singleton "
                f"dimension {i + lead}.  Target sizes: {list(target)}.  Tensor sizes: {list(shape)}"
            )
    return (
        f"shape mismatch: value tensor of shape {list(shape)} cannot be broadcast to indexing result "
        f"of shape {list(target)}"
    )


def _dtype_of(x):
    return x.dtype if isinstance(x, Tensor) else None


def binary_(self: Tensor, other, ufunc, op, **kw) -> Tensor:
    """``self op= other`` with PyTorch's cast check, computed by ``ufunc`` into self's storage."""
    if isinstance(other, Tensor) and other.dtype is self.dtype and not kw and not STATE.enabled:
        # the optimizer-loop case (``p -= lr * p.grad`` under no_grad): same dtype, nothing to record
        try:
            try:
                ufunc(self._data, other._data, out=self._data)
            except ValueError:
                _write(self, ufunc(self._data, other._data))
        except TypeError:
            pass  # NumPy refuses (integer true division, bool subtraction): the checks below say why
        else:
            self._bump()
            return self
    rt = D.result_type(self, other)
    if ufunc is np.true_divide and not rt.is_floating_point:
        rt = D.get_default_dtype()  # true division's result is floating
    elif ufunc is np.subtract and (type(other) is bool or D.bool_ in (self.dtype, _dtype_of(other))):
        from .elementwise import _sub_check  # noqa: PLC0415

        _sub_check(self, other)
    check_cast(rt, self.dtype)
    if rt is not self.dtype and isinstance(other, Tensor) and not rt.is_floating_point:
        other_d = other._data.astype(rt.np)
    else:
        other_d = arr(other)

    def raw():
        if self.dtype is D.bfloat16:  # as torch: the scalar (and alpha) in float32, rounded once
            with _no_grad():
                _write(self, op(self, other, **kw)._data)
            return
        alpha = kw.get("alpha", 1)
        o = other_d if alpha == 1 else np.multiply(other_d, alpha)
        try:
            ufunc(self._data, o, out=self._data, casting="unsafe")
        except ValueError:
            _write(self, ufunc(self._data, o))

    return inplace(self, lambda old: op(old, other, **kw), (other,), raw)


def pow_(self: Tensor, exponent) -> Tensor:
    from . import elementwise as E  # noqa: PLC0415

    if self.dtype is D.bool_ and isinstance(exponent, Tensor) and exponent.dtype is D.bool_:
        E._not_for_bool("pow", D.bool_)
    return binary_(self, exponent, np.power, E.pow)


def unary_(self: Tensor, op, *args) -> Tensor:
    """``self = op(self, *args)`` in place (exp_, clamp_, relu_, ...)."""

    def raw():
        with _no_grad():
            res = op(self, *args)
        check_cast(res.dtype, self.dtype)  # ``int_tensor.sin_()``: a float result can't go back
        _write(self, res._data)

    return inplace(self, lambda old: op(old, *args), args, raw)


class _no_grad:
    def __enter__(self):
        self.prev = STATE.enabled
        STATE.enabled = False

    def __exit__(self, *exc):
        STATE.enabled = self.prev


class Copy(Op):
    """y = src broadcast to self's shape and cast to its dtype;  dself = 0,  dsrc = g (summed, cast back)"""

    _node_name = "CopyBackwards"

    @staticmethod
    def forward(ctx, old, src):
        from .._backend import to_device  # noqa: PLC0415

        out = np.empty_like(old._data)
        data = to_device(src._data, old.device) if src.device is not old.device else src._data
        np.copyto(out, data, casting="unsafe")
        return out

    @staticmethod
    def backward(ctx, g):
        return (g * 0 if ctx.needs_input_grad[0] else None), g


def copy_(self: Tensor, src, non_blocking: bool = False) -> Tensor:
    """Copy ``src`` into ``self`` (broadcast, cast to self's dtype); differentiable w.r.t. src."""
    if not isinstance(src, Tensor):
        src = _wrap(np.asarray(src, dtype=self.dtype.np), self.dtype, self.device)

    def graph(old):
        return Copy.apply(old, src)

    def raw():
        from .._backend import to_device  # noqa: PLC0415

        _write(self, to_device(src._data, self.device) if src.device is not self.device else src._data)

    return inplace(self, graph, (src,), raw)


def zero_(self: Tensor) -> Tensor:
    return fill_(self, 0)


def fill_(self: Tensor, value) -> Tensor:
    from .elementwise import mul  # noqa: PLC0415

    v = value.item() if isinstance(value, Tensor) and not value._rg else value

    def raw():
        self._data[...] = v

    if isinstance(v, Tensor):  # fill with a tensor that requires grad
        return inplace(self, lambda old: mul(old, 0) + v, (v,), raw)
    return inplace(self, lambda old: mul(old, 0) + v, (), raw)


def write_out(name: str, out: Tensor, fn, *args, _rule: str = "cast", **kwargs) -> Tensor:
    """``fn(*args, **kwargs)`` stored into ``out``, as PyTorch's ``out=`` variants: cast-checked, resized.

    ``_rule`` is how the op checks out's dtype in PyTorch: "cast" (the result must cast to it, as for
    elementwise ops), "cat" (the same, with cat's TypeError), "same" (matmul family) or "found" (clamp).
    """
    if STATE.enabled and any(_requires_grad(a) for a in (*args, *kwargs.values())):
        raise RuntimeError(
            f"{name}(): functions with out=... arguments don't support automatic differentiation, but one "
            "of the arguments requires grad."
        )
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
    res = fn(*args, **kwargs)
    _check_out_dtype(name, _rule, res.dtype, out.dtype)
    if out._data.shape != res._data.shape:
        if out._data.size:
            warnings.warn(
                "An output with one or more elements was resized since it had shape "
                f"{list(out._data.shape)}, which does not match the required output shape "
                f"{list(res._data.shape)}. This behavior is "
                "deprecated, and in a future PyTorch release outputs will not be resized unless they have "
                "zero elements. You can explicitly reuse an out tensor t by resizing it, inplace, to zero "
                "elements with t.resize_(0).",
                UserWarning,
                stacklevel=3,
            )
        out._data = np.empty_like(res._data, dtype=out.dtype.np)
    _write(out, res._data)
    out._bump()
    return out


def _check_out_dtype(name: str, rule: str, result: D.dtype, out: D.dtype) -> None:
    if rule == "cast" or (rule == "cat" and D.can_cast(result, out)):
        check_cast(result, out)
    elif rule == "cat":
        raise TypeError(f"torch.cat(): input types can't be cast to the desired output type {type_name(out)}")
    elif result is not out and rule == "same":
        from ..tensor import _CPP_NAMES  # noqa: PLC0415

        want, got = _CPP_NAMES[result.name], _CPP_NAMES[out.name]
        raise RuntimeError(f"Expected out tensor to have dtype {want}, but got {got} instead")
    elif result is not out:
        raise RuntimeError(f"Found dtype {type_name(out)} but expected {type_name(result)}")


def _requires_grad(a) -> bool:
    if isinstance(a, (list, tuple)):
        return any(_requires_grad(b) for b in a)
    return isinstance(a, Tensor) and a._rg
