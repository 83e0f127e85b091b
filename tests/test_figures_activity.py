"""The figures of chapter 10 (convbook/figures_activity.py): Keras's data says what the chapter
claims, and each figure is drawn from Keras alone (`missing=`), from an agreeing answer (no
banner) and from a disagreeing one (a banner naming the function and the largest error)."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from convbook import figures, figures_activity  # noqa: E402
from convbook.checks import activity as checks  # noqa: E402

BATCH_SIZES = np.arange(1, 9)


@pytest.fixture(autouse=True)
def _close_figures():
    plt.close("all")
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def sweep():
    r = np.random.default_rng(3)
    image = r.standard_normal((6, 6, 1)).astype("float32")
    kernel = (0.5 * r.standard_normal((3, 3, 1, 2))).astype("float32")
    return figures_activity.keras_batch_sweep(image, kernel, np.zeros(2, "float32"),
                                              BATCH_SIZES, l2=0.01)


def _texts(fig):
    return " ".join(" ".join(t.get_text().split()) for t in fig.findobj(matplotlib.text.Text))


def _banner(fig):
    return " ".join(fig._suptitle.get_text().split()) if fig._suptitle else ""


def test_keras_divides_and_the_old_rule_grows(sweep):
    outputs, divided, undivided = sweep
    assert outputs.shape == (1, 4, 4, 2) and np.all(outputs >= 0)          # relu outputs
    np.testing.assert_allclose(divided, divided[0], rtol=1e-5)             # flat
    np.testing.assert_allclose(undivided, divided[0] * BATCH_SIZES, rtol=1e-5)   # ∝ batch
    # the penalty is L2 of the activated output of one example
    expected = 0.01 * float(np.sum(outputs.astype(np.float64) ** 2))
    assert divided[0] == pytest.approx(expected, rel=1e-5)


def test_batch_size_figure_three_ways(sweep, capsys):
    _, divided, undivided = sweep
    fig = figures_activity.batch_size_figure(
        BATCH_SIZES, divided, undivided, missing="Drawn from Keras's answer — not yet")
    assert "Drawn from Keras's answer" in _banner(fig)
    assert "Keras: The same per-example output" in _texts(fig)
    assert "yours" not in _texts(fig)
    plt.close(fig)

    plain = figures_activity.batch_size_figure(BATCH_SIZES, divided, undivided)
    fig = figures_activity.batch_size_figure(BATCH_SIZES, divided, undivided, divided * 1.00001)
    assert "disagrees" not in _banner(fig) and "≠" not in _texts(fig)
    assert "yours: activity_penalty" in _texts(fig)
    assert _banner(fig) == _banner(plain)
    plt.close("all")

    # the undivided misconception: yours is Keras 3.0-3.13's line
    fig = figures_activity.batch_size_figure(BATCH_SIZES, divided, undivided, undivided)
    banner = _banner(fig)
    assert "Your activity_penalty disagrees with Keras" in banner, banner
    largest = f"largest error {float(np.max(undivided - divided)):.3g}"
    assert largest in banner, banner
    assert fig._suptitle.get_color() == figures.ALARM
    assert "yours ≠ Keras" in _texts(fig)
    assert "disagrees with Keras" in capsys.readouterr().out


def test_pull_on_outputs_l1_makes_exact_zeros_and_l2_does_not():
    targets = np.abs(np.random.default_rng(4).standard_normal((2, 3, 3, 2))).astype("float32")
    l1 = checks.keras_regularizer("L1", l1=0.5)
    l2 = checks.keras_regularizer("L2", l2=0.5)
    pulled_l1 = figures_activity.pull_on_outputs(
        targets, lambda y: checks.keras_activity_penalty_gradient(l1, y))
    pulled_l2 = figures_activity.pull_on_outputs(
        targets, lambda y: checks.keras_activity_penalty_gradient(l2, y))
    # L1 converges to the soft threshold max(t - l1, 0): exact zeros below the factor
    np.testing.assert_allclose(pulled_l1, np.maximum(targets - 0.5, 0), atol=1e-5)
    assert np.array_equal(pulled_l1 == 0, targets <= 0.5)
    assert np.all(pulled_l2 > 0) and np.all(pulled_l2 < targets)


def test_sparsity_figure_three_ways(capsys):
    targets = np.abs(np.random.default_rng(5).standard_normal((2, 4, 4, 2))).astype("float32")
    keras = {"L2(0.5)": targets / 3, "L1(0.5)": np.maximum(targets - 0.5, 0)}
    fig = figures_activity.sparsity_figure(targets, None, keras=keras,
                                           missing="Drawn from Keras's answer — not yet")
    assert "Keras: L1(0.5)" in _texts(fig) and "Drawn from Keras's answer" in _banner(fig)
    plt.close(fig)

    fig = figures_activity.sparsity_figure(targets, dict(keras), keras=keras)
    zeros = float(np.mean(keras["L1(0.5)"] == 0))
    assert f"your gradient: L1(0.5) {zeros:.0%} exactly 0" in _texts(fig)
    assert "≠" not in _texts(fig) and not _banner(fig).startswith("Your")
    plt.close(fig)

    wrong = {"L2(0.5)": keras["L2(0.5)"], "L1(0.5)": targets}       # L1 did nothing
    fig = figures_activity.sparsity_figure(targets, wrong, keras=keras)
    assert "Your activity_penalty_gradient disagrees with Keras" in _banner(fig)
    assert "yours ≠ Keras" in _texts(fig)
    assert "disagrees with Keras" in capsys.readouterr().out
