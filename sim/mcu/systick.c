/*
 * SysTick (ARMv7-M ARM B3.3; base 0xE000 E010) and the DWT cycle counter
 * (ARMv7-M C1.8; base 0xE000 1000), both counting from the virtual clock.
 *
 * SysTick: SYST_CSR ENABLE 0, TICKINT 1, CLKSOURCE 2 (1: processor clock,
 * 0: the implementation's reference clock), COUNTFLAG 16 (set when the
 * counter goes from 1 to 0, cleared by a read of CSR and by any write to
 * CVR); SYST_RVR RELOAD[23:0]; SYST_CVR CURRENT[23:0] (any write clears it);
 * SYST_CALIB (B3.3.6). The counter decrements at the processor clock
 * (rcc_cpu_hz) or, with CLKSOURCE = 0, at the H7's SysTick reference, the
 * CPU clock divided by 8 (RM0433 RCC clock distribution figure: the
 * SysTick reference is the D1 CPU clock / 8). Reaching 0 sets COUNTFLAG; the next tick
 * reloads RVR (B3.3.1). CVR = 0 when enabled: the first tick loads RVR.
 * Not modelled: the SysTick exception (TICKINT = 1 is refused).
 *
 * DWT: DWT_CTRL (C1.8) NUMCOMP[31:28] = 4 on the Cortex-M7 (TRM "DWT
 * programmers model"), CYCCNTENA 0; DWT_CYCCNT (C1.8) counts processor
 * clock cycles while CYCCNTENA and DEMCR.TRCENA are set, wrapping at 2^32.
 * DWT_LAR / DWT_LSR (CoreSight software lock, Cortex-M7 TRM) are accepted
 * and reported but the lock is not enforced. Not modelled (refused): the
 * other profiling counters, PC sampling, the comparators.
 */
#include <stdlib.h>

#include "mcu_sys.h"

enum {
    T_CSR = 0x0,
    T_RVR = 0x4,
    T_CVR = 0x8,
    T_CALIB = 0xC,
};

#define CSR_ENABLE    (1u << 0)
#define CSR_TICKINT   (1u << 1)
#define CSR_CLKSOURCE (1u << 2)
#define CSR_COUNTFLAG (1u << 16)
#define CNT_MASK      0x00FFFFFFu
#define SYSTICK_DIV   8u /* CLKSOURCE = 0 on the H7: CPU clock / 8 */

/* SYST_CALIB (B3.3.6): RM0433 gives no calibration value for the H743:
 * NOREF = 0 (the reference clock exists), SKEW = 1, TENMS = 0 ("not
 * known"). */
#define CALIB_VALUE (1u << 30)

enum {
    D_CTRL = 0x000,
    D_CYCCNT = 0x004,
    D_LAR = 0xFB0,
    D_LSR = 0xFB4,
};

#define DWT_CTRL_NUMCOMP (4u << 28)
#define DWT_CYCCNTENA    1u
#define DWT_LAR_KEY      0xC5ACCE55u /* CoreSight unlock key */
#define DWT_LSR_SLI      1u          /* software lock implemented */
#define DWT_LSR_SLK      2u          /* locked */

struct systick {
    sim_clock_t *clock;
    const rcc_t *rcc;
    const scb_t *scb;
    /* SysTick: the counter runs from cvr0 at t0 at hz. */
    uint32_t csr; /* ENABLE | CLKSOURCE */
    uint32_t rvr;
    uint32_t cvr0;
    uint64_t t0_ns;
    uint32_t hz;
    uint64_t seen_ticks; /* ticks since t0 already folded into countflag */
    bool countflag;
    /* DWT: cyc0 at t1 at cyc_hz while counting. */
    uint32_t dwt_ctrl;
    uint32_t cyc0;
    uint64_t t1_ns;
    uint32_t cyc_hz;
    bool cyc_running;
    bool dwt_locked;
};

static uint64_t now_ns(const systick_t *t)
{
    return t->clock != NULL ? sim_clock_now_ns(t->clock) : 0u;
}

/* Whole clock ticks at hz in dt nanoseconds (no 64-bit overflow). */
static uint64_t ticks(uint64_t dt_ns, uint32_t hz)
{
    return dt_ns / SIM_NS_PER_S * hz + dt_ns % SIM_NS_PER_S * hz / SIM_NS_PER_S;
}

static uint32_t cpu_hz(const systick_t *t)
{
    return t->rcc != NULL ? rcc_cpu_hz(t->rcc) : 64000000u;
}

static uint32_t tick_hz(const systick_t *t)
{
    uint32_t hz = cpu_hz(t);
    return (t->csr & CSR_CLKSOURCE) != 0u ? hz : hz / SYSTICK_DIV;
}

