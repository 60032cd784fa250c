# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: embedsignature=True, initializedcheck=False, freethreading_compatible=True
"""Compiled core of fastpart: the hash kernels of ``_kernels.h`` behind a
Python API identical to the pure twin ``fastpart/_core_py.py``.

Single keys never release the GIL; ``bytes`` are read without acquiring a
buffer and ``str`` through its cached UTF-8.  Batches collect key pointers
chunk by chunk (a reference held on each key of the chunk; a list is read
inside a critical section per chunk) and hash with the GIL released.

Free-threading: the module declares ``freethreading_compatible``.  Shared
state is the lanes flag (chosen once at import; ``_simd`` switches it with
an atomic store, for tests), the CRC tables (filled once at import) and the
read-only strategy table; list access is under ``cython.critical_section``.

Example:
    >>> from fastpart import _core
    >>> _core.partition(b"21", 10)
    0
"""

from cpython.array cimport array as carray, clone
cimport cython
from cpython.buffer cimport (
    PyBUF_C_CONTIGUOUS, PyBUF_FORMAT, PyBUF_STRIDES, PyBUF_WRITABLE, PyBuffer_Release, PyBuffer_ToContiguous, PyObject_CheckBuffer,
    PyObject_GetBuffer,
)
from cpython.bytes cimport (
    PyBytes_AS_STRING, PyBytes_CheckExact, PyBytes_FromStringAndSize, PyBytes_GET_SIZE,
)
from cpython.mem cimport PyMem_Free, PyMem_Malloc
from cpython.object cimport PyObject
from cpython.pycapsule cimport PyCapsule_GetPointer
from cpython.list cimport PyList_GET_ITEM, PyList_GET_SIZE
from cpython.ref cimport Py_DECREF, Py_INCREF
from cpython.tuple cimport PyTuple_GET_ITEM
from cpython.unicode cimport PyUnicode_Check
from libc.stdint cimport int32_t, int64_t, uint8_t, uint32_t, uint64_t
from libc.string cimport memcpy, strcmp, strncmp
from libc.stdlib cimport atoi

import array as _array

from . import _inputs, _strategies
from ._grouping import Grouping
from ._strategies import CODES as _CODES_PY, unknown_strategy

IMPLEMENTATION = "native"

cdef extern from "Python.h":
    const char *PyUnicode_AsUTF8AndSize(object s, Py_ssize_t *size)  # NULL + exception on failure
    void PyErr_Clear()
    long long PyLong_AsLongLongAndOverflow(object o, int *overflow) except? -1

cdef extern from "_kernels.h" nogil:
    ctypedef struct fp_divisor:
        uint32_t d
        uint64_t m
    void fp_init()
    int fp_simd_enabled()
    void fp_simd_set(int on)
    uint32_t fp_murmur2(const uint8_t *p, size_t n)
    uint32_t fp_murmur2_kjs(const uint8_t *p, size_t n)
    uint32_t fp_crc32(const uint8_t *p, size_t n)
    uint32_t fp_fnv1a(const uint8_t *p, size_t n)
    uint32_t fp_xxh32(const uint8_t *p, size_t n)
    int32_t fp_partition_one(const uint8_t *p, size_t n, int code, uint32_t parts)
    int32_t fp_partition_null(int code, uint32_t parts)
    void fp_batch_ptrs(const uint8_t **ptrs, const size_t *lens, size_t count, int code,
                       uint32_t parts, int32_t *out)
    void fp_batch_fixed(const uint8_t *base, Py_ssize_t stride, size_t width, size_t count,
                        int code, uint32_t parts, int32_t *out)
    void fp_batch_fixed_strip(const uint8_t *base, Py_ssize_t stride, size_t width, size_t count,
                              int code, uint32_t parts, int32_t *out)
    enum:
        FP_H_MURMUR2, FP_H_CRC32, FP_H_FNV1A_ABS, FP_H_FNV1A_MASK, FP_H_FNV1A_U32, FP_H_KAFKAJS,
        FP_H_XXH32, FP_H_NONE, FP_EMPTY_HASH, FP_EMPTY_UNSET, FP_EMPTY_ZERO, FP_NULL_UNSET,
        FP_NULL_ZERO, FP_NULL_AS_EMPTY
    int FP_HASH_OF(int code)
    int FP_EMPTY_OF(int code)
    int FP_NULL_OF(int code)

