#!/usr/bin/env bash
# The compiled core on a free-threaded CPython (3.13t, the GIL really off).
#
#   bash scripts/freethreading_check.sh
#
# 1. The interpreter: $FASTPART_PY313T if it names a free-threaded python;
#    else one built here from Debian's CPython 3.13 source package (the
#    upstream tarball inside it, `./configure --disable-gil`), cached under
#    ${FASTPART_TEST_CACHE:-~/.cache/fastpart-tests}/cpython-3.13t.  The source
#    comes through apt (`apt-get source`, checksums verified against the
#    signed Sources index) from the Debian release that packages 3.13
#    ($FT_DEBIAN_SUITE, default trixie), with a private apt configuration in a
#    temporary directory: the system's sources and lists are not touched.  The
#    archive's URI is the one the system's own apt sources use.
# 2. A wheel of the work tree built by that interpreter (Cython from
#    requirements/cython.txt), installed into a fresh venv with pytest,
#    hypothesis, NumPy and pyarrow (binary wheels only: each declares
#    free-threading support; one that did not would switch the GIL back on
#    for the whole run, and the check below would fail).
# 3. The core's tests with `-W error::RuntimeWarning` (importing a module
#    that is not free-threading compatible warns, and turns the GIL on), then
#    the thread-stress file FT_THREAD_ROUNDS times (default 5); the run fails
#    unless sys._is_gil_enabled() is still False at the end of every session.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${FASTPART_TEST_CACHE:-$HOME/.cache/fastpart-tests}"
PREFIX="$CACHE/cpython-3.13t"
SUITE="${FT_DEBIAN_SUITE:-trixie}"
ROUNDS="${FT_THREAD_ROUNDS:-5}"
T0=$SECONDS
say() { printf '[freethreading %4ss] %s\n' "$((SECONDS - T0))" "$*"; }
die() { printf 'freethreading check FAILED: %s\n' "$*" >&2; exit 1; }

