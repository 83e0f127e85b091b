"""Weight penalties (keras.regularizers), with the gradients convlib needs to backpropagate.

A regularizer maps a weight array to one number that is added to the training loss:

    L1(l1)        l1 * sum(|w|)
    L2(l2)        l2 * sum(w**2)                 (no 1/2 in front, unlike many textbooks)
    L1L2(l1, l2)  both of the above
    OrthogonalRegularizer(factor, mode)          mean |cosine| between distinct rows (or
                                                 columns) of a matrix, times factor / 2

Keras gets gradients from automatic differentiation; convlib has none, so every built-in
regularizer also has `gradient(x)`, the derivative of its penalty with respect to `x`
(same shape as `x`). Use `penalty_gradient(regularizer, x)` to get it: it explains what is
missing when a custom regularizer has no `gradient` method.

Penalties are computed in the weights' float dtype (float32 by default), as Keras does, and
returned as python floats.
"""
import inspect
import math
import numbers

import numpy as np

__all__ = [
    "Regularizer",
    "L1",
    "L2",
    "L1L2",
    "OrthogonalRegularizer",
    "penalty_gradient",
    "get",
    "serialize",
    "deserialize",
]

# keras.config.epsilon(): the smallest norm OrthogonalRegularizer divides by.
EPSILON = 1e-7


def _as_float_array(x):
    """`x` as a numpy array, keeping a float dtype and making anything else float32."""
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float32)
    return x


