# ruff: noqa: PLR0917 - PyTorch's signatures take these arguments positionally
"""NAdam: Adam with Nesterov momentum (Dozat, 2016)."""

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
    addcdiv_,
    next_step,
)

__all__ = ["NAdam"]


class NAdam(Optimizer):
    r"""Implements the NAdam algorithm.

    Args:
        params (iterable): iterable of parameters or dicts defining parameter groups
        lr (float, optional): learning rate (default: 2e-3)
        betas (tuple[float, float], optional): coefficients for the running averages (default: (0.9, 0.999))
        eps (float, optional): term added to the denominator for numerical stability (default: 1e-8)
        weight_decay (float, optional): weight decay (L2 penalty) (default: 0)
        momentum_decay (float, optional): momentum decay (default: 4e-3)
        decoupled_weight_decay (bool, optional): decay the weights directly, as AdamW does (default: False)
        maximize (bool, optional): maximize the objective instead of minimizing (default: False)

    Example::

        >>> optimizer = torch.optim.NAdam(model.parameters())
    """

    _tensor_state_keys = ("step", "mu_product")
    _group_setdefaults = {
        "maximize": False,
        "foreach": None,
        "capturable": False,
        "differentiable": False,
        "decoupled_weight_decay": False,
    }

    def __init__(
        self,
        params,
        lr: float | Tensor = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum_decay: float = 4e-3,
        decoupled_weight_decay: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
    ) -> None:
        _check_args(lr, eps, weight_decay, betas)
        if not 0.0 <= momentum_decay:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "momentum_decay": momentum_decay,
            "decoupled_weight_decay": decoupled_weight_decay,
            "maximize": maximize,
            "foreach": foreach,
            "capturable": capturable,
            "differentiable": differentiable,
        }
        super().__init__(params, defaults)

    def _init_state(self, p, state, group) -> None:
        state["step"] = _scalar_tensor(0.0)
        state["mu_product"] = _scalar_tensor(1.0)
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
            _scalar(group["momentum_decay"]),
            bool(group["decoupled_weight_decay"]),
            bool(group["maximize"]),
        )

    def _update(self, options, items) -> None:
        lr, beta1, beta2, eps, weight_decay, momentum_decay, decoupled, maximize = options
        for _, param, grad, state in items:
            exp_avg, exp_avg_sq = _arr(state["exp_avg"]), _arr(state["exp_avg_sq"])
            mu_product = state["mu_product"]._data
            step = next_step(state)
            bias_correction2 = 1 - beta2**step
            g = adam_grad(param, grad, lr, weight_decay, maximize, decoupled)

            # the momentum cache mu_t and mu_{t+1}; mu_product is a float32 tensor in PyTorch, so its
            # running product rounds to float32 at every step, even for float64 parameters
            mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
            mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
            np.multiply(mu_product, mu, out=mu_product)

            adam_moments_(exp_avg, exp_avg_sq, g, beta1, beta2)
            denom = np.divide(exp_avg_sq, bias_correction2)
            np.sqrt(denom, out=denom)

            mu_prod = float(mu_product)
            mu_product_next = mu_prod * mu_next
            np.add(denom, eps, out=denom)
            addcdiv_(param, g, denom, -lr * (1.0 - mu) / (1.0 - mu_prod))
            addcdiv_(param, exp_avg, denom, (-lr * mu_next) / (1.0 - mu_product_next))
