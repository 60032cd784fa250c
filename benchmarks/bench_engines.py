"""Dataframe engines: ns per key for polars, DuckDB and pandas against fastpart's own batch paths.

Same keys in every form (default 1,000,000 36-byte UUID strings, n = 12):
``partition_many`` on a Python list of bytes, on a NumPy ``S36`` array and on
a pyarrow ``string`` array; ``fastpart.polars`` (function and expression
namespace), ``fastpart.duckdb`` (``SELECT sum(kafka_partition(key, 12))``
over an Arrow table) and ``fastpart.pandas`` (object, ``string[python]``,
``string[pyarrow]``, ``ArrowDtype(string)``).  Every answer is checked against
the list API.  Best of ``--repeat`` runs.

Usage::

    python benchmarks/bench_engines.py [--keys 1000000] [--markdown]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Callable, List, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _tables import fmt_table  # noqa: E402


def best(fn: Callable[[], Any], repeat: int) -> Tuple[float, Any]:
    t, value = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        value = fn()
        t = min(t, time.perf_counter() - t0)
    return t, value


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--keys", type=int, default=1_000_000)
    ap.add_argument("--partitions", type=int, default=12)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()

    import duckdb
    import numpy as np
    import pandas as pd
    import polars as pl
    import pyarrow as pa

    import fastpart
    import fastpart.duckdb as fdd
    import fastpart.pandas as fpd
    import fastpart.polars as fpl

    n, count = args.partitions, args.keys
    text = [str(uuid.UUID(int=(i * 0x9E3779B97F4A7C15) % (1 << 128))) for i in range(count)]
    raw = [t.encode() for t in text]
    want = np.asarray(fastpart.partition_many(raw, n))
    want_sum = int(want.sum())

    s36 = np.array(raw, dtype="S36")
    arrow = pa.array(text, pa.string())
    series = pl.Series("key", text)
    frame = pl.DataFrame({"key": series})
    con = duckdb.connect()
    fdd.register(con)
    con.register("t", pa.table({"key": arrow}))
    pandas_forms = [(f"fastpart.pandas, {name}", pd.Series(text, dtype=dtype)) for name, dtype in
                    (("object", object), ("string[python]", "string[python]"),
                     ("string[pyarrow]", "string[pyarrow]"), ("ArrowDtype(string)", pd.ArrowDtype(pa.string())))]

    def check(name: str, got: Any) -> None:
        got = np.asarray(got)
        if not np.array_equal(got, want):
            sys.exit(f"bench_engines: {name} disagrees with the list API")

    cases: List[Tuple[str, Callable[[], Any], Callable[[Any], Any]]] = [
        ("partition_many(list of bytes)", lambda: fastpart.partition_many(raw, n), lambda r: r),
        ("partition_many(NumPy S36 array)", lambda: fastpart.partition_many(s36, n), lambda r: r),
        ("partition_many(pyarrow string array)", lambda: fastpart.partition_many(arrow, n), lambda r: r),
        ("fastpart.polars.partition(Series)", lambda: fpl.partition(series, n), lambda r: r.to_numpy()),
        ("polars: pl.col(key).kafka.partition(n)",
         lambda: frame.select(pl.col("key").kafka.partition(n)).to_series(), lambda r: r.to_numpy()),
        ("DuckDB: SELECT kafka_partition(key, n)",
         lambda: con.sql(f"SELECT kafka_partition(key, {n}) AS p FROM t").fetchnumpy()["p"], lambda r: r),
    ] + [(name, (lambda s=s: fpd.partition(s, n)), lambda r: r.to_numpy()) for name, s in pandas_forms]
    # DuckDB's own floor for any Arrow UDF: one that returns zeros (its result is not checked)
    con.create_function("zeros_udf", lambda k: pa.array(np.zeros(len(k), np.int32)), [duckdb.sqltype("VARCHAR")],
                        duckdb.sqltype("INTEGER"), type="arrow", side_effects=False)
    floors = [("DuckDB: an Arrow UDF returning zeros (the floor of any Arrow UDF there)",
               lambda: con.sql("SELECT zeros_udf(key) AS p FROM t").fetchnumpy()["p"])]

    rows = []
    base = {}
    for name, fn, to_np in cases:
        t, result = best(fn, args.repeat)
        check(name, to_np(result))
        base[name] = t
        rows.append((name, t))
    for name, fn in floors:
        t, _ = best(fn, args.repeat)
        rows.append((name, t))
    t_list = base["partition_many(list of bytes)"]
    t_s36 = base["partition_many(NumPy S36 array)"]
    table = [[name, f"{1e9 * t / count:.1f}", f"{t / t_s36:.2f}x", f"{t / t_list:.2f}x"] for name, t in rows]
    print(f"fastpart {fastpart.__version__} ({fastpart.IMPLEMENTATION} core), Python {platform.python_version()}, "
          f"polars {pl.__version__}, duckdb {duckdb.__version__}, pandas {pd.__version__}, pyarrow {pa.__version__}; "
          f"{os.cpu_count()} CPUs; {count:,} UUID keys (36 bytes), n = {n}; best of {args.repeat}; "
          f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}; all answers equal (sum {want_sum})\n")
    print(fmt_table(["engine / input", "ns per key", "time / S36 array", "time / list"], table, args.markdown))


if __name__ == "__main__":
    main()
