"""Finite-difference gradient checking (chapter 15): the test every backward pass must pass.

A backward pass is easy to get almost right. The slow, dumb, reliable check: nudge one input
value at a time and watch the loss move,

    d f / d x[i]  ~  (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)      (central difference)

whose error shrinks like eps^2. Done in float64, with eps around 1e-3, it agrees with a
correct analytic gradient to 6 digits or more, and disagrees with a wrong one by O(1).
"""
import numpy as np


def numerical_gradient(f, x, eps=1e-3):
    """The gradient of a scalar function `f` at `x` by central differences, in float64.

    Args:
        f: a function of one array, returning a number (float(f(x)) must work).
        x: an array (any shape); it is copied to float64 and never changed.
        eps: the step, added to and subtracted from one entry at a time.

    Returns:
        A float64 array shaped like x: entry i is (f(x + eps e_i) - f(x - eps e_i)) / (2 eps),
        e_i the array with a 1 at entry i and 0 elsewhere.

    Hint: loop over np.ndindex(x.shape) on a float64 copy; change one entry, evaluate,
    change it the other way, evaluate, and put it back before the next entry.
    """
    ### BEGIN SOLUTION
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        kept = x[index]
        x[index] = kept + eps
        above = float(f(x))
        x[index] = kept - eps
        below = float(f(x))
        x[index] = kept
        grad[index] = (above - below) / (2 * eps)
    return grad
    ### END SOLUTION


def relative_error(a, b):
    """max |a - b| / max(|a|, |b|, 1e-8) over all entries: 0 for equal arrays, about 1 when
    they have nothing in common. A correct float64 gradient check gives 1e-6 or less."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"relative_error needs arrays of the same shape; received {a.shape} "
                         f"and {b.shape}")
    if a.size == 0:
        return 0.0
    scale = max(float(np.max(np.abs(a))), float(np.max(np.abs(b))), 1e-8)
    return float(np.max(np.abs(a - b))) / scale


def probe(name, weights):
    """Given code: a scalar test function with a known gradient, for chapter 15's check.

        probe("sin", w)(x)        = sum(w * sin(x))
        probe("logsumexp", w)(x)  = log(sum(w * exp(x)))          (w > 0)
        probe("product", w)(x)    = sum(w * x) * sum(x * x)

    The last two mix the entries, so a numerical gradient that forgets to put a nudged entry
    back gets them wrong.
    """
    weights = np.asarray(weights, dtype=np.float64)
    formulas = {
        "sin": lambda x: np.sum(weights * np.sin(x)),
        "logsumexp": lambda x: np.log(np.sum(weights * np.exp(x))),
        "product": lambda x: np.sum(weights * x) * np.sum(x * x),
    }
    if name not in formulas:
        raise ValueError(f"probe name must be one of {sorted(formulas)}; received {name!r}")
    formula = formulas[name]
    return lambda x: float(formula(np.asarray(x, dtype=np.float64)))


def layer_gradient_errors(layer, x, grad_output, eps=1e-2):
    """Given code: your numerical_gradient checking a Conv2D's backward pass.

    The loss is sum(grad_output * layer(x)) + sum(layer.losses), the one `backward` returns the
    gradients of. Returns {"input", "kernel", "bias"}: relative_error between
    layer.backward(grad_output) and numerical_gradient of that loss (the layer computes in
    float32, hence the larger eps; errors of 1e-3 or less mean the two agree). The layer's
    weights are put back afterwards.
    """
    x = np.asarray(x, dtype=np.float32)
    grad_output = np.asarray(grad_output, dtype=np.float64)

    def loss_at(inputs):
        y = layer(np.asarray(inputs, dtype=np.float32))
        return float(np.sum(grad_output * y) + sum(layer.losses))

    layer(x)
    analytic = layer.backward(grad_output.astype(np.float32))
    errors = {"input": relative_error(analytic["input"], numerical_gradient(loss_at, x, eps))}
    for name in ("kernel", "bias"):
        kept = getattr(layer, name)
        if kept is None:
            errors[name] = None
            continue

        def loss_of_weight(value, name=name):
            setattr(layer, name, np.asarray(value, dtype=np.float32))
            return loss_at(x)

        try:
            numeric = numerical_gradient(loss_of_weight, kept, eps)
        finally:
            setattr(layer, name, kept)
        errors[name] = relative_error(analytic[name], numeric)
    return errors
