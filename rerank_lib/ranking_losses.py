"""Ranking losses in TensorFlow: pointwise, pairwise, listwise (notebook 05).

Every loss takes `scores` s and `labels` y of shape (n, K) — n lists (sessions) of K
candidates — and an optional boolean `mask` (n, K) that marks the real candidates of
padded lists. Labels are clicks (0/1) or graded relevance (>= 0). Each loss is the mean
over lists of a per-list loss; a list that carries no signal (e.g. no click for the
pairwise and listwise losses) contributes 0 and is left out of the mean.

    pointwise_mse            l = mean_i (s_i - y_i)^2
    sigmoid_cross_entropy    l = mean_i -[y_i log sigma(s_i) + (1 - y_i) log(1 - sigma(s_i))],  y = min(label, 1)
    ranknet                  l = mean_{(i,j): y_i > y_j} log(1 + exp(-(s_i - s_j)))       (Burges et al., ICML 2005)
    bpr                      l = mean_{i clicked, j not} -log sigma(s_i - s_j)             (Rendle et al., UAI 2009)
    listnet                  l = -sum_i (y_i / sum_j y_j) log softmax(s)_i                (Cao et al., ICML 2007, top-one)
    lambdarank               l = sum_{(i,j): y_i > y_j} |dNDCG_ij| log(1 + exp(-(s_i - s_j))) / sum |dNDCG_ij|
                             (Burges, "From RankNet to LambdaRank to LambdaMART", 2010)

RankNet with binary labels and BPR are the same function of the scores; they differ in
where they come from (graded relevance vs implicit feedback) and, here, in RankNet
using every ordered pair of distinct grades while BPR uses only (clicked, not clicked).
In LambdaRank |dNDCG_ij| is the change in NDCG@K from swapping i and j in the ranking
by the current scores; it is treated as a constant weight (no gradient flows through
the sort), as in the original.
"""

from __future__ import annotations

from rerank_lib import compat  # noqa: F401  (quiets TensorFlow's log before the import)

import tensorflow as tf  # noqa: E402


def _prepare(scores, labels, mask):
    scores = tf.convert_to_tensor(scores)
    if not scores.dtype.is_floating:
        scores = tf.cast(scores, tf.float32)
    labels = tf.cast(tf.convert_to_tensor(labels), scores.dtype)
    if scores.shape.rank != 2:
        raise ValueError(f"scores must have shape (n_lists, list_size), got {scores.shape}")
    if labels.shape != scores.shape:
        raise ValueError(f"labels must have the same shape as scores {scores.shape}, got {labels.shape}")
    if mask is None:
        mask = tf.ones_like(scores, dtype=tf.bool)
    else:
        mask = tf.convert_to_tensor(mask, dtype=tf.bool)
        if mask.shape != scores.shape:
            raise ValueError(f"mask must have the same shape as scores {scores.shape}, got {mask.shape}")
    return scores, labels, mask


def _mean_over_lists(per_list, has_signal):
    """Mean of per-list losses over the lists that carry a signal (0 if none does)."""
    weight = tf.cast(has_signal, per_list.dtype)
    return tf.math.divide_no_nan(tf.reduce_sum(per_list * weight), tf.reduce_sum(weight))


def pointwise_mse(scores, labels, mask=None):
    """Mean over lists of mean_i (s_i - y_i)^2 over the real candidates."""
    scores, labels, mask = _prepare(scores, labels, mask)
    valid = tf.cast(mask, scores.dtype)
    per_list = tf.math.divide_no_nan(tf.reduce_sum(tf.square(scores - labels) * valid, axis=1), tf.reduce_sum(valid, axis=1))
    return _mean_over_lists(per_list, tf.reduce_any(mask, axis=1))


def sigmoid_cross_entropy(scores, labels, mask=None):
    """Mean over lists of the binary cross-entropy of sigma(s_i) against y_i = min(label_i, 1).

    Graded labels (e.g. click + purchase = 2) are capped at 1: above 1 the loss would have no
    lower bound in s_i and its gradient would never vanish.
    """
    scores, labels, mask = _prepare(scores, labels, mask)
    labels = tf.minimum(labels, tf.ones_like(labels))
    valid = tf.cast(mask, scores.dtype)
    # the numerically stable form of -[y log sigma(s) + (1 - y) log(1 - sigma(s))]
    elementwise = tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=scores)
    per_list = tf.math.divide_no_nan(tf.reduce_sum(elementwise * valid, axis=1), tf.reduce_sum(valid, axis=1))
    return _mean_over_lists(per_list, tf.reduce_any(mask, axis=1))


def _pairs(scores, labels, mask):
    """Pairwise differences s_i - s_j and the indicator of pairs (i, j) with y_i > y_j, both real."""
    differences = scores[:, :, None] - scores[:, None, :]
    both_real = tf.logical_and(mask[:, :, None], mask[:, None, :])
    preferred = tf.logical_and(labels[:, :, None] > labels[:, None, :], both_real)
    return differences, preferred


