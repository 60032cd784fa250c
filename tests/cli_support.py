"""Helpers for the command-line tests: run ``fastpart`` in-process or as a subprocess."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from typing import List, Optional, Sequence, Tuple

import pytest


def run_cli(argv: Sequence[str], stdin: bytes = b"", capsys: Optional[pytest.CaptureFixture] = None
            ) -> Tuple[int, str, str]:
    """``fastpart <argv>`` in this process: (exit code, stdout, stderr)."""
    from fastpart.cli import main

    out = io.StringIO()
    if capsys is not None:
        capsys.readouterr()
    rc = main(list(argv), stdout=out, stdin=io.BytesIO(stdin))
    err = capsys.readouterr().err if capsys is not None else ""
    return rc, out.getvalue(), err


def run_sub(argv: Sequence[str], stdin: bytes = b"", env: Optional[dict] = None, cwd: Optional[str] = None,
            timeout: float = 300) -> subprocess.CompletedProcess:
    """``python -m fastpart <argv>`` as a real process (bytes in, bytes out)."""
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run([sys.executable, "-m", "fastpart", *argv], input=stdin, capture_output=True,
                          env=e, cwd=cwd, timeout=timeout)


def pythonpath_first(path: "os.PathLike[str] | str") -> str:
    """PYTHONPATH with *path* first and the caller's entries kept (a wheel installed with
    ``pip --target``, as under qemu in scripts/aarch64_check.sh, is found through them)."""
    rest = os.environ.get("PYTHONPATH", "")
    return os.pathsep.join([str(path)] + ([rest] if rest else []))


def partitions_of(out: str) -> List[int]:
    """The partition column of TSV output."""
    return [int(line.rsplit("\t", 1)[1]) for line in out.splitlines()]
