"""Chapter 12's check (convbook/checks/optimizer.py): right, wrong and unfinished convlibs.

* the reference solutions/convlib passes, visible and hidden, one line each, nothing on stderr;
* the generated stubs fail cleanly, saying `optimizers.sgd_step` is not implemented;
* a fake convlib whose sgd_step holds one known wrong idea is told that idea;
* a correct sgd_step with a wrong or unfinished chapter-11 constraint still passes (the cases
  that would use that constraint are left out, and the pass line says so): a mistake in
  chapter 11 is not charged to the step a second time;
* Keras 3.15.1 drops `keras.Variable(..., constraint=...)` silently (why the oracle assigns
  the attribute).
No check here is statistical (the cases are fixed arrays), so no false-failure rate applies.
"""
import numpy as np
import pytest

from check_support import (assert_every_misconception_tested, assert_mistake_named,
                           assert_reference_passes, assert_stubs_fail_cleanly, fake_convlib)
from convbook import mistakes, oracle
from convbook.checks import optimizer as checks
from test_checks_constraints import replaced_call


def test_reference_passes(monkeypatch, capfd):
    assert_reference_passes(checks.check_sgd_step, monkeypatch, capfd)


def test_stubs_fail_cleanly(monkeypatch, capfd):
    assert_stubs_fail_cleanly(checks.check_sgd_step, "optimizers.sgd_step", monkeypatch, capfd)


# The wrong implementations and the check that must name each: the catalogue,
# convbook/mistakes/optimizer.py (a body may call the reference as `_right_<function>`).
MISCONCEPTIONS = mistakes.table("optimizer")


@pytest.mark.parametrize("entry", MISCONCEPTIONS.values(), ids=list(MISCONCEPTIONS))
def test_misconception_is_named(entry, tmp_path, monkeypatch, capfd):
    assert_mistake_named(entry, tmp_path, monkeypatch, capfd)


def test_every_misconception_is_tested():
    assert_every_misconception_tested(checks, MISCONCEPTIONS)


@pytest.mark.parametrize("class_name, body", [
    ("MaxNorm", "return w * (self.max_value / (EPSILON + _norms(w, (0,))))"),
    ("MinMaxNorm", "raise NotImplementedError"),
], ids=["wrong-max-norm", "unfinished-min-max-norm"])
def test_a_wrong_constraint_is_not_charged_to_the_step(class_name, body, tmp_path, monkeypatch,
                                                       capfd):
    monkeypatch.chdir(fake_convlib(tmp_path, "constraints.py", replaced_call(class_name, body)))
    checks.check_sgd_step()
    checks.check_sgd_step(hidden=True)
    out, err = capfd.readouterr()
    assert err == ""
    lines = out.strip().splitlines()
    assert len(lines) == 2 and all("agree with Keras" in line for line in lines), out
    assert f"No case used your {class_name}" in lines[0], out


def test_keras_variable_drops_the_constraint_keyword():
    keras = oracle.keras()
    variable = keras.Variable(np.ones(3, np.float32), constraint=keras.constraints.NonNeg())
    assert variable.constraint is None          # why keras_sgd_steps assigns the attribute
    weight = np.array([-1.0, 0.5, 2.0], np.float32)
    grad = np.array([1.0, 10.0, -1.0], np.float32)
    after = checks.keras_sgd_step(weight, grad, 0.1, ("NonNeg", {}))
    np.testing.assert_array_equal(after, np.maximum(weight - np.float32(0.1) * grad, 0))
