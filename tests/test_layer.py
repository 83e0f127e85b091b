"""convlib.Conv2D against keras.layers.Conv2D: outputs, losses, gradients, one SGD step.

Each sweep case is a random valid configuration (tests/keras_cases.py) covering every
argument together: both data formats, odd and even sizes, non-square kernels, strides and
dilations, groups, all activations, regularizers (kernel, bias, activity) and constraints.
"""
import numpy as np
import pytest

import convlib
from keras_cases import make_pair, random_case
from tolerances import LOSS_RTOL, assert_close

N_SWEEP_CASES = 160
N_LARGE_CASES = 24
LEARNING_RATE = 0.05


def keras_forward_backward(tf, klayer, x, upstream):
    """y, losses, and d(sum(y*upstream) + sum(losses)) / d(x, kernel, bias) from Keras."""
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        y = klayer(xt)
        losses = list(klayer.losses)
        total = tf.reduce_sum(y * upstream) + tf.add_n(losses) if losses else \
            tf.reduce_sum(y * upstream)
    grads = tape.gradient(total, [xt] + list(klayer.trainable_variables))
    return y.numpy(), [float(l) for l in losses], [g.numpy() for g in grads]


@pytest.mark.parametrize("index", range(N_SWEEP_CASES))
def test_random_configuration_matches_keras(index, keras, tf, rng):
    assert_layer_matches_keras(index, *random_case(index), keras, tf, rng)


@pytest.mark.parametrize("index", range(N_LARGE_CASES))
def test_large_random_configuration_matches_keras(index, keras, tf, rng):
    """Batches of 2 to 8 and inputs up to 40 pixels beyond the kernel's span."""
    case, input_shape = random_case(index, large=True)
    assert input_shape[0] >= 2
    assert_layer_matches_keras(f"large {index}", case, input_shape, keras, tf, rng)


def assert_layer_matches_keras(index, case, input_shape, keras, tf, rng):
    klayer, clayer = make_pair(keras, case, input_shape, rng)
    x = rng.standard_normal(input_shape).astype(np.float32)
    y_keras_shape = klayer.compute_output_shape(input_shape)
    upstream = rng.standard_normal(y_keras_shape).astype(np.float32)
    label = f"case {index}: {case}, input {input_shape}"

    y_keras, losses_keras, grads_keras = keras_forward_backward(tf, klayer, x, upstream)
    y = clayer(x)
    assert_close(y, y_keras, f"output, {label}")
    assert len(clayer.losses) == len(losses_keras), label
    for mine, theirs in zip(clayer.losses, losses_keras):
        assert_close(mine, theirs, f"loss, {label}", rtol=LOSS_RTOL)

    grads = clayer.backward(upstream)
    assert_close(grads["input"], grads_keras[0], f"d input, {label}")
    assert_close(grads["kernel"], grads_keras[1], f"d kernel, {label}")
    if case["use_bias"]:
        assert_close(grads["bias"], grads_keras[2], f"d bias, {label}")
    else:
        assert grads["bias"] is None

    # One optimizer step: update, then constraints (Keras applies them after the update).
    keras.optimizers.SGD(LEARNING_RATE).apply_gradients(
        zip(grads_keras[1:], klayer.trainable_variables))
    convlib.SGD(LEARNING_RATE).apply_gradients(clayer, grads)
    for name, mine, theirs in zip(("kernel", "bias"), clayer.get_weights(),
                                  klayer.get_weights()):
        assert_close(mine, theirs, f"{name} after one SGD step, {label}")


