/* HID class driver tests: descriptors, requests, the "enter update" report,
 * through the device core and the scripted fake dcd. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dcd.h"
#include "fake_dcd.h"
#include "hid.h"
#include "usbd.h"

static const usbd_endpoint_desc_t hid_eps[] = {
    {0x81, USB_EP_INTERRUPT, 64, 1},
    {0x01, USB_EP_INTERRUPT, 64, 1},
};
static const usbd_alt_desc_t hid_alt[] = {
    {HID_CLASS, HID_SUBCLASS, HID_PROTOCOL, "HID", hid_descriptor, HID_DESC_LEN, hid_eps, 2},
};
static const usbd_interface_desc_t hid_itf[] = {{hid_alt, 1, &hid_class_driver}};
static const usbd_device_desc_t dev = {
    .vid = 0x1209,
    .pid = 0x7a02,
    .bcd_device = 0x0200,
    .manufacturer = "h7dfu",
    .product = "h7dfu demo",
    .itfs = hid_itf,
    .num_itfs = 1,
    .max_power_ma = 100,
};

static unsigned updates, reports;
static uint8_t last_report[64];
static uint16_t last_len;

static void on_update(void *user)
{
    assert_ptr_equal(user, &updates);
    updates++;
}

static void on_report(const uint8_t *r, uint16_t len, void *user)
{
    (void)user;
    reports++;
    memcpy(last_report, r, len);
    last_len = len;
}

static const hid_config_t cfg = {
    .ep_in = 0x81,
    .ep_out = 0x01,
    .version = {2, 0, 1},
    .version_str = "h7dfu demo 2.0.1",
    .on_enter_update = on_update,
    .on_report = on_report,
    .user = &updates,
};

#define RT_CLASS_IN        0xa1
#define RT_CLASS_OUT       0x21
#define W_REPORT(type, id) ((uint16_t)((type) << 8 | (id)))

static int setup_hid(void **state)
{
    (void)state;
    fake_dcd_reset();
    updates = reports = 0;
    last_len = 0;
    hid_init(&cfg);
    if (!usbd_init(&dev)) {
        return -1;
    }
    usbd_connect();
    usbd_event_bus_reset();
    if (host_control_out(0, USB_REQ_SET_ADDRESS, 3, 0, NULL, 0) != HOST_OK ||
        host_control_out(0, USB_REQ_SET_CONFIGURATION, 1, 0, NULL, 0) != HOST_OK) {
        return -1;
    }
    return 0;
}

static void make_update(uint8_t *r)
{
    memset(r, 0, 64);
    r[0] = 0xdf;
    memcpy(r + 1, "h7dfu", 5);
}

/* Walk the report descriptor's short items (HID 1.11 6.2.2.2) and check it is
 * well formed and describes what hid.h promises. */
