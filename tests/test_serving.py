import numpy as np
import pytest

from rerank_lib.features import FeatureEncoder
from rerank_lib.online import OnlineLearner, feedback_labels
from rerank_lib.rankers import make_ranker
from rerank_lib.serving import NumpyScorer, export_weights
from rerank_lib.shop import bm25_ranker, make_shop


@pytest.fixture(scope="module")
def shop_and_encoder():
    shop = make_shop(n_products=2_000, n_shoppers=200, k=30, seed=3)
    encoder = FeatureEncoder(shop.catalog, n_shoppers=len(shop.shoppers), n_queries=len(shop.queries))
    for batch, feedback in shop.run(bm25_ranker, 300, batch_size=100):  # some click history for the features
        encoder.observe(batch, feedback)
    return shop, encoder


def trained_learner(kind, shop, encoder, **options):
    learner = OnlineLearner(make_ranker(kind, encoder, seed=1, **options), batch_size=16, seed=1)
    batch = shop.sample_sessions(64)
    inputs = encoder.encode(batch)
    learner.learn(inputs, feedback_labels(shop.respond(batch, bm25_ranker(batch))))
    return learner


@pytest.mark.parametrize("kind, options", [("linear", {}), ("mlp", {}), ("mlp", {"hidden": (8,)}), ("hybrid", {}),
                                           ("hybrid", {"collaborative": False})])