def test_sweep_covers_every_argument():
    """The sweep is only as good as its coverage: every value of every argument appears."""
    cases = [random_case(i)[0] for i in range(N_SWEEP_CASES)]
    seen = lambda key: {repr(c[key]) for c in cases}  # noqa: E731
    from keras_cases import ACTIVATIONS, BIAS_CONSTRAINTS, CONSTRAINTS, REGULARIZERS
    assert seen("activation") == {repr(a) for a in ACTIVATIONS}
    assert seen("kernel_regularizer") == {repr(r) for r in REGULARIZERS}
    assert seen("activity_regularizer") == {repr(r) for r in REGULARIZERS}
    assert seen("kernel_constraint") == {repr(c) for c in CONSTRAINTS}
    assert seen("bias_constraint") == {repr(c) for c in BIAS_CONSTRAINTS}
    assert seen("padding") == {"'valid'", "'same'"}
    assert seen("data_format") == {"'channels_last'", "'channels_first'"}
    assert {c["groups"] for c in cases} == {1, 2, 3}
    assert any(c["strides"][0] != c["strides"][1] for c in cases)
    assert any(c["dilation_rate"][0] != c["dilation_rate"][1] for c in cases)
    assert any(c["kernel_size"][0] != c["kernel_size"][1] for c in cases)
    assert {c["use_bias"] for c in cases} == {True, False}


def test_activity_loss_is_divided_by_batch_size(keras, tf, rng):
    """Keras >= 3.14 divides the activity penalty by the batch size (earlier Keras 3 did not)."""
    x = rng.standard_normal((5, 6, 6, 2)).astype(np.float32)
    klayer = keras.layers.Conv2D(3, 3, activity_regularizer=keras.regularizers.L2(0.1))
    clayer = convlib.Conv2D(3, 3, activity_regularizer=convlib.regularizers.L2(0.1))
    klayer.build(x.shape)
    clayer.build(x.shape)
    clayer.set_weights(klayer.get_weights())
    y = clayer(x)
    klayer(x)
    undivided = 0.1 * float(np.sum(y.astype(np.float64) ** 2))
    assert_close(clayer.losses[0], float(klayer.losses[0]), "activity loss", rtol=LOSS_RTOL)
    assert abs(clayer.losses[0] - undivided) > 0.5 * undivided  # the old rule would fail


def test_constraints_are_not_applied_at_initialisation(keras):
    kernel_constraint = convlib.constraints.MaxNorm(1e-3, axis=[0, 1, 2])
    clayer = convlib.Conv2D(4, 3, kernel_initializer="ones", kernel_constraint=kernel_constraint)
    klayer = keras.layers.Conv2D(4, 3, kernel_initializer="ones",
                                 kernel_constraint=keras.constraints.MaxNorm(1e-3, axis=[0, 1, 2]))
    clayer.build((1, 5, 5, 2))
    klayer.build((1, 5, 5, 2))
    assert_close(clayer.kernel, klayer.get_weights()[0], "initial kernel")
    assert np.all(clayer.kernel == 1.0)


def test_bias_initializer_none_is_glorot_uniform_not_zeros(keras):
    clayer = convlib.Conv2D(64, 3, bias_initializer=None)
    klayer = keras.layers.Conv2D(64, 3, bias_initializer=None)
    clayer.build((1, 5, 5, 2))
    klayer.build((1, 5, 5, 2))
    limit = np.sqrt(6.0 / (64 + 64))  # glorot_uniform on a rank-1 shape: fan_in = fan_out = 64
    for bias in (clayer.bias, klayer.get_weights()[1]):
        assert np.all(np.abs(bias) <= limit) and np.std(bias) > 0.3 * limit


@pytest.mark.parametrize("name, fan", [("he_uniform", "fan_in"), ("glorot_uniform", "fan_avg"),
                                       ("lecun_uniform", "fan_in")])
def test_kernel_initializer_fans_include_receptive_field(name, fan, keras):
    """The uniform limit uses fan_in = kh*kw*C/groups, fan_out = kh*kw*filters."""
    shape_in = (1, 9, 9, 16)
    clayer = convlib.Conv2D(32, (3, 5), groups=2, kernel_initializer=name)
    klayer = keras.layers.Conv2D(32, (3, 5), groups=2, kernel_initializer=name)
    clayer.build(shape_in)
    klayer.build(shape_in)
    fan_in, fan_out = 3 * 5 * 8, 3 * 5 * 32
    scale = {"he_uniform": 2.0}.get(name, 1.0)
    n = fan_in if fan == "fan_in" else (fan_in + fan_out) / 2
    limit = np.sqrt(3 * scale / n)
    for kernel in (clayer.kernel, klayer.get_weights()[0]):
        assert np.max(np.abs(kernel)) <= limit
        assert np.max(np.abs(kernel)) > 0.95 * limit  # 3840 draws: the max is near the limit


