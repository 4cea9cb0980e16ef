/*
 * The signature trailer's format and the security counter log (boot_sig.h)
 * on the flash model: values only go up, a full log refuses, a word a power
 * cut broke is skipped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "boot_sig.h"
#include "sim_flash.h"

static void test_trailer_format(void **state)
{
    (void)state;
    boot_sig_trailer_t t = {.security_counter = 7, .algorithm = BOOT_SIG_ALG_P256};
    for (unsigned i = 0; i < BOOT_SIG_KEY_ID_LEN; i++) {
        t.key_id[i] = (uint8_t)i;
    }
    for (unsigned i = 0; i < BOOT_SIG_RS_LEN; i++) {
        t.rs[i] = (uint8_t)(0xA0 + i);
    }
    uint8_t raw[BOOT_SIG_SIZE], raw2[BOOT_SIG_SIZE];
    boot_sig_encode(&t, raw);
    assert_memory_equal(raw, "H7SG", 4);
    boot_sig_trailer_t u;
    assert_int_equal(boot_sig_parse(raw, &u), BOOT_VALID);
    boot_sig_encode(&u, raw2);
    assert_memory_equal(raw, raw2, sizeof raw);
    assert_int_equal(u.security_counter, 7);
    memcpy(raw2, raw, sizeof raw);
    raw2[0] ^= 1;
    assert_int_equal(boot_sig_parse(raw2, NULL), BOOT_ERR_UNSIGNED);
    memcpy(raw2, raw, sizeof raw);
    raw2[4] = 2; /* version */
    assert_int_equal(boot_sig_parse(raw2, NULL), BOOT_ERR_SIG_FORMAT);
    memcpy(raw2, raw, sizeof raw);
    raw2[0x0C] = 2; /* algorithm */
    assert_int_equal(boot_sig_parse(raw2, NULL), BOOT_ERR_SIG_FORMAT);
    memcpy(raw2, raw, sizeof raw);
    raw2[0x30] = 1; /* reserved */
    assert_int_equal(boot_sig_parse(raw2, NULL), BOOT_ERR_SIG_FORMAT);
    memset(raw2, 0xFF, sizeof raw2); /* erased flash after the body */
    assert_int_equal(boot_sig_parse(raw2, NULL), BOOT_ERR_UNSIGNED);
}

static uint32_t stored(const flash_dev_t *dev, uint32_t *next)
{
    uint32_t v = 0xDEAD, n = 0;
    assert_int_equal(boot_counter_read(dev, &v, &n), FLASH_OK);
    if (next) {
        *next = n;
    }
    return v;
}

static void test_counter_log(void **state)
{
    (void)state;
    sim_flash_t *f = sim_flash_new(NULL);
    assert_int_equal(boot_counter_area(sim_flash_map(f)), 0); /* the unsigned map: no store */
    flash_dev_t plain = sim_flash_dev(f);
    assert_int_not_equal(boot_counter_raise(&plain, 1), FLASH_OK);
    assert_true(sim_flash_set_map(f, flash_map_stm32h743_signed()));
    flash_dev_t dev = sim_flash_dev(f);
    uint32_t area = boot_counter_area(dev.map), next;
    assert_int_equal(area, 0x081C0000u); /* sector 14 */
    assert_int_equal(stored(&dev, &next), 0);
    assert_int_equal(next, area);
    assert_int_equal(boot_counter_raise(&dev, 5), FLASH_OK);
    assert_int_equal(stored(&dev, &next), 5);
    assert_int_equal(next, area + BOOT_CTR_ENTRY_SIZE);
    /* lower or equal: nothing written */
    assert_int_equal(boot_counter_raise(&dev, 3), FLASH_OK);
    assert_int_equal(boot_counter_raise(&dev, 5), FLASH_OK);
    assert_int_equal(stored(&dev, &next), 5);
    assert_int_equal(next, area + BOOT_CTR_ENTRY_SIZE);

    /* a power cut during the next entry: the old value stays, the broken
     * word is skipped by the next raise */
    sim_flash_cut_at(f, sim_flash_op_count(f) + 1, SIM_FLASH_PHASE_DURING);
    assert_int_not_equal(boot_counter_raise(&dev, 9), FLASH_OK);
    sim_flash_power_on(f);
    assert_int_equal(stored(&dev, &next), 5);
    assert_int_equal(next, area + 2 * BOOT_CTR_ENTRY_SIZE);
    assert_int_equal(boot_counter_raise(&dev, 9), FLASH_OK);
    assert_int_equal(stored(&dev, NULL), 9);

    /* a full log keeps its value and refuses higher ones: the entries after
     * the third written in the log's format ("H7SC", v, ~v, zeros) */
    uint32_t last = 9;
    for (uint32_t a = area + 3 * BOOT_CTR_ENTRY_SIZE; a < area + BOOT_CTR_AREA_SIZE;
         a += BOOT_CTR_ENTRY_SIZE) {
        uint8_t e[BOOT_CTR_ENTRY_SIZE] = {'H', '7', 'S', 'C'};
        last++;
        for (unsigned i = 0; i < 4; i++) {
            e[4 + i] = (uint8_t)(last >> (8 * i));
            e[8 + i] = (uint8_t)(~last >> (8 * i));
        }
        assert_int_equal(sim_flash_program_word(f, a, e), FLASH_OK);
    }
    assert_int_equal(stored(&dev, &next), last);
    assert_int_equal(last, 9 + BOOT_CTR_AREA_SIZE / BOOT_CTR_ENTRY_SIZE - 3);
    assert_int_equal(next, 0);
    assert_int_equal(boot_counter_raise(&dev, 100000), FLASH_ERR_PROGRAM);
    assert_int_equal(boot_counter_raise(&dev, 3), FLASH_OK);
    assert_int_equal(stored(&dev, NULL), last); /* never erased while it holds a value */
    sim_flash_free(f);
}

