"""Key columns of dataframe engines: which column types are keys, and the
Java serializer ``key_type=`` applies to a typed column.  One place for the
rules that ``fastpart.spark``, ``fastpart.polars``, ``fastpart.duckdb`` and
``fastpart.pandas`` share.

Every engine hands its column over as Arrow (Spark's Arrow batches, a polars
Series, a DuckDB Arrow UDF argument, an Arrow-backed pandas Series), and
:func:`partition_arrow` answers it through the core's batch path:

* ``key_type="bytes"`` (the default, Java's ``ByteArraySerializer``): binary
  and string columns (strings as UTF-8), their large/view/fixed-size and
  dictionary forms.  A typed column (numbers, booleans, dates, decimals,
  UUIDs) is a ``TypeError`` naming the ``key_type=`` whose Java serializer
  gives its bytes -- a number is never hashed by its native bytes.
* ``key_type="string"`` (``StringSerializer``): string columns only.
* ``"int16"``, ``"int32"``, ``"int64"`` (``Short/Integer/LongSerializer``):
  integer columns, 2/4/8 bytes big-endian; a value that does not fit is a
  ``ValueError``.
* ``"float32"``, ``"float64"`` (``Float/DoubleSerializer``): numeric columns
  (``float64`` writes every NaN as Java's canonical NaN).
* ``"uuid"`` (``UUIDSerializer``): the lowercase 36-character text of a UUID,
  from a string column holding UUIDs, 16-byte binary or an ``arrow.uuid``
  column.

Null values are keyless records, answered as ``fastpart.partition(None, n, strategy=s)``
answers them: ``-1`` (the producer decides) for most strategies, a fixed partition for
``librdkafka:murmur2`` / ``librdkafka:consistent``.

Example:
    >>> import pyarrow as pa
    >>> partition_arrow(pa.array(["kafka", None]), 12).tolist()
    [4, -1]
    >>> partition_arrow(pa.array([42], pa.int64()), 12, key_type="int64").tolist()
    [4]
    >>> partition_arrow(pa.array([42], pa.int64()), 12)
    Traceback (most recent call last):
    ...
    TypeError: a column of type int64 is not a key column: pass key_type='int64' to hash it as Java's LongSerializer writes it (key_type='int32': IntegerSerializer, key_type='string': cast the column to string first if the producer sends the decimal text)
"""

from __future__ import annotations

import uuid as _uuid
from typing import Any, Dict, Optional, Tuple

import numpy as np

from . import serde
from ._impl import core

KEY_TYPES: Tuple[str, ...] = ("bytes", "string", "int16", "int32", "int64", "float32", "float64", "uuid")

#: key_type -> the Java serializer it reproduces
SERIALIZERS: Dict[str, str] = {
    "bytes": "ByteArraySerializer",
    "string": "StringSerializer",
    "int16": "ShortSerializer",
    "int32": "IntegerSerializer",
    "int64": "LongSerializer",
    "float32": "FloatSerializer",
    "float64": "DoubleSerializer",
    "uuid": "UUIDSerializer",
}

_INT_BITS = {"int16": 16, "int32": 32, "int64": 64}


def check_key_type(key_type: Any) -> str:
    """Validate a ``key_type=`` name.

    Example:
        >>> check_key_type("int32")
        'int32'
        >>> check_key_type("long")
        Traceback (most recent call last):
        ...
        ValueError: unknown key_type 'long'; choose one of bytes, string, int16, int32, int64, float32, float64, uuid
    """
    if not isinstance(key_type, str) or key_type not in KEY_TYPES:
        raise ValueError(f"unknown key_type {key_type!r}; choose one of {', '.join(KEY_TYPES)}")
    return str(key_type)


def check_arguments(key_type: Any, column: Any, expected: type, what: str) -> str:
    """Validate the ``key_type=`` of an engine call (:func:`check_key_type`), then that
    *column* is an *expected* (else a ``TypeError`` naming *what*); return the key type.

    Example:
        >>> check_arguments("int64", [1], list, "list")
        'int64'
        >>> check_arguments("bytes", (1,), list, "list")
        Traceback (most recent call last):
        ...
        TypeError: expected a list, got tuple
    """
    name = check_key_type(key_type)
    if not isinstance(column, expected):
        raise TypeError(f"expected a {what}, got {type(column).__name__}")
    return name


