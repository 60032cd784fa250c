"""Rules of Arrow key input shared by both cores (no ctypes, no pyarrow import).

The compiled reader (``_arrow.pxi``) and the pure twin's ctypes reader
(``_arrow_py.py``) read the Arrow C Data Interface themselves; what a format
string means, which columns are refused and every error text live here, so
both cores answer alike.

Example:
    >>> parse_format("w:16")
    (5, 16)
    >>> parse_format("vu")
    (4, 0)
    >>> malformed(0, 3, RULE_OFFSETS_DECREASE)
    ValueError('malformed Arrow array (chunk 0, index 3): offsets decrease (offsets[i + 1] < offsets[i])')
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Tuple

from . import _inputs

# Kinds of key columns (the compiled reader uses the same numbers).
KIND_NULL, KIND_BIN32, KIND_BIN64, KIND_VIEW, KIND_FIXED = 1, 2, 3, 4, 5
# Buffers each kind needs (views: at least 3, the variadic sizes buffer last).
BUFFERS = {KIND_NULL: 0, KIND_BIN32: 3, KIND_BIN64: 3, KIND_VIEW: 3, KIND_FIXED: 2}
# Dictionary index formats: (width in bytes, signed).
INDEX_FORMATS: Dict[str, Tuple[int, bool]] = {
    "c": (1, True), "C": (1, False), "s": (2, True), "S": (2, False),
    "i": (4, True), "I": (4, False), "l": (8, True), "L": (8, False),
}
# Extension types whose storage bytes are what a Java producer sends.
SAFE_EXTENSIONS = ("arrow.json",)

KEY_FORMATS = ("binary (z), string (u), large_binary (Z), large_string (U), binary_view (vz), "
               "string_view (vu), fixed_size_binary (w:N), null (n) and dictionaries of those")

# Rules a malformed array breaks (the compiled reader returns these numbers).
RULE_TEXT = {
    1: "length is negative",
    2: "offset is negative",
    3: "null_count is below -1",
    4: "offset + length overflows",
    5: "the buffers pointer is NULL",
    6: "the validity buffer is NULL while null_count > 0",
    7: "the offsets buffer is NULL",
    8: "the data buffer is NULL while keys have bytes",
    9: "the first offset is negative",
    10: "offsets decrease (offsets[i + 1] < offsets[i])",
    11: "the views buffer is NULL",
    12: "a variadic buffer size is negative",
    13: "view length is negative",
    14: "view buffer index is outside the variadic buffers",
    15: "view offset is negative",
    16: "view offset + length is past the end of its buffer",
    17: "a variadic buffer referenced by a view is NULL",
    18: "dictionary index is negative",
    19: "dictionary index is past the end of the dictionary",
    20: "the dictionary array is missing",
    21: "the indices buffer is NULL",
    22: "width * (offset + length) overflows",
    23: "the variadic sizes buffer is NULL",
}
RULE_OFFSETS_DECREASE = 10


def malformed(chunk: int, index: Optional[int], rule: int, where: str = "") -> ValueError:
    """The error for a malformed chunk; *index* is the key's index in the chunk."""
    at = f"chunk {chunk}{where}" + ("" if index is None or index < 0 else f", index {index}")
    return ValueError(f"malformed Arrow array ({at}): {RULE_TEXT[rule]}")


def buffer_count_error(chunk: int, fmt: str, got: int, need: int, where: str = "") -> ValueError:
    more = "at least " if fmt in ("vz", "vu") else ""
    return ValueError(f"malformed Arrow array (chunk {chunk}{where}): {got} buffers, "
                      f"format {fmt!r} needs {more}{need}")


def released(what: str) -> ValueError:
    return ValueError(f"the Arrow {what} is released (already consumed or moved): "
                      "export the data again and pass it once")


_FORMATS: Dict[str, Tuple[int, int]] = {
    "n": (KIND_NULL, 0), "z": (KIND_BIN32, 0), "u": (KIND_BIN32, 0), "Z": (KIND_BIN64, 0),
    "U": (KIND_BIN64, 0), "vz": (KIND_VIEW, 0), "vu": (KIND_VIEW, 0),
}


