# ruff: noqa: A002 - `input` is PyTorch's name
"""Shared helpers of the sliding-window ops (convolution, pooling, unfold): arguments and output sizes."""

from __future__ import annotations

from ._base import Tensor, np

_as_strided = np.lib.stride_tricks.as_strided


def _ntuple(v, d: int, name: str = "argument") -> tuple:
    """An int or a sequence as a d-tuple of ints (a length-1 sequence is repeated, as PyTorch does)."""
    if isinstance(v, (int, np.integer)):
        return (int(v),) * d
    v = tuple(int(a) for a in v)
    if len(v) == 1:
        return v * d
    if len(v) != d:
        raise RuntimeError(f"expected {name} to be a single integer value or a list of {d} values")
    return v


def _out_size(n: int, k: int, s: int, p: int, dl: int, ceil: bool = False) -> int:  # noqa: PLR0917
    """Output length of a window op (PyTorch's rule: with ceil_mode the last window must start inside)."""
    span = n + 2 * p - dl * (k - 1) - 1
    out = (-(-span // s) if ceil else span // s) + 1
    if ceil and (out - 1) * s >= n + p:
        out -= 1
    return out


def _offsets(k, s, dl, out):
    """Each kernel offset's index tuple and the strided slices of the padded input its taps touch."""
    for kidx in np.ndindex(*k):
        yield (
            kidx,
            tuple(
                slice(i * d, i * d + st * (o - 1) + 1, st)
                for i, d, st, o in zip(kidx, dl, s, out, strict=True)
            ),
        )


def _batched(input: Tensor, d: int, name: str):
    """(input as a batch, whether it was unbatched): PyTorch accepts one sample without the batch dim."""
    if input.ndim == d + 2:
        return input, False
    if input.ndim == d + 1:
        return input.unsqueeze(0), True
    raise RuntimeError(
        f"Expected {d + 1}D (unbatched) or {d + 2}D (batched) input to {name}, but got input of size: "
        f"{list(input.shape)}"
    )
