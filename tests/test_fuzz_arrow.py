"""Differential fuzz of both cores' Arrow readers (bounded: a few seconds).

- Valid arrays of every supported type (binary, string, large_*, *_view,
  fixed_size_binary, dictionaries with int8..uint64 indices), sliced, chunked,
  with nulls, against an independent murmur2 written here (checked against
  kafka-python's when installed) and against ``partition`` for other strategies.
- Malformed arrays, from ``pa.Array.from_buffers`` (which skips pyarrow's full
  validation) and hand-made C Data capsules: every one is a ValueError or a
  TypeError in BOTH cores with the same message, never a crash.

Runs by itself (``pytest tests/test_fuzz_arrow.py``), also under ASan/UBSan.
"""

from __future__ import annotations

import platform
import random
import struct
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from arrow_capsules import Fake, FakeStream, metadata, offsets32, offsets64, view  # noqa: E402
from arrow_capsules import HAVE_PYTHONAPI  # noqa: E402

if not HAVE_PYTHONAPI:  # PyPy: see tests/test_arrow_pypy.py for what it does with Arrow input
    pytest.skip("the Arrow fuzz tests make and read capsules through ctypes.pythonapi, which "
                f"{platform.python_implementation()} does not have", allow_module_level=True)

pa = pytest.importorskip("pyarrow")
np = pytest.importorskip("numpy")

from fastpart import _core_py  # noqa: E402

try:
    from fastpart import _core as _native
except ImportError:  # the pure twin alone (the native half of each test is skipped)
    _native = None

CORES = [c for c in (_native, _core_py) if c is not None]


def murmur2(data: bytes) -> int:
    """Kafka's Utils.murmur2, written from the algorithm (unsigned result)."""
    m, mask = 0x5BD1E995, 0xFFFFFFFF
    length = len(data)
    h = (0x9747B28C ^ length) & mask
    for i in range(0, length - length % 4, 4):
        k = int.from_bytes(data[i:i + 4], "little")
        k = (k * m) & mask
        k ^= k >> 24
        k = (k * m) & mask
        h = ((h * m) & mask) ^ k
    tail = data[length - length % 4:]
    if len(tail) >= 3:
        h ^= tail[2] << 16
    if len(tail) >= 2:
        h ^= tail[1] << 8
    if tail:
        h ^= tail[0]
        h = (h * m) & mask
    h ^= h >> 13
    h = (h * m) & mask
    h ^= h >> 15
    return h


def java(key, n):
    if key is None:
        return -1
    if isinstance(key, str):
        key = key.encode()
    return (murmur2(key) & 0x7FFFFFFF) % n


def test_reference_murmur2_matches_kafka_python():
    kp = pytest.importorskip("kafka.partitioner.default")
    rng = random.Random(5)
    for _ in range(300):
        k = rng.randbytes(rng.randrange(0, 40))
        assert murmur2(k) & 0x7FFFFFFF == kp.murmur2(k) & 0x7FFFFFFF


# ----------------------------------------------------------------- valid arrays

VAR_TYPES = ["binary", "string", "large_binary", "large_string", "binary_view", "string_view"]
INDEX_TYPES = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]


def _random_keys(rng, count, text):
    mode = rng.choice(["equal", "mixed", "runs"])
    width = rng.choice([0, 1, 3, 4, 12, 13, 16, 36, 37, 100])
    keys = []
    while len(keys) < count:
        if mode == "equal":
            length = width
            run = count
        elif mode == "runs":
            length = rng.choice([width, rng.randrange(0, 50)])
            run = rng.randrange(1, 40)
        else:
            length = rng.randrange(0, 50)
            run = 1
        for _ in range(min(run, count - len(keys))):
            if rng.random() < 0.08:
                keys.append(None)
            elif text:
                keys.append("".join(rng.choice("abcdef0123-\u00e9") for _ in range(length)))
            else:
                keys.append(rng.randbytes(length))
    return keys


