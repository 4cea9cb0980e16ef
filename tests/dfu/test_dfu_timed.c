/*
 * The DFU driver's flash work: with a clock and a blocking flash, blocks
 * wait in the transfer buffers and are programmed in the background (the
 * next block crosses the bus while the previous one is programmed), honest
 * bwPollTimeout (time left), dfuDNBUSY answered to an early GETSTATUS,
 * background failures reported, and the CRC-32 vendor command; with a flash
 * that starts operations and is polled (the H743's driver), the main loop
 * steps the work, both banks work at once, a busy bank is never read.
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
#include "h7_util.h"

#define XFER     256u
#define PROG_US  100u /* per 32-byte word */
#define ERASE_MS 1000u
#define OUT      (USB_DIR_OUT | USB_TYPE_CLASS | USB_RECIP_INTERFACE)
#define IN       (USB_DIR_IN | USB_TYPE_CLASS | USB_RECIP_INTERFACE)
#define BLOCK_US ((XFER / 32u) * PROG_US) /* 800 us */

typedef struct fx {
    ram_flash_t flash;
    uint8_t flash_mem[FAKE_SIZE];
    dfu_t dfu;
    uint8_t bufs[4 * XFER];
    uint32_t now; /* the device's clock, us */
    unsigned manifests;
} fx_t;

static void on_manifest(void *user, uint32_t addr)
{
    (void)addr;
    ((fx_t *)user)->manifests++;
}

static uint32_t clk(void *user)
{
    return ((fx_t *)user)->now;
}

/* The fixture: a blocking fake flash (the simulator's kind, the driver
 * models the time) or, polled, one that starts operations and is polled (the
 * H743's kind, the main loop steps the work). */
static fx_t *fx_new(bool polled)
{
    fx_t *f = calloc(1, sizeof(*f));
    fake_flash_init(&f->flash, f->flash_mem);
    if (polled) {
        ram_flash_set_polled(&f->flash, 3); /* each operation: busy for 3 polls */
    }
    f->now = 1000;
    dfu_config_t cfg = {
        .flash = &f->flash.dev,
        .transfer_size = XFER,
        .bufs = f->bufs,
        .buf_count = 4,
        .erase_sector_ms = ERASE_MS,
        .program_word_us = PROG_US,
        .ops_in_poll = polled,
        .now_us = clk,
        .clock_user = f,
        .manifest = on_manifest,
        .user = f,
    };
    assert_true(dfu_init(&f->dfu, &cfg));
    return f;
}

static int setup(void **state)
{
    *state = fx_new(false);
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
    if (r >= 0) {
        dfu_control_done(&f->dfu, &s); /* status stage over: work may start */
    }
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
    for (size_t i = 0; i < n; i++) {
        b[i] = (uint8_t)(i * 7u + seed * 13u + 1u);
    }
}

#define ADDR (FAKE_BASE + 2u * FAKE_SECTOR)

static void test_blocks_overlap_and_poll_is_time_left(void **state)
{
    fx_t *f = *state;
    uint8_t blk[5][XFER];
    for (unsigned i = 0; i < 5; i++) {
        pattern(blk[i], XFER, i + 1u);
    }
    set_address(f, ADDR);

    /* block A: accepted at once, programmed in the background */
    dnload(f, 2, blk[0], XFER);
    st6_t s = getstatus(f);
    assert_int_equal(s.state, DFU_STATE_DNLOAD_IDLE);
    assert_int_equal(s.poll, 0);
    /* B, C, D arrive 300 us later, while A is still being programmed: each
     * waits in a free buffer; the last one leaves none free */
    f->now += 300;
    for (unsigned i = 1; i < 3; i++) {
        dnload(f, (uint16_t)(2 + i), blk[i], XFER);
        s = getstatus(f);
        assert_int_equal(s.state, DFU_STATE_DNLOAD_IDLE);
    }
    assert_int_equal(f->dfu.blocks_overlapped, 2);
    dnload(f, 5, blk[3], XFER);
    s = getstatus(f);
    assert_int_equal(s.state, DFU_STATE_DNBUSY);
    assert_int_equal(s.poll, 1); /* 500 us of A left, rounded up to 1 ms */
    /* asked again too early: still busy, with the time left */
    f->now += 200;
    s = getstatus(f);
    assert_int_equal(s.state, DFU_STATE_DNBUSY);
    assert_int_equal(s.poll, 1);
    /* A is done: its buffer takes the next block */
    f->now += 300;
    s = getstatus(f);
    assert_int_equal(s.state, DFU_STATE_DNLOAD_IDLE);
    assert_int_equal(s.status, DFU_STATUS_OK);
    /* E long after: no wait at all */
    f->now += 50000;
    dnload(f, 6, blk[4], XFER);
    s = getstatus(f);
    assert_int_equal(s.state, DFU_STATE_DNLOAD_IDLE);
    /* ABORT ends the download: everything is in flash, byte for byte */
    assert_int_equal(ctl(f, OUT, DFU_REQ_ABORT, 0, NULL, 0), 0);
    assert_int_equal(dfu_get_state(&f->dfu), DFU_STATE_IDLE);
    const uint8_t *m = &f->flash.mem[ADDR - FAKE_BASE];
    for (unsigned i = 0; i < 5; i++) {
        assert_memory_equal(m + i * XFER, blk[i], XFER);
    }
    assert_int_equal(f->dfu.work.words_programmed, 5 * XFER / 32);
}

