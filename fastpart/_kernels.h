/*
 * fastpart hash kernels and partition strategies, in plain C.
 *
 * Every hash here is computed on uint32_t (unsigned arithmetic: wrapping is
 * defined, no signed-overflow undefined behaviour).  The pure-Python twin in
 * fastpart/_core_py.py is the executable specification of each function.
 *
 *   fp_murmur2       Kafka's Java Utils.murmur2 (MurmurHash2, seed 0x9747b28c)
 *   fp_murmur2_kjs   kafkajs 1.x / LegacyPartitioner murmur2 (float64 multiplies,
 *                    ceil(len/4) block loop) -- reproduced defect for defect
 *   fp_crc32         CRC-32/IEEE (zlib.crc32), slicing-by-8
 *   fp_fnv1a         FNV-1a 32-bit
 *   fp_xxh32         xxHash32, seed 0
 *
 * A strategy code packs (hash family | empty-key policy << 4 | null-key
 * policy << 8); see fastpart/_strategies.py, which owns the table.
 */
#ifndef FASTPART_KERNELS_H
#define FASTPART_KERNELS_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(_MSC_VER)
#define FP_INLINE static __inline
#else
#define FP_INLINE static inline
#endif

/* ---- strategy codes (must match fastpart/_strategies.py) ---------------- */
enum {
    FP_H_MURMUR2 = 0,     /* (murmur2 & 0x7fffffff) % n                 */
    FP_H_CRC32 = 1,       /* crc32 % n                                  */
    FP_H_FNV1A_ABS = 2,   /* abs(i32(fnv1a)) % n  (INT32_MIN -> 2^31)   */
    FP_H_FNV1A_MASK = 3,  /* (fnv1a & 0x7fffffff) % n                   */
    FP_H_FNV1A_U32 = 4,   /* fnv1a % n (unsigned)                       */
    FP_H_KAFKAJS = 5,     /* (kafkajs legacy murmur2 & 0x7fffffff) % n  */
    FP_H_XXH32 = 6,       /* xxh32 % n                                  */
    FP_H_NONE = 7         /* no key-determined answer: -1               */
};
enum { FP_EMPTY_HASH = 0, FP_EMPTY_UNSET = 1, FP_EMPTY_ZERO = 2 };
enum { FP_NULL_UNSET = 0, FP_NULL_ZERO = 1, FP_NULL_AS_EMPTY = 2 };

#define FP_HASH_OF(code) ((code) & 0xF)
#define FP_EMPTY_OF(code) (((code) >> 4) & 0xF)
#define FP_NULL_OF(code) (((code) >> 8) & 0xF)

/* ---- unaligned little-endian 32-bit load -------------------------------- */
FP_INLINE uint32_t fp_load32le(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}

FP_INLINE uint32_t fp_rotl32(uint32_t x, int r) {
    return (x << r) | (x >> (32 - r));
}

/* ---- murmur2, exactly Java's Utils.murmur2 (returns the bits) ----------- */
#define FP_M2_SEED 0x9747b28cU
#define FP_M2_M 0x5bd1e995U

FP_INLINE uint32_t fp_murmur2(const uint8_t *data, size_t length) {
    uint32_t h = FP_M2_SEED ^ (uint32_t)length;
    size_t nblocks = length >> 2;
    const uint8_t *p = data;
    size_t i;
    for (i = 0; i < nblocks; i++, p += 4) {
        uint32_t k = fp_load32le(p);
        k *= FP_M2_M;
        k ^= k >> 24;
        k *= FP_M2_M;
        h *= FP_M2_M;
        h ^= k;
    }
    switch (length & 3) {
    case 3:
        h ^= (uint32_t)p[2] << 16; /* fall through */
    case 2:
        h ^= (uint32_t)p[1] << 8; /* fall through */
    case 1:
        h ^= (uint32_t)p[0];
        h *= FP_M2_M;
    }
    h ^= h >> 13;
    h *= FP_M2_M;
    h ^= h >> 15;
    return h;
}

/* ---- kafkajs legacy murmur2 ---------------------------------------------
 * JavaScript numbers are float64: every `x *= M` is a float64 product whose
 * low bits may be lost, and each bitwise operator applies ToInt32/ToUint32
 * (exact modulo 2^32 of the rounded product).  The block loop runs
 * ceil(len/4) times and reads past the end as 0, then the tail is mixed in
 * again.  All products fit in int64 (|x| < 2^31 * 0x5bd1e995 < 2^63).       */
