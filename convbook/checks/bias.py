"""Checks for chapter 05, use_bias and activation: `bias.add_bias`, the activations `relu`,
`sigmoid`, `softmax` and `gelu`, `bias.add_bias_and_activate` (the layer's last two steps)
and `bias.compose_linear_convs` (two stacked linear convolutions are one).

Where the expected values come from:
* add_bias: `keras.layers.Conv2D` with a 1x1 identity kernel (so its convolution returns its
  input exactly) and the bias set: the layer adds the bias itself. A channels_first case is
  computed channels_last and transposed back, because Keras 3.15.1's channels_first layer
  adds the bias along the width when the width equals `filters` (see docs/DESIGN.md).
* the activations: `keras.activations.relu / sigmoid / softmax / gelu`.
* add_bias_and_activate: the same identity Conv2D with `activation=` set, in the case's own
  data format (the cases never have width == filters, so Keras's bug cannot show).
* compose_linear_convs: two stacked `keras.layers.Conv2D` (valid, stride 1, no activation)
  with the weights set, read off on impulses: for an input exactly as large as the merged
  kernel the stack's output is one pixel, sum(x * kernel) + bias; an input of zeros gives
  the bias, a single 1 at (u, v, c) gives bias + kernel[u, v, c, :].
The answers the misconceptions give are computed with Keras too (keras.ops, keras.activations).
"""
import numpy as np

from convbook import checking, oracle
from convbook.checks import (Misconception, check, Outcome, as_array, case_rng, compare_outcomes,
                             student_call, student_session)

# ----------------------------------------------------------------------- misconceptions
BIAS_LAST_AXIS = Misconception(
    "bias.last_axis_channels_first",
    "For channels_first you added the bias along the last axis (the width): in (batch, "
    "filters, height, width) the channels are axis 1, so bias[f] goes to y[:, f, :, :]; "
    "reshape it to (1, filters, 1, 1).")
BIAS_ONE_CONSTANT = Misconception(
    "bias.one_constant",
    "You added the same number (bias[0]) to every channel: the bias has one value per "
    "filter, shape (filters,), and bias[f] is added to every pixel of output channel f.")

RELU_MIN = Misconception(
    "activations.relu_min",
    "Your relu keeps the negative part, min(x, 0): relu(x) = max(x, 0) keeps the positive "
    "values and sets the negative ones to 0.")
SIGMOID_NAN = Misconception(
    "activations.sigmoid_overflow",
    "Your sigmoid gives NaN for large x: exp(x) / (1 + exp(x)) is inf / inf once exp(x) "
    "overflows (x > 88 in float32). Write both halves with e = exp(-|x|), which never "
    "overflows: 1 / (1 + e) for x >= 0 and e / (1 + e) for x < 0.")
SIGMOID_SIGN = Misconception(
    "activations.sigmoid_sign",
    "Your answer is sigmoid(-x) = 1 / (1 + exp(x)): sigmoid(x) = 1 / (1 + exp(-x)) tends to "
    "1 as x grows.")
SOFTMAX_OVERFLOW = Misconception(
    "activations.softmax_overflow",
    "Your softmax overflows on large logits (inf / inf = NaN): exp(x) / sum(exp(x)) without "
    "subtracting the maximum first. softmax(x) = softmax(x - max(x)) along the axis, and "
    "then every exp is at most 1.")
SOFTMAX_AXIS_IGNORED = Misconception(
    "activations.softmax_axis_ignored",
    "Your softmax ignores its `axis` argument (it always normalises the last axis): with "
    "axis=1 every slice along axis 1 must sum to 1.")
SOFTMAX_WHOLE = Misconception(
    "activations.softmax_whole_array",
    "Your softmax normalises the whole array (all values sum to 1): it normalises each "
    "slice along `axis` separately (use keepdims=True so the sums broadcast back).")
GELU_TANH = Misconception(
    "activations.gelu_tanh_default",
    "You used the tanh approximation for approximate=False: Keras's default gelu is the "
    "exact 0.5 x (1 + erf(x / sqrt(2))); the tanh form is only for approximate=True (it "
    "differs by up to 4e-4, near x = -3 or 3).")
