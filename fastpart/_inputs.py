"""Turning user input into key bytes: the rules both cores follow.

The native core applies the same rules in C for speed; this module is the
reference (the pure twin uses it directly), holds the shared error texts and
the one table from typed values to the ``fastpart.serde`` function that
writes Java's bytes for them.

The input contract: for every batch ``x`` that ``partition_many`` accepts,
``partition_many(x, n, strategy=s) == [partition(k, n, strategy=s) for k in
elements(x)]``, where ``elements(x)`` is ``list(x)`` for sequences and NumPy
arrays (so an ``S<w>`` element loses its trailing NUL bytes, as NumPy's own
elements do, and a 2-D ``uint8`` array gives one key per row).

Example:
    >>> key_bytes("kafka")
    b'kafka'
    >>> batch_keys([b"ab", "c", None])
    [b'ab', b'c', None]
    >>> key_bytes(42)
    Traceback (most recent call last):
      ...
    TypeError: int is not a key: use fastpart.serde.int32(v) (Java IntegerSerializer), \
fastpart.serde.int64(v) (Java LongSerializer) or fastpart.serde.int16(v) (Java ShortSerializer), \
as your producer's key serializer writes it
"""

from __future__ import annotations

import numbers
import operator
import platform
from typing import Any, List, Optional, Tuple

# CPython's memoryview.tobytes() honours strides; PyPy's does not (see _c_order_bytes).
_STRIDED_TOBYTES_OK = platform.python_implementation() == "CPython"

# --------------------------------------------------- typed values -> serde

# (kept for modules that still read it; new code uses typed_key_error/serde_hint)
_SERDE_HINT = (
    "serialize it first, e.g. fastpart.serde.int32(v), fastpart.serde.int64(v), "
    "fastpart.serde.string(v) or fastpart.serde.uuid(v), as your Java producer's key serializer does"
)

_I16 = "fastpart.serde.int16(v) (Java ShortSerializer)"
_I32 = "fastpart.serde.int32(v) (Java IntegerSerializer)"
_I64 = "fastpart.serde.int64(v) (Java LongSerializer)"
_F32 = "fastpart.serde.float32(v) (Java FloatSerializer)"
_F64 = "fastpart.serde.float64(v) (Java DoubleSerializer)"
_STR = "fastpart.serde.string(v.isoformat()) (Java StringSerializer)"

#: kind -> the serde call(s) that give Java's bytes.  The one table both cores
#: (and the Arrow readers, through :func:`arrow_format_kind`) use.
SERDE_KINDS = {
    "int": f"{_I32}, {_I64} or {_I16}, as your producer's key serializer writes it",
    "int8": f"{_I16} (Java has no 1-byte serializer; or int32/int64)",
    "uint8": f"{_I16} (Java has no 1-byte serializer; or int32/int64)",
    "int16": _I16,
    "uint16": _I32,
    "int32": _I32,
    "uint32": _I64,
    "int64": _I64,
    "uint64": _I64 + " (values up to 2**63-1)",
    "float": f"{_F64} or {_F32}",
    "float16": _F32,
    "float32": _F32,
    "float64": _F64,
    "fraction": "fastpart.serde.float64(float(v)) (Java DoubleSerializer)",
    "decimal": "fastpart.serde.string(str(v)) (Java StringSerializer of the text) or " + _F64,
    "complex": "fastpart.serde.string(str(v)) (Java StringSerializer), or the bytes your producer writes",
    "bool": "fastpart.serde.string('true' or 'false') (Java StringSerializer) or "
            "fastpart.serde.int32(int(v)) (Java IntegerSerializer)",
    "datetime": "fastpart.serde.int64(epoch milliseconds) (Java LongSerializer) or " + _STR,
    "date": _STR,
    "time": _STR,
    "timedelta": "fastpart.serde.int64(milliseconds) (Java LongSerializer)",
    "uuid": "fastpart.serde.uuid(v) (Java UUIDSerializer)",
}


def serde_hint(kind: str) -> str:
    """The ``use fastpart.serde...`` advice for a kind of typed value.

    Example:
        >>> serde_hint("int64")
        'use fastpart.serde.int64(v) (Java LongSerializer)'
    """
    return "use " + SERDE_KINDS[kind]


