"""Streaming: memory stays flat however many keys go through the command line.

1,000,000 keys through ``compare`` over four strategies (with a bounded sample of differing keys)
in a separate process; its peak RSS (VmHWM of its own address space, Linux) must stay under a
fixed bound, and must not grow with the input: 4x the keys may add at most a few MB.
benchmarks/bench_cli.py measures the same on 10,000,000 keys.
"""

from __future__ import annotations

import os

import pytest

from memory_support import run_cli_measured

pytestmark = pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="reads VmHWM from /proc (Linux)")


def peak_mb(argv) -> float:
    r = run_cli_measured(argv, timeout=600)
    assert r.returncode == 0, r.stderr
    assert r.peak_mb is not None, f"no VmHWM line on standard error: {r.stderr[-500:]}"
    return r.peak_mb


def write_keys(path, n):
    with open(path, "wb") as f:
        for s in range(0, n, 100_000):
            f.write(b"".join(b"customer-%d-%x\n" % (i, i * 2654435761 % 2**32) for i in range(s, min(n, s + 100_000))))


def test_compare_memory_is_flat(tmp_path):
    pytest.importorskip("numpy")
    small, big = tmp_path / "small.txt", tmp_path / "big.txt"
    write_keys(small, 250_000)
    write_keys(big, 1_000_000)
    argv = ["compare", "-p", "12", "-s", "java,librdkafka,sarama,kafkajs:legacy", "--examples", "50", "-q", "-f"]
    a = peak_mb(argv + [str(small)])
    b = peak_mb(argv + [str(big)])
    assert b < 150, f"1M keys through compare peaked at {b:.0f} MB"
    assert b - a < 20, f"peak grew from {a:.0f} MB (250k keys) to {b:.0f} MB (1M keys)"


def test_partition_memory_is_flat(tmp_path):
    big = tmp_path / "big.txt"
    write_keys(big, 1_000_000)
    b = peak_mb(["partition", "-p", "12", "-q", "-f", str(big), "-o", os.devnull])
    assert b < 100, f"1M keys through partition peaked at {b:.0f} MB"
