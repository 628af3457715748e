"""Optimizer: the base class (param groups, per-parameter state, state_dict, hooks) and the
array kernels the optimizers share.

NOTE [ optimizer arithmetic ]: each optimizer updates its parameters' NumPy arrays in place, in the
order and dtype of PyTorch's single-tensor (``foreach=False``) CPU implementation, so that given
the same gradients a float32 step gives PyTorch's bits. Two details of ATen's CPU kernels matter:

* ``add(other, alpha)``, ``addcmul`` and ``lerp`` use fused multiply-add instructions, rounding
  once. NumPy has no fma, but the product of two float32 numbers is exact in float64, so ``fma``
  below computes in float64 and rounds back to float32; that double rounding differs from a
  single one only in about 1 of 2**29 cases. The float64 detour costs about 4x a plain float32
  multiply-add, which PyTorch's one fused kernel would win on big tensors; so above
  ``EXACT_FMA_MAX_NUMEL`` elements (and for float64, which has no wider type) ``fma`` rounds twice,
  at most 1 ulp from PyTorch per operation. Set it to 0 for speed everywhere, or higher for exactness.
* ``scalar / tensor`` is ``tensor.reciprocal() * scalar`` and ``tensor / scalar`` a true division.

One difference is left on purpose: PyTorch's vectorized float32 ``sqrt`` is MKL's, which is not
correctly rounded (about 1 result in 6 is 1 ulp from NumPy's correctly rounded one). The optimizers
that take a square root (the Adam family, RMSprop, Adagrad, Adadelta) therefore agree to about
1 ulp of the update per step; with PyTorch's square roots they agree exactly (tests/test_optim.py).

Python-float hyperparameters are passed to NumPy as Python floats: NumPy casts them to the array's
dtype, just as ATen casts a Scalar to the tensor's dtype. (A NumPy float64 scalar would silently
promote a float32 update to float64.)
"""

from __future__ import annotations

import functools
import warnings
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable
from copy import deepcopy
from itertools import chain
from typing import Any

from .. import dtypes as D
from .._backend import CPU, np
from ..autograd.grad_mode import enable_grad
from ..tensor import Tensor, _wrap

__all__ = ["Optimizer", "required", "register_optimizer_step_pre_hook", "register_optimizer_step_post_hook"]

_F64 = np.dtype(np.float64)
EXACT_FMA_MAX_NUMEL = 1 << 15  # see NOTE [ optimizer arithmetic ]


class _RequiredParameter:
    """Singleton class representing a required parameter for an Optimizer."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


class _HookHandle:
    """Removes one hook from the ordered dict it was registered in (``torch.utils.hooks.RemovableHandle``)."""

    _next_id = 0

    def __init__(self, hooks: OrderedDict) -> None:
        self.hooks = hooks
        self.id = _HookHandle._next_id
        _HookHandle._next_id += 1

    def remove(self) -> None:
        self.hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


def _register(hooks: OrderedDict, hook: Callable, prepend: bool = False) -> _HookHandle:
    handle = _HookHandle(hooks)
    hooks[handle.id] = hook
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    return handle


_global_step_pre_hooks: OrderedDict = OrderedDict()
_global_step_post_hooks: OrderedDict = OrderedDict()


def register_optimizer_step_pre_hook(hook: Callable) -> _HookHandle:
    """Register ``hook(optimizer, args, kwargs)`` to run before every optimizer's ``step``."""
    return _register(_global_step_pre_hooks, hook)


def register_optimizer_step_post_hook(hook: Callable) -> _HookHandle:
    """Register ``hook(optimizer, args, kwargs)`` to run after every optimizer's ``step``."""
    return _register(_global_step_post_hooks, hook)


def _typename(obj) -> str:
    """``torch.typename``: 'torch.FloatTensor' for a tensor, else the qualified type name."""
    if isinstance(obj, Tensor):
        return obj.type()
    cls = obj if isinstance(obj, type) else type(obj)
    module = cls.__module__ or ""
    return cls.__qualname__ if module in ("", "builtins") else f"{module}.{cls.__qualname__}"