def parse_format(fmt: str) -> Tuple[int, int]:
    """(kind, width) of a key format; ValueError for malformed, TypeError for typed."""
    known = _FORMATS.get(fmt)
    if known is not None:
        return known
    if fmt.startswith("w:"):
        digits = fmt[2:]
        if not digits or not digits.isascii() or not digits.isdigit() or len(digits) > 10 or int(digits) > 2**31 - 1:
            raise ValueError(f"malformed Arrow format string {fmt!r}: fixed_size_binary is 'w:' followed by "
                             "a width of 0 to 2147483647 in decimal digits")
        if len(_FORMATS) < 256:
            _FORMATS[fmt] = (KIND_FIXED, int(digits))
        return KIND_FIXED, int(digits)
    raise not_a_key_column(fmt, None)


_TYPE_NAMES = {"b": "boolean", "c": "int8", "C": "uint8", "s": "int16", "S": "uint16", "i": "int32",
               "I": "uint32", "l": "int64", "L": "uint64", "e": "float16", "f": "float32", "g": "float64"}


def _type_name(fmt: str) -> str:
    if fmt in _TYPE_NAMES:
        return _TYPE_NAMES[fmt]
    for prefix, name in (("d:", "decimal"), ("td", "date"), ("tt", "time"), ("ts", "timestamp"),
                         ("tD", "duration"), ("ti", "interval"), ("+l", "list"), ("+L", "large_list"),
                         ("+s", "struct"), ("+m", "map"), ("+u", "union"), ("+w", "fixed_size_list"),
                         ("+r", "run_end_encoded"), ("+v", "list_view")):
        if fmt.startswith(prefix):
            return name
    return fmt


def typed_error(type_name: str, kind: str) -> TypeError:
    return _inputs.typed_key_error(type_name, kind)


def not_a_key_column(fmt: str, extension: Optional[str]) -> Exception:
    """The error for a column of format *fmt* (and extension name) that holds no keys."""
    if extension == "arrow.uuid":
        return typed_error("an Arrow uuid (arrow.uuid extension) column", "uuid")
    if extension is not None:
        return TypeError(
            f"an Arrow extension column {extension!r} (storage format {fmt!r}) is not read as keys: "
            "fastpart cannot know which bytes your producer's serializer writes for it. If the "
            "storage bytes are the key, pass the storage array (pyarrow: arr.storage)")
    kind = _inputs.arrow_format_kind(fmt)
    if kind is not None:
        return typed_error(f"an Arrow {_type_name(fmt)} column (format {fmt!r})", kind)
    if fmt.startswith("+s"):
        return TypeError("an Arrow struct (a table or record batch) is not a key column: pass one "
                         "column, e.g. table['key'] or df['key']")
    if fmt.startswith("+"):
        return TypeError(f"an Arrow {_type_name(fmt)} column (format {fmt!r}) is not a key column; "
                         f"supported: {KEY_FORMATS}")
    return ValueError(f"malformed or unknown Arrow format string {fmt!r}; key columns are {KEY_FORMATS}")


def extension_name(metadata: Optional[bytes]) -> Optional[str]:
    """The ``ARROW:extension:name`` in a schema's encoded metadata, if any.

    *metadata* is the raw encoding (int32 count, then int32-length-prefixed
    keys and values); a truncated or negative length is a ValueError.

    Example:
        >>> import struct
        >>> m = struct.pack("<ii", 1, 20) + b"ARROW:extension:name" + struct.pack("<i", 10) + b"arrow.uuid"
        >>> extension_name(m)
        'arrow.uuid'
    """
    if not metadata:
        return None
    pairs = _metadata_pairs(metadata)
    name = pairs.get(b"ARROW:extension:name")
    return None if name is None else name.decode("utf-8", "replace")


def _metadata_pairs(raw: bytes) -> Dict[bytes, bytes]:
    def i32(pos: int) -> int:
        if pos + 4 > len(raw):
            raise ValueError("malformed Arrow schema metadata: truncated")
        v = int.from_bytes(raw[pos:pos + 4], "little", signed=True)
        if v < 0:
            raise ValueError("malformed Arrow schema metadata: negative length")
        return v

    out: Dict[bytes, bytes] = {}
    count, pos = i32(0), 4
    for _ in range(count):
        n = i32(pos)
        key = raw[pos + 4:pos + 4 + n]
        pos += 4 + n
        m = i32(pos)
        out[key] = raw[pos + 4:pos + 4 + m]
        pos += 4 + m
    return out


