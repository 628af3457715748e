# ruff: noqa: PLR0917 - PyTorch's signatures take these arguments positionally
"""Adagrad: per-coordinate learning rates from the sum of squared gradients (Duchi et al., 2011)."""

from __future__ import annotations

from .._backend import np
from ..tensor import Tensor, _wrap
from .optimizer import Optimizer, _arr, _scalar, _scalar_tensor, addcdiv_, addcmul_, fma, next_step

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    r"""Implements the Adagrad algorithm.

    Args:
        params (iterable): iterable of parameters or dicts defining parameter groups
        lr (float, optional): learning rate (default: 1e-2)
        lr_decay (float, optional): learning rate decay (default: 0)
        weight_decay (float, optional): weight decay (L2 penalty) (default: 0)
        initial_accumulator_value (float, optional): initial value of the sum of squares (default: 0)
        eps (float, optional): term added to the denominator for numerical stability (default: 1e-10)
        maximize (bool, optional): maximize the objective instead of minimizing (default: False)

    Example::

        >>> optimizer = torch.optim.Adagrad(model.parameters(), lr=1e-2)
    """

    _group_setdefaults = {"foreach": None, "maximize": False, "differentiable": False, "fused": None}

    def __init__(
        self,
        params,
        lr: float | Tensor = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        defaults = {
            "lr": lr,
            "lr_decay": lr_decay,
            "eps": eps,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
            "fused": fused,
        }
        super().__init__(params, defaults)
        # Unlike the other optimizers, Adagrad creates its state eagerly (as PyTorch does).
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, self.state[p], group)

    def _init_state(self, p, state, group) -> None:
        state["step"] = _scalar_tensor(0.0)
        state["sum"] = _wrap(
            np.full_like(p._data, self.defaults["initial_accumulator_value"]), p.dtype, p.device
        )

    def _options(self, group):
        return (
            _scalar(group["lr"]),
            _scalar(group["lr_decay"]),
            _scalar(group["weight_decay"]),
            _scalar(group["eps"]),
            bool(group["maximize"]),
        )

    def _update(self, options, items) -> None:
        lr, lr_decay, weight_decay, eps, maximize = options
        for _, param, grad, state in items:
            state_sum = _arr(state["sum"])
            step = next_step(state)
            g = np.negative(grad) if maximize else grad
            if weight_decay != 0:
                g = fma(weight_decay, param, g)
            clr = lr / (1 + (step - 1) * lr_decay)
            addcmul_(state_sum, g, g, 1)
            std = np.sqrt(state_sum)
            np.add(std, eps, out=std)
            addcdiv_(param, g, std, -clr)
