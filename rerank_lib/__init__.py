"""rerank_lib: personalized re-ranking of e-commerce search results with online learning.

The library behind the rerank-lab notebooks. Modules are flat, one concept each,
and importable alone; the NumPy-only modules do not import TensorFlow.

    seeding   seed_everything, as_generator
    checks    argument validation with errors that name the argument
    compat    the one place that knows about Keras 2 vs 3 and tensorflow-addons
    scaling   notebook problem sizes, scaled up by an environment variable
    losses    the article's objective L(v, u) = ||v - u||^2 and its gradient
    linear    the linear preference model v = W q + b, trained online (notebook 01)
    nn        a hand-written NumPy MLP: forward, backward, SGD (notebook 02)
    models    the TensorFlow models later notebooks use (portable across Keras 2/3)
    synthetic synthetic (query, preference) streams for the math notebooks
    plotting  matplotlib helpers with labelled axes
"""

import os

# Quiet TensorFlow's C++ start-up log (it is imported later by the modules that need it);
# a user's own setting wins.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from rerank_lib.seeding import as_generator, seed_everything  # noqa: E402

__version__ = "0.1.0"

__all__ = ["__version__", "as_generator", "seed_everything"]
