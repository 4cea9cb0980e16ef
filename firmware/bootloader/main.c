/*
 * h7dfu bootloader (sector 0, 0x08000000): DfuSe over USB OTG_FS, and the
 * boot decision.
 *
 * Boot decision, in h7_early_boot(), i.e. at reset before .data/.bss, clocks
 * or any peripheral are touched:
 *   request "stay in DFU" (set by the app's "enter update", or by us after a
 *       download whose image is not startable)          -> run DFU
 *   request "ROM bootloader"                              -> ST system memory
 *   otherwise, app vector table plausible (app_check.c)   -> jump to the app
 *   otherwise                                             -> run DFU
 * The application is only ever started from this point, straight out of a
 * reset, so it finds USB, clocks and interrupts in their reset state (the
 * seed scenario's failure 2). After a download (DFU "leave"), the bootloader
 * therefore does not jump: it requests "start app" and resets.
 *
 * The check is a plausibility check of the first two vector table words;
 * a real image header (length, CRC) is the boot layer's job (later issue).
 */
#include <stdbool.h>
#include <stdint.h>

#include "app_check.h"
#include "dfu.h"
#include "h7_port.h"
#include "usbd.h"

#define BL_VID 0x0483u /* the DFU VID:PID DfuSe tools look for (AN3156) */
#define BL_PID 0xDF11u

static dfu_t s_dfu;
/* usbd's control transfer buffer (wTransferSize): the "transfer buffer",
 * outside the 8 KiB RAM budget (linker/bootloader.ld). */
static uint8_t s_ctrl_buf[H7_DFU_XFER_MAX] __attribute__((section(".xferbuf")));
static usbd_class_driver_t s_drv;
static char s_alt_name[80];
static char s_serial[25];
static uint8_t s_func_desc[DFU_FUNC_DESC_LEN];
static usbd_alt_desc_t s_alt;
static usbd_interface_desc_t s_itf;
static usbd_device_desc_t s_dev;
static volatile bool s_leave;

static bool app_startable(void)
{
    const volatile uint32_t *vec = (const volatile uint32_t *)H7_APP_ADDR;
    return h7_app_vectors_plausible(&h7_app_region_h743, vec[0], vec[1]);
}

void h7_early_boot(void)
{
    switch (h7_request_take()) {
    case H7_REQ_STAY_IN_DFU:
        return;
    case H7_REQ_ROM_BOOTLOADER:
        h7_jump_to_vectors(H7_ROM_BOOT_ADDR);
    case H7_REQ_START_APP:
    case H7_REQ_NONE:
    default:
        if (app_startable()) {
            h7_jump_to_vectors(H7_APP_ADDR);
        }
        return;
    }
}

static void on_manifest(void *user, uint32_t addr)
{
    (void)user;
    (void)addr;
    s_leave = true;
}

/* Leave DFU: vanish from the bus, then start the app through a reset, or
 * come back in DFU mode when the image is not startable. */
static void leave(void)
{
    h7_delay_us(10000u); /* let the host collect the last GETSTATUS */
    usbd_disconnect();
    h7_usb_board_deinit();
    h7_reset_with_request(app_startable() ? H7_REQ_START_APP : H7_REQ_STAY_IN_DFU);
}

static bool usb_setup(void)
{
    dfu_config_t cfg = {
        .flash = h7_flash_dev(true),
        .itf_num = 0,
        .ops_in_poll = true, /* flash work from the main loop, not inside dcd_poll */
        .manifest = on_manifest,
    };
    if (!dfu_init(&s_dfu, &cfg)) {
        return false;
    }
    s_drv = dfu_class_driver(&s_dfu);
    if (dfu_alt_string(&s_dfu, 0, s_alt_name, sizeof s_alt_name) == 0 ||
        dfu_functional_descriptor(s_func_desc, sizeof s_func_desc, s_dfu.cfg.attributes,
                                  s_dfu.cfg.detach_timeout_ms,
                                  dfu_transfer_size(&s_dfu)) != DFU_FUNC_DESC_LEN) {
        return false;
    }
    h7_serial_string(s_serial);
    s_alt = (usbd_alt_desc_t){
        .cls = 0xFEu, /* application specific: DFU (DFU 1.1 4.2.3) */
        .subclass = 0x01u,
        .protocol = 0x02u, /* DFU mode */
        .name = s_alt_name,
        .extra = s_func_desc,
        .extra_len = DFU_FUNC_DESC_LEN,
    };
    s_itf = (usbd_interface_desc_t){.alts = &s_alt, .num_alts = 1, .driver = &s_drv};
    s_dev = (usbd_device_desc_t){
        .vid = BL_VID,
        .pid = BL_PID,
        .bcd_device = 0x0200u,
        .manufacturer = "h7dfu",
        .product = "h7dfu bootloader",
        .serial = s_serial,
        .attributes = USB_CONFIG_ATTR_ONE,
        .max_power_ma = 100u,
        .itfs = &s_itf,
        .num_itfs = 1,
        .ctrl_buf = s_ctrl_buf,
        .ctrl_buf_size = sizeof s_ctrl_buf,
    };
    return usbd_init(&s_dev);
}

int main(void)
{
    h7_clock_init();
    h7_usb_board_init();
    if (!usb_setup()) {
        /* A description that does not build is a firmware bug: stay put
         * rather than reset-loop. */
        for (;;) {
        }
    }
    usbd_connect();
    for (;;) {
        usbd_task();
        if (s_leave) {
            leave();
        }
    }
}
