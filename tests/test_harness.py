"""The check harness: student code runs sandboxed in a child process, feedback is clear.

A throw-away "student" package, written to a temporary folder, misbehaves in every way the
design lists (DESIGN.md, "How a check cell grades student code" and "Grading integrity"):
unfinished stubs, exceptions, infinite loops, memory bombs, killing itself, importing
keras, reading the course directory, writing outside its scratch folder, printing, returning
objects that cannot be sent back, shadowing numpy, corrupting the protocol. Each must give a
StudentError with the right message, and the next call in the same session must work.

Most properties are checked in the default sandbox; the file-system properties in every mode
this machine can run (see convbook/sandbox.py): as root "bwrap+uid" (needs bubblewrap),
"ns+uid" and the weak "uid"; as a normal user "bwrap" (needs bubblewrap) and the weak
"limits". Each test asserts what its mode promises; a promise a mode does not make is a skip
whose reason names the mode, and a mode this machine cannot run is a skip naming what is
missing (so `pytest -ra` shows both).
"""
import os
import secrets
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from convbook import harness, sandbox
from convbook.checking import CheckFailure, compare, describe_case
from convbook.harness import StudentError, StudentSession, call_student, locate_convlib

ROOT = Path(__file__).resolve().parents[1]
INFO = harness.sandbox_info()
ROOT_USER = INFO["root"]
DEFAULT_MODE = INFO["mode"]
# Every mode of this privilege level; those the machine cannot run are skipped with the reason.
FS_MODES = sandbox.ROOT_MODES if ROOT_USER else sandbox.USER_MODES
NAMESPACE_MODES = ("bwrap+uid", "ns+uid", "bwrap")     # a private file system
UID_MODES = ("bwrap+uid", "ns+uid", "uid")             # a private uid
SECRET = "TOP SECRET GRADEBOOK " + secrets.token_hex(4)

STUDENT_PADDING = '''
import os
import sys

import numpy as np


def same_padding_amounts(n, k, s=1, d=1):
    out = -(-n // s)
    total = max((out - 1) * s + d * (k - 1) + 1 - n, 0)
    return total // 2, total - total // 2


def identity(x):
    return x


def echo(*args, **kwargs):
    return args, kwargs


def double(x):
    return x * 2


def not_done():
    # YOUR CODE HERE
    raise NotImplementedError()


def helper_stub(x):
    raise NotImplementedError()


def calls_not_done(x):
    return helper_stub(x) + 1


def boom(x):
    return x[5]


def loop():
    while True:
        pass


def fork_and_loop():
    if os.fork() == 0:
        os.setsid()                 # try to escape the process group that gets killed
    while True:
        pass


def alloc_huge():
    return np.ones(10**10)          # 80 GB


def alloc_grow():
    chunks = []
    while True:                     # address space grows; pages are never touched
        chunks.append(np.empty(50 * 2**20, np.uint8))


def kill_self():
    os.kill(os.getpid(), 9)


def segfault():
    import ctypes
    return ctypes.string_at(0)


def exit_process():
    os._exit(3)


def use_keras():
    import keras
    return 1


def use_tf_submodule():
    from tensorflow import keras
    return 1


def use_torch():
    import torch
    return 1


def read_file(path):
    with open(path) as f:
        return f.read()


def write_file(path):
    with open(path, "w") as f:
        f.write("written by student code")
    return os.path.abspath(path)


def write_scratch():
    with open("note.txt", "w") as f:
        f.write("scratch is writable")
    return os.getcwd()


def getenv(name):
    return os.environ.get(name)


def whoami():
    return os.getuid(), os.getgid(), os.getgroups(), os.getcwd()


def visible_pids():
    try:
        return sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
    except OSError:
        return []


def chatty():
    print("hello from stdout")
    sys.stderr.write("warning from stderr\\n")
    os.write(1, b"raw bytes on fd 1")
    os.write(2, b"raw bytes on fd 2\\n")
    return 42


def chatty_fail():
    print("debug print before failing")
    sys.stderr.write("a note on stderr\\n")
    raise ValueError("kernel has the wrong shape")


def unserialisable():
    return object()


def returns_lambda():
    return {"f": lambda: 1}


def object_array():
    return np.array([object(), 1])


def which_numpy():
    import numpy
    return numpy.__file__, type(np.zeros(1)).__module__


def corrupt_protocol():
    for fd in range(3, 64):
        try:
            os.write(fd, b"garbage!" * 64)
        except OSError:
            pass
    return 1


class Counter:
    def __init__(self, start=0):
        self.n = start

    def add(self, k=1):
        self.n += k
        return self.n

    def __call__(self, x):
        return x + self.n
'''

