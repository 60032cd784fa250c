"""Speed of ``fastpart.detect`` (all strategies) beside plain ``partition_many``, and live sampling.

Run: ``python benchmarks/bench_detect.py`` (``--keys 10000000`` by default;
``--quick`` for 1M; ``--markdown`` for README tables; ``--broker`` also
starts a local Kafka broker -- needs java/javac/mvn, as the broker tests do --
to measure ``fastpart.live.sample`` in records/s).

The keys are realistic 16-20 byte strings (``user-<n>``) fed in chunks of
1,000,000 as the command line feeds them; the observed partitions are the
Java producer's, with offsets, so every part of the detector runs (ranking,
grouping, migration sample, growth reservoir).  Times exclude making the keys.
"""

from __future__ import annotations

import argparse
import logging
import os
import resource
import sys
import time
from typing import Any, List, Optional

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _tables import fmt_table  # noqa: E402

import fastpart  # noqa: E402
import fastpart.live  # noqa: E402
from fastpart.detect import DetectAccumulator  # noqa: E402

CHUNK = 1_000_000
N = 24


def chunks(total: int, seed: int = 1) -> Any:
    rng = np.random.default_rng(seed)
    done = 0
    while done < total:
        m = min(CHUNK, total - done)
        ids = rng.integers(0, 10**9, m)
        keys = [b"user-%d" % i for i in ids.tolist()]
        parts = np.frombuffer(fastpart.partition_many(keys, N), np.int32)
        yield keys, parts, np.arange(done, done + m, dtype=np.int64)
        done += m


def bench_offline(total: int) -> List[List[str]]:
    names = list(fastpart.strategies())
    t_java = t_all = t_detect = 0.0
    acc = DetectAccumulator(N)
    for keys, parts, offsets in chunks(total):
        t = time.perf_counter()
        fastpart.partition_many(keys, N)
        t_java += time.perf_counter() - t
        t = time.perf_counter()
        for s in names:
            fastpart.partition_many(keys, N, strategy=s)
        t_all += time.perf_counter() - t
        t = time.perf_counter()
        acc.add(keys, parts, offsets=offsets)
        t_detect += time.perf_counter() - t
    t = time.perf_counter()
    r = acc.result()
    t_detect += time.perf_counter() - t
    assert r.best == "java" and r.groups[0].share == 1.0, r.summary()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    k = len(names)
    return [
        ["partition_many, java only", f"{total:,}", f"{t_java:.2f}", f"{total / t_java / 1e6:.1f} M"],
        [f"partition_many, all {k} strategies", f"{total:,}", f"{t_all:.2f}", f"{total / t_all / 1e6:.2f} M"],
        [f"detect, all {k} strategies (+ offsets)", f"{total:,}", f"{t_detect:.2f}",
         f"{total / t_detect / 1e6:.2f} M"],
        ["peak RSS of the whole run", "", "", f"{rss:,.0f} MB"],
    ]


def bench_live(records: int) -> Optional[List[List[str]]]:
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
    try:
        from broker_support import KafkaBroker, build_harness
    except ImportError as e:  # pragma: no cover
        print(f"live sampling not measured: {e}", file=sys.stderr)
        return None
    import confluent_kafka

    lib, classes = build_harness()
    with KafkaBroker(lib, classes) as broker:  # __enter__ starts it (once)
        topic = broker.create_topic("bench-detect", 12)
        p = confluent_kafka.Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": "20",
                                      "partitioner": "murmur2_random",
                                      "logger": logging.getLogger("bench")})  # quiet at broker stop
        for i in range(records):
            while True:
                try:
                    p.produce(topic, key=b"user-%d" % i, value=b"x" * 100)
                    break
                except BufferError:
                    p.poll(0.05)
        p.flush(120)
        rows = []
        for n in (10_000, records):
            s = fastpart.live.sample(broker.bootstrap, topic, {}, n=n, time_limit=60)
            t = time.perf_counter()
            r = fastpart.detect(s.keys, s.partitions, s.num_partitions, offsets=s.offsets,
                                timestamps=s.timestamps)
            dt = time.perf_counter() - t
            assert r.best == "java", r.summary()
            rows.append([f"live.sample n={n:,}", f"{len(s.keys):,}", f"{s.seconds:.2f}",
                         f"{s.records_per_second:,.0f} records/s (detect on it: {dt:.2f} s)"])
        return rows


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keys", type=int, default=10_000_000)
    ap.add_argument("--quick", action="store_true", help="1,000,000 keys")
    ap.add_argument("--broker", action="store_true", help="also measure live sampling on a local broker")
    ap.add_argument("--live-records", type=int, default=200_000)
    ap.add_argument("--markdown", action="store_true")
    a = ap.parse_args(argv)
    total = 1_000_000 if a.quick else a.keys
    print(f"fastpart {fastpart.__version__} ({fastpart.IMPLEMENTATION} core), {N} partitions, "
          f"chunks of {CHUNK:,}")
    rows = bench_offline(total)
    print(fmt_table(["what", "keys", "seconds", "keys/s"], rows, a.markdown))
    if a.broker:
        live_rows = bench_live(a.live_records)
        if live_rows:
            print()
            print(fmt_table(["what", "records read", "seconds", "rate"], live_rows, a.markdown))
    else:
        print("\nlive sampling: not measured (run with --broker to start a local Kafka broker)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
