/* The timing model: USB 2.0 full-speed control transfers and the clock's
 * flash lane. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sim_clock.h"
#include "usb_timing.h"

/* USB 2.0 5.11.3, computed in floating point independently of the model. */
static uint64_t formula_ns(unsigned bytes)
{
    double bits = floor(3.167 + 7.0 / 6.0 * 8.0 * bytes);
    return (uint64_t)floor(9107.0 + 83.54 * bits);
}

static void test_transaction_formula(void **state)
{
    (void)state;
    unsigned sizes[] = {0, 1, 6, 8, 12, 63, 64};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        uint64_t m = usb_fs_transaction_ns(sizes[i]), f = formula_ns(sizes[i]);
        assert_true(m + 1 >= f && m <= f + 1); /* integer vs float rounding */
    }
    /* the figures the header quotes */
    assert_in_range(usb_fs_transaction_ns(64), 59200, 59260);
    assert_in_range(usb_fs_transaction_ns(8), 15500, 15560);
}

static void test_small_transfer_in_one_frame(void **state)
{
    (void)state;
    /* GETSTATUS (6 bytes IN) submitted mid-frame starts at the next frame */
    uint64_t t = 1234567;
    uint64_t end = usb_fs_control_end_ns(t, 6);
    uint64_t want = 2000000 + USB_FS_SOF_NS + 3 * USB_FS_STAGE_DELAY_NS + usb_fs_transaction_ns(8) +
                    usb_fs_transaction_ns(6) + usb_fs_transaction_ns(0);
    assert_int_equal(end, want);
    /* no data stage */
    assert_int_equal(usb_fs_control_end_ns(0, 0), USB_FS_SOF_NS + 2 * USB_FS_STAGE_DELAY_NS +
                                                      usb_fs_transaction_ns(8) +
                                                      usb_fs_transaction_ns(0));
}

static void test_transfer_of_n_bytes(void **state)
{
    (void)state;
    /* N bytes cost the packets' bus time plus whatever the frame ends waste:
     * never less than the bare stages, less than one extra frame per ~15
     * packets. */
    unsigned ns[] = {64, 512, 1024, 2048, 4096};
    for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
        uint64_t end = usb_fs_control_end_ns(0, ns[i]);
        uint64_t bare = usb_fs_control_bus_ns(ns[i]);
        assert_true(end >= bare + USB_FS_SOF_NS);
        uint64_t packets = ns[i] / 64 + 2;
        uint64_t frames = (packets + 14) / 15;
        assert_true(end <= bare + frames * (USB_FS_SOF_NS + 65000));
    }
    /* 2048 bytes: 34 transactions, 16 x 64 bytes fit in a frame: 3 frames */
    uint64_t e = usb_fs_control_end_ns(0, 2048);
    assert_true(e > 1000000 && e < 3000000);
    /* longer transfers never take less time */
    for (unsigned n = 0; n < 4096; n += 61) {
        assert_true(usb_fs_control_end_ns(0, n + 61) >= usb_fs_control_end_ns(0, n));
    }
    /* frame starts */
    assert_int_equal(usb_fs_frame_start_ns(0), 0);
    assert_int_equal(usb_fs_frame_start_ns(1), 1000000);
    assert_int_equal(usb_fs_frame_start_ns(1000000), 1000000);
}

static void test_clock_flash_lane(void **state)
{
    (void)state;
    sim_clock_t c;
    sim_clock_init(&c);
    sim_clock_advance(&c, 5); /* no lane: moves now */
    assert_int_equal(sim_clock_now_ns(&c), 5);
    sim_clock_set_flash_lane(&c, true);
    sim_clock_advance(&c, 100); /* flash work from now = 5 */
    assert_int_equal(sim_clock_now_ns(&c), 5);
    assert_int_equal(sim_clock_lane_end_ns(&c), 105);
    sim_clock_bus_advance(&c, 30); /* USB meanwhile */
    sim_clock_advance(&c, 10);     /* queued after the first job */
    assert_int_equal(sim_clock_lane_end_ns(&c), 115);
    assert_int_equal(sim_clock_total_ns(&c), 115);
    sim_clock_wait_until(&c, 200);
    sim_clock_advance(&c, 10); /* lane idle: starts at now */
    assert_int_equal(sim_clock_lane_end_ns(&c), 210);
    sim_clock_wait_until(&c, 100); /* never backwards */
    assert_int_equal(sim_clock_now_ns(&c), 200);
    assert_int_equal(c.bus_ns, 30);
    assert_int_equal(c.work_ns, 125);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_transaction_formula),
        cmocka_unit_test(test_small_transfer_in_one_frame),
        cmocka_unit_test(test_transfer_of_n_bytes),
        cmocka_unit_test(test_clock_flash_lane),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
