"""The online learner: micro-batches, rejected updates, checkpoint/resume; features and rankers."""

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from rerank_lib.features import FEATURES, FeatureEncoder, RankingInputs
from rerank_lib.online import (
    LearningPolicy,
    OnlineLearner,
    StaticPolicy,
    run_progressive,
    summarize_phases,
)
from rerank_lib.rankers import RANKER_KINDS, ArticleRanker, make_ranker
from rerank_lib.shop import bm25_ranker, make_shop, oracle_ranker


def small_shop(seed=1):
    return make_shop(n_products=800, n_shoppers=200, k=20, seed=seed)


def encoder_for(shop):
    return FeatureEncoder(shop.catalog, n_shoppers=len(shop.shoppers), n_queries=len(shop.queries))


def build(kind="hybrid", seed=1, **options):
    shop = small_shop(seed)
    encoder = encoder_for(shop)
    ranker = make_ranker(kind, encoder, seed=0, **({"dropout": 0.2} if kind in ("mlp", "hybrid") else {}))
    learner = OnlineLearner(ranker, batch_size=16, **options)
    return shop, encoder, learner


def snapshot(learner):
    slots = [v.numpy().copy() for v in learner.optimizer.variables if hasattr(v, "numpy")]
    return [v.numpy().copy() for v in learner.variables], slots, int(learner.step.numpy())


def assert_unchanged(learner, before):
    weights, slots, step = snapshot(learner)
    assert all(a.tobytes() == b.tobytes() for a, b in zip(weights, before[0]))
    assert all(a.tobytes() == b.tobytes() for a, b in zip(slots, before[1]))
    assert step == before[2]


@pytest.fixture(scope="module")
def trained():
    shop, encoder, learner = build()
    run_progressive(shop, [LearningPolicy(encoder, learner)], 200, batch_size=50)
    batch = shop.sample_sessions(8)
    inputs = encoder.encode(batch)
    labels = np.zeros(inputs.product_ids.shape, np.float32)
    labels[:, 0] = 1
    return learner, inputs, labels


def modified(inputs, **changes):
    return RankingInputs(**{**inputs.as_dict(), **changes})


