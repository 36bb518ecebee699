"""Click models: how a shopper turns a shown ranking into clicks (NumPy only).

A click model maps the relevance grades of the shown list, in display order,
to clicks. All three models here obey the examination hypothesis

    P(C_r = 1) = P(E_r = 1) * alpha(g_r),       alpha(g) = P(click | examined, grade g)

and differ only in how the examination probability P(E_r) of rank r arises:

    pbm      position-based model: P(E_r) = (1 / r)^eta, independent of the
             grades and of the other clicks (Craswell et al., WSDM 2008; the
             (1/r)^eta propensity is the one of Joachims et al., WSDM 2017).
    cascade  the shopper scans top-down, clicks an examined result with
             alpha(g), and after a click stops with sigma(g) = P(stop | click, g):
             P(E_1) = 1,  P(E_{r+1}) = P(E_r) * (1 - alpha(g_r) sigma(g_r)).
             This is the cascade click model of the online learning-to-rank
             literature (Hofmann et al. 2013; Oosterhuis & de Rijke 2018);
             Craswell et al.'s original cascade is the special case sigma = 1.
    dbn      dynamic Bayesian network (Chapelle & Zhang, WWW 2009): attractiveness
             alpha(g), satisfaction sigma(g) after a click, and perseverance
             gamma: a shopper who is not satisfied goes on with probability gamma:
             P(E_1) = 1,  P(E_{r+1}) = P(E_r) * gamma * (1 - alpha(g_r) sigma(g_r)).
             With gamma = 1 it is exactly the cascade model above.

The recursions are exact because, given E_r, whether rank r+1 is examined
depends only on what happens at rank r (a Markov chain down the list).

Parameter sets (5 relevance grades 0..4, the MSLR-WEB / Yahoo! LTR scale).
alpha = P(click | examined, grade), sigma = P(stop | click, grade):

    set            alpha(0..4)                   sigma(0..4)
    perfect        0.00 0.20 0.40 0.80 1.00      0.0 0.0 0.0 0.0 0.0
    navigational   0.05 0.30 0.50 0.70 0.95      0.2 0.3 0.5 0.7 0.9
    informational  0.40 0.60 0.70 0.80 0.90      0.1 0.2 0.3 0.4 0.5
    almost_random  0.40 0.45 0.50 0.55 0.60      0.5 0.5 0.5 0.5 0.5

Sources. perfect, navigational and informational for five grades: Oosterhuis
and de Rijke, "Differentiable Unbiased Online Learning to Rank", CIKM 2018,
Table 1 (the same numbers are in the authors' code, github.com/HarrieO/
OnlineLearningToRank, utils/clicks.py, `long_models`). They extend the
binary/three-grade sets of Hofmann, Whiteson and de Rijke, "Fidelity,
soundness, and efficiency of interleaved comparison methods", ACM TOIS 31(4),
2013, which also defines almost_random for three grades: alpha = (0.4, 0.5,
0.6), sigma = (0.5, 0.5, 0.5). The five-grade almost_random row is that
three-grade row interpolated linearly over five grades (alpha rising by 0.05 a
grade, sigma constant); it is the row the CIKM 2018 authors' code uses
(`long_models['almost_random']`), but that paper's tables do not print it.

The tables are the literature's; the DBN default gamma = 0.9 is this project's
choice (a shopper who is not satisfied goes on to the next result nine times in
ten), not a value from those papers. Chapelle and Zhang fit gamma to logs.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Mapping

import numpy as np

from rerank_lib.checks import as_int_array, check_choice, check_positive, check_probability
from rerank_lib.seeding import as_generator

__all__ = [
    "CLICK_MODEL_NAMES",
    "DEFAULT_DBN_GAMMA",
    "PARAMETER_SETS",
    "CascadeModel",
    "ClickModel",
    "DynamicBayesianNetwork",
    "PositionBasedModel",
    "make_click_model",
]

# (alpha = P(click | examined, grade), sigma = P(stop | click, grade)) for grades 0..4.
PARAMETER_SETS: Mapping[str, tuple[tuple[float, ...], tuple[float, ...]]] = MappingProxyType({
    "perfect": ((0.0, 0.2, 0.4, 0.8, 1.0), (0.0, 0.0, 0.0, 0.0, 0.0)),
    "navigational": ((0.05, 0.3, 0.5, 0.7, 0.95), (0.2, 0.3, 0.5, 0.7, 0.9)),
    "informational": ((0.4, 0.6, 0.7, 0.8, 0.9), (0.1, 0.2, 0.3, 0.4, 0.5)),
    "almost_random": ((0.4, 0.45, 0.5, 0.55, 0.6), (0.5, 0.5, 0.5, 0.5, 0.5)),
})

CLICK_MODEL_NAMES = ("pbm", "cascade", "dbn")

DEFAULT_DBN_GAMMA = 0.9


def _probability_table(name: str, value, length: int | None = None) -> np.ndarray:
    """A read-only 1-D float table of probabilities, one entry per grade."""
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be a 1-D array of probabilities, got {type(value).__name__}")
    try:
        table = np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name} must be a 1-D array of probabilities: {error}") from None
    if table.ndim != 1 or table.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array (one probability per grade), got shape {table.shape}")
    if length is not None and table.size != length:
        raise ValueError(f"{name} must have one entry per grade ({length}), got {table.size}")
    check_probability(name, table)
    table.setflags(write=False)  # the tables are shared; nobody should edit them in place
    return table


def _check_probability_scalar(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    return float(check_probability(name, value))


class ClickModel:
    """Base class: a table alpha(g) = P(click | examined, grade g) plus an examination rule.

    Subclasses implement `examination_probabilities` (analytic) and `_simulate`.
    Grades are integer arrays of shape (n_sessions, K) in display order (column 0
    is rank 1), with values in 0 .. n_grades - 1.
    """

    name: str = "click model"

    def __init__(self, click_prob, *, parameter_set: str | None = None):
        self.click_prob = _probability_table("click_prob", click_prob)
        self.parameter_set = parameter_set

    @property
    def n_grades(self) -> int:
        """How many relevance grades the tables cover (5 for the literature sets)."""
        return int(self.click_prob.size)

    # -- analytic -------------------------------------------------------------------
    def examination_probabilities(self, grades) -> np.ndarray:
        """P(E_r = 1) for every session and rank, shape (n, K)."""
        raise NotImplementedError

    def click_probabilities(self, grades) -> np.ndarray:
        """Marginal P(C_r = 1) = P(E_r = 1) * alpha(g_r) for every session and rank, shape (n, K)."""
        grades = self.check_grades(grades)
        return self.examination_probabilities(grades) * self.click_prob[grades]

    def expected_clicks(self, grades) -> np.ndarray:
        """E[number of clicks] per session = sum_r P(C_r = 1), shape (n,)."""
        return self.click_probabilities(grades).sum(axis=1)

    def any_click_probability(self, grades) -> np.ndarray:
        """P(at least one click) per session, shape (n,): the session's click-through rate."""
        raise NotImplementedError

    # -- sampling -------------------------------------------------------------------
    def simulate(self, grades, rng=None) -> np.ndarray:
        """Sample clicks, a bool array (n, K); `rng` is a seed or numpy Generator (None = fresh entropy).

        Vectorised over sessions; the sequential models loop over the K ranks.
        """
        grades = self.check_grades(grades)
        return self._simulate(grades, as_generator(rng))

    def _simulate(self, grades: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError

    # -- validation -----------------------------------------------------------------
    def check_grades(self, grades) -> np.ndarray:
        """Return `grades` as an int64 array (n_sessions, K) after checking type, rank, size and range."""
        array = as_int_array(grades, "grades", ndim=2)
        low, high = int(array.min()), int(array.max())
        if low < 0 or high >= self.n_grades:
            raise ValueError(f"grades must lie in 0..{self.n_grades - 1}, got values from {low} to {high}")
        return array.astype(np.int64, copy=False)

    def __repr__(self) -> str:
        source = f"parameter_set={self.parameter_set!r}" if self.parameter_set else f"click_prob={self.click_prob.tolist()}"
        return f"{type(self).__name__}({source}{self._extra_repr()})"

    def _extra_repr(self) -> str:
        return ""


class PositionBasedModel(ClickModel):
    """PBM: rank r is examined with probability (1/r)^eta, whatever was shown or clicked.

    P(C_r = 1) = (1/r)^eta * alpha(g_r); clicks at different ranks are independent,
    so P(no click) = prod_r (1 - (1/r)^eta alpha(g_r)). eta = 0 means every rank is
    examined; larger eta means stronger position bias. No stop table: a PBM
    shopper never stops early, the falling examination stands in for it.
    """

    name = "pbm"

    def __init__(self, click_prob, *, eta: float = 1.0, parameter_set: str | None = None):
        super().__init__(click_prob, parameter_set=parameter_set)
        self.eta = check_positive("eta", eta, allow_zero=True)

    def propensities(self, k: int) -> np.ndarray:
        """The examination propensities (1/r)^eta for ranks r = 1..k, shape (k,)."""
        ranks = np.arange(1, int(k) + 1, dtype=np.float64)
        return ranks ** (-self.eta)

    def examination_probabilities(self, grades) -> np.ndarray:
        grades = self.check_grades(grades)
        return np.broadcast_to(self.propensities(grades.shape[1]), grades.shape).copy()

    def any_click_probability(self, grades) -> np.ndarray:
        return 1.0 - np.prod(1.0 - self.click_probabilities(grades), axis=1)

    def _simulate(self, grades, rng):
        # Two independent coins per slot: examined, then attracted.
        examined = rng.random(grades.shape) < self.propensities(grades.shape[1])
        attracted = rng.random(grades.shape) < self.click_prob[grades]
        return examined & attracted

    def _extra_repr(self) -> str:
        return f", eta={self.eta:g}"


class DynamicBayesianNetwork(ClickModel):
    """DBN (Chapelle & Zhang 2009): attractiveness alpha(g), satisfaction sigma(g), perseverance gamma.

    At an examined rank r the shopper clicks with alpha(g_r); after a click she is
    satisfied with sigma(g_r) and leaves; otherwise she examines rank r+1 with
    probability gamma:

        P(E_1) = 1,   P(E_{r+1}) = P(E_r) * gamma * (1 - alpha(g_r) sigma(g_r)).
    """

    name = "dbn"

    def __init__(self, click_prob, stop_prob, *, gamma: float = DEFAULT_DBN_GAMMA, parameter_set: str | None = None):
        super().__init__(click_prob, parameter_set=parameter_set)
        self.stop_prob = _probability_table("stop_prob", stop_prob, length=self.click_prob.size)
        self.gamma = _check_probability_scalar("gamma", gamma)

    def examination_probabilities(self, grades) -> np.ndarray:
        grades = self.check_grades(grades)
        # Probability of leaving at rank r given it was examined: satisfied after a click.
        satisfied = self.click_prob[grades] * self.stop_prob[grades]
        go_on = self.gamma * (1.0 - satisfied)
        examined = np.ones(grades.shape, dtype=np.float64)
        # cumprod of the "go on" factors, shifted by one rank: P(E_1) = 1.
        examined[:, 1:] = np.cumprod(go_on[:, :-1], axis=1)
        return examined

    def any_click_probability(self, grades) -> np.ndarray:
        grades = self.check_grades(grades)
        miss = 1.0 - self.click_prob[grades]
        n, k = grades.shape
        # q_r = P(rank r examined and no click before it); a clickless session ends
        # after rank r by walking away (1 - gamma), or at the bottom of the list.
        reach = np.ones(n)
        no_click = np.zeros(n)
        for r in range(k):
            leave = 1.0 if r == k - 1 else 1.0 - self.gamma
            no_click += reach * miss[:, r] * leave
            reach = reach * miss[:, r] * self.gamma
        return 1.0 - no_click

    def _simulate(self, grades, rng):
        n, k = grades.shape
        alpha = self.click_prob[grades]
        sigma = self.stop_prob[grades]
        clicks = np.zeros((n, k), dtype=bool)
        examining = np.ones(n, dtype=bool)
        for r in range(k):
            # Draw for every session (stopped ones too) so the stream of random
            # numbers, hence the clicks, does not depend on who stopped where.
            click = examining & (rng.random(n) < alpha[:, r])
            satisfied = click & (rng.random(n) < sigma[:, r])
            clicks[:, r] = click
            examining = examining & ~satisfied
            if self.gamma < 1.0:
                examining &= rng.random(n) < self.gamma
        return clicks

    def _extra_repr(self) -> str:
        return f", gamma={self.gamma:g}"


class CascadeModel(DynamicBayesianNetwork):
    """Cascade model of online LTR: scan top-down, click with alpha(g), stop after a click with sigma(g).

    P(E_1) = 1, P(E_{r+1}) = P(E_r) * (1 - alpha(g_r) sigma(g_r)): the DBN with gamma = 1.
    With sigma = 1 for every grade it is Craswell et al.'s cascade: at most one click.
    """

    name = "cascade"

    def __init__(self, click_prob, stop_prob, *, parameter_set: str | None = None):
        super().__init__(click_prob, stop_prob, gamma=1.0, parameter_set=parameter_set)

    def _extra_repr(self) -> str:
        return ""


def make_click_model(
    name: str,
    parameter_set: str = "navigational",
    *,
    eta: float = 1.0,
    gamma: float | None = None,
) -> ClickModel:
    """Build a click model from the literature's tables (see the module docstring for sources).

    name: "pbm", "cascade" or "dbn". parameter_set: "perfect", "navigational",
    "informational" or "almost_random". eta is the PBM's position-bias exponent
    in (1/r)^eta (used by "pbm" only); gamma is the DBN's perseverance (used by
    "dbn" only, default DEFAULT_DBN_GAMMA = 0.9). Both are validated whatever the
    model, so a bad configuration fails early. PBM uses only the click table.

    >>> model = make_click_model("cascade", "perfect")
    >>> model.click_probabilities([[4, 0, 2]]).round(3).tolist()
    [[1.0, 0.0, 0.4]]
    """
    check_choice("name", name, CLICK_MODEL_NAMES)
    check_choice("parameter_set", parameter_set, tuple(PARAMETER_SETS))
    eta = check_positive("eta", eta, allow_zero=True)
    gamma = DEFAULT_DBN_GAMMA if gamma is None else _check_probability_scalar("gamma", gamma)
    click_prob, stop_prob = PARAMETER_SETS[parameter_set]
    if name == "pbm":
        return PositionBasedModel(click_prob, eta=eta, parameter_set=parameter_set)
    if name == "cascade":
        return CascadeModel(click_prob, stop_prob, parameter_set=parameter_set)
    return DynamicBayesianNetwork(click_prob, stop_prob, gamma=gamma, parameter_set=parameter_set)
