"""Every input the command line reads: formats, compression, columns, key encodings and types, nulls.

Each test writes real files, runs ``fastpart partition`` on them (on both cores) and checks every
partition against the pure twin's ``partition()`` of the key bytes the Java serializer writes.
"""

from __future__ import annotations

import base64
import bz2
import gzip
import json
import lzma
import uuid

import pytest

from cli_support import partitions_of, run_cli

import fastpart._core_py as twin
from fastpart import serde

N = 12
KEYS = ["order-1001", "h\u00e9llo", "", "comma,key", 'quote"key', "\u65e5\u672c", "customer-42"] + \
    [f"k{i}" for i in range(200)]


def expect(keys, n=N, strategy="java"):
    return [twin.partition(k, n, strategy=strategy) for k in keys]


@pytest.fixture
def core(impl, monkeypatch):
    """Run the CLI on the core under test (native or pure twin)."""
    import fastpart.cli.partition
    import fastpart.report

    monkeypatch.setattr(fastpart.report, "core", impl)
    monkeypatch.setattr(fastpart.cli.partition, "partition_many", impl.partition_many)
    return impl


def part(args, capsys, stdin=b""):
    rc, out, err = run_cli(["partition", "-p", str(N), *args], stdin, capsys)
    assert rc == 0, err
    return out


def test_lines_bom_crlf_stdin(core, capsys, tmp_path):
    data = "\ufeff" + "\r\n".join(KEYS) + "\r\n"
    f = tmp_path / "keys.txt"
    f.write_bytes(data.encode("utf-8"))  # write_text(newline="") is Python 3.10+
    assert partitions_of(part(["--file", str(f)], capsys)) == expect(KEYS)
    assert partitions_of(part(["--file", "-"], capsys, data.encode())) == expect(KEYS)
    assert partitions_of(part([], capsys, data.encode())) == expect(KEYS)  # no --file: stdin
    # the BOM is not part of the first key ("a" -> 4, "\ufeffa" elsewhere)
    assert partitions_of(part([], capsys, b"\xef\xbb\xbfa\n")) == [twin.partition(b"a", N)]


def test_several_files_in_order(core, capsys, tmp_path):
    (tmp_path / "a.txt").write_text("x\ny\n")
    (tmp_path / "b.txt").write_text("z\n")
    out = part(["-f", str(tmp_path / "a.txt"), "-f", str(tmp_path / "b.txt")], capsys)
    assert out.splitlines() == [f"{k}\t{p}" for k, p in zip("xyz", expect(["x", "y", "z"]))]


@pytest.mark.parametrize("ext,opener", [(".gz", gzip.open), (".bz2", bz2.open), (".xz", lzma.open), (".zst", None)])
@pytest.mark.parametrize("named", [True, False])
def test_compressed(core, capsys, tmp_path, ext, opener, named):
    raw = ("\n".join(KEYS) + "\n").encode()
    if opener is None:
        zstandard = pytest.importorskip("zstandard", reason="zstd is read with zstandard (fastpart[cli])")
        blob = zstandard.ZstdCompressor().compress(raw)
    else:
        f0 = tmp_path / ("x" + ext)
        with opener(f0, "wb") as w:
            w.write(raw)
        blob = f0.read_bytes()
    f = tmp_path / (("keys.txt" + ext) if named else "keys")  # no extension: found by magic bytes
    f.write_bytes(blob)
    assert partitions_of(part(["--file", str(f)], capsys)) == expect(KEYS)
    assert partitions_of(part(["--file", "-"], capsys, blob)) == expect(KEYS)


def test_csv_tsv_columns(core, capsys, tmp_path):
    import csv

    pytest.importorskip("pyarrow", reason="--format csv/tsv is read with pyarrow (fastpart[cli])")

    f = tmp_path / "orders.csv"
    with open(f, "w", newline="", encoding="utf-8-sig") as w:  # BOM + CRLF, quoted fields
        cw = csv.writer(w)
        cw.writerow(["id", "customer"])
        cw.writerows([i, k] for i, k in enumerate(KEYS))
    out = part(["--file", str(f), "--column", "customer"], capsys)
    assert partitions_of(out) == expect(KEYS)
    assert out.splitlines()[0] == f"order-1001\t{expect(['order-1001'])[0]}"
    # default column: the first (ids as text)
    assert partitions_of(part(["--file", str(f)], capsys)) == expect([str(i) for i in range(len(KEYS))])
    t = tmp_path / "orders.tsv"
    t.write_text("".join(f"{i}\t{k}\n" for i, k in enumerate(KEYS) if "\"" not in k), encoding="utf-8")
    ks = [k for k in KEYS if "\"" not in k]
    assert partitions_of(part(["--file", str(t), "--no-header", "--column", "1"], capsys)) == expect(ks)


