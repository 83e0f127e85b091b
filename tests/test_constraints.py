"""convlib.constraints against keras.constraints: projections, axes, configs, errors.

Tolerances: projected weights use RTOL (tests/tolerances.py); no new ones.
Test weights are built so that, along the axis under test, some vectors have norms below,
some inside and some above the bounds, and one vector is exactly zero.
"""
import numpy as np
import pytest

from convlib import constraints
from tolerances import assert_close

KERNEL_SHAPE = (3, 3, 4, 8)
AXES = [0, [0, 1, 2], 3, -1, (0, 1, 2), [1, 2], None]


def norms_over(w, axis):
    if axis is None:
        axis = tuple(range(w.ndim))
    return np.sqrt(np.sum(np.square(w.astype(np.float64)), axis=tuple(np.atleast_1d(axis)),
                          keepdims=True))


def weights_with_norms(rng, shape, axis, low, high):
    """Random float32 weights whose vectors along `axis` have norms spread around [low, high].

    Norm 0 for the first vector, then one below low, one inside, one above high (when there
    are that many vectors), the rest log-uniform between low/10 and 10*high.
    """
    w = rng.standard_normal(shape)
    n = norms_over(w, axis)
    lo = max(low, 0.05)
    targets = np.exp(rng.uniform(np.log(lo / 10), np.log(10 * high), size=n.shape))
    special = [0.0, lo / 2, (lo + high) / 2, 2 * high][: targets.size]
    targets.flat[: len(special)] = special
    return (w / n * targets).astype(np.float32)


def keras_apply(tf, keras_constraint, w):
    return np.asarray(keras_constraint(tf.constant(w)))


def keras_axis(axis):
    return list(axis) if isinstance(axis, tuple) else axis


def random_bounds(rng):
    low = float(rng.uniform(0.2, 1.0))
    return low, low + float(rng.uniform(0.5, 2.0))


@pytest.mark.parametrize("axis", AXES, ids=str)
def test_max_norm_matches_keras(keras, tf, rng, axis):
    # Guards: norms over the wrong axes, shrinking short vectors too, no epsilon.
    _, high = random_bounds(rng)
    w = weights_with_norms(rng, KERNEL_SHAPE, axis, 0.0, high)
    out = constraints.MaxNorm(high, axis)(w)
    assert out.dtype == np.float32
    assert_close(out, keras_apply(tf, keras.constraints.MaxNorm(high, keras_axis(axis)), w),
                 f"MaxNorm(axis={axis})")
    assert np.all(norms_over(out, axis) <= high * (1 + 1e-6))


@pytest.mark.parametrize("axis", AXES, ids=str)
def test_unit_norm_matches_keras(keras, tf, rng, axis):
    # Guards: norms over the wrong axes; a zero vector turned into nan (no epsilon).
    w = weights_with_norms(rng, KERNEL_SHAPE, axis, 0.5, 2.0)
    out = constraints.UnitNorm(axis)(w)
    assert_close(out, keras_apply(tf, keras.constraints.UnitNorm(keras_axis(axis)), w),
                 f"UnitNorm(axis={axis})")
    n = norms_over(out, axis)
    assert np.all(np.isfinite(out)) and np.any(n == 0)
    assert np.allclose(n[n > 0], 1.0, atol=1e-5)


@pytest.mark.parametrize("rate", [1.0, 0.0, "random"])
@pytest.mark.parametrize("axis", AXES, ids=str)
def test_min_max_norm_matches_keras(keras, tf, rng, axis, rate):
    # Guards: rate applied to the wrong term, the lower bound ignored, wrong axes.
    low, high = random_bounds(rng)
    rate = float(rng.uniform(0.1, 0.9)) if rate == "random" else rate
    w = weights_with_norms(rng, KERNEL_SHAPE, axis, low, high)
    n = norms_over(w, axis)
    if n.size >= 4:  # the three regimes are all exercised
        assert np.any((n > 0) & (n < low)) and np.any((n > low) & (n < high)) and np.any(n > high)
    ours = constraints.MinMaxNorm(low, high, rate, axis)(w)
    theirs = keras_apply(tf, keras.constraints.MinMaxNorm(low, high, rate, keras_axis(axis)), w)
    assert_close(ours, theirs, f"MinMaxNorm({low:.3g}, {high:.3g}, {rate:.3g}, axis={axis})")


def test_non_neg_matches_keras(keras, tf, rng):
    # Guards: clipping at the wrong place or using abs.
    for shape in [KERNEL_SHAPE, (8,)]:
        w = rng.standard_normal(shape).astype(np.float32)
        w.flat[0] = 0.0
        out = constraints.NonNeg()(w)
        assert_close(out, keras_apply(tf, keras.constraints.NonNeg(), w), "NonNeg")
        assert out.min() >= 0 and np.array_equal(out[w > 0], w[w > 0])


