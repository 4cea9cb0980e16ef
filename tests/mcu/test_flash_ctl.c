/* sim/mcu/flash_ctl: the FLASH controller's registers over the sim_flash array. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "flash_ctl.h"
#include "h7_util.h"

#define BASE    0x08000000u
#define SECTOR  0x20000u
#define BANK2   0x08100000u
#define WORD    32u
#define SEC(n)  (BASE + (uint32_t)(n)*SECTOR)
#define BANK(n) (0x100u * (n))

/* Offsets, bits and keys as RM0433 4.9 gives them (written out here on
 * purpose, not taken from the model). */
#define ACR       0x00u
#define KEYR      0x04u
#define OPTKEYR   0x08u
#define CR        0x0Cu
#define SR        0x10u
#define CCR       0x14u
#define OPTCR     0x18u
#define OPTSR_CUR 0x1Cu
#define PRAR_CUR  0x28u
#define SCAR_CUR  0x30u
#define WPSN_CUR  0x38u
#define BOOT_CURR 0x40u
#define CRCCR     0x50u
#define ECC_FA    0x60u

#define KEY1 0x45670123u
#define KEY2 0xCDEF89ABu

#define CR_LOCK     0x1u
#define CR_PG       0x2u
#define CR_SER      0x4u
#define CR_BER      0x8u
#define CR_PSIZE(v) ((uint32_t)(v) << 4)
#define CR_FW       0x40u
#define CR_START    0x80u
#define CR_SNB(n)   ((uint32_t)(n) << 8)
#define CR_CRC_EN   0x8000u
#define CR_EOPIE    0x10000u

#define SR_BSY      0x1u
#define SR_WBNE     0x2u
#define SR_QW       0x4u
#define SR_EOP      (1u << 16)
#define SR_WRPERR   (1u << 17)
#define SR_PGSERR   (1u << 18)
#define SR_STRBERR  (1u << 19)
#define SR_INCERR   (1u << 21)
#define SR_OPERR    (1u << 22)
#define SR_DBECCERR (1u << 26)
#define SR_ALL      0x1FEF0000u

#define X8  0u
#define X16 1u
#define X32 2u
#define X64 3u

typedef struct {
    sim_clock_t clock;
    sim_flash_t *flash;
    flash_ctl_t *ctl;
    mcu_periph_t p;
} fx_t;

static int setup(void **state)
{
    fx_t *fx = calloc(1, sizeof *fx);
    if (!fx) {
        return -1;
    }
    sim_clock_init(&fx->clock);
    sim_clock_set_flash_lane(&fx->clock, true);
    fx->flash = sim_flash_new(&fx->clock);
    fx->ctl = fx->flash ? flash_ctl_new(fx->flash, &fx->clock) : NULL;
    if (!fx->ctl) {
        sim_flash_free(fx->flash);
        free(fx);
        return -1;
    }
    fx->p = flash_ctl_periph(fx->ctl);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fx_t *fx = *state;
    flash_ctl_free(fx->ctl);
    sim_flash_free(fx->flash);
    free(fx);
    return 0;
}

static uint32_t rd(fx_t *fx, uint32_t off)
{
    uint32_t v = 0xDEADBEEFu;
    const char *why = NULL;
    assert_true(fx->p.read(fx->p.ctx, off, 4, &v, &why));
    return v;
}

static void wr(fx_t *fx, uint32_t off, uint32_t v)
{
    const char *why = NULL;
    bool ok = fx->p.write(fx->p.ctx, off, 4, v, &why);
    if (!ok) {
        print_error("write 0x%x = 0x%x refused: %s\n", off, v, why);
    }
    assert_true(ok);
}

/* A write the model refuses; returns its why. */
static const char *wr_refused(fx_t *fx, uint32_t off, uint32_t v)
{
    const char *why = NULL;
    assert_false(fx->p.write(fx->p.ctx, off, 4, v, &why));
    assert_non_null(why);
    return why;
}

static void store(fx_t *fx, uint32_t addr, uint32_t v)
{
    const char *why = NULL;
    assert_true(flash_ctl_array_write(fx->ctl, addr, 4, v, &why));
}

static void unlock(fx_t *fx, unsigned bank)
{
    wr(fx, BANK(bank) + KEYR, KEY1);
    wr(fx, BANK(bank) + KEYR, KEY2);
    assert_int_equal(rd(fx, BANK(bank) + CR) & CR_LOCK, 0);
}

static void pattern(uint8_t *w, uint8_t seed)
{
    for (unsigned i = 0; i < WORD; i++) {
        w[i] = (uint8_t)(seed + i * 7u);
    }
}

/* Eight 32-bit stores of one flash word, as a CPU does with PG set. */
static void store_word(fx_t *fx, uint32_t addr, const uint8_t *w)
{
    for (unsigned i = 0; i < WORD / 4u; i++) {
        store(fx, addr + 4u * i, h7_get_le32(w + 4u * i));
    }
}

/* Poll SR until QW, BSY and WBNE are clear; returns the number of reads. */
static unsigned wait_idle(fx_t *fx, unsigned bank)
{
    unsigned n = 0;
    while (rd(fx, BANK(bank) + SR) & (SR_QW | SR_BSY | SR_WBNE)) {
        n++;
        assert_true(n < 100u);
    }
    return n;
}

