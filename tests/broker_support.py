"""A real Apache Kafka broker for the ``broker`` tests (tests/test_broker.py).

No container engine exists on the machines this project runs on, but the
broker is plain JVM code on Maven Central.  This module

* resolves ``tests/harness/broker/pom.xml`` (``org.apache.kafka:kafka_2.13``
  plus the log4j2 slf4j binding) with ``mvn dependency:copy-dependencies``
  into a per-machine cache folder keyed by the harness' content hash, and
  compiles ``BrokerHarness.java`` (admin calls, a default-configuration Java
  producer, a read-back consumer) against the very same jars -- once per
  machine, silent unless something fails;
* runs one combined KRaft node (broker + controller) bound to 127.0.0.1 on
  ports picked at run time, in a temporary directory that is deleted again;
* offers it to tests as the session-scoped fixture ``kafka_broker``.

Register the fixture from ``tests/conftest.py`` with::

    from broker_support import kafka_broker  # noqa: F401

(or run ``pytest -p broker_support``).  Missing ``java`` / ``javac`` /
``mvn`` skip the tests with a reason, or fail them under
``FASTPART_REQUIRE_TOOLCHAINS=1`` (see ``conformance_support.need``).

Environment knobs: ``FASTPART_BROKER_START_TIMEOUT`` (seconds, default 120)
bounds the broker start; ``FASTPART_TEST_CACHE`` moves the build cache.
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, NamedTuple, Optional, Sequence, Tuple

import pytest

from conformance_support import HARNESS_DIR, cache_dir, need_tool, tree_digest

BROKER_HARNESS_DIR = HARNESS_DIR / "broker"

#: Seconds a broker start may take before it counts as failed (2 busy cores
#: need tens of seconds; the whole module has to fit in CI's 90 minutes).
START_TIMEOUT = float(os.environ.get("FASTPART_BROKER_START_TIMEOUT", "120"))

#: Heap of the broker JVM (broker.md: 512 MiB to 1 GiB is plenty).
BROKER_JVM_OPTS = ["-Xms512m", "-Xmx1g", "-XX:+UseG1GC", "-Djava.awt.headless=true"]

#: Short-lived client JVMs (admin calls, producer, consumer): small heap, fast start.
CLIENT_JVM_OPTS = ["-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Djava.awt.headless=true"]


class BrokerError(RuntimeError):
    """The broker or one of the harness' Java commands failed."""


class Record(NamedTuple):
    """One record as the read-back consumer found it on the broker."""

    partition: int
    offset: int
    key: Optional[bytes]
    value: Optional[bytes]


# --------------------------------------------------------------------------- build

_BUILD_LOCK = threading.Lock()


