"""Tensor: an array plus dtype, device and autograd fields. Math methods delegate to ``ember.ops``."""

from __future__ import annotations

import warnings

from . import _backend as B
from . import dtypes as D
from ._backend import np
from .autograd import function as _fn

_NEW = object.__new__
_FROM_NP = D.FROM_NP
_CPU = B.CPU


class Size(tuple):
    """``torch.Size``: a tuple of dimension sizes."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"torch.Size({list(self)})"

    def numel(self) -> int:
        n = 1
        for s in self:
            n *= s
        return n

    def __getitem__(self, i):
        r = tuple.__getitem__(self, i)
        return Size(r) if isinstance(i, slice) else r

    def __add__(self, other):
        return Size(tuple(self) + tuple(other))


_ndarray = np.ndarray


def _wrap(data, dtype=None, device=None):
    """Make a tensor around an existing array (no copy). The hot path of every op."""
    if type(data) is not _ndarray and not hasattr(data, "__cuda_array_interface__"):
        data = np.asarray(data)
    t = _NEW(Tensor)
    t._data = data
    t.dtype = dtype if dtype is not None else _FROM_NP[data.dtype]
    t.device = device if device is not None else _CPU
    t._rg = False
    t._grad = None
    t.grad_fn = None
    t._output_nr = 0
    t._vc = None
    return t


def _zeros(shape, dtype, device):
    return _wrap(B.xp_for(device).zeros(shape, dtype.np), dtype, device)


class Tensor:
    """A multi-dimensional array that can record operations for automatic differentiation."""

    __slots__ = (
        "_data",
        "dtype",
        "device",
        "_rg",
        "_grad",
        "grad_fn",
        "_output_nr",
        "_vc",
        "__dict__",
        "__weakref__",
    )
    # rarely-set fields live in __dict__ with these class-level defaults
    _base = None
    _vver = 0  # a view's version when its grad_fn was last built from its base
    _nograd_view = False  # a view of a graph tensor made under no_grad
    _hooks = None
    _retains_grad = False
    _view_fn = None
    __array_priority__ = 1000  # numpy defers ``ndarray * tensor`` to Tensor.__rmul__

    def __new__(cls, *args, device=None, dtype=None):
        """The legacy constructor: ``Tensor(2, 3)`` (uninitialised) or ``Tensor([1, 2])`` (data)."""
        from .creation import _legacy_new  # noqa: PLC0415 - creation imports this module

        return _legacy_new(cls, D.get_default_dtype() if dtype is None else dtype, args, device)

    # -- autograd fields ----------------------------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        return self._rg

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if self.grad_fn is not None:
            if value:
                return
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use a computed "
                "variable in a subgraph that doesn't require differentiation use var_no_grad = var.detach()."
            )
        if value and not self.dtype.is_floating_point:
            raise RuntimeError("only Tensors of floating point and complex dtype can require gradients")
        self._rg = bool(value)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if requires_grad and self.grad_fn is None and not self.dtype.is_floating_point:
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        self.requires_grad = requires_grad
        return self

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def grad(self):
        if self.grad_fn is not None and not self._retains_grad:
            warnings.warn(
                "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
                "attribute won't be populated during autograd.backward(). If you indeed want the .grad field "
                "to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. If you "
                "access the non-leaf Tensor by mistake, make sure you access the leaf Tensor instead.",
                UserWarning,
                stacklevel=2,
            )
        return self._grad

    @grad.setter
    def grad(self, value) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(
                    "assigned grad expected to be a Tensor or None but got grad of type "
                    f"{type(value).__name__}"
                )
            if value._data.shape != self._data.shape:
                raise RuntimeError(
                    f"attempting to assign a gradient of size '{list(value._data.shape)}' to a tensor "
                    "of size "
                    f"'{list(self._data.shape)}'. Please ensure that the gradient and the tensor are "
                    "the same size"
                )
            if value.dtype is not self.dtype:
                raise RuntimeError(
                    "attempting to assign a gradient with dtype "
                    f"'{_CPP_NAMES.get(value.dtype.name, value.dtype.name)}'"
                    f" to a tensor with grad_dtype '{self.dtype._legacy.removesuffix('Tensor')}'. The "
                    "gradient must "
                    "match the tensor's grad_dtype (defaults to the tensor's dtype). You can set the "
                    "tensor's "
                    "grad_dtype attribute with a specific dtype, or None to allow any dtype. Set "
                    "grad_dtype with "
                    "caution. Diverging the dtypes of a tensor and its gradient may break downstream "
                    "systems that "
                    "assume they match."
                )
            if value.device != self.device:
                raise RuntimeError("assigned grad has data located on a different device")
        self._grad = value

    @grad.deleter
    def grad(self) -> None:
        self._grad = None

    @property
    def data(self) -> Tensor:
        """The same storage, detached from the graph, with its own version counter."""
        return _wrap(self._data, self.dtype, self.device)

    @data.setter
    def data(self, value: Tensor) -> None:
        if not isinstance(value, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(value).__name__}")
        self._data, self.dtype, self.device = value._data, value.dtype, value.device

    @property
    def _version(self) -> int:
        return 0 if self._vc is None else self._vc[0]

    def _bump(self) -> None:
        """Record an in-place change (views share the counter with their base)."""
        if self._vc is None:
            self._vc = [1]
        else:
            self._vc[0] += 1

    def _alias(self) -> Tensor:
        """A new tensor object over the same data and version counter, with no history."""
        if self._vc is None:
            self._vc = [0]
        t = _wrap(self._data, self.dtype, self.device)
        t._vc = self._vc
        return t

    def detach(self) -> Tensor:
        """A tensor sharing storage (and version counter) with this one, outside the graph."""
        t = self._alias()
        # not an autograd view (PyTorch: ``detach()._base`` is None), though it shares storage
        return t

    def detach_(self) -> Tensor:
        if self._base is not None and self._base._rg:
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        self.grad_fn, self._rg, self._output_nr = None, False, 0
        return self

    def retain_grad(self) -> None:
        if self.grad_fn is None:
            if not self._rg:
                raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
            return
        if self._retains_grad:
            return
        import weakref  # noqa: PLC0415

        ref = weakref.ref(self)

        def hook(g):
            t = ref()
            if t is not None:
                t._grad = g.detach().clone() if t._grad is None else t._grad + g
            return g

        self.__dict__["_retains_grad"] = True
        self._node_hooks().append(hook)

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    def _node_hooks(self) -> list:
        node = self.grad_fn
        if node._pre_hooks is None:
            node._pre_hooks = {}
        return node._pre_hooks.setdefault(self._output_nr, [])

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; it may return a new grad."""
        if not self._rg:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is None:
            if self._hooks is None:
                self.__dict__["_hooks"] = []
            hooks = self._hooks
        else:
            hooks = self._node_hooks()
            if self._retains_grad:  # the retain_grad hook always runs last, as in PyTorch
                hooks.insert(len(hooks) - 1, hook)
                return _fn._RemovableHandle(hooks, hook)
        hooks.append(hook)
        return _fn._RemovableHandle(hooks, hook)

    def register_post_accumulate_grad_hook(self, hook):
        if self.grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        hooks = self.__dict__.setdefault("_post_acc_hooks", [])
        hooks.append(hook)
        return _fn._RemovableHandle(hooks, hook)

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None) -> None:
        """Accumulate d(self)/d(leaf) into each leaf's ``.grad``; see ``torch.autograd.backward``."""
        from .autograd import backward  # noqa: PLC0415

        backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    # -- shape and storage ------------------------------------------------------------------------
    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    def size(self, dim: int | None = None):
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_dim(dim, self._data.ndim)]

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def dim(self) -> int:
        return self._data.ndim

    ndimension = dim

    def numel(self) -> int:
        return self._data.size

    nelement = numel

    def element_size(self) -> int:
        return self.dtype.itemsize

    @property
    def itemsize(self) -> int:
        return self.dtype.itemsize

    @property
    def nbytes(self) -> int:
        return self._data.size * self.dtype.itemsize

    def stride(self, dim: int | None = None):
        d = self._data
        if d.size == 0:  # NumPy reports zero strides for an empty array; PyTorch contiguous ones
            st, n = [], 1
            for size in reversed(d.shape):
                st.append(n)
                n *= max(size, 1)
            st = tuple(reversed(st))
        else:
            st = tuple(s // d.itemsize for s in d.strides)
        return st if dim is None else st[_dim(dim, d.ndim)]

    def is_contiguous(self, memory_format=None) -> bool:
        d = self._data
        if d.size == 0:  # as PyTorch: an empty tensor is contiguous (NumPy gives it zero strides)
            return True
        expected = 1
        for size, st in zip(reversed(d.shape), reversed(self.stride()), strict=True):
            if size != 1 and st != expected:
                return False
            expected *= size
        return True

    def storage_offset(self) -> int:
        base = self._data
        while base.base is not None and isinstance(base.base, type(base)):
            base = base.base
        return (_ptr(self._data) - _ptr(base)) // self._data.itemsize

    def data_ptr(self) -> int:
        return _ptr(self._data)

    def untyped_storage(self):
        base = self._data
        while base.base is not None and isinstance(base.base, type(base)):
            base = base.base
        return base

    @property
    def is_cuda(self) -> bool:
        return self.device.type == "cuda"

    @property
    def is_cpu(self) -> bool:
        return self.device.type == "cpu"

    @property
    def is_sparse(self) -> bool:
        return False

    @property
    def is_quantized(self) -> bool:
        return False

    @property
    def is_meta(self) -> bool:
        return False

    @property
    def layout(self) -> str:
        return "torch.strided"

    def is_floating_point(self) -> bool:
        return self.dtype.is_floating_point

    def is_complex(self) -> bool:
        return False

    def is_signed(self) -> bool:
        return self.dtype.is_signed

    def get_device(self) -> int:
        return -1 if self.device.type == "cpu" else self.device.index

    # -- conversion -------------------------------------------------------------------------------
    def item(self):
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted to Scalar")
        return B.to_host(self._data).reshape(()).item()

    def tolist(self):
        return B.to_host(self._data).tolist()

    def numpy(self, *, force: bool = False):
        if self._rg and not force:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead."
            )
        if self.device.type != "cpu":
            if not force:
                raise TypeError(
                    f"can't convert {self.device} device type tensor to numpy. Use Tensor.cpu() to copy "
                    "the tensor "
                    "to host memory first."
                )
            return B.to_host(self._data)
        return self._data

    def __array__(self, dtype=None, copy=None):
        arr = B.to_host(self._data)
        return arr if dtype is None else arr.astype(dtype)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __complex__(self) -> complex:
        return complex(self.item())

    def __index__(self) -> int:
        if self.dtype.is_floating_point or self.dtype is D.bool_ or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError(
                "Boolean value of Tensor with "
                f"{'no values' if self._data.size == 0 else 'more than one value'} "
                "is ambiguous"
            )
        return bool(self.item())

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __hash__(self) -> int:
        return id(self)

    def __contains__(self, element) -> bool:
        if isinstance(element, (Tensor, int, float, bool)):
            return bool((self == element).any().item())
        raise RuntimeError(
            f"Tensor.__contains__ only supports Tensor or scalar, but you passed in a {type(element)}."
        )

    def __format__(self, spec: str) -> str:
        if self._data.ndim == 0 and spec:
            return self.item().__format__(spec)
        return repr(self) if not spec else object.__format__(self, spec)

    def __repr__(self, *, tensor_contents=None) -> str:
        from ._printing import tensor_repr  # noqa: PLC0415 - printing is loaded on first print

        fn = self.grad_fn
        return tensor_repr(
            B.to_host(self._data)
            if self.dtype is not D.bfloat16
            else B.to_host(self._data).astype(np.float32),
            self.dtype.name,
            default_dtype_name=D.get_default_dtype().name,
            device=str(self.device),
            requires_grad=self._rg,
            grad_fn=fn.name() if fn is not None else None,
            is_leaf=fn is None,
        )

    __str__ = __repr__

    def __reduce_ex__(self, proto):
        return (_rebuild, (B.to_host(self._data), self.dtype.name, str(self.device), self._rg))

    def __deepcopy__(self, memo):
        if not self.is_leaf:
            raise RuntimeError(
                "Only Tensors created explicitly by the user (graph leaves) support the deepcopy "
                "protocol at the moment. "
                "If you were attempting to deepcopy a module, this may be because of a "
                "torch.nn.utils.weight_norm usage, "
                "see https://github.com/pytorch/pytorch/pull/103001"
            )
        if id(self) in memo:
            return memo[id(self)]
        new = _wrap(self._data.copy(), self.dtype, self.device)
        new.__class__ = type(self)
        new._rg = self._rg
        new.__dict__.update({k: v for k, v in self.__dict__.items() if k not in ("_hooks", "_base")})
        if self._grad is not None:
            new._grad = self._grad.__deepcopy__(memo)
        memo[id(self)] = new
        return new

    def type(self, dtype=None, non_blocking: bool = False, **kwargs):
        """With no argument, the legacy type name (``'torch.FloatTensor'``); else a cast."""
        if dtype is None:
            prefix = "torch.cuda." if self.device.type == "cuda" else "torch."
            return prefix + self.dtype._legacy
        if isinstance(dtype, str) and (dtype.startswith("torch.cuda.") or dtype.endswith("Tensor")):
            from .creation import legacy_type  # noqa: PLC0415

            dtype = legacy_type(dtype)
        dev = getattr(dtype, "_ember_device", None)
        if dev == "cuda" and not B.cuda_available():
            raise RuntimeError(
                f"Cannot convert to {dtype.__qualname__}: no CUDA GPU is available here "
                f"(torch.cuda.is_available() is False). Use torch.{dtype.__name__}, the cpu type, instead."
            )
        target = D.to_dtype(dtype)
        out = self.to(target) if dev is None else self.to(dev, target)
        return out

    def cpu(self, memory_format=None) -> Tensor:
        return self.to("cpu")

    def cuda(self, device=None, non_blocking: bool = False, memory_format=None) -> Tensor:
        return self.to(
            "cuda" if device is None else (f"cuda:{device}" if isinstance(device, int) else device)
        )


# C++ type names, as PyTorch's messages print them
_CPP_NAMES = {
    "float32": "float", "float64": "double", "float16": "c10::Half", "bfloat16": "c10::BFloat16",
    "int64": "long int",
    "int32": "int", "int16": "short int", "int8": "signed char", "uint8": "unsigned char", "bool": "bool",
}  # fmt: skip


def _rebuild(arr, dtype_name, device, requires_grad):
    t = _wrap(np.array(arr), D._by_name(dtype_name))
    if str(device) != "cpu":
        t = t.to(device)
    t._rg = requires_grad
    return t


def _ptr(arr) -> int:
    iface = getattr(arr, "__array_interface__", None) or arr.__cuda_array_interface__
    return iface["data"][0]


def _dim(d: int, ndim: int) -> int:
    """Wrap a possibly negative dim, with PyTorch's message when it is out of range."""
    n = max(ndim, 1)
    if not -n <= d < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {d})")
    return d + n if d < 0 else d


_fn.Tensor = Tensor
_fn._FROM_NP = _FROM_NP
_fn._wrap = _wrap
_fn._zeros = _zeros
