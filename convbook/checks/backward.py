"""Checks for chapter 15, the backward pass: `gradcheck.numerical_gradient`, the activation
gradients (`activations.*_backward`), `bias.bias_gradient`, `conv.kernel_gradient`,
`conv.input_gradient`, `conv.col2im` and the assembled `Conv2D.backward`.

Where the expected values come from: `tf.GradientTape` (TensorFlow, Keras's backend)
differentiating the Keras computation.
* numerical_gradient: the reader's function is run on probe functions (`gradcheck.probe`,
  given code in the reader's convlib); the expected gradient is GradientTape's, in float64,
  of the same formula written with TensorFlow ops.
* activations: GradientTape of sum(grad_y * keras.activations.<name>(x)) with respect to x.
  The reader's `*_backward(x, y, grad_y)` gets Keras's own y, so a wrong forward from
  chapter 05 is not charged again here.
* bias, kernel and input gradients, col2im: GradientTape of sum(grad_output * conv) where the
  convolution is Keras's, computed the way `convbook.checks.padding.keras_conv` computes it:
  explicit padding, a stride-1 "valid" `keras.ops.conv`, then every s-th output. TensorFlow
  2.21's strided convolutions under oneDNN are wrong on some small shapes (docs/DESIGN.md);
  the stride-1 conv and its gradients are right, and tests/test_checks_backward.py proves
  these references against a float64 numpy brute force on the visible cases and on random
  hidden-size cases.
* col2im: the reference is GradientTape of sum(d_cols * patches(x_padded)), the patches
  extracted by the same stride-1 Keras convolution with a one-hot kernel.
* Conv2D.backward: a keras.layers.Conv2D with the weights set, strides 1 and padding "valid"
  on the explicitly padded input, subsampled, followed by a keras.layers.Activation carrying
  the activity regularizer (so Keras's Layer.__call__ adds activity_penalty / batch itself);
  the loss is sum(upstream * y) + sum(the layers' losses), as in tests/test_layer.py.
  Channels_first cases are computed channels_last and transposed.
The answers misconceptions give are computed with TensorFlow too (or numpy for the
numerical-gradient ones, which are wrong algorithms, not wrong formulas).

No check draws random numbers in the reader's code: nothing here is statistical. The hidden
cases avoid what float32 rounding could flip (an activation's kink, the sign of an L1 activity
penalty at 0), so a correct solution passes every draw; the visible cases that have kinks use
fixed seeds and pass.
"""
import warnings

import numpy as np

from convbook import checking, oracle
from convbook.checks import (Misconception, Outcome, as_array, case_rng, check, compare_outcomes,
                             student_call, student_session)
from convbook.checks.layer import keras_layer_output
from convbook.checks.padding import keras_same_padding
from convbook.harness import StudentError

DTYPE = np.float32

# ----------------------------------------------------------------------- misconceptions
FORWARD_DIFFERENCE = Misconception(
    "backward.forward_difference",
    "Your numerical gradient is the one-sided (f(x + eps) - f(x)) / eps: its error is "
    "eps/2 * f'' (about 1e-3 here), a thousand times the central difference's eps^2/6 * f'''. "
    "Evaluate f on both sides, (f(x + eps) - f(x - eps)) / (2 eps).")
NOT_HALVED = Misconception(
    "backward.difference_not_halved",
    "Your numerical gradient is twice the true one: the central difference "
    "f(x + eps) - f(x - eps) spans 2 eps, so divide by 2 * eps, not eps.")
NOT_RESTORED = Misconception(
    "backward.entry_not_restored",
    "Your numerical gradient leaves each nudged entry changed (at x - eps) when it moves on: "
    "put x[i] back to its value before nudging the next entry, or every later derivative is "
    "taken at a slightly wrong point (visible on functions where the entries interact).")

RELU_AT_ZERO = Misconception(
    "backward.relu_gradient_at_zero",
    "Your relu gradient passes grad_y where x == 0 (x >= 0): relu has a kink at 0 and "
    "TensorFlow's gradient there is 0; use x > 0.")
LEAKY_AT_ZERO = Misconception(
    "backward.leaky_relu_gradient_at_zero",
    "Your leaky_relu gradient at x == 0 is 1: TensorFlow uses the left slope there, "
    "negative_slope (the condition for the slope 1 is x > 0).")
SIGMOID_WITH_X = Misconception(
    "backward.sigmoid_gradient_with_x",
    "Your sigmoid gradient is grad_y * x * (1 - x): the formula y (1 - y) is in the OUTPUT "
    "y = sigmoid(x), not in the input x.")
TANH_WITH_X = Misconception(
    "backward.tanh_gradient_with_x",
    "Your tanh gradient is grad_y * (1 - x^2): the formula 1 - y^2 is in the OUTPUT "
    "y = tanh(x), not in the input x.")
SOFTMAX_ELEMENTWISE = Misconception(
    "backward.softmax_gradient_elementwise",
    "Your softmax gradient is grad_y * y * (1 - y), the diagonal of the Jacobian only: every "
    "output of a softmax depends on every input of its slice (they share the denominator), "
    "so grad_x = y * (grad_y - sum(grad_y * y, axis, keepdims=True)).")

BIAS_BATCH_MEAN = Misconception(
    "backward.bias_gradient_batch_mean",
    "Your bias gradient averages over the batch: the same bias is added to every example, so "
    "its gradient is the SUM over the batch and over every output pixel.")
BIAS_ONE_EXAMPLE = Misconception(
    "backward.bias_gradient_first_example",
    "Your bias gradient uses the first example only: the bias is added to every example of "
    "the batch, so sum over the batch axis too.")
BIAS_AXES_CHANNELS_FIRST = Misconception(
    "backward.bias_gradient_channels_first_axes",
    "For channels_first you summed over axes (0, 1, 2), which keeps the width: in (batch, "
    "filters, height, width) the filters are axis 1, so sum over (0, 2, 3).")

KERNEL_NOT_TRANSPOSED = Misconception(
    "backward.kernel_gradient_not_transposed",
    "Your kernel gradient is (d y^T @ cols) reshaped to the kernel's shape: that product is "
    "(filters, kh*kw*channels), and reshaping it scrambles the axes. cols^T @ d y is "
    "(kh*kw*channels, filters), which reshapes to (kh, kw, channels, filters).")
