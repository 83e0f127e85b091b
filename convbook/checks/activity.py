"""Checks for chapter 10, activity_regularizer: `activity.activity_penalty` (the loss the layer
adds for its activated output) and `activity.activity_penalty_gradient` (its derivative with
respect to that output).

Where the expected values come from:
* the penalty: `keras.layers.Conv2D(filters, 1, activity_regularizer=r)` with an identity 1x1
  kernel, no bias and no activation, so that its output is exactly its input y; the layer
  computes r(y), divides it by the batch size itself (Keras >= 3.14) and puts the result in
  `layer.losses`. The layer, not a formula, is the authority for the division.
* the gradient: `tf.GradientTape` of that layer's activity loss with respect to y (the layer's
  input, equal to its output through the identity kernel; the gradient of an identity
  convolution is exact).
Outputs of either data format are handed to Keras as channels_last (the last axis as the
channels): the penalty sums over every value and divides by axis 0, which is the batch in
both formats, so the layout does not change the answer.

The reader's functions receive the reader's OWN regularizer objects, created in the child
(`session.new("regularizers.L2", l2=0.01)`, ...): that is how the layer uses them, and convlib
offers no regularizer that is not an earlier exercise (the penalties `__call__` are chapter
08's, their `gradient` chapter 09's). So that a mistake there is not charged a second time
here, every case first evaluates the reader's regularizer alone (its value r(y), or its
gradient through the given `regularizers.penalty_gradient`) and compares it with
keras.regularizers on the same y:
* it agrees: the expected value is Keras's layer loss (or its gradient), as described above;
* it disagrees (a wrong chapter 08 or 09): the expected value is the reader's own r(y) (or
  gradient) times the factor Keras's layer applies, computed from Keras (layer loss divided
  by keras r(y); for the gradient, the least-squares ratio of the two tapes). This chapter
  then grades the division alone, and the passing line says that the earlier chapter's
  regularizer still differs from Keras's;
* it cannot run (not written yet, an exception, not a finite number): if the reader's
  function fails too, inside regularizers.py, the feedback says that the earlier chapter's
  regularizer must work first, and that activity_penalty is not what failed. (Failing is
  unavoidable there: without a working regularizer the function cannot be exercised.)
The misconceptions' answers are computed from the same base (Keras's r(y), or the reader's
when that differs), times the wrong factor.

Nothing here is statistical: every case is compared with Keras within the usual tolerance.
"""
import contextlib
import io

import numpy as np

from convbook import checking, oracle
from convbook.checks import (ATOL_FRACTION, RTOL, Misconception, Outcome, case_rng, check,
                             compare_outcomes, student_session)
from convbook.checking import fail
from convbook.harness import StudentError

# ----------------------------------------------------------------------- misconceptions
NOT_DIVIDED = Misconception(
    "activity.not_divided_by_batch",
    "You returned the regularizer's value on the whole batch, not divided by the batch size: "
    "Keras 3.14 and later divide the activity penalty by outputs.shape[0], so that the same "
    "per-example outputs cost the same whatever the batch size (Keras 3.0 to 3.13 did not).")
DIVIDED_BY_SIZE = Misconception(
    "activity.divided_by_size",
    "You divided by the number of values in the output (outputs.size), a mean over every "
    "value: Keras divides by the batch size only, outputs.shape[0]; the sum over the pixels "
    "and channels of one example stays a sum.")
GRADIENT_NOT_DIVIDED = Misconception(
    "activity.gradient_not_divided",
    "Your gradient is the regularizer's own gradient, not divided by the batch size: the "
    "penalty is regularizer(outputs) / batch, so its derivative is divided by the batch too.")
GRADIENT_DIVIDED_TWICE = Misconception(
    "activity.gradient_divided_twice",
    "Your gradient is divided by the batch size twice (batch**2): the penalty has one factor "
    "1 / batch, and differentiating with respect to the outputs does not add another.")
GRADIENT_DIVIDED_BY_SIZE = Misconception(
    "activity.gradient_divided_by_size",
    "Your gradient is divided by the number of values in the output (outputs.size): the "
    "penalty is divided by the batch size, outputs.shape[0], and so is its gradient.")

DTYPE = np.float32
KIND_NAMES = {"L1": "l1", "L2": "l2", "L1L2": "l1_l2"}


# --------------------------------------------------------------------------- Keras oracles

