"""Autograd semantics against PyTorch: leaves and grads, backward/grad options, hooks, grad modes,
user Functions, the engine's scale, and the error messages."""

from __future__ import annotations

import gc
import math
import random
import time
import warnings
import weakref

import numpy as np
import pytest
from _spec import needs_torch, to_np, torch

import ember
from ember.autograd import Function, gradcheck, gradgradcheck


def both(fn):
    """Run ``fn(T)`` with ember and (when installed) torch; return the two results."""
    e = fn(ember)
    t = fn(torch) if torch is not None else None
    return e, t


def same_values(fn, rtol=1e-6, atol=1e-7):
    """``fn(T)`` returns a tensor or a (nested) tuple/list of tensors/numbers: equal in ember and torch."""
    e, t = both(fn)
    if torch is None:
        return e
    _compare(e, t, rtol, atol)
    return e


def _compare(e, t, rtol, atol):
    if isinstance(e, (tuple, list)):
        assert isinstance(t, (tuple, list)) and len(e) == len(t)
        for a, b in zip(e, t, strict=True):
            _compare(a, b, rtol, atol)
    elif e is None or t is None:
        assert e is None and t is None
    elif isinstance(e, (bool, str)):
        assert e == t
    elif isinstance(e, (int, float)):
        assert math.isclose(e, t, rel_tol=rtol, abs_tol=atol)
    else:
        assert tuple(e.shape) == tuple(t.shape)
        np.testing.assert_allclose(to_np(e), to_np(t), rtol=rtol, atol=atol)


def error_of(fn, T):
    try:
        fn(T)
    except Exception as exc:  # noqa: BLE001 - the point is to capture whatever is raised
        return exc
    return None


def same_error(fn, exc_type=RuntimeError, match=None):
    """``fn`` raises the same exception type with the same message in ember and torch."""
    e = error_of(fn, ember)
    assert isinstance(e, exc_type), f"ember raised {e!r}"
    if match is not None:
        assert match in str(e)
    if torch is not None:
        t = error_of(fn, torch)
        assert isinstance(t, exc_type), f"torch raised {t!r}"
        assert str(e) == str(t)
    return e


# -- leaves, grads, grad_fn -------------------------------------------------------------------------------
def test_leaf_flags():
    def fn(T):
        a = T.tensor([1.0, 2.0], requires_grad=True)
        b = T.tensor([1.0, 2.0])
        c = a * 2
        d = b * 2
        return [
            (t.requires_grad, t.is_leaf, t.grad_fn is None)
            for t in (a, b, c, d, a.detach(), c.detach(), T.ones(2, requires_grad=True), b.requires_grad_())
        ]

    e, t = both(fn)
    if t is not None:
        assert e == t
    assert e[0] == (True, True, True) and e[2] == (True, False, False) and e[3] == (False, True, True)


def test_grad_fn_chain_and_next_functions():
    a = ember.tensor([1.0, 2.0], requires_grad=True)
    b = ember.tensor(3.0, requires_grad=True)
    y = (a * b).sum()
    assert y.grad_fn.name() == "SumBackward0"
    mul = y.grad_fn.next_functions[0][0]
    assert mul.name() == "MulBackward0"
    names = [type(n).__name__ for n, _ in mul.next_functions]
    assert names == ["AccumulateGrad", "AccumulateGrad"]
    assert mul.next_functions[0][0].variable is a
    c = a * ember.tensor(3.0)  # a constant tensor input: a (None, 0) entry, as in torch
    assert [n is None for n, _ in c.grad_fn.next_functions] == [False, True]


def test_grad_none_before_backward_and_nonleaf_warning():
    a = ember.tensor([1.0, 2.0], requires_grad=True)
    assert a.grad is None
    y = a * 2
    with pytest.warns(UserWarning, match="is not a leaf Tensor is being accessed"):
        assert y.grad is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y.retain_grad()
        assert y.grad is None  # no warning once retained


