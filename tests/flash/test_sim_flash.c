/* sim/flash: the virtual STM32H743 flash keeps the hardware's rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "h7_target.h"
#include "sim_flash.h"

#define BASE     0x08000000u
#define SECTOR   0x20000u
#define WORD     32u
#define SEC(n)   (BASE + (uint32_t)(n)*SECTOR)
#define FLASH_SZ (2u * 1024u * 1024u)

typedef struct {
    sim_flash_t *f;
    sim_clock_t clock;
} fx_t;

static int setup(void **state)
{
    fx_t *fx = calloc(1, sizeof *fx);
    if (!fx) {
        return -1;
    }
    sim_clock_init(&fx->clock);
    fx->f = sim_flash_new(&fx->clock);
    if (!fx->f) {
        free(fx);
        return -1;
    }
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fx_t *fx = *state;
    sim_flash_free(fx->f);
    free(fx);
    return 0;
}

static void pattern(uint8_t *w, uint8_t seed)
{
    for (unsigned i = 0; i < WORD; i++) {
        w[i] = (uint8_t)(seed + i * 7u);
    }
}

static void program(sim_flash_t *f, uint32_t addr, uint8_t seed)
{
    uint8_t w[WORD];
    pattern(w, seed);
    assert_int_equal(sim_flash_program_word(f, addr, w), FLASH_OK);
}

static void assert_word(sim_flash_t *f, uint32_t addr, uint8_t seed)
{
    uint8_t want[WORD], got[WORD];
    pattern(want, seed);
    assert_int_equal(sim_flash_read(f, addr, got, WORD), FLASH_OK);
    assert_memory_equal(got, want, WORD);
}

static void assert_erased(sim_flash_t *f, uint32_t addr, uint32_t len)
{
    uint8_t *buf = malloc(len);
    assert_non_null(buf);
    assert_int_equal(sim_flash_read(f, addr, buf, len), FLASH_OK);
    for (uint32_t i = 0; i < len; i++) {
        if (buf[i] != 0xFF) {
            fail_msg("byte 0x%08x is 0x%02x, not erased", (unsigned)(addr + i), buf[i]);
        }
    }
    free(buf);
}

/* ---- basic rules ---- */

static void test_erased_reads(void **state)
{
    fx_t *fx = *state;
    assert_erased(fx->f, BASE, FLASH_SZ);
    assert_int_equal(sim_flash_word_state(fx->f, BASE), SIM_WORD_ERASED);
    assert_int_equal(sim_flash_word_state(fx->f, BASE + FLASH_SZ - 1), SIM_WORD_ERASED);
    uint8_t b;
    assert_int_equal(sim_flash_read(fx->f, BASE + FLASH_SZ, &b, 1), FLASH_ERR_ADDRESS);
    assert_int_equal(sim_flash_read(fx->f, BASE + FLASH_SZ - 1, &b, 2), FLASH_ERR_ADDRESS);
    assert_int_equal(sim_flash_read(fx->f, BASE - 1, &b, 1), FLASH_ERR_ADDRESS);
    sim_flash_stats_t st;
    sim_flash_get_stats(fx->f, &st);
    assert_int_equal(st.bytes_read, FLASH_SZ);
    assert_int_equal(st.refused, 3);
    assert_int_equal(st.ops, 0);
    assert_true(sim_flash_map(fx->f) == flash_map_stm32h743());
}

static void test_program_aligned(void **state)
{
    fx_t *fx = *state;
    program(fx->f, SEC(1) + 64, 0x11);
    assert_word(fx->f, SEC(1) + 64, 0x11);
    assert_int_equal(sim_flash_word_state(fx->f, SEC(1) + 64), SIM_WORD_PROGRAMMED);
    assert_int_equal(sim_flash_word_state(fx->f, SEC(1) + 95), SIM_WORD_PROGRAMMED);
    assert_int_equal(sim_flash_word_state(fx->f, SEC(1) + 96), SIM_WORD_ERASED);
    assert_erased(fx->f, SEC(1), 64);
    assert_erased(fx->f, SEC(1) + 96, 64);
    /* Last word of the flash, and a word with all bits 1 still counts as programmed. */
    uint8_t ff[WORD];
    memset(ff, 0xFF, sizeof ff);
    assert_int_equal(sim_flash_program_word(fx->f, BASE + FLASH_SZ - WORD, ff), FLASH_OK);
    assert_int_equal(sim_flash_word_state(fx->f, BASE + FLASH_SZ - WORD), SIM_WORD_PROGRAMMED);
    sim_flash_stats_t st;
    sim_flash_get_stats(fx->f, &st);
    assert_int_equal(st.words_programmed, 2);
    assert_int_equal(st.ops, 2);
}

static void test_program_unaligned_or_outside(void **state)
{
    fx_t *fx = *state;
    uint8_t w[WORD];
    pattern(w, 1);
    const uint32_t bad[] = {SEC(1) + 1,      SEC(1) + 16, SEC(1) + 31,
                            BASE + FLASH_SZ, BASE - WORD, 0xFFFFFFE0u};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(sim_flash_program_word(fx->f, bad[i], w), FLASH_ERR_ADDRESS);
    }
    assert_erased(fx->f, SEC(1), 64);
    sim_flash_stats_t st;
    sim_flash_get_stats(fx->f, &st);
    assert_int_equal(st.refused, 6);
    assert_int_equal(st.words_programmed, 0);
    assert_int_equal(sim_flash_op_count(fx->f), 0);
    assert_int_equal(sim_flash_erase_sector(fx->f, 16), FLASH_ERR_ADDRESS);
    assert_int_equal(sim_flash_erase_bank(fx->f, 2), FLASH_ERR_ADDRESS);
}