def _random_array(rng):
    kind = rng.choice(["var"] * 6 + ["fixed", "dict"])
    count = rng.choice([0, 1, 7, 8, 9, 300, 1100, 2500])
    if kind == "fixed":
        w = rng.choice([0, 1, 4, 16, 36])
        keys = [None if rng.random() < 0.1 else rng.randbytes(w) for _ in range(count)]
        arr = pa.array(keys, type=pa.binary(w))
    elif kind == "dict":
        typ = rng.choice(VAR_TYPES[:4])
        values = pa.array(_random_keys(rng, rng.choice([1, 5, 40, 1500]), "string" in typ), type=getattr(pa, typ)())
        itype = rng.choice(INDEX_TYPES)
        hi = len(values) if itype not in ("int8", "uint8") else min(len(values), 127)
        idx = [None if rng.random() < 0.1 else rng.randrange(hi) for _ in range(count)]
        arr = pa.DictionaryArray.from_arrays(pa.array(idx, type=getattr(pa, itype)()), values)
    else:
        typ = rng.choice(VAR_TYPES)
        arr = pa.array(_random_keys(rng, count, "string" in typ), type=getattr(pa, typ)())
    if len(arr) and rng.random() < 0.5:
        start = rng.randrange(len(arr))
        arr = arr.slice(start, rng.randrange(len(arr) - start + 1))
    if rng.random() < 0.3:
        cuts = sorted(rng.randrange(len(arr) + 1) for _ in range(rng.randrange(1, 4)))
        bounds = [0] + cuts + [len(arr)]
        arr = pa.chunked_array([arr.slice(a, b - a) for a, b in zip(bounds, bounds[1:])], type=arr.type)
    return arr


@pytest.mark.parametrize("core", CORES, ids=lambda c: c.IMPLEMENTATION)
def test_valid_arrays_match_independent_murmur2(core):
    rng = random.Random(2026)
    for it in range(120 if core is _native else 60):
        arr = _random_array(rng)
        n = rng.choice([1, 7, 12, 1000, 2**31 - 1])
        want = [java(k, n) for k in arr.to_pylist()]
        got = list(core.partition_many(arr, n))
        assert got == want, (it, arr.type, len(arr))
        strategy = rng.choice(["librdkafka", "sarama", "kafkajs:legacy", "librdkafka:fnv1a"])
        assert list(core.partition_many(arr, n, strategy=strategy)) == \
            [core.partition(k, n, strategy=strategy) for k in arr.to_pylist()], (it, arr.type, strategy)


# ------------------------------------------------------------- malformed arrays

def _both(make, exc_types=(ValueError, TypeError)):
    """Each core raises one of exc_types, with the same message; returns it."""
    messages = []
    for core in CORES:
        with pytest.raises(exc_types) as info:
            core.partition_many(make(), 12)
        messages.append(str(info.value))
    assert len(set(messages)) == 1, messages
    return messages[0]


def _o32(values):
    return pa.py_buffer(np.array(values, np.int32).tobytes())


def test_from_buffers_decreasing_offsets():
    rng = random.Random(7)
    for _ in range(40):
        n = rng.randrange(2, 3000)
        lens = [rng.randrange(0, 6) for _ in range(n)]
        offs = [0]
        for length in lens:
            offs.append(offs[-1] + length)
        bad = rng.randrange(1, n)
        offs[bad] = offs[bad + 1] + 1 if offs[bad + 1] + 1 <= offs[-1] else offs[-1]
        if offs[bad] <= offs[bad + 1] and offs[bad - 1] <= offs[bad]:
            continue
        first = next(i for i in range(n) if offs[i + 1] < offs[i])
        typ = rng.choice([pa.binary(), pa.string(), pa.large_binary(), pa.large_string()])
        dt = np.int32 if typ in (pa.binary(), pa.string()) else np.int64
        data = pa.py_buffer(bytes(offs[-1]))
        arr = pa.Array.from_buffers(typ, n, [None, pa.py_buffer(np.array(offs, dt).tobytes()), data])
        msg = _both(lambda: arr, ValueError)
        assert f"chunk 0, index {first}): offsets decrease" in msg
        msg = _both(lambda: pa.chunked_array([arr.slice(0, 0), arr], type=typ), ValueError)
        assert f"chunk 1, index {first})" in msg


def _views(entries):
    return pa.py_buffer(b"".join(view(*e) for e in entries))


@pytest.mark.parametrize("entry,rule", [
    ((20, b"abcd", 3, 0), "view buffer index is outside the variadic buffers"),
    ((20, b"abcd", -1, 0), "view buffer index is outside the variadic buffers"),
    ((20, b"abcd", 0, 20), "view offset + length is past the end of its buffer"),
    ((20, b"abcd", 0, -5), "view offset is negative"),
    ((-3,), "view length is negative"),
])
def test_from_buffers_bad_views(entry, rule):
    good = [(5, b"hello"), (20, b"xxxx", 0, 0)]
    for pos in (0, 1, 2):
        entries = good[:pos] + [entry] + good[pos:]
        arr = pa.Array.from_buffers(pa.binary_view(), 3, [None, _views(entries), pa.py_buffer(b"x" * 30)])
        msg = _both(lambda: arr, ValueError)
        assert f"index {pos}): {rule}" in msg
    # a null slot's view is never read, whatever it holds
    validity = pa.py_buffer(bytes([0b110]))
    arr = pa.Array.from_buffers(pa.binary_view(), 3, [validity, _views([entry] + good), pa.py_buffer(b"x" * 30)],
                                null_count=1)
    for core in CORES:
        assert list(core.partition_many(arr, 12)) == [-1, java(b"hello", 12), java(b"x" * 20, 12)]


