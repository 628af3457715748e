"""Convolution, pooling, padding and resampling primitives (ember/ops/conv.py) against torch.

One table of cases drives: forward values and input/weight/bias gradients vs torch (float32 and
float64), the grad_fn name, gradcheck and gradgradcheck in float64, and double-backward parity.
"""

from __future__ import annotations

import time
import zlib

import numpy as np
import pytest

import ember
from ember.autograd import gradcheck, gradgradcheck
from ember.ops import conv as C

torch = pytest.importorskip("torch")
F = torch.nn.functional
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")

# name -> (fn(F, *inputs), input shapes, "distinct" to keep max-pool windows free of ties)
CASES = {
    "conv1d": (lambda F, x, w, b: F.conv1d(x, w, b, stride=2, padding=1), [(2, 3, 9), (4, 3, 3), (4,)]),
    "conv1d_same_dil": (lambda F, x, w: F.conv1d(x, w, padding="same", dilation=2), [(2, 3, 10), (5, 3, 4)]),
    "conv1d_valid": (lambda F, x, w: F.conv1d(x, w, padding="valid"), [(2, 3, 7), (2, 3, 2)]),
    "conv2d": (lambda F, x, w, b: F.conv2d(x, w, b, padding=1), [(2, 3, 6, 7), (4, 3, 3, 3), (4,)]),
    "conv2d_stride_dil_groups": (
        lambda F, x, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=(1, 2), dilation=(2, 1), groups=2),
        [(2, 4, 9, 8), (6, 2, 3, 2), (6,)],
    ),
    "conv2d_depthwise": (
        lambda F, x, w: F.conv2d(x, w, groups=4, stride=2, padding=1),
        [(2, 4, 7, 6), (8, 1, 3, 3)],
    ),
    "conv2d_1x1": (lambda F, x, w: F.conv2d(x, w), [(3, 5, 4, 4), (2, 5, 1, 1)]),
    "conv2d_same_even": (lambda F, x, w: F.conv2d(x, w, padding="same"), [(2, 3, 6, 5), (5, 3, 2, 4)]),
    "conv2d_unbatched": (lambda F, x, w: F.conv2d(x, w, padding=1), [(3, 5, 5), (2, 3, 3, 3)]),
    "conv3d": (
        lambda F, x, w, b: F.conv3d(x, w, b, stride=(1, 2, 1), padding=1),
        [(2, 2, 5, 6, 4), (3, 2, 3, 3, 2), (3,)],
    ),
    "conv_transpose1d": (
        lambda F, x, w: F.conv_transpose1d(x, w, stride=3, dilation=4, output_padding=3),
        [(2, 4, 5), (4, 2, 3)],
    ),
    "conv_transpose2d": (
        lambda F, x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1),
        [(2, 4, 5, 6), (4, 3, 3, 3), (3,)],
    ),
    "conv_transpose2d_groups": (
        lambda F, x, w: F.conv_transpose2d(
            x, w, stride=(2, 1), padding=(0, 1), output_padding=(1, 0), groups=2, dilation=(1, 2)
        ),
        [(2, 4, 5, 6), (4, 3, 3, 3)],
    ),
    "conv_transpose2d_stride1": (
        lambda F, x, w: F.conv_transpose2d(x, w, padding=1),
        [(2, 3, 4, 5), (3, 2, 3, 3)],
    ),
    "max_pool1d": (lambda F, x: F.max_pool1d(x, 3, 2, 1, ceil_mode=True), [(2, 3, 8)], "distinct"),
    "max_pool2d": (lambda F, x: F.max_pool2d(x, 2), [(2, 3, 6, 8)], "distinct"),
    "max_pool2d_pad_ceil_dil": (
        lambda F, x: F.max_pool2d(x, (3, 2), (2, 3), (1, 1), dilation=(2, 1), ceil_mode=True),
        [(2, 3, 9, 8)],
        "distinct",
    ),
    "max_pool2d_indices": (
        lambda F, x: F.max_pool2d(x, 3, 2, 1, return_indices=True),
        [(2, 3, 7, 7)],
        "distinct",
    ),
    "max_pool3d": (lambda F, x: F.max_pool3d(x, 2, padding=1), [(1, 2, 4, 5, 3)], "distinct"),
    "avg_pool1d": (lambda F, x: F.avg_pool1d(x, 3, 2, 1, ceil_mode=True), [(2, 3, 8)]),
    "avg_pool2d": (lambda F, x: F.avg_pool2d(x, 3, 2, 1), [(2, 3, 7, 8)]),
    "avg_pool2d_exclude_pad_ceil": (
        lambda F, x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
        [(2, 3, 8, 8)],
    ),
    "avg_pool2d_divisor": (
        lambda F, x: F.avg_pool2d(x, (2, 3), 1, (1, 1), divisor_override=5),
        [(2, 3, 5, 6)],
    ),
    "avg_pool3d": (lambda F, x: F.avg_pool3d(x, 2, stride=1), [(1, 2, 3, 4, 3)]),
    "adaptive_avg_pool1d": (lambda F, x: F.adaptive_avg_pool1d(x, 4), [(2, 3, 7)]),
    "adaptive_avg_pool2d": (lambda F, x: F.adaptive_avg_pool2d(x, (3, 5)), [(2, 3, 7, 8)]),
    "adaptive_avg_pool2d_global": (lambda F, x: F.adaptive_avg_pool2d(x, 1), [(2, 3, 5, 4)]),
    "adaptive_max_pool1d": (lambda F, x: F.adaptive_max_pool1d(x, 3), [(2, 3, 7)], "distinct"),
    "adaptive_max_pool2d": (
        lambda F, x: F.adaptive_max_pool2d(x, (3, 5), return_indices=True),
        [(2, 3, 7, 8)],
        "distinct",
    ),
    "unfold": (lambda F, x: F.unfold(x, (2, 3), dilation=(1, 2), padding=1, stride=(2, 1)), [(2, 3, 7, 8)]),
    "fold": (
        lambda F, x: F.fold(x, (5, 6), (2, 3), dilation=(1, 2), padding=1, stride=(2, 1)),
        [(2, 18, 12)],
    ),
    "pixel_shuffle": (lambda F, x: F.pixel_shuffle(x, 2), [(2, 8, 3, 4)]),
    "pixel_unshuffle": (lambda F, x: F.pixel_unshuffle(x, 2), [(2, 3, 4, 6)]),
    "interp_nearest_x2": (lambda F, x: F.interpolate(x, scale_factor=2), [(2, 3, 4, 5)]),
    "interp_nearest_1.7": (lambda F, x: F.interpolate(x, scale_factor=1.7), [(2, 3, 4, 5)]),
    "interp_nearest_size": (lambda F, x: F.interpolate(x, size=(7, 3)), [(2, 3, 4, 5)]),
    "interp_nearest_exact": (
        lambda F, x: F.interpolate(x, size=(7, 3), mode="nearest-exact"),
        [(2, 3, 4, 5)],
    ),
    "interp_nearest1d": (lambda F, x: F.interpolate(x, scale_factor=3), [(2, 3, 4)]),
    "interp_linear": (lambda F, x: F.interpolate(x, scale_factor=2.5, mode="linear"), [(2, 3, 5)]),
    "interp_bilinear": (lambda F, x: F.interpolate(x, size=(7, 9), mode="bilinear"), [(2, 3, 4, 5)]),
    "interp_bilinear_down": (
        lambda F, x: F.interpolate(x, scale_factor=0.6, mode="bilinear"),
        [(2, 3, 8, 7)],
    ),
    "interp_bilinear_align": (
        lambda F, x: F.interpolate(x, scale_factor=1.5, mode="bilinear", align_corners=True),
        [(2, 3, 4, 5)],
    ),
    "interp_trilinear": (lambda F, x: F.interpolate(x, size=(3, 5, 4), mode="trilinear"), [(1, 2, 2, 3, 3)]),
    "interp_area": (lambda F, x: F.interpolate(x, size=(3, 2), mode="area"), [(2, 3, 7, 5)]),
}
for _mode in ("reflect", "replicate", "circular", "constant"):
    CASES[f"pad1d_{_mode}"] = (lambda F, x, m=_mode: F.pad(x, (2, 1), mode=m), [(2, 3, 5)])
    CASES[f"pad2d_{_mode}"] = (lambda F, x, m=_mode: F.pad(x, (2, 1, 0, 3), mode=m), [(2, 3, 5, 4)])
    CASES[f"pad3d_{_mode}"] = (lambda F, x, m=_mode: F.pad(x, (1, 1, 0, 2, 1, 0), mode=m), [(1, 2, 3, 4, 3)])
