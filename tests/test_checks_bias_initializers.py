"""Chapter 07's check functions (convbook/checks/bias_initializers.py): right, wrong and
unfinished convlibs, and the statistics behind the two random initializers.

* the reference solutions/convlib passes every check, visible and hidden, printing one line
  each and nothing on stderr;
* the generated stubs (convlib/ at the repository root) fail every check cleanly, saying
  what is not implemented;
* a fake convlib holding one known wrong idea (the reference with one `__call__` replaced)
  fails with feedback naming that misconception (`record.misconception`);
* the false-failure rate: a correct solution fails one call of a check with probability at
  most 1e-6 (the module docstring derives it from exact inequalities); here Keras's own draws
  and numpy's pass `compare_samples` over many random states, each statistic stays far below
  its allowance, and every misconception lies hundreds of allowances away;
* every check cell of solutions/07_bias_initializer.ipynb is there, visible and hidden
  (tests/test_check_cells.py runs each one first in a fresh process).
"""
import math
import re

import numpy as np
import pytest

from check_support import (assert_every_misconception_tested, assert_reference_passes,
                           assert_stubs_fail_cleanly, convlib_with)
from convbook import mistakes
from convbook.checking import CheckFailure
from convbook.checks import bias_initializers as checks


CHECKS = [checks.check_zeros, checks.check_constant, checks.check_random_normal,
          checks.check_random_uniform]
NAMES = [c.__name__ for c in CHECKS]

FIRST_STUB = {
    "check_zeros": "initializers.Zeros.__call__",
    "check_constant": "initializers.Constant.__call__",
    "check_random_normal": "initializers.RandomNormal.__call__",
    "check_random_uniform": "initializers.RandomUniform.__call__",
}


@pytest.mark.parametrize("check", CHECKS, ids=NAMES)
def test_reference_passes(check, monkeypatch, capfd):
    assert_reference_passes(check, monkeypatch, capfd)


@pytest.mark.parametrize("check", CHECKS, ids=NAMES)
def test_stubs_fail_cleanly(check, monkeypatch, capfd):
    assert_stubs_fail_cleanly(check, FIRST_STUB[check.__name__], monkeypatch, capfd)


# ------------------------------------------------------------------ misconceptions
# Each wrong implementation replaces a class's __call__(self, shape, dtype="float32"); the body
# sees the module's globals (np, make_rng, _standardize_*). The catalogue:
# convbook/mistakes/bias_initializers.py.

MISCONCEPTIONS = mistakes.table("bias_initializers")


@pytest.mark.parametrize("name", list(MISCONCEPTIONS))
def test_misconception_is_named(name, tmp_path, monkeypatch, capfd):
    mistake = MISCONCEPTIONS[name]
    check, misconception = mistake.check, mistake.misconception
    monkeypatch.chdir(convlib_with(tmp_path, mistake.module, mistake.target, mistake.body,
                                   mistake.params))
    with pytest.raises(CheckFailure) as info:
        check()
    assert misconception.text in str(info.value), f"feedback was\n{info.value}"
    record = info.value.record
    assert record.misconception == misconception.id, record
    assert record.check and record.case, record
    with pytest.raises(CheckFailure) as info:      # the hidden cases fail it too
        check(hidden=True)
    if info.value.record.kind == "wrong_values":    # (rng.uniform(0, maxval) may raise)
        assert info.value.record.misconception == misconception.id, info.value
    out, err = capfd.readouterr()
    assert err == "", f"wrote to stderr: {err!r}"


def test_misconception_ids_are_unique():
    found = [v for v in vars(checks).values() if isinstance(v, checks.Misconception)]
    assert len({m.id for m in found}) == len(found) >= 10


def test_every_misconception_is_tested():
    assert_every_misconception_tested(checks, MISCONCEPTIONS)


def test_feedback_reports_the_statistics(tmp_path, monkeypatch):
    """The feedback names the case, Keras's and the reader's statistics and the allowance."""
    mistake = MISCONCEPTIONS["normal-stddev-as-variance"]
    monkeypatch.chdir(convlib_with(tmp_path, mistake.module, mistake.target, mistake.body,
                                   mistake.params))
    with pytest.raises(CheckFailure) as info:
        mistake.check()
    text = str(info.value)
    assert text.startswith("RandomNormal(seed=") and "shape=(128, 160)" in text, text
    assert "standard deviation of your values is 0.22" in text, text
    assert re.search(r"Keras's 0\.0(49|50)", text), text
    assert "by chance" in text, text


# ------------------------------------------------------------ the statistics themselves

TARGETS = [checks.Normal(0.0, 0.05), checks.Normal(-1.0, 0.3), checks.Normal(0.5, 2.0),
           checks.Uniform(-0.05, 0.05), checks.Uniform(-3.0, -1.0), checks.Uniform(0.5, 2.0)]


@pytest.mark.parametrize("target", TARGETS, ids=str)
@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_keras_and_numpy_draws_pass_far_inside_the_allowances(target, dtype):
    """A correct numpy solution against Keras, over 40 random states each: never a failure
    at the per-test chance a check uses (1e-6 / 30), and every statistic well inside its
    allowance (a test that fails with probability 1e-7 should not come close)."""
    alpha = checks.FALSE_FAILURE / 30
    worst = {}
    for state in range(40):
        rng = np.random.default_rng(7000 + state)
        n = 5000
        if isinstance(target, checks.Normal):
            yours = rng.normal(target.mean, target.stddev, n).astype(dtype)
        else:
            yours = rng.uniform(target.minval, target.maxval, n).astype(dtype)
        keras = target.keras_sample((4 * n,), dtype, 100 + state)
        for f in checks.compare_samples(yours, keras, target, alpha):
            assert f.ok, (state, f.text)
            if f.statistic in ("mean", "standard deviation", "distribution") and f.allowed:
                used = abs(f.yours - f.keras) if f.statistic == "mean" else (
                    abs(f.yours ** 2 - f.keras ** 2) if f.statistic != "distribution"
                    else f.yours)
                worst[f.statistic] = max(worst.get(f.statistic, 0.0), used / f.allowed)
    # typical deviations are a fifth of the allowance or less (5.5 sigma against ~1-2)
    assert all(v < 0.6 for v in worst.values()), worst


