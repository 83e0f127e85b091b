"""Checks for chapter 06, kernel_initializer: `initializers.compute_fans`,
`initializers.variance_scaling_spread`, `initializers.truncated_normal` and
`initializers.VarianceScaling.__call__` (through VarianceScaling and its subclasses
GlorotNormal, GlorotUniform, HeNormal, HeUniform, LecunNormal, LecunUniform), and
`initializers.Orthogonal.__call__` (exercise 6.5: exact properties and a sign test with its
own false-failure bound, 1e-7 per call; see the comment above `check_orthogonal`).

Where the expected values come from:
* compute_fans: Keras's public API, read off Keras's own initializer. With scale=1 and
  distribution="untruncated_normal", `keras.initializers.VarianceScaling(mode=m, seed=s)`
  returns `keras.random.normal(shape, stddev=1/sqrt(fan), seed=s)`, which is the plain
  `keras.random.normal(shape, seed=s)` times 1/sqrt(fan): the ratio of the two arrays gives
  fan_in (mode="fan_in") and fan_out (mode="fan_out") exactly (`keras_fans`). No private
  Keras function is used; tests/test_checks_initializers.py shows that these fans agree with
  keras.src.initializers.random_initializers.compute_fans on the visible cases, on hidden
  ones and on shapes of rank 0 to 6.
* variance_scaling_spread: Keras's own `VarianceScaling.__call__` (keras 3.15,
  keras/src/initializers/random_initializers.py, lines 293-318: `scale /= max(1.0, fan)`,
  then `math.sqrt(scale) / 0.87962566103423978`, `math.sqrt(scale)` or
  `math.sqrt(3.0 * scale)`) run on a weight of shape (fan_in, fan_out), whose fans Keras takes
  to be fan_in and fan_out, with the module's random generator replaced for the call by a
  stand-in that records the stddev / maxval Keras asks for (`keras_spread`). The student's
  float must equal Keras's float to rtol 1e-12 (a few float64 roundings).
* truncated_normal: `keras.random.truncated_normal`; VarianceScaling: Keras's initializer of
  the same class, arguments and shape, drawn with several seeds. The answers the
  misconceptions give are drawn with `keras.random` too (normal, uniform, truncated_normal,
  and `keras.ops.clip`).

Random draws are compared by their statistics (`sample_problem`): the reader's values
(n >= 50,000 per case, from several calls) against Keras's (m >= 200,000), under the law
Keras draws from (`Law`: its kind and spread, read off Keras's code path as above):
1. no value outside the law's support (exact: a correct sampler never leaves it);
2. the fraction of values sitting on the bounds (a clipped sampler puts 4.6% there);
3. the mean, 4. the second moment about the centre (the variance), 5. the Kolmogorov-Smirnov
   distance, each two-sample: |yours - Keras's| must not exceed t(n) + t(m), where t(k) is a
   deviation that one sample of k values exceeds with probability at most DELTA = 1e-8:
   Hoeffding's inequality for bounded laws (uniform, truncated), the exact Gaussian tail for
   the mean and Laurent and Massart's chi-square bound for the variance of a normal, and the
   Dvoretzky-Kiefer-Wolfowitz inequality (Massart's constant) for the KS distance.
These bounds hold for every sample size (no normal approximation). A case has 8 such events
(statistics 2-5, for each of the two samples), and a check at most MAX_CASES = 12 cases, so a
correct solution fails a check with probability at most 96 * 1e-8 < 1e-6. This holds whatever
seeds or streams the reader's code draws from (including fresh entropy on every run): each
correct draw is a sample of the law, and the bound is over that randomness. The same battery
run against the sample of a misconception's law names that misconception.

Power: every misconception the checks name moves the variance by >= 22% (or puts values
outside the support, or 4.6% on the bounds); with n = 50,000 and m = 200,000 the variance
tolerance is at most about 12% of the variance (truncated), 7% (uniform), 5% (normal).
"""
import contextlib
import dataclasses
import math
import types

import numpy as np

from convbook import checking, oracle
from convbook.checking import fail
from convbook.checks import (Misconception, Outcome, as_int_pair, case_rng, check,
                             compare_outcomes, student_call, student_session)
from convbook.harness import StudentError

TRUNCATED_NORMAL_STD = 0.87962566103423978   # std of a standard normal cut to [-2, 2]
DELTA = 1e-8            # per statistic and sample: P(a correct sample exceeds its deviation)
MAX_CASES = 12          # cases per check: 12 cases * 8 events * DELTA < 1e-6
STUDENT_VALUES = 50_000  # values drawn from the reader's code per case (at least)
KERAS_VALUES = 200_000   # values drawn from Keras per case (at least)
BOUND_SLACK = 1e-6      # relative: float32 rounding may land a value a few ulps past a bound
PILE_WIDTH = 1e-6       # relative: "on the bound" = within this fraction of the bound's size
KS_SLACK = 1e-6         # float32 vs float64 rounding of the same law
SPREAD_RTOL = 1e-12     # variance_scaling_spread: a few float64 roundings

CLASSES = {   # Keras's (scale, mode, distribution) of each named VarianceScaling subclass
    "GlorotNormal": (1.0, "fan_avg", "truncated_normal"),
    "GlorotUniform": (1.0, "fan_avg", "uniform"),
    "HeNormal": (2.0, "fan_in", "truncated_normal"),
    "HeUniform": (2.0, "fan_in", "uniform"),
    "LecunNormal": (1.0, "fan_in", "truncated_normal"),
    "LecunUniform": (1.0, "fan_in", "uniform"),
}

# ----------------------------------------------------------------------- misconceptions
FANS_NO_RECEPTIVE = Misconception(
    "initializers.fans_without_receptive_field",
    "Your fans leave out the receptive field: one output of a convolution sums "
    "kh*kw*in_channels products, so fan_in = kh*kw*in_channels and fan_out = kh*kw*filters "
    "(for any rank >= 3, multiply by the product of all axes but the last two).")
FANS_OUT_NO_RECEPTIVE = Misconception(
    "initializers.fan_out_without_receptive_field",
    "Your fan_out is the number of filters alone: one input value reaches kh*kw positions "
    "of every filter, so fan_out = kh*kw*filters, the receptive field times the last axis.")
