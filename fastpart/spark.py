"""Kafka partitions inside Spark: a column function and cluster-wide reports.

``kafka_partition(col, n)`` is an Arrow UDF (``pyspark.sql.functions.arrow_udf``
on Spark >= 4.1, a pandas UDF before): executors hand whole Arrow batches of
the key column to ``fastpart``'s batch path, never one row at a time.
``compare``, ``resize_impact``, ``load`` and ``detect`` run as Spark jobs (one
``mapInArrow`` pass that reduces each batch to counts, then a ``groupBy``)
and return the same report objects as the one-machine API.

Key columns follow the core's input contract (see ``fastpart._engines``):
binary and string columns are keys (strings as UTF-8); an integer, float or
UUID column needs ``key_type=`` naming the Java serializer your producer uses
(``"int32"`` for ``IntegerSerializer``, ``"int64"`` for ``LongSerializer``,
...); anything else is an error.  A null key is a keyless record, answered as
``fastpart.partition(None, n, strategy=s)`` does (``-1`` for most strategies).

Writing a DataFrame to Kafka so that records land where a Java (or sarama,
librdkafka, ...) producer would put them -- Spark's Kafka sink takes an
optional ``partition`` column; a null there lets the producer choose, so
keyless records keep the client's own spreading::

    from pyspark.sql import functions as F
    from fastpart.spark import kafka_partition

    p = kafka_partition("key", 12, strategy="java")        # the topic's partition count
    (df.select(F.col("key").cast("binary").alias("key"),
               F.col("value").cast("binary").alias("value"),
               F.when(p >= 0, p).alias("partition"))
       .write.format("kafka")
       .option("kafka.bootstrap.servers", "broker:9092")
       .option("topic", "orders")
       .save())

Requires ``pip install 'fastpart[spark]'`` (pyspark, pyarrow, pandas) on the
driver and the executors.
"""

from __future__ import annotations

import array
import itertools
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple, cast

from . import _engines
from ._impl import core
from ._strategies import STRATEGIES, canonical_name, strategy_code
from ._loads import Counts, LoadStats
from .report import Comparison, PairReport, ResizeReport

__all__ = ["compare", "counts", "detect", "kafka_partition", "load", "resize_impact"]

try:
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
    from pyspark.sql import Column, DataFrame
    from pyspark.sql import functions as F
except ImportError as exc:  # pragma: no cover - exercised without the extra
    raise ImportError(f"fastpart.spark needs pyspark and pyarrow: pip install 'fastpart[spark]' ({exc})") from None


def _check(num_partitions: int, strategy: str, key_type: str) -> None:
    """Fail on the driver, before any job runs, for a bad count/strategy/key_type."""
    _engines.check_key_type(key_type)
    strategy_code(strategy)
    core.partition(b"", num_partitions, strategy=strategy)


def _udf(fn: Any) -> Any:
    """An Arrow UDF returning int (Spark >= 4.1), or a pandas UDF before."""
    arrow_udf = getattr(F, "arrow_udf", None)
    if arrow_udf is not None:
        def on_arrow(keys: pa.Array) -> pa.Array:
            return pa.array(fn(keys), pa.int32())

        return arrow_udf(on_arrow, "int")

    import pandas as pd  # type: ignore[import-untyped,unused-ignore]

    def on_pandas(keys: Any) -> Any:  # pyspark 3.4 - 4.0: a pandas Series in, a Series out
        arr = pa.Array.from_pandas(keys)
        if pa.types.is_floating(arr.type) and keys.isna().any():
            # Spark hands an integer column with nulls to pandas as float64
            whole = keys.dropna()
            if (whole == whole.round()).all():
                arr = pa.Array.from_pandas(keys.astype("Int64"))
        return pd.Series(fn(arr))

    import warnings

    from pyspark.sql.pandas.functions import PandasUDFType

    with warnings.catch_warnings():  # the type is given, not hinted (pandas is imported here, lazily)
        warnings.simplefilter("ignore", UserWarning)
        return getattr(F, "pandas_udf")(on_pandas, "int", PandasUDFType.SCALAR)


