"""fastpart.spark on Spark in local mode (local[2]): every answer equals the
one-machine API on the same keys.

Keys: UTF-8 strings and raw bytes (empty keys, nulls), Java-serialized
integers and floats through ``key_type=``, UUID text; the reports
(``compare``, ``resize_impact``, ``load``/``counts``, ``detect``) against
``fastpart.compare`` / ``resize_impact`` / ``detect`` over the same keys, with
batches of 1,000 rows so that several Arrow batches add up.
"""

from __future__ import annotations

import random
import struct
import uuid

import pytest

import fastpart
from fastpart import serde
from spark_support import spark  # noqa: F401  (the session fixture)

pytestmark = [
    pytest.mark.spark,
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning"),
]

N = 12


def _keys(count: int = 5000, seed: int = 11) -> list:
    rng = random.Random(seed)
    out: list = ["", "kafka", "é€\U0001F600", None]
    while len(out) < count:
        out.append(None if rng.random() < 0.02 else f"user-{rng.randrange(10**9)}")
    return out


KEYS = _keys()
RAW = [None if k is None else (k.encode() if k else b"") for k in KEYS]
RAW[5:9] = [b"\x00", b"\xff\xfe", bytes(range(40)), b"\x80"]


def _expected(keys, n, strategy="java"):
    return list(fastpart.partition_many(keys, n, strategy=strategy))


@pytest.fixture(scope="module")
def frames(spark):
    from pyspark.sql.types import BinaryType, LongType, StringType, StructField, StructType

    text = spark.createDataFrame([(i, k) for i, k in enumerate(KEYS)],
                                 StructType([StructField("i", LongType()), StructField("key", StringType())]))
    raw = spark.createDataFrame([(i, k) for i, k in enumerate(RAW)],
                                StructType([StructField("i", LongType()), StructField("key", BinaryType())]))
    return text, raw


def _by_index(df, *columns):
    rows = df.select("i", *columns).collect()
    rows.sort(key=lambda r: r["i"])
    return [[r[c] for r in rows] for c in columns]


def test_kafka_partition_strings_and_bytes_every_strategy_family(frames):
    from fastpart.spark import kafka_partition

    text, raw = frames
    strategies = ["java", "librdkafka", "sarama", "kafkajs:legacy", "kafka-rust", "librdkafka:murmur2"]
    cols = [kafka_partition("key", N, strategy=s).alias(f"p{j}") for j, s in enumerate(strategies)]
    got = _by_index(text.select("i", *cols), *[f"p{j}" for j in range(len(strategies))])
    for j, s in enumerate(strategies):
        assert got[j] == _expected(KEYS, N, s), s
    (got_raw,) = _by_index(raw.select("i", kafka_partition(raw["key"], 1000).alias("p")), "p")
    assert got_raw == _expected(RAW, 1000)
    assert got_raw[3] == -1 and got[0][3] == -1  # null keys: keyless


def test_typed_columns_with_key_type_match_the_java_serializers(spark):
    from pyspark.sql.types import (DoubleType, FloatType, IntegerType, LongType, ShortType, StringType,
                                   StructField, StructType)

    from fastpart.spark import kafka_partition

    rng = random.Random(3)
    ints = [0, 1, -1, 42, 2**31 - 1, -(2**31), None] + [rng.randint(-(2**31), 2**31 - 1) for _ in range(300)]
    shorts = [None if v is None else v % 32768 - 16384 for v in ints]
    longs = [None if v is None else v * 3_000_000_007 for v in ints]
    floats = [None if v is None else struct.unpack(">f", struct.pack(">f", v / 7))[0] for v in ints]
    doubles = [None if v is None else v / 7 for v in ints]
    doubles[1] = float("nan")
    uuids = [None if v is None else str(uuid.UUID(int=abs(v) * 2**90 + 5)).upper() for v in ints]
    schema = StructType([StructField("i", LongType()), StructField("s", ShortType()), StructField("n", IntegerType()),
                         StructField("l", LongType()), StructField("f", FloatType()), StructField("d", DoubleType()),
                         StructField("u", StringType())])
    rows = list(zip(range(len(ints)), shorts, ints, longs, floats, doubles, uuids))
    df = spark.createDataFrame(rows, schema)
    got = _by_index(df.select("i", kafka_partition("s", N, key_type="int16").alias("ps"),
                              kafka_partition("n", N, key_type="int32").alias("pn"),
                              kafka_partition("l", N, key_type="int64").alias("pl"),
                              kafka_partition("n", N, key_type="int64").alias("pnl"),
                              kafka_partition("f", N, key_type="float32").alias("pf"),
                              kafka_partition("d", N, key_type="float64").alias("pd"),
                              kafka_partition("u", N, key_type="uuid").alias("pu")),
                    "ps", "pn", "pl", "pnl", "pf", "pd", "pu")

    def ref(values, fn):
        return [-1 if v is None else fastpart.partition(fn(v), N) for v in values]

    assert got[0] == ref(shorts, serde.int16)
    assert got[1] == ref(ints, serde.int32)
    assert got[2] == ref(longs, serde.int64)
    assert got[3] == ref(ints, serde.int64)
    assert got[4] == ref(floats, serde.float32)
    assert got[5] == ref(doubles, serde.float64)
    assert got[6] == ref(uuids, serde.uuid)
    # the reports serialize the same way, and show differing keys as the serializer's bytes
    from fastpart.spark import compare

    r = compare(df, "l", N, ["java", "sarama"], key_type="int64", examples=3)
    want = fastpart.compare([serde.int64(v) if v is not None else None for v in longs], N, ["java", "sarama"])
    assert r.pair("java", "sarama").different == want.pair("java", "sarama").different
    serialized = {serde.int64(v) for v in longs if v is not None}
    assert [k in serialized for _, k, _, _ in r.differing("java", "sarama")] == [True] * 3


