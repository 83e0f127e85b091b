"""Checks for chapter 14, the whole layer: the rest of Keras's activations (`leaky_relu`,
`tanh`, `elu`, `selu`, `silu`, `softplus` in convlib/activations.py) and `Conv2D.__call__`,
the forward pass assembled from the reader's pieces.

Where the expected values come from:
* the activations: `keras.activations.<name>`, with values far beyond exp's float32 range.
* the layer: Keras's pipeline, step by step, with the case's weights:
  1. the convolution: `convbook.checks.padding.keras_conv` (Keras's own "same" padding, then a
     stride-1 `keras.ops.conv`, then every s-th output; grouped kernels included). Never a
     strided Keras conv: with oneDNN on, TensorFlow 2.21 returns garbage on some small strided
     shapes (docs/DESIGN.md). This also gives strides WITH dilation, which Keras refuses and
     convlib computes on request (`allow_strides_with_dilation=True`): by definition it is
     the stride-1 dilated convolution, subsampled.
  2. the bias: `keras.ops.add` with the bias on the channel axis. Not Keras's channels_first
     layer itself: Keras 3.15.1 adds the bias along the WIDTH when the output width equals
     `filters` (docs/DESIGN.md); the book does not copy the bug.
  3. the activation: `keras.activations.get(activation)` (softmax on the last axis in both
     data formats, as Keras's layer applies it).
  4. the activity penalty: `layer.losses` of Keras's identity Conv2D with the regularizer
     (chapter 10's oracle), on the activated output.
  tests/test_checks_layer.py shows this pipeline equals `keras.layers.Conv2D` with the same
  weights (set_weights) and every argument, on shapes clear of the two Keras bugs.

Not charging earlier chapters twice. The layer calls the reader's own conv2d (chapters 01-03
and 13), add_bias (05), activation (05 and 14.1) and activity_penalty with their own regularizer (08,
10). Each case first runs each of those pieces alone, in the child, on the step's input, and
compares it with Keras's step. Where a piece agrees, the next step starts from Keras's value;
where it disagrees, from the reader's value (the expected output is then "your pieces,
assembled as Keras assembles them"), and the case text and the passing line say which piece
still differs and in which chapter to fix it. So this check grades the assembly alone: the
order of the steps, the arguments handed to each, the data format, the output's dtype and
which value the activity penalty sees. A piece that raises is not charged here either: the
layer's error is reported with the file it came from, which names the chapter to fix.
The answers the misconceptions give are computed from the same step values.

Nothing here is statistical: every case is compared with Keras within the usual tolerance.
"""
import contextlib
import io
import warnings

import numpy as np

from convbook import checking, oracle
from convbook.checks import (ATOL_FRACTION, RTOL, Misconception, Outcome, case_rng, check,
                             compare_outcomes, student_session)
from convbook.checks.activity import keras_activity_penalty, keras_regularizer
from convbook.checks.padding import keras_conv
from convbook.checking import fail
from convbook.harness import StudentError

DTYPE = np.float32

# ----------------------------------------------------------------------- misconceptions
# exercise 14.1, the activations
LEAKY_TORCH_SLOPE = Misconception(
    "activations.leaky_relu_torch_slope",
    "Your leaky_relu uses the slope 0.01 for negative inputs, PyTorch's default: "
    "keras.activations.leaky_relu's default negative_slope is 0.2 (and Keras's LeakyReLU "
    "layer, a different default again, uses 0.3).")
LEAKY_SLOPE_IGNORED = Misconception(
    "activations.leaky_relu_slope_ignored",
    "Your leaky_relu ignores its `negative_slope` argument: with negative_slope=0.5 the "
    "negative inputs are multiplied by 0.5.")
TANH_OVERFLOW = Misconception(
    "activations.tanh_overflow",
    "Your tanh is (e^x - e^-x) / (e^x + e^-x), which is inf / inf = NaN once e^|x| "
    "overflows (|x| > 88 in float32): use np.tanh, or write it with e^(-2|x|), which never "
    "overflows.")
ELU_EXP_EVERYWHERE = Misconception(
    "activations.elu_exp_for_positive",
    "Your elu uses alpha (e^x - 1) for positive x too: elu(x) = x for x > 0; the exponential "
    "branch is only for x <= 0.")
