"""Values as read from a file -> the key bytes a Java producer's serializer writes.

``--key-encoding`` says how key *text* is written (utf8, hex, base64);
``--key-type`` names the producer's serializer (``fastpart.serde``).  Three
entry points, one per kind of reader:

* :func:`text_keys`: fields of a text file (lines, kcat), as ``bytes``;
* :func:`json_keys`: values decoded by the ``json`` module;
* :func:`arrow_keys`: a pyarrow array (CSV, Parquet, Arrow IPC), converted in
  bulk where pyarrow/NumPy can (a string column goes to ``partition_many`` as
  it is; integer columns are serialized as a whole array).

Example:
    >>> o = KeyOptions(encoding="hex", key_type="bytes")
    >>> text_keys([b"00ff", None], o, "stdin", 0)
    [b'\\x00\\xff', None]
    >>> json_keys([42, None], KeyOptions(key_type="int32"), "x.jsonl", 0)
    [b'\\x00\\x00\\x00*', None]
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any, Callable, List, Optional

from .. import serde
from .._inputs import java_utf8
from ._common import InputError

NUMERIC = ("int16", "int32", "int64", "float32", "float64")
_SERDE = {"int16": serde.int16, "int32": serde.int32, "int64": serde.int64,
          "float32": serde.float32, "float64": serde.float64, "uuid": serde.uuid}
_JAVA = {"int16": "ShortSerializer", "int32": "IntegerSerializer", "int64": "LongSerializer",
         "float32": "FloatSerializer", "float64": "DoubleSerializer", "uuid": "UUIDSerializer",
         "string": "StringSerializer", "bytes": "ByteArraySerializer"}


@dataclass(frozen=True)
class KeyOptions:
    """The key options of the command line."""

    encoding: str = "utf8"
    key_type: str = "string"
    empty_is_null: bool = False
    null_marker: Optional[str] = None

    @property
    def text_is_key(self) -> bool:
        """True when the key is the field's UTF-8 bytes as they are (no decoding, no serializer)."""
        return self.encoding == "utf8" and self.key_type in ("string", "bytes")


def _where(source: str, index: int) -> str:
    return f"{source}, key {index + 1}"


def _decode(text: bytes, enc: str, source: str, index: int) -> bytes:
    try:
        if enc == "hex":
            return bytes.fromhex(text.decode("ascii"))
        return base64.b64decode(text, validate=True)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        shown = text[:60].decode("utf-8", "backslashreplace")
        raise InputError(f"{_where(source, index)}: {shown!r} is not {enc} "
                         f"(check --key-encoding; utf8 reads the text as it is)") from None


def _serialize(kind: str, value: Any, source: str, index: int) -> bytes:
    try:
        out = _SERDE[kind](value)
        assert isinstance(out, bytes)
        return out
    except (TypeError, ValueError) as exc:
        raise InputError(f"{_where(source, index)}: cannot serialize {value!r} as a Java {_JAVA[kind]} "
                         f"(--key-type {kind}): {exc}") from None


def _parse_number(kind: str, text: str) -> Any:
    if kind.startswith("int"):
        return int(text.strip())
    return float(text.strip())


def text_keys(fields: List[Optional[bytes]], opts: KeyOptions, source: str, start: int) -> List[Optional[bytes]]:
    """Key bytes for the fields of a text file (``None`` = already a null key).

    The empty-field and null-marker rules are applied here too.
    """
    marker = None if opts.null_marker is None else opts.null_marker.encode("utf-8")
    empty_null = opts.empty_is_null
    if opts.text_is_key:
        if marker is None and not empty_null:
            return fields
        return [None if f is None or f == marker or (empty_null and not f) else f for f in fields]
    out: List[Optional[bytes]] = []
    kind = opts.key_type
    for i, f in enumerate(fields):
        if f is None or f == marker or (empty_null and not f):
            out.append(None)
        elif kind in ("string", "bytes"):
            out.append(_decode(f, opts.encoding, source, start + i))
        else:
            text = f.decode("utf-8", "replace")
            try:
                value: Any = text if kind == "uuid" else _parse_number(kind, text)
            except ValueError:
                raise InputError(f"{_where(source, start + i)}: {text[:60]!r} is not a number "
                                 f"for --key-type {kind}") from None
            out.append(_serialize(kind, value, source, start + i))
    return out


