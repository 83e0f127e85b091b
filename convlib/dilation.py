"""Dilation: spreading the kernel's taps apart. Chapter 03 (dilation_rate, 膨胀率); and
`subsample`, the strided sampling of chapter 01 (strides, 卷积步长), which 03 reuses.

With dilation_rate d, consecutive taps of the kernel are d pixels apart, so a k-tap kernel
spans d*(k-1)+1 pixels while keeping k weights. A dilated convolution equals an ordinary
one with the "holey" kernel that has d-1 zeros inserted between taps.

Keras's layer refuses strides > 1 together with dilation_rate > 1 (even on different axes)
because TensorFlow's op does not implement the combination, not because it is ill-defined:
it equals the stride-1 dilated convolution of the same padded input, subsampled with the
stride. convlib computes it when asked explicitly (Conv2D(..., allow_strides_with_dilation=True)).
"""
import numpy as np

from .arguments import standardize_pair


def dilate_kernel(kernel, dilation_rate):
    """Insert zeros between the spatial taps of a kernel (exercise 3.1).

    A dilated convolution with dilation_rate (dh, dw) reads taps dh rows and dw columns
    apart; it equals the ordinary convolution with this "holey" kernel: dh-1 zero rows between
    consecutive rows of taps, dw-1 zero columns between columns, none after the last tap.

    Args:
        kernel: (kh, kw, in_channels, filters).
        dilation_rate: int or (dh, dw).

    Returns:
        (dh*(kh-1)+1, dw*(kw-1)+1, in_channels, filters), the kernel's dtype; tap [i, j] of
        the kernel at [i*dh, j*dw], zeros elsewhere. The channel axes are not touched.

    Example: a (3, 3) kernel with dilation_rate 2 becomes (5, 5), taps at rows and columns
    0, 2, 4.

    Hint: allocate zeros of the new shape, then assign the kernel to a strided slice.
    """
    kernel = np.asarray(kernel)
    dh, dw = standardize_pair(dilation_rate, "dilation_rate")
    # YOUR CODE HERE
    raise NotImplementedError()


def subsample(y, strides, data_format="channels_last"):
    """Keep every stride-th output pixel: turns a stride-1 result into a strided one
    (exercise 1.2).

    A strided convolution computes the windows that start at rows 0, sh, 2*sh, ... and
    columns 0, sw, 2*sw, ...; those are outputs 0, sh, 2*sh, ... of the stride-1
    convolution of the same (padded) input, so out[n, i, j, f] = y[n, i*sh, j*sw, f].

    Args:
        y: a stride-1 result, (batch, height, width, filters) for "channels_last",
            (batch, filters, height, width) for "channels_first".
        strides: int or (sh, sw).
        data_format: "channels_last" or "channels_first".

    Returns:
        (batch, ceil(height/sh), ceil(width/sw), filters) for "channels_last" (the filters
        axis second for "channels_first"); the batch and filter axes untouched.

    Hint: one slice per axis; a slice `start:stop:step` with no stop keeps the last
    window even when the stride does not divide the length.
    """
    sh, sw = standardize_pair(strides, "strides")
    # YOUR CODE HERE
    raise NotImplementedError()


def strided_dilated_conv2d(x, kernel, strides, dilation_rate):
    """Strides and dilation together, padding "valid", channels_last (exercise 3.3): the
    combination keras.layers.Conv2D refuses, built from your pieces.

    A convolution with stride s and dilation d is the stride-1 convolution with dilation d,
    every s-th output kept; and the stride-1 dilated convolution is the ordinary one with the
    dilated kernel.

    Args:
        x: (batch, height, width, in_channels).
        kernel: (kh, kw, in_channels, filters).
        strides: int or (sh, sw).
        dilation_rate: int or (dh, dw).

    Returns:
        (batch, out_h, out_w, filters) with out_h = floor((height - (dh*(kh-1)+1)) / sh) + 1
        (and the same for the width): Keras's keras.ops.depthwise_conv computes the same.

    Hint: three calls, one to each piece you wrote: dilate_kernel (exercise 3.1),
    conv2d_valid (chapter 00) and subsample (exercise 1.2).
    """
    from .correlate import conv2d_valid     # your chapter-00 function

    x = np.asarray(x)
    kernel = np.asarray(kernel)
    # YOUR CODE HERE
    raise NotImplementedError()
