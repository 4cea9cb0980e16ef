/*
 * core/dfu state machine, request by request, on a small fake flash
 * (8 x 1 KiB sectors, 32-byte words, sector 0 reserved for the bootloader).
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

#define XFER 256u
#define OUT  (USB_DIR_OUT | USB_TYPE_CLASS | USB_RECIP_INTERFACE)
#define IN   (USB_DIR_IN | USB_TYPE_CLASS | USB_RECIP_INTERFACE)

typedef struct fx {
    ram_flash_t flash;
    uint8_t flash_mem[FAKE_SIZE];
    dfu_t dfu;
    uint8_t bufs[4 * XFER];
    unsigned manifests;
    uint32_t manifest_addr;
} fx_t;

typedef struct st6 {
    uint8_t status, state;
    uint32_t poll;
} st6_t;

static void on_manifest(void *user, uint32_t addr)
{
    fx_t *f = user;
    f->manifests++;
    f->manifest_addr = addr;
}

static fx_t *fx_new(uint8_t attrs, bool ops_in_poll)
{
    fx_t *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    fake_flash_init(&f->flash, f->flash_mem);
    dfu_config_t cfg = {
        .flash = &f->flash.dev,
        .transfer_size = XFER,
        .bufs = f->bufs,
        .buf_count = 4,
        .itf_num = 0,
        .attributes = attrs,
        .erase_sector_ms = 1100,
        .program_word_us = 130,
        .ops_in_poll = ops_in_poll,
        .manifest = on_manifest,
        .user = f,
    };
    assert_true(dfu_init(&f->dfu, &cfg));
    return f;
}

static int setup_fx(void **state)
{
    *state = fx_new(0, false);
    return 0;
}

static int teardown_fx(void **state)
{
    free(*state);
    return 0;
}

static int ctl(fx_t *f, uint8_t type, uint8_t req, uint16_t val, uint8_t *data, uint16_t len)
{
    usb_setup_t s = {
        .bmRequestType = type, .bRequest = req, .wValue = val, .wIndex = 0, .wLength = len};
    return dfu_control(&f->dfu, &s, data, len);
}

static void done(fx_t *f, uint8_t req)
{
    usb_setup_t s = {.bmRequestType = IN, .bRequest = req};
    dfu_control_done(&f->dfu, &s);
}

static int getstatus(fx_t *f, st6_t *out)
{
    uint8_t b[6] = {0};
    int r = ctl(f, IN, DFU_REQ_GETSTATUS, 0, b, 6);
    if (r == 6) {
        out->status = b[0];
        out->poll = (uint32_t)b[1] | ((uint32_t)b[2] << 8) | ((uint32_t)b[3] << 16);
        out->state = b[4];
        done(f, DFU_REQ_GETSTATUS);
    }
    return r;
}

/* DNLOAD then the GETSTATUS pair the host sends; returns the final status. */
static st6_t dnload_cycle(fx_t *f, uint16_t block, const uint8_t *data, uint16_t len,
                          uint32_t *poll_out)
{
    uint8_t tmp[XFER];
    if (len) {
        memcpy(tmp, data, len);
    }
    assert_int_equal(ctl(f, OUT, DFU_REQ_DNLOAD, block, len ? tmp : NULL, len), 0);
    st6_t s;
    assert_int_equal(getstatus(f, &s), 6);
    if (poll_out) {
        *poll_out = s.poll;
    }
    if (s.state == DFU_STATE_DNBUSY) {
        assert_int_equal(getstatus(f, &s), 6);
    }
    return s;
}

static st6_t cmd_addr(fx_t *f, uint8_t cmd, uint32_t addr, uint32_t *poll)
{
    uint8_t b[5] = {cmd, (uint8_t)addr, (uint8_t)(addr >> 8), (uint8_t)(addr >> 16),
                    (uint8_t)(addr >> 24)};
    return dnload_cycle(f, 0, b, 5, poll);
}

static void expect(st6_t s, dfu_state_t state, dfu_status_t status)
{
    assert_int_equal(s.state, state);
    assert_int_equal(s.status, status);
}

/* A block the flash fails: accepted (dfuDNLOAD-IDLE, the work runs after
 * the status stage), then the next GETSTATUS reports the failure. */
static void expect_later(fx_t *f, st6_t first, dfu_status_t status)
{
    expect(first, DFU_STATE_DNLOAD_IDLE, DFU_STATUS_OK);
    st6_t s;
    assert_int_equal(getstatus(f, &s), 6);
    expect(s, DFU_STATE_ERROR, status);
}

static void set_address_ok(fx_t *f, uint32_t addr)
{
    expect(cmd_addr(f, DFUSE_CMD_SET_ADDRESS, addr, NULL), DFU_STATE_DNLOAD_IDLE, DFU_STATUS_OK);
    assert_int_equal(f->dfu.address, addr);
}

static void pattern(uint8_t *b, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++) {
        b[i] = (uint8_t)(i * 7u + seed);
    }
}

/* ---- configuration and descriptors ---- */

static void test_init_rejects_bad_config(void **state)
{
    (void)state;
    ram_flash_t *fl = calloc(1, sizeof(*fl));
    dfu_t *d = calloc(1, sizeof(*d));
    static uint8_t mem[FAKE_SIZE];
    fake_flash_init(fl, mem);
    static uint8_t bufs[2 * H7_DFU_XFER_MAX];
    dfu_config_t cfg = {.flash = &fl->dev, .transfer_size = 100, .bufs = bufs, .buf_count = 2};
    assert_false(dfu_init(d, &cfg)); /* not a word multiple */
    cfg.transfer_size = H7_DFU_XFER_MAX + 32u;
    assert_false(dfu_init(d, &cfg));
    cfg.flash = NULL;
    assert_false(dfu_init(d, &cfg));
    cfg.flash = &fl->dev;
    cfg.transfer_size = 0; /* default */
    cfg.bufs = NULL;
    assert_false(dfu_init(d, &cfg)); /* no buffers */
    cfg.bufs = bufs;
    cfg.buf_count = DFU_BUFS_MAX + 1u;
    assert_false(dfu_init(d, &cfg));
    cfg.buf_count = 2;
    assert_true(dfu_init(d, &cfg));
    assert_int_equal(dfu_transfer_size(d), H7_DFU_XFER_DEFAULT);
    assert_int_equal(d->cfg.attributes,
                     DFU_ATTR_CAN_DNLOAD | DFU_ATTR_CAN_UPLOAD | DFU_ATTR_WILL_DETACH);
    assert_int_equal(dfu_get_state(d), DFU_STATE_IDLE);
    free(d);
    free(fl);
}