def partitions_of(keys: Any, num_partitions: int, strategy: str) -> "np.ndarray[Any, np.dtype[np.int32]]":
    """The core's ``partition_many`` of *keys* (anything its batch path takes: a list, an
    object array, an Arrow array or stream) into a new ``int32`` array.

    Example:
        >>> partitions_of([b"kafka", None], 12, "java").tolist()
        [4, -1]
    """
    out = np.empty(len(keys), dtype=np.int32)
    core.partition_many(keys, num_partitions, strategy=strategy, out=out)
    return out


def keyless_partitions(length: int, num_partitions: int, strategy: str) -> "np.ndarray[Any, np.dtype[np.int32]]":
    """*length* keyless records (a column of nulls): the strategy's answer for a null key, each.

    Example:
        >>> keyless_partitions(2, 12, "java").tolist()  # -1: the producer decides
        [-1, -1]
        >>> keyless_partitions(2, 12, "librdkafka:murmur2").tolist()  # one fixed partition
        [9, 9]
    """
    return np.full(length, core.partition(None, num_partitions, strategy=strategy), dtype=np.int32)


def _pa() -> Any:
    try:
        import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
    except ImportError:  # pragma: no cover - every engine extra installs pyarrow
        raise ImportError("fastpart's dataframe engines need pyarrow: pip install 'fastpart[arrow]'") from None
    return pa


def _value_type(t: Any) -> Any:
    pa = _pa()
    return t.value_type if pa.types.is_dictionary(t) else t


def _is_text(t: Any) -> bool:
    pa = _pa()
    t = _value_type(t)
    return bool(pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t))


def _is_binary(t: Any) -> bool:
    pa = _pa()
    t = _value_type(t)
    return bool(pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_binary_view(t)
                or pa.types.is_fixed_size_binary(t))


def _is_uuid(t: Any) -> bool:
    return getattr(t, "extension_name", None) == "arrow.uuid"


def _is_int(t: Any) -> bool:
    return bool(_pa().types.is_integer(_value_type(t)))


def _is_float(t: Any) -> bool:
    return bool(_pa().types.is_floating(_value_type(t)))


def type_error(type_name: str, kind: str) -> TypeError:
    """The error for a typed column passed without the ``key_type=`` that serializes it.

    *kind* is "int", "float", "uuid" or anything else (no Java serializer).
    """
    if kind == "int":
        hint = ("pass key_type='int64' to hash it as Java's LongSerializer writes it "
                "(key_type='int32': IntegerSerializer, key_type='string': cast the column to string "
                "first if the producer sends the decimal text)")
        if type_name in ("int8", "int16", "int32", "uint8", "uint16", "short", "int", "tinyint",
                         "smallint", "integer", "Int8", "Int16", "Int32", "UInt8", "UInt16", "byte"):
            hint = ("pass key_type='int32' to hash it as Java's IntegerSerializer writes it "
                    "(key_type='int16': ShortSerializer, key_type='int64': LongSerializer)")
    elif kind == "float":
        hint = ("pass key_type='float64' (Java's DoubleSerializer) or key_type='float32' "
                "(FloatSerializer)")
    elif kind == "uuid":
        hint = "pass key_type='uuid' to hash its text as Java's UUIDSerializer writes it"
    else:
        hint = ("no Java key serializer writes it; cast the column to the type your producer "
                "serializes (e.g. to string for StringSerializer) and pass the matching key_type= "
                f"({', '.join(KEY_TYPES)})")
    return TypeError(f"a column of type {type_name} is not a key column: {hint}")


def _kind(t: Any) -> str:
    if _is_uuid(t):
        return "uuid"
    if _is_int(t):
        return "int"
    if _is_float(t):
        return "float"
    return "other"


