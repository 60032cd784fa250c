/*
 * Arrow key columns, checked and hashed straight from their buffers.
 *
 * A column (one chunk) is described by an fpa_col filled by the compiled
 * reader (fastpart/_arrow.pxi) from the Arrow C Data Interface after its
 * structural checks (lengths, buffer counts, non-NULL buffers).  Here:
 *
 *   fpa_check        O(n) checks of every offset / view: returns a rule number
 *                    (fastpart/_arrow_rules.py holds the texts) and the index
 *   fpa_check_index  dictionary indices inside [0, dictionary length)
 *   fpa_hash         partitions of keys [start, start + count) of a checked
 *                    column, in blocks of FPA_BLOCK keys: runs of equal-length
 *                    contiguous keys (binary/string offsets, inline views,
 *                    fixed_size_binary) go to fp_batch_fixed (the SIMD lanes),
 *                    other keys through a pointer table of one block on the
 *                    stack; no allocation
 *   fpa_hash_dict    the same through dictionary indices (a dictionary of at
 *                    most FPA_BLOCK values is hashed once, then gathered)
 *
 * Every load from a buffer uses memcpy: the C Data Interface does not promise
 * aligned buffers.
 */
#ifndef FASTPART_ARROW_KERNELS_H
#define FASTPART_ARROW_KERNELS_H

#include "_kernels.h"

enum { FPA_NULL = 1, FPA_BIN32 = 2, FPA_BIN64 = 3, FPA_VIEW = 4, FPA_FIXED = 5 };
#define FPA_BLOCK 1024
/* Runs shorter than this are hashed one key at a time. */
#define FPA_RUN_MIN 8
/* The view check takes chunks of this many views that form one run whole. */
#define FPA_CHUNK 64

typedef struct {
    int kind;
    int64_t width;                /* FPA_FIXED: bytes per key */
    int64_t length;               /* keys in the chunk */
    int64_t offset;               /* the chunk's offset into its buffers */
    const uint8_t *valid;         /* validity bitmap, NULL when there are no nulls */
    const uint8_t *index;         /* BIN32/BIN64: offsets; VIEW: views; FIXED: data */
    const uint8_t *data;          /* BIN32/BIN64: the bytes (NULL when all keys are empty) */
    const uint8_t *const *vbufs;  /* VIEW: the variadic buffers */
    const uint8_t *vsizes;        /* VIEW: their sizes (int64 each) */
    int64_t nvar;                 /* VIEW: how many */
} fpa_col;

static const uint8_t fpa_empty[1] = {0};

FP_INLINE int fpa_bit(const uint8_t *v, int64_t j) { return (v[j >> 3] >> (j & 7)) & 1; }
FP_INLINE int64_t fpa_ld32(const uint8_t *p, int64_t j) {
    int32_t v;
    memcpy(&v, p + 4 * j, 4);
    return v;
}
FP_INLINE int64_t fpa_ld64(const uint8_t *p, int64_t j) {
    int64_t v;
    memcpy(&v, p + 8 * j, 8);
    return v;
}
FP_INLINE int64_t fpa_off(const fpa_col *c, int64_t j) {
    return c->kind == FPA_BIN32 ? fpa_ld32(c->index, j) : fpa_ld64(c->index, j);
}

/* ---- runs of views ------------------------------------------------------ */
/* How many of the m views at v (m >= 1) continue the run the first one
 * starts: the same length l0 and, for l0 > 12, the same buffer at offsets
 * o0, o0 + l0, o0 + 2 * l0, ... (compared modulo 2^32: callers accept a run
 * only when its end fits in int32, where that is exact).  Builders lay long
 * keys out so, a run per data buffer; four views per step with SSE2/NEON.  */
/* Whether the view at p has length l0 and, for l0 > 12, buffer b0 and offset o. */
FP_INLINE int fpa_view_is(const uint8_t *p, int32_t l0, int32_t b0, uint32_t o) {
    int32_t l, b;
    uint32_t x;
    memcpy(&l, p, 4);
    if (l != l0) return 0;
    if (l0 <= 12) return 1;
    memcpy(&b, p + 8, 4);
    memcpy(&x, p + 12, 4);
    return b == b0 && x == o;
}