static void test_double_program_refused(void **state)
{
    fx_t *fx = *state;
    program(fx->f, SEC(2), 0x22);
    uint8_t w[WORD];
    memset(w, 0x00, sizeof w); /* even only clearing bits is refused */
    assert_int_equal(sim_flash_program_word(fx->f, SEC(2), w), FLASH_ERR_PROGRAM);
    assert_word(fx->f, SEC(2), 0x22);
    assert_int_equal(sim_flash_word_state(fx->f, SEC(2)), SIM_WORD_PROGRAMMED);
    sim_flash_stats_t st;
    sim_flash_get_stats(fx->f, &st);
    assert_int_equal(st.words_programmed, 1);
    assert_int_equal(st.refused, 1);
}

static void test_double_program_corrupt_policy(void **state)
{
    fx_t *fx = *state;
    sim_flash_set_overwrite_policy(fx->f, SIM_FLASH_OVERWRITE_CORRUPT);
    program(fx->f, SEC(2) + WORD, 0x22);
    uint8_t w[WORD], got[2 * WORD];
    pattern(w, 0x5A);
    /* The silicon raises no flag (RM0433 4.3.9) ... */
    assert_int_equal(sim_flash_program_word(fx->f, SEC(2) + WORD, w), FLASH_OK);
    assert_int_equal(sim_flash_word_state(fx->f, SEC(2) + WORD), SIM_WORD_ECC_CORRUPT);
    /* ... but every read touching the word reports DBECCERR. */
    assert_int_equal(sim_flash_read(fx->f, SEC(2) + WORD + 5, got, 1), FLASH_ERR_ECC);
    assert_int_equal(sim_flash_read(fx->f, SEC(2), got, 2 * WORD), FLASH_ERR_ECC);
    assert_int_equal(sim_flash_read(fx->f, SEC(2), got, WORD), FLASH_OK);
    assert_int_equal(sim_flash_read(fx->f, SEC(2) + 2 * WORD, got, WORD), FLASH_OK);
    sim_flash_stats_t st;
    sim_flash_get_stats(fx->f, &st);
    assert_int_equal(st.ecc_errors, 2);
}

static void test_force_write_partial_then_twice(void **state)
{
    fx_t *fx = *state;
    const uint8_t part[5] = {1, 2, 3, 4, 5};
    uint32_t a = SEC(3) + 3 * WORD + 10;
    assert_int_equal(sim_flash_force_write(fx->f, a, part, sizeof part), FLASH_OK);
    assert_int_equal(sim_flash_word_state(fx->f, a), SIM_WORD_PROGRAMMED);
    uint8_t got[WORD];
    assert_int_equal(sim_flash_read(fx->f, SEC(3) + 3 * WORD, got, WORD), FLASH_OK);
    for (unsigned i = 0; i < WORD; i++) {
        uint8_t want = (i >= 10 && i < 15) ? part[i - 10] : 0xFF;
        assert_int_equal(got[i], want);
    }
    /* The word is committed: a normal program is refused ... */
    uint8_t w[WORD];
    pattern(w, 3);
    assert_int_equal(sim_flash_program_word(fx->f, SEC(3) + 3 * WORD, w), FLASH_ERR_PROGRAM);
    /* ... and a second force write into the same word breaks its ECC. */
    const uint8_t more[2] = {0xA0, 0xA1};
    assert_int_equal(sim_flash_force_write(fx->f, a + 8, more, sizeof more), FLASH_OK);
    assert_int_equal(sim_flash_word_state(fx->f, a), SIM_WORD_ECC_CORRUPT);
    assert_int_equal(sim_flash_read(fx->f, a, got, 1), FLASH_ERR_ECC);
    /* Shape errors. */
    assert_int_equal(sim_flash_force_write(fx->f, SEC(3) + 30, part, 3), FLASH_ERR_ADDRESS);
    assert_int_equal(sim_flash_force_write(fx->f, SEC(3), part, 0), FLASH_ERR_ADDRESS);
    assert_int_equal(sim_flash_force_write(fx->f, BASE + FLASH_SZ, part, 1), FLASH_ERR_ADDRESS);
    uint8_t big[WORD + 1] = {0};
    assert_int_equal(sim_flash_force_write(fx->f, SEC(3), big, sizeof big), FLASH_ERR_ADDRESS);
    /* A full word through force write on an erased word is a normal program. */
    pattern(w, 9);
    assert_int_equal(sim_flash_force_write(fx->f, SEC(3), w, WORD), FLASH_OK);
    assert_word(fx->f, SEC(3), 9);
    sim_flash_stats_t st;
    sim_flash_get_stats(fx->f, &st);
    assert_int_equal(st.force_writes, 3);
}

static void test_erase_restores(void **state)
{
    fx_t *fx = *state;
    sim_flash_set_overwrite_policy(fx->f, SIM_FLASH_OVERWRITE_CORRUPT);
    program(fx->f, SEC(3), 0x31);
    program(fx->f, SEC(3) + SECTOR - WORD, 0x32);
    program(fx->f, SEC(3) + SECTOR - WORD, 0x33); /* ECC-corrupt now */
    program(fx->f, SEC(4), 0x41);
    program(fx->f, SEC(2) + SECTOR - WORD, 0x21);
    assert_int_equal(sim_flash_erase_sector(fx->f, 3), FLASH_OK);
    assert_erased(fx->f, SEC(3), SECTOR);
    assert_int_equal(sim_flash_word_state(fx->f, SEC(3) + SECTOR - WORD), SIM_WORD_ERASED);
    assert_word(fx->f, SEC(4), 0x41);
    assert_word(fx->f, SEC(2) + SECTOR - WORD, 0x21);
    sim_flash_set_overwrite_policy(fx->f, SIM_FLASH_OVERWRITE_REFUSE);
    program(fx->f, SEC(3), 0x34); /* programmable again */
    assert_word(fx->f, SEC(3), 0x34);
    sim_flash_stats_t st;
    sim_flash_get_stats(fx->f, &st);
    assert_int_equal(st.sector_erases, 1);
}

