/*
 * Microseconds from the DWT cycle counter (see h743_port.h). CYCCNT counts
 * sys_ck cycles and wraps every 2^32 of them; each read folds the cycles
 * since the last read into whole microseconds and keeps the remainder, so
 * the count stays exact as long as reads are less than a wrap apart.
 */
#include "h743_port.h"
#include "regs/cm7.h"

static uint32_t s_last_cyc;
static uint32_t s_rem_cyc;
static uint32_t s_us;
static uint32_t s_cyc_per_us = 64u;

void h743_clock_us_start(void)
{
    s_cyc_per_us = h743_sysclk_hz() / 1000000u;
    SCB_DEMCR |= SCB_DEMCR_TRCENA;
    DWT_LAR = DWT_LAR_KEY;
    DWT_CYCCNT = 0u;
    DWT_CTRL |= DWT_CTRL_CYCCNTENA;
    s_last_cyc = 0u;
    s_rem_cyc = 0u;
    s_us = 0u;
}

uint32_t h743_clock_us(void *user)
{
    (void)user;
    uint32_t now = DWT_CYCCNT;
    uint32_t cyc = (now - s_last_cyc) + s_rem_cyc; /* modulo 2^32: one wrap at most */
    s_last_cyc = now;
    s_us += cyc / s_cyc_per_us;
    s_rem_cyc = cyc % s_cyc_per_us;
    return s_us;
}
