"""Click models: analytic click probabilities agree with simulation, exactly and statistically."""

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from rerank_lib.click_models import (
    CLICK_MODEL_NAMES,
    DEFAULT_DBN_GAMMA,
    PARAMETER_SETS,
    CascadeModel,
    DynamicBayesianNetwork,
    PositionBasedModel,
    make_click_model,
)

N_SESSIONS = 100_000
K = 10
N_GRADES = 5
Z_LIMIT = 4.0


def cell_z_scores(grades, clicks, expected):
    """z-score of the empirical click count in every (rank, grade) cell against its analytic expectation.

    Given the grades, the clicks at a rank are independent Bernoulli draws across
    sessions with probabilities `expected`, so the cell's count has mean sum(p) and
    variance sum(p (1 - p)). Cells with zero variance must match exactly (z = 0 or inf).
    """
    n, k = grades.shape
    cell = (grades + N_GRADES * np.arange(k)).ravel()
    size = N_GRADES * k
    observed = np.bincount(cell, weights=clicks.ravel().astype(float), minlength=size)
    mean = np.bincount(cell, weights=expected.ravel(), minlength=size)
    variance = np.bincount(cell, weights=(expected * (1 - expected)).ravel(), minlength=size)
    gap = observed - mean
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(variance > 0, gap / np.sqrt(variance), np.where(np.abs(gap) < 1e-6, 0.0, np.inf))
    return z.reshape(k, N_GRADES)


def random_grades(seed, n=N_SESSIONS, k=K):
    return np.random.default_rng(seed).integers(0, N_GRADES, size=(n, k))


ALL_MODELS = list(itertools.product(CLICK_MODEL_NAMES, PARAMETER_SETS))


@pytest.mark.parametrize("name, parameter_set", ALL_MODELS)
def test_empirical_ctr_by_rank_and_grade_matches_analytic(name, parameter_set):
    index = ALL_MODELS.index((name, parameter_set))
    model = make_click_model(name, parameter_set)
    grades = random_grades(100 + index)
    clicks = model.simulate(grades, rng=200 + index)
    expected = model.click_probabilities(grades)
    z = cell_z_scores(grades, clicks, expected)
    assert np.max(np.abs(z)) < Z_LIMIT, (name, parameter_set, np.round(z, 2))
    # Every cell was populated with thousands of sessions (grades uniform per rank).
    counts = np.bincount((grades + N_GRADES * np.arange(K)).ravel(), minlength=K * N_GRADES)
    assert counts.min() > 15_000
    # Session-level CTR, P(at least one click), agrees too.
    p_any = model.any_click_probability(grades)
    gap = clicks.any(axis=1).sum() - p_any.sum()
    assert abs(gap) < Z_LIMIT * np.sqrt(np.sum(p_any * (1 - p_any)))


@pytest.mark.parametrize(
    "model",
    [
        make_click_model("pbm", "informational", eta=0.0),
        make_click_model("pbm", "navigational", eta=2.0),
        make_click_model("dbn", "informational", gamma=0.5),
        DynamicBayesianNetwork([0.1, 0.9], [1.0, 1.0], gamma=0.7),
    ],
    ids=["pbm-eta0", "pbm-eta2", "dbn-gamma0.5", "dbn-binary-custom"],
)
def test_non_default_settings_match_analytic(model):
    grades = np.random.default_rng(7).integers(0, model.n_grades, size=(N_SESSIONS, K))
    clicks = model.simulate(grades, rng=8)
    z = cell_z_scores(grades, clicks, model.click_probabilities(grades))
    assert np.max(np.abs(z)) < Z_LIMIT