FP_INLINE uint32_t fp_js_u32(double x) { return (uint32_t)(uint64_t)(int64_t)x; }
FP_INLINE int32_t fp_js_i32(double x) { return (int32_t)fp_js_u32(x); }

FP_INLINE uint32_t fp_murmur2_kjs(const uint8_t *data, size_t length) {
    const double M = (double)FP_M2_M;
    double h = (double)(int32_t)(FP_M2_SEED ^ (uint32_t)length);
    size_t blocks = (length + 3) >> 2;
    size_t i, j;
    for (i = 0; i < blocks; i++) {
        uint32_t b[4];
        double k;
        for (j = 0; j < 4; j++) b[j] = (i * 4 + j < length) ? data[i * 4 + j] : 0;
        k = (double)b[0] + (double)(b[1] << 8) + (double)(b[2] << 16) +
            (double)(int32_t)(b[3] << 24);
        k *= M;
        k = (double)(fp_js_i32(k) ^ (int32_t)(fp_js_u32(k) >> 24));
        k *= M;
        h *= M;
        h = (double)(fp_js_i32(h) ^ fp_js_i32(k));
    }
    {
        size_t base = length & ~(size_t)3;
        switch (length & 3) {
        case 3:
            h = (double)(fp_js_i32(h) ^ (int32_t)((uint32_t)data[base + 2] << 16)); /* fall through */
        case 2:
            h = (double)(fp_js_i32(h) ^ (int32_t)((uint32_t)data[base + 1] << 8)); /* fall through */
        case 1:
            h = (double)(fp_js_i32(h) ^ (int32_t)data[base]);
            h *= M;
        }
    }
    h = (double)(fp_js_i32(h) ^ (int32_t)(fp_js_u32(h) >> 13));
    h *= M;
    h = (double)(fp_js_i32(h) ^ (int32_t)(fp_js_u32(h) >> 15));
    return (uint32_t)fp_js_i32(h);
}

/* ---- CRC-32/IEEE, slicing-by-8 ------------------------------------------ */
static uint32_t fp_crc_table[8][256];
static int fp_crc_ready = 0;

static void fp_crc32_init(void) {
    uint32_t i, j, c;
    if (fp_crc_ready) return;
    for (i = 0; i < 256; i++) {
        c = i;
        for (j = 0; j < 8; j++) c = (c & 1) ? (c >> 1) ^ 0xEDB88320U : c >> 1;
        fp_crc_table[0][i] = c;
    }
    for (i = 0; i < 256; i++) {
        c = fp_crc_table[0][i];
        for (j = 1; j < 8; j++) {
            c = fp_crc_table[0][c & 0xFF] ^ (c >> 8);
            fp_crc_table[j][i] = c;
        }
    }
    fp_crc_ready = 1;
}

