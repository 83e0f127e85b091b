"""Chapter 14's check functions (convbook/checks/layer.py): right, wrong and unfinished convlibs.

* the reference solutions/convlib passes both checks, visible and hidden, printing one line
  each and nothing on stderr;
* the generated stubs (convlib/ at the repository root) fail cleanly, saying what is not
  implemented;
* a fake convlib holding one known wrong idea fails with feedback naming it: a patched
  activation for exercise 14.1, a replaced `Conv2D.__call__` for exercise 14.2;
* a wrong earlier piece (conv2d, add_bias) is not charged again: the layer assembled from it
  passes, and the passing line names the piece to fix;
* the check's reference pipeline (keras_conv, bias on the channel axis, activation) equals
  keras.layers.Conv2D with the same weights and every argument, on shapes clear of Keras's
  two bugs (channels_first bias when width == filters; oneDNN strided conv on tiny shapes).
Nothing is statistical: no false-failure rate to bound.
"""
import textwrap
from pathlib import Path

import numpy as np
import pytest

from check_support import (assert_every_misconception_tested, assert_mistake_named,
                           assert_reference_passes, assert_stubs_fail_cleanly, fake_convlib)
from convbook import mistakes
from convbook.checking import CheckFailure
from convbook.checks import layer as checks
from convbook.mistakes import wrong_module_text

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions"

CHECKS = [checks.check_more_activations, checks.check_conv2d_layer]
NAMES = [c.__name__ for c in CHECKS]
FIRST_STUB = {"check_more_activations": "activations.leaky_relu",
              "check_conv2d_layer": "Conv2D"}


@pytest.mark.parametrize("check", CHECKS, ids=NAMES)
def test_reference_passes(check, monkeypatch, capfd):
    assert_reference_passes(check, monkeypatch, capfd)


@pytest.mark.parametrize("check", CHECKS, ids=NAMES)
def test_stubs_fail_cleanly(check, monkeypatch, capfd):
    assert_stubs_fail_cleanly(check, FIRST_STUB[check.__name__], monkeypatch, capfd)


# ------------------------------------------------------------ exercise 14.1, activations
# The wrong implementations and the checks that must name them: the catalogue,
# convbook/mistakes/layer.py (the activations' functions; Conv2D.__call__ for 14.2).
CATALOGUE = mistakes.table("layer")
ACTIVATION_MISCONCEPTIONS = {k: m for k, m in CATALOGUE.items() if m.module == "activations.py"}
LAYER_MISCONCEPTIONS = {k: m for k, m in CATALOGUE.items()
                        if m.check is checks.check_conv2d_layer}


@pytest.mark.parametrize("name", list(ACTIVATION_MISCONCEPTIONS))
def test_activation_misconception_is_named(name, tmp_path, monkeypatch, capfd):
    assert_mistake_named(ACTIVATION_MISCONCEPTIONS[name], tmp_path, monkeypatch, capfd)


# ------------------------------------------------------------------ exercise 14.2, the layer
# Each body replaces the exercise region of Conv2D.__call__: it must set z, conv_cache, y
# (and self._activity_loss when there is an activity regularizer).
CONV = ("z, conv_cache = conv2d(x, self.kernel, {strides}, {padding}, {dilation}, "
        "self.groups, self.data_format, return_cache=True)")


def conv_line(strides="self.strides", padding="self.padding", dilation="self.dilation_rate"):
    return CONV.format(strides=strides, padding=padding, dilation=dilation)


RIGHT_BIAS = "if self.use_bias:\n    z = add_bias(z, self.bias, self.data_format)"
RIGHT_ACT = "y = np.asarray(self.activation(z), dtype=FLOATX)"
RIGHT_PENALTY = ("if self.activity_regularizer is not None:\n"
                 "    self._activity_loss = activity_penalty(self.activity_regularizer, y)")


def forward(conv=None, bias=RIGHT_BIAS, act=RIGHT_ACT, penalty=RIGHT_PENALTY):
    parts = [conv or conv_line(), bias, act, penalty]
    return "\n".join(textwrap.dedent(part).strip("\n") for part in parts if part.strip())


