"""Property tests: native core, pure twin and a plain reference agree.

The reference below is written independently of both cores, transcribing
Java's ``Utils.murmur2`` with Java's signed ``int`` semantics (wrap to 32
bits after every operation, ``>>>`` as an unsigned shift).
"""

from __future__ import annotations

import importlib
import os
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fastpart import _core_py

try:
    _native = importlib.import_module("fastpart._core")  # not `from fastpart import`: an attribute
except ImportError as _exc:  # pragma: no cover - exercised when the core is not built
    _native = None
    _NATIVE_ERROR = str(_exc)

_REQUIRE_NATIVE = os.environ.get("FASTPART_REQUIRE_NATIVE", "") not in ("", "0")


def _need_native():
    """Skip without the compiled core -- or fail, when FASTPART_REQUIRE_NATIVE=1 (CI)."""
    if _native is None:
        if _REQUIRE_NATIVE:
            pytest.fail(f"FASTPART_REQUIRE_NATIVE=1 but the compiled core is missing: {_NATIVE_ERROR}",
                        pytrace=False)
        pytest.skip("the compiled core is not built")


@pytest.fixture(autouse=True)
def _cores_present():
    """Under FASTPART_REQUIRE_NATIVE=1 no property test may run on the twin alone."""
    if _REQUIRE_NATIVE:
        _need_native()


def _int(x: int) -> int:
    """Java int: wrap to signed 32 bits."""
    x &= 0xFFFFFFFF
    return x - (1 << 32) if x >= (1 << 31) else x


def _ushr(x: int, n: int) -> int:
    """Java ``>>>`` on an int."""
    return (x & 0xFFFFFFFF) >> n


def java_murmur2(data: bytes) -> int:
    length = len(data)
    seed = _int(0x9747B28C)
    m = 0x5BD1E995
    r = 24
    h = _int(seed ^ length)
    length4 = length // 4
    for i in range(length4):
        i4 = i * 4
        k = _int((data[i4 + 0] & 0xFF) + ((data[i4 + 1] & 0xFF) << 8) + ((data[i4 + 2] & 0xFF) << 16) + ((data[i4 + 3] & 0xFF) << 24))
        k = _int(k * m)
        k = _int(k ^ _ushr(k, r))
        k = _int(k * m)
        h = _int(h * m)
        h = _int(h ^ k)
    rem = length % 4
    if rem == 3:
        h = _int(h ^ ((data[(length & ~3) + 2] & 0xFF) << 16))
    if rem >= 2:
        h = _int(h ^ ((data[(length & ~3) + 1] & 0xFF) << 8))
    if rem >= 1:
        h = _int(h ^ (data[length & ~3] & 0xFF))
        h = _int(h * m)
    h = _int(h ^ _ushr(h, 13))
    h = _int(h * m)
    h = _int(h ^ _ushr(h, 15))
    return h


def fnv1a_ref(data: bytes) -> int:
    h = 0x811C9DC5
    for b in data:
        h = ((h ^ b) * 0x01000193) % (1 << 32)
    return h


def java_mod(a: int, n: int) -> int:
    """Java/C/Go ``%`` on ints (truncating), not Python's floored ``%``."""
    q = abs(a) // abs(n)
    return a - n * (q if (a >= 0) == (n > 0) else -q)


def sarama_hash(data: bytes, n: int) -> int:
    # sarama: p = int32(h) % n; if p < 0 { p = -p }
    p = java_mod(_int(fnv1a_ref(data)), n)
    return -p if p < 0 else p


keys = st.binary(min_size=0, max_size=4096)
counts = st.one_of(st.integers(1, 16), st.integers(1, 2**31 - 1), st.sampled_from([1, 2, 3, 7, 12, 1000, 10007, 2**31 - 1]))
cores = [_core_py] + ([_native] if _native is not None else [])


@settings(max_examples=300, deadline=None)
@given(keys, counts)
def test_java_partition_three_ways(key, n):
    want = (java_murmur2(key) & 0x7FFFFFFF) % n
    for core in cores:
        assert core.murmur2(key) == java_murmur2(key)
        assert core.partition(key, n) == want
        assert list(core.partition_many([key, None], n)) == [want, -1]


@settings(max_examples=200, deadline=None)
@given(keys, counts)
def test_other_families_three_ways(key, n):
    for core in cores:
        assert core.crc32(key) == zlib.crc32(key)
        assert core.fnv1a(key) == fnv1a_ref(key)
        if key:
            assert core.partition(key, n, strategy="librdkafka") == zlib.crc32(key) % n
        assert core.partition(key, n, strategy="sarama") == sarama_hash(key, n)
        assert core.partition(key, n, strategy="sarama:reference") == (fnv1a_ref(key) & 0x7FFFFFFF) % n


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.none(), st.binary(max_size=300), st.text(max_size=60)), max_size=60), counts,
       st.sampled_from(["java", "librdkafka", "librdkafka:consistent", "sarama", "sarama:crc", "kafkajs:legacy",
                        "kafka-rust", "librdkafka:murmur2", "librdkafka:fnv1a", "franz-go:sarama-hasher",
                        "kafka-go:crc32", "librdkafka:random"]))
def test_native_equals_twin_on_batches(batch, n, strategy):
    _need_native()
    assert list(_native.partition_many(batch, n, strategy=strategy)) == list(
        _core_py.partition_many(batch, n, strategy=strategy))
    assert [_native.partition(k, n, strategy=strategy) for k in batch] == [
        _core_py.partition(k, n, strategy=strategy) for k in batch]


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_kafkajs_and_xxh32_twin(key):
    _need_native()
    assert _native.kafkajs_murmur2(key) == _core_py.kafkajs_murmur2(key)
    assert _native.xxh32(key) == _core_py.xxh32(key)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=50))
def test_str_keys_are_utf8(text):
    from fastpart._inputs import java_utf8

    for core in cores:
        assert core.murmur2(text) == java_murmur2(java_utf8(text))
