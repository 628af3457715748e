"""Tensor creation, dtypes, legacy types, devices, conversion, views and storage, against torch."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest
from _spec import dtype_name, to_np, torch

import ember

pytestmark = [
    pytest.mark.filterwarnings("ignore:Creating a tensor from a list of numpy.ndarrays"),
    pytest.mark.filterwarnings("ignore:To copy construct from a tensor"),
]


def _describe(x):
    """A comparable summary of a result: tensors by dtype, shape and values."""
    if isinstance(x, (ember.Tensor,)) or (torch is not None and isinstance(x, torch.Tensor)):
        a = to_np(x)
        return ("tensor", dtype_name(x.dtype), tuple(x.shape), a.tolist(), x.requires_grad)
    if isinstance(x, (tuple, list)):
        return type(x).__name__, [_describe(y) for y in x]
    if isinstance(x, (ember.dtype,)) or (torch is not None and isinstance(x, torch.dtype)):
        return ("dtype", dtype_name(x))
    if isinstance(x, (ember.Size,)) or (torch is not None and isinstance(x, torch.Size)):
        return ("size", tuple(x))
    if isinstance(x, ember.device) or (torch is not None and isinstance(x, torch.device)):
        return ("device", str(x), repr(x))
    return x


def same(fn):
    """``fn(T)`` gives the same result (or raises the same error) in ember and torch."""
    out = []
    for T in (ember, torch) if torch is not None else (ember,):
        try:
            out.append(("ok", _describe(fn(T))))
        except Exception as e:  # noqa: BLE001 - comparing what each library raises
            out.append(("error", type(e).__name__, str(e)))
    if torch is not None:
        assert out[0] == out[1], f"ember {out[0]}\ntorch {out[1]}"
    return out[0]


# -- creation ------------------------------------------------------------------------------------------
CREATION = {
    "nested_ints": lambda T: T.tensor([[1, 2], [3, 4]]),
    "mixed_int_float": lambda T: T.tensor([1, 2.5]),
    "bools": lambda T: T.tensor([True, False]),
    "bool_and_int": lambda T: T.tensor([True, 2]),
    "numpy_float64": lambda T: T.tensor(np.array([1.5, 2.0])),
    "numpy_float32": lambda T: T.tensor(np.array([1.5, 2.0], dtype=np.float32)),
    "numpy_int32": lambda T: T.tensor(np.array([1, 2], dtype=np.int32)),
    "numpy_bool": lambda T: T.tensor(np.array([True, False])),
    "numpy_scalar": lambda T: T.tensor(np.float64(2.5)),
    "numpy_scalars_in_list": lambda T: T.tensor([np.float64(1.5), 2.0]),
    "numpy_ints_promote": lambda T: T.tensor([np.uint8(1), np.int8(2)]),
    "list_of_arrays": lambda T: T.tensor([np.array([1.0, 2.0]), np.array([3.0, 4.0])]),
    "empty": lambda T: T.tensor([]),
    "empty_nested": lambda T: T.tensor([[], []]),
    "scalar_int": lambda T: T.tensor(3),
    "scalar_float": lambda T: T.tensor(3.5),
    "scalar_bool": lambda T: T.tensor(False),
    "zero_dim_tensors": lambda T: T.tensor([T.tensor(1.0), T.tensor(2.0)]),
    "tensor_and_int": lambda T: T.tensor([T.tensor(1, dtype=T.int32), 2]),
    "from_tensor": lambda T: T.tensor(T.arange(3)),
    "dtype_arg": lambda T: T.tensor([1, 2], dtype=T.float64),
    "dtype_arg_float_to_int": lambda T: T.tensor([1.7, -1.7], dtype=T.int64),
    "tuple": lambda T: T.tensor((1, 2)),
    "large_int": lambda T: T.tensor([2**40]),
    "requires_grad": lambda T: T.tensor([1.0], requires_grad=True),
    "ragged": lambda T: T.tensor([[1, 2], [3]]),
    "not_a_sequence": lambda T: T.tensor([[1, 2], 3]),
    "string": lambda T: T.tensor(["a"]),
    "none": lambda T: T.tensor(None),
    "int_requires_grad": lambda T: T.tensor([1], requires_grad=True),
    "as_tensor_list": lambda T: T.as_tensor([1, 2]),
    "as_tensor_dtype": lambda T: T.as_tensor(np.ones(2), dtype=T.float32),
    "as_tensor_tensor": lambda T: T.as_tensor(T.ones(2), dtype=T.float64),
    "from_numpy": lambda T: T.from_numpy(np.arange(3.0)),
    "from_numpy_int": lambda T: T.from_numpy(np.arange(3, dtype=np.int16)),
    "zeros": lambda T: T.zeros(2, 3),
    "zeros_tuple": lambda T: T.zeros((2, 3), dtype=T.int32),
    "zeros_list": lambda T: T.zeros([2]),
    "zeros_size": lambda T: T.zeros(T.Size([2, 1])),
    "zeros_scalar": lambda T: T.zeros(()),
    "zeros_negative": lambda T: T.zeros(-1),
    "ones_negative": lambda T: T.ones(2, -1),
    "ones_bool": lambda T: T.ones(2, dtype=T.bool),
    "ones_rg": lambda T: T.ones(2, requires_grad=True),
    "full_int": lambda T: T.full((2,), 3),
    "full_float": lambda T: T.full((2,), 3.5),
    "full_bool": lambda T: T.full((2,), True),
    "full_dtype": lambda T: T.full((2, 2), 7, dtype=T.float32),
    "empty_shape": lambda T: (T.empty(2, 3).shape, T.empty(2, 3).dtype, T.empty(0).shape),
    "eye": lambda T: T.eye(3),
    "eye_rect": lambda T: T.eye(2, 3, dtype=T.int64),
    "arange": lambda T: T.arange(5),
    "arange_start": lambda T: T.arange(2, 7),
    "arange_float_step": lambda T: T.arange(0, 1, 0.1),
    "arange_float_step_long": lambda T: T.arange(0, 10, 0.1),
    "arange_odd_step": lambda T: T.arange(-5.5, 20, 0.013),
    "arange_negative_step": lambda T: T.arange(5, -3, -0.07),
    "arange_float64": lambda T: T.arange(0, 7.3, 0.0123, dtype=T.float64),
    "arange_float16": lambda T: T.arange(0, 3, 0.1, dtype=T.float16),
    "arange_int_dtype_float_step": lambda T: T.arange(0, 5, 1.5, dtype=T.int64),
    "arange_float_end": lambda T: T.arange(0, 5.0),
    "arange_tensor": lambda T: T.arange(T.tensor(3)),
    "arange_zero_step": lambda T: T.arange(0, 1, 0),
    "arange_wrong_sign": lambda T: T.arange(0, 5, -1),
    "linspace": lambda T: T.linspace(0, 1, 5),
    "linspace_one": lambda T: T.linspace(2, 5, 1),
    "linspace_zero": lambda T: T.linspace(0, 1, 0),
    "linspace_int": lambda T: T.linspace(0, 10, 4, dtype=T.int64),
    "linspace_neg_int": lambda T: T.linspace(-7, 10, 6, dtype=T.int32),
    "linspace_float64": lambda T: T.linspace(-1, 1, 7, dtype=T.float64),
    "linspace_float16": lambda T: T.linspace(-3, 5, 33, dtype=T.float16),
    "linspace_long": lambda T: T.linspace(0.1, 0.9, 1000),
    "linspace_reverse": lambda T: T.linspace(5, -2, 333, dtype=T.float64),
    "logspace": lambda T: T.logspace(0, 2, 3),
    "zeros_like": lambda T: T.zeros_like(T.ones(2, dtype=T.int32)),
    "ones_like_dtype": lambda T: T.ones_like(T.ones(2, dtype=T.int32), dtype=T.float64),
    "full_like": lambda T: T.full_like(T.ones(2), 7),
    "full_like_int": lambda T: T.full_like(T.ones(2, dtype=T.int64), 2.7),
    "zeros_like_rg": lambda T: T.zeros_like(T.ones(2), requires_grad=True),
    "ones_like_device": lambda T: T.ones_like(T.ones(2, dtype=T.float64), device="cpu"),
    "full_like_all": lambda T: T.full_like(T.ones(2), 2, dtype=T.float64, device="cpu", requires_grad=True),
    "zeros_like_int_rg": lambda T: T.zeros_like(T.ones(2), dtype=T.int64, requires_grad=True),
    "empty_like": lambda T: (
        T.empty_like(T.ones(2, 3, dtype=T.int16)).dtype,
        T.empty_like(T.ones(2, 3)).shape,
    ),
    "rand_like": lambda T: (T.rand_like(T.ones(2, 3, dtype=T.float64)).dtype, T.randn_like(T.ones(4)).shape),
    "new_zeros": lambda T: T.ones(2, dtype=T.float64).new_zeros(3),
    "new_ones": lambda T: T.ones(2, dtype=T.int32).new_ones((2, 2)),
    "new_full": lambda T: T.ones(2).new_full((2,), 4),
    "new_tensor": lambda T: T.ones(2, dtype=T.int16).new_tensor([1, 2]),
    "legacy_Tensor": lambda T: T.Tensor([1, 2]),
    "legacy_Tensor_size": lambda T: T.Tensor(2, 3).shape,
    "legacy_Tensor_empty": lambda T: T.Tensor(),
    "legacy_FloatTensor": lambda T: T.FloatTensor([1, 2]),
    "legacy_FloatTensor_size": lambda T: (T.FloatTensor(2, 3).shape, T.FloatTensor(2, 3).dtype),
    "legacy_LongTensor": lambda T: T.LongTensor([1, 2]),
    "legacy_DoubleTensor": lambda T: T.DoubleTensor([[1]]),
    "legacy_BoolTensor": lambda T: T.BoolTensor([1, 0]),
    "legacy_ByteTensor": lambda T: T.ByteTensor([1, 0]),
    "legacy_IntTensor": lambda T: T.IntTensor([1.7]),
}


@pytest.mark.parametrize("name", list(CREATION))
def test_creation_matches_torch(name):
    same(CREATION[name])


def test_linspace_bit_exact_seed():
    """The seeds' x: float32 linspace(-pi, pi, 2000), identical bits to torch's."""
    x = ember.linspace(-math.pi, math.pi, 2000)
    assert x.dtype is ember.float32 and x.shape == (2000,)
    assert x[0].item() == np.float32(-math.pi) and x[-1].item() == np.float32(math.pi)
    if torch is not None:
        t = torch.linspace(-math.pi, math.pi, 2000)
        assert x.numpy().tobytes() == t.numpy().tobytes()
        for args in [(-3.3, 7.1, 7), (0, 1, 100), (0.1, 0.9, 1000), (1e-3, 1e3, 50), (-10, 10, 64)]:
            for dt in ("float32", "float64"):
                a = ember.linspace(*args, dtype=getattr(ember, dt)).numpy()
                b = torch.linspace(*args, dtype=getattr(torch, dt)).numpy()
                assert a.tobytes() == b.tobytes(), (args, dt)


def test_arange_bit_exact():
    if torch is None:
        pytest.skip("torch not installed")
    for args in [(0, 10, 0.1), (0, 100, 0.37), (1.1, 2.2, 0.001), (-1, 1, 0.01), (0.3, 7.9, 0.0123)]:
        for dt in ("float32", "float64"):
            a = ember.arange(*args, dtype=getattr(ember, dt)).numpy()
            b = torch.arange(*args, dtype=getattr(torch, dt)).numpy()
            assert a.tobytes() == b.tobytes(), (args, dt)


def test_from_numpy_shares_memory_both_ways():
    a = np.arange(6.0).reshape(2, 3)
    t = ember.from_numpy(a)
    a[0, 0] = 100.0
    assert t[0, 0].item() == 100.0
    t[1, 2] = -5.0
    assert a[1, 2] == -5.0
    t.add_(1)
    assert a[0, 1] == 2.0
    assert t.numpy() is a or np.shares_memory(t.numpy(), a)
    assert t.dtype is ember.float64


def test_as_tensor_shares_memory_when_possible():
    a = np.arange(3.0)
    t = ember.as_tensor(a)
    a[0] = 9.0
    assert t[0].item() == 9.0
    c = ember.as_tensor(a, dtype=ember.float32)  # a conversion: a copy
    a[1] = 7.0
    assert c[1].item() == 1.0
    x = ember.ones(2)
    assert ember.as_tensor(x) is x


def test_tensor_from_tensor_warns_like_torch():
    with pytest.warns(UserWarning, match="To copy construct from a tensor"):
        ember.tensor(ember.ones(2))


def test_tensor_copies_its_input():
    a = np.arange(3.0)
    t = ember.tensor(a)
    a[0] = 5.0
    assert t[0].item() == 0.0
    src = ember.ones(2)
    c = ember.tensor(src)
    src.add_(1)
    assert c.tolist() == [1.0, 1.0]


def test_numpy_shares_memory():
    t = ember.zeros(3)
    n = t.numpy()
    n[1] = 4.0
    assert t[1].item() == 4.0


def test_default_dtype():
    same(lambda T: (T.get_default_dtype(), T.tensor([1.5]).dtype, T.zeros(1).dtype, T.arange(1.0).dtype))
    ember.set_default_dtype(ember.float64)
    try:
        assert ember.tensor([1.5]).dtype is ember.float64
        assert ember.zeros(1).dtype is ember.float64
        assert ember.tensor([1]).dtype is ember.int64
    finally:
        ember.set_default_dtype(ember.float32)
    with pytest.raises(TypeError):
        ember.set_default_dtype(ember.int64)


# -- dtypes and legacy types -------------------------------------------------------------------------------
def test_dtype_aliases():
    same(lambda T: (T.float, T.double, T.long, T.int, T.half, T.short, T.bool, T.uint8, T.int8))
    assert ember.float is ember.float32 and ember.long is ember.int64 and ember.double is ember.float64
    assert ember.half is ember.float16 and ember.int is ember.int32 and ember.short is ember.int16
    for name in ["float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8", "bool"]:
        d = getattr(ember, name)
        assert repr(d) == f"torch.{name}"
        if torch is not None:
            td = getattr(torch, name)
            assert (d.is_floating_point, d.is_signed, d.itemsize) == (
                td.is_floating_point,
                td.is_signed,
                td.itemsize,
            )
    assert pickle.loads(pickle.dumps(ember.float64)) is ember.float64


def test_legacy_type_strings():
    same(
        lambda T: (
            T.ones(2).type(),
            T.ones(2, dtype=T.int64).type(),
            T.ones(1, dtype=T.bool).type(),
            T.ones(1, dtype=T.float64).type(),
            T.ones(1, dtype=T.uint8).type(),
            T.ones(1, dtype=T.int8).type(),
            T.ones(1, dtype=T.int16).type(),
            T.ones(1, dtype=T.int32).type(),
            T.ones(1, dtype=T.float16).type(),
        )
    )


@pytest.mark.parametrize(
    "target",
    [lambda T: T.FloatTensor, lambda T: "torch.DoubleTensor", lambda T: T.float16, lambda T: T.LongTensor],
)
def test_type_conversion(target):
    same(lambda T: T.tensor([1.5, 2]).type(target(T)))


def test_legacy_isinstance():
    same(
        lambda T: (
            isinstance(T.ones(2), T.FloatTensor),
            isinstance(T.ones(2), T.LongTensor),
            isinstance(T.ones(2, dtype=T.int64), T.LongTensor),
            isinstance(T.ones(2), T.Tensor),
        )
    )


# -- devices -----------------------------------------------------------------------------------------------
def test_device_parsing():
    same(lambda T: (T.device("cuda:0"), T.device("cuda", 1), T.device("cpu"), T.device("cuda")))
    same(
        lambda T: (
            T.device("cuda:0").type,
            T.device("cuda:0").index,
            T.device("cpu").index,
            str(T.device("cuda:1")),
        )
    )
    same(lambda T: T.device("cpu") == T.device("cpu"))
    same(lambda T: T.ones(2).device)
    assert ember.device(ember.device("cpu")) == ember.device("cpu")
    assert {ember.device("cuda:0"): 1}[ember.device("cuda", 0)] == 1


def test_cuda_without_gpu():
    if ember.cuda.is_available():
        pytest.skip("a GPU is available here")
    assert ember.cuda.is_available() is False
    assert ember.cuda.device_count() == 0
    for fn in [
        lambda: ember.zeros(2, device="cuda"),
        lambda: ember.tensor([1.0], device=ember.device("cuda:0")),
        lambda: ember.ones(2).to("cuda"),
        lambda: ember.ones(2).cuda(),
        lambda: ember.ones(2).to(ember.device("cuda:0")),
        lambda: ember.randn(2, device="cuda"),
    ]:
        with pytest.raises(RuntimeError, match=r"(?i)cuda|gpu"):
            fn()


def test_cpu_device_and_to_cpu_are_noops():
    x = ember.ones(2)
    assert x.cpu() is x
    assert x.to("cpu") is x
    assert x.to(ember.device("cpu")) is x
    assert x.device == ember.device("cpu") and x.is_cpu and not x.is_cuda and x.get_device() == -1


# -- conversion --------------------------------------------------------------------------------------------
def _to_same(T, x):
    return x.to(T.float32) is x, x.to(T.float32, copy=True) is x


def _clone_pair(x):
    return x.clone(), x.clone().data_ptr() != x.data_ptr()


CONVERSION = {
    "item": lambda T: (
        T.tensor(2.5).item(),
        T.tensor([3]).item(),
        T.tensor(True).item(),
        type(T.tensor(2).item()).__name__,
    ),
    "item_float32": lambda T: T.tensor(0.1).item(),
    "item_multi": lambda T: T.tensor([1.0, 2.0]).item(),
    "tolist": lambda T: (T.tensor([[1.5, 2]]).tolist(), T.tensor(3).tolist(), T.tensor([True]).tolist()),
    "tolist_float32": lambda T: T.tensor([0.1, 1 / 3]).tolist(),
    "float_int_bool": lambda T: (
        float(T.tensor(2.5)),
        int(T.tensor(3.7)),
        bool(T.tensor(0.0)),
        int(T.tensor(-3.7)),
    ),
    "index_dunder": lambda T: [0, 1, 2][T.tensor(1)],
    "index_float": lambda T: [0, 1, 2][T.tensor(1.0)],
    "bool_many": lambda T: bool(T.ones(2)),
    "bool_empty": lambda T: bool(T.ones(0)),
    "len_0d": lambda T: len(T.tensor(1.0)),
    "iter": lambda T: list(T.tensor([[1, 2], [3, 4]])),
    "iter_0d": lambda T: list(T.tensor(1.0)),
    "contains": lambda T: (2 in T.tensor([1, 2]), 5 in T.tensor([1, 2])),
    "format": lambda T: (f"{T.tensor(2.5):.2f}", f"{T.tensor([1.0])}"),
    "to_dtype": lambda T: T.ones(2).to(T.int32),
    "to_other": lambda T: T.ones(2).to(T.zeros(1, dtype=T.float64)),
    "to_kwargs": lambda T: T.ones(2).to(device="cpu", dtype=T.float64),
    "to_same_is_self": lambda T: _to_same(T, T.ones(2)),
    "long": lambda T: T.tensor([1.7, -1.7]).long(),
    "int": lambda T: T.tensor([1.7, -1.7]).int(),
    "bool": lambda T: T.tensor([1.7, 0]).bool(),
    "half": lambda T: T.tensor([1.7]).half(),
    "double": lambda T: T.tensor([1, 2]).double(),
    "float_from_bool": lambda T: T.tensor([True, False]).float(),
    "byte_wraps": lambda T: T.tensor([300, -1]).byte(),
    "float_to_uint8": lambda T: T.tensor([3.9, 250.5]).to(T.uint8),
    "clone": lambda T: _clone_pair(T.ones(2)),
    "clone_rg": lambda T: T.ones(2, requires_grad=True).clone(),
    "numel_dims": lambda T: (
        T.ones(2, 3).numel(),
        T.ones(2, 3).dim(),
        T.ones(2, 3).ndim,
        T.ones(2, 3).size(),
        T.ones(2, 3).size(1),
        T.ones(2, 3).size(-1),
        len(T.ones(2, 3)),
        T.ones(2, 3).nelement(),
    ),
    "element_size": lambda T: (
        T.ones(2).element_size(),
        T.ones(2, dtype=T.float64).element_size(),
        T.ones(3).nbytes,
    ),
    "size_object": lambda T: (
        T.Size([2, 3]),
        T.Size([2, 3]).numel(),
        T.ones(2, 3).shape[1:],
        T.ones(2, 3).shape == (2, 3),
    ),
    "size_repr": lambda T: (repr(T.ones(2, 3).shape), repr(T.Size([])), str(T.ones(0).shape)),
    "numpy_dtype": lambda T: T.ones(2, dtype=T.int32).numpy().dtype.name,
    "numpy_rg": lambda T: T.ones(2, requires_grad=True).numpy(),
    "is_floating_point": lambda T: (
        T.ones(1).is_floating_point(),
        T.ones(1, dtype=T.int64).is_floating_point(),
        T.is_floating_point(T.ones(1)),
        T.is_tensor(T.ones(1)),
        T.is_tensor(1),
    ),
    "numel_fn": lambda T: T.numel(T.ones(2, 5)),
}


@pytest.mark.parametrize("name", list(CONVERSION))
def test_conversion_matches_torch(name):
    same(CONVERSION[name])


# -- views share storage -----------------------------------------------------------------------------------
VIEWS = {
    "view": lambda x: x.view(3, 4),
    "view_flat": lambda x: x.view(-1),
    "reshape_contig": lambda x: x.reshape(2, 6),
    "t": lambda x: x.t(),
    "transpose": lambda x: x.transpose(0, 1),
    "permute": lambda x: x.permute(1, 0),
    "T": lambda x: x.T,
    "unsqueeze": lambda x: x.unsqueeze(1),
    "squeeze": lambda x: x.unsqueeze(0).squeeze(0),
    "slice": lambda x: x[1:, ::2],
    "slice_neg_stop": lambda x: x[:-1],
    "select": lambda x: x[2],
    "select_fn": lambda x: x.select(1, 3),
    "narrow": lambda x: x.narrow(1, 1, 2),
    "expand": lambda x: x[:, :1].expand(4, 3),
    "diagonal": lambda x: x.diagonal(),
    "split": lambda x: x.split(2)[1],
    "chunk": lambda x: x.chunk(2, 1)[0],
    "unbind": lambda x: x.unbind(1)[2],
    "flatten_contig": lambda x: x.flatten(),
    "view_as": lambda x: x.view_as(x.new_zeros(2, 6)),
    "ellipsis_none": lambda x: x[..., None],
    "unflatten": lambda x: x.unflatten(1, (3, 1)),
    "movedim": lambda x: x.movedim(0, 1),
    "alias_int_tensor": lambda x: x[ember.tensor(1) if isinstance(x, ember.Tensor) else torch.tensor(1)],
}


@pytest.mark.parametrize("name", list(VIEWS))
def test_views_share_storage_and_layout(name):
    def fn(T):
        base = T.arange(12.0).reshape(4, 3)
        v = VIEWS[name](base)
        layout = (
            tuple(v.shape),
            v.stride(),
            v.is_contiguous(),
            v.storage_offset(),
            v.data_ptr() - base.data_ptr(),
        )
        v.mul_(-1)  # writes through the view are seen by the base
        return layout, base, v._version == base._version, v._base is base or v._base is base._base

    same(fn)


def test_copies_do_not_share():
    def fn(T):
        base = T.arange(6.0).reshape(2, 3)
        outs = [
            base.t().reshape(-1),
            base.clone(),
            base.t().contiguous(),
            base[[0, 1]],
            base[base > 2],
            base.flip(0),
        ]
        for o in outs:
            o.fill_(0)
        return base

    same(fn)


@pytest.mark.parametrize(
    "make",
    [
        lambda T: T.ones(2, 3, 4),
        lambda T: T.ones(2, 3, 4).transpose(0, 2),
        lambda T: T.ones(2, 3, 4)[:, 1:, ::2],
        lambda T: T.ones(2, 3, 4).permute(2, 0, 1)[1],
        lambda T: T.ones(4, 1).expand(4, 5),
        lambda T: T.ones(3, 1, 2).squeeze(),
        lambda T: T.ones(6)[1::2],
        lambda T: T.ones(5, 5).narrow(0, 2, 2).narrow(1, 1, 3),
        lambda T: T.ones(1, 4).t(),
        lambda T: T.ones(0, 3),
        lambda T: T.tensor(3.0),
        lambda T: T.ones(4, 3)[:, 1],
    ],
)
def test_stride_contiguity_offset(make):
    def fn(T):
        v = make(T)
        return v.stride(), v.is_contiguous(), v.storage_offset(), tuple(v.shape)

    same(fn)


def test_contiguous_returns_self_when_contiguous():
    x = ember.ones(2, 3)
    assert x.contiguous() is x
    y = x.t().contiguous()
    assert y.is_contiguous() and y.data_ptr() != x.data_ptr()


def test_boolean_mask_write():
    """The seeds' ``grad_h[h < 0] = 0``."""

    def fn(T):
        h = T.tensor([[-1.0, 2.0, -3.0], [4.0, -5.0, 6.0]])
        grad_h = T.ones(2, 3) * 7
        grad_h[h < 0] = 0
        v = grad_h.clone()
        v[v > 5] = T.tensor(1.5)
        w = T.zeros(2, 3)
        w[:, 1] = T.tensor([8.0, 9.0])
        w[0] = 3
        w[1, [0, 2]] = -1.0
        return grad_h, v, w, grad_h._version

    same(fn)