ELU_ALPHA_POSITIVE = Misconception(
    "activations.elu_alpha_on_positive",
    "Your elu multiplies the positive branch by alpha too: elu(x) = x for x > 0, whatever "
    "alpha; alpha only sets the negative saturation value, -alpha.")
SELU_SWAPPED = Misconception(
    "activations.selu_constants_swapped",
    "Your selu swaps its two constants: selu(x) = scale * elu(x, alpha) with alpha = "
    "1.6732632... and scale = 1.0507009... (SELU_ALPHA, SELU_SCALE).")
SELU_SCALE_NEGATIVE_ONLY = Misconception(
    "activations.selu_scale_negative_only",
    "Your selu leaves positive inputs unscaled (x for x > 0): selu multiplies BOTH branches "
    "by scale = 1.0507009..., so selu(1) = 1.0507.")
SELU_ROUNDED = Misconception(
    "activations.selu_rounded_constants",
    "Your selu uses rounded constants (1.67 and 1.05): SELU's self-normalising property "
    "comes from the exact values (alpha = 1.6732632423543772, scale = 1.0507009873554805), "
    "and Keras uses them; the module defines SELU_ALPHA and SELU_SCALE.")
SILU_SIGMOID_ONLY = Misconception(
    "activations.silu_sigmoid_only",
    "Your silu returns sigmoid(x): silu(x) = x * sigmoid(x), the input times its sigmoid.")
SOFTPLUS_OVERFLOW = Misconception(
    "activations.softplus_overflow",
    "Your softplus is log(1 + exp(x)), which gives inf once exp(x) overflows (x > 88 in "
    "float32), where softplus(x) is x: write it as max(x, 0) + log1p(exp(-|x|)).")

# exercise 14.2, the layer
ACTIVATION_BEFORE_BIAS = Misconception(
    "layer.activation_before_bias",
    "Your layer applies the activation before adding the bias, activation(conv) + bias: "
    "Conv2D computes activation(conv + bias).")
BIAS_SKIPPED = Misconception(
    "layer.bias_skipped",
    "Your layer leaves the bias out although use_bias=True: y = activation(conv(x) + bias).")
ACTIVATION_SKIPPED = Misconception(
    "layer.activation_skipped",
    "Your layer returns conv(x) + bias without the activation: apply self.activation to it.")
BIAS_WRONG_AXIS = Misconception(
    "layer.bias_channels_last_axis",
    "For channels_first your layer adds the bias along the last axis (the width): pass "
    "self.data_format to add_bias, so bias[f] goes to y[:, f, :, :]. (Keras 3.15.1's own "
    "layer has this bug when the width equals filters; the book follows the intended rule.)")
STRIDES_DROPPED = Misconception(
    "layer.strides_not_passed",
    "Your layer's convolution ignores the layer's strides (it uses stride 1): hand "
    "self.strides to conv2d.")
DILATION_DROPPED = Misconception(
    "layer.dilation_not_passed",
    "Your layer's convolution ignores the layer's dilation_rate (it uses 1): hand "
    "self.dilation_rate to conv2d.")
PADDING_DROPPED = Misconception(
    "layer.padding_not_passed",
    "Your layer's convolution ignores padding=\"same\" (it computes \"valid\"): hand "
    "self.padding to conv2d.")
PENALTY_ON_Z = Misconception(
    "layer.penalty_before_activation",
    "Your activity penalty is computed on the pre-activation z = conv(x) + bias: Keras "
    "penalises the layer's OUTPUT, after the activation (what the next layer receives).")
PENALTY_NOT_DIVIDED = Misconception(
    "layer.penalty_not_divided",
    "Your layer records regularizer(y), not divided by the batch size: call "
    "activity_penalty(regularizer, y) (chapter 10), which divides as Keras 3.14+ does.")
PENALTY_MISSING = Misconception(
    "layer.penalty_not_recorded",
    "Your layer has an activity_regularizer but `layer.losses` is empty after the call: "
    "store activity_penalty(self.activity_regularizer, y) in self._activity_loss.")
NOT_FLOAT32 = Misconception(
    "layer.output_not_float32",
    "Your layer returns a float64 array: Keras's Conv2D computes and returns float32 (the "
    "layer's dtype); convert the output with np.asarray(y, dtype=FLOATX).")


