"""Run the student's convlib in a sandboxed child process, never in the notebook kernel.

    from convbook.harness import StudentSession, StudentError, call_student, locate_convlib
    call_student("padding.same_padding_amounts", 7, 3, 2, 1)     # one call, fresh child
    with StudentSession() as s:                                  # many calls, one child
        y = s.call("conv.conv2d", x, kernel, strides=2, padding="same")
        layer = s.new("layer.Conv2D", 8, 3)                      # an object kept in the child
        y = layer(x); w = layer.get("kernel"); layer.call("build", x.shape)

Every failure of student code becomes `StudentError(message)`: a short text a student can act
on, with `.kind` ("not_implemented", "exception", "missing", "forbidden_import", "timeout",
"memory", "cpu", "crash", "unserialisable", "protocol", "lost", "no_convlib", "too_large"),
`.target`, and for exceptions `.exc_type`, `.exc_message`, `.where` (file, line, source).
`HarnessError` (a RuntimeError) means the sandbox itself could not run: not the student's
fault, so checks should let it propagate.

How the child is isolated depends on the machine: `convbook.sandbox` chooses the mode
("bwrap+uid", "ns+uid", "bwrap" are sound; "uid" and "limits" are weak, and autograde refuses
them unless the instructor overrides) and builds its pieces.

In every mode: the child is `python -I -B` with a minimal environment (no tokens or database
URLs from the kernel's environment), in its own session/process group, with RLIMIT_AS
(memory, default 2 GiB), RLIMIT_CPU, RLIMIT_FSIZE, RLIMIT_NOFILE (and RLIMIT_NPROC for a
private uid), no core dumps, no-new-privileges; the kernel enforces the wall-clock timeout
(default 10 s, shortened by a check's time budget, see `time_budget`) and kills the whole
process group. The child works on a COPY of convlib/ (regular .py files only, symlinks
ignored, size-capped) in a fresh scratch folder.
"""
import contextlib
import contextvars
import functools
import json
import os
import re
import select
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from pathlib import Path

import numpy as np

from convbook import wire
from convbook.sandbox import (BLOCKED_MODULES, PREIMPORT_WHEN_HIDDEN, ROOT_MODES, SANDBOX_DIR,  # noqa: F401
                              HarnessError, SandboxRefused, _accessible_to_others, _allocate_uid,
                              _bwrap_args, _check_mode, _kill_uid_processes, _live_processes,
                              _python_paths, namespace_config, require_sound_for_grading,
                              sandbox_info)

__all__ = ["StudentSession", "StudentObject", "StudentError", "HarnessError", "call_student",
           "locate_convlib", "sandbox_info", "time_budget", "shared_session", "default_root"]

KiB, MiB, GiB = 1 << 10, 1 << 20, 1 << 30
DEFAULT_TIMEOUT = 10.0
DEFAULT_MEMORY = 2 * GiB
DEFAULT_CPU = 120            # seconds of CPU per child process (a session restarts it early)
DEFAULT_FILE_SIZE = 64 * MiB
STARTUP_TIMEOUT = 60.0       # python + numpy on a loaded 2-core machine: ~1 s; a hang = bug
MAX_FILE_BYTES = 2 * MiB     # one .py file of the student's convlib
MAX_TOTAL_BYTES = 16 * MiB
MAX_FILES = 1000
class StudentError(Exception):
    """Student code failed; str(err) is the feedback. See the module docstring for .kind."""

    def __init__(self, message, kind="exception", target=None, **details):
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.target = target
        self.exc_type = details.get("exc_type")
        self.exc_message = details.get("exc_message")
        self.where = details.get("where")
        self.traceback = details.get("traceback") or ""
        self.stdout = details.get("stdout") or ""
        self.stderr = details.get("stderr") or ""


