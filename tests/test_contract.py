"""The input contract, in both cores (every non-Arrow input kind).

For every batch ``x`` accepted,
``partition_many(x, n, strategy=s) == [partition(k, n, strategy=s) for k in elements(x)]``
with ``elements(x) = list(x)`` for sequences and NumPy arrays.  Typed values
are never keys; ``out=`` may overlap the keys; ``strategy=`` takes any str.
"""

from __future__ import annotations

import importlib
import array
import ctypes
import datetime as dt
import decimal
import enum
import fractions
import os
import subprocess
import sys
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fastpart import _core_py, _inputs, _strategies
from fastpart._strategies import CODES

np = pytest.importorskip("numpy")

STRATEGY_NAMES = sorted(CODES)


def _cores():
    """Both cores; without the compiled one, fail under FASTPART_REQUIRE_NATIVE=1."""
    try:
        _core = importlib.import_module("fastpart._core")
    except ImportError as exc:  # pragma: no cover - only without a build
        if os.environ.get("FASTPART_REQUIRE_NATIVE", "") not in ("", "0"):
            pytest.fail(f"FASTPART_REQUIRE_NATIVE=1 but the compiled core is missing: {exc}", pytrace=False)
        return [_core_py]
    return [_core, _core_py]


def _check_contract(x, n, strategy, elements=None):
    """partition_many(x) == [partition(k) for k in elements(x)] in every core, and the cores agree."""
    make = x if callable(x) else (lambda: x)  # a callable makes a fresh one-shot iterator
    elems = list(make()) if elements is None else elements
    answers = []
    for core in _cores():
        want = [core.partition(k, n, strategy=strategy) for k in elems]
        got = list(core.partition_many(make(), n, strategy=strategy))
        assert got == want, (core.IMPLEMENTATION, strategy, n)
        answers.append(got)
    assert all(a == answers[0] for a in answers)


# ------------------------------------------------------------------ property tests

keys_st = st.binary(max_size=40).map(lambda b: b if len(b) % 3 else b + b"\0" * (len(b) % 5))
counts_st = st.sampled_from([1, 2, 7, 12, 837, 929, 1000, 2**31 - 1])
strategies_st = st.sampled_from(STRATEGY_NAMES)


@settings(max_examples=120, deadline=None)
@given(st.lists(st.one_of(st.none(), keys_st, st.text(max_size=20)), max_size=80), counts_st, strategies_st)
def test_sequences(batch, n, strategy):
    _check_contract(batch, n, strategy)
    _check_contract(tuple(batch), n, strategy)
    mixed = [bytearray(k) if isinstance(k, bytes) and len(k) % 2 else k for k in batch]
    _check_contract(mixed, n, strategy)
    _check_contract(lambda: iter(list(batch)), n, strategy)
    _check_contract(lambda: (k for k in batch), n, strategy)


@settings(max_examples=120, deadline=None)
@given(st.lists(keys_st, max_size=300), st.integers(0, 8), counts_st, strategies_st,
       st.sampled_from([1, 2, 3, -1]))
def test_numpy_s_arrays(batch, pad, n, strategy, step):
    # trailing NULs in the data and from NumPy's padding: both dropped, as list(arr) shows
    width = max([len(k) for k in batch] + [0]) + pad
    arr = np.array(batch, dtype=f"S{max(width, 1)}")[::step]
    _check_contract(arr, n, strategy)
    assert [bytes(k) for k in arr] == [k.rstrip(b"\0") for k in batch][::step]


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 40), st.integers(0, 300), counts_st, strategies_st, st.randoms(use_true_random=False))
def test_exact_width_keys_keep_every_byte(width, count, n, strategy, rnd):
    raw = [bytes(rnd.choice((0, 0, 1, 255)) for _ in range(width)) for _ in range(count)]
    rows = np.frombuffer(b"".join(raw), dtype=np.uint8).reshape(count, width)
    # 2-D uint8: each row is a key (list(rows) gives 1-D uint8 rows, byte buffers)
    _check_contract(rows, n, strategy)
    _check_contract(rows, n, strategy, elements=raw)
    _check_contract(rows[::-1], n, strategy, elements=raw[::-1])
    if width > 1:
        _check_contract(rows[:, ::2], n, strategy, elements=[r[::2] for r in raw])
    if width:
        void = np.array(raw, dtype=f"V{width}")
        _check_contract(void, n, strategy)
        _check_contract(void, n, strategy, elements=raw)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.none(), st.binary(max_size=20), st.text(max_size=10)), max_size=60),
       counts_st, strategies_st)
