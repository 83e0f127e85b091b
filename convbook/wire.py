"""The wire format between the notebook kernel and the child that runs a student's convlib.

A frame is `b"CVB1"`, an 8-byte big-endian payload length, then the payload: a 4-byte
big-endian length, that many bytes of JSON, then the raw bytes of the arrays the JSON refers
to. Every JSON object is a tagged value ({"$": tag, ...}), so nothing the student returns can
be mistaken for a tag. Arrays travel as their raw bytes with a dtype string that the receiver
re-validates (numeric or bool only, no objects, no fields): there is no pickle anywhere, and
student output is never unpickled or eval'ed in the kernel.

This module needs only the standard library and numpy: the child receives its source text
(it cannot import convbook inside the sandbox) and runs it as a module of its own.
"""
import json
import struct

import numpy as np

MAGIC = b"CVB1"
FRAME_HEADER = struct.Struct(">4sQ")
JSON_LENGTH = struct.Struct(">I")
ALIGN = 64            # array buffers start on 64-byte boundaries within the buffer area
MAX_DEPTH = 64        # nesting of tuples/lists/dicts in a message
MAX_NDIM = 32


class Unserialisable(TypeError):
    """A value that cannot travel: not a number, string, None, container or numeric array."""


class ProtocolError(ValueError):
    """A frame that does not follow the wire format (never trusted, never partly used)."""


# ----------------------------------------------------------------------------------- codec
def type_name(obj):
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
        raise Unserialisable(f"an object of type {type_name(obj)}")


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
