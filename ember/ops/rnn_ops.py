# ruff: noqa: PLR0917 - a recurrent step takes every weight and state of its cell
"""Recurrent primitives: fused LSTM/GRU cells for one step, and one fused node per layer direction.

NOTE [ fused recurrence ]: a recurrent layer runs its cell once per time step, so anything per
step is multiplied by the sequence length. Two primitives keep that cost down:

* ``LstmCell`` / ``GruCell``: one step, a few NumPy calls (``nn.LSTMCell``, ``nn.GRUCell``).
* ``RnnLayer``: a whole layer direction as one graph node (``nn.RNN``, ``nn.LSTM``, ``nn.GRU``).
  The input projection of all steps is one matrix product; forward then loops over the steps in
  NumPy; backward runs backpropagation through time in NumPy and forms the weight gradients with one
  matrix product each over all steps. The work arrays are reused between calls (NOTE [ work block
  pool ]), and LSTM's gate constants are folded into its weights up front (``_lstm_forward``).

Both have a hand-written backward for plain ``backward()``. Under ``create_graph=True`` they
differentiate a reference written with ember ops instead (the same formulas for a cell; the
step-by-step loop of cells for a layer), so double backward works and matches the fast path.

A batch is time-major rows with ``sizes[t]`` rows at step ``t``, non-increasing (a packed
sequence; a padded ``(T, B, *)`` batch has ``B`` at every step). At each step the first
``sizes[t]`` rows of the state advance; the rest hold their value, which is what both directions
need: going forward, ended sequences keep their final state; going backward in time, sequences that
start later keep their initial state until their first step.
"""

from __future__ import annotations

import weakref

from ..autograd.grad_mode import STATE
from ._base import Op, Tensor, _wrap, np
from .linalg import Addmm
from .shape import cat

_MODES = ("RNN_TANH", "RNN_RELU", "LSTM", "GRU")


def _cat_arrays(parts):
    return np.concatenate(parts, axis=1)


def _cat_tensors(parts):
    return cat(parts, 1)


def _join_tensors(parts, scale):
    return cat(parts, 1) * scale


def _join_into(out):
    """concat(parts) * scale written into ``out`` (no temporaries)."""

    def join(parts, scale):
        np.concatenate(parts, axis=1, out=out)
        return np.multiply(out, scale, out=out)

    return join


# -- cell math on arrays (forward) and one gradient rule for arrays or tensors (backward) ---------
_GATE_SCALES: dict = {}


def _gate_scales(n: int, like) -> tuple:
    """Column constants k, 1 - k, k^2 with k = 1/2 on the sigmoid gates (i, f, o) and 1 on g.

    One tanh then serves all four gates: sigmoid(x) = tanh(x/2)/2 + 1/2, so act = k tanh(k a) + 1 - k,
    and its derivative is k^2 (1 - tanh(k a)^2).
    """
    key = (n, like.dtype, type(like))
    if key not in _GATE_SCALES:
        k = np.full_like(like, 0.5, shape=(4 * n,))  # on like's device
        k[2 * n : 3 * n] = 1
        _GATE_SCALES[key] = (k, 1 - k, k * k)
    return _GATE_SCALES[key]


def _lstm_forward(a, c, h_new, c_new, tc, dact=None, dtc=None, scaled=False):
    """One LSTM step on arrays, in place: ``a`` (the gate pre-activations, already times the column
    constants k of ``_gate_scales`` when ``scaled``) becomes [i, f, g, o];
    h' = o tanh(c') goes to ``h_new``, c' = f c + i g to ``c_new`` and tanh(c') to ``tc``; ``dact`` and
    ``dtc``, when given, receive the derivatives backward needs. Returns the values the gradient
    rule takes.

    The caller owns the buffers, so a layer can keep every step's values in a few arrays: holding
    many small arrays alive costs more (fresh pages from the allocator each step) than the arithmetic.
    """
    n = c.shape[1]
    k, k1, k2 = _gate_scales(n, a)
    if not scaled:
        a *= k
    np.tanh(a, out=a)
    if dact is not None:
        np.multiply(a, a, out=dact)
        np.subtract(1, dact, out=dact)
        dact *= k2
    a *= k
    a += k1
    i, f, g, o = a[:, :n], a[:, n : 2 * n], a[:, 2 * n : 3 * n], a[:, 3 * n :]
    np.multiply(f, c, out=c_new)
    c_new += i * g
    np.tanh(c_new, out=tc)
    if dtc is not None:
        np.multiply(tc, tc, out=dtc)
        np.subtract(1, dtc, out=dtc)
    np.multiply(o, tc, out=h_new)
    return i, f, g, o, c, tc, dtc, dact


