"""Checks for chapter 00, what Conv2D computes: `correlate.correlate2d`, `correlate.conv2d_valid`.

Expected values come from `keras.ops.conv` (the op behind `keras.layers.Conv2D`), with
padding="valid" and stride 1. The answers known misconceptions give are computed with Keras
too (a flipped kernel, a depthwise conv for "not summed over channels", ...), except pure
re-arrangements of Keras's answer (transposes).
"""
import numpy as np

from convbook import checking, oracle
from convbook.checks import (Misconception, check, Outcome, case_rng, compare_outcomes, student_call,
                             student_session)

FLIPPED = Misconception(
    "basics.flipped",
    "Your output is a true convolution (the kernel flipped upside-down and left-right): "
    "Conv2D does not flip the kernel, it computes a cross-correlation, out[i, j] = "
    "sum(image[i:i+kh, j:j+kw, :] * kernel).")
PER_CHANNEL = Misconception(
    "basics.per_channel",
    "You returned one map per input channel: Conv2D adds the products over the window AND "
    "over all input channels, so each filter gives one 2-D map.")
FIRST_CHANNEL = Misconception(
    "basics.first_channel",
    "Your output uses only the first input channel: Conv2D sums the products over all input "
    "channels (the kernel holds one slice per channel).")
MEAN_CHANNELS = Misconception(
    "basics.mean_channels",
    "Your output is the sum divided by the number of input channels (a mean): Conv2D sums "
    "over the window and the channels, it does not average.")
OUTPUT_TRANSPOSED = Misconception(
    "basics.output_transposed",
    "Your output has rows and columns swapped: out[i, j] belongs to the window whose top-left"
    " corner is row i, column j of the input.")
KERNEL_TRANSPOSED = Misconception(
    "basics.kernel_transposed",
    "Your answer uses the kernel with its rows and columns swapped: kernel[a, b] multiplies "
    "the pixel a rows down and b columns right of the window's corner.")
CHANNELS_FIRST_OUT = Misconception(
    "basics.channels_first_out",
    "Your output is laid out (batch, filters, height, width): Keras's channels_last layout is"
    " (batch, height, width, filters).")

# float32 everywhere: Keras's floatx, and what the student receives.
DTYPE = np.float32


def _keras_valid(x, kernel):
    """keras.ops.conv, padding="valid", stride 1: (N, H, W, C) x (kh, kw, C, F)."""
    keras = oracle.keras()
    return keras.ops.convert_to_numpy(keras.ops.conv(x, kernel, strides=1, padding="valid"))


def _keras_per_channel(x, kernel):
    """Every (input channel, filter) pair correlated separately, not summed over channels:
    Keras's depthwise conv with depth multiplier F gives output channel c*F + f."""
    keras = oracle.keras()
    n, _, _, c = x.shape
    f = kernel.shape[-1]
    y = keras.ops.convert_to_numpy(keras.ops.depthwise_conv(x, kernel, padding="valid"))
    return y.reshape(n, y.shape[1], y.shape[2], c, f)


def _fits(x_shape, kernel_shape):
    return kernel_shape[0] <= x_shape[1] and kernel_shape[1] <= x_shape[2]


def _batch_misconceptions(x, kernel, expected):
    """{sentence: answer} for conv2d_valid-shaped answers (N, H', W', F)."""
    wrong = {
        FLIPPED: _keras_valid(x, kernel[::-1, ::-1]),
        PER_CHANNEL: _keras_per_channel(x, kernel),
        FIRST_CHANNEL: _keras_valid(x[..., :1], kernel[:, :, :1]),
        MEAN_CHANNELS: expected / x.shape[-1],
        OUTPUT_TRANSPOSED: expected.transpose(0, 2, 1, 3),
        CHANNELS_FIRST_OUT: expected.transpose(0, 3, 1, 2),
    }
    if x.shape[-1] == 1:
        # With one channel, "first channel" and "mean" are correct ("per channel" still has
        # an extra axis).
        for sentence in (FIRST_CHANNEL, MEAN_CHANNELS):
            wrong.pop(sentence)
    swapped = kernel.transpose(1, 0, 2, 3)
    if _fits(x.shape, swapped.shape):
        wrong[KERNEL_TRANSPOSED] = _keras_valid(x, swapped)
    return wrong


