"""Tests of the small foundation modules: checks, seeding, scaling, compat, plotting, synthetic."""

import subprocess
import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

from rerank_lib import as_generator, compat, seed_everything  # noqa: E402
from rerank_lib.checks import (  # noqa: E402
    as_float_array,
    check_choice,
    check_positive,
    check_positive_int,
    check_probability,
)
from rerank_lib.plotting import moving_average, new_axes, plot_curves, unlabelled_axes  # noqa: E402
from rerank_lib.scaling import SCALE_ENV, notebook_scale, scaled  # noqa: E402
from rerank_lib.synthetic import linear_preference_stream, nonlinear_preference_stream  # noqa: E402


class TestChecks:
    def test_shape_rank_and_finiteness(self):
        assert as_float_array([[1, 2]], "x", shape=(None, 2)).dtype == np.float64
        with pytest.raises(ValueError, match=r"x must have rank 2"):
            as_float_array([1.0, 2.0], "x", ndim=2)
        with pytest.raises(ValueError, match=r"x must have shape \*, 3.*axis 1 is 2, expected 3"):
            as_float_array([[1.0, 2.0]], "x", shape=(None, 3))
        with pytest.raises(ValueError, match="x must be finite, got 1 NaN/inf"):
            as_float_array([1.0, np.nan], "x")
        with pytest.raises(ValueError, match="x must not be empty"):
            as_float_array([], "x")
        with pytest.raises(TypeError, match="x must be a numeric array"):
            as_float_array([object()], "x")

    def test_scalars(self):
        assert check_positive("eta", 0.5) == 0.5
        assert check_positive("eta", 0, allow_zero=True) == 0.0
        for bad in (0, -1.0, float("inf"), float("nan")):
            with pytest.raises(ValueError, match="eta must be a finite number"):
                check_positive("eta", bad)
        with pytest.raises(TypeError, match="eta must be a number"):
            check_positive("eta", "0.1")
        assert check_positive_int("k", 3) == 3
        with pytest.raises(TypeError, match="k must be an int"):
            check_positive_int("k", 2.0)
        with pytest.raises(ValueError, match="k must be an int > 0"):
            check_positive_int("k", 0)
        assert check_probability("p", 0.3) == 0.3
        with pytest.raises(ValueError, match=r"p must be probabilities in \[0, 1\]"):
            check_probability("p", [0.2, 1.2])
        with pytest.raises(ValueError, match="model must be one of"):
            check_choice("model", "dnn", ["pbm", "dbn"])


class TestSeeding:
    def test_same_seed_same_numbers_everywhere(self):
        first = seed_everything(7)
        a = (first.normal(size=3), np.random.rand(2), tf.random.uniform([2]).numpy())
        second = seed_everything(7)
        b = (second.normal(size=3), np.random.rand(2), tf.random.uniform([2]).numpy())
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y)
        assert not np.array_equal(seed_everything(8).normal(size=3), a[0])

    def test_bad_seeds(self):
        with pytest.raises(TypeError, match="seed must be an int"):
            seed_everything(1.5)
        with pytest.raises(ValueError, match="seed must be >= 0"):
            as_generator(-1)
        rng = np.random.default_rng(0)
        assert as_generator(rng) is rng


class TestScaling:
    def test_default_and_env(self, monkeypatch):
        monkeypatch.delenv(SCALE_ENV, raising=False)
        assert notebook_scale() == 1.0 and scaled(1000) == 1000
        monkeypatch.setenv(SCALE_ENV, "2.5")
        assert scaled(1000) == 2500 and scaled(0, minimum=5) == 5
        for bad in ("zero", "0", "-2"):
            monkeypatch.setenv(SCALE_ENV, bad)
            with pytest.raises(ValueError, match=SCALE_ENV):
                notebook_scale()