def check_arrow_type(t: Any, key_type: str) -> None:
    """Raise unless an Arrow column of type *t* can be hashed with *key_type*.

    Example:
        >>> import pyarrow as pa
        >>> check_arrow_type(pa.string(), "bytes")
        >>> check_arrow_type(pa.binary(), "int32")
        Traceback (most recent call last):
        ...
        TypeError: key_type='int32' (IntegerSerializer) needs an integer column, not binary
    """
    pa = _pa()
    key_type = check_key_type(key_type)
    if pa.types.is_null(t):
        return  # every record keyless
    if key_type == "bytes":
        ok = _is_text(t) or _is_binary(t)
    elif key_type == "string":
        ok = _is_text(t)
    elif key_type in _INT_BITS:
        ok = _is_int(t)
    elif key_type in ("float32", "float64"):
        ok = _is_int(t) or _is_float(t)
    else:
        vt = _value_type(t)
        ok = _is_uuid(t) or _is_text(t) or (pa.types.is_fixed_size_binary(vt) and vt.byte_width == 16) \
            or pa.types.is_binary(vt) or pa.types.is_large_binary(vt) or pa.types.is_binary_view(vt)
    if ok:
        return
    if key_type in ("bytes", "string") and not (_is_text(t) or _is_binary(t)):
        raise type_error(str(t), _kind(t))
    need = {"string": "a string column", "int16": "an integer column", "int32": "an integer column",
            "int64": "an integer column", "float32": "a numeric column", "float64": "a numeric column",
            "uuid": "a string, 16-byte binary or arrow.uuid column", "bytes": "a binary or string column"}
    raise TypeError(f"key_type={key_type!r} ({SERIALIZERS[key_type]}) needs {need[key_type]}, not {t}")


def _validity(arr: Any) -> Optional[Any]:
    pa = _pa()
    if arr.null_count == 0:
        return None
    valid = pa.compute.is_valid(arr)
    return valid.buffers()[1] if valid.offset == 0 else pa.concat_arrays([valid]).buffers()[1]


def _fixed(arr: Any, data: Any, width: int) -> Any:
    """A fixed_size_binary(width) array over *data* (``len(arr) * width`` bytes), nulls of *arr* kept."""
    pa = _pa()
    raw = np.ascontiguousarray(data).view(np.uint8).reshape(-1)
    return pa.Array.from_buffers(pa.binary(width), len(arr), [_validity(arr), pa.py_buffer(raw)],
                                 null_count=arr.null_count)


def _uuid_text(v: Any) -> bytes:
    return serde.uuid(v if isinstance(v, str) else _uuid.UUID(bytes=v))


def serialize(arr: Any, key_type: str) -> Any:
    """The column *arr* (an Arrow Array) as the key bytes *key_type*'s Java serializer
    writes, in a form ``partition_many`` takes (an Arrow array); nulls stay nulls.

    Example:
        >>> import pyarrow as pa
        >>> serialize(pa.array([1, None], pa.int32()), "int32").to_pylist()
        [b'\\x00\\x00\\x00\\x01', None]
    """
    pa = _pa()
    t = arr.type
    check_arrow_type(t, key_type)
    if pa.types.is_null(t) or key_type in ("bytes", "string"):
        return arr
    if pa.types.is_dictionary(t):
        arr = arr.dictionary_decode()
        t = arr.type
    if key_type in _INT_BITS:
        values = arr.fill_null(0).to_numpy(zero_copy_only=False)
        fn = {"int16": serde.int16, "int32": serde.int32, "int64": serde.int64}[key_type]
        return _fixed(arr, fn(values), _INT_BITS[key_type] // 8)
    if key_type in ("float32", "float64"):
        values = arr.fill_null(0).to_numpy(zero_copy_only=False)
        if key_type == "float32":
            return _fixed(arr, serde.float32(values), 4)
        return _fixed(arr, serde.float64(values), 8)
    # uuid: the canonical lowercase text, validated
    if _is_uuid(t):
        arr = arr.storage
    out = [None if v is None else _uuid_text(v) for v in arr.to_pylist()]
    return pa.array(out, pa.binary(36))


def as_arrow(column: Any) -> Any:
    """An Arrow Array (chunks combined) from an Array, ChunkedArray or any
    object exporting the Arrow PyCapsule interface."""
    pa = _pa()
    if isinstance(column, pa.ChunkedArray):
        return column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    if isinstance(column, pa.Array):
        return column
    if hasattr(column, "__arrow_c_stream__"):
        return as_arrow(pa.chunked_array(column))
    return pa.array(column)


def partition_arrow(column: Any, num_partitions: int, strategy: str = "java",
                    key_type: str = "bytes") -> "np.ndarray[Any, np.dtype[np.int32]]":
    """Partitions of an Arrow column (Array or ChunkedArray) as an int32 NumPy array.

    Binary/string columns go to ``partition_many`` as they are (no copy);
    typed columns are serialized as *key_type*'s Java serializer writes them.
    """
    pa = _pa()
    t = column.type
    check_arrow_type(t, key_type)
    if pa.types.is_null(t):
        return keyless_partitions(len(column), num_partitions, strategy)
    if key_type not in ("bytes", "string"):
        column = serialize(as_arrow(column), key_type)
    return partitions_of(column, num_partitions, strategy)
