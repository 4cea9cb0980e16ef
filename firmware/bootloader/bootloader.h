/*
 * The bootloader's portable half: the boot decision at reset and the DfuSe
 * USB device. The same code runs in the firmware (firmware/bootloader/main.c,
 * on port/stm32h743) and in the virtual board (sim/board); the caller supplies
 * the flash, the serial number, the request block and the reset.
 */
#ifndef H7_BOOTLOADER_H
#define H7_BOOTLOADER_H

#include <stdbool.h>
#include <stdint.h>

#include "boot.h"
#include "flash.h"

/* USB VID:PID, a build option (CMake H7_BOOTLOADER_VID / H7_BOOTLOADER_PID).
 * The default is the DFU VID:PID DfuSe tools look for (AN3156); docs/windows.md
 * says when to choose an own one. */
#ifndef BOOTLOADER_VID
#define BOOTLOADER_VID 0x0483u
#endif
#ifndef BOOTLOADER_PID
#define BOOTLOADER_PID 0xDF11u
#endif
/* Microsoft OS 2.0 descriptors (core/usb/ms_os20.h, docs/windows.md): the
 * vendor request code that reads the descriptor set, and the device interface
 * GUID WinUSB registers for the bootloader. */
#ifndef BOOTLOADER_MS_OS20_VENDOR_CODE
#define BOOTLOADER_MS_OS20_VENDOR_CODE 0x48u
#endif
#define BOOTLOADER_INTERFACE_GUID u"{FF3587CE-4518-40C8-B597-2CF6F84B3BE8}"
/* Transfer buffers for blocks waiting for the flash: one being programmed
 * per bank and one more per bank received meanwhile (measured against two
 * and three in docs/performance.md). */
#ifndef BOOTLOADER_BLOCK_BUFS
#define BOOTLOADER_BLOCK_BUFS 4u
#endif

/* The locked bootloader's UPLOAD window (CMake H7_LOCKED_UPLOAD_BASE /
 * H7_LOCKED_UPLOAD_SIZE): what a product chooses to let the host read back,
 * e.g. a record sector; empty by default (every memory read refused). */
#ifndef BOOTLOADER_UPLOAD_BASE
#define BOOTLOADER_UPLOAD_BASE 0u
#endif
#ifndef BOOTLOADER_UPLOAD_SIZE
#define BOOTLOADER_UPLOAD_SIZE 0u
#endif

typedef struct bootloader_config {
    const flash_dev_t *flash;
    const char *serial;  /* USB serial number: the same as the application's */
    const char *product; /* NULL: "h7dfu bootloader" */
    uint8_t *xfer_buf;   /* control transfer buffer, >= the DFU transfer size */
    uint16_t xfer_buf_size;
    /* Blocks waiting for the flash: block_buf_count buffers of the DFU
     * transfer size (H7_DFU_XFER_DEFAULT), back to back (dfu.h). */
    uint8_t *block_bufs;
    uint8_t block_buf_count;
    bool ops_in_poll;        /* flash work from the main loop (the board does) */
    uint16_t poll_scale_div; /* divide reported bwPollTimeout (virtual board --fast); 0 = 1 */
    /* The boot decision that left the board in DFU mode and what it read of
     * the slot, for the boot status command (docs/protocol.md); NULL: none
     * known. */
    const boot_decision_t *boot;
    const boot_image_info_t *boot_info;
    /* The device's microsecond clock (the port's, or the virtual board's):
     * bwPollTimeout counts the time already spent. NULL: none. */
    uint32_t (*now_us)(void *user);
    void *clock_user;
#if H7_DFU_UPLOAD_LIMIT
    /* The locked configuration (docs/production.md): DFU UPLOAD of memory
     * reads only the product's window, BOOTLOADER_UPLOAD_BASE/SIZE (size 0,
     * the default: nothing). */
    bool locked;
#endif
} bootloader_config_t;

/*
 * Step 1 of the start-up flow (core/boot/boot.h): take and clear the request,
 * validate the slot, decide. Called first thing after reset.
 */
boot_decision_t bootloader_decide(volatile boot_request_block_t *req, const flash_dev_t *flash,
                                  boot_image_info_t *info);

/* Build the DFU device (usbd + dfu). The caller then calls usbd_connect(). */
bool bootloader_usb_init(const bootloader_config_t *cfg);

/* One main-loop step. Returns true once the host has left DFU mode
 * (manifest): the caller disconnects and resets with bootloader_leave_request(). */
bool bootloader_task(void);

#if defined(H7_BOOT_SIGNED) && H7_BOOT_SIGNED
/* The signed build (signed.c): mbedtls's arena and the built-in key; before
 * the first bootloader_decide. */
void bootloader_signed_init(void);
#endif

/* The request to reset with after leave: START_APP when the slot validates,
 * STAY_IN_DFU otherwise (the board comes back in DFU mode, never runs junk);
 * ENTER_ROM_BOOTLOADER when the host asked for ST's ROM (0xC5). */
boot_request_t bootloader_leave_request(const flash_dev_t *flash);

#endif
