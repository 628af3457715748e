"""Optimizers against PyTorch: trajectories, single steps bit for bit, state_dicts, LBFGS, errors.

float32 agreement (see NOTE [ optimizer arithmetic ] in ember/optim/optimizer.py): given the same
gradients, every optimizer's step is bit-identical to PyTorch's once PyTorch's square root is used
(``torch_sqrt`` below). PyTorch's vectorized float32 sqrt goes through MKL's VML, which is not
correctly rounded (about 1 element in 6 is 1 ulp off), while NumPy's is; so without the substitution
the optimizers that take a square root agree to about 1 ulp of the update per step.
"""

import copy
import importlib
import warnings

import numpy as np
import pytest

import ember
import ember.optim as optim

torch = pytest.importorskip("torch")

CONFIGS = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "maximize": True}),
    ("Adam", {"lr": 0.01}),
    ("Adam", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.01, "maximize": True}),
    ("AdamW", {"lr": 0.01}),
    ("AdamW", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.05}),
    ("RMSprop", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.9, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.3, "eps": 1e-6, "maximize": True}),
    ("Adagrad", {"lr": 0.1}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01, "initial_accumulator_value": 0.1, "weight_decay": 0.1}),
    ("Adadelta", {}),
    ("Adadelta", {"lr": 0.5, "rho": 0.8, "weight_decay": 0.1}),
    ("Adamax", {}),
    ("Adamax", {"weight_decay": 0.1, "maximize": True}),
    ("NAdam", {}),
    ("NAdam", {"weight_decay": 0.1, "momentum_decay": 0.01}),
    ("NAdam", {"weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("RAdam", {}),
    ("RAdam", {"weight_decay": 0.1}),
    ("RAdam", {"weight_decay": 0.1, "decoupled_weight_decay": True}),
]
IDS = [f"{n}-{'-'.join(f'{k}={v}' for k, v in kw.items()) or 'defaults'}" for n, kw in CONFIGS]
SQRT_MODULES = ["adam", "rmsprop", "adagrad", "adadelta", "nadam", "radam"]
SHAPES = [(16, 5), (16,), (3, 16), (3,)]


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    # PyTorch's thread pool makes these tiny models ~20x slower on a shared machine
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


class _TorchSqrtNumpy:
    """NumPy, except that ``sqrt`` is PyTorch's (MKL's) float32 square root."""

    def __getattr__(self, name):
        return getattr(np, name)

    @staticmethod
    def sqrt(a, out=None):
        r = torch.from_numpy(np.ascontiguousarray(a)).sqrt().numpy()
        if out is None:
            return r
        out[...] = r
        return out


@pytest.fixture
def torch_sqrt(monkeypatch):
    for m in SQRT_MODULES:
        monkeypatch.setattr(importlib.import_module(f"ember.optim.{m}"), "np", _TorchSqrtNumpy())


def to_ember(obj):
    """A PyTorch object (state_dict, tensor, list ...) with its tensors converted through NumPy."""
    if isinstance(obj, torch.Tensor):
        return ember.tensor(obj.detach().numpy().copy())
    if isinstance(obj, dict):
        return {k: to_ember(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return type(obj)(to_ember(v) for v in obj)
    return obj


def ulp_distance(a, b):
    """Elementwise distance in units in the last place (float32)."""
    ia, ib = (x.view(np.int32).astype(np.int64) for x in (a, b))
    ia, ib = (np.where(i < 0, -(i & 0x7FFFFFFF), i) for i in (ia, ib))
    return np.abs(ia - ib)


def mlp_problem(dtype, seed=0):
    rng = np.random.default_rng(seed)
    weights = [rng.standard_normal(s).astype(dtype) * 0.5 for s in SHAPES]
    return weights, rng.standard_normal((32, 5)).astype(dtype), rng.standard_normal((32, 3)).astype(dtype)


def mlp(lib, weights):
    nn = lib.nn
    m = nn.Sequential(nn.Linear(5, 16), nn.Tanh(), nn.Linear(16, 3))
    with lib.no_grad():
        for p, w in zip(m.parameters(), weights):
            p.data = lib.tensor(w)
    return m


def train(lib, name, kw, weights, X, Y, steps=100):
    """``steps`` full training iterations; returns the final parameters as arrays."""
    model = mlp(lib, weights)
    opt = getattr(lib.optim, name)(model.parameters(), **kw)
    x, y = lib.tensor(X), lib.tensor(Y)
    sign = -1 if kw.get("maximize") else 1  # maximize the negated loss: the same descent, no blow-up
    for _ in range(steps):
        opt.zero_grad()
        loss = sign * lib.nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
    return [p.detach().numpy().copy() for p in model.parameters()]


def normwise(ref, got):
    return max(float(np.max(np.abs(a - b)) / np.max(np.abs(a))) for a, b in zip(ref, got))


# -- trajectories ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "kw"), CONFIGS, ids=IDS)
def test_trajectory_float64(name, kw):
    weights, X, Y = mlp_problem(np.float64)
    ref = train(torch, name, kw, weights, X, Y)
    got = train(ember, name, kw, weights, X, Y)
    for a, b in zip(ref, got):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-9)
    assert normwise(ref, got) < 1e-10  # measured: < 2e-14 for every config


@pytest.mark.parametrize(("name", "kw"), CONFIGS, ids=IDS)
def test_trajectory_float32(name, kw):
    # ember's own forward and backward (BLAS sums in another order) plus MKL's sqrt: measured
    # normwise relative differences are 5e-8 .. 8e-6 after 100 steps
    weights, X, Y = mlp_problem(np.float32)
    ref = train(torch, name, kw, weights, X, Y)
    got = train(ember, name, kw, weights, X, Y)
    assert all(b.dtype == np.float32 for b in got)
    assert normwise(ref, got) < 1e-4


def _injected_run(name, kw, dtype, steps, sync, check, shapes=((7, 13), (13,), (1,), (64, 33))):
    """Both optimizers see identical gradients; with ``sync`` ember restarts each step from PyTorch's
    parameters and (converted) state, so ``check`` sees single-step differences."""
    rng = np.random.default_rng(1)
    init = [rng.standard_normal(s).astype(dtype) for s in shapes]
    tp = [torch.tensor(a, requires_grad=True) for a in init]
    ep = [ember.tensor(a, requires_grad=True) for a in init]
    topt, eopt = getattr(torch.optim, name)(tp, **kw), getattr(optim, name)(ep, **kw)
    for _ in range(steps):
        for t, e in zip(tp, ep):
            g = (rng.standard_normal(t.shape) * 0.1 + 0.05 * t.detach().numpy()).astype(dtype)
            t.grad, e.grad = torch.from_numpy(g.copy()), ember.tensor(g)
            if sync:
                e._data[...] = t.detach().numpy()
        if sync:
            # reload PyTorch's own state too: loading casts NAdam's float32 mu_product to the params' dtype
            topt.load_state_dict(topt.state_dict())
            eopt.load_state_dict(to_ember(topt.state_dict()))
        topt.step()
        eopt.step()
        for t, e in zip(tp, ep):
            check(t.detach().numpy(), e._data)


@pytest.mark.parametrize(("name", "kw"), CONFIGS, ids=IDS)
def test_float32_bit_for_bit_with_torch_sqrt(name, kw, torch_sqrt):
    def check(a, b):
        np.testing.assert_array_equal(b, a)

    _injected_run(name, kw, np.float32, 100, sync=False, check=check)


@pytest.mark.parametrize(("name", "kw"), CONFIGS, ids=IDS)
def test_float32_single_steps(name, kw):
    # without the sqrt substitution: each step is exact where the square roots agree, and otherwise
    # off by about one ulp of the update
    counts = np.zeros(2, np.int64)

    def check(a, b):
        u = ulp_distance(a, b)
        counts[0] += u.size
        counts[1] += np.count_nonzero(u)
        np.testing.assert_allclose(b, a, rtol=1e-6, atol=1e-7)

    _injected_run(name, kw, np.float32, 30, sync=True, check=check)
    if name in ("SGD", "Adamax"):  # no square root: always exact
        assert counts[1] == 0
    assert counts[1] <= 0.05 * counts[0]


@pytest.mark.parametrize(("name", "kw"), CONFIGS[::3], ids=IDS[::3])
def test_float32_big_tensors_take_the_fast_path(name, kw):
    # above EXACT_FMA_MAX_NUMEL elements fma rounds twice: about 1 ulp per operation
    assert 200 * 200 > optim.optimizer.EXACT_FMA_MAX_NUMEL

    def check(a, b):
        assert b.dtype == np.float32
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)

    _injected_run(name, kw, np.float32, 5, sync=True, check=check, shapes=[(200, 200)])


@pytest.mark.parametrize(("name", "kw"), CONFIGS, ids=IDS)
def test_float64_single_steps(name, kw):
    def check(a, b):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-14)

    _injected_run(name, kw, np.float64, 30, sync=True, check=check)


