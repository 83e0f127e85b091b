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
import contextlib
import contextvars
import functools
import hashlib
import html
import os
import re

import numpy as np

from convbook import checking
from convbook.checking import CheckFailure, Misconception, fail, returned_none
from convbook.harness import StudentError, StudentSession, student_session

__all__ = ["CheckFailure", "Misconception", "StudentSession", "student_session", "Outcome",
           "check",
           "case_rng", "hidden_seed_source", "student_call", "compare_outcomes", "as_int_pair",
           "as_array"]

# Tolerances: Keras computes in float32; a float32 or float64 numpy answer that sums the same
# products in another order differs by a few float32 ulps of the largest partial sum. Keras's
# own convolution tests use rtol=5e-4. Every misconception the checks name changes the
# answer by whole pixels or by O(1) values, far beyond these.
RTOL = 5e-4
ATOL_FRACTION = 1e-5

# At autograde, hidden cases come from the course's secret and the student id (set by
# convbook.grading): different for every student, the same when a submission is regraded.
_hidden_source = contextvars.ContextVar("convbook_hidden_source", default=None)


@contextlib.contextmanager
def hidden_seed_source(secret, student):
    token = _hidden_source.set((str(secret), str(student)))
    try:
        yield
    finally:
        _hidden_source.reset(token)


def case_rng(hidden, seed):
    """Visible cases: a fixed seed (the same cases every run). Hidden: at autograde, drawn
    from the course secret, the student id and `seed`; elsewhere a fresh random seed."""
    if not hidden:
        return np.random.default_rng(seed)
    source = _hidden_source.get()
    if source is None:
        return np.random.default_rng(int.from_bytes(os.urandom(16), "little"))
    digest = hashlib.sha256("\0".join((*source, str(seed))).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:16], "little"))


def _reading_in_a_notebook():
    """A reader's own kernel (not nbgrader's validate/autograde, not a test runner)."""
    if os.environ.get("NBGRADER_EXECUTION"):
        return False
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def show_failure(failure):
    """A failed check in the reader's notebook: the feedback in a box, the cell not failed,
    so that Run All goes on to every other check and figure."""
    from IPython import get_ipython
    from IPython.display import display

    name = failure.record.check or "check"
    text = str(failure)
    # the points at stake, from the check cell's own first line: "# Check 0.1 — ... (2 points)"
    history = (get_ipython().user_ns.get("In") or [""]) if get_ipython() else [""]
    stake = re.search(r"\((\d+(?:\.\d+)?) points?\)", history[-1] or "")
    if stake:
        name += f" — 0 of {stake.group(1)} points for now"
    display({"text/plain": f"✗ {name}: not yet — {text}",
             "text/html": (
                 '<div style="border-left:4px solid #c62828;padding:4px 10px;'
                 'background:rgba(198,40,40,0.06)"><b>✗ ' + html.escape(name)
                 + ': not yet</b><pre style="white-space:pre-wrap;margin:4px 0">'
                 + html.escape(text) + "</pre><small>Fix your code, save the file, and run "
                 "this cell again. (Validate and grading count this check as failed.)</small>"
                 "</div>")}, raw=True)


def check(func):
    """Decorator of every check function: in the reader's own notebook a failure is shown
    (and the cell does not fail, so Run All reaches every check); under nbgrader's validate
    and autograde, and everywhere else, it raises CheckFailure."""

    @functools.wraps(func)
    def run(*args, **kwargs):
        __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
        try:
            return func(*args, **kwargs)
        except CheckFailure as failure:
            if not _reading_in_a_notebook():
                raise
            show_failure(failure)
    return run


_KIND = {"not_implemented": "not_implemented", "timeout": "timeout", "cpu": "timeout",
         "memory": "crash", "crash": "crash", "lost": "crash", "protocol": "crash"}


def student_call(session, function, *args, case="", **kwargs):
    """`session.call`, with a student-side error turned into feedback naming the case."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    try:
        return session.call(function, *args, **kwargs)
    except StudentError as err:
        kind = _KIND.get(err.kind, "exception")
        # an unfinished function: the case does not matter yet
        fail(function, "" if kind == "not_implemented" else case, kind,
             str(err) if kind == "not_implemented" or not case else f"\n{err}")


def as_int_pair(value, function, case):
    """The student's (before, after)-like answer as a tuple of two ints, or feedback."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    if value is None:
        returned_none(function, case, "a tuple of two ints (before, after)")
    try:
        items = tuple(value)
    except TypeError:
        items = None
    if items is None or len(items) != 2 or not all(_is_integral(v) for v in items):
        fail(function, case, "wrong_type",
             f"`{function}` should return a tuple of two ints (before, after); "
             f"it returned {value!r}.")
    return tuple(int(v) for v in items)


def as_array(value, ndim, function, case):
    """The student's answer as a numeric numpy array with `ndim` axes, or feedback."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    if value is None:
        returned_none(function, case, f"a {ndim}-D array")
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        fail(function, case, "wrong_type",
             f"`{function}` should return a numeric array; it returned "
             f"{type(value).__name__}.")
    if array.ndim != ndim:
        fail(function, case, "wrong_shape",
             f"`{function}` returned an array of shape {array.shape}; "
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
    known misconceptions give ({Misconception: array})."""

    def __init__(self, case, actual, expected, misconceptions=None):
        self.case = case
        self.actual = actual
        self.expected = expected
        self.misconceptions = dict(misconceptions or {})


def compare_outcomes(function, outcomes, rtol=RTOL, atol_fraction=ATOL_FRACTION):
    """Compare every case; fail on the first wrong one, then print one line.

    A misconception is named when it explains the student's answers on EVERY case (where a
    misconception coincides with the right answer, a student holding it is right there too);
    this keeps one coincidence from naming the wrong idea. Only when no single misconception
    explains all the answers does the failing case offer every misconception it matches.
    """
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    candidates = []
    for outcome in outcomes:
        for misconception in outcome.misconceptions:
            if misconception not in candidates:
                candidates.append(misconception)
    consistent = [
        m for m in candidates
        if all(checking.matches(o.actual, o.misconceptions[m], rtol, atol_fraction)
               for o in outcomes if m in o.misconceptions)
    ]
    for outcome in outcomes:
        misconceptions = outcome.misconceptions
        if consistent:
            misconceptions = {m: a for m, a in misconceptions.items() if m in consistent}
        checking.compare(outcome.actual, outcome.expected, outcome.case, rtol=rtol,
                         atol_fraction=atol_fraction, misconceptions=misconceptions,
                         check=function)
    checking.passed(function, len(outcomes))
