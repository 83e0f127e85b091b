"""What Conv2D computes. Chapter 00.

Despite its name, Conv2D computes a *cross-correlation*: the kernel is slid over the image
without being flipped, and at every position the products of kernel taps and the pixels
under them are summed over the window AND over all input channels:

    y[n, i, j, f] = sum_{a, b, c} x[n, i + a, j + b, c] * kernel[a, b, c, f]

These are the slow, readable versions (one Python loop per output pixel). The finished
layer uses the vectorised path in conv.py, and the tests prove the two agree.
"""
import numpy as np


def correlate2d(image, kernel):
    """Cross-correlate one multi-channel image with one filter ("valid", stride 1).

    Args:
        image: (height, width, channels).
        kernel: (kh, kw, channels), one filter.

    Returns:
        (height - kh + 1, width - kw + 1): out[i, j] = sum(image[i:i+kh, j:j+kw, :] * kernel).

    Hint: two loops over output positions; the window sum is one numpy expression.
    """
    image = np.asarray(image)
    kernel = np.asarray(kernel)
    # YOUR CODE HERE
    raise NotImplementedError()


def conv2d_valid(x, kernel):
    """A batch of images against all filters: Conv2D with padding="valid", stride 1.

    Args:
        x: (batch, height, width, in_channels).
        kernel: (kh, kw, in_channels, filters), Keras's kernel layout.

    Returns:
        (batch, height - kh + 1, width - kw + 1, filters).

    Hint: for each output position take the window x[:, i:i+kh, j:j+kw, :] and contract
    its last three axes with the kernel's first three (np.tensordot or np.einsum).
    """
    x = np.asarray(x)
    kernel = np.asarray(kernel)
    # YOUR CODE HERE
    raise NotImplementedError()