# -- state_dict ---------------------------------------------------------------------------------------


def _same_structure(esd, tsd):
    assert esd["param_groups"] == tsd["param_groups"]
    assert list(esd["state"]) == list(tsd["state"])
    for k, ts in tsd["state"].items():
        es = esd["state"][k]
        assert list(es) == list(ts)  # same keys, same order
        for key, tv in ts.items():
            ev = es[key]
            if isinstance(tv, torch.Tensor):
                assert isinstance(ev, ember.Tensor)
                assert ev.dtype.name == str(tv.dtype).removeprefix("torch.")
                assert tuple(ev.shape) == tuple(tv.shape)
                np.testing.assert_allclose(ev.numpy(), tv.numpy(), rtol=1e-12, atol=1e-15)
            else:
                assert ev == tv


@pytest.mark.parametrize(("name", "kw"), CONFIGS, ids=IDS)
def test_state_dict_matches_torch_and_round_trips(name, kw):
    weights, X, Y = mlp_problem(np.float64)
    models, opts = [], []
    for lib in (torch, ember):
        model = mlp(lib, weights)
        opt = getattr(lib.optim, name)(model.parameters(), **kw)
        for _ in range(3):
            opt.zero_grad()
            lib.nn.functional.mse_loss(model(lib.tensor(X)), lib.tensor(Y)).backward()
            opt.step()
        models.append(model)
        opts.append(opt)
    _same_structure(opts[1].state_dict(), opts[0].state_dict())
    assert repr(opts[1]) == repr(opts[0])

    # an uninterrupted run and one that saves, rebuilds and reloads in the middle agree exactly (in
    # float32: with float64 params, loading casts NAdam's float32 mu_product to float64, as in PyTorch)
    weights, X, Y = mlp_problem(np.float32)

    def run(resume):
        model = mlp(ember, weights)
        opt = getattr(optim, name)(model.parameters(), **kw)
        for i in range(20):
            if resume and i == 10:
                saved = copy.deepcopy(opt.state_dict())
                opt = getattr(optim, name)(model.parameters(), **kw)
                opt.load_state_dict(saved)
            opt.zero_grad()
            ember.nn.functional.mse_loss(model(ember.tensor(X)), ember.tensor(Y)).backward()
            opt.step()
        return [p.detach().numpy().copy() for p in model.parameters()]

    for a, b in zip(run(False), run(True)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("name", "kw"), CONFIGS, ids=IDS)
