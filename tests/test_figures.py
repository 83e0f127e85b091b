"""Figures never mislead: a figure drawn from the reader's code says so, with the largest
error, when that code disagrees with Keras on the figure's own input, and draws Keras's
answer beside it; when they agree the figure is the one it always was.

Each figure function is called with Keras's answer (`keras=`) twice: with an answer that
agrees (no banner, the same panels and titles as without `keras=`) and with one a known
misconception gives (a flipped kernel, swapped padding amounts, ...): a red bold banner
naming the function and the largest error, the reader's disagreeing panel titled in a box,
and panels titled "Keras". The end-to-end tests run the chapters' own figure cells (their
source, read from solutions/) against a convlib whose function has the misconception,
through the sandboxed harness, exactly as a reader's kernel does.
"""
import shutil
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from convbook import figures  # noqa: E402
from convbook.harness import StudentError, StudentSession  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CH00 = ROOT / "solutions" / "00_what_conv2d_computes.ipynb"
CH02 = ROOT / "solutions" / "02_padding.ipynb"

# The figures' inputs, as in the chapters.
DOTS = np.zeros((14, 14, 1), "float32")
DOTS[3, 3] = DOTS[4, 10] = DOTS[10, 6] = 1.0
ELL = np.array([[1, 0, 0], [1, 0, 0], [3, 2, 1]], "float32")[:, :, None]
IMAGE = np.random.default_rng(7).integers(0, 5, size=(6, 7, 1)).astype("float32")
SOBEL = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], "float32")[:, :, None]
SETTINGS = [(5, 3, 1, 1), (5, 4, 1, 1), (6, 3, 2, 1), (5, 2, 1, 3)]
LENGTHS = list(range(1, 17))
SWEEP = {"strides=1": (1, 1), "strides=2": (2, 1), "strides=3": (3, 1), "dilation_rate=2": (1, 2)}


@pytest.fixture(autouse=True)
def _close_figures():
    plt.close("all")
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def stamp():
    """Keras's correlation of the dots with the "L" and with the "L" flipped."""
    return (figures.keras_correlate2d(DOTS, ELL),
            figures.keras_correlate2d(DOTS, ELL[::-1, ::-1]))


def _banner(fig):
    """The suptitle's text on one line ("" when there is none)."""
    return " ".join(fig._suptitle.get_text().split()) if fig._suptitle else ""


def _titles(fig):
    return [ax.get_title() for ax in fig.axes if ax.get_visible()]


def _keras_titles(fig):
    return [t for t in _titles(fig) if t.startswith("Keras")]


def _largest(yours, keras):
    return f"largest error {np.abs(np.asarray(yours, float) - np.asarray(keras, float)).max():.3g}"


def assert_agrees(fig, plain):
    """No banner, nothing of Keras: the very figure drawn without `keras=` (`plain`)."""
    assert "disagrees" not in _banner(fig) and not _keras_titles(fig), _banner(fig)
    assert _banner(fig) == _banner(plain)
    assert _titles(fig) == _titles(plain)
    assert len(fig.axes) == len(plain.axes)
    assert tuple(fig.get_size_inches()) == tuple(plain.get_size_inches())


def assert_disagrees(fig, function, largest):
    """A red bold banner naming the function and the largest error, a boxed title on the
    reader's panel that disagrees, and Keras's panels."""
    banner = _banner(fig)
    assert f"Your {function} disagrees with Keras on this figure's input" in banner, banner
    assert largest in banner, (largest, banner)
    assert fig._suptitle.get_color() == figures.ALARM
    assert fig._suptitle.get_fontweight() == "bold"
    assert fig._suptitle.get_bbox_patch() is not None             # boxed: survives greyscale
    assert _keras_titles(fig), _titles(fig)
    boxed = [ax.title.get_text() for ax in fig.axes
             if ax.get_visible() and ax.title.get_bbox_patch() is not None]
    assert boxed and all("≠ Keras" in t for t in boxed), boxed


# ---------------------------------------------------------------------------- disagreement

def test_disagreement_names_the_largest_error_and_where(stamp):
    correlated, convolved = stamp
    assert figures.disagreement(correlated, correlated, "correlate2d") is None
    # float32 rounding is within the checks' tolerance, as in the checks
    assert figures.disagreement(correlated * (1 + 1e-6), correlated, "correlate2d") is None
    # the flipped-kernel misconception: the largest error, its index, both values
    text = figures.disagreement(convolved, correlated, "correlate2d")
    error = np.abs(convolved - correlated)
    i, j = np.unravel_index(np.argmax(error), error.shape)
    assert text.startswith("Your correlate2d disagrees with Keras on this figure's input: ")
    assert f"largest error {error.max():.3g} at ({i}, {j})" in text, text
    assert f"yours {convolved[i, j]:g}, Keras {correlated[i, j]:g}" in text, text
    # a wrong shape or type says so
    assert "shape (12, 12, 1)" in figures.disagreement(correlated[..., None], correlated)
    assert "None" in figures.disagreement(None, correlated)
    # amounts are compared exactly
    assert figures.disagreement((1, 2), (1, 2)) is None
    assert "yours (2, 1), Keras (1, 2)" in figures.disagreement((2, 1), (1, 2))


