"""The core API, run against both implementations (the ``impl`` fixture)."""

from __future__ import annotations

import array
import os
import subprocess
import sys
import threading
import zlib

import pytest

import fastpart
from fastpart._strategies import CODES, STRATEGIES

# Kafka's UtilsTest.testMurmur2 (signed, as Java returns them).
KAFKA_UTILS_VECTORS = [
    (b"21", -973932308),
    (b"foobar", -790332482),
    (b"a-little-bit-long-string", -985981536),
    (b"a-little-bit-longer-string", -1486304829),
    (b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971),
    (bytes([ord("a"), ord("b"), ord("c")]), 479470107),
    (bytes([12, 42, 56, 24, 109, 111]), 274204207),
]
# librdkafka unittest_murmur2 (unsigned).
LIBRDKAFKA_VECTORS = [
    (b"kafka", 0xD067CF64),
    (b"giberish123456789", 0x8F552B0C),
    (b"1234", 0x9FC97B14),
    (b"234", 0xE7C009CA),
    (b"34", 0x873930DA),
    (b"4", 0x5A4B5CA1),
    (b"", 0x106E08D9),
]


@pytest.mark.parametrize("key,expected", KAFKA_UTILS_VECTORS)
def test_murmur2_kafka_vectors(impl, key, expected):
    assert impl.murmur2(key) == expected


@pytest.mark.parametrize("key,expected", LIBRDKAFKA_VECTORS)
def test_murmur2_librdkafka_vectors(impl, key, expected):
    assert impl.murmur2(key) & 0xFFFFFFFF == expected
    assert impl.murmur2(key) == (expected - 2**32 if expected >= 2**31 else expected)


def test_mask_not_abs(impl):
    # murmur2("21") is negative: the mask gives partition 0 of 10, abs would give 8
    assert impl.murmur2(b"21") == -973932308
    assert impl.to_positive(-973932308) == 1173551340
    assert impl.partition(b"21", 10) == 0
    assert abs(-973932308) % 10 == 8


def test_empty_key_is_hashed_by_java(impl):
    assert impl.murmur2(b"") == 275646681
    assert impl.partition(b"", 1000) == 275646681 % 1000


def test_other_hash_vectors(impl):
    assert impl.crc32(b"kafka") == zlib.crc32(b"kafka")
    assert impl.crc32(b"") == 0
    assert impl.fnv1a(b"") == 0x811C9DC5
    assert impl.fnv1a(b"a") == 0xE40C292C
    assert impl.xxh32(b"") == 0x02CC5D05
    assert impl.xxh32(b"abc") == 0x32D153FF
    # kafkajs legacy murmur2 of the empty key (Java gives 275646681)
    assert impl.kafkajs_murmur2(b"") == 275646684


def test_hash_against_zlib_many_lengths(impl):
    data = bytes(range(256)) * 5
    for n in range(0, 1100, 7):
        assert impl.crc32(data[:n]) == zlib.crc32(data[:n])


def test_xxh32_against_xxhash_package(impl):
    xxhash = pytest.importorskip("xxhash", reason="the xxhash package is an optional oracle")
    data = os.urandom(300)
    for n in range(0, 300):
        assert impl.xxh32(data[:n]) == xxhash.xxh32_intdigest(data[:n], seed=0)


# ----------------------------------------------------------------- keys

def test_key_types(impl):
    b = b"some key"
    p = impl.partition(b, 12)
    assert impl.partition(bytearray(b), 12) == p
    assert impl.partition(memoryview(b), 12) == p
    assert impl.partition(array.array("B", b), 12) == p
    assert impl.partition("some key", 12) == p
    assert impl.partition(memoryview(b"xxsome keyxx")[2:-2], 12) == p
    # a non-contiguous buffer is hashed as its logical bytes
    assert impl.partition(memoryview(b"s_o_m_e_ _k_e_y_")[::2], 12) == p