@pytest.mark.parametrize(
    "true_model, wrong_model",
    [
        # DBN clicks judged by the cascade formula (forgets gamma).
        (make_click_model("dbn", "navigational"), make_click_model("cascade", "navigational")),
        # Cascade clicks judged as if nobody ever stopped after a click.
        (make_click_model("cascade", "navigational"), CascadeModel(PARAMETER_SETS["navigational"][0], np.zeros(5))),
        # A slightly wrong position bias.
        (make_click_model("pbm", "informational", eta=1.0), make_click_model("pbm", "informational", eta=1.1)),
        # DBN with a slightly wrong perseverance.
        (make_click_model("dbn", "informational", gamma=0.9), make_click_model("dbn", "informational", gamma=0.93)),
    ],
    ids=["dbn-vs-cascade", "cascade-vs-no-stop", "pbm-eta", "dbn-gamma"],
)
def test_statistical_check_rejects_a_wrong_formula(true_model, wrong_model):
    # The acceptance check above has teeth: the same test flags near-miss formulas.
    grades = random_grades(11)
    clicks = true_model.simulate(grades, rng=12)
    assert np.max(np.abs(cell_z_scores(grades, clicks, true_model.click_probabilities(grades)))) < Z_LIMIT
    assert np.max(np.abs(cell_z_scores(grades, clicks, wrong_model.click_probabilities(grades)))) > Z_LIMIT


# --- exact checks by enumerating every outcome of the hidden coins -------------------------------


def enumerate_dbn(alpha, sigma, gamma):
    """Exact P(C_r), P(E_r) and P(any click) for one list by summing over all coin outcomes.

    Three coins per rank (attracted, satisfied, goes on), played exactly as the
    generative story says; this is independent of the recursion in the library.
    """
    k = len(alpha)
    p_click, p_exam, p_any = np.zeros(k), np.zeros(k), 0.0
    for coins in itertools.product([0, 1], repeat=3 * k):
        prob, examining = 1.0, True
        examined, clicked = np.zeros(k, dtype=bool), np.zeros(k, dtype=bool)
        for r in range(k):
            attracted, satisfied, goes_on = coins[3 * r : 3 * r + 3]
            prob *= alpha[r] if attracted else 1 - alpha[r]
            prob *= sigma[r] if satisfied else 1 - sigma[r]
            prob *= gamma if goes_on else 1 - gamma
            examined[r] = examining
            clicked[r] = examining and attracted
            examining = examining and not (clicked[r] and satisfied) and goes_on
        p_exam += prob * examined
        p_click += prob * clicked
        p_any += prob * clicked.any()
    return p_click, p_exam, p_any


tables = hnp.arrays(np.float64, N_GRADES, elements=st.floats(0, 1))


@given(
    alpha=tables,
    sigma=tables,
    gamma=st.floats(0, 1),
    grades=hnp.arrays(np.int64, (1, 3), elements=st.integers(0, N_GRADES - 1)),
)
def test_dbn_recursion_equals_brute_force_enumeration(alpha, sigma, gamma, grades):
    model = DynamicBayesianNetwork(alpha, sigma, gamma=gamma)
    p_click, p_exam, p_any = enumerate_dbn(alpha[grades[0]], sigma[grades[0]], gamma)
    np.testing.assert_allclose(model.click_probabilities(grades)[0], p_click, atol=1e-12)
    np.testing.assert_allclose(model.examination_probabilities(grades)[0], p_exam, atol=1e-12)
    np.testing.assert_allclose(model.any_click_probability(grades)[0], p_any, atol=1e-12)


# --- properties -----------------------------------------------------------------------------------


@st.composite
def any_model(draw):
    alpha, sigma = draw(tables), draw(tables)
    kind = draw(st.sampled_from(CLICK_MODEL_NAMES))
    if kind == "pbm":
        return PositionBasedModel(alpha, eta=draw(st.floats(0, 5)))
    if kind == "cascade":
        return CascadeModel(alpha, sigma)
    return DynamicBayesianNetwork(alpha, sigma, gamma=draw(st.floats(0, 1)))


grade_arrays = hnp.arrays(
    np.int64, hnp.array_shapes(min_dims=2, max_dims=2, max_side=12), elements=st.integers(0, N_GRADES - 1)
)


