"""Producers and dumps for the ``fastpart detect`` broker tests (tests/test_broker_detect.py)."""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import List, Optional, Sequence

import broker_support
import fastpart.cli
import fastpart.live


def confluent_produce(bootstrap: str, topic: str, keys: Sequence[Optional[bytes]], *,
                      partitions: Optional[Sequence[int]] = None, **config: str) -> List[int]:
    """:func:`broker_support.confluent_produce` with ``linger.ms=5`` unless *config* sets it."""
    return broker_support.confluent_produce(bootstrap, topic, keys, partitions=partitions,
                                            **{"linger.ms": "5", **config})


def _wait_for_leaders(admin, topic: str, count: int, timeout: float = 60) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        t = admin.list_topics(topic=topic, timeout=10).topics.get(topic)
        if t is not None and t.error is None and len(t.partitions) == count \
                and all(p.leader >= 0 for p in t.partitions.values()):
            return
        time.sleep(0.1)
    raise AssertionError(f"topic {topic} has no {count} partitions with leaders after {timeout} s")


def create_topic(bootstrap: str, name: str, partitions: int) -> str:
    """Create *name* (replication 1) with confluent-kafka's AdminClient -- no JVM start per
    topic -- and return once every partition has a leader."""
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(name, partitions, 1)])[name].result(60)
    _wait_for_leaders(admin, name, partitions)
    return name


def add_partitions(bootstrap: str, name: str, total: int) -> None:
    """Grow *name* to *total* partitions; return once all have leaders."""
    from confluent_kafka.admin import AdminClient, NewPartitions

    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_partitions([NewPartitions(name, total)])[name].result(60)
    _wait_for_leaders(admin, name, total)


def kcat_dump(bootstrap: str, topic: str, path: Path, *, timestamps: bool = False) -> int:
    """Consume every record of *topic* (read-only) and write ``key\\tpartition\\toffset``
    lines as ``kcat -C -f '%k\\t%p\\t%o\\n'`` prints them (a null key as an empty field;
    with *timestamps* also ``\\t%T``, the timestamp in ms).  Returns the number of records."""
    s = fastpart.live.sample(bootstrap, topic, {}, n=10_000_000, time_limit=120)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for k, p, o, t in zip(s.keys, s.partitions, s.offsets, s.timestamps):
            assert k is None or (b"\t" not in k and b"\n" not in k), k
            f.write(f"{'' if k is None else k.decode('utf-8')}\t{p}\t{o}" + (f"\t{t}\n" if timestamps else "\n"))
    return len(s.keys)


def run_cli(*argv: str) -> "tuple[int, str]":
    """``fastpart <argv>`` in-process: (exit code, standard output).  A live topic is
    sampled with a generous ``--time-limit`` (busy CI machines), unless one is given."""
    if ("-b" in argv or "--bootstrap-server" in argv) and "--time-limit" not in argv:
        argv = argv + ("--time-limit", "120")
    out = io.StringIO()
    rc = fastpart.cli.main(list(argv), stdout=out)
    return rc, out.getvalue()
