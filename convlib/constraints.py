"""Weight constraints (keras.constraints): projections applied to a weight after each update.

    MaxNorm(max_value, axis)                   shrink every vector longer than max_value
    UnitNorm(axis)                             rescale every vector to length 1
    MinMaxNorm(min_value, max_value, rate, axis)  move every length towards [min, max]
    NonNeg()                                   replace negative entries by 0

"Every vector" means: the norm is taken over `axis` (an int or a list of ints), so one
norm is computed for each position along the remaining axes. For a Conv2D kernel of shape
(kernel_h, kernel_w, in_channels, filters), the norm of each whole filter is
`axis=[0, 1, 2]`. Keras's default `axis=0` takes the norm over the kernel rows only, i.e.
separately for each (column, input channel, filter) -- the course's source notes say axis=0
constrains each filter of a conv kernel, which is a mistake (it does so for a Dense kernel).

All norms use Keras's small constant EPSILON = 1e-7 in the denominator, so a zero vector
stays zero and a vector at the bound comes out very slightly shorter than the bound.
"""
import inspect
import math
import numbers

import numpy as np

__all__ = [
    "Constraint",
    "MaxNorm",
    "UnitNorm",
    "MinMaxNorm",
    "NonNeg",
    "get",
    "serialize",
    "deserialize",
]

# keras.config.epsilon()
EPSILON = 1e-7


def _as_float_array(w):
    w = np.asarray(w)
    if not np.issubdtype(w.dtype, np.floating):
        w = w.astype(np.float32)
    return w


def _validate_bound(value, name):
    """A norm bound must be a non-negative finite number.

    Keras does not validate its constraint arguments at all; this is stricter on purpose: a
    norm is never negative (a negative max_value makes Keras return all zeros, or flips signs
    in MinMaxNorm), and inf/nan turn every weight into nan or leave the constraint inert.
    """
    if (
        isinstance(value, (bool, np.bool_))
        or not isinstance(value, numbers.Real)
        or not math.isfinite(value)
        or value < 0
    ):
        raise ValueError(
            f"`{name}` must be a non-negative finite number (int or float); "
            f"received {name}={value!r}"
        )
    return value


def _validate_axis(axis):
    """`axis` must be an int, a list/tuple of distinct ints, or None (all axes, as in Keras).

    Returned as an int, a list or None, so that get_config holds plain JSON-like values.
    Whether the axes exist is checked when the constraint is applied (the shape is unknown
    before); Keras only finds out then, from a TensorFlow error.
    """
    def is_int(a):
        return isinstance(a, (numbers.Integral, np.integer)) and not isinstance(a, (bool, np.bool_))

    if axis is None:
        return None
    if is_int(axis):
        return int(axis)
    if isinstance(axis, (list, tuple)) and all(is_int(a) for a in axis):
        return [int(a) for a in axis]
    raise ValueError(
        f"`axis` must be an int or a list/tuple of ints; received axis={axis!r}"
    )


def _resolve_axis(axis, shape):
    """`axis` as a tuple of non-negative ints for an array of `shape`, or ValueError."""
    ndim = len(shape)
    if axis is None:
        return tuple(range(ndim))
    axes = [axis] if isinstance(axis, int) else list(axis)
    resolved = []
    for a in axes:
        if not -ndim <= a < ndim:
            raise ValueError(
                f"axis={axis!r} is out of range for a weight of shape {tuple(shape)} "
                f"(rank {ndim}: allowed axes are {-ndim}..{ndim - 1})"
            )
        resolved.append(a % ndim)
    if len(set(resolved)) != len(resolved):
        raise ValueError(
            f"axis={axis!r} names the same axis twice for a weight of shape {tuple(shape)}"
        )
    return tuple(resolved)


def _norms(w, axes):
    """Euclidean norms of `w` over `axes` (a tuple), kept as length-1 axes to broadcast."""
    return np.sqrt(np.sum(np.square(w), axis=axes, keepdims=True))