def _image_cases(rng, hidden):
    """(height, width, channels, kh, kw) for correlate2d."""
    if not hidden:
        # Small and varied: one channel, several channels, a non-square kernel, odd and even
        # sizes, a 1x1 kernel, a kernel as large as the image.
        return [(5, 5, 1, 3, 3), (6, 5, 3, 3, 3), (7, 8, 2, 2, 4), (4, 6, 4, 1, 1),
                (5, 4, 2, 5, 4)]
    cases = []
    for _ in range(10):
        kh, kw = (int(v) for v in rng.integers(1, 6, size=2))
        cases.append((int(rng.integers(kh, kh + 20)), int(rng.integers(kw, kw + 20)),
                      int(rng.integers(1, 7)), kh, kw))
    return cases


@check
def check_correlate2d(hidden=False):
    """Exercise 0.1: `correlate.correlate2d(image, kernel)` against Keras."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    rng = case_rng(hidden, seed=1)
    outcomes = []
    with student_session() as session:
        for h, w, c, kh, kw in _image_cases(rng, hidden):
            image = rng.standard_normal((h, w, c)).astype(DTYPE)
            kernel = rng.standard_normal((kh, kw, c)).astype(DTYPE)
            case = f"correlate2d({checking.describe_case(image=image, kernel=kernel)})"
            actual = student_call(session, "correlate.correlate2d", image, kernel, case=case)
            # One image and one filter are a batch of 1 against a kernel with 1 filter.
            x, k = image[None], kernel[..., None]
            expected = _keras_valid(x, k)[0, :, :, 0]
            batch_wrong = _batch_misconceptions(x, k, expected[None, :, :, None])
            wrong = {sentence: answer[0, :, :, 0] for sentence, answer in batch_wrong.items()
                     if sentence not in (PER_CHANNEL, CHANNELS_FIRST_OUT)}
            wrong[PER_CHANNEL] = batch_wrong[PER_CHANNEL][0, :, :, :, 0]   # (h', w', C)
            outcomes.append(Outcome(case, actual, expected, wrong))
    compare_outcomes("correlate.correlate2d", outcomes)


def _batch_cases(rng, hidden):
    """(batch, height, width, in_channels, kh, kw, filters) for conv2d_valid."""
    if not hidden:
        return [(1, 5, 5, 1, 3, 3, 1), (2, 6, 7, 3, 3, 3, 2), (3, 8, 6, 2, 2, 4, 4),
                (2, 4, 4, 5, 1, 1, 3)]
    # Sizes stay small enough that a plain-Python loop over every product (about 10^6
    # multiply-adds at most) finishes well inside the harness's 10 s per call.
    cases = []
    for _ in range(8):
        kh, kw = (int(v) for v in rng.integers(1, 6, size=2))
        cases.append((int(rng.integers(1, 4)), int(rng.integers(kh, kh + 20)),
                      int(rng.integers(kw, kw + 20)), int(rng.integers(1, 6)), kh, kw,
                      int(rng.integers(1, 7))))
    return cases


@check
def check_conv2d_valid(hidden=False):
    """Exercise 0.2: `correlate.conv2d_valid(x, kernel)` against Keras."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    rng = case_rng(hidden, seed=2)
    outcomes = []
    with student_session() as session:
        for n, h, w, c, kh, kw, f in _batch_cases(rng, hidden):
            x = rng.standard_normal((n, h, w, c)).astype(DTYPE)
            kernel = rng.standard_normal((kh, kw, c, f)).astype(DTYPE)
            case = f"conv2d_valid({checking.describe_case(x=x, kernel=kernel)})"
            actual = student_call(session, "correlate.conv2d_valid", x, kernel, case=case)
            expected = _keras_valid(x, kernel)
            outcomes.append(Outcome(case, actual, expected,
                                    _batch_misconceptions(x, kernel, expected)))
    compare_outcomes("correlate.conv2d_valid", outcomes)