def validate_factor(value, name):
    """Return `value` as a float if it is a non-negative finite number, else raise ValueError.

    Keras accepts python ints and floats (and numpy float64, a float subclass). Two deliberate
    differences: numpy real scalars of any width are accepted too, because convlib is a numpy
    library (Keras rejects np.float32(0.1)); booleans are rejected (Keras takes True as 1.0,
    which is almost certainly a mistake in the caller).
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
    return float(value)


class Regularizer:
    """Base class: a penalty `__call__(x) -> float` and its derivative `gradient(x)`.

    The base penalty is 0. A subclass overrides `__call__` and, to be usable for training in
    convlib, `gradient` as well (d penalty / d x, an array shaped like `x`).
    """

    def __call__(self, x):
        return 0.0

    def gradient(self, x):
        if type(self).__call__ is not Regularizer.__call__:
            # A subclass changed the penalty but not its derivative: a zero gradient would
            # silently train without the penalty, so refuse instead.
            raise ValueError(_missing_gradient_message(self))
        return np.zeros_like(_as_float_array(x))

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __eq__(self, other):
        return type(self) is type(other) and self.get_config() == other.get_config()

    def __hash__(self):
        return hash((type(self), tuple(sorted(self.get_config().items()))))

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class L1(Regularizer):
    """L1 penalty `l1 * sum(|x|)` (Keras's default factor 0.01)."""

    def __init__(self, l1=0.01):
        self.l1 = validate_factor(0.01 if l1 is None else l1, "l1")

    def __call__(self, x):
        """Exercise 8.1: the penalty l1 * sum(|x|), summed over EVERY entry of `x`.

        x: a weight array of any shape, e.g. a kernel (kh, kw, in_channels, filters).
        Returns one python float. The factor is self.l1 (0.01 unless given).
        Hint: compute in x's dtype (float32) and convert the result with `float(...)`.
        """
        x = _as_float_array(x)
        ### BEGIN SOLUTION
        return float(x.dtype.type(self.l1) * np.sum(np.abs(x)))
        ### END SOLUTION

    def gradient(self, x):
        """Exercise 9.1: d penalty / d x = l1 * sign(x), an array shaped like `x`.

        |x| has no derivative at 0; use 0 there, as TensorFlow's gradient of abs does (a
        freshly initialised bias is all zeros, so this case is common).
        Hint: np.sign returns 0 at 0 (dividing x by |x| would give NaN there).
        """
        x = _as_float_array(x)
        ### BEGIN SOLUTION
        return (x.dtype.type(self.l1) * np.sign(x)).astype(x.dtype)
        ### END SOLUTION

    def get_config(self):
        return {"l1": self.l1}


class L2(Regularizer):
    """L2 penalty `l2 * sum(x**2)`, with no factor 1/2 (Keras's default factor 0.01)."""

    def __init__(self, l2=0.01):
        self.l2 = validate_factor(0.01 if l2 is None else l2, "l2")

    def __call__(self, x):
        """Exercise 8.2: the penalty l2 * sum(x**2), summed over EVERY entry of `x`.

        x: a weight array of any shape. Returns one python float. The factor is self.l2.
        Keras has no 1/2 in front (unlike "weight decay" written as l2/2 * ||w||^2) and no
        square root: it is the squared norm.
        Hint: np.square keeps x's dtype; convert the result with `float(...)`.
        """
        x = _as_float_array(x)
        ### BEGIN SOLUTION
        return float(x.dtype.type(self.l2) * np.sum(np.square(x)))
        ### END SOLUTION

    def gradient(self, x):
        """Exercise 9.2: d penalty / d x = 2 * l2 * x, an array shaped like `x`.

        Hint: the 2 comes from differentiating x**2; there is no 1/2 to cancel it.
        """
        x = _as_float_array(x)
        ### BEGIN SOLUTION
        return (x.dtype.type(2.0 * self.l2) * x).astype(x.dtype)
        ### END SOLUTION

    def get_config(self):
        return {"l2": self.l2}


class L1L2(Regularizer):
    """Sum of an L1 and an L2 penalty.

    Both factors default to 0 (as `keras.regularizers.L1L2()`); None counts as 0. Keras's
    docstring says the string "l1_l2" gives factors 0.01 and 0.01, but Keras's
    `regularizers.get` does not accept that string at all, and `keras.regularizers.l1_l2()`
    is this class with defaults 0 and 0; convlib's `get("l1_l2")` follows the latter.
    """

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = validate_factor(0.0 if l1 is None else l1, "l1")
        self.l2 = validate_factor(0.0 if l2 is None else l2, "l2")

    def __call__(self, x):
        """Exercise 8.3: the penalty l1 * sum(|x|) + l2 * sum(x**2), over every entry of `x`.

        Both factors (self.l1, self.l2) default to 0, so L1L2() and get("l1l2") give 0.
        Returns one python float.
        Hint: reuse the two formulas of L1 and L2; a zero factor contributes nothing.
        """
        x = _as_float_array(x)
        ### BEGIN SOLUTION
        dtype = x.dtype.type
        penalty = dtype(0.0)
        if self.l1 != 0.0:
            penalty += dtype(self.l1) * np.sum(np.abs(x))
        if self.l2 != 0.0:
            penalty += dtype(self.l2) * np.sum(np.square(x))
        return float(penalty)
        ### END SOLUTION

    def gradient(self, x):
        """Exercise 9.3: d penalty / d x = l1 * sign(x) + 2 * l2 * x, shaped like `x`
        (sign(0) = 0, as in TensorFlow).

        Hint: the derivative of a sum is the sum of the derivatives.
        """
        x = _as_float_array(x)
        ### BEGIN SOLUTION
        dtype = x.dtype.type
        return (dtype(self.l1) * np.sign(x) + dtype(2.0 * self.l2) * x).astype(x.dtype)
        ### END SOLUTION

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class OrthogonalRegularizer(Regularizer):
    """Pushes the rows (mode="rows") or columns (mode="columns") of a matrix to be orthogonal.

    Only rank-2 inputs (e.g. a Dense kernel) are accepted; like Keras, a 4-D Conv2D kernel
    raises ValueError when the penalty is computed, not when the regularizer is created.
    A matrix with a single row (rows mode) has no pairs: the penalty is 0/0 = nan, as in Keras.
    """

    def __init__(self, factor=0.01, mode="rows"):
        self.factor = validate_factor(factor, "factor")
        if mode not in ("rows", "columns"):
            raise ValueError(
                f'`mode` must be one of "rows", "columns"; received mode={mode!r}'
            )
        self.mode = mode

    def _vectors(self, x):
        """The vectors to compare, as the rows of a matrix (checked to be rank 2)."""
        x = _as_float_array(x)
        if x.ndim != 2:
            raise ValueError(
                "Inputs to OrthogonalRegularizer must have rank 2 (a matrix); "
                f"received an input of shape {x.shape} (rank {x.ndim})"
            )
        return x if self.mode == "rows" else x.T

    @staticmethod
    def _unit_rows(v):
        """Rows of `v` divided by max(norm, EPSILON), as keras.ops.nn.normalize does.

        Keras multiplies by min(1/sqrt(sum of squares), 1/EPSILON): a zero row stays zero,
        and a row shorter than EPSILON is only scaled by 1/EPSILON. Returns the unit rows,
        the scale of each row (a column vector) and whether that scale was clamped.
        """
        square_sum = np.sum(np.square(v), axis=1, keepdims=True)
        cap = v.dtype.type(1.0 / EPSILON)
        with np.errstate(divide="ignore"):
            inv_norm = 1.0 / np.sqrt(square_sum)
        clamped = inv_norm > cap
        scale = np.minimum(inv_norm, cap)
        return v * scale, scale, clamped

    def __call__(self, x):
        """Penalty factor/2 * sum_{i != j} |u_i . u_j| / (n(n-1)/2) for the n unit rows u_i.

        x: a matrix (rank 2). In "columns" mode the columns of x are the vectors, i.e. work
        on x.T (self._vectors(x) does the rank check and the transposition).
        Each pair i < j is counted twice in the sum over i != j, hence the extra 1/2.
        Hint: self._unit_rows(v)[0] gives the normalised rows; U @ U.T holds every dot
        product, and its diagonal (each row with itself) must be left out.
        """
        v = self._vectors(x)
        ### BEGIN SOLUTION
        u = self._unit_rows(v)[0]
        size = u.shape[0]
        product = u @ u.T
        np.fill_diagonal(product, 0.0)
        num_pairs = size * (size - 1.0) / 2.0
        with np.errstate(divide="ignore", invalid="ignore"):
            return float(
                v.dtype.type(self.factor * 0.5) * np.sum(np.abs(product)) / v.dtype.type(num_pairs)
            )
        ### END SOLUTION

    def gradient(self, x):
        """d penalty / d x, shaped like x (given: the derivation is the exercise's reading).

        With U = S V (S = diag of the row scales), P = U U^T, M = 1 - I and
        k = factor * 0.5 / num_pairs, the penalty is k * sum(|P * M|). Then
            dL/dP = k * sign(P) * M                (symmetric; sign(0) = 0 as in TF)
            dL/dU = (dL/dP + dL/dP^T) U = 2 dL/dP U
            dL/dv_i = s_i (g_i - (g_i . u_i) u_i)  where g_i = (dL/dU)_i, if the scale
                      s_i = 1/||v_i|| is not clamped (the radial part of g_i is removed:
                      scaling a row does not change its cosines), and s_i g_i if it is.
        """
        v = self._vectors(x)
        dtype = v.dtype.type
        u, scale, clamped = self._unit_rows(v)
        size = u.shape[0]
        product = u @ u.T
        off_diagonal = 1.0 - np.eye(size, dtype=v.dtype)
        num_pairs = size * (size - 1.0) / 2.0
        with np.errstate(divide="ignore", invalid="ignore"):
            k = dtype(self.factor * 0.5) / dtype(num_pairs)
            d_product = k * np.sign(product) * off_diagonal
            d_unit = 2.0 * (d_product @ u)
            radial = np.sum(d_unit * u, axis=1, keepdims=True) * u
            d_v = scale * np.where(clamped, d_unit, d_unit - radial)
        d_v = d_v.astype(v.dtype)
        return d_v if self.mode == "rows" else d_v.T

    def get_config(self):
        return {"factor": self.factor, "mode": self.mode}


def _missing_gradient_message(regularizer):
    return (
        f"The regularizer {regularizer!r} has no `gradient(x)` method. convlib has no "
        "automatic differentiation: a custom regularizer needs a `gradient(x)` method "
        "returning d penalty / d x (an array shaped like x) for backpropagation in convlib."
    )


def penalty_gradient(regularizer, x):
    """d regularizer(x) / d x, from the regularizer's `gradient(x)` method.

    A plain function used as a regularizer (allowed by `get`) can be evaluated but not
    differentiated: this raises ValueError explaining that a `gradient(x)` method is needed.
    """
    gradient = getattr(regularizer, "gradient", None)
    if not callable(gradient):
        raise ValueError(_missing_gradient_message(regularizer))
    x = _as_float_array(x)
    grad = np.asarray(gradient(x))
    if grad.shape != x.shape:
        raise ValueError(
            f"The gradient of {regularizer!r} has shape {grad.shape}, but the weights it "
            f"regularizes have shape {x.shape}; `gradient(x)` must return x's shape."
        )
    return grad


# Keras's names: each class name, its snake_case form (as Keras writes it, "l1l2"), and the
# exported aliases ("l1_l2"; Keras's `get` itself rejects that string, convlib accepts it).
_CLASSES = {
    "Regularizer": Regularizer,
    "regularizer": Regularizer,
    "L1": L1,
    "l1": L1,
    "L2": L2,
    "l2": L2,
    "L1L2": L1L2,
    "l1l2": L1L2,
    "l1_l2": L1L2,
    "OrthogonalRegularizer": OrthogonalRegularizer,
    "orthogonal_regularizer": OrthogonalRegularizer,
}


def serialize(regularizer):
    """`{"class_name": ..., "config": ...}` for a built-in regularizer (None -> None)."""
    if regularizer is None:
        return None
    if not isinstance(regularizer, Regularizer):
        raise ValueError(
            "Only convlib Regularizer instances can be serialized; "
            f"received {regularizer!r}"
        )
    return {"class_name": type(regularizer).__name__, "config": regularizer.get_config()}


def deserialize(config):
    """Rebuild a regularizer from `serialize`'s dict (Keras's extra keys are ignored)."""
    if isinstance(config, str):
        return get(config)
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(
            'Expected a dict {"class_name": ..., "config": {...}}; '
            f"received {config!r}"
        )
    name = config["class_name"]
    cls = _CLASSES.get(name) if isinstance(name, str) else None
    if cls is None:
        raise ValueError(
            f"Unknown regularizer class_name={name!r}; allowed: {sorted(_CLASSES)}"
        )
    return cls.from_config(dict(config.get("config") or {}))


def get(identifier):
    """A regularizer from None, a name, a `serialize` dict, a class, an instance or a callable.

    None gives None; a name or class gives an instance with default arguments; any other
    callable (e.g. a plain function penalty(x)) is returned as is.
    """
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        cls = _CLASSES.get(identifier)
        if cls is None:
            raise ValueError(
                f"Unknown regularizer {identifier!r}; allowed names: {sorted(_CLASSES)}"
            )
        return cls()
    if inspect.isclass(identifier):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(
        f"Could not interpret regularizer identifier {identifier!r}: expected None, a name "
        f"({sorted(_CLASSES)}), a dict from serialize, a class, an instance or a callable"
    )