# ============================================================ exercise 14.1, activations

MORE_ACTIVATIONS = ("leaky_relu", "tanh", "elu", "selu", "silu", "softplus")
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def keras_activation(name, x, **kwargs):
    """keras.activations.<name>(x, **kwargs) as a numpy array."""
    keras = oracle.keras()
    return keras.ops.convert_to_numpy(
        getattr(keras.activations, name)(np.asarray(x, DTYPE), **kwargs))


def _activation_inputs(rng, hidden):
    """Arrays of assorted shapes, then one with values far beyond exp's float32 range."""
    if not hidden:
        arrays = [np.linspace(-5, 5, 21, dtype=DTYPE),
                  (rng.standard_normal((2, 3, 4, 2)) * 3).astype(DTYPE)]
    else:
        arrays = [(rng.standard_normal(tuple(int(v) for v in rng.integers(1, 9, size=4)))
                   * rng.uniform(1, 8)).astype(DTYPE) for _ in range(6)]
    arrays.append(np.array([[-1000, -100, -89, -20, -0.5, 0],
                            [0.5, 20, 89, 100, 1000, 1e38]], DTYPE))
    return arrays


def _keyword_cases(name, rng, hidden):
    if name == "leaky_relu":
        return [{}, {"negative_slope": 0.5}] + (
            [{"negative_slope": float(np.round(rng.uniform(0.05, 0.9), 3))}] if hidden else [])
    if name == "elu":
        return [{}, {"alpha": 0.5}] + (
            [{"alpha": float(np.round(rng.uniform(0.1, 3.0), 3))}] if hidden else [])
    return [{}]


def _wrong_activations(name, x, kwargs):
    """{Misconception: the answer it gives}, computed with Keras's ops."""
    keras = oracle.keras()
    ops = keras.ops
    x = np.asarray(x, DTYPE)

    def np_(value):
        return ops.convert_to_numpy(value)

    with np.errstate(over="ignore", invalid="ignore"):
        if name == "leaky_relu":
            slope = kwargs.get("negative_slope", 0.2)
            wrong = {}
            if not kwargs:
                wrong[LEAKY_TORCH_SLOPE] = keras_activation(name, x, negative_slope=0.01)
            elif slope != 0.2:
                wrong[LEAKY_SLOPE_IGNORED] = keras_activation(name, x)
            return wrong
        if name == "tanh":
            e, e_minus = np_(ops.exp(x)), np_(ops.exp(-x))
            return {TANH_OVERFLOW: (e - e_minus) / (e + e_minus)}
        if name == "elu":
            alpha = kwargs.get("alpha", 1.0)
            wrong = {ELU_EXP_EVERYWHERE: np_(alpha * ops.expm1(x))}
            if alpha != 1.0:
                wrong[ELU_ALPHA_POSITIVE] = np.where(x > 0, alpha * x,
                                                     keras_activation("elu", x, alpha=alpha))
            return wrong
        if name == "selu":
            negative = keras_activation("elu", x, alpha=SELU_ALPHA) * SELU_SCALE
            return {SELU_SWAPPED: SELU_ALPHA * keras_activation("elu", x, alpha=SELU_SCALE),
                    SELU_SCALE_NEGATIVE_ONLY: np.where(x > 0, x, negative),
                    SELU_ROUNDED: 1.05 * keras_activation("elu", x, alpha=1.67)}
        if name == "silu":
            return {SILU_SIGMOID_ONLY: keras_activation("sigmoid", x)}
        if name == "softplus":
            return {SOFTPLUS_OVERFLOW: np_(ops.log(1.0 + ops.exp(x)))}
    return {}


