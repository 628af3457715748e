"""``torch.cuda``: answers honestly when no GPU is present; CuPy backs it when one is."""

from __future__ import annotations

from . import _backend as B


def is_available() -> bool:
    return B.cuda_available()


def device_count() -> int:
    return B.cuda_device_count()


def current_device() -> int:
    _require()
    return 0


def _require() -> None:
    if not B.cuda_available():
        raise RuntimeError(
            "Found no NVIDIA driver on your system (torch.cuda.is_available() is False). "
            "ember uses CuPy for GPUs; run on the cpu device instead."
        )


def get_device_name(device=None) -> str:
    _require()
    cp = B._cupy()
    idx = 0 if device is None else B.Device(device).index or 0
    return cp.cuda.runtime.getDeviceProperties(idx)["name"].decode()


def synchronize(device=None) -> None:
    if B.cuda_available():
        B._cupy().cuda.Device().synchronize()


def manual_seed(seed: int) -> None:
    """Seeds the GPU generators; a no-op without a GPU, as in PyTorch."""


manual_seed_all = manual_seed


def is_initialized() -> bool:
    return B.cuda_available()


def empty_cache() -> None:
    if B.cuda_available():
        B._cupy().get_default_memory_pool().free_all_blocks()


def _legacy_types():
    from .creation import LEGACY_CUDA  # noqa: PLC0415

    return LEGACY_CUDA


def __getattr__(name: str):
    if name.endswith("Tensor"):
        types = _legacy_types()
        if name in types:
            return types[name]
    raise AttributeError(f"module 'torch.cuda' has no attribute '{name}'")
