"""Client adapters (fastpart.kafka_python, fastpart.aiokafka, fastpart.confluent), without a broker.

The clients' own partitioners (kafka-python and aiokafka ``DefaultPartitioner``,
confluent-kafka's exported ``murmur2`` / ``consistent`` / ``fnv1a``) are the
oracles; producers and metadata are fakes with the clients' attributes, or the
real client objects with their network parts replaced.
"""

from __future__ import annotations

import asyncio
import collections
import doctest
import importlib
import random
import struct
import sys
import threading
import time
import uuid
from types import SimpleNamespace as NS

import pytest

import fastpart
from fastpart import keyless
from fastpart.keyless import RoundRobin, UniformSticky

kafka_partitioner = pytest.importorskip("kafka.partitioner")
aiokafka_partitioner = pytest.importorskip("aiokafka.partitioner")
confluent_kafka = pytest.importorskip("confluent_kafka")

from fastpart import aiokafka as fp_aiokafka  # noqa: E402
from fastpart import confluent as fp_confluent  # noqa: E402
from fastpart import kafka_python as fp_kafka_python  # noqa: E402


def random_keys(count, seed, max_len=48):
    rng = random.Random(seed)
    keys = [b"", b"21", b"kafka"]
    while len(keys) < count:
        keys.append(bytes(rng.randrange(256) for _ in range(rng.randrange(max_len))))
    return keys


PARTITION_SETS = [
    pytest.param(list(range(1)), id="1"),
    pytest.param(list(range(12)), id="0..11"),
    pytest.param(list(range(100)), id="0..99"),
    pytest.param(random.Random(1).sample(range(1000), 37), id="37-of-1000-shuffled"),
    pytest.param([9, 4, 17, 2, 30, 11, 5], id="7-non-contiguous"),
]


def test_module_doctests():
    for mod in (fp_kafka_python, fp_aiokafka, fp_confluent):
        assert doctest.testmod(mod, verbose=False).failed == 0, mod.__name__


# ========================================================== kafka-python

class FakeCluster:
    """kafka-python ClusterMetadata's partitioner-facing methods (sets, as the client returns)."""

    def __init__(self, topics):
        self._topics = {t: (set(all_), set(avail)) for t, (all_, avail) in topics.items()}

    def topics(self, exclude_internal_topics=True):
        return set(self._topics)

    def partitions_for_topic(self, topic):
        return set(self._topics[topic][0]) if topic in self._topics else None

    def available_partitions_for_topic(self, topic):
        return set(self._topics[topic][1]) if topic in self._topics else None