def _lstm_activations(gates: Tensor, c: Tensor) -> tuple:
    """``_lstm_forward``'s saved values, recomputed with ember ops (differentiable)."""
    i, f, g, o = gates.chunk(4, 1)
    i, f, g, o = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()
    tc = (f * c + i * g).tanh()
    dact = cat([i * (1 - i), f * (1 - f), 1 - g * g, o * (1 - o)], 1)
    return i, f, g, o, c, tc, 1 - tc * tc, dact


def _lstm_grads(i, f, g, o, c, tc, dtc, dact, gh, gc, join):
    """d(h', c')/d(gates, c) from the saved activations, with ``join(parts, dact)`` forming
    concat(parts) * dact; otherwise arithmetic only, so arrays or tensors alike."""
    gc = gc + gh * o * dtc
    return join([gc * g, gc * c, gc * i, gh * tc], dact), gc * f


def _gru_forward(xg, hg, h, rz, n):
    """One GRU step on arrays: h' = n + z (h - n) with r, z = sig(xg_rz + hg_rz) (into ``rz``) and
    n = tanh(xg_n + r hg_n) (into ``n``). Returns h' and the values the gradient rule takes."""
    k = h.shape[1]
    np.add(xg[:, : 2 * k], hg[:, : 2 * k], out=rz)
    rz *= 0.5  # sigmoid(x) = tanh(x/2)/2 + 1/2: no overflow warning for large |x|
    np.tanh(rz, out=rz)
    rz *= 0.5
    rz += 0.5
    r, z = rz[:, :k], rz[:, k:]
    hn = hg[:, 2 * k :]
    np.multiply(r, hn, out=n)
    n += xg[:, 2 * k :]
    np.tanh(n, out=n)
    return n + z * (h - n), (r, z, n, hn, h)


def _gru_grads(r, z, n, hn, h, gy, concat):
    """d h'/d(xg, hg, h), from the activations; arithmetic only, so arrays or tensors alike."""
    gn = gy * (1 - z) * (1 - n * n)
    gr = gn * hn * r * (1 - r)
    gz = gy * (h - n) * z * (1 - z)
    return concat([gr, gz, gn]), concat([gr, gz, gn * r]), gy * z


# -- one step --------------------------------------------------------------------------------------
class LstmCell(Op):
    """(h', c') = (o tanh(c'), f c + i g) with [i, f, g, o] = [sig, sig, tanh, sig](gates)"""

    @staticmethod
    def forward(ctx, gates, c):
        ctx.save_for_backward(gates, c)
        a, c = gates._data.copy(), c._data
        c_new, tc = np.empty_like(c), np.empty_like(c)
        grad = (np.empty_like(a), np.empty_like(c)) if any(ctx.needs_input_grad) else ()
        h = np.empty_like(c)
        ctx.keep = _lstm_forward(a, c, h, c_new, tc, *grad)
        return h, c_new

    @staticmethod
    def backward(ctx, gh, gc):
        gates, c = ctx.saved_tensors
        if STATE.enabled:  # create_graph: recompute with ember ops so the gradient has a graph
            return _lstm_grads(*_lstm_activations(gates, c), gh, gc, _join_tensors)
        dgates, dc = _lstm_grads(*ctx.keep, gh._data, gc._data, _join_into(np.empty_like(gates._data)))
        return _wrap(dgates, gates.dtype, gates.device), _wrap(dc, c.dtype, c.device)


