/*
 * A small libusb program that talks to the demo application (0483:5750) the
 * way a user's own host code would, without h7dfu: read the HID version
 * report, send the HID "enter update" report (core/hid/hid.h), or DFU_DETACH
 * on the run-time interface followed by a port reset (DFU 1.1 5.1).
 *
 *   app_helper version | enter-update | detach-reset   [SERIAL]
 *
 * Exit 0 on success, 1 on failure (message on stderr), 2 on bad usage.
 */
#include <stdio.h>
#include <string.h>

#include <libusb.h>

#define APP_VID        0x0483
#define APP_PID        0x5750
#define ITF_HID        0
#define ITF_DFU        1
#define REPORT_LEN     64
#define TIMEOUT_MS     1000
#define HID_SET_REPORT 0x09 /* HID 1.11 7.2 */
#define HID_GET_REPORT 0x01
#define HID_FEATURE    3
#define DFU_DETACH     0 /* DFU 1.1 3 */

static libusb_device_handle *open_app(libusb_context *ctx, const char *serial)
{
    libusb_device **list;
    libusb_device_handle *found = NULL;
    ssize_t n = libusb_get_device_list(ctx, &list);
    for (ssize_t i = 0; i < n && !found; i++) {
        struct libusb_device_descriptor d;
        libusb_device_handle *h;
        if (libusb_get_device_descriptor(list[i], &d) != 0 || d.idVendor != APP_VID ||
            d.idProduct != APP_PID || libusb_open(list[i], &h) != 0) {
            continue;
        }
        unsigned char s[64] = "";
        if (serial && (d.iSerialNumber == 0 ||
                       libusb_get_string_descriptor_ascii(h, d.iSerialNumber, s, sizeof(s)) < 0 ||
                       strcmp((const char *)s, serial) != 0)) {
            libusb_close(h);
            continue;
        }
        found = h;
    }
    if (n >= 0) {
        libusb_free_device_list(list, 1);
    }
    return found;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: app_helper version|enter-update|detach-reset [SERIAL]\n");
        return 2;
    }
    const char *mode = argv[1];
    libusb_context *ctx;
    if (libusb_init(&ctx) != 0) {
        fprintf(stderr, "app_helper: libusb_init failed\n");
        return 1;
    }
    int rc = 1;
    libusb_device_handle *h = open_app(ctx, argc > 2 ? argv[2] : NULL);
    if (!h) {
        fprintf(stderr, "app_helper: no application 0483:5750 on the bus\n");
        goto out;
    }
    unsigned char rep[REPORT_LEN] = {0};
    int r;
    if (!strcmp(mode, "version")) {
        if ((r = libusb_claim_interface(h, ITF_HID)) != 0 ||
            (r = libusb_control_transfer(
                 h, LIBUSB_ENDPOINT_IN | LIBUSB_REQUEST_TYPE_CLASS | LIBUSB_RECIPIENT_INTERFACE,
                 HID_GET_REPORT, HID_FEATURE << 8, ITF_HID, rep, REPORT_LEN, TIMEOUT_MS)) !=
                REPORT_LEN) {
            fprintf(stderr, "app_helper: GET_REPORT: %s\n", libusb_error_name(r));
        } else if (rep[0] != 0x56) {
            fprintf(stderr, "app_helper: not a version report (0x%02x)\n", rep[0]);
        } else {
            rep[REPORT_LEN - 1] = 0;
            printf("version %u.%u.%u \"%s\"\n", rep[1], rep[2], rep[3], (const char *)rep + 4);
            rc = 0;
        }
    } else if (!strcmp(mode, "enter-update")) {
        rep[0] = 0xdf;
        memcpy(rep + 1, "h7dfu", 5);
        if ((r = libusb_claim_interface(h, ITF_HID)) != 0 ||
            (r = libusb_control_transfer(
                 h, LIBUSB_ENDPOINT_OUT | LIBUSB_REQUEST_TYPE_CLASS | LIBUSB_RECIPIENT_INTERFACE,
                 HID_SET_REPORT, HID_FEATURE << 8, ITF_HID, rep, REPORT_LEN, TIMEOUT_MS)) !=
                REPORT_LEN) {
            fprintf(stderr, "app_helper: SET_REPORT: %s\n", libusb_error_name(r));
        } else {
            rc = 0;
        }
    } else if (!strcmp(mode, "detach-reset")) {
        if ((r = libusb_claim_interface(h, ITF_DFU)) != 0 ||
            (r = libusb_control_transfer(
                 h, LIBUSB_ENDPOINT_OUT | LIBUSB_REQUEST_TYPE_CLASS | LIBUSB_RECIPIENT_INTERFACE,
                 DFU_DETACH, TIMEOUT_MS, ITF_DFU, NULL, 0, TIMEOUT_MS)) != 0) {
            fprintf(stderr, "app_helper: DFU_DETACH: %s\n", libusb_error_name(r));
        } else {
            /* The port reset a DFU 1.1 host sends; the device may already be
             * gone (willDetach) or come back as a different one: both fine. */
            r = libusb_reset_device(h);
            printf("reset: %s\n", r == 0 ? "same device" : libusb_error_name(r));
            rc = (r == 0 || r == LIBUSB_ERROR_NOT_FOUND || r == LIBUSB_ERROR_NO_DEVICE) ? 0 : 1;
        }
    } else {
        fprintf(stderr, "app_helper: unknown mode %s\n", mode);
        rc = 2;
    }
    libusb_close(h);
out:
    libusb_exit(ctx);
    return rc;
}
