"""The backward engine: an iterative walk over grad_fn nodes in reverse creation order.

It owns the cross-cutting rules so that no op repeats them: summing a broadcast gradient back to
its input's shape, casting it to the input's dtype, buffering and accumulating into leaves,
running hooks, and freeing saved tensors unless ``retain_graph``.
"""

from __future__ import annotations

import heapq

from . import function as F
from .function import AccumulateGrad
from .grad_mode import STATE


def _add(a, b, create_graph):
    if create_graph:
        return a + b
    return F._wrap(a._data + b._data, a.dtype, a.device)


def _fit(g, shape, dtype, node, i, create_graph):
    """Sum a gradient down to its input's shape and cast it to its dtype."""
    if g._data.shape != shape:
        if not shape and not create_graph:  # a 0-d input (a scalar weight): every element adds in
            g = F._wrap(g._data.sum(), g.dtype, g.device)
            return g if g.dtype is dtype else F._wrap(g._data.astype(dtype.np), dtype, g.device)
        gshape = g._data.shape
        lead = len(gshape) - len(shape)
        if lead < 0 or any(s not in (1, gs) for s, gs in zip(shape, gshape[lead:], strict=True)):
            raise RuntimeError(
                f"Function {node.name()} returned an invalid gradient at index {i} - got "
                f"{list(gshape)} but expected shape compatible with {list(shape)}"
            )
        g = g.sum_to_size(shape) if create_graph else F._wrap(_sum_to(g._data, shape), g.dtype, g.device)
    if g.dtype is not dtype:
        g = g.to(dtype) if create_graph else F._wrap(g._data.astype(dtype.np), dtype, g.device)
    return g


def _sum_to(arr, shape):
    """Sum ``arr`` down to the broadcast-compatible ``shape``."""
    if not shape:
        return arr.sum()
    lead = arr.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, s in enumerate(shape) if s == 1 and arr.shape[i + lead] != 1
    )
    if axes:
        arr = arr.sum(axis=axes, keepdims=True)
    return arr.reshape(shape)


def _run_tensor_hooks(hooks, g):
    for h in hooks:
        r = h(g)
        if r is not None:
            g = r
    return g


def _pre_hooks(node, grads):
    """Tensor hooks on the node's outputs (retain_grad among them), then the node's own pre-hooks."""
    if node._pre_hooks:
        for i, hooks in node._pre_hooks.items():
            if grads[i] is not None:
                grads[i] = _run_tensor_hooks(hooks, grads[i])
    if node._node_prehooks:
        for h in node._node_prehooks:
            r = h(tuple(grads))
            if r is not None:
                grads = list(r)
    return grads


def run_backward(roots, grad_roots, retain_graph, create_graph, inputs=None, accumulate=True):
    """Backpropagate ``grad_roots`` from ``roots``.

    With ``accumulate`` the leaf gradients go into ``.grad`` (only for ``inputs`` if given);
    otherwise the gradients of ``inputs`` are returned in order (``autograd.grad``).
    """
    # -- 1. seed the buffers with the root gradients ------------------------------------------------
    buffers = {}
    leaf_grads = {}  # id(leaf) -> [leaf, summed grad]
    root_nodes = []
    for t, g in zip(roots, grad_roots, strict=True):
        if t.grad_fn is None:
            _buffer_leaf(leaf_grads, t, g, create_graph)
            continue
        node = t.grad_fn
        buf = buffers.get(node)
        if buf is None:
            buf = buffers[node] = [None] * node._n_out
            root_nodes.append(node)
        i = t._output_nr
        buf[i] = g if buf[i] is None else _add(buf[i], g, create_graph)

    # -- 2. what to capture, and which nodes are worth running --------------------------------------
    capture = None
    if inputs is not None:
        capture = {}
        for k, t in enumerate(inputs):
            key = ("leaf", id(t)) if t.grad_fn is None else (t.grad_fn, t._output_nr)
            capture.setdefault(key, []).append(k)
    deps, order = _dependencies(root_nodes, capture)

    # -- 3. the walk: most recently created node first, like PyTorch ------------------------------
    captured = {}
    heap = [
        (-n._seq_nr, id(n), n) for n in root_nodes if deps.get(n, 0) == 0 and (order is None or n in order)
    ]
    heapq.heapify(heap)
    pop, push = heapq.heappop, heapq.heappush
    Tensor = F.Tensor
    prev_mode = STATE.enabled
    STATE.enabled = create_graph
    try:
        while heap:
            node = pop(heap)[2]
            grads = buffers.pop(node, None) or [None] * node._n_out
            if node._pre_hooks or node._node_prehooks:
                grads = _pre_hooks(node, grads)
            edges = node._edges
            if capture is not None:
                for i in range(node._n_out):
                    for k in capture.get((node, i), ()):
                        captured[k] = grads[i]
                if not any(e is not None and (e[0] in order or type(e[0]) is AccumulateGrad) for e in edges):
                    if not retain_graph:
                        node._release()
                    continue
            if len(grads) == 1 and grads[0] is not None:  # the usual node: one output, one gradient
                in_grads = node._backward(grads)
                if type(in_grads) is not tuple or len(in_grads) != len(edges):
                    in_grads = _check_count(node, in_grads)
            else:
                in_grads = _call(node, grads)
            if not retain_graph and node._saved is not None:
                node._saved = None
                node._freed = True
            if node._hooks:
                for h in node._hooks:
                    r = h(in_grads, tuple(grads))
                    if r is not None:
                        in_grads = tuple(r)
            for i, e in enumerate(edges):
                if e is None:
                    continue
                target, nr, shape, dtype = e
                is_leaf = type(target) is AccumulateGrad
                if order is not None and not is_leaf and target not in order:
                    continue
                g = in_grads[i]
                if g is None:
                    if not is_leaf:
                        _release_dep(target, deps, heap)
                    continue
                if g.__class__ is not Tensor and not isinstance(g, Tensor):
                    raise TypeError(
                        f"{node.name()} returned a gradient of type {type(g).__name__}, expected a Tensor"
                    )
                if g._data.shape != shape or g.dtype is not dtype:
                    g = _fit(g, shape, dtype, node, i, create_graph)
                if is_leaf:
                    _buffer_leaf(leaf_grads, target.variable, g, create_graph)
                    continue
                buf = buffers.get(target)
                if buf is None:
                    buf = buffers[target] = [None] * target._n_out
                buf[nr] = g if buf[nr] is None else _add(buf[nr], g, create_graph)
                n = deps[target] - 1
                deps[target] = n
                if n == 0:
                    push(heap, (-target._seq_nr, id(target), target))

        # -- 4. leaves: hooks, then accumulate or capture ----------------------------------------
        wanted = None if inputs is None else {id(t) for t in inputs}
        for key, (leaf, g) in leaf_grads.items():
            if leaf._hooks:
                g = _run_tensor_hooks(leaf._hooks, g)
            if not accumulate:
                for k in capture.get(("leaf", key), ()):
                    captured[k] = g
            elif wanted is None or key in wanted:
                _accumulate(leaf, g, create_graph)
    finally:
        STATE.enabled = prev_mode
    if not accumulate:
        return [captured.get(k) for k in range(len(inputs))]
    return None


