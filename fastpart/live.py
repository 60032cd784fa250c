"""Live topics: the partition count and a read-only sample of records from a cluster.

Needs confluent-kafka (``pip install 'fastpart[live]'``); it is imported only
when a function here is called.  ``config`` takes librdkafka properties as
``{"key": "value"}``, the same as kcat's ``-X key=value`` (security settings:
``security.protocol``, ``sasl.mechanism``, ``sasl.username``,
``sasl.password``, ``ssl.ca.location``, ...); ``fastpart.timeout`` (seconds, default 15) bounds
the metadata calls and is not passed to the client.

Example (parsing ``-X`` options needs no cluster):
    >>> parse_config(["security.protocol=SASL_SSL", "sasl.mechanism=PLAIN"])
    {'security.protocol': 'SASL_SSL', 'sasl.mechanism': 'PLAIN'}
"""

from __future__ import annotations

import importlib
import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple

#: Properties fastpart sets itself for sampling; a user -X value may not override them.
_READ_ONLY = {"enable.auto.commit": "false", "enable.auto.offset.store": "false"}


_LOG = logging.getLogger("fastpart.live")


class LiveError(RuntimeError):
    """The cluster could not be reached, or the topic does not exist."""


def parse_config(items: Iterable[str]) -> Dict[str, str]:
    """``["k=v", ...]`` (kcat's ``-X``) to a dict; a clear ValueError for a bad item.

    Example:
        >>> parse_config(["client.id=x"])
        {'client.id': 'x'}
    """
    out: Dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"-X {item!r}: expected key=value (a librdkafka property, e.g. "
                             "-X security.protocol=SASL_SSL)")
        out[key.strip()] = value
    return out


def _kafka() -> Any:
    try:
        import confluent_kafka
    except ImportError:
        raise ImportError("reading a live topic needs confluent-kafka: pip install 'fastpart[live]'") from None
    return confluent_kafka


def _base_config(bootstrap: str, config: Mapping[str, str]) -> Dict[str, Any]:
    if not bootstrap:
        raise ValueError("a bootstrap server (HOST:PORT) is needed to read a live topic")
    conf: Dict[str, Any] = dict(config)
    conf["bootstrap.servers"] = bootstrap
    # librdkafka's own log lines (connection refused, retries) go to this
    # logger instead of standard error; the failure itself is a LiveError.
    conf.setdefault("logger", _LOG)
    return conf


def _timeout(conf: Dict[str, Any]) -> float:
    """Seconds for metadata calls: ``fastpart.timeout`` (taken out of the client config), default 15."""
    text = conf.pop("fastpart.timeout", "15")
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise ValueError(f"-X fastpart.timeout={text}: give the seconds to wait for the cluster, e.g. 10")
    return value


def _topic_metadata(admin_or_consumer: Any, topic: str, timeout: float) -> Any:
    try:
        md = admin_or_consumer.list_topics(topic=topic, timeout=timeout)
    except Exception as e:  # KafkaException: broker down, auth failure, ...
        raise LiveError(f"could not read the metadata of topic {topic!r}: {e}") from None
    t = md.topics.get(topic)
    if t is None or t.error is not None or not t.partitions:
        reason = t.error if t is not None and t.error is not None else "no partitions"
        raise LiveError(f"topic {topic!r} is not readable on the cluster ({reason}); "
                        f"topics seen: {sorted(md.topics)[:10]}")
    return t


def partition_count(bootstrap: str, topic: str, config: Dict[str, str]) -> int:
    """The partition count of *topic*, from the cluster's metadata.

    Args:
        bootstrap: ``HOST:PORT[,HOST:PORT...]``.
        topic: the topic name.
        config: librdkafka properties (``-X key=value``), e.g. SASL/SSL settings.

    Raises:
        LiveError: unreachable cluster, missing topic, or refused access.
        ImportError: confluent-kafka is not installed.
    """
    _kafka()  # a clear ImportError when confluent-kafka is missing
    conf = _base_config(bootstrap, config)
    timeout = _timeout(conf)
    from confluent_kafka.admin import AdminClient

    admin = AdminClient(conf)
    return len(_topic_metadata(admin, topic, timeout).partitions)


@dataclass(frozen=True)
class Sample:
    """Records read from a live topic (see :func:`sample`).

    ``keys[i]`` is ``None`` for a keyless record; ``timestamps`` are the
    records' timestamps in milliseconds (CreateTime or LogAppendTime).
    """

    topic: str
    num_partitions: int
    keys: List[Optional[bytes]]
    partitions: List[int]
    offsets: List[int]
    timestamps: List[int]
    value_sizes: List[int]
    seconds: float
    per_partition: Dict[int, int] = field(default_factory=dict)

    @property
    def records_per_second(self) -> float:
        """Records read per second of wall time (metadata, assignment and reading)."""
        return len(self.keys) / self.seconds if self.seconds > 0 else 0.0