@check
def check_more_activations(hidden=False):
    """Exercise 14.1: `activations.leaky_relu`, `tanh`, `elu`, `selu`, `silu` and `softplus`
    against keras.activations, including inputs where exp overflows."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    rng = case_rng(hidden, seed=1401)
    total = 0
    with student_session() as session:
        for name in MORE_ACTIVATIONS:
            target = f"activations.{name}"
            outcomes = []
            for x in _activation_inputs(rng, hidden):
                for kwargs in _keyword_cases(name, rng, hidden):
                    case = "{}({})".format(name, checking.describe_case(x=x, **kwargs))
                    actual = _call(session, target, x, case=case, **kwargs)
                    outcomes.append(Outcome(case, actual, keras_activation(name, x, **kwargs),
                                            _wrong_activations(name, x, kwargs)))
            with contextlib.redirect_stdout(io.StringIO()):   # one line for the six
                compare_outcomes(target, outcomes)
            total += len(outcomes)
    checking.passed("activations." + ", ".join(MORE_ACTIVATIONS), total)


def _call(session, function, *args, case="", **kwargs):
    """session.call, a student-side error turned into feedback naming the case."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    from convbook.checks import student_call
    return student_call(session, function, *args, case=case, **kwargs)


# ================================================================ exercise 14.2, the layer

REGULARIZERS = {None: None, "L2": ("L2", {"l2": 0.01}), "L1": ("L1", {"l1": 0.01})}
PIECE_CHAPTERS = {"conv2d": "chapters 01-03 and 13", "add_bias": "chapter 05",
                  "activity_penalty": "chapters 08 and 10"}
ACTIVATION_CHAPTER = {"relu": "chapter 05", "sigmoid": "chapter 05", "softmax": "chapter 05",
                      "gelu": "chapter 05", "linear": "the given code",
                      **{name: "exercise 14.1" for name in MORE_ACTIVATIONS}}
KERAS_ACTIVATIONS = ("relu", "sigmoid", "softmax", "gelu", "linear", "leaky_relu", "tanh",
                     "elu", "selu", "silu", "softplus")


def _case(data_format, input_hw, channels, filters, kernel_size, strides=(1, 1),
          padding="valid", dilation_rate=(1, 1), groups=1, use_bias=True, activation=None,
          activity=None, batch=2):
    return dict(data_format=data_format, input_hw=input_hw, channels=channels,
                filters=filters, kernel_size=kernel_size, strides=strides, padding=padding,
                dilation_rate=dilation_rate, groups=groups, use_bias=use_bias,
                activation=activation, activity=activity, batch=batch)


def _layer_cases(rng, hidden):
    if not hidden:
        return [
            _case("channels_last", (7, 8), 3, 4, (3, 3), activation="relu"),
            _case("channels_first", (9, 8), 2, 3, (3, 2), strides=(2, 1), padding="same",
                  activation="sigmoid", activity="L2"),
            _case("channels_last", (10, 9), 4, 6, (3, 3), padding="same",
                  dilation_rate=(2, 2), groups=2, activation="tanh", activity="L1", batch=3),
            # output width 3 == filters: a bias on the last axis does not raise
            _case("channels_first", (5, 5), 2, 3, (3, 3), activation="softmax"),
            _case("channels_last", (11, 12), 3, 4, (3, 2), strides=(2, 3),
                  dilation_rate=(2, 2), padding="same", activation="elu", activity="L2"),
            _case("channels_last", (8, 8), 6, 3, (2, 2), groups=3, use_bias=False,
                  activation="gelu", activity="L2", batch=3),
            _case("channels_first", (9, 10), 3, 2, (3, 3), strides=(2, 2), padding="same",
                  activation=None, batch=1),
        ]
    cases = []
    activations = list(KERAS_ACTIVATIONS) + [None, "relu", "softmax"]
    rng.shuffle(activations)
    for i, activation in enumerate(activations):
        data_format = ("channels_last", "channels_first")[i % 2]
        groups = int(rng.choice([1, 1, 2, 3]))
        channels = groups * int(rng.integers(1, 4))
        filters = groups * int(rng.integers(1, 4))
        kernel_size = tuple(int(v) for v in rng.integers(1, 5, size=2))
        strides, dilation = [1, 1], [1, 1]
        mode = i % 4      # 0: plain, 1: strides, 2: dilation, 3: both (convlib's opt-in)
        for axis in range(2):
            if mode in (1, 3):
                strides[axis] = int(rng.integers(1, 4))
            if mode in (2, 3):
                dilation[axis] = int(rng.integers(1, 4))
        padding = ("valid", "same")[int(rng.integers(2))]
        span = [d * (k - 1) + 1 for d, k in zip(dilation, kernel_size)]
        input_hw = tuple(int(s + rng.integers(0, 14)) for s in span)
        activity = (None, "L2", "L1")[int(rng.integers(3))]
        cases.append(_case(data_format, input_hw, channels, filters, kernel_size,
                           tuple(strides), padding, tuple(dilation), groups,
                           bool(i % 5 != 2), activation, activity,
                           int(rng.integers(1, 5))))
    # one channels_first case whose output width equals filters (the wrong-axis bias shows)
    cases.append(_case("channels_first", (6, 7), 2, 5, (3, 3), activation="relu",
                       batch=int(rng.integers(1, 4))))
    return cases


