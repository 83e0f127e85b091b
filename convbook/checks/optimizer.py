"""Checks for chapter 12, bias_constraint: `optimizers.sgd_step(weight, grad, learning_rate,
constraint=None)`, one SGD step with the constraint applied to the UPDATED weight.

Expected values: `keras.optimizers.SGD(learning_rate).apply_gradients([(grad, variable)])` on a
`keras.Variable` holding the weight, its `constraint` attribute set (Keras's optimizer applies
it right after the update). `keras.Variable(..., constraint=c)` is no way to set it: Keras
3.15.1 drops that keyword silently, so the attribute is assigned after construction.

How the constraint reaches the reader's step: it is built in the child (`session.new(
"constraints.MaxNorm", ...)`), and the handle is passed as the argument of `session.call(
"optimizers.sgd_step", ...)`: the child hands the reader's function the object itself.
Two kinds of constraint are used:
* the given `optimizers.ClipWeights(min_value, max_value)` (elementwise clip; on the Keras
  side `lambda v: keras.ops.clip(v, min_value, max_value)`), which is not an exercise, so the
  step is graded whatever the state of chapter 11;
* the reader's own MaxNorm, MinMaxNorm, UnitNorm and NonNeg (chapter 11). Before a case uses
  one, the check applies it to the correctly updated weight and compares with Keras's
  constraint; when it disagrees (or is unfinished), that case is left out and the pass line
  says so: a mistake of chapter 11 is not charged to the step a second time.

The answers the misconceptions give, with Keras's constraint C: C(w) - lr*g (constraint first,
or only at initialisation), w - lr*g (constraint ignored), C(w + lr*g) (gradient added).
Nothing is random at the reader's end: no statistical test.
"""
import contextlib
import io

import numpy as np

from convbook import checking, oracle
from convbook.checks import (ATOL_FRACTION, RTOL, Misconception, Outcome, StudentError, case_rng,
                             check, compare_outcomes, student_call, student_session)
from convbook.checks.constraints import keras_constraint, weights_with_norms

DTYPE = np.float32

CONSTRAINT_FIRST = Misconception(
    "optimizer.constraint_before_update",
    "You applied the constraint to the old weight and then took the step, "
    "constraint(w) - learning_rate * grad: Keras updates first and projects the result, "
    "constraint(w - learning_rate * grad), so the weight that leaves the step satisfies the "
    "constraint.")
CONSTRAINT_IGNORED = Misconception(
    "optimizer.constraint_ignored",
    "Your step ignores the constraint (w - learning_rate * grad): when one is given, apply it "
    "to the updated weight and return what it returns.")
GRADIENT_ADDED = Misconception(
    "optimizer.gradient_added",
    "You added the gradient, w + learning_rate * grad: gradient DESCENT moves against the "
    "gradient, w - learning_rate * grad (then the constraint, if any).")

READER_CONSTRAINTS = ("MaxNorm", "MinMaxNorm", "UnitNorm", "NonNeg")


# --------------------------------------------------------------------------- Keras oracle

def keras_constraint_object(spec):
    """The Keras-side constraint of `spec` = (class name, config) or None."""
    if spec is None:
        return None
    keras = oracle.keras()
    name, config = spec
    if name == "ClipWeights":
        lo, hi = config["min_value"], config["max_value"]
        return lambda v: keras.ops.clip(v, lo, hi)
    return getattr(keras.constraints, name)(**config)


def keras_sgd_steps(weight, grads, learning_rate, spec=None):
    """Keras's SGD on one variable: the weight after each gradient of `grads` (a list), as a
    list of arrays. The variable's `constraint` is set as an attribute (see the docstring)."""
    keras = oracle.keras()
    variable = keras.Variable(np.asarray(weight, DTYPE))
    variable.constraint = keras_constraint_object(spec)
    optimizer = keras.optimizers.SGD(learning_rate)
    weights = []
    for grad in grads:
        optimizer.apply_gradients([(np.asarray(grad, DTYPE), variable)])
        weights.append(keras.ops.convert_to_numpy(variable))
    return weights


def keras_sgd_step(weight, grad, learning_rate, spec=None):
    """What sgd_step(weight, grad, learning_rate, constraint) should return: one step of
    keras.optimizers.SGD on a variable whose constraint is `spec` ((name, config) or None)."""
    return keras_sgd_steps(weight, [grad], learning_rate, spec)[0]


def _apply_keras(spec, w):
    if spec is None:
        return np.asarray(w, DTYPE)
    name, config = spec
    if name == "ClipWeights":
        return np.clip(w, DTYPE(config["min_value"]), DTYPE(config["max_value"]))
    return keras_constraint(name, w, **config)


# ------------------------------------------------------------------------------ the cases

def describe_constraint(spec):
    """"MaxNorm(max_value=1.0, axis=0)" for spec = (class name, config); "None" for None."""
    if spec is None:
        return "None"
    name, config = spec
    return f"{name}({', '.join(f'{k}={v!r}' for k, v in config.items())})"


