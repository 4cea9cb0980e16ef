/*
 * firmware/bootloader/bootloader.c on the host: the boot decision on the flash
 * model (no image, valid image, corrupt image; each request), the leave
 * request, and the DfuSe device through the device core and the fake dcd up
 * to "leave" making bootloader_task() return true.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "bootloader.h"
#include "dcd.h"
#include "dfu_defs.h"
#include "fake_dcd.h"
#include "app_test_img.h"
#include "usbd.h"

#define ITF       0u
#define RT_OUT    0x21u
#define RT_IN     0xA1u
#define XFER_SIZE 2048u

static uint8_t g_xfer[XFER_SIZE];
static uint8_t g_blocks[2 * 2048u];

static boot_decision_t decide_with(fx_t *fx, volatile boot_request_block_t *blk,
                                   boot_image_info_t *info)
{
    boot_decision_t d = bootloader_decide(blk, &fx->dev, info);
    /* Whatever it was, the request is consumed. */
    assert_int_equal(boot_request_get(blk), BOOT_REQ_NONE);
    return d;
}

static void decide_no_image(void **state)
{
    fx_t *fx = *state;
    volatile boot_request_block_t blk = {0};
    boot_image_info_t info;
    boot_decision_t d = decide_with(fx, &blk, &info);
    assert_int_equal(d.action, BOOT_STAY_IN_DFU);
    assert_int_equal(d.why, BOOT_WHY_IMAGE_INVALID);
    assert_int_equal(d.validation, BOOT_ERR_NO_IMAGE);
    /* a "start app" request does not start what is not there */
    boot_request_set(&blk, BOOT_REQ_START_APP);
    d = decide_with(fx, &blk, &info);
    assert_int_equal(d.action, BOOT_STAY_IN_DFU);
}

static void decide_valid_image(void **state)
{
    fx_t *fx = *state;
    assert_int_equal(app_img_write(fx->f, 1, 2, 3, 0), FLASH_OK);
    volatile boot_request_block_t blk = {0x55AA55AAu, 1u, 0u}; /* power-on garbage */
    boot_image_info_t info;
    boot_decision_t d = decide_with(fx, &blk, &info);
    assert_int_equal(d.action, BOOT_START_APP);
    assert_int_equal(d.why, BOOT_WHY_IMAGE_VALID);
    assert_int_equal(info.vector_table, 0x08020000u);
    assert_int_equal(info.record, BOOT_REC_AREA_ADDR);
    assert_int_equal(info.initial_sp, 0x20020000u);
    assert_int_equal(info.hdr.version.major, 1);
    assert_int_equal(info.hdr.version.patch, 3);

    boot_request_set(&blk, BOOT_REQ_START_APP);
    d = decide_with(fx, &blk, &info);
    assert_int_equal(d.action, BOOT_START_APP);
    assert_int_equal(d.why, BOOT_WHY_START_REQUESTED);

    boot_request_set(&blk, BOOT_REQ_STAY_IN_DFU);
    d = decide_with(fx, &blk, &info);
    assert_int_equal(d.action, BOOT_STAY_IN_DFU);
    assert_int_equal(d.why, BOOT_WHY_DFU_REQUESTED);

    boot_request_set(&blk, BOOT_REQ_ENTER_ROM_BOOTLOADER);
    d = decide_with(fx, &blk, &info);
    assert_int_equal(d.action, BOOT_ENTER_ROM_BOOTLOADER);

    /* the request acted once: the next reset starts the app again */
    d = decide_with(fx, &blk, &info);
    assert_int_equal(d.action, BOOT_START_APP);
}

static void decide_corrupt_image(void **state)
{
    fx_t *fx = *state;
    assert_int_equal(app_img_write(fx->f, 1, 0, 0, 1), FLASH_OK);
    volatile boot_request_block_t blk = {0};
    boot_request_set(&blk, BOOT_REQ_START_APP);
    boot_decision_t d = decide_with(fx, &blk, NULL);
    assert_int_equal(d.action, BOOT_STAY_IN_DFU);
    assert_int_equal(d.validation, BOOT_ERR_BODY_CRC);
}

static void leave_request_follows_validation(void **state)
{
    fx_t *fx = *state;
    assert_int_equal(bootloader_leave_request(&fx->dev), BOOT_REQ_STAY_IN_DFU);
    assert_int_equal(app_img_write(fx->f, 2, 0, 0, 0), FLASH_OK);
    assert_int_equal(bootloader_leave_request(&fx->dev), BOOT_REQ_START_APP);
}

static void usb_init_refuses_bad_config(void **state)
{
    fx_t *fx = *state;
    bootloader_config_t cfg = {.flash = &fx->dev,
                               .serial = "S",
                               .xfer_buf = g_xfer,
                               .block_bufs = g_blocks,
                               .block_buf_count = 2,
                               .xfer_buf_size = 64};
    assert_false(bootloader_usb_init(&cfg)); /* buffer below wTransferSize */
    cfg.xfer_buf_size = XFER_SIZE;
    cfg.flash = NULL;
    assert_false(bootloader_usb_init(&cfg));
    assert_false(bootloader_usb_init(NULL));
}

static void enumerate(void)
{
    usbd_connect();
    usbd_event_bus_reset();
    assert_int_equal(host_control_out(0, USB_REQ_SET_ADDRESS, 5, 0, NULL, 0), HOST_OK);
    assert_int_equal(host_control_out(0, USB_REQ_SET_CONFIGURATION, 1, 0, NULL, 0), HOST_OK);
}

static void string_eq(uint8_t index, const char *want)
{
    uint8_t buf[128];
    host_xfer_t x;
    assert_int_equal(host_control_in(0x80, USB_REQ_GET_DESCRIPTOR, (uint16_t)(0x0300 | index),
                                     0x0409, sizeof buf, buf, &x),
                     HOST_OK);
    size_t n = strlen(want);
    assert_int_equal(x.len, 2 + 2 * n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(buf[2 + 2 * i], (uint8_t)want[i]);
    }
}

