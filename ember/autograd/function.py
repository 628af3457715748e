"""Function and its ctx: one mechanism for built-in ops and user-defined autograd Functions.

The ctx object handed to ``forward`` *is* the graph node (as in PyTorch): it records the input
edges, the saved tensors, and runs ``backward`` when the engine reaches it.
"""

from __future__ import annotations

import functools
import itertools

from .._backend import np
from ..dtypes import bfloat16 as _BF16
from .grad_mode import STATE

_ndarray = np.ndarray
_NEW = object.__new__
_FROM_NP = None  # ember.dtypes.FROM_NP, set with Tensor below

_seq = itertools.count()
Tensor = None  # set by ember.tensor once it is defined (avoids an import cycle)
_wrap = None

_FREED = (
    "Trying to backward through the graph a second time (or directly access saved tensors after they "
    "have already been freed). Saved intermediate values of the graph are freed when you call .backward() "
    "or autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second "
    "time or if you need to access saved tensors after calling backward."
)


class Node:
    """A node of the backward graph. Subclasses implement ``_backward(grads) -> input grads``."""

    _edges = ()  # per input: None or (target node, output_nr, shape, dtype)
    _nt = ()  # positions of the inputs that were not tensors
    _saved = None
    _freed = False
    _pre_hooks = None  # {output_nr: [hook(grad) -> grad | None]}  tensor hooks of non-leaf outputs
    _hooks = None  # [hook(grad_inputs, grad_outputs)]
    _node_prehooks = None  # [hook(grad_outputs)]
    _n_out = 1
    _seq_nr = 0

    def name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        return f"<{self.name()} object at {hex(id(self))}>"

    @property
    def next_functions(self) -> tuple:
        # a scalar operand of +, -, *, / counts: PyTorch wraps it in a tensor
        nt = self._nt
        if nt and getattr(getattr(self, "_forward_cls", None), "_scalar_operands", False):
            nt = [i for i in nt if i > 1]
        return tuple(
            (None, 0) if e is None else (e[0], e[1]) for i, e in enumerate(self._edges) if i not in nt
        )

    @property
    def metadata(self) -> dict:
        md = self.__dict__.get("_metadata")
        if md is None:
            md = self._metadata = {}
        return md

    def register_hook(self, fn):
        """``fn(grad_inputs, grad_outputs)`` runs after this node computes its input grads."""
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(fn)
        return _RemovableHandle(self._hooks, fn)

    def register_prehook(self, fn):
        """``fn(grad_outputs)`` runs before this node; it may return replacement grads."""
        if self._node_prehooks is None:
            self._node_prehooks = []
        self._node_prehooks.append(fn)
        return _RemovableHandle(self._node_prehooks, fn)

    def _release(self) -> None:
        if self._saved is not None:
            self._saved = None
            self._freed = True


class _RemovableHandle:
    __slots__ = ("_list", "_item")

    def __init__(self, lst, item):
        self._list, self._item = lst, item

    def remove(self) -> None:
        if self._item in self._list:
            self._list.remove(self._item)


class AccumulateGrad(Node):
    """The sink of a leaf tensor: its gradient accumulates into ``variable.grad``."""

    __slots__ = ("variable",)

    def __init__(self, variable):
        self.variable = variable

    @property
    def next_functions(self) -> tuple:
        return ()


class _SavedOutput:
    """A forward output saved for backward: kept as data so the node holds no cycle through it."""

    __slots__ = ("data", "dtype", "device", "vc", "version", "index")

    def __init__(self, t, index):
        if t._vc is None:  # share the counter now, so a later in-place change of t is seen here
            t._vc = [0]
        self.data, self.dtype, self.device, self.vc, self.index = t._data, t.dtype, t.device, t._vc, index
        self.version = t._vc[0]


def _version_error(t, node, version, expected, out_index=None) -> RuntimeError:
    """PyTorch's message; the node is named as the forward op (``Exp`` for ``ExpBackward0``)."""
    if out_index is not None:  # one of node's own outputs, saved by node
        where = f", which is output {out_index} of {_op_name(node)},"
        kind = ("torch.cuda." if t.device.type == "cuda" else "torch.") + t.dtype._legacy
        shape = list(t.data.shape)
    else:
        where = f", which is output {t._output_nr} of {_op_name(t.grad_fn)}," if t.grad_fn is not None else ""
        kind, shape = t.type(), list(t.shape)
    return RuntimeError(
        "one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: [{kind} {shape}]{where} is at version {version}; expected version {expected} "
        "instead. Hint: enable anomaly detection to find the operation that failed to compute its gradient, "
        "with torch.autograd.set_detect_anomaly(True, check_nan=False)."
    )