static const uint8_t *raw(fx_t *fx, uint32_t addr)
{
    return sim_flash_raw(fx->flash) + (addr - BASE);
}

static bool erased(fx_t *fx, uint32_t addr, uint32_t len)
{
    const uint8_t *p = raw(fx, addr);
    for (uint32_t i = 0; i < len; i++) {
        if (p[i] != 0xFFu) {
            return false;
        }
    }
    return true;
}

/* Program a word through the registers with the given PSIZE; returns the
 * time the flash lane was charged. */
static uint64_t program_via_regs(fx_t *fx, uint32_t addr, uint8_t seed, unsigned psize)
{
    unsigned bank = addr >= BANK2;
    uint8_t w[WORD];
    pattern(w, seed);
    if (rd(fx, BANK(bank) + CR) & CR_LOCK) {
        unlock(fx, bank);
    }
    wr(fx, BANK(bank) + CR, CR_PSIZE(psize) | CR_PG);
    uint64_t before = sim_clock_now_ns(&fx->clock), until = 0;
    store_word(fx, addr, w);
    assert_true(flash_ctl_bank_busy(fx->ctl, bank, &until));
    uint64_t charged = until - before;
    wait_idle(fx, bank);
    assert_memory_equal(raw(fx, addr), w, WORD);
    return charged;
}

/* ---- tests ---- */

static void test_identity_and_reset_values(void **state)
{
    fx_t *fx = *state;
    assert_string_equal(fx->p.name, "FLASH");
    assert_int_equal(fx->p.base, 0x52002000u);
    assert_int_equal(fx->p.size, 0x1000u);

    assert_int_equal(rd(fx, ACR), 0x37u);
    assert_int_equal(rd(fx, BANK(1) + ACR), 0x37u);
    assert_int_equal(rd(fx, CR), 0x31u);
    assert_int_equal(rd(fx, BANK(1) + CR), 0x31u);
    assert_int_equal(rd(fx, SR), 0);
    assert_int_equal(rd(fx, BANK(1) + SR), 0);
    assert_int_equal(rd(fx, OPTCR), 0x1u);
    assert_int_equal(rd(fx, BANK(1) + OPTCR), 0x1u);
    assert_int_equal(rd(fx, OPTSR_CUR) >> 8 & 0xFFu, 0xAAu); /* RDP level 0 */
    assert_int_equal(rd(fx, WPSN_CUR), 0xFFu);
    assert_int_equal(rd(fx, BANK(1) + WPSN_CUR), 0xFFu);
    assert_int_equal(rd(fx, BOOT_CURR), 0x1FF00800u);
    assert_int_equal(rd(fx, PRAR_CUR), 0xFFu);
    assert_int_equal(rd(fx, SCAR_CUR), 0xFFu);
    assert_int_equal(rd(fx, ECC_FA), 0);
    assert_int_equal(rd(fx, CRCCR), 0x001C0000u);

    /* ACR is one register for both banks. */
    wr(fx, BANK(1) + ACR, 0x24u);
    assert_int_equal(rd(fx, ACR), 0x24u);
    fx->p.reset(fx->p.ctx, false);
    assert_int_equal(rd(fx, ACR), 0x37u);
}

static void test_unlock_sequence(void **state)
{
    fx_t *fx = *state;
    unlock(fx, 0);
    assert_int_equal(rd(fx, BANK(1) + CR) & CR_LOCK, CR_LOCK); /* banks apart */
    unlock(fx, 1);

    /* Setting LOCK leaves the other bits as they are (RM0433 4.9.4). */
    wr(fx, CR, CR_PSIZE(X64) | CR_PG);
    wr(fx, CR, CR_LOCK);
    assert_int_equal(rd(fx, CR), CR_LOCK | CR_PSIZE(X64) | CR_PG);
    /* ... and a new unlock sequence works. */
    unlock(fx, 0);
    assert_int_equal(rd(fx, CR), CR_PSIZE(X64) | CR_PG);
}

static void test_wrong_key_locks_until_reset(void **state)
{
    fx_t *fx = *state;
    wr(fx, KEYR, KEY1);
    const char *why = wr_refused(fx, KEYR, 0x12345678u);
    assert_non_null(strstr(why, "bus error"));
    /* The right sequence no longer unlocks, and CR writes are ignored. */
    wr_refused(fx, KEYR, KEY1);
    assert_int_equal(rd(fx, CR), 0x31u);
    wr(fx, CR, CR_PG);
    assert_int_equal(rd(fx, CR), 0x31u);
    /* Bank 2 is not affected. */
    unlock(fx, 1);

    fx->p.reset(fx->p.ctx, false);
    unlock(fx, 0);
}

