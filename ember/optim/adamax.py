# ruff: noqa: PLR0917 - PyTorch's signatures take these arguments positionally
"""Adamax: Adam with the infinity norm in place of the second moment (Kingma & Ba, 2014)."""

from __future__ import annotations

from .._backend import np
from ..tensor import Tensor
from .adam import _check_args
from .optimizer import Optimizer, _arr, _scalar, _scalar_tensor, _zeros_like, addcdiv_, fma, lerp_

__all__ = ["Adamax"]


class Adamax(Optimizer):
    r"""Implements the Adamax algorithm (a variant of Adam based on the infinity norm).

    Args:
        params (iterable): iterable of parameters or dicts defining parameter groups
        lr (float, optional): learning rate (default: 2e-3)
        betas (tuple[float, float], optional): coefficients for the running averages (default: (0.9, 0.999))
        eps (float, optional): term added to the denominator for numerical stability (default: 1e-8)
        weight_decay (float, optional): weight decay (L2 penalty) (default: 0)
        maximize (bool, optional): maximize the objective instead of minimizing (default: False)

    Example::

        >>> optimizer = torch.optim.Adamax(model.parameters())
    """

    _group_setdefaults = {"foreach": None, "maximize": False, "differentiable": False, "capturable": False}

    def __init__(
        self,
        params,
        lr: float | Tensor = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        capturable: bool = False,
    ) -> None:
        _check_args(lr, eps, weight_decay, betas)
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
            "capturable": capturable,
        }
        super().__init__(params, defaults)

    def _init_state(self, p, state, group) -> None:
        state["step"] = _scalar_tensor(0.0)
        state["exp_avg"] = _zeros_like(p)
        state["exp_inf"] = _zeros_like(p)

    def _options(self, group):
        beta1, beta2 = group["betas"]
        return (
            _scalar(group["lr"]),
            _scalar(beta1),
            _scalar(beta2),
            _scalar(group["eps"]),
            _scalar(group["weight_decay"]),
            bool(group["maximize"]),
        )

    def _update(self, options, items) -> None:
        lr, beta1, beta2, eps, weight_decay, maximize = options
        for _, param, grad, state in items:
            exp_avg, exp_inf = _arr(state["exp_avg"]), _arr(state["exp_inf"])
            step_t = state["step"]._data
            step_t += 1
            g = np.negative(grad) if maximize else grad
            if weight_decay != 0:
                g = fma(weight_decay, param, g)

            lerp_(exp_avg, g, 1 - beta1)
            norm = np.abs(g)
            np.add(norm, eps, out=norm)
            np.multiply(exp_inf, beta2, out=exp_inf)
            np.maximum(exp_inf, norm, out=exp_inf)

            clr = lr / (1 - beta1 ** float(step_t))
            addcdiv_(param, exp_avg, exp_inf, -clr)