def typed_key_error(type_name: str, kind: str, index: Optional[int] = None) -> TypeError:
    """The error for a typed value (or column/array of them) given as a key.

    Example:
        >>> str(typed_key_error("np.int64", "int64", 3))
        'np.int64 at index 3 is not a key: use fastpart.serde.int64(v) (Java LongSerializer)'
    """
    where = "" if index is None else f" at index {index}"
    return TypeError(f"{type_name}{where} is not a key: {serde_hint(kind)}")


_NUMPY_KINDS = {"b": "bool", "c": "complex", "M": "datetime", "m": "timedelta"}


def _numpy_kind(dtype: Any) -> Optional[str]:
    k = dtype.kind
    if k in "iu":
        return f"{'u' if k == 'u' else ''}int{8 * dtype.itemsize}"
    if k == "f":
        return f"float{min(8 * dtype.itemsize, 64)}"
    return _NUMPY_KINDS.get(k)


_CHECKS: Optional[Tuple[Tuple[Any, str], ...]] = None


def _typed_checks() -> Tuple[Tuple[Any, str], ...]:
    """(class, kind) pairs, in order (bool before int, datetime before date); imported on first use."""
    global _CHECKS
    if _CHECKS is None:
        import datetime
        import decimal
        import fractions
        import uuid

        _CHECKS = (  # one assignment of a complete tuple: safe without the GIL
            (bool, "bool"), (decimal.Decimal, "decimal"), (fractions.Fraction, "fraction"),
            (numbers.Integral, "int"), (numbers.Real, "float"), (numbers.Complex, "complex"),
            (datetime.datetime, "datetime"), (datetime.date, "date"), (datetime.time, "time"),
            (datetime.timedelta, "timedelta"), (uuid.UUID, "uuid"),
        )
    return _CHECKS


def typed_kind(value: Any) -> Optional[Tuple[str, str]]:
    """``(type name, kind)`` when *value* is a typed value, else None.

    Example:
        >>> typed_kind(True), typed_kind(b"k")
        (('bool', 'bool'), None)
    """
    cls = type(value)
    if cls.__module__ == "numpy" and getattr(value, "dtype", None) is not None:
        kind = _numpy_kind(value.dtype)
        if cls.__name__ == "ndarray":  # int8/uint8 arrays are byte buffers
            if kind is None or value.dtype.kind in "iu" and value.dtype.itemsize == 1:
                return None
            return f"a NumPy {value.dtype} array", kind
        return (f"np.{cls.__name__}", kind) if kind else None
    for typ, kind in _typed_checks():
        if isinstance(value, typ):
            name = cls.__name__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__name__}"
            return name, kind
    return None


# ------------------------------------------------------ buffer formats

_FORMAT_KINDS = {
    "?": "bool", "h": "int16", "H": "uint16", "i": "int32", "I": "uint32", "q": "int64",
    "Q": "uint64", "n": "int64", "N": "uint64", "e": "float16", "f": "float32", "d": "float64",
    "g": "float64", "Zf": "complex", "Zd": "complex", "Zg": "complex",
}


def parse_format(fmt: Optional[str]) -> Tuple[int, str]:
    """``(repeat count, code)`` of a one-item struct format (``'<4s'`` -> ``(4, 's')``).

    Example:
        >>> parse_format("<36s"), parse_format("B"), parse_format(None)
        ((36, 's'), (1, 'B'), (1, 'B'))
    """
    if fmt is None:
        return 1, "B"
    f = fmt.lstrip("@=<>!")
    digits = len(f) - len(f.lstrip("0123456789"))
    count = int(f[:digits]) if digits else 1
    return count, f[digits:]


def format_kind(code: str, itemsize: int) -> Optional[str]:
    """The typed kind of a buffer item code (``'l'`` with itemsize 8 -> ``'int64'``), or None."""
    if code in ("l", "L"):
        return f"{'u' if code == 'L' else ''}int{8 * itemsize}"
    return _FORMAT_KINDS.get(code)


_BYTE_CODES = ("B", "b", "c", "s", "x")


def _buffer_name(obj: Any, fmt: str) -> str:
    cls = type(obj)
    if cls.__module__ == "numpy":
        return f"a NumPy {obj.dtype} array" if hasattr(obj, "dtype") else f"np.{cls.__name__}"
    if cls.__module__ == "ctypes":
        return f"ctypes.{cls.__name__}"
    if cls.__module__ == "array":
        return f"array.array({obj.typecode!r})"
    return f"{cls.__name__} of format {fmt!r}"


# ----------------------------------------------------------- one key

