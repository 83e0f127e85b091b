"""convlib.initializers against keras.initializers: fans, distributions, orthogonality,
constants, names, configs and seeds.

Random initializers cannot be compared value by value (different random streams), so each
one is compared by its statistics: INIT_SAMPLES values drawn with the same fans from
convlib and from Keras, checked against each other and against the analytic target.

Tolerances: INIT_* and the ones below come from tests/tolerances.py (with reasons).
"""
import math
import re

import numpy as np
import pytest

from convlib import initializers
from tolerances import (INIT_MEAN_TOL, INIT_SAMPLES, INIT_STD_RTOL, ORTHO_ATOL, SIGN_BAND,
                        SIGN_DRAWS, TRUNCATION_RTOL, UNIFORM_EDGE_FRACTION)

CONV_SHAPE = (3, 5, 7, 11)  # fan_in = 105, fan_out = 165: the fans differ, so mode matters


def _truncated_std_factor():
    """Std of a standard normal cut to [-2, 2], from its closed form (not Keras's constant)."""
    pdf2 = math.exp(-2.0) / math.sqrt(2 * math.pi)
    mass = math.erf(2 / math.sqrt(2))
    return math.sqrt(1 - 2 * 2 * pdf2 / mass)


TRUNC_STD = _truncated_std_factor()  # 0.8796...

# Keras's scale, mode and distribution of each named VarianceScaling initializer.
NAMED_VS = {
    "GlorotNormal": (1.0, "fan_avg", "truncated_normal"),
    "GlorotUniform": (1.0, "fan_avg", "uniform"),
    "HeNormal": (2.0, "fan_in", "truncated_normal"),
    "HeUniform": (2.0, "fan_in", "uniform"),
    "LecunNormal": (1.0, "fan_in", "truncated_normal"),
    "LecunUniform": (1.0, "fan_in", "uniform"),
}


# ----------------------------------------------------------------------------- helpers


def keras_fans(keras, shape):
    from keras.src.initializers.random_initializers import compute_fans

    return compute_fans(shape)


def target(keras, class_name, kwargs, shape):
    """The analytic distribution: (mean, std, kind, bound) with kind in
    normal / truncated (bound = largest allowed |x - mean|) / uniform (bound = (lo, hi))."""
    if class_name == "RandomNormal":
        return kwargs["mean"], kwargs["stddev"], "normal", None
    if class_name == "TruncatedNormal":
        sd = kwargs["stddev"]
        return kwargs["mean"], sd * TRUNC_STD, "truncated", 2 * sd
    if class_name == "RandomUniform":
        lo, hi = kwargs["minval"], kwargs["maxval"]
        return (lo + hi) / 2, (hi - lo) / math.sqrt(12), "uniform", (lo, hi)
    if class_name == "VarianceScaling":
        scale, mode, dist = kwargs["scale"], kwargs["mode"], kwargs["distribution"]
    else:
        scale, mode, dist = NAMED_VS[class_name]
    fan_in, fan_out = keras_fans(keras, shape)
    fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]
    std = math.sqrt(scale / max(1.0, fan))
    if dist in ("truncated_normal", "normal"):
        return 0.0, std, "truncated", 2 * std / TRUNC_STD
    if dist == "untruncated_normal":
        return 0.0, std, "normal", None
    limit = math.sqrt(3) * std
    return 0.0, std, "uniform", (-limit, limit)


