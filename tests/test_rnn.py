"""Recurrent layers, cells and the packing utilities against torch: outputs, final states and the
gradients of inputs, initial states and every parameter, in float32 and float64."""

from __future__ import annotations

import contextlib
import time
import warnings

import numpy as np
import pytest

import ember
from ember import nn
from ember.nn.utils import rnn as rnn_utils

torch = pytest.importorskip("torch")

TOL = {"float32": dict(rtol=2e-5, atol=2e-6), "float64": dict(rtol=1e-10, atol=1e-12)}
MODES = [("RNN", {}), ("RNN", {"nonlinearity": "relu"}), ("LSTM", {}), ("GRU", {})]


# -- helpers ---------------------------------------------------------------------------------------
def pair(name: str, *args, dtype: str = "float64", **kwargs):
    """The torch module and an ember twin holding the same parameters."""
    tm = getattr(torch.nn, name)(*args, **kwargs).to(getattr(torch, dtype))
    em = getattr(nn, name)(*args, **kwargs).to(getattr(ember, dtype))
    assert list(em.state_dict()) == list(tm.state_dict())
    em.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    return tm, em


def leaves(arrays: list[np.ndarray | None]):
    """The same values as torch and ember leaves that require grad (None stays None)."""
    t = [None if a is None else torch.tensor(a, requires_grad=True) for a in arrays]
    e = [None if a is None else ember.tensor(a, requires_grad=True) for a in arrays]
    return t, e


def close(e, t, dtype: str = "float64", what: str = "") -> None:
    np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), err_msg=what, **TOL[dtype])


def flat(out) -> list:
    """A module result as a flat list of tensors (PackedSequence contributes its data)."""
    if isinstance(out, (tuple, list)) and not hasattr(out, "batch_sizes"):
        return [x for o in out for x in flat(o)]
    return [out.data if hasattr(out, "batch_sizes") else out]


def loss(outs: list):
    """A scalar that weights every element differently, so every gradient is exercised."""
    total = 0
    for k, o in enumerate(outs):
        w = np.linspace(-1.0, 1.5, o.numel()).reshape(tuple(o.shape)) * (k + 1)
        lib = torch if isinstance(o, torch.Tensor) else ember
        total = total + (o * lib.tensor(w, dtype=o.dtype)).sum() + (o * o).sum() * 0.1
    return total


def check(tm, em, t_in, e_in, dtype="float64", t_leaves=(), e_leaves=()) -> None:
    """Forward both, compare every output, backward a shared loss, compare every gradient."""
    t_out, e_out = tm(*t_in), em(*e_in)
    t_flat, e_flat = flat(t_out), flat(e_out)
    assert len(t_flat) == len(e_flat)
    for k, (a, b) in enumerate(zip(e_flat, t_flat, strict=True)):
        assert tuple(a.shape) == tuple(b.shape), f"output {k}"
        close(a, b, dtype, f"output {k}")
    loss(t_flat).backward()
    loss(e_flat).backward()
    for (name, tp), ep in zip(tm.named_parameters(), em.parameters(), strict=True):
        close(ep.grad, tp.grad, dtype, f"grad of {name}")
    for k, (a, b) in enumerate(zip(e_leaves, t_leaves, strict=True)):
        if a is not None:
            close(a.grad, b.grad, dtype, f"grad of input {k}")


# -- RNN / LSTM / GRU over a grid ------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("with_h0", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("mode", MODES, ids=["rnn_tanh", "rnn_relu", "lstm", "gru"])
def test_layer_grid(mode, num_layers, bidirectional, batch_first, with_h0, dtype):
    name, extra = mode
    rng = np.random.default_rng(0)
    tm, em = pair(
        name, 3, 4, num_layers, batch_first=batch_first, bidirectional=bidirectional, dtype=dtype, **extra
    )
    steps, batch = 5, 3
    x = rng.standard_normal((batch, steps, 3) if batch_first else (steps, batch, 3)).astype(dtype)
    n = num_layers * (2 if bidirectional else 1)
    states = [rng.standard_normal((n, batch, 4)).astype(dtype) for _ in range(2 if name == "LSTM" else 1)]
    t, e = leaves([x, *states] if with_h0 else [x])
    t_in, e_in = [t[0]], [e[0]]
    if with_h0:
        t_in.append(tuple(t[1:]) if name == "LSTM" else t[1])
        e_in.append(tuple(e[1:]) if name == "LSTM" else e[1])
    check(tm, em, t_in, e_in, dtype, t, e)