def replaced_forward(body):
    """Code that replaces Conv2D.__call__ in convlib/layer.py: the given lines, then `body`
    (the catalogue's entries for check_conv2d_layer are written the same way)."""
    code = textwrap.dedent("""
        x = self._as_input(x)
        if not self.built:
            self.build(x.shape)
        """).strip("\n") + "\n" + textwrap.dedent(body).strip("\n") + textwrap.dedent("""
        self._cache = (conv_cache, z, y, x.shape[0])
        return y
        """).rstrip()
    return wrong_module_text("", "Conv2D.__call__", code, "self, x")


def run_fake(tmp_path, monkeypatch, module, code, hidden=False):
    monkeypatch.chdir(fake_convlib(tmp_path, module, code))
    return checks.check_conv2d_layer(hidden=hidden)


@pytest.mark.parametrize("name", list(LAYER_MISCONCEPTIONS))
def test_layer_misconception_is_named(name, tmp_path, monkeypatch, capfd):
    assert_mistake_named(LAYER_MISCONCEPTIONS[name], tmp_path, monkeypatch, capfd)


def test_the_fake_forward_is_right_when_unchanged(tmp_path, monkeypatch, capfd):
    """The replacement mechanism itself: the right body passes."""
    run_fake(tmp_path, monkeypatch, "layer.py", replaced_forward(forward()))
    out, err = capfd.readouterr()
    assert "agree with Keras" in out and err == ""


def test_every_misconception_is_tested():
    merged = {**{k: v for k, v in ACTIVATION_MISCONCEPTIONS.items()},
              **{k: v for k, v in LAYER_MISCONCEPTIONS.items()}}
    assert_every_misconception_tested(checks, merged)


def test_misconception_ids_are_unique():
    found = [v for v in vars(checks).values() if isinstance(v, checks.Misconception)]
    assert len({m.id for m in found}) == len(found)


# ------------------------------------------------- earlier chapters are not charged again

def test_a_wrong_add_bias_is_not_charged_again(tmp_path, monkeypatch, capfd):
    """add_bias adding twice the bias (a chapter 05 mistake): the layer built on it passes,
    and the line names add_bias as the piece to fix."""
    code = ("\n\n_right_add_bias = add_bias\n\n\n"
            "def add_bias(y, bias, data_format='channels_last'):\n"
            "    return _right_add_bias(_right_add_bias(y, bias, data_format), bias, "
            "data_format)\n")
    path = fake_convlib(tmp_path, "bias.py", code)
    # layer.py imported add_bias by name before the patch: re-import it from the module
    layer = path / "convlib" / "layer.py"
    layer.write_text(layer.read_text() + "\n\nfrom .bias import add_bias  # noqa: E402,F811\n")
    monkeypatch.chdir(path)
    checks.check_conv2d_layer()
    out, err = capfd.readouterr()
    assert "agree with Keras" in out and "add_bias (chapter 05)" in out and err == "", out


def test_a_wrong_conv_is_not_charged_again(tmp_path, monkeypatch, capfd):
    """conv2d flipping the kernel (a convolution, not Keras's correlation): same."""
    code = ("\n\n_right_conv2d = conv2d\n\n\ndef conv2d(x, kernel, *args, **kwargs):\n"
            "    return _right_conv2d(x, np.asarray(kernel)[::-1, ::-1], *args, **kwargs)\n")
    path = fake_convlib(tmp_path, "conv.py", code)
    layer = path / "convlib" / "layer.py"
    layer.write_text(layer.read_text() + "\n\nfrom .conv import conv2d  # noqa: E402,F811\n")
    monkeypatch.chdir(path)
    checks.check_conv2d_layer()
    out, err = capfd.readouterr()
    assert "agree with Keras" in out and "conv2d (chapters 01-03 and 13)" in out and err == "", out


