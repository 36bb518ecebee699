"""The session stream: seeded, consistent with the click model, purchases driven by price, errors name parameters."""

import subprocess
import sys

import numpy as np
import pytest

from rerank_lib.catalog import generate_catalog
from rerank_lib.click_models import PositionBasedModel
from rerank_lib.queries import generate_queries
from rerank_lib.relevance import expected_ctr_by_rank, relevance_scores
from rerank_lib.search import BM25Search
from rerank_lib.shop import FEATURE_NAMES, Shop, bm25_ranker, make_shop, oracle_ranker
from rerank_lib.shoppers import ShopperPopulation

SMALL = dict(n_products=2_000, n_shoppers=300)


@pytest.fixture(scope="module")
def shop():
    return make_shop(**SMALL, k=20, seed=3)


def _stream(seed, n=3, **kwargs):
    shop = make_shop(**SMALL, k=20, seed=seed, **kwargs)
    return [(b, f) for b, f in shop.run(bm25_ranker, n * 200, batch_size=200)]


def test_same_seed_identical_sessions_other_seed_differs():
    a, b, c = _stream(7), _stream(7), _stream(8)
    for (batch_a, fb_a), (batch_b, fb_b) in zip(a, b):
        for name in ("shoppers", "queries", "candidates", "bm25_scores", "grades", "buy_probability"):
            np.testing.assert_array_equal(getattr(batch_a, name), getattr(batch_b, name))
        np.testing.assert_array_equal(batch_a.features, batch_b.features)
        np.testing.assert_array_equal(fb_a.clicks, fb_b.clicks)
        np.testing.assert_array_equal(fb_a.purchases, fb_b.purchases)
    assert not np.array_equal(a[0][0].queries, c[0][0].queries)
    assert not np.array_equal(a[0][1].clicks, c[0][1].clicks)


def test_batch_shapes_and_features(shop):
    batch = shop.sample_sessions(500)
    n, k = 500, 20
    assert len(batch) == n and batch.k == k
    for name in ("candidates", "bm25_scores", "match", "scores", "grades", "buy_probability"):
        assert getattr(batch, name).shape == (n, k), name
    features = batch.features
    assert features.shape == (n, k, len(FEATURE_NAMES)) and features.dtype == np.float32
    column = {name: features[:, :, i] for i, name in enumerate(FEATURE_NAMES)}
    c = shop.catalog
    np.testing.assert_array_equal(column["bm25_score"], batch.bm25_scores)
    np.testing.assert_array_equal(column["price"], c.price[batch.candidates])
    np.testing.assert_array_equal(column["brand_id"], c.brand[batch.candidates])
    np.testing.assert_allclose(column["log_popularity"], np.log1p(c.popularity[batch.candidates]), rtol=1e-6)
    np.testing.assert_array_equal(column["matched"], batch.bm25_scores > 0)
    np.testing.assert_array_equal(column["bm25_rank"][0], np.arange(k))
    # The candidates are the search's top-K of the session's query.
    i = 17
    expected = shop.search.search(str(shop.queries.text[batch.queries[i]]), k)
    np.testing.assert_array_equal(batch.candidates[i], expected.products)
    assert batch.session(i)["query"] == batch.query_texts[i]
    assert len(batch.session(i)["titles"]) == k


def test_feedback_is_in_displayed_order(shop):
    batch = shop.sample_sessions(400)
    rng = np.random.default_rng(0)
    order = np.argsort(rng.random(batch.candidates.shape), axis=1)
    feedback = shop.respond(batch, order)
    np.testing.assert_array_equal(feedback.products, np.take_along_axis(batch.candidates, order, axis=1))
    np.testing.assert_array_equal(feedback.to_candidate_order(feedback.grades), batch.grades)
    assert not (feedback.purchases & ~feedback.clicks).any()  # a purchase needs a click


def test_empirical_ctr_by_rank_matches_the_click_model():
    # Issue 3's acceptance: empirical click-through by rank within 4 standard errors of the analytic value.
    shop = make_shop(**SMALL, k=10, click_model="dbn", parameter_set="informational", seed=5)
    grades, clicks = [], []
    for batch, feedback in shop.run(oracle_ranker, 40_000, batch_size=10_000):
        grades.append(feedback.grades)
        clicks.append(feedback.clicks)
    grades, clicks = np.concatenate(grades), np.concatenate(clicks)
    p = shop.click_model.click_probabilities(grades)
    z = (clicks.sum(axis=0) - p.sum(axis=0)) / np.sqrt((p * (1 - p)).sum(axis=0))
    assert np.abs(z).max() < 4, z
    np.testing.assert_allclose(expected_ctr_by_rank(grades, shop.click_model), p.mean(axis=0))


