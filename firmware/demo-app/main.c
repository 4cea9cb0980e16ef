/*
 * h7dfu demo application (slot 0x08020000, vector table at the slot start;
 * its image record in sector 15): the STM32H743 side of the portable demo app (demo_app.c):
 * a vendor HID device plus a DFU run-time interface.
 *
 * Two ways into an update, both ending the same way (core/app):
 *   - the HID "enter update" report, or
 *   - DFU DETACH on the run-time interface (dfu-util -e, h7dfu).
 * The app drops off the bus, sets "stay in DFU" in the shared .noinit block
 * and resets: the bootloader comes up in DFU mode from a clean reset (no jump
 * with live USB state in either direction).
 */
#include <stdbool.h>
#include <stdint.h>

#include "demo_app.h"
#include "h7_app.h"
#include "h743_port.h"
#include "usbd.h"

static char s_serial[25];

static void hand_over(void)
{
    h7_app_enter_bootloader(&h7_boot_request, h743_system_reset);
    for (;;) {
    }
}

int main(void)
{
    /* Started by ST's ROM bootloader's jump (its "leave")? Reset first, so
     * USB and clocks start from their reset state and the device enumerates. */
    h7_app_ensure_clean_start(h743_started_dirty(), h743_system_reset);
    h743_clock_init();
    h743_usb_board_init();
    h743_serial_string(s_serial);
    demo_app_config_t cfg = {.flash = h743_flash_dev(true), .serial = s_serial};
    if (!demo_app_usb_init(&cfg)) {
        hand_over(); /* broken app: go update it */
    }
    usbd_connect();
    for (;;) {
        if (demo_app_task()) {
            h743_delay_us(10000u); /* let the SET_REPORT / DETACH status stage finish */
            usbd_disconnect();
            h743_usb_board_deinit();
            hand_over();
        }
    }
}
