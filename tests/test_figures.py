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

A figure is there on first reading: while the reader's function is a stub (or raises, or
returns what the figure cannot draw), each figure function draws Keras's answer alone
(`missing=`) under a boxed black banner "Drawn from Keras's answer — ...", its answer panels
titled "Keras: ...", and `from_your_convlib` prints one line saying what to implement. The
chapters' five figure cells are run end to end on a copy of the generated stubs `convlib/`.
"""
import shutil
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from convbook import figures, oracle  # noqa: E402
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


# ---------------------------------------------------- first reading: Keras's answer alone

STUB = StudentError("`correlate.correlate2d` is not implemented yet (it still raises "
                    "NotImplementedError). Open convlib/correlate.py and write it.",
                    kind="not_implemented", target="correlate.correlate2d")
TODO = "Implement correlate2d in convlib/correlate.py (exercise 0.1 below), then re-run this cell."
MISSING = ("Drawn from Keras's answer — your correlate2d is not written yet (exercise 0.1): "
           "implement it and re-run this cell to see yours beside it")


def assert_keras_only(fig, why="is not written yet"):
    """A boxed, bold banner in black (not the red of a disagreement) saying the figure is
    Keras's answer and why yours is not there; panels titled "Keras: ...", none "yours"."""
    banner = _banner(fig)
    assert banner.startswith("Drawn from Keras's answer — your "), banner
    assert why in banner and "re-run this cell to see yours beside it" in banner, banner
    assert fig._suptitle.get_color() == "black"
    assert fig._suptitle.get_fontweight() == "bold"
    assert fig._suptitle.get_bbox_patch() is not None
    assert _keras_titles(fig), _titles(fig)
    assert not [t for t in _titles(fig) if "yours" in t or "≠" in t], _titles(fig)


def _drawn(fig, title):
    (ax,) = [ax for ax in fig.axes if ax.get_title() == title]
    return np.asarray(ax.images[0].get_array())


def test_window_figure_from_keras_alone():
    keras = figures.keras_correlate2d(IMAGE, SOBEL)
    fig = figures.window_figure(IMAGE[:, :, 0], SOBEL[:, :, 0], keras=keras, missing=MISSING)
    assert_keras_only(fig)
    assert _banner(fig) == MISSING
    assert _titles(fig) == ["input image (6, 7)", "kernel (3, 3)", "Keras: output (4, 5)"]
    np.testing.assert_array_equal(_drawn(fig, "Keras: output (4, 5)"), keras)
    (note,) = [t.get_text() for t in fig.texts if t is not fig._suptitle]   # under the banner
    assert note.startswith("Keras: out[1, 2] = ") and note.endswith(f"= {keras[1, 2]:g}"), note


def test_stamp_figure_from_keras_alone(stamp):
    fig = figures.stamp_figure(DOTS[:, :, 0], ELL[:, :, 0], keras=stamp, missing=MISSING)
    assert_keras_only(fig)
    assert _keras_titles(fig) == ["Keras: Conv2D (cross-correlation)",
                                  "Keras: true convolution (kernel flipped)"]
    np.testing.assert_array_equal(_drawn(fig, "Keras: Conv2D (cross-correlation)"), stamp[0])
    assert len(fig.axes) == 4                                  # one row, as the figure it is


def test_images_figure_from_keras_alone(stamp):
    correlated, convolved = stamp
    fig = figures.images_figure([("input", DOTS[:, :, 0]), ("filter 0", None),
                                 ("filter 1", None)], suptitle="s",
                                keras=[None, correlated, convolved], missing=MISSING)
    assert_keras_only(fig)
    assert _titles(fig) == ["input", "Keras: filter 0", "Keras: filter 1"]
    np.testing.assert_array_equal(_drawn(fig, "Keras: filter 1"), convolved)


def test_same_windows_figure_from_keras_alone():
    keras = figures.keras_same_windows(SETTINGS)
    fig = figures.same_windows_figure(keras=keras, missing=MISSING)
    assert_keras_only(fig)
    assert len(_keras_titles(fig)) == len(_titles(fig)) == len(SETTINGS)