def _scalar(x) -> float:
    """A hyperparameter as a Python float (PyTorch accepts 1-element tensors for lr and betas)."""
    return float(x.item()) if isinstance(x, Tensor) else float(x)


def _scalar_dtype() -> D.dtype:
    """The dtype of ``state['step']``: float64 when that is the default dtype, else float32."""
    return D.float64 if D.get_default_dtype() is D.float64 else D.float32


def _scalar_tensor(value: float) -> Tensor:
    dt = _scalar_dtype()
    return _wrap(np.array(value, dt.np), dt, CPU)


def _arr(t: Tensor):
    """``t``'s array, a 0-d one viewed as 1-d: NumPy turns 0-d results into scalars, not arrays."""
    d = t._data
    return d if d.ndim else d.reshape(1)


def _zeros_like(p: Tensor) -> Tensor:
    return _wrap(np.zeros_like(p._data), p.dtype, p.device)


# -- array kernels (see NOTE [ optimizer arithmetic ]) --------------------------------------------------


def fma(a, x, y, out=None, *, scratch: bool = False):
    """``a * x + y`` rounded once, like ATen's ``y.add(x, alpha=a)``; ``a`` a Python float or an array.

    ``scratch=True`` lets the fast path overwrite ``x`` (a temporary of the caller's).
    """
    if out is None:
        out = np.empty_like(y)
    scalar = isinstance(a, float | int)
    if scalar and a == 1:
        return np.add(y, x, out=out)
    if scalar and a == -1:
        return np.subtract(y, x, out=out)
    if y.dtype == _F64 or y.size > EXACT_FMA_MAX_NUMEL:
        return np.add(y, np.multiply(x, a, out=x if scratch else None), out=out)
    if scalar:
        a = float(y.dtype.type(a))  # ATen casts the Scalar to the tensor's dtype first
    t = np.multiply(x, a, dtype=_F64)  # exact: both factors have at most 24 significant bits
    np.add(t, y, out=t)
    np.copyto(out, t, casting="same_kind")
    return out


def lerp_(start, end, weight: float) -> None:
    """``start.lerp_(end, weight)``: ATen's fma from the nearer end, ``weight`` in start's dtype."""
    w = start.dtype.type(weight)
    diff = np.subtract(end, start)
    if abs(w) < 0.5:
        fma(float(w), diff, start, out=start, scratch=True)
    else:
        fma(float(w - start.dtype.type(1)), diff, end, out=start, scratch=True)


def addcmul_(y, t1, t2, value: float) -> None:
    """``y.addcmul_(t1, t2, value)`` = ``y + (value * t1) * t2`` with the last step fused."""
    if value == 1:
        fma(t1, t2, y, out=y)
    else:
        fma(t2, np.multiply(t1, value), y, out=y, scratch=True)  # the temporary in x, where scratch applies


def next_step(state: dict) -> float:
    """Advance the per-parameter step counter (a tensor, as in PyTorch) and return the new count."""
    step_t = state["step"]._data
    step_t += 1
    return float(step_t)


def adam_grad(param, grad, lr: float, weight_decay: float, maximize: bool, decoupled: bool):
    """The gradient an Adam-family step uses: negated to maximize, plus L2 weight decay; decoupled
    (AdamW-style) decay instead shrinks ``param`` in place."""
    g = np.negative(grad) if maximize else grad
    if weight_decay != 0:
        if decoupled:
            np.multiply(param, 1 - lr * weight_decay, out=param)
        else:
            g = fma(weight_decay, param, g)
    return g


def adam_moments_(exp_avg, exp_avg_sq, g, beta1: float, beta2: float) -> None:
    """The first and second moment updates, in PyTorch's order (lerp; mul then addcmul)."""
    lerp_(exp_avg, g, 1 - beta1)
    np.multiply(exp_avg_sq, beta2, out=exp_avg_sq)
    addcmul_(exp_avg_sq, g, g, 1 - beta2)


def addcdiv_(y, t1, t2, value: float) -> None:
    """``y.addcdiv_(t1, t2, value)`` = ``y + (value * t1) / t2``."""
    t = np.multiply(t1, value) if value != 1 else t1.copy()
    np.divide(t, t2, out=t)
    np.add(y, t, out=y)