def test_numpy_object_and_unicode_arrays(batch, n, strategy):
    obj = np.empty(len(batch), dtype=object)
    obj[:] = batch
    _check_contract(obj, n, strategy)
    texts = [k for k in batch if isinstance(k, str)]
    uni = np.array(texts, dtype="U") if texts else np.array([], dtype="U1")
    _check_contract(uni, n, strategy)


def test_padded_s_array_equals_the_list():
    # issue 8: np.array([b"ab", b"abcd"]) pads to S4; its keys are b"ab" and b"abcd"
    arr = np.array([b"ab", b"abcd"])
    for core in _cores():
        assert list(core.partition_many(arr, 12)) == [core.partition(b"ab", 12), core.partition(b"abcd", 12)]


def test_s_array_blocks_with_and_without_nuls():
    """Long S arrays: clean blocks (SIMD), blocks with a padded key, all padded; every strategy."""
    rnd = __import__("random").Random(5)
    keys = [bytes(rnd.randrange(1, 256) for _ in range(36)) for _ in range(3000)]
    for i in (0, 255, 256, 1023, 1024, 2999):
        keys[i] = keys[i][: rnd.randrange(0, 36)]
    arr = np.array(keys, dtype="S36")
    for strategy in STRATEGY_NAMES:
        for n in (12, 837, 929):
            _check_contract(arr, n, strategy)
    _check_contract(arr[::7], 929, "java")
    _check_contract(np.array([k[:30] for k in keys], dtype="S36"), 929, "java")


# ------------------------------------------------------------------ typed values

TYPED = [
    (42, "int", r"serde\.int32\(v\).*serde\.int64\(v\).*serde\.int16\(v\)"),
    (4.2, "float", r"serde\.float64\(v\).*serde\.float32\(v\)"),
    (True, "bool", r"serde\.string"),
    (3 + 1j, "complex", r"serde\.string"),
    (decimal.Decimal("1.5"), "decimal.Decimal", r"serde\.string\(str\(v\)\)"),
    (fractions.Fraction(1, 3), "fractions.Fraction", r"serde\.float64"),
    (dt.datetime(2024, 1, 1), "datetime.datetime", r"serde\.int64\(epoch milliseconds\)"),
    (dt.date(2024, 1, 1), "datetime.date", r"serde\.string\(v\.isoformat\(\)\)"),
    (dt.time(1, 2), "datetime.time", r"serde\.string\(v\.isoformat\(\)\)"),
    (dt.timedelta(seconds=1), "datetime.timedelta", r"serde\.int64\(milliseconds\)"),
    (uuid.UUID(int=7), "uuid.UUID", r"serde\.uuid\(v\) \(Java UUIDSerializer\)"),
    (np.int64(42), "np.int64", r"serde\.int64\(v\) \(Java LongSerializer\)"),
    (np.int32(42), "np.int32", r"serde\.int32\(v\) \(Java IntegerSerializer\)"),
    (np.int16(42), "np.int16", r"serde\.int16\(v\) \(Java ShortSerializer\)"),
    (np.uint8(4), "np.uint8", r"serde\.int16"),
    (np.float32(1.5), "np.float32", r"serde\.float32\(v\) \(Java FloatSerializer\)"),
    (np.float64(1.5), "np.float64", r"serde\.float64\(v\) \(Java DoubleSerializer\)"),
    (np.bool_(True), "np.bool", r"serde\.string"),
    (np.datetime64(1, "s"), "np.datetime64", r"serde\.int64"),
    (np.timedelta64(1, "s"), "np.timedelta64", r"serde\.int64"),
    (ctypes.c_int(42), "ctypes.c_int", r"serde\.int32\(v\)"),
    (ctypes.c_longlong(42), r"ctypes\.c_long(long)?", r"serde\.int64\(v\)"),
    (ctypes.c_double(1.0), "ctypes.c_double", r"serde\.float64\(v\)"),
    (ctypes.c_bool(True), "ctypes.c_bool", r"serde\.string"),
    (array.array("i", [1]), r"array\.array\('i'\)", r"serde\.int32\(v\)"),
    (array.array("d", [1.0]), r"array\.array\('d'\)", r"serde\.float64\(v\)"),
    (memoryview(b"abcd").cast("i"), "memoryview of format 'i'", r"serde\.int32\(v\)"),
    (np.arange(2, dtype=np.int64), "a NumPy int64 array", r"serde\.int64\(v\)"),
]