def _layer_arguments(case):
    """The keyword arguments of Conv2D(...) for a case (either library)."""
    return dict(filters=case["filters"], kernel_size=case["kernel_size"],
                strides=case["strides"], padding=case["padding"],
                data_format=case["data_format"], dilation_rate=case["dilation_rate"],
                groups=case["groups"], activation=case["activation"],
                use_bias=case["use_bias"])


def _strided_dilated(case):
    return max(case["strides"]) > 1 and max(case["dilation_rate"]) > 1


def _case_text(case):
    args = _layer_arguments(case)
    shown = ", ".join(f"{k}={v!r}" for k, v in args.items() if k not in ("filters",
                                                                         "kernel_size"))
    activity = case["activity"]
    if activity:
        kind, factors = REGULARIZERS[activity]
        values = ", ".join(f"{k}={v}" for k, v in factors.items())
        shown += f", activity_regularizer={kind}({values})"
    if _strided_dilated(case):
        shown += ", allow_strides_with_dilation=True"
    return f"Conv2D({case['filters']}, {case['kernel_size']}, {shown})"


def _input_shape(case):
    h, w = case["input_hw"]
    if case["data_format"] == "channels_last":
        return (case["batch"], h, w, case["channels"])
    return (case["batch"], case["channels"], h, w)


def keras_add(z, bias, data_format):
    """z + bias on the channel axis, by keras.ops.add. A channels_first z is added channels_last
    and transposed back: keras.ops.add of a (1, filters, 1, 1) bias is Keras 3.15.1's bias bug
    itself when the width equals filters (it becomes tf.nn.bias_add on the last axis)."""
    keras = oracle.keras()
    z = np.asarray(z, DTYPE)
    if data_format == "channels_first":
        z = z.transpose(0, 2, 3, 1)
    y = keras.ops.convert_to_numpy(keras.ops.add(z, np.asarray(bias, DTYPE)))
    return y.transpose(0, 3, 1, 2) if data_format == "channels_first" else y


def keras_layer_output(x, kernel, bias, **arguments):
    """What keras.layers.Conv2D(**arguments) with weights (kernel, bias) returns for x, by
    Keras's steps (see the module docstring): conv, bias on the channel axis, activation."""
    z = keras_conv(x, kernel, arguments.get("strides", 1), arguments.get("padding", "valid"),
                   arguments.get("dilation_rate", 1),
                   arguments.get("data_format", "channels_last"))
    if bias is not None:
        z = keras_add(z, bias, arguments.get("data_format", "channels_last"))
    return _keras_activate(arguments.get("activation"), z).astype(DTYPE)


class _Steps:
    """One case's steps: Keras's value, or the reader's piece's value where it differs."""

    def __init__(self, session, case_text):
        self.session = session
        self.case_text = case_text
        self.differing = []          # (piece, chapter)

    def step(self, piece, chapter, keras_value, function, *args, **kwargs):
        try:
            yours = self.session.call(function, *args, **kwargs)
            yours = np.asarray(yours, dtype=np.float64)
        except (StudentError, TypeError, ValueError):
            return keras_value        # not usable alone: Keras's value (the layer will tell)
        if yours.shape == np.shape(keras_value) and checking.matches(
                yours, keras_value, RTOL, ATOL_FRACTION):
            return keras_value
        if yours.shape != np.shape(keras_value) or not np.all(np.isfinite(yours)):
            return keras_value
        self.differing.append((piece, chapter))
        return yours


def _activate(steps, name, z, reader_differs):
    """activation `name` of z: the reader's when theirs differs from Keras's, else Keras's."""
    if reader_differs:
        try:
            return np.asarray(steps.session.call(f"activations.{name}", z), np.float64)
        except StudentError:
            pass
    return _keras_activate(name, z)


