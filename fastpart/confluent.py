"""confluent-kafka adapters: Java (or any) placement for a ``confluent_kafka.Producer``.

confluent-kafka cannot call a Python partitioner, and its default
(librdkafka ``consistent_random``, CRC32) places keys differently from Java.
:class:`Partitioner` computes the ``partition=`` argument of ``produce()``
instead, from partition counts it learns from the producer's own metadata,
so a confluent-kafka producer places keys like Java (or any strategy)
without changing its configuration.  :func:`explain` says what a librdkafka
configuration implies.

Needs confluent-kafka (``pip install 'fastpart[confluent]'``).

API:
    ``Partitioner(producer, strategy="java", *, key_serializer=<required with a SerializingProducer>, keyless=None, refresh_interval=300.0, timeout=10.0, clock=time.monotonic)``
        ``partition(topic, key, headers=None) -> int``: the ``partition=`` for
            one record; -1 (``RD_KAFKA_PARTITION_UA``: librdkafka decides)
            where the strategy leaves it to the client (``None`` keys), unless
            a keyless strategy object is given.
        ``partitions(topic, keys) -> array('i')``: the same for a batch
            (one ``fastpart.partition_many`` call).
        ``produce(topic, key=None, value=None, **kwargs)``: ``producer.produce``
            with ``partition=`` filled in; delivery callbacks (``on_delivery=``
            or ``callback=``) are wrapped so partition errors refresh metadata.
        ``partition_count(topic) -> int``, ``refresh(topic) -> int``,
        ``partition_error(topic)`` (report a partition error: refresh in the
        background), ``on_delivery(err, msg)`` (a delivery callback that does
        that, for your own ``produce`` calls), ``wait_for_refresh(timeout)``,
        ``serialize_key(topic, key, headers=None)``.

    Serialized keys: a ``SerializingProducer`` serializes the key inside
        ``produce()``, after the partition is chosen, and the Java producer
        places a record by its serialized bytes.  So give the Partitioner the
        same serializer (``key_serializer=StringSerializer()``, ...): it hashes
        ``key_serializer(key, SerializationContext(topic, MessageField.KEY,
        headers))`` and still hands the producer the unserialized key.
        confluent-kafka has no public accessor for a SerializingProducer's
        serializer, so with one the argument is required (``None`` when it has
        no ``key.serializer``).

    Metadata, and when ``produce()`` waits:
        Partition counts come from ``producer.list_topics(topic, timeout)``,
        cached per topic.  The FIRST use of a topic waits for its metadata, up
        to *timeout* seconds (default 10; threads using the same new topic
        share one fetch), and raises if it fails (the client's
        ``KafkaException``, or ``MetadataError`` when the topic has no
        partitions).  After that, placement never waits for the cluster:
        every *refresh_interval* seconds (``None``: never) and after a
        partition error, the topic is fetched again by a background thread
        (one at a time, started when needed, gone when idle) while records
        keep being placed with the known count; the new count is used as soon
        as it arrives.  A failed refresh keeps the known partitions, is kept
        in ``last_refresh_error`` and retried after ``retry_backoff`` (1 s).
        Only when librdkafka refuses a partition at once
        (``_UNKNOWN_PARTITION`` raised by ``produce``) does ``produce()``
        fetch synchronously, up to *timeout*, and retry once.  Thread-safe:
        one lock, never held while waiting for the cluster.

    ``explain(config) -> Explanation``
        For a librdkafka configuration dict (``partitioner``, also nested in
        ``default.topic.config``, which librdkafka lets win; default
        ``consistent_random``): the fastpart strategy it implies and whether
        it agrees with Java for keyed, empty and ``None`` keys.

Example::

    from confluent_kafka import Producer, SerializingProducer
    from confluent_kafka.serialization import StringSerializer
    from fastpart.confluent import Partitioner, explain

    producer = Producer({"bootstrap.servers": "..."})
    placer = Partitioner(producer)                    # Java placement
    placer.produce("events", key=b"user-1", value=b"...")
    producer.produce("events", key=b"k", value=b"v", partition=placer.partition("events", b"k"))

    keys = StringSerializer()                         # a SerializingProducer: the same key serializer
    sp = SerializingProducer({"bootstrap.servers": "...", "key.serializer": keys})
    Partitioner(sp, key_serializer=keys).produce("events", key="user-1", value=b"...")
    print(explain({"bootstrap.servers": "..."}))      # consistent_random: keyed records differ from Java

    >>> explain({"partitioner": "murmur2_random"}).agrees_with_java
    True
"""