def test_purchases_follow_price_sensitivity():
    shop = make_shop(**SMALL, k=20, seed=9)
    batch = shop.sample_sessions(4_000)
    lam = shop.shoppers.price_sensitivity[batch.shoppers][:, None] * np.ones((1, 20))
    z = shop.catalog.relative_log_price[batch.candidates]
    relevant = (batch.match == 1) & (z > 0.3)  # expensive products that answer the query
    low, high = np.quantile(lam[relevant], [0.25, 0.75])
    buy = batch.buy_probability
    assert buy[relevant & (lam >= high)].mean() < 0.8 * buy[relevant & (lam <= low)].mean()
    assert (buy >= 0).all() and (buy <= shop.purchase_max).all()
    # Sampled purchases agree with the probabilities, given the clicks (4 standard errors).
    feedback = shop.respond(batch, oracle_ranker(batch))
    p = np.take_along_axis(buy, feedback.order, axis=1)[feedback.clicks]
    bought = feedback.purchases[feedback.clicks]
    assert abs(bought.sum() - p.sum()) < 4 * np.sqrt((p * (1 - p)).sum())


def test_oracle_beats_bm25_in_expectation(shop):
    batch = shop.sample_sessions(2_000)
    model = shop.click_model
    oracle = shop.respond(batch, oracle_ranker(batch))
    base = shop.respond(batch, bm25_ranker(batch))
    assert model.expected_clicks(oracle.grades).mean() > 1.05 * model.expected_clicks(base.grades).mean()


def test_drift_inside_a_batch_splits_it():
    shop = make_shop(**SMALL, k=20, drift="shift", drift_at=300, drift_fraction=1.0, seed=4)
    before = shop.shoppers.interest.copy()
    batch = shop.sample_sessions(600)
    assert shop.time == 600 and batch.start == 0 and len(batch) == 600
    assert not np.array_equal(before, shop.shoppers.interest)
    # Sessions from 300 on were scored with the new tastes, the earlier ones with the old.
    r_now, _ = relevance_scores(shop.shoppers, shop.queries, batch.shoppers, batch.queries, batch.candidates)
    np.testing.assert_allclose(r_now[300:], batch.scores[300:], rtol=1e-6)
    assert not np.allclose(r_now[:300], batch.scores[:300])


def test_history_counts_sessions(shop):
    start = shop.shoppers.history.copy()
    batch = shop.sample_sessions(300)
    np.testing.assert_array_equal(batch.history, start[batch.shoppers])
    assert shop.shoppers.history.sum() == start.sum() + 300


def test_run_serves_exactly_n_sessions(shop):
    t0 = shop.time
    sizes = [len(b) for b, _ in shop.run(bm25_ranker, 1_050, batch_size=400)]
    assert sizes == [400, 400, 250] and shop.time == t0 + 1_050


def test_bad_configuration_names_the_parameter():
    with pytest.raises(ValueError, match="k must be at most the catalog size"):
        make_shop(n_products=1_000, k=1_001)
    with pytest.raises(ValueError, match="MAX_K"):
        make_shop(n_products=5_000, k=1_200)
    with pytest.raises(ValueError, match="name"):
        make_shop(**SMALL, click_model="ubm")
    with pytest.raises(ValueError, match="parameter_set"):
        make_shop(**SMALL, parameter_set="perfectly")
    with pytest.raises(ValueError, match="eta"):
        make_shop(**SMALL, eta=-1.0)
    with pytest.raises(ValueError, match="gamma"):
        make_shop(**SMALL, click_model="dbn", gamma=1.5)
    with pytest.raises(ValueError, match="purchase_max"):
        make_shop(**SMALL, purchase_max=1.5)
    with pytest.raises(ValueError, match="tau"):
        make_shop(**SMALL, tau=0.0)
    with pytest.raises(ValueError, match="drift"):
        make_shop(**SMALL, drift="sometimes")
    with pytest.raises(ValueError, match="price_scale"):
        generate_catalog(100, price_scale=-2.0)  # negative prices cannot be configured


def test_bad_orders_and_mismatched_parts_are_rejected(shop):
    batch = shop.sample_sessions(50)
    good = bm25_ranker(batch)
    with pytest.raises(ValueError, match="order must have shape"):
        shop.respond(batch, good[:, :10])
    with pytest.raises(ValueError, match="permutation"):
        shop.respond(batch, np.zeros_like(good))
    with pytest.raises(TypeError, match="order"):
        shop.respond(batch, good.astype(float))
    other = make_shop(**SMALL, k=20, seed=99)
    with pytest.raises(ValueError, match="batch"):
        other.respond(batch, good)
    catalog = shop.catalog
    with pytest.raises(ValueError, match="shoppers"):
        Shop(catalog, ShopperPopulation(generate_catalog(100, seed=0), 5), shop.queries)
    with pytest.raises(ValueError, match="search"):
        Shop(catalog, shop.shoppers, shop.queries, search=BM25Search(generate_catalog(100, seed=0)))
    with pytest.raises(ValueError, match="queries"):
        Shop(catalog, shop.shoppers, generate_queries(generate_catalog(100, seed=0), seed=0))
    with pytest.raises(ValueError, match="click_model must cover 5 grades"):
        Shop(catalog, shop.shoppers, shop.queries, click_model=PositionBasedModel([0.1, 0.9]))


def test_the_simulator_does_not_import_tensorflow():
    # NumPy-only modules stay light: importing the shop (and building one) must not pull in TensorFlow.
    code = ("import sys; from rerank_lib.shop import make_shop; make_shop(n_products=1000, n_shoppers=10, seed=0); "
            "import rerank_lib.shop_benchmark, rerank_lib.metrics; print('tensorflow' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", out.stdout + out.stderr
