"""Shared pieces of the conformance suites that run the real Kafka clients.

Every harness under ``tests/harness/<client>/`` reads the same corpus file and
prints, per client partitioner and partition count, the partition the real
client chose for every corpus record.  pytest then compares each answer with
``fastpart``.

Corpus file format (UTF-8 text, one record per line):

* ``N``          -- a null key (a keyless record)
* ``K<hex>``     -- a key whose bytes are the lowercase hex after ``K``;
  ``K`` alone is the empty (non-null) key.

Harness output format (stdout, one line per client partitioner and count)::

    <label>\\t<n>\\t<v1>,<v2>,...,<vN>

with one value per corpus record, in corpus order: a decimal integer (the
partition, or for ``hash:*`` labels with ``n == 0`` the raw hash as the
client returns it), or ``x`` where the client cannot express that record
(for example a null key in a client that has no null key).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import random
import shutil
import struct
import subprocess
import sys
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Dict, Iterable, List, NoReturn, Optional, Sequence, Tuple

import pytest

#: Partition counts every conformance suite checks.
PARTITION_COUNTS: Tuple[int, ...] = (1, 2, 3, 7, 12, 1000, 10007, 2147483647)

#: Minimum number of keys in the corpus (the issues ask for at least 100,000).
CORPUS_SIZE = 100_000

HERE = Path(__file__).resolve().parent
HARNESS_DIR = HERE / "harness"


def load_harness(client: str) -> ModuleType:
    """The runner module ``tests/harness/<client>_harness.py``, loaded once per session.

    The harness modules live beside their sources (``tests/harness/<client>/``),
    not in a package, so they are loaded by path under the name
    ``fastpart_<client>_harness`` (registered in ``sys.modules``, so every
    suite that asks gets the same module object).

    Example::

        H = load_harness("go")      # tests/harness/go_harness.py
        H.run(corpus_path)
    """
    name = f"fastpart_{client}_harness"
    module = sys.modules.get(name)
    if module is not None:
        return module
    path = HARNESS_DIR / f"{client}_harness.py"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"no harness runner at {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def require_toolchains() -> bool:
    """True when missing toolchains must fail instead of skip (CI sets it)."""
    return os.environ.get("FASTPART_REQUIRE_TOOLCHAINS", "") not in ("", "0", "false", "no")


def need(condition: bool, reason: str) -> None:
    """Skip the calling test with *reason* unless toolchains are required.

    Under ``FASTPART_REQUIRE_TOOLCHAINS=1`` a missing toolchain is a failure.
    """
    if condition:
        return
    if require_toolchains():
        pytest.fail(f"FASTPART_REQUIRE_TOOLCHAINS=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def harness_failed(harness: str, what: str, proc=None, extra: str = "") -> NoReturn:
    """Fail the calling test because a harness step (build, install, run) failed,
    showing the tail of the process's stdout and stderr when there is one."""
    out = ""
    if proc is not None:
        out = (f" (exit {proc.returncode})\n--- stdout ---\n{proc.stdout[-8000:]}"
               f"\n--- stderr ---\n{proc.stderr[-8000:]}")
    pytest.fail(f"{harness} harness: {what} failed{out}{extra}", pytrace=False)


def need_tool(*names: str) -> Dict[str, str]:
    """Return ``{name: path}`` for each executable, or skip/fail when missing."""
    found = {}
    for name in names:
        path = shutil.which(name)
        need(path is not None, f"the '{name}' executable is not on PATH")
        found[name] = path  # type: ignore[assignment]
    return found


