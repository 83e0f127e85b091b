"""Chapter 06's check functions (convbook/checks/initializers.py): right, wrong and unfinished
convlibs, and the oracles and statistics behind them.

* the reference solutions/convlib passes every check, visible and hidden, printing one line
  each and nothing on stderr;
* the generated stubs (convlib/ at the repository root) fail every check cleanly;
* a fake student convlib holding one known wrong idea (the reference with one function, or
  VarianceScaling.__call__, replaced) fails with feedback naming that misconception;
* the oracles are Keras's: `keras_fans` (read off Keras's public VarianceScaling) equals
  keras.src's compute_fans, and `keras_spread` is the formula of Keras's source;
* the statistical checks: a correct solution fails a check with probability at most 1e-6
  (the module docstring derives it: 8 events per case, at most 12 cases, each at most
  DELTA = 1e-8 by Hoeffding / Gaussian tail / Laurent-Massart / DKW, valid for every sample
  size). Here: the deviation bounds are checked against the exact closed forms, Keras's own
  draws pass against Keras's, and correct samplers that use other random streams (fresh
  entropy, inverse-CDF sampling) pass too, so the bound does not hinge on the reader's seeds.
"""
import math
import textwrap

import numpy as np
import pytest

from check_support import (assert_every_misconception_tested, assert_mistake_named,
                           assert_reference_passes, assert_stubs_fail_cleanly, fake_convlib)
from convbook import mistakes
from convbook.checking import CheckFailure
from convbook.checks import initializers as checks
from convbook.mistakes import wrong_module_text


CHECKS = [
    checks.check_compute_fans,
    checks.check_variance_scaling_spread,
    checks.check_truncated_normal,
    checks.check_variance_scaling,
    checks.check_orthogonal,
]
NAMES = [c.__name__ for c in CHECKS]


@pytest.mark.parametrize("check", CHECKS, ids=NAMES)
def test_reference_passes(check, monkeypatch, capfd):
    assert_reference_passes(check, monkeypatch, capfd)


FIRST_STUB = {
    "check_compute_fans": "initializers.compute_fans",
    "check_variance_scaling_spread": "initializers.variance_scaling_spread",
    "check_truncated_normal": "initializers.truncated_normal",
    # VarianceScaling.__call__ starts with the given `compute_fans(shape)`
    "check_variance_scaling": "initializers.compute_fans",
    "check_orthogonal": "initializers.Orthogonal.__call__",
}


@pytest.mark.parametrize("check", CHECKS, ids=NAMES)
def test_stubs_fail_cleanly(check, monkeypatch, capfd):
    assert_stubs_fail_cleanly(check, FIRST_STUB[check.__name__], monkeypatch, capfd)


# ------------------------------------------------------------------ misconceptions
# The wrong implementations and the check that must name each: the catalogue,
# convbook/mistakes/initializers.py (functions redefined, or VarianceScaling.__call__ and
# Orthogonal.__call__ replaced). WRONG_CALL, below, is VarianceScaling.__call__ written out
# with two holes: the correct samplers of other streams use it.

INIT = "initializers.py"

WRONG_CALL = '''

def _wrong_call(self, shape, dtype="float32"):
    shape, dtype = _standardize_shape(shape), _standardize_dtype(dtype, True)
    rng = make_rng(self.seed)
    fan_in, fan_out = compute_fans(shape)
    spread = variance_scaling_spread(self.scale, self.mode, self.distribution, fan_in, fan_out)
    if self.distribution == "truncated_normal":
        values = {truncated}
    elif self.distribution == "untruncated_normal":
        values = rng.normal(0.0, spread, shape)
    else:
        values = {uniform}
    return values.astype(dtype)


VarianceScaling.__call__ = _wrong_call
'''
RIGHT_TRUNCATED = "truncated_normal(rng, shape, 0.0, spread)"
RIGHT_UNIFORM = "rng.uniform(-spread, spread, shape)"

CATALOGUE = mistakes.table("initializers")
ORTHOGONAL_MISCONCEPTIONS = {k: m for k, m in CATALOGUE.items()
                             if m.target == "Orthogonal.__call__"}
MISCONCEPTIONS = {k: m for k, m in CATALOGUE.items() if k not in ORTHOGONAL_MISCONCEPTIONS}


def _fake_convlib(tmp_path, code):
    """A copy of the reference convlib with `code` appended to initializers.py."""
    fake_convlib(tmp_path, INIT, code)


@pytest.mark.parametrize("name", list(MISCONCEPTIONS))
def test_misconception_is_named(name, tmp_path, monkeypatch, capfd):
    assert_mistake_named(CATALOGUE[name], tmp_path, monkeypatch, capfd)


