# ruff: noqa: PLR0917 - PyTorch's signatures take these arguments positionally
"""RAdam: Adam with a rectified adaptive learning rate (Liu et al., 2019)."""

from __future__ import annotations

from .._backend import np
from ..tensor import Tensor
from .adam import _check_args
from .optimizer import (
    Optimizer,
    _arr,
    _scalar,
    _scalar_tensor,
    _zeros_like,
    adam_grad,
    adam_moments_,
    next_step,
)

__all__ = ["RAdam"]


class RAdam(Optimizer):
    r"""Implements the RAdam algorithm.

    Args:
        params (iterable): iterable of parameters or dicts defining parameter groups
        lr (float, optional): learning rate (default: 1e-3)
        betas (tuple[float, float], optional): coefficients for the running averages (default: (0.9, 0.999))
        eps (float, optional): term added to the denominator for numerical stability (default: 1e-8)
        weight_decay (float, optional): weight decay (L2 penalty) (default: 0)
        decoupled_weight_decay (bool, optional): decay the weights directly, as AdamW does (default: False)
        maximize (bool, optional): maximize the objective instead of minimizing (default: False)

    Example::

        >>> optimizer = torch.optim.RAdam(model.parameters())
    """

    _group_setdefaults = {
        "foreach": None,
        "maximize": False,
        "differentiable": False,
        "decoupled_weight_decay": False,
        "capturable": False,
    }

    def __init__(
        self,
        params,
        lr: float | Tensor = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        decoupled_weight_decay: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
    ) -> None:
        _check_args(lr, eps, weight_decay, betas)
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "maximize": maximize,
            "foreach": foreach,
            "capturable": capturable,
            "decoupled_weight_decay": decoupled_weight_decay,
            "differentiable": differentiable,
        }
        super().__init__(params, defaults)

    def _init_state(self, p, state, group) -> None:
        state["step"] = _scalar_tensor(0.0)
        state["exp_avg"] = _zeros_like(p)
        state["exp_avg_sq"] = _zeros_like(p)

    def _options(self, group):
        beta1, beta2 = group["betas"]
        return (
            _scalar(group["lr"]),
            _scalar(beta1),
            _scalar(beta2),
            _scalar(group["eps"]),
            _scalar(group["weight_decay"]),
            bool(group["decoupled_weight_decay"]),
            bool(group["maximize"]),
        )

    def _update(self, options, items) -> None:
        lr, beta1, beta2, eps, weight_decay, decoupled, maximize = options
        for _, param, grad, state in items:
            exp_avg, exp_avg_sq = _arr(state["exp_avg"]), _arr(state["exp_avg_sq"])
            step = next_step(state)
            g = adam_grad(param, grad, lr, weight_decay, maximize, decoupled)

            adam_moments_(exp_avg, exp_avg_sq, g, beta1, beta2)

            bias_correction1 = 1 - beta1**step
            bias_correction2 = 1 - beta2**step
            update = np.divide(exp_avg, bias_correction1)
            np.multiply(update, lr, out=update)
            # the length of the approximated simple moving average, and its limit
            rho_inf = 2 / (1 - beta2) - 1
            rho_t = rho_inf - 2 * step * (beta2**step) / bias_correction2
            if rho_t > 5.0:
                rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                adaptive_lr = np.sqrt(exp_avg_sq)
                np.add(adaptive_lr, eps, out=adaptive_lr)
                # PyTorch computes ``scalar / tensor`` as ``tensor.reciprocal() * scalar``
                np.reciprocal(adaptive_lr, out=adaptive_lr)
                np.multiply(adaptive_lr, bias_correction2**0.5, out=adaptive_lr)
                np.multiply(update, adaptive_lr, out=update)
                np.multiply(update, rect, out=update)
            np.subtract(param, update, out=param)