FP_INLINE uint32_t fp_crc32(const uint8_t *p, size_t len) {
    uint32_t c = 0xFFFFFFFFU;
    while (len >= 8) {
        uint32_t a = c ^ fp_load32le(p);
        uint32_t b = fp_load32le(p + 4);
        c = fp_crc_table[7][a & 0xFF] ^ fp_crc_table[6][(a >> 8) & 0xFF] ^
            fp_crc_table[5][(a >> 16) & 0xFF] ^ fp_crc_table[4][a >> 24] ^
            fp_crc_table[3][b & 0xFF] ^ fp_crc_table[2][(b >> 8) & 0xFF] ^
            fp_crc_table[1][(b >> 16) & 0xFF] ^ fp_crc_table[0][b >> 24];
        p += 8;
        len -= 8;
    }
    while (len--) c = fp_crc_table[0][(c ^ *p++) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFU;
}

/* ---- FNV-1a 32 ---------------------------------------------------------- */
FP_INLINE uint32_t fp_fnv1a(const uint8_t *p, size_t len) {
    uint32_t h = 0x811C9DC5U;
    size_t i;
    for (i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x01000193U;
    }
    return h;
}

/* ---- xxHash32, seed 0 --------------------------------------------------- */
#define FP_X1 2654435761U
#define FP_X2 2246822519U
#define FP_X3 3266489917U
#define FP_X4 668265263U
#define FP_X5 374761393U

FP_INLINE uint32_t fp_xxh32_round(uint32_t acc, uint32_t lane) {
    acc += lane * FP_X2;
    acc = fp_rotl32(acc, 13);
    return acc * FP_X1;
}

FP_INLINE uint32_t fp_xxh32(const uint8_t *p, size_t len) {
    const uint8_t *end = p + len;
    uint32_t h;
    if (len >= 16) {
        const uint8_t *limit = end - 16;
        uint32_t v1 = FP_X1 + FP_X2, v2 = FP_X2, v3 = 0, v4 = 0U - FP_X1;
        do {
            v1 = fp_xxh32_round(v1, fp_load32le(p));
            v2 = fp_xxh32_round(v2, fp_load32le(p + 4));
            v3 = fp_xxh32_round(v3, fp_load32le(p + 8));
            v4 = fp_xxh32_round(v4, fp_load32le(p + 12));
            p += 16;
        } while (p <= limit);
        h = fp_rotl32(v1, 1) + fp_rotl32(v2, 7) + fp_rotl32(v3, 12) + fp_rotl32(v4, 18);
    } else {
        h = FP_X5;
    }
    h += (uint32_t)len;
    while (p + 4 <= end) {
        h += fp_load32le(p) * FP_X3;
        h = fp_rotl32(h, 17) * FP_X4;
        p += 4;
    }
    while (p < end) {
        h += (uint32_t)(*p++) * FP_X5;
        h = fp_rotl32(h, 11) * FP_X1;
    }
    h ^= h >> 15;
    h *= FP_X2;
    h ^= h >> 13;
    h *= FP_X3;
    h ^= h >> 16;
    return h;
}

/* ---- modulo by a run-time constant --------------------------------------
 * Lemire, Kaser & Kurz, "Faster remainder by direct computation" (2019):
 * exact for every 32-bit dividend and divisor >= 1.                        */
typedef struct {
    uint32_t d;
    uint64_t m;
} fp_divisor;

FP_INLINE fp_divisor fp_divisor_make(uint32_t d) {
    fp_divisor r;
    r.d = d;
    r.m = UINT64_C(0xFFFFFFFFFFFFFFFF) / d + 1;
    return r;
}

FP_INLINE uint32_t fp_mod(uint32_t a, fp_divisor dv) {
#if defined(__SIZEOF_INT128__)
    uint64_t low = dv.m * a;
    return (uint32_t)(((unsigned __int128)low * dv.d) >> 64);
#else
    return a % dv.d;
#endif
}

/* ---- one key -> partition ----------------------------------------------- */
/* Hash of a non-null key under a strategy, reduced to what is taken modulo n.
 * Returns 1 with *h set, 0 for "partition 0", -1 for "the client decides". */
FP_INLINE int fp_key_hash(const uint8_t *p, size_t len, int code, uint32_t *h) {
    if (len == 0) {
        int e = FP_EMPTY_OF(code);
        if (e == FP_EMPTY_UNSET) return -1;
        if (e == FP_EMPTY_ZERO) return 0;
    }
    switch (FP_HASH_OF(code)) {
    case FP_H_MURMUR2:
        *h = fp_murmur2(p, len) & 0x7fffffffU;
        return 1;
    case FP_H_CRC32:
        *h = fp_crc32(p, len);
        return 1;
    case FP_H_FNV1A_ABS: {
        uint32_t f = fp_fnv1a(p, len);
        *h = (f & 0x80000000U) ? (0U - f) : f; /* abs of the int32; INT32_MIN -> 2^31 */
        return 1;
    }
    case FP_H_FNV1A_MASK:
        *h = fp_fnv1a(p, len) & 0x7fffffffU;
        return 1;
    case FP_H_FNV1A_U32:
        *h = fp_fnv1a(p, len);
        return 1;
    case FP_H_KAFKAJS:
        *h = fp_murmur2_kjs(p, len) & 0x7fffffffU;
        return 1;
    case FP_H_XXH32:
        *h = fp_xxh32(p, len);
        return 1;
    default:
        return -1;
    }
}

/* One key, plain `%` (a single division is cheaper than a reciprocal). */
FP_INLINE int32_t fp_partition_one(const uint8_t *p, size_t len, int code, uint32_t n) {
    uint32_t h;
    int r = fp_key_hash(p, len, code, &h);
    return r > 0 ? (int32_t)(h % n) : (r == 0 ? 0 : -1);
}

FP_INLINE int32_t fp_partition_key(const uint8_t *p, size_t len, int code, fp_divisor dv) {
    uint32_t h;
    int r = fp_key_hash(p, len, code, &h);
    return r > 0 ? (int32_t)fp_mod(h, dv) : (r == 0 ? 0 : -1);
}

/* Partition of a null (keyless) record under a strategy. */
FP_INLINE int32_t fp_partition_null(int code, uint32_t n) {
    static const uint8_t empty[1] = {0};
    switch (FP_NULL_OF(code)) {
    case FP_NULL_ZERO:
        return 0;
    case FP_NULL_AS_EMPTY:
        return fp_partition_one(empty, 0, code & ~0xF0, n);
    default:
        return -1;
    }
}

/* ---- SIMD lanes: several murmur2 chains side by side ---------------------
 * FP_LANES keys of one length are hashed in the 32-bit lanes of a vector
 * register: 8 with AVX2 on x86-64, 4 with NEON on aarch64.  Wheels target
 * baseline x86-64, so the AVX2 code carries a per-function target attribute
 * (FP_LANES_ATTR) and runs only when the CPU reports AVX2; NEON is part of
 * baseline aarch64.  The scalar kernel above is the reference; tests compare
 * both on every length (the NEON build under qemu-user).
 *
 * AVX2 also does the modulo in lanes: q = floor(h * (1.0 / n)) in float64 is
 * exact or one too small for h, n < 2^31 (its error is below 2^-20 / n, and
 * the distance to the next multiple of n is at least 1 / n), so r = h - q * n
 * lies in [0, 2n) and min_u32(r, r - n) corrects it.  NEON uses the scalar
 * reciprocal modulo (umulh on aarch64).                                     */
#if !defined(FASTPART_NO_SIMD) && (defined(__x86_64__) || defined(_M_X64)) && \
    (defined(__GNUC__) || defined(__clang__))
#define FP_LANES 8
#define FP_LANES_ATTR __attribute__((target("avx2")))
#include <immintrin.h>
#elif !defined(FASTPART_NO_SIMD) && defined(__aarch64__) && defined(__ARM_NEON) && \
    (defined(__GNUC__) || defined(__clang__))
#define FP_LANES 4
#define FP_LANES_ATTR
#include <arm_neon.h>
#endif

#ifdef FP_LANES
/* 1 while the lanes are used: chosen once by fp_init (module import) from the
 * CPU; only tests switch it (fp_simd_set).  Read and written with relaxed
 * atomics, so a switch while another thread hashes is not a data race (both
 * kernels give the same answers; a batch may use either).                   */
static int fp_lanes_on = 0;
#define FP_LANES_ON() __atomic_load_n(&fp_lanes_on, __ATOMIC_RELAXED)

typedef struct {
    uint32_t n;
    double inv;    /* 1.0 / n, for the AVX2 lane modulo */
    fp_divisor dv; /* for the NEON scalar modulo */
} fp_lanes_ctx;

FP_INLINE fp_lanes_ctx fp_lanes_ctx_make(uint32_t n) {
    fp_lanes_ctx c;
    c.n = n;
    c.inv = 1.0 / (double)n;
    c.dv = fp_divisor_make(n);
    return c;
}

/* The 32-bit little-endian word at offset `off` of each lane's key. */
FP_INLINE void fp_lanes_words(const uint8_t *const *p, size_t off, uint32_t *w) {
    int l;
    for (l = 0; l < FP_LANES; l++) memcpy(&w[l], p[l] + off, 4);
}

/* The 1-3 tail bytes at offset `off` of each lane's key, as murmur2 mixes them. */
FP_INLINE void fp_lanes_tail(const uint8_t *const *p, size_t off, size_t rem, uint32_t *w) {
    int l;
    for (l = 0; l < FP_LANES; l++) {
        const uint8_t *x = p[l] + off;
        uint32_t v = x[0];
        if (rem >= 2) v |= (uint32_t)x[1] << 8;
        if (rem == 3) v |= (uint32_t)x[2] << 16;
        w[l] = v;
    }
}

#if FP_LANES == 8
/* The 32-bit little-endian word at offset `off` of each of the 8 keys, built
 * in a register from 8 scalar loads: writing them to memory and reading one
 * vector back stalls on store-to-load forwarding in every block.           */
FP_INLINE FP_LANES_ATTR __m256i fp_lanes_load8(const uint8_t *const *p, size_t off) {
    uint32_t a0, a1, a2, a3, a4, a5, a6, a7;
    memcpy(&a0, p[0] + off, 4); memcpy(&a1, p[1] + off, 4);
    memcpy(&a2, p[2] + off, 4); memcpy(&a3, p[3] + off, 4);
    memcpy(&a4, p[4] + off, 4); memcpy(&a5, p[5] + off, 4);
    memcpy(&a6, p[6] + off, 4); memcpy(&a7, p[7] + off, 4);
    return _mm256_set_epi32((int)a7, (int)a6, (int)a5, (int)a4, (int)a3, (int)a2, (int)a1, (int)a0);
}

/* (murmur2 & 0x7fffffff) % n for 8 keys of `len` bytes at p[0..7], into out[0..7]. */
FP_INLINE FP_LANES_ATTR void fp_java_lanes(const uint8_t *const *p, size_t len, fp_lanes_ctx c,
                                           int32_t *out) {
    const __m256i m = _mm256_set1_epi32((int)FP_M2_M);
    const __m256i nv = _mm256_set1_epi32((int)c.n);
    const __m256d inv = _mm256_set1_pd(c.inv);
    __m256i h = _mm256_set1_epi32((int)(FP_M2_SEED ^ (uint32_t)len));
    size_t nblocks = len >> 2, j, rem = len & 3;
    uint32_t w[8];
    __m256d lo, hi;
    __m256i q, r;
    for (j = 0; j < nblocks; j++) {
        __m256i k;
        k = _mm256_mullo_epi32(fp_lanes_load8(p, 4 * j), m);
        k = _mm256_xor_si256(k, _mm256_srli_epi32(k, 24));
        k = _mm256_mullo_epi32(k, m);
        h = _mm256_xor_si256(_mm256_mullo_epi32(h, m), k);
    }
    if (rem) {
        fp_lanes_tail(p, 4 * nblocks, rem, w);
        h = _mm256_mullo_epi32(_mm256_xor_si256(h, _mm256_loadu_si256((const __m256i *)w)), m);
    }
    h = _mm256_xor_si256(h, _mm256_srli_epi32(h, 13));
    h = _mm256_mullo_epi32(h, m);
    h = _mm256_xor_si256(h, _mm256_srli_epi32(h, 15));
    h = _mm256_and_si256(h, _mm256_set1_epi32(0x7fffffff));
    lo = _mm256_floor_pd(_mm256_mul_pd(_mm256_cvtepi32_pd(_mm256_castsi256_si128(h)), inv));
    hi = _mm256_floor_pd(_mm256_mul_pd(_mm256_cvtepi32_pd(_mm256_extracti128_si256(h, 1)), inv));
    q = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm256_cvttpd_epi32(lo)), _mm256_cvttpd_epi32(hi), 1);
    r = _mm256_sub_epi32(h, _mm256_mullo_epi32(q, nv));
    _mm256_storeu_si256((__m256i *)out, _mm256_min_epu32(r, _mm256_sub_epi32(r, nv)));
}
#else
/* (murmur2 & 0x7fffffff) % n for 4 keys of `len` bytes at p[0..3], into out[0..3]. */
FP_INLINE void fp_java_lanes(const uint8_t *const *p, size_t len, fp_lanes_ctx c, int32_t *out) {
    const uint32x4_t m = vdupq_n_u32(FP_M2_M);
    uint32x4_t h = vdupq_n_u32(FP_M2_SEED ^ (uint32_t)len);
    size_t nblocks = len >> 2, j, rem = len & 3;
    uint32_t w[4];
    int l;
    for (j = 0; j < nblocks; j++) {
        uint32x4_t k;
        fp_lanes_words(p, 4 * j, w);
        k = vmulq_u32(vld1q_u32(w), m);
        k = veorq_u32(k, vshrq_n_u32(k, 24));
        k = vmulq_u32(k, m);
        h = veorq_u32(vmulq_u32(h, m), k);
    }
    if (rem) {
        fp_lanes_tail(p, 4 * nblocks, rem, w);
        h = vmulq_u32(veorq_u32(h, vld1q_u32(w)), m);
    }
    h = veorq_u32(h, vshrq_n_u32(h, 13));
    h = vmulq_u32(h, m);
    h = veorq_u32(h, vshrq_n_u32(h, 15));
    h = vandq_u32(h, vdupq_n_u32(0x7fffffffU));
    vst1q_u32(w, h);
    for (l = 0; l < 4; l++) out[l] = (int32_t)fp_mod(w[l], c.dv);
}
#endif

