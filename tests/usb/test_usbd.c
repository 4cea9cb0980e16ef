/* Device core tests: standard requests, EP0 engine, class routing, against
 * the scripted fake dcd. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dcd.h"
#include "fake_dcd.h"
#include "usbd.h"
#include "usbd_desc.h"

/* ---- a dummy class driver recording what reaches it ---- */

typedef struct dummy {
    unsigned resets, set_alts, controls, std_controls, dones, xfers, polls;
    uint8_t last_itf, last_alt;
    bool refuse_alt;    /* set_alt answers false */
    bool stall_control; /* control answers USBD_STALL */
    uint16_t in_len;    /* bytes control writes for IN requests */
    usb_setup_t last_setup, done_setup;
    uint8_t out_data[512];
    uint16_t out_len, last_cap;
    uint8_t xfer_ep;
    uint16_t xfer_len;
} dummy_t;

static void d_reset(void *ctx)
{
    ((dummy_t *)ctx)->resets++;
}

static bool d_set_alt(void *ctx, uint8_t itf, uint8_t alt)
{
    dummy_t *d = ctx;
    d->set_alts++;
    d->last_itf = itf;
    d->last_alt = alt;
    return !d->refuse_alt;
}

static int d_control(void *ctx, const usb_setup_t *setup, uint8_t *data, uint16_t cap)
{
    dummy_t *d = ctx;
    d->controls++;
    d->last_setup = *setup;
    d->last_cap = cap;
    if (d->stall_control) {
        return USBD_STALL;
    }
    if (setup->bmRequestType & USB_DIR_IN) {
        uint16_t n = d->in_len < cap ? d->in_len : cap;
        for (uint16_t i = 0; i < n; i++) {
            data[i] = (uint8_t)(i * 7u + 1u);
        }
        return d->in_len; /* may exceed cap: the core must clamp */
    }
    assert_non_null(data); /* usbd_class.h: never NULL */
    if (cap < setup->wLength) {
        d->out_len = 0xffff; /* told of an OUT request too long to receive */
        return 0;
    }
    memcpy(d->out_data, data, setup->wLength);
    d->out_len = setup->wLength;
    return 0;
}

static int d_std_control(void *ctx, const usb_setup_t *setup, uint8_t *data, uint16_t cap)
{
    dummy_t *d = ctx;
    assert_non_null(data);
    d->std_controls++;
    d->last_setup = *setup;
    if (setup->bRequest != USB_REQ_GET_DESCRIPTOR || cap < 3) {
        return USBD_STALL;
    }
    data[0] = 3;
    data[1] = 0x42;
    data[2] = 0x99;
    return 3;
}

static void d_control_done(void *ctx, const usb_setup_t *setup)
{
    dummy_t *d = ctx;
    d->dones++;
    d->done_setup = *setup;
}

static void d_xfer_done(void *ctx, uint8_t ep, uint16_t len)
{
    dummy_t *d = ctx;
    d->xfers++;
    d->xfer_ep = ep;
    d->xfer_len = len;
}

static void d_poll(void *ctx)
{
    ((dummy_t *)ctx)->polls++;
}

static dummy_t da, db;

static const usbd_class_driver_t drv_a = {
    .name = "a",
    .reset = d_reset,
    .set_alt = d_set_alt,
    .control = d_control,
    .control_done = d_control_done,
    .xfer_done = d_xfer_done,
    .poll = d_poll,
    .ctx = &da,
    .std_control = d_std_control,
};

static const usbd_class_driver_t drv_b = {
    .name = "b",
    .reset = d_reset,
    .set_alt = d_set_alt,
    .control = d_control,
    .control_done = d_control_done,
    .xfer_done = d_xfer_done,
    .poll = d_poll,
    .ctx = &db,
    .std_control = NULL,
};

/* ---- the test device ---- */

static const uint8_t func_desc[9] = {9, 0x21, 0x0b, 0xff, 0x00, 0x00, 0x04, 0x1a, 0x01};
static const usbd_endpoint_desc_t a1_eps[] = {{0x81, USB_EP_INTERRUPT, 64, 10}};
static const usbd_alt_desc_t a_alts[] = {
    {0xfe, 0x01, 0x02, "@Internal Flash  /0x08000000/16*128Kg", func_desc, 9, NULL, 0},
    {0xfe, 0x01, 0x02, "Alt One", NULL, 0, a1_eps, 1},
    {0xfe, 0x01, 0x02, NULL, NULL, 0, NULL, 0},
};
static const usbd_endpoint_desc_t b_eps[] = {{0x82, USB_EP_BULK, 64, 0},
                                             {0x03, USB_EP_BULK, 32, 0}};
static const usbd_alt_desc_t b_alts[] = {{0xff, 0, 0, "Vendor", NULL, 0, b_eps, 2}};
static const usbd_interface_desc_t itfs[] = {{a_alts, 3, &drv_a}, {b_alts, 1, &drv_b}};

static uint8_t ctrl_buf[256];
static unsigned suspends, resumes;

static void on_suspend(bool s)
{
    if (s) {
        suspends++;
    } else {
        resumes++;
    }
}

static const usbd_device_desc_t dev = {
    .vid = 0x1209,
    .pid = 0x7a01,
    .bcd_device = 0x0203,
    .manufacturer = "h7dfu",
    .product = "Test Dev \xc2\xb5", /* U+00B5 MICRO SIGN */
    .serial = "0123456789AB",
    .attributes = USB_CONFIG_ATTR_SELF_POWERED | USB_CONFIG_ATTR_REMOTE_WAKEUP,
    .max_power_ma = 100,
    .itfs = itfs,
    .num_itfs = 2,
    .ctrl_buf = ctrl_buf,
    .ctrl_buf_size = sizeof ctrl_buf,
    .on_suspend = on_suspend,
};