@pytest.mark.parametrize("mode", MODES, ids=["rnn_tanh", "rnn_relu", "lstm", "gru"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_unbatched_input(mode, batch_first):
    name, extra = mode
    rng = np.random.default_rng(1)
    tm, em = pair(name, 3, 4, 2, batch_first=batch_first, bidirectional=True, **extra)
    x = rng.standard_normal((5, 3))
    states = [rng.standard_normal((4, 4)) for _ in range(2 if name == "LSTM" else 1)]
    t, e = leaves([x, *states])
    check(tm, em, [t[0]], [e[0]], "float64", t[:1], e[:1])  # no initial state
    t, e = leaves([x, *states])
    t_h = tuple(t[1:]) if name == "LSTM" else t[1]
    e_h = tuple(e[1:]) if name == "LSTM" else e[1]
    tm.zero_grad()
    em.zero_grad()
    check(tm, em, [t[0], t_h], [e[0], e_h], "float64", t, e)


@pytest.mark.filterwarnings("ignore:LSTM with projections is not supported with oneDNN")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_lstm_proj_size(bidirectional, dtype):
    rng = np.random.default_rng(2)
    tm, em = pair("LSTM", 3, 5, 2, proj_size=2, bidirectional=bidirectional, dtype=dtype)
    n = 2 * (2 if bidirectional else 1)
    arrays = [rng.standard_normal(s).astype(dtype) for s in [(4, 3, 3), (n, 3, 2), (n, 3, 5)]]
    t, e = leaves(arrays)
    check(tm, em, [t[0], (t[1], t[2])], [e[0], (e[1], e[2])], dtype, t, e)


@pytest.mark.parametrize("mode", MODES, ids=["rnn_tanh", "rnn_relu", "lstm", "gru"])
def test_no_bias(mode):
    name, extra = mode
    tm, em = pair(name, 3, 4, 2, bias=False, bidirectional=True, **extra)
    t, e = leaves([np.random.default_rng(3).standard_normal((4, 2, 3))])
    check(tm, em, t, e, "float64", t, e)


# -- packed sequences ------------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore:LSTM with projections is not supported with oneDNN")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("enforce_sorted", [True, False])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize(
    "mode", MODES[1:] + [("LSTM", {"proj_size": 2})], ids=["rnn_relu", "lstm", "gru", "proj"]
)
def test_packed_input(mode, bidirectional, enforce_sorted, dtype):
    name, extra = mode
    rng = np.random.default_rng(4)
    tm, em = pair(name, 3, 4, 2, bidirectional=bidirectional, dtype=dtype, **extra)
    lengths = [5, 3, 3, 1] if enforce_sorted else [3, 5, 1, 3]
    x = rng.standard_normal((5, 4, 3)).astype(dtype)
    n, hout = 2 * (2 if bidirectional else 1), extra.get("proj_size", 4)
    states = [rng.standard_normal((n, 4, hout)).astype(dtype)]
    if name == "LSTM":
        states.append(rng.standard_normal((n, 4, 4)).astype(dtype))
    t, e = leaves([x, *states])
    tp = torch.nn.utils.rnn.pack_padded_sequence(t[0], lengths, enforce_sorted=enforce_sorted)
    ep = rnn_utils.pack_padded_sequence(e[0], lengths, enforce_sorted=enforce_sorted)
    np.testing.assert_array_equal(ep.batch_sizes.numpy(), tp.batch_sizes.numpy())
    t_h = tuple(t[1:]) if name == "LSTM" else t[1]
    e_h = tuple(e[1:]) if name == "LSTM" else e[1]
    check(tm, em, [tp, t_h], [ep, e_h], dtype, t, e)


@pytest.mark.parametrize("packed", [False, True])
@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_inference_without_graph(name, packed):
    """Under no_grad the layer keeps one step's buffers only; the numbers must not change."""
    tm, em = pair(name, 3, 4, 2, bidirectional=True)
    x = np.random.default_rng(9).standard_normal((5, 3, 3))
    t_in, e_in = torch.tensor(x), ember.tensor(x)
    if packed:
        t_in = torch.nn.utils.rnn.pack_padded_sequence(t_in, [5, 3, 2])
        e_in = rnn_utils.pack_padded_sequence(e_in, [5, 3, 2])
    with torch.no_grad():
        t_out = flat(tm(t_in))
    with ember.no_grad():
        e_out = flat(em(e_in))
    for a, b in zip(e_out, t_out, strict=True):
        assert not a.requires_grad
        close(a, b)


def test_packed_output_unpacks_like_torch():
    tm, em = pair("GRU", 2, 3, bidirectional=True)
    seqs = [np.random.default_rng(k).standard_normal((n, 2)) for k, n in enumerate([2, 4, 1])]
    t_out, t_h = tm(torch.nn.utils.rnn.pack_sequence([torch.tensor(s) for s in seqs], enforce_sorted=False))
    e_out, e_h = em(rnn_utils.pack_sequence([ember.tensor(s) for s in seqs], enforce_sorted=False))
    close(e_h, t_h)
    t_pad, t_len = torch.nn.utils.rnn.pad_packed_sequence(t_out, batch_first=True, total_length=6)
    e_pad, e_len = rnn_utils.pad_packed_sequence(e_out, batch_first=True, total_length=6)
    close(e_pad, t_pad)
    np.testing.assert_array_equal(e_len.numpy(), t_len.numpy())
    for a, b in zip(rnn_utils.unpack_sequence(e_out), torch.nn.utils.rnn.unpack_sequence(t_out), strict=True):
        close(a, b)


# -- dropout, double backward, cells, init --------------------------------------------------------------
@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_dropout_between_layers_matches_torch_and_is_off_in_eval(name):
    torch.manual_seed(0)
    tm = getattr(torch.nn, name)(3, 5, num_layers=3, dropout=0.5)
    ember.manual_seed(0)
    em = getattr(nn, name)(3, 5, num_layers=3, dropout=0.5)
    x = np.random.default_rng(5).standard_normal((4, 2, 3)).astype(np.float32)
    torch.manual_seed(1)
    ember.manual_seed(1)  # the same masks: ember's generator reproduces torch's
    close(em(ember.tensor(x))[0], tm(torch.tensor(x))[0], "float32")
    tm.eval()
    em.eval()
    close(em(ember.tensor(x))[0], tm(torch.tensor(x))[0], "float32")


def test_dropout_warns_for_a_single_layer():
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        nn.LSTM(3, 4, dropout=0.5)


@pytest.mark.parametrize("mode", MODES, ids=["rnn_tanh", "rnn_relu", "lstm", "gru"])
@pytest.mark.parametrize("packed", [False, True])
def test_double_backward(mode, packed):
    """create_graph through the fused layer: gradients of a gradient norm, against torch."""
    name, extra = mode
    tm, em = pair(name, 2, 3, 1, bidirectional=True, **extra)
    x = np.random.default_rng(6).standard_normal((4, 3, 2))
    results = []
    for lib, m in ((torch, tm), (ember, em)):
        xt = lib.tensor(x, requires_grad=True)
        inp = xt
        if packed:
            pack = torch.nn.utils.rnn.pack_padded_sequence if lib is torch else rnn_utils.pack_padded_sequence
            inp = pack(xt, [4, 2, 1])
        out, _ = m(inp)
        out = out.data if packed else out
        params = list(m.parameters())
        grads = lib.autograd.grad((out * out).sum() + out.sum(), [xt, *params], create_graph=True)
        sum(((g * g).sum() for g in grads), lib.zeros((), dtype=lib.float64)).backward()
        results.append([xt.grad, *[p.grad for p in params]])
    for k, (b, a) in enumerate(zip(*results, strict=True)):
        close(a, b, "float64", f"double-backward grad {k}")


def test_gradcheck_layers():
    for name in ("LSTM", "GRU"):
        em = getattr(nn, name)(2, 2, bidirectional=True).double()
        x = ember.randn(3, 2, 2, dtype=ember.float64, requires_grad=True)
        assert ember.autograd.gradcheck(lambda v, m=em: m(v)[0], (x,))
        assert ember.autograd.gradgradcheck(lambda v, m=em: m(v)[0], (x,))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("with_hx", [False, True])
@pytest.mark.parametrize("batched", [False, True])
@pytest.mark.parametrize("cell", [("RNNCell", {}), ("RNNCell", {"nonlinearity": "relu"}), ("LSTMCell", {}),
                                  ("GRUCell", {}), ("GRUCell", {"bias": False})])  # fmt: skip
def test_cells(cell, batched, with_hx, dtype):
    name, extra = cell
    rng = np.random.default_rng(7)
    tm, em = pair(name, 3, 4, dtype=dtype, **extra)
    lead = (2,) if batched else ()
    arrays = [rng.standard_normal((*lead, 3)).astype(dtype)]
    if with_hx:
        arrays += [
            rng.standard_normal((*lead, 4)).astype(dtype) for _ in range(2 if name == "LSTMCell" else 1)
        ]
    t, e = leaves(arrays)
    t_in, e_in = [t[0]], [e[0]]
    if with_hx:
        t_in.append(tuple(t[1:]) if name == "LSTMCell" else t[1])
        e_in.append(tuple(e[1:]) if name == "LSTMCell" else e[1])
    check(tm, em, t_in, e_in, dtype, t, e)


def test_cell_double_backward():
    for name in ("LSTMCell", "GRUCell"):
        em = getattr(nn, name)(2, 3).double()
        x = ember.randn(4, 2, dtype=ember.float64, requires_grad=True)
        assert ember.autograd.gradgradcheck(
            lambda v, m=em: m(v)[0] if isinstance(m(v), tuple) else m(v), (x,)
        )


@pytest.mark.parametrize(
    "build",
    [
        lambda T: T.nn.RNN(3, 4, 2, nonlinearity="relu", bidirectional=True),
        lambda T: T.nn.LSTM(3, 5, 2, proj_size=2, bidirectional=True),
        lambda T: T.nn.GRU(3, 4, bias=False),
        lambda T: T.nn.RNNCell(3, 4),
        lambda T: T.nn.LSTMCell(3, 4),
        lambda T: T.nn.GRUCell(3, 4),
    ],
)
def test_fresh_init_equals_torch(build):
    torch.manual_seed(11)
    tm = build(torch)
    ember.manual_seed(11)
    em = build(ember)
    assert list(em.state_dict()) == list(tm.state_dict())
    for (name, tp), ep in zip(tm.named_parameters(), em.parameters(), strict=True):
        np.testing.assert_array_equal(ep.detach().numpy(), tp.detach().numpy(), err_msg=name)
    assert repr(em) == repr(tm)


def test_all_weights_and_flat_weights():
    m = nn.LSTM(2, 3, 2, bidirectional=True)
    assert [len(ws) for ws in m.all_weights] == [4, 4, 4, 4]
    assert m._flat_weights[0] is m.weight_ih_l0
    assert m.all_weights[1][0] is m.weight_ih_l0_reverse


# -- errors ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "call",
    [
        lambda T: T.nn.LSTM(3, 4)(T.randn(2, 3, 5)),  # wrong input size
        lambda T: T.nn.GRU(3, 4)(T.randn(2, 3, 3), T.randn(2, 3, 4)),  # wrong hidden size
        lambda T: T.nn.LSTM(3, 4)(T.randn(2, 3, 3), (T.randn(1, 3, 4), T.randn(1, 2, 4))),
        lambda T: T.nn.RNN(3, 4)(T.randn(2, 3, 3), T.randn(3, 4)),  # batched input, 2-d hidden
        lambda T: T.nn.RNN(3, 4)(T.randn(3)),
        lambda T: T.nn.LSTM(3, 4)(T.randn(2, 3, 3, dtype=T.float64)),
        lambda T: T.nn.RNN(3, 4, nonlinearity="sigmoid"),
        lambda T: T.nn.GRU(3, 4, proj_size=2),
        lambda T: T.nn.LSTM(3, 4, proj_size=4),
        lambda T: T.nn.LSTMCell(3, 4)(T.randn(2, 2, 3)),
    ],
)
def test_errors_match_torch(call):
    with pytest.raises(Exception) as t_err:
        call(torch)
    with pytest.raises(Exception) as e_err:
        call(ember)
    assert type(e_err.value) is type(t_err.value)
    assert str(e_err.value) == str(t_err.value)


