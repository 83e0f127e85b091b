"""Checks for chapter 11, kernel_constraint: the `__call__` of `constraints.MaxNorm`,
`UnitNorm`, `MinMaxNorm` and `NonNeg`.

Each case builds the reader's constraint in the child (`session.new("constraints.MaxNorm",
max_value, axis=...)`) and applies it to a weight there; the kernel builds the same
`keras.constraints.MaxNorm(...)` and applies it to the same weight.

The weights are conv kernels (kh, kw, in_channels, filters), with Dense-like 2-D and bias-like
1-D weights among the hidden cases. Along the case's axis their vectors have norms spread
below, inside and above the bounds, and (when there are at least two vectors) one vector is all
zeros: there Keras's EPSILON in the denominator is what keeps the answer 0 instead of NaN.
The axes include Keras's default 0 (the kernel rows: mistake 7 of the notes) and the
per-filter [0, 1, 2].

The answers the misconceptions give are computed with Keras too: the same constraint over
axis 0 or over the whole tensor, UnitNorm scaled by max_value (a MaxNorm that also scales
short vectors up), keras.ops.clip of every entry (bounds on the weights instead of on the
norm), MinMaxNorm with rate=1 (rate ignored) or with 1 - rate, abs for NonNeg, and the
norm ratio without EPSILON, in numpy on Keras's norms (NaN on the zero vector). Nothing here
is random at the reader's end: no statistical test.
"""
import numpy as np

from convbook import oracle
from convbook.checks import (_KIND, Misconception, Outcome, StudentError, case_rng, check,
                             compare_outcomes, student_session)
from convbook.checking import fail

DTYPE = np.float32

# ----------------------------------------------------------------------- misconceptions
AXIS_ZERO_ONLY = Misconception(
    "constraints.axis_zero_only",
    "You took the norms over axis 0 whatever `axis` says: use the axes the constraint was "
    "built with (`axes`, given at the top of __call__). For a conv kernel (kh, kw, in, filters) "
    "axis=[0, 1, 2] means one norm per filter, over kh*kw*in weights.")
WHOLE_TENSOR = Misconception(
    "constraints.whole_tensor_norm",
    "You took one norm over the whole array: the norm is over `axes` only, one norm for each "
    "position along the other axes (keepdims=True, so that it broadcasts back).")
MAX_NORM_SCALES_UP = Misconception(
    "constraints.max_norm_scales_up",
    "Your MaxNorm rescales every vector to norm max_value, the short ones too: a max-norm only "
    "shrinks vectors longer than max_value and leaves the others alone, "
    "w * clip(n, 0, max_value) / (EPSILON + n).")
MAX_NORM_CLIPS_ENTRIES = Misconception(
    "constraints.max_norm_clips_entries",
    "You clipped every weight into [-max_value, max_value]: MaxNorm bounds the NORM of each "
    "vector and rescales the whole vector, w * clip(n, 0, max_value) / (EPSILON + n); its "
    "entries keep their ratios.")
MIN_MAX_CLIPS_ENTRIES = Misconception(
    "constraints.min_max_clips_entries",
    "You clipped every weight into [min_value, max_value]: MinMaxNorm bounds the NORM of each "
    "vector, not its entries (which may be negative or tiny); it rescales the whole vector to "
    "the desired norm.")
RATE_IGNORED = Misconception(
    "constraints.min_max_rate_ignored",
    "You ignored `rate` (your answer is what rate=1 gives): the desired norm is "
    "rate * clip(n, min_value, max_value) + (1 - rate) * n, only part of the way to the bounds.")
RATE_SWAPPED = Misconception(
    "constraints.min_max_rate_swapped",
    "You swapped rate and 1 - rate: the desired norm is rate * clip(n, min_value, max_value) "
    "+ (1 - rate) * n, so rate=1 enforces the bounds at once.")
NO_EPSILON = Misconception(
    "constraints.no_epsilon",
    "Your answer is NaN where a vector is all zeros (0 / 0): Keras divides by EPSILON + n, "
    "with EPSILON = 1e-7, so a zero vector stays zero.")
NON_NEG_ABS = Misconception(
    "constraints.non_neg_abs",
    "Your NonNeg returns |w|: it replaces each negative weight by 0, max(w, 0), rather than "
    "flipping its sign.")


# --------------------------------------------------------------------------- Keras oracle

def keras_constraint(class_name, w, **config):
    """keras.constraints.<class_name>(**config)(w) as a numpy array."""
    keras = oracle.keras()
    constraint = getattr(keras.constraints, class_name)(**config)
    return keras.ops.convert_to_numpy(constraint(np.asarray(w, DTYPE)))


def keras_norms(w, axis):
    """Euclidean norms of w over `axis` (None: every axis), with keras.ops, keepdims."""
    keras = oracle.keras()
    return keras.ops.convert_to_numpy(keras.ops.sqrt(keras.ops.sum(
        keras.ops.square(np.asarray(w, DTYPE)), axis=axis, keepdims=True)))