def test_numpy_scores_equal_the_tensorflow_ranker(shop_and_encoder, kind, options):
    shop, encoder = shop_and_encoder
    learner = trained_learner(kind, shop, encoder, **options)
    inputs = encoder.encode(shop.sample_sessions(50))
    scorer = NumpyScorer.from_ranker(learner.ranker)
    scores = scorer.scores(inputs)
    assert scores.dtype == np.float32 and scores.shape == (50, 30)
    np.testing.assert_allclose(scores, learner.score(inputs), rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(scorer.rank(inputs), learner.rank(inputs))


def test_one_request_as_a_dense_matrix(shop_and_encoder):
    shop, encoder = shop_and_encoder
    learner = trained_learner("mlp", shop, encoder)
    inputs = encoder.encode(shop.sample_sessions(1))
    scorer = NumpyScorer.from_ranker(learner.ranker)
    order = scorer.rank(inputs.dense[0])
    assert order.shape == (30,) and sorted(order.tolist()) == list(range(30))
    np.testing.assert_array_equal(order, learner.rank(inputs)[0])
    np.testing.assert_allclose(scorer.scores(inputs.dense[0]), learner.score(inputs)[0], rtol=1e-5, atol=1e-5)


def test_masked_candidates_go_last_and_ties_keep_input_order(shop_and_encoder):
    shop, encoder = shop_and_encoder
    learner = trained_learner("linear", shop, encoder)
    inputs = encoder.encode(shop.sample_sessions(2))
    mask = inputs.mask.copy()
    mask[0, :5] = False
    scorer = NumpyScorer.from_ranker(learner.ranker)
    fields = {**inputs.as_dict(), "mask": mask}
    scores = scorer.scores(fields)
    assert np.isneginf(scores[0, :5]).all() and np.isfinite(scores[1]).all()
    assert set(scorer.rank(fields)[0, -5:].tolist()) == set(range(5))
    tied = np.zeros((1, 4, encoder.n_features), np.float32)
    np.testing.assert_array_equal(scorer.rank(tied), [[0, 1, 2, 3]])


def test_refresh_picks_up_the_learners_new_weights(shop_and_encoder):
    shop, encoder = shop_and_encoder
    learner = trained_learner("mlp", shop, encoder)
    scorer = NumpyScorer.from_ranker(learner.ranker)
    inputs = encoder.encode(shop.sample_sessions(20))
    before = scorer.scores(inputs)
    batch = shop.sample_sessions(64)
    learner.learn(encoder.encode(batch), feedback_labels(shop.respond(batch, bm25_ranker(batch))))
    np.testing.assert_array_equal(scorer.scores(inputs), before)  # a snapshot until refreshed
    assert not np.allclose(learner.score(inputs), before)
    np.testing.assert_allclose(scorer.refresh().scores(inputs), learner.score(inputs), rtol=1e-5, atol=1e-5)


def test_bad_input_errors_name_the_field(shop_and_encoder):
    shop, encoder = shop_and_encoder
    mlp = NumpyScorer.from_ranker(trained_learner("mlp", shop, encoder).ranker)
    hybrid = NumpyScorer.from_ranker(trained_learner("hybrid", shop, encoder).ranker)
    inputs = encoder.encode(shop.sample_sessions(3))
    f = encoder.n_features
    with pytest.raises(ValueError, match=r"dense must have shape \(n, K, 12\)"):
        mlp.rank(np.zeros((3, 5, f + 1), np.float32))
    with pytest.raises(ValueError, match="dense must be finite"):
        mlp.rank(np.full((5, f), np.nan, np.float32))
    with pytest.raises(ValueError, match="at least one candidate"):
        mlp.rank(np.zeros((1, 0, f), np.float32))
    with pytest.raises(TypeError, match="dense must be a float array"):
        mlp.rank({"dense": "features"})
    with pytest.raises(TypeError, match="inputs must be RankingInputs"):
        mlp.rank(42)
    with pytest.raises(ValueError, match="must include 'dense'"):
        mlp.rank({"mask": inputs.mask})
    with pytest.raises(ValueError, match="mask must be boolean"):
        mlp.rank({"dense": inputs.dense, "mask": inputs.mask.astype(int)})
    with pytest.raises(TypeError, match="hybrid model needs ids"):
        hybrid.rank(inputs.dense)
    fields = inputs.as_dict()
    with pytest.raises(ValueError, match="'brand_ids'"):
        hybrid.rank({k: v for k, v in fields.items() if k != "brand_ids"})
    with pytest.raises(ValueError, match="product_ids must lie in 0.."):
        hybrid.rank({**fields, "product_ids": fields["product_ids"] + 10**6})
    with pytest.raises(ValueError, match="shopper_ids must lie in 0.."):
        hybrid.rank({**fields, "shopper_ids": fields["shopper_ids"] - 10**6})
    with pytest.raises(TypeError, match="category_ids must be integer ids"):
        hybrid.rank({**fields, "category_ids": fields["category_ids"].astype(float)})
    with pytest.raises(ValueError, match="price_band_ids must have shape"):
        hybrid.rank({**fields, "price_band_ids": fields["price_band_ids"][:, :2]})


def test_export_refuses_other_rankers_and_scorers_without_a_ranker(shop_and_encoder):
    _, encoder = shop_and_encoder
    with pytest.raises(TypeError, match="LinearRanker, MLPRanker or HybridRanker"):
        export_weights(make_ranker("article", encoder))
    weights = export_weights(make_ranker("linear", encoder))
    assert weights["kind"] == "linear" and weights["w"].dtype == np.float32
    with pytest.raises(ValueError, match="nothing to refresh from"):
        NumpyScorer(weights, encoder.n_features).refresh()


def test_keras_twin_for_the_speed_benchmark_has_the_rankers_weights():
    """bench speed times Keras predict / call on this model: it must compute the ranker's scores."""
    from rerank_lib.bench_speed import keras_model_like

    shop = make_shop(n_products=2_000, n_shoppers=100, k=25, seed=2)
    encoder = FeatureEncoder(shop.catalog, n_shoppers=len(shop.shoppers), n_queries=len(shop.queries))
    inputs = encoder.encode(shop.sample_sessions(4))
    for kind in ("mlp", "linear"):
        learner = OnlineLearner(make_ranker(kind, encoder, seed=5))
        model = keras_model_like(learner.ranker)
        np.testing.assert_allclose(model(inputs.dense, training=False).numpy()[..., 0], learner.score(inputs), rtol=1e-5, atol=1e-5)
    with pytest.raises(TypeError, match="MLPRanker or LinearRanker"):
        keras_model_like(make_ranker("hybrid", encoder))
