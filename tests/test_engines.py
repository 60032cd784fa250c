"""fastpart.polars, fastpart.duckdb and fastpart.pandas against the list API.

For every engine and column form: ``engine answer == [fastpart.partition(k, n,
strategy=s) for k in keys]`` on the same keys (UTF-8 text, raw bytes, empty
keys, nulls -> -1); typed columns are refused with the ``key_type=`` that
applies the Java serializer, and give the serializer's partition with it.
Runs on both cores (the ``impl`` fixture switches fastpart's active core).
"""

from __future__ import annotations

import importlib
import random
import uuid

import pytest

import fastpart
from conformance_support import need
from fastpart import serde

N = 12
STRATEGIES = ["java", "librdkafka", "sarama", "kafkajs:legacy", "kafka-rust"]


def _engine(name: str):
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        need(False, f"{name} is not installed ({exc}); pip install 'fastpart[{name}]'")


def _keys(count: int = 3000, seed: int = 7) -> list:
    rng = random.Random(seed)
    out: list = ["", "kafka", "é€\U0001F600", None, "a" * 300]
    while len(out) < count:
        out.append(None if rng.random() < 0.03 else "".join(rng.choice("abcxyz-é0123") for _ in range(rng.randint(0, 40))))
    return out


TEXT = _keys()
RAW = [None if k is None else k.encode() for k in TEXT] + [b"\x00", b"\xff\x00\xfe", bytes(range(256))]
INTS = [0, 1, -1, 42, 2**31 - 1, -(2**31), None] + [random.Random(5).randint(-(2**31), 2**31 - 1) for _ in range(200)]


def ref(keys, strategy="java", n=N):
    return [fastpart.partition(k, n, strategy=strategy) for k in keys]


def ref_serde(values, fn, n=N):
    return [-1 if v is None else fastpart.partition(fn(v), n) for v in values]


@pytest.fixture(autouse=True)
def _core(impl, monkeypatch):
    """Run the engines on the core under test (fastpart._impl.core is what they call)."""
    import fastpart._engines
    import fastpart._impl

    monkeypatch.setattr(fastpart._impl, "core", impl)
    monkeypatch.setattr(fastpart._engines, "core", impl)
    for mod in ("fastpart.polars", "fastpart.duckdb", "fastpart.pandas"):
        try:
            monkeypatch.setattr(importlib.import_module(mod), "core", impl)
        except ImportError:
            pass  # the engine's test skips (or fails under FASTPART_REQUIRE_TOOLCHAINS=1)
    yield


# --------------------------------------------------------------------------- polars

def test_polars_expression_series_and_lazyframe():
    pl = _engine("polars")
    import fastpart.polars as fpl

    for dtype, keys in ((pl.String, TEXT), (pl.Binary, RAW)):
        s = pl.Series("key", keys, dtype=dtype)
        for strategy in STRATEGIES:
            want = ref(keys, strategy)
            assert fpl.partition(s, N, strategy).to_list() == want
            got = pl.DataFrame({"key": s}).select(pl.col("key").kafka.partition(N, strategy=strategy))
            assert got.to_series().to_list() == want
            assert got.to_series().dtype == pl.Int32
    lazy = fpl.with_partition(pl.LazyFrame({"key": TEXT}), "key", 1000, "sarama").collect()
    assert lazy["partition"].to_list() == ref(TEXT, "sarama", 1000)
    cat = pl.Series("key", TEXT, dtype=pl.Categorical)
    assert fpl.partition(cat, N).to_list() == ref(TEXT)
    assert fpl.partition(pl.Series("k", [None, None]), N).to_list() == [-1, -1]
    for strategy in ("librdkafka:murmur2", "librdkafka:consistent"):  # a fixed partition for null keys
        assert fpl.partition(pl.Series("k", [None, None]), N, strategy).to_list() == ref([None, None], strategy)
        assert fpl.partition(pl.Series("k", ["a", None]), N, strategy).to_list() == ref(["a", None], strategy)
    assert fpl.partition(pl.Series("k", [], dtype=pl.String), N).to_list() == []


def test_polars_typed_columns():
    pl = _engine("polars")
    import fastpart.polars as fpl

    s = pl.Series("id", INTS, dtype=pl.Int64)
    with pytest.raises(TypeError, match="key_type='int64'.*LongSerializer"):
        fpl.partition(s, N)
    with pytest.raises(Exception, match="key_type='int64'"):  # inside a query: polars wraps the error
        pl.DataFrame({"id": s}).select(pl.col("id").kafka.partition(N))
    assert fpl.partition(s, N, key_type="int64").to_list() == ref_serde(INTS, serde.int64)
    assert fpl.partition(s.cast(pl.Int32), N, key_type="int32").to_list() == ref_serde(INTS, serde.int32)
    with pytest.raises(TypeError, match="key_type='float64'"):
        fpl.partition(pl.Series([1.5]), N)
    with pytest.raises(TypeError, match="no Java key serializer"):
        fpl.partition(pl.Series([True]), N)
    with pytest.raises(TypeError, match="Object column"):
        fpl.partition(pl.Series([uuid.uuid4()], dtype=pl.Object), N)
    with pytest.raises(TypeError, match="needs a string column"):
        fpl.partition(pl.Series([b"a"]), N, key_type="string")
    with pytest.raises(ValueError, match="do not fit"):
        fpl.partition(pl.Series([2**40]), N, key_type="int32")