FANS_SWAPPED = Misconception(
    "initializers.fans_swapped",
    "Your fans are swapped: a Keras kernel is (..., in, out), so fan_in uses the "
    "second-to-last axis and fan_out the last.")
FANS_TORCH_LAYOUT = Misconception(
    "initializers.fans_torch_layout",
    "You read the kernel as (out, in, kh, kw), PyTorch's layout: Keras's kernel is "
    "(kh, kw, in, out), with the channels in the LAST two axes.")

SPREAD_NOTES_VARIANCE = Misconception(
    "initializers.uniform_limit_squared_as_variance",
    "For the uniform you took limit**2 = 3*scale/fan as the variance (the notes' '6 / "
    "(fan_in + fan_out)' for GlorotUniform), so your limit is sqrt(3) times too large: a "
    "uniform on [-a, a] has variance a**2 / 3, so the limit for variance v is sqrt(3*v).")
SPREAD_UNIFORM_STD = Misconception(
    "initializers.uniform_std_as_limit",
    "For the uniform you returned the standard deviation sqrt(v): the uniform needs its "
    "limit a, and a uniform on [-a, a] has variance a**2 / 3, so a = sqrt(3*v).")
SPREAD_NORMAL_LIMIT = Misconception(
    "initializers.normal_stddev_from_limit",
    "For a normal you used the uniform's formula sqrt(3*v) (for Glorot: sqrt(6 / (fan_in + "
    "fan_out))) as the standard deviation: that is the uniform's limit; a normal with "
    "variance v has stddev sqrt(v).")
SPREAD_NOT_RESCALED = Misconception(
    "initializers.truncated_not_rescaled",
    "For truncated_normal you returned sqrt(v): cutting a normal at +-2 sigma shrinks its "
    "standard deviation to 0.8796 sigma, so Keras asks for sqrt(v) / 0.87962566103423978.")
SPREAD_RESCALE_MULTIPLIED = Misconception(
    "initializers.truncated_rescale_multiplied",
    "For truncated_normal you multiplied by 0.8796 instead of dividing: the cut shrinks "
    "the spread, so the normal before the cut must be wider, sqrt(v) / 0.8796...")
SPREAD_UNTRUNCATED_RESCALED = Misconception(
    "initializers.untruncated_rescaled",
    "For untruncated_normal you divided by 0.8796 too: nothing is cut there, so the "
    "stddev is sqrt(v) itself.")
SPREAD_FAN_AVG_SUM = Misconception(
    "initializers.fan_avg_sum",
    "For mode='fan_avg' you used fan_in + fan_out: the fan is their average, "
    "(fan_in + fan_out) / 2 (Glorot's 2 / (fan_in + fan_out) is scale 1 over that average).")
SPREAD_NO_MAX_ONE = Misconception(
    "initializers.fan_not_at_least_one",
    "Keras divides by max(1, fan): a fan below 1 (an empty weight, or fan_avg = 0.5) counts "
    "as 1, so the spread never divides by zero or grows beyond sqrt(scale).")

TRUNC_CLIPPED = Misconception(
    "initializers.truncated_clipped",
    "You clipped the values to [mean - 2*stddev, mean + 2*stddev]: clipping piles the 4.6% "
    "of draws that fall outside onto the two bounds. A truncated normal REDRAWS them (and "
    "keeps redrawing until none is outside), so no value sits on a bound.")
TRUNC_NOT_TRUNCATED = Misconception(
    "initializers.truncated_not_cut",
    "Your values are a plain normal: about 4.6% of them lie beyond mean +- 2*stddev. "
    "Redraw every value that lands outside until none is left.")
TRUNC_RESCALED_INSIDE = Misconception(
    "initializers.truncated_rescaled_inside",
    "You divided stddev by 0.8796 inside truncated_normal: that correction belongs to "
    "variance_scaling_spread. truncated_normal(rng, shape, mean, stddev) cuts a normal of "
    "standard deviation stddev at mean +- 2*stddev, so its values' std is 0.8796*stddev.")

VS_LIMIT_AS_VARIANCE = Misconception(
    "initializers.vs_uniform_variance_limit_squared",
    "Your uniform draws have variance limit**2 (the notes' '6 / (fan_in + fan_out)' for "
    "GlorotUniform) instead of limit**2 / 3: the limit sqrt(3*scale/fan) is where the "
    "uniform ends, not its standard deviation. Draw uniform on [-limit, limit).")
VS_UNTRUNCATED = Misconception(
    "initializers.vs_untruncated_normal",
    "You drew an untruncated normal where a truncated one was asked: GlorotNormal, "
    "HeNormal, LecunNormal and distribution='truncated_normal' redraw every value beyond "
    "+-2*stddev (use your truncated_normal).")
VS_NO_RECEPTIVE = Misconception(
    "initializers.vs_fans_without_receptive_field",
    "Your spread is the one for fans without the receptive field (in_channels and filters "
    "alone): for a kernel (kh, kw, in, out), fan_in = kh*kw*in and fan_out = kh*kw*out "
    "(compute_fans), so your weights are sqrt(kh*kw) times too spread out.")
VS_NOT_RESCALED = Misconception(
    "initializers.vs_truncated_not_rescaled",
    "Your truncated normal has variance 0.774*scale/fan: the cut at +-2*stddev shrinks the "
    "spread, so the stddev given to truncated_normal must be sqrt(scale/fan) / 0.8796 "
    "(variance_scaling_spread).")


# --------------------------------------------------------------------------- Keras oracles

def _numpy(tensor):
    return np.asarray(oracle.keras().ops.convert_to_numpy(tensor), dtype=np.float64)