def test_forgotten_max_one_raising_is_named(tmp_path, monkeypatch, capfd):
    """Without max(1, fan), Python's `scale / 0` raises: the check names the idea too."""
    _fake_convlib(tmp_path, '''

def variance_scaling_spread(scale, mode, distribution, fan_in, fan_out):
    fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) // 2}[mode]
    variance = scale / fan
    if distribution == "truncated_normal":
        return math.sqrt(variance) / TRUNCATED_NORMAL_STD
    if distribution == "untruncated_normal":
        return math.sqrt(variance)
    return math.sqrt(3.0 * variance)
''')
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CheckFailure) as info:
        checks.check_variance_scaling_spread()
    assert info.value.record.misconception == checks.SPREAD_NO_MAX_ONE.id, str(info.value)
    assert "ZeroDivisionError" in str(info.value)
    assert capfd.readouterr().err == ""


def test_misconception_ids_are_unique():
    found = [v for v in vars(checks).values() if isinstance(v, checks.Misconception)]
    assert len({m.id for m in found}) == len(found) >= 3


def test_every_misconception_is_tested():
    assert_every_misconception_tested(checks, CATALOGUE)


# ------------------------------------------------------- correct samplers of other streams

OTHER_STREAMS = {
    # Box-Muller normals from fresh OS entropy (ignoring the rng it is given), redrawn
    "truncated_normal": ("truncated_normal", """
        rng, shape, mean, stddev = args
        fresh = np.random.default_rng()
        size = math.prod(shape)
        z = np.empty(0)
        while z.size < size:
            u1, u2 = 1.0 - fresh.random(size), fresh.random(size)
            draws = np.sqrt(-2 * np.log(u1)) * np.cos(2 * np.pi * u2)
            z = np.concatenate([z, draws[np.abs(draws) <= 2]])
        return mean + stddev * z[:size].reshape(shape)
        """, checks.check_truncated_normal),
    # every call from fresh entropy, whatever the seed
    "variance_scaling": (None, WRONG_CALL.replace(
        "rng = make_rng(self.seed)", "rng = np.random.default_rng()").format(
        truncated=RIGHT_TRUNCATED, uniform=RIGHT_UNIFORM), checks.check_variance_scaling),
}


@pytest.mark.parametrize("name", list(OTHER_STREAMS))
def test_correct_samplers_of_other_streams_pass(name, tmp_path, monkeypatch, capfd):
    function, code, check = OTHER_STREAMS[name]
    if function is not None:
        from check_support import patched
        code = patched(function, code)
    _fake_convlib(tmp_path, code)
    monkeypatch.chdir(tmp_path)
    for _ in range(2):
        check()
    check(hidden=True)
    out, err = capfd.readouterr()
    assert err == "" and out.count("agree with Keras") == 3, out


# ------------------------------------------------------------------------ the oracles

def test_keras_fans_equal_keras_src_compute_fans():
    from keras.src.initializers.random_initializers import compute_fans

    shapes = (checks._fans_cases(np.random.default_rng(0), False)
              + checks._fans_cases(np.random.default_rng(1), True)
              + [(1, 1, 5, 7), (2, 3, 5, 7, 11, 13)])
    for shape in shapes:
        assert checks.keras_fans(shape) == compute_fans(shape), shape


def test_keras_fans_of_a_grouped_layer_use_the_kernel_shape():
    """Conv2D(8, 3, groups=4) on 16 channels: kernel (3, 3, 4, 8), fan_in 3*3*16/4 = 36."""
    from convbook import oracle

    keras = oracle.keras()
    layer = keras.layers.Conv2D(8, 3, groups=4)
    layer.build((None, 10, 10, 16))
    assert tuple(layer.kernel.shape) == (3, 3, 4, 8)
    assert checks.keras_fans(layer.kernel.shape) == (36, 72)


@pytest.mark.parametrize("scale, mode, distribution, fan_in, fan_out", [
    (1.0, "fan_avg", "uniform", 288, 576), (2.0, "fan_in", "truncated_normal", 400, 800),
    (0.5, "fan_out", "untruncated_normal", 9, 36), (1.0, "fan_avg", "uniform", 0, 1),
    (3.0, "fan_in", "normal", 0, 5), (1.7, "fan_avg", "truncated_normal", 3, 4)])
