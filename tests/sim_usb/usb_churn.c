/*
 * usb_churn VID:PID SERIAL SECONDS: lists, opens and reads the serial of the
 * device again and again while it comes and goes (the churn test runs DFU
 * leaves beside it). As with the kernel, each round may find no device, fail
 * to open one that has just gone (NOT_FOUND / NO_DEVICE), or have a request
 * fail with NO_DEVICE; anything else is a failure: an opened device that is
 * not served (its requests fail otherwise, e.g. a node without ioctl handler)
 * or a wrong serial. umockdev's preload exits 1 by itself when it cannot
 * connect to the node's ioctl socket. Prints the counts; exit 0 when clean.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <libusb.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int gone(int r)
{
    return r == LIBUSB_ERROR_NO_DEVICE || r == LIBUSB_ERROR_NOT_FOUND;
}

int main(int argc, char **argv)
{
    unsigned vid, pid;
    double secs;
    if (argc != 4 || sscanf(argv[1], "%x:%x", &vid, &pid) != 2 ||
        sscanf(argv[3], "%lf", &secs) != 1) {
        fprintf(stderr, "usage: usb_churn VID:PID SERIAL SECONDS\n");
        return 2;
    }
    unsigned rounds = 0, read_ok = 0, went = 0, bad = 0;
    double end = now_s() + secs;
    while (now_s() < end) {
        libusb_context *ctx;
        if (libusb_init(&ctx) != 0) {
            return 1;
        }
        libusb_device **list;
        ssize_t n = libusb_get_device_list(ctx, &list);
        for (ssize_t i = 0; i < n; i++) {
            struct libusb_device_descriptor dd;
            if (libusb_get_device_descriptor(list[i], &dd) != 0 || dd.idVendor != vid ||
                dd.idProduct != pid) {
                continue;
            }
            libusb_device_handle *h = NULL;
            int r = libusb_open(list[i], &h);
            if (r == 0) {
                unsigned char s[128];
                r = libusb_get_string_descriptor_ascii(h, dd.iSerialNumber, s, sizeof(s));
                if (r > 0 && strcmp((const char *)s, argv[2]) == 0) {
                    read_ok++;
                } else if (r < 0 && gone(r)) {
                    went++;
                } else {
                    fprintf(stderr, "usb_churn: FAIL: serial read on device %u: %s\n",
                            libusb_get_device_address(list[i]),
                            r < 0 ? libusb_error_name(r) : "wrong serial");
                    bad++;
                }
                libusb_close(h);
            } else if (gone(r)) {
                went++;
            } else {
                fprintf(stderr, "usb_churn: FAIL: open device %u: %s\n",
                        libusb_get_device_address(list[i]), libusb_error_name(r));
                bad++;
            }
        }
        if (n >= 0) {
            libusb_free_device_list(list, 1);
        }
        libusb_exit(ctx);
        rounds++;
    }
    printf("usb_churn: %u rounds, %u reads, %u found gone, %u bad\n", rounds, read_ok, went, bad);
    return bad ? 1 : 0;
}