FP_INLINE int64_t fpa_run(const uint8_t *v, int64_t m) {
    int32_t l0, b0, o0;
    uint32_t o;
    int64_t k = 1;
    memcpy(&l0, v, 4);
    memcpy(&b0, v + 8, 4);
    memcpy(&o0, v + 12, 4);
    /* the next view first: mixed columns end most runs here */
    if (m > 1 && !fpa_view_is(v + 16, l0, b0, (uint32_t)o0 + (uint32_t)l0)) return 1;
#if defined(FP_LANES) && FP_LANES == 8
    {
        /* lanes: length, prefix (ignored), buffer, offset */
        const int keep = l0 > 12 ? 0xFF0F : 0x000F;
        const __m128i step = _mm_setr_epi32(0, 0, 0, l0);
        __m128i want = _mm_add_epi32(_mm_setr_epi32(l0, 0, b0, o0), step);
        while (k + 4 <= m) {
            const __m128i w1 = _mm_add_epi32(want, step), w2 = _mm_add_epi32(w1, step);
            const __m128i w3 = _mm_add_epi32(w2, step);
            const uint8_t *p = v + 16 * k;
            __m128i e = _mm_and_si128(_mm_cmpeq_epi32(_mm_loadu_si128((const __m128i *)p), want),
                                      _mm_cmpeq_epi32(_mm_loadu_si128((const __m128i *)(p + 16)), w1));
            e = _mm_and_si128(e, _mm_and_si128(_mm_cmpeq_epi32(_mm_loadu_si128((const __m128i *)(p + 32)), w2),
                                               _mm_cmpeq_epi32(_mm_loadu_si128((const __m128i *)(p + 48)), w3)));
            if ((_mm_movemask_epi8(e) & keep) != keep) break;
            want = _mm_add_epi32(w3, step);
            k += 4;
        }
    }
#elif defined(FP_LANES) && FP_LANES == 4
    {
        const uint32x4_t keep = l0 > 12 ? vld1q_u32((const uint32_t[4]){~0u, 0, ~0u, ~0u})
                                         : vld1q_u32((const uint32_t[4]){~0u, 0, 0, 0});
        const uint32x4_t step = vld1q_u32((const uint32_t[4]){0, 0, 0, (uint32_t)l0});
        uint32x4_t want = vaddq_u32(vld1q_u32((const uint32_t[4]){(uint32_t)l0, 0, (uint32_t)b0, (uint32_t)o0}),
                                    step);
        while (k + 4 <= m) {
            const uint32x4_t w1 = vaddq_u32(want, step), w2 = vaddq_u32(w1, step), w3 = vaddq_u32(w2, step);
            const uint8_t *p = v + 16 * k;
            uint32x4_t d = vorrq_u32(veorq_u32(vreinterpretq_u32_u8(vld1q_u8(p)), want),
                                     veorq_u32(vreinterpretq_u32_u8(vld1q_u8(p + 16)), w1));
            d = vorrq_u32(d, vorrq_u32(veorq_u32(vreinterpretq_u32_u8(vld1q_u8(p + 32)), w2),
                                       veorq_u32(vreinterpretq_u32_u8(vld1q_u8(p + 48)), w3)));
            if (vmaxvq_u32(vandq_u32(d, keep)) != 0) break;
            want = vaddq_u32(w3, step);
            k += 4;
        }
    }
#endif
    o = (uint32_t)o0 + (uint32_t)k * (uint32_t)l0;
    for (; k < m && fpa_view_is(v + 16 * k, l0, b0, o); k++) o += (uint32_t)l0;
    return k;
}

/* Whether a run of k views starting with the view at v lies inside the
 * column's buffers (every view of it then does). */
FP_INLINE int fpa_run_ok(const fpa_col *c, const uint8_t *v, int64_t k) {
    int32_t l0, b0, o0;
    memcpy(&l0, v, 4);
    if (l0 < 0) return 0;
    if (l0 <= 12) return 1;
    memcpy(&b0, v + 8, 4);
    memcpy(&o0, v + 12, 4);
    return b0 >= 0 && b0 < c->nvar && o0 >= 0 && c->vbufs[b0] != NULL &&
           (int64_t)o0 + k * l0 <= fpa_ld64(c->vsizes, b0) && (int64_t)o0 + k * l0 <= INT32_MAX;
}