BAD_INPUTS = {
    "empty candidate list": (lambda i, l: (modified(i, dense=i.dense[:, :0], product_ids=i.product_ids[:, :0],
                                                    category_ids=i.category_ids[:, :0], brand_ids=i.brand_ids[:, :0],
                                                    price_band_ids=i.price_band_ids[:, :0], mask=i.mask[:, :0]), l[:, :0]),
                             "dense must not be empty|at least one candidate"),
    "duplicate product ids": (lambda i, l: (modified(i, product_ids=np.concatenate([i.product_ids[:, :1], i.product_ids[:, :-1]], 1)), l),
                              "product_ids must not repeat"),
    "NaN feature": (lambda i, l: (modified(i, dense=np.where(np.arange(i.dense.size).reshape(i.dense.shape) == 5, np.nan, i.dense).astype(np.float32)), l),
                    "dense must be finite"),
    "inf feature": (lambda i, l: (modified(i, dense=np.full_like(i.dense, np.inf)), l), "dense must be finite"),
    "wrong feature count": (lambda i, l: (modified(i, dense=i.dense[:, :, :-1]), l), f"dense must have {len(FEATURES)} features"),
    "wrong rank": (lambda i, l: (modified(i, dense=i.dense[0]), l), "dense must have rank 3"),
    "ids shape": (lambda i, l: (modified(i, shopper_ids=i.shopper_ids[:-1]), l), "shopper_ids must have shape"),
    "float ids": (lambda i, l: (modified(i, product_ids=i.product_ids.astype(float)), l), "product_ids must be integer ids"),
    "labels shape": (lambda i, l: (i, l[:, :-1]), "labels must have shape"),
    "NaN labels": (lambda i, l: (i, np.full_like(l, np.nan)), "labels must be finite"),
    "negative labels": (lambda i, l: (i, -l), "labels must be >= 0"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_rejected_batch_leaves_everything_bit_for_bit_unchanged(trained, case):
    learner, inputs, labels = trained
    make, message = BAD_INPUTS[case]
    bad_inputs, bad_labels = make(inputs, labels)
    before = snapshot(learner)
    pending = len(learner._pending)
    with pytest.raises((ValueError, TypeError), match=message):
        learner.update(bad_inputs, bad_labels)
    with pytest.raises((ValueError, TypeError), match=message):
        learner.learn(bad_inputs, bad_labels)
    assert_unchanged(learner, before)
    assert len(learner._pending) == pending


def test_non_finite_gradients_are_refused(trained):
    learner, inputs, labels = trained
    before = snapshot(learner)
    huge = modified(inputs, dense=np.full_like(inputs.dense, 3e38))  # finite, but the scores overflow
    with pytest.raises(FloatingPointError, match="weights unchanged"):
        learner.update(huge, labels)
    assert_unchanged(learner, before)
    learner.update(inputs, labels)  # and the learner still works
    assert int(learner.step.numpy()) == before[2] + 1


def test_learn_takes_one_step_per_micro_batch():
    shop, encoder, learner = build(kind="linear")
    batch = shop.sample_sessions(40)
    inputs = encoder.encode(batch)
    labels = np.zeros(inputs.product_ids.shape, np.float32)
    labels[:, 3] = 1
    assert len(learner.learn(inputs, labels)) == 2  # 40 sessions, N = 16: two steps, 8 pending
    assert int(learner.step.numpy()) == 2 and sum(len(l) for _, l in learner._pending) == 8
    assert len(learner.learn(inputs.take(slice(0, 8)), labels[:8])) == 1


@pytest.mark.parametrize("kind", ["hybrid", "mlp"])
def test_stop_and_resume_gives_identical_weights(kind, tmp_path):
    options = dict(replay_capacity=100, replay_batch=8)
    shop, encoder, learner = build(kind, **options)
    run_progressive(shop, [LearningPolicy(encoder, learner)], 600, batch_size=25)
    uninterrupted = [v.numpy() for v in learner.variables]

    shop, encoder, learner = build(kind, **options)
    run_progressive(shop, [LearningPolicy(encoder, learner)], 275, batch_size=25)  # stops mid micro-batch
    learner.save(tmp_path)
    history = encoder.state()
    del learner
    _, encoder, resumed = build(kind, **options)  # a fresh process would build the same objects
    resumed.restore(tmp_path)
    encoder.load_state(history)
    run_progressive(shop, [LearningPolicy(encoder, resumed)], 325, batch_size=25)
    assert int(resumed.step.numpy()) == 600 // 16
    for a, b in zip(uninterrupted, (v.numpy() for v in resumed.variables)):
        assert a.tobytes() == b.tobytes()


def test_restore_needs_a_checkpoint(tmp_path):
    _, _, learner = build("linear")
    with pytest.raises(FileNotFoundError, match="no learner checkpoint"):
        learner.restore(tmp_path)


class TestFeatures:
    def test_cold_start_and_history(self):
        shop = small_shop()
        encoder = FeatureEncoder(shop.catalog, n_shoppers=50, n_queries=len(shop.queries))  # only 50 known
        batch = shop.sample_sessions(200)
        inputs = encoder.encode(batch).validate(len(FEATURES))
        assert inputs.dense.shape == (200, 20, len(FEATURES)) and inputs.dense.dtype == np.float32
        unknown = batch.shoppers >= 50
        assert unknown.any() and (inputs.shopper_ids[unknown] == 0).all()
        assert (inputs.shopper_ids[~unknown] == batch.shoppers[~unknown] + 1).all()
        assert (inputs.dense[..., FEATURES.index("has_history")] == 0).all()
        feedback = shop.respond(batch, bm25_ranker(batch))
        encoder.observe(batch, feedback)
        again = encoder.encode(batch)
        clicked_known = feedback.clicks.any(axis=1) & ~unknown
        has_history = again.dense[:, 0, FEATURES.index("has_history")] == 1
        assert (has_history == clicked_known | (has_history & ~unknown)).all() and has_history[clicked_known].all()
        assert not has_history[unknown].any()  # unknown shoppers never get a history
        share = again.dense[..., FEATURES.index("history_category")]
        assert ((share >= 0) & (share <= 1)).all() and share[clicked_known].max() > 0
        # a clicked product is flagged for that shopper
        i, r = np.argwhere(feedback.clicks & ~unknown[:, None])[0]
        j = int(np.flatnonzero(batch.candidates[i] == feedback.products[i, r])[0])
        assert again.dense[i, j, FEATURES.index("history_product")] > 0

    def test_state_round_trip(self):
        shop = small_shop()
        encoder = encoder_for(shop)
        batch = shop.sample_sessions(100)
        encoder.observe(batch, shop.respond(batch, bm25_ranker(batch)))
        other = encoder_for(shop)
        other.load_state(encoder.state())
        np.testing.assert_array_equal(other.encode(batch).dense, encoder.encode(batch).dense)

    def test_bad_settings(self):
        shop = small_shop()
        with pytest.raises(ValueError, match="history_decay must be in"):
            FeatureEncoder(shop.catalog, n_shoppers=5, n_queries=5, history_decay=1.5)
        with pytest.raises(ValueError, match="n_shoppers must be an int > 0"):
            FeatureEncoder(shop.catalog, n_shoppers=0, n_queries=5)


class TestRankers:
    @pytest.mark.parametrize("kind", RANKER_KINDS)
    def test_scores_shape_and_determinism(self, kind):
        shop = small_shop()
        encoder = encoder_for(shop)
        inputs = encoder.encode(shop.sample_sessions(5))
        a = OnlineLearner(make_ranker(kind, encoder, seed=3)).score(inputs)
        b = OnlineLearner(make_ranker(kind, encoder, seed=3)).score(inputs)
        assert a.shape == (5, 20) and np.isfinite(a).all()
        np.testing.assert_array_equal(a, b)

    def test_unknown_kind(self):
        with pytest.raises(ValueError, match="model must be one of"):
            make_ranker("tree", encoder_for(small_shop()))

    def test_l2_excludes_biases(self):
        ranker = make_ranker("mlp", encoder_for(small_shop()), l2=0.5)
        expected = 0.5 * sum(float(tf.reduce_sum(tf.square(v))) for v in ranker.stack.weights)
        assert float(ranker.regularization()) == pytest.approx(expected, rel=1e-5)

    def test_article_loss_is_the_mse_to_the_clicked_embedding(self):
        shop = small_shop()
        encoder = encoder_for(shop)
        inputs = encoder.encode(shop.sample_sessions(3))
        ranker = make_ranker("article", encoder)
        assert isinstance(ranker, ArticleRanker)
        tensors = {k: tf.constant(v) for k, v in inputs.as_dict().items()}
        labels = np.zeros((3, 20), np.float32)
        labels[0, 2] = labels[1, 5] = 1
        v = ranker.preference_vector(tensors).numpy()
        e = ranker.item_embeddings(tensors).numpy()
        expected = (np.sum((v[0] - e[0, 2]) ** 2) + np.sum((v[1] - e[1, 5]) ** 2)) / 2
        assert float(ranker.loss(tensors, tf.constant(labels), None)) == pytest.approx(expected, rel=1e-5)
        # s_i = <v, e_i>
        np.testing.assert_allclose(ranker.scores(tensors).numpy(), np.einsum("nd,nkd->nk", v, e), rtol=1e-5, atol=1e-6)


def test_progressive_run_learns_and_oracle_bounds_it():
    shop, encoder, learner = build("hybrid")
    history = run_progressive(
        shop,
        [StaticPolicy(bm25_ranker, "base"), LearningPolicy(encoder, learner), StaticPolicy(oracle_ranker, "oracle")],
        1500,
        batch_size=100,
    )
    last = summarize_phases(history, 3).loc[3]["ndcg10"]
    assert last["oracle"] > last["online"] > last["base"] + 0.05


def test_cohort_rows_add_up_to_the_batch_means():
    shop, encoder, learner = build("linear")
    plain = run_progressive(small_shop(), [StaticPolicy(bm25_ranker, "base")], 400, batch_size=100)
    by_cohort = run_progressive(small_shop(), [StaticPolicy(bm25_ranker, "base")], 400, batch_size=100, by_cohort=True)
    assert set(by_cohort["cohort"]) <= {"heavy", "casual", "new"} and by_cohort["n"].sum() == 400
    overall = summarize_phases(plain, 2)
    from_cohorts = summarize_phases(by_cohort, 2)
    np.testing.assert_allclose(overall.to_numpy(), from_cohorts.to_numpy(), rtol=1e-12)
    per_cohort = summarize_phases(by_cohort, 2, by=("policy", "cohort"))
    assert per_cohort.index.names == ["phase", "policy", "cohort"]


def test_a_frozen_learning_policy_serves_and_keeps_histories_but_takes_no_steps():
    shop, encoder, learner = build("hybrid")
    policy = LearningPolicy(encoder, learner)
    run_progressive(shop, [policy], 100, batch_size=50)
    policy.learning = False
    before = snapshot(learner)
    history_before = encoder.category_history.copy()
    history = run_progressive(shop, [policy], 200, batch_size=50)
    assert_unchanged(learner, before)
    assert not np.array_equal(encoder.category_history, history_before)  # the click histories still update
    assert len(history) == 4 and history["ndcg10"].between(0, 1).all()
    policy.learning = True
    run_progressive(shop, [policy], 32, batch_size=32)
    assert int(learner.step.numpy()) == before[2] + 2  # 4 sessions left pending when frozen + 32 new = 2 steps of 16


@pytest.mark.parametrize("kind", ["hybrid", "article"])
def test_unknown_id_rows_start_at_zero(kind):
    ranker = make_ranker(kind, encoder_for(small_shop()))
    tables = [v for v in ranker.trainable_variables if v.name.split(":")[0] in
              ("shopper_taste", "product_vector", "shopper_vector", "query_vector")]
    assert len(tables) == 2
    for table in tables:
        assert not table.numpy()[0].any() and table.numpy()[1:].any()


def test_click_seed_makes_a_policy_independent_of_its_neighbours():
    alone = run_progressive(small_shop(), [StaticPolicy(bm25_ranker, "base")], 300, click_seed=7)
    together = run_progressive(small_shop(), [StaticPolicy(oracle_ranker, "oracle"), StaticPolicy(bm25_ranker, "base")],
                               300, click_seed=7)
    shared = run_progressive(small_shop(), [StaticPolicy(oracle_ranker, "oracle"), StaticPolicy(bm25_ranker, "base")], 300)
    base_together = together[together["policy"] == "base"].reset_index(drop=True)
    pd.testing.assert_frame_equal(alone, base_together)
    base_shared = shared[shared["policy"] == "base"].reset_index(drop=True)
    assert not base_shared[["ctr", "conversion"]].equals(alone[["ctr", "conversion"]])  # the default shares the stream
