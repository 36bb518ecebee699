"""The one place that knows which TensorFlow stack is running.

Two stacks are supported (see README): the *reference* stack (TF 2.15.1,
Keras 2, tensorflow-addons 0.23.0) and the *current* stack (newest TF,
Keras 3, no tensorflow-addons). Library code is written on pieces that behave
identically on both (`tf.Variable`, `tf.GradientTape`, a Keras optimizer's
`apply_gradients`, `tf.Module` + `tf.function`, SavedModel); anything
version-specific lives here. tensorflow-addons is reached only through
`load_tensorflow_addons()`.
"""

from __future__ import annotations

import os
import warnings

# TensorFlow's C++ start-up lines (oneDNN notices, duplicate CUDA factory registrations
# on CPU-only machines) would otherwise land in every notebook's stderr; must be set
# before the import. rerank_lib/__init__.py sets the same default.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import tensorflow as tf  # noqa: E402

TF_VERSION: tuple[int, int] = tuple(int(part) for part in tf.__version__.split(".")[:2])


def keras_version() -> str:
    """Version string of the Keras that `tf.keras` resolves to.

    TF <= 2.15 bundles Keras 2 (package `keras` 2.x); TF >= 2.16 resolves `tf.keras` to Keras 3
    unless TF_USE_LEGACY_KERAS=1 points it at the `tf_keras` package (Keras 2).
    """
    from importlib import metadata

    legacy = os.environ.get("TF_USE_LEGACY_KERAS", "").lower() in ("1", "true", "yes")
    package = "tf_keras" if TF_VERSION >= (2, 16) and legacy else "keras"
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return str(getattr(tf.keras, "__version__", "unknown"))


KERAS_MAJOR: int = int(keras_version().split(".")[0])

_OPTIMIZERS = {
    "sgd": lambda lr: tf.keras.optimizers.SGD(learning_rate=lr),
    "adam": lambda lr: tf.keras.optimizers.Adam(learning_rate=lr),
    "adagrad": lambda lr: tf.keras.optimizers.Adagrad(learning_rate=lr),
}


def make_optimizer(name: str, learning_rate):
    """A Keras optimizer by name ('sgd', 'adam', 'adagrad') that works on raw tf.Variables in Keras 2 and 3.

    `learning_rate` may be a float or a Keras LearningRateSchedule.
    """
    key = str(name).lower()
    if key not in _OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {sorted(_OPTIMIZERS)}, got {name!r}")
    return _OPTIMIZERS[key](learning_rate)


def build_optimizer(optimizer, variables) -> None:
    """Create the optimizer's slot variables now (Keras 2.15 and 3 both have `build(var_list)`).

    Needed before `apply_gradients` runs inside a tf.function and before restoring a checkpoint
    into a fresh optimizer, so that slots exist to receive the saved values.
    """
    optimizer.build(list(variables))


def learning_rate_schedule(name: str, learning_rate: float, *, decay_steps: int = 1000, decay_rate: float = 0.5):
    """'constant' -> the float; 'inverse_time' -> eta / (1 + decay_rate * t / decay_steps);
    'exponential' -> eta * decay_rate ** (t / decay_steps); t counts optimizer steps."""
    schedules = tf.keras.optimizers.schedules
    if name == "constant":
        return float(learning_rate)
    if name == "inverse_time":
        return schedules.InverseTimeDecay(learning_rate, decay_steps, decay_rate)
    if name == "exponential":
        return schedules.ExponentialDecay(learning_rate, decay_steps, decay_rate)
    raise ValueError(f"schedule must be one of ['constant', 'exponential', 'inverse_time'], got {name!r}")


class AddonsUnavailable(ImportError):
    """tensorflow-addons cannot be used on this stack; the message says why and what to do."""


def addons_unavailable_reason() -> str | None:
    """Why tensorflow-addons cannot be used here, or None if it can."""
    if TF_VERSION >= (2, 16) or KERAS_MAJOR >= 3:
        return (
            f"tensorflow-addons is unavailable: its last release (0.23.0, end of life May 2024) "
            f"supports TensorFlow < 2.16 with Keras 2 only, and this is TensorFlow {tf.__version__} "
            f"with Keras {keras_version()}. Use the reference stack (make test / requirements/reference.txt) "
            f"for the notebooks' tensorflow-addons sections."
        )
    try:
        import importlib.util

        found = importlib.util.find_spec("tensorflow_addons") is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        return (
            "tensorflow-addons is not installed. On TensorFlow 2.15 install it with "
            "`pip install 'rerank-lab[addons]'` (tensorflow-addons==0.23.0)."
        )
    return None


def addons_available() -> bool:
    """True when tensorflow-addons can be imported on this stack."""
    return addons_unavailable_reason() is None


def load_tensorflow_addons():
    """Import and return `tensorflow_addons`, or raise AddonsUnavailable saying why.

    The only import of tensorflow-addons in the project.
    """
    reason = addons_unavailable_reason()
    if reason is not None:
        raise AddonsUnavailable(reason)
    with warnings.catch_warnings():
        # tfa warns at import that it is end of life; the reason above already says so.
        warnings.simplefilter("ignore")
        import tensorflow_addons as tfa
    return tfa