GELU_EXACT_ALWAYS = Misconception(
    "activations.gelu_approximate_ignored",
    "You ignored approximate=True: then Keras uses 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 "
    "x^3))), not the erf form.")
GELU_SIGMOID = Misconception(
    "activations.gelu_sigmoid",
    "You used x * sigmoid(1.702 x), a rougher approximation of GELU than either of Keras's "
    "two forms: use 0.5 x (1 + erf(x / sqrt(2))) (and the tanh form for approximate=True).")

ACTIVATION_FIRST = Misconception(
    "bias.activation_before_bias",
    "You applied the activation before adding the bias, activation(z) + bias: Conv2D "
    "computes activation(z + bias); the bias shifts the input of the activation, which is "
    "what lets it move the threshold of a relu.")
SOFTMAX_CHANNELS = Misconception(
    "bias.softmax_channel_axis",
    "For channels_first you applied softmax over the channel axis (axis 1): Keras's Conv2D "
    "calls softmax with its default axis=-1, the LAST axis, whatever the data format, so a "
    "channels_first layer normalises along the width.")
BIAS_IGNORED = Misconception(
    "bias.bias_ignored",
    "You left the bias out: with a bias the layer returns activation(z + bias).")

MERGED_FLIPPED = Misconception(
    "bias.merged_kernel_flipped",
    "Your merged kernel combines kernel2 flipped (a cross-correlation of the two kernels): "
    "tap (p, q) of kernel2 reads the first conv's output at (i + p, j + q), whose window "
    "starts at input pixel (i + p, j + q), so kernel1 goes at offset (p, q) of the merged "
    "kernel: kernel[p:p+kh1, q:q+kw1] += kernel1 mixed by kernel2[p, q].")
MERGED_BIAS_B2 = Misconception(
    "bias.merged_bias_forgets_bias1",
    "Your merged bias is bias2 alone: bias1 does not vanish, the second conv multiplies it "
    "by its weights, so the merged bias is bias2[f] + sum over p, q, g of "
    "kernel2[p, q, g, f] * bias1[g].")
MERGED_BIAS_ADDED = Misconception(
    "bias.merged_bias_added",
    "Your merged bias is bias1 + bias2: bias1 passes through the second convolution like "
    "any other value, so it is multiplied by kernel2: bias2[f] + sum over p, q, g of "
    "kernel2[p, q, g, f] * bias1[g].")

DTYPE = np.float32


# --------------------------------------------------------------------------- Keras oracles

def _identity_layer(filters, bias, activation, data_format, input_shape):
    keras = oracle.keras()
    layer = keras.layers.Conv2D(filters, 1, use_bias=bias is not None, activation=activation,
                                data_format=data_format)
    layer.build(input_shape)
    weights = [np.eye(filters, dtype=DTYPE)[None, None]]
    if bias is not None:
        weights.append(np.asarray(bias, DTYPE))
    layer.set_weights(weights)
    return layer


def keras_add_bias(y, bias, data_format="channels_last"):
    """What add_bias(y, bias, data_format) should return: Keras's Conv2D adding `bias` to
    the output of a 1x1 identity convolution (computed channels_last, see the docstring)."""
    keras = oracle.keras()
    y = np.asarray(y, DTYPE)
    x = y.transpose(0, 2, 3, 1) if data_format == "channels_first" else y
    out = keras.ops.convert_to_numpy(
        _identity_layer(x.shape[-1], bias, None, "channels_last", x.shape)(x))
    return out.transpose(0, 3, 1, 2) if data_format == "channels_first" else out


def keras_activation(name, x, **kwargs):
    """keras.activations.<name>(x, **kwargs) as a numpy array."""
    keras = oracle.keras()
    fn = getattr(keras.activations, name)
    return keras.ops.convert_to_numpy(fn(np.asarray(x, DTYPE), **kwargs))