from __future__ import annotations

import array
import time
from typing import Any, Callable, Optional

try:
    import confluent_kafka as _ck
    from confluent_kafka.error import KeySerializationError
    from confluent_kafka.serialization import MessageField, SerializationContext
except ImportError as exc:  # pragma: no cover - exercised by simulating a missing client
    raise ImportError(
        "fastpart.confluent needs the confluent-kafka client: pip install 'fastpart[confluent]'"
    ) from exc

from ._adapter_base import check_keyless
from ._confluent_explain import Explanation, explain
from ._confluent_metadata import MetadataCache, MetadataError, TopicInfo
from ._impl import core as _core
from ._strategies import strategy_code
from .keyless import KeylessStrategy

__all__ = ["Explanation", "MetadataError", "PARTITION_UA", "Partitioner", "explain"]

#: ``RD_KAFKA_PARTITION_UA``: let librdkafka's configured partitioner decide.
PARTITION_UA = -1

_KE = _ck.KafkaError
# Errors that mean the partition count we used may be stale.
_PARTITION_ERRORS = frozenset(
    getattr(_KE, name)
    for name in ("_UNKNOWN_PARTITION", "UNKNOWN_TOPIC_OR_PART", "_UNKNOWN_TOPIC")
    if hasattr(_KE, name)
)


def _error_code(err: Any) -> Optional[int]:
    code = getattr(err, "code", None)
    if callable(code):
        try:
            value = code()
        except Exception:  # pragma: no cover - defensive
            return None
        return value if isinstance(value, int) else None
    return code if isinstance(code, int) else None


class _Unset:
    def __repr__(self) -> str:
        return "<unset>"


_UNSET: Any = _Unset()

KeySerializer = Callable[[Any, Any], Any]


