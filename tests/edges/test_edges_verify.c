/*
 * Wrong data reported as written, in one process (host/proto -> sim/inproc ->
 * core/dfu -> sim/flash): one flash word of an update holds a flipped bit
 * (byte 21 of the 32-byte word, sim_flash_flip_after), with an ECC that
 * agrees, so only a comparison of the data can see it.
 *  - at once: the device's own read-back after programming reports errVERIFY
 *  - some operations later: the host's verify reports H7_E_VERIFY, by the
 *    device's CRC-32 and by read-back (UPLOAD), at the flipped byte
 * The flipped words lie in the second half of their write blocks, so a
 * comparison of only part of a word or of a block misses them.
 */
#include <setjmp.h>
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

#define APP        0x08020000u
#define WORD       32u
#define IMG_SIZE   16384u
#define FLIP_BYTE  21u /* sim_flash_flip_after: bit 0 of byte 21 */
#define FLIP_COUNT 8u

typedef struct fx {
    sim_clock_t clock;
    sim_flash_t *flash;
    h7_inproc_t ip;
    h7_dfu_client_t dfu;
    char layout[128];
    uint32_t xfer;
} fx_t;

static fx_t *fx_new(void)
{
    fx_t *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    sim_clock_init(&f->clock);
    f->flash = sim_flash_new(&f->clock);
    assert_non_null(f->flash);
    assert_true(h7_inproc_init(&f->ip, f->flash, &f->clock, NULL));
    f->xfer = dfu_transfer_size(&f->ip.dfu);
    h7_dfu_init(&f->dfu, h7_inproc_transport(&f->ip), 0, (uint16_t)f->xfer);
    assert_true(h7_inproc_layout(&f->ip, 0, f->layout, sizeof(f->layout)) > 0);
    return f;
}

static void fx_free(fx_t *f)
{
    sim_flash_free(f->flash);
    free(f);
}

static void payload(uint8_t *b, size_t n)
{
    uint32_t x = 0x2545F491u;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        b[i] = (uint8_t)(x >> 16);
    }
}

/* Word index (from APP) of flip k: in the last quarter of write block k. */
static uint32_t flip_word(const fx_t *f, unsigned k)
{
    uint32_t per_block = f->xfer / WORD;
    return k * per_block + per_block * 3u / 4u + k;
}

/* Write the image with the word of flip k flipped, delay operations after it
 * was programmed (0: at once); the write's return code. */
static int write_flipped(fx_t *f, unsigned k, uint64_t delay, bool readback)
{
    static uint8_t b[IMG_SIZE];
    payload(b, sizeof(b));
    h7_image_t img;
    h7_image_init(&img);
    assert_int_equal(h7_image_add(&img, 0, APP, b, sizeof(b), NULL), 0);
    assert_true(flip_word(f, k) * WORD < IMG_SIZE);
    sim_flash_reset_stats(f->flash);
    /* operation 1 erases the slot's sector, 2 programs word 0, ... */
    sim_flash_flip_after(f->flash, 2u + flip_word(f, k), delay);
    h7_write_cfg_t cfg = {.verify = true, .readback_verify = readback};
    h7_write_report_t rep;
    int rc = h7_ops_write_image(&f->dfu, &img, f->layout, &cfg, &rep);
    h7_image_free(&img);
    return rc;
}

static void test_device_readback_finds_flip(void **state)
{
    (void)state;
    for (unsigned k = 0; k < FLIP_COUNT; k++) {
        fx_t *f = fx_new();
        int rc = write_flipped(f, k, 0, false);
        assert_int_not_equal(rc, 0);
        assert_true(f->dfu.err.has_dfu);
        assert_int_equal(f->dfu.err.status, H7_STATUS_ERR_VERIFY);
        fx_free(f);
    }
}

static void host_verify_finds_flip(bool readback)
{
    for (unsigned k = 0; k < FLIP_COUNT; k++) {
        fx_t *f = fx_new();
        int rc = write_flipped(f, k, 1, readback);
        assert_int_equal(sim_flash_silent_changes(f->flash), 1);
        assert_int_equal(rc, H7_E_VERIFY);
        if (readback) {
            assert_int_equal(f->dfu.err.addr, APP + flip_word(f, k) * WORD + FLIP_BYTE);
        }
        fx_free(f);
    }
}

static void test_host_crc_verify_finds_flip(void **state)
{
    (void)state;
    host_verify_finds_flip(false);
}

static void test_host_readback_verify_finds_flip(void **state)
{
    (void)state;
    host_verify_finds_flip(true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_device_readback_finds_flip),
        cmocka_unit_test(test_host_crc_verify_finds_flip),
        cmocka_unit_test(test_host_readback_verify_finds_flip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