static void test_functional_descriptor(void **state)
{
    (void)state;
    uint8_t b[9];
    assert_int_equal(dfu_functional_descriptor(b, 8, 0x0b, 255, 2048), 0);
    assert_int_equal(dfu_functional_descriptor(b, 9, 0x0b, 0x1234, 2048), 9);
    const uint8_t want[9] = {9, 0x21, 0x0b, 0x34, 0x12, 0x00, 0x08, 0x1a, 0x01};
    assert_memory_equal(b, want, 9);
}

static void test_alt_string_is_layout(void **state)
{
    fx_t *f = *state;
    char a[128], b[128];
    size_t n = dfu_alt_string(&f->dfu, 0, a, sizeof(a));
    assert_true(n > 0);
    assert_int_equal(n, flash_map_dfuse_layout(&f->flash.map, b, sizeof(b)));
    assert_string_equal(a, b);
    assert_non_null(strstr(a, "/0x08000000/"));
    assert_int_equal(dfu_alt_string(&f->dfu, 1, a, sizeof(a)), 0);
    assert_int_equal(dfu_alt_count(&f->dfu), 1);
}

/* ---- basic requests ---- */

static void test_getstatus_getstate_idle(void **state)
{
    fx_t *f = *state;
    st6_t s;
    assert_int_equal(getstatus(f, &s), 6);
    expect(s, DFU_STATE_IDLE, DFU_STATUS_OK);
    assert_int_equal(s.poll, 0);
    uint8_t b = 0xee;
    assert_int_equal(ctl(f, IN, DFU_REQ_GETSTATE, 0, &b, 1), 1);
    assert_int_equal(b, DFU_STATE_IDLE);
}

static void test_getstatus_short_buffer_stalls(void **state)
{
    fx_t *f = *state;
    uint8_t b[6];
    assert_int_equal(ctl(f, IN, DFU_REQ_GETSTATUS, 0, b, 5), USBD_STALL);
    assert_int_equal(dfu_get_state(&f->dfu), DFU_STATE_ERROR);
    assert_int_equal(dfu_get_status(&f->dfu), DFU_STATUS_ERR_STALLEDPKT);
}

static void test_set_address_cycle(void **state)
{
    fx_t *f = *state;
    uint8_t b[5] = {DFUSE_CMD_SET_ADDRESS, 0x00, 0x04, 0x00, 0x08};
    assert_int_equal(ctl(f, OUT, DFU_REQ_DNLOAD, 0, b, 5), 0);
    assert_int_equal(dfu_get_state(&f->dfu), DFU_STATE_DNLOAD_SYNC);
    st6_t s;
    assert_int_equal(getstatus(f, &s), 6);
    /* dfu-util insists on dfuDNBUSY first for DfuSe commands */
    expect(s, DFU_STATE_DNBUSY, DFU_STATUS_OK);
    assert_int_equal(getstatus(f, &s), 6);
    expect(s, DFU_STATE_DNLOAD_IDLE, DFU_STATUS_OK);
    assert_int_equal(f->dfu.address, 0x08000400u);
}

static void test_set_address_outside_is_errtarget(void **state)
{
    fx_t *f = *state;
    expect(cmd_addr(f, DFUSE_CMD_SET_ADDRESS, 0x20000000u, NULL), DFU_STATE_ERROR,
           DFU_STATUS_ERR_TARGET);
    assert_int_equal(ctl(f, OUT, DFU_REQ_CLRSTATUS, 0, NULL, 0), 0);
    st6_t s;
    getstatus(f, &s);
    expect(s, DFU_STATE_IDLE, DFU_STATUS_OK);
    assert_int_equal(f->dfu.address, 0);
}

/* ---- erase ---- */

static void test_sector_erase_poll_and_effect(void **state)
{
    fx_t *f = *state;
    memset(&f->flash.mem[2 * FAKE_SECTOR], 0x00, FAKE_SECTOR);
    uint32_t poll = 0;
    /* queued at once (dfuDNBUSY, bwPollTimeout 0): it runs in the
     * background, before any write queued behind it on its bank */
    expect(cmd_addr(f, DFUSE_CMD_ERASE, FAKE_BASE + 2 * FAKE_SECTOR, &poll), DFU_STATE_DNLOAD_IDLE,
           DFU_STATUS_OK);
    assert_int_equal(poll, 0);
    assert_int_equal(f->flash.erases, 1);
    for (unsigned i = 0; i < FAKE_SECTOR; i++) {
        assert_int_equal(f->flash.mem[2 * FAKE_SECTOR + i], 0xff);
    }
}

static void test_erase_reserved_sector_refused(void **state)
{
    fx_t *f = *state;
    uint32_t poll = 99;
    expect(cmd_addr(f, DFUSE_CMD_ERASE, FAKE_BASE + 16, &poll), DFU_STATE_ERROR,
           DFU_STATUS_ERR_TARGET);
    assert_int_equal(poll, 0);
    assert_int_equal(f->flash.erases, 0);
}

static void test_erase_outside_refused(void **state)
{
    fx_t *f = *state;
    expect(cmd_addr(f, DFUSE_CMD_ERASE, FAKE_BASE + FAKE_SIZE, NULL), DFU_STATE_ERROR,
           DFU_STATUS_ERR_TARGET);
    assert_int_equal(f->flash.erases, 0);
}

static void test_erase_write_protected_sector(void **state)
{
    fx_t *f = *state;
    f->flash.wrp_mask = 1u << 3;
    expect(cmd_addr(f, DFUSE_CMD_ERASE, FAKE_BASE + 3 * FAKE_SECTOR, NULL), DFU_STATE_ERROR,
           DFU_STATUS_ERR_WRITE);
    assert_int_equal(f->flash.erases, 0);
}

static void test_erase_failure_is_errerase(void **state)
{
    fx_t *f = *state;
    f->flash.fail_erase = true;
    expect(cmd_addr(f, DFUSE_CMD_ERASE, FAKE_BASE + 3 * FAKE_SECTOR, NULL), DFU_STATE_ERROR,
           DFU_STATUS_ERR_ERASE);
}

static void test_mass_erase_skips_reserved(void **state)
{
    fx_t *f = *state;
    memset(f->flash.mem, 0x5a, FAKE_SIZE);
    uint8_t c = DFUSE_CMD_ERASE;
    uint32_t poll = 0;
    expect(dnload_cycle(f, 0, &c, 1, &poll), DFU_STATE_DNLOAD_IDLE, DFU_STATUS_OK);
    assert_int_equal(poll, 0); /* queued: one job per bank */
    assert_int_equal(f->flash.erases, 7);
    assert_int_equal(f->flash.mem[0], 0x5a); /* bootloader sector kept */
    assert_int_equal(f->flash.mem[FAKE_SECTOR], 0xff);
    assert_int_equal(f->flash.mem[FAKE_SIZE - 1], 0xff);
}

