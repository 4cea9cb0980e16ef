/*
 * libh7dfu: update STM32H7 (and any DfuSe) devices over USB DFU.
 *
 * One include for a client (installed as <h7dfu/h7dfu.h>, compile and link
 * flags from `pkg-config --cflags --libs h7dfu`):
 *
 *   h7_usb.h        find DFU devices (DFU mode and DFU runtime), open one as
 *                   an h7_transport_t, reset it
 *   h7_dfu.h        the DFU 1.1 / DfuSe client over that transport: states,
 *                   status, single requests, DfuSe commands, detach, leave
 *   h7_ops.h        write an image (plan, skip equal sectors, erase, write,
 *                   verify) with a progress callback; read, erase, leave
 *   h7_image.h      load an image file (Intel HEX, S-record, DfuSe .dfu, ELF,
 *                   raw binary) into memory segments
 *   h7_plan.h       what a write would erase and write, and why an image is
 *                   refused (h7_layout.h: the DfuSe memory layout string)
 *   h7_error.h      every failure as one h7_error_t, and its message
 *   h7_transport.h  the transport interface (control transfers, waits)
 *   h7_util.h       CRC-32 and CRC-32C as the bootloader computes them,
 *                   little-endian loads and stores
 *
 * Conventions: functions return 0 (or a count) on success and a negative code
 * on failure: libusb error codes for h7_usb_* (h7_usb_strerror), h7_errc_t
 * for the protocol and operations (details in h7_dfu_client_t.err, text from
 * h7_error_format), h7_image_errc_t for image files. Use the library from
 * one thread. docs/library.md has an example.
 */
#ifndef H7DFU_H
#define H7DFU_H

#include "h7_dfu.h"
#include "h7_error.h"
#include "h7_image.h"
#include "h7_layout.h"
#include "h7_ops.h"
#include "h7_plan.h"
#include "h7_transport.h"
#include "h7_usb.h"
#include "h7_util.h"

#endif
