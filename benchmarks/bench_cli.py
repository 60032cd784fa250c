"""The command line on a large key file: keys/s and peak memory of ``partition`` and ``compare``.

Generates N realistic keys (default 10,000,000) into a temporary directory, as a text file (one
key per line) and as a Parquet column, then runs as separate processes and times:

* ``fastpart partition -p 12 --file keys.txt -o /dev/null`` (read, hash, write every key);
* ``fastpart compare -p 12 -s java,librdkafka,sarama,kafkajs:legacy --file keys.txt``;
* ``fastpart compare ... --file keys.parquet --column key``;

beside the plain ``partition_many`` rate on the same keys (in memory, 1M-key chunks, no reading or
writing: the ceiling).  Peak RSS of each CLI process is its VmHWM (``tests/memory_support.py``,
shared with tests/test_cli_memory.py).

    python benchmarks/bench_cli.py                 # 10M keys (about 2-3 minutes on 2 cores)
    python benchmarks/bench_cli.py --keys 1000000 --markdown
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from typing import List, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tests"))  # memory_support, shared with tests/test_cli_memory.py
from _tables import fmt_table  # noqa: E402
from memory_support import run_cli_measured  # noqa: E402

import fastpart  # noqa: E402

STRATEGIES = "java,librdkafka,sarama,kafkajs:legacy"
CHUNK = 1_000_000


def key_chunk(start: int, stop: int) -> List[bytes]:
    """Keys like real ones: order/customer ids and UUID-shaped text, 10 to 36 bytes."""
    out = []
    for i in range(start, stop):
        m = i % 3
        if m == 0:
            out.append(b"order-%010d" % (i * 7919 % 10**10))
        elif m == 1:
            out.append(b"customer-%d" % (i * 104729 % 10**7))
        else:
            h = (i * 2654435761) & 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF
            x = b"%032x" % h
            out.append(x[:8] + b"-" + x[8:12] + b"-4" + x[13:16] + b"-a" + x[17:20] + b"-" + x[20:32])
    return out


def generate(folder: str, n: int, parquet: bool) -> Tuple[str, str]:
    txt = os.path.join(folder, "keys.txt")
    pq_path = os.path.join(folder, "keys.parquet")
    writer = None
    if parquet:
        import pyarrow as pa
        import pyarrow.parquet as pq

        writer = pq.ParquetWriter(pq_path, pa.schema([("key", pa.string())]))
    with open(txt, "wb") as f:
        for s in range(0, n, CHUNK):
            keys = key_chunk(s, min(n, s + CHUNK))
            f.write(b"\n".join(keys) + b"\n")
            if writer is not None:
                import pyarrow as pa

                writer.write_table(pa.table({"key": pa.array(keys, pa.binary()).cast(pa.string())}))
    if writer is not None:
        writer.close()
    return txt, pq_path


def plain_rate(n: int, strategies: List[str]) -> Tuple[float, float]:
    """(wall, CPU) seconds of partition_many alone over the same keys (list of bytes, 1M per call)."""
    spent = cpu = 0.0
    for s in range(0, n, CHUNK):
        keys = key_chunk(s, min(n, s + CHUNK))
        t, c = time.perf_counter(), time.process_time()
        for st in strategies:
            fastpart.partition_many(keys, 12, strategy=st)
        spent += time.perf_counter() - t
        cpu += time.process_time() - c
    return spent, cpu


def run(argv: List[str]) -> Tuple[float, float, float]:
    """(wall seconds, peak RSS in MB, CPU seconds) of the ``fastpart`` command line."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    r = run_cli_measured([*argv, "--quiet"])
    secs = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if r.returncode != 0:
        raise SystemExit(f"fastpart {' '.join(argv)} failed ({r.returncode}): {r.stderr}")
    return secs, (float("nan") if r.peak_mb is None else r.peak_mb), cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--keys", type=int, default=10_000_000, help="keys to generate (default 10,000,000)")
    ap.add_argument("--markdown", action="store_true", help="print a Markdown table")
    ap.add_argument("--no-parquet", action="store_true", help="skip the Parquet input")
    a = ap.parse_args()
    n = a.keys
    strategies = [s.strip() for s in STRATEGIES.split(",")]
    parquet = not a.no_parquet
    if parquet:
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            parquet = False
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        txt, pq_path = generate(tmp, n, parquet)
        gen = time.perf_counter() - t
        size = os.path.getsize(txt) / 2**20
        rows = []

        def row(what: str, wall: float, cpu: float, rss: str) -> None:
            rows.append([what, f"{n / wall / 1e6:.2f} M", f"{n / cpu / 1e6:.2f} M", f"{wall:.1f}", f"{cpu:.1f}", rss])

        row("partition_many, 1 strategy (in memory: the ceiling)", *plain_rate(n, ["java"]), "-")
        row(f"partition_many, {len(strategies)} strategies (in memory)", *plain_rate(n, strategies), "-")
        secs, rss, cpu = run(["partition", "-p", "12", "--file", txt, "--output", os.devnull])
        row("fastpart partition -p 12 --file keys.txt (TSV out)", secs, cpu, f"{rss:.0f}")
        secs, rss, cpu = run(["compare", "-p", "12", "-s", STRATEGIES, "--file", txt])
        row(f"fastpart compare -p 12 -s {STRATEGIES} --file keys.txt", secs, cpu, f"{rss:.0f}")
        if parquet:
            secs, rss, cpu = run(["compare", "-p", "12", "-s", STRATEGIES, "--file", pq_path, "--column", "key"])
            row("fastpart compare (same) --file keys.parquet --column key (1M-row groups)", secs, cpu, f"{rss:.0f}")
    print(f"{n:,} keys ({size:.0f} MiB of text, generated in {gen:.0f} s); fastpart {fastpart.__version__}, "
          f"{fastpart.IMPLEMENTATION} core, Python {sys.version.split()[0]}; CLI times include start-up")
    print(f"load average before: {os.getloadavg()[0]:.1f} (keys per CPU-second is the figure that survives a busy machine)")
    print(fmt_table(["what", "keys/s (wall)", "keys per CPU-s", "wall s", "CPU s", "peak RSS (MB)"], rows, a.markdown))


if __name__ == "__main__":
    main()
