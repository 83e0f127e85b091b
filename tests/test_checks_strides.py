"""Chapter 01's check functions (convbook/checks/strides.py) and figure
(convbook/figures_strides.py): right, wrong and unfinished convlibs.

* the reference solutions/convlib passes every check, visible and hidden, printing one line
  each and nothing on stderr;
* the generated stubs (convlib/ at the repository root, `python -m convbook.build`) fail
  every check cleanly, saying what is not implemented;
* a fake student convlib holding one known wrong idea (the reference with one function
  patched) fails with feedback naming that misconception (`record.misconception`);
* every check cell passes as the first code run in a fresh Python process, with nothing on
  stderr (tests/test_check_cells.py, for every chapter);
* the figure's Keras data is right (window counts for s = 1, 2, 3), and the figure is drawn
  from Keras alone, or with a banner when the reader's answer disagrees.
"""
import json
from pathlib import Path

import numpy as np
import pytest

from convbook.checking import CheckFailure
from check_support import (assert_every_misconception_tested, assert_mistake_named,
                           assert_reference_passes, assert_stubs_fail_cleanly, convlib_with)
from convbook import mistakes
from convbook.checks import strides as checks

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions"
NOTEBOOK = SOLUTIONS / "01_strides.ipynb"

CHECKS = [checks.check_output_length, checks.check_subsample]
NAMES = [c.__name__ for c in CHECKS]
FIRST_STUB = {"check_output_length": "output_size.output_length",
              "check_subsample": "dilation.subsample"}


@pytest.mark.parametrize("check", CHECKS, ids=NAMES)
def test_reference_passes(check, monkeypatch, capfd):
    assert_reference_passes(check, monkeypatch, capfd)


@pytest.mark.parametrize("check", CHECKS, ids=NAMES)
def test_stubs_fail_cleanly(check, monkeypatch, capfd):
    assert_stubs_fail_cleanly(check, FIRST_STUB[check.__name__], monkeypatch, capfd)


# ------------------------------------------------------------------ misconceptions
# The wrong implementations and the check that must name each: the catalogue,
# convbook/mistakes/strides.py (a body may call the reference as `_right_<function>`).

MISCONCEPTIONS = mistakes.table("strides")


@pytest.mark.parametrize("name", list(MISCONCEPTIONS))
def test_misconception_is_named(name, tmp_path, monkeypatch, capfd):
    assert_mistake_named(MISCONCEPTIONS[name], tmp_path, monkeypatch, capfd)


def test_every_misconception_is_tested():
    assert_every_misconception_tested(checks, MISCONCEPTIONS)


def test_output_length_as_float_is_refused(tmp_path, monkeypatch, capfd):
    """Right values as floats (np.ceil): not a misconception, but not an int either."""
    monkeypatch.chdir(convlib_with(tmp_path, "output_size.py", "output_length", """
        return float(_right_output_length(*args))
        """))
    with pytest.raises(CheckFailure) as info:
        checks.check_output_length()
    assert info.value.record.kind == "wrong_type" and "should return an int" in str(info.value)
    assert capfd.readouterr().err == ""


def test_notebook_has_two_checks_and_one_answer():
    nb = json.loads(NOTEBOOK.read_text())
    metas = [c["metadata"]["nbgrader"] for c in nb["cells"]]
    assert [m["points"] for m in metas if m.get("grade") and not m.get("solution")] == [2, 2]
    assert [m["points"] for m in metas if m.get("solution")] == [3]


# ------------------------------------------------------------------------------ figure

SETTINGS = [(11, k, s) for k in (2, 3) for s in (1, 2, 3)]


def test_keras_window_counts():
    from convbook import figures_strides as fs

    counts = fs.keras_window_counts(SETTINGS)
    # each count from the definition: window w reads pixels w*s .. w*s + k - 1
    for (n, k, s), theirs in zip(SETTINGS, counts):
        expected = np.zeros(n)
        for w in range((n - k) // s + 1):
            expected[w * s:w * s + k] += 1
        np.testing.assert_array_equal(theirs, expected, err_msg=str((n, k, s)))
    assert fs.never_read(counts[2]) == [2, 5, 8]          # k=2 < s=3: the gaps
    assert fs.never_read(counts[5]) == [9, 10]            # k=3, s=3: the tail
    assert fs.never_read(counts[4]) == []                 # k=3 > s=2: all read


def test_figure_drawn_from_keras_then_yours(capsys):
    import matplotlib.pyplot as plt

    from convbook import figures_strides as fs

    keras_counts = fs.keras_window_counts(SETTINGS)
    fig = fs.window_counts_figure(SETTINGS, keras=keras_counts, missing="Drawn from Keras's "
                                  "answer — your subsample is not written yet")
    titles = [ax.get_title() for ax in fig.axes]
    assert len(titles) == 6 and all(t.startswith("Keras: ") for t in titles)
    assert capsys.readouterr().out == ""
    plt.close(fig)

    hits = fs.stride1_window_hits(SETTINGS)
    right = [fs.counts_from_hits(h[:, :, ::s]) for h, (_, _, s) in zip(hits, SETTINGS)]
    fig = fs.window_counts_figure(SETTINGS, right, keras=keras_counts)
    assert len(fig.axes) == 6 and capsys.readouterr().out == ""
    plt.close(fig)

    wrong = [fs.counts_from_hits(h[:, :, s - 1::s]) for h, (_, _, s) in zip(hits, SETTINGS)]
    fig = fs.window_counts_figure(SETTINGS, wrong, keras=keras_counts)
    out = capsys.readouterr().out
    assert "Your subsample disagrees with Keras" in out
    assert any(ax.get_title().startswith("yours ≠ Keras") for ax in fig.axes)
    assert any(ax.get_title().startswith("Keras: ") for ax in fig.axes)
    plt.close(fig)
