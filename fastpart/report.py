"""Compatibility reports: where clients put the same keys on different partitions.

Both reports can be built at once (:func:`compare`, :func:`resize_impact`) or
incrementally over a stream of batches with an accumulator
(:class:`CompareAccumulator`, :class:`ResizeAccumulator`: ``.add(keys)`` per
batch, ``.result()`` at the end), which keeps only counters, per-partition
counts and a bounded sample of differing keys.  Each batch goes once through
``partition_many`` per strategy (the compiled core's batch path).

Example:
    >>> import fastpart
    >>> r = fastpart.compare([b"a", b"b", b"c", b"d"], 12, ["java", "librdkafka"])
    >>> pair = r.pair("java", "librdkafka")
    >>> pair.same + pair.different + pair.undetermined
    4
    >>> print(r.table())  # doctest: +NORMALIZE_WHITESPACE
    strategy A  strategy B  same  different  undetermined  agree
    java        librdkafka  0     4          0             0.0%
    >>> acc = CompareAccumulator(12, ["java", "sarama"], examples=1)
    >>> acc.add([b"a", b"b"]); acc.add([b"c", None])
    >>> r = acc.result(); r.num_keys, r.pair("java", "sarama").undetermined, len(r.pair("java", "sarama").examples)
    (4, 1, 1)
"""

from __future__ import annotations

import array
import itertools
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

from ._impl import core
from ._loads import Counts, LoadStats, partitions_array
from ._strategies import strategy_code

Example = Tuple[int, Optional[bytes], int, int]
"""(index in the input, key, partition under a, partition under b)."""


@dataclass
class PairReport:
    """How two strategies place the same keys.

    Attributes:
        a, b: the two strategy names.
        same: keys both put on the same partition.
        different: keys they put on different partitions.
        undetermined: keys where one of them leaves the choice to the client
            (-1: keyless records, empty keys under some clients, random).
        different_indices: input indices of the differing keys kept in
            :attr:`examples` (all of them for :func:`compare`; the first
            ``examples=N`` for an accumulator).
        examples: ``(index, key, partition under a, partition under b)``.
    """

    a: str
    b: str
    same: int
    different: int
    undetermined: int
    different_indices: "array.array[int]" = field(default_factory=lambda: array.array("q"))
    examples: List[Example] = field(default_factory=list)

    @property
    def agreement(self) -> float:
        """Share of key-determined records placed identically (1.0 if none)."""
        determined = self.same + self.different
        return self.same / determined if determined else 1.0


class Comparison:
    """The result of :func:`compare` or :meth:`CompareAccumulator.result`."""

    def __init__(self, num_keys: int, num_partitions: int, strategies: List[str],
                 counts: Dict[str, Counts], pairs: List[PairReport]) -> None:
        self.num_keys = num_keys
        self.num_partitions = num_partitions
        self.strategies = strategies
        self._counts = counts
        self.pairs = pairs

    def pair(self, a: str, b: str) -> PairReport:
        """The report for strategies *a* and *b* (either order)."""
        for p in self.pairs:
            if (p.a, p.b) in ((a, b), (b, a)):
                return p
        raise KeyError(f"no pair ({a!r}, {b!r}) in this comparison; strategies: {self.strategies}")

    def differing(self, a: str, b: str) -> Iterator[Example]:
        """Yield ``(index, key, partition under a, partition under b)`` for the kept differing keys."""
        p = self.pair(a, b)
        for i, key, x, y in p.examples:
            yield (i, key, x, y) if (p.a, p.b) == (a, b) else (i, key, y, x)

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
        return self._counts[strategy].as_list()

    def load(self, strategy: str) -> LoadStats:
        """Load per partition under *strategy*: max/mean, coefficient of variation, ..."""
        return self._counts[strategy].stats()

    def plot(self, path: str, *, title: Optional[str] = None) -> str:
        """Save a chart (PNG or SVG by the extension): load per partition under each
        strategy as deviation from the mean, and agreement between strategies as a
        matrix (needs matplotlib: ``pip install 'fastpart[plot]'``).  Returns *path*.
        """
        from ._plots import plot_comparison

        return plot_comparison(self, path, title=title)

    def to_dict(self, limit: Optional[int] = 100) -> Dict[str, Any]:
        """A JSON-ready dict; at most *limit* differing keys per pair (None: all kept)."""
        pairs = []
        for p in self.pairs:
            diffs = []
            for i, key, x, y in itertools.islice(p.examples, limit):
                diffs.append({"index": i, "key": None if key is None else key.decode("utf-8", "backslashreplace"),
                              "key_hex": None if key is None else key.hex(), p.a: x, p.b: y})
            pairs.append({"a": p.a, "b": p.b, "same": p.same, "different": p.different,
                          "undetermined": p.undetermined, "agreement": p.agreement,
                          "differing_keys": diffs, "differing_keys_truncated": p.different > len(diffs)})
        loads = {s: self._counts[s].stats().to_dict() for s in self.strategies}
        return {"keys": self.num_keys, "num_partitions": self.num_partitions,
                "strategies": self.strategies, "pairs": pairs, "load": loads}