#define RT_STD_IN_DEV    0x80
#define RT_STD_OUT_DEV   0x00
#define RT_STD_IN_ITF    0x81
#define RT_STD_OUT_ITF   0x01
#define RT_STD_IN_EP     0x82
#define RT_STD_OUT_EP    0x02
#define RT_CLASS_IN_ITF  0xa1
#define RT_CLASS_OUT_ITF 0x21

static int setup_dev(void **state)
{
    (void)state;
    fake_dcd_reset();
    memset(&da, 0, sizeof da);
    memset(&db, 0, sizeof db);
    suspends = resumes = 0;
    if (!usbd_init(&dev)) {
        return -1;
    }
    usbd_connect();
    usbd_event_bus_reset();
    return 0;
}

static void configure(void)
{
    assert_int_equal(host_control_out(0, USB_REQ_SET_ADDRESS, 9, 0, NULL, 0), HOST_OK);
    assert_int_equal(host_control_out(0, USB_REQ_SET_CONFIGURATION, 1, 0, NULL, 0), HOST_OK);
    assert_true(usbd_configured());
}

static int get_desc(uint8_t type, uint8_t index, uint16_t len, uint8_t *buf, host_xfer_t *x)
{
    return host_control_in(RT_STD_IN_DEV, USB_REQ_GET_DESCRIPTOR, (uint16_t)(type << 8 | index),
                           type == USB_DT_STRING ? 0x0409 : 0, len, buf, x);
}

/* Decode a UTF-16LE string descriptor into ASCII/Latin-1 (test strings only). */
static void string_of(const uint8_t *d, char *out)
{
    unsigned n = (d[0] - 2u) / 2u;
    for (unsigned i = 0; i < n; i++) {
        assert_int_equal(d[3 + 2 * i], 0);
        out[i] = (char)d[2 + 2 * i];
    }
    out[n] = '\0';
}

/* ---- descriptors ---- */

static void test_device_descriptor(void **state)
{
    (void)state;
    uint8_t b[64];
    host_xfer_t x;
    assert_int_equal(get_desc(USB_DT_DEVICE, 0, 64, b, &x), HOST_OK);
    assert_int_equal(x.len, 18); /* short reply ends the stage: no ZLP */
    assert_int_equal(x.packets, 1);
    assert_int_equal(b[0], 18);
    assert_int_equal(b[1], USB_DT_DEVICE);
    assert_int_equal(b[2] | b[3] << 8, 0x0200);
    assert_int_equal(b[7], 64); /* bMaxPacketSize0 */
    assert_int_equal(b[8] | b[9] << 8, 0x1209);
    assert_int_equal(b[10] | b[11] << 8, 0x7a01);
    assert_int_equal(b[12] | b[13] << 8, 0x0203);
    assert_int_equal(b[14], 1);
    assert_int_equal(b[15], 2);
    assert_int_equal(b[16], 3);
    assert_int_equal(b[17], 1);
    /* First enumeration step of some hosts: only 8 bytes. */
    assert_int_equal(get_desc(USB_DT_DEVICE, 0, 8, b, &x), HOST_OK);
    assert_int_equal(x.len, 8);
    assert_int_equal(x.packets, 1);
}

static void test_config_descriptor(void **state)
{
    (void)state;
    uint8_t b[512];
    host_xfer_t x;
    assert_int_equal(get_desc(USB_DT_CONFIG, 0, 512, b, &x), HOST_OK);
    uint16_t total = (uint16_t)(b[2] | b[3] << 8);
    assert_int_equal(x.len, total);
    assert_int_equal(b[0], 9);
    assert_int_equal(b[4], 2); /* interfaces */
    assert_int_equal(b[5], 1);
    assert_int_equal(b[7], 0x80 | 0x40 | 0x20);
    assert_int_equal(b[8], 50);
    /* Walk it: every descriptor's length adds up, in the order described. */
    unsigned itf_count = 0, ep_count = 0, funcs = 0, off = 0;
    uint8_t alt_strings[4] = {0};
    while (off < total) {
        assert_true(b[off] >= 2);
        if (b[off + 1] == USB_DT_INTERFACE) {
            if (b[off + 2] == 0) {
                alt_strings[b[off + 3]] = b[off + 8];
            }
            itf_count++;
        } else if (b[off + 1] == USB_DT_ENDPOINT) {
            ep_count++;
        } else if (b[off + 1] == 0x21) {
            assert_memory_equal(b + off, func_desc, 9);
            assert_int_equal(b[off - 9 + 1], USB_DT_INTERFACE); /* right after its interface */
            funcs++;
        }
        off += b[off];
    }
    assert_int_equal(off, total);
    assert_int_equal(itf_count, 4);
    assert_int_equal(ep_count, 3);
    assert_int_equal(funcs, 1);
    assert_int_equal(alt_strings[0], 4);
    assert_int_equal(alt_strings[1], 5);
    assert_int_equal(alt_strings[2], 0);
    assert_int_equal(usbd_string_index_of_alt(0, 1), 5);
    assert_int_equal(usbd_string_index_of_alt(1, 0), 6);
    assert_int_equal(usbd_string_index_of_alt(0, 2), 0);
    uint16_t len;
    assert_memory_equal(usbd_config_descriptor(&len), b, total);
    assert_int_equal(len, total);
}

static void test_config_descriptor_truncated(void **state)
{
    (void)state;
    uint8_t b[512];
    host_xfer_t x;
    assert_int_equal(get_desc(USB_DT_CONFIG, 0, 9, b, &x), HOST_OK);
    assert_int_equal(x.len, 9);
    uint16_t total = (uint16_t)(b[2] | b[3] << 8);
    assert_true(total > 64); /* so the next request spans packets */
    assert_int_equal(get_desc(USB_DT_CONFIG, 0, 70, b, &x), HOST_OK);
    assert_int_equal(x.len, 70);
    assert_int_equal(x.packets, 2);
    assert_int_equal(x.pkt_len[0], 64);
    assert_int_equal(x.pkt_len[1], 6);
}

