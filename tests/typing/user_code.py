# pyright: strict
"""A user's file: every public core function called as documented.

``mypy --strict`` and ``pyright --strict`` must accept it with no error
(tests/test_typing.py runs both); ``assert_type`` pins what they infer.
"""

from __future__ import annotations

import array
import enum
import sys
from typing import Dict, List, Optional, Union

import numpy as np
import numpy.typing as npt
from typing_extensions import assert_type

import fastpart
from fastpart import serde


class Client(str, enum.Enum):
    JAVA = "java"
    RDKAFKA = "librdkafka"


def one_key() -> None:
    assert_type(fastpart.partition(b"order-1001", 12), int)
    assert_type(fastpart.partition("order-1001", 12, strategy="librdkafka"), int)
    assert_type(fastpart.partition(None, 12, strategy="librdkafka:murmur2"), int)
    assert_type(fastpart.partition(bytearray(b"k"), 12), int)
    assert_type(fastpart.partition(memoryview(b"k"), np.int64(12)), int)
    assert_type(fastpart.partition(np.zeros(4, dtype=np.uint8), 12), int)
    assert_type(fastpart.partition(serde.int64(42), 12), int)
    name: fastpart.StrategyName = "sarama"
    assert_type(fastpart.partition(b"k", 12, strategy=name), int)
    any_name: str = sys.argv[0]
    assert_type(fastpart.partition(b"k", 12, strategy=any_name), int)  # any str is accepted
    assert_type(fastpart.partition(b"k", 12, strategy=Client.JAVA), int)


def hashes() -> None:
    assert_type(fastpart.murmur2(b"21"), int)
    assert_type(fastpart.kafkajs_murmur2("k"), int)
    assert_type(fastpart.crc32(bytearray(b"k")), int)
    assert_type(fastpart.fnv1a(memoryview(b"k")), int)
    assert_type(fastpart.xxh32(b"k"), int)
    assert_type(fastpart.to_positive(-973932308), int)


def _int32_out(count: int) -> npt.NDArray[np.int32]:
    return np.empty(count, dtype=np.int32)


def batches() -> None:
    keys: List[Optional[Union[bytes, str]]] = [b"a", "b", None]
    assert_type(fastpart.partition_many(keys, 12), "array.array[int]")
    assert_type(fastpart.partition_many((b"a", b"b"), 12, strategy="sarama"), "array.array[int]")
    assert_type(fastpart.partition_many(np.array([b"a", b"bc"]), 12), "array.array[int]")
    assert_type(fastpart.partition_many(serde.int32(np.arange(3)), 12), "array.array[int]")
    out_np = _int32_out(3)  # declared by a return type: pyright does not narrow it to np.empty's shape type
    assert_type(fastpart.partition_many(keys, 12, out=out_np), npt.NDArray[np.int32])
    out_arr: array.array[int] = array.array("i", [0, 0, 0])
    assert_type(fastpart.partition_many(keys, 12, out=out_arr), "array.array[int]")
    g = fastpart.group_by_partition(keys, 12)
    assert_type(g, fastpart.Grouping)
    for partition, indices in g:
        assert_type(partition, int)
        assert_type(indices, "array.array[int]")


def serializers() -> None:
    assert_type(serde.int16(1), bytes)
    assert_type(serde.int32(np.int32(1)), bytes)
    assert_type(serde.int64(2**40), bytes)
    assert_type(serde.float32(1.5), bytes)
    assert_type(serde.float64(np.float64(1.5)), bytes)
    assert_type(serde.uuid("6ba7b810-9dad-11d1-80b4-00c04fd430c8"), bytes)
    assert_type(serde.string("k"), bytes)
    assert_type(serde.int64(np.arange(3)), npt.NDArray[np.uint8])
    assert_type(serde.float64(np.zeros(3)), npt.NDArray[np.uint8])


def strategies() -> None:
    table: Dict[str, fastpart.Strategy] = fastpart.strategies()
    assert_type(table["java"].clients, "tuple[str, ...]")
    assert_type(fastpart.IMPLEMENTATION, str)


one_key()
hashes()
batches()
serializers()
strategies()
