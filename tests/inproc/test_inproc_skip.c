/*
 * Writes that touch only what changed (h7_ops + the device's CRC-32 command),
 * through the in-process transport on the flash model: a sector is skipped
 * only when the device's CRC matches the expected content, changed sectors
 * are rewritten, the result is byte-exact; and the background-programming
 * device (with a clock) writes correctly; a write stopped on request
 * (h7_write_cfg_t.cancel) ends between two blocks with the device in dfuIDLE.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "h7_dfu.h"
#include "h7_image.h"
#include "h7_inproc.h"
#include "h7_ops.h"

#define APP    0x08020000u
#define SECTOR 0x20000u
#define SIZE   (3u * SECTOR + 1000u) /* four sectors, the last one partly */

typedef struct fx {
    sim_clock_t clock;
    sim_flash_t *flash;
    h7_inproc_t ip;
    h7_dfu_client_t dfu;
    char layout[128];
    uint8_t *img;
} fx_t;

static uint32_t virt_us(void *user)
{
    return (uint32_t)(sim_clock_now_ns(user) / 1000u);
}

static fx_t *fx_new(bool timed)
{
    fx_t *f = calloc(1, sizeof(*f));
    sim_clock_init(&f->clock);
    f->flash = sim_flash_new(&f->clock);
    assert_non_null(f->flash);
    dfu_config_t cfg = {.transfer_size = 2048};
    if (timed) {
        /* flash work in the background of the clock, as on h7dfu-sim */
        sim_clock_set_flash_lane(&f->clock, true);
        cfg.now_us = virt_us;
        cfg.clock_user = &f->clock;
    }
    assert_true(h7_inproc_init(&f->ip, f->flash, &f->clock, &cfg));
    assert_true(timed == (f->ip.dfu.cfg.now_us != NULL));
    h7_dfu_init(&f->dfu, h7_inproc_transport(&f->ip), 0, dfu_transfer_size(&f->ip.dfu));
    assert_true(h7_inproc_layout(&f->ip, 0, f->layout, sizeof(f->layout)) > 0);
    f->img = malloc(SIZE);
    uint32_t x = 99;
    for (size_t i = 0; i < SIZE; i++) {
        x = x * 1103515245u + 12345u;
        f->img[i] = (uint8_t)(x >> 16);
    }
    return f;
}

static int setup(void **state)
{
    *state = fx_new(false);
    return 0;
}

static int setup_timed(void **state)
{
    *state = fx_new(true);
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    sim_flash_free(f->flash);
    free(f->img);
    free(f);
    return 0;
}

/* Write f->img; returns the report, checks the flash byte for byte. */
static h7_write_report_t write_img(fx_t *f, bool no_skip, uint64_t *erases)
{
    h7_image_t img;
    memset(&img, 0, sizeof(img));
    assert_int_equal(h7_image_add(&img, 0, APP, f->img, SIZE, NULL), 0);
    h7_write_cfg_t cfg = {.verify = true, .no_skip = no_skip};
    h7_write_report_t rep;
    sim_flash_stats_t a, b;
    sim_flash_get_stats(f->flash, &a);
    int rc = h7_ops_write_image(&f->dfu, &img, f->layout, &cfg, &rep);
    if (rc) {
        char m[512];
        h7_error_format(&f->dfu.err, m, sizeof(m));
        print_error("%s\n", m);
    }
    assert_int_equal(rc, 0);
    sim_flash_get_stats(f->flash, &b);
    *erases = b.sector_erases - a.sector_erases;
    const uint8_t *raw = sim_flash_raw(f->flash);
    assert_memory_equal(raw + (APP - 0x08000000u), f->img, SIZE);
    /* the rest of the last sector is erased, as erase + write leaves it */
    for (uint32_t i = SIZE; i < 4 * SECTOR; i++) {
        assert_int_equal(raw[APP - 0x08000000u + i], 0xff);
    }
    h7_image_free(&img);
    return rep;
}

static void test_unchanged_image_skips_everything(void **state)
{
    fx_t *f = *state;
    uint64_t er;
    h7_write_report_t r = write_img(f, false, &er);
    assert_int_equal(er, 4);
    assert_int_equal(r.sectors_skipped, 0); /* erased flash != image */
    assert_true(r.device_crc);
    r = write_img(f, false, &er);
    assert_int_equal(er, 0);
    assert_int_equal(r.sectors_skipped, 4);
    assert_int_equal(r.bytes_written, 0);
}