def test_load_torch_state_dict_continues(name, kw, dtype, torch_sqrt):
    rng = np.random.default_rng(2)
    init = [rng.standard_normal(s).astype(dtype) for s in [(4, 6), (6,)]]
    grads = [[rng.standard_normal(a.shape).astype(dtype) for a in init] for _ in range(40)]
    tp = [torch.tensor(a, requires_grad=True) for a in init]
    topt = getattr(torch.optim, name)(tp, **kw)

    def step(params, opt, gs, lib):
        for p, g in zip(params, gs):
            p.grad = lib.tensor(g)
        opt.step()

    for gs in grads[:20]:
        step(tp, topt, gs, torch)
    topt.load_state_dict(topt.state_dict())  # loading casts NAdam's float32 mu_product: do it on both
    ep = [ember.tensor(t.detach().numpy().copy(), requires_grad=True) for t in tp]
    eopt = getattr(optim, name)(ep, **kw)
    eopt.load_state_dict(to_ember(topt.state_dict()))
    for gs in grads[20:]:
        step(tp, topt, gs, torch)
        step(ep, eopt, gs, ember)
    for t, e in zip(tp, ep):
        if dtype == np.float32:
            np.testing.assert_array_equal(e._data, t.detach().numpy())
        else:
            np.testing.assert_allclose(e._data, t.detach().numpy(), rtol=1e-12, atol=1e-14)
    _same_structure(eopt.state_dict(), topt.state_dict())