/* ---- checks ------------------------------------------------------------- */
/* Rule numbers: see RULE_TEXT in fastpart/_arrow_rules.py.                  */
/* The rule a view of keys [from, to) breaks first (0: none), its index in *bad. */
static int fpa_check_views(const fpa_col *c, int64_t from, int64_t to, int64_t *bad) {
    int64_t i = from, e, base = c->offset;
    while (i < to) {
        const uint8_t *v = c->index + (base + i) * 16;
        /* a chunk that is one run is valid as a whole (nulls inside it too) */
        e = to - i < FPA_CHUNK ? to : i + FPA_CHUNK;
        if (e - i > 1 && fpa_run(v, e - i) == e - i && fpa_run_ok(c, v, e - i)) {
            i = e;
            continue;
        }
        for (; i < e; i++, v += 16) {
            int32_t len, buf, off;
            if (c->valid && !fpa_bit(c->valid, base + i)) continue;
            memcpy(&len, v, 4);
            if (len < 0) { *bad = i; return 13; }
            if (len <= 12) continue;
            memcpy(&buf, v + 8, 4);
            memcpy(&off, v + 12, 4);
            if (buf < 0 || (int64_t)buf >= c->nvar) { *bad = i; return 14; }
            if (off < 0) { *bad = i; return 15; }
            if ((int64_t)off + len > fpa_ld64(c->vsizes, buf)) { *bad = i; return 16; }
            if (c->vbufs[buf] == NULL) { *bad = i; return 17; }
        }
    }
    return 0;
}

static int fpa_check(const fpa_col *c, int64_t *bad) {
    int64_t i, n = c->length, base = c->offset;
    *bad = -1;
    if (n == 0) return 0;
    if (c->kind == FPA_BIN32 || c->kind == FPA_BIN64) {
        int64_t b, k;
        if (fpa_off(c, base) < 0) { *bad = 0; return 9; }
        /* branch-free scan per block, then locate the first decrease */
        for (b = 0; b < n; b += FPA_BLOCK) {
            int64_t e = b + FPA_BLOCK < n ? b + FPA_BLOCK : n;
            int dec = 0;
            if (c->kind == FPA_BIN32) {
                for (i = b; i < e; i++) dec |= fpa_ld32(c->index, base + i + 1) < fpa_ld32(c->index, base + i);
            } else {
                for (i = b; i < e; i++) dec |= fpa_ld64(c->index, base + i + 1) < fpa_ld64(c->index, base + i);
            }
            if (dec) {
                for (k = b; k < e; k++)
                    if (fpa_off(c, base + k + 1) < fpa_off(c, base + k)) { *bad = k; return 10; }
            }
        }
        if (c->data == NULL && fpa_off(c, base + n) != fpa_off(c, base)) return 8;
        return 0;
    }
    if (c->kind == FPA_VIEW) {
        for (i = 0; i < c->nvar; i++)
            if (fpa_ld64(c->vsizes, i) < 0) return 12;
        /* (a branch-free variant of this loop measured 10-15% slower: the
         * branches are predictable in real columns) */
        return fpa_check_views(c, 0, n, bad);
    }
    return 0;
}

/* Index j of a dictionary index buffer of `w` bytes per index. */
FP_INLINE int64_t fpa_index(const uint8_t *p, int w, int sgn, int64_t j) {
    switch (w) {
    case 1: return sgn ? (int64_t)(int8_t)p[j] : (int64_t)p[j];
    case 2: {
        uint16_t u;
        memcpy(&u, p + 2 * j, 2);
        return sgn ? (int64_t)(int16_t)u : (int64_t)u;
    }
    case 4: {
        uint32_t u;
        memcpy(&u, p + 4 * j, 4);
        return sgn ? (int64_t)(int32_t)u : (int64_t)u;
    }
    default: {
        uint64_t u;
        memcpy(&u, p + 8 * j, 8);
        if (sgn) return (int64_t)u;
        return u > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)u;
    }
    }
}

/* Every non-null index in [0, dlen): 0, or 18 (negative) / 19 (past the end). */
static int fpa_check_index(const uint8_t *idx, int w, int sgn, const uint8_t *valid, int64_t offset,
                           int64_t length, int64_t dlen, int64_t *bad) {
    int64_t i;
    *bad = -1;
    for (i = 0; i < length; i++) {
        int64_t k;
        if (valid && !fpa_bit(valid, offset + i)) continue;
        k = fpa_index(idx, w, sgn, offset + i);
        if (k < 0) { *bad = i; return 18; }
        if (k >= dlen) { *bad = i; return 19; }
    }
    return 0;
}

