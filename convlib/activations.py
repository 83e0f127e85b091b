"""Activation functions (keras.activations), each next to its gradient, micrograd style.

Conv2D applies `activation(z)` to its pre-activation `z = conv(x) + bias`. Keras gets the
gradient from automatic differentiation; convlib has none, so every built-in activation `f`
comes with `f_backward(x, y, grad_y) -> grad_x`, the vector-Jacobian product:

    x       the pre-activation (the input of f)
    y       f(x), already computed in the forward pass (many derivatives are cheapest from y)
    grad_y  d loss / d y, shaped like y
    grad_x  d loss / d x = grad_y * f'(x) for an elementwise f

Every function also carries its gradient as an attribute, `relu.backward is relu_backward`;
`backward(activation, x, y, grad_y)` uses that attribute, so a custom activation becomes
trainable in convlib by giving it a `backward` attribute with the same signature.

Where a function has a kink, the derivative there is the one TensorFlow's gradient gives
(e.g. relu'(0) = 0, leaky_relu'(0) = negative_slope, relu6'(6) = 0, selu'(0) = scale).
Outputs keep the input's float dtype (float32 in, float32 out); other inputs become float32.
"""
import math

import numpy as np
from numpy.polynomial import Polynomial, chebyshev

__all__ = [
    "linear", "relu", "leaky_relu", "relu6", "sigmoid", "hard_sigmoid", "tanh", "softmax",
    "elu", "selu", "gelu", "silu", "swish", "hard_silu", "hard_swish", "softplus",
    "softsign", "mish", "exponential",
    "linear_backward", "relu_backward", "leaky_relu_backward", "relu6_backward",
    "sigmoid_backward", "hard_sigmoid_backward", "tanh_backward", "softmax_backward",
    "elu_backward", "selu_backward", "gelu_backward", "silu_backward",
    "hard_silu_backward", "softplus_backward", "softsign_backward", "mish_backward",
    "exponential_backward",
    "erf", "get", "serialize", "deserialize", "backward", "is_elementwise", "ALL_NAMES",
]

# SELU's two constants (Klambauer et al. 2017), the values TensorFlow's selu uses.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946

# tanh-approximate GELU: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
GELU_TANH_SCALE = math.sqrt(2.0 / math.pi)
GELU_TANH_CUBIC = 0.044715


def _as_float(x):
    """`x` as a numpy array, keeping a float dtype and making anything else float32."""
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float32)
    return x


# ---------------------------------------------------------------------------------------
# erf, vectorised, for the exact GELU (numpy has no erf and convlib does not use scipy).
#
# Two polynomials, fitted once at import by Chebyshev interpolation of math.erf / math.erfc:
#   |x| <= 2   erf(x) = x * P(x^2)                           P(s) = erf(sqrt s) / sqrt s
#   |x| >  2   erf(x) = sign(x) * (1 - exp(-x^2) Q(|x|))     Q(t) = erfc(t) e^(t^2), 2..6
# Past 6, erfc(6) ~ 2e-17 so erf is +-1 to double precision. With degree 12 both fits are
# accurate to ~2e-11 (evaluated in float64), far below float32's resolution (6e-8 near 1).
# ---------------------------------------------------------------------------------------
def _power_coefficients(fn, degree, lo, hi):
    """Coefficients (constant first) of the degree-`degree` interpolant of fn on [lo, hi]."""
    cheb = chebyshev.Chebyshev.interpolate(
        lambda t: np.array([fn(v) for v in t]), degree, domain=[lo, hi]
    )
    # domain == window: coefficients of the raw variable, ready for Horner's rule.
    return tuple(cheb.convert(kind=Polynomial, domain=[-1, 1], window=[-1, 1]).coef)


# Chebyshev nodes never include s = 0, where erf(sqrt(s)) / sqrt(s) tends to 2 / sqrt(pi).
_ERF_NEAR = _power_coefficients(lambda s: math.erf(math.sqrt(s)) / math.sqrt(s), 12, 0.0, 4.0)
_ERFC_FAR = _power_coefficients(lambda t: math.erfc(t) * math.exp(t * t), 12, 2.0, 6.0)


def _horner(t, coefs):
    # In place: a fresh temporary per degree would triple the time on large arrays.
    out = np.full_like(t, coefs[-1])
    for c in coefs[-2::-1]:
        out *= t
        out += c
    return out


def erf(x):
    """The error function, elementwise, accurate to ~2e-11 (returned in x's float dtype)."""
    x = _as_float(x)
    x64 = x.astype(np.float64)
    a = np.abs(x64)
    near = x64 * _horner(np.minimum(a, 2.0) ** 2, _ERF_NEAR)
    far = np.sign(x64) * (1.0 - np.exp(-a * a) * _horner(np.clip(a, 2.0, 6.0), _ERFC_FAR))
    return np.where(a <= 2.0, near, far).astype(x.dtype)


