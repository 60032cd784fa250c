"""fastpart.detect and ``fastpart detect``: placements made by each strategy are
named, with the other findings (unexplained, keyless, migration, growth)."""

from __future__ import annotations

import io
import json
import random
from pathlib import Path
from typing import List, Optional

import pytest

np = pytest.importorskip("numpy")

import fastpart  # noqa: E402
import fastpart.cli  # noqa: E402
from fastpart.detect import DetectAccumulator, Detection, report_from_counts  # noqa: E402


def keys_(count: int, seed: int = 1) -> List[Optional[bytes]]:
    rng = random.Random(seed)
    return [f"user-{rng.randrange(10**7)}".encode() for _ in range(count)]


def place(keys, n, strategy="java"):
    return np.frombuffer(fastpart.partition_many(keys, n, strategy=strategy), dtype=np.int32).copy()


def group_of(r: Detection, name: str):
    return next(g for g in r.groups if name in g.strategies)


KEYED = [s.name for s in fastpart.strategies().values() if s.family != "random"]


@pytest.mark.parametrize("strategy", KEYED)
def test_each_strategy_is_named_on_its_own_placements(impl, strategy: str) -> None:
    keys = keys_(3000 if impl.IMPLEMENTATION == "native" else 400)
    parts = impl.partition_many(keys, 24, strategy=strategy)
    r = fastpart.detect(keys, list(parts), 24)
    g = group_of(r, strategy)
    assert g is r.groups[0] and g.share == 1.0 and r.best in g.strategies
    assert r.matches(strategy) and r.conclusive
    assert r.unexplained.count == 0 and r.mixed is None and r.resized == ()
    # the group holds exactly the strategies that give these answers on these keys
    same = {s for s in KEYED if list(impl.partition_many(keys, 24, strategy=s)) == list(parts)}
    assert set(g.strategies) == same
    assert all(c in g.clients for s in g.strategies for c in fastpart.strategies()[s].clients)


def test_client_default_wins_ties_and_the_summary_names_clients() -> None:
    keys = keys_(5000)
    r = fastpart.detect(keys, place(keys, 12), 12)
    assert r.best == "java" and r.groups[0].strategies[0] == "java"
    assert set(r.groups[0].strategies) == {"java", "librdkafka:murmur2", "kafka-go:murmur2-consistent"}
    text = r.summary()
    assert "100.0% of 5,000 keyed records match java = Java kafka-clients" in text
    c = fastpart.detect(keys, place(keys, 12, "confluent-kafka"), 12)
    assert c.best == "librdkafka:consistent_random"
    s = fastpart.detect(keys, place(keys, 12, "sarama"), 12)
    assert s.best == "sarama:hash"


def test_random_strategies_explain_nothing() -> None:
    keys = keys_(2000)
    r = fastpart.detect(keys, place(keys, 6), 6)
    assert dict(r.ranking)["librdkafka:random"] == 0.0
    assert r.ranking[-1] == ("librdkafka:random", 0.0)


def test_ranking_covers_every_strategy_best_first() -> None:
    keys = keys_(1000)
    r = fastpart.detect(keys, place(keys, 12), 12)
    assert {s for s, _ in r.ranking} == set(fastpart.strategies())
    shares = [v for _, v in r.ranking]
    assert shares == sorted(shares, reverse=True)


def test_explicit_partitions_are_unexplained_with_examples() -> None:
    keys = keys_(2000)
    parts = place(keys, 12)
    wrong = [i for i in range(0, 2000, 10)]
    for i in wrong:
        parts[i] = (parts[i] + 5) % 12
    r = fastpart.detect(keys, parts, 12, offsets=np.arange(2000), examples=4)
    assert r.best == "java" and group_of(r, "java").explained == 1800
    # a moved record may match another family by chance; the rest is unexplained
    assert 100 <= r.unexplained.count <= 200
    assert len(r.unexplained.examples) == 4
    for e in r.unexplained.examples:
        i = keys.index(e.key)
        assert i in wrong and e.partition == parts[i] and e.offset == i
    assert not r.matches("java") and r.matches("java", min_share=0.85)