/* Java partitions of `count` keys of `width` bytes at base + i * stride;
 * returns how many it did (a multiple of FP_LANES), the rest is scalar.    */
static FP_LANES_ATTR size_t fp_java_fixed_lanes(const uint8_t *base, ptrdiff_t stride, size_t width,
                                                size_t count, uint32_t n, int32_t *out) {
    fp_lanes_ctx c = fp_lanes_ctx_make(n);
    const uint8_t *p[FP_LANES];
    size_t i;
    for (i = 0; i + FP_LANES <= count; i += FP_LANES) {
        int l;
        for (l = 0; l < FP_LANES; l++) p[l] = base + (ptrdiff_t)(i + l) * stride;
        fp_java_lanes(p, width, c, out + i);
    }
    return i;
}

/* Java partitions of pointer/length keys: each group of FP_LANES equal-length
 * non-null keys goes through the lanes and is marked in `done`; the others
 * are left to the scalar loop. */
static FP_LANES_ATTR void fp_java_ptrs_lanes(const uint8_t **ptrs, const size_t *lens, size_t count,
                                             uint32_t n, int32_t *out, uint8_t *done) {
    fp_lanes_ctx c = fp_lanes_ctx_make(n);
    size_t i;
    for (i = 0; i + FP_LANES <= count; i += FP_LANES) {
        size_t len = lens[i];
        int l, ok = 1;
        for (l = 0; l < FP_LANES; l++)
            if (ptrs[i + l] == NULL || lens[i + l] != len) { ok = 0; break; }
        if (!ok || len > 4096) continue;
        fp_java_lanes(ptrs + i, len, c, out + i);
        memset(done + i, 1, FP_LANES);
    }
}
#endif /* FP_LANES */

