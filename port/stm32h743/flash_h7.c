/*
 * flash_ops_t for the STM32H743 embedded flash (RM0433 section 4):
 *
 *  - unlock: KEY1 then KEY2 into FLASH_KEYRx (4.5.1); locked again after
 *    every operation so a runaway write cannot program anything.
 *  - program (4.3.9 "Flash programming"): PG with PSIZE x64, eight 32-bit
 *    writes fill the 256-bit write buffer, which the controller then
 *    programs on its own (QW set while queued/busy); we wait for QW = 0 and
 *    check the error flags. A flash word is programmed exactly once.
 *  - sector erase (4.3.10): SER + SNB, then START; bank erase: BER + START.
 *  - every error flag is decoded (flash_sr.c) and cleared through
 *    FLASH_CCRx (4.9.6) before and after each operation.
 *  - the CPU's D-cache may hold lines of the range just changed: they are
 *    invalidated (and the I-cache) after every program or erase (cache.c).
 *
 * Sequences (RM0433 4.3.9 "FLASH program operations", single write
 * sequence; 4.3.10 "FLASH erase operations", sector erase): wait QW/BSY idle,
 * clear flags, unlock, set PG (or SER+SNB, then START in a second write),
 * write the eight words of one 256-bit flash word with nothing in between,
 * DSB, wait QW = 0, read and clear the flags, lock. FW (force write) is never
 * needed: a flash word is always written whole, so the write buffer is
 * always full when QW is raised. A stuck WBNE/QW/BSY (a hardware fault) ends
 * the wait after FLASH_OP_MAX_US with FLASH_ERR_HW, which the DFU layer
 * reports to the host; it never hangs the bootloader.
 *
 * Bank 1's registers are at 0x52002000, bank 2's at +0x100 (4.9).
 * Execution continues from bank 1 while bank 1 is written: the AXI read
 * stalls until the operation ends, which is what a polled driver wants.
 */
#include <string.h>

#include "flash_sr.h"
#include "h7_port.h"
#include "regs/cm7.h"
#include "regs/flash_ctl.h"

typedef struct {
    bool guard_bootloader;
} h7_flash_ctx_t;

static h7_flash_ctx_t s_ctx;

static h7_flash_bank_t *bank_regs(unsigned bank)
{
    return H7_FLASH_BANK(bank);
}

static void unlock(h7_flash_bank_t *b)
{
    if (b->CR & FLASH_CR_LOCK) {
        b->KEYR = FLASH_KEY1;
        b->KEYR = FLASH_KEY2;
    }
}

static void lock(h7_flash_bank_t *b)
{
    b->CR = FLASH_CR_LOCK;
}

/* The longest operation: a sector erase, DS12110 gives about 2 s maximum at
 * x64 (4 s at x8), and worn sectors are slower still: 10 s is the bound
 * after which the controller is taken as stuck. */
#define FLASH_OP_MAX_US  10000000u
#define FLASH_FAST_POLLS 1000u

/* Wait for QW, BSY and WBNE to clear: tight polls first (a word programs
 * in about 100 us), then 10 us steps for the first millisecond, then 1 ms
 * steps (an erase takes seconds) up to FLASH_OP_MAX_US. false: stuck. */
static bool wait_idle(h7_flash_bank_t *b)
{
    const uint32_t busy = FLASH_SR_QW | FLASH_SR_BSY | FLASH_SR_WBNE;
    if (h7_wait_reg(&b->SR, busy, 0u, FLASH_FAST_POLLS)) {
        return true;
    }
    for (uint32_t us = 0; us < FLASH_OP_MAX_US;) {
        uint32_t step = us < 1000u ? 10u : 1000u;
        h7_delay_us(step);
        us += step;
        if ((b->SR & busy) == 0u) {
            return true;
        }
    }
    return false;
}

/* Wait for the end of the operation, then decode and clear every flag. */
static flash_status_t finish(h7_flash_bank_t *b, bool erase)
{
    if (!wait_idle(b)) {
        return FLASH_ERR_HW;
    }
    uint32_t sr = b->SR;
    b->CCR = sr & FLASH_SR_ALL_FLAGS;
    return h7_flash_decode_sr(sr, erase);
}

