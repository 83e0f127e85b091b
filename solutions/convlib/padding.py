"""Padding: "valid" and "same". Chapter 02 (padding, 特征图填充).

"same" pads just enough that out = ceil(n / stride). The total padding along one axis is

    P = max((out - 1) * stride + span - n, 0),   span = dilation * (k - 1) + 1

and it is NOT always split evenly: before = P // 2 and after = P - before, so when P is
odd the extra pixel goes to the bottom / right. (The course's source notes say "evenly";
that holds only when P is even.)
"""
import numpy as np

from .arguments import standardize_data_format, standardize_padding
from .output_size import effective_kernel_size, output_length


def same_padding_amounts(input_length, kernel_size, stride=1, dilation_rate=1):
    """Zeros to add (before, after) along one axis for padding="same".

    Args:
        input_length: n; kernel_size: k; stride: s; dilation_rate: d (all positive ints).

    Returns:
        (before, after), two non-negative ints with after - before in {0, 1}:
        P = max((ceil(n/s) - 1) * s + d*(k-1) + 1 - n, 0); before = P // 2; after = P - before.

    Hint: the last window must start at (out - 1) * s and still fit in n + P pixels.
    """
    ### BEGIN SOLUTION
    out = output_length(input_length, kernel_size, stride, "same", dilation_rate)
    span = effective_kernel_size(kernel_size, dilation_rate)
    total = max((out - 1) * stride + span - input_length, 0)
    before = total // 2
    return before, total - before
    ### END SOLUTION


def padding_amounts(spatial_shape, kernel_size, strides, padding, dilation_rate):
    """The zeros Conv2D adds around a 2-D input, both axes.

    Args:
        spatial_shape: (height, width); kernel_size: (kh, kw); strides: (sh, sw);
        padding: "valid" or "same" (any case); dilation_rate: (dh, dw).

    Returns:
        ((top, bottom), (left, right)): ((0, 0), (0, 0)) for "valid"; for "same", your
        same_padding_amounts along the height (height, kh, sh, dh), then along the width.

    Hint: `padding` arrives in any case ("SAME"): compare it after standardize_padding.
    """
    padding = standardize_padding(padding)
    ### BEGIN SOLUTION
    if padding == "valid":
        return ((0, 0), (0, 0))
    return tuple(
        same_padding_amounts(n, k, s, d)
        for n, k, s, d in zip(spatial_shape, kernel_size, strides, dilation_rate)
    )
    ### END SOLUTION


def pad_spatial(x, amounts, data_format="channels_last"):
    """Zero-pad the two spatial axes of a batch of images.

    Args:
        x: (batch, height, width, channels) for channels_last,
           (batch, channels, height, width) for channels_first.
        amounts: ((top, bottom), (left, right)).

    Returns:
        The padded array, same dtype: height + top + bottom, width + left + right.

    Hint: np.pad takes one (before, after) pair per axis; batch and channels get (0, 0).
    """
    data_format = standardize_data_format(data_format)
    ### BEGIN SOLUTION
    (top, bottom), (left, right) = amounts
    if data_format == "channels_last":
        widths = ((0, 0), (top, bottom), (left, right), (0, 0))
    else:
        widths = ((0, 0), (0, 0), (top, bottom), (left, right))
    return np.pad(x, widths)
    ### END SOLUTION
