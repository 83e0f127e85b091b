"""Checks for chapter 07, bias_initializer: the `__call__` of `initializers.Zeros`,
`initializers.Constant`, `initializers.RandomNormal` and `initializers.RandomUniform`.

The reader's initializers are created and called in the child (`session.new(...)`), exactly
as a layer uses them: `init = RandomNormal(mean, stddev, seed=...)`, then
`init(shape, dtype)`.

Where the expected values come from:
* Zeros and Constant: `keras.initializers.Zeros()(shape, dtype)` and
  `keras.initializers.Constant(value)(shape, dtype)`, compared value by value (integers and
  bools exactly, floats within the usual tolerance: Keras's Constant passes its value through
  float32 even for float64, so Constant(0.3) gives 0.30000001192...), and the dtype and the
  shape must be Keras's exactly.
* RandomNormal and RandomUniform: Keras draws other random numbers than numpy, so the values
  cannot be compared one by one. The check compares the reader's draws with a sample four
  times as large from `keras.initializers.RandomNormal / RandomUniform` with the same
  arguments (the same shape and dtype, asked for too), by the statistics below. The answers
  the misconceptions give are Keras samples too, from the initializer with the wrong
  arguments (e.g. RandomNormal(stddev=sqrt(stddev)) for "stddev used as a variance"); a
  misconception is named when the reader's draws pass every test against its sample.
* Random state, like Keras: an initializer with an int `seed` returns the same values on
  every call, and a new one with the same int the same values again; two different ints give
  different values; a `numpy.random.Generator` (convlib's counterpart of Keras's
  `SeedGenerator`) advances, so two calls differ; two initializers built with seed=None
  differ. (On ONE instance with seed=None, Keras repeats its values, having picked a random
  int when it was built, while convlib draws fresh ones on every call: that case is left
  out.) Keras's own behaviour is computed in each check and quoted in the feedback.

How likely a correct solution is to fail (the false-failure rate). A correct `__call__` draws
independent values from the right distribution whatever the random state it was given (the
child's numpy Generator, seeded from the case; at grading from the per-student hidden case
seed), and Keras's sample is independent of it. Every statistical test below is given
`FALSE_FAILURE / (the number of statistical tests in this call)` of chance, so that by
Bonferroni's inequality **a correct solution fails one call of a check (visible or hidden)
with probability at most FALSE_FAILURE = 1e-6**, over the student's randomness and Keras's,
for any seeds. The bounds are exact inequalities, not large-sample approximations.

Float rounding is allowed for on top: Keras and numpy may compute in the requested dtype
(Keras rounds `mean` to float16 before adding it, for instance), so each value may lie up to
shift = 3 eps (|centre| + 6 spread) from its exact draw (eps of the dtype); each sample's
statistics then move by at most shift (mean, standard deviation) or shift times the largest
density (the cumulative distribution), and the allowances below add that for both samples.
For float32 and float64 this is negligible; for float16 it is what keeps a mean of 2.37
(float16: 2.369) fair, and the hidden float16 cases keep the spread at many float16 steps.

Two samples: "A and B differ by more than t_A + t_B" needs A or B to be more than its own t
from the true value, so each sample is given half the test's chance. With alpha the chance of
one test, n the reader's sample size and m = 4n Keras's:
* normal mean: the difference of the two means is exactly normal, with standard deviation
  stddev * sqrt(1/n + 1/m): allowed z * that, with P(|Z| > z) = alpha.
* normal variance: (n - 1) s^2 / stddev^2 is chi-square with d = n - 1 degrees of freedom
  (m - 1 for Keras's sample);
  Laurent & Massart (2000): P(X - d >= 2 sqrt(d x) + 2x) <= e^-x and P(d - X >= 2 sqrt(d x))
  <= e^-x, with x = ln(4 / alpha) for each sample.
* uniform mean and variance: Hoeffding's inequality on the values (width w) and on their
  squared distance to the centre (range [0, w^2 / 4]); the variance about the sample mean is
  the latter minus the squared error of the mean, so each sample's variance is allowed
  t_squares + t_mean^2, each Hoeffding event given half its chance.
* the whole distribution: the largest gap between the two empirical cumulative distribution
  functions (two-sample Kolmogorov-Smirnov), allowed sqrt(ln(4/alpha) / 2n) +
  sqrt(ln(4/alpha) / 2m) by the Dvoretzky-Kiefer-Wolfowitz inequality with Massart's
  constant, P(sup |F_n - F| > e) <= 2 exp(-2 n e^2).
* uniform bounds: every value in [minval, maxval] up to one rounding of the dtype (certain
  for a correct solution), and the smallest value at most minval + w ln(1/alpha) / n, the
  largest at least maxval - w ln(1/alpha) / n: P(min > minval + d w) = (1 - d)^n <= e^(-n d).
* the random-state tests fail a correct solution only if two continuous draws of 8 or more
  values coincide, or two fresh OS-entropy Generators do: below 1e-30.
Every misconception the chapter names fails these tests by at least ten times an allowance
on the visible cases (tests/test_checks_bias_initializers.py shows each one is
named, and that Keras's own draws pass over many random states).
"""
import dataclasses
import math

