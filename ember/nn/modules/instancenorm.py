# ruff: noqa: A002, PLR0913, PLR0917 - PyTorch's argument names, and its positional signatures
"""Instance normalisation (InstanceNorm1d/2d/3d) and LocalResponseNorm.

NOTE [ instance norm base ]: PyTorch derives ``_InstanceNorm`` and ``_BatchNorm`` from one ``_NormBase``
(parameters, running-stat buffers, version-2 checkpoint upgrade, repr). Here ``_BatchNorm`` holds all of
that, so ``_InstanceNorm`` reuses it and replaces the defaults (no affine, no running stats) and forward.
"""

from __future__ import annotations

import warnings

from ...tensor import Tensor
from .. import functional as F
from .module import Module
from .normalization import _BatchNorm

__all__ = ["InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d", "LocalResponseNorm"]


class _InstanceNorm(_BatchNorm):
    _no_batch_dim = 0  # the input rank without a batch dim: (C, *spatial)

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = False,
        track_running_stats: bool = False,
        device=None,
        dtype=None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias)

    def _check_input_dim(self, input: Tensor) -> None:
        d = self._no_batch_dim
        if input.dim() not in (d, d + 1):
            raise ValueError(f"expected {d}D or {d + 1}D input (got {input.dim()}D input)")

    def _apply_instance_norm(self, input: Tensor) -> Tensor:
        return F.instance_norm(
            input, self.running_mean, self.running_var, self.weight, self.bias,
            self.training or not self.track_running_stats,
            self.momentum if self.momentum is not None else 0.0, self.eps,
        )  # fmt: skip

    def _load_from_state_dict(
        self, state_dict, prefix, local_metadata, strict, missing, unexpected, errors
    ) -> None:
        # checkpoints from before 0.4 may carry running stats this layer no longer tracks
        if local_metadata.get("version") is None and not self.track_running_stats:
            keys = [prefix + n for n in ("running_mean", "running_var") if prefix + n in state_dict]
            if keys:
                name = type(self).__name__
                names = " and ".join(f'"{k}"' for k in keys)
                errors.append(
                    f"Unexpected running stats buffer(s) {names} for {name} with track_running_stats=False. "
                    f"If state_dict is a checkpoint saved before 0.4.0, this may be expected because {name} "
                    "does not track running stats by default since 0.4.0. Please remove these keys from "
                    "state_dict. If the running stats are actually needed, instead set "
                    f"track_running_stats=True in {name} to enable them. See the documentation of {name} for "
                    "details."
                )
                for key in keys:
                    state_dict.pop(key)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing, unexpected, errors)

    def forward(self, input: Tensor) -> Tensor:
        self._check_input_dim(input)
        feature_dim = input.dim() - self._no_batch_dim
        if input.size(feature_dim) != self.num_features:
            if self.affine:
                raise ValueError(
                    f"expected input's size at dim={feature_dim} to match num_features "
                    f"({self.num_features}), but got: {input.size(feature_dim)}."
                )
            warnings.warn(
                f"input's size at dim={feature_dim} does not match num_features. You can silence this "
                "warning by not passing in num_features, which is not used because affine=False",
                stacklevel=2,
            )
        if input.dim() == self._no_batch_dim:  # one sample: run it as a batch of one
            return self._apply_instance_norm(input.unsqueeze(0)).squeeze(0)
        return self._apply_instance_norm(input)


class InstanceNorm1d(_InstanceNorm):
    """Normalise each channel of each sample of ``(N, C, L)`` (or ``(C, L)``) over L.

    Args:
        num_features (int): C.
        eps (float): added to the variance. Default: 1e-5.
        momentum (float or None): running-stat update factor. Default: 0.1.
        affine (bool): learn per-channel ``weight`` and ``bias``. Default: ``False``.
        track_running_stats (bool): keep running statistics and use them in eval mode. Default: ``False``.
    """

    _no_batch_dim = 2


class InstanceNorm2d(_InstanceNorm):
    """Normalise each channel of each sample of ``(N, C, H, W)`` over H and W; arguments as for
    :class:`InstanceNorm1d`.

    Example::

        >>> nn.InstanceNorm2d(3, affine=True)(torch.randn(4, 3, 8, 8)).shape
        torch.Size([4, 3, 8, 8])
    """

    _no_batch_dim = 3


class InstanceNorm3d(_InstanceNorm):
    """Normalise each channel of each sample of ``(N, C, D, H, W)``; arguments as for
    :class:`InstanceNorm1d`."""

    _no_batch_dim = 4


class LocalResponseNorm(Module):
    """Normalise each value by the energy of ``size`` neighbouring channels:
    b_c = a_c / (k + alpha / n * sum of a_c'^2) ** beta.

    Example::

        >>> nn.LocalResponseNorm(2)(torch.randn(32, 5, 24, 24)).shape
        torch.Size([32, 5, 24, 24])
    """

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> None:
        super().__init__()
        self.size = size
        self.alpha = alpha
        self.beta = beta
        self.k = k

    def forward(self, input: Tensor) -> Tensor:
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return "{size}, alpha={alpha}, beta={beta}, k={k}".format(**self.__dict__)
