"""Checks for chapter 01, strides: `output_size.output_length` (padding "valid" and "same",
with strides; its dilation argument is checked in chapter 03) and `dilation.subsample`.

Expected values come from Keras: the output length from `keras.layers.Conv2D(...)
.compute_output_shape`, the strided convolution from `padding.keras_conv` (Keras's own "same"
padding and convolution; see its docstring for why it never runs a strided TensorFlow conv).
The answers known misconceptions give are formulas of the same four integers, or
re-arrangements (slices) of Keras's stride-1 result.
"""
import numbers

import numpy as np

from convbook import checking, oracle
from convbook.checks import (Misconception, Outcome, as_array, case_rng, check, compare_outcomes,
                             student_call, student_session)
from convbook.checks.padding import keras_conv, keras_same_padding

# ------------------------------------------------------------------ output_length

VALID_NO_PLUS_ONE = Misconception(
    "strides.valid_no_plus_one",
    'You counted the steps, not the windows: with padding="valid" the first window sits at '
    "pixel 0 before any step is taken, so out = floor((n - k) / s) + 1.")
VALID_CEIL = Misconception(
    "strides.valid_ceil",
    'You rounded up: with padding="valid" a window that would run past the last pixel is not '
    "computed, so out = floor((n - k) / s) + 1; the tail pixels no whole window reaches are "
    "never read.")
VALID_NO_STRIDE = Misconception(
    "strides.valid_no_stride",
    'Your "valid" length ignores the stride: n - k + 1 is the stride-1 count; windows start '
    "at 0, s, 2s, ..., so out = floor((n - k) / s) + 1.")
SAME_KEEPS_SIZE = Misconception(
    "strides.same_keeps_size",
    'You returned n for padding="same": the output keeps the input\'s size only with stride 1 '
    "(that is all the notes claim); with a stride Keras gives ceil(n / s).")
SAME_FLOOR = Misconception(
    "strides.same_floor",
    'You rounded down: padding="same" gives ceil(n / s) outputs, one window for every s '
    "pixels, the last one completed with zeros when s does not divide n.")
TRUE_DIVISION = Misconception(
    "strides.true_division",
    "Your answer is not a whole number: a length counts windows, so round the division, "
    "down for \"valid\" (floor((n - k) / s) + 1, `//` in Python) and up for \"same\" "
    "(ceil(n / s) == (n + s - 1) // s).")

NOT_A_WHOLE_NUMBER_TYPE = (
    "`output_size.output_length` should return an int; it returned {value!r} (a "
    "{type}). Use `//` (floor division), or int(...) around a rounded value: the length "
    "becomes an array shape later.")


def keras_output_length(n, k, s, padding, d=1):
    """Keras's output height for an (n, 1) input, a (k, 1) kernel, strides (s, 1) and
    dilation (d, 1) (chapter 03 asks for the dilation)."""
    keras = oracle.keras()
    if s == 1 or d == 1:
        layer = keras.layers.Conv2D(1, (k, 1), strides=(s, 1), padding=padding,
                                    dilation_rate=(d, 1))
        return int(layer.compute_output_shape((1, n, 1, 1))[1])
    # the layer refuses strides > 1 with dilation > 1; depthwise_conv computes it
    out = keras.ops.depthwise_conv(np.zeros((1, n, 1, 1), np.float32),
                                   np.zeros((k, 1, 1, 1), np.float32), strides=(s, 1),
                                   padding=padding.lower(), dilation_rate=(d, 1))
    return int(out.shape[1])


