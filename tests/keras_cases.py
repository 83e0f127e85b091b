"""Random Conv2D configurations for the parity sweeps, and the two layers built from one.

A case is a plain dict (printable, reproducible from its index); `make_pair` builds the
Keras layer and the convlib layer from it and gives both the same random weights.
"""
import numpy as np

ACTIVATIONS = [None, "linear", "relu", "sigmoid", "tanh", "softmax", "elu", "selu", "gelu",
               "silu", "swish", "softplus", "leaky_relu"]
REGULARIZERS = [None, ("L1", {"l1": 0.02}), ("L2", {"l2": 0.03}),
                ("L1L2", {"l1": 0.01, "l2": 0.02}), "l2", "l1"]
CONSTRAINTS = [None, ("MaxNorm", {"max_value": 0.6, "axis": [0, 1, 2]}),
               ("MaxNorm", {"max_value": 0.3}), ("UnitNorm", {"axis": [0, 1, 2]}),
               ("MinMaxNorm", {"min_value": 0.2, "max_value": 0.5, "rate": 0.7, "axis": 0}),
               "non_neg"]
BIAS_CONSTRAINTS = [None, ("MaxNorm", {"max_value": 0.2}), "non_neg",
                    ("UnitNorm", {"axis": 0})]


def random_case(index, large=False):
    """A random but valid Keras Conv2D configuration plus an input shape.

    large=True: batches of 2 to 8, 8 to 40 pixels beyond the kernel's span, 2 to 8 channels
    and filters per group (the small cases reach every argument; these reach sizes where
    blocked BLAS paths and several windows per pixel matter).
    """
    rng = np.random.default_rng((5000 if large else 1000) + index)
    low, high = (8, 41) if large else (0, 9)
    groups = int(rng.choice([1, 1, 1, 2, 3]))
    kernel_size = (int(rng.integers(1, 5)), int(rng.integers(1, 5)))
    if rng.random() < 0.5:
        strides = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
        dilation = (1, 1)
    else:
        strides = (1, 1)
        dilation = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
    padding = str(rng.choice(["valid", "same"]))
    span = [d * (k - 1) + 1 for k, d in zip(kernel_size, dilation)]
    height = int(rng.integers(span[0] + low, span[0] + high))
    width = int(rng.integers(span[1] + low, span[1] + high))
    per_group = (2, 9) if large else (1, 4)
    case = dict(
        filters=groups * int(rng.integers(*per_group)),
        kernel_size=kernel_size,
        strides=strides,
        padding=padding,
        data_format=str(rng.choice(["channels_last", "channels_first"])),
        dilation_rate=dilation,
        groups=groups,
        activation=ACTIVATIONS[rng.integers(len(ACTIVATIONS))],
        use_bias=bool(rng.random() < 0.8),
        kernel_regularizer=REGULARIZERS[rng.integers(len(REGULARIZERS))],
        bias_regularizer=REGULARIZERS[rng.integers(len(REGULARIZERS))],
        activity_regularizer=REGULARIZERS[rng.integers(len(REGULARIZERS))],
        kernel_constraint=CONSTRAINTS[rng.integers(len(CONSTRAINTS))],
        bias_constraint=BIAS_CONSTRAINTS[rng.integers(len(BIAS_CONSTRAINTS))],
    )
    if hits_keras_channels_first_bias_bug(case, width):
        case["filters"] += groups
    batch = int(rng.integers(2, 9)) if large else int(rng.integers(1, 4))
    channels = groups * int(rng.integers(*per_group))
    if case["data_format"] == "channels_last":
        input_shape = (batch, height, width, channels)
    else:
        input_shape = (batch, channels, height, width)
    return case, input_shape


def output_width(case, width):
    k, s, d = case["kernel_size"][1], case["strides"][1], case["dilation_rate"][1]
    if case["padding"] == "same":
        return -(-width // s)
    return (width - d * (k - 1) - 1) // s + 1


def hits_keras_channels_first_bias_bug(case, width):
    """Keras 3.15.1 (TF backend) adds a channels_first bias along the WIDTH axis when the
    output width equals `filters`: keras.ops.add mistakes the (1, filters, 1, 1) bias for an
    NHWC bias (keras/src/backend/tensorflow/numpy.py, add -> tf.nn.bias_add). The sweep
    steers clear of it; test_layer.py::test_keras_channels_first_bias_bug pins it down."""
    return (case["data_format"] == "channels_first" and case["use_bias"]
            and output_width(case, width) == case["filters"])


def _object(module, spec):
    """Spec -> argument for the layer: None, a name string, or (ClassName, kwargs)."""
    if spec is None or isinstance(spec, str):
        return spec
    name, kwargs = spec
    return getattr(module, name)(**kwargs)


def layer_kwargs(case, regularizers, constraints):
    kwargs = dict(case)
    for key in ("kernel_regularizer", "bias_regularizer", "activity_regularizer"):
        kwargs[key] = _object(regularizers, case[key])
    for key in ("kernel_constraint", "bias_constraint"):
        kwargs[key] = _object(constraints, case[key])
    return kwargs


def make_pair(keras, case, input_shape, rng):
    """(keras_layer, convlib_layer) with identical random weights, both built."""
    import convlib

    klayer = keras.layers.Conv2D(**layer_kwargs(case, keras.regularizers, keras.constraints))
    clayer = convlib.Conv2D(**layer_kwargs(case, convlib.regularizers, convlib.constraints))
    klayer.build(input_shape)
    clayer.build(input_shape)
    weights = [rng.standard_normal(w.shape).astype(np.float32) * 0.5
               for w in klayer.get_weights()]
    klayer.set_weights(weights)
    clayer.set_weights(weights)
    return klayer, clayer