def _weighted_pair_loss(differences, weights):
    """Per-list weighted mean of log(1 + exp(-(s_i - s_j))) and whether the list has any pair."""
    pair_loss = tf.math.softplus(-differences)
    total_weight = tf.reduce_sum(weights, axis=[1, 2])
    per_list = tf.math.divide_no_nan(tf.reduce_sum(pair_loss * weights, axis=[1, 2]), total_weight)
    return per_list, total_weight > 0


def ranknet(scores, labels, mask=None):
    """RankNet: mean over ordered pairs y_i > y_j of log(1 + exp(-(s_i - s_j)))."""
    scores, labels, mask = _prepare(scores, labels, mask)
    differences, preferred = _pairs(scores, labels, mask)
    per_list, has_pairs = _weighted_pair_loss(differences, tf.cast(preferred, scores.dtype))
    return _mean_over_lists(per_list, has_pairs)


def bpr(scores, labels, mask=None):
    """BPR: mean over (clicked i, not-clicked j) pairs of -log sigma(s_i - s_j); labels > 0 count as clicked."""
    scores, labels, mask = _prepare(scores, labels, mask)
    positive = tf.cast(labels > 0, scores.dtype)
    differences, _ = _pairs(scores, positive, mask)
    both_real = tf.logical_and(mask[:, :, None], mask[:, None, :])
    pairs = positive[:, :, None] * (1 - positive[:, None, :]) * tf.cast(both_real, scores.dtype)
    per_list, has_pairs = _weighted_pair_loss(differences, pairs)
    return _mean_over_lists(per_list, has_pairs)


def listnet(scores, labels, mask=None):
    """ListNet (top-one): cross-entropy between y / sum(y) and softmax(s) over the real candidates."""
    scores, labels, mask = _prepare(scores, labels, mask)
    valid = tf.cast(mask, scores.dtype)
    labels = labels * valid
    masked_scores = tf.where(mask, scores, tf.fill(tf.shape(scores), tf.constant(-1e9, scores.dtype)))
    log_softmax = tf.nn.log_softmax(masked_scores, axis=1)
    label_sum = tf.reduce_sum(labels, axis=1)
    target = tf.math.divide_no_nan(labels, label_sum[:, None])
    per_list = -tf.reduce_sum(target * tf.where(mask, log_softmax, tf.zeros_like(log_softmax)), axis=1)
    return _mean_over_lists(per_list, label_sum > 0)


def _delta_ndcg(scores, labels, mask):
    """|NDCG change| from swapping i and j in the ranking by the current scores (gains 2^y - 1)."""
    dtype = scores.dtype
    valid = tf.cast(mask, dtype)
    masked_scores = tf.where(mask, scores, tf.fill(tf.shape(scores), tf.constant(-1e9, dtype)))
    order = tf.argsort(masked_scores, axis=1, direction="DESCENDING", stable=True)
    ranks = tf.cast(tf.argsort(order, axis=1, stable=True), dtype) + 1.0  # rank of each candidate, 1-based
    gains = (tf.pow(tf.constant(2.0, dtype), labels) - 1.0) * valid
    discounts = 1.0 / (tf.math.log(ranks + 1.0) / tf.math.log(tf.constant(2.0, dtype)))
    ideal_gains = tf.sort(gains, axis=1, direction="DESCENDING")
    positions = tf.cast(tf.range(1, tf.shape(scores)[1] + 1), dtype)
    ideal_dcg = tf.reduce_sum(ideal_gains / (tf.math.log(positions + 1.0) / tf.math.log(tf.constant(2.0, dtype))), axis=1)
    delta = tf.abs((gains[:, :, None] - gains[:, None, :]) * (discounts[:, :, None] - discounts[:, None, :]))
    return tf.stop_gradient(tf.math.divide_no_nan(delta, ideal_dcg[:, None, None]))


def lambdarank(scores, labels, mask=None):
    """LambdaRank: RankNet pairs weighted by |dNDCG_ij| (a constant), normalised per list."""
    scores, labels, mask = _prepare(scores, labels, mask)
    differences, preferred = _pairs(scores, labels, mask)
    weights = _delta_ndcg(scores, labels, mask) * tf.cast(preferred, scores.dtype)
    per_list, has_pairs = _weighted_pair_loss(differences, weights)
    return _mean_over_lists(per_list, has_pairs)


RANKING_LOSSES = {
    "mse": pointwise_mse,
    "sigmoid": sigmoid_cross_entropy,
    "ranknet": ranknet,
    "bpr": bpr,
    "listnet": listnet,
    "lambdarank": lambdarank,
}


def get_ranking_loss(name: str):
    """A ranking loss by name: one of RANKING_LOSSES."""
    if name not in RANKING_LOSSES:
        raise ValueError(f"loss must be one of {sorted(RANKING_LOSSES)}, got {name!r}")
    return RANKING_LOSSES[name]

