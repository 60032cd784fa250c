"""Pure-Python twin of the compiled core: the executable specification.

Every function here gives exactly the same answers, and raises the same
errors, as ``fastpart/_core.pyx``.  It is used when the extension cannot be
loaded (no compiler, another interpreter than CPython, or
``FASTPART_NO_EXTENSIONS=1``) and the whole test suite runs against both.

Example:
    >>> from fastpart import _core_py
    >>> _core_py.murmur2(b"kafka") == 0xd067cf64 - 2**32
    True
    >>> _core_py.partition(b"21", 10)
    0
"""

from __future__ import annotations

import array
import struct
from typing import TYPE_CHECKING, Any, List, Optional, SupportsIndex, overload

from . import _inputs
from ._inputs import check_partitions
from ._typing import Batch, HashKey, KeyLike, OutT, StrategyArg
from ._strategies import (
    EMPTY_UNSET,
    EMPTY_ZERO,
    H_CRC32,
    H_FNV1A_ABS,
    H_FNV1A_MASK,
    H_FNV1A_U32,
    H_KAFKAJS,
    H_MURMUR2,
    H_XXH32,
    NULL_AS_EMPTY,
    NULL_ZERO,
    strategy_code,
)

if TYPE_CHECKING:
    from ._grouping import Grouping

IMPLEMENTATION = "python"

_MASK = 0xFFFFFFFF
_M = 0x5BD1E995
_SEED = 0x9747B28C
_unpack_blocks = struct.Struct("<I").iter_unpack


# --------------------------------------------------------------------- hashes

def _murmur2_u32(data: bytes) -> int:
    length = len(data)
    h = (_SEED ^ length) & _MASK
    nblocks4 = length & ~3
    if nblocks4:
        for (k,) in _unpack_blocks(memoryview(data)[:nblocks4]):
            k = (k * _M) & _MASK
            k ^= k >> 24
            h = ((h * _M) & _MASK) ^ ((k * _M) & _MASK)
    rem = length & 3
    if rem:
        if rem == 3:
            h ^= data[nblocks4 + 2] << 16
        if rem >= 2:
            h ^= data[nblocks4 + 1] << 8
        h ^= data[nblocks4]
        h = (h * _M) & _MASK
    h ^= h >> 13
    h = (h * _M) & _MASK
    h ^= h >> 15
    return h


def _js_u32(x: float) -> int:
    """JavaScript ToUint32 of an integral float64."""
    return int(x) & _MASK


def _js_i32(x: float) -> int:
    """JavaScript ToInt32 of an integral float64."""
    v = int(x) & _MASK
    return v - 0x100000000 if v & 0x80000000 else v


def _kafkajs_murmur2_u32(data: bytes) -> int:
    # kafkajs 1.x murmur2: float64 multiplies and a ceil(len/4) block loop.
    length = len(data)
    M = float(_M)
    h = float(_js_i32(float(_SEED ^ length)))
    for i in range((length + 3) >> 2):
        b = [data[j] if j < length else 0 for j in range(4 * i, 4 * i + 4)]
        k = float(b[0] + (b[1] << 8) + (b[2] << 16) + _js_i32(float(b[3] << 24)))
        k *= M
        k = float(_js_i32(k) ^ (_js_u32(k) >> 24))
        k *= M
        h *= M
        h = float(_js_i32(h) ^ _js_i32(k))
    base = length & ~3
    rem = length & 3
    if rem:
        if rem == 3:
            h = float(_js_i32(h) ^ _js_i32(float(data[base + 2] << 16)))
        if rem >= 2:
            h = float(_js_i32(h) ^ (data[base + 1] << 8))
        h = float(_js_i32(h) ^ data[base])
        h *= M
    h = float(_js_i32(h) ^ (_js_u32(h) >> 13))
    h *= M
    h = float(_js_i32(h) ^ (_js_u32(h) >> 15))
    return _js_u32(h)


def _crc32_table() -> List[int]:
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0xEDB88320 if c & 1 else c >> 1
        table.append(c)
    return table


_CRC_TABLE = _crc32_table()