def keras_bias_and_activation(z, bias, activation=None, data_format="channels_last"):
    """What Conv2D does after its convolution: a Conv2D with a 1x1 identity kernel, the
    bias (None: use_bias=False) and `activation`, in `data_format`, applied to z."""
    keras = oracle.keras()
    z = np.asarray(z, DTYPE)
    channel_axis = 1 if data_format == "channels_first" else 3
    if data_format == "channels_first" and bias is not None and z.shape[3] == z.shape[1]:
        raise ValueError("width == filters with channels_first: Keras 3.15.1 adds the bias "
                         "along the width there (a bug); choose another width")
    layer = _identity_layer(z.shape[channel_axis], bias, activation, data_format, z.shape)
    return keras.ops.convert_to_numpy(layer(z))


def keras_stacked_convs(x, kernel1, bias1, kernel2, bias2, activation=None):
    """Two stacked keras.layers.Conv2D (valid, stride 1), weights set; `activation` on the
    first (None: a linear stack)."""
    keras = oracle.keras()
    x = np.asarray(x, DTYPE)
    first = keras.layers.Conv2D(kernel1.shape[-1], kernel1.shape[:2], activation=activation)
    second = keras.layers.Conv2D(kernel2.shape[-1], kernel2.shape[:2])
    first.build(x.shape)
    first.set_weights([np.asarray(kernel1, DTYPE), np.asarray(bias1, DTYPE)])
    middle = first(x)
    second.build(tuple(middle.shape))
    second.set_weights([np.asarray(kernel2, DTYPE), np.asarray(bias2, DTYPE)])
    return keras.ops.convert_to_numpy(second(middle))


def keras_merged_kernel(kernel1, bias1, kernel2, bias2):
    """(kernel, bias) of the one Conv2D equal to Keras's two stacked linear ones, read off
    the stack's answers to impulses (see the module docstring)."""
    kh = kernel1.shape[0] + kernel2.shape[0] - 1
    kw = kernel1.shape[1] + kernel2.shape[1] - 1
    channels = kernel1.shape[2]
    size = kh * kw * channels
    impulses = np.zeros((size + 1, kh, kw, channels), DTYPE)
    impulses[np.arange(size), *np.unravel_index(np.arange(size), (kh, kw, channels))] = 1.0
    out = keras_stacked_convs(impulses, kernel1, bias1, kernel2, bias2)[:, 0, 0, :]
    bias = out[-1]
    return (out[:-1] - bias).reshape(kh, kw, channels, -1), bias


# ---------------------------------------------------------------------------- add_bias

def _bias_cases(rng, hidden):
    """(data_format, (batch, height, width, filters)). The visible channels_first cases have
    width == filters (and height != filters): there a bias broadcast over the last axis does
    not raise, so the feedback can name that mistake."""
    if not hidden:
        return [
            ("channels_last", (1, 2, 3, 4)),
            ("channels_first", (2, 3, 5, 5)),
            ("channels_last", (2, 4, 3, 1)),
            ("channels_first", (1, 4, 3, 3)),
        ]
    cases = []
    for i in range(10):
        filters = int(rng.integers(2, 9))
        width = filters if i == 1 else int(rng.integers(1, 20))
        cases.append((("channels_last", "channels_first")[i % 2],
                      (int(rng.integers(1, 4)), int(rng.integers(1, 20)), width, filters)))
    return cases


