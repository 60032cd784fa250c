"""Producer send() cost with fastpart's partitioners, against a real Kafka broker, in one run.

Run: ``python benchmarks/bench_producers.py`` (``--quick`` for a short run,
``--markdown`` for Markdown tables, ``--bootstrap HOST:PORT`` to use a
running broker instead of starting one).

Without ``--bootstrap`` it starts one single-node Apache Kafka (KRaft) broker
on 127.0.0.1 through ``tests/broker_support.py`` (needs java, javac and mvn;
the jars are resolved once per machine) and stops it at the end, also on
Ctrl-C, SIGTERM or an error.  Every case gets its own 12-partition topic.

Cases, all on the same N keyed records (36-byte UUID-string keys, 100-byte
values) and the same broker:

* kafka-python ``KafkaProducer.send()`` with its own ``DefaultPartitioner``
  against ``fastpart.kafka_python.DefaultPartitioner()``: CPU time of the
  sending thread (``time.thread_time()``) over the ``send()`` loop, and with
  ``flush()``; the CPU time of the whole process (``time.process_time()``,
  which adds kafka-python's I/O thread) and the wall time of send + flush.
* each partitioner called alone per record (kafka-python's and aiokafka's
  ``DefaultPartitioner`` against fastpart's), to show how much of ``send()``
  is partitioning.
* aiokafka: one ``await producer.send()`` per record (futures gathered, then
  ``flush()``), with aiokafka's own partitioner and with
  ``fastpart.aiokafka.Partitioner()``, against one
  ``await fastpart.aiokafka.send_many(producer, topic, records)``.

Checks along the way: every record's ``RecordMetadata`` partition equals
``fastpart.partition_many(keys, 12)``; the broker's end offsets hold every
record sent; a sample read back from each topic with kafka-python's consumer
sits on ``fastpart.partition(key, 12)``.

Each timed case runs ``--repeat`` times (alternating the order of the cases
between rounds); every figure is the best of those rounds.  Ratios are taken
within this one run: on a shared machine they hold better than the absolute
figures.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import platform
import random
import shutil
import signal
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import fastpart

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _tables import fmt_table  # noqa: E402

N_PARTS = 12
KEY_BYTES = 36
VALUE_BYTES = 100
READBACK_PER_TOPIC = 2_000

Records = List[Tuple[bytes, bytes]]
Timing = Dict[str, float]


# ------------------------------------------------------------------ helpers

def make_records(count: int, seed: int = 1) -> Records:
    """*count* (UUID-string key, random 100-byte value) pairs, reproducibly."""
    rng = random.Random(seed)
    return [(str(uuid.UUID(int=rng.getrandbits(128))).encode("ascii"), rng.randbytes(VALUE_BYTES))
            for _ in range(count)]




def best_of(runs: List[Timing]) -> Timing:
    """Per metric, the smallest value over the rounds."""
    return {k: min(r[k] for r in runs) for k in runs[0]}


def us(seconds: float, count: int) -> str:
    return f"{seconds / count * 1e6:.2f}"


def rate(seconds: float, count: int) -> str:
    return f"{count / seconds:,.0f}"


def times(slow: float, fast: float) -> str:
    return f"{slow / fast:.2f}x"


class Stopwatch:
    """Wall time, CPU time of this thread and of the whole process, from construction."""

    def __init__(self) -> None:
        gc.collect()
        self.wall = time.perf_counter()
        self.thread = time.thread_time()
        self.process = time.process_time()

    def read(self) -> Tuple[float, float, float]:
        return (time.perf_counter() - self.wall, time.thread_time() - self.thread,
                time.process_time() - self.process)


class Check:
    """Collects the correctness checks for the report; a failed one aborts the run."""

    def __init__(self) -> None:
        self.lines: List[str] = []

    def __call__(self, ok: bool, what: str) -> None:
        if not ok:
            raise AssertionError(f"check failed: {what}")
        self.lines.append(what)


# ------------------------------------------------------------------ broker and topics

class Broker:
    """The broker we run on: one we start (tests/broker_support.py) or ``--bootstrap``."""

    def __init__(self, bootstrap: Optional[str]) -> None:
        self.own = None
        self.bootstrap = bootstrap or ""
        self.version = "external (--bootstrap)"
        self.start_seconds: Optional[float] = None

    def start(self) -> None:
        if self.bootstrap:
            return
        tests = Path(__file__).resolve().parent.parent / "tests"
        sys.path.insert(0, str(tests))
        import broker_support  # needs tests/ on sys.path (it imports conformance_support)

        tools = {}
        for name in ("java", "javac", "mvn"):
            path = shutil.which(name)
            if path is None:
                raise SystemExit(f"the '{name}' executable is not on PATH: cannot start a broker "
                                 "(install a JDK and Maven, or pass --bootstrap HOST:PORT)")
            tools[name] = path
        lib, classes = broker_support.build_harness(tools["java"], tools["javac"], tools["mvn"])
        self.own = broker_support.KafkaBroker(lib, classes, java=tools["java"])
        self.version = f"Apache Kafka {self.own.version} (single KRaft node, started here)"
        self.own.start()
        self.start_seconds = self.own.start_seconds
        self.bootstrap = self.own.bootstrap

    def stop(self) -> None:
        own, self.own = self.own, None
        if own is not None:
            own.stop()

    def create_topic(self, prefix: str) -> str:
        name = f"bench-{prefix}-{uuid.uuid4().hex[:8]}"
        if self.own is not None:
            self.own.create_topic(name, N_PARTS)
            return name
        from kafka.admin import KafkaAdminClient, NewTopic

        admin = KafkaAdminClient(bootstrap_servers=self.bootstrap)
        try:
            admin.create_topics([NewTopic(name, N_PARTS, 1)])
            # As broker_support does: return once every partition has a leader.
            deadline = time.monotonic() + 60
            while True:
                topics = admin.describe_topics([name])
                parts = topics[0].get("partitions") or [] if topics else []
                if len(parts) == N_PARTS and all(p.get("leader_id", p.get("leader", -1)) >= 0 for p in parts):
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"topic {name}: not every partition has a leader after 60 s")
                time.sleep(0.2)
        finally:
            admin.close()
        return name


def check_on_broker(bootstrap: str, topic: str, expected_total: int, check: Check, label: str) -> None:
    """End offsets hold every record; a sample read back sits on fastpart.partition(key, 12)."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None,
                             max_partition_fetch_bytes=256 * 1024)
    try:
        tps = [TopicPartition(topic, p) for p in range(N_PARTS)]
        consumer.assign(tps)
        ends = consumer.end_offsets(tps)
        total = sum(ends.values())
        check(total == expected_total,
              f"{label}: the broker's end offsets of {topic} add up to the {expected_total:,} records sent")
        consumer.seek_to_beginning(*tps)
        seen, bad = 0, []
        deadline = time.monotonic() + 60
        while seen < READBACK_PER_TOPIC and time.monotonic() < deadline:
            for tp, msgs in consumer.poll(timeout_ms=1000, max_records=500).items():
                for m in msgs:
                    seen += 1
                    if m.key is None or fastpart.partition(m.key, N_PARTS) != tp.partition:
                        bad.append((tp.partition, m.offset, m.key))
        check(seen >= min(READBACK_PER_TOPIC, expected_total) and not bad,
              f"{label}: {seen:,} records read back from {topic} sit on fastpart.partition(key, 12)"
              + (f" -- {len(bad)} do not, e.g. {bad[:3]}" if bad else ""))
    finally:
        consumer.close()


