/*
 * flash_ops_t for the STM32H743 embedded flash (RM0433 section 4):
 *
 *  - unlock: KEY1 then KEY2 into FLASH_KEYRx (4.5.1); locked again after
 *    every operation so a runaway write cannot program anything.
 *  - program (4.3.9 "Flash programming"): PG with PSIZE x64, eight 32-bit
 *    writes fill the 256-bit write buffer, which the controller then
 *    programs on its own (QW set while queued/busy); poll() sees QW = 0 and
 *    checks the error flags. A flash word is programmed exactly once.
 *  - operations are started and polled (flash.h): the two banks have their
 *    own controllers and work at the same time, and the main loop serves
 *    USB meanwhile. The code that runs then is in ITCM (linker/
 *    bootloader.ld): a fetch from a bank that is being written would stall
 *    until the operation ends (RM0433 4.3.3: no read while write in one bank).
 *  - sector erase (4.3.10): SER + SNB, then START; bank erase: BER + START.
 *  - every error flag is decoded (flash_sr.c) and cleared through
 *    FLASH_CCRx (4.9.6) before and after each operation.
 *  - the CPU's D-cache may hold lines of the range just changed: they are
 *    invalidated (and the I-cache) after every program or erase (cache.c).
 *
 * Sequences (RM0433 4.3.9 "FLASH program operations", single write
 * sequence; 4.3.10 "FLASH erase operations", sector erase): check QW/BSY
 * idle, clear flags, unlock, set PG (or SER+SNB, then START in a second
 * write), write the eight words of one 256-bit flash word with nothing in
 * between, DSB; later poll: QW = 0, read and clear the flags, lock. FW
 * (force write) is never needed: a flash word is always written whole, so
 * the write buffer is always full when QW is raised.
 *
 * Bank 1's registers are at 0x52002000, bank 2's at +0x100 (4.9).
 */
#include <string.h>

#include "flash_sr.h"
#include "h743_port.h"
#include "regs/cm7.h"
#include "regs/flash_ctl.h"

/* The operation running on a bank: what poll() needs to finish it. */
typedef struct {
    bool active;
    bool erase;
    uint32_t addr; /* range to drop from the caches once done */
    uint32_t len;
    uint32_t t0_us;
} h7_bank_op_t;

typedef struct {
    bool guard_bootloader;
    h7_bank_op_t op[2];
} h7_flash_ctx_t;

static h7_flash_ctx_t s_ctx;
static flash_dev_t s_dev;
/* The map whose reserved sectors are guarded: the chip's unless set. */
static const flash_map_t *s_map;

static h7_flash_bank_t *bank_regs(unsigned bank)
{
    return H7_FLASH_BANK(bank);
}

/* The longest operation: a sector erase, DS12110 gives about 2 s maximum at
 * x64 (4 s at x8), and worn sectors are slower still: 10 s is the bound
 * after which the controller is taken as stuck. */
#define FLASH_OP_MAX_US  10000000u
#define FLASH_FAST_POLLS 1000u
#define FLASH_BUSY_BITS  (FLASH_SR_QW | FLASH_SR_BSY | FLASH_SR_WBNE)

/* Unlock an idle bank with clean flags (KEY1 then KEY2, RM0433 4.5.1).
 * A bank still busy here has an operation nobody started: a fault. */
static flash_status_t begin(h7_flash_bank_t *b)
{
    if (!h743_wait_reg(&b->SR, FLASH_BUSY_BITS, 0u, FLASH_FAST_POLLS)) {
        return FLASH_ERR_HW;
    }
    b->CCR = FLASH_SR_ALL_FLAGS; /* stale flags would be blamed on us */
    if (b->CR & FLASH_CR_LOCK) {
        b->KEYR = FLASH_KEY1;
        b->KEYR = FLASH_KEY2;
    }
    return (b->CR & FLASH_CR_LOCK) ? FLASH_ERR_HW : FLASH_OK;
}

static flash_status_t started(h7_flash_ctx_t *c, unsigned bank, bool erase, uint32_t addr,
                              uint32_t len)
{
    c->op[bank] = (h7_bank_op_t){true, erase, addr, len, h743_clock_us(NULL)};
    return FLASH_OK;
}

/* Sector erase (RM0433 4.3.10): SER + SNB with PSIZE x64, then START in a
 * second write. Returns once started; poll() tells the end. */
