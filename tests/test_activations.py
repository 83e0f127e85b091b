"""convlib.activations against keras.activations: values, TensorFlow gradients, get/serialize.

Tolerances: ACT_RTOL, ACT_ATOL, GELU_TANH_GRAD_ATOL in tests/tolerances.py (with reasons).
"""
import math

import numpy as np
import pytest

from convlib import activations
from tolerances import ACT_ATOL, ACT_RTOL, GELU_TANH_GRAD_ATOL, assert_close

# The names convlib supports: Keras's names for them, aliases included.
NAMES = [
    "linear", "relu", "leaky_relu", "relu6", "sigmoid", "hard_sigmoid", "hard_silu",
    "hard_swish", "tanh", "softmax", "elu", "selu", "gelu", "silu", "swish", "softplus",
    "softsign", "mish", "exponential",
]

# Kinks and thresholds of every activation above (0 for the relus, elu and selu; +-3 for
# the hard ones; 6 for relu6), signed zero, small values on either side, the saturated
# tails (+-30, +-100) and exp's float32 overflow point (88.7).
SPECIAL_POINTS = [
    0.0, -0.0, 1e-3, -1e-3, 1.0, -1.0, 2.0, -2.0, 3.0, -3.0, 6.0, -6.0,
    5.0, -5.0, 30.0, -30.0, 100.0, -100.0, 88.0, -88.0, 89.0, 0.5, -0.5, 1e-7,
]


def activation_inputs(rng, shape=(3, 4, 5, 24)):
    """float32 (batch, height, width, channels) inputs: random, one batch entry 10x larger,
    and the special points written over the first entries."""
    x = rng.normal(0.0, 4.0, size=shape).astype(np.float32)
    x[1] *= 10
    x.reshape(-1)[: len(SPECIAL_POINTS)] = SPECIAL_POINTS
    return x


def assert_entries_close(actual, expected, x, what, atol=ACT_ATOL):
    """Each entry within atol + ACT_RTOL*|expected|; infinities and nans must agree."""
    actual = np.asarray(actual)
    expected = np.asarray(expected)
    assert actual.shape == expected.shape, (
        f"{what}: shape {actual.shape} but Keras gives {expected.shape}"
    )
    finite = np.isfinite(expected)
    assert np.array_equal(np.isfinite(actual), finite), (
        f"{what}: non-finite at x={x[np.isfinite(actual) != finite][:5]}"
    )
    np.testing.assert_array_equal(actual[~finite], expected[~finite], err_msg=what)
    a = np.where(finite, actual, 0).astype(np.float64)
    e = np.where(finite, expected, 0).astype(np.float64)
    err = np.abs(a - e)
    bound = atol + ACT_RTOL * np.abs(e)
    if not np.all(err <= bound):
        worst = np.unravel_index(np.argmax(err - bound), err.shape)
        raise AssertionError(
            f"{what}: largest error {err[worst]:.3g} at x={x[worst]!r} "
            f"(convlib {a[worst]:.8g}, Keras {e[worst]:.8g}; allowed {bound[worst]:.3g})"
        )


def keras_value_and_grad(tf, fn, x, grad_y):
    """fn(x) and d sum(fn(x) * grad_y) / dx by TensorFlow's automatic differentiation."""
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        y = fn(xt)
        loss = tf.reduce_sum(y * tf.constant(grad_y))
    return np.asarray(y), tape.gradient(loss, xt).numpy()


def errstate_for(name):
    # exp(x) overflows to inf for x > 88.7, as in Keras; every other activation must be
    # computed without overflow or invalid operations (guards naive sigmoid, softplus, elu's
    # unused branch exp(100), softmax without subtracting the maximum).
    if name == "exponential":
        return np.errstate(over="ignore", invalid="ignore")
    return np.errstate(over="raise", invalid="raise", divide="raise")


# ---------------------------------------------------------------------------------------
# Values and gradients against Keras
# ---------------------------------------------------------------------------------------
def test_names_are_the_supported_keras_names(keras):
    # Guards a name added to convlib without being tested here, or one Keras does not know.
    assert activations.ALL_NAMES == sorted(NAMES)
    for name in NAMES:
        assert callable(keras.activations.get(name))


@pytest.mark.parametrize("name", NAMES)
def test_forward_matches_keras(name, keras, rng):
    # Guards wrong defaults (leaky slope 0.01, gelu's tanh form, Keras 2's hard sigmoid
    # 0.2x + 0.5), SELU constants, and overflow for large |x| (errstate raises).
    x = activation_inputs(rng)
    expected = np.asarray(keras.activations.get(name)(x))
    with errstate_for(name):
        y = activations.get(name)(x)
    assert y.dtype == np.float32
    assert_entries_close(y, expected, x, f"{name}(x)")