def kafka_partition(col: "Column | str", num_partitions: int, strategy: str = "java",
                    key_type: str = "bytes") -> Column:
    """A Spark column: the partition each row's key lands on (a null key: ``-1`` for most strategies).

    Args:
        col: the key column (a name or a Column).
        num_partitions: the topic's partition count.
        strategy: a name from ``fastpart.strategies()`` (``"java"``,
            ``"librdkafka"``, ``"sarama"``, ...).
        key_type: ``"bytes"`` (binary or string columns), ``"string"``, or the
            Java serializer of a typed column: ``"int16"``, ``"int32"``,
            ``"int64"``, ``"float32"``, ``"float64"``, ``"uuid"``.

    A typed column without its ``key_type`` fails the job with a ``TypeError``
    naming the ``key_type`` to use.

    Most of the cost is Spark's JVM-to-Python Arrow round trip, not the
    hashing: bigger Arrow batches
    (``spark.sql.execution.arrow.maxRecordsPerBatch``, e.g. 100000) help.

    Example (needs a SparkSession, so not run as a doctest)::

        df.withColumn("partition", kafka_partition("user_id", 12, key_type="int64"))
    """
    _check(num_partitions, strategy, key_type)

    def run(keys: Any) -> Any:
        return _engines.partition_arrow(keys, num_partitions, strategy, key_type)

    column = F.col(col) if isinstance(col, str) else col
    return _udf(run)(column).alias("kafka_partition")  # type: ignore[no-any-return]


# --------------------------------------------------------------------------- aggregations

_SUMMARY = "kind string, a int, b int, c long, n long, key binary, pa int, pb int"


def _key_field(df: DataFrame, key_col: str, key_type: str) -> None:
    """Check the key column's Spark type on the driver (same rules as the executors)."""
    from pyspark.sql.pandas.types import to_arrow_type

    field = df.schema[key_col]
    try:
        arrow_type = to_arrow_type(field.dataType)
    except Exception:
        raise TypeError(f"column {key_col!r} of type {field.dataType.simpleString()} is not a key column; "
                        f"cast it to string or binary (or to the type your producer serializes)") from None
    _engines.check_arrow_type(arrow_type, key_type)


def _summarize(df: DataFrame, columns: List[str], batch_fn: Any) -> List[Any]:
    """Run *batch_fn* over Arrow batches of *columns*; sum its count rows by
    ``(kind, a, b, c)`` in Spark and collect (examples: up to 100 per group)."""
    summary = df.select(*columns).mapInArrow(batch_fn, _SUMMARY)
    ex = F.when(F.col("kind").startswith("ex"), F.struct("key", "pa", "pb"))
    return summary.groupBy("kind", "a", "b", "c").agg(
        F.sum("n").alias("n"), F.slice(F.collect_list(ex), 1, 100).alias("ex")).collect()


def _emit(rows: Dict[str, List[Any]]) -> Any:
    return pa.RecordBatch.from_pydict(rows, schema=pa.schema([
        ("kind", pa.string()), ("a", pa.int32()), ("b", pa.int32()), ("c", pa.int64()), ("n", pa.int64()),
        ("key", pa.binary()), ("pa", pa.int32()), ("pb", pa.int32())]))


class _Rows:
    def __init__(self) -> None:
        self.d: Dict[str, List[Any]] = {k: [] for k in ("kind", "a", "b", "c", "n", "key", "pa", "pb")}

    def add(self, kind: str, a: int, b: int, c: int, n: int, key: Optional[bytes] = None,
            pa_: Optional[int] = None, pb: Optional[int] = None) -> None:
        for k, v in zip(self.d, (kind, a, b, c, n, key, pa_, pb)):
            self.d[k].append(v)


def _tally(np: Any, rows: _Rows, kind: str, a: int, parts: Any) -> None:
    values, counts = np.unique(parts, return_counts=True)
    for v, c in zip(values.tolist(), counts.tolist()):
        rows.add(kind, a, -1, v, c)


def _key_bytes(column: Any, i: int) -> Optional[bytes]:
    v = column[i].as_py()
    if v is None or isinstance(v, bytes):
        return v
    if isinstance(v, str):
        return v.encode("utf-8")
    return None


class _Job:
    """What one pass over the key column found (all counts exact)."""

    def __init__(self, settings: List[Tuple[int, str]]) -> None:
        self.rows = 0
        self.loads: Dict[int, Dict[int, int]] = {i: {} for i in range(len(settings))}
        self.pairs: Dict[Tuple[int, int], List[int]] = {}
        self.samples: Dict[Tuple[int, int], List[Tuple[Optional[bytes], int, int]]] = {}
        self.moved_out: Dict[int, int] = {}
        self.moved_in: Dict[int, int] = {}
        self.flows: Dict[Tuple[int, int], int] = {}


