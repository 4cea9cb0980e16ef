/*
 * The DFU driver with a clock: background programming of data blocks (the
 * next block crosses the bus while the previous one is programmed), honest
 * bwPollTimeout (time left), dfuDNBUSY answered to an early GETSTATUS,
 * background failures reported, and the CRC-32 vendor command.
 * Fake flash: 8 x 1 KiB sectors, 32-byte words, sector 0 reserved.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dfu.h"
#include "fake_flash.h"

#define XFER     256u
#define PROG_US  100u /* per 32-byte word */
#define ERASE_MS 1000u
#define OUT      (USB_DIR_OUT | USB_TYPE_CLASS | USB_RECIP_INTERFACE)
#define IN       (USB_DIR_IN | USB_TYPE_CLASS | USB_RECIP_INTERFACE)
#define BLOCK_US ((XFER / 32u) * PROG_US) /* 800 us */

typedef struct fx {
    fake_flash_t flash;
    dfu_t dfu;
    uint32_t now; /* the device's clock, us */
} fx_t;

static uint32_t clk(void *user)
{
    return ((fx_t *)user)->now;
}

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof(*f));
    fake_flash_init(&f->flash);
    f->now = 1000;
    dfu_config_t cfg = {
        .flash = &f->flash.dev,
        .transfer_size = XFER,
        .erase_sector_ms = ERASE_MS,
        .program_word_us = PROG_US,
        .now_us = clk,
        .clock_user = f,
    };
    assert_true(dfu_init(&f->dfu, &cfg));
    assert_true(f->dfu.timed);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    free(*state);
    return 0;
}

static int ctl(fx_t *f, uint8_t type, uint8_t req, uint16_t val, uint8_t *data, uint16_t len)
{
    usb_setup_t s = {.bmRequestType = type, .bRequest = req, .wValue = val, .wLength = len};
    int r = dfu_control(&f->dfu, &s, data, len);
    if (r >= 0)
        dfu_control_done(&f->dfu, &s); /* status stage over: work may start */
    return r;
}

typedef struct st6 {
    uint8_t status, state;
    uint32_t poll;
} st6_t;

static st6_t getstatus(fx_t *f)
{
    uint8_t b[6];
    assert_int_equal(ctl(f, IN, DFU_REQ_GETSTATUS, 0, b, 6), 6);
    st6_t s = {b[0], b[4], (uint32_t)b[1] | ((uint32_t)b[2] << 8) | ((uint32_t)b[3] << 16)};
    return s;
}

static void dnload(fx_t *f, uint16_t block, const uint8_t *data, uint16_t len)
{
    uint8_t tmp[XFER];
    memcpy(tmp, data, len);
    assert_int_equal(ctl(f, OUT, DFU_REQ_DNLOAD, block, tmp, len), 0);
}

static void cmd(fx_t *f, const uint8_t *b, uint16_t len)
{
    dnload(f, 0, b, len);
}

static void set_address(fx_t *f, uint32_t a)
{
    uint8_t b[5] = {DFUSE_CMD_SET_ADDRESS, (uint8_t)a, (uint8_t)(a >> 8), (uint8_t)(a >> 16),
                    (uint8_t)(a >> 24)};
    cmd(f, b, 5);
    st6_t s = getstatus(f);
    assert_int_equal(s.state, DFU_STATE_DNBUSY); /* DfuSe hosts expect it */
    assert_int_equal(s.poll, 0);                 /* nothing to wait for */
    s = getstatus(f);
    assert_int_equal(s.state, DFU_STATE_DNLOAD_IDLE);
}

static void pattern(uint8_t *b, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)(i * 7u + seed * 13u + 1u);
}

#define ADDR (FAKE_BASE + 2u * FAKE_SECTOR)

static void test_blocks_overlap_and_poll_is_time_left(void **state)
{
    fx_t *f = *state;
    uint8_t a[XFER], b[XFER], c[XFER];
    pattern(a, XFER, 1);
    pattern(b, XFER, 2);
    pattern(c, XFER, 3);
    set_address(f, ADDR);

    /* block A: accepted at once, programmed in the background */
    dnload(f, 2, a, XFER);
    st6_t s = getstatus(f);
    assert_int_equal(s.state, DFU_STATE_DNLOAD_IDLE);
    assert_int_equal(s.poll, 0);
    /* block B arrives 300 us later, while A is still being programmed */
    f->now += 300;
    dnload(f, 3, b, XFER);
    assert_int_equal(f->dfu.blocks_overlapped, 1);
    s = getstatus(f);
    assert_int_equal(s.state, DFU_STATE_DNBUSY);
    assert_int_equal(s.poll, 1); /* 500 us left, rounded up to 1 ms */
    /* asked again too early: still busy, with the time left */
    f->now += 200;
    s = getstatus(f);
    assert_int_equal(s.state, DFU_STATE_DNBUSY);
    assert_int_equal(s.poll, 1);
    /* A is done: B is taken into the background */
    f->now += 300;
    s = getstatus(f);
    assert_int_equal(s.state, DFU_STATE_DNLOAD_IDLE);
    assert_int_equal(s.status, DFU_STATUS_OK);
    /* C long after B: no wait at all */
    f->now += 5000;
    dnload(f, 4, c, XFER);
    s = getstatus(f);
    assert_int_equal(s.state, DFU_STATE_DNLOAD_IDLE);
    /* ABORT ends the download: everything is in flash, byte for byte */
    assert_int_equal(ctl(f, OUT, DFU_REQ_ABORT, 0, NULL, 0), 0);
    assert_int_equal(dfu_get_state(&f->dfu), DFU_STATE_IDLE);
    const uint8_t *m = &f->flash.mem[ADDR - FAKE_BASE];
    assert_memory_equal(m, a, XFER);
    assert_memory_equal(m + XFER, b, XFER);
    assert_memory_equal(m + 2 * XFER, c, XFER);
    assert_int_equal(f->dfu.words_programmed, 3 * XFER / 32);
}