/* Counter value n ticks after t0 (B3.3.1): counts cvr0 .. 0, then reloads. */
static uint32_t value_after(const systick_t *t, uint64_t n)
{
    if (n <= t->cvr0) {
        return (uint32_t)(t->cvr0 - n);
    }
    if (t->rvr == 0u) {
        return 0; /* a zero RELOAD stops the counter at 0 */
    }
    uint64_t m = n - t->cvr0 - 1u; /* ticks after the first reload */
    return (uint32_t)(t->rvr - m % ((uint64_t)t->rvr + 1u));
}

/* Transitions from 1 to 0 within the first n ticks. */
static uint64_t zeros_after(const systick_t *t, uint64_t n)
{
    uint64_t z = (t->cvr0 > 0u && n >= t->cvr0) ? 1u : 0u;
    if (t->rvr > 0u) {
        uint64_t first = (uint64_t)t->cvr0 + 1u + t->rvr; /* reload, then RELOAD ticks */
        if (n >= first) {
            z += 1u + (n - first) / ((uint64_t)t->rvr + 1u);
        }
    }
    return z;
}

static uint64_t elapsed_ticks(const systick_t *t)
{
    if ((t->csr & CSR_ENABLE) == 0u) {
        return 0;
    }
    return ticks(now_ns(t) - t->t0_ns, t->hz);
}

/* Fold the time since the last look into COUNTFLAG; restart the timeline
 * when the tick rate changed (a clock switch while counting). */
static void systick_update(systick_t *t)
{
    if ((t->csr & CSR_ENABLE) == 0u) {
        return;
    }
    uint64_t n = elapsed_ticks(t);
    if (zeros_after(t, n) > zeros_after(t, t->seen_ticks)) {
        t->countflag = true;
    }
    t->seen_ticks = n;
    if (tick_hz(t) != t->hz) {
        t->cvr0 = value_after(t, n);
        t->t0_ns = now_ns(t);
        t->hz = tick_hz(t);
        t->seen_ticks = 0;
    }
}

static uint32_t current(const systick_t *t)
{
    return value_after(t, elapsed_ticks(t));
}

/* Start a new timeline at the current value (after a write). */
static void rebase(systick_t *t, uint32_t cvr)
{
    t->cvr0 = cvr;
    t->t0_ns = now_ns(t);
    t->hz = tick_hz(t);
    t->seen_ticks = 0;
}

static bool cyc_running(const systick_t *t)
{
    bool trcena = t->scb == NULL || scb_trcena(t->scb);
    return (t->dwt_ctrl & DWT_CYCCNTENA) != 0u && trcena;
}

static uint32_t cyccnt(const systick_t *t)
{
    if (!t->cyc_running) {
        return t->cyc0;
    }
    return t->cyc0 + (uint32_t)ticks(now_ns(t) - t->t1_ns, t->cyc_hz);
}

static void dwt_rebase(systick_t *t, uint32_t cyc)
{
    t->cyc0 = cyc;
    t->t1_ns = now_ns(t);
    t->cyc_hz = cpu_hz(t);
    t->cyc_running = cyc_running(t);
}

/* Restart the count's timeline when the core clock or the enables changed
 * since the last access (their change is seen at the next DWT access). */
static void dwt_update(systick_t *t)
{
    if (t->cyc_hz != cpu_hz(t) || t->cyc_running != cyc_running(t)) {
        dwt_rebase(t, cyccnt(t));
    }
}

static void systick_do_reset(void *ctx, bool power_on)
{
    (void)power_on;
    systick_t *t = ctx;
    t->csr = 0; /* ENABLE = 0, CLKSOURCE = 0 */
    t->rvr = 0; /* UNKNOWN on the chip */
    t->countflag = false;
    rebase(t, 0);
}

static void dwt_do_reset(void *ctx, bool power_on)
{
    (void)power_on;
    systick_t *t = ctx;
    t->dwt_ctrl = 0;
    t->dwt_locked = true;
    dwt_rebase(t, 0);
}

static bool systick_read(void *ctx, uint32_t off, unsigned size, uint32_t *val, const char **why)
{
    systick_t *t = ctx;
    if (size != 4u) {
        *why = "SysTick: only 32-bit accesses are modelled";
        return false;
    }
    systick_update(t);
    switch (off) {
    case T_CSR:
        *val = t->csr | (t->countflag ? CSR_COUNTFLAG : 0u);
        t->countflag = false; /* cleared by the read (B3.3.3) */
        return true;
    case T_RVR:
        *val = t->rvr;
        return true;
    case T_CVR:
        *val = current(t);
        return true;
    case T_CALIB:
        *val = CALIB_VALUE;
        return true;
    default:
        *why = "SysTick: register not modelled";
        return false;
    }
}