# ------------------------------------------------------------------ kafka-python

def kafka_python_round(bootstrap: str, topic: str, partitioner: Any, records: Records,
                       warmup: Records) -> Tuple[Timing, List[int]]:
    """One producer, warmed up on *warmup*, then the timed send() loop + flush()."""
    from kafka import KafkaProducer

    producer = KafkaProducer(bootstrap_servers=bootstrap, partitioner=partitioner)
    try:
        for k, v in warmup:  # metadata, connection, code paths
            producer.send(topic, key=k, value=v)
        producer.flush(timeout=120)
        send = producer.send
        sw = Stopwatch()
        futures = [send(topic, key=k, value=v) for k, v in records]
        loop_thread = sw.read()[1]
        producer.flush(timeout=300)
        wall, thread, proc = sw.read()
        partitions = [f.get(timeout=60).partition for f in futures]
    finally:
        producer.close(timeout=30)
    return {"loop_thread": loop_thread, "thread": thread, "process": proc, "wall": wall}, partitions


def partitioner_alone(records: Records, topic: str, cluster: Any, repeat: int) -> Dict[str, Tuple[float, List[int]]]:
    """Per-record partitioner calls alone: CPU seconds (best of *repeat*) and the answers."""
    from aiokafka.partitioner import DefaultPartitioner as AioDefault
    from kafka.partitioner import DefaultPartitioner as KpDefault

    from fastpart.aiokafka import Partitioner as FpAio
    from fastpart.kafka_python import DefaultPartitioner as FpKp

    parts = sorted(cluster.partitions_for_topic(topic))
    avail = list(cluster.available_partitions_for_topic(topic))
    kp, fk, ak, fa = KpDefault().partition, FpKp().partition, AioDefault(), FpAio()
    cases: Dict[str, Callable[[], List[int]]] = {
        "kafka-python DefaultPartitioner.partition": lambda: [kp(topic, k, k, v, v, cluster) for k, v in records],
        "fastpart.kafka_python.DefaultPartitioner.partition": lambda: [fk(topic, k, k, v, v, cluster) for k, v in records],
        "aiokafka DefaultPartitioner()(key, all, available)": lambda: [ak(k, parts, avail) for k, v in records],
        "fastpart.aiokafka.Partitioner()(key, all, available)": lambda: [fa(k, parts, avail) for k, v in records],
    }
    out: Dict[str, Tuple[float, List[int]]] = {}
    for name, fn in cases.items():
        best_t, answers = float("inf"), []
        for _ in range(repeat):
            sw = Stopwatch()
            answers = fn()
            best_t = min(best_t, sw.read()[1])
        out[name] = (best_t, answers)
    return out


