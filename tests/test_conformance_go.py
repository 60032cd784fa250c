"""fastpart against the real Go clients: IBM/sarama, twmb/franz-go, segmentio/kafka-go.

The Go harness (``harness/go/``, driven by ``harness/go_harness.py``) is linked
against the module versions pinned in its ``go.mod``/``go.sum`` (:data:`VERSIONS`)
and calls, for every corpus record and every count in ``PARTITION_COUNTS``:

* sarama ``NewHashPartitioner``, ``NewReferenceHashPartitioner``,
  ``NewConsistentCRCHashPartitioner`` and ``NewMurmur2Partitioner`` (added in
  sarama 1.50.0): ``Partition(&ProducerMessage{Key: ByteEncoder(k)}, n)``, a nil
  ``Key`` for a null key;
* franz-go's producer default ``UniformBytesPartitioner(64KiB, true, true, nil)``
  (through ``PartitionByBackup``, as the producer calls it) and
  ``StickyKeyPartitioner(nil)``, both hashing with ``KafkaHasher(murmur2)``, and
  ``StickyKeyPartitioner`` with ``SaramaCompatHasher(fnv32a)`` and
  ``SaramaHasher(fnv32a)`` (``fnv32a`` = the standard library's FNV-1a, as
  franz-go's documentation prescribes): ``Partition(&Record{Key: k}, n)``;
* kafka-go ``Hash``, ``ReferenceHash``, ``CRC32Balancer`` and ``Murmur2Balancer``
  (``Consistent`` false and true): ``Balance(Message{Key: k}, 0..n-1...)``.  For
  n = 2147483647 the partition slice is a pair of memory-cheap aliased views and
  the answer is decoded from the two readings (see ``harness/go/views_linux.go``);
* ``hash:fnv1a`` / ``hash:crc32``: the standard-library hashers these clients
  instantiate (``fnv.New32a``, ``crc32.ChecksumIEEE``).

Where fastpart answers -1 (the client decides without the key) the client's answer
must be a partition in 0..n-1, and it must not be determined by the key: the
harness runs twice, and for every such key some partition count must show two
different answers (franz-go's sticky partitioners keep one random partition per
run; kafka-go's ``Hash`` round-robins keyless records).  Everywhere else the
answers must be equal.  The one record the harness cannot ask about: a keyless
record in franz-go's adaptive ``UniformBytesPartitioner`` for n = 2147483647, whose
pick walks every partition and keeps 16 bytes for each (32 GiB): printed as "x".

The client answers are computed once per session and shared by both fastpart cores
(the ``impl`` fixture); fastpart's answers once per core, strategy table entry and
count (see ``_fastpart``).
"""

from __future__ import annotations

import array
import importlib.util
import sys
from collections import defaultdict
from typing import Any, Dict, List, NamedTuple, Optional, Sequence, Tuple

import pytest

from conformance_support import (
    HARNESS_DIR,
    PARTITION_COUNTS,
    generate_corpus,
    mismatches,
    parse_harness_output,
    write_corpus,
)

pytestmark = pytest.mark.conformance


def _load_harness():
    name = "fastpart_go_harness"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, HARNESS_DIR / "go_harness.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


H = _load_harness()

#: Go modules the harness must be linked against.
VERSIONS = {
    "github.com/IBM/sarama": "v1.61.1",
    "github.com/twmb/franz-go": "v1.22.3",
    "github.com/segmentio/kafka-go": "v0.4.51",
}

#: harness label -> fastpart strategy name
STRATEGIES = {
    "sarama:NewHashPartitioner": "sarama:hash",
    "sarama:NewReferenceHashPartitioner": "sarama:reference",
    "sarama:NewConsistentCRCHashPartitioner": "sarama:crc",
    "sarama:NewMurmur2Partitioner": "sarama:murmur2",
    "franz-go:UniformBytesPartitioner": "franz-go",
    "franz-go:StickyKeyPartitioner": "franz-go",
    "franz-go:StickyKeyPartitioner+SaramaCompatHasher(fnv32a)": "franz-go:sarama-compat",
    "franz-go:StickyKeyPartitioner+SaramaHasher(fnv32a)": "franz-go:sarama-hasher",
    "kafka-go:Hash": "kafka-go:hash",
    "kafka-go:ReferenceHash": "kafka-go:reference-hash",
    "kafka-go:CRC32Balancer": "kafka-go:crc32",
    "kafka-go:CRC32Balancer{Consistent:true}": "kafka-go:crc32-consistent",
    "kafka-go:Murmur2Balancer": "kafka-go:murmur2",
    "kafka-go:Murmur2Balancer{Consistent:true}": "kafka-go:murmur2-consistent",
}

#: harness hash label -> fastpart function (unsigned 32-bit results)
HASHES = {"hash:fnv1a": "fnv1a", "hash:crc32": "crc32"}

#: (label, n) whose keyless records the harness cannot ask the client about ("x")
UNASKABLE_KEYLESS = {("franz-go:UniformBytesPartitioner", 2147483647)}


# ----------------------------------------------------------------------------- shared checks

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


# ----------------------------------------------------------------------------- tests

@pytest.fixture(scope="session")
def go_client(tmp_path_factory) -> ClientRuns:
    """The Go harness's answers for the corpus, from two runs (skips without ``go``)."""
    return run_client(H.run, tmp_path_factory, "go-conformance", times=2)


def test_harness_links_the_pinned_modules(go_client):
    linked = {}
    for line in go_client.stderr.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == "module":
            linked[parts[1]] = parts[2]
    for module, version in VERSIONS.items():
        assert linked.get(module) == version, f"{module}: linked {linked.get(module)}, pinned {version}"


def test_harness_output_is_complete(go_client):
    expected = {(label, n) for label in STRATEGIES for n in PARTITION_COUNTS}
    expected |= {(label, 0) for label in HASHES}
    for run in go_client.runs:
        assert set(run) == expected


@pytest.mark.parametrize("label", sorted(STRATEGIES))
def test_partitions_match_client(impl, go_client, label):
    unaskable = [n for (lab, n) in UNASKABLE_KEYLESS if lab == label]
    check_partitions(impl, go_client, label, STRATEGIES[label], unaskable)


@pytest.mark.parametrize("label", sorted(HASHES))
def test_hash_matches_client(impl, go_client, label):
    check_hash(impl, go_client, label, HASHES[label])