import numpy as np

from convbook import checking, oracle
from convbook.checking import CheckFailure, fail
from convbook.checks import Misconception, Outcome, case_rng, check, compare_outcomes, \
    student_session
from convbook.harness import StudentError

FALSE_FAILURE = 1e-6        # the most a correct solution may fail one check call, see above
KERAS_SAMPLE_FACTOR = 4     # Keras's sample is this many times the reader's

# ----------------------------------------------------------------------- misconceptions
ZEROS_DTYPE = Misconception(
    "bias_init.zeros_dtype_ignored",
    "Your Zeros ignores `dtype`: np.zeros(shape) is float64 whatever was asked. Keras returns "
    "the dtype it is asked for (float32 by default), and so must yours: "
    "np.zeros(shape, dtype=dtype).")
CONSTANT_DTYPE = Misconception(
    "bias_init.constant_dtype_ignored",
    "Your Constant ignores `dtype`: without dtype=, np.full takes its dtype from the value "
    "(int64 for a Python int, float64 for a float) and np.ones gives float64. Keras casts the "
    "value to the dtype it is asked for (2.7 becomes 2 in int32): pass dtype=dtype.")
CONSTANT_VALUE_IGNORED = Misconception(
    "bias_init.constant_value_ignored",
    "Your Constant returns zeros: every entry must be self.value (cast to dtype), e.g. "
    "np.full(shape, self.value, dtype=dtype).")
RANDOM_DTYPE = Misconception(
    "bias_init.random_dtype_ignored",
    "Your draws are float64 whatever dtype was asked: numpy's Generator draws float64, so "
    "cast the result with .astype(dtype), as Keras returns the dtype it is asked for.")

NORMAL_STDDEV_AS_VARIANCE = Misconception(
    "bias_init.normal_stddev_as_variance",
    "Your draws have standard deviation sqrt(stddev): you treated `stddev` as a variance and "
    "took its square root. `stddev` already is the standard deviation, and numpy's "
    "rng.normal(loc, scale) takes exactly that as `scale`.")
NORMAL_VARIANCE_AS_SCALE = Misconception(
    "bias_init.normal_variance_as_scale",
    "Your draws have standard deviation stddev**2: numpy's rng.normal(loc, scale) wants the "
    "standard deviation as `scale`, not the variance; pass self.stddev itself.")
NORMAL_MEAN_IGNORED = Misconception(
    "bias_init.normal_mean_ignored",
    "Your draws are centred on 0: `mean` is ignored. Keras draws normal(mean, stddev): "
    "rng.normal(self.mean, self.stddev, shape).")
NORMAL_STANDARD = Misconception(
    "bias_init.normal_standard",
    "Your draws are standard normal (mean 0, standard deviation 1): both `mean` and `stddev` "
    "are ignored.")

UNIFORM_FROM_ZERO = Misconception(
    "bias_init.uniform_from_zero",
    "Your draws lie between 0 and maxval: `minval` is ignored (rng.uniform(0, maxval) or "
    "rng.random() * maxval). Keras draws on [minval, maxval): rng.uniform(self.minval, "
    "self.maxval, shape).")
UNIFORM_SYMMETRIC = Misconception(
    "bias_init.uniform_symmetric",
    "Your draws lie on [-maxval, maxval), symmetric around 0, as for a Glorot limit: "
    "RandomUniform has its own lower end, `minval`, which need not be -maxval.")
UNIFORM_NOT_SHIFTED = Misconception(
    "bias_init.uniform_not_shifted",
    "Your draws lie on [0, maxval - minval): the width is right but the values were not "
    "shifted by minval. minval + (maxval - minval) * rng.random(shape) (or rng.uniform) "
    "starts at minval.")
UNIFORM_UNIT = Misconception(
    "bias_init.uniform_unit",
    "Your draws lie on [0, 1): rng.random(shape) ignores `minval` and `maxval`; use "
    "rng.uniform(self.minval, self.maxval, shape).")

SEED_GLOBAL_STREAM = Misconception(
    "bias_init.seed_global_stream",
    "With an int seed your two calls returned different values: the draws do not come from "
    "`rng` (numpy's global np.random functions, or a Generator of your own, keep going from "
    "call to call). Draw from the `rng` the method already made from self.seed: then an int "
    "seed gives the same values on every call, as in Keras.")