static void test_bank_erase(void **state)
{
    fx_t *fx = *state;
    program(fx->f, SEC(0), 0x01);
    program(fx->f, SEC(7) + SECTOR - WORD, 0x07);
    program(fx->f, SEC(8), 0x08);
    program(fx->f, SEC(15) + SECTOR - WORD, 0x0F);
    assert_int_equal(sim_flash_erase_bank(fx->f, 0), FLASH_OK);
    assert_erased(fx->f, SEC(0), 8 * SECTOR);
    assert_word(fx->f, SEC(8), 0x08);
    assert_word(fx->f, SEC(15) + SECTOR - WORD, 0x0F);
    assert_int_equal(sim_flash_erase_bank(fx->f, 1), FLASH_OK);
    assert_erased(fx->f, BASE, FLASH_SZ);
    sim_flash_stats_t st;
    sim_flash_get_stats(fx->f, &st);
    assert_int_equal(st.bank_erases, 2);
}

static void test_write_protection(void **state)
{
    fx_t *fx = *state;
    flash_dev_t dev = sim_flash_dev(fx->f);
    program(fx->f, SEC(2) + WORD, 0x22);
    program(fx->f, SEC(5), 0x55);
    sim_flash_set_write_protect(fx->f, 2, true);
    assert_true(dev.ops->is_write_protected(dev.ctx, 2));
    assert_false(dev.ops->is_write_protected(dev.ctx, 3));
    uint8_t w[WORD];
    pattern(w, 7);
    assert_int_equal(sim_flash_erase_sector(fx->f, 2), FLASH_ERR_PROTECTED);
    assert_int_equal(sim_flash_program_word(fx->f, SEC(2), w), FLASH_ERR_PROTECTED);
    assert_int_equal(sim_flash_force_write(fx->f, SEC(2), w, 4), FLASH_ERR_PROTECTED);
    /* A bank erase covering a protected sector is not performed at all. */
    assert_int_equal(sim_flash_erase_bank(fx->f, 0), FLASH_ERR_PROTECTED);
    assert_word(fx->f, SEC(2) + WORD, 0x22);
    assert_word(fx->f, SEC(5), 0x55);
    assert_erased(fx->f, SEC(2), WORD);
    /* Other sectors and the other bank still work; reads of protected ones too. */
    assert_int_equal(sim_flash_erase_sector(fx->f, 5), FLASH_OK);
    assert_int_equal(sim_flash_erase_bank(fx->f, 1), FLASH_OK);
    program(fx->f, SEC(3), 0x33);
    assert_int_equal(sim_flash_op_count(fx->f), 5);
    /* Protection removed: allowed again. */
    sim_flash_set_write_protect(fx->f, 2, false);
    assert_false(sim_flash_is_write_protected(fx->f, 2));
    assert_int_equal(sim_flash_erase_sector(fx->f, 2), FLASH_OK);
    assert_erased(fx->f, SEC(2), SECTOR);
    sim_flash_stats_t st;
    sim_flash_get_stats(fx->f, &st);
    assert_int_equal(st.refused, 4);
}

static void test_ops_adapter(void **state)
{
    fx_t *fx = *state;
    flash_dev_t dev = sim_flash_dev(fx->f);
    assert_ptr_equal(dev.ops, &sim_flash_ops);
    assert_ptr_equal(dev.map, flash_map_stm32h743());
    uint8_t w[WORD], got[WORD];
    pattern(w, 0x66);
    assert_int_equal(dev.ops->program_word(dev.ctx, SEC(6), w), FLASH_OK);
    assert_int_equal(dev.ops->read(dev.ctx, SEC(6), got, WORD), FLASH_OK);
    assert_memory_equal(got, w, WORD);
    assert_int_equal(dev.ops->program_word(dev.ctx, SEC(6), w), FLASH_ERR_PROGRAM);
    assert_int_equal(dev.ops->erase_sector(dev.ctx, 6), FLASH_OK);
    assert_erased(fx->f, SEC(6), WORD);
    assert_int_equal(dev.ops->erase_bank(dev.ctx, 1), FLASH_OK);
}

/* ---- timing ---- */

