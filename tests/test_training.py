"""Chapter 16's claim, as a test: the reference convlib (its Conv2D, the head of
convlib/network.py, network.train_step and SGD) trained side by side with Keras from the same
initial weights, on the same mini-batches in the same order, ends with the same weights.

Tolerance: after the run every weight is within SIDE_BY_SIDE_TOLERANCE = 1e-4 of the largest
|Keras weight| of its array, elementwise. The two sides compute the same float32 arithmetic in
different orders (im2col matrix products against TensorFlow's convolution), so each step's
gradients differ by a few float32 ulps (about 6e-8 relative) and the weights drift apart
slowly; the measured drift after the 45 steps of the chapter's network is 1e-6 to 3.4e-6 of the
scale, a margin of about 30. One step with a summed instead of averaged
cross-entropy moves them by more than 100 times the bound (the last test).
Everything is deterministic (fixed weights from Keras's seeded initializers, fixed batches).
"""
import numpy as np
import pytest

import convlib
from convbook.checks import training
from convbook.figures_training import (DIGITS_SPEC, SIDE_BY_SIDE_TOLERANCE, digits,
                                       ordered_batches, weight_drift)


def convlib_network(spec, weights):
    """The spec built in-process from the reference convlib, holding Keras's weights."""
    def made(kind, spec):
        if spec is None:
            return None
        name, config = spec
        if name == "ClipWeights":
            return convlib.optimizers.ClipWeights(**config)
        return kind.get({"class_name": name, "config": dict(config)})

    layers, shape = [], (1, *spec["input_shape"])
    for conv in spec["convs"]:
        layer = convlib.Conv2D(
            conv["filters"], conv["kernel_size"], strides=conv.get("strides", 1),
            padding=conv.get("padding", "valid"), groups=conv.get("groups", 1),
            activation=conv.get("activation"),
            kernel_regularizer=made(convlib.regularizers, conv.get("kernel_regularizer")),
            activity_regularizer=made(convlib.regularizers, conv.get("activity_regularizer")),
            kernel_constraint=made(convlib.constraints, conv.get("kernel_constraint")))
        layer.build(shape)
        shape = layer.compute_output_shape(shape)
        layers.append(layer)
    gap = spec["head"] == "gap"
    layers.append(convlib.network.GlobalAveragePooling2D() if gap else convlib.network.Flatten())
    dense = convlib.network.Dense(spec["classes"], kernel_regularizer=made(
        convlib.regularizers, spec.get("dense_regularizer")))
    dense.build((1, shape[-1] if gap else int(np.prod(shape[1:]))))
    layers.append(dense)
    with_weights = [layer for layer in layers if len(layer.weights)]
    for layer, start in zip(with_weights, range(0, len(weights), 2)):
        layer.set_weights(weights[start:start + 2])
    return layers, with_weights


def side_by_side(spec, batches, learning_rate):
    weights = training.keras_initial_weights(spec)
    keras_run = training.keras_training(spec, weights, batches, learning_rate)
    layers, with_weights = convlib_network(spec, weights)
    optimizer = convlib.SGD(learning_rate)
    losses = [convlib.network.train_step(layers, x, labels, optimizer) for x, labels in batches]
    return keras_run, losses, [layer.get_weights() for layer in with_weights]


def _conv(**overrides):
    conv = {"filters": 8, "kernel_size": 3, "padding": "same", "activation": "relu"}
    conv.update(overrides)
    return conv


CLIP = ("ClipWeights", {"min_value": -0.3, "max_value": 0.3})
CONFIGURATIONS = {
    # the chapter's network: padding "same", a stride-2 layer, L2 on every kernel, a clip
    "chapter": (DIGITS_SPEC, 20, 3, 0.3),
    # global average pooling, "valid" padding, L1 and an activity penalty, MaxNorm
    "gap-valid-l1-maxnorm": ({
        "input_shape": (8, 8, 1), "classes": 10, "head": "gap",
        "convs": [_conv(padding="valid", kernel_regularizer=("L1", {"l1": 1e-3}),
                        kernel_constraint=("MaxNorm", {"max_value": 0.8,
                                                       "axis": [0, 1, 2]})),
                  _conv(filters=12, strides=2, activation="tanh",
                        activity_regularizer=("L2", {"l2": 1e-2}))],
        "dense_regularizer": None}, 20, 2, 0.5),
    # groups (slow in TensorFlow's eager grouped convolution: fewer steps)
    "groups-clip": ({
        "input_shape": (8, 8, 1), "classes": 10, "head": "flatten",
        "convs": [_conv(kernel_regularizer=("L2", {"l2": 1e-3}), kernel_constraint=CLIP),
                  _conv(filters=8, groups=2, kernel_regularizer=("L1L2",
                                                                 {"l1": 1e-4, "l2": 1e-3}))],
        "dense_regularizer": ("L2", {"l2": 1e-3})}, 30, 1, 0.2),
}


@pytest.mark.parametrize("configuration", CONFIGURATIONS.values(), ids=list(CONFIGURATIONS))
def test_convlib_trains_like_keras(configuration, keras):
    spec, batch_size, epochs, learning_rate = configuration
    images, labels = digits(300 if epochs > 1 else 150)
    batches = ordered_batches(images, labels, batch_size, epochs)
    keras_run, losses, weights = side_by_side(spec, batches, learning_rate)
    drift = weight_drift(weights, keras_run["weights"])
    assert max(value for _, value in drift) <= SIDE_BY_SIDE_TOLERANCE, drift
    np.testing.assert_allclose(losses, keras_run["loss"], rtol=SIDE_BY_SIDE_TOLERANCE)
    # the network learned something, so the agreement is not that of two idle runs
    assert keras_run["loss"][-1] < keras_run["loss"][0]
    # and the constraint held: no first-layer weight outside the clip
    if spec["convs"][0].get("kernel_constraint") == CLIP:
        assert np.abs(weights[0][0]).max() <= 0.3 + 1e-7


def test_a_sum_instead_of_a_mean_misses_the_tolerance_after_one_step(keras):
    """The tolerance is tight enough to tell the chapter's misconceptions apart."""
    images, labels = digits(20)
    batches = ordered_batches(images, labels, 20, 1)
    weights = training.keras_initial_weights(DIGITS_SPEC)
    right = training.keras_training(DIGITS_SPEC, weights, batches, 0.3)
    summed = training.keras_training(DIGITS_SPEC, weights, batches, 0.3, reduction="sum")
    drift = weight_drift(summed["weights"], right["weights"])
    assert max(value for _, value in drift) > 100 * SIDE_BY_SIDE_TOLERANCE
