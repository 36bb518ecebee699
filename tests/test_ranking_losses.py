"""Ranking losses: values against independent NumPy loops, gradients against finite differences."""

import itertools

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import expit, log_softmax
from sklearn.metrics import log_loss

from rerank_lib.ranking_losses import RANKING_LOSSES, get_ranking_loss


def softplus(x):
    return np.logaddexp(0.0, x)


def ndcg_full(gains_in_rank_order):
    discounts = 1 / np.log2(np.arange(2, len(gains_in_rank_order) + 2))
    ideal = np.sort(gains_in_rank_order)[::-1]
    ideal_dcg = np.sum(ideal * discounts)
    return np.sum(gains_in_rank_order * discounts) / ideal_dcg if ideal_dcg > 0 else 0.0


def reference(name, s, y):
    """Per-list loss by explicit loops; None when the list carries no signal."""
    K = len(s)
    if name == "mse":
        return np.mean((s - y) ** 2)
    if name == "sigmoid":
        return log_loss(y, expit(s), labels=[0, 1]) if len(set(y)) > 1 else np.mean(
            -(y * np.log(expit(s)) + (1 - y) * np.log(1 - expit(s)))
        )
    if name in ("ranknet", "bpr"):
        labels = (y > 0).astype(float) if name == "bpr" else y
        pairs = [(i, j) for i, j in itertools.permutations(range(K), 2) if labels[i] > labels[j]]
        return np.mean([softplus(-(s[i] - s[j])) for i, j in pairs]) if pairs else None
    if name == "listnet":
        return -np.sum(y / y.sum() * log_softmax(s)) if y.sum() > 0 else None
    if name == "lambdarank":
        order = np.argsort(-s, kind="stable")
        gains = 2.0**y - 1
        base = ndcg_full(gains[order])
        total, weight_sum = 0.0, 0.0
        for i, j in itertools.permutations(range(K), 2):
            if y[i] > y[j]:
                swapped = order.copy()
                a, b = np.where(order == i)[0][0], np.where(order == j)[0][0]
                swapped[a], swapped[b] = swapped[b], swapped[a]
                weight = abs(ndcg_full(gains[swapped]) - base)
                total += weight * softplus(-(s[i] - s[j]))
                weight_sum += weight
        return total / weight_sum if weight_sum > 0 else None
    raise KeyError(name)


@st.composite
def lists(draw, graded=True):
    n = draw(st.integers(1, 4))
    K = draw(st.integers(2, 6))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    scores = rng.normal(scale=2.0, size=(n, K))
    labels = rng.integers(0, 5 if graded else 2, size=(n, K)).astype(float)
    return scores, labels


@pytest.mark.parametrize("name", sorted(RANKING_LOSSES))
@given(data=lists())
def test_values_match_independent_loops(name, data):
    scores, labels = data
    if name == "sigmoid":
        labels = (labels > 0).astype(float)
    per_list = [reference(name, s, y) for s, y in zip(scores, labels)]
    kept = [value for value in per_list if value is not None]
    expected = np.mean(kept) if kept else 0.0
    got = get_ranking_loss(name)(tf.constant(scores), tf.constant(labels)).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", sorted(RANKING_LOSSES))
