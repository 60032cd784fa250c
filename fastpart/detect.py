"""Which client wrote this topic?  The partitioner, from observed placements.

Given the partition of each record and its key, every strategy of
``fastpart.strategies()`` is evaluated over all keys (one
``partition_many`` call per strategy and chunk, the native batch path) and
ranked by how many keyed records it explains.  The report also says which
records no strategy explains (a custom partitioner or an explicit
``partition=``), how keyless records were spread, whether the data mixes two
strategies (a migration, located in time when offsets or timestamps are
given) and whether the topic had fewer partitions when some records were
written.

Example:
    >>> import fastpart
    >>> keys = [f"user-{i}".encode() for i in range(2000)]
    >>> parts = list(fastpart.partition_many(keys, 12))
    >>> r = fastpart.detect(keys, parts, 12)
    >>> r.best, r.ranking[0]
    ('java', ('java', 1.0))
    >>> r.matches("kafka-python"), r.matches("confluent-kafka")
    (True, False)
    >>> print(r.summary().splitlines()[1][:60])
    100.0% of 2,000 keyed records match java = Java kafka-client

Needs NumPy (``pip install 'fastpart[numpy]'``), imported on first use.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Sequence, Tuple

from ._strategies import STRATEGIES

if TYPE_CHECKING:
    from ._detect_scan import DetectAccumulator

__all__ = ["Detection", "DetectAccumulator", "Example", "Keyless", "Resize", "Segment",
           "StrategyGroup", "Unexplained", "detect", "report_from_counts"]


@dataclass(frozen=True)
class StrategyGroup:
    """Strategies that gave identical answers on every keyed record of the data."""

    strategies: Tuple[str, ...]
    clients: Tuple[str, ...]
    explained: int
    share: float

    def describe(self, *, max_clients: int = 4) -> str:
        """``java = Java kafka-clients ..., kafka-python ..., (and N more)``."""
        shown = list(self.clients[:max_clients])
        more = len(self.clients) - len(shown)
        tail = f" and {more} more" if more > 0 else ""
        return f"{self.strategies[0]} = {', '.join(shown)}{tail}"


@dataclass(frozen=True)
class Example:
    """A record no strategy explains: its key, observed partition and offset (or None)."""

    key: Optional[bytes]
    partition: int
    offset: Optional[int] = None


@dataclass(frozen=True)
class Unexplained:
    """Keyed records that no strategy places where they were found."""

    count: int
    share: float
    examples: Tuple[Example, ...] = ()


@dataclass(frozen=True)
class Keyless:
    """Records without a key: how many and how they were spread.

    ``pattern`` is one of ``"none"``, ``"single partition"``,
    ``"round-robin-like"``, ``"sticky runs"`` or ``"spread (order unknown)"``.
    """

    count: int
    share: float
    pattern: str
    partitions_used: int
    max_over_mean: float
    mean_run: Optional[float] = None
    note: str = ""


@dataclass(frozen=True)
class Segment:
    """A stretch of the data placed by one strategy group (mixed data).

    ``order`` is ``"timestamp"`` (``partition`` is None: one global change) or
    ``"offset"`` (one change per partition); ``first``/``last`` are the first
    and last timestamp/offset seen in the segment; ``records`` is counted in
    the bounded sample the accumulator keeps (all records below 1M).
    """

    strategies: Tuple[str, ...]
    order: str
    partition: Optional[int]
    first: int
    last: int
    records: int
    share: float


@dataclass(frozen=True)
class Resize:
    """Records that match *strategy* at a smaller partition count: written
    before the topic grew from *from_count* partitions."""

    strategy: str
    from_count: int
    records: int
    share: float


@dataclass(frozen=True)
class Detection:
    """The result of :func:`detect`.

    Attributes:
        num_partitions: the topic's partition count.
        records, keyed: records seen; records with a key.
        best: table name of the strategy explaining the most keyed records
            (None when no keyed record is explained).
        ranking: ``(strategy, share of keyed records explained)``, best first,
            over every strategy evaluated (random ones explain nothing).
        groups: strategies giving identical answers on this data, best first.
        unexplained: keyed records no strategy explains, with examples.
        keyless: share and placement pattern of keyless records.
        mixed: None, or a plain sentence about two strategies in the data.
        segments: the stretches before/after a change of strategy.
        resized: records matching the best strategy at a smaller count.
    """

    num_partitions: int
    records: int
    keyed: int
    best: Optional[str]
    ranking: Tuple[Tuple[str, float], ...]
    groups: Tuple[StrategyGroup, ...]
    unexplained: Unexplained
    keyless: Keyless
    mixed: Optional[str] = None
    segments: Tuple[Segment, ...] = ()
    resized: Tuple[Resize, ...] = ()

    @property
    def conclusive(self) -> bool:
        """False when no strategy explains clearly more than chance (``1/n`` of
        random placements match any strategy): a custom partitioner, explicit
        ``partition=`` values, or too few partitions to tell."""
        top = self.groups[0].share if self.groups and self.best is not None else 0.0
        return top >= 0.99 or (self.num_partitions >= 4 and top > 2 / self.num_partitions)

    def share(self, strategy: str) -> float:
        """Share of keyed records *strategy* (a name or alias) explains at the
        current count plus, for the best strategy, at an earlier count."""
        from ._strategies import canonical_name

        name = canonical_name(strategy)
        own = dict(self.ranking).get(name, 0.0)
        group = next((g for g in self.groups if name in g.strategies), None)
        grown = sum(r.share for r in self.resized if group is not None and r.strategy in group.strategies)
        return min(1.0, own + grown)

    def matches(self, strategy: str, min_share: float = 0.99) -> bool:
        """True when *strategy* explains at least *min_share* of the keyed
        records (counting records written before the topic grew) -- the
        ``--expect`` gate.  False when there is no keyed record."""
        return self.keyed > 0 and self.share(strategy) >= min_share

    def summary(self) -> str:
        """The report in plain words, one finding per line."""
        from ._detect_text import summary

        return summary(self)

    def to_dict(self) -> Dict[str, Any]:
        """A JSON-ready dict (keys as UTF-8 text where possible, else hex)."""
        d = asdict(self)
        d["conclusive"] = self.conclusive
        d["ranking"] = [{"strategy": s, "share": v} for s, v in self.ranking]
        d["unexplained"]["examples"] = [_example_json(e) for e in self.unexplained.examples]
        d["groups"] = [dict(asdict(g), description=g.describe(max_clients=99)) for g in self.groups]
        return d


def _example_json(e: Example) -> Dict[str, Any]:
    key = e.key
    text: Optional[str] = None
    if key is not None:
        try:
            text = key.decode("utf-8")
        except UnicodeDecodeError:
            text = None
    return {"key": text, "key_hex": None if key is None else key.hex(), "partition": e.partition,
            "offset": e.offset}


def detect(keys: Any, partitions: Any, num_partitions: int, *, offsets: Any = None,
           timestamps: Any = None, strategies: Optional[Sequence[str]] = None,
           examples: int = 10) -> Detection:
    """Rank every strategy by how many of the observed placements it explains.

    Args:
        keys: the records' keys, anything ``partition_many`` accepts (None for
            a keyless record).
        partitions: the partition each record was found on (same length).
        num_partitions: the topic's partition count now.
        offsets: optional offsets (order within a partition): lets a change of
            strategy be located per partition.
        timestamps: optional timestamps (ms): lets a change of strategy be
            located globally and keyless runs be measured.
        strategies: names to evaluate (default: every strategy).
        examples: how many unexplained records to keep as examples.

    For data that does not fit in memory, feed chunks to
    :class:`DetectAccumulator` and call ``.result()``.

    Example:
        >>> import fastpart
        >>> keys = [b"a", b"b", b"c", None]
        >>> r = fastpart.detect(keys, [0, 0, 2, 3], 4, strategies=["java", "sarama"])
        >>> r.best, r.ranking, r.keyless.count
        ('java', (('java', 1.0), ('sarama:hash', 0.6666666666666666)), 1)
    """
    from ._detect_scan import DetectAccumulator

    acc = DetectAccumulator(num_partitions, strategies=strategies, examples=examples)
    acc.add(keys, partitions, offsets=offsets, timestamps=timestamps)
    return acc.result()


def report_from_counts(num_partitions: int, records: int, keyless: int, explained: Mapping[str, int], *,
                       unexplained: Optional[int] = None,
                       examples_unexplained: Sequence[Tuple[Optional[bytes], int]] = (),
                       keyless_partitions: Optional[Sequence[int]] = None,
                       groups: Optional[Sequence[Sequence[str]]] = None) -> Detection:
    """A :class:`Detection` from counts aggregated elsewhere (e.g. in Spark).

    Args:
        num_partitions: the topic's partition count.
        records: all records; keyless: records without a key.
        explained: keyed records each strategy explains, by name or alias
            (strategies left out count as not evaluated).
        unexplained: keyed records no strategy explains; when None it is
            estimated as ``keyed - max(explained)``, an upper bound.
        examples_unexplained: ``(key, observed partition)`` pairs.
        keyless_partitions: keyless records per partition (index =
            partition), for the placement pattern.
        groups: strategies known to give identical answers on the data;
            by default strategies of the same hash family with equal counts
            are grouped.

    Example:
        >>> r = report_from_counts(12, 100, 10, {"java": 90, "librdkafka": 7}, unexplained=0)
        >>> r.best, r.ranking[0], r.keyless.share
        ('java', ('java', 1.0), 0.1)
    """
    from ._detect_scan import analyse
    from ._strategies import canonical_name

    counts = {canonical_name(k): int(v) for k, v in explained.items()}
    keyed = records - keyless
    if keyed < 0 or any(v < 0 or v > keyed for v in counts.values()):
        raise ValueError(f"inconsistent counts: {records} records, {keyless} keyless, explained {counts}")
    if groups is None:
        by: Dict[Tuple[str, int], List[str]] = {}
        for name in counts:
            by.setdefault((STRATEGIES[name].family, counts[name]), []).append(name)
        group_lists = list(by.values())
    else:
        group_lists = [[canonical_name(s) for s in g] for g in groups]
    if unexplained is None:
        unexplained = keyed - max(counts.values(), default=0)
    return analyse(num_partitions, records, keyless, counts, group_lists, unexplained,
                   [Example(k, p) for k, p in examples_unexplained], keyless_partitions, None, None, None)


def __getattr__(name: str) -> Any:
    # the streaming engine loads on first use, so `import fastpart` stays light
    if name == "DetectAccumulator":
        from ._detect_scan import DetectAccumulator

        return DetectAccumulator
    raise AttributeError(f"module 'fastpart.detect' has no attribute {name!r}")