def _keras_activate(name, z):
    """keras.activations.get(name)(z), quietly: a softmax over a last axis of size 1 (a
    channels_first output one pixel wide, or one filter) is a legitimate case here (all ones),
    and Keras would warn about it on stderr."""
    keras = oracle.keras()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return keras.ops.convert_to_numpy(keras.activations.get(name)(np.asarray(z, DTYPE)))


def _layer_error(err, case_text):
    """The reader's layer raised: say where, and which chapter owns that file."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    name = "Conv2D.__call__"
    if err.kind == "not_implemented":     # the message names the unwritten function
        fail(name, "", "not_implemented", str(err))
    where = err.where or ""
    owner = {"conv.py": "chapter 13 (conv2d)", "padding.py": "chapter 02",
             "output_size.py": "chapters 01-03", "bias.py": "chapter 05",
             "activations.py": "chapter 05 or exercise 14.1",
             "activity.py": "chapter 10", "regularizers.py": "chapter 08"}
    for file, chapter in owner.items():
        if where.startswith(f"convlib/{file}"):
            fail(name, case_text, "exception",
                 f"\n{err}\nThe error is raised in {where} ({chapter}), inside a piece your "
                 f"layer calls. Run that piece's own check first; if it passes, look at what "
                 f"your layer hands to it (the arguments in the order its signature lists "
                 f"them, self.data_format, the bias only when self.use_bias).")
    kind = {"timeout": "timeout"}.get(err.kind, "exception")
    fail(name, case_text, kind, f"\n{err}")


def _losses(value, name, case_text):
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    try:
        return np.asarray([float(v) for v in value], np.float64)
    except (TypeError, ValueError):
        fail(name, case_text, "wrong_type",
             f"`layer.losses` should be a list of numbers; it is {value!r}.")


@check
def check_conv2d_layer(hidden=False):
    """Exercise 14.2: `Conv2D.__call__` (output and `layer.losses`) against Keras's layer,
    across every argument, with the reader's own pieces (see the module docstring)."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    rng = case_rng(hidden, seed=1402)
    name = "Conv2D.__call__"
    outcomes = []
    errors = []          # (StudentError, case) of cases where the reader's layer raised
    notes = set()
    with student_session() as session:
        for case in _layer_cases(rng, hidden):
            text = _case_text(case)
            data_format = case["data_format"]
            x = rng.standard_normal(_input_shape(case)).astype(DTYPE)
            kh, kw = case["kernel_size"]
            kernel = (rng.standard_normal((kh, kw, case["channels"] // case["groups"],
                                           case["filters"])) * 0.5).astype(DTYPE)
            bias = (rng.standard_normal(case["filters"]) * 1.5).astype(DTYPE) \
                if case["use_bias"] else None
            text += f" on {checking.describe_case(x=x)}"

            # ---- the reader's layer, built with the case's weights
            try:
                regularizer = None
                if case["activity"]:
                    kind, factors = REGULARIZERS[case["activity"]]
                    regularizer = session.new(f"regularizers.{kind}", **factors)
                extra = {"allow_strides_with_dilation": True} if _strided_dilated(case) else {}
                layer = session.new("Conv2D", **_layer_arguments(case),
                                    activity_regularizer=regularizer, **extra)
                layer.call("build", x.shape)
                layer.call("set_weights", [kernel] + ([bias] if bias is not None else []))
                actual = layer(x)
                losses = layer.get("losses")
            except StudentError as err:
                if err.kind != "exception" or not outcomes:
                    _layer_error(err, text)
                # a wrong answer on an earlier case explains more than an error: keep going
                errors.append((err, text))
                continue

            # ---- Keras's steps, or the reader's piece where it differs
            steps = _Steps(session, text)
            args = (case["strides"], case["padding"], case["dilation_rate"])
            keras_z = keras_conv(x, kernel, *args, data_format)
            z_conv = steps.step("conv2d", PIECE_CHAPTERS["conv2d"], keras_z, "conv.conv2d",
                                x, kernel, case["strides"], case["padding"],
                                case["dilation_rate"], case["groups"], data_format)
            z = z_conv
            if bias is not None:
                z = steps.step("add_bias", PIECE_CHAPTERS["add_bias"],
                               keras_add(z_conv, bias, data_format), "bias.add_bias",
                               z_conv.astype(DTYPE), bias, data_format)
            act_name = case["activation"] or "linear"
            before = len(steps.differing)
            keras_y = _activate(steps, act_name, z, False)
            y = steps.step(act_name, ACTIVATION_CHAPTER[act_name], keras_y,
                           f"activations.{act_name}", np.asarray(z, DTYPE))
            reader_activation = len(steps.differing) > before
            wrong = {}
            if bias is not None:
                if act_name != "linear":
                    wrong[ACTIVATION_BEFORE_BIAS] = keras_add(
                        _activate(steps, act_name, z_conv, reader_activation), bias,
                        data_format)
                wrong[BIAS_SKIPPED] = _activate(steps, act_name, z_conv, reader_activation)
                out_w = z_conv.shape[3]
                if data_format == "channels_first" and out_w == case["filters"]:
                    wrong[BIAS_WRONG_AXIS] = _activate(
                        steps, act_name, np.asarray(z_conv, DTYPE) + bias, reader_activation)
            if act_name != "linear":
                wrong[ACTIVATION_SKIPPED] = z
            for misconception, changed in ((STRIDES_DROPPED, {"strides": (1, 1)}),
                                           (DILATION_DROPPED, {"dilation_rate": (1, 1)}),
                                           (PADDING_DROPPED, {"padding": "valid"})):
                arguments = {**_layer_arguments(case), **changed}
                if arguments == _layer_arguments(case):
                    continue
                try:
                    wrong[misconception] = keras_layer_output(x, kernel, bias, **arguments)
                except Exception:       # noqa: BLE001 - e.g. a "valid" output that is empty
                    continue
            suffix = "" if not steps.differing else (
                " [your " + ", ".join(p for p, _ in steps.differing) + " differs from Keras's "
                "on this case, so the expected output is built from yours]")
            case_text = text + suffix
            if np.asarray(actual).dtype != DTYPE and np.asarray(actual).dtype.kind == "f":
                fail(name, case_text, "wrong_type",
                     f"your layer returned dtype {np.asarray(actual).dtype}; Keras's is "
                     f"float32.", NOT_FLOAT32)
            outcomes.append(Outcome(case_text + ", the output", actual, y, wrong))

            # ---- layer.losses: the activity penalty of the output, divided by the batch
            losses = _losses(losses, name, case_text)
            if case["activity"]:
                kind, factors = REGULARIZERS[case["activity"]]
                keras_reg = keras_regularizer(kind, **factors)
                expected_loss = keras_activity_penalty(keras_reg, y)
                base_y = steps.step("activity_penalty", PIECE_CHAPTERS["activity_penalty"],
                                    np.float64(expected_loss), "activity.activity_penalty",
                                    regularizer, np.asarray(y, DTYPE))
                if steps.differing and steps.differing[-1][0] == "activity_penalty":
                    penalty = lambda v: float(session.call(  # noqa: E731
                        "activity.activity_penalty", regularizer, np.asarray(v, DTYPE)))
                else:
                    penalty = lambda v: keras_activity_penalty(keras_reg, v)  # noqa: E731
                if losses.size == 0:
                    fail(name, case_text, "wrong_values",
                         "`layer.losses` is empty after the call; expected the activity "
                         f"penalty {float(base_y):.6g}.", PENALTY_MISSING)
                wrong_losses = {}
                if act_name != "linear":
                    wrong_losses[PENALTY_ON_Z] = np.array([penalty(z)])
                if case["batch"] > 1:
                    wrong_losses[PENALTY_NOT_DIVIDED] = np.array(
                        [penalty(y) * case["batch"]])
                outcomes.append(Outcome(case_text + ", layer.losses", losses,
                                        np.array([float(base_y)]), wrong_losses))
            else:
                outcomes.append(Outcome(case_text + ", layer.losses", losses,
                                        np.zeros(0), {}))
            notes.update(f"{piece} ({chapter})" for piece, chapter in steps.differing)
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        compare_outcomes(name, outcomes)
    if errors:
        _layer_error(*errors[0])
    if not notes:
        print(buffer.getvalue().strip())
        return
    print(buffer.getvalue().strip().rstrip(".")
          + f" (assembled from your own {', '.join(sorted(notes))}, which still differ from "
            "Keras's: fix them there).")
