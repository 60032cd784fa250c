"""Keyless records: the partition a client picks for a ``None`` key.

No client computes a keyless record's partition from the record, so
``fastpart.partition(None, n)`` answers -1 ("the client decides").  The
objects here reproduce how the clients decide, as stateful, thread-safe
strategies you can plug into the adapters (``fastpart.kafka_python``,
``fastpart.aiokafka``, ``fastpart.confluent``) or drive yourself:

==================  ==========================================================
``RoundRobin``      Java ``RoundRobinPartitioner`` (2.4+): a per-topic counter
                    from 0 over the *available* partitions in metadata order
                    (all partitions when none is available).
``Sticky``          KIP-480 (Java 2.4 - 3.2 ``DefaultPartitioner``,
                    kafka-python ``StickyPartitioner``): stay on one partition
                    until a new batch is opened, then move to a *different*
                    random available partition.
``UniformSticky``   KIP-794 (Java 3.3+ built-in partitioner): switch after
                    ``batch_size`` bytes were produced to the current
                    partition, to a random available one, optionally weighted
                    by the per-partition queue sizes you report.
``RandomChoice``    kafka-python / aiokafka ``DefaultPartitioner``: a random
                    available partition for every record.
==================  ==========================================================

Every strategy has the same two methods (the producer protocol of Java's
``Partitioner`` and kafka-python 3.x, with plain lists instead of a cluster):

``next_partition(topic, all_partitions, available_partitions=None, *, record_size=None) -> int``
    The partition of the next keyless record of *topic*.  *all_partitions*
    lists every partition of the topic in metadata order; *available_partitions*
    those with a leader (``None``: all of them; ``[]``: none, so the client
    falls back to all).  *record_size* is the bytes the record adds to its
    batch (only ``UniformSticky`` needs it; see :func:`record_size`).

``on_new_batch(topic, prev_partition) -> None``
    Tell the strategy that the record it just placed on *prev_partition*
    would open a new batch there, and that you are about to ask again for the
    same record (what Java 2.4 - 3.x and kafka-python 3.x producers do).
    ``Sticky`` then moves on; ``RoundRobin`` and ``UniformSticky`` give
    *prev_partition* again, unless ``RoundRobin(double_call_on_new_batch=True)``,
    which reproduces the KAFKA-9965 skip.

Randomness is seedable (``seed=`` an int or a ``random.Random``) so tests
are reproducible.  One ``threading.Lock`` per object guards all of its
per-topic state (counters, sticky partitions, byte counts, retries, the
random generator), so every call is atomic with or without the GIL: a
free-threaded interpreter gets exact counts too (8 threads x 10,000 calls
in ``tests/test_keyless.py``).

Example:
    >>> from fastpart.keyless import RoundRobin, Sticky, UniformSticky
    >>> rr = RoundRobin()
    >>> [rr.next_partition("t", [0, 1, 2]) for _ in range(4)]
    [0, 1, 2, 0]
    >>> [rr.next_partition("t", [0, 1, 2], [2, 0]) for _ in range(3)]   # counter 4, 5, 6
    [2, 0, 2]
    >>> st = Sticky(seed=7)
    >>> p = st.next_partition("t", range(6))
    >>> st.next_partition("t", range(6)) == p
    True
    >>> st.on_new_batch("t", p)
    >>> st.next_partition("t", range(6)) != p
    True
    >>> us = UniformSticky(batch_size=100, seed=1)
    >>> first = [us.next_partition("t", range(4), record_size=10) for _ in range(10)]
    >>> len(set(first))     # 10 x 10 bytes = batch_size: then it switches
    1
"""

from __future__ import annotations

import bisect
import collections
import random
import threading
from typing import (
    Any,
    ClassVar,
    Deque,
    Dict,
    Iterable,
    List,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    Union,
)

__all__ = [
    "KeylessStrategy",
    "RandomChoice",
    "RoundRobin",
    "Sticky",
    "UniformSticky",
    "record_size",
]

Seed = Union[None, int, random.Random]
Partitions = Union[Sequence[int], Iterable[int]]

