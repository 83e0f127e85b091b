"""Every condition under which keras.layers.Conv2D raises, convlib raises ValueError too,
with a message that quotes the received value."""
import numpy as np
import pytest

import convlib

# (arguments, the text the message must quote)
BAD_ARGUMENTS = [
    (dict(filters=0, kernel_size=3), "filters=0"),
    (dict(filters=-2, kernel_size=3), "filters=-2"),
    (dict(filters=2.5, kernel_size=3), "filters=2.5"),
    (dict(filters=4, kernel_size=3, groups=0), "groups=0"),
    (dict(filters=4, kernel_size=3, groups=-1), "groups=-1"),
    (dict(filters=4, kernel_size=3, groups=3), "groups=3"),
    (dict(filters=4, kernel_size=0), "kernel_size=0"),
    (dict(filters=4, kernel_size=-1), "kernel_size=-1"),
    (dict(filters=4, kernel_size=(3, 0)), "kernel_size=(3, 0)"),
    (dict(filters=4, kernel_size=(3, 3, 3)), "kernel_size=(3, 3, 3)"),
    (dict(filters=4, kernel_size="3"), "kernel_size='3'"),
    (dict(filters=4, kernel_size=3, strides=0), "strides=0"),
    (dict(filters=4, kernel_size=3, strides=(1, 0)), "strides=(1, 0)"),
    (dict(filters=4, kernel_size=3, strides=(1, 2, 3)), "strides=(1, 2, 3)"),
    (dict(filters=4, kernel_size=3, dilation_rate=0), "dilation_rate=0"),
    (dict(filters=4, kernel_size=3, dilation_rate=(0, 1)), "dilation_rate=(0, 1)"),
    (dict(filters=4, kernel_size=3, strides=2, dilation_rate=2), "dilation_rate=(2, 2)"),
    (dict(filters=4, kernel_size=3, strides=(2, 1), dilation_rate=(1, 2)), "strides=(2, 1)"),
    (dict(filters=4, kernel_size=3, padding="full"), "padding='full'"),
    (dict(filters=4, kernel_size=3, padding="causal"), "padding='causal'"),
    (dict(filters=4, kernel_size=3, data_format="channels_middle"), "channels_middle"),
    (dict(filters=4, kernel_size=3, data_format="NHWC"), "NHWC"),
    (dict(filters=4, kernel_size=3, activation="not_an_activation"), "not_an_activation"),
    (dict(filters=4, kernel_size=3, kernel_initializer="not_an_init"), "not_an_init"),
    (dict(filters=4, kernel_size=3, bias_initializer="not_an_init"), "not_an_init"),
    (dict(filters=4, kernel_size=3, kernel_regularizer="not_a_reg"), "not_a_reg"),
    (dict(filters=4, kernel_size=3, activity_regularizer="not_a_reg"), "not_a_reg"),
    (dict(filters=4, kernel_size=3, kernel_constraint="not_a_constraint"), "not_a_constraint"),
    (dict(filters=4, kernel_size=3, bias_constraint="not_a_constraint"), "not_a_constraint"),
]


@pytest.mark.parametrize("kwargs, quoted", BAD_ARGUMENTS, ids=[q for _, q in BAD_ARGUMENTS])
def test_bad_arguments_raise_like_keras(kwargs, quoted, keras):
    with pytest.raises(ValueError):
        keras.layers.Conv2D(**kwargs)
    with pytest.raises(ValueError) as error:
        convlib.Conv2D(**kwargs)
    assert quoted in str(error.value), f"message does not quote {quoted!r}: {error.value}"


# (layer arguments, input shape, text the message must quote)
BAD_INPUTS = [
    (dict(filters=4, kernel_size=3), (5, 5, 3), "(5, 5, 3)"),
    (dict(filters=4, kernel_size=3), (1, 5, 5, 5, 3), "(1, 5, 5, 5, 3)"),
    (dict(filters=4, kernel_size=3, groups=2), (1, 6, 6, 3), "3"),
    (dict(filters=4, kernel_size=3, groups=2, data_format="channels_first"), (1, 5, 6, 6), "5"),
    (dict(filters=4, kernel_size=3), (1, 2, 6, 3), "(2, 6)"),
    (dict(filters=4, kernel_size=(2, 3), dilation_rate=(1, 3)), (1, 6, 6, 3), "(2, 3)"),
    (dict(filters=4, kernel_size=(1, 7), strides=2), (1, 6, 6, 1), "(1, 7)"),
]


@pytest.mark.parametrize("kwargs, shape, quoted", BAD_INPUTS,
                         ids=[f"{s}" for _, s, _ in BAD_INPUTS])
def test_bad_input_shapes_raise_like_keras(kwargs, shape, quoted, keras):
    x = np.zeros(shape, np.float32)
    with pytest.raises(ValueError):
        keras.layers.Conv2D(**kwargs)(x)
    with pytest.raises(ValueError) as error:
        convlib.Conv2D(**kwargs)(x)
    assert quoted in str(error.value), f"message does not quote {quoted!r}: {error.value}"


@pytest.mark.parametrize("data_format, first, second", [
    ("channels_last", (2, 6, 6, 3), (2, 6, 6, 4)),
    ("channels_first", (2, 3, 6, 6), (2, 4, 6, 6)),
])
def test_channel_mismatch_on_a_later_call(data_format, first, second, keras):
    klayer = keras.layers.Conv2D(2, 3, data_format=data_format)
    clayer = convlib.Conv2D(2, 3, data_format=data_format)
    if data_format == "channels_last":  # TF's CPU conv runs channels_first only grouped
        klayer(np.zeros(first, np.float32))
        with pytest.raises(ValueError):
            klayer(np.zeros(second, np.float32))
    clayer(np.zeros(first, np.float32))
    with pytest.raises(ValueError) as error:
        clayer(np.zeros(second, np.float32))
    assert str(second) in str(error.value)
    # A later call with other spatial sizes and batch is fine, as in Keras.
    bigger = list(first)
    bigger[0] += 1
    bigger[-1 if data_format == "channels_first" else 1] += 3
    assert clayer(np.zeros(bigger, np.float32)).shape[0] == bigger[0]


def test_set_weights_and_count_params_errors(keras):
    layer = convlib.Conv2D(4, 3)
    with pytest.raises(ValueError, match="not built"):
        layer.count_params()
    with pytest.raises(ValueError):
        keras.layers.Conv2D(4, 3).count_params()
    layer.build((1, 5, 5, 2))
    with pytest.raises(ValueError, match=r"\(3, 3, 2, 4\)"):
        layer.set_weights([np.zeros((3, 3, 4, 2)), np.zeros(4)])
    with pytest.raises(ValueError, match="2 arrays"):
        layer.set_weights([np.zeros((3, 3, 2, 4))])


def test_non_numeric_input_is_a_clear_error():
    with pytest.raises(ValueError, match="numeric"):
        convlib.Conv2D(4, 3)(np.array([["a"]]))


def test_backward_before_call_is_a_clear_error():
    layer = convlib.Conv2D(4, 3)
    with pytest.raises(ValueError, match="before"):
        layer.backward(np.zeros((1, 3, 3, 4)))
    layer(np.zeros((1, 5, 5, 1)))
    with pytest.raises(ValueError, match=r"\(1, 3, 3, 4\)"):
        layer.backward(np.zeros((1, 3, 3, 5)))