def test_count_params_groups_cut_kernel_not_bias(keras):
    """The seed's example: 32 -> 64 channels, 3x3, groups=2: 9216 kernel + 64 bias."""
    clayer = convlib.Conv2D(64, 3, groups=2)
    klayer = keras.layers.Conv2D(64, 3, groups=2)
    clayer.build((1, 128, 128, 32))
    klayer.build((1, 128, 128, 32))
    assert clayer.count_params() == klayer.count_params() == 9216 + 64
    assert clayer.kernel.size == 9216


def test_weights_layout_and_order_match_keras(keras):
    for use_bias in (True, False):
        clayer = convlib.Conv2D(6, (2, 3), groups=3, use_bias=use_bias, data_format="channels_first")
        klayer = keras.layers.Conv2D(6, (2, 3), groups=3, use_bias=use_bias,
                                     data_format="channels_first")
        clayer.build((2, 9, 7, 7))
        klayer.build((2, 9, 7, 7))
        assert [w.shape for w in clayer.get_weights()] == [w.shape for w in klayer.get_weights()]


def test_config_round_trip_and_agreement_with_keras(keras):
    kwargs = dict(filters=6, kernel_size=(3, 2), strides=(2, 1), padding="same",
                  data_format="channels_first", groups=2, activation="gelu", use_bias=False)
    clayer = convlib.Conv2D(**kwargs, kernel_initializer="he_normal",
                            kernel_regularizer=convlib.regularizers.L1L2(0.1, 0.2),
                            kernel_constraint=convlib.constraints.MaxNorm(2.0, axis=[0, 1, 2]))
    config = clayer.get_config()
    again = convlib.Conv2D.from_config(config)
    assert again.get_config() == config
    kconfig = keras.layers.Conv2D(**kwargs).get_config()
    for key in ("filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate",
                "groups", "activation", "use_bias"):
        assert config[key] == kconfig[key], key


def test_channel_order_of_groups_matches_keras(keras, rng):
    """Output channel o belongs to group o // (filters // groups)."""
    x = np.zeros((1, 4, 4, 6), np.float32)
    x[..., 2:4] = 1.0  # only group 1 (channels 2, 3) is non-zero
    clayer = convlib.Conv2D(9, 1, groups=3, kernel_initializer="ones", use_bias=False)
    klayer = keras.layers.Conv2D(9, 1, groups=3, kernel_initializer="ones", use_bias=False)
    y, yk = clayer(x), klayer(x).numpy()
    assert_close(y, yk, "grouped output")
    assert np.flatnonzero(y[0, 0, 0]).tolist() == [3, 4, 5]


def test_strides_with_dilation_opt_in_equals_subsampled_dilated_conv(keras, rng):
    """Keras refuses strides>1 with dilation>1; the result is well defined all the same:
    a stride-1 dilated convolution of the same padded input, subsampled with the stride."""
    x = rng.standard_normal((2, 13, 12, 3)).astype(np.float32)
    kernel = rng.standard_normal((3, 2, 3, 4)).astype(np.float32)
    strides, dilation = (2, 3), (2, 2)
    for padding in ("valid", "same"):
        layer = convlib.Conv2D(4, (3, 2), strides=strides, dilation_rate=dilation,
                               padding=padding, use_bias=False, allow_strides_with_dilation=True)
        layer.build(x.shape)
        layer.set_weights([kernel])
        y = layer(x)
        pads = convlib.padding.padding_amounts(x.shape[1:3], (3, 2), strides, padding, dilation)
        padded = np.pad(x, ((0, 0), pads[0], pads[1], (0, 0)))
        klayer = keras.layers.Conv2D(4, (3, 2), dilation_rate=dilation, use_bias=False)
        klayer.build(padded.shape)
        klayer.set_weights([kernel])
        expected = klayer(padded).numpy()[:, ::strides[0], ::strides[1], :]
        assert_close(y, expected, f"strided dilated conv, padding={padding}")
        with pytest.raises(ValueError):
            keras.layers.Conv2D(4, (3, 2), strides=strides, dilation_rate=dilation)


