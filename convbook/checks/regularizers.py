"""Checks for chapter 08, kernel_regularizer: the penalties `regularizers.L1.__call__`,
`regularizers.L2.__call__` and `regularizers.L1L2.__call__`.

Where the expected values come from:
* `keras.regularizers.L1 / L2 / L1L2` built with the case's factors (or none: the defaults)
  and called on the case's weights, a float32 array shaped like a Conv2D kernel
  (kh, kw, in_channels, filters);
* `keras.regularizers.get("l1l2")` for the string form (a zero penalty);
* `layer.losses[0]` of a built `keras.layers.Conv2D` with `kernel_regularizer=` set: the
  reader's regularizer is called on that layer's own initialised kernel.
The reader's regularizer objects are created and called in the child process (`session.new`).
The answers the misconceptions give are computed from the same weights in numpy (float64).
No randomness in the comparison: the checks are deterministic given their cases.
"""
import numpy as np

from convbook import checking, oracle
from convbook.checks import (_KIND, Misconception, Outcome, case_rng, check, compare_outcomes,
                             student_session)
from convbook.harness import StudentError

DTYPE = np.float32
DEFAULT_FACTOR = 0.01          # Keras's default for L1() and L2()

# ----------------------------------------------------------------------- misconceptions
L2_HALF = Misconception(
    "regularizers.l2_half",
    "Your L2 penalty is half of Keras's: l2/2 * sum(w**2) is the textbook 'weight decay' "
    "form, but Keras's L2(l2) is l2 * sum(w**2), with no 1/2 (its gradient is 2 * l2 * w).")
L2_NORM = Misconception(
    "regularizers.l2_norm_not_squared",
    "You used the norm sqrt(sum(w**2)): Keras's L2 penalty is the SQUARED norm, "
    "l2 * sum(w**2), with no square root.")
L1_NO_ABS = Misconception(
    "regularizers.l1_without_abs",
    "You summed the weights themselves, l1 * sum(w): positive and negative weights cancel. "
    "The L1 penalty is l1 * sum(|w|), the absolute values.")
MEAN_NOT_SUM = Misconception(
    "regularizers.mean_not_sum",
    "You averaged over the weights (np.mean): Keras SUMS over every entry, so the penalty "
    "grows with the number of weights and each weight feels the same pull in a small and a "
    "large layer.")
FACTOR_HARDCODED = Misconception(
    "regularizers.factor_hardcoded",
    "You used 0.01 whatever the factor: 0.01 is only the default; multiply by the factor the "
    "regularizer was created with (self.l1 or self.l2).")
L1L2_ONLY_L1 = Misconception(
    "regularizers.l1l2_only_l1",
    "Your L1L2 penalty has only its L1 term: it is l1 * sum(|w|) + l2 * sum(w**2), both terms.")
L1L2_ONLY_L2 = Misconception(
    "regularizers.l1l2_only_l2",
    "Your L1L2 penalty has only its L2 term: it is l1 * sum(|w|) + l2 * sum(w**2), both terms.")
L1L2_DEFAULTS = Misconception(
    "regularizers.l1l2_default_001",
    "Your L1L2 used 0.01 for a factor that was not given: keras.regularizers.L1L2() defaults to "
    "l1=0 and l2=0 (and the string 'l1l2' gives that, a zero penalty); only L1() and L2() "
    "default to 0.01.")


# --------------------------------------------------------------------------- Keras oracles

def keras_regularizer(class_name, **factors):
    """keras.regularizers.<class_name>(**factors); class_name "get:<name>" means
    keras.regularizers.get(<name>)."""
    keras = oracle.keras()
    if class_name.startswith("get:"):
        return keras.regularizers.get(class_name[4:])
    return getattr(keras.regularizers, class_name)(**factors)


def keras_penalty(class_name, x, **factors):
    """Keras's penalty of the weights `x` as a float (see `keras_regularizer`)."""
    keras = oracle.keras()
    regularizer = keras_regularizer(class_name, **factors)
    return float(keras.ops.convert_to_numpy(regularizer(np.asarray(x, DTYPE))))