/* ---- hashing ------------------------------------------------------------ */
/* Key i (0-based in the chunk) of a checked column: 0 for a null key. */
FP_INLINE int fpa_value(const fpa_col *c, int64_t i, const uint8_t **p, size_t *len) {
    int64_t j = c->offset + i;
    if (c->kind == FPA_NULL || (c->valid && !fpa_bit(c->valid, j))) return 0;
    if (c->kind == FPA_BIN32 || c->kind == FPA_BIN64) {
        int64_t s = fpa_off(c, j), e = fpa_off(c, j + 1);
        *len = (size_t)(e - s);
        *p = c->data ? c->data + s : fpa_empty;
    } else if (c->kind == FPA_VIEW) {
        const uint8_t *v = c->index + j * 16;
        int32_t l, b, o;
        memcpy(&l, v, 4);
        *len = (size_t)l;
        if (l <= 12) {
            *p = v + 4;
        } else {
            memcpy(&b, v + 8, 4);
            memcpy(&o, v + 12, 4);
            *p = c->vbufs[b] + o;
        }
    } else {
        *len = (size_t)c->width;
        *p = c->width ? c->index + j * c->width : fpa_empty;
    }
    return 1;
}

/* Null keys of [start, start + count) get the strategy's null answer. */
static void fpa_nulls(const fpa_col *c, int64_t start, int64_t count, int32_t nullp, int32_t *out) {
    int64_t i;
    if (c->valid == NULL) return;
    for (i = 0; i < count; i++)
        if (!fpa_bit(c->valid, c->offset + start + i)) out[i] = nullp;
}

/* Binary/string keys of one block: equal-length runs (contiguous by the
 * layout) as fixed-width tables, other keys one at a time. */
static void fpa_hash_offsets(const fpa_col *c, int64_t start, int64_t count, int code, uint32_t n,
                             int32_t *out) {
    fp_divisor dv = fp_divisor_make(n);
    int64_t i = 0, j = c->offset + start;
    const uint8_t *data = c->data ? c->data : fpa_empty;
    while (i < count) {
        int64_t s = fpa_off(c, j + i), len = fpa_off(c, j + i + 1) - s, k = i + 1;
        if (c->kind == FPA_BIN32) {
            while (k < count && fpa_ld32(c->index, j + k + 1) - fpa_ld32(c->index, j + k) == len) k++;
        } else {
            while (k < count && fpa_ld64(c->index, j + k + 1) - fpa_ld64(c->index, j + k) == len) k++;
        }
        if (c->data == NULL) s = 0; /* every key is empty */
        if (k - i >= FPA_RUN_MIN) {
            fp_batch_fixed(data + s, (ptrdiff_t)len, (size_t)len, (size_t)(k - i), code, n, out + i);
        } else {
            int64_t m;
            for (m = i; m < k; m++)
                out[m] = fp_partition_key(data + s + (m - i) * len, (size_t)len, code, dv);
        }
        i = k;
    }
}

/* Views of one block, in runs: equal-length inline keys (<= 12 bytes, at
 * stride 16 in the views buffer) and equal-length long keys laid out back to
 * back in one buffer (pyarrow and polars write them so, a new buffer every
 * few tens of KiB) go to fp_batch_fixed (the SIMD lanes); the keys of shorter
 * runs are gathered into one pointer table (fp_batch_ptrs, whose lanes still
 * take groups of equal lengths) and scattered back. */
static void fpa_hash_views(const fpa_col *c, int64_t start, int64_t count, int code, uint32_t n,
                           int32_t *out) {
    const uint8_t *v = c->index + (c->offset + start) * 16;
    const uint8_t *ptrs[FPA_BLOCK];
    size_t lens[FPA_BLOCK];
    int32_t tmp[FPA_BLOCK];
    int32_t at[FPA_BLOCK];
    int64_t i = 0, k, m, rest = 0;
    while (i < count) {
        k = i + fpa_run(v + 16 * i, count - i);
        /* nulls may hold any view: the whole run must lie inside its buffer */
        if (k - i >= FPA_RUN_MIN && fpa_run_ok(c, v + 16 * i, k - i)) {
            int32_t l0, b0, o0;
            memcpy(&l0, v + 16 * i, 4);
            if (l0 <= 12) {
                fp_batch_fixed(v + 16 * i + 4, 16, (size_t)l0, (size_t)(k - i), code, n, out + i);
            } else {
                memcpy(&b0, v + 16 * i + 8, 4);
                memcpy(&o0, v + 16 * i + 12, 4);
                fp_batch_fixed(c->vbufs[b0] + o0, l0, (size_t)l0, (size_t)(k - i), code, n, out + i);
            }
            i = k;
            continue;
        }
        for (m = i; m < k; m++, rest++) {
            if (!fpa_value(c, start + m, &ptrs[rest], &lens[rest])) {
                ptrs[rest] = NULL;
                lens[rest] = 0;
            }
            at[rest] = (int32_t)m;
        }
        i = k;
    }
    if (rest == count) {
        fp_batch_ptrs(ptrs, lens, (size_t)count, code, n, out);
    } else if (rest) {
        fp_batch_ptrs(ptrs, lens, (size_t)rest, code, n, tmp);
        for (m = 0; m < rest; m++) out[at[m]] = tmp[m];
    }
}

