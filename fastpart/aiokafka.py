"""aiokafka adapters: a fastpart partitioner and a grouped bulk send.

Needs aiokafka (``pip install 'fastpart[aiokafka]'``).

API:
    ``Partitioner(strategy="java", keyless=None, *, seed=None, topic="", record_size=None)``
        The callable ``AIOKafkaProducer(partitioner=...)`` takes:
        ``partitioner(key_bytes, all_partitions, available) -> int``.  With
        ``"java"`` it gives exactly aiokafka's ``DefaultPartitioner`` answers
        for keyed records (indexing *all_partitions* as aiokafka passes them),
        at native speed; any other strategy places keys as that client does.
        Records the strategy leaves to the client (``None`` keys) go to
        *keyless* (default: random among the available partitions, as
        aiokafka).  aiokafka does not pass the topic: keyless state is kept
        under *topic*; ``UniformSticky`` needs *record_size* (bytes per record).

    ``async send_many(producer, topic, records, *, strategy=None, keyless=None, timestamp_ms=None) -> list``
        Sends ``(key, value)`` records (or ``(key, value, headers)``) grouped
        by partition with ONE ``fastpart.group_by_partition`` call, through
        ``producer.create_batch()`` / ``batch.append(...)`` /
        ``producer.send_batch(batch, topic, partition=p)`` (a new batch when
        one is full).  Returns, in input order, one result per record: an
        ``aiokafka.structs.RecordMetadata`` (its partition and offset) or the
        exception that record failed with.  The partition count comes from
        ``await producer.partitions_for(topic)`` (which waits for metadata as
        ``send`` does).  *strategy* defaults to the producer's partitioner's
        when it is a :class:`Partitioner`, else ``"java"``; ``None`` keys go
        through *keyless* (default: the producer's partitioner's, else random
        among the available partitions).  Within a partition, records keep
        their input order.  send_many builds its own batches and never calls
        ``on_new_batch``: a ``Sticky`` strategy keeps one partition for the
        whole call; ``UniformSticky`` (which send_many feeds each record's
        size) or ``RoundRobin`` spread keyless records.

Example::

    from aiokafka import AIOKafkaProducer
    import fastpart
    from fastpart.aiokafka import Partitioner, send_many

    producer = AIOKafkaProducer(bootstrap_servers=..., partitioner=Partitioner())
    await producer.start()
    results = await send_many(producer, "events", [(b"user-1", b"..."), (None, b"...")])
    [r.partition for r in results]

    >>> Partitioner()(b"21", [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [])
    0
    >>> Partitioner("librdkafka")(b"21", [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [])
    2
"""

from __future__ import annotations

import asyncio
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple, Union

try:
    import aiokafka as _aiokafka  # noqa: F401
    from aiokafka.errors import MessageSizeTooLargeError as _TooLarge
    from aiokafka.structs import RecordMetadata, TopicPartition
except ImportError as exc:  # pragma: no cover - exercised by simulating a missing client
    raise ImportError(
        "fastpart.aiokafka needs the aiokafka client: pip install 'fastpart[aiokafka]'"
    ) from exc

from ._impl import core as _core
from ._strategies import strategy_code
from ._adapter_base import CallablePartitioner, check_keyless
from .keyless import KeylessStrategy, RandomChoice, Seed, record_size

__all__ = ["Partitioner", "send_many"]


class Partitioner(CallablePartitioner):
    """A fastpart partitioner for ``AIOKafkaProducer(partitioner=...)``.

    Args:
        strategy: a name from ``fastpart.strategies()``; ``"java"`` gives
            aiokafka's own ``DefaultPartitioner`` answers.
        keyless: the strategy for ``None`` keys (default: random among the
            available partitions, as aiokafka).
        seed: seeds the default keyless choice.
        topic: the name keyless state is kept under (aiokafka passes no topic).
        record_size: bytes per keyless record, required with ``UniformSticky``.

    Example:
        >>> import fastpart
        >>> rr = Partitioner(keyless=fastpart.RoundRobin())
        >>> [rr(None, [0, 1, 2], [0, 1, 2]) for _ in range(4)]
        [0, 1, 2, 0]
    """

    def __init__(self, strategy: str = "java", keyless: Optional[KeylessStrategy] = None, *,
                 seed: Seed = None, topic: str = "", record_size: Optional[int] = None) -> None:
        super().__init__(strategy, keyless, topic=topic, record_size=record_size, seed=seed)
        if getattr(self.keyless, "needs_record_size", False) and self.record_size is None:
            raise ValueError(
                f"{type(self.keyless).__name__} switches partitions by bytes, but aiokafka gives a "
                "partitioner only the key: pass record_size=<estimated bytes per record> "
                "(or use send_many, which measures each record)"
            )


Record = Union[Tuple[Any, Any], Tuple[Any, Any, Any]]
Result = Union[RecordMetadata, BaseException]


def _split(records: Iterable[Record]) -> Tuple[List[Any], List[Any], List[Any]]:
    keys: List[Any] = []
    values: List[Any] = []
    headers: List[Any] = []
    for i, rec in enumerate(records):
        try:
            n = len(rec)
        except TypeError:
            n = -1
        if n == 2:
            k, v = rec
            h = None
        elif n == 3:
            k, v, h = rec
        else:
            raise TypeError(f"record {i} must be a (key, value) or (key, value, headers) tuple, got {rec!r:.80}")
        keys.append(k)
        values.append(v)
        headers.append(h)
    return keys, values, headers