def test_typed_column_without_key_type_fails_naming_it(spark):
    from fastpart.spark import kafka_partition

    df = spark.createDataFrame([(1,), (2,)], "id int")
    with pytest.raises(Exception) as e:
        df.select(kafka_partition("id", N)).collect()
    assert "key_type='int32'" in str(e.value) and "IntegerSerializer" in str(e.value)
    # the reports check the column type on the driver, before any job runs
    from fastpart.spark import compare

    with pytest.raises(TypeError, match="key_type='int64'"):
        compare(spark.createDataFrame([(1,)], "id long"), "id", N, ["java", "sarama"])
    with pytest.raises(TypeError, match="no Java key serializer"):
        compare(spark.createDataFrame([(True,)], "b boolean"), "b", N, ["java", "sarama"])


def test_bad_arguments_fail_on_the_driver(spark):
    from fastpart.spark import kafka_partition

    with pytest.raises(ValueError, match="unknown key_type"):
        kafka_partition("k", N, key_type="long")
    with pytest.raises(ValueError):
        kafka_partition("k", 0)
    with pytest.raises(ValueError, match="strategy"):
        kafka_partition("k", N, strategy="nope")


def test_compare_equals_the_one_machine_report(frames):
    from fastpart.spark import compare

    text, _ = frames
    names = ["java", "librdkafka", "sarama"]
    got = compare(text, "key", N, names, examples=5)
    want = fastpart.compare(KEYS, N, names)
    assert got.num_keys == want.num_keys == len(KEYS)
    assert got.strategies == want.strategies
    for p in want.pairs:
        q = got.pair(p.a, p.b)
        assert (q.same, q.different, q.undetermined) == (p.same, p.different, p.undetermined)
        assert len(q.examples) == 5
        for _, key, x, y in q.examples:  # each kept example is a real differing key
            assert (x, y) == (fastpart.partition(key, N, strategy=p.a), fastpart.partition(key, N, strategy=p.b))
            assert x != y
    for s in names:
        assert got.counts(s) == want.counts(s)
        assert got.load(s) == want.load(s)
    assert got.table() == want.table()


def test_resize_impact_equals_the_one_machine_report(frames):
    from fastpart.spark import resize_impact

    _, raw = frames
    got = resize_impact(raw, "key", 12, 24, examples=3)
    want = fastpart.resize_impact(RAW, 12, 24)
    assert (got.moved, got.stayed, got.undetermined) == (want.moved, want.stayed, want.undetermined)
    assert got.old_counts.as_list() == want.old_counts.as_list()
    assert got.new_counts.as_list() == want.new_counts.as_list()
    assert got.moved_out.as_list() == want.moved_out.as_list()
    assert got.moved_in.as_list() == want.moved_in.as_list()
    assert got.flows == want.flows
    for _, key, x, y in got.examples:
        assert (x, y) == (fastpart.partition(key, 12), fastpart.partition(key, 24))


def test_load_and_counts(frames):
    from fastpart.spark import counts, load

    text, _ = frames
    want = fastpart.compare(KEYS, 7, ["java", "sarama"])
    assert counts(text, "key", 7, "sarama") == want.counts("sarama")
    assert load(text, "key", 7) == want.load("java")


def test_detect_equals_the_one_machine_counts(spark):
    from pyspark.sql.types import IntegerType, LongType, StringType, StructField, StructType

    from fastpart.spark import detect

    # records written by a sarama producer, a few placed by hand, keyless ones round robin
    observed = []
    for i, k in enumerate(KEYS):
        observed.append(i % N if k is None else fastpart.partition(k, N, strategy="sarama"))
    observed[10] = (observed[10] + 1) % N
    schema = StructType([StructField("i", LongType()), StructField("key", StringType()),
                         StructField("partition", IntegerType())])
    df = spark.createDataFrame(list(zip(range(len(KEYS)), KEYS, observed)), schema)
    names = ["java", "librdkafka", "sarama", "kafka-rust"]
    got = detect(df, "key", "partition", N, names)
    from fastpart._strategies import canonical_name

    assert got.best == canonical_name("sarama")
    keyed = [(k, p) for k, p in zip(KEYS, observed) if k is not None]
    explained = {s: sum(fastpart.partition(k, N, strategy=s) == p for k, p in keyed) for s in names}
    from fastpart.detect import report_from_counts

    want = report_from_counts(N, len(KEYS), KEYS.count(None), explained, unexplained=1,
                              examples_unexplained=[(KEYS[10].encode(), observed[10])],
                              keyless_partitions=[sum(1 for k, p in zip(KEYS, observed) if k is None and p == q)
                                                  for q in range(N)])
    assert got == want


def test_pandas_udf_fallback_for_spark_before_4_1(spark, monkeypatch):
    """Before Spark 4.1 there is no arrow_udf: the same answers through a pandas UDF
    (integer columns with nulls arrive as float64 there)."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import IntegerType, LongType, StringType, StructField, StructType

    from fastpart.spark import kafka_partition

    monkeypatch.delattr(F, "arrow_udf", raising=False)
    ints = [1, None, -7, 2**31 - 1]
    rows = list(zip(range(4), KEYS[:4], ints))
    df = spark.createDataFrame(rows, StructType([StructField("i", LongType()), StructField("key", StringType()),
                                                 StructField("n", IntegerType())]))
    got = _by_index(df.select("i", kafka_partition("key", N).alias("pk"),
                              kafka_partition("n", N, key_type="int32").alias("pn")), "pk", "pn")
    assert got[0] == _expected(KEYS[:4], N)
    assert got[1] == [-1 if v is None else fastpart.partition(serde.int32(v), N) for v in ints]