def keras_regularizer(kind, **factors):
    """keras.regularizers.<kind>(**factors), e.g. keras_regularizer("L2", l2=0.01)."""
    keras = oracle.keras()
    return getattr(keras.regularizers, kind)(**factors)


def _identity_layer(channels, regularizer):
    """A Keras Conv2D whose output is its input: 1x1 identity kernel, no bias, linear."""
    keras = oracle.keras()
    layer = keras.layers.Conv2D(channels, 1, use_bias=False, activity_regularizer=regularizer)
    layer.build((None, None, None, channels))
    layer.set_weights([np.eye(channels, dtype=DTYPE)[None, None]])
    return layer


def _as_4d(outputs):
    outputs = np.asarray(outputs, DTYPE)
    if outputs.ndim != 4 or outputs.shape[0] == 0:
        raise ValueError(f"Keras's Conv2D needs outputs of shape (batch >= 1, height, width, "
                         f"channels); received shape {outputs.shape}")
    return outputs


def keras_activity_penalty(regularizer, outputs):
    """The activity loss Keras's layer records for `outputs` (a 4-D array, batch first):
    `layer.losses` of an identity Conv2D with `activity_regularizer=regularizer` (a
    keras.regularizers object or name) after one call on `outputs`."""
    keras = oracle.keras()
    outputs = _as_4d(outputs)
    layer = _identity_layer(outputs.shape[-1], regularizer)
    layer(outputs)
    return float(keras.ops.convert_to_numpy(keras.ops.sum(layer.losses)))


def keras_activity_penalty_gradient(regularizer, outputs):
    """d (Keras's activity loss) / d outputs, by tf.GradientTape through the identity layer."""
    tf = oracle.tf()
    outputs = _as_4d(outputs)
    layer = _identity_layer(outputs.shape[-1], regularizer)
    y = tf.constant(outputs)
    with tf.GradientTape() as tape:
        tape.watch(y)
        layer(y)
        loss = tf.add_n(layer.losses)
    return tape.gradient(loss, y).numpy()


def keras_regularizer_gradient(regularizer, outputs):
    """d regularizer(outputs) / d outputs for a keras.regularizers object, by GradientTape."""
    tf = oracle.tf()
    y = tf.constant(np.asarray(outputs, DTYPE))
    with tf.GradientTape() as tape:
        tape.watch(y)
        loss = regularizer(y)
    return tape.gradient(loss, y).numpy()


def old_keras_activity_penalty(regularizer, outputs):
    """What Keras 3.0 to 3.13 added to the loss: the regularizer on the whole batch,
    undivided (keras.regularizers applied to `outputs` directly)."""
    keras = oracle.keras()
    return float(keras.ops.convert_to_numpy(regularizer(np.asarray(outputs, DTYPE))))


# ------------------------------------------------------------------------------- the cases

def _activated(rng, shape, activation):
    """Outputs of an activation, as a layer would produce them (relu: many exact zeros)."""
    z = (rng.standard_normal(shape) * rng.uniform(0.5, 2.0) + 0.2).astype(DTYPE)
    if activation == "relu":
        y = np.maximum(z, 0)
        y.flat[0] = abs(float(z.flat[0])) + 0.5           # never all zeros
        return y
    if activation == "tanh":
        return np.tanh(z)
    return z


def _cases(rng, hidden):
    """(regularizer kind, factors, data_format, outputs shape, activation). Shapes follow
    data_format: (batch, h, w, filters) or (batch, filters, h, w)."""
    if not hidden:
        return [
            ("L2", {"l2": 0.01}, "channels_last", (1, 3, 3, 2), "relu"),
            ("L2", {"l2": 0.01}, "channels_last", (4, 3, 3, 2), "relu"),
            ("L1", {"l1": 0.01}, "channels_last", (3, 2, 4, 3), "relu"),
            ("L2", {"l2": 0.05}, "channels_first", (2, 3, 4, 5), "tanh"),
            ("L1", {"l1": 0.1}, "channels_first", (5, 2, 3, 3), None),
        ]
    cases = []
    kinds = ["L2", "L1", "L2", "L1L2", "L1", "L2", "L1L2", "L2", "L1", "L2"]
    for i, kind in enumerate(kinds):
        factor = float(np.round(10 ** rng.uniform(-3, -0.5), 5))
        factors = {"L1": {"l1": factor}, "L2": {"l2": factor},
                   "L1L2": {"l1": factor, "l2": float(np.round(factor * rng.uniform(0.2, 3),
                                                                5))}}[kind]
        batch = 1 if i == 0 else int(rng.integers(2, 17))
        h, w, f = (int(v) for v in rng.integers(1, 13, size=3))
        data_format = ("channels_last", "channels_first")[i % 2]
        shape = (batch, h, w, f) if data_format == "channels_last" else (batch, f, h, w)
        cases.append((kind, factors, data_format, shape, ("relu", "tanh", None)[i % 3]))
    return cases


