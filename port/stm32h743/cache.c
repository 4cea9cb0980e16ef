/*
 * Cortex-M7 L1 caches (ARMv7-M B2.2.7, Cortex-M7 TRM 4.8). On the H743 the
 * flash is Normal write-through memory: CPU writes reach the controller, but
 * lines filled before an erase or program would keep serving stale data, so
 * the flash driver invalidates what it changed. DTCM is not cached.
 */
#include "h743_port.h"
#include "regs/cm7.h"

static void dcache_invalidate_all(void)
{
    SCB_CSSELR = 0u; /* level 1 data cache */
    h7_dsb();
    uint32_t ccsidr = SCB_CCSIDR;
    uint32_t sets = CCSIDR_SETS(ccsidr);
    uint32_t ways = CCSIDR_WAYS(ccsidr);
    /* DCISW operand (ARMv7-M B2.2.7): way in bits [31:30] (4 ways), set from
     * bit 5 (32-byte lines). */
    do {
        uint32_t w = ways;
        do {
            SCB_DCISW = (sets << 5) | (w << 30);
        } while (w-- != 0u);
    } while (sets-- != 0u);
    h7_dsb();
}

void h743_cache_enable(void)
{
    if ((SCB_CCR & SCB_CCR_IC) == 0u) {
        h7_dsb();
        h7_isb();
        SCB_ICIALLU = 0u;
        h7_dsb();
        h7_isb();
        SCB_CCR |= SCB_CCR_IC;
        h7_dsb();
        h7_isb();
    }
    if ((SCB_CCR & SCB_CCR_DC) == 0u) {
        /* Contents are undefined after reset: invalidate before enabling. */
        dcache_invalidate_all();
        SCB_CCR |= SCB_CCR_DC;
        h7_dsb();
        h7_isb();
    }
}

void h743_cache_invalidate_range(uint32_t addr, uint32_t len)
{
    if (len == 0u) {
        return;
    }
    uint32_t line = addr & ~(H7_DCACHE_LINE - 1u);
    uint32_t end = addr + len;
    h7_dsb();
    for (; line < end; line += H7_DCACHE_LINE) {
        SCB_DCIMVAC = line;
    }
    SCB_ICIALLU = 0u;
    h7_dsb();
    h7_isb();
}