/* Whether the lanes can run here: AVX2 asks the CPU, NEON always can. */
static int fp_lanes_supported(void) {
#if defined(FP_LANES) && FP_LANES == 8
    return __builtin_cpu_supports("avx2") ? 1 : 0;
#elif defined(FP_LANES)
    return 1;
#else
    return 0;
#endif
}

static void fp_init(void) {
    fp_crc32_init();
#if defined(FP_LANES) && FP_LANES == 8
    __builtin_cpu_init();
#endif
#ifdef FP_LANES
    __atomic_store_n(&fp_lanes_on, fp_lanes_supported(), __ATOMIC_RELAXED);
#endif
}

/* 1 when the SIMD lanes are compiled in and used. */
static int fp_simd_enabled(void) {
#ifdef FP_LANES
    return FP_LANES_ON();
#else
    return 0;
#endif
}

/* Tests only: switch the lanes off (or back on where the CPU has them) to
 * compare them with the scalar kernel.  Thread-safe (an atomic store).      */
static void fp_simd_set(int on) {
#ifdef FP_LANES
    __atomic_store_n(&fp_lanes_on, on ? fp_lanes_supported() : 0, __ATOMIC_RELAXED);
#else
    (void)on;
#endif
}

/* ---- batches ------------------------------------------------------------ */
/* Keys given as pointer/length pairs; ptrs[i] == NULL is a null key.        */
static void fp_batch_ptrs(const uint8_t **ptrs, const size_t *lens, size_t count,
                          int code, uint32_t n, int32_t *out) {
    fp_divisor dv = fp_divisor_make(n);
    int32_t nullp = fp_partition_null(code, n);
    size_t i;
    if (code == FP_H_MURMUR2) { /* the Java strategy: the hot path */
#ifdef FP_LANES
        if (FP_LANES_ON() && count >= FP_LANES) {
            uint8_t small[1024];
            uint8_t *done = count <= sizeof(small) ? small : (uint8_t *)malloc(count);
            if (done != NULL) {
                memset(done, 0, count);
                fp_java_ptrs_lanes(ptrs, lens, count, n, out, done);
                for (i = 0; i < count; i++) {
                    const uint8_t *p = ptrs[i];
                    if (done[i]) continue;
                    out[i] = p ? (int32_t)fp_mod(fp_murmur2(p, lens[i]) & 0x7fffffffU, dv) : nullp;
                }
                if (done != small) free(done);
                return;
            }
        }
#endif
        for (i = 0; i < count; i++) {
            const uint8_t *p = ptrs[i];
            out[i] = p ? (int32_t)fp_mod(fp_murmur2(p, lens[i]) & 0x7fffffffU, dv) : nullp;
        }
        return;
    }
    for (i = 0; i < count; i++) {
        const uint8_t *p = ptrs[i];
        out[i] = p ? fp_partition_key(p, lens[i], code, dv) : nullp;
    }
}

