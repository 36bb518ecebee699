import numpy as np
import pytest

from rerank_lib.baselines import LambdaMARTPolicy, PopularityPolicy, VowpalWabbitPolicy, import_optional
from rerank_lib.features import FeatureEncoder
from rerank_lib.online import run_progressive
from rerank_lib.shop import make_shop


def small_shop(seed=0):
    return make_shop(n_products=2_000, n_shoppers=200, k=20, seed=seed)


def encoder_for(shop):
    return FeatureEncoder(shop.catalog, n_shoppers=len(shop.shoppers), n_queries=len(shop.queries))


def assert_permutations(order, n, k):
    assert order.shape == (n, k)
    np.testing.assert_array_equal(np.sort(order, axis=1), np.broadcast_to(np.arange(k), (n, k)))


def test_popularity_sorts_by_clicks_so_far_and_keeps_bm25_order_for_ties():
    shop = small_shop()
    policy = PopularityPolicy(len(shop.catalog))
    batch = shop.sample_sessions(50)
    first = policy.rank(batch)
    np.testing.assert_array_equal(first, np.broadcast_to(np.arange(20), (50, 20)))  # no clicks yet: BM25
    feedback = shop.respond(batch, first)
    policy.observe(batch, feedback)
    assert policy.clicks.sum() == feedback.clicks.sum()
    later = shop.sample_sessions(50)
    order = policy.rank(later)
    assert_permutations(order, 50, 20)
    shown_clicks = policy.clicks[np.take_along_axis(later.candidates, order, axis=1)]
    assert (np.diff(shown_clicks, axis=1) <= 0).all()
    with pytest.raises(ValueError, match="n_products"):
        PopularityPolicy(0)


def test_import_optional_names_the_extra():
    with pytest.raises(ImportError, match=r"rerank-lab\[bench\]"):
        import_optional("a_module_that_does_not_exist_here")


@pytest.mark.parametrize("explorer", ["squarecb", "softmax", "epsilon"])
def test_vowpal_wabbit_policy_ranks_valid_permutations_and_learns(explorer):
    pytest.importorskip("vowpalwabbit", reason="Vowpal Wabbit is in the bench extra: pip install -e '.[bench]'")
    shop = small_shop()
    policy = VowpalWabbitPolicy(encoder_for(shop), explorer=explorer, seed=0)
    assert "--cb_explore_adf" in policy.args
    for _ in range(3):
        batch = shop.sample_sessions(40)
        order = policy.rank(batch)
        assert_permutations(order, 40, 20)
        policy.observe(batch, shop.respond(batch, order))
    lines = policy.session_lines(policy.encoder.encode(batch), 0)
    assert lines[0].startswith("shared |s u") and len(lines) == 21 and all(line.startswith("|a f0:") for line in lines[1:])
    p = policy.pmf(lines)
    assert p.shape == (20,) and abs(p.sum() - 1) < 1e-4 and (p >= 0).all()
    if explorer != "epsilon":  # the PMF is VW's score order: the shown order below the top slot follows it
        order = policy.rank(batch)
        pmf_sorted = [policy.pmf(policy.session_lines(policy.encoder.encode(batch), i))[order[i, 1:]] for i in range(3)]
        assert all((np.diff(values) <= 1e-7).all() for values in pmf_sorted)


def test_vowpal_wabbit_policy_is_deterministic_and_checks_its_calls():
    pytest.importorskip("vowpalwabbit", reason="Vowpal Wabbit is in the bench extra: pip install -e '.[bench]'")
    orders = []
    for _ in range(2):
        shop = small_shop(seed=4)
        policy = VowpalWabbitPolicy(encoder_for(shop), seed=7)
        history = run_progressive(shop, [policy], 300, batch_size=100)
        orders.append((history["ndcg10"].tolist(), policy.rank(shop.sample_sessions(5)).tolist()))
    assert orders[0] == orders[1]
    shop = small_shop()
    policy = VowpalWabbitPolicy(encoder_for(shop))
    batch = shop.sample_sessions(5)
    with pytest.raises(ValueError, match="observe must follow rank"):
        policy.observe(batch, shop.respond(batch, np.broadcast_to(np.arange(20), (5, 20))))
    order = policy.rank(batch)
    with pytest.raises(ValueError, match="does not show the action"):
        policy.observe(batch, shop.respond(batch, np.roll(order, 1, axis=1)))
    with pytest.raises(ValueError, match="explorer must be one of"):
        VowpalWabbitPolicy(encoder_for(shop), explorer="greedy")
    with pytest.raises(TypeError, match="encoder must be"):
        VowpalWabbitPolicy("encoder")


def test_lambdamart_shows_bm25_until_trained_then_valid_permutations():
    pytest.importorskip("lightgbm", reason="LightGBM is in the bench extra: pip install -e '.[bench]'")
    shop = small_shop()
    policy = LambdaMARTPolicy(encoder_for(shop), retrain_every=200, n_estimators=20, seed=0)
    batch = shop.sample_sessions(100)
    np.testing.assert_array_equal(policy.rank(batch), np.broadcast_to(np.arange(20), (100, 20)))
    policy.observe(batch, shop.respond(batch, policy.rank(batch)))
    assert policy.model is None and policy.trainings == 0
    batch = shop.sample_sessions(100)
    policy.observe(batch, shop.respond(batch, policy.rank(batch)))
    assert policy.model is not None and policy.trainings == 1
    batch = shop.sample_sessions(60)
    order = policy.rank(batch)
    assert_permutations(order, 60, 20)
    assert not (order == np.arange(20)).all()  # it re-ranks now
    with pytest.raises(ValueError, match="retrain_every"):
        LambdaMARTPolicy(encoder_for(shop), retrain_every=0)
