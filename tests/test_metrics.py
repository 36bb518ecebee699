import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.metrics import ndcg_score

from rerank_lib.metrics import (
    click_through_rate,
    conversion_rate,
    dcg_at_k,
    mean_reciprocal_rank,
    ndcg_at_k,
    precision_at_k,
    reciprocal_rank,
    revenue_per_session,
)


@given(st.integers(1, 5), st.integers(2, 12), st.integers(1, 12), st.integers(0, 2**16), st.sampled_from(["linear", "exponential"]))
def test_ndcg_matches_sklearn(n, K, k, seed, gain):
    rng = np.random.default_rng(seed)
    grades = rng.integers(0, 5, size=(n, K)).astype(float)
    scores = rng.permutation(n * K).reshape(n, K).astype(float)  # distinct: no ties to break
    order = np.argsort(-scores, axis=1)
    shown = np.take_along_axis(grades, order, axis=1)
    true_relevance = grades if gain == "linear" else 2.0**grades - 1.0  # sklearn uses linear gains
    expected = [ndcg_score(true_relevance[i : i + 1], scores[i : i + 1], k=k) for i in range(n)]
    np.testing.assert_allclose(ndcg_at_k(shown, k, gain=gain), expected, rtol=1e-12, atol=1e-12)


def test_worked_example():
    # shown grades 3, 2, 3, 0, 1, 2 (the classic Wikipedia example, linear gains)
    shown = np.array([3.0, 2.0, 3.0, 0.0, 1.0, 2.0])
    assert dcg_at_k(shown, 6, gain="linear")[0] == pytest.approx(6.861, abs=1e-3)
    assert ndcg_at_k(shown, 6, gain="linear")[0] == pytest.approx(0.961, abs=1e-3)
    assert ndcg_at_k([[3.0, 3.0, 2.0, 2.0, 1.0, 0.0]], 6)[0] == pytest.approx(1.0)
    assert ndcg_at_k([[0.0, 0.0]], 2)[0] == 0.0  # no relevant result: 0, as sklearn does


def test_ideal_from_all_candidates():
    shown = np.array([[1.0, 0.0]])
    assert ndcg_at_k(shown, 2)[0] == 1.0
    assert ndcg_at_k(shown, 2, ideal_grades=[[4.0, 1.0, 0.0]])[0] < 0.1  # a grade-4 product was left out


def test_click_and_business_metrics():
    clicks = np.array([[0, 1, 0], [0, 0, 0], [1, 0, 1], [0, 0, 1]])
    np.testing.assert_allclose(reciprocal_rank(clicks), [0.5, 0.0, 1.0, 1 / 3])
    assert mean_reciprocal_rank(clicks) == pytest.approx((0.5 + 1 + 1 / 3) / 4)
    np.testing.assert_allclose(precision_at_k(clicks, 2), [0.5, 0.0, 0.5, 0.0])
    assert click_through_rate(clicks) == 0.75
    assert click_through_rate(clicks, per="impression") == pytest.approx(4 / 12)
    purchases = np.array([[0, 1, 0], [0, 0, 0], [0, 0, 0], [0, 0, 1]])
    prices = np.array([[5.0, 10.0, 1.0]] * 4)
    assert conversion_rate(purchases) == 0.5
    assert revenue_per_session(purchases, prices) == pytest.approx(11.0 / 4)


def test_bad_input():
    with pytest.raises(ValueError, match="grades must be >= 0"):
        ndcg_at_k([[-1.0, 2.0]])
    with pytest.raises(ValueError, match="grades must be finite"):
        ndcg_at_k([[np.nan, 2.0]])
    with pytest.raises(ValueError, match="k must be an int > 0"):
        ndcg_at_k([[1.0]], 0)
    with pytest.raises(ValueError, match="gain must be one of"):
        ndcg_at_k([[1.0]], gain="log")
    with pytest.raises(ValueError, match="prices must have the same shape"):
        revenue_per_session([[1, 0]], [[1.0]])
    with pytest.raises(ValueError, match="per must be one of"):
        click_through_rate([[1, 0]], per="day")
    with pytest.raises(ValueError, match="clicks must not be empty"):
        click_through_rate(np.zeros((0, 3)))
