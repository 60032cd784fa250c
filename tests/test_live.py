"""fastpart.live without a cluster: -X parsing, the sampling plan, clear errors.
(Reading real topics is proven in tests/test_broker_detect.py.)"""

from __future__ import annotations

import sys
import time

import pytest

import fastpart.live as live


def test_parse_config_like_kcat() -> None:
    assert live.parse_config(["security.protocol=SASL_SSL", "sasl.password=a=b"]) == {
        "security.protocol": "SASL_SSL", "sasl.password": "a=b"}
    for bad in ("novalue", "=x"):
        with pytest.raises(ValueError, match="expected key=value"):
            live.parse_config([bad])


@pytest.mark.parametrize("marks, n, expect", [
    ({0: (0, 100), 1: (0, 100)}, 10, {0: 95, 1: 95}),
    ({0: (0, 100), 1: (0, 3), 2: (5, 5)}, 20, {0: 83, 1: 0}),   # a short partition leaves its share to others
    ({0: (10, 12), 1: (0, 1)}, 1000, {0: 10, 1: 0}),          # fewer records than asked: all of them
    ({0: (0, 0)}, 10, {}),                                      # an empty topic: nothing to read
])
def test_plan_spreads_over_partitions_from_the_latest_offsets(marks, n, expect) -> None:
    plan = live._plan(marks, n)
    assert plan == expect
    assert sum(marks[p][1] - off for p, off in plan.items()) == min(n, sum(h - lo for lo, h in marks.values()))


def test_unreachable_cluster_is_a_live_error_quickly() -> None:
    pytest.importorskip("confluent_kafka")
    t = time.monotonic()
    with pytest.raises(live.LiveError, match="could not read the metadata of topic 'orders'"):
        live.partition_count("127.0.0.1:1", "orders", {"fastpart.timeout": "1"})
    with pytest.raises(live.LiveError):
        live.sample("127.0.0.1:1", "orders", {"fastpart.timeout": "1"}, n=10, time_limit=5)
    assert time.monotonic() - t < 15


def test_bad_arguments() -> None:
    pytest.importorskip("confluent_kafka", reason="fastpart.live reads topics with confluent-kafka (fastpart[confluent])")
    with pytest.raises(ValueError, match="bootstrap server"):
        live.partition_count("", "orders", {})
    with pytest.raises(ValueError, match="at least 1"):
        live.sample("127.0.0.1:1", "orders", {}, n=0)
    with pytest.raises(ValueError, match="time limit"):
        live.sample("127.0.0.1:1", "orders", {}, n=5, time_limit=0)


def test_missing_client_library_says_what_to_install(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "confluent_kafka", None)
    with pytest.raises(ImportError, match=r"pip install 'fastpart\[live\]'"):
        live.partition_count("127.0.0.1:9092", "orders", {})


def test_bad_timeout_is_a_clear_error() -> None:
    pytest.importorskip("confluent_kafka")
    with pytest.raises(ValueError, match="fastpart.timeout=soon"):
        live.partition_count("127.0.0.1:1", "orders", {"fastpart.timeout": "soon"})
