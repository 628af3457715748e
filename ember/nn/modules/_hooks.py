"""Module hooks: removable handles, the global forward hooks, running a forward with its hooks, and the
identity nodes that give a module its full backward hooks."""

from __future__ import annotations

import itertools
import warnings
import weakref
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from ...autograd import Function
from ...tensor import Tensor

__all__ = ["RemovableHandle", "register_module_forward_pre_hook", "register_module_forward_hook"]


class RemovableHandle:
    """A handle that removes a hook from the dict(s) it was registered in (usable as a ``with`` block)."""

    _next_id = itertools.count()

    def __init__(self, hooks_dict: dict, *, extra_dict: dict | list | None = None) -> None:
        self.hooks_dict_ref = weakref.ref(hooks_dict)
        self.id = next(RemovableHandle._next_id)
        extras = (
            extra_dict if isinstance(extra_dict, list) else ([extra_dict] if extra_dict is not None else [])
        )
        self.extra_dict_ref = tuple(weakref.ref(d) for d in extras)

    def remove(self) -> None:
        for ref in (self.hooks_dict_ref, *self.extra_dict_ref):
            d = ref()
            if d is not None and self.id in d:
                del d[self.id]

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


# hooks that run for every module's forward (torch.nn.modules.module.register_module_forward_*_hook)
global_forward_pre_hooks: dict = OrderedDict()
global_forward_hooks: dict = OrderedDict()
global_forward_hooks_always_called: dict = OrderedDict()


def register_module_forward_pre_hook(hook: Callable) -> RemovableHandle:
    """Register ``hook(module, args)`` to run before every module's forward."""
    handle = RemovableHandle(global_forward_pre_hooks)
    global_forward_pre_hooks[handle.id] = hook
    return handle


def register_module_forward_hook(hook: Callable, *, always_call: bool = False) -> RemovableHandle:
    """Register ``hook(module, args, output)`` to run after every module's forward."""
    handle = RemovableHandle(global_forward_hooks, extra_dict=global_forward_hooks_always_called)
    global_forward_hooks[handle.id] = hook
    if always_call:
        global_forward_hooks_always_called[handle.id] = True
    return handle


def call_with_hooks(module, args: tuple, kwargs: dict) -> Any:
    """Run ``module.forward`` wrapped in its (and the global) forward pre-hooks, hooks and backward hooks."""
    result = None
    called_always = set()
    try:
        for hook_id, hook in (*global_forward_pre_hooks.items(), *module._forward_pre_hooks.items()):
            if hook_id in module._forward_pre_hooks_with_kwargs:
                out = hook(module, args, kwargs)
                if out is not None:
                    if not (isinstance(out, tuple) and len(out) == 2):
                        raise RuntimeError(
                            "forward pre-hook must return None or a tuple of (new_args, new_kwargs), but "
                            f"got {out}."
                        )
                    args, kwargs = out
            else:
                out = hook(module, args)
                if out is not None:
                    args = out if isinstance(out, tuple) else (out,)
        bw = None
        if module._backward_hooks or module._backward_pre_hooks:
            bw = BackwardHook(module)
            args = bw.setup_input_hook(args)
        result = module.forward(*args, **kwargs)
        for hook_id, hook in (*global_forward_hooks.items(), *module._forward_hooks.items()):
            if (
                hook_id in module._forward_hooks_always_called
                or hook_id in global_forward_hooks_always_called
            ):
                called_always.add(hook_id)
            if hook_id in module._forward_hooks_with_kwargs:
                out = hook(module, args, kwargs, result)
            else:
                out = hook(module, args, result)
            if out is not None:
                result = out
        if bw is not None:
            result = bw.setup_output_hook(result)
        return result
    except Exception:
        # hooks registered with always_call=True still run when forward (or a hook) raised
        for hook_id, hook in (*global_forward_hooks.items(), *module._forward_hooks.items()):
            always = (
                hook_id in module._forward_hooks_always_called
                or hook_id in global_forward_hooks_always_called
            )
            if not always or hook_id in called_always:
                continue
            try:
                if hook_id in module._forward_hooks_with_kwargs:
                    out = hook(module, args, kwargs, result)
                else:
                    out = hook(module, args, result)
                if out is not None:
                    result = out
            except Exception as e:  # noqa: BLE001 - reported, then the original error is raised
                warnings.warn(
                    "module forward hook with ``always_call=True`` raised an exception that was silenced as "
                    f"another error was raised in forward: {e!s}",
                    stacklevel=2,
                )
        raise


# -- full backward hooks --------------------------------------------------------------------------
class _Identity(Function):
    """Pass tensors through unchanged; the node marks where a module's inputs/outputs enter the graph."""

    _node_name = "BackwardHookFunctionBackward"

    @staticmethod
    def forward(ctx, *tensors):
        return tensors

    @staticmethod
    def backward(ctx, *grads):
        return grads


class BackwardHook:
    """Wires a module's full backward (pre-)hooks: an identity node on the outputs captures
    ``grad_output``; one on the inputs captures ``grad_input`` and calls the hooks."""

    def __init__(self, module) -> None:
        self.module = module
        self.n_inputs = 0
        self.input_positions: list[int] = []
        self.grad_outputs = None

    def setup_input_hook(self, args: tuple) -> tuple:
        self.n_inputs = len(args)
        pos = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad]
        self.input_positions = pos
        if not pos:
            return args
        out = _Identity.apply(*(args[i] for i in pos))
        new = list(args)
        for i, t in zip(pos, out, strict=True):
            new[i] = t
        out[0].grad_fn.register_hook(self._on_inputs)
        return tuple(new)

    def _on_inputs(self, grad_inputs, _grad_outputs):
        full = [None] * self.n_inputs
        for i, g in zip(self.input_positions, grad_inputs, strict=False):
            full[i] = g
        res = self._run_hooks(tuple(full))
        if res is None:
            return None
        return tuple(res[i] for i in self.input_positions)

    def _run_hooks(self, grad_input: tuple):
        changed = None
        for hook in self.module._backward_hooks.values():
            out = hook(self.module, grad_input if changed is None else changed, self.grad_outputs)
            if out is not None:
                out = tuple(out) if isinstance(out, (tuple, list)) else (out,)
                if len(out) != len(grad_input):
                    raise RuntimeError(
                        f"Backward hook returned an invalid number of grad_input, got {len(out)}, but "
                        "expected "
                        f"{len(grad_input)}"
                    )
                changed = out
        return changed

    def setup_output_hook(self, result: Any) -> Any:
        single = isinstance(result, Tensor)
        outs = (result,) if single else result
        if not isinstance(outs, tuple):
            return result
        pos = [i for i, t in enumerate(outs) if isinstance(t, Tensor) and t.requires_grad]
        if not pos:
            return result
        wrapped = _Identity.apply(*(outs[i] for i in pos))
        new = list(outs)
        for i, t in zip(pos, wrapped, strict=True):
            new[i] = t
        n_out = len(outs)

        def on_outputs(grads):
            full = [None] * n_out
            for i, g in zip(pos, grads, strict=False):
                full[i] = g
            full = tuple(full)
            for hook in self.module._backward_pre_hooks.values():
                out = hook(self.module, full)
                if out is not None:
                    full = tuple(out) if isinstance(out, (tuple, list)) else (out,)
            self.grad_outputs = full
            if not self.input_positions:  # no input needs a gradient: the hooks run now
                self._run_hooks((None,) * self.n_inputs)
            return tuple(full[i] for i in pos)

        wrapped[0].grad_fn.register_prehook(on_outputs)
        return new[0] if single else tuple(new)
