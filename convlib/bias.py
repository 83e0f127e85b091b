"""The bias: one number per filter, added to every output pixel. Chapter 05 (use_bias, 偏置项).

y[n, i, j, f] = conv[n, i, j, f] + bias[f]. The bias is an affine shift: it lets a filter
respond when its input is zero, but by itself it adds no non-linearity; that comes from
the activation applied afterwards. Its gradient sums the upstream gradient over every
position the bias was added to.
"""
import numpy as np

from .arguments import standardize_data_format


def add_bias(y, bias, data_format="channels_last"):
    """Add one bias per output channel.

    Args:
        y: (batch, out_h, out_w, filters) or, channels_first, (batch, filters, out_h, out_w).
        bias: (filters,).

    Returns:
        Same shape as y.

    Hint: reshape the bias so that numpy broadcasting lines it up with the channel axis.
    """
    data_format = standardize_data_format(data_format)
    # YOUR CODE HERE
    raise NotImplementedError()


def bias_gradient(grad_output, data_format="channels_last"):
    """d(loss)/d(bias) from d(loss)/d(y): sum over batch and spatial axes -> (filters,).

    Hint: which axes did broadcasting repeat the bias over?
    """
    data_format = standardize_data_format(data_format)
    # YOUR CODE HERE
    raise NotImplementedError()
