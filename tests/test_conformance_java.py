"""fastpart against the real Java client (kafka-clients), several versions from 0.11 to 4.x.

The Java harness (``harness/java/PartitionHarness.java``, driven by
``harness/java_harness.py``) runs on each pinned kafka-clients version's own jars:

* for every corpus record: ``Utils.murmur2`` and, for every count in
  ``PARTITION_COUNTS``, the partition the producer's keyed path picks
  (``BuiltInPartitioner.partitionForKey`` in 3.3+, ``DefaultPartitioner`` on a real
  ``Cluster`` before that, and also the deprecated ``DefaultPartitioner`` in 3.3 .. 3.9);
  fastpart's ``partition_many(keys, n, strategy="java")`` and ``murmur2(key)`` must
  give the same answer for every record (null keys: fastpart ``-1``, Java ``x``);
* the keyed answers must be identical in every version (the formula never changed);
* the Short/Integer/Long/Float/Double/UUID/StringSerializer bytes for a list of edge and
  random values must equal ``fastpart.serde``'s, byte for byte.

The Java answers are computed once per module and shared by both fastpart
implementations (the ``impl`` fixture of conftest.py); fastpart's answers are computed
once per implementation and partition count and shared by all versions.  Lines are
compared as text first; only a difference is parsed, to list the first mismatches.
"""

from __future__ import annotations

import math
import random
import struct
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, List, NamedTuple, Optional, Tuple

import pytest

from conformance_support import (
    PARTITION_COUNTS,
    generate_corpus,
    load_harness,
    mismatches,
    write_corpus,
)

pytestmark = pytest.mark.conformance


H = load_harness("java")
VERSIONS = H.VERSIONS


def _vkey(version: str) -> Tuple[int, ...]:
    return tuple(int(p) for p in version.split("."))


# ----------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    keys = generate_corpus()
    path = write_corpus(tmp_path_factory.mktemp("java-conformance") / "corpus.txt", keys)
    return keys, path


@pytest.fixture(scope="module")
def java_builds() -> Dict[str, str]:
    """Build (or reuse) the harness for every version; skips without java/javac/mvn."""
    return H.build()


@pytest.fixture(scope="module")
def java_partitions(java_builds, corpus) -> Dict[str, Dict[Tuple[str, int], str]]:
    """``{version: {(label, n): value text}}`` for the whole corpus."""
    _, path = corpus
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = {v: pool.submit(H.run_partitions, v, path, PARTITION_COUNTS) for v in VERSIONS}
        return {v: f.result() for v, f in runs.items()}


# fastpart's answers, per implementation module and partition count (0 = murmur2)
_FASTPART: Dict[Tuple[str, int], Tuple[str, List[Optional[int]]]] = {}


def _impl_name(impl: Any) -> str:
    return getattr(impl, "__name__", repr(impl))


def _fastpart_line(impl: Any, keys: List[Optional[bytes]], n: int) -> Tuple[str, List[Optional[int]]]:
    """fastpart's answers as (harness-format text, list): n == 0 for murmur2."""
    cache_key = (_impl_name(impl), n)
    if cache_key not in _FASTPART:
        if n == 0:
            vals: List[Optional[int]] = [None if k is None else impl.murmur2(k) for k in keys]
            text = ",".join("x" if v is None else str(v) for v in vals)
        else:
            vals = list(impl.partition_many(keys, n, strategy="java"))
            assert len(vals) == len(keys)
            # a null key must give -1 (Java: "x"); anything else there shows up as a difference
            text = ",".join("x" if (v == -1 and k is None) else str(v) for k, v in zip(keys, vals))
        _FASTPART[cache_key] = (text, vals)
    return _FASTPART[cache_key]


def _explain(keys, fastpart_vals, java_text: str, null_as: Optional[int]) -> str:
    java_vals = H.parse_values(java_text)
    if null_as is not None:
        java_vals = [null_as if v is None else v for v in java_vals]
    bad = sum(1 for a, b in zip(fastpart_vals, java_vals) if a != b)
    if len(java_vals) != len(fastpart_vals):
        return f"length differs: fastpart {len(fastpart_vals)}, Java {len(java_vals)}"
    return f"{bad} of {len(keys)} records differ; first:\n  " + "\n  ".join(
        mismatches(keys, fastpart_vals, java_vals)
    )


# ----------------------------------------------------------------------------- partitions

