"""The streaming engine behind :func:`fastpart.detect`: per-chunk counts in bounded memory.

Per chunk, every strategy runs once over all keys through ``partition_many``
(the native batch path); NumPy compares the answers with the observed
partitions.  What is kept between chunks is bounded: counts, the classes of
strategies that answered identically so far, up to ``examples`` unexplained
records, an order-preserving stride sample (at most ``sample_cap`` records)
of which strategies explained each keyed record, and per hash family a
uniform sample of 2048 records it does not explain (to test smaller
partition counts).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Sequence, Tuple

from . import _inputs
from ._impl import IMPLEMENTATION, core
from ._strategies import STRATEGIES, canonical_name

if TYPE_CHECKING:
    from .detect import Detection, Example, Resize, Segment

_SAMPLE_CAP = 1 << 20
_RESIZE_K = 2048 if IMPLEMENTATION == "native" else 128
_RESIZE_MAX_COUNT = 1024
_TABLE_ORDER = {name: i for i, name in enumerate(STRATEGIES)}


def _np() -> Any:
    try:
        import numpy
    except ImportError:
        raise ImportError("fastpart.detect and fastpart.skew need NumPy: pip install 'fastpart[numpy]'") from None
    return numpy


def take_keys(keys: Any, idx: Any) -> List[Optional[bytes]]:
    """The key bytes at positions *idx* of a batch, by the rules of ``partition_many``."""
    if isinstance(keys, (list, tuple)):
        return [_inputs.key_bytes(keys[int(i)], int(i)) for i in idx]
    if hasattr(keys, "dtype") and hasattr(keys, "__getitem__"):  # NumPy
        return list(_inputs.batch_keys(keys[idx]))
    if hasattr(keys, "take"):  # pyarrow Array / ChunkedArray
        np = _np()
        return list(_inputs.batch_keys(keys.take(np.asarray(idx, dtype=np.int64))))
    every = _inputs.batch_keys(keys)
    return [every[int(i)] for i in idx]


class _Stride:
    """An order-preserving sample: every ``stride``-th item, stride doubling past *cap*."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.stride = 1
        self.seen = 0
        self.cols: List[List[Any]] = []

    def add(self, *cols: Any) -> None:
        np = _np()
        m = len(cols[0])
        g = self.seen + np.arange(m, dtype=np.int64)
        self.seen += m
        keep = g % self.stride == 0
        if not self.cols:
            self.cols = [[] for _ in range(len(cols) + 1)]
        for store, col in zip(self.cols, (g,) + cols):
            store.append(col[keep])
        if sum(len(c) for c in self.cols[0]) > self.cap:
            self.stride *= 2
            merged = [np.concatenate(c) for c in self.cols]
            keep = merged[0] % self.stride == 0
            self.cols = [[c[keep]] for c in merged]

    def arrays(self) -> Optional[List[Any]]:
        if not self.cols:
            return None
        np = _np()
        return [np.concatenate(c) for c in self.cols[1:]]


class _Reservoir:
    """A uniform sample (bottom-k by random priority) of records a family does not explain."""

    def __init__(self, k: int) -> None:
        self.k = k
        self.prio: Any = None
        self.keys: List[Optional[bytes]] = []
        self.parts: Any = None

    def threshold(self) -> float:
        return float("inf") if self.prio is None or len(self.prio) < self.k else float(self.prio.max())

    def add(self, keys: Any, missed: Any, count: int, prio: Any, parts: Any) -> None:
        """Offer the records of a chunk where *missed* (*count* of them) is true."""
        np = _np()
        # priorities are uniform: a cut keeping about 4k of the candidates saves sorting them all
        cut = min(self.threshold(), 1.0 if count <= 4 * self.k else 4 * self.k / count)
        sel = np.flatnonzero(missed & (prio < cut))
        if len(sel) > self.k:
            sel = sel[np.argpartition(prio[sel], self.k - 1)[: self.k]]
        if not len(sel):
            return
        new_keys = take_keys(keys, sel)
        p = prio[sel] if self.prio is None else np.concatenate([self.prio, prio[sel]])
        ob = parts[sel] if self.parts is None else np.concatenate([self.parts, parts[sel]])
        ks = self.keys + new_keys
        if len(p) > self.k:
            keep = np.argpartition(p, self.k - 1)[: self.k]
            p, ob, ks = p[keep], ob[keep], [ks[i] for i in keep]
        self.prio, self.parts, self.keys = p, ob, ks


