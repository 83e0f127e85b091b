"""Weight initializers: Keras's built-in ones, with Keras's distributions, drawn by numpy.

A layer's starting weights are random numbers whose *spread* is chosen so that the signal
neither explodes nor dies out as it passes through many layers. The spread depends on how
many numbers each output sums (fan_in) and how many outputs each input feeds (fan_out).

Fans of a convolution kernel. A Conv2D kernel has shape (kh, kw, in_channels, filters).
One output value sums kh*kw*in_channels products, so fan_in = kh*kw*in_channels, and one
input value reaches kh*kw*filters outputs, so fan_out = kh*kw*filters: both fans include
the receptive field kh*kw, not just the channel counts (`compute_fans`).

Variance scaling. Glorot, He and LeCun initializers all aim for a target variance
`scale / fan` (fan = fan_in, fan_out or their average) and differ only in scale, fan and
distribution (`VarianceScaling`):

* uniform on [-limit, limit] has variance limit**2 / 3, so the limit that gives variance v
  is sqrt(3 * v). (Glorot-uniform's famous sqrt(6 / (fan_in + fan_out)) is that *limit*;
  using it as a standard deviation makes the weights sqrt(3) times too spread out.)
* a normal cut at two standard deviations (values beyond are redrawn) has a smaller
  standard deviation than the normal it was cut from: 0.87962566... times it. To land on
  the target variance, Keras divides the requested standard deviation by 0.8796... before
  truncating.

Seeds. `seed` may be None (fresh randomness on every call), an int (every call gives the
same values, as in Keras) or a `numpy.random.Generator` (each call draws from it and
advances it); `make_rng` turns any of these into a Generator.

Names. `get` accepts Keras's class names ("GlorotUniform"), their snake_case forms
("glorot_uniform") and Keras's aliases ("normal", "uniform", "zero", "one").
"""
import inspect
import math
import numbers
import re

import numpy as np

__all__ = [
    "compute_fans",
    "truncated_normal",
    "variance_scaling_spread",
    "make_rng",
    "Initializer",
    "Zeros",
    "Ones",
    "Constant",
    "RandomNormal",
    "RandomUniform",
    "TruncatedNormal",
    "VarianceScaling",
    "GlorotNormal",
    "GlorotUniform",
    "HeNormal",
    "HeUniform",
    "LecunNormal",
    "LecunUniform",
    "Orthogonal",
    "get",
    "serialize",
    "deserialize",
]

# Standard deviation of a standard normal truncated to [-2, 2] (Keras's constant).
TRUNCATED_NORMAL_STD = 0.87962566103423978


# --------------------------------------------------------------------------------------
# Student exercises
# --------------------------------------------------------------------------------------


def compute_fans(shape):
    """Return (fan_in, fan_out) of a weight tensor of the given shape, as Keras counts them.

    shape: a tuple of ints.
      * rank 0: (1, 1)
      * rank 1, (n,): (n, n)
      * rank 2, (in, out): (in, out)
      * rank >= 3, a conv kernel (*spatial, in, out): with receptive = prod(spatial),
        fan_in = in * receptive and fan_out = out * receptive. (A grouped Conv2D's kernel
        is (kh, kw, in_channels // groups, filters): its shape already holds the group.)

    Hint: `math.prod(())` is 1. Return python ints.
    """
    # YOUR CODE HERE
    raise NotImplementedError()


def truncated_normal(rng, shape, mean, stddev):
    """Sample `shape` values of a normal(mean, stddev) cut at mean +- 2*stddev.

    Values that land outside [mean - 2*stddev, mean + 2*stddev] are redrawn (not clipped:
    clipping would pile values up on the bounds) until none is left outside.
    rng: a numpy Generator. Returns a float64 array of shape `shape`.

    Hint: draw standard normals z, redraw only the entries with |z| > 2 (a boolean mask),
    and scale at the end: mean + stddev * z.
    """
    # YOUR CODE HERE
    raise NotImplementedError()


def variance_scaling_spread(scale, mode, distribution, fan_in, fan_out):
    """Return the spread VarianceScaling draws with: a standard deviation or a limit.

    scale: a positive float; mode: "fan_in", "fan_out" or "fan_avg" ((fan_in + fan_out) / 2);
    distribution: "truncated_normal", "untruncated_normal" or "uniform".
    With fan chosen by `mode` (at least 1) and the target variance v = scale / fan:
      truncated_normal:   the stddev to give `truncated_normal`: sqrt(v) / TRUNCATED_NORMAL_STD
                          (cutting at 2 sigma shrinks the spread by that factor; undo it)
      untruncated_normal: the stddev sqrt(v)
      uniform:            the limit a of uniform(-a, a): sqrt(3 * v)
    Returns a python float.

    Hint: a uniform on [-a, a] has variance a**2 / 3.
    """
    # YOUR CODE HERE
    raise NotImplementedError()