/* Fixed-width keys: key i is `width` bytes at base + i * stride.            */
static void fp_batch_fixed(const uint8_t *base, ptrdiff_t stride, size_t width, size_t count,
                           int code, uint32_t n, int32_t *out) {
    fp_divisor dv = fp_divisor_make(n);
    size_t i = 0;
    if (code == FP_H_MURMUR2) {
#ifdef FP_LANES
        if (FP_LANES_ON() && width <= 4096) i = fp_java_fixed_lanes(base, stride, width, count, n, out);
#endif
        if (width == 16) {
            for (; i < count; i++)
                out[i] = (int32_t)fp_mod(fp_murmur2(base + (ptrdiff_t)i * stride, 16) & 0x7fffffffU, dv);
            return;
        }
        for (; i < count; i++)
            out[i] = (int32_t)fp_mod(fp_murmur2(base + (ptrdiff_t)i * stride, width) & 0x7fffffffU, dv);
        return;
    }
    for (; i < count; i++)
        out[i] = fp_partition_key(base + (ptrdiff_t)i * stride, width, code, dv);
}

/* NumPy S<w> items: each key is its `width` bytes minus trailing NULs, as
 * NumPy's own elements are.  The check is one byte per key (the last): a
 * block of keys none of which ends in NUL goes to fp_batch_fixed unchanged
 * (SIMD lanes); a block with such keys is trimmed and read as pointer/length
 * pairs (fp_batch_ptrs, whose lanes still take runs of equal lengths).      */
