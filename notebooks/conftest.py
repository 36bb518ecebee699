"""nbval settings for the notebooks.

- stderr is not compared: TensorFlow and libraries may log there differently per stack.
- a per-notebook wall-time table is printed at the end (a report, not a gate).
"""

from __future__ import annotations

import collections
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

try:
    from nbval.plugin import IPyNbCell
except ImportError:  # nbval missing: notebooks are not collected anyway
    IPyNbCell = None

if IPyNbCell is not None and not getattr(IPyNbCell, "_rerank_lab_patched", False):
    _compare_outputs = IPyNbCell.compare_outputs

    def _without_stderr(outputs):
        return [o for o in outputs if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]

    def compare_outputs(self, test, ref, skip_compare=None):
        return _compare_outputs(self, _without_stderr(test), _without_stderr(ref), skip_compare)

    IPyNbCell.compare_outputs = compare_outputs
    IPyNbCell._rerank_lab_patched = True

_seconds_per_notebook: dict[str, float] = collections.defaultdict(float)


def pytest_runtest_logreport(report):
    path = report.nodeid.split("::")[0]
    if path.endswith(".ipynb"):
        _seconds_per_notebook[path] += report.duration


def pytest_terminal_summary(terminalreporter):
    if not _seconds_per_notebook:
        return
    terminalreporter.section("notebook wall time (kernel start + all cells)")
    for path, seconds in sorted(_seconds_per_notebook.items()):
        terminalreporter.write_line(f"{seconds:7.1f} s  {path}")
