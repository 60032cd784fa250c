"""Arrow input in both cores: the contract, typed columns, streams, out= aliasing, memory, PyPy.

The contract: for an accepted Arrow column ``x``,
``partition_many(x, n) == [partition(k, n) for k in x.to_pylist()]``.
Malformed arrays are in tests/test_fuzz_arrow.py.
"""

from __future__ import annotations

import ctypes
import os
import platform
import sys
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from arrow_capsules import Fake, FakeStream, metadata, offsets32  # noqa: E402
from arrow_capsules import HAVE_PYTHONAPI  # noqa: E402

if not HAVE_PYTHONAPI:  # PyPy: tests/test_arrow_pypy.py checks its clear error instead
    pytest.skip("the pure core reads Arrow through ctypes.pythonapi, which "
                f"{platform.python_implementation()} does not have (no compiled core there either)",
                allow_module_level=True)

pa = pytest.importorskip("pyarrow")
np = pytest.importorskip("numpy")

STRATEGIES = ["java", "librdkafka", "kafkajs:legacy", "librdkafka:fnv1a", "kafka-go:hash", "sarama"]


def _want(impl, values, n=12, strategy="java"):
    return [impl.partition(v, n, strategy=strategy) for v in values]


def _uuids(count, seed=0):
    import random

    rng = random.Random(seed)
    return [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(count)]


@pytest.mark.parametrize("typ", ["binary", "string", "large_binary", "large_string", "binary_view", "string_view"])
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_variable_width_contract(impl, typ, strategy):
    # equal-length runs (the lanes), short runs, empty keys, nulls, inline and long views
    keys = _uuids(300) + ["", "a", "ab"] * 5 + [None] * 3 + ["x" * 13, "y" * 12, "z" * 100] * 4
    arr = pa.array(keys, type=getattr(pa, typ)())
    vals = arr.to_pylist()
    assert list(impl.partition_many(arr, 12, strategy=strategy)) == _want(impl, vals, 12, strategy)
    s = arr.slice(7, 250)
    assert list(impl.partition_many(s, 12, strategy=strategy)) == _want(impl, s.to_pylist(), 12, strategy)


@pytest.mark.parametrize("strategy", ["java", "librdkafka"])
def test_views_over_many_buffers(impl, strategy):
    # pyarrow starts a new variadic buffer every 32 KiB: runs of back-to-back keys end at
    # buffer and block boundaries; nulls, inline keys and other lengths break them too
    keys = _uuids(5000)
    for i in range(0, 5000, 97):
        keys[i] = None
    for i in range(5, 5000, 331):
        keys[i] = "short"
    for i in range(11, 5000, 509):
        keys[i] = "k" * 40
    arr = pa.array(keys, type=pa.string_view())
    assert len(arr.buffers()) > 4, "expected several variadic buffers"
    assert list(impl.partition_many(arr, 12, strategy=strategy)) == _want(impl, keys, 12, strategy)
    s = arr.slice(1000, 2500)
    assert list(impl.partition_many(s, 12, strategy=strategy)) == _want(impl, keys[1000:3500], 12, strategy)


def test_views_equal_length_not_back_to_back(impl):
    # 40 views of 20 bytes, all at offset 0 or 20 of one buffer (not back to back), with a
    # null slot in the middle whose view points nowhere: it is never read
    from arrow_capsules import view

    data = bytes(range(40))
    views = [view(20, data[o:], 0, o) for o in [0, 20, 20, 0, 0, 20, 0, 20] * 5]
    views[17] = view(20, b"", 99, 1 << 30)
    validity = bytearray(b"\xff" * 5)
    validity[17 >> 3] &= ~(1 << (17 & 7)) & 0xFF
    arr = pa.Array.from_buffers(pa.binary_view(), 40, [pa.py_buffer(bytes(validity)),
                                                       pa.py_buffer(b"".join(views)), pa.py_buffer(data)])
    vals = arr.to_pylist()
    assert vals[17] is None and vals[0] == data[:20] and vals[1] == data[20:]
    assert list(impl.partition_many(arr, 12)) == _want(impl, vals)