fp_init()


def _check_strategy_table():
    """The C kernels decode every strategy code as ``_strategies.py`` defines it."""
    c = (FP_H_MURMUR2, FP_H_CRC32, FP_H_FNV1A_ABS, FP_H_FNV1A_MASK, FP_H_FNV1A_U32, FP_H_KAFKAJS,
         FP_H_XXH32, FP_H_NONE, FP_EMPTY_HASH, FP_EMPTY_UNSET, FP_EMPTY_ZERO, FP_NULL_UNSET,
         FP_NULL_ZERO, FP_NULL_AS_EMPTY)
    py = (_strategies.H_MURMUR2, _strategies.H_CRC32, _strategies.H_FNV1A_ABS,
          _strategies.H_FNV1A_MASK, _strategies.H_FNV1A_U32, _strategies.H_KAFKAJS,
          _strategies.H_XXH32, _strategies.H_NONE, _strategies.EMPTY_HASH, _strategies.EMPTY_UNSET,
          _strategies.EMPTY_ZERO, _strategies.NULL_UNSET, _strategies.NULL_ZERO,
          _strategies.NULL_AS_EMPTY)
    if c != py:
        raise ImportError(f"fastpart: the C strategy enum in _kernels.h {c} differs from "
                          f"_strategies.py {py}; rebuild the extension from matching sources")
    for name, fam, empty, null, *_ in _strategies._TABLE:
        code = _CODES_PY[name]
        if (FP_HASH_OF(code), FP_EMPTY_OF(code), FP_NULL_OF(code)) != (fam, empty, null):
            raise ImportError(f"fastpart: _kernels.h decodes strategy {name!r} (code {code}) as "
                              f"{(FP_HASH_OF(code), FP_EMPTY_OF(code), FP_NULL_OF(code))}, "
                              f"_strategies.py defines {(fam, empty, null)}")


_check_strategy_table()


def _simd(on=None):
    """Whether the SIMD lanes run; ``_simd(False)`` switches them off.

    For tests only: the choice is made once at import from the CPU.  A switch
    is an atomic store (thread-safe; lanes and scalar kernel give the same
    answers, a batch running meanwhile may use either).

    Example:
        >>> _simd() in (True, False)
        True
    """
    if on is not None:
        fp_simd_set(1 if on else 0)
    return bool(fp_simd_enabled())

cdef dict _CODES = dict(_CODES_PY)
cdef str _JAVA = "java"
cdef carray _INT_TEMPLATE = _array.array("i")
cdef carray _LONG_TEMPLATE = _array.array("q")
cdef uint8_t _EMPTY[1]
# Release the GIL for batches of at least this many keys (or bytes).
cdef Py_ssize_t _NOGIL_KEYS = 256


# ------------------------------------------------------------------- helpers

cdef inline int _code_of(object strategy) except -1:
    if strategy is _JAVA:
        return 0
    if type(strategy) is not str:
        if not isinstance(strategy, str):
            raise unknown_strategy(strategy)
        strategy = str.__str__(strategy)  # StrEnum members, numpy.str_: their str value
    try:
        return _CODES[strategy]
    except KeyError:
        raise unknown_strategy(strategy) from None


cdef inline uint32_t _check_n(object n) except 0:
    cdef int overflow = 0
    cdef long long v
    if type(n) is int:
        v = PyLong_AsLongLongAndOverflow(n, &overflow)
        if overflow == 0 and 1 <= v <= 2147483647:
            return <uint32_t>v
    return <uint32_t>_inputs.check_partitions(n)  # raises the same errors as the twin


cdef inline bytes _slow_key(object key, object index):
    """Bytes of a key that is not exactly bytes/str/None (or a str with lone surrogates)."""
    return _inputs.key_bytes(key, index)


cdef inline bytes _key_for_hash(object key):
    if PyBytes_CheckExact(key):
        return <bytes>key
    return _inputs.key_bytes_required(key)