/* The sector as the unsigned bootloader's application left it (no entry,
 * no free word): erased at the first raise, then a log. */
static void test_counter_sector_reclaimed(void **state)
{
    (void)state;
    sim_flash_t *f = sim_flash_new(NULL);
    assert_true(sim_flash_set_map(f, flash_map_stm32h743_signed()));
    flash_dev_t dev = sim_flash_dev(f);
    uint32_t area = boot_counter_area(dev.map), next;
    uint8_t w[32];
    memset(w, 0x5A, sizeof w);
    for (uint32_t a = area; a < area + BOOT_CTR_AREA_SIZE; a += sizeof w) {
        assert_int_equal(sim_flash_program_word(f, a, w), FLASH_OK);
    }
    assert_int_equal(stored(&dev, &next), 0);
    assert_int_equal(next, 0);
    assert_int_equal(boot_counter_raise(&dev, 2), FLASH_OK);
    assert_int_equal(stored(&dev, &next), 2);
    assert_int_equal(next, area + BOOT_CTR_ENTRY_SIZE);
    sim_flash_free(f);
}

/* The started form only (program_start + poll), as the STM32H743 driver
 * offers it: each word reads busy for a few polls before it is done. */
typedef struct polled {
    const flash_dev_t *inner;
    flash_ops_t ops;
    flash_status_t pending;
    unsigned busy_left;
    unsigned polls;
    bool corrupt; /* the word written is not the word given */
} polled_t;

static flash_status_t polled_read(void *ctx, uint32_t addr, void *buf, size_t len)
{
    polled_t *p = ctx;
    return p->inner->ops->read(p->inner->ctx, addr, buf, len);
}

static flash_status_t polled_program_start(void *ctx, uint32_t addr, const uint8_t *word)
{
    polled_t *p = ctx;
    assert_int_equal(p->busy_left, 0); /* never started on a busy bank */
    uint8_t w[32];
    memcpy(w, word, sizeof w);
    w[4] ^= (uint8_t)(p->corrupt ? 0x01 : 0x00);
    p->pending = p->inner->ops->program_word(p->inner->ctx, addr, w);
    p->busy_left = 3;
    return FLASH_OK;
}

static flash_status_t polled_poll(void *ctx, unsigned bank)
{
    polled_t *p = ctx;
    assert_int_equal(bank, 1); /* the log is in sector 14, bank 2 */
    p->polls++;
    if (p->busy_left > 0 && --p->busy_left > 0) {
        return FLASH_BUSY;
    }
    return p->pending;
}

static void test_counter_log_polled(void **state)
{
    (void)state;
    sim_flash_t *f = sim_flash_new(NULL);
    assert_true(sim_flash_set_map(f, flash_map_stm32h743_signed()));
    flash_dev_t inner = sim_flash_dev(f);
    polled_t p = {.inner = &inner};
    p.ops.read = polled_read;
    p.ops.program_start = polled_program_start;
    p.ops.poll = polled_poll;
    flash_dev_t dev = {.ops = &p.ops, .ctx = &p, .map = inner.map};
    assert_int_equal(boot_counter_raise(&dev, 4), FLASH_OK);
    assert_int_equal(p.polls, 3); /* polled until the word was done */
    assert_int_equal(stored(&dev, NULL), 4);
    assert_int_equal(stored(&inner, NULL), 4);
    /* one entry used, not one per poll */
    uint32_t next;
    (void)stored(&dev, &next);
    assert_int_equal(next, boot_counter_area(dev.map) + BOOT_CTR_ENTRY_SIZE);
    /* a word the controller refuses (already programmed) is skipped */
    sim_flash_cut_at(f, sim_flash_op_count(f) + 1, SIM_FLASH_PHASE_DURING);
    assert_int_not_equal(boot_counter_raise(&dev, 6), FLASH_OK);
    sim_flash_power_on(f);
    assert_int_equal(boot_counter_raise(&dev, 6), FLASH_OK);
    assert_int_equal(stored(&dev, NULL), 6);
    sim_flash_free(f);
}

/* A word that takes the program but does not read back as the entry (the
 * controller reports nothing for a word that was not erased): not counted;
 * after two such words the raise fails instead of using up the log. */
static void test_counter_read_back(void **state)
{
    (void)state;
    sim_flash_t *f = sim_flash_new(NULL);
    assert_true(sim_flash_set_map(f, flash_map_stm32h743_signed()));
    flash_dev_t inner = sim_flash_dev(f);
    polled_t p = {.inner = &inner, .corrupt = true};
    p.ops.read = polled_read;
    p.ops.program_start = polled_program_start;
    p.ops.poll = polled_poll;
    flash_dev_t dev = {.ops = &p.ops, .ctx = &p, .map = inner.map};
    uint32_t area = boot_counter_area(dev.map), next;
    assert_int_equal(boot_counter_raise(&dev, 4), FLASH_ERR_PROGRAM);
    assert_int_equal(stored(&dev, &next), 0);
    assert_int_equal(next, area + 2 * BOOT_CTR_ENTRY_SIZE); /* two words, not the log */
    p.corrupt = false;
    assert_int_equal(boot_counter_raise(&dev, 4), FLASH_OK);
    assert_int_equal(stored(&dev, &next), 4);
    sim_flash_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trailer_format),     cmocka_unit_test(test_counter_log),
        cmocka_unit_test(test_counter_log_polled), cmocka_unit_test(test_counter_sector_reclaimed),
        cmocka_unit_test(test_counter_read_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
