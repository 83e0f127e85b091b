"""The child process that runs a student's convlib (see convbook/harness.py, which starts it).

Its source text is run with `python -I -B -c <this file> <config json>`; it is never run from
its path and never imported by the kernel, so it needs nothing but the standard library and
numpy, and works whatever directories the sandbox hides. The wire format (convbook/wire.py)
arrives as text in the config and is loaded as a module of its own.

Before any student code runs, the child: keeps the real stdin/stdout pipe fds private and
points fds 0/1 at /dev/null (so no print or os.write can corrupt a frame), installs an
import blocker for tensorflow/keras/torch/jax/scipy, imports the real numpy from
site-packages, enters its namespace sandbox ("ns+uid" mode: see `_enter_namespaces`), sets
its resource limits, drops to the sandbox uid/gid (when started as root), and only then puts
its scratch folder (holding a copy of convlib/) on sys.path.
"""
import io
import json
import os
import sys
import types

import numpy as np

CAPTURE_CHARS = 4000  # printed text kept per call, per stream
wire = None           # the wire-format module, loaded from the config's text by _main


# ------------------------------------------------------------------------- the child side
class ForbiddenImport(ImportError):
    pass


class _Blocker:
    """A meta-path finder that refuses the deep-learning libraries (and SciPy)."""

    def __init__(self, names):
        self.names = frozenset(names)

    def find_spec(self, fullname, path=None, target=None):
        top = fullname.partition(".")[0]
        if top in self.names:
            raise ForbiddenImport(
                f"convlib must be pure numpy: importing {top} is not allowed in the exercises",
                name=fullname)
        return None


class _Capture(io.TextIOBase):
    """Stands in for sys.stdout / sys.stderr during a call: keeps the first few KB."""

    def __init__(self):
        self.parts, self.size, self.dropped = [], 0, 0

    def writable(self):
        return True

    def write(self, text):
        text = str(text)
        room = CAPTURE_CHARS - self.size
        if room > 0:
            self.parts.append(text[:room])
            self.size += min(room, len(text))
        self.dropped += max(0, len(text) - max(room, 0))
        return len(text)

    def text(self):
        out = "".join(self.parts)
        return out + (f"\n... ({self.dropped} more characters)" if self.dropped else "")