# -- packing and padding utilities -------------------------------------------------------------------------
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_pad_sequence(batch_first, padding_side):
    seqs = [np.random.default_rng(k).standard_normal((n, 2)) for k, n in enumerate([3, 1, 4])]
    t, e = leaves(seqs)
    tp = torch.nn.utils.rnn.pad_sequence(t, batch_first, -1.0, padding_side)
    ep = rnn_utils.pad_sequence(e, batch_first, -1.0, padding_side)
    close(ep, tp)
    loss([tp]).backward()
    loss([ep]).backward()
    for a, b in zip(e, t, strict=True):
        close(a.grad, b.grad)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("enforce_sorted", [True, False])
def test_pack_pad_roundtrip(batch_first, enforce_sorted):
    lengths = [4, 3, 3, 1] if enforce_sorted else [3, 4, 1, 3]
    shape = (4, 4, 2) if batch_first else (4, 4, 2)
    t, e = leaves([np.random.default_rng(8).standard_normal(shape)])
    tp = torch.nn.utils.rnn.pack_padded_sequence(t[0], torch.tensor(lengths), batch_first, enforce_sorted)
    ep = rnn_utils.pack_padded_sequence(e[0], ember.tensor(lengths), batch_first, enforce_sorted)
    close(ep.data, tp.data)
    for field in ("batch_sizes", "sorted_indices", "unsorted_indices"):
        a, b = getattr(ep, field), getattr(tp, field)
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_array_equal(a.numpy(), b.numpy())
            assert a.dtype == ember.int64
    t_pad, t_len = torch.nn.utils.rnn.pad_packed_sequence(tp, batch_first, padding_value=0.5, total_length=5)
    e_pad, e_len = rnn_utils.pad_packed_sequence(ep, batch_first, padding_value=0.5, total_length=5)
    close(e_pad, t_pad)
    np.testing.assert_array_equal(e_len.numpy(), t_len.numpy())
    loss([t_pad]).backward()
    loss([e_pad]).backward()
    close(e[0].grad, t[0].grad)


