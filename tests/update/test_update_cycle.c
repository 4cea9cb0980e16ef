/*
 * `h7dfu update` end to end through libusb on the virtual board: the
 * whole cycle (HID app v1 -> update -> HID app v2 back), the two ways into
 * the bootloader (DFU_DETACH, the HID "enter update" report), and an
 * unstamped image refused before the application is touched.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "update_util.h"

#define HAS(buf, s) assert_non_null(strstr((buf), (s)))

static int setup(void **state)
{
    (void)state;
    return ut_setup() ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    ut_teardown();
    return 0;
}

/* v1 -> v2 with h7dfu update (DETACH path): version reported by h7dfu and by
 * the app itself over HID, flash holds exactly v2, the board went
 * app -> reset into DFU -> reset into the app. */
static void test_cycle_v1_to_v2(void **state)
{
    (void)state;
    ut_fresh_board_v1();
    assert_true(ut_flash_holds("v1.hex", 1, 0, 0));
    int rc = ut_board("", "$HELPER version " UT_SERIAL " && $H7DFU list && "
                          "$H7DFU update $D/v2.hex && $HELPER version " UT_SERIAL);
    assert_int_equal(rc, 0);
    HAS(ut_out, "version 1.0.0 \"h7dfu demo 1.0.0\"");
    HAS(ut_out, "0483:5750");
    HAS(ut_err, "runs version 1.0.0");
    HAS(ut_err, "is back, version 2.0.0");
    HAS(ut_out, "version 2.0.0 \"h7dfu demo 2.0.0\"");
    HAS(ut_err, "system reset with request stay in DFU");
    HAS(ut_err, "system reset with request start application");
    HAS(ut_err, "slot: valid image v2.0.0 -> start the application");
    assert_true(ut_flash_holds("v2.hex", 2, 0, 0));
    assert_false(ut_flash_holds("v1.hex", 1, 0, 0));
}

/* An image without a header is refused before the app is touched: exit 3,
 * no reset, still app v1 with v1 in flash. */
static void test_unstamped_refused(void **state)
{
    (void)state;
    ut_fresh_board_v1();
    int rc = ut_board("-v", "$H7DFU update $D/raw.hex; echo rc=$?; $HELPER version " UT_SERIAL);
    assert_int_equal(rc, 0);
    HAS(ut_out, "rc=3");
    HAS(ut_err, "not an image the h7dfu bootloader would start");
    HAS(ut_err, "the application was not touched");
    HAS(ut_out, "version 1.0.0");
    assert_int_equal(ut_err_number_before("system reset(s)"), 0);
    assert_true(ut_flash_holds("v1.hex", 1, 0, 0));
}

/* DFU 1.1 path by a plain libusb program: DFU_DETACH then a port reset; the
 * bootloader (same serial) appears; h7dfu update then finishes from DFU mode. */
static void test_detach_then_update(void **state)
{
    (void)state;
    ut_fresh_board_v1();
    int rc = ut_board("", "$HELPER detach-reset " UT_SERIAL " && sleep 0.3 && "
                          "$H7DFU list > $D/list.txt && $H7DFU update $D/v2.hex");
    assert_int_equal(rc, 0);
    HAS(ut_out, "reset: ");
    char list[4096] = "";
    FILE *f = fopen(ut_path("list.txt"), "r");
    assert_non_null(f);
    list[fread(list, 1, sizeof(list) - 1, f)] = '\0';
    fclose(f);
    HAS(list, "0483:df11");
    HAS(list, UT_SERIAL);
    assert_null(strstr(list, "0483:5750"));
    HAS(ut_err, "already in DFU mode");
    HAS(ut_err, "is back, version 2.0.0");
    assert_true(ut_flash_holds("v2.hex", 2, 0, 0));
}

/* HID path: the "enter update" report (what the product's host tool sends) puts the
 * board into DFU mode; update completes; the HID app reports v3. */
static void test_hid_enter_update(void **state)
{
    (void)state;
    ut_fresh_board_v1();
    int rc = ut_board("", "$HELPER enter-update " UT_SERIAL " && sleep 0.3 && $H7DFU list && "
                          "$H7DFU update $D/v3.hex && $HELPER version " UT_SERIAL);
    assert_int_equal(rc, 0);
    HAS(ut_out, "0483:df11");
    HAS(ut_err, "boot: request stay in DFU, slot: valid image -> stay in DFU mode");
    HAS(ut_err, "is back, version 3.0.0");
    HAS(ut_out, "version 3.0.0 \"h7dfu demo 3.0.0\"");
    assert_true(ut_flash_holds("v3.hex", 3, 0, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cycle_v1_to_v2),
        cmocka_unit_test(test_unstamped_refused),
        cmocka_unit_test(test_detach_then_update),
        cmocka_unit_test(test_hid_enter_update),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