def test_str_is_java_utf8(impl):
    assert impl.murmur2("h\u00e9llo \U0001F600") == impl.murmur2("h\u00e9llo \U0001F600".encode())
    # unpaired surrogates become '?', as Java's StringSerializer writes them
    assert impl.murmur2("a\ud800b") == impl.murmur2(b"a?b")
    assert impl.murmur2("\udfff") == impl.murmur2(b"?")
    # a surrogate pair written as two code points is one character in Java
    assert impl.murmur2("\ud83d\ude00") == impl.murmur2("\U0001F600".encode())
    assert list(impl.partition_many(["a\ud800b", "x"], 7)) == [impl.partition(b"a?b", 7), impl.partition(b"x", 7)]


def test_str_subclass_and_bytes_subclass(impl):
    class S(str):
        pass

    class B(bytes):
        pass

    assert impl.partition(S("abc"), 9) == impl.partition(b"abc", 9)
    assert impl.partition(B(b"abc"), 9) == impl.partition(b"abc", 9)
    assert list(impl.partition_many([S("abc"), B(b"abc")], 9)) == [impl.partition(b"abc", 9)] * 2


def test_none_is_keyless(impl):
    assert impl.partition(None, 12) == -1
    assert impl.partition(None, 12, strategy="librdkafka:murmur2") == 275646681 % 12
    assert impl.partition(None, 12, strategy="librdkafka:consistent") == 0
    with pytest.raises(TypeError, match="None"):
        impl.murmur2(None)


@pytest.mark.parametrize("bad", [42, 4.2, 3 + 1j, object(), ["a"], True])
def test_bad_key_type(impl, bad):
    with pytest.raises(TypeError, match="fastpart.serde"):
        impl.partition(bad, 12)
    with pytest.raises(TypeError):
        impl.murmur2(bad)


# --------------------------------------------------------- partition counts

@pytest.mark.parametrize("n", [0, -1, -(2**40), 2**31, 2**31 + 5, 2**64, 2**200])
def test_partition_count_out_of_range(impl, n):
    with pytest.raises(ValueError, match="2147483647"):
        impl.partition(b"k", n)
    with pytest.raises(ValueError, match="2147483647"):
        impl.partition_many([b"k"], n)


@pytest.mark.parametrize("n", [1.0, 12.0, "12", None, True, b"1"])
def test_partition_count_wrong_type(impl, n):
    with pytest.raises(TypeError, match="num_partitions"):
        impl.partition(b"k", n)
    with pytest.raises(TypeError, match="num_partitions"):
        impl.partition_many([b"k"], n)


def test_partition_count_bounds_and_index_types(impl):
    np = pytest.importorskip("numpy")
    assert impl.partition(b"k", 1) == 0
    assert impl.partition(b"k", 2**31 - 1) == (impl.murmur2(b"k") & 0x7FFFFFFF) % (2**31 - 1)
    assert impl.partition(b"k", np.int64(12)) == impl.partition(b"k", 12)
    assert impl.partition(b"k", np.int32(12)) == impl.partition(b"k", 12)


# --------------------------------------------------------------- strategies

def test_unknown_strategy(impl):
    with pytest.raises(ValueError, match="known strategies: .*java"):
        impl.partition(b"k", 3, strategy="jvm")
    with pytest.raises(ValueError, match="unknown strategy"):
        impl.partition_many([b"k"], 3, strategy="Java")
    with pytest.raises(TypeError, match="strategy must be a str"):
        impl.partition(b"k", 3, strategy=None)
    with pytest.raises(TypeError, match="strategy must be a str"):
        impl.partition(b"k", 3, strategy=["java"])


def test_every_strategy_name_and_alias(impl):
    for name in CODES:
        r = impl.partition(b"key", 12, strategy=name)
        assert -1 <= r < 12
    assert set(fastpart.strategies()) == set(STRATEGIES)
    for s in fastpart.strategies().values():
        for alias in s.aliases:
            assert CODES[alias] == s.code


