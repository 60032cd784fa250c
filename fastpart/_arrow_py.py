"""Reading Arrow arrays through the Arrow PyCapsule interface, in pure Python.

No pyarrow dependency: the C Data Interface structs are declared here with
ctypes and read in place.  Supported key types: binary (``z``), string
(``u``), large_binary (``Z``), large_string (``U``), binary_view (``vz``),
string_view (``vu``), fixed_size_binary (``w:N``), the null type (``n``) and
dictionary arrays whose values are one of those.  Nulls become ``None``;
``array.offset`` (sliced arrays) is honoured.

The native core has its own reader (``_core.pyx``) with the same rules.
"""

from __future__ import annotations

import ctypes
from typing import Any, List, Optional

_void_p = ctypes.c_void_p


class ArrowSchema(ctypes.Structure):
    pass


ArrowSchema._fields_ = [
    ("format", ctypes.c_char_p),
    ("name", ctypes.c_char_p),
    ("metadata", ctypes.c_void_p),
    ("flags", ctypes.c_int64),
    ("n_children", ctypes.c_int64),
    ("children", ctypes.POINTER(ctypes.POINTER(ArrowSchema))),
    ("dictionary", ctypes.POINTER(ArrowSchema)),
    ("release", ctypes.c_void_p),
    ("private_data", ctypes.c_void_p),
]


class ArrowArray(ctypes.Structure):
    pass


ArrowArray._fields_ = [
    ("length", ctypes.c_int64),
    ("null_count", ctypes.c_int64),
    ("offset", ctypes.c_int64),
    ("n_buffers", ctypes.c_int64),
    ("n_children", ctypes.c_int64),
    ("buffers", ctypes.POINTER(ctypes.c_void_p)),
    ("children", ctypes.POINTER(ctypes.POINTER(ArrowArray))),
    ("dictionary", ctypes.POINTER(ArrowArray)),
    ("release", ctypes.c_void_p),
    ("private_data", ctypes.c_void_p),
]


class ArrowArrayStream(ctypes.Structure):
    pass


_GET_SCHEMA = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ArrowArrayStream), ctypes.POINTER(ArrowSchema))
_GET_NEXT = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ArrowArrayStream), ctypes.POINTER(ArrowArray))
_GET_ERROR = ctypes.CFUNCTYPE(ctypes.c_char_p, ctypes.POINTER(ArrowArrayStream))
_RELEASE_SCHEMA = ctypes.CFUNCTYPE(None, ctypes.POINTER(ArrowSchema))
_RELEASE_ARRAY = ctypes.CFUNCTYPE(None, ctypes.POINTER(ArrowArray))

ArrowArrayStream._fields_ = [
    ("get_schema", _GET_SCHEMA),
    ("get_next", _GET_NEXT),
    ("get_last_error", _GET_ERROR),
    ("release", ctypes.c_void_p),
    ("private_data", ctypes.c_void_p),
]

_capsule_get_pointer = ctypes.pythonapi.PyCapsule_GetPointer
_capsule_get_pointer.restype = ctypes.c_void_p
_capsule_get_pointer.argtypes = [ctypes.py_object, ctypes.c_char_p]

_KEY_FORMATS = "binary (z), string (u), large_binary (Z), large_string (U), binary_view (vz), " \
               "string_view (vu), fixed_size_binary (w:N)"


def _capsule(obj: Any, name: bytes) -> int:
    ptr = _capsule_get_pointer(obj, name)
    if not ptr:
        raise ValueError(f"Arrow capsule {name.decode()} holds a NULL pointer")
    return ptr


def _valid(arr: ArrowArray, i: int) -> bool:
    if arr.null_count == 0 or arr.n_buffers == 0 or not arr.buffers[0]:
        return True
    bit = arr.offset + i
    byte = ctypes.string_at(arr.buffers[0] + (bit >> 3), 1)[0]
    return bool((byte >> (bit & 7)) & 1)


