"""Key bytes exactly as Java's key serializers write them.

The Java partition of a value depends on its serializer: the integer 42 as
``IntegerSerializer`` (4 bytes), ``LongSerializer`` (8 bytes) and
``StringSerializer`` ("42") lands on three different partitions.  These
functions give the same bytes as the Java serializers, so that
``fastpart.partition(serde.int32(42), n)`` is what a Java producer with
``IntegerSerializer`` picks.

Each function takes one value, or a NumPy array of values, for which it
returns a 2-D ``uint8`` array with one row per value (every byte kept: a
serialized key may end in NUL bytes, which an ``S<w>`` array would drop),
ready for ``fastpart.partition_many``; ``string`` returns an object array
of ``bytes``, since lengths vary.  ``list(rows)`` gives one key per row,
which ``fastpart.partition`` takes as it is.

Example:
    >>> from fastpart import serde
    >>> serde.int32(42)
    b'\\x00\\x00\\x00*'
    >>> serde.int64(-1)
    b'\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff'
    >>> serde.string("h\\u00e9")
    b'h\\xc3\\xa9'
    >>> serde.uuid("6BA7B810-9DAD-11D1-80B4-00C04FD430C8")
    b'6ba7b810-9dad-11d1-80b4-00c04fd430c8'
"""

from __future__ import annotations

import math
import operator
import struct
from typing import TYPE_CHECKING, Any, SupportsFloat, SupportsIndex, Union, overload

from ._inputs import java_utf8

if TYPE_CHECKING:
    import uuid as _uuid

    import numpy as np
    from numpy.typing import NDArray

__all__ = ["int16", "int32", "int64", "float32", "float64", "uuid", "string"]

_JAVA_DOUBLE_NAN = b"\x7f\xf8\x00\x00\x00\x00\x00\x00"  # Double.doubleToLongBits(NaN)


def _is_ndarray(v: Any) -> bool:
    return type(v).__module__ == "numpy" and type(v).__name__ == "ndarray"


