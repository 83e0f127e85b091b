"""Checks for chapter 09, bias_regularizer: the derivatives `regularizers.L1.gradient`,
`regularizers.L2.gradient` and `regularizers.L1L2.gradient`.

Where the expected values come from: `tf.GradientTape` on Keras's own regularizer
(`keras.regularizers.L1 / L2 / L1L2` with the case's factors, or the defaults) applied to a
`tf.Variable` holding the case's weights: d penalty / d weights, exactly what Keras's
training adds to each weight's gradient. At a weight exactly 0, TensorFlow's gradient of
|w| is sign(0) = 0; the cases hold exact zeros (as a freshly initialised bias does) so that
this is checked. Where Keras's penalty does not depend on the weights at all (L1L2() with
both factors 0), its gradient is zeros.

The weights are float32 arrays shaped like a Conv2D kernel (kh, kw, in_channels, filters) or
a bias (filters,). The answers the misconceptions give are computed in numpy (float64).
No randomness in the comparison: the checks are deterministic given their cases.
"""
import numpy as np

from convbook import oracle
from convbook.checks import Misconception, Outcome, as_array, case_rng, check, compare_outcomes
from convbook.checks import student_session
from convbook.checks.regularizers import (DEFAULT_FACTOR, describe, keras_regularizer,
                                          student_regularizer_call)

DTYPE = np.float32

# ----------------------------------------------------------------------- misconceptions
L1_GRAD_AT_ZERO = Misconception(
    "regularizer_gradients.l1_sign_of_zero",
    "Where a weight is exactly 0 you gave +-l1: |w| has no derivative there, and "
    "TensorFlow (so Keras's training) uses sign(0) = 0, a zero gradient; np.sign does the same.")
L1_GRAD_NAN = Misconception(
    "regularizer_gradients.l1_divide_by_abs",
    "You computed the sign as w / |w|, which is 0/0 = NaN at a weight exactly 0 (a freshly "
    "initialised bias is all zeros): use np.sign, which gives 0 there, as TensorFlow does.")
L1_GRAD_CONSTANT = Misconception(
    "regularizer_gradients.l1_constant",
    "Your L1 gradient is l1 everywhere, the derivative of l1 * sum(w): the derivative of "
    "l1 * |w| is l1 * sign(w), -l1 for a negative weight.")
L1_GRAD_LINEAR = Misconception(
    "regularizer_gradients.l1_linear",
    "Your L1 gradient is l1 * w, which shrinks with the weight: the derivative of l1 * |w| is "
    "l1 * sign(w), the same size (l1) for every non-zero weight, large or small.")
L2_GRAD_NO_2 = Misconception(
    "regularizer_gradients.l2_missing_2",
    "Your L2 gradient is l2 * w, half of Keras's: the derivative of l2 * w**2 is 2 * l2 * w. "
    "(l2 * w is the gradient of the textbook l2/2 * w**2, which Keras does not use.)")
L2_GRAD_NO_FACTOR = Misconception(
    "regularizer_gradients.l2_missing_factor",
    "Your L2 gradient is 2 * w: the factor is missing, d(l2 * w**2)/dw = 2 * l2 * w.")
L1L2_GRAD_ONLY_L1 = Misconception(
    "regularizer_gradients.l1l2_only_l1",
    "Your L1L2 gradient has only the L1 term: it is l1 * sign(w) + 2 * l2 * w, the sum of the "
    "two terms' derivatives.")
L1L2_GRAD_ONLY_L2 = Misconception(
    "regularizer_gradients.l1l2_only_l2",
    "Your L1L2 gradient has only the L2 term: it is l1 * sign(w) + 2 * l2 * w, the sum of the "
    "two terms' derivatives.")


# --------------------------------------------------------------------------- Keras oracle

def keras_penalty_gradient(class_name, x, **factors):
    """d penalty / d x for Keras's regularizer (see regularizers.keras_regularizer), from
    tf.GradientTape on a tf.Variable holding x; zeros where the penalty ignores x."""
    tf = oracle.tf()
    regularizer = keras_regularizer(class_name, **factors)
    weights = tf.Variable(np.asarray(x, DTYPE))
    with tf.GradientTape() as tape:
        penalty = regularizer(weights)
    gradient = tape.gradient(penalty, weights,
                             unconnected_gradients=tf.UnconnectedGradients.ZERO)
    return gradient.numpy()


# ------------------------------------------------------------------------------- cases

def _weights(rng, shape, zero_fraction):
    """Random weights with a fraction of exact zeros (at least one when zero_fraction > 0)."""
    x = (rng.standard_normal(shape) * rng.uniform(0.2, 2.0)).astype(DTYPE)
    if zero_fraction:
        zeros = rng.random(shape) < zero_fraction
        zeros.flat[int(rng.integers(x.size))] = True
        x[zeros] = 0.0
    return x


def _random_shape(rng, i):
    if i % 3 == 2:                       # a bias vector
        return (int(rng.integers(1, 65)),)
    return (int(rng.integers(1, 8)), int(rng.integers(1, 8)), int(rng.integers(1, 17)),
            int(rng.integers(1, 33)))


def _factor(rng):
    return None if rng.random() < 0.25 else float(np.exp(rng.uniform(np.log(0.03), np.log(3))))


