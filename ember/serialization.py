"""save / load in PyTorch's own checkpoint formats, read and written without PyTorch, safe by default.

A tensor pickles as the same globals ``torch.save`` writes (``torch._utils._rebuild_tensor_v2`` over a
persistent-id storage), so ``torch.load(..., weights_only=True)`` reads ember's files, and the
unpickler here maps those names back to ember, so torch's files load without torch installed.

NOTE [ checkpoint layout ] (torch/serialization.py ``_save`` and ``_legacy_save``). The zip format::

    archive/data.pkl             the pickled object; a tensor is REDUCE(_rebuild_tensor_v2, (storage, offset,
                                 size, stride, requires_grad, OrderedDict())) and its storage is the
                                 persistent id ("storage", torch.FloatStorage, key, "cpu", numel)
    archive/.format_version      "1"            archive/.storage_alignment   "64"
    archive/byteorder            "little"       archive/data/<key>           each storage's raw bytes
    archive/version              "3\\n"          archive/.data/serialization_id

Every record's bytes start on a 64-byte boundary (padding in the local header's "FB" extra field), so
a reader may map storages in place. The legacy format is a run of pickles: a magic number, the
protocol version, sys_info, the object (6-field storage ids), the storage keys, then per storage an
int64 element count and its bytes.

NOTE [ storages ] ember's storage is a tensor's NumPy base array: views of one base save one record
and load back as views of one array, so sharing survives the round trip both ways.
"""

from __future__ import annotations

import _compat_pickle
import codecs
import contextlib
import io
import mmap as _mmap
import os
import pickle
import pickletools
import secrets
import stat
import struct
import sys
import zipfile
from collections import Counter, OrderedDict
from collections.abc import Callable
from typing import IO, Any

from . import _backend as B
from . import dtypes as D
from ._backend import np
from .tensor import Size, Tensor, _wrap

__all__ = [
    "save", "load", "TypedStorage", "WeightsOnlyUnpicklingError", "default_restore_location",
    "add_safe_globals", "get_safe_globals", "clear_safe_globals", "safe_globals",
]  # fmt: skip

FILE_LIKE = str | os.PathLike | IO[bytes]
MAP_LOCATION = None | str | B.Device | dict | Callable

MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
PROTOCOL_VERSION = 1001
_ALIGN = 64
_STORAGE_NAMES = {
    "bool": "BoolStorage", "uint8": "ByteStorage", "int8": "CharStorage", "int16": "ShortStorage",
    "int32": "IntStorage", "int64": "LongStorage", "float16": "HalfStorage", "float32": "FloatStorage",
    "float64": "DoubleStorage", "bfloat16": "BFloat16Storage",
}  # fmt: skip
# attributes ember itself keeps in a tensor's __dict__: bookkeeping, not state torch should see
_EMBER_PRIVATE = frozenset(
    {"_base", "_hooks", "_retains_grad", "_view_fn", "_post_acc_hooks", "_is_buffer", "persistent",
     "_volatile"}
)  # fmt: skip


class WeightsOnlyUnpicklingError(pickle.UnpicklingError):
    """A ``weights_only`` load met something outside the allow-list; nothing from the file was run."""


class TypedStorage:
    """A flat, typed block of memory that tensors view: what ``map_location`` callables receive."""

    __slots__ = ("_data", "dtype", "device")

    def __init__(self, data, dtype: D.dtype, device: B.Device = B.CPU):
        self._data, self.dtype, self.device = data, dtype, device

    def size(self) -> int:
        return int(self._data.size)

    __len__ = size

    def nbytes(self) -> int:
        return int(self._data.nbytes)

    def element_size(self) -> int:
        return self.dtype.itemsize

    @property
    def is_cuda(self) -> bool:
        return self.device.type == "cuda"

    def to(self, device) -> TypedStorage:
        dev = B.canonical(device)
        if dev == self.device:
            return self
        return TypedStorage(B.to_device(self._data, dev), self.dtype, dev)

    def cpu(self) -> TypedStorage:
        return self.to("cpu")

    def cuda(self, device=None, non_blocking: bool = False) -> TypedStorage:
        return self.to(f"cuda:{device}" if isinstance(device, int) else (device or "cuda"))

    def __repr__(self) -> str:
        return f"TypedStorage(dtype=torch.{self.dtype.name}, device='{self.device}', size={self.size()})"


# ---------------------------------------------------------------------------------------------------
# save
# ---------------------------------------------------------------------------------------------------
class _Global:
    """Stands in for a torch global such as ``torch._utils._rebuild_tensor_v2``: pickled by name only."""

    __slots__ = ("module", "name")

    def __init__(self, module: str, name: str):
        self.module, self.name = module, name

    def __call__(self, *args):  # pickle insists a REDUCE function be callable; this one is never run
        raise TypeError(f"{self.module}.{self.name} is a stand-in for pickling, not a function")


_GLOBALS: dict[tuple[str, str], _Global] = {}


def _g(module: str, name: str) -> _Global:
    """One stand-in per name, so the pickle memo writes each global once."""
    key = (module, name)
    if key not in _GLOBALS:
        _GLOBALS[key] = _Global(module, name)
    return _GLOBALS[key]


