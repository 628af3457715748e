"""Reverse-mode automatic differentiation: backward, grad, Function, grad modes, gradcheck."""

from __future__ import annotations

from .._backend import xp_for
from .engine import run_backward
from .function import Function, FunctionCtx, InplaceFunction, NestedIOFunction, once_differentiable
from .function import _wrap_ref as _wrap
from .grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import gradcheck, gradgradcheck
from .variable import Variable

__all__ = [
    "Function", "FunctionCtx", "InplaceFunction", "NestedIOFunction", "once_differentiable", "Variable",
    "backward", "grad", "no_grad", "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled",
    "gradcheck", "gradgradcheck",
]  # fmt: skip


def _tensors(x) -> list:
    from ..tensor import Tensor  # noqa: PLC0415

    if isinstance(x, Tensor):
        return [x]
    if x is None:
        return []
    return list(x)


def _root_grads(outputs, grad_outputs, create_graph):
    """The seed gradients: ones for scalar outputs, checked against each output's shape otherwise."""
    from ..creation import ones_like  # noqa: PLC0415

    if grad_outputs is None and len(outputs) == 1 and outputs[0]._data.size == 1:  # the usual loss.backward()
        o = outputs[0]
        return [_wrap(xp_for(o.device).ones(o._data.shape, o.dtype.np), o.dtype, o.device)]
    grads = _tensors(grad_outputs) if grad_outputs is not None else [None] * len(outputs)
    if len(grads) != len(outputs):
        raise RuntimeError("grad can be implicitly created only for scalar outputs")
    out = []
    for i, (o, g) in enumerate(zip(outputs, grads, strict=True)):
        if g is None:
            if o._rg and o._data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            g = ones_like(o)
        elif not hasattr(g, "_data"):
            from ..creation import full_like  # noqa: PLC0415

            g = full_like(o, g)
        elif g._data.shape != o._data.shape:
            raise RuntimeError(
                f"Mismatch in shape: grad_output[{i}] has a shape of {g.shape} and output[{i}] has a "
                f"shape of {o.shape}."
            )
        elif g.dtype is not o.dtype:  # cast to the output's dtype, as PyTorch's engine does
            g = g.to(o.dtype) if create_graph else g.detach().to(o.dtype)
        out.append(g)
    return out


def _check_roots(outputs) -> None:
    for i, o in enumerate(outputs):
        if not o._rg:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")


def backward(
    tensors, grad_tensors=None, retain_graph=None, create_graph=False, grad_variables=None, inputs=None
) -> None:
    """Accumulate the gradients of ``tensors`` into the ``.grad`` of the graph's leaves."""
    if grad_variables is not None:
        grad_tensors = grad_variables
    outputs = _tensors(tensors)
    _check_roots(outputs)
    grads = _root_grads(outputs, grad_tensors, create_graph)
    if retain_graph is None:
        retain_graph = create_graph
    ins = None
    if inputs is not None:
        ins = _tensors(inputs)
        if not ins:
            raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
    run_backward(outputs, grads, retain_graph, create_graph, inputs=ins, accumulate=True)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, only_inputs=True,
         allow_unused=None, is_grads_batched=False, materialize_grads=False):  # fmt: skip
    """The gradients of ``outputs`` with respect to ``inputs``, returned rather than accumulated."""
    outs = _tensors(outputs)
    ins = _tensors(inputs)
    if not ins:
        raise RuntimeError("`inputs` argument to `grad()` cannot be empty.")
    _check_roots(outs)
    for t in ins:
        if not t._rg:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    grads = _root_grads(outs, grad_outputs, create_graph)
    if retain_graph is None:
        retain_graph = create_graph
    if allow_unused is None:
        allow_unused = materialize_grads
    result = run_backward(outs, grads, retain_graph, create_graph, inputs=ins, accumulate=False)
    for i, r in enumerate(result):
        if r is None:
            if materialize_grads:
                from ..creation import zeros_like  # noqa: PLC0415

                result[i] = zeros_like(ins[i])
            elif not allow_unused:
                raise RuntimeError(
                    f"The differentiated Tensor at index {i} appears to not have been used in the graph. "
                    "Set allow_unused=True if this is the desired behavior."
                )
    return tuple(result)