def _available(producer: Any, topic: str, all_partitions: Sequence[int]) -> Optional[List[int]]:
    cluster = getattr(getattr(producer, "client", None), "cluster", None)
    if cluster is None:
        return None
    avail = cluster.available_partitions_for_topic(topic)
    return [] if not avail else [p for p in all_partitions if p in avail]


def _record_metadata(base: Any, topic: str, partition: int, md: Any) -> RecordMetadata:
    ts = getattr(base, "timestamp", None)
    if ts is None or ts == -1:  # the broker kept the producer's timestamps (CreateTime)
        ts = getattr(md, "timestamp", None)
    return RecordMetadata(
        topic,
        partition,
        TopicPartition(topic, partition),
        base.offset + md.offset,
        ts,
        getattr(base, "timestamp_type", 0),
        getattr(base, "log_start_offset", None),
    )


async def send_many(producer: Any, topic: str, records: Iterable[Record], *,
                    strategy: Optional[str] = None, keyless: Optional[KeylessStrategy] = None,
                    timestamp_ms: Optional[int] = None) -> List[Result]:
    """Send records grouped by partition in batches; per-record results in input order.

    Args:
        producer: a started ``AIOKafkaProducer`` (or an object with its
            ``partitions_for``, ``create_batch`` and ``send_batch``).
        topic: the topic.
        records: ``(key, value)`` or ``(key, value, headers)`` tuples; keys and
            values go through the producer's serializers, as with ``send``.
        strategy: a name from ``fastpart.strategies()``; default: the
            producer's :class:`Partitioner` strategy, else ``"java"``
            (aiokafka's own placement).
        keyless: the strategy for keyless records (see the module).
        timestamp_ms: the records' timestamp (default: now).

    Returns:
        A list as long as *records*: ``RecordMetadata`` for each delivered
        record, or the exception it failed with (e.g. ``KafkaTimeoutError``,
        ``MessageSizeTooLargeError``).  Raises only for bad arguments or when
        the topic's metadata cannot be obtained.
    """
    own = getattr(producer, "_partitioner", None)
    own = own if isinstance(own, CallablePartitioner) else None
    if strategy is None:
        strategy = own.strategy if own is not None else "java"
    strategy_code(strategy)
    if keyless is None:
        keyless = own.keyless if own is not None else RandomChoice()
    else:
        check_keyless(keyless)
    keys, values, headers = _split(records)
    count = len(keys)
    if count == 0:
        return []

    partition_set = await producer.partitions_for(topic)  # waits for metadata, as send() does
    all_partitions = list(partition_set)                    # aiokafka indexes list(set) as is
    if not all_partitions:
        raise ValueError(f"topic {topic!r} has no partitions in the producer's metadata")

    key_ser = getattr(producer, "_key_serializer", None)
    key_bytes = [key_ser(k) for k in keys] if key_ser is not None else keys
    grouping = _core.group_by_partition(key_bytes, len(all_partitions), strategy=strategy)

    targets: Dict[int, List[int]] = {}
    keyless_rows: Sequence[int] = ()
    for p, rows in grouping:
        if p < 0:
            keyless_rows = rows
        else:
            targets[all_partitions[p]] = list(rows)
    if len(keyless_rows):
        available = _available(producer, topic, all_partitions)
        sized = bool(getattr(keyless, "needs_record_size", False))
        val_ser = getattr(producer, "_value_serializer", None)
        touched = set()
        for i in keyless_rows:  # ascending: input order
            size = None
            if sized:
                v = values[i]
                vb = val_ser(v) if val_ser is not None else v
                size = record_size(key_bytes[i], vb, headers[i])
            p = keyless.next_partition(topic, all_partitions, available, record_size=size)
            targets.setdefault(p, []).append(i)
            touched.add(p)
        for p in touched:
            targets[p].sort()

    results: List[Any] = [None] * count

    async def send_partition(partition: int, rows: List[int]) -> List[Tuple[Any, List[Tuple[int, Any]]]]:
        sent: List[Tuple[Any, List[Tuple[int, Any]]]] = []
        batch = producer.create_batch()
        members: List[Tuple[int, Any]] = []

        async def flush() -> None:
            try:
                fut = await producer.send_batch(batch, topic, partition=partition)
            except Exception as exc:  # the whole batch failed to queue
                for i, _ in members:
                    results[i] = exc
            else:
                sent.append((fut, members))

        for i in rows:
            try:
                md = batch.append(key=keys[i], value=values[i], timestamp=timestamp_ms, headers=headers[i])
                if md is None and members:
                    await flush()
                    batch = producer.create_batch()
                    members = []
                    md = batch.append(key=keys[i], value=values[i], timestamp=timestamp_ms, headers=headers[i])
            except Exception as exc:  # e.g. a serializer or type error for this record
                results[i] = exc
                continue
            if md is None:
                results[i] = _TooLarge(f"record {i} does not fit in an empty batch")
                continue
            members.append((i, md))
        if members:
            await flush()
        return sent

    per_partition = await asyncio.gather(*(send_partition(p, rows) for p, rows in targets.items()))
    for partition, sent in zip(targets, per_partition):
        for fut, members in sent:
            try:
                base = await fut
            except Exception as exc:
                for i, _ in members:
                    results[i] = exc
                continue
            for i, md in members:
                results[i] = _record_metadata(base, topic, partition, md)
    return results
