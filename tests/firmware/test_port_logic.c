/* Host tests of the STM32H743 port's pure logic: its memory map against
 * core/boot and core/app, and the FLASH_SR decoding of the flash driver. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "flash_sr.h"
#include "h7_app.h"
#include "h7_port.h"
#include "regs/flash_ctl.h"

/* The port's memory map and core/boot's / core/app's agree: the bootloader
 * validates the slot the app is linked for and jumps to the ROM address the
 * application library documents. */
static void port_map_matches_core(void **state)
{
    (void)state;
    assert_int_equal(H7_APP_ADDR, BOOT_APP_SLOT_ADDR);
    assert_int_equal(H7_ROM_BOOT_ADDR, H7_APP_ROM_BOOTLOADER_ADDR);
    assert_int_equal(H7_BOOTLOADER_ADDR, flash_map_stm32h743()->base);
    const flash_map_t *m = flash_map_stm32h743();
    /* the bootloader's sector is reserved, the slot is not */
    assert_true(flash_map_is_reserved(m, (unsigned)flash_map_sector_of(m, H7_BOOTLOADER_ADDR)));
    assert_false(flash_map_is_reserved(m, (unsigned)flash_map_sector_of(m, H7_APP_ADDR)));
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
        cmocka_unit_test(port_map_matches_core), cmocka_unit_test(sr_clean_is_ok),
        cmocka_unit_test(sr_each_error_flag),    cmocka_unit_test(sr_precedence),
        cmocka_unit_test(sr_flag_positions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
