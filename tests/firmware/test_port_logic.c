/* Host tests of the STM32H743 port's pure logic: the app vector check the
 * bootloader runs at reset, and the FLASH_SR decoding of the flash driver. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "app_check.h"
#include "flash_sr.h"
#include "regs/flash_ctl.h"

static const h7_app_region_t *R = &h7_app_region_h743;

static void app_valid_vectors_accepted(void **state)
{
    (void)state;
    assert_true(h7_app_vectors_plausible(R, 0x20020000u, 0x08020199u)); /* top of DTCM */
    assert_true(h7_app_vectors_plausible(R, 0x24080000u, 0x081FFF01u)); /* top of AXI SRAM */
    assert_true(h7_app_vectors_plausible(R, 0x20001000u, 0x08020041u));
}

static void app_erased_flash_refused(void **state)
{
    (void)state;
    assert_false(h7_app_vectors_plausible(R, 0xFFFFFFFFu, 0xFFFFFFFFu));
    assert_false(h7_app_vectors_plausible(R, 0x00000000u, 0x00000000u));
}

static void app_bad_stack_refused(void **state)
{
    (void)state;
    assert_false(h7_app_vectors_plausible(R, 0x20020004u, 0x08020199u)); /* past DTCM */
    assert_false(h7_app_vectors_plausible(R, 0x20000000u, 0x08020199u)); /* empty stack */
    assert_false(h7_app_vectors_plausible(R, 0x20001002u, 0x08020199u)); /* unaligned */
    assert_false(h7_app_vectors_plausible(R, 0x30000000u, 0x08020199u)); /* D2 SRAM */
}

static void app_bad_reset_refused(void **state)
{
    (void)state;
    assert_false(h7_app_vectors_plausible(R, 0x20020000u, 0x08020198u)); /* ARM state */
    assert_false(h7_app_vectors_plausible(R, 0x20020000u, 0x08000101u)); /* bootloader */
    assert_false(h7_app_vectors_plausible(R, 0x20020000u, 0x08020001u)); /* in the vectors */
    assert_false(h7_app_vectors_plausible(R, 0x20020000u, 0x08200001u)); /* past flash */
    assert_false(h7_app_vectors_plausible(R, 0x20020000u, 0x1FF09801u)); /* ROM */
}

static void sr_clean_is_ok(void **state)
{
    (void)state;
    assert_int_equal(h7_flash_decode_sr(0, false), FLASH_OK);
    assert_int_equal(h7_flash_decode_sr(FLASH_SR_EOP, false), FLASH_OK);
    assert_int_equal(h7_flash_decode_sr(FLASH_SR_EOP | FLASH_SR_CRCEND, true), FLASH_OK);
    /* A corrected single ECC error leaves the data right. */
    assert_int_equal(h7_flash_decode_sr(FLASH_SR_SNECCERR, false), FLASH_OK);
}

static void sr_each_error_flag(void **state)
{
    (void)state;
    struct {
        uint32_t sr;
        flash_status_t prog, erase;
    } cases[] = {
        {FLASH_SR_WRPERR, FLASH_ERR_PROTECTED, FLASH_ERR_PROTECTED},
        {FLASH_SR_RDPERR, FLASH_ERR_PROTECTED, FLASH_ERR_PROTECTED},
        {FLASH_SR_RDSERR, FLASH_ERR_PROTECTED, FLASH_ERR_PROTECTED},
        {FLASH_SR_DBECCERR, FLASH_ERR_ECC, FLASH_ERR_ECC},
        {FLASH_SR_PGSERR, FLASH_ERR_PROGRAM, FLASH_ERR_ERASE},
        {FLASH_SR_STRBERR, FLASH_ERR_PROGRAM, FLASH_ERR_ERASE},
        {FLASH_SR_INCERR, FLASH_ERR_PROGRAM, FLASH_ERR_ERASE},
        {FLASH_SR_OPERR, FLASH_ERR_HW, FLASH_ERR_HW},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(h7_flash_decode_sr(cases[i].sr, false), cases[i].prog);
        assert_int_equal(h7_flash_decode_sr(cases[i].sr, true), cases[i].erase);
        assert_int_equal(h7_flash_decode_sr(cases[i].sr | FLASH_SR_EOP, false), cases[i].prog);
    }
}

static void sr_precedence(void **state)
{
    (void)state;
    /* Protection is the cause when both a protection and a sequence flag show. */
    assert_int_equal(h7_flash_decode_sr(FLASH_SR_WRPERR | FLASH_SR_PGSERR, false),
                     FLASH_ERR_PROTECTED);
    assert_int_equal(h7_flash_decode_sr(FLASH_SR_DBECCERR | FLASH_SR_OPERR, false), FLASH_ERR_ECC);
}

static void sr_flag_positions(void **state)
{
    (void)state;
    /* RM0433 4.9.5 FLASH_SR1 bit positions, and CCR uses the same ones. */
    assert_int_equal(FLASH_SR_QW, 1u << 2);
    assert_int_equal(FLASH_SR_EOP, 1u << 16);
    assert_int_equal(FLASH_SR_WRPERR, 1u << 17);
    assert_int_equal(FLASH_SR_DBECCERR, 1u << 26);
    assert_int_equal(FLASH_SR_ALL_FLAGS & 0xFFFFu, 0u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(app_valid_vectors_accepted),
        cmocka_unit_test(app_erased_flash_refused),
        cmocka_unit_test(app_bad_stack_refused),
        cmocka_unit_test(app_bad_reset_refused),
        cmocka_unit_test(sr_clean_is_ok),
        cmocka_unit_test(sr_each_error_flag),
        cmocka_unit_test(sr_precedence),
        cmocka_unit_test(sr_flag_positions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
