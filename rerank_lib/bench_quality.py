"""`python -m rerank_lib bench quality --json PATH [--quick]`: every re-ranker on the same simulated sessions.

For each parameter set of the position-based click model (navigational, informational) and each
seed, one shop serves the same batches to every policy (`run_progressive`): each policy ranks a
batch, gets its own clicks, and then learns from them (progressive validation: every number is
measured on sessions the policy had not learned from).

    base         the BM25 order
    popularity   candidates sorted by the clicks each product got so far (rerank_lib.baselines)
    oracle       sorted by the hidden grades: the upper bound
    linear, mlp, hybrid   this project's online learners (make_ranker + OnlineLearner, ListNet,
                 Adam, learning rate 0.01, micro-batches of 32 sessions: the demo's settings)
    vw           Vowpal Wabbit --cb_explore_adf --squarecb (rerank_lib.baselines.VowpalWabbitPolicy)
    vw_epsilon   the same with --epsilon 0.05 (its PMF orders only the top slot; the rest stay in BM25 order)
    lightgbm     LightGBM LambdaMART trained on its own logged clicks, retrained every 2,000 sessions

Per policy and run: session CTR (share of sessions with a click), per-impression CTR (clicks per
shown result), clicks and expected clicks per session (the click model's expectation for the
shown order, so without click noise), NDCG@10 against the hidden grades, conversion, the share
of the base-to-oracle NDCG@10 gap closed, regret (cumulative oracle minus policy, in NDCG@10 and
in expected clicks), and the policy's own wall time (ranking plus learning) per 1,000 sessions.
Everything runs on one core (see `benchmarks.pin_threads`).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

DEFAULTS = dict(sessions=10_000, quick_sessions=1_000, seeds=(0, 1), parameter_sets=("navigational", "informational"),
                click_model="pbm", serve_batch=100, retrain_every=2_000, quick_retrain_every=250,
                learners=("linear", "mlp", "hybrid"), loss="listnet", learning_rate=0.01, batch_size=32,
                vw_explorers=("squarecb", "epsilon"), vw_epsilon=0.05, phases=4)
LEARNERS = DEFAULTS["learners"]
METRICS = ("ctr", "ctr_impression", "clicks_per_session", "expected_clicks", "ndcg10", "conversion")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", type=Path, required=True, help="write the results here")
    parser.add_argument("--quick", action="store_true",
                        help=f"{DEFAULTS['quick_sessions']:,} sessions per run, LightGBM retrained every "
                             f"{DEFAULTS['quick_retrain_every']} (under a minute)")
    parser.add_argument("--sessions", type=int, default=None,
                        help=f"sessions per run (default {DEFAULTS['sessions']:,}; --quick {DEFAULTS['quick_sessions']:,})")
    parser.add_argument("--seeds", type=int, nargs="+", default=list(DEFAULTS["seeds"]), help="default: 0 1")
    parser.add_argument("--parameter-sets", nargs="+", default=list(DEFAULTS["parameter_sets"]),
                        choices=["perfect", "navigational", "informational", "almost_random"],
                        help="click-model parameter sets of the pbm click model (default: navigational informational)")
    parser.add_argument("--retrain-every", type=int, default=None,
                        help=f"LightGBM retraining period in sessions (default {DEFAULTS['retrain_every']:,})")
    parser.add_argument("--plot", type=Path, default=None, help="also draw the learning curves into this PNG")


class InstrumentedPolicy:
    """Wraps a policy: times its rank + observe and records what the click model expects of its rankings."""

    def __init__(self, policy, click_model):
        self.policy, self.name, self.click_model = policy, policy.name, click_model
        self.seconds = 0.0
        self.expected_clicks: list[float] = []  # per batch: sum over its sessions
        self.clicks: list[int] = []
        self.impressions = 0

    def rank(self, batch):
        start = time.perf_counter()
        order = self.policy.rank(batch)
        self.seconds += time.perf_counter() - start
        return order

    def observe(self, batch, feedback):
        self.expected_clicks.append(float(self.click_model.expected_clicks(feedback.grades).sum()))
        self.clicks.append(int(feedback.clicks.sum()))
        self.impressions += feedback.clicks.size
        start = time.perf_counter()
        self.policy.observe(batch, feedback)
        self.seconds += time.perf_counter() - start


def make_policies(shop, seed: int, *, retrain_every: int, learners=LEARNERS, vw_explorers=DEFAULTS["vw_explorers"],
                  with_vw: bool = True, with_lightgbm: bool = True) -> list:
    """The policies of one run, in the order of the tables (each learning policy with its own encoder)."""
    from rerank_lib.baselines import LambdaMARTPolicy, PopularityPolicy, VowpalWabbitPolicy
    from rerank_lib.features import FeatureEncoder
    from rerank_lib.online import LearningPolicy, OnlineLearner, StaticPolicy
    from rerank_lib.rankers import make_ranker
    from rerank_lib.shop import bm25_ranker, oracle_ranker

    def encoder():
        return FeatureEncoder(shop.catalog, n_shoppers=len(shop.shoppers), n_queries=len(shop.queries))

    policies = [StaticPolicy(bm25_ranker, "base"), PopularityPolicy(len(shop.catalog)), StaticPolicy(oracle_ranker, "oracle")]
    for kind in learners:
        enc = encoder()
        learner = OnlineLearner(make_ranker(kind, enc, seed=seed), loss=DEFAULTS["loss"],
                                learning_rate=DEFAULTS["learning_rate"], batch_size=DEFAULTS["batch_size"], seed=seed)
        policies.append(LearningPolicy(enc, learner, kind))
    if with_vw:
        for explorer in vw_explorers:
            name = "vw" if explorer == vw_explorers[0] else f"vw_{explorer}"
            policies.append(VowpalWabbitPolicy(encoder(), explorer=explorer, epsilon=DEFAULTS["vw_epsilon"], seed=seed, name=name))
    if with_lightgbm:
        policies.append(LambdaMARTPolicy(encoder(), retrain_every=retrain_every, seed=seed))
    return policies


def _gap(base: float, policy: float, oracle: float) -> float:
    gap = oracle - base
    return float("nan") if gap == 0 else (policy - base) / gap


def run_one(parameter_set: str, seed: int, sessions: int, *, retrain_every: int, click_model: str = "pbm", **kinds) -> dict:
    """One shop, one seed: every policy on the same sessions; returns the figures and the curves."""
    from rerank_lib import seed_everything
    from rerank_lib.online import run_progressive
    from rerank_lib.shop import make_shop

    seed_everything(seed)
    shop = make_shop(click_model=click_model, parameter_set=parameter_set, seed=seed)
    k = shop.k
    wrapped = [InstrumentedPolicy(p, shop.click_model) for p in make_policies(shop, seed, retrain_every=retrain_every, **kinds)]
    start = time.perf_counter()
    history = run_progressive(shop, wrapped, sessions, batch_size=DEFAULTS["serve_batch"])
    seconds = time.perf_counter() - start
    history = history.assign(expected_clicks=0.0)
    for policy in wrapped:
        rows = history["policy"] == policy.name
        history.loc[rows, "expected_clicks"] = np.asarray(policy.expected_clicks) / history.loc[rows, "n"].to_numpy()
        history.loc[rows, "clicks"] = np.asarray(policy.clicks, float)
    last_start = sessions - sessions // DEFAULTS["phases"]  # the last quarter of the sessions
    by_policy = {name: part for name, part in history.groupby("policy", sort=False)}

    def mean(part, column, last=False):
        if last:
            part = part[part["sessions_seen"] > last_start]
        return float((part[column] * part["n"]).sum() / part["n"].sum())

    oracle = by_policy["oracle"]
    policies = {}
    for policy in wrapped:
        part = by_policy[policy.name]
        n = part["n"].to_numpy()
        figures = {
            "ctr": mean(part, "ctr"),
            "ctr_impression": float(part["clicks"].sum() / policy.impressions),
            "clicks_per_session": float(part["clicks"].sum() / n.sum()),
            "expected_clicks": mean(part, "expected_clicks"),
            "ndcg10": mean(part, "ndcg10"),
            "conversion": mean(part, "conversion"),
            "ctr_last": mean(part, "ctr", last=True),
            "expected_clicks_last": mean(part, "expected_clicks", last=True),
            "ndcg10_last": mean(part, "ndcg10", last=True),
            "regret_ndcg10": float(((oracle["ndcg10"].to_numpy() - part["ndcg10"].to_numpy()) * n).sum()),
            "regret_expected_clicks": float(((oracle["expected_clicks"].to_numpy() - part["expected_clicks"].to_numpy()) * n).sum()),
            "seconds_per_1000": 1000 * policy.seconds / sessions,
        }
        inner = policy.policy
        if hasattr(inner, "trainings"):
            figures["trainings"] = inner.trainings
        if hasattr(inner, "args"):
            figures["vw_args"] = inner.args
        policies[policy.name] = figures
    base, top = policies["base"], policies["oracle"]
    for figures in policies.values():
        figures["gap_closed"] = _gap(base["ndcg10"], figures["ndcg10"], top["ndcg10"])
        figures["gap_closed_last"] = _gap(base["ndcg10_last"], figures["ndcg10_last"], top["ndcg10_last"])
    curves = {"sessions_seen": by_policy["base"]["sessions_seen"].astype(int).tolist()}
    for name, part in by_policy.items():
        curves[name] = {"ndcg10": part["ndcg10"].round(5).tolist(), "expected_clicks": part["expected_clicks"].round(5).tolist()}
    return {"click_model": click_model, "parameter_set": parameter_set, "seed": seed, "sessions": sessions, "k": k,
            "seconds": round(seconds, 2), "policies": policies, "curves": curves}


def summarize(runs: list[dict]) -> dict:
    """Per parameter set: each policy's figures averaged over the seeds."""
    summary = {}
    for parameter_set in dict.fromkeys(r["parameter_set"] for r in runs):
        group = [r for r in runs if r["parameter_set"] == parameter_set]
        names = list(group[0]["policies"])
        summary[parameter_set] = {
            name: {key: float(np.mean([r["policies"][name][key] for r in group]))
                   for key, value in group[0]["policies"][name].items() if isinstance(value, (int, float))}
            for name in names
        }
    return summary