def keras_layer_penalty(class_name, kernel_size, in_channels, filters, seed, **factors):
    """A keras.layers.Conv2D(filters, kernel_size, kernel_regularizer=<class_name>(**factors)),
    built on `in_channels` channels with a seeded glorot_uniform kernel. Returns its kernel and
    `layer.losses[0]`, the penalty Keras adds to the training loss, as a float."""
    keras = oracle.keras()
    layer = keras.layers.Conv2D(
        filters, kernel_size,
        kernel_initializer=keras.initializers.GlorotUniform(seed=int(seed)),
        kernel_regularizer=keras_regularizer(class_name, **factors))
    layer.build((None, 16, 16, in_channels))
    kernel = keras.ops.convert_to_numpy(layer.kernel)
    (penalty,) = layer.losses
    return kernel, float(keras.ops.convert_to_numpy(penalty))


# ------------------------------------------------------------------ the reader's objects

def student_regularizer_call(session, class_name, factors, method, x, case):
    """Create the reader's regularizer in the child (`regularizers.<class_name>(**factors)`,
    or `regularizers.get(name)` for "get:<name>") and call `method` ("__call__" or
    "gradient") on `x`. A failure of the reader's code becomes feedback naming the case."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    label = _label(class_name, method)
    try:
        if class_name.startswith("get:"):
            regularizer = session.new("regularizers.get", class_name[4:])
        else:
            regularizer = session.new(f"regularizers.{class_name}", **factors)
        if method == "__call__":
            return regularizer(x)
        return regularizer.call(method, x)
    except StudentError as err:
        kind = _KIND.get(err.kind, "exception")
        checking.fail(label, "" if kind == "not_implemented" else case, kind,
                      str(err) if kind == "not_implemented" or not case else f"\n{err}")


def _label(class_name, method):
    name = "L1L2" if class_name.startswith("get:") else class_name
    return f"regularizers.{name}.{method}"


def describe(class_name, factors, x=None, what=None):
    """'L2(l2=0.3)(x), x=<float32 array of shape (3, 3, 2, 4)>'."""
    if class_name.startswith("get:"):
        head = f"regularizers.get({class_name[4:]!r})"
    else:
        head = f"{class_name}({', '.join(f'{k}={v:g}' for k, v in factors.items())})"
    if what is not None:
        return f"{head}({what})"
    return f"{head}(x), {checking.describe_case(x=x)}"


# ------------------------------------------------------------------------------- cases

def _kernel(rng, shape):
    return (rng.standard_normal(shape) * rng.uniform(0.2, 2.0)).astype(DTYPE)


def _factor(rng):
    """None (the default) or a factor far from 0.01 and 0.02 (where a missing 1/2 and a
    hard-coded 0.01 would give the same number)."""
    return None if rng.random() < 0.25 else float(np.exp(rng.uniform(np.log(0.03), np.log(3))))


def _single_cases(rng, hidden):
    """(factor or None, kernel shape, from_layer) for L1 and L2."""
    if not hidden:
        return [(None, (3, 3, 1, 2), False), (0.1, (3, 3, 2, 4), False),
                (1.5, (1, 1, 8, 3), False), (0.05, (3, 3, 2, 4), True)]
    cases = []
    for i in range(10):
        shape = (int(rng.integers(1, 8)), int(rng.integers(1, 8)), int(rng.integers(1, 17)),
                 int(rng.integers(1, 33)))
        cases.append((_factor(rng), shape, i >= 8))
    return cases


def _misconceptions_single(class_name, factor, x, expected):
    x = np.asarray(x, np.float64)
    used = DEFAULT_FACTOR if factor is None else factor
    term = np.abs(x) if class_name == "L1" else np.square(x)
    wrong = {MEAN_NOT_SUM: used * float(np.mean(term))}
    if abs(used - DEFAULT_FACTOR) > 1e-9:
        wrong[FACTOR_HARDCODED] = DEFAULT_FACTOR * float(np.sum(term))
    if class_name == "L1":
        wrong[L1_NO_ABS] = used * float(np.sum(x))
    else:
        wrong[L2_HALF] = 0.5 * expected
        wrong[L2_NORM] = used * float(np.sqrt(np.sum(term)))
    return wrong


def _check_single(class_name, seed, hidden):
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    rng = case_rng(hidden, seed=seed)
    key = class_name.lower()
    outcomes = []
    with student_session() as session:
        for factor, shape, from_layer in _single_cases(rng, hidden):
            factors = {} if factor is None else {key: factor}
            if from_layer:
                kh, kw, channels, filters = shape
                x, expected = keras_layer_penalty(class_name, (kh, kw), channels, filters,
                                                  rng.integers(2**31), **factors)
                case = describe(class_name, factors, what=(
                    f"the kernel {x.shape} of a built keras.layers.Conv2D({filters}, "
                    f"({kh}, {kw})) on {channels} channels; Keras: layer.losses[0]"))
            else:
                x = _kernel(rng, shape)
                expected = keras_penalty(class_name, x, **factors)
                case = describe(class_name, factors, x)
            actual = student_regularizer_call(session, class_name, factors, "__call__", x, case)
            outcomes.append(Outcome(case, actual, expected,
                                    _misconceptions_single(class_name, factor, x, expected)))
    compare_outcomes(_label(class_name, "__call__"), outcomes)


@check
def check_l1(hidden=False):
    """Exercise 8.1: `regularizers.L1(l1)(x)` against keras.regularizers.L1."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    _check_single("L1", 801, hidden)