def _parameter_class():
    """ember.nn.Parameter, or None while ember.nn cannot be imported (it is imported on first need)."""
    try:
        from .nn.parameter import Parameter  # noqa: PLC0415 - ember.nn is optional here
    except Exception:  # noqa: BLE001 - a broken ember.nn must not stop plain tensors from saving and loading
        return None
    return Parameter


def _torch_name(obj) -> tuple[str, str] | None:
    """The torch global that stands for an ember object (a dtype, Tensor, Size, device, ...), if any."""
    t = type(obj)
    if t is _Global:
        return obj.module, obj.name
    if t is D.dtype:
        return "torch", obj.name
    if obj is Tensor:
        return "torch", "Tensor"
    if obj is Size:
        return "torch", "Size"
    if obj is B.Device:
        return "torch", "device"
    if isinstance(obj, type) and issubclass(obj, Tensor) and obj is _parameter_class():
        return "torch.nn.parameter", "Parameter"
    return None


class _StorageRef:
    """One storage record of a save: a base array, its key, and the dtype its tensors read it as."""

    __slots__ = ("root", "key", "dtype", "location", "numel")

    def __init__(self, root, key: str, dtype: D.dtype, location: str):
        self.root, self.key, self.dtype, self.location = root, key, dtype, location
        self.numel = root.nbytes // dtype.itemsize

    def pid(self, legacy: bool) -> tuple:
        kind = _g("torch", _STORAGE_NAMES[self.dtype.name])
        if legacy:
            return ("storage", kind, self.key, self.location, self.numel, None)
        return ("storage", kind, self.key, self.location, self.numel)

    def host_bytes(self) -> memoryview:
        host = B.to_host(self.root)
        return memoryview(host.ravel(order="K").view(np.uint8))  # memory order: a contiguous root, no copy


def _layout(arr, itemsize: int):
    """(root, offset, strides) in elements for ``arr`` as a view of its base's memory, or None when a
    torch tensor cannot express it (negative strides, a misaligned or non-contiguous base, no elements)."""
    if arr.size == 0:
        return None
    kind = np.ndarray if isinstance(arr, np.ndarray) else type(arr)
    root = arr
    while isinstance(root.base, kind):
        root = root.base
    if not (root.flags.c_contiguous or root.flags.f_contiguous):
        return None
    offset = _ptr(arr) - _ptr(root)
    if root.nbytes % itemsize or offset % itemsize or any(s < 0 or s % itemsize for s in arr.strides):
        return None
    return root, offset // itemsize, tuple(s // itemsize for s in arr.strides)


def _contiguous(shape: tuple) -> tuple:
    strides, n = [], 1
    for size in reversed(shape):
        strides.append(n)
        n *= max(size, 1)
    return tuple(reversed(strides))


def _ptr(arr) -> int:
    iface = getattr(arr, "__array_interface__", None) or arr.__cuda_array_interface__
    return iface["data"][0]


class _Storages:
    """The storages one save writes, keyed by base array so that views share a record."""

    def __init__(self):
        self.refs: list[_StorageRef] = []
        self._by_root: dict[int, _StorageRef] = {}

    def add(self, t: Tensor) -> tuple[_StorageRef, int, tuple]:
        arr, dtype = t._data, t.dtype
        found = _layout(arr, dtype.itemsize)
        if found is None:  # save a compact copy: the values are exact, only this tensor's sharing is lost
            root, offset, stride = B.xp_for(t.device).ascontiguousarray(arr), 0, _contiguous(arr.shape)
        else:
            root, offset, stride = found
        ref = self._by_root.get(id(root))
        if ref is None:
            ref = _StorageRef(root, str(len(self.refs)), dtype, str(t.device))
            self._by_root[id(root)] = ref  # the ref holds root, so its id cannot be reused mid-save
            self.refs.append(ref)
        elif ref.dtype is not dtype:
            raise RuntimeError(
                "Cannot save multiple tensors or storages that view the same data as different types"
            )
        return ref, offset, stride


def _tensor_state(t: Tensor) -> dict:
    return {k: v for k, v in t.__dict__.items() if k not in _EMBER_PRIVATE}


def _reduce_tensor(t: Tensor, storages: _Storages) -> tuple:
    """The reduce tuple torch's ``Tensor.__reduce_ex__`` / ``Parameter.__reduce_ex__`` would give."""
    if t.device.type not in ("cpu", "cuda"):
        raise RuntimeError(f"cannot save a tensor on device '{t.device}'")
    state = _tensor_state(t)
    param = _parameter_class() if type(t) is not Tensor else None
    if param is not None and isinstance(t, param):
        if state:
            return _g("torch._utils", "_rebuild_parameter_with_state"), (t.data, t._rg, OrderedDict(), state)
        return _g("torch._utils", "_rebuild_parameter"), (t.data, t._rg, OrderedDict())
    ref, offset, stride = storages.add(t)
    rebuild = _g("torch._utils", "_rebuild_tensor_v2")
    args = (ref, offset, tuple(t._data.shape), stride, t._rg, OrderedDict())
    if type(t) is Tensor and not state:
        return rebuild, args
    return _g("torch._tensor", "_rebuild_from_type_v2"), (rebuild, type(t), args, state)


