/*
 * Two read-mostly identification blocks:
 *
 *  - DBGMCU (RM0433 chapter 60 "Debug infrastructure", DBGMCU registers;
 *    base 0x5C00 1000, RM0433 2.3.2 Table 8): DBGMCU_IDC at +0x00 with
 *    DEV_ID[11:0] = 0x450 (STM32H742/743/750/753) and REV_ID[31:16]
 *    (0x1003 rev Y, 0x2003 rev V), DBGMCU_CR at +0x04 (its debug-clock and
 *    low-power-debug bits are kept; with no debugger they change nothing).
 *    The peripheral freeze registers are not modelled.
 *  - the device electronic signature (RM0433 chapter 61): the 96-bit unique
 *    ID at 0x1FF1 E800 (61.1) and the flash size in KiB, 16 bits, at
 *    0x1FF1 E880 (61.2): 2048 for the STM32H743xI. Read only.
 */
#include <stdlib.h>
#include <string.h>

#include "mcu_sys.h"

#define DEV_ID_H743 0x450u

/* DBGMCU_CR: DBGSLEEP_D1 0, DBGSTOP_D1 1, DBGSTBY_D1 2, DBGSTOP_D3 7,
 * DBGSTBY_D3 8, TRACECLKEN 20, D1DBGCKEN 21, D3DBGCKEN 22, TRGOEN 28. */
#define DBGMCU_CR_MASK 0x107001C7u

#define UID_WORDS      3u
#define FLASH_SIZE_OFF 0x80u
#define FLASH_SIZE_KIB 2048u

struct sysinfo {
    uint16_t rev_id;
    uint32_t dbg_cr;
    uint32_t uid[UID_WORDS];
};

static void sysinfo_do_reset(void *ctx, bool power_on)
{
    (void)power_on;
    sysinfo_t *s = ctx;
    s->dbg_cr = 0;
}

static bool dbgmcu_read(void *ctx, uint32_t off, unsigned size, uint32_t *val, const char **why)
{
    sysinfo_t *s = ctx;
    if (size != 4u) {
        *why = "DBGMCU: only 32-bit accesses are modelled";
        return false;
    }
    switch (off) {
    case 0x00:
        *val = ((uint32_t)s->rev_id << 16) | DEV_ID_H743;
        return true;
    case 0x04:
        *val = s->dbg_cr;
        return true;
    default:
        *why = "DBGMCU: register not modelled";
        return false;
    }
}

static bool dbgmcu_write(void *ctx, uint32_t off, unsigned size, uint32_t v, const char **why)
{
    sysinfo_t *s = ctx;
    if (size != 4u) {
        *why = "DBGMCU: only 32-bit accesses are modelled";
        return false;
    }
    if (off == 0x04u) {
        if ((v & ~DBGMCU_CR_MASK) != 0u) {
            *why = "DBGMCU_CR: reserved bit set";
            return false;
        }
        s->dbg_cr = v;
        return true;
    }
    *why = off == 0x00u ? "DBGMCU_IDC is read only" : "DBGMCU: register not modelled";
    return false;
}

static bool uid_read(void *ctx, uint32_t off, unsigned size, uint32_t *val, const char **why)
{
    sysinfo_t *s = ctx;
    if ((size != 1u && size != 2u && size != 4u) || (off & (size - 1u)) != 0u) {
        *why = "UID: access size or alignment";
        return false;
    }
    uint32_t w;
    if (off < 4u * UID_WORDS) {
        w = s->uid[off / 4u];
    } else if ((off & ~3u) == FLASH_SIZE_OFF) {
        /* F_SIZE is 16 bits; the upper half-word is not described: 0 here. */
        w = FLASH_SIZE_KIB;
    } else {
        *why = "UID block: location not modelled";
        return false;
    }
    unsigned sh = 8u * (off & 3u);
    *val = size == 4u ? w : (w >> sh) & ((1u << (8u * size)) - 1u);
    return true;
}

static bool uid_write(void *ctx, uint32_t off, unsigned size, uint32_t v, const char **why)
{
    (void)ctx;
    (void)off;
    (void)size;
    (void)v;
    *why = "UID / flash size: read only";
    return false;
}

sysinfo_t *dbgmcu_new(uint16_t rev_id)
{
    sysinfo_t *s = calloc(1, sizeof *s);
    if (s == NULL) {
        return NULL;
    }
    s->rev_id = rev_id;
    return s;
}

sysinfo_t *uid_new(const uint32_t uid[3])
{
    sysinfo_t *s = calloc(1, sizeof *s);
    if (s == NULL) {
        return NULL;
    }
    memcpy(s->uid, uid, sizeof s->uid);
    return s;
}

void sysinfo_free(sysinfo_t *s)
{
    free(s);
}

mcu_periph_t dbgmcu_periph(sysinfo_t *s)
{
    mcu_periph_t p = {
        .name = "DBGMCU",
        .base = DBGMCU_BASE,
        .size = DBGMCU_SIZE,
        .ctx = s,
        .read = dbgmcu_read,
        .write = dbgmcu_write,
        .reset = sysinfo_do_reset,
    };
    return p;
}

mcu_periph_t uid_periph(sysinfo_t *s)
{
    mcu_periph_t p = {
        .name = "UID",
        .base = UID_BASE,
        .size = UID_SIZE,
        .ctx = s,
        .read = uid_read,
        .write = uid_write,
        .reset = sysinfo_do_reset,
    };
    return p;
}