def java_utf8(s: str) -> bytes:
    """UTF-8 bytes of *s* as Java's ``StringSerializer`` writes them.

    A surrogate pair written as two code points is joined (Java strings are
    UTF-16), and an unpaired surrogate becomes ``?``.  A ``str`` subclass is
    encoded as its ``str`` value (an overridden ``encode`` is not called).

    Example:
        >>> java_utf8("a\\ud800b")
        b'a?b'
        >>> java_utf8("\\ud83d\\ude00") == "\\U0001F600".encode()
        True
    """
    try:
        return str.encode(s, "utf-8")
    except UnicodeEncodeError:
        joined = str.encode(s, "utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")
        return joined.encode("utf-8", "replace")


def key_type_error(key: Any, index: Optional[int] = None) -> TypeError:
    """The error for a key of no accepted type (typed values get :func:`typed_key_error`)."""
    typed = typed_kind(key)
    if typed is not None:
        return typed_key_error(typed[0], typed[1], index)
    where = "" if index is None else f" at index {index}"
    return TypeError(
        "a key must be bytes, bytearray, memoryview (any contiguous byte buffer), str or None; "
        f"got {type(key).__name__}{where}: serialize it first as your producer's key serializer "
        "does, e.g. fastpart.serde.string(v), fastpart.serde.int64(v) or fastpart.serde.uuid(v)"
    )


def key_bytes(key: Any, index: Optional[int] = None) -> Optional[bytes]:
    """The bytes a client hashes for *key*; ``None`` for a keyless record.

    Accepted: ``bytes`` (and subclasses such as ``numpy.bytes_``), ``str``
    (Java's UTF-8), ``None``, and any buffer of a byte format (``B``, ``b``,
    ``c``, ``<w>s``, void ``<w>x``) read whole in C order.  Typed values
    raise a TypeError naming the ``fastpart.serde`` function to use.

    Example:
        >>> key_bytes(bytearray(b"k")), key_bytes(None)
        (b'k', None)
    """
    if type(key) is bytes:
        return key
    if key is None:
        return None
    if isinstance(key, str):
        return java_utf8(key)
    if isinstance(key, bytes):
        return bytes(key)
    if type(key) is bytearray:
        return bytes(key)
    typed = typed_kind(key)
    if typed is not None:
        raise typed_key_error(typed[0], typed[1], index)
    try:
        view = memoryview(key)
    except TypeError:
        raise key_type_error(key, index) from None
    with view:
        _, code = parse_format(view.format)
        if code not in _BYTE_CODES:
            kind = format_kind(code, view.itemsize)
            if kind is not None:
                raise typed_key_error(_buffer_name(key, view.format), kind, index)
            raise key_type_error(key, index)
        return _c_order_bytes(key, view)


def key_bytes_required(key: Any) -> bytes:
    """Like :func:`key_bytes` but a hash needs bytes: ``None`` is refused."""
    data = key_bytes(key)
    if data is None:
        raise TypeError("cannot hash None: a null key has no bytes (partition() maps it to -1)")
    return data


# ------------------------------------------------------------ batches

def buffer_kind(obj: Any, fmt: Optional[str], ndim: int, itemsize: int) -> str:
    """Classify a buffer given as a batch, from ONE acquired buffer's fields.

    Returns ``'strip'`` (1-D ``S<w>``: each item minus its trailing NULs),
    ``'fixed'`` (1-D void ``V<w>``, or 2-D byte rows: every byte kept --
    ``'rows'`` is returned for 2-D), ``'objects'`` or ``'unicode'`` (read
    element by element), or raises the TypeError for a non-batch buffer.

    Example:
        >>> buffer_kind(None, "36s", 1, 36), buffer_kind(None, "B", 2, 1)
        ('strip', 'rows')
    """
    _, code = parse_format(fmt)
    if ndim == 1 and code == "s":
        return "strip"
    if ndim == 1 and code == "x":
        return "fixed"
    if ndim == 2 and code in ("B", "b", "c"):
        return "rows"
    if code == "O":
        return "objects"
    if code in ("w", "U", "u"):
        return "unicode"
    if ndim == 1 and code in ("B", "b", "c"):
        raise TypeError(
            "a 1-D byte buffer is one key, not a batch: pass [key] for one key, or reshape "
            "it to (count, width) for fixed-width keys"
        )
    kind = format_kind(code, itemsize)
    if kind is not None:
        raise TypeError(
            f"{_buffer_name(obj, fmt or 'B')} holds typed values, not keys: {serde_hint(kind)}; "
            "on an array, fastpart.serde returns a 2-D uint8 array (a row per key) for partition_many"
        )
    raise TypeError(
        f"a buffer of format {fmt!r} with {ndim} dimension(s) is not a batch of keys; "
        "batches are sequences of keys, NumPy 'S<w>'/'V<w>' arrays, 2-D uint8 arrays (a row per "
        "key) or Arrow arrays"
    )