static void test_string_descriptors(void **state)
{
    (void)state;
    uint8_t b[256];
    char s[128];
    assert_int_equal(get_desc(USB_DT_STRING, 0, 255, b, NULL), HOST_OK);
    const uint8_t langids[] = {4, USB_DT_STRING, 0x09, 0x04};
    assert_memory_equal(b, langids, 4);
    assert_int_equal(get_desc(USB_DT_STRING, 1, 255, b, NULL), HOST_OK);
    string_of(b, s);
    assert_string_equal(s, "h7dfu");
    assert_int_equal(get_desc(USB_DT_STRING, 2, 255, b, NULL), HOST_OK);
    string_of(b, s);
    assert_string_equal(s, "Test Dev \xb5"); /* UTF-8 in, UTF-16LE out */
    assert_int_equal(get_desc(USB_DT_STRING, 3, 255, b, NULL), HOST_OK);
    string_of(b, s);
    assert_string_equal(s, "0123456789AB");
    host_xfer_t x;
    assert_int_equal(get_desc(USB_DT_STRING, 4, 255, b, &x), HOST_OK);
    assert_int_equal(x.len, 2 + 2 * 37);
    assert_int_equal(x.packets, 2);
    string_of(b, s);
    assert_string_equal(s, "@Internal Flash  /0x08000000/16*128Kg");
    assert_int_equal(get_desc(USB_DT_STRING, 6, 255, b, NULL), HOST_OK);
    string_of(b, s);
    assert_string_equal(s, "Vendor");
    /* Truncated to wLength like any descriptor. */
    assert_int_equal(get_desc(USB_DT_STRING, 1, 2, b, &x), HOST_OK);
    assert_int_equal(x.len, 2);
    assert_int_equal(b[0], 12);
    assert_non_null(usbd_string_descriptor(6));
    assert_null(usbd_string_descriptor(7));
}

static void test_descriptor_stalls(void **state)
{
    (void)state;
    uint8_t b[256];
    assert_int_equal(get_desc(USB_DT_STRING, 7, 255, b, NULL), HOST_STALL);
    assert_int_equal(get_desc(USB_DT_STRING, 0xee, 255, b, NULL), HOST_STALL);
    assert_int_equal(get_desc(USB_DT_DEVICE_QUALIFIER, 0, 10, b, NULL), HOST_STALL);
    assert_int_equal(get_desc(USB_DT_OTHER_SPEED_CONFIG, 0, 255, b, NULL), HOST_STALL);
    assert_int_equal(get_desc(USB_DT_BOS, 0, 5, b, NULL), HOST_STALL); /* no ms_os20 */
    assert_int_equal(get_desc(USB_DT_CONFIG, 1, 255, b, NULL), HOST_STALL);
    assert_int_equal(get_desc(0x42, 0, 255, b, NULL), HOST_STALL);
    /* A stall is no dead end: the next request works. */
    assert_int_equal(get_desc(USB_DT_DEVICE, 0, 18, b, NULL), HOST_OK);
    assert_int_equal(b[0], 18);
}

/* ---- EP0 data stage packetising and ZLP ---- */

static void test_zlp_rules(void **state)
{
    (void)state;
    uint8_t b[512];
    host_xfer_t x;
    configure();
    /* 64 of 128 asked: a short reply that is a packet multiple needs a ZLP. */
    da.in_len = 64;
    assert_int_equal(host_control_in(RT_CLASS_IN_ITF, 1, 0, 0, 128, b, &x), HOST_OK);
    assert_int_equal(x.packets, 2);
    assert_int_equal(x.pkt_len[0], 64);
    assert_int_equal(x.pkt_len[1], 0);
    /* Exactly wLength: no ZLP. */
    assert_int_equal(host_control_in(RT_CLASS_IN_ITF, 1, 0, 0, 64, b, &x), HOST_OK);
    assert_int_equal(x.packets, 1);
    /* 128 of 200: 64, 64, 0. */
    da.in_len = 128;
    assert_int_equal(host_control_in(RT_CLASS_IN_ITF, 1, 0, 0, 200, b, &x), HOST_OK);
    assert_int_equal(x.packets, 3);
    assert_int_equal(x.len, 128);
    assert_int_equal(x.pkt_len[2], 0);
    for (uint16_t i = 0; i < 128; i++) {
        assert_int_equal(b[i], (uint8_t)(i * 7u + 1u));
    }
    /* 100 of 100: 64 + 36. */
    da.in_len = 100;
    assert_int_equal(host_control_in(RT_CLASS_IN_ITF, 1, 0, 0, 100, b, &x), HOST_OK);
    assert_int_equal(x.packets, 2);
    assert_int_equal(x.pkt_len[1], 36);
    /* Empty reply to a read: the data stage is one ZLP. */
    da.in_len = 0;
    assert_int_equal(host_control_in(RT_CLASS_IN_ITF, 1, 0, 0, 10, b, &x), HOST_OK);
    assert_int_equal(x.packets, 1);
    assert_int_equal(x.pkt_len[0], 0);
    /* The driver claims more than it may write: clamped to the buffer. */
    da.in_len = 300;
    assert_int_equal(host_control_in(RT_CLASS_IN_ITF, 1, 0, 0, 400, b, &x), HOST_OK);
    assert_int_equal(x.len, sizeof ctrl_buf);
    assert_int_equal(da.last_cap, sizeof ctrl_buf);
    /* No packet the core hands the dcd on EP0 exceeds 64 bytes. */
    for (unsigned i = 0; i < fake_dcd_log_len(); i++) {
        const fake_event_t *e = fake_dcd_log(i);
        if (e->call == FAKE_EP_XFER && (e->ep & 0x0f) == 0) {
            assert_true(e->len <= 64);
        }
    }
}

