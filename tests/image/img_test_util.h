/*
 * Helpers for the image tests: deterministic random bytes, a scratch
 * directory, files in and out, and running the cross-check tools.
 */
#ifndef IMG_TEST_UTIL_H
#define IMG_TEST_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* xorshift32: the same bytes every run, so failures reproduce. */
static inline void fill_random(uint8_t *buf, size_t len, uint32_t seed)
{
    uint32_t x = seed ? seed : 1;
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        buf[i] = (uint8_t)(x >> 24);
    }
}

static inline int write_bytes(const char *path, const void *buf, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        return -1;
    }
    size_t n = fwrite(buf, 1, len, f);
    return (fclose(f) == 0 && n == len) ? 0 : -1;
}

static inline int run_cmd(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Run a shell command (output to /dev/null); returns its exit status. */
static inline int run_cmd(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    char full[2100];
    snprintf(full, sizeof(full), "%s >/dev/null 2>&1", cmd);
    int rc = system(full);
    if (rc != 0) {
        fprintf(stderr, "command failed (%d): %s\n", rc, cmd);
    }
    return rc;
}

/* True when CMake's find_program found the tool. */
static inline int tool_found(const char *path)
{
    return path[0] != '\0' && strstr(path, "NOTFOUND") == NULL;
}

#endif