static void getstatus(uint8_t st[6])
{
    host_xfer_t x;
    assert_int_equal(host_control_in(RT_IN, DFU_REQ_GETSTATUS, 0, ITF, 6, st, &x), HOST_OK);
    assert_int_equal(x.len, 6);
}

static void dfu_device_descriptors(void **state)
{
    fx_t *fx = *state;
    bootloader_config_t cfg = {.flash = &fx->dev,
                               .serial = "0123456789AB",
                               .xfer_buf = g_xfer,
                               .block_bufs = g_blocks,
                               .block_buf_count = 2,
                               .xfer_buf_size = XFER_SIZE,
                               .ops_in_poll = true};
    assert_true(bootloader_usb_init(&cfg));
    enumerate();
    const uint8_t *dd = usbd_device_descriptor();
    assert_int_equal(dd[8] | dd[9] << 8, BOOTLOADER_VID);
    assert_int_equal(dd[10] | dd[11] << 8, BOOTLOADER_PID);
    string_eq(dd[15], "h7dfu bootloader");
    string_eq(dd[16], "0123456789AB");
    uint16_t len;
    const uint8_t *cd = usbd_config_descriptor(&len);
    assert_int_equal(cd[9 + 5], 0xFE); /* interface class: DFU, mode protocol 2 */
    assert_int_equal(cd[9 + 7], 0x02);
    /* the DfuSe layout string: what dfu-util and CubeProgrammer parse */
    uint8_t s[160];
    host_xfer_t x;
    assert_int_equal(host_control_in(0x80, USB_REQ_GET_DESCRIPTOR,
                                     (uint16_t)(0x0300 | usbd_string_index_of_alt(0, 0)), 0x0409,
                                     sizeof s, s, &x),
                     HOST_OK);
    assert_int_equal(s[2], '@');

    cfg.product = "custom";
    assert_true(bootloader_usb_init(&cfg));
    dd = usbd_device_descriptor();
    string_eq(dd[15], "custom");
}

/* Poll timeout reported for a CRC query of the whole flash, at a scale (an
 * erase runs in the background: it answers 0). */
static uint32_t crc_poll_ms(fx_t *fx, uint16_t div)
{
    fake_dcd_reset();
    bootloader_config_t cfg = {.flash = &fx->dev,
                               .serial = "S",
                               .xfer_buf = g_xfer,
                               .block_bufs = g_blocks,
                               .block_buf_count = 2,
                               .xfer_buf_size = XFER_SIZE,
                               .ops_in_poll = true,
                               .poll_scale_div = div};
    assert_true(bootloader_usb_init(&cfg));
    enumerate();
    /* 0xC3: address 0x08000000, length 2 MiB */
    const uint8_t crc[9] = {0xC3, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x20, 0x00};
    assert_int_equal(host_control_out(RT_OUT, DFU_REQ_DNLOAD, 0, ITF, crc, 9), HOST_OK);
    uint8_t st[6];
    getstatus(st);
    assert_int_equal(st[4], DFU_STATE_DNBUSY);
    return (uint32_t)(st[1] | st[2] << 8 | st[3] << 16);
}

static void poll_scale_divides_poll_timeout(void **state)
{
    fx_t *fx = *state;
    uint32_t full = crc_poll_ms(fx, 0);
    uint32_t fast = crc_poll_ms(fx, 100);
    assert_true(full >= 40u); /* 2 MiB x 20 ns */
    assert_true(fast <= full / 10u);
    assert_true(fast >= 1u);
}

static void leave_makes_task_return_true(void **state)
{
    fx_t *fx = *state;
    bootloader_config_t cfg = {.flash = &fx->dev,
                               .serial = "S",
                               .xfer_buf = g_xfer,
                               .block_bufs = g_blocks,
                               .block_buf_count = 2,
                               .xfer_buf_size = XFER_SIZE,
                               .ops_in_poll = true};
    assert_true(bootloader_usb_init(&cfg));
    enumerate();
    assert_false(bootloader_task());

    /* DfuSe leave (AN3156 6.3.2): set address, then a zero-length DNLOAD */
    const uint8_t set_addr[5] = {0x21, 0x00, 0x00, 0x02, 0x08};
    uint8_t st[6];
    assert_int_equal(host_control_out(RT_OUT, DFU_REQ_DNLOAD, 0, ITF, set_addr, 5), HOST_OK);
    getstatus(st);
    assert_int_equal(st[4], DFU_STATE_DNBUSY);
    assert_false(bootloader_task()); /* runs the set-address op */
    getstatus(st);
    assert_int_equal(st[0], DFU_STATUS_OK);
    assert_int_equal(st[4], DFU_STATE_DNLOAD_IDLE);
    assert_false(bootloader_task());

    assert_int_equal(host_control_out(RT_OUT, DFU_REQ_DNLOAD, 0, ITF, NULL, 0), HOST_OK);
    assert_false(bootloader_task()); /* nothing happens before GETSTATUS */
    getstatus(st);
    assert_int_equal(st[4], DFU_STATE_MANIFEST);
    assert_true(bootloader_task());
    /* nothing in the slot: the caller resets with "stay in DFU" */
    assert_int_equal(bootloader_leave_request(&fx->dev), BOOT_REQ_STAY_IN_DFU);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(decide_no_image, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(decide_valid_image, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(decide_corrupt_image, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(leave_request_follows_validation, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(usb_init_refuses_bad_config, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(dfu_device_descriptors, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(poll_scale_divides_poll_timeout, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(leave_makes_task_return_true, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
