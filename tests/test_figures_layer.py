"""The figures of chapter 14 (convbook/figures_layer.py): the hand-made filters do what their
names say, and the feature-map figure is drawn from Keras alone (`missing=`), from an agreeing
answer (no banner) and from a disagreeing one (a banner naming the largest error)."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from convbook import figures_layer  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    plt.close("all")
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def maps():
    photo = figures_layer.sample_photo(size=(24, 32))
    kernel = figures_layer.hand_made_kernel()
    keras_maps = figures_layer.keras_feature_maps(photo, kernel, np.zeros(4, np.float32),
                                                  padding="same", activation="relu")
    return photo, keras_maps


def _banner(fig):
    return " ".join(fig._suptitle.get_text().split()) if fig._suptitle else ""


def test_photo_and_kernel():
    photo = figures_layer.sample_photo(size=(24, 32))
    assert photo.shape == (24, 32, 3) and photo.dtype == np.float32
    assert 0 <= photo.min() and photo.max() <= 1
    kernel = figures_layer.hand_made_kernel()
    assert kernel.shape == (3, 3, 3, 4)
    # edge filters and the Laplacian ignore a flat image; the blur keeps its luminance
    flat = kernel.sum(axis=(0, 1, 2))
    np.testing.assert_allclose(flat[:3], 0, atol=1e-6)
    assert flat[3] == pytest.approx(1.0, rel=1e-5)


def test_feature_maps_figure_three_ways(maps):
    photo, keras_maps = maps
    assert keras_maps.shape == (24, 32, 4) and keras_maps.min() >= 0        # relu
    fig = figures_layer.feature_maps_figure(photo, keras_maps,
                                            missing="Drawn from Keras's answer — not yet")
    assert "Drawn from Keras's answer" in _banner(fig)
    assert len(fig.axes) == 5
    fig = figures_layer.feature_maps_figure(photo, keras_maps, keras_maps.copy())
    assert "disagrees" not in _banner(fig) and len(fig.axes) == 10
    wrong = keras_maps.copy()
    wrong[3, 4, 1] += 5
    fig = figures_layer.feature_maps_figure(photo, keras_maps, wrong)
    assert "Conv2D" in _banner(fig) and "disagrees" in _banner(fig), _banner(fig)


def test_pipeline_figure():
    fig = figures_layer.pipeline_figure()
    texts = " ".join(t.get_text() for t in fig.findobj(matplotlib.text.Text))
    for piece in ("conv2d", "add_bias", "activation", "activity_penalty"):
        assert piece in texts


def test_your_convlib_or_a_note_prints_one_line(capsys):
    from convbook.harness import StudentError

    with figures_layer.your_convlib_or_a_note("Implement Conv2D.__call__ first."):
        raise StudentError("`Conv2D.__call__` is not implemented yet.", kind="not_implemented")
    with figures_layer.your_convlib_or_a_note("Fix it."):
        raise ValueError("bad shape")
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 2 and out[0].startswith("Not yet from your convlib")
    assert "Implement Conv2D.__call__ first." in out[0] and "ValueError: bad shape" in out[1]