static void test_erase_waits_for_background_block(void **state)
{
    fx_t *f = *state;
    uint8_t a[XFER];
    pattern(a, XFER, 4);
    set_address(f, ADDR);
    dnload(f, 2, a, XFER);
    assert_int_equal(getstatus(f).state, DFU_STATE_DNLOAD_IDLE);
    f->now += 100; /* 700 us of A left */
    uint32_t e = FAKE_BASE + 5u * FAKE_SECTOR;
    uint8_t b[5] = {DFUSE_CMD_ERASE, (uint8_t)e, (uint8_t)(e >> 8), (uint8_t)(e >> 16),
                    (uint8_t)(e >> 24)};
    cmd(f, b, 5);
    st6_t s = getstatus(f);
    assert_int_equal(s.state, DFU_STATE_DNBUSY);
    assert_int_equal(s.poll, ERASE_MS + 1); /* 0.7 ms of A, then the erase */
    f->now += ERASE_MS * 1000u;             /* not quite */
    assert_int_equal(getstatus(f).state, DFU_STATE_DNBUSY);
    f->now += 700;
    s = getstatus(f);
    assert_int_equal(s.state, DFU_STATE_DNLOAD_IDLE);
    assert_int_equal(f->flash.erases, 1);
}

static void test_background_failure_reported(void **state)
{
    fx_t *f = *state;
    uint8_t a[XFER];
    pattern(a, XFER, 5);
    set_address(f, ADDR);
    f->flash.fail_program = true;
    dnload(f, 2, a, XFER);
    /* accepted: the failure happens in the background */
    assert_int_equal(getstatus(f).state, DFU_STATE_DNLOAD_IDLE);
    f->now += 5000;
    dnload(f, 3, a, XFER);
    st6_t s = getstatus(f);
    assert_int_equal(s.state, DFU_STATE_ERROR);
    assert_int_equal(s.status, DFU_STATUS_ERR_PROG);
}

static void test_background_failure_on_abort(void **state)
{
    fx_t *f = *state;
    uint8_t a[XFER];
    pattern(a, XFER, 6);
    set_address(f, ADDR);
    f->flash.fail_program = true;
    dnload(f, 2, a, XFER);
    assert_int_equal(getstatus(f).state, DFU_STATE_DNLOAD_IDLE);
    assert_int_equal(ctl(f, OUT, DFU_REQ_ABORT, 0, NULL, 0), 0);
    st6_t s = getstatus(f);
    assert_int_equal(s.state, DFU_STATE_ERROR);
    assert_int_equal(s.status, DFU_STATUS_ERR_PROG);
}

static void crc_cmd_seed(fx_t *f, uint32_t a, uint32_t n, uint32_t seed)
{
    uint8_t b[13] = {DFUSE_CMD_CRC32};
    for (int k = 0; k < 4; k++) {
        b[1 + k] = (uint8_t)(a >> (8 * k));
        b[5 + k] = (uint8_t)(n >> (8 * k));
        b[9 + k] = (uint8_t)(seed >> (8 * k));
    }
    cmd(f, b, 13);
}

/* the 9-byte form: seed 0 */
static void crc_cmd(fx_t *f, uint32_t a, uint32_t n)
{
    uint8_t b[9] = {DFUSE_CMD_CRC32,    (uint8_t)a,         (uint8_t)(a >> 8),
                    (uint8_t)(a >> 16), (uint8_t)(a >> 24), (uint8_t)n,
                    (uint8_t)(n >> 8),  (uint8_t)(n >> 16), (uint8_t)(n >> 24)};
    cmd(f, b, 9);
}