static bool systick_write(void *ctx, uint32_t off, unsigned size, uint32_t v, const char **why)
{
    systick_t *t = ctx;
    if (size != 4u) {
        *why = "SysTick: only 32-bit accesses are modelled";
        return false;
    }
    systick_update(t);
    switch (off) {
    case T_CSR: {
        if ((v & CSR_TICKINT) != 0u) {
            *why = "SYST_CSR.TICKINT: the SysTick exception is not modelled";
            return false;
        }
        if ((v & ~(CSR_ENABLE | CSR_CLKSOURCE | CSR_COUNTFLAG)) != 0u) {
            *why = "SYST_CSR: reserved bit set";
            return false;
        }
        uint32_t now_val = current(t);
        t->csr = v & (CSR_ENABLE | CSR_CLKSOURCE);
        rebase(t, now_val);
        return true;
    }
    case T_RVR:
        if ((v & ~CNT_MASK) != 0u) {
            *why = "SYST_RVR: bits 31:24 are reserved";
            return false;
        }
        /* The new RELOAD is used at the next reload: continue from now. */
        rebase(t, current(t));
        t->rvr = v;
        return true;
    case T_CVR:
        /* Any write clears the counter and COUNTFLAG (B3.3.5). */
        t->countflag = false;
        rebase(t, 0);
        return true;
    case T_CALIB:
        *why = "SYST_CALIB is read only";
        return false;
    default:
        *why = "SysTick: register not modelled";
        return false;
    }
}

static bool dwt_read(void *ctx, uint32_t off, unsigned size, uint32_t *val, const char **why)
{
    systick_t *t = ctx;
    if (size != 4u) {
        *why = "DWT: only 32-bit accesses are modelled";
        return false;
    }
    dwt_update(t);
    switch (off) {
    case D_CTRL:
        *val = DWT_CTRL_NUMCOMP | t->dwt_ctrl;
        return true;
    case D_CYCCNT:
        *val = cyccnt(t);
        return true;
    case D_LSR:
        *val = DWT_LSR_SLI | (t->dwt_locked ? DWT_LSR_SLK : 0u);
        return true;
    default:
        *why = "DWT: register not modelled (only CTRL, CYCCNT, LAR, LSR)";
        return false;
    }
}

static bool dwt_write(void *ctx, uint32_t off, unsigned size, uint32_t v, const char **why)
{
    systick_t *t = ctx;
    if (size != 4u) {
        *why = "DWT: only 32-bit accesses are modelled";
        return false;
    }
    dwt_update(t);
    switch (off) {
    case D_CTRL:
        if ((v & ~(DWT_CTRL_NUMCOMP | 0x0F000000u | DWT_CYCCNTENA)) != 0u) {
            *why = "DWT_CTRL: only CYCCNTENA is modelled";
            return false;
        }
        t->dwt_ctrl = v & DWT_CYCCNTENA;
        dwt_rebase(t, cyccnt(t));
        return true;
    case D_CYCCNT:
        dwt_rebase(t, v);
        return true;
    case D_LAR:
        t->dwt_locked = v != DWT_LAR_KEY;
        return true;
    default:
        *why = "DWT: register not modelled (only CTRL, CYCCNT, LAR, LSR)";
        return false;
    }
}

systick_t *systick_new(sim_clock_t *clock, const rcc_t *rcc)
{
    systick_t *t = calloc(1, sizeof *t);
    if (t == NULL) {
        return NULL;
    }
    t->clock = clock;
    t->rcc = rcc;
    systick_do_reset(t, true);
    dwt_do_reset(t, true);
    return t;
}

void systick_free(systick_t *t)
{
    free(t);
}

void systick_attach_scb(systick_t *t, const scb_t *s)
{
    t->scb = s;
    dwt_rebase(t, cyccnt(t));
}

mcu_periph_t systick_periph(systick_t *t)
{
    mcu_periph_t p = {
        .name = "SysTick",
        .base = SYSTICK_BASE,
        .size = SYSTICK_SIZE,
        .ctx = t,
        .read = systick_read,
        .write = systick_write,
        .reset = systick_do_reset,
    };
    return p;
}

mcu_periph_t dwt_periph(systick_t *t)
{
    mcu_periph_t p = {
        .name = "DWT",
        .base = DWT_BASE,
        .size = DWT_SIZE,
        .ctx = t,
        .read = dwt_read,
        .write = dwt_write,
        .reset = dwt_do_reset,
    };
    return p;
}
