"""Proof on a real broker: records land where fastpart says they land.

Runs a real Apache Kafka (one KRaft node on 127.0.0.1, see broker_support.py)
and real producers in their default configuration, then reads every record
back from the broker and compares its partition with ``fastpart``.

Key sets (thousands of keys each): random bytes (including the empty key),
UTF-8 strings, and Java-serialized integers (IntegerSerializer: 4 bytes
big-endian two's complement).  The value of record ``i`` is ``str(i)``, which
is how a record read back is matched with the key that was sent.

What is checked:

a. the Java producer (kafka-clients of the broker's own version, default
   configuration, ByteArraySerializer): every record on ``partition(key, 12)``;
b. confluent-kafka with its default configuration (``consistent_random``):
   ``strategy="librdkafka"``; with ``partitioner=murmur2_random``: ``"java"``
   (delivery reports and read-back);
c. fastpart's adapters: kafka-python (``fastpart.kafka_python``), aiokafka
   (``fastpart.aiokafka``, ``send`` and ``send_many``) and confluent-kafka
   through ``fastpart.confluent`` put every key where the Java producer did;
   a topic growing 12 -> 24 while a producer runs; ``None`` keys through the
   adapters spread as the chosen ``fastpart.keyless`` strategy promises.

Needs java, javac and mvn (skipped with a reason otherwise, failed under
FASTPART_REQUIRE_TOOLCHAINS=1), and the confluent-kafka, kafka-python and
aiokafka packages for the tests of those clients (the ``test-full`` extra).
"""

from __future__ import annotations

import random
import struct
import time
from typing import Dict, List, Optional, Sequence

import pytest

import fastpart
from broker_support import KafkaBroker, confluent_produce, unique_topic  # the kafka_broker fixture: conftest.py
from conformance_support import need

pytestmark = [
    pytest.mark.broker,
    # kafka-python 3.0 loads its protocol schemas with importlib.resources' legacy API
    pytest.mark.filterwarnings("ignore:read_text is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:open_text is deprecated:DeprecationWarning"),
]

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

@pytest.fixture(scope="module")
def java_placement(kafka_broker: KafkaBroker) -> List[int]:
    """Where the Java producer (default configuration) put every key of
    ``ALL_KEYS`` on a 12-partition topic, as read back from the broker after
    checking it against the producer's own RecordMetadata."""
    topic = kafka_broker.create_topic(unique_topic("java"), PARTITIONS)
    reported = kafka_broker.java_produce(topic, ALL_KEYS)
    on_broker = stored(kafka_broker, topic, len(ALL_KEYS))
    compare(ALL_KEYS, PARTITIONS, java_producer=reported, broker=on_broker)
    return on_broker


def test_java_default_producer_lands_where_fastpart_says(java_placement: List[int]) -> None:
    compare(
        ALL_KEYS, PARTITIONS,
        fastpart=[fastpart.partition(k, PARTITIONS) for k in ALL_KEYS],
        fastpart_java=expect(ALL_KEYS, PARTITIONS, "java"),
        java_producer_on_broker=java_placement,
    )


# --------------------------------------------------------------------------- b. confluent-kafka

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


# --------------------------------------------------------------------------- c. fastpart's adapters
#
# kafka-python and aiokafka producers using fastpart's partitioners, and a
# confluent-kafka producer placing records through fastpart.confluent, must put
# every key exactly where the Java producer put it (``java_placement``).


def _client(module: str, package: str):
    try:
        return __import__(module)
    except ImportError:
        need(False, f"the {package} package is not installed (pip install {package})")


@pytest.fixture(scope="module")
def kafka_python_client():
    return _client("kafka", "kafka-python")


@pytest.fixture(scope="module")
def aiokafka_client():
    return _client("aiokafka", "aiokafka")


