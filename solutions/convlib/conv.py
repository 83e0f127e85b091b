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


def im2col(x_padded, kernel_size, strides, dilation_rate, output_size, groups=1):
    """Gather, for every output pixel, the input values under every kernel tap.

    Args:
        x_padded: (batch, Hp, Wp, channels), already padded, channels_last.
        kernel_size, strides, dilation_rate, output_size: (h, w) pairs.
        groups: the channels are split into this many consecutive groups.

    Returns:
        cols: (batch, out_h, out_w, groups, kh, kw, channels // groups) with
        cols[n, i, j, g, a, b, c] = x_padded[n, i*sh + a*dh, j*sw + b*dw, g*cg + c].

    Hint: loop over the kh*kw taps only; for tap (a, b) the slice
    x_padded[:, a*dh : a*dh + (out_h-1)*sh + 1 : sh, b*dw : ... : sw, :] has the
    shape (batch, out_h, out_w, channels) of one (a, b) column block. (Faster: one
    np.lib.stride_tricks.sliding_window_view of the padded input, sliced with the strides
    and dilation, transposed and copied once.)
    """
    ### BEGIN SOLUTION
    batch, _, _, channels = x_padded.shape
    (kh, kw), (sh, sw), (dh, dw), (oh, ow) = kernel_size, strides, dilation_rate, output_size
    span_h, span_w = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    # A view (batch, Hp-span_h+1, Wp-span_w+1, channels, span_h, span_w): every window.
    windows = sliding_window_view(x_padded, (span_h, span_w), axis=(1, 2))
    windows = windows[:, :(oh - 1) * sh + 1:sh, :(ow - 1) * sw + 1:sw, :, ::dh, ::dw]
    windows = windows.reshape(batch, oh, ow, groups, channels // groups, kh, kw)
    # One copy, in the order the kernel is flattened: (tap row, tap column, channel).
    return np.ascontiguousarray(windows.transpose(0, 1, 2, 3, 5, 6, 4))
    ### END SOLUTION


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


def _grouped_matmul(left, right, groups):
    """(M, groups, K) x (K, groups, F') -> (M, groups, F'), one product per group."""
    if groups == 1:
        # reshape, not [:, 0, :]: numpy's matmul takes a much slower path on such views.
        return (left.reshape(left.shape[0], -1) @ right.reshape(right.shape[0], -1))[:, None, :]
    return np.matmul(left.transpose(1, 0, 2), right.transpose(1, 0, 2)).transpose(1, 0, 2)


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

    batch, filters = x.shape[0], kernel.shape[-1]
    rows = batch * output_size[0] * output_size[1]
    weights = kernel.reshape(-1, groups, filters // groups)
    y = _grouped_matmul(cols.reshape(rows, groups, -1), weights, groups)
    y = y.reshape(batch, output_size[0], output_size[1], filters)
    if data_format == "channels_first":
        y = y.transpose(0, 3, 1, 2)
    if not return_cache:
        return y
    cache = ConvCache(cols, kernel, x_padded.shape, pads, strides, dilation_rate, groups,
                      data_format)
    return y, cache


def kernel_gradient(cols, grad_output, kernel_shape, groups=1):
    """d(loss)/d(kernel) = cols^T @ d(y), one product per group (channels_last dy)."""
    rows = cols.shape[0] * cols.shape[1] * cols.shape[2]
    dy = grad_output.reshape(rows, groups, -1)
    if groups == 1:
        grad = cols.reshape(rows, -1).T @ dy.reshape(rows, -1)
    else:
        per_group = np.matmul(cols.reshape(rows, groups, -1).transpose(1, 2, 0),
                              dy.transpose(1, 0, 2))            # (groups, K, F/groups)
        grad = per_group.transpose(1, 0, 2)
    return grad.reshape(kernel_shape)


def input_gradient(grad_output, kernel, padded_shape, pads, strides, dilation_rate, groups=1):
    """d(loss)/d(x) as a convolution (channels_last): the transposed convolution.

    Pixel p of the padded input fed output pixel i through tap a when p = i*s + a*d. So
    spread d(y) by the stride (s-1 zeros between pixels), pad it with span-1 zeros on each
    side, and correlate it with the kernel flipped in space, its input and output channels
    swapped (within each group), at the same dilation. Rows no window reached get zero.
    """
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
