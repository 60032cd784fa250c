"""Spark: fastpart's kafka_partition against what a Spark user would otherwise write.

Same run, same data (default 10,000,000 36-byte string keys, cached in memory,
``local[2]`` unless ``--master`` says otherwise), the Java producer's partition
of every key, summed so that each column is computed in full:

* ``fastpart.spark.kafka_partition`` -- an Arrow UDF: whole Arrow batches go to
  fastpart's batch path;
* a per-row Python UDF calling kafka-python's ``murmur2``
  (``kafka.partitioner.default.murmur2``), as kafka-python's
  ``DefaultPartitioner`` does -- measured on a subset (``--python-keys``,
  default 1,000,000) and scaled to the full count, because it is slow;
* a Java UDF calling kafka-clients' ``Utils.toPositive(Utils.murmur2(bytes)) % n``
  (``benchmarks/java_udf``, built here with Maven, registered with
  ``spark.udf.registerJavaFunction``);
* the floor: summing the key lengths (reading the cached column, no hashing).

The three answers are checked against each other (equal sums; and every key
of the subset equal between the Python and the fastpart column).

Usage::

    python benchmarks/bench_spark.py [--keys 10000000] [--python-keys 1000000] [--master local[2]] [--markdown]

Needs pyspark, java 17+ and mvn (``pip install 'fastpart[spark]' kafka-python``).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Tuple

import numpy as np
import pyarrow as pa

HERE = Path(__file__).resolve().parent
UDF_DIR = HERE / "java_udf"


def _candidates(version: str) -> List[str]:
    """*version*, then older pyspark releases of the same major version (newest first)."""
    proc = subprocess.run([sys.executable, "-m", "pip", "index", "versions", "pyspark"],
                          capture_output=True, text=True, timeout=120)
    found: List[str] = []
    for line in proc.stdout.splitlines():
        if line.strip().startswith("Available versions:"):
            found = [v.strip() for v in line.split(":", 1)[1].split(",")]
    mine = tuple(int(x) for x in version.split(".")[:3])
    older = [v for v in found if v.split(".")[0] == version.split(".")[0]
             and all(p.isdigit() for p in v.split(".")) and tuple(int(x) for x in v.split(".")) < mine]
    return [version] + older


def build_java_udf(spark_version: str) -> Tuple[List[str], str]:
    """Build benchmarks/java_udf in a cache folder; return (jars for spark.jars, note)."""
    mvn = shutil.which("mvn")
    if mvn is None:
        sys.exit("bench_spark: 'mvn' is not on PATH (the Java UDF is built with Maven)")
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in sorted(UDF_DIR.rglob("*")) if p.is_file()))
    cache = Path(os.environ.get("FASTPART_BENCH_CACHE", Path.home() / ".cache" / "fastpart-bench"))
    work = cache / f"java_udf-{digest.hexdigest()[:12]}"
    jar = work / "target" / "kafka-partition-udf-1.0.jar"
    note = ""
    if not jar.exists():
        if work.exists():
            shutil.rmtree(work)
        shutil.copytree(UDF_DIR, work)
        last = ""
        for v in _candidates(spark_version):  # the UDF interfaces Spark's API jar declares
            proc = subprocess.run([mvn, "-B", "-q", "package", f"-Dspark.version={v}"], cwd=work,
                                  capture_output=True, text=True, timeout=900)
            if proc.returncode == 0:
                (work / "compiled-against.txt").write_text(v)
                break
            last = proc.stdout[-3000:] + proc.stderr[-3000:]
        else:
            sys.exit(f"bench_spark: building the Java UDF failed:\n{last}")
    used = (work / "compiled-against.txt").read_text().strip()
    if used != spark_version:
        note = f"Java UDF compiled against spark-sql-api {used} (the newest on Maven Central), run on Spark {spark_version}"
    jars = [str(jar)] + [str(p) for p in sorted((work / "target" / "dependency").glob("*.jar"))]
    return jars, note


def _zeros(batch: pa.Array) -> pa.Array:
    """An Arrow UDF that hashes nothing: Spark's JVM-Python round trip alone."""
    return pa.array(np.zeros(len(batch), dtype=np.int32))


