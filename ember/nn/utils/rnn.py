# ruff: noqa: A001, A002, PLR0917 - PyTorch's signatures: `input` and long positional argument lists
"""``torch.nn.utils.rnn``: variable-length batches as padded tensors or as ``PackedSequence``.

A packed sequence stores the steps of a batch sorted by decreasing length, time-major: the rows of
step ``t`` are the first ``batch_sizes[t]`` sequences. Packing and padding are each one
``index_select`` of the flattened data, so gradients flow through them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

from ... import creation as C
from ... import dtypes as D
from ..._backend import np
from ...ops.shape import cat, stack
from ...tensor import Tensor, _wrap

__all__ = [
    "PackedSequence", "invert_permutation", "pack_padded_sequence", "pad_packed_sequence", "pad_sequence",
    "unpad_sequence", "pack_sequence", "unpack_sequence",
]  # fmt: skip


class PackedSequence_(NamedTuple):
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None
    unsorted_indices: Tensor | None


class PackedSequence(PackedSequence_):
    """A packed batch of variable-length sequences (build it with ``pack_padded_sequence`` or
    ``pack_sequence``, never by hand).

    Attributes:
        data (Tensor): the packed steps, ``(sum(lengths), *)``.
        batch_sizes (Tensor): int64, how many sequences are still running at each step.
        sorted_indices (Tensor, optional): the order that sorted the batch by length.
        unsorted_indices (Tensor, optional): its inverse, which restores the original order.
    """

    def __new__(
        cls,
        data: Tensor,
        batch_sizes: Tensor | None = None,
        sorted_indices: Tensor | None = None,
        unsorted_indices: Tensor | None = None,
    ) -> PackedSequence:
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:  # the legacy PackedSequence((data, batch_sizes)) form
            data, batch_sizes = data
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args: Any, **kwargs: Any) -> PackedSequence:
        """Move/cast ``data`` as ``Tensor.to``; the index tensors follow it to its device."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self

        def move(t):
            return None if t is None else t.to(data.device)

        return type(self)(data, self.batch_sizes, move(self.sorted_indices), move(self.unsorted_indices))

    def cuda(self, *args: Any, **kwargs: Any) -> PackedSequence:
        return self.to("cuda", *args, **kwargs)

    def cpu(self, *args: Any, **kwargs: Any) -> PackedSequence:
        return self.to("cpu", *args, **kwargs)

    def double(self) -> PackedSequence:
        return self.to(dtype=D.float64)

    def float(self) -> PackedSequence:
        return self.to(dtype=D.float32)

    def half(self) -> PackedSequence:
        return self.to(dtype=D.float16)

    def long(self) -> PackedSequence:
        return self.to(dtype=D.int64)

    def int(self) -> PackedSequence:
        return self.to(dtype=D.int32)

    @property
    def is_cuda(self) -> bool:
        return self.data.is_cuda

    def is_pinned(self) -> bool:
        return False


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The permutation that undoes ``permutation``."""
    if permutation is None:
        return None
    p = permutation._data
    out = np.empty_like(p)
    out[p] = np.arange(p.size, dtype=p.dtype)
    return _wrap(out, permutation.dtype, permutation.device)


def _index(idx: np.ndarray, device) -> Tensor:
    return _wrap(idx.astype(np.int64), D.int64, device)


def _as_lengths(lengths) -> np.ndarray:
    if isinstance(lengths, Tensor):
        return (
            lengths._data.astype(np.int64) if lengths.device.type == "cpu" else np.asarray(lengths.tolist())
        )
    return np.asarray(list(lengths), dtype=np.int64)


def _batch_sizes(lengths: np.ndarray) -> np.ndarray:
    """How many of the (sorted) sequences are longer than t, for each step t."""
    steps = np.arange(int(lengths[0]) if lengths.size else 0)
    return (lengths[None, :] > steps[:, None]).sum(axis=1).astype(np.int64)


def pack_padded_sequence(
    input: Tensor, lengths: Tensor | list[int], batch_first: bool = False, enforce_sorted: bool = True
) -> PackedSequence:
    """Pack a padded batch ``(T, B, *)`` (or ``(B, T, *)`` with ``batch_first``) of sequences with the
    given lengths.

    With ``enforce_sorted=False`` the batch is sorted by decreasing length first and the permutation
    is kept, so ``pad_packed_sequence`` (and an RNN's hidden state) come back in the original order.

    Example::

        >>> x = torch.randn(4, 2, 3)  # T=4, B=2
        >>> pack_padded_sequence(x, [4, 2]).batch_sizes
        tensor([2, 2, 1, 1])
    """
    lens = _as_lengths(lengths)
    sorted_indices = None
    batch_dim = 0 if batch_first else 1
    if enforce_sorted:
        if np.any(lens[:-1] < lens[1:]):
            raise RuntimeError(
                "`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. You can "
                "pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to sidestep this "
                "requirement if you do not need ONNX exportability."
            )
    else:
        order = np.argsort(-lens, kind="stable")
        lens = lens[order]
        sorted_indices = _index(order, input.device)
        input = input.index_select(batch_dim, sorted_indices)
    if lens.size and lens[-1] <= 0:
        raise RuntimeError(
            "Length of all samples has to be greater than 0, but found an element in 'lengths' that is <= 0"
        )
    total = input.shape[1 - batch_dim]
    if lens.size and lens[0] > total:
        raise RuntimeError(
            "Expected sequence length to be larger than or equal to the longest length, "
            f"but got {total} < {lens[0]}"
        )
    sizes = _batch_sizes(lens)
    batch = input.shape[batch_dim]
    # flat row of (step t, sequence b) in the padded input, for every packed row in time-major order
    t = np.repeat(np.arange(sizes.size), sizes)
    b = np.concatenate([np.arange(s) for s in sizes]) if sizes.size else np.zeros(0, np.int64)
    rows = b * total + t if batch_first else t * batch + b
    flat = input.reshape(batch * total, *input.shape[2:])
    data = flat.index_select(0, _index(rows, input.device))
    return PackedSequence(data, _wrap(sizes, D.int64), sorted_indices, None)


def pad_packed_sequence(
    sequence: PackedSequence,
    batch_first: bool = False,
    padding_value: float = 0.0,
    total_length: int | None = None,
) -> tuple[Tensor, Tensor]:
    """Undo ``pack_padded_sequence``: returns the padded batch and the lengths (int64).

    Example::

        >>> packed = pack_sequence([torch.ones(3, 1), torch.ones(1, 1)])
        >>> pad_packed_sequence(packed)[0].shape
        torch.Size([3, 2, 1])
    """
    data = sequence.data
    sizes = sequence.batch_sizes._data.astype(np.int64)
    steps = sizes.size
    if total_length is not None:
        if total_length < steps:
            raise ValueError(
                "Expected total_length to be at least the length of the longest sequence in input, but got "
                f"total_length={total_length} and max sequence length being {steps}"
            )
        steps = total_length
    batch = int(sizes[0])
    lengths = (sizes[None, :] > np.arange(batch)[:, None]).sum(axis=1).astype(np.int64)
    # each padded slot reads its packed row, or the extra padding row appended after the data
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    t = np.arange(steps)[:, None]
    b = np.arange(batch)[None, :]
    valid = t < lengths[None, :]
    rows = np.where(valid, starts[np.minimum(t, sizes.size - 1)] + b, data.shape[0])
    if batch_first:
        rows = rows.T
    pad_row = C.full((1, *data.shape[1:]), padding_value, dtype=data.dtype, device=data.device)
    padded = cat([data, pad_row]).index_select(0, _index(rows.reshape(-1), data.device))
    padded = padded.view(*rows.shape, *data.shape[1:])
    lengths_t = _wrap(lengths, D.int64)
    if sequence.unsorted_indices is not None:
        batch_dim = 0 if batch_first else 1
        order = sequence.unsorted_indices
        return padded.index_select(batch_dim, order), _wrap(lengths[order._data], D.int64)
    return padded, lengths_t


def pad_sequence(
    sequences: Tensor | Iterable[Tensor],
    batch_first: bool = False,
    padding_value: float = 0.0,
    padding_side: str = "right",
) -> Tensor:
    """Stack tensors of shapes ``(L_i, *)`` into ``(max L, B, *)`` (``(B, max L, *)`` with
    ``batch_first``), filling with ``padding_value`` on ``padding_side``.

    Example::

        >>> pad_sequence([torch.ones(3), torch.ones(1)]).shape
        torch.Size([3, 2])
    """
    if isinstance(sequences, Tensor):
        sequences = sequences.unbind(0)
    elif not isinstance(sequences, Iterable):
        raise RuntimeError(
            f"pad_sequence: Expected iterable for input sequences, but got arg of type: {type(sequences)}"
        )
    sequences = list(sequences)
    if padding_side not in ("left", "right"):
        raise ValueError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    longest = max(s.shape[0] for s in sequences)
    padded = []
    for seq in sequences:
        short = longest - seq.shape[0]
        if short:
            fill = C.full((short, *seq.shape[1:]), padding_value, dtype=seq.dtype, device=seq.device)
            seq = cat([seq, fill] if padding_side == "right" else [fill, seq])  # noqa: PLW2901
        padded.append(seq)
    return stack(padded, 0 if batch_first else 1)


def unpad_sequence(padded_sequences: Tensor, lengths: Tensor, batch_first: bool = False) -> list[Tensor]:
    """Split a padded batch back into its sequences (the inverse of ``pad_sequence``)."""
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [seq[: int(n)] for seq, n in zip(padded_sequences.unbind(0), _as_lengths(lengths), strict=True)]


def pack_sequence(sequences: list[Tensor], enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of tensors of shapes ``(L_i, *)``.

    Example::

        >>> pack_sequence([torch.tensor([1, 2, 3]), torch.tensor([4, 5])]).data
        tensor([1, 4, 2, 5, 3])
    """
    lengths = [s.size(0) for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """The list of sequences inside a ``PackedSequence`` (the inverse of ``pack_sequence``)."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
