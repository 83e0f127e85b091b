"""One training step: plain SGD, then the constraints, as Keras's optimizer does.

Keras applies a weight's constraint right after each update (never at initialisation):
    kernel <- kernel_constraint(kernel - learning_rate * grad_kernel)
"""
import math

import numpy as np


class SGD:
    def __init__(self, learning_rate=0.01):
        if (not isinstance(learning_rate, (int, float)) or isinstance(learning_rate, bool)
                or not math.isfinite(learning_rate) or learning_rate <= 0):
            raise ValueError("`learning_rate` must be a positive finite number. "
                             f"Received: learning_rate={learning_rate!r}")
        self.learning_rate = float(learning_rate)

    def apply_gradients(self, layer, grads):
        """Update layer.kernel (and layer.bias) in place from layer.backward(...)'s dict."""
        lr = np.float32(self.learning_rate)
        # YOUR CODE HERE
        raise NotImplementedError()

    def get_config(self):
        return {"learning_rate": self.learning_rate}
