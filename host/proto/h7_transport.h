/*
 * How libh7dfu reaches a device: control transfers on endpoint 0 and a way to
 * wait. Implemented over libusb (host/usb/) and in-process straight into the
 * device core on the flash model (sim/inproc/, for tests).
 */
#ifndef H7_TRANSPORT_H
#define H7_TRANSPORT_H

#include <stdint.h>

/* Transport results: >= 0 is a byte count; these are failures. */
enum h7_xfer_error {
    H7_XFER_STALL = -1,     /* the device stalled the request */
    H7_XFER_NO_DEVICE = -2, /* the device is gone (unplugged, reset) */
    H7_XFER_TIMEOUT = -3,
    H7_XFER_IO = -4, /* any other transfer error */
};

typedef struct h7_transport {
    /* One control transfer. data is wLength bytes (IN: filled; OUT: sent).
     * Returns the byte count moved, or an h7_xfer_error. */
    int (*control)(void *ctx, uint8_t bmRequestType, uint8_t bRequest, uint16_t wValue,
                   uint16_t wIndex, uint8_t *data, uint16_t wLength, unsigned timeout_ms);
    /* Wait ms milliseconds (the in-process transport advances the virtual clock). */
    void (*sleep_ms)(void *ctx, unsigned ms);
    void *ctx;
} h7_transport_t;

const char *h7_xfer_error_name(int err);

#endif