def _prctl(option, arg):
    """Linux prctl(2); a no-op elsewhere (macOS has no no-new-privs / parent-death signal)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(option, arg, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), f"prctl({option}) failed")


class _Child:
    def __init__(self, config, rfd, wfd):
        self.config = config
        self.scratch = config["scratch"]
        self.package_dir = os.path.join(self.scratch, "convlib")
        self.rfile = os.fdopen(rfd, "rb", buffering=0)
        self.wfd = wfd
        self.objects = {}
        self.next_id = 1
        self.init_error = None

    # ---- frames
    def read_exact(self, n):
        buf = np.empty(n, np.uint8)     # not zero-filled, unlike bytearray(n)
        view = memoryview(buf)
        got = 0
        while got < n:
            k = self.rfile.readinto(view[got:])
            if not k:
                raise EOFError
            got += k
        return buf

    def read_message(self):
        length = wire.parse_frame_header(self.read_exact(wire.FRAME_HEADER.size).tobytes(), 1 << 62)
        return wire.decode(self.read_exact(length), ref_to=self.lookup)

    def send(self, message):
        self.write_chunks(wire.encode(message)[0])

    def lookup(self, ref):
        if ref not in self.objects:
            raise wire.ProtocolError(f"no object #{ref}")
        return self.objects[ref]

    # ---- tracebacks
    def student_frames(self, tb):
        """[(relative path, line, function qualname, module label, source line)] in convlib."""
        import linecache

        frames = []
        prefix = self.package_dir + os.sep
        while tb is not None:
            code = tb.tb_frame.f_code
            filename = code.co_filename
            if filename.startswith(prefix):
                rel = "convlib/" + filename[len(prefix):].replace(os.sep, "/")
                module = rel[len("convlib/"):-len(".py")].replace("/", ".")
                if module.endswith("__init__"):
                    module = module[:-len("__init__")].rstrip(".") or "convlib"
                qualname = getattr(code, "co_qualname", code.co_name)
                line = linecache.getline(filename, tb.tb_lineno).strip()
                frames.append((rel, tb.tb_lineno, qualname, module, line))
            tb = tb.tb_next
        return frames

    @staticmethod
    def where(frame):
        rel, lineno, qualname, _, line = frame
        text = f"{rel}, line {lineno}"
        if qualname != "<module>":
            text += f", in {qualname}"
        if line:
            text += f": `{line[:120]}`"
        return text

    def error(self, label, exc, stage):
        """The failure response for an exception raised by student code."""
        frames = self.student_frames(exc.__traceback__)
        where = self.where(frames[-1]) if frames else None
        exc_type = wire.type_name(exc)
        exc_message = str(exc)
        if isinstance(exc, SyntaxError):
            exc_message = exc.msg or exc_message
            prefix = self.package_dir + os.sep
            if isinstance(exc.filename, str) and exc.filename.startswith(prefix):
                rel = "convlib/" + exc.filename[len(prefix):].replace(os.sep, "/")
                where = f"{rel}, line {exc.lineno}"
                if exc.text and exc.text.strip():
                    where += f": `{exc.text.strip()[:120]}`"
        if len(exc_message) > 600:
            exc_message = exc_message[:600] + " ..."
        at = f" ({where})" if where else ""
        resp = {"ok": False, "exc_type": exc_type, "exc_message": exc_message, "where": where,
                "traceback": "\n".join(self.where(f) for f in frames)}
        if isinstance(exc, ForbiddenImport):
            resp["kind"] = "forbidden_import"
            resp["message"] = exc_message + at
        elif isinstance(exc, MemoryError):
            limit = self.config["limits"]["as_text"]
            resp["kind"] = "memory"
            resp["restart"] = True
            resp["message"] = (f"`{label}` used more than {limit} of memory (MemoryError"
                               + (f" at {where}" if where else "") + ").")
        elif isinstance(exc, NotImplementedError) and frames:
            rel, _, qualname, module, _ = frames[-1]
            raiser = f"{module}.{qualname}" if qualname != "<module>" else module
            if raiser == label:
                start = f"`{raiser}` is not implemented yet"
            else:
                start = f"`{label}` calls `{raiser}`, which is not implemented yet"
            resp["kind"] = "not_implemented"
            resp["message"] = (f"{start} (it still raises NotImplementedError). "
                               f"Open {rel} and write it.")
        elif isinstance(exc, SystemExit):
            resp["kind"] = "exception"
            resp["message"] = (f"`{label}` called sys.exit({exc.code!r}){at}: "
                               f"return a value instead.")
        else:
            resp["kind"] = "exception"
            text = f"{exc_type}: {exc_message}" if exc_message else exc_type
            if stage == "import":
                resp["message"] = f"importing convlib for `{label}` raised {text}{at}"
            else:
                resp["message"] = f"`{label}` raised {text}{at}"
        return resp

    # ---- resolving "module.function"
    def import_convlib(self):
        import importlib
        import importlib.util

        pkg = sys.modules.get("convlib")
        if pkg is not None:
            return pkg
        try:
            pkg = importlib.import_module("convlib")
        except ForbiddenImport:
            raise
        except Exception as err:  # noqa: BLE001 -- any error in the student's package
            # A broken module should not fail the checks of the others: fall back to a bare
            # package (its __init__ not run) so `convlib.padding` can still be imported.
            self.init_error = err
            for name in [m for m in sys.modules if m == "convlib" or m.startswith("convlib.")]:
                del sys.modules[name]
            spec = importlib.util.spec_from_file_location(
                "convlib", os.path.join(self.package_dir, "__init__.py"),
                submodule_search_locations=[self.package_dir])
            pkg = importlib.util.module_from_spec(spec)
            sys.modules["convlib"] = pkg
        paths = [os.path.realpath(p) for p in getattr(pkg, "__path__", [])]
        if paths != [os.path.realpath(self.package_dir)]:
            raise ImportError(f"imported convlib from {paths}, not from the sandbox copy")
        return pkg

    class Missing(Exception):
        pass

    def resolve(self, target):
        import importlib

        parts = target.split(".")
        if not target or not all(p.isidentifier() for p in parts):
            raise self.Missing(f"`{target}` is not a name of the form module.function")
        pkg = self.import_convlib()
        if len(parts) == 1:
            if not hasattr(pkg, parts[0]):
                if self.init_error is not None:
                    raise self.init_error
                raise self.Missing(f"convlib has no attribute {parts[0]}")
            return getattr(pkg, parts[0])
        modname = "convlib." + parts[0]
        try:
            obj = importlib.import_module(modname)
        except ModuleNotFoundError as err:
            if err.name == modname:
                raise self.Missing(f"convlib/{parts[0]}.py does not exist "
                                   f"(there is no module convlib.{parts[0]})") from None
            raise
        owner = f"convlib/{parts[0]}.py"
        for i, attr in enumerate(parts[1:], start=1):
            if not hasattr(obj, attr):
                if i == 1:
                    kind = "class" if attr[:1].isupper() else "function"
                    raise self.Missing(f"{owner} has no {kind} {attr}")
                raise self.Missing(f"`{'.'.join(parts[:i])}` has no attribute {attr}")
            obj = getattr(obj, attr)
        return obj

    # ---- one request
    def handle(self, req):
        """(response, label) for one request; the response's "value" is not yet encoded."""
        op = req.get("op")
        label = req.get("label") or req.get("target") or "?"
        if op == "free":
            self.objects.pop(req.get("ref"), None)
            return {"ok": True, "value": None}, label
        if op == "ping":
            return {"ok": True, "value": None}, label
        out, err = _Capture(), _Capture()
        saved = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = out, err
        stage = "lookup"
        try:
            try:
                if op == "call" and "target" in req:
                    stage = "import"
                    fn = self.resolve(req["target"])
                    stage = "lookup"
                else:
                    obj = self.lookup(req.get("ref"))
                    name = req.get("name") or ""
                if op == "set":
                    stage = "call"
                    setattr(obj, name, req.get("value"))
                    result = None
                elif op == "get":
                    result = getattr(obj, name)
                elif op == "call":
                    if "target" not in req:
                        fn = getattr(obj, name) if name else obj
                    if not callable(fn):
                        raise self.Missing(f"`{label}` is not a function (it is a "
                                           f"{wire.type_name(fn)})")
                    stage = "call"
                    result = fn(*req.get("args", []), **req.get("kwargs", {}))
                else:
                    raise wire.ProtocolError(f"unknown op {op!r}")
                resp = {"ok": True}
            except self.Missing as miss:
                resp = {"ok": False, "kind": "missing", "message": str(miss)}
            except BaseException as exc:  # noqa: BLE001 -- everything the student raises
                resp = self.error(label, exc, stage)
            leaked = sorted({m.partition(".")[0] for m in sys.modules}
                            & set(self.config["blocked"]))
            if leaked and resp["ok"]:
                resp = {"ok": False, "kind": "forbidden_import",
                        "message": f"convlib must be pure numpy: {leaked[0]} was imported "
                                   f"during `{label}`, which is not allowed in the exercises"}
            if resp["ok"]:
                if req.get("keep"):
                    ref, self.next_id = self.next_id, self.next_id + 1
                    self.objects[ref] = result
                    resp.update(ref=ref, type=wire.type_name(result))
                else:
                    resp["value"] = result
        finally:
            sys.stdout, sys.stderr = saved
        resp["stdout"], resp["stderr"] = out.text(), err.text()
        return resp, label

    def reply(self, resp, label):
        import resource

        usage = resource.getrusage(resource.RUSAGE_SELF)
        resp["cpu"] = usage.ru_utime + usage.ru_stime
        try:
            chunks, _ = wire.encode(resp)
        except wire.Unserialisable as bad:
            chunks, _ = wire.encode({
                "ok": False, "kind": "unserialisable", "cpu": resp["cpu"],
                "stdout": resp.get("stdout", ""), "stderr": resp.get("stderr", ""),
                "message": f"`{label}` returned {bad}, which cannot be sent back for checking "
                           f"(allowed: numbers, strings, None, numeric numpy arrays, and "
                           f"tuples/lists/dicts of those)."})
        self.write_chunks(chunks)

    def write_chunks(self, chunks):
        for chunk in chunks:
            view = memoryview(chunk).cast("B")
            while view:
                n = os.write(self.wfd, view)
                view = view[n:]

    def serve(self):
        while True:
            try:
                req = self.read_message()
            except EOFError:
                return
            label = req.get("label") or req.get("target") or "?"
            try:
                resp, label = self.handle(req)
                self.reply(resp, label)
            except MemoryError:
                self.reply({"ok": False, "kind": "memory", "restart": True,
                            "message": f"`{label}` used more than "
                                       f"{self.config['limits']['as_text']} of memory."}, label)