@pytest.mark.parametrize("version", VERSIONS)
def test_harness_runs_the_requested_version(java_builds, version):
    info = H.run_info(version)
    assert info.get("version") == version, f"classpath has kafka-clients {info.get('version')}, not {version}"
    v = _vkey(version)
    # BuiltInPartitioner came with KIP-794 (3.3); DefaultPartitioner was removed in 4.0
    assert info["builtin"] == ("yes" if v >= (3, 3) else "no"), info
    assert info["default"] == ("yes" if v < (4,) else "no"), info


@pytest.mark.parametrize("version", VERSIONS)
def test_murmur2_matches_java(impl, corpus, java_partitions, version):
    keys, _ = corpus
    java_text = java_partitions[version][("hash:murmur2", 0)]
    text, vals = _fastpart_line(impl, keys, 0)
    if text != java_text:
        pytest.fail(
            f"{_impl_name(impl)}.murmur2 differs from Utils.murmur2 of kafka-clients {version}: "
            + _explain(keys, vals, java_text, null_as=None),
            pytrace=False,
        )


@pytest.mark.parametrize("version", VERSIONS)
def test_partitions_match_java(impl, corpus, java_partitions, version):
    keys, _ = corpus
    lines = java_partitions[version]
    labels = sorted({label for label, _ in lines if label.startswith("java:")})
    failures = []
    checked = 0
    for n in PARTITION_COUNTS:
        text, vals = _fastpart_line(impl, keys, n)
        for label in labels:
            java_text = lines.get((label, n))
            if java_text is None:
                continue  # java:default exists only for n <= 100,000 in 3.3 .. 3.9
            checked += 1
            if text != java_text:
                failures.append(
                    f"{label} n={n}: " + _explain(keys, list(vals), java_text, null_as=-1)
                )
    assert checked >= len(PARTITION_COUNTS)
    if failures:
        pytest.fail(
            f"{_impl_name(impl)}.partition_many(strategy='java') differs from kafka-clients {version}:\n"
            + "\n".join(failures),
            pytrace=False,
        )


def test_keyed_formula_same_in_every_version(corpus, java_partitions):
    """Utils.murmur2 and the keyed partition never changed, 0.11 .. 4.x: every version's
    lines are identical, and the deprecated DefaultPartitioner agrees with BuiltInPartitioner."""
    keys, _ = corpus
    first = VERSIONS[0]
    base = java_partitions[first]
    failures = []
    for version in VERSIONS:
        lines = java_partitions[version]
        for (label, n), text in lines.items():
            ref_label = "java:partition" if label == "java:default" else label
            ref = base.get((ref_label, n))
            if ref is None:
                failures.append(f"{version}: {label} n={n} has no counterpart in {first}")
            elif text != ref:
                failures.append(
                    f"{version} {label} n={n} vs {first} {ref_label}: "
                    + _explain(keys, H.parse_values(ref), text, null_as=None)
                )
    assert not failures, "\n".join(failures)
    # 3.3 .. 3.9 ran both partitioners
    assert any(label == "java:default" for v in VERSIONS for label, _ in java_partitions[v])


# ----------------------------------------------------------------------------- serializers

class SerdeCase(NamedTuple):
    type: str          # fastpart.serde function / harness type
    java_text: str     # value text for the Java harness
    value: Any         # what fastpart.serde.<type> receives
    note: str          # shown in failure messages
    py_ok: bool = True  # False: a Python value cannot carry these exact bits (see _float_cases)