def _values(schema: ArrowSchema, arr: ArrowArray) -> List[Optional[bytes]]:
    fmt = schema.format.decode("ascii", "replace")
    n = arr.length
    off = arr.offset
    out: List[Optional[bytes]] = []
    if schema.dictionary:
        if not arr.dictionary:
            raise ValueError("Arrow dictionary array without its dictionary")
        values = _values(schema.dictionary.contents, arr.dictionary.contents)
        width = {"c": 1, "C": 1, "s": 2, "S": 2, "i": 4, "I": 4, "l": 8, "L": 8}.get(fmt)
        if width is None:
            raise TypeError(f"Arrow dictionary index format {fmt!r} is not supported")
        signed = fmt.islower()
        raw = ctypes.string_at(arr.buffers[1] + off * width, n * width)
        for i in range(n):
            if _valid(arr, i):
                idx = int.from_bytes(raw[i * width : (i + 1) * width], "little", signed=signed)
                out.append(values[idx])
            else:
                out.append(None)
        return out
    if fmt == "n":
        return [None] * n
    if fmt in ("z", "u", "Z", "U"):
        width = 4 if fmt in ("z", "u") else 8
        raw = ctypes.string_at(arr.buffers[1] + off * width, (n + 1) * width) if n else b""
        offsets = [int.from_bytes(raw[i * width : (i + 1) * width], "little", signed=True) for i in range(n + 1)]
        data = arr.buffers[2]
        for i in range(n):
            if _valid(arr, i):
                start, end = offsets[i], offsets[i + 1]
                out.append(ctypes.string_at(data + start, end - start) if end > start else b"")
            else:
                out.append(None)
        return out
    if fmt in ("vz", "vu"):
        views = ctypes.string_at(arr.buffers[1] + off * 16, n * 16) if n else b""
        for i in range(n):
            if not _valid(arr, i):
                out.append(None)
                continue
            v = views[i * 16 : (i + 1) * 16]
            length = int.from_bytes(v[0:4], "little", signed=True)
            if length <= 12:
                out.append(v[4 : 4 + length])
            else:
                buf = int.from_bytes(v[8:12], "little", signed=True)
                start = int.from_bytes(v[12:16], "little", signed=True)
                out.append(ctypes.string_at(arr.buffers[2 + buf] + start, length))
        return out
    if fmt.startswith("w:"):
        width = int(fmt[2:])
        data = arr.buffers[1]
        for i in range(n):
            if _valid(arr, i):
                out.append(ctypes.string_at(data + (off + i) * width, width) if width else b"")
            else:
                out.append(None)
        return out
    raise TypeError(
        f"Arrow arrays of format {fmt!r} are not keys; supported: {_KEY_FORMATS}. "
        "Cast the column to binary or string first (numbers: serialize them with fastpart.serde)"
    )


def arrow_keys(obj: Any) -> List[Optional[bytes]]:
    """All keys of an object exporting ``__arrow_c_stream__`` or ``__arrow_c_array__``."""
    cls = type(obj)
    if hasattr(cls, "__arrow_c_stream__"):
        capsule = obj.__arrow_c_stream__()
        stream = ctypes.cast(_capsule(capsule, b"arrow_array_stream"), ctypes.POINTER(ArrowArrayStream))
        schema = ArrowSchema()
        if stream.contents.get_schema(stream, ctypes.byref(schema)) != 0:
            raise ValueError(f"Arrow stream get_schema failed: {stream.contents.get_last_error(stream)!r}")
        try:
            keys: List[Optional[bytes]] = []
            while True:
                arr = ArrowArray()
                if stream.contents.get_next(stream, ctypes.byref(arr)) != 0:
                    raise ValueError(f"Arrow stream get_next failed: {stream.contents.get_last_error(stream)!r}")
                if not arr.release:
                    break
                try:
                    keys.extend(_values(schema, arr))
                finally:
                    _RELEASE_ARRAY(arr.release)(ctypes.byref(arr))
            return keys
        finally:
            if schema.release:
                _RELEASE_SCHEMA(schema.release)(ctypes.byref(schema))
            del capsule  # the capsule's destructor releases the stream
    schema_capsule, array_capsule = obj.__arrow_c_array__()
    schema_p = ctypes.cast(_capsule(schema_capsule, b"arrow_schema"), ctypes.POINTER(ArrowSchema))
    array_p = ctypes.cast(_capsule(array_capsule, b"arrow_array"), ctypes.POINTER(ArrowArray))
    # read in place; the capsules' destructors release schema and array
    return _values(schema_p.contents, array_p.contents)
