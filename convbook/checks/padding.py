"""Checks for chapter 02, padding: `padding.same_padding_amounts`, `padding.pad_spatial`, and
"same" end to end (the student's amounts, pad_spatial and chapter 00's conv2d_valid).

Where the expected values come from:
* same_padding_amounts: Keras's TensorFlow backend pads "same" explicitly when it has to (the
  depthwise strides-with-dilation path), in `keras.src.backend.tensorflow.nn.
  _pad_same_spatial_channels_last`. We pad an input of ones with it and count the zeros
  added before and after. tests/test_checks.py proves that this padding, followed by a
  "valid" conv, reproduces Keras's public `padding="same"` output.
* pad_spatial: `keras.layers.ZeroPadding2D(padding=amounts, data_format=...)`.
* end to end: Keras's "same" conv with the same kernel (see `keras_conv`: Keras's explicit
  "same" padding, then its "valid" conv, which avoids a TensorFlow oneDNN bug).
"""
from functools import lru_cache

import numpy as np

from convbook import checking, oracle
from convbook.checks import (Misconception, check, Outcome, as_array, as_int_pair, case_rng,
                             compare_outcomes, student_call, student_session)

TOP_LEFT = Misconception(
    "padding.top_left",
    "When the total padding P is odd you put the extra pixel first (top/left); Keras puts it "
    "last: before = P // 2, after = P - before.")
ROUNDED_DOWN = Misconception(
    "padding.rounded_down",
    "When P is odd you split it as P // 2 on both sides and lose a pixel: after = P - before,"
    " so the extra pixel goes to the bottom/right.")
NO_STRIDE = Misconception(
    "padding.no_stride",
    "You used the stride-1 total P = d*(k-1) whatever the stride: with stride s there are "
    "ceil(n/s) windows and the padding needed is (out-1)*s + d*(k-1) + 1 - n.")
NO_DILATION = Misconception(
    "padding.no_dilation",
    "You ignored the dilation: k taps spaced d apart span d*(k-1) + 1 pixels, not k, and that"
    " span is what the padding must make room for.")
NEGATIVE = Misconception(
    "padding.negative",
    "Your padding is negative: when the stride is larger than the window the formula goes "
    "below zero; Keras never crops, so clip the total at 0.")

BATCH_AXIS = Misconception(
    "padding.batch_axis",
    "You padded the batch axis: in (batch, height, width, channels) the spatial axes are 1 "
    "and 2; batch and channels get (0, 0).")
CF_AS_CL = Misconception(
    "padding.cf_as_cl",
    "You padded a channels_first input as if it were channels_last (the channel axis got "
    "padded): in (batch, channels, height, width) the spatial axes are 2 and 3.")
CL_AS_CF = Misconception(
    "padding.cl_as_cf",
    "You padded a channels_last input as if it were channels_first (the channel axis got "
    "padded): in (batch, height, width, channels) the spatial axes are 1 and 2.")
HW_SWAPPED = Misconception(
    "padding.hw_swapped",
    "You gave (left, right) to the height and (top, bottom) to the width: amounts is ((top, "
    "bottom), (left, right)), the height pair first.")
BEFORE_AFTER_SWAPPED = Misconception(
    "padding.before_after_swapped",
    "You swapped before and after: (top, bottom) means `top` rows of zeros above the image "
    "and `bottom` rows below it.")

VALID_PADDED = Misconception(
    "padding.valid_padded",
    'You padded for padding="valid": "valid" means no padding at all, ((0, 0), (0, 0)); only '
    '"same" adds zeros.')
AXES_SWAPPED = Misconception(
    "padding.axes_swapped",
    "Your amounts are in the wrong order: the result is ((top, bottom), (left, right)), the "
    "height's pair first, each computed from that axis's own size, kernel size, stride and "
    "dilation.")
FLIPPED = Misconception(
    "padding.flipped",
    "The output is a true convolution (kernel flipped): chapter 00's conv2d_valid must not "
    "flip the kernel.")

