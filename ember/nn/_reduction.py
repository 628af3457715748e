"""Loss reductions: the legacy ``size_average``/``reduce`` flags mapped to ``reduction``, as PyTorch does."""

from __future__ import annotations

import warnings

_VALID = ("none", "mean", "sum")


def check(reduction: str) -> str:
    """Validate ``reduction`` with PyTorch's message."""
    if reduction == "elementwise_mean":
        warnings.warn(
            "reduction='elementwise_mean' is deprecated. Please use reduction='mean' instead.", stacklevel=3
        )
        return "mean"
    if reduction not in _VALID:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def legacy_get_string(size_average: bool | None, reduce: bool | None, emit_warning: bool = True) -> str:
    """The ``reduction`` that the deprecated ``size_average``/``reduce`` pair means (with the warning)."""
    if size_average is None:
        size_average = True
    if reduce is None:
        reduce = True
    if size_average and reduce:
        ret = "mean"
    elif reduce:
        ret = "sum"
    else:
        ret = "none"
    if emit_warning:
        warnings.warn(
            f"size_average and reduce args will be deprecated, please use reduction='{ret}' instead.",
            stacklevel=3,
        )
    return ret


def resolve(size_average: bool | None, reduce: bool | None, reduction: str) -> str:
    """``reduction``, unless a legacy flag was given (then it wins, with a warning)."""
    if size_average is not None or reduce is not None:
        return legacy_get_string(size_average, reduce)
    return check(reduction)
