"""Proof on a real broker: records land where fastpart says they land.

Runs a real Apache Kafka (one KRaft node on 127.0.0.1, see broker_support.py)
and real producers in their default configuration, then reads every record
back from the broker and compares its partition with ``fastpart``.

Key sets (thousands of keys each): random bytes (including the empty key),
UTF-8 strings, and Java-serialized integers (IntegerSerializer: 4 bytes
big-endian two's complement).  The value of record ``i`` is ``str(i)``, which
is how a record read back is matched with the key that was sent.

Needs java, javac and mvn (skipped with a reason otherwise, failed under
FASTPART_REQUIRE_TOOLCHAINS=1); the confluent-kafka test needs the
``confluent-kafka`` package.
"""

from __future__ import annotations

import random
import struct
from typing import Callable, Dict, List, Optional, Sequence

import pytest

import fastpart
from broker_support import KafkaBroker, kafka_broker, unique_topic  # noqa: F401  (fixture)
from conformance_support import need

pytestmark = pytest.mark.broker

PARTITIONS = 12


# --------------------------------------------------------------------------- keys

def _utf8_text(rng: random.Random, length: int) -> str:
    ranges = ((0x20, 0x7E), (0xA0, 0x7FF), (0x800, 0xD7FF), (0xE000, 0xFFFD), (0x10000, 0x10FFFF))
    return "".join(chr(rng.randint(*ranges[rng.randrange(len(ranges))])) for _ in range(length))


def make_keys(seed: int = 4242, each: int = 2000) -> Dict[str, List[bytes]]:
    """``{kind: keys}`` -- deterministic, ``each`` keys per kind (plus edge cases)."""
    rng = random.Random(seed)
    raw = [b"", b"kafka", b"giberish123456789", b"1234", b"234", b"34", b"4", b"21"]
    raw += [bytes([b]) for b in (0x00, 0x7F, 0x80, 0xFF)]
    while len(raw) < each:
        raw.append(rng.randbytes(rng.randint(1, 64)))
    text = ["", "a", "é", "€", "\U0001F600", "fastpart"]
    while len(text) < each:
        text.append(_utf8_text(rng, rng.randint(1, 30)))
    ints = [0, 1, -1, 42, 2**31 - 1, -(2**31)]
    while len(ints) < each:
        ints.append(rng.randint(-(2**31), 2**31 - 1))
    return {
        "bytes": raw,
        "utf8": [t.encode("utf-8") for t in text],
        "int32": [struct.pack(">i", v) for v in ints],
    }


KEYS = make_keys()
ALL_KEYS: List[bytes] = [k for ks in KEYS.values() for k in ks]
KIND_OF: List[str] = [kind for kind, ks in KEYS.items() for _ in ks]


def describe(i: int, keys: Sequence[Optional[bytes]]) -> str:
    k = keys[i]
    kind = KIND_OF[i] if keys is ALL_KEYS and i < len(KIND_OF) else "key"
    return f"#{i} {kind} {'None' if k is None else k[:24].hex() + ('...' if len(k) > 24 else '')}"


def expect(keys: Sequence[bytes], n: int, strategy: str) -> List[int]:
    """fastpart's answer per key (``partition``), cross-checked with ``partition_many``."""
    one = [fastpart.partition(k, n, strategy=strategy) for k in keys]
    many = [int(p) for p in fastpart.partition_many(list(keys), n, strategy=strategy)]
    assert one == many, "fastpart.partition and fastpart.partition_many disagree"
    return one


def compare(keys: Sequence[Optional[bytes]], n: int, **answers: Sequence[Optional[int]]) -> None:
    """Assert that every answer list agrees with the first one, record by record.

    A ``-1`` in the first list (fastpart: "the client decides", e.g. the empty
    key under librdkafka's consistent_random) only requires the others to
    agree with each other and to be a valid partition.
    """
    names = list(answers)
    ref_name, ref = names[0], answers[names[0]]
    bad = []
    for i in range(len(keys)):
        got = {name: answers[name][i] for name in names}
        others = [got[name] for name in names[1:]]
        if ref[i] == -1:
            ok = len(set(others)) == 1 and others[0] is not None and 0 <= others[0] < n
        else:
            ok = all(o == ref[i] for o in others)
        if not ok:
            bad.append(f"{describe(i, keys)}: " + ", ".join(f"{k}={v}" for k, v in got.items()))
    assert not bad, (
        f"{len(bad)} of {len(keys)} records disagree ({ref_name} vs {', '.join(names[1:])}):\n  "
        + "\n  ".join(bad[:15])
    )