# --------------------------------------------------------------------------- duckdb

def test_duckdb_sql_function():
    duckdb = _engine("duckdb")
    pa = _engine("pyarrow")
    import fastpart.duckdb as fdd

    con = duckdb.connect()
    fdd.register(con)
    table = pa.table({"i": list(range(len(TEXT))), "key": TEXT})
    con.register("t", table)
    for strategy in STRATEGIES:
        rows = con.sql(f"SELECT kafka_partition(key, {N}, '{strategy}') FROM t ORDER BY i").fetchall()
        assert [r[0] for r in rows] == ref(TEXT, strategy)
    rows = con.sql("SELECT kafka_partition(key, 1000) FROM t ORDER BY i").fetchall()
    assert [r[0] for r in rows] == ref(TEXT, "java", 1000)
    con.register("b", pa.table({"i": list(range(len(RAW))), "key": pa.array(RAW, pa.binary())}))
    rows = con.sql("SELECT kafka_partition(key, 12) FROM b ORDER BY i").fetchall()
    assert [r[0] for r in rows] == ref(RAW)
    # a partition count per row
    rows = con.sql("SELECT kafka_partition(key, (i % 5 + 1)::INTEGER) FROM t ORDER BY i").fetchall()
    assert [r[0] for r in rows] == [fastpart.partition(k, i % 5 + 1) for i, k in enumerate(TEXT)]
    assert con.sql("SELECT kafka_partition(NULL::VARCHAR, 12)").fetchall() == [(-1,)]
    assert con.sql("SELECT kafka_partition(NULL, 12, 'librdkafka:murmur2')").fetchall() == \
        [(fastpart.partition(None, 12, strategy="librdkafka:murmur2"),)]


def test_duckdb_strategy_must_be_one_value():
    """The strategy argument is read once per vector; a strategy per row is an error, whatever
    its values' layout (same bytes split differently, a null, one value differing)."""
    duckdb = _engine("duckdb")
    pa = _engine("pyarrow")
    import fastpart.duckdb as fdd

    con = duckdb.connect()
    fdd.register(con)
    con.register("t", pa.table({"i": list(range(3000)), "key": [f"k{i}" for i in range(3000)]}))
    rows = con.sql("SELECT kafka_partition(key, 12, 'sara' || 'ma') FROM t ORDER BY i").fetchall()
    assert [r[0] for r in rows] == [fastpart.partition(f"k{i}", 12, strategy="sarama") for i in range(3000)]
    for per_row in ("CASE WHEN i = 2999 THEN 'sarama' ELSE 'java' END",
                    "CASE WHEN i = 5 THEN NULL ELSE 'java' END",
                    "CASE WHEN i % 2 = 0 THEN 'jav' ELSE 'ajava' END"):
        with pytest.raises(duckdb.Error, match="strategy must be one non-null value"):
            con.sql(f"SELECT kafka_partition(key, 12, {per_row}) FROM t").fetchall()
    # the check reads offsets and bytes: equal bytes split at other offsets are not one value
    assert fdd._same_text(pa.array(["ab", "ab"]), "ab")
    assert not fdd._same_text(pa.array(["a", "bab"]), "ab")
    assert fdd._same_text(pa.chunked_array([pa.array(["x", "ab", "ab"]).slice(1), pa.array(["ab"])]), "ab")
    assert not fdd._same_text(pa.array(["", "a"]), "")


def test_duckdb_typed_columns():
    duckdb = _engine("duckdb")
    pa = _engine("pyarrow")
    import fastpart.duckdb as fdd

    con = duckdb.connect()
    fdd.register(con)
    con.register("n", pa.table({"i": list(range(len(INTS))), "v": pa.array(INTS, pa.int32())}))
    with pytest.raises(duckdb.Error, match="key_type='int32'"):
        con.sql("SELECT kafka_partition(v, 12) FROM n").fetchall()
    rows = con.sql("SELECT kafka_partition(v, 12, 'java', 'int32') FROM n ORDER BY i").fetchall()
    assert [r[0] for r in rows] == ref_serde(INTS, serde.int32)
    rows = con.sql("SELECT kafka_partition(v::BIGINT, 12, 'java', 'int64') FROM n ORDER BY i").fetchall()
    assert [r[0] for r in rows] == ref_serde(INTS, serde.int64)
    u = uuid.UUID(int=123456789)
    assert con.sql(f"SELECT kafka_partition('{u}'::UUID, 12, 'java', 'uuid')").fetchall() == \
        [(fastpart.partition(serde.uuid(u), 12),)]
    # DuckDB hands a UUID to Python functions as its lowercase text: UUIDSerializer's bytes
    assert con.sql(f"SELECT kafka_partition('{u}'::UUID, 12)").fetchall() == \
        [(fastpart.partition(serde.uuid(u), 12),)]
    with pytest.raises(duckdb.Error, match="no Java key serializer"):
        con.sql("SELECT kafka_partition(DATE '2024-01-01', 12)").fetchall()
    with pytest.raises(duckdb.Error, match="unknown key_type"):
        con.sql("SELECT kafka_partition('a', 12, 'java', 'long')").fetchall()
    with pytest.raises(duckdb.Error, match="strategy"):
        con.sql("SELECT kafka_partition('a', 12, 'nope')").fetchall()