# ------------------------------------------------------------------ aiokafka

async def aiokafka_round(bootstrap: str, topic: str, mode: str, records: Records,
                         warmup: Records) -> Tuple[Timing, List[int]]:
    """mode: "send" (aiokafka's partitioner), "send-fp" (fastpart Partitioner), "send_many"."""
    from aiokafka import AIOKafkaProducer

    from fastpart.aiokafka import Partitioner, send_many

    kwargs: Dict[str, Any] = {} if mode == "send" else {"partitioner": Partitioner()}
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, **kwargs)
    await producer.start()
    try:
        if mode == "send_many":
            res = await send_many(producer, topic, warmup)
            assert not [r for r in res if isinstance(r, BaseException)], "warm-up send_many failed"
        else:
            await asyncio.gather(*[await producer.send(topic, key=k, value=v) for k, v in warmup])
        await producer.flush()
        sw = Stopwatch()
        if mode == "send_many":
            results = await send_many(producer, topic, records)
            await producer.flush()
            failed = [r for r in results if isinstance(r, BaseException)]
            if failed:
                raise RuntimeError(f"send_many: {len(failed)} records failed, e.g. {failed[:3]}")
        else:
            send = producer.send
            futures = [await send(topic, key=k, value=v) for k, v in records]
            results = await asyncio.gather(*futures)
            await producer.flush()
        wall, thread, proc = sw.read()
    finally:
        await producer.stop()
    return {"thread": thread, "process": proc, "wall": wall}, [r.partition for r in results]


# ------------------------------------------------------------------ main