def test_padding_sweep_figure_from_keras_alone():
    keras = figures.keras_padding_sweep(LENGTHS, SWEEP, 4)
    fig = figures.padding_sweep_figure(LENGTHS, None, 4, keras=keras, missing=MISSING)
    assert_keras_only(fig)
    assert _keras_titles(fig) == [f"Keras: kernel_size=4, {label}" for label in SWEEP]


def test_a_stub_draws_keras_figure_and_says_what_to_implement(capsys):
    drawn = []
    with figures.from_your_convlib(TODO, keras_figure=lambda missing: drawn.append(missing)):
        plt.figure()                  # half-drawn from the reader's code: closed
        raise STUB
    assert drawn == [MISSING] and not plt.get_fignums()
    out = capsys.readouterr().out
    assert out == ("No figure yet from your convlib: `correlate.correlate2d` is not implemented "
                   f"yet. {TODO}\n"), out


def test_without_a_keras_figure_a_stub_still_draws_nothing(capsys):
    with figures.from_your_convlib("Implement it."):
        raise STUB
    assert not plt.get_fignums()
    assert "No figure yet" in capsys.readouterr().out


def test_what_went_wrong_in_one_line(capsys):
    drawn = []
    crash = StudentError("`correlate.correlate2d` raised ValueError: bad\nshape (convlib/"
                         "correlate.py, line 3)\nYour code printed:\nhello", kind="exception",
                         target="correlate.correlate2d", exc_type="ValueError")
    with figures.from_your_convlib(TODO, keras_figure=lambda missing: drawn.append(missing)):
        raise crash
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "raised ValueError: bad" in out and TODO in out, out
    assert drawn == ["Drawn from Keras's answer — your correlate2d raised ValueError: fix it "
                     "and re-run this cell to see yours beside it"]
    with figures.from_your_convlib(TODO, keras_figure=lambda missing: drawn.append(missing)):
        before, after = None                                   # an answer it cannot draw
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "cannot draw (TypeError: " in out and TODO in out, out
    assert "cannot draw" in drawn[-1] and drawn[-1].startswith(figures.KERAS_ONLY)
    # a function that calls a stub: the stub is named
    calls = StudentError("`correlate.conv2d_valid` calls `correlate.correlate2d`, which is not "
                         "implemented yet (it still raises NotImplementedError). Open "
                         "convlib/correlate.py and write it.", kind="not_implemented",
                         target="correlate.conv2d_valid")
    with figures.from_your_convlib("Implement conv2d_valid (exercise 0.2).",
                                   keras_figure=lambda missing: drawn.append(missing)):
        raise calls
    assert ("your correlate2d is not written yet (an exercise this one builds on)"
            in drawn[-1]), drawn[-1]
    assert capsys.readouterr().out.count("\n") == 1
    # a method of a class: named with its class; the figure's own exercise number is kept
    method = StudentError("`regularizers.L2.__call__` is not implemented yet (it still raises "
                          "NotImplementedError).", kind="not_implemented",
                          target="regularizers.L2.__call__")
    with figures.from_your_convlib("Implement L1.__call__ and L2.__call__ (exercises 8.1, "
                                   "8.2).", keras_figure=lambda missing: drawn.append(missing)):
        raise method
    assert "your L2.__call__ is not written yet (exercises 8.1, 8.2)" in drawn[-1], drawn[-1]
    with figures.from_your_convlib("Implement activity_penalty (exercise 10.1).",
                                   keras_figure=lambda missing: drawn.append(missing)):
        raise method
    assert ("your L2.__call__ is not written yet (an exercise this one builds on)"
            in drawn[-1]), drawn[-1]
    with figures.from_your_convlib("Implement exercises 6.1 to 6.4, then re-run this cell.",
                                   keras_figure=lambda missing: drawn.append(missing)):
        raise StudentError("`initializers.compute_fans` is not implemented yet.",
                           kind="not_implemented", target="initializers.compute_fans")
    assert "(exercises 6.1 to 6.4)" in drawn[-1], drawn[-1]
    capsys.readouterr()


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