def kafka_python_produce(bootstrap: str, topic: str, keys: Sequence[Optional[bytes]],
                         partitioner: object, **config) -> List[int]:
    """kafka-python ``KafkaProducer(partitioner=...)``; value of record i = str(i).
    Returns each record's partition from its RecordMetadata."""
    from kafka import KafkaProducer

    producer = KafkaProducer(bootstrap_servers=bootstrap, partitioner=partitioner, **config)
    try:
        futures = [producer.send(topic, key=k, value=str(i).encode()) for i, k in enumerate(keys)]
        producer.flush(timeout=120)
        return [f.get(timeout=60).partition for f in futures]
    finally:
        producer.close(timeout=30)


def aiokafka_produce(bootstrap: str, topic: str, keys: Sequence[Optional[bytes]],
                     partitioner: object, *, bulk: bool = False, **config) -> List[int]:
    """aiokafka ``AIOKafkaProducer(partitioner=...)``; value of record i = str(i).
    With *bulk*, records go through ``fastpart.aiokafka.send_many`` instead of
    one ``send`` each.  Returns each record's partition from its RecordMetadata."""
    import asyncio

    from aiokafka import AIOKafkaProducer

    async def run() -> List[int]:
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, partitioner=partitioner, **config)
        await producer.start()
        try:
            records = [(k, str(i).encode()) for i, k in enumerate(keys)]
            if bulk:
                from fastpart.aiokafka import send_many

                results = await send_many(producer, topic, records)
                failed = [r for r in results if isinstance(r, BaseException)]
                assert not failed, f"send_many: {len(failed)} records failed, e.g. {failed[:3]}"
                return [r.partition for r in results]
            futures = [await producer.send(topic, key=k, value=v) for k, v in records]
            return [md.partition for md in await asyncio.gather(*futures)]
        finally:
            await producer.stop()

    return asyncio.run(run())


def test_kafka_python_with_fastpart_lands_where_java_did(kafka_broker: KafkaBroker, kafka_python_client,
                                                          java_placement: List[int]) -> None:
    from fastpart.kafka_python import DefaultPartitioner

    topic = kafka_broker.create_topic(unique_topic("kpy"), PARTITIONS)
    reported = kafka_python_produce(kafka_broker.bootstrap, topic, ALL_KEYS, DefaultPartitioner())
    compare(ALL_KEYS, PARTITIONS, java=java_placement, delivery_report=reported,
            broker=stored(kafka_broker, topic, len(ALL_KEYS)))


@pytest.mark.parametrize("bulk", [False, True], ids=["send", "send_many"])
def test_aiokafka_with_fastpart_lands_where_java_did(kafka_broker: KafkaBroker, aiokafka_client,
                                                      java_placement: List[int], bulk: bool) -> None:
    from fastpart.aiokafka import Partitioner

    topic = kafka_broker.create_topic(unique_topic("aiok"), PARTITIONS)
    reported = aiokafka_produce(kafka_broker.bootstrap, topic, ALL_KEYS, Partitioner(), bulk=bulk)
    compare(ALL_KEYS, PARTITIONS, java=java_placement, delivery_report=reported,
            broker=stored(kafka_broker, topic, len(ALL_KEYS)))


def test_confluent_kafka_with_fastpart_confluent_lands_where_java_did(
        kafka_broker: KafkaBroker, confluent_kafka_module, java_placement: List[int]) -> None:
    from fastpart.confluent import Partitioner

    topic = kafka_broker.create_topic(unique_topic("ckpl"), PARTITIONS)
    # The producer keeps librdkafka's default partitioner (consistent_random):
    # only the adapter's partition= makes the keys land as Java's.
    reported = confluent_produce(kafka_broker.bootstrap, topic, ALL_KEYS, placer=Partitioner)
    compare(ALL_KEYS, PARTITIONS, java=java_placement, delivery_report=reported,
            broker=stored(kafka_broker, topic, len(ALL_KEYS)))


# --------------------------------------------------------------------------- growth 12 -> 24