class DetectAccumulator:
    """Feed ``(keys, partitions[, offsets, timestamps])`` chunks; ``result()`` gives the report.

    Example:
        >>> import fastpart
        >>> from fastpart.detect import DetectAccumulator
        >>> acc = DetectAccumulator(6)
        >>> for chunk in ([b"a", b"b"], [b"c", b"d"]):
        ...     acc.add(chunk, list(fastpart.partition_many(chunk, 6, strategy="sarama")))
        >>> acc.add([None], [4])
        >>> acc.result().best
        'sarama:hash'
    """

    def __init__(self, num_partitions: int, *, strategies: Optional[Sequence[str]] = None,
                 examples: int = 10, sample_cap: int = _SAMPLE_CAP, seed: int = 0) -> None:
        np = _np()
        core.partition_many((), num_partitions)  # the core's own check of the count
        self.n = int(num_partitions)
        if self.n > 1 << 22:
            raise ValueError(f"{self.n} partitions: detect counts per partition and supports at most {1 << 22}")
        names = list(STRATEGIES) if strategies is None else list(dict.fromkeys(canonical_name(s) for s in strategies))
        if not names:
            raise ValueError("no strategy to evaluate")
        self.names = names
        self.explained = [0] * len(names)
        self.classes: List[List[int]] = [list(range(len(names)))]
        self.records = self.keyless = self.unexplained = 0
        self.max_examples = examples
        self.examples: List["Example"] = []
        self.keyless_counts = np.zeros(self.n, dtype=np.int64)
        self.order_kind: Optional[str] = None
        self.keyed_sample = _Stride(sample_cap)
        self.keyless_sample = _Stride(sample_cap)
        fams: Dict[int, int] = {}
        for j, name in enumerate(names):
            fam = STRATEGIES[name].code & 0xF
            if STRATEGIES[name].family != "random":
                fams.setdefault(fam, j)
        self.family_first = fams  # family -> index of its first strategy
        self.reservoirs = {fam: _Reservoir(_RESIZE_K) for fam in fams}
        self.rng = np.random.default_rng(seed)

    # ------------------------------------------------------------------ feeding
    def add(self, keys: Any, partitions: Any, *, offsets: Any = None, timestamps: Any = None) -> None:
        """Add one chunk: the keys and the partitions their records were found on."""
        np = _np()
        obs = np.asarray(partitions)
        if obs.ndim != 1 or (obs.size and obs.dtype.kind not in "iu"):
            raise TypeError(f"partitions must be a 1-D sequence of integers, got {obs.dtype} of shape {obs.shape}")
        m = len(obs)
        java = np.frombuffer(core.partition_many(keys, self.n), dtype=np.int32)
        if len(java) != m:
            raise ValueError(f"{len(java)} keys but {m} partitions: one partition per key is needed")
        if m == 0:
            return
        bad = np.flatnonzero((obs < 0) | (obs >= self.n))
        if len(bad):
            i = int(bad[0])
            raise ValueError(f"record #{self.records + i} is on partition {int(obs[i])}, outside 0..{self.n - 1}: "
                             f"is the partition count {self.n} right?")
        obs = obs.astype(np.int32)
        order, offs, kind = self._order(m, offsets, timestamps)
        keyed = java >= 0
        nkeyed = int(np.count_nonzero(keyed))
        mask = np.zeros(m, dtype=np.uint32)
        prio = self.rng.random(m)
        new_classes: List[List[int]] = []
        cls_of = {j: c for c in self.classes for j in c}
        splits: Dict[Tuple[int, ...], List[Tuple[Any, List[int]]]] = {}
        answers = _Answers(keys, self.n, java)
        for j, name in enumerate(self.names):
            p = answers.get(name)
            hit = (p == obs) & keyed
            hits = int(np.count_nonzero(hit))
            self.explained[j] += hits
            mask |= hit.astype(np.uint32) << np.uint32(j)
            subs = splits.setdefault(tuple(cls_of[j]), [])
            if len(cls_of[j]) == 1:  # alone already: nothing to compare
                subs.append((None, [j]))
            else:
                masked = np.where(keyed, p, -2)
                for rep, members in subs:
                    if np.array_equal(rep, masked):
                        members.append(j)
                        break
                else:
                    subs.append((masked, [j]))
            fam = STRATEGIES[name].code & 0xF
            if self.family_first.get(fam) == j:
                self.reservoirs[fam].add(keys, keyed & ~hit, nkeyed - hits, prio, obs)
        for subs in splits.values():
            new_classes.extend(members for _, members in subs)
        self.classes = sorted(new_classes)
        unexpl = np.flatnonzero(keyed & (mask == 0))
        self.unexplained += len(unexpl)
        room = self.max_examples - len(self.examples)
        if room > 0 and len(unexpl):
            from .detect import Example

            idx = unexpl[:room]
            for i, k in zip(idx, take_keys(keys, idx)):
                self.examples.append(Example(k, int(obs[i]), None if offs is None else int(offs[i])))
        nokey = ~keyed
        if m - nkeyed:
            self.keyless_counts += np.bincount(obs[nokey], minlength=self.n)
            if kind is not None:
                self.keyless_sample.add(order[nokey], obs[nokey])
        self.keyed_sample.add(order[keyed] if order is not None else np.zeros(nkeyed, np.int64),
                              obs[keyed], mask[keyed])
        self.records += m
        self.keyless += m - nkeyed

    def _order(self, m: int, offsets: Any, timestamps: Any) -> Tuple[Any, Any, Optional[str]]:
        np = _np()
        offs = None if offsets is None else np.asarray(offsets, dtype=np.int64)
        ts = None if timestamps is None else np.asarray(timestamps, dtype=np.int64)
        for what, a in (("offsets", offs), ("timestamps", ts)):
            if a is not None and len(a) != m:
                raise ValueError(f"{len(a)} {what} for {m} records: one per record is needed")
        kind = "timestamp" if ts is not None else "offset" if offs is not None else None
        if self.records and kind != self.order_kind:
            raise ValueError(f"every chunk must give the same order columns: first {self.order_kind}, now {kind}")
        self.order_kind = kind
        return (ts if ts is not None else offs), offs, kind

    # ------------------------------------------------------------------ result
    def result(self) -> "Detection":
        """The report over everything added so far."""
        counts = {name: self.explained[j] for j, name in enumerate(self.names)}
        groups = [[self.names[j] for j in c] for c in self.classes]
        seq = None
        if self.order_kind == "timestamp" or (self.order_kind == "offset" and self.keyless_sample.stride == 1):
            arrays = self.keyless_sample.arrays()  # offset runs need every keyless record: no sampling
            seq = None if arrays is None else (self.order_kind, arrays[0], arrays[1])
        return analyse(self.n, self.records, self.keyless, counts, groups, self.unexplained, self.examples,
                       self.keyless_counts, seq, self._mixed, self._resized)

    def _mixed(self, best: str, rank: Callable[[str], Any]) -> Tuple[Optional[str], Tuple["Segment", ...]]:
        from ._detect_mix import find_mix

        arrays = self.keyed_sample.arrays()
        if arrays is None:
            return None, ()
        order, parts, mask = arrays
        # each class keyed by its first index, members best-ranked first
        first = {c[0]: sorted(c, key=lambda j: rank(self.names[j])) for c in self.classes}
        jb = self.names.index(best)
        key = next(c[0] for c in self.classes if jb in c)  # identical answers: the same bit pattern
        return find_mix(self.names, first, key, order, parts, mask, self.order_kind)

    def _resized(self, best: str) -> Tuple["Resize", ...]:
        from ._detect_mix import find_resize

        j = self.names.index(best)
        res = self.reservoirs.get(STRATEGIES[best].code & 0xF)
        if res is None or res.parts is None:
            return ()
        keyed = self.records - self.keyless
        return find_resize(best, self.n, res.keys, res.parts, keyed - self.explained[j], keyed)