static void test_clock_charges_ds12110_times(void **state)
{
    fx_t *fx = *state;
    /* DS12110 "Flash memory programming", x64 typical: 100 us, 1 s, 5 s. */
    uint64_t t0 = sim_clock_now_ns(&fx->clock);
    program(fx->f, SEC(1), 1);
    assert_int_equal(sim_clock_now_ns(&fx->clock) - t0, 100 * SIM_NS_PER_US);
    t0 = sim_clock_now_ns(&fx->clock);
    assert_int_equal(sim_flash_erase_sector(fx->f, 1), FLASH_OK);
    assert_int_equal(sim_clock_now_ns(&fx->clock) - t0, 1 * SIM_NS_PER_S);
    t0 = sim_clock_now_ns(&fx->clock);
    assert_int_equal(sim_flash_erase_bank(fx->f, 1), FLASH_OK);
    assert_int_equal(sim_clock_now_ns(&fx->clock) - t0, 5 * SIM_NS_PER_S);
    /* Reads and refused calls take no flash time. */
    t0 = sim_clock_now_ns(&fx->clock);
    uint8_t buf[64];
    assert_int_equal(sim_flash_read(fx->f, SEC(1), buf, sizeof buf), FLASH_OK);
    assert_int_equal(sim_flash_erase_sector(fx->f, 99), FLASH_ERR_ADDRESS);
    assert_int_equal(sim_clock_now_ns(&fx->clock), t0);

    /* The table holds typ and max for every parallelism. */
    const sim_flash_times_t *x8max = sim_flash_ds12110_times(SIM_FLASH_X8, true);
    assert_int_equal(x8max->prog_word_ns, 580 * SIM_NS_PER_US);
    assert_int_equal(x8max->sector_erase_ns, 4 * SIM_NS_PER_S);
    assert_int_equal(x8max->bank_erase_ns, 26 * SIM_NS_PER_S);
    const sim_flash_times_t *x64max = sim_flash_ds12110_times(SIM_FLASH_X64, true);
    assert_int_equal(x64max->prog_word_ns, 200 * SIM_NS_PER_US);
    assert_int_equal(x64max->sector_erase_ns, 2 * SIM_NS_PER_S);
    assert_int_equal(sim_flash_ds12110_times(SIM_FLASH_X32, false)->sector_erase_ns,
                     1100 * SIM_NS_PER_MS);
    assert_int_equal(sim_flash_ds12110_times(SIM_FLASH_X16, false)->prog_word_ns,
                     180 * SIM_NS_PER_US);

    sim_flash_set_times(fx->f, x64max);
    t0 = sim_clock_now_ns(&fx->clock);
    program(fx->f, SEC(1), 2);
    assert_int_equal(sim_flash_erase_sector(fx->f, 2), FLASH_OK);
    assert_int_equal(sim_clock_now_ns(&fx->clock) - t0, 200 * SIM_NS_PER_US + 2 * SIM_NS_PER_S);

    sim_flash_stats_t st;
    sim_flash_get_stats(fx->f, &st);
    assert_int_equal(st.busy_ns, sim_clock_now_ns(&fx->clock));

    /* Without a clock nothing is charged but the model still works. */
    sim_flash_set_clock(fx->f, NULL);
    t0 = sim_clock_now_ns(&fx->clock);
    assert_int_equal(sim_flash_erase_sector(fx->f, 3), FLASH_OK);
    assert_int_equal(sim_clock_now_ns(&fx->clock), t0);
}

/* ---- power cuts ---- */

static void assert_all_refused_while_off(sim_flash_t *f)
{
    uint8_t w[WORD], b;
    pattern(w, 0x77);
    assert_false(sim_flash_powered(f));
    assert_int_equal(sim_flash_read(f, SEC(9), &b, 1), FLASH_ERR_POWER);
    assert_int_equal(sim_flash_program_word(f, SEC(9), w), FLASH_ERR_POWER);
    assert_int_equal(sim_flash_force_write(f, SEC(9), w, 1), FLASH_ERR_POWER);
    assert_int_equal(sim_flash_erase_sector(f, 9), FLASH_ERR_POWER);
    assert_int_equal(sim_flash_erase_bank(f, 1), FLASH_ERR_POWER);
    assert_int_equal(sim_flash_word_state(f, SEC(9)), SIM_WORD_ERASED);
}

static void test_cut_program_before(void **state)
{
    fx_t *fx = *state;
    sim_flash_cut_at(fx->f, 1, SIM_FLASH_PHASE_BEFORE);
    uint8_t w[WORD];
    pattern(w, 0x12);
    assert_int_equal(sim_flash_program_word(fx->f, SEC(1), w), FLASH_ERR_POWER);
    assert_int_equal(sim_clock_now_ns(&fx->clock), 0);
    assert_all_refused_while_off(fx->f);
    sim_flash_power_on(fx->f);
    assert_int_equal(sim_flash_word_state(fx->f, SEC(1)), SIM_WORD_ERASED);
    assert_erased(fx->f, SEC(1), WORD);
    program(fx->f, SEC(1), 0x12);
    assert_word(fx->f, SEC(1), 0x12);
    sim_flash_stats_t st;
    sim_flash_get_stats(fx->f, &st);
    assert_int_equal(st.power_cuts, 1);
    assert_int_equal(st.ops, 2);
    assert_int_equal(st.words_programmed, 1);
    /* The cut is one shot: operation number 1 again (after a reset) runs. */
    sim_flash_reset_stats(fx->f);
    program(fx->f, SEC(1) + WORD, 0x15);
    assert_true(sim_flash_powered(fx->f));
    assert_int_equal(sim_flash_op_count(fx->f), 1);
}

static void test_cut_program_during(void **state)
{
    fx_t *fx = *state;
    sim_flash_cut_at(fx->f, 1, SIM_FLASH_PHASE_DURING);
    uint8_t w[WORD];
    pattern(w, 0x13);
    assert_int_equal(sim_flash_program_word(fx->f, SEC(1), w), FLASH_ERR_POWER);
    assert_int_equal(sim_clock_now_ns(&fx->clock), 50 * SIM_NS_PER_US);
    assert_all_refused_while_off(fx->f);
    sim_flash_power_on(fx->f);
    assert_int_equal(sim_flash_word_state(fx->f, SEC(1)), SIM_WORD_ECC_CORRUPT);
    uint8_t got[WORD];
    assert_int_equal(sim_flash_read(fx->f, SEC(1), got, WORD), FLASH_ERR_ECC);
    assert_int_equal(sim_flash_program_word(fx->f, SEC(1), w), FLASH_ERR_PROGRAM);
    assert_int_equal(sim_flash_erase_sector(fx->f, 1), FLASH_OK); /* recovery path */
    program(fx->f, SEC(1), 0x13);
    assert_word(fx->f, SEC(1), 0x13);
}