# --------------------------------------------------------------------------------------
# Helpers: seeds, shapes, dtypes, argument checks
# --------------------------------------------------------------------------------------


def _check_seed(seed):
    """Return `seed` (ints as python int) if it is None, an int >= 0 or a Generator."""
    if seed is None or isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, (numbers.Integral, np.integer)) and not isinstance(seed, bool):
        if seed >= 0:
            return int(seed)
    raise ValueError(
        "`seed` must be None, a non-negative int or a numpy.random.Generator; "
        f"received seed={seed!r}"
    )


def make_rng(seed=None):
    """Turn a seed into a numpy Generator to draw from.

    None -> a new Generator from fresh OS entropy (different values on every call);
    an int -> a new Generator seeded with it (the same values on every call, like Keras);
    a Generator -> itself (each call continues its stream).
    """
    seed = _check_seed(seed)
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


def _standardize_shape(shape):
    """Return `shape` (an int or an iterable of ints >= 0) as a tuple of python ints."""
    try:
        dims = (shape,) if isinstance(shape, (numbers.Integral, np.integer)) else tuple(shape)
        ok = all(
            isinstance(d, (numbers.Integral, np.integer)) and not isinstance(d, bool) and d >= 0
            for d in dims
        )
    except TypeError:
        ok = False
    if not ok:
        raise ValueError(
            f"`shape` must be a tuple of non-negative ints; received shape={shape!r}"
        )
    return tuple(int(d) for d in dims)


def _standardize_dtype(dtype, floating):
    """Return a numpy dtype; None means float32 (Keras's floatx)."""
    if dtype is None:
        dtype = "float32"
    try:
        result = np.dtype(dtype)
    except TypeError:
        result = None
    ok = result is not None and (
        np.issubdtype(result, np.floating)
        if floating
        else (np.issubdtype(result, np.number) or result == np.bool_)
    )
    if not ok:
        allowed = "a floating dtype" if floating else "a numeric or bool dtype"
        raise ValueError(f"`dtype` must be {allowed}; received dtype={dtype!r}")
    return result


def _check_real(name, value, minimum=None, strict=False):
    """Return `value` as a float after checking it is a finite real number (>= or > minimum)."""
    ok = (
        isinstance(value, (numbers.Real, np.floating, np.integer))
        and not isinstance(value, (bool, np.bool_))
        and math.isfinite(value)
    )
    if ok and minimum is not None:
        ok = value > minimum if strict else value >= minimum
    if not ok:
        if minimum is None:
            what = "a finite number"
        elif minimum == 0:
            what = "a positive finite number" if strict else "a non-negative finite number"
        else:
            what = f"a finite number {'>' if strict else '>='} {minimum}"
        raise ValueError(f"`{name}` must be {what}; received {name}={value!r}")
    return float(value)


# --------------------------------------------------------------------------------------
# Initializers
# --------------------------------------------------------------------------------------


class Initializer:
    """Base class: `init(shape, dtype="float32")` returns a numpy array of that shape."""

    def __call__(self, shape, dtype="float32"):
        raise NotImplementedError(
            f"{type(self).__name__} must implement __call__(shape, dtype)"
        )

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def clone(self):
        return type(self).from_config(self.get_config())

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class Zeros(Initializer):
    """All zeros."""

    def __call__(self, shape, dtype="float32"):
        """Return an array of zeros of shape `shape` and dtype `dtype`.

        Like Keras: Zeros()((3,), "int32") is array([0, 0, 0], dtype=int32), and without a
        dtype the array is float32 (Keras's floatx). shape () gives a 0-d array.
        Already given: the standardized `shape` (a tuple) and `dtype` (a numpy dtype).

        Hint: numpy's array constructors take a `dtype=`; without it they make float64.
        """
        shape, dtype = _standardize_shape(shape), _standardize_dtype(dtype, False)
        # YOUR CODE HERE
        raise NotImplementedError()


class Ones(Initializer):
    """All ones."""

    def __call__(self, shape, dtype="float32"):
        return np.ones(_standardize_shape(shape), dtype=_standardize_dtype(dtype, False))