def _single_cases(rng, hidden):
    """(factor or None, x)."""
    if not hidden:
        return [(None, np.array([-2, -0.5, 0, 0.5, 2], DTYPE)),
                (0.1, _weights(rng, (3, 3, 2, 4), 0.2)),
                (0.5, np.zeros(8, DTYPE)),                   # a bias as initialised: zeros
                (2.0, _weights(rng, (1, 1, 4, 3), 0.0))]
    return [(_factor(rng), _weights(rng, _random_shape(rng, i), (0.0, 0.1, 0.3)[i % 3]))
            for i in range(10)]


def _misconceptions_single(class_name, factor, x):
    x = np.asarray(x, np.float64)
    used = DEFAULT_FACTOR if factor is None else factor
    has_zero = bool(np.any(x == 0))
    if class_name == "L1":
        wrong = {L1_GRAD_CONSTANT: np.full(x.shape, used), L1_GRAD_LINEAR: used * x}
        if has_zero:
            wrong[L1_GRAD_AT_ZERO] = used * np.where(x >= 0, 1.0, -1.0)
            with np.errstate(invalid="ignore"):
                wrong[L1_GRAD_NAN] = used * x / np.abs(x)
        return wrong
    return {L2_GRAD_NO_2: used * x, L2_GRAD_NO_FACTOR: 2 * x}


def _check_single(class_name, seed, hidden):
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    rng = case_rng(hidden, seed=seed)
    name = f"regularizers.{class_name}.gradient"
    outcomes = []
    with student_session() as session:
        for factor, x in _single_cases(rng, hidden):
            factors = {} if factor is None else {class_name.lower(): factor}
            case = describe(class_name, factors, x).replace("(x)", ".gradient(x)", 1)
            actual = as_array(
                student_regularizer_call(session, class_name, factors, "gradient", x, case),
                x.ndim, name, case)
            expected = keras_penalty_gradient(class_name, x, **factors)
            outcomes.append(Outcome(case, actual, expected,
                                    _misconceptions_single(class_name, factor, x)))
    compare_outcomes(name, outcomes)


@check
def check_l1_gradient(hidden=False):
    """Exercise 9.1: `regularizers.L1(l1).gradient(x)` against tf.GradientTape on
    keras.regularizers.L1."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    _check_single("L1", 901, hidden)


@check
def check_l2_gradient(hidden=False):
    """Exercise 9.2: `regularizers.L2(l2).gradient(x)` against tf.GradientTape on
    keras.regularizers.L2."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    _check_single("L2", 902, hidden)


def _l1l2_cases(rng, hidden):
    """(factors, x); a factor missing from `factors` is left at its default (0)."""
    if not hidden:
        return [({"l1": 0.1, "l2": 0.2}, np.array([-2, -0.5, 0, 0.5, 2], DTYPE)),
                ({"l1": 0.05, "l2": 0.3}, _weights(rng, (3, 3, 2, 4), 0.2)),
                ({"l2": 0.5}, _weights(rng, (6,), 0.3)),
                ({"l1": 1.0}, _weights(rng, (2, 2, 3, 2), 0.2)),
                ({}, _weights(rng, (3, 3, 1, 2), 0.0))]
    cases = []
    for i in range(10):
        factors = {}
        for name in ("l1", "l2"):
            if rng.random() < 0.8 or i == 0:
                factors[name] = float(np.exp(rng.uniform(np.log(0.03), np.log(3))))
        cases.append((factors, _weights(rng, _random_shape(rng, i), (0.0, 0.1, 0.3)[i % 3])))
    return cases


def _misconceptions_l1l2(factors, x):
    x = np.asarray(x, np.float64)
    l1, l2 = factors.get("l1", 0.0), factors.get("l2", 0.0)
    wrong = {}
    if l1 and l2:
        wrong[L1L2_GRAD_ONLY_L1] = l1 * np.sign(x)
        wrong[L1L2_GRAD_ONLY_L2] = 2 * l2 * x
    if l2:
        wrong[L2_GRAD_NO_2] = l1 * np.sign(x) + l2 * x
    if l1:
        wrong[L1_GRAD_LINEAR] = l1 * x + 2 * l2 * x
        if np.any(x == 0):
            wrong[L1_GRAD_AT_ZERO] = l1 * np.where(x >= 0, 1.0, -1.0) + 2 * l2 * x
    return wrong


@check
def check_l1l2_gradient(hidden=False):
    """Exercise 9.3: `regularizers.L1L2(l1, l2).gradient(x)` against tf.GradientTape on
    keras.regularizers.L1L2."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    rng = case_rng(hidden, seed=903)
    name = "regularizers.L1L2.gradient"
    outcomes = []
    with student_session() as session:
        for factors, x in _l1l2_cases(rng, hidden):
            case = describe("L1L2", factors, x).replace("(x)", ".gradient(x)", 1)
            actual = as_array(
                student_regularizer_call(session, "L1L2", factors, "gradient", x, case),
                x.ndim, name, case)
            expected = keras_penalty_gradient("L1L2", x, **factors)
            outcomes.append(Outcome(case, actual, expected, _misconceptions_l1l2(factors, x)))
    compare_outcomes(name, outcomes)
