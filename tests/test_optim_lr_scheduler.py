"""Learning-rate schedulers against PyTorch: every step's lrs (and momenta), state_dicts, warnings."""

import copy
import math
import warnings

import pytest

import ember
import ember.optim as optim

torch = pytest.importorskip("torch")


def _lambda(epoch):
    return 0.95**epoch


def _mult(epoch):
    return 0.97 if epoch % 3 else 0.9


# (name, optimizer, optimizer kwargs, scheduler factory (lib, opt) -> scheduler)
SCHEDULERS = [
    ("LambdaLR", "SGD", {}, lambda L, o: L.LambdaLR(o, lr_lambda=_lambda)),
    ("LambdaLR-per-group", "SGD", {}, lambda L, o: L.LambdaLR(o, lr_lambda=[_lambda, lambda e: 1 / (e + 1)])),
    ("MultiplicativeLR", "SGD", {}, lambda L, o: L.MultiplicativeLR(o, lr_lambda=_mult)),
    ("StepLR", "SGD", {}, lambda L, o: L.StepLR(o, step_size=7, gamma=0.5)),
    ("MultiStepLR", "SGD", {}, lambda L, o: L.MultiStepLR(o, milestones=[5, 20, 20, 45], gamma=0.3)),
    ("ConstantLR", "SGD", {}, lambda L, o: L.ConstantLR(o, factor=0.25, total_iters=10)),
    ("LinearLR", "SGD", {}, lambda L, o: L.LinearLR(o, start_factor=0.1, end_factor=0.9, total_iters=30)),
    ("ExponentialLR", "SGD", {}, lambda L, o: L.ExponentialLR(o, gamma=0.93)),
    ("PolynomialLR", "SGD", {}, lambda L, o: L.PolynomialLR(o, total_iters=40, power=2.0)),
    ("CosineAnnealingLR", "SGD", {}, lambda L, o: L.CosineAnnealingLR(o, T_max=17, eta_min=0.001)),
    (
        "CosineAnnealingWarmRestarts",
        "SGD",
        {},
        lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=5, T_mult=2, eta_min=1e-3),
    ),
    (
        "CyclicLR",
        "SGD",
        {"momentum": 0.9},
        lambda L, o: L.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=7),
    ),
    (
        "CyclicLR-triangular2",
        "SGD",
        {"momentum": 0.9},
        lambda L, o: L.CyclicLR(
            o, base_lr=[0.01, 0.02], max_lr=0.1, step_size_up=5, step_size_down=9, mode="triangular2"
        ),
    ),
    (
        "CyclicLR-exp_range-adam",
        "Adam",
        {},
        lambda L, o: L.CyclicLR(o, base_lr=0.001, max_lr=0.01, step_size_up=6, mode="exp_range", gamma=0.98),
    ),
    ("OneCycleLR", "SGD", {"momentum": 0.9}, lambda L, o: L.OneCycleLR(o, max_lr=0.5, total_steps=100)),
    (
        "OneCycleLR-three-phase-linear-adam",
        "Adam",
        {},
        lambda L, o: L.OneCycleLR(
            o, max_lr=[0.01, 0.02], epochs=10, steps_per_epoch=10, anneal_strategy="linear", three_phase=True
        ),
    ),
    (
        "SequentialLR",
        "SGD",
        {},
        lambda L, o: L.SequentialLR(
            o,
            [L.LinearLR(o, start_factor=0.1, total_iters=10), L.CosineAnnealingLR(o, T_max=30)],
            milestones=[10],
        ),
    ),
    (
        "SequentialLR-three",
        "SGD",
        {},
        lambda L, o: L.SequentialLR(
            o,
            [L.ConstantLR(o, factor=0.5, total_iters=5), L.ExponentialLR(o, gamma=0.9), L.StepLR(o, 4)],
            milestones=[5, 25],
        ),
    ),
    (
        "ChainedScheduler",
        "SGD",
        {},
        lambda L, o: L.ChainedScheduler(
            [L.ConstantLR(o, factor=0.1, total_iters=5), L.ExponentialLR(o, gamma=0.95)]
        ),
    ),
]


