/*
 * The seed's failure, replayed at many points of an update on the virtual
 * board: power cut at a flash operation (after the erase, mid-body, inside
 * the header write) and the cable pulled mid-transfer. Every time: h7dfu
 * fails with words, the board comes back on USB (DFU mode, or the new app
 * only when the new image is complete), never as an app with a wrong version,
 * and the same `h7dfu update` run again completes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "update_util.h"

#define HAS(buf, s) assert_non_null(strstr((buf), (s)))

/* Operations and USB requests of a clean v1 -> v2 update. */
static long s_ops, s_reqs;

static int setup(void **state)
{
    (void)state;
    if (!ut_setup())
        return -1;
    ut_fresh_board_v1();
    if (ut_board("-v", "$H7DFU update $D/v2.hex") != 0)
        return -1;
    s_ops = ut_err_number_before("operation(s)");
    s_reqs = ut_err_number_before("request(s)");
    return s_ops > 10 && s_reqs > 10 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    ut_teardown();
    return 0;
}

/* After the failed run: wait for the board, then list what is on the bus. */
#define FAIL_THEN_LIST "$H7DFU update $D/v2.hex; echo rc=$?; sleep 0.6; $H7DFU list"

static void fails_then_recovers(const char *sim_opts, const char *event, const char *why)
{
    ut_fresh_board_v1();
    int rc = ut_board(sim_opts, FAIL_THEN_LIST);
    assert_int_equal(rc, 0); /* the list found a device: never invisible */
    HAS(ut_err, event);
    assert_null(strstr(ut_out, "rc=0"));
    /* h7dfu said what happened and what to do */
    HAS(ut_err, "h7dfu: error: ");
    HAS(ut_err, "What to do");
    HAS(ut_err, why);
    if (strstr(ut_out, "0483:5750")) {
        /* back as the application: only with the complete new image */
        assert_true(ut_flash_holds("v2.hex", 2, 0, 0));
        assert_null(strstr(ut_out, "0483:df11"));
    } else {
        HAS(ut_out, "0483:df11");
        HAS(ut_out, UT_SERIAL);
        assert_true(ut_flash_slot_invalid());
    }
    /* the same command again finishes the job */
    rc = ut_board("", "$H7DFU update $D/v2.hex");
    assert_int_equal(rc, 0);
    HAS(ut_err, "is back, version 2.0.0");
    assert_true(ut_flash_holds("v2.hex", 2, 0, 0));
}

static void cut_at(long op, const char *phase)
{
    char opts[64];
    snprintf(opts, sizeof(opts), "--power-cut %ld:%s", op, phase);
    print_message("  power cut at flash operation %ld/%ld, %s\n", op, s_ops, phase);
    fails_then_recovers(opts, "POWER CUT at flash operation", "the device is gone");
}

/* The seed: the app's first sector erased, then nothing. */
static void test_cut_after_erase(void **state)
{
    (void)state;
    cut_at(1, "after");
    cut_at(1, "during");
}

static void test_cut_mid_body(void **state)
{
    (void)state;
    cut_at(2, "before");
    cut_at(s_ops / 2, "during");
    cut_at(s_ops - 2, "after"); /* body complete, header not started */
}

/* The header's two flash words are the last two operations (commit last). */
static void test_cut_in_header_write(void **state)
{
    (void)state;
    cut_at(s_ops - 1, "during");
    cut_at(s_ops - 1, "after");
    cut_at(s_ops, "during");
    cut_at(s_ops, "after"); /* header complete: the board may start v2 */
}

static void test_unplug_mid_write(void **state)
{
    (void)state;
    char opts[96];
    snprintf(opts, sizeof(opts), "--unplug-after-requests %ld --unplug-ms 300", s_reqs / 2);
    fails_then_recovers(opts, "UNPLUGGED after", "the device is gone");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cut_after_erase),
        cmocka_unit_test(test_cut_mid_body),
        cmocka_unit_test(test_cut_in_header_write),
        cmocka_unit_test(test_unplug_mid_write),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