@pytest.mark.parametrize("value,name,hint", TYPED, ids=[t[1] for t in TYPED])
def test_typed_values_are_never_keys(value, name, hint):
    for core in _cores():
        with pytest.raises(TypeError, match=rf"^{name} is not a key: use .*{hint}"):
            core.partition(value, 12)
        with pytest.raises(TypeError, match=rf"^{name} at index 1 is not a key: use .*{hint}"):
            core.partition_many([b"ok", value], 12)
        with pytest.raises(TypeError, match=rf"{name}.*{hint}"):
            core.murmur2(value)
        with pytest.raises(TypeError, match=rf"{name}.*{hint}"):
            core.partition(value, 12, strategy="librdkafka")


def test_typed_error_text_is_exact():
    for core in _cores():
        with pytest.raises(TypeError) as info:
            core.partition(np.int64(42), 12)
        assert str(info.value) == "np.int64 is not a key: use fastpart.serde.int64(v) (Java LongSerializer)"


@pytest.mark.parametrize("arr,hint", [
    (np.arange(3, dtype=np.int64), r"int64 array holds typed values.*serde\.int64"),
    (np.arange(3, dtype=np.int32), r"int32 array holds typed values.*serde\.int32"),
    (np.zeros(3, dtype=np.float32), r"float32 array holds typed values.*serde\.float32"),
    (np.zeros(3, dtype=bool), r"bool array holds typed values.*serde\.string"),
    (np.zeros(3, dtype="M8[s]"), r"datetime64\[s\] array holds typed values.*serde\.int64"),
    (np.zeros(3, dtype="m8[s]"), r"timedelta64\[s\] array holds typed values.*serde\.int64"),
    (array.array("q", [1, 2]), r"array\.array\('q'\) holds typed values.*serde\.int64"),
    (memoryview(bytes(8)).cast("f"), r"memoryview of format 'f' holds typed values.*serde\.float32"),
    ((ctypes.c_int * 3)(), r"holds typed values.*serde\.int32"),
])
def test_typed_arrays_are_not_batches(arr, hint):
    for core in _cores():
        with pytest.raises(TypeError, match=hint):
            core.partition_many(arr, 12)


def test_serde_arrays_follow_the_contract():
    from fastpart import serde

    vals = np.array([0, 1, -1, 256, 2**31 - 1], dtype=np.int64)
    for fn, width in ((serde.int16, 2), (serde.int32, 4), (serde.int64, 8)):
        rows = fn(vals if width > 2 else vals[:4])
        assert rows.dtype == np.uint8 and rows.shape[1] == width
        singles = [fn(int(v)) for v in (vals if width > 2 else vals[:4])]
        for core in _cores():
            assert list(core.partition_many(rows, 12)) == [core.partition(s, 12) for s in singles]
            assert [core.partition(r, 12) for r in list(rows)] == [core.partition(s, 12) for s in singles]
    # the elements of .tolist() are lists of ints: not keys
    for core in _cores():
        with pytest.raises(TypeError, match="at index 0"):
            core.partition_many(serde.int32(vals).tolist(), 12)


# ------------------------------------------------------------------ out= overlapping the keys

def _overlap_cases():
    rnd = np.random.default_rng(3)
    for kind in ("S1", "S4", "V4", "rows4", "rows8"):
        buf = rnd.integers(0, 256, 8000, dtype=np.uint8)
        if kind.startswith("rows"):
            w = int(kind[4:])
            keys = buf[: 1000 * w].reshape(1000, w)
        else:
            w = int(kind[1:])
            keys = buf[: 1000 * w].view(kind)
        for shift in (0, 4, 1000, 2000):  # out starts at byte `shift` of the same memory
            yield kind, buf, keys, shift


@pytest.mark.parametrize("strategy", ["java", "librdkafka", "sarama"])
def test_out_overlapping_the_keys(strategy):
    for core in _cores():
        for kind, buf, keys, shift in _overlap_cases():
            b = buf.copy()
            k = np.ndarray(keys.shape, keys.dtype, buffer=b, offset=0, strides=keys.strides)
            want = list(core.partition_many(k.copy(), 929, strategy=strategy))
            out = b[shift : shift + 4000].view(np.int32)
            assert core.partition_many(k, 929, strategy=strategy, out=out) is out
            assert out.tolist() == want, (core.IMPLEMENTATION, kind, shift)