def plot_learning_curves(result: dict, path: Path, *, window: int = 10) -> Path:
    """One figure: NDCG@10 (moving average) and cumulative expected-click regret per parameter set, mean over seeds."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from rerank_lib.plotting import label_axes, moving_average

    sets = list(dict.fromkeys(r["parameter_set"] for r in result["runs"]))
    fig, axes = plt.subplots(2, len(sets), figsize=(6.4 * len(sets), 8.0), squeeze=False)
    for column, parameter_set in enumerate(sets):
        runs = [r for r in result["runs"] if r["parameter_set"] == parameter_set]
        seen = np.asarray(runs[0]["curves"]["sessions_seen"])
        n = np.diff(np.concatenate([[0], seen]))
        oracle_clicks = np.mean([r["curves"]["oracle"]["expected_clicks"] for r in runs], axis=0)
        for name in runs[0]["policies"]:
            ndcg = np.mean([r["curves"][name]["ndcg10"] for r in runs], axis=0)
            clicks = np.mean([r["curves"][name]["expected_clicks"] for r in runs], axis=0)
            style = "--" if name in ("base", "oracle", "popularity") else "-"
            axes[0, column].plot(seen, moving_average(ndcg, window), style, label=name)
            axes[1, column].plot(seen, np.cumsum((oracle_clicks - clicks) * n), style, label=name)
        seeds = ", ".join(str(r["seed"]) for r in runs)
        label_axes(axes[0, column], "sessions seen", f"NDCG@10 (moving average of {window} batches)",
                   f"pbm / {parameter_set}: mean of seeds {seeds}")
        label_axes(axes[1, column], "sessions seen", "cumulative regret (expected clicks vs oracle)")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=9, frameon=False)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def run_quality(*, sessions: int, seeds, parameter_sets, retrain_every: int, quick: bool = False, log=print) -> dict:
    from rerank_lib.benchmarks import command_line, machine_info, peak_rss_mib, pin_threads

    machine = machine_info()  # before pinning, so it records the CPUs the process was given
    threads = pin_threads()
    log(f"bench quality: {threads}")
    start = time.perf_counter()
    runs = []
    for parameter_set in parameter_sets:
        for seed in seeds:
            run = run_one(parameter_set, seed, sessions, retrain_every=retrain_every)
            runs.append(run)
            p = run["policies"]
            best = max(LEARNERS, key=lambda name: p[name]["ndcg10"])
            log(f"  pbm/{parameter_set} seed {seed}: {sessions:,} sessions in {run['seconds']:.0f} s; NDCG@10 base "
                f"{p['base']['ndcg10']:.3f}, {best} {p[best]['ndcg10']:.3f}, vw {p['vw']['ndcg10']:.3f}, "
                f"lightgbm {p['lightgbm']['ndcg10']:.3f}, oracle {p['oracle']['ndcg10']:.3f}")
    return {
        "benchmark": "quality",
        "command": command_line(),
        "quick": bool(quick),
        "threads": threads,
        "machine": machine,
        "settings": {"sessions": sessions, "seeds": list(seeds), "click_model": DEFAULTS["click_model"],
                     "parameter_sets": list(parameter_sets), "serve_batch": DEFAULTS["serve_batch"],
                     "lightgbm_retrain_every": retrain_every, "learners": {
                         "models": list(LEARNERS), "loss": DEFAULTS["loss"], "optimizer": "adam",
                         "learning_rate": DEFAULTS["learning_rate"], "batch_size": DEFAULTS["batch_size"]},
                     "vw_explorers": list(DEFAULTS["vw_explorers"]), "vw_epsilon": DEFAULTS["vw_epsilon"],
                     "last_phase": f"last {100 // DEFAULTS['phases']}% of the sessions"},
        "seconds": round(time.perf_counter() - start, 1),
        "peak_rss_mib": round(peak_rss_mib(), 1),
        "runs": runs,
        "summary": summarize(runs),
    }


def run(args: argparse.Namespace) -> int:
    sessions = args.sessions or (DEFAULTS["quick_sessions"] if args.quick else DEFAULTS["sessions"])
    retrain_every = args.retrain_every or (DEFAULTS["quick_retrain_every"] if args.quick else DEFAULTS["retrain_every"])
    if sessions < DEFAULTS["phases"] * DEFAULTS["serve_batch"]:
        raise SystemExit(f"--sessions must be at least {DEFAULTS['phases'] * DEFAULTS['serve_batch']}, got {sessions}")
    if retrain_every < 1:
        raise SystemExit(f"--retrain-every must be >= 1, got {retrain_every}")
    from rerank_lib.benchmarks import write_json

    result = run_quality(sessions=sessions, seeds=args.seeds, parameter_sets=args.parameter_sets,
                         retrain_every=retrain_every, quick=args.quick)
    for parameter_set, policies in result["summary"].items():
        print(f"\npbm / {parameter_set}, mean of seeds {', '.join(map(str, args.seeds))}:")
        print(f"{'policy':>12} {'CTR':>7} {'clicks':>7} {'NDCG@10':>8} {'gap':>6} {'regret clicks':>14} {'s/1000':>7}")
        for name, f in policies.items():
            print(f"{name:>12} {f['ctr']:7.3f} {f['clicks_per_session']:7.3f} {f['ndcg10']:8.3f} {f['gap_closed']:6.0%} "
                  f"{f['regret_expected_clicks']:14,.0f} {f['seconds_per_1000']:7.2f}")
    path = write_json(args.json, result)
    print(f"\nbench quality: {result['seconds']:.0f} s, peak RSS {result['peak_rss_mib']:.0f} MiB; results: {path}")
    if args.plot is not None:
        print(f"learning curves: {plot_learning_curves(result, args.plot)}")
    return 0