is_ft() { [[ -x "$1" ]] && { [[ "$1" != "$PREFIX"/* ]] || [[ -f "$PREFIX/.fastpart-complete" ]]; } && "$1" -c 'import sys, sysconfig; sys.exit(not sysconfig.get_config_var("Py_GIL_DISABLED"))' 2>/dev/null; }

# The archive URI of the system's own apt sources (deb822 or one-line style).
debian_uri() {
    local f uri
    for f in /etc/apt/sources.list.d/*.sources; do
        [[ -f "$f" ]] || continue
        uri="$(awk '/^URIs:/ {for (i = 2; i <= NF; i++) if ($i ~ /\/debian\/?$/) {print $i; exit}}' "$f")"
        [[ -n "$uri" ]] && { echo "$uri"; return; }
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [[ -f "$f" ]] || continue
        uri="$(awk '$1 == "deb" {for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\/.*\/debian\/?$/) {print $i; exit}}' "$f")"
        [[ -n "$uri" ]] && { echo "$uri"; return; }
    done
    return 1
}

build_python() {
    command -v apt-get >/dev/null || die "no apt-get: set FASTPART_PY313T to a free-threaded CPython 3.13 (python3.13t)"
    command -v cc >/dev/null || die "no C compiler (Debian: apt-get install gcc make)"
    local uri tmp src
    uri="$(debian_uri)" || die "no Debian archive URI in /etc/apt/sources.list*: set FASTPART_PY313T"
    tmp="$(mktemp -d "${TMPDIR:-/tmp}/fastpart-py313t.XXXXXX")"
    mkdir -p "$tmp/lists/partial" "$tmp/cache/archives/partial" "$tmp/src"
    printf 'deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s %s main\n' "$uri" "$SUITE" >"$tmp/sources.list"
    local apt=(-o "Dir::Etc::SourceList=$tmp/sources.list" -o Dir::Etc::SourceParts=/dev/null
               -o "Dir::State::Lists=$tmp/lists" -o "Dir::Cache=$tmp/cache" -o APT::Sandbox::User=root)
    say "apt-get source python3.13 (Debian $SUITE, private apt configuration in $tmp)"
    apt-get "${apt[@]}" -qq update >"$tmp/apt.log" 2>&1 || { cat "$tmp/apt.log"; die "apt-get update for $SUITE's sources failed"; }
    (cd "$tmp/src" && apt-get "${apt[@]}" -qq source --download-only python3.13) >>"$tmp/apt.log" 2>&1 \
        || { cat "$tmp/apt.log"; die "apt-get source python3.13 failed"; }
    (cd "$tmp/src" && tar xf python3.13_*.orig.tar.xz)
    src="$(ls -d "$tmp"/src/Python-3.13.*/)"
    say "building $(basename "$src") with --disable-gil into $PREFIX (configure + make -j$(nproc), a few minutes)"
    rm -rf "$PREFIX"
    (
        cd "$src"
        ./configure --disable-gil --disable-test-modules --prefix="$PREFIX" --with-ensurepip=install >"$tmp/configure.log" 2>&1 \
            || { tail -30 "$tmp/configure.log"; exit 1; }
        make -j"$(nproc)" >"$tmp/make.log" 2>&1 || { tail -40 "$tmp/make.log"; exit 1; }
        make install >"$tmp/install.log" 2>&1 || { tail -30 "$tmp/install.log"; exit 1; }
    ) || { rm -rf "$PREFIX"; die "building CPython 3.13t failed (see above; Debian: apt-get install libssl-dev zlib1g-dev libffi-dev)"; }
    touch "$PREFIX/.fastpart-complete"   # a build cut short is never taken from the cache
    rm -rf "$tmp"
}

PY="${FASTPART_PY313T:-$PREFIX/bin/python3.13t}"
if ! is_ft "$PY"; then
    [[ -n "${FASTPART_PY313T:-}" ]] && die "FASTPART_PY313T=$FASTPART_PY313T is not a free-threaded CPython"
    build_python
    is_ft "$PY" || die "$PY was built but is not free-threaded"
fi
say "interpreter: $PY ($("$PY" -VV | tr -d '\n'))"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/fastpart-ft.XXXXXX")"
trap '[[ "${KEEP_WORK:-0}" == 1 ]] && echo "work directory kept: $WORK" || rm -rf "$WORK"' EXIT
"$PY" -m venv "$WORK/venv"
VPY="$WORK/venv/bin/python"
"$VPY" -m pip install -q -U pip
say "building the wheel (Cython $(grep -m 1 -iE '^cython==' "$REPO/requirements/cython.txt" | cut -d= -f3))"
(cd "$REPO" && git ls-files -z --cached | while IFS= read -r -d '' f; do [[ -e "$f" ]] && printf '%s\0' "$f"; done) \
    | grep -zv '^tests/harness/' | (cd "$REPO" && xargs -0 cp --parents -t "$WORK" 2>/dev/null) || true
mkdir -p "$WORK/dist"
(cd "$WORK" && PIP_CONSTRAINT="$REPO/requirements/cython.txt" FASTPART_PURE=0 FASTPART_NO_EXTENSIONS=0 \
    "$VPY" -m pip wheel -q --no-deps -w dist . >"$WORK/wheel.log" 2>&1) || { tail -30 "$WORK/wheel.log"; die "the wheel build failed"; }
WHEEL="$(ls "$WORK"/dist/fastpart-*.whl)"
[[ "$(basename "$WHEEL")" == *cp313t* ]] || die "not a cp313t wheel: $(basename "$WHEEL")"
say "wheel: $(basename "$WHEEL")"
# wheels only: a newest release that ships only a source build for 3.13t is passed over
"$VPY" -m pip install -q --only-binary=:all: "$WHEEL" "pytest>=7.4" "hypothesis>=6.90" "numpy>=2.1"
# pyarrow declares free-threading support from its cp313t wheels on; without one the Arrow tests skip
"$VPY" -m pip install -q --only-binary=:all: "pyarrow>=18" 2>/dev/null || say "no pyarrow wheel for 3.13t: the Arrow tests skip"

# Installed wheel only: the tests run from a directory without fastpart/.
RUN="$WORK/run"
mkdir -p "$RUN"
cp -r "$REPO/tests" "$RUN/"
rm -rf "$RUN/tests/harness"
cp "$REPO/pyproject.toml" "$RUN/"
cat >"$RUN/gil_check.py" <<'PY'
"""pytest plugin: fail the session if the GIL is on at its start or its end."""
import sys

import pytest


def _check(when):
    if sys._is_gil_enabled():
        pytest.exit(f"the GIL is enabled at {when}: some imported module is not free-threading compatible", 3)


def pytest_configure(config):
    import fastpart._core  # noqa: F401  (a module without Py_mod_gil would switch the GIL on here)
    _check("start (after importing fastpart._core)")


def pytest_sessionfinish(session, exitstatus):
    _check("the end of the session")
    print(f"\n[gil_check] sys._is_gil_enabled() = {sys._is_gil_enabled()}")
PY
(
    cd "$RUN"
    "$VPY" -W error::RuntimeWarning -c 'import sys, fastpart, fastpart._core; print("    core:", fastpart.IMPLEMENTATION, fastpart._core.__file__, "GIL enabled:", sys._is_gil_enabled()); sys.exit(fastpart.IMPLEMENTATION != "native" or sys._is_gil_enabled())'
) || die "fastpart._core switched the GIL on, or the native core did not load"

TESTS=()
for t in ${FT_TESTS:-tests/test_core.py tests/test_contract.py tests/test_keyless.py tests/test_serde.py tests/test_simd.py tests/test_properties.py tests/test_arrow.py tests/test_fuzz_arrow.py tests/test_threads.py}; do
    [[ -f "$RUN/$t" ]] && TESTS+=("$t")
done
say "pytest on the free-threaded interpreter: ${TESTS[*]}"
(cd "$RUN" && FASTPART_REQUIRE_NATIVE=1 "$VPY" -W error::RuntimeWarning -m pytest -p no:cacheprovider -p gil_check \
    -q -m "not conformance and not broker and not sanitizer" --rootdir "$RUN" "${TESTS[@]}") \
    || die "pytest on the free-threaded interpreter"
for i in $(seq 1 "$ROUNDS"); do
    say "thread stress, round $i of $ROUNDS"
    (cd "$RUN" && FASTPART_REQUIRE_NATIVE=1 "$VPY" -W error::RuntimeWarning -m pytest -p no:cacheprovider -p gil_check \
        -q --rootdir "$RUN" tests/test_threads.py) || die "tests/test_threads.py, round $i"
done
say "free-threading check: OK (GIL off throughout)"
