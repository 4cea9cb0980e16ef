/*
 * usb_probe: a plain libusb program (built with ASan like all host code) run
 * by h7dfu-sim to check the usbfs requests the bridge answers: open, string
 * descriptors, claim, SET_INTERFACE, a class request, a stalled request,
 * USBDEVFS_RESET, release. Prints what it sees; exit 0 only when everything is
 * as the virtual board must answer.
 *
 * usage: usb_probe VID:PID EXPECTED_SERIAL
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libusb.h>

static int fails;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "usb_probe: FAIL: " __VA_ARGS__);                                      \
            fails++;                                                                               \
        }                                                                                          \
    } while (0)

/* DFU GETSTATUS (DFU 1.1 6.1.2): returns bState, or -1. */
static int dfu_state(libusb_device_handle *h)
{
    unsigned char st[6];
    int r = libusb_control_transfer(h, 0xa1, 3, 0, 0, st, sizeof(st), 1000);
    return r == 6 ? st[4] : -1;
}

int main(int argc, char **argv)
{
    unsigned vid, pid;
    if (argc != 3 || sscanf(argv[1], "%x:%x", &vid, &pid) != 2) {
        fprintf(stderr, "usage: usb_probe VID:PID EXPECTED_SERIAL\n");
        return 2;
    }
    libusb_context *ctx;
    if (libusb_init(&ctx) != 0) {
        return 1;
    }
    libusb_device_handle *h = libusb_open_device_with_vid_pid(ctx, (uint16_t)vid, (uint16_t)pid);
    if (!h) {
        fprintf(stderr, "usb_probe: FAIL: device %04x:%04x not found or not opened\n", vid, pid);
        libusb_exit(ctx);
        return 1;
    }
    libusb_device *dev = libusb_get_device(h);
    struct libusb_device_descriptor dd;
    CHECK(libusb_get_device_descriptor(dev, &dd) == 0, "device descriptor\n");
    printf("bus %u device %u speed %d\n", libusb_get_bus_number(dev),
           libusb_get_device_address(dev), libusb_get_device_speed(dev));
    CHECK(libusb_get_device_speed(dev) == LIBUSB_SPEED_FULL, "speed\n");

    unsigned char s[256];
    int n = libusb_get_string_descriptor_ascii(h, dd.iSerialNumber, s, sizeof(s));
    printf("serial \"%s\"\n", n > 0 ? (char *)s : "");
    CHECK(n > 0 && strcmp((char *)s, argv[2]) == 0, "serial\n");

    struct libusb_config_descriptor *cfg;
    CHECK(libusb_get_active_config_descriptor(dev, &cfg) == 0, "active config\n");
    if (cfg) {
        const struct libusb_interface_descriptor *alt = &cfg->interface[0].altsetting[0];
        n = libusb_get_string_descriptor_ascii(h, alt->iInterface, s, sizeof(s));
        printf("alt 0 \"%s\"\n", n > 0 ? (char *)s : "");
        CHECK(n > 0 && s[0] == '@', "alt string\n");
        libusb_free_config_descriptor(cfg);
    }
    int c = -1;
    CHECK(libusb_get_configuration(h, &c) == 0 && c == 1, "configuration %d\n", c);

    /* A string index the board does not have: the request must stall. */
    int r = libusb_get_string_descriptor(h, 0xee, 0x0409, s, sizeof(s));
    printf("string 0xee -> %s\n", libusb_error_name(r));
    CHECK(r == LIBUSB_ERROR_PIPE, "stall expected\n");

    CHECK(libusb_claim_interface(h, 0) == 0, "claim\n");
    CHECK(libusb_set_interface_alt_setting(h, 0, 0) == 0, "set alt\n");
    r = libusb_set_interface_alt_setting(h, 0, 5);
    CHECK(r == LIBUSB_ERROR_PIPE || r == LIBUSB_ERROR_NOT_FOUND, "bad alt accepted (%s)\n",
          libusb_error_name(r));
    int st = dfu_state(h);
    printf("dfu state %d\n", st);
    CHECK(st == 2, "dfuIDLE expected\n"); /* DFU 1.1 6.1.2: 2 = dfuIDLE */

    /* USBDEVFS_RESET: same descriptors, so the same device afterwards. */
    r = libusb_reset_device(h);
    printf("reset -> %s\n", libusb_error_name(r));
    CHECK(r == 0, "reset\n");
    st = dfu_state(h);
    CHECK(st == 2, "dfuIDLE after reset (%d)\n", st);
    CHECK(libusb_release_interface(h, 0) == 0, "release\n");
    libusb_close(h);
    libusb_exit(ctx);
    printf("%s\n", fails ? "FAILED" : "OK");
    return fails ? 1 : 0;
}
