"""Chapter 13's check functions (convbook/checks/fast_path.py): right, wrong and unfinished
convlibs.

* the reference solutions/convlib passes every check, visible and hidden, printing one line
  each and nothing on stderr;
* the generated stubs (convlib/ at the repository root, `python -m convbook.build`) fail
  every check cleanly, saying what is not implemented;
* a fake student convlib holding one known wrong idea (the reference with one function
  patched) fails with feedback naming that misconception (`record.misconception`);
* the Keras oracles agree with plain numpy slicing of the same input (so the checks'
  "Keras's windows" are what the chapter says they are);
* the reference conv.conv2d, built from the three steps, agrees with Keras in both data
  formats, with strides and dilation together, and keeps the cache layout chapter 15 uses.
No check here draws random numbers that a correct answer could fail on: every comparison is
deterministic, so the false-failure rate of a correct solution is 0 (no statistics).
"""
import sys
from pathlib import Path

import numpy as np
import pytest

from check_support import (assert_every_misconception_tested, assert_mistake_named,
                           assert_reference_passes, assert_stubs_fail_cleanly)
from convbook import mistakes
from convbook.checks import fast_path as checks
from convbook.checks.padding import keras_conv

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions"

CHECKS = [
    checks.check_window_view,
    checks.check_strided_dilated_windows,
    checks.check_columns_times_kernel,
]
NAMES = [c.__name__ for c in CHECKS]


@pytest.mark.parametrize("check", CHECKS, ids=NAMES)
def test_reference_passes(check, monkeypatch, capfd):
    assert_reference_passes(check, monkeypatch, capfd)


FIRST_STUB = {
    "check_window_view": "conv.window_view",
    "check_strided_dilated_windows": "conv.strided_dilated_windows",
    "check_columns_times_kernel": "conv.columns_times_kernel",
}


@pytest.mark.parametrize("check", CHECKS, ids=NAMES)
def test_stubs_fail_cleanly(check, monkeypatch, capfd):
    assert_stubs_fail_cleanly(check, FIRST_STUB[check.__name__], monkeypatch, capfd)


# ------------------------------------------------------------------ misconceptions
# The wrong implementations and the check that must name each: the catalogue,
# convbook/mistakes/fast_path.py (a body may call the reference as `_right_<function>`).

MISCONCEPTIONS = mistakes.table("fast_path")


@pytest.mark.parametrize("name", list(MISCONCEPTIONS))
def test_misconception_is_named(name, tmp_path, monkeypatch, capfd):
    assert_mistake_named(MISCONCEPTIONS[name], tmp_path, monkeypatch, capfd)


def test_misconception_ids_are_unique():
    found = [v for v in vars(checks).values() if isinstance(v, checks.Misconception)]
    assert len({m.id for m in found}) == len(found) >= 3


def test_every_misconception_is_tested():
    assert_every_misconception_tested(checks, MISCONCEPTIONS)


# ------------------------------------------------------------------ the oracles themselves

def test_keras_windows_are_plain_slices_of_the_input():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 9, 8, 3)).astype("float32")
    (kh, kw), (dh, dw) = (3, 2), (2, 3)
    windows = checks.keras_windows(x, (kh, kw), (dh, dw))
    positions = windows.shape[1:3]
    assert positions == (9 - 5 + 1, 8 - 4 + 1)
    for a in range(kh):
        for b in range(kw):
            sliced = x[:, a * dh:a * dh + positions[0], b * dw:b * dw + positions[1], :]
            np.testing.assert_allclose(windows[:, :, :, a, b, :], sliced, rtol=1e-6, atol=1e-6)


def test_keras_columns_times_the_kernel_is_keras_conv():
    """The chapter's claim, in numpy on Keras's columns: one product per group is the conv."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 10, 9, 6)).astype("float32")
    kernel = rng.standard_normal((3, 2, 2, 6)).astype("float32")         # 3 groups
    strides, dilation = (2, 1), (1, 2)
    cols = checks.keras_columns(checks.keras_pad(x, (3, 2), strides, "same", dilation),
                                (3, 2), strides, dilation, 3)
    by_hand = np.einsum("nijgabc,abcgf->nijgf", cols, kernel.reshape(3, 2, 2, 3, 2))
    np.testing.assert_allclose(by_hand.reshape(*cols.shape[:3], 6),
                               keras_conv(x, kernel, strides, "same", dilation),
                               rtol=5e-4, atol=1e-4)


# --------------------------------------------- the reference conv2d built from the three steps

@pytest.fixture()
def reference_conv(monkeypatch):
    monkeypatch.syspath_prepend(str(SOLUTIONS))
    for name in [m for m in sys.modules if m == "convlib" or m.startswith("convlib.")]:
        monkeypatch.delitem(sys.modules, name)
    from convlib import conv
    return conv


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_reference_conv2d_agrees_with_keras(reference_conv, data_format):
    rng = np.random.default_rng(13)
    for _ in range(8):
        groups = int(rng.choice([1, 2, 4]))
        kernel_size = tuple(int(v) for v in rng.integers(1, 4, size=2))
        strides = tuple(int(v) for v in rng.integers(1, 3, size=2))
        dilation = tuple(int(v) for v in rng.integers(1, 3, size=2))
        padding = str(rng.choice(["valid", "same"]))
        shape = (2, int(rng.integers(6, 14)), int(rng.integers(6, 14)), 2 * groups)
        x = rng.standard_normal(shape).astype("float32")
        kernel = rng.standard_normal((*kernel_size, 2, 2 * groups)).astype("float32")
        if data_format == "channels_first":
            x = x.transpose(0, 3, 1, 2)
        y, cache = reference_conv.conv2d(x, kernel, strides, padding, dilation, groups,
                                         data_format, return_cache=True)
        np.testing.assert_allclose(
            y, keras_conv(x, kernel, strides, padding, dilation, data_format),
            rtol=5e-4, atol=1e-4)
        assert cache.cols.shape == (*y.shape[:1], *(y.shape[1:3] if data_format ==
                                    "channels_last" else y.shape[2:4]),
                                    groups, *kernel_size, 2)
        assert cache.cols.flags["C_CONTIGUOUS"]


def test_reference_im2col_refuses_a_wrong_shape_clearly(reference_conv, monkeypatch):
    monkeypatch.setattr(reference_conv, "strided_dilated_windows",
                        lambda windows, strides, dilation, groups: windows)
    with pytest.raises(ValueError, match=r"strided_dilated_windows returned columns of shape"):
        reference_conv.conv2d(np.ones((1, 5, 5, 2), "float32"), np.ones((3, 3, 2, 1), "float32"))
