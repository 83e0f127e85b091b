"""Comparing a student's answer with Keras's: a check's outcome as data, and its message.

    from convbook.checking import CheckFailure, Misconception, compare, describe_case, passed
    TOP_LEFT = Misconception("padding.top_left",
                             "You padded on the top/left: Keras puts the extra pixel last.")
    compare(student_y, keras_y, case, check="padding.pad_spatial",
            misconceptions={TOP_LEFT: y_wrong})
    passed("conv2d", n_cases=12)            # prints one line on stdout

A failed comparison raises `CheckFailure` (an AssertionError, so nbgrader marks the cell as
failed). It carries a `Failure` record -- the check, the case, the kind of failure, the
largest error and where, the recognised misconception's id -- and its text is rendered from
that record: the case, what is wrong (type, shape, NaN, or the largest error with its index
and both values) and, when the student's answer is what a known misconception produces, that
misconception in one sentence. Autograde stores the records (convbook.grading); nothing here
writes to stderr.

Tolerance, per element: |actual - expected| <= atol_fraction * max(1, max|expected|)
+ rtol * |expected|. A misconception "matches" when the answer is within the same
tolerance of the wrong array (computed with the wrong array in place of the expected one).
"""
import dataclasses
import numbers

import numpy as np

__all__ = ["CheckFailure", "Failure", "Misconception", "describe_case", "compare", "matches",
           "returned_none", "passed", "render"]

# The kinds of failure a record can have.
KINDS = ("not_implemented", "exception", "timeout", "crash", "returned_none", "wrong_type",
         "wrong_shape", "non_finite", "wrong_values", "error")


@dataclasses.dataclass(frozen=True)
class Misconception:
    """A known wrong idea: a stable id (for records and class reports) and the sentence the
    student reads."""
    id: str
    text: str

    def __str__(self):
        return self.text


@dataclasses.dataclass
class Failure:
    """What went wrong in one check, as data. `detail` is the sentence about the answer
    (without the case); `render` turns the record into the feedback text."""
    check: str
    case: str
    kind: str
    detail: str
    largest_error: float = None
    index: tuple = None
    misconception: str = None          # Misconception.id
    misconception_text: str = None

    def as_dict(self):
        return {k: (list(v) if isinstance(v, tuple) else v)
                for k, v in dataclasses.asdict(self).items()}


def render(failure):
    """The feedback text of a record."""
    if failure.case:
        sep = "" if failure.detail.startswith("\n") else " "
        message = f"{failure.case}:{sep}{failure.detail}"
    else:
        message = failure.detail.lstrip("\n")
    if failure.misconception_text:
        message += "\n" + failure.misconception_text
    return message


class CheckFailure(AssertionError):
    """A check failed; str(failure) is the feedback for the student, `.record` the data."""

    def __init__(self, record):
        if isinstance(record, str):     # a message with no more structure than its text
            record = Failure(check="", case="", kind="error", detail=record)
        self.record = record
        super().__init__(render(record))

    def _render_traceback_(self):
        """What IPython (a notebook, nbgrader's Validate) shows: the feedback, no frames."""
        return [f"\x1b[0;31m{type(self).__name__}\x1b[0m: {self}"]


def fail(check, case, kind, detail, misconception=None, **fields):
    """Raise CheckFailure with a record."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    raise CheckFailure(Failure(
        check=check or "", case=case or "", kind=kind, detail=detail,
        misconception=getattr(misconception, "id", None),
        misconception_text=str(misconception) if misconception else None, **fields))


def returned_none(check, case, expected_text):
    """The one message for a function that returned None."""
    __tracebackhide__ = True
    fail(check, case, "returned_none",
         f"your function returned None (did you forget `return`?); expected {expected_text}.")


def _describe_value(value):
    if isinstance(value, np.ndarray):
        return f"<{value.dtype} array of shape {tuple(value.shape)}>"
    if isinstance(value, np.generic):
        return repr(value.item())
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)) and len(value) > 8:
        return f"<{type(value).__name__} of {len(value)} items>"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def describe_case(**args):
    """A one-line description of a case: name=value pairs, arrays as dtype and shape."""
    return ", ".join(f"{name}={_describe_value(value)}" for name, value in args.items())


def _fmt(value):
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (numbers.Integral, np.integer)):
        return str(int(value))
    if isinstance(value, (complex, np.complexfloating)):
        return f"{complex(value):.6g}"
    return f"{float(value):.6g}"


def _index(idx):
    return "" if idx == () else f" at index {tuple(int(i) for i in idx)}"


def _as_array(value):
    """The student's answer as a numeric array, or None (not a number / array / ragged)."""
    if isinstance(value, np.ndarray):
        arr = value
    elif isinstance(value, (numbers.Number, np.generic, list, tuple)) and \
            not isinstance(value, str):
        try:
            arr = np.asarray(value)
        except (ValueError, TypeError):
            return None
    else:
        return None
    if arr.dtype.kind not in "biufc":
        return None
    return arr


def _tolerance(expected, rtol, atol_fraction):
    scale = float(np.max(np.abs(expected))) if expected.size else 0.0
    if not np.isfinite(scale):
        finite = np.abs(expected[np.isfinite(expected)])
        scale = float(finite.max()) if finite.size else 0.0
    return atol_fraction * max(1.0, scale) + rtol * np.abs(expected)