def _int(value: Any, bits: int, java: str) -> bytes:
    if isinstance(value, bool) or not hasattr(type(value), "__index__"):
        raise TypeError(f"{java} serializes integers, not {type(value).__name__} ({value!r})")
    v = operator.index(value)
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    if not lo <= v <= hi:
        raise ValueError(f"{v} does not fit a Java {java} ({lo} to {hi}); choose a wider serializer")
    return v.to_bytes(bits // 8, "big", signed=True)


def _rows(arr: Any, width: int) -> Any:
    """A fresh C-contiguous 2-D uint8 array: one row of *width* bytes per value."""
    import numpy as np

    return np.ascontiguousarray(arr).view(np.uint8).reshape(-1, width).copy()


def _int_array(arr: Any, bits: int, java: str) -> Any:
    import numpy as np

    if arr.dtype.kind not in "iub":
        raise TypeError(f"{java} serializes integers, not a {arr.dtype} array")
    if arr.dtype.kind == "b":
        raise TypeError(f"{java} serializes integers, not a bool array")
    if arr.size:
        lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
        mn, mx = int(arr.min()), int(arr.max())
        if mn < lo or mx > hi:
            raise ValueError(f"values from {mn} to {mx} do not fit a Java {java} ({lo} to {hi})")
    w = bits // 8
    return _rows(np.ascontiguousarray(arr.astype(f">i{w}").ravel()), w)


@overload  # an ndarray also has __index__ (0-d arrays): listed first, it wins
def int16(value: "NDArray[Any]") -> "NDArray[np.uint8]": ...  # type: ignore[overload-overlap]
@overload
def int16(value: SupportsIndex) -> bytes: ...
def int16(value: Any) -> Any:
    """``ShortSerializer``: 2 bytes, big-endian two's complement.

    Example:
        >>> int16(-2)
        b'\\xff\\xfe'
    """
    if _is_ndarray(value):
        return _int_array(value, 16, "Short")
    return _int(value, 16, "Short")


@overload
def int32(value: "NDArray[Any]") -> "NDArray[np.uint8]": ...  # type: ignore[overload-overlap]
@overload
def int32(value: SupportsIndex) -> bytes: ...
def int32(value: Any) -> Any:
    """``IntegerSerializer``: 4 bytes, big-endian two's complement.

    Example:
        >>> int32(1)
        b'\\x00\\x00\\x00\\x01'
    """
    if _is_ndarray(value):
        return _int_array(value, 32, "Integer")
    return _int(value, 32, "Integer")


@overload
def int64(value: "NDArray[Any]") -> "NDArray[np.uint8]": ...  # type: ignore[overload-overlap]
@overload
def int64(value: SupportsIndex) -> bytes: ...
def int64(value: Any) -> Any:
    """``LongSerializer``: 8 bytes, big-endian two's complement.

    Example:
        >>> int64(2**40).hex()
        '0000010000000000'
    """
    if _is_ndarray(value):
        return _int_array(value, 64, "Long")
    return _int(value, 64, "Long")


def _real(value: Any, java: str) -> float:
    if isinstance(value, (bool, str, bytes)) or not isinstance(value, (int, float)) and not hasattr(
        type(value), "__float__"
    ):
        raise TypeError(f"{java} serializes numbers, not {type(value).__name__} ({value!r})")
    return float(value)


@overload
def float32(value: "NDArray[Any]") -> "NDArray[np.uint8]": ...  # type: ignore[overload-overlap]
@overload
def float32(value: SupportsFloat) -> bytes: ...
def float32(value: Any) -> Any:
    """``FloatSerializer``: IEEE-754 binary32, big-endian (raw bits, NaN kept).

    A Python float is first rounded to float32 as Java's ``(float)`` cast
    does (too large: infinity).  A NumPy ``float32`` value or array keeps
    its exact bits, NaN payloads included.

    Example:
        >>> float32(1.5)
        b'?\\xc0\\x00\\x00'
    """
    if _is_ndarray(value):
        import numpy as np

        if value.dtype.kind not in "fiu":
            raise TypeError(f"FloatSerializer serializes numbers, not a {value.dtype} array")
        with np.errstate(over="ignore"):
            return _rows(np.ascontiguousarray(value.astype(">f4").ravel()), 4)
    if type(value).__module__ == "numpy" and getattr(value, "dtype", None) is not None:
        if str(value.dtype) == "float32":  # keep the exact bits, NaN payloads included
            import numpy as np

            return np.asarray(value, dtype=">f4").tobytes()
    x = _real(value, "FloatSerializer")
    try:
        return struct.pack(">f", x)
    except OverflowError:  # beyond float32: Java's (float) cast gives infinity
        return struct.pack(">f", math.copysign(math.inf, x))


@overload
def float64(value: "NDArray[Any]") -> "NDArray[np.uint8]": ...  # type: ignore[overload-overlap]
@overload
def float64(value: SupportsFloat) -> bytes: ...
def float64(value: Any) -> Any:
    """``DoubleSerializer``: IEEE-754 binary64, big-endian; every NaN becomes
    ``0x7ff8000000000000`` (``Double.doubleToLongBits``).

    Example:
        >>> float64(float("nan")).hex()
        '7ff8000000000000'
    """
    if _is_ndarray(value):
        import numpy as np

        if value.dtype.kind not in "fiu":
            raise TypeError(f"DoubleSerializer serializes numbers, not a {value.dtype} array")
        a = np.array(value, dtype=">f8").ravel()  # a fresh contiguous copy
        a.view(">u8")[np.isnan(a)] = 0x7FF8000000000000
        return _rows(a, 8)
    x = _real(value, "DoubleSerializer")
    if x != x:
        return _JAVA_DOUBLE_NAN
    return struct.pack(">d", x)


def _uuid_text(value: Any) -> str:
    import uuid as _uuid

    if isinstance(value, _uuid.UUID):
        return str(value)
    if isinstance(value, str):
        try:
            return str(_uuid.UUID(value))
        except ValueError:
            raise ValueError(f"{value!r} is not a UUID") from None
    if isinstance(value, (bytes, bytearray)) and len(value) == 16:
        return str(_uuid.UUID(bytes=bytes(value)))
    raise TypeError(f"UUIDSerializer takes a uuid.UUID (or its text, or 16 bytes), not {type(value).__name__}")


@overload
def uuid(value: "NDArray[Any]") -> "NDArray[np.uint8]": ...
@overload
def uuid(value: Union[_uuid.UUID, str, bytes, bytearray]) -> bytes: ...
def uuid(value: Any) -> Any:
    """``UUIDSerializer``: the lowercase 36-character text form, UTF-8.

    Example:
        >>> import uuid as u
        >>> uuid(u.UUID(int=1))
        b'00000000-0000-0000-0000-000000000001'
    """
    if _is_ndarray(value):
        import numpy as np

        text = b"".join(_uuid_text(v).encode("ascii") for v in value.ravel())
        return np.frombuffer(text, dtype=np.uint8).reshape(-1, 36).copy()
    return _uuid_text(value).encode("ascii")


@overload
def string(value: "NDArray[Any]") -> "NDArray[np.object_]": ...
@overload
def string(value: str) -> bytes: ...
def string(value: Any) -> Any:
    """``StringSerializer`` (UTF-8): an unpaired surrogate becomes ``?``.

    Given a NumPy array, returns an object array of ``bytes``.

    Example:
        >>> string("\\ud800")
        b'?'
    """
    if _is_ndarray(value):
        import numpy as np

        out = np.empty(value.size, dtype=object)
        for i, v in enumerate(value.ravel()):
            if not isinstance(v, str):
                raise TypeError(f"StringSerializer serializes str, not {type(v).__name__} at index {i}")
            out[i] = java_utf8(v)
        return out
    if not isinstance(value, str):
        raise TypeError(f"StringSerializer serializes str, not {type(value).__name__} ({value!r})")
    return java_utf8(value)
