"""The command line against a real Kafka broker: the partition count read from a live topic
(``--bootstrap-server/--topic``) and every key placed where the Java producer put it."""

from __future__ import annotations

import json

import pytest

from broker_support import KafkaBroker, unique_topic  # the kafka_broker fixture comes from conftest.py
from cli_support import partitions_of, run_cli

pytestmark = [pytest.mark.broker]


def test_partition_and_resize_on_a_live_topic(kafka_broker: KafkaBroker, capsys) -> None:
    pytest.importorskip("confluent_kafka", reason="live topics need confluent-kafka (fastpart[live])")
    topic = kafka_broker.create_topic(unique_topic("cli"), 7)
    keys = [f"order-{i}".encode() for i in range(300)] + [b""]
    placed = kafka_broker.java_produce(topic, keys)  # the Java producer's own RecordMetadata
    live = ["-b", kafka_broker.bootstrap, "-t", topic]
    stdin = b"".join(k + b"\n" for k in keys)
    rc, out, err = run_cli(["partition", *live, "--file", "-"], stdin, capsys)
    assert rc == 0, err
    assert partitions_of(out) == placed
    rc, out, err = run_cli(["resize", *live, "--to", "14", "--json", "--file", "-"], stdin, capsys)
    d = json.loads(out)
    assert rc == 0 and (d["from"], d["to"]) == (7, 14), err
    rc, _, err = run_cli(["compare", "-s", "java,librdkafka", *live, "-t", unique_topic("missing"), "a"], b"", capsys)
    assert rc == 2 and "Traceback" not in err
