"""The strategy table: every client partitioner fastpart reproduces.

A strategy is a hash family plus what the client does with an empty key
(``b""``) and with a null key (``None``).  Both cores receive a strategy as a
small integer code: ``family | empty_policy << 4 | null_policy << 8`` (the C
kernel in ``_kernels.h`` decodes the same layout).

This module is shared by the native core and the pure twin; it has no
dependencies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Literal, Tuple

# hash families -------------------------------------------------------------
H_MURMUR2 = 0       # (murmur2 & 0x7fffffff) % n  -- Java
H_CRC32 = 1         # crc32 % n                    -- librdkafka consistent
H_FNV1A_ABS = 2     # abs(i32(fnv1a)) % n          -- sarama default, librdkafka fnv1a
H_FNV1A_MASK = 3    # (fnv1a & 0x7fffffff) % n     -- sarama reference
H_FNV1A_U32 = 4     # fnv1a % n, unsigned          -- franz-go SaramaHasher
H_KAFKAJS = 5       # (kafkajs-legacy murmur2 & 0x7fffffff) % n
H_XXH32 = 6         # xxh32 % n                    -- Rust kafka crate
H_NONE = 7          # no key-determined answer

FAMILY_NAMES = {
    H_MURMUR2: "murmur2",
    H_CRC32: "crc32",
    H_FNV1A_ABS: "fnv1a-abs",
    H_FNV1A_MASK: "fnv1a-mask",
    H_FNV1A_U32: "fnv1a-unsigned",
    H_KAFKAJS: "kafkajs-legacy-murmur2",
    H_XXH32: "xxh32",
    H_NONE: "random",
}

# empty-key policies ----------------------------------------------------------
EMPTY_HASH = 0      # the empty key is hashed like any other
EMPTY_UNSET = 1     # -1: the client picks (random / sticky)
EMPTY_ZERO = 2      # partition 0

# null-key policies -----------------------------------------------------------
NULL_UNSET = 0      # -1: the client picks (random / sticky / round robin)
NULL_ZERO = 1       # partition 0
NULL_AS_EMPTY = 2   # hashed as if it were the empty key

_EMPTY_TEXT = {EMPTY_HASH: "hashed", EMPTY_UNSET: "-1 (client decides)", EMPTY_ZERO: "0"}
_NULL_TEXT = {NULL_UNSET: "-1 (client decides)", NULL_ZERO: "0", NULL_AS_EMPTY: "hashed as the empty key"}


@dataclass(frozen=True)
class Strategy:
    """One client partitioner, as ``fastpart.strategies()`` describes it.

    Example:
        >>> import fastpart
        >>> s = fastpart.strategies()["sarama:hash"]
        >>> s.family, s.null_key
        ('fnv1a-abs', '-1 (client decides)')
    """

    name: str
    family: str
    formula: str
    empty_key: str
    null_key: str
    clients: Tuple[str, ...]
    aliases: Tuple[str, ...] = field(default=())
    code: int = 0


_TABLE: List[Tuple[str, int, int, int, str, Tuple[str, ...], Tuple[str, ...]]] = [
    # name, family, empty, null, formula, aliases, clients
    ("java", H_MURMUR2, EMPTY_HASH, NULL_UNSET, "(murmur2(key) & 0x7fffffff) % n",
     ("kafka-python", "aiokafka", "kafkajs", "franz-go", "librdkafka:murmur2_random",
      "sarama:murmur2", "kafka-go:murmur2"),
     ("Java kafka-clients (every version, default partitioner)",
      "kafka-python DefaultPartitioner", "aiokafka DefaultPartitioner",
      "kafkajs 2.x DefaultPartitioner", "franz-go default (KafkaHasher murmur2)",
      "librdkafka partitioner=murmur2_random (confluent-kafka, node-rdkafka, ...)",
      "sarama NewMurmur2Partitioner", "kafka-go Murmur2Balancer",
      "Kafka Streams DefaultStreamPartitioner")),
    ("librdkafka:consistent_random", H_CRC32, EMPTY_UNSET, NULL_UNSET, "crc32(key) % n",
     ("librdkafka", "confluent-kafka"),
     ("librdkafka default partitioner=consistent_random",
      "confluent-kafka (Python, Go, .NET) default", "node-rdkafka default", "rust-rdkafka default")),
    ("librdkafka:consistent", H_CRC32, EMPTY_ZERO, NULL_ZERO, "crc32(key) % n",
     ("kafka-go:crc32-consistent",),
     ("librdkafka partitioner=consistent", "kafka-go CRC32Balancer{Consistent: true}")),
    ("sarama:crc", H_CRC32, EMPTY_HASH, NULL_UNSET, "crc32(key) % n", (),
     ("sarama NewConsistentCRCHashPartitioner",)),
    ("librdkafka:murmur2", H_MURMUR2, EMPTY_HASH, NULL_AS_EMPTY, "(murmur2(key) & 0x7fffffff) % n",
     ("quixstreams",),
     ("librdkafka partitioner=murmur2", "quixstreams (sets partitioner=murmur2)")),
    ("librdkafka:fnv1a", H_FNV1A_ABS, EMPTY_HASH, NULL_AS_EMPTY, "abs(int32(fnv1a(key))) % n", (),
     ("librdkafka partitioner=fnv1a",)),
    ("librdkafka:fnv1a_random", H_FNV1A_ABS, EMPTY_HASH, NULL_UNSET, "abs(int32(fnv1a(key))) % n", (),
     ("librdkafka partitioner=fnv1a_random",)),
    ("librdkafka:random", H_NONE, EMPTY_UNSET, NULL_UNSET, "random", (),
     ("librdkafka partitioner=random",)),
    ("sarama:hash", H_FNV1A_ABS, EMPTY_HASH, NULL_UNSET, "abs(int32(fnv1a(key))) % n",
     ("sarama", "kafka-go:hash", "franz-go:sarama-compat"),
     ("sarama default NewHashPartitioner", "kafka-go Hash",
      "franz-go StickyKeyPartitioner(SaramaCompatHasher(fnv32a))")),
    ("sarama:reference", H_FNV1A_MASK, EMPTY_HASH, NULL_UNSET, "(fnv1a(key) & 0x7fffffff) % n",
     ("kafka-go:reference-hash",),
     ("sarama NewReferenceHashPartitioner", "kafka-go ReferenceHash")),
    ("kafka-go:crc32", H_CRC32, EMPTY_UNSET, NULL_UNSET, "crc32(key) % n", (),
     ("kafka-go CRC32Balancer",)),
    ("kafka-go:murmur2-consistent", H_MURMUR2, EMPTY_HASH, NULL_AS_EMPTY,
     "(murmur2(key) & 0x7fffffff) % n", (),
     ("kafka-go Murmur2Balancer{Consistent: true}",)),
    ("kafkajs:legacy", H_KAFKAJS, EMPTY_HASH, NULL_UNSET,
     "(kafkajs_legacy_murmur2(key) & 0x7fffffff) % n", (),
     ("kafkajs 1.x default", "kafkajs 2.x Partitioners.LegacyPartitioner")),
    ("franz-go:sarama-hasher", H_FNV1A_U32, EMPTY_HASH, NULL_UNSET, "fnv1a(key) % n (unsigned)", (),
     ("franz-go StickyKeyPartitioner(SaramaHasher(fnv32a))",)),
    ("kafka-rust", H_XXH32, EMPTY_UNSET, NULL_UNSET, "xxh32(key) % n", (),
     ("Rust kafka crate DefaultPartitioner",)),
]


def _build() -> Tuple[Dict[str, Strategy], Dict[str, int]]:
    table: Dict[str, Strategy] = {}
    codes: Dict[str, int] = {}
    for name, fam, empty, null, formula, aliases, clients in _TABLE:
        code = fam | (empty << 4) | (null << 8)
        s = Strategy(
            name=name,
            family=FAMILY_NAMES[fam],
            formula=formula,
            empty_key=_EMPTY_TEXT[empty],
            null_key=_NULL_TEXT[null],
            clients=clients,
            aliases=aliases,
            code=code,
        )
        table[name] = s
        for n in (name,) + aliases:
            if n in codes:
                raise RuntimeError(f"duplicate strategy name {n!r}")
            codes[n] = code
    return table, codes


STRATEGIES, CODES = _build()

#: Every strategy name and alias accepted by ``strategy=`` (any ``str`` is
#: accepted at run time; type checkers and editors offer these).  A test
#: checks that this list is exactly ``CODES``.
StrategyName = Literal[
    "aiokafka",
    "confluent-kafka",
    "franz-go",
    "franz-go:sarama-compat",
    "franz-go:sarama-hasher",
    "java",
    "kafka-go:crc32",
    "kafka-go:crc32-consistent",
    "kafka-go:hash",
    "kafka-go:murmur2",
    "kafka-go:murmur2-consistent",
    "kafka-go:reference-hash",
    "kafka-python",
    "kafka-rust",
    "kafkajs",
    "kafkajs:legacy",
    "librdkafka",
    "librdkafka:consistent",
    "librdkafka:consistent_random",
    "librdkafka:fnv1a",
    "librdkafka:fnv1a_random",
    "librdkafka:murmur2",
    "librdkafka:murmur2_random",
    "librdkafka:random",
    "quixstreams",
    "sarama",
    "sarama:crc",
    "sarama:hash",
    "sarama:murmur2",
    "sarama:reference",
]
JAVA = CODES["java"]
assert JAVA == 0

_KNOWN = ", ".join(sorted(CODES))


def unknown_strategy(strategy: object) -> Exception:
    """The error for a strategy that is not a known name: the closest names suggested.

    Example:
        >>> str(unknown_strategy("jvaa")).split(";")[0]
        "unknown strategy 'jvaa' (did you mean 'java'?)"
    """
    if not isinstance(strategy, str):
        return TypeError(f"strategy must be a str naming a partitioner, not {type(strategy).__name__}; "
                         f"known strategies: {_KNOWN}")
    import difflib

    text = str.__str__(strategy)
    close = difflib.get_close_matches(text, CODES, n=3, cutoff=0.6)
    if not close:
        close = difflib.get_close_matches(text.lower(), CODES, n=3, cutoff=0.6)
    hint = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
    return ValueError(f"unknown strategy {text!r}{hint}; known strategies: {_KNOWN}")


def strategy_code(strategy: object) -> int:
    """Resolve a strategy name (or alias) to its code, or raise a clear error.

    Any ``str`` is accepted, subclasses included (``StrEnum`` members,
    ``numpy.str_``): the lookup uses its ``str`` value.

    Example:
        >>> strategy_code("java"), strategy_code("sarama") == CODES["sarama:hash"]
        (0, True)
    """
    if type(strategy) is not str:
        if not isinstance(strategy, str):
            raise unknown_strategy(strategy)
        strategy = str.__str__(strategy)
    try:
        return CODES[strategy]
    except KeyError:
        raise unknown_strategy(strategy) from None


def canonical_name(strategy: str) -> str:
    """The table name an alias stands for (``"confluent-kafka"`` -> ``"librdkafka:consistent_random"``)."""
    code = strategy_code(strategy)
    strategy = str.__str__(strategy)
    for s in STRATEGIES.values():
        if s.code == code and (strategy == s.name or strategy in s.aliases):
            return s.name
    raise AssertionError(strategy)  # pragma: no cover