def test_custom_partitioner_is_not_conclusive() -> None:
    keys = keys_(5000)
    rng = np.random.default_rng(3)
    r = fastpart.detect(keys, rng.integers(0, 24, 5000), 24)
    assert not r.conclusive and r.unexplained.share > 0.5
    assert "no strategy explains clearly more than chance" in r.summary()


def test_keyless_single_partition_names_the_null_policy() -> None:
    keys = keys_(500) + [None] * 300
    n = 12
    p_empty = fastpart.partition(b"", n, strategy="librdkafka:murmur2")
    parts = np.concatenate([place(keys[:500], n), np.full(300, p_empty)])
    r = fastpart.detect(keys, parts, n)
    assert r.keyless.count == 300 and r.keyless.pattern == "single partition"
    assert "librdkafka:murmur2" in r.keyless.note
    # null keys on one fixed partition: librdkafka:murmur2 (quixstreams) beats java in the tie
    assert r.best == "librdkafka:murmur2"


def test_keyless_round_robin_and_sticky_from_timestamps() -> None:
    n = 12
    ts = np.arange(1200) // 40  # 40 records per millisecond
    rr = fastpart.detect([None] * 1200, np.arange(1200) % n, n, timestamps=ts)
    assert rr.keyless.pattern == "round-robin-like" and rr.keyless.share == 1.0
    sticky = fastpart.detect([None] * 1200, (np.arange(1200) // 100) % n, n, timestamps=ts)
    assert sticky.keyless.pattern == "sticky runs" and sticky.keyless.mean_run == pytest.approx(100, rel=0.2)
    unknown = fastpart.detect([None] * 1200, np.arange(1200) % n, n)
    assert unknown.keyless.pattern == "spread (order unknown)"
    assert rr.best is None and rr.keyed == 0 and not rr.matches("java")


def test_migration_by_timestamp() -> None:
    keys = keys_(6000)
    parts = np.concatenate([place(keys[:2500], 24, "librdkafka"), place(keys[2500:], 24)])
    ts = 1_700_000_000_000 + np.arange(6000)
    r = fastpart.detect(keys, parts, 24, timestamps=ts)
    assert r.mixed is not None and r.mixed.startswith("migration")
    first, second = r.segments
    assert first.strategies[0] == "librdkafka:consistent_random" and second.strategies[0] == "java"
    assert first.partition is None and first.order == "timestamp"
    # the change point is exact up to records both strategies place alike
    assert abs(second.first - ts[2500]) <= 30 and first.first == ts[0] and second.last == ts[-1]
    assert not r.matches("java")


def test_migration_per_partition_by_offsets() -> None:
    keys = keys_(6000)
    parts = np.concatenate([place(keys[:2000], 12), place(keys[2000:], 12, "sarama")])
    offsets = np.zeros(6000, dtype=np.int64)
    seen: dict = {}
    for i, p in enumerate(parts):
        offsets[i] = seen.get(p, 0)
        seen[p] = offsets[i] + 1
    r = fastpart.detect(keys, parts, 12, offsets=offsets)
    assert r.mixed is not None and r.mixed.startswith("migration")
    assert {s.partition for s in r.segments} == set(range(12))
    for p in range(12):
        segs = [s for s in r.segments if s.partition == p]
        assert [s.strategies[0] for s in segs] == ["java", "sarama:hash"]
        true_change = int(offsets[2000:][parts[2000:] == p].min())
        assert abs(segs[1].first - true_change) <= 10
    assert "changed at partition:offset" in r.summary()


def test_interleaved_producers_and_no_order() -> None:
    keys = keys_(4000)
    java, crc = place(keys, 12), place(keys, 12, "librdkafka")
    mixed = np.where(np.arange(4000) % 2 == 0, java, crc)
    r = fastpart.detect(keys, mixed, 12, offsets=np.arange(4000))
    assert r.mixed is not None and r.mixed.startswith("two strategies interleaved") and r.segments == ()
    r2 = fastpart.detect(keys, mixed, 12)
    assert r2.mixed is not None and "give offsets or timestamps" in r2.mixed


@pytest.mark.parametrize("old, new", [(12, 24), (6, 24), (10, 16)])
def test_partition_count_growth(old: int, new: int) -> None:
    keys = keys_(8000)
    parts = np.concatenate([place(keys[:4000], old), place(keys[4000:], new)])
    r = fastpart.detect(keys, parts, new)
    assert r.best == "java" and [x.from_count for x in r.resized] == [old]
    moved = int(np.count_nonzero(place(keys[:4000], new) != parts[:4000]))
    assert abs(r.resized[0].records - moved) <= 0.15 * moved
    assert r.matches("java") and f"grew from {old} to {new}" in r.summary()


def test_two_growths() -> None:
    keys = keys_(9000)
    parts = np.concatenate([place(keys[:3000], 6), place(keys[3000:6000], 12), place(keys[6000:], 24)])
    r = fastpart.detect(keys, parts, 24)
    assert sorted(x.from_count for x in r.resized) == [6, 12]
    assert r.matches("java", 0.97)


def test_chunks_give_the_one_shot_answer_in_bounded_memory() -> None:
    keys = keys_(20000)
    parts = np.concatenate([place(keys[:8000], 12, "librdkafka"), place(keys[8000:], 12)])
    ts = np.arange(20000)
    whole = fastpart.detect(keys, parts, 12, timestamps=ts)
    acc = DetectAccumulator(12, sample_cap=1000, examples=3)
    for i in range(0, 20000, 777):
        acc.add(keys[i:i + 777], parts[i:i + 777], timestamps=ts[i:i + 777])
    chunked = acc.result()
    assert chunked.ranking == whole.ranking and chunked.groups == whole.groups
    assert chunked.unexplained.count == whole.unexplained.count
    assert acc.keyed_sample.stride > 1 and sum(len(c) for c in acc.keyed_sample.cols[0]) <= 1000
    assert [s.strategies for s in chunked.segments] == [s.strategies for s in whole.segments]
    assert abs(chunked.segments[1].first - 8000) <= 64


def test_numpy_and_arrow_keys() -> None:
    pa = pytest.importorskip("pyarrow")
    keys = keys_(3000)
    parts = place(keys, 12, "sarama")
    parts[:5] = (parts[:5] + 1) % 12
    r_np = fastpart.detect(np.array(keys, dtype="S"), parts, 12)
    r_pa = fastpart.detect(pa.array(keys, pa.binary()), parts, 12)
    r_list = fastpart.detect(keys, parts, 12)
    assert r_np == r_list == r_pa
    assert {e.key for e in r_pa.unexplained.examples} <= set(keys)


def test_bad_input_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="outside 0..11: is the partition count 12 right"):
        fastpart.detect([b"a", b"b"], [3, 12], 12)
    with pytest.raises(ValueError, match="one partition per key"):
        fastpart.detect([b"a", b"b"], [3], 12)
    with pytest.raises(TypeError, match="partitions must be a 1-D sequence of integers"):
        fastpart.detect([b"a"], [1.5], 12)
    with pytest.raises(ValueError, match="one per record"):
        fastpart.detect([b"a"], [1], 12, offsets=[1, 2])
    with pytest.raises(TypeError, match="fastpart.serde"):
        fastpart.detect([1, 2], [1, 2], 12)
    with pytest.raises(ValueError, match="unknown strategy"):
        fastpart.detect([b"a"], [1], 12, strategies=["nope"])
    with pytest.raises(ValueError, match="num_partitions"):
        fastpart.detect([b"a"], [0], 0)
    acc = DetectAccumulator(12)
    acc.add([b"a"], [fastpart.partition(b"a", 12)], offsets=[0])
    with pytest.raises(ValueError, match="same order columns"):
        acc.add([b"b"], [fastpart.partition(b"b", 12)])


def test_report_from_counts_for_aggregations_elsewhere() -> None:
    r = report_from_counts(12, 1000, 100, {"java": 900, "librdkafka:murmur2": 900, "confluent-kafka": 80,
                                           "librdkafka:random": 0},
                           unexplained=0, examples_unexplained=[(b"k", 3)],
                           keyless_partitions=[9] * 4 + [8] * 8)
    assert r.best == "java" and r.groups[0].strategies == ("java", "librdkafka:murmur2")
    assert r.ranking[0] == ("java", 1.0) and r.matches("java")
    assert r.keyless.count == 100 and r.keyless.share == 0.1 and r.keyless.partitions_used == 12
    assert r.unexplained.examples[0].key == b"k"
    json.dumps(r.to_dict())
    with pytest.raises(ValueError, match="inconsistent counts"):
        report_from_counts(12, 10, 2, {"java": 9})


def test_to_dict_is_json() -> None:
    odd = b"\xff\x00"
    taken = {fastpart.partition(odd, 12, strategy=s) for s in fastpart.strategies()}
    keys = keys_(300) + [None, odd]
    parts = list(place(keys[:300], 12)) + [4, min(set(range(12)) - taken)]
    d = fastpart.detect(keys, parts, 12).to_dict()
    text = json.dumps(d)
    assert json.loads(text)["unexplained"]["examples"][0]["key_hex"] == "ff00"
    assert d["best"] == "java" and d["groups"][0]["description"].startswith("java = ")


# --------------------------------------------------------------------------- the command line

def cli(*argv: str) -> "tuple[int, str]":
    out = io.StringIO()
    rc = fastpart.cli.main(list(argv), stdout=out)
    return rc, out.getvalue()


@pytest.fixture()
def kcat_file(tmp_path: Path) -> Path:
    keys = keys_(3000)
    parts = place(keys, 12, "librdkafka")
    path = tmp_path / "orders.kcat"
    with open(path, "w") as f:
        for i, (k, p) in enumerate(zip(keys, parts)):
            f.write(f"{k.decode()}\t{p}\t{i}\n")
        f.write("\t3\t5000\n")  # a null key (kcat prints it as an empty field)
    return path


def test_cli_detect_kcat(kcat_file: Path) -> None:
    rc, out = cli("detect", "-p", "12", "--file", str(kcat_file))
    assert rc == 0
    assert "100.0% of 3,000 keyed records match librdkafka:consistent_random = librdkafka default" in out
    assert "best: librdkafka:consistent_random" in out
    rc, out = cli("detect", "-p", "12", "--file", str(kcat_file), "--json")
    r = json.loads(out)
    assert rc == 0 and r["type"] == "summary" and r["best"] == "librdkafka:consistent_random"
    assert r["keyless"]["count"] == 1 and out.count("\n") == 1
    assert cli("detect", "-p", "12", "--file", str(kcat_file), "--expect", "confluent-kafka", "-q")[0] == 0
    assert cli("detect", "-p", "12", "--file", str(kcat_file), "--expect", "java", "-q")[0] == 1


def test_cli_detect_csv_columns(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow", reason="--format csv is read with pyarrow (fastpart[cli])")
    keys = keys_(1000)
    parts = place(keys, 8, "sarama")
    path = tmp_path / "export.csv"
    path.write_text("customer,p,ts\n" + "".join(f"{k.decode()},{p},{i}\n" for i, (k, p) in
                                                 enumerate(zip(keys, parts))))
    rc, out = cli("detect", "-p", "8", "--file", str(path), "--column", "customer", "--partition-column", "p",
                  "--timestamp-column", "ts", "--json")
    assert rc == 0 and json.loads(out)["best"] == "sarama:hash"


def test_cli_detect_errors(kcat_file: Path, tmp_path: Path, capsys) -> None:
    assert cli("detect", "-p", "5", "--file", str(kcat_file))[0] == 2
    assert "is the partition count 5 right" in capsys.readouterr().err
    assert cli("detect", "--file", str(kcat_file))[0] == 2  # no partition count
    assert cli("detect", "-p", "12", "--sample", "10", "--file", str(kcat_file))[0] == 2
    assert "--sample reads a live topic" in capsys.readouterr().err
    no_part = tmp_path / "keys.csv"
    no_part.write_text("key\na\nb\n")
    assert cli("detect", "-p", "12", "--file", str(no_part))[0] == 2
    empty = tmp_path / "empty.kcat"
    empty.write_text("")
    assert cli("detect", "-p", "12", "--file", str(empty))[0] == 2
    assert cli("detect", "-p", "12", "--file", str(kcat_file), "--min-share", "0")[0] == 2
    assert "Traceback" not in capsys.readouterr().err


def test_cli_detect_unreachable_cluster_is_exit_2(capsys) -> None:
    pytest.importorskip("confluent_kafka")
    rc, _ = cli("detect", "-b", "127.0.0.1:1", "-t", "orders", "-X", "fastpart.timeout=1", "-q")
    assert rc == 2
    err = capsys.readouterr().err
    assert "could not read the metadata of topic 'orders'" in err and "Traceback" not in err


def test_counts_equal_a_per_key_check_with_empty_and_null_keys(impl) -> None:
    """Hashing once per family and patching empty keys gives every strategy's exact count."""
    names = list(fastpart.strategies())
    n = 7
    keys = keys_(700) + [b""] * 60 + [None] * 40
    rng = random.Random(5)
    rng.shuffle(keys)
    obs = []
    for i, k in enumerate(keys):
        p = impl.partition(k, n, strategy=names[i % len(names)])
        obs.append(p if p >= 0 else rng.randrange(n))
    r = fastpart.detect(keys, obs, n)
    for s, share in r.ranking:
        want = sum(1 for k, p in zip(keys, obs) if k is not None and impl.partition(k, n, strategy=s) == p)
        assert round(share * r.keyed) == want, s
    assert r.keyed == 760


def test_cli_json_keys_follow_key_encoding(tmp_path: Path) -> None:
    odd = b"\xff\x00k"
    taken = {fastpart.partition(odd, 4, strategy=s) for s in fastpart.strategies()}
    path = tmp_path / "d.kcat"
    path.write_text(f"{odd.hex()}\t{min(set(range(4)) - taken)}\t0\n", encoding="ascii")
    rc, out = cli("detect", "-p", "4", "--file", str(path), "--hex", "--json")
    ex = json.loads(out)["unexplained"]["examples"]
    assert rc == 0 and ex[0]["key"] == "ff006b" and ex[0]["key_hex"] == "ff006b"


def test_keyless_pattern_from_offsets_in_a_mixed_topic() -> None:
    """kcat dumps have offsets, not timestamps: runs of consecutive keyless offsets mean sticky batches."""
    n = 6
    rng = random.Random(2)
    keys: List[Optional[bytes]] = []
    for i in range(6000):
        keys.append(None if rng.random() < 0.2 else b"k%d" % rng.randrange(10**6))

    def offsets_of(parts):
        seen: dict = {}
        out = []
        for p in parts:
            out.append(seen.get(p, 0))
            seen[p] = out[-1] + 1
        return out

    java = list(fastpart.partition_many(keys, n))
    rr, sticky = [], []
    k = 0
    for i, key in enumerate(keys):
        if key is None:
            rr.append(k % n)
            k += 1
            sticky.append((i // 500) % n)  # one partition per 500 records, as a sticky batch
        else:
            rr.append(java[i])
            sticky.append(java[i])
    r1 = fastpart.detect(keys, rr, n, offsets=offsets_of(rr))
    r2 = fastpart.detect(keys, sticky, n, offsets=offsets_of(sticky))
    assert r1.keyless.pattern == "round-robin-like" and r1.best == "java"
    assert r2.keyless.pattern == "sticky runs" and r2.keyless.mean_run > 1.5
    only = fastpart.detect([None] * 100, [i % n for i in range(100)], n, offsets=[i // n for i in range(100)])
    assert only.keyless.pattern == "spread (order unknown)" and "offsets alone" in only.keyless.note


def test_cli_live_bad_timeout_is_exit_2(capsys) -> None:
    pytest.importorskip("confluent_kafka")
    assert cli("detect", "-b", "127.0.0.1:1", "-t", "t", "-X", "fastpart.timeout=0")[0] == 2
    assert cli("detect", "-b", "127.0.0.1:1", "-t", "t", "-X", "fastpart.timeout=x", "--file", "-")[0] == 2
    assert "Traceback" not in capsys.readouterr().err
