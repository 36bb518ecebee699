"""Problem sizes for notebooks: CI-sized by default, scaled up by an environment variable.

Every notebook's `parameters` cell writes its sizes as `scaled(n)`. On two CPU
cores the defaults finish in under a minute; on a GPU set, for example,
`RERANK_LAB_SCALE=20` before starting Jupyter to run 20x larger problems.
"""

from __future__ import annotations

import os

SCALE_ENV = "RERANK_LAB_SCALE"


def notebook_scale() -> float:
    """The factor from $RERANK_LAB_SCALE (default 1); must be a positive number."""
    raw = os.environ.get(SCALE_ENV, "1")
    try:
        scale = float(raw)
    except ValueError:
        raise ValueError(f"{SCALE_ENV} must be a positive number, got {raw!r}") from None
    if not scale > 0:
        raise ValueError(f"{SCALE_ENV} must be a positive number, got {raw!r}")
    return scale


def scaled(n: int, *, minimum: int = 1) -> int:
    """`n` times the notebook scale, rounded, at least `minimum`."""
    return max(minimum, int(round(n * notebook_scale())))