# ------------------------------------------------------------------------------ the cases

def _all_axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    return tuple(sorted(a % ndim for a in ([axis] if isinstance(axis, int) else axis)))


def weights_with_norms(rng, shape, axis, low, high, zero_vector=True):
    """Random float32 weights whose vectors along `axis` have norms around [low, high]:
    a zero vector first (when asked and there are two vectors or more), then one below `low`,
    one inside, one above `high`, the rest log-uniform between low/4 and 4*high."""
    w = rng.standard_normal(shape)
    axes = _all_axes(axis, len(shape))
    norms = np.sqrt(np.sum(w * w, axis=axes, keepdims=True))
    lo = max(low, 0.05)
    targets = np.exp(rng.uniform(np.log(lo / 4), np.log(4 * high), size=norms.shape))
    special = ([0.0] if zero_vector and targets.size > 1 else []) + \
        [lo / 2, (lo + high) / 2, 2 * high]
    special = special[:targets.size]
    order = rng.permutation(targets.size)[:len(special)]
    targets.flat[order] = special
    return (w / norms * targets).astype(DTYPE)


KERNEL_AXES = [0, [0, 1, 2], 3, -1, [1, 2], [0, 1], None]


def _hidden_shape_and_axis(rng, i):
    """Mostly conv kernels; every fourth a Dense kernel (in, out), every sixth a bias."""
    if i % 6 == 5:
        return (int(rng.integers(2, 40)),), 0
    if i % 4 == 3:
        return tuple(int(v) for v in rng.integers(2, 30, size=2)), [0, -1, 1][i % 3]
    shape = (int(rng.integers(1, 6)), int(rng.integers(1, 6)), int(rng.integers(1, 17)),
             int(rng.integers(2, 33)))
    axis = [0, 1, 2] if i % 2 == 0 else KERNEL_AXES[int(rng.integers(len(KERNEL_AXES)))]
    return shape, axis


def _describe(class_name, config, w):
    args = ", ".join(f"{k}={v!r}" for k, v in config.items())
    return f"{class_name}({args})(w=<float32 array of shape {tuple(w.shape)}>)"


