"""fastpart.skew and ``fastpart skew``: load per partition, hot keys, recommendation, charts."""

from __future__ import annotations

import io
import json
from collections import Counter
from pathlib import Path

import pytest

np = pytest.importorskip("numpy")

import fastpart  # noqa: E402
import fastpart.cli  # noqa: E402
from fastpart.skew import SkewAccumulator  # noqa: E402


def zipf_keys(count: int = 200_000, a: float = 1.3, seed: int = 7):
    ids = np.random.default_rng(seed).zipf(a, count)
    return [f"customer-{i}".encode() for i in ids]


def test_zipf_sample_hot_keys_pin_partitions() -> None:
    keys = zipf_keys()
    r = fastpart.skew(keys, [12, 24, 48], strategies=["java", "confluent-kafka"], top=5)
    truth = Counter(keys).most_common(5)
    assert [(h.key, h.records) for h in r.hot_keys] == truth
    assert r.hot_keys[0].share == pytest.approx(truth[0][1] / len(keys))
    for load in r.loads:
        counts = np.bincount(np.frombuffer(fastpart.partition_many(keys, load.num_partitions,
                                                                   strategy=load.strategy), np.int32),
                             minlength=load.num_partitions)
        assert list(load.records) == list(counts.astype(float))
        assert load.max_over_mean == pytest.approx(counts.max() / counts.mean())
        assert load.cv == pytest.approx(counts.std() / counts.mean())
        for h in load.hot_keys:  # the partition each hot key pins
            assert h.partition == fastpart.partition(h.key, load.num_partitions, strategy=load.strategy)
        # the hottest key's partition is the hottest partition (it alone is a quarter of the traffic)
        assert load.hot_keys[0].partition == load.hottest_partition
    # customer-1 has ~25% of records: above 1.5/12, so no count (>= 12) fixes it
    assert [h.key for h in r.unfixable] == [b"customer-1"]
    assert "no partition count fixes these hot keys: 'customer-1'" in r.recommendation
    assert "no candidate count keeps max/mean under 1.5 for java" in r.recommendation
    text = r.summary()
    assert "customer-1" in text and "java@12->" in text


def test_uniform_keys_recommend_the_smallest_count() -> None:
    keys = [f"u{i}".encode() for i in range(100_000)]
    r = fastpart.skew(keys, [48, 12, 24], max_over_mean=1.2)
    assert [x.num_partitions for x in r.loads] == [12, 24, 48]
    assert r.unfixable == () and r.distinct_keys == 100_000 and r.distinct_exact
    assert r.recommendation.startswith("java: 12 partitions keep max/mean at 1.0")


def test_bytes_and_keyless() -> None:
    keys = [b"a", b"b", b"a", None, None]
    sizes = [100, 10, 100, 50, 50]
    r = fastpart.skew(keys, [3], value_sizes=sizes)
    load = r.load("java", 3)
    pa, pb = fastpart.partition(b"a", 3), fastpart.partition(b"b", 3)
    expect = [100 / 3] * 3  # keyless bytes spread evenly by the client
    expect[pa] += 200
    expect[pb] += 10
    assert load.bytes == pytest.approx(tuple(expect))
    assert sum(load.records) == pytest.approx(5) and r.keyless == 2
    assert r.hot_keys[0].key == b"a" and r.hot_keys[0].share == pytest.approx(2 / 3)


def test_chunks_match_one_shot_and_pruning_keeps_hot_keys() -> None:
    keys = zipf_keys(120_000, a=1.1, seed=3)
    whole = fastpart.skew(keys, [16], top=8)
    acc = SkewAccumulator([16], top=8)
    for i in range(0, len(keys), 5000):
        acc.add(keys[i:i + 5000])
    assert acc.result() == whole
    import importlib

    sk = importlib.import_module("fastpart.skew")  # the module (fastpart.skew is the function)

    old = sk._TRACK
    sk._TRACK = 500  # force pruning of rare keys
    try:
        acc = SkewAccumulator([16], top=8)
        for i in range(0, len(keys), 5000):
            acc.add(keys[i:i + 5000])
        pruned = acc.result()
    finally:
        sk._TRACK = old
    assert not pruned.distinct_exact and pruned.hot_keys == whole.hot_keys
    assert pruned.loads == whole.loads


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="at least one candidate"):
        fastpart.skew([b"a"], [])
    with pytest.raises(ValueError, match="above 1"):
        fastpart.skew([b"a"], [3], max_over_mean=1.0)
    with pytest.raises(ValueError, match="num_partitions"):
        fastpart.skew([b"a"], [0])
    with pytest.raises(ValueError, match="one per key"):
        fastpart.skew([b"a"], [3], value_sizes=[1, 2])
    with pytest.raises(TypeError, match="fastpart.serde"):
        fastpart.skew([5], [3])
    with pytest.raises(KeyError, match="no load"):
        fastpart.skew([b"a"], [3]).load("java", 4)


@pytest.mark.parametrize("n", [3, 12, 1000])
def test_plot_renders(tmp_path: Path, n: int) -> None:
    pytest.importorskip("matplotlib")
    r = fastpart.skew(zipf_keys(50_000), [n])
    png = tmp_path / f"skew{n}.png"
    assert r.plot(str(png)) == str(png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    svg = tmp_path / "skew.svg"
    r.plot(str(svg))
    assert b"<svg" in svg.read_bytes()[:500]
    with pytest.raises(ValueError, match="does not exist"):
        r.plot(str(tmp_path / "missing" / "x.png"))


def cli(*argv: str) -> "tuple[int, str]":
    out = io.StringIO()
    try:
        return fastpart.cli.main(list(argv), stdout=out), out.getvalue()
    except SystemExit as e:  # argparse rejects an option value: exit 2, a usage line
        return int(e.code or 0), out.getvalue()


def test_cli_skew_csv_with_sizes_and_plot(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    keys = zipf_keys(20_000)
    path = tmp_path / "traffic.csv"
    path.write_text("key,size\n" + "".join(f"{k.decode()},{100 + i % 7}\n" for i, k in enumerate(keys)))
    chart = tmp_path / "skew.png"
    rc, out = cli("skew", "--partitions", "12,24", "--file", str(path), "--value-size-column", "size",
                  "--plot", str(chart), "--json", "-q")
    assert rc == 0 and chart.exists()
    r = json.loads(out)
    assert r["type"] == "summary" and [x["num_partitions"] for x in r["loads"]] == [12, 24]
    assert r["hot_keys"][0]["key"] == "customer-1" and r["loads"][0]["bytes_max_over_mean"] > 1
    rc, text = cli("skew", "-p", "12", "--file", str(path))
    assert rc == 0 and "max/mean" in text and "customer-1" in text


def test_cli_skew_errors(tmp_path: Path, capsys) -> None:
    path = tmp_path / "k.txt"
    path.write_text("a\nb\n")
    assert cli("skew", "--file", str(path))[0] == 2
    assert cli("skew", "-p", "12,x", "--file", str(path))[0] == 2
    assert cli("skew", "-p", "12", "--max-over-mean", "1", "--file", str(path))[0] == 2
    assert cli("skew", "-p", "12", "--plot", str(tmp_path / "no" / "x.png"), "--file", str(path))[0] == 2
    assert cli("skew", "-p", "12", "--sample", "5", "--file", str(path))[0] == 2
    empty = tmp_path / "e.txt"
    empty.write_text("")
    assert cli("skew", "-p", "12", "--file", str(empty))[0] == 2
    assert "Traceback" not in capsys.readouterr().err