class Constant(Initializer):
    """Every entry equal to the scalar `value`."""

    def __init__(self, value=0.0):
        if isinstance(value, np.ndarray) and value.ndim == 0:
            value = value[()]
        if not isinstance(value, (numbers.Real, np.generic)) or isinstance(
            value, (np.str_, np.bytes_, np.complexfloating)
        ):
            raise ValueError(f"`value` must be a real scalar; received value={value!r}")
        # numpy scalars become python scalars, so get_config holds plain values
        self.value = value.item() if isinstance(value, np.generic) else value

    def __call__(self, shape, dtype="float32"):
        """Return an array of shape `shape` and dtype `dtype` with every entry self.value.

        The value is converted to `dtype` as a cast converts it, like Keras:
        Constant(2.7)((2,), "int32") is array([2, 2], dtype=int32) (cut toward zero), and
        Constant(3)((2,)) is array([3., 3.], dtype=float32).
        Already given: the standardized `shape` (a tuple) and `dtype` (a numpy dtype).

        Hint: the array's dtype must be `dtype` whatever the type of self.value; numpy takes
        the dtype from the value unless told otherwise.
        """
        shape, dtype = _standardize_shape(shape), _standardize_dtype(dtype, False)
        # YOUR CODE HERE
        raise NotImplementedError()

    def get_config(self):
        return {"value": self.value}


class RandomInitializer(Initializer):
    """Shared seed handling of the random initializers.

    A Generator seed is kept as the object itself, also in get_config (like Keras's
    SeedGenerator, it is not a plain JSON value).
    """

    def __init__(self, seed=None):
        self.seed = _check_seed(seed)

    def get_config(self):
        return {"seed": self.seed}


