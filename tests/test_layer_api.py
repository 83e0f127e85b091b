"""convlib.Conv2D's API surface against keras.layers.Conv2D, where the numeric sweep does not
reach: the sweep (tests/test_layer.py) sets every weight explicitly and never looks at a
layer's defaults, its output-shape arithmetic without a call, or its configuration.

* the default initializers of a layer built without arguments (kernel glorot_uniform, bias
  zeros), in the configuration and in the values drawn;
* `compute_output_shape` in both data formats, over a sweep of shapes and arguments, with an
  unknown (None) batch;
* every `get_config` entry: plain values equal, and for every initializer, regularizer and
  constraint the same `class_name` and the same `config` as Keras's (float32 round-off in
  Keras's stored factors allowed; keys Keras adds with their default value listed below).
"""
import math

import numpy as np
import pytest

import convlib

# Keys Keras's configs carry that convlib's do not, with the only value convlib accepts
# (convlib has no custom fan axes; see initializers.VarianceScaling.from_config).
KERAS_ONLY_KEYS = {"input_axes": None, "output_axes": None}
# Layer config keys of Keras's base Layer / convlib's opt-in flag, not Conv2D arguments.
LAYER_ONLY_KEYS = {"dtype", "trainable", "allow_strides_with_dilation"}
OBJECT_KEYS = ("kernel_initializer", "bias_initializer", "kernel_regularizer",
               "bias_regularizer", "activity_regularizer", "kernel_constraint",
               "bias_constraint")


def assert_same_object_config(key, ours, theirs):
    """convlib's {"class_name", "config"} against Keras's serialized object."""
    if theirs is None or ours is None:
        assert ours is None and theirs is None, (key, ours, theirs)
        return
    assert isinstance(ours, dict) and isinstance(theirs, dict), (key, ours, theirs)
    assert ours["class_name"] == theirs["class_name"], (key, ours, theirs)
    our_config, their_config = ours["config"], theirs["config"]
    for name, value in their_config.items():
        if name not in our_config:
            assert name in KERAS_ONLY_KEYS and value == KERAS_ONLY_KEYS[name], (key, name, value)
            continue
        mine = our_config[name]
        if isinstance(value, float):
            # Keras keeps regularizer factors as float32: 0.3 -> 0.30000001192092896
            assert math.isclose(mine, value, rel_tol=1e-6), (key, name, mine, value)
        else:
            assert mine == value, (key, name, mine, value)
    assert set(our_config) <= set(their_config), (key, our_config, their_config)


def assert_same_config(clayer, klayer):
    ours, theirs = clayer.get_config(), klayer.get_config()
    assert set(ours) - LAYER_ONLY_KEYS == set(theirs) - LAYER_ONLY_KEYS, (ours, theirs)
    for key in set(ours) - LAYER_ONLY_KEYS - {"name"}:
        if key in OBJECT_KEYS:
            assert_same_object_config(key, ours[key], theirs[key])
        else:
            assert ours[key] == theirs[key], (key, ours[key], theirs[key])


def test_default_layer_has_keras_defaults(keras):
    clayer, klayer = convlib.Conv2D(8, 3), keras.layers.Conv2D(8, 3)
    assert_same_config(clayer, klayer)
    ours = clayer.get_config()
    assert ours["kernel_initializer"]["class_name"] == "GlorotUniform"
    assert ours["bias_initializer"]["class_name"] == "Zeros"
    for key in ("kernel_regularizer", "bias_regularizer", "activity_regularizer",
                "kernel_constraint", "bias_constraint"):
        assert ours[key] is None, key


def test_default_initial_weights_are_drawn_like_keras(keras):
    """glorot_uniform kernel, zero bias. A 3x3x32x64 kernel has 18432 draws: the largest |w|
    is within 0.1 % of the limit, and the standard deviation within 3 % of limit/sqrt(3)
    (its relative standard error is about 0.5 %: a 6-sigma margin)."""
    shape = (1, 8, 8, 32)
    clayer, klayer = convlib.Conv2D(64, 3), keras.layers.Conv2D(64, 3)
    clayer.build(shape)
    klayer.build(shape)
    limit = math.sqrt(6.0 / (3 * 3 * 32 + 3 * 3 * 64))
    for who, (kernel, bias) in {"convlib": (clayer.kernel, clayer.bias),
                                "keras": tuple(klayer.get_weights())}.items():
        assert kernel.shape == (3, 3, 32, 64) and kernel.dtype == np.float32, who
        assert np.max(np.abs(kernel)) <= limit, who
        assert np.max(np.abs(kernel)) > 0.999 * limit, who
        assert abs(np.std(kernel) / (limit / math.sqrt(3)) - 1) < 0.03, who
        assert bias.shape == (64,) and np.all(bias == 0), who


def _random_shape_case(rng):
    data_format = str(rng.choice(["channels_last", "channels_first"]))
    padding = str(rng.choice(["valid", "same"]))
    kernel = tuple(int(k) for k in rng.integers(1, 6, size=2))
    if rng.random() < 0.5:
        strides, dilation = tuple(int(s) for s in rng.integers(1, 4, size=2)), (1, 1)
    else:
        strides, dilation = (1, 1), tuple(int(d) for d in rng.integers(1, 4, size=2))
    groups = int(rng.choice([1, 2, 4]))
    channels = groups * int(rng.integers(1, 4))
    span = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    spatial = [int(rng.integers(s, s + 12)) for s in span]
    batch = None if rng.random() < 0.3 else int(rng.integers(1, 5))
    if data_format == "channels_last":
        input_shape = (batch, *spatial, channels)
    else:
        input_shape = (batch, channels, *spatial)
    kwargs = dict(filters=groups * int(rng.integers(1, 4)), kernel_size=kernel,
                  strides=strides, padding=padding, dilation_rate=dilation, groups=groups,
                  data_format=data_format)
    return kwargs, input_shape


