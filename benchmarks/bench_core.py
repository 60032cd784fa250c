"""fastpart against its peers and a plain C loop, in one run, as ratios.

Run: ``python benchmarks/bench_core.py`` (``--quick`` for a short run,
``--markdown`` to print the tables as Markdown for the README).

Peers (each skipped with a note when not installed): kafka-python's pure
murmur2, aiokafka's DefaultPartitioner, ``confluent_kafka.murmur2``
(librdkafka through its binding), ``mmh3.hash`` (a fast C extension with a
different hash: the call-cost reference), ``len`` (the floor of any
per-key Python call), a NumPy-vectorised murmur2, and a plain C loop over
contiguous keys compiled here with ``cc -O2`` (skipped without a compiler).

Every measured figure is the best of ``--repeat`` runs, in CPU time of this
process (``time.process_time``; the C loop reads CLOCK_PROCESS_CPUTIME_ID), so a
busy shared machine does not inflate them; ratios are taken within this one
run, so they hold across machines better than nanoseconds.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Callable, Dict, List, Optional, Tuple

import fastpart

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _tables import fmt_table  # noqa: E402

N_PARTS = 12
M = 0x5BD1E995


def best(fn: Callable[[], object], repeat: int, inner: int = 1) -> float:
    """Best time of *repeat* runs of *fn*, in seconds: this process's CPU time, so that
    other load on a shared machine does not count (the C loop measures the same clock).
    Each run calls *fn* *inner* times (for calls shorter than the clock's resolution)."""
    fn()  # warm-up: caches, allocator, CPU clock
    times = []
    for _ in range(repeat):
        t = time.process_time()
        for _ in range(inner):
            fn()
        times.append((time.process_time() - t) / inner)
    return min(times)


# ---------------------------------------------------------------- the peers

def peers_single() -> Dict[str, Optional[Callable[[list], list]]]:
    """Each peer as a function running a list comprehension over the keys.

    The call sits directly in the comprehension (no wrapper lambda per key),
    so the figure is the cost of one call as a user would write it.
    """
    out: Dict[str, Optional[Callable[[list], list]]] = {}
    part = fastpart.partition
    n = N_PARTS
    out["fastpart.partition"] = lambda keys: [part(k, n) for k in keys]
    try:
        import confluent_kafka

        cm = confluent_kafka.murmur2
        out["confluent_kafka.murmur2"] = lambda keys: [cm(k, n) for k in keys]
    except (ImportError, AttributeError):
        out["confluent_kafka.murmur2"] = None
    try:
        import mmh3

        mh = mmh3.hash
        out["mmh3.hash (other hash)"] = lambda keys: [mh(k) for k in keys]
    except ImportError:
        out["mmh3.hash (other hash)"] = None
    try:
        from kafka.partitioner.default import murmur2 as kp_murmur2

        out["kafka-python murmur2"] = lambda keys: [(kp_murmur2(k) & 0x7FFFFFFF) % n for k in keys]
    except ImportError:
        out["kafka-python murmur2"] = None
    try:
        from aiokafka.partitioner import DefaultPartitioner

        dp = DefaultPartitioner()
        parts = list(range(N_PARTS))
        out["aiokafka DefaultPartitioner"] = lambda keys: [dp(k, parts, parts) for k in keys]
    except ImportError:
        out["aiokafka DefaultPartitioner"] = None
    out["len (floor)"] = lambda keys: [len(k) for k in keys]
    return out


def numpy_murmur2_partition(np, table):
    """Vectorised Java murmur2 over an (N, w) uint8 matrix, then mask and mod."""
    n, w = table.shape
    nblocks = w // 4
    h = np.full(n, (0x9747B28C ^ w) & 0xFFFFFFFF, dtype=np.uint32)
    m = np.uint32(M)
    if nblocks:
        blocks = np.ascontiguousarray(table[:, : nblocks * 4]).view("<u4")
        for i in range(nblocks):
            k = blocks[:, i] * m
            k ^= k >> np.uint32(24)
            k *= m
            h *= m
            h ^= k
    rem = w & 3
    base = nblocks * 4
    if rem:
        if rem == 3:
            h ^= table[:, base + 2].astype(np.uint32) << np.uint32(16)
        if rem >= 2:
            h ^= table[:, base + 1].astype(np.uint32) << np.uint32(8)
        h ^= table[:, base].astype(np.uint32)
        h *= m
    h ^= h >> np.uint32(13)
    h *= m
    h ^= h >> np.uint32(15)
    return ((h & np.uint32(0x7FFFFFFF)) % np.uint32(N_PARTS)).astype(np.int32)


C_LOOP = r"""
#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include <time.h>
static uint32_t murmur2(const uint8_t *data, size_t length) {
    uint32_t m = 0x5bd1e995u, h = 0x9747b28cu ^ (uint32_t)length;
    size_t i, n4 = length / 4;
    for (i = 0; i < n4; i++) {
        uint32_t k; memcpy(&k, data + 4 * i, 4);
        k *= m; k ^= k >> 24; k *= m; h *= m; h ^= k;
    }
    const uint8_t *t = data + 4 * n4;
    switch (length & 3) {
    case 3: h ^= (uint32_t)t[2] << 16;
    case 2: h ^= (uint32_t)t[1] << 8;
    case 1: h ^= t[0]; h *= m;
    }
    h ^= h >> 13; h *= m; h ^= h >> 15;
    return h;
}
/* keys of `width` bytes back to back; runtime `% n`; returns ns spent */
double run(const uint8_t *keys, size_t count, size_t width, uint32_t n, int32_t *out) {
    struct timespec a, b;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
    for (size_t i = 0; i < count; i++)
        out[i] = (int32_t)((murmur2(keys + i * width, width) & 0x7fffffffu) % n);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
    return (b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec);
}
"""


def build_c_loop() -> Tuple[Optional[Callable], str]:
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if cc is None or os.name == "nt":
        return None, "no C compiler"
    d = tempfile.mkdtemp(prefix="fastpart-bench-")
    src, lib = os.path.join(d, "loop.c"), os.path.join(d, "loop.so")
    with open(src, "w") as f:
        f.write(C_LOOP)
    r = subprocess.run([cc, "-O2", "-shared", "-fPIC", src, "-o", lib], capture_output=True, text=True)
    if r.returncode:
        shutil.rmtree(d, ignore_errors=True)
        return None, f"cc failed: {r.stderr[:200]}"
    so = ctypes.CDLL(lib)
    shutil.rmtree(d, ignore_errors=True)  # loaded: the files are no longer needed
    so.run.restype = ctypes.c_double
    so.run.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_size_t, ctypes.c_uint32, ctypes.c_void_p]
    return so.run, f"{os.path.basename(cc)} -O2"