def _set_limits(limits):
    import resource

    def cap(which, value):
        if value is None or not hasattr(resource, which):
            return
        res = getattr(resource, which)
        soft, hard = resource.getrlimit(res)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        try:
            resource.setrlimit(res, (value, value))
        except (ValueError, OSError):
            if sys.platform.startswith("linux"):
                raise           # elsewhere (macOS: RLIMIT_AS) a limit may be unsupported

    cap("RLIMIT_AS", limits.get("as"))
    cap("RLIMIT_FSIZE", limits.get("fsize"))
    cap("RLIMIT_CORE", 0)
    cap("RLIMIT_NOFILE", limits.get("nofile"))
    cap("RLIMIT_NPROC", limits.get("nproc"))
    cpu = limits.get("cpu")
    if cpu is not None:
        # soft limit -> SIGXCPU (reported as "CPU time"), hard limit one second later.
        resource.setrlimit(resource.RLIMIT_CPU, (int(cpu), int(cpu) + 1))


def _drop_privileges(uid, gid):
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    if os.getresuid() != (uid, uid, uid) or os.getresgid() != (gid, gid, gid) or os.getgroups():
        raise SystemExit("convbook sandbox: could not drop privileges")
    try:
        os.setuid(0)
    except PermissionError:
        return
    raise SystemExit("convbook sandbox: privileges were not dropped")


