"""The online learner and progressive validation (notebooks 00, 03, 05, 06).

OnlineLearner consumes the session stream: it ranks each session, and once N sessions of
feedback have arrived it takes one optimizer step on their mean loss (a micro-batch):

    theta <- theta - eta_t * g_t,   g_t = grad (1/N) sum_{sessions} loss(scores, labels) + l2 ||theta||^2

(SGD; Adam and Adagrad rescale g_t per coordinate). Optionally each step also replays
`replay_batch` sessions drawn uniformly from the last `replay_capacity` sessions.

Progressive (prequential) validation: every session is scored *before* its feedback is
learned from, so the running metrics are an honest estimate on unseen data
(`run_progressive`). Labels are the clicks plus the purchases (0, 1 or 2 per candidate).

Guarantees: bad input raises ValueError/TypeError naming the field before anything
changes; a step whose loss or gradients are not finite is refused (FloatingPointError)
and the weights, optimizer slots and step counter stay exactly as they were;
`save`/`restore` capture everything (weights, optimizer, step, pending sessions, replay
buffer and its random state), so a stopped and resumed run ends with exactly the
weights of an uninterrupted one.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from rerank_lib import compat
from rerank_lib.checks import as_float_array, check_choice, check_positive, check_positive_int
from rerank_lib.features import FeatureEncoder, RankingInputs
from rerank_lib.metrics import ndcg_at_k
from rerank_lib.ranking_losses import get_ranking_loss
from rerank_lib.rankers import INPUT_NAMES, Ranker, input_signature
from rerank_lib.seeding import as_generator
from rerank_lib.shoppers import COHORTS

import tensorflow as tf  # noqa: E402


class ReplayBuffer:
    """The last `capacity` sessions (inputs and labels), sampled uniformly with replacement."""

    def __init__(self, capacity: int, seed=0):
        self.capacity = check_positive_int("capacity", capacity, allow_zero=True)
        self.rng = as_generator(seed)
        self.arrays: dict[str, np.ndarray] | None = None
        self.size = 0
        self.position = 0

    def add(self, inputs: RankingInputs, labels: np.ndarray) -> None:
        if self.capacity == 0:
            return
        items = {**inputs.as_dict(), "labels": labels}
        if self.arrays is None:
            self.arrays = {k: np.zeros((self.capacity, *v.shape[1:]), v.dtype) for k, v in items.items()}
        if next(iter(items.values())).shape[1:] != next(iter(self.arrays.values())).shape[1:]:
            raise ValueError("replayed sessions must all have the same number of candidates")
        for i in range(len(labels)):
            for key, value in items.items():
                self.arrays[key][self.position] = value[i]
            self.position = (self.position + 1) % self.capacity
            self.size = min(self.size + 1, self.capacity)

    def sample(self, n: int) -> tuple[RankingInputs, np.ndarray] | None:
        if self.size == 0 or n == 0:
            return None
        rows = self.rng.integers(0, self.size, size=n)
        inputs = RankingInputs(**{k: self.arrays[k][rows] for k in INPUT_NAMES})
        return inputs, self.arrays["labels"][rows]

    def state(self) -> dict:
        arrays = {} if self.arrays is None else {f"replay_{k}": v for k, v in self.arrays.items()}
        return {"arrays": arrays, "size": self.size, "position": self.position, "rng": self.rng.bit_generator.state}

    def load_state(self, state: dict, arrays: dict[str, np.ndarray]) -> None:
        names = [k[len("replay_"):] for k in arrays if k.startswith("replay_")]
        self.arrays = {name: np.array(arrays[f"replay_{name}"]) for name in names} or None
        self.size, self.position = int(state["size"]), int(state["position"])
        self.rng.bit_generator.state = state["rng"]


class OnlineLearner:
    """Learns a Ranker online from session feedback in micro-batches of `batch_size` sessions.

    loss: a name from rerank_lib.ranking_losses (ArticleRanker uses its own MSE whatever this says).
    optimizer: 'sgd', 'adam' or 'adagrad'; schedule: 'constant', 'inverse_time' or 'exponential'.
    """

    def __init__(self, ranker: Ranker, *, loss: str = "listnet", optimizer: str = "adam", learning_rate: float = 0.01,
                 batch_size: int = 32, schedule: str = "constant", decay_steps: int = 1000,
                 replay_capacity: int = 0, replay_batch: int = 0, seed: int = 0):
        if not isinstance(ranker, Ranker):
            raise TypeError(f"ranker must be a rerank_lib.rankers.Ranker, got {type(ranker).__name__}")
        self.ranker = ranker
        self.loss_name = loss
        self.ranking_loss = get_ranking_loss(loss)
        self.learning_rate = check_positive("learning_rate", learning_rate)
        self.batch_size = check_positive_int("batch_size", batch_size)
        self.replay_batch = check_positive_int("replay_batch", replay_batch, allow_zero=True)
        self.optimizer_name = check_choice("optimizer", optimizer, ("sgd", "adam", "adagrad"))
        self.optimizer = compat.make_optimizer(
            optimizer, compat.learning_rate_schedule(schedule, learning_rate, decay_steps=decay_steps)
        )
        self.variables = list(ranker.trainable_variables)
        compat.build_optimizer(self.optimizer, self.variables)
        self.step = tf.Variable(0, dtype=tf.int64, name="step")
        self.seed = int(seed)
        self.replay = ReplayBuffer(replay_capacity, seed=seed)
        self._pending: list[tuple[RankingInputs, np.ndarray]] = []
        signature = input_signature(ranker.n_features)
        labels_spec = tf.TensorSpec([None, None], tf.float32)
        seed_spec = tf.TensorSpec([2], tf.int64)

        # autograph=False: these functions have no data-dependent Python control flow, and skipping
        # the autograph conversion makes building a learner several times faster.
        @tf.function(input_signature=[signature], autograph=False)
        def score_fn(inputs):
            scores = ranker.scores(inputs, training=False)
            return tf.where(inputs["mask"], scores, tf.fill(tf.shape(scores), -np.inf))

        @tf.function(input_signature=[signature, labels_spec, seed_spec], autograph=False)
        def gradients_fn(inputs, labels, seed):
            with tf.GradientTape() as tape:
                loss = ranker.loss(inputs, labels, self.ranking_loss, training=True, seed=seed)
            grads = [tf.convert_to_tensor(g) if g is not None else tf.zeros_like(v)
                     for g, v in zip(tape.gradient(loss, self.variables), self.variables)]
            finite = tf.reduce_all([tf.math.is_finite(loss)] + [tf.reduce_all(tf.math.is_finite(g)) for g in grads])
            return loss, grads, finite

        @tf.function(autograph=False)
        def apply_fn(grads):
            self.optimizer.apply_gradients(zip(grads, self.variables))
            self.step.assign_add(1)

        self._score_fn, self._gradients_fn, self._apply_fn = score_fn, gradients_fn, apply_fn

    # -- inference -------------------------------------------------------------------------------
    def _validate(self, inputs: RankingInputs) -> None:
        if not isinstance(inputs, RankingInputs):
            raise TypeError(f"inputs must be RankingInputs, got {type(inputs).__name__}")
        inputs.validate(self.ranker.n_features)

    def _tensors(self, inputs: RankingInputs) -> dict:
        self._validate(inputs)
        return {name: tf.convert_to_tensor(getattr(inputs, name), dtype=spec.dtype)
                for name, spec in input_signature(self.ranker.n_features).items()}

    def score(self, inputs: RankingInputs) -> np.ndarray:
        """Scores (n, K); masked candidates get -inf."""
        return self._score_fn(self._tensors(inputs)).numpy()

    def rank(self, inputs: RankingInputs) -> np.ndarray:
        """The display order (n, K): candidate indices by decreasing score (ties keep the input order)."""
        return np.argsort(-self.score(inputs), axis=1, kind="stable")

    # -- learning --------------------------------------------------------------------------------
    def _labels(self, inputs: RankingInputs, labels) -> np.ndarray:
        labels = as_float_array(labels, "labels", ndim=2, dtype=np.float32)
        if labels.shape != inputs.product_ids.shape:
            raise ValueError(f"labels must have shape {inputs.product_ids.shape} (sessions, candidates), got {labels.shape}")
        if (labels < 0).any():
            raise ValueError("labels must be >= 0")
        return labels

    def update(self, inputs: RankingInputs, labels) -> float:
        """One optimizer step on these sessions; returns the loss before the step.

        Raises (leaving everything unchanged) on bad input, or FloatingPointError if the loss or a
        gradient is not finite.
        """
        tensors = self._tensors(inputs)
        labels = self._labels(inputs, labels)
        seed = tf.constant([self.seed, int(self.step.numpy())], tf.int64)
        loss, grads, finite = self._gradients_fn(tensors, tf.constant(labels), seed)
        if not bool(finite):
            raise FloatingPointError("update refused: the loss or a gradient is not finite; weights unchanged")
        self._apply_fn(grads)
        return float(loss)

    def learn(self, inputs: RankingInputs, labels) -> list[float]:
        """Queue these sessions; take one step per full micro-batch of `batch_size` sessions. Returns the losses."""
        self._validate(inputs)  # everything is checked before anything is queued
        labels = self._labels(inputs, labels)
        self._pending.append((inputs, labels))
        losses = []
        while sum(len(l) for _, l in self._pending) >= self.batch_size:
            batch_inputs = RankingInputs.concatenate([i for i, _ in self._pending])
            batch_labels = np.concatenate([l for _, l in self._pending])
            head, rest = slice(0, self.batch_size), slice(self.batch_size, None)
            self._pending = [(batch_inputs.take(rest), batch_labels[rest])] if len(batch_labels) > self.batch_size else []
            step_inputs, step_labels = batch_inputs.take(head), batch_labels[head]
            replayed = self.replay.sample(self.replay_batch)
            self.replay.add(step_inputs, step_labels)
            if replayed is not None:
                step_inputs = RankingInputs.concatenate([step_inputs, replayed[0]])
                step_labels = np.concatenate([step_labels, replayed[1]])
            losses.append(self.update(step_inputs, step_labels))
        return losses

    def fit(self, inputs: RankingInputs, labels, *, epochs: int = 1, seed: int = 0) -> list[float]:
        """Offline training on logged sessions: `epochs` passes in shuffled micro-batches of `batch_size`.

        Use it to warm-start from logs before learning online (offline + online combined).
        """
        epochs = check_positive_int("epochs", epochs)
        self._validate(inputs)
        labels = self._labels(inputs, labels)
        rng = as_generator(seed)
        losses = []
        for _ in range(epochs):
            order = rng.permutation(len(labels))
            for start in range(0, len(order), self.batch_size):
                rows = order[start:start + self.batch_size]
                losses.append(self.update(inputs.take(rows), labels[rows]))
        return losses

    # -- checkpoints -----------------------------------------------------------------------------
    def _checkpoint(self) -> tf.train.Checkpoint:
        return tf.train.Checkpoint(ranker=self.ranker, optimizer=self.optimizer, step=self.step)

    def save(self, directory) -> Path:
        """Write weights, optimizer state, step, pending sessions and replay buffer under `directory`."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self._checkpoint().write(str(directory / "learner"))
        pending_inputs = RankingInputs.concatenate([i for i, _ in self._pending]) if self._pending else None
        arrays = dict(self.replay.state()["arrays"])
        if pending_inputs is not None:
            arrays.update({f"pending_{k}": v for k, v in pending_inputs.as_dict().items()})
            arrays["pending_labels"] = np.concatenate([l for _, l in self._pending])
        np.savez(directory / "sessions.npz", **arrays)
        state = {k: v for k, v in self.replay.state().items() if k != "arrays"}
        (directory / "state.json").write_text(json.dumps({"replay": state, "seed": self.seed}))
        return directory

    def restore(self, directory) -> None:
        """Load what `save` wrote (into a learner built with the same ranker and settings)."""
        directory = Path(directory)
        if not (directory / "state.json").exists():
            raise FileNotFoundError(f"directory has no learner checkpoint: {directory}")
        self._checkpoint().read(str(directory / "learner")).assert_existing_objects_matched()
        state = json.loads((directory / "state.json").read_text())
        with np.load(directory / "sessions.npz") as stored:
            arrays = {k: stored[k] for k in stored.files}
        self.replay.load_state(state["replay"], arrays)
        self.seed = int(state["seed"])
        if "pending_labels" in arrays:
            pending = RankingInputs(**{k: arrays[f"pending_{k}"] for k in INPUT_NAMES})
            self._pending = [(pending, arrays["pending_labels"])]
        else:
            self._pending = []


