"""The figures of chapter 13 (convbook/figures_fast_path.py): Keras's data says what the chapter
claims, and each figure is drawn from Keras alone (`missing=`), from an agreeing answer (no
banner), and from a disagreeing one (a banner naming the largest error)."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from convbook import figures_fast_path as figures  # noqa: E402

PICTURE = np.random.default_rng(3).integers(0, 10, size=(7, 7)).astype("float32")
SETTING = dict(kernel_size=(2, 2), strides=(2, 2), dilation_rate=(2, 2))


def _texts(fig):
    return " ".join(t.get_text() for t in fig.findobj(matplotlib.text.Text))


@pytest.fixture(scope="module")
def keras_matrix():
    return figures.keras_columns(PICTURE, **SETTING)


def test_keras_columns_rows_are_the_taps_of_each_output_pixel(keras_matrix):
    assert keras_matrix.shape == (9, 4)          # 3x3 output pixels, 2x2 taps
    for i in range(3):
        for j in range(3):
            taps = PICTURE[2 * i:2 * i + 3:2, 2 * j:2 * j + 3:2].reshape(-1)
            np.testing.assert_array_equal(keras_matrix[3 * i + j], taps)


def test_columns_figure_three_ways(keras_matrix, capsys):
    fig = figures.columns_figure(PICTURE, **SETTING, keras=keras_matrix,
                                 missing="Drawn from Keras's answer — x")
    assert "Keras: column matrix" in _texts(fig)
    plt.close(fig)
    fig = figures.columns_figure(PICTURE, **SETTING, cols=keras_matrix.copy(), keras=keras_matrix)
    assert "≠" not in _texts(fig) and "disagrees" not in _texts(fig)
    plt.close(fig)
    wrong = keras_matrix[:, ::-1].copy()            # taps in the wrong order
    fig = figures.columns_figure(PICTURE, **SETTING, cols=wrong, keras=keras_matrix)
    assert "disagrees with Keras" in _texts(fig) and "yours ≠ Keras" in _texts(fig)
    assert "disagrees with Keras" in capsys.readouterr().out
    plt.close(fig)


def test_keras_timings_and_timing_figure(capsys):
    sides = [8, 12]
    keras_ms, answers = figures.keras_timings(sides, repeats=1)
    assert len(keras_ms) == 2 and all(ms > 0 for ms in keras_ms)
    assert answers[0].shape == (2, 6, 6, 8) and answers[1].shape == (2, 10, 10, 8)
    fig = figures.timing_figure(sides, keras_ms, missing="Drawn from Keras's answer — x")
    assert "Keras: one convolution" in _texts(fig) and fig.axes[0].get_yscale() == "log"
    assert len(fig.axes[0].lines) == 1
    plt.close(fig)
    fig = figures.timing_figure(sides, keras_ms, [50.0, 90.0], [1.0, 1.5], errors=[None] * 4)
    assert len(fig.axes[0].lines) == 3 and "×50" in _texts(fig) and "×60" in _texts(fig)
    assert "disagrees" not in _texts(fig)
    plt.close(fig)
    fig = figures.timing_figure(sides, keras_ms, [50.0, 90.0], [1.0, 1.5],
                                errors=["Your conv2d disagrees with Keras on this figure's input"])
    assert "disagrees with Keras" in _texts(fig)
    assert "disagrees with Keras" in capsys.readouterr().out
    plt.close(fig)


def test_best_time_ms_returns_the_result():
    ms, result = figures.best_time_ms(lambda: 42, repeats=2)
    assert result == 42 and 0 <= ms < 1000