def test_state_dict_shares_tensors_like_torch():
    p = ember.randn(3, requires_grad=True)
    opt = optim.Adam([p])
    p.grad = ember.ones(3)
    opt.step()
    sd = opt.state_dict()
    assert sd["state"][0]["exp_avg"] is opt.state[p]["exp_avg"]
    assert sd["param_groups"][0] is not opt.param_groups[0]
    assert sd["state"][0]["step"].dtype is ember.float32
    assert opt.state[p]["step"].item() == 1.0


def test_load_state_dict_casts_to_param_dtype():
    p = ember.zeros(3, dtype=ember.float64, requires_grad=True)
    opt = optim.Adam([p])
    sd = {
        "state": {0: {"step": ember.tensor(2.0), "exp_avg": ember.ones(3), "exp_avg_sq": ember.ones(3)}},
        "param_groups": [dict(opt.state_dict()["param_groups"][0])],
    }
    opt.load_state_dict(sd)
    assert opt.state[p]["exp_avg"].dtype is ember.float64
    assert opt.state[p]["step"].dtype is ember.float32  # 'step' keeps its dtype, as in PyTorch


# -- LBFGS ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"line_search_fn": "strong_wolfe"},
        {"lr": 0.5, "history_size": 3, "max_iter": 7},
        {"history_size": 4, "line_search_fn": "strong_wolfe", "tolerance_change": 1e-12},
    ],
)
def test_lbfgs_matches_torch(kw):
    weights, X, Y = mlp_problem(np.float64)
    results = []
    for lib in (torch, ember):
        model = mlp(lib, weights)
        opt = lib.optim.LBFGS(model.parameters(), **kw)
        x, y = lib.tensor(X), lib.tensor(Y)

        def closure(model=model, opt=opt, x=x, y=y, lib=lib):
            opt.zero_grad()
            loss = lib.nn.functional.mse_loss(model(x), y)
            loss.backward()
            return loss

        losses = [opt.step(closure).item() for _ in range(4)]
        state = opt.state[next(iter(model.parameters()))]
        results.append(([p.detach().numpy().copy() for p in model.parameters()], losses, state))
    (tparams, tlosses, tstate), (eparams, elosses, estate) = results
    np.testing.assert_allclose(elosses, tlosses, rtol=1e-9)
    for a, b in zip(tparams, eparams):
        np.testing.assert_allclose(b, a, rtol=1e-6, atol=1e-8)
    assert (estate["func_evals"], estate["n_iter"]) == (tstate["func_evals"], tstate["n_iter"])
    assert list(estate) == list(tstate)
    assert len(estate["old_dirs"]) == len(tstate["old_dirs"])


