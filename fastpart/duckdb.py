"""Kafka partitions in DuckDB SQL: ``kafka_partition(key, n [, strategy [, key_type]])``.

``register(con)`` adds the function to a connection as a DuckDB Arrow UDF:
DuckDB hands whole vectors of the key column over as Arrow arrays, and
fastpart's batch path answers them.  Null keys give ``-1`` (keyless), as
``fastpart.partition(None, n)``.  A typed column (INTEGER, BIGINT, DOUBLE,
UUID, ...) is an error naming the ``key_type`` whose Java serializer gives its
bytes -- pass it as the fourth argument::

    >>> import duckdb
    >>> import fastpart.duckdb
    >>> con = duckdb.connect()
    >>> fastpart.duckdb.register(con)
    >>> con.sql("SELECT kafka_partition('kafka', 12) AS p").fetchall()
    [(4,)]
    >>> con.sql("SELECT kafka_partition('kafka', 12, 'librdkafka') AS p").fetchall()
    [(11,)]
    >>> con.sql("SELECT kafka_partition(42::BIGINT, 12, 'java', 'int64') AS p").fetchall()
    [(4,)]

Requires ``pip install 'fastpart[duckdb]'``.
"""

from __future__ import annotations

import importlib
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]

from . import _engines
from ._impl import core

__all__ = ["register"]


def _same_text(arg: Any, value: Any) -> bool:
    """Whether every value of a null-free string/binary column equals *value* (read from its
    offsets and data, a few us for DuckDB's 2,048-row vectors; False when it cannot tell)."""
    want = value.encode("utf-8") if isinstance(value, str) else value
    if not isinstance(want, bytes):
        return False
    for chunk in getattr(arg, "chunks", [arg]):
        if not (pa.types.is_string(chunk.type) or pa.types.is_binary(chunk.type)) or chunk.null_count:
            return False
        rows = len(chunk)
        if not rows:
            continue
        _, offsets_buf, data = chunk.buffers()
        offsets = np.frombuffer(offsets_buf, np.int32, rows + 1, chunk.offset * 4)
        if not (offsets[1:] - offsets[:-1] == len(want)).all():
            return False
        start = int(offsets[0])
        if want and not data.slice(start, int(offsets[-1]) - start).equals(pa.py_buffer(want * rows)):
            return False
    return True


def _constant(arg: Any, what: str) -> Any:
    """The single value of a constant argument column."""
    if len(arg) and arg.null_count == 0:
        first = arg[0].as_py()
        if _same_text(arg, first):
            return first
    values = arg.unique() if len(arg) else arg
    if len(values) != 1 or values[0].as_py() is None:
        raise ValueError(f"kafka_partition: {what} must be one non-null value for the whole query "
                         f"(got {values.to_pylist()[:5]})")
    return values[0].as_py()


def _kafka_partition(key: Any, num_partitions: Any, strategy: Any = None, key_type: Any = None) -> Any:
    if len(key) == 0:
        return pa.array([], pa.int32())
    if not pa.types.is_integer(num_partitions.type):
        raise TypeError(f"kafka_partition: the partition count must be an integer, not {num_partitions.type}")
    if num_partitions.null_count:
        raise ValueError("kafka_partition: the partition count is NULL")
    counts = num_partitions.to_numpy()  # no nulls: a view of the buffer, no copy
    s = "java" if strategy is None else str(_constant(strategy, "strategy"))
    kt = "bytes" if key_type is None else str(_constant(key_type, "key_type"))
    first = int(counts[0])
    if counts.min() == first == counts.max():  # the usual case: one count for the whole vector
        return pa.array(_engines.partition_arrow(key, first, s, kt))
    out = np.empty(len(key), dtype=np.int32)  # a count per row: one call per distinct count
    arr = _engines.as_arrow(key)
    for n in np.unique(counts).tolist():
        rows = np.flatnonzero(counts == n)
        out[rows] = _engines.partition_arrow(arr.take(pa.array(rows)), int(n), s, kt)
    return pa.array(out)


def _dispatch(*args: Any) -> Any:
    if not 2 <= len(args) <= 4:
        raise TypeError("kafka_partition(key, num_partitions [, strategy [, key_type]]) takes 2 to 4 arguments, "
                        f"got {len(args)}")
    return _kafka_partition(*args)


def register(con: "duckdb.DuckDBPyConnection", name: str = "kafka_partition") -> None:
    """Register ``kafka_partition(key, n [, strategy [, key_type]])`` on *con*.

    *key* is a VARCHAR or BLOB column (``key_type`` ``'bytes'``, the default, or
    ``'string'``), or a typed column with its ``key_type``: ``'int16'``,
    ``'int32'``, ``'int64'``, ``'float32'``, ``'float64'``, ``'uuid'``.
    """
    core.partition(b"", 1)  # the core loads now, not inside the first query
    sqltype = getattr(duckdb, "sqltype", None)
    integer: Any
    if sqltype is not None:
        integer = sqltype("INTEGER")
    else:  # DuckDB < 1.4
        integer = getattr(importlib.import_module("duckdb.typing"), "INTEGER")
    create: Any = con.create_function
    create(name, _dispatch, None, integer, type="arrow", null_handling="special", side_effects=False)
