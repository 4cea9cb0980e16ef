/*
 * Zero-length paths of the class drivers (HID, DFU run-time, DFU) through the
 * device core and the scripted fake dcd: requests with wLength 0, and OUT
 * requests whose data stage is longer than the control buffer (the driver is
 * told with cap 0 and nothing received). Every driver call goes through a
 * wrapper that checks the core's contract of usbd_class.h: data is never
 * NULL, and OUT cap is wLength or, when not received, 0.
 *
 * The control buffer is 32 bytes here, smaller than a HID report and than the
 * DFU transfer size, so both can be offered more than the core can receive.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dcd.h"
#include "dfu.h"
#include "dfu_runtime.h"
#include "fake_dcd.h"
#include "fake_flash.h"
#include "hid.h"
#include "usbd.h"

#define CTRL_BUF  32u
#define DFU_XFER  64u
#define ITF_HID   0u
#define ITF_RT    1u
#define ITF_DFU   2u
#define CLASS_IN  0xa1u
#define CLASS_OUT 0x21u
#define STD_IN    0x81u

/* One wrapped class driver: the real one and what the core handed it. */
typedef struct wrap {
    const usbd_class_driver_t *real;
    unsigned calls;
    uint16_t last_cap;
    usb_setup_t last_setup;
} wrap_t;

static void check_contract(wrap_t *w, const usb_setup_t *s, const uint8_t *data, uint16_t cap)
{
    w->calls++;
    w->last_cap = cap;
    w->last_setup = *s;
    assert_non_null(data); /* never NULL, also when cap is 0 */
    if ((s->bmRequestType & USB_DIR_IN) != 0) {
        assert_true(cap <= s->wLength && cap <= CTRL_BUF);
    } else {
        assert_true(cap == s->wLength || cap == 0);
    }
}

static int w_control(void *ctx, const usb_setup_t *s, uint8_t *data, uint16_t cap)
{
    wrap_t *w = ctx;
    check_contract(w, s, data, cap);
    return w->real->control(w->real->ctx, s, data, cap);
}

static int w_std_control(void *ctx, const usb_setup_t *s, uint8_t *data, uint16_t cap)
{
    wrap_t *w = ctx;
    check_contract(w, s, data, cap);
    return w->real->std_control(w->real->ctx, s, data, cap);
}

static void w_reset(void *ctx)
{
    wrap_t *w = ctx;
    if (w->real->reset != NULL) {
        w->real->reset(w->real->ctx);
    }
}

static bool w_set_alt(void *ctx, uint8_t itf, uint8_t alt)
{
    wrap_t *w = ctx;
    return w->real->set_alt == NULL ? alt == 0 : w->real->set_alt(w->real->ctx, itf, alt);
}

static void w_control_done(void *ctx, const usb_setup_t *s)
{
    wrap_t *w = ctx;
    if (w->real->control_done != NULL) {
        w->real->control_done(w->real->ctx, s);
    }
}

static void w_xfer_done(void *ctx, uint8_t ep, uint16_t len)
{
    wrap_t *w = ctx;
    if (w->real->xfer_done != NULL) {
        w->real->xfer_done(w->real->ctx, ep, len);
    }
}

static void w_poll(void *ctx)
{
    wrap_t *w = ctx;
    if (w->real->poll != NULL) {
        w->real->poll(w->real->ctx);
    }
}

static usbd_class_driver_t wrapped(wrap_t *w, const usbd_class_driver_t *real)
{
    memset(w, 0, sizeof *w);
    w->real = real;
    return (usbd_class_driver_t){
        .name = real->name,
        .reset = w_reset,
        .set_alt = w_set_alt,
        .control = w_control,
        .control_done = w_control_done,
        .xfer_done = w_xfer_done,
        .poll = w_poll,
        .ctx = w,
        .std_control = real->std_control != NULL ? w_std_control : NULL,
    };
}

static ram_flash_t flash;
static uint8_t flash_mem[FAKE_SIZE];
static dfu_t dfu;
static dfu_runtime_t rt;
static usbd_class_driver_t dfu_drv, rt_drv, drv[3];
static wrap_t w_hid, w_rt, w_dfu;
static uint8_t ctrl_buf[CTRL_BUF];
static unsigned reports, detaches;

static void on_report(const uint8_t *r, uint16_t len, void *user)
{
    (void)r;
    (void)len;
    (void)user;
    reports++;
}

static void on_detach(void *user, uint16_t timeout_ms)
{
    (void)user;
    (void)timeout_ms;
    detaches++;
}