def keras_fans(shape):
    """Keras's (fan_in, fan_out) for a weight of `shape` (no axis of length 0), read off
    Keras's own VarianceScaling through the public API (see the module docstring)."""
    keras = oracle.keras()
    shape = tuple(int(d) for d in shape)
    if 0 in shape:
        raise ValueError(f"keras_fans needs a shape without zeros; received {shape}")
    seed = 20_06
    unit = _numpy(keras.random.normal(shape, seed=seed, dtype="float64"))
    usable = np.abs(unit) > 0.05          # every ratio is the same; avoid tiny divisors
    fans = []
    for mode in ("fan_in", "fan_out"):
        init = keras.initializers.VarianceScaling(1.0, mode, "untruncated_normal", seed=seed)
        stddev = _numpy(init(shape, dtype="float64"))[usable] / unit[usable]
        fan = 1.0 / float(np.median(stddev)) ** 2
        if abs(fan - round(fan)) > 1e-6 * fan or np.ptp(stddev) > 1e-9 * np.max(stddev):
            raise RuntimeError(f"could not read Keras's {mode} for shape {shape}: {fan}")
        fans.append(int(round(fan)))
    return tuple(fans)


@contextlib.contextmanager
def _recording_keras_random():
    """Inside: Keras's initializers call a stand-in random module that records what they
    ask for (a list of (function name, keyword arguments)) and returns zeros."""
    oracle.keras()
    from keras.src.initializers import random_initializers as source

    calls = []

    def recorder(name):
        def draw(shape, **kwargs):
            calls.append((name, kwargs))
            return np.zeros(shape, np.float32)
        return draw

    saved = source.random
    source.random = types.SimpleNamespace(**{name: recorder(name) for name in
                                             ("truncated_normal", "normal", "uniform")})
    try:
        yield calls
    finally:
        source.random = saved


def keras_law(initializer, shape):
    """The law a Keras VarianceScaling initializer draws from for `shape`: Keras's own code
    path with the random module recorded (the distribution and the stddev or limit it asks
    for)."""
    with _recording_keras_random() as calls:
        initializer(tuple(shape))
    (name, kwargs), = calls
    if name == "uniform":
        return Law("uniform", float(kwargs["maxval"]))
    return Law("truncated" if name == "truncated_normal" else "normal", float(kwargs["stddev"]))


def keras_spread(scale, mode, distribution, fan_in, fan_out):
    """What variance_scaling_spread(...) should return: the stddev (normals) or limit
    (uniform) Keras's VarianceScaling asks its random generator for, on a weight of shape
    (fan_in, fan_out), whose fans Keras takes to be exactly fan_in and fan_out."""
    keras = oracle.keras()
    init = keras.initializers.VarianceScaling(scale, mode, distribution, seed=0)
    return keras_law(init, (fan_in, fan_out)).spread


def keras_initializer(class_name, kwargs, seed):
    """keras.initializers.<class_name>(**kwargs, seed=seed)."""
    return getattr(oracle.keras().initializers, class_name)(**kwargs, seed=seed)


def keras_draws(class_name, kwargs, shape, seeds):
    """Keras's initializer applied to `shape` once per seed, all values in one float64 array."""
    return np.concatenate([_numpy(keras_initializer(class_name, kwargs, s)(tuple(shape))).ravel()
                           for s in seeds])


# ------------------------------------------------------------------------------ the laws

@dataclasses.dataclass(frozen=True)
class Law:
    """A distribution the draws may come from. kind: "truncated" (a normal of stddev
    `spread` cut at +-2*spread, values beyond redrawn), "normal", "uniform" (on
    [-spread, spread)) or "clipped" (a normal clipped to +-2*spread); centred on `center`."""
    kind: str
    spread: float
    center: float = 0.0

    @property
    def half_width(self):
        """Largest |x - center| the law allows (None: unbounded)."""
        return {"truncated": 2 * self.spread, "clipped": 2 * self.spread,
                "uniform": self.spread}.get(self.kind)

    def bounds(self):
        h = self.half_width
        return None if h is None else (self.center - h, self.center + h)

    def describe(self):
        c = f"{self.center:g} + " if self.center else ""
        return {"truncated": f"{c}a normal of stddev {self.spread:.6g} cut at +-2 stddev",
                "clipped": f"{c}a normal of stddev {self.spread:.6g} clipped to +-2 stddev",
                "normal": f"{c}a normal of stddev {self.spread:.6g}",
                "uniform": f"{c}uniform on [-{self.spread:.6g}, {self.spread:.6g})"}[self.kind]

    def sample(self, size, seed):
        """`size` values of this law, drawn by Keras (float32, as Keras's initializers)."""
        keras = oracle.keras()
        shape = (int(size),)
        if self.kind == "truncated":
            draws = keras.random.truncated_normal(shape, self.center, self.spread, seed=seed)
        elif self.kind == "uniform":
            draws = keras.random.uniform(shape, self.center - self.spread,
                                         self.center + self.spread, seed=seed)
        else:
            draws = keras.random.normal(shape, self.center, self.spread, seed=seed)
            if self.kind == "clipped":
                low, high = self.bounds()
                draws = keras.ops.clip(draws, low, high)
        return _numpy(draws)

    # deviations one sample of n values exceeds with probability at most `delta`
    def mean_deviation(self, n, delta=DELTA):
        """Hoeffding (|x - center| <= half_width), or the Gaussian tail for the normal."""
        scale = self.half_width if self.half_width is not None else self.spread
        return scale * math.sqrt(2 * math.log(2 / delta) / n)

    def second_moment_deviation(self, n, delta=DELTA):
        """Of mean((x - center)**2): Hoeffding on [0, half_width**2], or Laurent and
        Massart's chi-square bound for the normal."""
        if self.half_width is not None:
            return self.half_width ** 2 * math.sqrt(math.log(2 / delta) / (2 * n))
        x = math.log(2 / delta)
        return self.spread ** 2 * (2 * math.sqrt(x / n) + 2 * x / n)


def fraction_deviation(n, delta=DELTA):
    """Hoeffding for a fraction of n values (and DKW, Massart's constant, for a CDF)."""
    return math.sqrt(math.log(2 / delta) / (2 * n))


def _ks_distance(a, b):
    a, b = np.sort(a), np.sort(b)
    grid = np.concatenate([a, b])
    return float(np.max(np.abs(np.searchsorted(a, grid, side="right") / a.size
                               - np.searchsorted(b, grid, side="right") / b.size)))


def _on_bounds(values, bounds):
    low, high = bounds
    width = PILE_WIDTH * max(abs(low), abs(high))
    return float(np.mean((np.abs(values - low) <= width) | (np.abs(values - high) <= width)))


