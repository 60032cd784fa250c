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

import pytest

from conformance_support import (
    PARTITION_COUNTS,
    load_harness,
)

pytestmark = pytest.mark.conformance


H = load_harness("go")

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


from client_checks import ClientRuns, check_hash, check_partitions, run_client


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
