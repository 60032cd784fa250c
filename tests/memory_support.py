"""Peak memory of one ``fastpart`` command line, run in a process of its own (Linux).

Shared by tests/test_cli_memory.py (the bounds) and benchmarks/bench_cli.py (the
figures).  The figure is VmHWM, the peak resident set of the CLI process's own
address space, read from ``/proc/self/status`` as it exits; a forked child's
``ru_maxrss`` would also count the pages of the process it was forked from.

Example::

    r = run_cli_measured(["partition", "-p", "12", "-q", "-f", "keys.txt"])
    assert r.returncode == 0, r.stderr
    print(f"{r.peak_mb:.0f} MB")
"""

from __future__ import annotations

import subprocess
import sys
from typing import NamedTuple, Optional, Sequence

# Runs fastpart.cli.main in the child and reports VmHWM (kB) on standard error at exit.
_WRAP = """import atexit, sys
def _hwm():
    for line in open('/proc/self/status'):
        if line.startswith('VmHWM:'):
            sys.stderr.write('VmHWM %s\\n' % line.split()[1])
atexit.register(_hwm)
from fastpart.cli import main
sys.exit(main(sys.argv[1:]))
"""


class CliRun(NamedTuple):
    """One measured run: exit code, standard error (text) and peak RSS in MB
    (``None`` without ``/proc/self/status``, i.e. off Linux)."""

    returncode: int
    stderr: str
    peak_mb: Optional[float]


def run_cli_measured(argv: Sequence[str], timeout: Optional[float] = None) -> CliRun:
    """``fastpart <argv>`` in a fresh interpreter, standard output discarded."""
    p = subprocess.run([sys.executable, "-c", _WRAP, *argv], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       timeout=timeout)
    err = p.stderr.decode(errors="replace")
    hwm = [ln for ln in err.splitlines() if ln.startswith("VmHWM ")]
    return CliRun(p.returncode, err, int(hwm[-1].split()[1]) / 1024 if hwm else None)
