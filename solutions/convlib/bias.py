"""The bias: one number per filter, added to every output pixel. Chapter 05 (use_bias, 偏置项).

y[n, i, j, f] = conv[n, i, j, f] + bias[f]. The bias is an affine shift: it lets a filter
respond when its input is zero, but by itself it adds no non-linearity; that comes from
the activation applied afterwards. Its gradient sums the upstream gradient over every
position the bias was added to.
"""
import numpy as np

from .arguments import standardize_data_format


def add_bias(y, bias, data_format="channels_last"):
    """Add one bias per output channel: y[n, i, j, f] + bias[f] for channels_last,
    y[n, f, i, j] + bias[f] for channels_first.

    Args:
        y: (batch, out_h, out_w, filters) or, channels_first, (batch, filters, out_h, out_w).
        bias: (filters,).

    Returns:
        Same shape as y.

    Hint: reshape the bias so that numpy broadcasting lines it up with the channel axis.
    """
    data_format = standardize_data_format(data_format)
    ### BEGIN SOLUTION
    bias = np.asarray(bias, dtype=y.dtype)
    if data_format == "channels_first":
        return y + bias.reshape(1, -1, 1, 1)
    return y + bias
    ### END SOLUTION


def bias_gradient(grad_output, data_format="channels_last"):
    """d(loss)/d(bias) from d(loss)/d(y): sum over batch and spatial axes -> (filters,).

    Hint: which axes did broadcasting repeat the bias over?
    """
    data_format = standardize_data_format(data_format)
    ### BEGIN SOLUTION
    axes = (0, 2, 3) if data_format == "channels_first" else (0, 1, 2)
    return np.sum(grad_output, axis=axes)
    ### END SOLUTION


def add_bias_and_activate(z, bias, activation=None, data_format="channels_last"):
    """The last two steps of Conv2D: activation(z + bias), in that order.

    Args:
        z: the convolution's output, (batch, out_h, out_w, filters) or, channels_first,
            (batch, filters, out_h, out_w).
        bias: (filters,), or None for use_bias=False.
        activation: anything `activations.get` accepts (None, a name such as "relu", ...).

    Returns:
        Same shape as z. Keras applies softmax over the LAST axis whatever the data format
        (for channels_first that is the width, not the filters), and so must you.

    Hint: `add_bias`, then `activations.get(activation)` called with its default arguments.
    """
    ### BEGIN SOLUTION
    from .activations import get

    y = z if bias is None else add_bias(z, bias, data_format)
    return get(activation)(y)
    ### END SOLUTION


def compose_linear_convs(kernel1, bias1, kernel2, bias2):
    """One Conv2D equal to two stacked linear ones (no activation, padding "valid", stride 1).

    conv(conv(x, kernel1) + bias1, kernel2) + bias2 == conv(x, kernel) + bias, with

        kernel[u, v, c, f] = sum over p, q, g of kernel1[u-p, v-q, c, g] * kernel2[p, q, g, f]
        bias[f] = bias2[f] + sum over p, q, g of kernel2[p, q, g, f] * bias1[g]

    Args:
        kernel1: (kh1, kw1, in_channels, mid); bias1: (mid,).
        kernel2: (kh2, kw2, mid, filters); bias2: (filters,).

    Returns:
        (kernel, bias): kernel (kh1 + kh2 - 1, kw1 + kw2 - 1, in_channels, filters),
        bias (filters,).

    Hint: output pixel (i, j) of the second conv reads the first conv's outputs
    (i + p, j + q); each of those reads the input window that starts there. So tap (p, q)
    of kernel2 adds kernel1, mixed by kernel2[p, q] over the middle channels, into the
    merged kernel at offset (p, q).
    """
    ### BEGIN SOLUTION
    kernel1, kernel2 = np.asarray(kernel1), np.asarray(kernel2)
    kh1, kw1, in_channels, _ = kernel1.shape
    kh2, kw2, _, filters = kernel2.shape
    dtype = np.result_type(kernel1, kernel2)
    kernel = np.zeros((kh1 + kh2 - 1, kw1 + kw2 - 1, in_channels, filters), dtype)
    for p in range(kh2):
        for q in range(kw2):
            kernel[p:p + kh1, q:q + kw1] += np.einsum("abcg,gf->abcf", kernel1, kernel2[p, q])
    bias = np.asarray(bias2) + np.einsum("pqgf,g->f", kernel2, np.asarray(bias1))
    return kernel, bias.astype(dtype)
    ### END SOLUTION
