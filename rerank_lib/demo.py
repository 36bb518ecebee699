"""The main job: base search, the online personalised re-ranker and the oracle, side by side in the shop.

    python -m rerank_lib demo [--sessions N] [--seed S] [--click-model pbm|cascade|dbn]
                              [--model hybrid|mlp|linear|article] [--json PATH] [--plot PATH]

Every session is shown three ways (BM25 order, the online re-ranker's order, the oracle's
order) and each policy gets its own clicks. The online re-ranker scores each session before
learning from it (progressive validation). Prints CTR, NDCG@10 and conversion per phase,
writes the learning curve as a PNG and, with --json, the last phase's figures as JSON.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

DEFAULTS = dict(sessions=10_000, seed=0, click_model="pbm", parameter_set="navigational", model="hybrid",
                loss="listnet", learning_rate=0.01, batch_size=32, serve_batch=100, phases=4)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sessions", type=int, default=DEFAULTS["sessions"], help="sessions to simulate (default %(default)s)")
    parser.add_argument("--seed", type=int, default=DEFAULTS["seed"], help="seed for the shop and the model")
    parser.add_argument("--click-model", default=DEFAULTS["click_model"], choices=["pbm", "cascade", "dbn"])
    parser.add_argument("--parameter-set", default=DEFAULTS["parameter_set"],
                        choices=["perfect", "navigational", "informational", "almost_random"])
    parser.add_argument("--model", default=DEFAULTS["model"], choices=["hybrid", "mlp", "linear", "article"])
    parser.add_argument("--loss", default=DEFAULTS["loss"], choices=["listnet", "lambdarank", "ranknet", "bpr", "sigmoid", "mse"])
    parser.add_argument("--learning-rate", type=float, default=DEFAULTS["learning_rate"])
    parser.add_argument("--batch-size", type=int, default=DEFAULTS["batch_size"], help="sessions per update (N)")
    parser.add_argument("--phases", type=int, default=DEFAULTS["phases"], help="rows of the summary table")
    parser.add_argument("--json", type=Path, default=None, help="write the figures as JSON here")
    parser.add_argument("--plot", type=Path, default=Path("demo_learning_curve.png"), help="learning-curve PNG (default %(default)s)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run_demo(*, sessions: int = DEFAULTS["sessions"], seed: int = DEFAULTS["seed"], click_model: str = DEFAULTS["click_model"],
             parameter_set: str = DEFAULTS["parameter_set"], model: str = DEFAULTS["model"], loss: str = DEFAULTS["loss"],
             learning_rate: float = DEFAULTS["learning_rate"], batch_size: int = DEFAULTS["batch_size"],
             phases: int = DEFAULTS["phases"], progress: bool = False) -> dict:
    """Run the three policies on the same sessions; return history, phase table and the figures.

    The returned dict also holds the `shop` (which can serve further sessions) and the `policies`
    by name ("base", "online", "oracle"; the online one keeps its trained learner and encoder),
    so a notebook can look inside one session after the run.
    """
    from rerank_lib import seed_everything
    from rerank_lib.features import FeatureEncoder
    from rerank_lib.online import GapClosed, LearningPolicy, OnlineLearner, StaticPolicy, run_progressive, summarize_phases
    from rerank_lib.rankers import make_ranker
    from rerank_lib.shop import bm25_ranker, make_shop, oracle_ranker

    seed_everything(seed)
    shop = make_shop(click_model=click_model, parameter_set=parameter_set, seed=seed)
    encoder = FeatureEncoder(shop.catalog, n_shoppers=len(shop.shoppers), n_queries=len(shop.queries))
    learner = OnlineLearner(make_ranker(model, encoder, seed=seed), loss=loss, learning_rate=learning_rate,
                            batch_size=batch_size, seed=seed)
    policies = [StaticPolicy(bm25_ranker, "base"), LearningPolicy(encoder, learner, "online"), StaticPolicy(oracle_ranker, "oracle")]
    start = time.perf_counter()
    history = run_progressive(shop, policies, sessions, batch_size=DEFAULTS["serve_batch"], progress=progress)
    seconds = time.perf_counter() - start
    table = summarize_phases(history, phases)
    last = table.loc[phases]
    figures = {name: {metric: round(float(last.loc[name, metric]), 4) for metric in ("ctr", "ndcg10", "conversion", "revenue")}
               for name in ("base", "online", "oracle")}
    gap = GapClosed(figures["base"]["ndcg10"], figures["online"]["ndcg10"], figures["oracle"]["ndcg10"])
    result = {
        **figures,
        "sessions": int(sessions),
        "phase": f"last {100 // phases}% of sessions",
        "ndcg10_gap_closed": round(gap.share, 4),
        "settings": {"seed": seed, "click_model": click_model, "parameter_set": parameter_set, "model": model, "loss": loss,
                     "learning_rate": learning_rate, "batch_size": batch_size},
        "seconds": round(seconds, 2),
    }
    return {"history": history, "table": table, "result": result, "shop": shop,
            "policies": {policy.name: policy for policy in policies}}


def plot_learning_curve(history, path: Path, *, window: int = 10) -> Path:
    """NDCG@10 per policy against sessions seen (moving average over `window` batches)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from rerank_lib.plotting import new_axes, moving_average

    fig, ax = new_axes("sessions seen", f"NDCG@10 (moving average of {window} batches)", "Online re-ranking in the simulated shop")
    for name, part in history.groupby("policy", sort=False):
        ax.plot(part["sessions_seen"], moving_average(part["ndcg10"].to_numpy(), window), label=name)
    ax.legend()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return path


def format_table(table) -> str:
    wide = table[["ctr", "ndcg10", "conversion"]].unstack("policy")
    wide = wide.reindex(columns=["base", "online", "oracle"], level="policy")
    wide.columns = [f"{metric} {policy}" for metric, policy in wide.columns]
    return wide.round(3).to_string()


def run(args: argparse.Namespace) -> int:
    for name in ("sessions", "batch_size", "phases"):
        if getattr(args, name) < 1:
            raise SystemExit(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    if args.sessions < args.phases * DEFAULTS["serve_batch"]:
        raise SystemExit(f"--sessions must be at least {args.phases * DEFAULTS['serve_batch']} for {args.phases} phases")
    out = run_demo(sessions=args.sessions, seed=args.seed, click_model=args.click_model, parameter_set=args.parameter_set,
                   model=args.model, loss=args.loss, learning_rate=args.learning_rate, batch_size=args.batch_size,
                   phases=args.phases, progress=not args.no_progress)
    result = out["result"]
    print(f"\n{args.sessions:,} sessions, click model {args.click_model} ({args.parameter_set}), model {args.model}, "
          f"seed {args.seed}: mean per phase ({args.phases} phases of equal length)\n")
    print(format_table(out["table"]))
    print(f"\nlast phase: online NDCG@10 {result['online']['ndcg10']:.3f} vs base {result['base']['ndcg10']:.3f} "
          f"and oracle {result['oracle']['ndcg10']:.3f}: {100 * result['ndcg10_gap_closed']:.0f}% of the gap closed")
    plot = plot_learning_curve(out["history"], args.plot)
    print(f"learning curve: {plot}")
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")
        print(f"figures: {args.json}")
    return 0