static void test_cut_program_after(void **state)
{
    fx_t *fx = *state;
    sim_flash_cut_at(fx->f, 1, SIM_FLASH_PHASE_AFTER);
    uint8_t w[WORD];
    pattern(w, 0x14);
    assert_int_equal(sim_flash_program_word(fx->f, SEC(1), w), FLASH_ERR_POWER);
    assert_int_equal(sim_clock_now_ns(&fx->clock), 100 * SIM_NS_PER_US);
    assert_all_refused_while_off(fx->f);
    sim_flash_power_on(fx->f);
    assert_int_equal(sim_flash_word_state(fx->f, SEC(1)), SIM_WORD_PROGRAMMED);
    assert_word(fx->f, SEC(1), 0x14);
}

static void test_cut_force_write_during(void **state)
{
    fx_t *fx = *state;
    sim_flash_cut_at(fx->f, 1, SIM_FLASH_PHASE_DURING);
    const uint8_t b[3] = {1, 2, 3};
    assert_int_equal(sim_flash_force_write(fx->f, SEC(1) + 4, b, 3), FLASH_ERR_POWER);
    sim_flash_power_on(fx->f);
    assert_int_equal(sim_flash_word_state(fx->f, SEC(1)), SIM_WORD_ECC_CORRUPT);
}

/* Sector 4 with programmed words at the start, either side of the middle and
 * at the end; erased words elsewhere. */
static void fill_sector4(sim_flash_t *f)
{
    program(f, SEC(4), 0x40);
    program(f, SEC(4) + SECTOR / 2 - WORD, 0x41);
    program(f, SEC(4) + SECTOR / 2 + 4 * WORD, 0x42);
    program(f, SEC(4) + SECTOR - WORD, 0x43);
}

static void test_cut_erase_before_after(void **state)
{
    fx_t *fx = *state;
    fill_sector4(fx->f);
    sim_flash_cut_at(fx->f, 5, SIM_FLASH_PHASE_BEFORE);
    assert_int_equal(sim_flash_erase_sector(fx->f, 4), FLASH_ERR_POWER);
    assert_all_refused_while_off(fx->f);
    sim_flash_power_on(fx->f);
    assert_word(fx->f, SEC(4), 0x40);
    assert_word(fx->f, SEC(4) + SECTOR - WORD, 0x43);

    sim_flash_cut_at(fx->f, 6, SIM_FLASH_PHASE_AFTER);
    uint64_t t0 = sim_clock_now_ns(&fx->clock);
    assert_int_equal(sim_flash_erase_sector(fx->f, 4), FLASH_ERR_POWER);
    assert_int_equal(sim_clock_now_ns(&fx->clock) - t0, SIM_NS_PER_S);
    assert_all_refused_while_off(fx->f);
    sim_flash_power_on(fx->f);
    assert_erased(fx->f, SEC(4), SECTOR);
}

static void test_cut_erase_during(void **state)
{
    fx_t *fx = *state;
    fill_sector4(fx->f);
    program(fx->f, SEC(5), 0x50);
    sim_flash_cut_at(fx->f, 6, SIM_FLASH_PHASE_DURING);
    uint64_t t0 = sim_clock_now_ns(&fx->clock);
    assert_int_equal(sim_flash_erase_sector(fx->f, 4), FLASH_ERR_POWER);
    assert_int_equal(sim_clock_now_ns(&fx->clock) - t0, SIM_NS_PER_S / 2);
    assert_all_refused_while_off(fx->f);
    sim_flash_power_on(fx->f);
    /* First half erased, including the programmed word just before the middle. */
    assert_erased(fx->f, SEC(4), SECTOR / 2);
    assert_int_equal(sim_flash_word_state(fx->f, SEC(4) + SECTOR / 2 - WORD), SIM_WORD_ERASED);
    /* The word where it stopped and the programmed words after it: ECC-corrupt. */
    assert_int_equal(sim_flash_word_state(fx->f, SEC(4) + SECTOR / 2), SIM_WORD_ECC_CORRUPT);
    assert_int_equal(sim_flash_word_state(fx->f, SEC(4) + SECTOR / 2 + 4 * WORD),
                     SIM_WORD_ECC_CORRUPT);
    assert_int_equal(sim_flash_word_state(fx->f, SEC(4) + SECTOR - WORD), SIM_WORD_ECC_CORRUPT);
    uint8_t got[WORD];
    assert_int_equal(sim_flash_read(fx->f, SEC(4) + SECTOR - WORD, got, WORD), FLASH_ERR_ECC);
    /* Erased words after it stay erased. */
    assert_erased(fx->f, SEC(4) + SECTOR / 2 + WORD, 3 * WORD);
    /* Other sectors untouched. */
    assert_word(fx->f, SEC(5), 0x50);
    /* A new erase recovers the sector. */
    assert_int_equal(sim_flash_erase_sector(fx->f, 4), FLASH_OK);
    assert_erased(fx->f, SEC(4), SECTOR);
}

static void test_cut_progress_setting(void **state)
{
    fx_t *fx = *state;
    fill_sector4(fx->f);
    sim_flash_set_cut_progress(fx->f, 0);
    sim_flash_cut_at(fx->f, 5, SIM_FLASH_PHASE_DURING);
    assert_int_equal(sim_flash_erase_sector(fx->f, 4), FLASH_ERR_POWER);
    sim_flash_power_on(fx->f);
    /* Stopped at once: nothing erased, first word and all programmed words corrupt. */
    assert_int_equal(sim_flash_word_state(fx->f, SEC(4)), SIM_WORD_ECC_CORRUPT);
    assert_int_equal(sim_flash_word_state(fx->f, SEC(4) + SECTOR / 2 - WORD), SIM_WORD_ECC_CORRUPT);
    assert_int_equal(sim_flash_word_state(fx->f, SEC(4) + WORD), SIM_WORD_ERASED);
}