# -------------------------------------------------------------------- hashes

def murmur2(key):
    """Java's ``Utils.murmur2`` of a key, as Java returns it (signed 32-bit).

    Args:
        key: ``bytes``-like or ``str`` (encoded as Java's StringSerializer does).

    Returns:
        The hash as a signed 32-bit int.

    Example:
        >>> murmur2(b"21")
        -973932308
    """
    cdef bytes b = _key_for_hash(key)
    return <int32_t>fp_murmur2(<const uint8_t *>PyBytes_AS_STRING(b), PyBytes_GET_SIZE(b))


def kafkajs_murmur2(key):
    """kafkajs 1.x / ``LegacyPartitioner`` murmur2, as kafkajs returns it (signed).

    Example:
        >>> kafkajs_murmur2(b"")
        275646684
    """
    cdef bytes b = _key_for_hash(key)
    return <int32_t>fp_murmur2_kjs(<const uint8_t *>PyBytes_AS_STRING(b), PyBytes_GET_SIZE(b))


def crc32(key):
    """CRC-32/IEEE (as ``zlib.crc32``), unsigned 32-bit.

    Example:
        >>> crc32(b"kafka") == __import__("zlib").crc32(b"kafka")
        True
    """
    cdef bytes b = _key_for_hash(key)
    return fp_crc32(<const uint8_t *>PyBytes_AS_STRING(b), PyBytes_GET_SIZE(b))


def fnv1a(key):
    """FNV-1a 32-bit, unsigned.

    Example:
        >>> hex(fnv1a(b""))
        '0x811c9dc5'
    """
    cdef bytes b = _key_for_hash(key)
    return fp_fnv1a(<const uint8_t *>PyBytes_AS_STRING(b), PyBytes_GET_SIZE(b))


def xxh32(key):
    """xxHash32 with seed 0, unsigned.

    Example:
        >>> hex(xxh32(b""))
        '0x2cc5d05'
    """
    cdef bytes b = _key_for_hash(key)
    return fp_xxh32(<const uint8_t *>PyBytes_AS_STRING(b), PyBytes_GET_SIZE(b))


def to_positive(h):
    """Kafka's ``Utils.toPositive``: ``h & 0x7fffffff``.

    Example:
        >>> to_positive(-973932308)
        1173551340
    """
    if type(h) is int:
        return h & 0x7FFFFFFF
    return _inputs.hash_int(h) & 0x7FFFFFFF


# ----------------------------------------------------------------- one key

def _partition_full(key, num_partitions, /, *, strategy="java"):
    """The partition a client picks for a keyed record (every input form).

    ``partition`` below is a METH_FASTCALL C function that answers the common
    call -- ``partition(bytes_or_str, int)`` with the Java strategy -- itself
    and hands every other call to this function, so both give the same
    answers and errors.

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
        >>> _partition_full(b"21", 10)
        0
        >>> _partition_full(None, 10)
        -1
    """
    cdef int code = _code_of(strategy)
    cdef uint32_t n = _check_n(num_partitions)
    cdef const char *p
    cdef Py_ssize_t size
    cdef bytes b
    if PyBytes_CheckExact(key):
        if code == 0:
            return <int32_t>((fp_murmur2(<const uint8_t *>PyBytes_AS_STRING(key),
                                         PyBytes_GET_SIZE(key)) & 0x7fffffffU) % n)
        return fp_partition_one(<const uint8_t *>PyBytes_AS_STRING(key), PyBytes_GET_SIZE(key), code, n)
    if key is None:
        return fp_partition_null(code, n)
    if PyUnicode_Check(key):
        p = PyUnicode_AsUTF8AndSize(key, &size)
        if p != NULL:
            return fp_partition_one(<const uint8_t *>p, size, code, n)
        PyErr_Clear()  # lone surrogates: Java's encoder writes '?'
    b = _slow_key(key, None)
    return fp_partition_one(<const uint8_t *>PyBytes_AS_STRING(b), PyBytes_GET_SIZE(b), code, n)


cdef extern from "_fastcall.h":
    object fp_make_partition(object full, object module_name)