def _factors_text(factors):
    return ", ".join(f"{k}={v:g}" for k, v in factors.items())


def _case_text(function, kind, factors, data_format, outputs, activation):
    return (f"{function}(regularizer={kind}({_factors_text(factors)}), "
            f"{checking.describe_case(outputs=outputs)}; {data_format} "
            f"{activation or 'linear'} outputs, batch {outputs.shape[0]})")


# ---------------------------------------------------------------- the reader's regularizer

def _finite_number(value):
    try:
        number = float(np.asarray(value, dtype=np.float64))
    except (TypeError, ValueError):
        return None
    return number if np.isfinite(number) else None


def _finite_array(value, shape):
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return array if array.shape == shape and np.all(np.isfinite(array)) else None


def _from_regularizers(err):
    """Did the reader's call fail inside convlib/regularizers.py (chapters 08 and 09)?"""
    return (err.where or "").startswith("convlib/regularizers.py")


def _call_reader(session, function, regularizer, outputs, case, kind, yours_runs, chapter):
    """The reader's function on (their regularizer, outputs); a failure becomes feedback that
    says whether the earlier chapter's regularizer is the one to fix."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    try:
        return session.call(function, regularizer, outputs)
    except StudentError as err:
        failure_kind = {"not_implemented": "not_implemented", "timeout": "timeout"}.get(
            err.kind, "exception")
        if not yours_runs and _from_regularizers(err):
            fail(function, case, failure_kind,
                 f"\n{err}\nThis check hands your function your own `regularizers.{kind}` "
                 f"({chapter}), and that regularizer fails on this case by itself: make "
                 f"{chapter}'s {kind} work first. Nothing is known to be wrong with "
                 f"`{function}` yet.")
        if err.kind == "not_implemented":
            fail(function, "", failure_kind, str(err))
        fail(function, case, failure_kind, f"\n{err}")


class _Graded:
    """The cases of one check, compared one by one; remembers whether the reader's
    regularizer (an earlier chapter's) differed from Keras's: then the division alone was
    graded, and the passing line says so."""

    def __init__(self, function, chapter):
        self.function = function
        self.chapter = chapter
        self.outcomes = []
        self.own_regularizer = set()

    def add(self, case, actual, expected, wrong, kind, used_yours):
        if used_yours:
            self.own_regularizer.add(kind)
            # "Keras has ..." below is then Keras's division of YOUR regularizer's value
            case += (f" [your {kind} ({self.chapter}) differs from Keras's on this case, so "
                     f"the expected value is yours, divided as Keras's layer divides]")
        self.outcomes.append((case, actual, expected, wrong))

    def finish(self):
        __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
        outcomes = [Outcome(*o) for o in self.outcomes]
        if not self.own_regularizer:
            compare_outcomes(self.function, outcomes)
            return
        # compare_outcomes prints the usual line; say what was graded in that same line
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            compare_outcomes(self.function, outcomes)
        kinds = ", ".join(sorted(self.own_regularizer))
        print(buffer.getvalue().strip().rstrip(".")
              + f" (graded with your own {kinds} from {self.chapter}, which still differs "
                f"from Keras's: fix it there).")


# ---------------------------------------------------------------------- activity_penalty

@check
def check_activity_penalty(hidden=False):
    """Exercise 10.1: `activity.activity_penalty(regularizer, outputs)` against the loss
    Keras's Conv2D records for its output (layer.losses), with the reader's regularizers."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    rng = case_rng(hidden, seed=1001)
    name = "activity.activity_penalty"
    chapter = "chapter 08"          # the regularizers' penalties
    graded = _Graded(name, chapter)
    with student_session() as session:
        for kind, factors, data_format, shape, activation in _cases(rng, hidden):
            y = _activated(rng, shape, activation)
            case = _case_text("activity_penalty", kind, factors, data_format, y, activation)
            keras_reg = keras_regularizer(kind, **factors)
            keras_value = old_keras_activity_penalty(keras_reg, y)
            layer_loss = keras_activity_penalty(keras_reg, y)
            regularizer = None
            try:
                regularizer = session.new(f"regularizers.{kind}", **factors)
                yours = _finite_number(regularizer(y))
            except StudentError:
                yours = None
            if regularizer is None:
                fail(name, case, "exception",
                     f"your `regularizers.{kind}({_factors_text(factors)})` could not be "
                     f"created, so this check cannot call your function with it: make "
                     f"{chapter}'s {kind} work first.")
            actual = _call_reader(session, name, regularizer, y, case, kind, yours is not None,
                                  chapter)
            used_yours = yours is not None and not checking.matches(
                yours, keras_value, RTOL, ATOL_FRACTION)
            base = yours if used_yours else keras_value
            expected = base * (layer_loss / keras_value) if used_yours else layer_loss
            batch = y.shape[0]
            wrong = {NOT_DIVIDED: base, DIVIDED_BY_SIZE: base / y.size}
            if batch == 1:
                wrong.pop(NOT_DIVIDED)
            graded.add(case, _scalar(actual, name, case), np.float64(expected), wrong,
                       kind, used_yours)
    graded.finish()


def _scalar(value, function, case):
    """The reader's penalty as one number (a python float, a numpy scalar or a 0-d array)."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    if value is None:
        checking.returned_none(function, case, "a number (a python float)")
    array = np.asarray(value) if isinstance(value, (int, float, np.generic, np.ndarray)) \
        else None
    if array is None or array.dtype.kind not in "biuf" or array.size != 1:
        shown = f"an array of shape {array.shape}" if array is not None and \
            array.dtype.kind in "biuf" else type(value).__name__
        fail(function, case, "wrong_type",
             f"`{function}` should return one number (a python float); it returned {shown}.")
    return float(array.reshape(()))


# ------------------------------------------------------------- activity_penalty_gradient

@check
def check_activity_penalty_gradient(hidden=False):
    """Exercise 10.2: `activity.activity_penalty_gradient(regularizer, outputs)` against
    tf.GradientTape of Keras's layer activity loss with respect to the layer's output."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    rng = case_rng(hidden, seed=1002)
    name = "activity.activity_penalty_gradient"
    chapter = "chapter 09"          # the regularizers' gradients
    graded = _Graded(name, chapter)
    with student_session() as session:
        for kind, factors, data_format, shape, activation in _cases(rng, hidden):
            y = _activated(rng, shape, activation)
            case = _case_text("activity_penalty_gradient", kind, factors, data_format, y,
                              activation)
            keras_reg = keras_regularizer(kind, **factors)
            keras_grad = keras_regularizer_gradient(keras_reg, y).astype(np.float64)
            layer_grad = keras_activity_penalty_gradient(keras_reg, y).astype(np.float64)
            regularizer = None
            try:
                regularizer = session.new(f"regularizers.{kind}", **factors)
                yours = _finite_array(
                    session.call("regularizers.penalty_gradient", regularizer, y), y.shape)
            except StudentError:
                yours = None
            if regularizer is None:
                fail(name, case, "exception",
                     f"your `regularizers.{kind}({_factors_text(factors)})` could not be "
                     f"created, so this check cannot call your function with it: make "
                     f"{chapter}'s {kind} work first.")
            actual = _call_reader(session, name, regularizer, y, case, kind, yours is not None,
                                  chapter)
            used_yours = yours is not None and not checking.matches(
                yours, keras_grad, RTOL, ATOL_FRACTION)
            if used_yours:
                # the factor Keras's layer applies to the regularizer's gradient, from the tapes
                factor = float(np.sum(layer_grad * keras_grad) / np.sum(keras_grad * keras_grad))
                base, expected = yours, yours * factor
            else:
                base, expected = keras_grad, layer_grad
            batch = y.shape[0]
            wrong = {GRADIENT_DIVIDED_BY_SIZE: base / y.size}
            if batch > 1:
                wrong[GRADIENT_NOT_DIVIDED] = base
                wrong[GRADIENT_DIVIDED_TWICE] = base / batch ** 2
            graded.add(case, _gradient_array(actual, y.shape, name, case), expected, wrong,
                       kind, used_yours)
    graded.finish()


def _gradient_array(value, shape, function, case):
    """The reader's gradient as a float array; a wrong shape is left to the comparison."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    if value is None:
        checking.returned_none(function, case, f"an array of shape {shape}")
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        fail(function, case, "wrong_type",
             f"`{function}` should return a numeric array of shape {shape}; it returned "
             f"{type(value).__name__}.")