def _np() -> Any:
    try:
        import numpy

        return numpy
    except ImportError:  # pragma: no cover - numpy comes with the cli/test extras
        return None


def _materialize(keys: Any) -> Any:
    """Keys partition_many can read more than once (an iterator is read once)."""
    if isinstance(keys, (list, tuple)) or hasattr(keys, "__len__"):
        return keys
    return list(keys)


def _key_at(keys: Any, i: int) -> Optional[bytes]:
    from ._inputs import key_bytes

    v = keys[i]
    if hasattr(v, "as_py"):
        v = v.as_py()
    return key_bytes(v)


class CompareAccumulator:
    """Build a :class:`Comparison` batch by batch, in bounded memory.

    Args:
        num_partitions: the topic's partition count.
        strategies: two or more strategy names.
        examples: differing keys to keep per pair (None: every one).
        on_different: called as ``on_different(a, b, index, key, pa, pb)`` for
            every differing key as its batch is added (to stream them all).
    """

    def __init__(self, num_partitions: int, strategies: Sequence[str], *, examples: Optional[int] = 20,
                 on_different: Optional[Callable[[str, str, int, Optional[bytes], int, int], None]] = None) -> None:
        if isinstance(strategies, str):
            raise TypeError("strategies must be a list of names, e.g. ['java', 'librdkafka']")
        names = list(dict.fromkeys(strategies))
        if len(names) < 2:
            raise ValueError(f"compare needs at least two different strategies, got {names}")
        for s in names:
            strategy_code(s)  # clear error for unknown names
        core.partition(b"", num_partitions)  # the core's error for a bad count
        if examples is not None and examples < 0:
            raise ValueError(f"examples must be 0 or more (or None for all), got {examples}")
        self.num_partitions = num_partitions
        self.strategies = names
        self.examples = examples
        self.on_different = on_different
        self.num_keys = 0
        self._counts = {s: Counts(num_partitions) for s in names}
        self._pairs = [PairReport(a, b, 0, 0, 0) for a, b in itertools.combinations(names, 2)]

    def add(self, keys: Any) -> None:
        """Add one batch (anything ``partition_many`` accepts)."""
        keys = _materialize(keys)
        np = _np()
        parts = {s: partitions_array(core.partition_many(keys, self.num_partitions, strategy=s), np)
                 for s in self.strategies}
        count = len(parts[self.strategies[0]])
        for s in self.strategies:
            self._counts[s].add(parts[s])
        for p in self._pairs:
            x, y = parts[p.a], parts[p.b]
            if np is not None:
                und = (x < 0) | (y < 0)
                diff = (x != y) & ~und
                n_und, n_diff = int(und.sum()), int(diff.sum())
                idx: Sequence[int] = np.flatnonzero(diff).tolist() if n_diff and self._wants(p, n_diff) else []
            else:
                n_und = n_diff = 0
                ix: List[int] = []
                for i, (u, v) in enumerate(zip(x, y)):
                    if u < 0 or v < 0:
                        n_und += 1
                    elif u != v:
                        n_diff += 1
                        ix.append(i)
                idx = ix
            p.undetermined += n_und
            p.different += n_diff
            p.same += count - n_und - n_diff
            self._keep(p, keys, idx, x, y)
        self.num_keys += count

    def _wants(self, p: PairReport, n: int) -> bool:
        return self.on_different is not None or self.examples is None or len(p.examples) < self.examples

    def _keep(self, p: PairReport, keys: Any, idx: Sequence[int], x: Any, y: Any) -> None:
        room = None if self.examples is None else max(0, self.examples - len(p.examples))
        for n, i in enumerate(idx):
            keep = room is None or n < room
            if not keep and self.on_different is None:
                break
            key = _key_at(keys, i)
            u, v = int(x[i]), int(y[i])
            if keep:
                p.examples.append((self.num_keys + i, key, u, v))
                p.different_indices.append(self.num_keys + i)
            if self.on_different is not None:
                self.on_different(p.a, p.b, self.num_keys + i, key, u, v)

    def result(self) -> Comparison:
        """The :class:`Comparison` of every batch added so far."""
        return Comparison(self.num_keys, self.num_partitions, list(self.strategies), self._counts,
                          list(self._pairs))


def compare(keys: Any, num_partitions: int, strategies: Sequence[str]) -> Comparison:
    """Compare how several client strategies place the same keys.

    Args:
        keys: any batch ``partition_many`` accepts.
        num_partitions: the topic's partition count.
        strategies: two or more names from ``fastpart.strategies()``.

    Returns:
        A :class:`Comparison`: for every pair of strategies, how many keys
        land on the same partition, and every key that does not.

    Example:
        >>> r = compare(["k1", "k2"], 6, ["java", "sarama"])
        >>> [(p.a, p.b) for p in r.pairs]
        [('java', 'sarama')]
    """
    acc = CompareAccumulator(num_partitions, strategies, examples=None)
    acc.add(keys)
    return acc.result()


