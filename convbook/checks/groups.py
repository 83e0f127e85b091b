"""Checks for chapter 04, groups: `groups.grouped_conv2d` (built from the reader's own
`correlate.conv2d_valid`) and `groups.kernel_param_count`.

Expected values come from Keras: the grouped convolution from `keras.ops.conv` with a grouped
kernel (kh, kw, in_channels // groups, filters) (stride 1, padding "valid": no strided
TensorFlow conv, see `padding.keras_conv`), the kernel size from a built
`keras.layers.Conv2D(..., groups=...)`. The answers known misconceptions give are Keras's
ungrouped convolutions of slices put together the wrong way, or formulas of the same integers.

The reader's grouped_conv2d calls their conv2d_valid in the child process; when that is
unfinished, the harness names it ("`groups.grouped_conv2d` calls `correlate.conv2d_valid`,
which is not implemented yet").
"""
import numpy as np

from convbook import checking, oracle
from convbook.checks import (Misconception, Outcome, as_array, case_rng, check, compare_outcomes,
                             student_call, student_session)

DTYPE = np.float32

# ------------------------------------------------------------------ grouped_conv2d

GROUP_BY_MODULO = Misconception(
    "groups.group_by_modulo",
    "Your filters take their groups round-robin (output channel o in group o % groups): Keras "
    "gives each group a consecutive block of filters, so output channel o belongs to group "
    "o // (filters // groups) and sees input channels g*cg ... (g+1)*cg - 1.")
CHANNELS_INTERLEAVED = Misconception(
    "groups.channels_interleaved",
    "You split the input channels round-robin (x[..., g::groups]): Keras's groups are "
    "consecutive slices, group g reads channels g*cg ... (g+1)*cg - 1, x[..., g*cg:(g+1)*cg].")
OUTPUTS_INTERLEAVED = Misconception(
    "groups.outputs_interleaved",
    "Each group's result is right, but you interleaved them (output channel j*groups + g for "
    "filter j of group g): Keras concatenates the groups' outputs one block after another, "
    "group 0's fg channels first.")
GROUPS_REVERSED = Misconception(
    "groups.groups_reversed",
    "Your filter groups are paired with the channel groups in reverse order: filter block g "
    "(kernel[..., g*fg:(g+1)*fg]) reads channel block g, the first filters the first "
    "channels.")
KERNEL_SLICED_BY_CHANNELS = Misconception(
    "groups.filters_sliced_by_channels",
    "You sliced the kernel's filters with the channel group size cg = in_channels // groups: "
    "the kernel's last axis holds the filters, so group g's filters are "
    "kernel[..., g*fg:(g+1)*fg] with fg = filters // groups.")


def keras_grouped_conv(x, kernel):
    """Keras's grouped convolution, padding "valid", stride 1: `keras.ops.conv` infers
    groups = x channels // kernel.shape[2] from the kernel's input axis."""
    keras = oracle.keras()
    return keras.ops.convert_to_numpy(keras.ops.conv(x, kernel, strides=1, padding="valid"))


def _wrong_grouped(x, kernel, groups):
    """{Misconception: what it gives}, each from Keras's ordinary convolutions of slices."""
    c_in, filters = x.shape[-1], kernel.shape[-1]
    cg, fg = c_in // groups, filters // groups

    def conv(xs, ks):
        return keras_grouped_conv(np.ascontiguousarray(xs), np.ascontiguousarray(ks))

    right = [conv(x[..., g * cg:(g + 1) * cg], kernel[..., g * fg:(g + 1) * fg])
             for g in range(groups)]
    wrong = {}
    if groups > 1:
        modulo = [conv(x[..., (o % groups) * cg:(o % groups + 1) * cg], kernel[..., o:o + 1])
                  for o in range(filters)]
        wrong[GROUP_BY_MODULO] = np.concatenate(modulo, axis=-1)
        wrong[CHANNELS_INTERLEAVED] = np.concatenate(
            [conv(x[..., g::groups], kernel[..., g * fg:(g + 1) * fg]) for g in range(groups)],
            axis=-1)
        wrong[OUTPUTS_INTERLEAVED] = np.stack(right, axis=-1).reshape(*right[0].shape[:3], -1)
        wrong[GROUPS_REVERSED] = np.concatenate(
            [conv(x[..., (groups - 1 - g) * cg:(groups - g) * cg],
                  kernel[..., g * fg:(g + 1) * fg]) for g in range(groups)], axis=-1)
        if cg != fg and cg * groups <= filters:
            wrong[KERNEL_SLICED_BY_CHANNELS] = np.concatenate(
                [conv(x[..., g * cg:(g + 1) * cg], kernel[..., g * cg:(g + 1) * cg])
                 for g in range(groups)], axis=-1)
    return wrong


def _grouped_cases(rng, hidden):
    """((batch, h, w, in_channels), (kh, kw), filters, groups)."""
    if not hidden:
        return [
            ((1, 5, 6, 4), (3, 3), 4, 2),       # 2 channels and 2 filters a group
            ((2, 6, 5, 6), (2, 3), 9, 3),       # 3 filters a group, 2 channels
            ((1, 5, 5, 4), (3, 2), 8, 4),       # one channel a group, two filters (depthwise)
            ((1, 4, 6, 6), (1, 1), 4, 2),       # 1x1, more channels than filters a group
            ((2, 5, 4, 3), (2, 2), 6, 1),       # groups=1: an ordinary convolution
            ((1, 6, 6, 6), (3, 3), 6, 6),       # depthwise, multiplier 1
        ]
    cases = []
    for i in range(10):
        groups = int(rng.choice([1, 2, 3, 4, 6])) if i else 4
        cg = int(rng.integers(1, 4))
        fg = int(rng.integers(1, 4))
        kh, kw = (int(v) for v in rng.integers(1, 4, size=2))
        h, w = int(rng.integers(kh, kh + 9)), int(rng.integers(kw, kw + 9))
        cases.append(((int(rng.integers(1, 3)), h, w, cg * groups), (kh, kw), fg * groups,
                      groups))
    return cases


