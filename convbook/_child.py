"""The child process that runs a student's convlib, and the wire format shared with the kernel.

This file has two roles:

* imported as `convbook._child` (in the notebook kernel), it provides the codec, `encode` and
  `decode`, that `convbook.harness` uses to talk to the child;
* its source text is run with `python -I -B -c <this file> <config json>` as the child itself
  (see `_main`). It is never run from its path, so it needs nothing but the standard library
  and numpy, and works whatever directories the sandbox hides.

Wire format (both directions): a frame is `b"CVB1"`, an 8-byte big-endian payload length,
then the payload: a 4-byte big-endian length, that many bytes of JSON, then the raw bytes of
the arrays the JSON refers to. Every JSON object is a tagged value ({"$": tag, ...}), so
nothing the student returns can be mistaken for a tag. Arrays travel as their raw bytes with a
dtype string that the receiver re-validates (numeric or bool only, no objects, no fields):
there is no pickle anywhere, and student output is never unpickled or eval'ed in the kernel.

The child, before any student code runs: keeps the real stdin/stdout pipe fds private and
points fds 0/1 at /dev/null (so no print or os.write can corrupt a frame), installs an
import blocker for tensorflow/keras/torch/jax/scipy, imports the real numpy from
site-packages, sets its resource limits, drops to the sandbox uid/gid (when started as
root), and only then puts its scratch folder (holding a copy of convlib/) on sys.path.
"""
import io
import json
import os
import struct
import sys

import numpy as np

MAGIC = b"CVB1"
FRAME_HEADER = struct.Struct(">4sQ")
JSON_LENGTH = struct.Struct(">I")
ALIGN = 64            # array buffers start on 64-byte boundaries within the buffer area
MAX_DEPTH = 64        # nesting of tuples/lists/dicts in a message
MAX_NDIM = 32
CAPTURE_CHARS = 4000  # printed text kept per call, per stream

BLOCKED_MODULES = ("tensorflow", "keras", "tf_keras", "torch", "jax", "jaxlib", "scipy")


class Unserialisable(TypeError):
    """A value that cannot travel: not a number, string, None, container or numeric array."""


class ProtocolError(ValueError):
    """A frame that does not follow the wire format (never trusted, never partly used)."""


# ----------------------------------------------------------------------------------- codec
def _type_name(obj):
    cls = type(obj)
    module = getattr(cls, "__module__", "") or ""
    name = getattr(cls, "__qualname__", cls.__name__)
    return name if module in ("builtins", "") else f"{module}.{name}"