def test_issue_example_out_overlap():
    for core in _cores():
        buf = np.frombuffer(os.urandom(4000), dtype=np.uint8).copy()
        keys = buf[:1000].view("S1")
        want = list(core.partition_many(keys.copy(), 1000))
        out = buf.view(np.int32)[:1000]
        core.partition_many(keys, 1000, out=out)
        assert out.tolist() == want


def test_out_not_overlapping_is_written_in_place():
    for core in _cores():
        arr = np.array([b"a", b"b", b"c"] * 100, dtype="S1")
        out = np.full(400, -7, dtype=np.int32)
        core.partition_many(arr, 5, out=out)
        assert out[:300].tolist() == [core.partition(k, 5) for k in list(arr)]
        assert out[300:].tolist() == [-7] * 100


# ------------------------------------------------------------------ one buffer per call

@pytest.mark.skipif(sys.version_info < (3, 12), reason="Python classes export buffers (__buffer__) from 3.12")
def test_a_batch_buffer_is_acquired_once():
    """An object whose buffer answers differently on each request: read once, never mixed."""
    class Shifty:
        def __init__(self):
            self.calls = 0
            self.first = np.array([b"ab", b"abcd", b"x"], dtype="S4")
            self.later = np.zeros((2, 3), dtype=np.float64)

        def __buffer__(self, flags):
            self.calls += 1
            return memoryview(self.first if self.calls == 1 else self.later)

    for core in _cores():
        obj = Shifty()
        got = list(core.partition_many(obj, 12))
        assert obj.calls == 1, (core.IMPLEMENTATION, obj.calls)
        assert got == [core.partition(k, 12) for k in (b"ab", b"abcd", b"x")]
        obj = Shifty()
        obj.first, obj.later = obj.later, obj.first  # typed first: refused from that one export
        with pytest.raises(TypeError, match="float64"):
            core.partition_many(obj, 12)
        assert obj.calls == 1


# ------------------------------------------------------------------ strategy=

def test_strategy_accepts_any_str():
    class Name(str):
        pass

    members = []
    if sys.version_info >= (3, 11):
        Clients = enum.StrEnum("Clients", {"JAVA": "java", "RDKAFKA": "librdkafka"})
        members = [Clients.JAVA, Clients.RDKAFKA]

    class Old(str, enum.Enum):  # str mixin: str() is "Old.JAVA", the value is "java"
        JAVA = "java"
        SARAMA = "sarama"

    for core in _cores():
        for s in [np.str_("java"), np.str_("librdkafka"), Name("sarama"), Old.JAVA, Old.SARAMA] + members:
            plain = str.__str__(s)
            assert core.partition(b"k", 12, strategy=s) == core.partition(b"k", 12, strategy=plain)
            assert list(core.partition_many([b"k", None], 12, strategy=s)) == list(
                core.partition_many([b"k", None], 12, strategy=plain))


def test_unknown_strategy_suggests_close_names():
    for core in _cores():
        with pytest.raises(ValueError, match=r"unknown strategy 'jvaa' \(did you mean 'java'\?\)"):
            core.partition(b"k", 3, strategy="jvaa")
        with pytest.raises(ValueError, match=r"did you mean 'librdkafka:consistent'"):
            core.partition_many([b"k"], 3, strategy="librdkafka:consistant")
        with pytest.raises(ValueError, match=r"did you mean 'java'"):
            core.partition(b"k", 3, strategy="Java")
        with pytest.raises(ValueError, match=r"unknown strategy 'zzzz'; known"):
            core.partition(b"k", 3, strategy=np.str_("zzzz"))


# ------------------------------------------------------------------ FNV key with hash 2**31

FNV_MIN = bytes.fromhex("0e9c450115")


