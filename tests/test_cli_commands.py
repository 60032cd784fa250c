"""The subcommands end to end: answers checked key by key, exit codes, streaming, the report API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from cli_support import pythonpath_first, run_cli, run_sub

import fastpart
import fastpart._core_py as twin
from fastpart.report import CompareAccumulator, ResizeAccumulator

KEYS = [f"key-{i}" for i in range(3000)] + ["", "h\u00e9"]


@pytest.fixture
def core(impl, monkeypatch):
    import fastpart.cli.partition
    import fastpart.report

    monkeypatch.setattr(fastpart.report, "core", impl)
    monkeypatch.setattr(fastpart.cli.partition, "partition_many", impl.partition_many)
    return impl


def test_compare_json_summary_key_by_key(core, capsys):
    strategies = ["java", "librdkafka:consistent_random", "sarama:hash"]
    stdin = ("\n".join(KEYS) + "\n").encode()
    rc, out, _ = run_cli(["compare", "-p", "12", "-s", ",".join(strategies), "--json", "--examples", "5"], stdin, capsys)
    assert rc == 0
    (line,) = out.splitlines()  # one summary object
    d = json.loads(line)
    assert d["type"] == "summary" and d["keys"] == len(KEYS)
    for pair in d["pairs"]:
        a, b = pair["a"], pair["b"]
        pa = [twin.partition(k, 12, strategy=a) for k in KEYS]
        pb = [twin.partition(k, 12, strategy=b) for k in KEYS]
        assert pair["undetermined"] == sum(1 for x, y in zip(pa, pb) if x < 0 or y < 0)
        assert pair["different"] == sum(1 for x, y in zip(pa, pb) if x >= 0 and y >= 0 and x != y)
        assert pair["same"] + pair["different"] + pair["undetermined"] == len(KEYS)
        assert len(pair["differing_keys"]) == 5 and pair["differing_keys_truncated"]
        for ex in pair["differing_keys"]:
            assert KEYS[ex["index"]] == ex["key"]
            assert ex[a] == pa[ex["index"]] and ex[b] == pb[ex["index"]]
    for s in strategies:
        counts = [0] * 12
        for k in KEYS:
            p = twin.partition(k, 12, strategy=s)
            if p >= 0:
                counts[p] += 1
        assert d["load"][s]["max"] == max(counts) and d["load"][s]["total"] == sum(counts)


def test_compare_text_all_and_fail(core, capsys):
    stdin = ("\n".join(KEYS[:300]) + "\n").encode()
    rc, out, _ = run_cli(["compare", "-p", "12", "-s", "java,sarama", "--all"], stdin, capsys)
    assert rc == 0
    streamed = [ln for ln in out.splitlines() if "\tjava=" in ln]
    diff = [k for k in KEYS[:300] if twin.partition(k, 12) != twin.partition(k, 12, strategy="sarama")]
    assert [ln.split("\t")[0] for ln in streamed] == diff
    assert "max/mean" in out and "agree" in out
    rc, _, err = run_cli(["compare", "-p", "12", "-s", "java,sarama", "--fail-if-divergent", "a", "b", "c"], b"",
                         capsys)
    assert rc == 1 and "placed differently" in err
    # java and librdkafka:murmur2 agree on every keyed record (they differ only on null keys)
    rc, out, _ = run_cli(["compare", "-p", "12", "-s", "java,librdkafka:murmur2", "--fail-if-divergent",
                          "--empty-is-null"], b"a\nb\n\n", capsys)
    assert rc == 0 and "100.0%" in out
    rc, out, _ = run_cli(["compare", "-p", "12", "-s", "java,sarama", "--all", "--json", "a", "b", "c"], b"", capsys)
    lines = [json.loads(x) for x in out.splitlines()]
    assert lines[-1]["type"] == "summary" and all(x["type"] == "different" for x in lines[:-1])
    assert len(lines) - 1 == lines[-1]["pairs"][0]["different"]


def test_resize(core, capsys):
    keys = KEYS[:2000]
    stdin = ("\n".join(keys) + "\n").encode()
    rc, out, _ = run_cli(["resize", "--from", "12", "--to", "24", "--json"], stdin, capsys)
    d = json.loads(out)
    moved = sum(1 for k in keys if twin.partition(k, 12) != twin.partition(k, 24))
    assert rc == 0 and d["moved"] == moved and d["stayed"] == len(keys) - moved
    for ex in d["moved_keys"]:
        assert (ex["from"], ex["to"]) == (twin.partition(ex["key"], 12), twin.partition(ex["key"], 24))
    share = 100 * moved / len(keys)
    rc, _, err = run_cli(["resize", "--from", "12", "--to", "24", "--fail-if-moved-over", str(share - 1)], stdin,
                         capsys)
    assert rc == 1 and "move (over" in err
    rc, _, _ = run_cli(["resize", "-p", "12", "--to", "24", "--fail-if-moved-over", str(share + 1)], stdin, capsys)
    assert rc == 0
    rc, out, _ = run_cli(["resize", "--from", "12", "--to", "13", "--all", "a", "b", "c"], b"", capsys)
    assert [ln for ln in out.splitlines() if " -> " in ln and "\t" in ln] == [
        f"{k}\t{twin.partition(k, 12)} -> {twin.partition(k, 13)}" for k in "abc"
        if twin.partition(k, 12) != twin.partition(k, 13)]


def test_accumulators_equal_one_shot(core):
    keys = [k.encode() for k in KEYS] + [None]
    acc = CompareAccumulator(7, ["java", "kafkajs:legacy", "kafka-rust"], examples=3)
    for i in range(0, len(keys), 500):
        acc.add(keys[i:i + 500])
    r, one = acc.result(), fastpart.compare(keys, 7, ["java", "kafkajs:legacy", "kafka-rust"])
    for p, q in zip(r.pairs, one.pairs):
        assert (p.same, p.different, p.undetermined) == (q.same, q.different, q.undetermined)
        assert p.examples == q.examples[:3]
    for s in r.strategies:
        assert r.counts(s) == one.counts(s)
    racc = ResizeAccumulator(7, 9, strategy="sarama", examples=2)
    for i in range(0, len(keys), 700):
        racc.add(keys[i:i + 700])
    rr, ro = racc.result(), fastpart.resize_impact(keys, 7, 9, strategy="sarama")
    assert (rr.moved, rr.stayed, rr.undetermined) == (ro.moved, ro.stayed, ro.undetermined)
    assert rr.flows == ro.flows and sum(rr.flows.values()) == rr.moved


def test_compare_takes_arrow_straight(monkeypatch):
    """Arrow input goes to partition_many as it is (no per-key conversion first)."""
    pa = pytest.importorskip("pyarrow")
    import fastpart._inputs

    def boom(*a, **k):
        raise AssertionError("batch_keys must not be called")

    if fastpart.IMPLEMENTATION != "native":
        pytest.skip("the pure twin reads Arrow through _inputs.batch_keys by design")
    monkeypatch.setattr(fastpart._inputs, "batch_keys", boom)
    arr = pa.array(KEYS[:100])
    r = fastpart.compare(arr, 12, ["java", "sarama"])
    assert r.num_keys == 100
    assert all(KEYS[i].encode() == k for i, k, _, _ in r.differing("java", "sarama"))


def test_strategies_and_help(capsys):
    rc, out, _ = run_cli(["strategies", "--json"], b"", capsys)
    data = json.loads(out)
    assert set(data) == set(fastpart.strategies())
    r = run_sub(["--help"])
    assert r.returncode == 0 and b"partition" in r.stdout
    for cmd in ("partition", "compare", "resize"):
        text = run_sub([cmd, "--help"]).stdout.decode()
        assert "--key-type" in text and "--file" in text
    from fastpart.cli import build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "command")
    for name, p in sub.choices.items():  # every option of every subcommand has help text
        for a in p._actions:
            assert a.help, (name, a.option_strings or a.dest)


def test_python_dash_m_and_exit_codes():
    out = run_sub(["partition", "-p", "10", "21"])
    assert out.stdout == b"21\t%d\n" % fastpart.partition(b"21", 10)
    assert run_sub([]).returncode == 2


def _streamed(cmd, first: bytes, rest: bytes):
    """Run ``fastpart *cmd*``, write *first* to its standard input and keep it open: return
    (the first output line, whether it came before *rest* was written, the rest of the
    output, the exit code).  *rest* is written once the first line is in, or after 30 s."""
    import threading

    p = subprocess.Popen([sys.executable, "-m", "fastpart", *cmd], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    go_on, rest_written = threading.Event(), threading.Event()

    def feed():
        assert p.stdin is not None
        p.stdin.write(first)
        p.stdin.flush()
        go_on.wait(30)
        rest_written.set()
        p.stdin.write(rest)
        p.stdin.close()

    threading.Thread(target=feed, daemon=True).start()
    try:
        assert p.stdout is not None
        line = p.stdout.readline()
        early = not rest_written.is_set()
        go_on.set()
        return line, early, p.stdout.read(), p.wait(60)
    finally:
        go_on.set()
        p.kill()
        p.wait()


def test_pipe_filter_flushes_per_chunk():
    """`... | fastpart partition | ...`: output for the first keys arrives while the input is still open."""
    first, early, rest, rc = _streamed(["partition", "-p", "12"], b"".join(b"k%d\n" % i for i in range(5000)),
                                       b"".join(b"k%d\n" % i for i in range(5000, 200000)))
    assert first == b"k0\t%d\n" % fastpart.partition(b"k0", 12)
    assert early, "nothing was written before the input ended"
    assert rest.count(b"\n") == 199999
    assert rest.endswith(b"k199999\t%d\n" % fastpart.partition(b"k199999", 12))
    assert rc == 0


@pytest.mark.parametrize("cmd", [["compare", "-p", "12", "-s", "java,sarama", "--all"],
                                 ["resize", "--from", "12", "--to", "13", "--all"]], ids=["compare", "resize"])
def test_all_streams_found_keys_while_the_input_is_open(cmd):
    """`--all` lists each divergent/moved key as its batch is done, not at the end."""
    first, early, _, rc = _streamed(cmd, b"".join(b"k%d\n" % i for i in range(300)),  # < 4 KiB found
                                    b"".join(b"k%d\n" % i for i in range(300, 20000)))
    assert first.startswith(b"k") and b"\t" in first, first
    assert early, "nothing was written before the input ended"
    assert rc in (0, 1)


def test_progress_only_on_a_terminal(tmp_path):
    f = tmp_path / "k.txt"
    f.write_bytes(b"".join(b"k%d\n" % i for i in range(300000)))
    r = run_sub(["compare", "-p", "12", "-s", "java,sarama", "-f", str(f)])
    assert r.returncode == 0 and r.stderr == b""  # piped stderr: no progress bar


def test_progress_on_a_terminal(tmp_path):
    pty = pytest.importorskip("pty")
    pytest.importorskip("tqdm")
    f = tmp_path / "k.txt"
    f.write_bytes(b"".join(b"key-%d\n" % i for i in range(3_000_000)))
    import fcntl
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))  # a 120-column terminal
    p = subprocess.Popen([sys.executable, "-m", "fastpart", "compare", "-p", "12", "-s",
                          "java,sarama,librdkafka,kafka-rust", "-f", str(f)],
                         stdout=subprocess.DEVNULL, stderr=slave,
                         env={**os.environ, "FASTPART_PROGRESS_DELAY": "0"})  # drawn however fast the run
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    p.wait()
    os.close(master)
    text = b"".join(chunks).decode("utf-8", "replace")
    assert p.returncode == 0
    assert "keys/s" in text and "B/" in text, text[-500:]
    r = run_sub(["compare", "-p", "12", "-q", "-s", "java,sarama", "-f", str(f)])
    assert r.stderr == b""


def _rounded(v):
    if isinstance(v, float):
        return float(f"{v:.12g}")
    if isinstance(v, dict):
        return {k: _rounded(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_rounded(x) for x in v]
    return v


def test_reports_without_numpy_or_pyarrow(tmp_path, capsys):
    """Plain-text keys need neither NumPy nor pyarrow nor the compiled core: the pure-Python counting
    gives the same reports as the NumPy path."""
    (tmp_path / "sitecustomize.py").write_text("import sys\nsys.modules['numpy'] = None\nsys.modules['pyarrow'] = None\n")
    stdin = ("\n".join(KEYS[:500]) + "\n\n").encode()
    env = {"FASTPART_NO_EXTENSIONS": "1", "PYTHONPATH": pythonpath_first(tmp_path)}
    for argv in (["compare", "-p", "7", "-s", "java,sarama,librdkafka", "--json", "--examples", "4"],
                 ["resize", "--from", "7", "--to", "9", "--json", "--examples", "4"]):
        r = run_sub(argv, stdin, env=env)
        assert r.returncode == 0, r.stderr
        rc, out, _ = run_cli(argv, stdin, capsys)
        # the same figures; floats (e.g. a CV) may differ in the last bits between NumPy and plain Python
        assert rc == 0 and _rounded(json.loads(r.stdout)) == _rounded(json.loads(out))
