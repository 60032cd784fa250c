"""Build and run the Go conformance harness (``tests/harness/go/``).

One Go program (``main.go``, ``kafkago.go``, ``views_*.go``) linked against the
module versions pinned by ``go.mod``/``go.sum`` (IBM/sarama, twmb/franz-go,
segmentio/kafka-go) calls every client partitioner on the conformance corpus and
prints the harness format of ``conformance_support``.  Its stderr names the
module versions it was built with (``module <path> <version>`` lines, from the
binary's own build information).

:func:`build` runs ``go build`` once per source digest into
``cache_dir("go", tree_digest(tests/harness/go))``; modules come from the
module proxy through the default module cache.  Output is swallowed unless a
step fails, in which case it is the failure message.  Without ``go`` on PATH
the caller skips (or fails under ``FASTPART_REQUIRE_TOOLCHAINS=1``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Iterable, List, Tuple


try:
    from conformance_support import cache_dir, harness_failed, need_tool, tree_digest
except ImportError:  # imported from somewhere that does not put tests/ on sys.path
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from conformance_support import cache_dir, harness_failed, need_tool, tree_digest

GO_DIR = Path(__file__).resolve().parent / "go"
EXE_NAME = "goharness"
BUILD_TIMEOUT = 900
RUN_TIMEOUT = 600


def _fail(what: str, proc: "subprocess.CompletedProcess[str] | None", extra: str = "") -> None:
    harness_failed("go", what, proc, extra)


def build() -> Path:
    """The harness executable for the current sources (built on first use)."""
    go = need_tool("go")["go"]
    out_dir = cache_dir("go", tree_digest(GO_DIR))
    exe = out_dir / EXE_NAME
    if exe.is_file():
        return exe
    tmp = out_dir / f"{EXE_NAME}.tmp{os.getpid()}"
    env = dict(os.environ)
    # go.mod/go.sum are the pins: never let the build edit them
    env["GOFLAGS"] = "-mod=readonly -buildvcs=false"
    try:
        proc = subprocess.run(
            [go, "build", "-trimpath", "-o", str(tmp), "."],
            cwd=GO_DIR, env=env, capture_output=True, text=True, timeout=BUILD_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        _fail(f"go build (over {BUILD_TIMEOUT} s)", None)
    if proc.returncode != 0 or not tmp.is_file():
        _fail("go build", proc)
    os.replace(tmp, exe)
    return exe


def run(corpus: Path, counts: Iterable[int]) -> Tuple[str, str]:
    """Run the harness on *corpus*: ``(stdout, stderr)``."""
    exe = build()
    cmd: List[str] = [str(exe), str(corpus), ",".join(str(n) for n in counts)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        _fail(f"running {exe} (over {RUN_TIMEOUT} s)", None)
    if proc.returncode != 0:
        _fail(f"running {exe}", proc)
    return proc.stdout, proc.stderr
