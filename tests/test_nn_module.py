"""nn.Module, Parameter and the containers against torch: registration, traversal, state_dict, hooks, repr."""

from __future__ import annotations

import copy
import pickle
import warnings
from collections import OrderedDict

import numpy as np
import pytest

import ember
from ember import nn

torch = pytest.importorskip("torch")


# -- models written once against either library ---------------------------------------------------
def seq_model(T):
    return T.nn.Sequential(T.nn.Linear(3, 4), T.nn.ReLU(), T.nn.Linear(4, 1), T.nn.Flatten(0, 1))


def custom_model(T):
    class Net(T.nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = T.nn.Embedding(10, 4, padding_idx=0)
            self.layers = T.nn.ModuleList(
                [T.nn.Linear(4, 4) for _ in range(3)] + [T.nn.Linear(4, 2, bias=False)]
            )
            self.heads = T.nn.ModuleDict({"cls": T.nn.Linear(2, 3), "act": T.nn.GELU(approximate="tanh")})
            self.scales = T.nn.ParameterList([T.nn.Parameter(T.ones(2)), T.nn.Parameter(T.zeros(2, 3))])
            self.extra = T.nn.ParameterDict({"b": T.nn.Parameter(T.zeros(1)), "a": T.nn.Parameter(T.ones(1))})
            self.bn = T.nn.BatchNorm1d(4, momentum=None)
            self.norm = T.nn.LayerNorm(2, eps=1e-6)
            self.drop = T.nn.Dropout(0.1)
            self.register_buffer("step", T.tensor(0))
            self.register_buffer("cache", T.zeros(2), persistent=False)

        def forward(self, idx):
            h = self.bn(self.embed(idx).mean(1))
            for layer in self.layers:
                h = layer(self.drop(h))
            return self.heads["cls"](self.heads["act"](self.norm(h * self.scales[0])))

    return Net()


def misc_model(T):
    return T.nn.Sequential(
        OrderedDict(
            [
                ("conv_like", T.nn.Bilinear(2, 3, 4)),
                (
                    "acts",
                    T.nn.Sequential(
                        T.nn.LeakyReLU(0.2, inplace=True), T.nn.ELU(alpha=0.5), T.nn.Hardtanh(-2, 2)
                    ),
                ),
                ("softmax", T.nn.Softmax(dim=1)),
                ("gn", T.nn.GroupNorm(2, 4)),
                ("rms", T.nn.RMSNorm([4])),
                ("unflat", T.nn.Unflatten(1, (2, 2))),
                ("bag", T.nn.EmbeddingBag(5, 3, mode="sum")),
                ("id", T.nn.Identity()),
                ("loss", T.nn.CrossEntropyLoss(label_smoothing=0.1)),
                ("prelu", T.nn.PReLU(4)),
                ("bn_no_stats", T.nn.BatchNorm1d(3, affine=False, track_running_stats=False)),
                ("thr", T.nn.Threshold(0.1, 20)),
                ("sp", T.nn.Softplus(beta=2)),
                ("adrop", T.nn.AlphaDropout(0.2)),
                ("relu6", T.nn.ReLU6(inplace=True)),
                ("silu", T.nn.SiLU()),
                ("mse", T.nn.MSELoss(reduction="sum")),
            ]
        )
    )


MODELS = [seq_model, custom_model, misc_model]


def ember_copy_of(tmodel, builder):
    """Build the ember model and load torch's state into it."""
    emodel = builder(ember)
    state = {k: ember.tensor(v.detach().numpy().copy()) for k, v in tmodel.state_dict().items()}
    emodel.load_state_dict(state)
    return emodel


@pytest.mark.parametrize("builder", MODELS)
def test_repr_and_keys_equal_torch(builder):
    t, e = builder(torch), builder(ember)
    assert repr(e) == repr(t)
    assert str(e) == str(t)
    assert list(e.state_dict()) == list(t.state_dict())
    assert [n for n, _ in e.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert [n for n, _ in e.named_buffers()] == [n for n, _ in t.named_buffers()]
    assert [n for n, _ in e.named_modules()] == [n for n, _ in t.named_modules()]
    assert [n for n, _ in e.named_children()] == [n for n, _ in t.named_children()]
    for (_, ep), (_, tp) in zip(e.named_parameters(), t.named_parameters(), strict=True):
        assert tuple(ep.shape) == tuple(tp.shape) and ep.requires_grad == tp.requires_grad


def test_custom_model_forward_and_grads_match_torch():
    torch.manual_seed(0)
    t = custom_model(torch).double()
    e = ember_copy_of(t, custom_model).double()
    idx = np.array([[1, 2, 0], [3, 3, 9], [4, 0, 0]])
    torch.manual_seed(1)  # the dropout masks come from the same generator stream
    tout = t(torch.tensor(idx))
    ember.manual_seed(1)
    eout = e(ember.tensor(idx))
    np.testing.assert_allclose(eout.detach().numpy(), tout.detach().numpy(), rtol=1e-10)
    tout.pow(2).sum().backward()
    eout.pow(2).sum().backward()
    for (name, ep), (_, tp) in zip(e.named_parameters(), t.named_parameters(), strict=True):
        if tp.grad is None:
            assert ep.grad is None, name
            continue
        np.testing.assert_allclose(ep.grad.numpy(), tp.grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=name)
    for (name, eb), (_, tb) in zip(e.named_buffers(), t.named_buffers(), strict=True):
        np.testing.assert_allclose(eb.numpy(), tb.numpy(), rtol=1e-10, err_msg=name)


def test_parameter_repr_and_identity():
    p = nn.Parameter(ember.tensor([1.0, 2.0]))
    tp = torch.nn.Parameter(torch.tensor([1.0, 2.0]))
    assert repr(p) == repr(tp)
    assert repr(nn.Parameter(ember.tensor([1.0]), requires_grad=False)) == repr(
        torch.nn.Parameter(torch.tensor([1.0]), requires_grad=False)
    )
    assert repr(nn.Parameter(ember.zeros(2, dtype=ember.float64))) == repr(
        torch.nn.Parameter(torch.zeros(2).double())
    )
    assert isinstance(p, ember.Tensor) and p.is_leaf and p.requires_grad
    assert type(p * 2) is ember.Tensor and type(p.detach()) is ember.Tensor
    assert repr(nn.Parameter()) == repr(torch.nn.Parameter())


def test_parameter_shares_storage_and_survives_copy_and_pickle():
    data = ember.zeros(3)
    p = nn.Parameter(data)
    data[0] = 5.0
    assert p[0].item() == 5.0
    q = copy.deepcopy(p)
    assert type(q) is nn.Parameter and q.requires_grad and q.tolist() == [5.0, 0.0, 0.0]
    r = pickle.loads(pickle.dumps(p))
    assert type(r) is nn.Parameter and r.tolist() == [5.0, 0.0, 0.0]


def test_seeded_linear_init_is_bit_exact():
    for shape in [(3, 1), (1000, 100), (7, 5)]:
        for seed in (0, 1234):
            torch.manual_seed(seed)
            t = torch.nn.Linear(*shape)
            ember.manual_seed(seed)
            e = nn.Linear(*shape)
            np.testing.assert_array_equal(e.weight.detach().numpy(), t.weight.detach().numpy())
            np.testing.assert_array_equal(e.bias.detach().numpy(), t.bias.detach().numpy())
    torch.manual_seed(1)
    t = seq_model(torch)
    ember.manual_seed(1)
    e = seq_model(ember)
    for ev, tv in zip(e.state_dict().values(), t.state_dict().values(), strict=True):
        np.testing.assert_array_equal(ev.numpy(), tv.numpy())


def test_seeded_layers_match_torch_init():
    builders = [
        lambda T: T.nn.Bilinear(3, 4, 2),
        lambda T: T.nn.Embedding(20, 5, padding_idx=3),
        lambda T: T.nn.EmbeddingBag(8, 3),
        lambda T: T.nn.PReLU(3, init=0.1),
    ]
    for b in builders:
        torch.manual_seed(7)
        t = b(torch)
        ember.manual_seed(7)
        e = b(ember)
        for ev, tv in zip(e.state_dict().values(), t.state_dict().values(), strict=True):
            np.testing.assert_array_equal(ev.numpy(), tv.numpy())


def test_linear_grad_fn_names():
    lin = nn.Linear(3, 2)
    assert lin(ember.randn(4, 3)).grad_fn.name() == "AddmmBackward0"
    assert lin(ember.randn(5, 4, 3)).grad_fn.name() == "ViewBackward0"
    assert (
        nn.MSELoss()(ember.randn(3, requires_grad=True), ember.randn(3)).grad_fn.name() == "MseLossBackward0"
    )


def test_registration_order_and_reassignment():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.b = nn.Parameter(ember.zeros(1))
            self.a = nn.Linear(1, 1)
            self.register_buffer("z", ember.ones(1))
            self.c = nn.Parameter(ember.zeros(2))

    m = M()
    assert list(m.state_dict()) == ["b", "c", "z", "a.weight", "a.bias"]
    m.b = None  # a registered parameter may become None, and stays registered
    assert "b" in m._parameters and m.b is None
    with pytest.raises(
        TypeError,
        match=r"cannot assign 'torch.FloatTensor' as parameter 'c' \(torch.nn.Parameter or None expected\)",
    ):
        m.c = ember.zeros(2)
    with pytest.raises(TypeError, match="cannot assign 'int' as child module 'a'"):
        m.a = 3
    m.z = ember.zeros(3)  # a registered buffer accepts a new tensor
    assert m.z.shape == (3,) and "z" in m._buffers
    m.a = nn.Parameter(ember.zeros(1))  # a Parameter replaces the module under the same name
    assert "a" not in m._modules and "a" in m._parameters
    del m.a
    assert "a" not in m._parameters
    with pytest.raises(AttributeError, match="'M' object has no attribute 'a'"):
        _ = m.a


def test_getattr_error_message_matches_torch():
    for T in (torch, ember):
        with pytest.raises(AttributeError) as exc:
            _ = T.nn.Linear(2, 2).foo
        assert str(exc.value) == "'Linear' object has no attribute 'foo'"


def test_dir_lists_members():
    m = seq_model(ember)
    d = dir(m)
    assert "forward" in d and "training" in d and "0" not in d
    lin = nn.Linear(2, 2)
    assert {"weight", "bias", "in_features"} <= set(dir(lin))
    assert dir(lin) == sorted(dir(lin))


REGISTER_ERRORS = [
    lambda T, m: m.register_buffer("a.b", T.zeros(1)),
    lambda T, m: m.register_buffer("", T.zeros(1)),
    lambda T, m: m.register_buffer("weight", T.zeros(1)),
    lambda T, m: m.register_buffer("x", 3),
    lambda T, m: m.register_buffer(1, T.zeros(1)),
    lambda T, m: m.register_parameter("x", T.zeros(1)),
    lambda T, m: m.register_parameter("a.b", None),
    lambda T, m: m.register_parameter("x", T.nn.Parameter(T.zeros(1)) * 2),
    lambda T, m: m.add_module("x", 3),
    lambda T, m: m.add_module("a.b", T.nn.ReLU()),
    lambda T, m: m.add_module("weight", T.nn.ReLU()),
    lambda T, m: m.get_submodule("nope"),
    lambda T, m: m.get_parameter("nope"),
    lambda T, m: m.get_parameter("in_features"),
    lambda T, m: m.get_buffer("weight"),
    lambda T, m: m.train("yes"),
    lambda T, m: m.to(T.int64),
    lambda T, m: T.nn.Module(3),
    lambda T, m: T.nn.Module(x=3),
    lambda T, m: T.nn.Module()(T.zeros(1)),
]


@pytest.mark.parametrize("k", range(len(REGISTER_ERRORS)))
def test_registration_errors_match_torch(k):
    fn = REGISTER_ERRORS[k]
    with pytest.raises(Exception) as te:
        fn(torch, torch.nn.Linear(2, 2))
    with pytest.raises(type(te.value)) as ee:
        fn(ember, nn.Linear(2, 2))
    assert str(ee.value) == str(te.value)


def test_get_submodule_and_parameter():
    m = custom_model(ember)
    assert m.get_submodule("layers.2") is m.layers[2]
    assert m.get_parameter("heads.cls.bias") is m.heads["cls"].bias
    assert m.get_buffer("bn.running_mean") is m.bn.running_mean
    m.set_submodule("heads.act", nn.ReLU())
    assert isinstance(m.heads["act"], nn.ReLU)


def test_named_parameters_shared_and_prefix():
    shared = nn.Linear(2, 2)
    m = nn.Sequential(shared, nn.ReLU(), shared)
    t_shared = torch.nn.Linear(2, 2)
    t = torch.nn.Sequential(t_shared, torch.nn.ReLU(), t_shared)
    for kw in ({}, {"remove_duplicate": False}, {"prefix": "model"}):
        assert [n for n, _ in m.named_parameters(**kw)] == [n for n, _ in t.named_parameters(**kw)]
        assert [n for n, _ in m.named_modules(**kw)] == [n for n, _ in t.named_modules(**kw)]
    assert len(list(m.parameters())) == 2
    assert list(m.state_dict()) == list(t.state_dict())
    assert [n for n, _ in m.named_parameters(recurse=False)] == []


def test_train_eval_zero_grad_requires_grad():
    m = custom_model(ember)
    assert m.training and m.drop.training
    assert m.eval() is m and not m.drop.training and not m.layers[0].training
    m.train()
    assert m.bn.training
    m.layers[0].weight.grad = ember.ones(4, 4)
    m.zero_grad(set_to_none=False)
    assert m.layers[0].weight.grad.tolist() == [[0.0] * 4] * 4
    m.zero_grad()
    assert m.layers[0].weight.grad is None
    m.requires_grad_(False)
    assert not any(p.requires_grad for p in m.parameters())


def test_to_double_float_half_keep_parameter_identity():
    m = custom_model(ember)
    w = m.layers[0].weight
    w.grad = ember.ones(4, 4)
    m.double()
    assert m.layers[0].weight is w and w.dtype is ember.float64 and w.grad.dtype is ember.float64
    assert m.step.dtype is ember.int64 and m.bn.running_mean.dtype is ember.float64
    m.to(ember.float32)
    assert w.dtype is ember.float32
    m.half()
    assert w.dtype is ember.float16
    m.float().to("cpu").cpu()
    assert w.dtype is ember.float32 and str(w.device) == "cpu"
    m.to(ember.zeros(1, dtype=ember.float64))
    assert w.dtype is ember.float64
    m.type(ember.float32)
    assert w.dtype is ember.float32 and m.step.dtype is ember.float32


def test_apply_children_first():
    seen = []
    seq_model(ember).apply(lambda mod: seen.append(type(mod).__name__))
    assert seen == ["Linear", "ReLU", "Linear", "Flatten", "Sequential"]


# -- state_dict --------------------------------------------------------------------------------------
def test_state_dict_shares_storage_and_detaches():
    m = nn.Linear(2, 2)
    sd = m.state_dict()
    assert not sd["weight"].requires_grad and type(sd["weight"]) is ember.Tensor
    sd["weight"][0, 0] = 42.0
    assert m.weight[0, 0].item() == 42.0
    kv = m.state_dict(keep_vars=True)
    assert kv["weight"] is m.weight
    assert m.state_dict()._metadata[""] == {"version": 1}
    assert nn.BatchNorm1d(2).state_dict()._metadata[""] == {"version": 2}


def test_load_state_dict_roundtrip_and_result():
    a, b = custom_model(ember), custom_model(ember)
    res = b.load_state_dict(a.state_dict())
    assert repr(res) == "<All keys matched successfully>"
    assert res.missing_keys == [] and res.unexpected_keys == []
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        assert ka == kb and np.array_equal(va.numpy(), vb.numpy())


def _load_errors(T, mutate, strict=True):
    torch.manual_seed(0)
    m = seq_model(T)
    sd = OrderedDict((k, v.clone()) for k, v in m.state_dict().items())
    mutate(T, sd)
    try:
        return repr(m.load_state_dict(sd, strict=strict))
    except Exception as e:
        return f"{type(e).__name__}: {e}"


MUTATIONS = [
    lambda T, sd: sd.pop("2.bias"),
    lambda T, sd: sd.__setitem__("3.foo", T.zeros(1)),
    lambda T, sd: (
        sd.pop("0.weight"),
        sd.__setitem__("extra", T.zeros(1)),
        sd.__setitem__("1.x.y", T.zeros(1)),
    ),
    lambda T, sd: sd.__setitem__("0.weight", T.zeros(3, 3)),
    lambda T, sd: (sd.__setitem__("0.bias", T.zeros(5)), sd.pop("2.weight")),
    lambda T, sd: sd.__setitem__("0.bias", [1, 2, 3, 4]),
]


@pytest.mark.parametrize("strict", [True, False])
@pytest.mark.parametrize("k", range(len(MUTATIONS)))
def test_load_state_dict_errors_match_torch(k, strict):
    assert _load_errors(ember, MUTATIONS[k], strict) == _load_errors(torch, MUTATIONS[k], strict)


def test_load_state_dict_assign_and_type_error():
    m = nn.Linear(2, 1)
    new_w = ember.ones(1, 2)
    m.load_state_dict({"weight": new_w, "bias": ember.zeros(1)}, assign=True)
    assert isinstance(m.weight, nn.Parameter) and m.weight.requires_grad and m.weight.tolist() == [[1.0, 1.0]]
    with pytest.raises(TypeError, match="Expected state_dict to be dict-like, got <class 'list'>."):
        m.load_state_dict([1])


def test_batchnorm_buffers_and_running_stats_match_torch():
    for momentum in (0.1, None):
        t = torch.nn.BatchNorm1d(3, momentum=momentum).double()
        e = nn.BatchNorm1d(3, momentum=momentum).double()
        rng = np.random.default_rng(0)
        for _ in range(3):
            x = rng.standard_normal((5, 3, 2)) * 3 + 1
            np.testing.assert_allclose(
                e(ember.tensor(x)).detach().numpy(), t(torch.tensor(x)).detach().numpy(), rtol=1e-10
            )
        for (k, ev), (_, tv) in zip(e.state_dict().items(), t.state_dict().items(), strict=True):
            np.testing.assert_allclose(ev.numpy(), tv.numpy(), rtol=1e-12, err_msg=k)
        e.eval()
        t.eval()
        x = rng.standard_normal((4, 3))
        np.testing.assert_allclose(
            e(ember.tensor(x)).detach().numpy(), t(torch.tensor(x)).detach().numpy(), rtol=1e-10
        )
    assert list(nn.BatchNorm2d(2).state_dict()) == list(torch.nn.BatchNorm2d(2).state_dict())
    with pytest.raises(ValueError, match=r"expected 4D input \(got 2D input\)"):
        nn.BatchNorm2d(2)(ember.zeros(3, 2))


# -- containers ----------------------------------------------------------------------------------
def test_sequential_indexing_and_editing():
    layers = [nn.Linear(1, 1), nn.ReLU(), nn.Tanh(), nn.Sigmoid()]
    s = nn.Sequential(*layers)
    assert len(s) == 4 and s[0] is layers[0] and s[-1] is layers[3]
    assert list(s) == layers
    sub = s[1:3]
    assert isinstance(sub, nn.Sequential) and list(sub._modules) == ["1", "2"]
    with pytest.raises(IndexError, match="index 4 is out of range"):
        _ = s[4]
    del s[1]
    assert list(s._modules) == ["0", "1", "2"] and s[1] is layers[2]
    s.append(nn.ReLU()).insert(0, nn.Identity()).extend([nn.ELU()])
    assert [type(m).__name__ for m in s] == ["Identity", "Linear", "Tanh", "Sigmoid", "ReLU", "ELU"]
    s[0] = nn.GELU()
    assert isinstance(s[0], nn.GELU)
    assert isinstance(s.pop(0), nn.GELU) and len(s) == 5
    named = nn.Sequential(OrderedDict([("first", nn.ReLU()), ("second", nn.Tanh())]))
    assert list(named._modules) == ["first", "second"] and isinstance(named.second, nn.Tanh)
    assert len(s + named) == 7
    assert len(nn.Sequential(nn.ReLU()) * 3) == 3


def test_modulelist_and_moduledict():
    ml = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    tl = torch.nn.ModuleList([torch.nn.Linear(2, 2) for _ in range(3)])
    assert repr(ml) == repr(tl)
    ml.append(nn.ReLU())
    ml.insert(1, nn.Tanh())
    ml.extend([nn.ELU()])
    assert [type(m).__name__ for m in ml] == ["Linear", "Tanh", "Linear", "Linear", "ReLU", "ELU"]
    del ml[0]
    assert list(ml._modules) == [str(i) for i in range(5)]
    assert isinstance(ml[1:3], nn.ModuleList) and len(ml[1:3]) == 2
    assert repr(nn.ModuleList()) == repr(torch.nn.ModuleList()) == "ModuleList()"
    md = nn.ModuleDict({"b": nn.ReLU(), "a": nn.Tanh()})
    assert list(md.keys()) == ["b", "a"] and "a" in md and len(md) == 2
    md.update([("c", nn.ELU())])
    assert isinstance(md.pop("b"), nn.ReLU) and list(md) == ["a", "c"]
    with pytest.raises(TypeError):
        ml.extend(3)


def test_parameterlist_and_parameterdict():
    pl = nn.ParameterList([ember.zeros(2), nn.Parameter(ember.ones(3, dtype=ember.float64))])
    tpl = torch.nn.ParameterList([torch.zeros(2), torch.nn.Parameter(torch.ones(3, dtype=torch.float64))])
    assert repr(pl) == repr(tpl)
    assert all(isinstance(p, nn.Parameter) for p in pl) and len(pl) == 2
    assert list(pl.state_dict()) == ["0", "1"]
    with pytest.raises(RuntimeError, match="ParameterList should not be called."):
        pl()
    pd = nn.ParameterDict({"w": ember.zeros(2, 2), "a": nn.Parameter(ember.ones(1))})
    tpd = torch.nn.ParameterDict({"w": torch.zeros(2, 2), "a": torch.nn.Parameter(torch.ones(1))})
    assert repr(pd) == repr(tpd) and list(pd) == list(tpd)
    assert isinstance(pd["w"], nn.Parameter)
    assert pd.get("missing", 5) == 5
    k, v = pd.popitem()
    assert k == list(tpd)[-1] and len(pd) == 1


# -- hooks ---------------------------------------------------------------------------------------
def test_forward_pre_hooks_and_hooks():
    lin = nn.Linear(2, 2)
    calls = []
    h1 = lin.register_forward_pre_hook(lambda m, args: (args[0] * 0,))
    h2 = lin.register_forward_hook(lambda m, args, out: calls.append(("post", args[0].tolist())) or out + 1)
    h3 = lin.register_forward_pre_hook(lambda m, args: calls.append("first"), prepend=True)
    out = lin(ember.ones(1, 2))
    assert calls == ["first", ("post", [[0.0, 0.0]])]
    np.testing.assert_allclose(out.detach().numpy(), lin.bias.detach().numpy()[None] + 1, rtol=1e-6)
    for h in (h1, h2, h3):
        h.remove()
    assert not lin._forward_pre_hooks and not lin._forward_hooks
    np.testing.assert_allclose(lin(ember.zeros(1, 2)).detach().numpy(), lin.bias.detach().numpy()[None])


def test_hooks_with_kwargs_and_always_call():
    class M(nn.Module):
        def forward(self, x, scale=1.0):
            if scale < 0:
                raise ValueError("negative")
            return x * scale

    m = M()
    m.register_forward_pre_hook(
        lambda mod, args, kwargs: (args, {"scale": kwargs.get("scale", 1.0) * 2}), with_kwargs=True
    )
    seen = []
    m.register_forward_hook(lambda mod, args, kwargs, out: seen.append(kwargs["scale"]), with_kwargs=True)
    assert m(ember.ones(1), scale=3.0).item() == 6.0 and seen == [6.0]
    always = []
    m.register_forward_hook(lambda mod, args, out: always.append(out), always_call=True)
    with pytest.raises(ValueError, match="negative"):
        m(ember.ones(1), scale=-1.0)
    assert always == [None]
    with m.register_forward_pre_hook(lambda mod, args: None):
        assert len(m._forward_pre_hooks) == 2
    assert len(m._forward_pre_hooks) == 1


def test_global_forward_hook():
    seen = []
    h = nn.modules.module.register_module_forward_hook(lambda m, a, o: seen.append(type(m).__name__))
    try:
        seq_model(ember)(ember.ones(2, 3))
    finally:
        h.remove()
    assert seen == ["Linear", "ReLU", "Linear", "Flatten", "Sequential"]


def _backward_hook_trace(T):
    torch.manual_seed(0)
    lin = torch.nn.Linear(3, 2)
    m = T.nn.Sequential(T.nn.Linear(3, 2), T.nn.Tanh())
    m[0].load_state_dict({k: T.tensor(v.detach().numpy()) for k, v in lin.state_dict().items()})
    trace = []

    def fmt(gs):
        return [None if g is None else np.round(g.detach().numpy(), 5).tolist() for g in gs]

    m[0].register_full_backward_pre_hook(lambda mod, go: trace.append(("pre", fmt(go))))
    m[0].register_full_backward_hook(lambda mod, gi, go: trace.append(("full", fmt(gi), fmt(go))))
    m[1].register_full_backward_hook(lambda mod, gi, go: (gi[0] * 2,))
    x = T.tensor([[1.0, -2.0, 0.5]], requires_grad=True)
    m(x).sum().backward()
    trace.append(("x", fmt([x.grad])))
    y = T.tensor([[1.0, -2.0, 0.5]])  # no input grad: the hook sees grad_input = (None,)
    m(y).sum().backward()
    return trace


def test_full_backward_hooks_match_torch():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert _backward_hook_trace(ember) == _backward_hook_trace(torch)


def test_state_dict_hooks():
    m = nn.Linear(2, 2)
    m.register_state_dict_pre_hook(lambda mod, prefix, keep_vars: None)
    m.register_state_dict_post_hook(lambda mod, sd, prefix, meta: [sd.pop("bias")] and None)
    assert list(m.state_dict()) == ["weight"]
    m.register_state_dict_post_hook(lambda mod, sd, prefix, meta: sd)
    with pytest.raises(RuntimeError, match="state_dict post-hook must return None"):
        m.state_dict()
    seen = []
    m.register_load_state_dict_post_hook(lambda mod, keys: seen.append(list(keys.missing_keys)))
    m.load_state_dict({"weight": ember.zeros(2, 2)}, strict=False)
    assert seen == [["bias"]]  # strict=False still reports the missing keys, as PyTorch does


def test_parameter_of_integers_needs_requires_grad_false():
    for T in (torch, ember):
        with pytest.raises(RuntimeError) as exc:
            T.nn.Parameter(T.tensor([1]))
        assert str(exc.value) == "Only Tensors of floating point and complex dtype can require gradients"
        assert not T.nn.Parameter(T.tensor([1]), requires_grad=False).requires_grad