static void test_other_wrong_sequences(void **state)
{
    fx_t *fx = *state;
    const char *why = NULL;

    /* KEY2 first. */
    wr_refused(fx, KEYR, KEY2);
    wr_refused(fx, KEYR, KEY1);
    fx->p.reset(fx->p.ctx, false);

    /* Another register of the bank written between KEY1 and KEY2. */
    wr(fx, KEYR, KEY1);
    wr_refused(fx, CCR, SR_EOP);
    wr_refused(fx, KEYR, KEY2);
    assert_int_equal(rd(fx, CR) & CR_LOCK, CR_LOCK);
    fx->p.reset(fx->p.ctx, false);

    /* A key written with less than 32 bits. */
    assert_false(fx->p.write(fx->p.ctx, KEYR, 2, KEY1 & 0xFFFFu, &why));
    wr_refused(fx, KEYR, KEY1);
    fx->p.reset(fx->p.ctx, false);

    /* Unlocking twice (a third key): locked until reset. */
    unlock(fx, 0);
    wr_refused(fx, KEYR, KEY1);
    assert_int_equal(rd(fx, CR) & CR_LOCK, CR_LOCK);
    wr_refused(fx, KEYR, KEY1);
    fx->p.reset(fx->p.ctx, true);
    unlock(fx, 0);
}

static void test_program_word_x64(void **state)
{
    fx_t *fx = *state;
    uint8_t w[WORD];
    pattern(w, 0x40);
    uint32_t addr = SEC(2) + 0x100u;

    unlock(fx, 0);
    wr(fx, CR, CR_PSIZE(X64) | CR_PG);
    uint64_t t0 = sim_clock_total_ns(&fx->clock);
    for (unsigned i = 0; i < 7u; i++) {
        store(fx, addr + 4u * i, h7_get_le32(w + 4u * i));
        assert_int_equal(rd(fx, SR), SR_WBNE); /* waiting for the rest */
    }
    assert_true(erased(fx, addr, WORD));
    store(fx, addr + 28u, h7_get_le32(w + 28u));

    /* Applied when it starts; busy for tprog x64 on the virtual clock. */
    assert_memory_equal(raw(fx, addr), w, WORD);
    assert_int_equal(sim_flash_word_state(fx->flash, addr), SIM_WORD_PROGRAMMED);
    uint64_t until = 0;
    assert_true(flash_ctl_bank_busy(fx->ctl, 0, &until));
    assert_int_equal(until - t0, 100u * SIM_NS_PER_US);
    assert_false(flash_ctl_bank_busy(fx->ctl, 1, NULL));

    uint32_t sr = rd(fx, SR);
    assert_int_equal(sr & (SR_QW | SR_BSY | SR_WBNE), SR_QW | SR_BSY);
    assert_int_equal(sr & SR_EOP, 0);
    unsigned polls = wait_idle(fx, 0);
    assert_true(polls < 20u);
    assert_int_equal(sim_clock_now_ns(&fx->clock), until);
    assert_false(flash_ctl_bank_busy(fx->ctl, 0, NULL));
    assert_int_equal(rd(fx, SR), SR_EOP);

    wr(fx, CCR, SR_EOP);
    assert_int_equal(rd(fx, SR), 0);
}

static void test_program_without_pg(void **state)
{
    fx_t *fx = *state;
    uint8_t w[WORD];
    pattern(w, 1);
    unlock(fx, 0);
    wr(fx, CR, CR_PSIZE(X64));
    store_word(fx, SEC(1), w);
    assert_int_equal(rd(fx, SR), SR_PGSERR); /* no WBNE, nothing queued */
    assert_true(erased(fx, SEC(1), WORD));
    assert_int_equal(sim_flash_op_count(fx->flash), 0);

    /* PGSERR blocks programming until cleared (RM0433 4.7.3). */
    wr(fx, CR, CR_PSIZE(X64) | CR_PG);
    store_word(fx, SEC(1), w);
    assert_true(erased(fx, SEC(1), WORD));
    wr(fx, CCR, SR_ALL);
    program_via_regs(fx, SEC(1), 1, X64);
}

static void test_program_locked_cr(void **state)
{
    fx_t *fx = *state;
    wr(fx, CR, CR_PSIZE(X64) | CR_PG); /* ignored: locked */
    assert_int_equal(rd(fx, CR), 0x31u);
    store(fx, SEC(1), 0);
    assert_int_equal(rd(fx, SR), SR_PGSERR);
    assert_true(erased(fx, SEC(1), WORD));
}

static void test_strobe_error(void **state)
{
    fx_t *fx = *state;
    uint8_t w[WORD];
    pattern(w, 9);
    unlock(fx, 0);
    wr(fx, CR, CR_PSIZE(X64) | CR_PG);
    store(fx, SEC(1), 0x11111111u);
    store(fx, SEC(1), h7_get_le32(w)); /* same bytes again */
    assert_int_equal(rd(fx, SR) & SR_STRBERR, SR_STRBERR);
    /* Not aborted: the new data replace the old (RM0433 4.7.4). */
    for (unsigned i = 1; i < WORD / 4u; i++) {
        store(fx, SEC(1) + 4u * i, h7_get_le32(w + 4u * i));
    }
    wait_idle(fx, 0);
    assert_memory_equal(raw(fx, SEC(1)), w, WORD);
    assert_int_equal(rd(fx, SR), SR_STRBERR | SR_EOP);
}