# -- progressive validation in the shop -------------------------------------------------------------

class Policy:
    """Something that ranks shop sessions and may learn from their feedback."""

    name = "policy"

    def rank(self, batch) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError

    def observe(self, batch, feedback) -> None:
        pass


class StaticPolicy(Policy):
    """A fixed ranking function (e.g. shop.bm25_ranker or shop.oracle_ranker)."""

    def __init__(self, rank_fn: Callable, name: str):
        self.rank_fn, self.name = rank_fn, name

    def rank(self, batch) -> np.ndarray:
        return self.rank_fn(batch)


class LearningPolicy(Policy):
    """A FeatureEncoder + OnlineLearner: ranks with the current model, then learns from the feedback.

    Set `learning = False` to freeze the model: it keeps serving, and the shoppers' click histories
    (features) keep updating, but no more optimizer steps are taken (e.g. a model that stops learning).
    """

    def __init__(self, encoder: FeatureEncoder, learner: OnlineLearner, name: str = "online"):
        self.encoder, self.learner, self.name = encoder, learner, name
        self.learning = True
        self._cache: tuple[int, RankingInputs] | None = None

    def _inputs(self, batch) -> RankingInputs:
        if self._cache is None or self._cache[0] != id(batch):
            self._cache = (id(batch), self.encoder.encode(batch))
        return self._cache[1]

    def rank(self, batch) -> np.ndarray:
        return self.learner.rank(self._inputs(batch))

    def observe(self, batch, feedback) -> None:
        if self.learning:
            self.learner.learn(self._inputs(batch), feedback_labels(feedback))
        self.encoder.observe(batch, feedback)
        self._cache = None