class _Answers:
    """Each strategy's partitions for one chunk, hashing once per hash family.

    Strategies of one family differ only in their null and empty-key
    policies.  Null keys never count (only keyed records are compared), so a
    strategy's answers are its family's first answers with the empty keys set
    to its own constant (``partition(b"", n, strategy=...)``); the empty keys
    are found with one extra pass of a strategy that answers -1 for them.
    """

    def __init__(self, keys: Any, n: int, java: Any) -> None:
        self.keys, self.n = keys, n
        self.base: Dict[int, Tuple[str, Any]] = {0: ("java", java)}
        self.empty: Any = None

    def _pass(self, name: str) -> Any:
        np = _np()
        return np.frombuffer(core.partition_many(self.keys, self.n, strategy=name), dtype=np.int32)

    def get(self, name: str) -> Any:
        np = _np()
        s = STRATEGIES[name]
        if s.family == "random":
            return np.full(len(self.base[0][1]), -1, dtype=np.int32)
        fam = s.code & 0xF
        if fam not in self.base:
            self.base[fam] = (name, self._pass(name))
            return self.base[fam][1]
        rep, p = self.base[fam]
        mine, theirs = core.partition(b"", self.n, strategy=name), core.partition(b"", self.n, strategy=rep)
        if mine == theirs:
            return p
        if self.empty is None:
            self.empty = (self._pass("librdkafka:consistent_random") == -1) & (self.base[0][1] >= 0)
        out = p.copy()
        out[self.empty] = mine
        return out