def test_lbfgs_state_dict_round_trip():
    weights, X, Y = mlp_problem(np.float64)

    def run(resume):
        model = mlp(ember, weights)
        opt = optim.LBFGS(model.parameters(), history_size=5, max_iter=5)

        def closure():
            opt.zero_grad()
            loss = ember.nn.functional.mse_loss(model(ember.tensor(X)), ember.tensor(Y))
            loss.backward()
            return loss

        for i in range(4):
            if resume and i == 2:
                saved = copy.deepcopy(opt.state_dict())
                opt = optim.LBFGS(model.parameters(), history_size=5, max_iter=5)
                opt.load_state_dict(saved)
            opt.step(closure)
        return [p.detach().numpy().copy() for p in model.parameters()]

    for a, b in zip(run(False), run(True)):
        np.testing.assert_array_equal(a, b)


def test_lbfgs_errors():
    p = ember.randn(3, requires_grad=True)
    with pytest.raises(ValueError, match="LBFGS doesn't support per-parameter options"):
        optim.LBFGS([{"params": [p]}, {"params": [ember.randn(2, requires_grad=True)]}])
    opt = optim.LBFGS([p], line_search_fn="backtracking")

    def closure():
        return (p * p).sum()

    with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
        opt.step(closure)
    assert opt.state[p] == {}  # raised before evaluating anything


# -- the Optimizer contract --------------------------------------------------------------------------------


def test_constructor_errors_match_torch():
    p = ember.randn(3, requires_grad=True)
    with pytest.raises(
        TypeError, match="should be an iterable of Tensors or dicts, but got torch.FloatTensor"
    ):
        optim.SGD(p, lr=0.1)
    with pytest.raises(TypeError, match="'int' object is not iterable"):
        optim.SGD(5, lr=0.1)
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        optim.SGD([p * 2], lr=0.1)
    with pytest.raises(TypeError, match="optimizer can only optimize Tensors, but one of the params is int"):
        optim.SGD([p, 3], lr=0.1)
    with pytest.raises(TypeError, match="ordered collections"):
        optim.SGD([{"params": {p}}], lr=0.1)
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter group"):
        optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1)
    with pytest.warns(UserWarning, match="duplicate parameters"):
        optim.SGD([p, p], lr=0.1)
    for cls in (
        optim.SGD,
        optim.Adam,
        optim.AdamW,
        optim.RMSprop,
        optim.Adagrad,
        optim.Adadelta,
        optim.Adamax,
    ):
        with pytest.raises(ValueError, match=r"Invalid learning rate: -0.5"):
            cls([p], lr=-0.5)
    for cls in (optim.NAdam, optim.RAdam, optim.LBFGS):
        with pytest.raises(ValueError, match=r"Invalid learning rate: -1"):
            cls([p], lr=-1)
    with pytest.raises(ValueError, match="Tensor lr must be 1-element"):
        optim.Adam([p], lr=ember.tensor([0.1, 0.2]))
    with pytest.raises(ValueError, match="Invalid beta parameter at index 1: 1.0"):
        optim.Adam([p], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="Nesterov momentum requires a momentum and zero dampening"):
        optim.SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="Invalid momentum value: -0.1"):
        optim.SGD([p], lr=0.1, momentum=-0.1)
    with pytest.raises(ValueError, match="Invalid rho value: 1.5"):
        optim.Adadelta([p], rho=1.5)
    with pytest.raises(ValueError, match="didn't specify a value of required optimization parameter lr"):
        optim.Optimizer([p], {"lr": optim.optimizer.required})


def test_failed_step_leaves_parameters_unchanged():
    a, b = ember.ones(3, requires_grad=True), ember.ones(3, requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1, momentum=0.9)
    a.grad, b.grad = ember.ones(3), ember.ones(3)
    opt.param_groups[1]["lr"] = None
    with pytest.raises(TypeError):
        opt.step()
    assert a.tolist() == [1.0, 1.0, 1.0] and a._version == 0

    # a state of the wrong shape (a state_dict from another model) is caught before any update
    opt = optim.Adam([a, b])
    a.grad = b.grad = None
    opt.step()  # no grads: nothing to do
    a.grad, b.grad = ember.ones(3), ember.ones(3)
    opt.state[b].update(step=ember.tensor(1.0), exp_avg=ember.zeros(4), exp_avg_sq=ember.zeros(4))
    with pytest.raises(RuntimeError, match="has shape \\[4\\] but its parameter has shape \\[3\\]"):
        opt.step()
    assert a.tolist() == [1.0, 1.0, 1.0] and len(opt.state[a]) == 3 and opt.state[a]["step"].item() == 0


