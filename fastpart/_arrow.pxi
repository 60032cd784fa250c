# Arrow C Data / C Stream reader of the compiled core, included by _core.pyx
# (one extension module).  Entry point: _batch_arrow(keys, code, n, out),
# which returns the result buffer or raises; a stream is read exactly once.
# Checks and hashing run in C (_arrow_kernels.h); the rules and error texts
# are shared with the pure twin through fastpart/_arrow_rules.py.

from cpython.mem cimport PyMem_Realloc

from . import _arrow_rules as _AR

cdef extern from *:
    """
    struct FpArrowSchema {
      const char *format; const char *name; const char *metadata; int64_t flags;
      int64_t n_children; struct FpArrowSchema **children; struct FpArrowSchema *dictionary;
      void (*release)(struct FpArrowSchema *); void *private_data;
    };
    struct FpArrowArray {
      int64_t length; int64_t null_count; int64_t offset; int64_t n_buffers; int64_t n_children;
      const void **buffers; struct FpArrowArray **children; struct FpArrowArray *dictionary;
      void (*release)(struct FpArrowArray *); void *private_data;
    };
    struct FpArrowArrayStream {
      int (*get_schema)(struct FpArrowArrayStream *, struct FpArrowSchema *out);
      int (*get_next)(struct FpArrowArrayStream *, struct FpArrowArray *out);
      const char *(*get_last_error)(struct FpArrowArrayStream *);
      void (*release)(struct FpArrowArrayStream *);
      void *private_data;
    };
    static void fp_release_schema(struct FpArrowSchema *s) { if (s->release) s->release(s); }
    static void fp_release_array(struct FpArrowArray *a) { if (a->release) a->release(a); }
    static int fp_stream_live(struct FpArrowArrayStream *st) { return st->release != NULL && st->get_schema != NULL && st->get_next != NULL; }
    static int fp_stream_schema(struct FpArrowArrayStream *st, struct FpArrowSchema *out) { return st->get_schema(st, out); }
    static int fp_stream_next(struct FpArrowArrayStream *st, struct FpArrowArray *out) { return st->get_next(st, out); }
    static const char *fp_stream_error(struct FpArrowArrayStream *st) { const char *e = st->get_last_error ? st->get_last_error(st) : NULL; return e ? e : "(no message)"; }
    """
    struct FpArrowSchema:
        const char *format
        const char *metadata
        FpArrowSchema *dictionary
        void *release
    struct FpArrowArray:
        int64_t length
        int64_t null_count
        int64_t offset
        int64_t n_buffers
        const void **buffers
        FpArrowArray *dictionary
        void *release
    struct FpArrowArrayStream:
        pass
    void fp_release_schema(FpArrowSchema *s)
    void fp_release_array(FpArrowArray *a)
    int fp_stream_live(FpArrowArrayStream *st)
    int fp_stream_schema(FpArrowArrayStream *st, FpArrowSchema *out)
    int fp_stream_next(FpArrowArrayStream *st, FpArrowArray *out)
    const char *fp_stream_error(FpArrowArrayStream *st)

cdef extern from "_arrow_kernels.h" nogil:
    enum:
        FPA_NULL
        FPA_BIN32
        FPA_BIN64
        FPA_VIEW
        FPA_FIXED
    ctypedef struct fpa_col:
        int kind
        int64_t width
        int64_t length
        int64_t offset
        const uint8_t *valid
        const uint8_t *index
        const uint8_t *data
        const uint8_t **vbufs
        const uint8_t *vsizes
        int64_t nvar
    int fpa_check(const fpa_col *c, int64_t *bad)
    int fpa_check_index(const uint8_t *idx, int w, int sgn, const uint8_t *valid, int64_t offset,
                        int64_t length, int64_t dlen, int64_t *bad)
    int fpa_range(const fpa_col *c, int64_t r, const uint8_t **lo, const uint8_t **hi)
    void fpa_hash(const fpa_col *c, int64_t start, int64_t count, int code, uint32_t n, int32_t *out)
    void fpa_hash_dict(const fpa_col *d, const uint8_t *idx, int w, int sgn, const uint8_t *valid,
                       int64_t offset, int64_t length, int code, uint32_t n, int32_t *out)

