/*
 * Drives fastpart/_kernels.h directly, for tests/test_kernels_c.py, which
 * compiles it with -fsanitize=undefined,address (and without AVX2) and
 * compares every answer with the pure-Python twin.
 *
 * stdin: the corpus format of tests/conformance_support.py (K<hex> / N).
 * argv[1]: comma-separated partition counts.
 * stdout, one line per key: murmur2 kjs crc32 fnv1a xxh32 (unsigned, decimal),
 * then the Java partition for each count from the scalar single-key path, the
 * batch path and the fixed-width path (one key per call), space-separated.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "_kernels.h"

static int hexval(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

int main(int argc, char **argv) {
    static char line[1 << 16];
    uint8_t *key = malloc(1 << 15);
    uint32_t counts[64];
    int ncounts = 0, i;
    char *tok;
    if (argc < 2 || key == NULL) return 2;
    for (tok = strtok(argv[1], ","); tok && ncounts < 64; tok = strtok(NULL, ","))
        counts[ncounts++] = (uint32_t)strtoul(tok, NULL, 10);
    fp_init();
    if (argc > 2 && strcmp(argv[2], "scalar") == 0) fp_simd_set(0);
    fprintf(stderr, "simd=%d\n", fp_simd_enabled());
    while (fgets(line, sizeof line, stdin)) {
        size_t len = 0, n = strlen(line);
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
        if (line[0] == 'N') {
            printf("null\n");
            continue;
        }
        for (i = 1; line[i] && line[i + 1]; i += 2) key[len++] = (uint8_t)(hexval(line[i]) * 16 + hexval(line[i + 1]));
        printf("%u %u %u %u %u", fp_murmur2(key, len), fp_murmur2_kjs(key, len), fp_crc32(key, len),
               fp_fnv1a(key, len), fp_xxh32(key, len));
        for (i = 0; i < ncounts; i++) {
            const uint8_t *ptrs[9];
            size_t lens[9];
            int32_t out[9], fixed[9];
            int j;
            for (j = 0; j < 9; j++) { ptrs[j] = key; lens[j] = len; }
            fp_batch_ptrs(ptrs, lens, 9, FP_H_MURMUR2, counts[i], out);
            fp_batch_fixed(key, 0, len, 9, FP_H_MURMUR2, counts[i], fixed);
            for (j = 1; j < 9; j++)
                if (out[j] != out[0] || fixed[j] != fixed[0]) return 3;
            printf(" %d %d %d", fp_partition_one(key, len, FP_H_MURMUR2, counts[i]), out[0], fixed[0]);
        }
        printf("\n");
    }
    free(key);
    return 0;
}
