"""Checks for chapter 13, the fast path (im2col): `conv.window_view`,
`conv.strided_dilated_windows` and `conv.columns_times_kernel`, the three steps of
`conv.conv2d`.

Where the expected values come from: Keras.
* Windows: `keras.ops.image.extract_patches(x, size, strides=1, dilation_rate=d,
  padding="valid")`. Keras computes it as a convolution of `x` with an identity kernel of
  shape (kh, kw, channels, kh*kw*channels), so patch entry number (a*kw + b)*channels + c is
  x[i + a*d_h, j + b*d_w, c]: the flattening order of a Conv2D kernel, (row, column, channel).
  `keras_windows` reshapes that last axis to (kh, kw, channels). Strided patches are taken
  as every s-th stride-1 patch, never from a strided TensorFlow convolution (see
  `padding.keras_conv`: oneDNN's strided convolutions are wrong on some small shapes).
* The product: Keras's convolution of the same input (`padding.keras_conv`, whose kernel's
  third axis tells `keras.ops.conv` the groups).

Every step gets its inputs from Keras, not from the reader's previous step: check 13.2 is
given Keras's windows, check 13.3 Keras's columns, so a mistake is charged once, where it is.
The answers the named misconceptions give are Keras's windows sliced the wrong way, or Keras's
convolutions with the kernel or the outputs rearranged the way each wrong idea does.

Nothing here is statistical: the reader's functions draw no random numbers and every case is
compared elementwise within the checks' float32 tolerance, so a correct solution never fails
by chance (false-failure rate 0).
"""
import numpy as np

from convbook import checking, oracle
from convbook.checks import (Misconception, Outcome, as_array, case_rng, check, compare_outcomes,
                             student_call, student_session)
from convbook.checks.padding import keras_conv, keras_padding_amounts

DTYPE = np.float32


# --------------------------------------------------------------------------- Keras oracles

def keras_windows(x, window_shape, dilation_rate=(1, 1)):
    """Every window of `x` (batch, height, width, channels) at every stride-1 position, from
    Keras's extract_patches: (batch, P, Q, kh, kw, channels), entry [n, i, j, a, b, c] =
    x[n, i + a*dh, j + b*dw, c]."""
    keras = oracle.keras()
    kh, kw = window_shape
    patches = keras.ops.convert_to_numpy(keras.ops.image.extract_patches(
        np.ascontiguousarray(x, DTYPE), (kh, kw), strides=1,
        dilation_rate=tuple(dilation_rate), padding="valid", data_format="channels_last"))
    return patches.reshape(*patches.shape[:3], kh, kw, x.shape[-1])


def span(kernel_size, dilation_rate):
    """How many pixels a dilated kernel covers along each axis: d*(k-1) + 1."""
    return tuple(d * (k - 1) + 1 for k, d in zip(kernel_size, dilation_rate))


