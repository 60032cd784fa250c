"""Turning user input into key bytes: the rules both cores follow.

The native core applies the same rules in C for speed; this module is the
reference (the pure twin uses it directly) and holds the shared error texts.
"""

from __future__ import annotations

from typing import Any, List, Optional

_SERDE_HINT = (
    "serialize it first, e.g. fastpart.serde.int32(v), fastpart.serde.int64(v), "
    "fastpart.serde.string(v) or fastpart.serde.uuid(v), as your Java producer's key serializer does"
)


def java_utf8(s: str) -> bytes:
    """UTF-8 bytes of *s* as Java's ``StringSerializer`` writes them.

    A surrogate pair written as two code points is joined (Java strings are
    UTF-16), and an unpaired surrogate becomes ``?``.

    Example:
        >>> java_utf8("a\\ud800b")
        b'a?b'
        >>> java_utf8("\\ud83d\\ude00") == "\\U0001F600".encode()
        True
    """
    try:
        return s.encode("utf-8")
    except UnicodeEncodeError:
        joined = s.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")
        return joined.encode("utf-8", "replace")


def key_type_error(key: Any, index: Optional[int] = None) -> TypeError:
    where = "" if index is None else f" at index {index}"
    return TypeError(
        f"a key must be bytes, bytearray, memoryview (any contiguous buffer), str or None; "
        f"got {type(key).__name__}{where}: {_SERDE_HINT}"
    )


def key_bytes(key: Any, index: Optional[int] = None) -> Optional[bytes]:
    """The bytes a client hashes for *key*; ``None`` for a keyless record."""
    if type(key) is bytes:
        return key
    if key is None:
        return None
    if isinstance(key, str):
        return java_utf8(key)
    if isinstance(key, bytes):
        return bytes(key)
    if isinstance(key, (int, float, complex)):
        raise key_type_error(key, index)
    try:
        view = memoryview(key)
    except TypeError:
        raise key_type_error(key, index) from None
    with view:
        return view.tobytes()


def key_bytes_required(key: Any) -> bytes:
    """Like :func:`key_bytes` but a hash needs bytes: ``None`` is refused."""
    data = key_bytes(key)
    if data is None:
        raise TypeError("cannot hash None: a null key has no bytes (partition() maps it to -1)")
    return data


def _table_keys(view: memoryview) -> List[Optional[bytes]]:
    raw = view.tobytes()  # C order, also for strided / non-contiguous arrays
    shape = view.shape or (0,)
    width = view.itemsize if view.ndim == 1 else shape[1] * view.itemsize
    count = shape[0]
    if width == 0:
        return [b""] * count
    return [raw[i : i + width] for i in range(0, count * width, width)]


def table_kind(view: memoryview) -> str:
    """Classify a buffer given as a batch: 'fixed', 'rows', 'objects' or an error."""
    fmt = view.format.lstrip("@=<>!")
    if view.ndim == 1 and fmt.endswith("s"):
        return "fixed"
    if view.ndim == 2 and fmt in ("B", "b", "c"):
        return "rows"
    if fmt == "O":
        return "objects"
    if fmt.endswith("w") or fmt.endswith("U"):
        return "unicode"
    if view.ndim == 1 and fmt in ("B", "b", "c"):
        raise TypeError(
            "a 1-D byte buffer is one key, not a batch: pass [key] for one key, or reshape "
            "it to (count, width) for fixed-width keys"
        )
    raise TypeError(
        f"a buffer of format {view.format!r} with {view.ndim} dimension(s) is not a batch of keys; "
        "batches are sequences of keys, NumPy 'S<w>' arrays, 2-D uint8 arrays or Arrow arrays. "
        "For numbers, " + _SERDE_HINT
    )


def batch_keys(keys: Any) -> List[Optional[bytes]]:
    """Every key of a batch as bytes (``None`` for null keys)."""
    if isinstance(keys, (bytes, bytearray, str)):
        raise TypeError(
            f"keys must be a batch (a sequence or array of keys), not a single {type(keys).__name__}; "
            "use fastpart.partition() for one key, or wrap it in a list"
        )
    cls = type(keys)
    if hasattr(cls, "__arrow_c_stream__") or hasattr(cls, "__arrow_c_array__"):
        from . import _arrow_py

        return _arrow_py.arrow_keys(keys)
    if not isinstance(keys, (list, tuple)):
        try:
            view = memoryview(keys)
        except TypeError:
            view = None
        if view is not None:
            with view:
                kind = table_kind(view)
                if kind in ("fixed", "rows"):
                    return _table_keys(view)
                ndim = view.ndim
            if ndim != 1:
                raise TypeError(f"an array of {kind} keys must be 1-D, not {ndim}-D; use .ravel()")
            keys = keys.tolist() if hasattr(keys, "tolist") else list(keys)
    try:
        seq = keys if isinstance(keys, (list, tuple)) else list(keys)
    except TypeError:
        raise TypeError(
            f"keys must be a sequence or array of keys, not {cls.__name__}"
        ) from None
    return [key_bytes(k, i) for i, k in enumerate(seq)]


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