class _TorchPicklerMixin:
    """Pickles ember tensors, dtypes, sizes and devices as the torch globals ``torch.save`` writes.

    It needs the pure-Python pickler: only there can ``save_global`` write a name (``torch.Size``)
    without importing its module.
    """

    def __init__(self, file, protocol: int, storages: _Storages, legacy: bool):
        super().__init__(file, protocol)
        self._storages, self._legacy = storages, legacy

    def persistent_id(self, obj):
        return obj.pid(self._legacy) if type(obj) is _StorageRef else None

    def reducer_override(self, obj):
        if isinstance(obj, Tensor):
            return _reduce_tensor(obj, self._storages)
        t = type(obj)
        if t is Size:
            return _g("torch", "Size"), (tuple(obj),)
        if t is B.Device:
            return _g("torch", "device"), (obj.type,) if obj.index is None else (obj.type, obj.index)
        if _torch_name(obj) is not None:
            return "torch"  # a string means "save as a global": save_global below writes the torch name
        return NotImplemented

    def save_global(self, obj, name=None):
        found = _torch_name(obj)
        if found is None:
            return super().save_global(obj, name)
        module, qualname = found
        if self.proto >= 4:
            self.save(module)
            self.save(qualname)
            self.write(pickle.STACK_GLOBAL)
        else:
            self.write(pickle.GLOBAL + f"{module}\n{qualname}\n".encode())
        self.memoize(obj)
        return None


_PICKLERS: dict[type, type] = {}


def _pickle(obj, pickle_module, protocol: int, legacy: bool) -> tuple[bytes, list[_StorageRef]]:
    base = pickle._Pickler if pickle_module is pickle else pickle_module.Pickler
    if base not in _PICKLERS:
        _PICKLERS[base] = type("TorchPickler", (_TorchPicklerMixin, base), {})
    storages = _Storages()
    buf = io.BytesIO()
    _PICKLERS[base](buf, protocol, storages, legacy).dump(obj)
    return buf.getvalue(), storages.refs