CASES["pad2d_reflect_unbatched_negative"] = (
    lambda F, x: F.pad(x, (-1, 2, 1, -1), mode="reflect"),
    [(3, 5, 4)],
)

# ops whose graph ends in a squeeze/mean/view in torch as well: only the first output's name is compared
TOL = {"float32": dict(rtol=2e-5, atol=2e-5), "float64": dict(rtol=1e-10, atol=1e-10)}


def _inputs(case, rng):
    shapes = case[1]
    if len(case) > 2 and case[2] == "distinct":  # well-separated values: no ties for max to break
        arrs = [rng.permutation(int(np.prod(s))).reshape(s) * 0.1 + rng.uniform(0, 0.01, s) for s in shapes]
    else:
        arrs = [rng.standard_normal(s) for s in shapes]
    return arrs


def _first(y):
    return y[0] if isinstance(y, tuple) else y


def _run(lib, fns, arrs, dtype):
    ts = [lib.tensor(a, dtype=getattr(lib, dtype), requires_grad=True) for a in arrs]
    return ts, fns(lib.nn.functional if lib is torch else C, *ts)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", list(CASES))
def test_matches_torch(name, dtype):
    case = CASES[name]
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    arrs = _inputs(case, rng)
    tin, ty = _run(torch, case[0], arrs, dtype)
    ein, ey = _run(ember, case[0], arrs, dtype)
    tol = TOL[dtype]
    if isinstance(ty, tuple):  # (values, indices): the indices must be identical
        np.testing.assert_array_equal(ey[1].numpy(), ty[1].numpy())
        assert ey[1].dtype is ember.int64
    ty, ey = _first(ty), _first(ey)
    assert tuple(ey.shape) == tuple(ty.shape)
    assert ey.dtype is getattr(ember, dtype)
    np.testing.assert_allclose(ey.detach().numpy(), ty.detach().numpy(), **tol)
    assert type(ey.grad_fn).__name__ == type(ty.grad_fn).__name__
    g = rng.standard_normal(tuple(ty.shape))
    tg = torch.autograd.grad(ty, tin, torch.tensor(g, dtype=ty.dtype))
    eg = ember.autograd.grad(ey, ein, ember.tensor(g, dtype=ey.dtype))
    for a, b in zip(eg, tg):
        np.testing.assert_allclose(a.numpy(), b.numpy(), **tol)