# ---------------------------------------------------------------------------------------
# The activations. Each forward takes x; each backward takes (x, y, grad_y).
# ---------------------------------------------------------------------------------------
def linear(x):
    """Identity: y = x."""
    return _as_float(x)


def linear_backward(x, y, grad_y):
    """d/dx x = 1."""
    return grad_y


def relu(x):
    """y = max(x, 0), elementwise; same shape and dtype as x.

    Hint: np.maximum with a python 0 keeps x's dtype.
    """
    x = _as_float(x)
    # YOUR CODE HERE
    raise NotImplementedError()


def relu_backward(x, y, grad_y):
    """grad_x = grad_y where x > 0, else 0.

    Hint: at x = 0 relu has a kink; TensorFlow uses the slope 0 there (x > 0, not x >= 0).
    """
    # YOUR CODE HERE
    raise NotImplementedError()


def leaky_relu(x, negative_slope=0.2):
    """y = x for x > 0, negative_slope * x otherwise (Keras 3's default slope is 0.2).

    Hint: np.where(condition, a, b) picks elementwise.
    """
    x = _as_float(x)
    # YOUR CODE HERE
    raise NotImplementedError()


def leaky_relu_backward(x, y, grad_y, negative_slope=0.2):
    """grad_x = grad_y * (1 if x > 0 else negative_slope).

    Hint: at x = 0 TensorFlow uses the left slope, negative_slope.
    """
    # YOUR CODE HERE
    raise NotImplementedError()


def relu6(x):
    """y = min(max(x, 0), 6)."""
    x = _as_float(x)
    return np.clip(x, 0, 6)


def relu6_backward(x, y, grad_y):
    # Slope 1 strictly inside (0, 6); TensorFlow gives 0 at both kinks.
    return np.where((x > 0) & (x < 6), grad_y, 0)


def sigmoid(x):
    """y = 1 / (1 + exp(-x)), elementwise, without overflow for large |x|; same shape as x.

    Hint: exp(-x) overflows for x << 0; write both cases with exp(-|x|).
    """
    x = _as_float(x)
    # YOUR CODE HERE
    raise NotImplementedError()


def sigmoid_backward(x, y, grad_y):
    """sigmoid'(x) = y (1 - y).

    Hint: the derivative is cheapest from the output y.
    """
    # YOUR CODE HERE
    raise NotImplementedError()


def hard_sigmoid(x):
    """Keras 3's hard sigmoid: relu6(x + 3) / 6 (0 below -3, 1 above 3, linear between)."""
    x = _as_float(x)
    return relu6(x + 3) / 6


def hard_sigmoid_backward(x, y, grad_y):
    # Slope 1/6 strictly inside (-3, 3), 0 at and beyond the kinks (relu6's rule shifted).
    return relu6_backward(x + 3, None, grad_y) / 6


def hard_silu(x):
    """Hard SiLU (alias hard_swish): y = x * hard_sigmoid(x)."""
    x = _as_float(x)
    return x * hard_sigmoid(x)


def hard_silu_backward(x, y, grad_y):
    # Product rule: hard_sigmoid(x) + x * hard_sigmoid'(x).
    return hard_sigmoid(x) * grad_y + x * hard_sigmoid_backward(x, None, grad_y)


def tanh(x):
    """y = tanh(x).

    Hint: numpy has it.
    """
    x = _as_float(x)
    # YOUR CODE HERE
    raise NotImplementedError()


def tanh_backward(x, y, grad_y):
    """tanh'(x) = 1 - y^2.

    Hint: use the output y rather than recomputing tanh(x).
    """
    # YOUR CODE HERE
    raise NotImplementedError()


def softmax(x, axis=-1):
    """y = exp(x) / sum(exp(x)) along `axis` (the channels, last, by default).

    Shapes: any; each slice along `axis` sums to 1.
    Hint: subtract the maximum along `axis` first; the result is the same, and exp cannot
    overflow.
    """
    x = _as_float(x)
    # YOUR CODE HERE
    raise NotImplementedError()


def softmax_backward(x, y, grad_y, axis=-1):
    """grad_x = y * (grad_y - sum(grad_y * y, axis, keepdims=True)).

    Softmax is not elementwise: every output depends on every input of its slice. The
    Jacobian is diag(y) - y y^T, and multiplying by it never needs to build it.
    Hint: keepdims=True makes the sum broadcast back over `axis`.
    """
    # YOUR CODE HERE
    raise NotImplementedError()


def elu(x, alpha=1.0):
    """y = x for x > 0, alpha * (exp(x) - 1) otherwise.

    Hint: np.expm1(x) is exp(x) - 1 without cancellation near 0; clip the argument with
    np.minimum(x, 0) so the unused branch cannot overflow.
    """
    x = _as_float(x)
    # YOUR CODE HERE
    raise NotImplementedError()