@check
def check_l2(hidden=False):
    """Exercise 8.2: `regularizers.L2(l2)(x)` against keras.regularizers.L2."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    _check_single("L2", 802, hidden)


def _l1l2_cases(rng, hidden):
    """(class_name, factors, kernel shape, from_layer); a factor missing from `factors` is
    left at its default (0)."""
    if not hidden:
        return [("L1L2", {"l1": 0.01, "l2": 0.01}, (3, 3, 2, 2), False),
                ("L1L2", {"l1": 0.2, "l2": 0.05}, (3, 3, 3, 4), False),
                ("L1L2", {"l2": 0.3}, (1, 1, 4, 4), False),
                ("L1L2", {"l1": 0.5}, (2, 2, 2, 3), False),
                ("L1L2", {}, (3, 3, 2, 2), False),
                ("get:l1l2", {}, (3, 3, 2, 2), False),
                ("L1L2", {"l1": 0.02, "l2": 0.03}, (3, 3, 2, 4), True)]
    cases = []
    for i in range(10):
        shape = (int(rng.integers(1, 8)), int(rng.integers(1, 8)), int(rng.integers(1, 17)),
                 int(rng.integers(1, 33)))
        factors = {}
        for name in ("l1", "l2"):
            if rng.random() < 0.8 or i == 0:
                factors[name] = float(np.exp(rng.uniform(np.log(0.03), np.log(3))))
        cases.append(("L1L2", factors, shape, i >= 8))
    cases.append(("get:l1l2", {}, (int(rng.integers(1, 6)), 3, 4, 8), False))
    return cases


def _misconceptions_l1l2(factors, x):
    x = np.asarray(x, np.float64)
    l1, l2 = factors.get("l1", 0.0), factors.get("l2", 0.0)
    abs_sum, square_sum = float(np.sum(np.abs(x))), float(np.sum(np.square(x)))
    wrong = {MEAN_NOT_SUM: l1 * abs_sum / x.size + l2 * square_sum / x.size}
    if l1 and l2:
        wrong[L1L2_ONLY_L1] = l1 * abs_sum
        wrong[L1L2_ONLY_L2] = l2 * square_sum
    if l2:
        wrong[L2_HALF] = l1 * abs_sum + 0.5 * l2 * square_sum
    if l1:
        wrong[L1_NO_ABS] = l1 * float(np.sum(x)) + l2 * square_sum
    if "l1" not in factors or "l2" not in factors:
        wrong[L1L2_DEFAULTS] = (factors.get("l1", 0.01) * abs_sum
                                + factors.get("l2", 0.01) * square_sum)
    return wrong


@check
def check_l1l2(hidden=False):
    """Exercise 8.3: `regularizers.L1L2(l1, l2)(x)` against keras.regularizers.L1L2 (and the
    string 'l1l2' against keras.regularizers.get('l1l2'))."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    rng = case_rng(hidden, seed=803)
    outcomes = []
    with student_session() as session:
        for class_name, factors, shape, from_layer in _l1l2_cases(rng, hidden):
            if from_layer:
                kh, kw, channels, filters = shape
                x, expected = keras_layer_penalty("L1L2", (kh, kw), channels, filters,
                                                  rng.integers(2**31), **factors)
                case = describe(class_name, factors, what=(
                    f"the kernel {x.shape} of a built keras.layers.Conv2D({filters}, "
                    f"({kh}, {kw})) on {channels} channels; Keras: layer.losses[0]"))
            else:
                x = _kernel(rng, shape)
                expected = keras_penalty(class_name, x, **factors)
                case = describe(class_name, factors, x)
            actual = student_regularizer_call(session, class_name, factors, "__call__", x, case)
            outcomes.append(Outcome(case, actual, expected, _misconceptions_l1l2(factors, x)))
    compare_outcomes("regularizers.L1L2.__call__", outcomes)