/* ---- SET_ADDRESS / SET_CONFIGURATION / GET_CONFIGURATION ---- */

static void test_set_address(void **state)
{
    (void)state;
    assert_int_equal(usbd_state(), USBD_STATE_DEFAULT);
    fake_dcd_setup(0, USB_REQ_SET_ADDRESS, 42, 0, 0);
    /* The dcd learns the address before the status stage ... */
    assert_int_equal(fake_dcd_address(), 42);
    assert_true(fake_dcd_pending(0x80, NULL));
    /* ... the device state changes once it is done. */
    assert_int_equal(usbd_state(), USBD_STATE_DEFAULT);
    assert_true(fake_dcd_complete_in(0x80, NULL, NULL));
    assert_int_equal(usbd_state(), USBD_STATE_ADDRESSED);
    assert_int_equal(host_control_out(0, USB_REQ_SET_ADDRESS, 128, 0, NULL, 0), HOST_STALL);
    assert_int_equal(fake_dcd_address(), 42);
    assert_int_equal(host_control_out(0, USB_REQ_SET_ADDRESS, 0, 0, NULL, 0), HOST_OK);
    assert_int_equal(usbd_state(), USBD_STATE_DEFAULT);
}

static void test_set_configuration(void **state)
{
    (void)state;
    uint8_t b[4];
    assert_int_equal(host_control_in(RT_STD_IN_DEV, USB_REQ_GET_CONFIGURATION, 0, 0, 1, b, NULL),
                     HOST_OK);
    assert_int_equal(b[0], 0);
    unsigned resets_a = da.resets, resets_b = db.resets;
    configure();
    assert_int_equal(da.resets, resets_a + 1);
    assert_int_equal(db.resets, resets_b + 1);
    assert_true(fake_dcd_is_open(0x82));
    assert_true(fake_dcd_is_open(0x03));
    assert_false(fake_dcd_is_open(0x81)); /* alt 1 only */
    const fake_event_t *e = fake_dcd_last(FAKE_EP_OPEN);
    assert_int_equal(e->ep, 0x03);
    assert_int_equal(e->type, USB_EP_BULK);
    assert_int_equal(e->len, 32);
    assert_int_equal(host_control_in(RT_STD_IN_DEV, USB_REQ_GET_CONFIGURATION, 0, 0, 1, b, NULL),
                     HOST_OK);
    assert_int_equal(b[0], 1);
    assert_int_equal(host_control_out(0, USB_REQ_SET_CONFIGURATION, 2, 0, NULL, 0), HOST_STALL);
    assert_true(usbd_configured());
    unsigned closes = fake_dcd_count(FAKE_EP_CLOSE_ALL);
    assert_int_equal(host_control_out(0, USB_REQ_SET_CONFIGURATION, 0, 0, NULL, 0), HOST_OK);
    assert_int_equal(fake_dcd_count(FAKE_EP_CLOSE_ALL), closes + 1);
    assert_int_equal(usbd_state(), USBD_STATE_ADDRESSED);
    assert_int_equal(da.resets, resets_a + 2);
    assert_false(fake_dcd_is_open(0x82));
    assert_int_equal(host_control_in(RT_STD_IN_DEV, USB_REQ_GET_CONFIGURATION, 0, 0, 1, b, NULL),
                     HOST_OK);
    assert_int_equal(b[0], 0);
}

/* ---- GET_STATUS, features ---- */

static uint16_t get_status(uint8_t bm, uint16_t index, int *rc)
{
    uint8_t b[2] = {0xaa, 0xaa};
    *rc = host_control_in(bm, USB_REQ_GET_STATUS, 0, index, 2, b, NULL);
    return (uint16_t)(b[0] | b[1] << 8);
}

static void test_device_status_remote_wakeup(void **state)
{
    (void)state;
    int rc;
    assert_int_equal(get_status(RT_STD_IN_DEV, 0, &rc), 1); /* self powered */
    assert_int_equal(rc, HOST_OK);
    assert_int_equal(
        host_control_out(0, USB_REQ_SET_FEATURE, USB_FEATURE_DEVICE_REMOTE_WAKEUP, 0, NULL, 0),
        HOST_OK);
    assert_int_equal(get_status(RT_STD_IN_DEV, 0, &rc), 3);
    assert_int_equal(
        host_control_out(0, USB_REQ_CLEAR_FEATURE, USB_FEATURE_DEVICE_REMOTE_WAKEUP, 0, NULL, 0),
        HOST_OK);
    assert_int_equal(get_status(RT_STD_IN_DEV, 0, &rc), 1);
    assert_int_equal(host_control_out(0, USB_REQ_SET_FEATURE, USB_FEATURE_TEST_MODE, 0, NULL, 0),
                     HOST_STALL);
}

static void test_remote_wakeup_not_offered(void **state)
{
    (void)state;
    usbd_device_desc_t d2 = dev;
    int rc;
    d2.attributes = 0;
    assert_true(usbd_init(&d2));
    usbd_event_bus_reset();
    assert_int_equal(get_status(RT_STD_IN_DEV, 0, &rc), 0);
    assert_int_equal(rc, HOST_OK);
    assert_int_equal(
        host_control_out(0, USB_REQ_SET_FEATURE, USB_FEATURE_DEVICE_REMOTE_WAKEUP, 0, NULL, 0),
        HOST_STALL);
    assert_true(usbd_init(&dev)); /* d2 dies with this frame */
}

