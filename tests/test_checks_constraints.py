"""Chapter 11's check functions (convbook/checks/constraints.py): right, wrong and unfinished
convlibs.

* the reference solutions/convlib passes every check, visible and hidden, printing one line
  each and nothing on stderr;
* the generated stubs (convlib/ at the repository root) fail every check cleanly, saying
  which `__call__` is not implemented;
* a fake student convlib holding one known wrong idea (the reference with one class's
  `__call__` replaced) fails with feedback naming that misconception.
No check here is statistical (the cases are fixed arrays), so no false-failure rate applies.
"""
import textwrap
from pathlib import Path

import pytest

from check_support import (assert_every_misconception_tested, assert_mistake_named,
                           assert_reference_passes, assert_stubs_fail_cleanly)
from convbook import mistakes
from convbook.checks import constraints as checks
from convbook.mistakes import wrong_module_text

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions"

CHECKS = [checks.check_max_norm, checks.check_unit_norm, checks.check_min_max_norm,
          checks.check_non_neg]
NAMES = [c.__name__ for c in CHECKS]
FIRST_STUB = {
    "check_max_norm": "constraints.MaxNorm.__call__",
    "check_unit_norm": "constraints.UnitNorm.__call__",
    "check_min_max_norm": "constraints.MinMaxNorm.__call__",
    "check_non_neg": "constraints.NonNeg.__call__",
}


@pytest.mark.parametrize("check", CHECKS, ids=NAMES)
def test_reference_passes(check, monkeypatch, capfd):
    assert_reference_passes(check, monkeypatch, capfd)


@pytest.mark.parametrize("check", CHECKS, ids=NAMES)
def test_stubs_fail_cleanly(check, monkeypatch, capfd):
    assert_stubs_fail_cleanly(check, FIRST_STUB[check.__name__], monkeypatch, capfd)


# ------------------------------------------------------------------ misconceptions
# Each wrong implementation replaces a class's __call__(self, w); it runs in
# convlib/constraints.py, so it sees _as_float_array, _resolve_axis, _norms, EPSILON, np. The
# catalogue: convbook/mistakes/constraints.py (each body starts with PREAMBLE's lines).

PREAMBLE = """
w = _as_float_array(w)
axes = _resolve_axis(getattr(self, "axis", None), w.shape)
"""

MISCONCEPTIONS = mistakes.table("constraints")


def replaced_call(class_name, body):
    """Code that replaces `<class_name>.__call__` in convlib/constraints.py by PREAMBLE and
    `body` (the catalogue's rule)."""
    code = textwrap.dedent(PREAMBLE).strip("\n") + "\n" + textwrap.dedent(body).strip("\n")
    return wrong_module_text("", f"{class_name}.__call__", code, "self, w")


@pytest.mark.parametrize("entry", MISCONCEPTIONS.values(), ids=list(MISCONCEPTIONS))
def test_misconception_is_named(entry, tmp_path, monkeypatch, capfd):
    assert_mistake_named(entry, tmp_path, monkeypatch, capfd)


def test_every_misconception_is_tested():
    assert_every_misconception_tested(checks, MISCONCEPTIONS)


def test_axis_zero_is_not_per_filter():
    """Mistake 7 of the notes, with Keras itself: MaxNorm(axis=0) on a conv kernel bounds
    the norms of the kernel's rows-vectors, and whole filters stay far above max_value."""
    import numpy as np

    rng = np.random.default_rng(0)
    kernel = rng.standard_normal((3, 3, 8, 4)).astype(np.float32)
    rows = checks.keras_constraint("MaxNorm", kernel, max_value=1.0, axis=0)
    filters = checks.keras_constraint("MaxNorm", kernel, max_value=1.0, axis=[0, 1, 2])
    per_filter = lambda w: np.sqrt(np.sum(w.astype(np.float64) ** 2, axis=(0, 1, 2)))
    assert np.all(per_filter(filters) <= 1.0 + 1e-5)
    assert np.all(per_filter(rows) > 3.0)            # about sqrt(3 * 8) = 4.9 columns of norm 1
