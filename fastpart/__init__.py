"""fastpart: Kafka partitions exactly as the real clients compute them, fast.

The default strategy is the Java producer's, byte for byte::

    >>> import fastpart
    >>> fastpart.partition(b"21", 10)
    0
    >>> fastpart.partition("kafka", 12)
    4
    >>> list(fastpart.partition_many([b"a", "b", None], 12))
    [4, 8, -1]
    >>> fastpart.partition(b"21", 10, strategy="librdkafka")
    2

``fastpart.strategies()`` lists every client partitioner reproduced;
``fastpart.IMPLEMENTATION`` says whether the compiled core ("native") or its
pure-Python twin ("python") is in use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict

from . import serde
from ._grouping import Grouping
from ._impl import IMPLEMENTATION, core as _active  # not `_core`: that name is the extension's alone
from ._strategies import STRATEGIES as _STRATEGIES, Strategy, StrategyName
from ._version import __version__
from .report import Comparison, compare, resize_impact
from .detect import Detection, detect  # binds the functions over the submodules
from .skew import SkewReport, skew

if TYPE_CHECKING:  # type checkers read the pure twin, the specification of both cores
    from ._core_py import (
        crc32,
        fnv1a,
        group_by_partition,
        kafkajs_murmur2,
        murmur2,
        partition,
        partition_many,
        to_positive,
        xxh32,
    )
else:
    murmur2 = _active.murmur2
    kafkajs_murmur2 = _active.kafkajs_murmur2
    crc32 = _active.crc32
    fnv1a = _active.fnv1a
    xxh32 = _active.xxh32
    to_positive = _active.to_positive
    partition = _active.partition
    partition_many = _active.partition_many
    group_by_partition = _active.group_by_partition


def strategies() -> Dict[str, Strategy]:
    """Every strategy by its table name, with family, null/empty policy and clients.

    Aliases (``"confluent-kafka"``, ``"kafka-python"``, ...) are listed in
    each entry's ``aliases`` and are accepted wherever ``strategy=`` is.

    Example:
        >>> s = strategies()["librdkafka:consistent_random"]
        >>> s.family, s.empty_key, "confluent-kafka" in s.aliases
        ('crc32', '-1 (client decides)', True)
    """
    return dict(_STRATEGIES)


def __getattr__(name: str) -> Any:
    # Optional parts load on first use, so `import fastpart` stays light.
    if name in ("RoundRobin", "Sticky", "UniformSticky"):
        from . import keyless

        return getattr(keyless, name)
    raise AttributeError(f"module 'fastpart' has no attribute {name!r}")


__all__ = [
    "IMPLEMENTATION",
    "Comparison",
    "Detection",
    "Grouping",
    "RoundRobin",
    "Sticky",
    "SkewReport",
    "Strategy",
    "StrategyName",
    "UniformSticky",
    "__version__",
    "compare",
    "crc32",
    "detect",
    "fnv1a",
    "group_by_partition",
    "kafkajs_murmur2",
    "murmur2",
    "partition",
    "partition_many",
    "resize_impact",
    "serde",
    "skew",
    "strategies",
    "to_positive",
    "xxh32",
]