static void test_interface_status(void **state)
{
    (void)state;
    int rc;
    (void)get_status(RT_STD_IN_ITF, 0, &rc);
    assert_int_equal(rc, HOST_STALL); /* not configured */
    configure();
    assert_int_equal(get_status(RT_STD_IN_ITF, 1, &rc), 0);
    assert_int_equal(rc, HOST_OK);
    (void)get_status(RT_STD_IN_ITF, 2, &rc);
    assert_int_equal(rc, HOST_STALL);
    assert_int_equal(host_control_out(RT_STD_OUT_ITF, USB_REQ_SET_FEATURE, 0, 0, NULL, 0),
                     HOST_STALL);
}

static void test_endpoint_halt(void **state)
{
    (void)state;
    int rc;
    assert_int_equal(get_status(RT_STD_IN_EP, 0x80, &rc), 0); /* EP0 always */
    assert_int_equal(rc, HOST_OK);
    (void)get_status(RT_STD_IN_EP, 0x82, &rc);
    assert_int_equal(rc, HOST_STALL); /* not configured yet */
    configure();
    assert_int_equal(get_status(RT_STD_IN_EP, 0x82, &rc), 0);
    assert_int_equal(rc, HOST_OK);
    assert_int_equal(host_control_out(RT_STD_OUT_EP, USB_REQ_SET_FEATURE, USB_FEATURE_ENDPOINT_HALT,
                                      0x82, NULL, 0),
                     HOST_OK);
    assert_true(fake_dcd_halted(0x82));
    assert_int_equal(get_status(RT_STD_IN_EP, 0x82, &rc), 1);
    uint8_t buf[8] = {0};
    assert_false(usbd_ep_xfer(0x82, buf, 8));
    assert_int_equal(host_control_out(RT_STD_OUT_EP, USB_REQ_CLEAR_FEATURE,
                                      USB_FEATURE_ENDPOINT_HALT, 0x82, NULL, 0),
                     HOST_OK);
    assert_false(fake_dcd_halted(0x82));
    assert_int_equal(fake_dcd_last(FAKE_EP_CLEAR_STALL)->ep, 0x82);
    assert_int_equal(get_status(RT_STD_IN_EP, 0x82, &rc), 0);
    assert_true(usbd_ep_xfer(0x82, buf, 8));
    /* Endpoints outside the configuration, and other feature selectors. */
    (void)get_status(RT_STD_IN_EP, 0x85, &rc);
    assert_int_equal(rc, HOST_STALL);
    (void)get_status(RT_STD_IN_EP, 0x02, &rc); /* 0x82 exists, 0x02 does not */
    assert_int_equal(rc, HOST_STALL);
    assert_int_equal(host_control_out(RT_STD_OUT_EP, USB_REQ_SET_FEATURE, 5, 0x82, NULL, 0),
                     HOST_STALL);
    assert_int_equal(host_control_out(RT_STD_OUT_EP, USB_REQ_CLEAR_FEATURE,
                                      USB_FEATURE_ENDPOINT_HALT, 0x00, NULL, 0),
                     HOST_OK);
}

/* ---- alternate settings ---- */

static void test_alt_settings(void **state)
{
    (void)state;
    uint8_t b[2];
    assert_int_equal(host_control_out(RT_STD_OUT_ITF, USB_REQ_SET_INTERFACE, 1, 0, NULL, 0),
                     HOST_STALL); /* not configured */
    configure();
    assert_int_equal(host_control_in(RT_STD_IN_ITF, USB_REQ_GET_INTERFACE, 0, 0, 1, b, NULL),
                     HOST_OK);
    assert_int_equal(b[0], 0);
    assert_int_equal(host_control_out(RT_STD_OUT_ITF, USB_REQ_SET_INTERFACE, 1, 0, NULL, 0),
                     HOST_OK);
    assert_int_equal(da.set_alts, 1);
    assert_int_equal(da.last_itf, 0);
    assert_int_equal(da.last_alt, 1);
    assert_true(fake_dcd_is_open(0x81));
    assert_int_equal(usbd_alt_setting(0), 1);
    assert_int_equal(host_control_in(RT_STD_IN_ITF, USB_REQ_GET_INTERFACE, 0, 0, 1, b, NULL),
                     HOST_OK);
    assert_int_equal(b[0], 1);
    /* The new alt's endpoint is routed to its driver. */
    uint8_t rep[64];
    assert_true(usbd_ep_xfer(0x81, rep, 64));
    assert_true(fake_dcd_complete_in(0x81, NULL, NULL));
    assert_int_equal(da.xfers, 1);
    assert_int_equal(da.xfer_ep, 0x81);
    assert_int_equal(da.xfer_len, 64);
    /* Alt out of range; driver refusal keeps the old one. */
    assert_int_equal(host_control_out(RT_STD_OUT_ITF, USB_REQ_SET_INTERFACE, 3, 0, NULL, 0),
                     HOST_STALL);
    da.refuse_alt = true;
    assert_int_equal(host_control_out(RT_STD_OUT_ITF, USB_REQ_SET_INTERFACE, 2, 0, NULL, 0),
                     HOST_STALL);
    assert_int_equal(usbd_alt_setting(0), 1);
    assert_true(usbd_ep_xfer(0x81, rep, 64));
    da.refuse_alt = false;
    assert_int_equal(host_control_out(RT_STD_OUT_ITF, USB_REQ_SET_INTERFACE, 0, 0, NULL, 0),
                     HOST_OK);
    assert_false(usbd_ep_xfer(0x81, rep, 64)); /* not part of alt 0 */
    /* The other interface: its driver sees its own number. */
    assert_int_equal(host_control_out(RT_STD_OUT_ITF, USB_REQ_SET_INTERFACE, 0, 1, NULL, 0),
                     HOST_OK);
    assert_int_equal(db.last_itf, 1);
    assert_int_equal(host_control_out(RT_STD_OUT_ITF, USB_REQ_SET_INTERFACE, 0, 2, NULL, 0),
                     HOST_STALL);
}

/* The controller cannot open an endpoint (FIFO RAM exhausted): the request
 * that needs it fails, nothing is routed to it, the device stays usable. */