static void test_report_descriptor_parses(void **state)
{
    (void)state;
    uint16_t len;
    const uint8_t *d = hid_report_descriptor(&len);
    unsigned depth = 0, max_depth = 0, report_size = 0, report_count = 0;
    unsigned in_bits = 0, out_bits = 0, feat_bits = 0;
    uint32_t usage_page = 0;
    int lmin = -1, lmax = -1;
    unsigned i = 0;
    while (i < len) {
        uint8_t prefix = d[i];
        assert_int_not_equal(prefix, 0xfe); /* no long items */
        unsigned size = prefix & 3u;
        if (size == 3) {
            size = 4;
        }
        assert_true(i + 1 + size <= len); /* the item fits */
        uint32_t v = 0;
        for (unsigned k = 0; k < size; k++) {
            v |= (uint32_t)d[i + 1 + k] << (8 * k);
        }
        switch (prefix & 0xfcu) {
        case 0x04:
            usage_page = v;
            break;
        case 0x14:
            lmin = (int)v;
            break;
        case 0x24:
            lmax = (int)v;
            break;
        case 0x74:
            report_size = v;
            break;
        case 0x94:
            report_count = v;
            break;
        case 0x84:
            fail_msg("report IDs are not used");
            break;
        case 0x80:
            in_bits += report_size * report_count;
            break;
        case 0x90:
            out_bits += report_size * report_count;
            break;
        case 0xb0:
            feat_bits += report_size * report_count;
            break;
        case 0xa0:
            assert_int_equal(v, 1); /* application collection */
            depth++;
            max_depth = depth > max_depth ? depth : max_depth;
            break;
        case 0xc0:
            assert_true(depth > 0);
            depth--;
            break;
        case 0x08:
            assert_true(depth > 0 || v == 1);
            break; /* usage */
        default:
            fail_msg("unexpected item 0x%02x", prefix);
        }
        i += 1 + size;
    }
    assert_int_equal(i, len);
    assert_int_equal(depth, 0);
    assert_int_equal(max_depth, 1);
    assert_int_equal(usage_page, 0xff00);
    assert_int_equal(lmin, 0);
    assert_int_equal(lmax, 255);
    assert_int_equal(in_bits, HID_REPORT_SIZE * 8);
    assert_int_equal(out_bits, HID_REPORT_SIZE * 8);
    assert_int_equal(feat_bits, HID_REPORT_SIZE * 8);
    /* The HID descriptor announces exactly this length. */
    assert_int_equal(hid_descriptor[0], HID_DESC_LEN);
    assert_int_equal(hid_descriptor[1], USB_DT_HID);
    assert_int_equal(hid_descriptor[6], USB_DT_HID_REPORT);
    assert_int_equal(hid_descriptor[7] | hid_descriptor[8] << 8, len);
}

static void test_descriptors_over_usb(void **state)
{
    (void)state;
    uint8_t b[256];
    host_xfer_t x;
    uint16_t len;
    const uint8_t *rd = hid_report_descriptor(&len);
    assert_int_equal(host_control_in(0x81, USB_REQ_GET_DESCRIPTOR, 0x2200, 0, 255, b, &x), HOST_OK);
    assert_int_equal(x.len, len);
    assert_memory_equal(b, rd, len);
    assert_int_equal(host_control_in(0x81, USB_REQ_GET_DESCRIPTOR, 0x2100, 0, 255, b, &x), HOST_OK);
    assert_memory_equal(b, hid_descriptor, HID_DESC_LEN);
    assert_int_equal(host_control_in(0x81, USB_REQ_GET_DESCRIPTOR, 0x2300, 0, 255, b, &x),
                     HOST_STALL);
    /* Configuration: interface, HID descriptor, then the endpoints. */
    assert_int_equal(host_control_in(0x80, USB_REQ_GET_DESCRIPTOR, 0x0200, 0, 255, b, &x), HOST_OK);
    assert_int_equal(b[9 + 1], USB_DT_INTERFACE);
    assert_int_equal(b[9 + 5], HID_CLASS);
    assert_memory_equal(b + 18, hid_descriptor, HID_DESC_LEN);
    assert_int_equal(b[27 + 1], USB_DT_ENDPOINT);
    assert_int_equal(b[27 + 2], 0x81);
    assert_int_equal(b[27 + 3], USB_EP_INTERRUPT);
}

static void test_set_report_enter_update(void **state)
{
    (void)state;
    uint8_t r[64];
    make_update(r);
    /* Output report on EP0: the callback waits for the status stage. */
    fake_dcd_setup(RT_CLASS_OUT, HID_REQ_SET_REPORT, W_REPORT(HID_REPORT_TYPE_OUTPUT, 0), 0, 64);
    assert_true(fake_dcd_complete_out(0x00, r, 64));
    assert_int_equal(reports, 1);
    assert_int_equal(updates, 0);
    assert_true(fake_dcd_complete_in(0x80, NULL, NULL));
    assert_int_equal(updates, 1);
    assert_memory_equal(last_report, r, 64);
    /* As a Feature report, and a short one carrying just command + magic. */
    assert_int_equal(host_control_out(RT_CLASS_OUT, HID_REQ_SET_REPORT,
                                      W_REPORT(HID_REPORT_TYPE_FEATURE, 0), 0, r, 6),
                     HOST_OK);
    assert_int_equal(updates, 2);
}

