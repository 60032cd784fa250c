"""The C kernels on their own, under UndefinedBehaviorSanitizer and AddressSanitizer.

``tests/harness/kernels/kernel_check.c`` includes ``fastpart/_kernels.h`` and is
compiled here with ``-fsanitize=undefined,address -fno-sanitize-recover`` (any
signed overflow, bad shift, out-of-range float conversion or out-of-bounds read
aborts), once with the AVX2 lanes and once forced scalar; every hash and
partition it prints is compared with the pure-Python twin on a corpus covering
every length 0-300 and every byte value.

The same driver is also cross-compiled for aarch64 and run under qemu-user, so
the NEON lanes that aarch64 wheels use are checked here too (Debian packages
gcc-aarch64-linux-gnu, libc6-dev-arm64-cross and qemu-user; .ci/run installs
them).

Every test here is marked ``sanitizer`` (deselect with ``-m "not sanitizer"``:
the wheel-test jobs do, they have no source tree to compile).  A compiler that
cannot build or link with the sanitizers (no libasan/libubsan, Apple clang's
runtime, a cross compiler missing) SKIPS with the compiler's message, unless
FASTPART_REQUIRE_TOOLCHAINS=1, where it fails.  LeakSanitizer is off
(``detect_leaks=0``): Apple's ASan aborts at start-up with it, and the driver's
allocations live until exit by design.
"""

from __future__ import annotations

import random
import shutil
import subprocess
from pathlib import Path

import pytest

from conformance_support import cache_dir, need, tree_digest, write_corpus
from fastpart import _core_py

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "tests" / "harness" / "kernels" / "kernel_check.c"
HEADER = ROOT / "fastpart" / "_kernels.h"
COUNTS = [1, 2, 3, 7, 12, 1000, 10007, 2**31 - 1]

pytestmark = pytest.mark.sanitizer


def _build(cmd, what: str) -> None:
    """Compile; any failure skips (or fails under FASTPART_REQUIRE_TOOLCHAINS=1) with the compiler's words."""
    try:
        r = subprocess.run(cmd, capture_output=True, text=True)
    except OSError as exc:
        need(False, f"{what}: {' '.join(cmd[:1])} could not run ({exc})")
        return
    need(r.returncode == 0, f"{what}: {' '.join(cmd)} exited {r.returncode}:\n{r.stderr[-1500:]}")


@pytest.fixture(scope="module")
def kernel_binary() -> Path:
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    need(cc is not None, "no C compiler (cc) on PATH to build the sanitizer check")
    if not HEADER.exists():
        pytest.skip("fastpart/_kernels.h is not here (an installed wheel): this check needs the source tree")
    out = cache_dir("kernels", tree_digest(SRC, HEADER)) / "kernel_check"
    if not out.exists():
        cmd = [cc, "-O1", "-g", "-std=c99", "-Wall", "-Wextra", "-fsanitize=undefined,address",
               "-fno-sanitize-recover=all", "-fno-omit-frame-pointer", "-I", str(HEADER.parent), str(SRC),
               "-o", str(out)]
        _build(cmd, "the C compiler cannot build the kernel check with ASan/UBSan")
    return out


def _corpus():
    rng = random.Random(11)
    keys = [b""] + [bytes([b]) for b in range(256)]
    for length in range(0, 301):
        keys += [rng.randbytes(length) for _ in range(3)]
        keys.append(b"\xff" * length)
        keys.append(b"\x80" * length)
    return keys


def _check_output(keys, r) -> None:
    assert r.returncode == 0, f"kernel check exited {r.returncode}:\n{r.stderr[-3000:]}"
    lines = r.stdout.splitlines()
    assert len(lines) == len(keys)
    for key, line in zip(keys, lines):
        v = [int(x) for x in line.split()]
        m = _core_py.murmur2(key) & 0xFFFFFFFF
        assert v[:5] == [m, _core_py.kafkajs_murmur2(key) & 0xFFFFFFFF, _core_py.crc32(key),
                         _core_py.fnv1a(key), _core_py.xxh32(key)], key.hex()
        for i, n in enumerate(COUNTS):
            want = (m & 0x7FFFFFFF) % n
            assert v[5 + 3 * i : 8 + 3 * i] == [want, want, want], (key.hex(), n)


def _run(cmd, keys, tmp_path, env=None):
    corpus = write_corpus(tmp_path / "keys.txt", keys)
    with open(corpus, "rb") as f:
        return subprocess.run(cmd, stdin=f, capture_output=True, text=True, env=env)


@pytest.mark.parametrize("mode", ["auto", "scalar"])
def test_kernels_under_sanitizers(kernel_binary, tmp_path, mode):
    keys = _corpus()
    r = _run([str(kernel_binary), ",".join(map(str, COUNTS)), mode], keys, tmp_path,
             env={"ASAN_OPTIONS": "detect_leaks=0", "UBSAN_OPTIONS": "print_stacktrace=1"})
    _check_output(keys, r)
    if mode == "scalar":
        assert "simd=0" in r.stderr


@pytest.fixture(scope="module")
def arm64_binary() -> Path:
    cc = shutil.which("aarch64-linux-gnu-gcc")
    need(cc is not None, "no aarch64 cross compiler (Debian package gcc-aarch64-linux-gnu) on PATH")
    need(shutil.which("qemu-aarch64") is not None, "no qemu-aarch64 (Debian package qemu-user) on PATH")
    if not HEADER.exists():
        pytest.skip("fastpart/_kernels.h is not here (an installed wheel): this check needs the source tree")
    out = cache_dir("kernels-arm64", tree_digest(SRC, HEADER)) / "kernel_check"
    if not out.exists():
        cmd = [cc, "-O2", "-std=c99", "-static", "-Wall", "-I", str(HEADER.parent), str(SRC), "-o", str(out)]
        _build(cmd, "the aarch64 cross compiler cannot build the kernel check")
    return out


@pytest.mark.parametrize("mode", ["auto", "scalar"])
def test_kernels_on_aarch64_neon(arm64_binary, tmp_path, mode):
    keys = _corpus()
    r = _run(["qemu-aarch64", str(arm64_binary), ",".join(map(str, COUNTS)), mode], keys, tmp_path)
    _check_output(keys, r)
    assert ("simd=1" if mode == "auto" else "simd=0") in r.stderr  # the NEON lanes ran
