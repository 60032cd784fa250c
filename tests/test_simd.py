"""The SIMD lanes of the compiled core against the pure twin.

AVX2 reduces modulo n in float64 (q = floor(h * (1.0 / n)), then one
correction); keys whose hash is an exact multiple of n, or one above or below
it, are where a wrong correction would show.  Every key length 0..64 runs
with 8 distinct keys per lane group, counts 837 and 929, lanes on and off.
"""

from __future__ import annotations

import importlib
import platform
import random
from pathlib import Path

import pytest

from fastpart import _core_py

np = pytest.importorskip("numpy")
COUNTS = (837, 929)
LANES = 8  # AVX2; NEON uses 4, a divisor of 8


def _cpu_has_avx2() -> bool:
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return False
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return any(line.startswith("flags") and " avx2" in line for line in text.splitlines())


def test_an_avx2_machine_runs_the_lanes(native):
    """Fails (not skips) when the CPU has AVX2 and the compiled core does not use it."""
    if not _cpu_has_avx2():
        pytest.skip("this CPU reports no AVX2 (/proc/cpuinfo)")
    assert native._simd() is True, (
        "the CPU has AVX2 but the compiled core's lanes are off: built with FASTPART_NO_SIMD, "
        "or the CPU detection failed"
    )


def _keys_for(length: int, n: int, rng: random.Random) -> list:
    """8-key groups of one length: random keys, then keys whose masked murmur2 is
    0, 1 and n-1 modulo n (found by search; length 0 has one key only)."""
    if length == 0:
        return [b""] * (2 * LANES)
    seen: set = set()
    keys = []
    while len(keys) < 3 * LANES and len(seen) < 256 ** length:
        k = rng.randbytes(length)
        if k not in seen:
            seen.add(k)
            keys.append(k)
    want: dict = {0: [], 1: [], n - 1: []}
    for _ in range(min(60 * n, 256 ** length)):
        if all(len(v) == 3 for v in want.values()):
            break
        k = rng.randbytes(length)
        r = (_native_or_twin().murmur2(k) & 0x7FFFFFFF) % n
        if r in want and len(want[r]) < 3 and k not in seen:
            seen.add(k)
            want[r].append(k)
    keys += [k for v in want.values() for k in v]
    while len(keys) % LANES:
        k = rng.randbytes(length)
        if k not in seen or len(seen) >= 256 ** length:
            seen.add(k)
            keys.append(k)
    return keys


def _native_or_twin():
    try:
        return importlib.import_module("fastpart._core")
    except ImportError:  # pragma: no cover
        return _core_py


@pytest.mark.parametrize("n", COUNTS)
def test_lanes_modulo_against_the_twin(native, n):
    rng = random.Random(n)
    lanes_available = native._simd(True)
    try:
        for length in range(0, 65):
            keys = _keys_for(length, n, rng)
            assert len(keys) % LANES == 0
            if length:
                for g in range(0, len(keys), LANES):
                    assert len(set(keys[g : g + LANES])) == LANES  # a distinct key in every lane
            want = list(_core_py.partition_many(keys, n))
            assert want == [(_core_py.murmur2(k) & 0x7FFFFFFF) % n for k in keys]
            rows = np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(len(keys), length)
            void = np.array(keys, dtype=f"V{length}") if length else None
            modes = [True, False] if lanes_available else [False]
            for on in modes:
                native._simd(on)
                assert native._simd() is on
                assert list(native.partition_many(keys, n)) == want, (length, on)
                assert list(native.partition_many(rows, n)) == want, (length, on)
                if void is not None:
                    assert list(native.partition_many(void, n)) == want, (length, on)
                if length and all(k[-1:] != b"\0" for k in keys):
                    s_arr = np.array(keys, dtype=f"S{length}")
                    assert list(native.partition_many(s_arr, n)) == want, (length, on)
    finally:
        native._simd(True)


def test_simd_switch_is_test_only_and_restores(native):
    before = native._simd()
    native._simd(False)
    assert native._simd() is False
    native._simd(True)
    assert native._simd() is before


def test_switching_lanes_while_other_threads_hash(native):
    """_simd() is an atomic store: batches hashed meanwhile (GIL released) stay exact."""
    import threading

    rng = random.Random(11)
    keys = [rng.randbytes(16) for _ in range(20000)]
    want = list(_core_py.partition_many(keys[:2000], 929))
    want_all = list(native.partition_many(keys, 929))
    assert want_all[:2000] == want
    stop = threading.Event()

    def flip():
        on = False
        while not stop.is_set():
            native._simd(on)
            on = not on

    t = threading.Thread(target=flip)
    t.start()
    try:
        for _ in range(20):
            assert list(native.partition_many(keys, 929)) == want_all
    finally:
        stop.set()
        t.join()
        native._simd(True)
