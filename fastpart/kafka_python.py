"""kafka-python adapters: fastpart partitioners for ``KafkaProducer(partitioner=...)``.

Keyed records get exactly kafka-python's own answer (the Java formula over
``sorted(cluster.partitions_for_topic(topic))``) at native speed, or -- with
``strategy=`` -- the answer of another client, so a Python producer can place
keys as a confluent-kafka, sarama, kafkajs ... producer of the same topic does.
Records the strategy leaves to the client (``None`` keys; also empty keys
under ``"librdkafka"``) go to a keyless strategy from ``fastpart.keyless``.

Needs kafka-python (``pip install 'fastpart[kafka-python]'``).

API:
    ``DefaultPartitioner(strategy="java", keyless=None, *, seed=None, topic="", record_size=None)``
        A ``kafka.partitioner.Partitioner`` (kafka-python 3.x).  ``None``
        keys: random among the available partitions (all when none is), as
        kafka-python's own ``DefaultPartitioner``, or the *keyless* strategy.
    ``StickyPartitioner(strategy="java", keyless=None, *, seed=None, topic="", record_size=None)``
        The same for keyed records; ``None`` keys use ``fastpart.Sticky``
        (KIP-480, re-picking an unavailable partition as kafka-python's
        ``StickyPartitioner`` does) unless *keyless* is given.  The producer
        calls its ``on_new_batch(topic, cluster, prev_partition)`` hook.
    Both methods of the kafka-python 3.x interface:
        ``partition(topic, key, serialized_key, value, serialized_value, cluster) -> int``
        ``on_new_batch(topic, cluster, prev_partition) -> None``
    and, for kafka-python 2.x, every instance is also the 2.x-style callable
        ``partitioner(key_bytes, all_partitions, available) -> int``
    (2.x passes no topic: keyless state is kept under *topic*, and
    ``UniformSticky`` then needs the fixed estimate *record_size*).

With ``keyless=fastpart.UniformSticky(...)`` the record size is estimated
from the serialized key and value (``fastpart.keyless.record_size``).

Example::

    from kafka import KafkaProducer
    import fastpart
    from fastpart.kafka_python import DefaultPartitioner, StickyPartitioner

    KafkaProducer(partitioner=DefaultPartitioner())                       # kafka-python's answers, faster
    KafkaProducer(partitioner=DefaultPartitioner(strategy="librdkafka"))  # keys placed as confluent-kafka does
    KafkaProducer(partitioner=DefaultPartitioner(keyless=fastpart.RoundRobin()))
    KafkaProducer(partitioner=StickyPartitioner())

    >>> p = DefaultPartitioner()
    >>> p(b"21", [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [])     # the 2.x-style call
    0
"""

from __future__ import annotations

from typing import Any, List, Optional

try:
    import kafka.partitioner as _kp  # type: ignore[import-untyped,unused-ignore]
except ImportError as exc:  # pragma: no cover - exercised by simulating a missing client
    raise ImportError(
        "fastpart.kafka_python needs the kafka-python client: pip install 'fastpart[kafka-python]'"
    ) from exc

from ._adapter_base import CallablePartitioner
from .keyless import KeylessStrategy, Seed, Sticky, record_size

__all__ = ["DefaultPartitioner", "StickyPartitioner"]

# kafka-python 3.x has the abstract base; 2.x only calls partitioner(key, all, available).
_Base: Any = getattr(_kp, "Partitioner", object)


class DefaultPartitioner(CallablePartitioner, _Base):  # type: ignore[misc]
    """kafka-python's ``DefaultPartitioner`` at native speed, under any fastpart strategy.

    Args:
        strategy: a name from ``fastpart.strategies()`` (``"java"``: the same
            answers as kafka-python's own partitioner).
        keyless: the strategy for records the strategy leaves to the client
            (``None`` keys); default: random among the available partitions.
        seed: seeds the default keyless choice.
        topic, record_size: only for the 2.x-style call (see the module).

    Example:
        >>> class Cluster:
        ...     def topics(self): return {"t"}
        ...     def partitions_for_topic(self, t): return {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
        ...     def available_partitions_for_topic(self, t): return {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
        >>> DefaultPartitioner().partition("t", b"21", b"21", None, None, Cluster())
        0
        >>> DefaultPartitioner(strategy="librdkafka").partition("t", b"21", b"21", None, None, Cluster())
        2
    """

    def __init__(self, strategy: str = "java", keyless: Optional[KeylessStrategy] = None, *,
                 seed: Seed = None, topic: str = "", record_size: Optional[int] = None) -> None:
        CallablePartitioner.__init__(self, strategy, keyless, topic=topic, record_size=record_size, seed=seed)
        self._sized = bool(getattr(self.keyless, "needs_record_size", False))

    def partition(self, topic: str, key: Any, serialized_key: Optional[bytes], value: Any,
                  serialized_value: Optional[bytes], cluster: Any) -> int:
        """Choose the partition of a record (the kafka-python 3.x ``Partitioner`` method).

        Raises:
            ValueError: if *topic* is not in the cluster metadata (as kafka-python).
        """
        if topic not in cluster.topics():
            raise ValueError("Topic %s not found in ClusterMetadata" % (topic,))
        all_partitions: List[int] = sorted(cluster.partitions_for_topic(topic))
        p = self._partition(serialized_key, len(all_partitions), strategy=self.strategy)
        if p >= 0:
            return all_partitions[p]
        available = cluster.available_partitions_for_topic(topic)
        available = sorted(available) if available else []
        size = record_size(serialized_key, serialized_value) if self._sized else None
        return self.keyless.next_partition(topic, all_partitions, available, record_size=size)

    def on_new_batch(self, topic: str, cluster: Any, prev_partition: int) -> None:
        """The producer's KIP-480 hook: the keyless record on *prev_partition* opens a new batch.

        kafka-python then asks :meth:`partition` again for the same record;
        the keyless strategy decides (``Sticky`` moves on, ``RoundRobin``
        keeps the partition unless ``double_call_on_new_batch=True``).
        """
        if not self._null_hashed:
            self.keyless.on_new_batch(topic, prev_partition)


class StickyPartitioner(DefaultPartitioner):
    """Like :class:`DefaultPartitioner`, with KIP-480 sticky partitioning for ``None`` keys.

    The default keyless strategy is ``fastpart.Sticky(avoid_unavailable=True)``:
    stay on one partition until kafka-python's producer calls
    :meth:`on_new_batch`, then move to a different random available one, as
    kafka-python's own ``StickyPartitioner``.

    Example:
        >>> class Cluster:
        ...     def topics(self): return {"t"}
        ...     def partitions_for_topic(self, t): return {0, 1, 2}
        ...     def available_partitions_for_topic(self, t): return {0, 1, 2}
        >>> sp, c = StickyPartitioner(seed=1), Cluster()
        >>> p = sp.partition("t", None, None, b"v", b"v", c)
        >>> sp.partition("t", None, None, b"v", b"v", c) == p
        True
        >>> sp.on_new_batch("t", c, p)
        >>> sp.partition("t", None, None, b"v", b"v", c) != p
        True
    """

    def __init__(self, strategy: str = "java", keyless: Optional[KeylessStrategy] = None, *,
                 seed: Seed = None, topic: str = "", record_size: Optional[int] = None) -> None:
        if keyless is None:
            keyless = Sticky(seed=seed, avoid_unavailable=True)
        super().__init__(strategy, keyless, seed=seed, topic=topic, record_size=record_size)