class _Driver:
    """A producer that keeps sending (in a thread) while the topic grows.

    Record ``i`` has key ``ALL_KEYS[i % len(ALL_KEYS)]`` and value ``str(i)``.
    ``sent`` counts the sends that have returned.
    """

    LIMIT = 200_000  # a bound on the records one run may send
    PAUSE_EVERY, PAUSE = 10, 0.005  # at most ~2000 records/s: a short window of "either"

    def __init__(self, bootstrap: str, topic: str):
        import threading

        self.bootstrap, self.topic = bootstrap, topic
        self.partitions: Dict[int, int] = {}
        self.errors: List[str] = []
        self.sent = 0
        self._stop = threading.Event()
        self._target = 0
        self._thread = threading.Thread(target=self._loop, daemon=True)

    # per client
    def send(self, i: int, key: bytes) -> None: raise NotImplementedError
    def partition_count(self) -> int: raise NotImplementedError
    def flush(self) -> None: raise NotImplementedError
    def close(self) -> None: raise NotImplementedError

    def _loop(self) -> None:
        try:
            i = 0
            while not self._stop.is_set() and i < self.LIMIT:
                self.send(i, ALL_KEYS[i % len(ALL_KEYS)])
                i += 1
                self.sent = i
                if i % self.PAUSE_EVERY == 0:
                    time.sleep(self.PAUSE)
        except BaseException as e:  # reported by finish()
            self.errors.append(f"producer thread: {e!r}")

    def wait_sent(self, count: int, timeout: float = 120) -> int:
        deadline = time.monotonic() + timeout
        while self.sent < count:
            assert not self.errors, self.errors[:5]
            assert self._thread.is_alive(), "the producer thread stopped"
            assert time.monotonic() < deadline, f"only {self.sent} of {count} records sent in {timeout} s"
            time.sleep(0.01)
        return self.sent

    def start(self) -> None:
        self._thread.start()

    def finish(self) -> int:
        self._stop.set()
        self._thread.join(120)
        assert not self._thread.is_alive(), "the producer thread did not stop"
        self.flush()
        self.close()
        assert not self.errors, self.errors[:10]
        return self.sent


class _KafkaPythonDriver(_Driver):
    def __init__(self, bootstrap: str, topic: str):
        super().__init__(bootstrap, topic)
        from kafka import KafkaProducer

        from fastpart.kafka_python import DefaultPartitioner

        self.producer = KafkaProducer(bootstrap_servers=bootstrap, partitioner=DefaultPartitioner(),
                                      metadata_max_age_ms=500, linger_ms=5)

    def send(self, i: int, key: bytes) -> None:
        fut = self.producer.send(self.topic, key=key, value=str(i).encode())
        fut.add_callback(lambda md, i=i: self.partitions.__setitem__(i, md.partition))
        fut.add_errback(lambda e, i=i: self.errors.append(f"#{i}: {e!r}"))

    def partition_count(self) -> int:
        return len(self.producer.partitions_for(self.topic))

    def flush(self) -> None:
        self.producer.flush(timeout=120)

    def close(self) -> None:
        self.producer.close(timeout=30)


class _ConfluentDriver(_Driver):
    def __init__(self, bootstrap: str, topic: str):
        super().__init__(bootstrap, topic)
        import confluent_kafka

        from fastpart.confluent import Partitioner

        self.producer = confluent_kafka.Producer({"bootstrap.servers": bootstrap})
        self.placer = Partitioner(self.producer, refresh_interval=0.5)

    def _on_delivery(self, err, msg) -> None:
        i = int(msg.value())
        if err is not None:
            self.errors.append(f"#{i}: {err}")
        else:
            self.partitions[i] = msg.partition()

    def send(self, i: int, key: bytes) -> None:
        while True:
            try:
                self.placer.produce(self.topic, key=key, value=str(i).encode(), on_delivery=self._on_delivery)
                break
            except BufferError:
                self.producer.poll(0.05)
        self.producer.poll(0)

    def partition_count(self) -> int:
        return self.placer.partition_count(self.topic)

    def flush(self) -> None:
        assert self.producer.flush(120) == 0, "records left undelivered"

    def close(self) -> None:
        del self.placer, self.producer  # librdkafka stops its threads now, not at some later GC