class GruCell(Op):
    """h' = n + z (h - n) with r, z = sig(xg_rz + hg_rz), n = tanh(xg_n + r hg_n)"""

    @staticmethod
    def forward(ctx, xg, hg, h):
        ctx.save_for_backward(xg, hg, h)
        h = h._data
        out, ctx.keep = _gru_forward(
            xg._data, hg._data, h, np.empty_like(h, shape=(h.shape[0], 2 * h.shape[1])), np.empty_like(h)
        )
        return out

    @staticmethod
    def backward(ctx, gy):
        xg, hg, h = ctx.saved_tensors
        if STATE.enabled:  # create_graph: recompute with ember ops so the gradient has a graph
            xr, xz, xn = xg.chunk(3, 1)
            hr, hz, hn = hg.chunk(3, 1)
            r, z = (xr + hr).sigmoid(), (xz + hz).sigmoid()
            n = (xn + r * hn).tanh()
            return _gru_grads(r, z, n, hn, h, gy, _cat_tensors)
        grads = _gru_grads(*ctx.keep, gy._data, _cat_arrays)
        return tuple(_wrap(d, t.dtype, t.device) for d, t in zip(grads, (xg, hg, h), strict=True))


# -- one layer direction ------------------------------------------------------------------------------
def _order(n: int, reverse: bool) -> range:
    return range(n - 1, -1, -1) if reverse else range(n)


class _Lease:
    """Holds a pooled block for as long as a graph node keeps it (NOTE [ work block pool ])."""

    __slots__ = ("__weakref__",)


# NOTE [ work block pool ]: a layer's work blocks are a few MB each, which the C allocator maps
# fresh from the OS on every call and unmaps on free, so every call page-faults through all of them
# (a third of an LSTM step's time). So blocks are leased from a small pool of free ones, and go
# back to it when their lease ends: when the graph node holding the block's views is freed, or, for
# a block that never leaves ``backward``, at its end. The pool holds at most _POOL_BYTES.
_POOL: dict[tuple, list] = {}
_POOL_BYTES = 64 << 20
_pooled = [0]  # bytes now in the pool


def _give_back(key: tuple, flat) -> None:
    if _pooled[0] + flat.nbytes <= _POOL_BYTES:
        _POOL.setdefault(key, []).append(flat)
        _pooled[0] += flat.nbytes


def _lease(like, n: int, owner=None) -> tuple:
    """(key, a flat block of ``n`` elements of ``like``'s dtype and device), from the pool when it has
    one; with ``owner``, the block goes back to the pool when ``owner`` is freed."""
    key = (type(like), like.dtype, str(getattr(like, "device", "")), n)
    free = _POOL.get(key)
    if free:
        flat = free.pop()
        _pooled[0] -= flat.nbytes
    else:
        flat = np.empty_like(like, shape=(n,))
    if owner is not None:
        lease = _Lease()
        owner.leases = (*getattr(owner, "leases", ()), lease)
        weakref.finalize(lease, _give_back, key, flat)
    return key, flat


def _carve(like, rows: int, widths: dict, owner) -> dict:
    """Arrays ``(rows, width)`` by name (``like``'s dtype and device), all views of one leased block."""
    flat = _lease(like, rows * sum(widths.values()), owner)[1]
    out, at = {}, 0
    for name, width in widths.items():
        out[name] = flat[at : at + rows * width].reshape(rows, width)
        at += rows * width
    return out


