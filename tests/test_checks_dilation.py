"""Chapter 03's check functions (convbook/checks/dilation.py) and figure
(convbook/figures_dilation.py): right, wrong and unfinished convlibs.

* the reference solutions/convlib passes every check, visible and hidden, printing one line
  each and nothing on stderr;
* the generated stubs (convlib/ at the repository root, `python -m convbook.build`) fail
  every check cleanly, saying what is not implemented;
* a fake student convlib holding one known wrong idea (the reference with one function
  patched) fails with feedback naming that misconception (`record.misconception`);
* the Keras references are right: the dilated kernel read off Keras equals the kernel with
  zeros between its taps, and the strided-dilated reference (Keras's stride-1 dilated conv,
  subsampled) equals a float64 numpy correlation on many shapes (and a strided
  `keras.ops.depthwise_conv`, which is wrong on some with oneDNN, is never used);
* the figure's Keras data is right (receptive fields 1 + 2·Σd), and the figure is drawn from
  Keras alone, or with a banner when the reader's answer disagrees.
"""
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from check_support import (assert_every_misconception_tested, assert_mistake_named,
                           assert_reference_passes,
                           assert_stubs_fail_cleanly)
from convbook import mistakes
from convbook.checks import dilation as checks

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions"
NOTEBOOK = SOLUTIONS / "03_dilation.ipynb"

CHECKS = [checks.check_dilate_kernel, checks.check_output_length_dilated,
          checks.check_strided_dilated_conv2d]
NAMES = [c.__name__ for c in CHECKS]
FIRST_STUB = {"check_dilate_kernel": "dilation.dilate_kernel",
              "check_output_length_dilated": "output_size.output_length",
              "check_strided_dilated_conv2d": "dilation.strided_dilated_conv2d"}


@pytest.mark.parametrize("check", CHECKS, ids=NAMES)
def test_reference_passes(check, monkeypatch, capfd):
    assert_reference_passes(check, monkeypatch, capfd)


@pytest.mark.parametrize("check", CHECKS, ids=NAMES)
def test_stubs_fail_cleanly(check, monkeypatch, capfd):
    assert_stubs_fail_cleanly(check, FIRST_STUB[check.__name__], monkeypatch, capfd)


# ------------------------------------------------------------------ misconceptions
# The wrong implementations and the check that must name each: the catalogue,
# convbook/mistakes/dilation.py (a body may call the reference as `_right_<function>`).

MISCONCEPTIONS = mistakes.table("dilation")


@pytest.mark.parametrize("name", list(MISCONCEPTIONS))
def test_misconception_is_named(name, tmp_path, monkeypatch, capfd):
    assert_mistake_named(MISCONCEPTIONS[name], tmp_path, monkeypatch, capfd)


def test_every_misconception_is_tested():
    assert_every_misconception_tested(checks, MISCONCEPTIONS)


def test_notebook_has_three_checks_and_one_answer():
    nb = json.loads(NOTEBOOK.read_text())
    metas = [c["metadata"]["nbgrader"] for c in nb["cells"]]
    assert [m["points"] for m in metas if m.get("grade") and not m.get("solution")] == [3, 1, 3]
    assert [m["points"] for m in metas if m.get("solution")] == [3]


# ------------------------------------------------------------------ the Keras references

def _zeros_between(kernel, dh, dw):
    kh, kw = kernel.shape[:2]
    out = np.zeros((dh * (kh - 1) + 1, dw * (kw - 1) + 1) + kernel.shape[2:], kernel.dtype)
    out[::dh, ::dw] = kernel
    return out


def test_keras_dilated_kernel_is_the_kernel_with_zeros_between_taps():
    rng = np.random.default_rng(0)
    for shape, d in [((3, 3, 1, 1), (2, 2)), ((2, 4, 3, 2), (3, 1)), ((1, 3, 2, 3), (4, 2))]:
        kernel = rng.standard_normal(shape).astype(np.float32)
        np.testing.assert_allclose(checks.keras_dilated_kernel(kernel, d),
                                   _zeros_between(kernel, *d), atol=1e-6)


