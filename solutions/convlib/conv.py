"""The fast path: convolution as one matrix product (im2col), forward and backward.

The loops of correlate.py visit every output pixel. Here no Python loop runs over pixels:
for each tap (a, b) one strided slice of the padded input holds the pixel that tap sees at
every output position. Copying those slices side by side gives a matrix
`cols` with one row per output pixel and one column per (tap, input channel); the
convolution is then `cols @ kernel.reshape(-1, filters)`, a single BLAS call.

Groups make that a batch of `groups` smaller products. The backward pass reuses `cols`:

    d kernel = cols.T @ d y          d cols = d y @ kernel.T
    d x      = scatter-add d cols back to the pixels they came from (col2im), crop padding,
             = a convolution of d y (spread by the stride) with the flipped kernel, which
               is how conv2d_backward computes it: im2col is fast, scatter-adds are not.

Everything here is channels_last internally; channels_first inputs are transposed.
"""
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .arguments import standardize_data_format, standardize_pair, standardize_padding
from .arguments import standardize_positive_int
from .output_size import conv_output_spatial_shape
from .padding import pad_spatial, padding_amounts


def _tap_slices(a, b, strides, dilation_rate, output_size):
    """Rows and columns of the padded input that kernel tap (a, b) sees, as slices."""
    (sh, sw), (dh, dw), (oh, ow) = strides, dilation_rate, output_size
    return (slice(a * dh, a * dh + (oh - 1) * sh + 1, sh),
            slice(b * dw, b * dw + (ow - 1) * sw + 1, sw))


def window_view(x_padded, window_shape):
    """Every window_h x window_w window of the padded input, as a view (nothing copied).

    Args:
        x_padded: (batch, Hp, Wp, channels), channels_last, already padded.
        window_shape: (window_h, window_w), at most (Hp, Wp).

    Returns:
        (batch, Hp - window_h + 1, Wp - window_w + 1, window_h, window_w, channels) with
        windows[n, i, j, a, b, c] = x_padded[n, i + a, j + b, c]: one window at every
        stride-1 position, its axes in the kernel's order (row, column, channel).

    Hint: np.lib.stride_tricks.sliding_window_view(x_padded, window_shape, axis=(1, 2))
    puts the window's two axes LAST, after the channels; move the channel axis behind them
    (np.moveaxis keeps it a view).
    """
    ### BEGIN SOLUTION
    windows = sliding_window_view(x_padded, tuple(window_shape), axis=(1, 2))
    return np.moveaxis(windows, 3, -1)     # (..., channels, wh, ww) -> (..., wh, ww, channels)
    ### END SOLUTION


