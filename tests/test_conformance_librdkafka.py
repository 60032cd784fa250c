"""fastpart against the real librdkafka bundled in the confluent-kafka wheel.

Three sources of truth, all from the installed confluent-kafka:

* the exported C partitioners ``rd_kafka_msg_partitioner_*`` of the bundled
  librdkafka, called through ctypes (``harness/librdkafka_harness.py``) for
  every corpus record and every partition count;
* confluent-kafka's Python functions ``murmur2``/``consistent``/``fnv1a``
  (2.13+), for every non-null corpus record (they take ``bytes`` only);
* the real produce path: confluent-kafka ``Producer`` -> librdkafka's
  in-process mock cluster, for a few thousand records and small counts.

Where fastpart answers ``-1`` ("the client decides": random or sticky) the
library's answer must be a partition in ``0..n-1`` and, for ``n > 1``, must
vary over repeated calls for the same key.  Everywhere else the answers must
be equal, and stable over two runs.

librdkafka's answers are computed once per module and shared by both
fastpart implementations (the pure twin is the slow side of this suite).
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import warnings
from array import array
from typing import Dict, List, Optional, Tuple

import pytest

from conformance_support import (
    PARTITION_COUNTS,
    cache_dir,
    generate_corpus,
    load_harness,
    mismatches,
    need,
)

pytestmark = pytest.mark.conformance


H = load_harness("librdkafka")

#: Runs per key when showing that a "-1" answer is not key-determined.
VARY_RUNS = 64
#: At most this many "-1" records get the VARY_RUNS treatment per (partitioner, n).
VARY_SAMPLE = 2000
#: Partition counts for the produce path (a mock topic per count).
PRODUCE_COUNTS = (1, 2, 3, 7, 12, 1000)


def _key_text(k: Optional[bytes]) -> str:
    return "None" if k is None else (k[:40].hex() or "''") + f" (len {len(k)})"


# --------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def corpus() -> List[Optional[bytes]]:
    return generate_corpus()


class Librdkafka:
    """The loaded library plus per-module caches of its answers."""

    def __init__(self, rdk, corpus):
        self.rdk = rdk
        self.corpus = corpus
        self.batch = H.KeyBatch(corpus)
        self._runs: Dict[Tuple[str, int], list] = {}
        self._oracle: Dict[Tuple[str, int], list] = {}
        self._produced: Dict[Tuple[str, int], list] = {}
        self._mock = None
        self.produce_indices = self._produce_indices(corpus)

    @staticmethod
    def _produce_indices(corpus) -> List[int]:
        chosen = set(range(2000))  # empty, null, every byte, 4-byte blocks, short lengths
        chosen |= {i for i, k in enumerate(corpus) if k is None or k == b""}
        chosen |= set(range(2000, len(corpus), 37))
        return sorted(chosen)

    def runs(self, name: str, n: int):
        """Two full-corpus runs of one exported partitioner (two, to see randomness)."""
        key = (name, n)
        if key not in self._runs:
            self._runs[key] = self.rdk.partition_batch(name, self.batch, n, repeat=2)
        return self._runs[key]

    def oracle(self, name: str, n: int) -> list:
        """confluent_kafka.<name>(key, n) for every record; None for null keys."""
        key = (name, n)
        if key not in self._oracle:
            fn = H.python_oracles()[name]
            self._oracle[key] = [None if k is None else fn(k, n) for k in self.corpus]
        return self._oracle[key]

    def produced(self, name: str, n: int) -> list:
        key = (name, n)
        if key not in self._produced:
            if self._mock is None:
                try:
                    self._mock = H.MockCluster(self.rdk)
                except RuntimeError as e:
                    need(False, f"librdkafka mock cluster unavailable: {e}")
            keys = [self.corpus[i] for i in self.produce_indices]
            self._produced[key] = self._mock.produce(name, keys, n)
        return self._produced[key]

    def close(self):
        if self._mock is not None:
            import gc

            gc.collect()  # producers first, then the cluster they talk to
            self._mock.close()
            self._mock = None
        self.rdk.close()


@pytest.fixture(scope="module")
def rdk(corpus):
    need(importlib.util.find_spec("confluent_kafka") is not None,
         "confluent-kafka is not installed (pip install confluent-kafka)")
    path = H.find_library()
    need(path is not None, "could not locate the librdkafka shared library of confluent-kafka "
                           "(set FASTPART_LIBRDKAFKA to its path)")
    # The C batch loop keeps librdkafka's side of the suite under a second;
    # without a C compiler every call goes through ctypes (~5-10 s more, still
    # every record).
    cc = shutil.which("cc")
    helper = None
    if cc:
        try:
            helper = H.build_batch_helper(cc, cache_dir("librdkafka-batch"))
        except (OSError, RuntimeError, subprocess.SubprocessError) as exc:
            warnings.warn(f"librdkafka batch loop not built, calling through ctypes per key: {exc}")
    lib = Librdkafka(H.Librdkafka(path, helper), corpus)
    yield lib
    lib.close()
    _EXPECTED.clear()


_EXPECTED: Dict[Tuple[str, str, int], object] = {}


def expected_for(impl, corpus, strategy: str, n: int):
    """fastpart's answers, cached per implementation (shared by several tests)."""
    key = (getattr(impl, "__name__", repr(impl)), strategy, n)
    if key not in _EXPECTED:
        out = impl.partition_many(corpus, n, strategy=strategy)
        assert len(out) == len(corpus), f"partition_many returned {len(out)} answers for {len(corpus)} keys"
        _EXPECTED[key] = out
    return _EXPECTED[key]