def test_keras_spread_is_the_formula_of_keras_source(scale, mode, distribution, fan_in,
                                                     fan_out):
    fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]
    v = scale / max(1.0, fan)
    expected = {"uniform": math.sqrt(3.0 * v), "untruncated_normal": math.sqrt(v)}.get(
        distribution, math.sqrt(v) / 0.87962566103423978)
    assert checks.keras_spread(scale, mode, distribution, fan_in, fan_out) == expected


def test_hidden_cases_are_few_and_large_enough():
    for seed in range(20):
        rng = np.random.default_rng(seed)
        for cases in (checks._vs_cases(rng, True), checks._truncated_cases(rng, True)):
            assert len(cases) <= checks.MAX_CASES
        assert all(math.prod(shape) >= 4096 for _, _, shape in checks._vs_cases(rng, True))
        assert all(math.prod(shape) >= checks.STUDENT_VALUES
                   for shape, _, _ in checks._truncated_cases(rng, True))


def test_the_recording_stand_in_is_removed():
    from convbook import oracle

    keras = oracle.keras()
    checks.keras_spread(1.0, "fan_in", "uniform", 3, 4)
    values = keras.initializers.GlorotUniform(seed=1)((30, 40))
    assert np.std(keras.ops.convert_to_numpy(values)) > 0


# ------------------------------------------------------------------ the statistics

def _truncated_moments():
    """Variance and E[z**4] of a standard normal cut to [-2, 2], in closed form."""
    pdf2 = math.exp(-2.0) / math.sqrt(2 * math.pi)
    mass = math.erf(math.sqrt(2))
    variance = 1 - 4 * pdf2 / mass
    fourth = 3 * variance - 8 * pdf2 / mass
    return variance, fourth


def test_truncated_constant():
    assert math.sqrt(_truncated_moments()[0]) == pytest.approx(checks.TRUNCATED_NORMAL_STD,
                                                               abs=1e-15)


@pytest.mark.parametrize("kind", ["truncated", "uniform", "normal", "clipped"])
def test_deviation_bounds_exceed_the_true_spread_of_the_statistics(kind):
    """Each bound is a valid tail bound at DELTA = 1e-8; sanity: it is at least 5.6 standard
    errors of its statistic (a normal tail of 2e-8), never below."""
    law = checks.Law(kind, 1.3)
    n = checks.STUDENT_VALUES
    var_t, fourth_t = _truncated_moments()
    s = 1.3
    variance, fourth = {
        "truncated": (var_t * s**2, fourth_t * s**4),
        "uniform": (s**2 / 3, s**4 / 5),
        "normal": (s**2, 3 * s**4),
        "clipped": (None, None)}[kind]
    if variance is None:
        return
    assert law.mean_deviation(n) >= 5.6 * math.sqrt(variance / n)
    assert law.second_moment_deviation(n) >= 5.6 * math.sqrt((fourth - variance**2) / n)
    assert checks.fraction_deviation(n) >= 5.6 * 0.5 / math.sqrt(n)


@pytest.mark.parametrize("kind", ["truncated", "uniform", "normal"])
def test_keras_draws_pass_against_keras_draws(kind):
    law = checks.Law(kind, 0.7, center=0.3)
    for seed in range(10):
        mine = law.sample(checks.STUDENT_VALUES, seed=100 + seed)
        theirs = law.sample(checks.KERAS_VALUES, seed=200 + seed)
        assert checks.sample_problem(mine, theirs, law, law.bounds()) is None


def test_power_every_wrong_law_fails_against_the_right_one():
    """The misconceptions' laws are far outside the tolerances (at the visible sizes)."""
    spread = 0.05
    right = checks.Law("truncated", spread)
    reference = right.sample(checks.KERAS_VALUES, seed=1)
    for wrong in [checks.Law("normal", spread), checks.Law("clipped", spread),
                  checks.Law("truncated", spread * checks.TRUNCATED_NORMAL_STD),
                  checks.Law("truncated", spread / checks.TRUNCATED_NORMAL_STD),
                  checks.Law("truncated", spread * 2 ** 0.5)]:
        sample = wrong.sample(checks.STUDENT_VALUES, seed=2)
        assert checks.sample_problem(sample, reference, right, right.bounds()) is not None
    uniform = checks.Law("uniform", spread)
    reference = uniform.sample(checks.KERAS_VALUES, seed=3)
    sample = checks.Law("uniform", spread * 3 ** 0.5).sample(checks.STUDENT_VALUES, seed=4)
    assert checks.sample_problem(sample, reference, uniform, uniform.bounds()) is not None


