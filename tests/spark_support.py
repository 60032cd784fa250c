"""One local Spark session (``local[2]``) for the ``spark`` tests.

The session starts once per test session, the first time a test asks for the
``spark`` fixture, with Arrow enabled and small batches (so the reports add up
several Arrow batches per partition).  When a selected test also carries the
``broker`` marker, the JVM starts with Spark's Kafka connector
(``spark-sql-kafka-0-10`` for the installed Spark and Scala versions, fetched
by ``spark.jars.packages`` from Maven Central): packages are resolved when the
JVM starts, so the connector cannot be added later.

Missing pyspark or java skips with a reason (fails under
``FASTPART_REQUIRE_TOOLCHAINS=1``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from typing import Any, Iterator, List, Optional, Tuple

import pytest

from conformance_support import cache_dir, need, need_tool

#: Rows per Arrow batch in the tests (Spark's default is 10,000).
BATCH_ROWS = 1000

def spark_versions() -> Tuple[str, str]:
    """``(spark version, scala binary version)`` of the installed pyspark."""
    import pyspark

    jars = os.path.join(os.path.dirname(pyspark.__file__), "jars")
    scala = "2.13"
    for name in os.listdir(jars) if os.path.isdir(jars) else []:
        if name.startswith("spark-core_"):
            scala = name[len("spark-core_"):].split("-")[0]
    return pyspark.__version__, scala


def _published(mvn: str, coordinate: str) -> bool:
    """Whether Maven Central has *coordinate*.  Maven fetches its jar into ~/.m2,
    where Spark's resolver looks first (a pom alone there fails Spark's download)."""
    proc = subprocess.run([mvn, "-B", "-q", "dependency:get", f"-Dartifact={coordinate}",
                           "-Dtransitive=false"], capture_output=True, text=True, timeout=300)
    return proc.returncode == 0


def _release_candidates(version: str) -> List[str]:
    """*version*, then the older pyspark releases of the same major version, newest first."""
    major = version.split(".")[0]
    proc = subprocess.run([sys.executable, "-m", "pip", "index", "versions", "pyspark"],
                          capture_output=True, text=True, timeout=120)
    found = []
    for line in proc.stdout.splitlines():
        if line.strip().startswith("Available versions:"):
            found = [v.strip() for v in line.split(":", 1)[1].split(",")]
    mine = tuple(int(x) for x in version.split(".")[:3])
    older = [v for v in found if v.split(".")[0] == major and all(p.isdigit() for p in v.split("."))
             and tuple(int(x) for x in v.split(".")) < mine]
    return [version] + older


def kafka_package() -> Tuple[str, Optional[str]]:
    """The Maven coordinate of Spark's Kafka connector for this pyspark, and a
    note when that exact version is not on Maven Central (the newest published
    older release of the same major version is used then, and the note says so).
    The answer is cached per machine and pyspark version."""
    mvn = need_tool("mvn")["mvn"]
    version, scala = spark_versions()
    cache = cache_dir("spark") / f"kafka-connector-{version}-{scala}.txt"
    if cache.exists():
        chosen = cache.read_text().strip()
    else:
        chosen = ""
        for candidate in _release_candidates(version):
            if _published(mvn, f"org.apache.spark:spark-sql-kafka-0-10_{scala}:{candidate}"):
                chosen = candidate
                break
        if not chosen:
            pytest.fail(f"no spark-sql-kafka-0-10_{scala} {version.split('.')[0]}.x release found by Maven",
                        pytrace=False)
        cache.write_text(chosen)
    note = None if chosen == version else (
        f"spark-sql-kafka-0-10_{scala}:{version} is not on Maven Central; using {chosen}, "
        "the newest older release that is")
    return f"org.apache.spark:spark-sql-kafka-0-10_{scala}:{chosen}", note


def _java_ok() -> bool:
    java = shutil.which("java")
    if java is None:
        return False
    proc = subprocess.run([java, "-version"], capture_output=True, text=True)
    return proc.returncode == 0


@pytest.fixture(scope="session")
def spark(request: Any) -> Iterator[Any]:
    """A ``local[2]`` SparkSession for the whole test session."""
    try:
        import pyspark  # noqa: F401
        from pyspark.sql import SparkSession
    except ImportError as exc:
        need(False, f"pyspark is not installed ({exc}); pip install 'fastpart[spark]'")
    need(_java_ok(), "the 'java' executable (Java 17+) is not on PATH; Spark needs it")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    builder = (SparkSession.builder.master("local[2]").appName("fastpart-tests")
               .config("spark.ui.enabled", "false")
               .config("spark.sql.shuffle.partitions", "2")
               .config("spark.sql.execution.arrow.pyspark.enabled", "true")
               .config("spark.sql.execution.arrow.maxRecordsPerBatch", str(BATCH_ROWS))
               .config("spark.driver.memory", "1g")
               .config("spark.python.worker.reuse", "true"))
    wants_kafka = any(item.get_closest_marker("broker") and item.get_closest_marker("spark")
                      for item in request.session.items)
    note = None
    if wants_kafka:
        package, note = kafka_package()
        builder = builder.config("spark.jars.packages", package)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    session.fastpart_kafka_note = note  # type: ignore[attr-defined]
    try:
        yield session
    finally:
        session.stop()
