# ruff: noqa: PLR0917 - PyTorch's signatures take these arguments positionally
"""Adadelta: learning rates from running averages of squared gradients and updates (Zeiler, 2012)."""

from __future__ import annotations

from .._backend import np
from ..tensor import Tensor
from .optimizer import Optimizer, _arr, _scalar, _scalar_tensor, _zeros_like, addcmul_, fma

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    r"""Implements the Adadelta algorithm.

    Args:
        params (iterable): iterable of parameters or dicts defining parameter groups
        lr (float, optional): coefficient that scales delta before it is applied (default: 1.0)
        rho (float, optional): coefficient for the running average of squared gradients (default: 0.9)
        eps (float, optional): term added to the denominator for numerical stability (default: 1e-6)
        weight_decay (float, optional): weight decay (L2 penalty) (default: 0)
        maximize (bool, optional): maximize the objective instead of minimizing (default: False)

    Example::

        >>> optimizer = torch.optim.Adadelta(model.parameters())
    """

    _group_setdefaults = {"foreach": None, "maximize": False, "differentiable": False, "capturable": False}

    def __init__(
        self,
        params,
        lr: float | Tensor = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        capturable: bool = False,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {
            "lr": lr,
            "rho": rho,
            "eps": eps,
            "weight_decay": weight_decay,
            "maximize": maximize,
            "capturable": capturable,
            "foreach": foreach,
            "differentiable": differentiable,
        }
        super().__init__(params, defaults)

    def _init_state(self, p, state, group) -> None:
        state["step"] = _scalar_tensor(0.0)
        state["square_avg"] = _zeros_like(p)
        state["acc_delta"] = _zeros_like(p)

    def _options(self, group):
        return (
            _scalar(group["lr"]),
            _scalar(group["rho"]),
            _scalar(group["eps"]),
            _scalar(group["weight_decay"]),
            bool(group["maximize"]),
        )

    def _update(self, options, items) -> None:
        lr, rho, eps, weight_decay, maximize = options
        for _, param, grad, state in items:
            square_avg, acc_delta = _arr(state["square_avg"]), _arr(state["acc_delta"])
            state["step"]._data += 1
            g = np.negative(grad) if maximize else grad
            if weight_decay != 0:
                g = fma(weight_decay, param, g)

            np.multiply(square_avg, rho, out=square_avg)
            addcmul_(square_avg, g, g, 1 - rho)
            std = np.add(square_avg, eps)
            np.sqrt(std, out=std)
            delta = np.add(acc_delta, eps)
            np.sqrt(delta, out=delta)
            np.divide(delta, std, out=delta)
            np.multiply(delta, g, out=delta)
            np.multiply(acc_delta, rho, out=acc_delta)
            addcmul_(acc_delta, delta, delta, 1 - rho)
            fma(-lr, delta, param, out=param)