def test_fnv_key_hashing_to_int32_min():
    assert _core_py.fnv1a(FNV_MIN) == 0x80000000
    fnv = {name: s for name, s in _strategies.STRATEGIES.items() if s.family.startswith("fnv1a")}
    assert set(fnv) == {"librdkafka:fnv1a", "librdkafka:fnv1a_random", "sarama:hash", "sarama:reference",
                        "franz-go:sarama-hasher"}
    for core in _cores():
        assert core.fnv1a(FNV_MIN) == 0x80000000
        for name, s in fnv.items():
            names = (name,) + s.aliases
            for n in (1, 3, 7, 12, 1000, 2**31 - 1):
                # abs(INT32_MIN) stays 2**31 (librdkafka, sarama); the mask gives 0; unsigned 2**31
                want = {"fnv1a-abs": 2**31 % n, "fnv1a-mask": 0, "fnv1a-unsigned": 2**31 % n}[s.family]
                for label in names:
                    assert core.partition(FNV_MIN, n, strategy=label) == want, (core.IMPLEMENTATION, label, n)
                    assert list(core.partition_many([FNV_MIN] * 9, n, strategy=label)) == [want] * 9
                    assert list(core.partition_many(np.array([FNV_MIN] * 9, dtype="S5"), n,
                                                    strategy=label)) == [want] * 9


# ------------------------------------------------------------------ rooms

def test_strategy_enum_checked_at_import(native, monkeypatch):
    native._check_strategy_table()
    monkeypatch.setattr(_strategies, "H_CRC32", 9)
    with pytest.raises(ImportError, match="C strategy enum"):
        native._check_strategy_table()


def test_compiled_core_imports_nothing_from_its_twin(native):
    code = ("import sys, fastpart._core as c; c.partition_many([b'a', 'b', None, bytearray(b'x')], 3);"
            "c.partition(1 and b'k', 3); print('fastpart._core_py' in sys.modules)")
    env = {k: v for k, v in os.environ.items() if k != "FASTPART_NO_EXTENSIONS"}  # else fastpart/__init__ loads the twin
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert out.stdout.strip() == "False"


def test_shared_rules_have_one_home():
    assert _core_py.check_partitions is _inputs.check_partitions


def test_strided_arrays_where_tobytes_ignores_strides(monkeypatch):
    """PyPy's memoryview.tobytes() copies a strided buffer as if contiguous:
    the twin then reads NumPy's own C-order bytes, and refuses other exporters."""
    np = pytest.importorskip("numpy")
    from fastpart import _core_py, _inputs

    monkeypatch.setattr(_inputs, "_STRIDED_TOBYTES_OK", False)
    s = np.array([b"key-%d" % i for i in range(40)])[::3]
    rows = np.arange(120, dtype=np.uint8).reshape(40, 3)[::2]
    assert list(_core_py.partition_many(s, 12)) == [_core_py.partition(k, 12) for k in s]
    assert list(_core_py.partition_many(rows, 12)) == [_core_py.partition(bytes(r), 12) for r in rows]
    sub = np.arange(120, dtype=np.uint8).reshape(40, 3)[:, ::2]
    want = [_core_py.partition(r.tobytes(), 12) for r in sub]
    assert list(_core_py.partition_many(sub, 12)) == want
    assert [_core_py.partition(r, 12) for r in sub] == want   # one strided key
    strided = memoryview(np.arange(40, dtype=np.uint8).reshape(20, 2)[::2])
    assert not _inputs._c_contiguous(strided) and _inputs._c_contiguous(memoryview(b"abcd"))
    with pytest.raises(TypeError, match="contiguous copy"):
        _inputs._table_keys(strided, False, object())


def test_compiled_quick_buffer_kind_agrees_with_the_rules(native):
    """The compiled core classifies common batch formats without a Python call;
    whatever it answers is what the rules module (_inputs.buffer_kind) says."""
    from fastpart import _inputs

    quick = native._quick_kind_of
    formats = ["36s", "<36s", "=4s", "s", "8x", "x", "B", "b", "c", "<B", "i", "l", "q", "d", "O", "4w",
               "?", "e", "Zf", "2i", "T{i}", "36s ", "", None]
    answered = 0
    for fmt in formats:
        for ndim in (0, 1, 2, 3):
            got = quick(None if fmt is None else fmt.encode(), ndim)
            if got is None:
                continue
            answered += 1
            assert got == _inputs.buffer_kind(None, fmt, ndim, 1), (fmt, ndim, got)
    assert quick(b"36s", 1) == "strip" and quick(b"8x", 1) == "fixed" and quick(b"B", 2) == "rows"
    assert quick(None, 2) == "rows" and quick(b"i", 1) is None and quick(b"O", 1) is None
    assert answered >= 10
