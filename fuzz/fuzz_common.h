/*
 * Shared by the fuzz targets: the libFuzzer entry point's prototype, an
 * invariant check that aborts (so libFuzzer and the standalone driver both
 * record a crash), and a byte reader that decodes the fuzz input.
 *
 * Every target is built twice: with -fsanitize=fuzzer (make fuzz, clang) and
 * with fuzz/standalone_main.c (fuzz_short_* in make test, gcc or clang).
 */
#ifndef H7_FUZZ_COMMON_H
#define H7_FUZZ_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An invariant of the code under test was broken: report and abort. */
#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", __FILE__, __LINE__, #cond);      \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

typedef struct fuzz_reader {
    const uint8_t *p;
    size_t left;
} fuzz_reader_t;

static inline fuzz_reader_t fuzz_reader(const uint8_t *data, size_t size)
{
    fuzz_reader_t r = {data, size};
    return r;
}

static inline bool fuzz_empty(const fuzz_reader_t *r)
{
    return r->left == 0;
}

/* Past the end, reads give zeros: every input decodes to something. */
static inline uint8_t fuzz_u8(fuzz_reader_t *r)
{
    if (r->left == 0) {
        return 0;
    }
    r->left--;
    return *r->p++;
}

static inline uint16_t fuzz_u16(fuzz_reader_t *r)
{
    uint16_t lo = fuzz_u8(r);
    return (uint16_t)(lo | ((uint16_t)fuzz_u8(r) << 8));
}

/* Copy up to n bytes into out (zero filled past the end of the input). */
static inline void fuzz_bytes(fuzz_reader_t *r, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        out[i] = fuzz_u8(r);
    }
}

#endif
