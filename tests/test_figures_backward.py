"""The figure of chapter 15 (convbook/figures_backward.py): Keras's data says what the chapter
claims (the input gradient of sum(conv) with a kernel of ones counts the windows that read each
pixel), and the figure is drawn from Keras alone (`missing=`), from an agreeing answer (no
banner) and from a disagreeing one (a banner naming the function and the largest error)."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from convbook import figures_backward  # noqa: E402

CASE = dict(input_size=(6, 7), kernel_size=(3, 2), strides=(2, 3), padding="same")


@pytest.fixture(autouse=True)
def _close_figures():
    plt.close("all")
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def coverage():
    return figures_backward.keras_coverage(**CASE)


def _window_counts(input_size, kernel_size, strides, pads):
    """How many windows read each padded pixel, by counting (numpy)."""
    height = input_size[0] + sum(pads[0])
    width = input_size[1] + sum(pads[1])
    counts = np.zeros((height, width))
    for i in range(0, height - kernel_size[0] + 1, strides[0]):
        for j in range(0, width - kernel_size[1] + 1, strides[1]):
            counts[i:i + kernel_size[0], j:j + kernel_size[1]] += 1
    return counts


def _texts(fig):
    return " ".join(" ".join(t.get_text().split()) for t in fig.findobj(matplotlib.text.Text))


def _banner(fig):
    return " ".join(fig._suptitle.get_text().split()) if fig._suptitle else ""


def test_keras_gradient_counts_the_windows(coverage):
    padded_counts, grad_x = coverage
    pads = ((0, 1), (0, 1))                     # "same", 6x7, kernel 3x2, strides (2, 3)
    expected = _window_counts(CASE["input_size"], CASE["kernel_size"], CASE["strides"], pads)
    np.testing.assert_array_equal(padded_counts, expected)
    np.testing.assert_array_equal(grad_x, expected[:6, :7])      # the padding cropped
    assert np.all(grad_x[:, [2, 5]] == 0)      # stride 3 > kernel 2: columns no window read


def test_figure_from_keras_alone(coverage):
    fig = figures_backward.transposed_conv_figure(
        **CASE, keras=coverage, missing="Drawn from Keras's answer — not yet")
    assert "Drawn from Keras's answer" in _banner(fig)
    assert "Keras: d loss / d x" in _texts(fig)
    assert "yours" not in _texts(fig)
    assert len(fig.axes) == 3


def test_figure_from_an_agreeing_answer(coverage, capsys):
    fig = figures_backward.transposed_conv_figure(**CASE, keras=coverage, yours=coverage[1])
    assert "yours = Keras" in _texts(fig)
    assert "disagrees" not in _banner(fig)
    assert capsys.readouterr().out == ""
    assert len(fig.axes) == 3


def test_figure_from_a_disagreeing_answer(coverage, capsys):
    wrong = coverage[1].copy()
    wrong[0, 0] = 7
    fig = figures_backward.transposed_conv_figure(**CASE, keras=coverage, yours=wrong)
    assert "input_gradient disagrees with Keras" in _banner(fig)
    assert "largest error 6" in _banner(fig)
    assert "yours: input_gradient ≠ Keras" in _texts(fig)
    assert len(fig.axes) == 4
    assert "⚠" in capsys.readouterr().out