cdef extern from "<stdint.h>":
    const int64_t INT64_MAX


cdef struct _Chunk:
    fpa_col col     # the keys, or the dictionary's values when iw > 0
    int iw          # dictionary index width in bytes (0: not a dictionary)
    int isgn
    const uint8_t *idx
    const uint8_t *ivalid
    int64_t ioffset
    int64_t ilength


cdef struct _Lay:
    # what a schema says: the key kind, or a dictionary's index and value kinds
    int kind
    int64_t width
    int iw
    int isgn

# type -> (source, stream): source 0 when _AR.check_source has nothing to do for it
cdef dict _ARROW_TYPES = {}


cdef object _ext_name(const FpArrowSchema *s):
    cdef const char *m = s.metadata
    cdef int32_t count, ln
    cdef Py_ssize_t pos = 4, i
    if m == NULL:
        return None
    memcpy(&count, m, 4)
    if count < 0:
        raise ValueError("malformed Arrow schema metadata: negative count")
    for i in range(2 * count):
        memcpy(&ln, m + pos, 4)
        if ln < 0:
            raise ValueError("malformed Arrow schema metadata: negative length")
        pos += 4 + ln
    return _AR.extension_name(m[:pos])


cdef str _schema_layout(const FpArrowSchema *s, _Lay *lay):
    """Fill *lay* from a schema; returns the key (or dictionary value) format."""
    cdef const FpArrowSchema *d
    cdef const char *f
    if s.release == NULL:
        raise _AR.released("schema")
    if s.format == NULL:
        raise ValueError("malformed Arrow schema: its format string is NULL")
    fmt = (<bytes>s.format).decode("utf-8", "replace")
    ext = _ext_name(s)
    if ext is not None and ext not in _AR.SAFE_EXTENSIONS:
        raise _AR.not_a_key_column(fmt, ext)
    lay.kind = lay.width = lay.iw = lay.isgn = 0
    d = s.dictionary
    if d != NULL:
        spec = _AR.INDEX_FORMATS.get(fmt)
        if spec is None:
            raise ValueError(f"malformed Arrow schema: dictionary index format {fmt!r} is not an integer")
        lay.iw = spec[0]
        lay.isgn = 1 if spec[1] else 0
        if d.format == NULL:
            raise ValueError("malformed Arrow schema: the dictionary's format string is NULL")
        if d.dictionary != NULL:
            raise TypeError("an Arrow dictionary of dictionaries is not a key column: decode it first")
        fmt = (<bytes>d.format).decode("utf-8", "replace")
        ext = _ext_name(d)
        if ext is not None and ext not in _AR.SAFE_EXTENSIONS:
            raise _AR.not_a_key_column(fmt, ext)
    f = d.format if d != NULL else s.format
    if strcmp(f, "u") == 0 or strcmp(f, "z") == 0:  # the common formats without a Python call
        lay.kind = FPA_BIN32
    elif strcmp(f, "U") == 0 or strcmp(f, "Z") == 0:
        lay.kind = FPA_BIN64
    elif strcmp(f, "vu") == 0 or strcmp(f, "vz") == 0:
        lay.kind = FPA_VIEW
    else:
        lay.kind, lay.width = _AR.parse_format(fmt)
    return fmt


