"""``fastpart detect`` names the client that wrote a topic on a real Kafka broker.

One topic per scenario, written by a real producer: the Java producer in its
default configuration, confluent-kafka with its default (consistent_random)
and with ``partitioner=murmur2_random``, a keyless producer, a producer that
switches strategy midway, explicit ``partition=`` values, and a topic grown
from 12 to 24 partitions between two Java runs.  Each is detected through the
command line twice: over the live topic (``--bootstrap-server``, sampled
read-only) and over a kcat-format dump of its records.
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import pytest

from broker_support import KafkaBroker, unique_topic  # the kafka_broker fixture comes from conftest.py
from conformance_support import need
from detect_support import add_partitions, confluent_produce, create_topic, kcat_dump, run_cli

pytestmark = [pytest.mark.broker]

N = 12
RECORDS = 3000


def _keys(seed: int, count: int = RECORDS) -> List[Optional[bytes]]:
    rng = random.Random(seed)
    return [f"order-{rng.randrange(10**6)}".encode() for _ in range(count)]


@pytest.fixture(scope="module")
def confluent_kafka_module() -> Any:
    try:
        import confluent_kafka
    except ImportError:
        need(False, "the confluent-kafka package is not installed (pip install 'fastpart[live]')")
    return confluent_kafka


def _java(b: KafkaBroker, topic: str) -> None:
    b.java_produce(topic, _keys(1))


def _confluent_default(b: KafkaBroker, topic: str) -> None:
    confluent_produce(b.bootstrap, topic, _keys(2))


def _confluent_murmur2(b: KafkaBroker, topic: str) -> None:
    confluent_produce(b.bootstrap, topic, _keys(3), partitioner="murmur2_random")


def _keyless(b: KafkaBroker, topic: str) -> None:
    # librdkafka's sticky partitioner keeps null keys on one partition for
    # sticky.partitioning.linger.ms (10 ms by default): 3,000 records sent at once can all
    # land on one partition.  A service sends keyless records over time, in bursts; 15
    # bursts 50 ms apart each pick a new sticky partition.
    bursts = 15
    for _ in range(bursts):
        confluent_produce(b.bootstrap, topic, [None] * (RECORDS // bursts))
        time.sleep(0.05)


def _switch(b: KafkaBroker, topic: str) -> None:
    keys = _keys(5)
    confluent_produce(b.bootstrap, topic, keys[: RECORDS // 2])  # consistent_random ...
    time.sleep(0.05)  # ... then a redeployed service with murmur2_random, later timestamps
    confluent_produce(b.bootstrap, topic, keys[RECORDS // 2:], partitioner="murmur2_random")


def _explicit(b: KafkaBroker, topic: str) -> None:
    rng = random.Random(6)
    confluent_produce(b.bootstrap, topic, _keys(6), partitions=[rng.randrange(N) for _ in range(RECORDS)])


SCENARIOS: Dict[str, Callable[[KafkaBroker, str], None]] = {
    "java-default": _java,
    "confluent-default": _confluent_default,
    "confluent-murmur2_random": _confluent_murmur2,
    "keyless": _keyless,
    "switch-midway": _switch,
    "explicit-partition": _explicit,
}


def _check(name: str, r: Dict[str, Any]) -> None:
    """What `detect` must say for each scenario (r: the --json summary)."""
    top = r["groups"][0]
    if name in ("java-default", "confluent-murmur2_random"):
        assert r["best"] == "java" and top["share"] == 1.0, r["groups"][:2]
        assert r["unexplained"]["count"] == 0 and r["mixed"] is None and r["resized"] == []
    elif name == "confluent-default":
        assert r["best"] == "librdkafka:consistent_random" and top["share"] == 1.0
        assert r["unexplained"]["count"] == 0 and r["mixed"] is None
    elif name == "keyless":
        assert r["keyed"] == 0 and r["best"] is None
        assert r["keyless"]["count"] == RECORDS and r["keyless"]["share"] == 1.0
        assert r["keyless"]["pattern"] in ("sticky runs", "round-robin-like", "spread (order unknown)")
    elif name == "switch-midway":
        assert r["mixed"] is not None, r
        names = [(s["strategies"][0], s["partition"]) for s in r["segments"]]
        assert r["mixed"].startswith("migration"), r["mixed"]
        assert {n for n, _ in names} == {"librdkafka:consistent_random", "java"}, names
        order = [s["strategies"][0] for s in r["segments"]]
        if r["segments"][0]["partition"] is None:  # one global change, by timestamp
            assert order == ["librdkafka:consistent_random", "java"], order
            assert r["segments"][0]["records"] + r["segments"][1]["records"] >= 0.9 * RECORDS
    elif name == "explicit-partition":
        # random partitions: each of the ~7 hash families matches 1/12 of them by chance
        assert r["unexplained"]["share"] > 0.4 and r["unexplained"]["examples"], r["unexplained"]
        assert top["share"] < 0.15 and r["conclusive"] is False, r["groups"][:2]
    else:  # pragma: no cover
        raise AssertionError(name)


@pytest.fixture(scope="module")
def topics(kafka_broker: KafkaBroker, confluent_kafka_module: Any) -> Dict[str, str]:
    made = {}
    for name, produce in SCENARIOS.items():
        topic = create_topic(kafka_broker.bootstrap, unique_topic(f"detect-{name}"), N)
        produce(kafka_broker, topic)
        made[name] = topic
    return made


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_detect_names_the_producer_live(kafka_broker: KafkaBroker, topics: Dict[str, str], name: str) -> None:
    rc, out = run_cli("detect", "--bootstrap-server", kafka_broker.bootstrap, "--topic", topics[name],
                      "--json", "--quiet")
    assert rc == 0, out
    r = json.loads(out)
    assert r["records"] == RECORDS and r["sample"]["records"] == RECORDS and r["num_partitions"] == N
    _check(name, r)


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_detect_names_the_producer_from_a_kcat_dump(kafka_broker: KafkaBroker, topics: Dict[str, str],
                                                     name: str, tmp_path: Path) -> None:
    dump = tmp_path / f"{name}.kcat"
    assert kcat_dump(kafka_broker.bootstrap, topics[name], dump) == RECORDS
    rc, out = run_cli("detect", "--partitions", str(N), "--file", str(dump), "--json", "--quiet")
    assert rc == 0, out
    r = json.loads(out)
    assert r["records"] == RECORDS
    _check(name, r)


def test_switch_located_in_time_from_a_kcat_dump_with_timestamps(kafka_broker: KafkaBroker,
                                                                 topics: Dict[str, str], tmp_path: Path) -> None:
    dump = tmp_path / "switch.kcat"
    kcat_dump(kafka_broker.bootstrap, topics["switch-midway"], dump, timestamps=True)
    rc, out = run_cli("detect", "-p", str(N), "--file", str(dump), "--json", "-q")
    r = json.loads(out)
    assert rc == 0 and [s["strategies"][0] for s in r["segments"]] == ["librdkafka:consistent_random", "java"]
    assert r["segments"][0]["partition"] is None and r["segments"][0]["last"] < r["segments"][1]["first"]


def test_skew_on_a_live_topic(kafka_broker: KafkaBroker, topics: Dict[str, str]) -> None:
    rc, out = run_cli("skew", "-b", kafka_broker.bootstrap, "-t", topics["java-default"], "--json", "-q")
    r = json.loads(out)
    assert rc == 0 and r["records"] == RECORDS and r["sample"]["records"] == RECORDS
    assert [x["num_partitions"] for x in r["loads"]] == [N, 2 * N, 4 * N]
    # the sample's own placement: every record of the Java topic is where java puts its key
    assert sum(r["loads"][0]["records"]) == RECORDS and r["loads"][0]["bytes"] is not None


def test_expect_gate_on_a_live_topic(kafka_broker: KafkaBroker, topics: Dict[str, str]) -> None:
    b = kafka_broker.bootstrap
    assert run_cli("detect", "-b", b, "-t", topics["java-default"], "--expect", "kafka-python", "-q")[0] == 0
    assert run_cli("detect", "-b", b, "-t", topics["confluent-murmur2_random"], "--expect", "java", "-q")[0] == 0
    assert run_cli("detect", "-b", b, "-t", topics["confluent-default"], "--expect", "java", "-q")[0] == 1
    assert run_cli("detect", "-b", b, "-t", topics["switch-midway"], "--expect", "java", "-q")[0] == 1


def test_topic_grown_from_12_to_24_is_reported(kafka_broker: KafkaBroker, tmp_path: Path) -> None:
    topic = create_topic(kafka_broker.bootstrap, unique_topic("detect-grown"), 12)
    kafka_broker.java_produce(topic, _keys(7, 2000))  # the real Java producer, before and after
    add_partitions(kafka_broker.bootstrap, topic, 24)
    kafka_broker.java_produce(topic, _keys(8, 2000))
    dump = tmp_path / "grown.kcat"
    assert kcat_dump(kafka_broker.bootstrap, topic, dump) == 4000
    for argv in (("--bootstrap-server", kafka_broker.bootstrap, "--topic", topic),
                 ("--partitions", "24", "--file", str(dump)),
                 ("-b", kafka_broker.bootstrap, "-t", topic, "--file", str(dump))):  # count from the cluster
        rc, out = run_cli("detect", *argv, "--json", "--quiet", "--expect", "java")
        assert rc == 0, out  # records placed at 12 partitions count as Java's
        r = json.loads(out)
        assert r["num_partitions"] == 24 and r["best"] == "java"
        assert [g["from_count"] for g in r["resized"]] == [12], r["resized"]
        # about half of the 2000 records written at 12 partitions sit where 24 would not put them
        assert 700 <= r["resized"][0]["records"] <= 1300, r["resized"]
        rc, text = run_cli("detect", *argv, "--quiet")
        assert "grew from 12 to 24" in text


def test_live_sample_is_read_only_and_bounded(kafka_broker: KafkaBroker, topics: Dict[str, str]) -> None:
    import fastpart.live

    topic = topics["java-default"]
    s = fastpart.live.sample(kafka_broker.bootstrap, topic, {}, n=600, time_limit=120)
    assert len(s.keys) == 600 and s.records_per_second > 0
    assert set(s.per_partition) == set(range(N))  # spread over every partition ...
    assert max(s.per_partition.values()) - min(s.per_partition.values()) <= 1  # ... evenly
    assert fastpart.live.partition_count(kafka_broker.bootstrap, topic, {}) == N
    # the offsets come from two batched ListOffsets requests, equal to asking per partition
    import confluent_kafka as ck

    batched = fastpart.live.list_offsets({"bootstrap.servers": kafka_broker.bootstrap}, topic, list(range(N)), 30)
    c = ck.Consumer({"bootstrap.servers": kafka_broker.bootstrap, "group.id": "fastpart-test-unused"})
    try:
        assert batched == {p: c.get_watermark_offsets(ck.TopicPartition(topic, p), timeout=30) for p in range(N)}
    finally:
        c.close()
    assert sum(hi - lo for lo, hi in batched.values()) == RECORDS
    # the latest offsets: each partition's sampled records end at its last offset
    again = fastpart.live.sample(kafka_broker.bootstrap, topic, {}, n=RECORDS, time_limit=120)
    assert len(again.keys) == RECORDS
    import confluent_kafka

    admin = confluent_kafka.admin.AdminClient({"bootstrap.servers": kafka_broker.bootstrap})
    groups = admin.list_consumer_groups().result(timeout=30)
    assert not [g.group_id for g in groups.valid if g.group_id.startswith("fastpart-sample-")]


def test_sample_does_not_wait_for_transaction_markers(kafka_broker: KafkaBroker, confluent_kafka_module: Any) -> None:
    """A transactional producer ends each partition with a commit marker no consumer sees:
    sampling stops at the end of the partition instead of waiting for its time limit."""
    import fastpart.live

    topic = create_topic(kafka_broker.bootstrap, unique_topic("detect-txn"), 3)
    import logging

    p = confluent_kafka_module.Producer({"bootstrap.servers": kafka_broker.bootstrap,
                                         "transactional.id": f"fastpart-test-{topic}",
                                         "logger": logging.getLogger("txn-producer")})
    p.init_transactions(60)
    p.begin_transaction()
    keys = _keys(9, 300)
    for i, k in enumerate(keys):
        p.produce(topic, key=k, value=str(i).encode())
    p.commit_transaction(60)
    del p
    # the commit markers are written after commit_transaction() returns: until they are, the
    # last stable offsets (what a read_committed sample reads up to) lag behind
    deadline = time.monotonic() + 60
    while True:
        t = time.monotonic()
        s = fastpart.live.sample(kafka_broker.bootstrap, topic, {}, n=1000, time_limit=120)
        took = time.monotonic() - t
        # without the end-of-partition events it would read until the 120 s limit
        assert took < 60, (len(s.keys), took)
        if len(s.keys) == 300 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert len(s.keys) == 300
    r = fastpart.detect(s.keys, s.partitions, 3)
    assert r.best == "librdkafka:consistent_random" and r.groups[0].share == 1.0
