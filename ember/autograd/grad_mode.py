"""Grad mode: a thread-local switch, used as context managers and decorators."""

from __future__ import annotations

import functools
import inspect
import threading

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled"]


class _State(threading.local):
    enabled = True
    inference = False


STATE = _State()


def is_grad_enabled() -> bool:
    return STATE.enabled


def is_inference_mode_enabled() -> bool:
    return STATE.inference


class _GradModeContext:
    """Base of the grad-mode managers: sets ``STATE.enabled`` on enter, restores it on exit."""

    _target = True

    def __enter__(self):
        self._prev = STATE.enabled
        STATE.enabled = self._target
        return self

    def __exit__(self, *exc) -> None:
        STATE.enabled = self._prev

    def __call__(self, func):
        """Use as a decorator (``@torch.no_grad()``), generators included."""
        if inspect.isgeneratorfunction(func):

            @functools.wraps(func)
            def gen_wrapper(*args, **kwargs):
                gen = func(*args, **kwargs)
                value = None
                while True:
                    with self.clone():
                        try:
                            item = gen.send(value)
                        except StopIteration as stop:
                            return stop.value
                    value = yield item

            return gen_wrapper

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.clone():
                return func(*args, **kwargs)

        return wrapper

    def clone(self):
        return self.__class__()


class no_grad(_GradModeContext):
    """Disable gradient tracking: results of ops inside do not require grad."""

    _target = False

    def __new__(cls, orig_func=None):
        # ``@torch.no_grad`` without parentheses is accepted too
        if orig_func is not None and callable(orig_func):
            return cls()(orig_func)
        return super().__new__(cls)

    def __init__(self, orig_func=None) -> None:
        pass


class enable_grad(_GradModeContext):
    """Enable gradient tracking inside a ``no_grad`` region."""

    _target = True

    def __new__(cls, orig_func=None):
        if orig_func is not None and callable(orig_func):
            return cls()(orig_func)
        return super().__new__(cls)

    def __init__(self, orig_func=None) -> None:
        pass


class set_grad_enabled(_GradModeContext):
    """Set grad mode to ``mode``; takes effect immediately, and as a context manager restores on exit."""

    def __init__(self, mode: bool) -> None:
        self._prev = STATE.enabled
        self._target = bool(mode)
        STATE.enabled = self._target

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        STATE.enabled = self._prev

    def __call__(self, func):
        """As a decorator (``@set_grad_enabled(False)``) the mode applies inside ``func`` only."""
        STATE.enabled = self._prev
        return super().__call__(func)

    def clone(self):
        return set_grad_enabled(self._target)


class inference_mode(_GradModeContext):
    """Like ``no_grad`` (ember keeps no separate inference tensors)."""

    def __new__(cls, mode=True):
        if callable(mode) and not isinstance(mode, bool):
            return cls()(mode)
        return super().__new__(cls)

    def __init__(self, mode: bool = True) -> None:
        self.mode = bool(mode)
        self._target = not self.mode

    def __enter__(self):
        self._prev_inf = STATE.inference
        STATE.inference = self.mode
        return super().__enter__()

    def __exit__(self, *exc) -> None:
        STATE.inference = self._prev_inf
        super().__exit__(*exc)

    def clone(self):
        return inference_mode(self.mode)
