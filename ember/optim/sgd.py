# ruff: noqa: PLR0917 - PyTorch's signatures take these arguments positionally
"""SGD: stochastic gradient descent, optionally with (Nesterov) momentum."""

from __future__ import annotations

from typing import Any

from .._backend import np
from ..tensor import Tensor, _wrap
from .optimizer import Optimizer, _arr, _scalar, fma

__all__ = ["SGD"]


class SGD(Optimizer):
    r"""Implements stochastic gradient descent (optionally with momentum).

    Args:
        params (iterable): iterable of parameters or dicts defining parameter groups
        lr (float, optional): learning rate (default: 1e-3)
        momentum (float, optional): momentum factor (default: 0)
        dampening (float, optional): dampening for momentum (default: 0)
        weight_decay (float, optional): weight decay (L2 penalty) (default: 0)
        nesterov (bool, optional): enables Nesterov momentum (default: False)
        maximize (bool, optional): maximize the objective instead of minimizing (default: False)

    Example::

        >>> optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        >>> optimizer.zero_grad()
        >>> loss_fn(model(input), target).backward()
        >>> optimizer.step()
    """

    _group_setdefaults = {
        "nesterov": False,
        "maximize": False,
        "foreach": None,
        "differentiable": False,
        "fused": False,
    }

    def __init__(
        self,
        params,
        lr: float | Tensor = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float | Tensor = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
            "foreach": foreach,
            "differentiable": differentiable,
            "fused": fused,
        }
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)

    def _state_for(self, p: Tensor, group: dict[str, Any]):
        # Plain SGD keeps no state at all (its state_dict's "state" stays empty, as in PyTorch).
        return self.state[p] if group["momentum"] != 0 else None

    def _options(self, group):
        return (
            _scalar(group["lr"]),
            _scalar(group["momentum"]),
            _scalar(group["dampening"]),
            _scalar(group["weight_decay"]),
            bool(group["nesterov"]),
            bool(group["maximize"]),
        )

    def _update(self, options, items) -> None:
        lr, momentum, dampening, weight_decay, nesterov, maximize = options
        for p, param, grad, state in items:
            g = np.negative(grad) if maximize else grad
            if weight_decay != 0:
                g = fma(weight_decay, param, g)
            if momentum != 0:
                buf_t = state.get("momentum_buffer")
                if buf_t is None:
                    buf = g.copy()
                    state["momentum_buffer"] = _wrap(buf.reshape(p._data.shape), p.dtype, p.device)
                else:
                    buf = _arr(buf_t)
                    np.multiply(buf, momentum, out=buf)
                    fma(1 - dampening, g, buf, out=buf)
                g = fma(momentum, buf, g) if nesterov else buf
            fma(-lr, g, param, out=param)