static void test_inconsistency_error(void **state)
{
    fx_t *fx = *state;
    unlock(fx, 0);
    wr(fx, CR, CR_PSIZE(X64) | CR_PG);
    store(fx, SEC(1), 0x12345678u);
    store(fx, SEC(1) + WORD, 0x12345678u);   /* another flash word */
    assert_int_equal(rd(fx, SR), SR_INCERR); /* buffer lost: WBNE clear */
    assert_true(erased(fx, SEC(1), 2u * WORD));

    /* INCERR not cleared: the next write is a sequence error (4.7.5). */
    store(fx, SEC(1), 0);
    assert_int_equal(rd(fx, SR), SR_INCERR | SR_PGSERR);
    wr(fx, CCR, SR_INCERR | SR_PGSERR);
    program_via_regs(fx, SEC(1), 3, X64);

    /* A partial word in bank 1, then a store into bank 2. */
    unlock(fx, 1);
    wr(fx, BANK(1) + CR, CR_PSIZE(X64) | CR_PG);
    store(fx, SEC(2), 0);
    store(fx, BANK2, 0);
    assert_int_equal(rd(fx, SR) & (SR_INCERR | SR_WBNE), SR_INCERR);
    assert_int_equal(rd(fx, BANK(1) + SR) & (SR_INCERR | SR_WBNE), SR_INCERR);
    assert_true(erased(fx, SEC(2), WORD));
    assert_true(erased(fx, BANK2, WORD));
}

static void test_psize_changes_time(void **state)
{
    fx_t *fx = *state;
    assert_int_equal(program_via_regs(fx, SEC(1), 1, X64), 100u * SIM_NS_PER_US);
    assert_int_equal(program_via_regs(fx, SEC(1) + WORD, 2, X8), 290u * SIM_NS_PER_US);
    assert_int_equal(program_via_regs(fx, SEC(1) + 2u * WORD, 3, X16), 180u * SIM_NS_PER_US);
    assert_int_equal(program_via_regs(fx, SEC(1) + 3u * WORD, 4, X32), 130u * SIM_NS_PER_US);

    /* The board's own times (here the datasheet max) are scaled the same. */
    sim_flash_set_times(fx->flash, sim_flash_ds12110_times(SIM_FLASH_X64, true));
    assert_int_equal(program_via_regs(fx, SEC(1) + 4u * WORD, 5, X8), 580u * SIM_NS_PER_US);
    assert_int_equal(program_via_regs(fx, SEC(1) + 5u * WORD, 6, X64), 200u * SIM_NS_PER_US);
    /* ... and left as the board set them. */
    assert_int_equal(sim_flash_get_times(fx->flash)->prog_word_ns, 200u * SIM_NS_PER_US);

    /* Erase uses the parallelism too (RM0433 4.3.9). */
    sim_flash_set_times(fx->flash, sim_flash_ds12110_times(SIM_FLASH_X64, false));
    uint64_t t0 = sim_clock_now_ns(&fx->clock), until = 0;
    wr(fx, CR, CR_PSIZE(X16) | CR_SER | CR_SNB(1) | CR_START);
    assert_true(flash_ctl_bank_busy(fx->ctl, 0, &until));
    assert_int_equal(until - t0, 1800u * SIM_NS_PER_MS);
    wait_idle(fx, 0);
}

/* A controller that hangs (flash_ctl_stick): the operation never ends, SR
 * polls are not fast-forwarded, a stalled core waits a second at a time; a
 * reset ends it. */
static void test_stuck_operation(void **state)
{
    fx_t *fx = *state;
    flash_ctl_stick(fx->ctl, 1);
    unlock(fx, 1);
    wr(fx, BANK(1) + CR, CR_PSIZE(X64) | CR_SER | CR_SNB(2) | CR_START);
    uint64_t t0 = sim_clock_now_ns(&fx->clock);
    for (int i = 0; i < 5000; i++) {
        assert_int_equal(rd(fx, BANK(1) + SR) & (SR_QW | SR_BSY), SR_QW | SR_BSY);
    }
    assert_int_equal(sim_clock_now_ns(&fx->clock), t0);
    uint64_t until = 0, now = sim_clock_now_ns(&fx->clock);
    assert_true(flash_ctl_bank_busy(fx->ctl, 1, &until));
    assert_int_equal(until - now, SIM_NS_PER_S);
    assert_false(flash_ctl_bank_busy(fx->ctl, 0, NULL)); /* the other bank works */
    mcu_periph_t p = flash_ctl_periph(fx->ctl);
    p.reset(p.ctx, false);
    assert_false(flash_ctl_bank_busy(fx->ctl, 1, NULL));
}

static void test_sector_erase_both_banks(void **state)
{
    fx_t *fx = *state;
    program_via_regs(fx, SEC(3), 1, X64);
    program_via_regs(fx, SEC(11) + 0x40u, 2, X64);
    program_via_regs(fx, SEC(12), 3, X64);
    wr(fx, CCR, SR_ALL);
    wr(fx, BANK(1) + CCR, SR_ALL);

    /* Bank 2, SNB 3 is sector 11 (0x08160000). */
    uint64_t t0 = sim_clock_total_ns(&fx->clock);
    wr(fx, BANK(1) + CR, CR_PSIZE(X64) | CR_SER | CR_SNB(3));
    wr(fx, BANK(1) + CR, CR_PSIZE(X64) | CR_SER | CR_SNB(3) | CR_START);
    assert_int_equal(rd(fx, BANK(1) + CR) & CR_START, 0); /* acknowledged */
    assert_true(erased(fx, SEC(11), SECTOR));
    assert_false(erased(fx, SEC(3), WORD));
    assert_false(erased(fx, SEC(12), WORD));
    uint64_t until = 0;
    assert_true(flash_ctl_bank_busy(fx->ctl, 1, &until));
    assert_int_equal(until - t0, 1000u * SIM_NS_PER_MS);
    assert_int_equal(rd(fx, BANK(1) + SR) & (SR_QW | SR_BSY), SR_QW | SR_BSY);
    assert_int_equal(rd(fx, SR) & (SR_QW | SR_BSY), 0);
    wait_idle(fx, 1);
    assert_int_equal(rd(fx, BANK(1) + SR), SR_EOP);

    /* Bank 1, SNB 3 is sector 3. */
    wr(fx, CR, CR_PSIZE(X64) | CR_SER | CR_SNB(3) | CR_START);
    wait_idle(fx, 0);
    assert_true(erased(fx, SEC(3), SECTOR));
    assert_false(erased(fx, SEC(12), WORD));
    assert_int_equal(rd(fx, SR), SR_EOP);
}

