/*
 * firmware/demo-app/demo_app.c on the host: the version comes from the image
 * header in the flash (HID version report, bcdDevice, strings), and both ways
 * into an update (DFU DETACH on the run-time interface, the HID "enter update"
 * report) make demo_app_task() return true; nothing else does.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dcd.h"
#include "demo_app.h"
#include "dfu_defs.h"
#include "fake_dcd.h"
#include "app_test_img.h"
#include "hid.h"
#include "usbd.h"

#define ITF_HID 0u
#define ITF_DFU 1u

static void start(fx_t *fx)
{
    demo_app_config_t cfg = {.flash = &fx->dev, .serial = "SERIAL1"};
    assert_true(demo_app_usb_init(&cfg));
    usbd_connect();
    usbd_event_bus_reset();
    assert_int_equal(host_control_out(0, USB_REQ_SET_ADDRESS, 9, 0, NULL, 0), HOST_OK);
    assert_int_equal(host_control_out(0, USB_REQ_SET_CONFIGURATION, 1, 0, NULL, 0), HOST_OK);
    assert_false(demo_app_task());
}

static void version_report(uint8_t r[64])
{
    host_xfer_t x;
    assert_int_equal(host_control_in(0xA1, HID_REQ_GET_REPORT,
                                     (uint16_t)(HID_REPORT_TYPE_FEATURE << 8), ITF_HID, 64, r, &x),
                     HOST_OK);
    assert_int_equal(x.len, 64);
    assert_int_equal(r[0], HID_REPORT_VERSION);
}

static void version_from_header(void **state)
{
    fx_t *fx = *state;
    assert_int_equal(app_img_write(fx->f, 2, 4, 7, 0), FLASH_OK);
    start(fx);
    uint8_t v[3];
    demo_app_version(v);
    assert_int_equal(v[0], 2);
    assert_int_equal(v[1], 4);
    assert_int_equal(v[2], 7);
    uint8_t r[64];
    version_report(r);
    assert_int_equal(r[1], 2);
    assert_int_equal(r[2], 4);
    assert_int_equal(r[3], 7);
    assert_string_equal((const char *)r + HID_VERSION_STR_OFF, "h7dfu demo 2.4.7");
    const uint8_t *dd = usbd_device_descriptor();
    assert_int_equal(dd[8] | dd[9] << 8, DEMO_APP_VID);
    assert_int_equal(dd[10] | dd[11] << 8, DEMO_APP_PID);
    assert_int_equal(dd[12] | dd[13] << 8, 0x0204); /* bcdDevice: 2.4 */
}

static void version_two_digit_fields(void **state)
{
    fx_t *fx = *state;
    assert_int_equal(app_img_write(fx->f, 12, 34, 300, 0), FLASH_OK);
    start(fx);
    uint8_t r[64];
    version_report(r);
    assert_int_equal(r[1], 12);
    assert_int_equal(r[2], 34);
    assert_int_equal(r[3], 255); /* patch > 255 clamps in the one-byte field */
    assert_string_equal((const char *)r + HID_VERSION_STR_OFF, "h7dfu demo 12.34.255");
    const uint8_t *dd = usbd_device_descriptor();
    assert_int_equal(dd[12] | dd[13] << 8, 0x1234); /* bcdDevice: 12.34 */
}

/* The version of the newest record (the last one appended), not the first. */
static void version_from_newest_record(void **state)
{
    fx_t *fx = *state;
    assert_int_equal(app_img_write(fx->f, 1, 1, 1, 0), FLASH_OK);
    uint8_t hdr[BOOT_HDR_SIZE];
    boot_image_header_t h;
    assert_int_equal(sim_flash_read(fx->f, BOOT_REC_AREA_ADDR, hdr, sizeof hdr), FLASH_OK);
    boot_header_decode(hdr, &h);
    h.version = (boot_image_version_t){3, 2, 1, 0};
    boot_header_encode(&h, hdr);
    assert_int_equal(app_rec_append(fx->f, hdr), FLASH_OK);
    start(fx);
    uint8_t v[3];
    demo_app_version(v);
    assert_int_equal(v[0], 3);
    assert_int_equal(v[1], 2);
    assert_int_equal(v[2], 1);
}

