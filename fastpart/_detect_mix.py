"""The findings of :func:`fastpart.detect` beyond the ranking: a change of
strategy (mixed data), a change of partition count, the keyless pattern."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence, Set, Tuple

from ._impl import core
from ._strategies import NULL_AS_EMPTY, NULL_ZERO, STRATEGIES

if TYPE_CHECKING:
    from .detect import Keyless, Resize, Segment

#: A change point must explain this share of the records either strategy explains.
_CLEAN_SPLIT = 0.97


def _split(va: Any, vb: Any) -> Tuple[int, int]:
    """Best split of a sequence into an A-part then a B-part: (index, records explained)."""
    import numpy as np

    ca = np.concatenate([[0], np.cumsum(va, dtype=np.int64)])
    cb = np.concatenate([[0], np.cumsum(vb, dtype=np.int64)])
    score = ca + (cb[-1] - cb)
    i = int(np.argmax(score))
    return i, int(score[i])


def find_mix(names: Sequence[str], classes: Dict[int, List[int]], best: int, order: Any, parts: Any,
             mask: Any, kind: Optional[str]) -> Tuple[Optional[str], Tuple["Segment", ...]]:
    """Is there a second strategy explaining what the best one leaves?  If the
    data is ordered (timestamps globally, offsets per partition), where is the change?"""
    import numpy as np

    from .detect import Segment

    bit_a = np.uint32(1 << best)
    has_a = (mask & bit_a) != 0
    left = int(np.count_nonzero(~has_a & (mask != 0))) + int(np.count_nonzero(mask == 0))
    cand = None
    for first in classes:
        if first == best or bit_a & np.uint32(1 << first):
            continue
        extra = int(np.count_nonzero(((mask & np.uint32(1 << first)) != 0) & ~has_a))
        if cand is None or extra > cand[1]:
            cand = (first, extra)
    total = len(mask)
    if cand is None or cand[1] < max(10, 0.01 * total) or cand[1] < 0.75 * left:
        return None, ()
    b = cand[0]
    a_name, b_name = names[classes[best][0]], names[classes[b][0]]
    has_b = (mask & np.uint32(1 << b)) != 0
    frac = cand[1] / total
    if kind is None:
        return (f"two strategies: {frac:.1%} of keyed records match {b_name} but not {a_name}; "
                "give offsets or timestamps to locate the change"), ()
    sel = has_a | has_b
    o, p, va, vb = order[sel], parts[sel], has_a[sel], has_b[sel]
    ga, gb = tuple(names[j] for j in classes[best]), tuple(names[j] for j in classes[b])
    if kind == "timestamp":
        idx = np.argsort(o, kind="stable")
        o, va, vb = o[idx], va[idx], vb[idx]
        i1, s1 = _split(va, vb)
        i2, s2 = _split(vb, va)
        first_g, second_g, i, s = (ga, gb, i1, s1) if s1 >= s2 else (gb, ga, i2, s2)
        if s < _CLEAN_SPLIT * len(o):
            return _interleaved(frac, a_name, b_name), ()
        fv, sv = (va, vb) if first_g == ga else (vb, va)
        segs = []
        if i > 0:
            segs.append(Segment(first_g, "timestamp", None, int(o[0]), int(o[i - 1]), i, float(fv[:i].mean())))
        if i < len(o):
            segs.append(Segment(second_g, "timestamp", None, int(o[i]), int(o[-1]), len(o) - i,
                                float(sv[i:].mean())))
        from ._detect_text import show_time

        return (f"migration: {segs[0].strategies[0]} until {show_time(segs[0].last)}, "
                f"{segs[-1].strategies[0]} from {show_time(segs[-1].first)}"), tuple(segs)
    # offsets: one change point per partition, the same direction everywhere
    idx = np.lexsort((o, p))
    o, p, va, vb = o[idx], p[idx], va[idx], vb[idx]
    bounds = np.flatnonzero(np.diff(p)) + 1
    pieces = list(zip(np.split(o, bounds), np.split(p, bounds), np.split(va, bounds), np.split(vb, bounds)))
    best_dir: Optional[Tuple[int, List[Tuple[int, int]]]] = None
    for d in (0, 1):
        splits = [_split(x, y) if d == 0 else _split(y, x) for _, _, x, y in pieces]
        score = sum(s for _, s in splits)
        if best_dir is None or score > sum(s for _, s in best_dir[1]):
            best_dir = (d, splits)
    assert best_dir is not None
    d, splits = best_dir
    if sum(s for _, s in splits) < _CLEAN_SPLIT * len(o):
        return _interleaved(frac, a_name, b_name), ()
    first_g, second_g = (ga, gb) if d == 0 else (gb, ga)
    segs = []
    for (oo, pp, x, y), (i, _) in zip(pieces, splits):
        fv, sv = (x, y) if d == 0 else (y, x)
        part = int(pp[0])
        if i > 0:
            segs.append(Segment(first_g, "offset", part, int(oo[0]), int(oo[i - 1]), i, float(fv[:i].mean())))
        if i < len(oo):
            segs.append(Segment(second_g, "offset", part, int(oo[i]), int(oo[-1]), len(oo) - i,
                                float(sv[i:].mean())))
    return (f"migration: {first_g[0]} first, then {second_g[0]} (a change offset per partition, "
            "below)"), tuple(segs)


def _interleaved(frac: float, a: str, b: str) -> str:
    return (f"two strategies interleaved: {frac:.1%} of keyed records match {b} but not {a}, "
            "with no single change point (two producers writing at the same time?)")


def _divisors(n: int) -> List[int]:
    out: Set[int] = set()
    i = 1
    while i * i <= n:
        if n % i == 0:
            out.update((i, n // i))
        i += 1
    return sorted(out)


def find_resize(best: str, n: int, keys: List[Optional[bytes]], parts: Any, unexplained: int,
                keyed: int) -> Tuple["Resize", ...]:
    """Test smaller partition counts on a sample of records *best* does not explain at *n*."""
    import numpy as np

    from .detect import Resize

    candidates = sorted((set(range(1, min(n, 1025))) | set(_divisors(n))) - {n}, reverse=True)
    found: List[Resize] = []
    remaining = np.ones(len(keys), dtype=bool)
    total = len(keys)
    for _ in range(3):
        ks = [k for k, r in zip(keys, remaining) if r]
        obs = parts[remaining]
        if len(ks) < 8:
            break
        best_m, best_hits = 0, 0
        for m in candidates:
            if m in {r.from_count for r in found}:
                continue
            hits = int(np.count_nonzero(np.frombuffer(core.partition_many(ks, m, strategy=best), np.int32) == obs))
            if hits > best_hits:
                best_m, best_hits = m, hits
        if best_m == 0 or best_hits < 8 or best_hits < 0.6 * len(ks) or best_hits / len(ks) < 3 / best_m:
            break
        hit = np.frombuffer(core.partition_many(ks, best_m, strategy=best), np.int32) == obs
        est = round(unexplained * best_hits / total)
        found.append(Resize(best, best_m, est, est / keyed if keyed else 0.0))
        where = np.flatnonzero(remaining)
        remaining[where[hit]] = False
    return tuple(found)


def _null_places(n: int, p: int) -> List[str]:
    out = []
    for s in STRATEGIES.values():
        null = (s.code >> 8) & 0xF
        if null == NULL_ZERO and p == 0:
            out.append(s.name)
        elif null == NULL_AS_EMPTY and core.partition(b"", n, strategy=s.name) == p:
            out.append(s.name)
    return out


def keyless_pattern(n: int, records: int, count: int, per_partition: Any, seq: Any) -> "Keyless":
    """Share and placement pattern of keyless records."""
    from .detect import Keyless

    share = count / records if records else 0.0
    if count == 0:
        return Keyless(0, share, "none", 0, 0.0)
    if per_partition is None:
        return Keyless(count, share, "spread (order unknown)", 0, 0.0, None, "per-partition counts not given")
    import numpy as np

    per = np.asarray(per_partition, dtype=np.int64)
    used = int(np.count_nonzero(per))
    top = int(per.argmax())
    mom = float(per.max() / (count / n))
    if per[top] >= 0.99 * count:
        who = _null_places(n, top)
        note = f"all on partition {top}" + (f", where {', '.join(who)} put null keys" if who else
                                            " (one sticky batch, or a partitioner that fixes null keys)")
        return Keyless(count, share, "single partition", used, mom, None, note)
    if seq is None or len(seq[1]) < 2 or (seq[0] == "offset" and share >= 0.9):
        why = ("offsets alone do not tell round robin from sticky batches when (almost) every record is keyless"
               if seq is not None and seq[0] == "offset" else "give offsets or timestamps to see the order")
        return Keyless(count, share, "spread (order unknown)", used, mom, None, f"on {used} of {n} partitions; {why}")
    kind, ts, parts = seq
    if kind == "offset":
        # per partition: keyless records in runs of consecutive offsets (sticky batches) or one
        # by one between keyed records (round robin)
        idx = np.lexsort((ts, parts))
        o, p = ts[idx], parts[idx]
        runs = 1 + int(np.count_nonzero((np.diff(p) != 0) | (np.diff(o) != 1)))
        mean_run = len(o) / runs
        if mean_run >= 1.5:
            return Keyless(count, share, "sticky runs", used, mom, mean_run,
                           f"keyless records sit in runs of consecutive offsets (mean {mean_run:.1f}): sticky batches")
        return Keyless(count, share, "round-robin-like", used, mom, mean_run,
                       "keyless records sit one by one between keyed records in every partition")
    idx = np.lexsort((parts, ts))
    ts, parts = ts[idx], parts[idx]
    runs = 1 + int(np.count_nonzero(np.diff(parts) != 0))
    # records in the same millisecond: on many partitions (round robin) or on one (a sticky batch)
    keys_tp = ts * (n + 1) + parts
    uniq_t, c_t = np.unique(ts, return_counts=True)
    d_t = np.unique(ts[np.concatenate([[True], np.diff(keys_tp) != 0])], return_counts=True)[1]
    multi = c_t >= 2
    if multi.any() and c_t[multi].sum() >= 0.5 * len(ts):
        spread = float(((d_t[multi] - 1) / (np.minimum(c_t[multi], n) - 1)).dot(c_t[multi]) / c_t[multi].sum())
    else:
        spread = float(np.count_nonzero(np.diff(parts) != 0) / (len(parts) - 1))
    mean_run = len(ts) / runs
    if spread >= 0.5:
        return Keyless(count, share, "round-robin-like", used, mom, mean_run,
                       f"consecutive keyless records go to different partitions ({spread:.0%} spread)")
    return Keyless(count, share, "sticky runs", used, mom, mean_run,
                   f"keyless records come in runs on one partition (sticky batches; {spread:.0%} spread)")