static void test_cut_bank_erase_during(void **state)
{
    fx_t *fx = *state;
    program(fx->f, SEC(8), 0x80);
    program(fx->f, SEC(15), 0x8F);
    program(fx->f, SEC(0), 0x00);
    sim_flash_cut_at(fx->f, 4, SIM_FLASH_PHASE_DURING);
    uint64_t t0 = sim_clock_now_ns(&fx->clock);
    assert_int_equal(sim_flash_erase_bank(fx->f, 1), FLASH_ERR_POWER);
    assert_int_equal(sim_clock_now_ns(&fx->clock) - t0, 5 * SIM_NS_PER_S / 2);
    sim_flash_power_on(fx->f);
    assert_int_equal(sim_flash_word_state(fx->f, SEC(8)), SIM_WORD_ERASED);
    assert_int_equal(sim_flash_word_state(fx->f, SEC(12)), SIM_WORD_ECC_CORRUPT);
    assert_int_equal(sim_flash_word_state(fx->f, SEC(15)), SIM_WORD_ECC_CORRUPT);
    assert_word(fx->f, SEC(0), 0x00);
}

typedef struct {
    sim_flash_event_t ev[16];
    unsigned n;
    uint64_t cut_seq;
    sim_flash_phase_t cut_phase;
} recorder_t;

static bool record_hook(void *user, const sim_flash_event_t *ev)
{
    recorder_t *r = user;
    if (r->n < 16) {
        r->ev[r->n++] = *ev;
    }
    return ev->seq == r->cut_seq && ev->phase == r->cut_phase;
}

static void test_hook_events(void **state)
{
    fx_t *fx = *state;
    recorder_t r = {.cut_seq = 3, .cut_phase = SIM_FLASH_PHASE_AFTER};
    sim_flash_set_power_hook(fx->f, record_hook, &r);
    assert_int_equal(sim_flash_erase_sector(fx->f, 9), FLASH_OK);
    program(fx->f, SEC(9) + WORD, 0x91);
    assert_int_equal(sim_flash_erase_bank(fx->f, 0), FLASH_ERR_POWER);
    /* Refused calls are not operations: no events. */
    assert_int_equal(sim_flash_erase_sector(fx->f, 99), FLASH_ERR_POWER);
    assert_int_equal(r.n, 9);
    const sim_flash_op_t ops[3] = {SIM_FLASH_OP_ERASE_SECTOR, SIM_FLASH_OP_PROGRAM,
                                   SIM_FLASH_OP_ERASE_BANK};
    const unsigned idx[3] = {9, 9, 0};
    const uint32_t addr[3] = {SEC(9), SEC(9) + WORD, SEC(0)};
    for (unsigned i = 0; i < 9; i++) {
        assert_int_equal(r.ev[i].seq, i / 3 + 1);
        assert_int_equal(r.ev[i].phase, (sim_flash_phase_t)(i % 3));
        assert_int_equal(r.ev[i].op, ops[i / 3]);
        assert_int_equal(r.ev[i].sector, idx[i / 3]);
        assert_int_equal(r.ev[i].addr, addr[i / 3]);
    }
    sim_flash_power_on(fx->f);
    assert_erased(fx->f, SEC(0), 8 * SECTOR); /* AFTER: the bank erase completed */
    sim_flash_set_power_hook(fx->f, NULL, NULL);
    program(fx->f, SEC(1), 1);
    assert_int_equal(r.n, 9);
}

/* The sequence a DFU download does: erase, then program words. */
static flash_status_t scenario(sim_flash_t *f)
{
    flash_status_t st = sim_flash_erase_sector(f, 1);
    for (unsigned i = 0; st == FLASH_OK && i < 4; i++) {
        uint8_t w[WORD];
        pattern(w, (uint8_t)i);
        st = sim_flash_program_word(f, SEC(1) + i * WORD, w);
    }
    return st;
}

static void test_cut_enumeration(void **state)
{
    (void)state;
    sim_flash_t *f = sim_flash_new(NULL);
    assert_non_null(f);
    assert_int_equal(scenario(f), FLASH_OK);
    uint64_t count = sim_flash_op_count(f);
    assert_int_equal(count, 5);
    sim_flash_free(f);

    unsigned cuts = 0;
    for (uint64_t n = 1; n <= count; n++) {
        for (int ph = SIM_FLASH_PHASE_BEFORE; ph <= SIM_FLASH_PHASE_AFTER; ph++) {
            f = sim_flash_new(NULL);
            assert_non_null(f);
            sim_flash_cut_at(f, n, (sim_flash_phase_t)ph);
            assert_int_equal(scenario(f), FLASH_ERR_POWER);
            assert_int_equal(sim_flash_op_count(f), n); /* stopped at the Nth op */
            assert_false(sim_flash_powered(f));
            sim_flash_power_on(f);
            sim_flash_stats_t st;
            sim_flash_get_stats(f, &st);
            assert_int_equal(st.power_cuts, 1);
            /* Words programmed before the cut are intact; the retry finishes. */
            for (uint64_t i = 0; n >= 2 && i + 2 < n; i++) {
                assert_word(f, SEC(1) + (uint32_t)i * WORD, (uint8_t)i);
            }
            assert_int_equal(scenario(f), FLASH_OK);
            for (unsigned i = 0; i < 4; i++) {
                assert_word(f, SEC(1) + i * WORD, (uint8_t)i);
            }
            sim_flash_free(f);
            cuts++;
        }
    }
    assert_int_equal(cuts, 15);
}

