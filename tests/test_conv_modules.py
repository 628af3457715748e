"""Image layers (conv, pooling, padding, resampling, instance norm) against torch.

One table drives, per layer: the repr, parameter names and shapes, state_dict keys, a fresh layer's
values after the same seed (bit for bit), then outputs and input/parameter gradients in float32 and
float64. A stride/padding/dilation/groups grid covers Conv1d/2d; the rest pins errors and extras.
"""

from __future__ import annotations

import itertools
import re
import warnings

import numpy as np
import pytest

import ember
from ember import nn

torch = pytest.importorskip("torch")


def f(*shape):
    return lambda r: r.standard_normal(shape)


def distinct(*shape):
    """Values without ties, so max pooling picks the same element in both libraries."""
    return lambda r: r.permutation(int(np.prod(shape))).reshape(shape) / 7.0 - 3.0


def pos(*shape):
    return lambda r: r.uniform(0.2, 2.0, size=shape)


LAYERS = [
    # convolutions
    (lambda T: T.nn.Conv1d(3, 4, 3), [f(2, 3, 9)]),
    (lambda T: T.nn.Conv1d(4, 6, 3, stride=2, padding=2, dilation=2, groups=2), [f(2, 4, 11)]),
    (lambda T: T.nn.Conv1d(3, 4, 4, padding="same", padding_mode="reflect"), [f(2, 3, 9)]),
    (lambda T: T.nn.Conv1d(3, 2, 3, padding=2, padding_mode="circular", bias=False), [f(2, 3, 7)]),
    (lambda T: T.nn.Conv1d(3, 4, 3, padding=1), [f(3, 8)]),  # unbatched
    (lambda T: T.nn.Conv2d(3, 4, 3), [f(2, 3, 7, 6)]),
    (lambda T: T.nn.Conv2d(4, 8, (3, 2), (2, 1), (1, 0), (1, 2), groups=4, bias=False), [f(2, 4, 9, 8)]),
    (lambda T: T.nn.Conv2d(3, 4, 4, padding="same"), [f(2, 3, 6, 7)]),
    (
        lambda T: T.nn.Conv2d(3, 4, (2, 3), padding="same", dilation=(2, 1), padding_mode="replicate"),
        [f(2, 3, 6, 5)],
    ),
    (lambda T: T.nn.Conv2d(3, 4, 3, padding="valid"), [f(2, 3, 5, 5)]),
    (lambda T: T.nn.Conv2d(2, 4, 3, padding=2, padding_mode="reflect"), [f(2, 2, 5, 6)]),
    (lambda T: T.nn.Conv2d(2, 4, 3, stride=2, padding=(1, 2), padding_mode="replicate"), [f(2, 2, 7, 6)]),
    (lambda T: T.nn.Conv2d(2, 2, 3, padding=1, padding_mode="circular"), [f(2, 2, 5, 4)]),
    (lambda T: T.nn.Conv2d(3, 6, 1), [f(3, 4, 4)]),  # unbatched
    (lambda T: T.nn.Conv3d(2, 3, 3, padding=1), [f(2, 2, 4, 5, 3)]),
    (
        lambda T: T.nn.Conv3d(2, 4, (2, 3, 2), (1, 2, 1), 1, groups=2, padding_mode="replicate"),
        [f(1, 2, 4, 5, 4)],
    ),
    (lambda T: T.nn.ConvTranspose1d(4, 2, 3, stride=2, padding=1, output_padding=1), [f(2, 4, 5)]),
    (lambda T: T.nn.ConvTranspose1d(2, 4, 2, stride=3, dilation=2, groups=2, bias=False), [f(2, 2, 4)]),
    (
        lambda T: T.nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2),
        [f(2, 4, 4, 5)],
    ),
    (
        lambda T: T.nn.ConvTranspose2d(3, 2, (3, 2), stride=(2, 3), dilation=(2, 1), bias=False),
        [f(2, 3, 3, 4)],
    ),
    (lambda T: T.nn.ConvTranspose2d(3, 2, 3, padding=1), [f(3, 4, 4)]),  # unbatched
    (lambda T: T.nn.ConvTranspose3d(2, 2, 2, stride=2), [f(1, 2, 2, 3, 2)]),
    (lambda T: T.nn.Unfold((2, 3), dilation=(1, 2), padding=1, stride=(2, 1)), [f(2, 3, 5, 6)]),
    (lambda T: T.nn.Fold((4, 5), 2), [f(2, 12, 12)]),
    (lambda T: T.nn.Fold(output_size=(5, 5), kernel_size=3, padding=1, stride=2), [f(2, 18, 9)]),
    # pooling
    (lambda T: T.nn.MaxPool1d(3, stride=2, padding=1), [distinct(2, 3, 9)]),
    (lambda T: T.nn.MaxPool1d(2, dilation=2, ceil_mode=True), [distinct(2, 3, 8)]),
    (lambda T: T.nn.MaxPool2d(2), [distinct(2, 3, 6, 6)]),
    (lambda T: T.nn.MaxPool2d(3, 2, 1, ceil_mode=True), [distinct(2, 2, 8, 7)]),
    (lambda T: T.nn.MaxPool2d((2, 3), stride=(1, 2), dilation=(2, 1)), [distinct(1, 2, 7, 8)]),
    (lambda T: T.nn.MaxPool2d(2, return_indices=True), [distinct(2, 3, 5, 4)]),
    (lambda T: T.nn.MaxPool3d(2, padding=1), [distinct(1, 2, 3, 4, 5)]),
    (lambda T: T.nn.AvgPool1d(3, 2, 1), [f(2, 3, 9)]),
    (lambda T: T.nn.AvgPool1d(4, ceil_mode=True, count_include_pad=False), [f(2, 3, 9)]),
    (lambda T: T.nn.AvgPool2d(2), [f(2, 3, 6, 6)]),
    (lambda T: T.nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False), [f(2, 2, 8, 7)]),
    (lambda T: T.nn.AvgPool2d((2, 3), divisor_override=4), [f(2, 2, 6, 6)]),
    (lambda T: T.nn.AvgPool3d(2, stride=1), [f(1, 2, 3, 4, 3)]),
    (lambda T: T.nn.AdaptiveAvgPool1d(4), [f(2, 3, 10)]),
    (lambda T: T.nn.AdaptiveAvgPool2d((3, None)), [f(2, 3, 7, 5)]),
    (lambda T: T.nn.AdaptiveAvgPool2d(1), [f(2, 3, 5, 5)]),
    (lambda T: T.nn.AdaptiveAvgPool3d((2, 3, 1)), [f(1, 2, 5, 6, 3)]),
    (lambda T: T.nn.AdaptiveMaxPool1d(3), [distinct(2, 3, 8)]),
    (lambda T: T.nn.AdaptiveMaxPool2d((2, 3)), [distinct(2, 3, 7, 5)]),
    (lambda T: T.nn.AdaptiveMaxPool2d(3, return_indices=True), [distinct(1, 2, 7, 7)]),
    (lambda T: T.nn.LPPool1d(2, 3, stride=2), [f(2, 3, 9)]),
    (lambda T: T.nn.LPPool2d(3, 2), [pos(2, 3, 6, 5)]),
    # padding
    (lambda T: T.nn.ZeroPad1d((2, 1)), [f(2, 3, 4)]),
    (lambda T: T.nn.ZeroPad2d((1, 2, 0, 1)), [f(2, 3, 4, 4)]),
    (lambda T: T.nn.ZeroPad2d(2), [f(3, 4, 4)]),
    (lambda T: T.nn.ConstantPad1d(2, 3.5), [f(2, 3, 4)]),
    (lambda T: T.nn.ConstantPad2d((1, 0, 2, 1), -1.0), [f(2, 3, 4, 4)]),
    (lambda T: T.nn.ConstantPad3d(1, 0.5), [f(1, 2, 2, 3, 2)]),
    (lambda T: T.nn.ReflectionPad1d((2, 1)), [f(2, 3, 5)]),
    (lambda T: T.nn.ReflectionPad2d(1), [f(2, 3, 4, 4)]),
    (lambda T: T.nn.ReflectionPad2d((2, 0, 1, 3)), [f(3, 5, 4)]),
    (lambda T: T.nn.ReflectionPad3d(1), [f(1, 2, 3, 3, 3)]),
    (lambda T: T.nn.ReplicationPad1d(2), [f(2, 3, 4)]),
    (lambda T: T.nn.ReplicationPad2d((1, 2, 3, 0)), [f(2, 3, 4, 4)]),
    (lambda T: T.nn.ReplicationPad3d((1, 0, 0, 1, 2, 1)), [f(1, 2, 2, 3, 2)]),
    (lambda T: T.nn.CircularPad1d(1), [f(2, 3, 4)]),
    (lambda T: T.nn.CircularPad2d((1, 2, 2, 1)), [f(2, 3, 4, 4)]),
    # resampling
    (lambda T: T.nn.Upsample(scale_factor=2), [f(2, 3, 3, 4)]),
    (lambda T: T.nn.Upsample(size=(5, 7), mode="bilinear"), [f(2, 3, 3, 4)]),
    (lambda T: T.nn.Upsample(scale_factor=1.5, mode="bilinear", align_corners=True), [f(1, 2, 4, 4)]),
    (lambda T: T.nn.Upsample(scale_factor=(2, 3), mode="nearest"), [f(1, 2, 3, 2)]),
    (lambda T: T.nn.Upsample(scale_factor=2, mode="linear"), [f(2, 3, 5)]),
    (lambda T: T.nn.Upsample(size=7, mode="nearest-exact"), [f(2, 3, 5)]),
    (lambda T: T.nn.UpsamplingNearest2d(scale_factor=3), [f(1, 2, 2, 3)]),
    (lambda T: T.nn.UpsamplingBilinear2d(size=(4, 6)), [f(1, 2, 2, 3)]),
    (lambda T: T.nn.PixelShuffle(2), [f(2, 8, 3, 4)]),
    (lambda T: T.nn.PixelUnshuffle(2), [f(2, 2, 4, 6)]),
    # normalisation
    (lambda T: T.nn.InstanceNorm1d(3), [f(4, 3, 6)]),
    (lambda T: T.nn.InstanceNorm1d(3, affine=True), [f(3, 6)]),  # unbatched
    (lambda T: T.nn.InstanceNorm2d(3, affine=True), [f(2, 3, 4, 5)]),
    (lambda T: T.nn.InstanceNorm2d(3, momentum=0.3, track_running_stats=True), [f(2, 3, 4, 5)]),
    (lambda T: T.nn.InstanceNorm3d(2, affine=True, eps=1e-3), [f(2, 2, 3, 2, 3)]),
    (lambda T: T.nn.LocalResponseNorm(3), [f(2, 5, 4, 4)]),
    (lambda T: T.nn.LocalResponseNorm(2, alpha=0.1, beta=0.5, k=2.0), [f(2, 4, 6)]),
    (lambda T: T.nn.LocalResponseNorm(4), [f(1, 6, 2, 3, 2)]),
]


