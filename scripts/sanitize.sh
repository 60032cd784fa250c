#!/usr/bin/env bash
# The whole compiled core under the sanitizers, run over the tests that feed it
# malformed and hostile input.
#
#   bash scripts/sanitize.sh          # ASan + UBSan (default)
#   bash scripts/sanitize.sh thread   # ThreadSanitizer over the thread tests
#
# fastpart._core is built with `-fsanitize=address,undefined` (or `thread`)
# `-fno-sanitize-recover=all -fno-omit-frame-pointer -O1 -g` in a COPY of the
# tree (the in-place .so in the work tree is left alone), and pytest runs there
# with the sanitizer runtime preloaded (CPython itself is not instrumented, so
# the runtime must be loaded first: LD_PRELOAD=$(cc -print-file-name=libasan.so)).
#
# ASan: PYTHONMALLOC=malloc and ARROW_DEFAULT_MEMORY_POOL=system, so Python
# objects and Arrow buffers come from malloc, which ASan guards (pymalloc's
# arenas and jemalloc would hide an overread of a few bytes); LeakSanitizer off
# (CPython keeps its objects until exit by design).  Any report fails: the
# runtimes abort on the first error, and the log is searched for reports too.
#
# TSan: only the extension's own memory accesses are instrumented; CPython's
# are not (so a race between the core and CPython's list code is invisible),
# but TSan intercepts the pthread calls behind the GIL, so the GIL's ordering
# is known to it.  What it proves is written in README "Free-threading".
#
# Test files: those of SANITIZE_TESTS that exist (the set grows as they land).
# FASTPART_REQUIRE_NATIVE=1: a core that fails to build or load fails the run.
set -euo pipefail

MODE="${1:-address}"
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PYTHON:-python3}"
CC="${CC:-cc}"
T0=$SECONDS
say() { printf '[sanitize %4ss] %s\n' "$((SECONDS - T0))" "$*"; }
die() { printf 'sanitize (%s) FAILED: %s\n' "$MODE" "$*" >&2; exit 1; }

case "$MODE" in
    address)
        FLAGS="-fsanitize=address,undefined"
        RUNTIME="libasan.so"
        DEFAULT_TESTS="tests/test_fuzz_arrow.py tests/test_contract.py tests/test_core.py tests/test_arrow.py tests/test_simd.py tests/test_properties.py"
        ;;
    thread)
        FLAGS="-fsanitize=thread"
        RUNTIME="libtsan.so"
        DEFAULT_TESTS="tests/test_threads.py"
        ;;
    *) die "unknown mode '$MODE' (address or thread)" ;;
