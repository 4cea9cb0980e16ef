/*
 * Register model of the STM32H743 embedded flash controller. See flash_ctl.h.
 *
 * Sources: RM0433 chapter 4 "Embedded flash memory (FLASH)": 4.3.9 program
 * operations, 4.3.10 erase operations, 4.3.12 ECC, 4.4 option bytes, 4.5.1
 * configuration protection, 4.7 error management, 4.8 interrupts, 4.9
 * registers. The wording quoted below was checked against the same chapter
 * of RM0399 Rev 4 (STM32H745/747: identical controller, register map and
 * numbering); bit positions against ST's STM32H743 SVD (FLASH, as published
 * in stm32-rs and embassy stm32-data).
 */
#include "flash_ctl.h"

#include <stdlib.h>
#include <string.h>

/* ---- register map (RM0433 4.9 and its register map table; offsets inside
 * one bank's 0x100 window). The register names and offsets are exact; the
 * sub-section numbers from 4.9.17 on are inferred (RM0399 numbers these
 * registers two higher, after its Cortex-M4 boot registers). ---- */

#define R_ACR       0x00u /* 4.9.1 FLASH_ACR, shared */
#define R_KEYR      0x04u /* 4.9.2 FLASH_KEYR1 (KEYR2 at 0x104) */
#define R_OPTKEYR   0x08u /* 4.9.3 FLASH_OPTKEYR, shared */
#define R_CR        0x0Cu /* 4.9.4 FLASH_CR1 */
#define R_SR        0x10u /* 4.9.5 FLASH_SR1 */
#define R_CCR       0x14u /* 4.9.6 FLASH_CCR1 */
#define R_OPTCR     0x18u /* 4.9.7 FLASH_OPTCR, shared */
#define R_OPTSR_CUR 0x1Cu /* 4.9.8 FLASH_OPTSR_CUR, shared */
#define R_OPTSR_PRG 0x20u /* 4.9.9 FLASH_OPTSR_PRG, shared */
#define R_OPTCCR    0x24u /* 4.9.10 FLASH_OPTCCR, shared */
#define R_PRAR_CUR  0x28u /* 4.9.11 FLASH_PRAR_CUR1 */
#define R_PRAR_PRG  0x2Cu /* 4.9.12 FLASH_PRAR_PRG1 */
#define R_SCAR_CUR  0x30u /* 4.9.13 FLASH_SCAR_CUR1 */
#define R_SCAR_PRG  0x34u /* 4.9.14 FLASH_SCAR_PRG1 */
#define R_WPSN_CUR  0x38u /* 4.9.15 FLASH_WPSN_CUR1R */
#define R_WPSN_PRG  0x3Cu /* 4.9.16 FLASH_WPSN_PRG1R */
#define R_BOOT_CUR  0x40u /* 4.9.17 FLASH_BOOT_CURR, shared */
#define R_BOOT_PRG  0x44u /* 4.9.18 FLASH_BOOT_PRGR, shared */
#define R_CRCCR     0x50u /* 4.9.19 FLASH_CRCCR1 */
#define R_CRCSADD   0x54u /* 4.9.20 FLASH_CRCSADD1R */
#define R_CRCEADD   0x58u /* 4.9.21 FLASH_CRCEADD1R */
#define R_CRCDATA   0x5Cu /* 4.9.22 FLASH_CRCDATAR, shared */
#define R_ECC_FA    0x60u /* 4.9.23 FLASH_ECC_FA1R */

/* FLASH_ACR (4.9.1): LATENCY [3:0], WRHIGHFREQ [5:4]; reset 0x0000 0037
 * ("After power-on, a default 7 wait-state latency", 4.3.8). */
#define ACR_LATENCY    0x0000000Fu
#define ACR_WRHIGHFREQ 0x00000030u
#define ACR_RESET      0x00000037u

/* FLASH_KEYRx (4.9.2) and FLASH_OPTKEYR (4.9.3) unlock keys (4.5.1). */
#define KEY1    0x45670123u
#define KEY2    0xCDEF89ABu
#define OPTKEY1 0x08192A3Bu
#define OPTKEY2 0x4C5D6E7Fu

/* FLASH_CRx (4.9.4); reset 0x0000 0031 (LOCK, PSIZE = 11: x64). */
#define CR_LOCK        (1u << 0)
#define CR_PG          (1u << 1)
#define CR_SER         (1u << 2)
#define CR_BER         (1u << 3)
#define CR_PSIZE_SHIFT 4u
#define CR_PSIZE       (3u << CR_PSIZE_SHIFT)
#define CR_FW          (1u << 6)
#define CR_START       (1u << 7)
#define CR_SNB_SHIFT   8u
#define CR_SNB         (7u << CR_SNB_SHIFT)
#define CR_CRC_EN      (1u << 15)
/* EOPIE 16, WRPERRIE 17, PGSERRIE 18, STRBERRIE 19, INCERRIE 21, OPERRIE 22,
 * RDPERRIE 23, RDSERRIE 24, SNECCERRIE 25, DBECCERRIE 26, CRCENDIE 27,
 * CRCRDERRIE 28: each at the position of its flag in FLASH_SRx. */