def feedback_labels(feedback) -> np.ndarray:
    """Training labels in candidate (BM25) order: 1 per click plus 1 per purchase."""
    return feedback.to_candidate_order(feedback.clicks.astype(np.float32) + feedback.purchases)


def collect_logs(shop, policy: Policy, encoder: FeatureEncoder, n_sessions: int, *, batch_size: int = 500):
    """Serve n_sessions with `policy` (e.g. the production BM25 ranker) and log (inputs, labels) for offline training.

    The encoder learns the shoppers' histories from these sessions as it would in production.
    """
    n_sessions = check_positive_int("n_sessions", n_sessions)
    parts, labels = [], []
    for batch, feedback in shop.run(policy.rank, n_sessions, batch_size=batch_size):
        parts.append(encoder.encode(batch))
        labels.append(feedback_labels(feedback))
        encoder.observe(batch, feedback)
    return RankingInputs.concatenate(parts), np.concatenate(labels)


def session_metrics(batch, feedback, prices) -> dict[str, np.ndarray]:
    """Per-session metrics of what was shown: NDCG@10 (true grades, ideal over all candidates), clicks, purchases, revenue."""
    return {
        "ndcg10": ndcg_at_k(feedback.grades, 10, ideal_grades=batch.grades),
        "ctr": feedback.clicks.any(axis=1).astype(np.float64),
        "conversion": feedback.purchases.any(axis=1).astype(np.float64),
        "revenue": (feedback.purchases * prices[feedback.products]).sum(axis=1),
    }


