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