SEED_FIXED = Misconception(
    "bias_init.seed_fixed",
    "Two different int seeds gave the same values: your draws come from a generator with a "
    "fixed seed of your own, not from `rng` (made from self.seed by make_rng). Draw from "
    "`rng`.")
UNSEEDED_FIXED = Misconception(
    "bias_init.unseeded_fixed",
    "Only int seeds are honoured: with seed=None or a numpy Generator your draws repeat (a "
    "fixed number stands in for the missing seed, or the Generator is not the one drawn "
    "from). Use the `rng` from make_rng(self.seed): fresh entropy for None, the Generator "
    "itself (so it advances) for a Generator.")


# --------------------------------------------------------------------------- Keras oracles

def _numpy(value):
    return np.asarray(oracle.keras().ops.convert_to_numpy(value))


def keras_initializer(name, **kwargs):
    """keras.initializers.<name>(**kwargs)."""
    return getattr(oracle.keras().initializers, name)(**kwargs)


def keras_values(name, shape, dtype=None, **kwargs):
    """keras.initializers.<name>(**kwargs)(shape, dtype) as a numpy array (dtype None:
    Keras's default, float32)."""
    return _numpy(keras_initializer(name, **kwargs)(tuple(shape), dtype=dtype))


def keras_layer_bias(bias_initializer, filters=8, input_channels=3, **layer_kwargs):
    """(bias, config entry): the starting bias of keras.layers.Conv2D(filters, 3,
    bias_initializer=...) built on `input_channels` channels, and what its get_config()
    says under "bias_initializer"."""
    keras = oracle.keras()
    layer = keras.layers.Conv2D(filters, 3, bias_initializer=bias_initializer, **layer_kwargs)
    layer.build((None, 8, 8, input_channels))
    return _numpy(layer.bias), layer.get_config()["bias_initializer"]


def keras_sample_summary(name, shape, dtype=None, **kwargs):
    """A line describing Keras's draws: shape, dtype, mean, standard deviation, range, and
    whether an int seed (kwargs["seed"]) repeats on a second call."""
    init = keras_initializer(name, **kwargs)
    first = _numpy(init(tuple(shape), dtype=dtype))
    again = _numpy(init(tuple(shape), dtype=dtype))
    values = first.astype(np.float64)
    return (f"shape {first.shape}, dtype {first.dtype}: mean {values.mean():.4f}, standard "
            f"deviation {values.std():.4f}, smallest {values.min():.4f}, largest "
            f"{values.max():.4f}; a second call gives "
            f"{'the same' if np.array_equal(first, again) else 'different'} values")


# ------------------------------------------------------------------------------ targets

@dataclasses.dataclass(frozen=True)
class Normal:
    """normal(mean, stddev): what keras.initializers.RandomNormal draws from."""
    mean: float
    stddev: float

    def keras_sample(self, shape, dtype, seed):
        return keras_values("RandomNormal", shape, dtype, mean=self.mean, stddev=self.stddev,
                            seed=seed)

    def __str__(self):
        return f"normal(mean={self.mean:g}, stddev={self.stddev:g})"


@dataclasses.dataclass(frozen=True)
class Uniform:
    """uniform on [minval, maxval): what keras.initializers.RandomUniform draws from."""
    minval: float
    maxval: float

    @classmethod
    def between(cls, a, b):
        """numpy's rng.uniform(a, b) for any order of a and b: the interval between them."""
        return cls(min(a, b), max(a, b))

    def keras_sample(self, shape, dtype, seed):
        return keras_values("RandomUniform", shape, dtype, minval=self.minval,
                            maxval=self.maxval, seed=seed)

    def __str__(self):
        return f"uniform on [{self.minval:g}, {self.maxval:g})"


def tests_per_case(target):
    """How many statistical tests `compare_samples` makes for this distribution."""
    return 3 if isinstance(target, Normal) else 5


def _z_two_sided(alpha):
    """z with P(|Z| > z) = alpha for a standard normal Z (bisection on erfc)."""
    lo, hi = 0.0, 40.0
    for _ in range(200):
        mid = (lo + hi) / 2
        if math.erfc(mid / math.sqrt(2)) > alpha:
            lo = mid
        else:
            hi = mid
    return hi


def _ks_gap(a, b):
    """sup |F_a - F_b|: the largest gap between the two empirical CDFs."""
    a, b = np.sort(a), np.sort(b)
    points = np.concatenate([a, b])
    gap = np.abs(np.searchsorted(a, points, side="right") / a.size
                 - np.searchsorted(b, points, side="right") / b.size)
    return float(gap.max())


