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
import sys
from pathlib import Path
from typing import Iterable, Tuple


try:
    from conformance_support import cached_build, harness_failed, need_tool, run_executable, run_step, tree_digest
except ImportError:  # imported from somewhere that does not put tests/ on sys.path
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from conformance_support import cached_build, harness_failed, need_tool, run_executable, run_step, tree_digest

GO_DIR = Path(__file__).resolve().parent / "go"
EXE_NAME = "goharness"
BUILD_TIMEOUT = 900
RUN_TIMEOUT = 600


def build() -> Path:
    """The harness executable for the current sources (built on first use)."""
    go = need_tool("go")["go"]

    def make(out: Path) -> None:
        env = dict(os.environ)
        # go.mod/go.sum are the pins: never let the build edit them
        env["GOFLAGS"] = "-mod=readonly -buildvcs=false"
        proc = run_step("go", "go build", [go, "build", "-trimpath", "-o", str(out), "."],
                        BUILD_TIMEOUT, cwd=GO_DIR, env=env)
        if not out.is_file():
            harness_failed("go", "go build", proc)

    return cached_build("go", tree_digest(GO_DIR), EXE_NAME, make)


def run(corpus: Path, counts: Iterable[int]) -> Tuple[str, str]:
    """Run the harness on *corpus*: ``(stdout, stderr)``."""
    return run_executable("go", build(), corpus, counts, RUN_TIMEOUT)