/* RM0433 4.9: each bank has its own controller (FLASH_CR1/SR1, FLASH_CR2/SR2).
 * A sector erase on bank 2
 * and word programs on bank 1 run at the same time: bank 1's work ends
 * long before bank 2's erase, and neither waits for the other. */
static void test_banks_work_at_once(void **state)
{
    fx_t *fx = *state;
    uint64_t t0 = sim_clock_now_ns(&fx->clock), until2 = 0, until1 = 0;
    unlock(fx, 1);
    wr(fx, BANK(1) + CR, CR_PSIZE(X64) | CR_SER | CR_SNB(1));
    wr(fx, BANK(1) + CR, CR_PSIZE(X64) | CR_SER | CR_SNB(1) | CR_START);
    assert_true(flash_ctl_bank_busy(fx->ctl, 1, &until2));
    assert_int_equal(until2 - t0, 1000u * SIM_NS_PER_MS);
    unlock(fx, 0);
    wr(fx, CR, CR_PSIZE(X64) | CR_PG);
    uint8_t w[WORD];
    pattern(w, 7);
    store_word(fx, SEC(1), w);
    assert_true(flash_ctl_bank_busy(fx->ctl, 0, &until1));
    assert_int_equal(until1 - t0, 100u * SIM_NS_PER_US);
    /* bank 2's erase is not moved by bank 1's program */
    assert_true(flash_ctl_bank_busy(fx->ctl, 1, &until2));
    assert_int_equal(until2 - t0, 1000u * SIM_NS_PER_MS);
}

static void test_bank_erase(void **state)
{
    fx_t *fx = *state;
    program_via_regs(fx, SEC(0), 1, X64);
    program_via_regs(fx, SEC(9), 2, X64);
    program_via_regs(fx, SEC(15) + 0x1FFE0u, 3, X64);

    uint64_t t0 = sim_clock_now_ns(&fx->clock), until = 0;
    wr(fx, BANK(1) + CR, CR_PSIZE(X64) | CR_BER | CR_SER | CR_START); /* BER wins */
    assert_true(erased(fx, BANK2, 8u * SECTOR));
    assert_false(erased(fx, SEC(0), WORD));
    assert_true(flash_ctl_bank_busy(fx->ctl, 1, &until));
    assert_int_equal(until - t0, 5000u * SIM_NS_PER_MS);
    wait_idle(fx, 1);
    assert_int_equal(rd(fx, BANK(1) + SR) & SR_EOP, SR_EOP);
}

static void test_write_protection(void **state)
{
    fx_t *fx = *state;
    sim_flash_set_write_protect(fx->flash, 9, true);
    assert_int_equal(rd(fx, BANK(1) + WPSN_CUR), 0xFDu); /* bit 1 clear */
    assert_int_equal(rd(fx, WPSN_CUR), 0xFFu);

    unlock(fx, 1);
    wr(fx, BANK(1) + CR, CR_PSIZE(X64) | CR_SER | CR_SNB(1) | CR_START);
    assert_int_equal(rd(fx, BANK(1) + SR), SR_WRPERR); /* rejected: no QW, no EOP */
    assert_false(flash_ctl_bank_busy(fx->ctl, 1, NULL));

    wr(fx, BANK(1) + CCR, SR_WRPERR);
    wr(fx, BANK(1) + CR, CR_PSIZE(X64) | CR_BER | CR_START);
    assert_int_equal(rd(fx, BANK(1) + SR), SR_WRPERR);

    uint8_t w[WORD];
    pattern(w, 7);
    wr(fx, BANK(1) + CCR, SR_WRPERR);
    wr(fx, BANK(1) + CR, CR_PSIZE(X64) | CR_PG);
    store_word(fx, SEC(9), w);
    assert_int_equal(rd(fx, BANK(1) + SR), SR_WRPERR);
    assert_true(erased(fx, SEC(9), WORD));
    assert_int_equal(sim_flash_op_count(fx->flash), 0);

    /* WRPERR does not block the next operation (4.7.2). */
    store_word(fx, SEC(10), w);
    wait_idle(fx, 1);
    assert_memory_equal(raw(fx, SEC(10)), w, WORD);
}