def _op_name(node) -> str:
    name = node.name()
    stripped = name.rstrip("0123456789")
    return stripped[: -len("Backward")] if stripped.endswith("Backward") and stripped != "Backward" else name


class BackwardFunction(Node):
    """The ctx/node of a ``Function`` call. ``saved_tensors`` checks versions on every read."""

    _forward_cls = None
    materialize_grads = True
    _to_save = ()
    _dirty = ()
    _non_diff = ()

    # -- ctx API used inside forward ------------------------------------------------------------
    def save_for_backward(self, *tensors) -> None:
        self._to_save = tensors

    def mark_dirty(self, *tensors) -> None:
        self._dirty = tensors

    def mark_non_differentiable(self, *tensors) -> None:
        self._non_diff = tensors

    def set_materialize_grads(self, value: bool) -> None:
        self.materialize_grads = bool(value)

    @property
    def needs_input_grad(self) -> tuple:
        return tuple(e is not None for e in self._edges) if self._edges else self.__dict__.get("_nig", ())

    @property
    def saved_tensors(self) -> tuple:
        if self._freed:
            raise RuntimeError(_FREED)
        saved = self._saved
        if saved is None:  # forward saved nothing (or there is no graph)
            return tuple(self._to_save)
        out = []
        for entry in saved:
            if entry is None:
                out.append(None)
            elif type(entry) is _SavedOutput:
                cur = 0 if entry.vc is None else entry.vc[0]
                if cur != entry.version:
                    raise _version_error(entry, self, cur, entry.version, entry.index)
                t = _wrap(entry.data, entry.dtype, entry.device)
                t._vc = entry.vc
                if STATE.enabled:  # create_graph: the output is this node's output again
                    t._rg, t.grad_fn, t._output_nr = True, self, entry.index
                out.append(t)
            else:
                t, version = entry
                if version is None:
                    out.append(t)
                    continue
                cur = 0 if t._vc is None else t._vc[0]
                if cur != version:
                    raise _version_error(t, self, cur, version)
                out.append(t)
        return tuple(out)

    saved_variables = saved_tensors

    def _backward(self, grads):
        return self._forward_cls.backward(self, *grads)


class FunctionMeta(type):
    """Gives every Function subclass its node class, named as PyTorch names it (``MulBackward0``)."""

    def __init__(cls, name, bases, attrs):
        super().__init__(name, bases, attrs)
        node_name = attrs.get("_node_name") or f"{name}Backward{getattr(cls, '_backward_suffix', '')}"
        cls._backward_cls = type(node_name, (BackwardFunction,), {"_forward_cls": cls})
        fwd = attrs.get("forward")
        if fwd is not None:  # ``@opmath`` (ops/_base.py): bfloat16 inputs computed in float32
            cls._opmath = getattr(getattr(fwd, "__func__", fwd), "_opmath", False)
        # the separate setup_context form: forward takes no ctx
        cls._setup_form = any("setup_context" in vars(b) for b in cls.__mro__ if b.__name__ != "Function")


def _edges(args, node) -> list:
    """One edge per argument: None, or (node, output_nr, shape, dtype) for a tensor that requires grad.

    A non-tensor argument gets ``None`` too, and its position goes in ``node._nt``, so that
    ``next_functions`` lists tensor inputs only, as PyTorch's does.
    """
    edges = []
    nt = None
    for b in args:
        if isinstance(b, Tensor):
            if b._rg:
                fn = b.grad_fn
                if b._base is not None and b._vver != b._vc[0]:
                    fn = _refresh_view(b)
                if fn is None:
                    edges.append((AccumulateGrad(b), 0, b._data.shape, b.dtype))
                else:
                    edges.append((fn, b._output_nr, b._data.shape, b.dtype))
            else:
                edges.append(None)
        else:
            if nt is None:
                nt = node._nt = []
            nt.append(len(edges))
            edges.append(None)
    return edges


