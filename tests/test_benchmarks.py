"""The benchmarks run from a clean clone and print the ratios the README reports.

Each script runs at a small size in a subprocess: it exits 0 only when every
form it times gave the same partitions as the reference (the scripts check
that themselves), and its output carries the ratio rows the README quotes.
The timings of such small runs mean nothing and are not asserted.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from typing import List

import pytest

from conformance_support import cache_dir, need, need_tool

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"

pytestmark = pytest.mark.benchmark


def _run(script: str, args: List[str], timeout: int = 600) -> str:
    need((BENCH / script).exists(), f"benchmarks/{script} is not here (the tests run outside the source tree)")
    env = dict(os.environ, FASTPART_BENCH_CACHE=str(cache_dir("bench")))
    proc = subprocess.run([sys.executable, str(BENCH / script), *args], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=str(BENCH.parent))
    assert proc.returncode == 0, f"{script} exited {proc.returncode}:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    return proc.stdout


def test_bench_core_prints_the_arrow_ratios():
    pytest.importorskip("numpy")
    pytest.importorskip("pyarrow")
    need_tool("cc")  # the plain C loop the ratios compare with
    out = _run("bench_core.py", ["--quick"])
    rows = ["partition_many(S array) / plain C loop time", "pyarrow string / S36 time",
            "pyarrow string, out= vs plain C loop", "pyarrow string_view, out= vs plain C loop",
            "peak memory allocated per call beyond out="]
    rows += ["fastpart.partition vs confluent_kafka.murmur2"] if _importable("confluent_kafka") else []
    rows += ["polars String, out= vs plain C loop"] if _importable("polars") else []
    rows += ["pandas string[pyarrow], out= vs plain C loop"] if _importable("pandas") else []
    for row in rows:
        assert row in out, row


def test_bench_engines_checks_every_engine_and_prints_duckdbs_floor():
    for name in ("numpy", "pyarrow", "polars", "duckdb", "pandas"):
        pytest.importorskip(name)
    out = _run("bench_engines.py", ["--keys", "20000", "--repeat", "1"])
    assert "all answers equal" in out
    for row in ("polars: pl.col(key).kafka.partition(n)", "DuckDB: SELECT kafka_partition(key, n)",
                "fastpart.pandas, ArrowDtype(string)", "DuckDB: an Arrow UDF returning zeros"):
        assert row in out, row


@pytest.mark.spark
def test_bench_spark_runs_the_three_udfs_and_prints_the_ratios():
    """Spark in local mode, the Java UDF built with Maven: the three answers must agree."""
    need_tool("java", "mvn")
    for name in ("pyspark", "kafka", "numpy", "pyarrow"):
        need(_importable(name), f"bench_spark needs the {name} package (pip install 'fastpart[spark]' kafka-python)")
    out = _run("bench_spark.py", ["--keys", "20000", "--python-keys", "2000", "--repeat", "1"], timeout=1200)
    assert "all answers equal" in out
    for row in ("fastpart vs per-row Python UDF", "fastpart time / Java UDF time",
                "the zeros Arrow UDF's time / Java UDF time", "per-row Python UDF time / the zeros Arrow UDF's time"):
        assert row in out, row


def _importable(name: str) -> bool:
    """Whether *name* is installed (found, not imported: the script imports it)."""
    return importlib.util.find_spec(name) is not None