static void test_double_ecc_error(void **state)
{
    fx_t *fx = *state;
    uint8_t w[WORD];
    pattern(w, 5);
    /* Two words overwritten: ECC-corrupt (RM0433 4.3.9). */
    sim_flash_set_overwrite_policy(fx->flash, SIM_FLASH_OVERWRITE_CORRUPT);
    uint32_t bad1 = SEC(1) + 5u * WORD, bad2 = SEC(1) + 9u * WORD, bad3 = SEC(10) + 3u * WORD;
    uint32_t bads[] = {bad1, bad2, bad3};
    for (unsigned i = 0; i < 3u; i++) {
        assert_int_equal(sim_flash_program_word(fx->flash, bads[i], w), FLASH_OK);
        assert_int_equal(sim_flash_program_word(fx->flash, bads[i], w), FLASH_OK);
    }

    assert_int_equal(flash_ctl_array_read(fx->ctl, SEC(1), 4), FLASH_CTL_READ_OK);
    assert_int_equal(rd(fx, SR), 0);
    assert_int_equal(flash_ctl_array_read(fx->ctl, bad1 + 8u, 4), FLASH_CTL_READ_BUS_ERROR);
    assert_int_equal(rd(fx, SR), SR_DBECCERR);
    /* FAIL_ECC_ADDR: flash word index in the bank. */
    assert_int_equal(rd(fx, ECC_FA), (bad1 - BASE) / WORD);
    /* Only the first address is kept. */
    assert_int_equal(flash_ctl_array_read(fx->ctl, bad2, 2), FLASH_CTL_READ_BUS_ERROR);
    assert_int_equal(rd(fx, ECC_FA), (bad1 - BASE) / WORD);

    /* CCR clears the flag and the fail address. */
    wr(fx, CCR, SR_DBECCERR);
    assert_int_equal(rd(fx, SR), 0);
    assert_int_equal(rd(fx, ECC_FA), 0);

    /* Bank 2: its own flag and address, relative to the bank. */
    assert_int_equal(flash_ctl_array_read(fx->ctl, bad3 + 28u, 4), FLASH_CTL_READ_BUS_ERROR);
    assert_int_equal(rd(fx, BANK(1) + SR), SR_DBECCERR);
    assert_int_equal(rd(fx, BANK(1) + ECC_FA), (bad3 - BANK2) / WORD);
    assert_int_equal(rd(fx, SR), 0);

    /* A read spanning into a corrupt word fails too; outside the array too. */
    assert_int_equal(flash_ctl_array_read(fx->ctl, bad2 - 4u, 8), FLASH_CTL_READ_BUS_ERROR);
    assert_int_equal(flash_ctl_array_read(fx->ctl, BASE + 0x200000u, 4), FLASH_CTL_READ_BUS_ERROR);
}

static void test_busy_query_and_polling(void **state)
{
    fx_t *fx = *state;
    uint64_t until = 1;
    assert_false(flash_ctl_bank_busy(fx->ctl, 0, &until));
    assert_int_equal(until, sim_clock_now_ns(&fx->clock));
    assert_false(flash_ctl_bank_busy(fx->ctl, 2, NULL));

    unlock(fx, 0);
    uint64_t t0 = sim_clock_now_ns(&fx->clock);
    wr(fx, CR, CR_PSIZE(X64) | CR_SER | CR_SNB(4) | CR_START);
    assert_true(flash_ctl_bank_busy(fx->ctl, 0, &until));
    assert_int_equal(until, t0 + 1000u * SIM_NS_PER_MS);

    /* A status read right after another access is the core's own time; a
     * status read right after a read of the same status register (a loop
     * that polls it alone) moves the clock by half the remaining time. */
    rd(fx, SR);
    assert_int_equal(sim_clock_now_ns(&fx->clock), t0);
    rd(fx, SR);
    assert_int_equal(sim_clock_now_ns(&fx->clock), t0 + 500u * SIM_NS_PER_MS);
    rd(fx, SR);
    assert_int_equal(sim_clock_now_ns(&fx->clock), t0 + 750u * SIM_NS_PER_MS);
    /* Other registers do not, and break the loop: so do the other bank's
     * status (a main loop that steps both banks) and the flash array. */
    rd(fx, CR);
    rd(fx, SR);
    assert_int_equal(sim_clock_now_ns(&fx->clock), t0 + 750u * SIM_NS_PER_MS);
    rd(fx, BANK(1) + SR);
    rd(fx, SR);
    assert_int_equal(sim_clock_now_ns(&fx->clock), t0 + 750u * SIM_NS_PER_MS);
    (void)flash_ctl_array_read(fx->ctl, SEC(9), 4);
    rd(fx, SR);
    assert_int_equal(sim_clock_now_ns(&fx->clock), t0 + 750u * SIM_NS_PER_MS);

    /* The CPU stalling on the bank waits until the end. */
    sim_clock_wait_until(&fx->clock, until);
    assert_false(flash_ctl_bank_busy(fx->ctl, 0, NULL));
    assert_int_equal(rd(fx, SR), SR_EOP);

    /* A whole polling loop of an erase stays short. */
    wr(fx, CR, CR_PSIZE(X64) | CR_SER | CR_SNB(5) | CR_START);
    assert_true(wait_idle(fx, 0) < 40u);
}