# ------------------------------------------------------------------------- finding convlib
def locate_convlib(start=None):
    """The folder that CONTAINS convlib/__init__.py: `start` (default: cwd), else its parent.

    In a release or submission folder convlib/ sits beside the notebooks; in the repository
    the notebooks are in book/ and the package at the root."""
    start = Path(start if start is not None else os.getcwd()).absolute()
    tried = [start, start.parent]
    for folder in tried:
        if (folder / "convlib" / "__init__.py").is_file():
            return folder
    raise StudentError(
        "could not find your convlib package: looked for convlib/__init__.py in "
        + " and in ".join(str(p) for p in tried) + ".", kind="no_convlib")

# ---------------------------------------------------------------------- the scratch folder
def _rmtree(path):
    def retry(func, p, _exc):
        try:
            os.chmod(os.path.dirname(p), 0o700)
            func(p)
        except OSError:
            pass

    if sys.version_info >= (3, 12):
        shutil.rmtree(path, onexc=retry)
    else:
        shutil.rmtree(path, onerror=retry)


def _copy_package(src, dest, uid, gid):
    """Copy the regular .py files of convlib/ (recursively), never following a symlink."""
    try:
        st = os.lstat(src)
    except OSError:
        raise StudentError(f"could not find your convlib package at {src}.",
                           kind="no_convlib") from None
    if not stat.S_ISDIR(st.st_mode):
        raise StudentError(f"{src} is not a folder (a symbolic link?): convlib/ must be a "
                           f"real folder of .py files.", kind="no_convlib")
    total = files = 0
    todo = [(src, dest, 0)]
    while todo:
        s, d, depth = todo.pop()
        os.mkdir(d, 0o700)
        with os.scandir(s) as entries:
            for entry in entries:
                if entry.is_symlink():
                    continue
                if entry.is_dir(follow_symlinks=False):
                    if depth < 8 and entry.name.isidentifier():
                        todo.append((entry.path, os.path.join(d, entry.name), depth + 1))
                    continue
                if not (entry.name.endswith(".py") and entry.is_file(follow_symlinks=False)):
                    continue
                fd = os.open(entry.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
                try:
                    if not stat.S_ISREG(os.fstat(fd).st_mode):
                        continue
                    data = os.read(fd, MAX_FILE_BYTES + 1)
                finally:
                    os.close(fd)
                total += len(data)
                files += 1
                if len(data) > MAX_FILE_BYTES or total > MAX_TOTAL_BYTES or files > MAX_FILES:
                    raise StudentError(
                        f"your convlib/ is too large to check (at most {MAX_FILES} .py files, "
                        f"{MAX_FILE_BYTES // MiB} MiB each, {MAX_TOTAL_BYTES // MiB} MiB in "
                        f"all).", kind="too_large")
                out = os.open(os.path.join(d, entry.name),
                              os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(out, "wb") as f:
                    f.write(data)
    if uid is not None:
        for dirpath, dirnames, filenames in os.walk(dest):
            os.chown(dirpath, uid, gid, follow_symlinks=False)
            for name in filenames:
                os.chown(os.path.join(dirpath, name), uid, gid, follow_symlinks=False)


# -------------------------------------------------------------------------- text helpers
def _fmt_bytes(n):
    for unit, size in (("GiB", GiB), ("MiB", MiB), ("KiB", KiB)):
        if n >= size:
            v = n / size
            return f"{v:.0f} {unit}" if v == int(v) else f"{v:.1f} {unit}"
    return f"{n} bytes"


def _fmt_seconds(s):
    return f"{s:g} s"


def _tail(text, limit=600):
    text = text.strip()
    return text if len(text) <= limit else "..." + text[-limit:]


def _with_output(message, stdout, stderr):
    if stderr and stderr.strip():
        message += "\nYour code wrote to stderr:\n" + _tail(stderr)
    if stdout and stdout.strip():
        message += "\nYour code printed:\n" + _tail(stdout)
    return message


def _signal_name(sig):
    try:
        return signal.Signals(sig).name
    except ValueError:
        return f"signal {sig}"


class _Timeout(Exception):
    pass


class _Gone(Exception):
    pass


# ------------------------------------------------------------------------ one child process
class _Process:
    """A started child: the Popen, its pipes, its scratch folder, its stderr file."""

    def __init__(self, session):
        self.session = session
        self.proc = None
        self.scratch = None
        self.ns_root = None
        self.stderr = None
        self.pid = None

    def start(self):
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self):
        s = self.session
        self.scratch = tempfile.mkdtemp(prefix="convbook-sandbox-")
        _copy_package(str(s.root / "convlib"), os.path.join(self.scratch, "convlib"),
                      s.uid, s.gid)
        if s.uid is not None:
            os.chown(self.scratch, s.uid, s.gid)
        os.chmod(self.scratch, 0o700)
        bwrap = s.mode.startswith("bwrap")
        namespaces = None
        if s.mode == "ns+uid":
            # an empty mount point; the child mounts its private root file system on it
            self.ns_root = tempfile.mkdtemp(prefix="convbook-root-")
            namespaces = namespace_config(self.ns_root, self.scratch)
        inside = SANDBOX_DIR if bwrap or namespaces else self.scratch
        limits = {"as": s.memory_limit, "as_text": _fmt_bytes(s.memory_limit),
                  "cpu": s.cpu_limit, "fsize": s.file_size_limit, "nofile": 256,
                  "nproc": 64 if s.uid is not None else None}
        preimport = []
        if s.mode == "uid" and not all(_accessible_to_others(p) for p in _python_paths()):
            preimport = list(PREIMPORT_WHEN_HIDDEN)
        config = {"scratch": inside, "uid": s.uid, "gid": s.gid, "limits": limits,
                  "blocked": list(BLOCKED_MODULES), "preimport": preimport,
                  "no_new_privs": not bwrap, "namespaces": namespaces,
                  "parent_pid": None if bwrap else os.getpid(), "wire": _wire_source()}
        argv = [os.path.abspath(sys.executable), "-I", "-B", "-c", child_source(),
                json.dumps(config)]
        if bwrap:
            argv = _bwrap_args(s.bwrap, s.uid is not None, self.scratch) + ["--"] + argv
        threads = str(min(4, os.cpu_count() or 1))
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": inside, "TMPDIR": inside,
               "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "OPENBLAS_NUM_THREADS": threads,
               "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads}
        self.stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr,
            env=env, cwd=self.scratch, start_new_session=True, close_fds=True)
        for f in (self.proc.stdin, self.proc.stdout):
            os.set_blocking(f.fileno(), False)
            try:
                import fcntl

                fcntl.fcntl(f.fileno(), fcntl.F_SETPIPE_SZ, 1 << 20)   # fewer wake-ups
            except (ImportError, AttributeError, OSError):
                pass
        self.poll_in = select.poll()
        self.poll_in.register(self.proc.stdout.fileno(), select.POLLIN)
        self.poll_out = select.poll()
        self.poll_out.register(self.proc.stdin.fileno(), select.POLLOUT)
        try:
            hello = wire.decode(self.read_frame(time.monotonic() + STARTUP_TIMEOUT, 1 << 20))
            ok = hello.get("ready") is True
        except (_Timeout, _Gone, wire.ProtocolError) as err:
            ok, hello = False, err
        if not ok:
            detail = self.stderr_tail(2000) or str(hello)
            raise HarnessError(
                f"the sandbox for student code ({s.mode}) did not start: {detail}")
        self.pid = hello.get("pid")

    # ---- pipes
    def write(self, chunks, deadline):
        fd = self.proc.stdin.fileno()
        for chunk in chunks:
            view = memoryview(chunk).cast("B")
            while view:
                try:
                    n = os.write(fd, view)
                except BlockingIOError:
                    n = 0
                except (BrokenPipeError, ConnectionResetError):
                    raise _Gone from None
                view = view[n:]
                if view:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise _Timeout
                    self.poll_out.poll(min(left, 1.0) * 1000)

    def read_into(self, buf, deadline):
        fd = self.proc.stdout.fileno()
        view = memoryview(buf)
        got = 0
        while got < len(buf):
            try:
                n = os.readv(fd, [view[got:]])
            except BlockingIOError:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise _Timeout from None
                self.poll_in.poll(min(left, 1.0) * 1000)
                continue
            if n == 0:
                raise _Gone
            got += n

    def read_frame(self, deadline, max_payload):
        header = bytearray(wire.FRAME_HEADER.size)
        self.read_into(header, deadline)
        # np.empty: not zero-filled (a bytearray would write every page twice)
        payload = np.empty(wire.parse_frame_header(bytes(header), max_payload), np.uint8)
        self.read_into(payload, deadline)
        return payload

    def stderr_size(self):
        try:
            return os.fstat(self.stderr.fileno()).st_size
        except (OSError, AttributeError, ValueError):
            return 0

    def stderr_tail(self, limit=600, since=0):
        try:
            size = self.stderr_size()
            start = max(since, size - limit)
            return os.pread(self.stderr.fileno(), size - start, start).decode(
                errors="replace").strip()
        except (OSError, AttributeError, ValueError):
            return ""

    def exit_status(self, wait):
        """(signal or None, exit code or None) once the child has ended, else (None, None)."""
        try:
            rc = self.proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            return None, None
        if rc < 0:
            return -rc, None
        if self.session.mode.startswith("bwrap") and rc > 128:
            return rc - 128, None          # bubblewrap reports a signal as 128 + signal
        return None, rc

    def stop(self):
        """Kill the whole process group (and the sandbox uid), remove the scratch folder."""
        proc, self.proc = self.proc, None
        if proc is not None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            for f in (proc.stdin, proc.stdout):
                try:
                    f.close()
                except OSError:
                    pass
        if self.session.uid is not None:
            _kill_uid_processes(self.session.uid)
        if self.stderr is not None:
            self.stderr.close()
            self.stderr = None
        if self.scratch is not None:
            _rmtree(self.scratch)
            self.scratch = None
        if self.ns_root is not None:
            try:
                os.rmdir(self.ns_root)      # the mount lived in the child's namespace only
            except OSError:
                pass
            self.ns_root = None