# --------------------------------------------------------------------------- the library itself

def test_library_is_the_bundled_one(rdk):
    import confluent_kafka

    lib = rdk.rdk
    assert (lib.version_str, lib.version) == tuple(confluent_kafka.libversion()), (
        f"loaded {lib.path} reports {lib.version_str} ({lib.version:#x}) but confluent_kafka.libversion() "
        f"is {confluent_kafka.libversion()}")


def test_null_and_empty_keys_reach_librdkafka_distinctly(rdk):
    """A NULL key and a non-NULL empty key take different branches in librdkafka.

    ``murmur2_random``/``fnv1a_random`` test ``!key`` (NULL -> random, empty
    -> hashed); ``consistent_random`` tests ``keylen == 0`` (both random).  If
    the harness passed NULL for ``b""`` the first two would be random here.
    """
    lib = rdk.rdk
    n = 1000
    for name, value in (("murmur2_random", 275646681 % n), ("fnv1a_random", 2128831035 % n)):
        assert {lib.partition(name, b"", n) for _ in range(VARY_RUNS)} == {value}, name
        assert len({lib.partition(name, None, n) for _ in range(VARY_RUNS)}) > 1, name
    assert len({lib.partition("consistent_random", b"", n) for _ in range(VARY_RUNS)}) > 1
    assert len({lib.partition("consistent_random", None, n) for _ in range(VARY_RUNS)}) > 1
    # the batch loop passes the same pointers as the single-call path
    batch = H.KeyBatch([b"", None, b"", None])
    runs = lib.partition_batch("murmur2_random", batch, n, repeat=VARY_RUNS)
    assert {r[0] for r in runs} == {r[2] for r in runs} == {275646681 % n}
    assert len({r[1] for r in runs} | {r[3] for r in runs}) > 1


@pytest.mark.parametrize("name", sorted(H.PYTHON_ORACLES))
@pytest.mark.parametrize("n", PARTITION_COUNTS)
def test_python_functions_agree_with_exported_partitioners(rdk, corpus, name, n):
    need(name in H.python_oracles(), f"confluent_kafka.{name} needs confluent-kafka 2.13+")
    run = rdk.runs(name, n)[0]
    oracle = rdk.oracle(name, n)
    lib_view = [None if k is None else v for k, v in zip(corpus, run)]
    bad = mismatches(corpus, lib_view, oracle)
    assert not bad, (f"confluent_kafka.{name}(key, {n}) vs rd_kafka_msg_partitioner_{name} "
                     "(fastpart= is the C function here):\n" + "\n".join(bad))


@pytest.mark.parametrize("name", sorted(H.PYTHON_ORACLES))
def test_python_functions_reject_null_keys(name):
    oracles = H.python_oracles()
    need(name in oracles, f"confluent_kafka.{name} needs confluent-kafka 2.13+")
    with pytest.raises(TypeError):
        oracles[name](None, 7)


# --------------------------------------------------------------------------- fastpart vs librdkafka