def problems(x, ref, expected):
    """What is wrong with sample `x` given Keras's sample `ref` and the analytic target;
    an empty list means x passes."""
    mean, std, kind, bound = expected
    found = []
    if abs(x.mean() - mean) > INIT_MEAN_TOL * std:
        found.append(f"mean {x.mean():.4g}, target {mean:.4g}")
    if abs(x.mean() - ref.mean()) > INIT_MEAN_TOL * std:
        found.append(f"mean {x.mean():.4g}, Keras {ref.mean():.4g}")
    if abs(x.std() / std - 1) > INIT_STD_RTOL:
        found.append(f"std {x.std():.4g}, target {std:.4g}")
    if abs(x.std() / ref.std() - 1) > INIT_STD_RTOL:
        found.append(f"std {x.std():.4g}, Keras {ref.std():.4g}")
    dev = np.abs(x - mean).max()
    if kind == "truncated":
        if dev > bound * (1 + TRUNCATION_RTOL):
            found.append(f"bound: max |x - mean| {dev:.4g} beyond 2 sigma {bound:.4g}")
        if dev < 0.95 * bound:
            found.append(f"bound: max |x - mean| {dev:.4g} well inside 2 sigma {bound:.4g}")
    elif kind == "normal":
        if dev < 3 * std:  # ~540 of 200_000 normal draws lie beyond 3 sigma
            found.append(f"bound: no tail, max |x - mean| {dev:.4g} < 3 sigma")
    else:
        lo, hi = bound
        slack = TRUNCATION_RTOL * max(abs(lo), abs(hi))
        edge = UNIFORM_EDGE_FRACTION * (hi - lo)
        if x.min() < lo - slack or x.max() > hi + slack:
            found.append(f"bound: range [{x.min():.4g}, {x.max():.4g}] outside [{lo:.4g}, {hi:.4g}]")
        if x.min() > lo + edge or x.max() < hi - edge:
            found.append(f"bound: range [{x.min():.4g}, {x.max():.4g}] short of [{lo:.4g}, {hi:.4g}]")
    return found


def calls_needed(shape):
    return math.ceil(INIT_SAMPLES / math.prod(shape))


def convlib_sample(init, shape):
    """INIT_SAMPLES+ values from a convlib initializer (whose seed is a Generator)."""
    return np.concatenate(
        [np.asarray(init(shape), np.float64).ravel() for _ in range(calls_needed(shape))]
    )


def keras_sample(keras, class_name, kwargs, shape):
    """INIT_SAMPLES+ values from Keras, drawn with the distribution Keras uses for `shape`.

    Keras's distribution depends on the shape only through the fans, so to save thousands
    of small calls the draws use the largest shape with the same fans, (fan_in, fan_out)
    (one call per int seed), or one big call when the fans do not matter.
    """
    cls = getattr(keras.initializers, class_name)
    if class_name in ("RandomNormal", "RandomUniform", "TruncatedNormal"):
        big = (INIT_SAMPLES,)
    else:
        big = keras_fans(keras, shape)
        assert keras_fans(keras, big) == keras_fans(keras, shape)
    return np.concatenate(
        [
            keras.ops.convert_to_numpy(cls(**kwargs, seed=1000 + s)(big)).astype(np.float64).ravel()
            for s in range(calls_needed(big))
        ]
    )


# ----------------------------------------------------------------------------- fans


@pytest.mark.parametrize(
    "shape", [(), (7,), (4, 6), (6, 4), (3, 5, 7), CONV_SHAPE, (3, 3, 1, 8), (2, 3, 4, 5, 6)]
)
def test_compute_fans_matches_keras(keras, shape):
    # guards: conv fans without the receptive field (fan_in = in_channels only), and
    # fan_in/fan_out swapped (the (4, 6) / (6, 4) pair)
    assert initializers.compute_fans(shape) == keras_fans(keras, shape)


def test_compute_fans_include_receptive_field():
    assert initializers.compute_fans(CONV_SHAPE) == (3 * 5 * 7, 3 * 5 * 11)


# ----------------------------------------------------------------------------- distributions

