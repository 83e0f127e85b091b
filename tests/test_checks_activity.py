"""Chapter 10's check functions (convbook/checks/activity.py): right, wrong and unfinished
convlibs.

* the reference solutions/convlib passes both checks, visible and hidden, printing one line
  each and nothing on stderr;
* the generated stubs (convlib/ at the repository root) fail both checks cleanly, saying
  what is not implemented;
* a fake convlib holding one known wrong idea fails with feedback naming that misconception;
* chapters 08 and 09 (the regularizers' penalties and gradients) are not charged twice: a
  wrong L2 (with a 1/2) still lets a right activity_penalty pass, graded on the division
  alone, and the passing line says that L2 differs; an unwritten L2 makes the check say that
  the earlier chapter must be finished first;
* the Keras oracles: the layer divides by the batch (the same per-example outputs give the
  same loss for batches of 1 and 5), and its gradient is the regularizer's divided by the
  batch.
Nothing here is statistical: every comparison is deterministic.
"""
from pathlib import Path

import numpy as np
import pytest

from check_support import (assert_every_misconception_tested, assert_mistake_named,
                           assert_reference_passes, assert_stubs_fail_cleanly, fake_convlib)
from convbook import mistakes
from convbook.checking import CheckFailure
from convbook.checks import activity as checks

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions"

CHECKS = [checks.check_activity_penalty, checks.check_activity_penalty_gradient]
NAMES = [c.__name__ for c in CHECKS]


@pytest.mark.parametrize("check", CHECKS, ids=NAMES)
def test_reference_passes(check, monkeypatch, capfd):
    assert_reference_passes(check, monkeypatch, capfd)


FIRST_STUB = {
    "check_activity_penalty": "activity.activity_penalty",
    "check_activity_penalty_gradient": "activity.activity_penalty_gradient",
}


@pytest.mark.parametrize("check", CHECKS, ids=NAMES)
def test_stubs_fail_cleanly(check, monkeypatch, capfd):
    assert_stubs_fail_cleanly(check, FIRST_STUB[check.__name__], monkeypatch, capfd)


# ------------------------------------------------------------------ misconceptions
# The wrong implementations and the check that must name each: convbook/mistakes/activity.py.

MISCONCEPTIONS = mistakes.table("activity")


@pytest.mark.parametrize("name", list(MISCONCEPTIONS))
def test_misconception_is_named(name, tmp_path, monkeypatch, capfd):
    assert_mistake_named(MISCONCEPTIONS[name], tmp_path, monkeypatch, capfd)


def test_misconception_ids_are_unique():
    found = [v for v in vars(checks).values() if isinstance(v, checks.Misconception)]
    assert len({m.id for m in found}) == len(found) >= 3


def test_every_misconception_is_tested():
    assert_every_misconception_tested(checks, MISCONCEPTIONS)


# ------------------------------------------- chapter 08's regularizer is not charged twice

def _convlib_with_regularizers(tmp_path, extra):
    """A copy of the reference convlib whose regularizers.py ends with `extra` (code that
    replaces methods of the regularizer classes)."""
    return fake_convlib(tmp_path, "regularizers.py", "\n\n" + extra)


HALF_L2 = '''
def _half_penalty(self, x):
    x = _as_float_array(x)
    return float(x.dtype.type(0.5 * self.l2) * np.sum(np.square(x)))


def _half_gradient(self, x):
    x = _as_float_array(x)
    return (x.dtype.type(self.l2) * x).astype(x.dtype)


L2.__call__ = _half_penalty
L2.gradient = _half_gradient
'''

UNWRITTEN_L2 = '''
def _unwritten(self, x):
    raise NotImplementedError()


L2.__call__ = _unwritten
L2.gradient = _unwritten
'''


@pytest.mark.parametrize("check", CHECKS, ids=NAMES)
def test_wrong_chapter08_l2_still_passes_on_the_division(check, tmp_path, monkeypatch, capfd):
    monkeypatch.chdir(_convlib_with_regularizers(tmp_path, HALF_L2))
    check()
    out, err = capfd.readouterr()
    assert err == ""
    lines = out.strip().splitlines()
    assert len(lines) == 1 and "agree with Keras" in lines[0], out
    chapter = "08" if check is checks.check_activity_penalty else "09"
    assert f"your own L2 from chapter {chapter}" in lines[0], out


def test_wrong_chapter08_l2_does_not_hide_a_missing_division(tmp_path, monkeypatch, capfd):
    folder = _convlib_with_regularizers(tmp_path, HALF_L2)
    path = folder / "convlib" / "activity.py"
    path.write_text(path.read_text() + '''

def activity_penalty(regularizer, outputs):
    return float(regularizer(np.asarray(outputs)))
''')
    monkeypatch.chdir(folder)
    with pytest.raises(CheckFailure) as info:
        checks.check_activity_penalty()
    assert info.value.record.misconception == checks.NOT_DIVIDED.id, info.value.record


@pytest.mark.parametrize("check", CHECKS, ids=NAMES)
def test_unwritten_chapter08_l2_is_named_as_the_cause(check, tmp_path, monkeypatch, capfd):
    monkeypatch.chdir(_convlib_with_regularizers(tmp_path, UNWRITTEN_L2))
    with pytest.raises(CheckFailure) as info:
        check()
    message = str(info.value)
    chapter = "08" if check is checks.check_activity_penalty else "09"
    assert f"chapter {chapter}" in message and "L2" in message, message
    assert "Nothing is known to be wrong" in message, message
    assert info.value.record.kind == "not_implemented", info.value.record
    out, err = capfd.readouterr()
    assert err == ""


# ------------------------------------------------------------------------ the oracles

def test_keras_layer_divides_the_activity_loss_by_the_batch():
    rng = np.random.default_rng(0)
    one = np.maximum(rng.standard_normal((1, 3, 4, 2)), 0).astype(np.float32)
    five = np.repeat(one, 5, axis=0)
    l2 = checks.keras_regularizer("L2", l2=0.01)
    expected = 0.01 * float(np.sum(one.astype(np.float64) ** 2))
    assert checks.keras_activity_penalty(l2, one) == pytest.approx(expected, rel=1e-5)
    assert checks.keras_activity_penalty(l2, five) == pytest.approx(expected, rel=1e-5)
    assert checks.old_keras_activity_penalty(l2, five) == pytest.approx(5 * expected, rel=1e-5)


def test_keras_gradient_is_the_regularizers_divided_by_the_batch():
    rng = np.random.default_rng(1)
    y = np.maximum(rng.standard_normal((4, 2, 3, 3)), 0).astype(np.float32)
    for kind, factors in (("L2", {"l2": 0.03}), ("L1", {"l1": 0.02})):
        reg = checks.keras_regularizer(kind, **factors)
        np.testing.assert_allclose(checks.keras_activity_penalty_gradient(reg, y),
                                   checks.keras_regularizer_gradient(reg, y) / 4, rtol=1e-6)
