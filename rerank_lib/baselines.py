"""The re-rankers people would pick instead, as shop policies: popularity, Vowpal Wabbit, LightGBM LambdaMART.

Each is a `rerank_lib.online.Policy` (rank a SessionBatch, then observe its feedback), so
`run_progressive` serves them the same sessions as this project's online learners:

    PopularityPolicy    sorts the candidates by the clicks each product has received so far
                        (from this policy's own feedback, over all queries and shoppers);
                        ties, and every product before its first click, keep the BM25 order.
    VowpalWabbitPolicy  Vowpal Wabbit `--cb_explore_adf` (the engine behind Azure Personalizer),
                        learning online from the clicks (the reduction is described on the class).
    LambdaMARTPolicy    LightGBM `LGBMRanker(objective="lambdarank")`, trained offline on all the
                        clicks logged so far and retrained every `retrain_every` sessions; BM25 order
                        until the first training.

Vowpal Wabbit and LightGBM are optional (`pip install 'rerank-lab[bench]'`); they are imported
when a policy is built, and a missing package raises ImportError saying how to install it.
All three see what the learners see: `FeatureEncoder.encode(batch)` (the 12 dense features,
including the shopper's click history, and the shopper, query, product, category, brand and
price-band ids), and each keeps its own encoder, fed with its own feedback.
"""

from __future__ import annotations

import numpy as np

from rerank_lib.checks import check_choice, check_positive, check_positive_int
from rerank_lib.features import FEATURES, FeatureEncoder
from rerank_lib.online import Policy, feedback_labels
from rerank_lib.seeding import as_generator

__all__ = ["LambdaMARTPolicy", "PopularityPolicy", "VowpalWabbitPolicy", "import_optional"]

BENCH_EXTRA_HINT = "install the benchmark extra: pip install 'rerank-lab[bench]' (or pip install vowpalwabbit lightgbm)"


def import_optional(name: str):
    """Import an optional benchmark dependency or raise ImportError naming the extra that provides it."""
    import importlib

    try:
        return importlib.import_module(name)
    except ImportError as error:
        raise ImportError(f"{name} is not installed ({error}); {BENCH_EXTRA_HINT}") from None


def _stable_descending(scores: np.ndarray) -> np.ndarray:
    """Candidate indices by decreasing score; ties keep the BM25 (input) order."""
    return np.argsort(-np.asarray(scores, np.float64), axis=1, kind="stable")


def _check_encoder(encoder) -> FeatureEncoder:
    if not isinstance(encoder, FeatureEncoder):
        raise TypeError(f"encoder must be a rerank_lib.features.FeatureEncoder, got {type(encoder).__name__}")
    return encoder


class PopularityPolicy(Policy):
    """Sort candidates by the clicks each product has had so far (observed online); ties keep BM25 order.

    n_products: the catalog size (product ids 0 .. n_products - 1).
    """

    def __init__(self, n_products: int, name: str = "popularity"):
        self.n_products = check_positive_int("n_products", n_products)
        self.clicks = np.zeros(self.n_products, np.int64)
        self.name = name

    def rank(self, batch) -> np.ndarray:
        return _stable_descending(self.clicks[np.asarray(batch.candidates)])

    def observe(self, batch, feedback) -> None:
        np.add.at(self.clicks, np.asarray(feedback.products)[np.asarray(feedback.clicks, bool)], 1)


VW_EXPLORERS = ("squarecb", "softmax", "epsilon")


