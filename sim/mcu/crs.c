/*
 * CRS model (RM0433 section 9 "Clock recovery system"; registers 9.8.1..9.8.4,
 * map 9.8.5). Base 0x4000 8400 (RM0433 2.3.2 Table 8, D2 APB1); its bus clock
 * is RCC_APB1HENR.CRSEN.
 *
 * Modelled: the registers with their reset values and write rules (CFGR
 * write-protected while CEN = 1, TRIM read-only while AUTOTRIMEN = 1), the
 * flags in ISR cleared through ICR, and SYNC events (crs_sync_event(), or
 * CR.SWSYNC) that end a measurement with no frequency error: HSI48 is taken
 * as exact, so TRIM never moves.
 * Not modelled: the interrupt enables (setting one is refused), frequency
 * errors (SYNCWARN, SYNCERR, SYNCMISS, TRIMOVF never rise).
 */
#include <stdlib.h>

#include "mcu_sys.h"

enum {
    C_CR = 0x00,   /* 9.8.1 */
    C_CFGR = 0x04, /* 9.8.2 */
    C_ISR = 0x08,  /* 9.8.3 */
    C_ICR = 0x0C,  /* 9.8.4 */
};

/* CRS_CR (9.8.1), reset 0x0000 2000: TRIM[13:8] = 32 (the middle of its
 * range); SWSYNC 7, AUTOTRIMEN 6, CEN 5, ESYNCIE 3, ERRIE 2, SYNCWARNIE 1,
 * SYNCOKIE 0. */
#define CR_RESET      0x00002000u
#define CR_TRIM       (0x3Fu << 8)
#define CR_SWSYNC     (1u << 7)
#define CR_AUTOTRIMEN (1u << 6)
#define CR_CEN        (1u << 5)
#define CR_IE         0x0Fu

/* CRS_CFGR (9.8.2), reset 0x2022 BB7F: RELOAD[15:0] = 47999, FELIM[23:16] =
 * 34, SYNCDIV[26:24] = 0, SYNCSRC[29:28] = 10, SYNCPOL 31. */
#define CFGR_RESET 0x2022BB7Fu
#define CFGR_MASK  0xB7FFFFFFu

/* CRS_ISR (9.8.3): SYNCOKF 0, SYNCWARNF 1, ERRF 2, ESYNCF 3; FECAP[31:16].
 * CRS_ICR (9.8.4): SYNCOKC 0, SYNCWARNC 1, ERRC 2 (also clears SYNCERR,
 * SYNCMISS, TRIMOVF), ESYNCC 3. */
#define ISR_SYNCOKF (1u << 0)
#define ISR_ESYNCF  (1u << 3)
#define ICR_MASK    0x0Fu

struct crs {
    const rcc_t *rcc;
    uint32_t cr, cfgr, isr;
    unsigned cfgr_ignored;
};

unsigned crs_cfgr_writes_ignored(const crs_t *c)
{
    return c->cfgr_ignored;
}

/* End of a measurement window at the SYNC event: SYNCOKF, ESYNCF, and the
 * frequency error captured in FECAP, 0 here (RM0433 9, "CRS functional
 * description", CRS_ISR). */
void crs_sync_event(crs_t *c)
{
    if ((c->cr & CR_CEN) == 0u) {
        return;
    }
    c->isr = ISR_SYNCOKF | ISR_ESYNCF; /* FECAP = 0, FEDIR = 0 */
}

static void crs_do_reset(void *ctx, bool power_on)
{
    (void)power_on;
    crs_t *c = ctx;
    c->cr = CR_RESET;
    c->cfgr = CFGR_RESET;
    c->isr = 0;
}

static bool clocked(const crs_t *c, const char **why)
{
    if (c->rcc != NULL && !rcc_crs_clocked(c->rcc)) {
        *why = "CRS accessed with its bus clock off (RCC_APB1HENR.CRSEN = 0)";
        return false;
    }
    return true;
}

static bool crs_read(void *ctx, uint32_t off, unsigned size, uint32_t *val, const char **why)
{
    crs_t *c = ctx;
    if (size != 4u) {
        *why = "CRS: only 32-bit accesses are modelled";
        return false;
    }
    if (!clocked(c, why)) {
        return false;
    }
    switch (off) {
    case C_CR:
        *val = c->cr;
        return true;
    case C_CFGR:
        *val = c->cfgr;
        return true;
    case C_ISR:
        *val = c->isr;
        return true;
    case C_ICR:
        *val = 0;
        return true;
    default:
        *why = "CRS: register not modelled";
        return false;
    }
}

static bool crs_write(void *ctx, uint32_t off, unsigned size, uint32_t v, const char **why)
{
    crs_t *c = ctx;
    if (size != 4u) {
        *why = "CRS: only 32-bit accesses are modelled";
        return false;
    }
    if (!clocked(c, why)) {
        return false;
    }
    switch (off) {
    case C_CR: {
        if ((v & CR_IE) != 0u) {
            *why = "CRS_CR: interrupts not modelled";
            return false;
        }
        if ((v & ~(CR_TRIM | CR_SWSYNC | CR_AUTOTRIMEN | CR_CEN | CR_IE)) != 0u) {
            *why = "CRS_CR: reserved bit set";
            return false;
        }
        uint32_t nv = v & (CR_TRIM | CR_AUTOTRIMEN | CR_CEN);
        /* TRIM is hardware's while AUTOTRIMEN is set (9.8.1 TRIM). */
        if ((c->cr & CR_AUTOTRIMEN) != 0u) {
            nv = (nv & ~CR_TRIM) | (c->cr & CR_TRIM);
        }
        c->cr = nv;
        /* SWSYNC: a software SYNC event, reads 0 (9.8.1). */
        if ((v & CR_SWSYNC) != 0u) {
            crs_sync_event(c);
        }
        return true;
    }
    case C_CFGR:
        if ((v & ~CFGR_MASK) != 0u) {
            *why = "CRS_CFGR: reserved bit set";
            return false;
        }
        /* "This register can be written only when the frequency error
         * counter is disabled (CEN = 0)": otherwise the write is lost
         * (9.8.2), as here. */
        if ((c->cr & CR_CEN) != 0u) {
            c->cfgr_ignored++;
            return true;
        }
        c->cfgr = v;
        return true;
    case C_ICR:
        if ((v & ~ICR_MASK) != 0u) {
            *why = "CRS_ICR: reserved bit set";
            return false;
        }
        c->isr &= ~(v & ICR_MASK);
        return true;
    case C_ISR:
        *why = "CRS_ISR is read only";
        return false;
    default:
        *why = "CRS: register not modelled";
        return false;
    }
}

crs_t *crs_new(const rcc_t *rcc)
{
    crs_t *c = calloc(1, sizeof *c);
    if (c == NULL) {
        return NULL;
    }
    c->rcc = rcc;
    crs_do_reset(c, true);
    return c;
}

void crs_free(crs_t *c)
{
    free(c);
}

mcu_periph_t crs_periph(crs_t *c)
{
    mcu_periph_t p = {
        .name = "CRS",
        .base = CRS_BASE,
        .size = CRS_SIZE,
        .ctx = c,
        .read = crs_read,
        .write = crs_write,
        .reset = crs_do_reset,
    };
    return p;
}
