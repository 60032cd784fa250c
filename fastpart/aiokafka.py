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
        exception that record failed with -- a bad key (the key serializer
        raised, or the serialized key is not bytes/str/None) fails its own
        record exactly as a bad value does.  The partition count comes from
        ``await producer.partitions_for(topic)`` (which waits for metadata as
        ``send`` does).  *strategy* defaults to the producer's partitioner's
        when it is a :class:`Partitioner`, else ``"java"``; ``None`` keys go
        through *keyless* (default: the producer's partitioner's, else random
        among the available partitions).  Within a partition, records keep
        their input order.  send_many builds its own batches and never calls
        ``on_new_batch``: a ``Sticky`` strategy keeps one partition for the
        whole call; ``UniformSticky`` (which send_many feeds each record's
        size) or ``RoundRobin`` spread keyless records.

    aiokafka has no public accessor for a producer's serializers and
    partitioner, so send_many reads ``AIOKafkaProducer._key_serializer``,
    ``_value_serializer`` and ``_partitioner`` (:data:`PRIVATE_ATTRIBUTES`),
    checked on aiokafka 0.11.0 to 0.14.0 (:data:`CHECKED_AIOKAFKA`; a test
    pins that range); if one is missing it raises a ``RuntimeError`` naming
    it instead of guessing.  Everything else it uses is public.

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
    import aiokafka as _aiokafka  # type: ignore[import-untyped,unused-ignore]
    from aiokafka.errors import MessageSizeTooLargeError as _TooLarge  # type: ignore[import-untyped,unused-ignore]
    from aiokafka.structs import RecordMetadata, TopicPartition  # type: ignore[import-untyped,unused-ignore]
except ImportError as exc:  # pragma: no cover - exercised by simulating a missing client
    raise ImportError(
        "fastpart.aiokafka needs the aiokafka client: pip install 'fastpart[aiokafka]'"
    ) from exc

from ._impl import core as _core
from ._strategies import strategy_code
from ._adapter_base import CallablePartitioner, check_keyless
from .keyless import KeylessStrategy, RandomChoice, Seed, record_size

__all__ = ["CHECKED_AIOKAFKA", "PRIVATE_ATTRIBUTES", "Partitioner", "send_many"]


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
            k, v, h = rec[0], rec[1], None
        elif n == 3:
            k, v, h = rec[0], rec[1], rec[2]  # type: ignore[misc]
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


#: The aiokafka releases whose ``AIOKafkaProducer`` was read for the private
#: attributes below (from 0.11 its ``create_batch()`` batches run the
#: producer's serializers, which send_many relies on).
CHECKED_AIOKAFKA = ("0.11.0", "0.14.0")
#: AIOKafkaProducer attributes send_many reads: aiokafka has no public accessor
#: for the producer's serializers or partitioner.  Everything else it uses is
#: public (``partitions_for``, ``create_batch``, ``send_batch``,
#: ``client.cluster.available_partitions_for_topic``).
PRIVATE_ATTRIBUTES = ("_key_serializer", "_value_serializer", "_partitioner")


def _private(producer: Any, name: str) -> Any:
    """``producer.<name>`` (one of :data:`PRIVATE_ATTRIBUTES`); a clear error if aiokafka renamed it."""
    if isinstance(producer, _aiokafka.AIOKafkaProducer):
        try:
            return getattr(producer, name)
        except AttributeError:
            raise RuntimeError(
                f"fastpart.aiokafka.send_many reads AIOKafkaProducer.{name} (aiokafka has no public "
                f"accessor for it) and was checked on aiokafka {CHECKED_AIOKAFKA[0]} to "
                f"{CHECKED_AIOKAFKA[1]}; aiokafka {getattr(_aiokafka, '__version__', '?')} has no such "
                "attribute: use producer.send() until fastpart supports this aiokafka"
            ) from None
    return getattr(producer, name, None)  # a stand-in producer (tests, wrappers)


def _serialize_keys(keys: List[Any], key_ser: Any) -> Tuple[List[Any], Dict[int, BaseException]]:
    """The keys as the producer serializes them, and the exception of each key its serializer refused."""
    bad: Dict[int, BaseException] = {}
    if key_ser is None:
        return keys, bad
    key_bytes: List[Any] = [None] * len(keys)
    for i, k in enumerate(keys):
        try:
            key_bytes[i] = key_ser(k)
        except Exception as exc:
            bad[i] = exc
    return key_bytes, bad