cdef int _fill_col(fpa_col *c, int kind, int64_t width, const FpArrowArray *a, str fmt, Py_ssize_t chunk,
                   str where) except -1:
    """Structural checks of one array (O(1)), then the O(n) checks in C."""
    cdef int64_t bad = -1, need
    cdef int rule
    if a.length < 0:
        raise _AR.malformed(chunk, None, 1, where)
    if a.offset < 0:
        raise _AR.malformed(chunk, None, 2, where)
    if a.null_count < -1:
        raise _AR.malformed(chunk, None, 3, where)
    if a.offset > INT64_MAX - a.length - 1:
        raise _AR.malformed(chunk, None, 4, where)
    need = 0 if kind == FPA_NULL else 2 if kind == FPA_FIXED else 3
    if (a.n_buffers < need) if kind == FPA_VIEW else (a.n_buffers != need):
        raise _AR.buffer_count_error(chunk, fmt, a.n_buffers, need, where)
    if a.n_buffers > 0 and a.buffers == NULL:
        raise _AR.malformed(chunk, None, 5, where)
    c.kind = kind
    c.width = width
    c.length = a.length
    c.offset = a.offset
    c.valid = NULL
    c.index = NULL
    c.data = NULL
    c.vbufs = NULL
    c.vsizes = NULL
    c.nvar = 0
    if kind == FPA_NULL:
        return 0
    if a.buffers[0] == NULL and a.null_count > 0:
        raise _AR.malformed(chunk, None, 6, where)
    if a.null_count != 0:
        c.valid = <const uint8_t *>a.buffers[0]
    c.index = <const uint8_t *>a.buffers[1]
    if kind == FPA_BIN32 or kind == FPA_BIN64:
        if c.index == NULL and a.length > 0:
            raise _AR.malformed(chunk, None, 7, where)
        c.data = <const uint8_t *>a.buffers[2]
    elif kind == FPA_VIEW:
        if c.index == NULL and a.length > 0:
            raise _AR.malformed(chunk, None, 11, where)
        c.nvar = a.n_buffers - 3
        c.vbufs = <const uint8_t **>(a.buffers + 2)
        c.vsizes = <const uint8_t *>a.buffers[a.n_buffers - 1]
        if c.nvar > 0 and c.vsizes == NULL:
            raise _AR.malformed(chunk, None, 23, where)
    else:
        if width > 0 and a.offset + a.length > INT64_MAX // width:
            raise _AR.malformed(chunk, None, 22, where)
        if c.index == NULL and a.length > 0 and width > 0:
            raise _AR.malformed(chunk, None, 8, where)
    if a.length >= _NOGIL_KEYS:
        with nogil:
            rule = fpa_check(c, &bad)
    else:
        rule = fpa_check(c, &bad)
    if rule:
        raise _AR.malformed(chunk, bad, rule, where)
    return 0


cdef int _fill_chunk(_Chunk *ck, const _Lay *lay, str fmt, const FpArrowArray *a, Py_ssize_t chunk) except -1:
    cdef int64_t bad = -1
    cdef int rule
    if a.release == NULL:
        raise _AR.released("array")
    ck.iw = lay.iw
    if lay.iw == 0:
        return _fill_col(&ck.col, lay.kind, lay.width, a, fmt, chunk, "")
    # a dictionary array: validity + indices, then the dictionary's values
    if a.length < 0:
        raise _AR.malformed(chunk, None, 1, "")
    if a.offset < 0:
        raise _AR.malformed(chunk, None, 2, "")
    if a.null_count < -1:
        raise _AR.malformed(chunk, None, 3, "")
    if a.offset > INT64_MAX - a.length - 1:
        raise _AR.malformed(chunk, None, 4, "")
    if a.n_buffers != 2:
        raise _AR.buffer_count_error(chunk, "dictionary indices", a.n_buffers, 2)
    if a.buffers == NULL:
        raise _AR.malformed(chunk, None, 5, "")
    if a.buffers[0] == NULL and a.null_count > 0:
        raise _AR.malformed(chunk, None, 6, "")
    if a.buffers[1] == NULL and a.length > 0:
        raise _AR.malformed(chunk, None, 21, "")
    if a.dictionary == NULL:
        raise _AR.malformed(chunk, None, 20, "")
    ck.isgn = lay.isgn
    ck.idx = <const uint8_t *>a.buffers[1]
    ck.ivalid = <const uint8_t *>a.buffers[0] if a.null_count != 0 else NULL
    ck.ioffset = a.offset
    ck.ilength = a.length
    _fill_col(&ck.col, lay.kind, lay.width, a.dictionary, fmt, chunk, " dictionary")
    if a.length >= _NOGIL_KEYS:
        with nogil:
            rule = fpa_check_index(ck.idx, ck.iw, ck.isgn, ck.ivalid, ck.ioffset, ck.ilength,
                                   ck.col.length, &bad)
    else:
        rule = fpa_check_index(ck.idx, ck.iw, ck.isgn, ck.ivalid, ck.ioffset, ck.ilength, ck.col.length, &bad)
    if rule:
        raise _AR.malformed(chunk, bad, rule, "")
    return 0