partition = fp_make_partition(_partition_full, __name__)


# ------------------------------------------------------------------ batches

cdef class _Out:
    """The result buffer of a batch: a fresh array('i') or the caller's `out`.

    ``data`` is where the kernels write.  ``guard(lo, hi)`` is called for
    every input buffer before the first write: when the input bytes
    ``[lo, hi)`` overlap the caller's ``out``, writes go to a private
    temporary that ``finish()`` copies into ``out`` (so an ``out=`` aliasing
    the keys is answered as if it were a separate buffer).  ``finish()``
    returns the result.  A valid ``out`` is acquired as one writable
    C-contiguous buffer (held until ``finish()``); any other is handed to
    ``_inputs.check_out``, which raises the error that says what is wrong.
    """
    cdef object result
    cdef int32_t *data
    cdef int32_t *target
    cdef int32_t *temp
    cdef Py_ssize_t count
    cdef Py_buffer obuf
    cdef bint held

    def __dealloc__(self):
        if self.temp != NULL:
            PyMem_Free(self.temp)
            self.temp = NULL
        if self.held:
            self.held = False
            PyBuffer_Release(&self.obuf)

    cdef int setup(self, object out, Py_ssize_t count) except -1:
        cdef carray arr
        self.count = count
        if out is None:
            arr = clone(_INT_TEMPLATE, count, False)
            self.result = arr
            self.data = <int32_t *>arr.data.as_ints
            self.target = NULL
            return 0
        if not _out_buffer(out, &self.obuf, count):
            _inputs.check_out(out, count)  # raises what is wrong
            raise TypeError(f"out must be a writable C-contiguous int32 buffer, not {type(out).__name__}")
        self.held = True
        self.data = <int32_t *>self.obuf.buf if count > 0 else NULL
        self.target = self.data
        self.result = out
        return 0

    cdef int guard(self, const void *lo, const void *hi) except -1:
        cdef const char *a
        cdef const char *b
        if self.target == NULL or self.temp != NULL or self.count == 0 or lo == NULL or hi <= lo:
            return 0
        a = <const char *>self.target
        b = a + self.count * 4
        if <const char *>lo < b and a < <const char *>hi:
            self.temp = <int32_t *>PyMem_Malloc(self.count * 4)
            if self.temp == NULL:
                raise MemoryError()
            self.data = self.temp
        return 0

    cdef object finish(self):
        if self.temp != NULL:
            memcpy(self.target, self.temp, self.count * 4)
            PyMem_Free(self.temp)
            self.temp = NULL
            self.data = self.target
        if self.held:
            self.held = False
            PyBuffer_Release(&self.obuf)
        return self.result