def test_pack_sequence_and_unpad():
    seqs = [np.arange(n) + 10 * k for k, n in enumerate([3, 2, 1])]
    tp = torch.nn.utils.rnn.pack_sequence([torch.tensor(s) for s in seqs])
    ep = rnn_utils.pack_sequence([ember.tensor(s) for s in seqs])
    assert ep.data.tolist() == tp.data.tolist()
    padded = rnn_utils.pad_sequence([ember.tensor(s) for s in seqs], batch_first=True)
    parts = rnn_utils.unpad_sequence(padded, ember.tensor([3, 2, 1]), batch_first=True)
    assert [p.tolist() for p in parts] == [s.tolist() for s in seqs]
    perm = ember.tensor([2, 0, 1])
    assert (
        rnn_utils.invert_permutation(perm).tolist()
        == torch.nn.utils.rnn.invert_permutation(torch.tensor([2, 0, 1])).tolist()
    )
    assert isinstance(ep, tuple) and ep.double().data.dtype == ember.float64


def test_pack_errors_match_torch():
    for lib, mod in ((torch, torch.nn.utils.rnn), (ember, rnn_utils)):
        with pytest.raises(RuntimeError, match="must be sorted in decreasing order"):
            mod.pack_padded_sequence(lib.zeros(3, 2, 1), [1, 3])
        with pytest.raises(ValueError, match="Expected total_length to be at least"):
            mod.pad_packed_sequence(mod.pack_sequence([lib.zeros(3, 1)]), total_length=2)