def elu_backward(x, y, grad_y, alpha=1.0):
    """elu'(x) = 1 for x > 0, alpha * exp(x) = y + alpha otherwise.

    Hint: at x = 0 Keras's gradient is alpha (the left slope), which is 1 for the default.
    """
    # YOUR CODE HERE
    raise NotImplementedError()


def selu(x):
    """y = scale * elu(x, alpha) with SELU_SCALE and SELU_ALPHA.

    Hint: reuse elu.
    """
    x = _as_float(x)
    # YOUR CODE HERE
    raise NotImplementedError()


def selu_backward(x, y, grad_y):
    """selu'(x) = scale for x >= 0, scale * alpha * exp(x) = y + scale * alpha for x < 0.

    Hint: unlike elu, TensorFlow's selu gradient at x = 0 is the right slope, scale.
    """
    # YOUR CODE HERE
    raise NotImplementedError()


def gelu(x, approximate=False):
    """Gaussian error linear unit, y = x * Phi(x), Phi the standard normal CDF; elementwise,
    same shape and dtype as x.

    approximate=False (Keras's default): y = 0.5 x (1 + erf(x / sqrt(2))).
    approximate=True: y = 0.5 x (1 + tanh(GELU_TANH_SCALE (x + GELU_TANH_CUBIC x^3))).
    Hint: this module's `erf` is vectorised and keeps x's dtype.
    """
    x = _as_float(x)
    # YOUR CODE HERE
    raise NotImplementedError()


def gelu_backward(x, y, grad_y, approximate=False):
    """gelu'(x) = Phi(x) + x * phi(x), phi(x) = exp(-x^2 / 2) / sqrt(2 pi) (exact form).

    The tanh form: with u = GELU_TANH_SCALE (x + GELU_TANH_CUBIC x^3) and t = tanh(u),
    gelu'(x) = 0.5 (1 + t) + 0.5 x (1 - t^2) GELU_TANH_SCALE (1 + 3 GELU_TANH_CUBIC x^2).
    Hint: product rule on x * Phi(x); the derivative of the CDF is the density.
    """
    # YOUR CODE HERE
    raise NotImplementedError()


def silu(x):
    """SiLU, also called swish: y = x * sigmoid(x).

    Hint: reuse a numerically stable sigmoid.
    """
    x = _as_float(x)
    # YOUR CODE HERE
    raise NotImplementedError()


def silu_backward(x, y, grad_y):
    """silu'(x) = s (1 + x (1 - s)), s = sigmoid(x).

    Hint: product rule, with sigmoid' = s (1 - s).
    """
    # YOUR CODE HERE
    raise NotImplementedError()


def softplus(x):
    """y = log(1 + exp(x)), without overflow for large x nor loss for very negative x.

    Hint: log(1 + e^x) = max(x, 0) + log1p(exp(-|x|)).
    """
    x = _as_float(x)
    # YOUR CODE HERE
    raise NotImplementedError()


def softplus_backward(x, y, grad_y):
    """softplus'(x) = sigmoid(x).

    Hint: differentiate log(1 + e^x) and divide top and bottom by e^x.
    """
    # YOUR CODE HERE
    raise NotImplementedError()


def softsign(x):
    """y = x / (1 + |x|)."""
    x = _as_float(x)
    return x / (1 + np.abs(x))


def softsign_backward(x, y, grad_y):
    # d/dx x / (1 + |x|) = 1 / (1 + |x|)^2 on both sides of 0.
    return grad_y / (1 + np.abs(x)) ** 2


def mish(x):
    """y = x * tanh(softplus(x))."""
    x = _as_float(x)
    # np.logaddexp(0, x) = log(e^0 + e^x) is softplus, computed without overflow by numpy.
    return x * np.tanh(np.logaddexp(0, x))


def mish_backward(x, y, grad_y):
    # Product and chain rules: tanh(sp) + x * (1 - tanh(sp)^2) * sigmoid(x), sp = softplus(x).
    # sigmoid(x) = e^x / (1 + e^x) = exp(x - sp), and x - sp <= 0 cannot overflow.
    sp = np.logaddexp(0, x)
    t = np.tanh(sp)
    return grad_y * (t + x * (1 - t * t) * np.exp(x - sp))


def exponential(x):
    """y = exp(x)."""
    x = _as_float(x)
    return np.exp(x)


def exponential_backward(x, y, grad_y):
    # exp is its own derivative.
    return grad_y * y


# Keras's aliases are the same function objects, so they serialize to the canonical name.
swish = silu
hard_swish = hard_silu