def _ulp(dtype, *values):
    """One unit in the last place of the largest of `values` in `dtype` (float rounding)."""
    return float(np.finfo(dtype).eps) * max(1.0, *(abs(v) for v in values))


@dataclasses.dataclass
class Finding:
    """One statistic: yours, Keras's, the largest difference chance allows, and its verdict."""
    statistic: str
    yours: float
    keras: float
    allowed: float
    ok: bool
    text: str


def compare_samples(yours, keras, target, alpha):
    """The statistical tests of the module docstring, each failing a correct `yours` with
    probability at most `alpha`: a list of Findings (`ok` False for a failed test)."""
    y = np.asarray(yours, dtype=np.float64).ravel()
    k = np.asarray(keras, dtype=np.float64).ravel()
    n, m = y.size, k.size
    findings = []
    # float rounding: each value may be `shift` away from its exact draw (see the docstring)
    if isinstance(target, Uniform):
        centre, spread = (target.minval + target.maxval) / 2, target.maxval - target.minval
        density = 1 / spread if spread > 0 else math.inf
    else:
        centre, spread = target.mean, target.stddev
        density = 1 / (spread * math.sqrt(2 * math.pi)) if spread > 0 else math.inf
    shift = 3 * float(np.finfo(np.asarray(keras).dtype).eps) * (abs(centre) + 6 * spread)
    if isinstance(target, Uniform):
        a, b = target.minval, target.maxval
        w = b - a
        tol = _ulp(np.asarray(keras).dtype, a, b)
        outside = int(np.count_nonzero((y < a - tol) | (y > b + tol)))
        findings.append(Finding(
            "range", float(y.min()), float(k.min()), 0.0, outside == 0,
            f"{outside} of your {n} values lie outside [minval, maxval] = [{a:g}, {b:g}]: "
            f"yours run from {y.min():.6g} to {y.max():.6g}, Keras's from {k.min():.6g} to "
            f"{k.max():.6g}"))
        reach = w * math.log(1 / alpha) / n + tol
        findings.append(Finding(
            "smallest", float(y.min()), float(k.min()), reach, y.min() <= a + reach,
            f"your smallest value is {y.min():.6g}, but with {n} draws on [{a:g}, {b:g}) the "
            f"smallest is below {a + reach:.6g} (Keras's smallest: {k.min():.6g})"))
        findings.append(Finding(
            "largest", float(y.max()), float(k.max()), reach, y.max() >= b - reach,
            f"your largest value is {y.max():.6g}, but with {n} draws on [{a:g}, {b:g}) the "
            f"largest is above {b - reach:.6g} (Keras's largest: {k.max():.6g})"))

        def hoeffding(size, spread, chance):
            return spread * math.sqrt(math.log(2 / chance) / (2 * size))

        mean_allowed = hoeffding(n, w, alpha / 2) + hoeffding(m, w, alpha / 2) + 2 * shift
        # variance: each sample's two Hoeffding events get alpha / 4
        var_allowed = sum(hoeffding(s, w * w / 4, alpha / 4) + hoeffding(s, w, alpha / 4) ** 2
                          for s in (n, m)) + 2 * shift * (2 * w + shift)
    else:
        sd = target.stddev
        mean_allowed = _z_two_sided(alpha) * sd * math.sqrt(1 / n + 1 / m) + 2 * shift
        x = math.log(4 / alpha)                 # each sample: both tails, alpha / 2

        def chi2(size):
            d = max(size - 1, 1)
            return 2 * math.sqrt(x / d) + 2 * x / d

        var_allowed = sd * sd * (chi2(n) + chi2(m)) + 2 * shift * (3 * sd + shift)
    mean_y, mean_k = float(y.mean()), float(k.mean())
    findings.append(Finding(
        "mean", mean_y, mean_k, mean_allowed, abs(mean_y - mean_k) <= mean_allowed,
        f"the mean of your values is {mean_y:.4g}, Keras's {mean_k:.4g}: by chance they "
        f"differ by at most {mean_allowed:.3g}"))
    ddof = 1 if isinstance(target, Normal) else 0
    var_y, var_k = float(y.var(ddof=min(ddof, n - 1))), float(k.var(ddof=ddof))
    findings.append(Finding(
        "standard deviation", math.sqrt(var_y), math.sqrt(var_k), var_allowed,
        abs(var_y - var_k) <= var_allowed,
        f"the standard deviation of your values is {math.sqrt(var_y):.4g}, Keras's "
        f"{math.sqrt(var_k):.4g}: by chance their variances differ by at most "
        f"{var_allowed:.3g} (yours {var_y:.3g}, Keras's {var_k:.3g})"))
    x = math.log(4 / alpha)
    ks_allowed = math.sqrt(x / (2 * n)) + math.sqrt(x / (2 * m)) + min(1.0, 2 * shift * density)
    gap = _ks_gap(y, k)
    findings.append(Finding(
        "distribution", gap, 0.0, ks_allowed, gap <= ks_allowed,
        f"the share of your values below some level differs from Keras's by {gap:.3g} "
        f"(Kolmogorov-Smirnov gap; chance allows {ks_allowed:.3g})"))
    return findings


