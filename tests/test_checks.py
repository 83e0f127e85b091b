"""The chapters' check functions (convbook/checks/): right, wrong and unfinished convlibs.

For every check function:
* the reference solutions/convlib passes it, visible and hidden cases, printing one line and
  nothing on stderr;
* the generated stubs (convlib/ at the repo root, `make build`) fail it with a CheckFailure
  that says what is not implemented, and nothing on stderr;
* a fake student convlib holding one known wrong idea (a copy of the reference with one
  function patched) fails it with feedback that names that misconception.

The check functions run here in the pytest process, as in a notebook kernel; the student's
convlib is found by the harness in the current directory, so each test chdirs to a folder
holding the convlib under test.
"""
from pathlib import Path

import numpy as np
import pytest

from check_support import (assert_mistake_named, assert_reference_passes,
                           assert_stubs_fail_cleanly)
from convbook import mistakes
from convbook.checks import basics, padding

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions"

CHECKS = [
    basics.check_correlate2d,
    basics.check_conv2d_valid,
    padding.check_same_padding_amounts,
    padding.check_pad_spatial,
    padding.check_padding_amounts,
]
NAMES = [c.__name__ for c in CHECKS]


@pytest.mark.parametrize("check", CHECKS, ids=NAMES)
def test_reference_passes(check, monkeypatch, capfd):
    assert_reference_passes(check, monkeypatch, capfd)


# The function whose stub each check meets first.
FIRST_STUB = {
    "check_correlate2d": "correlate.correlate2d",
    "check_conv2d_valid": "correlate.conv2d_valid",
    "check_same_padding_amounts": "padding.same_padding_amounts",
    "check_pad_spatial": "padding.pad_spatial",
    "check_padding_amounts": "padding.padding_amounts",
}


@pytest.mark.parametrize("check", CHECKS, ids=NAMES)
def test_stubs_fail_cleanly(check, monkeypatch, capfd):
    assert_stubs_fail_cleanly(check, FIRST_STUB[check.__name__], monkeypatch, capfd)


# ------------------------------------------------------------------ misconceptions
# The wrong implementations (one function of a copy of the reference redefined) and the check
# that must name each: the catalogue, convbook/mistakes/basics.py and padding.py. A wrong
# same_padding_amounts is named by its own check and by the end-to-end one.

MISCONCEPTIONS = {**mistakes.table("basics"), **mistakes.table("padding")}


@pytest.mark.parametrize("name", list(MISCONCEPTIONS))
def test_misconception_is_named(name, tmp_path, monkeypatch, capfd):
    assert_mistake_named(MISCONCEPTIONS[name], tmp_path, monkeypatch, capfd)


# ------------------------------------------------------------------ the oracles themselves

def test_keras_same_padding_oracle_matches_public_same_conv(keras, rng):
    """check_same_padding_amounts reads Keras's amounts from a private helper of its
    TensorFlow backend; prove that those amounts, applied by hand before a "valid" conv,
    give exactly Keras's public padding="same" result (strides and dilation separately, as
    Conv2D allows), and the depthwise strides-with-dilation result for the combination."""
    for _ in range(40):
        k = (int(rng.integers(1, 6)), int(rng.integers(1, 6)))
        strides, dilation = (1, 1), (1, 1)
        kind = rng.integers(3)
        if kind == 0:
            strides = (int(rng.integers(1, 5)), int(rng.integers(1, 5)))
        elif kind == 1:
            dilation = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
        else:
            strides = (int(rng.integers(2, 4)), int(rng.integers(2, 4)))
            dilation = (int(rng.integers(2, 4)), int(rng.integers(2, 4)))
        n = (int(rng.integers(1, 20)), int(rng.integers(1, 20)))
        x = rng.standard_normal((2,) + n + (3,)).astype(np.float32)
        pads = [padding.keras_same_padding(*a) for a in zip(n, k, strides, dilation)]
        padded = np.pad(x, [(0, 0)] + pads + [(0, 0)])
        if kind < 2:
            kernel = rng.standard_normal(k + (3, 2)).astype(np.float32)
            op = keras.ops.conv
        else:
            kernel = rng.standard_normal(k + (3, 1)).astype(np.float32)
            op = keras.ops.depthwise_conv
        same = op(x, kernel, strides, "same", dilation_rate=dilation)
        by_hand = op(padded, kernel, strides, "valid", dilation_rate=dilation)
        np.testing.assert_array_equal(np.asarray(same), np.asarray(by_hand),
                                      err_msg=f"n={n} k={k} s={strides} d={dilation}")


def test_tensorflow_onednn_strided_conv_bug_and_the_checks_way_around_it(keras):
    """Pinned TensorFlow 2.21 bug (oneDNN on, as channels_first needs on CPU): strided and
    fused-"same" convolutions return uninitialised memory on some small shapes. The checks'
    reference (`padding.keras_conv`: Keras's explicit "same" padding, a stride-1 "valid" conv,
    then every s-th output) agrees with a float64 numpy correlation on every case here. When
    TensorFlow is fixed, the last assert fails: the workaround may then go."""
    import os

    assert os.environ.get("TF_ENABLE_ONEDNN_OPTS") == "1"
    rng = np.random.default_rng(5)
    fused_wrong = 0
    for case in range(120):
        h, w = (int(v) for v in rng.integers(1, 7, size=2))
        kh, kw = int(rng.integers(1, 4)), int(rng.integers(1, 5))
        strides = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
        pad = "same" if case % 2 else "valid"
        if pad == "valid" and (kh > h or kw > w):
            continue
        c, f = 1 + case % 3 // 2, 1 + case % 5 // 2         # one channel: where TF goes wrong
        x = rng.standard_normal((2, h, w, c)).astype(np.float32)
        kernel = rng.standard_normal((kh, kw, c, f)).astype(np.float32)
        pads = [(0, 0), (0, 0)] if pad == "valid" else [
            padding.keras_same_padding(n, k, s) for n, k, s in zip((h, w), (kh, kw), strides)]
        xp = np.pad(x.astype(np.float64), [(0, 0), *pads, (0, 0)])
        windows = np.lib.stride_tricks.sliding_window_view(xp, (kh, kw), axis=(1, 2))
        numpy_ref = np.einsum("nijcab,abcf->nijf", windows, kernel)[:, ::strides[0], ::strides[1]]
        ours = padding.keras_conv(x, kernel, strides, pad)
        np.testing.assert_allclose(ours, numpy_ref, rtol=1e-5, atol=1e-5,
                                   err_msg=f"{(h, w)} {(kh, kw)} {strides} {pad}")
        fused = np.asarray(keras.ops.conv(x, kernel, strides=strides, padding=pad))
        fused_wrong += fused.shape != numpy_ref.shape or not np.allclose(
            fused, numpy_ref, rtol=1e-3, atol=1e-3)
    assert fused_wrong > 0, "TensorFlow's strided conv is right now: drop the workaround"