SHADOW = 'raise RuntimeError("a student numpy.py/keras.py was imported")\n'


@pytest.fixture(scope="module")
def student(tmp_path_factory):
    """A submission folder: convlib/ (misbehaving), a numpy.py and keras.py beside it, a
    0700 root-owned 'course directory' with a secret, and a symlink to it inside convlib/."""
    root = tmp_path_factory.mktemp("submission")
    pkg = root / "convlib"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("from . import padding\nVALUE = 3\n")
    (pkg / "padding.py").write_text(STUDENT_PADDING)
    (pkg / "bad_import.py").write_text("import keras\n\n\ndef f():\n    return 1\n")
    (pkg / "syntax_error.py").write_text("def f(:\n    return 1\n")
    (pkg / "numpy.py").write_text(SHADOW)
    (root / "numpy.py").write_text(SHADOW)
    (root / "keras.py").write_text(SHADOW)
    (root / "book").mkdir()
    course = root / "course"
    course.mkdir(mode=0o700)
    os.chmod(course, 0o700)
    (course / "gradebook.txt").write_text(SECRET)
    (pkg / "leak.py").symlink_to(course / "gradebook.txt")
    return root


@pytest.fixture(scope="module")
def session(student):
    with StudentSession(student) as s:
        yield s


@pytest.fixture(scope="module", params=FS_MODES)
def mode_session(request, student):
    try:
        sandbox._check_mode(request.param, INFO)
    except harness.HarnessError as err:
        pytest.skip(f"sandbox mode {request.param!r} cannot run on this machine: {err}")
    with StudentSession(student, sandbox=request.param) as s:
        assert s.call("padding.identity", 0) == 0          # started: s.mode is set
        yield s


def needs_promise(session, modes, promise):
    """Skip (with the reason shown) when the session's mode does not promise `promise`."""
    if session.mode not in modes:
        pytest.skip(f"the {session.mode!r} sandbox does not promise that {promise} "
                    f"(a weak mode: autograde refuses it, see test_weak_modes_are_refused_*)")


def expect_error(session, target, *args, kind, **kwargs):
    with pytest.raises(StudentError) as info:
        session.call(target, *args, **kwargs)
    assert info.value.kind == kind, str(info.value)
    return info.value


# ---------------------------------------------------------------------- calls and messages
def test_correct_function_returns_its_value(session):
    assert session.call("padding.same_padding_amounts", 7, 3, 2, 1) == (1, 1)
    assert session.call("padding.same_padding_amounts", 6, 4, s=1) == (1, 2)


def test_not_implemented_names_the_function_and_file(session):
    err = expect_error(session, "padding.not_done", kind="not_implemented")
    assert str(err) == ("`padding.not_done` is not implemented yet (it still raises "
                        "NotImplementedError). Open convlib/padding.py and write it.")
    err = expect_error(session, "padding.calls_not_done", 1, kind="not_implemented")
    assert "`padding.calls_not_done` calls `padding.helper_stub`, which is not implemented" \
        in str(err)