# ------------------------------------------------------------------- Orthogonal (exercise 6.5)
# The check grades exact properties (shape, dtype, W^T W = gain**2 I, seeded determinism),
# which a correct solution never fails, and one statistic, the fraction of positive diagonal
# entries, which a correct solution fails with probability at most SIGN_DELTA = 1e-7 per
# check call (Hoeffding on N >= 1500 fair coins; derived in the check module).

ORTHOGONAL_START = """
shape, dtype = _standardize_shape(shape), _standardize_dtype(dtype, True)
rng = make_rng(self.seed)
rows, cols = math.prod(shape[:-1]), shape[-1]
a = rng.standard_normal((max(rows, cols), min(rows, cols)))
q, r = np.linalg.qr(a)
"""


def _orthogonal_body(code):
    """Code replacing Orthogonal.__call__: ORTHOGONAL_START's lines, then `code`."""
    body = ORTHOGONAL_START.strip("\n") + "\n" + textwrap.dedent(code).strip("\n")
    return wrong_module_text("", "Orthogonal.__call__", body, 'self, shape, dtype="float32"')


@pytest.mark.parametrize("name", list(ORTHOGONAL_MISCONCEPTIONS))
def test_orthogonal_misconception_is_named(name, tmp_path, monkeypatch, capfd):
    assert_mistake_named(CATALOGUE[name], tmp_path, monkeypatch, capfd)


def test_orthogonal_of_another_stream_passes(tmp_path, monkeypatch, capfd):
    """A correct sampler that draws differently (Gram-Schmidt, whose R diagonal is already
    positive, from a generator of its own made from the seed) passes: the check does not
    hinge on numpy's QR or on the reader's stream."""
    _fake_convlib(tmp_path, _orthogonal_body("""
        fresh = np.random.default_rng([self.seed, 12345])
        a = fresh.standard_normal((max(rows, cols), min(rows, cols)))
        q = np.zeros_like(a)
        for j in range(a.shape[1]):
            v = a[:, j] - q[:, :j] @ (q[:, :j].T @ a[:, j])
            v = v - q[:, :j] @ (q[:, :j].T @ v)          # re-orthogonalise once
            q[:, j] = v / np.linalg.norm(v)
        return (self.gain * (q.T if rows < cols else q)).reshape(shape).astype(dtype)
        """))
    monkeypatch.chdir(tmp_path)
    checks.check_orthogonal()
    checks.check_orthogonal(hidden=True)
    assert capfd.readouterr().err == ""


def test_keras_orthogonal_has_the_graded_properties():
    """Keras's own matrices: orthonormal columns/rows times gain, the same for one seed,
    different for two, and diagonal signs that pass the sign test."""
    signs = []
    for shape, gain in [((3, 3, 16, 32), 1.0), ((3, 3, 8, 96), 2.0), ((40, 24), 0.5)]:
        for seed in range(12):
            w = checks.keras_orthogonal(shape, gain, seed)
            assert w.shape == shape and w.dtype == np.float32
            assert checks.orthogonality_error(checks._flattened(w, shape), gain) \
                < 0.1 * checks.ORTHO_ATOL * gain ** 2
            signs.append(np.sign(np.diag(checks._flattened(w, shape))))
        assert np.array_equal(checks.keras_orthogonal(shape, gain, 5),
                              checks.keras_orthogonal(shape, gain, 5))
        assert not np.array_equal(checks.keras_orthogonal(shape, gain, 5),
                                  checks.keras_orthogonal(shape, gain, 6))
    signs = np.concatenate(signs)
    assert abs(np.mean(signs > 0) - 0.5) <= checks.sign_tolerance(signs.size)


def test_sign_test_bound_and_power():
    """The tolerance is Hoeffding's at SIGN_DELTA (exact: no approximation), at most 0.075
    for N >= 1500; numpy's uncorrected QR gives at most 25% positive diagonal entries on the
    shapes the check uses, a deviation far beyond it."""
    for n in (checks.SIGN_ENTRIES, 5000):
        t = checks.sign_tolerance(n)
        assert 2 * math.exp(-2 * n * t * t) == pytest.approx(checks.SIGN_DELTA)
    assert checks.sign_tolerance(checks.SIGN_ENTRIES) < 0.075
    rng = np.random.default_rng(0)
    for hidden in (False, True):
        cases = checks._ortho_cases(np.random.default_rng(1), hidden)
        positive = []
        for shape, _, _ in cases:
            rows, cols = math.prod(shape[:-1]), shape[-1]
            for _ in range(5):
                q, _r = np.linalg.qr(rng.standard_normal((max(rows, cols), min(rows, cols))))
                positive.append(np.mean(np.diag(q) > 0))
        assert np.mean(positive) < 0.25, np.mean(positive)