def json_keys(values: List[Any], opts: KeyOptions, source: str, start: int) -> List[Optional[bytes]]:
    """Key bytes for values decoded from JSON (str, int, float, None)."""
    out: List[Optional[bytes]] = []
    kind = opts.key_type
    for i, v in enumerate(values):
        if v is None or (isinstance(v, str) and (v == opts.null_marker or (opts.empty_is_null and not v))):
            out.append(None)
        elif isinstance(v, str):
            if kind in ("string", "bytes"):
                out.append(java_utf8(v) if opts.encoding == "utf8" else
                           _decode(v.encode("utf-8"), opts.encoding, source, start + i))
            elif kind == "uuid":
                out.append(_serialize(kind, v, source, start + i))
            else:
                try:
                    out.append(_serialize(kind, _parse_number(kind, v), source, start + i))
                except ValueError:
                    raise InputError(f"{_where(source, start + i)}: {v[:60]!r} is not a number "
                                     f"for --key-type {kind}") from None
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            if kind not in NUMERIC:
                raise InputError(f"{_where(source, start + i)}: the key is the JSON number {v!r}; a number has "
                                 f"no key bytes until serialized: give --key-type int32/int64/float64 "
                                 f"(the producer's Java serializer)")
            if kind.startswith("int") and isinstance(v, float):
                raise InputError(f"{_where(source, start + i)}: {v!r} is not an integer (--key-type {kind})")
            out.append(_serialize(kind, v, source, start + i))
        else:
            raise InputError(f"{_where(source, start + i)}: a key must be a JSON string, number or null, "
                             f"not {type(v).__name__} ({str(v)[:60]}); pick a nested field with --column a.b")
    return out


def _is(t: Any, *preds: Callable[[Any], bool]) -> bool:
    return any(p(t) for p in preds)


def arrow_keys(arr: Any, opts: KeyOptions, source: str, start: int, column: str) -> Any:
    """Keys for a pyarrow array: an Arrow array or NumPy ``S<w>`` array when it
    can stay in bulk, else a list of ``bytes``/``None``.
    """
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
    import pyarrow.compute as pc  # type: ignore[import-untyped,unused-ignore]
    import pyarrow.types as pt  # type: ignore[import-untyped,unused-ignore]
    if pt.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    t = arr.type
    kind = opts.key_type
    stringish = _is(t, pt.is_string, pt.is_large_string, getattr(pt, "is_string_view", lambda _: False))
    binaryish = _is(t, pt.is_binary, pt.is_large_binary, pt.is_fixed_size_binary,
                    getattr(pt, "is_binary_view", lambda _: False))
    if stringish or binaryish:
        if opts.null_marker is not None or opts.empty_is_null:
            marker = [] if opts.null_marker is None else [opts.null_marker]
            cand = marker + ([""] if opts.empty_is_null else [])
            lit = pa.array(cand if stringish else [c.encode() for c in cand], type=t if stringish else pa.binary())
            mask = pc.is_in(arr if stringish else arr.cast(pa.binary()), value_set=lit)
            arr = pc.if_else(mask, pa.scalar(None, t), arr)
        if kind in ("string", "bytes") and opts.encoding == "utf8":
            return arr  # partition_many reads Arrow string/binary arrays (and views) in bulk
        if kind in ("string", "bytes"):
            vals = arr.to_pylist()
            return [None if v is None else
                    _decode(v.encode("utf-8") if isinstance(v, str) else v, opts.encoding, source, start + i)
                    for i, v in enumerate(vals)]
        if kind == "uuid":
            return [None if v is None else _serialize("uuid", v, source, start + i)
                    for i, v in enumerate(arr.to_pylist())]
        target = {"int16": pa.int16(), "int32": pa.int32(), "int64": pa.int64(),
                  "float32": pa.float32(), "float64": pa.float64()}[kind]
        try:
            arr = pc.cast(arr if stringish else arr.cast(pa.string()), target)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise InputError(f"{source}: column {column!r} does not hold {kind} values: {exc}") from None
        t = arr.type
    if pt.is_integer(t) or pt.is_floating(t):
        if kind not in NUMERIC:
            raise InputError(f"{source}: column {column!r} holds {t} values; a number has no key bytes until "
                             f"serialized: give --key-type int16/int32/int64/float32/float64 "
                             f"(the producer's Java serializer; fastpart.serde in Python)")
        if kind.startswith("int") and pt.is_floating(t):
            raise InputError(f"{source}: column {column!r} holds {t} values, not integers (--key-type {kind})")
        return _numeric(arr, kind, source, column)
    raise InputError(f"{source}: column {column!r} holds {t} values, which are not keys; "
                     f"keys are string or binary columns (or numbers with --key-type)")


def _numeric(arr: Any, kind: str, source: str, column: str) -> Any:
    import numpy as np
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
    nulls = arr.null_count
    filled = arr.fill_null(0) if nulls else arr
    values = filled.to_numpy(zero_copy_only=False)
    try:
        raw = _SERDE[kind](np.ascontiguousarray(values))
    except (TypeError, ValueError) as exc:
        raise InputError(f"{source}: column {column!r}: {exc} (--key-type {kind})") from None
    # (count, width) uint8 rows: every key exactly `width` bytes (NumPy's S<w> items would lose
    # trailing NUL bytes when read back one by one, so the rows stay rows)
    rows = np.ascontiguousarray(raw).reshape(len(arr), -1).view(np.uint8) if raw.ndim == 1 else \
        np.ascontiguousarray(raw)
    if not nulls:
        return rows
    width = rows.shape[1]
    valid = pa.array(~arr.is_null().to_numpy(zero_copy_only=False)).buffers()[1]
    return pa.FixedSizeBinaryArray.from_buffers(pa.binary(width), len(arr), [valid, pa.py_buffer(rows)])