# --------------------------------------------------------------------------- pandas

def test_pandas_every_string_form():
    pd = _engine("pandas")
    pa = _engine("pyarrow")
    import fastpart.pandas as fpd

    forms = [(object, TEXT), ("string[python]", TEXT), ("string[pyarrow]", TEXT),
             (pd.ArrowDtype(pa.string()), TEXT), (pd.ArrowDtype(pa.large_string()), TEXT),
             (object, RAW), (pd.ArrowDtype(pa.binary()), RAW), (pd.ArrowDtype(pa.large_binary()), RAW)]
    for dtype, keys in forms:
        s = pd.Series(keys, dtype=dtype, index=range(100, 100 + len(keys)))
        for strategy in ("java", "librdkafka"):
            got = fpd.partition(s, N, strategy=strategy)
            assert got.tolist() == ref(keys, strategy), dtype
            assert got.dtype == "int32" and (got.index == s.index).all()
    # NaN and pd.NA are missing keys in pandas: keyless
    assert fpd.partition(pd.Series(["a", float("nan"), None, pd.NA], dtype=object), N).tolist() == \
        [fastpart.partition("a", N), -1, -1, -1]


def test_pandas_typed_columns():
    pd = _engine("pandas")
    import fastpart.pandas as fpd

    s = pd.Series(INTS, dtype="Int64")
    with pytest.raises(TypeError, match="key_type='int64'"):
        fpd.partition(s, N)
    assert fpd.partition(s, N, key_type="int32").tolist() == ref_serde(INTS, serde.int32)
    with pytest.raises(TypeError, match="key_type='float64'"):
        fpd.partition(pd.Series([0.5, 1.5]), N)
    # a NaN in a NumPy-backed float column is a missing value in pandas: keyless
    assert fpd.partition(pd.Series([0.5, float("nan")]), N, key_type="float64").tolist() == \
        ref_serde([0.5, None], serde.float64)
    # in an Arrow-backed column NaN is a value (Java's canonical NaN bits) and null is missing
    pa = _engine("pyarrow")
    arrow_floats = pd.Series(pa.array([0.5, float("nan"), None]), dtype=pd.ArrowDtype(pa.float64()))
    assert fpd.partition(arrow_floats, N, key_type="float64").tolist() == \
        ref_serde([0.5, float("nan"), None], serde.float64)
    with pytest.raises(TypeError, match="no Java key serializer"):
        fpd.partition(pd.Series(pd.to_datetime(["2024-01-01"])), N)
    with pytest.raises(TypeError, match="object column holding int"):
        fpd.partition(pd.Series([b"a", 5], dtype=object), N)
    with pytest.raises(TypeError, match="needs str values"):
        fpd.partition(pd.Series([b"a"], dtype=object), N, key_type="string")


# --------------------------------------------------------------------------- the README's "At scale" queries

def test_readme_at_scale_polars_and_duckdb_queries(tmp_path, monkeypatch):
    pl = _engine("polars")
    duckdb = _engine("duckdb")
    import collections

    import fastpart.duckdb
    import fastpart.polars

    monkeypatch.chdir(tmp_path)
    pl.DataFrame({"key": TEXT, "user_id": list(range(len(TEXT)))}).write_parquet("keys.parquet")
    df = pl.read_parquet("keys.parquet")
    out = df.with_columns(pl.col("key").kafka.partition(12, strategy="java").alias("partition"))
    assert out["partition"].to_list() == ref(TEXT)
    lazy = fastpart.polars.with_partition(pl.scan_parquet("keys.parquet"), "key", 12).collect()
    assert lazy["partition"].to_list() == ref(TEXT)

    con = duckdb.connect()
    fastpart.duckdb.register(con)
    rows = con.sql("SELECT kafka_partition(key, 12) AS p, count(*) FROM 'keys.parquet' GROUP BY p ORDER BY p")
    assert dict(rows.fetchall()) == dict(collections.Counter(ref(TEXT)))
    con.sql("CREATE TABLE t AS SELECT * FROM 'keys.parquet'")
    got = [r[0] for r in con.sql("SELECT kafka_partition(user_id, 12, 'java', 'int64') FROM t ORDER BY user_id").fetchall()]
    assert got == [fastpart.partition(serde.int64(i), 12) for i in range(len(TEXT))]
