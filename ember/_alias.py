"""Make ``import torch`` (and every ``torch.X.Y``) import ember instead.

``install()`` puts a finder at the front of ``sys.meta_path``. For a name ``torch.X.Y`` it imports
``ember.X.Y`` and stores that very module object under the ``torch`` name too, so
``sys.modules["torch.nn"] is sys.modules["ember.nn"]`` and ``torch.nn is ember.nn``.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import types

__all__ = ["ember_name", "install", "installed", "uninstall"]


def ember_name(name: str) -> str | None:
    """``torch.X.Y`` -> ``ember.X.Y``; None for names outside ``torch``."""
    if name == "torch" or name.startswith("torch."):
        return "ember" + name[len("torch") :]
    return None


class _AliasLoader(importlib.abc.Loader):
    """Loads ``torch.X`` by importing ``ember.X`` and putting it in ``sys.modules`` under both names."""

    def __init__(self, target: str) -> None:
        self.target = target

    def exec_module(self, module: types.ModuleType) -> None:
        # The import system hands us a fresh placeholder module; replacing it in sys.modules is the
        # supported way to make the import statement return a different object (the ember module),
        # and it leaves the ember module's own __spec__/__name__ untouched. __import__ rather than
        # importlib.import_module: no extra importlib frame in tracebacks of a failing ember module.
        __import__(self.target)
        sys.modules[module.__name__] = sys.modules[self.target]


class _TorchAliasFinder(importlib.abc.MetaPathFinder):
    """Answers for ``torch`` and ``torch.*`` only; every other name goes to the normal finders."""

    def find_spec(
        self, fullname: str, path: object = None, target: types.ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        target_name = ember_name(fullname)
        if target_name is None:
            return None
        # Check up front so a missing piece says what is missing, rather than "No module named".
        # The parent (ember.X for ember.X.Y) is already imported: torch.X was imported first.
        # sys.modules first: a module ember built at runtime may have no __spec__ for find_spec.
        if target_name not in sys.modules and importlib.util.find_spec(target_name) is None:
            raise ModuleNotFoundError(
                f"ember does not provide '{fullname}' yet (there is no module '{target_name}')",
                name=fullname,
            )
        return importlib.util.spec_from_loader(fullname, _AliasLoader(target_name), origin=target_name)


_finder = _TorchAliasFinder()


def installed() -> bool:
    """Whether the ``torch`` -> ``ember`` alias is active."""
    return _finder in sys.meta_path


def install() -> None:
    """Route ``import torch...`` to ember. Idempotent.

    Raises RuntimeError when the real PyTorch is already imported in this process: the two
    cannot share the ``torch`` name, and silently swapping modules under live objects would be worse.
    """
    existing = sys.modules.get("torch")
    if existing is not None and existing is not sys.modules.get("ember"):
        where = getattr(existing, "__file__", None) or repr(existing)
        raise RuntimeError(
            f"cannot alias 'torch' to ember: the real PyTorch is already imported in this process "
            f"(from {where}). Install the alias before anything imports torch, "
            f"or run the script with 'python -m ember run SCRIPT'."
        )
    if not installed():
        sys.meta_path.insert(0, _finder)
    # ember.X modules imported before install() need no work here: the finder's import_module()
    # call returns the already-loaded ember.X, so torch.X becomes that same object on first request.


def uninstall() -> None:
    """Undo ``install()``: drop the finder and the ``torch*`` aliases it made. Idempotent."""
    while _finder in sys.meta_path:
        sys.meta_path.remove(_finder)
    for name in [n for n in sys.modules if ember_name(n) is not None]:
        # Only remove our aliases; a real torch module under that name is not ours to touch.
        if sys.modules[name] is sys.modules.get(ember_name(name)):
            del sys.modules[name]