STRATEGY_TABLE = {
    # name: (empty key, None key) for n = 12, from the table
    "java": (275646681 % 12, -1),
    "librdkafka": (-1, -1),
    "librdkafka:consistent": (0, 0),
    "sarama:crc": (0, -1),
    "librdkafka:murmur2": (275646681 % 12, 275646681 % 12),
    "librdkafka:fnv1a": (2128831035 % 12, 2128831035 % 12),
    "librdkafka:fnv1a_random": (2128831035 % 12, -1),
    "librdkafka:random": (-1, -1),
    "sarama": (2128831035 % 12, -1),
    "sarama:reference": ((0x811C9DC5 & 0x7FFFFFFF) % 12, -1),
    "kafka-go:crc32": (-1, -1),
    "kafka-go:murmur2-consistent": (275646681 % 12, 275646681 % 12),
    "kafkajs:legacy": (275646684 % 12, -1),
    "franz-go:sarama-hasher": (0x811C9DC5 % 12, -1),
    "kafka-rust": (-1, -1),
}


@pytest.mark.parametrize("name", sorted(STRATEGY_TABLE))
def test_empty_and_null_policies(impl, name):
    empty, null = STRATEGY_TABLE[name]
    assert impl.partition(b"", 12, strategy=name) == empty
    assert impl.partition(None, 12, strategy=name) == null
    assert list(impl.partition_many([b"", None], 12, strategy=name)) == [empty, null]


def test_strategy_formulas(impl):
    keys = [os.urandom(i % 40 + 1) for i in range(500)]
    for n in (1, 7, 12, 1000, 2**31 - 1):
        for k in keys:
            m = impl.murmur2(k) & 0x7FFFFFFF
            c = impl.crc32(k)
            f = impl.fnv1a(k)
            fi = f - 2**32 if f >= 2**31 else f
            assert impl.partition(k, n) == m % n
            assert impl.partition(k, n, strategy="librdkafka") == c % n
            assert impl.partition(k, n, strategy="sarama") == abs(fi) % n
            assert impl.partition(k, n, strategy="sarama:reference") == (f & 0x7FFFFFFF) % n
            assert impl.partition(k, n, strategy="franz-go:sarama-hasher") == f % n
            assert impl.partition(k, n, strategy="kafka-rust") == impl.xxh32(k) % n
            assert impl.partition(k, n, strategy="kafkajs:legacy") == (impl.kafkajs_murmur2(k) & 0x7FFFFFFF) % n
            assert impl.partition(k, n, strategy="librdkafka:random") == -1


def test_fnv1a_abs_of_int32_min():
    # abs(INT32_MIN) stays 2**31 (unsigned) in librdkafka and sarama
    from fastpart import _core_py

    assert _core_py._abs_i32(0x80000000) == 0x80000000
    assert _core_py._abs_i32(0xFFFFFFFF) == 1


# ------------------------------------------------------------------ batches

def test_partition_many_matches_partition(impl):
    keys = [os.urandom(i % 50) for i in range(3000)] + ["str", None, bytearray(b"ba"), memoryview(b"mv")]
    for strategy in ("java", "librdkafka", "sarama", "kafkajs:legacy", "kafka-rust", "librdkafka:murmur2"):
        got = impl.partition_many(keys, 37, strategy=strategy)
        assert isinstance(got, array.array) and got.typecode == "i"
        assert list(got) == [impl.partition(k, 37, strategy=strategy) for k in keys]


def test_partition_many_inputs(impl):
    keys = [b"a", b"bb", b"", b"ccc"]
    want = [impl.partition(k, 5) for k in keys]
    assert list(impl.partition_many(tuple(keys), 5)) == want
    assert list(impl.partition_many(iter(keys), 5)) == want
    assert list(impl.partition_many((k for k in keys), 5)) == want
    assert list(impl.partition_many([], 5)) == []
    assert list(impl.partition_many((), 5)) == []


def test_partition_many_rejects_single_key(impl):
    for bad in (b"abc", "abc", bytearray(b"abc")):
        with pytest.raises(TypeError, match="not a single"):
            impl.partition_many(bad, 5)
    with pytest.raises(TypeError, match="1-D byte buffer is one key"):
        impl.partition_many(memoryview(b"abc"), 5)
    with pytest.raises(TypeError, match="not int"):
        impl.partition_many(5, 5)


