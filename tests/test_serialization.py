"""ember.save / ember.load and ember.utils.safetensors, against torch and safetensors as oracles."""

from __future__ import annotations

import base64
import errno
import io
import json
import os
import pickle
import struct
import sys
import zipfile
import zlib
from collections import OrderedDict

import numpy as np
import pytest

import ember
import ember.serialization as S
from ember.utils import safetensors as st

NAMES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]
if ember.bfloat16.np is not None:  # only with ml_dtypes installed
    NAMES.append("bfloat16")
FORMATS = ["zip", "legacy"]
save, load = S.save, S.load  # what the lead exports as ember.save / ember.load


def test_public_names():
    if not hasattr(ember, "save"):
        pytest.skip("ember.save / ember.load are not exported yet")
    assert ember.save is S.save and ember.load is S.load


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


# -- helpers -----------------------------------------------------------------------------------------
def _np(name: str, shape, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    dt = getattr(ember, name).np
    if name == "bool":
        return np.asarray(rng.random(shape) > 0.5)
    if dt.kind in "iu":
        info = np.iinfo(dt)
        return np.asarray(rng.integers(info.min, info.max, shape, dtype=dt, endpoint=True))
    return np.asarray(rng.standard_normal(shape) * 10).astype(dt)


def _name_of(a: np.ndarray) -> str:
    return "bfloat16" if ember.bfloat16.np is not None and a.dtype == ember.bfloat16.np else a.dtype.name


def _to_torch(torch, a: np.ndarray):
    if _name_of(a) == "bfloat16":
        return torch.from_numpy(a.view(np.int16).copy()).view(torch.bfloat16)
    return torch.from_numpy(a.copy())


def _host(x) -> np.ndarray:
    """Values of an ember or torch tensor as a NumPy array (bfloat16 as its raw bits)."""
    if isinstance(x, ember.Tensor):
        a = np.asarray(x._data)
        return a.view(np.int16) if x.dtype is ember.bfloat16 else a
    x = x.detach()
    return x.view(sys.modules["torch"].int16).numpy() if str(x.dtype) == "torch.bfloat16" else x.numpy()


def _same(a, b) -> None:
    """Same dtype, shape, strides and values (NaN-free data, so exact equality)."""
    assert str(a.dtype) == str(b.dtype)
    assert tuple(a.shape) == tuple(b.shape)
    if a.numel():
        assert tuple(a.stride()) == tuple(b.stride())
    np.testing.assert_array_equal(_host(a), _host(b))


def _bundle(name: str, make):
    """0-dim, empty, full, and two views of one storage, one of them non-contiguous."""
    full = make(_np(name, (2, 3, 4)))
    return OrderedDict(
        full=full,
        row=full[1],
        t=full.transpose(0, 2),
        scalar=make(_np(name, (), 1)),
        empty=make(_np(name, (0, 3))),
    )


def _ember(a):
    return ember.from_numpy(np.ascontiguousarray(a).copy())


def _save(obj, path, fmt: str, saver=None):
    (saver or S.save)(obj, path, _use_new_zipfile_serialization=fmt == "zip")


def _records(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def _write_records(path, records: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w") as z:
        for n, data in records.items():
            z.writestr(n, data)


# -- round trips, every dtype ------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", NAMES)
def test_ember_roundtrip(tmp_path, name, fmt):
    obj = _bundle(name, _ember)
    _save(obj, tmp_path / "a.pt", fmt)
    back = load(tmp_path / "a.pt")
    assert type(back) is OrderedDict and list(back) == list(obj)
    for k in obj:
        _same(back[k], obj[k])
        assert type(back[k]) is ember.Tensor
    assert back["row"].untyped_storage() is back["full"].untyped_storage() is back["t"].untyped_storage()
    assert back["row"].storage_offset() == 12


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", NAMES)
def test_ember_to_torch(tmp_path, torch, name, fmt):
    obj = _bundle(name, _ember)
    _save(obj, tmp_path / "a.pt", fmt)
    got = torch.load(tmp_path / "a.pt", weights_only=True)
    assert type(got) is OrderedDict
    for k in obj:
        _same(got[k], obj[k])
    assert got["row"].untyped_storage().data_ptr() == got["full"].untyped_storage().data_ptr()
    assert got["t"].untyped_storage().data_ptr() == got["full"].untyped_storage().data_ptr()


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", NAMES)
def test_torch_to_ember(tmp_path, torch, name, fmt):
    obj = _bundle(name, lambda a: _to_torch(torch, a))
    _save(obj, tmp_path / "a.pt", fmt, saver=torch.save)
    back = load(tmp_path / "a.pt")
    for k in obj:
        _same(back[k], obj[k])
    assert back["row"].untyped_storage() is back["full"].untyped_storage() is back["t"].untyped_storage()


# torch.save({"model": OrderedDict(w=Parameter(arange(6.).reshape(2, 3)), row=w.data[1], i=int16 [1, -2],
# h=float16 [0.5], b=tensor(True)), "step": 3}) by torch 2.13, zlib-compressed: torch's files, no torch needed
TORCH_FILES = {
    "zip": (
        "eNqlVttP01AYP1u3MqqOixduincdCmPtBgUvQBrTmPRBKDFZeFnKVmhjoXzdGUSNCQkZ6ps+mxhffPEf8MVX4zOJ8UUTY3wwPvnq"
        "i5dzWhhtyZjIyU7P2n2/S0+/7+smFSaGUCKBdoxW1I40p2iYy/pgScNaeumOJUtJNBMYq9EHgFL5OAEs2CXdgkixaFuWXsSmvVjm"
        "bjkl3dFLN8wi5iDapwKTykdI7ArEitgm7OlCBZtWmSs4+mzFtEqFJc3RFnSsOxzE64RgfbFsO4VlgQM2lco3Eb4yidTmdWjyIJxs"
        "2Rqe9i5ykHA1M9CcZ8haXKoAp7AYDkwpSIkqzDocVBglsg6HHhvUYxJDiwqtj9yTtofQrsJhF+nYK3DEIJpGk5Ewmg2X5egUATNV"
        "OKZEqtDhMXRi6FKh25U1oceDbFqbNmxn29pxN4aHE4QsiqHXtVSFk5TslEd2GsMZFc66gQacC5Dd1Ky5Gtd5N0SAC4QrguEi5SI0"
        "KXro87guYbisQr8bOAsDAS7Jtq0aV9oNycKgx5UhXH2bHDwGQYVsJR9zN15fgpzCVNKTSlNi4svcGy6KEJ2TdTOrA/G1zErP2c6C"
        "hgvLulMmGSNLA6EEazB4Kvv6x6c1apfO+rLdSNyW3UyYgmaZ84sL+iKWpezelL0xnKMGxlfgO7llFN3VQBsarxmYvYt1mxaHLF39"
        "H92tYZkYWzr1UL3+tYslKuyuHpJoLFDVgxlZurIPAx7r6jg5TJAPmatkvpigjjqefHvaSX7obOCoP+iIl6XUPzuKoN9/qNa7Z2/H"
        "aD7GGmhNBLUEWbq2n+2fQSNUXXv10Wz8/JNICqpnZWlsX+rk/ql8z+f4y8b53+KTr5XbfvWzHDWw8Xz+duP770XCdgG6G1DWHZNU"
        "4D2Nvi0KZkmW0nv0w2dEcWRYEIVRcXR0ZCjHDwtDmRw/ImZHRZ58y+aGRSEjuk9pLPf+V4r4SLkuI9Rszae/c7XucB5+D4bR/gbU"
        "EUDORFG9Xhcm8TeR7gDJhp9kR+cK8/gbQVuAR2XQzgYUhvurNhmAf2BQqHeEsf4qDGKNWAjLh7H+Ggpi34exQhjrL4AgVo2HsNkw"
        "1p+7LcFt92HrPDN/SvUGhVnUINknFZbt3yoNZqCG5ELrWtRbf7LeSnD0Lw+63+yde1UfZz0M58Z7sX8BDxA3ww=="
    ),
    "legacy": (
        "eNp1ktlu00AUhr0lAUNL2Slr2R2WEKfOdkWFUIVksdS98Q2yXGeojaaenPG4FUiVcpNSeAYuuOTVeAQkBJyx09BKYeQ58hz/853f"
        "M2ekfTHpr6+rP5fef3+z2BhpL3/oGHdBsfwFRVGGnAkWMRpsE54lLAUVBf4cfqGJEJQEJB0kYQravm9iUnwYkiBLPpIM9F0wLL+C"
        "ySxmXEDF1XwdV0kqoOoaviEZLN2Emmvk+UFNqd9iA0JBjbAsJZHAqpn5mg8IJ4PnSSRM0Ooe6JavonYHjEgwHsWNIBcJzcyAk408"
        "oYNgGPJwiwjCTaj8RyJImjEebLdMqFqWX5NeURluEqiVW8xVykKxXiZNOObPo6bvOO1ut2n3nXar34HjxW9FwxxMt/pKwIk1V3E1"
        "V9+Dk67uqnsw9zmWjucFnPJgYb9YnP4EZzw4W2zlbAfOxeggrsUzK5yPS/KFNQTqY7joqmO4VFIXBVz24EpxGAlcLTET8+vy4Kfm"
        "r/1Dd+yO07K7rR5cR7SG6BuF6TEsSfTNEn1LwG0P7hToGO4eQb8I6bsp+d5hcttxbHu5A/eRrCLZkmSE1mV4UJIfCnjkweOCvAGN"
        "I+RnjNEp+ckRz91mv91zoDkh20iu10tiS8CyB05etFUmyBDari676q3sqhn21Fmnoc0qp8+6EoM0pPli9LTJi6r8/nOQVavK4TF6"
        "imEFH5wjnN9W/gKA2+K5"
    ),
}


@pytest.mark.parametrize("fmt", FORMATS)
def test_torch_written_files_load_without_torch(fmt):
    got = load(io.BytesIO(zlib.decompress(base64.b64decode(TORCH_FILES[fmt]))))
    assert got["step"] == 3 and list(got["model"]) == ["w", "row", "i", "h", "b"]
    m = got["model"]
    assert type(m) is OrderedDict and m["w"].requires_grad and m["w"].tolist() == [[0, 1, 2], [3, 4, 5]]
    assert type(m["w"]).__name__ == "Parameter"
    assert m["row"].tolist() == [3, 4, 5] and m["row"].untyped_storage() is m["w"].untyped_storage()
    assert m["i"].dtype is ember.int16 and m["i"].tolist() == [1, -2]
    assert m["h"].dtype is ember.float16 and m["h"].tolist() == [0.5]
    assert m["b"].dtype is ember.bool and m["b"].ndim == 0 and m["b"].item() is True


def test_shared_views_save_one_record_and_stay_shared(tmp_path):
    x = ember.arange(12.0).reshape(3, 4)
    save([x[0], x[1:], x.t()], tmp_path / "v.pt")  # three views, no base in the list
    assert [n for n in _records(tmp_path / "v.pt") if "/data/" in n] == ["archive/data/0"]
    a, b, t = load(tmp_path / "v.pt")
    assert a.untyped_storage() is b.untyped_storage() is t.untyped_storage()
    a[0] = 100.0  # a write through one view shows in the others, as in the saved tensors
    b[0, 0] = -1.0
    assert t[0, 0].item() == 100.0 and t[0, 1].item() == -1.0


def test_same_tensor_twice_is_one_object(tmp_path, torch):
    x = ember.ones(3)
    save({"a": x, "b": x}, tmp_path / "s.pt")
    back = load(tmp_path / "s.pt")
    assert back["a"] is back["b"]
    got = torch.load(tmp_path / "s.pt")
    assert got["a"] is got["b"]


def test_unexpressible_layouts_save_values(tmp_path, torch):
    rev = ember.from_numpy(np.arange(6.0)[::-1])  # a negative stride: saved as a compact copy
    save({"rev": rev}, tmp_path / "r.pt")
    np.testing.assert_array_equal(torch.load(tmp_path / "r.pt")["rev"].numpy(), np.arange(6.0)[::-1])
    np.testing.assert_array_equal(load(tmp_path / "r.pt")["rev"].numpy(), np.arange(6.0)[::-1])


def test_views_of_one_storage_as_two_dtypes_refused(tmp_path):
    base = np.zeros(4, np.float32)
    with pytest.raises(RuntimeError, match="view the same data as different types"):
        save([ember.from_numpy(base), ember.from_numpy(base.view(np.int32))], tmp_path / "m.pt")
    assert not os.listdir(tmp_path)


def test_requires_grad_parameters_and_attributes(tmp_path, torch):
    nn = pytest.importorskip("ember.nn")
    t = ember.ones(2)
    t.note = "kept"
    obj = {"w": nn.Parameter(ember.ones(2, 3)), "frozen": nn.Parameter(ember.zeros(2), requires_grad=False)}
    obj.update(g=ember.ones(3, requires_grad=True), t=t)
    save(obj, tmp_path / "p.pt")
    got = torch.load(tmp_path / "p.pt", weights_only=True)
    assert type(got["w"]) is torch.nn.Parameter and got["w"].requires_grad
    assert type(got["frozen"]) is torch.nn.Parameter and not got["frozen"].requires_grad
    assert got["g"].requires_grad and got["t"].note == "kept"
    back = load(tmp_path / "p.pt")
    assert type(back["w"]) is nn.Parameter and back["w"].requires_grad and not back["frozen"].requires_grad
    assert back["g"].requires_grad and back["g"].is_leaf and back["t"].note == "kept"
    torch.save(got, tmp_path / "q.pt")
    back = load(tmp_path / "q.pt")
    assert type(back["w"]) is nn.Parameter and not back["frozen"].requires_grad and back["t"].note == "kept"


def test_primitives_and_containers(tmp_path, torch):
    obj = {
        "i": 3, "f": 2.5, "s": "text", "n": None, "b": True, "by": b"\x00\xff", "set": {1, 2}, "c": 1 + 2j,
        "nested": [1, (2.5, None, "x"), {"k": [ember.tensor([1, 2])]}], "size": ember.Size([2, 3]),
        "dtype": ember.float16, "device": ember.device("cpu"),
    }  # fmt: skip
    save(obj, tmp_path / "c.pt")
    back = load(tmp_path / "c.pt")
    assert back["nested"][2]["k"][0].tolist() == [1, 2]
    assert {k: v for k, v in back.items() if k != "nested"} == {k: v for k, v in obj.items() if k != "nested"}
    assert type(back["size"]) is ember.Size and back["dtype"] is ember.float16
    got = torch.load(tmp_path / "c.pt", weights_only=True)
    assert (
        got["size"] == torch.Size([2, 3])
        and got["dtype"] is torch.float16
        and got["device"] == torch.device("cpu")
    )
    assert got["by"] == b"\x00\xff" and got["set"] == {1, 2} and got["nested"][1] == (2.5, None, "x")


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_pickle_protocols(tmp_path, torch, protocol):
    save({"w": ember.arange(4.0), "s": ember.Size([1])}, tmp_path / "p.pt", pickle_protocol=protocol)
    back = load(tmp_path / "p.pt")  # weights_only: protocol 4's STACK_GLOBAL is checked too
    assert back["w"].tolist() == [0.0, 1.0, 2.0, 3.0] and back["s"] == (1,)
    assert torch.load(tmp_path / "p.pt", weights_only=protocol == 2)["w"].tolist() == [0.0, 1.0, 2.0, 3.0]


# -- state dicts ---------------------------------------------------------------------------------------
def _cnn_state(lib, seed=0):
    """Sequential(Conv2d(3, 8, 3), BatchNorm2d(8), ReLU, Flatten, Linear(288, 10)).state_dict(), by hand."""
    rng = np.random.default_rng(seed)

    def f(*shape):
        return lib.from_numpy(rng.standard_normal(shape).astype(np.float32))

    return OrderedDict([
        ("0.weight", f(8, 3, 3, 3)), ("0.bias", f(8)),
        ("1.weight", f(8)), ("1.bias", f(8)), ("1.running_mean", f(8)), ("1.running_var", f(8).abs()),
        ("1.num_batches_tracked", lib.tensor(7)), ("4.weight", f(10, 8 * 6 * 6)), ("4.bias", f(10)),
    ])  # fmt: skip


def test_cnn_state_dict_both_ways(tmp_path, torch):
    net = torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3),
        torch.nn.BatchNorm2d(8),
        torch.nn.ReLU(),
        torch.nn.Flatten(),
        torch.nn.Linear(288, 10),
    )
    save(_cnn_state(ember), tmp_path / "cnn.pt")
    net.load_state_dict(torch.load(tmp_path / "cnn.pt"))  # strict: every key, shape and dtype fits
    assert net[1].num_batches_tracked.item() == 7
    torch.save(net.state_dict(), tmp_path / "t.pt")
    back = load(tmp_path / "t.pt")
    assert list(back) == list(net.state_dict()) and back._metadata == net.state_dict()._metadata
    for k, v in net.state_dict().items():
        _same(back[k], v)


def test_seed_model_state_dict_both_ways(tmp_path, torch):
    nn = pytest.importorskip("ember.nn")
    ours = nn.Sequential(nn.Linear(4, 3), nn.Flatten())
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Flatten())
    save(ours.state_dict(), tmp_path / "e.pt")
    theirs.load_state_dict(torch.load(tmp_path / "e.pt"))
    x = np.random.default_rng(0).standard_normal((2, 4)).astype(np.float32)
    np.testing.assert_allclose(
        theirs(torch.from_numpy(x)).detach().numpy(),
        ours(ember.from_numpy(x)).detach().numpy(),
        rtol=1e-6,
        atol=1e-6,
    )
    theirs[0].weight.data.mul_(2)
    torch.save(theirs.state_dict(), tmp_path / "t.pt")
    loaded = load(tmp_path / "t.pt")
    assert list(loaded) == list(ours.state_dict())
    ours.load_state_dict(loaded)
    np.testing.assert_allclose(
        theirs(torch.from_numpy(x)).detach().numpy(),
        ours(ember.from_numpy(x)).detach().numpy(),
        rtol=1e-6,
        atol=1e-6,
    )