def test_keras_channels_first_bias_bug(keras, rng):
    """A Keras 3.15.1 bug the sweep avoids, pinned down so we notice when it is fixed.

    With channels_first, when the output width equals `filters`, Keras adds the bias along
    the width axis instead of the channel axis (keras.ops.add turns the (1, F, 1, 1) bias
    into an NHWC bias_add). convlib adds it per channel, which is what Keras computes for the
    same weights in channels_last layout: that is the reference used here.
    """
    x = rng.standard_normal((2, 6, 8, 10)).astype(np.float32)  # channels_first; out width 4
    kwargs = dict(filters=4, kernel_size=(1, 3), strides=(1, 2), groups=2)
    kfirst = keras.layers.Conv2D(**kwargs, data_format="channels_first")
    klast = keras.layers.Conv2D(**kwargs, data_format="channels_last")
    clayer = convlib.Conv2D(**kwargs, data_format="channels_first")
    for layer, shape in ((kfirst, x.shape), (klast, (2, 8, 10, 6)), (clayer, x.shape)):
        layer.build(shape)
    weights = [rng.standard_normal(w.shape).astype(np.float32) for w in kfirst.get_weights()]
    weights[1] = np.array([10.0, 20.0, 30.0, 40.0], np.float32)
    for layer in (kfirst, klast, clayer):
        layer.set_weights(weights)
    correct = klast(x.transpose(0, 2, 3, 1)).numpy().transpose(0, 3, 1, 2)
    assert_close(clayer(x), correct, "channels_first output with bias")
    buggy = kfirst(x).numpy()
    # Keras's channels_first result is off by exactly bias[w] - bias[c] at (c, w).
    shift = weights[1][None, None, None, :] - weights[1][None, :, None, None]
    assert_close(buggy, correct + shift, "Keras's channels_first bias bug")