cdef int _guard(_Out res, _Chunk *cks, Py_ssize_t nck) except -1:
    """Every input byte range the hashing reads, for out='s overlap guard."""
    cdef Py_ssize_t i
    cdef int64_t r, w
    cdef const uint8_t *lo
    cdef const uint8_t *hi
    for i in range(nck):
        r = 0
        while fpa_range(&cks[i].col, r, &lo, &hi):
            res.guard(lo, hi)
            r += 1
        if cks[i].iw and cks[i].ilength:
            w = cks[i].iw
            if cks[i].ivalid != NULL:
                res.guard(cks[i].ivalid + (cks[i].ioffset >> 3),
                          cks[i].ivalid + ((cks[i].ioffset + cks[i].ilength + 7) >> 3))
            res.guard(cks[i].idx + cks[i].ioffset * w, cks[i].idx + (cks[i].ioffset + cks[i].ilength) * w)
    return 0


cdef object _hash_chunks(_Chunk *cks, Py_ssize_t nck, int code, uint32_t n, object out):
    """Hash every checked chunk into one output (out= overlapping the input is safe)."""
    cdef Py_ssize_t total = 0, pos = 0, i, length
    cdef int32_t *dst
    cdef _Out res = _Out()
    for i in range(nck):
        total += cks[i].ilength if cks[i].iw else cks[i].col.length
    res.setup(out, total)
    if total == 0:
        return res.finish()
    if out is not None:
        _guard(res, cks, nck)
    dst = res.data  # after the guards: a temporary when out overlaps the input
    for i in range(nck):
        if cks[i].iw:
            length = cks[i].ilength
            with nogil:
                fpa_hash_dict(&cks[i].col, cks[i].idx, cks[i].iw, cks[i].isgn, cks[i].ivalid,
                              cks[i].ioffset, length, code, n, dst + pos)
        else:
            length = cks[i].col.length
            if length >= _NOGIL_KEYS:
                with nogil:
                    fpa_hash(&cks[i].col, 0, length, code, n, dst + pos)
            else:
                fpa_hash(&cks[i].col, 0, length, code, n, dst + pos)
        pos += length
    return res.finish()


cdef object _read_arrays(const _Lay *lay, str fmt, FpArrowArray **arrays, Py_ssize_t nck, int code,
                         uint32_t n, object out):
    """Check every array, then hash them."""
    cdef Py_ssize_t i
    cdef _Chunk *cks = <_Chunk *>PyMem_Malloc((nck if nck else 1) * sizeof(_Chunk))
    if cks == NULL:
        raise MemoryError()
    try:
        for i in range(nck):
            _fill_chunk(&cks[i], lay, fmt, arrays[i], i)
        return _hash_chunks(cks, nck, code, n, out)
    finally:
        PyMem_Free(cks)


