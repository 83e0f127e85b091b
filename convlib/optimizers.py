"""One training step: plain SGD, then the constraints, as Keras's optimizer does.

Keras applies a weight's constraint right after each update (never at initialisation):
    kernel <- kernel_constraint(kernel - learning_rate * grad_kernel)

`sgd_step` is that step on one weight array; `SGD.apply_gradients` runs it on a layer's
kernel and bias. `ClipWeights` (given) is a constraint of another kind than the four of
convlib/constraints.py, elementwise: chapter 12's check steps with it too, so that the step
is graded even while a constraint of chapter 11 is unfinished.
"""
import math

import numpy as np

__all__ = ["sgd_step", "SGD", "ClipWeights"]


def sgd_step(weight, grad, learning_rate, constraint=None):
    """Return the weight after one SGD step, with the constraint applied after the update.

    weight, grad: float32 arrays of the same shape; learning_rate: a positive float;
    constraint: None or a callable (a convlib constraint) that maps an array to an array.
        new = weight - learning_rate * grad
        new = constraint(new)          (only when a constraint is given)
    Returns a new float32 array of the weight's shape; `weight` itself is not modified.

    Hint: the constraint sees the *updated* weight, and nothing else: not the gradient, not
    the old weight.
    """
    weight = np.asarray(weight, dtype=np.float32)
    grad = np.asarray(grad, dtype=np.float32)
    if grad.shape != weight.shape:
        raise ValueError(f"`grad` must have the weight's shape {weight.shape}; "
                         f"received grad of shape {grad.shape}")
    lr = np.float32(learning_rate)
    # YOUR CODE HERE
    raise NotImplementedError()


class ClipWeights:
    """A given constraint: clip every weight into [min_value, max_value] (elementwise).

    Keras takes any callable as a constraint (`variable.constraint = fn`); this one is
    `keras.ops.clip(w, min_value, max_value)`. Unlike MaxNorm it looks at each weight alone.
    """

    def __init__(self, min_value, max_value):
        if not (isinstance(min_value, (int, float)) and isinstance(max_value, (int, float))
                and math.isfinite(min_value) and math.isfinite(max_value)
                and min_value <= max_value):
            raise ValueError("`min_value` and `max_value` must be finite numbers with "
                             f"min_value <= max_value; received min_value={min_value!r}, "
                             f"max_value={max_value!r}")
        self.min_value, self.max_value = float(min_value), float(max_value)

    def __call__(self, w):
        w = np.asarray(w, dtype=np.float32)
        return np.clip(w, np.float32(self.min_value), np.float32(self.max_value))

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value}


class SGD:
    """Plain stochastic gradient descent: w <- constraint(w - learning_rate * grad)."""

    def __init__(self, learning_rate=0.01):
        if (not isinstance(learning_rate, (int, float)) or isinstance(learning_rate, bool)
                or not math.isfinite(learning_rate) or learning_rate <= 0):
            raise ValueError("`learning_rate` must be a positive finite number. "
                             f"Received: learning_rate={learning_rate!r}")
        self.learning_rate = float(learning_rate)

    def apply_gradients(self, layer, grads):
        """Update layer.kernel (and layer.bias) in place from layer.backward(...)'s dict."""
        layer.kernel = sgd_step(layer.kernel, grads["kernel"], self.learning_rate,
                                layer.kernel_constraint)
        if layer.use_bias:
            layer.bias = sgd_step(layer.bias, grads["bias"], self.learning_rate,
                                  layer.bias_constraint)

    def get_config(self):
        return {"learning_rate": self.learning_rate}