def cache_dir(*parts: str) -> Path:
    """A persistent build cache for harnesses (``$FASTPART_TEST_CACHE``)."""
    base = os.environ.get("FASTPART_TEST_CACHE") or os.path.join(
        os.path.expanduser("~"), ".cache", "fastpart-tests"
    )
    path = Path(base, *parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def tree_digest(*paths: Path) -> str:
    """Content hash of files/directories, used to key harness build caches."""
    h = hashlib.sha256()
    for root in paths:
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for f in files:
            if any(part in ("target", "node_modules", "__pycache__", "bin") for part in f.parts):
                continue
            h.update(str(f.relative_to(root.parent)).encode())
            h.update(f.read_bytes())
    return h.hexdigest()[:16]


def run_step(harness: str, what: str, cmd: Sequence[str], timeout: float,
             **kwargs: Any) -> "subprocess.CompletedProcess[str]":
    """Run one step of a harness (a build, a run) with its output captured as text; a
    timeout or a non-zero exit fails the calling test (:func:`harness_failed`), showing
    the output.  *kwargs* go to ``subprocess.run`` (``cwd=``, ``env=``)."""
    try:
        proc = subprocess.run(list(cmd), capture_output=True, text=True, timeout=timeout, **kwargs)
    except subprocess.TimeoutExpired:
        harness_failed(harness, f"{what} (over {timeout} s)")
    if proc.returncode != 0:
        harness_failed(harness, what, proc)
    return proc


def cached_build(harness: str, digest: str, name: str, make: Callable[[Path], None]) -> Path:
    """The executable *name* of a harness, built once per source *digest* into
    ``cache_dir(harness, digest)``: on first use ``make(path)`` writes it to a
    temporary path beside it, which then replaces it in one step (parallel pytest
    workers never run half a file)."""
    exe = cache_dir(harness, digest) / name
    if exe.is_file():
        return exe
    tmp = exe.with_name(f"{name}.tmp{os.getpid()}")
    make(tmp)
    os.replace(tmp, exe)
    return exe


def run_executable(harness: str, exe: Path, corpus: Path, counts: Iterable[int],
                   timeout: float) -> Tuple[str, str]:
    """Run a harness executable on *corpus* for the partition *counts*: ``(stdout, stderr)``."""
    cmd = [str(exe), str(corpus), ",".join(str(n) for n in counts)]
    proc = run_step(harness, f"running {exe}", cmd, timeout)
    return proc.stdout, proc.stderr


# --------------------------------------------------------------------------- corpus

def _utf8_string(rng: random.Random, length: int) -> str:
    ranges = [
        (0x20, 0x7E),      # ASCII
        (0xA0, 0x7FF),     # 2-byte UTF-8
        (0x800, 0xD7FF),   # 3-byte UTF-8 (below surrogates)
        (0xE000, 0xFFFD),  # 3-byte UTF-8 (above surrogates)
        (0x10000, 0x10FFFF),  # 4-byte UTF-8
    ]
    out = []
    for _ in range(length):
        lo, hi = ranges[rng.randrange(len(ranges))]
        out.append(chr(rng.randint(lo, hi)))
    return "".join(out)


def generate_corpus(size: int = CORPUS_SIZE, seed: int = 20261129) -> List[Optional[bytes]]:
    """The deterministic conformance corpus: ``None`` is a null key.

    Contents: the empty key, one null key, every single byte value, every
    byte value at every position of a 4-byte block, every length 0-1024
    (several random keys each), multi-byte UTF-8 strings, decimal strings,
    UUID strings, Java-serialized integers, then random keys up to *size*.
    """
    rng = random.Random(seed)
    keys: List[Optional[bytes]] = [b"", None]
    keys += [bytes([b]) for b in range(256)]
    for pos in range(4):
        for b in range(256):
            k = bytearray(b"\x00\x7f\x80\xff")
            k[pos] = b
            keys.append(bytes(k))
    for length in range(0, 1025):
        for _ in range(8):
            keys.append(rng.randbytes(length))
        keys.append(bytes([0xFF]) * length)
    for _ in range(10_000):
        keys.append(_utf8_string(rng, rng.randint(1, 40)).encode("utf-8"))
    for i in range(5_000):
        keys.append(str(rng.randint(-(2**63), 2**63 - 1) if i % 2 else i).encode())
    for _ in range(5_000):
        keys.append(str(uuid.UUID(int=rng.getrandbits(128))).encode())
    for i in range(2_000):
        v = rng.randint(-(2**31), 2**31 - 1)
        keys.append(struct.pack(">i", v))
        keys.append(struct.pack(">q", v * 7919))
    keys += [b"kafka", b"giberish123456789", b"1234", b"234", b"34", b"4", b"21"]
    while len(keys) < size:
        keys.append(rng.randbytes(rng.choice((1, 2, 3, 4, 5, 8, 16, 16, 32, 36, 64, 100))))
    # sprinkle a few more null keys through the corpus
    for i in range(1000, len(keys), 9973):
        keys[i] = None
    return keys


def write_corpus(path: Path, keys: Iterable[Optional[bytes]]) -> Path:
    """Write *keys* in the corpus file format described in this module."""
    with open(path, "w", encoding="ascii", newline="\n") as f:
        for k in keys:
            f.write("N\n" if k is None else "K" + k.hex() + "\n")
    return path


def parse_harness_output(text: str, corpus_len: int) -> Dict[Tuple[str, int], List[Optional[int]]]:
    """Parse harness stdout into ``{(label, n): [partition or None for 'x']}``."""
    out: Dict[Tuple[str, int], List[Optional[int]]] = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            label, n, values = line.split("\t")
        except ValueError:
            raise AssertionError(f"harness output line {lineno} is malformed: {line[:200]!r}")
        vals = [None if v == "x" else int(v) for v in values.split(",")] if values else []
        if len(vals) != corpus_len:
            raise AssertionError(
                f"harness line {label!r} n={n} has {len(vals)} values for {corpus_len} corpus records"
            )
        out[(label, int(n))] = vals
    return out


def mismatches(keys, expected, actual, limit: int = 10) -> List[str]:
    """Human-readable list of the first disagreements between two answer lists."""
    bad = []
    for i, (e, a) in enumerate(zip(expected, actual)):
        if e != a:
            k = keys[i]
            bad.append(f"#{i} key={'None' if k is None else k[:40].hex()} (len {None if k is None else len(k)}): fastpart={e} client={a}")
            if len(bad) >= limit:
                break
    return bad
