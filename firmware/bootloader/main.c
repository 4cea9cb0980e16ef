/*
 * h7dfu bootloader (sector 0, 0x08000000): the STM32H743 side of the
 * portable bootloader (bootloader.c): boot decision at reset, DfuSe over USB
 * OTG_FS, leave through a reset.
 *
 * h743_early_boot() runs from Reset_Handler before clocks, caches, USB or
 * interrupts are touched (start-up flow: core/boot/boot.h):
 *   START_APP              -> the app's vector table (the slot start): the app
 *                             sees the core as after reset
 *   ENTER_ROM_BOOTLOADER   -> ST's system memory bootloader, same hand-over
 *   STAY_IN_DFU            -> return: main() runs the DFU device
 * After a DFU session ends (leave/manifest) the bootloader never jumps: it
 * drops off the bus and resets with START_APP (or STAY_IN_DFU when the new
 * image does not validate), and the decision above runs again.
 */
#include <stdbool.h>
#include <stdint.h>

#include "bl_ident.h"
#include "bootloader.h"
#include "dfu.h"
#include "h743_port.h"
#include "usbd.h"

/* usbd's control transfer buffer (wTransferSize): the "transfer buffer",
 * outside the 8 KiB RAM budget (linker/bootloader.ld). */
static uint8_t s_xfer[H7_DFU_XFER_MAX] __attribute__((section(".xferbuf")));
static uint8_t s_blocks[BOOTLOADER_BLOCK_BUFS * H7_DFU_XFER_MAX]
    __attribute__((section(".xferbuf")));
static char s_serial[25];

/* Who this image is (core/boot/bl_ident.h): read by h7dfu update-bootloader
 * and the virtual board. Its size is the linker's (bootloader.ld). */
extern const uint8_t __bl_flash_used[];
__attribute__((section(".bl_ident"), used)) const h7_bl_ident_t h7_bl_ident = {
    .magic = H7_BL_IDENT_MAGIC,
    .device_id = BOOT_DEVICE_ID_H743,
    .major = H7_BL_VERSION_MAJOR,
    .minor = H7_BL_VERSION_MINOR,
    .base = H7_BL_BASE,
    .image_size = (uint32_t)(uintptr_t)__bl_flash_used,
};
_Static_assert(sizeof(h7_bl_ident_t) == H7_BL_IDENT_SIZE, "the identity is 16 bytes");

/* Why the board stays in DFU mode, for the boot status command. */
static boot_decision_t s_boot;
static boot_image_info_t s_boot_info;

void h743_early_boot(void)
{
#if defined(H7_BOOT_SIGNED) && H7_BOOT_SIGNED
    /* The decision may append to the security counter log in its reserved
     * sector (boot_sig.h): the only write there, so unguarded here; main()
     * guards the reserved sectors again before the DFU device runs. */
    bootloader_signed_init();
    h743_flash_set_map(flash_map_stm32h743_signed());
    h743_clock_us_start(); /* the flash driver's timeouts, at the reset clock */
    boot_decision_t d = bootloader_decide(&h7_boot_request, h743_flash_dev(false), &s_boot_info);
#else
    boot_decision_t d = bootloader_decide(&h7_boot_request, h743_flash_dev(true), &s_boot_info);
#endif
    s_boot = d;
    switch (d.action) {
    case BOOT_START_APP:
        h743_jump_to_vectors(s_boot_info.vector_table);
    case BOOT_ENTER_ROM_BOOTLOADER:
        h743_jump_to_vectors(H7_ROM_BOOT_ADDR);
    case BOOT_STAY_IN_DFU:
    default:
        return;
    }
}

/* Leave DFU: vanish from the bus, then reset into the decision above. */
static void leave(const flash_dev_t *flash)
{
    /* Let the host collect the last GETSTATUS: 10 ms with USB still served.
     * Its status stage (an OUT ZLP) is armed only once the IN data has gone,
     * by usbd_task(); a blind wait would leave it NAKed until the reset, and
     * the host's GETSTATUS of a leave (dfu-util's :leave) would fail. */
    for (uint32_t i = 0; i < 100u; i++) {
        usbd_task();
        h743_delay_us(100u);
    }
    usbd_disconnect();
    h743_usb_board_deinit();
    h743_reset_with_request(bootloader_leave_request(flash));
}

int main(void)
{
    /* Entered by a jump with the PLL running or USB clocked (ST's ROM
     * bootloader's leave to 0x08000000): PLL settings cannot change while it
     * runs, and USB would start from the ROM's state. Start from a reset;
     * the boot decision then runs again on a clean chip. */
    if (h743_started_dirty()) {
        h743_system_reset();
    }
    h743_clock_init();
    h743_clock_us_start();
    h743_usb_board_init();
    h743_serial_string(s_serial);
    const flash_dev_t *flash = h743_flash_dev(true);
    bootloader_config_t cfg = {
        .flash = flash,
        .serial = s_serial,
        .xfer_buf = s_xfer,
        .xfer_buf_size = sizeof s_xfer,
        .block_bufs = s_blocks,
        .block_buf_count = BOOTLOADER_BLOCK_BUFS,
        .ops_in_poll = true,     /* flash work from the main loop, not inside dcd_poll */
        .now_us = h743_clock_us, /* bwPollTimeout: the time left */
        .boot = &s_boot,
        .boot_info = &s_boot_info,
#if H7_DFU_UPLOAD_LIMIT
        .locked = true, /* the bootloader-locked image (firmware/CMakeLists.txt) */
#endif
    };
    if (!bootloader_usb_init(&cfg)) {
        /* A description that does not build is a firmware bug: stay put
         * rather than reset-loop. */
        for (;;) {
        }
    }
    usbd_connect();
    for (;;) {
        (void)h743_clock_us(NULL); /* keeps the microsecond count across CYCCNT wraps */
        if (bootloader_task()) {
            leave(flash);
        }
    }
}