def timed(fn: Callable[[], Any], repeat: int) -> Tuple[float, Any]:
    best, value = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - t0)
    return best, value


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--keys", type=int, default=10_000_000)
    ap.add_argument("--python-keys", type=int, default=1_000_000, help="subset for the per-row Python UDF")
    ap.add_argument("--partitions", type=int, default=12)
    ap.add_argument("--repeat", type=int, default=3, help="best of N for fastpart, Java and the floor")
    ap.add_argument("--big-batch", type=int, default=100_000, help="rows per Arrow batch for the tuned run")
    ap.add_argument("--master", default="local[2]",
                    help="Spark master (local[1]: one task, so the Arrow path's JVM writer thread and "
                         "Python worker have the second core to themselves)")
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()
    started = time.perf_counter()
    load_before = " ".join(f"{x:.1f}" for x in os.getloadavg())

    import pyspark
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F

    import fastpart
    from fastpart.spark import kafka_partition

    try:
        from kafka.partitioner.default import murmur2
    except ImportError:
        sys.exit("bench_spark: kafka-python is needed for the per-row Python UDF (pip install kafka-python)")

    jars, note = build_java_udf(pyspark.__version__)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    spark = (SparkSession.builder.master(args.master).appName("fastpart-bench")
             .config("spark.ui.enabled", "false")
             .config("spark.driver.memory", "4g")
             .config("spark.sql.shuffle.partitions", "2")
             .config("spark.sql.execution.arrow.pyspark.enabled", "true")
             .config("spark.jars", ",".join(jars))
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    from pyspark.sql.types import IntegerType

    spark.udf.registerJavaFunction("kafka_partition_java", "fastpart.bench.KafkaPartition", IntegerType())
    n = args.partitions

    def py_partition(key: str) -> int:  # what a kafka-python user writes, per row
        if key is None:
            return -1
        return (murmur2(key.encode("utf-8")) & 0x7FFFFFFF) % n

    py_udf = F.udf(py_partition, "int")

    empty_udf = getattr(F, "arrow_udf", None)
    if empty_udf is None:
        sys.exit("bench_spark: needs pyspark >= 4.1 (pyspark.sql.functions.arrow_udf)")
    empty_udf = empty_udf(_zeros, "int")

    # 36-byte keys: "key-" + 32 hex digits, deterministic, cached in memory
    keys = (spark.range(0, args.keys, numPartitions=2)
            .select(F.concat(F.lit("key-"), F.md5(F.col("id").cast("string"))).alias("key")).cache())
    count = keys.count()
    # limit() leaves one partition: spread the subset over as many as the keys have, so the
    # per-row UDF runs on every core as the others do
    subset = keys.limit(args.python_keys).repartition(keys.rdd.getNumPartitions()).cache()
    sub_count = subset.count()

    def total(df: Any, column: Any) -> int:
        return int(df.select(column.alias("p")).agg(F.sum("p")).collect()[0][0])

    java_col = F.expr(f"kafka_partition_java(key, {n})")
    fast_col = kafka_partition("key", n)
    total(subset.limit(10_000), fast_col)  # warm-up: Python workers, the JIT
    total(subset.limit(10_000), java_col)
    t_fast, s_fast = timed(lambda: total(keys, fast_col), args.repeat)
    t_java, s_java = timed(lambda: total(keys, java_col), args.repeat)
    spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", str(args.big_batch))
    t_fast_big, s_fast_big = timed(lambda: total(keys, fast_col), args.repeat)
    t_empty, _ = timed(lambda: total(keys, empty_udf("key")), args.repeat)
    spark.conf.unset("spark.sql.execution.arrow.maxRecordsPerBatch")
    t_floor, _ = timed(lambda: total(keys, F.length("key")), args.repeat)
    t_py_sub, s_py = timed(lambda: total(subset, py_udf("key")), 1)
    s_fast_sub = total(subset, fast_col)
    mismatch = subset.select(fast_col.alias("a"), py_udf("key").alias("b")).where("a != b").count()
    if s_fast != s_java or s_fast_big != s_fast or s_py != s_fast_sub or mismatch:
        sys.exit(f"bench_spark: answers differ: fastpart {s_fast}, Java {s_java}; subset fastpart {s_fast_sub}, "
                 f"Python {s_py}, {mismatch} keys differ")
    t_py = t_py_sub * count / sub_count
    spark.stop()

    ns = lambda t: 1e9 * t / count  # noqa: E731
    rows: List[Tuple[str, float, str]] = [
        ("fastpart.spark.kafka_partition (Arrow UDF)", t_fast, "Spark's default Arrow batch (10,000 rows)"),
        ("fastpart.spark.kafka_partition, bigger Arrow batches", t_fast_big,
         f"spark.sql.execution.arrow.maxRecordsPerBatch={args.big_batch:,}"),
        ("an Arrow UDF returning zeros (no hashing)", t_empty,
         f"Spark's JVM-Python Arrow round trip alone, batches of {args.big_batch:,}"),
        ("Java UDF, kafka-clients Utils.murmur2", t_java, ""),
        ("per-row Python UDF, kafka-python murmur2", t_py,
         f"measured on {sub_count:,} keys ({t_py_sub:.1f} s), scaled x{count / sub_count:g}"),
        ("floor: sum(length(key)), no hashing", t_floor, ""),
    ]
    ratios: Dict[str, str] = {
        "fastpart vs per-row Python UDF": f"{t_py / t_fast:.0f}x faster (target: at least 50x); "
                                          f"{t_py / t_fast_big:.0f}x with bigger Arrow batches",
        "fastpart time / Java UDF time": f"{t_fast / t_java:.2f}x (target: at most 1.5x); "
                                         f"{t_fast_big / t_java:.2f}x with bigger Arrow batches",
        "fastpart time / the zeros Arrow UDF's time (same batches)": f"{t_fast_big / t_empty:.2f}x",
        "the zeros Arrow UDF's time / Java UDF time (the floor of any Arrow UDF)": f"{t_empty / t_java:.2f}x",
        "per-row Python UDF time / the zeros Arrow UDF's time (the most any Arrow UDF can gain)":
            f"{t_py / t_empty:.0f}x",
    }
    head = (f"fastpart {fastpart.__version__} ({fastpart.IMPLEMENTATION} core), Spark {pyspark.__version__} "
            f"{args.master}, Python {platform.python_version()}, {os.cpu_count()} CPUs; {count:,} keys of 36 bytes "
            f"cached in memory, n = {n}; best of {args.repeat}; load average before the run "
            f"{load_before}")
    if args.markdown:
        print(f"```\n{head}\n```\n")
        print("| Spark job over the key column | seconds | ns per key | note |\n|---|---|---|---|")
        for name, t, extra in rows:
            print(f"| {name} | {t:.2f} | {ns(t):.0f} | {extra} |")
        print("\n| ratio, same run | value |\n|---|---|")
        for k, v in ratios.items():
            print(f"| {k} | {v} |")
    else:
        print(head)
        for name, t, extra in rows:
            print(f"  {name:<54} {t:8.2f} s  {ns(t):7.0f} ns/key  {extra}")
        for k, v in ratios.items():
            print(f"  {k}: {v}")
    if note:
        print(f"\nnote: {note}")
    print(f"\n(all answers equal; benchmark took {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
