/*
 * usb_bad: a libusb program run under h7dfu-sim that sends the virtual board
 * requests a host should not send, and checks the answers against USB DFU 1.1
 * (Appendix A state tables, 6.1.2 status codes), AN3156 (DfuSe commands) and
 * USB 2.0 chapter 9, as core/dfu/dfu.c documents them:
 *  - unknown / wrong-length / wrong-direction / wrong-state requests: stall
 *    (LIBUSB_ERROR_PIPE), then GETSTATUS shows dfuERROR + errSTALLEDPKT;
 *  - DfuSe set-address outside memory, erase or write of the bootloader's
 *    sector: accepted, then GETSTATUS shows dfuERROR + errTARGET;
 *  - UPLOAD of a block past the end of memory: stall, errADDRESS;
 *  - standard requests for descriptors that do not exist: stall, and the DFU
 *    state is untouched (the device core answers them, not the class);
 *  - DNLOAD (command or data) in dfuERROR: stall, the first error stays;
 *  - GETSTATUS while an erase or a block is in the flash: dfuDNBUSY with a
 *    bwPollTimeout that is never 0;
 *  - a block downloaded twice to the same address: errCHECK_ERASED, the
 *    flash keeps the first (a flash word is programmed once between erases);
 *  - a reply shorter than wLength that is a whole number of 64-byte packets
 *    (UPLOAD at the end of memory; a 64-byte serial string descriptor) ends
 *    with a zero-length packet: the transfer completes short;
 *  - CLRSTATUS leaves dfuERROR, ABORT leaves dfuUPLOAD-IDLE/dfuDNLOAD-IDLE,
 *    and a normal erase + download + upload works afterwards.
 * Exit 0 only when every check holds; each failure is printed.
 *
 * usage: usb_bad VID:PID
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libusb.h>

/* DFU 1.1 Table 3.2 requests, 6.1.2 states and status codes. */
enum { DETACH = 0, DNLOAD = 1, UPLOAD = 2, GETSTATUS = 3, CLRSTATUS = 4, GETSTATE = 5, ABORT = 6 };
enum { S_IDLE = 2, S_DNBUSY = 4, S_DNLOAD_IDLE = 5, S_UPLOAD_IDLE = 9, S_ERROR = 10 };
enum { OK = 0, ERR_TARGET = 1, ERR_CHECK_ERASED = 5, ERR_ADDRESS = 8, ERR_STALLEDPKT = 15 };

#define OUT_CLASS 0x21 /* host to device, class, interface */
#define IN_CLASS  0xa1
#define XFER      2048 /* the board's wTransferSize */
#define TIMEOUT   1000

static libusb_device_handle *h;
static int fails, checks;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        checks++;                                                                                  \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "usb_bad: FAIL (line %d): ", __LINE__);                                \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            fails++;                                                                               \
        }                                                                                          \
    } while (0)

static int ctrl(uint8_t type, uint8_t req, uint16_t value, void *data, uint16_t len)
{
    return libusb_control_transfer(h, type, req, value, 0, data, len, TIMEOUT);
}

typedef struct status {
    int r; /* bytes received or libusb error */
    uint8_t status, state;
    unsigned poll_ms;
} status_t;