@dataclasses.dataclass
class Problem:
    """Why a sample does not look like a law's: the statistic, a sentence, the error."""
    statistic: str
    detail: str
    error: float


def sample_problem(values, reference, law, right_bounds=None):
    """None when `values` (the reader's draws, any shape) pass every test against
    `reference` (Keras's draws of `law`); else the first Problem found. right_bounds: the
    bounds of the right law, where a clipped sampler piles its values."""
    values = np.asarray(values, np.float64).ravel()
    reference = np.asarray(reference, np.float64).ravel()
    n, m = values.size, reference.size
    keras_name = "Keras's"
    bounds = law.bounds()
    if bounds is not None:
        low, high = bounds
        slack = BOUND_SLACK * max(abs(low), abs(high))
        outside = (values < low - slack) | (values > high + slack)
        if outside.any():
            worst = values[outside][np.argmax(np.abs(values[outside] - law.center))]
            return Problem("support", f"{int(outside.sum())} of your {n} values lie outside "
                           f"[{low:.6g}, {high:.6g}], where {law.describe()} never goes; "
                           f"for example {worst:.6g}.", float(np.max(np.abs(
                               values[outside] - law.center)) - law.half_width))
    if right_bounds is not None:
        yours, theirs = _on_bounds(values, right_bounds), _on_bounds(reference, right_bounds)
        if abs(yours - theirs) > fraction_deviation(n) + fraction_deviation(m):
            return Problem("pile-up", f"{yours:.2%} of your values sit exactly on the bounds "
                           f"{right_bounds[0]:.6g} and {right_bounds[1]:.6g} ({keras_name}: "
                           f"{theirs:.2%}).", abs(yours - theirs))
    for statistic, yours, theirs, tolerance in (
            ("mean", values.mean(), reference.mean(),
             law.mean_deviation(n) + law.mean_deviation(m)),
            ("variance", np.mean((values - law.center) ** 2),
             np.mean((reference - law.center) ** 2),
             law.second_moment_deviation(n) + law.second_moment_deviation(m))):
        if abs(yours - theirs) > tolerance:
            what = ("the mean" if statistic == "mean" else
                    f"the variance (the mean of (x - {law.center:g})**2)")
            return Problem(statistic, f"{what} of your {n} values is {yours:.6g}, of "
                           f"{keras_name} {m} values {theirs:.6g}: they differ by "
                           f"{abs(yours - theirs):.3g}, more than the {tolerance:.3g} two "
                           f"correct samples of these sizes ever differ by (except with "
                           f"probability 2e-8).", float(abs(yours - theirs)))
    distance = _ks_distance(values, reference)
    tolerance = fraction_deviation(n) + fraction_deviation(m) + KS_SLACK
    if distance > tolerance:
        return Problem("ks", f"the cumulative histograms of your values and of {keras_name} "
                       f"differ by up to {distance:.3g} (Kolmogorov-Smirnov distance), more "
                       f"than the {tolerance:.3g} two correct samples ever differ by (except "
                       f"with probability 2e-8).", distance)
    return None


@dataclasses.dataclass
class SampleCase:
    """One case of a statistical check: the reader's draws, Keras's, the law, and the laws
    of the misconceptions that differ from the right one here ({Misconception: Law})."""
    case: str
    values: np.ndarray
    reference: np.ndarray
    law: Law
    wrong: dict
    seed: int = 0


def judge_samples(name, cases):
    """Fail on the first case whose draws do not pass `sample_problem`, naming the
    misconception whose law explains the draws (on every case where it differs from the
    right law, as compare_outcomes does), else print one line."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    if len(cases) > MAX_CASES:
        raise ValueError(f"at most {MAX_CASES} cases per check (the 1e-6 bound); "
                         f"received {len(cases)}")
    first = None
    for c in cases:
        problem = sample_problem(c.values, c.reference, c.law, c.law.bounds())
        if problem is not None:
            first = (c, problem)
            break
    if first is None:
        checking.passed(name, len(cases))
        return
    matches = {}
    for index, c in enumerate(cases):
        for misconception, law in c.wrong.items():
            sample = law.sample(max(KERAS_VALUES, c.values.size), seed=c.seed + 7 + index)
            matches[(index, misconception)] = sample_problem(
                c.values, sample, law, c.law.bounds()) is None
    candidates = list(dict.fromkeys(m for c in cases for m in c.wrong))
    consistent = [m for m in candidates
                  if all(ok for (i, mm), ok in matches.items() if mm == m)]
    case, problem = first
    index = cases.index(case)
    found = [m for m in consistent if matches.get((index, m))] or \
            [m for m in candidates if matches.get((index, m))]
    fail(name, case.case, "wrong_values", problem.detail, found[0] if found else None,
         largest_error=problem.error)


def _guarded(name, case, call):
    """call(), with a student-side error turned into feedback naming the case."""
    __tracebackhide__ = True
    try:
        return call()
    except StudentError as err:
        kind = "not_implemented" if err.kind == "not_implemented" else (
            "timeout" if err.kind in ("timeout", "cpu") else
            "crash" if err.kind in ("memory", "crash", "lost", "protocol") else "exception")
        fail(name, "" if kind == "not_implemented" else case, kind,
             str(err) if kind == "not_implemented" else f"\n{err}")


def _as_draws(value, shape, name, case, dtype=None):
    """The reader's draws as a float64 array of `shape` (and dtype, when given), or feedback."""
    __tracebackhide__ = True
    if value is None:
        checking.returned_none(name, case, f"an array of shape {tuple(shape)}")
    array = np.asarray(value) if isinstance(value, (np.ndarray, list, tuple, float, int)) \
        else None
    if array is None or array.dtype.kind not in "iuf":
        fail(name, case, "wrong_type", f"`{name}` should return a numeric numpy array; it "
                                       f"returned {type(value).__name__}.")
    if array.shape != tuple(shape):
        fail(name, case, "wrong_shape", f"your array has shape {array.shape}; the requested "
                                        f"shape is {tuple(shape)}.")
    if dtype is not None and array.dtype != np.dtype(dtype):
        fail(name, case, "wrong_type", f"your array has dtype {array.dtype}; Keras returns "
                                       f"{dtype} (the `dtype` argument, float32 by default): "
                                       f"cast the result with .astype(dtype).")
    array = array.astype(np.float64)
    if not np.all(np.isfinite(array)):
        fail(name, case, "non_finite", "your array contains NaN or infinite values.")
    return array