# -------------------------------------------------------------------- Arrow

def uuid_table(np, count: int, seed: int = 7):
    """*count* random UUID strings (36 bytes each) as a (count, 36) uint8 matrix, built vectorised."""
    rng = np.random.default_rng(seed)
    hexd = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
    table = hexd[rng.integers(0, 16, size=(count, 36), dtype=np.uint8)]
    table[:, [8, 13, 18, 23]] = ord("-")
    return table


def views_in_buffers(np, table, size: int):
    """A string_view array of the keys laid out as Arrow builders write them (pa.array(...,
    pa.string_view()), polars from Python values): back to back in data buffers of about *size*
    bytes, a new buffer when one is full; zero-copy over *table*."""
    import pyarrow as pa

    count, width = table.shape
    per = max(1, size // width)
    idx = np.arange(count)
    views = np.empty((count, 4), dtype=np.int32)
    views[:, 0] = width
    views[:, 1] = np.ascontiguousarray(table[:, :4]).view(np.int32).ravel()
    views[:, 2] = idx // per
    views[:, 3] = (idx % per) * width
    data = [pa.py_buffer(table[i:i + per]) for i in range(0, count, per)]
    return pa.Array.from_buffers(pa.string_view(), count, [None, pa.py_buffer(views)] + data)


def arrow_inputs(np, table) -> Dict[str, object]:
    """The same keys in every Arrow form partition_many reads (zero-copy where the library allows)."""
    import pyarrow as pa

    count, width = table.shape
    offsets = np.arange(0, width * (count + 1), width, dtype=np.int32)
    arr = pa.Array.from_buffers(pa.string(), count, [None, pa.py_buffer(offsets), pa.py_buffer(table)])
    forms: Dict[str, object] = {"pyarrow string": arr, "pyarrow large_string": arr.cast(pa.large_string()),
                                "pyarrow string_view": arr.cast(pa.string_view())}
    forms["pyarrow string_view, 32 KiB buffers"] = views_in_buffers(np, table, 32768)
    step = -(-count // 8)
    forms["pyarrow string, 8 chunks"] = pa.chunked_array([arr.slice(i, step) for i in range(0, count, step)])
    try:
        import polars as pl

        forms["polars String"] = pl.from_arrow(arr)
        forms["polars String, 32 KiB buffers"] = pl.from_arrow(forms["pyarrow string_view, 32 KiB buffers"])
    except ImportError:
        pass
    try:
        import pandas as pd

        forms["pandas string[pyarrow]"] = pd.Series(pd.arrays.ArrowStringArray(arr))
    except (ImportError, AttributeError, TypeError):
        pass
    return forms


def peak_bytes(fn: Callable[[], object]) -> int:
    """Peak bytes allocated through Python's allocators (PyMem_*, NumPy) while *fn* runs."""
    import tracemalloc

    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def arrow_section(np, c_run, c_note: str, args) -> None:
    """The Arrow path against the S36 path and the plain C loop, 1,000 to 10,000,000 UUID keys."""
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        print("pyarrow not installed: Arrow rows not measured")
        return
    counts = [1_000, 100_000, 1_000_000] + ([] if args.quick else [10_000_000])
    rows: Dict[str, List[str]] = {}
    ratios: Dict[str, List[str]] = {}
    mem: Dict[str, int] = {}
    for count in counts:
        table = uuid_table(np, count)
        sarr = table.view("S36").ravel()
        out = np.empty(count, dtype=np.int32)
        reps = max(3, min(50, 2_000_000 // count)) if not args.quick else max(3, min(30, 300_000 // count))
        # the call as users write it (a fresh array('i') per call); memory is measured with out=
        inner = max(1, 100_000 // count)  # each timed run at least ~0.3 ms
        t_s = best(lambda: fastpart.partition_many(sarr, N_PARTS), reps, inner) / count * 1e9
        want = np.asarray(fastpart.partition_many(sarr, N_PARTS))
        rows.setdefault("partition_many(S36 array)", []).append(f"{t_s:.2f}")
        # into a preallocated out=, as the C loop writes (a fresh 40 MB result at 10M keys
        # costs its page faults: about 3 ns per key here)
        t_so = best(lambda: fastpart.partition_many(sarr, N_PARTS, out=out), reps, inner) / count * 1e9
        rows.setdefault("partition_many(S36 array, out=)", []).append(f"{t_so:.2f}")
        t_c = None
        if c_run is not None:
            buf = table.tobytes()
            cout = (ctypes.c_int32 * count)()
            t_c = min(c_run(buf, count, 36, N_PARTS, cout) for _ in range(reps)) / count
            rows.setdefault(f"plain C loop ({c_note})", []).append(f"{t_c:.2f}")
        for name, x in arrow_inputs(np, table).items():
            t = best(lambda: fastpart.partition_many(x, N_PARTS), reps, inner) / count * 1e9
            assert (np.asarray(fastpart.partition_many(x, N_PARTS)) == want).all(), f"{name} disagrees with S36"
            rows.setdefault(f"partition_many({name})", []).append(f"{t:.2f}")
            # like for like: a fresh result against S36's fresh result; into a preallocated
            # out= against the C loop, which writes into a preallocated buffer
            t_o = best(lambda: fastpart.partition_many(x, N_PARTS, out=out), reps, inner) / count * 1e9
            rows.setdefault(f"partition_many({name}, out=)", []).append(f"{t_o:.2f}")
            ratios.setdefault(f"{name} / S36 time", []).append(f"{t / t_s:.2f}x")
            if t_c is not None:
                ratios.setdefault(f"{name}, out= vs plain C loop", []).append(f"{t_c / t_o:.1f}x faster")
                if name == "pyarrow string":
                    ratios.setdefault(f"{name} (a fresh result) vs plain C loop", []).append(
                        f"{t_c / t:.1f}x faster")
            if count == 1_000_000:
                mem[name] = peak_bytes(lambda: fastpart.partition_many(x, N_PARTS, out=out))
        del table, sarr
    heads = [f"{c:,} keys" for c in counts]
    print(fmt_table(["Arrow, 36-byte UUID text (ns per key)"] + heads,
                    [[k] + v for k, v in rows.items()], args.markdown))
    print()
    print(fmt_table(["Arrow ratio (targets: <= 1.5x the S36 time, >= 2x faster than the C loop)"] + heads,
                    [[k] + v for k, v in ratios.items()], args.markdown))
    if mem:
        print("\npeak memory allocated per call beyond out= (tracemalloc, 1,000,000 keys): " +
              ", ".join(f"{k} {v:,} B" for k, v in mem.items()))


# ------------------------------------------------------------------ report



def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer keys and repeats")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args(argv)
    repeat = 3 if args.quick else args.repeat
    rng = random.Random(1)
    sizes = [16, 36, 100, 1000]
    count_for = {16: 200_000, 36: 200_000, 100: 200_000, 1000: 20_000}
    if args.quick:
        count_for = {k: v // 10 for k, v in count_for.items()}

    print(f"fastpart {fastpart.__version__} ({fastpart.IMPLEMENTATION} core), Python {platform.python_version()}, "
          f"{platform.machine()}, {os.cpu_count()} CPUs; best of {repeat}; n = {N_PARTS} partitions\n")

    single = peers_single()
    missing = [k for k, v in single.items() if v is None]
    # ---- single key
    results: Dict[Tuple[str, int], float] = {}
    for size in sizes:
        keys = [rng.randbytes(size) for _ in range(count_for[size])]
        if size == 36:  # UUID strings as bytes, the common real key
            keys = [("%08x-%04x-%04x-%04x-%012x" % (rng.getrandbits(32), rng.getrandbits(16), rng.getrandbits(16),
                                                    rng.getrandbits(16), rng.getrandbits(48))).encode() for _ in keys]
        for name, fn in single.items():
            if fn is None:
                continue
            if name.startswith(("kafka-python", "aiokafka")) and size == 1000:
                sub = keys[: len(keys) // 10]
            else:
                sub = keys
            slow = name.startswith(("kafka-python", "aiokafka"))
            t = best(lambda: fn(sub), 2 if slow else repeat)
            results[(name, size)] = t / len(sub) * 1e9
    headers = ["per key, one call each (ns)"] + [f"{s} B" for s in sizes]
    rows = [[name] + [f"{results[(name, s)]:,.0f}" for s in sizes] for name in single if single[name] is not None]
    print(fmt_table(headers, rows, args.markdown))
    print()
    ratio_rows = []
    for peer in ("confluent_kafka.murmur2", "kafka-python murmur2", "aiokafka DefaultPartitioner", "mmh3.hash (other hash)"):
        if single.get(peer) is None:
            continue
        ratio_rows.append([f"fastpart.partition vs {peer}"] +
                          [f"{results[(peer, s)] / results[('fastpart.partition', s)]:.1f}x faster" for s in sizes])
    ratio_rows.append(["fastpart.partition / len floor"] +
                      [f"{results[('fastpart.partition', s)] / results[('len (floor)', s)]:.2f}x" for s in sizes])
    print(fmt_table(["single-key ratio"] + [f"{s} B" for s in sizes], ratio_rows, args.markdown))
    print()

    # ---- batches
    try:
        import numpy as np
    except ImportError:
        np = None
    c_run, c_note = build_c_loop()
    brows = []
    for size in sizes:
        count = count_for[size] * (5 if size <= 36 else 1)
        # no trailing NUL: an S<w> element loses its trailing NULs (NumPy's rule), a list key does not
        keys = [rng.randbytes(size - 1) + bytes([rng.randrange(1, 256)]) for _ in range(count)]
        part = fastpart.partition
        loop_t = best(lambda: [part(k, N_PARTS) for k in keys], repeat) / count * 1e9
        many_t = best(lambda: fastpart.partition_many(keys, N_PARTS), repeat) / count * 1e9
        row = {"partition() loop": loop_t, "partition_many(list)": many_t}
        if np is not None:
            table = np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(count, size)
            sarr = table.view(f"S{size}").ravel()
            out = np.empty(count, dtype=np.int32)
            row["partition_many(S array)"] = best(lambda: fastpart.partition_many(sarr, N_PARTS, out=out), repeat) / count * 1e9
            ref = numpy_murmur2_partition(np, table)
            assert (ref == np.asarray(fastpart.partition_many(sarr, N_PARTS))).all(), "NumPy murmur2 disagrees"
            row["NumPy-vectorised murmur2"] = best(lambda: numpy_murmur2_partition(np, table), repeat) / count * 1e9
        if c_run is not None:
            buf = b"".join(keys)
            cout = (ctypes.c_int32 * count)()
            row[f"plain C loop ({c_note})"] = min(c_run(buf, count, size, N_PARTS, cout) for _ in range(repeat)) / count
            assert list(cout[:100]) == list(fastpart.partition_many(keys[:100], N_PARTS)), "C loop disagrees"
        brows.append((size, row))
    names = list(brows[0][1])
    print(fmt_table(["batch (ns per key)"] + [f"{s} B" for s, _ in brows],
                    [[n] + [f"{r[n]:.1f}" for _, r in brows] for n in names], args.markdown))
    print()
    rr = [["partition_many(list) vs partition() loop"] + [f"{r['partition() loop'] / r['partition_many(list)']:.1f}x faster" for _, r in brows]]
    if np is not None:
        rr.append(["partition_many(S array) vs NumPy murmur2"] +
                  [f"{r['NumPy-vectorised murmur2'] / r['partition_many(S array)']:.1f}x faster" for _, r in brows])
    if c_run is not None:
        cname = f"plain C loop ({c_note})"
        rr.append(["partition_many(S array) / plain C loop time"] + [f"{r['partition_many(S array)'] / r[cname]:.2f}x" for _, r in brows])
        rr.append(["partition_many(list) / plain C loop time"] + [f"{r['partition_many(list)'] / r[cname]:.2f}x" for _, r in brows])
    print(fmt_table(["batch ratio"] + [f"{s} B" for s, _ in brows], rr, args.markdown))
    if np is not None:
        print()
        arrow_section(np, c_run, c_note, args)
    if missing:
        print(f"\nnot installed, not measured: {', '.join(missing)} (pip install 'fastpart[bench]')")
    if c_run is None:
        print(f"\nplain C loop not measured: {c_note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