@pytest.mark.parametrize("norm", ["zero", "below", "inside", "above"])
@pytest.mark.parametrize("axis", [0, -1, [0], None], ids=str)
def test_bias_vectors_match_keras(keras, tf, rng, axis, norm):
    # Guards: a bias (one vector) handled differently from a kernel; zero bias -> nan.
    low, high = 0.5, 2.0
    target = {"zero": 0.0, "below": 0.2, "inside": 1.2, "above": 5.0}[norm]
    w = rng.standard_normal(16)
    w = (w / np.linalg.norm(w) * target).astype(np.float32)
    pairs = [
        (constraints.MaxNorm(high, axis), keras.constraints.MaxNorm(high, axis)),
        (constraints.UnitNorm(axis), keras.constraints.UnitNorm(axis)),
        (constraints.MinMaxNorm(low, high, 1.0, axis),
         keras.constraints.MinMaxNorm(low, high, 1.0, axis)),
        (constraints.MinMaxNorm(low, high, 0.3, axis),
         keras.constraints.MinMaxNorm(low, high, 0.3, axis)),
        (constraints.NonNeg(), keras.constraints.NonNeg()),
    ]
    for ours, theirs in pairs:
        assert_close(ours(w), keras_apply(tf, theirs, w), repr(ours))


def test_axis_0_is_not_the_per_filter_norm(keras, tf, rng):
    # Guards: the source notes' claim that the default axis=0 constrains each conv filter.
    # On a (kh, kw, in, out) kernel axis=0 normalises each kernel column of each channel of
    # each filter separately; the per-filter norm is axis=[0, 1, 2].
    w = rng.standard_normal(KERNEL_SHAPE).astype(np.float32)
    for make in [lambda a: constraints.MaxNorm(1.0, a), constraints.UnitNorm]:
        along_rows, per_filter = make(0)(w), make([0, 1, 2])(w)
        assert np.max(np.abs(along_rows - per_filter)) > 0.1
        filter_norms = norms_over(per_filter, [0, 1, 2]).ravel()
        assert np.all(filter_norms <= 1.0 + 1e-6)
        # with axis=0 a whole filter keeps a norm up to sqrt(kw * in) times too large
        assert np.max(norms_over(along_rows, [0, 1, 2])) > 2.0
    per_filter_keras = keras_apply(tf, keras.constraints.UnitNorm([0, 1, 2]), w)
    assert_close(constraints.UnitNorm([0, 1, 2])(w), per_filter_keras, "per-filter UnitNorm")
    assert_close(constraints.UnitNorm()(w), keras_apply(tf, keras.constraints.UnitNorm(), w),
                 "default UnitNorm")


def test_integer_and_list_input(keras, tf):
    w = [[3, 4], [0, 0], [-6, 8]]
    out = constraints.MaxNorm(5, axis=1)(w)
    assert out.dtype == np.float32
    expected = keras_apply(tf, keras.constraints.MaxNorm(5, axis=1),
                           np.asarray(w, np.float32))
    assert_close(out, expected, "MaxNorm on a list")


@pytest.mark.parametrize(
    "axis, shape",
    [(4, KERNEL_SHAPE), (-5, KERNEL_SHAPE), ([0, 4], KERNEL_SHAPE), ([0, 0], KERNEL_SHAPE),
     ([1, -3], KERNEL_SHAPE), (1, (8,))],
    ids=str,
)
def test_axis_out_of_range_raises_when_applied(keras, tf, axis, shape):
    # Guards: numpy's own AxisError/wrapping hiding which axis and which weight were wrong.
    w = np.ones(shape, np.float32)
    for ours in [constraints.MaxNorm(axis=axis), constraints.UnitNorm(axis=axis),
                 constraints.MinMaxNorm(axis=axis)]:
        with pytest.raises(ValueError) as err:
            ours(w)
        assert f"axis={axis!r}" in str(err.value) and str(shape) in str(err.value)
    with pytest.raises(Exception):  # Keras fails too, but with a TensorFlow error
        keras.constraints.MaxNorm(axis=axis)(tf.constant(w))


# ---------------------------------------------------------------------------------------
# Argument validation
# ---------------------------------------------------------------------------------------

BAD_ARGUMENTS = [
    ("MaxNorm", {"max_value": -1}, "max_value=-1"),
    ("MaxNorm", {"max_value": float("nan")}, "max_value=nan"),
    ("MaxNorm", {"max_value": float("inf")}, "max_value=inf"),
    ("MaxNorm", {"max_value": "2"}, "max_value='2'"),
    ("MaxNorm", {"axis": "0"}, "axis='0'"),
    ("MaxNorm", {"axis": 1.5}, "axis=1.5"),
    ("UnitNorm", {"axis": [0, "1"]}, "axis=[0, '1']"),
    ("UnitNorm", {"axis": True}, "axis=True"),
    ("MinMaxNorm", {"min_value": -0.5}, "min_value=-0.5"),
    ("MinMaxNorm", {"min_value": 2.0, "max_value": 1.0}, "min_value=2.0"),
    ("MinMaxNorm", {"rate": 1.5}, "rate=1.5"),
    ("MinMaxNorm", {"rate": -0.1}, "rate=-0.1"),
    ("MinMaxNorm", {"rate": None}, "rate=None"),
    ("MinMaxNorm", {"axis": {0: 1}}, "axis={0: 1}"),
]