def _stubs(tmp_path, module=None, patch=None):
    """A copy of the generated stubs convlib/ (a new reader's), `patch` appended to
    convlib/<module>.py."""
    shutil.copytree(ROOT / "convlib", tmp_path / "convlib",
                    ignore=shutil.ignore_patterns("__pycache__"))
    if patch:
        with open(tmp_path / "convlib" / f"{module}.py", "a", encoding="utf-8") as f:
            f.write("\n\n" + patch)
    return tmp_path


def _run_cell(source, folder, monkeypatch, capsys):
    """Run a figure cell as the reader's kernel does, in `folder` (which holds convlib/),
    with what earlier cells of its chapter define; return the one figure it drew."""
    monkeypatch.chdir(folder)
    exec(source, {"np": np, "figures": figures, "StudentSession": StudentSession,
                  "keras": oracle.keras(), "sobel": SOBEL})
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


# The chapters' figure cells: (notebook, grade_id, the stub the cell needs first, its exercise).
FIGURE_CELLS = [(CH00, "ch00-figure-window", "correlate2d", "exercise 0.1"),
                (CH00, "ch00-figure-stamp", "correlate2d", "exercise 0.1"),
                (CH00, "ch00-further-code", "conv2d_valid", "exercise 0.2"),
                (CH02, "ch02-figure-windows", "same_padding_amounts", "exercises 2.1 and 2.2"),
                (CH02, "ch02-further-code", "same_padding_amounts", "exercise 2.1")]
CELL_IDS = [grade_id for _, grade_id, _, _ in FIGURE_CELLS]


@pytest.mark.parametrize("notebook, grade_id, function, exercise", FIGURE_CELLS, ids=CELL_IDS)
def test_figure_cell_on_the_stubs_draws_keras_answer(notebook, grade_id, function, exercise,
                                                     tmp_path, monkeypatch, capsys):
    """A new reader's first run: the figure is there, drawn from Keras's answer and labelled
    as Keras's, and one line says what to implement."""
    fig = _run_cell(_cell(notebook, grade_id), _stubs(tmp_path), monkeypatch, capsys)
    assert_keras_only(fig)
    assert f"your {function} is not written yet ({exercise})" in _banner(fig), _banner(fig)
    out = capsys.readouterr().out
    assert out.count("\n") == 1, out                                       # one line
    assert out.startswith("No figure yet from your convlib: ") and "not implemented yet" in out
    assert f"Implement {function}" in out, out
    if grade_id == "ch00-figure-window":           # Keras's answer, computed in the kernel
        keras = figures.keras_correlate2d(IMAGE, SOBEL)
        np.testing.assert_array_equal(_drawn(fig, "Keras: output (4, 5)"), keras)


@pytest.mark.parametrize("notebook, grade_id, function, exercise", FIGURE_CELLS, ids=CELL_IDS)
def test_figure_cell_on_the_reference_draws_yours(notebook, grade_id, function, exercise,
                                                  tmp_path, monkeypatch, capsys):
    """Once the reader's function works: their figure, with no banner and no Keras panel."""
    fig = _run_cell(_cell(notebook, grade_id), _convlib(tmp_path, "correlate", None),
                    monkeypatch, capsys)
    assert not _keras_titles(fig) and "Keras" not in _banner(fig), (_banner(fig), _titles(fig))
    assert "No figure" not in capsys.readouterr().out


RAISES = '''

def correlate2d(image, kernel):
    raise ValueError("kernel too large")
'''

RETURNS_NONE = '''

def same_padding_amounts(input_length, kernel_size, stride=1, dilation_rate=1):
    return None
'''


def test_figure_cell_draws_keras_answer_when_yours_raises(tmp_path, monkeypatch, capsys):
    fig = _run_cell(_cell(CH00, "ch00-figure-window"), _stubs(tmp_path, "correlate", RAISES),
                    monkeypatch, capsys)
    assert_keras_only(fig, why="your correlate2d raised ValueError: fix it")
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "raised ValueError: kernel too large" in out, out


def test_figure_cell_draws_keras_answer_when_yours_is_undrawable(tmp_path, monkeypatch, capsys):
    fig = _run_cell(_cell(CH02, "ch02-figure-windows"),
                    _stubs(tmp_path, "padding", RETURNS_NONE), monkeypatch, capsys)
    assert_keras_only(fig, why="returned something this figure cannot draw")
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "cannot draw (TypeError: " in out, out
