"""Checks shared by the Go, Node and Rust conformance suites.

Each suite runs its harness on the corpus (``run_client``), then compares every
record with fastpart (``check_partitions``, ``check_hash``).  fastpart's answers
are computed once per core, count and strategy-table entry and shared across the
suites (the pure core takes seconds per pass over the corpus).
"""

from __future__ import annotations

import array
from collections import defaultdict
from typing import Any, Dict, List, NamedTuple, Optional, Sequence, Tuple

import pytest

from conformance_support import (
    PARTITION_COUNTS,
    generate_corpus,
    mismatches,
    parse_harness_output,
    write_corpus,
)

class ClientRuns(NamedTuple):
    keys: List[Optional[bytes]]
    runs: Tuple[Dict[Tuple[str, int], List[Optional[int]]], ...]
    stderr: str


_FASTPART: Dict[Tuple[str, int, int], "array.array[int]"] = {}

#: keys re-checked when a strategy name reuses answers computed under another name
SAMPLE = 5000


def _impl_name(impl: Any) -> str:
    return getattr(impl, "__name__", repr(impl))


def _strategy_code(strategy: str) -> int:
    import fastpart

    for name, entry in fastpart.strategies().items():
        if strategy == name or strategy in entry.aliases:
            return entry.code
    raise AssertionError(f"fastpart.strategies() has no strategy or alias {strategy!r}")


def _fastpart(impl: Any, keys: Sequence[Optional[bytes]], strategy: str, n: int) -> "array.array[int]":
    """``impl.partition_many(keys, n, strategy=strategy)``, computed once per core, count
    and strategy table entry: names that fastpart resolves to the same entry (aliases,
    e.g. ``sarama:murmur2`` = ``java``) share the pass over the corpus (the pure core
    takes seconds per pass), and each further name is checked against it on the first
    SAMPLE keys (which include the empty and the null key)."""
    key = (_impl_name(impl), _strategy_code(strategy), n)
    if key not in _FASTPART:
        vals = impl.partition_many(keys, n, strategy=strategy)
        assert len(vals) == len(keys)
        _FASTPART[key] = array.array("i", vals)
    else:
        head = impl.partition_many(keys[:SAMPLE], n, strategy=strategy)
        assert list(head) == list(_FASTPART[key][:SAMPLE]), (
            f"{_impl_name(impl)}: strategy {strategy!r} differs from another name of the same table entry"
        )
    return _FASTPART[key]


def check_partitions(impl: Any, client: ClientRuns, label: str, strategy: str,
                     unaskable: Sequence[int] = ()) -> None:
    """Compare the client's answers for *label* with ``impl.partition_many(strategy)``
    at every count; fails with the first disagreements.  See the module docstring."""
    keys = client.keys
    failures: List[str] = []
    # key -> n -> the client's answers (every run) where fastpart says -1
    keyless: Dict[Optional[bytes], Dict[int, set]] = defaultdict(lambda: defaultdict(set))
    for n in PARTITION_COUNTS:
        got = [run.get((label, n)) for run in client.runs]
        if got[0] is None or got[1] is None:
            failures.append(f"n={n}: the harness printed no {label!r} line")
            continue
        expected = _fastpart(impl, keys, strategy, n)
        shown: List[Any] = list(expected)
        bad = 0
        for i, e in enumerate(expected):
            a, b = got[0][i], got[1][i]
            if e == -1:
                if a is None and b is None and keys[i] is None and n in unaskable:
                    shown[i] = None
                elif all(v is not None and 0 <= v < n for v in (a, b)):
                    shown[i] = a
                    keyless[keys[i]][n].update((a, b))
                else:
                    shown[i] = f"-1 (client decides: any of 0..{n - 1})"
                    bad += 1
            elif a != e or b != e:
                bad += 1
                if a == e:  # only the second run differs
                    shown[i] = f"{e} (second run: {b})"
        if bad:
            failures.append(
                f"n={n}: {bad} of {len(keys)} records differ; first:\n    "
                + "\n    ".join(mismatches(keys, shown, got[0]))
            )
    for key, per_n in keyless.items():
        if not any(len(vals) > 1 for n, vals in per_n.items() if n > 1):
            failures.append(
                f"fastpart says -1 (no key-determined partition) for key "
                f"{'None' if key is None else key.hex() or '(empty)'}, but the client gave it one "
                f"partition per count in every run: "
                + ", ".join(f"n={n}: {sorted(v)}" for n, v in sorted(per_n.items()))
            )
    if failures:
        pytest.fail(
            f"{label} vs {_impl_name(impl)}.partition_many(strategy={strategy!r}):\n  "
            + "\n  ".join(failures),
            pytrace=False,
        )


def check_hash(impl: Any, client: ClientRuns, label: str, function: str) -> None:
    keys = client.keys
    got = client.runs[0].get((label, 0))
    assert got is not None, f"the harness printed no {label!r} line"
    f = getattr(impl, function)
    expected = [None if k is None else f(k) for k in keys]
    if expected != got:
        bad = sum(1 for e, a in zip(expected, got) if e != a)
        pytest.fail(
            f"{label} vs {_impl_name(impl)}.{function}: {bad} of {len(keys)} keys differ; first:\n    "
            + "\n    ".join(mismatches(keys, expected, got)),
            pytrace=False,
        )


def run_client(run, tmp_path_factory, name: str, times: int) -> ClientRuns:
    """Write the corpus and run the harness *times* (1 or 2) times on it."""
    keys = generate_corpus()
    path = write_corpus(tmp_path_factory.mktemp(name) / "corpus.txt", keys)
    outputs = [run(path, PARTITION_COUNTS) for _ in range(times)]
    runs = tuple(parse_harness_output(out, len(keys)) for out, _ in outputs)
    return ClientRuns(keys, runs * (2 // len(runs)), outputs[0][1])