@pytest.mark.parametrize("parts", PARTITION_SETS)
@pytest.mark.parametrize("cls", [fp_kafka_python.DefaultPartitioner, fp_kafka_python.StickyPartitioner])
def test_kafka_python_keyed_equals_kafka_pythons_own(parts, cls):
    cluster = FakeCluster({"t": (parts, parts[: len(parts) // 2])})
    ours = cls()
    theirs = kafka_partitioner.DefaultPartitioner()
    for key in random_keys(3000, seed=len(parts)):
        expected = theirs.partition("t", key, key, None, None, cluster)
        assert ours.partition("t", key, key, None, None, cluster) == expected, key
        # the kafka-python 2.x call: partitioner(key_bytes, sorted(all), available)
        assert ours(key, sorted(parts), list(parts)) == expected, key


def test_kafka_python_pure_murmur2_oracle_on_long_keys():
    # kafka-python's murmur2 itself, over keys up to 2 KiB and a shuffled partition list
    parts = random.Random(3).sample(range(500), 61)
    cluster = FakeCluster({"t": (parts, parts)})
    ours = fp_kafka_python.DefaultPartitioner()
    for key in random_keys(500, seed=9, max_len=2048):
        idx = (kafka_partitioner.murmur2(key) & 0x7FFFFFFF) % len(parts)
        assert ours.partition("t", None, key, None, None, cluster) == sorted(parts)[idx]


@pytest.mark.parametrize("strategy", sorted(fastpart.strategies()))
def test_kafka_python_other_strategies(strategy):
    parts = [9, 4, 17, 2, 30, 11, 5]
    cluster = FakeCluster({"t": (parts, parts)})
    ours = fp_kafka_python.DefaultPartitioner(strategy=strategy, seed=1)
    for key in random_keys(400, seed=5):
        idx = fastpart.partition(key, len(parts), strategy=strategy)
        got = ours.partition("t", key, key, None, None, cluster)
        if idx >= 0:
            assert got == sorted(parts)[idx]
        else:
            assert got in parts   # left to the client: the keyless strategy


def test_kafka_python_strategies_against_confluent_kafka():
    parts = list(range(24))
    cluster = FakeCluster({"t": (parts, parts)})
    java = fp_kafka_python.DefaultPartitioner()
    rdk = fp_kafka_python.DefaultPartitioner(strategy="librdkafka")
    fnv = fp_kafka_python.DefaultPartitioner(strategy="librdkafka:fnv1a")
    for key in random_keys(2000, seed=11):
        assert java.partition("t", key, key, None, None, cluster) == confluent_kafka.murmur2(key, 24)
        assert fnv.partition("t", key, key, None, None, cluster) == confluent_kafka.fnv1a(key, 24)
        if key:
            assert rdk.partition("t", key, key, None, None, cluster) == confluent_kafka.consistent(key, 24)


def test_kafka_python_none_keys_default_random_among_available():
    cluster = FakeCluster({"t": (range(10), [2, 5, 7]), "down": (range(4), [])})
    ours = fp_kafka_python.DefaultPartitioner(seed=4)
    got = collections.Counter(ours.partition("t", None, None, b"v", b"v", cluster) for _ in range(3000))
    assert set(got) == {2, 5, 7} and all(800 < c < 1200 for c in got.values())
    assert {ours.partition("down", None, None, b"v", b"v", cluster) for _ in range(200)} == {0, 1, 2, 3}
    # an empty key under librdkafka's default is left to the client too
    rdk = fp_kafka_python.DefaultPartitioner(strategy="librdkafka", seed=4)
    assert {rdk.partition("t", b"", b"", b"v", b"v", cluster) for _ in range(200)} == {2, 5, 7}


def test_kafka_python_keyless_round_robin_and_hashed_null_keys():
    cluster = FakeCluster({"t": ([3, 0, 2, 1], [3, 1, 0])})
    rr = fp_kafka_python.DefaultPartitioner(keyless=RoundRobin())
    seq = [rr.partition("t", None, None, b"v", b"v", cluster) for _ in range(6)]
    assert seq == [0, 1, 3, 0, 1, 3]     # available partitions, sorted (kafka-python gives sets)
    # librdkafka murmur2 hashes a None key as the empty key: never the keyless strategy
    strategy = RoundRobin()
    m2 = fp_kafka_python.DefaultPartitioner(strategy="librdkafka:murmur2", keyless=strategy)
    assert m2.partition("t", None, None, b"v", b"v", cluster) == 275646681 % 4
    m2.on_new_batch("t", cluster, 275646681 % 4)   # kafka-python calls it for None keys: ignored
    assert strategy.counter("t") == 0 and not strategy._retry


def simulate_kafka_python_send(partitioner, cluster, topic, records, batch_records):
    """kafka-python 3.x KafkaProducer.send for None keys: partition, abort for new batch, on_new_batch, again."""
    open_batch = {}
    placed = []
    for _ in range(records):
        p = partitioner.partition(topic, None, None, b"v", b"v", cluster)
        if open_batch.get(p, batch_records) >= batch_records:
            partitioner.on_new_batch(topic, cluster, p)
            p = partitioner.partition(topic, None, None, b"v", b"v", cluster)
            if open_batch.get(p, batch_records) >= batch_records:
                open_batch[p] = 0
        open_batch[p] += 1
        placed.append(p)
    return placed


def test_kafka_python_sticky_partitioner_flow():
    cluster = FakeCluster({"t": (range(6), range(6))})
    sp = fp_kafka_python.StickyPartitioner(seed=2)
    placed = simulate_kafka_python_send(sp, cluster, "t", 300, 10)
    runs = [len(list(g)) for _, g in __import__("itertools").groupby(placed)]
    # each new batch moves to a different partition: runs of exactly one batch (the
    # record that opens a batch already lands on the new partition)
    assert all(r == 10 for r in runs[1:-1]) and sum(runs) == 300
    assert all(a != b for a, b in zip(placed[9::10], placed[10::10]))
    # an unavailable sticky partition is re-picked, as kafka-python's StickyPartitioner
    p = sp.partition("t", None, None, b"v", b"v", cluster)
    shrunk = FakeCluster({"t": (range(6), [q for q in range(6) if q != p])})
    assert sp.partition("t", None, None, b"v", b"v", shrunk) != p


def test_kafka_python_round_robin_kafka_9965_through_the_adapter():
    cluster = FakeCluster({"t": (range(4), range(4))})
    broken = fp_kafka_python.DefaultPartitioner(keyless=RoundRobin(double_call_on_new_batch=True))
    assert set(simulate_kafka_python_send(broken, cluster, "t", 400, 10)) == {1, 3}
    fixed = fp_kafka_python.DefaultPartitioner(keyless=RoundRobin())
    assert collections.Counter(simulate_kafka_python_send(fixed, cluster, "t", 400, 10)) == {0: 100, 1: 100, 2: 100, 3: 100}


def test_kafka_python_uniform_sticky_uses_record_sizes():
    cluster = FakeCluster({"t": (range(3), range(3))})
    us = UniformSticky(batch_size=1000, seed=1)
    ours = fp_kafka_python.DefaultPartitioner(keyless=us)
    value = b"x" * 91   # record_size(None, 91 bytes) == 100
    assert keyless.record_size(None, value) == 100
    first = [ours.partition("t", None, None, value, value, cluster) for _ in range(10)]
    assert len(set(first)) == 1 and us.produced_bytes("t") == 0   # switched after 10 x 100 bytes
    with pytest.raises(TypeError, match="record_size"):
        ours(None, [0, 1, 2], [0, 1, 2])    # the 2.x call has no value: needs record_size=
    sized = fp_kafka_python.DefaultPartitioner(keyless=UniformSticky(seed=1), record_size=100)
    assert sized(None, [0, 1, 2], [0, 1, 2]) in (0, 1, 2)


def test_kafka_python_errors():
    cluster = FakeCluster({"t": (range(3), range(3))})
    with pytest.raises(ValueError, match="Topic nope not found"):
        fp_kafka_python.DefaultPartitioner().partition("nope", b"k", b"k", None, None, cluster)
    with pytest.raises(ValueError, match="unknown strategy 'javaa'"):
        fp_kafka_python.DefaultPartitioner(strategy="javaa")
    with pytest.raises(TypeError, match="keyless strategy"):
        fp_kafka_python.StickyPartitioner(keyless="sticky")
    with pytest.raises(ValueError, match="empty"):
        fp_kafka_python.DefaultPartitioner()(b"k", [], [])
    assert isinstance(fp_kafka_python.DefaultPartitioner(), kafka_partitioner.Partitioner)
    assert isinstance(fp_kafka_python.StickyPartitioner(), kafka_partitioner.Partitioner)
    assert "librdkafka" in repr(fp_kafka_python.DefaultPartitioner("librdkafka"))


def test_kafka_python_real_producer_uses_the_adapter():
    kafka = pytest.importorskip("kafka")
    ours = fp_kafka_python.DefaultPartitioner(strategy="librdkafka", keyless=RoundRobin())
    producer = kafka.KafkaProducer(bootstrap_servers="127.0.0.1:1", api_version=(3, 0),
                                   partitioner=ours, max_block_ms=100)
    try:
        md = producer._metadata
        if not hasattr(md, "_partitions"):
            pytest.skip("kafka-python's ClusterMetadata internals changed")
        md._partitions["t"] = {p: NS(leader_id=1 if p != 2 else -1) for p in range(8)}
        for key in random_keys(300, seed=2):
            if key:
                got = producer._partition("t", None, key, None, key, None)
                assert got == confluent_kafka.consistent(key, 8)
        assert [producer._partition("t", None, None, b"v", None, b"v") for _ in range(8)] == [0, 1, 3, 4, 5, 6, 7, 0]
    finally:
        producer.close(timeout=0)


# ========================================================== aiokafka

@pytest.mark.parametrize("parts", PARTITION_SETS)
def test_aiokafka_partitioner_equals_aiokafkas_own(parts):
    theirs = aiokafka_partitioner.DefaultPartitioner()
    ours = fp_aiokafka.Partitioner()
    all_partitions = list(set(parts))        # what aiokafka passes: list(set), not sorted
    shuffled = list(parts)
    random.Random(4).shuffle(shuffled)
    for key in random_keys(3000, seed=len(parts) + 1):
        for lst in (all_partitions, shuffled):
            assert ours(key, lst, lst) == theirs(key, lst, lst), key


def test_aiokafka_partitioner_keyless_and_errors():
    ours = fp_aiokafka.Partitioner(seed=3)
    assert {ours(None, [0, 1, 2, 3], [1, 2]) for _ in range(100)} == {1, 2}
    assert {ours(None, [0, 1, 2, 3], []) for _ in range(200)} == {0, 1, 2, 3}
    rr = fp_aiokafka.Partitioner(keyless=RoundRobin(), topic="events")
    assert [rr(None, [0, 1, 2], [2, 0]) for _ in range(3)] == [2, 0, 2]
    assert rr.keyless.counter("events") == 3
    with pytest.raises(ValueError, match="record_size"):
        fp_aiokafka.Partitioner(keyless=UniformSticky())
    assert fp_aiokafka.Partitioner(keyless=UniformSticky(), record_size=100)(None, [0, 1], [0, 1]) in (0, 1)
    with pytest.raises(ValueError, match="unknown strategy"):
        fp_aiokafka.Partitioner("nope")


class FakeBatch:
    def __init__(self, capacity, key_serializer=None):
        self.capacity = capacity
        self.records = []
        self.key_serializer = key_serializer

    def append(self, *, timestamp, key, value, headers=None):
        if value == b"HUGE":
            return None
        if len(self.records) >= self.capacity:
            return None
        if self.key_serializer is not None:
            key = self.key_serializer(key)
        self.records.append((key, value, headers))
        return NS(offset=len(self.records) - 1, size=10, timestamp=timestamp if timestamp is not None else 1234)


class FakeAioProducer:
    """The parts of AIOKafkaProducer that send_many uses."""

    def __init__(self, partitions, available=None, capacity=4, key_serializer=None, partitioner=None,
                 fail_partitions=(), fail_futures=()):
        self.partitions = set(partitions)
        self.client = NS(cluster=NS(available_partitions_for_topic=lambda t: set(available if available is not None else partitions)))
        self.capacity = capacity
        self._key_serializer = key_serializer
        self._value_serializer = None
        if partitioner is not None:
            self._partitioner = partitioner
        self.fail_partitions = set(fail_partitions)
        self.fail_futures = set(fail_futures)
        self.sent = []                     # (partition, [records]) in send order
        self.next_offset = collections.defaultdict(int)
        self.metadata_waits = 0

    async def partitions_for(self, topic):
        self.metadata_waits += 1
        await asyncio.sleep(0)
        return self.partitions

    def create_batch(self):
        return FakeBatch(self.capacity, self._key_serializer)

    async def send_batch(self, batch, topic, *, partition):
        assert partition in self.partitions
        if partition in self.fail_partitions:
            raise RuntimeError(f"queue full for {partition}")
        self.sent.append((partition, list(batch.records)))
        fut = asyncio.get_running_loop().create_future()
        if partition in self.fail_futures:
            fut.set_exception(ConnectionError(f"broker down for {partition}"))
        else:
            base = self.next_offset[partition]
            self.next_offset[partition] += len(batch.records)
            fut.set_result(NS(offset=base, timestamp=-1, timestamp_type=0, log_start_offset=0))
        return fut


def test_send_many_groups_once_and_preserves_input_order(monkeypatch):
    parts = [0, 1, 2, 3, 4, 5]
    producer = FakeAioProducer(parts, capacity=4)
    keys = random_keys(200, seed=8, max_len=12)[3:] + [b"same"] * 7
    records = [(k, b"value-%d" % i) for i, k in enumerate(keys)]
    calls = []
    real = fp_aiokafka._core.group_by_partition

    def counting(*args, **kwargs):
        calls.append(args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr(fp_aiokafka._core, "group_by_partition", counting)
    results = asyncio.run(fp_aiokafka.send_many(producer, "t", records))
    assert calls == [6]                                # ONE grouping call, n from the metadata
    assert producer.metadata_waits == 1
    theirs = aiokafka_partitioner.DefaultPartitioner()
    all_partitions = list(producer.partitions)
    assert len(results) == len(records)
    per_partition = collections.defaultdict(list)
    for i, (k, v) in enumerate(records):
        r = results[i]
        assert r.partition == theirs(k, all_partitions, all_partitions)
        assert r.topic == "t" and r.topic_partition.partition == r.partition
        per_partition[r.partition].append((r.offset, i))
    for p, offs in per_partition.items():
        assert [o for o, _ in offs] == list(range(len(offs)))      # offsets follow input order
    # batches hold at most `capacity` records, and every record was sent exactly once, in order
    sent_by_partition = collections.defaultdict(list)
    for p, recs in producer.sent:
        assert 1 <= len(recs) <= 4
        sent_by_partition[p].extend(v for _, v, _ in recs)
    for p, offs in per_partition.items():
        assert sent_by_partition[p] == [records[i][1] for _, i in offs]
    same = [results[i].partition for i, (k, _) in enumerate(records) if k == b"same"]
    assert len(set(same)) == 1


def test_send_many_keyless_strategy_and_other_strategy():
    producer = FakeAioProducer(range(4), available=[1, 3], capacity=100)
    records = [(None, b"a"), (b"x", b"b"), (None, b"c"), (None, b"d"), (b"", b"e")]
    results = asyncio.run(fp_aiokafka.send_many(producer, "t", records, strategy="librdkafka", keyless=RoundRobin()))
    # None keys and the empty key (left to the client under librdkafka) take the round robin over [1, 3]
    assert [results[i].partition for i in (0, 2, 3, 4)] == [1, 3, 1, 3]
    assert results[1].partition == confluent_kafka.consistent(b"x", 4)
    # within a partition, keyed and keyless records keep their input order
    for p, recs in producer.sent:
        values = [v for _, v, _ in recs]
        assert values == sorted(values)


def test_send_many_takes_the_producers_fastpart_partitioner():
    ours = fp_aiokafka.Partitioner("librdkafka", keyless=RoundRobin(), topic="t")
    producer = FakeAioProducer(range(8), partitioner=ours, key_serializer=lambda k: None if k is None else k.encode())
    records = [("user-%d" % i, b"v") for i in range(50)] + [(None, b"v")] * 3
    results = asyncio.run(fp_aiokafka.send_many(producer, "t", records))
    for (k, _), r in zip(records[:50], results[:50]):
        assert r.partition == confluent_kafka.consistent(k.encode(), 8)   # serialized keys are hashed
    assert [r.partition for r in results[50:]] == [0, 1, 2]
    assert ours.keyless.counter("t") == 3


def test_send_many_uniform_sticky_measures_records():
    us = UniformSticky(batch_size=100, seed=5)
    producer = FakeAioProducer(range(4), capacity=1000)
    records = [(None, b"x" * 91)] * 30     # 100 bytes each: a switch after every record
    asyncio.run(fp_aiokafka.send_many(producer, "t", records, keyless=us))
    assert us.produced_bytes("t") == 0


def test_send_many_reports_failures_per_record():
    producer = FakeAioProducer(range(3), capacity=2, fail_partitions=[0], fail_futures=[1])
    theirs = aiokafka_partitioner.DefaultPartitioner()
    keys = random_keys(60, seed=3, max_len=8)
    records = [(k, b"v") for k in keys] + [(b"big", b"HUGE")]
    results = asyncio.run(fp_aiokafka.send_many(producer, "t", records))
    allp = list(producer.partitions)
    for (k, v), r in zip(records, results):
        p = theirs(k, allp, allp)
        if v == b"HUGE":
            assert isinstance(r, fp_aiokafka._TooLarge)
        elif p == 0:
            assert isinstance(r, RuntimeError) and "queue full" in str(r)
        elif p == 1:
            assert isinstance(r, ConnectionError)
        else:
            assert r.partition == 2
    assert asyncio.run(fp_aiokafka.send_many(producer, "t", [])) == []
    with pytest.raises(TypeError, match=r"\(key, value\)"):
        asyncio.run(fp_aiokafka.send_many(producer, "t", [b"just-a-value"]))
    with pytest.raises(ValueError, match="unknown strategy"):
        asyncio.run(fp_aiokafka.send_many(producer, "t", [(b"k", b"v")], strategy="nope"))


def test_send_many_with_a_real_aiokafka_producer(monkeypatch):
    aiokafka = pytest.importorskip("aiokafka")

    async def main():
        producer = aiokafka.AIOKafkaProducer(bootstrap_servers="127.0.0.1:1", max_batch_size=300)
        sent = []
        next_offset = collections.defaultdict(int)

        async def partitions_for(topic):
            return {0, 1, 2, 3, 4}

        async def send_batch(batch, topic, *, partition):
            fut = asyncio.get_running_loop().create_future()
            count = batch.record_count()
            sent.append((partition, count))
            base = next_offset[partition]
            next_offset[partition] += count
            fut.set_result(aiokafka.structs.RecordMetadata(topic, partition, None, base, -1, 0, 0))
            return fut

        monkeypatch.setattr(producer, "partitions_for", partitions_for)
        monkeypatch.setattr(producer, "send_batch", send_batch)
        records = [(b"key-%d" % i, b"x" * 40) for i in range(100)] + [(None, b"y" * 40)] * 5
        results = await fp_aiokafka.send_many(producer, "t", records)
        return producer, sent, records, results

    producer, sent, records, results = asyncio.run(main())
    theirs = aiokafka_partitioner.DefaultPartitioner()
    allp = list({0, 1, 2, 3, 4})
    for (k, _), r in zip(records, results):
        assert isinstance(r, aiokafka.structs.RecordMetadata)
        if k is not None:
            assert r.partition == theirs(k, allp, allp)
    assert sum(n for _, n in sent) == 105
    assert any(n < 105 for _, n in sent) and len(sent) > 5     # 300-byte batches: several per partition
    offsets = collections.defaultdict(list)
    for r in results:
        offsets[r.partition].append(r.offset)
    for p, offs in offsets.items():
        assert offs == list(range(len(offs)))      # input order within the partition


def _real_aiokafka_send_many(monkeypatch, records, **producer_kwargs):
    """send_many through a real AIOKafkaProducer (real batches and serializers), sends faked."""
    aiokafka = pytest.importorskip("aiokafka")

    async def main():
        producer = aiokafka.AIOKafkaProducer(bootstrap_servers="127.0.0.1:1", **producer_kwargs)
        sent = []

        async def partitions_for(topic):
            return {0, 1, 2, 3, 4}

        async def send_batch(batch, topic, *, partition):
            fut = asyncio.get_running_loop().create_future()
            sent.append((partition, batch.record_count()))
            fut.set_result(aiokafka.structs.RecordMetadata(topic, partition, None, 0, -1, 0, 0))
            return fut

        monkeypatch.setattr(producer, "partitions_for", partitions_for)
        monkeypatch.setattr(producer, "send_batch", send_batch)
        return await fp_aiokafka.send_many(producer, "t", records), sent

    return asyncio.run(main())


def test_send_many_reports_a_bad_key_per_record_as_a_bad_value(monkeypatch):
    aiokafka = pytest.importorskip("aiokafka")
    theirs = aiokafka_partitioner.DefaultPartitioner()
    allp = list({0, 1, 2, 3, 4})
    # a key serializer that refuses a key, and a value the batch refuses
    records = [("user-1", b"v"), (5, b"v"), ("user-2", 7), ("user-3", b"v")]
    results, sent = _real_aiokafka_send_many(monkeypatch, records, key_serializer=lambda k: k.encode())
    assert isinstance(results[1], AttributeError)                # the serializer's own error
    assert isinstance(results[2], TypeError)                     # the batch's error for a bad value
    for i in (0, 3):
        assert isinstance(results[i], aiokafka.structs.RecordMetadata)
        assert results[i].partition == theirs(records[i][0].encode(), allp, allp)
    assert sum(n for _, n in sent) == 2
    # no serializer: an int key cannot be hashed (a typed value is never a key)
    records = [(b"ok", b"v"), (42, b"v"), (b"", b"v"), (3.5, b"v"), (None, b"v")]
    results, sent = _real_aiokafka_send_many(monkeypatch, records)
    assert isinstance(results[1], TypeError) and "fastpart.serde" in str(results[1])
    assert isinstance(results[3], TypeError) and "fastpart.serde" in str(results[3])
    assert results[0].partition == theirs(b"ok", allp, allp)
    assert results[2].partition == theirs(b"", allp, allp)
    assert results[4].partition in allp
    assert sum(n for _, n in sent) == 3
    # every key bad: nothing sent, every record answered
    results, sent = _real_aiokafka_send_many(monkeypatch, [(1, b"v"), (2, b"v")])
    assert [type(r) for r in results] == [TypeError, TypeError] and sent == []


def test_send_many_bad_value_with_uniform_sticky_fails_its_record_only():
    us = UniformSticky(batch_size=100, seed=5)
    producer = FakeAioProducer(range(4), capacity=1000)
    producer._value_serializer = lambda v: v.encode()            # refuses bytes
    results = asyncio.run(fp_aiokafka.send_many(producer, "t", [(None, "ok"), (None, b"bad"), (None, "ok")],
                                                keyless=us))
    assert isinstance(results[1], AttributeError)
    assert results[0].partition in range(4) and results[2].partition in range(4)


def _version(text):
    return tuple(int(part) for part in text.split(".")[:3] if part.isdigit())


def test_aiokafka_private_attributes_are_pinned_to_checked_versions():
    """send_many reads three AIOKafkaProducer attributes that have no public accessor.

    They were read in aiokafka 0.11.0 - 0.14.0 (fastpart.aiokafka.CHECKED_AIOKAFKA);
    a newer aiokafka must be checked again before this range is widened.
    """
    aiokafka = pytest.importorskip("aiokafka")
    low, high = (_version(v) for v in fp_aiokafka.CHECKED_AIOKAFKA)
    installed = _version(aiokafka.__version__)
    assert low <= installed <= high, (
        f"aiokafka {aiokafka.__version__} is outside the range fastpart.aiokafka was checked on "
        f"({fp_aiokafka.CHECKED_AIOKAFKA[0]} to {fp_aiokafka.CHECKED_AIOKAFKA[1]}): check that "
        f"AIOKafkaProducer still has {fp_aiokafka.PRIVATE_ATTRIBUTES} and that create_batch() batches "
        "run its serializers, then update CHECKED_AIOKAFKA"
    )
    ours = fp_aiokafka.Partitioner()

    def key_ser(k):
        return k.encode()

    def value_ser(v):
        return v.encode()

    async def main():
        producer = aiokafka.AIOKafkaProducer(bootstrap_servers="127.0.0.1:1", key_serializer=key_ser,
                                             value_serializer=value_ser, partitioner=ours)
        got = {name: fp_aiokafka._private(producer, name) for name in fp_aiokafka.PRIVATE_ATTRIBUTES}
        batch = producer.create_batch()
        md = batch.append(key="k", value="v", timestamp=None, headers=[])  # str: only if it serializes
        public = producer.client.cluster.available_partitions_for_topic
        return got, md, public

    got, md, public = asyncio.run(main())
    assert got == {"_key_serializer": key_ser, "_value_serializer": value_ser, "_partitioner": ours}
    assert md is not None and callable(public)


def test_send_many_names_a_missing_private_attribute(monkeypatch):
    aiokafka = pytest.importorskip("aiokafka")

    async def main():
        producer = aiokafka.AIOKafkaProducer(bootstrap_servers="127.0.0.1:1")
        del producer._key_serializer                               # as if aiokafka renamed it
        monkeypatch.setattr(producer, "partitions_for", lambda topic: asyncio.sleep(0, {0, 1}))
        return await fp_aiokafka.send_many(producer, "t", [(b"k", b"v")])

    with pytest.raises(RuntimeError, match=r"AIOKafkaProducer\._key_serializer.*checked on aiokafka 0\.11\.0"):
        asyncio.run(main())


# ========================================================== confluent-kafka

def confluent_metadata(topics):
    """A confluent_kafka.admin.ClusterMetadata: topics {name: (partition count | error, leaders)}."""
    from confluent_kafka.admin import ClusterMetadata, PartitionMetadata, TopicMetadata

    md = ClusterMetadata()
    for name, spec in topics.items():
        tm = TopicMetadata()
        tm.topic = name
        if isinstance(spec, confluent_kafka.KafkaError):
            tm.error = spec
        else:
            count, down = spec
            for i in range(count):
                pm = PartitionMetadata()
                pm.id = i
                pm.leader = -1 if i in down else 1
                tm.partitions[i] = pm
        md.topics[name] = tm
    return md


class FakeConfluentProducer:
    def __init__(self, topics):
        self.topics = dict(topics)
        self.list_calls = []
        self.produced = []
        self.fail_next = None

    def list_topics(self, topic=None, timeout=-1):
        self.list_calls.append((topic, timeout))
        known = {t: s for t, s in self.topics.items() if topic is None or t == topic}
        if topic is not None and topic not in known:
            known[topic] = confluent_kafka.KafkaError(confluent_kafka.KafkaError.UNKNOWN_TOPIC_OR_PART)
        return confluent_metadata(known)

    def produce(self, topic, value=None, key=None, partition=-1, **kwargs):
        if self.fail_next is not None:
            err, self.fail_next = self.fail_next, None
            raise confluent_kafka.KafkaException(err)
        self.produced.append(dict(topic=topic, key=key, value=value, partition=partition, **kwargs))


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_confluent_java_placement_equals_confluents_murmur2():
    producer = FakeConfluentProducer({"t": (24, ())})
    placer = fp_confluent.Partitioner(producer)
    keys = random_keys(3000, seed=21)
    for key in keys:
        assert placer.partition("t", key) == confluent_kafka.murmur2(key, 24)
    assert list(placer.partitions("t", keys)) == [confluent_kafka.murmur2(k, 24) for k in keys]
    assert placer.partition("t", None) == -1 == fp_confluent.PARTITION_UA
    assert len(producer.list_calls) == 1 and producer.list_calls[0] == ("t", 10.0)


def test_confluent_other_strategies_and_keyless():
    producer = FakeConfluentProducer({"t": (12, (0, 5))})
    rdk = fp_confluent.Partitioner(producer, "librdkafka")
    for key in random_keys(500, seed=22):
        if key:
            assert rdk.partition("t", key) == confluent_kafka.consistent(key, 12)
    assert rdk.partition("t", b"") == -1
    rr = fp_confluent.Partitioner(producer, keyless=RoundRobin())
    avail = [p for p in range(12) if p not in (0, 5)]
    assert [rr.partition("t", None) for _ in range(10)] == avail
    batch = rr.partitions("t", [None, b"21", None])
    assert list(batch) == [avail[0], confluent_kafka.murmur2(b"21", 12), avail[1]]
    assert rr.partition("t", "kafka") == fastpart.partition("kafka", 12)   # str keys: UTF-8


def test_confluent_metadata_refresh_unknown_topic_interval_and_errors():
    clock = Clock()
    producer = FakeConfluentProducer({"a": (4, ()), "b": (6, ())})
    placer = fp_confluent.Partitioner(producer, refresh_interval=60, clock=clock)
    assert placer.partition_count("a") == 4
    assert placer.partition_count("a") == 4
    assert [t for t, _ in producer.list_calls] == ["a"]
    assert placer.partition_count("b") == 6                       # unknown topic: fetched
    assert [t for t, _ in producer.list_calls] == ["a", "b"]
    producer.topics["a"] = (8, ())                                 # partitions added
    clock.now += 59
    assert placer.partition_count("a") == 4                        # still cached
    assert placer.wait_for_refresh(5) and len(producer.list_calls) == 2
    clock.now += 2
    placer.partition_count("a")                                    # interval passed: refresh queued
    assert placer.wait_for_refresh(5)
    assert placer.partition_count("a") == 8 and len(producer.list_calls) == 3
    producer.topics["a"] = (10, ())
    placer.partition_error("a")                                    # reported by the caller: refreshes
    assert placer.wait_for_refresh(5)
    assert placer.partition_count("a") == 10 and len(producer.list_calls) == 4
    placer.partition_count("b")                                    # its interval passed too
    assert placer.wait_for_refresh(5) and placer.partition_count("b") == 6
    producer.topics["b"] = (7, ())
    msg = NS(topic=lambda: "b")
    placer.on_delivery(confluent_kafka.KafkaError(confluent_kafka.KafkaError.MSG_SIZE_TOO_LARGE), msg)
    assert placer.wait_for_refresh(5)
    assert placer.partition_count("b") == 6                        # not a partition error
    placer.on_delivery(confluent_kafka.KafkaError(confluent_kafka.KafkaError._UNKNOWN_PARTITION), msg)
    assert placer.wait_for_refresh(5)
    assert placer.partition_count("b") == 7
    placer.on_delivery(None, msg)
    assert placer.refresh("b") == 7 and placer.metadata_requests == len(producer.list_calls) == 7
    placer.partition_error()                                       # every topic
    assert placer.wait_for_refresh(5)
    assert len(producer.list_calls) == 9
    assert sorted(t for t, _ in producer.list_calls[-2:]) == ["a", "b"]


def test_confluent_failed_refresh_keeps_known_partitions_and_backs_off():
    clock = Clock()
    producer = FakeConfluentProducer({"t": (6, ())})
    placer = fp_confluent.Partitioner(producer, refresh_interval=60, clock=clock)
    assert placer.partition("t", b"21") == confluent_kafka.murmur2(b"21", 6)
    broken = confluent_kafka.KafkaException(confluent_kafka.KafkaError(confluent_kafka.KafkaError._TRANSPORT))

    def down(topic=None, timeout=-1):
        producer.list_calls.append((topic, timeout))
        raise broken

    producer.list_topics = down
    clock.now += 61
    assert placer.partition_count("t") == 6          # a refresh is queued; the known count meanwhile
    assert placer.wait_for_refresh(5) and placer.last_refresh_error is broken
    assert placer.partition_count("t") == 6          # refresh failed: still the known count
    assert placer.wait_for_refresh(5) and len(producer.list_calls) == 2   # backing off
    clock.now += placer.retry_backoff
    placer.partition_count("t")
    assert placer.wait_for_refresh(5)
    assert len(producer.list_calls) == 3             # tried again after the backoff
    with pytest.raises(confluent_kafka.KafkaException):
        placer.refresh("t")                          # an explicit refresh reports the failure
    with pytest.raises(confluent_kafka.KafkaException):
        placer.partition_count("new-topic")          # nothing known: the first fetch raises
    del producer.list_topics                          # back to the class method
    clock.now += placer.retry_backoff
    producer.topics["t"] = (9, ())
    placer.partition_count("t")
    assert placer.wait_for_refresh(5)
    assert placer.partition_count("t") == 9
    producer.topics["new-topic"] = (3, ())
    assert placer.partition_count("new-topic") == 3  # a failed first fetch is not cached


def test_confluent_no_interval_and_metadata_errors():
    producer = FakeConfluentProducer({"a": (3, ())})
    clock = Clock()
    placer = fp_confluent.Partitioner(producer, refresh_interval=None, clock=clock)
    placer.partition_count("a")
    clock.now += 10**9
    placer.partition_count("a")
    assert len(producer.list_calls) == 1
    with pytest.raises(fp_confluent.MetadataError, match="'missing' has no partitions.*Unknown topic"):
        placer.partition("missing", b"k")
    with pytest.raises(TypeError, match="topic"):
        placer.partition("", b"k")
    with pytest.raises(TypeError, match="list_topics"):
        fp_confluent.Partitioner(object())
    with pytest.raises(ValueError, match="unknown strategy"):
        fp_confluent.Partitioner(producer, "nope")
    with pytest.raises(ValueError, match="refresh_interval"):
        fp_confluent.Partitioner(producer, refresh_interval=0)
    with pytest.raises(TypeError, match="keyless strategy"):
        fp_confluent.Partitioner(producer, keyless=3)


def test_confluent_produce_passes_partition_and_wraps_callbacks():
    producer = FakeConfluentProducer({"t": (12, ())})
    placer = fp_confluent.Partitioner(producer)
    seen = []
    placer.produce("t", b"21", b"value", on_delivery=lambda err, msg: seen.append((err, msg)), headers=[("h", b"1")])
    placer.produce("t", key=None, value=b"v2")
    sent = producer.produced
    assert sent[0]["partition"] == confluent_kafka.murmur2(b"21", 12) and sent[0]["key"] == b"21"
    assert sent[0]["headers"] == [("h", b"1")] and sent[0]["value"] == b"value"
    assert sent[1]["partition"] == -1
    # the wrapped callback reaches the user's and reports partition errors
    producer.topics["t"] = (16, ())
    err = confluent_kafka.KafkaError(confluent_kafka.KafkaError._UNKNOWN_PARTITION)
    sent[0]["on_delivery"](err, NS(topic=lambda: "t"))
    assert seen and seen[0][0] is err
    assert placer.wait_for_refresh(5)
    assert placer.partition_count("t") == 16
    with pytest.raises(TypeError, match="partition"):
        placer.produce("t", b"k", b"v", partition=3)
    with pytest.raises(TypeError, match="not both"):
        placer.produce("t", b"k", b"v", on_delivery=print, callback=print)


def test_confluent_produce_retries_once_after_unknown_partition():
    producer = FakeConfluentProducer({"t": (4, ())})
    placer = fp_confluent.Partitioner(producer)
    placer.partition_count("t")
    producer.topics["t"] = (8, ())
    producer.fail_next = confluent_kafka.KafkaError(confluent_kafka.KafkaError._UNKNOWN_PARTITION)
    placer.produce("t", b"kafka", b"v")
    assert producer.produced[-1]["partition"] == confluent_kafka.murmur2(b"kafka", 8)
    producer.fail_next = confluent_kafka.KafkaError(confluent_kafka.KafkaError._UNKNOWN_PARTITION)
    with pytest.raises(confluent_kafka.KafkaException):            # count unchanged: re-raised
        placer.produce("t", b"kafka", b"v")
    producer.fail_next = confluent_kafka.KafkaError(confluent_kafka.KafkaError._QUEUE_FULL)
    with pytest.raises(confluent_kafka.KafkaException):
        placer.produce("t", b"kafka", b"v")


def test_confluent_real_producer_accepts_the_partition():
    # no bootstrap.servers: the client never connects; produce() only queues
    producer = confluent_kafka.Producer({"message.timeout.ms": 1000, "log_level": 0})

    class Metadata:
        def __init__(self, real):
            self.real = real

        def list_topics(self, topic=None, timeout=-1):
            return confluent_metadata({topic: (6, ())})

        def produce(self, *args, **kwargs):
            return self.real.produce(*args, **kwargs)

    placer = fp_confluent.Partitioner(Metadata(producer))
    placer.produce("t", b"user-1", b"v")          # the real produce() takes partition= and on_delivery=
    placer.produce("t", None, b"v")
    assert len(producer) == 2
    producer.purge()


class UUIDSerializer(confluent_kafka.serialization.Serializer):
    """Java's UUIDSerializer: the 36-character text, UTF-8."""

    def __call__(self, obj, ctx=None):
        return None if obj is None else str(obj).encode("utf-8")


SERIALIZED_KEYS = [
    ("string", lambda: confluent_kafka.serialization.StringSerializer(), ["kafka", "user-1", "", "ü€"],
     fastpart.serde.string),
    ("int32", lambda: confluent_kafka.serialization.IntegerSerializer(), [42, 0, -1, 2**31 - 1, -(2**31)],
     fastpart.serde.int32),
    ("float64", lambda: confluent_kafka.serialization.DoubleSerializer(), [1.5, 0.0, -2.25, 1e300],
     fastpart.serde.float64),
    ("uuid", UUIDSerializer, [uuid.UUID(int=12345), uuid.UUID(int=2**128 - 1)], fastpart.serde.uuid),
]


@pytest.mark.parametrize("name,make,values,java_bytes", SERIALIZED_KEYS, ids=[k[0] for k in SERIALIZED_KEYS])
def test_confluent_places_by_the_serialized_key(name, make, values, java_bytes):
    producer = FakeConfluentProducer({"t": (24, ())})
    placer = fp_confluent.Partitioner(producer, key_serializer=make())
    for v in values:
        raw = java_bytes(v)   # the bytes Java's serializer writes
        assert placer.partition("t", v) == fastpart.partition(raw, 24) == confluent_kafka.murmur2(raw, 24)
    assert list(placer.partitions("t", values)) == [fastpart.partition(java_bytes(v), 24) for v in values]
    assert placer.partition("t", None) == -1                         # serializers pass None through
    placer.produce("t", key=values[0], value=b"v")
    assert producer.produced[-1]["key"] == values[0]                 # the producer serializes it itself
    assert producer.produced[-1]["partition"] == fastpart.partition(java_bytes(values[0]), 24)


def test_confluent_int_key_42_with_integer_serializer():
    producer = FakeConfluentProducer({"t": (12, ())})
    ints = fp_confluent.Partitioner(producer, key_serializer=confluent_kafka.serialization.IntegerSerializer())
    assert ints.partition("t", 42) == fastpart.partition(fastpart.serde.int32(42), 12)
    assert ints.partition("t", 42) == fastpart.partition(b"\x00\x00\x00\x2a", 12)
    assert fastpart.partition(b"\x00\x00\x00\x2a", 12) != fastpart.partition(b"42", 12)  # the old answer differed


def test_confluent_serializer_gets_the_producers_context_and_its_errors():
    producer = FakeConfluentProducer({"orders": (12, ())})
    seen = []

    def by_context(key, ctx):
        seen.append((ctx.topic, ctx.field, ctx.headers))
        return key.encode() + b"@" + ctx.topic.encode()

    placer = fp_confluent.Partitioner(producer, key_serializer=by_context)
    placer.produce("orders", key="k", value=b"v", headers=[("h", b"1")])
    assert seen == [("orders", confluent_kafka.serialization.MessageField.KEY, [("h", b"1")])]
    assert producer.produced[-1]["partition"] == fastpart.partition(b"k@orders", 12)
    ints = fp_confluent.Partitioner(producer, key_serializer=confluent_kafka.serialization.IntegerSerializer())
    with pytest.raises(confluent_kafka.error.KeySerializationError):
        ints.partition("orders", "not an int")                       # as SerializingProducer.produce
    assert len(producer.produced) == 1


def test_confluent_serializing_producer_needs_its_key_serializer():
    keys = confluent_kafka.serialization.IntegerSerializer()
    sp = confluent_kafka.SerializingProducer({"key.serializer": keys, "log_level": 0})
    with pytest.raises(TypeError, match="SerializingProducer.*key_serializer="):
        fp_confluent.Partitioner(sp)
    assert fp_confluent.Partitioner(sp, key_serializer=keys).key_serializer is keys
    assert fp_confluent.Partitioner(sp, key_serializer=None).key_serializer is None  # has no key.serializer
    plain = confluent_kafka.Producer({"log_level": 0})
    with pytest.raises(TypeError, match="sends keys as given"):
        fp_confluent.Partitioner(plain, key_serializer=keys)
    with pytest.raises(TypeError, match="key_serializer must be"):
        fp_confluent.Partitioner(FakeConfluentProducer({}), key_serializer=b"int")


class MetadataSerializingProducer(confluent_kafka.SerializingProducer):
    """A real SerializingProducer (never connects) whose list_topics answers 12 partitions."""

    def list_topics(self, topic=None, timeout=-1):
        return confluent_metadata({topic: (12, ())})


def test_confluent_real_serializing_producer_sends_the_bytes_it_was_placed_by():
    keys = confluent_kafka.serialization.IntegerSerializer()
    sp = MetadataSerializingProducer({"key.serializer": keys, "message.timeout.ms": 1000, "log_level": 0})
    placer = fp_confluent.Partitioner(sp, key_serializer=keys)
    reports = []
    for k in (42, 7, -1, 123456789):
        placer.produce("t", key=k, value=b"v", on_delivery=lambda err, msg: reports.append(msg))
    sp.purge()                                  # never sent: the delivery reports show what was queued
    sp.flush(5)
    assert len(reports) == 4
    for msg in reports:
        wire = msg.key()                        # the bytes librdkafka would send
        assert msg.partition() == fastpart.partition(wire, 12) == confluent_kafka.murmur2(wire, 12)
    assert sorted(struct.unpack(">i", m.key())[0] for m in reports) == [-1, 7, 42, 123456789]


class SlowMetadataProducer(FakeConfluentProducer):
    """list_topics takes `delay` seconds, as a real cluster round trip may."""

    def __init__(self, topics, delay):
        super().__init__(topics)
        self.delay = delay
        self.lock = threading.Lock()

    def list_topics(self, topic=None, timeout=-1):
        time.sleep(self.delay)
        with self.lock:
            return super().list_topics(topic, timeout)


def test_confluent_refresh_never_blocks_produce():
    clock = Clock()
    producer = SlowMetadataProducer({"t": (12, ())}, delay=1.5)
    placer = fp_confluent.Partitioner(producer, refresh_interval=60, clock=clock)
    start = time.perf_counter()
    placer.produce("t", key=b"first", value=b"v")     # the first use waits for metadata (documented)
    assert time.perf_counter() - start >= 1.5
    # a key placed differently on 12 and 24 partitions
    key = next(k for k in random_keys(100, seed=5) if fastpart.partition(k, 12) != fastpart.partition(k, 24))
    with producer.lock:
        producer.topics["t"] = (24, ())               # the topic grows
    clock.now += 61                                   # and its refresh is due
    latencies = []
    during = []
    for _ in range(200):
        start = time.perf_counter()
        placer.produce("t", key=key, value=b"v")
        latencies.append(time.perf_counter() - start)
        during.append(producer.produced[-1]["partition"])
    assert max(latencies) < 0.5, f"produce() waited {max(latencies):.3f} s during a 1.5 s metadata refresh"
    assert during[0] == fastpart.partition(key, 12)   # the known count until the refresh lands
    assert placer.wait_for_refresh(10)
    assert placer.partition_count("t") == 24 and producer.list_calls == [("t", 10.0), ("t", 10.0)]
    placer.produce("t", key=key, value=b"v")
    assert producer.produced[-1]["partition"] == fastpart.partition(key, 24)
    assert set(during) <= {fastpart.partition(key, 12), fastpart.partition(key, 24)}


def test_confluent_first_use_is_one_fetch_shared_by_threads():
    producer = SlowMetadataProducer({"t": (12, ())}, delay=0.5)
    placer = fp_confluent.Partitioner(producer)
    barrier = threading.Barrier(8)
    answers = []

    def work():
        barrier.wait()
        answers.append(placer.partition("t", b"kafka"))

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answers == [fastpart.partition(b"kafka", 12)] * 8
    assert len(producer.list_calls) == 1 == placer.metadata_requests


def test_confluent_refresh_holds_no_lock_while_waiting():
    clock = Clock()
    producer = SlowMetadataProducer({"a": (4, ()), "b": (6, ())}, delay=0.0)
    placer = fp_confluent.Partitioner(producer, refresh_interval=60, clock=clock)
    placer.partition_count("a"), placer.partition_count("b")
    producer.delay = 1.5
    clock.now += 61
    placer.partition_count("a")                   # queues a 1.5 s refresh of "a" (then of "b")
    start = time.perf_counter()
    for _ in range(100):                          # every method stays responsive meanwhile
        placer.partition_count("b"), placer.partition("a", b"k"), placer.partition_error("a")
        placer.on_delivery(None, None)
    assert time.perf_counter() - start < 0.5
    assert placer.wait_for_refresh(10)


LIBRDKAFKA_PARTITIONERS = ["random", "consistent", "consistent_random", "murmur2", "murmur2_random",
                           "fnv1a", "fnv1a_random"]


@pytest.mark.parametrize("name", LIBRDKAFKA_PARTITIONERS)
def test_explain_every_librdkafka_partitioner(name):
    confluent_kafka.Producer({"partitioner": name, "log_level": 0})   # librdkafka accepts it
    e = fp_confluent.explain({"partitioner": name})
    assert e.partitioner == name and e.source == "partitioner"
    assert e.strategy in fastpart.strategies()
    if name == "murmur2_random":
        assert e.strategy == "java" and e.agrees_with_java
    else:
        assert e.strategy == "librdkafka:" + name and not e.agrees_with_java
    # the flags agree with what the strategy computes (partition counts where Java's empty-key
    # partition 275646681 % n is neither 0 nor fnv1a's 2128831035 % n)
    keys = random_keys(300, seed=1)[1:]
    counts = [n for n in range(2, 200) if 275646681 % n not in (0, 2128831035 % n)][:6]
    for n in counts:
        keyed_same = all(fastpart.partition(k, n, strategy=e.strategy) == fastpart.partition(k, n) for k in keys)
        assert keyed_same == e.keyed_matches_java, n
        empty_same = fastpart.partition(b"", n, strategy=e.strategy) == fastpart.partition(b"", n)
        assert empty_same == e.empty_key_matches_java, n
    assert (fastpart.partition(None, 12, strategy=e.strategy) == -1) == e.null_key_matches_java
    text = str(e)
    assert f"partitioner={name}" in text and repr(e.strategy) in text
    assert ("to match Java" in text) == (not e.agrees_with_java)


def test_explain_default_and_nesting():
    d = fp_confluent.explain({"bootstrap.servers": "x"})
    assert (d.partitioner, d.source, d.strategy) == ("consistent_random", "default", "librdkafka:consistent_random")
    assert not d.keyed_matches_java and not d.empty_key_matches_java and d.null_key_matches_java
    assert "librdkafka default" in str(d)
    n = fp_confluent.explain({"default.topic.config": {"partitioner": "murmur2"}})
    assert (n.partitioner, n.source) == ("murmur2", "default.topic.config")
    assert n.keyed_matches_java and n.empty_key_matches_java and not n.null_key_matches_java
    # default.topic.config wins over the top-level property, as confluent-kafka applies it
    both = fp_confluent.explain({"partitioner": "murmur2_random", "default.topic.config": {"partitioner": "consistent"}})
    assert both.partitioner == "consistent"
    top = fp_confluent.explain({"partitioner": "murmur2_random", "default.topic.config": {"acks": 1}})
    assert top.partitioner == "murmur2_random"


@pytest.mark.parametrize("bad", ["Murmur2", "bogus", "", 5, None])
def test_explain_rejects_bad_values_listing_the_valid_ones(bad):
    with pytest.raises(ValueError) as info:
        fp_confluent.explain({"partitioner": bad})
    msg = str(info.value)
    assert repr(bad) in msg
    for name in LIBRDKAFKA_PARTITIONERS:
        assert name in msg


def test_explain_type_errors():
    with pytest.raises(TypeError, match="dict"):
        fp_confluent.explain("partitioner=murmur2")
    with pytest.raises(TypeError, match="default.topic.config"):
        fp_confluent.explain({"default.topic.config": "murmur2"})


# ========================================================== missing clients

@pytest.mark.parametrize("module, client, extra", [
    ("fastpart.kafka_python", "kafka", "fastpart[kafka-python]"),
    ("fastpart.aiokafka", "aiokafka", "fastpart[aiokafka]"),
    ("fastpart.confluent", "confluent_kafka", "fastpart[confluent]"),
])
def test_missing_client_names_the_extra(monkeypatch, module, client, extra):
    for name in list(sys.modules):
        if name == client or name.startswith(client + "."):
            monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, client, None)
    monkeypatch.delitem(sys.modules, module, raising=False)
    with pytest.raises(ImportError) as info:
        importlib.import_module(module)
    assert extra in str(info.value) and "pip install" in str(info.value)
    # fastpart itself and the keyless strategies do not need any client
    assert fastpart.RoundRobin is keyless.RoundRobin


# ========================================================== real broker

@pytest.mark.broker
def test_confluent_serializing_producer_lands_where_java_does_on_a_broker(kafka_broker):
    """int keys through a SerializingProducer (IntegerSerializer) placed by fastpart.confluent land
    where the Java producer puts the same 4 bytes (IntegerSerializer writes them, big-endian)."""
    from broker_support import unique_topic

    ints = list(range(-300, 300, 7)) + [2**31 - 1, -(2**31)]
    java_topic = kafka_broker.create_topic(unique_topic("ser-java"), 12)
    java = kafka_broker.java_produce(java_topic, [fastpart.serde.int32(k) for k in ints])

    topic = kafka_broker.create_topic(unique_topic("ser-confluent"), 12)
    keys = confluent_kafka.serialization.IntegerSerializer()
    sp = confluent_kafka.SerializingProducer({"bootstrap.servers": kafka_broker.bootstrap, "key.serializer": keys})
    placer = fp_confluent.Partitioner(sp, key_serializer=keys)
    reports = {}

    def delivered(err, msg):
        reports[int(msg.value())] = (err, msg.partition(), msg.key())

    for i, k in enumerate(ints):
        placer.produce(topic, key=k, value=str(i).encode(), on_delivery=delivered)
    assert sp.flush(60) == 0
    assert [reports[i][0] for i in range(len(ints))] == [None] * len(ints)
    assert [reports[i][1] for i in range(len(ints))] == java              # where the Java producer put them
    stored = kafka_broker.partitions_by_value(topic)
    assert [stored[i] for i in range(len(ints))] == java
    assert [reports[i][2] for i in range(len(ints))] == [fastpart.serde.int32(k) for k in ints]
    assert len(set(java)) > 1
