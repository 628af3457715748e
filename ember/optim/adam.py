# ruff: noqa: PLR0917 - PyTorch's signatures take these arguments positionally
"""Adam: adaptive moment estimation (Kingma & Ba, 2014)."""

from __future__ import annotations

from .._backend import np
from ..tensor import Tensor
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

__all__ = ["Adam"]


def _check_args(lr, eps, weight_decay, betas) -> None:
    """The argument checks Adam and its relatives share, in PyTorch's order and words."""
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")
    if not 0.0 <= eps:
        raise ValueError(f"Invalid epsilon value: {eps}")
    if not 0.0 <= betas[0] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
    if not 0.0 <= betas[1] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
    if not 0.0 <= weight_decay:
        raise ValueError(f"Invalid weight_decay value: {weight_decay}")


class Adam(Optimizer):
    r"""Implements the Adam algorithm.

    Args:
        params (iterable): iterable of parameters or dicts defining parameter groups
        lr (float, optional): learning rate (default: 1e-3)
        betas (tuple[float, float], optional): coefficients for the running averages of the gradient
            and its square (default: (0.9, 0.999))
        eps (float, optional): term added to the denominator for numerical stability (default: 1e-8)
        weight_decay (float, optional): weight decay (L2 penalty) (default: 0)
        amsgrad (bool, optional): use the AMSGrad variant (default: False)
        maximize (bool, optional): maximize the objective instead of minimizing (default: False)
        decoupled_weight_decay (bool, optional): decay the weights directly, as AdamW does (default: False)

    Example::

        >>> optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    """

    _group_setdefaults = {
        "amsgrad": False,
        "maximize": False,
        "foreach": None,
        "capturable": False,
        "differentiable": False,
        "decoupled_weight_decay": False,
        "fused": None,
    }

    def __init__(
        self,
        params,
        lr: float | Tensor = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
        decoupled_weight_decay: bool = False,
    ) -> None:
        _check_args(lr, eps, weight_decay, betas)
        if not (
            (isinstance(betas[0], float) and isinstance(betas[1], float))
            or (isinstance(betas[0], Tensor) and isinstance(betas[1], Tensor))
        ):
            raise ValueError("betas must be either both floats or both Tensors")
        defaults = {
            "lr": lr,
            "betas": tuple(betas),
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "maximize": maximize,
            "foreach": foreach,
            "capturable": capturable,
            "differentiable": differentiable,
            "fused": fused,
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        super().__init__(params, defaults)

    def _init_state(self, p, state, group) -> None:
        state["step"] = _scalar_tensor(0.0)
        state["exp_avg"] = _zeros_like(p)
        state["exp_avg_sq"] = _zeros_like(p)
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = _zeros_like(p)

    def _options(self, group):
        beta1, beta2 = group["betas"]
        return (
            _scalar(group["lr"]),
            _scalar(beta1),
            _scalar(beta2),
            _scalar(group["eps"]),
            _scalar(group["weight_decay"]),
            bool(group["amsgrad"]),
            bool(group["maximize"]),
            bool(group["decoupled_weight_decay"]),
        )

    def _update(self, options, items) -> None:
        lr, beta1, beta2, eps, weight_decay, amsgrad, maximize, decoupled = options
        for _, param, grad, state in items:
            exp_avg, exp_avg_sq = _arr(state["exp_avg"]), _arr(state["exp_avg_sq"])
            step = next_step(state)
            g = adam_grad(param, grad, lr, weight_decay, maximize, decoupled)

            adam_moments_(exp_avg, exp_avg_sq, g, beta1, beta2)

            bias_correction1 = 1 - beta1**step
            bias_correction2 = 1 - beta2**step
            step_size = lr / bias_correction1
            bias_correction2_sqrt = bias_correction2**0.5
            if amsgrad:
                max_sq = _arr(state["max_exp_avg_sq"])
                np.maximum(max_sq, exp_avg_sq, out=max_sq)
                denom = np.sqrt(max_sq)
            else:
                denom = np.sqrt(exp_avg_sq)
            np.divide(denom, bias_correction2_sqrt, out=denom)
            np.add(denom, eps, out=denom)
            addcdiv_(param, exp_avg, denom, -step_size)
