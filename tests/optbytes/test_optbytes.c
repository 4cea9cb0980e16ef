/* Option-byte decoding and editing (host/optbytes) on register images. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "h7_optbytes.h"
#include "h7_util.h"

/* A window as an H743 fresh from the factory shows it (RDP level 0, BOOT0=0
 * boots flash, BOOT0=1 the system memory, nothing protected), bank 2 included. */
static void factory(uint8_t *w, size_t len)
{
    memset(w, 0, len);
    h7_put_le32(w + 0x00, 0x1BC6AAF0u); /* OPTSR_CUR */
    h7_put_le32(w + 0x04, 0x1BC6AAF0u); /* OPTSR_PRG */
    h7_put_le32(w + 0x0C, 0x000000FFu); /* PRAR_CUR1: start 0xFF > end 0: no area */
    h7_put_le32(w + 0x14, 0x000000FFu); /* SCAR_CUR1 */
    h7_put_le32(w + 0x1C, 0x000000FFu); /* WPSN_CUR1R: all unprotected */
    h7_put_le32(w + 0x20, 0x000000FFu); /* WPSN_PRG1R */
    h7_put_le32(w + 0x24, 0x1FF00800u); /* BOOT_CURR */
    h7_put_le32(w + 0x28, 0x1FF00800u); /* BOOT_PRGR */
    if (len >= 0x120) {
        h7_put_le32(w + 0x10C, 0x000000FFu);
        h7_put_le32(w + 0x114, 0x000000FFu);
        h7_put_le32(w + 0x11C, 0x000000FFu);
    }
}

static void test_decode_factory(void **state)
{
    (void)state;
    uint8_t w[308];
    factory(w, sizeof(w));
    h7_optbytes_t o;
    assert_true(h7_ob_decode(w, sizeof(w), &o));
    assert_int_equal(o.rdp, 0xAA);
    assert_int_equal(o.rdp_level, 0);
    assert_int_equal(o.boot_add0, 0x08000000u);
    assert_int_equal(o.boot_add1, 0x1FF00000u);
    assert_int_equal(o.wrp_bank1, 0);
    assert_true(o.has_bank2);
    assert_int_equal(o.wrp_bank2, 0);
    assert_false(o.pcrop1.active);
    assert_false(o.iwdg1_hw);
    assert_false(o.swap_bank);
    char text[2048];
    h7_ob_describe(&o, text, sizeof(text));
    assert_non_null(strstr(text, "level 0"));
    assert_non_null(strstr(text, "0x08000000"));
    assert_non_null(strstr(text, "bank 1 sectors none"));
}

static void test_decode_protection(void **state)
{
    (void)state;
    uint8_t w[128];
    factory(w, sizeof(w));
    h7_put_le32(w + 0x00, 0x1BC6BBF0u | 1u << 31); /* RDP 0xBB: level 1; banks swapped */
    h7_put_le32(w + 0x1C, 0xFFu & ~0x05u);         /* sectors 0 and 2 protected */
    h7_put_le32(w + 0x0C, 0x80100000u | 0x000u);   /* PCROP 0x08000000..0x081000FF, DMEP */
    h7_optbytes_t o;
    assert_true(h7_ob_decode(w, sizeof(w), &o));
    assert_int_equal(o.rdp_level, 1);
    assert_true(o.swap_bank);
    assert_int_equal(o.wrp_bank1, 0x05);
    assert_false(o.has_bank2);
    assert_true(o.pcrop1.active);
    assert_int_equal(o.pcrop1.start, 0x08000000u);
    assert_int_equal(o.pcrop1.end, 0x080010FFu);
    assert_true(o.pcrop1.erase_on_regression);
    char text[2048];
    h7_ob_describe(&o, text, sizeof(text));
    assert_non_null(strstr(text, "level 1"));
    assert_non_null(strstr(text, "sectors 0,2"));
    h7_put_le32(w + 0x00, 0x1BC6CCF0u);
    assert_true(h7_ob_decode(w, sizeof(w), &o));
    assert_int_equal(o.rdp_level, 2);
    assert_false(h7_ob_decode(w, H7_OB_MIN - 1, &o));
}

static void test_set_fields(void **state)
{
    (void)state;
    uint8_t w[128];
    char err[256];
    factory(w, sizeof(w));
    assert_true(h7_ob_set(w, sizeof(w), "boot0=0x08020000", err, sizeof(err)));
    assert_int_equal(h7_get_le32(w + 0x28), 0x1FF00802u);
    assert_int_equal(h7_get_le32(w + 0x24), 0x1FF00800u); /* the current copy is untouched */
    assert_true(h7_ob_set(w, sizeof(w), "boot1=0x1FF00000", err, sizeof(err)));
    assert_int_equal(h7_get_le32(w + 0x28), 0x1FF00802u);
    assert_true(h7_ob_set(w, sizeof(w), "wrp=0x03", err, sizeof(err)));
    assert_int_equal(h7_get_le32(w + 0x20) & 0xFF, 0xFC);
    /* FLASH_WPSN_PRG1R: WRPSN bit 0 cleared = sector 0 protected (RM0433 4.9.14) */
    assert_true(h7_ob_set(w, sizeof(w), "wrpsn=0x01", err, sizeof(err)));
    assert_int_equal(h7_get_le32(w + 0x20) & 0xFF, 0xFE);
    assert_true(h7_ob_set(w, sizeof(w), "rdp=1", err, sizeof(err)));
    assert_int_equal((h7_get_le32(w + 0x04) >> 8) & 0xFF, 0xBB);
    assert_true(h7_ob_set(w, sizeof(w), "bor=2", err, sizeof(err)));
    assert_int_equal((h7_get_le32(w + 0x04) >> 2) & 3, 2);
    assert_int_equal(h7_get_le32(w + 0x00), 0x1BC6AAF0u);
}

static void test_set_refusals(void **state)
{
    (void)state;
    uint8_t w[128], before[128];
    char err[256];
    factory(w, sizeof(w));
    memcpy(before, w, sizeof(w));
    assert_false(h7_ob_set(w, sizeof(w), "rdp=2", err, sizeof(err)));
    assert_non_null(strstr(err, "permanent"));
    assert_false(h7_ob_set(w, sizeof(w), "boot0=0x08020004", err, sizeof(err)));
    assert_false(h7_ob_set(w, sizeof(w), "wrp=0x100", err, sizeof(err)));
    assert_false(h7_ob_set(w, sizeof(w), "bor=4", err, sizeof(err)));
    assert_false(h7_ob_set(w, sizeof(w), "nonsense=1", err, sizeof(err)));
    assert_non_null(strstr(err, "unknown option"));
    assert_false(h7_ob_set(w, sizeof(w), "boot0", err, sizeof(err)));
    assert_memory_equal(w, before, sizeof(w));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_factory),
        cmocka_unit_test(test_decode_protection),
        cmocka_unit_test(test_set_fields),
        cmocka_unit_test(test_set_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