def stored(broker: KafkaBroker, topic: str, count: int) -> List[Optional[int]]:
    """Partition of record ``i`` as read back from the broker, for every i."""
    found = broker.partitions_by_value(topic)
    assert len(found) == count and set(found) == set(range(count)), (
        f"read back {len(found)} records from {topic}, expected {count}"
    )
    return [found[i] for i in range(count)]


# --------------------------------------------------------------------------- a. Java

def test_java_default_producer_lands_where_fastpart_says(kafka_broker: KafkaBroker) -> None:
    topic = kafka_broker.create_topic(unique_topic("java"), PARTITIONS)
    reported = kafka_broker.java_produce(topic, ALL_KEYS)
    on_broker = stored(kafka_broker, topic, len(ALL_KEYS))
    compare(
        ALL_KEYS, PARTITIONS,
        fastpart=[fastpart.partition(k, PARTITIONS) for k in ALL_KEYS],
        fastpart_java=expect(ALL_KEYS, PARTITIONS, "java"),
        java_producer=reported,
        broker=on_broker,
    )


# --------------------------------------------------------------------------- b. confluent-kafka

def confluent_produce(bootstrap: str, topic: str, keys: Sequence[Optional[bytes]],
                      partition_of: Optional[Callable[[Optional[bytes]], int]] = None,
                      **config: str) -> List[Optional[int]]:
    """Produce with confluent-kafka (``{"bootstrap.servers": ...} | config``);
    record ``i`` has the value ``str(i)``.  Returns the partition of every
    record from its delivery report.  ``partition_of(key)``, when given, is
    passed as ``produce(partition=...)``."""
    import confluent_kafka
    producer = confluent_kafka.Producer({"bootstrap.servers": bootstrap, **config})
    reports: List[Optional[int]] = [None] * len(keys)
    errors: List[str] = []

    def on_delivery(err, msg) -> None:
        i = int(msg.value())
        if err is not None:
            errors.append(f"#{i}: {err}")
        else:
            reports[i] = msg.partition()

    for i, key in enumerate(keys):
        kwargs = {} if partition_of is None else {"partition": partition_of(key)}
        while True:
            try:
                producer.produce(topic, key=key, value=str(i).encode(), on_delivery=on_delivery, **kwargs)
                break
            except BufferError:
                producer.poll(0.1)
        producer.poll(0)
    left = producer.flush(120)
    assert left == 0 and not errors, f"{left} records undelivered; errors: {errors[:10]}"
    return reports


@pytest.fixture(scope="module")
def confluent_kafka_module():
    try:
        import confluent_kafka
    except ImportError:
        need(False, "the confluent-kafka package is not installed (pip install confluent-kafka)")
    return confluent_kafka


@pytest.mark.parametrize(
    "config, strategy",
    [
        pytest.param({}, "librdkafka", id="default-consistent_random"),
        pytest.param({"partitioner": "murmur2_random"}, "java", id="murmur2_random"),
    ],
)
def test_confluent_kafka_lands_where_fastpart_says(kafka_broker: KafkaBroker, confluent_kafka_module,
                                                    config: Dict[str, str], strategy: str) -> None:
    topic = kafka_broker.create_topic(unique_topic("rdkafka"), PARTITIONS)
    reported = confluent_produce(kafka_broker.bootstrap, topic, ALL_KEYS, **config)
    on_broker = stored(kafka_broker, topic, len(ALL_KEYS))
    compare(
        ALL_KEYS, PARTITIONS,
        fastpart=expect(ALL_KEYS, PARTITIONS, strategy),
        delivery_report=reported,
        broker=on_broker,
    )
