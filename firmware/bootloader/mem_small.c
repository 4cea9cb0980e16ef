/*
 * memcpy and memset for the bootloader images, a byte at a time. newlib's
 * Cortex-M7 versions (word and burst copies, about 470 bytes together) are
 * faster than the bootloader needs (it copies a 2 KiB DFU block in a few
 * microseconds either way, next to milliseconds of flash programming) and
 * larger than its 16 KiB budget allows. Objects come before libraries at link
 * time, so these take their place in the bootloaders only; the applications
 * keep newlib's.
 *
 * Compiled without LTO and without loop idiom recognition
 * (firmware/CMakeLists.txt), so that the compiler neither turns the loops back
 * into calls of themselves nor drops the definitions before code generation
 * emits its own calls of them.
 */
#include <stdint.h>
#include <string.h>

void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
    while (n-- != 0u) {
        *d++ = *s++;
    }
    return dst;
}

void *memset(void *dst, int c, size_t n)
{
    uint8_t *d = dst;
    while (n-- != 0u) {
        *d++ = (uint8_t)c;
    }
    return dst;
}