def _group(key_bytes: List[Any], bad: Dict[int, BaseException], n: int, strategy: str
           ) -> List[Tuple[int, List[int]]]:
    """``(partition index, rows)`` for the rows whose key is good, in one grouping call.

    A key fastpart cannot hash (e.g. an int with no key serializer) is added
    to *bad* with the core's error, found key by key only when the one call
    refuses the batch.
    """
    rows: Optional[List[int]] = [i for i in range(len(key_bytes)) if i not in bad] if bad else None
    try:
        grouping = _core.group_by_partition(key_bytes if rows is None else [key_bytes[i] for i in rows],
                                            n, strategy=strategy)
    except (TypeError, ValueError):
        for i in (range(len(key_bytes)) if rows is None else rows):
            try:
                _core.partition(key_bytes[i], n, strategy=strategy)
            except (TypeError, ValueError) as exc:
                bad[i] = exc
        rows = [i for i in range(len(key_bytes)) if i not in bad]
        grouping = _core.group_by_partition([key_bytes[i] for i in rows], n, strategy=strategy)
    if rows is None:
        return [(p, list(members)) for p, members in grouping]
    return [(p, [rows[j] for j in members]) for p, members in grouping]


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
        record, or the exception it failed with -- a bad key (its serializer
        raised, or it is not a key fastpart can hash, e.g. an int with no key
        serializer: ``TypeError``) exactly as a bad value, or a send failure
        (e.g. ``KafkaTimeoutError``, ``MessageSizeTooLargeError``).  Raises
        only for bad arguments or when the topic's metadata cannot be
        obtained.

    Example:
        >>> import asyncio
        >>> from types import SimpleNamespace as NS
        >>> class Batch:                       # the parts of aiokafka's BatchBuilder used
        ...     def __init__(self): self.n = 0
        ...     def append(self, *, key, value, timestamp, headers):
        ...         if not isinstance(value, bytes): raise TypeError("value must be bytes")
        ...         self.n += 1; return NS(offset=self.n - 1)
        >>> class Producer:                    # ... and of AIOKafkaProducer
        ...     async def partitions_for(self, topic): return {0, 1, 2}
        ...     def create_batch(self): return Batch()
        ...     async def send_batch(self, batch, topic, *, partition):
        ...         fut = asyncio.get_running_loop().create_future()
        ...         fut.set_result(NS(offset=0, timestamp=1)); return fut
        >>> out = asyncio.run(send_many(Producer(), "t", [(b"a", b"1"), (42, b"2"), (b"b", 3)]))
        >>> out[0].partition, type(out[1]).__name__, type(out[2]).__name__
        (1, 'TypeError', 'TypeError')
    """
    own = _private(producer, "_partitioner")
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

    results: List[Any] = [None] * count
    key_bytes, bad = _serialize_keys(keys, _private(producer, "_key_serializer"))
    grouping = _group(key_bytes, bad, len(all_partitions), strategy)
    for i, exc in bad.items():   # a bad key fails its own record, as a bad value does
        results[i] = exc

    targets: Dict[int, List[int]] = {}
    keyless_rows: List[int] = []
    for p, rows in grouping:
        if p < 0:
            keyless_rows = rows
        else:
            targets[all_partitions[p]] = rows
    if keyless_rows:
        available = _available(producer, topic, all_partitions)
        sized = bool(getattr(keyless, "needs_record_size", False))
        val_ser = _private(producer, "_value_serializer") if sized else None
        touched = set()
        for i in keyless_rows:  # ascending: input order
            size = None
            if sized:
                v = values[i]
                try:
                    vb = val_ser(v) if val_ser is not None else v
                    size = record_size(key_bytes[i], vb, headers[i])
                except Exception as exc:  # a bad value: its record fails, as in the batch
                    results[i] = exc
                    continue
            p = keyless.next_partition(topic, all_partitions, available, record_size=size)
            targets.setdefault(p, []).append(i)
            touched.add(p)
        for p in touched:
            targets[p].sort()


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
