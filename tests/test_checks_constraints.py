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
import shutil
import textwrap
from pathlib import Path

import pytest

from check_support import (assert_every_misconception_tested, assert_reference_passes,
                           assert_stubs_fail_cleanly)
from convbook.checking import CheckFailure
from convbook.checks import constraints as checks

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
# (class, body of its new __call__(self, w), check, misconception). The body runs in
# convlib/constraints.py, so it sees _as_float_array, _resolve_axis, _norms, EPSILON, np.

PREAMBLE = """
w = _as_float_array(w)
axes = _resolve_axis(getattr(self, "axis", None), w.shape)
"""

MISCONCEPTIONS = {
    "max-norm-axis-zero": ("MaxNorm", """
        n = _norms(w, (0,))
        return w * (np.clip(n, 0, self.max_value) / (EPSILON + n))
        """, checks.check_max_norm, checks.AXIS_ZERO_ONLY),
    "max-norm-whole-tensor": ("MaxNorm", """
        n = np.sqrt(np.sum(w * w))
        return w * (np.clip(n, 0, self.max_value) / (EPSILON + n))
        """, checks.check_max_norm, checks.WHOLE_TENSOR),
    "max-norm-scales-up": ("MaxNorm", """
        n = _norms(w, axes)
        return w * (self.max_value / (EPSILON + n))
        """, checks.check_max_norm, checks.MAX_NORM_SCALES_UP),
    "max-norm-clips-entries": ("MaxNorm", """
        return np.clip(w, -self.max_value, self.max_value)
        """, checks.check_max_norm, checks.MAX_NORM_CLIPS_ENTRIES),
    "max-norm-no-epsilon": ("MaxNorm", """
        n = _norms(w, axes)
        with np.errstate(invalid="ignore", divide="ignore"):
            return w * (np.clip(n, 0, self.max_value) / n)
        """, checks.check_max_norm, checks.NO_EPSILON),
    "unit-norm-axis-zero": ("UnitNorm", """
        return w / (EPSILON + _norms(w, (0,)))
        """, checks.check_unit_norm, checks.AXIS_ZERO_ONLY),
    "unit-norm-whole-tensor": ("UnitNorm", """
        return w / (EPSILON + np.linalg.norm(w))
        """, checks.check_unit_norm, checks.WHOLE_TENSOR),
    "unit-norm-no-epsilon": ("UnitNorm", """
        with np.errstate(invalid="ignore", divide="ignore"):
            return w / _norms(w, axes)
        """, checks.check_unit_norm, checks.NO_EPSILON),
    "min-max-axis-zero": ("MinMaxNorm", """
        n = _norms(w, (0,))
        desired = self.rate * np.clip(n, self.min_value, self.max_value) + (1 - self.rate) * n
        return w * (desired / (EPSILON + n))
        """, checks.check_min_max_norm, checks.AXIS_ZERO_ONLY),
    "min-max-rate-ignored": ("MinMaxNorm", """
        n = _norms(w, axes)
        return w * (np.clip(n, self.min_value, self.max_value) / (EPSILON + n))
        """, checks.check_min_max_norm, checks.RATE_IGNORED),
    "min-max-rate-swapped": ("MinMaxNorm", """
        n = _norms(w, axes)
        desired = (1 - self.rate) * np.clip(n, self.min_value, self.max_value) + self.rate * n
        return w * (desired / (EPSILON + n))
        """, checks.check_min_max_norm, checks.RATE_SWAPPED),
    "min-max-clips-entries": ("MinMaxNorm", """
        return np.clip(w, self.min_value, self.max_value)
        """, checks.check_min_max_norm, checks.MIN_MAX_CLIPS_ENTRIES),
    "min-max-whole-tensor": ("MinMaxNorm", """
        n = np.sqrt(np.sum(w * w))
        desired = self.rate * np.clip(n, self.min_value, self.max_value) + (1 - self.rate) * n
        return w * (desired / (EPSILON + n))
        """, checks.check_min_max_norm, checks.WHOLE_TENSOR),
    "non-neg-abs": ("NonNeg", """
        return np.abs(w)
        """, checks.check_non_neg, checks.NON_NEG_ABS),
}


def replaced_call(class_name, body):
    """Code that replaces `<class_name>.__call__` in convlib/constraints.py by `body`."""
    code = textwrap.dedent(PREAMBLE).strip("\n") + "\n" + textwrap.dedent(body).strip("\n")
    return (f"\n\ndef _wrong_call(self, w):\n{textwrap.indent(code, '    ')}\n\n\n"
            f"{class_name}.__call__ = _wrong_call\n")


def make_fake_convlib(tmp_path, module, code):
    """A copy of the reference convlib with `code` appended to convlib/<module>."""
    shutil.copytree(SOLUTIONS / "convlib", tmp_path / "convlib",
                    ignore=shutil.ignore_patterns("__pycache__"))
    path = tmp_path / "convlib" / module
    path.write_text(path.read_text() + code)
    return tmp_path


@pytest.mark.parametrize("entry", MISCONCEPTIONS.values(), ids=list(MISCONCEPTIONS))
def test_misconception_is_named(entry, tmp_path, monkeypatch, capfd):
    class_name, body, check, misconception = entry
    monkeypatch.chdir(make_fake_convlib(tmp_path, "constraints.py",
                                        replaced_call(class_name, body)))
    with pytest.raises(CheckFailure) as info:
        check()
    assert misconception.text in str(info.value), f"feedback was\n{info.value}"
    record = info.value.record
    assert record.misconception == misconception.id, record
    assert record.check and record.case, record
    _, err = capfd.readouterr()
    assert err == "", f"wrote to stderr: {err!r}"


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