static void test_mass_erase_wrp_refused_before_erasing(void **state)
{
    fx_t *f = *state;
    f->flash.wrp_mask = 1u << 7;
    uint8_t c = DFUSE_CMD_ERASE;
    expect(dnload_cycle(f, 0, &c, 1, NULL), DFU_STATE_ERROR, DFU_STATUS_ERR_WRITE);
    assert_int_equal(f->flash.erases, 0);
}

/* ---- write ---- */

static void test_write_blocks_at_pointer(void **state)
{
    fx_t *f = *state;
    const uint32_t a = FAKE_BASE + FAKE_SECTOR;
    set_address_ok(f, a);
    uint8_t b[XFER];
    pattern(b, XFER, 1);
    uint32_t poll = 0;
    expect(dnload_cycle(f, 2, b, XFER, &poll), DFU_STATE_DNLOAD_IDLE, DFU_STATUS_OK);
    assert_int_equal(poll, 0); /* another buffer is free: send the next block */
    pattern(b, XFER, 2);
    expect(dnload_cycle(f, 3, b, XFER, NULL), DFU_STATE_DNLOAD_IDLE, DFU_STATUS_OK);
    assert_memory_equal(&f->flash.mem[FAKE_SECTOR + XFER], b, XFER);
    pattern(b, XFER, 1);
    assert_memory_equal(&f->flash.mem[FAKE_SECTOR], b, XFER);
    assert_int_equal(f->flash.programs, 2 * XFER / 32u);
    assert_int_equal(f->dfu.work.words_programmed, 2 * XFER / 32u);
}

static void test_write_tail_padded_with_ff(void **state)
{
    fx_t *f = *state;
    set_address_ok(f, FAKE_BASE + FAKE_SECTOR);
    /* Make the flash hold 0x00 beyond the data so padding is visible: the
     * word after the tail must stay untouched, the tail word padded 0xFF. */
    uint8_t b[40];
    memset(b, 0x11, sizeof(b));
    expect(dnload_cycle(f, 2, b, 40, NULL), DFU_STATE_DNLOAD_IDLE, DFU_STATUS_OK);
    assert_int_equal(f->flash.programs, 2);
    assert_memory_equal(&f->flash.mem[FAKE_SECTOR], b, 40);
    for (unsigned i = 40; i < 64; i++) {
        assert_int_equal(f->flash.mem[FAKE_SECTOR + i], 0xff);
    }
}

static void test_write_reserved_sector_refused(void **state)
{
    fx_t *f = *state;
    set_address_ok(f, FAKE_BASE);
    uint8_t b[32] = {0};
    expect(dnload_cycle(f, 2, b, 32, NULL), DFU_STATE_ERROR, DFU_STATUS_ERR_TARGET);
    assert_int_equal(f->flash.programs, 0);
}

static void test_write_unaligned_is_erraddress(void **state)
{
    fx_t *f = *state;
    set_address_ok(f, FAKE_BASE + FAKE_SECTOR + 4);
    uint8_t b[32] = {0};
    expect(dnload_cycle(f, 2, b, 32, NULL), DFU_STATE_ERROR, DFU_STATUS_ERR_ADDRESS);
    assert_int_equal(f->flash.programs, 0);
}

static void test_write_past_end_is_erraddress(void **state)
{
    fx_t *f = *state;
    set_address_ok(f, FAKE_BASE + FAKE_SIZE - XFER);
    uint8_t b[XFER] = {0};
    /* block 3 starts exactly at the end of the flash */
    expect(dnload_cycle(f, 3, b, 32, NULL), DFU_STATE_ERROR, DFU_STATUS_ERR_ADDRESS);
    assert_int_equal(f->flash.programs, 0);
}

static void test_write_wrp_is_errwrite(void **state)
{
    fx_t *f = *state;
    f->flash.wrp_mask = 1u << 2;
    set_address_ok(f, FAKE_BASE + 2 * FAKE_SECTOR);
    uint8_t b[32] = {0};
    expect(dnload_cycle(f, 2, b, 32, NULL), DFU_STATE_ERROR, DFU_STATUS_ERR_WRITE);
}

static void test_write_program_failure_is_errprog(void **state)
{
    fx_t *f = *state;
    f->flash.fail_program = true;
    set_address_ok(f, FAKE_BASE + FAKE_SECTOR);
    uint8_t b[32] = {0};
    expect_later(f, dnload_cycle(f, 2, b, 32, NULL), DFU_STATUS_ERR_PROG);
}

static void test_write_verify_failure_is_errverify(void **state)
{
    fx_t *f = *state;
    f->flash.corrupt_program = true;
    set_address_ok(f, FAKE_BASE + FAKE_SECTOR);
    uint8_t b[64];
    pattern(b, sizeof(b), 3);
    expect_later(f, dnload_cycle(f, 2, b, 64, NULL), DFU_STATUS_ERR_VERIFY);
    assert_int_equal(f->flash.programs, 1); /* stopped at the first bad word */
}

static void test_write_not_erased_is_errcheck_erased(void **state)
{
    fx_t *f = *state;
    f->flash.mem[FAKE_SECTOR + 33] = 0x00;
    set_address_ok(f, FAKE_BASE + FAKE_SECTOR);
    uint8_t b[64] = {0};
    expect_later(f, dnload_cycle(f, 2, b, 64, NULL), DFU_STATUS_ERR_CHECK_ERASED);
    assert_int_equal(f->flash.programs, 1);
}

static void test_write_power_loss_is_errpor(void **state)
{
    fx_t *f = *state;
    set_address_ok(f, FAKE_BASE + FAKE_SECTOR);
    f->flash.power_cut = true;
    uint8_t b[32] = {0};
    expect_later(f, dnload_cycle(f, 2, b, 32, NULL), DFU_STATUS_ERR_POR);
}

static void test_dnload_block1_and_too_long_stall(void **state)
{
    fx_t *f = *state;
    uint8_t b[XFER + 32] = {0};
    assert_int_equal(ctl(f, OUT, DFU_REQ_DNLOAD, 1, b, 32), USBD_STALL);
    expect((st6_t){.state = (uint8_t)dfu_get_state(&f->dfu),
                   .status = (uint8_t)dfu_get_status(&f->dfu)},
           DFU_STATE_ERROR, DFU_STATUS_ERR_STALLEDPKT);
    dfu_reset(&f->dfu);
    assert_int_equal(ctl(f, OUT, DFU_REQ_DNLOAD, 2, b, XFER + 32), USBD_STALL);
    assert_int_equal(dfu_get_state(&f->dfu), DFU_STATE_ERROR);
}

