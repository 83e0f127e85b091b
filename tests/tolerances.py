"""Every numerical tolerance the suite uses, in one place, with the reason for each.

Keras computes in float32; convlib computes in float32 as well (its fast path is float32
matrix products). Two float32 implementations that sum the same k*k*C products in a
different order differ by a few float32 ulps of the largest partial sum: Keras's own conv
tests use rtol=5e-4, and on this machine the largest difference seen on the benchmark
shapes (sums of up to 5*5*128 products) is ~2e-5 absolute on outputs of size ~10.

Every tolerance below is far tighter than the smallest change a misconception makes:
padding on the wrong side or a forgotten stride moves whole pixels (errors of order 1),
a flipped kernel changes the output by order 1, the variance used as the uniform limit
changes a standard deviation by a factor sqrt(3), "L2 with 1/2" halves a penalty, an
activity loss not divided by the batch multiplies it by the batch size.
"""
import numpy as np

# Outputs and gradients of the convolution: relative 5e-4 (Keras's own), plus an absolute
# floor proportional to the size of the values, for entries that cancel to near zero.
RTOL = 5e-4
ATOL_FRACTION_OF_SCALE = 1e-5

# Scalar penalties (regularizer losses): relative tolerance only; float32 sums of many terms.
LOSS_RTOL = 1e-5

# Initializer statistics: the number of samples drawn per statistic and the tolerances on
# the sample mean and standard deviation, in units of the expected standard deviation.
# With n = 200_000 samples the standard error of the mean is sigma/447 and that of the
# standard deviation ~sigma/632, so 0.02*sigma is > 8 standard errors: no flaky failures,
# yet a sqrt(3) (73%) or 1/0.8796 (14%) error in the spread fails by far.
INIT_SAMPLES = 200_000
INIT_MEAN_TOL = 0.02
INIT_STD_RTOL = 0.02


# Activations ----------------------------------------------------------------------
# assert_close's absolute floor scales with the largest entry, which is right for convolution
# sums but far too loose here: with inputs up to +-100 (or exp(30) ~ 1e13) it would hide any
# error on the entries near 0, where the activations differ most (e.g. a wrong SELU alpha).
# Each entry is instead compared on its own, |convlib - Keras| <= atol + ACT_RTOL*|Keras|, and
# upstream gradients are drawn from [-1, 1], so for gradients atol is per unit of grad_y.
#
# Both sides evaluate the same short float32 formulas and agree to a few ulps (1.2e-7
# relative), except where a formula cancels. A dense sweep of x in [-120, 120] found the
# worst cases: mish's gradient needs 3e-6 relative (1 - tanh^2 near saturation, times x);
# tanh's gradient 7e-7 absolute (TensorFlow's float32 tanh is a rational approximation that
# returns exactly +-1 once |x| > ~7.9, numpy's a few ulps below 1 there, and 1 - y^2 turns
# those ulps into ~1e-7 each). ACT_RTOL = 1e-5 and ACT_ATOL = 2e-6 keep a ~3x margin, yet a
# misconception changes entries by far more (leaky slope 0.01 vs 0.2, tanh-GELU vs erf-GELU:
# 5e-4 absolute, hard sigmoid 0.2x+0.5 vs (x+3)/6: 3e-2, a gradient slope wrong at a kink: 1).
#
# GELU_TANH_GRAD_ATOL: the same tanh saturation in the tanh-form GELU gradient is multiplied
# by 0.5 x du/dx ~ 8 (x ~ -4.9): up to 4e-6 per unit of grad_y in the sweep (numpy's is the
# more accurate). 1e-5 keeps a 2.5x margin and is 50x below the gap between the GELU forms.
ACT_RTOL = 1e-5
ACT_ATOL = 2e-6
GELU_TANH_GRAD_ATOL = 1e-5

# Initializers (beyond INIT_* above) ------------------------------------------------
# * TRUNCATION_RTOL = 1e-6: a truncated normal's values must satisfy |x - mean| <= 2*stddev;
#   the bound is computed in float64 while samples are float32 (rounding of up to a few
#   float32 ulps, ~6e-8 relative each), so 1e-6 (~16 ulps) is slack only for rounding. A
#   missing truncation gives values beyond 3*stddev (hundreds of them in 200_000 draws).
# * UNIFORM_EDGE_FRACTION = 0.01: the smallest/largest of 200_000 uniform draws lie within
#   1% of the interval's ends with probability 1 - 2e-872; a wrong limit (a factor sqrt(3))
#   misses the ends by far.
# * ORTHO_ATOL = 1e-5 (times gain**2): q^T q of float32 entries with <= 600 terms per dot
#   product; float32 rounding gives ~1e-6 here, a non-orthogonal matrix errors of order 1.
# * SIGN_DRAWS = 400 draws, SIGN_BAND = 0.12: the fraction of draws with a positive first
#   entry is binomial(400, 1/2), standard deviation 0.025, so a band of +-0.12 is ~5 sigma;
#   a QR without the sign correction gives a fraction of exactly 0 or 1.
TRUNCATION_RTOL = 1e-6
UNIFORM_EDGE_FRACTION = 0.01
ORTHO_ATOL = 1e-5
SIGN_DRAWS = 400
SIGN_BAND = 0.12

# Identities inside convlib computed in float64 (adjoint of im2col, two routes to the input
# gradient): only float64 rounding separates the two sides.
FLOAT64_IDENTITY_RTOL = 1e-10
# "A misconception must NOT pass": the wrong result differs from Keras by order 1, so it must
# be further than this from it (far above float32 noise of ~1e-5).
MUST_DIFFER_ATOL = 1e-3


def scale_of(expected):
    expected = np.asarray(expected)
    return float(np.max(np.abs(expected))) if expected.size else 0.0


def assert_close(actual, expected, what="value", rtol=RTOL):
    """Assert `actual` matches the Keras `expected` array, naming the worst entry."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, (
        f"{what}: shape {actual.shape} but Keras gives {expected.shape}"
    )
    atol = ATOL_FRACTION_OF_SCALE * max(scale_of(expected), 1.0)
    err = np.abs(actual - expected)
    bound = atol + rtol * np.abs(expected)
    if not np.all(err <= bound):
        worst = np.unravel_index(np.argmax(err - bound), err.shape)
        raise AssertionError(
            f"{what}: largest error {err.max():.3g} at index {tuple(int(i) for i in worst)} "
            f"(convlib {actual[worst]:.6g}, Keras {expected[worst]:.6g}; "
            f"allowed {bound[worst]:.3g})"
        )