class VowpalWabbitPolicy(Policy):
    """Vowpal Wabbit `--cb_explore_adf`: one multi-line ADF example per session, learning online.

    Features (the FeatureEncoder's, as VW text): a `shared` line with namespaces s (the shopper id)
    and q (the query id), and one line per candidate with namespace a (the 12 dense features,
    values as given) and namespace i (product, category, brand and price-band ids). Quadratic
    interactions s x i and q x i (`interactions`) let the linear model personalise: without them
    the shared features add the same amount to every candidate and cannot change the order.

    Ranking (`explorer`): VW returns a PMF over the K candidates.
        squarecb  (default) --squarecb: p(a) = 1 / (K + gamma (cost(a) - cost(best))) for every
                  a but the best, which gets the rest; gamma grows with the examples seen.
        softmax   --softmax --lambda `softmax_lambda`: p(a) proportional to exp(-lambda cost(a)).
        epsilon   --epsilon `epsilon`: 1 - eps + eps / K for the best, eps / K for every other.
    The top slot is sampled from the PMF (the exploration; its probability is logged), and the
    other K - 1 candidates follow in decreasing PMF. Under squarecb and softmax the PMF is a
    decreasing function of VW's predicted cost, so that order is VW's score order; under
    epsilon-greedy the PMF orders only the best action, so the rest keep the BM25 order.

    Learning (the reduction): CB ADF learns from ONE chosen action per example, with its cost
    and the probability it was chosen with. Each session gives one example: the action shown
    at rank 1 (sampled from the PMF), cost = -(click + purchase) at rank 1 (the labels the
    project's learners use), probability = its PMF value. Clicks further down the list are not
    used: their probability of being shown there is not a PMF value, so an importance weight
    for them would be made up. This is the known limitation of using a contextual bandit for a
    whole ranking (VW's slates/CCB reductions address it, and are not benchmarked here).
    """

    def __init__(self, encoder: FeatureEncoder, *, explorer: str = "squarecb", epsilon: float = 0.05,
                 softmax_lambda: float = 10.0, bits: int = 20, interactions=("si", "qi"), extra_args: str = "",
                 seed: int = 0, name: str = "vw"):
        vowpalwabbit = import_optional("vowpalwabbit")
        self.encoder = _check_encoder(encoder)
        self.explorer = check_choice("explorer", explorer, VW_EXPLORERS)
        self.epsilon = check_positive("epsilon", epsilon, allow_zero=True)
        self.softmax_lambda = check_positive("softmax_lambda", softmax_lambda)
        self.bits = check_positive_int("bits", bits)
        explore = {"squarecb": "--squarecb", "softmax": f"--softmax --lambda {self.softmax_lambda:g}",
                   "epsilon": f"--epsilon {self.epsilon:g}"}[self.explorer]
        pairs = " ".join(f"--interactions {pair}" for pair in interactions)
        self.args = f"--cb_explore_adf {explore} {pairs} -b {self.bits} --random_seed {int(seed)} --quiet {extra_args}".strip()
        self.workspace = vowpalwabbit.Workspace(self.args)
        self.rng = as_generator(seed)
        self.name = name
        self._action_format = "|a " + " ".join(f"f{j}:{{:.6g}}" for j in range(len(FEATURES))) + " |i p{} c{} b{} r{}"
        self._cache = None

    def session_lines(self, inputs, i: int) -> list[str]:
        """Session i of RankingInputs as VW ADF text lines (shared line first, then one per candidate)."""
        fmt = self._action_format.format
        lines = [f"shared |s u{int(inputs.shopper_ids[i])} |q q{int(inputs.query_ids[i])}"]
        ids = np.stack([inputs.product_ids[i], inputs.category_ids[i], inputs.brand_ids[i], inputs.price_band_ids[i]], 1)
        for dense, (p, c, b, r) in zip(inputs.dense[i].tolist(), ids.tolist()):
            lines.append(fmt(*dense, p, c, b, r))
        return lines

    def pmf(self, lines: list[str]) -> np.ndarray:
        """VW's PMF over the session's candidates (in candidate order)."""
        return np.asarray(self.workspace.predict(lines), np.float64)

    def rank(self, batch) -> np.ndarray:
        inputs = self.encoder.encode(batch)
        n, k = inputs.product_ids.shape
        order = np.empty((n, k), np.intp)
        sessions = []
        for i in range(n):
            lines = self.session_lines(inputs, i)
            p = self.pmf(lines)
            p = p / p.sum()
            top = int(self.rng.choice(k, p=p))
            if self.explorer == "epsilon":
                rest = np.arange(k)
            else:
                rest = np.argsort(-p, kind="stable")
            order[i, 0] = top
            order[i, 1:] = rest[rest != top]
            sessions.append((lines, top, float(p[top])))
        self._cache = (id(batch), sessions)
        return order

    def learn_session(self, lines: list[str], action: int, cost: float, probability: float) -> None:
        """One CB update: `action` (candidate index) was shown first with `probability` and cost `cost`."""
        labelled = list(lines)
        labelled[action + 1] = f"0:{cost:g}:{probability:.6g} {lines[action + 1]}"
        self.workspace.learn(labelled)

    def observe(self, batch, feedback) -> None:
        if self._cache is None or self._cache[0] != id(batch):
            raise ValueError("observe must follow rank on the same batch (VW learns the action it chose)")
        reward = feedback.clicks[:, 0].astype(np.float64) + feedback.purchases[:, 0]
        for (lines, top, probability), shown, r in zip(self._cache[1], feedback.order[:, 0], reward):
            if int(shown) != top:
                raise ValueError("feedback does not show the action this policy chose at rank 1")
            self.learn_session(lines, top, -float(r), probability)
        self.encoder.observe(batch, feedback)
        self._cache = None