static void test_ep_open_failure(void **state)
{
    (void)state;
    uint8_t b[1], rep[64];
    fake_dcd_refuse_open(0x03);
    assert_int_equal(host_control_out(0, USB_REQ_SET_CONFIGURATION, 1, 0, NULL, 0), HOST_STALL);
    assert_false(usbd_configured());
    assert_int_equal(host_control_in(RT_STD_IN_DEV, USB_REQ_GET_CONFIGURATION, 0, 0, 1, b, NULL),
                     HOST_OK);
    assert_int_equal(b[0], 0);
    assert_false(usbd_ep_xfer(0x82, rep, 64)); /* opened, but not mapped */
    fake_dcd_refuse_open(0x81);
    configure();
    assert_true(usbd_configured());
    /* SET_INTERFACE to the alt whose endpoint fails: refused, alt 0 kept. */
    unsigned alts = da.set_alts;
    assert_int_equal(host_control_out(RT_STD_OUT_ITF, USB_REQ_SET_INTERFACE, 1, 0, NULL, 0),
                     HOST_STALL);
    assert_int_equal(da.set_alts, alts);
    assert_int_equal(usbd_alt_setting(0), 0);
    assert_false(usbd_ep_xfer(0x81, rep, 64));
    assert_true(usbd_ep_xfer(0x82, rep, 64));
    fake_dcd_refuse_open(0);
}

/* ---- class routing ---- */

static void test_class_routing(void **state)
{
    (void)state;
    uint8_t b[256];
    uint8_t out[200];
    for (unsigned i = 0; i < sizeof out; i++) {
        out[i] = (uint8_t)(0xa5 ^ i);
    }
    /* Not configured: class requests are errors (USB 2.0 9.4). */
    assert_int_equal(host_control_out(RT_CLASS_OUT_ITF, 1, 0, 0, NULL, 0), HOST_STALL);
    assert_int_equal(da.controls, 0);
    configure();
    /* IN to interface 1 reaches driver b only; control_done after status. */
    db.in_len = 5;
    assert_int_equal(host_control_in(RT_CLASS_IN_ITF, 3, 0x1234, 1, 6, b, NULL), HOST_OK);
    assert_int_equal(db.controls, 1);
    assert_int_equal(da.controls, 0);
    assert_int_equal(db.last_setup.bRequest, 3);
    assert_int_equal(db.last_setup.wValue, 0x1234);
    assert_int_equal(db.last_cap, 6);
    assert_int_equal(db.dones, 1);
    assert_int_equal(db.done_setup.bRequest, 3);
    /* OUT with a multi-packet data stage to interface 0. */
    assert_int_equal(host_control_out(RT_CLASS_OUT_ITF, 1, 2, 0, out, 200), HOST_OK);
    assert_int_equal(da.controls, 1);
    assert_int_equal(da.out_len, 200);
    assert_memory_equal(da.out_data, out, 200);
    assert_int_equal(da.dones, 1);
    /* control_done waits for the status stage. */
    fake_dcd_setup(RT_CLASS_OUT_ITF, 4, 0, 0, 0);
    assert_int_equal(da.controls, 2);
    assert_int_equal(da.dones, 1);
    assert_true(fake_dcd_complete_in(0x80, NULL, NULL));
    assert_int_equal(da.dones, 2);
    /* Vendor requests route the same way. */
    assert_int_equal(host_control_out(0x41, 0x77, 0, 0, NULL, 0), HOST_OK);
    assert_int_equal(da.last_setup.bRequest, 0x77);
    /* Endpoint recipient: to the owner of the endpoint. */
    assert_int_equal(host_control_out(0x22, 9, 0, 0x03, NULL, 0), HOST_OK);
    assert_int_equal(db.last_setup.bRequest, 9);
    /* Unknown interface, unknown endpoint, device recipient: stall. */
    assert_int_equal(host_control_out(RT_CLASS_OUT_ITF, 1, 0, 7, NULL, 0), HOST_STALL);
    assert_int_equal(host_control_out(0x22, 1, 0, 0x07, NULL, 0), HOST_STALL);
    assert_int_equal(host_control_out(0x20, 1, 0, 0, NULL, 0), HOST_STALL);
    /* A driver's stall; no control_done for it. */
    unsigned dones = da.dones;
    da.stall_control = true;
    assert_int_equal(host_control_in(RT_CLASS_IN_ITF, 3, 0, 0, 6, b, NULL), HOST_STALL);
    assert_int_equal(host_control_out(RT_CLASS_OUT_ITF, 1, 0, 0, out, 10), HOST_STALL);
    assert_int_equal(da.dones, dones);
    da.stall_control = false;
    /* OUT longer than the control buffer: stalled before any data; the driver
     * is told (cap 0 < wLength, data still a valid buffer) so it can record
     * the error, and gets no control_done. */
    unsigned controls = da.controls;
    dones = da.dones;
    uint8_t big[300] = {0};
    assert_int_equal(host_control_out(RT_CLASS_OUT_ITF, 1, 0, 0, big, 300), HOST_STALL);
    assert_int_equal(da.controls, controls + 1);
    assert_int_equal(da.out_len, 0xffff);
    assert_int_equal(da.last_cap, 0);
    assert_int_equal(da.dones, dones);
}

static void test_std_interface_request_to_driver(void **state)
{
    (void)state;
    uint8_t b[16];
    host_xfer_t x;
    configure();
    assert_int_equal(host_control_in(RT_STD_IN_ITF, USB_REQ_GET_DESCRIPTOR, 0x2200, 0, 16, b, &x),
                     HOST_OK);
    assert_int_equal(da.std_controls, 1);
    assert_int_equal(da.controls, 0); /* never mixed with class requests */
    assert_int_equal(x.len, 3);
    assert_int_equal(b[1], 0x42);
    /* Driver b has no std_control: stall. */
    assert_int_equal(host_control_in(RT_STD_IN_ITF, USB_REQ_GET_DESCRIPTOR, 0x2200, 1, 16, b, &x),
                     HOST_STALL);
}

