# pyright: strict
"""Wrong calls: each line marked as an expected error must be one for mypy --strict
and pyright --strict (tests/test_typing.py checks both, line by line)."""

from __future__ import annotations

import uuid

import fastpart
from fastpart import serde

fastpart.partition(42, 12)  # expect-error: an int is not a key
fastpart.partition(4.2, 12)  # expect-error: a float is not a key
fastpart.partition(uuid.uuid4(), 12)  # expect-error: a UUID is not a key
fastpart.partition(b"k", "12")  # expect-error: the count is an int
fastpart.partition(b"k", 12, strategy=3)  # expect-error: strategy is a str
fastpart.partition(key=b"k", num_partitions=12)  # expect-error: positional only
fastpart.murmur2(None)  # expect-error: None has no bytes
fastpart.partition_many([1, 2, 3], 12)  # expect-error: ints are not keys
fastpart.partition_many([b"a"], 12, out=[0])  # expect-error: out is a buffer
fastpart.partition_many([b"a"], 12).decode()  # expect-error: an array('i'), not bytes
serde.int32("42")  # expect-error: serde.int32 takes integers