def _int_cases(rng: random.Random) -> List[SerdeCase]:
    out = []
    for typ, bits in (("int16", 16), ("int32", 32), ("int64", 64)):
        lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
        vals = [0, 1, -1, 2, -2, 42, 127, 128, -128, -129, 255, 256, -256, lo, hi, lo + 1, hi - 1,
                hi // 2, lo // 2]
        vals += [rng.randint(lo, hi) for _ in range(60)]
        vals += [rng.randint(-1000, 1000) for _ in range(20)]
        out += [SerdeCase(typ, str(v), v, str(v)) for v in vals]
    return out


_F32_BITS = [
    0x00000000, 0x80000000,              # +0.0, -0.0
    0x3F800000, 0xBF800000, 0x3FC00000,  # 1, -1, 1.5
    0x7F800000, 0xFF800000,              # +inf, -inf
    0x00000001, 0x80000001, 0x007FFFFF, 0x00400000,  # subnormals
    0x00800000, 0x7F7FFFFF, 0xFF7FFFFF,  # smallest normal, largest finite
    0x7FC00000, 0xFFC00000,              # the usual quiet NaNs
    0x7FC00001, 0x7FFFFFFF, 0xFFFFFFFF, 0x7FD55555, 0xFFE00001,  # quiet NaNs with payloads
    0x7F800001, 0x7FA00000, 0xFFBFFFFF,  # signalling NaNs
    0x40490FDB, 0x3DCCCCCD,              # pi, 0.1
]

_F64_BITS = [
    0x0000000000000000, 0x8000000000000000,
    0x3FF0000000000000, 0xBFF0000000000000, 0x3FB999999999999A, 0x400921FB54442D18,
    0x7FF0000000000000, 0xFFF0000000000000,
    0x0000000000000001, 0x8000000000000001, 0x000FFFFFFFFFFFFF, 0x0008000000000000,
    0x0010000000000000, 0x7FEFFFFFFFFFFFFF, 0xFFEFFFFFFFFFFFFF,
    0x7FF8000000000000, 0xFFF8000000000000,
    0x7FF8000000000001, 0x7FFFFFFFFFFFFFFF, 0xFFFFFFFFFFFFFFFF, 0x7FF8DEADBEEF0000,
    0x7FF0000000000001, 0x7FF4000000000000, 0xFFF7FFFFFFFFFFFF,
]

# doubles a Python user hands to serde.float32: Java's (float) cast narrows them
_F32_FROM_DOUBLE = [
    0.1, 1 / 3, -2 / 3, math.pi, -math.e, 1e-40, -1e-40, 1e-45, 1.4e-45, 7.006492321624085e-46,
    1e-50, -1e-50, 2.0 ** -149, 2.0 ** -150, 3 * 2.0 ** -151, 1 + 2.0 ** -24, 1 + 3 * 2.0 ** -24,
    1 - 2.0 ** -25, 16777217.0, 3.4028234663852886e38, 3.4028235677973362e38, 3.4028235677973366e38,
    3.5e38, 1e39, 1e300, -1e300, math.inf, -math.inf, 123456789.123, -0.0,
]


def _float_cases(rng: random.Random) -> List[SerdeCase]:
    out = []
    f32 = list(_F32_BITS) + [rng.getrandbits(32) for _ in range(80)]
    f32 += [0x7F800000 | rng.getrandbits(23) | (rng.getrandbits(1) << 31) for _ in range(10)]
    for bits in f32:
        value = struct.unpack(">f", bits.to_bytes(4, "big"))[0]
        # A Python float is a double: float32 -> double -> float32 keeps every finite value,
        # infinity and a quiet NaN's payload, but (on x86-64 and most CPUs) the conversion sets
        # the quiet bit of a signalling NaN, so those exact bits are not expressible as a Python
        # float.  Java still gets them; test_serializers_numpy_match_java checks them through
        # NumPy float32 values, which keep every bit; the plain-float test leaves them out.
        py_ok = struct.pack(">f", value) == bits.to_bytes(4, "big")
        out.append(SerdeCase("float32", H.float32_bits_text(bits), value, f"bits {bits:08x}", py_ok))
    doubles = list(_F32_FROM_DOUBLE)
    doubles += [math.ldexp(rng.random() * 2 - 1, rng.randint(-160, 140)) for _ in range(80)]
    for d in doubles:
        out.append(SerdeCase("float32", H.float32_from_double_text(d), d, f"(float) {d!r}"))

    f64 = list(_F64_BITS) + [rng.getrandbits(64) for _ in range(80)]
    f64 += [(0x7FF << 52) | rng.getrandbits(52) | (rng.getrandbits(1) << 63) for _ in range(10)]
    for bits in f64:
        # a Python float is a double: every bit pattern, NaN payloads included, survives
        value = struct.unpack(">d", bits.to_bytes(8, "big"))[0]
        out.append(SerdeCase("float64", H.float64_bits_text(bits), value, f"bits {bits:016x}"))
    return out


def _uuid_cases(rng: random.Random) -> List[SerdeCase]:
    uuids = [uuid.UUID(int=0), uuid.UUID(int=(1 << 128) - 1), uuid.UUID(int=1),
             uuid.UUID("6ba7b810-9dad-11d1-80b4-00c04fd430c8"), uuid.UUID("123e4567-e89b-12d3-a456-426614174000")]
    uuids += [uuid.UUID(int=rng.getrandbits(128)) for _ in range(40)]
    # random version-4 UUIDs from the seeded generator
    uuids += [uuid.UUID(bytes=rng.randbytes(16), version=4) for _ in range(20)]
    return [SerdeCase("uuid", str(u), u, str(u)) for u in uuids]


def _random_units(rng: random.Random, length: int) -> List[int]:
    units: List[int] = []
    for _ in range(length):
        kind = rng.randrange(7)
        if kind == 0:
            units.append(rng.randint(0x00, 0x7F))
        elif kind == 1:
            units.append(rng.randint(0x80, 0x7FF))
        elif kind == 2:
            units.append(rng.choice((rng.randint(0x800, 0xD7FF), rng.randint(0xE000, 0xFFFF))))
        elif kind in (3, 4):  # a well-formed surrogate pair: an astral character
            cp = rng.randint(0x10000, 0x10FFFF) - 0x10000
            units += [0xD800 | (cp >> 10), 0xDC00 | (cp & 0x3FF)]
        elif kind == 5:
            units.append(rng.randint(0xD800, 0xDBFF))  # high surrogate, usually unpaired
        else:
            units.append(rng.randint(0xDC00, 0xDFFF))  # low surrogate, usually unpaired
    return units


def _string_cases(rng: random.Random) -> List[SerdeCase]:
    fixed = [
        "", "a", "kafka", "42", "\x00", "\x7f", "\x80", "\u07ff", "\u0800", "h\u00e9llo", "\u65e5\u672c\u8a9e",
        "\ufeff", "\ufffd", "\uffff", "\ufffe", "\U0001f600", "\U00010000", "\U0010ffff", "a\U0001f600b",
        "\ud800", "\udc00", "\udbff", "\udfff", "\udc00\ud800", "a\ud83d", "\ude00z", "\ud83d\ud83d\ude00",
        "x" * 1000, "\u00e9" * 300 + "\U0001f600" * 100,
    ]
    units_list = [list(struct.unpack(f"<{len(s.encode('utf-16-le', 'surrogatepass')) // 2}H",
                                     s.encode("utf-16-le", "surrogatepass"))) for s in fixed]
    units_list += [_random_units(rng, rng.randint(1, 30)) for _ in range(150)]
    out = []
    for units in units_list:
        raw = struct.pack(f"<{len(units)}H", *units)
        # the str Python gives fastpart for these UTF-16 code units (paired surrogates join,
        # lone ones stay lone code points), exactly the Java String built from the same units
        value = raw.decode("utf-16-le", "surrogatepass")
        text = ".".join(f"{u:04x}" for u in units)
        assert text == H.string_text(value)
        out.append(SerdeCase("string", text, value, repr(value)[:60]))
    return out


def serde_cases() -> List[SerdeCase]:
    rng = random.Random(20261130)
    return _int_cases(rng) + _float_cases(rng) + _uuid_cases(rng) + _string_cases(rng)


SERDE_CASES = serde_cases()


@pytest.fixture(scope="module")
def java_serde(java_builds) -> Dict[str, List[Optional[str]]]:
    """``{version: [hex or None per SERDE_CASES]}``."""
    values = [(c.type, c.java_text) for c in SERDE_CASES]
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = {v: pool.submit(H.run_serde, v, values) for v in VERSIONS}
        return {v: f.result() for v, f in runs.items()}


def _fastpart_hex(typ: str, value: Any) -> str:
    from fastpart import serde

    try:
        out = getattr(serde, typ)(value)
    except Exception as e:  # shown as a mismatch
        return f"<{type(e).__name__}: {e}>"
    if not isinstance(out, bytes):
        return f"<returned {type(out).__name__}, not bytes>"
    return out.hex()


def _serde_report(rows: List[str], total: int, what: str) -> str:
    return f"{len(rows)} of {total} {what} differ; first:\n  " + "\n  ".join(rows[:15])


@pytest.mark.parametrize("version", VERSIONS)
def test_serializers_match_java(java_serde, version):
    answers = java_serde[version]
    missing = sorted({c.type for c, a in zip(SERDE_CASES, answers) if a is None})
    # UUIDSerializer arrived in 2.1 (KIP-206); every other serializer is in all proven versions
    assert missing == ([] if _vkey(version) >= (2, 1) else ["uuid"]), missing
    rows = []
    checked = 0
    for i, (case, java_hex) in enumerate(zip(SERDE_CASES, answers)):
        if java_hex is None or not case.py_ok:
            continue
        checked += 1
        got = _fastpart_hex(case.type, case.value)
        if got != java_hex:
            rows.append(f"#{i} {case.type} {case.note}: fastpart={got} java={java_hex}")
    assert checked > 500
    if rows:
        pytest.fail(
            f"fastpart.serde differs from the kafka-clients {version} serializers: "
            + _serde_report(rows, checked, "values"),
            pytrace=False,
        )


def _array_item_hex(arr: Any, j: int) -> str:
    # an "S<w>" element read by indexing loses trailing NUL bytes: slice the raw buffer instead
    if arr.dtype.kind == "S":
        w = arr.dtype.itemsize
        return arr.tobytes()[j * w:(j + 1) * w].hex()
    return bytes(arr[j]).hex()


def test_serializers_numpy_arrays_match_java(java_serde):
    """The NumPy array paths of fastpart.serde, every type; the float32 array carries every
    float32 bit pattern, signalling NaNs included, which a Python float cannot."""
    np = pytest.importorskip("numpy")
    from fastpart import serde

    version = VERSIONS[-1]
    answers = java_serde[version]
    rows: List[str] = []
    total = 0

    def by_type(typ, pred=lambda c: True):
        return [i for i, c in enumerate(SERDE_CASES) if c.type == typ and pred(c)]

    arrays = {
        "int16": (by_type("int16"), lambda idx: np.array([SERDE_CASES[i].value for i in idx], dtype=np.int16)),
        "int32": (by_type("int32"), lambda idx: np.array([SERDE_CASES[i].value for i in idx], dtype=np.int32)),
        "int64": (by_type("int64"), lambda idx: np.array([SERDE_CASES[i].value for i in idx], dtype=np.int64)),
        # exact bits, NaN payloads included
        "float64": (by_type("float64"), lambda idx: np.array(
            [int(SERDE_CASES[i].java_text, 16) for i in idx], dtype=np.uint64).view(np.float64)),
        # raw float32 bits only (not the (float)-narrowed doubles)
        "float32": (by_type("float32", lambda c: len(c.java_text) == 10), lambda idx: np.array(
            [int(SERDE_CASES[i].java_text, 16) for i in idx], dtype=np.uint32).view(np.float32)),
        "uuid": (by_type("uuid"), lambda idx: np.array([SERDE_CASES[i].value for i in idx], dtype=object)),
        "string": (by_type("string"), lambda idx: np.array([SERDE_CASES[i].value for i in idx], dtype=object)),
    }
    for typ, (idx, make) in arrays.items():
        arr = make(idx)
        got = getattr(serde, typ)(arr)
        for j, i in enumerate(idx):
            total += 1
            h = _array_item_hex(got, j)
            if h != answers[i]:
                rows.append(f"#{i} {typ} array {SERDE_CASES[i].note}: fastpart={h} java={answers[i]}")
    if rows:
        pytest.fail("fastpart.serde (NumPy input) differs from the Java serializers: "
                    + _serde_report(rows, total, "values"), pytrace=False)


def test_serializers_numpy_float32_scalars_match_java(java_serde):
    """NumPy float32 scalars (one at a time) keep every float32 bit pattern too."""
    np = pytest.importorskip("numpy")

    answers = java_serde[VERSIONS[-1]]
    idx = [i for i, c in enumerate(SERDE_CASES) if c.type == "float32" and len(c.java_text) == 10]
    arr = np.array([int(SERDE_CASES[i].java_text, 16) for i in idx], dtype=np.uint32).view(np.float32)
    rows = []
    for j, i in enumerate(idx):
        h = _fastpart_hex("float32", arr[j])
        if h != answers[i]:
            rows.append(f"#{i} float32 numpy scalar {SERDE_CASES[i].note}: fastpart={h} java={answers[i]}")
    if rows:
        pytest.fail("fastpart.serde.float32(numpy.float32) differs from FloatSerializer: "
                    + _serde_report(rows, len(idx), "values"), pytrace=False)


def test_serializers_same_in_every_version(java_serde):
    base = VERSIONS[-1]
    for version in VERSIONS:
        for i, (a, b) in enumerate(zip(java_serde[version], java_serde[base])):
            if a is not None:
                assert a == b, f"{SERDE_CASES[i]}: {version} gives {a}, {base} gives {b}"
