"""The wrong ideas that convbook/checks/layer.py recognises, written as code
(see convbook.mistakes for how a body replaces its target)."""
from ..checks import layer as checks
from . import Mistake

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
    Mistake("activation-before-bias", "layer.py", "Conv2D.__call__", """
        x = self._as_input(x)
        if not self.built:
            self.build(x.shape)
        z, conv_cache = conv2d(x, self.kernel, self.strides, self.padding, self.dilation_rate,
                               self.groups, self.data_format, return_cache=True)
        y = np.asarray(self.activation(z), dtype=FLOATX)
        if self.use_bias:
            y = add_bias(y, self.bias, self.data_format)
        if self.activity_regularizer is not None:
            self._activity_loss = activity_penalty(self.activity_regularizer, y)
        self._cache = (conv_cache, z, y, x.shape[0])
        return y
        """, checks.check_conv2d_layer, checks.ACTIVATION_BEFORE_BIAS, params='self, x'),
    Mistake("bias-skipped", "layer.py", "Conv2D.__call__", """
        x = self._as_input(x)
        if not self.built:
            self.build(x.shape)
        z, conv_cache = conv2d(x, self.kernel, self.strides, self.padding, self.dilation_rate,
                               self.groups, self.data_format, return_cache=True)
        y = np.asarray(self.activation(z), dtype=FLOATX)
        if self.activity_regularizer is not None:
            self._activity_loss = activity_penalty(self.activity_regularizer, y)
        self._cache = (conv_cache, z, y, x.shape[0])
        return y
        """, checks.check_conv2d_layer, checks.BIAS_SKIPPED, params='self, x'),
    Mistake("activation-skipped", "layer.py", "Conv2D.__call__", """
        x = self._as_input(x)
        if not self.built:
            self.build(x.shape)
        z, conv_cache = conv2d(x, self.kernel, self.strides, self.padding, self.dilation_rate,
                               self.groups, self.data_format, return_cache=True)
        if self.use_bias:
            z = add_bias(z, self.bias, self.data_format)
        y = np.asarray(z, dtype=FLOATX)
        if self.activity_regularizer is not None:
            self._activity_loss = activity_penalty(self.activity_regularizer, y)
        self._cache = (conv_cache, z, y, x.shape[0])
        return y
        """, checks.check_conv2d_layer, checks.ACTIVATION_SKIPPED, params='self, x'),
    Mistake("bias-wrong-axis", "layer.py", "Conv2D.__call__", """
        x = self._as_input(x)
        if not self.built:
            self.build(x.shape)
        z, conv_cache = conv2d(x, self.kernel, self.strides, self.padding, self.dilation_rate,
                               self.groups, self.data_format, return_cache=True)
        if self.use_bias:
            z = z + self.bias
        y = np.asarray(self.activation(z), dtype=FLOATX)
        if self.activity_regularizer is not None:
            self._activity_loss = activity_penalty(self.activity_regularizer, y)
        self._cache = (conv_cache, z, y, x.shape[0])
        return y
        """, checks.check_conv2d_layer, checks.BIAS_WRONG_AXIS, params='self, x'),
    Mistake("strides-dropped", "layer.py", "Conv2D.__call__", """
        x = self._as_input(x)
        if not self.built:
            self.build(x.shape)
        z, conv_cache = conv2d(x, self.kernel, 1, self.padding, self.dilation_rate,
                               self.groups, self.data_format, return_cache=True)
        if self.use_bias:
            z = add_bias(z, self.bias, self.data_format)
        y = np.asarray(self.activation(z), dtype=FLOATX)
        if self.activity_regularizer is not None:
            self._activity_loss = activity_penalty(self.activity_regularizer, y)
        self._cache = (conv_cache, z, y, x.shape[0])
        return y
        """, checks.check_conv2d_layer, checks.STRIDES_DROPPED, params='self, x'),
    Mistake("dilation-dropped", "layer.py", "Conv2D.__call__", """
        x = self._as_input(x)
        if not self.built:
            self.build(x.shape)
        z, conv_cache = conv2d(x, self.kernel, self.strides, self.padding, 1,
                               self.groups, self.data_format, return_cache=True)
        if self.use_bias:
            z = add_bias(z, self.bias, self.data_format)
        y = np.asarray(self.activation(z), dtype=FLOATX)
        if self.activity_regularizer is not None:
            self._activity_loss = activity_penalty(self.activity_regularizer, y)
        self._cache = (conv_cache, z, y, x.shape[0])
        return y
        """, checks.check_conv2d_layer, checks.DILATION_DROPPED, params='self, x'),
    Mistake("padding-dropped", "layer.py", "Conv2D.__call__", """
        x = self._as_input(x)
        if not self.built:
            self.build(x.shape)
        z, conv_cache = conv2d(x, self.kernel, self.strides, "valid", self.dilation_rate,
                               self.groups, self.data_format, return_cache=True)
        if self.use_bias:
            z = add_bias(z, self.bias, self.data_format)
        y = np.asarray(self.activation(z), dtype=FLOATX)
        if self.activity_regularizer is not None:
            self._activity_loss = activity_penalty(self.activity_regularizer, y)
        self._cache = (conv_cache, z, y, x.shape[0])
        return y
        """, checks.check_conv2d_layer, checks.PADDING_DROPPED, params='self, x'),
    Mistake("penalty-on-z", "layer.py", "Conv2D.__call__", """
        x = self._as_input(x)
        if not self.built:
            self.build(x.shape)
        z, conv_cache = conv2d(x, self.kernel, self.strides, self.padding, self.dilation_rate,
                               self.groups, self.data_format, return_cache=True)
        if self.use_bias:
            z = add_bias(z, self.bias, self.data_format)
        if self.activity_regularizer is not None:
            self._activity_loss = activity_penalty(self.activity_regularizer, z)
        y = np.asarray(self.activation(z), dtype=FLOATX)
        self._cache = (conv_cache, z, y, x.shape[0])
        return y
        """, checks.check_conv2d_layer, checks.PENALTY_ON_Z, params='self, x'),
    Mistake("penalty-not-divided", "layer.py", "Conv2D.__call__", """
        x = self._as_input(x)
        if not self.built:
            self.build(x.shape)
        z, conv_cache = conv2d(x, self.kernel, self.strides, self.padding, self.dilation_rate,
                               self.groups, self.data_format, return_cache=True)
        if self.use_bias:
            z = add_bias(z, self.bias, self.data_format)
        y = np.asarray(self.activation(z), dtype=FLOATX)
        if self.activity_regularizer is not None:
            self._activity_loss = float(self.activity_regularizer(y))
        self._cache = (conv_cache, z, y, x.shape[0])
        return y
        """, checks.check_conv2d_layer, checks.PENALTY_NOT_DIVIDED, params='self, x'),
    Mistake("penalty-missing", "layer.py", "Conv2D.__call__", """
        x = self._as_input(x)
        if not self.built:
            self.build(x.shape)
        z, conv_cache = conv2d(x, self.kernel, self.strides, self.padding, self.dilation_rate,
                               self.groups, self.data_format, return_cache=True)
        if self.use_bias:
            z = add_bias(z, self.bias, self.data_format)
        y = np.asarray(self.activation(z), dtype=FLOATX)
        self._cache = (conv_cache, z, y, x.shape[0])
        return y
        """, checks.check_conv2d_layer, checks.PENALTY_MISSING, params='self, x'),
    Mistake("not-float32", "layer.py", "Conv2D.__call__", """
        x = self._as_input(x)
        if not self.built:
            self.build(x.shape)
        z, conv_cache = conv2d(x, self.kernel, self.strides, self.padding, self.dilation_rate,
                               self.groups, self.data_format, return_cache=True)
        if self.use_bias:
            z = add_bias(z, self.bias, self.data_format)
        y = np.asarray(self.activation(z), dtype=np.float64)
        if self.activity_regularizer is not None:
            self._activity_loss = activity_penalty(self.activity_regularizer, y)
        self._cache = (conv_cache, z, y, x.shape[0])
        return y
        """, checks.check_conv2d_layer, checks.NOT_FLOAT32, params='self, x'),
    # Chapter 03's output_length giving "valid" lengths for "same" (dilation's
    # length-same-span): the layer check blames the layer's padding for it (it cannot tell
    # the two apart from the output alone). Drop this entry if the check learns to name
    # output_length instead.
    Mistake("padding-dropped-by-output-length", "output_size.py", "output_length", """
        n, k, s, padding, d = args
        return _right_output_length(n, k, s, "valid", d)
        """, checks.check_conv2d_layer, checks.PADDING_DROPPED),
]
