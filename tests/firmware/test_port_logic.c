/* Host tests of the STM32H743 port's pure logic: its memory map against
 * core/boot and core/app, and the FLASH_SR decoding of the flash driver. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "flash_sr.h"
#include "h7_app.h"
#include "h743_port.h"
#include "regs/crs.h"
#include "regs/flash_ctl.h"
#include "regs/otg.h"
#include "regs/pwr.h"
#include "regs/rcc.h"

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

/* The CRS must sync on USB2_OTG_FS's SOF: SYNCSRC 00 on rev Y (and the
 * earlier rev Z), 11 from rev V on; never 10 (USB1_OTG_HS, the reset value).
 * Source: ST's STM32H7 HAL RCC_CRS_SYNC_SOURCE_* and HAL_RCCEx_CRSConfig. */
static void crs_syncsrc_per_revision(void **state)
{
    (void)state;
    assert_int_equal(h7_crs_syncsrc_usb2(0x1001u), 0u); /* rev Z */
    assert_int_equal(h7_crs_syncsrc_usb2(H7_REV_ID_Y), 0u);
    assert_int_equal(h7_crs_syncsrc_usb2(H7_REV_ID_V), 3u);
    assert_int_equal(h7_crs_syncsrc_usb2(0x2005u), 3u); /* any later revision */
    assert_int_not_equal(h7_crs_syncsrc_usb2(H7_REV_ID_V), CRS_SYNCSRC_USB1_HS_SOF);
    assert_int_equal(CRS_CFGR_SYNCSRC(CRS_SYNCSRC_USB2_FS_SOF), 3u << 28);
}

/* The register facts enumeration depends on, as audited against ST's CMSIS
 * device header: a regression guard for anyone editing regs/. */
static void usb_enumeration_facts(void **state)
{
    (void)state;
    assert_int_equal(RCC_AHB1ENR_USB2OTGFSEN, 1u << 27);
    assert_int_equal(RCC_D2CCIP2R_USBSEL_HSI48, 3u << 20);
    assert_int_equal(RCC_CR_HSI48ON | RCC_CR_HSI48RDY, (1u << 12) | (1u << 13));
    assert_int_equal(RCC_APB1HENR_CRSEN, 1u << 1);
    assert_int_equal(PWR_CR3_USB33DEN | PWR_CR3_USB33RDY, (1u << 24) | (1u << 26));
    assert_int_equal(PWR_D3CR_VOS_SCALE1, 3u << 14);
    assert_int_equal(OTG_DCFG_DSPD_FS, 3u);
    assert_int_equal(OTG_GCCFG_PWRDWN | OTG_GCCFG_VBDEN, (1u << 16) | (1u << 21));
    assert_int_equal(OTG_TSIZ_STUPCNT(3u), 3u << 29);
    assert_int_equal(H7_OTG_FS_BASE, 0x40080000u);
    assert_int_equal(FLASH_KEY1, 0x45670123u);
    assert_int_equal(FLASH_KEY2, 0xCDEF89ABu);
    assert_int_equal(FLASH_CR_SNB(7u), 7u << 8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(port_map_matches_core), cmocka_unit_test(sr_clean_is_ok),
        cmocka_unit_test(sr_each_error_flag),    cmocka_unit_test(sr_precedence),
        cmocka_unit_test(sr_flag_positions),     cmocka_unit_test(crs_syncsrc_per_revision),
        cmocka_unit_test(usb_enumeration_facts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
