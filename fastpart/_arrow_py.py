"""Reading Arrow arrays through the Arrow PyCapsule interface, in pure Python.

No pyarrow dependency: the C Data Interface structs are declared here with
ctypes and read in place.  Supported key types: binary (``z``), string
(``u``), large_binary (``Z``), large_string (``U``), binary_view (``vz``),
string_view (``vu``), fixed_size_binary (``w:N``), the null type (``n``) and
dictionary arrays whose values are one of those.  Nulls become ``None``;
``array.offset`` (sliced arrays) is honoured.

Every chunk is checked before any key byte is read, with the rules and error
texts of ``_arrow_rules`` (the compiled reader ``_arrow.pxi`` applies the same
ones in C): a malformed array is a ValueError naming the chunk, the index and
the rule.  A stream is read exactly once.

Reading a capsule needs CPython's ``ctypes.pythonapi``; on other
interpreters (PyPy) Arrow input is a TypeError that says to pass
``to_pylist()`` instead.

Example (any object with ``__arrow_c_array__`` / ``__arrow_c_stream__``;
tests/test_arrow.py has pyarrow, polars, pandas and hand-made capsules):
    >>> _Layout.__name__, _capsule_pointer_getter() is not None
    ('_Layout', True)
"""

from __future__ import annotations

import array
import ctypes
import platform
from typing import Any, Callable, List, Optional, Sequence, Tuple

from . import _arrow_rules as _AR

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

_INT64_MAX = 2**63 - 1
_INDEX_CODES = {(1, True): "b", (1, False): "B", (2, True): "h", (2, False): "H",
                (4, True): "i", (4, False): "I", (8, True): "q", (8, False): "Q"}
_getter: Optional[Callable[[Any, bytes], Optional[int]]] = None


def _capsule_pointer_getter() -> Callable[[Any, bytes], Optional[int]]:
    """``PyCapsule_GetPointer`` through ctypes; a clear error where it is missing."""
    global _getter
    if _getter is None:
        api = getattr(ctypes, "pythonapi", None)
        if api is None:
            raise TypeError(
                f"the pure-Python core reads Arrow data through CPython's ctypes.pythonapi, which "
                f"{platform.python_implementation()} does not have: pass the keys as a list instead, "
                "e.g. partition_many(arr.to_pylist(), n) (pyarrow) or s.to_list() (polars)")
        fn = api.PyCapsule_GetPointer
        fn.restype = ctypes.c_void_p
        fn.argtypes = [ctypes.py_object, ctypes.c_char_p]
        _getter = fn
    return _getter


def _capsule(obj: Any, name: bytes) -> int:
    ptr = _capsule_pointer_getter()(obj, name)
    if not ptr:
        raise ValueError(f"Arrow capsule {name.decode()} holds a NULL pointer")
    return int(ptr)


def _extension(schema: ArrowSchema) -> Optional[str]:
    if not schema.metadata:
        return None
    size = _AR.metadata_size(ctypes.string_at, schema.metadata)
    return _AR.extension_name(ctypes.string_at(schema.metadata, size))


class _Layout:
    """What a schema says: the key kind, or a dictionary's index and value kinds."""

    def __init__(self, schema: ArrowSchema) -> None:
        if not schema.release:
            raise _AR.released("schema")
        if schema.format is None:
            raise ValueError("malformed Arrow schema: its format string is NULL")
        fmt = schema.format.decode("utf-8", "replace")
        ext = _extension(schema)
        if ext is not None and ext not in _AR.SAFE_EXTENSIONS:
            raise _AR.not_a_key_column(fmt, ext)
        self.iw, self.isgn = 0, False
        if schema.dictionary:
            spec = _AR.INDEX_FORMATS.get(fmt)
            if spec is None:
                raise ValueError(f"malformed Arrow schema: dictionary index format {fmt!r} is not an integer")
            self.iw, self.isgn = spec
            d = schema.dictionary.contents
            if d.format is None:
                raise ValueError("malformed Arrow schema: the dictionary's format string is NULL")
            if d.dictionary:
                raise TypeError("an Arrow dictionary of dictionaries is not a key column: decode it first")
            fmt = d.format.decode("utf-8", "replace")
            ext = _extension(d)
            if ext is not None and ext not in _AR.SAFE_EXTENSIONS:
                raise _AR.not_a_key_column(fmt, ext)
        self.kind, self.width = _AR.parse_format(fmt)
        self.fmt = fmt


def _bits(ptr: int, offset: int, length: int) -> Callable[[int], bool]:
    """valid(i) for keys i of a chunk from its validity bitmap."""
    first = offset >> 3
    raw = ctypes.string_at(ptr + first, ((offset + length + 7) >> 3) - first)

    def valid(i: int) -> bool:
        bit = offset + i - 8 * first
        return bool((raw[bit >> 3] >> (bit & 7)) & 1)

    return valid


def _ints(ptr: int, code: str, start: int, count: int) -> Sequence[int]:
    out = array.array(code)
    if count:
        out.frombytes(ctypes.string_at(ptr + start * out.itemsize, count * out.itemsize))
    return out