@check
def check_add_bias(hidden=False):
    """Exercise 5.1: `bias.add_bias(y, bias, data_format)` against Keras's Conv2D."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    keras = oracle.keras()
    rng = case_rng(hidden, seed=501)
    name = "bias.add_bias"
    outcomes = []
    with student_session() as session:
        for data_format, (n, h, w, f) in _bias_cases(rng, hidden):
            shape = (n, h, w, f) if data_format == "channels_last" else (n, f, h, w)
            y = rng.standard_normal(shape).astype(DTYPE)
            bias = (rng.standard_normal(f) * 3).astype(DTYPE)
            case = "add_bias({})".format(checking.describe_case(
                y=y, bias=bias, data_format=data_format))
            actual = student_call(session, name, y, bias, data_format, case=case)
            expected = keras_add_bias(y, bias, data_format)
            wrong = {}
            if f > 1:        # with one filter, one constant is right
                wrong[BIAS_ONE_CONSTANT] = keras.ops.convert_to_numpy(keras.ops.add(y, bias[0]))
            if data_format == "channels_first" and w == f:
                wrong[BIAS_LAST_AXIS] = keras.ops.convert_to_numpy(keras.ops.add(y, bias))
            outcomes.append(Outcome(case, actual, expected, wrong))
    compare_outcomes(name, outcomes)


# --------------------------------------------------------------------------- activations

def _activation_inputs(rng, hidden, extremes):
    """Arrays of assorted shapes; `extremes` adds values far beyond exp's float32 range."""
    if not hidden:
        arrays = [np.linspace(-6, 6, 25, dtype=DTYPE),
                  (rng.standard_normal((2, 3, 4, 2)) * 3).astype(DTYPE),
                  np.zeros((3, 2), DTYPE)]
    else:
        arrays = [(rng.standard_normal(tuple(int(v) for v in rng.integers(1, 9, size=4)))
                   * rng.uniform(1, 6)).astype(DTYPE) for _ in range(8)]
    if extremes:
        arrays.append(np.array([[-1000, -100, -89, -20, 0], [20, 89, 100, 1000, 3e38]], DTYPE))
    return arrays


def _check_elementwise(name, rng, hidden, wrong_of, extremes=False, kwargs_of=None):
    """Run `activations.<name>` on every input; `wrong_of(x, kwargs)` gives the answers the
    misconceptions produce."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    target = f"activations.{name}"
    outcomes = []
    with student_session() as session:
        for x in _activation_inputs(rng, hidden, extremes):
            for kwargs in (kwargs_of or [{}]):
                case = "{}({})".format(name, checking.describe_case(x=x, **kwargs))
                actual = student_call(session, target, x, case=case, **kwargs)
                expected = keras_activation(name, x, **kwargs)
                outcomes.append(Outcome(case, actual, expected, wrong_of(x, kwargs)))
    compare_outcomes(target, outcomes)


@check
def check_relu(hidden=False):
    """Exercise 5.2: `activations.relu(x)` against keras.activations.relu."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    keras = oracle.keras()
    _check_elementwise("relu", case_rng(hidden, seed=502), hidden, lambda x, kw: {
        RELU_MIN: keras.ops.convert_to_numpy(keras.ops.minimum(x, 0.0))})


@check
def check_sigmoid(hidden=False):
    """Exercise 5.3: `activations.sigmoid(x)` against keras.activations.sigmoid, with
    values far beyond the range where exp overflows."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    keras = oracle.keras()

    def wrong(x, kw):
        e = keras.ops.exp(x)
        return {SIGMOID_NAN: keras.ops.convert_to_numpy(e / (1.0 + e)),
                SIGMOID_SIGN: keras_activation("sigmoid", -x)}

    _check_elementwise("sigmoid", case_rng(hidden, seed=503), hidden, wrong, extremes=True)


def _softmax_cases(rng, hidden):
    """(x, kwargs). Large logits make exp overflow unless the maximum is subtracted."""
    if not hidden:
        cases = [(np.array([1.0, 2.0, 3.0], DTYPE), {}),
                 ((rng.standard_normal((2, 3, 4, 5)) * 2).astype(DTYPE), {}),
                 ((rng.standard_normal((2, 3, 4)) * 2).astype(DTYPE), {"axis": 1}),
                 (np.array([[1000.0, 999.0, 990.0], [-5.0, 90.0, 100.0]], DTYPE), {})]
        return cases
    cases = []
    for i in range(8):
        # every axis has 2 entries or more (Keras warns about a softmax over one entry)
        shape = tuple(int(v) for v in rng.integers(2, 8, size=int(rng.integers(2, 5))))
        x = (rng.standard_normal(shape) * rng.uniform(1, 5)).astype(DTYPE)
        if i % 3 == 2:
            x = x * 50 + 500                        # exp(x) overflows float32
        kwargs = {} if i % 2 == 0 else {"axis": int(rng.integers(0, len(shape)))}
        cases.append((x, kwargs))
    return cases


@check
def check_softmax(hidden=False):
    """Exercise 5.4: `activations.softmax(x, axis=-1)` against keras.activations.softmax."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    keras = oracle.keras()
    rng = case_rng(hidden, seed=504)
    target = "activations.softmax"
    outcomes = []
    with student_session() as session:
        for x, kwargs in _softmax_cases(rng, hidden):
            case = "softmax({})".format(checking.describe_case(x=x, **kwargs))
            actual = student_call(session, target, x, case=case, **kwargs)
            expected = keras_activation("softmax", x, **kwargs)
            axis = kwargs.get("axis", -1)
            e = keras.ops.exp(x)
            wrong = {
                SOFTMAX_OVERFLOW: keras.ops.convert_to_numpy(
                    e / keras.ops.sum(e, axis=axis, keepdims=True)),
                SOFTMAX_WHOLE: keras.ops.convert_to_numpy(
                    keras.ops.reshape(keras.activations.softmax(keras.ops.reshape(x, (-1,))),
                                      x.shape)),
            }
            if axis % x.ndim != x.ndim - 1:
                wrong[SOFTMAX_AXIS_IGNORED] = keras_activation("softmax", x)
            outcomes.append(Outcome(case, actual, expected, wrong))
    compare_outcomes(target, outcomes)