def test_backward_scalar_accumulates_across_calls():
    def fn(T):
        w = T.tensor([1.0, -2.0, 3.0], requires_grad=True)
        grads = []
        for k in range(3):
            (w * w * (k + 1)).sum().backward()
            grads.append(w.grad.clone())
        g_obj = w.grad
        (w * 2).sum().backward()
        return [*grads, w.grad, g_obj is w.grad]

    e = same_values(fn)
    assert e[-1] is True  # accumulated in place into the same grad tensor, as in torch


def test_grad_not_accumulated_with_grad_enabled_creates_new():
    # under create_graph the accumulation is out of place (the old grad is not modified)
    w = ember.tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward(create_graph=True)
    g0 = w.grad
    (w * w).sum().backward(create_graph=True)
    assert w.grad is not g0
    np.testing.assert_allclose(g0.detach().numpy(), [2.0, 4.0])
    np.testing.assert_allclose(w.grad.detach().numpy(), [4.0, 8.0])
    assert w.grad.requires_grad


def test_backward_with_gradient_argument():
    def fn(T):
        x = T.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        y = x * x
        y.backward(T.tensor([[1.0, 0.5], [0.0, -1.0]]))
        return x.grad

    same_values(fn)


def test_backward_gradient_dtype_is_cast():
    def fn(T):
        x = T.tensor([1.0, 2.0], requires_grad=True)
        (x * 2).backward(T.tensor([1, 1]))
        return x.grad, x.grad.dtype == T.float32

    same_values(fn)


def test_retain_graph_allows_second_backward():
    def fn(T):
        x = T.tensor([1.0, 2.0], requires_grad=True)
        y = (x.exp() * x).sum()
        y.backward(retain_graph=True)
        y.backward()
        return x.grad

    same_values(fn)


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")
def test_create_graph_second_derivative():
    def fn(T):
        x = T.tensor([0.5, -1.5, 2.0], requires_grad=True)
        y = (x**3 + x.sin() * x).sum()
        (g,) = T.autograd.grad(y, x, create_graph=True)
        (h,) = T.autograd.grad(g.sum(), x)
        x2 = T.tensor([0.3], requires_grad=True)
        z = (x2.tanh() ** 2).sum()
        z.backward(create_graph=True)
        gx = x2.grad
        x2.grad = None
        gx.sum().backward()
        return g, h, gx, x2.grad, g.requires_grad

    same_values(fn)


def test_third_derivative():
    def fn(T):
        x = T.tensor(0.7, requires_grad=True)
        y = x.exp() * x**4
        g1 = T.autograd.grad(y, x, create_graph=True)[0]
        g2 = T.autograd.grad(g1, x, create_graph=True)[0]
        g3 = T.autograd.grad(g2, x)[0]
        return g1, g2, g3

    same_values(fn, rtol=1e-5)


def test_backward_inputs_restricts_accumulation():
    def fn(T):
        a = T.tensor([1.0, 2.0], requires_grad=True)
        b = T.tensor([3.0, 4.0], requires_grad=True)
        y = (a * b).sum()
        y.backward(inputs=[a], retain_graph=True)
        first = (a.grad.clone(), b.grad)
        y.backward(inputs=b)
        return [*first, a.grad, b.grad]

    same_values(fn)


def test_backward_inputs_nonleaf():
    def fn(T):
        a = T.tensor([1.0, 2.0], requires_grad=True)
        h = a * 3
        h.retain_grad()
        (h * h).sum().backward(inputs=[h])
        return h.grad, a.grad

    same_values(fn)


def test_autograd_backward_function_multiple_roots():
    def fn(T):
        a = T.tensor([1.0, 2.0], requires_grad=True)
        y1 = a * 2
        y2 = (a**2).sum()
        T.autograd.backward([y1, y2], [T.tensor([1.0, -1.0]), None])
        return a.grad

    same_values(fn)


def test_autograd_grad_options():
    def fn(T):
        x = T.tensor([1.0, 2.0], requires_grad=True)
        w = T.tensor([3.0], requires_grad=True)
        y = (x * x).sum()
        g1 = T.autograd.grad(y, [x, w], allow_unused=True, retain_graph=True)
        g2 = T.autograd.grad(y, [x, w], materialize_grads=True, retain_graph=True)
        g3 = T.autograd.grad([y, (x * 2).sum()], x, grad_outputs=[T.tensor(2.0), None])
        return g1, g2, g3, x.grad is None

    e = same_values(fn)
    assert e[0][1] is None and e[-1] is True


