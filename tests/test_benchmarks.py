"""`python -m rerank_lib bench quality|speed --quick` and `bench report`: structure and sanity of what they write."""

import json
import math
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("vowpalwabbit", reason="the benchmarks need the bench extra (Vowpal Wabbit): pip install -e '.[bench]'")
pytest.importorskip("lightgbm", reason="the benchmarks need the bench extra (LightGBM): pip install -e '.[bench]'")

POLICIES = ("base", "popularity", "oracle", "linear", "mlp", "hybrid", "vw", "vw_epsilon", "lightgbm")
LEARNING = ("popularity", "linear", "mlp", "hybrid", "vw", "vw_epsilon", "lightgbm")


def bench(*args):
    return subprocess.run([sys.executable, "-m", "rerank_lib", "bench", *map(str, args)], capture_output=True, text=True)


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bench")
    for name in ("quality", "speed"):
        result = bench(name, "--quick", "--json", folder / f"{name}.json")
        assert result.returncode == 0, result.stderr[-3000:]
    return folder, json.loads((folder / "quality.json").read_text()), json.loads((folder / "speed.json").read_text())


def test_quality_json_structure_and_sanity(outputs):
    _, quality, _ = outputs
    assert quality["benchmark"] == "quality" and quality["quick"] is True
    assert "one core" in quality["threads"] and quality["machine"]["vowpalwabbit"] and quality["machine"]["lightgbm"]
    assert quality["peak_rss_mib"] > 0
    runs = quality["runs"]
    assert {(r["parameter_set"], r["seed"]) for r in runs} == {(p, s) for p in ("navigational", "informational") for s in (0, 1)}
    for run in runs:
        policies = run["policies"]
        assert list(policies) == list(POLICIES)
        for name, figures in policies.items():
            for key in ("ctr", "ctr_impression", "ndcg10", "ndcg10_last", "conversion"):
                assert 0 <= figures[key] <= 1, (name, key)
            assert figures["clicks_per_session"] >= 0 and figures["expected_clicks"] > 0
            assert math.isfinite(figures["gap_closed"]) and figures["seconds_per_1000"] >= 0
            # the oracle's order maximises both NDCG@10 and expected clicks in every session: regret >= 0
            assert figures["regret_ndcg10"] >= -1e-6 and figures["regret_expected_clicks"] >= -1e-6
            assert policies["oracle"]["ndcg10"] >= figures["ndcg10"]
            assert policies["oracle"]["expected_clicks"] >= figures["expected_clicks"] - 1e-9
        assert policies["base"]["ndcg10"] < policies["oracle"]["ndcg10"]
        assert policies["oracle"]["gap_closed"] == 1 and policies["base"]["gap_closed"] == 0
        assert all(policies[name]["seconds_per_1000"] > 0 for name in LEARNING)
        assert policies["lightgbm"]["trainings"] >= 1 and "--cb_explore_adf" in policies["vw"]["vw_args"]
        # every learner beats BM25 on NDCG@10 in the last quarter, even in this short run
        assert all(policies[name]["ndcg10_last"] > policies["base"]["ndcg10_last"] for name in ("linear", "mlp", "vw"))
        curves = run["curves"]
        assert len(curves["sessions_seen"]) == run["sessions"] // 100 and curves["sessions_seen"][-1] == run["sessions"]
        assert all(len(curves[name]["ndcg10"]) == len(curves["sessions_seen"]) for name in POLICIES)
    for parameter_set, summary in quality["summary"].items():
        group = [r for r in runs if r["parameter_set"] == parameter_set]
        assert summary["mlp"]["ndcg10"] == pytest.approx(np.mean([r["policies"]["mlp"]["ndcg10"] for r in group]))


def test_speed_json_structure_and_sanity(outputs):
    _, _, speed = outputs
    assert speed["benchmark"] == "speed" and set(speed) >= {"latency", "throughput", "simulator", "machine"}
    latency = speed["latency"]
    assert list(latency["paths"]) == ["100", "500", "1000"]
    for k, paths in latency["paths"].items():
        assert set(paths) >= {"serving", "tf_function", "keras_call", "keras_predict", "numpy_floor"}
        for name, timing in paths.items():
            assert 0 < timing["p50_ms"] <= timing["p99_ms"] and timing["calls"] >= 5, (k, name)
        agreement = latency["agreement"][k]
        assert agreement["orders_equal"], k  # every path returns the same order
        assert agreement["serving_max_abs_diff"] < 1e-4 and agreement["keras_max_abs_diff"] < 1e-4
        assert agreement["serving_hybrid_max_abs_diff"] < 1e-4
        assert latency["ratios"][k]["keras_predict_p50_over_serving_p50"] > 1
    throughput = speed["throughput"]["results"]
    for name in ("online_linear_batch32", "online_mlp_batch32", "online_hybrid_batch32", "online_mlp_batch1",
                 "vw_learn_parsed", "vw_learn_text"):
        assert throughput[name]["sessions_per_s"] > 0 and throughput[name]["candidates_per_s"] > 0
    assert throughput["online_mlp_batch32"]["updates"] > throughput["online_mlp_batch1"]["updates"] / 40
    simulator = speed["simulator"]["results"]
    assert {v["k"] for v in simulator.values()} == {50, 1000} and all(v["sessions_per_s"] > 0 for v in simulator.values())
    for section in ("latency", "throughput", "simulator"):
        assert speed[section]["peak_rss_mib"] > 0 and "one core" in speed[section]["threads"]


def test_report_writes_markdown_and_figures(outputs):
    folder, _, _ = outputs
    out, figures = folder / "BENCHMARKS.md", folder / "figures"
    result = bench("report", "--quality", folder / "quality.json", "--speed", folder / "speed.json", "--out", out,
                   "--figures", figures)
    assert result.returncode == 0, result.stderr[-3000:]
    text = out.read_text()
    assert "Do not edit by hand" in text and "## Goals" in text and "## Machine" in text
    for needle in ("pbm / navigational", "pbm / informational", "Keras `model.predict(x)`", "Vowpal Wabbit learn",
                   "sessions / s", "peak RSS", "quality_learning_curves.png", "latency.png", "bench quality --quick"):
        assert needle in text, needle
    assert text.count("| met |") + text.count("| **not met** |") == 7
    for name in ("quality_learning_curves.png", "latency.png"):
        assert (figures / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bench_command_line_errors(tmp_path):
    result = bench()
    assert result.returncode != 0 and "bench needs a subcommand" in result.stderr
    result = bench("quality", "--quick")
    assert result.returncode == 2 and "--json" in result.stderr
    result = bench("quality", "--json", tmp_path / "q.json", "--sessions", "10")
    assert result.returncode != 0 and "--sessions must be at least 400" in result.stderr
    result = bench("report", "--quality", tmp_path / "missing.json", "--speed", tmp_path / "missing.json")
    assert result.returncode != 0 and "does not exist" in result.stderr
