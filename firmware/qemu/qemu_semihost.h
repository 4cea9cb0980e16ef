/* ARM semihosting (ARM DUI 0471, "Semihosting operations"): BKPT 0xAB on
 * M-profile, operation in r0, argument in r1. */
#ifndef H7_QEMU_SEMIHOST_H
#define H7_QEMU_SEMIHOST_H

#include <stdint.h>

static inline uint32_t qemu_semihost(uint32_t op, const void *arg)
{
    register uint32_t r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

/* SYS_WRITE0 (0x04): a NUL-terminated string to the debug console. */
static inline void qemu_puts(const char *s)
{
    (void)qemu_semihost(0x04u, s);
}

/* SYS_EXIT (0x18) with ADP_Stopped_ApplicationExit (0x20026): QEMU exits
 * with status 0 (the 32-bit ABI carries no exit code). */
static inline __attribute__((noreturn)) void qemu_exit(int code)
{
    (void)code;
    (void)qemu_semihost(0x18u, (const void *)(uintptr_t)0x20026u);
    for (;;) {
    }
}

#endif