static void no_header_reports_zero(void **state)
{
    fx_t *fx = *state;
    start(fx);
    uint8_t v[3] = {9, 9, 9};
    demo_app_version(v);
    assert_int_equal(v[0] | v[1] | v[2], 0);
    uint8_t r[64];
    version_report(r);
    assert_string_equal((const char *)r + HID_VERSION_STR_OFF, "h7dfu demo 0.0.0");
}

static void header_with_bad_crc_reports_zero(void **state)
{
    fx_t *fx = *state;
    /* a header word whose CRC does not match: version not trusted */
    uint8_t w[32];
    memset(w, 0, sizeof w);
    w[0] = 0x48, w[1] = 0x37, w[2] = 0x49, w[3] = 0x4D; /* "H7IM" */
    w[8] = 5;
    assert_int_equal(sim_flash_program_word(fx->f, BOOT_REC_AREA_ADDR, w), FLASH_OK);
    start(fx);
    uint8_t v[3];
    demo_app_version(v);
    assert_int_equal(v[0], 0);
}

static void detach_requests_update(void **state)
{
    fx_t *fx = *state;
    assert_int_equal(app_img_write(fx->f, 1, 0, 0, 0), FLASH_OK);
    start(fx);
    uint8_t st[6];
    assert_int_equal(host_control_in(0xA1, DFU_REQ_GETSTATUS, 0, ITF_DFU, 6, st, NULL), HOST_OK);
    assert_int_equal(st[4], DFU_STATE_APP_IDLE);
    assert_false(demo_app_task());
    /* DETACH to the HID interface is not the run-time's business */
    assert_int_equal(host_control_out(0x21, DFU_REQ_DETACH, 1000, ITF_HID, NULL, 0), HOST_STALL);
    assert_false(demo_app_task());
    assert_int_equal(host_control_out(0x21, DFU_REQ_DETACH, 1000, ITF_DFU, NULL, 0), HOST_OK);
    assert_true(demo_app_task());
}

static void hid_enter_update_requests_update(void **state)
{
    fx_t *fx = *state;
    start(fx);
    uint8_t r[64] = {0xDF, 'h', '7', 'd', 'f', 'x'}; /* wrong magic */
    assert_int_equal(host_control_out(0x21, HID_REQ_SET_REPORT,
                                      (uint16_t)(HID_REPORT_TYPE_OUTPUT << 8), ITF_HID, r, 64),
                     HOST_OK);
    assert_false(demo_app_task());
    r[5] = 'u';
    assert_int_equal(host_control_out(0x21, HID_REQ_SET_REPORT,
                                      (uint16_t)(HID_REPORT_TYPE_OUTPUT << 8), ITF_HID, r, 64),
                     HOST_OK);
    assert_true(demo_app_task());
}

static void hid_enter_update_on_interrupt_out(void **state)
{
    fx_t *fx = *state;
    start(fx);
    uint16_t len = 0;
    assert_true(fake_dcd_pending(0x01, &len)); /* the HID OUT endpoint is armed */
    const uint8_t r[64] = {0xDF, 'h', '7', 'd', 'f', 'u'};
    assert_true(fake_dcd_complete_out(0x01, r, 64));
    assert_true(demo_app_task());
}

static void reinit_clears_request(void **state)
{
    fx_t *fx = *state;
    start(fx);
    assert_int_equal(host_control_out(0x21, DFU_REQ_DETACH, 1000, ITF_DFU, NULL, 0), HOST_OK);
    assert_true(demo_app_task());
    fake_dcd_reset();
    start(fx); /* a reset of the virtual board builds the device again */
    assert_false(demo_app_task());
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(version_from_header, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(version_two_digit_fields, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(version_from_newest_record, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(no_header_reports_zero, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(header_with_bad_crc_reports_zero, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(detach_requests_update, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(hid_enter_update_requests_update, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(hid_enter_update_on_interrupt_out, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(reinit_clears_request, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