def test_bad_view_inside_a_run():
    """Long runs of back-to-back views (checked a chunk at a time) with one bad or moved view
    anywhere: the same first bad index and message in both cores, or the right answer."""
    rng = random.Random(13)
    rules = {"len": "view length is negative", "buf": "view buffer index is outside the variadic buffers",
             "neg": "view offset is negative", "end": "view offset + length is past the end of its buffer"}
    for _ in range(150):
        n, width = rng.randrange(2, 400), rng.choice([13, 20, 36])
        data = bytes(rng.randrange(256) for _ in range(n * width))
        entries = [(width, data[i * width:i * width + 4], 0, i * width) for i in range(n)]
        pos, how = rng.randrange(n), rng.choice(["len", "buf", "neg", "end", "moved", "short", "null"])
        keys = [data[i * width:(i + 1) * width] for i in range(n)]
        validity = None
        if how == "len":
            entries[pos] = (-1,)
        elif how == "buf":
            entries[pos] = (width, b"", rng.choice([1, -1]), pos * width)
        elif how == "neg":
            entries[pos] = (width, b"", 0, -width)
        elif how == "end":
            entries[pos] = (width, b"", 0, n * width - width + 1)
        elif how == "moved":  # valid, but not where the run expects it
            at = rng.randrange(n * width - width + 1)
            entries[pos] = (width, data[at:at + 4], 0, at)
            keys[pos] = data[at:at + width]
        elif how == "short":
            entries[pos] = (5, data[:5])
            keys[pos] = data[:5]
        else:  # a null slot holding garbage breaks the run, and is never read
            entries[pos] = (width, b"", 7, -99)
            bits = [1] * n
            bits[pos] = 0
            validity = pa.py_buffer(np.packbits(np.array(bits, np.uint8), bitorder="little").tobytes())
            keys[pos] = None
        arr = pa.Array.from_buffers(pa.binary_view(), n, [validity, _views(entries), pa.py_buffer(data)],
                                    null_count=0 if validity is None else 1)
        if how in rules:
            assert f"index {pos}): {rules[how]}" in _both(lambda: arr, ValueError), (n, width, pos, how)
        else:
            for core in CORES:
                assert list(core.partition_many(arr, 12)) == [java(k, 12) for k in keys], (n, width, pos, how)


def test_view_offsets_that_wrap_are_not_a_run():
    """Offsets past 2**31 wrap to negative int32 values: modulo 2**32 they still continue the
    run, so a run is taken whole only when its end fits in int32; the wrapped view is an error."""
    width, n = 20, 100
    start = 2**31 - 40 * width
    offs = [(start + i * width + 2**31) % 2**32 - 2**31 for i in range(n)]
    views = b"".join(view(width, b"abcd", 0, o) for o in offs)
    # the variadic buffer claims 2**33 bytes: only the view check stands between it and a read
    make = lambda: Fake(b"vz", n, [None, views, b"x" * 64, offsets64(2**33)])  # noqa: E731
    assert "index 40): view offset is negative" in _both(make, ValueError)


@pytest.mark.parametrize("itype", INDEX_TYPES)
def test_from_buffers_bad_dictionary_indices(itype):
    values = pa.array(["a", "b", "c"])
    signed = not itype.startswith("u")
    dt = np.dtype(itype)
    for bad, rule in [(3, "is past the end"), (int(np.iinfo(dt).max), "is past the end")] + \
            ([(-1, "is negative"), (int(np.iinfo(dt).min), "is negative")] if signed else []):
        idx = np.array([0, 2, bad, 1], dtype=dt)
        arr = pa.DictionaryArray.from_buffers(pa.dictionary(getattr(pa, itype)(), pa.string()), 4,
                                              [None, pa.py_buffer(idx.tobytes())], values)
        msg = _both(lambda: arr, ValueError)
        assert f"chunk 0, index 2): dictionary index {rule}" in msg
    # a null index is never read
    idx = np.array([0, 7, 1], dtype=dt)
    arr = pa.DictionaryArray.from_buffers(pa.dictionary(getattr(pa, itype)(), pa.string()), 3,
                                          [pa.py_buffer(bytes([0b101])), pa.py_buffer(idx.tobytes())], values,
                                          null_count=1)
    for core in CORES:
        assert list(core.partition_many(arr, 12)) == [java("a", 12), -1, java("b", 12)]