def _widened(forward, ctx, args, kwargs):
    from ..ops._base import _widened  # noqa: PLC0415 - ops import this module

    return _widened(forward, ctx, args, kwargs)


def _refresh_view(t):
    """Rebuild a view's grad_fn from its base after an in-place change to either (PyTorch does the same)."""
    from ..ops.inplace import refresh_view  # noqa: PLC0415 - ops import this module

    return refresh_view(t)


class Function(metaclass=FunctionMeta):
    """Base of differentiable operations: define static ``forward(ctx, ...)`` and ``backward(ctx, ...)``.

    Example::

        class Exp(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                y = x.exp()
                ctx.save_for_backward(y)
                return y

            @staticmethod
            def backward(ctx, grad):
                (y,) = ctx.saved_tensors
                return grad * y
    """

    _builtin = False  # built-in ops compute on arrays and may skip the no-grad switch
    _opmath = False  # set by the metaclass for a forward marked ``@opmath``
    _saves_output = False  # built-ins that keep their own output for backward (exp, tanh, ...)

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError(
            "You must implement either the backward or vjp method for your custom "
            "autograd.Function to use it with backward mode AD."
        )

    vjp = backward

    # -- the legacy (non-static) form: MyReLU()(x); see ember.compat ------------------------------------
    def __call__(self, *args):
        from ..compat import call_legacy_function  # noqa: PLC0415

        return call_legacy_function(self, args)

    def save_for_backward(self, *tensors) -> None:
        self._ctx.save_for_backward(*tensors)

    @property
    def saved_tensors(self) -> tuple:
        return self._ctx.saved_tensors

    @property
    def needs_input_grad(self) -> tuple:
        return self._ctx.needs_input_grad[1:]

    def mark_dirty(self, *tensors) -> None:
        self._ctx.mark_dirty(*tensors)

    def mark_non_differentiable(self, *tensors) -> None:
        self._ctx.mark_non_differentiable(*tensors)

    @staticmethod
    def setup_context(ctx, inputs, output):
        raise NotImplementedError("setup_context is not implemented.")

    @classmethod
    def apply(cls, *args, **kwargs):
        ctx = cls._backward_cls()
        needs = False
        if STATE.enabled:
            for a in args:
                if isinstance(a, Tensor) and a._rg:
                    ctx._edges = _edges(args, ctx)
                    needs = True
                    break
        if cls._builtin:
            try:  # free in CPython 3.11+ unless raised
                if cls._opmath and getattr(args[0], "dtype", None) is _BF16:
                    out = _widened(cls.forward, ctx, args, kwargs)
                else:
                    out = cls.forward(ctx, *args, **kwargs)
            except ValueError as e:
                raise _broadcast_error(args, e) from None
            if type(out) is _ndarray:  # the hot path: a built-in op with one array out
                a0 = args[0]
                t = _NEW(Tensor)
                t._data = out
                t.dtype = _FROM_NP[out.dtype]
                t.device = a0.device if isinstance(a0, Tensor) else _device_of(args)
                t._grad = None
                t._output_nr = 0
                t._vc = None
                if needs:
                    ctx._seq_nr = next(_seq)
                    if t.dtype.is_floating_point:
                        t._rg, t.grad_fn = True, ctx
                    else:
                        t._rg, t.grad_fn = False, None
                    if ctx._to_save or cls._saves_output:
                        _save_builtin(ctx, t, cls._saves_output)
                else:
                    t._rg = False
                    t.grad_fn = None
                return t
        else:
            prev = STATE.enabled
            STATE.enabled = False
            try:
                if cls._setup_form:
                    out = cls.forward(*args, **kwargs)
                    cls.setup_context(ctx, args, out)
                else:
                    out = cls.forward(ctx, *args, **kwargs)
            finally:
                STATE.enabled = prev
        return _finish(cls, ctx, args, out, needs)


