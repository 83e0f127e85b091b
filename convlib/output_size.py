"""How big is the output? Chapter 01 (strides, 卷积步长), exercise 1.1.

A window of `kernel_size` taps, spaced `dilation_rate` apart, spans
`dilation_rate * (kernel_size - 1) + 1` input pixels. It starts at 0 and moves `stride`
pixels at a time:

* `padding="valid"`: only windows that fit: out = floor((n - span) / stride) + 1.
* `padding="same"`: out = ceil(n / stride), whatever the kernel: the input is padded
  just enough for that (see padding.py).
"""
from .arguments import standardize_padding


def effective_kernel_size(kernel_size, dilation_rate=1):
    """Number of input pixels one dilated window spans along one axis."""
    return dilation_rate * (kernel_size - 1) + 1


def output_length(input_length, kernel_size, stride=1, padding="valid", dilation_rate=1):
    """Length of the output along one spatial axis (exercise 1.1; dilation: chapter 03).

    Args:
        input_length: n, pixels along this axis of the input (a positive int).
        kernel_size: k, taps of the kernel along this axis.
        stride: s, step between consecutive windows: window w starts at pixel w*s.
        padding: "valid" or "same" (any case).
        dilation_rate: d, spacing between taps; a window spans d*(k-1)+1 pixels (d = 1 in
            chapter 01, so the span is k).

    Returns:
        int. valid: floor((n - (d*(k-1)+1)) / s) + 1, the windows that fit;
        same: ceil(n / s), whatever the kernel.
        For "valid" the result can be <= 0 when the window does not fit; the caller decides
        what to do about that.

    Example: output_length(7, 3, 2, "valid") == 3 (windows at 0, 2, 4);
    output_length(7, 3, 2, "same") == 4.

    Hint: integer division `//` floors; ceil(a / b) == (a + b - 1) // b for positive ints.
    """
    padding = standardize_padding(padding)
    # YOUR CODE HERE
    raise NotImplementedError()


def conv_output_spatial_shape(spatial_shape, kernel_size, strides, padding, dilation_rate):
    """(height, width) of the output; ValueError when a "valid" window does not fit."""
    out = tuple(
        output_length(n, k, s, padding, d)
        for n, k, s, d in zip(spatial_shape, kernel_size, strides, dilation_rate)
    )
    if min(out) <= 0:
        raise ValueError(
            "Computed output size would be zero or negative: the dilated kernel "
            f"(kernel_size={tuple(kernel_size)}, dilation_rate={tuple(dilation_rate)}) does "
            f"not fit in the input's spatial shape {tuple(spatial_shape)} with "
            f"padding={padding!r} and strides={tuple(strides)}; output would be {out}."
        )
    return out
