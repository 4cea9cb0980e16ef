/*
 * libusb side of libh7dfu: finds DFU-capable devices (DFU mode and DFU runtime,
 * i.e. applications that can be detached), describes them, and opens one as an
 * h7_transport_t for the protocol layer (host/proto).
 */
#ifndef H7_USB_H
#define H7_USB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "h7_transport.h"

#define H7_USB_MAX_ALTS 8
#define H7_USB_STR_MAX  256

typedef struct h7_usb_alt {
    uint8_t alt;
    char name[H7_USB_STR_MAX]; /* interface string: the DfuSe memory layout */
} h7_usb_alt_t;

typedef struct h7_usb_device {
    uint16_t vid, pid, bcd_device;
    uint8_t bus, devnum;
    char path[32]; /* bus-port.port..., stable across re-enumeration */
    char manufacturer[H7_USB_STR_MAX];
    char product[H7_USB_STR_MAX];
    char serial[H7_USB_STR_MAX];
    bool dfu_mode;     /* interface protocol 2: DFU mode; else 1: runtime */
    uint8_t interface; /* the DFU interface number */
    uint8_t n_alts;
    h7_usb_alt_t alts[H7_USB_MAX_ALTS];
    /* DFU functional descriptor (DFU 1.1 4.1.3); zero when absent. */
    uint8_t dfu_attributes;
    uint16_t detach_timeout_ms;
    uint16_t transfer_size;
    uint16_t bcd_dfu;
    /* HID interface of the application, if any (HID 1.11: class 3). */
    bool has_hid;
    uint8_t hid_interface;
} h7_usb_device_t;

/* Which devices to consider; zero/empty fields match anything. */
typedef struct h7_usb_filter {
    uint16_t vid, pid;
    const char *serial;
    const char *path;
} h7_usb_filter_t;

typedef struct h7_usb h7_usb_t;               /* a libusb context */
typedef struct h7_usb_handle h7_usb_handle_t; /* one opened device */

/* 0 on success, else a negative libusb error (see h7_usb_strerror). */
int h7_usb_init(h7_usb_t **usb);
void h7_usb_exit(h7_usb_t *usb);
/* Start over with a new libusb context, so a device that appeared since (a
 * board re-enumerating) is seen even where no hotplug events arrive. No
 * handle of the old context may be open. */
int h7_usb_refresh(h7_usb_t *usb);

/* Every device with a DFU interface (mode or runtime) matching the filter:
 * *out is an array of them (free() it; NULL when none), sized by the bus's
 * device count, so none is left out. Returns how many, or < 0 (a libusb
 * error; *out is then NULL). */
int h7_usb_find_all(h7_usb_t *usb, const h7_usb_filter_t *filter, h7_usb_device_t **out);

/* An application built on the h7dfu application library (core/app): a DFU
 * run-time interface whose string starts with H7_APP_DFU_ITF_NAME
 * (core/app/h7_app_id.h). Decided from what discovery read, without opening
 * the device. */
bool h7_usb_is_h7dfu_app(const h7_usb_device_t *d);
/* The h7dfu bootloader in DFU mode: 0483:df11, manufacturer "h7dfu", a DfuSe
 * "@Internal Flash" layout and none of the alternate settings only ST's ROM
 * bootloader has ("@Option Bytes", AN2606). */
bool h7_usb_is_h7dfu_bootloader(const h7_usb_device_t *d);
/* ST's system-memory bootloader in DFU mode (AN2606): 0483:df11 with an
 * "@Option Bytes" alternate setting. */
bool h7_usb_is_st_rom(const h7_usb_device_t *d);

/* Open dev (by bus path and device number), claim interface itf and, when
 * alt >= 0, select that alternate setting. */
int h7_usb_open(h7_usb_t *usb, const h7_usb_device_t *dev, uint8_t itf, int alt,
                h7_usb_handle_t **handle);
/* As h7_usb_open, but an interface another program holds is not waited
 * for: LIBUSB_ERROR_BUSY at once (for a look that must not stall or
 * disturb that program). */
int h7_usb_open_now(h7_usb_t *usb, const h7_usb_device_t *dev, uint8_t itf, int alt,
                    h7_usb_handle_t **handle);
void h7_usb_close(h7_usb_handle_t *handle);

/* The transport over an opened device. Valid until h7_usb_close(). */
h7_transport_t h7_usb_transport(h7_usb_handle_t *handle);

/* Ask the device to reset itself (USB port reset). The device may vanish. */
int h7_usb_reset(h7_usb_handle_t *handle);

const char *h7_usb_strerror(int err);

#endif