@pytest.mark.parametrize("class_name, kwargs, text", BAD_ARGUMENTS)
def test_bad_arguments_raise(keras, class_name, kwargs, text):
    # Guards: a constraint that silently zeroes, flips or nan-s every weight. Keras itself
    # validates none of these (the comments in constraints.py say why convlib is stricter).
    with pytest.raises(ValueError) as err:
        getattr(constraints, class_name)(**kwargs)
    assert text in str(err.value)
    getattr(keras.constraints, class_name)(**kwargs)  # Keras accepts it without a word


def test_valid_edge_arguments():
    assert constraints.MinMaxNorm(1.0, 1.0, 0.0).rate == 0.0
    assert constraints.MaxNorm(0, axis=np.int64(2)).get_config() == {"max_value": 0, "axis": 2}
    assert constraints.UnitNorm(axis=(0, 1, 2)).get_config() == {"axis": [0, 1, 2]}
    assert constraints.MaxNorm(np.float32(1.5)).max_value == 1.5


# ---------------------------------------------------------------------------------------
# get / serialize / deserialize / configs
# ---------------------------------------------------------------------------------------

NAMES = {
    "MaxNorm": "MaxNorm",
    "max_norm": "MaxNorm",
    "MinMaxNorm": "MinMaxNorm",
    "min_max_norm": "MinMaxNorm",
    "NonNeg": "NonNeg",
    "non_neg": "NonNeg",
    "UnitNorm": "UnitNorm",
    "unit_norm": "UnitNorm",
}


@pytest.mark.parametrize("name", sorted(NAMES))
def test_get_by_name_matches_keras(keras, name):
    # Guards: wrong defaults behind a name (e.g. max_value=1 instead of 2), missing aliases.
    ours = constraints.get(name)
    theirs = keras.constraints.get(name)
    assert type(ours).__name__ == type(theirs).__name__ == NAMES[name]
    assert ours.get_config() == theirs.get_config()
    assert constraints.get({"class_name": name, "config": {}}) == ours


def random_instances(rng):
    low, high = random_bounds(rng)
    return [
        constraints.MaxNorm(high, [0, 1, 2]),
        constraints.MaxNorm(),
        constraints.UnitNorm(-1),
        constraints.UnitNorm(None),
        constraints.MinMaxNorm(low, high, float(rng.uniform(0, 1)), 3),
        constraints.MinMaxNorm(),
        constraints.NonNeg(),
    ]


def test_serialize_round_trips_and_matches_keras(keras, tf, rng):
    # Guards: a config that does not rebuild the same constraint, or differs from Keras's.
    for c in random_instances(rng):
        config = c.get_config()
        assert type(c).from_config(config) == c
        data = constraints.serialize(c)
        assert set(data) == {"class_name", "config"}
        assert constraints.deserialize(data) == c
        assert constraints.get(data) == c
        keras_c = getattr(keras.constraints, type(c).__name__)(**config)
        keras_data = keras.constraints.serialize(keras_c)
        assert data["class_name"] == keras_data["class_name"]
        assert data["config"] == keras_data["config"]
        assert constraints.deserialize(keras_data) == c  # Keras's dict (with "module") too
        w = weights_with_norms(rng, KERNEL_SHAPE, 3, 0.5, 2.0)
        assert_close(constraints.deserialize(data)(w), keras_apply(tf, keras_c, w),
                     repr(c))
    assert constraints.serialize(None) is None


def test_get_accepts_classes_instances_and_callables(rng):
    assert constraints.get(None) is None
    assert constraints.get(constraints.NonNeg) == constraints.NonNeg()
    c = constraints.MaxNorm(3.0, [0, 1, 2])
    assert constraints.get(c) is c

    def clip(w):
        return np.clip(w, -1, 1)

    assert constraints.get(clip) is clip
    base = constraints.get("Constraint")
    w = rng.standard_normal((2, 3))
    assert base(w) is w


@pytest.mark.parametrize("identifier", ["max_norms", "maxnorm", "", 3, 1.5, [0, 1]])
def test_unknown_identifiers_raise(keras, identifier):
    # Guards: a typo silently meaning "no constraint".
    with pytest.raises(ValueError) as err:
        constraints.get(identifier)
    assert repr(identifier) in str(err.value)
    with pytest.raises(ValueError):
        keras.constraints.get(identifier)
    with pytest.raises(ValueError) as err:
        constraints.deserialize({"class_name": "L2", "config": {}})
    assert "'L2'" in str(err.value)
