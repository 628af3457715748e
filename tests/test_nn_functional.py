"""nn.functional against torch: outputs, gradients and grad_fn names on the same inputs, float32 and float64.

One table drives everything: each row is a function ``fn(F, T, *inputs)`` written once against a
torch-shaped namespace (``F`` is ``nn.functional``, ``T`` the top-level module), plus how to make its
inputs. Float inputs marked ``grad`` are differentiated through ``sum(out * w)`` with a fixed random ``w``.
Primitives of ``ember.ops.nn_ops`` are also put through gradcheck and gradgradcheck in float64.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable

import numpy as np
import pytest

import ember
import ember.nn.functional as EF

torch = pytest.importorskip("torch")
TF = torch.nn.functional


# -- inputs --------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class In:
    """An input: ``make(rng)`` gives a NumPy array; float arrays follow the test dtype."""

    make: Callable
    grad: bool = True


def randn(*shape, scale=1.0, grad=True):
    return In(lambda r: r.standard_normal(shape) * scale, grad)


def away(*shape, lo=0.2, hi=2.0):
    """|x| in [lo, hi] with random sign: clear of kinks at 0."""

    def make(r):
        m = r.uniform(lo, hi, size=shape)
        return np.where(r.random(shape) < 0.5, -m, m)

    return In(make)


def unif(*shape, lo=0.05, hi=0.95, grad=True):
    return In(lambda r: r.uniform(lo, hi, size=shape), grad)


def ints(high, *shape, low=0):
    return In(lambda r: r.integers(low, high, size=shape).astype(np.int64), grad=False)


def const(value, grad=False):
    return In(lambda r: np.asarray(value), grad)


def probs(*shape, dim=1):
    def make(r):
        e = np.exp(r.standard_normal(shape))
        return e / e.sum(axis=dim, keepdims=True)

    return In(make, grad=False)


def signs(*shape):
    return In(lambda r: np.where(r.random(shape) < 0.5, -1.0, 1.0), grad=False)


@dataclasses.dataclass(frozen=True)
class Case:
    name: str
    fn: Callable
    inputs: tuple
    grad_fn: bool = True  # compare grad_fn names too
    rtol32: float = 2e-5


C = Case
CASES = [
    # activations
    C("relu", lambda F, T, x: F.relu(x), (away(3, 4),)),
    C("relu6", lambda F, T, x: F.relu6(x * 4), (away(3, 4),)),
    C("leaky_relu", lambda F, T, x: F.leaky_relu(x, 0.2), (away(3, 4),)),
    C("elu", lambda F, T, x: F.elu(x, 1.3), (away(3, 4),)),
    C("selu", lambda F, T, x: F.selu(x), (away(3, 4),)),
    C("celu", lambda F, T, x: F.celu(x, 0.7), (away(3, 4),)),
    C("gelu", lambda F, T, x: F.gelu(x), (randn(3, 4, scale=2),)),
    C("gelu_tanh", lambda F, T, x: F.gelu(x, approximate="tanh"), (randn(3, 4, scale=2),)),
    C("silu", lambda F, T, x: F.silu(x), (randn(3, 4, scale=3),)),
    C("mish", lambda F, T, x: F.mish(x), (randn(3, 4, scale=3),)),
    C("sigmoid", lambda F, T, x: F.sigmoid(x), (randn(3, 4, scale=3),)),
    C("tanh", lambda F, T, x: F.tanh(x), (randn(3, 4),)),
    C("hardtanh", lambda F, T, x: F.hardtanh(x, -0.5, 1.0), (away(3, 4),)),
    C("hardsigmoid", lambda F, T, x: F.hardsigmoid(x * 3), (away(3, 4, lo=0.05, hi=1.9),)),
    C("hardswish", lambda F, T, x: F.hardswish(x * 3), (away(3, 4, lo=0.05, hi=1.9),)),
    C("softplus", lambda F, T, x: F.softplus(x, 2.0, 3.0), (randn(3, 4, scale=2),)),
    C("softsign", lambda F, T, x: F.softsign(x), (randn(3, 4),)),
    C("tanhshrink", lambda F, T, x: F.tanhshrink(x), (randn(3, 4),)),
    C("threshold", lambda F, T, x: F.threshold(x, 0.1, -2.0), (away(3, 4),)),
    C("logsigmoid", lambda F, T, x: F.logsigmoid(x), (randn(3, 4, scale=5),)),
    C("softmax", lambda F, T, x: F.softmax(x, 1), (randn(3, 4, 2),)),
    C("softmax_neg_dim", lambda F, T, x: F.softmax(x, -1), (randn(3, 5),)),
    C("softmax_dtype", lambda F, T, x: F.softmax(x, 0, dtype=T.float64), (randn(3, 4),)),
    C("log_softmax", lambda F, T, x: F.log_softmax(x, 1), (randn(3, 4, scale=10),)),
    C("softmin", lambda F, T, x: F.softmin(x, 1), (randn(3, 4),)),
    C("glu", lambda F, T, x: F.glu(x, 1), (randn(3, 4),)),
    C("hardshrink", lambda F, T, x: F.hardshrink(x, 0.5), (away(3, 4, lo=0.6),), grad_fn=False),
    C("softshrink", lambda F, T, x: F.softshrink(x, 0.5), (away(3, 4, lo=0.6),), grad_fn=False),
    C("prelu_1", lambda F, T, x, w: F.prelu(x, w), (away(3, 4, 2), const([0.25], grad=True))),
    C("prelu_c", lambda F, T, x, w: F.prelu(x, w), (away(3, 4, 2), randn(4))),
    C("relu_inplace", lambda F, T, x: F.relu(x * 1, inplace=True), (away(3, 4),)),
    C("elu_inplace", lambda F, T, x: F.elu(x * 1, inplace=True), (away(3, 4),), grad_fn=False),
    # linear
    C("linear_2d", lambda F, T, x, w, b: F.linear(x, w, b), (randn(5, 3), randn(4, 3), randn(4))),
    C("linear_3d", lambda F, T, x, w, b: F.linear(x, w, b), (randn(2, 5, 3), randn(4, 3), randn(4))),
    C("linear_1d", lambda F, T, x, w, b: F.linear(x, w, b), (randn(3), randn(4, 3), randn(4))),
    C("linear_nobias", lambda F, T, x, w: F.linear(x, w), (randn(5, 3), randn(4, 3))),
    C("linear_nobias_3d", lambda F, T, x, w: F.linear(x, w), (randn(2, 5, 3), randn(4, 3))),
    C(
        "bilinear",
        lambda F, T, a, b, w, c: F.bilinear(a, b, w, c),
        (randn(5, 3), randn(5, 2), randn(4, 3, 2), randn(4)),
        grad_fn=False,
    ),
    # normalisation
    C("layer_norm", lambda F, T, x, w, b: F.layer_norm(x, (4,), w, b), (randn(3, 4), randn(4), randn(4))),
    C(
        "layer_norm_2d",
        lambda F, T, x, w, b: F.layer_norm(x, (3, 4), w, b, 1e-3),
        (randn(2, 3, 4), randn(3, 4), randn(3, 4)),
    ),
    C("layer_norm_noaffine", lambda F, T, x: F.layer_norm(x, [5]), (randn(2, 3, 5),)),
    C("rms_norm", lambda F, T, x, w: F.rms_norm(x, (4,), w), (randn(3, 4), randn(4))),
    C("rms_norm_eps", lambda F, T, x: F.rms_norm(x, [2, 4], eps=1e-3), (randn(3, 2, 4),)),
    C("group_norm", lambda F, T, x, w, b: F.group_norm(x, 2, w, b), (randn(3, 4, 5), randn(4), randn(4))),
    C("group_norm_4d", lambda F, T, x: F.group_norm(x, 3, eps=1e-3), (randn(2, 6, 2, 3),)),
    C(
        "batch_norm_train",
        lambda F, T, x, w, b: F.batch_norm(x, None, None, w, b, training=True),
        (randn(6, 3), randn(3), randn(3)),
    ),
    C(
        "batch_norm_train_3d",
        lambda F, T, x, w, b: F.batch_norm(x, None, None, w, b, training=True, eps=1e-3),
        (randn(4, 3, 5), randn(3), randn(3)),
    ),
    C(
        "batch_norm_eval",
        lambda F, T, x, m, v, w, b: F.batch_norm(x, m, v, w, b),
        (randn(4, 3, 2), randn(3, grad=False), unif(3, lo=0.5, hi=2, grad=False), randn(3), randn(3)),
    ),
    C("normalize", lambda F, T, x: F.normalize(x, dim=1), (randn(3, 4),)),
    C("normalize_p1", lambda F, T, x: F.normalize(x, p=1.0, dim=0), (away(3, 4),), grad_fn=False),
    # distances and misc
    C("cosine_similarity", lambda F, T, a, b: F.cosine_similarity(a, b), (randn(3, 4), randn(3, 4))),
    C(
        "cosine_similarity_bcast",
        lambda F, T, a, b: F.cosine_similarity(a, b, dim=-1),
        (randn(3, 4), randn(1, 4)),
        grad_fn=False,
    ),
    C(
        "pairwise_distance",
        lambda F, T, a, b: F.pairwise_distance(a, b),
        (randn(3, 4), randn(3, 4)),
        grad_fn=False,
    ),
    C(
        "pairwise_distance_p1",
        lambda F, T, a, b: F.pairwise_distance(a, b, p=1.0, keepdim=True),
        (randn(3, 4), randn(3, 4)),
        grad_fn=False,
    ),
    C("pad_constant", lambda F, T, x: F.pad(x, (1, 2, 0, 1), value=0.5), (randn(2, 3, 4),)),
    C("pad_crop", lambda F, T, x: F.pad(x, (-1, 2)), (randn(2, 3, 4),)),
    C("pad_reflect", lambda F, T, x: F.pad(x, (2, 1), mode="reflect"), (randn(2, 3, 4),), grad_fn=False),
    C(
        "pad_replicate",
        lambda F, T, x: F.pad(x, (2, 1, 1, 0), mode="replicate"),
        (randn(1, 2, 3, 4),),
        grad_fn=False,
    ),
    C("pad_circular", lambda F, T, x: F.pad(x, (1, 2), mode="circular"), (randn(2, 3, 4),), grad_fn=False),
    C("embedding", lambda F, T, i, w: F.embedding(i, w), (ints(5, 2, 3), randn(5, 4))),
    C(
        "embedding_pad",
        lambda F, T, i, w: F.embedding(i, w, padding_idx=1),
        (const([[0, 1, 2], [1, 1, 4]]), randn(5, 4)),
    ),
    C(
        "embedding_freq",
        lambda F, T, i, w: F.embedding(i, w, scale_grad_by_freq=True),
        (const([0, 1, 1, 3, 1]), randn(5, 4)),
    ),
    C(
        "embedding_bag_mean",
        lambda F, T, i, w: F.embedding_bag(i, w),
        (ints(6, 3, 4), randn(6, 2)),
        grad_fn=False,
    ),
    C(
        "embedding_bag_sum_off",
        lambda F, T, i, o, w: F.embedding_bag(i, w, o, mode="sum"),
        (const([0, 2, 4, 5, 4, 3, 2, 9]), const([0, 4]), randn(10, 3)),
        grad_fn=False,
    ),
    C(
        "embedding_bag_max",
        lambda F, T, i, o, w: F.embedding_bag(i, w, o, mode="max"),
        (const([0, 2, 4, 5, 4, 3, 2, 9]), const([0, 3]), randn(10, 3)),
        grad_fn=False,
    ),
    C(
        "embedding_bag_pad",
        lambda F, T, i, o, w: F.embedding_bag(i, w, o, padding_idx=2),
        (const([0, 2, 4, 5, 4, 3, 2, 9]), const([0, 3, 3]), randn(10, 3)),
        grad_fn=False,
    ),
    C(
        "embedding_bag_psw",
        lambda F, T, i, o, w, p: F.embedding_bag(i, w, o, mode="sum", per_sample_weights=p),
        (const([0, 2, 4, 5]), const([0, 1]), randn(10, 3), randn(4)),
        grad_fn=False,
    ),
    C(
        "sdpa",
        lambda F, T, q, k, v: F.scaled_dot_product_attention(q, k, v),
        (randn(2, 3, 4), randn(2, 5, 4), randn(2, 5, 3)),
        grad_fn=False,
    ),
    C(
        "sdpa_causal",
        lambda F, T, q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True, scale=0.3),
        (randn(2, 2, 4, 4), randn(2, 2, 4, 4), randn(2, 2, 4, 3)),
        grad_fn=False,
    ),
    C(
        "sdpa_mask",
        lambda F, T, q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m),
        (randn(2, 3, 4), randn(2, 5, 4), randn(2, 5, 3), randn(3, 5, grad=False)),
        grad_fn=False,
    ),
    C(
        "sdpa_bool_mask",
        lambda F, T, q, k, v: F.scaled_dot_product_attention(
            q, k, v, attn_mask=T.tensor([[True, False, True], [True, True, False]])
        ),
        (randn(1, 2, 4), randn(1, 3, 4), randn(1, 3, 2)),
        grad_fn=False,
    ),
    C(
        "sdpa_gqa",
        lambda F, T, q, k, v: F.scaled_dot_product_attention(q, k, v, enable_gqa=True),
        (randn(1, 4, 3, 2), randn(1, 2, 5, 2), randn(1, 2, 5, 3)),
        grad_fn=False,
    ),
    C(
        "embedding_bag_last_offset",
        lambda F, T, i, o, w: F.embedding_bag(i, w, o, mode="mean", include_last_offset=True),
        (const([0, 2, 4, 5, 4, 3, 2, 9]), const([0, 3, 3, 8]), randn(10, 3)),
        grad_fn=False,
    ),
    C(
        "embedding_max_norm",
        lambda F, T, i, w: F.embedding(i, w * 1, max_norm=1.5),
        (ints(5, 2, 3), randn(5, 4, scale=2)),
    ),
    # regression losses
    C("mse", lambda F, T, x, y: F.mse_loss(x, y), (randn(3, 4), randn(3, 4))),
    C("mse_sum", lambda F, T, x, y: F.mse_loss(x, y, reduction="sum"), (randn(3, 4), randn(3, 4))),
    C("mse_none", lambda F, T, x, y: F.mse_loss(x, y, reduction="none"), (randn(3, 4), randn(3, 4))),
    C(
        "mse_weight",
        lambda F, T, x, y, w: F.mse_loss(x, y, weight=w),
        (randn(3, 4), randn(3, 4), unif(3, 4, grad=False)),
        grad_fn=False,
    ),
    C("l1", lambda F, T, x, y: F.l1_loss(x, y), (randn(3, 4), randn(3, 4))),
    C("l1_sum", lambda F, T, x, y: F.l1_loss(x, y, reduction="sum"), (randn(3, 4), randn(3, 4))),
    C("smooth_l1", lambda F, T, x, y: F.smooth_l1_loss(x, y, beta=0.5), (randn(3, 4), randn(3, 4))),
    C(
        "smooth_l1_none",
        lambda F, T, x, y: F.smooth_l1_loss(x, y, reduction="none"),
        (randn(3, 4, scale=2), randn(3, 4)),
    ),
    C("smooth_l1_beta0", lambda F, T, x, y: F.smooth_l1_loss(x, y, beta=0.0), (randn(3, 4), randn(3, 4))),
    C("huber", lambda F, T, x, y: F.huber_loss(x, y, delta=0.7), (randn(3, 4, scale=2), randn(3, 4))),
    C(
        "huber_sum",
        lambda F, T, x, y: F.huber_loss(x, y, reduction="sum"),
        (randn(3, 4, scale=2), randn(3, 4)),
    ),
    # classification losses
    C("cross_entropy", lambda F, T, x, t: F.cross_entropy(x, t), (randn(5, 4), ints(4, 5))),
    C(
        "cross_entropy_sum",
        lambda F, T, x, t: F.cross_entropy(x, t, reduction="sum"),
        (randn(5, 4), ints(4, 5)),
    ),
    C(
        "cross_entropy_none",
        lambda F, T, x, t: F.cross_entropy(x, t, reduction="none"),
        (randn(5, 4), ints(4, 5)),
    ),
    C(
        "cross_entropy_weight",
        lambda F, T, x, t, w: F.cross_entropy(x, t, weight=w),
        (randn(5, 4), ints(4, 5), unif(4, grad=False)),
    ),
    C(
        "cross_entropy_ignore",
        lambda F, T, x, t: F.cross_entropy(x, t, ignore_index=1),
        (randn(6, 4), const([1, 0, 1, 3, 2, 1])),
    ),
    C("cross_entropy_nd", lambda F, T, x, t: F.cross_entropy(x, t), (randn(2, 4, 3, 2), ints(4, 2, 3, 2))),
    C("cross_entropy_1d", lambda F, T, x, t: F.cross_entropy(x, t), (randn(4), const(2))),
    C(
        "cross_entropy_smooth",
        lambda F, T, x, t: F.cross_entropy(x, t, label_smoothing=0.1),
        (randn(5, 4), ints(4, 5)),
        grad_fn=False,
    ),
    C(
        "cross_entropy_smooth_w_ign",
        lambda F, T, x, t, w: F.cross_entropy(x, t, weight=w, ignore_index=0, label_smoothing=0.2),
        (randn(6, 4), const([1, 0, 1, 3, 2, 0]), unif(4, grad=False)),
        grad_fn=False,
    ),
    C(
        "cross_entropy_probs",
        lambda F, T, x, p: F.cross_entropy(x, p),
        (randn(5, 4), probs(5, 4)),
        grad_fn=False,
    ),
    C(
        "cross_entropy_probs_w_smooth",
        lambda F, T, x, p, w: F.cross_entropy(x, p, weight=w, label_smoothing=0.1, reduction="none"),
        (randn(5, 4, 2), probs(5, 4, 2), unif(4, grad=False)),
        grad_fn=False,
    ),
    C("nll", lambda F, T, x, t: F.nll_loss(x, t), (randn(5, 4), ints(4, 5))),
    C(
        "nll_weight_none",
        lambda F, T, x, t, w: F.nll_loss(x, t, weight=w, reduction="none"),
        (randn(5, 4), ints(4, 5), unif(4, grad=False)),
    ),
    C("nll_nd", lambda F, T, x, t: F.nll_loss(x, t, reduction="sum"), (randn(2, 3, 4), ints(3, 2, 4))),
    C("nll_nd_none", lambda F, T, x, t: F.nll_loss(x, t, reduction="none"), (randn(2, 3, 4), ints(3, 2, 4))),
    C(
        "nll_4d_none",
        lambda F, T, x, t: F.nll_loss(x, t, reduction="none", ignore_index=0),
        (randn(2, 3, 2, 2), ints(3, 2, 2, 2)),
    ),
    C("nll_5d", lambda F, T, x, t: F.nll_loss(x, t), (randn(2, 3, 2, 1, 2), ints(3, 2, 2, 1, 2))),
    C("bce", lambda F, T, x, y: F.binary_cross_entropy(x, y), (unif(3, 4), unif(3, 4))),
    C(
        "bce_weight",
        lambda F, T, x, y, w: F.binary_cross_entropy(x, y, weight=w, reduction="sum"),
        (unif(3, 4), unif(3, 4), unif(4, grad=False)),
    ),
    C(
        "bce_logits",
        lambda F, T, x, y: F.binary_cross_entropy_with_logits(x, y),
        (randn(3, 4, scale=3), unif(3, 4)),
    ),
    C(
        "bce_logits_pw",
        lambda F, T, x, y, w, p: F.binary_cross_entropy_with_logits(
            x, y, weight=w, pos_weight=p, reduction="none"
        ),
        (randn(3, 4, scale=3), unif(3, 4), unif(4, grad=False), unif(4, lo=0.5, hi=3, grad=False)),
    ),
    C(
        "kl_div",
        lambda F, T, x, y: F.kl_div(x, y, reduction="batchmean"),
        (randn(3, 4), unif(3, 4)),
        grad_fn=False,
    ),
    C(
        "kl_div_log_target",
        lambda F, T, x, y: F.kl_div(x, y, reduction="sum", log_target=True),
        (randn(3, 4), randn(3, 4)),
        grad_fn=False,
    ),
    C(
        "kl_div_zero_target",
        lambda F, T, x, y: F.kl_div(x, y, reduction="none"),
        (randn(2, 3), const([[0.0, 0.5, 0.5], [1.0, 0.0, 0.0]])),
        grad_fn=False,
    ),
    C(
        "poisson_nll",
        lambda F, T, x, y: F.poisson_nll_loss(x, y),
        (randn(3, 4), unif(3, 4, lo=0, hi=4, grad=False)),
    ),
    C(
        "poisson_nll_full",
        lambda F, T, x, y: F.poisson_nll_loss(x, y, log_input=False, full=True),
        (unif(3, 4, lo=0.5, hi=3), unif(3, 4, lo=0, hi=4, grad=False)),
    ),
    C(
        "gaussian_nll",
        lambda F, T, x, y, v: F.gaussian_nll_loss(x, y, v),
        (randn(3, 4), randn(3, 4), unif(3, 4)),
    ),
    C(
        "gaussian_nll_full_hom",
        lambda F, T, x, y, v: F.gaussian_nll_loss(x, y, v, full=True, reduction="sum"),
        (randn(3, 4), randn(3, 4), unif(3)),
    ),
    C(
        "cosine_embedding",
        lambda F, T, a, b, y: F.cosine_embedding_loss(a, b, y, margin=0.1),
        (randn(4, 3), randn(4, 3), signs(4)),
    ),
    C(
        "margin_ranking",
        lambda F, T, a, b, y: F.margin_ranking_loss(a, b, y, margin=0.2),
        (randn(5), randn(5), signs(5)),
    ),
    C(
        "hinge_embedding",
        lambda F, T, x, y: F.hinge_embedding_loss(x, y, margin=0.5),
        (randn(3, 4), signs(3, 4)),
    ),
    C(
        "triplet",
        lambda F, T, a, p, n: F.triplet_margin_loss(a, p, n),
        (randn(4, 3), randn(4, 3), randn(4, 3)),
    ),
    C(
        "triplet_swap_p1",
        lambda F, T, a, p, n: F.triplet_margin_loss(a, p, n, p=1, swap=True, margin=2.0),
        (randn(4, 3), randn(4, 3), randn(4, 3)),
    ),
    C(
        "multilabel_soft_margin",
        lambda F, T, x, y: F.multilabel_soft_margin_loss(x, y),
        (randn(3, 4), In(lambda r: (r.random((3, 4)) < 0.5) * 1.0, False)),
    ),
    C("soft_margin", lambda F, T, x, y: F.soft_margin_loss(x, y), (randn(3, 4), signs(3, 4)), grad_fn=False),
]


def _make(case: Case, dtype: str, seed: int):
    rng = np.random.default_rng(seed)
    arrays = []
    for spec in case.inputs:
        a = np.asarray(spec.make(rng))
        if a.dtype.kind == "f":
            a = a.astype(dtype)
        arrays.append((a, spec.grad and a.dtype.kind == "f"))
    return arrays


def _run(mod, F, arrays, case):
    ts = []
    for a, g in arrays:
        t = mod.tensor(a.copy())
        if g:
            t.requires_grad_(True)
        ts.append(t)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = case.fn(F, mod, *ts)
    return ts, out


def _tol(dtype, case):
    return (case.rtol32, 1e-5) if dtype == "float32" else (1e-10, 1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_parity_with_torch(case: Case, dtype: str):
    seed = sum(map(ord, case.name))
    arrays = _make(case, dtype, seed)
    ets, eout = _run(ember, EF, arrays, case)
    tts, tout = _run(torch, TF, arrays, case)
    rtol, atol = _tol(dtype, case)
    assert eout.dtype.name == str(tout.dtype).removeprefix("torch.")
    assert tuple(eout.shape) == tuple(tout.shape)
    np.testing.assert_allclose(eout.detach().numpy(), tout.detach().numpy(), rtol=rtol, atol=atol)
    if case.grad_fn and tout.grad_fn is not None:
        assert eout.grad_fn is not None and eout.grad_fn.name() == type(tout.grad_fn).__name__
    if not tout.requires_grad:
        return
    w = np.random.default_rng(seed + 1).standard_normal(tuple(tout.shape)).astype(dtype)
    (tout * torch.tensor(w)).sum().backward()
    (eout * ember.tensor(w)).sum().backward()
    for et, tt in zip(ets, tts, strict=True):
        if tt.grad is None:
            continue
        assert et.grad is not None
        np.testing.assert_allclose(et.grad.numpy(), tt.grad.numpy(), rtol=rtol, atol=atol)


# -- second derivatives of the primitives (float64 gradcheck / gradgradcheck) --------------------
def _t(a, grad=True):
    return ember.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


_r = np.random.default_rng(7)
X = _r.uniform(0.2, 1.5, (3, 4)) * np.where(_r.random((3, 4)) < 0.5, -1, 1)
P = _r.uniform(0.1, 0.9, (3, 4))
GG = [
    ("softmax", lambda x: EF.softmax(x, 1), (X,)),
    ("log_softmax", lambda x: EF.log_softmax(x, 0), (X,)),
    ("gelu", EF.gelu, (X,)),
    ("gelu_tanh", lambda x: EF.gelu(x, "tanh"), (X,)),
    ("silu", EF.silu, (X,)),
    ("elu", lambda x: EF.elu(x, 0.5), (X,)),
    ("celu", lambda x: EF.celu(x, 0.5), (X,)),
    ("leaky_relu", lambda x: EF.leaky_relu(x, 0.1), (X,)),
    ("softplus", lambda x: EF.softplus(x, 2.0), (X,)),
    ("mish", EF.mish, (X,)),
    ("hardswish", EF.hardswish, (X * 2,)),
    ("logsigmoid", EF.logsigmoid, (X,)),
    ("glu", lambda x: EF.glu(x, 1), (X,)),
    ("prelu", EF.prelu, (X, np.array([0.3, -0.2, 0.5, 0.1]))),
    ("mse", EF.mse_loss, (X, P)),
    ("smooth_l1", lambda x, y: EF.smooth_l1_loss(x, y, beta=0.5), (X, P)),
    ("huber", lambda x, y: EF.huber_loss(x, y, delta=0.5), (X, P)),
    ("bce", EF.binary_cross_entropy, (P, P[::-1].copy())),
    (
        "bce_logits",
        lambda x, y, p: EF.binary_cross_entropy_with_logits(x, y, pos_weight=p),
        (X, P, P[0] + 0.5),
    ),
    ("nll", lambda x: EF.nll_loss(x, ember.tensor([0, 3, 1])), (X,)),
    ("layer_norm", lambda x, w, b: EF.layer_norm(x, (4,), w, b), (X, P[0], P[1])),
    ("group_norm", lambda x, w, b: EF.group_norm(x.reshape(3, 4, 1), 2, w, b), (X, P[0], P[1])),
    ("batch_norm", lambda x, w, b: EF.batch_norm(x, None, None, w, b, training=True), (X, P[0], P[1])),
    ("embedding", lambda w: EF.embedding(ember.tensor([[0, 2], [2, 1]]), w), (X,)),
    ("pad", lambda x: EF.pad(x, (1, -1, 2, 0), value=3.0), (X,)),
]


@pytest.mark.parametrize("name,fn,arrays", GG, ids=[g[0] for g in GG])
def test_gradcheck_and_gradgradcheck(name, fn, arrays):
    inputs = tuple(_t(a) for a in arrays)
    assert ember.autograd.gradcheck(fn, inputs)
    assert ember.autograd.gradgradcheck(fn, inputs)


# -- behaviours ----------------------------------------------------------------------------------
def test_dropout_matches_torch_after_seed():
    for dtype in ("float32", "float64"):
        x = np.random.default_rng(0).standard_normal((8, 33)).astype(dtype)
        torch.manual_seed(3)
        tx = torch.tensor(x, requires_grad=True)
        tout = TF.dropout(tx, 0.3)
        ember.manual_seed(3)
        ex = ember.tensor(x, requires_grad=True)
        eout = EF.dropout(ex, 0.3)
        np.testing.assert_array_equal(eout.detach().numpy(), tout.detach().numpy())
        assert eout.grad_fn.name() == type(tout.grad_fn).__name__ == "MulBackward0"
        tout.sum().backward()
        eout.sum().backward()
        np.testing.assert_array_equal(ex.grad.numpy(), tx.grad.numpy())


def test_alpha_dropout_matches_torch_after_seed():
    x = np.random.default_rng(0).standard_normal((6, 7)).astype("float32")
    torch.manual_seed(5)
    t = TF.alpha_dropout(torch.tensor(x), 0.2, training=True)
    ember.manual_seed(5)
    e = EF.alpha_dropout(ember.tensor(x), 0.2, training=True)
    np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-6, atol=1e-6)
    torch.manual_seed(5)
    t = TF.dropout2d(torch.tensor(x.reshape(2, 3, 7, 1)), 0.5)
    ember.manual_seed(5)
    e = EF.dropout2d(ember.tensor(x.reshape(2, 3, 7, 1)), 0.5)
    np.testing.assert_array_equal(e.numpy(), t.numpy())


def test_dropout_eval_and_edge_probabilities():
    x = ember.randn(3, 4, requires_grad=True)
    assert EF.dropout(x, 0.5, training=False) is x
    assert EF.dropout(x, 0.0) is x
    assert (EF.dropout(x, 1.0) == 0).all()
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got 1.5"):
        EF.dropout(x, 1.5)


def test_inplace_activation_modifies_input():
    x = ember.tensor([-1.0, 2.0])
    y = EF.relu(x, inplace=True)
    assert y is x and x.tolist() == [0.0, 2.0]
    z = ember.tensor([-1.0, 2.0])
    EF.leaky_relu_(z, 0.5)
    assert z.tolist() == [-0.5, 2.0]


def test_one_hot():
    t = torch.tensor([[0, 2], [1, 3]])
    assert EF.one_hot(ember.tensor(t.numpy())).tolist() == TF.one_hot(t).tolist()
    assert EF.one_hot(ember.tensor([1]), 4).tolist() == [[0, 1, 0, 0]]
    assert EF.one_hot(ember.tensor([1])).dtype is ember.int64


def _check_same_error(fn_e, fn_t):
    with pytest.raises(Exception) as te:
        fn_t()
    with pytest.raises(type(te.value)) as ee:
        fn_e()
    assert str(ee.value) == str(te.value)


ERRORS = [
    ("nll_batch", lambda F, T: F.nll_loss(T.zeros(3, 4), T.tensor([0, 1]))),
    ("nll_oob", lambda F, T: F.nll_loss(T.zeros(3, 4), T.tensor([0, 1, 7]))),
    ("nll_dtype", lambda F, T: F.nll_loss(T.zeros(3, 4), T.tensor([0, 1, 2], dtype=T.int32))),
    ("nll_target_dims", lambda F, T: F.nll_loss(T.zeros(3, 4, 2), T.tensor([0, 1, 2]))),
    ("nll_weight", lambda F, T: F.nll_loss(T.zeros(3, 4), T.tensor([0, 1, 2]), weight=T.ones(3))),
    ("linear_shapes", lambda F, T: F.linear(T.zeros(3, 4), T.zeros(5, 3))),
    ("linear_dtype", lambda F, T: F.linear(T.zeros(3, 4, dtype=T.float64), T.zeros(5, 4))),
    ("embedding_oob", lambda F, T: F.embedding(T.tensor([5]), T.zeros(5, 2))),
    ("embedding_float", lambda F, T: F.embedding(T.tensor([1.0]), T.zeros(5, 2))),
    ("glu_odd", lambda F, T: F.glu(T.zeros(3, 3))),
    ("bn_one_value", lambda F, T: F.batch_norm(T.zeros(1, 3), None, None, training=True)),
    ("layer_norm_shape", lambda F, T: F.layer_norm(T.zeros(3, 4), (3,))),
    ("group_norm_groups", lambda F, T: F.group_norm(T.zeros(3, 4), 3)),
    ("pad_odd", lambda F, T: F.pad(T.zeros(3, 4), (1,))),
    ("pad_long", lambda F, T: F.pad(T.zeros(3, 4), (1, 1, 1, 1, 1, 1))),
    ("one_hot_negative", lambda F, T: F.one_hot(T.tensor([1, -1]))),
    ("one_hot_big", lambda F, T: F.one_hot(T.tensor([1, 5]), 3)),
    ("one_hot_float", lambda F, T: F.one_hot(T.tensor([1.0]))),
    ("prelu_channels", lambda F, T: F.prelu(T.zeros(3, 4), T.ones(3))),
    ("bad_reduction", lambda F, T: F.mse_loss(T.zeros(2), T.zeros(2), reduction="foo")),
    ("ce_target_size", lambda F, T: F.cross_entropy(T.zeros(3, 4, 5), T.zeros(3, 6, dtype=T.int64))),
    ("bce_range", lambda F, T: F.binary_cross_entropy(T.tensor([1.5]), T.tensor([1.0]))),
    ("bce_size", lambda F, T: F.binary_cross_entropy(T.tensor([0.5]), T.tensor([[1.0]]))),
    ("bce_logits_size", lambda F, T: F.binary_cross_entropy_with_logits(T.tensor([0.5]), T.tensor([[1.0]]))),
    (
        "triplet_margin",
        lambda F, T: F.triplet_margin_loss(T.zeros(2, 3), T.zeros(2, 3), T.zeros(2, 3), margin=0),
    ),
]


@pytest.mark.parametrize("name,fn", ERRORS, ids=[e[0] for e in ERRORS])
def test_error_messages_match_torch(name, fn):
    _check_same_error(lambda: fn(EF, ember), lambda: fn(TF, torch))


def test_legacy_reduction_flags_warn_like_torch():
    with pytest.warns(
        UserWarning,
        match=r"size_average and reduce args will be deprecated, please use reduction='sum' instead\.",
    ):
        out = EF.mse_loss(ember.ones(3), ember.zeros(3), size_average=False)
    assert out.item() == 3.0
    with pytest.warns(UserWarning, match="reduction='none'"):
        assert EF.l1_loss(ember.ones(3), ember.zeros(3), reduce=False).shape == (3,)


def test_softmax_implicit_dim_warns():
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax has been deprecated"):
        out = EF.softmax(ember.tensor([[1.0, 2.0], [3.0, 4.0]]))
    np.testing.assert_allclose(
        out.numpy(), TF.softmax(torch.tensor([[1.0, 2.0], [3.0, 4.0]]), 1).numpy(), rtol=1e-6
    )


def test_mse_broadcast_warns():
    with pytest.warns(UserWarning, match="Using a target size"):
        EF.mse_loss(ember.zeros(3, 1), ember.zeros(3))