static void test_power_cut_during_program(void **state)
{
    fx_t *fx = *state;
    uint8_t w[WORD];
    pattern(w, 0x55);
    sim_flash_cut_at(fx->flash, 1, SIM_FLASH_PHASE_DURING);
    unlock(fx, 0);
    wr(fx, CR, CR_PSIZE(X64) | CR_PG);
    store_word(fx, SEC(1), w);

    assert_false(sim_flash_powered(fx->flash));
    assert_int_equal(sim_flash_word_state(fx->flash, SEC(1)), SIM_WORD_ECC_CORRUPT);
    assert_int_equal(sim_flash_op_count(fx->flash), 1);
    assert_int_equal(rd(fx, SR) & (SR_EOP | SR_QW | SR_BSY | SR_OPERR), 0);
    assert_false(flash_ctl_bank_busy(fx->ctl, 0, NULL));

    /* Nothing more reaches the array. */
    store_word(fx, SEC(1) + WORD, w);
    wr(fx, CR, CR_PSIZE(X64) | CR_SER | CR_SNB(1) | CR_START);
    assert_int_equal(sim_flash_op_count(fx->flash), 1);
    assert_true(erased(fx, SEC(1) + WORD, WORD));
    assert_int_equal(sim_flash_word_state(fx->flash, SEC(1)), SIM_WORD_ECC_CORRUPT);

    /* Power back, reset: the controller works again. */
    sim_flash_power_on(fx->flash);
    fx->p.reset(fx->p.ctx, true);
    assert_int_equal(rd(fx, CR), 0x31u);
    program_via_regs(fx, SEC(2), 6, X64);
}

static void test_power_cut_during_erase(void **state)
{
    fx_t *fx = *state;
    program_via_regs(fx, SEC(4), 1, X64);
    uint64_t ops = sim_flash_op_count(fx->flash);
    sim_flash_cut_at(fx->flash, ops + 1u, SIM_FLASH_PHASE_AFTER);
    wr(fx, CR, CR_PSIZE(X64) | CR_SER | CR_SNB(4) | CR_START);
    assert_false(sim_flash_powered(fx->flash));
    assert_true(erased(fx, SEC(4), SECTOR)); /* completed, never reported */
    assert_int_equal(rd(fx, SR) & (SR_QW | SR_BSY), 0);
}

static void test_force_write(void **state)
{
    fx_t *fx = *state;
    unlock(fx, 0);
    wr(fx, CR, CR_PSIZE(X64) | CR_PG);
    store(fx, SEC(1) + 8u, 0x04030201u);
    assert_int_equal(rd(fx, SR), SR_WBNE);
    wr(fx, CR, CR_PSIZE(X64) | CR_PG | CR_FW);
    assert_int_equal(rd(fx, CR) & CR_FW, 0); /* reset once acknowledged */
    wait_idle(fx, 0);
    assert_int_equal(rd(fx, SR), SR_EOP);
    const uint8_t *p = raw(fx, SEC(1));
    assert_true(erased(fx, SEC(1), 8u));
    assert_int_equal(p[8], 1);
    assert_int_equal(p[11], 4);
    assert_true(erased(fx, SEC(1) + 12u, WORD - 12u));
    assert_int_equal(sim_flash_word_state(fx->flash, SEC(1)), SIM_WORD_PROGRAMMED);

    /* FW with an empty buffer does nothing. */
    uint64_t ops = sim_flash_op_count(fx->flash);
    wr(fx, CR, CR_PSIZE(X64) | CR_PG | CR_FW);
    assert_int_equal(sim_flash_op_count(fx->flash), ops);
}

static void test_pg_clear_drops_buffer(void **state)
{
    fx_t *fx = *state;
    unlock(fx, 0);
    wr(fx, CR, CR_PSIZE(X64) | CR_PG);
    store(fx, SEC(1), 0);
    assert_int_equal(rd(fx, SR), SR_WBNE);
    wr(fx, CR, CR_PSIZE(X64));
    assert_int_equal(rd(fx, SR), 0);
    assert_true(erased(fx, SEC(1), WORD));
    assert_int_equal(sim_flash_op_count(fx->flash), 0);
}

static void test_narrow_accesses(void **state)
{
    fx_t *fx = *state;
    const char *why = NULL;
    uint32_t v = 0;
    /* 8/16-bit register reads (AHB configuration port, 4.3.3). */
    assert_true(fx->p.read(fx->p.ctx, OPTSR_CUR + 1u, 1, &v, &why));
    assert_int_equal(v, 0xAAu);
    assert_true(fx->p.read(fx->p.ctx, BOOT_CURR + 2u, 2, &v, &why));
    assert_int_equal(v, 0x1FF0u);

    /* Byte and halfword stores fill the buffer as well. */
    uint8_t w[WORD];
    pattern(w, 0x21);
    unlock(fx, 0);
    wr(fx, CR, CR_PSIZE(X64) | CR_PG);
    for (unsigned i = 0; i < 16u; i++) {
        assert_true(flash_ctl_array_write(fx->ctl, SEC(1) + i, 1, w[i], &why));
    }
    for (unsigned i = 16; i < WORD; i += 2u) {
        assert_true(flash_ctl_array_write(fx->ctl, SEC(1) + i, 2,
                                          (uint32_t)w[i] | (uint32_t)w[i + 1u] << 8, &why));
    }
    wait_idle(fx, 0);
    assert_memory_equal(raw(fx, SEC(1)), w, WORD);

    /* A byte write of CR's interrupt enables. */
    assert_true(fx->p.write(fx->p.ctx, CR + 2u, 1, 0x01u, &why));
    assert_int_equal(rd(fx, CR), CR_EOPIE | CR_PSIZE(X64) | CR_PG);

    /* Accesses the model does not take. */
    assert_false(flash_ctl_array_write(fx->ctl, SEC(1) + 2u, 4, 0, &why));
    assert_false(flash_ctl_array_write(fx->ctl, SEC(1), 8, 0, &why));
    assert_false(flash_ctl_array_write(fx->ctl, BASE - 4u, 4, 0, &why));
    assert_false(fx->p.read(fx->p.ctx, SR + 1u, 2, &v, &why));
}

