"""Checks for chapter 03, dilation_rate: `dilation.dilate_kernel`, the dilation argument of
`output_size.output_length` (chapter 01 checked it with dilation 1 only), and
`dilation.strided_dilated_conv2d`, strides > 1 with dilation > 1 from the reader's pieces.

Where the expected values come from (Keras only):
* dilate_kernel: read off Keras's dilated convolution. A "valid" conv of an input exactly one
  dilated window large, holding a single 1 at (a, b) of channel c, gives one output pixel per
  filter, which is the dilated kernel's tap [a, b, c, :]; one impulse per tap and channel.
* output_length: `keras.layers.Conv2D(...).compute_output_shape`; for strides > 1 with
  dilation > 1, which the layer refuses, the shape of `keras.ops.depthwise_conv`'s result.
* strided_dilated_conv2d: Keras's stride-1 dilated "valid" convolution with every s-th output
  kept (`padding.keras_conv`). Strides and dilation together are what the layer refuses, and
  the ops that accept them return uninitialised memory on some shapes with oneDNN on:
  `tf.nn.conv2d` (as `padding.keras_conv` explains) and `keras.ops.depthwise_conv` too, e.g.
  a (2, 16, 7, 1) input, a 4x4 kernel, strides (1, 4) (tests/test_checks_dilation.py pins it).
  A "valid" window starts every s pixels, so the strided output is the stride-1 output's
  every s-th entry.
"""

import numpy as np

from convbook import checking, oracle
from convbook.checks import (Misconception, Outcome, as_array, case_rng, check, compare_outcomes,
                             student_call, student_session)
from convbook.checks.padding import keras_conv
from convbook.checks.strides import grade_output_lengths, keras_output_length  # noqa: F401

DTYPE = np.float32


def _pair(value):
    return tuple(int(v) for v in value) if isinstance(value, (tuple, list)) else \
        (int(value), int(value))


def _span(k, d):
    return d * (k - 1) + 1


# -------------------------------------------------------------------------- dilate_kernel

TRAILING_ZEROS = Misconception(
    "dilation.trailing_zeros",
    "You put zeros after the last tap too: the zeros go only *between* taps, so k taps with "
    "d - 1 zeros between them span d*(k-1) + 1 pixels, not d*k.")
D_ZEROS = Misconception(
    "dilation.d_zeros",
    "You inserted d zeros between the taps: dilation d puts the taps d pixels apart, which "
    "is d - 1 zeros between them (dilation 1 is the ordinary kernel, no zeros).")
HW_SWAPPED = Misconception(
    "dilation.hw_swapped",
    "You spread the rows with the width's dilation and the columns with the height's: "
    "dilation_rate is (dh, dw), rows first.")
CHANNEL_AXES = Misconception(
    "dilation.channel_axes",
    "You dilated the channel axes too: only the two spatial axes (kh, kw) get zeros; the "
    "kernel's (in_channels, filters) axes keep their size.")
REPEATED = Misconception(
    "dilation.repeated",
    "You filled the gaps with copies of the taps: the gaps hold zeros, so that the dilated "
    "kernel still has only k weights per axis that are not zero.")


def keras_dilated_kernel(kernel, dilation_rate):
    """The dilated kernel as Keras's dilated convolution applies it, (dh*(kh-1)+1,
    dw*(kw-1)+1, in_channels, filters): one impulse image per tap and input channel, each a
    "valid" window exactly the dilated kernel's size."""
    kernel = np.asarray(kernel, DTYPE)
    dh, dw = _pair(dilation_rate)
    kh, kw, c, f = kernel.shape
    sh, sw = _span(kh, dh), _span(kw, dw)
    impulses = np.eye(sh * sw * c, dtype=DTYPE).reshape(sh * sw * c, sh, sw, c)
    out = keras_conv(impulses, kernel, 1, "valid", (dh, dw))      # (sh*sw*c, 1, 1, f)
    return out.reshape(sh, sw, c, f)


def _wrong_dilated(kernel, dilation_rate):
    dh, dw = _pair(dilation_rate)
    kh, kw, c, f = kernel.shape

    def spread(k, steps, shape):
        out = np.zeros(shape, k.dtype)
        out[tuple(slice(None, None, s) for s in steps)] = k
        return out

    wrong = {
        TRAILING_ZEROS: spread(kernel, (dh, dw), (dh * kh, dw * kw, c, f)),
        D_ZEROS: spread(kernel, (dh + 1, dw + 1), (_span(kh, dh + 1), _span(kw, dw + 1), c, f)),
        HW_SWAPPED: spread(kernel, (dw, dh), (_span(kh, dw), _span(kw, dh), c, f)),
        CHANNEL_AXES: spread(kernel, (dh, dw, dh, dw),
                             (_span(kh, dh), _span(kw, dw), _span(c, dh), _span(f, dw))),
        REPEATED: np.repeat(np.repeat(kernel, dh, axis=0), dw, axis=1)[:_span(kh, dh),
                                                                        :_span(kw, dw)],
    }
    return wrong


