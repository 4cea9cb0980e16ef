/*
 * The application library: what a user's application needs to hand the board
 * over to a bootloader, whatever USB stack it uses. Portable C (no hardware
 * access, no malloc); the reset and the jump are passed in by the caller, so
 * the same code runs on the STM32H743 and in the virtual board.
 *
 * Three parts (docs/app-integration.md says what to call where):
 *
 *  1. Hand-over through a system reset, with the request word of core/boot
 *     (boot.h) in RAM that survives it:
 *       h7_app_enter_bootloader()      -> the h7dfu bootloader in DFU mode
 *       h7_app_enter_rom_bootloader()  -> ST's system-memory bootloader
 *     and, for boards WITHOUT the h7dfu bootloader (ST ROM only), the check
 *     to call first thing after reset that performs the ROM jump:
 *       h7_app_early_init_check()
 *     The ROM bootloader must be entered from the reset state: on the H7 a
 *     jump from a running application leaves USB (OTG_FS enabled, pull-up
 *     on, FIFOs set up), the PLL clock tree, the caches and pending or
 *     enabled interrupts behind, and the ROM's own USB set-up then fails
 *     (the invisible board of the reported field failure).
 *
 *  2. The DFU run-time interface (DFU 1.1 4.1, A.1) as a plain request
 *     handler over dfu_runtime: for ST's Cube USB device library (call it
 *     from the class Setup callback) or any other stack; and as a core/usb
 *     class driver.
 *
 *  3. The HID "enter update" report (core/hid/hid.h has the layout).
 *
 * The run-time interface comes with Microsoft OS 2.0 descriptors (WinUSB for
 * that interface on Windows 8.1 and later without a driver install,
 * docs/windows.md): a BOS descriptor and a descriptor set built at compile
 * time, the interface number and the vendor request code patched in.
 */
#ifndef H7_APP_H
#define H7_APP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "boot.h"
#include "dfu_runtime.h"
#include "h7_app_id.h"
#include "h7_target.h"
#include "ms_os20.h"
#include "usbd.h"
#include "usbd_class.h"

/* The chip's ROM bootloader entry, its vector table (h7_target.h; ST's
 * system memory bootloader on the STM32H743, AN2606: 0x1FF09800). */
#define H7_APP_ROM_BOOTLOADER_ADDR H7_TARGET_ROM_BOOT_ADDR

/* A system reset; on hardware it never returns (tests and the virtual board
 * record it and return). */
typedef void (*h7_app_reset_fn)(void);
/* Load MSP from vector_table[0], set VTOR, branch to vector_table[1]; from the
 * reset state only. On hardware it never returns. */
typedef void (*h7_app_jump_fn)(uint32_t vector_table);

/* ---- 1. hand-over ---- */

/* Request "stay in DFU" and reset: the h7dfu bootloader comes up in DFU mode. */
void h7_app_enter_bootloader(volatile boot_request_block_t *blk, h7_app_reset_fn reset);

/* Request "ROM bootloader" and reset: the h7dfu bootloader (or, on a ROM-only
 * board, h7_app_early_init_check()) jumps to ST's ROM straight out of reset. */
void h7_app_enter_rom_bootloader(volatile boot_request_block_t *blk, h7_app_reset_fn reset);

/*
 * For applications on boards WITHOUT the h7dfu bootloader: call it first
 * thing in Reset_Handler (or at the top of SystemInit), before clocks, caches,
 * the FPU or interrupts are touched and before .data/.bss are initialised is
 * fine too (it only reads and clears the request block). When the block holds
 * BOOT_REQ_ENTER_ROM_BOOTLOADER it clears the request and calls
 * jump(H7_APP_ROM_BOOTLOADER_ADDR), which does not return on hardware; the
 * function then returns true (tests). Any other content is left untouched and
 * false is returned: the application starts normally.
 */
bool h7_app_early_init_check(volatile boot_request_block_t *blk, h7_app_jump_fn jump);

/*
 * The other half of the reported field failure: ST's ROM bootloader "leave"
 * starts the application by a jump, with its own clock tree, USB core and
 * interrupts still set up, and the application's USB then never enumerates.
 * Call this first in main(), with what the port found (h743_started_dirty() on
 * the STM32H743): when the start was not clean it resets, so the application
 * runs again from a real reset (BOOT0 low: straight to the application).
 * Returns false when the start was clean (or, in tests, after reset()).
 */
bool h7_app_ensure_clean_start(bool started_dirty, h7_app_reset_fn reset);

/* ---- 2. DFU run-time interface ---- */

#define H7_APP_DFU_DETACH_MS_DEFAULT 1000u
/* Interface descriptor (9) + DFU functional descriptor (9). */
#define H7_APP_DFU_ITF_DESC_LEN 18u

/* Microsoft OS 2.0: the default vendor request code that reads the
 * descriptor set (any value the application's other vendor requests do not
 * use; h7_app_dfu_set_ms_os20_vendor_code() changes it), and the device
 * interface GUID WinUSB registers for the run-time interface. An application
 * that is its own product defines its own GUID (docs/windows.md). */
#ifndef H7_APP_MS_OS20_VENDOR_CODE
#define H7_APP_MS_OS20_VENDOR_CODE 0x48u
#endif
#ifndef H7_APP_DFU_INTERFACE_GUID
#define H7_APP_DFU_INTERFACE_GUID u"{9E26F7B6-ED75-4D5B-916C-5292D522C82E}"
#endif

