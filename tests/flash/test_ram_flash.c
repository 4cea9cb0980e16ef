/*
 * core/flash/ram_flash: the flash in RAM on a map of its own (two banks of
 * eight 4 KiB sectors at 0x08000000): words, protection, the failure switches
 * in their order, bank erase, the started form and its counters.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ram_flash.h"

#define BASE   0x08000000u
#define SECTOR 4096u
#define SIZE   (16u * SECTOR)

static const flash_map_t map = {
    .name = "RAM",
    .base = BASE,
    .sector_size = SECTOR,
    .sector_count = 16,
    .sectors_per_bank = 8,
    .word_size = 32,
    .reserved_mask = 0x1u,
};

static uint8_t mem[SIZE];
static ram_flash_t f;

static int setup(void **state)
{
    (void)state;
    memset(mem, 0xff, sizeof mem);
    ram_flash_init(&f, &map, mem);
    return 0;
}

static const uint8_t *word_of(uint8_t v)
{
    static uint8_t w[32];
    memset(w, v, sizeof w);
    return w;
}

static void test_program_read_erase(void **state)
{
    (void)state;
    const flash_ops_t *o = f.dev.ops;
    assert_ptr_equal(f.dev.map, &f.map);
    assert_null(o->poll); /* blocking form only */
    uint8_t b[64];
    assert_int_equal(o->read(&f, BASE + SIZE - 64, b, 64), FLASH_OK);
    assert_int_equal(b[63], 0xff);
    assert_int_equal(o->program_word(&f, BASE + 9 * SECTOR + 32, word_of(0x5a)), FLASH_OK);
    assert_int_equal(mem[9 * SECTOR + 32], 0x5a);
    assert_int_equal(f.programs, 1);
    /* a whole aligned word inside the flash, a read inside the flash */
    assert_int_equal(o->program_word(&f, BASE + 16, word_of(0)), FLASH_ERR_ADDRESS);
    assert_int_equal(o->program_word(&f, BASE + SIZE, word_of(0)), FLASH_ERR_ADDRESS);
    assert_int_equal(o->program_word(&f, BASE - 32, word_of(0)), FLASH_ERR_ADDRESS);
    assert_int_equal(o->read(&f, BASE + SIZE - 63, b, 64), FLASH_ERR_ADDRESS);
    assert_int_equal(o->erase_sector(&f, 16), FLASH_ERR_ADDRESS);
    /* bank 1 is sectors 8..15 */
    assert_int_equal(o->erase_bank(&f, 1), FLASH_OK);
    assert_int_equal(f.erases, 8);
    assert_int_equal(mem[9 * SECTOR + 32], 0xff);
}

static void test_protection_and_switches(void **state)
{
    (void)state;
    const flash_ops_t *o = f.dev.ops;
    f.wrp_mask = 1u << 3;
    assert_true(o->is_write_protected(&f, 3));
    assert_false(o->is_write_protected(&f, 4));
    assert_false(o->is_write_protected(&f, 40));
    assert_int_equal(o->erase_sector(&f, 3), FLASH_ERR_PROTECTED);
    assert_int_equal(o->program_word(&f, BASE + 3 * SECTOR, word_of(0)), FLASH_ERR_PROTECTED);
    assert_int_equal(o->erase_bank(&f, 0), FLASH_ERR_PROTECTED); /* stops at sector 3 */
    assert_int_equal(f.erases, 3);
    /* the power cut comes before the protection, the failures after it */
    f.power_cut = true;
    assert_int_equal(o->erase_sector(&f, 3), FLASH_ERR_POWER);
    assert_int_equal(o->program_word(&f, BASE + 3 * SECTOR, word_of(0)), FLASH_ERR_POWER);
    f.power_cut = false;
    f.fail_erase = f.fail_program = true;
    assert_int_equal(o->erase_sector(&f, 3), FLASH_ERR_PROTECTED);
    assert_int_equal(o->erase_sector(&f, 4), FLASH_ERR_ERASE);
    assert_int_equal(o->program_word(&f, BASE + 4 * SECTOR, word_of(0)), FLASH_ERR_PROGRAM);
    f.fail_erase = f.fail_program = false;
    f.corrupt_program = true;
    assert_int_equal(o->program_word(&f, BASE + 4 * SECTOR, word_of(0x10)), FLASH_OK);
    assert_int_equal(mem[4 * SECTOR], 0x11);
    assert_int_equal(mem[4 * SECTOR + 1], 0x10);
}

static void test_started_form(void **state)
{
    (void)state;
    ram_flash_set_polled(&f, 2);
    const flash_ops_t *o = f.dev.ops;
    assert_int_equal(o->erase_start(&f, 2), FLASH_OK);
    assert_int_equal(o->program_start(&f, BASE + 8 * SECTOR, word_of(1)), FLASH_OK);
    assert_int_equal(f.max_busy_banks, 2);
    uint8_t b[4];
    assert_int_equal(o->read(&f, BASE + 8 * SECTOR, b, 4), FLASH_OK);
    assert_int_equal(f.read_busy, 1);
    assert_int_equal(o->poll(&f, 0), FLASH_BUSY);
    assert_int_equal(o->poll(&f, 0), FLASH_BUSY);
    assert_int_equal(o->poll(&f, 0), FLASH_OK);
    assert_int_equal(o->poll(&f, 0), FLASH_OK); /* idle */
    assert_int_equal(o->program_start(&f, BASE + 8 * SECTOR + 32, word_of(1)), FLASH_OK);
    assert_int_equal(f.started_on_busy, 1); /* bank 1 was still busy */
    assert_int_equal(o->poll(&f, 2), FLASH_ERR_ADDRESS);
    /* a failed operation reports its status at its last poll */
    f.wrp_mask = 1u << 5;
    assert_int_equal(o->erase_start(&f, 5), FLASH_OK);
    assert_int_equal(o->poll(&f, 0), FLASH_BUSY);
    assert_int_equal(o->poll(&f, 0), FLASH_BUSY);
    assert_int_equal(o->poll(&f, 0), FLASH_ERR_PROTECTED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_program_read_erase, setup),
        cmocka_unit_test_setup(test_protection_and_switches, setup),
        cmocka_unit_test_setup(test_started_form, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