@check
def check_gelu(hidden=False):
    """Exercise 5.5: `activations.gelu(x, approximate=False)` against keras.activations.gelu,
    with the default (exact, erf) and approximate=True (tanh)."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    keras = oracle.keras()

    def wrong(x, kw):
        approximate = kw.get("approximate", False)
        answers = {GELU_SIGMOID: keras.ops.convert_to_numpy(
            x * keras.activations.sigmoid(1.702 * x))}
        if approximate:
            answers[GELU_EXACT_ALWAYS] = keras_activation("gelu", x)
        else:
            answers[GELU_TANH] = keras_activation("gelu", x, approximate=True)
        return answers

    _check_elementwise("gelu", case_rng(hidden, seed=505), hidden, wrong,
                       kwargs_of=[{}, {"approximate": True}])


# ---------------------------------------------------------------- add_bias_and_activate

def _layer_cases(rng, hidden):
    """(data_format, (batch, height, width, filters), activation, use_bias). Height, width
    and filters differ in the channels_first softmax cases (so the axis shows)."""
    if not hidden:
        return [
            ("channels_last", (2, 3, 4, 3), "relu", True),
            ("channels_first", (1, 3, 4, 3), "softmax", True),
            ("channels_last", (1, 2, 5, 4), "softmax", True),
            ("channels_first", (2, 2, 3, 4), "sigmoid", True),
            ("channels_last", (1, 3, 3, 2), "gelu", False),
            ("channels_first", (1, 4, 2, 3), None, True),
        ]
    cases = []
    names = ["relu", "softmax", "sigmoid", "gelu", None, "softmax", "relu", "tanh",
             "softmax", "linear"]
    for i, activation in enumerate(names):
        data_format = ("channels_last", "channels_first")[i % 2]
        filters = int(rng.integers(2, 7))
        h, w = (int(v) for v in rng.integers(2, 12, size=2))
        if w == filters:
            w += 1
        cases.append((data_format, (int(rng.integers(1, 4)), h, w, filters), activation,
                      i != 4))
    return cases


@check
def check_add_bias_and_activate(hidden=False):
    """Exercise 5.6: `bias.add_bias_and_activate(z, bias, activation, data_format)` against
    a Keras Conv2D with a 1x1 identity kernel, the bias and the activation."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    keras = oracle.keras()
    rng = case_rng(hidden, seed=506)
    name = "bias.add_bias_and_activate"
    outcomes = []
    with student_session() as session:
        for data_format, (n, h, w, f), activation, use_bias in _layer_cases(rng, hidden):
            shape = (n, h, w, f) if data_format == "channels_last" else (n, f, h, w)
            z = (rng.standard_normal(shape) * 2).astype(DTYPE)
            bias = (rng.standard_normal(f) * 2).astype(DTYPE) if use_bias else None
            case = "add_bias_and_activate({})".format(checking.describe_case(
                z=z, bias=bias, activation=activation, data_format=data_format))
            actual = student_call(session, name, z, bias, activation, data_format, case=case)
            expected = keras_bias_and_activation(z, bias, activation, data_format)
            act = keras.activations.get(activation)
            wrong = {}
            if bias is not None:
                shaped = bias.reshape(1, -1, 1, 1) if data_format == "channels_first" else bias
                wrong[ACTIVATION_FIRST] = keras.ops.convert_to_numpy(act(z) + shaped)
                wrong[BIAS_IGNORED] = keras.ops.convert_to_numpy(act(z))
                if activation == "softmax" and data_format == "channels_first":
                    wrong[SOFTMAX_CHANNELS] = keras.ops.convert_to_numpy(
                        keras.activations.softmax(z + shaped, axis=1))
            outcomes.append(Outcome(case, actual, expected, wrong))
    compare_outcomes(name, outcomes)