def test_exception_gives_type_message_and_student_line(session):
    err = expect_error(session, "padding.boom", [1, 2], kind="exception")
    assert err.exc_type == "IndexError"
    assert "IndexError: list index out of range" in str(err)
    assert err.where.startswith("convlib/padding.py, line ")
    assert "in boom: `return x[5]`" in err.where
    assert session.call("padding.identity", 5) == 5          # same child, still fine


def test_missing_module_and_function(session):
    err = expect_error(session, "padding.same_padding_amount", kind="missing")
    assert str(err) == "convlib/padding.py has no function same_padding_amount"
    err = expect_error(session, "nomodule.f", kind="missing")
    assert "convlib/nomodule.py does not exist" in str(err)


def test_syntax_error_points_at_the_line(session):
    err = expect_error(session, "syntax_error.f", kind="exception")
    assert "SyntaxError" in str(err) and "convlib/syntax_error.py, line 1" in str(err)


def test_timeout_stops_an_infinite_loop_and_the_session_recovers(student, mode_session):
    s = mode_session
    timeout, s.timeout = s.timeout, 1
    try:
        assert s.call("padding.identity", 1) == 1
        child = s._res.process.proc.pid
        start = time.monotonic()
        err = expect_error(s, "padding.loop", kind="timeout")
        assert time.monotonic() - start < 10
        assert str(err) == "`padding.loop` took longer than 1 s (infinite loop?) and was stopped."
        assert not Path(f"/proc/{child}").exists()              # killed and reaped
        # a child that forks and leaves the process group is killed as well
        expect_error(s, "padding.fork_and_loop", kind="timeout")
        if s.uid is not None:
            assert harness._live_processes(s.uid) == []
        assert s.call("padding.identity", 2) == 2
    finally:
        s.timeout = timeout


def test_cpu_time_limit_stops_a_busy_child(student):
    # numpy's import already costs a few tenths of a second of the 1 s budget
    with StudentSession(student, timeout=30, cpu_limit=1) as s:
        start = time.monotonic()
        err = expect_error(s, "padding.loop", kind="cpu")
        assert time.monotonic() - start < 25
        assert str(err) == "`padding.loop` used more than 1 s of CPU time and was stopped."
        assert s.call("padding.identity", 3) == 3


@pytest.mark.parametrize("target", ["padding.alloc_huge", "padding.alloc_grow"])
def test_memory_bomb_fails_with_the_limit_and_the_session_recovers(session, target):
    start = time.monotonic()
    err = expect_error(session, target, kind="memory")
    assert time.monotonic() - start < 30
    assert "used more than 2 GiB" in str(err)
    assert session.call("padding.identity", 3) == 3


def test_killed_or_crashed_child_is_reported_and_restarted(session):
    err = expect_error(session, "padding.kill_self", kind="crash")
    assert "the process running your code died (signal 9, SIGKILL)" in str(err)
    err = expect_error(session, "padding.segfault", kind="crash")
    assert "(signal 11, SIGSEGV)" in str(err)
    assert "convlib/padding.py, line" in str(err)             # from faulthandler
    err = expect_error(session, "padding.exit_process", kind="crash")
    assert "exit code 3" in str(err)
    assert session.call("padding.identity", 4) == 4


@pytest.mark.parametrize("target,name", [("padding.use_keras", "keras"),
                                         ("padding.use_tf_submodule", "tensorflow"),
                                         ("padding.use_torch", "torch")])
def test_deep_learning_imports_are_refused(session, target, name):
    err = expect_error(session, target, kind="forbidden_import")
    assert str(err).startswith(f"convlib must be pure numpy: importing {name} is not allowed "
                               f"in the exercises")


def test_import_at_module_level_is_refused_with_its_line(session):
    err = expect_error(session, "bad_import.f", kind="forbidden_import")
    assert "importing keras is not allowed" in str(err)
    assert "convlib/bad_import.py, line 1" in str(err)