def test_partition_many_bad_element_names_index(impl):
    with pytest.raises(TypeError, match="at index 2"):
        impl.partition_many([b"a", "b", 3, b"d"], 5)
    with pytest.raises(TypeError, match="at index 0"):
        impl.partition_many([1.5], 5)


def test_out_parameter(impl):
    keys = [b"a", b"b", None]
    want = [impl.partition(k, 9) for k in keys]
    out = array.array("i", [7] * 5)
    assert impl.partition_many(keys, 9, out=out) is out
    assert list(out) == want + [7, 7]
    with pytest.raises(ValueError, match="holds 2 items but there are 3 keys"):
        impl.partition_many(keys, 9, out=array.array("i", [0, 0]))
    with pytest.raises(TypeError, match="int32"):
        impl.partition_many(keys, 9, out=array.array("q", [0] * 3))
    with pytest.raises(TypeError, match="int32"):
        impl.partition_many(keys, 9, out=array.array("I", [0] * 3))
    with pytest.raises(TypeError, match="read-only"):
        impl.partition_many(keys, 9, out=memoryview(array.array("i", [0] * 3)).toreadonly())
    with pytest.raises(TypeError, match="writable int32 buffer"):
        impl.partition_many(keys, 9, out=[0, 0, 0])


def test_out_numpy(impl):
    np = pytest.importorskip("numpy")
    keys = [b"a", b"b", None]
    out = np.full(3, 5, dtype=np.int32)
    assert impl.partition_many(keys, 9, out=out) is out
    assert out.tolist() == [impl.partition(k, 9) for k in keys]
    with pytest.raises(TypeError, match="int32"):
        impl.partition_many(keys, 9, out=np.zeros(3, dtype=np.int64))
    with pytest.raises(TypeError, match="int32"):
        impl.partition_many(keys, 9, out=np.zeros(3, dtype=">i4"))
    with pytest.raises(ValueError, match="C-contiguous"):
        impl.partition_many(keys, 9, out=np.zeros(6, dtype=np.int32)[::2])
    ro = np.zeros(3, dtype=np.int32)
    ro.flags.writeable = False
    with pytest.raises(TypeError, match="read-only"):
        impl.partition_many(keys, 9, out=ro)
    # zero-copy view of the default result
    res = impl.partition_many(keys, 9)
    assert np.asarray(res).dtype == np.int32


def test_numpy_fixed_width(impl):
    np = pytest.importorskip("numpy")
    raw = [os.urandom(16) for _ in range(1000)]
    arr = np.array(raw, dtype="S16")
    # elements(arr) = list(arr): NumPy's own elements, trailing NULs stripped
    want = [impl.partition(k, 12) for k in list(arr)]
    assert list(impl.partition_many(arr, 12)) == want
    assert [k.rstrip(b"\0") for k in raw] == [bytes(k) for k in arr]
    z = np.zeros(3, dtype="S4")
    assert list(impl.partition_many(z, 12)) == [impl.partition(b"", 12)] * 3
    # np.array([b"ab", b"abcd"]) pads b"ab" to S4: still the key b"ab", as the list gives
    padded = np.array([b"ab", b"abcd"])
    assert list(impl.partition_many(padded, 12)) == list(impl.partition_many([b"ab", b"abcd"], 12))
    # strided (non-contiguous) views are read correctly
    assert list(impl.partition_many(arr[::3], 12)) == want[::3]
    assert list(impl.partition_many(arr[::-1], 12)) == want[::-1]
    for strategy in ("librdkafka", "sarama", "kafka-rust"):
        assert list(impl.partition_many(arr, 12, strategy=strategy)) == [
            impl.partition(k, 12, strategy=strategy) for k in list(arr)
        ]
    # exact-width keys keep every byte: void V<w> items and 2-D uint8 rows
    void = np.array(raw, dtype="V16")
    assert list(impl.partition_many(void, 12)) == [impl.partition(k, 12) for k in raw]
    assert list(impl.partition_many(void, 12)) == [impl.partition(k, 12) for k in list(void)]
    rows = np.frombuffer(b"".join(raw), dtype=np.uint8).reshape(-1, 16)
    assert list(impl.partition_many(rows, 12)) == [impl.partition(k, 12) for k in raw]