class LambdaMARTPolicy(Policy):
    """LightGBM LambdaMART (`LGBMRanker(objective="lambdarank")`) trained offline on the logged clicks.

    It logs every session it shows (the 12 dense features of each candidate and its label,
    click + purchase, as the online learners use) and, every `retrain_every` sessions, trains a
    fresh model on all the logs so far (sessions without a click carry no pairs and are left
    out). Until the first training it shows the BM25 order. The logs are its own: clicks on the
    rankings it showed, position bias included (no unbiased-LambdaMART correction).
    """

    def __init__(self, encoder: FeatureEncoder, *, retrain_every: int = 2_000, n_estimators: int = 100,
                 num_leaves: int = 31, learning_rate: float = 0.1, min_child_samples: int = 20, n_jobs: int = 1,
                 seed: int = 0, name: str = "lightgbm"):
        self.lightgbm = import_optional("lightgbm")
        self.encoder = _check_encoder(encoder)
        self.retrain_every = check_positive_int("retrain_every", retrain_every)
        self.params = dict(objective="lambdarank", n_estimators=check_positive_int("n_estimators", n_estimators),
                           num_leaves=check_positive_int("num_leaves", num_leaves),
                           learning_rate=check_positive("learning_rate", learning_rate),
                           min_child_samples=check_positive_int("min_child_samples", min_child_samples),
                           n_jobs=check_positive_int("n_jobs", n_jobs), random_state=int(seed), deterministic=True,
                           force_row_wise=True, verbose=-1)
        self.name = name
        self.model = None
        self.trainings = 0
        self._features: list[np.ndarray] = []
        self._labels: list[np.ndarray] = []
        self._since = 0
        self._cache = None

    def _dense(self, batch) -> np.ndarray:
        if self._cache is None or self._cache[0] != id(batch):
            self._cache = (id(batch), self.encoder.encode(batch).dense)
        return self._cache[1]

    def rank(self, batch) -> np.ndarray:
        dense = self._dense(batch)
        n, k, f = dense.shape
        if self.model is None:
            return np.broadcast_to(np.arange(k), (n, k)).copy()
        return _stable_descending(self.model.predict(dense.reshape(n * k, f)).reshape(n, k))

    def observe(self, batch, feedback) -> None:
        dense = self._dense(batch)
        labels = feedback_labels(feedback)
        keep = labels.max(axis=1) > 0
        self._features.append(dense[keep])
        self._labels.append(labels[keep].astype(np.int32))
        self.encoder.observe(batch, feedback)
        self._cache = None
        self._since += len(labels)
        if self._since >= self.retrain_every:
            self._since = 0
            self.fit()

    def fit(self) -> None:
        """Train a fresh LGBMRanker on all the logged sessions with a click."""
        features, labels = np.concatenate(self._features), np.concatenate(self._labels)
        if len(labels) == 0:
            return
        n, k, f = features.shape
        self._features, self._labels = [features], [labels]  # keep one array, not a growing list
        model = self.lightgbm.LGBMRanker(**self.params)
        model.fit(features.reshape(n * k, f), labels.reshape(-1), group=np.full(n, k))
        self.model = model
        self.trainings += 1
