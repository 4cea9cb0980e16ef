/*
 * The h7dfu part of the application (Core/Src/h7dfu_usb.c): USB through the
 * h7dfu application library's own device core and OTG_FS driver, with a
 * vendor HID interface (the "enter update" and version reports) and the DFU
 * run-time interface that `h7dfu update`, dfu-util -e and
 * STM32CubeProgrammer use to send the board to the bootloader.
 *
 * A file CubeMX does not generate, so it never overwrites it; main.c calls
 * it from USER CODE sections only.
 */
#ifndef H7DFU_USB_H
#define H7DFU_USB_H

#include <stdbool.h>

/* USB supply, 48 MHz clock, pins, device core; connects to the bus. After
 * SystemClock_Config() and h743_sysclk_hz_set(). false: the descriptors do not
 * fit the core's buffers (usbd_config.h). */
bool h7dfu_usb_start(void);

/* Serve USB (call from the main loop, often: the driver is polled). True
 * once the host asked for the bootloader (DFU DETACH or the HID report). */
bool h7dfu_usb_task(void);

/* Leave the bus, put OTG_FS back into reset and hand over to the h7dfu
 * bootloader through a system reset; does not return. Call from the main
 * loop a few milliseconds after h7dfu_usb_task() returned true, so the
 * status stage of the host's request has finished. */
void h7dfu_usb_enter_bootloader(void);

#endif