def _valid_fake(kind):
    if kind == "z":
        return Fake(b"z", 3, [None, offsets32(0, 2, 2, 5), b"abcde"])
    if kind == "U":
        return Fake(b"U", 3, [None, offsets64(0, 2, 2, 5), b"abcde"])
    if kind == "vz":
        return Fake(b"vz", 2, [None, view(5, b"hello") + view(20, b"xxxx", 0, 0), b"x" * 30, offsets64(30)])
    if kind == "w":
        return Fake(b"w:4", 2, [None, b"abcdefgh"])
    if kind == "n":
        return Fake(b"n", 4, [])
    return Fake(b"c", 3, [None, bytes([0, 1, 0])], dictionary=Fake(b"u", 2, [None, offsets32(0, 1, 3), b"abc"]))


HAND_MADE = {
    "w:-8": lambda: Fake(b"w:-8", 1, [None, b"x" * 8]),
    "w:4abc": lambda: Fake(b"w:4abc", 1, [None, b"x" * 8]),
    "w:": lambda: Fake(b"w:", 1, [None, b"x" * 8]),
    "w:99999999999": lambda: Fake(b"w:99999999999", 1, [None, b"x" * 8]),
    "unknown format": lambda: Fake(b"zz", 1, [None, offsets32(0, 1), b"x"]),
    "empty format": lambda: Fake(b"", 1, [None, offsets32(0, 1), b"x"]),
    "too few buffers": lambda: Fake(b"z", 3, [None, offsets32(0, 2, 2, 5)]),
    "too many buffers": lambda: Fake(b"w:4", 1, [None, b"abcd", b"x"]),
    "views without sizes": lambda: Fake(b"vz", 1, [None, view(3, b"abc")]),
    "null type with a buffer": lambda: Fake(b"n", 1, [None]),
    "NULL buffers pointer": lambda: Fake(b"z", 3, None, n_buffers=3),
    "NULL offsets": lambda: Fake(b"z", 3, [None, None, b"abcde"]),
    "NULL data with bytes": lambda: Fake(b"z", 3, [None, offsets32(0, 2, 2, 5), None]),
    "NULL fixed data": lambda: Fake(b"w:4", 2, [None, None]),
    "NULL validity with nulls": lambda: Fake(b"z", 3, [None, offsets32(0, 2, 2, 5), b"abcde"], null_count=1),
    "negative first offset": lambda: Fake(b"z", 3, [None, offsets32(-4, 2, 2, 5), b"abcde"]),
    "decreasing offset": lambda: Fake(b"Z", 3, [None, offsets64(0, 4, 2, 5), b"abcde"]),
    "negative offset": lambda: Fake(b"z", 3, [None, offsets32(0, 2, 2, 5), b"abcde"], offset=-1),
    "negative length": lambda: Fake(b"z", -3, [None, offsets32(0, 2, 2, 5), b"abcde"]),
    "null_count -2": lambda: Fake(b"z", 3, [None, offsets32(0, 2, 2, 5), b"abcde"], null_count=-2),
    "offset + length overflows": lambda: Fake(b"z", 3, [None, offsets32(0, 2, 2, 5), b"abcde"], offset=2**63 - 2),
    "fixed width overflows": lambda: Fake(b"w:2147483647", 3, [None, b"x"], offset=2**40),
    "view index past variadic": lambda: Fake(b"vz", 1, [None, view(20, b"abcd", 1, 0), b"x" * 30, offsets64(30)]),
    "view past buffer size": lambda: Fake(b"vz", 1, [None, view(20, b"abcd", 0, 11), b"x" * 30, offsets64(30)]),
    "view negative length": lambda: Fake(b"vu", 1, [None, view(-1), b"x" * 30, offsets64(30)]),
    "view negative size": lambda: Fake(b"vu", 1, [None, view(3, b"abc"), b"x" * 30, offsets64(-30)]),
    "view NULL variadic": lambda: Fake(b"vz", 1, [None, view(20, b"abcd", 0, 0), None, offsets64(30)]),
    "view NULL sizes": lambda: Fake(b"vz", 1, [None, view(20, b"abcd", 0, 0), b"x" * 30, None]),
    "dictionary index past end": lambda: Fake(b"c", 2, [None, bytes([0, 2])], dictionary=Fake(b"u", 2, [None, offsets32(0, 1, 2), b"ab"])),
    "dictionary index negative": lambda: Fake(b"s", 2, [None, struct.pack("<2h", 0, -1)], dictionary=Fake(b"u", 2, [None, offsets32(0, 1, 2), b"ab"])),
    "dictionary missing array": lambda: _no_dict_array(),
    "dictionary bad values": lambda: Fake(b"c", 1, [None, bytes([0])], dictionary=Fake(b"u", 2, [None, offsets32(0, 3, 2), b"abc"])),
    "dictionary index float": lambda: Fake(b"g", 1, [None, bytes(8)], dictionary=Fake(b"u", 1, [None, offsets32(0, 1), b"a"])),
    "dictionary NULL indices": lambda: Fake(b"i", 1, [None, None], dictionary=Fake(b"u", 1, [None, offsets32(0, 1), b"a"])),
    "released array": lambda: Fake(b"z", 3, [None, offsets32(0, 2, 2, 5), b"abcde"], released=True),
    "typed int64": lambda: Fake(b"l", 1, [None, bytes(8)]),
    "uuid extension": lambda: Fake(b"w:16", 1, [None, bytes(16)], meta=metadata({b"ARROW:extension:name": b"arrow.uuid"})),
    "truncated metadata count": lambda: Fake(b"z", 1, [None, offsets32(0, 1), b"x"], meta=struct.pack("<i", -1)),
    "stream get_next fails": lambda: FakeStream([_valid_fake("z")], fail_next=True),
    "stream with a bad chunk": lambda: FakeStream([_valid_fake("z"), Fake(b"z", 3, [None, offsets32(0, 4, 2, 5), b"abcde"])]),
}