def _plan(lows_highs: Mapping[int, Tuple[int, int]], n: int) -> Dict[int, int]:
    """Start offset per partition so that about *n* records are read, spread
    evenly over the partitions that have data, each from its latest offset back.

    Example:
        >>> _plan({0: (0, 100), 1: (0, 3), 2: (5, 5)}, 20)
        {0: 83, 1: 0}
    """
    avail = {p: hi - lo for p, (lo, hi) in lows_highs.items() if hi > lo}
    start: Dict[int, int] = {}
    left = n
    parts = sorted(avail, key=lambda p: avail[p])  # smallest first, the rest share what they leave
    for i, p in enumerate(parts):
        share = left // (len(parts) - i)
        take = min(avail[p], share)
        left -= take
        lo, hi = lows_highs[p]
        start[p] = hi - take
    return {p: start[p] for p in sorted(start) if lows_highs[p][1] > start[p]}


def list_offsets(base: Dict[str, Any], topic: str, parts: List[int], timeout: float) -> Dict[int, Tuple[int, int]]:
    """(first, end) offset per partition in two batched ListOffsets requests (AdminClient),
    the end as a read_committed consumer sees it (the last stable offset)."""
    ck = _kafka()
    admin_module: Any = importlib.import_module("confluent_kafka.admin")
    admin = admin_module.AdminClient(base)
    spec = admin_module.OffsetSpec
    found: Dict[int, List[int]] = {p: [0, 0] for p in parts}
    for i, which in enumerate((spec.earliest(), spec.latest())):
        futures = admin.list_offsets({ck.TopicPartition(topic, p): which for p in parts},
                                     isolation_level=ck.IsolationLevel.READ_COMMITTED, request_timeout=timeout)
        for tp, fut in futures.items():
            found[tp.partition][i] = fut.result(timeout).offset
    return {p: (lo, hi) for p, (lo, hi) in found.items()}


def _watermarks(ck: Any, base: Dict[str, Any], consumer: Any, topic: str, parts: List[int],
                timeout: float) -> Dict[int, Tuple[int, int]]:
    """:func:`list_offsets`, or one request per partition where the client (confluent-kafka
    before 2.3) or the broker cannot batch them."""
    try:
        return list_offsets(base, topic, parts, timeout)
    except Exception as e:  # noqa: BLE001 - any failure: the slower, older way
        _LOG.debug("batched ListOffsets failed (%s); asking per partition", e)
        return {p: consumer.get_watermark_offsets(ck.TopicPartition(topic, p), timeout=timeout) for p in parts}


def sample(bootstrap: str, topic: str, config: Dict[str, str], n: int = 100_000,
           time_limit: float = 30.0) -> Sample:
    """Read up to *n* records of *topic* spread over all partitions, from the
    latest offsets back, read-only, within *time_limit* seconds.

    The consumer assigns partitions explicitly (no group membership), never
    commits offsets (``enable.auto.commit=false``, a random ``group.id``) and
    stops at the high-water marks seen at the start, so producers running
    meanwhile do not keep it reading.  Returns what it read when the time
    limit is hit.
    """
    if n < 1:
        raise ValueError(f"--sample must be at least 1, got {n}")
    if time_limit <= 0:
        raise ValueError(f"the time limit must be positive, got {time_limit}")
    ck = _kafka()
    t0 = time.monotonic()
    base = _base_config(bootstrap, config)
    meta_timeout = _timeout(base)
    conf = dict(base)
    conf.update({"group.id": f"fastpart-sample-{uuid.uuid4().hex}", **_READ_ONLY,
                 # end-of-partition events end a partition whose last offsets hold no record a
                 # consumer sees (transaction markers, compacted or aborted records)
                 "enable.partition.eof": "true"})
    consumer = ck.Consumer(conf)
    keys: List[Optional[bytes]] = []
    partitions: List[int] = []
    offsets: List[int] = []
    timestamps: List[int] = []
    sizes: List[int] = []
    try:
        meta = _topic_metadata(consumer, topic, meta_timeout)
        count = len(meta.partitions)
        marks = _watermarks(ck, base, consumer, topic, sorted(meta.partitions), meta_timeout)
        plan = _plan(marks, n)
        if plan:
            consumer.assign([ck.TopicPartition(topic, p, off) for p, off in plan.items()])
        remaining = {p: marks[p][1] for p in plan}  # stop offset (exclusive) per partition
        deadline = t0 + time_limit
        while remaining and time.monotonic() < deadline:
            batch = consumer.consume(num_messages=10_000, timeout=min(1.0, max(0.05, deadline - time.monotonic())))
            for m in batch:
                err = m.error()
                if err is not None:
                    if err.code() == ck.KafkaError._PARTITION_EOF:
                        remaining.pop(m.partition(), None)
                    continue
                p, off = m.partition(), m.offset()
                stop = remaining.get(p)
                if stop is None or off >= stop:
                    continue
                keys.append(m.key())
                partitions.append(p)
                offsets.append(off)
                timestamps.append(m.timestamp()[1])
                v = m.value()
                sizes.append(len(v) if v is not None else 0)
                if off + 1 >= stop:
                    del remaining[p]
    finally:
        consumer.close()
    per: Dict[int, int] = {}
    for p in partitions:
        per[p] = per.get(p, 0) + 1
    return Sample(topic, count, keys, partitions, offsets, timestamps, sizes,
                  time.monotonic() - t0, per)
