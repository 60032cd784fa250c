"""Build and run the Java conformance harness (``tests/harness/java/``).

The harness is one Java program, ``PartitionHarness``, compiled against each pinned
kafka-clients version in :data:`VERSIONS` and run on that version's own jars, so the
answers come from the real client code (``Utils.murmur2``, ``BuiltInPartitioner``,
``DefaultPartitioner``, the serializers).

Build: ``pom.xml`` builds one version (``mvn -q -B process-classes -Dkafka.version=<v>
-Dharness.build.dir=<dir>`` compiles the harness into ``<dir>/classes`` and copies
kafka-clients plus its runtime dependencies into ``<dir>/lib``).  To pay Maven's start-up
once, :func:`build` runs a single reactor whose modules are copies of that pom with the
version fixed, one per version still to build.  Everything lives under
``cache_dir("java", tree_digest(tests/harness/java))``, one folder per version, marked
complete by a ``BUILD-OK`` file, so a second run (or a second pytest worker, behind a file
lock) reuses it without starting Maven.  Maven's downloads go to the default local
repository (~/.m2).  Maven output is swallowed unless the build fails; then it is the
failure message.

Harness modes and formats (the Java file documents the same):

``info``
    ``<name>\\t<value>`` lines: ``version`` (kafka-clients version on the classpath),
    ``builtin`` / ``default`` (``yes``/``no``: BuiltInPartitioner / DefaultPartitioner exist),
    ``serializer:<type>`` (``yes``/``no``).

``partitions <corpus> <n1,n2,...>``
    Harness format of ``conformance_support`` (``<label>\\t<n>\\t<v1>,...``, ``x`` = null key):
    ``hash:murmur2 0`` (signed ``Utils.murmur2``), ``java:partition <n>`` per count
    (``BuiltInPartitioner.partitionForKey`` in 3.3+; before 3.3 ``DefaultPartitioner.partition``
    on a real ``Cluster`` with n partitions for n <= 100,000 and the expression it evaluates,
    ``Utils.toPositive(Utils.murmur2(k)) % n``, for larger n), and in 3.3 .. 3.9, which have
    both, also ``java:default <n>`` (the deprecated ``DefaultPartitioner``) for n <= 100,000.

``serde <values-file>``
    Input lines ``<type>\\t<value>``; types ``int16 int32 int64`` (decimal), ``float32``
    (``0x`` + 8 hex digits of raw IEEE bits, or ``0x`` + 16 hex digits of double bits that Java
    narrows with a ``(float)`` cast), ``float64`` (``0x`` + 16 hex digits of raw bits), ``uuid``
    (canonical text), ``string`` (UTF-16 code units in hex joined by ``.``, so lone surrogates
    can be written; empty for "").  Output lines ``<type>\\t<hex>``: the bytes the real
    ``XxxSerializer.serialize("t", value)`` returns, or ``x`` where the version lacks that
    serializer (``UUIDSerializer`` is 2.1+).
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import pytest

try:
    from conformance_support import cache_dir, need_tool, tree_digest
except ImportError:  # imported from somewhere that does not put tests/ on sys.path
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from conformance_support import cache_dir, need_tool, tree_digest

JAVA_DIR = Path(__file__).resolve().parent / "java"
MAIN_CLASS = "PartitionHarness"

#: kafka-clients versions the suite proves (all run on Java 17).  0.11 and 1.1: old
#: DefaultPartitioner (round robin for keyless records); 2.8: sticky DefaultPartitioner;
#: 3.3: first with BuiltInPartitioner; 3.9: last with DefaultPartitioner too; 4.1 / 4.4:
#: BuiltInPartitioner only.
VERSIONS: Tuple[str, ...] = ("0.11.0.3", "1.1.1", "2.8.2", "3.3.2", "3.9.1", "4.1.2", "4.4.0")

#: Seconds allowed for one Maven build (a cold one downloads plugins and jars).
BUILD_TIMEOUT = 900
#: Seconds allowed for one harness run.
RUN_TIMEOUT = 300

SERDE_TYPES = ("int16", "int32", "int64", "float32", "float64", "uuid", "string")


def _fail(message: str) -> None:
    pytest.fail(message, pytrace=False)


def _tools() -> Dict[str, str]:
    # Maven compiles in-process with the JDK's compiler, so javac must exist too.
    return need_tool("java", "javac", "mvn")


def build_dir() -> Path:
    """The cache folder for the current harness sources (one sub-folder per version)."""
    return cache_dir("java", tree_digest(JAVA_DIR))


def _classpath(folder: Path) -> str:
    return os.pathsep.join([str(folder / "classes"), str(folder / "lib" / "*")])


def _module_pom(version: str, folder: Path) -> str:
    """pom.xml rewritten into a reactor module that builds *version* into *folder*."""
    pom = (JAVA_DIR / "pom.xml").read_text(encoding="utf-8")
    edits = [
        ("<artifactId>partition-harness</artifactId>", f"<artifactId>partition-harness-{version}</artifactId>"),
        (re.compile(r"<kafka\.version>[^<]*</kafka\.version>"), f"<kafka.version>{version}</kafka.version>"),
        (re.compile(r"<harness\.build\.dir>[^<]*</harness\.build\.dir>"),
         f"<harness.build.dir>{folder}</harness.build.dir>"),
        ("<build>", f"<build>\n    <sourceDirectory>{JAVA_DIR / 'src' / 'main' / 'java'}</sourceDirectory>"),
    ]
    for old, new in edits:
        if isinstance(old, str):
            count = pom.count(old)
            pom = pom.replace(old, new, 1)
        else:
            pom, count = old.subn(lambda _m: new, pom, count=1)
        if count < 1:
            raise RuntimeError(f"java_harness: {JAVA_DIR / 'pom.xml'} no longer has {getattr(old, 'pattern', old)!r}")
    return pom


def _maven_build(versions: Sequence[str], base: Path, mvn: str) -> None:
    """Build all *versions* in ONE Maven run: a reactor with one generated module per version
    (each a copy of pom.xml with the version fixed), which costs one Maven start-up instead
    of one per version."""
    reactor = base / "reactor"
    if reactor.exists():
        shutil.rmtree(reactor)
    reactor.mkdir()
    modules = []
    for v in versions:
        folder = base / v
        if folder.exists():
            shutil.rmtree(folder)  # a half-finished build
        (reactor / f"kafka-{v}").mkdir()
        (reactor / f"kafka-{v}" / "pom.xml").write_text(_module_pom(v, folder), encoding="utf-8")
        modules.append(f"    <module>kafka-{v}</module>")
    (reactor / "pom.xml").write_text(
        "<project xmlns=\"http://maven.apache.org/POM/4.0.0\">\n"
        "  <modelVersion>4.0.0</modelVersion>\n"
        "  <groupId>fastpart.conformance</groupId>\n"
        "  <artifactId>partition-harness-reactor</artifactId>\n"
        "  <version>1</version>\n"
        "  <packaging>pom</packaging>\n"
        "  <modules>\n" + "\n".join(modules) + "\n  </modules>\n"
        "</project>\n",
        encoding="utf-8",
    )
    cmd = [mvn, "-q", "-B", "-Dstyle.color=never", "-f", str(reactor / "pom.xml"), "process-classes"]
    try:
        proc = subprocess.run(
            cmd, cwd=reactor, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, timeout=BUILD_TIMEOUT,
        )
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode("utf-8", "replace")
        _fail(f"Maven build of the Java harness timed out after {BUILD_TIMEOUT}s:\n"
              f"$ {' '.join(cmd)}\n{out[-20000:]}")
    out = proc.stdout.decode("utf-8", "replace")
    broken = [
        v for v in versions
        if not (base / v / "lib" / f"kafka-clients-{v}.jar").exists()
        or not (base / v / "classes" / f"{MAIN_CLASS}.class").exists()
    ]
    if proc.returncode != 0 or broken:
        _fail(f"Maven build of the Java harness failed (exit {proc.returncode}"
              f"{', nothing built for ' + ', '.join(broken) if broken else ''}):\n"
              f"$ {' '.join(cmd)}\n{out[-20000:]}")
    for v in versions:
        (base / v / "BUILD-OK").write_text(" ".join(cmd) + "\n")


def build(versions: Sequence[str] = VERSIONS) -> Dict[str, str]:
    """Build the harness for each version (cached); return ``{version: classpath}``.

    Skips (or fails under ``FASTPART_REQUIRE_TOOLCHAINS=1``) when java/javac/mvn are missing.
    """
    tools = _tools()
    base = build_dir()
    todo = [v for v in versions if not (base / v / "BUILD-OK").exists()]
    if todo:
        with open(base / ".build.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # another pytest worker may be building
            todo = [v for v in versions if not (base / v / "BUILD-OK").exists()]
            if todo:
                _maven_build(todo, base, tools["mvn"])
    return {v: _classpath(base / v) for v in versions}


def _run(version: str, args: Sequence[str]) -> str:
    java = _tools()["java"]
    classpath = build([version])[version]
    # short runs: the serial GC and the C1 compiler alone use the least CPU (two cores here)
    cmd = [java, "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", classpath, MAIN_CLASS, *args]
    try:
        proc = subprocess.run(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL, timeout=RUN_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        _fail(f"Java harness (kafka-clients {version}) timed out after {RUN_TIMEOUT}s: {' '.join(cmd)}")
    if proc.returncode != 0:
        _fail(f"Java harness (kafka-clients {version}) exited {proc.returncode}:\n$ {' '.join(cmd)}\n"
              f"{proc.stderr.decode('utf-8', 'replace')[-20000:]}")
    return proc.stdout.decode("utf-8")


def run_info(version: str) -> Dict[str, str]:
    """``info`` mode: ``{"version": ..., "builtin": "yes"|"no", ...}``."""
    out = {}
    for line in _run(version, ["info"]).splitlines():
        name, _, value = line.partition("\t")
        out[name] = value
    return out


def run_partitions(version: str, corpus_path: Path, counts: Iterable[int]) -> Dict[Tuple[str, int], str]:
    """``partitions`` mode: ``{(label, n): "v1,v2,..."}`` -- the raw value text per line.

    The text is kept unparsed (a 100,000-record line compares as one string; parse it with
    :func:`parse_values` or ``conformance_support.parse_harness_output`` only to explain a
    difference).  Every line is checked to hold one value per corpus record.
    """
    with open(corpus_path, "rb") as f:
        corpus_len = sum(1 for _ in f)
    counts = list(counts)
    text = _run(version, ["partitions", str(corpus_path), ",".join(str(n) for n in counts)])
    lines: Dict[Tuple[str, int], str] = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line:
            continue
        parts = line.split("\t")
        if len(parts) != 3:
            _fail(f"Java harness {version}: output line {lineno} is malformed: {line[:200]!r}")
        label, n, values = parts
        got = values.count(",") + 1 if values else 0
        if got != corpus_len:
            _fail(f"Java harness {version}: line {label!r} n={n} has {got} values "
                  f"for {corpus_len} corpus records")
        lines[(label, int(n))] = values
    missing = [n for n in counts if ("java:partition", n) not in lines]
    if ("hash:murmur2", 0) not in lines or missing:
        _fail(f"Java harness {version}: output lacks hash:murmur2 or java:partition for {missing}")
    return lines


def parse_values(values: str) -> List[Optional[int]]:
    """One harness line's value text as a list (``None`` for ``x``)."""
    return [None if v == "x" else int(v) for v in values.split(",")] if values else []