@dataclass
class ResizeReport:
    """Keys that move when a topic grows (or shrinks) from ``old`` to ``new`` partitions.

    ``moved_out[p]``: keys leaving old partition p; ``moved_in[q]``: keys arriving
    at new partition q; ``flows``: ``{(p, q): keys}`` for moved keys, kept when
    both counts are at most 64 (None otherwise).
    """

    strategy: str
    old: int
    new: int
    moved: int
    stayed: int
    undetermined: int
    moved_indices: "array.array[int]"
    examples: List[Example] = field(default_factory=list)
    old_counts: Optional[Counts] = None
    new_counts: Optional[Counts] = None
    moved_out: Optional[Counts] = None
    moved_in: Optional[Counts] = None
    flows: Optional[Dict[Tuple[int, int], int]] = None

    @property
    def moved_share(self) -> float:
        total = self.moved + self.stayed
        return self.moved / total if total else 0.0

    def plot(self, path: str, *, title: Optional[str] = None) -> str:
        """Save a chart of where keys move (PNG or SVG; needs matplotlib).  Returns *path*."""
        from ._plots import plot_resize

        return plot_resize(self, path, title=title)


class ResizeAccumulator:
    """Build a :class:`ResizeReport` batch by batch (``examples``/``on_moved`` as in
    :class:`CompareAccumulator`)."""

    def __init__(self, old: int, new: int, *, strategy: str = "java", examples: Optional[int] = 20,
                 on_moved: Optional[Callable[[int, Optional[bytes], int, int], None]] = None) -> None:
        strategy_code(strategy)
        core.partition(b"", old)
        core.partition(b"", new)
        self.strategy, self.old, self.new = strategy, old, new
        self.examples = examples
        self.on_moved = on_moved
        self.num_keys = 0
        self.report = ResizeReport(strategy, old, new, 0, 0, 0, array.array("q"), [], Counts(old), Counts(new),
                                   Counts(old), Counts(new), {} if old <= 64 and new <= 64 else None)
        self._pair = PairReport("old", "new", 0, 0, 0)

    def add(self, keys: Any) -> None:
        """Add one batch (anything ``partition_many`` accepts)."""
        keys = _materialize(keys)
        np = _np()
        x = partitions_array(core.partition_many(keys, self.old, strategy=self.strategy), np)
        y = partitions_array(core.partition_many(keys, self.new, strategy=self.strategy), np)
        r = self.report
        assert r.old_counts and r.new_counts and r.moved_out and r.moved_in
        r.old_counts.add(x)
        r.new_counts.add(y)
        if np is not None:
            und = (x < 0) | (y < 0)
            mv = (x != y) & ~und
            xs, ys = x[mv], y[mv]
            idx: Sequence[int] = np.flatnonzero(mv).tolist() if (
                self.on_moved or self.examples is None or len(r.examples) < self.examples) else []
            n_und, n_mv = int(und.sum()), len(xs)
        else:
            sel = [i for i, (u, v) in enumerate(zip(x, y)) if u >= 0 and v >= 0 and u != v]
            n_und = sum(1 for u, v in zip(x, y) if u < 0 or v < 0)
            xs, ys, idx, n_mv = [x[i] for i in sel], [y[i] for i in sel], sel, len(sel)
        r.moved_out.add(xs)
        r.moved_in.add(ys)
        if r.flows is not None:
            if np is not None:
                cells = np.bincount(xs.astype(np.int64) * self.new + ys, minlength=self.old * self.new)
                pairs = [(int(c) // self.new, int(c) % self.new, int(cells[c])) for c in np.flatnonzero(cells)]
            else:
                pairs = [(u, v, 1) for u, v in zip(xs, ys)]
            for u, v, c in pairs:
                r.flows[(u, v)] = r.flows.get((u, v), 0) + c
        r.undetermined += n_und
        r.moved += n_mv
        r.stayed += len(x) - n_und - n_mv
        room = None if self.examples is None else max(0, self.examples - len(r.examples))
        for n, i in enumerate(idx):
            keep = room is None or n < room
            if not keep and self.on_moved is None:
                break
            key, u, v = _key_at(keys, i), int(x[i]), int(y[i])
            if keep:
                r.examples.append((self.num_keys + i, key, u, v))
                r.moved_indices.append(self.num_keys + i)
            if self.on_moved is not None:
                self.on_moved(self.num_keys + i, key, u, v)
        self.num_keys += len(x)

    def result(self) -> ResizeReport:
        """The report over every batch added so far."""
        return self.report


def resize_impact(keys: Any, old: int, new: int, *, strategy: str = "java") -> ResizeReport:
    """How many keys change partition when the partition count changes.

    Example:
        >>> r = resize_impact([b"a", b"b", b"c", b"d"], 12, 24)
        >>> r.moved + r.stayed
        4
    """
    acc = ResizeAccumulator(old, new, strategy=strategy, examples=None)
    acc.add(keys)
    return acc.result()
