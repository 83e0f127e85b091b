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
    """Insert zeros between the spatial taps of a kernel.

    Args:
        kernel: (kh, kw, in_channels, filters).
        dilation_rate: int or (dh, dw).

    Returns:
        (dh*(kh-1)+1, dw*(kw-1)+1, in_channels, filters); original taps at multiples of
        (dh, dw), zeros elsewhere.

    Hint: allocate zeros of the new shape, then assign the kernel to a strided slice.
    """
    kernel = np.asarray(kernel)
    dh, dw = standardize_pair(dilation_rate, "dilation_rate")
    ### BEGIN SOLUTION
    kh, kw = kernel.shape[:2]
    out = np.zeros((dh * (kh - 1) + 1, dw * (kw - 1) + 1) + kernel.shape[2:], kernel.dtype)
    out[::dh, ::dw] = kernel
    return out
    ### END SOLUTION


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
    ### BEGIN SOLUTION
    if data_format == "channels_first":
        return y[:, :, ::sh, ::sw]
    return y[:, ::sh, ::sw, :]
    ### END SOLUTION