def _wrong_lengths(n, k, s, padding):
    """{Misconception: the length it gives} for the padding of this case."""
    if padding.lower() == "valid":
        return {VALID_NO_PLUS_ONE: (n - k) // s,
                VALID_CEIL: -(-(n - k) // s) + 1,
                VALID_NO_STRIDE: n - k + 1,
                TRUE_DIVISION: (n - k) / s + 1}
    return {SAME_KEEPS_SIZE: n, SAME_FLOOR: n // s, TRUE_DIVISION: n / s}


def _length_cases(rng, hidden):
    """(n, k, s, padding): valid cases always have k <= n (Keras refuses the others)."""
    if not hidden:
        return [
            (7, 3, 1, "valid"),    # stride 1: n - k + 1
            (7, 3, 2, "valid"),    # windows at 0, 2, 4: every pixel read
            (8, 3, 2, "valid"),    # the tail: pixel 7 is never read
            (10, 2, 3, "valid"),   # k < s: gaps between the windows
            (5, 5, 2, "valid"),    # one window, the whole input
            (9, 1, 4, "valid"),    # a 1-tap kernel: pixels 0, 4, 8
            (7, 3, 2, "same"),     # ceil(7/2) = 4
            (8, 3, 2, "same"),     # 4, s divides n
            (10, 4, 3, "same"),    # ceil(10/3) = 4
            (5, 3, 1, "same"),     # stride 1: n
            (3, 5, 2, "same"),     # a kernel larger than the input: "same" allows it
            (6, 2, 4, "Same"),     # Keras accepts any case
        ]
    cases = []
    for i in range(40):
        padding = ("valid", "same", "VALID", "Same")[i % 4] if i % 5 == 0 else \
            ("valid", "same")[i % 2]
        s = int(rng.integers(1, 7)) if rng.random() < 0.8 else 1
        k = int(rng.integers(1, 8))
        n = int(rng.integers(k if padding.lower() == "valid" else 1, 65))
        cases.append((n, k, s, padding))
    return cases


def _as_length(value, function, case):
    """The student's length as a float (ints stay exact), or feedback."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    if value is None:
        checking.returned_none(function, case, "an int")
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.number)):
        checking.fail(function, case, "wrong_type",
                      f"`{function}` should return an int; it returned "
                      f"{_short(value)}.")
    return value


def _short(value):
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


LENGTH_ARGUMENTS = ("input_length", "kernel_size", "stride", "padding", "dilation_rate")


def grade_output_lengths(cases, wrong_lengths):
    """The student's `output_size.output_length(*args)` for each case (a tuple of its
    arguments, dilation last and optional) against Keras's, exactly; `wrong_lengths(*args)`
    gives {Misconception: the length it produces}. Right values returned as floats fail as a
    wrong type. Chapters 01 (no dilation) and 03 (dilation) share it."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    name = "output_size.output_length"
    outcomes, floats = [], []
    with student_session() as session:
        for args in cases:
            case = "output_length({})".format(checking.describe_case(
                **dict(zip(LENGTH_ARGUMENTS, args))))
            actual = _as_length(student_call(session, name, *args, case=case), name, case)
            if not isinstance(actual, (numbers.Integral, np.integer)):
                floats.append((case, actual))
            outcomes.append(Outcome(case, np.array(float(actual)),
                                    np.array(keras_output_length(*args)),
                                    {m: np.array(v) for m, v in wrong_lengths(*args).items()}))
    if floats and all(checking.matches(o.actual, o.expected, 0.0, 0.0) for o in outcomes):
        # every value right, but as floats (e.g. np.ceil or math.floor on a float in numpy)
        case, value = floats[0]
        checking.fail(name, case, "wrong_type", NOT_A_WHOLE_NUMBER_TYPE.format(
            value=value, type=type(value).__name__))
    compare_outcomes(name, outcomes, rtol=0.0, atol_fraction=0.0)


@check
def check_output_length(hidden=False):
    """Exercise 1.1: `output_size.output_length(input_length, kernel_size, stride, padding)`
    against the output shape of Keras's Conv2D (dilation_rate 1: chapter 03 checks it)."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    grade_output_lengths(_length_cases(case_rng(hidden, seed=101), hidden), _wrong_lengths)


# ---------------------------------------------------------------------------- subsample

CF_AS_CL = Misconception(
    "strides.cf_as_cl",
    "You subsampled a channels_first result as if it were channels_last: in (batch, filters, "
    "height, width) the rows and columns are axes 2 and 3, and the filters are never "
    "subsampled.")
HW_SWAPPED = Misconception(
    "strides.hw_swapped",
    "You used the stride of the columns on the rows and the other way round: strides is "
    "(sh, sw), rows first.")
OFFSET = Misconception(
    "strides.offset",
    "You kept outputs s-1, 2s-1, ...: the first window of a strided convolution starts at "
    "pixel 0, exactly like the first stride-1 window, so keep outputs 0, s, 2s and so on.")
DROPPED_TAIL = Misconception(
    "strides.dropped_tail",
    "You dropped the last window when the stride does not divide the length: Keras keeps "
    "every window that starts at 0, s, 2s, ..., that is ceil(length / s) of the stride-1 "
    "outputs (cutting the outputs into whole blocks of s loses the incomplete last block).")
BATCH_AXIS = Misconception(
    "strides.batch_axis",
    "You subsampled the batch axis: y[::sh, ::sw] slices the first two axes, which are "
    "(batch, height); the rows and columns are the two axes after the batch.")

DTYPE = np.float32


def _pair(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


def _subsample_cases(rng, hidden):
    """(data_format, (batch, h, w, c), (kh, kw), filters, strides, padding); strides as
    given to the student (an int or a pair)."""
    if not hidden:
        return [
            ("channels_last", (2, 7, 9, 3), (3, 3), 2, (2, 2), "valid"),
            ("channels_last", (1, 8, 10, 2), (2, 3), 3, (3, 2), "valid"),    # tails, sh != sw
            ("channels_first", (2, 9, 8, 2), (3, 2), 3, (2, 3), "valid"),
            ("channels_last", (1, 7, 8, 1), (3, 3), 2, 2, "same"),          # an int stride
            ("channels_first", (1, 10, 7, 3), (2, 2), 2, (3, 2), "same"),
            ("channels_last", (2, 6, 6, 2), (1, 1), 3, (1, 1), "valid"),     # stride 1
        ]
    cases = []
    for i in range(12):
        kh, kw = (int(v) for v in rng.integers(1, 6, size=2))
        strides = tuple(int(v) for v in rng.integers(1, 6, size=2))
        if i % 4 == 3:
            strides = strides[0]
        padding = ("valid", "same")[i % 2]
        h = int(rng.integers(kh, kh + 24))
        w = int(rng.integers(kw, kw + 24))
        cases.append((("channels_last", "channels_first")[i // 2 % 2],
                      (int(rng.integers(1, 4)), h, w, int(rng.integers(1, 5))), (kh, kw),
                      int(rng.integers(1, 5)), strides, padding))
    return cases


def _stride1_result(x, kernel, strides, padding, data_format):
    """Keras's stride-1 "valid" conv of x padded as Keras pads it for `strides`: the `y`
    that subsample turns into Keras's strided conv."""
    if padding == "same":
        spatial = x.shape[1:3] if data_format == "channels_last" else x.shape[2:4]
        pads = [keras_same_padding(n, k, s) for n, k, s in
                zip(spatial, kernel.shape[:2], strides)]
        widths = [(0, 0), *pads, (0, 0)] if data_format == "channels_last" else \
            [(0, 0), (0, 0), *pads]
        x = np.pad(x, widths)
    return keras_conv(x, kernel, 1, "valid", 1, data_format)


def _wrong_subsampled(y, strides, data_format):
    sh, sw = strides
    spatial = (1, 2) if data_format == "channels_last" else (2, 3)

    def keep(rows, cols):
        index = [slice(None)] * 4
        index[spatial[0]], index[spatial[1]] = rows, cols
        return y[tuple(index)]

    h, w = y.shape[spatial[0]], y.shape[spatial[1]]
    wrong = {
        HW_SWAPPED: keep(slice(None, None, sw), slice(None, None, sh)),
        OFFSET: keep(slice(sh - 1, None, sh), slice(sw - 1, None, sw)),
        DROPPED_TAIL: keep(slice(0, h // sh * sh, sh), slice(0, w // sw * sw, sw)),
        BATCH_AXIS: y[::sh, ::sw],
    }
    if data_format == "channels_first":
        wrong[CF_AS_CL] = y[:, ::sh, ::sw, :]
    return wrong


@check
def check_subsample(hidden=False):
    """Exercise 1.2: `dilation.subsample(y, strides, data_format)`, given Keras's stride-1
    result, against Keras's strided convolution."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    rng = case_rng(hidden, seed=102)
    name = "dilation.subsample"
    outcomes = []
    with student_session() as session:
        for data_format, (n, h, w, c), (kh, kw), filters, strides, padding in _subsample_cases(
                rng, hidden):
            shape = (n, h, w, c) if data_format == "channels_last" else (n, c, h, w)
            x = rng.standard_normal(shape).astype(DTYPE)
            kernel = rng.standard_normal((kh, kw, c, filters)).astype(DTYPE)
            pair = _pair(strides)
            y = _stride1_result(x, kernel, pair, padding, data_format)
            args = checking.describe_case(y=y, strides=strides, data_format=data_format)
            case = (f"subsample({args})"
                    f" (y: Keras's stride-1 conv of an input {shape} and a kernel "
                    f"{(kh, kw, c, filters)}, padding={padding!r})")
            actual = as_array(student_call(session, name, y, strides, data_format, case=case),
                              4, name, case)
            expected = keras_conv(x, kernel, pair, padding, 1, data_format)
            outcomes.append(Outcome(case, actual, expected,
                                    _wrong_subsampled(y, pair, data_format)))
    compare_outcomes(name, outcomes)