def _tail(text: str, lines: int = 60) -> str:
    return "\n".join(text.splitlines()[-lines:])


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """An exclusive inter-process lock (parallel pytest workers share the cache)."""
    import fcntl

    with open(path, "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def build_harness(java: str = "java", javac: str = "javac", mvn: str = "mvn") -> Tuple[Path, Path]:
    """Return ``(lib_dir, classes_dir)``, resolving and compiling on first use.

    ``lib_dir`` holds every runtime jar of the broker (``kafka_2.13`` and what
    Maven resolves for it, including the kafka-clients jar the Java harness
    uses); ``classes_dir`` holds the compiled ``BrokerHarness``.  Both live in
    ``cache_dir("broker", tree_digest(tests/harness/broker))``, so an edit of
    the pom or of the harness makes a new cache entry.
    """
    digest = tree_digest(BROKER_HARNESS_DIR)
    root = cache_dir("broker", digest)
    lib, classes, done = root / "lib", root / "classes", root / ".complete"
    with _BUILD_LOCK, _file_lock(root / ".lock"):
        if done.exists():
            return lib, classes
        for d in (lib, classes):
            shutil.rmtree(d, ignore_errors=True)
        # Maven writes into a scratch folder, renamed only when complete.
        scratch = root / "lib.partial"
        shutil.rmtree(scratch, ignore_errors=True)
        cmd = [
            mvn, "-q", "-B", "-Dstyle.color=never",
            "-f", str(BROKER_HARNESS_DIR / "pom.xml"),
            "dependency:copy-dependencies",
            f"-DoutputDirectory={scratch}",
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
        if proc.returncode != 0 or not any(scratch.glob("kafka_2.13-*.jar")):
            raise BrokerError(
                f"resolving the Kafka broker with Maven failed (exit {proc.returncode}):\n"
                f"$ {' '.join(cmd)}\n{_tail(proc.stdout + proc.stderr)}"
            )
        scratch.rename(lib)
        classes.mkdir()
        cmd = [
            javac, "-nowarn", "-encoding", "UTF-8",
            "-cp", str(lib / "*"), "-d", str(classes),
            str(BROKER_HARNESS_DIR / "BrokerHarness.java"),
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        if proc.returncode != 0:
            raise BrokerError(
                f"compiling the broker harness failed (exit {proc.returncode}):\n"
                f"$ {' '.join(cmd)}\n{_tail(proc.stdout + proc.stderr)}"
            )
        done.write_text(digest + "\n")
    return lib, classes


def kafka_version(lib: Path) -> str:
    """The Kafka version of the resolved broker jars (from the jar name)."""
    for jar in lib.glob("kafka_2.13-*.jar"):
        return jar.name[len("kafka_2.13-"):-len(".jar")]
    return "?"


# --------------------------------------------------------------------------- helpers

def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def random_cluster_id() -> str:
    """A Kafka cluster id, as ``StorageTool random-uuid`` prints it.

    Kafka's ``Uuid.toString`` is the URL-safe base64 of the 16 bytes without
    padding; ``Uuid.randomUuid`` re-rolls ids that start with ``-`` (and the
    two reserved ids, which a random draw never hits in practice).  Done here
    rather than with a JVM to save a few seconds of every broker start.
    """
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode("ascii").rstrip("=")
        if not text.startswith("-") and text not in ("AAAAAAAAAAAAAAAAAAAAAA", "AAAAAAAAAAAAAAAAAAAAAQ"):
            return text


def unique_topic(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def _log4j2_config(log_file: Path, level: str = "INFO") -> str:
    # Properties format of log4j2 (log4j-core reads it without extra jars).
    return "\n".join([
        "status = warn",
        "name = fastpart-tests",
        "appender.file.type = File",
        "appender.file.name = FILE",
        f"appender.file.fileName = {log_file}",
        "appender.file.layout.type = PatternLayout",
        "appender.file.layout.pattern = [%d] %p [%t] %m (%c)%n",
        f"rootLogger.level = {level}",
        "rootLogger.appenderRef.file.ref = FILE",
        # The noisiest INFO loggers of a single-node broker.
        "logger.state.name = state.change.logger",
        "logger.state.level = WARN",
        "logger.cfg.name = org.apache.kafka.common.config.AbstractConfig",
        "logger.cfg.level = WARN",
        "",
    ])


def _server_properties(broker_port: int, controller_port: int, data_dir: Path) -> str:
    props: Dict[str, object] = {
        "process.roles": "broker,controller",
        "node.id": 1,
        "listeners": f"PLAINTEXT://127.0.0.1:{broker_port},CONTROLLER://127.0.0.1:{controller_port}",
        "advertised.listeners": f"PLAINTEXT://127.0.0.1:{broker_port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        "controller.quorum.bootstrap.servers": f"127.0.0.1:{controller_port}",
        "log.dirs": str(data_dir),
        # Tests create every topic explicitly, with the partition count they check.
        "auto.create.topics.enable": "false",
        "num.partitions": 1,
        "default.replication.factor": 1,
        # A single node: replication factor 1 / min ISR 1 for the internal topics.
        "offsets.topic.replication.factor": 1,
        "offsets.topic.num.partitions": 1,
        "transaction.state.log.replication.factor": 1,
        "transaction.state.log.min.isr": 1,
        "transaction.state.log.num.partitions": 1,
        "share.coordinator.state.topic.replication.factor": 1,
        "share.coordinator.state.topic.min.isr": 1,
        "share.coordinator.state.topic.num.partitions": 1,
        "group.initial.rebalance.delay.ms": 0,
        # Light on 2 cores and on disk.
        "num.network.threads": 2,
        "num.io.threads": 2,
        "num.recovery.threads.per.data.dir": 1,
        "log.segment.bytes": 16 * 1024 * 1024,
        "log.index.size.max.bytes": 1024 * 1024,
        "log.retention.check.interval.ms": 3_600_000,
    }
    return "".join(f"{k}={v}\n" for k, v in props.items())


# --------------------------------------------------------------------------- broker

class KafkaBroker:
    """One combined KRaft node (broker + controller) of real Apache Kafka.

    ``start()`` writes ``server.properties`` for 127.0.0.1 on free ports,
    formats the storage (``kafka.tools.StorageTool format --standalone``),
    launches ``kafka.Kafka`` and waits until it answers metadata requests.
    ``stop()`` terminates the JVM (then kills it), and deletes the temporary
    directory.  Admin calls, the default-configuration Java producer and the
    read-back consumer run through ``tests/harness/broker/BrokerHarness.java``.
    """

    def __init__(self, lib: Path, classes: Path, java: str = "java", start_timeout: float = START_TIMEOUT):
        self.lib = Path(lib)
        self.classes = Path(classes)
        self.java = java
        self.start_timeout = start_timeout
        self.version = kafka_version(self.lib)
        self.tmp: Optional[Path] = None
        self.proc: Optional[subprocess.Popen] = None
        self.port = 0
        self.controller_port = 0
        self.start_seconds: Optional[float] = None
        self._last_log = ""

    # ------------------------------------------------------------ properties

    @property
    def bootstrap(self) -> str:
        """``"127.0.0.1:<port>"`` of the PLAINTEXT listener."""
        return f"127.0.0.1:{self.port}"

    @property
    def log_file(self) -> Optional[Path]:
        return None if self.tmp is None else self.tmp / "broker.log"

    def log_tail(self, lines: int = 80) -> str:
        """The last lines of the broker's log4j2 log and console output."""
        parts = []
        if self.tmp is not None:
            for name in ("broker.log", "broker.out"):
                p = self.tmp / name
                if p.exists() and p.stat().st_size:
                    text = p.read_text(errors="replace")
                    parts.append(f"--- {name} (last {lines} lines) ---\n{_tail(text, lines)}")
        if parts:
            self._last_log = "\n".join(parts)
        return self._last_log or "(no broker log)"

    # ------------------------------------------------------------- lifecycle

    def _classpath(self) -> str:
        return f"{self.classes}{os.pathsep}{self.lib / '*'}"

    def start(self, attempts: int = 3) -> "KafkaBroker":
        """Start the broker; retried on a fresh directory and fresh ports if
        the JVM dies early (another process may grab a port we picked)."""
        t0 = time.monotonic()
        deadline = t0 + self.start_timeout
        errors = []
        for attempt in range(1, attempts + 1):
            try:
                self._start_once(deadline)
                self.start_seconds = time.monotonic() - t0
                atexit.register(self.stop)
                return self
            except BrokerError as e:
                errors.append(f"attempt {attempt}: {e}")
                died_early = self.proc is not None and self.proc.poll() is not None
                self.stop()
                if not died_early or time.monotonic() > deadline:
                    break
        raise BrokerError(
            f"Kafka {self.version} broker did not start within {self.start_timeout:.0f} s\n"
            + "\n\n".join(errors)
        )

    def _start_once(self, deadline: float) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="fastpart-kafka-"))
        data = self.tmp / "data"
        self.port, self.controller_port = free_port(), free_port()
        while self.controller_port == self.port:
            self.controller_port = free_port()
        props = self.tmp / "server.properties"
        props.write_text(_server_properties(self.port, self.controller_port, data))
        log4j = self.tmp / "log4j2.properties"
        log4j.write_text(_log4j2_config(self.tmp / "broker.log"))
        (self.tmp / "client-log4j2.properties").write_text(
            _log4j2_config(self.tmp / "clients.log", level="WARN"))
        jvm_log = [f"-Dlog4j2.configurationFile={log4j}", f"-Dkafka.logs.dir={self.tmp}"]

        fmt = [
            self.java, *CLIENT_JVM_OPTS, *jvm_log, "-cp", str(self.lib / "*"),
            "kafka.tools.StorageTool", "format",
            "-t", random_cluster_id(), "-c", str(props), "--standalone",
        ]
        try:
            proc = subprocess.run(fmt, capture_output=True, text=True,
                                  timeout=max(10.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            raise BrokerError("kafka.tools.StorageTool format timed out\n" + self.log_tail())
        if proc.returncode != 0:
            raise BrokerError(
                f"kafka.tools.StorageTool format failed (exit {proc.returncode}):\n"
                f"{_tail(proc.stdout + proc.stderr)}\n{self.log_tail()}"
            )

        with open(self.tmp / "broker.out", "wb") as out:
            self.proc = subprocess.Popen(
                [self.java, *BROKER_JVM_OPTS, *jvm_log, "-cp", str(self.lib / "*"),
                 "kafka.Kafka", str(props)],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                cwd=self.tmp,
            )

        # 1. the listener accepts connections (cheap to poll, no JVM needed) ...
        while True:
            if self.proc.poll() is not None:
                raise BrokerError(f"the broker JVM exited with code {self.proc.returncode}\n{self.log_tail()}")
            if time.monotonic() > deadline:
                raise BrokerError("the broker never opened its listener\n" + self.log_tail())
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    break
            except OSError:
                time.sleep(0.2)
        # 2. ... and answers metadata requests (an admin describeCluster).
        remaining_ms = int(max(5.0, deadline - time.monotonic()) * 1000)
        try:
            self.run_harness("ready", str(remaining_ms), timeout=remaining_ms / 1000 + 30)
        except BrokerError as e:
            if self.proc.poll() is not None:
                raise BrokerError(f"the broker JVM exited with code {self.proc.returncode}\n{e}")
            raise

    def stop(self) -> None:
        """Stop the JVM (SIGTERM, then SIGKILL) and delete the temp directory."""
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=30)
        if self.tmp is not None:
            self.log_tail()  # keep the last lines for a report after deletion
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None

    def __enter__(self) -> "KafkaBroker":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # ------------------------------------------------------------ harness

    def run_harness(self, command: str, *args: str, timeout: float = 300) -> str:
        """Run ``BrokerHarness <command> <bootstrap> <args...>``; return stdout."""
        assert self.tmp is not None, "broker not started"
        cmd = [
            self.java, *CLIENT_JVM_OPTS,
            f"-Dlog4j2.configurationFile={self.tmp / 'client-log4j2.properties'}",
            "-cp", self._classpath(), "BrokerHarness", command, self.bootstrap, *args,
        ]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as e:
            raise BrokerError(
                f"BrokerHarness {command} timed out after {timeout:.0f} s\n"
                f"{_tail((e.stderr or b'').decode(errors='replace') if isinstance(e.stderr, bytes) else (e.stderr or ''))}\n"
                f"{self.log_tail()}"
            )
        if proc.returncode != 0:
            clients = self.tmp / "clients.log"
            client_log = _tail(clients.read_text(errors="replace"), 30) if clients.exists() else ""
            raise BrokerError(
                f"BrokerHarness {command} {' '.join(args)} failed (exit {proc.returncode}):\n"
                f"{_tail(proc.stderr)}\n--- clients.log ---\n{client_log}\n{self.log_tail()}"
            )
        return proc.stdout

    def create_topic(self, name: str, partitions: int) -> str:
        """Create *name* with *partitions* partitions (replication factor 1),
        returning once every partition has a leader."""
        self.run_harness("create-topic", name, str(partitions))
        return name

    def add_partitions(self, name: str, total: int) -> None:
        """Grow *name* to *total* partitions, returning once all have leaders."""
        self.run_harness("add-partitions", name, str(total))

    def partition_count(self, name: str) -> int:
        return int(self.run_harness("partitions", name).strip())

    def java_produce(self, topic: str, keys: Sequence[Optional[bytes]]) -> List[int]:
        """Produce *keys* with the Java producer in its DEFAULT configuration
        (ByteArraySerializer); record ``i`` has the value ``str(i)``.  Returns
        the partition of every record from its ``RecordMetadata``."""
        assert self.tmp is not None, "broker not started"
        keys_file = self.tmp / f"keys-{uuid.uuid4().hex[:8]}.txt"
        keys_file.write_text("".join("N\n" if k is None else k.hex() + "\n" for k in keys), encoding="ascii")
        try:
            out = self.run_harness("produce", topic, str(keys_file), timeout=600)
        finally:
            keys_file.unlink(missing_ok=True)
        parts: List[Optional[int]] = [None] * len(keys)
        for line in out.splitlines():
            i, p = line.split("\t")
            parts[int(i)] = int(p)
        missing = [i for i, p in enumerate(parts) if p is None]
        if missing:
            raise BrokerError(f"Java producer reported no partition for {len(missing)} records, e.g. #{missing[:5]}")
        return parts  # type: ignore[return-value]

    def consume(self, topic: str) -> List[Record]:
        """Every record of *topic* as stored on the broker (Java consumer,
        no group, from the beginning up to the end offsets at call time)."""
        out = self.run_harness("consume", topic, timeout=600)
        records = []
        for line in out.splitlines():
            p, off, k, v = line.split("\t")
            records.append(Record(int(p), int(off),
                                  None if k == "N" else bytes.fromhex(k),
                                  None if v == "N" else bytes.fromhex(v)))
        return records

    def partitions_by_value(self, topic: str) -> Dict[int, int]:
        """``{record index: partition}`` for records whose value is the
        decimal record index (as written by :meth:`java_produce` and the tests),
        read back from the broker.  Fails on a duplicated index."""
        found: Dict[int, int] = {}
        for r in self.consume(topic):
            assert r.value is not None, f"record without value at {r.partition}/{r.offset}"
            i = int(r.value)
            if i in found:
                raise AssertionError(f"record #{i} stored twice: partitions {found[i]} and {r.partition}")
            found[i] = r.partition
        return found


# --------------------------------------------------------------------------- producers

def confluent_produce(bootstrap: str, topic: str, keys: Sequence[Optional[bytes]], *,
                      partitions: Optional[Sequence[int]] = None,
                      placer: Optional[Callable[[Any], Any]] = None, **config: str) -> List[int]:
    """Produce *keys* with a ``confluent_kafka.Producer({"bootstrap.servers": ...} | config)``;
    record ``i`` has the value ``str(i)``.  With *partitions*, record ``i`` is sent with
    ``partition=partitions[i]``; with *placer* (``producer -> object with .produce()``, e.g.
    ``fastpart.confluent.Partitioner``) records go through ``placer(producer).produce``.
    Returns the partition of every record from its delivery report (fails unless every
    record is delivered)."""
    import confluent_kafka

    producer = confluent_kafka.Producer({"bootstrap.servers": bootstrap, **config})
    send = producer.produce if placer is None else placer(producer).produce
    reports: List[int] = [-1] * len(keys)
    errors: List[str] = []

    def on_delivery(err: Any, msg: Any) -> None:
        i = int(msg.value())
        if err is not None:
            errors.append(f"#{i}: {err}")
        else:
            reports[i] = msg.partition()

    for i, key in enumerate(keys):
        extra = {} if partitions is None else {"partition": partitions[i]}
        while True:
            try:
                send(topic, key=key, value=str(i).encode(), on_delivery=on_delivery, **extra)
                break
            except BufferError:
                producer.poll(0.1)
        producer.poll(0)
    left = producer.flush(120)
    assert left == 0 and not errors, f"{left} records undelivered; errors: {errors[:10]}"
    return reports


# --------------------------------------------------------------------------- fixture

@pytest.fixture(scope="session")
def kafka_broker(request) -> Iterator[KafkaBroker]:
    """A running single-node Kafka (KRaft) on 127.0.0.1 for the whole session.

    Offers ``bootstrap``, ``create_topic(name, partitions)``,
    ``add_partitions(name, total)``, ``java_produce(topic, keys)``,
    ``consume(topic)`` and ``partitions_by_value(topic)``.  Skips (or fails
    under ``FASTPART_REQUIRE_TOOLCHAINS=1``) without java/javac/mvn.
    """
    tools = need_tool("java", "javac", "mvn")
    error = None
    try:
        lib, classes = build_harness(tools["java"], tools["javac"], tools["mvn"])
        broker = KafkaBroker(lib, classes, java=tools["java"])
        broker.start()
    except BrokerError as e:
        error = str(e)
    if error is not None:  # outside the except: no "during handling" chain in the report
        pytest.fail(error, pytrace=False)
    failed_before = request.session.testsfailed
    try:
        yield broker
    finally:
        tail = broker.log_tail(60)
        broker.stop()
        if request.session.testsfailed > failed_before:
            reporter = request.config.pluginmanager.get_plugin("terminalreporter")
            text = f"\nKafka {broker.version} broker log at the end of the session (tests failed):\n{tail}\n"
            if reporter is not None:
                reporter.write_line(text)
            else:
                sys.stderr.write(text)
