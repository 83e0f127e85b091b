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


# ------------------------------------------------------------ OrthogonalRegularizer.__call__
# Exercise 8.4, against keras.regularizers.OrthogonalRegularizer(factor, mode) called on the
# case's float32 matrix converted to a Keras tensor (Keras accepts rank 2 only: a Conv2D
# kernel is reshaped to (kh*kw*in_channels, filters) first, as the Orthogonal initializer
# flattens it). A tensor, not a numpy array: on a numpy array Keras 3.15's normalize takes a
# numpy branch that turns axis=0 into axis=-1, so mode="columns" raises for a non-square
# matrix and silently divides the rows by the column norms for a square one (a layer always
# passes a tensor, so training is not affected; tests/test_checks_regularizers.py shows it).
# Keras's formula (keras/src/regularizers/regularizers.py): U = the rows (or columns) scaled
# to unit L2 norm, P = U U^T, penalty = factor * 0.5 * sum_{i != j} |P_ij| / (n (n-1) / 2),
# i.e. factor times the mean |cosine| over the ordered pairs i != j.
ORTHO_REG_NOT_NORMALISED = Misconception(
    "regularizers.orthogonal_not_normalised",
    "You took the dot products of the raw rows (or columns): Keras first scales each vector "
    "to unit L2 norm, so the penalty compares directions (cosines), not lengths.")
ORTHO_REG_DIAGONAL = Misconception(
    "regularizers.orthogonal_diagonal_included",
    "You kept the diagonal of U U^T (each unit vector with itself, always 1): Keras "
    "multiplies the product by 1 - I, so only pairs of DIFFERENT vectors count.")
ORTHO_REG_MODE_IGNORED = Misconception(
    "regularizers.orthogonal_mode_ignored",
    "You compared the rows in mode='columns': with mode='columns' the vectors are the "
    "columns of x (normalise along axis 0 and take U^T U).")
ORTHO_REG_SQUARED = Misconception(
    "regularizers.orthogonal_squared",
    "You squared the cosines: Keras's penalty sums their absolute values, |U U^T| off the "
    "diagonal.")
ORTHO_REG_PAIRS_TWICE = Misconception(
    "regularizers.orthogonal_pairs_counted_twice",
    "Your penalty is twice Keras's: the sum over i != j counts each pair twice, while the "
    "divisor n(n-1)/2 counts it once; Keras multiplies by 0.5 (the mean over i != j).")
ORTHO_REG_MEAN_ALL = Misconception(
    "regularizers.orthogonal_mean_over_all_entries",
    "You averaged over all n*n entries of the product (the zeroed diagonal too): Keras "
    "divides by the n(n-1) off-diagonal entries only.")


def _orthogonal_cases(rng, hidden):
    """(factor or None, mode or None, matrix shape, from_layer); from_layer: a Conv2D kernel
    (kh, kw, in, filters) reshaped to (kh*kw*in, filters)."""
    if not hidden:
        return [(None, None, (4, 6), False), (0.1, "rows", (5, 3), False),
                (0.5, "columns", (6, 4), False), (2.0, "columns", (3, 7), False),
                (0.01, "rows", (8, 8), False), (0.2, "columns", (3, 3, 2, 6), True)]
    cases = []
    for i in range(10):
        rows, cols = int(rng.integers(2, 40)), int(rng.integers(2, 40))
        factor = None if i == 0 else float(np.exp(rng.uniform(np.log(0.003), np.log(3))))
        mode = None if i == 0 else ("rows", "columns")[i % 2]
        if i >= 8:
            cases.append((factor, "columns", (int(rng.integers(1, 6)), int(rng.integers(1, 6)),
                                              int(rng.integers(1, 9)),
                                              int(rng.integers(2, 33))), True))
        else:
            cases.append((factor, mode, (rows, cols), False))
    return cases