def test_numpy_uint8_rows(impl):
    np = pytest.importorskip("numpy")
    m = np.frombuffer(os.urandom(40 * 36), dtype=np.uint8).reshape(40, 36)
    want = [impl.partition(bytes(r), 12) for r in m]
    assert list(impl.partition_many(m, 12)) == want
    assert list(impl.partition_many(m[::2], 12)) == want[::2]
    # non-contiguous columns: handled correctly (row bytes in logical order)
    sub = m[:, ::2]
    assert list(impl.partition_many(sub, 12)) == [impl.partition(r.tobytes(), 12) for r in sub]
    assert [impl.partition(r, 12) for r in sub] == [impl.partition(r.tobytes(), 12) for r in sub]
    fortran = np.asfortranarray(m)
    assert list(impl.partition_many(fortran, 12)) == want
    empty_rows = np.zeros((3, 0), dtype=np.uint8)
    assert list(impl.partition_many(empty_rows, 12)) == [impl.partition(b"", 12)] * 3


def test_numpy_other_arrays(impl):
    np = pytest.importorskip("numpy")
    obj = np.array([b"a", "b", None], dtype=object)
    assert list(impl.partition_many(obj, 12)) == [impl.partition(b"a", 12), impl.partition(b"b", 12), -1]
    uni = np.array(["h\u00e9", "x"])
    assert list(impl.partition_many(uni, 12)) == [impl.partition("h\u00e9", 12), impl.partition("x", 12)]
    with pytest.raises(TypeError, match="fastpart.serde"):
        impl.partition_many(np.arange(3, dtype=np.int64), 12)
    with pytest.raises(TypeError, match=r"float64 array holds typed values.*serde\.float64"):
        impl.partition_many(np.zeros((2, 2), dtype=np.float64), 12)
    with pytest.raises(TypeError, match="format"):
        impl.partition_many(np.zeros((2, 2), dtype="S2"), 12)
    with pytest.raises(TypeError, match="at index 1"):
        impl.partition_many(np.array([b"a", 2], dtype=object), 12)


def _pa():
    return pytest.importorskip("pyarrow")


@pytest.mark.parametrize("typ", ["binary", "string", "large_binary", "large_string", "binary_view", "string_view"])
def test_arrow_variable_width(impl, typ):
    pa = _pa()
    vals = [b"a", None, b"", b"x" * 40, b"twelve bytes", b"thirteen byte", None] * 30
    if "string" in typ:
        vals = [None if v is None else v.decode() for v in vals]
    arr = pa.array(vals, type=getattr(pa, typ)())
    want = [impl.partition(v, 12) for v in vals]
    assert list(impl.partition_many(arr, 12)) == want
    # sliced arrays honour their offset
    assert list(impl.partition_many(arr.slice(3, 50), 12)) == want[3:53]
    assert list(impl.partition_many(arr.slice(5), 12, strategy="librdkafka")) == [
        impl.partition(v, 12, strategy="librdkafka") for v in vals[5:]
    ]
    chunked = pa.chunked_array([arr.slice(0, 7), arr.slice(7, 0), arr.slice(7)])
    assert list(impl.partition_many(chunked, 12)) == want


def test_arrow_fixed_size_binary_and_others(impl):
    pa = _pa()
    vals = [os.urandom(16) for _ in range(50)]
    vals[3] = None
    arr = pa.array(vals, type=pa.binary(16))
    want = [impl.partition(v, 12) for v in vals]
    assert list(impl.partition_many(arr, 12)) == want
    assert list(impl.partition_many(arr.slice(2, 10), 12)) == want[2:12]
    assert list(impl.partition_many(pa.array([None, None]), 12)) == [-1, -1]
    dict_arr = pa.array(["a", "b", None, "a"]).dictionary_encode()
    assert list(impl.partition_many(dict_arr, 12)) == [impl.partition(v, 12) for v in ["a", "b", None, "a"]]
    assert list(impl.partition_many(pa.array([], type=pa.binary()), 12)) == []
    with pytest.raises(TypeError, match="format 'l'"):
        impl.partition_many(pa.array([1, 2, 3]), 12)