static void test_short_out_packet_stalls(void **state)
{
    (void)state;
    uint8_t data[64] = {1, 2, 3};
    configure();
    fake_dcd_setup(RT_CLASS_OUT_ITF, 1, 0, 0, 100);
    assert_true(fake_dcd_complete_out(0x00, data, 30)); /* short before 100 */
    assert_true(fake_dcd_ep0_stalled());
    assert_int_equal(da.controls, 0);
}

/* ---- aborts, resets, unknown requests ---- */

static void test_new_setup_aborts(void **state)
{
    (void)state;
    uint8_t b[64];
    uint8_t data[64] = {0};
    configure();
    /* IN data stage interrupted after one packet. */
    da.in_len = 200;
    fake_dcd_setup(RT_CLASS_IN_ITF, 3, 0, 0, 200);
    assert_true(fake_dcd_complete_in(0x80, b, NULL));
    assert_int_equal(get_desc(USB_DT_DEVICE, 0, 18, b, NULL), HOST_OK);
    assert_int_equal(b[1], USB_DT_DEVICE);
    assert_int_equal(da.dones, 0);
    /* OUT data stage interrupted: the driver never sees the partial data. */
    fake_dcd_setup(RT_CLASS_OUT_ITF, 1, 0, 0, 128);
    assert_true(fake_dcd_complete_out(0x00, data, 64));
    unsigned controls = da.controls;
    assert_int_equal(get_desc(USB_DT_DEVICE, 0, 18, b, NULL), HOST_OK);
    assert_int_equal(da.controls, controls);
    /* Status stage abandoned: no control_done either. */
    fake_dcd_setup(RT_CLASS_OUT_ITF, 4, 0, 0, 0);
    assert_true(fake_dcd_pending(0x80, NULL));
    assert_int_equal(get_desc(USB_DT_DEVICE, 0, 18, b, NULL), HOST_OK);
    assert_int_equal(da.dones, 0);
    /* A stale completion after the new SETUP is ignored. */
    fake_dcd_setup(RT_STD_IN_DEV, USB_REQ_GET_DESCRIPTOR, 0x0100, 0, 18);
    usbd_event_xfer_done(0x00, 0); /* wrong direction for a data IN stage */
    uint16_t len;
    assert_true(fake_dcd_pending(0x80, &len));
    assert_int_equal(len, 18);
}

static void test_bus_reset(void **state)
{
    (void)state;
    uint8_t b[2];
    configure();
    assert_int_equal(host_control_out(RT_STD_OUT_ITF, USB_REQ_SET_INTERFACE, 1, 0, NULL, 0),
                     HOST_OK);
    assert_int_equal(
        host_control_out(0, USB_REQ_SET_FEATURE, USB_FEATURE_DEVICE_REMOTE_WAKEUP, 0, NULL, 0),
        HOST_OK);
    unsigned ra = da.resets, rb = db.resets, closes = fake_dcd_count(FAKE_EP_CLOSE_ALL);
    fake_dcd_setup(RT_CLASS_IN_ITF, 3, 0, 0, 64); /* a transfer in flight */
    usbd_event_bus_reset();
    assert_int_equal(fake_dcd_address(), 0);
    assert_int_equal(fake_dcd_count(FAKE_EP_CLOSE_ALL), closes + 1);
    assert_int_equal(usbd_state(), USBD_STATE_DEFAULT);
    assert_int_equal(da.resets, ra + 1);
    assert_int_equal(db.resets, rb + 1);
    assert_int_equal(usbd_alt_setting(0), 0);
    assert_false(usbd_ep_xfer(0x82, b, 2));
    int rc;
    assert_int_equal(get_status(RT_STD_IN_DEV, 0, &rc), 1); /* wakeup cleared */
    assert_int_equal(host_control_in(RT_STD_IN_DEV, USB_REQ_GET_CONFIGURATION, 0, 0, 1, b, NULL),
                     HOST_OK);
    assert_int_equal(b[0], 0);
    assert_int_equal(da.dones, 0);
}

static void test_unknown_requests_stall(void **state)
{
    (void)state;
    uint8_t b[64] = {0};
    configure();
    assert_int_equal(host_control_out(0, USB_REQ_SET_DESCRIPTOR, 0x0100, 0, b, 18), HOST_STALL);
    assert_int_equal(host_control_out(0, 0x77, 0, 0, NULL, 0), HOST_STALL);
    assert_int_equal(host_control_in(0x83, USB_REQ_GET_STATUS, 0, 0, 2, b, NULL), HOST_STALL);
    assert_int_equal(host_control_in(RT_STD_IN_EP, 12 /* SYNCH_FRAME */, 0, 0x82, 2, b, NULL),
                     HOST_STALL);
    /* Wrong direction for the request. */
    assert_int_equal(host_control_in(RT_STD_IN_DEV, USB_REQ_SET_CONFIGURATION, 1, 0, 1, b, NULL),
                     HOST_STALL);
    assert_int_equal(host_control_out(0, USB_REQ_GET_DESCRIPTOR, 0x0100, 0, NULL, 0), HOST_STALL);
    assert_int_equal(host_control_out(0, USB_REQ_SET_ADDRESS, 3, 1, NULL, 0), HOST_STALL);
    assert_int_equal(host_control_out(0, USB_REQ_SET_ADDRESS, 3, 0, NULL, 0), HOST_STALL);
    assert_true(usbd_configured());
}

