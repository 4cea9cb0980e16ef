/*
 * The host side of the application's HID reports (core/hid/hid.h defines the
 * device side): ask a running application to enter its DFU bootloader, and
 * read the version it reports.
 */
#ifndef H7_HIDAPP_H
#define H7_HIDAPP_H

#include <stdint.h>

#include "h7_transport.h"

typedef struct h7_app_version {
    uint8_t major, minor, patch;
    char text[60]; /* the version string the application reports */
} h7_app_version_t;

/* SET_REPORT(Output) with the "enter update" command. Returns 0 or an
 * h7_xfer_error (the device may already be gone: H7_XFER_NO_DEVICE). */
int h7_app_enter_update(const h7_transport_t *t, uint8_t hid_itf);

/* GET_REPORT(Feature) "version". Returns 0, an h7_xfer_error, or
 * H7_XFER_IO when the report is not a version report. */
int h7_app_read_version(const h7_transport_t *t, uint8_t hid_itf, h7_app_version_t *out);

#endif