def _draw(rng, shape, spec, scale):
    """(weight, grad): a weight whose vectors straddle the norm bounds of `spec`."""
    if spec is not None and "max_value" in spec[1] and spec[0] != "ClipWeights":
        config = spec[1]
        weight = weights_with_norms(rng, shape, config.get("axis", 0),
                                    config.get("min_value", 0.0), config["max_value"],
                                    zero_vector=False)
    else:
        weight = (rng.standard_normal(shape) * scale).astype(DTYPE)
    grad = rng.standard_normal(shape).astype(DTYPE)
    return weight, grad


def _cases(rng, hidden):
    """(shape, learning_rate, spec, pass_none_explicitly)."""
    if not hidden:
        return [((6,), 0.1, None, False),
                ((3, 3, 2, 4), 0.5, ("ClipWeights", {"min_value": -0.5, "max_value": 0.5}),
                 False),
                ((3, 3, 2, 4), 0.1, ("MaxNorm", {"max_value": 1.0, "axis": [0, 1, 2]}), False),
                ((8,), 0.2, ("MinMaxNorm", {"min_value": 0.5, "max_value": 1.0, "rate": 1.0,
                                            "axis": 0}), False),
                ((2, 2, 3, 2), 0.3, ("NonNeg", {}), False),
                ((3, 3, 1, 2), 0.05, None, True)]
    cases = []
    for i in range(10):
        if i % 2:
            shape = (int(rng.integers(2, 65)),)
            axis = 0
        else:
            shape = (int(rng.integers(1, 6)), int(rng.integers(1, 6)), int(rng.integers(1, 9)),
                     int(rng.integers(2, 17)))
            axis = [0, 1, 2]
        kind = ["ClipWeights", "MaxNorm", "MinMaxNorm", None, "UnitNorm", "NonNeg",
                "ClipWeights", "MaxNorm", "MinMaxNorm", "ClipWeights"][i]
        top = round(float(rng.uniform(0.3, 2.0)), 3)
        spec = {None: None,
                "ClipWeights": ("ClipWeights", {"min_value": -top, "max_value": top}),
                "MaxNorm": ("MaxNorm", {"max_value": top, "axis": axis}),
                "MinMaxNorm": ("MinMaxNorm", {
                    "min_value": round(top / 2, 3), "max_value": top,
                    "rate": round(float(rng.choice([1.0, rng.uniform(0.1, 0.9)])), 3),
                    "axis": axis}),
                "UnitNorm": ("UnitNorm", {"axis": axis}),
                "NonNeg": ("NonNeg", {})}[kind]
        cases.append((shape, round(float(rng.uniform(0.01, 1.0)), 3), spec, i == 3))
    return cases


def _student_constraint(session, spec, updated, expected_projection):
    """The reader's constraint for `spec` as a handle in the child, or None when it does
    not project `updated` as Keras does (unfinished or wrong: chapter 11's checks say why)."""
    name, config = spec
    module = "optimizers" if name == "ClipWeights" else "constraints"
    try:
        handle = session.new(f"{module}.{name}", **config)
        if name == "ClipWeights":
            return handle
        projected = handle(updated)
    except StudentError:
        return None
    if not checking.matches(projected, expected_projection, RTOL, ATOL_FRACTION):
        return None
    return handle


@check
def check_sgd_step(hidden=False):
    """Exercise 12.1: `optimizers.sgd_step(weight, grad, learning_rate, constraint)` against
    one step of keras.optimizers.SGD on a variable with that constraint."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    rng = case_rng(hidden, seed=1201)
    name = "optimizers.sgd_step"
    outcomes, left_out = [], []
    with student_session() as session:
        for shape, lr, spec, explicit_none in _cases(rng, hidden):
            weight, grad = _draw(rng, shape, spec, scale=1.0)
            step = DTYPE(lr) * grad
            updated = weight - step
            expected = keras_sgd_step(weight, grad, lr, spec)
            handle = None
            if spec is not None:
                handle = _student_constraint(session, spec, updated, _apply_keras(spec, updated))
                if handle is None:
                    if spec[0] not in left_out:
                        left_out.append(spec[0])
                    continue
            passes_constraint = spec is not None or explicit_none
            case = "sgd_step({}{})".format(
                checking.describe_case(weight=weight, grad=grad, learning_rate=lr),
                f", constraint={describe_constraint(spec)}" if passes_constraint else "")
            args = (weight, grad, lr) + ((handle,) if passes_constraint else ())
            actual = student_call(session, name, *args, case=case)
            wrong = {GRADIENT_ADDED: _apply_keras(spec, weight + step)}
            if spec is not None:
                wrong[CONSTRAINT_FIRST] = _apply_keras(spec, weight) - step
                wrong[CONSTRAINT_IGNORED] = updated
            outcomes.append(Outcome(case, actual, expected, wrong))
    shown = io.StringIO()
    with contextlib.redirect_stdout(shown):
        compare_outcomes(name, outcomes)
    line = shown.getvalue().strip()
    if left_out:
        yours = " and ".join(left_out)
        verb = "does" if len(left_out) == 1 else "do"
        line += (f" (No case used your {yours}: {'it' if len(left_out) == 1 else 'they'} "
                 f"{verb} not project like Keras's yet, and chapter 11's checks say why; your "
                 f"step was checked with the other constraints.)")
    print(line)
