"""The one module that imports NumPy (and, lazily, CuPy): devices, ``xp`` and host transfer."""

from __future__ import annotations

import functools

import numpy as np

__all__ = ["np", "Device", "device", "cuda_available", "cuda_device_count", "xp_for", "to_host"]


@functools.cache
def _cupy():
    """CuPy, or None when it is not installed or no GPU answers. Imported on first need only."""
    try:
        import cupy  # noqa: PLC0415 - optional extra, imported lazily on purpose

        if cupy.cuda.runtime.getDeviceCount() > 0:
            return cupy
    except Exception:  # noqa: BLE001 - any failure here simply means "no usable GPU"
        pass
    return None


def cuda_available() -> bool:
    return _cupy() is not None


def cuda_device_count() -> int:
    cp = _cupy()
    return 0 if cp is None else int(cp.cuda.runtime.getDeviceCount())


class Device:
    """A place where tensor data lives: ``device('cpu')``, ``device('cuda:0')``, ``device('cuda', 1)``."""

    __slots__ = ("type", "index")

    def __new__(cls, type: str | Device | int, index: int | None = None) -> Device:  # noqa: A002
        if isinstance(type, Device):
            return type
        if isinstance(type, int):  # torch.device(0) means cuda:0
            type, index = "cuda", type
        if not isinstance(type, str):
            raise TypeError(f"Expected a torch.device or string, but got: {type!r}")
        spec = type.strip()
        if ":" in spec:
            if index is not None:
                raise ValueError(
                    f"type (string) must not include an index because index was passed explicitly: {spec}"
                )
            spec, _, idx = spec.partition(":")
            if not idx.isdigit():
                raise RuntimeError(f"Invalid device string: '{type}'")
            index = int(idx)
        if spec not in ("cpu", "cuda", "meta"):
            raise RuntimeError(
                f"Expected one of cpu, cuda, meta device type at start of device string: {type}"
            )
        if spec == "cpu" and index not in (None, 0):
            raise RuntimeError(f"CPU device index must be -1 or zero, got {index}")
        return _intern(spec, index)

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other: object) -> bool:
        # as PyTorch: a device never equals a string (``device("cpu") == "cpu"`` is False)
        return isinstance(other, Device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __reduce__(self):
        return (Device, (self.type, self.index))


@functools.cache
def _intern(type_: str, index: int | None) -> Device:
    obj = object.__new__(Device)
    obj.type = type_
    obj.index = index
    return obj


device = Device
CPU = Device("cpu")


def canonical(dev) -> Device:
    """The concrete device data lives on: 'cuda' means 'cuda:0'; raises if cuda is unavailable."""
    if dev is None:
        return CPU
    d = Device(dev)
    if d.type == "cpu":
        return CPU
    if d.type == "cuda":
        n = cuda_device_count()
        if n == 0:
            raise RuntimeError(
                f"Cannot place a tensor on '{d}': no CUDA GPU is available here "
                "(torch.cuda.is_available() is False). Use device='cpu', or install CuPy on a machine "
                "with a GPU."
            )
        idx = 0 if d.index is None else d.index
        if idx >= n:
            raise RuntimeError(
                f"CUDA error: invalid device ordinal (asked for cuda:{idx}, {n} device(s) present)"
            )
        return _intern("cuda", idx)
    raise RuntimeError(f"ember cannot hold data on device '{d}'")


def xp_for(dev: Device):
    """The array module for a device: NumPy for cpu, CuPy for cuda."""
    return np if dev.type == "cpu" else _cupy()


def to_device(arr, dev: Device):
    """Move an array to ``dev`` (a no-op when it is already there)."""
    if dev.type == "cpu":
        return to_host(arr)
    cp = _cupy()
    with cp.cuda.Device(dev.index):
        return cp.asarray(arr)


def to_host(arr) -> np.ndarray:
    if isinstance(arr, np.ndarray):
        return arr
    get = getattr(arr, "get", None)  # CuPy arrays
    return get() if get is not None else np.asarray(arr)