@pytest.mark.parametrize("name", NAMES)
def test_backward_matches_tensorflow_gradient(name, keras, tf, rng):
    # Guards slopes at the kinks (relu'(0) = 0, leaky_relu'(0) = slope, relu6'(6) = 0,
    # hard_sigmoid'(+-3) = 0, selu'(0) = scale), derivatives taken from y instead of x, and
    # softmax's backward taken as elementwise y (1 - y).
    x = activation_inputs(rng)
    grad_y = rng.uniform(-1.0, 1.0, size=x.shape).astype(np.float32)
    y_keras, expected = keras_value_and_grad(tf, keras.activations.get(name), x, grad_y)
    with errstate_for(name):
        y = activations.get(name)(x)
        grad_x = activations.backward(name, x, y, grad_y)
    assert grad_x.dtype == np.float32
    assert_entries_close(grad_x, expected, x, f"{name} backward")


@pytest.mark.parametrize(
    "name, kwargs, grad_atol",
    [
        ("leaky_relu", {"negative_slope": 0.1}, ACT_ATOL),
        ("elu", {"alpha": 0.5}, ACT_ATOL),  # elu'(0) is alpha (the left slope), not 1
        ("gelu", {"approximate": True}, GELU_TANH_GRAD_ATOL),
        ("softmax", {"axis": 1}, ACT_ATOL),
    ],
)
def test_parameters_match_keras(name, kwargs, grad_atol, keras, tf, rng):
    # Guards a parameter accepted but ignored in the forward or in the backward.
    x = activation_inputs(rng)
    grad_y = rng.uniform(-1.0, 1.0, size=x.shape).astype(np.float32)
    keras_fn = getattr(keras.activations, name)
    y_keras, expected = keras_value_and_grad(tf, lambda t: keras_fn(t, **kwargs), x, grad_y)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        y = getattr(activations, name)(x, **kwargs)
        grad_x = getattr(activations, f"{name}_backward")(x, y, grad_y, **kwargs)
    assert_entries_close(y, y_keras, x, f"{name}(x, {kwargs})")
    assert_entries_close(grad_x, expected, x, f"{name}_backward(..., {kwargs})", grad_atol)


def test_softmax_over_channels_of_a_feature_map(keras, tf, rng):
    # Guards softmax over the wrong axis or the whole array, and exp overflow: the logits
    # are shifted by 1000 (exp(1000) = inf unless the maximum is subtracted first).
    x = rng.normal(0.0, 30.0, size=(2, 5, 6, 10)).astype(np.float32) + 1000.0
    grad_y = rng.uniform(-1.0, 1.0, size=x.shape).astype(np.float32)
    y_keras, expected = keras_value_and_grad(tf, keras.activations.softmax, x, grad_y)
    with np.errstate(over="raise", invalid="raise"):
        y = activations.softmax(x)
        grad_x = activations.backward("softmax", x, y, grad_y)
    assert_close(y, y_keras, "softmax(x)")
    assert_close(np.sum(y, axis=-1), np.ones(x.shape[:-1]), "softmax sums over channels")
    assert_close(grad_x, expected, "softmax backward")


def test_erf_matches_math_erf():
    # Guards the approximation behind the exact GELU (both pieces and their joint at 2).
    x = np.concatenate([np.linspace(-10.0, 10.0, 40_001), [0.0, 2.0, -2.0, 6.0, np.inf]])
    expected = np.array([math.erf(v) for v in x])
    assert np.max(np.abs(activations.erf(x) - expected)) < 1e-9
    assert np.array_equal(activations.erf(-x), -activations.erf(x))  # exactly odd
    assert activations.erf(np.float32([0.5])).dtype == np.float32


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32])
def test_dtype_is_kept(dtype, rng):
    # Guards float64 constants (np.float64 scalars, np.where(.., 1.0, 0.0)) upcasting float32.
    x = np.array([-2, -1, 0, 1, 2, 3], dtype=dtype)
    expected = np.float32 if dtype == np.int32 else dtype
    for name in NAMES:
        y = activations.get(name)(x)
        grad_x = activations.backward(name, x, y, np.ones(x.shape, dtype=expected))
        assert y.dtype == expected, f"{name}: {dtype.__name__} in, {y.dtype} out"
        assert grad_x.dtype == expected, f"{name} backward: {grad_x.dtype}"


