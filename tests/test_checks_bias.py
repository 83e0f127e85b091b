"""Chapter 05's check functions (convbook/checks/bias.py): right, wrong and unfinished convlibs.

* the reference solutions/convlib passes every check, visible and hidden, printing one line
  each and nothing on stderr;
* the generated stubs (convlib/ at the repository root, `python -m convbook.build`) fail
  every check cleanly, saying what is not implemented;
* a fake student convlib holding one known wrong idea (the reference with one function
  patched) fails with feedback naming that misconception (`record.misconception`);
* every check cell of solutions/05_bias_and_activation.ipynb passes as the first code run in
  a fresh Python process, with nothing on stderr (tests/test_check_cells.py, for every chapter).
"""

import pytest

from check_support import (assert_every_misconception_tested, assert_misconception_named,
                           assert_reference_passes,
                           assert_stubs_fail_cleanly)
from convbook.checks import bias as checks


CHECKS = [
    checks.check_add_bias,
    checks.check_relu,
    checks.check_sigmoid,
    checks.check_softmax,
    checks.check_gelu,
    checks.check_add_bias_and_activate,
    checks.check_compose_linear_convs,
]
NAMES = [c.__name__ for c in CHECKS]


@pytest.mark.parametrize("check", CHECKS, ids=NAMES)
def test_reference_passes(check, monkeypatch, capfd):
    assert_reference_passes(check, monkeypatch, capfd)


FIRST_STUB = {
    "check_add_bias": "bias.add_bias",
    "check_relu": "activations.relu",
    "check_sigmoid": "activations.sigmoid",
    "check_softmax": "activations.softmax",
    "check_gelu": "activations.gelu",
    "check_add_bias_and_activate": "bias.add_bias_and_activate",
    "check_compose_linear_convs": "bias.compose_linear_convs",
}


@pytest.mark.parametrize("check", CHECKS, ids=NAMES)
def test_stubs_fail_cleanly(check, monkeypatch, capfd):
    assert_stubs_fail_cleanly(check, FIRST_STUB[check.__name__], monkeypatch, capfd)


# ------------------------------------------------------------------ misconceptions
# (module file, function, code replacing its body, check, misconception). The new body may
# call the reference function as `_right_<function>`.


BIAS = "bias.py"
ACT = "activations.py"

MISCONCEPTIONS = {
    "add_bias-last-axis": (BIAS, "add_bias", """
        y, bias, *rest = args
        return y + np.asarray(bias, y.dtype)
        """, checks.check_add_bias, checks.BIAS_LAST_AXIS),
    "add_bias-one-constant": (BIAS, "add_bias", """
        y, bias, *rest = args
        return y + np.asarray(bias, y.dtype)[0]
        """, checks.check_add_bias, checks.BIAS_ONE_CONSTANT),
    "relu-min": (ACT, "relu", """
        return np.minimum(_as_float(args[0]), 0)
        """, checks.check_relu, checks.RELU_MIN),
    "sigmoid-overflow": (ACT, "sigmoid", """
        x = _as_float(args[0])
        with np.errstate(over="ignore", invalid="ignore"):
            return np.exp(x) / (1 + np.exp(x))
        """, checks.check_sigmoid, checks.SIGMOID_NAN),
    "sigmoid-sign": (ACT, "sigmoid", """
        return _right_sigmoid(-_as_float(args[0]))
        """, checks.check_sigmoid, checks.SIGMOID_SIGN),
    "softmax-overflow": (ACT, "softmax", """
        x = _as_float(args[0])
        axis = kwargs.get("axis", args[1] if len(args) > 1 else -1)
        with np.errstate(over="ignore", invalid="ignore"):
            e = np.exp(x)
            return e / np.sum(e, axis=axis, keepdims=True)
        """, checks.check_softmax, checks.SOFTMAX_OVERFLOW),
    "softmax-axis-ignored": (ACT, "softmax", """
        return _right_softmax(args[0])
        """, checks.check_softmax, checks.SOFTMAX_AXIS_IGNORED),
    "softmax-whole-array": (ACT, "softmax", """
        x = _as_float(args[0])
        e = np.exp(x - x.max())
        return e / e.sum()
        """, checks.check_softmax, checks.SOFTMAX_WHOLE),
    "gelu-tanh-default": (ACT, "gelu", """
        return _right_gelu(args[0], approximate=True)
        """, checks.check_gelu, checks.GELU_TANH),
    "gelu-approximate-ignored": (ACT, "gelu", """
        return _right_gelu(args[0])
        """, checks.check_gelu, checks.GELU_EXACT_ALWAYS),
    "gelu-sigmoid": (ACT, "gelu", """
        x = _as_float(args[0])
        return x * sigmoid(1.702 * x)
        """, checks.check_gelu, checks.GELU_SIGMOID),
    "layer-activation-first": (BIAS, "add_bias_and_activate", """
        from .activations import get
        z, bias, activation, data_format = args
        y = get(activation)(z)
        return y if bias is None else add_bias(y, bias, data_format)
        """, checks.check_add_bias_and_activate, checks.ACTIVATION_FIRST),
    "layer-softmax-channel-axis": (BIAS, "add_bias_and_activate", """
        from .activations import get, softmax
        z, bias, activation, data_format = args
        y = z if bias is None else add_bias(z, bias, data_format)
        if activation == "softmax" and data_format == "channels_first":
            return softmax(y, axis=1)
        return get(activation)(y)
        """, checks.check_add_bias_and_activate, checks.SOFTMAX_CHANNELS),
    "layer-bias-ignored": (BIAS, "add_bias_and_activate", """
        from .activations import get
        z, bias, activation, data_format = args
        return get(activation)(z)
        """, checks.check_add_bias_and_activate, checks.BIAS_IGNORED),
    "compose-flipped": (BIAS, "compose_linear_convs", """
        k1, b1, k2, b2 = args
        return _right_compose_linear_convs(k1, b1, np.asarray(k2)[::-1, ::-1], b2)
        """, checks.check_compose_linear_convs, checks.MERGED_FLIPPED),
    "compose-bias2-only": (BIAS, "compose_linear_convs", """
        k1, b1, k2, b2 = args
        kernel, _ = _right_compose_linear_convs(k1, b1, k2, b2)
        return kernel, np.asarray(b2)
        """, checks.check_compose_linear_convs, checks.MERGED_BIAS_B2),
    "compose-biases-added": (BIAS, "compose_linear_convs", """
        k1, b1, k2, b2 = args
        kernel, _ = _right_compose_linear_convs(k1, b1, k2, b2)
        return kernel, np.asarray(b1) + np.asarray(b2)
        """, checks.check_compose_linear_convs, checks.MERGED_BIAS_ADDED),
}


@pytest.mark.parametrize("name", list(MISCONCEPTIONS))
def test_misconception_is_named(name, tmp_path, monkeypatch, capfd):
    module, function, body, check, misconception = MISCONCEPTIONS[name]
    assert_misconception_named(check, misconception, module, function, body, tmp_path,
                               monkeypatch, capfd)


def test_misconception_ids_are_unique():
    found = [v for v in vars(checks).values() if isinstance(v, checks.Misconception)]
    assert len({m.id for m in found}) == len(found) >= 3


def test_every_misconception_is_tested():
    assert_every_misconception_tested(checks, MISCONCEPTIONS)
