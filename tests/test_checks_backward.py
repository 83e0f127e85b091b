"""Chapter 15's check functions (convbook/checks/backward.py): right, wrong and unfinished convlibs,
and the references themselves.

* the reference solutions/convlib passes every check, visible and hidden, printing one line
  each and nothing on stderr;
* the generated stubs (convlib/ at the repository root) fail every check cleanly;
* a fake student convlib holding one known wrong idea fails with feedback naming it;
* GradientTape's references (stride-1 Keras convolution, subsampled: never a strided TF conv,
  see docs/DESIGN.md on oneDNN) agree with a float64 numpy brute force, on the visible cases
  and on random cases drawn like the hidden ones.
None of these checks is statistical (the reader's code draws no random numbers).
"""
from pathlib import Path

import numpy as np
import pytest

from check_support import (assert_every_misconception_tested, assert_mistake_named,
                           assert_reference_passes, assert_stubs_fail_cleanly)
from convbook import mistakes
from convbook.checks import backward as checks

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions"

CHECKS = [
    checks.check_numerical_gradient,
    checks.check_piecewise_gradients,
    checks.check_smooth_gradients,
    checks.check_softmax_gradient,
    checks.check_bias_gradient,
    checks.check_kernel_gradient,
    checks.check_input_gradient,
    checks.check_col2im,
    checks.check_layer_backward,
    checks.check_layer_backward_with_penalties,
]
NAMES = [c.__name__ for c in CHECKS]


@pytest.mark.parametrize("check", CHECKS, ids=NAMES)
def test_reference_passes(check, monkeypatch, capfd):
    assert_reference_passes(check, monkeypatch, capfd)


FIRST_STUB = {
    "check_numerical_gradient": "gradcheck.numerical_gradient",
    "check_piecewise_gradients": "activations.relu_backward",
    "check_smooth_gradients": "activations.sigmoid_backward",
    "check_softmax_gradient": "activations.softmax_backward",
    "check_bias_gradient": "bias.bias_gradient",
    "check_kernel_gradient": "conv.kernel_gradient",
    "check_input_gradient": "conv.input_gradient",
    "check_col2im": "conv.col2im",
    # the layer's forward pass (chapters 13 and 14) is a stub too, and is reached first
    "check_layer_backward": "Conv2D",
    "check_layer_backward_with_penalties": "Conv2D",
}


@pytest.mark.parametrize("check", CHECKS, ids=NAMES)
def test_stubs_fail_cleanly(check, monkeypatch, capfd):
    assert_stubs_fail_cleanly(check, FIRST_STUB[check.__name__], monkeypatch, capfd)


# ------------------------------------------------------------------ misconceptions
# The wrong implementations and the check that must name each: convbook/mistakes/backward.py.
# Most redefine a function; Conv2D's backward methods are replaced on the class.

CATALOGUE = mistakes.table("backward")
MISCONCEPTIONS = {k: m for k, m in CATALOGUE.items() if not m.target.startswith("Conv2D.")}
LAYER_MISCONCEPTIONS = {k: m for k, m in CATALOGUE.items() if m.target.startswith("Conv2D.")}


@pytest.mark.parametrize("name", list(MISCONCEPTIONS))
def test_misconception_is_named(name, tmp_path, monkeypatch, capfd):
    assert_mistake_named(MISCONCEPTIONS[name], tmp_path, monkeypatch, capfd)


@pytest.mark.parametrize("name", list(LAYER_MISCONCEPTIONS))
def test_layer_misconception_is_named(name, tmp_path, monkeypatch, capfd):
    assert_mistake_named(LAYER_MISCONCEPTIONS[name], tmp_path, monkeypatch, capfd)


def test_misconception_ids_are_unique():
    found = [v for v in vars(checks).values() if isinstance(v, checks.Misconception)]
    assert len({m.id for m in found}) == len(found) >= 3


def test_every_misconception_is_tested():
    assert_every_misconception_tested(checks, {**MISCONCEPTIONS, **LAYER_MISCONCEPTIONS})


# ------------------------------------------- the references against float64 numpy

