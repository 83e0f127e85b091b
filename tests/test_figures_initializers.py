"""Chapter 06's figures (convbook/figures_initializers.py).

* `glorot_histogram_figure`: drawn from draws that agree with Keras's, no banner; from draws a
  misconception gives (the notes' variance for GlorotUniform), a red banner naming
  GlorotUniform and the failing statistic, and that panel titled "yours ≠ Keras"; with
  `missing=`, Keras's draws alone under the banner, panels titled "Keras: ...".
* `keras_depth_profiles` / `depth_figure`: the stack behaves as the chapter says (Glorot keeps
  a linear stack with fan_in = fan_out, He doubles its mean square, relu halves Glorot's).
* `stack_comparison_figure`, with and without the reader's lines.
* end to end: the chapter's histogram cell (its source, read from solutions/) run against a
  convlib holding the notes' mistake prints the banner, and against the stubs prints the one
  "No figure yet" line and still draws.
"""
import contextlib
import io
import shutil
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
import pytest  # noqa: E402

from convbook import figures_initializers as fi  # noqa: E402
from convbook.checks import initializers as checks  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "solutions" / "06_kernel_initializer.ipynb"
SHAPE = (3, 3, 16, 32)


@pytest.fixture(autouse=True)
def _close_figures():
    plt.close("all")
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def keras_glorot():
    return fi.keras_glorot_draws(SHAPE, seed=3)


def _titles(fig):
    return [ax.get_title() for ax in fig.axes]


def _suptitle(fig):
    return fig._suptitle.get_text() if fig._suptitle is not None else ""


def test_histogram_agreeing_draws_have_no_banner(keras_glorot, capsys):
    draws, laws = keras_glorot
    yours = {name: checks.keras_draws(name, {}, SHAPE, [11]) for name in fi.GLOROT}
    fig = fi.glorot_histogram_figure(SHAPE, yours, keras=draws, laws=laws)
    assert _suptitle(fig) == ""
    assert all("≠" not in t and not t.startswith("Keras") for t in _titles(fig))
    assert capsys.readouterr().out == ""
    for ax in fig.axes:
        assert ax.get_xlabel() == "weight value" and ax.get_ylabel() == "density"


def test_histogram_with_the_notes_variance_shows_the_banner(keras_glorot, capsys):
    draws, laws = keras_glorot
    yours = {name: checks.keras_draws(name, {}, SHAPE, [11]) for name in fi.GLOROT}
    yours["GlorotUniform"] = yours["GlorotUniform"] * 3 ** 0.5        # variance 6/(in+out)
    fig = fi.glorot_histogram_figure(SHAPE, yours, keras=draws, laws=laws)
    banner = _suptitle(fig)
    assert "Your GlorotUniform disagrees with Keras" in banner and "outside" in banner
    assert "GlorotNormal" not in banner
    titles = _titles(fig)
    assert "≠ Keras" in titles[1] and "≠" not in titles[0]
    assert "⚠ Your GlorotUniform disagrees" in capsys.readouterr().out


def test_histogram_from_keras_alone(keras_glorot):
    draws, laws = keras_glorot
    fig = fi.glorot_histogram_figure(SHAPE, keras=draws, laws=laws,
                                     missing="Drawn from Keras's answer — not yet")
    assert _suptitle(fig).startswith("Drawn from Keras's answer")
    assert all(t.startswith("Keras: ") for t in _titles(fig))


def test_depth_profiles_behave_as_the_chapter_says():
    profiles = fi.keras_depth_profiles(depth=4, channels=32, size=16)
    assert set(profiles) == {None, "relu"}
    linear, relu = profiles[None], profiles["relu"]
    assert all(len(rms) == 5 for rms in linear.values())
    # fan_in = fan_out: Glorot keeps the linear stack; He doubles its mean square per layer
    assert 0.7 < linear["GlorotUniform"][-1] < 1.4
    assert 2.0 < linear["HeNormal"][-1] < 8.0                 # about sqrt(2)**4 = 4
    assert relu["GlorotUniform"][-1] < 0.5 * relu["HeNormal"][-1]
    fig = fi.depth_figure(profiles, channels=32)
    assert len(fig.axes) == 2 and all(ax.get_yscale() == "log" for ax in fig.axes)
    assert fig.axes[0].get_ylabel() and all(ax.get_xlabel() for ax in fig.axes)


def test_stack_comparison_figure():
    kernels = fi.keras_stack_kernels(depth=3, channels=8)
    keras_rms = {name: fi.keras_stack_rms(k, size=12) for name, k in kernels.items()}
    fig = fi.stack_comparison_figure(keras_rms, keras=keras_rms)
    assert len(fig.axes[0].get_lines()) >= 4 and _suptitle(fig) == ""
    fig = fi.stack_comparison_figure(keras=keras_rms, missing="Drawn from Keras's answer — x")
    assert _titles(fig)[0].startswith("Keras: ")


# ------------------------------------------------------------------ the chapter's cell

def _cell(grade_id):
    for cell in nbformat.read(NOTEBOOK, as_version=4).cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            return cell.source
    raise KeyError(grade_id)


def _run_histogram_cell(folder, monkeypatch):
    monkeypatch.chdir(folder)
    namespace = {}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec("import math\nimport numpy as np\n"
             "from convbook import figures, figures_initializers, oracle\n"
             + _cell("ch06-figure-histograms"), namespace)
    return out.getvalue(), plt.get_fignums()


def test_histogram_cell_names_the_notes_mistake(tmp_path, monkeypatch):
    shutil.copytree(ROOT / "solutions" / "convlib", tmp_path / "convlib",
                    ignore=shutil.ignore_patterns("__pycache__"))
    path = tmp_path / "convlib" / "initializers.py"
    path.write_text(path.read_text() + '''

_right_variance_scaling_spread = variance_scaling_spread


def variance_scaling_spread(scale, mode, distribution, fan_in, fan_out):
    spread = _right_variance_scaling_spread(scale, mode, distribution, fan_in, fan_out)
    return spread * 3 ** 0.5 if distribution == "uniform" else spread
''')
    out, figs = _run_histogram_cell(tmp_path, monkeypatch)
    assert "⚠ Your GlorotUniform disagrees with Keras" in out and figs


def test_histogram_cell_on_the_stubs_draws_keras_alone(tmp_path, monkeypatch):
    assert (ROOT / "convlib" / "__init__.py").exists(), "run `python -m convbook.build` first"
    shutil.copytree(ROOT / "convlib", tmp_path / "convlib",
                    ignore=shutil.ignore_patterns("__pycache__"))
    out, figs = _run_histogram_cell(tmp_path, monkeypatch)
    assert out.startswith("No figure yet from your convlib") and out.count("\n") == 1, out
    assert "not implemented yet" in out and figs