static void test_wrong_magic_ignored(void **state)
{
    (void)state;
    uint8_t r[64];
    make_update(r);
    r[3] = 'D'; /* "h7Dfu" */
    assert_int_equal(host_control_out(RT_CLASS_OUT, HID_REQ_SET_REPORT,
                                      W_REPORT(HID_REPORT_TYPE_OUTPUT, 0), 0, r, 64),
                     HOST_OK);
    make_update(r);
    r[0] = 0xde;
    assert_int_equal(host_control_out(RT_CLASS_OUT, HID_REQ_SET_REPORT,
                                      W_REPORT(HID_REPORT_TYPE_OUTPUT, 0), 0, r, 64),
                     HOST_OK);
    make_update(r);
    assert_int_equal(host_control_out(RT_CLASS_OUT, HID_REQ_SET_REPORT,
                                      W_REPORT(HID_REPORT_TYPE_OUTPUT, 0), 0, r, 5),
                     HOST_OK); /* magic cut short */
    assert_int_equal(reports, 3);
    assert_int_equal(updates, 0);
    assert_false(hid_is_enter_update(r, 5));
    assert_true(hid_is_enter_update(r, 6));
}

static void test_set_report_rejects(void **state)
{
    (void)state;
    uint8_t r[80];
    memset(r, 0, sizeof r);
    make_update(r);
    /* Report ID 1 does not exist; Input reports cannot be set; too long. */
    assert_int_equal(host_control_out(RT_CLASS_OUT, HID_REQ_SET_REPORT,
                                      W_REPORT(HID_REPORT_TYPE_OUTPUT, 1), 0, r, 64),
                     HOST_STALL);
    assert_int_equal(host_control_out(RT_CLASS_OUT, HID_REQ_SET_REPORT,
                                      W_REPORT(HID_REPORT_TYPE_INPUT, 0), 0, r, 64),
                     HOST_STALL);
    assert_int_equal(host_control_out(RT_CLASS_OUT, HID_REQ_SET_REPORT,
                                      W_REPORT(HID_REPORT_TYPE_OUTPUT, 0), 0, r, 65),
                     HOST_STALL);
    assert_int_equal(updates, 0);
    assert_int_equal(reports, 0);
}

static void test_interrupt_out_enter_update(void **state)
{
    (void)state;
    uint8_t r[64];
    uint16_t len;
    assert_true(fake_dcd_pending(0x01, &len)); /* armed when configured */
    assert_int_equal(len, 64);
    memset(r, 0x11, sizeof r);
    assert_true(fake_dcd_complete_out(0x01, r, 64));
    assert_int_equal(reports, 1);
    assert_int_equal(updates, 0);
    assert_true(fake_dcd_pending(0x01, NULL)); /* re-armed */
    make_update(r);
    assert_true(fake_dcd_complete_out(0x01, r, 64));
    assert_int_equal(updates, 1);
    assert_true(fake_dcd_pending(0x01, NULL));
}

static void test_get_version_report(void **state)
{
    (void)state;
    uint8_t b[64];
    host_xfer_t x;
    assert_int_equal(host_control_in(RT_CLASS_IN, HID_REQ_GET_REPORT,
                                     W_REPORT(HID_REPORT_TYPE_FEATURE, 0), 0, 64, b, &x),
                     HOST_OK);
    assert_int_equal(x.len, 64);
    assert_int_equal(b[0], HID_REPORT_VERSION);
    assert_int_equal(b[1], 2);
    assert_int_equal(b[2], 0);
    assert_int_equal(b[3], 1);
    assert_string_equal((const char *)b + HID_VERSION_STR_OFF, "h7dfu demo 2.0.1");
    uint8_t in[64];
    assert_int_equal(host_control_in(RT_CLASS_IN, HID_REQ_GET_REPORT,
                                     W_REPORT(HID_REPORT_TYPE_INPUT, 0), 0, 64, in, NULL),
                     HOST_OK);
    assert_memory_equal(in, b, 64);
    /* Truncated to wLength. */
    assert_int_equal(host_control_in(RT_CLASS_IN, HID_REQ_GET_REPORT,
                                     W_REPORT(HID_REPORT_TYPE_FEATURE, 0), 0, 4, b, &x),
                     HOST_OK);
    assert_int_equal(x.len, 4);
    assert_int_equal(host_control_in(RT_CLASS_IN, HID_REQ_GET_REPORT,
                                     W_REPORT(HID_REPORT_TYPE_OUTPUT, 0), 0, 64, b, NULL),
                     HOST_STALL);
    /* A long version string is cut so a NUL always ends it. */
    hid_config_t long_cfg = cfg;
    long_cfg.version_str = "0123456789012345678901234567890123456789012345678901234567890123456789";
    hid_init(&long_cfg);
    hid_version_report(b);
    assert_int_equal(strlen((const char *)b + HID_VERSION_STR_OFF), 59);
    hid_init(&cfg);
}