@pytest.mark.parametrize("client", ["kafka-python", "confluent-kafka"])
def test_topic_grows_12_to_24_while_producing(kafka_broker: KafkaBroker, client: str, request) -> None:
    """Before the growth every key lands on ``partition(key, 12)``; once the
    producer's metadata shows 24 partitions, on ``partition(key, 24)``;
    records sent during the change may land on either."""
    request.getfixturevalue("kafka_python_client" if client == "kafka-python" else "confluent_kafka_module")
    topic = kafka_broker.create_topic(unique_topic("grow"), PARTITIONS)
    driver = (_KafkaPythonDriver if client == "kafka-python" else _ConfluentDriver)(kafka_broker.bootstrap, topic)
    driver.start()
    try:
        before = driver.wait_sent(2000)          # records [0, before) were sent on 12 partitions
        kafka_broker.add_partitions(topic, 2 * PARTITIONS)
        deadline = time.monotonic() + 60
        while driver.partition_count() != 2 * PARTITIONS:
            assert time.monotonic() < deadline, "the producer never saw 24 partitions"
            time.sleep(0.05)
        after = driver.sent + 1                  # records [after, ...) were sent once it saw 24
        driver.wait_sent(after + 2000)
    finally:
        total = driver.finish()
    on_broker = stored(kafka_broker, topic, total)
    assert [driver.partitions.get(i) for i in range(total)] == on_broker, \
        "delivery reports disagree with the records read back"
    keys = [ALL_KEYS[i % len(ALL_KEYS)] for i in range(total)]
    p12 = [fastpart.partition(k, PARTITIONS) for k in keys]
    p24 = [fastpart.partition(k, 2 * PARTITIONS) for k in keys]
    bad = []
    for i in range(total):
        allowed = {p12[i]} if i < before else {p24[i]} if i >= after else {p12[i], p24[i]}
        if on_broker[i] not in allowed:
            bad.append(f"#{i} key={keys[i][:16].hex()}: on partition {on_broker[i]}, allowed {sorted(allowed)}")
    assert not bad, (
        f"{len(bad)} of {total} records misplaced (12 partitions before #{before}, 24 from #{after}):\n  "
        + "\n  ".join(bad[:15])
    )
    assert total - after >= 2000 and before >= 2000


# --------------------------------------------------------------------------- None keys through the adapters

def _runs(seq: Sequence[int]) -> List[int]:
    """Lengths of the runs of equal consecutive values."""
    runs: List[int] = []
    for i, p in enumerate(seq):
        if i and p == seq[i - 1]:
            runs[-1] += 1
        else:
            runs.append(1)
    return runs


NULL_RECORDS = 1200  # 100 per partition


