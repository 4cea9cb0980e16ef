/*
 * h7dfu demo application (linked at 0x08020000): a vendor HID device plus a
 * DFU run-time interface.
 *
 * Two ways into an update, both ending the same way:
 *   - the HID "enter update" report (core/hid), or
 *   - DFU DETACH on the run-time interface (dfu-util -e, h7dfu).
 * The app then drops off the bus, sets the "stay in DFU" request in the
 * shared .noinit block and resets: the bootloader comes up in DFU mode from
 * a clean reset (no jump with live USB state in either direction).
 */
#include <stdbool.h>
#include <stdint.h>

#include "dfu.h"
#include "dfu_runtime.h"
#include "h7_port.h"
#include "hid.h"
#include "usbd.h"

#define APP_VID           0x0483u /* STMicroelectronics */
#define APP_PID           0x5750u /* HID device (ST's custom HID example PID) */
#define APP_VERSION_MAJOR 1u
#define APP_VERSION_MINOR 0u
#define APP_VERSION_PATCH 0u

static volatile bool s_enter_update;
static char s_serial[25];
static dfu_runtime_t s_rt;
static usbd_class_driver_t s_rt_drv;
static uint8_t s_rt_func_desc[DFU_FUNC_DESC_LEN];

static const usbd_endpoint_desc_t s_hid_eps[] = {
    {.addr = 0x81u, .type = USB_EP_INTERRUPT, .max_packet = HID_REPORT_SIZE, .interval = 10u},
    {.addr = 0x01u, .type = USB_EP_INTERRUPT, .max_packet = HID_REPORT_SIZE, .interval = 10u},
};

static usbd_alt_desc_t s_alts[2];
static usbd_interface_desc_t s_itfs[2];
static usbd_device_desc_t s_dev;

static void request_update(void *user)
{
    (void)user;
    s_enter_update = true;
}

static void on_detach(void *user, uint16_t timeout_ms)
{
    (void)timeout_ms;
    request_update(user);
}

static const hid_config_t s_hid_cfg = {
    .ep_in = 0x81u,
    .ep_out = 0x01u,
    .version = {APP_VERSION_MAJOR, APP_VERSION_MINOR, APP_VERSION_PATCH},
    .version_str = "h7dfu demo 1.0.0",
    .on_enter_update = request_update,
};

static bool usb_setup(void)
{
    hid_init(&s_hid_cfg);

    const uint8_t attrs = DFU_ATTR_CAN_DNLOAD | DFU_ATTR_WILL_DETACH;
    const uint16_t detach_ms = 1000u;
    dfu_runtime_config_t rt_cfg = {
        .itf_num = 1,
        .attributes = attrs,
        .detach_timeout_ms = detach_ms,
        .detach = on_detach,
        .detach_reset = request_update,
    };
    dfu_runtime_init(&s_rt, &rt_cfg);
    s_rt_drv = dfu_runtime_class_driver(&s_rt);
    if (dfu_functional_descriptor(s_rt_func_desc, sizeof s_rt_func_desc, attrs, detach_ms,
                                  H7_DFU_XFER_DEFAULT) != DFU_FUNC_DESC_LEN) {
        return false;
    }

    s_alts[0] = (usbd_alt_desc_t){
        .cls = HID_CLASS,
        .subclass = HID_SUBCLASS,
        .protocol = HID_PROTOCOL,
        .name = "h7dfu demo HID",
        .extra = hid_descriptor,
        .extra_len = HID_DESC_LEN,
        .eps = s_hid_eps,
        .num_eps = 2,
    };
    s_alts[1] = (usbd_alt_desc_t){
        .cls = 0xFEu, /* DFU (DFU 1.1 4.1.2): run-time protocol 1 */
        .subclass = 0x01u,
        .protocol = 0x01u,
        .name = "h7dfu runtime",
        .extra = s_rt_func_desc,
        .extra_len = DFU_FUNC_DESC_LEN,
    };
    s_itfs[0] =
        (usbd_interface_desc_t){.alts = &s_alts[0], .num_alts = 1, .driver = &hid_class_driver};
    s_itfs[1] = (usbd_interface_desc_t){.alts = &s_alts[1], .num_alts = 1, .driver = &s_rt_drv};

    h7_serial_string(s_serial);
    s_dev = (usbd_device_desc_t){
        .vid = APP_VID,
        .pid = APP_PID,
        .bcd_device = 0x0100u,
        .manufacturer = "h7dfu",
        .product = "h7dfu demo app",
        .serial = s_serial,
        .attributes = USB_CONFIG_ATTR_ONE,
        .max_power_ma = 100u,
        .itfs = s_itfs,
        .num_itfs = 2,
    };
    return usbd_init(&s_dev);
}

int main(void)
{
    h7_clock_init();
    h7_usb_board_init();
    if (!usb_setup()) {
        h7_reset_with_request(H7_REQ_STAY_IN_DFU); /* broken app: go update it */
    }
    usbd_connect();
    for (;;) {
        usbd_task();
        if (s_enter_update) {
            h7_delay_us(10000u); /* let the SET_REPORT / DETACH status stage finish */
            usbd_disconnect();
            h7_usb_board_deinit();
            h7_reset_with_request(H7_REQ_STAY_IN_DFU);
        }
    }
}