#define CR_IE 0x1FEF0000u
#define CR_WRITABLE                                                                                \
    (CR_LOCK | CR_PG | CR_SER | CR_BER | CR_PSIZE | CR_FW | CR_START | CR_SNB | CR_CRC_EN | CR_IE)
#define CR_RESET 0x00000031u

/* FLASH_SRx (4.9.5); FLASH_CCRx (4.9.6) clears a flag with a 1 at its place. */
#define SR_BSY      (1u << 0)
#define SR_WBNE     (1u << 1)
#define SR_QW       (1u << 2)
#define SR_CRC_BUSY (1u << 3)
#define SR_EOP      (1u << 16)
#define SR_WRPERR   (1u << 17)
#define SR_PGSERR   (1u << 18)
#define SR_STRBERR  (1u << 19)
#define SR_INCERR   (1u << 21)
#define SR_OPERR    (1u << 22)
#define SR_RDPERR   (1u << 23)
#define SR_RDSERR   (1u << 24)
#define SR_SNECCERR (1u << 25)
#define SR_DBECCERR (1u << 26)
#define SR_CRCEND   (1u << 27)
#define SR_CRCRDERR (1u << 28)
#define SR_FLAGS    0x1FEF0000u /* the sticky flags, = the CCR bits */

/* FLASH_OPTCR (4.9.7): reset 0xX000 0001, X = SWAP_BANK (0: factory). */
#define OPTCR_OPTLOCK        (1u << 0)
#define OPTCR_OPTSTART       (1u << 1)
#define OPTCR_MER            (1u << 4)
#define OPTCR_OPTCHANGEERRIE (1u << 30)
#define OPTCR_SWAP_BANK      (1u << 31)
#define OPTCR_RESET          0x00000001u
/* FLASH_OPTCCR (4.9.10): CLR_OPTCHANGEERR. */
#define OPTCCR_CLR_OPTCHANGEERR (1u << 30)

/*
 * Option registers, factory state (RM0433 4.4 "FLASH option bytes", default
 * values before the first option byte change):
 *  FLASH_OPTSR_CUR/PRG: RDP 0xAA (level 0) [15:8], IWDG1_SW 1 (bit 4, watchdog
 *   by software), NRST_STOP_D1 1 (bit 6) and NRST_STBY_D1 1 (bit 7, no reset
 *   on DStop/DStandby), FZ_IWDG_STOP 1 (bit 17), FZ_IWDG_SDBY 1 (bit 18),
 *   BOR_LEV 0, ST_RAM_SIZE 0, SECURITY 0, IO_HSLV 0, SWAP_BANK_OPT 0;
 *  FLASH_PRAR_x, FLASH_SCAR_x: PCROP / secure-only area disabled (start
 *   0x0FF above end 0x000), DMEP/DMES 0 (4.4.6);
 *  FLASH_BOOT_CURR/PRGR: BOOT_ADD0 0x0800 (user flash), BOOT_ADD1 0x1FF0
 *   (system memory) (4.4.7).
 * Write protection (FLASH_WPSN_CURxR, bit n = 0: sector n protected, 4.9.15)
 * comes from sim_flash, which owns it.
 */
#define OPTSR_FACTORY 0x0006AAD0u
#define AREA_NONE     0x000000FFu
#define BOOT_FACTORY  0x1FF00800u

/* FLASH_CRCCRx reset value (4.9.19); FLASH_CRCSADDxR / CRCEADDxR hold
 * CRC_START_ADDR / CRC_END_ADDR [19:2]. */
#define CRCCR_RESET   0x001C0000u
#define CRC_ADDR_BITS 0x000FFFFCu

#define FLASH_WORD 32u         /* 256-bit flash word (4.3.9) */
#define WB_FULL    0xFFFFFFFFu /* one bit per byte of the write buffer */

typedef struct bank {
    uint32_t cr;
    uint32_t sr; /* sticky flags (SR_FLAGS); BSY, QW and WBNE are derived */
    uint32_t ecc_fa;
    uint32_t crcsadd, crceadd;
    unsigned key_step; /* 1: KEY1 written, KEY2 expected */
    bool locked_up;    /* wrong key sequence: locked until the next reset */
    bool op_running;   /* a program or erase started and not yet ended */
    uint64_t op_end_ns;
} bank_t;

struct flash_ctl {
    sim_flash_t *flash;
    sim_clock_t *clock;
    const flash_map_t *map;
    uint32_t acr;
    bool other_access;   /* anything else was accessed since the last SR read */
    const void *last_sr; /* the bank whose FLASH_SRx was read last */
    uint32_t optcr;
    unsigned optkey_step;
    bool opt_locked_up;
    bank_t bank[2];
    uint64_t ops_started; /* programs and erases started by the controller */
    uint64_t stick_op;    /* fault: this operation never ends (0: none) */
    /* The CPU's AXI write buffer (4.3.9 "A 256-bit write data buffer is
     * associated with each AXI interface"): one flash word being filled. */
    bool wb_used;
    unsigned wb_bank;
    uint32_t wb_addr;
    uint32_t wb_mask;
    uint8_t wb[FLASH_WORD];
};