#define FP_STRIP_BLOCK 256
static void fp_batch_fixed_strip(const uint8_t *base, ptrdiff_t stride, size_t width, size_t count,
                                 int code, uint32_t n, int32_t *out) {
    const uint8_t *ptrs[FP_STRIP_BLOCK];
    size_t lens[FP_STRIP_BLOCK];
    size_t i, j, m;
    if (width == 0) {
        fp_batch_fixed(base, stride, 0, count, code, n, out);
        return;
    }
    for (i = 0; i < count; i += m) {
        const uint8_t *blk = base + (ptrdiff_t)i * stride;
        const uint8_t *last = blk + width - 1;
        unsigned nul = 0;
        m = count - i < FP_STRIP_BLOCK ? count - i : FP_STRIP_BLOCK;
        if (stride == (ptrdiff_t)width) {
            for (j = 0; j < m; j++) nul |= (unsigned)(last[j * width] == 0);
        } else {
            for (j = 0; j < m; j++) nul |= (unsigned)(last[(ptrdiff_t)j * stride] == 0);
        }
        if (!nul) {
            fp_batch_fixed(blk, stride, width, m, code, n, out + i);
            continue;
        }
        for (j = 0; j < m; j++) {
            const uint8_t *p = blk + (ptrdiff_t)j * stride;
            size_t len = width;
            while (len > 0 && p[len - 1] == 0) len--;
            ptrs[j] = p;
            lens[j] = len;
        }
        fp_batch_ptrs(ptrs, lens, m, code, n, out + i);
    }
}

#endif /* FASTPART_KERNELS_H */