def _student_apply(session, class_name, config, w, case):
    """The reader's constraints.<class_name>(**config) built in the child, applied to w."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    target = f"constraints.{class_name}"
    try:
        constraint = session.new(target, **config)
        return constraint(w)
    except StudentError as err:
        kind = _KIND.get(err.kind, "exception")
        fail(target, "" if kind == "not_implemented" else case, kind,
             str(err) if kind == "not_implemented" or not case else f"\n{err}")


def _wrong_axes(class_name, config, w, axis):
    """{Misconception: answer}: the same constraint over axis 0 / over the whole tensor,
    when those differ from `axis`."""
    wrong = {}
    axes = _all_axes(axis, w.ndim)
    if axes != (0,):
        wrong[AXIS_ZERO_ONLY] = keras_constraint(class_name, w, **dict(config, axis=0))
    if axes != tuple(range(w.ndim)):
        wrong[WHOLE_TENSOR] = keras_constraint(class_name, w, **dict(config, axis=None))
    return wrong


def _no_epsilon(w, axis, desired_of):
    """The norm ratio without EPSILON: w * desired(n) / n (NaN where n == 0), float32, with
    Keras's norms."""
    n = keras_norms(w, axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (w * (desired_of(n) / n)).astype(DTYPE)


def _run(name, class_name, cases, wrong_of):
    """Apply the reader's constraint to every case's weight; compare with Keras."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    outcomes = []
    with student_session() as session:
        for config, w in cases:
            case = _describe(class_name, config, w)
            actual = _student_apply(session, class_name, config, w, case)
            expected = keras_constraint(class_name, w, **config)
            outcomes.append(Outcome(case, actual, expected, wrong_of(config, w)))
    compare_outcomes(name, outcomes)


# -------------------------------------------------------------------------------- MaxNorm

def _max_norm_cases(rng, hidden):
    if not hidden:
        specs = [((3, 3, 2, 4), 1.0, [0, 1, 2]), ((3, 3, 2, 4), 2.0, 0),
                 ((2, 3, 3, 5), 1.5, 3), ((5, 4), 1.0, 0), ((3, 2, 2, 3), 0.5, [1, 2])]
    else:
        specs = []
        for i in range(12):
            shape, axis = _hidden_shape_and_axis(rng, i)
            specs.append((shape, round(float(rng.uniform(0.3, 3.0)), 3), axis))
    return [({"max_value": m, "axis": axis}, weights_with_norms(rng, shape, axis, 0.0, m))
            for shape, m, axis in specs]


@check
def check_max_norm(hidden=False):
    """Exercise 11.1: `constraints.MaxNorm(max_value, axis)(w)` against keras.constraints."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    keras = oracle.keras()
    rng = case_rng(hidden, seed=1101)

    def wrong(config, w):
        m, axis = config["max_value"], config["axis"]
        answers = _wrong_axes("MaxNorm", config, w, axis)
        answers[MAX_NORM_SCALES_UP] = m * keras_constraint("UnitNorm", w, axis=axis)
        answers[MAX_NORM_CLIPS_ENTRIES] = keras.ops.convert_to_numpy(keras.ops.clip(w, -m, m))
        answers[NO_EPSILON] = _no_epsilon(w, axis, lambda n: np.clip(n, 0, DTYPE(m)))
        return answers

    _run("constraints.MaxNorm", "MaxNorm", _max_norm_cases(rng, hidden), wrong)


# ------------------------------------------------------------------------------- UnitNorm

def _unit_norm_cases(rng, hidden):
    if not hidden:
        specs = [((3, 3, 2, 4), [0, 1, 2]), ((3, 3, 2, 4), 0), ((2, 2, 3, 5), 3), ((6,), 0)]
    else:
        specs = [_hidden_shape_and_axis(rng, i) for i in range(10)]
    return [({"axis": axis}, weights_with_norms(rng, shape, axis, 0.5, 2.0))
            for shape, axis in specs]


@check
def check_unit_norm(hidden=False):
    """Exercise 11.2: `constraints.UnitNorm(axis)(w)` against keras.constraints.UnitNorm."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    rng = case_rng(hidden, seed=1102)

    def wrong(config, w):
        answers = _wrong_axes("UnitNorm", config, w, config["axis"])
        answers[NO_EPSILON] = _no_epsilon(w, config["axis"], lambda n: np.ones_like(n))
        return answers

    _run("constraints.UnitNorm", "UnitNorm", _unit_norm_cases(rng, hidden), wrong)


# ----------------------------------------------------------------------------- MinMaxNorm

def _min_max_cases(rng, hidden):
    if not hidden:
        specs = [((3, 3, 2, 4), 0.5, 1.0, 1.0, [0, 1, 2]), ((3, 3, 2, 4), 0.5, 1.5, 0.5, 0),
                 ((8,), 0.5, 1.0, 1.0, 0), ((2, 2, 3, 6), 0.2, 2.0, 0.25, 3),
                 ((4, 5), 1.0, 2.0, 0.75, 0)]
    else:
        specs = []
        for i in range(12):
            shape, axis = _hidden_shape_and_axis(rng, i)
            low = round(float(rng.uniform(0.1, 1.5)), 3)
            high = round(low + float(rng.uniform(0.2, 2.0)), 3)
            rate = 1.0 if i % 3 == 0 else round(float(rng.uniform(0.05, 0.95)), 3)
            specs.append((shape, low, high, rate, axis))
    return [({"min_value": lo, "max_value": hi, "rate": rate, "axis": axis},
             weights_with_norms(rng, shape, axis, lo, hi))
            for shape, lo, hi, rate, axis in specs]


@check
def check_min_max_norm(hidden=False):
    """Exercise 11.3: `constraints.MinMaxNorm(min_value, max_value, rate, axis)(w)` against
    keras.constraints.MinMaxNorm."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    keras = oracle.keras()
    rng = case_rng(hidden, seed=1103)

    def wrong(config, w):
        lo, hi, rate, axis = (config[k] for k in ("min_value", "max_value", "rate", "axis"))
        answers = _wrong_axes("MinMaxNorm", config, w, axis)
        answers[MIN_MAX_CLIPS_ENTRIES] = keras.ops.convert_to_numpy(keras.ops.clip(w, lo, hi))
        if rate != 1.0:
            answers[RATE_IGNORED] = keras_constraint("MinMaxNorm", w, **dict(config, rate=1.0))
        if rate != 0.5:
            answers[RATE_SWAPPED] = keras_constraint("MinMaxNorm", w,
                                                     **dict(config, rate=1.0 - rate))
        answers[NO_EPSILON] = _no_epsilon(
            w, axis, lambda n: DTYPE(rate) * np.clip(n, DTYPE(lo), DTYPE(hi))
            + DTYPE(1 - rate) * n)
        return answers

    _run("constraints.MinMaxNorm", "MinMaxNorm", _min_max_cases(rng, hidden), wrong)


# --------------------------------------------------------------------------------- NonNeg

@check
def check_non_neg(hidden=False):
    """Exercise 11.4: `constraints.NonNeg()(w)` against keras.constraints.NonNeg."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    keras = oracle.keras()
    rng = case_rng(hidden, seed=1104)
    if not hidden:
        shapes = [(3, 3, 2, 4), (7,), (4, 5)]
    else:
        shapes = [tuple(int(v) for v in rng.integers(1, 9, size=int(rng.integers(1, 5))))
                  for _ in range(8)]
    cases = [({}, rng.standard_normal(shape).astype(DTYPE)) for shape in shapes]
    _run("constraints.NonNeg", "NonNeg", cases, lambda config, w: {
        NON_NEG_ABS: keras.ops.convert_to_numpy(keras.ops.abs(w))})