DTYPE = np.float32


# --------------------------------------------------------------------------- Keras oracles

@lru_cache(maxsize=None)
def keras_same_padding(n, k, s=1, d=1):
    """(before, after) Keras pads along one axis for padding="same", read off Keras's own
    explicit "same" padding of an input of ones (zeros before and after the ones)."""
    oracle.keras()  # imports Keras quietly first (the private import below would not)
    from keras.src.backend.tensorflow.nn import _pad_same_spatial_channels_last
    ones = np.ones((1, n, 1, 1), DTYPE)
    padded = np.asarray(_pad_same_spatial_channels_last(ones, (k, 1), (s, 1), (d, 1)))
    line = padded[0, :, 0, 0]
    real = np.flatnonzero(line)
    before = int(real[0])
    return before, int(line.size - 1 - real[-1])


def keras_zero_padding(x, amounts, data_format):
    keras = oracle.keras()
    layer = keras.layers.ZeroPadding2D(padding=amounts, data_format=data_format)
    return keras.ops.convert_to_numpy(layer(x))


def keras_conv(x, kernel, strides=1, padding="valid", dilation_rate=1,
               data_format="channels_last"):
    """Keras's convolution of `x`, as the checks' reference.

    Computed as Keras's own explicit "same" padding (`keras_same_padding`, read off its
    TensorFlow backend; none for "valid"), then `keras.ops.conv` with stride 1 and
    padding="valid", then every s-th output: never a strided or fused-"same" conv. With oneDNN
    on (which channels_first needs on CPU), TensorFlow 2.21's strided convolutions return
    garbage (uninitialised memory) on some small shapes, e.g. a 2x3 input, a 1x2 kernel,
    strides (1, 2); its stride-1 "valid" conv is right (tests/test_checks.py pins both).
    TensorFlow's CPU Conv2D kernel runs only NHWC, so a channels_first case is computed
    channels_last and transposed back."""
    keras = oracle.keras()
    strides, dilation_rate = _pair(strides), _pair(dilation_rate)
    if data_format == "channels_first":
        x = x.transpose(0, 2, 3, 1)
    if padding == "same":
        pads = [keras_same_padding(n, k, s, d) for n, k, s, d in
                zip(x.shape[1:3], kernel.shape[:2], strides, dilation_rate)]
        x = np.pad(x, [(0, 0), *pads, (0, 0)])
    y = keras.ops.convert_to_numpy(keras.ops.conv(
        x, kernel, strides=1, padding="valid", dilation_rate=dilation_rate))
    y = y[:, ::strides[0], ::strides[1], :]
    return y.transpose(0, 3, 1, 2) if data_format == "channels_first" else y