# ---------------------------------------------------------------------------------------
# Registry and dispatch (given).
# ---------------------------------------------------------------------------------------
_BUILTINS = {
    "linear": (linear, linear_backward),
    "relu": (relu, relu_backward),
    "leaky_relu": (leaky_relu, leaky_relu_backward),
    "relu6": (relu6, relu6_backward),
    "sigmoid": (sigmoid, sigmoid_backward),
    "hard_sigmoid": (hard_sigmoid, hard_sigmoid_backward),
    "hard_silu": (hard_silu, hard_silu_backward),
    "tanh": (tanh, tanh_backward),
    "softmax": (softmax, softmax_backward),
    "elu": (elu, elu_backward),
    "selu": (selu, selu_backward),
    "gelu": (gelu, gelu_backward),
    "silu": (silu, silu_backward),
    "softplus": (softplus, softplus_backward),
    "softsign": (softsign, softsign_backward),
    "mish": (mish, mish_backward),
    "exponential": (exponential, exponential_backward),
}
_ALIASES = {"swish": "silu", "hard_swish": "hard_silu"}
# Every name `get` accepts: Keras's names for these functions, aliases included.
ALL_NAMES = sorted([*_BUILTINS, *_ALIASES])

for _fn, _grad in _BUILTINS.values():
    _fn.backward = _grad
# Softmax mixes the entries of a slice; every other built-in acts on each entry alone.
for _name, (_fn, _) in _BUILTINS.items():
    _fn.elementwise = _name != "softmax"
_NAME_OF = {fn: name for name, (fn, _) in _BUILTINS.items()}
del _fn, _grad, _name


def get(identifier):
    """The activation function for `identifier`.

    None -> linear; a name (ALL_NAMES, e.g. "relu", "swish"); a dict as Keras saves an
    activation, {"class_name": "function", "config": <name>, ...}; any callable is returned
    as is. Anything else raises ValueError.
    """
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        name = _ALIASES.get(identifier, identifier)
        if name not in _BUILTINS:
            raise ValueError(
                f"Unknown activation {identifier!r}; allowed names: {ALL_NAMES}"
            )
        return _BUILTINS[name][0]
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise ValueError(
        f"Could not interpret activation identifier {identifier!r}: expected None, a name "
        f"({ALL_NAMES}), a dict {{'class_name': 'function', 'config': <name>}} or a callable"
    )


def deserialize(config):
    """The activation for a name or for Keras's saved form {"class_name": "function", ...}."""
    if isinstance(config, str):
        return get(config)
    if (
        isinstance(config, dict)
        and config.get("class_name") == "function"
        and isinstance(config.get("config"), str)
    ):
        return get(config["config"])
    raise ValueError(
        "An activation config must be a name or a dict {'class_name': 'function', "
        f"'config': <name>}} with a name in {ALL_NAMES}; received {config!r}"
    )


def serialize(activation):
    """The name to store for `activation`, as keras.activations.serialize does for built-ins.

    Built-ins give their canonical Keras name (so swish gives "silu"). A custom function
    gives its `__name__` (Keras would add registration details that convlib has no use
    for); a callable without a usable name (a lambda, an object) raises ValueError.
    """
    fn = get(activation)
    if fn in _NAME_OF:
        return _NAME_OF[fn]
    name = getattr(fn, "__name__", None)
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(
            f"Cannot serialize the activation {activation!r}: it is not one of convlib's "
            f"built-ins ({ALL_NAMES}) and has no function name to store; define it with "
            "`def` instead of a lambda or an object"
        )
    return name


def is_elementwise(activation):
    """True if each output entry depends only on the same input entry (all but softmax).

    A custom callable counts as elementwise only if it says so with `elementwise = True`.
    """
    return bool(getattr(get(activation), "elementwise", False))


def backward(activation, x, y, grad_y):
    """d loss / d x for `y = activation(x)`, given grad_y = d loss / d y (shaped like x).

    Uses the activation's `backward(x, y, grad_y)` attribute: every built-in has one; a
    custom callable without one cannot be trained in convlib, and raises ValueError.
    `y` may be None, in which case it is recomputed from x.
    """
    fn = get(activation)
    grad = getattr(fn, "backward", None)
    if not callable(grad):
        raise ValueError(
            f"The activation {activation!r} has no `backward(x, y, grad_y)` attribute. convlib "
            "has no automatic differentiation: a custom activation needs "
            "`fn.backward = lambda x, y, grad_y: <d loss / d x>` (an array shaped like x) "
            "to be trained in convlib."
        )
    x = _as_float(x)
    y = fn(x) if y is None else np.asarray(y)
    grad_y = np.asarray(grad_y)
    if grad_y.shape != np.shape(y):
        raise ValueError(
            f"grad_y has shape {grad_y.shape} but the activation's output has shape "
            f"{np.shape(y)}; they must match"
        )
    return grad(x, y, grad_y)
