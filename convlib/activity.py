"""The activity penalty: a regularizer applied to what the layer outputs, not to its weights.

`Conv2D(..., activity_regularizer=r)` adds r(y) to the training loss, where y is the layer's
output *after* the activation, averaged over the batch: Keras 3.14 and later divide the
penalty by the batch size (y.shape[0]); earlier Keras 3 releases added the plain sum.
"""
import numpy as np

from .regularizers import penalty_gradient

__all__ = ["activity_penalty", "activity_penalty_gradient"]


def _batch_size(outputs, function):
    outputs = np.asarray(outputs)
    if outputs.ndim < 1:
        raise ValueError(f"`{function}` needs the layer's outputs with the batch first, "
                         f"shape (batch, ...); received a scalar")
    return outputs, outputs.shape[0]


def activity_penalty(regularizer, outputs):
    """Return the activity penalty Keras adds to the loss for one call of the layer.

    regularizer: a callable, regularizer(array) -> float (a convlib regularizer);
    outputs: the layer's activated outputs, shape (batch, ...), batch first in either
    data format.
        penalty = regularizer(outputs) / batch        (0.0 for an empty batch)
    Returns a python float.

    Hint: the regularizer sums over the whole batch; the division turns that sum into a
    per-example average, so the penalty's weight does not change with the batch size.
    """
    outputs, batch = _batch_size(outputs, "activity_penalty")
    # YOUR CODE HERE
    raise NotImplementedError()


def activity_penalty_gradient(regularizer, outputs):
    """Return d activity_penalty(regularizer, outputs) / d outputs, an array of outputs' shape.

    Use `penalty_gradient(regularizer, outputs)` (already imported: the regularizer's own
    gradient, d regularizer(outputs) / d outputs) and divide it as the penalty is divided.
    Returns a float32 array shaped like `outputs` (zeros for an empty batch).
    """
    outputs, batch = _batch_size(outputs, "activity_penalty_gradient")
    # YOUR CODE HERE
    raise NotImplementedError()