static const usbd_endpoint_desc_t hid_eps[] = {
    {0x81, USB_EP_INTERRUPT, 64, 1},
    {0x01, USB_EP_INTERRUPT, 64, 1},
};
static const hid_config_t hid_cfg = {
    .ep_in = 0x81,
    .ep_out = 0x01,
    .version = {1, 0, 0},
    .version_str = "h7dfu zero-length",
    .on_report = on_report,
};
static usbd_alt_desc_t alts[3];
static usbd_interface_desc_t itfs[3];
static usbd_device_desc_t dev;

static int setup_device(void **state)
{
    (void)state;
    fake_dcd_reset();
    reports = detaches = 0;
    hid_init(&hid_cfg);
    dfu_runtime_config_t rcfg = {.itf_num = ITF_RT,
                                 .attributes = DFU_ATTR_CAN_DNLOAD | DFU_ATTR_WILL_DETACH,
                                 .detach_timeout_ms = 1000,
                                 .detach = on_detach};
    dfu_runtime_init(&rt, &rcfg);
    rt_drv = dfu_runtime_class_driver(&rt);
    fake_flash_init(&flash, flash_mem);
    static uint8_t bufs[2 * DFU_XFER];
    dfu_config_t dcfg = {.flash = &flash.dev,
                         .transfer_size = DFU_XFER,
                         .itf_num = ITF_DFU,
                         .bufs = bufs,
                         .buf_count = 2};
    if (!dfu_init(&dfu, &dcfg)) {
        return -1;
    }
    dfu_drv = dfu_class_driver(&dfu);
    drv[ITF_HID] = wrapped(&w_hid, &hid_class_driver);
    drv[ITF_RT] = wrapped(&w_rt, &rt_drv);
    drv[ITF_DFU] = wrapped(&w_dfu, &dfu_drv);
    alts[ITF_HID] = (usbd_alt_desc_t){HID_CLASS,      HID_SUBCLASS, HID_PROTOCOL, "HID",
                                      hid_descriptor, HID_DESC_LEN, hid_eps,      2};
    alts[ITF_RT] = (usbd_alt_desc_t){0xfe, 0x01, 0x01, "runtime", NULL, 0, NULL, 0};
    alts[ITF_DFU] =
        (usbd_alt_desc_t){0xfe, 0x01, 0x02, "@Flash/0x08000000/8*1Kg", NULL, 0, NULL, 0};
    for (unsigned i = 0; i < 3; i++) {
        itfs[i] = (usbd_interface_desc_t){&alts[i], 1, &drv[i]};
    }
    dev = (usbd_device_desc_t){
        .vid = 0x1209,
        .pid = 0x7a03,
        .bcd_device = 0x0100,
        .manufacturer = "h7dfu",
        .product = "zero-length",
        .itfs = itfs,
        .num_itfs = 3,
        .max_power_ma = 100,
        .ctrl_buf = ctrl_buf,
        .ctrl_buf_size = CTRL_BUF,
    };
    if (!usbd_init(&dev)) {
        return -1;
    }
    usbd_connect();
    usbd_event_bus_reset();
    if (host_control_out(0, USB_REQ_SET_ADDRESS, 5, 0, NULL, 0) != HOST_OK ||
        host_control_out(0, USB_REQ_SET_CONFIGURATION, 1, 0, NULL, 0) != HOST_OK) {
        return -1;
    }
    return 0;
}

#define W_REPORT(type) ((uint16_t)((type) << 8))

static void test_hid_get_report_zero_length(void **state)
{
    (void)state;
    uint8_t b[64];
    host_xfer_t x;
    /* wLength 0: no data stage, the status stage alone (USB 2.0 8.5.3). */
    assert_int_equal(host_control_in(CLASS_IN, HID_REQ_GET_REPORT, W_REPORT(HID_REPORT_TYPE_INPUT),
                                     ITF_HID, 0, b, &x),
                     HOST_OK);
    assert_int_equal(x.len, 0);
    assert_int_equal(w_hid.calls, 1);
    assert_int_equal(w_hid.last_cap, 0);
    assert_int_equal(host_control_in(CLASS_IN, HID_REQ_GET_REPORT,
                                     W_REPORT(HID_REPORT_TYPE_FEATURE), ITF_HID, 0, b, &x),
                     HOST_OK);
    assert_int_equal(x.len, 0);
    /* A report still comes back cut to the control buffer afterwards. */
    assert_int_equal(host_control_in(CLASS_IN, HID_REQ_GET_REPORT, W_REPORT(HID_REPORT_TYPE_INPUT),
                                     ITF_HID, 64, b, &x),
                     HOST_OK);
    assert_int_equal(x.len, CTRL_BUF);
}

/* The fuzz finding (fuzz/corpus/usbd_std/regress-hid-get-report-out): a
 * GET_REPORT sent host-to-device with a data stage too long for the control
 * buffer; the core tells the driver with cap 0 and stalls it. */