def _release_dep(target, deps, heap) -> None:
    n = deps[target] - 1
    deps[target] = n
    if n == 0:
        heapq.heappush(heap, (-target._seq_nr, id(target), target))


def _call(node, grads):
    """Run one node's backward, materialising missing output grads as zeros where asked."""
    if any(g is None for g in grads):
        if all(g is None for g in grads):
            return (None,) * len(node._edges)  # nothing flows through this node
        if getattr(node, "materialize_grads", True):
            meta = getattr(node, "_out_meta", None)
            if meta is not None:
                grads = [g if g is not None else F._zeros(*meta[i]) for i, g in enumerate(grads)]
    return _check_count(node, node._backward(grads))


def _check_count(node, out):
    """A backward's result as a tuple of one gradient per input, with PyTorch's error otherwise."""
    if type(out) is not tuple:
        out = (out,)
    n_in = len(node._edges)
    if len(out) != n_in:
        if len(out) > n_in and all(g is None for g in out[n_in:]):
            return out[:n_in]
        raise RuntimeError(
            f"function {node.name()} returned an incorrect number of gradients (expected {n_in}, got "
            f"{len(out)})"
        )
    return out


def _dependencies(root_nodes, capture):
    """Count, for each node, the edges into it from nodes that will run.

    Returns ``(deps, order)``; ``order`` is the set of nodes worth running, or None for all of them
    (the common case: no ``inputs`` to capture, so nothing is pruned).
    """
    if capture is None:
        deps = {}
        seen = set(root_nodes)
        stack = list(root_nodes)
        while stack:
            for e in stack.pop()._edges:
                if e is None:
                    continue
                t = e[0]
                if type(t) is AccumulateGrad:
                    continue
                deps[t] = deps.get(t, 0) + 1
                if t not in seen:
                    seen.add(t)
                    stack.append(t)
        return deps, None
    # iterative post-order DFS: a node is needed if it leads to a captured input
    needed = {}
    stack = [(n, False) for n in root_nodes]
    while stack:
        node, done = stack.pop()
        if done:
            needed[node] = any((node, i) in capture for i in range(node._n_out)) or any(
                ("leaf", id(e[0].variable)) in capture if type(e[0]) is AccumulateGrad else needed.get(e[0])
                for e in node._edges
                if e is not None
            )
            continue
        if node in needed:
            continue
        needed[node] = False
        stack.append((node, True))
        stack.extend(
            (e[0], False)
            for e in node._edges
            if e is not None and type(e[0]) is not AccumulateGrad and e[0] not in needed
        )
    order = {n for n, need in needed.items() if need}
    deps = {}
    for node in order:
        for e in node._edges:
            if e is not None and e[0] in order:
                deps[e[0]] = deps.get(e[0], 0) + 1
    return deps, order


def _buffer_leaf(leaf_grads, leaf, g, create_graph) -> None:
    slot = leaf_grads.get(id(leaf))
    if slot is None:
        leaf_grads[id(leaf)] = [leaf, g]
    else:
        slot[1] = _add(slot[1], g, create_graph)


def _accumulate(leaf, g, create_graph) -> None:
    """Add ``g`` into ``leaf.grad``: stored as a fresh copy first, then summed in place (no graph)."""
    if leaf._grad is None:
        leaf._grad = g if create_graph else F._wrap(g._data.copy(), g.dtype, g.device)
    elif create_graph or STATE.enabled:
        leaf._grad = leaf._grad + g
    else:
        old = leaf._grad
        old._data += g._data
        old._bump()
    for h in leaf.__dict__.get("_post_acc_hooks", ()):
        h(leaf)