class Optimizer:
    r"""Base class for all optimizers.

    Args:
        params (iterable): an iterable of :class:`Tensor` s or :class:`dict` s. Specifies what
            Tensors should be optimized.
        defaults (dict): default values of optimization options (used when a parameter group
            doesn't specify them).

    Subclasses implement ``_options(group)`` (the group's hyperparameters, validated),
    ``_init_state(p, state, group)`` and ``_update(options, items)``; ``step`` gathers every group's
    work before touching any parameter, so an error leaves the parameters as they were.
    """

    # state entries that older checkpoints may hold as Python numbers; __setstate__ makes them tensors
    _tensor_state_keys: tuple[str, ...] = ("step",)
    # group options added after the first release, filled in when an old state is loaded
    _group_setdefaults: dict[str, Any] = {}

    def __init__(self, params: Iterable, defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self._optimizer_step_pre_hooks: OrderedDict = OrderedDict()
        self._optimizer_step_post_hooks: OrderedDict = OrderedDict()
        self._optimizer_state_dict_pre_hooks: OrderedDict = OrderedDict()
        self._optimizer_state_dict_post_hooks: OrderedDict = OrderedDict()
        self._optimizer_load_state_dict_pre_hooks: OrderedDict = OrderedDict()
        self._optimizer_load_state_dict_post_hooks: OrderedDict = OrderedDict()
        self._patch_step_function()

        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or dicts, "
                "but got " + _typename(params)
            )
        if self.defaults.get("differentiable"):
            raise NotImplementedError("ember's optimizers do not support differentiable=True")

        self.state: defaultdict[Tensor, Any] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []

        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for param_group in param_groups:
            self.add_param_group(param_group)

    # -- pickling and printing ----------------------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        for name in (
            "_optimizer_step_pre_hooks",
            "_optimizer_step_post_hooks",
            "_optimizer_state_dict_pre_hooks",
            "_optimizer_state_dict_post_hooks",
            "_optimizer_load_state_dict_pre_hooks",
            "_optimizer_load_state_dict_post_hooks",
        ):
            self.__dict__.setdefault(name, OrderedDict())
        self._patch_step_function()
        self.defaults.setdefault("differentiable", False)
        for group in self.param_groups:
            for key, value in self._group_setdefaults.items():
                group.setdefault(key, value)
            for p in group["params"]:
                p_state = self.state.get(p)
                for key in self._tensor_state_keys:
                    if p_state and key in p_state and not isinstance(p_state[key], Tensor):
                        p_state[key] = _scalar_tensor(float(p_state[key]))

    def __repr__(self) -> str:
        out = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            out += f"\nParameter Group {i}\n"
            for key in sorted(group.keys()):
                if key != "params":
                    out += f"    {key}: {group[key]}\n"
        return out + ")"

    # -- step and its hooks ---------------------------------------------------------------------------
    def _patch_step_function(self) -> None:
        # Like PyTorch, wrap the concrete class's ``step`` once so every step runs the hooks.
        cls = self.__class__
        if not getattr(cls.step, "hooked", False):
            cls.step = _hook_step(cls.step)

    def register_step_pre_hook(self, hook: Callable) -> _HookHandle:
        """Register ``hook(optimizer, args, kwargs) -> None or (args, kwargs)`` to run before ``step``."""
        return _register(self._optimizer_step_pre_hooks, hook)

    def register_step_post_hook(self, hook: Callable) -> _HookHandle:
        """Register ``hook(optimizer, args, kwargs)`` to run after ``step``."""
        return _register(self._optimizer_step_post_hooks, hook)

    def step(self, closure: Callable[[], Any] | None = None):
        """Perform a single optimization step.

        Args:
            closure (Callable, optional): A closure that reevaluates the model and returns the loss.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        # Gather everything (options, lazy state, checks) first: a failure changes no parameter.
        work = [(self._options(group), self._gather(group)) for group in self.param_groups]
        for options, items in work:
            if items:
                self._update(options, items)
                for item in items:
                    item[0]._bump()
        return loss

    def _options(self, group: dict[str, Any]):
        raise NotImplementedError

    def _init_state(self, p: Tensor, state: dict, group: dict[str, Any]) -> None:
        raise NotImplementedError

    def _update(self, options, items: list) -> None:
        raise NotImplementedError

    def _state_for(self, p: Tensor, group: dict[str, Any]):
        state = self.state[p]
        if len(state) == 0:
            self._init_state(p, state, group)
        return state

    def _gather(self, group: dict[str, Any]) -> list:
        """``(param, its array, grad array, state)`` for each parameter of ``group`` with a gradient."""
        items = []
        for p in group["params"]:
            g = p._grad
            if g is None:
                continue
            state = self._state_for(p, group)
            if state:
                shape = p._data.shape
                for key, v in state.items():
                    if isinstance(v, Tensor) and v._data.ndim and v._data.shape != shape:
                        raise RuntimeError(
                            f"optimizer state '{key}' has shape {list(v._data.shape)} but its parameter has "
                            f"shape {list(shape)}; was a state_dict loaded from a different model?"
                        )
            items.append((p, _arr(p), _arr(g), state))
        return items

    # -- gradients ------------------------------------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all optimized tensors.

        Args:
            set_to_none (bool, optional): set the grads to None instead of zeroing them. Default: ``True``
        """
        for group in self.param_groups:
            for p in group["params"]:
                g = p._grad
                if g is None:
                    continue
                if set_to_none:
                    p._grad = None
                else:
                    if g.grad_fn is not None:
                        g.detach_()
                    else:
                        g.requires_grad_(False)
                    g.zero_()

    # -- param groups -------------------------------------------------------------------------------------
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a param group to the optimizer's ``param_groups``.

        Args:
            param_group (dict): the Tensors to optimize (``"params"``) with group-specific options.
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")

        params = param_group["params"]
        if isinstance(params, Tensor):
            param_group["params"] = [params]
        elif isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the ordering of "
                "tensors in sets will change between runs. Please use a list instead."
            )
        else:
            param_group["params"] = list(params)

        tensors, names = [], []
        for param in param_group["params"]:
            if isinstance(param, tuple):  # named_parameters()
                names.append(param[0])
                tensors.append(param[1])
            else:
                tensors.append(param)
        param_group["params"] = tensors
        if names:
            if len(names) != len(tensors):
                raise ValueError(
                    "all optimizer params should be with/without names. Some param names are missing"
                )
            param_group["param_names"] = names

        for param in param_group["params"]:
            if not isinstance(param, Tensor):
                raise TypeError(
                    "optimizer can only optimize Tensors, but one of the params is " + _typename(param)
                )
            if not (param.is_leaf or param.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")

        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(
                    f"parameter group didn't specify a value of required optimization parameter {name}"
                )
            param_group.setdefault(name, default)

        params = param_group["params"]
        if len(params) != len({id(p) for p in params}):
            warnings.warn(
                "optimizer contains a parameter group with duplicate parameters; in future, this will cause "
                "an error; see github.com/pytorch/pytorch/issues/40967 for more information",
                stacklevel=3,
            )

        seen = set()
        for group in self.param_groups:
            seen.update(id(p) for p in group["params"])
            if ("param_names" in param_group) != ("param_names" in group):
                which = "with names" if "param_names" in param_group else "without names"
                raise ValueError(
                    "all optimizer param groups should be with/without names. "
                    f"cannot add param group {which} to the optimizer"
                )
        if not seen.isdisjoint(id(p) for p in params):
            raise ValueError("some parameters appear in more than one parameter group")

        self.param_groups.append(param_group)

    # -- state_dict -----------------------------------------------------------------------------------------
    def register_state_dict_pre_hook(self, hook: Callable, prepend: bool = False) -> _HookHandle:
        """Register ``hook(optimizer)`` to run before ``state_dict``."""
        return _register(self._optimizer_state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook: Callable, prepend: bool = False) -> _HookHandle:
        """Register ``hook(optimizer, state_dict) -> state_dict or None`` to run after ``state_dict``."""
        return _register(self._optimizer_state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook: Callable, prepend: bool = False) -> _HookHandle:
        """Register ``hook(optimizer, state_dict) -> state_dict or None`` to run before loading."""
        return _register(self._optimizer_load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook: Callable, prepend: bool = False) -> _HookHandle:
        """Register ``hook(optimizer)`` to run after ``load_state_dict``."""
        return _register(self._optimizer_load_state_dict_post_hooks, hook, prepend)

    def state_dict(self) -> dict[str, Any]:
        """The optimizer state as ``{"state": {index: {...}}, "param_groups": [{..., "params": [indices]}]}``.

        As in PyTorch, the state tensors are the optimizer's own (not copies); parameters are
        numbered in the order the groups list them.
        """
        for hook in self._optimizer_state_dict_pre_hooks.values():
            hook(self)
        index: dict[int, int] = {}
        start = 0

        def pack_group(group):
            nonlocal start
            packed = {k: v for k, v in group.items() if k != "params"}
            index.update({id(p): i for i, p in enumerate(group["params"], start) if id(p) not in index})
            packed["params"] = [index[id(p)] for p in group["params"]]
            start += len(packed["params"])
            return packed

        param_groups = [pack_group(g) for g in self.param_groups]
        packed_state = {(index[id(k)] if isinstance(k, Tensor) else k): v for k, v in self.state.items()}
        state_dict = {"state": packed_state, "param_groups": param_groups}
        for hook in self._optimizer_state_dict_post_hooks.values():
            result = hook(self, state_dict)
            if result is not None:
                state_dict = result
        return state_dict

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load the optimizer state from a dict returned by :meth:`state_dict` (ember's or PyTorch's, with
        its tensors converted to ember tensors).

        Args:
            state_dict (dict): optimizer state.
        """
        state_dict = state_dict.copy()
        for hook in self._optimizer_load_state_dict_pre_hooks.values():
            result = hook(self, state_dict)
            if result is not None:
                state_dict = result

        groups = self.param_groups
        saved_groups = deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups, strict=True)):
            raise ValueError(
                "loaded state dict contains a parameter group "
                "that doesn't match the size of optimizer's group"
            )

        id_map = dict(
            zip(
                chain.from_iterable(g["params"] for g in saved_groups),
                chain.from_iterable(g["params"] for g in groups),
                strict=True,
            )
        )

        def cast(param, value, key=None):
            """Tensors follow the parameter's dtype and device, except ``step`` (PyTorch's policy)."""
            if isinstance(value, Tensor):
                if key == "step":
                    return value
                if param.is_floating_point():
                    return value.to(dtype=param.dtype, device=param.device)
                return value.to(device=param.device)
            if isinstance(value, dict):
                return {k: cast(param, v, key=k) for k, v in value.items()}
            if isinstance(value, Iterable) and not isinstance(value, str):
                return type(value)(cast(param, v) for v in value)
            return value

        state: defaultdict[Tensor, dict] = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                param = id_map[k]
                state[param] = cast(param, v)
            else:
                state[k] = v

        def update_group(group, new_group):
            new_group["params"] = group["params"]
            if "param_names" in group and "param_names" not in new_group:
                new_group["param_names"] = group["param_names"]
            return new_group

        param_groups = [update_group(g, ng) for g, ng in zip(groups, saved_groups, strict=True)]
        self.__setstate__({"state": state, "param_groups": param_groups})
        for hook in self._optimizer_load_state_dict_post_hooks.values():
            hook(self)


def _hook_step(step):
    """Wrap an optimizer's ``step`` to run the global and per-optimizer pre and post hooks."""

    @functools.wraps(step)
    def wrapper(*args, **kwargs):
        self = args[0]  # as in PyTorch, hooks see ``args`` with the optimizer first
        for hook in chain(_global_step_pre_hooks.values(), self._optimizer_step_pre_hooks.values()):
            result = hook(self, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError(
                        f"{step} must return None or a tuple of (new_args, new_kwargs), but got {result}."
                    )
                args, kwargs = result
        out = step(*args, **kwargs)
        for hook in chain(self._optimizer_step_post_hooks.values(), _global_step_post_hooks.values()):
            hook(self, args, kwargs)
        return out

    wrapper.hooked = True
    return wrapper
