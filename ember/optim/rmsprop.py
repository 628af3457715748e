# ruff: noqa: PLR0917 - PyTorch's signatures take these arguments positionally
"""RMSprop: divide the gradient by a running root-mean-square of recent gradients (Hinton)."""

from __future__ import annotations

from .._backend import np
from ..tensor import Tensor
from .optimizer import Optimizer, _arr, _scalar, _scalar_tensor, _zeros_like, addcdiv_, addcmul_, fma, lerp_

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    r"""Implements the RMSprop algorithm.

    Args:
        params (iterable): iterable of parameters or dicts defining parameter groups
        lr (float, optional): learning rate (default: 1e-2)
        alpha (float, optional): smoothing constant (default: 0.99)
        eps (float, optional): term added to the denominator for numerical stability (default: 1e-8)
        weight_decay (float, optional): weight decay (L2 penalty) (default: 0)
        momentum (float, optional): momentum factor (default: 0)
        centered (bool, optional): normalize by an estimate of the gradient's variance (default: False)
        maximize (bool, optional): maximize the objective instead of minimizing (default: False)

    Example::

        >>> optimizer = torch.optim.RMSprop(model.parameters(), lr=1e-2, momentum=0.9)
    """

    _group_setdefaults = {
        "momentum": 0,
        "centered": False,
        "foreach": None,
        "maximize": False,
        "differentiable": False,
        "capturable": False,
    }

    def __init__(
        self,
        params,
        lr: float | Tensor = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "alpha": alpha,
            "eps": eps,
            "centered": centered,
            "weight_decay": weight_decay,
            "capturable": capturable,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
        }
        super().__init__(params, defaults)

    def _init_state(self, p, state, group) -> None:
        state["step"] = _scalar_tensor(0.0)
        state["square_avg"] = _zeros_like(p)
        if group["momentum"] > 0:
            state["momentum_buffer"] = _zeros_like(p)
        if group["centered"]:
            state["grad_avg"] = _zeros_like(p)

    def _options(self, group):
        return (
            _scalar(group["lr"]),
            _scalar(group["alpha"]),
            _scalar(group["eps"]),
            _scalar(group["weight_decay"]),
            _scalar(group["momentum"]),
            bool(group["centered"]),
            bool(group["maximize"]),
        )

    def _update(self, options, items) -> None:
        lr, alpha, eps, weight_decay, momentum, centered, maximize = options
        for _, param, grad, state in items:
            square_avg = _arr(state["square_avg"])
            state["step"]._data += 1
            g = np.negative(grad) if maximize else grad
            if weight_decay != 0:
                g = fma(weight_decay, param, g)

            np.multiply(square_avg, alpha, out=square_avg)
            addcmul_(square_avg, g, g, 1 - alpha)
            if centered:
                grad_avg = _arr(state["grad_avg"])
                lerp_(grad_avg, g, 1 - alpha)
                avg = square_avg.copy()
                addcmul_(avg, grad_avg, grad_avg, -1)
                np.sqrt(avg, out=avg)
            else:
                avg = np.sqrt(square_avg)
            np.add(avg, eps, out=avg)

            if momentum > 0:
                buf = _arr(state["momentum_buffer"])
                np.multiply(buf, momentum, out=buf)
                addcdiv_(buf, g, avg, 1)
                fma(-lr, buf, param, out=param)
            else:
                addcdiv_(param, g, avg, -lr)