static void test_crc_command(void **state)
{
    fx_t *f = *state;
    uint8_t r[16];
    /* no result yet: block 1 stalls */
    assert_int_equal(ctl(f, IN, DFU_REQ_UPLOAD, DFU_RESULT_BLOCK, r, 16), USBD_STALL);
    assert_int_equal(ctl(f, OUT, DFU_REQ_CLRSTATUS, 0, NULL, 0), 0);
    /* advertised */
    uint8_t cmds[16];
    int n = ctl(f, IN, DFU_REQ_UPLOAD, 0, cmds, 16);
    assert_true(n > 0 && memchr(cmds, DFUSE_CMD_CRC32, (size_t)n) != NULL);

    pattern(&f->flash.mem[3 * FAKE_SECTOR], 2 * FAKE_SECTOR, 9);
    uint32_t a = FAKE_BASE + 3u * FAKE_SECTOR, len = 2u * FAKE_SECTOR;
    crc_cmd(f, a, len);
    st6_t s = getstatus(f);
    assert_int_equal(s.state, DFU_STATE_DNBUSY);
    /* 2 KiB x 20 ns = 41 us -> 1 ms */
    assert_int_equal(s.poll, 1);
    f->now += 1000;
    assert_int_equal(getstatus(f).state, DFU_STATE_DNLOAD_IDLE);
    assert_int_equal(ctl(f, OUT, DFU_REQ_ABORT, 0, NULL, 0), 0);
    assert_int_equal(ctl(f, IN, DFU_REQ_UPLOAD, DFU_RESULT_BLOCK, r, 16), 12);
    assert_int_equal(dfu_get_state(&f->dfu), DFU_STATE_IDLE); /* short frame */
    uint32_t ra = r[0] | (uint32_t)r[1] << 8 | (uint32_t)r[2] << 16 | (uint32_t)r[3] << 24;
    uint32_t rl = r[4] | (uint32_t)r[5] << 8 | (uint32_t)r[6] << 16 | (uint32_t)r[7] << 24;
    uint32_t rc = r[8] | (uint32_t)r[9] << 8 | (uint32_t)r[10] << 16 | (uint32_t)r[11] << 24;
    assert_int_equal(ra, a);
    assert_int_equal(rl, len);
    assert_int_equal(rc, dfu_crc32c(0, &f->flash.mem[3 * FAKE_SECTOR], len));
    /* one byte changed, and a seed: another CRC, the seeded one */
    f->flash.mem[3 * FAKE_SECTOR + 100] ^= 1;
    crc_cmd_seed(f, a, len, 0xabcdef01u);
    getstatus(f);
    f->now += 1000;
    getstatus(f);
    ctl(f, OUT, DFU_REQ_ABORT, 0, NULL, 0);
    uint8_t r2[16];
    assert_int_equal(ctl(f, IN, DFU_REQ_UPLOAD, DFU_RESULT_BLOCK, r2, 16), 12);
    assert_memory_not_equal(r + 8, r2 + 8, 4);
    uint32_t c2 = r2[8] | (uint32_t)r2[9] << 8 | (uint32_t)r2[10] << 16 | (uint32_t)r2[11] << 24;
    assert_int_equal(c2, dfu_crc32c(0xabcdef01u, &f->flash.mem[3 * FAKE_SECTOR], len));
}

static void test_crc_known_value_and_range(void **state)
{
    fx_t *f = *state;
    assert_int_equal(dfu_crc32c(0, (const uint8_t *)"123456789", 9), 0xE3069283u);
    /* chained == whole */
    assert_int_equal(
        dfu_crc32c(dfu_crc32c(0, (const uint8_t *)"1234", 4), (const uint8_t *)"56789", 5),
        0xE3069283u);
    /* outside the flash: errADDRESS; zero length too */
    crc_cmd(f, FAKE_BASE + FAKE_SIZE - 16, 32);
    st6_t s = getstatus(f);
    assert_int_equal(s.state, DFU_STATE_ERROR);
    assert_int_equal(s.status, DFU_STATUS_ERR_ADDRESS);
    assert_int_equal(ctl(f, OUT, DFU_REQ_CLRSTATUS, 0, NULL, 0), 0);
    crc_cmd(f, FAKE_BASE, 0);
    assert_int_equal(getstatus(f).status, DFU_STATUS_ERR_ADDRESS);
    assert_int_equal(ctl(f, OUT, DFU_REQ_CLRSTATUS, 0, NULL, 0), 0);
    /* wrong length: stall */
    uint8_t b[5] = {DFUSE_CMD_CRC32, 0, 0, 0, 8};
    uint8_t tmp[5];
    memcpy(tmp, b, 5);
    assert_int_equal(ctl(f, OUT, DFU_REQ_DNLOAD, 0, tmp, 5), USBD_STALL);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_blocks_overlap_and_poll_is_time_left),
        T(test_erase_waits_for_background_block),
        T(test_background_failure_reported),
        T(test_background_failure_on_abort),
        T(test_crc_command),
        T(test_crc_known_value_and_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