static flash_status_t begin(h7_flash_bank_t *b)
{
    if (!wait_idle(b)) {
        return FLASH_ERR_HW;
    }
    b->CCR = FLASH_SR_ALL_FLAGS; /* stale flags would be blamed on us */
    unlock(b);
    return (b->CR & FLASH_CR_LOCK) ? FLASH_ERR_HW : FLASH_OK;
}

static flash_status_t h7_erase_sector(void *ctx, unsigned sector)
{
    const flash_map_t *m = flash_map_stm32h743();
    h7_flash_ctx_t *c = ctx;
    if (sector >= m->sector_count) {
        return FLASH_ERR_ADDRESS;
    }
    if (c->guard_bootloader && flash_map_is_reserved(m, sector)) {
        return FLASH_ERR_PROTECTED;
    }
    unsigned bank = sector / m->sectors_per_bank;
    h7_flash_bank_t *b = bank_regs(bank);
    flash_status_t st = begin(b);
    if (st == FLASH_OK) {
        b->CR = FLASH_CR_PSIZE(FLASH_CR_PSIZE_X64) | FLASH_CR_SER |
                FLASH_CR_SNB(sector % m->sectors_per_bank);
        b->CR |= FLASH_CR_START;
        st = finish(b, true);
    }
    lock(b);
    h7_cache_invalidate_range(flash_map_sector_addr(m, sector), m->sector_size);
    return st;
}

static flash_status_t h7_erase_bank(void *ctx, unsigned bank)
{
    const flash_map_t *m = flash_map_stm32h743();
    h7_flash_ctx_t *c = ctx;
    unsigned banks = m->sector_count / m->sectors_per_bank;
    if (bank >= banks) {
        return FLASH_ERR_ADDRESS;
    }
    uint32_t bank_mask = ((1u << m->sectors_per_bank) - 1u) << (bank * m->sectors_per_bank);
    if (c->guard_bootloader && (m->reserved_mask & bank_mask) != 0u) {
        return FLASH_ERR_PROTECTED;
    }
    h7_flash_bank_t *b = bank_regs(bank);
    flash_status_t st = begin(b);
    if (st == FLASH_OK) {
        b->CR = FLASH_CR_PSIZE(FLASH_CR_PSIZE_X64) | FLASH_CR_BER;
        b->CR |= FLASH_CR_START;
        st = finish(b, true);
    }
    lock(b);
    h7_cache_invalidate_range(flash_map_sector_addr(m, bank * m->sectors_per_bank),
                              m->sector_size * m->sectors_per_bank);
    return st;
}

static flash_status_t h7_program_word(void *ctx, uint32_t addr, const uint8_t *word)
{
    const flash_map_t *m = flash_map_stm32h743();
    h7_flash_ctx_t *c = ctx;
    if (addr % m->word_size != 0u || !flash_map_contains(m, addr, m->word_size)) {
        return FLASH_ERR_ADDRESS;
    }
    int sector = flash_map_sector_of(m, addr);
    if (c->guard_bootloader && flash_map_is_reserved(m, (unsigned)sector)) {
        return FLASH_ERR_PROTECTED;
    }
    h7_flash_bank_t *b = bank_regs((unsigned)sector / m->sectors_per_bank);
    flash_status_t st = begin(b);
    if (st == FLASH_OK) {
        b->CR = FLASH_CR_PSIZE(FLASH_CR_PSIZE_X64) | FLASH_CR_PG;
        h7_dsb();
        volatile uint32_t *dst = (volatile uint32_t *)(uintptr_t)addr;
        for (unsigned i = 0; i < 8u; i++) {
            uint32_t w;
            memcpy(&w, word + 4u * i, sizeof w);
            dst[i] = w;
        }
        h7_dsb();
        st = finish(b, false);
    }
    lock(b);
    h7_cache_invalidate_range(addr, m->word_size);
    return st;
}