def run_progressive(shop, policies: list[Policy], n_sessions: int, *, batch_size: int = 100,
                    by_cohort: bool = False, click_seed: int | None = None, progress: bool = False) -> pd.DataFrame:
    """Serve the same sessions to every policy; each ranks a batch, then learns from its own feedback.

    Returns one row per (batch, policy) — or per (batch, policy, cohort) with by_cohort=True —
    with n (sessions), sessions_seen (after the batch) and the mean ndcg10, ctr, conversion and
    revenue (per session). Scores come before learning: progressive validation.

    Click noise: by default all policies draw their clicks one after another from the shop's
    stream, so adding a policy to a run changes the others' clicks. With `click_seed`, each
    policy draws from its own stream (seeded by click_seed and its name), so a policy's run is
    the same whichever policies run beside it.
    """
    n_sessions = check_positive_int("n_sessions", n_sessions)
    batch_size = check_positive_int("batch_size", batch_size)
    names = [p.name for p in policies]
    if len(set(names)) != len(names):
        raise ValueError(f"policies must have distinct names, got {names}")
    prices = np.asarray(shop.catalog.price, np.float64)
    cohort_names = np.asarray(COHORTS)
    click_rngs = {p.name: None if click_seed is None else np.random.default_rng([click_seed, zlib.crc32(p.name.encode())])
                  for p in policies}
    rows = []
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=n_sessions, desc="sessions", unit="session")
    seen = 0
    while seen < n_sessions:
        batch = shop.sample_sessions(min(batch_size, n_sessions - seen))
        seen += len(batch)
        groups = [(None, np.ones(len(batch), bool))]
        if by_cohort:
            groups = [(cohort_names[c], batch.cohort == c) for c in np.unique(batch.cohort)]
        for policy in policies:
            feedback = shop.respond(batch, policy.rank(batch), rng=click_rngs[policy.name])
            metrics = session_metrics(batch, feedback, prices)
            for cohort, rows_in in groups:
                row = {"sessions_seen": seen, "policy": policy.name, "n": int(rows_in.sum())}
                if by_cohort:
                    row["cohort"] = cohort
                rows.append({**row, **{k: float(v[rows_in].mean()) for k, v in metrics.items()}})
            policy.observe(batch, feedback)
        if bar is not None:
            bar.update(len(batch))
    if bar is not None:
        bar.close()
    return pd.DataFrame(rows)


METRICS = ("ctr", "ndcg10", "conversion", "revenue")


def summarize_phases(history: pd.DataFrame, n_phases: int = 4, *, by=("policy",)) -> pd.DataFrame:
    """Session-weighted mean metrics in `n_phases` equal phases of the run; rows (phase, *by)."""
    n_phases = check_positive_int("n_phases", n_phases)
    total = history["sessions_seen"].max()
    phase = np.minimum(((history["sessions_seen"] - 1) * n_phases // total), n_phases - 1) + 1
    metrics = list(METRICS)
    weighted = history[metrics].mul(history["n"], axis=0).assign(n=history["n"], phase=phase)
    for column in by:
        weighted[column] = history[column]
    grouped = weighted.groupby(["phase", *by], sort=True).sum()
    return grouped[metrics].div(grouped["n"], axis=0)


@dataclass(frozen=True)
class GapClosed:
    """Share of the base-to-oracle gap that a policy closes: (policy - base) / (oracle - base)."""

    base: float
    policy: float
    oracle: float

    @property
    def share(self) -> float:
        gap = self.oracle - self.base
        return float("nan") if gap == 0 else (self.policy - self.base) / gap