class RnnLayer(Op):
    """(ys, h_n[, c_n]) = one RNN/LSTM/GRU layer direction over every step (NOTE [ fused recurrence ])

    Inputs: ``x`` the layer's input rows ``(N, I)``, the layer's weights and biases ``w_ih``
    ``(G, I)``, ``b_ih`` ``(G,)``, ``w_hh`` ``(G, H_out)``, ``b_hh`` ``(G,)``, ``w_hr`` (LSTM
    projection or None), ``h0`` ``(B, H_out)``, ``c0`` ``(B, H)`` (LSTM only, else None).

    The input projection ``x W_ih^T + b`` of all steps is one matrix product in the node (for RNN and
    LSTM both biases fold into it; GRU keeps ``b_hh`` inside the reset gate's product), so its
    ``(N, G)`` blocks, forward and backward, come from the pool (NOTE [ work block pool ]).
    """

    @staticmethod
    def forward(ctx, mode, sizes, reverse, x, w_ih, b_ih, w_hh, b_hh, w_hr, h0, c0):
        ctx.save_for_backward(x, w_ih, b_ih, w_hh, b_hh, w_hr, h0, c0)
        ctx.args = (mode, sizes, reverse)
        xd = x._data
        n_rows, gates = xd.shape[0], w_ih.shape[0]
        bias = b_in = None  # the projection's bias; GRU's b_hh, inside the reset gate's product
        if b_ih is not None:
            bias, b_in = (b_ih._data, b_hh._data) if mode == "GRU" else (b_ih._data + b_hh._data, None)
        # the transposed weights as contiguous copies (never views: LSTM scales w_t in place below):
        # BLAS is ~2x faster on them than on the transposed views, with a few rows a step
        w_t = np.array(w_hh._data.T, order="C")
        wr_t = None if w_hr is None else np.ascontiguousarray(w_hr._data.T)
        h = h0._data.copy()
        c = None if c0 is None else c0._data.copy()
        hid = c.shape[1] if mode == "LSTM" else h.shape[1]
        ys = np.empty_like(xd, shape=(n_rows, h.shape[1]))
        starts = np.concatenate([[0], np.cumsum(sizes[:-1])]).astype(int).tolist()
        grad = any(ctx.needs_input_grad)
        # every step's values for backward, rows as in x (without a graph, one step's rows, reused)
        widths = {"h_prev": h.shape[1]}  # the state each step started from (for the weight gradient)
        if mode == "LSTM":
            widths.update(acts=gates, cs=hid, tcs=hid)
            if grad:
                widths.update(dacts=gates, dtcs=hid)
            if w_hr is not None:
                widths["mids"] = hid  # h before the projection
        elif mode == "GRU":
            widths.update(hgs=gates, rzs=2 * hid, ns=hid)
        buf = _carve(xd, n_rows if grad else sizes[0], widths, ctx)
        if mode == "LSTM" and grad:  # the projections go straight into acts (all rows; see below)
            x = buf["acts"]
        else:
            x = _lease(xd, n_rows * gates, ctx)[1].reshape(n_rows, gates)
        np.matmul(xd, w_ih._data.T, out=x)
        if bias is not None:
            x += bias
        h_prev, mids = buf["h_prev"], buf.get("mids")
        if mode == "LSTM":
            acts, cs, tcs, dacts, dtcs = (buf.get(k) for k in ("acts", "cs", "tcs", "dacts", "dtcs"))
            # the gate constants k of ``_lstm_forward`` folded in once: into the weight's columns, and
            # (with a graph, where acts has every row) into all steps' input projections in one pass
            k = _gate_scales(hid, xd)[0]
            w_t *= k
            tmp = np.empty_like(xd, shape=(sizes[0], gates))
            if grad:
                acts *= k  # x is acts
        elif mode == "GRU":
            hgs, rzs, ns = buf["hgs"], buf["rzs"], buf["ns"]
        keeps = [None] * len(sizes)
        for t in _order(len(sizes), reverse):
            r = sizes[t]
            rows = slice(starts[t], starts[t] + r)
            kept = rows if grad else slice(0, r)
            h_prev[kept] = h[:r]
            hp, y = h_prev[kept], ys[rows]
            if mode == "LSTM":
                a, m = acts[kept], tmp[:r]
                if grad:  # a holds x k already
                    np.matmul(hp, w_t, out=m)
                else:
                    np.matmul(hp, w_t, out=a)
                    np.multiply(x[rows], k, out=m)
                a += m
                cs[kept] = c[:r]
                derivs = (dacts[kept], dtcs[kept]) if grad else (None, None)
                if wr_t is None:
                    keeps[t] = _lstm_forward(a, cs[kept], y, c[:r], tcs[kept], *derivs, scaled=True)
                else:
                    keeps[t] = _lstm_forward(a, cs[kept], mids[kept], c[:r], tcs[kept], *derivs, scaled=True)
                    np.matmul(mids[kept], wr_t, out=y)
            elif mode == "GRU":
                hg = hgs[kept]
                np.matmul(hp, w_t, out=hg)
                if b_in is not None:
                    hg += b_in
                y[...], keeps[t] = _gru_forward(x[rows], hg, hp, rzs[kept], ns[kept])
            else:
                np.matmul(hp, w_t, out=y)
                y += x[rows]
                if mode == "RNN_TANH":
                    np.tanh(y, out=y)
                else:
                    np.maximum(y, 0, out=y)
                keeps[t] = y
            h[:r] = y
        ctx.keep = (keeps, h_prev, mids, starts)
        return (ys, h, c) if mode == "LSTM" else (ys, h)

    @staticmethod
    def backward(ctx, gys, ghn, gcn=None):
        mode, sizes, reverse = ctx.args
        inputs = ctx.saved_tensors
        if STATE.enabled:  # create_graph: differentiate the step-by-step reference instead
            return (None, None, None, *_reference_grads(ctx, inputs, (gys, ghn, gcn)))
        x, w_ih, b_ih, w_hh, b_hh, w_hr, h0, c0 = inputs
        nig = ctx.needs_input_grad[3:]
        keeps, h_prev, mids, starts = ctx.keep
        w, wr = w_hh._data, None if w_hr is None else w_hr._data
        gy = gys._data
        dh = ghn._data.copy()
        dc = None if gcn is None else gcn._data.copy()
        n_rows, gates = x.shape[0], w_ih.shape[0]
        blocks = [_lease(gy, n_rows * gates) for _ in range(2 if mode == "GRU" else 1)]
        dxg = blocks[0][1].reshape(n_rows, gates)  # grads of the input projections (stay in here)
        dhg = blocks[-1][1].reshape(n_rows, gates)  # and of the hidden ones (the same but for GRU)
        dys = None if wr is None else np.empty_like(gy)  # grads of the projected outputs
        for t in _order(len(sizes), not reverse):
            rows, r = slice(starts[t], starts[t] + sizes[t]), sizes[t]
            d = gy[rows] + dh[:r]
            if mode == "LSTM":
                if wr is not None:
                    dys[rows] = d
                    d = d @ wr
                _, dc[:r] = _lstm_grads(*keeps[t], d, dc[:r], _join_into(dxg[rows]))
                np.matmul(dxg[rows], w, out=dh[:r])
            elif mode == "GRU":
                dxg[rows], dhg[rows], direct = _gru_grads(*keeps[t], d, _cat_arrays)
                dh[:r] = dhg[rows] @ w + direct
            else:
                y = keeps[t]
                dxg[rows] = d * (1 - y * y) if mode == "RNN_TANH" else d * (y > 0)
                np.matmul(dxg[rows], w, out=dh[:r])
        wants = {
            0: lambda: dxg @ w_ih._data,
            1: lambda: dxg.T @ x._data,
            2: lambda: dxg.sum(axis=0),
            3: lambda: dhg.T @ h_prev,
            4: lambda: dhg.sum(axis=0),  # for RNN/LSTM the same as b_ih's (folded in), a copy of its own
            5: lambda: dys.T @ mids,
            6: lambda: dh,
            7: lambda: dc,
        }
        grads = [wants[i]() if need else None for i, need in enumerate(nig)]
        for key, flat in blocks:
            _give_back(key, flat)
        return (None, None, None, *(None if g is None else _wrap(g, x.dtype, x.device) for g in grads))


