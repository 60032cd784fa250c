"""Load per partition: counts that grow batch by batch, and their summary.

Example:
    >>> c = Counts(3)
    >>> c.add([0, 0, 1, -1])
    >>> c.as_list(), c.stats().max_over_mean
    ([2, 1, 0], 2.0)
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Dict, List, Optional, Sequence

DENSE_LIMIT = 1 << 22
"""Up to this many partitions, counts are one dense array; above, a dict."""


def partitions_array(parts: Any, np: Any) -> Any:
    """``partition_many``'s int32 answer as a NumPy array (zero-copy), or as it is without NumPy."""
    if np is None:
        return parts
    return np.frombuffer(parts, dtype=np.int32) if not hasattr(parts, "dtype") else parts


@dataclass(frozen=True)
class LoadStats:
    """How evenly keys spread over ``num_partitions`` partitions.

    ``max_over_mean`` is the hottest partition's load over the mean (1.0 is
    perfectly even); ``cv`` the coefficient of variation (population standard
    deviation over the mean); ``empty`` the partitions with no key.
    """

    num_partitions: int
    total: int
    mean: float
    max: int
    min: int
    hottest: int
    max_over_mean: float
    cv: float
    empty: int

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)


class Counts:
    """Keys per partition for one partition count; ``-1`` answers are not counted."""

    def __init__(self, num_partitions: int) -> None:
        self.num_partitions = num_partitions
        self._dense: Optional[Any] = None
        self._sparse: Optional[Dict[int, int]] = None
        try:
            import numpy as np
        except ImportError:  # pragma: no cover - numpy comes with the cli/test extras
            np = None  # type: ignore[assignment]
        self._np = np
        if num_partitions <= DENSE_LIMIT:
            self._dense = np.zeros(num_partitions, dtype=np.int64) if np is not None else [0] * num_partitions
        else:
            self._sparse = {}

    def add(self, parts: Sequence[int]) -> None:
        """Count a batch of partitions (NumPy int array or a sequence of ints)."""
        np = self._np
        if np is not None:
            a = np.asarray(parts)
            a = a[a >= 0]
            if self._dense is not None:
                self._dense += np.bincount(a, minlength=self.num_partitions)[: self.num_partitions]
            else:
                assert self._sparse is not None
                u, c = np.unique(a, return_counts=True)
                for p, k in zip(u.tolist(), c.tolist()):
                    self._sparse[p] = self._sparse.get(p, 0) + k
            return
        target = self._dense if self._dense is not None else None
        for p in parts:
            if p >= 0:
                if target is not None:
                    target[p] += 1
                else:
                    assert self._sparse is not None
                    self._sparse[p] = self._sparse.get(p, 0) + 1

    def as_list(self) -> List[int]:
        """Counts indexed by partition (refused above 2**22 partitions)."""
        if self._dense is None:
            raise ValueError(f"{self.num_partitions} partitions are too many to list one by one")
        return [int(v) for v in self._dense]

    def nonzero(self) -> Dict[int, int]:
        """``{partition: count}`` for partitions with at least one key."""
        if self._dense is not None:
            return {i: int(v) for i, v in enumerate(self._dense) if v}
        assert self._sparse is not None
        return dict(self._sparse)

    def stats(self) -> LoadStats:
        """Mean, max, min, max/mean, coefficient of variation, empty partitions."""
        n = self.num_partitions
        d = self._dense
        if self._np is not None and d is not None and n:
            np = self._np
            total = int(d.sum())
            mean = total / n
            hot = int(np.argmax(d))
            cv = float(d.std()) / mean if mean else 0.0
            mx = int(d[hot])
            return LoadStats(n, total, mean, mx, int(d.min()), hot, mx / mean if mean else 0.0, cv,
                             int((d == 0).sum()))
        nz = self.nonzero()
        total = sum(nz.values())
        mean = total / n
        mx_p = max(nz, key=lambda p: nz[p]) if nz else 0
        mx = nz.get(mx_p, 0)
        mn = min(nz.values()) if len(nz) == n else 0
        sq = sum((v - mean) ** 2 for v in nz.values()) + (n - len(nz)) * mean * mean
        cv = math.sqrt(sq / n) / mean if mean else 0.0
        return LoadStats(n, total, mean, mx, mn, mx_p, mx / mean if mean else 0.0, cv, n - len(nz))
