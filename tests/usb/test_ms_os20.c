/*
 * Microsoft OS 2.0 descriptors through the device core (usbd.h ms_os20 hook)
 * and their layout macros (core/usb/ms_os20.h), read back by the test reader
 * written from Microsoft's specification (ms_os20_parse.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dcd.h"
#include "fake_dcd.h"
#include "ms_os20.h"
#include "ms_os20_parse.h"
#include "usbd.h"

#define VENDOR_CODE 0x5Au
#define GUID_DEV    u"{0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0}"
#define GUID_FN     u"{01234567-89AB-CDEF-0123-456789ABCDEF}"

static const ms_os20_device_set_t dev_set = MS_OS20_DEVICE_SET(GUID_DEV);
static const ms_os20_function_set_t fn_set = MS_OS20_FUNCTION_SET(1u, GUID_FN);
static const uint8_t bos[MS_OS20_BOS_LEN] = MS_OS20_BOS(MS_OS20_DEVICE_SET_LEN, VENDOR_CODE);
static const usbd_ms_os20_t ms = {
    .bos = bos, .set = &dev_set, .set_len = MS_OS20_DEVICE_SET_LEN, .vendor_code = VENDOR_CODE};

static const usbd_alt_desc_t alt = {0xfe, 0x01, 0x02, NULL, NULL, 0, NULL, 0};
static const usbd_interface_desc_t itf = {&alt, 1, NULL};
static usbd_device_desc_t dev = {
    .vid = 0x1209,
    .pid = 0x7a02,
    .itfs = &itf,
    .num_itfs = 1,
    .ms_os20 = &ms,
};

static int setup_dev(void **state)
{
    (void)state;
    fake_dcd_reset();
    dev.ms_os20 = &ms;
    dev.bcd_usb = 0;
    if (!usbd_init(&dev)) {
        return -1;
    }
    usbd_connect();
    usbd_event_bus_reset();
    return 0;
}

static int get_set(uint16_t index, uint8_t code, uint16_t len, uint8_t *buf, host_xfer_t *x)
{
    return host_control_in(0xC0, code, 0, index, len, buf, x);
}

static void test_layouts_read_back(void **state)
{
    (void)state;
    ms20_bos_info_t bi;
    ms20_set_info_t si;
    assert_null(ms20_parse_bos(bos, sizeof bos, &bi));
    assert_int_equal(bi.bos_len, 33);
    assert_int_equal(bi.num_caps, 1);
    assert_int_equal(bi.win_version, 0x06030000u);
    assert_int_equal(bi.set_len, sizeof dev_set);
    assert_int_equal(bi.vendor_code, VENDOR_CODE);
    assert_int_equal(bi.alt_enum, 0);

    assert_int_equal(sizeof dev_set, 162);
    assert_null(ms20_parse_set((const uint8_t *)&dev_set, sizeof dev_set, &si));
    assert_int_equal(si.function_itf, -1);
    assert_int_equal(si.subsets, 0);
    assert_string_equal(si.guid, "{0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0}");

    assert_int_equal(sizeof fn_set, 178);
    assert_null(ms20_parse_set((const uint8_t *)&fn_set, sizeof fn_set, &si));
    assert_int_equal(si.function_itf, 1);
    assert_int_equal(si.subsets, 2);
    assert_string_equal(si.guid, "{01234567-89AB-CDEF-0123-456789ABCDEF}");
}

/* The reader is not fooled: each field it checks, broken once. */
static void test_reader_finds_faults(void **state)
{
    (void)state;
    ms20_bos_info_t bi;
    ms20_set_info_t si;
    uint8_t b[sizeof bos];
    uint8_t s[sizeof fn_set];
    static const unsigned bos_bytes[] = {0, 1, 2, 4, 5, 6, 7, 8, 19};
    for (unsigned i = 0; i < sizeof bos_bytes / sizeof bos_bytes[0]; i++) {
        memcpy(b, bos, sizeof b);
        b[bos_bytes[i]] ^= 0x01;
        assert_non_null(ms20_parse_bos(b, sizeof b, &bi));
    }
    /* set header length, type, total; subset lengths; "WINUSB" and the
     * empty sub-compatible ID; property length, type, name; GUID braces and
     * a dash; the list's final NUL */
    static const unsigned set_bytes[] = {0,  2,  8,  10, 16, 18, 24,  30,  38,
                                         40, 42, 46, 50, 54, 98, 116, 172, 176};
    for (unsigned i = 0; i < sizeof set_bytes / sizeof set_bytes[0]; i++) {
        memcpy(s, &fn_set, sizeof s);
        s[set_bytes[i]] ^= 0x01;
        assert_non_null(ms20_parse_set(s, sizeof s, &si));
    }
    assert_non_null(ms20_parse_set((const uint8_t *)&fn_set, sizeof fn_set - 2, &si));
}

