"""The figures and experiments of chapter 16 (convbook/figures_training.py): each figure draws
from Keras alone, from an agreeing run (no banner) and from a disagreeing one (a banner); the
edge pairs are Sobel's correlation; the Keras edge fit finds the Sobel kernel."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from convbook import figures_training as figures  # noqa: E402


def _texts(fig):
    return " ".join(t.get_text() for t in fig.findobj(matplotlib.text.Text))


def test_digits_are_scaled_and_in_order():
    images, labels = figures.digits(30)
    assert images.shape == (30, 8, 8, 1) and images.dtype == np.float32
    assert 0 <= images.min() and images.max() <= 1
    assert list(labels[:10]) == list(range(10))   # load_digits starts 0, 1, ..., 9
    batches = figures.ordered_batches(images, labels, 8, 2)
    assert [len(x) for x, _ in batches] == [8, 8, 8, 6] * 2
    np.testing.assert_array_equal(batches[4][0], images[:8])


def test_learning_curves_figure_three_ways(capsys):
    keras_losses = np.linspace(2.3, 0.6, 12)
    fig = figures.learning_curves_figure(keras_losses, missing="Drawn from Keras's answer — x")
    assert "Drawn from Keras's answer" in _texts(fig)
    plt.close(fig)
    fig = figures.learning_curves_figure(keras_losses, keras_losses * (1 + 1e-6), 4)
    assert "leaves Keras's" not in _texts(fig)
    plt.close(fig)
    fig = figures.learning_curves_figure(keras_losses, keras_losses * 1.01)
    assert "leaves Keras's" in _texts(fig)
    assert "leaves Keras's" in capsys.readouterr().out
    plt.close(fig)


def test_kernels_figure_three_ways(capsys):
    kernel = np.random.default_rng(0).standard_normal((3, 3, 1, 4))
    fig = figures.kernels_figure(kernel, missing="Drawn from Keras's answer — x")
    assert len(fig.axes) == 4 and "Drawn from Keras's answer" in _texts(fig)
    plt.close(fig)
    fig = figures.kernels_figure(kernel, kernel * (1 + 1e-6), initial=kernel / 2)
    assert len(fig.axes) == 12 and "yours 3" in _texts(fig) and "start 0" in _texts(fig)
    assert "differ from Keras's" not in _texts(fig)
    plt.close(fig)
    fig = figures.kernels_figure(kernel, kernel + 0.1)
    assert "differ from Keras's" in _texts(fig)
    assert "differ from Keras's" in capsys.readouterr().out
    plt.close(fig)


def test_edge_pairs_are_sobel_correlations(keras):
    images, _ = figures.digits(3)
    inputs, targets = figures.edge_pairs(images)
    assert targets.shape == (3, 6, 6, 1)
    expected = np.zeros((3, 6, 6))
    for i in range(6):
        for j in range(6):
            expected[:, i, j] = np.sum(images[:, i:i + 3, j:j + 3, 0] * figures.SOBEL_X,
                                       axis=(1, 2))
    np.testing.assert_allclose(targets[..., 0], expected, rtol=1e-5, atol=1e-5)


def test_keras_edge_fit_finds_sobel(keras):
    images, _ = figures.digits(32)
    kernel, losses = figures.keras_edge_run(*figures.edge_pairs(images), 0.5, 80)
    assert losses[-1] < 1e-3 * losses[0]
    np.testing.assert_allclose(kernel[:, :, 0, 0], figures.SOBEL_X, atol=0.1)
    fig = figures.edge_kernel_figure(kernel, losses, kernel, losses)
    assert "yours learned" in _texts(fig)
    plt.close(fig)