def test_polars_series(impl):
    pl = pytest.importorskip("polars")
    s = pl.Series(["a", None, "b" * 20, ""])
    want = [impl.partition(v, 7) for v in ["a", None, "b" * 20, ""]]
    assert list(impl.partition_many(s, 7)) == want
    sb = pl.Series([b"a", None, b"c" * 30])
    assert list(impl.partition_many(sb, 7)) == [impl.partition(v, 7) for v in [b"a", None, b"c" * 30]]
    assert list(impl.partition_many(s.slice(1, 3), 7)) == want[1:4]


def test_huge_key(impl):
    # hundreds of MiB through the native core; the pure twin hashes 16 MiB in reasonable time
    size = (300 << 20) if impl.IMPLEMENTATION == "native" else (16 << 20)
    key = b"\xab" * size
    p = impl.partition(key, 1000)
    assert 0 <= p < 1000
    assert list(impl.partition_many([key, key], 1000)) == [p, p]
    if impl.IMPLEMENTATION == "python":
        try:
            from fastpart import _core
        except ImportError:  # PyPy, or no compiled core in this install: nothing to compare with
            return
        assert _core.partition(key, 1000) == p


def test_threads_agree(impl):
    keys = [os.urandom(24) for _ in range(20000)]
    want = list(impl.partition_many(keys, 101))
    results = []

    def work():
        results.append(list(impl.partition_many(keys, 101)))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [want] * 4


def test_mutating_list_from_another_thread_is_safe(native):
    keys = [os.urandom(32) for _ in range(200000)]
    stop = threading.Event()

    def mutate():
        while not stop.is_set():
            keys.append(b"x")
            keys.pop()

    t = threading.Thread(target=mutate)
    t.start()
    done = errors = 0
    try:
        for _ in range(5):
            try:
                res = native.partition_many(keys, 12)
            except RuntimeError as exc:  # the list shrank below its starting length
                assert str(exc).startswith("the list of keys shrank during partition_many()")
                errors += 1
            else:
                assert all(0 <= p < 12 for p in res)
                done += 1
    finally:
        stop.set()
        t.join()
    assert done + errors == 5
    # a tuple snapshot is immune to the mutation
    snapshot = tuple(keys)
    assert list(native.partition_many(snapshot, 12)) == [native.partition(k, 12) for k in snapshot]


class _MutatingKey(bytearray):
    """A key whose own code changes the list of keys while partition_many reads it.

    ``isinstance(key, cls)`` consults ``key.__class__`` when the type check
    fails, and both cores ask ``isinstance(key, str)`` of a bytearray
    subclass: the property runs once, in the middle of the call.
    """

    def arm(self, action):
        self.action = action
        self.fired = 0
        return self

    @property
    def __class__(self):
        if self.fired == 0:
            self.fired = 1
            self.action()
        return bytearray


@pytest.mark.parametrize("size,at", [(10, 2), (3000, 1500)])
def test_list_shrinking_during_the_call_is_an_error(impl, size, at):
    keys = [b"k%d" % i for i in range(size)]
    cut = at + (size - at) // 2

    def shrink():
        del keys[cut:]

    keys[at] = _MutatingKey(b"mutating").arm(shrink)
    with pytest.raises(RuntimeError, match=r"^the list of keys shrank during partition_many\(\)"):
        impl.partition_many(keys, 12)
    assert keys[at].fired == 1 and len(keys) == cut  # the list really shrank during the call


@pytest.mark.parametrize("size,at", [(10, 2), (3000, 1500)])
def test_list_changed_during_the_call_reads_items_as_they_are(impl, size, at):
    keys = [b"k%d" % i for i in range(size)]
    before = list(keys)

    def change():
        keys[at + 1] = b"replaced"  # read after the change: the new key
        keys[at - 1] = b"too late"  # read before the change: the old key
        keys.extend([b"appended"] * 5)  # items beyond the starting length are not read

    keys[at] = _MutatingKey(b"mutating").arm(change)
    got = list(impl.partition_many(keys, 12))
    assert keys[at].fired == 1 and len(keys) == size + 5
    seen = before[:at] + [b"mutating", b"replaced"] + before[at + 2 :]
    assert got == [impl.partition(k, 12) for k in seen]


