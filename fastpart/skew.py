"""Is our topic balanced?  Load per partition from a sample of real traffic.

Give every record's key (repeats are the point: real traffic), optionally the
value sizes, and candidate partition counts; for each strategy and count
:func:`skew` reports records and bytes per partition, max/mean, the
coefficient of variation, the hottest keys and the partitions they pin, and a
plain recommendation.  A key whose own share of records exceeds ``limit / n``
keeps max/mean above ``limit`` at ``n`` partitions and at every larger count:
more partitions never fix it (salt the key instead).

Example:
    >>> import fastpart
    >>> keys = [b"hot"] * 300 + [f"k{i}".encode() for i in range(700)]
    >>> r = fastpart.skew(keys, [4, 12], max_over_mean=1.5)
    >>> r.load("java", 12).max_over_mean > 3
    True
    >>> [(h.key, h.share) for h in r.hot_keys[:1]]
    [(b'hot', 0.3)]
    >>> print(r.recommendation)  # doctest: +ELLIPSIS
    no candidate count keeps max/mean under 1.5 for java...

Keyless records (None) are spread by the client, so they are added evenly to
every partition.  Needs NumPy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from ._impl import core
from ._strategies import canonical_name

__all__ = ["HotKey", "Load", "SkewAccumulator", "SkewReport", "skew"]

_FP_MAX = 2147483647  # partition count giving (almost) the full 31-bit hash
_TRACK = 100_000      # distinct keys counted exactly before the rarest are pruned


@dataclass(frozen=True)
class HotKey:
    """A frequent key: its records, share of keyed records, and (in a Load) its partition."""

    key: bytes
    records: int
    share: float
    partition: int = -1


@dataclass(frozen=True)
class Load:
    """The load of one strategy at one partition count."""

    strategy: str
    num_partitions: int
    records: Tuple[float, ...]
    bytes: Optional[Tuple[float, ...]]
    max_over_mean: float
    cv: float
    bytes_max_over_mean: Optional[float]
    bytes_cv: Optional[float]
    hot_keys: Tuple[HotKey, ...]

    @property
    def hottest_partition(self) -> int:
        """The partition with the most records."""
        return max(range(self.num_partitions), key=self.records.__getitem__)


@dataclass(frozen=True)
class SkewReport:
    """The result of :func:`skew`."""

    records: int
    keyless: int
    distinct_keys: int
    distinct_exact: bool
    limit: float
    loads: Tuple[Load, ...]
    hot_keys: Tuple[HotKey, ...]
    recommendation: str
    unfixable: Tuple[HotKey, ...]

    def load(self, strategy: str, num_partitions: int) -> Load:
        """The :class:`Load` of *strategy* (name or alias) at *num_partitions*."""
        name = canonical_name(strategy)
        for x in self.loads:
            if x.strategy == name and x.num_partitions == num_partitions:
                return x
        raise KeyError(f"no load for {strategy!r} at {num_partitions} partitions in this report")

    def summary(self) -> str:
        """A plain-text table, the hot keys and the recommendation."""
        from ._detect_text import show_key

        rows = [("strategy", "partitions", "max/mean", "CV", "bytes max/mean", "hottest")]
        for x in self.loads:
            rows.append((x.strategy, str(x.num_partitions), f"{x.max_over_mean:.2f}", f"{x.cv:.3f}",
                         "-" if x.bytes_max_over_mean is None else f"{x.bytes_max_over_mean:.2f}",
                         str(x.hottest_partition)))
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        lines = [f"{self.records:,} records, {self.keyless:,} keyless, "
                 f"{'' if self.distinct_exact else 'at least '}{self.distinct_keys:,} distinct keys"]
        lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
        if self.hot_keys:
            lines.append("hottest keys (share of keyed records; partition per strategy and count):")
            for h in self.hot_keys:
                pins = ", ".join(f"{x.strategy}@{x.num_partitions}->{_pin(x, h.key)}" for x in self.loads[:4])
                lines.append(f"  {show_key(h.key)}: {h.records:,} ({h.share:.2%})  {pins}")
        lines.append(self.recommendation)
        return "\n".join(lines)

    def to_dict(self) -> Dict[str, Any]:
        """A JSON-ready dict (keys as UTF-8 text where possible, plus hex)."""
        def hk(h: HotKey) -> Dict[str, Any]:
            try:
                text: Optional[str] = h.key.decode("utf-8")
            except UnicodeDecodeError:
                text = None
            return {"key": text, "key_hex": h.key.hex(), "records": h.records, "share": h.share,
                    "partition": h.partition}

        return {
            "records": self.records, "keyless": self.keyless, "distinct_keys": self.distinct_keys,
            "distinct_exact": self.distinct_exact, "limit": self.limit,
            "loads": [{"strategy": x.strategy, "num_partitions": x.num_partitions,
                       "max_over_mean": x.max_over_mean, "cv": x.cv,
                       "bytes_max_over_mean": x.bytes_max_over_mean, "bytes_cv": x.bytes_cv,
                       "hottest_partition": x.hottest_partition, "records": list(x.records),
                       "bytes": None if x.bytes is None else list(x.bytes),
                       "hot_keys": [hk(h) for h in x.hot_keys]} for x in self.loads],
            "hot_keys": [hk(h) for h in self.hot_keys],
            "unfixable": [hk(h) for h in self.unfixable],
            "recommendation": self.recommendation,
        }

    def plot(self, path: str, *, title: Optional[str] = None) -> str:
        """Save a chart (PNG/SVG by extension) of the load per partition as
        deviation from the mean, one panel per strategy and count (matplotlib)."""
        from ._skew_plot import plot

        return plot(self, path, title=title)


def _pin(load: Load, key: bytes) -> int:
    for h in load.hot_keys:
        if h.key == key:
            return h.partition
    return int(core.partition(key, load.num_partitions, strategy=load.strategy))


def _stats(v: Any) -> Tuple[float, float]:
    mean = float(v.mean())
    if mean == 0:
        return 0.0, 0.0
    return float(v.max() / mean), float(v.std() / mean)


class SkewAccumulator:
    """Feed key chunks (and value sizes); ``result()`` gives the :class:`SkewReport`.

    Memory is bounded: counts per partition per (strategy, count), and exact
    per-key counts for up to 100,000 distinct keys (64-bit fingerprints from
    two hash families); past that the rarest are pruned, so the hot keys stay
    exact and the distinct count becomes a lower bound.
    """

    def __init__(self, num_partitions_candidates: Iterable[int], *, strategies: Sequence[str] = ("java",),
                 max_over_mean: float = 1.5, top: int = 10, with_bytes: bool = False) -> None:
        from ._detect_scan import _np

        np = _np()
        counts = sorted(set(int(n) for n in num_partitions_candidates))
        if not counts:
            raise ValueError("give at least one candidate partition count")
        for n in counts:
            core.partition_many((), n)  # the core's own check
            if n > 1 << 20:
                raise ValueError(f"{n} partitions: skew counts per partition and supports at most {1 << 20}")
        if not max_over_mean > 1:
            raise ValueError(f"the max/mean limit must be above 1, got {max_over_mean}")
        if top < 0:
            raise ValueError(f"top must be 0 or more, got {top}")
        self.counts = counts
        self.strategies = list(dict.fromkeys(canonical_name(s) for s in strategies))
        if not self.strategies:
            raise ValueError("give at least one strategy")
        self.limit = float(max_over_mean)
        self.top = top
        self.with_bytes = with_bytes
        self.rec = {(s, n): np.zeros(n, dtype=np.int64) for s in self.strategies for n in counts}
        self.byt = {(s, n): np.zeros(n, dtype=np.float64) for s in self.strategies for n in counts} \
            if with_bytes else {}
        self.records = self.keyless = 0
        self.keyless_bytes = 0.0
        self.fp_count: Dict[int, int] = {}
        self.fp_key: Dict[int, bytes] = {}
        self.pruned = False

    def add(self, keys: Any, value_sizes: Any = None) -> None:
        """Add one chunk of keys (and their value sizes, when counting bytes)."""
        from ._detect_scan import _np

        np = _np()
        murmur = np.frombuffer(core.partition_many(keys, _FP_MAX), dtype=np.int32)
        m = len(murmur)
        if self.with_bytes:
            if value_sizes is None:
                raise ValueError("value sizes were announced (with_bytes=True) but not given for this chunk")
            sizes = np.asarray(value_sizes, dtype=np.float64)
            if len(sizes) != m:
                raise ValueError(f"{len(sizes)} value sizes for {m} keys: one per key is needed")
        keyed = murmur >= 0
        crc = np.frombuffer(core.partition_many(keys, _FP_MAX, strategy="sarama:crc"), dtype=np.int32)
        fp = (murmur.astype(np.int64) << 31) | crc.astype(np.int64)
        for (s, n), acc in self.rec.items():
            p = np.frombuffer(core.partition_many(keys, n, strategy=s), dtype=np.int32)
            ok = p >= 0
            acc += np.bincount(p[ok], minlength=n)
            if self.with_bytes:
                self.byt[(s, n)] += np.bincount(p[ok], weights=sizes[ok], minlength=n)
        nk = int(m - np.count_nonzero(keyed))
        self.keyless += nk
        if self.with_bytes and nk:
            self.keyless_bytes += float(sizes[~keyed].sum())
        self.records += m
        self._count_keys(keys, fp, keyed)

    def _count_keys(self, keys: Any, fp: Any, keyed: Any) -> None:
        from ._detect_scan import _np

        np = _np()
        uniq, first, cnt = np.unique(fp[keyed], return_index=True, return_counts=True)
        where = np.flatnonzero(keyed)[first]
        counts = self.fp_count
        for f, c in zip(uniq.tolist(), cnt.tolist()):
            counts[f] = counts.get(f, 0) + c
        missing = [i for i, f in enumerate(uniq.tolist()) if f not in self.fp_key]
        # keep the bytes only for keys that may end up among the hottest
        if missing:
            floor = sorted(counts.values(), reverse=True)[min(len(counts), max(self.top, 1) * 20) - 1]
            want = [i for i in missing if counts[int(uniq[i])] >= floor]
            from ._detect_scan import take_keys

        for i, k in zip(want, take_keys(keys, where[want])):
                assert k is not None
                self.fp_key[int(uniq[i])] = k
        if len(counts) > 2 * _TRACK:
            keep = sorted(counts.items(), key=lambda kv: -kv[1])[:_TRACK]
            self.fp_count = dict(keep)
            self.fp_key = {f: self.fp_key[f] for f, _ in keep if f in self.fp_key}
            self.pruned = True

    def result(self) -> SkewReport:
        """The report over everything added so far."""
        from ._detect_scan import _np

        np = _np()
        keyed = self.records - self.keyless
        ranked = sorted(self.fp_count.items(), key=lambda kv: -kv[1])
        hot: List[HotKey] = []
        for f, c in ranked:
            if len(hot) >= self.top:
                break
            k = self.fp_key.get(f)
            if k is not None:
                hot.append(HotKey(k, c, c / keyed if keyed else 0.0))
        loads = []
        for (s, n), acc in self.rec.items():
            rec = acc + self.keyless / n
            mom, cv = _stats(rec)
            b = bmom = bcv = None
            if self.with_bytes:
                bv = self.byt[(s, n)] + self.keyless_bytes / n
                b = tuple(float(x) for x in bv)
                bmom, bcv = _stats(bv)
            pins = np.frombuffer(core.partition_many([h.key for h in hot], n, strategy=s), dtype=np.int32) \
                if hot else []
            loads.append(Load(s, n, tuple(float(x) for x in rec), b, mom, cv, bmom, bcv,
                              tuple(HotKey(h.key, h.records, h.share, int(p)) for h, p in zip(hot, pins))))
        unfixable = tuple(h for h in hot if h.share * self.counts[0] > self.limit)
        return SkewReport(self.records, self.keyless, len(self.fp_count), not self.pruned, self.limit,
                          tuple(loads), tuple(hot), _recommend(loads, self.limit, unfixable, self.strategies),
                          unfixable)


def _recommend(loads: Sequence[Load], limit: float, unfixable: Sequence[HotKey], strategies: Sequence[str]) -> str:
    from ._detect_text import show_key

    parts = []
    for s in strategies:
        ok = [x for x in loads if x.strategy == s and x.max_over_mean <= limit]
        if ok:
            best = min(ok, key=lambda x: x.num_partitions)
            parts.append(f"{s}: {best.num_partitions} partitions keep max/mean at {best.max_over_mean:.2f} "
                         f"(limit {limit:g})")
        else:
            worst = [x for x in loads if x.strategy == s]
            parts.append(f"no candidate count keeps max/mean under {limit:g} for {s} "
                         f"(best {min(x.max_over_mean for x in worst):.2f})")
    if unfixable:
        ks = ", ".join(f"{show_key(h.key)} ({h.share:.1%})" for h in unfixable[:5])
        n = min(x.num_partitions for x in loads)
        parts.append(f"no partition count fixes these hot keys: {ks}: each alone is more than "
                     f"{limit:g}/{n} of the records, and more partitions only lower the mean; "
                     "split them (salt the key) instead")
    return "; ".join(parts)


def skew(keys: Any, num_partitions_candidates: Iterable[int], *, strategies: Sequence[str] = ("java",),
         value_sizes: Any = None, max_over_mean: float = 1.5, top: int = 10) -> SkewReport:
    """Load per partition of a key sample for candidate counts and strategies.

    Args:
        keys: every record's key (repeats count), anything ``partition_many``
            accepts; None for keyless records.
        num_partitions_candidates: partition counts to evaluate, e.g. ``[12, 24, 48]``.
        strategies: strategy names (default Java's).
        value_sizes: optional value size in bytes per record, for the load in bytes.
        max_over_mean: the limit the recommendation aims under.
        top: how many hot keys to report.
    """
    acc = SkewAccumulator(num_partitions_candidates, strategies=strategies, max_over_mean=max_over_mean,
                          top=top, with_bytes=value_sizes is not None)
    acc.add(keys, value_sizes)
    return acc.result()