static void test_hid_get_report_wrong_direction(void **state)
{
    (void)state;
    uint8_t big[289] = {0};
    assert_int_equal(host_control_out(CLASS_OUT, HID_REQ_GET_REPORT,
                                      W_REPORT(HID_REPORT_TYPE_INPUT), ITF_HID, big, sizeof big),
                     HOST_STALL);
    assert_int_equal(w_hid.calls, 1);
    assert_int_equal(w_hid.last_cap, 0);
    /* Without data stage: a GET in the OUT direction is stalled by HID. */
    assert_int_equal(host_control_out(CLASS_OUT, HID_REQ_GET_REPORT,
                                      W_REPORT(HID_REPORT_TYPE_INPUT), ITF_HID, NULL, 0),
                     HOST_STALL);
    assert_int_equal(host_control_out(CLASS_OUT, HID_REQ_GET_IDLE, 0, ITF_HID, NULL, 0),
                     HOST_STALL);
    assert_int_equal(host_control_out(CLASS_OUT, HID_REQ_GET_PROTOCOL, 0, ITF_HID, NULL, 0),
                     HOST_STALL);
    uint8_t b[8];
    /* ... and a SET in the IN direction. */
    assert_int_equal(host_control_in(CLASS_IN, HID_REQ_SET_IDLE, 0, ITF_HID, 0, b, NULL),
                     HOST_STALL);
    assert_int_equal(host_control_in(CLASS_IN, HID_REQ_SET_REPORT, W_REPORT(HID_REPORT_TYPE_OUTPUT),
                                     ITF_HID, 8, b, NULL),
                     HOST_STALL);
    assert_int_equal(reports, 0);
}

static void test_hid_other_zero_length(void **state)
{
    (void)state;
    uint8_t b[8];
    host_xfer_t x;
    /* GET_IDLE / GET_PROTOCOL have a one-byte reply: no room, stall. */
    assert_int_equal(host_control_in(CLASS_IN, HID_REQ_GET_IDLE, 0, ITF_HID, 0, b, NULL),
                     HOST_STALL);
    assert_int_equal(host_control_in(CLASS_IN, HID_REQ_GET_PROTOCOL, 0, ITF_HID, 0, b, NULL),
                     HOST_STALL);
    /* SET_REPORT without a report: stall, nothing reported. */
    assert_int_equal(host_control_out(CLASS_OUT, HID_REQ_SET_REPORT,
                                      W_REPORT(HID_REPORT_TYPE_OUTPUT), ITF_HID, NULL, 0),
                     HOST_STALL);
    /* SET_REPORT of a full 64-byte report, longer than this control buffer:
     * not received (cap 0), so not read, stalled. */
    uint8_t report[64] = {0xdf, 'h', '7', 'd', 'f', 'u'};
    assert_int_equal(host_control_out(CLASS_OUT, HID_REQ_SET_REPORT,
                                      W_REPORT(HID_REPORT_TYPE_OUTPUT), ITF_HID, report, 64),
                     HOST_STALL);
    assert_int_equal(w_hid.last_cap, 0);
    assert_int_equal(reports, 0);
    /* One that fits is taken. */
    assert_int_equal(host_control_out(CLASS_OUT, HID_REQ_SET_REPORT,
                                      W_REPORT(HID_REPORT_TYPE_OUTPUT), ITF_HID, report, 16),
                     HOST_OK);
    assert_int_equal(reports, 1);
    /* Report descriptor with wLength 0: empty data stage. */
    assert_int_equal(
        host_control_in(STD_IN, USB_REQ_GET_DESCRIPTOR, USB_DT_HID_REPORT << 8, ITF_HID, 0, b, &x),
        HOST_OK);
    assert_int_equal(x.len, 0);
    assert_int_equal(w_hid.last_cap, 0);
}

static void test_dfu_runtime_zero_length(void **state)
{
    (void)state;
    uint8_t b[8];
    assert_int_equal(host_control_in(CLASS_IN, DFU_REQ_GETSTATUS, 0, ITF_RT, 0, b, NULL),
                     HOST_STALL);
    assert_int_equal(w_rt.last_cap, 0);
    assert_int_equal(host_control_in(CLASS_IN, DFU_REQ_GETSTATE, 0, ITF_RT, 0, b, NULL),
                     HOST_STALL);
    assert_int_equal(rt.state, DFU_STATE_APP_IDLE);
    /* DETACH carries no data; one with a data stage too long to receive is
     * stalled by the core whatever the driver says. */
    uint8_t big[100] = {0};
    assert_int_equal(host_control_out(CLASS_OUT, DFU_REQ_DETACH, 500, ITF_RT, big, sizeof big),
                     HOST_STALL);
    assert_int_equal(w_rt.last_cap, 0);
    rt.state = DFU_STATE_APP_IDLE;
    /* The normal zero-length DETACH works. */
    assert_int_equal(host_control_out(CLASS_OUT, DFU_REQ_DETACH, 500, ITF_RT, NULL, 0), HOST_OK);
    assert_int_equal(rt.state, DFU_STATE_APP_DETACH);
    assert_true(detaches >= 1);
}

