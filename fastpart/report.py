"""Compatibility reports: where clients put the same keys on different partitions.

Example:
    >>> import fastpart
    >>> r = fastpart.compare([b"a", b"b", b"c", b"d"], 12, ["java", "librdkafka"])
    >>> pair = r.pair("java", "librdkafka")
    >>> pair.same + pair.different + pair.undetermined
    4
    >>> print(r.table())  # doctest: +NORMALIZE_WHITESPACE
    strategy A  strategy B  same  different  undetermined  agree
    java        librdkafka  0     4          0             0.0%
"""

from __future__ import annotations

import array
import itertools
from dataclasses import dataclass
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

from ._impl import core
from ._inputs import batch_keys
from ._strategies import strategy_code


@dataclass
class PairReport:
    """How two strategies place the same keys.

    Attributes:
        a, b: the two strategy names.
        same: keys both put on the same partition.
        different: keys they put on different partitions.
        undetermined: keys where one of them leaves the choice to the client
            (-1: keyless records, empty keys under some clients, random).
        different_indices: the indices of the differing keys, in input order.
    """

    a: str
    b: str
    same: int
    different: int
    undetermined: int
    different_indices: "array.array[int]"

    @property
    def agreement(self) -> float:
        """Share of key-determined records placed identically (1.0 if none)."""
        determined = self.same + self.different
        return self.same / determined if determined else 1.0


class Comparison:
    """The result of :func:`compare`: per-strategy partitions and every pair."""

    def __init__(self, keys: List[Optional[bytes]], num_partitions: int, strategies: List[str],
                 partitions: Dict[str, "array.array[int]"], pairs: List[PairReport]) -> None:
        self.keys = keys
        self.num_partitions = num_partitions
        self.strategies = strategies
        self.partitions = partitions
        self.pairs = pairs

    def pair(self, a: str, b: str) -> PairReport:
        """The report for strategies *a* and *b* (either order)."""
        for p in self.pairs:
            if (p.a, p.b) in ((a, b), (b, a)):
                return p
        raise KeyError(f"no pair ({a!r}, {b!r}) in this comparison; strategies: {self.strategies}")

    def differing(self, a: str, b: str) -> Iterator[Tuple[int, Optional[bytes], int, int]]:
        """Yield ``(index, key, partition under a, partition under b)`` for differing keys."""
        pa, pb = self.partitions[a], self.partitions[b]
        for i in self.pair(a, b).different_indices:
            yield i, self.keys[i], pa[i], pb[i]

    def table(self) -> str:
        """A plain-text table, one row per pair."""
        rows = [("strategy A", "strategy B", "same", "different", "undetermined", "agree")]
        for p in self.pairs:
            rows.append((p.a, p.b, str(p.same), str(p.different), str(p.undetermined),
                         f"{100 * p.agreement:.1f}%"))
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows)

    def counts(self, strategy: str) -> List[int]:
        """Keys per partition (index = partition) under *strategy*; -1 answers not counted.

        Example:
            >>> import fastpart
            >>> fastpart.compare([b"a", b"b", None], 3, ["java", "sarama"]).counts("java")
            [0, 1, 1]
        """
        if self.num_partitions > 1 << 20:
            raise ValueError(f"{self.num_partitions} partitions are too many to count one by one")
        out = [0] * self.num_partitions
        for p in self.partitions[strategy]:
            if p >= 0:
                out[p] += 1
        return out

    def plot(self, path: str, *, title: Optional[str] = None) -> str:
        """Save a chart of keys per partition under each strategy, and, per pair,
        the share of keys placed alike (needs matplotlib: ``pip install 'fastpart[plot]'``).

        Returns *path*.
        """
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            raise ImportError("plotting needs matplotlib: pip install 'fastpart[plot]'") from None
        if self.num_partitions > 4096:
            raise ValueError(f"cannot draw {self.num_partitions} partitions; plot a topic of at most 4096")
        fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(10, 7), gridspec_kw={"height_ratios": [3, 2]})
        width = 0.8 / len(self.strategies)
        xs = range(self.num_partitions)
        top = 0
        for j, s in enumerate(self.strategies):
            counts = self.counts(s)
            top = max(top, max(counts, default=0))
            ax1.bar([x + j * width for x in xs], counts, width=width, label=s)
        ax1.set_xlabel("partition")
        ax1.set_ylabel("keys")
        ax1.set_ylim(0, top * 1.3 + 1)  # room for the legend above the bars
        ax1.legend(loc="upper center", ncol=min(len(self.strategies), 4))
        ax1.set_title(title or f"{len(self.keys)} keys over {self.num_partitions} partitions")
        labels = [f"{p.a}\nvs {p.b}" for p in self.pairs]
        shares = [100 * p.agreement for p in self.pairs]
        ax2.barh(labels, shares)
        for y, v in enumerate(shares):
            ax2.text(v + 1, y, f"{v:.1f}%", va="center")
        ax2.set_xlim(0, 105)
        ax2.set_xlabel("% of keyed records on the same partition")
        fig.tight_layout()
        fig.savefig(path)
        plt.close(fig)
        return path

    def to_dict(self, limit: Optional[int] = 100) -> Dict[str, Any]:
        """A JSON-ready dict; at most *limit* differing keys per pair (None: all)."""
        pairs = []
        for p in self.pairs:
            diffs = []
            for i, key, x, y in itertools.islice(self.differing(p.a, p.b), limit):
                diffs.append({"index": i, "key_hex": None if key is None else key.hex(),
                              "key": None if key is None else key.decode("utf-8", "backslashreplace"),
                              p.a: x, p.b: y})
            pairs.append({"a": p.a, "b": p.b, "same": p.same, "different": p.different,
                          "undetermined": p.undetermined, "agreement": p.agreement,
                          "differing_keys": diffs, "differing_keys_truncated": p.different > len(diffs)})
        return {"keys": len(self.keys), "num_partitions": self.num_partitions,
                "strategies": self.strategies, "pairs": pairs}