def _c_order_bytes(obj: Any, view: memoryview) -> bytes:
    """The items of a buffer in C order, whatever its strides.

    CPython's ``memoryview.tobytes()`` follows the strides; PyPy's does not
    (it copies the memory as if contiguous), so there a strided buffer is read
    through the exporter's own ``tobytes()`` (NumPy: C order) or refused.
    """
    if _STRIDED_TOBYTES_OK:
        return view.tobytes()
    # elsewhere trust neither the view's copy nor its contiguity flag: the
    # exporter's own C-order bytes first, then strides checked by hand
    tobytes = getattr(obj, "tobytes", None)
    if callable(tobytes):
        data = tobytes()
        if isinstance(data, bytes) and len(data) == view.nbytes:
            return data
    if _c_contiguous(view):
        return view.tobytes()
    raise TypeError(
        f"a strided (non-contiguous) {type(obj).__name__} cannot be read safely on "
        f"{platform.python_implementation()}: pass a contiguous copy "
        "(numpy.ascontiguousarray(keys))"
    )


def _c_contiguous(view: memoryview) -> bool:
    """C contiguity computed from the shape and strides themselves."""
    expected = view.itemsize
    for dim, stride in zip(reversed(view.shape or ()), reversed(view.strides or ())):
        if dim > 1 and stride != expected:
            return False
        expected *= dim
    return True


def _table_keys(view: memoryview, strip: bool, obj: Any = None) -> List[Optional[bytes]]:
    raw = _c_order_bytes(obj, view)  # C order, also for strided / non-contiguous arrays
    shape = view.shape or (0,)
    width = view.itemsize if view.ndim == 1 else shape[1] * view.itemsize
    count = shape[0]
    if width == 0:
        return [b""] * count
    if strip:
        return [raw[i : i + width].rstrip(b"\0") for i in range(0, count * width, width)]
    return [raw[i : i + width] for i in range(0, count * width, width)]


def sequence_keys(seq: Any) -> List[Optional[bytes]]:
    """Key bytes of a list or tuple, read by index as the native core does.

    A list that shrinks while its keys are read is an error (a key's own
    code, e.g. a buffer export, may change the list); items appended after
    the call began are not read.
    """
    count = len(seq)
    out: List[Optional[bytes]] = []
    for i in range(count):
        try:  # not `if i >= len(seq)`: another thread may shrink the list between check and read
            key = seq[i]
        except IndexError:
            raise list_shrank_error() from None
        out.append(key_bytes(key, i))
    return out


def list_shrank_error() -> RuntimeError:
    """The error for a list of keys that shrank during ``partition_many``."""
    return RuntimeError("the list of keys shrank during partition_many(): keys were removed "
                        "while they were read; pass a tuple or a copy")


def batch_keys(keys: Any) -> List[Optional[bytes]]:
    """Every key of a batch as bytes (``None`` for null keys): ``elements(keys)``."""
    if isinstance(keys, (bytes, bytearray, str)):
        raise TypeError(
            f"keys must be a batch (a sequence or array of keys), not a single {type(keys).__name__}; "
            "use fastpart.partition() for one key, or wrap it in a list"
        )
    cls = type(keys)
    if hasattr(cls, "__arrow_c_stream__") or hasattr(cls, "__arrow_c_array__"):
        from . import _arrow_py

        return _arrow_py.arrow_keys(keys)
    if isinstance(keys, (list, tuple)):
        return sequence_keys(keys)
    if cls.__module__ == "numpy" and cls.__name__ == "ndarray" and keys.dtype.kind in "mM":
        # datetime64/timedelta64 arrays export no buffer: name them here
        raise buffer_kind_error(keys, str(_numpy_kind(keys.dtype)))
    try:
        view = memoryview(keys)
    except TypeError:
        view = None
    if view is not None:
        with view:
            kind = buffer_kind(keys, view.format, view.ndim, view.itemsize)
            if kind in ("strip", "fixed", "rows"):
                return _table_keys(view, kind == "strip", keys)
            ndim = view.ndim
        if ndim != 1:
            raise TypeError(f"an array of {kind} keys must be 1-D, not {ndim}-D; use .ravel()")
        return sequence_keys(keys.tolist() if hasattr(keys, "tolist") else list(keys))
    try:
        seq = tuple(keys)
    except TypeError:
        raise TypeError(f"keys must be a sequence or array of keys, not {cls.__name__}") from None
    return sequence_keys(seq)


