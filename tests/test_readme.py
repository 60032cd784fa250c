"""The README's ``sh`` and ``python`` snippets run as written, in order, in one scratch folder.

A block preceded by a ``<!-- no-test: reason -->`` line is skipped with that reason (a broker, the
network, an install, or placeholders); ``text`` blocks are output, not run.  A block that needs an
optional extra (read from its imports and commands, see ``needs``) skips, naming it, when that package
is not installed (the nox wheel/PyPy sessions install only ``test`` and ``arrow``; ``test-full`` has all).  ``fastpart`` and
``python`` on the PATH are this interpreter (shims), so the snippets test this checkout.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import List, NamedTuple, Optional

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
RUN = {"sh": "sh", "bash": "sh", "shell": "sh", "python": "python", "py": "python"}


class Block(NamedTuple):
    line: int
    kind: str
    body: str
    skip: Optional[str]


def blocks() -> List[Block]:
    out: List[Block] = []
    lines = README.read_text(encoding="utf-8").splitlines()
    i, prev = 0, ""
    while i < len(lines):
        m = re.match(r"^```\s*([\w-]*)\s*$", lines[i])
        if not m:
            if lines[i].strip():
                prev = lines[i].strip()
            i += 1
            continue
        start, lang = i + 1, m.group(1).lower()
        j = start
        while j < len(lines) and not lines[j].startswith("```"):
            j += 1
        if lang in RUN:
            skip = None
            if prev.startswith("<!-- no-test"):
                skip = prev[len("<!-- no-test"):].strip(" :-->") or "marked no-test in the README"
            out.append(Block(start, RUN[lang], "\n".join(lines[start:j]) + "\n", skip))
        prev, i = "", j + 1
    return out


BLOCKS = blocks()

# module -> the extra that installs it
EXTRAS = {"pyarrow": "arrow", "matplotlib": "plot", "polars": "polars", "duckdb": "duckdb",
          "pyspark": "spark", "pandas": "spark", "confluent_kafka": "confluent",
          "kafka": "kafka-python", "aiokafka": "aiokafka", "numpy": "numpy"}
# what a snippet does -> the module it needs (the CLI reads CSV/TSV/Parquet/Arrow with pyarrow,
# draws --plot with matplotlib; .plot() draws with matplotlib; `fastpart live` reads with confluent-kafka)
USES = [("python", r"\.plot\(", "matplotlib"), ("sh", r"--plot\b", "matplotlib"),
        ("sh", r"--format\s+(csv|tsv|parquet|arrow)\b|\.(csv|tsv|parquet|arrow)(\.gz|\.bz2|\.xz|\.zst)?\b",
         "pyarrow"),
        ("sh", r"\bfastpart\s+live\b", "confluent_kafka")]


def needs(block: Block) -> List[str]:
    """The optional modules a snippet needs: its imports, and what its commands/calls use."""
    mods = set()
    if block.kind == "python":
        for m in re.finditer(r"^\s*(?:import|from)\s+([\w.]+(?:\s*,\s*[\w.]+)*)", block.body, re.M):
            mods.update(name.strip().split(".")[0] for name in m.group(1).split(","))
    for kind, pattern, mod in USES:
        if kind == block.kind and re.search(pattern, block.body):
            mods.add(mod)
    return sorted(m for m in mods if m in EXTRAS)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    d = tmp_path_factory.mktemp("readme")
    bin_dir = d / ".bin"
    bin_dir.mkdir()
    for name, cmd in (("fastpart", f'exec "{sys.executable}" -m fastpart "$@"'),
                      ("python", f'exec "{sys.executable}" "$@"'), ("python3", f'exec "{sys.executable}" "$@"')):
        f = bin_dir / name
        f.write_text(f"#!/bin/sh\n{cmd}\n")
        f.chmod(0o755)
    return d


def test_readme_has_runnable_snippets():
    assert sum(1 for b in BLOCKS if b.skip is None and b.kind == "sh") >= 1
    assert sum(1 for b in BLOCKS if b.skip is None and b.kind == "python") >= 2
    for b in BLOCKS:  # a skipped block says why
        assert b.skip is None or len(b.skip) > 10, b


@pytest.mark.parametrize("block", BLOCKS, ids=[f"line{b.line}-{b.kind}" for b in BLOCKS])
def test_snippet(block, scratch):
    if block.skip:
        pytest.skip(f"README line {block.line}: {block.skip}")
    missing = [m for m in needs(block) if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"README line {block.line} needs " + ", ".join(
            f"{m} (pip install 'fastpart[{EXTRAS[m]}]')" for m in missing))
    env = dict(os.environ)
    env["PATH"] = f"{scratch / '.bin'}{os.pathsep}{env.get('PATH', '')}"
    env["MPLBACKEND"] = "Agg"
    if block.kind == "python":
        script = scratch / f"snippet_{block.line}.py"
        script.write_text(block.body, encoding="utf-8")
        argv = [sys.executable, str(script)]
    else:
        argv = ["bash", "-e", "-c", block.body]
    r = subprocess.run(argv, cwd=scratch, env=env, capture_output=True, timeout=600)
    assert r.returncode == 0, (f"README line {block.line} ({block.kind}) exited {r.returncode}:\n"
                               f"{r.stderr.decode(errors='replace')[-3000:]}")
    assert b"Traceback" not in r.stderr