# --------------------------------------------------------------------------- compute_fans

def _fans_cases(rng, hidden):
    if not hidden:
        return [(3, 3, 32, 64), (5, 5, 3, 16), (3, 3, 4, 8), (1, 1, 64, 128), (7, 16, 32),
                (3, 3, 3, 4, 5), (128, 10), (5,), ()]
    cases = []
    for rank in (4, 4, 4, 4, 3, 5, 2, 1, 4, 3):
        dims = [int(rng.integers(1, 8)) for _ in range(max(rank - 2, 0))]
        dims += [int(rng.integers(1, 97)) for _ in range(min(rank, 2))]
        cases.append(tuple(dims))
    return cases


@check
def check_compute_fans(hidden=False):
    """Exercise 6.1: `initializers.compute_fans(shape)` against the fans Keras's own
    VarianceScaling uses (read off its draws, see `keras_fans`)."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    rng = case_rng(hidden, seed=601)
    name = "initializers.compute_fans"
    outcomes = []
    with student_session() as session:
        for shape in _fans_cases(rng, hidden):
            case = f"compute_fans({shape})"
            fans = as_int_pair(student_call(session, name, shape, case=case), name, case)
            expected = np.array(keras_fans(shape), np.int64)
            wrong = {}
            if len(shape) >= 3:
                receptive = math.prod(shape[:-2])
                if receptive > 1:
                    wrong[FANS_NO_RECEPTIVE] = np.array(shape[-2:], np.int64)
                    wrong[FANS_OUT_NO_RECEPTIVE] = np.array(
                        [shape[-2] * receptive, shape[-1]], np.int64)
                torch = np.array([shape[1] * math.prod(shape[2:]),
                                  shape[0] * math.prod(shape[2:])], np.int64)
                if not np.array_equal(torch, expected):
                    wrong[FANS_TORCH_LAYOUT] = torch
            if expected[0] != expected[1]:
                wrong[FANS_SWAPPED] = expected[::-1].copy()
            outcomes.append(Outcome(case, np.array(fans, np.int64), expected, wrong))
    compare_outcomes(name, outcomes)


# -------------------------------------------------------------- variance_scaling_spread

def _spread_cases(rng, hidden):
    if not hidden:
        return [(1.0, "fan_avg", "uniform", 288, 576),
                (1.0, "fan_avg", "truncated_normal", 288, 576),
                (2.0, "fan_in", "truncated_normal", 400, 800),
                (2.0, "fan_in", "uniform", 27, 144),
                (1.0, "fan_in", "untruncated_normal", 75, 150),
                (0.5, "fan_out", "uniform", 9, 36),
                (1.0, "fan_avg", "uniform", 0, 1),
                (3.0, "fan_in", "truncated_normal", 0, 5)]
    cases = []
    for i in range(12):
        distribution = ("uniform", "truncated_normal", "untruncated_normal")[i % 3]
        mode = ("fan_in", "fan_out", "fan_avg", "fan_avg")[i % 4]
        fan_in, fan_out = int(rng.integers(1, 5000)), int(rng.integers(1, 5000))
        if i >= 10:
            fan_in, fan_out = (0, int(rng.integers(0, 2))) if i == 10 else (1, 0)
        scale = float(rng.choice([1.0, 2.0, float(rng.uniform(0.1, 5))]))
        cases.append((scale, mode, distribution, fan_in, fan_out))
    return cases


def _spread_from(scale, distribution, fan, rescale=True):
    """The spread for variance scale / fan (fan as given: no max(1, .))."""
    with np.errstate(divide="ignore"):
        variance = np.float64(scale) / np.float64(fan)
    if distribution == "uniform":
        return np.sqrt(3.0 * variance)
    return np.sqrt(variance) / (TRUNCATED_NORMAL_STD if distribution == "truncated_normal"
                                and rescale else 1.0)


@check
def check_variance_scaling_spread(hidden=False):
    """Exercise 6.2: `initializers.variance_scaling_spread(scale, mode, distribution, fan_in,
    fan_out)` against the stddev or limit Keras's VarianceScaling asks its random generator
    for (`keras_spread`), to rtol 1e-12."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    rng = case_rng(hidden, seed=602)
    name = "initializers.variance_scaling_spread"
    outcomes = []
    with student_session() as session:
        for scale, mode, distribution, fan_in, fan_out in _spread_cases(rng, hidden):
            args = (scale, mode, distribution, fan_in, fan_out)
            case = "variance_scaling_spread({})".format(", ".join(map(repr, args)))
            fan = {"fan_in": fan_in, "fan_out": fan_out,
                   "fan_avg": (fan_in + fan_out) / 2}[mode]
            try:
                actual = session.call(name, *args)
            except StudentError as err:
                if fan < 1 and err.exc_type == "ZeroDivisionError":
                    fail(name, case, "exception", f"\n{err}", SPREAD_NO_MAX_ONE)
                actual = student_call(session, name, *args, case=case)
            if actual is None:
                checking.returned_none(name, case, "a float")
            expected = keras_spread(*args)
            v = scale / max(1.0, fan)
            wrong = {}
            if distribution == "uniform":
                wrong[SPREAD_NOTES_VARIANCE] = math.sqrt(9.0 * v)
                wrong[SPREAD_UNIFORM_STD] = math.sqrt(v)
            else:
                wrong[SPREAD_NORMAL_LIMIT] = _spread_from(3 * scale, distribution,
                                                          max(1.0, fan))
            if distribution == "truncated_normal":
                wrong[SPREAD_NOT_RESCALED] = math.sqrt(v)
                wrong[SPREAD_RESCALE_MULTIPLIED] = math.sqrt(v) * TRUNCATED_NORMAL_STD
            if distribution == "untruncated_normal":
                wrong[SPREAD_UNTRUNCATED_RESCALED] = math.sqrt(v) / TRUNCATED_NORMAL_STD
            if mode == "fan_avg":
                wrong[SPREAD_FAN_AVG_SUM] = float(_spread_from(scale, distribution,
                                                               max(1.0, fan_in + fan_out)))
            if fan < 1:
                wrong[SPREAD_NO_MAX_ONE] = float(_spread_from(scale, distribution, fan))
            outcomes.append(Outcome(case, actual, np.float64(expected),
                                    {m: np.float64(w) for m, w in wrong.items()}))
    compare_outcomes(name, outcomes, rtol=SPREAD_RTOL, atol_fraction=1e-15)