KERNEL_BATCH_MEAN = Misconception(
    "backward.kernel_gradient_batch_mean",
    "Your kernel gradient is divided by the batch size: the loss is a plain sum over the "
    "batch here, and every example's windows add to the gradient of the one shared kernel.")

NOT_FLIPPED = Misconception(
    "backward.input_gradient_not_flipped",
    "Your input gradient correlates d y with the kernel as it is: pixel p fed output "
    "i = p - a through tap a, so gathering its gradient walks the taps backwards. Flip the "
    "kernel in space (kernel[::-1, ::-1]), and swap its input and output channels.")
NOT_SPREAD = Misconception(
    "backward.input_gradient_stride_not_spread",
    "Your input gradient does not spread d y by the stride: output pixel i saw the input "
    "from i*s on, so put s - 1 zeros between neighbouring d y values before the "
    "correlation (d y placed at rows 0, s, 2s, ...).")
NOT_CROPPED = Misconception(
    "backward.input_gradient_padding_not_cropped",
    "Your input gradient still has the padding: it has the padded input's shape. The padded "
    "pixels are zeros the layer added, not inputs; drop the top/bottom and left/right rows "
    "and columns that the forward pass padded.")

COL2IM_ASSIGNED = Misconception(
    "backward.col2im_assigned",
    "Your col2im writes each tap's values with `=`: a pixel that several windows saw gets "
    "only the last window's value. Its gradient is the SUM over every window that read it: "
    "use `+=`.")

LAYER_KERNEL_PENALTY_MISSING = Misconception(
    "backward.kernel_penalty_missing",
    "Your kernel gradient leaves out the kernel regularizer: sum(layer.losses) contains "
    "kernel_regularizer(kernel), so add its gradient (regularizers.penalty_gradient).")
LAYER_BIAS_PENALTY_MISSING = Misconception(
    "backward.bias_penalty_missing",
    "Your bias gradient leaves out the bias regularizer: sum(layer.losses) contains "
    "bias_regularizer(bias), so add its gradient.")
LAYER_ACTIVITY_MISSING = Misconception(
    "backward.activity_penalty_missing",
    "Your gradients leave out the activity regularizer: sum(layer.losses) contains "
    "activity_regularizer(y) / batch, which depends on y and so on the kernel, the bias and "
    "the input; add its gradient to grad_output before going through the activation.")
LAYER_ACTIVITY_NOT_DIVIDED = Misconception(
    "backward.activity_gradient_not_divided",
    "Your activity penalty's gradient is not divided by the batch size: the layer's loss is "
    "activity_regularizer(y) / batch (Keras >= 3.14), so its gradient is divided too "
    "(chapter 10's activity_penalty_gradient does it).")
LAYER_ACTIVATION_SKIPPED = Misconception(
    "backward.activation_gradient_skipped",
    "Your backward pass skips the activation: it treats grad_output as the gradient of "
    "conv + bias. Go back through the activation first (activations.backward).")
LAYER_ACTIVITY_AFTER_ACTIVATION = Misconception(
    "backward.activity_gradient_after_activation",
    "Your activity penalty's gradient skips the activation: the penalty is a function of y, "
    "the activation's OUTPUT, so add its gradient to grad_output BEFORE going back through "
    "the activation.")


# --------------------------------------------------------------------- numerical gradient

PROBES = ("sin", "logsumexp", "product")


def _tf_probe(tf, name, weights, x):
    """The probe functions of gradcheck.probe, in TensorFlow ops."""
    if name == "sin":
        return tf.reduce_sum(weights * tf.sin(x))
    if name == "logsumexp":
        return tf.math.log(tf.reduce_sum(weights * tf.exp(x)))
    if name == "product":
        return tf.reduce_sum(weights * x) * tf.reduce_sum(x * x)
    raise ValueError(f"unknown probe {name!r}")


def keras_probe_gradient(name, weights, x):
    """GradientTape's float64 gradient of the probe at x."""
    tf = oracle.tf()
    xt = tf.constant(np.asarray(x, np.float64))
    with tf.GradientTape() as tape:
        tape.watch(xt)
        value = _tf_probe(tf, name, tf.constant(np.asarray(weights, np.float64)), xt)
    return tape.gradient(value, xt).numpy()


def _numpy_probe(name, weights, x):
    if name == "sin":
        return float(np.sum(weights * np.sin(x)))
    if name == "logsumexp":
        return float(np.log(np.sum(weights * np.exp(x))))
    return float(np.sum(weights * x) * np.sum(x * x))


def _wrong_differences(name, weights, x, eps):
    """The answers of the three wrong algorithms (numpy, float64)."""
    f = lambda v: _numpy_probe(name, weights, v)  # noqa: E731
    x = np.array(x, np.float64)
    forward, doubled, unrestored = (np.zeros_like(x) for _ in range(3))
    drifting = x.copy()
    base = f(x)
    for index in np.ndindex(x.shape):
        kept = x[index]
        x[index] = kept + eps
        above = f(x)
        x[index] = kept - eps
        below = f(x)
        x[index] = kept
        forward[index] = (above - base) / eps
        doubled[index] = (above - below) / eps
        kept = drifting[index]
        drifting[index] = kept + eps
        above = f(drifting)
        drifting[index] = kept - eps
        unrestored[index] = (above - f(drifting)) / (2 * eps)
    return {FORWARD_DIFFERENCE: forward, NOT_HALVED: doubled, NOT_RESTORED: unrestored}


def _probe_cases(rng, hidden):
    """(probe name, x shape, eps)."""
    if not hidden:
        return [("sin", (5,), 1e-3), ("logsumexp", (2, 3), 1e-3), ("product", (3, 2), 1e-3),
                ("sin", (2, 2, 2), 1e-2)]
    cases = []
    for i in range(8):
        shape = tuple(int(v) for v in rng.integers(1, 5, size=int(rng.integers(1, 4))))
        name = PROBES[i % 3]
        cases.append((name, shape, float(rng.choice([1e-3, 2e-3, 1e-2] if name == "sin"
                                                    else [1e-3, 2e-3]))))
    return cases