def _pair(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


# ------------------------------------------------------------- the misconceptions' answers

def _span(k, d):
    return d * (k - 1) + 1


def _split_after(total):
    return total // 2, total - total // 2


def _wrong_amounts(n, k, s, d):
    """{sentence: (before, after)} that each misconception gives. Derived from the correct
    total padding, which is Keras's (no formula of ours is the reference)."""
    before, after = keras_same_padding(n, k, s, d)
    total = before + after
    out = -(-n // s)
    wrong = {
        TOP_LEFT: (after, before),
        ROUNDED_DOWN: (total // 2, total // 2),
        NO_STRIDE: _split_after(d * (k - 1)),
        NO_DILATION: _split_after(max((out - 1) * s + k - n, 0)),
    }
    raw = (out - 1) * s + _span(k, d) - n
    if raw < 0:
        wrong[NEGATIVE] = (raw // 2, raw - raw // 2)
    return (before, after), wrong


# ------------------------------------------------------------------ same_padding_amounts

def _amount_cases(rng, hidden):
    """(n, k, s, d) along one axis."""
    if not hidden:
        return [
            (5, 3, 1, 1),   # P = 2, even: evenly split
            (6, 4, 1, 1),   # even kernel: P = 3, odd
            (7, 3, 2, 1),   # stride 2: P = 2
            (6, 3, 2, 1),   # stride 2: P = 1, odd
            (5, 5, 3, 1),   # stride 3: P = 3
            (10, 3, 5, 1),  # the stride outruns the window: P = max(-2, 0) = 0
            (10, 3, 1, 2),  # dilation 2: span 5, P = 4
            (9, 2, 1, 3),   # dilation 3: span 4, P = 3
            (3, 5, 1, 1),   # kernel larger than the input
            (4, 1, 1, 1),   # 1x1 kernel: no padding
        ]
    cases = []
    for _ in range(60):
        k = int(rng.integers(1, 8))
        s, d = 1, 1
        kind = rng.random()
        if kind < 0.4:
            s = int(rng.integers(2, 6))
        elif kind < 0.8:
            d = int(rng.integers(2, 5))
        else:  # the combination Keras's layer refuses; the padding rule still applies
            s, d = int(rng.integers(2, 5)), int(rng.integers(2, 4))
        cases.append((int(rng.integers(1, 65)), k, s, d))
    return cases


@check
def check_same_padding_amounts(hidden=False):
    """Exercise 2.1: `padding.same_padding_amounts(input_length, kernel_size, stride,
    dilation_rate)` against the padding Keras applies."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    rng = case_rng(hidden, seed=21)
    name = "padding.same_padding_amounts"
    outcomes = []
    with student_session() as session:
        for n, k, s, d in _amount_cases(rng, hidden):
            case = "same_padding_amounts({})".format(checking.describe_case(
                input_length=n, kernel_size=k, stride=s, dilation_rate=d))
            actual = as_int_pair(student_call(session, name, n, k, s, d, case=case), name, case)
            expected, wrong = _wrong_amounts(n, k, s, d)
            outcomes.append(Outcome(case, np.array(actual), np.array(expected),
                                    {m: np.array(v) for m, v in wrong.items()}))
    compare_outcomes(name, outcomes, rtol=0.0, atol_fraction=0.0)


# ----------------------------------------------------------------------------- pad_spatial

def _pad_cases(rng, hidden):
    """(data_format, (batch, height, width, channels), ((top, bottom), (left, right)))."""
    if not hidden:
        return [
            ("channels_last", (1, 3, 4, 1), ((1, 1), (1, 1))),
            ("channels_last", (2, 5, 4, 3), ((0, 1), (2, 1))),
            ("channels_first", (2, 4, 5, 3), ((1, 2), (0, 1))),
            ("channels_first", (1, 3, 3, 2), ((2, 0), (1, 3))),
        ]
    cases = []
    for i in range(12):
        data_format = ("channels_last", "channels_first")[i % 2]
        shape = tuple(int(v) for v in (rng.integers(1, 5), rng.integers(1, 30),
                                       rng.integers(1, 30), rng.integers(1, 9)))
        amounts = tuple(tuple(int(v) for v in rng.integers(0, 6, size=2)) for _ in range(2))
        cases.append((data_format, shape, amounts))
    return cases


def _wrong_padded(x, amounts, data_format):
    (t, b), (l, r) = amounts
    z = (0, 0)
    wrong = {
        BATCH_AXIS: np.pad(x, ((t, b), (l, r), z, z)),
        HW_SWAPPED: None,
        BEFORE_AFTER_SWAPPED: None,
    }
    if data_format == "channels_last":
        wrong[CL_AS_CF] = np.pad(x, (z, z, (t, b), (l, r)))
        wrong[HW_SWAPPED] = np.pad(x, (z, (l, r), (t, b), z))
        wrong[BEFORE_AFTER_SWAPPED] = np.pad(x, (z, (b, t), (r, l), z))
    else:
        wrong[CF_AS_CL] = np.pad(x, (z, (t, b), (l, r), z))
        wrong[HW_SWAPPED] = np.pad(x, (z, z, (l, r), (t, b)))
        wrong[BEFORE_AFTER_SWAPPED] = np.pad(x, (z, z, (b, t), (r, l)))
    return wrong


@check
def check_pad_spatial(hidden=False):
    """Exercise 2.2: `padding.pad_spatial(x, amounts, data_format)` against ZeroPadding2D."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    rng = case_rng(hidden, seed=22)
    name = "padding.pad_spatial"
    outcomes = []
    with student_session() as session:
        for data_format, (n, h, w, c), amounts in _pad_cases(rng, hidden):
            shape = (n, h, w, c) if data_format == "channels_last" else (n, c, h, w)
            # Values away from 0, so that a padded zero can never pass for a pixel.
            x = (rng.random(shape) + 1.0).astype(DTYPE)
            case = "pad_spatial({})".format(checking.describe_case(
                x=x, amounts=amounts, data_format=data_format))
            actual = student_call(session, name, x, amounts, data_format, case=case)
            expected = keras_zero_padding(x, amounts, data_format)
            outcomes.append(Outcome(case, actual, expected,
                                    _wrong_padded(x, amounts, data_format)))
    compare_outcomes(name, outcomes)


# ------------------------------------------------------------------------------ end to end

def dilate_kernel(kernel, dilation_rate):
    """Insert d-1 zeros between the taps (the kernel side does this, not the student)."""
    dh, dw = dilation_rate
    kh, kw = kernel.shape[:2]
    out = np.zeros((dh * (kh - 1) + 1, dw * (kw - 1) + 1) + kernel.shape[2:], kernel.dtype)
    out[::dh, ::dw] = kernel
    return out


def _e2e_cases(rng, hidden):
    """(data_format, (batch, h, w, c), (kh, kw), filters, strides, dilation_rate, padding).
    Keras's Conv2D refuses strides > 1 with dilation > 1, so each case has one or the other."""
    if not hidden:
        return [
            ("channels_last", (2, 7, 8, 3), (3, 3), 2, (2, 2), (1, 1), "same"),
            ("channels_first", (1, 6, 9, 2), (4, 2), 3, (1, 3), (1, 1), "same"),
            ("channels_last", (2, 8, 7, 2), (3, 2), 2, (1, 1), (2, 1), "same"),
            ("channels_first", (1, 9, 10, 3), (2, 3), 2, (1, 1), (2, 3), "same"),
            ("channels_last", (1, 7, 6, 2), (3, 2), 2, (2, 1), (1, 1), "valid"),
            ("channels_first", (1, 8, 9, 2), (2, 3), 1, (1, 1), (2, 2), "valid"),
        ]
    # Sizes stay small enough that a plain-Python conv2d_valid (every product in a loop, the
    # dilated kernel's zeros included) finishes well inside the harness's 10 s per call.
    cases = []
    for i in range(12):
        kh, kw = (int(v) for v in rng.integers(1, 5, size=2))
        strides, dilation = (1, 1), (1, 1)
        if i % 2:
            strides = tuple(int(v) for v in rng.integers(1, 5, size=2))
        else:
            dilation = tuple(int(v) for v in rng.integers(1, 4, size=2))
        padding = "valid" if i % 3 == 2 else "same"
        low = [d * (k - 1) + 1 if padding == "valid" else 1
               for k, d in zip((kh, kw), dilation)]
        shape = (int(rng.integers(1, 3)), int(rng.integers(low[0], 21)),
                 int(rng.integers(low[1], 21)), int(rng.integers(1, 5)))
        data_format = ("channels_last", "channels_first")[i // 2 % 2]
        cases.append((data_format, shape, (kh, kw), int(rng.integers(1, 5)), strides, dilation,
                      padding))
    return cases


def keras_padding_amounts(spatial, kernel_size, strides, padding, dilation):
    """((top, bottom), (left, right)) Keras pads: none for "valid", its own "same" amounts."""
    if padding == "valid":
        return ((0, 0), (0, 0))
    return tuple(keras_same_padding(n, k, s, d)
                 for n, k, s, d in zip(spatial, kernel_size, strides, dilation))


def _wrong_padding_amounts(spatial, kernel_size, strides, padding, dilation, expected):
    """{misconception: ((top, bottom), (left, right))} for padding_amounts's answer."""
    per_axis = [_wrong_amounts(n, k, s, d)[1]
                for n, k, s, d in zip(spatial, kernel_size, strides, dilation)]
    if padding == "valid":
        return {VALID_PADDED: np.array(keras_padding_amounts(spatial, kernel_size, strides,
                                                              "same", dilation))}
    wrong = {m: np.array([axis[m] for axis in per_axis]) for m in (TOP_LEFT, NO_STRIDE,
                                                                    NO_DILATION)}
    wrong[AXES_SWAPPED] = np.array(expected)[::-1]
    return wrong


def _amounts_answer(value, case):
    """The student's ((top, bottom), (left, right)) as a 2x2 int array, or feedback."""
    __tracebackhide__ = True
    name = "padding.padding_amounts"
    if value is None:
        checking.returned_none(name, case, "((top, bottom), (left, right))")
    try:
        pairs = tuple(value)
    except TypeError:
        pairs = ()
    if len(pairs) != 2:
        checking.fail(name, case, "wrong_type",
                      f"`{name}` should return ((top, bottom), (left, right)); it returned "
                      f"{value!r}.")
    return np.array([as_int_pair(pair, name, case) for pair in pairs])


@check
def check_padding_amounts(hidden=False):
    """Exercise 2.3: `padding.padding_amounts(spatial_shape, kernel_size, strides, padding,
    dilation_rate)` against the padding Keras applies, then "valid" and "same" from your
    pieces: your amounts, your pad_spatial, your chapter-00 conv2d_valid with the kernel dilated
    (zeros between taps), every s-th output kept; against Keras's convolution."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    rng = case_rng(hidden, seed=23)
    outcomes = []
    with student_session() as session:
        for data_format, (n, h, w, c), ksize, filters, strides, dilation, padding in \
                _e2e_cases(rng, hidden):
            shape = (n, h, w, c) if data_format == "channels_last" else (n, c, h, w)
            x = rng.standard_normal(shape).astype(DTYPE)
            kernel = rng.standard_normal(ksize + (c, filters)).astype(DTYPE)
            case = 'padding_amounts({})'.format(checking.describe_case(
                spatial_shape=(h, w), kernel_size=ksize, strides=strides, padding=padding,
                dilation_rate=dilation))
            amounts = _amounts_answer(student_call(
                session, "padding.padding_amounts", (h, w), ksize, strides, padding, dilation,
                case=case), case)
            expected_amounts = keras_padding_amounts((h, w), ksize, strides, padding, dilation)
            checking.compare(amounts, np.array(expected_amounts), case,
                             misconceptions=_wrong_padding_amounts(
                                 (h, w), ksize, strides, padding, dilation, expected_amounts),
                             check="padding.padding_amounts")
            case = f'Conv2D padding="{padding}" ({checking.describe_case(x=x, kernel=kernel, strides=strides, dilation_rate=dilation, data_format=data_format)})'  # noqa: E501
            padded = as_array(student_call(session, "padding.pad_spatial", x,
                                           tuple(map(tuple, amounts.tolist())), data_format,
                                           case=case),
                              4, "padding.pad_spatial", case)
            if data_format == "channels_first":
                padded = padded.transpose(0, 2, 3, 1)
            full = as_array(student_call(session, "correlate.conv2d_valid", padded,
                                         dilate_kernel(kernel, dilation), case=case),
                            4, "correlate.conv2d_valid", case)
            actual = full[:, ::strides[0], ::strides[1], :]
            if data_format == "channels_first":
                actual = actual.transpose(0, 3, 1, 2)
            expected = keras_conv(x, kernel, strides, padding, dilation, data_format)
            wrong = {FLIPPED: keras_conv(x, kernel[::-1, ::-1], strides, padding, dilation,
                                         data_format)}
            outcomes.append(Outcome(case, actual, expected, wrong))
    compare_outcomes("padding_amounts, then the convolution end to end", outcomes)
