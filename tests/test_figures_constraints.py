"""The figures of chapters 11 and 12 (convbook/figures_constraints.py): drawn from Keras alone
(`missing=`), with the reader's agreeing answer (no banner), and with a misconception's answer
(a red banner naming the function)."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from convbook import figures_constraints as figs  # noqa: E402


def _suptitle(fig):
    return fig._suptitle.get_text() if fig._suptitle is not None else ""


def _kernel():
    return np.random.default_rng(11).standard_normal((3, 3, 4, 6)).astype(np.float32)


def test_filter_norms_figure():
    keras = figs.keras_filter_norms(_kernel(), 2.0)
    assert np.all(keras["axis=[0, 1, 2]"] <= 2.0 + 1e-5)
    assert np.all(keras["axis=0"] > 2.0)          # the notes' axis leaves whole filters long
    fig = figs.filter_norms_figure(2.0, keras=keras, missing="Drawn from Keras's answer — x")
    assert "Drawn from Keras's answer" in _suptitle(fig)
    assert fig.axes[0].get_xlabel() and fig.axes[0].get_ylabel()
    plt.close(fig)
    right = {label: keras[label] for label in figs.FILTER_AXES}
    fig = figs.filter_norms_figure(2.0, keras=keras, yours=right)
    assert "disagrees" not in _suptitle(fig)
    plt.close(fig)
    # a MaxNorm that ignores axis (always axis 0): its per-filter norms are Keras's axis=0 ones
    wrong = {label: keras["axis=0"] for label in figs.FILTER_AXES}
    fig = figs.filter_norms_figure(2.0, keras=keras, yours=wrong)
    assert "Your MaxNorm disagrees with Keras" in _suptitle(fig)
    plt.close(fig)


def test_norm_trajectory_figure():
    bias, grads = figs.drifting_gradients(steps=30)
    keras = figs.keras_norm_trajectories(bias, grads, 0.1)
    free = keras["no constraint"]
    assert free[-1] > 1.0 > free[0]                # the drift pushes the norm out
    assert np.all(keras["MaxNorm(max_value=1.5)"][1:] <= 1.5 + 1e-5)
    minmax = keras["MinMaxNorm(min_value=0.5, max_value=1.0)"][1:]
    assert np.all((minmax >= 0.5 - 1e-5) & (minmax <= 1.0 + 1e-5))
    fig = figs.norm_trajectory_figure(keras, missing="Drawn from Keras's answer — x")
    assert "Drawn from Keras's answer" in _suptitle(fig)
    plt.close(fig)
    fig = figs.norm_trajectory_figure(keras, yours=dict(keras))
    assert "disagrees" not in _suptitle(fig)
    plt.close(fig)
    wrong = dict(keras, **{"MaxNorm(max_value=1.5)": free})        # constraint ignored
    fig = figs.norm_trajectory_figure(keras, yours=wrong)
    assert "Your sgd_step disagrees with Keras" in _suptitle(fig)
    plt.close(fig)