def test_grad_does_not_accumulate_into_leaves():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    (g,) = ember.autograd.grad((x * x).sum(), x)
    assert x.grad is None
    assert not g.requires_grad


def test_graph_freed_after_backward():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    z = y.sum()
    node = y.grad_fn
    z.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        node.saved_tensors  # noqa: B018 - the property access is the test
    # and the saved tensors' memory is actually released
    x2 = ember.tensor(np.ones(1000), requires_grad=True)
    y2 = x2.exp()
    ref = weakref.ref(y2.grad_fn)
    y2.sum().backward()
    assert y2.grad_fn._saved is None
    del y2
    gc.collect()
    assert ref() is None


def test_retain_grad_and_hooks_order():
    def fn(T):
        log = []
        x = T.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        y.retain_grad()
        y.register_hook(lambda g: log.append(("h1", g.tolist())) or g * 10)
        y.register_hook(lambda g: log.append(("h2", g.tolist())))
        x.register_hook(lambda g: log.append(("leaf", g.tolist())))
        (y * y).sum().backward()
        return log, y.grad, x.grad

    e, t = both(fn)
    if t is not None:
        assert e[0] == t[0]
        _compare(e[1:], t[1:], 1e-6, 1e-7)
    assert e[0][0][0] == "h1" and e[0][1] == ("h2", [40.0, 80.0])


def test_hook_removal_and_leaf_hook_changes_grad():
    def fn(T):
        x = T.tensor([1.0, 2.0], requires_grad=True)
        h = x.register_hook(lambda g: g * 100)
        x.register_hook(lambda g: g + 1)
        (x * 3).sum().backward()
        first = x.grad.clone()
        h.remove()
        x.grad = None
        (x * 3).sum().backward()
        return first, x.grad

    same_values(fn)


def test_hook_on_intermediate_changes_upstream_grad():
    def fn(T):
        x = T.tensor([1.0, -2.0], requires_grad=True)
        y = x * x
        y.register_hook(lambda g: g.clamp(min=0) * 0 + 5)
        y.sum().backward()
        return x.grad

    same_values(fn)


def test_node_hooks():
    def fn(T):
        log = []
        x = T.tensor([1.0, 2.0], requires_grad=True)
        y = x * 3
        y.grad_fn.register_prehook(lambda go: log.append(("pre", go[0].tolist())))
        y.grad_fn.register_hook(lambda gi, go: log.append(("post", gi[0].tolist(), go[0].tolist())))
        (y * 2).sum().backward()
        z = x.exp()
        z.grad_fn.register_hook(lambda gi, go: (gi[0] * 0,))
        z.sum().backward()
        return log, x.grad

    e, t = both(fn)
    if t is not None:
        assert e[0] == t[0]
        _compare(e[1], t[1], 1e-6, 1e-7)


def test_post_accumulate_grad_hook():
    seen = []
    p = ember.tensor([1.0, 2.0], requires_grad=True)
    p.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.tolist()))
    (p * 2).sum().backward()
    assert seen == [[2.0, 2.0]]


def test_detach_and_requires_grad_():
    def fn(T):
        x = T.tensor([1.0, 2.0], requires_grad=True)
        d = x.detach()
        d[0] = 5.0  # shares storage with x
        y = T.tensor([1.0, 2.0])
        y.requires_grad_()
        z = (x * y).sum()
        z.backward()
        return x, d.requires_grad, y.grad, x.grad, x.detach().data_ptr() == x.data_ptr()

    same_values(fn)


def test_detach_inplace():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.detach_()
    assert not y.requires_grad and y.grad_fn is None and y.is_leaf


