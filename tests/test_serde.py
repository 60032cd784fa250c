"""fastpart.serde: Java serializer bytes (the Java suite checks them against the real serializers)."""

from __future__ import annotations

import math
import struct
import uuid

import pytest

from fastpart import serde


def test_integers():
    assert serde.int16(-2) == b"\xff\xfe"
    assert serde.int32(42) == b"\x00\x00\x00*"
    assert serde.int64(-1) == b"\xff" * 8
    assert serde.int32(-(2**31)) == b"\x80\x00\x00\x00"
    assert serde.int64(2**63 - 1) == b"\x7f" + b"\xff" * 7
    with pytest.raises(ValueError, match="does not fit a Java Integer"):
        serde.int32(2**31)
    with pytest.raises(ValueError, match="Short"):
        serde.int16(40000)
    with pytest.raises(TypeError, match="integers"):
        serde.int32(1.5)
    with pytest.raises(TypeError, match="integers"):
        serde.int32(True)
    with pytest.raises(TypeError, match="integers"):
        serde.int64("1")


def test_floats():
    assert serde.float32(1.5) == b"\x3f\xc0\x00\x00"
    assert serde.float64(1.5) == struct.pack(">d", 1.5)
    assert serde.float64(float("nan")) == bytes.fromhex("7ff8000000000000")
    assert serde.float64(-0.0) == bytes.fromhex("8000000000000000")
    assert serde.float32(1e300) == struct.pack(">f", math.inf)  # Java's (float) cast
    assert serde.float32(-1e300) == struct.pack(">f", -math.inf)
    assert serde.float32(3) == struct.pack(">f", 3.0)
    with pytest.raises(TypeError, match="numbers"):
        serde.float64("1.0")


def test_uuid_and_string():
    u = uuid.UUID("6BA7B810-9DAD-11D1-80B4-00C04FD430C8")
    assert serde.uuid(u) == b"6ba7b810-9dad-11d1-80b4-00c04fd430c8"
    assert serde.uuid(str(u).upper()) == serde.uuid(u)
    assert serde.uuid(u.bytes) == serde.uuid(u)
    with pytest.raises(ValueError, match="not a UUID"):
        serde.uuid("nope")
    with pytest.raises(TypeError, match="UUID"):
        serde.uuid(12)
    assert serde.string("h\u00e9") == b"h\xc3\xa9"
    assert serde.string("a\ud800") == b"a?"
    with pytest.raises(TypeError, match="str"):
        serde.string(b"bytes")


def test_numpy_arrays_feed_partition_many():
    np = pytest.importorskip("numpy")
    import fastpart

    ints = np.array([0, 1, -1, 2**31 - 1, 256], dtype=np.int64)
    s = serde.int32(ints)
    # a 2-D uint8 array, a row per value: every byte kept (0 and 256 end in NUL bytes)
    assert s.dtype == np.uint8 and s.shape == (5, 4)
    assert [bytes(r) for r in s] == [serde.int32(int(v)) for v in ints]
    want = [fastpart.partition(serde.int32(int(v)), 12) for v in ints]
    assert list(fastpart.partition_many(s, 12)) == want
    # element by element (rows are byte buffers) gives the same answers
    assert [fastpart.partition(r, 12) for r in list(s)] == want
    # .tolist() gives lists of ints, which are not keys
    with pytest.raises(TypeError, match="at index 0"):
        fastpart.partition_many(s.tolist(), 12)
    assert list(fastpart.partition_many(serde.int64(ints), 12)) == [fastpart.partition(serde.int64(int(v)), 12) for v in ints]
    assert serde.int64(np.array([], dtype=np.int64)).shape == (0, 8)
    assert serde.int16(np.array([1, -2], dtype=np.int16)).tobytes() == b"\x00\x01\xff\xfe"
    with pytest.raises(ValueError, match="do not fit"):
        serde.int16(np.array([70000]))
    f = np.array([1.5, np.nan, -0.0])
    assert serde.float64(f).tobytes() == b"".join(serde.float64(float(x)) for x in f)
    f32 = np.array([1.5, np.nan], dtype=np.float32)
    assert serde.float32(f32).tobytes() == f32.astype(">f4").tobytes()
    assert serde.float32(np.float32(1.0)) == bytes.fromhex("3f800000")
    strs = serde.string(np.array(["a", "h\u00e9"], dtype=object))
    assert list(strs) == [b"a", b"h\xc3\xa9"]
    assert list(fastpart.partition_many(strs, 12)) == [fastpart.partition("a", 12), fastpart.partition("h\u00e9", 12)]
    uu = serde.uuid(np.array([uuid.UUID(int=1)], dtype=object))
    assert uu.dtype == np.uint8 and uu.shape == (1, 36)
    assert bytes(uu[0]) == serde.uuid(uuid.UUID(int=1))