def _kernel_cases(rng, hidden):
    """((kh, kw, in_channels, filters), dilation_rate as given to the student)."""
    if not hidden:
        return [
            ((3, 3, 1, 1), 2),             # the textbook picture: 3x3 becomes 5x5
            ((3, 2, 2, 3), (2, 3)),        # dh != dw, several channels and filters
            ((2, 3, 1, 2), (3, 1)),        # dilation on one axis only
            ((1, 4, 2, 1), (4, 2)),        # a 1-tap axis: nothing to spread
            ((3, 3, 2, 2), 1),             # dilation 1: the kernel itself
        ]
    cases = []
    for i in range(20):
        shape = (int(rng.integers(1, 6)), int(rng.integers(1, 6)), int(rng.integers(1, 5)),
                 int(rng.integers(1, 5)))
        d = tuple(int(v) for v in rng.integers(1, 6, size=2))
        cases.append((shape, d[0] if i % 4 == 0 else d))
    return cases


@check
def check_dilate_kernel(hidden=False):
    """Exercise 3.1: `dilation.dilate_kernel(kernel, dilation_rate)` against the kernel
    Keras's dilated convolution applies."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    rng = case_rng(hidden, seed=301)
    name = "dilation.dilate_kernel"
    outcomes = []
    with student_session() as session:
        for shape, dilation in _kernel_cases(rng, hidden):
            # values away from 0, so that no tap can pass for an inserted zero
            kernel = ((rng.random(shape) + 0.5) * rng.choice([-1, 1], size=shape)).astype(DTYPE)
            case = "dilate_kernel({})".format(checking.describe_case(
                kernel=kernel, dilation_rate=dilation))
            actual = as_array(student_call(session, name, kernel, dilation, case=case), 4,
                              name, case)
            expected = keras_dilated_kernel(kernel, dilation)
            outcomes.append(Outcome(case, actual, expected, _wrong_dilated(kernel, dilation)))
    compare_outcomes(name, outcomes)


# ------------------------------------------------------------------ output_length, dilated

LENGTH_NO_DILATION = Misconception(
    "dilation.length_no_dilation",
    'Your "valid" length ignores the dilation: a window of k taps spaced d apart spans '
    "d*(k-1) + 1 pixels, so out = floor((n - (d*(k-1) + 1)) / s) + 1.")
LENGTH_SPAN_KD = Misconception(
    "dilation.length_span_kd",
    "You took the dilated window to span k*d pixels: the zeros go only between the taps, so "
    "it spans d*(k-1) + 1 (a 3-tap kernel with d = 2 spans 5 pixels, not 6).")
LENGTH_SAME_SPAN = Misconception(
    "dilation.length_same_span",
    'Your "same" length depends on the dilation: "same" gives ceil(n / s) outputs whatever '
    "the kernel and its dilation; only the padding grows with the span.")


def _wrong_lengths(n, k, s, padding, d):
    if padding.lower() == "valid":
        return {LENGTH_NO_DILATION: (n - k) // s + 1, LENGTH_SPAN_KD: (n - k * d) // s + 1}
    return {LENGTH_SAME_SPAN: (n - _span(k, d)) // s + 1}


def _length_cases(rng, hidden):
    """(n, k, s, padding, d); "valid" cases always fit (Keras refuses the others)."""
    if not hidden:
        return [
            (9, 3, 1, "valid", 2),     # span 5: 5 windows
            (7, 3, 1, "valid", 3),     # span 7: the whole input, one window
            (10, 2, 1, "valid", 4),    # span 5
            (12, 3, 2, "valid", 2),    # strides with dilation: span 5, windows at 0, 2, .., 6
            (13, 2, 3, "valid", 3),    # span 4: windows at 0, 3, 6, 9
            (9, 3, 1, "same", 2),      # "same": n, whatever the span
            (10, 3, 3, "same", 2),     # ceil(10 / 3) = 4
            (8, 4, 1, "valid", 1),     # no dilation: chapter 01's rule
        ]
    cases = []
    for i in range(40):
        padding = ("valid", "same", "valid", "VALID", "Same")[i % 5]
        k = int(rng.integers(1, 6))
        d = int(rng.integers(1, 6))
        s = int(rng.integers(1, 5)) if rng.random() < 0.5 else 1
        low = _span(k, d) if padding.lower() == "valid" else 1
        cases.append((int(rng.integers(low, low + 40)), k, s, padding, d))
    return cases


@check
def check_output_length_dilated(hidden=False):
    """Exercise 3.2: `output_size.output_length(input_length, kernel_size, stride, padding,
    dilation_rate)` against Keras's output shapes, with dilation."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    grade_output_lengths(_length_cases(case_rng(hidden, seed=302), hidden), _wrong_lengths)


# ------------------------------------------------------------ strides with dilation

NOT_DILATED = Misconception(
    "dilation.conv_not_dilated",
    "Your result is the strided convolution with the kernel as given: dilate the kernel "
    "first (your dilate_kernel), then convolve with the dilated kernel.")