@given(model=any_model(), grades=grade_arrays)
def test_probabilities_are_probabilities_and_examination_never_rises(model, grades):
    exam = model.examination_probabilities(grades)
    click = model.click_probabilities(grades)
    p_any = model.any_click_probability(grades)
    assert exam.shape == click.shape == grades.shape and p_any.shape == (len(grades),)
    for p in (exam, click, p_any):
        assert np.all((p >= 0) & (p <= 1 + 1e-12))
    np.testing.assert_array_equal(exam[:, 0], 1.0)
    assert np.all(np.diff(exam, axis=1) <= 1e-15)
    # Examination hypothesis: a click needs an examination and an attraction.
    np.testing.assert_allclose(click, exam * model.click_prob[grades])
    # P(any click) lies between the largest single-rank click probability and the union bound.
    assert np.all(p_any >= click.max(axis=1) - 1e-12)
    assert np.all(p_any <= np.minimum(1, click.sum(axis=1)) + 1e-12)
    np.testing.assert_allclose(model.expected_clicks(grades), click.sum(axis=1))


@given(model=any_model(), grades=grade_arrays, seed=st.integers(0, 2**32 - 1))
def test_simulated_clicks_are_bool_and_need_attraction(model, grades, seed):
    clicks = model.simulate(grades, seed)
    assert clicks.dtype == bool and clicks.shape == grades.shape
    # A result with alpha = 0 is never clicked; with examination 0 neither.
    assert not np.any(clicks & (model.click_prob[grades] == 0))
    assert not np.any(clicks & (model.examination_probabilities(grades) == 0))


@given(alpha=tables, sigma=tables, grades=grade_arrays)
def test_dbn_with_gamma_one_is_the_cascade_model(alpha, sigma, grades):
    cascade = CascadeModel(alpha, sigma)
    dbn = DynamicBayesianNetwork(alpha, sigma, gamma=1.0)
    np.testing.assert_array_equal(cascade.click_probabilities(grades), dbn.click_probabilities(grades))
    np.testing.assert_array_equal(cascade.simulate(grades, 3), dbn.simulate(grades, 3))


@given(alpha=tables, grades=grade_arrays, seed=st.integers(0, 2**32 - 1))
def test_craswell_cascade_clicks_at_most_once(alpha, grades, seed):
    # sigma = 1: the first click always satisfies, so click events are disjoint.
    model = CascadeModel(alpha, np.ones(N_GRADES))
    assert np.all(model.simulate(grades, seed).sum(axis=1) <= 1)
    np.testing.assert_allclose(model.any_click_probability(grades), model.expected_clicks(grades), atol=1e-12)


@given(eta=st.floats(0, 5), k=st.integers(1, 50))
def test_pbm_propensity_is_one_over_rank_to_the_eta(eta, k):
    model = PositionBasedModel(PARAMETER_SETS["perfect"][0], eta=eta)
    prop = model.propensities(k)
    np.testing.assert_allclose(prop, (1.0 / np.arange(1, k + 1)) ** eta)
    assert np.all(np.diff(prop) <= 0)


def test_perfect_set_never_clicks_irrelevant_and_always_clicks_top_perfect_result():
    grades = np.array([[4, 0, 0, 4, 0]] * 1000)
    for name in CLICK_MODEL_NAMES:
        clicks = make_click_model(name, "perfect").simulate(grades, 0)
        assert clicks[:, 0].all() and not clicks[:, [1, 2, 4]].any()


# --- parameter tables -------------------------------------------------------------------------


def test_parameter_tables_are_the_published_ones():
    assert set(PARAMETER_SETS) == {"perfect", "navigational", "informational", "almost_random"}
    np.testing.assert_allclose(PARAMETER_SETS["perfect"][0], [0.0, 0.2, 0.4, 0.8, 1.0])
    np.testing.assert_allclose(PARAMETER_SETS["navigational"][1], [0.2, 0.3, 0.5, 0.7, 0.9])
    for click, stop in PARAMETER_SETS.values():
        assert len(click) == len(stop) == N_GRADES
        assert np.all(np.diff(click) >= 0) and np.all(np.diff(stop) >= 0)  # more relevant, more clicks


def test_factory_builds_each_model_with_its_settings():
    assert isinstance(make_click_model("pbm", eta=0.5), PositionBasedModel)
    assert make_click_model("pbm", eta=0.5).eta == 0.5
    assert type(make_click_model("cascade")) is CascadeModel
    dbn = make_click_model("dbn", "informational")
    assert isinstance(dbn, DynamicBayesianNetwork) and dbn.gamma == DEFAULT_DBN_GAMMA
    assert make_click_model("dbn", gamma=0.5).gamma == 0.5
    assert dbn.parameter_set == "informational" and "informational" in repr(dbn)
    np.testing.assert_array_equal(dbn.stop_prob, PARAMETER_SETS["informational"][1])
    with pytest.raises(ValueError):
        dbn.click_prob[0] = 1.0  # shared tables are read-only


