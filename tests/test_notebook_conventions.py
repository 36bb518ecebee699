"""Every notebook follows the template (see README, 'Writing a notebook')."""

import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))
NUMBERED = [path for path in NOTEBOOKS if re.match(r"\d\d_", path.name)]


def load(path):
    return json.loads(path.read_text())


def source(cell):
    return "".join(cell["source"])


def test_notebooks_exist():
    assert len(NUMBERED) >= 2


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_skeleton(path):
    cells = load(path)["cells"]
    first = source(cells[0])
    assert cells[0]["cell_type"] == "markdown" and first.startswith("# "), "starts with a title"
    assert "**Aim.**" in first
    assert f"colab.research.google.com/github/rerank-lab/rerank-lab/blob/main/notebooks/{path.name}" in first
    code = [source(c) for c in cells if c["cell_type"] == "code"]
    assert "google.colab" in code[0], "the first code cell is the Colab-only install cell"
    parameters = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(parameters) == 1 and parameters[0]["cell_type"] == "code"
    assert "SEED" in source(parameters[0])
    assert any("seed_everything(SEED)" in s for s in code)
    markdown = "\n".join(source(c) for c in cells if c["cell_type"] == "markdown")
    for heading in ("## Summary", "## Exercises"):
        assert heading in markdown


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_with_clean_outputs(path):
    notebook = load(path)
    code = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    assert all(c["execution_count"] is not None for c in code), "executed top to bottom (make notebooks)"
    assert [c["execution_count"] for c in code] == list(range(1, len(code) + 1)), "executed in order, once"
    assert not any(o["output_type"] == "error" for c in code for o in c["outputs"])
    assert all(set(c["metadata"]) <= {"tags", "id"} for c in notebook["cells"]), "volatile metadata stripped"


@pytest.mark.parametrize("path", NUMBERED, ids=lambda p: p.name)
def test_numbered_notebooks_check_outputs_and_show_figures(path):
    code = [c for c in load(path)["cells"] if c["cell_type"] == "code"]
    checked = [c for c in code if source(c).lstrip().startswith("# NBVAL_CHECK_OUTPUT")]
    assert checked and all(c["outputs"] for c in checked), "at least one checked cell, with its output committed"
    assert any("assert " in source(c) for c in code)
    figures = [o for c in code for o in c["outputs"] if "image/png" in o.get("data", {})]
    assert figures, "figures are committed so they render on GitHub"
    for cell in code:
        if "plt.show()" in source(cell):
            assert "unlabelled_axes(fig)" in source(cell), "every figure asserts labelled axes"