static void test_unknown_command_stalls(void **state)
{
    fx_t *f = *state;
    uint8_t b[1] = {0x55};
    assert_int_equal(ctl(f, OUT, DFU_REQ_DNLOAD, 0, b, 1), USBD_STALL);
    assert_int_equal(dfu_get_state(&f->dfu), DFU_STATE_ERROR);
    assert_int_equal(dfu_get_status(&f->dfu), DFU_STATUS_ERR_STALLEDPKT);
    /* set address with a wrong length is as unknown */
    dfu_reset(&f->dfu);
    uint8_t c[3] = {DFUSE_CMD_SET_ADDRESS, 0, 0};
    assert_int_equal(ctl(f, OUT, DFU_REQ_DNLOAD, 0, c, 3), USBD_STALL);
    assert_int_equal(dfu_get_status(&f->dfu), DFU_STATUS_ERR_STALLEDPKT);
}

static void test_read_unprotect_refused(void **state)
{
    fx_t *f = *state;
    uint8_t c = DFUSE_CMD_READ_UNPROTECT;
    expect(dnload_cycle(f, 0, &c, 1, NULL), DFU_STATE_ERROR, DFU_STATUS_ERR_VENDOR);
    assert_int_equal(f->flash.erases, 0);
}

static void test_get_commands_dnload_accepted(void **state)
{
    fx_t *f = *state;
    uint8_t c = DFUSE_CMD_GET_COMMANDS;
    expect(dnload_cycle(f, 0, &c, 1, NULL), DFU_STATE_DNLOAD_IDLE, DFU_STATUS_OK);
}

static void test_wrong_direction_or_type_stalls(void **state)
{
    fx_t *f = *state;
    uint8_t b[6];
    assert_int_equal(ctl(f, OUT, DFU_REQ_GETSTATUS, 0, b, 6), USBD_STALL);
    assert_int_equal(dfu_get_state(&f->dfu), DFU_STATE_ERROR);
    dfu_reset(&f->dfu);
    assert_int_equal(
        ctl(f, USB_DIR_IN | USB_TYPE_VENDOR | USB_RECIP_INTERFACE, DFU_REQ_GETSTATUS, 0, b, 6),
        USBD_STALL);
    dfu_reset(&f->dfu);
    usb_setup_t s = {.bmRequestType = IN, .bRequest = DFU_REQ_GETSTATUS, .wIndex = 3, .wLength = 6};
    assert_int_equal(dfu_control(&f->dfu, &s, b, 6), USBD_STALL);
}

/* ---- upload ---- */

static void test_upload_commands_and_memory(void **state)
{
    fx_t *f = *state;
    uint8_t b[XFER];
    int n = ctl(f, IN, DFU_REQ_UPLOAD, 0, b, XFER);
    assert_int_equal(n, 7);
    const uint8_t cmds[7] = {
        0x00, 0x21, 0x41, 0x92, DFUSE_CMD_CRC32, DFUSE_CMD_BOOT_STATUS, DFUSE_CMD_ENTER_ROM};
    assert_memory_equal(b, cmds, 7);
    assert_int_equal(dfu_get_state(&f->dfu), DFU_STATE_IDLE); /* short frame */

    pattern(&f->flash.mem[FAKE_SECTOR + XFER], XFER, 9);
    set_address_ok(f, FAKE_BASE + FAKE_SECTOR);
    assert_int_equal(ctl(f, OUT, DFU_REQ_ABORT, 0, NULL, 0), 0);
    n = ctl(f, IN, DFU_REQ_UPLOAD, 3, b, XFER);
    assert_int_equal(n, XFER);
    assert_memory_equal(b, &f->flash.mem[FAKE_SECTOR + XFER], XFER);
    assert_int_equal(dfu_get_state(&f->dfu), DFU_STATE_UPLOAD_IDLE);
    assert_int_equal(ctl(f, OUT, DFU_REQ_ABORT, 0, NULL, 0), 0);
    assert_int_equal(dfu_get_state(&f->dfu), DFU_STATE_IDLE);
}

static void test_upload_short_frame_at_end(void **state)
{
    fx_t *f = *state;
    set_address_ok(f, FAKE_BASE + FAKE_SIZE - 100);
    assert_int_equal(ctl(f, OUT, DFU_REQ_ABORT, 0, NULL, 0), 0);
    uint8_t b[XFER];
    assert_int_equal(ctl(f, IN, DFU_REQ_UPLOAD, 2, b, XFER), 100);
    assert_int_equal(dfu_get_state(&f->dfu), DFU_STATE_IDLE);
}

static void test_upload_outside_stalls_erraddress(void **state)
{
    fx_t *f = *state;
    set_address_ok(f, FAKE_BASE + FAKE_SIZE - XFER);
    assert_int_equal(ctl(f, OUT, DFU_REQ_ABORT, 0, NULL, 0), 0);
    uint8_t b[XFER];
    assert_int_equal(ctl(f, IN, DFU_REQ_UPLOAD, 3, b, XFER), USBD_STALL);
    assert_int_equal(dfu_get_state(&f->dfu), DFU_STATE_ERROR);
    assert_int_equal(dfu_get_status(&f->dfu), DFU_STATUS_ERR_ADDRESS);
}

/* The locked configuration: memory UPLOAD only inside the window (errTARGET
 * elsewhere); the command list still comes back. */
static void test_upload_locked_window(void **state)
{
    fx_t *f = *state;
    uint8_t b[XFER];
    f->dfu.cfg.upload_limited = true;
    f->dfu.cfg.upload_base = FAKE_BASE + FAKE_SECTOR;
    f->dfu.cfg.upload_size = XFER;
    pattern(&f->flash.mem[FAKE_SECTOR], XFER, 3);
    set_address_ok(f, FAKE_BASE + FAKE_SECTOR);
    assert_int_equal(ctl(f, OUT, DFU_REQ_ABORT, 0, NULL, 0), 0);
    assert_int_equal(ctl(f, IN, DFU_REQ_UPLOAD, 2, b, XFER), XFER);
    assert_memory_equal(b, &f->flash.mem[FAKE_SECTOR], XFER);
    assert_int_equal(ctl(f, IN, DFU_REQ_UPLOAD, 3, b, XFER), USBD_STALL);
    assert_int_equal(dfu_get_state(&f->dfu), DFU_STATE_ERROR);
    assert_int_equal(dfu_get_status(&f->dfu), DFU_STATUS_ERR_TARGET);
    assert_int_equal(ctl(f, OUT, DFU_REQ_CLRSTATUS, 0, NULL, 0), 0);
    /* empty window: every memory block refused, the command list is not */
    f->dfu.cfg.upload_size = 0;
    assert_int_equal(ctl(f, IN, DFU_REQ_UPLOAD, 2, b, XFER), USBD_STALL);
    assert_int_equal(dfu_get_status(&f->dfu), DFU_STATUS_ERR_TARGET);
    assert_int_equal(ctl(f, OUT, DFU_REQ_CLRSTATUS, 0, NULL, 0), 0);
    assert_int_equal(ctl(f, IN, DFU_REQ_UPLOAD, 0, b, XFER), 7);
}