# ------------------------------------------------------------------------- ch00's figures

def test_window_figure(stamp):
    keras = figures.keras_correlate2d(IMAGE, SOBEL)
    args = (IMAGE[:, :, 0], SOBEL[:, :, 0])
    assert_agrees(figures.window_figure(*args, keras, keras=keras),
                  figures.window_figure(*args, keras))
    # a flipped kernel: the Sobel kernel's edges come out with the opposite sign
    flipped = figures.keras_correlate2d(IMAGE, SOBEL[::-1, ::-1])
    fig = figures.window_figure(*args, flipped, keras=keras)
    assert_disagrees(fig, "correlate2d", _largest(flipped, keras))
    assert "Keras: output (4, 5)" in _titles(fig)
    # the sum is written with Keras's value, not with the wrong one
    note = " ".join(t.get_text() for t in fig.texts)
    assert f"= {keras[1, 2]:g}; yours has {flipped[1, 2]:g} there" in note, note
    # an answer of the wrong shape or type: said, and Keras's answer still drawn
    fig = figures.window_figure(*args, keras.T, keras=keras)
    assert "your answer has shape (5, 4), Keras's has shape (4, 5)" in _banner(fig)
    assert _keras_titles(fig)
    fig = figures.window_figure(*args, None, keras=keras)
    assert "you returned None" in _banner(fig) and _keras_titles(fig)


def test_stamp_figure(stamp):
    correlated, convolved = stamp
    args = (DOTS[:, :, 0], ELL[:, :, 0])
    plain = figures.stamp_figure(*args, correlated, convolved)
    assert_agrees(figures.stamp_figure(*args, correlated, convolved, keras=stamp), plain)
    assert "Conv2D (cross-correlation)" in _titles(plain)
    # a correlate2d that flips the kernel swaps the two panels
    fig = figures.stamp_figure(*args, convolved, correlated, keras=stamp)
    assert_disagrees(fig, "correlate2d", _largest(convolved, correlated))
    # no panel of yours claims what it does not show: the claims are Keras's panels' titles
    claims = [t for t in _titles(fig) if "Conv2D" in t or "convolution" in t]
    assert claims == ["Keras: Conv2D (cross-correlation)",
                      "Keras: true convolution (kernel flipped)"], _titles(fig)
    # and Keras's panels draw Keras's answers
    drawn = {ax.get_title(): ax.images[0].get_array() for ax in fig.axes if ax.images}
    np.testing.assert_array_equal(drawn["Keras: Conv2D (cross-correlation)"], correlated)
    np.testing.assert_array_equal(drawn["Keras: true convolution (kernel flipped)"], convolved)


def test_images_figure(stamp):
    correlated, convolved = stamp
    panels = [("input", DOTS[:, :, 0]), ("filter 0", correlated), ("filter 1", convolved)]
    keras = [None, correlated, convolved]
    assert_agrees(figures.images_figure(panels, suptitle="s", keras=keras,
                                        function="conv2d_valid"),
                  figures.images_figure(panels, suptitle="s"))
    wrong = [panels[0], ("filter 0", correlated), ("filter 1", correlated)]
    fig = figures.images_figure(wrong, suptitle="s", keras=keras, function="conv2d_valid")
    assert_disagrees(fig, "conv2d_valid", _largest(correlated, convolved))
    assert "for 'filter 1'" in _banner(fig)
    assert _keras_titles(fig) == ["Keras: filter 0", "Keras: filter 1"]


# ------------------------------------------------------------------------- ch02's figures

def _padded(n, before, after):
    return np.concatenate([np.zeros(before), np.arange(1, n + 1), np.zeros(after)])


def test_same_windows_figure():
    keras = figures.keras_same_windows(SETTINGS)
    assert_agrees(figures.same_windows_figure(keras, keras=keras),
                  figures.same_windows_figure(keras))
    # the extra zero on the top/left (before and after swapped): (5, 4, 1, 1) has P = 3
    top_left = [dict(c, amounts=c["amounts"][::-1], padded=_padded(c["n"], *c["amounts"][::-1]))
                for c in keras]
    fig = figures.same_windows_figure(top_left, keras=keras)
    assert_disagrees(fig, "same_padding_amounts", "largest error 1")
    assert "yours (2, 1), Keras (1, 2)" in _banner(fig)
    assert "pad_spatial" not in _banner(fig)      # its input was wrong: not its fault
    odd = [c for c in keras if sum(c["amounts"]) % 2]
    assert len(_keras_titles(fig)) == len(odd) == 3
    # the right amounts, but the zeros put at the wrong ends by pad_spatial
    wrong_ends = [dict(c, padded=_padded(c["n"], *c["amounts"][::-1])) for c in keras]
    fig = figures.same_windows_figure(wrong_ends, keras=keras)
    assert_disagrees(fig, "pad_spatial", "largest error")
    assert "same_padding_amounts" not in _banner(fig)