def _broadcast_error(args, exc):
    """NumPy's broadcast ValueError as PyTorch's RuntimeError; any other ValueError unchanged."""
    msg = str(exc)
    if "could not be broadcast" not in msg:
        return exc
    shapes = [a._data.shape for a in args if isinstance(a, Tensor)]
    if "remapped" in msg:  # matmul: only the batch dims broadcast
        shapes = [s[:-2] for s in shapes if len(s) > 2]
    acc = ()
    for s in shapes:
        n = max(len(acc), len(s))
        a, b = (1,) * (n - len(acc)) + acc, (1,) * (n - len(s)) + s
        for d, (x, y) in enumerate(zip(a, b, strict=True)):
            if x != y and 1 not in (x, y):
                return RuntimeError(
                    f"The size of tensor a ({x}) must match the size of tensor b ({y}) at non-singleton "
                    f"dimension {d}"
                )
        acc = tuple(max(x, y) if min(x, y) != 0 else 0 for x, y in zip(a, b, strict=True))
    return RuntimeError(msg)


def _device_of(args):
    for a in args:
        if isinstance(a, Tensor):
            return a.device
    return None


def _finish(cls, ctx, args, out, needs):
    """Wrap forward's outputs as tensors and, when a graph is recorded, connect them to ``ctx``."""
    single = not isinstance(out, tuple)
    outs = (out,) if single else out
    dev = _device_of(args)
    results = []
    for o in outs:
        if isinstance(o, Tensor):
            if not needs:
                results.append(o)
                continue
            if any(o is d for d in ctx._dirty):
                results.append(o)  # an in-place output keeps its identity and gets a new history
            elif any(o is a for a in args) or o.grad_fn is not None or o._rg:
                results.append(o._alias())  # returning an input (or a graph tensor) as-is: a fresh alias
            else:
                results.append(o)
        elif o is None or not hasattr(o, "dtype"):
            results.append(o)
        else:
            results.append(_wrap(o, None, dev))
    if needs:
        ctx._seq_nr = next(_seq)
        ctx._n_out = len(results)
        if len(results) > 1:  # for zero-filling the grads of outputs that receive none
            ctx._out_meta = [
                (r._data.shape, r.dtype, r.device) if isinstance(r, Tensor) else ((), None, None)
                for r in results
            ]
        nondiff = ctx._non_diff
        for i, r in enumerate(results):
            if isinstance(r, Tensor) and r.dtype.is_floating_point and not any(r is n for n in nondiff):
                r._rg, r.grad_fn, r._output_nr = True, ctx, i
                if any(r is d for d in ctx._dirty):
                    r._bump()
        _store_saved(cls, ctx, args, results)
    else:
        ctx.__dict__["_nig"] = tuple(False for _ in args)
    return results[0] if single else tuple(results)


def _store_saved(cls, ctx, args, results) -> None:
    to_save = ctx._to_save
    if cls._saves_output:
        to_save = (*to_save, results[0])
    if not to_save:
        return
    saved = []
    for t in to_save:
        if t is None or not isinstance(t, Tensor):
            saved.append(None if t is None else (t, None))  # a Python scalar operand of a built-in op
            continue
        idx = next((i for i, r in enumerate(results) if r is t and r.grad_fn is ctx), None)
        if idx is not None:
            saved.append(_SavedOutput(t, idx))
        else:
            saved.append((t, 0 if t._vc is None else t._vc[0]))
    ctx._saved = tuple(saved)
    ctx._to_save = ()


def _save_builtin(ctx, out, saves_output) -> None:
    """The built-in ops' saved values: their inputs (by version) and, if they ask, their output."""
    saved = [
        (x, 0 if x._vc is None else x._vc[0]) if isinstance(x, Tensor) else (None if x is None else (x, None))
        for x in ctx._to_save
    ]
    if saves_output:
        saved.append(_SavedOutput(out, 0))
    ctx._saved = tuple(saved)
    ctx._to_save = ()


def _wrap_ref(*args):
    """``tensor._wrap``, looked up at call time: tensor.py defines it after this package loads."""
    return _wrap(*args)


class InplaceFunction(Function):
    pass


class NestedIOFunction(Function):
    pass


def once_differentiable(fn):
    """Mark a backward as not itself differentiable: it runs without recording a graph."""

    @functools.wraps(fn)
    def wrapper(ctx, *args):
        prev = STATE.enabled
        STATE.enabled = False
        try:
            return fn(ctx, *args)
        finally:
            STATE.enabled = prev

    return wrapper


class FunctionCtx(BackwardFunction):
    pass