static void test_irq_pending(void **state)
{
    fx_t *fx = *state;
    unlock(fx, 0);
    wr(fx, CR, CR_PSIZE(X64) | CR_EOPIE | CR_SER | CR_SNB(2) | CR_START);
    assert_false(flash_ctl_irq_pending(fx->ctl));
    wait_idle(fx, 0);
    assert_true(flash_ctl_irq_pending(fx->ctl));
    wr(fx, CCR, SR_EOP);
    assert_false(flash_ctl_irq_pending(fx->ctl));
}

static void test_unmodelled_and_read_only(void **state)
{
    fx_t *fx = *state;
    const char *why = NULL;
    uint32_t v = 0x1234u;

    assert_false(fx->p.read(fx->p.ctx, 0x48u, 4, &v, &why));
    assert_non_null(why);
    assert_int_equal(v, 0x1234u);
    assert_false(fx->p.read(fx->p.ctx, 0x64u, 4, &v, &why));
    assert_false(fx->p.read(fx->p.ctx, 0x1FCu, 4, &v, &why));
    assert_false(fx->p.read(fx->p.ctx, 0x200u, 4, &v, &why));
    wr_refused(fx, 0xF0u, 0);

    wr_refused(fx, SR, 0);
    wr_refused(fx, WPSN_CUR, 0);
    wr_refused(fx, ECC_FA, 0);
    wr_refused(fx, ACR, 0x100u); /* reserved bit */
    wr_refused(fx, CCR, 0x1u);   /* reserved bit */

    unlock(fx, 0);
    assert_non_null(strstr(wr_refused(fx, CR, CR_CRC_EN), "CRC unit not modelled"));
    wr_refused(fx, CRCCR, 0x10000u);
    wr_refused(fx, CR, CR_PSIZE(X64) | CR_START); /* neither SER nor BER */

    /* PSIZE must not change while the bank works (4.3.9 caution). */
    wr(fx, CR, CR_PSIZE(X64) | CR_SER | CR_SNB(6) | CR_START);
    wr_refused(fx, CR, CR_PSIZE(X8));
    wr_refused(fx, ACR, 0x07u); /* WRHIGHFREQ 3 -> 0 while busy */
    wait_idle(fx, 0);
    wr(fx, CR, CR_PSIZE(X8));

    /* Option bytes: OPTLOCK opens with its keys; changing them is not
     * modelled. */
    wr(fx, OPTCR, 0); /* locked: ignored */
    assert_int_equal(rd(fx, OPTCR), 1u);
    wr(fx, OPTKEYR, 0x08192A3Bu);
    wr(fx, OPTKEYR, 0x4C5D6E7Fu);
    assert_int_equal(rd(fx, OPTCR), 0);
    wr_refused(fx, OPTCR, 0x2u);  /* OPTSTART */
    wr_refused(fx, OPTCR, 0x10u); /* MER */
    wr_refused(fx, 0x20u, 0);     /* OPTSR_PRG */
    wr(fx, OPTCR, 1u);
    assert_int_equal(rd(fx, OPTCR), 1u);
    wr_refused(fx, OPTKEYR, 0x4C5D6E7Fu); /* OPTKEY2 first: wrong sequence */
    wr_refused(fx, OPTKEYR, 0x08192A3Bu); /* locked until reset */
    fx->p.reset(fx->p.ctx, false);
    wr(fx, OPTKEYR, 0x08192A3Bu);
    wr(fx, OPTKEYR, 0x4C5D6E7Fu);
    assert_int_equal(rd(fx, OPTCR), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_identity_and_reset_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unlock_sequence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_key_locks_until_reset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_wrong_sequences, setup, teardown),
        cmocka_unit_test_setup_teardown(test_program_word_x64, setup, teardown),
        cmocka_unit_test_setup_teardown(test_program_without_pg, setup, teardown),
        cmocka_unit_test_setup_teardown(test_program_locked_cr, setup, teardown),
        cmocka_unit_test_setup_teardown(test_strobe_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inconsistency_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_psize_changes_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sector_erase_both_banks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stuck_operation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_banks_work_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bank_erase, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_protection, setup, teardown),
        cmocka_unit_test_setup_teardown(test_double_ecc_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_busy_query_and_polling, setup, teardown),
        cmocka_unit_test_setup_teardown(test_power_cut_during_program, setup, teardown),
        cmocka_unit_test_setup_teardown(test_power_cut_during_erase, setup, teardown),
        cmocka_unit_test_setup_teardown(test_force_write, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pg_clear_drops_buffer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_narrow_accesses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_irq_pending, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unmodelled_and_read_only, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
