"""convlib: keras.layers.Conv2D rebuilt in numpy, one module per argument.

    from convlib import Conv2D
    layer = Conv2D(8, 3, padding="same", activation="relu")
    y = layer(x)                      # x: (batch, height, width, channels), builds on first call
    grads = layer.backward(dy)        # {"input", "kernel", "bias"}, penalties included
"""
from . import (activations, activity, arguments, bias, constraints, conv, correlate, dilation,
               gradcheck, groups, initializers, network, optimizers, output_size, padding,
               regularizers)
from .layer import Conv2D
from .optimizers import SGD

__all__ = ["Conv2D", "SGD", "activations", "activity", "arguments", "bias", "constraints",
           "conv", "correlate", "dilation", "gradcheck", "groups", "initializers", "network",
           "optimizers", "output_size", "padding", "regularizers"]
