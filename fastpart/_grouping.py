"""The result of ``fastpart.group_by_partition``: keys grouped by partition."""

from __future__ import annotations

import array
from typing import Dict, Iterator, Tuple


class Grouping:
    """Key indices grouped by partition, CSR-style, stable within a partition.

    Attributes:
        partitions: ``array('i')``, the partition of every key (input order);
            -1 where the strategy leaves the choice to the client.
        order: ``array('q')``, key indices sorted by partition (stable).
        partition_ids: ``array('i')``, the distinct partitions, ascending.
        offsets: ``array('q')``, ``len(partition_ids) + 1`` bounds into
            ``order``: the keys of ``partition_ids[j]`` are
            ``order[offsets[j]:offsets[j + 1]]``.

    Example:
        >>> import fastpart
        >>> g = fastpart.group_by_partition([b"a", b"b", b"a", None], 3)
        >>> g.counts()
        {-1: 1, 1: 2, 2: 1}
        >>> [(p, list(ix)) for p, ix in g]
        [(-1, [3]), (1, [0, 2]), (2, [1])]
    """

    __slots__ = ("partitions", "order", "partition_ids", "offsets")

    def __init__(self, partitions: "array.array[int]", order: "array.array[int]",
                 partition_ids: "array.array[int]", offsets: "array.array[int]") -> None:
        self.partitions = partitions
        self.order = order
        self.partition_ids = partition_ids
        self.offsets = offsets

    @classmethod
    def from_sorted(cls, partitions: "array.array[int]", order: "array.array[int]") -> "Grouping":
        """Build from per-key partitions and a stable partition order."""
        ids = array.array("i")
        offsets = array.array("q", [0])
        prev = None
        for pos, i in enumerate(order):
            p = partitions[i]
            if p != prev:
                if prev is not None:
                    offsets.append(pos)
                ids.append(p)
                prev = p
        if len(order):
            offsets.append(len(order))
        return cls(partitions, order, ids, offsets)

    def __len__(self) -> int:
        """The number of distinct partitions."""
        return len(self.partition_ids)

    def __iter__(self) -> Iterator[Tuple[int, "array.array[int]"]]:
        """Yield ``(partition, key indices)`` in ascending partition order."""
        order, offsets = self.order, self.offsets
        for j, p in enumerate(self.partition_ids):
            yield p, order[offsets[j] : offsets[j + 1]]

    def counts(self) -> Dict[int, int]:
        """``{partition: number of keys}``."""
        o = self.offsets
        return {p: o[j + 1] - o[j] for j, p in enumerate(self.partition_ids)}

    def indices(self, partition: int) -> "array.array[int]":
        """The key indices (input order) that land on *partition*."""
        import bisect

        j = bisect.bisect_left(self.partition_ids, partition)
        if j < len(self.partition_ids) and self.partition_ids[j] == partition:
            return self.order[self.offsets[j] : self.offsets[j + 1]]
        return array.array("q")

    def __repr__(self) -> str:
        return f"<Grouping {len(self.partitions)} keys over {len(self)} partitions>"