class Partitioner:
    """The ``partition=`` a ``confluent_kafka.Producer`` needs to place keys by any strategy.

    Args:
        producer: a ``confluent_kafka.Producer`` or ``SerializingProducer``
            (anything with its ``list_topics(topic, timeout)`` and
            ``produce(...)``).
        strategy: a name from ``fastpart.strategies()``; ``"java"`` places
            keys as the Java producer (and kafka-python, aiokafka, ...) does.
        key_serializer: the key serializer the producer applies, called as
            ``key_serializer(key, SerializationContext(topic, MessageField.KEY,
            headers))`` -- the ``key.serializer`` of a ``SerializingProducer``.
            Records are then placed by the bytes the broker receives (as the
            Java producer places them: after its serializer), while the key
            is still handed to the producer unserialized.  Required with a
            ``SerializingProducer`` (pass ``None`` if it has no
            ``key.serializer``), whose serializer confluent-kafka does not
            expose; not accepted with a plain ``Producer``, which sends the
            key as given.
        keyless: a ``fastpart.keyless`` strategy for the records the strategy
            leaves to the client; default ``None``: -1, librdkafka decides.
        refresh_interval: seconds before a topic's partition count is fetched
            again, in the background (``None``: only on reported errors).
        timeout: seconds ``list_topics`` may take; also the longest a topic's
            first use waits for its metadata.
        clock: the monotonic clock (injectable for tests).

    Example:
        >>> from types import SimpleNamespace as NS
        >>> class FakeProducer:
        ...     def list_topics(self, topic=None, timeout=-1):
        ...         parts = {i: NS(id=i, leader=1, error=None) for i in range(10)}
        ...         return NS(topics={topic: NS(topic=topic, partitions=parts, error=None)})
        >>> placer = Partitioner(FakeProducer())
        >>> placer.partition("t", b"21"), placer.partition("t", None)
        (0, -1)
        >>> list(placer.partitions("t", [b"21", "kafka", None]))
        [0, 0, -1]

        With a key serializer the serialized bytes are hashed (Java's
        ``IntegerSerializer`` writes 4 big-endian bytes):

        >>> import fastpart
        >>> from confluent_kafka.serialization import IntegerSerializer
        >>> from fastpart import serde
        >>> ints = Partitioner(FakeProducer(), key_serializer=IntegerSerializer())
        >>> ints.partition("t", 42) == fastpart.partition(serde.int32(42), 10)
        True
    """

    def __init__(self, producer: Any, strategy: str = "java", *,
                 key_serializer: Optional[KeySerializer] = _UNSET,
                 keyless: Optional[KeylessStrategy] = None,
                 refresh_interval: Optional[float] = 300.0, timeout: float = 10.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if not callable(getattr(producer, "list_topics", None)):
            raise TypeError(
                f"producer must be a confluent_kafka.Producer (with list_topics), not {type(producer).__name__}"
            )
        strategy_code(strategy)
        if refresh_interval is not None and not refresh_interval > 0:
            raise ValueError(f"refresh_interval must be > 0 seconds or None, got {refresh_interval!r}")
        if not timeout > 0:
            raise ValueError(f"timeout must be > 0 seconds, got {timeout!r}")
        self.producer = producer
        self.strategy = strategy
        self.key_serializer: Optional[KeySerializer] = _check_serializer(producer, key_serializer)
        self.keyless = None if keyless is None else check_keyless(keyless)
        self.metadata = MetadataCache(
            lambda topic, wait: producer.list_topics(topic, timeout=wait),
            refresh_interval=refresh_interval, timeout=timeout, clock=clock,
        )

    # ------------------------------------------------------------ metadata
    @property
    def refresh_interval(self) -> Optional[float]:
        """Seconds between background refreshes of a topic (``None``: only after errors)."""
        return self.metadata.refresh_interval

    @property
    def timeout(self) -> float:
        """Seconds ``list_topics`` may take (the longest the first use of a topic waits)."""
        return self.metadata.timeout

    @property
    def retry_backoff(self) -> float:
        """Seconds between attempts after a failed refresh (default 1)."""
        return self.metadata.retry_backoff

    @retry_backoff.setter
    def retry_backoff(self, seconds: float) -> None:
        self.metadata.retry_backoff = seconds

    @property
    def metadata_requests(self) -> int:
        """How many times ``list_topics`` was called."""
        return self.metadata.metadata_requests

    @property
    def last_refresh_error(self) -> Optional[BaseException]:
        """Why the last background refresh failed (``None`` if none did)."""
        return self.metadata.last_refresh_error

    def partition_count(self, topic: str) -> int:
        """The number of partitions of *topic* (cached; the first use of a topic fetches it)."""
        return len(self.metadata.get(topic).partitions)

    def refresh(self, topic: str) -> int:
        """Fetch *topic*'s metadata now and wait for it; returns its partition count (raises if the fetch fails)."""
        return len(self.metadata.refresh(topic).partitions)

    def partition_error(self, topic: Optional[str] = None) -> None:
        """Report that a record of *topic* failed with a partition error (all topics: ``None``).

        The topic's metadata is fetched again in the background (at once, or
        after ``retry_backoff`` if the last attempt failed).
        """
        self.metadata.partition_error(topic)

    def wait_for_refresh(self, timeout: Optional[float] = None) -> bool:
        """Wait until no background refresh is queued or running; False if *timeout* passed first.

        ``produce()`` never needs this; it is for tests and for code that
        wants the new partition count as soon as it is known.
        """
        return self.metadata.wait_for_refresh(timeout)


    def on_delivery(self, err: Any, msg: Any) -> None:
        """A delivery callback that calls :meth:`partition_error` on partition errors."""
        if err is not None and _error_code(err) in _PARTITION_ERRORS:
            topic = msg.topic() if msg is not None and callable(getattr(msg, "topic", None)) else None
            self.partition_error(topic)

    # ------------------------------------------------------------ placement
    def serialize_key(self, topic: str, key: Any, headers: Any = None) -> Any:
        """The key as the broker receives it: ``key_serializer(key, ctx)``, or *key* itself without one.

        Raises ``confluent_kafka.error.KeySerializationError`` when the
        serializer fails, as ``SerializingProducer.produce`` does.
        """
        ser = self.key_serializer
        if ser is None:
            return key
        try:
            return ser(key, SerializationContext(topic, MessageField.KEY, headers))
        except Exception as exc:
            raise KeySerializationError(exc) from exc

    def _keyless(self, topic: str, info: TopicInfo) -> int:
        assert self.keyless is not None
        return self.keyless.next_partition(topic, info.partitions, info.available)

    def partition(self, topic: str, key: Any, headers: Any = None) -> int:
        """The ``partition=`` for a record of *topic* with *key* (bytes, str or None).

        With a ``key_serializer`` the key is serialized first (*headers* go
        into its ``SerializationContext``).  Returns -1 (librdkafka decides)
        where the strategy leaves the choice to the client and no keyless
        strategy was given.
        """
        info = self.metadata.get(topic)
        parts = info.partitions
        p: int = _core.partition(self.serialize_key(topic, key, headers), len(parts), strategy=self.strategy)
        if p >= 0:
            return parts[p]
        if self.keyless is None:
            return PARTITION_UA
        return self._keyless(topic, info)

    def partitions(self, topic: str, keys: Any) -> "array.array[int]":
        """``partition=`` values for many keys (one ``partition_many`` call), as ``array('i')``.

        With a ``key_serializer`` each key is serialized first (no headers).
        """
        info = self.metadata.get(topic)
        parts = info.partitions
        if self.key_serializer is not None:
            keys = [self.serialize_key(topic, k) for k in keys]
        out: "array.array[int]" = _core.partition_many(keys, len(parts), strategy=self.strategy)
        if parts[-1] != len(parts) - 1:  # ids not 0..n-1: map indexes to ids
            for i, p in enumerate(out):
                if p >= 0:
                    out[i] = parts[p]
        if self.keyless is not None:
            for i, p in enumerate(out):
                if p < 0:
                    out[i] = self._keyless(topic, info)
        return out

    def produce(self, topic: str, key: Any = None, value: Any = None, **kwargs: Any) -> None:
        """``producer.produce(topic, value=value, key=key, partition=..., **kwargs)``.

        Never waits for metadata once the topic is known (see the module).
        A delivery callback (``on_delivery=`` or ``callback=``) is wrapped so a
        partition error also refreshes the topic's metadata.  If librdkafka
        refuses the partition at once (``_UNKNOWN_PARTITION``: its metadata and
        ours disagree), the metadata is fetched again -- the one case where
        ``produce`` waits, up to *timeout* -- and the record produced once more
        if the count changed.
        """
        if "partition" in kwargs:
            raise TypeError("produce() computes partition=; call producer.produce() to force a partition")
        if "on_delivery" in kwargs and "callback" in kwargs:
            raise TypeError("pass either on_delivery= or callback=, not both")
        user_cb = kwargs.pop("on_delivery", None) or kwargs.pop("callback", None)
        kwargs["on_delivery"] = self._wrap(user_cb)
        headers = kwargs.get("headers")
        p = self.partition(topic, key, headers)
        try:
            self.producer.produce(topic, value=value, key=key, partition=p, **kwargs)
        except _ck.KafkaException as exc:
            err = exc.args[0] if exc.args else None
            if _error_code(err) not in _PARTITION_ERRORS:
                raise
            before = self.partition_count(topic)
            if self.refresh(topic) == before:
                raise
            p = self.partition(topic, key, headers)
            self.producer.produce(topic, value=value, key=key, partition=p, **kwargs)

    def _wrap(self, user_cb: Optional[Callable[[Any, Any], None]]) -> Callable[[Any, Any], None]:
        def delivered(err: Any, msg: Any) -> None:
            self.on_delivery(err, msg)
            if user_cb is not None:
                user_cb(err, msg)

        return delivered

    def __repr__(self) -> str:
        ser = "" if self.key_serializer is None else f", key_serializer={self.key_serializer!r}"
        return f"Partitioner(strategy={self.strategy!r}{ser}, keyless={self.keyless!r})"


def _check_serializer(producer: Any, key_serializer: Any) -> Optional[KeySerializer]:
    serializing = isinstance(producer, _ck.SerializingProducer)
    if key_serializer is _UNSET:
        if serializing:
            raise TypeError(
                "a SerializingProducer serializes keys inside produce(), after the partition is chosen, "
                "and confluent-kafka does not expose its key.serializer: pass the same serializer as "
                "Partitioner(producer, key_serializer=...) (key_serializer=None if it has no "
                "key.serializer), so records are placed by the bytes the broker receives"
            )
        return None
    if key_serializer is None:
        return None
    if not callable(key_serializer):
        raise TypeError(
            "key_serializer must be a confluent-kafka serializer, called as serializer(key, ctx), "
            f"or None, not {type(key_serializer).__name__}"
        )
    if isinstance(producer, _ck.Producer) and not serializing:
        raise TypeError(
            "a confluent_kafka.Producer sends keys as given, so key_serializer= would place records by "
            "bytes it never sends: serialize keys yourself (e.g. with fastpart.serde) or use a "
            "SerializingProducer with the same key.serializer"
        )
    return key_serializer  # type: ignore[no-any-return]