def sample_disagreement(yours, keras, target, alpha=FALSE_FAILURE):
    """None when the reader's draws and Keras's pass every test of `compare_samples`; else
    the first failed finding's sentence (for figures)."""
    bad = [f for f in compare_samples(yours, keras, target, alpha) if not f.ok]
    return None if not bad else bad[0].text


# ---------------------------------------------------------------- calling the reader

_KIND = {"not_implemented": "not_implemented", "timeout": "timeout", "cpu": "timeout",
         "memory": "crash", "crash": "crash", "lost": "crash", "protocol": "crash"}


def _reader(function, case, run):
    """run() (a call into the child); a failure there becomes feedback naming the case."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    try:
        return run()
    except StudentError as err:
        kind = _KIND.get(err.kind, "exception")
        fail(function, "" if kind == "not_implemented" else case, kind,
             str(err) if kind == "not_implemented" else f"\n{err}")


def _call(session, function, class_name, args, kwargs, shape, dtype, case):
    """convlib.initializers.<class_name>(*args, **kwargs)(shape[, dtype]) in the child."""
    __tracebackhide__ = True
    init = _reader(function, case,
                   lambda: session.new(f"initializers.{class_name}", *args, **kwargs))
    call_args = (tuple(shape),) if dtype is None else (tuple(shape), dtype)
    return _reader(function, case, lambda: init(*call_args))


def _describe_call(class_name, args, kwargs, shape, dtype):
    inside = ", ".join([f"{a!r}" for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()])
    call = f"shape={tuple(shape)}" + ("" if dtype is None else f", dtype={dtype!r}")
    return f"{class_name}({inside})({call})"


def _as_returned_array(function, case, actual, expected, dtype_misconception=None,
                       floating_default=False):
    """The reader's answer, checked to be a numpy-like array of Keras's dtype and shape."""
    __tracebackhide__ = True
    if actual is None:
        checking.returned_none(function, case, f"an array of shape {expected.shape}")
    if not isinstance(actual, (np.ndarray, np.generic)):
        fail(function, case, "wrong_type",
             f"your initializer returned a {type(actual).__name__}; it must return a numpy "
             f"array (of shape {expected.shape} and dtype {expected.dtype}, like Keras's).")
    actual = np.asarray(actual)
    if actual.dtype != expected.dtype:
        wrong = None
        if dtype_misconception is not None and actual.dtype in dtype_misconception[1]:
            wrong = dtype_misconception[0]
        fail(function, case, "wrong_type",
             f"your array has dtype {actual.dtype}, Keras's has dtype {expected.dtype}.",
             wrong)
    if actual.shape != expected.shape:
        fail(function, case, "wrong_shape",
             f"your array has shape {actual.shape}, Keras's has shape {expected.shape}.")
    return actual


# ---------------------------------------------------------------------- Zeros, Constant

_EXACT_DTYPES = ["float32", "float64", "float16", "int32", "int64"]


def _zeros_cases(rng, hidden):
    """(shape, dtype); dtype None: the default."""
    if not hidden:
        return [((8,), None), ((3, 3, 4, 16), "float64"), ((5,), "int32"),
                ((2, 3), "float16"), ((), "float32"), ((4,), "bool")]
    cases = []
    for i in range(10):
        shape = tuple(int(d) for d in rng.integers(1, 7, size=int(rng.integers(0, 5))))
        dtype = None if i == 0 else _EXACT_DTYPES[int(rng.integers(0, len(_EXACT_DTYPES)))]
        cases.append((shape, dtype))
    return cases


@check
def check_zeros(hidden=False):
    """Exercise 7.1: `initializers.Zeros()(shape, dtype)` against keras.initializers.Zeros."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    rng = case_rng(hidden, seed=701)
    function = "initializers.Zeros.__call__"
    outcomes = []
    with student_session() as session:
        for shape, dtype in _zeros_cases(rng, hidden):
            case = _describe_call("Zeros", (), {}, shape, dtype)
            actual = _call(session, function, "Zeros", (), {}, shape, dtype, case)
            expected = keras_values("Zeros", shape, dtype)
            actual = _as_returned_array(function, case, actual, expected,
                                        (ZEROS_DTYPE, {np.dtype("float64")}))
            outcomes.append(Outcome(case, actual, expected))
    compare_outcomes(function, outcomes)


