# Arrow C Data / C Stream reader of the compiled core, included by _core.pyx
# (one extension module).  Entry point: _batch_arrow(keys, code, n, out),
# which returns the result buffer, or None when the type is not read here.
# It uses _Out, CHUNK, _EMPTY and the kernels declared in _core.pyx.

# ---------------------------------------------------------------------- Arrow

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
    static int fp_stream_schema(struct FpArrowArrayStream *st, struct FpArrowSchema *out) { return st->get_schema(st, out); }
    static int fp_stream_next(struct FpArrowArrayStream *st, struct FpArrowArray *out) { return st->get_next(st, out); }
    static const char *fp_stream_error(struct FpArrowArrayStream *st) { const char *e = st->get_last_error ? st->get_last_error(st) : NULL; return e ? e : "(no message)"; }
    """
    struct FpArrowSchema:
        const char *format
        FpArrowSchema *dictionary
        void *release
    struct FpArrowArray:
        int64_t length
        int64_t null_count
        int64_t offset
        int64_t n_buffers
        const void **buffers
        void *release
    struct FpArrowArrayStream:
        pass
    void fp_release_schema(FpArrowSchema *s)
    void fp_release_array(FpArrowArray *a)
    int fp_stream_schema(FpArrowArrayStream *st, FpArrowSchema *out)
    int fp_stream_next(FpArrowArrayStream *st, FpArrowArray *out)
    const char *fp_stream_error(FpArrowArrayStream *st)


cdef int _arrow_kind(const FpArrowSchema *schema):
    """0 unsupported, 1 z/u, 2 Z/U, 3 vz/vu, 4 w:N, 5 null type."""
    cdef const char *f = schema.format
    if schema.dictionary != NULL or f == NULL:
        return 0
    if strcmp(f, "z") == 0 or strcmp(f, "u") == 0:
        return 1
    if strcmp(f, "Z") == 0 or strcmp(f, "U") == 0:
        return 2
    if strcmp(f, "vz") == 0 or strcmp(f, "vu") == 0:
        return 3
    if strncmp(f, "w:", 2) == 0:
        return 4
    if strcmp(f, "n") == 0:
        return 5
    return 0


cdef int _arrow_chunk(int kind, int width, const FpArrowArray *a, const uint8_t **ptrs,
                      size_t *lens) except -1 nogil:
    """Fill pointer/length pairs for one chunk (NULL pointer = null key)."""
    cdef int64_t i, j, start, end
    cdef int64_t off = a.offset
    cdef const uint8_t *valid = <const uint8_t *>a.buffers[0] if (a.n_buffers > 0 and a.null_count != 0) else NULL
    cdef const int32_t *o32
    cdef const int64_t *o64
    cdef const uint8_t *data
    cdef const uint8_t *view
    cdef int32_t vlen, vbuf, voff
    for i in range(a.length):
        j = off + i
        if kind == 5 or (valid != NULL and not ((valid[j >> 3] >> (j & 7)) & 1)):
            ptrs[i] = NULL
            lens[i] = 0
            continue
        if kind == 1:
            o32 = <const int32_t *>a.buffers[1]
            start = o32[j]
            end = o32[j + 1]
            data = <const uint8_t *>a.buffers[2]
            ptrs[i] = (data + start) if data != NULL else _EMPTY
            lens[i] = <size_t>(end - start)
        elif kind == 2:
            o64 = <const int64_t *>a.buffers[1]
            start = o64[j]
            end = o64[j + 1]
            data = <const uint8_t *>a.buffers[2]
            ptrs[i] = (data + start) if data != NULL else _EMPTY
            lens[i] = <size_t>(end - start)
        elif kind == 3:
            view = <const uint8_t *>a.buffers[1] + j * 16
            memcpy(&vlen, view, 4)
            if vlen <= 12:
                ptrs[i] = view + 4
            else:
                memcpy(&vbuf, view + 8, 4)
                memcpy(&voff, view + 12, 4)
                ptrs[i] = <const uint8_t *>a.buffers[2 + vbuf] + voff
            lens[i] = <size_t>vlen
        else:
            data = <const uint8_t *>a.buffers[1]
            ptrs[i] = (data + j * width) if data != NULL else _EMPTY
            lens[i] = <size_t>width
    return 0


cdef object _hash_chunks(const FpArrowSchema *schema, list chunks, int code, uint32_t n, object out):
    """Hash every chunk (a list of capsule-free FpArrowArray* as ints) into one output."""
    cdef int kind = _arrow_kind(schema)
    cdef int width = atoi(schema.format + 2) if kind == 4 else 0
    cdef Py_ssize_t total = 0, pos = 0, maxlen = 0, length
    cdef FpArrowArray *a
    for c in chunks:
        a = <FpArrowArray *><size_t>c
        total += a.length
        if a.length > maxlen:
            maxlen = a.length
    cdef _Out res = _Out()
    res.setup(out, total)
    if total == 0:
        return res.result
    cdef const uint8_t **ptrs = <const uint8_t **>PyMem_Malloc(maxlen * sizeof(uint8_t *))
    cdef size_t *lens = <size_t *>PyMem_Malloc(maxlen * sizeof(size_t))
    if ptrs == NULL or lens == NULL:
        PyMem_Free(ptrs)
        PyMem_Free(lens)
        raise MemoryError(f"cannot allocate the pointer table for {maxlen} keys")
    try:
        for c in chunks:
            a = <FpArrowArray *><size_t>c
            length = a.length
            with nogil:
                _arrow_chunk(kind, width, a, ptrs, lens)
                fp_batch_ptrs(ptrs, lens, length, code, n, res.data + pos)
            pos += length
    finally:
        PyMem_Free(ptrs)
        PyMem_Free(lens)
    return res.result


cdef object _batch_arrow(object keys, int code, uint32_t n, object out):
    cdef FpArrowSchema *schema
    cdef FpArrowArray *arr
    cdef FpArrowArrayStream *stream
    cdef FpArrowSchema stream_schema
    cdef list chunks
    cls = type(keys)
    if hasattr(cls, "__arrow_c_stream__"):
        capsule = keys.__arrow_c_stream__()
        stream = <FpArrowArrayStream *>PyCapsule_GetPointer(capsule, "arrow_array_stream")
        stream_schema.release = NULL
        if fp_stream_schema(stream, &stream_schema) != 0:
            raise ValueError(f"Arrow stream get_schema failed: {fp_stream_error(stream).decode('utf-8', 'replace')}")
        chunks = []
        try:
            if _arrow_kind(&stream_schema) == 0:
                # dictionary arrays and unsupported types: the twin decodes or explains
                return None
            while True:
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
                chunks.append(<size_t>arr)
            return _hash_chunks(&stream_schema, chunks, code, n, out)
        finally:
            for c in chunks:
                arr = <FpArrowArray *><size_t>c
                fp_release_array(arr)
                PyMem_Free(arr)
            fp_release_schema(&stream_schema)
            del capsule  # its destructor releases the stream
    schema_capsule, array_capsule = keys.__arrow_c_array__()
    schema = <FpArrowSchema *>PyCapsule_GetPointer(schema_capsule, "arrow_schema")
    arr = <FpArrowArray *>PyCapsule_GetPointer(array_capsule, "arrow_array")
    if _arrow_kind(schema) == 0:
        return None
    # read in place: the capsules keep schema and array alive and release them
    return _hash_chunks(schema, [<size_t>arr], code, n, out)
