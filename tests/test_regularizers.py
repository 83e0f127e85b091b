"""convlib.regularizers against keras.regularizers: penalties, gradients, configs, errors.

Tolerances: penalties use LOSS_RTOL, gradients RTOL (tests/tolerances.py); no new ones.
Keras is always called on TensorFlow tensors (the way a layer calls it): for numpy input
Keras's OrthogonalRegularizer takes a different normalisation path without the epsilon.
"""
import math

import numpy as np
import pytest

from convlib import regularizers
from tolerances import LOSS_RTOL, assert_close

KERNEL_SHAPES = [(3, 3, 4, 8), (5, 5, 16, 32), (1, 1, 3, 2)]
BIAS_SHAPES = [(8,), (32,)]
SHAPES = KERNEL_SHAPES + BIAS_SHAPES


def random_weights(rng, shape):
    """float32 weights with a few exact zeros (where |w| has no derivative)."""
    w = rng.standard_normal(shape).astype(np.float32)
    w.flat[:: max(1, w.size // 5)] = 0.0
    return w


def keras_penalty(tf, keras_reg, x):
    return float(keras_reg(tf.constant(x)))


def keras_gradient(tf, keras_reg, x):
    v = tf.Variable(x)
    with tf.GradientTape() as tape:
        loss = keras_reg(v)
    return tape.gradient(loss, v).numpy()


def random_factor(rng):
    return float(rng.uniform(1e-3, 1.0))


# ---------------------------------------------------------------------------------------
# L1, L2, L1L2: penalties and gradients
# ---------------------------------------------------------------------------------------

def make_pair(keras, name, rng):
    """The same randomly configured regularizer in convlib and in Keras."""
    if name == "L1":
        f = random_factor(rng)
        return regularizers.L1(f), keras.regularizers.L1(f)
    if name == "L2":
        f = random_factor(rng)
        return regularizers.L2(f), keras.regularizers.L2(f)
    if name == "L1L2":
        a, b = random_factor(rng), random_factor(rng)
        return regularizers.L1L2(a, b), keras.regularizers.L1L2(a, b)
    if name == "L1L2-l1-only":
        a = random_factor(rng)
        return regularizers.L1L2(l1=a), keras.regularizers.L1L2(l1=a)
    if name == "L1L2-l2-only":
        b = random_factor(rng)
        return regularizers.L1L2(l1=None, l2=b), keras.regularizers.L1L2(l1=None, l2=b)
    raise AssertionError(name)


PAIRS = ["L1", "L2", "L1L2", "L1L2-l1-only", "L1L2-l2-only"]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", PAIRS)
def test_penalty_matches_keras(keras, tf, rng, name, shape):
    # Guards: a wrong formula (mean instead of sum, 1/2 in L2, squared L1, ...).
    ours, theirs = make_pair(keras, name, rng)
    x = random_weights(rng, shape)
    value = ours(x)
    assert isinstance(value, float)
    assert_close(value, keras_penalty(tf, theirs, x), f"{name} penalty", rtol=LOSS_RTOL)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", PAIRS)
def test_gradient_matches_keras_autodiff(keras, tf, rng, name, shape):
    # Guards: a missing 2 in d(l2 w^2)/dw, and a non-zero "derivative" of |w| at w = 0.
    ours, theirs = make_pair(keras, name, rng)
    x = random_weights(rng, shape)
    grad = ours.gradient(x)
    assert grad.dtype == np.float32
    assert_close(grad, keras_gradient(tf, theirs, x), f"{name} gradient")
    assert_close(regularizers.penalty_gradient(ours, x), grad, f"{name} penalty_gradient")


def test_l1_gradient_is_zero_at_zero(keras, tf, rng):
    # Guards: sign(0) taken as +1 (e.g. np.where(w >= 0, 1, -1)); TF's d|w|/dw at 0 is 0.
    x = np.zeros((3, 3, 2, 4), np.float32)
    assert_close(regularizers.L1(0.5).gradient(x), keras_gradient(tf, keras.regularizers.L1(0.5), x))
    assert not np.any(regularizers.L1(0.5).gradient(x))


def test_l2_with_a_half_would_fail(keras, tf, rng):
    # Guards: the textbook "l2/2 * ||w||^2" -- the tolerance is tight enough to reject it.
    f = random_factor(rng)
    x = random_weights(rng, (3, 3, 8, 16))
    expected = keras_penalty(tf, keras.regularizers.L2(f), x)
    half = 0.5 * f * float(np.sum(x.astype(np.float64) ** 2))
    with pytest.raises(AssertionError):
        assert_close(half, expected, "L2 with 1/2", rtol=LOSS_RTOL)
    # ... and so is the gradient of the half version, l2 * w instead of 2 * l2 * w.
    expected_grad = keras_gradient(tf, keras.regularizers.L2(f), x)
    with pytest.raises(AssertionError):
        assert_close(f * x, expected_grad, "gradient of L2 with 1/2")
    assert_close(regularizers.L2(f)(x), expected, "L2", rtol=LOSS_RTOL)


def test_integer_input_and_defaults(keras, tf):
    # Guards: defaults different from Keras's (L1/L2 0.01, L1L2 0 and 0).
    x = np.arange(-6, 6).reshape(3, 4)
    xf = x.astype(np.float32)
    for ours, theirs in [
        (regularizers.L1(), keras.regularizers.L1()),
        (regularizers.L2(), keras.regularizers.L2()),
        (regularizers.L1L2(), keras.regularizers.L1L2()),
    ]:
        assert_close(ours(x), keras_penalty(tf, theirs, xf), repr(ours), rtol=LOSS_RTOL)
    assert regularizers.L1L2()(x) == 0.0


# ---------------------------------------------------------------------------------------
# OrthogonalRegularizer
# ---------------------------------------------------------------------------------------

def matrix_with_special_rows(rng, shape):
    """Random matrix whose row 1 is zero and row 2 is shorter than Keras's epsilon (1e-7)."""
    x = rng.standard_normal(shape).astype(np.float32)
    x[1] = 0.0
    x[2] *= np.float32(1e-9)
    return x


@pytest.mark.parametrize("mode", ["rows", "columns"])
@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (16, 16), (2, 9)])
def test_orthogonal_penalty_matches_keras(keras, tf, rng, mode, shape):
    # Guards: rows/columns swapped, the diagonal kept, the mean over all n^2 entries instead
    # of n(n-1)/2 pairs, the missing 1/2.
    factor = random_factor(rng)
    ours = regularizers.OrthogonalRegularizer(factor, mode)
    theirs = keras.regularizers.OrthogonalRegularizer(factor, mode)
    x = rng.standard_normal(shape).astype(np.float32)
    assert_close(ours(x), keras_penalty(tf, theirs, x), "penalty", rtol=LOSS_RTOL)


