"""The command line and the compatibility report."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest

import fastpart
from fastpart.cli import main


def run(argv, stdin=b""):
    out = io.StringIO()
    rc = main(argv, stdout=out, stdin=io.BytesIO(stdin))
    return rc, out.getvalue()


def test_partition_args():
    word = "h\u00e9"
    rc, out = run(["partition", "--partitions", "12", "order-1", word, ""])
    assert rc == 0
    lines = out.splitlines()
    assert lines == ["order-1\t%d" % fastpart.partition("order-1", 12), word + "\t%d" % fastpart.partition(word, 12),
                     "\t%d" % fastpart.partition(b"", 12)]


def test_partition_stdin_and_strategy():
    rc, out = run(["partition", "-p", "7", "--strategy", "librdkafka"], stdin=b"a\r\nb\n\n\xff\xfe\n")
    assert rc == 0
    parts = [int(l.rsplit("\t", 1)[1]) for l in out.splitlines()]
    assert parts == [fastpart.partition(k, 7, strategy="librdkafka") for k in (b"a", b"b", b"", b"\xff\xfe")]


def test_partition_hex_and_json():
    rc, out = run(["partition", "-p", "5", "--hex", "--json", "00ff", "0A0B"])
    assert rc == 0
    data = json.loads(out)
    assert data["records"] == [{"key": "00ff", "partition": fastpart.partition(b"\x00\xff", 5)},
                               {"key": "0a0b", "partition": fastpart.partition(b"\x0a\x0b", 5)}]


def test_partition_file(tmp_path):
    f = tmp_path / "keys.txt"
    f.write_bytes(b"x\ny\n")
    rc, out = run(["partition", "-p", "3", "--file", str(f)])
    assert rc == 0 and len(out.splitlines()) == 2


@pytest.mark.parametrize("argv,msg", [
    (["partition", "-p", "0", "a"], "must be from 1"),
    (["partition", "-p", "2147483648", "a"], "must be from 1"),
    (["partition", "-p", "x", "a"], "not an integer"),
    (["partition", "-p", "3", "--strategy", "nope", "a"], "unknown strategy"),
    (["compare", "-p", "3", "-s", "java", "a"], "at least two"),
])
def test_bad_arguments(argv, msg, capsys):
    with pytest.raises(SystemExit) as e:
        run(argv)
    assert e.value.code == 2
    assert msg in capsys.readouterr().err


def test_bad_hex_and_missing_file(capsys, tmp_path):
    rc, _ = run(["partition", "-p", "3", "--hex", "zz"])
    assert rc == 2 and "not hex" in capsys.readouterr().err
    rc, _ = run(["partition", "-p", "3", "--file", str(tmp_path / "missing")])
    assert rc == 2 and "cannot read" in capsys.readouterr().err


def test_compare_cli():
    keys = [f"key-{i}" for i in range(200)]
    rc, out = run(["compare", "-p", "12", "-s", "java,librdkafka,sarama:murmur2", *keys])
    assert rc == 0
    assert "java        sarama:murmur2  200   0" in out.replace("librdkafka    ", "librdkafka    ")
    rc, out = run(["compare", "-p", "12", "-s", "java,librdkafka", "--json", "--limit", "3", *keys])
    data = json.loads(out)
    pair = data["pairs"][0]
    assert pair["same"] + pair["different"] + pair["undetermined"] == 200
    assert len(pair["differing_keys"]) == 3 and pair["differing_keys_truncated"]
    d = pair["differing_keys"][0]
    assert d["java"] == fastpart.partition(d["key"], 12)
    assert d["librdkafka"] == fastpart.partition(d["key"], 12, strategy="librdkafka")


def test_compare_api():
    keys = [f"k{i}".encode() for i in range(3000)] + [None, b""]
    r = fastpart.compare(keys, 12, ["java", "librdkafka", "java"])
    assert r.strategies == ["java", "librdkafka"]
    p = r.pair("librdkafka", "java")
    assert p.undetermined == 2  # None (both), and b"" (librdkafka leaves it to the client)
    assert p.same + p.different == 3000
    # two unrelated hashes agree on about 1 key in n
    assert 150 < p.same < 350
    for i, key, a, b in r.differing("java", "librdkafka"):
        assert a == fastpart.partition(key, 12) != b == fastpart.partition(key, 12, strategy="librdkafka")
    with pytest.raises(ValueError, match="unknown strategy"):
        fastpart.compare(keys, 12, ["java", "nope"])
    with pytest.raises(TypeError, match="list of names"):
        fastpart.compare(keys, 12, "java")


def test_resize():
    from fastpart.report import resize_impact

    keys = [f"k{i}".encode() for i in range(10000)]
    r = resize_impact(keys, 12, 24)
    # doubling the count moves about half the keys (those whose hash % 24 >= 12)
    assert 4500 < r.moved < 5500
    rc, out = run(["resize", "--from", "12", "--to", "24", *[k.decode() for k in keys[:100]]])
    assert rc == 0 and "12 -> 24" in out


def test_strategies_cli():
    rc, out = run(["strategies", "--json"])
    data = json.loads(out)
    assert set(data) == set(fastpart.strategies())
    assert "confluent-kafka" in data["librdkafka:consistent_random"]["aliases"]


def test_python_dash_m():
    out = subprocess.run([sys.executable, "-m", "fastpart", "partition", "-p", "10", "21"],
                         capture_output=True, text=True, check=True)
    assert out.stdout == "21\t%d\n" % fastpart.partition(b"21", 10)
    assert subprocess.run([sys.executable, "-m", "fastpart"], capture_output=True).returncode == 2


def test_compare_plot(tmp_path, capsys):
    pytest.importorskip("matplotlib", reason="plotting is the optional fastpart[plot] extra")
    out = tmp_path / "chart.png"
    rc, _ = run(["compare", "-p", "12", "-s", "java,librdkafka,sarama", "--plot", str(out),
                 *[f"key-{i}" for i in range(500)]])
    assert rc == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    r = fastpart.compare([f"key-{i}" for i in range(500)], 12, ["java", "librdkafka"])
    assert sum(r.counts("java")) == 500
    with pytest.raises(ValueError, match="at most 4096"):
        fastpart.compare([b"a", b"b"], 10000, ["java", "sarama"]).plot(str(tmp_path / "x.png"))