static flash_status_t h7_erase_start(void *ctx, unsigned sector)
{
    const flash_map_t *m = flash_map_stm32h743();
    h7_flash_ctx_t *c = ctx;
    if (sector >= m->sector_count) {
        return FLASH_ERR_ADDRESS;
    }
    if (c->guard_bootloader && flash_map_is_reserved(s_dev.map, sector)) {
        return FLASH_ERR_PROTECTED;
    }
    unsigned bank = sector / m->sectors_per_bank;
    h7_flash_bank_t *b = bank_regs(bank);
    flash_status_t st = begin(b);
    if (st != FLASH_OK) {
        b->CR = FLASH_CR_LOCK;
        return st;
    }
    b->CR = FLASH_CR_PSIZE(FLASH_CR_PSIZE_X64) | FLASH_CR_SER |
            FLASH_CR_SNB(sector % m->sectors_per_bank);
    b->CR |= FLASH_CR_START;
    return started(c, bank, true, flash_map_sector_addr(m, sector), m->sector_size);
}

/* One 256-bit flash word (RM0433 4.3.9, single write sequence): PG, the
 * eight 32-bit words with nothing in between; the controller programs the
 * full write buffer on its own (QW set until done). Returns once started. */
static flash_status_t h7_program_start(void *ctx, uint32_t addr, const uint8_t *word)
{
    const flash_map_t *m = flash_map_stm32h743();
    h7_flash_ctx_t *c = ctx;
    if (addr % m->word_size != 0u || !flash_map_contains(m, addr, m->word_size)) {
        return FLASH_ERR_ADDRESS;
    }
    int sector = flash_map_sector_of(m, addr);
    if (c->guard_bootloader && flash_map_is_reserved(s_dev.map, (unsigned)sector)) {
        return FLASH_ERR_PROTECTED;
    }
    unsigned bank = (unsigned)sector / m->sectors_per_bank;
    h7_flash_bank_t *b = bank_regs(bank);
    flash_status_t st = begin(b);
    if (st != FLASH_OK) {
        b->CR = FLASH_CR_LOCK;
        return st;
    }
    b->CR = FLASH_CR_PSIZE(FLASH_CR_PSIZE_X64) | FLASH_CR_PG;
    h7_dsb();
    volatile uint32_t *dst = (volatile uint32_t *)(uintptr_t)addr;
    for (unsigned i = 0; i < 8u; i++) {
        uint32_t w;
        memcpy(&w, word + 4u * i, sizeof w);
        dst[i] = w;
    }
    h7_dsb();
    return started(c, bank, false, addr, m->word_size);
}

/* The bank's operation: busy while QW/BSY/WBNE; then every flag decoded and
 * cleared through FLASH_CCRx (4.9.6), the bank locked again, and the
 * caches dropped for the range. A bank busy past FLASH_OP_MAX_US is stuck:
 * FLASH_ERR_HW, reported to the host; it never hangs the bootloader. */
static flash_status_t h7_poll(void *ctx, unsigned bank)
{
    h7_flash_ctx_t *c = ctx;
    if (bank > 1u) {
        return FLASH_ERR_ADDRESS;
    }
    h7_bank_op_t *op = &c->op[bank];
    if (!op->active) {
        return FLASH_OK;
    }
    h7_flash_bank_t *b = bank_regs(bank);
    uint32_t sr = b->SR;
    flash_status_t st;
    if (sr & FLASH_BUSY_BITS) {
        if (h743_clock_us(NULL) - op->t0_us <= FLASH_OP_MAX_US) {
            return FLASH_BUSY;
        }
        st = FLASH_ERR_HW;
    } else {
        b->CCR = sr & FLASH_SR_ALL_FLAGS;
        st = h7_flash_decode_sr(sr, op->erase);
    }
    op->active = false;
    b->CR = FLASH_CR_LOCK;
    h743_cache_invalidate_range(op->addr, op->len);
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

/* Only the started form: the DFU work steps it from the main loop. */
static const flash_ops_t h7_flash_ops = {
    .read = h7_read,
    .is_write_protected = h7_is_write_protected,
    .erase_start = h7_erase_start,
    .program_start = h7_program_start,
    .poll = h7_poll,
};

void h743_flash_set_map(const flash_map_t *map)
{
    s_map = map;
}

const flash_dev_t *h743_flash_dev(bool guard_bootloader)
{
    s_ctx.guard_bootloader = guard_bootloader;
    s_dev.ops = &h7_flash_ops;
    s_dev.ctx = &s_ctx;
    s_dev.map = s_map != NULL ? s_map : flash_map_stm32h743();
    return &s_dev;
}