@functools.lru_cache(maxsize=None)
def child_source():
    """The text the child runs (`python -c`): convbook/_child.py."""
    return Path(__file__).with_name("_child.py").read_text(encoding="utf-8")


@functools.lru_cache(maxsize=None)
def _wire_source():
    return Path(wire.__file__).read_text(encoding="utf-8")


# ---------------------------------------------------------------------------- the session
class _Resources:
    """What a session owns, released by close() or when the session is garbage collected."""

    def __init__(self):
        self.process = None
        self.uid_lock = None

    def close(self):
        if self.process is not None:
            self.process.stop()
            self.process = None
        if self.uid_lock is not None:
            os.close(self.uid_lock)
            self.uid_lock = None


class StudentSession:
    """One sandboxed child process serving many calls; restarted after a timeout or crash.

    Args:
        root: the folder containing convlib/ (default: `locate_convlib()`).
        timeout: wall-clock seconds per call. memory_limit: bytes of address space.
        cpu_limit: CPU seconds per child process. file_size_limit: largest file it may write.
        sandbox: one of MODES (default: `sandbox_info()["mode"]`).
    """

    def __init__(self, root=None, *, timeout=DEFAULT_TIMEOUT, memory_limit=DEFAULT_MEMORY,
                 cpu_limit=DEFAULT_CPU, file_size_limit=DEFAULT_FILE_SIZE, sandbox=None,
                 once_timed_out_skip=False):
        self._root_arg = root
        # Grading: a function that ran past its limit once is not run again in this session
        # (an endless loop costs one timeout per submission, not one per check).
        self.once_timed_out_skip = once_timed_out_skip
        self.timed_out = {}         # target -> label of the call that timed out
        self.root = None
        self.timeout = float(timeout)
        self.memory_limit = int(memory_limit)
        self.cpu_limit = int(cpu_limit)
        self.file_size_limit = int(file_size_limit)
        self._sandbox_arg = sandbox
        self.mode = None
        self.bwrap = None
        self.uid = self.gid = None
        self.generation = 0
        self._restart_due = False
        self._handles = 0           # StudentObjects handed out by the current child
        self.last_stdout = self.last_stderr = ""
        self.busy_seconds = 0.0     # time spent starting the child and waiting for answers
        self._lock = threading.RLock()
        self._res = _Resources()
        self._closed = False
        self._finalizer = weakref.finalize(self, self._res.close)

    # ---- life cycle
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        with self._lock:
            self._closed = True
            self._finalizer()

    def restart(self):
        """Stop the child; the next call starts a fresh one (objects from `new` are lost)."""
        with self._lock:
            if self._res.process is not None:
                self._res.process.stop()
                self._res.process = None
                self.generation += 1
            self._restart_due = False
            self._handles = 0

    def _process(self):
        if self._closed:
            raise RuntimeError("this StudentSession is closed")
        if self._res.process is not None and self._restart_due and not self._handles:
            self.restart()      # a fresh child with a fresh CPU budget (no objects to lose)
        if self._res.process is not None:
            return self._res.process
        if self.root is None:
            root = self._root_arg if self._root_arg is not None else _default_root.get()
            root = Path(root) if root is not None else locate_convlib()
            if root.name == "convlib" and (root / "__init__.py").is_file():
                root = root.parent
            self.root = root.absolute()
        if self.mode is None:
            info = sandbox_info()
            self.mode = (_check_mode(self._sandbox_arg, info) if self._sandbox_arg
                         else info["mode"])
            self.bwrap = info["bwrap"]
            require_sound_for_grading(dict(info, mode=self.mode))
        if self.mode in ROOT_MODES and self.uid is None:
            self.uid, self._res.uid_lock = _allocate_uid()
            self.gid = self.uid
        process = _Process(self)
        process.start()
        self._res.process = process
        return process

    # ---- calls
    def call(self, target, /, *args, **kwargs):
        """`convlib.<target>(*args, **kwargs)` in the child; returns its (copied) result."""
        return self._request({"op": "call", "target": target, "args": list(args),
                              "kwargs": kwargs, "label": target}, target)

    def new(self, target, /, *args, **kwargs):
        """Like `call`, but the result stays in the child: a `StudentObject` handle."""
        return self._request({"op": "call", "target": target, "args": list(args),
                              "kwargs": kwargs, "label": target, "keep": True},
                             f"{target}(...)")

    def _ref_of(self, obj):
        if isinstance(obj, StudentObject):
            self._check_alive(obj)
            return obj._ref
        return None

    def _check_alive(self, obj):
        if obj._session is not self or obj._generation != self.generation \
                or self._res.process is None:
            raise StudentError(
                f"`{obj.label}` no longer exists: the process running your code was restarted "
                f"(after a timeout, crash or memory error) since it was created.",
                kind="lost", target=obj.label)

    def _request(self, message, label, obj=None):
        start = time.monotonic()
        try:
            return self._request_timed(message, label, obj)
        finally:
            self.busy_seconds += time.monotonic() - start

    def _request_timed(self, message, label, obj=None):
        target = message.get("target")
        if self.once_timed_out_skip and target in self.timed_out:
            raise StudentError(
                f"`{message['label']}` was not run: it ran past its time limit earlier in this "
                f"grading ({self.timed_out[target]}), and a function that does not finish "
                f"once is not run again.", kind="timeout", target=message["label"])
        with self._lock:
            process = self._process()
            if obj is not None:
                self._check_alive(obj)
            try:
                chunks, _ = wire.encode(message, ref_of=self._ref_of)
            except wire.Unserialisable as err:
                raise TypeError(f"cannot send {err} to the student's code") from None
            stderr_mark = process.stderr_size()
            timeout, budget = self.timeout, _deadline.get()
            if budget is not None:
                timeout = min(timeout, budget[0] - time.monotonic())
                if timeout <= 0:
                    raise StudentError(
                        f"`{message['label']}` was not run: this check's time budget of "
                        f"{_fmt_seconds(budget[1])} for your code is used up (slow or looping "
                        f"code earlier in the check).", kind="timeout", target=message["label"])
            try:
                process.write(chunks, time.monotonic() + max(30.0, timeout))
                payload = process.read_frame(time.monotonic() + timeout,
                                             self.memory_limit + 64 * MiB)
                resp = wire.decode(payload)
                if not isinstance(resp.get("ok"), bool):
                    raise wire.ProtocolError("no 'ok' in the response")
            except _Timeout:
                self.restart()
                if target:
                    self.timed_out.setdefault(target, message["label"])
                limit = (f"the {_fmt_seconds(budget[1])} this check allows your code"
                         if timeout < self.timeout else _fmt_seconds(self.timeout))
                raise StudentError(
                    f"`{message['label']}` took longer than {limit} (infinite loop?) and was "
                    f"stopped.", kind="timeout", target=message["label"]) from None
            except _Gone:
                raise self._died(process, message["label"], stderr_mark) from None
            except wire.ProtocolError as err:
                self.restart()
                raise StudentError(
                    f"the process running `{message['label']}` sent back garbage ({err}); "
                    f"did your code write to a file descriptor it does not own?",
                    kind="protocol", target=message["label"]) from None
            except BaseException:
                # e.g. KeyboardInterrupt (the kernel was interrupted) in the middle of a
                # call: the child's answer would arrive later and be taken for the next one's
                self.restart()
                raise
            out = resp.get("stdout") if isinstance(resp.get("stdout"), str) else ""
            err = resp.get("stderr") if isinstance(resp.get("stderr"), str) else ""
            self.last_stdout, self.last_stderr = out, err
            cpu = resp.get("cpu")
            if isinstance(cpu, (int, float)) and cpu > self.cpu_limit / 2:
                self._restart_due = True    # before RLIMIT_CPU kills it (see _process)
            if resp["ok"]:
                if message.get("keep"):
                    if type(resp.get("ref")) is not int:
                        self.restart()
                        raise StudentError("bad object handle from the child", kind="protocol")
                    self._handles += 1
                    return StudentObject(self, resp["ref"], label,
                                         str(resp.get("type", "object")))
                return resp.get("value")
            if resp.get("restart"):
                self.restart()
            new_err = process.stderr_tail(600, since=stderr_mark) if self._res.process else ""
            details = {k: resp.get(k) for k in ("exc_type", "exc_message", "where", "traceback")
                       if isinstance(resp.get(k), str)}
            text = str(resp.get("message") or "failed")
            raise StudentError(_with_output(text, out, "\n".join(filter(None, [err, new_err]))),
                               kind=str(resp.get("kind") or "exception"),
                               target=message["label"], stdout=out, stderr=err, **details)

    def _died(self, process, label, stderr_mark):
        sig, code = process.exit_status(wait=2.0)
        tail = process.stderr_tail(4000, since=stderr_mark)
        self.restart()
        where = None
        m = re.search(r'File "[^"]*?/(convlib/[^"]+)", line (\d+)', tail)
        if m:
            where = f"{m.group(1)}, line {m.group(2)}"
        at = f" in {where}" if where else ""
        if sig == signal.SIGXCPU:
            msg = (f"`{label}` used more than {self.cpu_limit} s of CPU time and was stopped.")
            kind = "cpu"
        elif sig == getattr(signal, "SIGXFSZ", -1):
            msg = (f"`{label}` wrote a file larger than {_fmt_bytes(self.file_size_limit)} "
                   f"and was stopped.")
            kind = "crash"
        elif sig is not None:
            msg = (f"`{label}` crashed: the process running your code died "
                   f"(signal {sig}, {_signal_name(sig)}){at}.")
            kind = "crash"
        elif code is not None:
            msg = (f"`{label}` ended the process running your code (exit code {code}){at}: "
                   f"do not call os._exit() or close its files.")
            kind = "crash"
        else:
            msg = (f"`{label}` closed the connection to the checker{at}: do not close or "
                   f"write to file descriptors your code did not open.")
            kind = "protocol"
        crash_text = "" if where else _tail(tail, 300) if "Fatal Python error" in tail else ""
        if crash_text:
            msg += "\n" + crash_text
        return StudentError(msg, kind=kind, target=label, where=where, stderr=tail)