class _Col:
    """One checked array of keys: structural checks, then the O(n) checks."""

    def __init__(self, kind: int, width: int, a: ArrowArray, fmt: str, chunk: int, where: str) -> None:
        n, off = a.length, a.offset
        if n < 0:
            raise _AR.malformed(chunk, None, 1, where)
        if off < 0:
            raise _AR.malformed(chunk, None, 2, where)
        if a.null_count < -1:
            raise _AR.malformed(chunk, None, 3, where)
        if off > _INT64_MAX - n - 1:
            raise _AR.malformed(chunk, None, 4, where)
        need = _AR.BUFFERS[kind]
        if (a.n_buffers < need) if kind == _AR.KIND_VIEW else (a.n_buffers != need):
            raise _AR.buffer_count_error(chunk, fmt, a.n_buffers, need, where)
        if a.n_buffers > 0 and not a.buffers:
            raise _AR.malformed(chunk, None, 5, where)
        self.kind, self.width, self.length, self.offset = kind, width, n, off
        self.valid: Optional[Callable[[int], bool]] = None
        self.index: Optional[int] = None
        self.data: Optional[int] = None
        self.offsets: Sequence[int] = ()
        if kind == _AR.KIND_NULL:
            return
        bufs = a.buffers
        if not bufs[0] and a.null_count > 0:
            raise _AR.malformed(chunk, None, 6, where)
        if a.null_count != 0 and bufs[0] and n:
            self.valid = _bits(bufs[0], off, n)
        self.index = bufs[1]
        if kind in (_AR.KIND_BIN32, _AR.KIND_BIN64):
            if not self.index and n > 0:
                raise _AR.malformed(chunk, None, 7, where)
            self.data = bufs[2]
            if n:
                self.offsets = _ints(self.index, "i" if kind == _AR.KIND_BIN32 else "q", off, n + 1)
                self._check_offsets(chunk, where)
        elif kind == _AR.KIND_VIEW:
            if not self.index and n > 0:
                raise _AR.malformed(chunk, None, 11, where)
            nvar = a.n_buffers - 3
            sizes_ptr = bufs[a.n_buffers - 1]
            if nvar > 0 and not sizes_ptr:
                raise _AR.malformed(chunk, None, 23, where)
            self.vbufs = [bufs[2 + k] for k in range(nvar)]
            self.vsizes = _ints(sizes_ptr, "q", 0, nvar) if nvar else ()
            if n:
                self._check_views(chunk, where)
        else:
            if width > 0 and off + n > _INT64_MAX // width:
                raise _AR.malformed(chunk, None, 22, where)
            if not self.index and n > 0 and width > 0:
                raise _AR.malformed(chunk, None, 8, where)

    def _check_offsets(self, chunk: int, where: str) -> None:
        o = self.offsets
        if o[0] < 0:
            raise _AR.malformed(chunk, 0, 9, where)
        for i in range(self.length):
            if o[i + 1] < o[i]:
                raise _AR.malformed(chunk, i, 10, where)
        if not self.data and o[self.length] != o[0]:
            raise _AR.malformed(chunk, None, 8, where)

    def _views(self) -> List[Tuple[int, int, int, bytes]]:
        raw = ctypes.string_at(self.index + 16 * self.offset, 16 * self.length)
        out = []
        for i in range(self.length):
            v = raw[16 * i:16 * i + 16]
            out.append((int.from_bytes(v[0:4], "little", signed=True), int.from_bytes(v[8:12], "little", signed=True),
                        int.from_bytes(v[12:16], "little", signed=True), v[4:16]))
        return out

    def _check_views(self, chunk: int, where: str) -> None:
        if any(s < 0 for s in self.vsizes):
            raise _AR.malformed(chunk, None, 12, where)
        for i, (length, buf, off, _) in enumerate(self._views()):
            if self.valid is not None and not self.valid(i):
                continue
            if length < 0:
                raise _AR.malformed(chunk, i, 13, where)
            if length <= 12:
                continue
            if buf < 0 or buf >= len(self.vbufs):
                raise _AR.malformed(chunk, i, 14, where)
            if off < 0:
                raise _AR.malformed(chunk, i, 15, where)
            if off + length > self.vsizes[buf]:
                raise _AR.malformed(chunk, i, 16, where)
            if not self.vbufs[buf]:
                raise _AR.malformed(chunk, i, 17, where)

    def values(self) -> List[Optional[bytes]]:
        """Every key (None for nulls); only after the checks above."""
        n, valid = self.length, self.valid
        if self.kind == _AR.KIND_NULL:
            return [None] * n
        keys: List[Optional[bytes]]
        if self.kind in (_AR.KIND_BIN32, _AR.KIND_BIN64):
            o = self.offsets
            if not n:
                return []
            blob = ctypes.string_at(self.data + o[0], o[n] - o[0]) if self.data else b""
            base = o[0] if self.data else 0
            keys = [blob[o[i] - base:o[i + 1] - base] if self.data else b"" for i in range(n)]
        elif self.kind == _AR.KIND_VIEW:
            keys = []
            for i, (length, buf, off, inline) in enumerate(self._views()):
                if valid is not None and not valid(i):
                    keys.append(None)
                elif length <= 12:
                    keys.append(inline[:length])
                else:
                    keys.append(ctypes.string_at(self.vbufs[buf] + off, length))
            return keys
        else:
            w = self.width
            blob = ctypes.string_at(self.index + self.offset * w, n * w) if w and n else b""
            keys = [blob[i * w:(i + 1) * w] for i in range(n)]
        if valid is not None:
            keys = [k if valid(i) else None for i, k in enumerate(keys)]
        return keys


