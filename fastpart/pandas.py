"""Kafka partitions of a pandas Series.

``partition(series, n)`` takes the key column in any of pandas' string or
binary forms -- ``object`` (``bytes``/``str`` values), ``string[python]``,
``string[pyarrow]`` and pandas 3's ``str``, ``ArrowDtype(pa.binary())`` /
``ArrowDtype(pa.string())`` and their large forms -- and returns an ``int32``
Series with the same index.  Arrow-backed columns go to fastpart's batch path
without a copy.  Missing values (``None``, ``NaN``, ``pd.NA``) are keyless
records (``-1`` for most strategies, as ``fastpart.partition(None, n)``; so is ``NaN`` in a NumPy-backed float column with
``key_type="float64"``; in an Arrow-backed column ``NaN`` is a value).  A typed column (integers, floats, ...) is a ``TypeError``
naming the ``key_type=`` that applies your producer's Java serializer.

Example:
    >>> import pandas as pd  # type: ignore[import-untyped,unused-ignore]
    >>> partition(pd.Series(["kafka", None], dtype="string"), 12).tolist()
    [4, -1]
    >>> partition(pd.Series([b"kafka", b"21"]), 10, strategy="librdkafka").tolist()
    [9, 2]
    >>> partition(pd.Series([42, 7]), 12, key_type="int64").tolist()
    [4, 11]

Requires ``pip install 'fastpart[pandas]'``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd  # type: ignore[import-untyped,unused-ignore]

from . import _engines
from ._impl import core

__all__ = ["partition"]


def _objects(series: "pd.Series") -> Any:
    """The values of an object or ``string[python]`` column as an object array (no copy)."""
    return series.to_numpy(dtype=object)


def _missing_as_none(series: "pd.Series", values: Any) -> Any:
    """*values* with NaN / pd.NA / None (pandas' missing values) replaced by None."""
    missing = series.isna().to_numpy()
    if not missing.any():
        return values
    values = values.copy()
    values[missing] = None
    return values


def _as_arrow(series: "pd.Series") -> Any:
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]

    if series.dtype == object or (isinstance(series.dtype, pd.StringDtype) and series.dtype.storage == "python"):
        return _objects(series)
    try:
        return pa.array(series, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
        raise TypeError(f"a {series.dtype} column is not a key column ({exc})") from None


def _object_error(keys: Any) -> TypeError:
    for i, v in enumerate(keys):
        if v is not None and not isinstance(v, (bytes, str)):
            return TypeError(f"an object column holding {type(v).__name__} values (first at index {i}) is not a "
                             "key column: keys are bytes or str; for numbers pass key_type= "
                             f"({', '.join(_engines.KEY_TYPES[2:])}) on a numeric column")
    return TypeError("an object column of keys must hold bytes, str or missing values")


def partition(series: "pd.Series", num_partitions: int, strategy: str = "java", *,
              key_type: str = "bytes") -> "pd.Series":
    """The partition of every key of *series* (``int32``, same index; ``-1`` for a missing key).

    ``key_type`` as in ``fastpart.spark.kafka_partition``: ``"bytes"``
    (string/binary columns), ``"string"``, ``"int16"``, ``"int32"``,
    ``"int64"``, ``"float32"``, ``"float64"``, ``"uuid"``.
    """
    key_type = _engines.check_arguments(key_type, series, pd.Series, "pandas Series")
    keys = _as_arrow(series)
    if isinstance(keys, np.ndarray):  # object column of bytes/str/None
        if key_type in ("bytes", "string"):
            if key_type == "string" and any(isinstance(v, bytes) for v in keys):
                raise TypeError("key_type='string' (StringSerializer) needs str values; the column holds bytes "
                                "(use key_type='bytes')")
            out = np.empty(len(keys), dtype=np.int32)
            try:  # the common case first: no NaN / pd.NA (checking isna costs more than hashing)
                core.partition_many(keys, num_partitions, strategy=strategy, out=out)
            except TypeError:
                keys = _missing_as_none(series, keys)
                try:
                    core.partition_many(keys, num_partitions, strategy=strategy, out=out)
                except TypeError:
                    raise _object_error(keys) from None
        else:
            import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]

            try:
                column = pa.array(_missing_as_none(series, keys), from_pandas=True)
            except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
                raise TypeError(f"an object column of mixed values is not a key column ({exc})") from None
            out = _engines.partition_arrow(column, num_partitions, strategy, key_type)
    else:
        out = _engines.partition_arrow(keys, num_partitions, strategy, key_type)
    return pd.Series(out, index=series.index, name=series.name, dtype=np.int32)