static void test_power_off_between_ops(void **state)
{
    fx_t *fx = *state;
    program(fx->f, SEC(1), 1);
    sim_flash_power_off(fx->f);
    assert_all_refused_while_off(fx->f);
    sim_flash_power_on(fx->f);
    assert_word(fx->f, SEC(1), 1);
    sim_flash_reset_stats(fx->f);
    assert_int_equal(sim_flash_op_count(fx->f), 0);
}

/* ---- persistence ---- */

static char *temp_path(void)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/test_sim_flash_%ld.bin", (long)getpid());
    return path;
}

/* The wrong-data fault: the program reports success, one bit differs at once
 * or only after the given number of further operations. */
static void test_flip_after(void **state)
{
    (void)state;
    sim_flash_t *f = sim_flash_new(NULL);
    assert_non_null(f);
    uint8_t w[32];
    memset(w, 0x5A, sizeof w);
    const uint8_t *raw = sim_flash_raw(f);
    const uint32_t base = 0x08100000u, off = base - 0x08000000u;
    sim_flash_flip_after(f, 2, 0); /* the second operation */
    assert_int_equal(sim_flash_program_word(f, base, w), FLASH_OK);
    assert_int_equal(sim_flash_program_word(f, base + 32u, w), FLASH_OK);
    assert_int_equal(raw[off + 21], 0x5A);
    assert_int_equal(raw[off + 32u + 21u], 0x5B); /* bit 0 of byte 21 */
    assert_int_equal(sim_flash_word_state(f, base + 32u), SIM_WORD_PROGRAMMED);
    assert_int_equal(sim_flash_silent_changes(f), 1);
    /* delayed: right until 2 more operations have started */
    sim_flash_flip_after(f, 3, 2);
    assert_int_equal(sim_flash_program_word(f, base + 64u, w), FLASH_OK); /* op 3 */
    assert_int_equal(raw[off + 64u + 21u], 0x5A);
    assert_int_equal(sim_flash_program_word(f, base + 96u, w), FLASH_OK); /* op 4 */
    assert_int_equal(raw[off + 64u + 21u], 0x5A);
    assert_int_equal(sim_flash_program_word(f, base + 128u, w), FLASH_OK); /* op 5 */
    assert_int_equal(raw[off + 64u + 21u], 0x5B);
    assert_int_equal(sim_flash_silent_changes(f), 2);
    /* one-shot */
    assert_int_equal(sim_flash_program_word(f, base + 160u, w), FLASH_OK);
    assert_int_equal(raw[off + 160u + 21u], 0x5A);
    sim_flash_free(f);
}

/* The operation log: one line per completed operation, in order. */
static void test_operation_log(void **state)
{
    (void)state;
    sim_flash_t *f = sim_flash_new(NULL);
    char *buf = NULL;
    size_t len = 0;
    FILE *log = open_memstream(&buf, &len);
    assert_non_null(log);
    sim_flash_set_log(f, log);
    uint8_t w[32];
    memset(w, 0, sizeof w);
    assert_int_equal(sim_flash_erase_sector(f, 9), FLASH_OK);
    assert_int_equal(sim_flash_program_word(f, 0x08120020u, w), FLASH_OK);
    sim_flash_cut_at(f, 3, SIM_FLASH_PHASE_DURING);
    assert_int_equal(sim_flash_program_word(f, 0x08120040u, w), FLASH_ERR_POWER);
    fclose(log);
    assert_string_equal(buf, "1 erase-sector 0x08120000\n2 program 0x08120020\n");
    free(buf);
    sim_flash_free(f);
}

static void test_save_load_round_trip(void **state)
{
    fx_t *fx = *state;
    const char *path = temp_path();
    sim_flash_set_overwrite_policy(fx->f, SIM_FLASH_OVERWRITE_CORRUPT);
    program(fx->f, SEC(1), 0x10);
    program(fx->f, SEC(14) + SECTOR - WORD, 0xE0);
    program(fx->f, SEC(14) + SECTOR - WORD, 0xE1); /* ECC-corrupt */
    const uint8_t b[2] = {0xAB, 0xCD};
    assert_int_equal(sim_flash_force_write(fx->f, SEC(2) + 7, b, 2), FLASH_OK);
    sim_flash_set_write_protect(fx->f, 0, true);
    sim_flash_set_write_protect(fx->f, 13, true);
    assert_int_equal(sim_flash_save(fx->f, path), 0);
    assert_int_equal(access(path, F_OK), 0);

    sim_flash_t *g = sim_flash_new(NULL);
    assert_non_null(g);
    assert_int_equal(sim_flash_load(g, path), 0);
    assert_memory_equal(sim_flash_raw(g), sim_flash_raw(fx->f), FLASH_SZ);
    for (uint32_t a = BASE; a < BASE + FLASH_SZ; a += WORD) {
        if (sim_flash_word_state(g, a) != sim_flash_word_state(fx->f, a)) {
            fail_msg("word 0x%08x state differs", (unsigned)a);
        }
    }
    for (unsigned s = 0; s < 16; s++) {
        assert_int_equal(sim_flash_is_write_protected(g, s), s == 0 || s == 13);
    }
    assert_word(g, SEC(1), 0x10);
    uint8_t got[WORD];
    assert_int_equal(sim_flash_read(g, SEC(14) + SECTOR - WORD, got, WORD), FLASH_ERR_ECC);
    assert_int_equal(sim_flash_word_state(g, SEC(2)), SIM_WORD_PROGRAMMED);
    uint8_t w[WORD];
    pattern(w, 1);
    assert_int_equal(sim_flash_program_word(g, SEC(2), w), FLASH_ERR_PROGRAM);

    /* A missing file is an erased, unprotected board. */
    assert_int_equal(remove(path), 0);
    assert_int_equal(sim_flash_load(g, path), 0);
    assert_erased(g, BASE, FLASH_SZ);
    assert_false(sim_flash_is_write_protected(g, 0));
    sim_flash_free(g);
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
}