def _chunk_keys(lay: _Layout, a: ArrowArray, chunk: int) -> Callable[[], List[Optional[bytes]]]:
    """Check one array; return the function that reads its keys."""
    if not a.release:
        raise _AR.released("array")
    if not lay.iw:
        return _Col(lay.kind, lay.width, a, lay.fmt, chunk, "").values
    n, off = a.length, a.offset
    if n < 0:
        raise _AR.malformed(chunk, None, 1, "")
    if off < 0:
        raise _AR.malformed(chunk, None, 2, "")
    if a.null_count < -1:
        raise _AR.malformed(chunk, None, 3, "")
    if off > _INT64_MAX - n - 1:
        raise _AR.malformed(chunk, None, 4, "")
    if a.n_buffers != 2:
        raise _AR.buffer_count_error(chunk, "dictionary indices", a.n_buffers, 2)
    if not a.buffers:
        raise _AR.malformed(chunk, None, 5, "")
    if not a.buffers[0] and a.null_count > 0:
        raise _AR.malformed(chunk, None, 6, "")
    if not a.buffers[1] and n > 0:
        raise _AR.malformed(chunk, None, 21, "")
    if not a.dictionary:
        raise _AR.malformed(chunk, None, 20, "")
    valid = _bits(a.buffers[0], off, n) if a.null_count != 0 and a.buffers[0] and n else None
    idx = _ints(a.buffers[1], _INDEX_CODES[(lay.iw, lay.isgn)], off, n) if n else ()
    col = _Col(lay.kind, lay.width, a.dictionary.contents, lay.fmt, chunk, " dictionary")
    for i, k in enumerate(idx):
        if valid is not None and not valid(i):
            continue
        if k < 0:
            raise _AR.malformed(chunk, i, 18, "")
        if k >= col.length:
            raise _AR.malformed(chunk, i, 19, "")

    def values() -> List[Optional[bytes]]:
        vals = col.values()
        return [None if valid is not None and not valid(i) else vals[k] for i, k in enumerate(idx)]

    return values


def _stream_error(stream: Any, what: str) -> ValueError:
    msg = stream.contents.get_last_error(stream) if stream.contents.get_last_error else None
    text = msg.decode("utf-8", "replace") if msg else "(no message)"
    return ValueError(f"Arrow stream {what} failed: {text}")


def arrow_keys(obj: Any) -> List[Optional[bytes]]:
    """All keys of an object exporting ``__arrow_c_stream__`` or ``__arrow_c_array__``."""
    obj = _AR.check_source(obj)
    cls = type(obj)
    if hasattr(cls, "__arrow_c_stream__"):
        capsule = _AR.export(obj, "__arrow_c_stream__")
        stream = ctypes.cast(_capsule(capsule, b"arrow_array_stream"), ctypes.POINTER(ArrowArrayStream))
        st = stream.contents
        if not st.release or not st.get_schema or not st.get_next:
            raise _AR.released("array stream")
        schema = ArrowSchema()
        arrays: List[ArrowArray] = []
        try:
            if st.get_schema(stream, ctypes.byref(schema)) != 0:
                raise _stream_error(stream, "get_schema")
            lay = _Layout(schema)
            while True:
                arr = ArrowArray()
                if st.get_next(stream, ctypes.byref(arr)) != 0:
                    raise _stream_error(stream, "get_next")
                if not arr.release:
                    break
                arrays.append(arr)
            readers = [_chunk_keys(lay, a, c) for c, a in enumerate(arrays)]
            keys: List[Optional[bytes]] = []
            for read in readers:
                keys.extend(read())
            return keys
        finally:
            for a in arrays:
                if a.release:
                    _RELEASE_ARRAY(a.release)(ctypes.byref(a))
            if schema.release:
                _RELEASE_SCHEMA(schema.release)(ctypes.byref(schema))
            del capsule  # the capsule's destructor releases the stream
    exported = _AR.export(obj, "__arrow_c_array__")
    if type(exported) is not tuple or len(exported) != 2:
        raise TypeError("__arrow_c_array__() must return a (schema capsule, array capsule) pair")
    schema_capsule, array_capsule = exported
    schema_p = ctypes.cast(_capsule(schema_capsule, b"arrow_schema"), ctypes.POINTER(ArrowSchema))
    array_p = ctypes.cast(_capsule(array_capsule, b"arrow_array"), ctypes.POINTER(ArrowArray))
    # read in place; the capsules' destructors release schema and array
    lay = _Layout(schema_p.contents)
    return _chunk_keys(lay, array_p.contents, 0)()