static void test_erase_queued_behind_block(void **state)
{
    fx_t *f = *state;
    uint8_t a[XFER];
    pattern(a, XFER, 4);
    set_address(f, ADDR);
    dnload(f, 2, a, XFER);
    assert_int_equal(getstatus(f).state, DFU_STATE_DNLOAD_IDLE);
    f->now += 100; /* 700 us of A left */
    /* sector 3: the same bank; queued behind A, answered at once */
    uint32_t e = FAKE_BASE + 3u * FAKE_SECTOR;
    uint8_t b[5] = {DFUSE_CMD_ERASE, (uint8_t)e, (uint8_t)(e >> 8), (uint8_t)(e >> 16),
                    (uint8_t)(e >> 24)};
    cmd(f, b, 5);
    st6_t s = getstatus(f);
    assert_int_equal(s.state, DFU_STATE_DNBUSY); /* a command: DfuSe hosts expect it */
    assert_int_equal(s.poll, 0);
    assert_int_equal(getstatus(f).state, DFU_STATE_DNLOAD_IDLE);
    /* a CRC waits for both: 0.7 ms of A, then the erase */
    uint8_t c[9] = {DFUSE_CMD_CRC32,
                    (uint8_t)e,
                    (uint8_t)(e >> 8),
                    (uint8_t)(e >> 16),
                    (uint8_t)(e >> 24),
                    32,
                    0,
                    0,
                    0};
    cmd(f, c, 9);
    s = getstatus(f);
    assert_int_equal(s.state, DFU_STATE_DNBUSY);
    assert_int_equal(s.poll, ERASE_MS + 1); /* + 1 ms for the CRC, rounded */
    f->now += ERASE_MS * 1000u;             /* not quite */
    assert_int_equal(getstatus(f).state, DFU_STATE_DNBUSY);
    assert_false(f->dfu.result_valid);
    f->now += 700;
    assert_int_equal(getstatus(f).state, DFU_STATE_DNBUSY); /* done now: the CRC runs */
    assert_int_equal(getstatus(f).state, DFU_STATE_DNLOAD_IDLE);
    assert_true(f->dfu.result_valid);
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
    uint32_t ra = h7_get_le32(r);
    uint32_t rl = h7_get_le32(r + 4);
    uint32_t rc = h7_get_le32(r + 8);
    assert_int_equal(ra, a);
    assert_int_equal(rl, len);
    assert_int_equal(rc, h7_crc32c(0, &f->flash.mem[3 * FAKE_SECTOR], len));
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
    uint32_t c2 = h7_get_le32(r2 + 8);
    assert_int_equal(c2, h7_crc32c(0xabcdef01u, &f->flash.mem[3 * FAKE_SECTOR], len));
}

