"""Build and run the Rust conformance harness (``tests/harness/rust/``).

``src/main.rs`` calls the ``kafka`` crate's (kafka-rust 0.10.0)
``producer::DefaultPartitioner`` on the conformance corpus and prints the harness
format of ``conformance_support``, plus the crate's ``producer::DefaultHasher``
(xxHash32) as ``hash:xxh32``; stderr names the crate version.  ``Cargo.toml``
pins kafka and every crate of its dependency graph to an exact version (built
with ``default-features = false``: no OpenSSL or compression libraries).

:func:`build` copies ``Cargo.toml`` and ``src/`` into
``cache_dir("rust", "src-" + digest)`` (so no ``Cargo.lock`` or ``target/``
appears in the work tree), runs ``cargo build --release`` there with
``CARGO_TARGET_DIR=cache_dir("rust", "target")`` and copies the executable to
``cache_dir("rust", digest)``, once per source digest.  Output is swallowed
unless a step fails, in which case it is the failure message.  Without
``cargo`` on PATH the caller skips (or fails under
``FASTPART_REQUIRE_TOOLCHAINS=1``).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Iterable, Tuple


try:
    from conformance_support import (cache_dir, cached_build, harness_failed, need_tool, run_executable, run_step,
                                     tree_digest)
except ImportError:  # imported from somewhere that does not put tests/ on sys.path
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from conformance_support import (cache_dir, cached_build, harness_failed, need_tool, run_executable, run_step,
                                     tree_digest)

RUST_DIR = Path(__file__).resolve().parent / "rust"
BIN_NAME = "rust-harness"
BUILD_TIMEOUT = 1200
RUN_TIMEOUT = 300


def _sources_digest() -> str:
    return tree_digest(RUST_DIR / "Cargo.toml", RUST_DIR / "src")


def build() -> Path:
    """The harness executable for the current sources (built on first use)."""
    cargo = need_tool("cargo")["cargo"]
    digest = _sources_digest()

    def make(out: Path) -> None:
        src = cache_dir("rust", f"src-{digest}")
        shutil.copy2(RUST_DIR / "Cargo.toml", src / "Cargo.toml")
        if (src / "src").exists():
            shutil.rmtree(src / "src")
        shutil.copytree(RUST_DIR / "src", src / "src")
        env = dict(os.environ)
        env["CARGO_TARGET_DIR"] = str(cache_dir("rust", "target"))
        proc = run_step("rust", "cargo build --release", [cargo, "build", "--release", "--quiet", "--bin", BIN_NAME],
                        BUILD_TIMEOUT, cwd=src, env=env)
        built = Path(env["CARGO_TARGET_DIR"]) / "release" / BIN_NAME
        if not built.is_file():
            harness_failed("rust", "cargo build --release", proc)
        shutil.copy2(built, out)

    return cached_build("rust", digest, BIN_NAME, make)


def run(corpus: Path, counts: Iterable[int]) -> Tuple[str, str]:
    """Run the harness on *corpus*: ``(stdout, stderr)``."""
    return run_executable("rust", build(), corpus, counts, RUN_TIMEOUT)