BASIC_CASES = [
    ("RandomNormal", {"mean": 0.3, "stddev": 0.7}),
    ("RandomUniform", {"minval": -0.2, "maxval": 0.5}),
    ("TruncatedNormal", {"mean": -0.1, "stddev": 0.4}),
]
NAMED_SHAPES = [CONV_SHAPE, (64, 32), (200,), (2, 3, 4, 5, 6)]
# A first conv layer on grayscale images: small fans (9, 72); Keras needs ~300 calls for
# 200_000 values with these fans, so only one normal and one uniform initializer use it.
SMALL_FAN_CASES = [("HeNormal", {}, (3, 3, 1, 8)), ("GlorotUniform", {}, (3, 3, 1, 8))]
VS_CASES = [
    ("VarianceScaling", {"scale": scale, "mode": mode, "distribution": dist})
    for scale, dist in [
        (0.5, "truncated_normal"),
        (3.0, "untruncated_normal"),
        (2.0, "uniform"),
        (1.5, "normal"),
    ]
    for mode in ("fan_in", "fan_out", "fan_avg")
]
DISTRIBUTION_CASES = (
    [(name, kw, shape) for name, kw in BASIC_CASES for shape in [CONV_SHAPE, (50,)]]
    + [(name, {}, shape) for name in NAMED_VS for shape in NAMED_SHAPES]
    + SMALL_FAN_CASES
    + [(name, kw, shape) for name, kw in VS_CASES for shape in [CONV_SHAPE, (120, 40)]]
)


@pytest.mark.parametrize(
    "class_name, kwargs, shape",
    DISTRIBUTION_CASES,
    ids=[f"{n}-{'-'.join(map(str, kw.values()))}-{s}" for n, kw, s in DISTRIBUTION_CASES],
)
def test_distribution_matches_keras(keras, class_name, kwargs, shape):
    # guards: the wrong scale or fan, the limit/variance mix-up (std off by sqrt(3)), a
    # truncated normal not rescaled by 0.8796 (std off by 12%), clipping instead of
    # redrawing or no truncation (bounds), a uniform on the wrong interval
    expected = target(keras, class_name, kwargs, shape)
    ref = keras_sample(keras, class_name, kwargs, shape)
    assert problems(ref, ref, expected) == [], "the analytic target does not describe Keras"

    init = getattr(initializers, class_name)(**kwargs, seed=np.random.default_rng(7))
    values = init(shape)
    assert values.shape == shape and values.dtype == np.float32
    assert problems(convlib_sample(init, shape), ref, expected) == []


def test_truncated_constant_is_the_truncated_normal_std():
    # guards: a wrong rescaling constant for the truncated normal
    assert initializers.TRUNCATED_NORMAL_STD == pytest.approx(TRUNC_STD, rel=1e-12)


def test_limit_used_as_std_fails_the_checks(keras, rng):
    # The misconception "sqrt(6 / (fan_in + fan_out)) is the spread" (it is Glorot-uniform's
    # limit): a sample with that standard deviation must fail the std checks.
    expected = target(keras, "GlorotUniform", {}, CONV_SHAPE)
    ref = keras_sample(keras, "GlorotUniform", {}, CONV_SHAPE)
    fan_in, fan_out = keras_fans(keras, CONV_SHAPE)
    wrong_std = math.sqrt(6 / (fan_in + fan_out))
    wrong = rng.uniform(-math.sqrt(3) * wrong_std, math.sqrt(3) * wrong_std, INIT_SAMPLES)
    found = problems(wrong, ref, expected)
    assert any(p.startswith("std") and "Keras" in p for p in found), found
    assert any(p.startswith("bound") for p in found), found


@pytest.mark.parametrize("class_name", ["HeNormal", "GlorotNormal", "LecunNormal"])
def test_untruncated_normal_with_keras_stddev_fails_the_checks(keras, rng, class_name):
    # The misconception "draw a plain normal with stddev = sqrt(scale / fan) / 0.8796": its
    # spread is 1/0.8796 = 1.137 times Keras's, and it has tails beyond the cut.
    expected = target(keras, class_name, {}, CONV_SHAPE)
    ref = keras_sample(keras, class_name, {}, CONV_SHAPE)
    wrong = rng.normal(0.0, expected[3] / 2, INIT_SAMPLES)  # bound / 2 = Keras's stddev
    found = problems(wrong, ref, expected)
    assert any(p.startswith("std") and "Keras" in p for p in found), found
    assert any(p.startswith("bound") for p in found), found


def test_truncated_without_rescaling_fails_the_checks(keras, rng):
    # The misconception "truncate a normal of stddev sqrt(scale / fan)": 12% too narrow.
    expected = target(keras, "HeNormal", {}, CONV_SHAPE)
    ref = keras_sample(keras, "HeNormal", {}, CONV_SHAPE)
    wrong = initializers.truncated_normal(rng, (INIT_SAMPLES,), 0.0, expected[1])
    assert any(p.startswith("std") for p in problems(wrong, ref, expected))