# Central differences in float64 err by eps^2/6 * |f'''| (exactly, for the cubic "product":
# eps^2 * w <= 8e-6 at eps = 2e-3; "sin": <= 3.4e-5 at eps = 1e-2; "logsumexp": |f'''| < 1),
# plus rounding, about 1e-16 * |f| / eps: all far below the tolerance, so a correct
# numerical_gradient passes every case whatever the draw. The forward difference errs by
# eps/2 * |f''|, the halving and the restore mistakes by O(1).
GRADCHECK_RTOL = 1e-4
GRADCHECK_ATOL = 1e-4


@check
def check_numerical_gradient(hidden=False):
    """Exercise 15.1: `gradcheck.numerical_gradient(f, x, eps)` on probe functions, against
    GradientTape's float64 gradient."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    rng = case_rng(hidden, seed=1501)
    name = "gradcheck.numerical_gradient"
    outcomes = []
    with student_session() as session:
        for probe, shape, eps in _probe_cases(rng, hidden):
            x = rng.uniform(-1.5, 1.5, shape)
            weights = rng.uniform(0.5, 2.0, shape)
            case = (f"numerical_gradient(f=probe({probe!r}, weights), "
                    f"{checking.describe_case(x=x)}, eps={eps})")
            try:
                f = session.new("gradcheck.probe", probe, weights)
            except StudentError as err:  # the given probe itself was edited away
                checking.fail(name, case, "exception",
                              f"could not make the probe function with gradcheck.probe: {err}")
            actual = as_array(student_call(session, name, f, x, eps=eps, case=case),
                              len(shape), name, case)
            expected = keras_probe_gradient(probe, weights, x)
            outcomes.append(Outcome(case, actual, expected,
                                    _wrong_differences(probe, weights, x, eps)))
    compare_outcomes(name, outcomes, rtol=GRADCHECK_RTOL, atol_fraction=GRADCHECK_ATOL)


# ---------------------------------------------------------------------- activations

def keras_activation_gradient(name, x, grad_y, **kwargs):
    """(y, d sum(grad_y * keras.activations.<name>(x, **kwargs)) / d x), float32."""
    keras, tf = oracle.keras(), oracle.tf()
    xt = tf.constant(np.asarray(x, DTYPE))
    with tf.GradientTape() as tape:
        tape.watch(xt)
        y = getattr(keras.activations, name)(xt, **kwargs)
        total = tf.reduce_sum(y * tf.constant(np.asarray(grad_y, DTYPE)))
    return y.numpy(), tape.gradient(total, xt).numpy()


def _gradient_inputs(rng, hidden):
    """Inputs with exact zeros (the kinks) and values of both signs."""
    if not hidden:
        arrays = [np.linspace(-4, 4, 17, dtype=DTYPE),
                  (rng.standard_normal((2, 3, 4, 2)) * 2).astype(DTYPE)]
        arrays[1][0, 0, :2] = 0.0
        return arrays
    arrays = []
    for _ in range(6):
        x = (rng.standard_normal(tuple(int(v) for v in rng.integers(1, 7, size=4)))
             * rng.uniform(1, 4)).astype(DTYPE)
        x.flat[rng.integers(0, x.size, size=max(1, x.size // 8))] = 0.0
        arrays.append(x)
    return arrays


def _check_activation_gradients(names, rng, hidden, wrong_of):
    """Run `activations.<name>_backward(x, y, grad_y, **kwargs)` for each (name, kwargs)."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    keras = oracle.keras()
    inputs = _gradient_inputs(rng, hidden)
    label = "activations." + " / ".join(dict.fromkeys(f"{a}_backward" for a, _ in names))
    outcomes = []
    with student_session() as session:
        for activation, kwargs in names:
            target = f"activations.{activation}_backward"
            for x in inputs:
                grad_y = rng.standard_normal(x.shape).astype(DTYPE)
                y, expected = keras_activation_gradient(activation, x, grad_y, **kwargs)
                case = "{}_backward({})".format(activation, checking.describe_case(
                    x=x, y=f"{activation}(x)", grad_y=grad_y, **kwargs))
                actual = student_call(session, target, x, y, grad_y, case=case, **kwargs)
                outcomes.append(Outcome(case, actual, expected,
                                        wrong_of(keras, activation, x, y, grad_y, kwargs)))
    compare_outcomes(label, outcomes)


def _kink_wrongs(keras, activation, x, y, grad_y, kwargs):
    if not np.any(x == 0):
        return {}
    if activation == "relu":
        return {RELU_AT_ZERO: np.where(x >= 0, grad_y, 0)}
    if activation == "leaky_relu":
        slope = kwargs.get("negative_slope", 0.2)
        return {LEAKY_AT_ZERO: np.where(x >= 0, grad_y, slope * grad_y)}
    return {}


PIECEWISE = [("relu", {}), ("leaky_relu", {}), ("leaky_relu", {"negative_slope": 0.05}),
             ("elu", {}), ("elu", {"alpha": 0.5}), ("selu", {})]
SMOOTH = [("sigmoid", {}), ("tanh", {}), ("softplus", {}), ("silu", {}), ("gelu", {}),
          ("gelu", {"approximate": True})]


@check
def check_piecewise_gradients(hidden=False):
    """Exercise 15.2 (first part): relu, leaky_relu, elu and selu gradients against
    GradientTape, with exact zeros in the inputs (the kinks)."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    _check_activation_gradients(PIECEWISE, case_rng(hidden, seed=1502), hidden, _kink_wrongs)


def _smooth_wrongs(keras, activation, x, y, grad_y, kwargs):
    if activation == "sigmoid":
        return {SIGMOID_WITH_X: grad_y * x * (1 - x)}
    if activation == "tanh":
        return {TANH_WITH_X: grad_y * (1 - x * x)}
    return {}


@check
def check_smooth_gradients(hidden=False):
    """Exercise 15.2 (second part): sigmoid, tanh, softplus, silu and gelu gradients against
    GradientTape."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    _check_activation_gradients(SMOOTH, case_rng(hidden, seed=1503), hidden, _smooth_wrongs)