static void test_one_changed_sector_rewritten(void **state)
{
    fx_t *f = *state;
    uint64_t er;
    write_img(f, false, &er);
    f->img[2 * SECTOR + 77] ^= 0x5a; /* third sector differs */
    sim_flash_stats_t a, b;
    sim_flash_get_stats(f->flash, &a);
    h7_write_report_t r = write_img(f, false, &er);
    sim_flash_get_stats(f->flash, &b);
    assert_int_equal(er, 1);
    assert_int_equal(r.sectors_erased, 1);
    assert_int_equal(r.sectors_skipped, 3);
    assert_int_equal(r.bytes_written, SECTOR);
    assert_int_equal(b.words_programmed - a.words_programmed, SECTOR / 32);
}

static void test_tail_garbage_not_skipped(void **state)
{
    fx_t *f = *state;
    uint64_t er;
    write_img(f, false, &er);
    /* a byte after the image in its last sector: the image bytes match, but
     * erase + write would leave 0xFF there, so the sector is rewritten */
    uint8_t w[32];
    memset(w, 0xff, sizeof(w));
    w[0] = 0;
    assert_int_equal(sim_flash_program_word(f->flash, APP + 3 * SECTOR + 0x8000, w), FLASH_OK);
    h7_write_report_t r = write_img(f, false, &er);
    assert_int_equal(er, 1);
    assert_int_equal(r.sectors_skipped, 3);
}

static void test_unreadable_sector_rewritten(void **state)
{
    fx_t *f = *state;
    uint64_t er;
    write_img(f, false, &er);
    /* an ECC-corrupt word in sector 2: the CRC query fails -> rewrite */
    uint8_t b = 0x00;
    assert_int_equal(sim_flash_force_write(f->flash, APP + SECTOR + 64, &b, 1), FLASH_OK);
    assert_int_equal(sim_flash_word_state(f->flash, APP + SECTOR + 64), SIM_WORD_ECC_CORRUPT);
    h7_write_report_t r = write_img(f, false, &er);
    assert_int_equal(er, 1);
    assert_int_equal(r.sectors_skipped, 3);
}

/* A region that ends with its own CRC-32 (like the image header) has the
 * same IEEE CRC-32 whatever it holds: the skip check must still see the
 * change (the device's command uses CRC-32C). */
static void put_self_crc(uint8_t *p, uint32_t n)
{
    h7_put_le32(p + n - 4, h7_crc32(0, p, n - 4));
}

static void test_self_crc_region_not_skipped(void **state)
{
    fx_t *f = *state;
    uint64_t er;
    put_self_crc(f->img, 64);
    write_img(f, false, &er);
    f->img[10] ^= 0x01; /* a new "header", self-consistent again */
    put_self_crc(f->img, 64);
    /* the trap: both headers + the same rest have one IEEE CRC-32 */
    assert_int_equal(h7_crc32(0, f->img, SECTOR),
                     h7_crc32(0, sim_flash_raw(f->flash) + (APP - 0x08000000u), SECTOR));
    h7_write_report_t r = write_img(f, false, &er); /* checks byte-exact */
    assert_int_equal(er, 1);
    assert_int_equal(r.sectors_skipped, 3);
}

static void test_no_skip_rewrites_all(void **state)
{
    fx_t *f = *state;
    uint64_t er;
    write_img(f, false, &er);
    h7_write_report_t r = write_img(f, true, &er);
    assert_int_equal(er, 4);
    assert_int_equal(r.sectors_skipped, 0);
    assert_int_equal(r.bytes_written, (SIZE + 31u) / 32u * 32u); /* whole flash words */
}

