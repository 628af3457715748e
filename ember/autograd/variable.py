"""``Variable``: since PyTorch 0.4 a Variable is simply a Tensor; kept so old code imports it."""

from __future__ import annotations


class _VariableMeta(type):
    def __instancecheck__(cls, obj):
        from ..tensor import Tensor  # noqa: PLC0415

        return isinstance(obj, Tensor)


class Variable(metaclass=_VariableMeta):
    """``Variable(tensor, requires_grad=False)`` returns a tensor, as current PyTorch does."""

    _legacy = False  # set by ember.compat.legacy()

    def __new__(cls, data=None, requires_grad: bool = False, volatile: bool = False):
        from ..tensor import Tensor  # noqa: PLC0415

        if data is None:
            from ..creation import tensor  # noqa: PLC0415

            data = tensor([])
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        if volatile and cls._legacy:
            from ..compat import warn_once  # noqa: PLC0415

            warn_once("volatile", "Variable(volatile=True): wrap the code in `with torch.no_grad():` instead")
            out = data.detach()
            out.__dict__["_volatile"] = True
            return out
        if volatile:
            import warnings  # noqa: PLC0415

            warnings.warn(
                "volatile was removed and now has no effect. Use `with torch.no_grad():` instead.",
                UserWarning,
                stacklevel=2,
            )
        out = data.detach()
        out.requires_grad = requires_grad
        return out
