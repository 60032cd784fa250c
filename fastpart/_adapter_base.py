"""The pieces the client adapters share (``fastpart.kafka_python``, ``fastpart.aiokafka``, ``fastpart.confluent``).

:class:`CallablePartitioner` is the ``partitioner(key_bytes, all_partitions,
available) -> partition`` callable that aiokafka and kafka-python 2.x call;
:func:`check_keyless` validates a ``keyless=`` argument.  The keyless
strategies themselves live in :mod:`fastpart.keyless`.

Example:
    >>> from fastpart.keyless import RoundRobin
    >>> p = CallablePartitioner("java", RoundRobin())
    >>> p(b"21", [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [])
    0
    >>> [p(None, [0, 1, 2], None) for _ in range(4)]
    [0, 1, 2, 0]
"""

from __future__ import annotations

from typing import Any, Callable, Optional, Sequence, cast

from ._impl import core as _core
from ._strategies import strategy_code
from .keyless import KeylessStrategy, RandomChoice, Seed, _check_size

__all__ = ["CallablePartitioner", "check_keyless"]


def check_keyless(keyless: object) -> KeylessStrategy:
    """*keyless* itself if it has the keyless protocol (``next_partition`` and ``on_new_batch``).

    Any object with both methods is accepted (it need not subclass
    :class:`fastpart.keyless.KeylessStrategy`).

    Example:
        >>> from fastpart.keyless import Sticky
        >>> s = Sticky()
        >>> check_keyless(s) is s
        True
        >>> check_keyless("round robin")
        Traceback (most recent call last):
        ...
        TypeError: keyless must be a keyless strategy (fastpart.RoundRobin(), fastpart.Sticky(), fastpart.UniformSticky(), fastpart.keyless.RandomChoice()), not str
    """
    if not (callable(getattr(keyless, "next_partition", None))
            and callable(getattr(keyless, "on_new_batch", None))):
        raise TypeError(
            "keyless must be a keyless strategy (fastpart.RoundRobin(), fastpart.Sticky(), "
            f"fastpart.UniformSticky(), fastpart.keyless.RandomChoice()), not {type(keyless).__name__}"
        )
    return cast(KeylessStrategy, keyless)


class CallablePartitioner:
    """The partitioner callable shared by aiokafka and kafka-python 2.x.

    ``partitioner(key_bytes, all_partitions, available) -> partition``: a
    keyed record indexes *all_partitions* as given (kafka-python 2.x passes
    them sorted, aiokafka as ``list(set)``), exactly as those clients'
    ``DefaultPartitioner`` do; a record the strategy leaves to the client
    (``None`` key, and e.g. an empty key under ``"librdkafka"``) goes to the
    keyless strategy.  These callables are not told the topic: the keyless
    state is kept under ``topic`` (one partitioner per topic keeps it per
    topic) and their ``record_size`` is a fixed estimate.

    Args:
        strategy: a name from ``fastpart.strategies()``.
        keyless: the strategy for keyless records (default: a
            :class:`fastpart.keyless.RandomChoice` seeded with *seed*).
        topic: the name keyless state is kept under.
        record_size: bytes per keyless record (``UniformSticky`` needs it).
        seed: seeds the default keyless choice.

    Example:
        >>> CallablePartitioner("librdkafka")(b"21", list(range(10)), None)
        2
    """

    def __init__(self, strategy: str = "java", keyless: Optional[KeylessStrategy] = None, *,
                 topic: str = "", record_size: Optional[int] = None, seed: Seed = None) -> None:
        strategy_code(strategy)  # a clear error for an unknown name, now rather than per record
        self.strategy = strategy
        self.keyless: KeylessStrategy = (
            check_keyless(keyless) if keyless is not None else RandomChoice(seed=seed)
        )
        self.topic = topic
        self.record_size = None if record_size is None else _check_size(record_size)
        self._partition: Callable[..., int] = _core.partition
        # Strategies that hash a None key (librdkafka murmur2, consistent, ...) never reach keyless.
        self._null_hashed: bool = _core.partition(None, 1, strategy=strategy) >= 0

    def __call__(self, key: Any, all_partitions: Sequence[int],
                 available: Optional[Sequence[int]] = None) -> int:
        """The partition for *key*: ``partitioner(key_bytes, all_partitions, available)``."""
        n = len(all_partitions)
        if n == 0:
            raise ValueError("all_partitions is empty: the topic has no partitions in metadata")
        p: int = self._partition(key, n, strategy=self.strategy)
        if p >= 0:
            return all_partitions[p]
        size = self.record_size
        if size is None and getattr(self.keyless, "needs_record_size", False):
            raise TypeError(
                f"{type(self.keyless).__name__} needs record sizes, which a "
                "(key_bytes, all_partitions, available) partitioner is not given: "
                "pass record_size=<estimated bytes per record>"
            )
        return self.keyless.next_partition(self.topic, all_partitions, available, record_size=size)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(strategy={self.strategy!r}, keyless={self.keyless!r})"