static void test_dfu_zero_length(void **state)
{
    (void)state;
    uint8_t b[8];
    /* GETSTATUS / GETSTATE / UPLOAD with wLength 0: stalled, errSTALLEDPKT. */
    assert_int_equal(host_control_in(CLASS_IN, DFU_REQ_GETSTATUS, 0, ITF_DFU, 0, b, NULL),
                     HOST_STALL);
    assert_int_equal(w_dfu.last_cap, 0);
    assert_int_equal(dfu_get_state(&dfu), DFU_STATE_ERROR);
    assert_int_equal(dfu.status, DFU_STATUS_ERR_STALLEDPKT);
    assert_int_equal(host_control_out(CLASS_OUT, DFU_REQ_CLRSTATUS, 0, ITF_DFU, NULL, 0), HOST_OK);
    assert_int_equal(host_control_in(CLASS_IN, DFU_REQ_GETSTATE, 0, ITF_DFU, 0, b, NULL),
                     HOST_STALL);
    assert_int_equal(host_control_out(CLASS_OUT, DFU_REQ_CLRSTATUS, 0, ITF_DFU, NULL, 0), HOST_OK);
    assert_int_equal(host_control_in(CLASS_IN, DFU_REQ_UPLOAD, 2, ITF_DFU, 0, b, NULL), HOST_STALL);
    assert_int_equal(host_control_out(CLASS_OUT, DFU_REQ_CLRSTATUS, 0, ITF_DFU, NULL, 0), HOST_OK);
    /* Zero-length DNLOAD in dfuIDLE: a leave, as on ST's DfuSe devices; the
     * driver gets the buffer with cap 0 and reads nothing from it. */
    assert_int_equal(host_control_out(CLASS_OUT, DFU_REQ_DNLOAD, 0, ITF_DFU, NULL, 0), HOST_OK);
    assert_int_equal(w_dfu.last_cap, 0);
    assert_int_equal(dfu_get_state(&dfu), DFU_STATE_MANIFEST_SYNC);
    dfu_reset(&dfu); /* the bus reset that follows a leave */
    assert_int_equal(dfu_get_state(&dfu), DFU_STATE_IDLE);
}

/* A DNLOAD within wTransferSize but longer than the control buffer: the data
 * never arrives (cap 0), DFU must not read it, and reports errSTALLEDPKT. */
static void test_dfu_dnload_not_received(void **state)
{
    (void)state;
    uint8_t block[DFU_XFER];
    memset(block, 0x5a, sizeof block);
    unsigned programs = flash.programs, erases = flash.erases;
    assert_int_equal(host_control_out(CLASS_OUT, DFU_REQ_DNLOAD, 2, ITF_DFU, block, DFU_XFER),
                     HOST_STALL);
    assert_int_equal(w_dfu.last_cap, 0);
    assert_int_equal(w_dfu.last_setup.wLength, DFU_XFER);
    assert_int_equal(dfu_get_state(&dfu), DFU_STATE_ERROR);
    assert_int_equal(dfu.status, DFU_STATUS_ERR_STALLEDPKT);
    assert_int_equal(flash.programs, programs);
    assert_int_equal(flash.erases, erases);
    /* A DfuSe command that fits is received and accepted. */
    assert_int_equal(host_control_out(CLASS_OUT, DFU_REQ_CLRSTATUS, 0, ITF_DFU, NULL, 0), HOST_OK);
    uint8_t set_addr[5] = {0x21, 0x00, 0x04, 0x00, 0x08};
    assert_int_equal(host_control_out(CLASS_OUT, DFU_REQ_DNLOAD, 0, ITF_DFU, set_addr, 5), HOST_OK);
    assert_int_equal(w_dfu.last_cap, 5);
    assert_int_equal(dfu_get_state(&dfu), DFU_STATE_DNLOAD_SYNC);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_hid_get_report_zero_length, setup_device),
        cmocka_unit_test_setup(test_hid_get_report_wrong_direction, setup_device),
        cmocka_unit_test_setup(test_hid_other_zero_length, setup_device),
        cmocka_unit_test_setup(test_dfu_runtime_zero_length, setup_device),
        cmocka_unit_test_setup(test_dfu_zero_length, setup_device),
        cmocka_unit_test_setup(test_dfu_dnload_not_received, setup_device),
    };
    return cmocka_run_group_tests_name("class_zero_len", tests, NULL, NULL);
}