NOT_SUBSAMPLED = Misconception(
    "dilation.conv_not_subsampled",
    "Your result is the stride-1 dilated convolution: keep every s-th output along each "
    "axis (your subsample from chapter 01).")
INPUT_SUBSAMPLED = Misconception(
    "dilation.input_subsampled",
    "You subsampled the input and then convolved: the stride picks which *outputs* are kept "
    "(windows starting at 0, s, 2s, ... of the full input), so convolve first and subsample "
    "the result.")
STRIDE_DILATION_SWAPPED = Misconception(
    "dilation.stride_dilation_swapped",
    "You used the strides as the dilation and the dilation as the strides: the taps are "
    "dilation_rate apart inside a window, and consecutive windows start strides apart.")


def keras_strided_dilated_conv(x, kernel, strides, dilation_rate):
    """Keras's convolution with strides and dilation together, padding "valid",
    channels_last: the stride-1 dilated conv, every s-th output kept (module docstring)."""
    sh, sw = _pair(strides)
    y = keras_conv(np.asarray(x, DTYPE), np.asarray(kernel, DTYPE), 1, "valid",
                   _pair(dilation_rate))
    return np.asarray(y, np.float64)[:, ::sh, ::sw]


def _fits(x, kernel, dilation):
    return all(n >= _span(k, d) for n, k, d in zip(x.shape[1:3], kernel.shape[:2], dilation))


def _wrong_convs(x, kernel, strides, dilation):
    (sh, sw), (dh, dw) = strides, dilation
    stride1 = keras_conv(x, kernel, 1, "valid", dilation)
    wrong = {
        NOT_DILATED: keras_conv(x, kernel, 1, "valid", 1)[:, ::sh, ::sw],
        NOT_SUBSAMPLED: stride1,
    }
    small = x[:, ::sh, ::sw]
    if _fits(small, kernel, dilation):
        wrong[INPUT_SUBSAMPLED] = keras_conv(small, kernel, 1, "valid", dilation)
    if _fits(x, kernel, strides):
        wrong[STRIDE_DILATION_SWAPPED] = keras_conv(x, kernel, 1, "valid", strides)[:, ::dh, ::dw]
    return wrong


def _conv_cases(rng, hidden):
    """((batch, h, w, channels), (kh, kw), filters, strides, dilation_rate), as given."""
    if not hidden:
        return [
            ((1, 9, 9, 1), (3, 3), 1, 2, 2),                # the combination Keras refuses
            ((2, 11, 10, 2), (3, 2), 3, (2, 3), (2, 2)),
            ((1, 12, 9, 3), (2, 3), 2, (3, 1), (1, 3)),     # stride on one axis, dilation on
            ((1, 10, 13, 2), (3, 3), 2, (1, 2), (3, 1)),    # the other: refused as well
            ((2, 8, 8, 2), (2, 2), 1, 1, 1),                # neither: an ordinary convolution
        ]
    # small enough that a plain-Python conv2d_valid over the dilated kernel (zeros included)
    # finishes well inside the harness's time limit per call
    cases = []
    for i in range(10):
        kh, kw = (int(v) for v in rng.integers(1, 5, size=2))
        dilation = tuple(int(v) for v in rng.integers(1, 4, size=2))
        strides = tuple(int(v) for v in rng.integers(1, 5, size=2))
        shape = (int(rng.integers(1, 3)), int(rng.integers(_span(kh, dilation[0]), 22)),
                 int(rng.integers(_span(kw, dilation[1]), 22)), int(rng.integers(1, 4)))
        if i % 3 == 0:
            strides, dilation = strides[0], dilation[0]
            shape = (shape[0], max(shape[1], _span(kh, dilation)),
                     max(shape[2], _span(kw, dilation)), shape[3])
        cases.append((shape, (kh, kw), int(rng.integers(1, 4)), strides, dilation))
    return cases


@check
def check_strided_dilated_conv2d(hidden=False):
    """Exercise 3.3: `dilation.strided_dilated_conv2d(x, kernel, strides, dilation_rate)`
    (padding "valid", channels_last), built from the reader's dilate_kernel, conv2d_valid and
    subsample, against Keras's stride-1 dilated conv subsampled (the module docstring)."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    rng = case_rng(hidden, seed=303)
    name = "dilation.strided_dilated_conv2d"
    outcomes = []
    with student_session() as session:
        for shape, ksize, filters, strides, dilation in _conv_cases(rng, hidden):
            x = rng.standard_normal(shape).astype(DTYPE)
            kernel = rng.standard_normal(ksize + (shape[3], filters)).astype(DTYPE)
            case = "strided_dilated_conv2d({})".format(checking.describe_case(
                x=x, kernel=kernel, strides=strides, dilation_rate=dilation))
            actual = as_array(student_call(session, name, x, kernel, strides, dilation,
                                           case=case), 4, name, case)
            expected = keras_strided_dilated_conv(x, kernel, strides, dilation)
            outcomes.append(Outcome(case, actual, expected,
                                    _wrong_convs(x, kernel, _pair(strides), _pair(dilation))))
    compare_outcomes(name, outcomes)
