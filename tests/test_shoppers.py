"""Shoppers: u . x is the utility, cohorts behave as documented, drift is switchable and seeded."""

import numpy as np
import pytest

from rerank_lib.catalog import generate_catalog
from rerank_lib.shoppers import ACTIVITY, COHORTS, ShopperPopulation


@pytest.fixture(scope="module")
def catalog():
    return generate_catalog(3_000, seed=2)


def test_utility_is_the_dot_product_of_u_and_x(catalog):
    pop = ShopperPopulation(catalog, 50, seed=0)
    rng = np.random.default_rng(0)
    shoppers = rng.integers(0, 50, size=30)
    products = rng.integers(0, len(catalog), size=(30, 7))
    u = pop.preference_vectors(shoppers)
    x = pop.item_vectors(products.ravel()).reshape(30, 7, -1)
    assert u.shape == (30, pop.dim) == (30, catalog.n_subcategories + catalog.n_brands + 2)
    np.testing.assert_allclose(pop.utility(shoppers, products), np.einsum("nd,nkd->nk", u, x), rtol=1e-5, atol=1e-5)
    # A "cheap" query doubles the weight of price: utility changes by -lambda z exactly.
    doubled = pop.utility(shoppers, products, price_weight=2.0)
    expected = -pop.price_sensitivity[shoppers, None] * catalog.relative_log_price[products]
    np.testing.assert_allclose(doubled - pop.utility(shoppers, products), expected, atol=1e-5)


def test_cohorts_activity_and_history(catalog):
    pop = ShopperPopulation(catalog, 20_000, cohort_shares=(0.2, 0.5, 0.3), seed=1)
    shares = np.bincount(pop.cohort, minlength=3) / len(pop)
    np.testing.assert_allclose(shares, [0.2, 0.5, 0.3], atol=4 * np.sqrt(0.25 / len(pop)))
    assert (pop.history[pop.cohort == COHORTS.index("new")] == 0).all()
    heavy = pop.history[pop.cohort == COHORTS.index("heavy")].mean()
    casual = pop.history[pop.cohort == COHORTS.index("casual")].mean()
    assert heavy > 5 * casual > 0
    # Sessions per shopper follow the activity rates: heavy shoppers come ~8x as often.
    sessions = np.bincount(pop.sample(200_000, rng=3), minlength=len(pop))
    per = {name: sessions[pop.cohort == i].mean() for i, name in enumerate(COHORTS)}
    ratio = ACTIVITY["heavy"] / ACTIVITY["casual"]
    assert abs(per["heavy"] / per["casual"] - ratio) < 0.05 * ratio
    pop.record_sessions([0, 0, 5])
    assert pop.history[0] >= 2


def test_tastes_cluster_by_department(catalog):
    pop = ShopperPopulation(catalog, 5_000, seed=2)
    sub_dept = catalog.category_department[catalog.subcategory_category]
    same = np.flatnonzero(sub_dept == sub_dept[0])[1]
    other = np.flatnonzero(sub_dept != sub_dept[0])[0]
    corr_same = np.corrcoef(pop.interest[:, 0], pop.interest[:, same])[0, 1]
    corr_other = np.corrcoef(pop.interest[:, 0], pop.interest[:, other])[0, 1]
    assert corr_same > 0.4 and abs(corr_other) < 0.1


def test_same_seed_same_shoppers(catalog):
    a, b = ShopperPopulation(catalog, 100, seed=5), ShopperPopulation(catalog, 100, seed=5)
    c = ShopperPopulation(catalog, 100, seed=6)
    np.testing.assert_array_equal(a.preference_vectors(), b.preference_vectors())
    np.testing.assert_array_equal(a.cohort, b.cohort)
    assert not np.array_equal(a.preference_vectors(), c.preference_vectors())


def test_no_drift_keeps_preferences(catalog):
    pop = ShopperPopulation(catalog, 100, seed=0)
    before = pop.preference_vectors()
    pop.advance_to(100_000)
    np.testing.assert_array_equal(pop.preference_vectors(), before)
    assert pop.next_change() is None


def test_random_walk_steps_at_period_boundaries(catalog):
    pop = ShopperPopulation(catalog, 2_000, drift="random_walk", drift_scale=0.2, drift_period=100, seed=0)
    before = pop.interest.copy()
    pop.advance_to(99)
    np.testing.assert_array_equal(pop.interest, before)  # no boundary crossed yet
    assert pop.next_change() == 100
    pop.advance_to(400)  # crosses 100, 200, 300, 400: four steps
    step_var = np.var(pop.interest - before)
    assert abs(step_var - 4 * 0.2**2) < 0.05 * 4 * 0.2**2
    np.testing.assert_array_equal(pop.price_sensitivity, ShopperPopulation(catalog, 2_000, seed=0).price_sensitivity)


def test_shift_moves_a_fraction_of_shoppers_once(catalog):
    pop = ShopperPopulation(catalog, 4_000, drift="shift", drift_at=500, drift_fraction=0.3, seed=0)
    before = pop.interest.copy()
    pop.advance_to(499)
    np.testing.assert_array_equal(pop.interest, before)
    pop.advance_to(500)
    moved = (pop.interest != before).any(axis=1).mean()
    assert abs(moved - 0.3) < 4 * np.sqrt(0.3 * 0.7 / 4_000)
    after = pop.interest.copy()
    pop.advance_to(10_000)
    np.testing.assert_array_equal(pop.interest, after)


def test_bad_arguments_name_the_parameter(catalog):
    with pytest.raises(ValueError, match="n_shoppers"):
        ShopperPopulation(catalog, 0)
    with pytest.raises(ValueError, match="cohort_shares"):
        ShopperPopulation(catalog, 10, cohort_shares=(0.5, 0.6, 0.1))
    with pytest.raises(ValueError, match="cohort_shares"):
        ShopperPopulation(catalog, 10, cohort_shares=(1.5, -0.5, 0.0))
    with pytest.raises(ValueError, match="drift"):
        ShopperPopulation(catalog, 10, drift="sideways")
    with pytest.raises(ValueError, match="drift_fraction"):
        ShopperPopulation(catalog, 10, drift="shift", drift_fraction=1.2)
    with pytest.raises(ValueError, match="drift_scale"):
        ShopperPopulation(catalog, 10, drift_scale=-0.1)
    with pytest.raises(TypeError, match="catalog"):
        ShopperPopulation("catalog", 10)
    pop = ShopperPopulation(catalog, 10, seed=0)
    pop.advance_to(50)
    with pytest.raises(ValueError, match="time"):
        pop.advance_to(10)
    with pytest.raises(ValueError, match="products"):
        pop.utility([0, 1], np.zeros((3, 4), int))