def test_strided_dilated_reference_agrees_with_float64_numpy():
    """The reference (Keras's stride-1 dilated "valid" conv, every s-th output kept) against a
    float64 numpy correlation with the dilated kernel, on many small shapes, batch 2, and the
    shape where `keras.ops.depthwise_conv` goes wrong."""
    rng = np.random.default_rng(1)
    shapes = [((2, 16, 7, 1), (4, 4, 1, 3), (1, 4), (1, 1))]
    for _ in range(80):
        kh, kw, dh, dw, sh, sw = (int(v) for v in rng.integers(1, 5, size=6))
        c, f = (int(v) for v in rng.integers(1, 4, size=2))
        h = dh * (kh - 1) + 1 + int(rng.integers(0, 12))
        w = dw * (kw - 1) + 1 + int(rng.integers(0, 12))
        shapes.append(((2, h, w, c), (kh, kw, c, f), (sh, sw), (dh, dw)))
    for x_shape, k_shape, (sh, sw), (dh, dw) in shapes:
        x = rng.standard_normal(x_shape).astype(np.float32)
        kernel = rng.standard_normal(k_shape).astype(np.float32)
        ours = checks.keras_strided_dilated_conv(x, kernel, (sh, sw), (dh, dw))
        big = _zeros_between(kernel.astype(np.float64), dh, dw)
        bh, bw = big.shape[:2]
        h, w = x_shape[1:3]
        numpy = np.array([[[np.tensordot(x[n, i:i + bh, j:j + bw].astype(np.float64), big, 3)
                            for j in range(w - bw + 1)] for i in range(h - bh + 1)]
                          for n in range(x_shape[0])])
        np.testing.assert_allclose(ours, numpy[:, ::sh, ::sw], rtol=5e-4, atol=1e-4,
                                   err_msg=f"x {x_shape} kernel {k_shape} s {(sh, sw)} d {(dh, dw)}")