def _grouped(taps, groups):
    """(..., kh, kw, channels) -> (..., groups, kh, kw, channels // groups)."""
    *lead, kh, kw, channels = taps.shape
    split = taps.reshape(*lead, kh, kw, groups, channels // groups)
    return np.moveaxis(split, -2, -4)


def keras_columns(x_padded, kernel_size, strides, dilation_rate, groups=1):
    """im2col's columns of an already padded input, from Keras's patches:
    (batch, out_h, out_w, groups, kh, kw, channels // groups)."""
    (sh, sw) = strides
    taps = keras_windows(x_padded, kernel_size, dilation_rate)[:, ::sh, ::sw]
    return _grouped(taps, groups)


def keras_pad(x, kernel_size, strides, padding, dilation_rate):
    """`x` (channels_last) with the zeros Keras adds for `padding` (none for "valid")."""
    pads = keras_padding_amounts(x.shape[1:3], kernel_size, strides, padding, dilation_rate)
    return np.pad(x, [(0, 0), *pads, (0, 0)])


# ------------------------------------------------------------------------------ window_view

CHANNEL_AXIS_FIRST = Misconception(
    "fast_path.channel_axis_first",
    "Your windows are (channels, window_h, window_w), the order sliding_window_view gives: "
    "the window axes come after the channel axis. A Conv2D kernel is (kh, kw, channels), so "
    "the windows must be too, windows[n, i, j, a, b, c] = x[n, i + a, j + b, c]: move the "
    "channel axis last.")
WINDOW_TRANSPOSED = Misconception(
    "fast_path.window_transposed",
    "Your windows are transposed: windows[n, i, j, a, b, c] must be x[n, i + a, j + b, c], "
    "the window's row a before its column b, as in the kernel (kh, kw, channels).")


def _window_cases(rng, hidden):
    """((batch, Hp, Wp, channels), (window_h, window_w))."""
    if not hidden:
        return [
            ((1, 4, 5, 1), (2, 3)),
            ((2, 5, 5, 3), (3, 3)),     # as many channels as window rows and columns
            ((1, 6, 4, 2), (4, 1)),
            ((2, 3, 4, 2), (3, 4)),     # the window is the whole image: one position
            ((1, 5, 6, 4), (1, 1)),
        ]
    cases = []
    for _ in range(10):
        wh, ww = (int(v) for v in rng.integers(1, 7, size=2))
        cases.append(((int(rng.integers(1, 4)), wh + int(rng.integers(0, 14)),
                       ww + int(rng.integers(0, 14)), int(rng.integers(1, 6))), (wh, ww)))
    return cases


@check
def check_window_view(hidden=False):
    """Exercise 13.1: `conv.window_view(x_padded, window_shape)` against Keras's
    extract_patches (stride 1, no dilation)."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    rng = case_rng(hidden, seed=1301)
    name = "conv.window_view"
    outcomes = []
    with student_session() as session:
        for shape, window in _window_cases(rng, hidden):
            x = rng.standard_normal(shape).astype(DTYPE)
            case = "window_view({})".format(checking.describe_case(
                x_padded=x, window_shape=window))
            actual = as_array(student_call(session, name, x, window, case=case), 6, name, case)
            expected = keras_windows(x, window)
            outcomes.append(Outcome(case, actual, expected, {
                CHANNEL_AXIS_FIRST: expected.transpose(0, 1, 2, 5, 3, 4),
                WINDOW_TRANSPOSED: expected.transpose(0, 1, 2, 4, 3, 5),
            }))
    compare_outcomes(name, outcomes)


# -------------------------------------------------------------------- strided_dilated_windows

STRIDE_DILATION_SWAPPED = Misconception(
    "fast_path.stride_dilation_swapped",
    "You spaced the taps by the stride and the windows by the dilation: the stride says how "
    "far apart the WINDOWS are (windows[:, ::sh, ::sw]), the dilation how far apart the TAPS "
    "inside a window are (windows[..., ::dh, ::dw, :]).")
DILATION_IGNORED = Misconception(
    "fast_path.dilation_ignored",
    "You took the first kh x kw pixels of each window: with dilation d the kh taps are d "
    "pixels apart, spread over the window's d*(kh-1) + 1 pixels (windows[..., ::dh, ::dw, :]).")
STRIDE_IGNORED = Misconception(
    "fast_path.stride_ignored",
    "You kept the first out_h x out_w windows: with stride s the output's pixel i reads the "
    "window at position i*s, so keep every s-th window (windows[:, ::sh, ::sw]).")
GROUPS_INTERLEAVED = Misconception(
    "fast_path.groups_interleaved",
    "Your groups take the channels round-robin (group g = channels g, g + groups, ...): "
    "Keras's groups are consecutive blocks, group g holds channels g*cg ... (g+1)*cg - 1, so "
    "split the channel axis as (groups, cg), the group first.")
GROUP_AXIS_AFTER_TAPS = Misconception(
    "fast_path.group_axis_after_taps",
    "Your group axis comes after the taps, (kh, kw, groups, cg): the columns must be "
    "(groups, kh, kw, cg), so that each group's kh*kw*cg values are consecutive and flatten "
    "in the kernel's order (row, column, channel).")


def _strided_cases(rng, hidden):
    """((batch, Hp, Wp, channels), (kh, kw), strides, dilation_rate, groups)."""
    if not hidden:
        return [
            ((1, 5, 6, 1), (2, 2), (1, 1), (1, 1), 1),   # nothing to skip
            ((1, 7, 8, 2), (3, 2), (2, 3), (1, 1), 1),   # strides only
            ((2, 8, 7, 1), (2, 3), (1, 1), (3, 2), 1),   # dilation only
            ((1, 9, 9, 2), (2, 2), (2, 3), (3, 2), 1),   # both, on both axes
            ((1, 6, 6, 6), (2, 2), (2, 2), (1, 1), 3),   # 3 groups of 2 channels
            ((2, 7, 6, 4), (3, 2), (1, 2), (2, 1), 2),   # groups, strides and dilation
        ]
    cases = []
    for _ in range(12):
        kernel = tuple(int(v) for v in rng.integers(1, 5, size=2))
        strides = tuple(int(v) for v in rng.integers(1, 4, size=2))
        dilation = tuple(int(v) for v in rng.integers(1, 4, size=2))
        groups = int(rng.choice([1, 2, 3, 4]))
        h, w = (s + int(rng.integers(0, 12)) for s in span(kernel, dilation))
        cases.append(((int(rng.integers(1, 3)), h, w, groups * int(rng.integers(1, 4))),
                      kernel, strides, dilation, groups))
    return cases


def _wrong_strided(x, kernel_size, strides, dilation, groups, expected):
    """{Misconception: what it gives}, from Keras's windows sliced the wrong way."""
    (sh, sw), (dh, dw) = strides, dilation
    positions = tuple(n - s + 1 for n, s in zip(x.shape[1:3], span(kernel_size, dilation)))
    full = keras_windows(x, kernel_size, dilation)           # every stride-1 window
    wrong = {}
    if strides != dilation:
        # taps spaced by the stride across the dilated span, windows spaced by the dilation
        taps = tuple((s - 1) // step + 1 for s, step in zip(span(kernel_size, dilation), strides))
        swapped = keras_windows(x, taps, strides)[:, :positions[0], :positions[1]]
        wrong[STRIDE_DILATION_SWAPPED] = _grouped(swapped[:, ::dh, ::dw], groups)
    if dilation != (1, 1):
        packed = keras_windows(x, kernel_size)[:, :positions[0], :positions[1]]
        wrong[DILATION_IGNORED] = _grouped(packed[:, ::sh, ::sw], groups)
    if strides != (1, 1):
        out_h, out_w = expected.shape[1:3]
        wrong[STRIDE_IGNORED] = _grouped(full[:, :out_h, :out_w], groups)
    taps = full[:, ::sh, ::sw]
    *lead, kh, kw, channels = taps.shape
    if groups > 1 and channels > groups:
        by_modulo = taps.reshape(*lead, kh, kw, channels // groups, groups)
        wrong[GROUPS_INTERLEAVED] = np.moveaxis(by_modulo, -1, -4)
    # with groups=1 too: the right numbers, with the group axis of size 1 in the wrong place
    wrong[GROUP_AXIS_AFTER_TAPS] = taps.reshape(*lead, kh, kw, groups, channels // groups)
    return wrong


@check
def check_strided_dilated_windows(hidden=False):
    """Exercise 13.2: `conv.strided_dilated_windows(windows, strides, dilation_rate, groups)`,
    given Keras's windows of the dilated kernel's span, against Keras's dilated patches taken
    every s-th position."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    rng = case_rng(hidden, seed=1302)
    name = "conv.strided_dilated_windows"
    outcomes = []
    with student_session() as session:
        for shape, kernel_size, strides, dilation, groups in _strided_cases(rng, hidden):
            x = rng.standard_normal(shape).astype(DTYPE)
            windows = keras_windows(x, span(kernel_size, dilation))
            case = "strided_dilated_windows({}) for kernel_size={}".format(
                checking.describe_case(windows=windows, strides=strides, dilation_rate=dilation,
                                       groups=groups), kernel_size)
            actual = as_array(student_call(session, name, windows, strides, dilation, groups,
                                           case=case), 7, name, case)
            expected = keras_columns(x, kernel_size, strides, dilation, groups)
            outcomes.append(Outcome(case, actual, expected, _wrong_strided(
                x, kernel_size, strides, dilation, groups, expected)))
    compare_outcomes(name, outcomes)


# ----------------------------------------------------------------------- columns_times_kernel

KERNEL_FILTERS_FIRST = Misconception(
    "fast_path.kernel_filters_first",
    "You flattened the kernel as kernel.reshape(filters, -1).T: reshape reads the kernel in "
    "memory order (kh, kw, cg, filters), so that mixes taps and filters. The columns are "
    "ordered (row, column, channel), and kernel.reshape(-1, filters) (per group: "
    "kernel.reshape(-1, groups, filters // groups)) keeps that order, one column per filter.")
KERNEL_CHANNELS_FIRST = Misconception(
    "fast_path.kernel_channels_first",
    "Your kernel is flattened in the order (channel, row, column) while the columns are "
    "(row, column, channel): both sides of the product must flatten the same way, "
    "kernel.reshape(-1, ...) as it is stored, (kh, kw, cg).")
FILTERS_BY_MODULO = Misconception(
    "fast_path.filters_by_modulo",
    "Your groups take the filters round-robin (kernel.reshape(-1, filters // groups, groups)):"
    " Keras gives group g the consecutive filters g*fg ... (g+1)*fg - 1, so split the "
    "filter axis as (groups, fg), the group first.")
OUTPUTS_INTERLEAVED = Misconception(
    "fast_path.outputs_interleaved",
    "Each group's product is right, but you interleaved the groups' outputs (output channel "
    "j*groups + g): put them one block after another, (groups, fg) -> filters, group 0's fg "
    "filters first.")


def _product_cases(rng, hidden):
    """((batch, h, w, channels), (kh, kw), filters, strides, dilation_rate, padding, groups)."""
    if not hidden:
        return [
            ((1, 5, 6, 2), (3, 3), 3, (1, 1), (1, 1), "valid", 1),
            ((2, 7, 6, 3), (3, 2), 4, (2, 2), (1, 1), "same", 1),
            ((1, 9, 8, 2), (2, 3), 2, (1, 1), (2, 3), "same", 1),
            ((1, 9, 10, 2), (3, 2), 3, (2, 3), (2, 2), "valid", 1),   # strides with dilation
            ((2, 6, 7, 4), (2, 2), 6, (1, 2), (1, 1), "same", 2),
            ((1, 8, 8, 6), (3, 3), 6, (2, 1), (1, 2), "same", 6),      # depthwise
            ((1, 5, 5, 4), (1, 1), 8, (1, 1), (1, 1), "valid", 4),
        ]
    cases = []
    for _ in range(12):
        kernel = tuple(int(v) for v in rng.integers(1, 6, size=2))
        strides = tuple(int(v) for v in rng.integers(1, 4, size=2))
        dilation = tuple(int(v) for v in rng.integers(1, 4, size=2))
        groups = int(rng.choice([1, 1, 2, 3, 4, 8]))
        padding = str(rng.choice(["valid", "same"]))
        low = span(kernel, dilation) if padding == "valid" else (1, 1)
        shape = (int(rng.integers(1, 4)), int(rng.integers(low[0], low[0] + 25)),
                 int(rng.integers(low[1], low[1] + 25)), groups * int(rng.integers(1, 5)))
        cases.append((shape, kernel, groups * int(rng.integers(1, 5)), strides, dilation,
                      padding, groups))
    return cases


def _wrong_products(x, kernel, strides, padding, dilation, groups, expected):
    """{Misconception: what it gives}: Keras's convolution with the kernel rearranged as the
    wrong flattening reads it, or with its outputs interleaved."""
    kh, kw, cg, filters = kernel.shape
    fg = filters // groups

    def conv(k):
        return keras_conv(x, np.ascontiguousarray(k, DTYPE), strides, padding, dilation)

    wrong = {}
    if filters > 1 and kh * kw * cg > 1:
        wrong[KERNEL_FILTERS_FIRST] = conv(kernel.reshape(filters, -1).T.reshape(kernel.shape))
    if cg > 1 and kh * kw > 1:
        wrong[KERNEL_CHANNELS_FIRST] = conv(kernel.transpose(2, 0, 1, 3).reshape(kernel.shape))
    if groups > 1 and fg > 1:
        # group g's filter j is the kernel's filter j*groups + g
        order = np.arange(filters).reshape(fg, groups).T.reshape(-1)
        wrong[FILTERS_BY_MODULO] = conv(kernel[..., order])
        rows = expected.shape[:3]
        wrong[OUTPUTS_INTERLEAVED] = expected.reshape(*rows, groups, fg).swapaxes(-1, -2) \
            .reshape(*rows, filters)
    return wrong


@check
def check_columns_times_kernel(hidden=False):
    """Exercise 13.3: `conv.columns_times_kernel(cols, kernel)`, given Keras's columns of the
    padded input, against Keras's convolution (padding, strides, dilation, both together,
    groups)."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    rng = case_rng(hidden, seed=1303)
    name = "conv.columns_times_kernel"
    outcomes = []
    with student_session() as session:
        for shape, kernel_size, filters, strides, dilation, padding, groups in \
                _product_cases(rng, hidden):
            x = rng.standard_normal(shape).astype(DTYPE)
            kernel = rng.standard_normal(
                (*kernel_size, shape[-1] // groups, filters)).astype(DTYPE)
            cols = keras_columns(keras_pad(x, kernel_size, strides, padding, dilation),
                                 kernel_size, strides, dilation, groups)
            case = 'columns_times_kernel({}): Conv2D padding="{}", {}'.format(
                checking.describe_case(cols=cols, kernel=kernel), padding,
                checking.describe_case(strides=strides, dilation_rate=dilation, groups=groups))
            actual = as_array(student_call(session, name, cols, kernel, case=case), 4, name,
                              case)
            expected = keras_conv(x, kernel, strides, padding, dilation)
            outcomes.append(Outcome(case, actual, expected, _wrong_products(
                x, kernel, strides, padding, dilation, groups, expected)))
    compare_outcomes(name, outcomes)