def _write_zip(fh: IO[bytes], pkl: bytes, refs: list[_StorageRef]) -> None:
    with zipfile.ZipFile(fh, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        start = zf.start_dir

        def record(name: str, payload) -> None:
            info = zipfile.ZipInfo(f"archive/{name}")
            info.file_size = size = memoryview(payload).nbytes
            zip64 = size * 1.05 > zipfile.ZIP64_LIMIT  # zipfile's own rule; a zip64 header is 20 bytes longer
            header = 30 + len(info.filename.encode()) + 4 + (20 if zip64 else 0)
            pad = -(zf.start_dir - start + header) % _ALIGN
            info.extra = b"FB" + struct.pack("<H", pad) + b"Z" * pad
            with zf.open(info, "w", force_zip64=zip64) as w:
                w.write(payload)
            info.extra = b""  # the padding belongs in the local header only, as in torch's files

        record("data.pkl", pkl)
        record(".format_version", b"1")
        record(".storage_alignment", str(_ALIGN).encode())
        record("byteorder", sys.byteorder.encode())
        for ref in refs:
            record(f"data/{ref.key}", ref.host_bytes())
        record("version", b"3\n")
        record(".data/serialization_id", str(secrets.randbits(128)).zfill(40).encode())


def _write_legacy(fh: IO[bytes], pkl: bytes, refs: list[_StorageRef], protocol: int) -> None:
    sizes = {"short": struct.calcsize("=h"), "int": struct.calcsize("=i"), "long": struct.calcsize("=l")}
    sys_info = {
        "protocol_version": PROTOCOL_VERSION,
        "little_endian": sys.byteorder == "little",
        "type_sizes": sizes,
    }
    for header in (MAGIC_NUMBER, PROTOCOL_VERSION, sys_info):
        pickle.dump(header, fh, protocol=protocol)
    fh.write(pkl)
    pickle.dump([ref.key for ref in refs], fh, protocol=protocol)
    for ref in refs:
        fh.write(struct.pack("<q", ref.numel))
        fh.write(ref.host_bytes())


def _atomic_write(path: str, write: Callable[[IO[bytes]], None]) -> None:
    """Write a temp file beside ``path`` and rename it over ``path``: a failure leaves the old file whole."""
    path = os.path.realpath(path)  # through a symlink: replace what it points at, not the link
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        raise RuntimeError(f"Parent directory {directory} does not exist.")
    tmp = os.path.join(directory, f".{os.path.basename(path)}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        with contextlib.suppress(FileNotFoundError):  # keep the permissions of the file being replaced
            os.chmod(tmp, stat.S_IMODE(os.stat(path).st_mode))
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def save(
    obj: Any,
    f: FILE_LIKE,
    pickle_module: Any = pickle,
    pickle_protocol: int = 2,
    _use_new_zipfile_serialization: bool = True,
) -> None:
    """Save an object (tensors, state dicts, optimizer states, ...) in PyTorch's checkpoint format.

    The file loads in ``torch.load(f, weights_only=True)`` when ``obj`` holds only tensors,
    containers and primitive values. Saving to a path is atomic: the data goes to a temporary file
    in the same directory that then replaces ``f``, so a failure midway leaves an old ``f`` intact.

    Args:
        obj: the object to save.
        f: a path (str or ``os.PathLike``) or a writable binary file object.
        pickle_module: the module to pickle with; it needs a pure-Python ``Pickler`` (``pickle``, ``dill``).
        pickle_protocol: the pickle protocol. Default: 2, as torch.
        _use_new_zipfile_serialization: ``False`` writes torch's legacy (pre-1.6) format.

    Example::

        >>> torch.save(model.state_dict(), "model.pt")
    """
    legacy = not _use_new_zipfile_serialization
    pkl, refs = _pickle(obj, pickle_module, pickle_protocol, legacy)  # before the file is touched

    def write(fh: IO[bytes]) -> None:
        if legacy:
            _write_legacy(fh, pkl, refs, pickle_protocol)
        else:
            _write_zip(fh, pkl, refs)

    if isinstance(f, (str, os.PathLike)):
        _atomic_write(os.fspath(f), write)
    else:
        write(f)
        if hasattr(f, "flush"):
            f.flush()


# ---------------------------------------------------------------------------------------------------
# load: rebuilding tensors
# ---------------------------------------------------------------------------------------------------
class _StorageType:
    """What ``torch.FloatStorage`` and friends unpickle to: only their dtype matters."""

    __slots__ = ("dtype", "name")

    def __init__(self, dtype: D.dtype, name: str):
        self.dtype, self.name = dtype, name

    def __repr__(self) -> str:
        return f"torch.{self.name}"


def _int_tuple(x, what: str) -> tuple[int, ...]:
    if not isinstance(x, (tuple, list)) or not all(type(i) is int for i in x):
        raise pickle.UnpicklingError(f"a tensor's {what} must be a tuple of ints, got {x!r}")
    return tuple(x)


def _view(flat, offset: int, size: tuple, stride: tuple):
    """The strided view (in elements) of a storage's flat array, checked to stay inside it."""
    if any(s < 0 for s in size) or any(s < 0 for s in stride) or offset < 0 or len(size) != len(stride):
        raise pickle.UnpicklingError(
            f"invalid tensor geometry: size {size}, stride {stride}, offset {offset}"
        )
    numel = 1
    for s in size:
        numel *= s
    xp = np if isinstance(flat, np.ndarray) else B.xp_for(B.Device("cuda"))
    if numel == 0:
        return xp.empty(size, flat.dtype)
    last = offset + sum((n - 1) * st for n, st in zip(size, stride, strict=True))
    if last >= flat.size:
        raise pickle.UnpicklingError(
            f"a tensor of size {list(size)}, stride {list(stride)} and offset {offset} reaches past the end "
            f"of its storage of {flat.size} elements: the checkpoint is corrupted"
        )
    if all(n == 1 or st == c for n, st, c in zip(size, stride, _contiguous(size), strict=True)):
        # the common case: a plain reshape keeps the storage as the view's base
        return flat[offset : offset + numel].reshape(size)
    item = flat.dtype.itemsize
    if xp is np:
        return np.ndarray(
            size, flat.dtype, buffer=flat, offset=offset * item, strides=[s * item for s in stride]
        )
    return xp.lib.stride_tricks.as_strided(flat[offset:], size, [s * item for s in stride])


def _rebuild_tensor(storage, storage_offset, size, stride) -> Tensor:
    if not isinstance(storage, TypedStorage):
        raise pickle.UnpicklingError(f"a tensor must be rebuilt over a storage, got {type(storage).__name__}")
    if type(storage_offset) is not int:
        raise pickle.UnpicklingError(f"a tensor's storage offset must be an int, got {storage_offset!r}")
    arr = _view(storage._data, storage_offset, _int_tuple(size, "size"), _int_tuple(stride, "stride"))
    return _wrap(arr, storage.dtype, storage.device)


def _rebuild_tensor_v2(  # noqa: PLR0917 - torch's signature
    storage, storage_offset, size, stride, requires_grad, backward_hooks, metadata=None
) -> Tensor:
    t = _rebuild_tensor(storage, storage_offset, size, stride)
    t.requires_grad = bool(requires_grad)
    return t


def _rebuild_tensor_v3(  # noqa: PLR0917 - torch's signature
    storage, storage_offset, size, stride, requires_grad, backward_hooks, dtype, metadata=None
) -> Tensor:
    """Used by torch for an untyped storage read as ``dtype``."""
    if not isinstance(storage, TypedStorage) or not isinstance(dtype, D.dtype):
        raise pickle.UnpicklingError("_rebuild_tensor_v3 expects a storage and a dtype")
    if storage.dtype is not dtype:
        if storage.nbytes() % dtype.itemsize:
            raise pickle.UnpicklingError(
                f"a storage of {storage.nbytes()} bytes cannot hold {dtype} elements"
            )
        storage = TypedStorage(storage._data.view(_np_dtype(dtype)), dtype, storage.device)
    return _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks)


def _set_state(obj, state) -> Any:
    """Restore Python attributes, refusing ember's internal fields (a file must not rewrite those)."""
    dict_state, slot_state = state if isinstance(state, tuple) and len(state) == 2 else (state, None)
    for part in (dict_state, slot_state):
        if not part:
            continue
        if not isinstance(part, dict):
            raise pickle.UnpicklingError(f"invalid tensor state: {part!r}")
        for k, v in part.items():
            if not isinstance(k, str) or k in Tensor.__slots__ or k in _EMBER_PRIVATE or k.startswith("__"):
                raise pickle.UnpicklingError(f"refusing to set tensor attribute {k!r} from a checkpoint")
            setattr(obj, k, v)
    return obj


def _rebuild_parameter(data, requires_grad, backward_hooks) -> Tensor:
    if not isinstance(data, Tensor):
        raise pickle.UnpicklingError(f"a Parameter must wrap a tensor, got {type(data).__name__}")
    param = _parameter_class()
    if param is None:  # ember.nn not importable: a leaf tensor is the nearest thing
        return data.detach().requires_grad_(bool(requires_grad))
    return param(data, bool(requires_grad))


def _rebuild_parameter_with_state(data, requires_grad, backward_hooks, state) -> Tensor:
    return _set_state(_rebuild_parameter(data, requires_grad, backward_hooks), state)


def _rebuild_from_type_v2(func, new_type, args, state) -> Tensor:
    """A tensor subclass, or a tensor with Python attributes."""
    if func not in (_rebuild_tensor, _rebuild_tensor_v2, _rebuild_tensor_v3, _rebuild_parameter):
        raise pickle.UnpicklingError(f"unexpected rebuild function {func!r}")
    t = func(*args)
    if not (isinstance(new_type, type) and issubclass(new_type, Tensor)):
        raise pickle.UnpicklingError(f"{new_type!r} is not a tensor type")
    if type(t) is not new_type:
        t.__class__ = new_type
    return _set_state(t, state)


def _get_layout(name: str) -> str:
    return name  # ember's layouts are their names, e.g. "torch.strided"


def _np_dtype(dtype: D.dtype):
    if dtype.np is None:
        raise RuntimeError(f"the checkpoint holds {dtype} tensors: install ml_dtypes to load them in ember")
    return dtype.np


# ---------------------------------------------------------------------------------------------------
# load: the allow-list
# ---------------------------------------------------------------------------------------------------
_USER_GLOBALS: dict[str, Any] = {}


def _allowed_globals() -> dict[str, Any]:
    """The globals a ``weights_only`` load may name: tensors, containers and primitive values."""
    u = "torch._utils."
    allowed = {
        "collections.OrderedDict": OrderedDict,
        "collections.Counter": Counter,
        "builtins.set": set,
        "builtins.frozenset": frozenset,
        "builtins.bytearray": bytearray,
        "builtins.complex": complex,
        "_codecs.encode": codecs.encode,  # how protocol 2 spells bytes
        u + "_rebuild_tensor": _rebuild_tensor,
        u + "_rebuild_tensor_v2": _rebuild_tensor_v2,
        u + "_rebuild_tensor_v3": _rebuild_tensor_v3,
        u + "_rebuild_parameter": _rebuild_parameter,
        u + "_rebuild_parameter_with_state": _rebuild_parameter_with_state,
        "torch._tensor._rebuild_from_type_v2": _rebuild_from_type_v2,
        "torch.serialization._get_layout": _get_layout,
        "torch.Size": Size,
        "torch.Tensor": Tensor,
        "torch.device": B.Device,
        "torch.storage.UntypedStorage": _StorageType(D.uint8, "storage.UntypedStorage"),
    }
    for d in D.ALL:
        allowed[f"torch.{d.name}"] = d
        allowed[f"torch.{_STORAGE_NAMES[d.name]}"] = _StorageType(d, _STORAGE_NAMES[d.name])
    param = _parameter_class()
    if param is not None:
        allowed["torch.nn.parameter.Parameter"] = param
    return allowed


def add_safe_globals(safe_globals: list) -> None:
    """Allow more globals in ``weights_only`` loads: objects, or ``(object, "module.name")`` pairs."""
    for g in safe_globals:
        obj, name = g if isinstance(g, tuple) else (g, f"{g.__module__}.{g.__qualname__}")
        _USER_GLOBALS[name] = obj


def get_safe_globals() -> list:
    return list(_USER_GLOBALS.values())


def clear_safe_globals() -> None:
    _USER_GLOBALS.clear()


@contextlib.contextmanager
def safe_globals(globals_list: list):
    """Allow ``globals_list`` (as in ``add_safe_globals``) inside a ``with`` block only."""
    saved = dict(_USER_GLOBALS)
    add_safe_globals(globals_list)
    try:
        yield
    finally:
        _USER_GLOBALS.clear()
        _USER_GLOBALS.update(saved)


def _py3_name(module: str, name: str) -> str:
    """Protocol 2 writes Python 2 names (``__builtin__.set``); read them as Python 3's."""
    if (module, name) in _compat_pickle.NAME_MAPPING:
        module, name = _compat_pickle.NAME_MAPPING[(module, name)]
    else:
        module = _compat_pickle.IMPORT_MAPPING.get(module, module)
    return f"{module}.{name}"


def _refusal(full: str, source: str) -> WeightsOnlyUnpicklingError:
    return WeightsOnlyUnpicklingError(
        f"Weights only load failed: {source} refers to the global {full}, which is not on the allow-list "
        "of tensors, containers and primitive values, so nothing from the file was run. If you trust the "
        "file, load it with weights_only=False, or allow this global with "
        f"ember.serialization.add_safe_globals([{full}])."
    )


_STRING_OPS = frozenset(
    {"SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE", "STRING", "BINSTRING", "SHORT_BINSTRING"}
)
_MARK, _GLOBAL = object(), object()  # stack markers: a MARK, and an object a global named


def _check_pickle(stream, source: str, allowed: dict[str, Any]) -> None:
    """Refuse a pickle that names a global off the allow-list, reading its opcodes without running them.

    The stack is simulated from each opcode's declared effect, tracking string values (so a protocol-4
    ``STACK_GLOBAL`` is named too) and which slots hold a global, which BUILD may not modify: setting
    attributes on ``torch.float32`` or a class would tamper with ember itself. Truncated or garbled
    data raises here too, before anything is built.
    """
    stack: list = []
    memo: dict = {}
    for op, arg, _ in pickletools.genops(stream):
        name = op.name
        full = None
        if name in ("GLOBAL", "INST"):
            full = _py3_name(*arg.split(" ", 1))
        elif name == "STACK_GLOBAL":
            module, attr = stack[-2:] if len(stack) >= 2 else (None, None)
            if not (isinstance(module, str) and isinstance(attr, str)):
                raise WeightsOnlyUnpicklingError(
                    "Weights only load failed: a global's name is computed at load time"
                )
            full = _py3_name(module, attr)
        elif name in ("EXT1", "EXT2", "EXT4"):
            raise WeightsOnlyUnpicklingError(f"Weights only load failed: extension code {arg} names a global")
        elif name == "BUILD" and len(stack) >= 2 and stack[-2] is _GLOBAL:
            raise WeightsOnlyUnpicklingError(
                f"Weights only load failed: {source} sets attributes of a global"
            )
        elif name in ("PUT", "BINPUT", "LONG_BINPUT", "MEMOIZE"):
            memo[len(memo) if name == "MEMOIZE" else arg] = stack[-1]
            continue
        elif name == "DUP":
            stack.append(stack[-1])
            continue
        if full is not None and full not in allowed and full not in _USER_GLOBALS:
            raise _refusal(full, source)
        before = op.stack_before
        if pickletools.markobject in before:
            while stack.pop() is not _MARK:
                pass
            del stack[len(stack) - before.index(pickletools.markobject) :]
        elif before:
            if len(stack) < len(before):
                raise pickle.UnpicklingError(f"stack underflow at opcode {name}")
            del stack[-len(before) :]
        if name in _STRING_OPS:
            stack.append(arg)
        elif name in ("GET", "BINGET", "LONG_BINGET"):
            stack.append(memo.get(arg))
        elif name in ("GLOBAL", "STACK_GLOBAL"):
            stack.append(_GLOBAL)
        else:
            stack.extend(_MARK if x is pickletools.markobject else None for x in op.stack_after)


def _torch_fallback(module: str, name: str):
    """A torch global outside the allow-list, for ``weights_only=False``: ember's namesake, never torch."""
    import importlib  # noqa: PLC0415

    for candidate in (
        "ember" + module[len("torch") :],
        "ember.nn" if module.startswith("torch.nn") else None,
    ):
        if candidate is None:
            continue
        with contextlib.suppress(ImportError, AttributeError):
            return getattr(importlib.import_module(candidate), name)
    raise pickle.UnpicklingError(f"the checkpoint needs {module}.{name}, which ember does not provide")


# ---------------------------------------------------------------------------------------------------
# load: reading files
# ---------------------------------------------------------------------------------------------------
def default_restore_location(storage: TypedStorage, location: str) -> TypedStorage:
    """Put a storage where it was saved ('cpu', 'cuda:0', ...), as ``torch.load`` does."""
    if location == "cpu":
        return storage.cpu()
    if location.startswith("cuda"):
        if not B.cuda_available():
            raise RuntimeError(
                "Attempting to deserialize object on a CUDA device but torch.cuda.is_available() is False. "
                "If you are running on a CPU-only machine, please use torch.load with "
                "map_location=torch.device('cpu') to map your storages to the CPU."
            )
        return storage.to(location)
    raise RuntimeError(
        f"don't know how to restore data location of a storage tagged with '{location}': ember holds data on "
        "'cpu' and 'cuda'; pass map_location='cpu'"
    )


def _restorer(map_location: MAP_LOCATION) -> Callable[[TypedStorage, str], TypedStorage]:
    if map_location is None:
        return default_restore_location
    if isinstance(map_location, dict):
        return lambda s, loc: default_restore_location(s, str(map_location.get(loc, loc)))
    if isinstance(map_location, (str, bytes, B.Device)):
        target = map_location.decode() if isinstance(map_location, bytes) else str(map_location)
        return lambda s, loc: default_restore_location(s, target)
    if callable(map_location):

        def restore(s: TypedStorage, loc: str) -> TypedStorage:
            result = map_location(s, loc)
            return default_restore_location(s, loc) if result is None else result

        return restore
    raise TypeError(
        f"map_location must be None, a string, a device, a dict or a callable, not {type(map_location)}"
    )


def _ascii(x) -> str:
    return x.decode("ascii") if isinstance(x, bytes) else x


class _Loader:
    """Storages of one load: read on first use (zip) or filled after the pickle (legacy), then placed."""

    def __init__(
        self, read: Callable, restore: Callable, weights_only: bool, source: str, *, base: type, kwargs: dict
    ):
        self.read, self.restore, self.weights_only, self.source = read, restore, weights_only, source
        self.base, self.kwargs = base, kwargs
        self.storages: dict[str, TypedStorage] = {}
        self.allowed = _allowed_globals()

    def unpickler(self, file):
        loader = self

        class Unpickler(self.base):
            def find_class(self, module, name):
                full = _py3_name(module, name)
                if full in loader.allowed:
                    return loader.allowed[full]
                if full in _USER_GLOBALS:
                    return _USER_GLOBALS[full]
                if loader.weights_only:
                    raise _refusal(full, loader.source)
                if module == "torch" or module.startswith("torch."):
                    return _torch_fallback(module, name)
                return super().find_class(module, name)

            def persistent_load(self, pid):
                return loader.storage(pid)

        return Unpickler(file, **self.kwargs)

    def storage(self, pid) -> TypedStorage:
        if isinstance(pid, tuple) and pid and _ascii(pid[0]) == "module" and not self.weights_only:
            return pid[1]  # a legacy whole-model save names each module class (torch also diffs its source)
        if not isinstance(pid, tuple) or len(pid) not in (5, 6) or _ascii(pid[0]) != "storage":
            raise pickle.UnpicklingError(f"only storages may be persistent ids, got {pid!r}")
        kind, key, location, numel = pid[1:5]
        if not isinstance(kind, _StorageType) or type(numel) is not int or numel < 0:
            raise pickle.UnpicklingError(f"invalid storage id {pid!r}")
        key, location = str(_ascii(key)), str(_ascii(location))
        storage = self.storages.get(key)
        if storage is None:
            host = TypedStorage(self.read(key, kind.dtype, numel), kind.dtype)
            storage = self.restore(host, location)
            if not isinstance(storage, TypedStorage):
                raise TypeError(f"map_location must give a storage, got {type(storage).__name__}")
            self.storages[key] = storage
        view = pid[5] if len(pid) == 6 else None
        if view is not None:  # pre-1.0 legacy files could save a slice of a storage
            view_key, offset, size = view
            if view_key not in self.storages:
                self.storages[view_key] = TypedStorage(
                    storage._data[offset : offset + size], storage.dtype, storage.device
                )
            return self.storages[view_key]
        return storage


def _read_exact(r, arr) -> None:
    """Fill ``arr`` from a stream, or raise EOFError: a short read means a truncated file."""
    mv = memoryview(arr.view(np.uint8)).cast("B")
    got = 0
    while got < len(mv):
        n = r.readinto(mv[got:])
        if not n:
            raise EOFError(f"expected {len(mv)} bytes of tensor data, found {got}")
        got += n


def _load_zip(fh, source: str, new_loader: Callable, mmap_file) -> Any:
    zf = zipfile.ZipFile(fh)
    names = zf.namelist()
    if not names or "/" not in names[0]:
        raise RuntimeError(f"{source} is a zip archive but not a checkpoint (no top-level folder)")
    prefix = names[0].split("/", 1)[0] + "/"
    infos = {n[len(prefix) :]: zf.getinfo(n) for n in names if n.startswith(prefix)}
    if "data.pkl" not in infos:
        if "constants.pkl" in infos:
            raise RuntimeError(
                f"{source} is a TorchScript archive (torch.jit.save); ember cannot load TorchScript"
            )
        raise RuntimeError(f"{source} is a zip archive without data.pkl: not a torch.save checkpoint")
    order = zf.read(infos["byteorder"]).decode() if "byteorder" in infos else "little"
    if order not in ("little", "big"):
        raise RuntimeError(f"Unknown endianness type: {order}")
    mm = _mmap.mmap(mmap_file.fileno(), 0, access=_mmap.ACCESS_COPY) if mmap_file is not None else None

    def read(key: str, dtype: D.dtype, numel: int):
        info = infos.get(f"data/{key}")
        if info is None:
            raise RuntimeError(f"{source} has no record data/{key}: the checkpoint is corrupted")
        npd = _np_dtype(dtype)
        if info.file_size != numel * dtype.itemsize:
            raise RuntimeError(
                f"{source}: record data/{key} holds {info.file_size} bytes, but {numel} {dtype} elements "
                f"need {numel * dtype.itemsize}: the checkpoint is corrupted"
            )
        if mm is not None and info.compress_type == zipfile.ZIP_STORED:  # map in place, copy on write
            fh.seek(info.header_offset)
            sig, *_, name_len, extra_len = struct.unpack("<IHHHHHIIIHH", fh.read(30))
            if sig != 0x04034B50:
                raise RuntimeError(f"{source}: bad zip local header for data/{key}")
            start = info.header_offset + 30 + name_len + extra_len
            arr = np.ndarray((numel,), npd, buffer=mm, offset=start)
        else:
            arr = np.empty(numel, npd)
            with zf.open(info) as r:  # zipfile checks the CRC once the record is read to its end
                _read_exact(r, arr)
        if order != sys.byteorder:
            arr.byteswap(inplace=True)
        return arr

    loader = new_loader(read)
    pkl = zf.read(infos["data.pkl"])
    if loader.weights_only:
        _check_pickle(pkl, source, loader.allowed)
    return loader.unpickler(io.BytesIO(pkl)).load()


def _load_legacy(fh, source: str, new_loader: Callable) -> Any:
    start = fh.tell()
    fh.seek(start + 257)
    if fh.read(5) == b"ustar":
        raise RuntimeError(
            f"{source} uses the tar checkpoint format of PyTorch < 0.4, which ember cannot read"
        )
    fh.seek(0, io.SEEK_END)
    size = fh.tell() - start
    fh.seek(start)
    if size == 0:
        raise RuntimeError(f"{source} is empty: not a checkpoint")
    pending: list[tuple[TypedStorage, Any]] = []

    def read(key: str, dtype: D.dtype, numel: int):
        if numel * dtype.itemsize > size:
            raise RuntimeError(
                f"{source}: a storage of {numel} elements cannot fit in a {size}-byte file: corrupted"
            )
        return np.empty(numel, _np_dtype(dtype))  # filled when the bytes are reached, after the pickle

    loader = new_loader(read)
    header = _Loader(
        read, default_restore_location, True, source, base=pickle.Unpickler, kwargs={"encoding": "utf-8"}
    )

    def header_load():
        return header.unpickler(fh).load()

    if header_load() != MAGIC_NUMBER:
        raise RuntimeError(f"{source}: Invalid magic number; not a torch.save checkpoint, or a corrupt one")
    version = header_load()
    if version != PROTOCOL_VERSION:
        raise RuntimeError(f"{source}: Invalid protocol version: {version}")
    sys_info = header_load()
    little = sys_info.get("little_endian", True) if isinstance(sys_info, dict) else True
    if loader.weights_only:
        at = fh.tell()
        _check_pickle(fh, source, loader.allowed)
        fh.seek(at)
    result = loader.unpickler(fh).load()
    keys = header_load()
    if not isinstance(keys, list):
        raise RuntimeError(f"{source}: corrupted storage table")
    for key in keys:
        storage = loader.storages.get(str(_ascii(key)))
        if storage is None:
            raise RuntimeError(
                f"{source}: storage {key!r} is listed but never used: the checkpoint is corrupted"
            )
        (numel,) = struct.unpack("<q", fh.read(8))
        if numel != storage.size():
            raise RuntimeError(f"{source}: storage {key!r} has {numel} elements, expected {storage.size()}")
        host = storage._data if storage.device.type == "cpu" else np.empty(numel, _np_dtype(storage.dtype))
        _read_exact(fh, host)
        if little != (sys.byteorder == "little"):
            host.byteswap(inplace=True)
        pending.append((storage, host))
    for storage, host in pending:  # storages moved by map_location get their bytes now
        if host is not storage._data:
            storage._data[...] = B.to_device(host, storage.device)
    return result


@contextlib.contextmanager
def _opened(f: FILE_LIKE):
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as fh:
            yield fh, repr(os.fspath(f))
    else:
        seekable = getattr(f, "seekable", lambda: False)()
        yield (f if seekable else io.BytesIO(f.read())), "the checkpoint"


_CORRUPT = (
    zipfile.BadZipFile, EOFError, struct.error, pickle.UnpicklingError, ValueError, KeyError, IndexError,
    OverflowError, UnicodeDecodeError, TypeError, AttributeError,
)  # fmt: skip


def load(
    f: FILE_LIKE,
    map_location: MAP_LOCATION = None,
    pickle_module: Any = None,
    *,
    weights_only: bool = True,
    mmap: bool | None = None,
    **pickle_load_args: Any,
) -> Any:
    """Load an object saved with ``torch.save`` or ``ember.save`` (zip or legacy format).

    With ``weights_only=True`` (the default) the file may hold only tensors, containers and primitive
    values: any other global (``os.system``, a class, a function) is refused, naming it, before
    anything in the file runs. Truncated and corrupted files raise a ``RuntimeError`` that says so.

    Args:
        f: a path or a readable binary file object.
        map_location: where storages go: ``'cpu'``, a device, a dict from saved to new location, or a
            callable ``(storage, location) -> storage``. Default: where they were saved.
        pickle_module: the unpickling module (only with ``weights_only=False``).
        weights_only: restrict unpickling to the allow-list. Default: ``True``.
        mmap: map a zip checkpoint's storages from the file instead of reading them (copy on write).

    Example::

        >>> model.load_state_dict(torch.load("model.pt"))
    """
    if weights_only and pickle_module is not None:
        raise RuntimeError(
            "Can not safely load weights when explicit pickle_module is specified; pass weights_only=False"
        )
    if mmap and not isinstance(f, (str, os.PathLike)):
        raise ValueError("f must be a file path in order to use the mmap argument")
    base = pickle.Unpickler if pickle_module is None else pickle_module.Unpickler
    pickle_load_args.setdefault("encoding", "utf-8")
    restore = _restorer(map_location)
    with _opened(f) as (fh, source):

        def new_loader(read: Callable) -> _Loader:
            return _Loader(read, restore, weights_only, source, base=base, kwargs=pickle_load_args)

        try:
            start = fh.tell()
            is_zip = fh.read(4) == b"PK\x03\x04"
            fh.seek(start)
            if is_zip:
                return _load_zip(fh, source, new_loader, fh if mmap else None)
            if mmap:
                raise RuntimeError(
                    "mmap can only be used with files saved with _use_new_zipfile_serialization=True"
                )
            return _load_legacy(fh, source, new_loader)
        except WeightsOnlyUnpicklingError:
            raise
        except _CORRUPT as e:
            raise RuntimeError(f"{source} is not a valid checkpoint (truncated or corrupted?): {e}") from e