class Constraint:
    """Base class: `__call__(w)` returns the projected weight (the base returns w unchanged)."""

    def __call__(self, w):
        return w

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __eq__(self, other):
        return type(self) is type(other) and self.get_config() == other.get_config()

    def __hash__(self):
        return hash((type(self), repr(sorted(self.get_config().items()))))

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class MaxNorm(Constraint):
    """Rescale each vector (norm over `axis`) whose norm exceeds `max_value` down to it.

    For a conv kernel use axis=[0, 1, 2] (one norm per filter); the default axis=0, Keras's,
    takes norms over the kernel rows only (see the module docstring).
    """

    def __init__(self, max_value=2, axis=0):
        self.max_value = _validate_bound(max_value, "max_value")
        self.axis = _validate_axis(axis)

    def __call__(self, w):
        """w * clip(n, 0, max_value) / (EPSILON + n), with n = norms of w over self.axis.

        w: any shape; returns an array of w's shape and float dtype. `axes` (given) is
        self.axis checked against w's shape, as a tuple of non-negative ints.
        Hint: `_norms(w, axes)` keeps the reduced axes (length 1), so it broadcasts
        against w.
        """
        w = _as_float_array(w)
        axes = _resolve_axis(self.axis, w.shape)
        # YOUR CODE HERE
        raise NotImplementedError()

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class UnitNorm(Constraint):
    """Rescale each vector (norm over `axis`) to norm 1 (a zero vector stays zero).

    For a conv kernel use axis=[0, 1, 2] (one norm per filter); the default axis=0, Keras's,
    takes norms over the kernel rows only (see the module docstring).
    """

    def __init__(self, axis=0):
        self.axis = _validate_axis(axis)

    def __call__(self, w):
        """w / (EPSILON + n), with n = norms of w over self.axis.

        w: any shape; returns an array of w's shape and float dtype. `axes` (given) is
        self.axis checked against w's shape, as a tuple of non-negative ints.
        Hint: EPSILON keeps zero vectors finite; `_norms(w, axes)` broadcasts against w.
        """
        w = _as_float_array(w)
        axes = _resolve_axis(self.axis, w.shape)
        # YOUR CODE HERE
        raise NotImplementedError()

    def get_config(self):
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    """Move each vector's norm (over `axis`) towards [min_value, max_value].

    The new norm is rate * clip(n, min_value, max_value) + (1 - rate) * n: rate=1 enforces
    the bounds at once, a smaller rate only moves part of the way at each step.
    For a conv kernel use axis=[0, 1, 2] (one norm per filter); the default axis=0, Keras's,
    takes norms over the kernel rows only (see the module docstring).
    """

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value = _validate_bound(min_value, "min_value")
        self.max_value = _validate_bound(max_value, "max_value")
        # Keras accepts min_value > max_value silently (the clip then returns min_value
        # everywhere); stricter here because it is always a caller's mistake.
        if min_value > max_value:
            raise ValueError(
                "`min_value` must not exceed `max_value`; "
                f"received min_value={min_value!r}, max_value={max_value!r}"
            )
        # Keras accepts any rate; stricter here: the documented meaning (a fraction of the
        # way towards the interval) needs 0 <= rate <= 1, beyond it the norm overshoots.
        if (
            isinstance(rate, (bool, np.bool_))
            or not isinstance(rate, numbers.Real)
            or not 0.0 <= rate <= 1.0
        ):
            raise ValueError(f"`rate` must be a number in [0, 1]; received rate={rate!r}")
        self.rate = rate
        self.axis = _validate_axis(axis)

    def __call__(self, w):
        """w * (rate * clip(n, min_value, max_value) + (1 - rate) * n) / (EPSILON + n).

        n = norms of w over self.axis; w: any shape; returns an array of w's shape and dtype.
        `axes` (given) is self.axis checked against w's shape; `_norms(w, axes)` gives n.
        Hint: compute the desired norm first, then rescale w by desired / (EPSILON + n).
        """
        w = _as_float_array(w)
        axes = _resolve_axis(self.axis, w.shape)
        # YOUR CODE HERE
        raise NotImplementedError()

    def get_config(self):
        return {
            "min_value": self.min_value,
            "max_value": self.max_value,
            "rate": self.rate,
            "axis": self.axis,
        }


class NonNeg(Constraint):
    """Replace every negative weight by 0."""

    def __call__(self, w):
        """max(w, 0) entrywise; w: any shape; returns an array of w's shape and float dtype.

        Hint: one numpy function does it.
        """
        w = _as_float_array(w)
        # YOUR CODE HERE
        raise NotImplementedError()


# Keras's names: each class name and its snake_case form.
_CLASSES = {
    "Constraint": Constraint,
    "constraint": Constraint,
    "MaxNorm": MaxNorm,
    "max_norm": MaxNorm,
    "MinMaxNorm": MinMaxNorm,
    "min_max_norm": MinMaxNorm,
    "NonNeg": NonNeg,
    "non_neg": NonNeg,
    "UnitNorm": UnitNorm,
    "unit_norm": UnitNorm,
}


def serialize(constraint):
    """`{"class_name": ..., "config": ...}` for a built-in constraint (None -> None)."""
    if constraint is None:
        return None
    if not isinstance(constraint, Constraint):
        raise ValueError(
            f"Only convlib Constraint instances can be serialized; received {constraint!r}"
        )
    return {"class_name": type(constraint).__name__, "config": constraint.get_config()}


def deserialize(config):
    """Rebuild a constraint from `serialize`'s dict (Keras's extra keys are ignored)."""
    if isinstance(config, str):
        return get(config)
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(
            f'Expected a dict {{"class_name": ..., "config": {{...}}}}; received {config!r}'
        )
    name = config["class_name"]
    cls = _CLASSES.get(name) if isinstance(name, str) else None
    if cls is None:
        raise ValueError(
            f"Unknown constraint class_name={name!r}; allowed: {sorted(_CLASSES)}"
        )
    return cls.from_config(dict(config.get("config") or {}))


def get(identifier):
    """A constraint from None, a name, a `serialize` dict, a class, an instance or a callable.

    None gives None; a name or class gives an instance with default arguments; any other
    callable (e.g. a plain function w -> w') is returned as is.
    """
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        cls = _CLASSES.get(identifier)
        if cls is None:
            raise ValueError(
                f"Unknown constraint {identifier!r}; allowed names: {sorted(_CLASSES)}"
            )
        return cls()
    if inspect.isclass(identifier):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(
        f"Could not interpret constraint identifier {identifier!r}: expected None, a name "
        f"({sorted(_CLASSES)}), a dict from serialize, a class, an instance or a callable"
    )