def test_keras_depthwise_strided_conv_bug_is_pinned(keras):
    """Pinned TensorFlow 2.21 bug (oneDNN on): a strided `keras.ops.depthwise_conv` returns
    values millions away from the right ones on this shape, every time, which is why the
    reference above never uses it. When TensorFlow is fixed this test fails: the note in
    convbook/checks/dilation.py may then go."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 16, 7, 1)).astype(np.float32)
    kernel = rng.standard_normal((4, 4, 1, 3)).astype(np.float32)
    y = keras.ops.convert_to_numpy(keras.ops.depthwise_conv(x, kernel, strides=(1, 4),
                                                            padding="valid"))
    right = checks.keras_strided_dilated_conv(x, kernel, (1, 4), (1, 1))
    assert y.shape == right.shape
    assert np.abs(y - right).max() > 1.0


def test_keras_output_length_with_strides_and_dilation():
    # windows at 0, s, 2s, ... whose span d*(k-1)+1 fits
    for n, k, s, d in [(12, 3, 2, 2), (13, 2, 3, 3), (20, 4, 3, 2)]:
        assert checks.keras_output_length(n, k, s, "valid", d) == (n - d * (k - 1) - 1) // s + 1
        assert checks.keras_output_length(n, k, s, "same", d) == -(-n // s)


# ------------------------------------------------------------------------------ figure

STACKS = [(1, 1, 1, 1), (1, 2, 4, 8), (2, 2, 2)]


def test_keras_receptive_paths():
    from convbook import figures_dilation as fd

    paths = fd.keras_receptive_paths(STACKS)
    for dilations, p in zip(STACKS, paths):
        assert p.shape == (len(dilations), fd.input_length(STACKS))
        for layer in range(len(dilations)):
            reached = np.flatnonzero(p[layer] > 0)
            assert reached[-1] + 1 == fd.receptive_field(dilations[:layer + 1])
    assert fd.receptive_field((1, 2, 4, 8)) == 31
    assert np.all(paths[1][-1][:31] > 0)                         # doubling: no holes
    assert np.all(paths[2][-1][1:13:2] == 0)                    # equal dilations: gridding
    np.testing.assert_array_equal(paths[0][-1][:9], [1, 4, 10, 16, 19, 16, 10, 4, 1])


def test_figure_drawn_from_keras_then_yours(capsys):
    import matplotlib.pyplot as plt

    from convbook import figures_dilation as fd

    stacks = STACKS[:2]
    keras_paths = fd.keras_receptive_paths(stacks)
    fig = fd.receptive_field_figure(stacks, keras=keras_paths, missing="Drawn from Keras's "
                                    "answer — your dilate_kernel is not written yet")
    titles = [ax.get_title() for ax in fig.axes]
    assert len(titles) == 2 and all(t.startswith("Keras: ") for t in titles)
    assert capsys.readouterr().out == ""
    plt.close(fig)

    def layer(h, d):     # the right pieces, in numpy: a 1 x 3 kernel of ones, dilated
        taps = _zeros_between(fd.ones_kernel(), 1, d)[0, :, 0, 0]
        width = h.shape[2] - taps.size + 1
        out = np.array([[h[b, 0, j:j + taps.size, 0] @ taps for j in range(width)]
                        for b in range(h.shape[0])])
        return out[:, None, :, None]

    right = fd.receptive_paths(layer, stacks)
    fig = fd.receptive_field_figure(stacks, right, keras=keras_paths)
    assert len(fig.axes) == 2 and capsys.readouterr().out == ""
    plt.close(fig)

    wrong = fd.receptive_paths(lambda h, d: layer(h, max(d - 1, 1)), stacks)   # one zero short
    fig = fd.receptive_field_figure(stacks, wrong, keras=keras_paths)
    out = capsys.readouterr().out
    assert "Your dilate_kernel disagrees with Keras" in out
    assert any(ax.get_title().startswith("yours ≠ Keras") for ax in fig.axes)
    assert any(ax.get_title().startswith("Keras: ") for ax in fig.axes)
    plt.close(fig)


def _run_figure_cell(folder, monkeypatch, capsys):
    """Run the chapter's figure cell as the reader's kernel does, in `folder` (which holds
    convlib/); return the one figure it drew."""
    import matplotlib.pyplot as plt
    import nbformat

    plt.close("all")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    (source,) = [c.source for c in nb.cells
                 if c.metadata["nbgrader"]["grade_id"] == "ch03-figure-receptive"]
    monkeypatch.chdir(folder)
    exec(source, {"np": np})
    numbers = plt.get_fignums()
    assert len(numbers) == 1, capsys.readouterr().out
    return plt.figure(numbers[0])


def test_figure_cell_on_the_stubs_draws_keras_answer(tmp_path, monkeypatch, capsys):
    import matplotlib.pyplot as plt

    assert (ROOT / "convlib" / "__init__.py").exists(), "run `python -m convbook.build` first"
    shutil.copytree(ROOT / "convlib", tmp_path / "convlib",
                    ignore=shutil.ignore_patterns("__pycache__"))
    fig = _run_figure_cell(tmp_path, monkeypatch, capsys)
    banner = " ".join(fig._suptitle.get_text().split())
    assert banner.startswith("Drawn from Keras's answer — your dilate_kernel is not written "
                             "yet (exercise 3.1)"), banner
    titles = [ax.get_title() for ax in fig.axes]
    assert titles and all(t.startswith("Keras: ") for t in titles), titles
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and out.startswith("No figure yet from your convlib: "), out
    assert "Implement dilate_kernel" in out, out
    plt.close("all")


def test_figure_cell_on_the_reference_draws_yours(tmp_path, monkeypatch, capsys):
    import matplotlib.pyplot as plt

    shutil.copytree(SOLUTIONS / "convlib", tmp_path / "convlib",
                    ignore=shutil.ignore_patterns("__pycache__"))
    fig = _run_figure_cell(tmp_path, monkeypatch, capsys)
    titles = [ax.get_title() for ax in fig.axes]
    assert len(titles) == 2 and not any("Keras" in t or "≠" in t for t in titles), titles
    assert titles[1].endswith("receptive field 31 px"), titles
    assert capsys.readouterr().out == ""
    plt.close("all")