def _compare(corpus, expected, runs, n):
    """Return (disagreement lines, indices fastpart leaves to the client).

    Where fastpart says ``-1`` every run must land in ``0..n-1``; everywhere
    else every run must equal fastpart.  The disagreements are rendered by
    ``mismatches`` with the library's value, ``"a|b (varies)"`` when the runs
    differ, or ``"... (out of range)"``.
    """
    if not isinstance(expected, array):
        expected = array("i", expected)
    r0, r1 = runs
    if expected == r0 and r0 == r1:  # C-speed fast path: the keyed partitioners
        return [], []
    # a record fastpart leaves open (-1) always differs from the library's answer
    differ = [i for i, (e, a, b) in enumerate(zip(expected, r0, r1)) if e != a or a != b]
    unset = [i for i in differ if expected[i] == -1]
    bad = [i for i in differ
           if not (expected[i] == -1 and 0 <= r0[i] < n and 0 <= r1[i] < n)]
    if not bad:
        return [], unset
    # failure path only: fastpart's list, with the library's view patched in
    exp = list(expected)
    view: List[object] = list(expected)
    for i in bad:
        a, b = r0[i], r1[i]
        if expected[i] == -1:
            view[i] = f"{a}|{b} (out of range)"
        elif a != b:
            view[i] = f"{a}|{b} (varies)"
        else:
            view[i] = a
    lines = mismatches(corpus, exp, view)
    return lines + [f"... {len(bad)} records differ in all"], unset


def _vary_sample(corpus, unset: List[int]) -> List[int]:
    """Every null/empty record fastpart leaves open, plus an even sample of the rest."""
    special = [i for i in unset if not corpus[i]]
    rest = [i for i in unset if corpus[i]]
    step = max(1, len(rest) // VARY_SAMPLE)
    return special + rest[::step]


@pytest.mark.parametrize("name", H.PARTITIONERS)
@pytest.mark.parametrize("n", PARTITION_COUNTS)
def test_exported_partitioner_matches_fastpart(impl, rdk, corpus, name, n):
    strategy = H.STRATEGY_FOR[name]
    expected = expected_for(impl, corpus, strategy, n)
    runs = rdk.runs(name, n)
    bad, unset = _compare(corpus, expected, runs, n)
    assert not bad, (f"fastpart strategy={strategy!r} vs librdkafka {rdk.rdk.version_str} "
                     f"rd_kafka_msg_partitioner_{name}, n={n}:\n" + "\n".join(bad))
    if n > 1 and unset:
        sample = _vary_sample(corpus, unset)
        keys = [corpus[i] for i in sample]
        reps = rdk.rdk.partition_batch(name, H.KeyBatch(keys), n, repeat=VARY_RUNS)
        constant = [f"#{i} key={_key_text(corpus[i])}: always {reps[0][j]} over {VARY_RUNS} calls"
                    for j, i in enumerate(sample) if len({r[j] for r in reps}) == 1]
        assert not constant, (f"fastpart says -1 (client decides) for strategy={strategy!r}, n={n}, but "
                              f"rd_kafka_msg_partitioner_{name} is key-determined for {len(constant)} "
                              f"of {len(sample)} sampled records:\n" + "\n".join(constant[:10]))


@pytest.mark.parametrize("name", sorted(H.PYTHON_ORACLES))
@pytest.mark.parametrize("n", PARTITION_COUNTS)
def test_python_function_matches_fastpart(impl, rdk, corpus, name, n):
    need(name in H.python_oracles(), f"confluent_kafka.{name} needs confluent-kafka 2.13+")
    strategy = H.STRATEGY_FOR[name]
    expected = expected_for(impl, corpus, strategy, n)
    oracle = rdk.oracle(name, n)
    # null keys: the Python functions take bytes only (TypeError); compare the rest
    exp = [None if k is None else e for k, e in zip(corpus, expected)]
    bad = mismatches(corpus, exp, oracle)
    assert not bad, (f"fastpart strategy={strategy!r} vs confluent_kafka.{name}(key, {n}):\n" + "\n".join(bad))


@pytest.mark.parametrize("name", H.PARTITIONERS)
@pytest.mark.parametrize("n", PRODUCE_COUNTS)
def test_produce_path_matches_fastpart(impl, rdk, corpus, name, n):
    """confluent-kafka Producer(partitioner=name) into a mock topic with n partitions."""
    strategy = H.STRATEGY_FOR[name]
    expected = expected_for(impl, corpus, strategy, n)
    idx = rdk.produce_indices
    got = rdk.produced(name, n)
    keys = [corpus[i] for i in idx]
    exp = [expected[i] for i in idx]
    view = [-1 if e == -1 and 0 <= g < n else g for e, g in zip(exp, got)]
    bad = mismatches(keys, exp, view)
    assert not bad, (f"fastpart strategy={strategy!r} vs confluent-kafka Producer(partitioner={name!r}) "
                     f"into a {n}-partition mock topic ({len(idx)} records; #i counts within them):\n"
                     + "\n".join(bad))