def test_step_bumps_each_version_once_and_skips_params_without_grad():
    a, b = ember.randn(3, requires_grad=True), ember.randn(3, requires_grad=True)
    before = b.tolist()
    opt = optim.Adam([a, b])
    a.grad = ember.ones(3)
    v = a._version
    opt.step()
    assert a._version == v + 1 and b.tolist() == before and b not in opt.state


def test_plain_sgd_keeps_no_state():
    p = ember.randn(3, requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    p.grad = ember.ones(3)
    opt.step()
    assert opt.state_dict()["state"] == {}


def test_closure_runs_with_grad_enabled_and_returns_loss():
    p = ember.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    seen = []

    def closure():
        seen.append(ember.is_grad_enabled())
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    with ember.no_grad():
        loss = opt.step(closure)
    assert seen == [True] and loss.item() == 5.0
    assert p.tolist() == pytest.approx([0.8, 1.6])


def test_zero_grad():
    p = ember.randn(3, requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    p.grad = ember.ones(3)
    opt.zero_grad(set_to_none=False)
    assert p.grad is not None and p.grad.tolist() == [0.0, 0.0, 0.0]
    opt.zero_grad()
    assert p.grad is None


def test_add_param_group_and_defaults():
    a, b = ember.randn(2, requires_grad=True), ember.randn(3, requires_grad=True)
    ta, tb = torch.randn(2, requires_grad=True), torch.randn(3, requires_grad=True)
    opts = [optim.SGD([a], lr=0.1, momentum=0.5), torch.optim.SGD([ta], lr=0.1, momentum=0.5)]
    opts[0].add_param_group({"params": b, "lr": 0.01})
    opts[1].add_param_group({"params": tb, "lr": 0.01})
    assert opts[0].state_dict()["param_groups"] == opts[1].state_dict()["param_groups"]
    assert repr(opts[0]) == repr(opts[1])


def test_named_parameters():
    model = ember.nn.Linear(2, 2)
    opt = optim.Adam(model.named_parameters())
    assert opt.param_groups[0]["param_names"] == ["weight", "bias"]
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["weight", "bias"]


def test_step_hooks():
    p = ember.randn(2, requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    calls = []
    h1 = opt.register_step_pre_hook(lambda o, args, kwargs: calls.append(("pre", o is opt, args[0] is opt)))
    h2 = opt.register_step_post_hook(lambda o, args, kwargs: calls.append("post"))
    h3 = optim.optimizer.register_optimizer_step_pre_hook(lambda o, a, k: calls.append("global"))
    opt.step()
    assert calls == ["global", ("pre", True, True), "post"]
    for h in (h1, h2, h3):
        h.remove()
    opt.step()
    assert len(calls) == 3


def test_state_dict_hooks():
    p = ember.randn(2, requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    opt.register_state_dict_post_hook(lambda o, sd: {**sd, "extra": 1})
    assert opt.state_dict()["extra"] == 1
    seen = []
    opt.register_load_state_dict_pre_hook(lambda o, sd: seen.append("pre"))
    opt.register_load_state_dict_post_hook(lambda o: seen.append("post"))
    opt.load_state_dict(opt.state_dict())
    assert seen == ["pre", "post"]


def test_load_state_dict_errors():
    a, b = ember.randn(2, requires_grad=True), ember.randn(2, requires_grad=True)
    sd = optim.SGD([a, b], lr=0.1).state_dict()
    with pytest.raises(ValueError, match="different number of parameter groups"):
        optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
        optim.SGD([a], lr=0.1).load_state_dict(sd)


def test_tensor_lr_and_deepcopy():
    p = ember.ones(2, requires_grad=True)
    opt = optim.SGD([p], lr=ember.tensor(0.5))
    p.grad = ember.ones(2)
    opt.step()
    assert p.tolist() == [0.5, 0.5]
    clone = copy.deepcopy(opt)
    assert clone.param_groups[0]["lr"].item() == 0.5 and clone.param_groups[0]["params"][0] is not p


@pytest.mark.parametrize("n", [4, 40000])  # both sides of EXACT_FMA_MAX_NUMEL
@pytest.mark.parametrize("dtype", [ember.float32, ember.float64])
def test_step_keeps_dtype_and_leaves_grad_alone(dtype, n):
    p = ember.randn(n, dtype=dtype, requires_grad=True)
    for name, kw in CONFIGS:
        opt = getattr(optim, name)([p], **kw)
        p.grad = ember.randn(n, dtype=dtype)
        grad = p.grad.numpy().copy()
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            opt.step()
        np.testing.assert_array_equal(p.grad.numpy(), grad)
        assert p._data.dtype == dtype.np
        assert all(
            v._data.dtype == dtype.np for k, v in opt.state[p].items() if k not in ("step", "mu_product")
        )


@pytest.mark.parametrize(("name", "kw"), CONFIGS[::2], ids=IDS[::2])
def test_zero_dim_parameters(name, kw, torch_sqrt):
    # NumPy returns scalars, not arrays, from 0-d operations: the kernels must still update in place
    results = []
    for lib in (torch, ember):
        p = lib.tensor(1.5, requires_grad=True)
        opt = getattr(lib.optim, name)([p], **kw)
        for i in range(10):
            p.grad = lib.tensor(0.3 - 0.05 * i)
            opt.step()
        results.append((p.detach().numpy().copy(), [tuple(v.shape) for v in opt.state[p].values()]))
    assert results[1][0] == results[0][0]
    assert results[1][1] == results[0][1]


def test_lbfgs_zero_dim_parameter():
    p = ember.tensor(2.0, requires_grad=True)
    opt = optim.LBFGS([p])

    def closure():
        opt.zero_grad()
        loss = (p - 1) ** 2
        loss.backward()
        return loss

    opt.step(closure)
    assert p.item() == pytest.approx(1.0)


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_lbfgs_loads_torch_state_dict(line_search_fn):
    weights, X, Y = mlp_problem(np.float64)
    tmodel, emodel = mlp(torch, weights), mlp(ember, weights)
    kw = {"history_size": 4, "max_iter": 6, "line_search_fn": line_search_fn}
    topt = torch.optim.LBFGS(tmodel.parameters(), **kw)

    def closure_for(lib, model, opt):
        def closure():
            opt.zero_grad()
            loss = lib.nn.functional.mse_loss(model(lib.tensor(X)), lib.tensor(Y))
            loss.backward()
            return loss

        return closure

    for _ in range(2):
        topt.step(closure_for(torch, tmodel, topt))
    with ember.no_grad():
        for t, e in zip(tmodel.parameters(), emodel.parameters()):
            e.copy_(ember.tensor(t.detach().numpy().copy()))
    eopt = optim.LBFGS(emodel.parameters(), **kw)
    eopt.load_state_dict(to_ember(topt.state_dict()))
    for _ in range(2):
        topt.step(closure_for(torch, tmodel, topt))
        eopt.step(closure_for(ember, emodel, eopt))
    for t, e in zip(tmodel.parameters(), emodel.parameters()):
        np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=1e-8, atol=1e-10)
    estate, tstate = eopt.state_dict()["state"][0], topt.state_dict()["state"][0]
    assert list(estate) == list(tstate)
    assert (estate["func_evals"], estate["n_iter"]) == (tstate["func_evals"], tstate["n_iter"])
