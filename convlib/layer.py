"""The finished layer: convlib.Conv2D, Keras's arguments, defaults and errors.

Forward:   y = activation(conv(x, kernel) + bias)
Losses:    [activity_regularizer(y) / batch_size]  (only after a call)
           + [kernel_regularizer(kernel)] + [bias_regularizer(bias)]
Backward:  gradients of  sum(grad_output * y) + sum(layer.losses)  with respect to the
           input, the kernel and the bias (penalties included), as Keras's optimizer sees
           them when the layer's losses are added to the training loss.
"""
import numpy as np

from . import activations, constraints, initializers, regularizers
from .activity import activity_penalty, activity_penalty_gradient
from .arguments import (standardize_data_format, standardize_pair, standardize_padding,
                        standardize_positive_int)
from .bias import add_bias, bias_gradient
from .conv import conv2d, conv2d_backward
from .output_size import conv_output_spatial_shape

FLOATX = np.float32


class KernelAndBias:
    """What a layer with a kernel and an optional bias shares (Conv2D, network.Dense): the
    initial values (a None initializer draws glorot_uniform, as Keras's add_weight does), and
    `weights`, `get_weights`, `set_weights` ([kernel, bias], as Keras orders them) and
    `count_params`. The layer sets `kernel`, `bias`, `use_bias`, `built` and `name`."""

    @staticmethod
    def _initial_value(initializer, shape, what):
        if initializer is None:  # Keras's add_weight: no initializer means glorot_uniform
            initializer = initializers.get("glorot_uniform")
        value = np.asarray(initializer(shape, dtype="float32"), dtype=FLOATX)
        if value.shape != shape:
            raise ValueError(f"The {what} initializer returned shape {value.shape}, "
                             f"expected {shape}.")
        return value

    @property
    def weights(self):
        if not self.built:
            return []
        return [self.kernel, self.bias] if self.use_bias else [self.kernel]

    def get_weights(self):
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        if not self.built:
            raise ValueError("The layer is not built yet: call it on an input (or build(input_"
                             "shape)) before set_weights.")
        current = self.weights
        weights = list(weights)
        if len(weights) != len(current):
            raise ValueError(f"set_weights expects {len(current)} arrays "
                             f"({'[kernel, bias]' if self.use_bias else '[kernel]'}), "
                             f"received {len(weights)}.")
        new = []
        for name, old, value in zip(("kernel", "bias"), current, weights):
            value = np.array(value, dtype=FLOATX)
            if value.shape != old.shape:
                raise ValueError(f"The {name} must have shape {old.shape}; received an "
                                 f"array of shape {value.shape}.")
            new.append(value)
        self.kernel = new[0]
        if self.use_bias:
            self.bias = new[1]

    def count_params(self):
        if not self.built:
            raise ValueError(f"Layer '{self.name}' is not built yet, so it has no weights "
                             "to count: call it on an input or build(input_shape) first.")
        return int(sum(w.size for w in self.weights))


