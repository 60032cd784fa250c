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


def _kcat() -> str:
    import os
    import shutil

    exe = shutil.which("kcat") or shutil.which("kafkacat")
    if exe is None:
        msg = "kcat is not installed (Debian/Ubuntu: apt-get install kcat)"
        if os.environ.get("FASTPART_REQUIRE_TOOLCHAINS", "") not in ("", "0"):
            pytest.fail(f"FASTPART_REQUIRE_TOOLCHAINS=1 but {msg}", pytrace=False)
        pytest.skip(msg)
    return exe


@pytest.mark.parametrize("null_flag", [False, True], ids=["plain", "kcat-Z"])
def test_real_kcat_dump(kafka_broker: KafkaBroker, tmp_path, capsys, null_flag: bool) -> None:
    """A dump written by the real kcat (`-f '%k\\t%p\\t%o\\n'`, with and without -Z) is read back
    with its null keys and partitions; every keyed record sits where fastpart says."""
    import subprocess
    from argparse import Namespace

    import fastpart
    from fastpart.cli._readers import iter_batches

    kcat = _kcat()
    topic = kafka_broker.create_topic(unique_topic("kcat"), 12)
    keys = [f"customer-{i}".encode() for i in range(500)] + [None, b"", "h\u00e9".encode()]
    kafka_broker.java_produce(topic, keys)
    dump = tmp_path / "orders.kcat"
    argv = [kcat, "-C", "-b", kafka_broker.bootstrap, "-t", topic, "-e", "-q", "-f", "%k\\t%p\\t%o\\n"]
    if null_flag:
        argv.insert(2, "-Z")
    dump.write_bytes(subprocess.run(argv, capture_output=True, check=True, timeout=120).stdout)
    ns = Namespace(keys=[], file=[str(dump)], input_format=None, column=None, no_header=False,
                   key_encoding="utf8", key_type="string", empty_is_null=False,
                   null_marker="NULL" if null_flag else None, stdin=None)
    got = []
    for b in iter_batches(ns, extra_columns=("partition",), optional_columns=("offset",)):
        got += list(zip(b.key_list(), b.columns["partition"]))
    # kcat cannot tell a null key from an empty one (librdkafka hands a zero-length key over as
    # NULL): both print as an empty field, or both as NULL with -Z; fastpart reads both as null
    assert sorted(k for k, _ in got if k is not None) == sorted(k for k in keys if k)
    assert sum(1 for k, _ in got if k is None) == 2
    for k, p in got:
        if k is not None:
            assert fastpart.partition(k, 12) == p
    # the same dump through the command line: Java's placement explains every keyed record
    extra = ["--null-marker", "NULL"] if null_flag else []
    rc, out, err = run_cli(["compare", "-p", "12", "-s", "java,librdkafka", "--file", str(dump), "--json", *extra],
                           b"", capsys)
    assert rc == 0, err
    assert json.loads(out)["keys"] == len(keys)