# -- grad modes -------------------------------------------------------------------------------------------
def test_no_grad_and_enable_grad_contexts():
    x = ember.tensor([1.0], requires_grad=True)
    with ember.no_grad():
        assert not ember.is_grad_enabled()
        assert not (x * 2).requires_grad
        with ember.enable_grad():
            assert (x * 2).requires_grad
        assert not (x * 2).requires_grad
    assert ember.is_grad_enabled()
    with ember.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert (x * 2).requires_grad
    ember.set_grad_enabled(False)  # also a plain function call
    assert not ember.is_grad_enabled()
    ember.set_grad_enabled(True)
    with ember.inference_mode():
        assert not (x * 2).requires_grad
    with ember.inference_mode(False):
        assert (x * 2).requires_grad


def test_grad_mode_restored_after_exception():
    with pytest.raises(ValueError), ember.no_grad():
        raise ValueError
    assert ember.is_grad_enabled()


@pytest.mark.parametrize(
    "make", [lambda T: T.no_grad(), lambda T: T.inference_mode(), lambda T: T.set_grad_enabled(False)]
)
def test_grad_mode_decorators(make):
    def fn(T):
        @make(T)
        def f(x):
            return x * 2

        @make(T)
        def gen(x):
            for k in range(2):
                yield x * k, T.is_grad_enabled()

        x = T.tensor([1.0], requires_grad=True)
        out = [f(x).requires_grad, T.is_grad_enabled()]
        for y, mode in gen(x):
            out.append((y.requires_grad, mode, T.is_grad_enabled()))
        return out

    e, t = both(fn)
    if t is not None:
        assert e == t
    assert e[0] is False and e[1] is True


def test_bare_decorators_and_enable_grad_decorator():
    @ember.no_grad
    def f(x):
        return x * 2

    @ember.enable_grad()
    def g(x):
        return x * 2

    @ember.inference_mode
    def h(x):
        return x * 2

    x = ember.tensor([1.0], requires_grad=True)
    assert not f(x).requires_grad and not h(x).requires_grad
    with ember.no_grad():
        assert g(x).requires_grad
    assert f.__name__ == "f"


def test_generator_grad_mode_does_not_leak():
    @ember.no_grad()
    def gen():
        yield ember.is_grad_enabled()
        yield ember.is_grad_enabled()

    it = gen()
    assert next(it) is False
    assert ember.is_grad_enabled()  # outside the generator, the caller's mode
    assert next(it) is False


# -- weight sharing, dynamic graphs, scale ----------------------------------------------------------------
def test_weight_sharing_dynamic_net():
    """The seed's DynamicNet: the same parameter used several times in one graph."""

    def fn(T):
        random.seed(3)
        x = T.linspace(-math.pi, math.pi, 50)
        p = {
            k: T.tensor(v, requires_grad=True)
            for k, v in zip("abcde", [0.1, -0.2, 0.3, -0.05, 0.01], strict=True)
        }
        grads = []
        for _ in range(3):
            y = p["a"] + p["b"] * x + p["c"] * x**2 + p["d"] * x**3
            for exp in range(4, random.randint(4, 6)):
                y = y + p["e"] * x**exp
            loss = (y - T.sin(x)).pow(2).sum()
            loss.backward()
            grads.append([None if p[k].grad is None else p[k].grad.clone() for k in "abcde"])
            for k in "abcde":
                p[k].grad = None
        return grads

    same_values(fn, rtol=1e-5, atol=1e-4)


def test_diamond_graph_accumulates_once_per_path():
    def fn(T):
        x = T.tensor([1.5, -0.5], requires_grad=True)
        a = x * 2
        b = a.exp()
        c = a.sin()
        d = (b * c + a).sum()
        d.backward()
        return x.grad

    same_values(fn)


def test_long_chain_no_recursion_and_fast():
    x = ember.tensor(1.0, requires_grad=True)
    y = x
    t0 = time.perf_counter()
    for _ in range(100_000):
        y = y * 1.0
    y.backward()
    elapsed = time.perf_counter() - t0
    assert x.grad.item() == 1.0
    assert elapsed < 20.0, f"100k-op chain took {elapsed:.1f}s"