def _constant_cases(rng, hidden):
    """(value, shape, dtype); the values are exact in every dtype they meet, except where
    Keras's cast is the point (2.7 in int32 is 2, -7.9 in int64 is -7)."""
    if not hidden:
        return [(0.1, (8,), None), (-2.5, (3, 3), "float64"), (3, (2, 2, 2), "float32"),
                (2.7, (4,), "int32"), (-7, (5,), "int64"), (0.1, (6,), "float16")]
    cases = []
    for i in range(10):
        shape = tuple(int(d) for d in rng.integers(1, 7, size=int(rng.integers(1, 5))))
        dtype = None if i == 0 else _EXACT_DTYPES[int(rng.integers(0, len(_EXACT_DTYPES)))]
        if i % 3 == 1:
            value = int(rng.integers(-9, 10)) or 4
        else:
            value = float(np.round(rng.uniform(-5, 5), 3)) or 0.5
        cases.append((value, shape, dtype))
    return cases


@check
def check_constant(hidden=False):
    """Exercise 7.2: `initializers.Constant(value)(shape, dtype)` against
    keras.initializers.Constant."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    rng = case_rng(hidden, seed=702)
    function = "initializers.Constant.__call__"
    outcomes = []
    with student_session() as session:
        for value, shape, dtype in _constant_cases(rng, hidden):
            case = _describe_call("Constant", (value,), {}, shape, dtype)
            actual = _call(session, function, "Constant", (value,), {}, shape, dtype, case)
            expected = keras_values("Constant", shape, dtype, value=value)
            actual = _as_returned_array(
                function, case, actual, expected,
                (CONSTANT_DTYPE, {np.dtype("float64"), np.dtype("int64")}))
            wrong = {}
            if np.any(expected != 0):
                wrong[CONSTANT_VALUE_IGNORED] = keras_values("Zeros", shape, dtype)
            outcomes.append(Outcome(case, actual, expected, wrong))
    compare_outcomes(function, outcomes)


# ------------------------------------------------------------ RandomNormal, RandomUniform

@dataclasses.dataclass
class _RandomCase:
    kwargs: dict          # the initializer's arguments (without its random state)
    shape: tuple
    dtype: str            # None: the default


_FLOAT_DTYPES = ["float32", "float64", "float16"]


def _normal_cases(rng, hidden):
    if not hidden:
        return [_RandomCase({}, (128, 160), None),
                _RandomCase({"mean": 0.5, "stddev": 2.0}, (3, 3, 32, 64), "float64"),
                _RandomCase({"mean": -1.0, "stddev": 0.3}, (20000,), "float16"),
                _RandomCase({"mean": 0.1, "stddev": 0.01}, (16,), "float32")]
    cases = []
    for i in range(6):
        size = int(rng.integers(20000, 50000))
        shape = (size,) if i % 2 else (int(rng.integers(2, 6)), size // 5)
        dtype = _FLOAT_DTYPES[i % 3] if i else None
        mean = float(np.round(rng.uniform(-3, 3), 2))
        stddev = float(np.round(rng.choice([rng.uniform(0.01, 0.5), rng.uniform(1.5, 4)]), 3))
        if dtype == "float16":   # a spread of many float16 steps, so rounding stays small
            mean, stddev = float(np.round(mean * 2 / 3, 2)), float(np.round(
                rng.uniform(0.3, 3), 3))
        cases.append(_RandomCase({"mean": mean, "stddev": stddev}, shape, dtype))
    return cases


def _uniform_cases(rng, hidden):
    if not hidden:
        return [_RandomCase({}, (128, 160), None),
                _RandomCase({"minval": 0.5, "maxval": 2.0}, (3, 3, 32, 64), "float64"),
                _RandomCase({"minval": -3.0, "maxval": -1.0}, (20000,), "float16"),
                _RandomCase({"minval": 0.0, "maxval": 0.1}, (16,), "float32")]
    cases = []
    for i in range(6):
        size = int(rng.integers(20000, 50000))
        shape = (size,) if i % 2 else (int(rng.integers(2, 6)), size // 5)
        dtype = _FLOAT_DTYPES[i % 3] if i else None
        lo = float(np.round(rng.uniform(-3, 2), 2))
        width = rng.uniform(1, 3) if dtype == "float16" else rng.uniform(0.2, 3)
        hi = float(np.round(lo + width, 2))
        cases.append(_RandomCase({"minval": lo, "maxval": hi}, shape, dtype))
    return cases


def _normal_target(kwargs):
    return Normal(kwargs.get("mean", 0.0), kwargs.get("stddev", 0.05))


def _uniform_target(kwargs):
    return Uniform(kwargs.get("minval", -0.05), kwargs.get("maxval", 0.05))


def _normal_misconceptions(target):
    mean, sd = target.mean, target.stddev
    return {NORMAL_STDDEV_AS_VARIANCE: Normal(mean, math.sqrt(sd)),
            NORMAL_VARIANCE_AS_SCALE: Normal(mean, sd * sd),
            NORMAL_MEAN_IGNORED: Normal(0.0, sd),
            NORMAL_STANDARD: Normal(0.0, 1.0)}


def _uniform_misconceptions(target):
    a, b = target.minval, target.maxval
    return {UNIFORM_FROM_ZERO: Uniform.between(0.0, b),
            UNIFORM_SYMMETRIC: Uniform.between(-b, b),
            UNIFORM_NOT_SHIFTED: Uniform.between(0.0, b - a),
            UNIFORM_UNIT: Uniform(0.0, 1.0)}


def _statistics_line(findings):
    return "\n".join(f"  • {f.text}." for f in findings if not f.ok)


def _grade_random(session, function, class_name, cases, target_of, misconceptions_of, rng):
    """The statistical part: every case's draws against Keras's; the first failing case is
    reported, with the misconception that explains every failing case (or this one)."""
    __tracebackhide__ = True
    n_tests = sum(tests_per_case(target_of(c.kwargs)) for c in cases)
    alpha = FALSE_FAILURE / n_tests
    failing = []           # (case text, findings, {misconception: explains?})
    for c in cases:
        target = target_of(c.kwargs)
        state = int(rng.integers(0, 2**31 - 1))
        kwargs = {**c.kwargs, "seed": state}
        case = _describe_call(class_name, (), kwargs, c.shape, c.dtype)
        try:
            actual = _call(session, function, class_name, (), kwargs, c.shape, c.dtype, case)
        except CheckFailure:
            if failing:        # an earlier case's wrong draws say more than this error
                break
            raise
        keras_state = int(rng.integers(0, 2**31 - 1))
        expected = target.keras_sample(c.shape, c.dtype, keras_state)
        _as_returned_array(function, case, actual, expected,
                           (RANDOM_DTYPE, {np.dtype("float64")}))
        actual = np.asarray(actual)
        if not np.all(np.isfinite(actual.astype(np.float64))):
            fail(function, case, "non_finite",
                 f"your array holds {int(np.count_nonzero(~np.isfinite(actual)))} values that "
                 f"are NaN or infinite; Keras's draws are all finite.")
        big = target.keras_sample((KERAS_SAMPLE_FACTOR, *c.shape), c.dtype, keras_state)
        findings = compare_samples(actual, big, target, alpha)
        if all(f.ok for f in findings):
            continue
        explains = {}
        for misconception, wrong in misconceptions_of(target).items():
            if wrong == target:
                continue             # coincides with the right answer here
            sample = wrong.keras_sample((KERAS_SAMPLE_FACTOR, *c.shape), c.dtype, keras_state)
            explains[misconception] = all(
                f.ok for f in compare_samples(actual, sample, wrong, alpha))
        failing.append((case, findings, explains, target))
    if not failing:
        return len(cases)
    everywhere = [m for m in failing[0][2]
                  if all(explains.get(m, True) for _, _, explains, _ in failing)
                  and failing[0][2][m]]
    here = [m for m, ok in failing[0][2].items() if ok]
    named = (everywhere or here or [None])[0]
    case, findings, _, target = failing[0]
    bad = [f for f in findings if not f.ok]
    fail(function, case, "wrong_values",
         f"your draws do not look like Keras's {target} ({len(bad)} of {len(findings)} "
         f"statistics are off by more than chance allows):\n{_statistics_line(findings)}",
         named, largest_error=float(max(abs(f.yours - f.keras) for f in bad)))


def _grade_random_state(session, function, class_name, kwargs, shape, rng):
    """The random-state part, each rule computed from Keras first (see the module
    docstring)."""
    __tracebackhide__ = True
    keras = oracle.keras()
    first_state, other_state, stream_state = (int(v) for v in
                                              rng.choice(2**31 - 1, size=3, replace=False))

    def yours(case, **extra):
        return np.asarray(_call(session, function, class_name, (), {**kwargs, **extra},
                                shape, None, case))

    def keras_twice(state):
        init = keras_initializer(class_name, **kwargs, seed=state)
        return _numpy(init(shape)), _numpy(init(shape))

    # 1. an int seed: the same values on every call, and from a new initializer too
    k1, k2 = keras_twice(first_state)
    keras_rule = "the same values on both calls" if np.array_equal(k1, k2) else "different"
    case = _describe_call(class_name, (), {**kwargs, "seed": first_state}, shape, None)
    init = _reader(function, case, lambda: session.new(
        f"initializers.{class_name}", **kwargs, seed=first_state))
    first = np.asarray(_reader(function, case, lambda: init(shape)))
    second = np.asarray(_reader(function, case, lambda: init(shape)))
    if first.shape != tuple(shape) or second.shape != tuple(shape):
        fail(function, case, "wrong_shape",
             f"your arrays have shapes {first.shape} and {second.shape}; Keras's {k1.shape}.")
    if not np.array_equal(first, second):
        where = np.unravel_index(int(np.argmax(first != second)), first.shape)
        fail(function, case + ", called twice", "wrong_values",
             f"Keras's {class_name}(seed={first_state}) returns {keras_rule}; your two calls "
             f"differ (at index {tuple(int(i) for i in where)}: {first[where]:.6g}, then "
             f"{second[where]:.6g}).", SEED_GLOBAL_STREAM)
    again = yours(case + " on a new initializer", seed=first_state)
    if not np.array_equal(first, again):
        fail(function, case + ", a new initializer with the same seed", "wrong_values",
             f"Keras's {class_name}(seed={first_state}) gives the same values from every "
             f"initializer built with that int; yours gave other values the second time.",
             SEED_GLOBAL_STREAM)
    # 2. two different ints: different values
    other = yours(case, seed=other_state)
    k_other = keras_twice(other_state)[0]
    if np.array_equal(first, other):
        fail(function, f"{case} and seed={other_state}", "wrong_values",
             f"Keras's draws for seed={first_state} and seed={other_state} "
             f"{'differ' if not np.array_equal(k1, k_other) else 'agree'}; yours are "
             f"identical.", SEED_FIXED)
    # 3. a Generator advances (Keras: a SeedGenerator)
    generator = keras.random.SeedGenerator(stream_state)
    init_k = keras_initializer(class_name, **kwargs, seed=generator)
    k_moves = not np.array_equal(_numpy(init_k(shape)), _numpy(init_k(shape)))
    gen_case = _describe_call(class_name, (), {**kwargs, "seed": "Generator"}, shape, None)
    gen = _reader(function, gen_case,
                  lambda: session.new("initializers.make_rng", stream_state))
    init = _reader(function, gen_case,
                   lambda: session.new(f"initializers.{class_name}", **kwargs, seed=gen))
    first = np.asarray(_reader(function, gen_case, lambda: init(shape)))
    second = np.asarray(_reader(function, gen_case, lambda: init(shape)))
    if np.array_equal(first, second):
        fail(function, gen_case + ", called twice", "wrong_values",
             f"With a numpy Generator as seed (Keras: a SeedGenerator, whose two calls "
             f"{'differ' if k_moves else 'agree'}), each call must continue the stream; your "
             f"two calls returned identical values.", UNSEEDED_FIXED)
    # 4. two initializers without a seed differ
    k_free = not np.array_equal(_numpy(keras_initializer(class_name, **kwargs)(shape)),
                                _numpy(keras_initializer(class_name, **kwargs)(shape)))
    none_case = _describe_call(class_name, (), {**kwargs, "seed": None}, shape, None)
    if np.array_equal(yours(none_case, seed=None), yours(none_case, seed=None)):
        fail(function, none_case + ", two initializers", "wrong_values",
             f"Two of Keras's initializers built with seed=None "
             f"{'draw different values' if k_free else 'agree'}; your two returned identical "
             f"values.", UNSEEDED_FIXED)
    return 4


def _check_random(class_name, cases, target_of, misconceptions_of, rng, hidden):
    __tracebackhide__ = True
    function = f"initializers.{class_name}.__call__"
    with student_session() as session:
        n = _grade_random(session, function, class_name, cases, target_of, misconceptions_of,
                          rng)
        state_kwargs = cases[1].kwargs
        shape = (int(rng.integers(8, 33)),) if hidden else (6, 5)
        n += _grade_random_state(session, function, class_name, state_kwargs, shape, rng)
    checking.passed(function, n)


@check
def check_random_normal(hidden=False):
    """Exercise 7.3: `initializers.RandomNormal(mean, stddev, seed)(shape, dtype)` against
    keras.initializers.RandomNormal, statistically, and its random state."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    rng = case_rng(hidden, seed=703)
    _check_random("RandomNormal", _normal_cases(rng, hidden), _normal_target,
                  _normal_misconceptions, rng, hidden)


@check
def check_random_uniform(hidden=False):
    """Exercise 7.4: `initializers.RandomUniform(minval, maxval, seed)(shape, dtype)` against
    keras.initializers.RandomUniform, statistically, and its random state."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    rng = case_rng(hidden, seed=704)
    _check_random("RandomUniform", _uniform_cases(rng, hidden), _uniform_target,
                  _uniform_misconceptions, rng, hidden)