def test_setitem_errors():
    same(lambda T: T.zeros(2, 3).__setitem__(0, T.ones(4)))
    same(lambda T: T.zeros(2).__setitem__(5, 1.0))


@pytest.mark.parametrize(
    "idx",
    [lambda T: 5, lambda T: (0, 7), lambda T: T.tensor([1.0]), lambda T: (0, 0, 0), lambda T: [3]],
)
def test_index_errors(idx):
    def fn(T):
        return T.zeros(2, 3)[idx(T)]

    e = same(fn)
    assert e[0] == "error"


def test_zero_dim_index_error():
    msg = (
        "invalid index of a 0-dim tensor. Use `tensor.item()` in Python or `tensor.item<T>()` in C++ "
        "to convert a 0-dim tensor to a number"
    )
    with pytest.raises(IndexError) as info:
        ember.tensor(1.0)[0]
    assert str(info.value).startswith(msg)  # ember may add a hint after PyTorch's message


def test_detach_shares_storage():
    def fn(T):
        base = T.arange(6.0, requires_grad=True)
        d = base.detach()
        d[0] = 5.0
        return base, d.requires_grad, d.data_ptr() == base.data_ptr(), d._version == base._version

    same(fn)


# -- repr, as the seeds print --------------------------------------------------------------------------------
REPRS = {
    "float_vector": lambda T: T.tensor([1.0, 2.5, -3.25]),
    "scalar_param": lambda T: T.tensor(0.5, requires_grad=True),
    "grad_fn": lambda T: T.tensor([1.0, 2.0], requires_grad=True) * 2,
    "int": lambda T: T.tensor([[1, 2], [3, 4]]),
    "double": lambda T: T.tensor([1.5], dtype=T.float64),
    "bool": lambda T: T.tensor([True, False]),
    "empty": lambda T: T.zeros(0, 3),
    "large": lambda T: T.arange(2000.0),
    "linspace": lambda T: T.linspace(-math.pi, math.pi, 2000),
    "sci": lambda T: T.tensor([1e-8, 1.0, 1e8]),
    "loss_item": lambda T: T.tensor(1234.5678),
    "half": lambda T: T.tensor([1.5, 2.0], dtype=T.float16),
    "int8": lambda T: T.tensor([1, -2], dtype=T.int8),
    "nan_inf": lambda T: T.tensor([float("nan"), float("inf"), -1.0]),
    "matrix": lambda T: T.arange(12.0).reshape(3, 4) / 7,
    "size": lambda T: T.ones(2, 3).size(),
    "dtype": lambda T: T.float32,
    "device": lambda T: T.device("cuda:0"),
}


@pytest.mark.parametrize("name", list(REPRS))
def test_repr_matches_torch(name):
    def fn(T):
        x = REPRS[name](T)
        return repr(x), str(x)

    same(fn)


def test_pickle_roundtrip():
    x = ember.tensor([[1.0, 2.0]], dtype=ember.float64)
    y = pickle.loads(pickle.dumps(x))
    assert y.dtype is ember.float64 and y.tolist() == [[1.0, 2.0]]
