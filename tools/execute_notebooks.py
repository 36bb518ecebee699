"""Re-execute notebooks in place so committed outputs and figures are fresh.

    python tools/execute_notebooks.py notebooks/*.ipynb

Runs each notebook top to bottom in its own folder with the current Python,
fails on the first error, strips volatile metadata (timings, kernel versions)
so that re-running an unchanged notebook gives a small diff, and prints the
wall time of each notebook.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

KEEP_NOTEBOOK_METADATA = {"kernelspec", "language_info", "colab", "accelerator"}
KEEP_CELL_METADATA = {"tags", "id"}


def strip_volatile_metadata(notebook: nbformat.NotebookNode) -> None:
    """Drop metadata that changes on every run (execution timestamps, versions)."""
    notebook.metadata = {k: v for k, v in notebook.metadata.items() if k in KEEP_NOTEBOOK_METADATA}
    notebook.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    notebook.metadata["language_info"] = {"name": "python"}
    for cell in notebook.cells:
        cell.metadata = {k: v for k, v in cell.metadata.items() if k in KEEP_CELL_METADATA}


def has_error_output(notebook: nbformat.NotebookNode) -> bool:
    return any(
        output.get("output_type") == "error"
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
    )


def execute(path: Path, timeout: int) -> float:
    notebook = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        record_timing=False,
    )
    client.execute()
    seconds = time.perf_counter() - start
    if has_error_output(notebook):
        raise RuntimeError(f"{path} produced an error output")
    strip_volatile_metadata(notebook)
    nbformat.validate(notebook)
    nbformat.write(notebook, path)
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    for path in args.notebooks:
        seconds = execute(path, args.timeout)
        print(f"{seconds:7.1f} s  {path}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