def _partitions_job(df: DataFrame, key_col: str, settings: List[Tuple[int, str]], key_type: str,
                    examples: int, moves: bool = False) -> _Job:
    """Per setting ``(num_partitions, strategy)``: keys per partition; per pair of
    settings: same / different / undetermined and differing examples; with
    *moves* (two settings), where the differing keys of the pair leave and arrive."""
    _key_field(df, key_col, key_type)
    for n, s in settings:
        _check(n, s, key_type)

    def batches(it: Iterator[Any]) -> Iterator[Any]:
        import numpy as np

        for batch in it:
            col = batch.column(0)
            rows = _Rows()
            rows.add("rows", 0, 0, 0, len(col))
            parts = [_engines.partition_arrow(col, n, s, key_type) for n, s in settings]
            shown = col if key_type in ("bytes", "string") else _engines.serialize(_engines.as_arrow(col), key_type)
            for i, p in enumerate(parts):
                _tally(np, rows, "load", i, p)
            for i, j in itertools.combinations(range(len(parts)), 2):
                x, y = parts[i], parts[j]
                undetermined = (x < 0) | (y < 0)
                differ = (x != y) & ~undetermined
                nu, nd = int(undetermined.sum()), int(differ.sum())
                rows.add("pair", i, j, 0, len(x) - nu - nd)
                rows.add("pair", i, j, 1, nd)
                rows.add("pair", i, j, 2, nu)
                for k in np.flatnonzero(differ)[:examples].tolist():
                    rows.add("ex", i, j, 0, 0, _key_bytes(shown, k), int(x[k]), int(y[k]))
                if moves:
                    _tally(np, rows, "out", 0, x[differ])
                    _tally(np, rows, "in", 0, y[differ])
                    if settings[0][0] <= 64 and settings[1][0] <= 64:
                        _tally(np, rows, "flow", 0, x[differ].astype(np.int64) * 64 + y[differ])
            yield _emit(rows.d)

    job = _Job(settings)
    for r in _summarize(df, [key_col], batches):
        kind, count = r["kind"], int(r["n"] or 0)
        if kind == "rows":
            job.rows = count
        elif kind == "load":
            job.loads[r["a"]][r["c"]] = count
        elif kind == "pair":
            job.pairs.setdefault((r["a"], r["b"]), [0, 0, 0])[r["c"]] = count
        elif kind == "out":
            job.moved_out[r["c"]] = count
        elif kind == "in":
            job.moved_in[r["c"]] = count
        elif kind == "flow":
            job.flows[divmod(r["c"], 64)] = count
        else:
            job.samples[(r["a"], r["b"])] = [(e["key"], e["pa"], e["pb"]) for e in r["ex"]][:examples]
    return job


def load(df: DataFrame, key_col: str, num_partitions: int, strategy: str = "java", *,
         key_type: str = "bytes") -> LoadStats:
    """Load per partition under *strategy* (max/mean, coefficient of variation,
    empty partitions), as ``fastpart.compare(...).load(strategy)`` gives it;
    null keys are not counted.  ``counts(...)`` gives the keys per partition."""
    job = _partitions_job(df, key_col, [(num_partitions, strategy)], key_type, 0)
    return _counts(num_partitions, job.loads[0]).stats()


def counts(df: DataFrame, key_col: str, num_partitions: int, strategy: str = "java", *,
           key_type: str = "bytes") -> List[int]:
    """Keys per partition (index = partition) under *strategy*, null keys not
    counted: the list ``fastpart.compare(...).counts(strategy)`` gives."""
    job = _partitions_job(df, key_col, [(num_partitions, strategy)], key_type, 0)
    return _counts(num_partitions, job.loads[0]).as_list()


def compare(df: DataFrame, key_col: str, num_partitions: int, strategies: Sequence[str], *,
            key_type: str = "bytes", examples: int = 20) -> Comparison:
    """``fastpart.compare`` over a DataFrame's key column, as one Spark job.

    Counts are exact for any size.  Up to *examples* differing keys are kept
    per pair; their index is ``-1`` (a DataFrame has no global row order).
    """
    if isinstance(strategies, str):
        raise TypeError("strategies must be a list of names, e.g. ['java', 'librdkafka']")
    names = list(dict.fromkeys(strategies))
    if len(names) < 2:
        raise ValueError(f"compare needs at least two different strategies, got {names}")
    job = _partitions_job(df, key_col, [(num_partitions, s) for s in names], key_type, examples)
    pairs = []
    for i, j in itertools.combinations(range(len(names)), 2):
        same, different, undetermined = job.pairs.get((i, j), [0, 0, 0])
        found = [(-1, k, x, y) for k, x, y in job.samples.get((i, j), [])]
        pairs.append(PairReport(names[i], names[j], same, different, undetermined, array.array("q"), found))
    loads = {s: _counts(num_partitions, job.loads[i]) for i, s in enumerate(names)}
    return Comparison(job.rows, num_partitions, names, loads, pairs)


