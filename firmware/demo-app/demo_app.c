/*
 * The demo application's portable half (demo_app.h): HID interface 0 with the
 * "enter update" report, DFU run-time interface 1 (core/app), the version
 * read from the application's own image header. Only core/ interfaces: the
 * same file runs on the STM32H743 (main.c) and in the virtual board.
 */
#include "demo_app.h"

#include <string.h>

#include "boot.h"
#include "h7_app.h"
#include "hid.h"
#include "usbd.h"

#define DEMO_ITF_HID 0u
#define DEMO_ITF_DFU 1u

static const usbd_endpoint_desc_t s_hid_eps[] = {
    {.addr = 0x81u, .type = USB_EP_INTERRUPT, .max_packet = HID_REPORT_SIZE, .interval = 10u},
    {.addr = 0x01u, .type = USB_EP_INTERRUPT, .max_packet = HID_REPORT_SIZE, .interval = 10u},
};

/* One device per program, like usbd itself. */
static struct {
    uint8_t version[3];
    char version_str[32];
    volatile bool enter_update;
    hid_config_t hid;
    h7_app_dfu_t dfu;
    usbd_class_driver_t dfu_drv;
    usbd_alt_desc_t alts[2];
    usbd_interface_desc_t itfs[2];
    usbd_device_desc_t dev;
} s_app;

/* Version from the newest image record (sector 15, image_header.h); 0.0.0
 * when there is none or it is not intact (e.g. an unstamped image started by
 * a debugger). */
static void read_version(const flash_dev_t *flash, uint8_t out[3])
{
    uint8_t raw[BOOT_HDR_SIZE];
    boot_image_header_t h;
    uint32_t rec = 0;
    out[0] = out[1] = out[2] = 0u;
    if (flash == NULL || boot_record_newest(flash, &rec, raw) != FLASH_OK || rec == 0u) {
        return;
    }
    boot_header_decode(raw, &h);
    if (h.magic != BOOT_HDR_MAGIC || h.hdr_crc != boot_header_crc(raw)) {
        return;
    }
    out[0] = h.version.major;
    out[1] = h.version.minor;
    out[2] = h.version.patch > 0xFFu ? 0xFFu : (uint8_t)h.version.patch;
}

/* "h7dfu demo X.Y.Z" without stdio (the firmware links no printf). */
static void version_string(const uint8_t v[3], char out[32])
{
    static const char prefix[] = "h7dfu demo ";
    char *p = out;
    memcpy(p, prefix, sizeof prefix - 1u);
    p += sizeof prefix - 1u;
    for (unsigned i = 0; i < 3u; i++) {
        unsigned n = v[i];
        if (n >= 100u) {
            *p++ = (char)('0' + n / 100u);
        }
        if (n >= 10u) {
            *p++ = (char)('0' + n / 10u % 10u);
        }
        *p++ = (char)('0' + n % 10u);
        *p++ = i < 2u ? '.' : '\0';
    }
}

static void on_report(const uint8_t *report, uint16_t len, void *user)
{
    (void)user;
    if (h7_app_is_enter_update_report(report, len)) {
        s_app.enter_update = true;
    }
}

bool demo_app_usb_init(const demo_app_config_t *cfg)
{
    if (cfg == NULL) {
        return false;
    }
    s_app.enter_update = false;
    read_version(cfg->flash, s_app.version);
    version_string(s_app.version, s_app.version_str);

    s_app.hid = (hid_config_t){
        .ep_in = 0x81u,
        .ep_out = 0x01u,
        .version = {s_app.version[0], s_app.version[1], s_app.version[2]},
        .version_str = s_app.version_str,
        .on_report = on_report,
    };
    hid_init(&s_app.hid);

    h7_app_dfu_init(&s_app.dfu, DEMO_ITF_DFU, 0u);
    s_app.dfu_drv = h7_app_dfu_class_driver(&s_app.dfu);

    s_app.alts[DEMO_ITF_HID] = (usbd_alt_desc_t){
        .cls = HID_CLASS,
        .subclass = HID_SUBCLASS,
        .protocol = HID_PROTOCOL,
        .name = "h7dfu demo HID",
        .extra = hid_descriptor,
        .extra_len = HID_DESC_LEN,
        .eps = s_hid_eps,
        .num_eps = 2,
    };
    s_app.alts[DEMO_ITF_DFU] = (usbd_alt_desc_t){
        .cls = 0xFEu, /* DFU (DFU 1.1 4.1.2): run-time protocol 1 */
        .subclass = 0x01u,
        .protocol = 0x01u,
        .name = H7_APP_DFU_ITF_NAME,
        .extra = h7_app_dfu_functional_descriptor(&s_app.dfu),
        .extra_len = DFU_FUNC_DESC_LEN,
    };
    s_app.itfs[DEMO_ITF_HID] = (usbd_interface_desc_t){
        .alts = &s_app.alts[DEMO_ITF_HID], .num_alts = 1, .driver = &hid_class_driver};
    s_app.itfs[DEMO_ITF_DFU] = (usbd_interface_desc_t){
        .alts = &s_app.alts[DEMO_ITF_DFU], .num_alts = 1, .driver = &s_app.dfu_drv};

    s_app.dev = (usbd_device_desc_t){
        .vid = DEMO_APP_VID,
        .pid = DEMO_APP_PID,
        .bcd_device = h7_app_bcd_device(s_app.version[0], s_app.version[1]),
        .manufacturer = "h7dfu",
        .product = "h7dfu demo app",
        .serial = cfg->serial,
        .attributes = USB_CONFIG_ATTR_ONE,
        .max_power_ma = 100u,
        .itfs = s_app.itfs,
        .num_itfs = 2,
        /* WinUSB for the DFU run-time interface on Windows (docs/windows.md) */
        .ms_os20 = h7_app_dfu_ms_os20(&s_app.dfu),
    };
    return usbd_init(&s_app.dev);
}

bool demo_app_task(void)
{
    usbd_task();
    return s_app.enter_update || h7_app_dfu_detach_requested(&s_app.dfu);
}

void demo_app_version(uint8_t out[3])
{
    memcpy(out, s_app.version, 3);
}