static void test_crc_known_value_and_range(void **state)
{
    fx_t *f = *state;
    assert_int_equal(h7_crc32c(0, (const uint8_t *)"123456789", 9), 0xE3069283u);
    /* chained == whole */
    assert_int_equal(
        h7_crc32c(h7_crc32c(0, (const uint8_t *)"1234", 4), (const uint8_t *)"56789", 5),
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

static void test_boot_status_command(void **state)
{
    fx_t *f = *state;
    uint8_t b[1] = {DFUSE_CMD_BOOT_STATUS}, r[16];
    /* listed in the command list */
    uint8_t cmds[16];
    int n = ctl(f, IN, DFU_REQ_UPLOAD, 0, cmds, 16);
    assert_true(n > 0 && memchr(cmds, DFUSE_CMD_BOOT_STATUS, (size_t)n) != NULL);
    /* no status given to the driver: stall */
    uint8_t tmp[1];
    memcpy(tmp, b, 1);
    assert_int_equal(ctl(f, OUT, DFU_REQ_DNLOAD, 0, tmp, 1), USBD_STALL);
    assert_int_equal(ctl(f, OUT, DFU_REQ_CLRSTATUS, 0, NULL, 0), 0);
    /* given: answered in UPLOAD block 1, byte for byte */
    static const uint8_t status[DFU_BOOT_STATUS_LEN] = {2, 1, 3, 0, 1, 2, 3, 0, 4, 0, 0, 0};
    f->dfu.cfg.boot_status = status;
    cmd(f, b, 1);
    assert_int_equal(getstatus(f).state, DFU_STATE_DNBUSY);
    assert_int_equal(getstatus(f).state, DFU_STATE_DNLOAD_IDLE);
    assert_int_equal(ctl(f, OUT, DFU_REQ_ABORT, 0, NULL, 0), 0);
    assert_int_equal(ctl(f, IN, DFU_REQ_UPLOAD, DFU_RESULT_BLOCK, r, 16), 12);
    assert_memory_equal(r, status, 12);
    /* wrong length: stall */
    uint8_t two[2] = {DFUSE_CMD_BOOT_STATUS, 0};
    assert_int_equal(ctl(f, OUT, DFU_REQ_DNLOAD, 0, two, 2), USBD_STALL);
}

/* ---- a flash that starts operations and is polled (the H743's driver) ---- */

static int setup_polled(void **state)
{
    *state = fx_new(true);
    return 0;
}

/* The main loop: n passes. */
static void loop(fx_t *f, unsigned n)
{
    while (n--) {
        dfu_poll(&f->dfu);
    }
}

static void erase_cmd(fx_t *f, unsigned sector)
{
    uint32_t e = FAKE_BASE + sector * FAKE_SECTOR;
    uint8_t b[5] = {DFUSE_CMD_ERASE, (uint8_t)e, (uint8_t)(e >> 8), (uint8_t)(e >> 16),
                    (uint8_t)(e >> 24)};
    cmd(f, b, 5);
    assert_int_equal(getstatus(f).state, DFU_STATE_DNBUSY);
    assert_int_equal(getstatus(f).state, DFU_STATE_DNLOAD_IDLE);
}

static void test_polled_steps_without_waiting(void **state)
{
    fx_t *f = *state;
    memset(&f->flash.mem[2 * FAKE_SECTOR], 0x00, FAKE_SECTOR);
    erase_cmd(f, 2);
    /* one main-loop pass starts the erase and returns: nothing waits */
    loop(f, 1);
    assert_true(f->flash.busy[0] > 0); /* started, still running */
    uint8_t a[XFER];
    pattern(a, XFER, 7);
    set_address(f, ADDR);
    dnload(f, 2, a, XFER);
    assert_int_equal(getstatus(f).state, DFU_STATE_DNLOAD_IDLE);
    loop(f, 200);
    assert_true(dfu_work_idle(&f->dfu.work));
    assert_memory_equal(&f->flash.mem[ADDR - FAKE_BASE], a, XFER);
    assert_int_equal(f->flash.erases, 1);
    assert_int_equal(f->flash.programs, XFER / 32u);
    /* the rules of the flash: one operation per bank, no read of a busy bank */
    assert_int_equal(f->flash.started_on_busy, 0);
    assert_int_equal(f->flash.read_busy, 0);
}

static void test_polled_both_banks_at_once(void **state)
{
    fx_t *f = *state;
    /* sectors 2 (bank 1) and 5 (bank 2): both erase at the same time */
    erase_cmd(f, 2);
    erase_cmd(f, 5);
    uint8_t a[XFER], b[XFER];
    pattern(a, XFER, 8);
    pattern(b, XFER, 9);
    set_address(f, FAKE_BASE + 2u * FAKE_SECTOR);
    dnload(f, 2, a, XFER);
    assert_int_equal(getstatus(f).state, DFU_STATE_DNLOAD_IDLE);
    set_address(f, FAKE_BASE + 5u * FAKE_SECTOR);
    dnload(f, 2, b, XFER);
    assert_int_equal(getstatus(f).state, DFU_STATE_DNLOAD_IDLE);
    loop(f, 300);
    assert_true(dfu_work_idle(&f->dfu.work));
    assert_int_equal(f->flash.max_busy_banks, 2);
    assert_memory_equal(&f->flash.mem[2 * FAKE_SECTOR], a, XFER);
    assert_memory_equal(&f->flash.mem[5 * FAKE_SECTOR], b, XFER);
    assert_int_equal(f->flash.started_on_busy, 0);
    assert_int_equal(f->flash.read_busy, 0);
}

static void test_polled_block_across_banks(void **state)
{
    fx_t *f = *state;
    /* bank 1 ends at sector 4: a block half in each bank is two jobs */
    uint32_t at = FAKE_BASE + 4u * FAKE_SECTOR - XFER / 2u;
    uint8_t a[XFER];
    pattern(a, XFER, 10);
    set_address(f, at);
    dnload(f, 2, a, XFER);
    assert_int_equal(getstatus(f).state, DFU_STATE_DNLOAD_IDLE);
    loop(f, 200);
    assert_memory_equal(&f->flash.mem[at - FAKE_BASE], a, XFER);
    assert_int_equal(f->flash.max_busy_banks, 2);
    assert_int_equal(f->flash.read_busy, 0);
    /* its buffer is free again: four more blocks are taken */
    for (unsigned i = 0; i < 3; i++) {
        dnload(f, (uint16_t)(3 + i), a, XFER);
        assert_int_equal(getstatus(f).state, DFU_STATE_DNLOAD_IDLE);
    }
}

static void test_polled_failure_drops_the_bank(void **state)
{
    fx_t *f = *state;
    uint8_t a[XFER];
    pattern(a, XFER, 11);
    set_address(f, ADDR);
    f->flash.fail_program = true;
    dnload(f, 2, a, XFER);
    assert_int_equal(getstatus(f).state, DFU_STATE_DNLOAD_IDLE);
    dnload(f, 3, a, XFER);
    assert_int_equal(getstatus(f).state, DFU_STATE_DNLOAD_IDLE);
    loop(f, 50);
    /* the first word failed: nothing more was programmed on that bank */
    assert_int_equal(f->flash.programs, 0);
    assert_true(dfu_work_idle(&f->dfu.work));
    st6_t s = getstatus(f);
    assert_int_equal(s.state, DFU_STATE_ERROR);
    assert_int_equal(s.status, DFU_STATUS_ERR_PROG);
    /* every buffer is free after CLRSTATUS */
    assert_int_equal(ctl(f, OUT, DFU_REQ_CLRSTATUS, 0, NULL, 0), 0);
    for (unsigned i = 0; i < 4; i++) {
        assert_int_equal(f->dfu.buf_refs[i], 0);
    }
}

/* A block split across the banks holds its buffer until both halves are
 * programmed: one word in bank 1, the rest in bank 2. */
static void test_polled_split_block_holds_its_buffer(void **state)
{
    fx_t *f = *state;
    uint32_t at = FAKE_BASE + 4u * FAKE_SECTOR - 32u;
    uint8_t a[XFER];
    pattern(a, XFER, 12);
    set_address(f, at);
    dnload(f, 2, a, XFER);
    assert_int_equal(getstatus(f).state, DFU_STATE_DNLOAD_IDLE);
    /* bank 1's word is done, bank 2 is still at it */
    for (unsigned i = 0; i < 40 && f->dfu.work.bank[0].count != 0; i++) {
        loop(f, 1);
    }
    assert_int_equal(f->dfu.work.bank[0].count, 0);
    assert_true(f->dfu.work.bank[1].count != 0);
    assert_int_equal(f->dfu.buf_refs[0], 1);
    /* three more blocks (far away, in bank 1): the fourth buffer is still
     * the split block's, so the last answer says wait */
    set_address(f, FAKE_BASE + 2u * FAKE_SECTOR);
    for (unsigned i = 0; i < 2; i++) {
        dnload(f, (uint16_t)(2 + i), a, XFER);
        assert_int_equal(getstatus(f).state, DFU_STATE_DNLOAD_IDLE);
    }
    dnload(f, 4, a, XFER);
    assert_int_equal(getstatus(f).state, DFU_STATE_DNBUSY);
    loop(f, 400);
    assert_memory_equal(&f->flash.mem[at - FAKE_BASE], a, XFER);
}

/* A stored block dropped by a refused request frees its buffer. */
static void test_polled_dropped_block_frees_its_buffer(void **state)
{
    fx_t *f = *state;
    uint8_t a[XFER];
    pattern(a, XFER, 13);
    set_address(f, ADDR);
    dnload(f, 2, a, XFER);
    /* ABORT in dfuDNLOAD-SYNC: stalled, dfuERROR; the block is dropped */
    assert_int_equal(ctl(f, OUT, DFU_REQ_ABORT, 0, NULL, 0), USBD_STALL);
    assert_int_equal(ctl(f, OUT, DFU_REQ_CLRSTATUS, 0, NULL, 0), 0);
    set_address(f, ADDR);
    for (unsigned i = 0; i < 3; i++) {
        dnload(f, (uint16_t)(2 + i), a, XFER);
        assert_int_equal(getstatus(f).state, DFU_STATE_DNLOAD_IDLE);
    }
}

/* ABORT with work queued: it ends first, so what was sent is in flash. */
static void test_polled_abort_waits_for_the_work(void **state)
{
    fx_t *f = *state;
    uint8_t a[XFER], b[XFER];
    pattern(a, XFER, 14);
    pattern(b, XFER, 15);
    set_address(f, ADDR);
    dnload(f, 2, a, XFER);
    assert_int_equal(getstatus(f).state, DFU_STATE_DNLOAD_IDLE);
    dnload(f, 3, b, XFER);
    assert_int_equal(getstatus(f).state, DFU_STATE_DNLOAD_IDLE);
    assert_false(dfu_work_idle(&f->dfu.work));
    assert_int_equal(ctl(f, OUT, DFU_REQ_ABORT, 0, NULL, 0), 0);
    assert_true(dfu_work_idle(&f->dfu.work));
    assert_memory_equal(&f->flash.mem[ADDR - FAKE_BASE], a, XFER);
    assert_memory_equal(&f->flash.mem[ADDR - FAKE_BASE + XFER], b, XFER);
    assert_int_equal(f->flash.read_busy, 0);
}

/* A CRC sent with work queued runs once the flash is idle: it sees the
 * data. */
static void test_polled_crc_after_the_work(void **state)
{
    fx_t *f = *state;
    uint8_t a[XFER];
    pattern(a, XFER, 16);
    set_address(f, ADDR);
    dnload(f, 2, a, XFER);
    assert_int_equal(getstatus(f).state, DFU_STATE_DNLOAD_IDLE);
    crc_cmd(f, ADDR, XFER);
    assert_int_equal(getstatus(f).state, DFU_STATE_DNBUSY);
    loop(f, 1);
    assert_false(f->dfu.result_valid); /* the block is not done */
    for (unsigned i = 0; i < 200 && !f->dfu.result_valid; i++) {
        loop(f, 1);
    }
    assert_true(f->dfu.result_valid);
    assert_int_equal(f->flash.read_busy, 0);
    assert_int_equal(getstatus(f).state, DFU_STATE_DNLOAD_IDLE);
    uint32_t c = f->dfu.result[8] | (uint32_t)f->dfu.result[9] << 8 |
                 (uint32_t)f->dfu.result[10] << 16 | (uint32_t)f->dfu.result[11] << 24;
    assert_int_equal(c, h7_crc32c(0, a, XFER));
}

/* A leave after a block failed in the background: dfuERROR with the
 * failure, the boot layer is never told to leave. Then CLRSTATUS: dfuIDLE. */
static void test_polled_leave_after_failure(void **state)
{
    fx_t *f = *state;
    uint8_t a[XFER];
    pattern(a, XFER, 17);
    set_address(f, ADDR);
    f->flash.fail_program = true;
    dnload(f, 2, a, XFER);
    assert_int_equal(getstatus(f).state, DFU_STATE_DNLOAD_IDLE);
    assert_int_equal(ctl(f, OUT, DFU_REQ_DNLOAD, 0, NULL, 0), 0); /* leave */
    st6_t s = getstatus(f);
    for (unsigned i = 0; i < 50 && s.state == DFU_STATE_MANIFEST; i++) {
        loop(f, 1);
        s = getstatus(f);
    }
    assert_int_equal(s.state, DFU_STATE_ERROR);
    assert_int_equal(s.status, DFU_STATUS_ERR_PROG);
    assert_int_equal(f->manifests, 0);
    assert_int_equal(ctl(f, OUT, DFU_REQ_CLRSTATUS, 0, NULL, 0), 0);
    s = getstatus(f);
    assert_int_equal(s.state, DFU_STATE_IDLE);
    assert_int_equal(s.status, DFU_STATUS_OK);
}

/* A bus reset with a failing block still queued: the failure is reported
 * by the next GETSTATUS, in dfuIDLE too; the reset clears a finished CRC's
 * result state, so a leave right after it is a leave. */
static void test_polled_reset_keeps_the_failure(void **state)
{
    fx_t *f = *state;
    uint8_t a[XFER];
    pattern(a, XFER, 18);
    set_address(f, ADDR);
    f->flash.fail_program = true;
    dnload(f, 2, a, XFER);
    assert_int_equal(getstatus(f).state, DFU_STATE_DNLOAD_IDLE);
    dfu_reset(&f->dfu);
    loop(f, 50);
    st6_t s = getstatus(f);
    assert_int_equal(s.state, DFU_STATE_ERROR);
    assert_int_equal(s.status, DFU_STATUS_ERR_PROG);
    assert_int_equal(ctl(f, OUT, DFU_REQ_CLRSTATUS, 0, NULL, 0), 0);
    f->flash.fail_program = false;
    /* a CRC runs, then the host is gone and the bus is reset */
    crc_cmd(f, ADDR, 32);
    assert_int_equal(getstatus(f).state, DFU_STATE_DNBUSY);
    loop(f, 5);
    dfu_reset(&f->dfu);
    assert_int_equal(ctl(f, OUT, DFU_REQ_DNLOAD, 0, NULL, 0), 0); /* leave from dfuIDLE */
    s = getstatus(f);
    assert_int_not_equal(s.state, DFU_STATE_ERROR);
    loop(f, 5);
    assert_int_equal(f->manifests, 1);
}

/* A bank whose queue is full (eight jobs) takes no more: the command
 * answers dfuDNBUSY with the time until the bank ends its running job, and
 * is queued once it has. */
static void test_polled_full_queue_waits(void **state)
{
    fx_t *f = *state;
    uint32_t e = FAKE_BASE + 2u * FAKE_SECTOR;
    uint8_t b[5] = {DFUSE_CMD_ERASE, (uint8_t)e, (uint8_t)(e >> 8), (uint8_t)(e >> 16),
                    (uint8_t)(e >> 24)};
    ram_flash_set_polled(&f->flash, 100); /* the erases last 100 polls each */
    for (unsigned i = 0; i < DFU_WORK_QLEN; i++) {
        erase_cmd(f, 2);
    }
    assert_int_equal(f->dfu.work.bank[0].count, DFU_WORK_QLEN);
    cmd(f, b, 5);
    st6_t s = getstatus(f);
    assert_int_equal(s.state, DFU_STATE_DNBUSY);
    assert_int_equal(s.poll, ERASE_MS); /* the first erase has just started */
    assert_int_equal(getstatus(f).state, DFU_STATE_DNBUSY);
    /* the first erase ends: room, the ninth is queued (dfuDNBUSY with 0,
     * as a command answers), then dfuDNLOAD-IDLE */
    while (f->dfu.work.bank[0].count == DFU_WORK_QLEN) {
        loop(f, 1);
    }
    s = getstatus(f);
    assert_int_equal(s.state, DFU_STATE_DNBUSY);
    assert_int_equal(s.poll, 0);
    assert_int_equal(getstatus(f).state, DFU_STATE_DNLOAD_IDLE);
    for (unsigned i = 0; i < 2000 && !dfu_work_idle(&f->dfu.work); i++) {
        loop(f, 1);
    }
    assert_int_equal(f->flash.erases, DFU_WORK_QLEN + 1u);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_blocks_overlap_and_poll_is_time_left),
        T(test_erase_queued_behind_block),
        T(test_background_failure_reported),
        T(test_background_failure_on_abort),
        T(test_crc_command),
        T(test_crc_known_value_and_range),
        T(test_boot_status_command),
        cmocka_unit_test_setup_teardown(test_polled_steps_without_waiting, setup_polled, teardown),
        cmocka_unit_test_setup_teardown(test_polled_both_banks_at_once, setup_polled, teardown),
        cmocka_unit_test_setup_teardown(test_polled_block_across_banks, setup_polled, teardown),
        cmocka_unit_test_setup_teardown(test_polled_failure_drops_the_bank, setup_polled, teardown),
        cmocka_unit_test_setup_teardown(test_polled_split_block_holds_its_buffer, setup_polled,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_polled_dropped_block_frees_its_buffer, setup_polled,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_polled_abort_waits_for_the_work, setup_polled,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_polled_crc_after_the_work, setup_polled, teardown),
        cmocka_unit_test_setup_teardown(test_polled_leave_after_failure, setup_polled, teardown),
        cmocka_unit_test_setup_teardown(test_polled_reset_keeps_the_failure, setup_polled,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_polled_full_queue_waits, setup_polled, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