def _optim_states(lib):
    """SGD-with-momentum and Adam state dicts as torch lays them out: per-parameter buffers by index."""
    w = [lib.from_numpy(np.full((2, 3), 0.5, np.float32)), lib.from_numpy(np.ones(3, np.float32))]
    sgd = {
        "state": {0: {"momentum_buffer": w[0] * 2}, 1: {"momentum_buffer": w[1] * 3}},
        "param_groups": [{"lr": 0.1, "momentum": 0.9, "dampening": 0, "weight_decay": 0, "nesterov": False,
                          "maximize": False, "foreach": None, "differentiable": False, "fused": None,
                          "params": [0, 1]}],
    }  # fmt: skip
    adam = {
        "state": {i: {"step": lib.tensor(3.0), "exp_avg": p * 0.1, "exp_avg_sq": p * 0.01}
                  for i, p in enumerate(w)},
        "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0, "amsgrad": False,
                          "maximize": False, "foreach": None, "capturable": False, "differentiable": False,
                          "fused": None, "params": [0, 1]}],
    }  # fmt: skip
    return {"sgd": sgd, "adam": adam}


def _assert_tree_equal(a, b) -> None:
    if hasattr(a, "dtype") and hasattr(a, "stride"):
        _same(a, b)
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            _assert_tree_equal(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            _assert_tree_equal(x, y)
    else:
        assert a == b and type(a) is type(b)


@pytest.mark.parametrize("fmt", FORMATS)
def test_optimizer_state_dicts_both_ways(tmp_path, torch, fmt):
    ours = _optim_states(ember)
    _save(ours, tmp_path / "o.pt", fmt)
    _assert_tree_equal(load(tmp_path / "o.pt"), ours)
    got = torch.load(tmp_path / "o.pt", weights_only=True)
    _assert_tree_equal(got, _optim_states(torch))
    p = [torch.nn.Parameter(torch.zeros(2, 3)), torch.nn.Parameter(torch.zeros(3))]
    opt = torch.optim.Adam(p)
    opt.load_state_dict(got["adam"])
    opt.zero_grad()
    sum(q.sum() for q in p).backward()
    opt.step()  # the loaded buffers are usable state
    assert opt.state_dict()["state"][0]["step"].item() == 4.0
    _save(opt.state_dict(), tmp_path / "t.pt", fmt, saver=torch.save)
    _assert_tree_equal(load(tmp_path / "t.pt"), opt.state_dict())


def test_real_ember_optimizer_state(tmp_path):
    nn = pytest.importorskip("ember.nn")
    optim = pytest.importorskip("ember.optim")
    model = nn.Linear(3, 2)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(ember.ones(4, 3)).sum().backward()
    opt.step()
    save({"model": model.state_dict(), "optim": opt.state_dict()}, tmp_path / "ckpt.pt")
    back = load(tmp_path / "ckpt.pt")
    _assert_tree_equal(back["optim"], opt.state_dict())
    _assert_tree_equal(back["model"], model.state_dict())


# -- safety ------------------------------------------------------------------------------------------
class Evil:
    """Pickles as a call to os.system: what a malicious checkpoint would carry."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return os.system, (f"touch {self.path}",)


class Point:
    def __init__(self, x=0):
        self.x = x


@pytest.mark.parametrize(("fmt", "protocol"), [("zip", 2), ("zip", 4), ("legacy", 2)])
def test_os_system_refused_before_anything_runs(tmp_path, monkeypatch, fmt, protocol):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    save({"w": ember.ones(2), "evil": Evil(marker)}, path, pickle_protocol=protocol,
               _use_new_zipfile_serialization=fmt == "zip")  # fmt: skip
    reads = []
    monkeypatch.setattr(S._Loader, "storage", lambda self, pid: reads.append(pid))
    with pytest.raises(pickle.UnpicklingError, match=r"(posix|nt|os)\.system") as info:
        load(path)
    assert "weights_only=False" in str(info.value)
    assert not marker.exists() and reads == []  # the tensor before the payload was not even read


def test_plain_pickle_payload_refused(tmp_path):
    marker = tmp_path / "pwned"
    (tmp_path / "evil.pkl").write_bytes(pickle.dumps(Evil(marker), protocol=2))
    for weights_only in (True, False):  # a bare pickle is not a checkpoint: its header is never trusted
        with pytest.raises(pickle.UnpicklingError, match="system"):
            load(tmp_path / "evil.pkl", weights_only=weights_only)
    assert not marker.exists()


def test_torch_refuses_the_same_payload(tmp_path, torch):
    marker = tmp_path / "pwned"
    save({"evil": Evil(marker)}, tmp_path / "evil.pt")
    with pytest.raises(pickle.UnpicklingError):
        torch.load(tmp_path / "evil.pt", weights_only=True)
    assert not marker.exists()


def test_unknown_global_named_and_allowable(tmp_path):
    save({"p": Point(3), "w": ember.ones(1)}, tmp_path / "pt.pt")
    with pytest.raises(S.WeightsOnlyUnpicklingError, match=r"test_serialization\.Point"):
        load(tmp_path / "pt.pt")
    with S.safe_globals([Point]):
        assert load(tmp_path / "pt.pt")["p"].x == 3
    with pytest.raises(S.WeightsOnlyUnpicklingError):
        load(tmp_path / "pt.pt")  # the context manager's allowance ended with it
    assert load(tmp_path / "pt.pt", weights_only=False)["p"].x == 3
    with pytest.raises(RuntimeError, match="pickle_module"):
        load(tmp_path / "pt.pt", pickle_module=pickle)


@pytest.mark.parametrize("target", [b"torch\nfloat32\n", b"torch\nTensor\n", b"torch\nFloatStorage\n"])
def test_build_on_a_global_refused(tmp_path, good, target):
    # GLOBAL target; (None, {"np": 1}); BUILD -- would setattr(torch.float32, "np", 1) and break ember
    payload = b"\x80\x02c" + target + b"N}X\x02\x00\x00\x00npK\x01s\x86b."
    _write_records(tmp_path / "b.pt", {**_records(good), "archive/data.pkl": payload})
    with pytest.raises(pickle.UnpicklingError, match="sets attributes of a global"):
        load(tmp_path / "b.pt")
    assert ember.float32.np == np.float32 and not hasattr(ember.Tensor, "np")


def test_torch_whole_model_with_weights_only_false(tmp_path, torch):
    nn = pytest.importorskip("ember.nn")
    model = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU())
    for fmt in FORMATS:
        _save(model, tmp_path / "m.pt", fmt, saver=torch.save)
        with pytest.raises(pickle.UnpicklingError, match=r"torch\.nn\.modules\.container\.Sequential"):
            load(tmp_path / "m.pt")
        ours = load(tmp_path / "m.pt", weights_only=False)  # torch's classes map to ember's namesakes
        assert type(ours[0]) is nn.Linear and type(ours[0].weight) is nn.Parameter
        x = np.ones((1, 2), np.float32)
        np.testing.assert_allclose(
            ours(ember.from_numpy(x)).detach().numpy(), model(torch.from_numpy(x)).detach().numpy()
        )


def test_weights_only_false_arbitrary_objects(tmp_path):
    nn = pytest.importorskip("ember.nn")
    model = nn.Sequential(nn.Linear(2, 2))
    save({"model": model, "point": Point(ember.arange(3))}, tmp_path / "m.pt")
    back = load(tmp_path / "m.pt", weights_only=False)
    assert back["point"].x.tolist() == [0, 1, 2]
    np.testing.assert_array_equal(back["model"][0].weight.detach().numpy(), model[0].weight.detach().numpy())
    assert type(back["model"][0].weight) is nn.Parameter


# -- damaged and foreign files -----------------------------------------------------------------------
@pytest.fixture
def good(tmp_path):
    path = tmp_path / "good.pt"
    save({"w": ember.arange(64.0), "i": ember.tensor([1, 2, 3])}, path)
    return path


@pytest.mark.parametrize("cut", [0.1, 0.5, 0.9, -3])
@pytest.mark.parametrize("fmt", FORMATS)
def test_truncated(tmp_path, cut, fmt):
    _save({"w": ember.arange(64.0), "i": ember.tensor([1, 2, 3])}, tmp_path / "a.pt", fmt)
    data = (tmp_path / "a.pt").read_bytes()
    (tmp_path / "cut.pt").write_bytes(data[: int(len(data) * cut) if cut > 0 else cut])
    with pytest.raises(RuntimeError, match="truncated|corrupt|Invalid"):
        load(tmp_path / "cut.pt")


def test_flipped_tensor_byte_fails_crc(tmp_path, good):
    data = bytearray(good.read_bytes())
    start = data.index(np.arange(64.0, dtype=np.float32).tobytes())
    assert start % 64 == 0  # storages are 64-byte aligned, as torch writes them
    data[start + 5] ^= 0xFF
    (good.parent / "bad.pt").write_bytes(bytes(data))
    with pytest.raises(RuntimeError, match="CRC"):
        load(good.parent / "bad.pt")


@pytest.mark.parametrize(
    "content",
    [b"", b"hello, not a checkpoint\n", bytes(range(256)) * 4, pickle.dumps([1, 2, 3]), b"PK\x03\x04junk"],
)
def test_not_a_checkpoint(tmp_path, content):
    (tmp_path / "x.pt").write_bytes(content)
    with pytest.raises(RuntimeError):
        load(tmp_path / "x.pt")


def test_zip_that_is_not_a_checkpoint(tmp_path):
    _write_records(tmp_path / "z.pt", {"folder/readme.txt": b"hi"})
    with pytest.raises(RuntimeError, match="data.pkl"):
        load(tmp_path / "z.pt")
    _write_records(tmp_path / "z.pt", {"m/constants.pkl": b"", "m/data.pkl.x": b""})
    with pytest.raises(RuntimeError, match="TorchScript"):
        load(tmp_path / "z.pt")


def test_damaged_records(tmp_path, good):
    recs = _records(good)
    _write_records(tmp_path / "a.pt", {**recs, "archive/data/0": recs["archive/data/0"][:-4]})
    with pytest.raises(RuntimeError, match="holds 252 bytes"):
        load(tmp_path / "a.pt")
    _write_records(tmp_path / "b.pt", {k: v for k, v in recs.items() if k != "archive/data/1"})
    with pytest.raises(RuntimeError, match="no record data/1"):
        load(tmp_path / "b.pt")
    _write_records(tmp_path / "c.pt", {**recs, "archive/data.pkl": recs["archive/data.pkl"][:-10]})
    with pytest.raises(RuntimeError, match="truncated|corrupt"):
        load(tmp_path / "c.pt")


def test_view_past_its_storage_refused(tmp_path):
    class Bad:  # a tensor record that claims 10 elements of a 4-element storage
        def __reduce__(self):
            ref = S._StorageRef(np.zeros(4, np.float32), "0", ember.float32, "cpu")
            return S._g("torch._utils", "_rebuild_tensor_v2"), (ref, 0, (10,), (1,), False, OrderedDict())

    pkl, refs = S._pickle(Bad(), pickle, 2, legacy=False)
    with open(tmp_path / "bad.pt", "wb") as fh:
        S._write_zip(fh, pkl, [S._StorageRef(np.zeros(4, np.float32), "0", ember.float32, "cpu")])
    with pytest.raises(RuntimeError, match="reaches past the end"):
        load(tmp_path / "bad.pt")


def test_big_endian_file(tmp_path, good):
    recs = _records(good)
    recs["archive/byteorder"] = b"big"
    recs["archive/data/0"] = np.arange(64.0, dtype=">f4").tobytes()
    recs["archive/data/1"] = np.array([1, 2, 3], ">i8").tobytes()
    _write_records(tmp_path / "be.pt", recs)
    back = load(tmp_path / "be.pt")
    assert back["w"].tolist() == list(np.arange(64.0)) and back["i"].tolist() == [1, 2, 3]


# -- map_location, mmap, files --------------------------------------------------------------------------
@pytest.fixture
def cuda_file(tmp_path, good):
    """The good checkpoint, with its storages tagged as saved on cuda:0."""
    recs = _records(good)
    recs["archive/data.pkl"] = recs["archive/data.pkl"].replace(
        b"X\x03\x00\x00\x00cpu", b"X\x06\x00\x00\x00cuda:0"
    )
    _write_records(tmp_path / "cuda.pt", recs)
    return tmp_path / "cuda.pt"


@pytest.mark.skipif(ember.cuda.is_available(), reason="checks the CPU-only message")
def test_cuda_checkpoint_needs_map_location(cuda_file):
    with pytest.raises(RuntimeError, match="map_location"):
        load(cuda_file)


@pytest.mark.parametrize(
    "where", ["cpu", ember.device("cpu"), {"cuda:0": "cpu"}, lambda s, loc: s, lambda s, loc: s.cpu()]
)
def test_map_location(cuda_file, where):
    back = load(cuda_file, map_location=where)
    assert back["w"].device == ember.device("cpu") and back["i"].tolist() == [1, 2, 3]


def test_map_location_callable_sees_storage_and_tag(cuda_file, torch):
    seen = []
    load(cuda_file, map_location=lambda s, loc: seen.append((type(s).__name__, s.dtype, len(s), loc)) or s)
    assert seen == [("TypedStorage", ember.float32, 64, "cuda:0"), ("TypedStorage", ember.int64, 3, "cuda:0")]
    assert torch.load(cuda_file, map_location="cpu")["i"].tolist() == [1, 2, 3]  # the tagged file is sane


@pytest.mark.parametrize("maker", ["ember", "torch"])
def test_mmap(tmp_path, maker, request):
    lib = request.getfixturevalue("torch") if maker == "torch" else ember
    w = lib.arange(64.0)
    (lib.save if maker == "torch" else save)({"w": w, "v": w[8:16]}, tmp_path / "m.pt")
    before = (tmp_path / "m.pt").read_bytes()
    back = load(tmp_path / "m.pt", mmap=True)
    assert back["w"].tolist() == list(np.arange(64.0)) and back["v"].tolist() == list(range(8, 16))
    back["v"][0] = -5.0  # copy on write: the tensors are writable and the file is untouched
    assert back["w"][8].item() == -5.0 and (tmp_path / "m.pt").read_bytes() == before
    with pytest.raises(ValueError, match="file path"):
        load(io.BytesIO(before), mmap=True)


class _Stream:
    """A read-only, non-seekable stream (a pipe or socket)."""

    def __init__(self, data):
        self._b = io.BytesIO(data)

    def read(self, n=-1):
        return self._b.read(n)


@pytest.mark.parametrize("fmt", FORMATS)
def test_file_objects(tmp_path, fmt):
    buf = io.BytesIO()
    _save({"w": ember.arange(3)}, buf, fmt)
    buf.seek(0)
    assert load(buf)["w"].tolist() == [0, 1, 2]
    assert load(_Stream(buf.getvalue()))["w"].tolist() == [0, 1, 2]
    save(ember.ones(2), str(tmp_path / "s.pt"))
    assert load(str(tmp_path / "s.pt")).tolist() == [1.0, 1.0]


# -- atomic save ---------------------------------------------------------------------------------------
class _FullDisk:
    """A file whose writes fail with ENOSPC once ``limit`` bytes have gone through."""

    def __init__(self, f, limit):
        self._f, self._left = f, limit

    def write(self, b):
        n = memoryview(b).nbytes
        if n > self._left:
            self._f.write(bytes(memoryview(b).cast("B")[: self._left]))
            raise OSError(errno.ENOSPC, "No space left on device")
        self._left -= n
        return self._f.write(b)

    def __getattr__(self, name):
        return getattr(self._f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._f.close()


class _Unpicklable:
    def __reduce__(self):
        raise RuntimeError("boom while pickling")


@pytest.mark.parametrize("fmt", FORMATS)
def test_save_is_atomic(tmp_path, monkeypatch, fmt):
    path = tmp_path / "ckpt.pt"
    _save({"w": ember.ones(3)}, path, fmt)
    old = path.read_bytes()
    with pytest.raises(RuntimeError, match="boom"):
        _save({"w": ember.zeros(3), "x": _Unpicklable()}, path, fmt)
    real = os.fdopen
    monkeypatch.setattr(S.os, "fdopen", lambda fd, mode: _FullDisk(real(fd, mode), 500))
    with pytest.raises(OSError, match="No space"):
        _save({"w": ember.zeros(1000)}, path, fmt)
    with pytest.raises(OSError, match="No space"):
        st.save_file({"w": ember.zeros(1000)}, tmp_path / "w.safetensors")
    assert path.read_bytes() == old and sorted(os.listdir(tmp_path)) == ["ckpt.pt"]  # no temp files left
    assert load(path)["w"].tolist() == [1.0, 1.0, 1.0]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_save_keeps_permissions(tmp_path):
    path = tmp_path / "ckpt.pt"
    save(ember.ones(1), path)
    os.chmod(path, 0o640)
    save(ember.ones(2), path)
    assert os.stat(path).st_mode & 0o777 == 0o640
    with pytest.raises(RuntimeError, match="Parent directory"):
        save(ember.ones(1), tmp_path / "missing" / "x.pt")


# -- safetensors ---------------------------------------------------------------------------------------
def _st_tensors():
    out = {name: _ember(_np(name, (2, 3), i)) for i, name in enumerate(NAMES)}
    out.update(scalar=ember.tensor(1.5), empty=ember.zeros(0, 4))
    return out


def test_safetensors_roundtrip(tmp_path):
    tensors = _st_tensors()
    st.save_file(tensors, tmp_path / "a.safetensors", metadata={"format": "pt"})
    back = st.load_file(tmp_path / "a.safetensors")
    assert sorted(back) == sorted(tensors)
    for k in tensors:
        _same(back[k], tensors[k])
    with st.safe_open(tmp_path / "a.safetensors", framework="pt") as f:
        assert f.keys() == sorted(tensors) and f.metadata() == {"format": "pt"}
        _same(f.get_tensor("int16"), tensors["int16"])
    for k, v in st.load(st.save(tensors)).items():
        _same(v, tensors[k])


def test_safetensors_interchange(tmp_path):
    sn = pytest.importorskip("safetensors.numpy")
    tensors = {k: v for k, v in _st_tensors().items() if v.dtype is not ember.bfloat16}
    st.save_file(tensors, tmp_path / "e.safetensors", metadata={"k": "v"})
    theirs = sn.load_file(tmp_path / "e.safetensors")
    for k, v in tensors.items():
        np.testing.assert_array_equal(theirs[k], v.numpy())
    sn.save_file(theirs, tmp_path / "s.safetensors", metadata={"a": "b"})
    back = st.load_file(tmp_path / "s.safetensors")
    for k, v in tensors.items():
        _same(back[k], v)
    assert st.load(sn.save(theirs))["int64"].tolist() == tensors["int64"].tolist()


def test_safetensors_torch_bfloat16(tmp_path, torch):
    pytest.importorskip("safetensors.torch")
    from safetensors.torch import load_file, save_file

    save_file({"b": torch.arange(6, dtype=torch.bfloat16).reshape(2, 3)}, tmp_path / "t.safetensors")
    if ember.bfloat16.np is None:
        with pytest.raises(st.SafetensorError, match="ml_dtypes"):
            st.load_file(tmp_path / "t.safetensors")
    else:
        assert st.load_file(tmp_path / "t.safetensors")["b"].float().tolist() == [[0, 1, 2], [3, 4, 5]]
    st.save_file({"w": ember.arange(4.0)}, tmp_path / "e.safetensors")
    assert load_file(tmp_path / "e.safetensors")["w"].tolist() == [0.0, 1.0, 2.0, 3.0]


def test_safetensors_refuses_bad_input(tmp_path):
    x = ember.arange(6.0).reshape(2, 3)
    with pytest.raises(ValueError, match="non contiguous"):
        st.save_file({"t": x.t()}, tmp_path / "a.safetensors")
    with pytest.raises(RuntimeError, match="share memory"):
        st.save_file({"a": x, "b": x[1]}, tmp_path / "a.safetensors")
    with pytest.raises(ValueError, match="metadata"):
        st.save({"a": x}, metadata={"n": 1})
    assert not os.listdir(tmp_path)


def _header(entries: dict) -> bytes:
    raw = json.dumps(entries).encode()
    return struct.pack("<Q", len(raw)) + raw


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x01\x00",
        struct.pack("<Q", 10**12) + b"{}",
        struct.pack("<Q", 100) + b"{}",
        struct.pack("<Q", 3) + b"{x}",
        _header({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}) + b"\x00" * 4,  # truncated
        _header({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}}) + b"\x00" * 4,  # wrong size
        _header({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
                 "b": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}) + b"\x00" * 4,  # overlap
        _header({"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}) + b"\x00" * 8,  # a hole
        _header({"a": {"dtype": "XX", "shape": [1], "data_offsets": [0, 4]}}) + b"\x00" * 4,
        _header({"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}) + b"\x00" * 4,
    ],
)  # fmt: skip
def test_safetensors_corrupt(data):
    with pytest.raises(st.SafetensorError):
        st.load(data)