def test_padding_sweep_figure():
    keras = figures.keras_padding_sweep(LENGTHS, SWEEP, 4)
    assert_agrees(figures.padding_sweep_figure(LENGTHS, keras, 4, keras=keras),
                  figures.padding_sweep_figure(LENGTHS, keras, 4))
    # the stride ignored: always the stride-1 total d*(k-1), split with the extra at the end
    no_stride = {label: [(d * 3 // 2, d * 3 - d * 3 // 2)] * len(LENGTHS)
                 for label, (s, d) in SWEEP.items()}
    fig = figures.padding_sweep_figure(LENGTHS, no_stride, 4, keras=keras)
    worst = max(np.abs(np.subtract(no_stride[label], keras[label])).max() for label in SWEEP)
    assert_disagrees(fig, "same_padding_amounts", f"largest error {worst:g}")
    assert len(_keras_titles(fig)) == len(SWEEP)
    # the settings without a stride agree: their panels are not marked
    assert "yours: kernel_size=4, strides=1" in _titles(fig)
    assert "yours: kernel_size=4, dilation_rate=2" in _titles(fig)


def test_a_stub_still_draws_nothing(capsys):
    with figures.from_your_convlib("Implement it."):
        raise StudentError("correlate2d is not implemented yet", kind="not_implemented")
    assert not plt.get_fignums()
    assert "No figure yet" in capsys.readouterr().out


# ---------------------------------------------------------- the chapters' cells, end to end

def _cell(notebook, grade_id):
    nb = nbformat.read(notebook, as_version=4)
    (cell,) = [c for c in nb.cells if c.metadata["nbgrader"]["grade_id"] == grade_id]
    return cell.source


def _convlib(tmp_path, module, patch):
    """A copy of the reference convlib with `patch` appended to convlib/<module>.py."""
    shutil.copytree(ROOT / "solutions" / "convlib", tmp_path / "convlib",
                    ignore=shutil.ignore_patterns("__pycache__"))
    if patch:
        with open(tmp_path / "convlib" / f"{module}.py", "a", encoding="utf-8") as f:
            f.write("\n\n" + patch)
    return tmp_path


def _run_cell(source, folder, monkeypatch, capsys):
    """Run a figure cell as the reader's kernel does, in `folder` (which holds convlib/);
    return the one figure it drew."""
    monkeypatch.chdir(folder)
    exec(source, {"np": np, "figures": figures, "StudentSession": StudentSession})
    numbers = plt.get_fignums()
    assert len(numbers) == 1, capsys.readouterr().out
    return plt.figure(numbers[0])


FLIPPED_KERNEL = '''
_cross_correlate2d = correlate2d


def correlate2d(image, kernel):
    """The misconception: a true convolution (the kernel flipped)."""
    return _cross_correlate2d(image, np.asarray(kernel)[::-1, ::-1])
'''

EXTRA_FIRST = '''
_same_padding_amounts = same_padding_amounts


def same_padding_amounts(input_length, kernel_size, stride=1, dilation_rate=1):
    """The misconception: the extra zero of an odd total first (top/left)."""
    before, after = _same_padding_amounts(input_length, kernel_size, stride, dilation_rate)
    return after, before
'''


@pytest.mark.parametrize("patch", [FLIPPED_KERNEL, None], ids=["flipped-kernel", "reference"])
def test_stamp_cell_end_to_end(patch, stamp, tmp_path, monkeypatch, capsys):
    fig = _run_cell(_cell(CH00, "ch00-figure-stamp"), _convlib(tmp_path, "correlate", patch),
                    monkeypatch, capsys)
    if patch is None:
        assert "disagrees" not in _banner(fig) and not _keras_titles(fig), _banner(fig)
        return
    correlated, convolved = stamp
    assert_disagrees(fig, "correlate2d", _largest(convolved, correlated))


def test_padding_windows_cell_end_to_end(tmp_path, monkeypatch, capsys):
    fig = _run_cell(_cell(CH02, "ch02-figure-windows"),
                    _convlib(tmp_path, "padding", EXTRA_FIRST), monkeypatch, capsys)
    assert_disagrees(fig, "same_padding_amounts", "largest error 1")
    assert "yours (2, 1), Keras (1, 2)" in _banner(fig)