esac
command -v "$CC" >/dev/null || die "no C compiler '$CC' on PATH (Debian: apt-get install gcc)"
LIB="$("$CC" -print-file-name="$RUNTIME")"
[[ "$LIB" == /* && -e "$LIB" ]] || die "$CC has no $RUNTIME (Debian: apt-get install libasan8 libubsan1 libtsan2, which gcc pulls in)"
"$PY" -c 'import Cython' 2>/dev/null || die "$PY has no Cython (pip install -c requirements/cython.txt cython)"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/fastpart-sanitize.XXXXXX")"
trap '[[ "${KEEP_WORK:-0}" == 1 ]] && echo "work directory kept: $WORK" || rm -rf "$WORK"' EXIT
# A copy of the tracked files as they are in the work tree (no build outputs).
(cd "$REPO" && git ls-files -z --cached | while IFS= read -r -d '' f; do
    [[ -e "$f" ]] && printf '%s\0' "$f"; done) | grep -zv '^tests/harness/\(java\|go\|node\|rust\|broker\)/' \
    | (cd "$REPO" && xargs -0 cp --parents -t "$WORK")
# The test files to run, untracked ones included (they may not be committed yet).
TESTS=()
for t in ${SANITIZE_TESTS:-$DEFAULT_TESTS}; do
    if [[ -f "$REPO/$t" ]]; then
        (cd "$REPO" && cp --parents -t "$WORK" "$t")
        TESTS+=("$t")
    fi
done
[[ ${#TESTS[@]} -gt 0 ]] || die "none of the test files exist: ${SANITIZE_TESTS:-$DEFAULT_TESTS}"
# helper modules the tests import (tests/*.py that are not test files)
(cd "$REPO" && for f in tests/*.py; do [[ "$(basename "$f")" == test_* ]] || cp --parents -t "$WORK" "$f"; done)

say "building fastpart._core with $FLAGS in $WORK"
(
    cd "$WORK"
    rm -f fastpart/_core.c fastpart/_core.*.so
    FASTPART_EXTRA_CFLAGS="$FLAGS -fno-sanitize-recover=all -fno-omit-frame-pointer -O1 -g" \
        CC="$CC" FASTPART_PURE=0 FASTPART_NO_EXTENSIONS=0 \
        "$PY" setup.py -q build_ext --inplace --force >"$WORK/build.log" 2>&1
) || { tail -30 "$WORK/build.log"; die "the sanitizer build failed"; }
SO="$(ls "$WORK"/fastpart/_core.*.so)"
# ldd's output is captured first: `ldd | grep -q` under pipefail fails at random
# (grep exits at the first match, ldd is killed by SIGPIPE writing the next line).
LDD="$(ldd "$SO")"
grep -q "${RUNTIME%.so}" <<<"$LDD" || { printf '%s\n' "$LDD"; tail -30 "$WORK/build.log"; die "$SO is not linked with $RUNTIME"; }
say "built $(basename "$SO"); running ${TESTS[*]}"

# Hypothesis: no deadline (the sanitizers slow every call 2-5x), fewer examples
# per property (the fuzz files draw their own fixed cases besides).
cat >"$WORK/sanitize_profile.py" <<'PY'
"""pytest plugin for scripts/sanitize.sh: a Hypothesis profile for slow, instrumented runs."""
try:
    from hypothesis import HealthCheck, settings
except ImportError:  # pragma: no cover
    pass
else:
    settings.register_profile("sanitize", max_examples=int(__import__("os").environ.get("SANITIZE_EXAMPLES", "40")),
                              deadline=None, suppress_health_check=list(HealthCheck))
    settings.load_profile("sanitize")
PY
LOG="$WORK/pytest.log"
set +e
(
    cd "$WORK"
    export LD_PRELOAD="$LIB"
    export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:halt_on_error=1:detect_stack_use_after_return=0:allocator_may_return_null=1"
    export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
    export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:report_signal_unsafe=0"
    export PYTHONMALLOC=malloc ARROW_DEFAULT_MEMORY_POOL=system
    export FASTPART_REQUIRE_NATIVE=1 FASTPART_NO_EXTENSIONS=0
    "$PY" -c 'import fastpart, sys; print("    core:", fastpart.IMPLEMENTATION, fastpart._core.__file__); sys.exit(fastpart.IMPLEMENTATION != "native" or not fastpart._core.__file__.startswith(sys.argv[1]))' "$WORK" \
        && PYTHONPATH="$WORK${PYTHONPATH:+:$PYTHONPATH}" "$PY" -m pytest -p no:cacheprovider -p sanitize_profile \
            -q -x --durations=8 -m "not conformance and not broker" "${TESTS[@]}"
) 2>&1 | tee "$LOG"
rc=${PIPESTATUS[0]}
set -e
if grep -qE "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|WARNING: ThreadSanitizer|SUMMARY: (Address|Undefined|Thread)" "$LOG"; then
    grep -m 5 -E "ERROR: AddressSanitizer|runtime error:|WARNING: ThreadSanitizer|SUMMARY:" "$LOG" >&2
    die "sanitizer report (see above)"
fi
[[ $rc -eq 0 ]] || die "pytest exited $rc"
say "sanitize ($MODE): OK, no report"