def resize_impact(df: DataFrame, key_col: str, old: int, new: int, *, strategy: str = "java",
                  key_type: str = "bytes", examples: int = 20) -> ResizeReport:
    """``fastpart.resize_impact`` over a DataFrame's key column, as one Spark job
    (counts exact; up to *examples* moved keys kept, with index ``-1``)."""
    job = _partitions_job(df, key_col, [(old, strategy), (new, strategy)], key_type, examples, moves=True)
    same, different, undetermined = job.pairs.get((0, 1), [0, 0, 0])
    found = [(-1, k, x, y) for k, x, y in job.samples.get((0, 1), [])]
    return ResizeReport(strategy, old, new, different, same, undetermined, array.array("q"), found,
                        _counts(old, job.loads[0]), _counts(new, job.loads[1]),
                        _counts(old, job.moved_out), _counts(new, job.moved_in),
                        dict(job.flows) if old <= 64 and new <= 64 else None)


def detect(df: DataFrame, key_col: str, partition_col: str, num_partitions: int,
           strategies: Optional[Sequence[str]] = None, *, key_type: str = "bytes",
           examples: int = 20) -> Any:
    """Which client placed these records: ``fastpart.detect`` from a DataFrame of
    keys and observed partitions (e.g. read from Kafka with Spark's Kafka source),
    as one Spark job.  Returns a ``fastpart.detect.Detection``.
    """
    from .detect import report_from_counts

    names = [canonical_name(s) for s in (strategies if strategies is not None else STRATEGIES)]
    names = list(dict.fromkeys(names))
    _key_field(df, key_col, key_type)
    for s in names:
        _check(num_partitions, s, key_type)

    def batches(it: Iterator[Any]) -> Iterator[Any]:
        import numpy as np

        for batch in it:
            col, observed = batch.column(0), batch.column(1)
            seen = observed.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
            keyless = np.asarray(col.is_null().to_numpy(zero_copy_only=False), dtype=bool)
            keyed = ~keyless
            rows = _Rows()
            rows.add("records", 0, 0, 0, len(seen))
            rows.add("keyless", 0, 0, 0, int(keyless.sum()))
            _tally(np, rows, "klp", 0, seen[keyless])
            any_match = np.zeros(len(seen), dtype=bool)
            for i, s in enumerate(names):
                match = (_engines.partition_arrow(col, num_partitions, s, key_type) == seen) & keyed
                any_match |= match
                rows.add("match", i, 0, 0, int(match.sum()))
            lost = keyed & ~any_match
            rows.add("unexplained", 0, 0, 0, int(lost.sum()))
            if lost.any() and key_type not in ("bytes", "string"):
                col = _engines.serialize(_engines.as_arrow(col), key_type)
            for k in np.flatnonzero(lost)[:examples].tolist():
                rows.add("ex", 0, 0, 0, 0, _key_bytes(col, k), int(seen[k]), None)
            yield _emit(rows.d)

    totals: Dict[str, int] = {}
    explained: Dict[str, int] = {s: 0 for s in names}
    keyless_parts = [0] * num_partitions if num_partitions <= 1 << 20 else None
    found: List[Tuple[Optional[bytes], int]] = []
    for r in _summarize(df, [key_col, partition_col], batches):
        kind = r["kind"]
        if kind == "match":
            explained[names[r["a"]]] = int(r["n"])
        elif kind == "klp":
            if keyless_parts is not None and 0 <= r["c"] < num_partitions:
                keyless_parts[r["c"]] = int(r["n"])
        elif kind == "ex":
            found = [(e["key"], e["pa"]) for e in r["ex"]][:examples]
        else:
            totals[kind] = int(r["n"])
    return report_from_counts(num_partitions, totals.get("records", 0), totals.get("keyless", 0), explained,
                              unexplained=totals.get("unexplained", 0), examples_unexplained=found,
                              keyless_partitions=keyless_parts)


# --------------------------------------------------------------------------- report objects

def _counts(num_partitions: int, found: Dict[int, int]) -> Counts:
    """A report's ``Counts`` from ``{partition: keys}`` (-1 not counted), fed in bounded chunks."""
    import numpy as np

    out = Counts(num_partitions)
    items = sorted((p, k) for p, k in found.items() if p >= 0 and k > 0)
    step = 1 << 20
    for start in range(0, len(items), 64):
        part = items[start:start + 64]
        ps = np.array([p for p, _ in part], dtype=np.int64)
        ks = np.array([k for _, k in part], dtype=np.int64)
        while ks.sum() > 0:
            take = np.minimum(ks, step // len(part) + 1)
            out.add(cast(Any, np.repeat(ps, take)))
            ks -= take
    return out