def _pair(a: str, b: str, pa: "array.array[int]", pb: "array.array[int]") -> PairReport:
    same = different = undetermined = 0
    diff = array.array("q")
    for i, (x, y) in enumerate(zip(pa, pb)):
        if x < 0 or y < 0:
            undetermined += 1
        elif x == y:
            same += 1
        else:
            different += 1
            diff.append(i)
    return PairReport(a, b, same, different, undetermined, diff)


def compare(keys: Any, num_partitions: int, strategies: Sequence[str]) -> Comparison:
    """Compare how several client strategies place the same keys.

    Args:
        keys: any batch ``partition_many`` accepts.
        num_partitions: the topic's partition count.
        strategies: two or more names from ``fastpart.strategies()``.

    Returns:
        A :class:`Comparison`: for every pair of strategies, how many keys
        land on the same partition, and which keys do not.

    Example:
        >>> r = compare(["k1", "k2"], 6, ["java", "sarama"])
        >>> [(p.a, p.b) for p in r.pairs]
        [('java', 'sarama')]
    """
    if isinstance(strategies, str):
        raise TypeError("strategies must be a list of names, e.g. ['java', 'librdkafka']")
    names = list(dict.fromkeys(strategies))
    if len(names) < 2:
        raise ValueError(f"compare needs at least two different strategies, got {names}")
    for s in names:
        strategy_code(s)  # clear error for unknown names
    items = batch_keys(keys)
    parts = {s: core.partition_many(items, num_partitions, strategy=s) for s in names}
    pairs = [_pair(a, b, parts[a], parts[b]) for a, b in itertools.combinations(names, 2)]
    return Comparison(items, num_partitions, names, parts, pairs)


@dataclass
class ResizeReport:
    """Keys that move when a topic grows (or shrinks) from ``old`` to ``new`` partitions."""

    strategy: str
    old: int
    new: int
    moved: int
    stayed: int
    undetermined: int
    moved_indices: "array.array[int]"

    @property
    def moved_share(self) -> float:
        total = self.moved + self.stayed
        return self.moved / total if total else 0.0


def resize_impact(keys: Any, old: int, new: int, *, strategy: str = "java") -> ResizeReport:
    """How many keys change partition when the partition count changes.

    Example:
        >>> r = resize_impact([b"a", b"b", b"c", b"d"], 12, 24)
        >>> r.moved + r.stayed
        4
    """
    items = batch_keys(keys)
    a = core.partition_many(items, old, strategy=strategy)
    b = core.partition_many(items, new, strategy=strategy)
    rep = _pair("old", "new", a, b)
    return ResizeReport(strategy, old, new, rep.different, rep.same, rep.undetermined, rep.different_indices)
