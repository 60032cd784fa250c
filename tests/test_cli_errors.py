"""User errors: exit code 2, one line naming the problem and what to do, never a traceback."""

from __future__ import annotations

import gzip
import os

import pytest

from cli_support import run_cli, run_sub


def err_of(argv, capsys, stdin=b""):
    rc, out, err = run_cli(argv, stdin, capsys)
    assert rc == 2, (rc, out, err)
    assert "Traceback" not in err and err.startswith("fastpart ") and err.count("\n") == 1, err
    return err


def test_missing_file(capsys, tmp_path):
    assert "cannot read" in err_of(["partition", "-p", "3", "-f", str(tmp_path / "nope.txt")], capsys)


def test_binary_in_text(capsys, tmp_path):
    f = tmp_path / "keys.txt"
    f.write_bytes(b"a\nb\x00c\n")
    assert "line 2: a NUL byte" in err_of(["partition", "-p", "3", "-f", str(f)], capsys)
    assert "line 3: not UTF-8" in err_of(["compare", "-p", "3", "-s", "java,sarama"], capsys, b"a\nb\n\xff\xfe\n")


def test_wrong_format_for_content(capsys, tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    f = tmp_path / "keys.csv"  # a Parquet file with a .csv name
    pq.write_table(pa.table({"k": ["a"]}), f)
    assert "looks like Parquet data, not csv: use --format parquet" in err_of(["partition", "-p", "3", "-f", str(f)],
                                                                                capsys)
    z = tmp_path / "keys.zip"
    z.write_bytes(b"PK\x03\x04" + b"\0" * 30)
    assert "zip archive" in err_of(["partition", "-p", "3", "-f", str(z)], capsys)
    g = tmp_path / "keys.txt.gz"
    g.write_bytes(b"\x1f\x8b\x08\x00garbage-not-gzip")
    assert "cannot" in err_of(["partition", "-p", "3", "-f", str(g)], capsys)


def test_gzip_text_read_as_csv_is_decompressed_not_hashed(capsys, tmp_path):
    pytest.importorskip("pyarrow")
    f = tmp_path / "orders.csv.gz"
    with gzip.open(f, "wt") as w:
        w.write("id,key\n1,a\n")
    rc, out, _ = run_cli(["partition", "-p", "12", "-f", str(f), "-c", "key"], b"", capsys)
    assert rc == 0 and out == "a\t4\n"


def test_csv_without_the_column(capsys, tmp_path):
    pytest.importorskip("pyarrow")
    f = tmp_path / "k.csv"
    f.write_text("id,name\n1,a\n")
    e = err_of(["partition", "-p", "3", "-f", str(f), "--column", "key"], capsys)
    assert "no column 'key'" in e and "id, name" in e
    f.write_text("id,name\n1,a,3\n")
    assert "CSV" in err_of(["partition", "-p", "3", "-f", str(f), "-c", "name"], capsys)


def test_json_problems(capsys, tmp_path):
    f = tmp_path / "k.jsonl"
    f.write_text('{"key": 5}\n')
    assert "--key-type" in err_of(["partition", "-p", "3", "-f", str(f)], capsys)
    f.write_text('{"other": "a"}\n')
    assert "no field 'key'" in err_of(["partition", "-p", "3", "-f", str(f)], capsys)
    f.write_text('{"key": "a"}\nnot json\n')
    assert "line 2: not JSON" in err_of(["partition", "-p", "3", "-f", str(f)], capsys)


def test_typed_column_needs_key_type(capsys, tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    f = tmp_path / "ids.parquet"
    pq.write_table(pa.table({"id": [1, 2]}), f)
    assert "--key-type" in err_of(["partition", "-p", "3", "-f", str(f)], capsys)
    pq.write_table(pa.table({"id": [1, 70000]}), f)
    assert "int16" in err_of(["partition", "-p", "3", "-f", str(f), "--key-type", "int16"], capsys)


@pytest.mark.parametrize("argv,stdin,msg", [
    (["partition", "-p", "3", "--hex", "zz"], b"", "is not hex"),
    (["partition", "-p", "3", "--key-type", "int32", "x1"], b"", "not a number"),
    (["partition", "-p", "3", "--key-type", "int16", "70000"], b"", "ShortSerializer"),
    (["partition", "-p", "3", "--key-type", "uuid", "nope"], b"", "not a UUID"),
    (["partition", "-p", "3", "--key-type", "int32", "--hex", "00"], b"", "cannot go with --key-type int32"),
    (["partition", "-p", "3", "-f", "x", "a"], b"", "not both"),
    (["compare", "-p", "3", "-s", "java,sarama"], b"", "no keys in the input"),
    (["resize", "--from", "3", "--to", "6"], b"", "no keys in the input"),
    (["partition", "-p", "3"], b"", "no keys in the input"),
    (["compare", "-p", "3", "-s", "java,kafka-python", "a"], b"", "at least two different strategies"),
    (["compare", "-s", "java,sarama", "a"], b"", "give --partitions N"),
    (["compare", "-s", "java,sarama", "--bootstrap-server", "h:9092", "a"], b"", "needs both"),
    (["partition", "-p", "3", "--topic", "t", "-b", "h:1", "a", "-X", "x=1"], b"", "not both"),
])
def test_usage_errors(argv, stdin, msg, capsys):
    assert msg in err_of(argv, capsys, stdin)


@pytest.mark.parametrize("argv,msg", [
    (["partition", "-p", "0", "a"], "must be from 1"),
    (["partition", "-p", "2147483648", "a"], "must be from 1"),
    (["partition", "-p", "x", "a"], "not an integer"),
    (["partition", "-p", "3", "--strategy", "nope", "a"], "unknown strategy"),
    (["compare", "-p", "3", "--examples", "-1", "a"], "must be 0 or more"),
    (["compare", "-p", "3", "--limit", "-1", "a"], "must be 0 or more"),
    (["resize", "--from", "3", "--to", "6", "--fail-if-moved-over", "120", "a"], "from 0 to 100"),
    (["partition", "-p", "3", "--format", "xml", "a"], "invalid choice"),
])
def test_argparse_errors(argv, msg, capsys):
    with pytest.raises(SystemExit) as e:
        run_cli(argv)
    assert e.value.code == 2
    assert msg in capsys.readouterr().err


def test_plot_paths(capsys, tmp_path):
    pytest.importorskip("matplotlib")
    keys = ["a", "b", "c"]
    e = err_of(["compare", "-p", "3", "-s", "java,sarama", "--plot", str(tmp_path / "no" / "c.png"), *keys], capsys)
    assert "does not exist" in e
    assert "PNG or SVG" in err_of(["compare", "-p", "3", "--plot", str(tmp_path / "c.jpg"), *keys], capsys)
    ro = tmp_path / "ro"
    ro.mkdir()
    os.chmod(ro, 0o500)
    try:
        if not os.access(ro, os.W_OK):  # root can write anywhere
            assert "not writable" in err_of(["resize", "--from", "3", "--to", "4", "--plot", str(ro / "r.png"),
                                             *keys], capsys)
    finally:
        os.chmod(ro, 0o700)


def test_full_disk(capsys):
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full on this system")
    e = err_of(["partition", "-p", "3", "-o", "/dev/full", *[f"k{i}" for i in range(20000)]], capsys)
    assert "cannot write" in e


def test_chart_on_a_full_disk(capsys, tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    import errno

    import matplotlib.figure

    def full(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", full)
    e = err_of(["compare", "-p", "3", "-s", "java,sarama", "--plot", str(tmp_path / "c.svg"), "a"], capsys)
    assert "cannot write the chart" in e and "No space left" in e


def test_no_traceback_in_a_real_process(tmp_path):
    r = run_sub(["compare", "-p", "12", "-f", str(tmp_path / "missing.csv")])
    assert r.returncode == 2 and r.stderr.startswith(b"fastpart compare: error: cannot read") and not r.stdout
    r = run_sub(["partition", "-p", "12", "-f", "-"], b"")
    assert r.returncode == 2 and b"no keys" in r.stderr


def test_unreachable_live_topic(capsys):
    pytest.importorskip("confluent_kafka", reason="live topics need confluent-kafka (fastpart[live])")
    e = err_of(["compare", "-s", "java,sarama", "-b", "127.0.0.1:1", "-t", "orders", "-X", "fastpart.timeout=2",
                "a"], capsys)
    assert "orders" in e and "127.0.0.1:1" in e