# -- speed ---------------------------------------------------------------------------------------------------
def test_lstm_timing_vs_torch(capsys):
    """Print (not assert) a 2-layer LSTM forward+backward at seq 32, batch 16, hidden 128."""

    def bench(lib, reps=15):
        lib.manual_seed(0)
        m = lib.nn.LSTM(128, 128, num_layers=2)
        x = lib.randn(32, 16, 128, requires_grad=True)
        times = []
        for k in range(reps + 3):
            start = time.perf_counter()
            out, _ = m(x)
            out.sum().backward()
            if k >= 3:
                times.append(time.perf_counter() - start)
        return float(np.median(times)) * 1e3

    try:  # one BLAS thread for NumPy too, as benchmarks/run.py runs (optional test-only helper)
        from threadpoolctl import threadpool_limits
    except ImportError:
        threadpool_limits = contextlib.nullcontext
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with warnings.catch_warnings(), threadpool_limits(1):
            warnings.simplefilter("ignore")
            t_ms, e_ms = bench(torch), bench(ember)
    finally:
        torch.set_num_threads(threads)
    with capsys.disabled():
        print(
            f"\n2-layer LSTM fwd+bwd (32x16x128): torch {t_ms:.2f} ms, ember {e_ms:.2f} ms, "
            f"ratio {e_ms / t_ms:.2f}"
        )
