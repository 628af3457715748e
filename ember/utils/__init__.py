"""ember.utils: data loading (``ember.utils.data``) and checkpoint helpers (``ember.utils.safetensors``)."""


def __getattr__(name: str):
    # ``torch.utils.data.DataLoader`` works without importing the submodule first, as in PyTorch
    if name in ("data", "safetensors"):
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'ember.utils' has no attribute '{name}'")
