/* core/flash with the STM32H743 map (target/stm32h743): address helpers,
 * DfuSe layout, status names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "flash.h"
#include "h7_target.h"

static void test_h743_geometry(void **state)
{
    (void)state;
    const flash_map_t *m = flash_map_stm32h743();
    assert_int_equal(m->base, 0x08000000u);
    assert_int_equal(m->sector_size, 128u * 1024u);
    assert_int_equal(m->sector_count, 16);
    assert_int_equal(m->sectors_per_bank, 8);
    assert_int_equal(m->word_size, 32);
    assert_int_equal(flash_map_size(m), 2u * 1024u * 1024u);
    assert_true(flash_map_is_reserved(m, 0));
    for (unsigned s = 1; s < 16; s++) {
        assert_false(flash_map_is_reserved(m, s));
    }
    assert_false(flash_map_is_reserved(m, 16)); /* out of range is not reserved */
}

static void test_sector_of_and_addr(void **state)
{
    (void)state;
    const flash_map_t *m = flash_map_stm32h743();
    assert_int_equal(flash_map_sector_of(m, 0x08000000u), 0);
    assert_int_equal(flash_map_sector_of(m, 0x0801FFFFu), 0);
    assert_int_equal(flash_map_sector_of(m, 0x08020000u), 1);
    assert_int_equal(flash_map_sector_of(m, 0x08100000u), 8); /* bank 2 sector 0 */
    assert_int_equal(flash_map_sector_of(m, 0x081FFFFFu), 15);
    assert_int_equal(flash_map_sector_of(m, 0x08200000u), -1);
    assert_int_equal(flash_map_sector_of(m, 0x07FFFFFFu), -1);
    assert_int_equal(flash_map_sector_of(m, 0xFFFFFFFFu), -1);
    for (unsigned s = 0; s < 16; s++) {
        uint32_t a = flash_map_sector_addr(m, s);
        assert_int_equal(a, 0x08000000u + s * 0x20000u);
        assert_int_equal(flash_map_sector_of(m, a), (int)s);
    }
}

static void test_contains(void **state)
{
    (void)state;
    const flash_map_t *m = flash_map_stm32h743();
    assert_true(flash_map_contains(m, 0x08000000u, 0x200000u));
    assert_false(flash_map_contains(m, 0x08000000u, 0x200001u));
    assert_true(flash_map_contains(m, 0x081FFFE0u, 32));
    assert_false(flash_map_contains(m, 0x081FFFE1u, 32));
    assert_false(flash_map_contains(m, 0x07FFFFFFu, 2));
    assert_false(flash_map_contains(m, 0x08200000u, 0));
    assert_true(flash_map_contains(m, 0x08100000u, 0));
    assert_false(flash_map_contains(m, 0x08000000u, 0xFFFFFFFFu)); /* no wrap-around */
}

static void test_dfuse_layout_h743(void **state)
{
    (void)state;
    char buf[128];
    size_t n = flash_map_dfuse_layout(flash_map_stm32h743(), buf, sizeof buf);
    assert_string_equal(
        buf, "@Internal Flash  /0x081E0000/01*128Kg/0x08020000/14*128Kg/0x08000000/01*128Ka");
    assert_int_equal(n, strlen(buf));
}

static void test_dfuse_layout_runs(void **state)
{
    (void)state;
    /* Several runs of each attribute, a non-K size and another base. */
    flash_map_t m = {
        .name = "Test",
        .base = 0x0800C000u,
        .sector_size = 16u * 1024u,
        .sector_count = 6,
        .sectors_per_bank = 6,
        .word_size = 32,
        .reserved_mask = 0x0Bu, /* sectors 0,1,3 */
    };
    char buf[128];
    flash_map_dfuse_layout(&m, buf, sizeof buf);
    /* From the top down, the last sector alone. */
    assert_string_equal(buf, "@Test  /0x08020000/01*016Kg/0x0801C000/01*016Kg/0x08018000/01*016Ka"
                             "/0x08014000/01*016Kg/0x0800C000/02*016Ka");

    m.reserved_mask = 0;
    m.sector_size = 1024u * 1024u;
    m.sector_count = 2;
    flash_map_dfuse_layout(&m, buf, sizeof buf);
    assert_string_equal(buf, "@Test  /0x0810C000/01*001Mg/0x0800C000/01*001Mg");

    m.sector_size = 100;
    flash_map_dfuse_layout(&m, buf, sizeof buf);
    assert_string_equal(buf, "@Test  /0x0800C064/01*100 g/0x0800C000/01*100 g");
}

static void test_dfuse_layout_small_buffer(void **state)
{
    (void)state;
    const char *want =
        "@Internal Flash  /0x081E0000/01*128Kg/0x08020000/14*128Kg/0x08000000/01*128Ka";
    char buf[96];
    size_t need = strlen(want);
    memset(buf, 'x', sizeof buf);
    assert_int_equal(flash_map_dfuse_layout(flash_map_stm32h743(), buf, need), 0);
    assert_int_equal(buf[0], '\0');
    assert_int_equal(flash_map_dfuse_layout(flash_map_stm32h743(), buf, need + 1), need);
    assert_string_equal(buf, want);
    assert_int_equal(flash_map_dfuse_layout(flash_map_stm32h743(), buf, 0), 0);
}

static void test_status_names(void **state)
{
    (void)state;
    const flash_status_t all[] = {FLASH_OK,          FLASH_ERR_ADDRESS, FLASH_ERR_PROTECTED,
                                  FLASH_ERR_PROGRAM, FLASH_ERR_ERASE,   FLASH_ERR_ECC,
                                  FLASH_ERR_HW,      FLASH_ERR_POWER};
    const size_t n = sizeof all / sizeof all[0];
    for (size_t i = 0; i < n; i++) {
        const char *a = flash_status_name(all[i]);
        assert_non_null(a);
        assert_string_not_equal(a, flash_status_name((flash_status_t)99));
        for (size_t j = i + 1; j < n; j++) {
            assert_string_not_equal(a, flash_status_name(all[j]));
        }
    }
    assert_non_null(strstr(flash_status_name(FLASH_ERR_ECC), "DBECCERR"));
    assert_non_null(strstr(flash_status_name(FLASH_ERR_PROTECTED), "WRPERR"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_h743_geometry),     cmocka_unit_test(test_sector_of_and_addr),
        cmocka_unit_test(test_contains),          cmocka_unit_test(test_dfuse_layout_h743),
        cmocka_unit_test(test_dfuse_layout_runs), cmocka_unit_test(test_dfuse_layout_small_buffer),
        cmocka_unit_test(test_status_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