/* Partitions of keys [start, start + count) of a checked column. */
static void fpa_hash(const fpa_col *c, int64_t start, int64_t count, int code, uint32_t n, int32_t *out) {
    int32_t nullp = fp_partition_null(code, n);
    int64_t b;
    for (b = 0; b < count; b += FPA_BLOCK) {
        int64_t m = count - b < FPA_BLOCK ? count - b : FPA_BLOCK;
        int64_t s = start + b;
        int64_t i;
        switch (c->kind) {
        case FPA_NULL:
            for (i = 0; i < m; i++) out[b + i] = nullp;
            continue;
        case FPA_BIN32:
        case FPA_BIN64:
            fpa_hash_offsets(c, s, m, code, n, out + b);
            break;
        case FPA_VIEW:
            fpa_hash_views(c, s, m, code, n, out + b);
            break;
        default:
            fp_batch_fixed(c->width ? c->index + (c->offset + s) * c->width : fpa_empty, (ptrdiff_t)c->width,
                           (size_t)c->width, (size_t)m, code, n, out + b);
        }
        fpa_nulls(c, s, m, nullp, out + b);
    }
}

/* The byte ranges a checked column's hashing reads: range r (0, 1, ...) in
 * [*lo, *hi); returns 0 when there is no range r.  For the out= overlap guard. */
static int fpa_range(const fpa_col *c, int64_t r, const uint8_t **lo, const uint8_t **hi) {
    int64_t a = c->offset, e = c->offset + c->length;
    *lo = *hi = NULL;
    if (c->length == 0 || c->kind == FPA_NULL) return 0;
    if (r == 0) {
        if (c->valid) { *lo = c->valid + (a >> 3); *hi = c->valid + ((e + 7) >> 3); }
        return 1;
    }
    if (c->kind == FPA_BIN32 || c->kind == FPA_BIN64) {
        int w = c->kind == FPA_BIN32 ? 4 : 8;
        if (r == 1) { *lo = c->index + a * w; *hi = c->index + (e + 1) * w; return 1; }
        if (r == 2) {
            if (c->data) { *lo = c->data + fpa_off(c, a); *hi = c->data + fpa_off(c, e); }
            return 1;
        }
        return 0;
    }
    if (c->kind == FPA_VIEW) {
        if (r == 1) { *lo = c->index + a * 16; *hi = c->index + e * 16; return 1; }
        if (r - 2 < c->nvar) {
            *lo = c->vbufs[r - 2];
            if (*lo) *hi = *lo + fpa_ld64(c->vsizes, r - 2);
            return 1;
        }
        return 0;
    }
    if (r == 1) {
        if (c->width) { *lo = c->index + a * c->width; *hi = c->index + e * c->width; }
        return 1;
    }
    return 0;
}

/* Partitions through dictionary indices (checked with fpa_check_index). */
static void fpa_hash_dict(const fpa_col *dict, const uint8_t *idx, int w, int sgn, const uint8_t *valid,
                          int64_t offset, int64_t length, int code, uint32_t n, int32_t *out) {
    int32_t nullp = fp_partition_null(code, n);
    int64_t b, i;
    if (dict->length <= FPA_BLOCK) {
        int32_t table[FPA_BLOCK];
        fpa_hash(dict, 0, dict->length, code, n, table);
        for (i = 0; i < length; i++)
            out[i] = (valid && !fpa_bit(valid, offset + i)) ? nullp : table[fpa_index(idx, w, sgn, offset + i)];
        return;
    }
    for (b = 0; b < length; b += FPA_BLOCK) {
        const uint8_t *ptrs[FPA_BLOCK];
        size_t lens[FPA_BLOCK];
        int64_t m = length - b < FPA_BLOCK ? length - b : FPA_BLOCK;
        for (i = 0; i < m; i++) {
            int64_t j = offset + b + i;
            if ((valid && !fpa_bit(valid, j)) || !fpa_value(dict, fpa_index(idx, w, sgn, j), &ptrs[i], &lens[i])) {
                ptrs[i] = NULL;
                lens[i] = 0;
            }
        }
        fp_batch_ptrs(ptrs, lens, (size_t)m, code, n, out + b);
    }
}

#endif /* FASTPART_ARROW_KERNELS_H */