@pytest.mark.parametrize("mode", ["rows", "columns"])
@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (16, 16), (2, 9)])
def test_orthogonal_gradient_matches_keras_autodiff(keras, tf, rng, mode, shape):
    # Guards: a gradient that forgets the normalisation (the radial part) or the |.| sign.
    # Separate from the penalty test: the gradient is given to students, the penalty is not.
    factor = random_factor(rng)
    ours = regularizers.OrthogonalRegularizer(factor, mode)
    theirs = keras.regularizers.OrthogonalRegularizer(factor, mode)
    x = rng.standard_normal(shape).astype(np.float32)
    assert_close(ours.gradient(x), keras_gradient(tf, theirs, x), "gradient")


@pytest.mark.parametrize("mode", ["rows", "columns"])
def test_orthogonal_zero_and_tiny_vectors_match_keras(keras, tf, rng, mode):
    # Guards: normalising by the norm without Keras's epsilon -- a vector shorter than 1e-7
    # would become a unit vector and change the penalty by a large amount; a zero vector
    # would give nan.
    x = matrix_with_special_rows(rng, (6, 5))
    if mode == "columns":
        x = np.ascontiguousarray(x.T)
    ours = regularizers.OrthogonalRegularizer(0.7, mode)
    theirs = keras.regularizers.OrthogonalRegularizer(0.7, mode)
    expected = keras_penalty(tf, theirs, x)
    assert_close(ours(x), expected, "penalty", rtol=LOSS_RTOL)
    assert_close(ours.gradient(x), keras_gradient(tf, theirs, x), "gradient")

    vectors = x if mode == "rows" else x.T
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    naive = np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)
    product = np.abs(naive @ naive.T)
    np.fill_diagonal(product, 0.0)
    n = len(vectors)
    naive_penalty = 0.7 * 0.5 * product.sum() / (n * (n - 1) / 2)
    with pytest.raises(AssertionError):
        assert_close(naive_penalty, expected, "penalty without epsilon", rtol=LOSS_RTOL)


