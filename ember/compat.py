"""Legacy mode: run 2017-era PyTorch code (0.3 idioms) as it was written.

By default ember behaves like PyTorch 2.13, raising its errors for these idioms with one extra
line pointing here. ``ember.compat.legacy()`` (or ``python -m ember run --legacy``) switches on:

- ``loss.data[0]`` / ``loss[0]`` on a one-element result;
- non-static ``autograd.Function`` subclasses, called as ``MyReLU()(x)``;
- ``Variable(t, volatile=True)``: what it produces records no graph.

Each idiom warns once (a ``LegacyWarning``, a DeprecationWarning) naming the line and the modern
form. The legacy paths are only reached from code that would otherwise raise, or are installed by
``legacy()``, so the default mode pays nothing for them.
"""

from __future__ import annotations

import os
import sys
import warnings

__all__ = ["legacy", "is_legacy", "LegacyWarning", "HINT"]

HINT = (
    "\n(ember) This looks like legacy (PyTorch 0.3-era) code: `python -m ember run --legacy SCRIPT`, or "
    "`ember.compat.legacy()` at the top of the script, runs it as it was written."
)


class LegacyWarning(DeprecationWarning):
    """A legacy idiom ran in legacy mode; the message names the modern form."""


class _State:
    on = False
    warned: set[str] = set()


def is_legacy() -> bool:
    return _State.on


def legacy(enable: bool = True) -> None:
    """Switch legacy mode on (or off with ``legacy(False)``) for this process."""
    from .autograd import function, variable

    _State.on = bool(enable)
    if enable:
        warnings.simplefilter("default", LegacyWarning)
        if not hasattr(function.Function, "_modern_apply"):
            function.Function._modern_apply = function.Function.__dict__["apply"]
            function.Function.apply = classmethod(_volatile_aware_apply)
        variable.Variable._legacy = True
    else:
        modern = function.Function.__dict__.get("_modern_apply")
        if modern is not None:
            function.Function.apply = modern
            del function.Function._modern_apply
        variable.Variable._legacy = False


_PKG = os.path.dirname(os.path.abspath(__file__))


def warn_once(idiom: str, message: str) -> None:
    """One LegacyWarning per idiom per process, attributed to the user's line (first frame outside ember)."""
    if idiom in _State.warned:
        return
    _State.warned.add(idiom)
    frame = sys._getframe(1)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PKG):
        frame = frame.f_back
    if frame is None:
        warnings.warn(message, LegacyWarning, stacklevel=2)
    else:
        warnings.warn_explicit(
            message, LegacyWarning, frame.f_code.co_filename, frame.f_lineno, module="__main__"
        )


# -- loss.data[0] -----------------------------------------------------------------------------------
ZERO_DIM_INDEX = (
    "invalid index of a 0-dim tensor. Use `tensor.item()` in Python or `tensor.item<T>()` in C++ to convert "
    "a 0-dim tensor to a number"
)


def index_zero_dim(t, i):
    """``t[i]`` on a 0-dim tensor: PyTorch's IndexError, or in legacy mode the 0.3 behaviour."""
    if not _State.on or i not in (0, -1):
        raise IndexError(ZERO_DIM_INDEX + (HINT if i in (0, -1) else ""))
    if t.requires_grad:
        warn_once(
            "index", "loss[0] on a 0-dim result: use the tensor itself (reductions return 0-dim tensors)"
        )
        return t
    warn_once("data[0]", "loss.data[0]: use loss.item() to get the Python number")
    return t.item()


# -- non-static Functions: MyReLU()(x) ----------------------------------------------------------------
LEGACY_FUNCTION = (
    "Legacy autograd function with non-static forward method is deprecated. Please use new-style autograd "
    "function with static forward method. (Example: https://pytorch.org/docs/stable/autograd.html#torch.autograd.Function)"
)

_translated: dict[type, type] = {}


def call_legacy_function(instance, args):
    """Run an old-style Function instance through the one modern mechanism.

    A modern Function subclass (cached per legacy class) forwards to the instance's methods; the
    instance reaches the call's ctx through ``instance._ctx`` for save_for_backward/saved_tensors.
    """
    if not _State.on:
        raise RuntimeError(LEGACY_FUNCTION + HINT)
    cls = type(instance)
    warn_once(
        "function",
        f"{cls.__name__}()(x): non-static autograd.Function; write @staticmethod forward(ctx, ...) / "
        f"backward(ctx, ...) and call {cls.__name__}.apply(x)",
    )
    modern = _translated.get(cls)
    if modern is None:
        from .autograd.function import Function

        def forward(ctx, holder, *xs):
            inst = ctx._legacy_instance = holder.instance
            inst._ctx = ctx
            return cls.forward(inst, *xs)

        def backward(ctx, *grads):
            inst = ctx._legacy_instance
            inst._ctx = ctx
            out = cls.backward(inst, *grads)
            return (None, *(out if isinstance(out, tuple) else (out,)))

        modern = type(
            cls.__name__, (Function,), {"forward": staticmethod(forward), "backward": staticmethod(backward)}
        )
        _translated[cls] = modern
    return modern.apply(_InstanceArg(instance), *args)


class _InstanceArg:
    """Carries the legacy instance through apply (a non-tensor argument, so it gets no gradient)."""

    __slots__ = ("instance",)

    def __init__(self, instance):
        self.instance = instance


# -- Variable(volatile=True) ------------------------------------------------------------------------
def _volatile_aware_apply(cls, *args, **kwargs):
    """In legacy mode: an op with a volatile input records no graph and yields a volatile result."""
    from .autograd.grad_mode import no_grad

    if any(getattr(a, "_volatile", False) for a in args):
        with no_grad():
            out = cls._modern_apply.__func__(cls, *args, **kwargs)
        for o in out if isinstance(out, tuple) else (out,):
            if hasattr(o, "_data"):
                o.__dict__["_volatile"] = True
        return out
    return cls._modern_apply.__func__(cls, *args, **kwargs)
