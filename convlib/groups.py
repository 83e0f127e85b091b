"""Grouped convolution. Chapter 04 (groups, 组卷积).

The input channels are split into `groups` equal, consecutive slices and the filters too;
filter slice g sees only channel slice g. Output channel o belongs to group
o // (filters // groups). The kernel therefore has shape (kh, kw, in_channels // groups,
filters): kernel parameters shrink by a factor `groups`, the bias (one per filter) does not.
Fewer multiply-adds do not guarantee less wall-clock time: measure (chapter 04's "Going
further", benchmarks/).
"""
import numpy as np

from .arguments import standardize_positive_int
from .correlate import conv2d_valid


def filter_group(filter_index, filters, groups):
    """Which group output channel `filter_index` belongs to."""
    return filter_index // (filters // groups)


def kernel_param_count(kernel_size, in_channels, filters, groups=1):
    """Weights in the kernel of a grouped Conv2D (the bias not included).

    Args:
        kernel_size: (kh, kw).
        in_channels: C_in, the input's channels; filters: the output channels.
        groups: positive int dividing in_channels and filters.

    Returns:
        An int: the number of values in a kernel of shape (kh, kw, in_channels // groups,
        filters). (The layer's bias adds `filters` more, whatever `groups` is.)

    Hint: each filter reads only the channels of its own group.
    """
    # YOUR CODE HERE
    raise NotImplementedError()


def grouped_conv2d(x, kernel, groups, conv=None, **conv_args):
    """A grouped convolution out of `groups` ordinary ones (channels_last).

    Args:
        x: (batch, height, width, in_channels).
        kernel: (kh, kw, in_channels // groups, filters).
        groups: positive int dividing in_channels and filters.
        conv: function (x, kernel, **conv_args) -> output computing an ungrouped convolution.
            By default your `correlate.conv2d_valid` (chapter 00: padding "valid", stride 1);
            a later chapter passes the fast `conv.conv2d` with strides, padding, ...

    Returns:
        (batch, out_h, out_w, filters), with cg = in_channels // groups and
        fg = filters // groups:
        out[..., g*fg:(g+1)*fg] = conv(x[..., g*cg:(g+1)*cg], kernel[..., g*fg:(g+1)*fg]),
        group g's filters applied to group g's channels, concatenated in group order.

    Hint: the kernel's input axis already has only cg channels: slice x's channels and the
    kernel's filters (its last axis), one ordinary convolution per group.
    """
    x = np.asarray(x)
    kernel = np.asarray(kernel)
    groups = standardize_positive_int(groups, "groups")
    if conv is None:
        conv = conv2d_valid
    if x.shape[-1] % groups or kernel.shape[-1] % groups:
        raise ValueError(
            f"groups={groups} must divide both the input channels ({x.shape[-1]}) and the "
            f"filters ({kernel.shape[-1]})."
        )
    if kernel.shape[2] * groups != x.shape[-1]:
        raise ValueError(
            f"kernel shape {kernel.shape} expects {kernel.shape[2] * groups} input channels "
            f"with groups={groups}, but x has {x.shape[-1]} (x.shape={x.shape})."
        )
    # YOUR CODE HERE
    raise NotImplementedError()
