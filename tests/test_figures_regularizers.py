"""The figures of chapters 08 and 09 (convbook/figures_regularizers.py): Keras's data says what
the chapters claim, and each figure is drawn from Keras alone (`missing=`), from an agreeing
answer (no banner), and from a disagreeing one (a banner naming the largest error)."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from convbook import figures_regularizers as figures  # noqa: E402


@pytest.fixture(scope="module")
def keras_contours():
    return figures.keras_contour_data()


@pytest.fixture(scope="module")
def keras_curves():
    return figures.keras_curve_data()


def _texts(fig):
    return " ".join(t.get_text() for t in fig.findobj(matplotlib.text.Text))


def test_l1_minimum_is_on_an_axis_and_l2_is_not(keras_contours):
    l1, l2 = keras_contours["L1"]["minimum"], keras_contours["L2"]["minimum"]
    assert l1[1] == 0.0 and l1[0] > 0.5            # exactly on the w1 axis
    assert l2[0] > 0.5 and l2[1] > 0.2             # shrunk, off both axes
    # the grid search agrees with the closed form of the L2 minimum: (H + 2 l2 I) w = H c
    l2_factor = dict(figures.CONTOUR_REGULARIZERS)["L2"]
    exact = np.linalg.solve(figures.HESSIAN + 2 * l2_factor * np.eye(2),
                            figures.HESSIAN @ figures.CENTRE)
    np.testing.assert_allclose(l2, exact, atol=2e-3)
    # and the L1 minimum satisfies the optimality condition on the axis: |dL/dw2| <= l1
    l1_factor = dict(figures.CONTOUR_REGULARIZERS)["L1"]
    slope = figures.HESSIAN @ (l1 - figures.CENTRE)
    assert abs(slope[0] + l1_factor) < 2e-3 and abs(slope[1]) < l1_factor


def test_contour_figure_three_ways(keras_contours, capsys):
    fig = figures.contour_figure(keras=keras_contours, missing="Drawn from Keras's answer — x")
    assert "Keras: L1(0.5)" in _texts(fig)
    plt.close(fig)
    fig = figures.contour_figure(keras_contours, keras=keras_contours)
    assert "≠" not in _texts(fig) and len(fig.axes) == 2
    plt.close(fig)
    wrong = {name: dict(entry, penalty=entry["penalty"] / 2)
             for name, entry in keras_contours.items()}
    fig = figures.contour_figure(wrong, keras=keras_contours)
    assert "disagrees with Keras" in _texts(fig) and len(fig.axes) == 4
    assert "disagrees with Keras" in capsys.readouterr().out
    plt.close(fig)


def test_curve_data_gradient_at_zero(keras_curves):
    zero = int(np.flatnonzero(figures.WEIGHT == 0)[0])
    for (name, factors), (penalty, gradient) in zip(figures.CURVE_REGULARIZERS, keras_curves):
        assert penalty.shape == gradient.shape == figures.WEIGHT.shape
        assert gradient[zero] == 0.0, name           # sign(0) = 0 in TensorFlow
        l1, l2 = factors.get("l1", 0.0), factors.get("l2", 0.0)
        w = figures.WEIGHT.astype(float)
        np.testing.assert_allclose(gradient, l1 * np.sign(w) + 2 * l2 * w, rtol=1e-5,
                                   atol=1e-6)


def test_curves_figure_three_ways(keras_curves, capsys):
    fig = figures.curves_figure(keras=keras_curves, missing="Drawn from Keras's answer — x")
    assert "Keras: L1(l1=0.5)" in _texts(fig)
    plt.close(fig)
    fig = figures.curves_figure(keras_curves, keras=keras_curves)
    assert "≠" not in _texts(fig)
    plt.close(fig)
    half = [(p, g / 2) for p, g in keras_curves]
    fig = figures.curves_figure(half, keras=keras_curves)
    assert "L2.gradient disagrees with Keras" in _texts(fig)
    assert "disagrees" in capsys.readouterr().out
    plt.close(fig)
