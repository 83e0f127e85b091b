"""Chapter 05's check functions (convbook/checks/bias.py): right, wrong and unfinished convlibs.

* the reference solutions/convlib passes every check, visible and hidden, printing one line
  each and nothing on stderr;
* the generated stubs (convlib/ at the repository root, `python -m convbook.build`) fail
  every check cleanly, saying what is not implemented;
* a fake student convlib holding one known wrong idea (the reference with one function
  patched) fails with feedback naming that misconception (`record.misconception`);
* every check cell of solutions/05_bias_and_activation.ipynb passes as the first code run in
  a fresh Python process, with nothing on stderr (tests/test_check_cells.py, for every chapter).
"""

import pytest

from check_support import (assert_every_misconception_tested, assert_mistake_named,
                           assert_reference_passes,
                           assert_stubs_fail_cleanly)
from convbook import mistakes
from convbook.checks import bias as checks


CHECKS = [
    checks.check_add_bias,
    checks.check_relu,
    checks.check_sigmoid,
    checks.check_softmax,
    checks.check_gelu,
    checks.check_add_bias_and_activate,
    checks.check_compose_linear_convs,
]
NAMES = [c.__name__ for c in CHECKS]


@pytest.mark.parametrize("check", CHECKS, ids=NAMES)
def test_reference_passes(check, monkeypatch, capfd):
    assert_reference_passes(check, monkeypatch, capfd)


FIRST_STUB = {
    "check_add_bias": "bias.add_bias",
    "check_relu": "activations.relu",
    "check_sigmoid": "activations.sigmoid",
    "check_softmax": "activations.softmax",
    "check_gelu": "activations.gelu",
    "check_add_bias_and_activate": "bias.add_bias_and_activate",
    "check_compose_linear_convs": "bias.compose_linear_convs",
}


@pytest.mark.parametrize("check", CHECKS, ids=NAMES)
def test_stubs_fail_cleanly(check, monkeypatch, capfd):
    assert_stubs_fail_cleanly(check, FIRST_STUB[check.__name__], monkeypatch, capfd)


# ------------------------------------------------------------------ misconceptions
# The wrong implementations and the check that must name each: the catalogue,
# convbook/mistakes/bias.py (a body may call the reference as `_right_<function>`).

MISCONCEPTIONS = mistakes.table("bias")


@pytest.mark.parametrize("name", list(MISCONCEPTIONS))
def test_misconception_is_named(name, tmp_path, monkeypatch, capfd):
    assert_mistake_named(MISCONCEPTIONS[name], tmp_path, monkeypatch, capfd)


def test_misconception_ids_are_unique():
    found = [v for v in vars(checks).values() if isinstance(v, checks.Misconception)]
    assert len({m.id for m in found}) == len(found) >= 3


def test_every_misconception_is_tested():
    assert_every_misconception_tested(checks, MISCONCEPTIONS)
