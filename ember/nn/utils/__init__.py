"""``torch.nn.utils``: gradient clipping, parameter/vector conversion, and ``rnn`` (packing, padding)."""

from .clip_grad import (
    clip_grad_norm,
    clip_grad_norm_,
    clip_grad_value_,
    clip_grads_with_norm_,
    get_total_norm,
)
from .convert_parameters import parameters_to_vector, vector_to_parameters

__all__ = [
    "clip_grad_norm", "clip_grad_norm_", "clip_grad_value_", "clip_grads_with_norm_", "get_total_norm",
    "parameters_to_vector", "vector_to_parameters",
]  # fmt: skip

from . import rnn as rnn  # noqa: E402, F401 - torch.nn.utils.rnn (packing and padding)