static void test_suspend_resume_disconnect(void **state)
{
    (void)state;
    configure();
    usbd_event_suspend();
    usbd_event_suspend();
    assert_true(usbd_suspended());
    assert_int_equal(suspends, 1);
    usbd_event_resume();
    assert_false(usbd_suspended());
    assert_int_equal(resumes, 1);
    assert_true(usbd_configured()); /* suspend keeps the configuration */
    usbd_event_suspend();
    usbd_event_bus_reset(); /* a reset also ends the suspend */
    assert_int_equal(resumes, 2);
    unsigned ra = da.resets;
    usbd_disconnect();
    assert_int_equal(fake_dcd_count(FAKE_DISCONNECT), 1);
    assert_int_equal(usbd_state(), USBD_STATE_DETACHED);
    assert_int_equal(da.resets, ra + 1);
    usbd_event_suspend(); /* nothing to suspend when detached */
    assert_int_equal(suspends, 2);
}

static void test_task_polls(void **state)
{
    (void)state;
    unsigned polls = fake_dcd_count(FAKE_POLL);
    usbd_task();
    usbd_task();
    assert_int_equal(fake_dcd_count(FAKE_POLL), polls + 2);
    assert_int_equal(da.polls, 2);
    assert_int_equal(db.polls, 2);
    assert_int_equal(fake_dcd_count(FAKE_INIT), 1);
    assert_int_equal(fake_dcd_count(FAKE_CONNECT), 1);
}

static void test_ep_xfer_routing(void **state)
{
    (void)state;
    uint8_t buf[32] = {9, 8, 7};
    assert_false(usbd_ep_xfer(0x03, buf, 32)); /* not configured */
    configure();
    assert_true(usbd_ep_xfer(0x03, buf, 32));
    assert_false(usbd_ep_xfer(0x00, buf, 8));
    assert_false(usbd_ep_xfer(0x84, buf, 8));
    uint8_t pkt[5] = {1, 2, 3, 4, 5};
    assert_true(fake_dcd_complete_out(0x03, pkt, 5));
    assert_int_equal(db.xfers, 1);
    assert_int_equal(db.xfer_ep, 0x03);
    assert_int_equal(db.xfer_len, 5);
    assert_memory_equal(buf, pkt, 5);
    assert_int_equal(da.xfers, 0);
}

/* ---- descriptor builder limits ---- */

static void test_builder_rejects(void **state)
{
    (void)state;
    char long_name[200];
    memset(long_name, 'x', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    usbd_desc_set_t *set = test_malloc(sizeof *set);
    usbd_device_desc_t d = dev;
    assert_true(usbd_desc_build(set, &d));
    d.product = long_name; /* > 126 UTF-16 units */
    assert_false(usbd_desc_build(set, &d));
    d = dev;
    d.num_itfs = 0;
    assert_false(usbd_desc_build(set, &d));
    usbd_endpoint_desc_t bad_ep = {0x90, USB_EP_BULK, 64, 0};
    usbd_alt_desc_t bad_alt = {0xff, 0, 0, NULL, NULL, 0, &bad_ep, 1};
    usbd_interface_desc_t bad_itf = {&bad_alt, 1, NULL};
    d = dev;
    d.itfs = &bad_itf;
    d.num_itfs = 1;
    assert_false(usbd_desc_build(set, &d));
    bad_ep.addr = 0x81;
    bad_ep.max_packet = 65;
    assert_false(usbd_desc_build(set, &d));
    bad_ep.max_packet = 64;
    assert_true(usbd_desc_build(set, &d));
    /* Too many strings for USBD_MAX_STRINGS. */
    usbd_alt_desc_t many[USBD_MAX_STRINGS];
    for (unsigned i = 0; i < USBD_MAX_STRINGS; i++) {
        usbd_alt_desc_t a = {0xff, 0, 0, "s", NULL, 0, NULL, 0};
        many[i] = a;
    }
    usbd_interface_desc_t many_itf = {many, USBD_MAX_STRINGS, NULL};
    d.itfs = &many_itf;
    assert_false(usbd_desc_build(set, &d));
    test_free(set);
    assert_false(usbd_init(&d));
    assert_true(usbd_init(&dev));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_device_descriptor, setup_dev),
        cmocka_unit_test_setup(test_config_descriptor, setup_dev),
        cmocka_unit_test_setup(test_config_descriptor_truncated, setup_dev),
        cmocka_unit_test_setup(test_string_descriptors, setup_dev),
        cmocka_unit_test_setup(test_descriptor_stalls, setup_dev),
        cmocka_unit_test_setup(test_zlp_rules, setup_dev),
        cmocka_unit_test_setup(test_set_address, setup_dev),
        cmocka_unit_test_setup(test_set_configuration, setup_dev),
        cmocka_unit_test_setup(test_ep_open_failure, setup_dev),
        cmocka_unit_test_setup(test_device_status_remote_wakeup, setup_dev),
        cmocka_unit_test_setup(test_remote_wakeup_not_offered, setup_dev),
        cmocka_unit_test_setup(test_interface_status, setup_dev),
        cmocka_unit_test_setup(test_endpoint_halt, setup_dev),
        cmocka_unit_test_setup(test_alt_settings, setup_dev),
        cmocka_unit_test_setup(test_class_routing, setup_dev),
        cmocka_unit_test_setup(test_std_interface_request_to_driver, setup_dev),
        cmocka_unit_test_setup(test_short_out_packet_stalls, setup_dev),
        cmocka_unit_test_setup(test_new_setup_aborts, setup_dev),
        cmocka_unit_test_setup(test_bus_reset, setup_dev),
        cmocka_unit_test_setup(test_unknown_requests_stall, setup_dev),
        cmocka_unit_test_setup(test_suspend_resume_disconnect, setup_dev),
        cmocka_unit_test_setup(test_task_polls, setup_dev),
        cmocka_unit_test_setup(test_ep_xfer_routing, setup_dev),
        cmocka_unit_test_setup(test_builder_rejects, setup_dev),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