/* ---- the CRC command's ranges in the locked configuration ---- */

/* CRC-32C bit by bit (reflected polynomial 0x82F63B78, register started at
 * ~seed), apart from dfu.c's. */
static uint32_t crc32c_ref(uint32_t seed, const uint8_t *p, size_t n)
{
    uint32_t c = ~seed;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) {
            c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1u)));
        }
    }
    return ~c;
}

static uint32_t rd32(const uint8_t *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

/* The CRC command over [a, a + n) (the 9-byte form for seed 0, else the
 * 13-byte one): DFU_STATUS_OK with the device's answer in *crc (its echo of
 * a and n checked), or the status it failed with (the error cleared). */
static dfu_status_t crc_of(fx_t *f, uint32_t a, uint32_t n, uint32_t seed, uint32_t *crc)
{
    uint8_t c[13] = {DFUSE_CMD_CRC32};
    for (int k = 0; k < 4; k++) {
        c[1 + k] = (uint8_t)(a >> (8 * k));
        c[5 + k] = (uint8_t)(n >> (8 * k));
        c[9 + k] = (uint8_t)(seed >> (8 * k));
    }
    st6_t s = dnload_cycle(f, 0, c, seed ? 13 : 9, NULL);
    for (int i = 0; i < 4 && s.state == DFU_STATE_DNBUSY; i++) {
        assert_int_equal(getstatus(f, &s), 6);
    }
    if (s.state == DFU_STATE_ERROR) {
        assert_int_not_equal(s.status, DFU_STATUS_OK);
        assert_int_equal(ctl(f, OUT, DFU_REQ_CLRSTATUS, 0, NULL, 0), 0);
        return (dfu_status_t)s.status;
    }
    expect(s, DFU_STATE_DNLOAD_IDLE, DFU_STATUS_OK);
    assert_int_equal(ctl(f, OUT, DFU_REQ_ABORT, 0, NULL, 0), 0);
    uint8_t r[16];
    assert_int_equal(ctl(f, IN, DFU_REQ_UPLOAD, DFU_RESULT_BLOCK, r, 16), 12);
    assert_int_equal(rd32(&r[0]), a);
    assert_int_equal(rd32(&r[4]), n);
    *crc = rd32(&r[8]);
    return DFU_STATUS_OK;
}

/* CRC of [a, a + n) answered, and equal to the flash content's. */
static void crc_answered_seed(fx_t *f, uint32_t a, uint32_t n, uint32_t seed)
{
    uint32_t crc = 0;
    assert_int_equal(crc_of(f, a, n, seed, &crc), DFU_STATUS_OK);
    assert_int_equal(crc, crc32c_ref(seed, &f->flash.mem[a - FAKE_BASE], n));
}

static void crc_answered(fx_t *f, uint32_t a, uint32_t n)
{
    crc_answered_seed(f, a, n, 0);
}

/* Refused with errTARGET (dfuIDLE again after CLRSTATUS). */
static void crc_refused_seed(fx_t *f, uint32_t a, uint32_t n, uint32_t seed)
{
    uint32_t crc = 0;
    assert_int_equal(crc_of(f, a, n, seed, &crc), DFU_STATUS_ERR_TARGET);
    assert_int_equal(dfu_get_state(&f->dfu), DFU_STATE_IDLE);
}

static void crc_refused(fx_t *f, uint32_t a, uint32_t n)
{
    crc_refused_seed(f, a, n, 0);
}

/* upload_limited (the locked bootloader): the CRC command answers whole
 * sectors and the open range (here the last sector, the record area as
 * firmware/bootloader/bootloader.c sets it) only; any other range fails with
 * errTARGET. Without upload_limited every range in the flash is answered. */
static void test_crc_locked_ranges(void **state)
{
    fx_t *f = *state;
    const uint32_t s3 = FAKE_BASE + 3u * FAKE_SECTOR, rec = FAKE_BASE + 7u * FAKE_SECTOR;
    assert_int_equal(crc32c_ref(0, (const uint8_t *)"123456789", 9), 0xE3069283u);
    pattern(f->flash.mem, FAKE_SIZE, 13);
    f->dfu.cfg.upload_limited = true;
    f->dfu.cfg.upload_base = 0;
    f->dfu.cfg.upload_size = 0;
    f->dfu.cfg.crc_open_base = rec;
    f->dfu.cfg.crc_open_size = FAKE_SECTOR;

    crc_refused(f, s3, 4);                        /* four bytes of the application */
    crc_refused(f, s3 + 32u, 64);                 /* a record's worth elsewhere */
    crc_refused(f, s3, FAKE_SECTOR - 32u);        /* a sector less one word */
    crc_refused(f, s3 + 32u, FAKE_SECTOR);        /* a sector's length, not a sector */
    crc_refused(f, FAKE_BASE, 64);                /* the bootloader's vector table */
    crc_refused(f, rec - 32u, 64);                /* runs into the open range */
    crc_refused_seed(f, s3, 4, 0x01020304u);      /* the seeded form alike */
    crc_answered(f, s3, FAKE_SECTOR);             /* a whole sector */
    crc_answered(f, s3, 2u * FAKE_SECTOR);        /* two */
    crc_answered(f, FAKE_BASE, 2u * FAKE_SECTOR); /* the bootloader's sector too */
    crc_answered(f, rec, FAKE_SECTOR);            /* the record area */
    crc_answered(f, rec + 64u, 64);               /* a record */
    crc_answered(f, rec + 1u, 4);                 /* any range inside the open one */
    crc_answered(f, rec + FAKE_SECTOR - 4u, 4);   /* up to its end */
    crc_answered_seed(f, rec + 64u, 60, 0xabcdef01u);

    /* not limited: every range */
    f->dfu.cfg.upload_limited = false;
    crc_answered(f, s3, 4);
    crc_answered(f, s3 + 32u, 64);
    crc_answered(f, FAKE_BASE, 64);
    crc_answered(f, rec - 32u, 64);
    crc_answered(f, s3, FAKE_SECTOR);
    crc_answered_seed(f, s3, 4, 0x01020304u);
}

/* ---- leave / manifest ---- */

static void test_leave_not_tolerant(void **state)
{
    fx_t *f = *state;
    set_address_ok(f, FAKE_BASE + FAKE_SECTOR);
    assert_int_equal(ctl(f, OUT, DFU_REQ_DNLOAD, 2, NULL, 0), 0);
    assert_int_equal(dfu_get_state(&f->dfu), DFU_STATE_MANIFEST_SYNC);
    assert_int_equal(f->manifests, 0);
    st6_t s;
    assert_int_equal(getstatus(f, &s), 6); /* also runs control_done */
    expect(s, DFU_STATE_MANIFEST, DFU_STATUS_OK);
    assert_int_equal(f->manifests, 1);
    assert_int_equal(f->manifest_addr, FAKE_BASE + FAKE_SECTOR);
    assert_int_equal(dfu_get_state(&f->dfu), DFU_STATE_MANIFEST_WAIT_RESET);
    /* only a bus reset helps now */
    assert_int_equal(getstatus(f, &s), USBD_STALL);
    assert_int_equal(dfu_get_state(&f->dfu), DFU_STATE_MANIFEST_WAIT_RESET);
    dfu_reset(&f->dfu);
    assert_int_equal(dfu_get_state(&f->dfu), DFU_STATE_IDLE);
}

static void test_leave_tolerant_returns_to_idle(void **state)
{
    (void)state;
    fx_t *f =
        fx_new(DFU_ATTR_CAN_DNLOAD | DFU_ATTR_CAN_UPLOAD | DFU_ATTR_MANIFESTATION_TOLERANT, false);
    set_address_ok(f, FAKE_BASE + FAKE_SECTOR);
    assert_int_equal(ctl(f, OUT, DFU_REQ_DNLOAD, 0, NULL, 0), 0);
    st6_t s;
    getstatus(f, &s);
    expect(s, DFU_STATE_MANIFEST, DFU_STATUS_OK);
    assert_int_equal(f->manifests, 1);
    getstatus(f, &s);
    expect(s, DFU_STATE_IDLE, DFU_STATUS_OK);
    free(f);
}

static void test_zero_length_dnload_in_idle_leaves(void **state)
{
    /* dfu-util -s :leave -D file.dfu: ABORT, then a zero-length DNLOAD from
     * dfuIDLE; ST's DfuSe devices leave on it, so does this one. */
    fx_t *f = *state;
    assert_int_equal(ctl(f, OUT, DFU_REQ_DNLOAD, 0, NULL, 0), 0);
    assert_int_equal(dfu_get_state(&f->dfu), DFU_STATE_MANIFEST_SYNC);
    st6_t s;
    getstatus(f, &s);
    expect(s, DFU_STATE_MANIFEST, DFU_STATUS_OK);
    assert_int_equal(f->manifests, 1); /* the boot layer was told */
    assert_int_equal(dfu_get_state(&f->dfu), DFU_STATE_MANIFEST_WAIT_RESET);
}

static void test_download_disabled_stalls(void **state)
{
    (void)state;
    fx_t *f = fx_new(DFU_ATTR_CAN_UPLOAD, false);
    uint8_t c = DFUSE_CMD_ERASE;
    assert_int_equal(ctl(f, OUT, DFU_REQ_DNLOAD, 0, &c, 1), USBD_STALL);
    free(f);
}

/* ---- ops in poll: dfuDNBUSY is observable ---- */

static void test_busy_until_poll(void **state)
{
    (void)state;
    fx_t *f = fx_new(0, true);
    uint8_t b[5] = {DFUSE_CMD_ERASE, 0, 0x08, 0, 0x08};
    assert_int_equal(ctl(f, OUT, DFU_REQ_DNLOAD, 0, b, 5), 0);
    /* GETSTATUS queues the erase and answers dfuDNBUSY (a command); the
     * main loop (poll) does the flash work. */
    uint8_t raw6[6];
    assert_int_equal(ctl(f, IN, DFU_REQ_GETSTATUS, 0, raw6, 6), 6);
    assert_int_equal(raw6[4], DFU_STATE_DNBUSY);
    done(f, DFU_REQ_GETSTATUS);
    assert_int_equal(f->flash.erases, 0); /* not in the request: the main loop runs it */
    dfu_poll(&f->dfu);
    assert_int_equal(f->flash.erases, 1);
    st6_t s;
    getstatus(f, &s);
    expect(s, DFU_STATE_DNLOAD_IDLE, DFU_STATUS_OK);
    /* a CRC waits for the status stage of its GETSTATUS, then runs */
    uint8_t c[9] = {DFUSE_CMD_CRC32, 0, 0x08, 0, 0x08, 32, 0, 0, 0};
    assert_int_equal(ctl(f, OUT, DFU_REQ_DNLOAD, 0, c, 9), 0);
    assert_int_equal(ctl(f, IN, DFU_REQ_GETSTATUS, 0, raw6, 6), 6);
    assert_int_equal(raw6[4], DFU_STATE_DNBUSY);
    dfu_poll(&f->dfu);
    assert_false(f->dfu.result_valid); /* status stage not over yet */
    done(f, DFU_REQ_GETSTATUS);
    dfu_poll(&f->dfu);
    assert_true(f->dfu.result_valid);
    getstatus(f, &s);
    expect(s, DFU_STATE_DNLOAD_IDLE, DFU_STATUS_OK);
    /* in dfuDNBUSY every request but GETSTATUS stalls */
    assert_int_equal(ctl(f, OUT, DFU_REQ_DNLOAD, 0, b, 5), 0);
    getstatus(f, &s);
    assert_int_equal(ctl(f, OUT, DFU_REQ_ABORT, 0, NULL, 0), USBD_STALL);
    assert_int_equal(dfu_get_state(&f->dfu), DFU_STATE_ERROR);
    free(f);
}

/* ---- DFU 1.1 Appendix A: every request in every state ---- */

enum {
    R_DETACH,
    R_DNLOAD,
    R_DNLOAD0,
    R_UPLOAD,
    R_GETSTATUS,
    R_CLRSTATUS,
    R_GETSTATE,
    R_ABORT,
    R_UNKNOWN,
    R_COUNT
};
static const char *const rname[R_COUNT] = {"DETACH",   "DNLOAD",    "DNLOAD0",
                                           "UPLOAD",   "GETSTATUS", "CLRSTATUS",
                                           "GETSTATE", "ABORT",     "UNKNOWN"};

#define ST_STALL 0x80 /* flag: the request is stalled */
#define E        (ST_STALL | DFU_STATE_ERROR)

typedef struct row {
    dfu_state_t from;
    uint8_t next[R_COUNT]; /* resulting state, | ST_STALL when stalled */
} row_t;

/* DFU 1.1 Appendix A.2, with DfuSe's zero-length DNLOAD (leave, also from
 * dfuIDLE as ST's devices accept it) and the driver non-tolerant
 * (dfuMANIFEST -> dfuMANIFEST-WAIT-RESET). One
 * deliberate difference: GETSTATUS in dfuDNBUSY / dfuMANIFEST is answered
 * (the state, and the time left), because the flash works in the
 * background and a host that polls early must not wreck the download; ST's
 * devices NAK it instead, which a host sees as the same wait. */
static const row_t table[] = {
    {DFU_STATE_IDLE,
     {E, DFU_STATE_DNLOAD_SYNC, DFU_STATE_MANIFEST_SYNC, DFU_STATE_UPLOAD_IDLE, DFU_STATE_IDLE, E,
      DFU_STATE_IDLE, DFU_STATE_IDLE, E}},
    {DFU_STATE_DNLOAD_SYNC, {E, E, E, E, DFU_STATE_DNBUSY, E, DFU_STATE_DNLOAD_SYNC, E, E}},
    {DFU_STATE_DNBUSY, {E, E, E, E, DFU_STATE_DNLOAD_IDLE, E, E, E, E}},
    {DFU_STATE_DNLOAD_IDLE,
     {E, DFU_STATE_DNLOAD_SYNC, DFU_STATE_MANIFEST_SYNC, E, DFU_STATE_DNLOAD_IDLE, E,
      DFU_STATE_DNLOAD_IDLE, DFU_STATE_IDLE, E}},
    {DFU_STATE_MANIFEST_SYNC, {E, E, E, E, DFU_STATE_MANIFEST, E, DFU_STATE_MANIFEST_SYNC, E, E}},
    {DFU_STATE_MANIFEST, {E, E, E, E, DFU_STATE_MANIFEST, E, E, E, E}},
    {DFU_STATE_MANIFEST_WAIT_RESET,
     {ST_STALL | DFU_STATE_MANIFEST_WAIT_RESET, ST_STALL | DFU_STATE_MANIFEST_WAIT_RESET,
      ST_STALL | DFU_STATE_MANIFEST_WAIT_RESET, ST_STALL | DFU_STATE_MANIFEST_WAIT_RESET,
      ST_STALL | DFU_STATE_MANIFEST_WAIT_RESET, ST_STALL | DFU_STATE_MANIFEST_WAIT_RESET,
      ST_STALL | DFU_STATE_MANIFEST_WAIT_RESET, ST_STALL | DFU_STATE_MANIFEST_WAIT_RESET,
      ST_STALL | DFU_STATE_MANIFEST_WAIT_RESET}},
    {DFU_STATE_UPLOAD_IDLE,
     {E, E, E, DFU_STATE_UPLOAD_IDLE, DFU_STATE_UPLOAD_IDLE, E, DFU_STATE_UPLOAD_IDLE,
      DFU_STATE_IDLE, E}},
    {DFU_STATE_ERROR, {E, E, E, E, DFU_STATE_ERROR, DFU_STATE_IDLE, DFU_STATE_ERROR, E, E}},
};

static int raw(fx_t *f, uint8_t type, uint8_t req, uint16_t val, uint8_t *data, uint16_t len)
{
    return ctl(f, type, req, val, data, len);
}

/* Drive a fresh machine into state s using only requests (ops in poll, so
 * the busy states are reachable). */
static void reach(fx_t *f, dfu_state_t s)
{
    uint8_t b[6];
    uint8_t sa[5] = {DFUSE_CMD_SET_ADDRESS, 0x00, 0x04, 0x00, 0x08};
    switch (s) {
    case DFU_STATE_IDLE: /* with a valid address pointer, for UPLOAD */
        reach(f, DFU_STATE_DNLOAD_IDLE);
        assert_int_equal(raw(f, OUT, DFU_REQ_ABORT, 0, NULL, 0), 0);
        break;
    case DFU_STATE_DNLOAD_SYNC:
        assert_int_equal(raw(f, OUT, DFU_REQ_DNLOAD, 0, sa, 5), 0);
        break;
    case DFU_STATE_DNBUSY:
        reach(f, DFU_STATE_DNLOAD_SYNC);
        assert_int_equal(raw(f, IN, DFU_REQ_GETSTATUS, 0, b, 6), 6);
        break;
    case DFU_STATE_DNLOAD_IDLE:
        reach(f, DFU_STATE_DNBUSY);
        done(f, DFU_REQ_GETSTATUS); /* its status stage: the work may run */
        dfu_poll(&f->dfu);
        assert_int_equal(raw(f, IN, DFU_REQ_GETSTATUS, 0, b, 6), 6);
        break;
    case DFU_STATE_MANIFEST_SYNC:
        reach(f, DFU_STATE_DNLOAD_IDLE);
        assert_int_equal(raw(f, OUT, DFU_REQ_DNLOAD, 0, NULL, 0), 0);
        break;
    case DFU_STATE_MANIFEST:
        reach(f, DFU_STATE_MANIFEST_SYNC);
        assert_int_equal(raw(f, IN, DFU_REQ_GETSTATUS, 0, b, 6), 6);
        break;
    case DFU_STATE_MANIFEST_WAIT_RESET:
        reach(f, DFU_STATE_MANIFEST);
        done(f, DFU_REQ_GETSTATUS);
        dfu_poll(&f->dfu);
        break;
    case DFU_STATE_UPLOAD_IDLE: {
        uint8_t u[XFER];
        reach(f, DFU_STATE_IDLE);
        assert_int_equal(raw(f, IN, DFU_REQ_UPLOAD, 2, u, XFER), XFER);
        break;
    }
    case DFU_STATE_ERROR:
        assert_int_equal(raw(f, OUT, 0x77, 0, NULL, 0), USBD_STALL);
        break;
    default:
        fail();
    }
    assert_int_equal(dfu_get_state(&f->dfu), s);
}

static int issue(fx_t *f, int r)
{
    uint8_t b[XFER];
    uint8_t sa[5] = {DFUSE_CMD_SET_ADDRESS, 0x00, 0x08, 0x00, 0x08};
    switch (r) {
    case R_DETACH:
        return raw(f, OUT, DFU_REQ_DETACH, 100, NULL, 0);
    case R_DNLOAD:
        return raw(f, OUT, DFU_REQ_DNLOAD, 0, sa, 5);
    case R_DNLOAD0:
        return raw(f, OUT, DFU_REQ_DNLOAD, 2, NULL, 0);
    case R_UPLOAD:
        return raw(f, IN, DFU_REQ_UPLOAD, 2, b, XFER);
    case R_GETSTATUS:
        return raw(f, IN, DFU_REQ_GETSTATUS, 0, b, 6);
    case R_CLRSTATUS:
        return raw(f, OUT, DFU_REQ_CLRSTATUS, 0, NULL, 0);
    case R_GETSTATE:
        return raw(f, IN, DFU_REQ_GETSTATE, 0, b, 1);
    case R_ABORT:
        return raw(f, OUT, DFU_REQ_ABORT, 0, NULL, 0);
    default:
        return raw(f, OUT, 0x07, 0, NULL, 0);
    }
}

static void test_state_table(void **state)
{
    (void)state;
    unsigned checked = 0;
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        for (int r = 0; r < R_COUNT; r++) {
            fx_t *f = fx_new(0, true);
            reach(f, table[i].from);
            int rc = issue(f, r);
            bool stalled = rc == USBD_STALL;
            bool want_stall = (table[i].next[r] & ST_STALL) != 0;
            dfu_state_t want = (dfu_state_t)(table[i].next[r] & ~ST_STALL);
            if (stalled != want_stall || dfu_get_state(&f->dfu) != want) {
                print_error("state %d request %s: rc %d state %d, want %s state %d\n",
                            table[i].from, rname[r], rc, dfu_get_state(&f->dfu),
                            want_stall ? "stall" : "accept", want);
                free(f);
                fail();
            }
            /* A stall that enters dfuERROR reports errSTALLEDPKT. */
            if (stalled && table[i].from != DFU_STATE_ERROR && want == DFU_STATE_ERROR) {
                assert_int_equal(dfu_get_status(&f->dfu), DFU_STATUS_ERR_STALLEDPKT);
            }
            free(f);
            checked++;
        }
    }
    assert_int_equal(checked, 9u * R_COUNT);
}