def analyse(n: int, records: int, keyless: int, counts: Dict[str, int], group_lists: Sequence[Sequence[str]],
            unexplained: int, examples: Sequence["Example"], keyless_partitions: Any, keyless_seq: Any,
            mix_fn: Optional[Callable[[str, Callable[[str], Any]], Tuple[Optional[str], Tuple["Segment", ...]]]],
            resize_fn: Optional[Callable[[str], Tuple["Resize", ...]]]) -> "Detection":
    """Assemble a :class:`~fastpart.detect.Detection` from counts (shared with ``report_from_counts``)."""
    from ._detect_mix import keyless_pattern
    from .detect import Detection, StrategyGroup, Unexplained

    keyed = records - keyless

    def share(c: int) -> float:
        return c / keyed if keyed else 0.0

    def rank(name: str) -> Tuple[int, int, int, int, int]:
        # ties (identical answers on keyed records): the keyless records decide
        # first -- all on the one partition where a strategy puts null keys
        # confirms it, spread over several contradicts it; then the client
        # default (null keys left to the client), the most clients, table order
        s = STRATEGIES[name]
        fixed = (s.code >> 8) & 0xF != 0
        known = keyless > 0 and keyless_partitions is not None
        at = known and fixed and _all_at(keyless_partitions, keyless, n, name)
        contradicted = fixed and known and not at
        return (-counts[name], int(contradicted), -int(at), int(fixed) - len(s.clients), _TABLE_ORDER[name])

    ranking = tuple((name, share(c)) for name, c in sorted(counts.items(), key=lambda kv: rank(kv[0])))
    groups = []
    for g in group_lists:
        members = tuple(sorted(g, key=rank))
        clients = tuple(dict.fromkeys(c for s in members for c in STRATEGIES[s].clients))
        groups.append(StrategyGroup(members, clients, counts[members[0]], share(counts[members[0]])))
    groups.sort(key=lambda g: rank(g.strategies[0]))
    best = ranking[0][0] if ranking and counts[ranking[0][0]] > 0 else None
    mixed: Optional[str] = None
    segments: Tuple[Segment, ...] = ()
    resized: Tuple[Resize, ...] = ()
    if best is not None:
        if resize_fn is not None:
            resized = resize_fn(best)
        if mix_fn is not None:
            mixed, segments = mix_fn(best, rank)
    return Detection(
        num_partitions=n, records=records, keyed=keyed, best=best, ranking=ranking, groups=tuple(groups),
        unexplained=Unexplained(unexplained, share(unexplained), tuple(examples)),
        keyless=keyless_pattern(n, records, keyless, keyless_partitions, keyless_seq),
        mixed=mixed, segments=segments, resized=resized)


def _all_at(per_partition: Any, count: int, n: int, name: str) -> bool:
    """Are the keyless records all where *name* puts null keys (partition 0 or the empty key's)?"""
    p = core.partition(None, n, strategy=name)
    return p >= 0 and int(per_partition[p]) == count
