"""The wrong ideas that convbook/checks/bias.py recognises, written as code
(see convbook.mistakes for how a body replaces its target)."""
from ..checks import bias as checks
from . import Mistake

MISTAKES = [
    Mistake("add_bias-last-axis", "bias.py", "add_bias", """
        y, bias, *rest = args
        return y + np.asarray(bias, y.dtype)
        """, checks.check_add_bias, checks.BIAS_LAST_AXIS),
    Mistake("add_bias-one-constant", "bias.py", "add_bias", """
        y, bias, *rest = args
        return y + np.asarray(bias, y.dtype)[0]
        """, checks.check_add_bias, checks.BIAS_ONE_CONSTANT),
    Mistake("relu-min", "activations.py", "relu", """
        return np.minimum(_as_float(args[0]), 0)
        """, checks.check_relu, checks.RELU_MIN),
    Mistake("sigmoid-overflow", "activations.py", "sigmoid", """
        x = _as_float(args[0])
        with np.errstate(over="ignore", invalid="ignore"):
            return np.exp(x) / (1 + np.exp(x))
        """, checks.check_sigmoid, checks.SIGMOID_NAN),
    Mistake("sigmoid-sign", "activations.py", "sigmoid", """
        return _right_sigmoid(-_as_float(args[0]))
        """, checks.check_sigmoid, checks.SIGMOID_SIGN),
    Mistake("softmax-overflow", "activations.py", "softmax", """
        x = _as_float(args[0])
        axis = kwargs.get("axis", args[1] if len(args) > 1 else -1)
        with np.errstate(over="ignore", invalid="ignore"):
            e = np.exp(x)
            return e / np.sum(e, axis=axis, keepdims=True)
        """, checks.check_softmax, checks.SOFTMAX_OVERFLOW),
    Mistake("softmax-axis-ignored", "activations.py", "softmax", """
        return _right_softmax(args[0])
        """, checks.check_softmax, checks.SOFTMAX_AXIS_IGNORED),
    Mistake("softmax-whole-array", "activations.py", "softmax", """
        x = _as_float(args[0])
        e = np.exp(x - x.max())
        return e / e.sum()
        """, checks.check_softmax, checks.SOFTMAX_WHOLE),
    Mistake("gelu-tanh-default", "activations.py", "gelu", """
        return _right_gelu(args[0], approximate=True)
        """, checks.check_gelu, checks.GELU_TANH),
    Mistake("gelu-approximate-ignored", "activations.py", "gelu", """
        return _right_gelu(args[0])
        """, checks.check_gelu, checks.GELU_EXACT_ALWAYS),
    Mistake("gelu-sigmoid", "activations.py", "gelu", """
        x = _as_float(args[0])
        return x * sigmoid(1.702 * x)
        """, checks.check_gelu, checks.GELU_SIGMOID),
    Mistake("layer-activation-first", "bias.py", "add_bias_and_activate", """
        from .activations import get
        z, bias, activation, data_format = args
        y = get(activation)(z)
        return y if bias is None else add_bias(y, bias, data_format)
        """, checks.check_add_bias_and_activate, checks.ACTIVATION_FIRST),
    Mistake("layer-softmax-channel-axis", "bias.py", "add_bias_and_activate", """
        from .activations import get, softmax
        z, bias, activation, data_format = args
        y = z if bias is None else add_bias(z, bias, data_format)
        if activation == "softmax" and data_format == "channels_first":
            return softmax(y, axis=1)
        return get(activation)(y)
        """, checks.check_add_bias_and_activate, checks.SOFTMAX_CHANNELS),
    Mistake("layer-bias-ignored", "bias.py", "add_bias_and_activate", """
        from .activations import get
        z, bias, activation, data_format = args
        return get(activation)(z)
        """, checks.check_add_bias_and_activate, checks.BIAS_IGNORED),
    Mistake("compose-flipped", "bias.py", "compose_linear_convs", """
        k1, b1, k2, b2 = args
        return _right_compose_linear_convs(k1, b1, np.asarray(k2)[::-1, ::-1], b2)
        """, checks.check_compose_linear_convs, checks.MERGED_FLIPPED),
    Mistake("compose-bias2-only", "bias.py", "compose_linear_convs", """
        k1, b1, k2, b2 = args
        kernel, _ = _right_compose_linear_convs(k1, b1, k2, b2)
        return kernel, np.asarray(b2)
        """, checks.check_compose_linear_convs, checks.MERGED_BIAS_B2),
    Mistake("compose-biases-added", "bias.py", "compose_linear_convs", """
        k1, b1, k2, b2 = args
        kernel, _ = _right_compose_linear_convs(k1, b1, k2, b2)
        return kernel, np.asarray(b1) + np.asarray(b2)
        """, checks.check_compose_linear_convs, checks.MERGED_BIAS_ADDED),
]