def test_deep_chain_with_create_graph():
    def fn(T):
        x = T.tensor(0.5, dtype=T.float64, requires_grad=True)
        y = x
        for _ in range(2_000):
            y = y.sin() * 1.001
        (g,) = T.autograd.grad(y, x, create_graph=True)
        (h,) = T.autograd.grad(g, x)
        return g, h, g.requires_grad

    e = same_values(fn, rtol=1e-9)
    assert e[2] is True


# -- user-defined Functions -------------------------------------------------------------------------------
def _legendre(T):
    class LegendrePolynomial3(T.autograd.Function):
        """
        We can implement our own custom autograd Functions by subclassing
        torch.autograd.Function and implementing the forward and backward passes
        which operate on Tensors.
        """

        @staticmethod
        def forward(ctx, input):
            """
            In the forward pass we receive a Tensor containing the input and return
            a Tensor containing the output. ctx is a context object that can be used
            to stash information for backward computation. You can cache arbitrary
            objects for use in the backward pass using the ctx.save_for_backward method.
            """
            ctx.save_for_backward(input)
            return 0.5 * (5 * input**3 - 3 * input)

        @staticmethod
        def backward(ctx, grad_output):
            """
            In the backward pass we receive a Tensor containing the gradient of the loss
            with respect to the output, and we need to compute the gradient of the loss
            with respect to the input.
            """
            (input,) = ctx.saved_tensors
            return grad_output * 1.5 * (5 * input**2 - 1)

    return LegendrePolynomial3


def test_legendre_polynomial_seed_training():
    """The seed's loop: y = a + b * P3(c + d * x), 200 steps of manual SGD."""

    def fn(T):
        P3 = _legendre(T).apply
        x = T.linspace(-math.pi, math.pi, 2000)
        y = T.sin(x)
        a = T.full((), 0.0, requires_grad=True)
        b = T.full((), -1.0, requires_grad=True)
        c = T.full((), 0.0, requires_grad=True)
        d = T.full((), 0.3, requires_grad=True)
        lr = 5e-6
        for _ in range(200):
            y_pred = a + b * P3(c + d * x)
            loss = (y_pred - y).pow(2).sum()
            loss.backward()
            with T.no_grad():  # exactly the seed's update
                a -= lr * a.grad
                b -= lr * b.grad
                c -= lr * c.grad
                d -= lr * d.grad
                a.grad = None
                b.grad = None
                c.grad = None
                d.grad = None
        return (
            loss.item(),
            a,
            b,
            c,
            d,
            type(y_pred.grad_fn.next_functions[1][0].next_functions[1][0]).__name__,
        )

    e, t = both(fn)
    if t is not None:
        _compare(e[:-1], t[:-1], 1e-4, 1e-5)
        assert e[-1] == t[-1]


def test_legendre_gradcheck_and_gradgradcheck():
    P3 = _legendre(ember).apply
    x = ember.tensor([0.3, -0.7, 1.1], dtype=ember.float64, requires_grad=True)
    assert gradcheck(P3, (x,))
    assert gradgradcheck(P3, (x,))  # its backward is written with ember ops: differentiable again
    assert P3(x).grad_fn.name() == "LegendrePolynomial3Backward"


def test_function_ctx_features():
    def fn(T):
        class MulAdd(T.autograd.Function):
            @staticmethod
            def forward(ctx, x, y, k):
                ctx.save_for_backward(x, y)
                ctx.k = k
                ctx.nig = ctx.needs_input_grad
                return x * y + k, (x > 0)

            @staticmethod
            def backward(ctx, g, g_mask):
                x, y = ctx.saved_tensors
                return (
                    g * y if ctx.needs_input_grad[0] else None,
                    g * x if ctx.needs_input_grad[1] else None,
                    None,
                )

        x = T.tensor([1.0, -2.0], requires_grad=True)
        y = T.tensor([3.0, 4.0])
        out, m = MulAdd.apply(x, y, 5)
        out.sum().backward()
        return out, m, m.requires_grad, out.grad_fn.nig, x.grad

    e, t = both(fn)
    if t is not None:
        _compare(e[:3], t[:3], 1e-6, 1e-7)
        assert tuple(e[3]) == tuple(t[3]) == (True, False, False)
        _compare(e[4], t[4], 1e-6, 1e-7)