def test_a_piece_that_raises_is_named(tmp_path, monkeypatch):
    """An activation that raises: the feedback points at activations.py, not at the layer."""
    code = ("\n\ndef tanh(x):\n    raise RuntimeError('tanh is broken')\n\n\n"
            "_BUILTINS['tanh'] = (tanh, *_BUILTINS['tanh'][1:])\n")
    monkeypatch.chdir(fake_convlib(tmp_path, "activations.py", code))
    with pytest.raises(CheckFailure) as info:
        checks.check_conv2d_layer()
    assert "convlib/activations.py" in str(info.value), str(info.value)
    assert "exercise 14.1" in str(info.value), str(info.value)


# ------------------------------------------------------ the reference is Keras's layer

def test_pipeline_equals_keras_layer():
    """keras_layer_output (the check's reference) == keras.layers.Conv2D with set_weights,
    every argument but strides WITH dilation (Keras refuses it), on shapes large enough for
    oneDNN's strided conv and with output width != filters (Keras's channels_first bias)."""
    from convbook import oracle

    keras = oracle.keras()
    rng = np.random.default_rng(1499)
    activations = list(checks.KERAS_ACTIVATIONS) + [None]
    for i, activation in enumerate(activations * 2):
        data_format = ("channels_last", "channels_first")[i % 2]
        groups = int(rng.choice([1, 2]))
        channels, filters = groups * int(rng.integers(1, 4)), groups * int(rng.integers(1, 4))
        kernel_size = tuple(int(v) for v in rng.integers(1, 4, size=2))
        strides = tuple(int(v) for v in rng.integers(1, 3, size=2)) if i % 3 == 1 else (1, 1)
        dilation = tuple(int(v) for v in rng.integers(1, 3, size=2)) if i % 3 == 2 else (1, 1)
        padding = ("valid", "same")[i % 2 if i < 12 else 1 - i % 2]
        h, w = 16, 17
        arguments = dict(strides=strides, padding=padding, data_format=data_format,
                         dilation_rate=dilation, groups=groups, activation=activation,
                         use_bias=i % 4 != 3)
        shape = (2, h, w, channels) if data_format == "channels_last" else (2, channels, h, w)
        x = rng.standard_normal(shape).astype(np.float32)
        kernel = rng.standard_normal((*kernel_size, channels // groups, filters)).astype(
            np.float32)
        bias = rng.standard_normal(filters).astype(np.float32) if arguments["use_bias"] \
            else None
        layer = keras.layers.Conv2D(filters, kernel_size, **arguments)
        layer.build(shape)
        layer.set_weights([kernel] + ([bias] if bias is not None else []))
        expected = keras.ops.convert_to_numpy(layer(x))
        actual = checks.keras_layer_output(x, kernel, bias, **arguments)
        assert actual.shape == expected.shape
        assert np.allclose(actual, expected, rtol=5e-4, atol=1e-5 * np.abs(expected).max()), \
            arguments


def test_keras_refuses_strides_with_dilation():
    """Why the strided dilated cases are graded against the subsampled stride-1 dilated
    conv (convlib's opt-in): Keras's own layer raises."""
    from convbook import oracle

    keras = oracle.keras()
    with pytest.raises(ValueError):
        keras.layers.Conv2D(2, 3, strides=2, dilation_rate=2)


def test_a_wrong_regularizer_is_not_charged_again(tmp_path, monkeypatch, capfd):
    """L2 twice too strong (a chapter 08 mistake): the layer's activity loss is graded with
    the reader's own activity_penalty, and the line says so."""
    code = ("\n\n_right_l2_call = L2.__call__\n\n\n"
            "def _double_l2(self, w):\n    return 2 * _right_l2_call(self, w)\n\n\n"
            "L2.__call__ = _double_l2\n")
    monkeypatch.chdir(fake_convlib(tmp_path, "regularizers.py", code))
    checks.check_conv2d_layer()
    out, err = capfd.readouterr()
    assert "agree with Keras" in out and "activity_penalty (chapters 08 and 10)" in out, out
    assert err == ""
