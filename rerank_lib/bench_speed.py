"""`python -m rerank_lib bench speed --json PATH [--quick]`: how fast this project re-ranks, learns and simulates.

Three sections, each in a fresh process (so each reports its own peak memory, and one cannot
warm or pollute another), all pinned to one core (`benchmarks.pin_threads`):

latency      score and sort K = 100, 500, 1,000 candidates of one request (one real shop session,
             encoded by FeatureEncoder) with the MLP ranker (12 -> 32 -> 16 -> 1), five ways:
                 serving       rerank_lib.serving.NumpyScorer.rank (this project's serving path:
                               input checks, NumPy forward pass of the exported weights, stable sort)
                 tf_function   OnlineLearner.rank (RankingInputs validated, converted to tensors, the
                               compiled tf.function, then sorted)
                 keras_call    model(x, training=False) of an equivalent Keras model with the same weights
                 keras_predict model.predict(x) of the same Keras model
                 numpy_floor   the bare forward pass and sort of the same weights, no checks (the floor)
             plus, for information, the serving path and tf.function of the hybrid ranker. Each path is
             warmed up, then timed call by call (perf_counter_ns) in interleaved rounds, so every
             path sees the same machine state; p50 and p99 per path and ratios from the same process.
throughput   online update throughput on one logged stream (the BM25 ranking shown in the shop,
             its clicks and purchases): OnlineLearner.learn (micro-batches of 32 sessions, and of 1)
             against Vowpal Wabbit --cb_explore_adf learning the same sessions (one CB example per
             session, the reduction of baselines.VowpalWabbitPolicy) in the same process. Inputs are
             built before the clock starts for both (RankingInputs; VW text lines parsed to examples).
simulator    simulated shop sessions per second (rerank_lib.shop_benchmark.sessions_per_second).

Memory: peak resident set size of each section's process (getrusage ru_maxrss), which includes
the Python interpreter and TensorFlow's runtime.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

DEFAULTS = dict(
    ks=(100, 500, 1000),
    calls={"serving": 3000, "numpy_floor": 3000, "tf_function": 1000, "keras_call": 500, "keras_predict": 150,
           "serving_hybrid": 2000, "tf_function_hybrid": 1000},
    quick_divisor=10,
    rounds=5,
    stream_sessions=5_000, quick_stream_sessions=500, warmup_sessions=300,
    simulator={50: 200_000, 1000: 20_000}, quick_simulator={50: 20_000, 1000: 2_000},
)
LATENCY_PATHS = ("serving", "tf_function", "keras_call", "keras_predict", "numpy_floor")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", type=Path, required=True, help="write the results here")
    parser.add_argument("--quick", action="store_true", help="10x fewer calls and sessions (under a minute)")
    parser.add_argument("--sections", nargs="+", default=["latency", "throughput", "simulator"],
                        choices=["latency", "throughput", "simulator"], help="default: all three")


# -- the Keras twin of the MLP ranker ---------------------------------------------------------------

def keras_model_like(ranker):
    """A Keras functional model with the same weights as an MLPRanker or LinearRanker: (batch, K, F) -> (batch, K, 1).

    Dense layers on the last axis, ReLU between them; built from tf.keras only, so it is the same
    model on Keras 2 and Keras 3.
    """
    from rerank_lib.serving import export_weights
    import tensorflow as tf

    weights = export_weights(ranker)
    if weights["kind"] == "linear":
        layers = [(weights["w"][:, None], np.reshape(weights["bias"], (1,)))]
    elif weights["kind"] == "mlp":
        layers = weights["layers"]
    else:
        raise TypeError(f"keras_model_like needs an MLPRanker or LinearRanker, got a {weights['kind']} ranker")
    inputs = tf.keras.Input(shape=(None, ranker.n_features), dtype="float32", name="dense")
    x, dense_layers = inputs, []
    for i, (w, _) in enumerate(layers):
        layer = tf.keras.layers.Dense(w.shape[1], activation="relu" if i < len(layers) - 1 else None, name=f"dense_{i}")
        x = layer(x)
        dense_layers.append(layer)
    model = tf.keras.Model(inputs, x, name=f"{weights['kind']}_twin")
    for layer, (w, b) in zip(dense_layers, layers):
        layer.set_weights([w, b])
    return model


# -- timing -----------------------------------------------------------------------------------------

def _percentiles(samples_ns) -> dict:
    ms = np.asarray(samples_ns, np.float64) / 1e6
    return {"p50_ms": float(np.percentile(ms, 50)), "p99_ms": float(np.percentile(ms, 99)), "mean_ms": float(ms.mean()),
            "calls": int(ms.size)}


def time_interleaved(paths: dict, calls: dict, rounds: int, warmup: int = 20) -> dict:
    """Warm every path up, then time each call, path after path, in `rounds` interleaved rounds."""
    for fn in paths.values():
        for _ in range(warmup):
            fn()
    samples = {name: [] for name in paths}
    clock = time.perf_counter_ns
    for _ in range(rounds):
        for name, fn in paths.items():
            for _ in range(max(1, calls[name] // rounds)):
                start = clock()
                fn()
                samples[name].append(clock() - start)
    return {name: _percentiles(values) for name, values in samples.items()}


def _section_header():
    from rerank_lib.benchmarks import pin_threads

    return pin_threads()


def measure_latency(quick: bool) -> dict:
    """The latency section (run in its own process)."""
    threads = _section_header()
    from rerank_lib.features import FeatureEncoder
    from rerank_lib.online import OnlineLearner, feedback_labels
    from rerank_lib.rankers import make_ranker
    from rerank_lib.serving import NumpyScorer, export_weights
    from rerank_lib.shop import Shop, bm25_ranker, make_shop

    divisor = DEFAULTS["quick_divisor"] if quick else 1
    calls = {name: max(DEFAULTS["rounds"], n // divisor) for name, n in DEFAULTS["calls"].items()}
    base = make_shop(seed=0)
    encoder = FeatureEncoder(base.catalog, n_shoppers=len(base.shoppers), n_queries=len(base.queries))
    learners = {kind: OnlineLearner(make_ranker(kind, encoder, seed=0), seed=0) for kind in ("mlp", "hybrid")}
    # a little online learning first, so the weights and the shoppers' histories are not the initial ones
    for batch, feedback in base.run(bm25_ranker, 500, batch_size=100):
        inputs = encoder.encode(batch)
        for learner in learners.values():
            learner.learn(inputs, feedback_labels(feedback))
        encoder.observe(batch, feedback)
    mlp, hybrid = learners["mlp"], learners["hybrid"]
    model = keras_model_like(mlp.ranker)
    scorer, hybrid_scorer = NumpyScorer.from_ranker(mlp.ranker), NumpyScorer.from_ranker(hybrid.ranker)
    layers = export_weights(mlp.ranker)["layers"]
    (w0, b0), (w1, b1), (w2, b2) = layers

    def floor(x):
        h = np.maximum(x @ w0 + b0, 0.0)
        h = np.maximum(h @ w1 + b1, 0.0)
        return np.argsort(-(h @ w2 + b2)[:, 0], kind="stable")

    results, agreement = {}, {}
    for k in DEFAULTS["ks"]:
        shop = Shop(base.catalog, base.shoppers, base.queries, search=base.search, k=k, seed=k)
        inputs = encoder.encode(shop.sample_sessions(1))
        dense = inputs.dense  # (1, K, F)
        paths = {
            "serving": lambda: scorer.rank(inputs),
            "tf_function": lambda: mlp.rank(inputs),
            "keras_call": lambda: np.argsort(-model(dense, training=False).numpy()[0, :, 0], kind="stable"),
            "keras_predict": lambda: np.argsort(-model.predict(dense, verbose=0)[0, :, 0], kind="stable"),
            "numpy_floor": lambda: floor(dense[0]),
            "serving_hybrid": lambda: hybrid_scorer.rank(inputs),
            "tf_function_hybrid": lambda: hybrid.rank(inputs),
        }
        tf_scores = mlp.score(inputs)[0]
        agreement[str(k)] = {
            "serving_max_abs_diff": float(np.abs(scorer.scores(inputs)[0] - tf_scores).max()),
            "keras_max_abs_diff": float(np.abs(model(dense, training=False).numpy()[0, :, 0] - tf_scores).max()),
            "serving_hybrid_max_abs_diff": float(np.abs(hybrid_scorer.scores(inputs)[0] - hybrid.score(inputs)[0]).max()),
            "orders_equal": bool(all(np.array_equal(np.ravel(paths[name]()), mlp.rank(inputs)[0]) for name in LATENCY_PATHS)),
        }
        results[str(k)] = time_interleaved(paths, calls, DEFAULTS["rounds"], warmup=3 if quick else 20)
    ratios = {}
    for k, paths in results.items():
        p99, p50 = {n: v["p99_ms"] for n, v in paths.items()}, {n: v["p50_ms"] for n, v in paths.items()}
        ratios[k] = {
            "serving_p99_over_floor_p99": p99["serving"] / p99["numpy_floor"],
            "serving_p50_over_floor_p50": p50["serving"] / p50["numpy_floor"],
            "keras_predict_p99_over_serving_p99": p99["keras_predict"] / p99["serving"],
            "keras_predict_p50_over_serving_p50": p50["keras_predict"] / p50["serving"],
            "keras_call_p50_over_serving_p50": p50["keras_call"] / p50["serving"],
            "tf_function_p50_over_serving_p50": p50["tf_function"] / p50["serving"],
        }
    return {"threads": threads, "model": "mlp 12 -> 32 -> 16 -> 1 (ReLU), float32", "calls": calls,
            "rounds": DEFAULTS["rounds"], "paths": results, "ratios": ratios, "agreement": agreement}


def measure_throughput(quick: bool) -> dict:
    """The update-throughput section (run in its own process)."""
    threads = _section_header()
    from rerank_lib.baselines import VowpalWabbitPolicy
    from rerank_lib.features import FeatureEncoder
    from rerank_lib.online import OnlineLearner, feedback_labels
    from rerank_lib.rankers import make_ranker
    from rerank_lib.shop import bm25_ranker, make_shop

    n_sessions = DEFAULTS["quick_stream_sessions"] if quick else DEFAULTS["stream_sessions"]
    warmup = DEFAULTS["warmup_sessions"]
    shop = make_shop(seed=0)
    encoder = FeatureEncoder(shop.catalog, n_shoppers=len(shop.shoppers), n_queries=len(shop.queries))
    stream = []  # (RankingInputs, labels) per batch of 100, shown in BM25 order
    for batch, feedback in shop.run(bm25_ranker, n_sessions + warmup, batch_size=100):
        stream.append((encoder.encode(batch), feedback_labels(feedback)))
        encoder.observe(batch, feedback)
    head, body = stream[: warmup // 100], stream[warmup // 100:]
    k = shop.k
    results = {}

    for kind, batch_size in (("linear", 32), ("mlp", 32), ("hybrid", 32), ("mlp", 1)):
        learner = OnlineLearner(make_ranker(kind, encoder, seed=0), batch_size=batch_size, seed=0)
        for inputs, labels in head:
            learner.learn(inputs, labels)
        start = time.perf_counter()
        for inputs, labels in body:
            learner.learn(inputs, labels)
        seconds = time.perf_counter() - start
        results[f"online_{kind}_batch{batch_size}"] = {
            "sessions_per_s": n_sessions / seconds, "candidates_per_s": n_sessions * k / seconds,
            "updates": int(learner.step.numpy()), "seconds": seconds}

    policy = VowpalWabbitPolicy(FeatureEncoder(shop.catalog, n_shoppers=len(shop.shoppers), n_queries=len(shop.queries)),
                                seed=0)
    workspace = policy.workspace

    def labelled_sessions(part):
        start = time.perf_counter()
        out = []
        for inputs, labels in part:
            for i in range(len(labels)):
                lines = policy.session_lines(inputs, i)
                lines[1] = f"0:{-float(labels[i, 0]):g}:1 {lines[1]}"  # rank 1 of the BM25 order, logged with p = 1
                out.append(lines)
        return out, time.perf_counter() - start

    warm, _ = labelled_sessions(head)
    for lines in warm:
        workspace.learn(lines)
    texts, format_seconds = labelled_sessions(body)
    start = time.perf_counter()
    for lines in texts:
        workspace.learn(lines)  # parse + learn, as VW's Python API is normally used
    text_seconds = time.perf_counter() - start
    learn_seconds = 0.0
    for first in range(0, len(texts), 100):  # parsed in chunks: a parsed VW example holds tens of KiB
        parsed = [workspace.parse(lines) for lines in texts[first:first + 100]]
        start = time.perf_counter()
        for examples in parsed:
            workspace.learn(examples)  # learning alone (examples parsed before the clock started)
        learn_seconds += time.perf_counter() - start
        for examples in parsed:
            workspace.finish_example(examples)
    results["vw_learn_parsed"] = {"sessions_per_s": n_sessions / learn_seconds, "candidates_per_s": n_sessions * k / learn_seconds,
                                  "seconds": learn_seconds}
    results["vw_learn_text"] = {"sessions_per_s": n_sessions / text_seconds, "candidates_per_s": n_sessions * k / text_seconds,
                                "seconds": text_seconds}
    results["vw_format_text"] = {"sessions_per_s": n_sessions / format_seconds, "seconds": format_seconds}
    best = max((name for name in results if name.startswith("online_") and name.endswith("batch32")),
               key=lambda name: results[name]["sessions_per_s"])
    return {"threads": threads, "sessions": n_sessions, "k": k, "warmup_sessions": warmup, "vw_args": policy.args,
            "results": results, "ratios": {
                "online_mlp_batch32_over_vw_parsed": results["online_mlp_batch32"]["sessions_per_s"] / results["vw_learn_parsed"]["sessions_per_s"],
                "online_hybrid_batch32_over_vw_parsed": results["online_hybrid_batch32"]["sessions_per_s"] / results["vw_learn_parsed"]["sessions_per_s"],
                "online_mlp_batch1_over_vw_parsed": results["online_mlp_batch1"]["sessions_per_s"] / results["vw_learn_parsed"]["sessions_per_s"],
                "best_online_batch32": best,
                "best_online_batch32_over_vw_parsed": results[best]["sessions_per_s"] / results["vw_learn_parsed"]["sessions_per_s"]}}


def measure_simulator(quick: bool) -> dict:
    """The simulator section (run in its own process): sessions/s via shop_benchmark."""
    from rerank_lib.shop_benchmark import pin_to_one_core, sessions_per_second
    from rerank_lib.click_models import CLICK_MODEL_NAMES
    from rerank_lib.shop import make_shop

    threads = "one core: " + ", ".join(pin_to_one_core())
    plan = DEFAULTS["quick_simulator"] if quick else DEFAULTS["simulator"]
    base = make_shop(seed=0)
    results = {}
    for k, n_sessions in plan.items():
        for name in CLICK_MODEL_NAMES:
            rate, cold = sessions_per_second(base, k, name, n_sessions, 1_000)
            results[f"k{k}_{name}"] = {"k": k, "click_model": name, "sessions": n_sessions, "sessions_per_s": rate,
                                       "cold_cache_seconds": cold}
    return {"threads": threads, "products": len(base.catalog), "shoppers": len(base.shoppers), "batch_size": 1_000,
            "results": results}


SECTIONS = {"latency": measure_latency, "throughput": measure_throughput, "simulator": measure_simulator}


def _section_in_process(name: str, quick: bool) -> dict:
    """Run one section; add its wall time and this process's peak RSS."""
    from rerank_lib.benchmarks import peak_rss_mib

    start = time.perf_counter()
    result = SECTIONS[name](quick)
    result["seconds"] = round(time.perf_counter() - start, 1)
    result["peak_rss_mib"] = round(peak_rss_mib(), 1)
    result["tensorflow_imported"] = "tensorflow" in sys.modules
    return result