def test_function_mark_non_differentiable_and_materialize():
    def fn(T):
        class SortLike(T.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                idx = T.tensor([1, 0])
                out = x.flip(0)
                ctx.mark_non_differentiable(idx)
                return out, idx

            @staticmethod
            def backward(ctx, g, gi):
                return g.flip(0)

        class TwoOut(T.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.set_materialize_grads(False)
                return x * 2, x * 3

            @staticmethod
            def backward(ctx, g1, g2):
                ctx_log.append((g1 is None, g2 is None))
                return (g1 * 2 if g1 is not None else 0) + (g2 * 3 if g2 is not None else 0)

        class TwoOutMat(T.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2, x * 3

            @staticmethod
            def backward(ctx, g1, g2):
                ctx_log.append((g1 is None, g2 is None, float(g2.abs().sum())))
                return g1 * 2 + g2 * 3

        ctx_log = []
        x = T.tensor([1.0, 2.0], requires_grad=True)
        out, idx = SortLike.apply(x)
        out.sum().backward()
        a, _ = TwoOut.apply(x)
        a.sum().backward()
        b, _ = TwoOutMat.apply(x)
        b.sum().backward()
        return idx.requires_grad, x.grad, ctx_log

    e, t = both(fn)
    if t is not None:
        assert e[0] == t[0] is False
        _compare(e[1], t[1], 1e-6, 1e-7)
        assert e[2] == t[2]


def test_function_mark_dirty():
    def fn(T):
        class AddOneInplace(T.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                x.add_(1)
                ctx.mark_dirty(x)
                return x

            @staticmethod
            def backward(ctx, g):
                return g

        a = T.tensor([1.0, 2.0], requires_grad=True)
        h = a * 2
        v0 = h._version
        out = AddOneInplace.apply(h)
        (out * out).sum().backward()
        return out is h, h._version > v0, type(h.grad_fn).__name__, a.grad

    e, t = both(fn)
    assert e[0] is True and e[1] is True
    if t is not None:
        assert e[:3] == t[:3]
        _compare(e[3], t[3], 1e-6, 1e-7)


def test_function_setup_context_form_and_once_differentiable():
    def fn(T):
        class Cube(T.autograd.Function):
            @staticmethod
            def forward(x):
                return x**3

            @staticmethod
            def setup_context(ctx, inputs, output):
                (x,) = inputs
                ctx.save_for_backward(x)

            @staticmethod
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return 3 * g * x**2

        class Square(T.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * x

            @staticmethod
            @T.autograd.function.once_differentiable
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return 2 * g * x

        x = T.tensor([1.0, 2.0], requires_grad=True)
        y = Cube.apply(x)
        (g,) = T.autograd.grad(y.sum(), x, create_graph=True)
        (h,) = T.autograd.grad(g.sum(), x)
        s = Square.apply(x)
        (gs,) = T.autograd.grad(s.sum(), x, create_graph=True)
        return y, g, h, gs.requires_grad

    e = same_values(fn)
    assert e[3] is False  # a once_differentiable backward records no graph


def test_function_returning_an_input():
    def fn(T):
        class Identity(T.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x

            @staticmethod
            def backward(ctx, g):
                return g * 2

        x = T.tensor([1.0, 2.0], requires_grad=True)
        y = Identity.apply(x)
        y.sum().backward()
        return y is x, y.is_leaf, type(y.grad_fn).__name__, x.grad, y.data_ptr() == x.data_ptr()

    e, t = both(fn)
    assert e[0] is False and e[1] is False
    if t is not None:
        assert e[:3] == t[:3]
        _compare(e[3:], t[3:], 1e-6, 1e-7)


def test_second_derivative_through_user_function():
    def fn(T):
        class Sin(T.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x.sin()

            @staticmethod
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return g * x.cos()

        x = T.tensor([0.5, 1.0], requires_grad=True)
        y = Sin.apply(x).sum()
        (g,) = T.autograd.grad(y, x, create_graph=True)
        (h,) = T.autograd.grad(g.sum(), x)
        return g, h

    same_values(fn)


def test_user_function_non_tensor_args_and_none_grads():
    def fn(T):
        class Scale(T.autograd.Function):
            @staticmethod
            def forward(ctx, x, factor, name):
                ctx.factor = factor
                return x * factor

            @staticmethod
            def backward(ctx, g):
                return g * ctx.factor, None, None

        x = T.tensor([1.0, 2.0], requires_grad=True)
        Scale.apply(x, 3.0, "s").sum().backward()
        return x.grad

    same_values(fn)


def test_function_without_grad_inputs_has_no_graph():
    class Double(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    y = Double.apply(ember.tensor([1.0]))
    assert not y.requires_grad and y.grad_fn is None
    with ember.no_grad():
        z = Double.apply(ember.tensor([1.0], requires_grad=True))
    assert not z.requires_grad


# -- errors, compared with torch's own messages ----------------------------------------------------------
def test_error_backward_twice():
    def fn(T):
        x = T.tensor([1.0, 2.0], requires_grad=True)
        y = (x * x).sum()
        y.backward()
        y.backward()

    same_error(fn, match="Trying to backward through the graph a second time")


def test_error_backward_non_scalar():
    def fn(T):
        x = T.tensor([1.0, 2.0], requires_grad=True)
        (x * 2).backward()

    same_error(fn, match="grad can be implicitly created only for scalar outputs")


def test_error_grad_non_scalar():
    same_error(lambda T: _grad_of_double(T, T.ones(2, requires_grad=True)), match="scalar outputs")
    same_error(
        lambda T: T.autograd.grad((T.ones(2, requires_grad=True) * 2).sum(), []), match="cannot be empty"
    )


@pytest.mark.parametrize(
    "op",
    [
        lambda x: x.add_(1),
        lambda x: x.mul_(2),
        lambda x: x.exp_(),
        lambda x: x.zero_(),
        lambda x: x.copy_(x.detach() * 2),
        lambda x: x.__iadd__(1),
        lambda x: x.masked_fill_(x.detach() > 1, 0.0),
        lambda x: x.__setitem__([0], 3.0),
        lambda x: x.clamp_(0, 1),
    ],
)
def test_error_inplace_on_leaf(op):
    def fn(T):
        x = T.tensor([1.0, 2.0], requires_grad=True)
        op(x)

    same_error(fn, match="a leaf Variable that requires grad is being used in an in-place operation.")


def test_error_inplace_on_view_of_leaf():
    def fn(T):
        x = T.tensor([1.0, 2.0], requires_grad=True)
        x[0] = 3.0

    same_error(fn, match="a view of a leaf Variable")
    same_error(
        lambda T: T.tensor([1.0, 2.0], requires_grad=True)[1:].mul_(2), match="a view of a leaf Variable"
    )


def test_inplace_on_leaf_allowed_under_no_grad():
    def fn(T):
        x = T.tensor([1.0, 2.0], requires_grad=True)
        with T.no_grad():
            x.add_(1)
            x[0] = 7.0
            x *= 2
        return x, x.requires_grad, x.is_leaf, x._version

    e = same_values(fn)
    assert e[-1] == 3


def _square_and(y):
    return y * y, y


def _itself(y):
    return y, y


def _pow_and(y):
    return y.pow(2), y


def _mm_and(x, w):
    return x.mm(w), w


def _grad_of_double(T, x):
    return T.autograd.grad(x * 2, x)


def _grad_two(T, a, b):
    return T.autograd.grad((a * 2).sum(), [a, b])


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda T, x: _square_and(x * 1), id="saved_input_of_mul"),
        pytest.param(lambda T, x: _itself(x.exp()), id="saved_output_of_exp"),
        pytest.param(lambda T, x: _itself(x.sigmoid()), id="saved_output_of_sigmoid"),
        pytest.param(lambda T, x: _pow_and(x.tanh()), id="saved_output_then_pow"),
        pytest.param(lambda T, x: _mm_and(x, T.ones(2, 3)), id="saved_mm_weight"),
    ],
)
def test_error_saved_tensor_modified_inplace(make):
    def fn(T):
        x = T.full((2, 2), 0.5, requires_grad=True)
        out, victim = make(T, x)
        victim.add_(1)
        out.sum().backward()

    e = same_error(
        fn, match="one of the variables needed for gradient computation has been modified by an inplace"
    )
    assert "is at version 1; expected version 0 instead" in str(e)


def test_version_counter_shared_by_views():
    def fn(T):
        x = T.zeros(4)
        v = x[1:3]
        w = x.view(2, 2)
        v.add_(1)
        w.mul_(2)
        return x._version, v._version, w._version, x

    e = same_values(fn)
    assert e[:3] == (2, 2, 2)


def test_error_requires_grad_on_integer_tensor():
    same_error(lambda T: T.tensor([1, 2], requires_grad=True), match="floating point")
    same_error(lambda T: T.tensor([1, 2]).requires_grad_(), match="floating point")
    same_error(lambda T: setattr(T.arange(3), "requires_grad", True), match="floating point")
    same_error(lambda T: T.zeros(2, dtype=T.int64, requires_grad=True), match="floating point")


def test_error_wrong_number_of_gradients_from_function():
    def fn(T):
        class F(T.autograd.Function):
            @staticmethod
            def forward(ctx, x, y):
                return x * y

            @staticmethod
            def backward(ctx, g):
                return g

        x = T.tensor([1.0, 2.0], requires_grad=True)
        F.apply(x, x).sum().backward()

    same_error(fn, match="returned an incorrect number of gradients (expected 2, got 1)")

    def too_many(T):
        class G(T.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, g):
                return g, g

        G.apply(T.tensor([1.0], requires_grad=True)).sum().backward()

    same_error(too_many, match="(expected 1, got 2)")


def test_error_wrong_gradient_shape_from_function():
    def fn(T):
        class F(T.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, g):
                return g[:1]

        F.apply(T.tensor([1.0, 2.0], requires_grad=True)).sum().backward()

    same_error(fn, match="returned an invalid gradient at index 0")


@pytest.mark.parametrize(
    "fn",
    [
        pytest.param(lambda T: T.tensor([1.0, 2.0]).sum().backward(), id="no_grad_fn"),
        pytest.param(
            lambda T: T.autograd.grad((T.ones(2, requires_grad=True) * 2).sum(), [T.ones(2)]),
            id="input_no_rg",
        ),
        pytest.param(
            lambda T: _grad_two(T, T.ones(2, requires_grad=True), T.ones(2, requires_grad=True)),
            id="unused",
        ),
        pytest.param(lambda T: (T.ones(2, requires_grad=True) * 2).backward(T.ones(3)), id="grad_shape"),
        pytest.param(lambda T: T.ones(2).register_hook(lambda g: g), id="hook_no_rg"),
        pytest.param(lambda T: T.ones(2).retain_grad(), id="retain_no_rg"),
        pytest.param(lambda T: T.ones(2, requires_grad=True).numpy(), id="numpy_rg"),
        pytest.param(
            lambda T: setattr(T.ones(2, requires_grad=True) * 2, "requires_grad", False), id="nonleaf_rg"
        ),
        pytest.param(lambda T: setattr(T.ones(2, requires_grad=True), "grad", T.ones(3)), id="grad_size"),
        pytest.param(
            lambda T: setattr(T.ones(2, requires_grad=True), "grad", T.ones(2, dtype=T.float64)),
            id="grad_dtype",
        ),
        pytest.param(
            lambda T: (T.ones(2, requires_grad=True) * 2).sum().backward(inputs=[]), id="inputs_empty"
        ),
        pytest.param(lambda T: T.ones(2).item(), id="item"),
    ],
)
def test_error_messages_match_torch(fn):
    same_error(fn)


def test_error_grad_assign_not_tensor():
    same_error(lambda T: setattr(T.ones(2, requires_grad=True), "grad", [1.0, 2.0]), TypeError)


@needs_torch
def test_sub_bool_and_neg_bool_errors():
    same_error(lambda T: T.tensor([True]) - T.tensor([False]))
    same_error(lambda T: -T.tensor([True]))