static status_t get_status(void)
{
    uint8_t b[6] = {0};
    status_t s = {.r = ctrl(IN_CLASS, GETSTATUS, 0, b, sizeof(b))};
    s.status = b[0];
    s.poll_ms = b[1] | (unsigned)b[2] << 8 | (unsigned)b[3] << 16;
    s.state = b[4];
    return s;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* GETSTATUS until the device is no longer busy (DFU 1.1 A.2.5), honouring
 * bwPollTimeout. Returns the last answer. */
static status_t settle(void)
{
    status_t s = get_status();
    for (int i = 0; i < 200 && s.r == 6 && s.state == S_DNBUSY; i++) {
        sleep_ms(s.poll_ms);
        s = get_status();
    }
    return s;
}

static void expect_status(const char *after, uint8_t state, uint8_t status)
{
    status_t s = get_status();
    CHECK(s.r == 6, "%s: GETSTATUS returned %d (%s), want 6 bytes", after, s.r,
          s.r < 0 ? libusb_error_name(s.r) : "short");
    CHECK(s.state == state && s.status == status, "%s: state %u status %u, want state %u status %u",
          after, s.state, s.status, state, status);
}

static void expect_state(const char *after, uint8_t want)
{
    uint8_t st = 0xff;
    int r = ctrl(IN_CLASS, GETSTATE, 0, &st, 1);
    CHECK(r == 1 && st == want, "%s: GETSTATE r=%d state %u, want %u", after, r, st, want);
}

static void expect_stall(const char *what, int r)
{
    CHECK(r == LIBUSB_ERROR_PIPE, "%s: got %d (%s), want a stall (LIBUSB_ERROR_PIPE)", what, r,
          r < 0 ? libusb_error_name(r) : "transferred");
}

/* CLRSTATUS from dfuERROR: accepted, and the device is dfuIDLE/OK again. */
static void clear(const char *after)
{
    int r = ctrl(OUT_CLASS, CLRSTATUS, 0, NULL, 0);
    CHECK(r == 0, "%s: CLRSTATUS returned %d", after, r);
    expect_status(after, S_IDLE, OK);
}

/* DfuSe command in DNLOAD block 0 (AN3156 6.1). Returns the DNLOAD result. */
static int dfuse_cmd(uint8_t cmd, const uint32_t *addr)
{
    uint8_t b[5] = {cmd};
    uint16_t len = 1;
    if (addr) {
        for (int i = 0; i < 4; i++) {
            b[1 + i] = (uint8_t)(*addr >> (8 * i));
        }
        len = 5;
    }
    return ctrl(OUT_CLASS, DNLOAD, 0, b, len);
}

static int set_address(uint32_t a)
{
    return dfuse_cmd(0x21, &a);
}

/* ---- the bad requests ---- */

static void bad_getstatus_length(void)
{
    uint8_t b[64];
    expect_stall("GETSTATUS with wLength 2", ctrl(IN_CLASS, GETSTATUS, 0, b, 2));
    expect_status("GETSTATUS with wLength 2", S_ERROR, ERR_STALLEDPKT);
    /* In dfuERROR the first error stays: GETSTATE still works. */
    expect_state("dfuERROR", S_ERROR);
    /* ABORT is not a dfuERROR request (DFU 1.1 A.2.11): stalled, still dfuERROR. */
    expect_stall("ABORT in dfuERROR", ctrl(OUT_CLASS, ABORT, 0, NULL, 0));
    expect_status("ABORT in dfuERROR", S_ERROR, ERR_STALLEDPKT);
    clear("GETSTATUS with wLength 2");
    /* A longer wLength is answered with the 6 bytes there are (a short IN). */
    int r = ctrl(IN_CLASS, GETSTATUS, 0, b, sizeof(b));
    CHECK(r == 6, "GETSTATUS with wLength 64: %d, want 6 bytes", r);
    expect_status("GETSTATUS with wLength 64", S_IDLE, OK);
}

static void bad_direction_and_unknown(void)
{
    expect_stall("GETSTATUS sent host-to-device", ctrl(OUT_CLASS, GETSTATUS, 0, NULL, 0));
    expect_status("GETSTATUS sent host-to-device", S_ERROR, ERR_STALLEDPKT);
    clear("GETSTATUS sent host-to-device");

    expect_stall("class request 0x77", ctrl(OUT_CLASS, 0x77, 0, NULL, 0));
    expect_status("class request 0x77", S_ERROR, ERR_STALLEDPKT);
    clear("class request 0x77");

    uint8_t b[8];
    expect_stall("IN class request 0x77", ctrl(IN_CLASS, 0x77, 0, b, sizeof(b)));
    expect_status("IN class request 0x77", S_ERROR, ERR_STALLEDPKT);
    clear("IN class request 0x77");

    expect_stall("DETACH in DFU mode", ctrl(OUT_CLASS, DETACH, 1000, NULL, 0));
    expect_status("DETACH in DFU mode", S_ERROR, ERR_STALLEDPKT);
    clear("DETACH in DFU mode");

    expect_stall("CLRSTATUS in dfuIDLE", ctrl(OUT_CLASS, CLRSTATUS, 0, NULL, 0));
    expect_status("CLRSTATUS in dfuIDLE", S_ERROR, ERR_STALLEDPKT);
    clear("CLRSTATUS in dfuIDLE");
}

static void bad_dnload(void)
{
    status_t s;
    /* (a zero-length DNLOAD in dfuIDLE is a leave, as on ST's devices:
     * tests/e2e/dfu_util_interop.sh) */
    expect_stall("DfuSe command 0x55", dfuse_cmd(0x55, NULL));
    expect_status("DfuSe command 0x55", S_ERROR, ERR_STALLEDPKT);
    clear("DfuSe command 0x55");

    uint8_t b[5] = {0x21, 0, 0, 0x02};
    expect_stall("set-address with 3 address bytes", ctrl(OUT_CLASS, DNLOAD, 0, b, 4));
    expect_status("set-address with 3 address bytes", S_ERROR, ERR_STALLEDPKT);
    clear("set-address with 3 address bytes");

    static uint8_t big[XFER + 64];
    memset(big, 0x5a, sizeof(big));
    expect_stall("DNLOAD longer than wTransferSize",
                 ctrl(OUT_CLASS, DNLOAD, 2, big, (uint16_t)sizeof(big)));
    /* DFU 1.1 Appendix A: the stall leaves dfuERROR with errSTALLEDPKT (the
     * device core tells the driver of a request too long for its buffer). */
    expect_status("DNLOAD longer than wTransferSize", S_ERROR, ERR_STALLEDPKT);
    clear("DNLOAD longer than wTransferSize");

    /* Accepted, refused at GETSTATUS: AN3156 errTARGET. */
    CHECK(set_address(0x90000000u) == 5, "set-address 0x90000000 not accepted");
    expect_status("set-address 0x90000000", S_ERROR, ERR_TARGET);
    clear("set-address 0x90000000");

    uint32_t a = 0x08000000u;
    CHECK(dfuse_cmd(0x41, &a) == 5, "erase of the bootloader sector not accepted");
    expect_status("erase 0x08000000 (bootloader sector)", S_ERROR, ERR_TARGET);
    clear("erase 0x08000000");

    CHECK(set_address(0x08000000u) == 5, "set-address 0x08000000");
    s = settle();
    CHECK(s.state == S_DNLOAD_IDLE, "set-address 0x08000000: state %u", s.state);
    CHECK(ctrl(OUT_CLASS, DNLOAD, 2, big, 256) == 256, "DNLOAD into the bootloader sector");
    expect_status("DNLOAD into the bootloader sector", S_ERROR, ERR_TARGET);
    clear("DNLOAD into the bootloader sector");
}

static void bad_upload(void)
{
    static uint8_t buf[XFER];
    /* Address pointer at the last sector; block 2 + 64 is 0x08200000, past the end. */
    CHECK(set_address(0x081e0000u) == 5, "set-address 0x081e0000");
    status_t s = settle();
    CHECK(s.r == 6 && s.state == S_DNLOAD_IDLE, "set-address 0x081e0000: state %u", s.state);
    CHECK(ctrl(OUT_CLASS, ABORT, 0, NULL, 0) == 0, "ABORT in dfuDNLOAD-IDLE");
    expect_state("ABORT in dfuDNLOAD-IDLE", S_IDLE);

    expect_stall("UPLOAD of block 66 (0x08200000)", ctrl(IN_CLASS, UPLOAD, 2 + 64, buf, XFER));
    expect_status("UPLOAD outside memory", S_ERROR, ERR_ADDRESS);
    clear("UPLOAD outside memory");

    /* DNLOAD while dfuUPLOAD-IDLE (DFU 1.1 A.2.9): stall. */
    int r = ctrl(IN_CLASS, UPLOAD, 2, buf, XFER);
    CHECK(r == XFER, "UPLOAD block 2 at 0x081e0000: %d", r);
    expect_state("UPLOAD of a full block", S_UPLOAD_IDLE);
    expect_stall("DNLOAD in dfuUPLOAD-IDLE", ctrl(OUT_CLASS, DNLOAD, 2, buf, 32));
    expect_status("DNLOAD in dfuUPLOAD-IDLE", S_ERROR, ERR_STALLEDPKT);
    clear("DNLOAD in dfuUPLOAD-IDLE");

    /* ABORT takes dfuUPLOAD-IDLE back to dfuIDLE. */
    CHECK(set_address(0x081e0000u) == 5, "set-address again");
    settle();
    ctrl(OUT_CLASS, ABORT, 0, NULL, 0);
    CHECK(ctrl(IN_CLASS, UPLOAD, 2, buf, XFER) == XFER, "UPLOAD again");
    expect_state("UPLOAD again", S_UPLOAD_IDLE);
    CHECK(ctrl(OUT_CLASS, ABORT, 0, NULL, 0) == 0, "ABORT in dfuUPLOAD-IDLE");
    expect_status("ABORT in dfuUPLOAD-IDLE", S_IDLE, OK);

    /* UPLOAD block 1 is not used by DfuSe: stall. */
    expect_stall("UPLOAD block 1", ctrl(IN_CLASS, UPLOAD, 1, buf, XFER));
    expect_status("UPLOAD block 1", S_ERROR, ERR_STALLEDPKT);
    clear("UPLOAD block 1");
}

static void bad_standard(void)
{
    uint8_t b[255];
    /* GET_DESCRIPTOR (USB 2.0 9.4.3): string 0x20 and configuration 1 do not exist. */
    expect_stall("GET_DESCRIPTOR string 0x20",
                 libusb_control_transfer(h, 0x80, LIBUSB_REQUEST_GET_DESCRIPTOR,
                                         (LIBUSB_DT_STRING << 8) | 0x20, 0x0409, b, sizeof(b),
                                         TIMEOUT));
    expect_stall("GET_DESCRIPTOR configuration 1",
                 libusb_control_transfer(h, 0x80, LIBUSB_REQUEST_GET_DESCRIPTOR,
                                         (LIBUSB_DT_CONFIG << 8) | 1, 0, b, sizeof(b), TIMEOUT));
    expect_stall("GET_DESCRIPTOR type 0x77",
                 libusb_control_transfer(h, 0x80, LIBUSB_REQUEST_GET_DESCRIPTOR, 0x7700, 0, b,
                                         sizeof(b), TIMEOUT));
    expect_stall("standard request 0x77",
                 libusb_control_transfer(h, 0x80, 0x77, 0, 0, b, 2, TIMEOUT));
    /* The device core answered these: the DFU state is untouched. */
    expect_status("bad standard requests", S_IDLE, OK);
    /* And the good ones still work. */
    int r = libusb_control_transfer(h, 0x80, LIBUSB_REQUEST_GET_DESCRIPTOR, LIBUSB_DT_DEVICE << 8,
                                    0, b, 18, TIMEOUT);
    CHECK(r == 18 && b[1] == LIBUSB_DT_DEVICE, "GET_DESCRIPTOR device after the bad ones: %d", r);
}

/* ---- protections each checked here through libusb as well ---- */

/* DFU 1.1 A.2.11: in dfuERROR only GETSTATUS, CLRSTATUS and GETSTATE are
 * allowed. A DNLOAD (command or data) is stalled and the first error stays. */
static void dnload_in_error(void)
{
    static uint8_t data[256];
    memset(data, 0x3c, sizeof(data));
    CHECK(set_address(0x90000000u) == 5, "set-address 0x90000000 not accepted");
    expect_status("set-address 0x90000000", S_ERROR, ERR_TARGET);
    expect_stall("set-address DNLOAD in dfuERROR", set_address(0x08040000u));
    expect_status("set-address DNLOAD in dfuERROR", S_ERROR, ERR_TARGET);
    uint32_t a = 0x08040000u;
    expect_stall("erase DNLOAD in dfuERROR", dfuse_cmd(0x41, &a));
    expect_status("erase DNLOAD in dfuERROR", S_ERROR, ERR_TARGET);
    expect_stall("data DNLOAD in dfuERROR", ctrl(OUT_CLASS, DNLOAD, 2, data, sizeof(data)));
    expect_status("data DNLOAD in dfuERROR", S_ERROR, ERR_TARGET);
    clear("DNLOAD in dfuERROR");
}

/* DFU 1.1 6.1.2: bwPollTimeout is the time before the next GETSTATUS. While
 * the device cannot take the next request because of flash work (an erase,
 * blocks still being programmed, every buffer full) it is never 0: a host
 * that takes 0 at its word asks again at once, and again, while the flash
 * works. Only the first answer to a command may be dfuDNBUSY with 0: a
 * set-address takes no time, and an erase is queued to run in the
 * background (core/dfu/dfu.h). Returns the number of dfuDNBUSY answers with
 * a non-zero bwPollTimeout. */
static int poll_while_busy(const char *what, int zero_ok)
{
    int busy = 0;
    status_t s = get_status();
    for (int i = 0; i < 200 && s.r == 6 && s.state == S_DNBUSY; i++) {
        if (s.poll_ms > 0) {
            busy++;
        } else {
            CHECK(zero_ok && i == 0, "%s: dfuDNBUSY with bwPollTimeout 0 (answer %d)", what, i);
        }
        sleep_ms(s.poll_ms);
        s = get_status();
    }
    CHECK(s.r == 6 && s.state == S_DNLOAD_IDLE && s.status == OK, "%s: r=%d state %u status %u",
          what, s.r, s.state, s.status);
    return busy;
}

/* The board models flash time (the emulated chip); the native board run
 * with --fast programs in no time, so nothing is ever seen busy there. */
static int g_timed;

static void busy_poll_timeout(void)
{
    static uint8_t data[XFER];
    for (unsigned i = 0; i < XFER; i++) {
        data[i] = (uint8_t)(i * 13 + 1);
    }
    uint32_t a = 0x08060000u;
    int busy = 0;
    CHECK(dfuse_cmd(0x41, &a) == 5, "erase 0x08060000");
    busy += poll_while_busy("erase 0x08060000", 1);
    CHECK(set_address(a) == 5, "set-address 0x08060000");
    busy += poll_while_busy("set-address 0x08060000", 1);
    for (uint16_t blk = 2; blk < 8; blk++) {
        CHECK(ctrl(OUT_CLASS, DNLOAD, blk, data, XFER) == XFER, "DNLOAD block %u", blk);
        busy += poll_while_busy("DNLOAD", 0);
    }
    /* The blocks wait for the erase (a second of flash time) in the
     * device's buffers: once they are full, one is seen busy. */
    CHECK(!g_timed || busy >= 1, "no GETSTATUS answered dfuDNBUSY with a bwPollTimeout (%d)", busy);
    CHECK(ctrl(OUT_CLASS, ABORT, 0, NULL, 0) == 0, "ABORT after the blocks");
    expect_status("ABORT after the blocks", S_IDLE, OK);
}

/* RM0433 4.3.9: a flash word is programmed once between erases. A block
 * downloaded twice to the same (programmed) address is refused with
 * errCHECK_ERASED, and the flash keeps the first block. */
static void word_programmed_twice(void)
{
    static uint8_t first[256], second[256], back[256];
    for (unsigned i = 0; i < sizeof(first); i++) {
        first[i] = (uint8_t)(i ^ 0xa5);
        second[i] = (uint8_t)(i ^ 0x0f); /* programs some bits that are 0 in first */
    }
    uint32_t a = 0x08080000u;
    CHECK(dfuse_cmd(0x41, &a) == 5, "erase 0x08080000");
    settle();
    CHECK(set_address(a) == 5, "set-address 0x08080000");
    settle();
    CHECK(ctrl(OUT_CLASS, DNLOAD, 2, first, sizeof(first)) == (int)sizeof(first), "DNLOAD first");
    status_t s = settle();
    CHECK(s.state == S_DNLOAD_IDLE && s.status == OK, "first block: state %u status %u", s.state,
          s.status);
    CHECK(ctrl(OUT_CLASS, DNLOAD, 2, second, sizeof(second)) == (int)sizeof(second),
          "DNLOAD the same block again");
    s = settle();
    /* The second block may be programmed in the background: ABORT makes the
     * device finish it and report its failure. */
    if (s.r == 6 && s.state == S_DNLOAD_IDLE) {
        ctrl(OUT_CLASS, ABORT, 0, NULL, 0);
    }
    expect_status("the same block programmed twice", S_ERROR, ERR_CHECK_ERASED);
    clear("the same block programmed twice");
    CHECK(set_address(a) == 5, "set-address 0x08080000 for the read");
    settle();
    CHECK(ctrl(OUT_CLASS, ABORT, 0, NULL, 0) == 0, "ABORT before the read");
    CHECK(ctrl(IN_CLASS, UPLOAD, 2, back, sizeof(back)) == (int)sizeof(back), "UPLOAD 0x08080000");
    CHECK(memcmp(back, first, sizeof(back)) == 0, "the flash lost the first block");
    CHECK(ctrl(OUT_CLASS, ABORT, 0, NULL, 0) == 0, "ABORT after the read");
    expect_status("programmed twice, read back", S_IDLE, OK);
}

/* USB 2.0 8.5.3.2: a data stage shorter than wLength that is a whole number
 * of 64-byte packets ends with a zero-length packet; without it the host
 * waits for more data and the transfer does not complete. */
static void zlp_short_reply(void)
{
    static uint8_t buf[XFER];
    /* UPLOAD at the end of memory: 1984 bytes (31 packets) of the 2048 asked. */
    CHECK(set_address(0x08200000u - 1984u) == 5, "set-address end - 1984");
    settle();
    CHECK(ctrl(OUT_CLASS, ABORT, 0, NULL, 0) == 0, "ABORT before the short UPLOAD");
    int r = ctrl(IN_CLASS, UPLOAD, 2, buf, XFER);
    CHECK(r == 1984, "UPLOAD of the last 1984 bytes with wLength 2048: %d (%s), want 1984", r,
          r < 0 ? libusb_error_name(r) : "bytes");
    /* A short frame ends the upload (DFU 1.1 A.2.9). */
    expect_status("short UPLOAD", S_IDLE, OK);

    /* The serial string descriptor, when its length is a multiple of 64
     * (bad_requests.sh gives the native board a 31-character serial). */
    struct libusb_device_descriptor dd;
    uint8_t d[255];
    if (libusb_get_device_descriptor(libusb_get_device(h), &dd) != 0 || dd.iSerialNumber == 0) {
        return;
    }
    r = libusb_control_transfer(h, 0x80, LIBUSB_REQUEST_GET_DESCRIPTOR,
                                (uint16_t)(LIBUSB_DT_STRING << 8 | dd.iSerialNumber), 0x0409, d, 2,
                                TIMEOUT);
    CHECK(r == 2, "serial string descriptor header: %d", r);
    if (r != 2 || d[0] % 64 != 0) {
        printf("usb_bad: string descriptor ZLP not checked (serial descriptor %u bytes)\n", d[0]);
        return;
    }
    for (uint16_t wlen = (uint16_t)(d[0] + 64); wlen <= 255; wlen = (uint16_t)(wlen + 64)) {
        r = libusb_control_transfer(h, 0x80, LIBUSB_REQUEST_GET_DESCRIPTOR,
                                    (uint16_t)(LIBUSB_DT_STRING << 8 | dd.iSerialNumber), 0x0409, d,
                                    wlen, TIMEOUT);
        CHECK(r == d[0], "serial string descriptor (%u bytes) with wLength %u: %d (%s)", d[0], wlen,
              r, r < 0 ? libusb_error_name(r) : "bytes");
    }
    printf("usb_bad: string descriptor ZLP checked (serial descriptor %u bytes)\n", d[0]);
}

/* After all that, an erase + download + upload works. */
static void normal_cycle(void)
{
    static uint8_t data[XFER], back[XFER];
    for (unsigned i = 0; i < XFER; i++) {
        data[i] = (uint8_t)(i * 7 + 3);
    }
    uint32_t a = 0x08040000u;
    CHECK(dfuse_cmd(0x41, &a) == 5, "erase 0x08040000");
    status_t s = settle();
    CHECK(s.state == S_DNLOAD_IDLE && s.status == OK, "erase: state %u status %u", s.state,
          s.status);
    CHECK(set_address(a) == 5, "set-address 0x08040000");
    s = settle();
    CHECK(s.state == S_DNLOAD_IDLE, "set-address: state %u", s.state);
    CHECK(ctrl(OUT_CLASS, DNLOAD, 2, data, XFER) == XFER, "DNLOAD block 2");
    s = settle();
    CHECK(s.state == S_DNLOAD_IDLE && s.status == OK, "DNLOAD block 2: state %u status %u", s.state,
          s.status);
    CHECK(ctrl(OUT_CLASS, ABORT, 0, NULL, 0) == 0, "ABORT after download");
    CHECK(ctrl(IN_CLASS, UPLOAD, 2, back, XFER) == XFER, "UPLOAD block 2");
    CHECK(memcmp(data, back, XFER) == 0, "read back differs from what was written");
    CHECK(ctrl(OUT_CLASS, ABORT, 0, NULL, 0) == 0, "ABORT after upload");
    expect_status("normal cycle", S_IDLE, OK);
}

int main(int argc, char **argv)
{
    unsigned vid, pid;
    g_timed = argc == 3 && strcmp(argv[2], "--timed") == 0;
    if ((argc != 2 && !g_timed) || sscanf(argv[1], "%x:%x", &vid, &pid) != 2) {
        fprintf(stderr, "usage: usb_bad VID:PID [--timed]\n");
        return 2;
    }
    libusb_context *ctx;
    if (libusb_init(&ctx) != 0) {
        return 1;
    }
    h = libusb_open_device_with_vid_pid(ctx, (uint16_t)vid, (uint16_t)pid);
    if (!h) {
        fprintf(stderr, "usb_bad: FAIL: device %04x:%04x not found\n", vid, pid);
        libusb_exit(ctx);
        return 1;
    }
    int r = libusb_claim_interface(h, 0);
    CHECK(r == 0, "claim interface 0: %s", libusb_error_name(r));
    if (r == 0) {
        expect_status("start", S_IDLE, OK);
        bad_getstatus_length();
        bad_direction_and_unknown();
        bad_dnload();
        bad_upload();
        bad_standard();
        dnload_in_error();
        busy_poll_timeout();
        word_programmed_twice();
        zlp_short_reply();
        normal_cycle();
        libusb_release_interface(h, 0);
    }
    libusb_close(h);
    libusb_exit(ctx);
    printf("usb_bad: %d checks, %d failed\n", checks, fails);
    return fails ? 1 : 0;
}
