/* core/dfu run-time interface (DFU 1.1 A.1): appIDLE, appDETACH, DETACH. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dfu.h"
#include "dfu_runtime.h"

#define OUT (USB_DIR_OUT | USB_TYPE_CLASS | USB_RECIP_INTERFACE)
#define IN  (USB_DIR_IN | USB_TYPE_CLASS | USB_RECIP_INTERFACE)

typedef struct cb {
    unsigned detaches, resets;
    uint16_t timeout;
} cb_t;

static void on_detach(void *user, uint16_t ms)
{
    cb_t *c = user;
    c->detaches++;
    c->timeout = ms;
}

static void on_reset(void *user)
{
    ((cb_t *)user)->resets++;
}

static void init(dfu_runtime_t *rt, cb_t *c)
{
    memset(c, 0, sizeof(*c));
    dfu_runtime_config_t cfg = {.itf_num = 1,
                                .attributes = DFU_ATTR_CAN_DNLOAD | DFU_ATTR_WILL_DETACH,
                                .detach_timeout_ms = 500,
                                .detach = on_detach,
                                .detach_reset = on_reset,
                                .user = c};
    dfu_runtime_init(rt, &cfg);
}

static int ctl(dfu_runtime_t *rt, uint8_t type, uint8_t req, uint16_t val, uint8_t *d, uint16_t len)
{
    usb_setup_t s = {
        .bmRequestType = type, .bRequest = req, .wValue = val, .wIndex = 1, .wLength = len};
    return dfu_runtime_control(rt, &s, d, len);
}

static void test_detach_calls_back(void **state)
{
    (void)state;
    dfu_runtime_t rt;
    cb_t c;
    init(&rt, &c);
    uint8_t b[6];
    assert_int_equal(ctl(&rt, IN, DFU_REQ_GETSTATUS, 0, b, 6), 6);
    assert_int_equal(b[4], DFU_STATE_APP_IDLE);
    assert_int_equal(ctl(&rt, OUT, DFU_REQ_DETACH, 1000, NULL, 0), 0);
    assert_int_equal(c.detaches, 1);
    assert_int_equal(c.timeout, 500); /* clamped to wDetachTimeOut */
    assert_int_equal(ctl(&rt, IN, DFU_REQ_GETSTATE, 0, b, 1), 1);
    assert_int_equal(b[0], DFU_STATE_APP_DETACH);
    /* a second DETACH in appDETACH is not in the table: stall, back to appIDLE */
    assert_int_equal(ctl(&rt, OUT, DFU_REQ_DETACH, 100, NULL, 0), USBD_STALL);
    assert_int_equal(rt.state, DFU_STATE_APP_IDLE);
    assert_int_equal(c.detaches, 1);
}

static void test_reset_in_detach_enters_dfu(void **state)
{
    (void)state;
    dfu_runtime_t rt;
    cb_t c;
    init(&rt, &c);
    dfu_runtime_reset(&rt); /* appIDLE: a reset is just a reset */
    assert_int_equal(c.resets, 0);
    assert_int_equal(ctl(&rt, OUT, DFU_REQ_DETACH, 100, NULL, 0), 0);
    usbd_class_driver_t d = dfu_runtime_class_driver(&rt);
    d.reset(d.ctx);
    assert_int_equal(c.resets, 1);
    assert_int_equal(rt.state, DFU_STATE_APP_IDLE);
}

static void test_timeout_returns_to_idle(void **state)
{
    (void)state;
    dfu_runtime_t rt;
    cb_t c;
    init(&rt, &c);
    assert_int_equal(ctl(&rt, OUT, DFU_REQ_DETACH, 100, NULL, 0), 0);
    dfu_runtime_timeout(&rt);
    assert_int_equal(rt.state, DFU_STATE_APP_IDLE);
    dfu_runtime_reset(&rt);
    assert_int_equal(c.resets, 0);
}

static void test_dfu_mode_requests_stall(void **state)
{
    (void)state;
    dfu_runtime_t rt;
    cb_t c;
    init(&rt, &c);
    uint8_t b[16] = {0};
    assert_int_equal(ctl(&rt, OUT, DFU_REQ_DNLOAD, 0, b, 1), USBD_STALL);
    assert_int_equal(ctl(&rt, IN, DFU_REQ_UPLOAD, 0, b, 16), USBD_STALL);
    assert_int_equal(ctl(&rt, OUT, DFU_REQ_CLRSTATUS, 0, NULL, 0), USBD_STALL);
    assert_int_equal(ctl(&rt, OUT, DFU_REQ_ABORT, 0, NULL, 0), USBD_STALL);
    assert_int_equal(ctl(&rt, IN, DFU_REQ_DETACH, 0, b, 1), USBD_STALL); /* wrong direction */
    usbd_class_driver_t d = dfu_runtime_class_driver(&rt);
    assert_true(d.set_alt(d.ctx, 1, 0));
    assert_false(d.set_alt(d.ctx, 0, 0));
    usb_setup_t s = {.bmRequestType = OUT, .bRequest = DFU_REQ_DETACH, .wIndex = 0};
    assert_int_equal(d.control(d.ctx, &s, NULL, 0), USBD_STALL); /* other interface */
    assert_int_equal(c.detaches, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_detach_calls_back),
        cmocka_unit_test(test_reset_in_detach_enters_dfu),
        cmocka_unit_test(test_timeout_returns_to_idle),
        cmocka_unit_test(test_dfu_mode_requests_stall),
    };
    return cmocka_run_group_tests_name("dfu_runtime", tests, NULL, NULL);
}