@pytest.mark.skipif(sys.version_info < (3, 12), reason="Python classes export buffers (__buffer__) from 3.12")
def test_list_shrunk_by_a_buffer_export(impl):
    keys = [b"a", b"b", None, b"d", b"e", b"f"]

    class Key:
        def __buffer__(self, flags):
            del keys[3:]
            return memoryview(b"key")

    keys[1] = Key()
    with pytest.raises(RuntimeError, match="shrank during partition_many"):
        impl.partition_many(keys, 12)
    assert len(keys) == 3


# --------------------------------------------------------------- grouping

def test_group_by_partition(impl):
    keys = [os.urandom(8) for _ in range(5000)] + [None, None]
    for n in (1, 3, 12, 70000, 2**31 - 1):
        g = impl.group_by_partition(keys, n)
        parts = list(g.partitions)
        assert parts == list(impl.partition_many(keys, n))
        seen = []
        for p, idx in g:
            idx = list(idx)
            assert idx == sorted(idx)  # stable
            assert all(parts[i] == p for i in idx)
            seen += idx
        assert sorted(seen) == list(range(len(keys)))
        assert list(g.partition_ids) == sorted(set(parts))
        assert sum(g.counts().values()) == len(keys)
        assert g.counts()[-1] == 2
        assert list(g.indices(-1)) == [5000, 5001]
        assert list(g.indices(-5)) == []
    empty = impl.group_by_partition([], 4)
    assert len(empty) == 0 and list(empty) == []


# ----------------------------------------------------------- implementation

def test_no_extensions_env_forces_twin():
    code = "import fastpart; print(fastpart.IMPLEMENTATION)"
    env = dict(os.environ, FASTPART_NO_EXTENSIONS="1")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "python"


def test_public_api():
    assert fastpart.IMPLEMENTATION in ("native", "python")
    assert isinstance(fastpart.__version__, str) and fastpart.__version__.count(".") >= 2
    for name in fastpart.__all__:
        assert hasattr(fastpart, name), name
    assert fastpart.partition(b"21", 10) == 0


def test_native_docstring_examples(native):
    import doctest

    result = doctest.testmod(native, verbose=False)
    assert result.attempted > 5 and result.failed == 0


def test_simd_kernels_match_scalar(native):
    """The AVX2 lanes (when the CPU has them) give the scalar kernel's answers."""
    np = pytest.importorskip("numpy")
    import random

    rng = random.Random(7)
    keys = [rng.randbytes(rng.randrange(0, 80)) for _ in range(2000)]
    for length in range(0, 200):
        keys += [rng.randbytes(length) for _ in range(9)]
    keys += [b"\xff" * 16] * 16 + [None] * 3 + [b"\x00" * 36] * 8
    counts = [1, 2, 3, 7, 12, 1000, 10007, 65536, 2**30 + 1, 2**31 - 2, 2**31 - 1]
    try:
        for n in counts:
            native._simd(True)
            wide = list(native.partition_many(keys, n))
            tables = {w: np.frombuffer(rng.randbytes(w * 1003), dtype=np.uint8).reshape(1003, w) for w in (0, 1, 4, 7, 16, 36, 101)}
            wide_t = {w: list(native.partition_many(t, n)) for w, t in tables.items()}
            native._simd(False)
            assert wide == list(native.partition_many(keys, n))
            for w, t in tables.items():
                assert wide_t[w] == list(native.partition_many(t, n)), (w, n)
    finally:
        native._simd(True)


def test_partition_signature_is_positional(impl):
    with pytest.raises(TypeError):
        impl.partition(key=b"a", num_partitions=3)
    assert impl.partition(b"a", 3, strategy="java") == impl.partition(b"a", 3)
