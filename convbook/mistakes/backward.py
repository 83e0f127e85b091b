"""The wrong ideas that convbook/checks/backward.py recognises, written as code
(see convbook.mistakes for how a body replaces its target)."""
from ..checks import backward as checks
from . import Mistake

MISTAKES = [
    Mistake("forward-difference", "gradcheck.py", "numerical_gradient", """
        f, x = args[0], np.array(args[1], dtype=np.float64)
        eps = kwargs.get("eps", 1e-3)
        base = float(f(x))
        grad = np.zeros_like(x)
        for i in np.ndindex(x.shape):
            kept = x[i]
            x[i] = kept + eps
            grad[i] = (float(f(x)) - base) / eps
            x[i] = kept
        return grad
        """, checks.check_numerical_gradient, checks.FORWARD_DIFFERENCE),
    Mistake("not-halved", "gradcheck.py", "numerical_gradient", """
        return 2 * _right_numerical_gradient(*args, **kwargs)
        """, checks.check_numerical_gradient, checks.NOT_HALVED),
    Mistake("not-restored", "gradcheck.py", "numerical_gradient", """
        f, x = args[0], np.array(args[1], dtype=np.float64)
        eps = kwargs.get("eps", 1e-3)
        grad = np.zeros_like(x)
        for i in np.ndindex(x.shape):
            kept = x[i]
            x[i] = kept + eps
            above = float(f(x))
            x[i] = kept - eps
            grad[i] = (above - float(f(x))) / (2 * eps)
        return grad
        """, checks.check_numerical_gradient, checks.NOT_RESTORED),
    Mistake("relu-at-zero", "activations.py", "relu_backward", """
        x, y, grad_y = args
        return np.where(x >= 0, grad_y, 0)
        """, checks.check_piecewise_gradients, checks.RELU_AT_ZERO),
    Mistake("leaky-at-zero", "activations.py", "leaky_relu_backward", """
        x, y, grad_y = args
        slope = kwargs.get("negative_slope", 0.2)
        return np.where(x >= 0, grad_y, slope * grad_y)
        """, checks.check_piecewise_gradients, checks.LEAKY_AT_ZERO),
    Mistake("sigmoid-with-x", "activations.py", "sigmoid_backward", """
        x, y, grad_y = args
        return grad_y * x * (1 - x)
        """, checks.check_smooth_gradients, checks.SIGMOID_WITH_X),
    Mistake("tanh-with-x", "activations.py", "tanh_backward", """
        x, y, grad_y = args
        return grad_y * (1 - x * x)
        """, checks.check_smooth_gradients, checks.TANH_WITH_X),
    Mistake("softmax-elementwise", "activations.py", "softmax_backward", """
        x, y, grad_y = args
        return grad_y * y * (1 - y)
        """, checks.check_softmax_gradient, checks.SOFTMAX_ELEMENTWISE),
    Mistake("bias-batch-mean", "bias.py", "bias_gradient", """
        return _right_bias_gradient(*args, **kwargs) / args[0].shape[0]
        """, checks.check_bias_gradient, checks.BIAS_BATCH_MEAN),
    Mistake("bias-first-example", "bias.py", "bias_gradient", """
        return _right_bias_gradient(args[0][:1], *args[1:], **kwargs)
        """, checks.check_bias_gradient, checks.BIAS_ONE_EXAMPLE),
    Mistake("bias-channels-first-axes", "bias.py", "bias_gradient", """
        return np.sum(args[0], axis=(0, 1, 2))
        """, checks.check_bias_gradient, checks.BIAS_AXES_CHANNELS_FIRST),
    Mistake("kernel-not-transposed", "conv.py", "kernel_gradient", """
        cols, dy, kernel_shape = args[:3]
        if len(args) > 3 and args[3] > 1:      # the wrong idea for groups=1 only
            return _right_kernel_gradient(*args, **kwargs)
        rows = cols.shape[0] * cols.shape[1] * cols.shape[2]
        return (dy.reshape(rows, -1).T @ cols.reshape(rows, -1)).reshape(kernel_shape)
        """, checks.check_kernel_gradient, checks.KERNEL_NOT_TRANSPOSED),
    Mistake("kernel-batch-mean", "conv.py", "kernel_gradient", """
        return _right_kernel_gradient(*args, **kwargs) / args[0].shape[0]
        """, checks.check_kernel_gradient, checks.KERNEL_BATCH_MEAN),
    Mistake("input-not-flipped", "conv.py", "input_gradient", """
        dy, kernel, *rest = args
        return _right_input_gradient(dy, kernel[::-1, ::-1], *rest, **kwargs)
        """, checks.check_input_gradient, checks.NOT_FLIPPED),
    Mistake("input-not-spread", "conv.py", "input_gradient", """
        dy, kernel, padded_shape, pads, strides, *rest = args
        return _right_input_gradient(dy, kernel, padded_shape, pads, (1, 1), *rest, **kwargs)
        """, checks.check_input_gradient, checks.NOT_SPREAD),
    Mistake("input-not-cropped", "conv.py", "input_gradient", """
        dy, kernel, padded_shape, pads, *rest = args
        return _right_input_gradient(dy, kernel, padded_shape, ((0, 0), (0, 0)), *rest,
                                     **kwargs)
        """, checks.check_input_gradient, checks.NOT_CROPPED),
    Mistake("col2im-assigned", "conv.py", "col2im", """
        cols, padded_shape, kernel_size, strides, dilation_rate = args
        batch, oh, ow = cols.shape[:3]
        out = np.zeros(padded_shape, dtype=cols.dtype)
        for a in range(kernel_size[0]):
            for b in range(kernel_size[1]):
                rows, columns = _tap_slices(a, b, strides, dilation_rate, (oh, ow))
                out[:, rows, columns, :] = cols[:, :, :, :, a, b, :].reshape(batch, oh, ow, -1)
        return out
        """, checks.check_col2im, checks.COL2IM_ASSIGNED),
    Mistake("kernel-penalty-missing", "layer.py", "Conv2D._input_and_kernel_gradients", """
        return conv2d_backward(grad_z, conv_cache)
        """,
        checks.check_layer_backward_with_penalties, checks.LAYER_KERNEL_PENALTY_MISSING,
        params='self, grad_z, conv_cache'),
    Mistake("bias-penalty-missing", "layer.py", "Conv2D._bias_gradient", """
        return bias_gradient(grad_z, self.data_format)
        """,
        checks.check_layer_backward_with_penalties, checks.LAYER_BIAS_PENALTY_MISSING,
        params='self, grad_z'),
    Mistake("activity-missing", "layer.py", "Conv2D._pre_activation_gradient", """
        return activations.backward(self.activation, z, y, grad_output)
        """,
        checks.check_layer_backward_with_penalties, checks.LAYER_ACTIVITY_MISSING,
        params='self, grad_output, z, y'),
    Mistake("activity-not-divided", "layer.py", "Conv2D._pre_activation_gradient", """
        if self.activity_regularizer is not None:
            grad_output = grad_output + regularizers.penalty_gradient(
                self.activity_regularizer, y)
        return activations.backward(self.activation, z, y, grad_output)
        """,
        checks.check_layer_backward_with_penalties, checks.LAYER_ACTIVITY_NOT_DIVIDED,
        params='self, grad_output, z, y'),
    Mistake("activity-after-activation", "layer.py", "Conv2D._pre_activation_gradient", """
        grad_z = activations.backward(self.activation, z, y, grad_output)
        if self.activity_regularizer is not None:
            grad_z = grad_z + activity_penalty_gradient(self.activity_regularizer, y)
        return grad_z
        """,
        checks.check_layer_backward_with_penalties, checks.LAYER_ACTIVITY_AFTER_ACTIVATION,
        params='self, grad_output, z, y'),
    Mistake("activation-skipped", "layer.py", "Conv2D._pre_activation_gradient", """
        if self.activity_regularizer is not None:
            grad_output = grad_output + activity_penalty_gradient(
                self.activity_regularizer, y)
        return np.asarray(grad_output, dtype=FLOATX)
        """,
        checks.check_layer_backward, checks.LAYER_ACTIVATION_SKIPPED,
        params='self, grad_output, z, y'),
    # Chapter 10's activity_penalty_gradient not divided by the batch (activity's
    # gradient-not-divided): the layer's backward pass then does not divide either, and the
    # check with penalties names that.
    Mistake("activity-helper-not-divided", "activity.py", "activity_penalty_gradient", """
        regularizer, outputs = args
        return penalty_gradient(regularizer, np.asarray(outputs))
        """, checks.check_layer_backward_with_penalties, checks.LAYER_ACTIVITY_NOT_DIVIDED),
    # The same wrong method, named by the check with penalties too.
    Mistake("penalties-activation-skipped", "layer.py", "Conv2D._pre_activation_gradient", """
        if self.activity_regularizer is not None:
            grad_output = grad_output + activity_penalty_gradient(
                self.activity_regularizer, y)
        return np.asarray(grad_output, dtype=FLOATX)
        """,
        checks.check_layer_backward_with_penalties, checks.LAYER_ACTIVATION_SKIPPED,
        params='self, grad_output, z, y'),
]
