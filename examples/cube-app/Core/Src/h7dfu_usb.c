/*
 * The h7dfu part of the application: see Core/Inc/h7dfu_usb.h.
 *
 * Interface 0: vendor HID (core/hid): the host's "enter update" Output report
 *              and the "get version" Feature report, version from the image
 *              record.
 * Interface 1: DFU run-time (core/app, DFU 1.1 4.1): DETACH.
 * Serial number: the 96-bit unique ID as 24 hex digits, the string the h7dfu
 * bootloader shows, so `h7dfu update` finds the board again after the
 * detach (port/stm32h743/uid.c).
 *
 * VID:PID 0483:5750 is the pair CubeMX puts in a Custom HID device; use your
 * own in a product.
 */
#include "h7dfu_usb.h"

#include <string.h>

#include "stm32h7xx_hal.h"

#include "boot.h"
#include "h7_app.h"
#include "h743_port.h"
#include "hid.h"
#include "usbd.h"

#define ITF_HID 0u
#define ITF_DFU 1u

static const usbd_endpoint_desc_t s_hid_eps[] = {
    {.addr = 0x81u, .type = USB_EP_INTERRUPT, .max_packet = HID_REPORT_SIZE, .interval = 10u},
    {.addr = 0x01u, .type = USB_EP_INTERRUPT, .max_packet = HID_REPORT_SIZE, .interval = 10u},
};

static struct {
    char serial[25];
    char version_str[40];
    volatile bool enter_update;
    hid_config_t hid;
    h7_app_dfu_t dfu;
    usbd_class_driver_t dfu_drv;
    usbd_alt_desc_t alts[2];
    usbd_interface_desc_t itfs[2];
    usbd_device_desc_t dev;
} s_usb;

/* The version stamped into this image's record (sector 15), 0.0.0 without
 * an intact one (started by a debugger, not stamped). */
static void record_version(uint8_t v[3])
{
    uint8_t raw[BOOT_HDR_SIZE];
    uint32_t rec = 0;
    boot_image_header_t h;
    v[0] = v[1] = v[2] = 0u;
    if (boot_record_newest(h743_flash_dev(true), &rec, raw) != FLASH_OK || rec == 0u) {
        return;
    }
    boot_header_decode(raw, &h);
    if (h.magic != BOOT_HDR_MAGIC || h.hdr_crc != boot_header_crc(raw)) {
        return;
    }
    v[0] = h.version.major;
    v[1] = h.version.minor;
    v[2] = h.version.patch > 0xFFu ? 0xFFu : (uint8_t)h.version.patch;
}

/* "cube-app X.Y.Z" (no printf in the image). */
static void version_text(const uint8_t v[3], char *out)
{
    static const char prefix[] = "cube-app ";
    memcpy(out, prefix, sizeof prefix - 1u);
    out += sizeof prefix - 1u;
    for (unsigned i = 0; i < 3u; i++) {
        unsigned n = v[i];
        if (n >= 100u) {
            *out++ = (char)('0' + n / 100u);
        }
        if (n >= 10u) {
            *out++ = (char)('0' + n / 10u % 10u);
        }
        *out++ = (char)('0' + n % 10u);
        *out++ = i < 2u ? '.' : '\0';
    }
}

static void on_report(const uint8_t *report, uint16_t len, void *user)
{
    (void)user;
    if (h7_app_is_enter_update_report(report, len)) {
        s_usb.enter_update = true;
    }
}

bool h7dfu_usb_start(void)
{
    uint8_t v[3];
    record_version(v);
    version_text(v, s_usb.version_str);
    h743_serial_string(s_usb.serial);

    h743_usb_board_init();

    s_usb.hid = (hid_config_t){
        .ep_in = 0x81u,
        .ep_out = 0x01u,
        .version = {v[0], v[1], v[2]},
        .version_str = s_usb.version_str,
        .on_report = on_report,
    };
    hid_init(&s_usb.hid);
    h7_app_dfu_init(&s_usb.dfu, ITF_DFU, 0u);
    s_usb.dfu_drv = h7_app_dfu_class_driver(&s_usb.dfu);

    s_usb.alts[ITF_HID] = (usbd_alt_desc_t){
        .cls = HID_CLASS,
        .subclass = HID_SUBCLASS,
        .protocol = HID_PROTOCOL,
        .name = "cube-app HID",
        .extra = hid_descriptor,
        .extra_len = HID_DESC_LEN,
        .eps = s_hid_eps,
        .num_eps = 2,
    };
    s_usb.alts[ITF_DFU] = (usbd_alt_desc_t){
        .cls = 0xFEu, /* application specific: DFU, run-time protocol (DFU 1.1 4.1.2) */
        .subclass = 0x01u,
        .protocol = 0x01u,
        /* The identity h7dfu update looks for without a selection
         * (core/app/h7_app_id.h), then the product's own words. */
        .name = H7_APP_DFU_ITF_NAME " (cube-app)",
        .extra = h7_app_dfu_functional_descriptor(&s_usb.dfu),
        .extra_len = DFU_FUNC_DESC_LEN,
    };
    s_usb.itfs[ITF_HID] = (usbd_interface_desc_t){
        .alts = &s_usb.alts[ITF_HID], .num_alts = 1, .driver = &hid_class_driver};
    s_usb.itfs[ITF_DFU] = (usbd_interface_desc_t){
        .alts = &s_usb.alts[ITF_DFU], .num_alts = 1, .driver = &s_usb.dfu_drv};
    s_usb.dev = (usbd_device_desc_t){
        .vid = 0x0483u,
        .pid = 0x5750u,
        .bcd_device = (uint16_t)((v[0] % 100u / 10u) << 12 | (v[0] % 10u) << 8 |
                                 (v[1] > 9u ? 9u : v[1]) << 4 | (v[2] > 9u ? 9u : v[2])),
        .manufacturer = "h7dfu",
        .product = "h7dfu cube-app",
        .serial = s_usb.serial,
        .attributes = USB_CONFIG_ATTR_ONE,
        .max_power_ma = 100u,
        .itfs = s_usb.itfs,
        .num_itfs = 2,
    };
    if (!usbd_init(&s_usb.dev)) {
        return false;
    }
    usbd_connect();
    return true;
}

bool h7dfu_usb_task(void)
{
    usbd_task();
    return s_usb.enter_update || h7_app_dfu_detach_requested(&s_usb.dfu);
}

void h7dfu_usb_enter_bootloader(void)
{
    usbd_disconnect();
    h743_usb_board_deinit();
    h7_app_enter_bootloader(&h7_boot_request, NVIC_SystemReset);
    for (;;) {
    }
}