def test_csv_nulls(core, capsys, tmp_path):
    pytest.importorskip("pyarrow", reason="--format csv is read with pyarrow (fastpart[cli])")
    f = tmp_path / "k.csv"
    f.write_text("key\na\n\nNULL\nb\n".replace("\n\n", '\n""\n'))
    assert partitions_of(part(["-f", str(f)], capsys)) == expect(["a", "", "NULL", "b"])
    assert partitions_of(part(["-f", str(f), "--empty-is-null"], capsys)) == expect(["a", None, "NULL", "b"])
    assert partitions_of(part(["-f", str(f), "--null-marker", "NULL"], capsys)) == expect(["a", "", None, "b"])


def test_jsonl_nested_and_nulls(core, capsys, tmp_path):
    f = tmp_path / "events.jsonl"
    rows = [{"id": i, "user": {"name": k}} for i, k in enumerate(KEYS)] + [{"id": -1, "user": {"name": None}}]
    f.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    assert partitions_of(part(["-f", str(f), "--column", "user.name"], capsys)) == expect(KEYS + [None])
    out = part(["-f", str(f), "--column", "id", "--key-type", "int32", "--json"], capsys)
    recs = [json.loads(line) for line in out.splitlines()]
    assert [r["key"] for r in recs] == list(range(len(KEYS))) + [-1]
    assert [r["partition"] for r in recs] == expect([serde.int32(i) for i in range(len(KEYS))] + [serde.int32(-1)])


def _table(pa):
    ids = list(range(len(KEYS)))
    return pa.table({"key": KEYS, "id": pa.array(ids, pa.int64()), "raw": [k.encode() for k in KEYS],
                     "meta": [{"user": k} for k in KEYS],
                     "maybe": pa.array([None if i % 3 == 0 else k for i, k in enumerate(KEYS)]),
                     "u": [str(uuid.UUID(int=i)) for i in ids]})


def test_parquet_columns_and_types(core, capsys, tmp_path):
    pa = pytest.importorskip("pyarrow", reason="Parquet is read with pyarrow (fastpart[cli])")
    import pyarrow.parquet as pq

    f = tmp_path / "orders.parquet"
    pq.write_table(_table(pa), f, row_group_size=50)
    ids = list(range(len(KEYS)))
    assert partitions_of(part(["-f", str(f)], capsys)) == expect(KEYS)
    assert partitions_of(part(["-f", str(f), "-c", "raw"], capsys)) == expect(KEYS)
    assert partitions_of(part(["-f", str(f), "-c", "meta.user"], capsys)) == expect(KEYS)
    maybe = [None if i % 3 == 0 else k for i, k in enumerate(KEYS)]
    assert partitions_of(part(["-f", str(f), "-c", "maybe"], capsys)) == expect(maybe)
    for kt, fn in [("int64", serde.int64), ("int32", serde.int32), ("int16", serde.int16),
                   ("float64", serde.float64)]:
        got = partitions_of(part(["-f", str(f), "-c", "id", "--key-type", kt], capsys))
        assert got == expect([fn(i) for i in ids]), kt
    got = partitions_of(part(["-f", str(f), "-c", "u", "--key-type", "uuid"], capsys))
    assert got == expect([serde.uuid(uuid.UUID(int=i)) for i in ids])
    # no extension: found by the magic bytes; from stdin too
    g = tmp_path / "export"
    g.write_bytes(f.read_bytes())
    assert partitions_of(part(["-f", str(g)], capsys)) == expect(KEYS)
    assert partitions_of(part(["-f", "-", "--format", "parquet"], capsys, f.read_bytes())) == expect(KEYS)


def test_parquet_int_nulls(core, capsys, tmp_path):
    pa = pytest.importorskip("pyarrow", reason="Parquet is read with pyarrow (fastpart[cli])")
    import pyarrow.parquet as pq

    f = tmp_path / "ids.parquet"
    pq.write_table(pa.table({"id": pa.array([1, None, 3], pa.int32())}), f)
    got = partitions_of(part(["-f", str(f), "--key-type", "int32"], capsys))
    assert got == expect([serde.int32(1), None, serde.int32(3)])


@pytest.mark.parametrize("kind", ["file", "stream"])
def test_arrow_ipc(core, capsys, tmp_path, kind):
    pa = pytest.importorskip("pyarrow", reason="Arrow IPC is read with pyarrow (fastpart[cli])")
    import pyarrow.ipc as ipc

    t = _table(pa)
    f = tmp_path / ("keys.arrow" if kind == "file" else "keys.arrows")
    with (ipc.new_file if kind == "file" else ipc.new_stream)(f, t.schema) as w:
        for b in t.to_batches(max_chunksize=40):
            w.write_batch(b)
    assert partitions_of(part(["-f", str(f), "-c", "key"], capsys)) == expect(KEYS)
    assert partitions_of(part(["-f", "-", "--format", "arrow"], capsys, f.read_bytes())) == expect(KEYS)


