"""Tensor ``str``/``repr`` that matches ``torch`` 2.13 character for character.

Decoupled from the Tensor class: everything works on a host NumPy array plus a few facts about the
tensor (dtype name, device, autograd state). Only the summarised edges of a large tensor are ever
formatted, so printing a huge tensor costs about as much as printing a tiny one.

The rules (the same as ``torch/_tensor_str.py``):

* One formatter per tensor: all elements share a width, chosen from the elements that are shown.
* Floats print in one of three modes, picked from the nonzero finite values shown:
  *integral* (``222.``), *fixed* (``1.2346``, ``precision`` digits) or *scientific* (``1.2346e+08``).
  Scientific is used when max/min > 1000, max > 1e8 or min < 1e-4 (unless ``sci_mode`` forces it).
  Zeros, infs and nans never influence the mode or the width.
* More than ``threshold`` elements -> every dimension longer than ``2 * edgeitems`` is cut to its
  edges with ``...`` in between.
* Rows of a 1-d vector wrap at ``linewidth``; suffixes (device, dtype, grad_fn, ...) go on a new line
  when they would not fit.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from collections.abc import Iterator, Sequence
from typing import Any

from ._backend import np

__all__ = [
    "PRINT_OPTS",
    "PrintOptions",
    "get_printoptions",
    "parameter_repr",
    "printoptions",
    "set_printoptions",
    "tensor_repr",
]


@dataclasses.dataclass
class PrintOptions:
    """The current print options (one module-level instance, ``PRINT_OPTS``)."""

    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None


PRINT_OPTS = PrintOptions()

# profile -> (precision, threshold, edgeitems, linewidth); sci_mode is untouched by profiles.
_PROFILES: dict[str, tuple[int, float, int, int]] = {
    "default": (4, 1000, 3, 80),
    "short": (2, 1000, 2, 80),
    "full": (4, math.inf, 3, 80),
}


def set_printoptions(
    precision: int | None = None,
    threshold: float | None = None,
    edgeitems: int | None = None,
    linewidth: int | None = None,
    profile: str | None = None,
    sci_mode: bool | None = None,
) -> None:
    """Set print options, like ``torch.set_printoptions``.

    A profile (``"default"``, ``"short"``, ``"full"``) is applied first, then the explicit options.
    As in torch, ``sci_mode`` is *always* assigned, so any call without it resets it to ``None``;
    an unknown profile name is silently ignored.
    """
    if profile in _PROFILES:
        PRINT_OPTS.precision, PRINT_OPTS.threshold, PRINT_OPTS.edgeitems, PRINT_OPTS.linewidth = _PROFILES[
            profile
        ]
    if precision is not None:
        PRINT_OPTS.precision = precision
    if threshold is not None:
        PRINT_OPTS.threshold = threshold
    if edgeitems is not None:
        PRINT_OPTS.edgeitems = edgeitems
    if linewidth is not None:
        PRINT_OPTS.linewidth = linewidth
    PRINT_OPTS.sci_mode = sci_mode


def get_printoptions() -> dict[str, Any]:
    """The current options, as keyword arguments for ``set_printoptions``."""
    return dataclasses.asdict(PRINT_OPTS)


@contextlib.contextmanager
def printoptions(**kwargs: Any) -> Iterator[None]:
    """Temporarily change the print options (torch's ``torch._tensor_str.printoptions``)."""
    old = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**old)


# ----------------------------------------------------------------------------------------- formatting


