"""fastpart against the real Rust ``kafka`` crate (kafka-rust) 0.10.0.

The Rust harness (``harness/rust/``, driven by ``harness/rust_harness.py``) is built
against the ``kafka`` crate itself (``default-features = false``: no OpenSSL, snappy or
gzip, none of which the partitioner touches), pinned with its whole dependency graph in
``harness/rust/Cargo.toml``.  It calls the crate's ``producer::DefaultPartitioner``
(``Partitioner::partition(topics, &mut ProduceMessage)``) for every corpus record and
every count in ``PARTITION_COUNTS`` -- the real partitioner, not a re-implementation of
its formula -- and prints ``hash:xxh32`` from the crate's ``producer::DefaultHasher``
(twox-hash ``XxHash32``, seed 0).  ``Topics`` can only be built by the crate's
``Producer`` from broker metadata, so the harness builds one through a struct with the
same fields and verifies it through the crate's public accessors (see
``harness/rust/src/main.rs``).  Keys are handed over as ``Producer::send_all`` hands
them: an empty key becomes ``None`` (the crate has no null key apart from the empty one).

fastpart ``kafka-rust``: ``xxh32(key) % n``; -1 for the empty and the null key, which
the crate round-robins over the available partitions (a counter from 0): those answers
must be partitions in 0..n-1 and vary between records with the same key; everything
else must be equal.  For n = 2147483647 the available-partition list holds the first
2^20 partitions (keyed records use only the count; the corpus has far fewer keyless
records than that, so the round robin answers as with a full list).  The client
answers are computed once per session (one run) and shared by both fastpart cores.
"""

from __future__ import annotations

import pytest

from conformance_support import (
    PARTITION_COUNTS,
    load_harness,
)

pytestmark = pytest.mark.conformance


H = load_harness("rust")

#: harness label -> fastpart strategy name
STRATEGIES = {"kafka:DefaultPartitioner": "kafka-rust"}

#: harness hash label -> fastpart function (unsigned 32-bit results)
HASHES = {"hash:xxh32": "xxh32"}


from client_checks import ClientRuns, check_hash, check_partitions, run_client


# ----------------------------------------------------------------------------- tests

@pytest.fixture(scope="session")
def rust_client(tmp_path_factory) -> ClientRuns:
    """The Rust harness's answers for the corpus (skips without cargo).  One run: the
    round robin starts from 0 every time, and already gives the null and the empty key a
    different partition record after record."""
    return run_client(H.run, tmp_path_factory, "rust-conformance", times=1)


def test_harness_uses_the_pinned_crate(rust_client):
    assert "crate kafka 0.10.0" in rust_client.stderr
    pins = (H.RUST_DIR / "Cargo.toml").read_text(encoding="utf-8")
    assert 'kafka = { version = "=0.10.0"' in pins
    assert 'twox-hash = { version = "=1.6.3"' in pins


def test_harness_output_is_complete(rust_client):
    expected = {(label, n) for label in STRATEGIES for n in PARTITION_COUNTS}
    expected |= {(label, 0) for label in HASHES}
    for run in rust_client.runs:
        assert set(run) == expected


@pytest.mark.parametrize("label", sorted(STRATEGIES))
def test_partitions_match_client(impl, rust_client, label):
    check_partitions(impl, rust_client, label, STRATEGIES[label])


@pytest.mark.parametrize("label", sorted(HASHES))
def test_hash_matches_client(impl, rust_client, label):
    check_hash(impl, rust_client, label, HASHES[label])
