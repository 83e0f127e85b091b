"""Chapter 07's figures (convbook/figures_bias_initializers.py): drawn from Keras alone, with
yours agreeing, and with yours disagreeing (a banner that says so)."""
import matplotlib

matplotlib.use("Agg")

import math  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from convbook import figures_bias_initializers as figures_init  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def keras_biases():
    return figures_init.keras_starting_biases(filters=64)


def _texts(fig):
    return " ".join([t.get_text() for t in fig.texts]
                    + [ax.get_title() for ax in fig.axes]
                    + ([fig._suptitle.get_text()] if fig._suptitle else []))


def test_keras_starting_biases_follow_keras_rules(keras_biases):
    assert np.all(keras_biases["zeros"] == 0)
    np.testing.assert_allclose(keras_biases["constant"], figures_init.CONSTANT)
    limit = figures_init.glorot_limit(64)
    assert math.isclose(limit, math.sqrt(3 / 64))
    none = keras_biases["none"]
    assert none.shape == (64,) and np.all(np.abs(none) <= limit) and none.std() > 0.05
    assert 0.02 < keras_biases["random_normal"].std() < 0.08


def test_starting_bias_figure_from_keras_alone(keras_biases, capsys):
    fig = figures_init.starting_bias_figure(keras_biases, missing="Drawn from Keras's answer")
    assert len(fig.axes) == 4 and "Drawn from Keras's answer" in _texts(fig)
    assert all(ax.get_title().startswith("Keras: ") for ax in fig.axes)
    assert capsys.readouterr().out == ""          # no alarm printed for a Keras-only figure


def test_starting_bias_figure_with_yours_agreeing(keras_biases, capsys):
    rng = np.random.default_rng(0)
    limit = figures_init.glorot_limit(64)
    yours = {"zeros": np.zeros(64, np.float32),
             "constant": np.full(64, 0.1, np.float32),
             "random_normal": rng.normal(0, 0.05, 64).astype(np.float32),
             "none": rng.uniform(-limit, limit, 64).astype(np.float32)}
    fig = figures_init.starting_bias_figure(keras_biases, yours)
    assert "≠" not in _texts(fig) and capsys.readouterr().out == ""
    assert all(ax.get_xlabel().startswith("filter f") for ax in fig.axes)


def test_starting_bias_figure_says_when_yours_differ(keras_biases, capsys):
    rng = np.random.default_rng(0)
    yours = {"zeros": np.zeros(64, np.float32),
             "constant": np.full(64, 0.2, np.float32),                       # wrong value
             "random_normal": rng.normal(0, math.sqrt(0.05), 64).astype(np.float32),
             "none": np.zeros(64, np.float32)}                               # None as zeros
    fig = figures_init.starting_bias_figure(keras_biases, yours)
    printed = capsys.readouterr().out
    assert "Constant" in printed or "constant" in printed
    assert "random_normal" in printed and "none" in printed, printed
    titles = [ax.get_title() for ax in fig.axes]
    assert sum("yours ≠ Keras" in t for t in titles) == 3, titles


def test_dead_units_from_keras_and_yours(capsys):
    values = np.linspace(-3, 1, 9)
    images, kernel = figures_init.relu_layer_inputs()
    vectors = figures_init.keras_constant_biases(values)
    zero, dead = figures_init.keras_relu_layer_stats(images, kernel, vectors)
    # more negative bias: more zeros and more dead filters; zeros: about half, none dead
    assert np.all(np.diff(zero) <= 0) and np.all(np.diff(dead) <= 0)
    middle = int(np.argmin(np.abs(values)))
    assert 0.35 < zero[middle] < 0.65 and dead[middle] == 0 and dead[0] > 0.9
    fig = figures_init.dead_units_figure(values, (zero, dead), (zero, dead), vectors, vectors)
    assert "≠" not in _texts(fig) and capsys.readouterr().out == ""
    assert fig.axes[0].get_xlabel().startswith("constant bias b")
    wrong = [v + 1 for v in vectors]
    fig = figures_init.dead_units_figure(values, (zero, dead), (zero, dead), vectors, wrong)
    assert "yours ≠ Keras" in fig.axes[0].get_title()
    assert "Your Constant disagrees with Keras" in capsys.readouterr().out
    fig = figures_init.dead_units_figure(values, (zero, dead), missing="Drawn from Keras's")
    assert fig.axes[0].get_title().startswith("Keras: ")
