"""Numerical gradient checks: compare analytical vector-Jacobian products with finite differences."""

from __future__ import annotations

from .._backend import np


class GradcheckError(RuntimeError):
    pass


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _diff_inputs(inputs):
    from ..tensor import Tensor  # noqa: PLC0415

    return [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]


def _outputs(fn, inputs):
    from ..tensor import Tensor  # noqa: PLC0415

    return [o for o in _as_tuple(fn(*inputs)) if isinstance(o, Tensor) and o.dtype.is_floating_point]


def _numerical_jacobian(fn, inputs, idx, eps):
    """J[i][j]: d output_flat / d input_j_flat, by central differences (perturbing storage in place).

    ``fn`` runs with grad mode as the caller set it: gradgradcheck's ``fn`` itself calls
    ``autograd.grad`` and needs a graph.
    """
    x = inputs[idx]
    data = x._data
    cols = []
    outs0 = _outputs(fn, inputs)
    flat = data.reshape(-1)
    if data.size and not np.shares_memory(flat, data):
        raise ValueError("gradcheck needs contiguous inputs")
    for k in range(data.size):
        orig = flat[k].copy()
        flat[k] = orig + eps
        plus = [o._data.astype(np.float64).ravel().copy() for o in _outputs(fn, inputs)]
        flat[k] = orig - eps
        minus = [o._data.astype(np.float64).ravel().copy() for o in _outputs(fn, inputs)]
        flat[k] = orig
        cols.append([(p - m) / (2 * eps) for p, m in zip(plus, minus, strict=True)])
    return [
        np.stack([c[j] for c in cols], axis=1) if cols else np.zeros((o._data.size, 0))
        for j, o in enumerate(outs0)
    ]


def _analytical_jacobian(fn, inputs, idx):
    from . import grad  # noqa: PLC0415

    outs = _outputs(fn, inputs)
    x = inputs[idx]
    jac = []
    for o in outs:
        rows = []
        for k in range(o._data.size):
            g = np.zeros(o._data.shape, o._data.dtype)
            g.reshape(-1)[k] = 1
            from ..tensor import _wrap  # noqa: PLC0415

            (gx,) = grad(o, x, _wrap(g, o.dtype, o.device), retain_graph=True, allow_unused=True)
            rows.append(np.zeros(x._data.size) if gx is None else gx._data.astype(np.float64).ravel())
        jac.append(np.stack(rows) if rows else np.zeros((0, x._data.size)))
    return jac


def gradcheck(func, inputs, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True, **kwargs) -> bool:  # fmt: skip
    """Check ``func``'s analytical gradients against finite differences (use float64 inputs)."""
    inputs = _as_tuple(inputs)
    for idx in _diff_inputs(inputs):
        num = _numerical_jacobian(func, inputs, idx, eps)
        ana = _analytical_jacobian(func, inputs, idx)
        for j, (n, a) in enumerate(zip(num, ana, strict=True)):
            if not np.allclose(a, n, rtol=rtol, atol=atol):
                if raise_exception:
                    raise GradcheckError(
                        f"Jacobian mismatch for output {j} with respect to input {idx},\n"
                        f"numerical:{n}\nanalytical:{a}\n"
                    )
                return False
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps: float = 1e-6, atol: float = 1e-5,
                  rtol: float = 1e-3, raise_exception: bool = True, **kwargs) -> bool:  # fmt: skip
    """Check second derivatives: gradcheck of the function ``(inputs, v) -> vjp(func, inputs, v)``."""
    from ..random import Generator  # noqa: PLC0415
    from ..tensor import _wrap  # noqa: PLC0415
    from . import grad  # noqa: PLC0415

    inputs = _as_tuple(inputs)
    outs = _outputs(func, inputs)
    if grad_outputs is None:
        gen = np.random.default_rng(0)
        grad_outputs = []
        for o in outs:
            v = _wrap(gen.standard_normal(o._data.shape).astype(o._data.dtype), o.dtype, o.device)
            v.requires_grad_(True)
            grad_outputs.append(v)
    grad_outputs = list(_as_tuple(grad_outputs))
    diff = _diff_inputs(inputs)
    n_in = len(inputs)
    del Generator

    def vjp(*args):
        ins, vs = args[:n_in], args[n_in:]
        o = _outputs(func, ins)
        targets = [ins[i] for i in diff]
        gs = grad(o, targets, list(vs), create_graph=True, allow_unused=True)
        return tuple(g for g in gs if g is not None)

    return gradcheck(
        vjp, (*inputs, *grad_outputs), eps=eps, atol=atol, rtol=rtol, raise_exception=raise_exception
    )