# ------------------------------------------------------------------------ truncated_normal

def _truncated_cases(rng, hidden):
    """(shape, mean, stddev), each shape holding at least STUDENT_VALUES values."""
    if not hidden:
        return [((250, 200), 0.0, 1.0), ((50, 40, 30), 3.0, 0.5), ((8, 8, 32, 32), -1.0, 2.5),
                ((60_000,), 0.0, 0.05)]
    cases = []
    for _ in range(8):
        shape = [(int(rng.integers(230, 400)), int(rng.integers(230, 400))),
                 (int(rng.integers(40, 70)),) * 3,
                 (int(rng.integers(50_000, 90_000)),)][int(rng.integers(0, 3))]
        cases.append((shape, float(rng.uniform(-5, 5)), float(rng.uniform(0.01, 4))))
    return cases


@check
def check_truncated_normal(hidden=False):
    """Exercise 6.3: `initializers.truncated_normal(rng, shape, mean, stddev)` against
    `keras.random.truncated_normal`, by the statistics of `sample_problem`."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    keras = oracle.keras()
    rng = case_rng(hidden, seed=603)
    name = "initializers.truncated_normal"
    cases = []
    with student_session() as session:
        for shape, mean, stddev in _truncated_cases(rng, hidden):
            seed = int(rng.integers(0, 2**31 - 1))
            case = (f"truncated_normal(rng=make_rng({seed}), shape={shape}, mean={mean:g}, "
                    f"stddev={stddev:g})")
            generator = _guarded(name, case, lambda: session.new("initializers.make_rng",
                                                                   seed))
            values = _as_draws(_guarded(name, case, lambda: session.call(
                name, generator, shape, mean, stddev)), shape, name, case)
            size = max(KERAS_VALUES, 4 * values.size)
            reference = _numpy(keras.random.truncated_normal((size,), mean, stddev,
                                                             seed=seed + 1))
            law = Law("truncated", stddev, mean)
            # bounded laws first: an unbounded law's statistics may not tell it from them
            wrong = {TRUNC_CLIPPED: Law("clipped", stddev, mean),
                     TRUNC_RESCALED_INSIDE: Law("truncated", stddev / TRUNCATED_NORMAL_STD,
                                                mean),
                     TRUNC_NOT_TRUNCATED: Law("normal", stddev, mean)}
            cases.append(SampleCase(case, values, reference, law, wrong, seed))
    judge_samples(name, cases)


# ------------------------------------------------------------------ VarianceScaling.__call__

def _vs_cases(rng, hidden):
    """(class name, keyword arguments, kernel shape)."""
    if not hidden:
        return [("GlorotNormal", {}, (3, 3, 32, 64)),
                ("GlorotUniform", {}, (3, 3, 32, 64)),
                ("HeNormal", {}, (5, 5, 16, 32)),
                ("LecunUniform", {}, (3, 3, 64, 16)),
                ("VarianceScaling", {"scale": 0.5, "mode": "fan_out",
                                     "distribution": "untruncated_normal"}, (1, 3, 32, 64)),
                ("VarianceScaling", {"scale": 3.0, "mode": "fan_avg",
                                     "distribution": "truncated_normal"}, (2, 2, 48, 24))]
    cases = []
    names = list(CLASSES) + ["VarianceScaling"] * 4
    for i in range(10):
        class_name = names[i]
        kwargs = {}
        if class_name == "VarianceScaling":
            kwargs = {"scale": float(rng.uniform(0.2, 4)),
                      "mode": ("fan_in", "fan_out", "fan_avg")[int(rng.integers(0, 3))],
                      "distribution": ("truncated_normal", "untruncated_normal",
                                       "uniform", "normal")[i - 6]}
        shape = (1,)
        while math.prod(shape) < 4096:      # at most 13 calls of the reader's code per case
            kh, kw = [(3, 3), (5, 5), (1, 3), (2, 2), (7, 1)][int(rng.integers(0, 5))]
            shape = (kh, kw, int(rng.integers(8, 65)), int(rng.integers(8, 65)))
        cases.append((class_name, kwargs, shape))
    return cases


def _describe_init(class_name, kwargs):
    return f"{class_name}({', '.join(f'{k}={v!r}' for k, v in kwargs.items())})"


@check
def check_variance_scaling(hidden=False):
    """Exercise 6.4: `initializers.VarianceScaling.__call__`, through VarianceScaling and
    the Glorot/He/LeCun subclasses, against Keras's initializer of the same class,
    arguments and shape, by the statistics of `sample_problem`."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    rng = case_rng(hidden, seed=604)
    name = "initializers.VarianceScaling"
    cases = []
    with student_session() as session:
        for class_name, kwargs, shape in _vs_cases(rng, hidden):
            size = math.prod(shape)
            calls = -(-STUDENT_VALUES // size)
            seeds = [int(s) for s in rng.integers(0, 2**31 - 1, size=calls)]
            case = (f"{_describe_init(class_name, kwargs)}(shape={shape}), called {calls} "
                    f"times (seeds {seeds[0]}, ...)")
            values = []
            for seed in seeds:
                init = _guarded(name, case, lambda: session.new(
                    f"initializers.{class_name}", **kwargs, seed=seed))
                values.append(_as_draws(_guarded(name, case, lambda: init(shape)), shape,
                                        name, case, dtype="float32").ravel())
            values = np.concatenate(values)
            keras_seeds = [seeds[0] + 1 + k for k in range(-(-KERAS_VALUES // size))]
            reference = keras_draws(class_name, kwargs, shape, keras_seeds)
            keras_init = keras_initializer(class_name, kwargs, 0)
            law = keras_law(keras_init, shape)
            wrong = {}
            if law.kind == "uniform":
                wrong[VS_LIMIT_AS_VARIANCE] = Law("uniform", law.spread * math.sqrt(3))
            if law.kind == "truncated":   # bounded laws first (see check_truncated_normal)
                wrong[VS_NOT_RESCALED] = Law("truncated", law.spread * TRUNCATED_NORMAL_STD)
                wrong[VS_UNTRUNCATED] = Law("normal", law.spread)
            if math.prod(shape[:-2]) > 1:
                wrong[VS_NO_RECEPTIVE] = keras_law(keras_init, shape[-2:])
            cases.append(SampleCase(case, values, reference, law, wrong, seeds[0]))
    judge_samples(name, cases)


# ------------------------------------------------------------------------ Orthogonal.__call__
# Exercise 6.5. Where the expected values come from: keras.initializers.Orthogonal(gain, seed)
# on the case's shape and dtype. Its draws cannot be compared value by value (the reader's
# generator is numpy's), so the check grades what defines the answer, read off Keras's own
# output for the same case:
# 1. shape and dtype equal Keras's;
# 2. the matrix W of prod(shape[:-1]) rows and shape[-1] columns has orthonormal columns
#    (W^T W = gain**2 I) when it is tall or square, orthonormal rows (W W^T = gain**2 I) when
#    it is wide, to ORTHO_ATOL * gain**2 per entry (Keras's own float32 output is within
#    1e-5 there on every case; a wrong answer is off by O(gain**2));
# 3. an int seed gives the same matrix on every call, and two seeds different matrices, as
#    Keras does;
# 4. the law (a statistical test): for a uniformly random (Haar) W, flipping the sign of any
#    column (tall) or row (wide) leaves the law unchanged, so the signs of W's diagonal
#    entries are independent fair coins, whatever |W| is. The check pools the diagonal signs
#    of every call (N >= SIGN_ENTRIES) and fails when the fraction of positive ones differs
#    from 1/2 by more than sqrt(ln(2/SIGN_DELTA) / (2N)) (Hoeffding, exact for every N): a
#    correct solution fails this with probability at most SIGN_DELTA = 1e-7 per check call,
#    whatever random stream it draws from (the probability is over the reader's draws; the
#    seeds the check passes only choose which draws). Items 1-3 never fail a correct solution.
#    numpy's QR without the sign correction makes W[0, 0] always negative and only about 5% to
#    22% of the diagonal positive (the tests measure it), a deviation of >= 0.28 while the
#    tolerance is <= 0.075. What this test does NOT detect: other departures from the Haar law
#    that keep the diagonal signs fair (e.g. a QR of uniform instead of normal draws); the
#    check does not claim to.
ORTHO_ATOL = 1e-4         # per entry of W^T W (or W W^T), relative to gain**2
SIGN_DELTA = 1e-7         # the false-failure probability of the sign test, per check call
SIGN_ENTRIES = 1500       # diagonal signs pooled per check call (at least)

ORTHO_NOT_TRANSPOSED = Misconception(
    "initializers.orthogonal_not_transposed",
    "Your wide matrix is the QR factor q of shape (cols, rows) poured into (rows, cols) "
    "without transposing: when prod(shape[:-1]) < shape[-1], q (tall, orthonormal columns) "
    "must be transposed, q.T, so that the ROWS of the wide matrix are orthonormal.")
ORTHO_GAIN_IGNORED = Misconception(
    "initializers.orthogonal_gain_ignored",
    "Your matrix is orthonormal but ignores `gain`: Keras multiplies the orthogonal matrix "
    "by gain, so W^T W (or W W^T) = gain**2 I.")
ORTHO_WRONG_FLATTEN = Misconception(
    "initializers.orthogonal_wrong_flatten",
    "You flattened the shape as shape[0] x (the rest): Keras keeps the LAST axis (the "
    "filters) as the columns and multiplies the others into the rows, prod(shape[:-1]) x "
    "shape[-1], so that the filters of a conv kernel are orthonormal vectors.")
ORTHO_RETURNED_R = Misconception(
    "initializers.orthogonal_returned_r",
    "Your matrix is upper triangular: you returned R of the QR factorisation. The "
    "orthogonal factor is Q (np.linalg.qr returns q, r in that order).")
ORTHO_UNNORMALISED = Misconception(
    "initializers.orthogonal_unnormalised",
    "Your columns (rows, for a wide matrix) are orthogonal but not of length gain: each "
    "must have norm exactly gain (Q's columns are unit vectors; Gram-Schmidt must divide "
    "by the norm).")
ORTHO_NO_SIGN_CORRECTION = Misconception(
    "initializers.orthogonal_no_sign_correction",
    "Your diagonal entries are too often negative: your matrices are orthogonal but not "
    "uniformly random. np.linalg.qr fixes the signs of R's diagonal in its own way (q[0, 0] "
    "is always negative); multiply each column j of q by sign(r[j, j]) to undo that choice.")


def _ortho_cases(rng, hidden):
    """(shape, gain, dtype); each call gives min(rows, cols) diagonal signs."""
    if not hidden:
        return [((3, 3, 16, 32), 1.0, "float32"), ((3, 3, 8, 96), 2.0, "float32"),
                ((2, 3, 4, 64), 1.0, "float32"), ((40, 24), 0.5, "float32"),
                ((16, 48), 1.5, "float64"), ((5, 5, 3, 75), 1.0, "float32")]
    cases = []
    for i in range(8):
        kh, kw = [(3, 3), (1, 1), (5, 5), (1, 3), (2, 2)][int(rng.integers(0, 5))]
        shape = (kh, kw, int(rng.integers(2, 33)), int(rng.integers(16, 129)))
        if i >= 6:
            shape = (int(rng.integers(8, 129)), int(rng.integers(8, 129)))
        gain = float(rng.choice([1.0, float(rng.uniform(0.2, 3))]))
        cases.append((shape, gain, "float64" if i == 7 else "float32"))
    return cases


def _flattened(values, shape):
    return np.asarray(values, np.float64).reshape(math.prod(shape[:-1]), shape[-1])


def orthogonality_error(matrix, gain):
    """Largest |entry| of W^T W - gain**2 I (tall or square W) or W W^T - gain**2 I (wide)."""
    gram = matrix.T @ matrix if matrix.shape[0] >= matrix.shape[1] else matrix @ matrix.T
    return float(np.max(np.abs(gram - gain ** 2 * np.eye(len(gram))), initial=0.0))


def _ortho_misconception(values, shape, gain):
    """The misconception that explains a non-orthogonal answer, or None."""
    tol = ORTHO_ATOL * gain ** 2
    matrix = _flattened(values, shape)
    rows, cols = matrix.shape
    if gain != 1 and orthogonality_error(matrix, 1.0) <= ORTHO_ATOL:
        return ORTHO_GAIN_IGNORED
    if rows < cols and min(orthogonality_error(matrix.reshape(cols, rows), g) / g ** 2
                           for g in (gain, 1.0)) <= ORTHO_ATOL:
        return ORTHO_NOT_TRANSPOSED
    if len(shape) > 2 and shape[0] != rows:
        first = np.asarray(values, np.float64).reshape(shape[0], -1)
        if min(orthogonality_error(first, g) / g ** 2 for g in (gain, 1.0)) <= ORTHO_ATOL:
            return ORTHO_WRONG_FLATTEN
    if min(np.max(np.abs(np.tril(m, -1)), initial=0.0) for m in (matrix, matrix.T)) <= tol:
        return ORTHO_RETURNED_R      # upper triangular (or trapezoidal: R of mode="complete")
    vectors = matrix if rows >= cols else matrix.T
    gram = vectors.T @ vectors
    norms = np.sqrt(np.diag(gram))
    cosines = gram / np.maximum(np.outer(norms, norms), 1e-300)
    if np.max(np.abs(cosines - np.diag(np.diag(cosines)))) <= ORTHO_ATOL:
        return ORTHO_UNNORMALISED
    return None


def keras_orthogonal(shape, gain, seed, dtype="float32"):
    """keras.initializers.Orthogonal(gain, seed)(shape, dtype) as a numpy array."""
    init = oracle.keras().initializers.Orthogonal(gain=gain, seed=seed)
    return np.asarray(oracle.keras().ops.convert_to_numpy(init(tuple(shape), dtype=dtype)))


def sign_tolerance(n, delta=SIGN_DELTA):
    """Hoeffding: n fair coins' fraction of heads leaves 1/2 by more than this with
    probability at most delta."""
    return math.sqrt(math.log(2 / delta) / (2 * n))


@check
def check_orthogonal(hidden=False):
    """Exercise 6.5: `initializers.Orthogonal.__call__` against keras.initializers.Orthogonal:
    shape, dtype, orthonormal columns or rows times gain, seeded determinism, and the signs
    of the diagonal (a test of the law with false-failure rate <= 1e-7, see above)."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    rng = case_rng(hidden, seed=605)
    name = "initializers.Orthogonal.__call__"
    cases = _ortho_cases(rng, hidden)
    signs_per_round = sum(min(math.prod(s[:-1]), s[-1]) for s, _, _ in cases)
    rounds = max(2, -(-SIGN_ENTRIES // signs_per_round))
    signs = []
    with student_session() as session:
        for shape, gain, dtype in cases:
            seeds = [int(s) for s in rng.integers(0, 2**31 - 1, size=rounds)]
            label = f"Orthogonal(gain={gain:g}, seed={{}})(shape={shape}, dtype={dtype!r})"
            expected = keras_orthogonal(shape, gain, seeds[0], dtype)
            keras_error = orthogonality_error(_flattened(expected, shape), gain)
            tol = ORTHO_ATOL * gain ** 2
            if keras_error > tol:     # the oracle itself must have the property graded
                raise RuntimeError(f"Keras's Orthogonal is off by {keras_error} on {shape}")
            previous = None
            for k, seed in enumerate(seeds):
                case = label.format(seed)
                init = _guarded(name, case, lambda: session.new(
                    "initializers.Orthogonal", gain=gain, seed=seed))
                values = _as_draws(_guarded(name, case, lambda: init(shape, dtype)), shape,
                                   name, case, dtype=expected.dtype)
                error = orthogonality_error(_flattened(values, shape), gain)
                if error > tol:
                    rows, cols = math.prod(shape[:-1]), shape[-1]
                    which = ("W^T W (W: your values as a matrix of prod(shape[:-1]) = "
                             f"{rows} rows and {cols} columns)" if rows >= cols else
                             f"W W^T (W: your values as a {rows} x {cols} matrix, wide: its "
                             "rows must be orthonormal)")
                    fail(name, case, "wrong_values",
                         f"{which} differs from gain**2 I = {gain ** 2:g} I by up to "
                         f"{error:.3g} (allowed: {tol:.3g}; Keras's own matrix: "
                         f"{keras_error:.2g}).", _ortho_misconception(values, shape, gain),
                         largest_error=error)
                if k == 0:
                    again = _as_draws(_guarded(name, case, lambda: init(shape, dtype)),
                                      shape, name, case, dtype=expected.dtype)
                    if not np.array_equal(again, values):
                        fail(name, case, "wrong_values",
                             "calling the same initializer twice gave two different "
                             "matrices. With an int seed Keras returns the same values on "
                             "every call: draw from a generator made from self.seed inside "
                             "__call__ (the given `rng`).")
                elif k == 1 and np.array_equal(values, previous):
                    fail(name, case, "wrong_values",
                         f"seeds {seeds[0]} and {seed} gave the same matrix: as in Keras, "
                         "a different seed must give different values (draw from the given "
                         "`rng`, made from self.seed).")
                previous = values
                signs.append(np.sign(np.diag(_flattened(values, shape))))
    signs = np.concatenate(signs)
    positive = float(np.mean(signs > 0))
    tolerance = sign_tolerance(signs.size)
    if abs(positive - 0.5) > tolerance:
        fail(name, f"{len(cases)} shapes, {rounds} seeds each ({signs.size} diagonal entries)",
             "wrong_values",
             f"{positive:.1%} of the diagonal entries of your matrices are positive. For a "
             f"uniformly random orthogonal matrix each sign is a fair coin (flipping a column "
             f"keeps the law): the fraction stays within {tolerance:.3f} of 50% except with "
             f"probability {SIGN_DELTA:g}.",
             ORTHO_NO_SIGN_CORRECTION if positive < 0.5 else None,
             largest_error=abs(positive - 0.5))
    checking.passed(name, len(cases))
