"""The partition counts ``fastpart.confluent.Partitioner`` places records with.

:class:`MetadataCache` keeps one :class:`TopicInfo` per topic from a
``list_topics(topic, timeout)`` call.  The first use of a topic waits for its
fetch (threads asking for the same new topic share it); after that it never
waits for the cluster: a due refresh (every *refresh_interval* seconds, after
:meth:`MetadataCache.partition_error`) is queued for a background thread,
which exists only while there is work.  One lock, never held during a fetch.

Example:
    >>> from types import SimpleNamespace as NS
    >>> def list_topics(topic, timeout):
    ...     parts = {i: NS(leader=1 if i != 2 else -1, error=None) for i in range(4)}
    ...     return NS(topics={topic: NS(partitions=parts, error=None)})
    >>> cache = MetadataCache(list_topics)
    >>> info = cache.get("t")
    >>> info.partitions, info.available, cache.metadata_requests
    ([0, 1, 2, 3], [0, 1, 3], 1)
"""

from __future__ import annotations

import collections
import threading
import time
from concurrent.futures import Future
from typing import Any, Callable, Deque, Dict, List, Optional

__all__ = ["MetadataCache", "MetadataError", "TopicInfo"]


class MetadataError(LookupError):
    """The producer's metadata has no usable partitions for a topic."""


class TopicInfo:
    """One topic's partitions (ids ascending) and those with a leader, and when they were fetched."""

    __slots__ = ("partitions", "available", "fetched", "stale", "retry_at", "refreshing")

    def __init__(self, partitions: List[int], available: List[int], fetched: float) -> None:
        self.partitions = partitions
        self.available = available
        self.fetched = fetched
        self.stale = False
        self.retry_at = fetched  # after a failed refresh: keep using this until then
        self.refreshing = False  # a background refresh is queued or running


class MetadataCache:
    """Partition counts per topic from ``list_topics(topic, timeout)``; see the module.

    Args:
        list_topics: ``list_topics(topic, timeout) -> metadata`` with
            ``.topics[topic].partitions[id].leader/.error`` (confluent-kafka's
            ``ClusterMetadata``).
        refresh_interval: seconds before a topic is fetched again (``None``:
            only after :meth:`partition_error`).
        timeout: seconds a fetch may take.
        clock: the monotonic clock.
    """

    def __init__(self, list_topics: Callable[[str, float], Any], *,
                 refresh_interval: Optional[float] = 300.0, timeout: float = 10.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._list_topics = list_topics
        self.refresh_interval = refresh_interval
        self.timeout = timeout
        self.retry_backoff = 1.0  #: seconds between attempts after a failed refresh
        self.last_refresh_error: Optional[BaseException] = None  #: why the last background refresh failed
        self.metadata_requests = 0  #: how many times list_topics was called
        self._clock = clock
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._topics: Dict[str, TopicInfo] = {}
        self._first: Dict[str, "Future[TopicInfo]"] = {}   # first fetches in flight
        self._todo: Deque[str] = collections.deque()         # topics to refresh in the background
        self._worker: Optional[threading.Thread] = None

    def _fetch(self, topic: str) -> TopicInfo:
        """One ``list_topics`` call; never called with the lock held."""
        with self._lock:
            self.metadata_requests += 1
        md = self._list_topics(topic, self.timeout)
        tmd = (getattr(md, "topics", None) or {}).get(topic)
        if tmd is None:
            raise MetadataError(f"topic {topic!r} is not in the producer's metadata")
        parts = getattr(tmd, "partitions", None) or {}
        err = getattr(tmd, "error", None)
        if not parts:
            why = f": {err}" if err is not None else ""
            raise MetadataError(f"topic {topic!r} has no partitions in the producer's metadata{why}")
        ids = sorted(parts)
        available = [
            p for p in ids
            if getattr(parts[p], "leader", 0) != -1 and getattr(parts[p], "error", None) is None
        ]
        return TopicInfo(ids, available, self._clock())

    def get(self, topic: str) -> TopicInfo:
        """*topic*'s partitions: cached (a due refresh is queued, not waited for); the first use fetches."""
        if not isinstance(topic, str) or not topic:
            raise TypeError(f"topic must be a non-empty str, not {topic!r}")
        with self._lock:
            info = self._topics.get(topic)
            if info is not None:
                if self._due(info):
                    self._schedule(topic, info)
                return info
            pending = self._first.get(topic)
            mine: "Future[TopicInfo]" = Future()
            if pending is None:
                self._first[topic] = mine
        if pending is not None:   # another thread is fetching this topic: share its answer
            return pending.result()
        try:
            info = self._fetch(topic)
        except BaseException as exc:
            with self._lock:
                del self._first[topic]
            mine.set_exception(exc)
            raise
        with self._lock:
            self._topics[topic] = info
            del self._first[topic]
        mine.set_result(info)
        return info

    def _due(self, info: TopicInfo) -> bool:
        # with the lock held
        if info.refreshing:
            return False
        now = self._clock()
        if now < info.retry_at:
            return False
        return info.stale or (self.refresh_interval is not None and now - info.fetched >= self.refresh_interval)

    def _schedule(self, topic: str, info: TopicInfo) -> None:
        # with the lock held: queue a background refresh, starting the worker if none runs
        info.refreshing = True
        self._todo.append(topic)
        if self._worker is None:
            worker = threading.Thread(target=self._refresh_loop, name="fastpart-confluent-metadata",
                                      daemon=True)
            self._worker = worker
            worker.start()

    def _refresh_loop(self) -> None:
        # The worker: refreshes queued topics, then exits (a new one starts when needed).
        while True:
            with self._lock:
                if not self._todo:
                    self._worker = None
                    self._idle.notify_all()
                    return
                topic = self._todo.popleft()
            try:
                info = self._fetch(topic)
            except Exception as exc:
                # Broker unreachable, timeout, ...: keep placing records with what we
                # know, and try again after retry_backoff seconds.
                with self._lock:
                    self.last_refresh_error = exc
                    old = self._topics.get(topic)
                    if old is not None:
                        old.refreshing = False
                        old.retry_at = self._clock() + self.retry_backoff
            else:
                with self._lock:
                    self._topics[topic] = info

    def wait_for_refresh(self, timeout: Optional[float] = None) -> bool:
        """Wait until no background refresh is queued or running; False if *timeout* passed first.

        ``produce()`` never needs this; it is for tests and for code that
        wants the new partition count as soon as it is known.
        """
        with self._idle:
            return self._idle.wait_for(lambda: self._worker is None, timeout)

    def refresh(self, topic: str) -> TopicInfo:
        """Fetch *topic*'s metadata now and wait for it (raises if the fetch fails)."""
        if not isinstance(topic, str) or not topic:
            raise TypeError(f"topic must be a non-empty str, not {topic!r}")
        info = self._fetch(topic)
        with self._lock:
            self._topics[topic] = info
        return info

    def partition_error(self, topic: Optional[str] = None) -> None:
        """Report that a record of *topic* failed with a partition error (all topics: ``None``).

        The topic's metadata is fetched again in the background (at once, or
        after ``retry_backoff`` if the last attempt failed).
        """
        with self._lock:
            topics = list(self._topics) if topic is None else [topic]
            for name in topics:
                info = self._topics.get(name)
                if info is not None:
                    info.stale = True
                    if self._due(info):
                        self._schedule(name, info)