cdef bint _out_buffer(object out, Py_buffer *view, Py_ssize_t count):
    """Acquire *out* as a writable C-contiguous buffer of >= *count* int32
    items (format ``i`` or ``l``, itemsize 4, after ``@``/``=``/``<``: the
    rule of ``_inputs.check_out``); False (nothing held) otherwise."""
    cdef const char *f
    try:
        PyObject_GetBuffer(out, view, PyBUF_WRITABLE | PyBUF_FORMAT | PyBUF_C_CONTIGUOUS)
    except Exception:
        return False
    f = view.format
    if f != NULL:
        while f[0] == c'@' or f[0] == c'=' or f[0] == c'<':
            f += 1
    if (f != NULL and view.itemsize == 4 and (f[0] == c'i' or f[0] == c'l') and f[1] == 0
            and not view.readonly and view.len // 4 >= count):
        return True
    PyBuffer_Release(view)
    return False


# Keys are read and hashed in chunks, so each key's bytes are still in cache
# when they are hashed; the GIL is released for the hashing of every chunk.
cdef enum:
    CHUNK = 1024


cdef int _gather(object seq, bint is_list, Py_ssize_t pos, Py_ssize_t m, Py_ssize_t count,
                 const uint8_t **ptrs, size_t *lens, PyObject **refs, Py_ssize_t *held,
                 list keep) except -1:
    """Pointers and lengths of keys pos..pos+m-1; for a list, a reference on each."""
    cdef Py_ssize_t i, j, size
    cdef PyObject *k
    cdef const char *p
    cdef bytes b
    for j in range(m):
        i = pos + j
        if is_list:
            if i >= PyList_GET_SIZE(seq):  # a key's own code removed list items
                raise _inputs.list_shrank_error()
            k = PyList_GET_ITEM(seq, i)
            Py_INCREF(<object>k)
            refs[j] = k
            held[0] = j + 1
        else:
            k = PyTuple_GET_ITEM(seq, i)
        if PyBytes_CheckExact(<object>k):
            ptrs[j] = <const uint8_t *>PyBytes_AS_STRING(<object>k)
            lens[j] = PyBytes_GET_SIZE(<object>k)
            continue
        if k == <PyObject *>None:
            ptrs[j] = NULL
            lens[j] = 0
            continue
        if PyUnicode_Check(<object>k):
            p = PyUnicode_AsUTF8AndSize(<object>k, &size)
            if p != NULL:
                ptrs[j] = <const uint8_t *>p
                lens[j] = size
                continue
            PyErr_Clear()
        b = _slow_key(<object>k, i)
        keep.append(b)
        ptrs[j] = <const uint8_t *>PyBytes_AS_STRING(b)
        lens[j] = PyBytes_GET_SIZE(b)
    return 0


cdef object _batch_sequence(object seq, int code, uint32_t n, object out):
    """A list or tuple of keys (anything else is snapshotted into a tuple).

    The first ``len(seq)`` items at the call are the keys.  A tuple holds its
    keys alive by itself.  The keys of a list are read inside a critical
    section (free-threaded builds; a no-op under the GIL) and held by a
    reference for each chunk while its GIL-free hashing runs, so a list
    mutated meanwhile can never free a key in use; a list that shrinks below
    an index still to be read is an error (as in the pure twin).
    """
    cdef bint is_list = type(seq) is list
    if not is_list and type(seq) is not tuple:
        seq = tuple(seq)
    cdef Py_ssize_t count = len(seq)
    cdef Py_ssize_t j, m, pos = 0, held = 0
    cdef list keep = []
    cdef _Out res = _Out()
    cdef const uint8_t *ptrs[CHUNK]
    cdef size_t lens[CHUNK]
    cdef PyObject *refs[CHUNK]
    res.setup(out, count)
    while pos < count:
        m = count - pos if count - pos < CHUNK else CHUNK
        try:
            if is_list:
                with cython.critical_section(seq):
                    _gather(seq, True, pos, m, count, ptrs, lens, refs, &held, keep)
            else:
                _gather(seq, False, pos, m, count, ptrs, lens, refs, &held, keep)
            if count >= _NOGIL_KEYS:
                with nogil:
                    fp_batch_ptrs(ptrs, lens, m, code, n, res.data + pos)
            else:
                fp_batch_ptrs(ptrs, lens, m, code, n, res.data + pos)
        finally:
            for j in range(held):
                Py_DECREF(<object>refs[j])
            held = 0
            del keep[:]
        pos += m
    return res.finish()


cdef object _quick_kind(const char *f, int ndim):
    """The kind ``_inputs.buffer_kind`` gives the common batch formats (1-D
    ``<w>s``/``<w>x``, 2-D ``B``/``b``/``c``), read without a Python call;
    None for every other format (the rules module decides and words errors).
    tests/test_contract.py checks both agree."""
    cdef char code
    if f == NULL:
        code = c'B'
    else:
        while f[0] == c'@' or f[0] == c'=' or f[0] == c'<' or f[0] == c'>' or f[0] == c'!':
            f += 1
        while c'0' <= f[0] <= c'9':
            f += 1
        code = f[0]
        if code == 0 or f[1] != 0:
            return None
    if ndim == 1 and code == c's':
        return "strip"
    if ndim == 1 and code == c'x':
        return "fixed"
    if ndim == 2 and (code == c'B' or code == c'b' or code == c'c'):
        return "rows"
    return None


def _quick_kind_of(fmt, int ndim):
    """Test hook: ``_quick_kind`` of a format string (None: left to the rules)."""
    return _quick_kind(<const char *>fmt if fmt is not None else NULL, ndim)


cdef object _batch_buffer(object keys, int code, uint32_t n, object out):
    """A buffer given as a batch, classified from ONE acquired buffer.

    NumPy ``S<w>`` (trailing NULs stripped, as NumPy's elements), void
    ``V<w>`` and 2-D byte rows (every byte kept) are hashed in place; object
    and unicode arrays are read element by element (``tolist()``); anything
    else raises the twin's error.
    """
    cdef Py_buffer view
    cdef Py_ssize_t count, width, stride, d
    cdef const char *lo
    cdef const char *hi
    cdef _Out res
    cdef bytes packed = None
    cdef const uint8_t *base
    cdef bint strip
    try:
        PyObject_GetBuffer(keys, &view, PyBUF_STRIDES | PyBUF_FORMAT)
    except Exception:
        return _batch_sequence(_inputs.batch_keys(keys), code, n, out)  # the twin's error
    try:
        kind = _quick_kind(view.format, view.ndim)
        if kind is None:  # the rules, and every error, in one place
            fmt = None if view.format == NULL else view.format.decode("ascii", "replace")
            kind = _inputs.buffer_kind(keys, fmt, view.ndim, view.itemsize)
        if kind == "objects" or kind == "unicode":
            if view.ndim != 1:
                raise TypeError(f"an array of {kind} keys must be 1-D, not {view.ndim}-D; use .ravel()")
            seq = None
        else:
            seq = False
            strip = kind == "strip"
            count = view.shape[0]
            base = <const uint8_t *>view.buf
            stride = view.strides[0]
            if kind == "rows":
                width = view.shape[1] * view.itemsize
                if view.strides[1] != view.itemsize and count > 0 and width > 0:
                    # non-contiguous rows: one C-order copy (a private buffer)
                    packed = PyBytes_FromStringAndSize(NULL, count * width)
                    PyBuffer_ToContiguous(PyBytes_AS_STRING(packed), &view, count * width, b"C")
                    base = <const uint8_t *>PyBytes_AS_STRING(packed)
                    stride = width
            else:
                width = view.itemsize
            res = _Out()
            res.setup(out, count)
            if count and packed is None:
                # the bytes read: from the lowest to the highest address of any item
                lo = <const char *>view.buf
                hi = lo + view.itemsize
                for d in range(view.ndim):
                    if view.strides[d] < 0:
                        lo += view.strides[d] * (view.shape[d] - 1)
                    else:
                        hi += view.strides[d] * (view.shape[d] - 1)
                res.guard(lo, hi)
            if count:
                if count >= _NOGIL_KEYS:
                    with nogil:
                        if strip:
                            fp_batch_fixed_strip(base, stride, width, count, code, n, res.data)
                        else:
                            fp_batch_fixed(base, stride, width, count, code, n, res.data)
                elif strip:
                    fp_batch_fixed_strip(base, stride, width, count, code, n, res.data)
                else:
                    fp_batch_fixed(base, stride, width, count, code, n, res.data)
            return res.finish()
    finally:
        PyBuffer_Release(&view)
    # object / unicode arrays: elements(x) (no buffer is acquired again)
    return _batch_sequence(keys.tolist() if hasattr(keys, "tolist") else list(keys), code, n, out)


include "_arrow.pxi"


cdef dict _ARROW_CLASS = {}


cdef bint _is_arrow_class(type cls) except -1:
    """Whether *cls* exports the Arrow PyCapsule interface (memoized per class:
    two failed ``hasattr`` lookups cost more than hashing a few keys)."""
    found = _ARROW_CLASS.get(cls)
    if found is None:
        found = hasattr(cls, "__arrow_c_stream__") or hasattr(cls, "__arrow_c_array__")
        if len(_ARROW_CLASS) >= 256:  # classes made on the fly: bounded
            _ARROW_CLASS.clear()
        _ARROW_CLASS[cls] = found
    return found


def partition_many(keys, num_partitions, *, strategy="java", out=None):
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
        keys: a sequence of keys (bytes-like, str or None), a NumPy ``S<w>``,
            ``V<w>`` or 2-D ``uint8`` array, a NumPy object or unicode array,
            or an Arrow array / chunked array (binary, string, their large and
            view forms, fixed_size_binary) through the Arrow PyCapsule interface.
        num_partitions: the topic's partition count, 1 to 2**31-1.
        strategy: a name from ``fastpart.strategies()`` (any ``str``).
        out: optional writable C-contiguous int32 buffer of at least
            ``len(keys)`` items, filled and returned (it may overlap the keys).

    Returns:
        ``array.array('i')`` (or *out*).

    Example:
        >>> list(partition_many([b"21", "kafka", None], 10))
        [0, 0, -1]
    """
    cdef int code = _code_of(strategy)
    cdef uint32_t n = _check_n(num_partitions)
    cdef type cls = type(keys)
    if cls is list or cls is tuple:
        return _batch_sequence(keys, code, n, out)
    if isinstance(keys, (bytes, bytearray, str)):
        _inputs.batch_keys(keys)  # raises the "not a single key" error
    if _is_arrow_class(cls):
        # the compiled reader reads every Arrow input itself or raises (never the twin's reader)
        return _batch_arrow(keys, code, n, out)
    if PyObject_CheckBuffer(keys):
        return _batch_buffer(keys, code, n, out)
    try:
        seq = tuple(keys)
    except TypeError:
        raise TypeError(f"keys must be a sequence or array of keys, not {cls.__name__}") from None
    return _batch_sequence(seq, code, n, out)


def group_by_partition(keys, num_partitions, *, strategy="java"):
    """Group keys by partition (stable): see ``fastpart.Grouping``.

    One hashing pass, then a stable counting sort of the key indices by
    partition (two 16-bit radix passes, so any partition count works).

    Example:
        >>> g = group_by_partition([b"a", b"b", b"a"], 3)
        >>> [(p, list(idx)) for p, idx in g]
        [(1, [0, 2]), (2, [1])]
    """
    parts = partition_many(keys, num_partitions, strategy=strategy)
    cdef carray pa = parts
    cdef Py_ssize_t count = len(pa), i
    cdef int32_t *p = <int32_t *>pa.data.as_ints
    cdef carray order = clone(_LONG_TEMPLATE, count, False)
    cdef carray tmp = clone(_LONG_TEMPLATE, count, False)
    cdef long long *o = order.data.as_longlongs
    cdef long long *t = tmp.data.as_longlongs
    cdef Py_ssize_t *hist = <Py_ssize_t *>PyMem_Malloc(65537 * sizeof(Py_ssize_t))
    cdef Py_ssize_t ngroups = 0, acc, c
    cdef uint32_t key, prev
    cdef int shift
    if hist == NULL:
        raise MemoryError()
    try:
        with nogil:
            for i in range(count):
                t[i] = i
            # LSD radix sort on (partition + 1) as uint32: low 16 bits, then high 16 bits.
            for shift in range(0, 32, 16):
                for i in range(65537):
                    hist[i] = 0
                for i in range(count):
                    hist[((<uint32_t>(p[t[i]] + 1) >> shift) & 0xFFFF) + 1] += 1
                for i in range(1, 65537):
                    hist[i] += hist[i - 1]
                for i in range(count):
                    key = (<uint32_t>(p[t[i]] + 1) >> shift) & 0xFFFF
                    o[hist[key]] = t[i]
                    hist[key] += 1
                if shift == 0:
                    for i in range(count):
                        t[i] = o[i]
            for i in range(count):
                if i == 0 or p[o[i]] != p[o[i - 1]]:
                    ngroups += 1
    finally:
        PyMem_Free(hist)
    cdef carray ids = clone(_INT_TEMPLATE, ngroups, False)
    cdef carray offsets = clone(_LONG_TEMPLATE, ngroups + 1, False)
    cdef Py_ssize_t g = 0
    for i in range(count):
        if i == 0 or p[o[i]] != p[o[i - 1]]:
            ids.data.as_ints[g] = p[o[i]]
            offsets.data.as_longlongs[g] = i
            g += 1
    offsets.data.as_longlongs[ngroups] = count
    return Grouping(parts, order, ids, offsets)