/* ---- time ---- */

static uint64_t now_ns(const flash_ctl_t *f)
{
    return f->clock ? sim_clock_now_ns(f->clock) : 0;
}

static bool bank_busy(const flash_ctl_t *f, const bank_t *b)
{
    return b->op_running && now_ns(f) < b->op_end_ns;
}

/* An operation that reached its end sets EOP (4.8 "End-of-program event": at
 * the end of an erase or a program operation). */
static void bank_update(flash_ctl_t *f, bank_t *b)
{
    if (b->op_running && now_ns(f) >= b->op_end_ns) {
        b->op_running = false;
        b->sr |= SR_EOP;
    }
}

static uint64_t gcd64(uint64_t a, uint64_t b)
{
    while (b) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* base * num / den without overflow for the datasheet's magnitudes. */
static uint64_t scale(uint64_t base, uint64_t num, uint64_t den)
{
    uint64_t g = gcd64(num, den);
    if (g == 0) {
        return base;
    }
    num /= g;
    den /= g;
    return base / den * num + base % den * num / den;
}

/*
 * PSIZE is the program/erase parallelism (4.3.9 "Adjusting programming
 * parallelism": "The programming parallelism is also used during sector and
 * bank erase"; Table 17; 4.9.4 PSIZE "selects the parallelism used ... during
 * write and erase operations"). The times sim_flash charges are taken as the
 * ones for x64 (its default, sim_flash_set_times); another PSIZE scales them
 * by the ratio of the DS12110 typical values (the max column has the same
 * ratios).
 */
static sim_flash_times_t psize_times(const sim_flash_times_t *base, unsigned psize)
{
    const sim_flash_times_t *ds = sim_flash_ds12110_times((sim_flash_psize_t)psize, false);
    const sim_flash_times_t *ref = sim_flash_ds12110_times(SIM_FLASH_X64, false);
    sim_flash_times_t t = {
        .prog_word_ns = scale(base->prog_word_ns, ds->prog_word_ns, ref->prog_word_ns),
        .sector_erase_ns = scale(base->sector_erase_ns, ds->sector_erase_ns, ref->sector_erase_ns),
        .bank_erase_ns = scale(base->bank_erase_ns, ds->bank_erase_ns, ref->bank_erase_ns),
    };
    return t;
}

/* ---- operations on the array ---- */

typedef enum { OP_PROGRAM, OP_FORCE_WRITE, OP_ERASE_SECTOR, OP_ERASE_BANK } op_t;

static void start_op(flash_ctl_t *f, unsigned bn, op_t op, uint32_t addr, const uint8_t *word,
                     unsigned index)
{
    bank_t *b = &f->bank[bn];
    bank_update(f, b); /* an operation that already ended keeps its EOP */
    sim_flash_times_t saved = *sim_flash_get_times(f->flash);
    sim_flash_times_t t = psize_times(&saved, (b->cr & CR_PSIZE) >> CR_PSIZE_SHIFT);
    flash_status_t st = FLASH_OK;

    sim_flash_set_times(f->flash, &t);
    /* Each bank has its own controller (RM0433 4.9: FLASH_CR1/SR1 and
     * FLASH_CR2/SR2): the operation's time is this bank's, not a queue
     * shared with the other bank, so the model does not charge the clock;
     * it only says how long the work takes. */
    sim_flash_stats_t before, after;
    sim_flash_get_stats(f->flash, &before);
    sim_flash_set_clock(f->flash, NULL);
    switch (op) {
    case OP_PROGRAM:
        st = sim_flash_program_word(f->flash, addr, word);
        break;
    case OP_FORCE_WRITE:
        st = sim_flash_force_write(f->flash, addr, word, FLASH_WORD);
        break;
    case OP_ERASE_SECTOR:
        st = sim_flash_erase_sector(f->flash, index);
        break;
    case OP_ERASE_BANK:
        st = sim_flash_erase_bank(f->flash, index);
        break;
    }
    sim_flash_set_clock(f->flash, f->clock);
    sim_flash_set_times(f->flash, &saved);
    sim_flash_get_stats(f->flash, &after);

    switch (st) {
    case FLASH_OK: {
        uint64_t end = now_ns(f) + (after.busy_ns - before.busy_ns);
        if (!b->op_running || end > b->op_end_ns) {
            b->op_end_ns = end;
        }
        if (++f->ops_started == f->stick_op) {
            b->op_end_ns = FLASH_CTL_NEVER; /* the stuck-busy fault */
        }
        b->op_running = true;
        bank_update(f, b);
        break;
    }
    case FLASH_ERR_PROTECTED:
        /* 4.7.2: the operation is rejected, nothing changes in the bank. */
        b->sr |= SR_WRPERR;
        break;
    case FLASH_ERR_POWER:
        /* The power is gone (sim_flash_powered() false): the board handles
         * it; no flag, no completion. */
        break;
    default:
        /* sim_flash refused the word (SIM_FLASH_OVERWRITE_REFUSE on a word
         * that is not erased): the silicon raises nothing there (RM0433
         * 4.3.9); the model reports the refusal as OPERR, "an error ...
         * during a write or an erase operation" (4.7.6). A board wanting the
         * silicon's behaviour sets SIM_FLASH_OVERWRITE_CORRUPT. */
        b->sr |= SR_OPERR;
        break;
    }
}

static unsigned bank_of_addr(const flash_ctl_t *f, uint32_t addr)
{
    uint32_t bank_size = f->map->sector_size * f->map->sectors_per_bank;
    return (addr - f->map->base) / bank_size;
}

static void wb_drop(flash_ctl_t *f)
{
    f->wb_used = false;
    f->wb_mask = 0;
}

static void wb_drop_bank(flash_ctl_t *f, unsigned bn)
{
    if (f->wb_used && f->wb_bank == bn) {
        wb_drop(f);
    }
}

/* FWx (4.9.4): write what the buffer holds, the missing bytes as 1s; no
 * effect with an empty buffer, nor when no bit of it is 0 (4.3.9). */
static void force_write(flash_ctl_t *f, unsigned bn)
{
    if (!f->wb_used || f->wb_bank != bn) {
        return;
    }
    bool any_zero = false;
    for (unsigned i = 0; i < FLASH_WORD; i++) {
        if (f->wb[i] != 0xFFu) {
            any_zero = true;
        }
    }
    if (!any_zero) {
        return;
    }
    uint8_t word[FLASH_WORD];
    memcpy(word, f->wb, sizeof word);
    uint32_t addr = f->wb_addr;
    wb_drop(f);
    start_op(f, bn, OP_FORCE_WRITE, addr, word, 0);
}

bool flash_ctl_array_write(flash_ctl_t *f, uint32_t addr, unsigned size, uint32_t val,
                           const char **why)
{
    f->other_access = true;
    if (size != 1u && size != 2u && size != 4u) {
        *why = "flash array store size not 1, 2 or 4";
        return false;
    }
    if (addr % size) {
        *why = "unaligned store to the flash array";
        return false;
    }
    if (!flash_map_contains(f->map, addr, size)) {
        *why = "store outside the flash array";
        return false;
    }
    if (!sim_flash_powered(f->flash)) {
        return true; /* the board lost power: nothing happens any more */
    }
    unsigned bn = bank_of_addr(f, addr);
    bank_t *b = &f->bank[bn];

    /* 4.3.9: "Any write access requested while the PG1/2 bit is cleared to 0
     * is rejected. In this case, no error is generated on the bus, but the
     * PGSERR1/2 flag is raised." */
    if (!(b->cr & CR_PG)) {
        b->sr |= SR_PGSERR;
        return true;
    }
    /* 4.7.3: PGSERR "blocks any new program operation"; 4.7.5: INCERR not
     * cleared before a new write raises PGSERR. The buffer is flushed. */
    if (b->sr & (SR_PGSERR | SR_INCERR)) {
        b->sr |= SR_PGSERR;
        wb_drop_bank(f, bn);
        return true;
    }
    uint32_t word_addr = addr & ~(FLASH_WORD - 1u);
    /* 4.7.5: a write to another flash word (in either bank) before the
     * buffer is full is an inconsistency. Modelling choice: both the partial
     * word and the new data are lost ("an error that involves data loss",
     * 4.9.5 WBNE), INCERR in the bank of the partial word and in the bank of
     * the new store. */
    if (f->wb_used && f->wb_addr != word_addr) {
        f->bank[f->wb_bank].sr |= SR_INCERR;
        b->sr |= SR_INCERR;
        wb_drop(f);
        return true;
    }
    if (!f->wb_used) {
        f->wb_used = true;
        f->wb_bank = bn;
        f->wb_addr = word_addr;
        f->wb_mask = 0;
        memset(f->wb, 0xFF, sizeof f->wb);
    }
    unsigned off = addr - word_addr;
    uint32_t m = ((1u << size) - 1u) << off;
    /* 4.7.4: writing the same byte twice raises STRBERR; the operation is
     * not aborted and the new data replace the old. */
    if (f->wb_mask & m) {
        b->sr |= SR_STRBERR;
    }
    for (unsigned i = 0; i < size; i++) {
        f->wb[off + i] = (uint8_t)(val >> (8u * i));
    }
    f->wb_mask |= m;
    if (f->wb_mask == WB_FULL) {
        uint8_t word[FLASH_WORD];
        memcpy(word, f->wb, sizeof word);
        wb_drop(f);
        start_op(f, bn, OP_PROGRAM, word_addr, word, 0);
    }
    return true;
}

flash_ctl_read_t flash_ctl_array_read(flash_ctl_t *f, uint32_t addr, unsigned size)
{
    f->other_access = true;
    if (size == 0 || !flash_map_contains(f->map, addr, size)) {
        return FLASH_CTL_READ_BUS_ERROR;
    }
    if (!sim_flash_powered(f->flash)) {
        return FLASH_CTL_READ_OK;
    }
    uint32_t first = addr & ~(FLASH_WORD - 1u);
    uint32_t last = (addr + size - 1u) & ~(FLASH_WORD - 1u);
    for (uint32_t w = first; w <= last; w += FLASH_WORD) {
        if (sim_flash_word_state(f->flash, w) != SIM_WORD_ECC_CORRUPT) {
            continue;
        }
        unsigned bn = bank_of_addr(f, w);
        bank_t *b = &f->bank[bn];
        uint32_t bank_base = f->map->base + bn * f->map->sector_size * f->map->sectors_per_bank;
        /* FLASH_ECC_FA1R: FAIL_ECC_ADDR = flash word index in the bank, written only
         * when no ECC flag is set (the first error is kept). */
        if (!(b->sr & (SR_SNECCERR | SR_DBECCERR))) {
            b->ecc_fa = (w - bank_base) / FLASH_WORD;
        }
        b->sr |= SR_DBECCERR; /* 4.7.7: and a bus error */
        return FLASH_CTL_READ_BUS_ERROR;
    }
    return FLASH_CTL_READ_OK;
}

void flash_ctl_stick(flash_ctl_t *f, uint64_t n)
{
    f->stick_op = n;
}

bool flash_ctl_bank_busy(const flash_ctl_t *f, unsigned bank, uint64_t *until_ns)
{
    if (bank > 1u) {
        return false;
    }
    const bank_t *b = &f->bank[bank];
    bool busy = bank_busy(f, b);
    if (until_ns) {
        *until_ns = busy ? b->op_end_ns : now_ns(f);
        /* stuck: a core stalled on this bank waits a second at a time, for
         * ever (there is no end to wait for) */
        if (busy && b->op_end_ns == FLASH_CTL_NEVER) {
            *until_ns = now_ns(f) + SIM_NS_PER_S;
        }
    }
    return busy;
}

/* ---- registers ---- */

static uint32_t sr_value(flash_ctl_t *f, unsigned bn)
{
    bank_t *b = &f->bank[bn];
    bank_update(f, b);
    uint32_t v = b->sr;
    if (bank_busy(f, b)) {
        v |= SR_BSY | SR_QW;
    }
    if (f->wb_used && f->wb_bank == bn) {
        v |= SR_WBNE;
    }
    return v;
}

bool flash_ctl_irq_pending(flash_ctl_t *f)
{
    for (unsigned bn = 0; bn < 2u; bn++) {
        if (sr_value(f, bn) & f->bank[bn].cr & CR_IE) {
            return true;
        }
    }
    return false;
}

/* A poll of FLASH_SRx while the bank works: see flash_ctl.h "Time". */
static void sr_poll_advance(flash_ctl_t *f, bank_t *b)
{
    bool tight = !f->other_access && f->last_sr == b;
    f->other_access = false;
    f->last_sr = b;
    if (!f->clock || !bank_busy(f, b) || !tight) {
        return;
    }
    uint64_t now = sim_clock_now_ns(f->clock);
    if (b->op_end_ns == FLASH_CTL_NEVER) {
        return; /* nothing to wait for: the poll costs the core's own time */
    }
    uint64_t rem = b->op_end_ns - now;
    uint64_t step = rem / 2u;
    if (step < SIM_NS_PER_US) {
        step = SIM_NS_PER_US;
    }
    if (step > rem) {
        step = rem;
    }
    sim_clock_wait_until(f->clock, now + step);
}

void flash_ctl_note_other_access(flash_ctl_t *f)
{
    f->other_access = true;
}

static uint32_t wpsn(const flash_ctl_t *f, unsigned bn)
{
    uint32_t v = 0;
    unsigned per_bank = f->map->sectors_per_bank;
    for (unsigned s = 0; s < per_bank && s < 8u; s++) {
        if (!sim_flash_is_write_protected(f->flash, bn * per_bank + s)) {
            v |= 1u << s;
        }
    }
    return v;
}

static bool reg_read(flash_ctl_t *f, unsigned bn, uint32_t reg, uint32_t *val, const char **why)
{
    bank_t *b = &f->bank[bn];
    switch (reg) {
    case R_ACR:
        *val = f->acr;
        return true;
    case R_KEYR:
    case R_OPTKEYR:
    case R_CCR:
    case R_OPTCCR:
        *val = 0; /* write-only registers (4.9.2, 4.9.3, 4.9.6, 4.9.10) */
        return true;
    case R_CR:
        *val = b->cr;
        return true;
    case R_SR:
        sr_poll_advance(f, b);
        *val = sr_value(f, bn);
        return true;
    case R_OPTCR:
        *val = f->optcr;
        return true;
    case R_OPTSR_CUR:
    case R_OPTSR_PRG:
        *val = OPTSR_FACTORY;
        return true;
    case R_PRAR_CUR:
    case R_PRAR_PRG:
    case R_SCAR_CUR:
    case R_SCAR_PRG:
        *val = AREA_NONE;
        return true;
    case R_WPSN_CUR:
    case R_WPSN_PRG:
        *val = wpsn(f, bn);
        return true;
    case R_BOOT_CUR:
    case R_BOOT_PRG:
        *val = BOOT_FACTORY;
        return true;
    case R_CRCCR:
        *val = CRCCR_RESET;
        return true;
    case R_CRCSADD:
        *val = b->crcsadd;
        return true;
    case R_CRCEADD:
        *val = b->crceadd;
        return true;
    case R_CRCDATA:
        *val = 0;
        return true;
    case R_ECC_FA:
        *val = b->ecc_fa;
        return true;
    default:
        *why = "FLASH register not modelled";
        return false;
    }
}

static void key_lock_up(bank_t *b)
{
    b->locked_up = true;
    b->key_step = 0;
    b->cr |= CR_LOCK;
}

/*
 * FLASH_KEYRx (4.5.1): KEY1 then KEY2 clear LOCK. "Any wrong sequence locks
 * up the corresponding register/bit until the next system reset, and
 * generates a bus error"; so do a third key value (a key written while
 * unlocked: 4.3.9 "must not unlock a register that is already unlocked") and
 * a key written with less than 32 bits.
 */
static bool keyr_write(bank_t *b, unsigned size, uint32_t val, const char **why)
{
    if (size != 4u) {
        key_lock_up(b);
        *why = "bus error: FLASH_KEYRx written with less than 32 bits, FLASH_CRx locked until "
               "reset (RM0433 4.5.1)";
        return false;
    }
    if (b->locked_up) {
        *why = "bus error: FLASH_KEYRx after a wrong key sequence, FLASH_CRx locked until reset "
               "(RM0433 4.5.1)";
        return false;
    }
    if (!(b->cr & CR_LOCK)) {
        key_lock_up(b);
        *why = "bus error: unlock key written while FLASH_CRx was unlocked, locked until reset "
               "(RM0433 4.5.1)";
        return false;
    }
    if (b->key_step == 0 && val == KEY1) {
        b->key_step = 1;
        return true;
    }
    if (b->key_step == 1 && val == KEY2) {
        b->key_step = 0;
        b->cr &= ~CR_LOCK;
        return true;
    }
    key_lock_up(b);
    *why = "bus error: wrong FLASH_KEYRx key sequence, FLASH_CRx locked until reset (RM0433 4.5.1)";
    return false;
}

/* FLASH_OPTKEYR (4.5.1, 4.9.3): OPTKEY1 then OPTKEY2 clear OPTLOCK, with the
 * same lock-up and bus error on a wrong sequence. */
static bool optkeyr_write(flash_ctl_t *f, unsigned size, uint32_t val, const char **why)
{
    if (size == 4u && !f->opt_locked_up && (f->optcr & OPTCR_OPTLOCK)) {
        if (f->optkey_step == 0 && val == OPTKEY1) {
            f->optkey_step = 1;
            return true;
        }
        if (f->optkey_step == 1 && val == OPTKEY2) {
            f->optkey_step = 0;
            f->optcr &= ~OPTCR_OPTLOCK;
            return true;
        }
    }
    f->opt_locked_up = true;
    f->optkey_step = 0;
    f->optcr |= OPTCR_OPTLOCK;
    *why = "bus error: wrong FLASH_OPTKEYR key sequence, FLASH_OPTCR locked until reset "
           "(RM0433 4.5.1)";
    return false;
}

static bool cr_write(flash_ctl_t *f, unsigned bn, uint32_t val, const char **why)
{
    bank_t *b = &f->bank[bn];
    /* Locked: the bits "can be programmed only when LOCK is cleared" (4.9.4)
     * and writes to FLASH_CRx "are not allowed" (4.5.1): ignored. */
    if (b->cr & CR_LOCK) {
        return true;
    }
    /* LOCK 0 -> 1: "the other bits of FLASH_CR1 register do not change". */
    if (val & CR_LOCK) {
        b->cr |= CR_LOCK;
        return true;
    }
    if (val & ~CR_WRITABLE) {
        *why = "FLASH_CRx: reserved bit set";
        return false;
    }
    if (val & CR_CRC_EN) {
        *why = "CRC unit not modelled (FLASH_CRx CRC_EN)";
        return false;
    }
    bank_update(f, b);
    if (bank_busy(f, b) && ((val ^ b->cr) & CR_PSIZE)) {
        *why = "FLASH_CRx PSIZE changed while the bank programs or erases: corruption not "
               "modelled (RM0433 4.3.9 caution)";
        return false;
    }
    uint32_t old = b->cr;
    /* FW and START are reset by the controller once acknowledged (4.9.4). */
    b->cr = val & ~(CR_FW | CR_START);
    if ((old & CR_PG) && !(val & CR_PG)) {
        /* PG cleared: "all the data stored in the buffer but not sent to the
         * operation queue are lost" (4.9.4). */
        wb_drop_bank(f, bn);
    }
    if (val & CR_FW) {
        force_write(f, bn);
    }
    if (val & CR_START) {
        unsigned per_bank = f->map->sectors_per_bank;
        if (val & CR_BER) {
            /* BER has priority over SER (4.9.4). */
            start_op(f, bn, OP_ERASE_BANK, 0, NULL, bn);
        } else if (val & CR_SER) {
            unsigned snb = (val & CR_SNB) >> CR_SNB_SHIFT;
            start_op(f, bn, OP_ERASE_SECTOR, 0, NULL, bn * per_bank + snb);
        } else {
            *why = "FLASH_CRx START without SER or BER not modelled";
            return false;
        }
    }
    return true;
}

static bool optcr_write(flash_ctl_t *f, uint32_t val, const char **why)
{
    if (f->optcr & OPTCR_OPTLOCK) {
        return true; /* locked: ignored (4.5.1) */
    }
    if (val & OPTCR_OPTLOCK) {
        f->optcr |= OPTCR_OPTLOCK; /* other bits do not change (4.9.7) */
        return true;
    }
    if (val & OPTCR_OPTSTART) {
        *why = "option byte change not modelled (FLASH_OPTCR OPTSTART)";
        return false;
    }
    if (val & OPTCR_MER) {
        *why = "mass erase not modelled (FLASH_OPTCR MER)";
        return false;
    }
    if ((val ^ f->optcr) & OPTCR_SWAP_BANK) {
        *why = "FLASH_OPTCR SWAP_BANK is read-only";
        return false;
    }
    if (val & ~(OPTCR_OPTCHANGEERRIE | OPTCR_SWAP_BANK)) {
        *why = "FLASH_OPTCR: reserved bit set";
        return false;
    }
    f->optcr = (f->optcr & ~OPTCR_OPTCHANGEERRIE) | (val & OPTCR_OPTCHANGEERRIE);
    return true;
}

static bool ccr_write(flash_ctl_t *f, unsigned bn, uint32_t val, const char **why)
{
    bank_t *b = &f->bank[bn];
    if (val & ~SR_FLAGS) {
        *why = "FLASH_CCRx: reserved bit set";
        return false;
    }
    bank_update(f, b);
    b->sr &= ~val;
    /* 4.9.6 CLR_SNECCERR/CLR_DBECCERR: with the other ECC flag clear too,
     * FLASH_ECC_FAxR is reset. */
    if (!(b->sr & (SR_SNECCERR | SR_DBECCERR))) {
        b->ecc_fa = 0;
    }
    return true;
}

static bool acr_write(flash_ctl_t *f, uint32_t val, const char **why)
{
    if (val & ~(ACR_LATENCY | ACR_WRHIGHFREQ)) {
        *why = "FLASH_ACR: reserved bit set";
        return false;
    }
    if (((val ^ f->acr) & ACR_WRHIGHFREQ) &&
        (bank_busy(f, &f->bank[0]) || bank_busy(f, &f->bank[1]))) {
        *why = "FLASH_ACR WRHIGHFREQ changed while a bank programs or erases: corruption not "
               "modelled (RM0433 4.3.9 caution)";
        return false;
    }
    f->acr = val;
    return true;
}

/* The 32-bit register value a byte or halfword store makes. */
static uint32_t merge(uint32_t cur, uint32_t off, unsigned size, uint32_t val)
{
    if (size == 4u) {
        return val;
    }
    unsigned shift = 8u * (off & 3u);
    uint32_t mask = (size == 1u ? 0xFFu : 0xFFFFu) << shift;
    return (cur & ~mask) | ((val << shift) & mask);
}

static uint32_t store_lanes(uint32_t off, unsigned size, uint32_t val)
{
    if (size == 4u) {
        return val;
    }
    unsigned shift = 8u * (off & 3u);
    uint32_t mask = (size == 1u ? 0xFFu : 0xFFFFu) << shift;
    return (val << shift) & mask;
}

static bool access_ok(uint32_t off, unsigned size, const char **why)
{
    /* The AHB configuration port takes 8, 16 and 32-bit accesses (4.3.3). */
    if (size != 1u && size != 2u && size != 4u) {
        *why = "FLASH register access size not 1, 2 or 4";
        return false;
    }
    if (off % size) {
        *why = "unaligned FLASH register access";
        return false;
    }
    if (off >= 2u * FLASH_CTL_BANK_STRIDE) {
        *why = "FLASH register not modelled";
        return false;
    }
    return true;
}

static bool periph_read(void *ctx, uint32_t off, unsigned size, uint32_t *val, const char **why)
{
    flash_ctl_t *f = ctx;
    if (!access_ok(off, size, why)) {
        return false;
    }
    unsigned bn = off / FLASH_CTL_BANK_STRIDE;
    uint32_t reg = off % FLASH_CTL_BANK_STRIDE & ~3u;
    uint32_t v;
    if (reg != R_SR) {
        f->other_access = true; /* not a loop on one FLASH_SRx */
    }
    if (!reg_read(f, bn, reg, &v, why)) {
        return false;
    }
    unsigned shift = 8u * (off & 3u);
    *val = size == 4u ? v : (v >> shift) & (size == 1u ? 0xFFu : 0xFFFFu);
    return true;
}

static bool periph_write(void *ctx, uint32_t off, unsigned size, uint32_t val, const char **why)
{
    flash_ctl_t *f = ctx;
    if (!access_ok(off, size, why)) {
        return false;
    }
    unsigned bn = off / FLASH_CTL_BANK_STRIDE;
    uint32_t reg = off % FLASH_CTL_BANK_STRIDE & ~3u;
    bank_t *b = &f->bank[bn];
    f->other_access = true;

    if (reg == R_KEYR) {
        return keyr_write(b, size, val, why);
    }
    /* 4.5.1: writing another register of the bank between KEY1 and KEY2
     * keeps FLASH_CRx locked until reset and is a bus error. */
    if (b->key_step == 1) {
        key_lock_up(b);
        *why = "bus error: FLASH register written between KEY1 and KEY2, FLASH_CRx locked until "
               "reset (RM0433 4.5.1)";
        return false;
    }
    switch (reg) {
    case R_ACR:
        return acr_write(f, merge(f->acr, off, size, val), why);
    case R_OPTKEYR:
        return optkeyr_write(f, size, val, why);
    case R_CR:
        return cr_write(f, bn, merge(b->cr, off, size, val), why);
    case R_SR:
        *why = "FLASH_SRx is read-only (flags clear through FLASH_CCRx)";
        return false;
    case R_CCR:
        return ccr_write(f, bn, store_lanes(off, size, val), why);
    case R_OPTCR:
        return optcr_write(f, merge(f->optcr, off, size, val), why);
    case R_OPTCCR:
        if (store_lanes(off, size, val) & ~OPTCCR_CLR_OPTCHANGEERR) {
            *why = "FLASH_OPTCCR: reserved bit set";
            return false;
        }
        return true; /* OPTCHANGEERR is never raised: nothing to clear */
    case R_OPTSR_PRG:
    case R_PRAR_PRG:
    case R_SCAR_PRG:
    case R_WPSN_PRG:
    case R_BOOT_PRG:
        *why = "option byte programming not modelled (FLASH _PRG registers)";
        return false;
    case R_CRCCR:
        *why = "CRC unit not modelled (FLASH_CRCCRx)";
        return false;
    case R_CRCSADD:
    case R_CRCEADD: {
        uint32_t *r = reg == R_CRCSADD ? &b->crcsadd : &b->crceadd;
        uint32_t v = merge(*r, off, size, val);
        if (v & ~CRC_ADDR_BITS) {
            *why = "FLASH_CRCSADDxR/CRCEADDxR: reserved bit set";
            return false;
        }
        *r = v;
        return true;
    }
    case R_OPTSR_CUR:
    case R_PRAR_CUR:
    case R_SCAR_CUR:
    case R_WPSN_CUR:
    case R_BOOT_CUR:
    case R_CRCDATA:
    case R_ECC_FA:
        *why = "FLASH register is read-only";
        return false;
    default:
        *why = "FLASH register not modelled";
        return false;
    }
}

static void periph_reset(void *ctx, bool power_on)
{
    flash_ctl_t *f = ctx;
    (void)power_on; /* the option registers come from sim_flash and constants */
    /* 4.3.14: a reset clears every register but the option byte registers,
     * and the control registers are locked again. An operation in flight is
     * forgotten (its effect on the array was applied when it started; the
     * contents are "not guaranteed" after such a reset, 4.3.14). */
    f->acr = ACR_RESET;
    f->optcr = OPTCR_RESET;
    f->optkey_step = 0;
    f->opt_locked_up = false;
    for (unsigned bn = 0; bn < 2u; bn++) {
        bank_t *b = &f->bank[bn];
        memset(b, 0, sizeof *b);
        b->cr = CR_RESET;
    }
    wb_drop(f);
}

mcu_periph_t flash_ctl_periph(flash_ctl_t *f)
{
    mcu_periph_t p = {
        .name = "FLASH",
        .base = FLASH_CTL_BASE,
        .size = FLASH_CTL_SIZE,
        .ctx = f,
        .read = periph_read,
        .write = periph_write,
        .reset = periph_reset,
    };
    return p;
}

flash_ctl_t *flash_ctl_new(sim_flash_t *flash, sim_clock_t *clock)
{
    const flash_map_t *m = sim_flash_map(flash);
    if (m->word_size != FLASH_WORD || m->sector_count != 2u * m->sectors_per_bank) {
        return NULL;
    }
    flash_ctl_t *f = calloc(1, sizeof *f);
    if (!f) {
        return NULL;
    }
    f->flash = flash;
    f->clock = clock;
    f->map = m;
    periph_reset(f, true);
    return f;
}

void flash_ctl_free(flash_ctl_t *f)
{
    free(f);
}
