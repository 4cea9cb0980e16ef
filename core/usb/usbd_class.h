/*
 * Class driver interface of the device core (core/usb/usbd.c). A class driver
 * (DFU, HID, ...) owns one or more interfaces; the core routes class and vendor
 * requests addressed to those interfaces, and transfer completions on the
 * driver's endpoints, to it. Drivers know nothing of the controller.
 */
#ifndef H7_USBD_CLASS_H
#define H7_USBD_CLASS_H

#include <stdbool.h>
#include <stdint.h>

#include "usb_std.h"

/* Return value of control() that makes the core stall the request. */
#define USBD_STALL (-1)

typedef struct usbd_class_driver {
    const char *name;
    /* Bus reset, or the configuration was set or cleared: back to the start. */
    void (*reset)(void *ctx);
    /* SET_INTERFACE for one of the driver's interfaces; false stalls it. */
    bool (*set_alt)(void *ctx, uint8_t itf, uint8_t alt);
    /*
     * A class or vendor request for one of the driver's interfaces (wIndex low
     * byte), only while the device is configured.
     * data is never NULL: it always points to the control buffer, also when
     * cap is 0 (a request without data stage, or wLength 0), so a driver may
     * hand it to memcpy() and the like with a length of at most cap.
     * OUT: cap is the number of data-stage bytes in data. Normally the whole
     * data stage has been received: cap == setup->wLength (0 when there is no
     * data stage). When wLength exceeds the control buffer, nothing is
     * received, cap is 0 (< wLength) and the request is stalled whatever the
     * driver returns: the call only lets the driver record the error. So a
     * driver reads OUT data only when cap == setup->wLength.
     * IN: write at most cap bytes (cap = min(wLength, buffer size)) to data and
     * return the count. Either way, return USBD_STALL to stall the request.
     */
    int (*control)(void *ctx, const usb_setup_t *setup, uint8_t *data, uint16_t cap);
    /* The status stage of a request the driver accepted has completed
     * (DFU starts a flash operation here, after GETSTATUS was answered). */
    void (*control_done)(void *ctx, const usb_setup_t *setup);
    /* A transfer on one of the driver's non-control endpoints has finished. */
    void (*xfer_done)(void *ctx, uint8_t ep_addr, uint16_t len);
    /* Main-loop work (long flash operations); may be NULL. */
    void (*poll)(void *ctx);
    void *ctx;
    /*
     * Optional (may be NULL, which stalls): a
     * STANDARD request with recipient interface that the core does not answer
     * itself, for one of the driver's interfaces (HID: GET_DESCRIPTOR of the
     * report descriptor). Same contract as control(). Kept apart from control()
     * so a class driver never mistakes a standard bRequest for a class one.
     */
    int (*std_control)(void *ctx, const usb_setup_t *setup, uint8_t *data, uint16_t cap);
} usbd_class_driver_t;

#endif