# --- seeds --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", CLICK_MODEL_NAMES)
def test_same_seed_same_clicks_different_seed_different_clicks(name):
    model = make_click_model(name, "informational")
    grades = random_grades(0, n=2000)
    np.testing.assert_array_equal(model.simulate(grades, 5), model.simulate(grades, 5))
    np.testing.assert_array_equal(
        model.simulate(grades, np.random.default_rng(5)), model.simulate(grades, np.random.default_rng(5))
    )
    assert not np.array_equal(model.simulate(grades, 5), model.simulate(grades, 6))
    rng = np.random.default_rng(9)  # a Generator is used, not copied: successive calls differ
    assert not np.array_equal(model.simulate(grades, rng), model.simulate(grades, rng))


# --- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(name="ubm"), ValueError, "name"),
        (dict(name="pbm", parameter_set="random"), ValueError, "parameter_set"),
        (dict(name="pbm", eta=-1.0), ValueError, "eta"),
        (dict(name="pbm", eta=float("nan")), ValueError, "eta"),
        (dict(name="pbm", eta="1"), TypeError, "eta"),
        (dict(name="dbn", gamma=1.5), ValueError, "gamma"),
        (dict(name="dbn", gamma=-0.1), ValueError, "gamma"),
        (dict(name="dbn", gamma=None, eta=-2), ValueError, "eta"),
        (dict(name="cascade", gamma=2.0), ValueError, "gamma"),
    ],
)
def test_bad_configuration_names_the_parameter(kwargs, error, match):
    with pytest.raises(error, match=match):
        make_click_model(**kwargs)


@pytest.mark.parametrize(
    "build, error, match",
    [
        (lambda: PositionBasedModel([0.5, 1.2]), ValueError, "click_prob"),
        (lambda: PositionBasedModel([-0.1, 0.5]), ValueError, "click_prob"),
        (lambda: PositionBasedModel([[0.5, 0.5]]), ValueError, "click_prob"),
        (lambda: PositionBasedModel([]), ValueError, "click_prob"),
        (lambda: PositionBasedModel("0.5"), TypeError, "click_prob"),
        (lambda: CascadeModel([0.1, 0.9], [0.5]), ValueError, "stop_prob"),
        (lambda: CascadeModel([0.1, 0.9], [0.5, float("nan")]), ValueError, "stop_prob"),
        (lambda: DynamicBayesianNetwork([0.1, 0.9], [0.5, 0.5], gamma=True), TypeError, "gamma"),
    ],
)
def test_bad_custom_tables_name_the_parameter(build, error, match):
    with pytest.raises(error, match=match):
        build()


@pytest.mark.parametrize("name", CLICK_MODEL_NAMES)
@pytest.mark.parametrize(
    "grades, error",
    [
        ([1, 2, 3], ValueError),  # rank 1
        (np.zeros((2, 3, 4), dtype=int), ValueError),
        (np.zeros((0, 5), dtype=int), ValueError),
        ([[0, 5]], ValueError),  # grade out of range
        ([[-1, 0]], ValueError),
        ([[0.0, 1.0]], TypeError),  # floats are not grades
        ([[True, False]], TypeError),
        ("0 1 2", TypeError),
    ],
)
def test_bad_grades_name_grades(name, grades, error):
    model = make_click_model(name)
    for method in (model.click_probabilities, model.examination_probabilities, model.simulate):
        with pytest.raises(error, match="grades"):
            method(grades)


def test_custom_table_sets_the_grade_range():
    model = CascadeModel([0.1, 0.9], [0.5, 0.5])
    assert model.n_grades == 2
    model.click_probabilities([[0, 1]])
    with pytest.raises(ValueError, match=r"grades must lie in 0\.\.1"):
        model.click_probabilities([[0, 2]])