def _groups(lib):
    return [
        {"params": [lib.zeros(2, requires_grad=True)]},
        {"params": [lib.zeros(3, requires_grad=True)], "lr": 0.05},
    ]


def _trace(lib, opt_name, opt_kw, make, steps=100):
    """The lrs (and momenta or betas) after construction and after each of ``steps`` epochs."""
    opt = getattr(lib.optim, opt_name)(_groups(lib), lr=0.1, **opt_kw)
    sched = make(lib.optim.lr_scheduler, opt)

    def snapshot():
        return (
            list(sched.get_last_lr()),
            [g["lr"] for g in opt.param_groups],
            [g.get("momentum", g.get("betas")) for g in opt.param_groups],
        )

    out = [snapshot()]
    for _ in range(steps):
        opt.step()
        sched.step()
        out.append(snapshot())
    return out, sched


def _assert_same(got, ref):
    assert len(got) == len(ref)
    for g, r in zip(got, ref):
        if isinstance(r, (list, tuple)):
            _assert_same(g, r)
        else:
            assert g == pytest.approx(r, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize(("name", "opt_name", "opt_kw", "make"), SCHEDULERS, ids=[s[0] for s in SCHEDULERS])
def test_scheduler_matches_torch(name, opt_name, opt_kw, make):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref, tsched = _trace(torch, opt_name, opt_kw, make)
        got, esched = _trace(ember, opt_name, opt_kw, make)
    _assert_same(got, ref)
    assert got == ref  # in fact the same floats, bit for bit
    assert sorted(esched.state_dict()) == sorted(tsched.state_dict())


@pytest.mark.parametrize(("name", "opt_name", "opt_kw", "make"), SCHEDULERS, ids=[s[0] for s in SCHEDULERS])
def test_scheduler_state_dict_round_trip(name, opt_name, opt_kw, make):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        full, _ = _trace(ember, opt_name, opt_kw, make, steps=60)
        opt = getattr(optim, opt_name)(_groups(ember), lr=0.1, **opt_kw)
        sched = make(optim.lr_scheduler, opt)
        for _ in range(30):
            opt.step()
            sched.step()
        saved_opt, saved_sched = copy.deepcopy(opt.state_dict()), copy.deepcopy(sched.state_dict())
        opt2 = getattr(optim, opt_name)(_groups(ember), lr=0.1, **opt_kw)
        sched2 = make(optim.lr_scheduler, opt2)
        sched2.load_state_dict(saved_sched)
        opt2.load_state_dict(saved_opt)
        for _ in range(30):
            opt2.step()
            sched2.step()
    assert sched2.get_last_lr() == full[-1][0]
    assert [g["lr"] for g in opt2.param_groups] == full[-1][1]


def test_load_torch_scheduler_state_dict():
    tp, ep = torch.zeros(2, requires_grad=True), ember.zeros(2, requires_grad=True)
    topt, eopt = torch.optim.SGD([tp], lr=0.1), optim.SGD([ep], lr=0.1)
    tsched = torch.optim.lr_scheduler.CosineAnnealingLR(topt, T_max=20)
    esched = optim.lr_scheduler.CosineAnnealingLR(eopt, T_max=20)
    for _ in range(7):
        topt.step()
        tsched.step()
    esched.load_state_dict(tsched.state_dict())
    eopt.param_groups[0]["lr"] = topt.param_groups[0]["lr"]
    for _ in range(30):
        topt.step()
        tsched.step()
        eopt.step()
        esched.step()
        assert esched.get_last_lr() == tsched.get_last_lr()


@pytest.mark.parametrize(
    ("mode", "threshold_mode", "kw"),
    [("min", "rel", {}), ("min", "abs", {"cooldown": 3, "min_lr": 0.002}), ("max", "rel", {"patience": 2})],
)
def test_reduce_lr_on_plateau(mode, threshold_mode, kw):
    metrics = [1 / (1 + i) if i < 15 else 0.06 + 0.001 * math.sin(i) for i in range(80)]
    if mode == "max":
        metrics = [-m for m in metrics]
    traces = []
    for lib in (torch, ember):
        opt = lib.optim.SGD(_groups(lib), lr=0.1)
        sched = lib.optim.lr_scheduler.ReduceLROnPlateau(
            opt, mode=mode, threshold_mode=threshold_mode, factor=0.5, **kw
        )
        trace = []
        for m in metrics:
            opt.step()
            sched.step(m)
            trace.append((sched.get_last_lr(), sched.num_bad_epochs, sched.cooldown_counter, sched.best))
        traces.append(trace)
    assert traces[1] == traces[0]


def test_closed_form_step_with_epoch():
    for make in (
        lambda L, o: L.StepLR(o, step_size=3, gamma=0.5),
        lambda L, o: L.CosineAnnealingLR(o, T_max=10),
        lambda L, o: L.MultiStepLR(o, milestones=[2, 5], gamma=0.1),
        lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=4, T_mult=2),
    ):
        lrs = []
        for lib in (torch, ember):
            opt = lib.optim.SGD([lib.zeros(1, requires_grad=True)], lr=0.1)
            sched = make(lib.optim.lr_scheduler, opt)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                trace = []
                for epoch in [1, 2, 5, 3.5, 8, 13, 20]:
                    opt.step()
                    sched.step(epoch)
                    trace.append(sched.get_last_lr())
            lrs.append(trace)
        assert lrs[1] == lrs[0]


