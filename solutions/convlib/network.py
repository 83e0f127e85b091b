"""A small classifier around your Conv2D, and one training step (chapter 16).

Given here (not exercises): the head of the network, built as Keras builds it,

    GlobalAveragePooling2D()   (batch, h, w, c) -> (batch, c), the mean over h and w
    Flatten()                  (batch, h, w, c) -> (batch, h*w*c)
    Dense(units)               (batch, n) -> (batch, units): x @ kernel + bias

and the loss, `softmax_cross_entropy_per_example(logits, labels)`, which gives each example's
loss and that loss's gradient with respect to the example's logits (no batch reduction).

Every layer here speaks the language of convlib.Conv2D: calling it runs the forward pass and
remembers what the backward pass needs; `backward(grad_output)` returns a dict with "input"
and, for a layer with weights, "kernel" and "bias" (penalties included); `losses` lists the
layer's penalties; `weights` is empty for a layer without weights. So `convlib.SGD(lr)
.apply_gradients(layer, grads)` updates a Dense exactly as it updates a Conv2D.

The exercise is `train_step(layers, x, labels, optimizer)`: one step of what Keras's
`model.train_on_batch(x, labels)` does for a Sequential model compiled with
`keras.optimizers.SGD` and `SparseCategoricalCrossentropy(from_logits=True)`.
"""
import numpy as np

from . import constraints, initializers, regularizers
from .layer import KernelAndBias

__all__ = ["GlobalAveragePooling2D", "Flatten", "Dense", "softmax_cross_entropy_per_example",
           "train_step"]

FLOATX = np.float32


def _as_batch(x, rank, what):
    x = np.asarray(x, dtype=FLOATX)
    if x.ndim != rank:
        raise ValueError(f"{what} expects a {rank}-D input; received shape {x.shape}.")
    return x


class GlobalAveragePooling2D:
    """The mean of every channel over the image: (batch, h, w, c) -> (batch, c)."""

    weights = ()
    losses = ()

    def __init__(self):
        self._input_shape = None

    def __call__(self, x):
        x = _as_batch(x, 4, "GlobalAveragePooling2D")
        self._input_shape = x.shape
        return x.mean(axis=(1, 2), dtype=FLOATX)

    def backward(self, grad_output):
        if self._input_shape is None:
            raise ValueError("Call the layer on an input before asking for its gradients.")
        batch, height, width, channels = self._input_shape
        grad_output = np.asarray(grad_output, dtype=FLOATX).reshape(batch, 1, 1, channels)
        # every pixel contributed 1/(h*w) of its channel's mean
        grad_input = np.broadcast_to(grad_output / FLOATX(height * width), self._input_shape)
        return {"input": np.ascontiguousarray(grad_input)}


class Flatten:
    """(batch, ...) -> (batch, everything else), in numpy's (= Keras's channels_last) order."""

    weights = ()
    losses = ()

    def __init__(self):
        self._input_shape = None

    def __call__(self, x):
        x = np.asarray(x, dtype=FLOATX)
        self._input_shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, grad_output):
        if self._input_shape is None:
            raise ValueError("Call the layer on an input before asking for its gradients.")
        return {"input": np.asarray(grad_output, dtype=FLOATX).reshape(self._input_shape)}