def test_truncated_normal_redraws_rather_than_clips(rng):
    # guards: np.clip(z, -2, 2) piles ~4.6% of the values onto the bounds
    x = initializers.truncated_normal(rng, (INIT_SAMPLES,), 1.0, 0.5)
    assert x.shape == (INIT_SAMPLES,)
    assert np.abs(x - 1.0).max() <= 1.0
    assert np.mean(np.abs(x - 1.0) > 0.999) < 1e-3
    assert abs(x.std() / (0.5 * TRUNC_STD) - 1) <= INIT_STD_RTOL


def test_empty_shapes_do_not_divide_by_zero():
    # guards: scale / fan with fan = 0 (Keras divides by max(1, fan))
    for init in [initializers.HeNormal(seed=0), initializers.GlorotUniform(seed=0)]:
        assert init((3, 3, 0, 8)).shape == (3, 3, 0, 8)


# ----------------------------------------------------------------------------- orthogonal

ORTHO_SHAPES = [(3, 3, 4, 8), (2, 16), (5, 5), (3, 3, 2, 32), (4, 5, 6)]


def assert_orthonormal(values, shape, gain, who):
    flat = np.asarray(values, np.float64).reshape(math.prod(shape[:-1]), shape[-1])
    gram = flat.T @ flat if flat.shape[0] >= flat.shape[1] else flat @ flat.T
    err = np.abs(gram - gain**2 * np.eye(len(gram))).max()
    assert err <= ORTHO_ATOL * gain**2, f"{who}: |q^T q - gain^2 I| = {err:.3g}"


@pytest.mark.parametrize("gain", [1.0, 1.7])
@pytest.mark.parametrize("shape", ORTHO_SHAPES)
def test_orthogonal_is_orthonormal(keras, shape, gain):
    # guards: a wide matrix left untransposed (the (cols, rows) q reshaped to (rows, cols)
    # has neither orthonormal rows nor columns), the gain forgotten or squared
    values = initializers.Orthogonal(gain=gain, seed=3)(shape)
    assert values.shape == shape and values.dtype == np.float32
    assert_orthonormal(values, shape, gain, "convlib")
    ref = keras.initializers.Orthogonal(gain=gain, seed=3)(shape)
    assert_orthonormal(keras.ops.convert_to_numpy(ref), shape, gain, "Keras")


@pytest.mark.parametrize("shape", [(3, 3, 16, 64), (8, 300)])
def test_orthogonal_entry_statistics_match_keras(keras, shape):
    # guards: wrong scaling of the entries (their std must be gain / sqrt(max(rows, cols)))
    gain = 1.3
    rows, cols = math.prod(shape[:-1]), shape[-1]
    std = gain / math.sqrt(max(rows, cols))
    init = initializers.Orthogonal(gain=gain, seed=np.random.default_rng(11))
    x = convlib_sample(init, shape)
    ref = np.concatenate(
        [
            keras.ops.convert_to_numpy(keras.initializers.Orthogonal(gain, seed=s)(shape)).ravel()
            for s in range(calls_needed(shape))
        ]
    )
    for sample in (x, ref):
        assert abs(sample.mean()) <= INIT_MEAN_TOL * std
        assert abs(sample.std() / std - 1) <= INIT_STD_RTOL
    assert abs(x.std() / ref.std() - 1) <= INIT_STD_RTOL