@pytest.mark.parametrize("client", ["kafka-python", "aiokafka", "confluent-kafka"])
def test_none_keys_round_robin_exactly_even(kafka_broker: KafkaBroker, client: str, request) -> None:
    """``keyless=fastpart.RoundRobin()``: record i of a topic goes to partition
    i % 12, so every partition gets exactly the same number of records."""
    topic = kafka_broker.create_topic(unique_topic("rr"), PARTITIONS)
    keys = [None] * NULL_RECORDS
    if client == "kafka-python":
        request.getfixturevalue("kafka_python_client")
        from fastpart.kafka_python import DefaultPartitioner

        reported = kafka_python_produce(kafka_broker.bootstrap, topic, keys,
                                        DefaultPartitioner(keyless=fastpart.RoundRobin()))
    elif client == "aiokafka":
        request.getfixturevalue("aiokafka_client")
        from fastpart.aiokafka import Partitioner

        reported = aiokafka_produce(kafka_broker.bootstrap, topic, keys,
                                    Partitioner(keyless=fastpart.RoundRobin(), topic=topic))
    else:
        request.getfixturevalue("confluent_kafka_module")
        from fastpart.confluent import Partitioner as Placer

        reported = confluent_produce(kafka_broker.bootstrap, topic, keys,
                                     placer=lambda p: Placer(p, keyless=fastpart.RoundRobin()))
    on_broker = stored(kafka_broker, topic, NULL_RECORDS)
    assert reported == on_broker
    assert on_broker == [i % PARTITIONS for i in range(NULL_RECORDS)], \
        f"not round robin: first records on {on_broker[:30]}"
    counts = [on_broker.count(p) for p in range(PARTITIONS)]
    assert counts == [NULL_RECORDS // PARTITIONS] * PARTITIONS, counts


def test_none_keys_sticky_in_runs_kafka_python(kafka_broker: KafkaBroker, kafka_python_client) -> None:
    """``fastpart.kafka_python.StickyPartitioner`` (KIP-480): None-key records
    stay on one partition for a whole batch; when kafka-python opens a new
    batch (``on_new_batch``) they move to a *different* partition."""
    from fastpart.kafka_python import StickyPartitioner

    topic = kafka_broker.create_topic(unique_topic("sticky"), PARTITIONS)
    count, batch_size, value_size = 3000, 2048, 100
    from kafka import KafkaProducer

    producer = KafkaProducer(bootstrap_servers=kafka_broker.bootstrap, partitioner=StickyPartitioner(seed=11),
                             batch_size=batch_size, linger_ms=50)
    try:
        futures = [producer.send(topic, key=None, value=str(i).encode().ljust(value_size, b" "))
                   for i in range(count)]
        producer.flush(timeout=120)
        reported = [f.get(timeout=60).partition for f in futures]
    finally:
        producer.close(timeout=30)
    found = {}
    for r in kafka_broker.consume(topic):
        found[int(r.value)] = r.partition
    on_broker = [found.get(i) for i in range(count)]
    assert reported == on_broker
    runs = _runs(on_broker)
    changes = [(on_broker[i - 1], on_broker[i]) for i in range(1, count) if on_broker[i] != on_broker[i - 1]]
    assert len(runs) == len(changes) + 1
    # a run is one batch: never more records than fit in batch_size bytes
    assert max(runs) <= batch_size // value_size, f"a run longer than a batch: {max(runs)}"
    # sticky, not per record: runs of many records (a per-record random choice
    # among 12 partitions would change partition 11 times in 12)
    assert count / len(runs) >= 4, f"{len(runs)} runs for {count} records: {runs[:40]}"
    # and the records do spread over the topic
    assert len(set(on_broker)) >= PARTITIONS // 2, sorted(set(on_broker))


def test_none_keys_uniform_sticky_aiokafka(kafka_broker: KafkaBroker, aiokafka_client) -> None:
    """``keyless=fastpart.UniformSticky(batch_size)`` (KIP-794) with a fixed
    ``record_size``: the partition changes only after ``batch_size`` bytes,
    i.e. exactly every ``batch_size // record_size`` records."""
    from fastpart.aiokafka import Partitioner

    topic = kafka_broker.create_topic(unique_topic("usticky"), PARTITIONS)
    per_switch, count = 10, 1200
    partitioner = Partitioner(keyless=fastpart.UniformSticky(batch_size=per_switch * 100, seed=5),
                              record_size=100, topic=topic)
    reported = aiokafka_produce(kafka_broker.bootstrap, topic, [None] * count, partitioner)
    on_broker = stored(kafka_broker, topic, count)
    assert reported == on_broker
    chunks = [on_broker[i:i + per_switch] for i in range(0, count, per_switch)]
    assert all(len(set(c)) == 1 for c in chunks), \
        [c for c in chunks if len(set(c)) != 1][:5]
    assert len({c[0] for c in chunks}) >= PARTITIONS // 2, "uniform sticky should spread over the topic"