def buffer_kind_error(obj: Any, kind: str) -> TypeError:
    """The error for an array of typed values given as a batch."""
    return TypeError(
        f"{_buffer_name(obj, '?')} holds typed values, not keys: {serde_hint(kind)}; "
        "on an array, fastpart.serde returns a 2-D uint8 array (a row per key) for partition_many"
    )


# ---------------------------------------------------- counts and out=

_MAX_PARTITIONS = 2**31 - 1


def check_partitions(num_partitions: Any) -> int:
    """Validate a partition count (an ``int`` from 1 to 2**31-1).

    Example:
        >>> check_partitions(12)
        12
    """
    if type(num_partitions) is not int:
        if isinstance(num_partitions, bool) or not hasattr(type(num_partitions), "__index__"):
            raise TypeError(
                "num_partitions must be an int from 1 to 2147483647, "
                f"not {type(num_partitions).__name__} ({num_partitions!r})"
            )
        num_partitions = operator.index(num_partitions)
    n: int = num_partitions
    if not 1 <= n <= _MAX_PARTITIONS:
        raise ValueError(f"num_partitions must be from 1 to 2147483647 (a Java int), got {n}")
    return n


def hash_int(h: Any) -> int:
    """The int value of a hash given to ``to_positive`` (any ``__index__`` but bool).

    Example:
        >>> hash_int(-5)
        -5
    """
    if type(h) is not int:
        if isinstance(h, bool) or not hasattr(type(h), "__index__"):
            raise TypeError(f"to_positive() takes an int hash, not {type(h).__name__}")
        return int(operator.index(h))
    return h


def check_out(out: Any, count: int) -> memoryview:
    """Validate an ``out=`` buffer and return an int32 view of it."""
    try:
        view = memoryview(out)
    except TypeError:
        raise TypeError(
            f"out must be a writable int32 buffer (array.array('i'), numpy int32 array), "
            f"not {type(out).__name__}"
        ) from None
    fmt = view.format.lstrip("@=<")
    if view.itemsize != 4 or fmt not in ("i", "l"):
        raise TypeError(
            f"out must hold int32 items; got format {view.format!r} with itemsize {view.itemsize} "
            "(use numpy.empty(n, dtype=numpy.int32) or array.array('i'))"
        )
    if view.readonly:
        raise TypeError("out is read-only; pass a writable int32 buffer")
    if not view.c_contiguous:
        raise ValueError("out must be C-contiguous; use numpy.ascontiguousarray or a fresh array")
    if view.nbytes // 4 < count:
        raise ValueError(f"out holds {view.nbytes // 4} items but there are {count} keys")
    return view.cast("B").cast("i")


# ------------------------------------------------------------- Arrow

_ARROW_INT = {"c": "int8", "C": "uint8", "s": "int16", "S": "uint16", "i": "int32", "I": "uint32",
              "l": "int64", "L": "uint64", "e": "float16", "f": "float32", "g": "float64", "b": "bool"}


def arrow_format_kind(fmt: str, extension_name: Optional[str] = None) -> Optional[str]:
    """The typed kind of an Arrow C Data format string (and extension name), or None.

    Example:
        >>> arrow_format_kind("l"), arrow_format_kind("tsu:UTC"), arrow_format_kind("z")
        ('int64', 'datetime', None)
        >>> arrow_format_kind("w:16", "arrow.uuid")
        'uuid'
    """
    if extension_name == "arrow.uuid":
        return "uuid"
    if fmt in _ARROW_INT:
        return _ARROW_INT[fmt]
    if fmt.startswith("d:"):
        return "decimal"
    if fmt.startswith("td"):
        return "date"
    if fmt.startswith("tt"):
        return "time"
    if fmt.startswith("ts"):
        return "datetime"
    if fmt.startswith("tD") or fmt.startswith("ti"):
        return "timedelta"
    return None