/*
 * Reads that survive a double ECC error. A flash word left half-programmed or
 * half-erased by a power cut fails its ECC check, and on the H743 a read of
 * it is a bus error (RM0433 4.7.7 "Error correction code error", DBECCERR):
 * a precise BusFault that escalates to HardFault. The bootloader reads the
 * slot at every reset, so a faulting read would be a reset loop that never
 * reaches DFU mode. Instead the copy runs with FAULTMASK set and CCR.BFHFNMIGN,
 * where the core ignores data bus faults (ARMv7-M B3.2.8; the load returns
 * unknown data), and DBECCERR of either bank tells whether it happened.
 */
static flash_status_t h7_read(void *ctx, uint32_t addr, void *buf, size_t len)
{
    (void)ctx;
    const flash_map_t *m = flash_map_stm32h743();
    if (len == 0u) {
        return FLASH_OK;
    }
    if (len > UINT32_MAX || !flash_map_contains(m, addr, (uint32_t)len)) {
        return FLASH_ERR_ADDRESS;
    }
    /* A DBECCERR left from before (a speculative fetch, an earlier read)
     * must not be blamed on this read: clear both banks' first. */
    for (unsigned bank = 0; bank < 2u; bank++) {
        bank_regs(bank)->CCR = FLASH_SR_DBECCERR;
    }
    uint32_t fm;
    __asm__ volatile("mrs %0, faultmask" : "=r"(fm));
    uint32_t ccr = SCB_CCR;
    __asm__ volatile("cpsid f" ::: "memory");
    SCB_CCR = ccr | SCB_CCR_BFHFNMIGN;
    h7_dsb();
    h7_isb();
    /* Bytes up to a word boundary, then whole words (a quarter of the bus
     * reads), then the tail. */
    const volatile uint8_t *src = (const volatile uint8_t *)(uintptr_t)addr;
    uint8_t *dst = buf;
    size_t i = 0;
    for (; i < len && ((addr + i) & 3u) != 0u; i++) {
        dst[i] = src[i];
    }
    for (; len - i >= 4u; i += 4u) {
        uint32_t w = *(const volatile uint32_t *)(uintptr_t)(addr + i);
        memcpy(dst + i, &w, sizeof w);
    }
    for (; i < len; i++) {
        dst[i] = src[i];
    }
    h7_dsb();
    SCB_CCR = ccr;
    h7_dsb();
    h7_isb();
    if ((fm & 1u) == 0u) {
        __asm__ volatile("cpsie f" ::: "memory"); /* as the caller had it */
    }
    bool ecc = false;
    for (unsigned bank = 0; bank < 2u; bank++) {
        h7_flash_bank_t *b = bank_regs(bank);
        if (b->SR & FLASH_SR_DBECCERR) {
            b->CCR = FLASH_SR_DBECCERR;
            ecc = true;
        }
    }
    if (ecc) {
        SCB_CFSR = SCB_CFSR_BFSR_MASK; /* the ignored fault's status */
        return FLASH_ERR_ECC;
    }
    return FLASH_OK;
}

static bool h7_is_write_protected(void *ctx, unsigned sector)
{
    (void)ctx;
    const flash_map_t *m = flash_map_stm32h743();
    if (sector >= m->sector_count) {
        return true;
    }
    h7_flash_bank_t *b = bank_regs(sector / m->sectors_per_bank);
    return (b->WPSN_CUR & FLASH_WPSN_WRPS(sector % m->sectors_per_bank)) == 0u;
}

static const flash_ops_t h7_flash_ops = {
    .erase_sector = h7_erase_sector,
    .erase_bank = h7_erase_bank,
    .program_word = h7_program_word,
    .read = h7_read,
    .is_write_protected = h7_is_write_protected,
};

const flash_dev_t *h7_flash_dev(bool guard_bootloader)
{
    static flash_dev_t dev;
    s_ctx.guard_bootloader = guard_bootloader;
    dev.ops = &h7_flash_ops;
    dev.ctx = &s_ctx;
    dev.map = flash_map_stm32h743();
    return &dev;
}