# ------------------------------------------------------------------ compose_linear_convs

def _compose_cases(rng, hidden):
    """(kh1, kw1, in_channels, mid, kh2, kw2, filters)."""
    if not hidden:
        return [(2, 2, 1, 1, 2, 2, 1), (3, 2, 2, 3, 2, 3, 3), (1, 1, 3, 2, 3, 3, 2),
                (3, 3, 2, 4, 1, 2, 1)]
    return [tuple(int(v) for v in (*rng.integers(1, 5, size=2), rng.integers(1, 4),
                                   rng.integers(1, 6), *rng.integers(1, 5, size=2),
                                   rng.integers(1, 5)))
            for _ in range(8)]


def _as_kernel_and_bias(value, function, case):
    """The student's answer as (4-D kernel, 1-D bias), or feedback."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    if value is None:
        checking.returned_none(function, case, "a tuple (kernel, bias)")
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        checking.fail(function, case, "wrong_type",
                      f"`{function}` should return a tuple (kernel, bias); it returned "
                      f"{type(value).__name__}"
                      + (f" of length {len(value)}." if isinstance(value, (tuple, list))
                         else "."))
    return as_array(value[0], 4, function, case), as_array(value[1], 1, function, case)


@check
def check_compose_linear_convs(hidden=False):
    """Exercise 5.7: `bias.compose_linear_convs(kernel1, bias1, kernel2, bias2)` against the
    kernel and bias read off Keras's two stacked linear Conv2D layers."""
    __tracebackhide__ = True  # IPython: show the feedback, not the checker's frames
    rng = case_rng(hidden, seed=507)
    name = "bias.compose_linear_convs"
    outcomes = []
    with student_session() as session:
        for kh1, kw1, c, mid, kh2, kw2, f in _compose_cases(rng, hidden):
            k1 = rng.standard_normal((kh1, kw1, c, mid)).astype(DTYPE)
            b1 = rng.standard_normal(mid).astype(DTYPE)
            k2 = rng.standard_normal((kh2, kw2, mid, f)).astype(DTYPE)
            b2 = rng.standard_normal(f).astype(DTYPE)
            described = checking.describe_case(kernel1=k1, bias1=b1, kernel2=k2, bias2=b2)
            case = f"compose_linear_convs({described})"
            kernel, bias = _as_kernel_and_bias(
                student_call(session, name, k1, b1, k2, b2, case=case), name, case)
            expected_kernel, expected_bias = keras_merged_kernel(k1, b1, k2, b2)
            wrong_kernel = {}
            if kh2 > 1 or kw2 > 1:
                wrong_kernel[MERGED_FLIPPED] = keras_merged_kernel(
                    k1, b1, k2[::-1, ::-1], b2)[0]
            wrong_bias = {MERGED_BIAS_B2: b2}
            if mid == f:
                wrong_bias[MERGED_BIAS_ADDED] = b1 + b2
            outcomes.append(Outcome(f"{case}, the merged kernel", kernel, expected_kernel,
                                    wrong_kernel))
            outcomes.append(Outcome(f"{case}, the merged bias", bias, expected_bias,
                                    wrong_bias))
    compare_outcomes(name, outcomes)