typedef struct h7_app_dfu {
    dfu_runtime_t rt;
    volatile bool detach_requested; /* DETACH accepted (willDetach), or bus
                                       reset in appDETACH */
    uint8_t func_desc[DFU_FUNC_DESC_LEN];
    /* Microsoft OS 2.0 descriptors for this interface (composite device:
     * a function subset for interface itf_num). */
    uint8_t ms_bos[MS_OS20_BOS_LEN];
    ms_os20_function_set_t ms_set;
    usbd_ms_os20_t ms_os20;
} h7_app_dfu_t;

/* Set up the run-time interface number itf_num, attributes
 * download-capable + willDetach (the application detaches itself: it resets
 * into the bootloader), wDetachTimeOut detach_timeout_ms (0: default). */
void h7_app_dfu_init(h7_app_dfu_t *d, uint8_t itf_num, uint16_t detach_timeout_ms);

/*
 * One control request, raw: the 8 setup bytes as they came off the wire
 * (bmRequestType, bRequest, wValue, wIndex, wLength, little endian). Class
 * requests to the run-time interface are answered (DETACH, GETSTATUS,
 * GETSTATE), and the Microsoft OS 2.0 descriptor set request (cut to
 * wLength and cap); anything else returns USBD_STALL, so the caller can try its
 * other handlers first or stall. IN: up to cap bytes are written to data and
 * their count returned. OUT/no data: 0.
 */
int h7_app_dfu_request(h7_app_dfu_t *d, const uint8_t setup[8], uint8_t *data, uint16_t cap);

/* The same with the fields already decoded (ST Cube's USBD_SetupReqTypedef
 * has bmRequest, bRequest, wValue, wIndex, wLength). */
int h7_app_dfu_request_fields(h7_app_dfu_t *d, uint8_t bm_request_type, uint8_t b_request,
                              uint16_t w_value, uint16_t w_index, uint16_t w_length, uint8_t *data,
                              uint16_t cap);

/* The vendor request code of the Microsoft OS 2.0 descriptor set (default
 * H7_APP_MS_OS20_VENDOR_CODE); call it before the device is built. */
void h7_app_dfu_set_ms_os20_vendor_code(h7_app_dfu_t *d, uint8_t vendor_code);

/* For core/usb: usbd_device_desc_t.ms_os20 (the core then reports bcdUSB
 * 0x0201 and answers the BOS and descriptor set requests). */
const usbd_ms_os20_t *h7_app_dfu_ms_os20(const h7_app_dfu_t *d);

/* For other stacks (Cube: the GetBOSDescriptor callback, with bcdUSB 0x0201
 * in the device descriptor): the BOS descriptor and its length. The
 * descriptor set request itself (bmRequestType 0xC0, bRequest = the vendor
 * code, wIndex 7) is answered by h7_app_dfu_request(). */
const uint8_t *h7_app_dfu_bos_descriptor(const h7_app_dfu_t *d, uint16_t *len);

/* USB bus reset seen by the application's stack (DFU 1.1 A.1: a reset in
 * appDETACH means "enter DFU mode"). */
void h7_app_dfu_bus_reset(h7_app_dfu_t *d);

/* True once the host asked for the bootloader on this interface: the main
 * loop then lets the status stage finish (a few ms), detaches from USB and
 * calls h7_app_enter_bootloader(). */
bool h7_app_dfu_detach_requested(const h7_app_dfu_t *d);

/* The functional descriptor (9 bytes) for core/usb's usbd_alt_desc_t.extra. */
const uint8_t *h7_app_dfu_functional_descriptor(const h7_app_dfu_t *d);

/*
 * The 18 bytes to insert into a hand-written configuration descriptor
 * (Cube): interface descriptor (class 0xFE, subclass 1, protocol 1 =
 * run-time, no endpoints, iInterface = string_index) followed by the DFU
 * functional descriptor. Returns H7_APP_DFU_ITF_DESC_LEN, or 0 when len is too
 * small. Remember to add 18 to wTotalLength and 1 to bNumInterfaces.
 */
size_t h7_app_dfu_interface_descriptor(const h7_app_dfu_t *d, uint8_t *buf, size_t len,
                                       uint8_t string_index);
/* The string to give that interface (string_index, or usbd_alt_desc_t.name):
 * H7_APP_DFU_ITF_NAME (h7_app_id.h), or a string that starts with it. It is
 * how h7dfu tells this application from other devices with a DFU run-time
 * interface; without it, h7dfu touches the device only when selected or
 * listed (--id, H7DFU_IDS). */

/* The run-time interface as a core/usb class driver (ctx = d). */
usbd_class_driver_t h7_app_dfu_class_driver(h7_app_dfu_t *d);

/*
 * bcdDevice for the application's device descriptor from its version (the
 * stamped record's major and minor): 0xJJNN, binary-coded decimal as USB 2.0
 * 9.6.1 has it, major and minor two digits each (clamped to 99). fwupd reads
 * it as the device's version in its "bcd" format ("2.0" for 0x0200,
 * docs/fwupd.md); the patch number is not in it.
 */
uint16_t h7_app_bcd_device(unsigned major, unsigned minor);

/* ---- 3. HID "enter update" report ---- */

/* True for an Output/Feature report that asks for the bootloader: first byte
 * 0xDF, then "h7dfu" (hid.h). Pass the report without a report ID byte. */
bool h7_app_is_enter_update_report(const uint8_t *report, size_t len);

#endif