cdef object _batch_arrow(object keys, int code, uint32_t n, object out):
    cdef FpArrowSchema *schema
    cdef FpArrowArray *arr
    cdef FpArrowArray **arrays = NULL
    cdef FpArrowArray **grown
    cdef FpArrowArrayStream *stream
    cdef FpArrowSchema stream_schema
    cdef Py_ssize_t count = 0, cap = 0, i
    cdef _Lay lay
    cdef str fmt
    cls = type(keys)
    entry = _ARROW_TYPES.get(cls)
    if entry is None:
        entry = (_AR.source_kind(cls), hasattr(cls, "__arrow_c_stream__"))
        _ARROW_TYPES[cls] = entry
    if entry[0] == 2:  # pyarrow: its own non-full validation; the rules module names the chunk
        try:
            keys.validate()
        except Exception:
            _AR.check_source(keys)
            raise
    elif entry[0] == 3:  # an Arrow-backed pandas Series: its pyarrow array, validated as pyarrow
        arrow = _AR.pandas_arrow(keys)
        if arrow is not keys:
            return _batch_arrow(arrow, code, n, out)
    elif entry[0] == 1 and not entry[1]:  # polars without the stream: checked here (with it: below)
        keys = _AR.check_source(keys)
    if entry[1]:
        try:
            capsule = keys.__arrow_c_stream__()
        except (TypeError, ValueError):
            raise
        except Exception as exc:
            raise _AR.export_failed(keys, "__arrow_c_stream__", exc) from exc
        stream = <FpArrowArrayStream *>PyCapsule_GetPointer(capsule, "arrow_array_stream")
        if not fp_stream_live(stream):
            raise _AR.released("array stream")
        stream_schema.release = NULL
        try:
            if fp_stream_schema(stream, &stream_schema) != 0:
                raise ValueError(f"Arrow stream get_schema failed: {fp_stream_error(stream).decode('utf-8', 'replace')}")
            fmt = _schema_layout(&stream_schema, &lay)
            if entry[0] == 1 and lay.kind != FPA_BIN32 and lay.kind != FPA_BIN64 and lay.kind != FPA_VIEW:
                _AR.check_source(keys)  # a polars Object Series exports fixed_size_binary(8) addresses
            while True:
                if count == cap:
                    cap = 2 * cap + 8
                    grown = <FpArrowArray **>PyMem_Realloc(arrays, cap * sizeof(FpArrowArray *))
                    if grown == NULL:
                        raise MemoryError()
                    arrays = grown
                arr = <FpArrowArray *>PyMem_Malloc(sizeof(FpArrowArray))
                if arr == NULL:
                    raise MemoryError()
                arr.release = NULL
                if fp_stream_next(stream, arr) != 0:
                    PyMem_Free(arr)
                    raise ValueError(f"Arrow stream get_next failed: {fp_stream_error(stream).decode('utf-8', 'replace')}")
                if arr.release == NULL:
                    PyMem_Free(arr)
                    break
                arrays[count] = arr
                count += 1
            return _read_arrays(&lay, fmt, arrays, count, code, n, out)
        finally:
            for i in range(count):
                fp_release_array(arrays[i])
                PyMem_Free(arrays[i])
            PyMem_Free(arrays)
            fp_release_schema(&stream_schema)
            del capsule  # its destructor releases the stream
    try:
        exported = keys.__arrow_c_array__()
    except (TypeError, ValueError):
        raise
    except Exception as exc:
        raise _AR.export_failed(keys, "__arrow_c_array__", exc) from exc
    if type(exported) is not tuple or len(exported) != 2:
        raise TypeError("__arrow_c_array__() must return a (schema capsule, array capsule) pair")
    schema_capsule, array_capsule = exported
    schema = <FpArrowSchema *>PyCapsule_GetPointer(schema_capsule, "arrow_schema")
    arr = <FpArrowArray *>PyCapsule_GetPointer(array_capsule, "arrow_array")
    fmt = _schema_layout(schema, &lay)
    # read in place: the capsules keep schema and array alive and release them
    return _read_arrays(&lay, fmt, &arr, 1, code, n, out)