class _Formatter:
    """Formats the shown elements of one real tensor (or one part of a complex one) to a common width."""

    def __init__(self, shown: np.ndarray, floating: bool) -> None:
        values = shown.ravel()
        if not floating:
            # tolist() gives Python ints/bools, whose str() is exactly torch's.
            self.strings = [str(v) for v in values.tolist()]
            self.width = max((len(s) for s in self.strings), default=1)
            return

        values = values.astype(np.float64)  # exact for every float dtype we receive
        nonzero_finite = np.isfinite(values) & (values != 0)
        finite_vals = values[nonzero_finite]
        p = PRINT_OPTS.precision
        if finite_vals.size == 0:
            # Nothing to infer a mode from: torch keeps integral mode, even if sci_mode is forced.
            int_mode, sci_mode = True, False
        else:
            int_mode = bool(np.all(finite_vals == np.ceil(finite_vals)))
            if PRINT_OPTS.sci_mode is None:
                abs_vals = np.abs(finite_vals)
                vmin, vmax = abs_vals.min(), abs_vals.max()
                sci_mode = bool(vmax / vmin > 1000.0 or vmax > 1.0e8 or vmin < 1.0e-4)
            else:
                sci_mode = bool(PRINT_OPTS.sci_mode)

        as_list = values.tolist()
        if sci_mode:
            spec = f".{p}e"
            self.strings = [format(v, spec) for v in as_list]
        elif int_mode:
            # The trailing "." marks a float; inf/nan stay bare.
            self.strings = [f"{v:.0f}." if math.isfinite(v) else f"{v:.0f}" for v in as_list]
        else:
            spec = f".{p}f"
            self.strings = [format(v, spec) for v in as_list]
        # Only nonzero finite values set the width, so e.g. "nan" may stick out of its column.
        self.width = max(
            (len(s) for s, keep in zip(self.strings, nonzero_finite.tolist(), strict=True) if keep), default=1
        )

    def padded(self) -> list[str]:
        w = self.width
        return [s.rjust(w) for s in self.strings]


def _element_strings(shown: np.ndarray) -> tuple[list[str], int]:
    """Padded strings of the shown elements (flattened, C order) and the width of one element."""
    if np.iscomplexobj(shown):
        real = _Formatter(shown.real, True)
        imag = _Formatter(shown.imag, True)
        out = []
        for r, i in zip(real.padded(), imag.padded(), strict=True):
            i = (i + "j").lstrip()
            out.append(r + i if i[0] in "+-" else r + "+" + i)
        # The "+" sign of the imaginary part and the trailing "j" are counted in the width.
        return out, real.width + imag.width + 1
    floating = shown.dtype.kind == "f"
    fmt = _Formatter(shown, floating)
    return fmt.padded(), fmt.width