_MASK32 = 0xFFFFFFFF


def _make_rng(seed: Seed) -> random.Random:
    if seed is None:
        return random.Random()
    if isinstance(seed, random.Random):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be None, an int or a random.Random, not {type(seed).__name__}")
    return random.Random(seed)


def _as_list(parts: Any, what: str) -> Sequence[int]:
    if isinstance(parts, (list, tuple, range)):
        return parts
    if isinstance(parts, (set, frozenset)):
        return sorted(parts)  # a set has no metadata order; ids ascending is Kafka's
    if isinstance(parts, (str, bytes)) or parts is None:
        raise TypeError(f"{what} must be a sequence of partition ids, not {type(parts).__name__}")
    try:
        return list(parts)
    except TypeError:
        raise TypeError(f"{what} must be a sequence of partition ids, not {type(parts).__name__}") from None


def _check(topic: str, all_partitions: Any, available: Any) -> Tuple[Sequence[int], Sequence[int]]:
    """Validate the partition lists; ``available`` comes back as a sequence (maybe empty)."""
    parts = _as_list(all_partitions, "all_partitions")
    if not parts:
        raise ValueError(
            f"all_partitions is empty: topic {topic!r} has no partitions in the metadata you passed "
            "(wait for the topic's metadata before producing to it)"
        )
    if available is None:
        return parts, parts
    avail = _as_list(available, "available_partitions")
    if len(avail) > len(parts):
        raise ValueError(
            f"available_partitions has {len(avail)} partitions but all_partitions only {len(parts)}: "
            "the available partitions are a subset of all partitions"
        )
    return parts, avail


def _check_size(record_size: Any) -> int:
    if isinstance(record_size, bool) or not isinstance(record_size, int):
        raise TypeError(f"record_size must be an int (bytes), not {type(record_size).__name__}")
    if record_size < 0:
        raise ValueError(f"record_size must be >= 0, got {record_size}")
    return record_size


def _varint_size(value: int) -> int:
    z = ((value << 1) ^ (value >> 63)) & 0xFFFFFFFFFFFFFFFF  # zigzag
    size = 1
    while z >= 0x80:
        z >>= 7
        size += 1
    return size


def record_size(key: Optional[bytes], value: Optional[bytes],
                headers: Optional[Sequence[Tuple[str, Optional[bytes]]]] = None) -> int:
    """Bytes one record takes in a v2 record batch (offset and timestamp deltas 0).

    The size Java's ``DefaultRecord.sizeInBytes`` gives before compression;
    a fair ``record_size=`` for :class:`UniformSticky` when you do not know
    the batch's exact growth.

    Example:
        >>> record_size(b"k", b"v")
        9
        >>> record_size(None, b"x" * 100, [("h", b"1")])
        113
    """
    body = 3  # attributes, timestampDelta 0, offsetDelta 0
    for part in (key, value):
        if part is None:
            body += 1
        else:
            n = len(part)
            body += _varint_size(n) + n
    hdrs = headers or ()
    body += _varint_size(len(hdrs))
    for name, hval in hdrs:
        raw = name.encode("utf-8") if isinstance(name, str) else bytes(name)
        body += _varint_size(len(raw)) + len(raw)
        if hval is None:
            body += 1
        else:
            body += _varint_size(len(hval)) + len(hval)
    return _varint_size(body) + body