class _Encoder:
    def __init__(self, ref_of=None):
        self.chunks = []     # (offset, memoryview) of array bytes
        self.size = 0        # bytes in the buffer area so far
        self.ref_of = ref_of

    def array(self, arr, tag):
        dtype = arr.dtype
        if dtype.kind not in "biufc" or dtype.fields is not None or dtype.subdtype is not None:
            raise Unserialisable(f"a numpy array of dtype {dtype}")
        if arr.ndim > MAX_NDIM:
            raise Unserialisable(f"a numpy array with {arr.ndim} dimensions")
        if not arr.flags.c_contiguous:
            arr = arr.copy(order="C")
        offset = -(-self.size // ALIGN) * ALIGN
        nbytes = arr.size * dtype.itemsize
        if nbytes:
            self.chunks.append((offset, memoryview(arr.reshape(-1).view(np.uint8))))
        self.size = offset + nbytes
        return {"$": tag, "dtype": dtype.str, "shape": [int(n) for n in arr.shape],
                "o": offset, "n": nbytes}

    def value(self, obj, depth=0):
        if depth > MAX_DEPTH:
            raise Unserialisable(f"a value nested more than {MAX_DEPTH} levels deep")
        if obj is None or type(obj) is bool:
            return obj
        if isinstance(obj, np.generic):
            return self.array(np.asarray(obj), "np")
        if isinstance(obj, np.ndarray):
            return self.array(np.asarray(obj), "nd")
        if isinstance(obj, str):
            return str(obj)
        if isinstance(obj, bool):
            return bool(obj)
        if isinstance(obj, int):
            return int(obj)
        if isinstance(obj, float):
            return float(obj)
        if isinstance(obj, complex):
            return {"$": "complex", "v": [obj.real, obj.imag]}
        if isinstance(obj, tuple):
            return {"$": "tuple", "v": [self.value(x, depth + 1) for x in obj]}
        if isinstance(obj, list):
            return [self.value(x, depth + 1) for x in obj]
        if isinstance(obj, dict):
            return {"$": "dict", "v": [[self.value(k, depth + 1), self.value(v, depth + 1)]
                                       for k, v in obj.items()]}
        if self.ref_of is not None:
            ref = self.ref_of(obj)
            if ref is not None:
                return {"$": "ref", "id": ref}
        raise Unserialisable(f"an object of type {_type_name(obj)}")


def encode(message, ref_of=None):
    """A message (a JSON-able dict whose values may hold arrays) -> (list of chunks, length).

    Raises Unserialisable naming the first value that cannot be sent."""
    enc = _Encoder(ref_of)
    body = {key: enc.value(val) for key, val in message.items()}
    text = json.dumps(body, allow_nan=True, separators=(",", ":")).encode()
    # pad the JSON with spaces so the array bytes start 64-byte aligned in the payload:
    # the receiver then uses them in place (np.frombuffer), with no copy
    text += b" " * (-(JSON_LENGTH.size + len(text)) % ALIGN)
    head = JSON_LENGTH.pack(len(text)) + text
    chunks = [head]
    pos = 0
    for offset, view in enc.chunks:
        if offset > pos:
            chunks.append(bytes(offset - pos))
        chunks.append(view)
        pos = offset + len(view)
    if enc.size > pos:
        chunks.append(bytes(enc.size - pos))
    total = len(head) + enc.size
    return [FRAME_HEADER.pack(MAGIC, total)] + chunks, FRAME_HEADER.size + total


def parse_frame_header(header, max_payload):
    magic, length = FRAME_HEADER.unpack(header)
    if magic != MAGIC:
        raise ProtocolError("bad frame header")
    if length > max_payload or length < JSON_LENGTH.size:
        raise ProtocolError(f"frame of {length} bytes (limit {max_payload})")
    return length


_DTYPE_CHARS = set("<>|=biufc0123456789")


class _Decoder:
    def __init__(self, payload, start, ref_to=None):
        self.payload = payload
        self.start = start
        self.ref_to = ref_to

    def array(self, obj):
        if set(obj) != {"$", "dtype", "shape", "o", "n"}:
            raise ProtocolError("bad array record")
        dt, shape, offset, nbytes = obj["dtype"], obj["shape"], obj["o"], obj["n"]
        if not (isinstance(dt, str) and 2 <= len(dt) <= 4 and set(dt) <= _DTYPE_CHARS):
            raise ProtocolError(f"bad dtype {dt!r}")
        try:
            dtype = np.dtype(dt)
        except TypeError:
            raise ProtocolError(f"bad dtype {dt!r}") from None
        if dtype.kind not in "biufc" or dtype.fields is not None or dtype.subdtype is not None:
            raise ProtocolError(f"dtype {dt!r} not allowed")
        if (not isinstance(shape, list) or len(shape) > MAX_NDIM
                or not all(type(n) is int and n >= 0 for n in shape)):
            raise ProtocolError("bad array shape")
        count = 1
        for n in shape:
            count *= n
        if type(offset) is not int or type(nbytes) is not int or offset < 0:
            raise ProtocolError("bad array offset")
        if nbytes != count * dtype.itemsize or self.start + offset + nbytes > len(self.payload):
            raise ProtocolError("array size does not match its shape")
        if count == 0:
            return np.empty(shape, dtype)
        arr = np.frombuffer(self.payload, dtype, count, self.start + offset).reshape(shape)
        if not arr.flags.aligned:
            arr = arr.copy()
        if dtype.kind == "b" and arr.view(np.uint8).max() > 1:
            raise ProtocolError("bool array with values other than 0 and 1")
        return arr

    def value(self, obj, depth=0):
        if depth > MAX_DEPTH + 2:
            raise ProtocolError("message nested too deeply")
        if obj is None or isinstance(obj, (bool, int, float, str)):
            return obj
        if isinstance(obj, list):
            return [self.value(x, depth + 1) for x in obj]
        if not isinstance(obj, dict):
            raise ProtocolError("unexpected JSON value")
        tag = obj.get("$")
        if tag in ("nd", "np"):
            arr = self.array(obj)
            return arr if tag == "nd" else arr.reshape(())[()]
        if tag in ("tuple", "dict", "complex") and (set(obj) != {"$", "v"}
                                                    or not isinstance(obj["v"], list)):
            raise ProtocolError(f"bad {tag} record")
        if tag == "tuple":
            return tuple(self.value(x, depth + 1) for x in obj["v"])
        if tag == "dict":
            out = {}
            for pair in obj["v"]:
                if not (isinstance(pair, list) and len(pair) == 2):
                    raise ProtocolError("bad dict item")
                key = self.value(pair[0], depth + 1)
                try:
                    hash(key)
                except TypeError:
                    raise ProtocolError("unhashable dict key") from None
                out[key] = self.value(pair[1], depth + 1)
            return out
        if tag == "complex":
            re_, im = obj["v"] if len(obj["v"]) == 2 else (None, None)
            if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (re_, im)):
                raise ProtocolError("bad complex")
            return complex(re_, im)
        if tag == "ref" and self.ref_to is not None and set(obj) == {"$", "id"}:
            return self.ref_to(obj["id"])
        raise ProtocolError(f"unknown tag {tag!r}")


def decode(payload, ref_to=None):
    """The payload of one frame (bytes-like, writable for writable arrays) -> dict."""
    if len(payload) < JSON_LENGTH.size:
        raise ProtocolError("short frame")
    (jlen,) = JSON_LENGTH.unpack_from(payload, 0)
    start = JSON_LENGTH.size + jlen
    if start > len(payload):
        raise ProtocolError("JSON length beyond the frame")
    try:
        body = json.loads(bytes(payload[JSON_LENGTH.size:start]))
    except (ValueError, RecursionError) as err:
        raise ProtocolError(f"bad JSON: {err}") from None
    if not isinstance(body, dict):
        raise ProtocolError("message is not an object")
    dec = _Decoder(payload, start, ref_to)
    try:
        return {key: dec.value(val) for key, val in body.items()}
    except RecursionError:
        raise ProtocolError("message nested too deeply") from None


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
        length = parse_frame_header(self.read_exact(FRAME_HEADER.size).tobytes(), 1 << 62)
        return decode(self.read_exact(length), ref_to=self.lookup)

    def send(self, message):
        self.write_chunks(encode(message)[0])

    def lookup(self, ref):
        if ref not in self.objects:
            raise ProtocolError(f"no object #{ref}")
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
        exc_type = _type_name(exc)
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
                                           f"{_type_name(fn)})")
                    stage = "call"
                    result = fn(*req.get("args", []), **req.get("kwargs", {}))
                else:
                    raise ProtocolError(f"unknown op {op!r}")
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
                    resp.update(ref=ref, type=_type_name(result))
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
            chunks, _ = encode(resp)
        except Unserialisable as bad:
            chunks, _ = encode({
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


def _main(argv):
    import signal

    config = json.loads(argv[1])
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