def _no_dict_array():
    f = Fake(b"c", 1, [None, bytes([0])], dictionary=Fake(b"u", 1, [None, offsets32(0, 1), b"a"]))
    f.array.dictionary = None
    return f


@pytest.mark.parametrize("case", list(HAND_MADE))
def test_hand_made_capsules(case):
    msg = _both(HAND_MADE[case])
    assert msg


def test_valid_hand_made_capsules_work():
    want = {"z": [b"ab", b"", b"cde"], "U": [b"ab", b"", b"cde"], "vz": [b"hello", b"x" * 20],
            "w": [b"abcd", b"efgh"], "n": [None] * 4, "c": [b"a", b"bc", b"a"]}
    for kind, keys in want.items():
        for core in CORES:
            assert list(core.partition_many(_valid_fake(kind), 12)) == [java(k, 12) for k in keys], (kind, core)
            assert list(core.partition_many(FakeStream([_valid_fake(kind)] * 2), 12)) == \
                [java(k, 12) for k in keys * 2], (kind, core)


def test_random_corruptions():
    """Random fields of valid capsules set to wrong values: an error or a right answer, never a crash."""
    rng = random.Random(11)
    fields = ["length", "offset", "null_count", "n_buffers", "buffers", "buffer", "format", "release"]
    for it in range(400):
        kind = rng.choice(["z", "U", "vz", "w", "n", "c"])
        field = rng.choice(fields)
        value = rng.choice([-2**63, -5, -1, 0, 1, 2, 3, 2**62])
        drop = rng.choice([-2, -1])
        which = rng.randrange(8)
        fmt = rng.choice([b"w:-8", b"w:4abc", b"w:", b"zz", b"", b"+s", b"q", b"tsu:", b"vq"])

        def make():
            f = _valid_fake(kind)
            a = f.array
            if field == "length":
                a.length = value
            elif field == "offset":
                a.offset = value
            elif field == "null_count":
                a.null_count = value
            elif field == "n_buffers":
                a.n_buffers = max(0, a.n_buffers + drop)
            elif field == "buffers":
                a.buffers = None
            elif field == "buffer" and a.n_buffers:
                a.buffers[which % a.n_buffers] = None
            elif field == "format":
                f.schema.format = fmt
            elif field == "release":
                a.release = None
            return f

        # bounds the C Data Interface does not carry (a length or offset past the
        # end of a buffer whose size it does not give) are not checkable, and a null column
        # of 2**62 keys needs 2**64 bytes of output: skip them
        if field in ("length", "offset") and value > 0:
            continue
        results = []
        for core in CORES:
            try:
                results.append(("ok", list(core.partition_many(make(), 12))))
            except (ValueError, TypeError) as exc:
                results.append(("error", str(exc)))
        assert len({repr(r) for r in results}) == 1, (it, kind, field, value, results)