def run_section(name: str, quick: bool) -> dict:
    """One section in a fresh (spawned) process."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(_section_in_process, name, quick).result()


def run(args: argparse.Namespace) -> int:
    from rerank_lib.benchmarks import command_line, machine_info, write_json

    start = time.perf_counter()
    sections = {}
    for name in args.sections:
        sections[name] = run_section(name, args.quick)
        print(f"bench speed: {name} in {sections[name]['seconds']:.0f} s, peak RSS {sections[name]['peak_rss_mib']:.0f} MiB")
    if "latency" in sections:
        for k, paths in sections["latency"]["paths"].items():
            print(f"  K={k:>5}: " + ", ".join(f"{name} p50 {v['p50_ms']:.3f} / p99 {v['p99_ms']:.3f} ms"
                                             for name, v in paths.items() if name in LATENCY_PATHS))
    if "throughput" in sections:
        print("  updates: " + ", ".join(f"{name} {v['sessions_per_s']:,.0f} sessions/s"
                                       for name, v in sections["throughput"]["results"].items()))
    if "simulator" in sections:
        print("  simulator: " + ", ".join(f"{name} {v['sessions_per_s']:,.0f}/s" for name, v in sections["simulator"]["results"].items()))
    result = {"benchmark": "speed", "command": command_line(), "quick": bool(args.quick), "machine": machine_info(),
              "seconds": round(time.perf_counter() - start, 1), **sections}
    path = write_json(args.json, result)
    print(f"bench speed: {result['seconds']:.0f} s; results: {path}")
    return 0
