"""Ground truth: match factors, grades, the oracle ranking with NDCG = 1, expected clicks and CTR."""

import numpy as np
import pytest

from rerank_lib.click_models import make_click_model
from rerank_lib.metrics import dcg_at_k, ndcg_at_k
from rerank_lib.relevance import (
    MATCH_FACTORS,
    appeal,
    expected_clicks,
    expected_ctr,
    expected_ctr_by_rank,
    grades_from_scores,
    oracle_order,
    query_match,
    relevance_scores,
    reorder,
    utility_gap,
)
from rerank_lib.shop import make_shop


@pytest.fixture(scope="module")
def shop():
    return make_shop(n_products=3_000, n_shoppers=500, k=50, seed=21)


@pytest.fixture(scope="module")
def batch(shop):
    return shop.sample_sessions(3_000)


def _query(shop, text):
    return int(np.flatnonzero(shop.queries.text == text)[0])


def test_match_factors_on_a_precise_accessory_query(shop):
    c, q = shop.catalog, shop.queries
    text = next(t for t in q.text if t.startswith("iphone ") and t.endswith(" case"))
    qid = _query(shop, text)
    products = np.arange(len(c))[None, :]
    m = query_match(c, q, [qid], products)[0]
    cases = c.subcategory == q.subcategory[qid]
    same_device = cases & (c.line == q.line[qid]) & (c.model == q.model[qid])
    same_line = cases & (c.line == q.line[qid]) & ~same_device
    phones = c.subcategory == c.subcategory_names.index("smartphones")
    assert (m[same_device] == 1).all() and same_device.any()
    assert np.allclose(m[same_line], MATCH_FACTORS["same_line"]) and same_line.any()
    assert np.allclose(m[cases & (c.line != q.line[qid])], MATCH_FACTORS["other_line"])
    assert np.allclose(m[phones], MATCH_FACTORS["related"])  # the phone itself: same category, other aisle
    assert (m[c.category != c.category[np.flatnonzero(cases)[0]]] == 0).all()


def test_match_factors_for_brand_and_attribute(shop):
    c, q = shop.catalog, shop.queries
    qid = next(i for i in range(len(q)) if q.kind[i] == 3 and q.attribute[i] >= 0)  # e.g. "sony wireless headphones"
    m = query_match(c, q, [qid], np.arange(len(c))[None, :])[0]
    aisle = c.subcategory == q.subcategory[qid]
    brand_ok, attr_ok = c.brand == q.brand[qid], c.attribute == q.attribute[qid]
    assert np.allclose(m[aisle & brand_ok & attr_ok], 1.0)
    assert np.allclose(m[aisle & ~brand_ok & attr_ok], MATCH_FACTORS["brand"])
    assert np.allclose(m[aisle & ~brand_ok & ~attr_ok], MATCH_FACTORS["brand"] * MATCH_FACTORS["attribute"])


def test_grades_combine_match_and_appeal(shop, batch):
    r, g = relevance_scores(shop.shoppers, shop.queries, batch.shoppers, batch.queries, batch.candidates,
                            tau=shop.tau)
    np.testing.assert_allclose(r, batch.scores, rtol=1e-6)
    np.testing.assert_array_equal(g, batch.grades)
    m = batch.match
    assert ((g == 0) == (m == 0)).all()  # irrelevant exactly when the product does not match
    assert (g <= np.ceil(4 * m - 1e-6)).all()  # a partial match caps the grade
    a = appeal(shop.shoppers, shop.queries, batch.shoppers, batch.queries, batch.candidates, tau=shop.tau)
    np.testing.assert_allclose(a, 1 / (1 + np.exp(-utility_gap(shop.shoppers, shop.queries, batch.shoppers,
                                                                 batch.queries, batch.candidates) / shop.tau)),
                               rtol=1e-5, atol=1e-6)
    # All five grades occur, with no grade dominating.
    shares = np.bincount(g.ravel(), minlength=5) / g.size
    assert (shares > 0.05).all() and (shares < 0.5).all(), shares
    np.testing.assert_array_equal(grades_from_scores([[0.0, 0.1, 0.26, 0.5, 0.51, 1.0]], [[0, 1, 1, 1, 1, 1]]),
                                  [[0, 1, 2, 2, 3, 4]])


def test_personal_utility_changes_the_grades(shop, batch):
    # Two shoppers, same query and candidates: their grades differ (personalisation has something to do).
    other = (batch.shoppers + 1) % len(shop.shoppers)
    _, g_other = relevance_scores(shop.shoppers, shop.queries, other, batch.queries, batch.candidates)
    assert (g_other != batch.grades).mean() > 0.2


def test_oracle_has_ndcg_one_and_beats_every_permutation(batch):
    order = oracle_order(batch.grades, batch.scores)
    shown = reorder(batch.grades, order)
    relevant = batch.grades.max(axis=1) > 0
    assert relevant.mean() > 0.8
    np.testing.assert_allclose(ndcg_at_k(shown, 10)[relevant], 1.0)
    assert (ndcg_at_k(shown, 10)[~relevant] == 0).all()
    assert ndcg_at_k(batch.grades, 10)[relevant].mean() < 0.95  # BM25 leaves room
    # No random order has a higher DCG, and ties in grade are broken by the score r.
    rng = np.random.default_rng(0)
    best = dcg_at_k(shown, 50)
    for _ in range(20):
        perm = np.argsort(rng.random(batch.grades.shape), axis=1)
        assert (dcg_at_k(reorder(batch.grades, perm), 50) <= best + 1e-9).all()
    r_shown = reorder(batch.scores, order)
    same_grade = shown[:, 1:] == shown[:, :-1]
    assert (r_shown[:, 1:][same_grade] <= r_shown[:, :-1][same_grade]).all()


def test_oracle_maximises_expected_clicks_under_pbm(batch):
    model = make_click_model("pbm", "navigational")
    oracle = reorder(batch.grades, oracle_order(batch.grades))
    best = expected_clicks(oracle, model)
    rng = np.random.default_rng(1)
    for _ in range(10):
        perm = np.argsort(rng.random(batch.grades.shape), axis=1)
        assert (expected_clicks(reorder(batch.grades, perm), model) <= best + 1e-12).all()
    assert expected_ctr(oracle, make_click_model("dbn", "navigational")) > expected_ctr(
        batch.grades, make_click_model("dbn", "navigational"))
    by_rank = expected_ctr_by_rank(oracle, model)
    assert by_rank.shape == (batch.k,) and (np.diff(by_rank) <= 1e-12).all()


def test_bad_shapes_name_the_argument(shop, batch):
    with pytest.raises(ValueError, match="products"):
        query_match(shop.catalog, shop.queries, batch.queries[:3], batch.candidates[:4])
    with pytest.raises(ValueError, match="grades"):
        oracle_order(batch.grades[0])
    with pytest.raises(ValueError, match="scores"):
        oracle_order(batch.grades, batch.scores[:, :3])
    with pytest.raises(ValueError, match="tau"):
        appeal(shop.shoppers, shop.queries, batch.shoppers, batch.queries, batch.candidates, tau=0)