def _ids():
    return [f"{k}" for k in range(len(LAYERS))]


def _tensor(T, a, dtype):
    return T.tensor(a.astype(dtype)).requires_grad_(True)


def _flat(out):
    return out if isinstance(out, tuple) else (out,)


@pytest.mark.parametrize("k", range(len(LAYERS)), ids=_ids())
def test_layer_structure_and_fresh_init_match_torch(k):
    builder, _ = LAYERS[k]
    torch.manual_seed(k)
    tm = builder(torch)
    ember.manual_seed(k)
    em = builder(ember)
    assert repr(em) == repr(tm)
    assert list(em.state_dict()) == list(tm.state_dict())
    for (en, ep), (tn, tp) in zip(em.named_parameters(), tm.named_parameters(), strict=True):
        assert en == tn and tuple(ep.shape) == tuple(tp.shape) and ep.requires_grad
        # same seed, same draws in the same order: bit-identical initial values
        np.testing.assert_array_equal(ep.detach().numpy(), tp.detach().numpy(), err_msg=en)
    for (en, eb), (tn, tb) in zip(em.named_buffers(), tm.named_buffers(), strict=True):
        assert en == tn
        np.testing.assert_array_equal(eb.numpy(), tb.numpy())


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("k", range(len(LAYERS)), ids=_ids())
def test_layer_matches_torch(k, dtype):
    builder, makers = LAYERS[k]
    rng = np.random.default_rng(k)
    arrays = [np.asarray(m(rng)) for m in makers]
    torch.manual_seed(k)
    tm = builder(torch)
    em = builder(ember)
    em.load_state_dict({key: ember.tensor(v.detach().numpy().copy()) for key, v in tm.state_dict().items()})
    if dtype == "float64":
        tm, em = tm.double(), em.double()
    tin = [_tensor(torch, a, dtype) for a in arrays]
    ein = [_tensor(ember, a, dtype) for a in arrays]
    rtol, atol = (3e-5, 2e-5) if dtype == "float32" else (1e-10, 1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        touts, eouts = _flat(tm(*tin)), _flat(em(*ein))
    assert len(touts) == len(eouts)
    for e, t in zip(eouts, touts, strict=True):
        assert e.dtype.name == str(t.dtype).removeprefix("torch.") and tuple(e.shape) == tuple(t.shape)
        np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=rtol, atol=atol)
    w = rng.standard_normal(tuple(touts[0].shape)).astype(dtype)
    (touts[0] * torch.tensor(w)).sum().backward()
    (eouts[0] * ember.tensor(w)).sum().backward()
    pairs = list(zip(ein, tin, strict=True)) + list(zip(em.parameters(), tm.parameters(), strict=True))
    for e, t in pairs:
        np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), rtol=rtol, atol=atol)
    for (name, eb), (_, tb) in zip(em.named_buffers(), tm.named_buffers(), strict=True):
        np.testing.assert_allclose(eb.numpy(), tb.numpy(), rtol=rtol, atol=atol, err_msg=name)