static void test_idle_and_protocol(void **state)
{
    (void)state;
    uint8_t b[1];
    assert_int_equal(host_control_in(RT_CLASS_IN, HID_REQ_GET_IDLE, 0, 0, 1, b, NULL), HOST_OK);
    assert_int_equal(b[0], 0);
    assert_int_equal(host_control_out(RT_CLASS_OUT, HID_REQ_SET_IDLE, 0x7d00, 0, NULL, 0), HOST_OK);
    assert_int_equal(host_control_in(RT_CLASS_IN, HID_REQ_GET_IDLE, 0, 0, 1, b, NULL), HOST_OK);
    assert_int_equal(b[0], 0x7d);
    assert_int_equal(host_control_in(RT_CLASS_IN, HID_REQ_GET_PROTOCOL, 0, 0, 1, b, NULL), HOST_OK);
    assert_int_equal(b[0], 1);
    assert_int_equal(host_control_out(RT_CLASS_OUT, HID_REQ_SET_PROTOCOL, 0, 0, NULL, 0), HOST_OK);
    assert_int_equal(host_control_in(RT_CLASS_IN, HID_REQ_GET_PROTOCOL, 0, 0, 1, b, NULL), HOST_OK);
    assert_int_equal(b[0], 0);
    assert_int_equal(host_control_out(RT_CLASS_OUT, HID_REQ_SET_PROTOCOL, 2, 0, NULL, 0),
                     HOST_STALL);
    assert_int_equal(host_control_out(RT_CLASS_OUT, 0x55, 0, 0, NULL, 0), HOST_STALL);
    /* A bus reset and new configuration restore the defaults. */
    usbd_event_bus_reset();
    assert_int_equal(host_control_out(0, USB_REQ_SET_CONFIGURATION, 1, 0, NULL, 0), HOST_OK);
    assert_int_equal(host_control_in(RT_CLASS_IN, HID_REQ_GET_PROTOCOL, 0, 0, 1, b, NULL), HOST_OK);
    assert_int_equal(b[0], 1);
}

static void test_send_report(void **state)
{
    (void)state;
    uint8_t r[3] = {1, 2, 3};
    uint8_t got[64];
    uint16_t len;
    assert_true(hid_send_report(r, 3));
    assert_false(hid_send_report(r, 3)); /* previous still pending */
    assert_true(fake_dcd_complete_in(0x81, got, &len));
    assert_int_equal(len, 64);
    assert_memory_equal(got, r, 3);
    assert_int_equal(got[3], 0);
    assert_true(hid_send_report(r, 3));
    assert_false(hid_send_report(got, 65));
    usbd_event_bus_reset();
    assert_false(hid_send_report(r, 3)); /* not configured */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_report_descriptor_parses, setup_hid),
        cmocka_unit_test_setup(test_descriptors_over_usb, setup_hid),
        cmocka_unit_test_setup(test_set_report_enter_update, setup_hid),
        cmocka_unit_test_setup(test_wrong_magic_ignored, setup_hid),
        cmocka_unit_test_setup(test_set_report_rejects, setup_hid),
        cmocka_unit_test_setup(test_interrupt_out_enter_update, setup_hid),
        cmocka_unit_test_setup(test_get_version_report, setup_hid),
        cmocka_unit_test_setup(test_idle_and_protocol, setup_hid),
        cmocka_unit_test_setup(test_send_report, setup_hid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