def numpy_conv_gradients(x, kernel, grad_output, strides, padding, dilation, groups):
    """(d x, d kernel) of sum(grad_output * conv(x, kernel)) by brute force, float64."""
    x, kernel, dy = (np.asarray(a, np.float64) for a in (x, kernel, grad_output))
    pads = checks.conv_pads(x.shape[1:3], kernel.shape[:2], strides, padding, dilation)
    xp = np.pad(x, ((0, 0), *pads, (0, 0)))
    kh, kw, cg, filters = kernel.shape
    fg = filters // groups
    grad_xp, grad_k = np.zeros_like(xp), np.zeros_like(kernel)
    for i in range(dy.shape[1]):
        for j in range(dy.shape[2]):
            for a in range(kh):
                for b in range(kw):
                    r, c = i * strides[0] + a * dilation[0], j * strides[1] + b * dilation[1]
                    for g in range(groups):
                        channels, outs = slice(g * cg, (g + 1) * cg), slice(g * fg, (g + 1) * fg)
                        grad_xp[:, r, c, channels] += dy[:, i, j, outs] @ kernel[a, b, :, outs].T
                        grad_k[a, b, :, outs] += xp[:, r, c, channels].T @ dy[:, i, j, outs]
    (top, bottom), (left, right) = pads
    grad_x = grad_xp[:, top:xp.shape[1] - bottom, left:xp.shape[2] - right]
    return grad_x, grad_k


@pytest.mark.parametrize("hidden", [False, True])
def test_gradient_tape_references_agree_with_float64_numpy(hidden):
    rng = np.random.default_rng(15)
    cases = checks._conv_cases(rng, False) if not hidden else [
        c for _ in range(5) for c in checks._conv_cases(rng, True)]
    for case in cases:
        x, kernel, pads, x_padded, dy = checks._conv_case_arrays(rng, case)
        strides, padding, dilation, groups = case[7], case[8], case[9], case[10]
        gx, gk = checks.keras_conv_gradients(x, kernel, dy, strides, padding, dilation)
        nx, nk = numpy_conv_gradients(x, kernel, dy, strides, padding, dilation, groups)
        np.testing.assert_allclose(gx, nx, rtol=1e-4, atol=1e-4, err_msg=str(case))
        np.testing.assert_allclose(gk, nk, rtol=1e-4, atol=1e-4, err_msg=str(case))
        d_cols = rng.standard_normal(checks.columns_of(
            x_padded, kernel.shape[:2], strides, dilation, dy.shape[1:3], groups).shape)
        # col2im is the adjoint of im2col: <col2im(d), x> == <d, im2col(x)>
        back = checks.keras_col2im(d_cols.astype("float32"), x_padded.shape, kernel.shape[:2],
                                   strides, dilation)
        cols = checks.columns_of(x_padded.astype(np.float64), kernel.shape[:2], strides,
                                 dilation, dy.shape[1:3], groups)
        assert np.sum(back * x_padded) == pytest.approx(np.sum(d_cols * cols), rel=1e-4,
                                                        abs=1e-3)


def test_the_layer_reference_matches_a_plain_keras_layer_where_the_conv_is_safe(tmp_path):
    """Stride 1, padding "valid", channels_last: keras_layer_gradients is what a real
    keras.layers.Conv2D with the regularizers gives (tests/test_layer.py's recipe)."""
    from convbook import oracle
    keras, tf = oracle.keras(), oracle.tf()
    rng = np.random.default_rng(1)
    config = {**checks.LAYER_DEFAULTS, "activation": "tanh",
              "kernel_regularizer": {"class_name": "L2", "config": {"l2": 0.05}},
              "bias_regularizer": {"class_name": "L1", "config": {"l1": 0.02}},
              "activity_regularizer": {"class_name": "L2", "config": {"l2": 0.03}}}
    x = rng.standard_normal((3, 6, 5, 2)).astype("float32")
    kernel = rng.standard_normal((3, 2, 2, 4)).astype("float32")
    bias = rng.standard_normal(4).astype("float32")
    upstream = rng.standard_normal((3, 4, 4, 4)).astype("float32")
    ours = checks.keras_layer_gradients(config, x, kernel, bias, upstream)
    layer = keras.layers.Conv2D(4, (3, 2), activation="tanh",
                                kernel_regularizer=keras.regularizers.L2(0.05),
                                bias_regularizer=keras.regularizers.L1(0.02),
                                activity_regularizer=keras.regularizers.L2(0.03))
    layer.build(x.shape)
    layer.set_weights([kernel, bias])
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        total = tf.reduce_sum(layer(xt) * upstream) + tf.add_n(layer.losses)
    grads = tape.gradient(total, [xt, *layer.trainable_variables])
    for part, theirs in zip(("input", "kernel", "bias"), grads):
        np.testing.assert_allclose(ours[part], theirs.numpy(), rtol=1e-4, atol=1e-5)
