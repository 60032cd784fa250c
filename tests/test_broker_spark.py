"""Proof on a real broker: a Spark job writes through Spark's Kafka sink with the
``partition`` column from ``fastpart.spark.kafka_partition``, and every record
read back from the broker sits on the partition fastpart computed.

The recipe under test is the one in ``fastpart/spark.py``'s docstring: the
``partition`` column is ``kafka_partition(...)`` where it is >= 0 and null for
keyless records (null: the producer inside Spark chooses).  Record ``i`` has
the value ``str(i)``; the broker fixture's consumer reads every stored record
back (``KafkaBroker.partitions_by_value``).

Needs java, javac and mvn (the broker), pyspark, and Spark's Kafka connector
(``spark-sql-kafka-0-10``, fetched from Maven Central when the Spark session
starts; see tests/spark_support.py).
"""

from __future__ import annotations

import random

import pytest

import fastpart
from broker_support import unique_topic
from spark_support import spark  # noqa: F401  (the session fixture)

pytestmark = [
    pytest.mark.spark,
    pytest.mark.broker,
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning"),
]

PARTITIONS = 12


def _keys(count: int = 3000, seed: int = 99) -> list:
    rng = random.Random(seed)
    out: list = [b"", b"kafka", "é€\U0001F600".encode(), None, b"\x00\xff"]
    while len(out) < count:
        out.append(None if rng.random() < 0.01 else rng.randbytes(rng.randint(1, 48)))
    return out


@pytest.mark.parametrize("strategy", ["java", "sarama"])
def test_spark_kafka_sink_places_records_where_fastpart_says(spark, kafka_broker, strategy, capsys):
    from pyspark.sql import functions as F
    from pyspark.sql.types import BinaryType, LongType, StructField, StructType

    from fastpart.spark import kafka_partition

    note = getattr(spark, "fastpart_kafka_note", None)
    if note:
        with capsys.disabled():
            print(f"\n[spark kafka connector] {note}")
    keys = _keys()
    topic = kafka_broker.create_topic(unique_topic(f"spark-{strategy.replace(':', '-')}"), PARTITIONS)
    schema = StructType([StructField("i", LongType()), StructField("key", BinaryType())])
    df = spark.createDataFrame(list(enumerate(keys)), schema).repartition(2)
    p = kafka_partition("key", PARTITIONS, strategy=strategy)
    (df.select(F.col("key"), F.col("i").cast("string").cast("binary").alias("value"),
               F.when(p >= 0, p).alias("partition"))
       .write.format("kafka")
       .option("kafka.bootstrap.servers", kafka_broker.bootstrap)
       .option("topic", topic)
       .save())

    found = kafka_broker.partitions_by_value(topic)
    assert sorted(found) == list(range(len(keys))), "records missing on the broker"
    want = list(fastpart.partition_many(keys, PARTITIONS, strategy=strategy))
    wrong = [(i, keys[i], found[i], want[i]) for i in range(len(keys)) if want[i] >= 0 and found[i] != want[i]]
    assert not wrong, f"{len(wrong)} records on another partition than fastpart's, e.g. {wrong[:5]}"
    keyless = [i for i, k in enumerate(keys) if k is None]
    assert keyless and all(0 <= found[i] < PARTITIONS for i in keyless)