class StudentObject:
    """A handle on an object living in the child (e.g. a Conv2D layer the student built).

    obj(x) calls it; obj.call("build", shape) calls a method; obj.get("kernel") / obj.set
    read and write attributes; obj.new("method", ...) keeps the result as another handle.
    Handles can be passed as arguments to the same session's calls."""

    __slots__ = ("_session", "_ref", "_generation", "label", "type_name", "__weakref__")

    def __init__(self, session, ref, label, type_name):
        self._session = session
        self._ref = ref
        self._generation = session.generation
        self.label = label
        self.type_name = type_name

    def __repr__(self):
        return f"<student {self.type_name} from `{self.label}`>"

    def _msg(self, op, name, args=(), kwargs=None, keep=False, **extra):
        label = f"{self.label}.{name}" if name else self.label
        msg = {"op": op, "ref": self._ref, "name": name, "label": label,
               "args": list(args), "kwargs": kwargs or {}, **extra}
        if keep:
            msg["keep"] = True
        return msg, label

    def __call__(self, *args, **kwargs):
        msg, label = self._msg("call", "", args, kwargs)
        return self._session._request(msg, label, obj=self)

    def call(self, name, /, *args, **kwargs):
        msg, label = self._msg("call", name, args, kwargs)
        return self._session._request(msg, label, obj=self)

    def new(self, name, /, *args, **kwargs):
        msg, label = self._msg("call", name, args, kwargs, keep=True)
        return self._session._request(msg, f"{label}(...)", obj=self)

    def get(self, name):
        msg, label = self._msg("get", name)
        return self._session._request(msg, label, obj=self)

    def set(self, name, value):
        msg, label = self._msg("set", name, value=value)
        return self._session._request(msg, label, obj=self)


