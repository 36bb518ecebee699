import json
import subprocess
import sys

import pytest


def test_demo_command_writes_table_png_and_json(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "rerank_lib", "demo", "--sessions", "2000", "--seed", "1", "--no-progress",
         "--json", str(tmp_path / "demo.json"), "--plot", str(tmp_path / "curve.png")],
        capture_output=True, text=True, check=True,
    ).stdout
    assert "ndcg10 online" in out and "of the gap closed" in out
    figures = json.loads((tmp_path / "demo.json").read_text())
    assert figures["sessions"] == 2000
    for policy in ("base", "online", "oracle"):
        assert set(figures[policy]) >= {"ctr", "ndcg10", "conversion"}
        assert 0 <= figures[policy]["ctr"] <= 1 and 0 <= figures[policy]["ndcg10"] <= 1
    assert figures["base"]["ndcg10"] < figures["online"]["ndcg10"] < figures["oracle"]["ndcg10"]
    assert (tmp_path / "curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_demo_rejects_bad_options(tmp_path):
    result = subprocess.run([sys.executable, "-m", "rerank_lib", "demo", "--sessions", "0", "--plot", str(tmp_path / "c.png")],
                            capture_output=True, text=True)
    assert result.returncode != 0 and "--sessions must be >= 1" in result.stderr
    result = subprocess.run([sys.executable, "-m", "rerank_lib", "demo", "--click-model", "ubm"], capture_output=True, text=True)
    assert result.returncode == 2 and "invalid choice: 'ubm'" in result.stderr


@pytest.mark.parametrize("argv", [[], ["--help"]])
def test_cli_help(argv):
    result = subprocess.run([sys.executable, "-m", "rerank_lib", *argv], capture_output=True, text=True)
    assert "demo" in result.stdout


def test_run_demo_returns_the_shop_and_the_trained_policies():
    import numpy as np

    from rerank_lib.demo import run_demo
    from rerank_lib.shop import bm25_ranker

    out = run_demo(sessions=400, seed=1, phases=2)
    shop, policies = out["shop"], out["policies"]
    assert list(policies) == ["base", "online", "oracle"]
    assert shop.time == 400  # the shop served the run's sessions and can serve more
    assert int(policies["online"].learner.step.numpy()) == 400 // 32  # the learner kept its training
    batch = shop.sample_sessions(5)
    np.testing.assert_array_equal(policies["base"].rank(batch), bm25_ranker(batch))
    order = policies["online"].rank(batch)
    assert order.shape == (5, shop.k) and (np.sort(order, axis=1) == np.arange(shop.k)).all()
