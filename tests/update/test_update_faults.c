/*
 * The reported field failure, replayed at many points of an update on the virtual
 * board: power cut at a flash operation (after the erase, mid-body, inside
 * the record write) and the cable pulled mid-transfer. Every time: h7dfu
 * fails with words, the board comes back on USB (DFU mode, or the new app
 * only when the new image is complete), never as an app with a wrong version,
 * and the same `h7dfu update` run again completes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "update_util.h"

#define HAS(buf, s) assert_non_null(strstr((buf), (s)))

/* Operations and USB requests of a clean v1 -> v2 update. */
static long s_ops, s_reqs;

/* The flash log of the clean update: its last two operations program the
 * two flash words of one record in the record area (sector 15: record 1,
 * after the factory-installed v1's record 0), and nothing before them
 * touches the area (no erase of sector 15): the record is written last. */
static bool record_written_last(long ops)
{
    FILE *f = fopen(ut_path("ops.log"), "r");
    if (!f) {
        return false;
    }
    char line[128], op[32];
    unsigned long long seq;
    unsigned addr;
    long n = 0;
    bool ok = true;
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "%llu %31s %x", &seq, op, &addr) != 3) {
            ok = false;
            break;
        }
        n++;
        bool area = addr >= 0x081E0000u;
        bool last_two = n >= ops - 1;
        if (area != last_two || (last_two && (strcmp(op, "program") != 0 ||
                                              addr != (n == ops ? 0x081E0060u : 0x081E0040u)))) {
            ok = false;
        }
    }
    fclose(f);
    if (!ok || n != ops) {
        print_error("the update's flash operations do not end with the record's two words\n");
    }
    return ok && n == ops;
}

static int setup(void **state)
{
    (void)state;
    if (!ut_setup()) {
        return -1;
    }
    ut_fresh_board_v1();
    char opts[600];
    snprintf(opts, sizeof opts, "-v --flash-log '%s'", ut_path("ops.log"));
    if (ut_board(opts, "$H7DFU update $D/v2.hex") != 0) {
        return -1;
    }
    s_ops = ut_err_number_before("operation(s)");
    s_reqs = ut_err_number_before("request(s)");
    return s_ops > 10 && s_reqs > 10 && record_written_last(s_ops) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    ut_teardown();
    return 0;
}

/* After the failed run: wait for the board, then list what is on the bus. */
#define FAIL_THEN_LIST "$H7DFU update $D/v2.hex; echo rc=$?; sleep 0.6; $H7DFU list"

/* What the board must be after the fault: back in DFU mode, or running the
 * complete new image (only once the record, written last, is complete). */
typedef enum { AFTER_DFU, AFTER_NEW_APP } after_t;

static void fails_then_recovers_as(const char *sim_opts, const char *event, const char *why,
                                   after_t want)
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
    if (want == AFTER_NEW_APP) {
        /* back as the application: only with the complete new image */
        HAS(ut_out, "0483:5750");
        assert_true(ut_flash_holds("v2.hex", 2, 0, 0));
        assert_null(strstr(ut_out, "0483:df11"));
    } else {
        HAS(ut_out, "0483:df11");
        HAS(ut_out, UT_SERIAL);
        assert_null(strstr(ut_out, "0483:5750"));
        assert_true(ut_flash_slot_invalid());
    }
    /* the same command again finishes the job; on a board that already runs
     * v2 there is none left: up to date, nothing written */
    rc = ut_board("", "$H7DFU update $D/v2.hex");
    assert_int_equal(rc, 0);
    HAS(ut_err, want == AFTER_NEW_APP ? "already up to date: the application runs version 2.0.0"
                                      : "is back, version 2.0.0");
    assert_true(ut_flash_holds("v2.hex", 2, 0, 0));
}

static void fails_then_recovers(const char *sim_opts, const char *event, const char *why)
{
    fails_then_recovers_as(sim_opts, event, why, AFTER_DFU);
}

/* Every cut before the record's last word is complete leaves the slot
 * invalid: the board comes back in DFU mode. Only a cut after the last
 * operation (the record's second word) may find the new image running. */
static void cut_at(long op, const char *phase)
{
    char opts[64];
    snprintf(opts, sizeof(opts), "--power-cut %ld:%s", op, phase);
    print_message("  power cut at flash operation %ld/%ld, %s\n", op, s_ops, phase);
    after_t want = (op == s_ops && strcmp(phase, "after") == 0) ? AFTER_NEW_APP : AFTER_DFU;
    fails_then_recovers_as(opts, "POWER CUT at flash operation", "the device is gone", want);
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
    cut_at(s_ops - 2, "after"); /* body complete, record not started */
}

/* The record's two flash words are the last two operations (commit last). */
static void test_cut_in_header_write(void **state)
{
    (void)state;
    cut_at(s_ops - 1, "during");
    cut_at(s_ops - 1, "after");
    cut_at(s_ops, "during");
    cut_at(s_ops, "after"); /* record complete: the board may start v2 */
}

/* Count the flash log's sector erases: in the slot, and of sector 15. */
static void count_erases(unsigned *slot, unsigned *area, uint32_t *first)
{
    FILE *f = fopen(ut_path("ops1.log"), "r");
    assert_non_null(f);
    char line[128], op[32];
    unsigned long long seq;
    unsigned addr;
    *slot = *area = 0;
    *first = 0;
    while (fgets(line, sizeof line, f)) {
        assert_int_equal(sscanf(line, "%llu %31s %x", &seq, op, &addr), 3);
        if (strcmp(op, "erase-sector") != 0) {
            continue;
        }
        if (addr >= 0x081E0000u) {
            (*area)++;
        } else {
            if (*slot == 0) {
                *first = addr;
            }
            (*slot)++;
        }
    }
    fclose(f);
}

/* An update whose body differs from the installed one in one sector erases
 * exactly that sector, and not the record area (it only appends a record). */
static void test_one_sector_update_erases_one_sector(void **state)
{
    (void)state;
    unlink(ut_path("flash.h7"));
    char opts[600];
    snprintf(opts, sizeof(opts), "--install '%s'", ut_path("big4.hex"));
    assert_int_equal(ut_board(opts, "true"), 0);
    snprintf(opts, sizeof opts, "--flash-log '%s'", ut_path("ops1.log"));
    assert_int_equal(ut_board(opts, "$H7DFU update $D/big5.hex"), 0);
    assert_true(ut_flash_holds("big5.hex", 5, 0, 0));
    unsigned slot, area;
    uint32_t first;
    count_erases(&slot, &area, &first);
    assert_int_equal(slot, 1);
    assert_int_equal(first, 0x08040000u); /* sector 2: the one that differs */
    assert_int_equal(area, 0);
    /* Back to 4.0.0: again one sector, and the record appended (record 2). */
    assert_int_equal(ut_board(opts, "$H7DFU update $D/big4.hex"), 0);
    assert_true(ut_flash_holds("big4.hex", 4, 0, 0));
    count_erases(&slot, &area, &first);
    assert_int_equal(slot, 1);
    assert_int_equal(area, 0);
    /* The same image again: nothing erased, nothing written. */
    assert_int_equal(ut_board(opts, "$H7DFU update $D/big4.hex"), 0);
    count_erases(&slot, &area, &first);
    assert_int_equal(slot + area, 0);
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
        cmocka_unit_test(test_one_sector_update_erases_one_sector),
        cmocka_unit_test(test_unplug_mid_write),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
