"""The wrong ideas that convbook/checks/layer.py recognises, written as code
(see convbook.mistakes for how a body replaces its target)."""
import textwrap

from ..checks import layer as checks
from . import Mistake

# Conv2D.__call__'s wrong versions differ from the reference in one line or block of the
# exercise region; the same start (build on first call) and end (the cache) around it.
CONV = ("z, conv_cache = conv2d(x, self.kernel, {strides}, {padding}, {dilation},\n"
        "                       self.groups, self.data_format, return_cache=True)")
START = "x = self._as_input(x)\nif not self.built:\n    self.build(x.shape)"
END = "self._cache = (conv_cache, z, y, x.shape[0])\nreturn y"
RIGHT_BIAS = "if self.use_bias:\n    z = add_bias(z, self.bias, self.data_format)"
RIGHT_ACT = "y = np.asarray(self.activation(z), dtype=FLOATX)"
RIGHT_PENALTY = ("if self.activity_regularizer is not None:\n"
                 "    self._activity_loss = activity_penalty(self.activity_regularizer, y)")


def conv_line(strides="self.strides", padding="self.padding", dilation="self.dilation_rate"):
    return CONV.format(strides=strides, padding=padding, dilation=dilation)


def forward(conv=None, bias=RIGHT_BIAS, act=RIGHT_ACT, penalty=RIGHT_PENALTY):
    """A whole Conv2D.__call__ body: the reference's, but for the parts given."""
    parts = [START, conv or conv_line(), bias, act, penalty, END]
    return "\n".join(textwrap.dedent(part).strip("\n") for part in parts if part.strip())


def layer_mistake(name, body, misconception):
    return Mistake(name, "layer.py", "Conv2D.__call__", body, checks.check_conv2d_layer,
                   misconception, params="self, x")


MISTAKES = [
    Mistake("leaky-torch-slope", "activations.py", "leaky_relu", """
        x = _as_float(args[0])
        return np.where(x > 0, x, 0.01 * x)
        """, checks.check_more_activations, checks.LEAKY_TORCH_SLOPE),
    Mistake("leaky-slope-ignored", "activations.py", "leaky_relu", """
        x = _as_float(args[0])
        return np.where(x > 0, x, 0.2 * x)
        """, checks.check_more_activations, checks.LEAKY_SLOPE_IGNORED),
    Mistake("tanh-overflow", "activations.py", "tanh", """
        x = _as_float(args[0])
        with np.errstate(over="ignore", invalid="ignore"):
            return (np.exp(x) - np.exp(-x)) / (np.exp(x) + np.exp(-x))
        """, checks.check_more_activations, checks.TANH_OVERFLOW),
    Mistake("elu-exp-everywhere", "activations.py", "elu", """
        x = _as_float(args[0])
        alpha = args[1] if len(args) > 1 else kwargs.get("alpha", 1.0)
        with np.errstate(over="ignore"):
            return alpha * np.expm1(x)
        """, checks.check_more_activations, checks.ELU_EXP_EVERYWHERE),
    Mistake("elu-alpha-positive", "activations.py", "elu", """
        x = _as_float(args[0])
        alpha = args[1] if len(args) > 1 else kwargs.get("alpha", 1.0)
        return alpha * _right_elu(x)
        """, checks.check_more_activations, checks.ELU_ALPHA_POSITIVE),
    Mistake("selu-swapped", "activations.py", "selu", """
        return SELU_ALPHA * elu(args[0], SELU_SCALE)
        """, checks.check_more_activations, checks.SELU_SWAPPED),
    Mistake("selu-scale-negative-only", "activations.py", "selu", """
        x = _as_float(args[0])
        return np.where(x > 0, x, SELU_SCALE * elu(x, SELU_ALPHA))
        """, checks.check_more_activations, checks.SELU_SCALE_NEGATIVE_ONLY),
    Mistake("selu-rounded", "activations.py", "selu", """
        return 1.05 * elu(args[0], 1.67)
        """, checks.check_more_activations, checks.SELU_ROUNDED),
    Mistake("silu-sigmoid-only", "activations.py", "silu", """
        return sigmoid(args[0])
        """, checks.check_more_activations, checks.SILU_SIGMOID_ONLY),
    Mistake("softplus-overflow", "activations.py", "softplus", """
        x = _as_float(args[0])
        with np.errstate(over="ignore"):
            return np.log(1 + np.exp(x))
        """, checks.check_more_activations, checks.SOFTPLUS_OVERFLOW),
    layer_mistake("activation-before-bias", forward(bias="", act="""
        y = np.asarray(self.activation(z), dtype=FLOATX)
        if self.use_bias:
            y = add_bias(y, self.bias, self.data_format)
        """), checks.ACTIVATION_BEFORE_BIAS),
    layer_mistake("bias-skipped", forward(bias=""), checks.BIAS_SKIPPED),
    layer_mistake("activation-skipped", forward(act="y = np.asarray(z, dtype=FLOATX)"),
                  checks.ACTIVATION_SKIPPED),
    layer_mistake("bias-wrong-axis", forward(bias="if self.use_bias:\n    z = z + self.bias"),
                  checks.BIAS_WRONG_AXIS),
    layer_mistake("strides-dropped", forward(conv=conv_line(strides="1")),
                  checks.STRIDES_DROPPED),
    layer_mistake("dilation-dropped", forward(conv=conv_line(dilation="1")),
                  checks.DILATION_DROPPED),
    layer_mistake("padding-dropped", forward(conv=conv_line(padding='"valid"')),
                  checks.PADDING_DROPPED),
    layer_mistake("penalty-on-z", forward(act="", penalty="""
        if self.activity_regularizer is not None:
            self._activity_loss = activity_penalty(self.activity_regularizer, z)
        y = np.asarray(self.activation(z), dtype=FLOATX)
        """), checks.PENALTY_ON_Z),
    layer_mistake("penalty-not-divided", forward(penalty="""
        if self.activity_regularizer is not None:
            self._activity_loss = float(self.activity_regularizer(y))
        """), checks.PENALTY_NOT_DIVIDED),
    layer_mistake("penalty-missing", forward(penalty=""), checks.PENALTY_MISSING),
    layer_mistake("not-float32",
                  forward(act="y = np.asarray(self.activation(z), dtype=np.float64)"),
                  checks.NOT_FLOAT32),
    # Chapter 03's output_length giving "valid" lengths for "same" (dilation's
    # length-same-span): the layer check blames the layer's padding for it (it cannot tell
    # the two apart from the output alone). Drop this entry if the check learns to name
    # output_length instead.
    Mistake("padding-dropped-by-output-length", "output_size.py", "output_length", """
        n, k, s, padding, d = args
        return _right_output_length(n, k, s, "valid", d)
        """, checks.check_conv2d_layer, checks.PADDING_DROPPED),
]