@pytest.mark.parametrize("form", ["name", "object", "callable"])
def test_every_object_argument_accepts_a_name_an_object_or_a_callable(form, keras, rng):
    """kernel/bias initializer, kernel/bias/activity regularizer, kernel/bias constraint."""
    ops = keras.ops
    specs = {
        "name": (dict(kernel_initializer="ones", bias_initializer="ones",
                      kernel_regularizer="l2", bias_regularizer="l1",
                      activity_regularizer="l2", kernel_constraint="non_neg",
                      bias_constraint="unit_norm"),) * 2,
        "object": (
            dict(kernel_initializer=convlib.initializers.Constant(0.3),
                 bias_initializer=convlib.initializers.Constant(-0.2),
                 kernel_regularizer=convlib.regularizers.L2(0.05),
                 bias_regularizer=convlib.regularizers.L1(0.1),
                 activity_regularizer=convlib.regularizers.L1L2(0.01, 0.02),
                 kernel_constraint=convlib.constraints.MaxNorm(0.5, axis=[0, 1, 2]),
                 bias_constraint=convlib.constraints.NonNeg()),
            dict(kernel_initializer=keras.initializers.Constant(0.3),
                 bias_initializer=keras.initializers.Constant(-0.2),
                 kernel_regularizer=keras.regularizers.L2(0.05),
                 bias_regularizer=keras.regularizers.L1(0.1),
                 activity_regularizer=keras.regularizers.L1L2(0.01, 0.02),
                 kernel_constraint=keras.constraints.MaxNorm(0.5, axis=[0, 1, 2]),
                 bias_constraint=keras.constraints.NonNeg()),
        ),
        "callable": (
            dict(kernel_initializer=lambda shape, dtype=None: np.full(shape, 0.1, "float32"),
                 bias_initializer=lambda shape, dtype=None: np.full(shape, 0.2, "float32"),
                 kernel_regularizer=lambda w: 0.1 * np.sum(w ** 3),
                 bias_regularizer=lambda b: 0.3 * np.sum(np.abs(b)),
                 activity_regularizer=lambda y: 0.01 * np.sum(y ** 2),
                 kernel_constraint=lambda w: np.clip(w, -0.05, 0.05),
                 bias_constraint=lambda b: b * 0.5),
            dict(kernel_initializer=lambda shape, dtype=None: ops.full(shape, 0.1),
                 bias_initializer=lambda shape, dtype=None: ops.full(shape, 0.2),
                 kernel_regularizer=lambda w: 0.1 * ops.sum(w ** 3),
                 bias_regularizer=lambda b: 0.3 * ops.sum(ops.abs(b)),
                 activity_regularizer=lambda y: 0.01 * ops.sum(y ** 2),
                 kernel_constraint=lambda w: ops.clip(w, -0.05, 0.05),
                 bias_constraint=lambda b: b * 0.5),
        ),
    }
    mine, theirs = specs[form]
    x = rng.standard_normal((3, 6, 5, 2)).astype(np.float32)
    clayer = convlib.Conv2D(4, 3, padding="same", **mine)
    klayer = keras.layers.Conv2D(4, 3, padding="same", **theirs)
    y = clayer(x)
    assert_close(y, klayer(x).numpy(), f"output ({form})")
    losses = [float(v) for v in klayer.losses]
    assert len(clayer.losses) == len(losses) == 3
    for a, b in zip(clayer.losses, losses):
        assert_close(a, b, f"loss ({form})", rtol=LOSS_RTOL)
    # Constraints apply after an update: a zero-gradient step applies only the projection.
    zero = {"kernel": np.zeros_like(clayer.kernel), "bias": np.zeros_like(clayer.bias)}
    convlib.SGD(0.1).apply_gradients(clayer, zero)
    keras.optimizers.SGD(0.1).apply_gradients(
        [(np.zeros(v.shape, "float32"), v) for v in klayer.trainable_variables])
    for name, a, b in zip(("kernel", "bias"), clayer.get_weights(), klayer.get_weights()):
        assert_close(a, b, f"{name} after a step ({form})")
    if form == "callable":
        # A plain function has no gradient method: backward says so instead of guessing.
        with pytest.raises(ValueError, match="gradient"):
            clayer.backward(np.ones_like(y))


def test_config_round_trip_with_custom_callables():
    def my_activation(z):
        return np.maximum(z, 0.1 * z)

    layer = convlib.Conv2D(3, 2, activation=my_activation,
                           kernel_initializer=lambda shape, dtype=None: np.ones(shape),
                           kernel_regularizer=lambda w: float(np.sum(w)),
                           bias_constraint=lambda b: b)
    config = layer.get_config()
    assert config["activation"] is my_activation
    again = convlib.Conv2D.from_config(config)
    x = np.ones((1, 4, 4, 2), np.float32)
    np.testing.assert_array_equal(again(x), layer(x))
    assert again.losses == layer.losses


def test_array_initializers_like_keras(keras, rng):
    """Keras accepts an array as an initializer (its shape must match the weight's)."""
    kernel = rng.standard_normal((2, 3, 4, 5)).astype(np.float32)
    bias = rng.standard_normal(5).astype(np.float32)
    clayer = convlib.Conv2D(5, (2, 3), kernel_initializer=kernel, bias_initializer=bias)
    klayer = keras.layers.Conv2D(5, (2, 3), kernel_initializer=kernel, bias_initializer=bias)
    x = rng.standard_normal((2, 6, 7, 4)).astype(np.float32)
    assert_close(clayer(x), klayer(x).numpy(), "output with array initializers")
    with pytest.raises(ValueError):
        convlib.Conv2D(5, 3, kernel_initializer=kernel)(x)  # (3, 3, 4, 5) expected
