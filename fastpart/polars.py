"""Kafka partitions in polars: an expression namespace and functions for Series and LazyFrames.

Importing this module registers the ``kafka`` expression namespace::

    import polars as pl
    import fastpart.polars  # noqa: F401  (registers pl.col(...).kafka)

    df.with_columns(pl.col("key").kafka.partition(12, strategy="java").alias("partition"))

A String or Binary column goes to ``fastpart.partition_many`` through the
Arrow C stream interface without a copy, and the int32 answers come back as
a polars ``Int32`` Series over the same memory.  Null keys are ``-1`` (for most
strategies, as ``fastpart.partition(None, n)``).  A
typed column (integers, floats, ...) is a ``TypeError`` naming the
``key_type=`` that applies your producer's Java serializer:

    >>> import polars as pl
    >>> import fastpart.polars as fpl
    >>> fpl.partition(pl.Series(["kafka", None]), 12).to_list()
    [4, -1]
    >>> df = pl.DataFrame({"id": [42, 7]})
    >>> df.select(pl.col("id").kafka.partition(12, key_type="int64")).to_series().to_list()
    [4, 11]
    >>> fpl.partition(pl.Series([42]), 12)
    Traceback (most recent call last):
    ...
    TypeError: a column of type int64 is not a key column: pass key_type='int64' to hash it as Java's LongSerializer writes it (key_type='int32': IntegerSerializer, key_type='string': cast the column to string first if the producer sends the decimal text)

Requires ``pip install 'fastpart[polars]'``.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from . import _engines
from ._impl import core

__all__ = ["KafkaNamespace", "partition", "with_partition"]

_KEY_DTYPES = (pl.String, pl.Binary, pl.Categorical, pl.Enum, pl.Null)


def _arrow_type(s: "pl.Series") -> Any:
    if s.dtype == pl.Object:
        raise TypeError(f"a polars Object column ({s.name!r}) is not a key column: its values are Python "
                        "objects; convert them to String or Binary first (numbers: pass key_type=)")
    return s.head(0).to_arrow().type


def partition(series: "pl.Series", num_partitions: int, strategy: str = "java",
              key_type: str = "bytes") -> "pl.Series":
    """The partition of every key of *series* as an ``Int32`` Series (a null key: ``-1`` for most strategies).

    ``key_type`` as in ``fastpart.spark.kafka_partition``: ``"bytes"``
    (String/Binary columns), ``"string"``, ``"int16"``, ``"int32"``,
    ``"int64"``, ``"float32"``, ``"float64"``, ``"uuid"``.
    """
    key_type = _engines.check_arguments(key_type, series, pl.Series, "polars Series")
    name = series.name
    if series.dtype in _KEY_DTYPES and key_type in ("bytes", "string"):
        _engines.check_arrow_type(_arrow_type(series), key_type)  # "string" refuses Binary
        if series.dtype == pl.Null:
            out = _engines.keyless_partitions(len(series), num_partitions, strategy)
        else:
            out = _engines.partitions_of(series, num_partitions, strategy)  # Arrow C stream, no copy
    else:
        _engines.check_arrow_type(_arrow_type(series), key_type)
        out = _engines.partition_arrow(series.to_arrow(), num_partitions, strategy, key_type)
    return pl.Series(name, out, dtype=pl.Int32)


def with_partition(frame: Any, key: str, num_partitions: int, strategy: str = "java", *,
                   key_type: str = "bytes", name: str = "partition") -> Any:
    """*frame* (a DataFrame or LazyFrame) with a column *name* holding each row's partition.

    Example:
        >>> lf = pl.LazyFrame({"key": ["a", "b", None]})
        >>> with_partition(lf, "key", 12).collect()["partition"].to_list()
        [4, 8, -1]
    """
    expr = KafkaNamespace(pl.col(key)).partition(num_partitions, strategy=strategy, key_type=key_type)
    return frame.with_columns(expr.alias(name))


@pl.api.register_expr_namespace("kafka")
class KafkaNamespace:
    """``pl.col(...).kafka``: Kafka partitions of a key column."""

    def __init__(self, expr: "pl.Expr") -> None:
        self._expr = expr

    def partition(self, num_partitions: int, strategy: str = "java", *, key_type: str = "bytes") -> "pl.Expr":
        """The partition of every key (``Int32``; ``-1`` for a null key)."""
        _engines.check_key_type(key_type)
        core.partition(b"", num_partitions, strategy=strategy)  # bad count/strategy: fail now

        def run(s: "pl.Series") -> "pl.Series":
            return partition(s, num_partitions, strategy, key_type)

        return self._expr.map_batches(run, return_dtype=pl.Int32)
