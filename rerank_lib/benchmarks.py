"""`python -m rerank_lib bench {quality,speed,report}`: the benchmarks against the field's anchors.

    bench quality --json PATH [--quick]   base BM25, popularity, the oracle, this project's online
                                          learners, Vowpal Wabbit and LightGBM LambdaMART on the same
                                          simulated sessions (rerank_lib.bench_quality)
    bench speed --json PATH [--quick]     re-rank latency per serving path, online update throughput
                                          against Vowpal Wabbit, simulator sessions/s, peak memory
                                          (rerank_lib.bench_speed)
    bench report --quality J --speed J    BENCHMARKS.md and its figures from the two JSON files
                                          (rerank_lib.bench_report; `make bench` runs all three)

This module is the dispatcher plus what the three share: pinning to one core, the machine's
description and JSON output. Vowpal Wabbit and LightGBM come from the `bench` extra
(`pip install -e '.[bench]'`).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import resource
import sys
from pathlib import Path

SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "quality": ("rerank_lib.bench_quality", "progressive CTR, NDCG@10, gap closed, regret and time of every policy"),
    "speed": ("rerank_lib.bench_speed", "re-rank latency per path, update throughput vs Vowpal Wabbit, simulator, memory"),
    "report": ("rerank_lib.bench_report", "write BENCHMARKS.md and its figures from the quality and speed JSON"),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="bench_command", metavar="SUBCOMMAND")
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        module = importlib.import_module(module_name)
        module.add_arguments(sub.add_parser(name, help=help_text, description=help_text))


def run(args: argparse.Namespace) -> int:
    if getattr(args, "bench_command", None) is None:
        raise SystemExit("bench needs a subcommand: " + ", ".join(SUBCOMMANDS) + " (python -m rerank_lib bench --help)")
    return int(importlib.import_module(SUBCOMMANDS[args.bench_command][0]).run(args) or 0)


# -- shared helpers ------------------------------------------------------------------------------

def pin_threads() -> str:
    """One core for everything: the process pinned to one CPU, BLAS pools and TensorFlow limited to one thread.

    Call before TensorFlow runs anything (its thread pools are fixed at the first op).
    Returns a sentence saying what was applied.
    """
    from rerank_lib.shop_benchmark import pin_to_one_core

    applied = pin_to_one_core()
    from rerank_lib import compat  # noqa: F401  (quiets TensorFlow's log before the import)
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
        applied.append("TensorFlow intra/inter-op threads 1")
    except RuntimeError:  # TensorFlow already ran something in this process
        applied.append("TensorFlow threads NOT set (already initialised)")
    applied.append("LightGBM n_jobs=1, Vowpal Wabbit single-threaded")
    return "one core: " + ", ".join(applied)


def _version(module: str) -> str | None:
    from importlib import metadata

    names = {"tensorflow": "tensorflow", "numpy": "numpy", "vowpalwabbit": "vowpalwabbit", "lightgbm": "lightgbm"}
    try:
        return metadata.version(names.get(module, module))
    except metadata.PackageNotFoundError:
        return None


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (Linux), else platform.processor()."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info() -> dict:
    """What the numbers were measured on: CPU, cores, OS, Python and library versions."""
    from rerank_lib import compat

    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {
        "cpu": cpu_model(),
        "logical_cpus": os.cpu_count(),
        "cpus_available_to_process": affinity,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "tensorflow": _version("tensorflow"),
        "keras": compat.keras_version(),
        "numpy": _version("numpy"),
        "vowpalwabbit": _version("vowpalwabbit"),
        "lightgbm": _version("lightgbm"),
    }


def peak_rss_mib() -> float:
    """This process's peak resident set size so far (getrusage ru_maxrss, KiB on Linux), in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def command_line() -> str:
    """The command as typed, for the record (python -m rerank_lib ...)."""
    return "python -m rerank_lib " + " ".join(sys.argv[1:])


def today() -> str:
    """The UTC date, for the record."""
    import datetime

    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")


def write_json(path: Path, payload: dict) -> Path:
    """Write `payload` (plus the date and its own path, for the report) as indented JSON."""
    path = Path(path)
    payload = {"date": today(), "json": str(path), **payload}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=1) + "\n")
    return path