class TestCompat:
    def test_stack_is_reported_consistently(self):
        assert compat.KERAS_MAJOR in (2, 3)
        if compat.TF_VERSION >= (2, 16):
            assert compat.KERAS_MAJOR == 3
            assert not compat.addons_available()
            assert "supports TensorFlow < 2.16" in compat.addons_unavailable_reason()
            with pytest.raises(compat.AddonsUnavailable, match="tensorflow-addons is unavailable"):
                compat.load_tensorflow_addons()
        else:
            assert compat.KERAS_MAJOR == 2

    @pytest.mark.skipif(not compat.addons_available(), reason="tensorflow-addons runs on the reference stack only")
    def test_addons_load_on_the_reference_stack(self):
        tfa = compat.load_tensorflow_addons()
        assert hasattr(tfa.optimizers, "COCOB")

    @pytest.mark.parametrize("name", ["sgd", "adam", "adagrad", "SGD"])
    def test_optimizers_update_raw_variables(self, name):
        variable = tf.Variable([1.0, -1.0])
        optimizer = compat.make_optimizer(name, 0.1)
        optimizer.apply_gradients([(tf.constant([1.0, -1.0]), variable)])
        assert np.all(np.abs(variable.numpy()) < 1.0)

    def test_unknown_optimizer(self):
        with pytest.raises(ValueError, match="optimizer must be one of"):
            compat.make_optimizer("rmsprop2", 0.1)

    def test_only_compat_imports_tensorflow_addons(self):
        from pathlib import Path

        package = Path(compat.__file__).parent
        offenders = [
            path.name
            for path in package.glob("*.py")
            if path.name != "compat.py" and "import tensorflow_addons" in path.read_text()
        ]
        assert offenders == []


def test_numpy_modules_do_not_import_tensorflow():
    code = (
        "import sys, rerank_lib, rerank_lib.checks, rerank_lib.losses, rerank_lib.linear, "
        "rerank_lib.synthetic, rerank_lib.scaling, rerank_lib.plotting; "
        "print('tensorflow' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "False"


class TestPlotting:
    def test_moving_average(self):
        np.testing.assert_allclose(moving_average([1, 2, 3, 4], 2), [1.0, 1.5, 2.5, 3.5])
        with pytest.raises(ValueError, match="window"):
            moving_average([1.0], 0)

    def test_labelled_axes(self):
        fig, ax = new_axes("x", "y", "t")
        plot_curves({"a": [1, 2], "b": [2, 1]}, "step", "loss", ax=ax)
        assert unlabelled_axes(fig) == []
        fig2, (left, right) = plt.subplots(1, 2)
        left.set(xlabel="x", ylabel="y")
        assert unlabelled_axes(fig2) == [1]
        with pytest.raises(ValueError, match="xlabel and ylabel"):
            new_axes("", "y")
        plt.close("all")


class TestSynthetic:
    def test_streams_are_seeded_and_shaped(self):
        a, true_map = linear_preference_stream(50, 4, 3, seed=1)
        b, _ = linear_preference_stream(50, 4, 3, seed=1)
        c, _ = linear_preference_stream(50, 4, 3, seed=2)
        assert a.queries.shape == (50, 4) and a.preferences.shape == (50, 3) and true_map.shape == (3, 4)
        np.testing.assert_array_equal(a.preferences, b.preferences)
        assert not np.array_equal(a.preferences, c.preferences)
        assert a.noise_floor == pytest.approx(3 * 0.1**2)
        # the residual u - A q has the stated noise level
        residual = a.preferences - a.queries @ true_map.T
        assert 0.05 < residual.std() < 0.2
        d = nonlinear_preference_stream(20, 5, 2, seed=0)
        assert len(d) == 20 and d.preferences.shape == (20, 2)
        with pytest.raises(ValueError, match="n must be an int > 0"):
            linear_preference_stream(0, 4, 3)


def test_as_int_array():
    from rerank_lib.checks import as_int_array

    assert as_int_array([[1, 2]], "ids", shape=(None, 2)).shape == (1, 2)
    for bad, error, message in [
        ([[1.0]], TypeError, "ids must be integers"),
        ([[True]], TypeError, "ids must be integers"),
        ("12", TypeError, "ids must be an integer array"),
        ([1, 2], ValueError, "ids must have rank 2"),
        ([[1, 2]], ValueError, r"ids must have shape \(None, 3\)"),
        (np.zeros((0, 3), int), ValueError, "ids must not be empty"),
    ]:
        with pytest.raises(error, match=message):
            as_int_array(bad, "ids", shape=(None, 3) if "shape" in message else None, ndim=None if "shape" in message else 2)