def _reference_grads(ctx, inputs, grad_outputs) -> list:
    """The input grads of ``RnnLayer`` by differentiating ``reference_layer`` (keeps a graph)."""
    from ..autograd import grad  # noqa: PLC0415 - autograd imports the ops

    mode, sizes, reverse = ctx.args
    needs = ctx.needs_input_grad[3:]
    wanted = [t for t, need in zip(inputs, needs, strict=True) if need]
    outs = reference_layer(mode, sizes, reverse, *inputs)
    got = iter(grad(outs, wanted, grad_outputs[: len(outs)], create_graph=True, allow_unused=True))
    return [next(got) if need else None for need in needs]


def reference_layer(mode, sizes, reverse, x, w_ih, b_ih, w_hh, b_hh, w_hr, h0, c0):
    """``RnnLayer`` step by step with ember ops (a graph node or three per step): the definition
    that the fused node's ``create_graph`` backward differentiates."""
    if mode != "GRU" and b_ih is not None:  # both biases fold into the input projection
        b_ih, b_hh = b_ih + b_hh, None
    xg = x.mm(w_ih.t()) if b_ih is None else Addmm.apply(b_ih, x, w_ih.t(), 1, 1)
    w_t = w_hh.t()
    wr_t = None if w_hr is None else w_hr.t()
    starts = np.concatenate([[0], np.cumsum(sizes[:-1])]).astype(int)
    inits = (h0,) if c0 is None else (h0, c0)
    state = inits
    ys = [None] * len(sizes)
    done = []  # rows of sequences that ended (forward) are final
    rows = sizes[-1] if reverse else sizes[0]
    if reverse and rows < sizes[0]:
        state = tuple(s.narrow(0, 0, rows) for s in state)
    for t in _order(len(sizes), reverse):
        r = sizes[t]
        if r > rows:  # backward in time: sequences starting here join with their initial state
            state = tuple(cat([s, s0.narrow(0, rows, r - rows)]) for s, s0 in zip(state, inits, strict=True))
        elif r < rows:
            done.append(tuple(s.narrow(0, r, rows - r) for s in state))
            state = tuple(s.narrow(0, 0, r) for s in state)
        rows = r
        x = xg.narrow(0, int(starts[t]), r)
        if mode == "LSTM":
            h, c = LstmCell.apply(Addmm.apply(x, state[0], w_t, 1, 1), state[1])
            if wr_t is not None:
                h = h.mm(wr_t)
            state = (h, c)
        elif mode == "GRU":
            hg = state[0].mm(w_t) if b_hh is None else Addmm.apply(b_hh, state[0], w_t, 1, 1)
            state = (GruCell.apply(x, hg, state[0]),)
        else:
            pre = Addmm.apply(x, state[0], w_t, 1, 1)
            state = (pre.tanh() if mode == "RNN_TANH" else pre.relu(),)
        ys[t] = state[0]
    if done:
        parts = [state, *reversed(done)]
        state = tuple(cat([p[k] for p in parts]) for k in range(len(state)))
    return (cat(ys), *state)


def rnn_layer(
    mode: str, sizes: list[int], reverse: bool, x: Tensor, w_ih: Tensor, b_ih: Tensor | None,
    w_hh: Tensor, b_hh: Tensor | None, w_hr: Tensor | None, h0: Tensor, c0: Tensor | None,
) -> tuple[Tensor, ...]:  # fmt: skip
    """One layer direction over time-major input rows ``x`` (``sizes[t]`` rows at step t): returns
    the outputs ``(N, H_out)``, the final ``h`` ``(B, H_out)`` and, for LSTM, the final ``c``."""
    if mode not in _MODES:
        raise ValueError(f"Unrecognized RNN mode: {mode}")
    return RnnLayer.apply(mode, list(sizes), reverse, x, w_ih, b_ih, w_hh, b_hh, w_hr, h0, c0)