def test_real_numpy_is_used_whatever_files_the_student_adds(session):
    path, module = session.call("padding.which_numpy")
    assert "site-packages" in path or "dist-packages" in path
    assert "convlib" not in path and module == "numpy"


def test_unserialisable_results(session):
    err = expect_error(session, "padding.unserialisable", kind="unserialisable")
    assert "`padding.unserialisable` returned an object of type object, which cannot be sent" \
        in str(err)
    err = expect_error(session, "padding.returns_lambda", kind="unserialisable")
    assert "function" in str(err)
    err = expect_error(session, "padding.object_array", kind="unserialisable")
    assert "dtype object" in str(err)
    assert session.call("padding.identity", 5) == 5


def test_protocol_corruption_is_detected_and_recovered(session):
    err = expect_error(session, "padding.corrupt_protocol", kind="protocol")
    assert "garbage" in str(err)
    assert session.call("padding.identity", 6) == 6


def test_prints_never_reach_the_kernel_and_are_kept(session, capfd):
    assert session.call("padding.chatty") == 42
    assert "hello from stdout" in session.last_stdout
    assert "warning from stderr" in session.last_stderr
    err = expect_error(session, "padding.chatty_fail", kind="exception")
    assert "ValueError: kernel has the wrong shape" in str(err)
    assert "a note on stderr" in str(err) and "debug print before failing" in str(err)
    captured = capfd.readouterr()
    assert captured.err == "" and captured.out == ""


def test_objects_stay_in_the_child(session):
    counter = session.new("padding.Counter", 10)
    assert counter.call("add", 5) == 15
    assert counter(np.arange(3)).tolist() == [15, 16, 17]
    assert counter.get("n") == 15
    counter.set("n", 1)
    assert counter.call("add") == 2
    session.restart()
    with pytest.raises(StudentError) as info:
        counter.call("add")
    assert info.value.kind == "lost"


