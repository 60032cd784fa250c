"""Hand-made Arrow C Data Interface capsules (ctypes), valid or malformed, for tests.

``Fake(fmt, length, buffers, ...)`` exports ``__arrow_c_array__`` with the
fields exactly as given (negative lengths, NULL buffers, too few buffers...);
``FakeStream(fakes)`` exports ``__arrow_c_stream__`` over them and counts the
calls.  The structs live as long as the Python objects.
"""

from __future__ import annotations

import ctypes
import struct
from typing import Any, List, Optional, Sequence, Union

from fastpart._arrow_py import (
    _GET_ERROR, _GET_NEXT, _GET_SCHEMA, _RELEASE_ARRAY, _RELEASE_SCHEMA, ArrowArray, ArrowArrayStream,
    ArrowSchema,
)

# PyCapsule_New comes from CPython's C API; PyPy has no ctypes.pythonapi, so there the module
# still imports (HAVE_PYTHONAPI is False) and the tests that make capsules skip.
HAVE_PYTHONAPI = hasattr(ctypes, "pythonapi")
if HAVE_PYTHONAPI:
    _new_capsule = ctypes.pythonapi.PyCapsule_New
    _new_capsule.restype = ctypes.py_object
    _new_capsule.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]
else:
    def _new_capsule(pointer: Any, name: bytes, destructor: Any) -> Any:
        raise RuntimeError("making PyCapsules needs ctypes.pythonapi (CPython)")
_SCHEMA_NAME = b"arrow_schema"
_ARRAY_NAME = b"arrow_array"
_STREAM_NAME = b"arrow_array_stream"


@_RELEASE_SCHEMA
def _release_schema(p: Any) -> None:
    p.contents.release = None


@_RELEASE_ARRAY
def _release_array(p: Any) -> None:
    p.contents.release = None


_RELEASE_SCHEMA_P = ctypes.cast(_release_schema, ctypes.c_void_p).value
_RELEASE_ARRAY_P = ctypes.cast(_release_array, ctypes.c_void_p).value

Buffer = Union[None, bytes, int]


def metadata(pairs: dict) -> bytes:
    """The C Data Interface encoding of schema metadata."""
    out = struct.pack("<i", len(pairs))
    for k, v in pairs.items():
        out += struct.pack("<i", len(k)) + k + struct.pack("<i", len(v)) + v
    return out


def view(length: int, data: bytes = b"", buf: int = 0, off: int = 0) -> bytes:
    """One 16-byte binary view: inline (<= 12 bytes) or (prefix, buffer, offset)."""
    if 0 <= length <= 12:
        return struct.pack("<i", length) + data[:12].ljust(12, b"\0")
    return struct.pack("<i4sii", length, data[:4].ljust(4, b"\0"), buf, off)


class Fake:
    """An Arrow array exported with exactly the given fields."""

    def __init__(self, fmt: bytes, length: int, buffers: Optional[Sequence[Buffer]], *, offset: int = 0,
                 null_count: int = 0, n_buffers: Optional[int] = None, dictionary: "Optional[Fake]" = None,
                 meta: Optional[bytes] = None, released: bool = False) -> None:
        self._keep: List[Any] = [fmt, meta]
        self.schema = ArrowSchema()
        self.schema.format = fmt
        self.schema.name = b""
        if meta is not None:
            mbuf = ctypes.create_string_buffer(meta, len(meta))
            self._keep.append(mbuf)
            self.schema.metadata = ctypes.addressof(mbuf)
        self.schema.release = _RELEASE_SCHEMA_P
        self.array = ArrowArray()
        a = self.array
        a.length, a.offset, a.null_count = length, offset, null_count
        if buffers is None:
            a.n_buffers = n_buffers if n_buffers is not None else 0
        else:
            ptrs = (ctypes.c_void_p * max(1, len(buffers)))()
            for i, b in enumerate(buffers):
                if isinstance(b, bytes):
                    cb = ctypes.create_string_buffer(b, max(1, len(b)))
                    self._keep.append(cb)
                    ptrs[i] = ctypes.addressof(cb)
                elif isinstance(b, int):
                    ptrs[i] = b
                else:
                    ptrs[i] = None
            self._keep.append(ptrs)
            a.buffers = ctypes.cast(ptrs, ctypes.POINTER(ctypes.c_void_p))
            a.n_buffers = len(buffers) if n_buffers is None else n_buffers
        if dictionary is not None:
            self._keep.append(dictionary)
            self.schema.dictionary = ctypes.pointer(dictionary.schema)
            a.dictionary = ctypes.pointer(dictionary.array)
        a.release = None if released else _RELEASE_ARRAY_P

    def __arrow_c_array__(self, requested_schema: Any = None) -> Any:
        return (_new_capsule(ctypes.addressof(self.schema), _SCHEMA_NAME, None),
                _new_capsule(ctypes.addressof(self.array), _ARRAY_NAME, None))


class FakeStream:
    """An Arrow stream of the arrays of *fakes* (same schema), with call counts."""

    def __init__(self, fakes: Sequence[Fake], schema: Optional[Fake] = None, fail_next: bool = False) -> None:
        self.fakes = list(fakes)
        self.schema_of = schema or self.fakes[0]
        self.exports = self.next_calls = 0
        self.fail_next = fail_next
        self.stream = ArrowArrayStream()
        self._msg = ctypes.create_string_buffer(b"the producer failed")
        err = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p)(lambda st: ctypes.addressof(self._msg))
        self._cbs = (_GET_SCHEMA(self._get_schema), _GET_NEXT(self._get_next), err)
        self.stream.get_schema, self.stream.get_next = self._cbs[:2]
        self.stream.get_last_error = ctypes.cast(err, _GET_ERROR)
        self.stream.release = _RELEASE_ARRAY_P  # any non-NULL pointer: the capsule has no destructor

    def _get_schema(self, st: Any, out: Any) -> int:
        ctypes.memmove(out, ctypes.addressof(self.schema_of.schema), ctypes.sizeof(ArrowSchema))
        return 0

    def _get_next(self, st: Any, out: Any) -> int:
        self.next_calls += 1
        if self.fail_next:
            return 5
        if self.next_calls > len(self.fakes):
            out.contents.release = None
            return 0
        src = self.fakes[self.next_calls - 1].array
        ctypes.memmove(out, ctypes.addressof(src), ctypes.sizeof(ArrowArray))
        return 0

    def __arrow_c_stream__(self, requested_schema: Any = None) -> Any:
        self.exports += 1
        return _new_capsule(ctypes.addressof(self.stream), _STREAM_NAME, None)


def offsets32(*values: int) -> bytes:
    return struct.pack(f"<{len(values)}i", *values)


def offsets64(*values: int) -> bytes:
    return struct.pack(f"<{len(values)}q", *values)
