"""What a librdkafka ``partitioner`` setting means, compared with Java (``fastpart.confluent.explain``).

Pure data and string work: needs no Kafka client, so ``fastpart.confluent``
re-exports it and the CLI may use it without confluent-kafka.

Example:
    >>> explain({"partitioner": "murmur2"}).agrees_with_java
    False
    >>> explain({"partitioner": "murmur2"}).null_key
    '275646681 % n: every None key on one partition'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Mapping, Tuple

from ._strategies import canonical_name

__all__ = ["Explanation", "explain"]

#: librdkafka ``partitioner`` value -> (fastpart strategy, keyed, empty key, None key)
_PARTITIONERS: Dict[str, Tuple[str, str, str, str]] = {
    "random": ("librdkafka:random", "random (the key is ignored)", "random", "random (sticky)"),
    "consistent": ("librdkafka:consistent", "crc32(key) % n", "always partition 0", "always partition 0"),
    "consistent_random": ("librdkafka:consistent_random", "crc32(key) % n", "random (sticky)", "random (sticky)"),
    "murmur2": ("librdkafka:murmur2", "(murmur2(key) & 0x7fffffff) % n, as Java",
                "275646681 % n, as Java", "275646681 % n: every None key on one partition"),
    "murmur2_random": ("java", "(murmur2(key) & 0x7fffffff) % n, as Java",
                       "275646681 % n, as Java", "random (sticky)"),
    "fnv1a": ("librdkafka:fnv1a", "abs(int32(fnv1a(key))) % n", "2128831035 % n", "2128831035 % n"),
    "fnv1a_random": ("librdkafka:fnv1a_random", "abs(int32(fnv1a(key))) % n", "2128831035 % n",
                     "random (sticky)"),
}
_VALID = ", ".join(_PARTITIONERS)
_JAVA_NULL = "Java: sticky / uniform sticky, never value for value"


@dataclass(frozen=True)
class Explanation:
    """What a librdkafka ``partitioner`` setting means, compared with Java.

    Attributes:
        partitioner: the librdkafka partitioner in effect.
        source: where it came from: ``"default"``, ``"partitioner"`` or
            ``"default.topic.config"``.
        strategy: the fastpart strategy that reproduces it.
        keyed, empty_key, null_key: what it does with a non-empty key, an
            empty key (``b""``) and a ``None`` key.
        keyed_matches_java, empty_key_matches_java: the same partition as
            Java for every such key.
        null_key_matches_java: ``None`` keys are left to the client's
            random / sticky choice, as in Java (never value for value).
    """

    partitioner: str
    source: str
    strategy: str
    keyed: str
    empty_key: str
    null_key: str
    keyed_matches_java: bool
    empty_key_matches_java: bool
    null_key_matches_java: bool

    @property
    def agrees_with_java(self) -> bool:
        """True when keyed, empty and ``None`` keys all behave as in Java."""
        return self.keyed_matches_java and self.empty_key_matches_java and self.null_key_matches_java

    def __str__(self) -> str:
        def mark(ok: bool) -> str:
            return "same as Java" if ok else "differs from Java"

        origin = "librdkafka default" if self.source == "default" else f"set by {self.source!r}"
        lines = [
            f"partitioner={self.partitioner} ({origin}) -> fastpart strategy {self.strategy!r}",
            f"  keyed records: {self.keyed} -- {mark(self.keyed_matches_java)}",
            f"  empty key b'': {self.empty_key} -- {mark(self.empty_key_matches_java)}",
            f"  None key:      {self.null_key} -- "
            + ("like Java: spread by the client" if self.null_key_matches_java else "differs from Java")
            + f" ({_JAVA_NULL})",
        ]
        if not self.agrees_with_java:
            lines.append(
                "  to match Java: set 'partitioner': 'murmur2_random', or pass "
                "partition=fastpart.confluent.Partitioner(producer).partition(topic, key)"
            )
        return "\n".join(lines)


def explain(config: Mapping[str, Any]) -> Explanation:
    """Which fastpart strategy a librdkafka config implies, and how it compares with Java.

    Args:
        config: a confluent-kafka / librdkafka configuration dict.  The
            ``partitioner`` property may also sit in ``default.topic.config``,
            which wins when both are set (as confluent-kafka applies it).

    Raises:
        ValueError: for a partitioner librdkafka does not know (the error lists
            the valid ones).

    Example:
        >>> e = explain({"bootstrap.servers": "localhost:9092"})
        >>> e.partitioner, e.strategy, e.keyed_matches_java
        ('consistent_random', 'librdkafka:consistent_random', False)
        >>> print(explain({"default.topic.config": {"partitioner": "murmur2_random"}}))
        partitioner=murmur2_random (set by 'default.topic.config') -> fastpart strategy 'java'
          keyed records: (murmur2(key) & 0x7fffffff) % n, as Java -- same as Java
          empty key b'': 275646681 % n, as Java -- same as Java
          None key:      random (sticky) -- like Java: spread by the client (Java: sticky / uniform sticky, never value for value)
    """
    if not isinstance(config, Mapping):
        raise TypeError(f"config must be a dict of librdkafka properties, not {type(config).__name__}")
    name: Any = "consistent_random"
    source = "default"
    if "partitioner" in config:
        name, source = config["partitioner"], "partitioner"
    topic_conf = config.get("default.topic.config")
    if topic_conf is not None:
        if not isinstance(topic_conf, Mapping):
            raise TypeError(
                f"'default.topic.config' must be a dict of topic properties, not {type(topic_conf).__name__}"
            )
        if "partitioner" in topic_conf:
            name, source = topic_conf["partitioner"], "default.topic.config"
    if not isinstance(name, str) or name not in _PARTITIONERS:
        raise ValueError(
            f"invalid librdkafka partitioner {name!r} (from {source!r}); valid values: {_VALID}"
        )
    strategy, keyed, empty, null = _PARTITIONERS[name]
    strategy = canonical_name(strategy)
    return Explanation(
        partitioner=name,
        source=source,
        strategy=strategy,
        keyed=keyed,
        empty_key=empty,
        null_key=null,
        keyed_matches_java=name in ("murmur2", "murmur2_random"),
        empty_key_matches_java=name in ("murmur2", "murmur2_random"),
        null_key_matches_java=null.startswith("random"),
    )
