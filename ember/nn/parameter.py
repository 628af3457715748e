"""Parameter and Buffer: tensors that a Module registers when they are assigned as attributes."""

from __future__ import annotations

from .. import creation as C
from .._backend import to_host
from .._printing import parameter_repr
from ..dtypes import bfloat16, get_default_dtype
from ..tensor import Tensor

__all__ = ["Parameter", "Buffer", "is_lazy"]


def _share(cls, data: Tensor):
    """A new ``cls`` object over ``data``'s storage and version counter, outside any graph."""
    if data._vc is None:
        data._vc = [0]
    t = object.__new__(cls)
    t._data, t.dtype, t.device = data._data, data.dtype, data.device
    t._rg, t._grad, t.grad_fn, t._output_nr, t._vc = False, None, None, 0, data._vc
    return t


class Parameter(Tensor):
    """A Tensor that is a module parameter: assigning one to a Module attribute registers it.

    Args:
        data (Tensor): the parameter's values (shared, not copied). Default: an empty tensor.
        requires_grad (bool): whether the parameter requires gradient. ``no_grad`` does not change
            this default. Default: ``True``.

    Example::

        >>> w = nn.Parameter(torch.randn(3))
        >>> w.requires_grad
        True
    """

    def __new__(cls, data: Tensor | None = None, requires_grad: bool = True) -> Parameter:
        if data is None:
            data = C.empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter(): argument 'data' must be a Tensor, not {type(data).__name__}")
        if requires_grad and not data.dtype.is_floating_point:
            raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
        p = _share(cls, data)
        p._rg = bool(requires_grad)
        return p

    def __repr__(self) -> str:
        host = to_host(self._data)
        if self.dtype is bfloat16:
            host = host.astype("float32")
        return parameter_repr(
            host,
            self.dtype.name,
            requires_grad=self._rg,
            default_dtype_name=get_default_dtype().name,
            device=str(self.device),
        )

    __str__ = __repr__

    def __deepcopy__(self, memo):
        # as PyTorch: a fresh Parameter over cloned data; the .grad is not copied
        if id(self) in memo:
            return memo[id(self)]
        result = type(self)(self.data.clone(), self.requires_grad)
        memo[id(self)] = result
        return result

    def __reduce_ex__(self, proto):
        return (_rebuild_parameter, (self.data, self.requires_grad))


def _rebuild_parameter(data: Tensor, requires_grad: bool) -> Parameter:
    return Parameter(data, requires_grad)


class _BufferMeta(type(Tensor)):
    """``isinstance(t, Buffer)`` is true for tensors made by ``Buffer(...)`` (they stay plain Tensors)."""

    def __instancecheck__(cls, instance) -> bool:
        return isinstance(instance, Tensor) and instance.__dict__.get("_is_buffer", False)


class Buffer(metaclass=_BufferMeta):
    """Mark a tensor as a buffer: assigning it to a Module attribute registers it as one.

    Args:
        data (Tensor): the buffer's values (shared, not copied).
        persistent (bool): whether the buffer is part of the module's ``state_dict``. Default: ``True``.
    """

    def __new__(cls, data: Tensor | None = None, *, persistent: bool = True) -> Tensor:
        if data is None:
            data = C.empty(0)
        t = data.detach()
        t._rg = data._rg
        t.__dict__["persistent"] = persistent
        t.__dict__["_is_buffer"] = True
        return t


def is_lazy(param) -> bool:
    """Whether ``param`` is an uninitialized (lazy) parameter; ember has none."""
    return False
