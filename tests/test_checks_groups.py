"""Chapter 04's check functions (convbook/checks/groups.py) and figure
(convbook/figures_groups.py): right, wrong and unfinished convlibs.

* the reference solutions/convlib passes every check, visible and hidden, printing one line
  each and nothing on stderr;
* the generated stubs (convlib/ at the repository root, `python -m convbook.build`) fail
  every check cleanly, saying what is not implemented;
* a finished grouped_conv2d over an unfinished conv2d_valid: the feedback names conv2d_valid;
* a fake student convlib holding one known wrong idea (the reference with one function
  patched) fails with feedback naming that misconception (`record.misconception`);
* the figure's Keras data is the block-diagonal connectivity, and the figure is drawn from
  Keras alone, or with a banner when the reader's answer disagrees.
"""
import json
from pathlib import Path

import numpy as np
import pytest
from check_support import (assert_every_misconception_tested, assert_mistake_named,
                           assert_reference_passes, assert_stubs_fail_cleanly, fake_convlib)
from convbook import mistakes

from convbook.checking import CheckFailure
from convbook.checks import groups as checks

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions"
NOTEBOOK = SOLUTIONS / "04_groups.ipynb"

CHECKS = [checks.check_grouped_conv2d, checks.check_kernel_param_count]
NAMES = [c.__name__ for c in CHECKS]
FIRST_STUB = {"check_grouped_conv2d": "groups.grouped_conv2d",
              "check_kernel_param_count": "groups.kernel_param_count"}


@pytest.mark.parametrize("check", CHECKS, ids=NAMES)
def test_reference_passes(check, monkeypatch, capfd):
    assert_reference_passes(check, monkeypatch, capfd)


@pytest.mark.parametrize("check", CHECKS, ids=NAMES)
def test_stubs_fail_cleanly(check, monkeypatch, capfd):
    assert_stubs_fail_cleanly(check, FIRST_STUB[check.__name__], monkeypatch, capfd)


def test_unfinished_conv2d_valid_is_named(tmp_path, monkeypatch, capfd):
    """grouped_conv2d written, chapter 00's conv2d_valid still a stub: the feedback says that
    the stub is conv2d_valid, in correlate.py, not grouped_conv2d."""
    fake_convlib(tmp_path, "correlate.py", "\n\ndef conv2d_valid(x, kernel):\n"
                 "    # YOUR CODE HERE\n    raise NotImplementedError()\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CheckFailure) as info:
        checks.check_grouped_conv2d()
    message = str(info.value)
    assert info.value.record.kind == "not_implemented", info.value.record
    assert ("`groups.grouped_conv2d` calls `correlate.conv2d_valid`, which is not implemented"
            in message and "convlib/correlate.py" in message), message
    assert capfd.readouterr().err == ""


def test_error_inside_conv2d_valid_is_located(tmp_path, monkeypatch, capfd):
    """An exception raised inside the reader's conv2d_valid: the feedback points at
    convlib/correlate.py, where it was raised."""
    fake_convlib(tmp_path, "correlate.py", "\n\ndef conv2d_valid(x, kernel):\n"
                 "    raise IndexError('tuple index out of range')\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CheckFailure) as info:
        checks.check_grouped_conv2d()
    message = str(info.value)
    assert info.value.record.kind == "exception", info.value.record
    assert "IndexError" in message and "convlib/correlate.py" in message, message
    assert capfd.readouterr().err == ""


def test_grouped_conv2d_uses_conv2d_valid(tmp_path, monkeypatch, capfd):
    """The exercise is built on the reader's own conv2d_valid: a wrong conv2d_valid (a true
    convolution, kernel flipped) makes grouped_conv2d wrong too."""
    fake_convlib(tmp_path, "correlate.py", "\n\n_right_conv2d_valid = conv2d_valid\n\n\n"
                 "def conv2d_valid(x, kernel):\n"
                 "    return _right_conv2d_valid(x, np.asarray(kernel)[::-1, ::-1])\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CheckFailure) as info:
        checks.check_grouped_conv2d()
    assert info.value.record.kind == "wrong_values", info.value.record
    assert capfd.readouterr().err == ""


# ------------------------------------------------------------------ misconceptions
# The wrong implementations and the check that must name each: the catalogue,
# convbook/mistakes/groups.py (a body may call the reference as `_right_<function>`).

MISCONCEPTIONS = mistakes.table("groups")


@pytest.mark.parametrize("name", list(MISCONCEPTIONS))
def test_misconception_is_named(name, tmp_path, monkeypatch, capfd):
    assert_mistake_named(MISCONCEPTIONS[name], tmp_path, monkeypatch, capfd)


def test_every_misconception_is_tested():
    assert_every_misconception_tested(checks, MISCONCEPTIONS)


def test_kernel_param_count_keras_numbers():
    """The notes' example: 3x3, 32 -> 64 channels: 18432 ungrouped, 9216 with groups=2, and
    the bias is 64 either way."""
    assert checks.keras_kernel_param_count((3, 3), 32, 64, 1) == 18432
    assert checks.keras_kernel_param_count((3, 3), 32, 64, 2) == 9216


def test_notebook_has_two_checks_and_one_answer():
    nb = json.loads(NOTEBOOK.read_text())
    metas = [c["metadata"]["nbgrader"] for c in nb["cells"]]
    assert [m["points"] for m in metas if m.get("grade") and not m.get("solution")] == [3, 2]
    assert [m["points"] for m in metas if m.get("solution")] == [3]


# ------------------------------------------------------------------------------ figure

SETTINGS = [(8, 8, 1), (8, 8, 2), (8, 8, 4), (8, 8, 8)]     # (in_channels, filters, groups)


def test_keras_connectivity_is_block_diagonal():
    from convbook import figures_groups as fg

    for (c_in, filters, groups), links in zip(SETTINGS, fg.keras_connectivity(SETTINGS)):
        assert links.shape == (filters, c_in)
        expected = np.array([[o // (filters // groups) == c // (c_in // groups)
                              for c in range(c_in)] for o in range(filters)], dtype=float)
        np.testing.assert_array_equal(links != 0, expected != 0, err_msg=str(groups))


def test_figure_drawn_from_keras_then_yours(capsys):
    import matplotlib.pyplot as plt

    from convbook import figures_groups as fg

    keras_links = fg.keras_connectivity(SETTINGS)
    fig = fg.connectivity_figure(SETTINGS, keras=keras_links, missing="Drawn from Keras's "
                                 "answer — your grouped_conv2d is not written yet")
    titles = [ax.get_title() for ax in fig.axes]
    assert len(titles) == 4 and all(t.startswith("Keras: ") for t in titles), titles
    assert capsys.readouterr().out == ""
    plt.close(fig)

    fig = fg.connectivity_figure(SETTINGS, keras_links, keras=keras_links)
    assert len(fig.axes) == 4 and capsys.readouterr().out == ""
    plt.close(fig)

    wrong = [links[::-1] for links in keras_links]      # the groups the wrong way round
    fig = fg.connectivity_figure(SETTINGS, wrong, keras=keras_links)
    out = capsys.readouterr().out
    assert "Your grouped_conv2d disagrees with Keras" in out
    assert any(ax.get_title().startswith("yours ≠ Keras") for ax in fig.axes)
    assert any(ax.get_title().startswith("Keras: ") for ax in fig.axes)
    plt.close(fig)