# stride, padding, dilation, groups ('same' needs stride 1: test_errors_match_torch pins the error)
GRID = [g for g in itertools.product([1, 2], [0, 1, "same"], [1, 2], [1, 2]) if g[1] != "same" or g[0] == 1]


@pytest.mark.parametrize("d", [1, 2])
@pytest.mark.parametrize(("stride", "padding", "dilation", "groups"), GRID)
def test_conv_grid_matches_torch(d, stride, padding, dilation, groups):
    rng = np.random.default_rng(7)
    shape = (2, 4) + (9,) * d
    x = rng.standard_normal(shape)
    mods = []
    for T in (torch, ember):
        T.manual_seed(3)
        conv = (T.nn.Conv1d, T.nn.Conv2d)[d - 1]
        mods.append(conv(4, 6, 3, stride, padding, dilation, groups, dtype=T.float64))
    tm, em = mods
    tx, ex = torch.tensor(x, requires_grad=True), ember.tensor(x, requires_grad=True)
    ty, ey = tm(tx), em(ex)
    np.testing.assert_allclose(ey.detach().numpy(), ty.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = rng.standard_normal(tuple(ty.shape))
    ty.backward(torch.tensor(g))
    ey.backward(ember.tensor(g))
    for e, t in [(ex, tx), (em.weight, tm.weight), (em.bias, tm.bias)]:
        np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-12)