# Linux constants for the namespace sandbox (linux/sched.h, linux/mount.h).
CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWNET = 0x20000, 0x4000000, 0x8000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 0x1, 0x2, 0x4, 0x8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 0x20, 0x1000, 0x4000, 0x40000


def _enter_namespaces(ns):
    """"ns+uid" mode: the same file system as bubblewrap's, built with system calls.

    As root: new mount, network, IPC and UTS namespaces (unshare(2)); a tmpfs on the empty
    folder `ns["root"]`, holding read-only binds of the system folders, the Python
    installation, a few /etc files and /dev nodes, a /proc that shows only the caller's own
    processes (hidepid=2), and the scratch folder read-write at `ns["inside"]`; the tmpfs made
    read-only; chroot into it. The caller then drops to the sandbox uid, which loses every
    capability, so none of this can be undone. Nothing of the host (the course directory,
    solutions/, the gradebook) exists in there. Raises OSError naming the failed step.
    """
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.mount.argtypes = (ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong,
                           ctypes.c_char_p)

    def ok(rc, what):
        if rc != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"namespace sandbox: {what}: {os.strerror(err)}")

    def mount(source, target, fstype, flags, data=None):
        enc = (lambda s: s.encode() if s is not None else None)
        ok(libc.mount(enc(source), enc(target), enc(fstype), flags, enc(data)),
           f"mount {target}")

    root = ns["root"]

    def bind(path, writable=False, device=False):
        target = root + path
        if os.path.isdir(path):
            os.makedirs(target, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            open(target, "a").close()
        mount(path, target, None, MS_BIND | MS_REC)
        flags = MS_BIND | MS_REMOUNT | MS_NOSUID | (0 if device else MS_NODEV)
        mount(None, target, None, flags | (0 if writable else MS_RDONLY))

    ok(libc.unshare(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET), "unshare")
    mount(None, "/", None, MS_REC | MS_PRIVATE)          # nothing propagates back to the host
    mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=4m")
    for link, dest in ns["symlinks"]:
        os.makedirs(os.path.dirname(root + link), exist_ok=True)
        os.symlink(dest, root + link)
    for path in ns["read_only"]:
        if os.path.exists(path):
            bind(path)
    for name in ("null", "zero", "full", "random", "urandom"):
        bind("/dev/" + name, writable=True, device=True)
    # empty and read-only (unless the Python installation itself lives under /tmp)
    os.makedirs(root + "/tmp", exist_ok=True)
    os.makedirs(root + "/proc", exist_ok=True)
    try:
        mount("proc", root + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "hidepid=2")
    except OSError:
        pass                                              # no /proc: Python does not need it
    os.makedirs(root + ns["inside"], exist_ok=True)
    mount(ns["scratch"], root + ns["inside"], None, MS_BIND)
    mount(None, root, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
    os.chroot(root)
    os.chdir("/")


def _load_wire(source):
    module = types.ModuleType("convbook_wire")
    exec(compile(source, "convbook/wire.py", "exec"), module.__dict__)
    return module


def probe_namespaces(ns):
    """Exit status 0 if `_enter_namespaces` works here (run as `-c <this file> probe <json>`)."""
    try:
        _enter_namespaces(ns)
    except OSError as err:
        sys.stderr.write(f"{err}\n")
        return 1
    return 0


def _main(argv):
    import signal

    global wire
    if argv[1] == "probe":
        sys.exit(probe_namespaces(json.loads(argv[2])))
    config = json.loads(argv[1])
    wire = _load_wire(config["wire"])
    # The protocol pipes, kept private; fds 0 and 1 become /dev/null for the student.
    rfd, wfd = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    os.close(devnull)
    sys.stdin = open(os.devnull)
    # Writes beyond RLIMIT_FSIZE fail with EFBIG instead of killing the process.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    sys.meta_path.insert(0, _Blocker(config["blocked"]))
    for name in config.get("preimport", []):
        try:
            __import__(name)
        except Exception:  # noqa: BLE001 -- best effort
            pass
    import faulthandler
    import linecache  # noqa: F401 -- used for tracebacks after the privilege drop
    import resource  # noqa: F401
    import importlib.util  # noqa: F401

    faulthandler.enable()   # a segfault in student code prints its traceback to our stderr
    if config.get("namespaces"):
        _enter_namespaces(config["namespaces"])
    _set_limits(config["limits"])
    if config.get("uid") is not None:
        _drop_privileges(config["uid"], config["gid"])
    if config.get("no_new_privs"):
        _prctl(38, 1)                                   # PR_SET_NO_NEW_PRIVS
    if config.get("parent_pid"):
        _prctl(1, signal.SIGKILL)                       # PR_SET_PDEATHSIG
        if os.getppid() != config["parent_pid"]:
            return
    os.chdir(config["scratch"])
    sys.dont_write_bytecode = True
    sys.path.insert(0, config["scratch"])
    child = _Child(config, rfd, wfd)
    child.send({"ready": True, "pid": os.getpid(), "uid": os.getuid(),
                "numpy": np.__file__})
    child.serve()


if __name__ == "__main__":
    _main(sys.argv)