def test_fixed_size_binary_and_w0(impl):
    vals = [os.urandom(16) for _ in range(100)] + [None]
    arr = pa.array(vals, type=pa.binary(16))
    assert list(impl.partition_many(arr, 12)) == _want(impl, vals)
    assert list(impl.partition_many(arr.slice(3, 90), 12)) == _want(impl, vals[3:93])
    w0 = pa.array([b"", None, b""], type=pa.binary(0))
    assert list(impl.partition_many(w0, 12, strategy="librdkafka")) == _want(impl, [b"", None, b""], 12, "librdkafka")


@pytest.mark.parametrize("index", ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"])
def test_dictionaries(impl, index):
    values = pa.array(["a", "bb", None, "dddd"] + _uuids(5))
    idx = pa.array([0, 1, 2, 3, None, 8, 0, 4], type=getattr(pa, index)())
    d = pa.DictionaryArray.from_arrays(idx, values)
    assert list(impl.partition_many(d, 12)) == _want(impl, d.to_pylist())
    assert list(impl.partition_many(d.slice(2, 5), 12)) == _want(impl, d.to_pylist()[2:7])
    # a dictionary larger than one block (hashed by pointer, not through the table)
    big = pa.array(_uuids(3000, seed=1))
    many = pa.DictionaryArray.from_arrays(pa.array(list(range(2999, -1, -3)), type=getattr(pa, index)())
                                          if index not in ("int8", "uint8") else pa.array([0, 1], type=getattr(pa, index)()), big)
    assert list(impl.partition_many(many, 7)) == _want(impl, many.to_pylist(), 7)


def test_chunked_null_and_empty(impl):
    a = pa.array(_uuids(40) + [None, "x"])
    ch = pa.chunked_array([a.slice(0, 10), a.slice(10, 0), a.slice(10)])
    assert list(impl.partition_many(ch, 12)) == _want(impl, ch.to_pylist())
    assert list(impl.partition_many(pa.array([None] * 5), 12)) == [-1] * 5
    assert list(impl.partition_many(pa.array([None] * 3), 12, strategy="franz-go")) == _want(impl, [None] * 3, 12, "franz-go")
    assert list(impl.partition_many(pa.chunked_array([], type=pa.string()), 12)) == []


def test_polars_and_pandas(impl):
    pl = pytest.importorskip("polars")
    pd = pytest.importorskip("pandas")
    vals = _uuids(100) + [None, "", "short"]
    for s in (pl.Series(vals), pl.Series([None if v is None else v.encode() for v in vals]),
              pl.Series(vals).cast(pl.Categorical)):
        assert list(impl.partition_many(s, 12)) == _want(impl, s.to_list())
    for dtype in ("string[pyarrow]", "string", "large_string[pyarrow]"):
        ser = pd.Series(vals, dtype=dtype) if "large" not in dtype else pd.Series(pa.array(vals, pa.large_string()), dtype=pd.ArrowDtype(pa.large_string()))
        want = _want(impl, [None if v is None else v for v in vals])
        assert list(impl.partition_many(ser, 12)) == want


TYPED = [
    (lambda: pa.array([1, 2], pa.int64()), "serde.int64"),
    (lambda: pa.array([1, 2], pa.int32()), "serde.int32"),
    (lambda: pa.array([1, 2], pa.int16()), "serde.int16"),
    (lambda: pa.array([1, 2], pa.int8()), "int8"),
    (lambda: pa.array([1, 2], pa.uint64()), "uint64"),
    (lambda: pa.array([1.5], pa.float64()), "serde.float64"),
    (lambda: pa.array([1.5], pa.float32()), "serde.float32"),
    (lambda: pa.array([True]), "boolean"),
    (lambda: pa.array([1], pa.timestamp("ms")), "timestamp"),
    (lambda: pa.array([1], pa.date32()), "date"),
    (lambda: pa.array([1], pa.duration("s")), "duration"),
    (lambda: pa.array([1], pa.decimal128(5, 2)), "decimal"),
    (lambda: pa.array([uuid.uuid4().bytes], type=pa.uuid()), "serde.uuid"),
    (lambda: pa.array([[1]]), "list"),
    (lambda: pa.table({"k": ["a"]}), "pass one column"),
    (lambda: pa.array([1, 2], pa.int64()).dictionary_encode(), "serde.int64"),
]


@pytest.mark.parametrize("make,hint", TYPED, ids=[h for _, h in TYPED])
def test_typed_columns_are_not_keys(impl, make, hint):
    with pytest.raises(TypeError, match=hint.replace(".", r"\.")):
        impl.partition_many(make(), 12)


def test_polars_object_and_numeric(impl):
    pl = pytest.importorskip("polars")
    with pytest.raises(TypeError, match="polars Object Series"):
        impl.partition_many(pl.Series([uuid.uuid4(), uuid.uuid4()], dtype=pl.Object), 12)
    with pytest.raises(TypeError, match=r"serde\.int64"):
        impl.partition_many(pl.Series([1, 2]), 12)
    with pytest.raises(TypeError, match=r"serde\.float64"):
        impl.partition_many(pl.Series([1.5]), 12)


def test_extension_types(impl):
    raw = [b"ab", b"cde"]
    unknown = Fake(b"z", 2, [None, offsets32(0, 2, 5), b"abcde"], meta=metadata({b"ARROW:extension:name": b"my.ext"}))
    with pytest.raises(TypeError, match="extension column 'my.ext'.*storage"):
        impl.partition_many(unknown, 12)
    js = Fake(b"u", 2, [None, offsets32(0, 2, 5), b"abcde"], meta=metadata({b"ARROW:extension:name": b"arrow.json"}))
    assert list(impl.partition_many(js, 12)) == _want(impl, raw)
    other = Fake(b"u", 2, [None, offsets32(0, 2, 5), b"abcde"], meta=metadata({b"PARQUET:field_id": b"7"}))
    assert list(impl.partition_many(other, 12)) == _want(impl, raw)


def test_stream_read_once(impl):
    na = pytest.importorskip("nanoarrow")
    vals = _uuids(50) + [None]
    ch = pa.chunked_array([pa.array(vals[:20]), pa.array(vals[20:])])
    stream = na.ArrayStream(ch)
    assert list(impl.partition_many(stream, 12)) == _want(impl, vals)
    with pytest.raises(ValueError, match=r"__arrow_c_stream__\(\) failed.*released"):
        impl.partition_many(stream, 12)  # one-shot: consumed by the first call
    # a typed stream is an error from the reader that read it, not "released"
    with pytest.raises(TypeError, match=r"serde\.int64"):
        impl.partition_many(na.ArrayStream(pa.chunked_array([pa.array([1, 2])])), 12)
    ok = Fake(b"z", 3, [None, offsets32(0, 2, 2, 5), b"abcde"])
    fake = FakeStream([ok, ok])
    assert list(impl.partition_many(fake, 12)) == _want(impl, [b"ab", b"", b"cde"] * 2)
    assert (fake.exports, fake.next_calls) == (1, 3)
    with pytest.raises(ValueError, match="get_next failed: the producer failed"):
        impl.partition_many(FakeStream([ok], fail_next=True), 12)


def test_record_batch_reader(impl):
    reader = pa.RecordBatchReader.from_batches(pa.schema([("k", pa.string())]), [pa.record_batch({"k": ["a"]})])
    with pytest.raises(TypeError, match="pass one column"):
        impl.partition_many(reader, 12)


def test_out_overlapping_arrow_buffers(impl):
    # fixed_size_binary(4) keys whose data buffer IS out's memory
    rng = np.random.default_rng(3)
    raw = rng.integers(0, 256, size=4 * 1000, dtype=np.uint8)
    keys = [raw[4 * i:4 * i + 4].tobytes() for i in range(1000)]
    arr = pa.Array.from_buffers(pa.binary(4), 1000, [None, pa.py_buffer(raw)])
    out = raw.view(np.int32)
    res = impl.partition_many(arr, 1000, out=out)
    assert res is out
    assert out.tolist() == _want(impl, keys, 1000)
    # binary keys: out overlaps the offsets and the data
    data = bytearray(os.urandom(4 * 600))
    offs = np.arange(0, 4 * 501, 4, dtype=np.int32)
    buf = np.frombuffer(data, dtype=np.uint8)
    keys = [bytes(data[o:o + 4]) for o in offs[:-1]]
    arr = pa.Array.from_buffers(pa.binary(), 500, [None, pa.py_buffer(offs), pa.py_buffer(buf)])
    out = buf.view(np.int32)[100:600]
    impl.partition_many(arr, 97, out=out)
    assert out.tolist() == _want(impl, keys, 97)
    keys = arr.to_pylist()  # the call above wrote into the data buffer
    out2 = offs.view(np.int32)[:500]
    want = _want(impl, keys, 13)
    impl.partition_many(arr, 13, out=out2)
    assert out2.tolist() == want


def test_memory_per_call(native):
    import tracemalloc  # CPython only (PyPy has no _tracemalloc); `native` is CPython only too

    arr = pa.array(_uuids(200_000))
    out = np.empty(len(arr), dtype=np.int32)
    native.partition_many(arr, 12, out=out)
    chunked = pa.chunked_array([arr, arr.slice(5)] * 4)
    out2 = np.empty(len(chunked), np.int32)
    tracemalloc.start()
    try:
        native.partition_many(arr, 12, out=out)
        native.partition_many(chunked, 12, out=out2)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # no per-key tables: a few KiB whatever the key count
    assert peak < 16 * 1024, peak


def test_pypy_without_pythonapi(monkeypatch):
    """On interpreters without ctypes.pythonapi (PyPy) the twin says what to do instead."""
    from fastpart import _arrow_py, _core_py

    monkeypatch.setattr(_arrow_py, "_getter", None)
    monkeypatch.delattr(ctypes, "pythonapi")
    with pytest.raises(TypeError, match=r"ctypes\.pythonapi.*to_pylist\(\)"):
        _core_py.partition_many(pa.array(["a"]), 12)


def test_issue_example_both_cores(impl):
    arr = pa.Array.from_buffers(pa.binary(), 3, [None, pa.py_buffer(np.array([0, 5, 2, 8], np.int32).tobytes()),
                                                 pa.py_buffer(b"abcdefgh")])
    with pytest.raises(ValueError, match=r"chunk 0, index 1\): offsets decrease"):
        impl.partition_many(arr, 12)
    ch = pa.chunked_array([pa.array([b"ok"]), arr])
    with pytest.raises(ValueError, match=r"chunk 1, index 1\): offsets decrease"):
        impl.partition_many(ch, 12)


def test_compiled_core_reads_arrow_without_its_twin():
    """Every Arrow form, dictionaries included, without importing the ctypes reader."""
    import subprocess

    code = (
        "import sys, pyarrow as pa, fastpart._core as c\n"
        "vals = ['a', None, 'bb' * 20]\n"
        "for x in (pa.array(vals), pa.array(vals).dictionary_encode(), pa.chunked_array([pa.array(vals)]),\n"
        "          pa.array(vals, pa.string_view()), pa.array([b'abcd', None], pa.binary(4))):\n"
        "    c.partition_many(x, 12)\n"
        "assert 'fastpart._arrow_py' not in sys.modules, 'the compiled core imported its twin'\n"
    )
    pytest.importorskip("fastpart._core")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_unknown_null_count_and_null_data(impl):
    # null_count -1 (not computed by the producer): the validity bitmap decides
    f = Fake(b"z", 3, [bytes([0b101]), offsets32(0, 2, 2, 5), b"abcde"], null_count=-1)
    assert list(impl.partition_many(f, 12)) == _want(impl, [b"ab", None, b"cde"])
    # no bytes at all: the data buffer may be NULL (w:0, or all-empty binary keys)
    assert list(impl.partition_many(Fake(b"w:0", 2, [None, None]), 12)) == _want(impl, [b"", b""])
    assert list(impl.partition_many(Fake(b"u", 2, [None, offsets32(3, 3, 3), None]), 12)) == _want(impl, [b"", b""])
    # a sliced hand-made array reads from its offset
    g = Fake(b"z", 2, [None, offsets32(0, 2, 2, 5), b"abcde"], offset=1)
    assert list(impl.partition_many(g, 12)) == _want(impl, [b"", b"cde"])