# ---------------------------------------------------------------------------------------
# get / serialize / backward dispatch
# ---------------------------------------------------------------------------------------
def test_get_none_is_linear():
    # Guards None -> None (Conv2D's activation=None means "no activation", i.e. linear).
    assert activations.get(None) is activations.linear


@pytest.mark.parametrize("identifier", ["celu", "Relu", "not_an_activation"])
def test_get_unknown_name_raises(identifier):
    # Guards silently falling back to linear; "celu" is a Keras name convlib lacks.
    with pytest.raises(ValueError) as info:
        activations.get(identifier)
    assert repr(identifier) in str(info.value)
    assert "'relu'" in str(info.value)  # lists the allowed names


@pytest.mark.parametrize("identifier", [3, ["relu"], {"class_name": "Relu"}])
def test_get_non_activation_raises(identifier):
    # Guards returning non-callables that would fail only later, inside the layer.
    with pytest.raises(ValueError, match="relu"):
        activations.get(identifier)


def test_get_returns_callables_as_is(keras):
    # Guards wrapping or replacing user functions.
    def double(x):
        return 2 * x

    assert activations.get(double) is double
    assert activations.get(keras.activations.relu) is keras.activations.relu


def test_aliases_are_the_same_function():
    # Guards an alias that is a copy: it would serialize under its own, unknown, name.
    assert activations.get("swish") is activations.get("silu") is activations.silu
    assert activations.get("hard_swish") is activations.get("hard_silu")


@pytest.mark.parametrize("name", NAMES)
def test_serialize_matches_keras(name, keras):
    # Guards serializing an alias as itself (Keras stores "silu" for "swish").
    expected = keras.activations.serialize(keras.activations.get(name))
    assert activations.serialize(activations.get(name)) == expected


@pytest.mark.parametrize("name", NAMES)
def test_get_reads_keras_saved_form(name, keras):
    # Guards rejecting configs saved by Keras ({"class_name": "function", "config": name}).
    saved = keras.saving.serialize_keras_object(keras.activations.get(name))
    assert activations.get(saved) is activations.get(name)


def test_serialize_custom_functions():
    # Guards a lambda serialized as "<lambda>", which could never be read back.
    def my_activation(x):
        return x

    assert activations.serialize(my_activation) == "my_activation"
    with pytest.raises(ValueError, match="lambda"):
        activations.serialize(lambda x: x)


def test_backward_of_custom_activation_without_backward_raises():
    # Guards a silent zero or identity gradient for an activation convlib cannot differentiate.
    def cube(x):
        return x**3

    x = np.ones(3, np.float32)
    with pytest.raises(ValueError) as info:
        activations.backward(cube, x, cube(x), x)
    message = str(info.value)
    assert "cube" in message and "backward(x, y, grad_y)" in message and "custom" in message


def test_backward_uses_custom_backward_attribute():
    # Guards ignoring a user-supplied gradient.
    def cube(x):
        return x**3

    cube.backward = lambda x, y, grad_y: 3 * x**2 * grad_y
    x = np.float32([-1.0, 0.5, 2.0])
    grad_x = activations.backward(cube, x, cube(x), np.ones_like(x))
    np.testing.assert_array_equal(grad_x, 3 * x**2)


def test_backward_recomputes_y_when_not_given(rng):
    # Guards y=None reaching formulas that need y (sigmoid, tanh, softmax, elu).
    x = activation_inputs(rng)
    grad_y = rng.uniform(-1.0, 1.0, size=x.shape).astype(np.float32)
    for name in ["sigmoid", "tanh", "softmax", "elu", "selu", "exponential"]:
        with np.errstate(over="ignore", invalid="ignore"):
            with_y = activations.backward(name, x, activations.get(name)(x), grad_y)
            without_y = activations.backward(name, x, None, grad_y)
        np.testing.assert_array_equal(without_y, with_y, err_msg=name)


def test_backward_rejects_grad_of_another_shape():
    # Guards broadcasting a wrong-shaped upstream gradient into a wrong answer.
    x = np.zeros((2, 3), np.float32)
    with pytest.raises(ValueError, match="shape"):
        activations.backward("relu", x, None, np.ones((3,), np.float32))


def test_is_elementwise():
    # Guards treating softmax like the others (its Jacobian is not diagonal).
    assert not activations.is_elementwise("softmax")
    assert all(activations.is_elementwise(n) for n in NAMES if n != "softmax")
    assert not activations.is_elementwise(lambda x: x)
