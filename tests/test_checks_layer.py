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
import shutil
import textwrap
from pathlib import Path

import numpy as np
import pytest

from check_support import (assert_every_misconception_tested, assert_misconception_named,
                           assert_reference_passes, assert_stubs_fail_cleanly)
from convbook.checking import CheckFailure
from convbook.checks import layer as checks

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
ACT = "activations.py"
ACTIVATION_MISCONCEPTIONS = {
    "leaky-torch-slope": ("leaky_relu", """
        x = _as_float(args[0])
        return np.where(x > 0, x, 0.01 * x)
        """, checks.LEAKY_TORCH_SLOPE),
    "leaky-slope-ignored": ("leaky_relu", """
        x = _as_float(args[0])
        return np.where(x > 0, x, 0.2 * x)
        """, checks.LEAKY_SLOPE_IGNORED),
    "tanh-overflow": ("tanh", """
        x = _as_float(args[0])
        with np.errstate(over="ignore", invalid="ignore"):
            return (np.exp(x) - np.exp(-x)) / (np.exp(x) + np.exp(-x))
        """, checks.TANH_OVERFLOW),
    "elu-exp-everywhere": ("elu", """
        x = _as_float(args[0])
        alpha = args[1] if len(args) > 1 else kwargs.get("alpha", 1.0)
        with np.errstate(over="ignore"):
            return alpha * np.expm1(x)
        """, checks.ELU_EXP_EVERYWHERE),
    "elu-alpha-positive": ("elu", """
        x = _as_float(args[0])
        alpha = args[1] if len(args) > 1 else kwargs.get("alpha", 1.0)
        return alpha * _right_elu(x)
        """, checks.ELU_ALPHA_POSITIVE),
    "selu-swapped": ("selu", """
        return SELU_ALPHA * elu(args[0], SELU_SCALE)
        """, checks.SELU_SWAPPED),
    "selu-scale-negative-only": ("selu", """
        x = _as_float(args[0])
        return np.where(x > 0, x, SELU_SCALE * elu(x, SELU_ALPHA))
        """, checks.SELU_SCALE_NEGATIVE_ONLY),
    "selu-rounded": ("selu", """
        return 1.05 * elu(args[0], 1.67)
        """, checks.SELU_ROUNDED),
    "silu-sigmoid-only": ("silu", """
        return sigmoid(args[0])
        """, checks.SILU_SIGMOID_ONLY),
    "softplus-overflow": ("softplus", """
        x = _as_float(args[0])
        with np.errstate(over="ignore"):
            return np.log(1 + np.exp(x))
        """, checks.SOFTPLUS_OVERFLOW),
}


@pytest.mark.parametrize("name", list(ACTIVATION_MISCONCEPTIONS))
def test_activation_misconception_is_named(name, tmp_path, monkeypatch, capfd):
    function, body, misconception = ACTIVATION_MISCONCEPTIONS[name]
    assert_misconception_named(checks.check_more_activations, misconception, ACT, function,
                               body, tmp_path, monkeypatch, capfd)


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


LAYER_MISCONCEPTIONS = {
    "activation-before-bias": (forward(bias="", act="""
        y = np.asarray(self.activation(z), dtype=FLOATX)
        if self.use_bias:
            y = add_bias(y, self.bias, self.data_format)
        """), checks.ACTIVATION_BEFORE_BIAS),
    "bias-skipped": (forward(bias=""), checks.BIAS_SKIPPED),
    "activation-skipped": (forward(act="y = np.asarray(z, dtype=FLOATX)"),
                           checks.ACTIVATION_SKIPPED),
    "bias-wrong-axis": (forward(bias="if self.use_bias:\n    z = z + self.bias"),
                        checks.BIAS_WRONG_AXIS),
    "strides-dropped": (forward(conv=conv_line(strides="1")), checks.STRIDES_DROPPED),
    "dilation-dropped": (forward(conv=conv_line(dilation="1")), checks.DILATION_DROPPED),
    "padding-dropped": (forward(conv=conv_line(padding='"valid"')), checks.PADDING_DROPPED),
    "penalty-on-z": (forward(act="", penalty="""
        if self.activity_regularizer is not None:
            self._activity_loss = activity_penalty(self.activity_regularizer, z)
        y = np.asarray(self.activation(z), dtype=FLOATX)
        """), checks.PENALTY_ON_Z),
    "penalty-not-divided": (forward(penalty="""
        if self.activity_regularizer is not None:
            self._activity_loss = float(self.activity_regularizer(y))
        """), checks.PENALTY_NOT_DIVIDED),
    "penalty-missing": (forward(penalty=""), checks.PENALTY_MISSING),
    "not-float32": (forward(act="y = np.asarray(self.activation(z), dtype=np.float64)"),
                    checks.NOT_FLOAT32),
}


def replaced_forward(body):
    """Code that replaces Conv2D.__call__ in convlib/layer.py: the given lines, then `body`."""
    code = textwrap.dedent("""
        x = self._as_input(x)
        if not self.built:
            self.build(x.shape)
        """).strip("\n") + "\n" + textwrap.dedent(body).strip("\n") + textwrap.dedent("""
        self._cache = (conv_cache, z, y, x.shape[0])
        return y
        """).rstrip()
    return (f"\n\ndef _wrong_call(self, x):\n{textwrap.indent(code, '    ')}\n\n\n"
            "Conv2D.__call__ = _wrong_call\n")


def make_fake_convlib(tmp_path, module, code):
    """A copy of the reference convlib with `code` appended to convlib/<module>."""
    shutil.copytree(SOLUTIONS / "convlib", tmp_path / "convlib",
                    ignore=shutil.ignore_patterns("__pycache__"))
    path = tmp_path / "convlib" / module
    path.write_text(path.read_text() + code)
    return tmp_path


def run_fake(tmp_path, monkeypatch, module, code, hidden=False):
    monkeypatch.chdir(make_fake_convlib(tmp_path, module, code))
    return checks.check_conv2d_layer(hidden=hidden)


@pytest.mark.parametrize("name", list(LAYER_MISCONCEPTIONS))
def test_layer_misconception_is_named(name, tmp_path, monkeypatch, capfd):
    body, misconception = LAYER_MISCONCEPTIONS[name]
    with pytest.raises(CheckFailure) as info:
        run_fake(tmp_path, monkeypatch, "layer.py", replaced_forward(body))
    assert misconception.text in str(info.value), f"feedback was\n{info.value}"
    record = info.value.record
    assert record.misconception == misconception.id, record
    assert record.check and record.case, record
    _, err = capfd.readouterr()
    assert err == "", f"wrote to stderr: {err!r}"


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
    path = make_fake_convlib(tmp_path, "bias.py", code)
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
    path = make_fake_convlib(tmp_path, "conv.py", code)
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
    monkeypatch.chdir(make_fake_convlib(tmp_path, ACT, code))
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
    monkeypatch.chdir(make_fake_convlib(tmp_path, "regularizers.py", code))
    checks.check_conv2d_layer()
    out, err = capfd.readouterr()
    assert "agree with Keras" in out and "activity_penalty (chapters 08 and 10)" in out, out
    assert err == ""