def strided_dilated_windows(windows, strides, dilation_rate, groups=1):
    """Keep the windows the stride selects and, in each, the taps the dilation selects.

    Args:
        windows: window_view's answer for windows of the dilated kernel's span
            (span_h, span_w) = (dh*(kh-1) + 1, dw*(kw-1) + 1): (batch, P, Q, span_h,
            span_w, channels), one window at every stride-1 position.
        strides, dilation_rate: (h, w) pairs.
        groups: the channels are split into this many consecutive groups.

    Returns:
        (batch, out_h, out_w, groups, kh, kw, channels // groups) with
        cols[n, i, j, g, a, b, c] = windows[n, i*sh, j*sw, a*dh, b*dw, g*cg + c],
        cg = channels // groups: the stride spaces the windows, the dilation spaces the taps
        inside each window. A view is fine (im2col copies once).

    Hint: two strided slices (one on the position axes, one on the tap axes), then split
    the channel axis into (groups, cg) and move the group axis before the taps.
    """
    ### BEGIN SOLUTION
    (sh, sw), (dh, dw) = strides, dilation_rate
    batch, rows, columns, span_h, span_w, channels = windows.shape
    taps = windows[:, ::sh, ::sw, ::dh, ::dw, :]                   # the stride, then the dilation
    out_h, out_w, kh, kw = taps.shape[1:5]
    taps = taps.reshape(batch, out_h, out_w, kh, kw, groups, channels // groups)
    return taps.transpose(0, 1, 2, 5, 3, 4, 6)                     # the group axis before the taps
    ### END SOLUTION


def im2col(x_padded, kernel_size, strides, dilation_rate, output_size, groups=1):
    """Gather, for every output pixel, the input values under every kernel tap.

    Args:
        x_padded: (batch, Hp, Wp, channels), already padded, channels_last.
        kernel_size, strides, dilation_rate, output_size: (h, w) pairs.
        groups: the channels are split into this many consecutive groups.

    Returns:
        cols: (batch, out_h, out_w, groups, kh, kw, channels // groups), contiguous, with
        cols[n, i, j, g, a, b, c] = x_padded[n, i*sh + a*dh, j*sw + b*dw, g*cg + c].

    Your window_view and strided_dilated_windows do the work; this copies their view once.
    """
    (kh, kw), (dh, dw) = kernel_size, dilation_rate
    span = (dh * (kh - 1) + 1, dw * (kw - 1) + 1)
    cols = strided_dilated_windows(window_view(x_padded, span), strides, dilation_rate, groups)
    expected = (x_padded.shape[0], *output_size, groups, kh, kw, x_padded.shape[3] // groups)
    if tuple(np.shape(cols)) != expected:
        raise ValueError(
            f"strided_dilated_windows returned columns of shape {tuple(np.shape(cols))}; for "
            f"this input, kernel_size={tuple(kernel_size)}, strides={tuple(strides)} and "
            f"dilation_rate={tuple(dilation_rate)} they must have the shape {expected} "
            f"(batch, out_h, out_w, groups, kh, kw, channels // groups).")
    # One copy, in the order the kernel is flattened: (group, tap row, tap column, channel).
    return np.ascontiguousarray(cols)


def col2im(cols, padded_shape, kernel_size, strides, dilation_rate):
    """The adjoint of im2col: add every entry of `cols` back onto the pixel it came from.

    Args:
        cols: (batch, out_h, out_w, groups, kh, kw, channels // groups).
        padded_shape: (batch, Hp, Wp, channels), the shape of the padded input.

    Returns:
        (batch, Hp, Wp, channels): pixels seen by several windows receive the sum.

    Hint: the same tap slices as im2col, with `+=` into a zero array.
    """
    ### BEGIN SOLUTION
    batch, oh, ow = cols.shape[:3]
    kh, kw = kernel_size
    out = np.zeros(padded_shape, dtype=cols.dtype)
    for a in range(kh):
        for b in range(kw):
            rows, columns = _tap_slices(a, b, strides, dilation_rate, (oh, ow))
            out[:, rows, columns, :] += cols[:, :, :, :, a, b, :].reshape(batch, oh, ow, -1)
    return out
    ### END SOLUTION


@dataclass
class ConvCache:
    """What the backward pass needs from the forward pass."""
    cols: np.ndarray
    kernel: np.ndarray
    padded_shape: tuple
    pads: tuple
    strides: tuple
    dilation_rate: tuple
    groups: int
    data_format: str


def _check_shapes(x, kernel, groups):
    if x.ndim != 4:
        raise ValueError(
            f"Conv2D expects a 4-D input (batch, height, width, channels) or, channels_first, "
            f"(batch, channels, height, width). Received an input of shape {x.shape}."
        )
    if kernel.ndim != 4:
        raise ValueError(
            f"The kernel must be 4-D (kh, kw, in_channels // groups, filters). "
            f"Received a kernel of shape {kernel.shape}."
        )
    channels, filters = x.shape[-1], kernel.shape[-1]
    if channels % groups or filters % groups:
        raise ValueError(
            f"groups={groups} must divide both the input channels ({channels}) and the "
            f"filters ({filters})."
        )
    if kernel.shape[2] * groups != channels:
        raise ValueError(
            f"The kernel of shape {kernel.shape} expects {kernel.shape[2] * groups} input "
            f"channels with groups={groups}, but the input has {channels} "
            f"(input shape, channels_last: {x.shape})."
        )


def columns_times_kernel(cols, kernel):
    """The convolution as matrix products: the columns times the kernel, one product a group.

    Args:
        cols: im2col's columns, (batch, out_h, out_w, groups, kh, kw, channels // groups).
        kernel: (kh, kw, channels // groups, filters); filters % groups == 0.

    Returns:
        (batch, out_h, out_w, filters) with, for filter f of group g = f // (filters // groups),
        y[n, i, j, f] = sum over a, b, c of cols[n, i, j, g, a, b, c] * kernel[a, b, c, f].

    Each group is one matrix product: the rows of cols (batch*out_h*out_w of them, each of
    kh*kw*cg values, in the order (a, b, c)) times the kernel flattened in the SAME order,
    (kh*kw*cg, filters), whose columns split into `groups` consecutive blocks of filters.

    Hint: kernel.reshape(-1, groups, filters // groups) flattens (a, b, c) as the columns
    are; np.matmul multiplies stacks of matrices when the group axis comes first.
    """
    ### BEGIN SOLUTION
    batch, out_h, out_w, groups = cols.shape[:4]
    rows, filters = batch * out_h * out_w, kernel.shape[-1]
    if groups == 1:
        # one plain 2-D product: numpy's matmul is much slower on a (rows, 1, K) stack
        y = cols.reshape(rows, -1) @ kernel.reshape(-1, filters)
    else:
        left = cols.reshape(rows, groups, -1).transpose(1, 0, 2)           # (g, rows, K)
        right = kernel.reshape(-1, groups, filters // groups).transpose(1, 0, 2)  # (g, K, fg)
        y = np.matmul(left, right).transpose(1, 0, 2)                    # (rows, g, fg)
    return y.reshape(batch, out_h, out_w, filters)
    ### END SOLUTION


def conv2d(x, kernel, strides=1, padding="valid", dilation_rate=1, groups=1,
           data_format="channels_last", return_cache=False):
    """Conv2D's convolution (no bias, no activation), vectorised.

    Args:
        x: (batch, height, width, channels), or (batch, channels, height, width).
        kernel: (kh, kw, channels // groups, filters).
        strides, dilation_rate: int or pair; both > 1 together is allowed here (the layer
            refuses it unless asked).
        padding: "valid" or "same". groups: positive int.

    Returns:
        (batch, out_h, out_w, filters) (channels_first: (batch, filters, out_h, out_w)),
        and a ConvCache for conv2d_backward when return_cache=True.
    """
    strides = standardize_pair(strides, "strides")
    dilation_rate = standardize_pair(dilation_rate, "dilation_rate")
    padding = standardize_padding(padding)
    data_format = standardize_data_format(data_format)
    groups = standardize_positive_int(groups, "groups")
    x = np.asarray(x)
    kernel = np.asarray(kernel)
    if data_format == "channels_first" and x.ndim == 4:
        x = x.transpose(0, 2, 3, 1)
    _check_shapes(x, kernel, groups)
    kernel_size = kernel.shape[:2]
    output_size = conv_output_spatial_shape(
        x.shape[1:3], kernel_size, strides, padding, dilation_rate)
    pads = padding_amounts(x.shape[1:3], kernel_size, strides, padding, dilation_rate)
    x_padded = pad_spatial(x, pads, "channels_last")
    cols = im2col(x_padded, kernel_size, strides, dilation_rate, output_size, groups)

    y = columns_times_kernel(cols, kernel)
    if data_format == "channels_first":
        y = y.transpose(0, 3, 1, 2)
    if not return_cache:
        return y
    cache = ConvCache(cols, kernel, x_padded.shape, pads, strides, dilation_rate, groups,
                      data_format)
    return y, cache


def kernel_gradient(cols, grad_output, kernel_shape, groups=1):
    """d(loss)/d(kernel) for y = conv2d(x, kernel): cols^T @ d(y), one product per group.

    Args:
        cols: im2col's columns of the padded input, (batch, out_h, out_w, groups, kh, kw,
            channels // groups).
        grad_output: d(loss)/d(y), channels_last, (batch, out_h, out_w, filters).
        kernel_shape: (kh, kw, channels // groups, filters).

    Returns:
        (kh, kw, channels // groups, filters): entry [a, b, c, f] sums, over every example and
        output pixel, the input value tap (a, b, c) saw times d(y) of filter f there.

    Hint: with groups=1 flatten cols to (rows, kh*kw*channels) and d(y) to (rows, filters);
    filter f of group g (f // (filters // groups) == g) only saw group g's columns.
    """
    ### BEGIN SOLUTION
    rows = cols.shape[0] * cols.shape[1] * cols.shape[2]
    dy = grad_output.reshape(rows, groups, -1)
    if groups == 1:
        grad = cols.reshape(rows, -1).T @ dy.reshape(rows, -1)
    else:
        per_group = np.matmul(cols.reshape(rows, groups, -1).transpose(1, 2, 0),
                              dy.transpose(1, 0, 2))            # (groups, K, F/groups)
        grad = per_group.transpose(1, 0, 2)
    return grad.reshape(kernel_shape)
    ### END SOLUTION


def input_gradient(grad_output, kernel, padded_shape, pads, strides, dilation_rate, groups=1):
    """d(loss)/d(x) as a convolution (channels_last): the transposed convolution.

    Pixel p of the padded input fed output pixel i through tap a when p = i*s + a*d. So
    spread d(y) by the stride (s-1 zeros between pixels), pad it with span-1 zeros on each
    side, and correlate it with the kernel flipped in space, its input and output channels
    swapped (within each group), at the same dilation. Rows no window reached get zero.
    Finally crop the padding: the gradient of the padded pixels is thrown away.

    Args:
        grad_output: d(loss)/d(y), (batch, out_h, out_w, filters), channels_last.
        kernel: (kh, kw, channels // groups, filters).
        padded_shape: (batch, Hp, Wp, channels), the padded input's shape.
        pads: ((top, bottom), (left, right)), the padding the forward pass added.
        strides, dilation_rate: (h, w) pairs.

    Returns:
        (batch, Hp - top - bottom, Wp - left - right, channels): d(loss)/d(x).

    Hint: `conv2d(full, flipped, 1, "valid", dilation_rate, groups)` does the correlation;
    the work is building `full` (zeros between and around d(y)) and `flipped`. When the
    stride skipped the last rows of the padded input, the correlation comes out short:
    those rows get zero.
    """
    ### BEGIN SOLUTION
    batch, oh, ow, filters = grad_output.shape
    kh, kw, group_channels, _ = kernel.shape
    (sh, sw), (dh, dw) = strides, dilation_rate
    if (sh, sw) != (1, 1):
        spread = np.zeros((batch, (oh - 1) * sh + 1, (ow - 1) * sw + 1, filters),
                          grad_output.dtype)
        spread[:, ::sh, ::sw, :] = grad_output
    else:
        spread = grad_output
    span_h, span_w = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    full = np.pad(spread, ((0, 0), (span_h - 1, span_h - 1), (span_w - 1, span_w - 1), (0, 0)))
    group_filters = filters // groups
    flipped = (kernel[::-1, ::-1]
               .reshape(kh, kw, group_channels, groups, group_filters)
               .transpose(0, 1, 4, 3, 2)
               .reshape(kh, kw, group_filters, groups * group_channels))
    reached = conv2d(full, flipped, 1, "valid", dilation_rate, groups)
    (top, bottom), (left, right) = pads
    height, width = padded_shape[1] - bottom, padded_shape[2] - right
    grad_x = np.zeros((batch, height - top, width - left, padded_shape[3]), grad_output.dtype)
    rows, columns = min(height, reached.shape[1]), min(width, reached.shape[2])
    grad_x[:, :rows - top, :columns - left, :] = reached[:, top:rows, left:columns, :]
    return grad_x
    ### END SOLUTION


def conv2d_backward(grad_output, cache):
    """Gradients of sum(grad_output * conv2d(x, kernel)) with respect to x and kernel.

    The kernel gradient reuses the forward pass's columns; the input gradient is a
    convolution of its own (input_gradient). col2im computes the same thing as
    col2im(grad_output @ kernel^T), slower: see tests/test_core.py.

    Returns:
        (grad_x, grad_kernel) with the shapes of x (in its data_format) and kernel.
    """
    if cache.data_format == "channels_first":
        grad_output = grad_output.transpose(0, 2, 3, 1)
    grad_output = np.ascontiguousarray(grad_output, dtype=cache.cols.dtype)
    grad_kernel = kernel_gradient(cache.cols, grad_output, cache.kernel.shape, cache.groups)
    grad_x = input_gradient(grad_output, cache.kernel, cache.padded_shape, cache.pads,
                            cache.strides, cache.dilation_rate, cache.groups)
    if cache.data_format == "channels_first":
        grad_x = np.ascontiguousarray(grad_x.transpose(0, 3, 1, 2))
    return grad_x, grad_kernel