class KeylessStrategy:
    """Base class: the protocol every keyless strategy follows.

    Subclasses implement ``_next(topic, all_partitions, available, record_size)``
    (called with the lock held); ``on_new_batch`` defaults to "give the same
    partition again for the retried record".
    """

    #: True when ``next_partition`` needs ``record_size=``.
    needs_record_size: ClassVar[bool] = False

    def __init__(self, *, seed: Seed = None) -> None:
        self._rng = _make_rng(seed)
        self._lock = threading.Lock()
        self._retry: Dict[str, Deque[int]] = {}

    def next_partition(self, topic: str, all_partitions: Partitions,
                       available_partitions: Optional[Partitions] = None, *,
                       record_size: Optional[int] = None) -> int:
        """The partition of the next keyless record of *topic*.

        Args:
            topic: the topic (state is kept per topic).
            all_partitions: every partition of the topic, in metadata order.
            available_partitions: the partitions with a leader, in metadata
                order; ``None`` when all are available, empty when none is.
            record_size: bytes the record adds to its batch (``UniformSticky``).

        Returns:
            A partition id from *all_partitions*.
        """
        parts, avail = _check(topic, all_partitions, available_partitions)
        size = None if record_size is None else _check_size(record_size)
        with self._lock:
            retry = self._retry.get(topic)
            if retry:
                return retry.popleft()
            return self._next(topic, parts, avail, size)

    def on_new_batch(self, topic: str, prev_partition: int) -> None:
        """The record just placed on *prev_partition* opens a new batch; it will be asked again."""
        with self._lock:
            self._retry.setdefault(topic, collections.deque()).append(prev_partition)

    def reset(self, topic: Optional[str] = None) -> None:
        """Forget the state of *topic* (of every topic when ``None``)."""
        with self._lock:
            self._reset(topic)

    # -- for subclasses ------------------------------------------------------
    def _reset(self, topic: Optional[str]) -> None:
        if topic is None:
            self._retry.clear()
        else:
            self._retry.pop(topic, None)

    def _next(self, topic: str, parts: Sequence[int], avail: Sequence[int],
              size: Optional[int]) -> int:  # pragma: no cover - abstract
        raise NotImplementedError

    def _random_fallback(self, parts: Sequence[int]) -> int:
        # Java: toPositive(random) % partitions.size(), the index used as the id
        # (the ids are 0..n-1); sorted() keeps that true for any id list.
        return sorted(parts)[self._rng.randrange(len(parts))]

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class RandomChoice(KeylessStrategy):
    """A random available partition for every record (all when none is available).

    What kafka-python's and aiokafka's ``DefaultPartitioner`` do with a
    ``None`` key (``random.choice(available or all)``).

    Example:
        >>> rc = RandomChoice(seed=3)
        >>> rc.next_partition("t", [0, 1, 2, 3], [1, 3]) in (1, 3)
        True
        >>> rc.next_partition("t", [0, 1, 2, 3], []) in (0, 1, 2, 3)
        True
    """

    def on_new_batch(self, topic: str, prev_partition: int) -> None:
        """Nothing to do: the retried record gets a fresh random partition, as in kafka-python."""

    def _next(self, topic: str, parts: Sequence[int], avail: Sequence[int],
              size: Optional[int]) -> int:
        pool = avail if avail else parts
        return pool[self._rng.randrange(len(pool))]