def _message(fn):
    try:
        fn()
    except (ValueError, RuntimeError) as exc:
        # a set in a message prints in hash order, which varies between processes: sort it
        text = re.sub(
            r"\{([^{}]*)\}", lambda m: "{" + ", ".join(sorted(m.group(1).split(", "))) + "}", str(exc)
        )
        return type(exc).__name__, text
    return None


@pytest.mark.parametrize(
    "build",
    [
        lambda T: T.nn.Conv2d(3, 4, 3, groups=2),
        lambda T: T.nn.Conv2d(4, 3, 3, groups=2),
        lambda T: T.nn.Conv2d(4, 4, 3, groups=0),
        lambda T: T.nn.Conv2d(3, 4, 3, padding="full"),
        lambda T: T.nn.Conv2d(3, 4, 3, stride=2, padding="same"),
        lambda T: T.nn.Conv1d(3, 4, 3, padding_mode="mirror"),
        lambda T: T.nn.ConvTranspose2d(3, 4, 3, padding_mode="reflect"),
        lambda T: T.nn.InstanceNorm2d(3, affine=True)(T.ones(2, 4, 3, 3)),
        lambda T: T.nn.InstanceNorm1d(3)(T.ones(2, 3, 1)),
        lambda T: T.nn.InstanceNorm2d(3)(T.ones(3, 3)),
        lambda T: T.nn.CircularPad2d(1)(T.ones(3, 3)),
        lambda T: T.nn.ConvTranspose2d(2, 2, 3, stride=2)(T.ones(1, 2, 4, 4), output_size=(12, 12)),
        lambda T: T.nn.ConvTranspose2d(2, 2, 3, stride=2)(T.ones(1, 2, 4, 4), output_size=(9,)),
        lambda T: T.nn.LocalResponseNorm(2)(T.ones(2, 3)),
    ],
)
def test_errors_match_torch(build):
    expected = _message(lambda: build(torch))
    assert expected is not None
    assert _message(lambda: build(ember)) == expected


