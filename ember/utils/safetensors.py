"""safetensors: a flat tensor file format with no pickle in it, as the ``safetensors`` package writes.

NOTE [ format ] (https://github.com/huggingface/safetensors#format): an 8-byte little-endian length N;
N bytes of UTF-8 JSON, ``{"__metadata__": {str: str}, name: {"dtype": "F32", "shape": [2, 3],
"data_offsets": [begin, end]}, ...}`` padded with spaces to a multiple of 8; then the byte buffer.
Each tensor's bytes are little-endian and C-ordered, and the offsets (relative to the buffer) tile it
exactly: no gaps, no overlaps. Tensors are laid out largest dtype first, so each starts aligned.
"""

from __future__ import annotations

import io
import json
import os
import struct
import sys
from typing import IO, Any

from .. import dtypes as D
from .._backend import np, to_host
from ..serialization import _atomic_write
from ..tensor import Tensor, _wrap

__all__ = ["save_file", "load_file", "save", "load", "safe_open", "SafetensorError"]

_DTYPES = {
    "BOOL": D.bool_, "U8": D.uint8, "I8": D.int8, "I16": D.int16, "I32": D.int32, "I64": D.int64,
    "F16": D.float16, "BF16": D.bfloat16, "F32": D.float32, "F64": D.float64,
}  # fmt: skip
_CODES = {d.name: code for code, d in _DTYPES.items()}
_MAX_HEADER = 100_000_000  # the reference implementation's limit: a header past it is an attack or corruption


class SafetensorError(Exception):
    """A file that is not valid safetensors (the reference package raises its own error of this name)."""


def _little(arr):
    """``arr`` as little-endian, C-ordered host memory (a no-op on the usual machines)."""
    arr = np.ascontiguousarray(to_host(arr))
    return arr.byteswap() if sys.byteorder == "big" else arr


def _prepare(tensors: dict[str, Tensor], metadata: dict[str, str] | None) -> tuple[bytes, list]:
    """The header bytes (with its length prefix) and the arrays that follow it, in file order."""
    if not isinstance(tensors, dict):
        raise ValueError(f"Expected a dict of [str, torch.Tensor] but received {type(tensors)}")
    for k, v in tensors.items():
        if not isinstance(k, str):
            raise ValueError(f"Key `{k!r}` is invalid: tensor names must be strings")
        if not isinstance(v, Tensor):
            raise ValueError(f"Key `{k}` is invalid, expected torch.Tensor but received {type(v)}")
        if not v.is_contiguous():
            raise ValueError(
                f"You are trying to save a non contiguous tensor: `{k}` which is not allowed. Call "
                "`.contiguous()` on it to pack it before saving."
            )
    if metadata is not None and not (
        isinstance(metadata, dict)
        and all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items())
    ):
        raise ValueError("metadata must be a dict of str to str")
    _check_unshared(tensors)
    order = sorted(tensors, key=lambda k: (-tensors[k].dtype.itemsize, k))
    header: dict[str, Any] = {"__metadata__": metadata} if metadata else {}
    arrays, offset = [], 0
    for name in order:
        t = tensors[name]
        arrays.append(_little(t._data))
        header[name] = {
            "dtype": _CODES[t.dtype.name],
            "shape": list(t.shape),
            "data_offsets": [offset, offset + t.nbytes],
        }
        offset += t.nbytes
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text, arrays


def _check_unshared(tensors: dict[str, Tensor]) -> None:
    """Refuse tensors whose memory overlaps: loading them back would silently un-share them."""
    spans = sorted(
        (t.data_ptr(), t.data_ptr() + t.nbytes, name) for name, t in tensors.items() if t.nbytes and t.is_cpu
    )
    shared = [(a[2], b[2]) for a, b in zip(spans, spans[1:], strict=False) if b[0] < a[1]]
    if shared:
        raise RuntimeError(
            "Some tensors share memory, this will lead to duplicate memory on disk and potential differences "
            f"when loading them again: {shared}. Save clones of them (`t.clone()`) instead."
        )


def save(tensors: dict[str, Tensor], metadata: dict[str, str] | None = None) -> bytes:
    """The safetensors bytes of ``tensors`` (a dict of name to contiguous tensor)."""
    head, arrays = _prepare(tensors, metadata)
    return head + b"".join(a.tobytes() for a in arrays)


def save_file(
    tensors: dict[str, Tensor], filename: str | os.PathLike, metadata: dict[str, str] | None = None
) -> None:
    """Save a dict of tensors to ``filename`` in safetensors format, atomically (a failure keeps an old file).

    Args:
        tensors: name to tensor; each must be contiguous and none may share memory with another.
        filename: where to write.
        metadata: optional free-form text annotations, str to str.

    Example::

        >>> save_file({"weight": torch.zeros(2, 3)}, "model.safetensors")
    """
    head, arrays = _prepare(tensors, metadata)

    def write(fh: IO[bytes]) -> None:
        fh.write(head)
        for a in arrays:
            fh.write(memoryview(a.reshape(-1).view(np.uint8)))

    _atomic_write(os.fspath(filename), write)