class Conv2D(KernelAndBias):
    """2-D convolution layer, argument for argument like keras.layers.Conv2D.

    Extra keyword (convlib only): allow_strides_with_dilation=False. Keras refuses strides > 1
    with dilation_rate > 1; pass True to compute it (= stride-1 dilated conv, subsampled).
    """

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid",
                 data_format=None, dilation_rate=(1, 1), groups=1, activation=None,
                 use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, *,
                 allow_strides_with_dilation=False, name=None):
        self.filters = standardize_positive_int(filters, "filters")
        self.kernel_size = standardize_pair(kernel_size, "kernel_size")
        self.strides = standardize_pair(strides, "strides")
        self.padding = standardize_padding(padding)
        self.data_format = standardize_data_format(data_format)
        self.dilation_rate = standardize_pair(dilation_rate, "dilation_rate")
        self.groups = standardize_positive_int(groups, "groups")
        if self.filters % self.groups:
            raise ValueError(
                "The number of filters must be divisible by the number of groups. "
                f"Received: filters={self.filters}, groups={self.groups}."
            )
        self.allow_strides_with_dilation = bool(allow_strides_with_dilation)
        if (max(self.strides) > 1 and max(self.dilation_rate) > 1
                and not self.allow_strides_with_dilation):
            raise ValueError(
                "strides > 1 together with dilation_rate > 1 is not supported (Keras refuses "
                f"it on any axes). Received: strides={self.strides}, "
                f"dilation_rate={self.dilation_rate}. Use one of them, or pass "
                "allow_strides_with_dilation=True to compute it anyway."
            )
        if not isinstance(use_bias, (bool, np.bool_)):
            raise ValueError(f"`use_bias` must be True or False. Received: use_bias={use_bias!r}")
        self.use_bias = bool(use_bias)
        self.activation = activations.get(activation)
        # Keras keeps a None initializer as None (so get_config says None) and draws
        # glorot_uniform for it when the weight is made, bias included: see build.
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.name = name or "conv2d"
        self.built = False
        self.kernel = None
        self.bias = None
        self.input_channels = None
        self._activity_loss = None
        self._cache = None

    # ------------------------------------------------------------------ building
    def _channel_axis(self):
        return -1 if self.data_format == "channels_last" else 1

    def _spatial_shape(self, input_shape):
        if self.data_format == "channels_last":
            return tuple(input_shape[1:3])
        return tuple(input_shape[2:4])

    def _check_rank(self, input_shape):
        if len(input_shape) != 4:
            layout = ("(batch, height, width, channels)" if self.data_format == "channels_last"
                      else "(batch, channels, height, width)")
            raise ValueError(
                f"Conv2D expects 4-D inputs {layout} ({self.data_format}). "
                f"Received an input of shape {tuple(input_shape)}."
            )

    def compute_output_shape(self, input_shape):
        self._check_rank(input_shape)
        out_h, out_w = conv_output_spatial_shape(
            self._spatial_shape(input_shape), self.kernel_size, self.strides, self.padding,
            self.dilation_rate)
        if self.data_format == "channels_last":
            return (input_shape[0], out_h, out_w, self.filters)
        return (input_shape[0], self.filters, out_h, out_w)

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        self._check_rank(input_shape)
        channels = input_shape[self._channel_axis()]
        if channels is None or channels <= 0:
            raise ValueError(f"The channel axis of the input must be known and positive. "
                             f"Received input shape {input_shape}.")
        if channels % self.groups:
            raise ValueError(
                "The number of input channels must be divisible by the number of groups. "
                f"Received: groups={self.groups}, input channels={channels} "
                f"(input shape {input_shape})."
            )
        self.compute_output_shape(input_shape)  # raises when the output would be empty
        kernel_shape = self.kernel_size + (channels // self.groups, self.filters)
        self.kernel = self._initial_value(self.kernel_initializer, kernel_shape, "kernel")
        if self.use_bias:
            self.bias = self._initial_value(self.bias_initializer, (self.filters,), "bias")
        self.input_channels = channels
        self.built = True

    # ------------------------------------------------------------------ forward
    def _as_input(self, x):
        try:
            x = np.asarray(x, dtype=FLOATX)
        except (TypeError, ValueError) as error:
            raise ValueError(f"Conv2D inputs must be numeric arrays; could not convert the "
                             f"input to float32 ({error}).") from None
        self._check_rank(x.shape)
        return x

    def __call__(self, x):
        """The forward pass: y = activation(conv(x, kernel) + bias), as keras.layers.Conv2D.

        x: (batch, height, width, channels) for channels_last, (batch, channels, height,
        width) for channels_first. The first call builds the layer (kernel and bias) for x's
        channels; the lines before the exercise do that and make x float32.
        Returns y, float32: (batch, out_h, out_w, filters), or (batch, filters, out_h, out_w).

        Assemble it from your pieces, imported at the top of this module:
          conv2d(x, kernel, strides, padding, dilation_rate, groups, data_format,
                 return_cache=True) -> (z, conv_cache)      the convolution (ch. 01-03, 13)
          add_bias(z, bias, data_format)                    only when self.use_bias (ch. 05)
          self.activation(z)                                the activation function (ch. 05)
          activity_penalty(regularizer, outputs)            when self.activity_regularizer is
                                                            set, store it in self._activity_loss
                                                            (chapter 10); `losses` reads it.
        Leave the convolution's cache in `conv_cache`, the pre-activation in `z` and the
        output in `y`: the backward pass reads them from self._cache.
        Hint: the layer's own attributes (self.strides, self.padding, ...) hold every
        argument; which value does the activity regularizer see, z or y?
        """
        x = self._as_input(x)
        if not self.built:
            self.build(x.shape)
        elif x.shape[self._channel_axis()] != self.input_channels:
            raise ValueError(
                f"This layer was built for inputs with {self.input_channels} channels "
                f"({self.data_format}), but received an input of shape {x.shape}."
            )
        # YOUR CODE HERE
        raise NotImplementedError()
        batch = x.shape[0]
        self._cache = (conv_cache, z, y, batch)
        return y

    # ------------------------------------------------------------------ losses
    @property
    def losses(self):
        """Activity penalty of the last call (if any), then kernel and bias penalties."""
        losses = []
        if self._activity_loss is not None:
            losses.append(self._activity_loss)
        if self.built and self.kernel_regularizer is not None:
            losses.append(float(self.kernel_regularizer(self.kernel)))
        if self.built and self.use_bias and self.bias_regularizer is not None:
            losses.append(float(self.bias_regularizer(self.bias)))
        return losses

    # ------------------------------------------------------------------ backward
    def backward(self, grad_output):
        """Gradients of sum(grad_output * y) + sum(self.losses) after the last call.

        Returns {"input": ..., "kernel": ..., "bias": ... or None}.
        """
        if self._cache is None:
            raise ValueError("Call the layer on an input before asking for its gradients.")
        conv_cache, z, y, batch = self._cache
        grad_output = np.asarray(grad_output, dtype=FLOATX)
        if grad_output.shape != y.shape:
            raise ValueError(f"grad_output must have the output's shape {y.shape}. "
                             f"Received shape {grad_output.shape}.")
        grad_z = self._pre_activation_gradient(grad_output, z, y)
        grad_x, grad_kernel = self._input_and_kernel_gradients(grad_z, conv_cache)
        grad_bias = self._bias_gradient(grad_z) if self.use_bias else None
        return {"input": grad_x, "kernel": grad_kernel, "bias": grad_bias}

    def _pre_activation_gradient(self, grad_output, z, y):
        """d(total)/d(z), z = conv + bias the activation's input, from d(total)/d(y).

        Two things reach y: grad_output, and (with an activity_regularizer) the activity
        penalty, which is regularizer(y) / batch. Add the penalty's gradient (chapter 10's
        `activity_penalty_gradient` divides by the batch), then go back through the activation
        (`activations.backward(self.activation, z, y, grad)`). Returns an array shaped like z.
        """
        # YOUR CODE HERE
        raise NotImplementedError()

    def _input_and_kernel_gradients(self, grad_z, conv_cache):
        """(d(total)/d(x), d(total)/d(kernel)) from d(total)/d(z).

        The convolution's part is `conv2d_backward(grad_z, conv_cache)`; the kernel also
        carries the kernel penalty, so with a kernel_regularizer add its gradient
        (`regularizers.penalty_gradient(self.kernel_regularizer, self.kernel)`).
        """
        # YOUR CODE HERE
        raise NotImplementedError()

    def _bias_gradient(self, grad_z):
        """d(total)/d(bias), shape (filters,), from d(total)/d(z): `bias_gradient` in the
        layer's data format, plus the bias penalty's gradient with a bias_regularizer."""
        # YOUR CODE HERE
        raise NotImplementedError()

    # ------------------------------------------------------------------ config
    def get_config(self):
        return {
            "name": self.name,
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            "groups": self.groups,
            "activation": _config_value(activations, self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": _config_value(initializers, self.kernel_initializer),
            "bias_initializer": _config_value(initializers, self.bias_initializer),
            "kernel_regularizer": _config_value(regularizers, self.kernel_regularizer),
            "bias_regularizer": _config_value(regularizers, self.bias_regularizer),
            "activity_regularizer": _config_value(regularizers, self.activity_regularizer),
            "kernel_constraint": _config_value(constraints, self.kernel_constraint),
            "bias_constraint": _config_value(constraints, self.bias_constraint),
            "allow_strides_with_dilation": self.allow_strides_with_dilation,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return (f"Conv2D(filters={self.filters}, kernel_size={self.kernel_size}, "
                f"strides={self.strides}, padding={self.padding!r}, "
                f"dilation_rate={self.dilation_rate}, groups={self.groups})")


def _config_value(module, obj):
    """A built-in object's config (a name or a dict); a custom callable stays itself, so
    from_config(get_config()) rebuilds the layer in the same process, as Keras does for
    objects it cannot name."""
    if obj is None:
        return None
    try:
        value = module.serialize(obj)
        module.get(value)
    except ValueError:
        return obj
    return value