@pytest.mark.parametrize("seed", range(60))
def test_compute_output_shape_matches_keras(seed, keras):
    kwargs, input_shape = _random_shape_case(np.random.default_rng(10_000 + seed))
    ours = convlib.Conv2D(**kwargs).compute_output_shape(input_shape)
    theirs = keras.layers.Conv2D(**kwargs).compute_output_shape(input_shape)
    assert tuple(ours) == tuple(theirs), (kwargs, input_shape, ours, theirs)


def test_compute_output_shape_covers_both_formats_and_unknown_batch():
    cases = [_random_shape_case(np.random.default_rng(10_000 + s)) for s in range(60)]
    assert {k["data_format"] for k, _ in cases} == {"channels_last", "channels_first"}
    assert {k["padding"] for k, _ in cases} == {"valid", "same"}
    assert any(shape[0] is None for _, shape in cases)
    assert any(k["groups"] > 1 for k, _ in cases)
    assert any(max(k["strides"]) > 1 for k, _ in cases)
    assert any(max(k["dilation_rate"]) > 1 for k, _ in cases)


def _object_arguments(module, rng):
    """One random choice per object argument, built in `module` (convlib's or Keras's)."""
    ini, reg, con = module.initializers, module.regularizers, module.constraints
    choices = {
        "kernel_initializer": [lambda: "he_normal", lambda: ini.GlorotNormal(seed=3),
                               lambda: ini.VarianceScaling(2.0, "fan_out", "uniform"),
                               lambda: None,
                               lambda: ini.TruncatedNormal(0.1, 0.2), lambda: "lecun_uniform",
                               lambda: ini.RandomUniform(-0.3, 0.4, seed=5),
                               lambda: ini.Orthogonal(gain=1.5)],
        "bias_initializer": [lambda: "zeros", lambda: ini.Constant(0.25), lambda: "ones",
                             lambda: ini.RandomNormal(0.0, 0.5, seed=1), lambda: None],
        "kernel_regularizer": [lambda: None, lambda: "l2", lambda: reg.L1(0.3),
                               lambda: reg.L1L2(0.1, 0.2), lambda: reg.L2(0.05)],
        "bias_regularizer": [lambda: None, lambda: "l1", lambda: reg.L2(0.7)],
        "activity_regularizer": [lambda: None, lambda: reg.L1(0.01), lambda: "l2"],
        "kernel_constraint": [lambda: None, lambda: con.MaxNorm(2.0, axis=[0, 1, 2]),
                              lambda: con.UnitNorm(axis=3), lambda: "non_neg",
                              lambda: con.MinMaxNorm(0.5, 1.5, rate=0.5, axis=0)],
        "bias_constraint": [lambda: None, lambda: "non_neg", lambda: con.MaxNorm(1.0)],
    }
    return {key: options[int(rng.integers(len(options)))]()
            for key, options in choices.items()}


N_CONFIG_CASES = 40


def _config_case(seed):
    """A random layer configuration: plain arguments, and a seed for the object arguments
    (the same seed builds the convlib and the Keras objects)."""
    kwargs, _ = _random_shape_case(np.random.default_rng(20_000 + seed))
    rng = np.random.default_rng(30_000 + seed)
    kwargs["activation"] = str(rng.choice(["linear", "relu", "gelu", "softmax", "tanh",
                                           "sigmoid"]))
    kwargs["use_bias"] = bool(rng.random() < 0.8)
    return kwargs, int(rng.integers(1 << 30))


@pytest.mark.parametrize("seed", range(N_CONFIG_CASES))
def test_every_config_entry_matches_keras(seed, keras):
    kwargs, object_seed = _config_case(seed)
    clayer = convlib.Conv2D(**kwargs, **_object_arguments(
        convlib, np.random.default_rng(object_seed)))
    klayer = keras.layers.Conv2D(**kwargs, **_object_arguments(
        keras, np.random.default_rng(object_seed)))
    assert_same_config(clayer, klayer)
    again = convlib.Conv2D.from_config(clayer.get_config())
    assert again.get_config() == clayer.get_config()


def test_config_sweep_reaches_every_object_class():
    """The random configurations above meet every class listed in _object_arguments."""
    seen = set()
    for seed in range(N_CONFIG_CASES):
        kwargs, object_seed = _config_case(seed)
        config = convlib.Conv2D(**kwargs, **_object_arguments(
            convlib, np.random.default_rng(object_seed))).get_config()
        seen |= {config[k]["class_name"] for k in OBJECT_KEYS if config[k] is not None}
    expected = {"HeNormal", "GlorotNormal", "VarianceScaling", "TruncatedNormal",
                "LecunUniform", "RandomUniform", "Orthogonal", "Zeros", "Constant", "Ones",
                "RandomNormal", "L2", "L1", "L1L2", "MaxNorm", "UnitNorm", "NonNeg",
                "MinMaxNorm"}
    assert expected <= seen, sorted(expected - seen)