class RoundRobin(KeylessStrategy):
    """Java's ``RoundRobinPartitioner``: one counter per topic, starting at 0.

    Record *i* of a topic goes to ``available[i % len(available)]`` (the
    available partitions in metadata order), or to partition
    ``i % len(all_partitions)`` when none is available -- the counter is the
    Java ``AtomicInteger`` (32-bit, ``toPositive`` after it wraps).

    Args:
        double_call_on_new_batch: reproduce KAFKA-9965 (Java 2.4 - 3.8 and
            3.9.0): when a record would open a new batch the producer calls
            ``onNewBatch`` and then the partitioner again, which advances the
            counter a second time, so that record skips a partition (with an
            even partition count, every other partition gets nothing).  The
            default (False) is the fixed behaviour (KAFKA-17632, 3.9.1 and
            4.x): ``on_new_batch`` remembers the partition and the retried call
            returns it.

    Example:
        >>> rr = RoundRobin()
        >>> [rr.next_partition("t", [4, 2, 9]) for _ in range(4)]
        [4, 2, 9, 4]
        >>> old = RoundRobin(double_call_on_new_batch=True)
        >>> p = old.next_partition("t", range(4)); old.on_new_batch("t", p)
        >>> (p, old.next_partition("t", range(4)))   # the retried record skips partition 0
        (0, 1)
    """

    def __init__(self, *, double_call_on_new_batch: bool = False) -> None:
        super().__init__(seed=None)
        self.double_call_on_new_batch = bool(double_call_on_new_batch)
        self._counters: Dict[str, int] = {}

    def on_new_batch(self, topic: str, prev_partition: int) -> None:
        """The record just placed on *prev_partition* opens a new batch and will be asked again.

        Fixed behaviour: the retried call returns *prev_partition*.  With
        ``double_call_on_new_batch=True`` nothing is remembered, so the retried
        call takes the next counter value (KAFKA-9965).
        """
        if not self.double_call_on_new_batch:
            super().on_new_batch(topic, prev_partition)

    def counter(self, topic: str) -> int:
        """How many times the counter of *topic* was taken (mod 2**32)."""
        with self._lock:
            return self._counters.get(topic, 0)

    def _reset(self, topic: Optional[str]) -> None:
        super()._reset(topic)
        if topic is None:
            self._counters.clear()
        else:
            self._counters.pop(topic, None)

    def _next(self, topic: str, parts: Sequence[int], avail: Sequence[int],
              size: Optional[int]) -> int:
        c = self._counters.get(topic, 0)
        self._counters[topic] = (c + 1) & _MASK32
        c &= 0x7FFFFFFF  # Utils.toPositive of the int32 counter
        if avail:
            return avail[c % len(avail)]
        # Java returns the index itself as the partition id (ids are 0..n-1).
        return sorted(parts)[c % len(parts)]

    def __repr__(self) -> str:
        return f"RoundRobin(double_call_on_new_batch={self.double_call_on_new_batch})"


class Sticky(KeylessStrategy):
    """KIP-480 sticky partitioning (Java ``StickyPartitionCache``, 2.4 - 3.2).

    A topic's keyless records stay on one partition until ``on_new_batch``
    reports that a record on it opens a new batch; the next call then picks
    a random available partition *different* from the old one (any available
    one if only one is; any partition, maybe the same, if none is).  An
    ``on_new_batch`` for a partition that is no longer the sticky one (another
    thread already moved on) is ignored, as in Java.

    Args:
        seed: int or ``random.Random`` for reproducible choices.
        avoid_unavailable: also re-pick when the sticky partition is no longer
            available (kafka-python's ``StickyPartitioner`` does; Java does not).

    Example:
        >>> s = Sticky(seed=1)
        >>> p = s.next_partition("t", [0, 1, 2])
        >>> all(s.next_partition("t", [0, 1, 2]) == p for _ in range(100))
        True
        >>> s.on_new_batch("t", p)
        >>> s.next_partition("t", [0, 1, 2]) != p
        True
    """

    def __init__(self, *, seed: Seed = None, avoid_unavailable: bool = False) -> None:
        super().__init__(seed=seed)
        self.avoid_unavailable = bool(avoid_unavailable)
        self._current: Dict[str, int] = {}
        self._rotate: Dict[str, int] = {}

    def on_new_batch(self, topic: str, prev_partition: int) -> None:
        """Move off *prev_partition* at the next call, if it still is the sticky partition."""
        with self._lock:
            if self._current.get(topic) == prev_partition:
                self._rotate[topic] = prev_partition

    def current(self, topic: str) -> Optional[int]:
        """The sticky partition of *topic*, or ``None`` before the first record."""
        with self._lock:
            return self._current.get(topic)

    def _reset(self, topic: Optional[str]) -> None:
        super()._reset(topic)
        if topic is None:
            self._current.clear()
            self._rotate.clear()
        else:
            self._current.pop(topic, None)
            self._rotate.pop(topic, None)

    def _pick(self, parts: Sequence[int], avail: Sequence[int], old: Optional[int]) -> int:
        if not avail:
            return self._random_fallback(parts)
        if len(avail) == 1:
            return avail[0]
        rng = self._rng
        while True:
            new = avail[rng.randrange(len(avail))]
            if new != old:
                return new

    def _next(self, topic: str, parts: Sequence[int], avail: Sequence[int],
              size: Optional[int]) -> int:
        cur = self._current.get(topic)
        if cur is None:
            cur = self._current[topic] = self._pick(parts, avail, None)
        elif topic in self._rotate:
            del self._rotate[topic]
            cur = self._current[topic] = self._pick(parts, avail, cur)
        elif self.avoid_unavailable and avail and cur not in avail:
            cur = self._current[topic] = self._pick(parts, avail, None)
        return cur

    def __repr__(self) -> str:
        return f"Sticky(avoid_unavailable={self.avoid_unavailable})"


