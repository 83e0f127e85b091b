"""Chapter 09's check functions (convbook/checks/regularizer_gradients.py): right, wrong and
unfinished convlibs.

* the reference solutions/convlib passes every check, visible and hidden, printing one line
  each and nothing on stderr;
* the generated stubs fail every check cleanly, saying what is not implemented;
* a fake student convlib holding one known wrong idea (the reference with one method of a
  regularizer class replaced) fails with feedback naming that misconception;
* Keras's gradient at a weight exactly 0 is 0 for L1 (sign(0) = 0), as the chapter says;
* every check cell of solutions/09_bias_regularizer.ipynb is there, visible and hidden.

The checks compare deterministic numbers (no random statistic), so a correct solution never
fails them: its false-failure rate is 0 for any seed.
"""
import json
from pathlib import Path

import numpy as np
import pytest

from check_support import (assert_every_misconception_tested, assert_mistake_named,
                           assert_reference_passes, assert_stubs_fail_cleanly)
from convbook import mistakes
from convbook.checks import regularizer_gradients as checks

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "solutions" / "09_bias_regularizer.ipynb"

CHECKS = [checks.check_l1_gradient, checks.check_l2_gradient, checks.check_l1l2_gradient]
NAMES = [c.__name__ for c in CHECKS]
FIRST_STUB = {"check_l1_gradient": "regularizers.L1.gradient",
              "check_l2_gradient": "regularizers.L2.gradient",
              "check_l1l2_gradient": "regularizers.L1L2.gradient"}


@pytest.mark.parametrize("check", CHECKS, ids=NAMES)
def test_reference_passes(check, monkeypatch, capfd):
    assert_reference_passes(check, monkeypatch, capfd)


@pytest.mark.parametrize("check", CHECKS, ids=NAMES)
def test_stubs_fail_cleanly(check, monkeypatch, capfd):
    assert_stubs_fail_cleanly(check, FIRST_STUB[check.__name__], monkeypatch, capfd)


# The wrong implementations (a regularizer class's gradient replaced) and the check that
# must name each: the catalogue, convbook/mistakes/regularizer_gradients.py.
MISCONCEPTIONS = mistakes.table("regularizer_gradients")


@pytest.mark.parametrize("name", list(MISCONCEPTIONS))
def test_misconception_is_named(name, tmp_path, monkeypatch, capfd):
    assert_mistake_named(MISCONCEPTIONS[name], tmp_path, monkeypatch, capfd)


def test_misconception_ids_are_unique():
    found = [v for v in vars(checks).values() if isinstance(v, checks.Misconception)]
    assert len({m.id for m in found}) == len(found) >= 6


def test_every_misconception_is_tested():
    assert_every_misconception_tested(checks, MISCONCEPTIONS)


def test_keras_gradient_facts():
    """L1's gradient at 0 is 0 in TensorFlow; L2's is 2*l2*w (no 1/2); L1L2() has none."""
    x = np.array([-1.5, 0.0, 2.0], np.float32)
    np.testing.assert_allclose(checks.keras_penalty_gradient("L1", x, l1=0.3), [-0.3, 0, 0.3])
    np.testing.assert_allclose(checks.keras_penalty_gradient("L2", x, l2=0.3), [-0.9, 0, 1.2],
                               rtol=1e-6)
    np.testing.assert_array_equal(checks.keras_penalty_gradient("L1L2", x), np.zeros(3))


def test_the_notebook_has_a_check_cell_per_check():
    cells = json.loads(NOTEBOOK.read_text())["cells"]
    sources = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code"
                        and c["metadata"].get("nbgrader", {}).get("grade"))
    for check in CHECKS:
        assert f"checks.{check.__name__}()" in sources, check.__name__
        assert f"checks.{check.__name__}(hidden=True)" in sources, check.__name__