static void test_crc_query(void **state)
{
    fx_t *f = *state;
    uint64_t er;
    write_img(f, false, &er);
    uint32_t c = 0;
    assert_int_equal(h7_dfuse_crc32(&f->dfu, APP + 5, 1000, 0, &c), 0);
    assert_int_equal(c, h7_crc32c(0, f->img + 5, 1000));
    assert_int_equal(h7_crc32c(0, "123456789", 9), 0xE3069283u);
    assert_int_equal(h7_dfuse_crc32(&f->dfu, APP + 5, 1000, 0x1234567u, &c), 0);
    assert_int_equal(c, h7_crc32c(0x1234567u, f->img + 5, 1000));
    assert_true(h7_dfuse_has_command(&f->dfu, H7_DFUSE_CRC32));
    /* outside the flash: the device's errADDRESS, in words */
    assert_int_not_equal(h7_dfuse_crc32(&f->dfu, 0x081ffff0u, 64, 1, &c), 0);
    assert_int_equal(f->dfu.err.code, H7_E_DEVICE);
    assert_int_equal(f->dfu.err.status, H7_STATUS_ERR_ADDRESS);
}

/* The device with a clock programs in the background: same bytes, fewer
 * waits than one block's programming time each. */
static void test_timed_device_overlaps(void **state)
{
    fx_t *f = *state;
    uint64_t er;
    uint64_t slept0 = f->ip.slept_ms;
    write_img(f, true, &er);
    assert_int_equal(er, 4);
    assert_true(f->ip.dfu.blocks_overlapped > 0);
    /* the host waited about erases + programming, not more (the last
     * blocks too: the write ends with a query that waits for them) */
    uint64_t slept = f->ip.slept_ms - slept0;
    uint64_t blocks = (SIZE + 2047) / 2048;
    assert_true(slept >= 4 * 1000 + blocks * 6);
    assert_true(slept <= 4 * 1000 + blocks * 8 + 20);
    /* a second identical write: nothing to do */
    h7_write_report_t r = write_img(f, false, &er);
    assert_int_equal(r.sectors_skipped, 4);
}

/* Sets the cancel flag once 3 blocks were written, as a signal handler would. */
static volatile sig_atomic_t cancel_flag;
static void cancel_after_3(void *user, h7_phase_t phase, uint64_t done, uint64_t total)
{
    (void)user;
    (void)total;
    if (phase == H7_PHASE_WRITE && done >= 3u * 2048u) {
        cancel_flag = 1;
    }
}

static void test_cancel_stops_between_blocks(void **state)
{
    fx_t *f = *state;
    h7_image_t img;
    memset(&img, 0, sizeof(img));
    assert_int_equal(h7_image_add(&img, 0, APP, f->img, SIZE, NULL), 0);
    cancel_flag = 0;
    h7_write_cfg_t cfg = {.verify = true, .progress = cancel_after_3, .cancel = &cancel_flag};
    h7_write_report_t rep;
    assert_int_equal(h7_ops_write_image(&f->dfu, &img, f->layout, &cfg, &rep), H7_E_CANCELLED);
    assert_int_equal(f->dfu.err.code, H7_E_CANCELLED);
    assert_int_equal(rep.bytes_written, 3u * 2048u);
    assert_int_equal(rep.bytes_to_write, (SIZE + 31u) / 32u * 32u);
    assert_int_equal(rep.bytes_verified, 0);
    /* the device finished its work and is back in dfuIDLE */
    uint8_t st = 0;
    assert_int_equal(h7_dfu_get_state(&f->dfu, &st), 0);
    assert_int_equal(st, H7_ST_IDLE);
    h7_image_free(&img);
    /* the same write again completes (write_img checks the flash) */
    uint64_t er;
    h7_write_report_t r = write_img(f, false, &er);
    assert_int_equal(r.bytes_written, (SIZE + 31u) / 32u * 32u);
}

int main(void)
{
#define T(fn)  cmocka_unit_test_setup_teardown(fn, setup, teardown)
#define TT(fn) cmocka_unit_test_setup_teardown(fn, setup_timed, teardown)
    const struct CMUnitTest tests[] = {
        T(test_unchanged_image_skips_everything),
        T(test_one_changed_sector_rewritten),
        T(test_tail_garbage_not_skipped),
        T(test_unreadable_sector_rewritten),
        T(test_no_skip_rewrites_all),
        T(test_crc_query),
        T(test_self_crc_region_not_skipped),
        TT(test_timed_device_overlaps),
        TT(test_one_changed_sector_rewritten),
        T(test_cancel_stops_between_blocks),
        TT(test_cancel_stops_between_blocks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