@check
def check_softmax_gradient(hidden=False):
    """Exercise 15.2 (third part): softmax_backward against GradientTape, along the last axis
    and along another one."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    rng = case_rng(hidden, seed=1504)
    target = "activations.softmax_backward"
    if not hidden:
        cases = [((4,), {}), ((2, 3, 4, 5), {}), ((2, 5, 3), {"axis": 1})]
    else:
        cases = []
        for i in range(6):
            shape = tuple(int(v) for v in rng.integers(2, 7, size=int(rng.integers(1, 5))))
            cases.append((shape, {"axis": int(rng.integers(0, len(shape)))} if i % 2 else {}))
    outcomes = []
    with student_session() as session:
        for shape, kwargs in cases:
            x = (rng.standard_normal(shape) * 2).astype(DTYPE)
            grad_y = rng.standard_normal(shape).astype(DTYPE)
            y, expected = keras_activation_gradient("softmax", x, grad_y, **kwargs)
            case = "softmax_backward({})".format(checking.describe_case(
                x=x, y="softmax(x)", grad_y=grad_y, **kwargs))
            actual = student_call(session, target, x, y, grad_y, case=case, **kwargs)
            outcomes.append(Outcome(case, actual, expected,
                                    {SOFTMAX_ELEMENTWISE: grad_y * y * (1 - y)}))
    compare_outcomes(target, outcomes)


# ------------------------------------------------------------ the convolution's gradients

def _pair(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


def conv_pads(input_size, kernel_size, strides, padding, dilation_rate):
    """((top, bottom), (left, right)): Keras's explicit padding ((0, 0) twice for valid)."""
    if padding == "valid":
        return ((0, 0), (0, 0))
    return tuple(keras_same_padding(n, k, s, d) for n, k, s, d in
                 zip(input_size, kernel_size, strides, dilation_rate))


def _tf_conv(x, kernel, strides, pads, dilation_rate):
    """Keras's convolution of a channels_last tensor, differentiable: explicit padding, a
    stride-1 "valid" keras.ops.conv, every s-th output (never a strided TF conv)."""
    keras, tf = oracle.keras(), oracle.tf()
    x = tf.pad(x, [[0, 0], list(pads[0]), list(pads[1]), [0, 0]])
    y = keras.ops.conv(x, kernel, strides=1, padding="valid", dilation_rate=dilation_rate)
    return y[:, ::strides[0], ::strides[1], :]


def keras_conv_gradients(x, kernel, grad_output, strides=1, padding="valid", dilation_rate=1):
    """(d/dx, d/dkernel) of sum(grad_output * conv(x, kernel)), channels_last, float32."""
    tf = oracle.tf()
    strides, dilation_rate = _pair(strides), _pair(dilation_rate)
    xt, kt = tf.constant(np.asarray(x, DTYPE)), tf.constant(np.asarray(kernel, DTYPE))
    pads = conv_pads(x.shape[1:3], kernel.shape[:2], strides, padding, dilation_rate)
    with tf.GradientTape() as tape:
        tape.watch([xt, kt])
        y = _tf_conv(xt, kt, strides, pads, dilation_rate)
        total = tf.reduce_sum(y * tf.constant(np.asarray(grad_output, DTYPE)))
    grad_x, grad_kernel = tape.gradient(total, [xt, kt])
    return grad_x.numpy(), grad_kernel.numpy()


def keras_conv_output_shape(x_shape, kernel_shape, strides, padding, dilation_rate):
    keras = oracle.keras()
    return tuple(keras.ops.convert_to_numpy(keras.ops.shape(_tf_conv(
        np.zeros(x_shape, DTYPE), np.zeros(kernel_shape, DTYPE), _pair(strides),
        conv_pads(x_shape[1:3], kernel_shape[:2], _pair(strides), padding,
                  _pair(dilation_rate)), _pair(dilation_rate)))))


def keras_bias_gradient(z, grad_output, data_format):
    """d sum(grad_output * (z + bias)) / d bias, the bias broadcast along the channels."""
    tf = oracle.tf()
    filters = z.shape[1] if data_format == "channels_first" else z.shape[-1]
    bias = tf.constant(np.zeros(filters, DTYPE))
    with tf.GradientTape() as tape:
        tape.watch(bias)
        shaped = tf.reshape(bias, (1, -1, 1, 1)) if data_format == "channels_first" else bias
        total = tf.reduce_sum(tf.constant(grad_output) * (tf.constant(z) + shaped))
    return tape.gradient(total, bias).numpy()


