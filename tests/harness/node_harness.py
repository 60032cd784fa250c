"""Install and run the Node conformance harness (``tests/harness/node/``).

``harness.js`` calls kafkajs' ``Partitioners.DefaultPartitioner`` and
``Partitioners.LegacyPartitioner`` (and the murmur2 modules they are built from)
on the conformance corpus and prints the harness format of
``conformance_support``; its stderr says ``module kafkajs <version>`` (read from
the installed package).  kafkajs is pinned by ``package.json`` and
``package-lock.json``.

:func:`build` copies those three files into
``cache_dir("node", tree_digest(tests/harness/node))`` and runs ``npm ci`` there,
once per digest (so no ``node_modules`` appears in the work tree).  Output is
swallowed unless a step fails, in which case it is the failure message.  Without
``node``/``npm`` on PATH the caller skips (or fails under
``FASTPART_REQUIRE_TOOLCHAINS=1``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Iterable, Tuple


try:
    from conformance_support import cache_dir, harness_failed, need_tool, tree_digest
except ImportError:  # imported from somewhere that does not put tests/ on sys.path
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from conformance_support import cache_dir, harness_failed, need_tool, tree_digest

NODE_DIR = Path(__file__).resolve().parent / "node"
FILES = ("package.json", "package-lock.json", "harness.js")
INSTALL_TIMEOUT = 600
RUN_TIMEOUT = 900


def _fail(what: str, proc: "subprocess.CompletedProcess[str] | None", extra: str = "") -> None:
    harness_failed("node", what, proc, extra)


def build() -> Path:
    """The folder holding harness.js and its node_modules (installed on first use)."""
    tools = need_tool("node", "npm")
    base = cache_dir("node")
    target = base / tree_digest(NODE_DIR)
    if (target / "INSTALL-OK").is_file():
        return target
    tmp = base / f"{target.name}.tmp{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    for name in FILES:
        shutil.copy2(NODE_DIR / name, tmp / name)
    try:
        proc = subprocess.run(
            [tools["npm"], "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=tmp, capture_output=True, text=True, timeout=INSTALL_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        _fail(f"npm ci (over {INSTALL_TIMEOUT} s)", None)
    if proc.returncode != 0:
        _fail("npm ci", proc)
    (tmp / "INSTALL-OK").write_text("ok\n")
    if target.exists():  # a half-finished install, or another process won the race
        shutil.rmtree(target, ignore_errors=True)
    try:
        os.replace(tmp, target)
    except OSError:
        if not (target / "INSTALL-OK").is_file():
            raise
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def run(corpus: Path, counts: Iterable[int]) -> Tuple[str, str]:
    """Run the harness on *corpus*: ``(stdout, stderr)``."""
    folder = build()
    node = need_tool("node")["node"]
    cmd = [node, str(folder / "harness.js"), str(corpus), ",".join(str(n) for n in counts)]
    try:
        proc = subprocess.run(cmd, cwd=folder, capture_output=True, text=True, timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        _fail(f"node harness.js (over {RUN_TIMEOUT} s)", None)
    if proc.returncode != 0:
        _fail("node harness.js", proc)
    return proc.stdout, proc.stderr