@pytest.mark.parametrize("mode", ["rows", "columns"])
def test_orthogonal_rejects_conv_kernels_like_keras(keras, tf, rng, mode):
    # Guards: silently flattening a 4-D kernel; Keras refuses it when computing the penalty.
    x = rng.standard_normal((3, 3, 4, 8)).astype(np.float32)
    ours = regularizers.OrthogonalRegularizer(0.1, mode)  # creating it is fine
    with pytest.raises(ValueError, match=r"must have rank 2") as err:
        ours(x)
    assert "(3, 3, 4, 8)" in str(err.value)
    with pytest.raises(ValueError, match=r"must have rank 2"):
        ours.gradient(x)
    with pytest.raises(ValueError, match=r"must have rank 2"):
        keras.regularizers.OrthogonalRegularizer(0.1, mode)(tf.constant(x))
    with pytest.raises(ValueError, match=r"must have rank 2"):
        ours(np.ones(5, np.float32))


def test_orthogonal_single_vector_is_nan_like_keras(keras, tf):
    # Guards: inventing a value for 0 pairs; Keras divides 0 by 0 pairs and returns nan.
    x = np.ones((1, 4), np.float32)
    assert math.isnan(keras_penalty(tf, keras.regularizers.OrthogonalRegularizer(), x))
    assert math.isnan(regularizers.OrthogonalRegularizer()(x))
    assert math.isnan(regularizers.OrthogonalRegularizer(mode="columns")(x.T))


def test_orthogonal_is_zero_for_orthogonal_rows(keras, tf, rng):
    # Guards: the diagonal (each row with itself, cosine 1) counted in the penalty.
    q, _ = np.linalg.qr(rng.standard_normal((6, 6)))
    x = (q[:4] * rng.uniform(0.5, 3.0, size=(4, 1))).astype(np.float32)
    ours = regularizers.OrthogonalRegularizer(1.0)(x)
    assert abs(ours) < 1e-6
    assert abs(keras_penalty(tf, keras.regularizers.OrthogonalRegularizer(1.0), x)) < 1e-6


# ---------------------------------------------------------------------------------------
# penalty_gradient and custom regularizers
# ---------------------------------------------------------------------------------------

def test_penalty_gradient_needs_a_gradient_method():
    # Guards: silently training without the penalty of a custom regularizer.
    def my_penalty(x):
        return 0.1 * float(np.sum(np.abs(x) ** 3))

    reg = regularizers.get(my_penalty)
    assert reg is my_penalty
    x = np.ones((2, 2), np.float32)
    assert reg(x) == pytest.approx(0.4)
    with pytest.raises(ValueError, match=r"gradient\(x\)") as err:
        regularizers.penalty_gradient(reg, x)
    assert "backpropagation" in str(err.value)

    class Cubic(regularizers.Regularizer):
        def __call__(self, x):
            return my_penalty(x)

    with pytest.raises(ValueError, match=r"gradient\(x\)"):
        regularizers.penalty_gradient(Cubic(), x)

    class CubicWithGradient(Cubic):
        def gradient(self, x):
            return 0.3 * np.abs(x) * x

    assert_close(regularizers.penalty_gradient(CubicWithGradient(), x), 0.3 * x, "custom")

    class WrongShape(Cubic):
        def gradient(self, x):
            return np.zeros(3)

    with pytest.raises(ValueError, match=r"shape"):
        regularizers.penalty_gradient(WrongShape(), x)


def test_base_regularizer_is_zero(keras, tf):
    x = np.ones((2, 3), np.float32)
    base = regularizers.Regularizer()
    assert base(x) == float(keras.regularizers.Regularizer()(tf.constant(x))) == 0.0
    assert_close(regularizers.penalty_gradient(base, x), np.zeros_like(x), "base gradient")


# ---------------------------------------------------------------------------------------
# get / serialize / deserialize / configs
# ---------------------------------------------------------------------------------------

NAMES = {
    "L1": "L1",
    "l1": "L1",
    "L2": "L2",
    "l2": "L2",
    "L1L2": "L1L2",
    "l1l2": "L1L2",
    "l1_l2": "L1L2",
    "OrthogonalRegularizer": "OrthogonalRegularizer",
    "orthogonal_regularizer": "OrthogonalRegularizer",
}


def assert_same_config(ours, keras_config):
    # Keras keeps L1's and OrthogonalRegularizer's factor as a float32 tensor, so its config
    # holds the float32-rounded value (0.01 -> 0.009999999776...): compare numbers to float32.
    assert set(ours) == set(keras_config), (ours, keras_config)
    for key, value in ours.items():
        if isinstance(value, float):
            assert value == pytest.approx(keras_config[key], rel=1e-7), key
        else:
            assert value == keras_config[key], key