def _parse_header(fh: IO[bytes], size: int, source: str) -> tuple[dict, dict[str, str], int]:
    """(entries, metadata, start of the byte buffer), every offset checked against the file."""
    if size < 8:
        raise SafetensorError(f"{source}: file too small to be safetensors ({size} bytes)")
    (n,) = struct.unpack("<Q", fh.read(8))
    if n > _MAX_HEADER:
        raise SafetensorError(f"{source}: header of {n} bytes is too large")
    if 8 + n > size:
        raise SafetensorError(
            f"{source}: header length {n} runs past the end of the file ({size} bytes): truncated?"
        )
    try:
        header = json.loads(fh.read(n).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise SafetensorError(f"{source}: header is not valid JSON: {e}") from None
    if not isinstance(header, dict):
        raise SafetensorError(f"{source}: header must be a JSON object")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise SafetensorError(f"{source}: __metadata__ must map strings to strings")
    end = 0
    for name, info in sorted(header.items(), key=lambda kv: _offsets(kv, source)):
        begin, stop = _offsets((name, info), source)
        dtype = _DTYPES.get(info.get("dtype"))
        if dtype is None:
            raise SafetensorError(
                f"{source}: tensor `{name}` has dtype {info.get('dtype')!r}, which ember lacks"
            )
        shape = info.get("shape")
        if not isinstance(shape, list) or not all(type(s) is int and s >= 0 for s in shape):
            raise SafetensorError(f"{source}: tensor `{name}` has an invalid shape {shape!r}")
        numel = int(np.prod(shape, dtype=np.int64))
        if begin != end or stop - begin != numel * dtype.itemsize:
            raise SafetensorError(f"{source}: tensor `{name}` has invalid data_offsets {[begin, stop]}")
        end = stop
    if 8 + n + end != size:
        raise SafetensorError(f"{source}: the tensors cover {end} bytes but the file holds {size - 8 - n}")
    return header, metadata, 8 + n


def _offsets(item: tuple[str, Any], source: str) -> tuple[int, int]:
    name, info = item
    offsets = info.get("data_offsets") if isinstance(info, dict) else None
    if not (
        isinstance(offsets, list) and len(offsets) == 2 and all(type(o) is int and o >= 0 for o in offsets)
    ):
        raise SafetensorError(f"{source}: tensor `{name}` has no valid data_offsets")
    return offsets[0], offsets[1]


class safe_open:  # the ecosystem's name
    """Open a safetensors file and read tensors one at a time.

    Example::

        >>> with safe_open("model.safetensors", framework="pt") as f:
        ...     w = f.get_tensor("weight")
    """

    def __init__(self, filename: str | os.PathLike | IO[bytes], framework: str = "pt", device: str = "cpu"):
        if framework not in ("pt", "torch", "pytorch"):
            raise ValueError(f"ember's safe_open reads tensors for framework 'pt', not {framework!r}")
        if isinstance(filename, (str, os.PathLike)):
            self._fh, source = open(filename, "rb"), repr(os.fspath(filename))  # closed by close()
        else:
            self._fh, source = filename, "the safetensors data"
        self._device = device
        try:
            size = self._fh.seek(0, io.SEEK_END)
            self._fh.seek(0)
            self._entries, self._metadata, self._start = _parse_header(self._fh, size, source)
        except BaseException:
            self.close()
            raise

    def keys(self) -> list[str]:
        return sorted(self._entries)

    def metadata(self) -> dict[str, str]:
        return dict(self._metadata)

    def get_tensor(self, name: str) -> Tensor:
        info = self._entries.get(name)
        if info is None:
            raise SafetensorError(f"File does not contain tensor {name}")
        dtype = _DTYPES[info["dtype"]]
        if dtype.np is None:
            raise SafetensorError(f"tensor `{name}` is bfloat16: install ml_dtypes to load it in ember")
        begin, end = info["data_offsets"]
        arr = np.empty(info["shape"], dtype.np)
        self._fh.seek(self._start + begin)
        if self._fh.readinto(memoryview(arr.reshape(-1).view(np.uint8))) != end - begin:
            raise SafetensorError(f"tensor `{name}` is truncated")
        if sys.byteorder == "big":
            arr.byteswap(inplace=True)
        t = _wrap(arr, dtype)
        return t if str(self._device) == "cpu" else t.to(self._device)

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> safe_open:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def load_file(filename: str | os.PathLike, device: str = "cpu") -> dict[str, Tensor]:
    """Load every tensor of a safetensors file, as a dict of name to tensor on ``device``."""
    with safe_open(filename, framework="pt", device=device) as f:
        return {k: f.get_tensor(k) for k in f.keys()}  # safe_open is not a dict


def load(data: bytes) -> dict[str, Tensor]:
    """Load tensors from safetensors bytes (as ``save`` makes)."""
    with safe_open(io.BytesIO(data), framework="pt") as f:
        return {k: f.get_tensor(k) for k in f.keys()}