static void test_core_serves_them(void **state)
{
    (void)state;
    uint8_t b[512];
    host_xfer_t x;
    /* bcdUSB 2.01, so that a host asks for the BOS */
    assert_int_equal(
        host_control_in(0x80, USB_REQ_GET_DESCRIPTOR, USB_DT_DEVICE << 8, 0, 18, b, NULL), HOST_OK);
    assert_int_equal(b[2] | b[3] << 8, 0x0201);
    /* BOS: its header first, then wTotalLength; asked for more, no more */
    assert_int_equal(host_control_in(0x80, USB_REQ_GET_DESCRIPTOR, USB_DT_BOS << 8, 0, 5, b, &x),
                     HOST_OK);
    assert_int_equal(x.len, 5);
    assert_int_equal(host_control_in(0x80, USB_REQ_GET_DESCRIPTOR, USB_DT_BOS << 8, 0, 255, b, &x),
                     HOST_OK);
    assert_int_equal(x.len, 33);
    assert_memory_equal(b, bos, 33);
    assert_int_equal(
        host_control_in(0x80, USB_REQ_GET_DESCRIPTOR, USB_DT_BOS << 8 | 1, 0, 255, b, NULL),
        HOST_STALL);
    /* the descriptor set before any configuration (Windows reads it then),
     * in three packets, cut to wLength */
    assert_int_equal(get_set(MS_OS20_DESCRIPTOR_INDEX, VENDOR_CODE, 512, b, &x), HOST_OK);
    assert_int_equal(x.len, 162);
    assert_int_equal(x.packets, 3);
    assert_memory_equal(b, &dev_set, 162);
    assert_int_equal(get_set(MS_OS20_DESCRIPTOR_INDEX, VENDOR_CODE, 10, b, &x), HOST_OK);
    assert_int_equal(x.len, 10);
    /* other vendor requests are not it */
    assert_int_equal(get_set(6, VENDOR_CODE, 512, b, NULL), HOST_STALL);
    assert_int_equal(get_set(MS_OS20_DESCRIPTOR_INDEX, VENDOR_CODE + 1, 512, b, NULL), HOST_STALL);
    assert_int_equal(host_control_in(0xC1, VENDOR_CODE, 0, MS_OS20_DESCRIPTOR_INDEX, 512, b, NULL),
                     HOST_STALL);
    /* and after configuration the same */
    assert_int_equal(host_control_out(0, USB_REQ_SET_ADDRESS, 5, 0, NULL, 0), HOST_OK);
    assert_int_equal(host_control_out(0, USB_REQ_SET_CONFIGURATION, 1, 0, NULL, 0), HOST_OK);
    assert_int_equal(get_set(MS_OS20_DESCRIPTOR_INDEX, VENDOR_CODE, 512, b, &x), HOST_OK);
    assert_int_equal(x.len, 162);
}

static void test_without_them(void **state)
{
    (void)state;
    uint8_t b[256];
    dev.ms_os20 = NULL;
    assert_true(usbd_init(&dev));
    usbd_connect();
    usbd_event_bus_reset();
    assert_int_equal(
        host_control_in(0x80, USB_REQ_GET_DESCRIPTOR, USB_DT_DEVICE << 8, 0, 18, b, NULL), HOST_OK);
    assert_int_equal(b[2] | b[3] << 8, 0x0200);
    assert_int_equal(host_control_in(0x80, USB_REQ_GET_DESCRIPTOR, USB_DT_BOS << 8, 0, 5, b, NULL),
                     HOST_STALL);
    assert_int_equal(get_set(MS_OS20_DESCRIPTOR_INDEX, VENDOR_CODE, 255, b, NULL), HOST_STALL);
    /* an explicit bcdUSB is kept */
    dev.ms_os20 = &ms;
    dev.bcd_usb = 0x0210;
    assert_true(usbd_init(&dev));
    assert_int_equal(usbd_device_descriptor()[2], 0x10);
    assert_int_equal(usbd_device_descriptor()[3], 0x02);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layouts_read_back),
        cmocka_unit_test(test_reader_finds_faults),
        cmocka_unit_test_setup(test_core_serves_them, setup_dev),
        cmocka_unit_test_setup(test_without_them, setup_dev),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
