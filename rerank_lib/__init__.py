"""rerank_lib: personalized re-ranking of e-commerce search results with online learning.

The library behind the rerank-lab notebooks. Modules are flat, one concept each, and
importable alone; the NumPy-only modules (the shop, click models, metrics, the math of
notebooks 01-02) do not import TensorFlow. See README.md ("Project layout") for the list.

    python -m rerank_lib demo         the main job (base BM25, online re-ranker, oracle)
    python -m rerank_lib bench-shop   simulator speed and memory
"""

import os

# Quiet TensorFlow's C++ start-up log (it is imported later by the modules that need it);
# a user's own setting wins.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from rerank_lib.seeding import as_generator, seed_everything  # noqa: E402

__version__ = "0.1.0"

__all__ = ["__version__", "as_generator", "seed_everything"]