class _TopicState:
    __slots__ = ("partition", "produced", "cft", "ids")

    def __init__(self) -> None:
        self.partition: Optional[int] = None
        self.produced = 0
        self.cft: Optional[List[int]] = None   # cumulative frequency table (adaptive)
        self.ids: Optional[List[int]] = None


class UniformSticky(KeylessStrategy):
    """KIP-794 uniform sticky partitioning (Java 3.3+ ``BuiltInPartitioner``).

    Keyless records stay on one partition until ``batch_size`` bytes were
    produced to it -- or ``2 * batch_size`` when you pass
    ``enable_switch=False`` (Java lets a partition run on while its batch is
    not ready to send, up to twice the batch size).  The next partition is
    random among the available ones (all when none is), and may be the same
    one.  With queue sizes reported through :meth:`update_queue_sizes`
    (``partitioner.adaptive.partitioning.enable``) the choice is weighted:
    a partition with a shorter queue is chosen more often, exactly as Java
    builds its cumulative frequency table.

    Args:
        batch_size: the producer's ``batch.size`` (Java default 16384).
        seed: int or ``random.Random`` for reproducible choices.

    Example:
        >>> us = UniformSticky(batch_size=1000, seed=5)
        >>> parts = [us.next_partition("t", range(8), record_size=100) for _ in range(30)]
        >>> [len(set(parts[i:i + 10])) for i in (0, 10, 20)]   # 10 records of 100 bytes each
        [1, 1, 1]
        >>> us.update_queue_sizes("t", {0: 0, 1: 3, 2: 1})     # weights 4 : 1 : 3
    """

    needs_record_size: ClassVar[bool] = True

    def __init__(self, batch_size: int = 16384, *, seed: Seed = None) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, int):
            raise TypeError(f"batch_size must be an int, not {type(batch_size).__name__}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1 (Java: stickyBatchSize >= 1), got {batch_size}")
        super().__init__(seed=seed)
        self.batch_size = batch_size
        self._topics: Dict[str, _TopicState] = {}

    def next_partition(self, topic: str, all_partitions: Partitions,
                       available_partitions: Optional[Partitions] = None, *,
                       record_size: Optional[int] = None, enable_switch: bool = True) -> int:
        """The partition of the next keyless record, counting its *record_size* bytes.

        Args:
            topic, all_partitions, available_partitions: as for every strategy.
            record_size: required; bytes the record adds to the batch.
            enable_switch: False while the current partition's batch is not
                ready to send (Java then switches only after ``2 * batch_size``).
        """
        if record_size is None:
            raise TypeError(
                "UniformSticky.next_partition() needs record_size= (the bytes the record adds to its batch; "
                "fastpart.keyless.record_size(key, value) estimates it)"
            )
        size = _check_size(record_size)
        parts, avail = _check(topic, all_partitions, available_partitions)
        with self._lock:
            retry = self._retry.get(topic)
            if retry:
                return retry.popleft()   # the retried record was counted already
            st = self._topics.get(topic)
            if st is None:
                st = self._topics[topic] = _TopicState()
            if st.partition is None:
                st.partition = self._choose(st, parts, avail)
                st.produced = 0
            part = st.partition
            st.produced += size
            if (st.produced >= self.batch_size and enable_switch) or st.produced >= 2 * self.batch_size:
                st.partition = self._choose(st, parts, avail)
                st.produced = 0
            return part

    def update_queue_sizes(self, topic: str, queue_sizes: Union[None, Mapping[int, int], Sequence[int]],
                           partition_ids: Optional[Sequence[int]] = None, *,
                           num_partitions: Optional[int] = None) -> None:
        """Report the producer's queue sizes (batches waiting per partition) for adaptive choice.

        Args:
            topic: the topic.
            queue_sizes: ``{partition: queued batches}`` for the partitions with
                a leader that may be chosen, or a sequence aligned with
                *partition_ids*; ``None`` turns weighting off.
            partition_ids: the partitions of a sequence *queue_sizes*.
            num_partitions: how many partitions the topic has (default: as many
                as reported).  Reporting fewer than that means the others are
                excluded; with all reported and all sizes equal, or fewer than
                2 partitions in the topic, the choice is uniform again (Java).

        Example:
            >>> us = UniformSticky(seed=0)
            >>> us.update_queue_sizes("t", [0, 3, 1], [0, 1, 2])
            >>> us.load_stats("t")
            ([4, 5, 8], [0, 1, 2])
        """
        if queue_sizes is None:
            cft = ids = None
        else:
            if isinstance(queue_sizes, Mapping):
                if partition_ids is not None:
                    raise TypeError("pass partition_ids only with a sequence of queue sizes, not with a mapping")
                ids = [int(p) for p in queue_sizes.keys()]
                sizes = [int(v) for v in queue_sizes.values()]
            else:
                sizes = [int(v) for v in queue_sizes]
                if partition_ids is None:
                    raise TypeError("a sequence of queue sizes needs partition_ids= (or pass a {partition: size} mapping)")
                ids = [int(p) for p in partition_ids]
                if len(ids) != len(sizes):
                    raise ValueError(
                        f"queue_sizes has {len(sizes)} entries but partition_ids has {len(ids)}: one size per partition"
                    )
            if any(s < 0 for s in sizes):
                raise ValueError("queue sizes must be >= 0")
            if len(set(ids)) != len(ids):
                raise ValueError("partition_ids has duplicates")
            total = len(sizes) if num_partitions is None else num_partitions
            if num_partitions is not None and num_partitions < len(sizes):
                raise ValueError(
                    f"num_partitions={num_partitions} but {len(sizes)} queue sizes were reported: "
                    "a topic cannot have fewer partitions than it reports queues for"
                )
            cft, ids = self._build_cft(sizes, ids, total)
        with self._lock:
            st = self._topics.get(topic)
            if st is None:
                st = self._topics[topic] = _TopicState()
            st.cft, st.ids = cft, ids

    def load_stats(self, topic: str) -> Optional[Tuple[List[int], List[int]]]:
        """The cumulative frequency table and partition ids in use, or ``None`` (uniform)."""
        with self._lock:
            st = self._topics.get(topic)
            if st is None or st.cft is None:
                return None
            return list(st.cft), list(st.ids or ())

    def produced_bytes(self, topic: str) -> int:
        """Bytes counted on the current partition of *topic* since the last switch."""
        with self._lock:
            st = self._topics.get(topic)
            return 0 if st is None else st.produced

    @staticmethod
    def _build_cft(sizes: List[int], ids: List[int], total: int
                   ) -> Tuple[Optional[List[int]], Optional[List[int]]]:
        # BuiltInPartitioner.updatePartitionLoadStats
        length = len(sizes)
        if length < 1 or total < 2:
            return None, None
        max_plus1 = max(sizes) + 1
        if all(s == sizes[0] for s in sizes) and length == total:
            return None, None
        cft: List[int] = []
        running = 0
        for s in sizes:
            running += max_plus1 - s
            cft.append(running)
        return cft, ids

    def _choose(self, st: _TopicState, parts: Sequence[int], avail: Sequence[int]) -> int:
        if st.cft is not None and st.ids:
            r = self._rng.randrange(st.cft[-1])
            return st.ids[bisect.bisect_right(st.cft, r)]
        if avail:
            return avail[self._rng.randrange(len(avail))]
        return self._random_fallback(parts)

    def _reset(self, topic: Optional[str]) -> None:
        super()._reset(topic)
        if topic is None:
            self._topics.clear()
        else:
            self._topics.pop(topic, None)

    def __repr__(self) -> str:
        return f"UniformSticky(batch_size={self.batch_size})"