def _close(actual, expected, rtol, atol_fraction):
    """Elementwise: within tolerance, or both the same non-finite value (inf == inf, NaN)."""
    with np.errstate(invalid="ignore", over="ignore"):
        err = np.abs(actual - expected)
        ok = err <= _tolerance(expected, rtol, atol_fraction)
    same_nonfinite = ~np.isfinite(expected) & (
        (np.isnan(expected) & np.isnan(actual)) | (actual == expected))
    return ok | same_nonfinite, err


def matches(actual, wrong, rtol, atol_fraction):
    """Is the student's answer what a wrong idea gives (same shape, within tolerance)?"""
    actual, wrong = _as_array(actual), _as_array(wrong)
    if actual is None or wrong is None or actual.shape != wrong.shape:
        return False
    work = np.complex128 if "c" in (actual.dtype.kind, wrong.dtype.kind) else np.float64
    ok, _ = _close(actual.astype(work), wrong.astype(work), rtol, atol_fraction)
    return bool(np.all(ok))


def _misconception(actual, misconceptions, rtol, atol_fraction):
    for misconception, wrong in (misconceptions or {}).items():
        if matches(actual, wrong, rtol, atol_fraction):
            return misconception
    return None


def compare(actual, expected, case, rtol=5e-4, atol_fraction=1e-5, misconceptions=None,
            check=""):
    """Raise CheckFailure unless `actual` matches the Keras answer `expected` elementwise.

    Args:
        actual: the student's answer (array, number, or nested tuples/lists of numbers).
        expected: Keras's answer. An integer or bool `expected` is compared exactly.
        case: a description of the case (a str, e.g. from describe_case, or a dict).
        rtol, atol_fraction: the tolerance (see the module docstring).
        misconceptions: {Misconception (or a plain sentence): the answer that idea gives}.
        check: the name of the check, kept in the failure record.
    """
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    if isinstance(case, dict):
        case = describe_case(**case)
    expected = np.asarray(expected)
    exact = expected.dtype.kind in "biu"
    if exact:
        rtol = atol_fraction = 0.0
    work = np.complex128 if expected.dtype.kind == "c" else np.float64
    expected_w = expected.astype(work)

    if actual is None:
        returned_none(check, case, _expected_kind(expected))
    arr = _as_array(actual)
    if arr is None:
        fail(check, case, "wrong_type", f"your function returned {_describe_returned(actual)}; "
                                        f"expected {_expected_kind(expected)}.")
    if arr.dtype.kind == "c" and expected.dtype.kind != "c":
        fail(check, case, "wrong_type", f"your answer has complex values (dtype {arr.dtype}); "
                                        f"expected real numbers, {_expected_kind(expected)}.")
    arr_w = arr.astype(work)
    misconception = _misconception(arr_w, misconceptions, rtol, atol_fraction)

    if arr.shape != expected.shape:
        fail(check, case, "wrong_shape", f"your answer has shape {tuple(arr.shape)}, but "
                                         f"Keras's has shape {tuple(expected.shape)}.",
             misconception)

    ok, err = _close(arr_w, expected_w, rtol, atol_fraction)
    if np.all(ok):
        return
    bad_nonfinite = ~np.isfinite(arr_w) & ~ok
    n_bad = int(np.count_nonzero(~ok))
    if np.any(bad_nonfinite):
        idx = np.unravel_index(int(np.argmax(bad_nonfinite)), arr.shape) if arr.ndim else ()
        what = "NaN" if np.isnan(arr_w[idx]) else "an infinite value"
        fail(check, case, "non_finite",
             f"your answer contains {what}{_index(idx)} (Keras: {_fmt(expected[idx])}); "
             f"{n_bad} of {arr.size} values are wrong.", misconception,
             index=tuple(int(i) for i in idx))
    err = np.where(ok, 0.0, np.nan_to_num(err, nan=np.inf, posinf=np.inf))
    idx = np.unravel_index(int(np.argmax(err)), arr.shape) if arr.ndim else ()
    if exact:
        detail = "values must match exactly"
    else:
        detail = f"allowed {_fmt(_tolerance(expected_w, rtol, atol_fraction)[idx])}"
    if arr.size == 1:
        head = f"your answer differs from Keras's by {_fmt(err[idx])}{_index(idx)}"
    else:
        head = (f"{n_bad} of {arr.size} values differ from Keras; the largest error is "
                f"{_fmt(err[idx])}{_index(idx)}")
    fail(check, case, "wrong_values", f"{head}: you have {_fmt(arr[idx])}, Keras has "
                                      f"{_fmt(expected[idx])} ({detail}).", misconception,
         largest_error=float(err[idx]), index=tuple(int(i) for i in idx))


def _expected_kind(expected):
    if expected.ndim == 0:
        return "a number"
    return f"an array of shape {tuple(expected.shape)}"


def _describe_returned(value):
    if isinstance(value, np.ndarray):
        return f"an array of dtype {value.dtype}"
    if isinstance(value, (list, tuple)):
        return f"a {type(value).__name__} that is not a rectangular array of numbers"
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"a {type(value).__name__} ({text})"


def passed(name, n_cases):
    """Print the one line a passing check shows (stdout only)."""
    cases = "case" if n_cases == 1 else "cases"
    print(f"✓ {name}: {n_cases} {cases} agree with Keras.")
