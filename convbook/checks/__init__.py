"""The check functions behind the chapters' autograded test cells.

One module per chapter topic: `basics` (chapter 00), `padding` (chapter 02), ...
Every check function follows the same recipe:

1. draw its cases: a few small ones from a fixed seed (visible), or, with `hidden=True`,
   more and larger ones from a fresh seed (os.urandom), so hidden cases cannot be memorised;
2. compute the expected values with Keras, here in the notebook kernel (`convbook.oracle`);
3. run the student's function in a child process (`convbook.harness`): the student's
   convlib is never imported into the kernel;
4. compare with `convbook.checking.compare`; when the wrong answer is what a known
   misconception produces, the feedback says so in one sentence.

A check raises `CheckFailure` (an AssertionError) with the feedback, or prints one line.
Nothing is written to stderr.
"""
import os

import numpy as np

from convbook import checking
from convbook.checking import CheckFailure
from convbook.harness import StudentError, StudentSession

__all__ = ["CheckFailure", "StudentSession", "Outcome", "case_rng", "student_call",
           "compare_outcomes", "as_int_pair", "as_array"]

# Tolerances: Keras computes in float32; a float32 or float64 numpy answer that sums the same
# products in another order differs by a few float32 ulps of the largest partial sum. Keras's
# own convolution tests use rtol=5e-4. Every misconception the checks name changes the
# answer by whole pixels or by O(1) values, far beyond these.
RTOL = 5e-4
ATOL_FRACTION = 1e-5


def case_rng(hidden, seed):
    """Visible cases: a fixed seed (the same cases every run). Hidden: a fresh seed."""
    if hidden:
        return np.random.default_rng(int.from_bytes(os.urandom(16), "little"))
    return np.random.default_rng(seed)


def student_call(session, function, *args, case="", **kwargs):
    """`session.call`, with a student-side error turned into feedback naming the case."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    try:
        return session.call(function, *args, **kwargs)
    except StudentError as err:
        if err.kind == "not_implemented" or not case:
            raise CheckFailure(str(err)) from None     # the case does not matter yet
        raise CheckFailure(f"{case}:\n{err}") from None


def as_int_pair(value, function, case):
    """The student's (before, after)-like answer as a tuple of two ints, or feedback."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    if value is None:
        raise CheckFailure(f"`{function}` on {case} returned None: did you forget `return`?")
    try:
        items = tuple(value)
    except TypeError:
        items = None
    if items is None or len(items) != 2 or not all(_is_integral(v) for v in items):
        raise CheckFailure(
            f"`{function}` on {case} should return a tuple of two ints (before, after); "
            f"it returned {value!r}."
        )
    return tuple(int(v) for v in items)


def as_array(value, ndim, function, case):
    """The student's answer as a numeric numpy array with `ndim` axes, or feedback."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    if value is None:
        raise CheckFailure(f"`{function}` on {case} returned None: did you forget `return`?")
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise CheckFailure(
            f"`{function}` on {case} should return a numeric array; it returned "
            f"{type(value).__name__}.") from None
    if array.ndim != ndim:
        raise CheckFailure(
            f"`{function}` on {case} returned an array of shape {array.shape}; "
            f"a {ndim}-D array was expected.")
    return array


def _is_integral(v):
    if isinstance(v, bool):
        return False
    if isinstance(v, (int, np.integer)):
        return True
    return isinstance(v, (float, np.floating)) and float(v).is_integer()


class Outcome:
    """One case: its description, the student's answer, Keras's answer and the answers
    known misconceptions give ({one-sentence explanation: array})."""

    def __init__(self, case, actual, expected, misconceptions=None):
        self.case = case
        self.actual = actual
        self.expected = expected
        self.misconceptions = dict(misconceptions or {})


def _matches(actual, wrong):
    """Does the student's answer equal what a misconception produces (same tolerance)?"""
    try:
        actual = np.asarray(actual, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    wrong = np.asarray(wrong, dtype=np.float64)
    if actual.shape != wrong.shape:
        return False
    scale = float(np.max(np.abs(wrong))) if wrong.size else 0.0
    bound = ATOL_FRACTION * max(scale, 1.0) + RTOL * np.abs(wrong)
    return bool(np.all(np.abs(actual - wrong) <= bound))


def compare_outcomes(function, outcomes, rtol=RTOL, atol_fraction=ATOL_FRACTION):
    """Compare every case; fail on the first wrong one, then print one line.

    A misconception is named when it explains the student's answers on EVERY case (where a
    misconception coincides with the right answer, a student holding it is right there too);
    this keeps one coincidence from naming the wrong idea. Only when no single misconception
    explains all the answers does the failing case offer every misconception it matches.
    """
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    sentences = []
    for outcome in outcomes:
        for sentence in outcome.misconceptions:
            if sentence not in sentences:
                sentences.append(sentence)
    consistent = [
        s for s in sentences
        if all(_matches(o.actual, o.misconceptions[s]) for o in outcomes if s in o.misconceptions)
    ]
    for outcome in outcomes:
        if outcome.actual is None:
            raise CheckFailure(
                f"`{function}` on {outcome.case} returned None: did you forget `return`?")
        misconceptions = outcome.misconceptions
        if consistent:
            misconceptions = {s: a for s, a in misconceptions.items() if s in consistent}
        checking.compare(outcome.actual, outcome.expected, outcome.case, rtol=rtol,
                         atol_fraction=atol_fraction, misconceptions=misconceptions)
    checking.passed(function, len(outcomes))
