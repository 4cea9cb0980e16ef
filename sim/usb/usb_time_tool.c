/*
 * h7-usbtime BYTES [XFER]: the bus time a DfuSe download of BYTES bytes in
 * XFER-byte DNLOAD transfers (default 2048) needs at least, per the model of
 * usb_timing.h: the data transfers back to back, each from a frame start.
 * Prints seconds. Used by bench/run.sh for the physical bound.
 */
#include <stdio.h>
#include <stdlib.h>

#include "usb_timing.h"

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: h7-usbtime BYTES [XFER]\n");
        return 2;
    }
    unsigned long long bytes = strtoull(argv[1], NULL, 0);
    unsigned xfer = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 0) : 2048u;
    if (xfer == 0 || xfer > 65535u) {
        fprintf(stderr, "h7-usbtime: bad transfer size\n");
        return 2;
    }
    uint64_t t = 0;
    for (unsigned long long off = 0; off < bytes; off += xfer) {
        unsigned n = bytes - off < xfer ? (unsigned)(bytes - off) : xfer;
        t = usb_fs_control_end_ns(t, n);
    }
    printf("%.6f\n", (double)t / 1e9);
    return 0;
}