# ------------------------------------------------------------------------------ protocol
def test_arrays_and_values_round_trip_exactly(session):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((2, 3)).astype(dt) for dt in
              ("float16", "float32", "float64", ">f8", "complex64", "complex128")]
    arrays += [rng.integers(-100, 100, (4, 5)).astype(dt) for dt in
               ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")]
    arrays += [np.array([True, False, True]), np.array(3.5, dtype=np.float32),
               np.zeros((0, 3), np.float32), rng.standard_normal((4, 6))[:, ::2].T,
               np.array([np.nan, np.inf, -np.inf, -0.0], np.float32)]
    for arr in arrays:
        back = session.call("padding.identity", arr)
        assert type(back) is np.ndarray and back.dtype == arr.dtype and back.shape == arr.shape
        assert np.array_equal(back, arr, equal_nan=True)
        if arr.dtype.kind in "fc":                  # -0.0 keeps its sign bit
            assert np.array_equal(np.signbit(back.real), np.signbit(arr.real))
    value = (None, True, 2**80, -1.5e-300, "é ✓", [1, (2, 3)], {"a": 1, (1, 2): [None]},
             np.float32(1.25), np.int64(-7), np.bool_(True), 3 + 4j)
    args, kwargs = session.call("padding.echo", *value, key=np.arange(3))
    assert args == value
    assert [type(v) for v in args] == [type(v) for v in value]
    assert args[7].dtype == np.float32 and kwargs["key"].tolist() == [0, 1, 2]


def test_fifty_megabyte_arrays_pass(session):
    x = np.arange(50 * 2**20 // 4, dtype=np.float32)
    y = session.call("padding.double", x)
    assert y.dtype == np.float32 and np.array_equal(y, x * 2)


def test_the_kernel_never_imports_the_student_package(session, student):
    session.call("padding.identity", 1)
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None) or ""
        assert not path.startswith(str(student)), f"{name} imported from {path}"


def test_locate_convlib_and_call_student(student, monkeypatch, tmp_path):
    assert locate_convlib(student) == student
    assert locate_convlib(student / "book") == student
    monkeypatch.chdir(student / "book")        # a notebook in book/, convlib/ one level up
    assert call_student("padding.same_padding_amounts", 5, 2) == (0, 1)
    # the child gets a minimal environment: nothing of the kernel's (tokens, database URLs)
    monkeypatch.setenv("GRADEBOOK_DB_URL", "postgresql://grader:hunter2@db/gradebook")
    assert call_student("padding.getenv", "GRADEBOOK_DB_URL") is None
    with pytest.raises(StudentError) as info:
        locate_convlib(tmp_path)
    assert info.value.kind == "no_convlib" and "convlib/__init__.py" in str(info.value)


# ---------------------------------------------------------------------------- the sandbox
def test_child_runs_in_its_scratch_folder_as_a_private_user(mode_session):
    uid, gid, groups, cwd = mode_session.call("padding.whoami")
    private_fs = mode_session.mode in NAMESPACE_MODES
    assert cwd == (harness.SANDBOX_DIR if private_fs else mode_session._res.process.scratch)
    assert mode_session.call("padding.write_scratch") == cwd
    needs_promise(mode_session, UID_MODES, "student code runs under a uid of its own")
    assert uid != 0 and gid != 0 and groups == [] and uid == mode_session.uid


def test_symlinks_in_convlib_are_not_followed(mode_session):
    # convlib/leak.py -> the secret: not copied into the scratch folder, in every mode
    err = expect_error(mode_session, "leak.anything", kind="missing")
    assert SECRET not in str(err)


def test_child_cannot_read_the_course_directory(mode_session, student):
    needs_promise(mode_session, UID_MODES + NAMESPACE_MODES,
                  "a 0700 course directory is closed to student code")
    err = expect_error(mode_session, "padding.read_file",
                       str(student / "course" / "gradebook.txt"), kind="exception")
    # a private file system: the course directory does not exist; "uid": it is 0700
    assert err.exc_type == ("FileNotFoundError" if mode_session.mode in NAMESPACE_MODES
                            else "PermissionError")
    assert SECRET not in str(err)


def test_child_cannot_write_beside_its_convlib(mode_session, student):
    needs_promise(mode_session, UID_MODES + NAMESPACE_MODES,
                  "student code cannot write into the submission's folder")
    target = student / f"pwned-{secrets.token_hex(4)}.txt"
    expect_error(mode_session, "padding.write_file", str(target), kind="exception")
    assert not target.exists()


def test_child_cannot_write_to_tmp(mode_session):
    needs_promise(mode_session, NAMESPACE_MODES,
                  "world-writable folders such as /tmp are closed to student code")
    outside = Path("/tmp") / f"convbook-test-{secrets.token_hex(4)}"
    expect_error(mode_session, "padding.write_file", str(outside), kind="exception")
    assert not outside.exists()


def test_sandbox_hides_the_repository(mode_session):
    needs_promise(mode_session, sandbox.SOUND_MODES,
                  "world-readable files (the repository's solutions/) are hidden")
    err = expect_error(mode_session, "padding.read_file",
                       str(ROOT / "solutions" / "convlib" / "padding.py"), kind="exception")
    assert err.exc_type == "FileNotFoundError"


def test_sandbox_sees_only_its_own_processes(mode_session):
    needs_promise(mode_session, ("bwrap+uid", "ns+uid", "bwrap"),
                  "other processes (the kernel, other students' children) are invisible")
    pids = mode_session.call("padding.visible_pids")
    assert os.getpid() not in pids and len(pids) <= 3      # itself (and bubblewrap's init)


# ------------------------------------------------------------- weak modes and autograde
WEAK_MODE = "uid" if ROOT_USER else "limits"


def test_weak_modes_are_refused_at_autograde(student, monkeypatch):
    """In every environment: a weak mode (forced here) is refused when nbgrader autogrades,
    with a message naming bubblewrap and the override; the override lets it run."""
    if WEAK_MODE == "uid" and "uid" not in FS_MODES:
        pytest.fail("root always has the 'uid' mode")
    message = sandbox.refusal(dict(INFO, mode=WEAK_MODE))
    assert "bubblewrap" in message and "--allow-unsafe-sandbox" in message
    assert sandbox.refusal(dict(INFO, mode="bwrap+uid")) is None
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    monkeypatch.delenv(sandbox.ALLOW_UNSAFE_ENV, raising=False)
    with StudentSession(student, sandbox=WEAK_MODE) as s:
        with pytest.raises(sandbox.SandboxRefused, match="bubblewrap"):
            s.call("padding.identity", 1)
    monkeypatch.setenv(sandbox.ALLOW_UNSAFE_ENV, "1")
    with StudentSession(student, sandbox=WEAK_MODE) as s:
        assert s.call("padding.identity", 1) == 1
    # a reader's own checks (no NBGRADER_EXECUTION) run in any mode
    monkeypatch.delenv("NBGRADER_EXECUTION")
    monkeypatch.delenv(sandbox.ALLOW_UNSAFE_ENV)
    with StudentSession(student, sandbox=WEAK_MODE) as s:
        assert s.call("padding.identity", 3) == 3


def test_time_budget_covers_all_calls_of_a_check(student):
    with StudentSession(student, timeout=30) as s, harness.time_budget(1.5):
        assert s.call("padding.identity", 1) == 1
        start = time.monotonic()
        err = expect_error(s, "padding.loop", kind="timeout")
        assert time.monotonic() - start < 5
        assert "1.5 s this check allows your code" in str(err)
        err = expect_error(s, "padding.identity", 2, kind="timeout")
        assert "time budget of 1.5 s" in str(err) and "used up" in str(err)


def test_a_function_that_timed_out_is_not_run_again_when_grading(student):
    with StudentSession(student, timeout=1, once_timed_out_skip=True) as s:
        expect_error(s, "padding.loop", kind="timeout")
        start = time.monotonic()
        err = expect_error(s, "padding.loop", kind="timeout")
        assert time.monotonic() - start < 0.5
        assert "not run again" in str(err) and "padding.loop" in str(err)
        assert s.call("padding.identity", 4) == 4           # other functions still run
    with StudentSession(student, timeout=1) as s:           # a reader's session: runs again
        expect_error(s, "padding.loop", kind="timeout")
        err = expect_error(s, "padding.loop", kind="timeout")
        assert "took longer than 1 s" in str(err)


def test_shared_session_and_default_root(student):
    with StudentSession(student) as s, harness.shared_session(s):
        with harness.student_session() as inner:
            assert inner is s
        assert harness.call_student("padding.identity", 5) == 5
        assert s._res.process is not None            # still open: shared, not closed
    with harness.default_root(student):
        with harness.student_session() as fresh:
            assert fresh.call("padding.identity", 6) == 6 and fresh.root == student


def test_a_bad_session_does_not_disturb_another(student):
    with StudentSession(student) as a, StudentSession(student) as b:
        assert a.call("padding.identity", 1) == 1
        if ROOT_USER:
            assert a.uid != b.uid        # each session its own uid: b cannot signal a's child
        expect_error(b, "padding.kill_self", kind="crash")
        assert a.call("padding.identity", 2) == 2


def test_limits_only_mode_still_isolates_the_kernel(student, monkeypatch):
    """The mode of a normal user without bubblewrap (simulated): no uid to drop, but a child
    process with limits, killed with its group, restarted after a crash."""
    monkeypatch.setattr(sandbox, "_is_root", lambda: False)
    monkeypatch.setattr(sandbox, "_mode_cache", {})
    monkeypatch.delenv("CONVBOOK_SANDBOX", raising=False)
    with StudentSession(student, sandbox="limits") as s:
        assert s.call("padding.same_padding_amounts", 4, 3, 2) == (0, 1)
        expect_error(s, "padding.kill_self", kind="crash")
        expect_error(s, "padding.use_keras", kind="forbidden_import")
        assert s.call("padding.identity", 7) == 7


def test_interrupting_a_call_restarts_the_child(session, monkeypatch):
    calls = []

    def interrupted(*args, **kwargs):
        calls.append(1)
        raise KeyboardInterrupt
    before = session.generation
    monkeypatch.setattr(harness._Process, "read_frame", interrupted)
    with pytest.raises(KeyboardInterrupt):
        session.call("padding.identity", 1)
    monkeypatch.undo()
    assert calls and session.generation == before + 1
    assert session.call("padding.identity", 2) == 2     # no stale answer from the first call


# ------------------------------------------------------------------------------ checking
def test_compare_names_case_largest_error_and_misconception():
    expected = np.arange(12, dtype=np.float32).reshape(3, 4)
    wrong_side = np.roll(expected, 1, axis=1)
    actual = wrong_side.copy()
    case = describe_case(x=np.zeros((1, 3, 4, 1), np.float32), kernel_size=3, padding="same")
    assert case == "x=<float32 array of shape (1, 3, 4, 1)>, kernel_size=3, padding='same'"
    sentence = "You padded on the top/left: Keras puts the extra pixel at the bottom/right."
    with pytest.raises(CheckFailure) as info:
        compare(actual, expected, case, misconceptions={"Unrelated.": expected + 5,
                                                        sentence: wrong_side})
    text = str(info.value)
    assert text.startswith(case + ": ")
    assert "12 of 12 values differ" in text
    assert "the largest error is 3 at index (0, 0): you have 3, Keras has 0" in text
    assert text.endswith("\n" + sentence) and "Unrelated" not in text
    compare(expected + 1e-6, expected, case)                       # within tolerance
    with pytest.raises(CheckFailure, match=r"shape \(4, 3\), but Keras's has shape \(3, 4\)"):
        compare(expected.T, expected, case)
    with pytest.raises(CheckFailure, match="returned None"):
        compare(None, expected, case)
    with pytest.raises(CheckFailure, match="returned a str"):
        compare("12", expected, case)
    bad = expected.copy()
    bad[1, 2] = np.nan
    with pytest.raises(CheckFailure, match=r"contains NaN at index \(1, 2\)"):
        compare(bad, expected, case)
    with pytest.raises(CheckFailure, match="must match exactly"):
        compare((1, 2), np.array([1, 3]), "n=5")


def test_nothing_reaches_stderr_from_checks_or_the_oracle(student):
    """In a fresh process (so TensorFlow really is imported here): Keras through the oracle,
    a passing and a failing compare, and student code that prints to both streams."""
    script = textwrap.dedent(f"""
        import numpy as np
        from convbook import checking, oracle
        from convbook.harness import StudentSession, StudentError
        keras = oracle.keras()
        x = np.random.default_rng(0).standard_normal((1, 6, 6, 2)).astype("float32")
        layer = keras.layers.Conv2D(4, 3, groups=2, padding="same")
        y = keras.ops.convert_to_numpy(layer(x))
        checking.compare(y, y, "case A")
        failed = False
        try:
            checking.compare(y + 1, y, "case B")
        except checking.CheckFailure:
            failed = True
        assert failed, "compare accepted an answer off by 1"
        checking.passed("conv2d", 2)
        with StudentSession({str(student)!r}) as s:
            assert s.call("padding.chatty") == 42
            failed = False
            try:
                s.call("padding.chatty_fail")
            except StudentError:
                failed = True
            assert failed, "chatty_fail did not fail"
        assert oracle.tf().__name__ == "tensorflow"
        print("finished")
    """)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "KERAS_"))}
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=env, cwd=str(student / "book"), timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout.splitlines() == ["✓ conv2d: 2 cases agree with Keras.", "finished"]
