"""fastpart against the real kafkajs (Node), pinned to 2.2.4 by ``harness/node/package-lock.json``.

The Node harness (``harness/node/harness.js``, driven by ``harness/node_harness.py``)
calls, for every corpus record (keys as Buffers, a null key as ``key: null``) and every
count in ``PARTITION_COUNTS``, the partitioners a kafkajs producer is given:

* ``Partitioners.DefaultPartitioner`` (kafkajs 2.x default, Java's murmur2 on BigInt
  longs) -> fastpart ``kafkajs``;
* ``Partitioners.LegacyPartitioner`` (the kafkajs 1.x default: float64 multiplies and a
  ``ceil(len/4)`` block loop) -> fastpart ``kafkajs:legacy``;

each called as the producer calls it, ``partition({topic, partitionMetadata, message})``,
with metadata for partitions 0..n-1 that all have a leader.  For n = 2147483647 a real
metadata array cannot exist; the partitioners only read ``.length``, ``.filter(p =>
p.leader >= 0)`` and the filtered array's elements, so the harness passes a lazily
materialised view that refuses any other use (see ``harness.js``).  Also
``hash:murmur2`` and ``hash:kafkajs-legacy-murmur2``, the two murmur2 modules those
partitioners are built from (signed), against ``impl.murmur2`` and
``impl.kafkajs_murmur2``.

Keyless records: kafkajs round-robins them over the partitions with a leader from a
random start, so fastpart says -1; the client's answers must be partitions in 0..n-1
and must vary between records with the same (null) key.  Everything else must be
equal.  The client answers are computed once per session (one run) and shared by both
fastpart cores (the ``impl`` fixture).
"""

from __future__ import annotations

import pytest

from conformance_support import (
    PARTITION_COUNTS,
    load_harness,
)

pytestmark = pytest.mark.conformance


H = load_harness("node")

#: npm packages the harness must have installed.
VERSIONS = {"kafkajs": "2.2.4"}

#: harness label -> fastpart strategy name
STRATEGIES = {
    "kafkajs:DefaultPartitioner": "kafkajs",
    "kafkajs:LegacyPartitioner": "kafkajs:legacy",
}

#: harness hash label -> fastpart function (signed 32-bit results, as kafkajs returns them)
HASHES = {"hash:murmur2": "murmur2", "hash:kafkajs-legacy-murmur2": "kafkajs_murmur2"}


from client_checks import ClientRuns, check_hash, check_partitions, run_client


# ----------------------------------------------------------------------------- tests

@pytest.fixture(scope="session")
def node_client(tmp_path_factory) -> ClientRuns:
    """The Node harness's answers for the corpus (skips without node/npm).  One run: the
    round robin already gives the null key a different partition record after record."""
    return run_client(H.run, tmp_path_factory, "node-conformance", times=1)


def test_harness_runs_the_pinned_packages(node_client):
    installed = {}
    for line in node_client.stderr.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == "module":
            installed[parts[1]] = parts[2]
    assert installed == VERSIONS


def test_harness_output_is_complete(node_client):
    expected = {(label, n) for label in STRATEGIES for n in PARTITION_COUNTS}
    expected |= {(label, 0) for label in HASHES}
    for run in node_client.runs:
        assert set(run) == expected


@pytest.mark.parametrize("label", sorted(STRATEGIES))
def test_partitions_match_client(impl, node_client, label):
    check_partitions(impl, node_client, label, STRATEGIES[label])


@pytest.mark.parametrize("label", sorted(HASHES))
def test_hash_matches_client(impl, node_client, label):
    check_hash(impl, node_client, label, HASHES[label])