def metadata_size(read: Any, address: int) -> int:
    """Byte size of the metadata encoding at *address*; *read(addr, n)* reads memory."""
    total = 4
    count = int.from_bytes(read(address, 4), "little", signed=True)
    if count < 0:
        raise ValueError("malformed Arrow schema metadata: negative count")
    for _ in range(2 * count):
        n = int.from_bytes(read(address + total, 4), "little", signed=True)
        if n < 0:
            raise ValueError("malformed Arrow schema metadata: negative length")
        total += 4 + n
    return total


def export_failed(keys: Any, method: str, exc: BaseException) -> ValueError:
    """A producer's export error that is neither a TypeError nor a ValueError
    (nanoarrow: RuntimeError "array stream is released"), as a ValueError."""
    return ValueError(f"the Arrow export {type(keys).__name__}.{method}() failed: {type(exc).__name__}: {exc}")


def export(keys: Any, method: str) -> Any:
    """``keys.__arrow_c_stream__()`` or ``__arrow_c_array__()`` (see export_failed)."""
    try:
        return getattr(keys, method)()
    except (TypeError, ValueError):
        raise
    except Exception as exc:
        raise export_failed(keys, method, exc) from exc


_SOURCES: Dict[type, int] = {}  # type -> 0 nothing to do, 1 polars, 2 pyarrow, 3 pandas


def source_kind(cls: type) -> int:
    """What check_source does for objects of type *cls* (0: nothing)."""
    source = _SOURCES.get(cls)
    if source is None:
        module = getattr(cls, "__module__", "") or ""
        source = (1 if module.startswith("polars") else
                  2 if module.startswith("pyarrow") and hasattr(cls, "validate") else
                  3 if module.startswith("pandas") and hasattr(cls, "array") else 0)
        _SOURCES[cls] = source
    return source


def pandas_arrow(series: Any) -> Any:
    """The pyarrow array behind an Arrow-backed pandas Series (not yet validated), or
    *series* itself when its values are not Arrow-backed."""
    values = series.array
    # pandas >= 2 keeps the ChunkedArray in _pa_array: taken when its type is a pyarrow type
    # seen before (0.1 us); __arrow_array__() gives the same object more slowly (0.6 us)
    arrow = getattr(values, "_pa_array", None)
    if _SOURCES.get(type(arrow)) == 2:
        return arrow
    to_arrow = getattr(values, "__arrow_array__", None)
    if to_arrow is None or not type(values).__name__.startswith("Arrow"):
        return series
    arrow = to_arrow()
    if type(arrow) not in _SOURCES:
        _SOURCES[type(arrow)] = 2
    return arrow


def check_source(keys: Any) -> Any:
    """What to read for *keys*, after the refusals decided from the Python object.

    A polars ``Object`` Series exports ``w:8`` (the objects' addresses) with
    nothing in the schema saying so: hashing it would hash memory addresses.
    pyarrow arrays are checked with pyarrow's own (cheap, non-full)
    validation, which knows the buffer sizes the C Data Interface does not
    carry (the end offset against the data buffer's size).  An Arrow-backed
    pandas Series is read through its pyarrow array (``__arrow_array__``,
    0.3 us) rather than its ``__arrow_c_stream__`` (a conversion, 100+ us).
    """
    source = source_kind(type(keys))
    if source == 0:
        return keys
    if source == 1:
        if str(getattr(keys, "dtype", "")) == "Object":
            raise TypeError("a polars Object Series holds Python objects (it exports their memory addresses, "
                            "not key bytes): convert the values to keys first, e.g. fastpart.serde.uuid(v) for "
                            "uuid.UUID values, or s.cast(pl.String) / s.map_elements(str)")
        return keys
    if source == 3:
        arrow = pandas_arrow(keys)
        if arrow is keys:
            return keys
        keys = arrow
    try:
        keys.validate()
    except Exception as exc:  # pyarrow.ArrowInvalid / ArrowIndexError: find the chunk
        chunks = getattr(keys, "chunks", None)
        for c, chunk in enumerate(chunks if chunks is not None else [keys]):
            try:
                chunk.validate()
            except Exception as chunk_exc:
                raise ValueError(f"malformed Arrow array (chunk {c}): {chunk_exc}") from None
        raise ValueError(f"malformed Arrow data: {exc}") from None
    return keys
