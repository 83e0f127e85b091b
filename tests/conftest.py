"""Shared set-up: the reference convlib (solutions/convlib) is the one under test.

TensorFlow's C++ log lines are silenced before anything imports it; tests that need Keras
import it through the `keras` fixture so that pure-numpy tests start fast.
"""
import os
import sys
import zlib
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
# TensorFlow's CPU Conv2D runs channels_first (NCHW) only through oneDNN.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
# pytest runs two workers on two cores: one BLAS thread each avoids oversubscription, under
# which OpenBLAS's spinning threads slow small matrix products down a hundredfold.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions"
sys.path.insert(0, str(SOLUTIONS))

import convlib  # noqa: E402  (must come after the sys.path change)

if Path(convlib.__file__).resolve().parent != SOLUTIONS / "convlib":
    raise RuntimeError(
        f"tests must run against the reference solutions/convlib, but imported {convlib.__file__}"
    )


@pytest.fixture(scope="session")
def keras():
    import keras as _keras

    if _keras.backend.backend() != "tensorflow":
        raise RuntimeError(f"Keras backend must be tensorflow, got {_keras.backend.backend()}")
    return _keras


@pytest.fixture(scope="session")
def tf():
    import tensorflow as _tf

    return _tf


@pytest.fixture
def rng(request):
    """A numpy Generator seeded from the test's name, so every failure is reproducible."""
    seed = zlib.crc32(request.node.nodeid.encode())  # str hash() changes per process
    return np.random.default_rng(seed)


def require_sound_sandbox(what):
    """Skip, with the reason shown, where autograde refuses this machine's sandbox (no
    bubblewrap and no namespaces): `what` needs grading; the refusal itself is tested in
    test_instructor.py::test_weak_sandbox_* on every machine."""
    from convbook import sandbox

    if sandbox.refusal():
        pytest.skip(f"{what} needs a sound sandbox (bubblewrap, or root with namespaces); "
                    f"this machine offers {sandbox.sandbox_info()['mode']!r}")