def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="20,000 records instead of 100,000")
    ap.add_argument("--records", type=int, default=None, help="records per case (default 100,000)")
    ap.add_argument("--repeat", type=int, default=None,
                    help="rounds per case, best taken (default 3, --quick 2)")
    ap.add_argument("--markdown", action="store_true", help="print Markdown tables")
    ap.add_argument("--bootstrap", metavar="HOST:PORT", help="use this broker instead of starting one")
    args = ap.parse_args(argv)
    n = args.records or (20_000 if args.quick else 100_000)
    repeat = max(1, args.repeat or (2 if args.quick else 3))
    md = args.markdown

    # SIGTERM as Ctrl-C, so the finally below stops the broker.
    def on_term(signum, frame):  # pragma: no cover - signal path
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)

    import aiokafka
    import kafka

    records = make_records(n, seed=1)
    warmup = make_records(max(500, n // 50), seed=2)
    keys = [k for k, _ in records]
    expected = list(fastpart.partition_many(keys, N_PARTS))
    check = Check()
    load0 = os.getloadavg()
    t_start = time.monotonic()

    broker = Broker(args.bootstrap)
    try:
        broker.start()
        start_note = f", up in {broker.start_seconds:.0f} s" if broker.start_seconds else ""
        print(f"fastpart {fastpart.__version__} ({fastpart.IMPLEMENTATION} core), Python {platform.python_version()}, "
              f"{platform.machine()}, {os.cpu_count()} CPUs, load average {load0[0]:.1f} at start (shared machine)")
        print(f"broker: {broker.version} at {broker.bootstrap}{start_note}")
        print(f"clients: kafka-python {kafka.__version__}, aiokafka {aiokafka.__version__} (default producer settings)")
        print(f"records: {n:,} per case, {KEY_BYTES}-byte UUID-string keys, {VALUE_BYTES}-byte values, "
              f"{N_PARTS} partitions, one topic per case; best of {repeat} rounds\n")

        # ---- kafka-python send(): own partitioner vs fastpart's
        from kafka.partitioner import DefaultPartitioner as KpDefault

        from fastpart.kafka_python import DefaultPartitioner as FpKp

        kp_cases: Dict[str, Tuple[str, Callable[[], Any]]] = {
            "kafka-python DefaultPartitioner": (broker.create_topic("kpy-own"), KpDefault),
            "fastpart DefaultPartitioner": (broker.create_topic("kpy-fastpart"), FpKp),
        }
        kp_runs: Dict[str, List[Timing]] = {name: [] for name in kp_cases}
        for rnd in range(repeat):
            order = list(kp_cases) if rnd % 2 == 0 else list(reversed(kp_cases))
            for name in order:
                topic, make = kp_cases[name]
                timing, parts = kafka_python_round(broker.bootstrap, topic, make(), records, warmup)
                kp_runs[name].append(timing)
                if rnd == 0:
                    check(parts == expected, f"kafka-python, {name}: all {n:,} RecordMetadata partitions "
                                             "== fastpart.partition_many(keys, 12)")
        kp = {name: best_of(runs) for name, runs in kp_runs.items()}

        # ---- the partitioner alone, with the producer's real cluster metadata
        from kafka import KafkaProducer

        topic0 = kp_cases["kafka-python DefaultPartitioner"][0]
        meta_producer = KafkaProducer(bootstrap_servers=broker.bootstrap)
        try:
            meta_producer.partitions_for(topic0)  # fetches the topic's metadata
            alone = partitioner_alone(records, topic0, meta_producer._metadata, max(2, repeat))
        finally:
            meta_producer.close(timeout=30)
        for name, (_, answers) in alone.items():
            check(answers == expected, f"alone: {name} gives fastpart.partition_many's answer for all {n:,} keys")

        # ---- aiokafka: send() per record vs send_many
        aio_cases = {
            "send() per record, aiokafka DefaultPartitioner": ("send", broker.create_topic("aio-send")),
            "send() per record, fastpart Partitioner": ("send-fp", broker.create_topic("aio-send-fp")),
            "fastpart.aiokafka.send_many": ("send_many", broker.create_topic("aio-send-many")),
        }
        aio_runs: Dict[str, List[Timing]] = {name: [] for name in aio_cases}

        async def run_aio() -> None:
            for rnd in range(repeat):
                order = list(aio_cases) if rnd % 2 == 0 else list(reversed(aio_cases))
                for name in order:
                    mode, topic = aio_cases[name]
                    timing, parts = await aiokafka_round(broker.bootstrap, topic, mode, records, warmup)
                    aio_runs[name].append(timing)
                    if rnd == 0:
                        check(parts == expected, f"aiokafka, {name}: all {n:,} RecordMetadata partitions "
                                                 "== fastpart.partition_many(keys, 12)")

        asyncio.run(run_aio())
        aio = {name: best_of(runs) for name, runs in aio_runs.items()}

        # ---- on the broker: counts and a read-back sample per topic
        per_topic = repeat * (n + len(warmup))
        for name, (topic, _) in kp_cases.items():
            check_on_broker(broker.bootstrap, topic, per_topic, check, f"kafka-python, {name}")
        for name, (_, topic) in aio_cases.items():
            check_on_broker(broker.bootstrap, topic, per_topic, check, f"aiokafka, {name}")
    finally:
        broker.stop()
    elapsed = time.monotonic() - t_start
    load1 = os.getloadavg()

    # ------------------------------------------------------------------ report
    own, fp = kp["kafka-python DefaultPartitioner"], kp["fastpart DefaultPartitioner"]
    print(f"kafka-python KafkaProducer.send(), {n:,} keyed records")
    rows = []
    for name, t in kp.items():
        rows.append([name, us(t["loop_thread"], n), rate(t["loop_thread"], n), us(t["thread"], n),
                     us(t["process"], n), f"{t['wall']:.2f}", rate(t["wall"], n)])
    print(fmt_table(["partitioner", "send() loop, thread CPU µs/rec", "records/s (thread CPU)",
                     "+ flush, thread CPU µs/rec", "process CPU µs/rec (+ I/O thread)",
                     "wall s (send + flush)", "records/s (wall)"], rows, md))
    print()

    aio_send_own = aio["send() per record, aiokafka DefaultPartitioner"]
    aio_send_fp = aio["send() per record, fastpart Partitioner"]
    print("the partitioner call alone, per record (thread CPU)")
    kp_alone = alone["kafka-python DefaultPartitioner.partition"][0]
    fk_alone = alone["fastpart.kafka_python.DefaultPartitioner.partition"][0]
    rows = []
    for name, (t, _) in alone.items():
        share = ""
        if name.startswith("kafka-python"):
            share = f"{kp_alone / own['loop_thread'] * 100:.0f}% of kafka-python's own send() loop"
        elif name.startswith("fastpart.kafka_python"):
            share = f"{fk_alone / fp['loop_thread'] * 100:.0f}% of the send() loop with it"
        elif name.startswith("aiokafka"):
            share = f"{t / aio_send_own['thread'] * 100:.0f}% of aiokafka's own send() (CPU)"
        else:
            share = f"{t / aio_send_fp['thread'] * 100:.0f}% of send() with it (CPU)"
        rows.append([name, us(t, n), rate(t, n), share])
    print(fmt_table(["call", "µs/call", "calls/s", "share of send()"], rows, md))
    print()

    print(f"aiokafka AIOKafkaProducer, {n:,} keyed records (send loop, gather, flush)")
    rows = []
    for name, t in aio.items():
        rows.append([name, us(t["thread"], n), rate(t["thread"], n), us(t["process"], n),
                     f"{t['wall']:.2f}", rate(t["wall"], n)])
    print(fmt_table(["how", "CPU µs/rec (event-loop thread)", "records/s (CPU)", "process CPU µs/rec",
                     "wall s", "records/s (wall)"], rows, md))
    print()

    a_send = aio["send() per record, aiokafka DefaultPartitioner"]
    a_fp = aio["send() per record, fastpart Partitioner"]
    a_many = aio["fastpart.aiokafka.send_many"]
    saved_alone = (kp_alone - fk_alone) / n * 1e6
    saved_send = (own["loop_thread"] - fp["loop_thread"]) / n * 1e6
    rows = [
        ["kafka-python send() loop, sending-thread CPU: fastpart vs own partitioner",
         times(own["loop_thread"], fp["loop_thread"])],
        ["kafka-python send() + flush, process CPU: fastpart vs own", times(own["process"], fp["process"])],
        ["kafka-python send() + flush, wall: fastpart vs own", times(own["wall"], fp["wall"])],
        ["kafka-python partitioner alone: fastpart vs own", times(kp_alone, fk_alone)],
        ["µs/record fastpart saves in the partitioner call alone", f"{saved_alone:.2f}"],
        ["µs/record fastpart saves in the send() loop (sending-thread CPU)", f"{saved_send:.2f}"],
        ["aiokafka CPU: send_many vs send() per record (aiokafka partitioner)",
         times(a_send["thread"], a_many["thread"])],
        ["aiokafka wall: send_many vs send() per record (aiokafka partitioner)",
         times(a_send["wall"], a_many["wall"])],
        ["aiokafka CPU: send_many vs send() per record (fastpart Partitioner)",
         times(a_fp["thread"], a_many["thread"])],
        ["aiokafka wall: send_many vs send() per record (fastpart Partitioner)",
         times(a_fp["wall"], a_many["wall"])],
        ["aiokafka CPU: send() with fastpart Partitioner vs aiokafka's", times(a_send["thread"], a_fp["thread"])],
        ["aiokafka partitioner alone: fastpart vs own",
         times(alone["aiokafka DefaultPartitioner()(key, all, available)"][0],
               alone["fastpart.aiokafka.Partitioner()(key, all, available)"][0])],
    ]
    print(fmt_table(["ratio (x faster, same run, same broker)", "value"], rows, md))
    print()
    print("checked:")
    for line in check.lines:
        print(f"  - {line}")
    print(f"\nrun took {elapsed:.0f} s; load average {load1[0]:.1f} at the end. Timings are CPU seconds of "
          "this process unless marked wall; the broker JVM runs on the same cores.")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\ninterrupted (a broker started here was stopped)", file=sys.stderr)
        sys.exit(130)