# ----------------------------------------------------------------------------- serde

def float32_bits_text(bits: int) -> str:
    """``float32`` value text for raw 32-bit IEEE bits."""
    return f"0x{bits & 0xFFFFFFFF:08x}"


def float32_from_double_text(value: float) -> str:
    """``float32`` value text asking Java to narrow this double with ``(float)``."""
    return "0x" + struct.pack(">d", value).hex()


def float64_bits_text(bits: int) -> str:
    """``float64`` value text for raw 64-bit IEEE bits."""
    return f"0x{bits & 0xFFFFFFFFFFFFFFFF:016x}"


def string_text(s: str) -> str:
    """``string`` value text: the UTF-16 code units of *s* (lone surrogates allowed)."""
    raw = s.encode("utf-16-le", "surrogatepass")
    return ".".join(f"{raw[i + 1]:02x}{raw[i]:02x}" for i in range(0, len(raw), 2))


def run_serde(version: str, values: Sequence[Tuple[str, str]]) -> List[Optional[str]]:
    """``serde`` mode: *values* are ``(type, value_text)``; returns the hex per value, or
    ``None`` where this kafka-clients version has no serializer for that type."""
    for t, text in values:
        if t not in SERDE_TYPES or "\n" in text or "\t" in text:
            raise ValueError(f"bad serde value {(t, text)!r}")
    with tempfile.TemporaryDirectory(prefix="fastpart-java-serde-") as tmp:
        path = Path(tmp, "values.txt")
        path.write_text("".join(f"{t}\t{text}\n" for t, text in values), encoding="utf-8")
        out = _run(version, ["serde", str(path)])
    lines = out.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if len(lines) != len(values):
        _fail(f"Java serde harness {version}: {len(lines)} output lines for {len(values)} values")
    result: List[Optional[str]] = []
    for (t, _), line in zip(values, lines):
        typ, _, hexed = line.partition("\t")
        if typ != t:
            _fail(f"Java serde harness {version}: output out of step ({line[:100]!r} for a {t})")
        result.append(None if hexed == "x" else hexed)
    return result