def test_orthogonal_sign_correction(keras):
    # guards: skipping q *= sign(diag(r)); numpy's QR then gives q[0, 0] < 0 every time,
    # so the matrix is not uniformly random. With the correction, either sign is as likely.
    shape = (6, 4)
    gen = np.random.default_rng(5)
    init = initializers.Orthogonal(seed=gen)
    ours = np.mean([init(shape)[0, 0] > 0 for _ in range(SIGN_DRAWS)])
    theirs = np.mean(
        [
            keras.ops.convert_to_numpy(keras.initializers.Orthogonal(seed=s)(shape))[0, 0] > 0
            for s in range(SIGN_DRAWS)
        ]
    )
    naive = np.mean(
        [np.linalg.qr(gen.standard_normal(shape))[0][0, 0] > 0 for _ in range(SIGN_DRAWS)]
    )
    assert abs(ours - 0.5) <= SIGN_BAND, ours
    assert abs(theirs - 0.5) <= SIGN_BAND, theirs
    assert abs(naive - 0.5) > SIGN_BAND, naive  # the check does catch the misconception


@pytest.mark.parametrize("shape", [(5,), ()])
def test_orthogonal_rejects_rank_below_two(keras, shape):
    with pytest.raises(ValueError, match=re.escape(str(shape))):
        initializers.Orthogonal()(shape)
    with pytest.raises(ValueError):
        keras.initializers.Orthogonal()(shape)


# ----------------------------------------------------------------------------- constants


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32"])
@pytest.mark.parametrize(
    "class_name, kwargs",
    [("Zeros", {}), ("Ones", {}), ("Constant", {}), ("Constant", {"value": -2.5}),
     ("Constant", {"value": 3})],
)
def test_constants_equal_keras(keras, class_name, kwargs, dtype):
    # guards: a constant initializer ignoring the value or the dtype
    shape = (3, 3, 2, 4)
    ours = getattr(initializers, class_name)(**kwargs)(shape, dtype=dtype)
    ref = keras.ops.convert_to_numpy(getattr(keras.initializers, class_name)(**kwargs)(shape, dtype=dtype))
    assert ours.dtype == ref.dtype
    np.testing.assert_array_equal(ours, ref)


def test_default_dtype_is_float32():
    for name in ["zeros", "ones", "constant", "random_normal", "glorot_uniform", "orthogonal"]:
        assert initializers.get(name)((4, 3)).dtype == np.float32
        assert initializers.get(name)((4, 3), dtype="float64").dtype == np.float64


# ----------------------------------------------------------------------------- names


def keras_names(keras):
    """Keras's registered initializer names, less those convlib does not implement."""
    from keras.src.initializers import ALL_OBJECTS_DICT

    skipped = {"Identity", "STFT", "Initializer"}
    return sorted(n for n, cls in ALL_OBJECTS_DICT.items() if cls.__name__ not in skipped)


def test_names_are_keras_names(keras):
    # guards: a missing snake_case name or alias ("zero", "one", "normal", "uniform")
    assert sorted(initializers.ALL_OBJECTS_DICT) == keras_names(keras)
    for name, alias in [("normal", "RandomNormal"), ("uniform", "RandomUniform"),
                        ("zero", "Zeros"), ("one", "Ones")]:
        assert type(initializers.get(name)).__name__ == alias


def test_get_and_serialize_every_name(keras):
    # guards: names mapped to the wrong class, configs with other keys or defaults than Keras's
    for name in keras_names(keras):
        ours = initializers.get(name)
        if name in ("Constant", "constant"):
            # Keras 3.15 cannot do get("constant"): Constant.from_config({}) needs "value"
            # (KeyError); convlib uses the default value 0.0 instead.
            with pytest.raises(KeyError):
                keras.initializers.get(name)
            ref = keras.initializers.Constant()
        else:
            ref = keras.initializers.get(name)
        assert type(ours).__name__ == type(ref).__name__, name
        config = initializers.serialize(ours)
        ref_config = keras.initializers.serialize(ref)
        assert config["class_name"] == ref_config["class_name"], name
        shared = set(config["config"]) & set(ref_config["config"])
        assert set(config["config"]) == shared, name
        assert {k: config["config"][k] for k in shared} == {
            k: ref_config["config"][k] for k in shared
        }, name
        back = initializers.deserialize(config)
        assert type(back) is type(ours) and back.get_config() == ours.get_config(), name
        again = initializers.get(config)
        assert type(again) is type(ours) and again.get_config() == ours.get_config(), name


