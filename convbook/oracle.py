"""Keras and TensorFlow, imported quietly: the oracle the check cells compare with.

    from convbook import oracle
    keras = oracle.keras()      # Keras 3 on the TensorFlow backend
    tf = oracle.tf()

nbgrader scores a test cell that writes anything to stderr as 0, and importing TensorFlow
normally logs to stderr (C++ start-up lines, oneDNN / CPU-feature notices, absl warnings,
Python DeprecationWarnings). So, before the first import: TF_CPP_MIN_LOG_LEVEL=3 (C++ and
XLA logs: errors only), KERAS_BACKEND=tensorflow; during it: Python warnings ignored and
file descriptor 2 pointed at /dev/null (so even a C++ line printed before logging is set
up cannot reach the cell); after it: the "tensorflow" and absl Python loggers at ERROR.
These are the kernel's own imports: student code never sees Keras (it runs in the
sandboxed child of `convbook.harness`, where importing keras fails).
"""
import contextlib
import importlib
import logging
import os
import sys
import threading
import warnings

_lock = threading.Lock()


def _quiet_environment():
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("ABSL_MIN_LOG_LEVEL", "3")
    # TensorFlow's CPU Conv2D runs channels_first (NCHW) only through oneDNN.
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")


@contextlib.contextmanager
def _stderr_silenced():
    """fd 2 and sys.stderr to /dev/null for the duration (imports only, never user code)."""
    try:
        sys.stderr.flush()
    except (AttributeError, ValueError, OSError):
        pass
    saved_fd = None
    try:
        saved_fd = os.dup(2)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
    except OSError:
        saved_fd = None
    saved_stream = sys.stderr
    sys.stderr = open(os.devnull, "w")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        sys.stderr.close()
        sys.stderr = saved_stream
        if saved_fd is not None:
            os.dup2(saved_fd, 2)
            os.close(saved_fd)


def _quiet_loggers():
    for name in ("tensorflow", "absl", "keras", "h5py", "jax"):
        logging.getLogger(name).setLevel(logging.ERROR)
    absl_logging = sys.modules.get("absl.logging")
    if absl_logging is not None:
        try:
            absl_logging.set_verbosity(absl_logging.ERROR)
            absl_logging.set_stderrthreshold("error")
            absl_logging._warn_preinit_stderr = False  # "logging before flag parsing" notice
        except Exception:  # noqa: BLE001 -- best effort on an absl we do not know
            pass


def _import(name):
    with _lock:
        if name in sys.modules:
            module = sys.modules[name]
        else:
            _quiet_environment()
            with _stderr_silenced():
                module = importlib.import_module(name)
                if name == "keras":
                    importlib.import_module("tensorflow")   # load the backend now, quietly
        _quiet_loggers()
    return module


def tf():
    """The tensorflow module, imported without any output on stderr."""
    return _import("tensorflow")


def keras():
    """The keras module (TensorFlow backend), imported without any output on stderr."""
    module = _import("keras")
    backend = module.backend.backend()
    if backend != "tensorflow":
        raise RuntimeError(f"the checks compare with Keras on the TensorFlow backend, but "
                           f"KERAS_BACKEND selects {backend!r}; unset KERAS_BACKEND")
    return module