def test_kcat_dump(core, capsys, tmp_path):
    keys = ["a", "with\ttab", "", "b"]
    f = tmp_path / "dump.kcat"
    f.write_text("".join(f"{k}\t{i % 3}\t{100 + i}\n" for i, k in enumerate(keys)))
    # kcat prints a null key as an empty field: empty = null by default
    assert partitions_of(part(["-f", str(f)], capsys)) == expect(["a", "with\ttab", None, "b"])
    # with kcat -Z nulls print as NULL: then empty is the empty key
    assert partitions_of(part(["-f", str(f), "--null-marker", "NULL"], capsys)) == expect(keys)
    from argparse import Namespace

    from fastpart.cli._readers import iter_batches

    ns = Namespace(keys=[], file=[str(f)], input_format=None, column=None, no_header=False, key_encoding="utf8",
                   key_type="string", empty_is_null=False, null_marker=None, stdin=None)
    (b,) = list(iter_batches(ns, extra_columns=("partition",), optional_columns=("offset", "timestamp")))
    assert b.columns == {"partition": [0, 1, 2, 0], "offset": [100, 101, 102, 103]}
    assert b.key_list() == [b"a", b"with\ttab", None, b"b"]


def test_key_encodings_and_types_from_text(core, capsys):
    raw = [b"\x00\xff", b"", b"\x80abc"]
    hexes = [r.hex() for r in raw]
    assert partitions_of(part(["--key-encoding", "hex", *hexes], capsys)) == expect(raw)
    assert partitions_of(part(["--hex", *[h.upper() for h in hexes if h]], capsys)) == expect([r for r in raw if r])
    b64 = "\n".join(base64.b64encode(r).decode() for r in raw).encode() + b"\n"
    assert partitions_of(part(["--key-encoding", "base64"], capsys, b64)) == expect(raw)
    assert partitions_of(part(["--key-type", "bytes"], capsys, b"\xff\xfe\n")) == expect([b"\xff\xfe"])
    nums = ["0", "-1", "42", "2147483647"]
    for kt, fn in [("int32", serde.int32), ("int64", serde.int64)]:
        assert partitions_of(part(["--key-type", kt, *nums], capsys)) == expect([fn(int(v)) for v in nums])
    assert partitions_of(part(["--key-type", "int16", "-5"], capsys)) == expect([serde.int16(-5)])
    assert partitions_of(part(["--key-type", "float32", "0.1"], capsys)) == expect([serde.float32(0.1)])
    assert partitions_of(part(["--key-type", "float64", "nan"], capsys)) == expect([serde.float64(float("nan"))])
    u = "6BA7B810-9DAD-11D1-80B4-00C04FD430C8"
    assert partitions_of(part(["--key-type", "uuid", u], capsys)) == expect([serde.uuid(u)])


def test_output_formats(core, capsys):
    keys = ["a", "comma,key", "h\u00e9"]
    out = part(["--output-format", "csv", *keys], capsys)
    import csv
    import io

    rows = list(csv.reader(io.StringIO(out)))
    assert rows == [["key", "partition"]] + [[k, str(p)] for k, p in zip(keys, expect(keys))]
    out = part(["--json", *keys], capsys)
    assert [json.loads(line) for line in out.splitlines()] == [
        {"key": k, "partition": p} for k, p in zip(keys, expect(keys))]


def test_pure_twin_without_pyarrow_for_lines(tmp_path):
    """`lines` needs neither pyarrow nor the compiled core: run with both blocked."""
    from cli_support import pythonpath_first, run_sub

    block = tmp_path / "sitecustomize.py"
    block.write_text("import sys\nsys.modules['pyarrow'] = None\n")
    r = run_sub(["partition", "-p", "12", "--file", "-"], b"a\r\nb\n",
                env={"FASTPART_NO_EXTENSIONS": "1", "PYTHONPATH": pythonpath_first(tmp_path)})
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().splitlines() == [f"a\t{twin.partition(b'a', 12)}", f"b\t{twin.partition(b'b', 12)}"]
    r = run_sub(["partition", "-p", "12", "--file", "-", "--format", "csv"], b"k\na\n",
                env={"PYTHONPATH": pythonpath_first(tmp_path)})
    assert r.returncode == 2 and b"needs pyarrow" in r.stderr and b"Traceback" not in r.stderr