def test_warns_when_scheduler_steps_first():
    p = ember.zeros(1, requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    sched = optim.lr_scheduler.StepLR(opt, step_size=1)
    with pytest.warns(
        UserWarning, match=r"Detected call of `lr_scheduler.step\(\)` before `optimizer.step\(\)`"
    ):
        sched.step()

    opt = optim.SGD([p], lr=0.1)
    sched = optim.lr_scheduler.StepLR(opt, step_size=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.step()
        sched.step()

    opt = optim.SGD([p], lr=0.1)
    sched = optim.lr_scheduler.StepLR(opt, step_size=1)
    opt.step = lambda closure=None: None
    with pytest.warns(UserWarning, match="has been overridden after learning rate scheduler initialization"):
        sched.step()


def test_get_lr_outside_step_warns():
    opt = optim.SGD([ember.zeros(1, requires_grad=True)], lr=0.1)
    sched = optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
    with pytest.warns(UserWarning, match="please use `get_last_lr\\(\\)`"):
        sched.get_lr()


def test_scheduler_errors():
    L = optim.lr_scheduler
    opt = optim.SGD([ember.zeros(1, requires_grad=True)], lr=0.1)
    with pytest.raises(TypeError, match="int is not an Optimizer"):
        L.StepLR(3, step_size=1)
    with pytest.raises(KeyError, match="param 'initial_lr' is not specified in param_groups\\[0\\]"):
        L.StepLR(opt, step_size=1, last_epoch=3)
    with pytest.raises(ValueError, match="Expected positive integer T_0, but got 0"):
        L.CosineAnnealingWarmRestarts(opt, T_0=0)
    with pytest.raises(ValueError, match="You must define either total_steps OR"):
        L.OneCycleLR(opt, max_lr=0.1)
    with pytest.raises(ValueError, match="Factor should be < 1.0."):
        L.ReduceLROnPlateau(opt, factor=2.0)
    with pytest.raises(ValueError, match="Expected 1 lr_lambdas, but got 2"):
        L.LambdaLR(opt, [_lambda, _lambda])
    with pytest.raises(ValueError, match="optimizer must support momentum or beta1"):
        L.CyclicLR(optim.Adagrad([ember.zeros(1, requires_grad=True)]), 0.01, 0.1)
    sched = L.OneCycleLR(opt, max_lr=0.1, total_steps=2)
    opt.step()
    sched.step()
    sched.step()
    with pytest.raises(ValueError, match="Tried to step 3 times. The specified number of total steps is 2"):
        sched.step()


def test_tensor_lr_is_updated_in_place():
    lr = ember.tensor(0.1)
    opt = optim.SGD([ember.zeros(1, requires_grad=True)], lr=lr)
    sched = optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
    opt.step()
    sched.step()
    assert opt.param_groups[0]["lr"] is lr and lr.item() == pytest.approx(0.05)