@check
def check_bias_gradient(hidden=False):
    """Exercise 15.3: `bias.bias_gradient(grad_output, data_format)` against GradientTape."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    rng = case_rng(hidden, seed=1505)
    name = "bias.bias_gradient"
    if not hidden:
        shapes = [("channels_last", (2, 3, 4, 5)), ("channels_first", (3, 4, 2, 4)),
                  ("channels_last", (4, 1, 2, 3))]
    else:
        shapes = [(("channels_last", "channels_first")[i % 2],
                   tuple(int(v) for v in (rng.integers(2, 5), *rng.integers(1, 9, size=3))))
                  for i in range(8)]
    outcomes = []
    with student_session() as session:
        for data_format, shape in shapes:
            grad_output = rng.standard_normal(shape).astype(DTYPE)
            z = rng.standard_normal(shape).astype(DTYPE)
            case = "bias_gradient({})".format(checking.describe_case(
                grad_output=grad_output, data_format=data_format))
            actual = student_call(session, name, grad_output, data_format, case=case)
            expected = keras_bias_gradient(z, grad_output, data_format)
            axes = (2, 3) if data_format == "channels_first" else (1, 2)
            per_example = grad_output.sum(axis=axes)
            wrong = {BIAS_BATCH_MEAN: per_example.mean(axis=0),
                     BIAS_ONE_EXAMPLE: per_example[0]}
            if data_format == "channels_first":
                wrong[BIAS_AXES_CHANNELS_FIRST] = grad_output.sum(axis=(0, 1, 2))
            outcomes.append(Outcome(case, actual, expected, wrong))
    compare_outcomes(name, outcomes)


def columns_of(x_padded, kernel_size, strides, dilation_rate, output_size, groups):
    """im2col's columns (batch, out_h, out_w, groups, kh, kw, channels // groups), numpy:
    the input the kernel-gradient check hands the reader (chapter 13's im2col is not re-graded)."""
    (kh, kw), (sh, sw), (dh, dw), (oh, ow) = kernel_size, strides, dilation_rate, output_size
    batch, _, _, channels = x_padded.shape
    rows = (np.arange(oh) * sh)[:, None] + (np.arange(kh) * dh)[None, :]      # (oh, kh)
    cols = (np.arange(ow) * sw)[:, None] + (np.arange(kw) * dw)[None, :]      # (ow, kw)
    patches = x_padded[:, rows[:, None, :, None], cols[None, :, None, :], :]
    # (batch, oh, ow, kh, kw, channels) -> (batch, oh, ow, groups, kh, kw, channels // groups)
    patches = patches.reshape(batch, oh, ow, kh, kw, groups, channels // groups)
    return np.ascontiguousarray(patches.transpose(0, 1, 2, 5, 3, 4, 6))


def _conv_cases(rng, hidden):
    """(batch, height, width, channels, kh, kw, filters, strides, padding, dilation, groups)."""
    if not hidden:
        return [(2, 5, 5, 1, 3, 3, 1, (1, 1), "valid", (1, 1), 1),
                (1, 6, 7, 2, 3, 2, 3, (2, 2), "same", (1, 1), 1),
                (2, 7, 6, 2, 2, 3, 2, (1, 2), "valid", (1, 1), 1),
                (1, 7, 7, 4, 2, 2, 6, (1, 1), "same", (2, 2), 2),
                (2, 5, 6, 3, 3, 3, 2, (3, 2), "same", (1, 1), 1)]
    cases = []
    for i in range(8):
        groups = int(rng.choice([1, 1, 2, 3]))
        channels = groups * int(rng.integers(1, 4))
        filters = groups * int(rng.integers(1, 4))
        kh, kw = (int(v) for v in rng.integers(1, 4, size=2))
        if i % 3 == 2:
            strides, dilation = (1, 1), tuple(int(v) for v in rng.integers(1, 3, size=2))
        else:
            strides, dilation = tuple(int(v) for v in rng.integers(1, 4, size=2)), (1, 1)
        padding = ("valid", "same")[i % 2]
        height = int(rng.integers(dilation[0] * (kh - 1) + 1, 13))
        width = int(rng.integers(dilation[1] * (kw - 1) + 1, 13))
        cases.append((int(rng.integers(1, 4)), height, width, channels, kh, kw, filters,
                      strides, padding, dilation, groups))
    return cases


def _conv_case_arrays(rng, case):
    n, h, w, c, kh, kw, f, strides, padding, dilation, groups = case
    x = rng.standard_normal((n, h, w, c)).astype(DTYPE)
    kernel = rng.standard_normal((kh, kw, c // groups, f)).astype(DTYPE)
    pads = conv_pads((h, w), (kh, kw), strides, padding, dilation)
    x_padded = np.pad(x, ((0, 0), *pads, (0, 0)))
    out_shape = keras_conv_output_shape(x.shape, kernel.shape, strides, padding, dilation)
    grad_output = rng.standard_normal(out_shape).astype(DTYPE)
    return x, kernel, pads, x_padded, grad_output


def _conv_case_text(function, case):
    n, h, w, c, kh, kw, f, strides, padding, dilation, groups = case
    return (f"{function} for x {(n, h, w, c)}, kernel {(kh, kw, c // groups, f)}, "
            f"strides={strides}, padding={padding!r}, dilation_rate={dilation}, "
            f"groups={groups}")


@check
def check_kernel_gradient(hidden=False):
    """Exercise 15.5: `conv.kernel_gradient(cols, grad_output, kernel_shape, groups)` against
    GradientTape's gradient of Keras's convolution with respect to the kernel."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    rng = case_rng(hidden, seed=1506)
    name = "conv.kernel_gradient"
    outcomes = []
    with student_session() as session:
        for case in _conv_cases(rng, hidden):
            x, kernel, pads, x_padded, grad_output = _conv_case_arrays(rng, case)
            strides, dilation, groups = case[7], case[9], case[10]
            cols = columns_of(x_padded, kernel.shape[:2], strides, dilation,
                              grad_output.shape[1:3], groups)
            text = _conv_case_text("kernel_gradient", case)
            actual = student_call(session, name, cols, grad_output, kernel.shape, groups,
                                  case=text)
            _, expected = keras_conv_gradients(x, kernel, grad_output, strides, case[8],
                                               dilation)
            wrong = {KERNEL_BATCH_MEAN: expected / x.shape[0]} if x.shape[0] > 1 else {}
            if groups == 1:
                rows = int(np.prod(grad_output.shape[:3]))
                wrong[KERNEL_NOT_TRANSPOSED] = (grad_output.reshape(rows, -1).T
                                                @ cols.reshape(rows, -1)).reshape(kernel.shape)
            outcomes.append(Outcome(text, actual, expected, wrong))
    compare_outcomes(name, outcomes)


def _stride_one_input_gradient(grad_output, kernel, case, pads, x_shape):
    """What input_gradient gives when d y is not spread: the stride-1 input gradient of an
    input just large enough for d y, placed top-left and cropped like the right answer."""
    dilation = case[9]
    (kh, kw), (oh, ow) = kernel.shape[:2], grad_output.shape[1:3]
    span_h, span_w = dilation[0] * (kh - 1) + 1, dilation[1] * (kw - 1) + 1
    small = np.zeros((x_shape[0], oh + span_h - 1, ow + span_w - 1, x_shape[3]), DTYPE)
    reached, _ = keras_conv_gradients(small, kernel, grad_output, 1, "valid", dilation)
    padded_h = x_shape[1] + pads[0][0] + pads[0][1]
    padded_w = x_shape[2] + pads[1][0] + pads[1][1]
    full = np.zeros((x_shape[0], padded_h, padded_w, x_shape[3]), DTYPE)
    rows, columns = min(padded_h, reached.shape[1]), min(padded_w, reached.shape[2])
    full[:, :rows, :columns] = reached[:, :rows, :columns]
    return full[:, pads[0][0]:padded_h - pads[0][1], pads[1][0]:padded_w - pads[1][1]]


@check
def check_input_gradient(hidden=False):
    """Exercise 15.4: `conv.input_gradient(grad_output, kernel, padded_shape, pads, strides,
    dilation_rate, groups)` against GradientTape's gradient of Keras's convolution."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    rng = case_rng(hidden, seed=1507)
    name = "conv.input_gradient"
    outcomes = []
    with student_session() as session:
        for case in _conv_cases(rng, hidden):
            x, kernel, pads, x_padded, grad_output = _conv_case_arrays(rng, case)
            strides, padding, dilation, groups = case[7], case[8], case[9], case[10]
            text = _conv_case_text("input_gradient", case)
            actual = student_call(session, name, grad_output, kernel, x_padded.shape, pads,
                                  strides, dilation, groups, case=text)
            expected, _ = keras_conv_gradients(x, kernel, grad_output, strides, padding,
                                               dilation)
            wrong = {}
            if kernel.shape[0] > 1 or kernel.shape[1] > 1:
                wrong[NOT_FLIPPED], _ = keras_conv_gradients(
                    x, kernel[::-1, ::-1], grad_output, strides, padding, dilation)
            if strides != (1, 1):
                wrong[NOT_SPREAD] = _stride_one_input_gradient(grad_output, kernel, case,
                                                               pads, x.shape)
            if any(pads[0]) or any(pads[1]):
                wrong[NOT_CROPPED], _ = keras_conv_gradients(x_padded, kernel, grad_output,
                                                             strides, "valid", dilation)
            outcomes.append(Outcome(text, actual, expected, wrong))
    compare_outcomes(name, outcomes)


def keras_col2im(d_cols, padded_shape, kernel_size, strides, dilation_rate):
    """d sum(d_cols * patches(x_padded)) / d x_padded, the patches extracted by Keras's
    stride-1 convolution with a one-hot kernel, subsampled by the stride."""
    tf = oracle.tf()
    (kh, kw), channels = kernel_size, padded_shape[-1]
    groups = d_cols.shape[3]
    one_hot = np.zeros((kh, kw, channels, kh * kw * channels), DTYPE)
    for a in range(kh):
        for b in range(kw):
            for c in range(channels):
                one_hot[a, b, c, (a * kw + b) * channels + c] = 1.0
    batch, oh, ow = d_cols.shape[:3]
    # d_cols (batch, oh, ow, groups, kh, kw, cg) in the patches' order (kh, kw, channels)
    ordered = d_cols.transpose(0, 1, 2, 4, 5, 3, 6).reshape(batch, oh, ow, -1)
    xt = tf.constant(np.zeros(padded_shape, DTYPE))
    with tf.GradientTape() as tape:
        tape.watch(xt)
        patches = _tf_conv(xt, tf.constant(one_hot), _pair(strides), ((0, 0), (0, 0)),
                           _pair(dilation_rate))
        total = tf.reduce_sum(patches * tf.constant(np.asarray(ordered, DTYPE)))
    return tape.gradient(total, xt).numpy()


def _assigned_col2im(d_cols, padded_shape, kernel_size, strides, dilation_rate):
    """col2im with `=` instead of `+=` (the last tap written wins)."""
    batch, oh, ow = d_cols.shape[:3]
    (kh, kw), (sh, sw), (dh, dw) = kernel_size, strides, dilation_rate
    out = np.zeros(padded_shape, DTYPE)
    for a in range(kh):
        for b in range(kw):
            out[:, a * dh:a * dh + (oh - 1) * sh + 1:sh, b * dw:b * dw + (ow - 1) * sw + 1:sw,
                :] = d_cols[:, :, :, :, a, b, :].reshape(batch, oh, ow, -1)
    return out


@check
def check_col2im(hidden=False):
    """Exercise 15.6: `conv.col2im(cols, padded_shape, kernel_size, strides, dilation_rate)`,
    the adjoint of im2col, against GradientTape's gradient of Keras's patch extraction."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    rng = case_rng(hidden, seed=1508)
    name = "conv.col2im"
    outcomes = []
    with student_session() as session:
        for case in _conv_cases(rng, hidden):
            x, kernel, pads, x_padded, grad_output = _conv_case_arrays(rng, case)
            kernel_size, strides, dilation, groups = kernel.shape[:2], case[7], case[9], case[10]
            oh, ow = grad_output.shape[1:3]
            d_cols = rng.standard_normal((x.shape[0], oh, ow, groups, *kernel_size,
                                          x.shape[3] // groups)).astype(DTYPE)
            text = _conv_case_text("col2im", case).replace(
                "col2im for", f"col2im of cols {d_cols.shape} for")
            actual = student_call(session, name, d_cols, x_padded.shape, kernel_size, strides,
                                  dilation, case=text)
            expected = keras_col2im(d_cols, x_padded.shape, kernel_size, strides, dilation)
            wrong = {COL2IM_ASSIGNED: _assigned_col2im(d_cols, x_padded.shape, kernel_size,
                                                        strides, dilation)}
            outcomes.append(Outcome(text, actual, expected, wrong))
    compare_outcomes(name, outcomes)


# ---------------------------------------------------------------------------- the layer

def _regularizer(keras, config):
    return None if config is None else keras.regularizers.get(dict(config))


def keras_layer_gradients(config, x, kernel, bias, upstream, *, kernel_penalty=True,
                          bias_penalty=True, activity="divided", activation_gradient=True):
    """{"input", "kernel", "bias"}: GradientTape's gradients of sum(upstream * y) +
    sum(losses) for Keras's Conv2D with these weights (see the module docstring).
    The keyword arguments give the wrong variants: a penalty left out, the activity
    penalty "divided" (right), "undivided", "missing" or "after" (its gradient added after
    the activation), the activation's gradient skipped."""
    keras, tf = oracle.keras(), oracle.tf()
    data_format = config["data_format"]
    strides, dilation = _pair(config["strides"]), _pair(config["dilation_rate"])
    use_bias = bias is not None
    x_last = x.transpose(0, 2, 3, 1) if data_format == "channels_first" else x
    pads = conv_pads(x_last.shape[1:3], kernel.shape[:2], strides, config["padding"], dilation)
    conv = keras.layers.Conv2D(
        kernel.shape[-1], kernel.shape[:2], dilation_rate=dilation, groups=config["groups"],
        use_bias=use_bias,
        kernel_regularizer=_regularizer(keras, config["kernel_regularizer"]) if kernel_penalty
        else None,
        bias_regularizer=_regularizer(keras, config["bias_regularizer"]) if bias_penalty
        else None)
    padded_shape = (x_last.shape[0], x_last.shape[1] + sum(pads[0]),
                    x_last.shape[2] + sum(pads[1]), x_last.shape[3])
    conv.build(padded_shape)
    conv.set_weights([kernel] + ([bias] if use_bias else []))
    activity_config = config["activity_regularizer"]
    keras_activity = _regularizer(keras, activity_config)
    head = keras.layers.Activation(
        config["activation"] or "linear",
        activity_regularizer=keras_activity if activity == "divided" else None)
    xt = tf.constant(x)
    batch = x.shape[0]
    with tf.GradientTape() as tape, warnings.catch_warnings():
        # Keras warns about a softmax over an axis of size 1 (a hidden case may have one)
        warnings.filterwarnings("ignore", message="You are using a softmax over axis")
        tape.watch(xt)
        inner = tf.transpose(xt, (0, 2, 3, 1)) if data_format == "channels_first" else xt
        inner = tf.pad(inner, [[0, 0], list(pads[0]), list(pads[1]), [0, 0]])
        z = conv(inner)[:, ::strides[0], ::strides[1], :]
        if data_format == "channels_first":
            z = tf.transpose(z, (0, 3, 1, 2))
        if data_format == "channels_first" and config["activation"] == "softmax":
            y = keras.activations.softmax(z, axis=-1)
            if activity == "divided" and keras_activity is not None:
                head_losses = [keras_activity(y) / batch]
            else:
                head_losses = []
        else:
            y = head(z)
            head_losses = list(head.losses)
        if not activation_gradient:
            y = z + tf.stop_gradient(y - z)
        losses = list(conv.losses) + head_losses
        if keras_activity is not None and activity == "undivided":
            losses.append(keras_activity(y))
        if keras_activity is not None and activity == "after":
            # the penalty's gradient reaches z unchanged by the activation
            y_value = tf.stop_gradient(y)
            with tf.GradientTape() as inner_tape:
                inner_tape.watch(y_value)
                penalty = keras_activity(y_value) / batch
            penalty_grad = tf.stop_gradient(inner_tape.gradient(penalty, y_value))
            losses.append(tf.reduce_sum(penalty_grad * z))
        total = tf.reduce_sum(y * tf.constant(upstream))
        if losses:
            total = total + tf.add_n([tf.cast(loss, total.dtype) for loss in losses])
    grads = tape.gradient(total, [xt] + list(conv.trainable_variables))
    return {"input": grads[0].numpy(), "kernel": grads[1].numpy(),
            "bias": grads[2].numpy() if use_bias else None}


LAYER_DEFAULTS = {"strides": (1, 1), "padding": "valid", "dilation_rate": (1, 1),
                  "groups": 1, "activation": None, "use_bias": True,
                  "data_format": "channels_last", "kernel_regularizer": None,
                  "bias_regularizer": None, "activity_regularizer": None}


def _layer_cases(rng, hidden, penalties):
    """(x shape channels_last, kernel_size, filters, config)."""
    def config(**changes):
        return {**LAYER_DEFAULTS, **changes}

    l2 = {"class_name": "L2", "config": {"l2": 0.05}}
    l1 = {"class_name": "L1", "config": {"l1": 0.02}}
    l1l2 = {"class_name": "L1L2", "config": {"l1": 0.01, "l2": 0.03}}
    l2_small = {"class_name": "L2", "config": {"l2": 0.02}}
    if not hidden and not penalties:
        return [((2, 5, 5, 2), (3, 3), 3, config(activation="relu")),
                ((1, 6, 7, 2), (3, 2), 2, config(strides=(2, 2), padding="same",
                                                 activation="tanh")),
                ((2, 6, 5, 3), (2, 2), 4, config(data_format="channels_first",
                                                 activation="sigmoid")),
                ((2, 7, 7, 4), (3, 3), 2, config(groups=2, dilation_rate=(2, 1),
                                                 padding="same", activation="softmax",
                                                 use_bias=False))]
    if not hidden:
        return [((2, 5, 5, 2), (3, 3), 3, config(kernel_regularizer=l2)),
                ((2, 5, 6, 2), (2, 3), 2, config(bias_regularizer=l2, activation="relu",
                                                 strides=(1, 2))),
                ((3, 5, 5, 1), (3, 3), 2, config(activity_regularizer=l2,
                                                 activation="tanh", padding="same")),
                ((2, 6, 6, 2), (3, 3), 4, config(kernel_regularizer=l1l2,
                                                 bias_regularizer=l1,
                                                 activity_regularizer=l1l2,
                                                 activation="sigmoid",
                                                 data_format="channels_first"))]
    # No activation with a kink (relu, leaky_relu, selu) and no L1 activity penalty in the
    # hidden cases: the reader's z and y differ from Keras's by float32 rounding, and a value
    # within that rounding of a kink would get the other slope. Without kinks a correct
    # backward pass passes every draw. (elu with alpha=1 has a continuous slope.)
    activations = ["tanh", "sigmoid", "softmax", None, "gelu", "elu", "silu"]
    cases = []
    for i in range(6):
        groups = int(rng.choice([1, 1, 2]))
        channels, filters = groups * int(rng.integers(1, 3)), groups * int(rng.integers(1, 3))
        kh, kw = (int(v) for v in rng.integers(1, 4, size=2))
        strides = tuple(int(v) for v in rng.integers(1, 3, size=2)) if i % 2 else (1, 1)
        h, w = int(rng.integers(kh, 10)), int(rng.integers(kw, 10))
        chosen = config(strides=strides, padding=("valid", "same")[i % 2], groups=groups,
                        activation=activations[int(rng.integers(0, len(activations)))],
                        use_bias=bool(i != 3),
                        data_format=("channels_last", "channels_first")[(i // 2) % 2])
        if penalties:
            chosen.update(kernel_regularizer=(l2, l1l2)[i % 2],
                          bias_regularizer=(l1, l2, None)[i % 3],
                          activity_regularizer=(l2, None, l2_small)[i % 3])
        cases.append(((int(rng.integers(2, 4)), h, w, channels), (kh, kw), filters, chosen))
    return cases


def _layer_wrongs(config, x, kernel, bias, upstream, expected, penalties):
    """{Misconception: the gradients it gives}, for the misconceptions this case can show."""
    args = (config, x, kernel, bias, upstream)
    wrong = {}
    if config["activation"] not in (None, "linear"):
        wrong[LAYER_ACTIVATION_SKIPPED] = keras_layer_gradients(*args, activation_gradient=False)
    if not penalties:
        return wrong
    if config["kernel_regularizer"]:
        wrong[LAYER_KERNEL_PENALTY_MISSING] = keras_layer_gradients(*args, kernel_penalty=False)
    if config["bias_regularizer"] and bias is not None:
        wrong[LAYER_BIAS_PENALTY_MISSING] = keras_layer_gradients(*args, bias_penalty=False)
    if config["activity_regularizer"]:
        wrong[LAYER_ACTIVITY_MISSING] = keras_layer_gradients(*args, activity="missing")
        if x.shape[0] > 1:
            wrong[LAYER_ACTIVITY_NOT_DIVIDED] = keras_layer_gradients(*args,
                                                                      activity="undivided")
        if config["activation"] not in (None, "linear"):
            wrong[LAYER_ACTIVITY_AFTER_ACTIVATION] = keras_layer_gradients(*args,
                                                                           activity="after")
    return wrong


def _layer_text(shape, kernel_size, filters, config):
    changed = ", ".join(f"{k}={v!r}" for k, v in config.items() if v != LAYER_DEFAULTS[k])
    return f"Conv2D({filters}, {kernel_size}{', ' + changed if changed else ''}) on x {shape}"


def _run_layer_check(hidden, seed, penalties):
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    rng = case_rng(hidden, seed=seed)
    name = "Conv2D.backward"
    outcomes = []
    with student_session() as session:
        for shape, kernel_size, filters, config in _layer_cases(rng, hidden, penalties):
            x = rng.standard_normal(shape).astype(DTYPE)
            if config["data_format"] == "channels_first":
                x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
            kernel = (rng.standard_normal((*kernel_size, shape[3] // config["groups"], filters))
                      * 0.5).astype(DTYPE)
            bias = (rng.standard_normal(filters) * 0.5).astype(DTYPE) \
                if config["use_bias"] else None
            text = _layer_text(shape if config["data_format"] == "channels_last" else x.shape,
                               kernel_size, filters, config)
            layer = _student_layer(session, filters, kernel_size, config, text)
            y = as_array(_student(layer, x, text=text), 4, name, text)
            # the upstream gradient has the forward output's shape: a wrong __call__ shape
            # (check 14.2 says why) leaves nothing to differentiate against
            keras_shape = keras_layer_output(x, kernel, bias, **config).shape
            if y.shape != keras_shape:
                checking.fail(name, text, "wrong_shape",
                              f"your Conv2D.__call__ returned shape {y.shape}, Keras's layer "
                              f"{keras_shape}: the backward pass starts from the forward "
                              "output, so make __call__ right first (check 14.2 names the "
                              "mistake).")
            upstream = rng.standard_normal(y.shape).astype(DTYPE)
            _student(layer.call, "set_weights", [kernel] + ([bias] if bias is not None else []),
                     text=text)
            _student(layer, x, text=text)
            grads = _student(layer.call, "backward", upstream, text=text)
            if not isinstance(grads, dict) or set(grads) != {"input", "kernel", "bias"}:
                checking.fail(name, text, "wrong_type",
                              "`Conv2D.backward` should return a dict with the keys 'input', "
                              f"'kernel' and 'bias'; it returned {grads!r:.200}.")
            expected = keras_layer_gradients(config, x, kernel, bias, upstream)
            wrongs = _layer_wrongs(config, x, kernel, bias, upstream, expected, penalties)
            for part in ("input", "kernel", "bias"):
                if expected[part] is None:
                    if grads[part] is not None:
                        checking.fail(name, text, "wrong_type",
                                      "with use_bias=False the 'bias' gradient should be None.")
                    continue
                outcomes.append(Outcome(f"{text}, the '{part}' gradient", grads[part],
                                        expected[part],
                                        {m: g[part] for m, g in wrongs.items()}))
    compare_outcomes(name, outcomes)


def _student(method, *args, text=""):
    """A call on the reader's layer, a student-side error turned into feedback."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    try:
        return method(*args)
    except StudentError as err:
        kind = {"not_implemented": "not_implemented", "timeout": "timeout"}.get(err.kind,
                                                                                "exception")
        checking.fail("Conv2D.backward", "" if kind == "not_implemented" else text, kind,
                      str(err) if kind == "not_implemented" else f"\n{err}")


def _student_layer(session, filters, kernel_size, config, text):
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    try:
        return session.new("Conv2D", filters, kernel_size, **config)
    except StudentError as err:
        checking.fail("Conv2D.backward", text, "exception", f"\n{err}")


@check
def check_layer_backward(hidden=False):
    """Exercise 15.7 (first part): `Conv2D.backward` without penalties (activations, strides,
    padding, dilation, groups, channels_first, use_bias=False) against GradientTape on
    Keras's Conv2D."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    _run_layer_check(hidden, 1509, penalties=False)


@check
def check_layer_backward_with_penalties(hidden=False):
    """Exercise 15.7 (second part): `Conv2D.backward` with kernel, bias and activity
    regularizers: the gradient of sum(upstream * y) + sum(layer.losses)."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    _run_layer_check(hidden, 1510, penalties=True)