def _body(arr: np.ndarray, indent: int) -> str:
    """The bracketed contents of a non-empty tensor, e.g. ``[[1, 2],\\n        [3, 4]]``."""
    opts = PRINT_OPTS
    summarize = arr.size > opts.threshold
    edge = opts.edgeitems
    if summarize and not edge and arr.ndim > 0:
        return "[...]"

    # Axes longer than 2*edge are cut to their edges; the cut positions get "..." markers.
    cut = [summarize and n > 2 * edge for n in arr.shape]
    if any(cut):
        index = [
            np.r_[0:edge, n - edge : n] if c else np.arange(n) for n, c in zip(arr.shape, cut, strict=True)
        ]
        shown = arr[np.ix_(*index)]
    else:
        shown = arr
    strings, width = _element_strings(shown)
    if arr.ndim == 0:
        return strings[0]

    def build(flat: Sequence[str], dim: int, ind: int) -> str:
        # `flat` holds this block's strings in C order; `dim` counts the dims left from axis `axis`.
        axis = arr.ndim - dim
        if dim == 1:
            items = list(flat)
            if cut[axis]:
                items.insert(edge, " ...")
            # Each element takes its width plus ", "; the "..." marker counts as one element.
            per_line = max(1, (opts.linewidth - ind) // (width + 2))
            lines = [", ".join(items[i : i + per_line]) for i in range(0, len(items), per_line)]
            return "[" + (",\n" + " " * (ind + 1)).join(lines) + "]"
        n = shown.shape[axis]
        step = len(flat) // n if n else 0
        parts = [build(flat[k * step : (k + 1) * step], dim - 1, ind + 1) for k in range(n)]
        if cut[axis]:
            parts.insert(edge, "...")
        return "[" + ("," + "\n" * (dim - 1) + " " * (ind + 1)).join(parts) + "]"

    return build(strings, arr.ndim, indent)


def _add_suffixes(text: str, suffixes: list[str], indent: int) -> str:
    """Append ``, suffix`` items and the closing ``)``, wrapping onto new lines past ``linewidth``."""
    parts = [text]
    # torch's arithmetic, off by two when there is no newline; kept for identical wrapping.
    last_line_len = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last_line_len + len(suffix) + 2 > PRINT_OPTS.linewidth:
            parts.append(",\n" + " " * indent + suffix)
            last_line_len = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            last_line_len += len(suffix) + 2
    parts.append(")")
    return "".join(parts)


def _normalise_dtype(name: str) -> str:
    return name.removeprefix("torch.")


def tensor_repr(
    arr: np.ndarray,
    dtype_name: str,
    *,
    default_dtype_name: str = "float32",
    device: str = "cpu",
    requires_grad: bool = False,
    grad_fn: str | None = None,
    is_leaf: bool = True,
    prefix: str = "tensor(",
    indent: int | None = None,
) -> str:
    """``repr(tensor)`` (== ``str(tensor)``) exactly as torch 2.13 prints it.

    ``arr`` holds the values on the host (bfloat16 may come as float32 values); ``dtype_name`` is the
    torch dtype without ``torch.``; ``default_dtype_name`` is ``torch.get_default_dtype()``'s name.
    A ``device`` other than ``"cpu"`` is printed (``"cuda"`` is shown as ``cuda:0``); ``"meta"``
    prints ``...`` plus the size, and only ``arr.shape`` is used. ``grad_fn`` is the node's class
    name (``"SumBackward0"``); when given it replaces ``requires_grad=True``. ``is_leaf`` is accepted
    for the caller's convenience and does not change the output. ``indent`` defaults to
    ``len(prefix)`` and is where continuation lines and wrapped suffixes start.
    """
    del is_leaf  # torch's output depends on grad_fn/requires_grad only
    arr = np.asarray(arr)
    dtype_name = _normalise_dtype(dtype_name)
    default_dtype_name = _normalise_dtype(default_dtype_name)
    if indent is None:
        indent = len(prefix)
    dtype_suffix = f"dtype=torch.{dtype_name}"
    size_suffix = f"size={tuple(arr.shape)}"
    suffixes = []

    if device == "cuda":
        device = "cuda:0"
    if device != "cpu":
        suffixes.append(f"device='{device}'")

    if device == "meta":
        suffixes.append(size_suffix)
        if dtype_name != default_dtype_name:
            suffixes.append(dtype_suffix)
        body = "..."
    elif arr.size == 0:
        # Numpy's convention: the shape is shown unless it is (0,); with no elements the dtype
        # cannot be guessed from the text, so anything but the default float dtype is named.
        if arr.ndim != 1:
            suffixes.append(size_suffix)
        if dtype_name != default_dtype_name:
            suffixes.append(dtype_suffix)
        body = "[]"
    else:
        if not PRINT_OPTS.edgeitems:
            suffixes.append(size_suffix)
        default_complex = "complex128" if default_dtype_name == "float64" else "complex64"
        if dtype_name not in (default_dtype_name, default_complex, "int64", "bool"):
            suffixes.append(dtype_suffix)
        body = _body(arr, indent)

    if grad_fn is not None:
        suffixes.append(f"grad_fn=<{grad_fn}>")
    elif requires_grad:
        suffixes.append("requires_grad=True")

    return _add_suffixes(prefix + body, suffixes, indent)


def parameter_repr(arr: np.ndarray, dtype_name: str, *, requires_grad: bool = True, **kwargs: Any) -> str:
    """``repr(nn.Parameter(...))``: a ``Parameter containing:`` line over the plain tensor repr."""
    return "Parameter containing:\n" + tensor_repr(arr, dtype_name, requires_grad=requires_grad, **kwargs)