GRADGRAD = [
    "conv1d",
    "conv2d_stride_dil_groups",
    "conv2d_same_even",
    "conv3d",
    "conv_transpose2d",
    "conv_transpose2d_groups",
    "max_pool2d_pad_ceil_dil",
    "avg_pool2d_exclude_pad_ceil",
    "adaptive_avg_pool2d",
    "adaptive_max_pool2d",
    "unfold",
    "fold",
    "pixel_shuffle",
    "interp_bilinear",
    "interp_nearest_1.7",
    "pad2d_reflect",
    "pad1d_circular",
]


@pytest.mark.parametrize("name", GRADGRAD)
def test_gradcheck_and_gradgradcheck(name):
    case = CASES[name]
    rng = np.random.default_rng(1)
    # tiny shapes: shrink the batch to 1 so the numerical Jacobians stay cheap
    arrs = [a[:1] if i == 0 and a.ndim > 2 else a for i, a in enumerate(_inputs(case, rng))]
    ins = [ember.tensor(a, dtype=ember.float64, requires_grad=True) for a in arrs]

    def fn(*xs):
        return _first(case[0](C, *xs))

    assert gradcheck(fn, ins)
    assert gradgradcheck(fn, ins)


@pytest.mark.parametrize(
    "name", ["conv2d", "conv2d_stride_dil_groups", "conv_transpose2d", "conv1d_same_dil", "max_pool2d"]
)
def test_double_backward_matches_torch(name):
    """grad of (sum of squared first-order grads) w.r.t. every input, vs torch; and the node names."""
    case = CASES[name]
    arrs = _inputs(case, np.random.default_rng(2))
    results, names = {}, {}
    for lib in (torch, ember):
        ins, y = _run(lib, case[0], arrs, "float64")
        grads = lib.autograd.grad((_first(y) ** 2).sum(), ins, create_graph=True)
        names[lib] = [type(g.grad_fn).__name__ for g in grads]
        total = sum((g * g).sum() for g in grads)
        results[lib] = [g.detach().numpy() for g in lib.autograd.grad(total, ins)]
    assert names[ember][0] == names[torch][0]
    for a, b in zip(results[ember], results[torch]):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9)