def _crc32_u32(data: bytes) -> int:
    c = 0xFFFFFFFF
    t = _CRC_TABLE
    for b in data:
        c = t[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def _fnv1a_u32(data: bytes) -> int:
    h = 0x811C9DC5
    for b in data:
        h = ((h ^ b) * 0x01000193) & _MASK
    return h


_X1, _X2, _X3, _X4, _X5 = 2654435761, 2246822519, 3266489917, 668265263, 374761393


def _rotl(x: int, r: int) -> int:
    return ((x << r) | (x >> (32 - r))) & _MASK


def _xxh32_u32(data: bytes) -> int:
    length = len(data)
    p = 0
    if length >= 16:
        v = [(_X1 + _X2) & _MASK, _X2, 0, (-_X1) & _MASK]
        while p + 16 <= length:
            for j in range(4):
                (lane,) = struct.unpack_from("<I", data, p + 4 * j)
                v[j] = (_rotl((v[j] + lane * _X2) & _MASK, 13) * _X1) & _MASK
            p += 16
        h = (_rotl(v[0], 1) + _rotl(v[1], 7) + _rotl(v[2], 12) + _rotl(v[3], 18)) & _MASK
    else:
        h = _X5
    h = (h + length) & _MASK
    while p + 4 <= length:
        (w,) = struct.unpack_from("<I", data, p)
        h = (_rotl((h + w * _X3) & _MASK, 17) * _X4) & _MASK
        p += 4
    while p < length:
        h = (_rotl((h + data[p] * _X5) & _MASK, 11) * _X1) & _MASK
        p += 1
    h ^= h >> 15
    h = (h * _X2) & _MASK
    h ^= h >> 13
    h = (h * _X3) & _MASK
    h ^= h >> 16
    return h


def _abs_i32(h: int) -> int:
    """``abs`` of the int32 view of *h*, as uint32 (INT32_MIN stays 2**31)."""
    return (-h) & _MASK if h & 0x80000000 else h


def _signed(h: int) -> int:
    return h - 0x100000000 if h & 0x80000000 else h


# ------------------------------------------------------------ public hashes

def murmur2(key: HashKey) -> int:
    """Java's ``Utils.murmur2`` of a key, as Java returns it (signed 32-bit).

    Args:
        key: ``bytes``-like or ``str`` (encoded as Java's StringSerializer does).

    Returns:
        The hash as a signed 32-bit int.

    Example:
        >>> murmur2(b"21")
        -973932308
    """
    return _signed(_murmur2_u32(_inputs.key_bytes_required(key)))


def kafkajs_murmur2(key: HashKey) -> int:
    """kafkajs 1.x / ``LegacyPartitioner`` murmur2, as kafkajs returns it (signed).

    Example:
        >>> kafkajs_murmur2(b"")
        275646684
    """
    return _signed(_kafkajs_murmur2_u32(_inputs.key_bytes_required(key)))


def crc32(key: HashKey) -> int:
    """CRC-32/IEEE (as ``zlib.crc32``), unsigned 32-bit.

    Example:
        >>> crc32(b"kafka") == __import__("zlib").crc32(b"kafka")
        True
    """
    return _crc32_u32(_inputs.key_bytes_required(key))


def fnv1a(key: HashKey) -> int:
    """FNV-1a 32-bit, unsigned.

    Example:
        >>> hex(fnv1a(b""))
        '0x811c9dc5'
    """
    return _fnv1a_u32(_inputs.key_bytes_required(key))


def xxh32(key: HashKey) -> int:
    """xxHash32 with seed 0, unsigned.

    Example:
        >>> hex(xxh32(b""))
        '0x2cc5d05'
    """
    return _xxh32_u32(_inputs.key_bytes_required(key))


def to_positive(h: SupportsIndex) -> int:
    """Kafka's ``Utils.toPositive``: ``h & 0x7fffffff``.

    Example:
        >>> to_positive(-973932308)
        1173551340
    """
    return _inputs.hash_int(h) & 0x7FFFFFFF


# ----------------------------------------------------------------- partition

_HASHERS = {
    H_MURMUR2: lambda d: _murmur2_u32(d) & 0x7FFFFFFF,
    H_CRC32: _crc32_u32,
    H_FNV1A_ABS: lambda d: _abs_i32(_fnv1a_u32(d)),
    H_FNV1A_MASK: lambda d: _fnv1a_u32(d) & 0x7FFFFFFF,
    H_FNV1A_U32: _fnv1a_u32,
    H_KAFKAJS: lambda d: _kafkajs_murmur2_u32(d) & 0x7FFFFFFF,
    H_XXH32: _xxh32_u32,
}


def _partition_code(data: Optional[bytes], code: int, n: int) -> int:
    if data is None:
        null = (code >> 8) & 0xF
        if null == NULL_ZERO:
            return 0
        if null == NULL_AS_EMPTY:
            return _partition_code(b"", code & ~0xF0, n)
        return -1
    if not data:
        empty = (code >> 4) & 0xF
        if empty == EMPTY_UNSET:
            return -1
        if empty == EMPTY_ZERO:
            return 0
    hasher = _HASHERS.get(code & 0xF)
    if hasher is None:
        return -1
    return hasher(data) % n


def partition(key: KeyLike, num_partitions: SupportsIndex, /, *, strategy: StrategyArg = "java") -> int:
    """The partition a client picks for a keyed record.

    Args:
        key: ``bytes``-like (any byte buffer), ``str`` (UTF-8 as Java's
            StringSerializer), or ``None`` (a keyless record).  Typed values
            (int, float, UUID, dates, NumPy numbers, ...) are a TypeError
            naming the ``fastpart.serde`` function that writes Java's bytes.
        num_partitions: the topic's partition count, 1 to 2**31-1.
        strategy: a name from ``fastpart.strategies()``; ``"java"`` by default.

    Returns:
        The partition, or -1 where the client decides without the key
        (keyless records, random partitioners).

    Example:
        >>> partition(b"21", 10)
        0
        >>> partition(None, 10)
        -1
    """
    code = strategy_code(strategy)
    n = check_partitions(num_partitions)
    return _partition_code(_inputs.key_bytes(key), code, n)


@overload
def partition_many(keys: Batch, num_partitions: SupportsIndex, *, strategy: StrategyArg = "java",
                   out: None = None) -> "array.array[int]": ...
@overload
def partition_many(keys: Batch, num_partitions: SupportsIndex, *, strategy: StrategyArg = "java",
                   out: OutT) -> OutT: ...
def partition_many(keys: Any, num_partitions: Any, *, strategy: Any = "java", out: Any = None) -> Any:
    """Partitions of many keys in one call, one int32 per key.

    The contract: for every batch ``x`` accepted,
    ``partition_many(x, n, strategy=s) == [partition(k, n, strategy=s) for k
    in elements(x)]``, where ``elements(x)`` is ``list(x)`` for sequences and
    NumPy arrays (an ``S<w>`` element loses its trailing NULs as NumPy's own
    elements do; a 2-D ``uint8`` array or a void ``V<w>`` array gives every
    byte of each row/item), ``to_pylist()`` for Arrow and ``to_list()`` for
    polars.  Typed values (numbers, dates, UUIDs, numeric arrays) are refused
    with a TypeError naming the ``fastpart.serde`` function to use.

    Args:
        keys: a sequence of keys (bytes-like, str or None), a NumPy ``S<w>``
            array or 2-D ``uint8`` array, a NumPy object array, or an Arrow
            array / chunked array (binary, string, their large and view
            forms, fixed_size_binary) through the Arrow PyCapsule interface.
        num_partitions: the topic's partition count, 1 to 2**31-1.
        strategy: a name from ``fastpart.strategies()``.
        out: optional writable C-contiguous int32 buffer of at least
            ``len(keys)`` items, filled and returned.

    Returns:
        ``array.array('i')`` (or *out*).

    Example:
        >>> list(partition_many([b"21", "kafka", None], 10))
        [0, 0, -1]
    """
    code = strategy_code(strategy)
    n = check_partitions(num_partitions)
    items = _inputs.batch_keys(keys)  # every key read (copied) before the first write to out
    count = len(items)
    if out is None:
        result = array.array("i", bytes(4 * count))
        view = memoryview(result)
    else:
        view = _inputs.check_out(out, count)
        result = out
    for i, data in enumerate(items):
        view[i] = _partition_code(data, code, n)
    return result


def group_by_partition(keys: Batch, num_partitions: SupportsIndex, *, strategy: StrategyArg = "java") -> "Grouping":
    """Group keys by partition (stable): see ``fastpart.Grouping``.

    Example:
        >>> g = group_by_partition([b"a", b"b", b"a"], 3)
        >>> [(p, list(idx)) for p, idx in g]
        [(1, [0, 2]), (2, [1])]
    """
    from ._grouping import Grouping

    parts: "array.array[int]" = partition_many(keys, num_partitions, strategy=strategy)
    order = sorted(range(len(parts)), key=parts.__getitem__)  # sorted() is stable
    return Grouping.from_sorted(parts, array.array("q", order))