@pytest.mark.parametrize("name", sorted(NAMES))
def test_get_by_name_matches_keras(keras, name):
    # Guards: wrong defaults behind a name, or a missing alias.
    reg = regularizers.get(name)
    assert type(reg).__name__ == NAMES[name]
    if name == "l1_l2":
        # Keras's get() does not know its own alias "l1_l2" (its snake_case is "l1l2");
        # keras.regularizers.l1_l2 is the class L1L2, whose defaults convlib follows.
        with pytest.raises(ValueError, match="l1_l2"):
            keras.regularizers.get(name)
        expected = keras.regularizers.l1_l2()
    else:
        expected = keras.regularizers.get(name)
    assert type(expected).__name__ == NAMES[name]
    assert_same_config(reg.get_config(), expected.get_config())


def random_instances(rng):
    return [
        regularizers.L1(random_factor(rng)),
        regularizers.L2(random_factor(rng)),
        regularizers.L1L2(random_factor(rng), random_factor(rng)),
        regularizers.L1L2(l2=3),
        regularizers.OrthogonalRegularizer(random_factor(rng), "columns"),
        regularizers.OrthogonalRegularizer(),
    ]


def test_serialize_round_trips_and_matches_keras(keras, rng):
    # Guards: a config that does not rebuild the same object, or differs from Keras's.
    for reg in random_instances(rng):
        config = reg.get_config()
        assert all(isinstance(v, (float, str)) for v in config.values()), config
        assert type(reg).from_config(config) == reg
        data = regularizers.serialize(reg)
        assert set(data) == {"class_name", "config"}
        assert regularizers.deserialize(data) == reg
        assert regularizers.get(data) == reg
        keras_reg = getattr(keras.regularizers, type(reg).__name__)(**config)
        keras_data = keras.regularizers.serialize(keras_reg)
        assert data["class_name"] == keras_data["class_name"]
        assert_same_config(data["config"], keras_data["config"])
        # Keras's serialized form (with "module", "registered_name") is accepted as well.
        assert_same_config(regularizers.deserialize(keras_data).get_config(), config)
    for name, class_name in NAMES.items():
        reg = regularizers.get({"class_name": name, "config": {}})
        assert type(reg).__name__ == class_name
        assert regularizers.deserialize(regularizers.serialize(reg)) == reg
    assert regularizers.serialize(None) is None


def test_get_accepts_classes_instances_and_callables():
    assert regularizers.get(None) is None
    assert regularizers.get(regularizers.L2) == regularizers.L2()
    reg = regularizers.L1(0.3)
    assert regularizers.get(reg) is reg
    assert regularizers.get(np.sum) is np.sum


@pytest.mark.parametrize(
    "class_name, kwargs, text",
    [
        ("L1", {"l1": -1}, "l1=-1"),
        ("L1", {"l1": float("nan")}, "l1=nan"),
        ("L2", {"l2": float("inf")}, "l2=inf"),
        ("L2", {"l2": "0.1"}, "l2='0.1'"),
        ("L1L2", {"l1": 0.1, "l2": -0.5}, "l2=-0.5"),
        ("L1L2", {"l1": [0.1]}, "l1=[0.1]"),
        ("OrthogonalRegularizer", {"factor": -2.0}, "factor=-2.0"),
        ("OrthogonalRegularizer", {"mode": "diagonal"}, "mode='diagonal'"),
        ("OrthogonalRegularizer", {"mode": "Rows"}, "mode='Rows'"),
    ],
)
def test_bad_arguments_raise_like_keras(keras, class_name, kwargs, text):
    # Guards: accepting a negative / non-finite / non-numeric factor or an unknown mode.
    with pytest.raises(ValueError) as err:
        getattr(regularizers, class_name)(**kwargs)
    assert text in str(err.value)
    with pytest.raises(ValueError):  # Keras rejects each of these too
        getattr(keras.regularizers, class_name)(**kwargs)


def test_numpy_scalars_accepted_and_bools_rejected(keras):
    # Deliberate differences from Keras (see validate_factor): np.float32 is accepted
    # (Keras rejects it), True is rejected (Keras reads it as 1.0).
    assert regularizers.L2(np.float32(0.25)).l2 == 0.25
    with pytest.raises(ValueError):
        keras.regularizers.L2(np.float32(0.25))
    with pytest.raises(ValueError, match="l1=True"):
        regularizers.L1(True)


@pytest.mark.parametrize("identifier", ["l3", "L1L2Regularizer", "", 42, 0.5, [0.1]])
def test_unknown_identifiers_raise(keras, identifier):
    # Guards: a typo silently meaning "no regularization".
    with pytest.raises(ValueError) as err:
        regularizers.get(identifier)
    assert repr(identifier) in str(err.value)
    with pytest.raises(ValueError):
        keras.regularizers.get(identifier)
    with pytest.raises(ValueError) as err:
        regularizers.deserialize({"class_name": "Dropout", "config": {}})
    assert "'Dropout'" in str(err.value)