static void test_load_rejects_bad_files(void **state)
{
    fx_t *fx = *state;
    const char *path = temp_path();
    program(fx->f, SEC(1), 0x10);

    /* Not a flash file. */
    write_file(path, "hello, not a flash image at all, no no no", 40);
    errno = 0;
    assert_int_equal(sim_flash_load(fx->f, path), -1);
    assert_int_equal(errno, EINVAL);
    assert_word(fx->f, SEC(1), 0x10); /* unchanged */

    /* A valid file, then damaged copies of it. */
    sim_flash_t *g = sim_flash_new(NULL);
    assert_non_null(g);
    assert_int_equal(sim_flash_save(g, path), 0);
    size_t len = 32 + FLASH_SZ + FLASH_SZ / WORD;
    uint8_t *img = malloc(len);
    assert_non_null(img);
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    assert_int_equal(fread(img, 1, len, fp), len);
    assert_int_equal(fgetc(fp), EOF);
    fclose(fp);
    assert_memory_equal(img, "H7SIMFL", 8);
    assert_int_equal(img[8], 1);

    write_file(path, img, len - 1); /* truncated */
    assert_int_equal(sim_flash_load(fx->f, path), -1);
    assert_int_equal(errno, EINVAL);

    img[32 + FLASH_SZ + 5] = 7; /* unknown word state */
    write_file(path, img, len);
    assert_int_equal(sim_flash_load(fx->f, path), -1);
    img[32 + FLASH_SZ + 5] = SIM_WORD_ERASED;

    img[32 + 5 * WORD] = 0x00; /* "erased" word holding data */
    write_file(path, img, len);
    assert_int_equal(sim_flash_load(fx->f, path), -1);
    img[32 + 5 * WORD] = 0xFF;

    img[12] ^= 1; /* wrong size */
    write_file(path, img, len);
    assert_int_equal(sim_flash_load(fx->f, path), -1);
    img[12] ^= 1;

    assert_word(fx->f, SEC(1), 0x10); /* still unchanged after every failure */
    write_file(path, img, len);       /* the repaired file loads */
    assert_int_equal(sim_flash_load(fx->f, path), 0);
    assert_erased(fx->f, SEC(1), WORD);

    free(img);
    sim_flash_free(g);
    remove(path);
}

/* sim_flash_poke (h7dfu-sim flash poke): bytes straight into the array,
 * programmed or not, protected or not, powered or not; the words touched
 * become PROGRAMMED, their other bytes kept; no operation counted, a silent
 * change; nothing outside the flash. */
static void test_poke(void **state)
{
    fx_t *fx = *state;
    program(fx->f, SEC(3), 0x30);
    sim_flash_set_write_protect(fx->f, 3, true);
    sim_flash_power_off(fx->f);
    const uint8_t b[3] = {0x00, 0x11, 0x22};
    assert_int_equal(sim_flash_poke(fx->f, SEC(3) + WORD - 1u, b, sizeof b), FLASH_OK);
    const uint8_t *raw = sim_flash_raw(fx->f) + (SEC(3) - BASE);
    assert_int_equal(raw[WORD - 1u], 0x00);
    assert_int_equal(raw[WORD], 0x11);
    assert_int_equal(raw[WORD + 1u], 0x22);
    assert_int_equal(raw[WORD + 2u], 0xff);
    uint8_t w[WORD];
    pattern(w, 0x30);
    assert_memory_equal(raw, w, WORD - 1u);
    assert_int_equal(sim_flash_word_state(fx->f, SEC(3)), SIM_WORD_PROGRAMMED);
    assert_int_equal(sim_flash_word_state(fx->f, SEC(3) + WORD), SIM_WORD_PROGRAMMED);
    assert_int_equal(sim_flash_word_state(fx->f, SEC(3) + 2u * WORD), SIM_WORD_ERASED);
    assert_int_equal(sim_flash_op_count(fx->f), 1);
    assert_int_equal(sim_flash_silent_changes(fx->f), 1);
    assert_int_equal(sim_flash_poke(fx->f, BASE + FLASH_SZ - 2u, b, sizeof b), FLASH_ERR_ADDRESS);
    assert_int_equal(sim_flash_poke(fx->f, BASE - 1u, b, sizeof b), FLASH_ERR_ADDRESS);
    assert_int_equal(sim_flash_poke(fx->f, BASE, b, 0), FLASH_ERR_ADDRESS);
    assert_int_equal(sim_flash_silent_changes(fx->f), 1);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_erased_reads),
        T(test_program_aligned),
        T(test_program_unaligned_or_outside),
        T(test_double_program_refused),
        T(test_double_program_corrupt_policy),
        T(test_force_write_partial_then_twice),
        T(test_erase_restores),
        T(test_bank_erase),
        T(test_write_protection),
        T(test_ops_adapter),
        T(test_clock_charges_ds12110_times),
        T(test_cut_program_before),
        T(test_cut_program_during),
        T(test_cut_program_after),
        T(test_cut_force_write_during),
        T(test_cut_erase_before_after),
        T(test_cut_erase_during),
        T(test_cut_progress_setting),
        T(test_cut_bank_erase_during),
        T(test_hook_events),
        cmocka_unit_test(test_cut_enumeration),
        cmocka_unit_test(test_flip_after),
        cmocka_unit_test(test_operation_log),
        T(test_power_off_between_ops),
        T(test_save_load_round_trip),
        T(test_load_rejects_bad_files),
        T(test_poke),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