def _matrix(rng, shape):
    """A float32 matrix whose rows and columns have very different lengths (so that
    forgetting to normalise, or the mode, changes the penalty)."""
    scales = np.exp(rng.uniform(-1.5, 1.5, size=(shape[0], 1)))
    x = rng.standard_normal(shape) * scales + rng.uniform(-0.5, 0.5, size=(1, shape[1]))
    return x.astype(DTYPE)


def orthogonal_penalty_variants(x, factor, mode):
    """{misconception: the penalty it gives} for the float32 matrix x (numpy, float64)."""
    factor = 0.01 if factor is None else factor
    v = np.asarray(x, np.float64)
    v = v if mode in (None, "rows") else v.T
    raw = np.asarray(x, np.float64)

    def penalty(vectors, normalise=True, keep_diagonal=False, power=1, half=0.5,
                divisor=None):
        if normalise:
            vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        product = vectors @ vectors.T
        n = len(product)
        if not keep_diagonal:
            product = product * (1.0 - np.eye(n))
        total = np.sum(np.abs(product) ** power)
        return factor * half * total / (n * (n - 1) / 2 if divisor is None else divisor)

    n = len(v)
    wrong = {ORTHO_REG_NOT_NORMALISED: penalty(v, normalise=False),
             ORTHO_REG_DIAGONAL: penalty(v, keep_diagonal=True),
             ORTHO_REG_SQUARED: penalty(v, power=2),
             ORTHO_REG_PAIRS_TWICE: penalty(v, half=1.0),
             ORTHO_REG_MEAN_ALL: penalty(v, half=1.0, divisor=n * n)}
    if mode == "columns":
        wrong[ORTHO_REG_MODE_IGNORED] = penalty(raw)
    return wrong


def keras_orthogonal_penalty(x, **arguments):
    """keras.regularizers.OrthogonalRegularizer(**arguments) of the matrix x, passed as a
    tensor (as a layer passes its kernel; see above for why not a numpy array)."""
    keras = oracle.keras()
    regularizer = keras.regularizers.OrthogonalRegularizer(**arguments)
    tensor = keras.ops.convert_to_tensor(np.asarray(x, DTYPE))
    return float(keras.ops.convert_to_numpy(regularizer(tensor)))


@check
def check_orthogonal_regularizer(hidden=False):
    """Exercise 8.4: `regularizers.OrthogonalRegularizer(factor, mode)(x)` against
    keras.regularizers.OrthogonalRegularizer on float32 matrices (and Conv2D kernels reshaped
    to (kh*kw*in, filters))."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    keras = oracle.keras()
    rng = case_rng(hidden, seed=804)
    class_name = "OrthogonalRegularizer"
    outcomes = []
    with student_session() as session:
        for factor, mode, shape, from_layer in _orthogonal_cases(rng, hidden):
            factors = {k: v for k, v in (("factor", factor), ("mode", mode)) if v is not None}
            if from_layer:
                layer = keras.layers.Conv2D(shape[3], shape[:2], kernel_initializer=(
                    keras.initializers.GlorotUniform(seed=int(rng.integers(2**31)))))
                layer.build((None, 16, 16, shape[2]))
                kernel = keras.ops.convert_to_numpy(layer.kernel)
                x = kernel.reshape(-1, shape[3]).astype(DTYPE)
                what = (f"the kernel {kernel.shape} of a built keras.layers.Conv2D({shape[3]}, "
                        f"{shape[:2]}) reshaped to {x.shape}")
            else:
                x = _matrix(rng, shape)
                what = None
            head = f"{class_name}({', '.join(f'{k}={v!r}' for k, v in factors.items())})"
            case = (f"{head}(x), {checking.describe_case(x=x)}" if what is None
                    else f"{head}({what})")
            expected = keras_orthogonal_penalty(x, **factors)
            actual = student_regularizer_call(session, class_name, factors, "__call__", x, case)
            outcomes.append(Outcome(case, actual, expected,
                                    orthogonal_penalty_variants(x, factor, mode)))
    compare_outcomes(_label(class_name, "__call__"), outcomes)