class Dense(KernelAndBias):
    """keras.layers.Dense without activation: y = x @ kernel + bias, kernel (n_in, units)."""

    def __init__(self, units, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, name=None):
        if isinstance(units, bool) or not isinstance(units, (int, np.integer)) or units <= 0:
            raise ValueError(f"`units` must be a positive int. Received: units={units!r}")
        self.units = int(units)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.name = name or "dense"
        self.built = False
        self.kernel = None
        self.bias = None
        self._input = None

    def build(self, input_shape):
        n_in = int(input_shape[-1])
        self.kernel = self._initial_value(self.kernel_initializer, (n_in, self.units), "kernel")
        if self.use_bias:
            self.bias = self._initial_value(self.bias_initializer, (self.units,), "bias")
        self.built = True

    def __call__(self, x):
        x = _as_batch(x, 2, "Dense")
        if not self.built:
            self.build(x.shape)
        if x.shape[1] != self.kernel.shape[0]:
            raise ValueError(f"This Dense layer was built for {self.kernel.shape[0]} input "
                             f"features; received an input of shape {x.shape}.")
        self._input = x
        y = x @ self.kernel
        return y + self.bias if self.use_bias else y

    @property
    def losses(self):
        losses = []
        if self.built and self.kernel_regularizer is not None:
            losses.append(float(self.kernel_regularizer(self.kernel)))
        if self.built and self.use_bias and self.bias_regularizer is not None:
            losses.append(float(self.bias_regularizer(self.bias)))
        return losses

    def backward(self, grad_output):
        """Gradients of sum(grad_output * y) + sum(self.losses)."""
        if self._input is None:
            raise ValueError("Call the layer on an input before asking for its gradients.")
        grad_output = np.asarray(grad_output, dtype=FLOATX)
        grad_kernel = self._input.T @ grad_output
        if self.kernel_regularizer is not None:
            grad_kernel = grad_kernel + regularizers.penalty_gradient(self.kernel_regularizer,
                                                                      self.kernel)
        grad_bias = None
        if self.use_bias:
            grad_bias = grad_output.sum(axis=0)
            if self.bias_regularizer is not None:
                grad_bias = grad_bias + regularizers.penalty_gradient(self.bias_regularizer,
                                                                      self.bias)
        return {"input": grad_output @ self.kernel.T, "kernel": grad_kernel, "bias": grad_bias}

def softmax_cross_entropy_per_example(logits, labels):
    """Each example's loss -log softmax(logits)[label], and its gradient.

    logits: (batch, classes) floats; labels: (batch,) ints in [0, classes).
    Returns (losses, grad_logits): losses (batch,), and grad_logits (batch, classes) whose row
    i is the gradient of losses[i] alone with respect to logits[i]: softmax(logits[i]) -
    one_hot(labels[i]). Nothing is averaged or summed over the batch here.
    """
    logits = _as_batch(logits, 2, "softmax_cross_entropy_per_example")
    labels = np.asarray(labels)
    if labels.shape != logits.shape[:1] or labels.dtype.kind not in "iu":
        raise ValueError(f"`labels` must be {logits.shape[0]} ints, one per example; received "
                         f"{labels.dtype} array of shape {labels.shape}.")
    if labels.size and (labels.min() < 0 or labels.max() >= logits.shape[1]):
        raise ValueError(f"labels must lie in [0, {logits.shape[1]}); received values from "
                         f"{labels.min()} to {labels.max()}.")
    shifted = logits - logits.max(axis=1, keepdims=True)   # exp never overflows
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    rows = np.arange(len(labels))
    losses = -log_probs[rows, labels]
    grad_logits = np.exp(log_probs)
    grad_logits[rows, labels] -= 1
    return losses.astype(FLOATX), grad_logits.astype(FLOATX)


def train_step(layers, x, labels, optimizer):
    """One step of plain SGD on the whole network, as Keras's train_on_batch does it.

    layers: the network, a list of layer objects applied in order (e.g. Conv2D, Conv2D,
        GlobalAveragePooling2D, Dense); the last one returns the logits (batch, classes).
    x: the input batch; labels: (batch,) ints; optimizer: a convlib.SGD.
    Returns the training loss of this batch as a float, computed with the weights the step
    started from:
        loss = mean over the batch of each example's cross-entropy
               + the sum of every layer's `losses` (its penalties)
    and leaves every layer's weights updated by `optimizer.apply_gradients(layer, grads)`,
    where grads is what `layer.backward(...)` returned for the gradient of that loss.
    Layers without weights (`layer.weights` is empty) are not updated. With an empty list
    of layers, x itself is the logits and the step only returns the loss.

    Hint: the gradient leaving the loss is that of a MEAN; each layer's backward already adds
    its penalties' gradients; update only after every gradient is known.
    """
    ### BEGIN SOLUTION
    activations = np.asarray(x, dtype=FLOATX)
    for layer in layers:
        activations = layer(activations)
    losses, grad_logits = softmax_cross_entropy_per_example(activations, labels)
    batch = len(losses)
    loss = float(np.mean(losses, dtype=FLOATX))
    loss += sum(float(penalty) for layer in layers for penalty in layer.losses)
    grad = grad_logits / FLOATX(batch)
    all_grads = []
    for layer in reversed(layers):
        grads = layer.backward(grad)
        all_grads.append((layer, grads))
        grad = grads["input"]
    for layer, grads in all_grads:
        if len(layer.weights):
            optimizer.apply_gradients(layer, grads)
    return loss
    ### END SOLUTION