/* ---- recovery ---- */

static void test_clrstatus_recovers_and_keeps_first_error(void **state)
{
    fx_t *f = *state;
    set_address_ok(f, FAKE_BASE);
    uint8_t b[32] = {0};
    expect(dnload_cycle(f, 2, b, 32, NULL), DFU_STATE_ERROR, DFU_STATUS_ERR_TARGET);
    /* further bad requests in dfuERROR keep the first status */
    assert_int_equal(ctl(f, OUT, DFU_REQ_ABORT, 0, NULL, 0), USBD_STALL);
    assert_int_equal(dfu_get_status(&f->dfu), DFU_STATUS_ERR_TARGET);
    assert_int_equal(ctl(f, OUT, DFU_REQ_CLRSTATUS, 0, NULL, 0), 0);
    st6_t s;
    getstatus(f, &s);
    expect(s, DFU_STATE_IDLE, DFU_STATUS_OK);
    /* and the machine works again */
    set_address_ok(f, FAKE_BASE + FAKE_SECTOR);
    expect(dnload_cycle(f, 2, b, 32, NULL), DFU_STATE_DNLOAD_IDLE, DFU_STATUS_OK);
}

static void test_abort_from_dnload_idle(void **state)
{
    fx_t *f = *state;
    set_address_ok(f, FAKE_BASE + FAKE_SECTOR);
    assert_int_equal(ctl(f, OUT, DFU_REQ_ABORT, 0, NULL, 0), 0);
    assert_int_equal(dfu_get_state(&f->dfu), DFU_STATE_IDLE);
    assert_int_equal(f->dfu.address, FAKE_BASE + FAKE_SECTOR); /* pointer survives abort */
}