def test_conv_transpose_output_size_matches_torch():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 4, 5, 6)).astype("float32")
    for size in ([9, 11], [10, 12], [2, 3, 10, 11]):
        outs = []
        for T in (torch, ember):
            T.manual_seed(0)
            m = T.nn.ConvTranspose2d(4, 3, 3, stride=2, padding=1)
            outs.append(m(T.tensor(x), output_size=size).detach().numpy())
        assert outs[0].shape == outs[1].shape
        np.testing.assert_allclose(outs[1], outs[0], rtol=1e-5, atol=1e-6)


def test_max_unpool_inverts_max_pool_like_torch():
    rng = np.random.default_rng(1)
    x = (rng.permutation(2 * 3 * 6 * 5).reshape(2, 3, 6, 5) / 10.0).astype("float32")
    x1 = x.reshape(2, 3, 30)
    outs = []
    for T in (torch, ember):
        y, idx = T.nn.MaxPool2d(2, return_indices=True)(T.tensor(x))
        y = y.detach().requires_grad_(True)
        up = T.nn.MaxUnpool2d(2)(y, idx, output_size=[6, 5])
        up.pow(2).sum().backward()
        y1, idx1 = T.nn.MaxPool1d(3, stride=2, return_indices=True)(T.tensor(x1))
        up1 = T.nn.MaxUnpool1d(3, stride=2)(y1, idx1)
        outs.append((up.detach().numpy(), y.grad.numpy(), up1.numpy(), repr(T.nn.MaxUnpool2d(2, 1))))
    for a, b in zip(*outs, strict=True):
        if isinstance(a, str):
            assert a == b
        else:
            np.testing.assert_array_equal(a, b)


def test_instance_norm_eval_uses_running_stats():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 2, 5, 4)).astype("float32")
    outs = []
    for T in (torch, ember):
        m = T.nn.InstanceNorm2d(2, track_running_stats=True)
        m(T.tensor(x))
        m(T.tensor(x * 2 + 1))
        m.eval()
        outs.append((m(T.tensor(x)).numpy(), m.running_mean.numpy(), m.running_var.numpy()))
        assert int(m.num_batches_tracked) == 0  # instance norm never counts batches
    for a, b in zip(*outs, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_image_cnn_state_dict_round_trip_with_torch():
    """A small CNN: identical fresh weights after one seed, state_dicts exchangeable both ways."""

    def build(T):
        T.manual_seed(0)
        return T.nn.Sequential(
            T.nn.Conv2d(1, 4, 3, padding=1), T.nn.ReLU(), T.nn.MaxPool2d(2), T.nn.Conv2d(4, 8, 3),
            T.nn.InstanceNorm2d(8, affine=True), T.nn.AdaptiveAvgPool2d(1), T.nn.Flatten(), T.nn.Linear(8, 3),
        )  # fmt: skip

    tm, em = build(torch), build(ember)
    assert repr(em) == repr(tm)
    x = np.random.default_rng(0).standard_normal((2, 1, 8, 8)).astype("float32")
    np.testing.assert_allclose(
        em(ember.tensor(x)).detach().numpy(), tm(torch.tensor(x)).detach().numpy(), atol=1e-6
    )
    other = build(ember)
    for p in other.parameters():
        p.data.zero_()
    other.load_state_dict({k: ember.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    for a, b in zip(other.parameters(), tm.parameters(), strict=True):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


def test_module_dtype_argument_and_functional_aliases():
    torch.manual_seed(5)
    t = torch.nn.Conv2d(2, 3, 3, dtype=torch.float64)
    ember.manual_seed(5)
    e = nn.Conv2d(2, 3, 3, dtype=ember.float64)
    assert e.weight.dtype is ember.float64
    np.testing.assert_array_equal(e.weight.detach().numpy(), t.weight.detach().numpy())
    F = nn.functional
    for name in ("conv2d", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "interpolate", "pixel_shuffle",
                 "unfold", "fold", "instance_norm", "local_response_norm", "dropout2d", "pad"):  # fmt: skip
        assert callable(getattr(F, name)) and name in dir(torch.nn.functional)