NON_DEFAULT = [
    ("Constant", {"value": 1.5}),
    ("RandomNormal", {"mean": 0.5, "stddev": 2.0, "seed": 4}),
    ("RandomUniform", {"minval": -1.0, "maxval": 2.0, "seed": 3}),
    ("TruncatedNormal", {"mean": 0.1, "stddev": 0.2, "seed": 9}),
    ("VarianceScaling", {"scale": 2.5, "mode": "fan_out", "distribution": "uniform", "seed": 4}),
    ("VarianceScaling", {"scale": 0.5, "mode": "fan_avg", "distribution": "untruncated_normal"}),
    ("GlorotNormal", {"seed": 7}),
    ("HeUniform", {"seed": 1}),
    ("Orthogonal", {"gain": 0.5, "seed": 2}),
]


@pytest.mark.parametrize("class_name, kwargs", NON_DEFAULT)
def test_config_round_trip_and_keras_configs(keras, class_name, kwargs):
    # guards: get_config forgetting an argument (the rebuilt object would draw differently)
    ours = getattr(initializers, class_name)(**kwargs)
    config = ours.get_config()
    rebuilt = type(ours).from_config(config)
    assert rebuilt.get_config() == config
    assert ours.clone().get_config() == config
    if "seed" in kwargs:  # the same int seed: the rebuilt initializer draws the same values
        np.testing.assert_array_equal(rebuilt(CONV_SHAPE), ours(CONV_SHAPE))
    # Keras's own serialized dict (with its extra keys) loads into the same object
    ref = keras.initializers.serialize(getattr(keras.initializers, class_name)(**kwargs))
    loaded = initializers.deserialize(ref)
    assert type(loaded) is type(ours) and loaded.get_config() == config


def test_variance_scaling_normal_alias_is_truncated(keras):
    # Keras stores distribution="normal" (any case) as "truncated_normal"
    for dist in ["normal", "Normal", "TRUNCATED_NORMAL"]:
        ours = initializers.VarianceScaling(distribution=dist).get_config()["distribution"]
        ref = keras.initializers.VarianceScaling(distribution=dist).get_config()["distribution"]
        assert ours == ref == "truncated_normal"


def test_get_other_identifiers():
    assert initializers.get(None) is None  # the layer decides what None means
    made = initializers.get(initializers.HeNormal)
    assert type(made) is initializers.HeNormal
    instance = initializers.Constant(2.0)
    assert initializers.get(instance) is instance

    def my_init(shape, dtype="float32"):
        return np.full(shape, 7.0, dtype)

    assert initializers.get(my_init) is my_init


def test_get_array_identifier(keras, rng):
    # guards: returning the array itself (later edits would leak into the weights)
    array = rng.standard_normal((3, 4))
    init = initializers.get(array)
    first = init((3, 4))
    assert first.dtype == np.float32
    np.testing.assert_array_equal(first, array.astype(np.float32))
    np.testing.assert_array_equal(
        first, keras.ops.convert_to_numpy(keras.initializers.get(array)((3, 4)))
    )
    first[...] = 0
    array[...] = 0
    assert np.all(init((3, 4)) != 0)
    with pytest.raises(ValueError, match=re.escape("(4, 3)")):
        init((4, 3))
    with pytest.raises(ValueError):
        keras.initializers.get(array)((4, 3))


@pytest.mark.parametrize(
    "identifier, received",
    [("glorot", "glorot"), ("GlorotUniformm", "GlorotUniformm"), (3.5, "3.5"),
     ([1, 2], "[1, 2]"), ({"class_name": "Foo", "config": {}}, "Foo")],
)
def test_get_unknown_raises(keras, identifier, received):
    # guards: unknown names silently falling back to a default
    with pytest.raises(ValueError, match=re.escape(received)) as info:
        initializers.get(identifier)
    assert "glorot_uniform" in str(info.value)  # the allowed names are listed
    with pytest.raises(ValueError):
        keras.initializers.get(identifier)