/* ---- class driver adapter ---- */

static void test_class_driver_routes(void **state)
{
    fx_t *f = *state;
    usbd_class_driver_t d = dfu_class_driver(&f->dfu);
    assert_ptr_equal(d.ctx, &f->dfu);
    assert_true(d.set_alt(d.ctx, 0, 0));
    assert_false(d.set_alt(d.ctx, 0, 1));
    assert_false(d.set_alt(d.ctx, 1, 0));
    uint8_t b[5] = {DFUSE_CMD_ERASE, 0, 0x08, 0, 0x08};
    usb_setup_t s = {.bmRequestType = OUT, .bRequest = DFU_REQ_DNLOAD, .wLength = 5};
    assert_int_equal(d.control(d.ctx, &s, b, 5), 0);
    uint8_t st[6];
    usb_setup_t g = {.bmRequestType = IN, .bRequest = DFU_REQ_GETSTATUS, .wLength = 6};
    assert_int_equal(d.control(d.ctx, &g, st, 6), 6);
    assert_int_equal(st[4], DFU_STATE_DNBUSY);
    d.control_done(d.ctx, &g);
    d.poll(d.ctx);
    assert_int_equal(f->flash.erases, 1);
    d.reset(d.ctx);
    assert_int_equal(dfu_get_state(&f->dfu), DFU_STATE_IDLE);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup_fx, teardown_fx)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_rejects_bad_config),
        cmocka_unit_test(test_functional_descriptor),
        T(test_alt_string_is_layout),
        T(test_getstatus_getstate_idle),
        T(test_getstatus_short_buffer_stalls),
        T(test_set_address_cycle),
        T(test_set_address_outside_is_errtarget),
        T(test_sector_erase_poll_and_effect),
        T(test_erase_reserved_sector_refused),
        T(test_erase_outside_refused),
        T(test_erase_write_protected_sector),
        T(test_erase_failure_is_errerase),
        T(test_mass_erase_skips_reserved),
        T(test_mass_erase_wrp_refused_before_erasing),
        T(test_write_blocks_at_pointer),
        T(test_write_tail_padded_with_ff),
        T(test_write_reserved_sector_refused),
        T(test_write_unaligned_is_erraddress),
        T(test_write_past_end_is_erraddress),
        T(test_write_wrp_is_errwrite),
        T(test_write_program_failure_is_errprog),
        T(test_write_verify_failure_is_errverify),
        T(test_write_not_erased_is_errcheck_erased),
        T(test_write_power_loss_is_errpor),
        T(test_dnload_block1_and_too_long_stall),
        T(test_unknown_command_stalls),
        T(test_read_unprotect_refused),
        T(test_get_commands_dnload_accepted),
        T(test_wrong_direction_or_type_stalls),
        T(test_upload_commands_and_memory),
        T(test_upload_short_frame_at_end),
        T(test_upload_outside_stalls_erraddress),
        T(test_upload_locked_window),
        T(test_crc_locked_ranges),
        T(test_leave_not_tolerant),
        cmocka_unit_test(test_leave_tolerant_returns_to_idle),
        T(test_zero_length_dnload_in_idle_leaves),
        cmocka_unit_test(test_download_disabled_stalls),
        cmocka_unit_test(test_busy_until_poll),
        cmocka_unit_test(test_state_table),
        T(test_clrstatus_recovers_and_keeps_first_error),
        T(test_abort_from_dnload_idle),
        T(test_class_driver_routes),
    };
    return cmocka_run_group_tests_name("dfu", tests, NULL, NULL);
}
