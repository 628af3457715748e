"""In-place ops: version counters, the leaf check, and rebasing a graph tensor onto its new history."""

from __future__ import annotations

from ..autograd.grad_mode import STATE
from ._base import D, Tensor, _wrap, arr, np


def type_name(dt: D.dtype) -> str:
    return dt._legacy.removesuffix("Tensor")


def check_cast(result: D.dtype, target: D.dtype) -> None:
    if not D.can_cast(result, target):
        raise RuntimeError(f"result type {type_name(result)} can't be cast to the desired output type {type_name(target)}")


def inplace(self: Tensor, graph_fn, others, raw) -> Tensor:
    """Change ``self`` in place.

    Without a graph to record, ``raw()`` writes the new values directly. With one, ``graph_fn(old)``
    computes the result out of place from a copy of the old values, the values are written back into
    ``self``'s storage (so views see them) and ``self`` takes the new node as its grad_fn.
    """
    if STATE.enabled and (self._rg or any(isinstance(o, Tensor) and o._rg for o in others)):
        if self.grad_fn is None and self._rg:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
        base = self._base
        if base is not None and base._rg:
            if base.grad_fn is None:
                raise RuntimeError(
                    "a view of a leaf Variable that requires grad is being used in an in-place operation."
                )
            raise NotImplementedError(
                "ember does not yet support in-place operations on a view of a tensor that is part of an "
                "autograd graph; apply the operation out of place (y = op(y)) instead."
            )
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


def _write(self, values) -> None:
    try:
        np.copyto(self._data, values, casting="unsafe")
    except ValueError:
        raise RuntimeError(
            f"output with shape {list(self._data.shape)} doesn't match the broadcast shape "
            f"{list(np.broadcast_shapes(self._data.shape, np.shape(values)))}"
        ) from None


def binary_(self: Tensor, other, ufunc, op, **kw) -> Tensor:
    """``self op= other`` with PyTorch's cast check, computed by ``ufunc`` into self's storage."""
    if isinstance(other, Tensor) and other.dtype is self.dtype and not kw and not STATE.enabled:
        # the optimizer-loop case (``p -= lr * p.grad`` under no_grad): same dtype, nothing to record
        try:
            ufunc(self._data, other._data, out=self._data)
        except ValueError:
            _write(self, ufunc(self._data, other._data))
        self._bump()
        return self
    rt = D.result_type(self, other)
    check_cast(rt, self.dtype)
    if rt is not self.dtype and isinstance(other, Tensor) and not rt.is_floating_point:
        other_d = other._data.astype(rt.np)
    else:
        other_d = arr(other)

    def raw():
        alpha = kw.get("alpha", 1)
        o = other_d if alpha == 1 else np.multiply(other_d, alpha)
        try:
            ufunc(self._data, o, out=self._data, casting="unsafe")
        except ValueError:
            _write(self, ufunc(self._data, o))

    return inplace(self, lambda old: op(old, other, **kw), (other,), raw)


def unary_(self: Tensor, op, *args) -> Tensor:
    """``self = op(self, *args)`` in place (exp_, clamp_, relu_, ...)."""

    def raw():
        with _no_grad():
            _write(self, op(self, *args)._data)

    return inplace(self, lambda old: op(old, *args), args, raw)


class _no_grad:
    def __enter__(self):
        self.prev = STATE.enabled
        STATE.enabled = False

    def __exit__(self, *exc):
        STATE.enabled = self.prev


def copy_(self: Tensor, src, non_blocking: bool = False) -> Tensor:
    """Copy ``src`` into ``self`` (broadcast, cast to self's dtype); differentiable w.r.t. src."""
    from .elementwise import ToCopy  # noqa: PLC0415
    from .shape import expand  # noqa: PLC0415

    if not isinstance(src, Tensor):
        src = _wrap(np.asarray(src, dtype=self.dtype.np), self.dtype, self.device)

    def graph(old):
        s = src if src.dtype is self.dtype and src.device is self.device else ToCopy.apply(src, self.dtype, self.device)
        return expand(s, self.shape) + old.detach() * 0 if s.shape != self.shape else s + old.detach() * 0

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