def call_student(target, /, *args, **kwargs):
    """One call in a fresh child (a session of its own, or the grading run's shared one):
    `convlib.<target>(*args, **kwargs)`."""
    with student_session() as session:
        return session.call(target, *args, **kwargs)


# ------------------------------------------------------------- grading-run context
# Autograde (convbook.grading) grades one submission at a time in one process: it names the
# submission's folder, shares one child among all its checks, and gives each check cell a
# time budget for the student's code. A reader's kernel sets none of these.
_default_root = contextvars.ContextVar("convbook_default_root", default=None)
_shared = contextvars.ContextVar("convbook_shared_session", default=None)
_deadline = contextvars.ContextVar("convbook_deadline", default=None)


@contextlib.contextmanager
def default_root(folder):
    """Sessions created inside use `folder` (which contains convlib/) unless told otherwise."""
    token = _default_root.set(Path(folder))
    try:
        yield
    finally:
        _default_root.reset(token)


@contextlib.contextmanager
def shared_session(session):
    """`student_session()` inside yields `session` (kept open) instead of a new one."""
    token = _shared.set(session)
    try:
        yield session
    finally:
        _shared.reset(token)


@contextlib.contextmanager
def student_session():
    """The session checks use: the grading run's shared one, else a fresh one closed at exit."""
    session = _shared.get()
    if session is not None:
        yield session
        return
    with StudentSession() as session:
        yield session


@contextlib.contextmanager
def time_budget(seconds):
    """Every call inside must finish within `seconds` in all (a check cell's budget)."""
    token = _deadline.set((time.monotonic() + float(seconds), float(seconds)))
    try:
        yield
    finally:
        _deadline.reset(token)
