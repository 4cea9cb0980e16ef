/*
 * usb_claim: a plain libusb program that holds or takes interface 0 of the
 * virtual board, for sim_usb_killed_claim.sh (a program killed while it holds
 * a claim must not keep it: the kernel releases claims when the file closes).
 *
 * usage: usb_claim VID:PID hold-urb
 *            claim, submit a control transfer (DFU GETSTATUS) and never reap
 *            it; prints "submitted", then sleeps until killed
 *        usb_claim VID:PID hold-xfer GOFILE
 *            claim, print "claimed", wait until GOFILE exists, then run a
 *            control transfer (the caller kills it while that is in flight)
 *        usb_claim VID:PID claim
 *            claim, retrying for up to 1 s while the interface is busy (as
 *            h7dfu does); prints the time it took, exit 0 when claimed
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libusb.h>

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void LIBUSB_CALL on_done(struct libusb_transfer *t)
{
    (void)t;
}

/* DFU GETSTATUS (DFU 1.1 6.1.2), submitted and left for the program to reap. */
static int submit_getstatus(libusb_device_handle *h)
{
    static unsigned char buf[LIBUSB_CONTROL_SETUP_SIZE + 6];
    struct libusb_transfer *t = libusb_alloc_transfer(0);
    if (!t) {
        return LIBUSB_ERROR_NO_MEM;
    }
    libusb_fill_control_setup(buf, 0xa1, 3, 0, 0, 6);
    libusb_fill_control_transfer(t, h, buf, on_done, NULL, 1000);
    return libusb_submit_transfer(t);
}

static int claim_retry(libusb_device_handle *h)
{
    long t0 = now_ms();
    int r;
    while ((r = libusb_claim_interface(h, 0)) == LIBUSB_ERROR_BUSY && now_ms() - t0 < 1000) {
        sleep_ms(20);
    }
    printf("claim -> %s after %ld ms\n", libusb_error_name(r), now_ms() - t0);
    return r;
}

int main(int argc, char **argv)
{
    unsigned vid, pid;
    if (argc < 3 || sscanf(argv[1], "%x:%x", &vid, &pid) != 2 ||
        (strcmp(argv[2], "hold-xfer") == 0 && argc != 4)) {
        fprintf(stderr, "usage: usb_claim VID:PID hold-urb|hold-xfer GOFILE|claim\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    libusb_context *ctx;
    if (libusb_init(&ctx) != 0) {
        return 1;
    }
    libusb_device_handle *h = libusb_open_device_with_vid_pid(ctx, (uint16_t)vid, (uint16_t)pid);
    if (!h) {
        fprintf(stderr, "usb_claim: device %04x:%04x not found or not opened\n", vid, pid);
        libusb_exit(ctx);
        return 1;
    }
    int rc = 1;
    if (strcmp(argv[2], "claim") == 0) {
        if (claim_retry(h) == 0) {
            libusb_release_interface(h, 0);
            rc = 0;
        }
    } else if (libusb_claim_interface(h, 0) != 0) {
        fprintf(stderr, "usb_claim: cannot claim interface 0\n");
    } else if (strcmp(argv[2], "hold-urb") == 0) {
        int r = submit_getstatus(h);
        printf("%s\n", r == 0 ? "submitted" : libusb_error_name(r));
        for (;;) {
            pause();
        }
    } else if (strcmp(argv[2], "hold-xfer") == 0) {
        printf("claimed\n");
        while (access(argv[3], F_OK) != 0) {
            sleep_ms(5);
        }
        unsigned char st[6];
        for (;;) {
            libusb_control_transfer(h, 0xa1, 3, 0, 0, st, sizeof(st), 1000);
        }
    } else {
        fprintf(stderr, "usb_claim: unknown mode %s\n", argv[2]);
    }
    libusb_close(h);
    libusb_exit(ctx);
    return rc;
}