@settings(max_examples=15)
@given(data=lists())
def test_gradients_match_finite_differences(name, data):
    scores, labels = data
    if name == "sigmoid":
        labels = (labels > 0).astype(float)
    loss_fn = get_ranking_loss(name)
    variable = tf.Variable(scores)
    with tf.GradientTape() as tape:
        loss = loss_fn(variable, tf.constant(labels))
    analytic = tape.gradient(loss, variable)
    analytic = np.zeros_like(scores) if analytic is None else analytic.numpy()
    h = 1e-6
    numeric = np.zeros_like(scores)
    for index in np.ndindex(scores.shape):
        step = np.zeros_like(scores)
        step[index] = h
        plus = loss_fn(tf.constant(scores + step), tf.constant(labels)).numpy()
        minus = loss_fn(tf.constant(scores - step), tf.constant(labels)).numpy()
        numeric[index] = (plus - minus) / (2 * h)
    # lambdarank's weights are constant only while the order by score is unchanged: skip near-ties
    if name == "lambdarank":
        gaps = np.abs(scores[:, :, None] - scores[:, None, :])[:, ~np.eye(scores.shape[1], dtype=bool)]
        if gaps.min() < 1e-4:
            return
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("name", sorted(RANKING_LOSSES))
def test_padding_with_a_mask_changes_nothing(name):
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(3, 4))
    labels = rng.integers(0, 2, size=(3, 4)).astype(float)
    labels[:, 0] = 1.0
    labels[:, 1] = 0.0
    padded_scores = np.concatenate([scores, rng.normal(size=(3, 2))], axis=1)
    padded_labels = np.concatenate([labels, np.ones((3, 2))], axis=1)  # junk labels under the mask
    mask = np.concatenate([np.ones((3, 4), bool), np.zeros((3, 2), bool)], axis=1)
    loss_fn = get_ranking_loss(name)
    np.testing.assert_allclose(
        loss_fn(tf.constant(padded_scores), tf.constant(padded_labels), tf.constant(mask)).numpy(),
        loss_fn(tf.constant(scores), tf.constant(labels)).numpy(),
        rtol=1e-12,
    )


@pytest.mark.parametrize("name", ["ranknet", "bpr", "listnet", "lambdarank"])
def test_relative_losses_ignore_a_shift_and_lists_without_signal(name):
    loss_fn = get_ranking_loss(name)
    scores = np.array([[0.5, -1.0, 2.0], [1.0, 2.0, 3.0]])
    labels = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 0.0]])  # the second list has no click
    value = loss_fn(tf.constant(scores), tf.constant(labels)).numpy()
    np.testing.assert_allclose(loss_fn(tf.constant(scores + 7.0), tf.constant(labels)).numpy(), value, rtol=1e-12)
    np.testing.assert_allclose(loss_fn(tf.constant(scores[:1]), tf.constant(labels[:1])).numpy(), value, rtol=1e-12)
    assert loss_fn(tf.constant(scores[1:]), tf.constant(labels[1:])).numpy() == 0.0


def test_better_ranking_gets_lower_loss():
    labels = np.array([[3.0, 2.0, 1.0, 0.0]])
    good = np.array([[4.0, 3.0, 2.0, 1.0]])
    bad = good[:, ::-1].copy()
    for name, loss_fn in RANKING_LOSSES.items():
        if name in ("mse", "sigmoid"):
            continue
        assert loss_fn(tf.constant(good), tf.constant(labels)) < loss_fn(tf.constant(bad), tf.constant(labels)), name


def test_bad_input_names_the_argument():
    with pytest.raises(ValueError, match=r"scores must have shape \(n_lists, list_size\)"):
        get_ranking_loss("ranknet")(tf.zeros([3]), tf.zeros([3]))
    with pytest.raises(ValueError, match="labels must have the same shape"):
        get_ranking_loss("listnet")(tf.zeros([2, 3]), tf.zeros([2, 4]))
    with pytest.raises(ValueError, match="mask must have the same shape"):
        get_ranking_loss("bpr")(tf.zeros([2, 3]), tf.zeros([2, 3]), tf.ones([2, 2], tf.bool))
    with pytest.raises(ValueError, match="loss must be one of"):
        get_ranking_loss("hinge")


def test_sigmoid_caps_graded_labels_at_one():
    scores = tf.constant([[2.0, -1.0, 0.5]])
    loss = get_ranking_loss("sigmoid")
    np.testing.assert_allclose(
        loss(scores, tf.constant([[2.0, 0.0, 1.0]])).numpy(), loss(scores, tf.constant([[1.0, 0.0, 1.0]])).numpy()
    )