BAD_ARGUMENTS = [
    # (make, text the message must contain, whether Keras rejects it as well)
    (lambda m: m.VarianceScaling(scale=0), "scale=0", True),
    (lambda m: m.VarianceScaling(scale=-1.5), "-1.5", True),
    (lambda m: m.VarianceScaling(mode="fan_sum"), "fan_sum", True),
    (lambda m: m.VarianceScaling(distribution="gaussian"), "gaussian", True),
    (lambda m: m.GlorotUniform(seed="abc"), "abc", True),
    (lambda m: m.RandomNormal(seed=1.5), "1.5", True),
    (lambda m: m.Orthogonal()((5,)), "(5,)", True),
    (lambda m: m.RandomNormal(stddev=-1), "stddev=-1", False),
    (lambda m: m.TruncatedNormal(stddev=float("nan")), "nan", False),
    (lambda m: m.RandomUniform(minval=1, maxval=0), "minval=1", False),
    (lambda m: m.HeNormal(seed=-3), "-3", False),
    (lambda m: m.Orthogonal(gain=0), "gain=0", False),
    (lambda m: m.Constant(value=[1, 2]), "[1, 2]", False),
    (lambda m: m.RandomNormal()((2, 3), dtype="int32"), "int32", False),
    (lambda m: m.Zeros()((2, -1)), "-1", False),
]


@pytest.mark.parametrize("make, received, keras_rejects", BAD_ARGUMENTS)
def test_bad_arguments_raise(keras, make, received, keras_rejects):
    # guards: invalid settings accepted and failing later, far from their cause
    with pytest.raises(ValueError, match=re.escape(received)):
        make(initializers)
    if keras_rejects:
        with pytest.raises(ValueError):
            make(keras.initializers)


# ----------------------------------------------------------------------------- seeds

RANDOM_CLASSES = ["RandomNormal", "RandomUniform", "TruncatedNormal", "VarianceScaling",
                  "GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform", "LecunNormal",
                  "LecunUniform", "Orthogonal"]


@pytest.mark.parametrize("class_name", RANDOM_CLASSES)
def test_int_seed_is_reproducible_like_keras(keras, class_name):
    # guards: an int seed fed to a shared global stream (each call would differ)
    cls = getattr(initializers, class_name)
    init = cls(seed=42)
    np.testing.assert_array_equal(init(CONV_SHAPE), init(CONV_SHAPE))
    np.testing.assert_array_equal(init(CONV_SHAPE), cls(seed=42)(CONV_SHAPE))
    assert not np.array_equal(init(CONV_SHAPE), cls(seed=43)(CONV_SHAPE))
    ref = getattr(keras.initializers, class_name)(seed=42)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(ref(CONV_SHAPE)),
                                  keras.ops.convert_to_numpy(ref(CONV_SHAPE)))


@pytest.mark.parametrize("class_name", RANDOM_CLASSES)
def test_generator_seed_advances(class_name):
    # guards: copying the Generator (every call would repeat) instead of drawing from it
    cls = getattr(initializers, class_name)
    gen = np.random.default_rng(5)
    init = cls(seed=gen)
    state = gen.bit_generator.state
    first, second = init(CONV_SHAPE), init(CONV_SHAPE)
    assert gen.bit_generator.state != state
    assert not np.array_equal(first, second)
    replay = cls(seed=np.random.default_rng(5))  # the same stream gives the same sequence
    np.testing.assert_array_equal(replay(CONV_SHAPE), first)
    np.testing.assert_array_equal(replay(CONV_SHAPE), second)


@pytest.mark.parametrize("class_name", RANDOM_CLASSES)
def test_no_seed_gives_fresh_values(class_name):
    # convlib's choice: seed=None draws fresh entropy on every call. (Keras instead picks
    # one random int seed when the initializer is built, so one Keras instance repeats.)
    init = getattr(initializers, class_name)()
    assert not np.array_equal(init(CONV_SHAPE), init(CONV_SHAPE))


def test_make_rng():
    gen = np.random.default_rng(0)
    assert initializers.make_rng(gen) is gen
    assert initializers.make_rng(9).random() == initializers.make_rng(9).random()
    assert isinstance(initializers.make_rng(None), np.random.Generator)
    with pytest.raises(ValueError, match="received seed='x'"):
        initializers.make_rng("x")