def test_keras_draws_pass_against_keras_many_times():
    """Keras's own draws, compared with Keras's: 300 random states, none fails even at a
    thousand times the per-test chance the checks use."""
    alpha = checks.FALSE_FAILURE / 30 * 1000
    for state in range(300):
        target = TARGETS[state % len(TARGETS)]
        yours = target.keras_sample((2000,), "float32", 2 * state)
        keras = target.keras_sample((8000,), "float32", 2 * state + 1)
        assert all(f.ok for f in checks.compare_samples(yours, keras, target, alpha)), state


def test_the_thresholds_are_the_stated_inequalities():
    """Spot values of the allowances, recomputed from the formulas in the docstring."""
    alpha = 1e-8
    z = checks._z_two_sided(alpha)
    assert math.isclose(math.erfc(z / math.sqrt(2)), alpha, rel_tol=1e-6)
    rng = np.random.default_rng(1)
    y, k = rng.normal(0, 2, 1000), rng.normal(0, 2, 4000)
    found = {f.statistic: f for f in checks.compare_samples(y, k, checks.Normal(0, 2), alpha)}
    assert math.isclose(found["mean"].allowed, z * 2 * math.sqrt(1 / 1000 + 1 / 4000))
    x = math.log(4 / alpha)
    chi = lambda d: 2 * math.sqrt(x / d) + 2 * x / d  # noqa: E731
    assert math.isclose(found["standard deviation"].allowed, 4 * (chi(999) + chi(3999)))
    assert math.isclose(found["distribution"].allowed,
                        math.sqrt(x / 2000) + math.sqrt(x / 8000))
    u = checks.Uniform(0, 1)
    found = {f.statistic: f for f in checks.compare_samples(
        rng.uniform(0, 1, 1000), rng.uniform(0, 1, 4000), u, alpha)}
    assert math.isclose(found["smallest"].allowed,
                        math.log(1 / alpha) / 1000 + float(np.finfo(np.float64).eps))


@pytest.mark.parametrize("name", ["normal-stddev-as-variance", "normal-variance-as-scale",
                                  "normal-mean-ignored", "uniform-from-zero",
                                  "uniform-not-shifted", "uniform-symmetric"])
def test_misconceptions_fail_by_a_wide_margin(name):
    """On the visible cases each statistical misconception is off by far more than the
    allowance (so the check fails it whatever the draws): the largest ratio of difference
    to allowance over the failing statistics, at least 10 on some visible case."""
    rng = np.random.default_rng(3)
    cases = {"normal": checks._normal_cases(rng, False),
             "uniform": checks._uniform_cases(rng, False)}
    kind = name.split("-")[0]
    target_of = checks._normal_target if kind == "normal" else checks._uniform_target
    wrong_of = {"normal-stddev-as-variance": lambda t: checks.Normal(t.mean, math.sqrt(t.stddev)),
                "normal-variance-as-scale": lambda t: checks.Normal(t.mean, t.stddev ** 2),
                "normal-mean-ignored": lambda t: checks.Normal(0.0, t.stddev),
                "uniform-from-zero": lambda t: checks.Uniform.between(0.0, t.maxval),
                "uniform-not-shifted": lambda t: checks.Uniform.between(0.0,
                                                                        t.maxval - t.minval),
                "uniform-symmetric": lambda t: checks.Uniform.between(-t.maxval, t.maxval)}
    best = 0.0
    for c in cases[kind][:3]:
        target = target_of(c.kwargs)
        wrong = wrong_of[name](target)
        if wrong == target:
            continue
        n = int(np.prod(c.shape))
        yours = wrong.keras_sample((n,), "float32", 11)
        keras = target.keras_sample((4 * n,), "float32", 12)
        for f in checks.compare_samples(yours, keras, target, checks.FALSE_FAILURE / 20):
            if not f.ok and f.allowed:
                gap = (abs(f.yours - f.keras) if f.statistic == "mean" else
                       abs(f.yours ** 2 - f.keras ** 2) if f.statistic == "standard deviation"
                       else f.yours if f.statistic == "distribution" else 0.0)
                best = max(best, gap / f.allowed)
    assert best >= 10, best


@pytest.mark.parametrize("target", [checks.Normal(2.37, 0.025), checks.Normal(-3.0, 0.01),
                                    checks.Uniform(2.9, 3.0), checks.Uniform(-3.0, -2.95)],
                         ids=str)
def test_float16_rounding_is_allowed_for(target):
    """In float16 Keras rounds the parameters before drawing (mean 2.37 becomes 2.369), so a
    correct numpy solution, which rounds only the result, is shifted by up to an ulp: the
    allowances include that shift, and over 40 random states nothing fails."""
    alpha = checks.FALSE_FAILURE / 30
    for state in range(40):
        rng = np.random.default_rng(9000 + state)
        if isinstance(target, checks.Normal):
            yours = rng.normal(target.mean, target.stddev, 30000).astype("float16")
        else:
            yours = rng.uniform(target.minval, target.maxval, 30000).astype("float16")
        keras = target.keras_sample((120000,), "float16", 500 + state)
        bad = [f.text for f in checks.compare_samples(yours, keras, target, alpha) if not f.ok]
        assert not bad, (state, bad)