@check
def check_grouped_conv2d(hidden=False):
    """Exercise 4.1: `groups.grouped_conv2d(x, kernel, groups)` (its `conv`: the reader's
    `correlate.conv2d_valid`) against Keras's grouped convolution."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    rng = case_rng(hidden, seed=401)
    name = "groups.grouped_conv2d"
    outcomes = []
    with student_session() as session:
        for shape, (kh, kw), filters, groups in _grouped_cases(rng, hidden):
            x = rng.standard_normal(shape).astype(DTYPE)
            kernel = rng.standard_normal((kh, kw, shape[-1] // groups, filters)).astype(DTYPE)
            case = "grouped_conv2d({})".format(checking.describe_case(
                x=x, kernel=kernel, groups=groups))
            actual = as_array(student_call(session, name, x, kernel, groups, case=case),
                              4, name, case)
            outcomes.append(Outcome(case, actual, keras_grouped_conv(x, kernel),
                                    _wrong_grouped(x, kernel, groups)))
    compare_outcomes(name, outcomes)


# ------------------------------------------------------------------ kernel_param_count

NOT_DIVIDED = Misconception(
    "groups.not_divided",
    "You counted kh*kw*in_channels*filters, the ungrouped kernel: with groups each filter "
    "reads only in_channels // groups channels, so the kernel has kh*kw*(in_channels // "
    "groups)*filters weights.")
BIAS_COUNTED = Misconception(
    "groups.bias_counted",
    "You added the bias: kernel_param_count counts the kernel alone, kh*kw*(in_channels // "
    "groups)*filters (the layer's bias adds `filters` more, and groups do not change it).")
BIAS_DIVIDED = Misconception(
    "groups.bias_divided",
    "You added filters // groups for the bias: the bias is not part of the kernel, and groups "
    "never divide it (one bias per filter, whatever the groups): the notes' example has a "
    "kernel of 9216 weights plus 64 biases.")
FILTERS_DIVIDED = Misconception(
    "groups.filters_divided",
    "You divided by groups twice (the channels and the filters): every one of the `filters` "
    "filters has its own kh*kw*(in_channels // groups) weights; the filters per group are "
    "fewer, but there are `groups` groups of them.")


def keras_kernel_param_count(kernel_size, in_channels, filters, groups):
    """The size of the kernel of a built keras.layers.Conv2D with these arguments."""
    keras = oracle.keras()
    layer = keras.layers.Conv2D(filters, kernel_size, groups=groups)
    layer.build((None, 8, 8, in_channels))
    return int(np.prod(layer.kernel.shape))


def _wrong_counts(kernel_size, in_channels, filters, groups):
    kh, kw = kernel_size
    right = kh * kw * (in_channels // groups) * filters
    return {NOT_DIVIDED: kh * kw * in_channels * filters,
            BIAS_COUNTED: right + filters,
            BIAS_DIVIDED: right + filters // groups,
            FILTERS_DIVIDED: kh * kw * (in_channels // groups) * (filters // groups)}


def _count_cases(rng, hidden):
    """(kernel_size, in_channels, filters, groups)."""
    if not hidden:
        return [
            ((3, 3), 32, 64, 2),      # the notes' example: 9216
            ((3, 3), 32, 64, 1),
            ((3, 3), 32, 32, 32),     # depthwise
            ((1, 1), 12, 6, 3),
            ((5, 3), 8, 16, 4),
            ((2, 2), 6, 6, 1),
        ]
    cases = []
    for _ in range(12):
        groups = int(rng.choice([1, 2, 3, 4, 8, 16]))
        kernel_size = tuple(int(v) for v in rng.integers(1, 8, size=2))
        cases.append((kernel_size, groups * int(rng.integers(1, 9)),
                      groups * int(rng.integers(1, 9)), groups))
    return cases


@check
def check_kernel_param_count(hidden=False):
    """Exercise 4.2: `groups.kernel_param_count(kernel_size, in_channels, filters, groups)`
    against the size of a built Keras Conv2D's kernel."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    rng = case_rng(hidden, seed=402)
    name = "groups.kernel_param_count"
    outcomes = []
    with student_session() as session:
        for kernel_size, in_channels, filters, groups in _count_cases(rng, hidden):
            case = "kernel_param_count({})".format(checking.describe_case(
                kernel_size=kernel_size, in_channels=in_channels, filters=filters,
                groups=groups))
            value = student_call(session, name, kernel_size, in_channels, filters, groups,
                                 case=case)
            if value is None:
                checking.returned_none(name, case, "an int")
            if isinstance(value, (bool, np.bool_)) or not isinstance(
                    value, (int, float, np.integer, np.floating)):
                checking.fail(name, case, "wrong_type",
                              f"`{name}` should return an int; it returned {value!r:.60}.")
            expected = keras_kernel_param_count(kernel_size, in_channels, filters, groups)
            outcomes.append(Outcome(case, np.array(float(value)), np.array(expected),
                                    {m: np.array(v) for m, v in _wrong_counts(
                                        kernel_size, in_channels, filters, groups).items()}))
    compare_outcomes(name, outcomes, rtol=0.0, atol_fraction=0.0)