def test_max_pool_ties_and_nan_follow_torch():
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, 1, 1] = np.nan
    x[0, 0, 2, 3] = np.nan
    for arr in (np.ones((1, 1, 4, 4)), x):
        ty, ti = F.max_pool2d(torch.tensor(arr), 3, 1, 1, return_indices=True)
        ey, ei = C.max_pool2d(ember.tensor(arr), 3, 1, 1, return_indices=True)
        np.testing.assert_array_equal(ei.numpy(), ti.numpy())
        np.testing.assert_array_equal(ey.numpy(), ty.numpy())


@pytest.mark.parametrize(
    "call",
    [
        lambda F, T: F.conv2d(T.zeros(2, 5, 8, 8), T.zeros(4, 3, 3, 3)),
        lambda F, T: F.conv2d(T.zeros(2, 6, 8, 8), T.zeros(4, 3, 3, 3), groups=3),
        lambda F, T: F.conv2d(T.zeros(2, 3, 2, 2), T.zeros(4, 3, 3, 3)),
        lambda F, T: F.conv2d(T.zeros(2, 3, 8, 8), T.zeros(4, 3, 3, 3), T.zeros(3)),
        lambda F, T: F.conv2d(T.zeros(2, 3, 8, 8), T.zeros(4, 3, 3, 3), stride=2, padding="same"),
        lambda F, T: F.max_pool2d(T.zeros(1, 1, 4, 4), 3, padding=2),
        lambda F, T: F.pad(T.zeros(1, 1, 3), (3, 3), mode="reflect"),
        lambda F, T: F.pixel_shuffle(T.zeros(1, 5, 2, 2), 2),
    ],
)
def test_errors_match_torch(call):
    with pytest.raises(RuntimeError) as te:
        call(F, torch)
    with pytest.raises(RuntimeError) as ee:
        call(C, ember)
    assert str(ee.value) == str(te.value)


def test_conv_dtype_mismatch_message():
    with pytest.raises(
        RuntimeError, match=r"Input type \(torch.FloatTensor\) and weight type \(torch.DoubleTensor\)"
    ):
        C.conv2d(ember.zeros(1, 3, 5, 5), ember.zeros(2, 3, 3, 3, dtype=ember.float64))


def _best_ms(fns: dict, rounds: int = 8, reps: int = 5) -> dict:
    """Min wall time (ms) of each fn. Rounds alternate between the fns so that load spikes on a shared
    machine hit all alike; within a round each fn runs back to back, warm."""
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(rounds):
        for name, fn in fns.items():
            for _ in range(reps):
                t = time.perf_counter()
                fn()
                best[name] = min(best[name], time.perf_counter() - t)
    return {k: 1e3 * v for k, v in best.items()}


def test_speed_report(capsys):
    """conv2d forward and forward+backward vs torch (printed, not asserted: shared machines drift)."""
    rng = np.random.default_rng(0)
    lines = []
    for shape, c_out in (((64, 1, 8, 8), 16), ((64, 16, 8, 8), 32)):
        arrays = [
            rng.standard_normal(s).astype(np.float32) for s in (shape, (c_out, shape[1], 3, 3), (c_out,))
        ]
        fns = {}
        for lib, f in ((torch, F), (ember, C)):
            x, w, b = (lib.tensor(a, requires_grad=True) for a in arrays)
            fns[lib.__name__, "fwd"] = lambda f=f, x=x, w=w, b=b: f.conv2d(x, w, b, padding=1)
            fns[lib.__name__, "step"] = lambda f=f, x=x, w=w, b=b: (
                f.conv2d(x, w, b, padding=1).sum().backward()
            )
        for fn in fns.values():
            fn()
        t = _best_ms(fns)
        ef, tf, eb, tb = t["ember", "fwd"], t["torch", "fwd"], t["ember", "step"], t["torch", "step"]
        lines.append(
            f"conv2d {shape} -> {c_out} 3x3: forward ember {ef:.2f} ms / torch {tf:.2f} ms ({ef / tf:.1f}x); "
            f"forward+backward ember {eb:.2f} ms / torch {tb:.2f} ms ({eb / tb:.1f}x)"
        )
    with capsys.disabled():
        print("\n" + "\n".join(lines))
