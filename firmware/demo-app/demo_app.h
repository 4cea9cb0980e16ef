/*
 * The demo application's portable half: a vendor HID device with the "enter
 * update" report and a DFU runtime interface, reporting the version from its
 * own image header. The same code runs in the firmware (firmware/demo-app/
 * main.c) and in the virtual board (sim/board); the caller supplies the flash
 * (to read the header), the serial number, and the hand-over to the bootloader.
 */
#ifndef H7_DEMO_APP_H
#define H7_DEMO_APP_H

#include <stdbool.h>
#include <stdint.h>

#include "flash.h"

/* USB VID:PID, a build option (CMake H7_DEMO_APP_VID / H7_DEMO_APP_PID);
 * docs/windows.md. */
#ifndef DEMO_APP_VID
#define DEMO_APP_VID 0x0483u
#endif
#ifndef DEMO_APP_PID
#define DEMO_APP_PID 0x5750u
#endif

typedef struct demo_app_config {
    const flash_dev_t *flash; /* to read the version from the image header */
    const char *serial;       /* USB serial number: the same as the bootloader's */
} demo_app_config_t;

/* Build the HID + DFU runtime device. The caller then calls usbd_connect(). */
bool demo_app_usb_init(const demo_app_config_t *cfg);

/* One main-loop step. Returns true once the host asked for the bootloader
 * (DFU_DETACH, or the HID "enter update" report): the caller then hands over
 * (core/app: request STAY_IN_DFU, system reset). */
bool demo_app_task(void);

/* The version the application reports (from its image header; 0.0.0 when none). */
void demo_app_version(uint8_t out[3]);

#endif