class RandomNormal(RandomInitializer):
    """Normal distribution with the given mean and standard deviation."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean = _check_real("mean", mean)
        self.stddev = _check_real("stddev", stddev, minimum=0)
        super().__init__(seed)

    def __call__(self, shape, dtype="float32"):
        """Return normal(self.mean, self.stddev) draws of shape `shape`, cast to `dtype`.

        self.stddev is the standard deviation (not the variance): the draws have mean
        self.mean and variance self.stddev ** 2.
        Already given: the standardized `shape` and `dtype`, and `rng`, a numpy Generator made
        from self.seed. Draw from `rng` and from nothing else: then an int seed gives the same
        values on every call (as in Keras), a Generator seed advances on every call, and
        seed=None gives fresh values.

        Hint: Generator methods draw float64 whatever you need; cast at the end.
        """
        shape, dtype = _standardize_shape(shape), _standardize_dtype(dtype, True)
        rng = make_rng(self.seed)
        # YOUR CODE HERE
        raise NotImplementedError()

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, **super().get_config()}


class RandomUniform(RandomInitializer):
    """Uniform distribution on [minval, maxval)."""

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval = _check_real("minval", minval)
        self.maxval = _check_real("maxval", maxval)
        if self.maxval < self.minval:
            raise ValueError(
                "`minval` must not exceed `maxval`; "
                f"received minval={minval!r}, maxval={maxval!r}"
            )
        super().__init__(seed)

    def __call__(self, shape, dtype="float32"):
        """Return uniform draws on [self.minval, self.maxval) of shape `shape`, cast to `dtype`.

        Both ends count: RandomUniform(0.5, 2.0) draws between 0.5 and 2.0, not around 0.
        Already given: the standardized `shape` and `dtype`, and `rng`, a numpy Generator made
        from self.seed. Draw from `rng` and from nothing else: then an int seed gives the same
        values on every call (as in Keras), a Generator seed advances on every call, and
        seed=None gives fresh values.

        Hint: a Generator has a method for exactly this distribution; read what its first two
        arguments mean.
        """
        shape, dtype = _standardize_shape(shape), _standardize_dtype(dtype, True)
        rng = make_rng(self.seed)
        # YOUR CODE HERE
        raise NotImplementedError()

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, **super().get_config()}


class TruncatedNormal(RandomInitializer):
    """Normal(mean, stddev) with values beyond mean +- 2*stddev redrawn.

    The result's standard deviation is about 0.88 * stddev (the cut removes the tails).
    """

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean = _check_real("mean", mean)
        self.stddev = _check_real("stddev", stddev, minimum=0)
        super().__init__(seed)

    def __call__(self, shape, dtype="float32"):
        shape, dtype = _standardize_shape(shape), _standardize_dtype(dtype, True)
        rng = make_rng(self.seed)
        return truncated_normal(rng, shape, self.mean, self.stddev).astype(dtype)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, **super().get_config()}


class VarianceScaling(RandomInitializer):
    """Zero-mean values with variance scale / fan, where fan is chosen by `mode`.

    mode: "fan_in", "fan_out" or "fan_avg" ((fan_in + fan_out) / 2).
    distribution: "truncated_normal" (alias "normal"), "untruncated_normal" or "uniform".
    """

    MODES = ("fan_in", "fan_out", "fan_avg")
    DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        self.scale = _check_real("scale", scale, minimum=0, strict=True)
        if not isinstance(mode, str) or mode not in self.MODES:
            raise ValueError(
                f"`mode` must be one of {', '.join(self.MODES)}; received mode={mode!r}"
            )
        # Like Keras: case-insensitive, and "normal" means the truncated normal.
        dist = distribution.lower() if isinstance(distribution, str) else distribution
        dist = "truncated_normal" if dist == "normal" else dist
        if dist not in self.DISTRIBUTIONS:
            raise ValueError(
                f"`distribution` must be one of {', '.join(self.DISTRIBUTIONS)} or normal; "
                f"received distribution={distribution!r}"
            )
        self.mode = mode
        self.distribution = dist
        super().__init__(seed)

    def __call__(self, shape, dtype="float32"):
        """Return values with variance self.scale / fan, drawn from self.distribution.

        spread = variance_scaling_spread(self.scale, self.mode, self.distribution,
                                         *compute_fans(shape)), then
          truncated_normal:   truncated_normal(rng, shape, 0, spread)
          untruncated_normal: a normal with mean 0 and stddev `spread`
          uniform:            uniform on [-spread, spread)
        Return the array cast to `dtype`, shape `shape`.

        Already given: the standardized `shape` and `dtype`, `rng` (a Generator) and
        `fan_in, fan_out = compute_fans(shape)`.

        Hint: draw everything from `rng` (rng.normal, rng.uniform), so that an int seed gives
        the same values on every call.
        """
        shape, dtype = _standardize_shape(shape), _standardize_dtype(dtype, True)
        rng = make_rng(self.seed)
        fan_in, fan_out = compute_fans(shape)
        # YOUR CODE HERE
        raise NotImplementedError()

    def get_config(self):
        return {
            "scale": self.scale,
            "mode": self.mode,
            "distribution": self.distribution,
            **super().get_config(),
        }

    @classmethod
    def from_config(cls, config):
        # Keras's configs also carry input_axes/output_axes (custom fan axes, which
        # convlib does not support); accept them when they hold Keras's default None.
        config = dict(config)
        for key in ("input_axes", "output_axes"):
            axes = config.pop(key, None)
            if axes is not None:
                raise ValueError(
                    f"convlib does not support custom fan axes; received {key}={axes!r}"
                )
        return cls(**config)


class _FixedVarianceScaling(VarianceScaling):
    """A VarianceScaling whose scale, mode and distribution are fixed by the class."""

    _SETTINGS = None  # (scale, mode, distribution)

    def __init__(self, seed=None):
        scale, mode, distribution = self._SETTINGS
        super().__init__(scale=scale, mode=mode, distribution=distribution, seed=seed)

    def get_config(self):
        return {"seed": self.seed}


class GlorotNormal(_FixedVarianceScaling):
    """Truncated normal with variance 2 / (fan_in + fan_out)."""

    _SETTINGS = (1.0, "fan_avg", "truncated_normal")


class GlorotUniform(_FixedVarianceScaling):
    """Uniform on +-sqrt(6 / (fan_in + fan_out)) (variance 2 / (fan_in + fan_out))."""

    _SETTINGS = (1.0, "fan_avg", "uniform")


class HeNormal(_FixedVarianceScaling):
    """Truncated normal with variance 2 / fan_in (for ReLU networks)."""

    _SETTINGS = (2.0, "fan_in", "truncated_normal")


class HeUniform(_FixedVarianceScaling):
    """Uniform on +-sqrt(6 / fan_in) (variance 2 / fan_in)."""

    _SETTINGS = (2.0, "fan_in", "uniform")


class LecunNormal(_FixedVarianceScaling):
    """Truncated normal with variance 1 / fan_in."""

    _SETTINGS = (1.0, "fan_in", "truncated_normal")


class LecunUniform(_FixedVarianceScaling):
    """Uniform on +-sqrt(3 / fan_in) (variance 1 / fan_in)."""

    _SETTINGS = (1.0, "fan_in", "uniform")


class Orthogonal(RandomInitializer):
    """A random orthogonal matrix (times `gain`), reshaped to the requested shape.

    The shape is read as a matrix of prod(shape[:-1]) rows and shape[-1] columns; the
    columns (tall matrix) or the rows (wide matrix) are orthonormal.
    """

    def __init__(self, gain=1.0, seed=None):
        self.gain = _check_real("gain", gain, minimum=0, strict=True)
        super().__init__(seed)

    def __call__(self, shape, dtype="float32"):
        """Return gain * (a uniformly random orthogonal matrix), reshaped to `shape`.

        rows = prod(shape[:-1]), cols = shape[-1].
        1. a = standard normal of shape (max(rows, cols), min(rows, cols))
        2. q, r = QR of a (reduced: q has a's shape, orthonormal columns)
        3. q *= sign(diag(r))  (column j times the sign of r[j, j])
        4. if rows < cols: q = q.T
        5. return gain * q reshaped to `shape`, cast to `dtype`.

        Already given: the standardized `shape` and `dtype` and `rng` (a Generator).

        Hint: without step 3 the result is not uniformly random: numpy's QR makes the
        first entry of q always the same sign.
        """
        shape, dtype = _standardize_shape(shape), _standardize_dtype(dtype, True)
        if len(shape) < 2:
            raise ValueError(
                "Orthogonal needs a shape of rank >= 2; "
                f"received shape={shape} of rank {len(shape)}"
            )
        rng = make_rng(self.seed)
        # YOUR CODE HERE
        raise NotImplementedError()

    def get_config(self):
        return {"gain": self.gain, **super().get_config()}


# --------------------------------------------------------------------------------------
# Names: get / serialize / deserialize
# --------------------------------------------------------------------------------------

_CLASSES = (
    Zeros,
    Ones,
    Constant,
    RandomNormal,
    RandomUniform,
    TruncatedNormal,
    VarianceScaling,
    GlorotNormal,
    GlorotUniform,
    HeNormal,
    HeUniform,
    LecunNormal,
    LecunUniform,
    Orthogonal,
)


def _snake_case(name):
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


ALL_OBJECTS_DICT = {cls.__name__: cls for cls in _CLASSES}
ALL_OBJECTS_DICT.update({_snake_case(cls.__name__): cls for cls in _CLASSES})
ALL_OBJECTS_DICT.update(
    {
        "normal": RandomNormal,
        "uniform": RandomUniform,
        "zero": Zeros,
        "one": Ones,
        "OrthogonalInitializer": Orthogonal,  # Keras's older name
    }
)


def _allowed_names():
    return ", ".join(sorted(ALL_OBJECTS_DICT))


def _lookup(name):
    try:
        return ALL_OBJECTS_DICT[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"Unknown initializer name {name!r}; allowed names: {_allowed_names()}"
        ) from None


def serialize(initializer):
    """Return {"class_name": <Keras class name>, "config": initializer.get_config()}."""
    if not isinstance(initializer, Initializer):
        raise ValueError(
            f"Only convlib initializers can be serialized; received {initializer!r}"
        )
    return {"class_name": type(initializer).__name__, "config": initializer.get_config()}


def deserialize(config):
    """Rebuild an initializer from serialize()'s dict (Keras's own dicts are accepted too)."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(
            "`config` must be a dict with keys 'class_name' and 'config'; "
            f"received config={config!r}"
        )
    cls = _lookup(config["class_name"])
    return cls.from_config(config.get("config") or {})


def _array_initializer(array):
    """An initializer that returns (a copy of) `array`, refusing any other shape."""
    array = np.array(array, copy=True)

    def initialize(shape, dtype="float32"):
        shape = _standardize_shape(shape)
        if shape != array.shape:
            raise ValueError(
                f"This initializer holds an array of shape {array.shape}; "
                f"received shape={shape}"
            )
        return array.astype(_standardize_dtype(dtype, False))  # astype copies

    return initialize


def get(identifier):
    """Return an initializer from a name, a serialize() dict, a class, an instance,
    a callable `f(shape, dtype)` or a numpy array; None gives None."""
    if identifier is None:
        return None
    if isinstance(identifier, str):
        return _lookup(identifier)()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, (np.ndarray, np.generic)):
        return _array_initializer(identifier)
    if inspect.isclass(identifier):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(
        f"Could not interpret initializer identifier {identifier!r}; expected None, "
        f"a name, a dict, a class, a callable or an array. Allowed names: {_allowed_names()}"
    )
