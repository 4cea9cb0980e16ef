/*
 * Power-loss runner (littlefs / mcuboot style): during an update of a stamped
 * application, cut the power before, during and after each flash operation
 * (every sector erase, every word program, the record's words, the record
 * area's erase when it is full), restart the
 * board, and check that
 *   - the boot decision either stays in DFU mode or starts an image that is
 *     exactly the old one or exactly the new one (never a partial image);
 *   - the same update, run again, completes and the new image validates.
 * Runs the real code in one process: host/proto -> sim/inproc -> core/dfu ->
 * sim/flash, and core/boot for the decision.
 *
 * Signed (test_update_signed): the signed bootloader's decision (the test key
 * of tests/keys, images with security counters 5 and 6) and its security
 * counter store: the cut points include the counter write of the first start
 * of the new image, and after every cut the stored counter is 5 or 6, never
 * lower than the started image's, 6 once the new image started; the old
 * image is refused afterwards.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "boot.h"
#include "boot_sig.h"
#include "h7_dfu.h"
#include "h7_inproc.h"
#include "h7_ops.h"
#include "h7_stamp.h"

#define SLOT   BOOT_APP_SLOT_ADDR
#define VECTOR SLOT /* the vector table at the slot start */

typedef struct app {
    h7_image_t img;             /* stamped: body + record */
    h7_image_t body;            /* the body alone */
    uint8_t rec[BOOT_REC_SIZE]; /* its record */
    boot_image_version_t ver;
} app_t;

/* Signed runs: the key that signs and that the bootloader trusts. */
static h7_key_t g_key;
static bool g_signed;

typedef struct tally {
    unsigned long cuts, dfu_after_cut, old_after_cut, new_after_cut, failures;
} tally_t;

/* A plausible application: vector table (SP in DTCM, Thumb reset vector in
 * the body), then pseudo-random code bytes. */
static void make_app(app_t *a, size_t body, unsigned seed, uint8_t major, uint32_t counter)
{
    uint8_t *b = malloc(body);
    assert_non_null(b);
    uint32_t x = 0x9e3779b9u * (seed + 1);
    for (size_t i = 0; i < body; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        b[i] = (uint8_t)x;
    }
    uint32_t sp = 0x20020000u, reset = VECTOR + 0x200u + 1u;
    memcpy(b, &sp, 4);
    memcpy(b + 4, &reset, 4);
    h7_image_t raw;
    h7_image_init(&raw);
    assert_int_equal(h7_image_add(&raw, 0, VECTOR, b, body, NULL), 0);
    h7_stamp_opts_t so;
    memset(&so, 0, sizeof(so));
    so.version.major = major;
    so.key = g_signed ? &g_key : NULL;
    so.security_counter = counter;
    char err[256];
    assert_int_equal(h7_stamp(&raw, &so, &a->img, err, sizeof(err)), 0);
    a->ver = so.version;
    bool has = false;
    assert_int_equal(h7_stamp_split(&a->img, &a->body, a->rec, &has), 0);
    assert_true(has);
    h7_image_free(&raw);
    free(b);
}

static int write_app(h7_inproc_t *ip, const app_t *a, char *layout)
{
    h7_dfu_client_t dfu;
    h7_dfu_init(&dfu, h7_inproc_transport(ip), 0, dfu_transfer_size(&ip->dfu));
    /* What h7dfu does with a stamped file: the body, then the record
     * appended to the record area. */
    h7_write_cfg_t cfg = {.verify = true,
                          .record = a->rec,
                          .record_area = BOOT_REC_AREA_ADDR,
                          .record_area_size = BOOT_REC_AREA_SIZE,
                          .record_size = BOOT_REC_SIZE};
    return h7_ops_write_image(&dfu, &a->body, layout, &cfg, NULL);
}

/* The slot holds exactly app a (its body byte for byte) and the newest
 * record, at rec, is a's. */
static bool holds(sim_flash_t *f, const app_t *a, uint32_t rec)
{
    const uint8_t *raw = sim_flash_raw(f);
    for (size_t i = 0; i < a->body.count; i++) {
        const h7_segment_t *s = &a->body.seg[i];
        if (memcmp(raw + (s->addr - 0x08000000u), s->data, s->len) != 0) {
            return false;
        }
    }
    return rec != 0 && memcmp(raw + (rec - 0x08000000u), a->rec, BOOT_REC_SIZE) == 0;
}

/* What the board does at power-on: the boot decision on the flash (signed:
 * with the key, and the counter stored before the start, as
 * bootloader_decide does). */
static boot_decision_t power_on_decision(sim_flash_t *f, boot_image_info_t *info)
{
    flash_dev_t dev = sim_flash_dev(f);
    boot_sig_set_key(g_signed ? &g_key.pub : NULL);
    boot_validate_t v = boot_validate(&dev, SLOT, info);
    /* RAM is lost with the power: no request survives. */
    boot_decision_t d = boot_decide(BOOT_REQ_NONE, v);
    if (g_signed && d.action == BOOT_START_APP && !boot_counter_commit(&dev, info)) {
        d = boot_decide(BOOT_REQ_NONE, BOOT_ERR_COUNTER_STORE);
    }
    boot_sig_set_key(NULL);
    return d;
}

static uint32_t stored_counter(sim_flash_t *f)
{
    flash_dev_t dev = sim_flash_dev(f);
    uint32_t v = 0, next;
    if (boot_counter_read(&dev, &v, &next) != FLASH_OK) {
        return 0xFFFFFFFFu;
    }
    return v;
}

/* A fresh flash; the signed bootloader's map (the counter sector reserved)
 * when signed. */
static sim_flash_t *new_flash(void)
{
    sim_flash_t *f = sim_flash_new(NULL);
    assert_non_null(f);
    if (g_signed) {
        assert_true(sim_flash_set_map(f, flash_map_stm32h743_signed()));
    }
    return f;
}

static void one_cut(const sim_flash_t *v1_flash, const app_t *v1, const app_t *v2, uint64_t op,
                    sim_flash_phase_t phase, tally_t *t)
{
    sim_flash_t *f = new_flash();
    sim_flash_copy_contents(f, v1_flash);
    h7_inproc_t ip;
    assert_true(h7_inproc_init(&ip, f, NULL, NULL));
    char layout[128];
    h7_inproc_layout(&ip, 0, layout, sizeof(layout));
    h7_inproc_cut_power_at(&ip, op, phase);
    int rc = write_app(&ip, v2, layout);
    t->cuts++;
    bool bad = false;
    boot_image_info_t info;
    boot_decision_t d;
    if (g_signed && rc == 0 && sim_flash_powered(f)) {
        /* The reset after the update: the counter write may be cut. */
        d = power_on_decision(f, &info);
        rc = d.action == BOOT_START_APP ? 0 : -1;
    }
    if (rc == 0 && sim_flash_powered(f)) {
        /* the cut point lies past the end of the update */
        bad = true;
    }
    h7_inproc_power_on(&ip);
    d = power_on_decision(f, &info);
    uint32_t ctr = stored_counter(f);
    if (g_signed &&
        (ctr < 5u || ctr > 6u || (d.action == BOOT_START_APP && ctr < info.security_counter))) {
        bad = true;
        print_error("cut at op %llu phase %d: stored counter %lu\n", (unsigned long long)op,
                    (int)phase, (unsigned long)ctr);
    }
    if (d.action == BOOT_START_APP) {
        bool is_old = info.hdr.version.major == v1->ver.major && holds(f, v1, info.record);
        bool is_new = info.hdr.version.major == v2->ver.major && holds(f, v2, info.record);
        if (is_old) {
            t->old_after_cut++;
        } else if (is_new) {
            t->new_after_cut++;
        } else {
            bad = true; /* would start a partial image */
        }
    } else {
        t->dfu_after_cut++;
    }
    /* The same update again completes. */
    if (write_app(&ip, v2, layout) != 0) {
        bad = true;
    }
    d = power_on_decision(f, &info);
    if (d.action != BOOT_START_APP || !holds(f, v2, info.record)) {
        bad = true;
    }
    if (g_signed && stored_counter(f) != 6u) {
        bad = true;
    }
    if (bad) {
        t->failures++;
        print_error("cut at op %llu phase %d: failure\n", (unsigned long long)op, (int)phase);
    }
    sim_flash_free(f);
}

/* Installs v1 on a fresh flash (kept in *v1_flash) and returns how many flash
 * operations the update to v2 takes. full: the record area is full first
 * (2047 older records, then v1's), so the update compacts it. */
static uint64_t prepare(const app_t *v1, const app_t *v2, bool full, sim_flash_t **v1_flash)
{
    sim_flash_t *f = new_flash();
    h7_inproc_t ip;
    assert_true(h7_inproc_init(&ip, f, NULL, NULL));
    char layout[128];
    h7_inproc_layout(&ip, 0, layout, sizeof(layout));
    for (uint32_t i = 0; full && i < BOOT_REC_COUNT - 1u; i++) {
        uint8_t old[BOOT_REC_SIZE];
        memcpy(old, v2->rec, sizeof old);
        old[BOOT_HDR_OFF_BUILD] ^= 0x5A; /* an older record (its CRC does not matter) */
        for (uint32_t w = 0; w < BOOT_REC_SIZE; w += 32u) {
            assert_int_equal(
                sim_flash_program_word(f, BOOT_REC_AREA_ADDR + i * BOOT_REC_SIZE + w, old + w),
                FLASH_OK);
        }
    }
    assert_int_equal(write_app(&ip, v1, layout), 0);
    boot_image_info_t info;
    assert_int_equal(power_on_decision(f, &info).action, BOOT_START_APP);
    assert_int_equal(info.record, full ? BOOT_REC_AREA_ADDR + BOOT_REC_AREA_SIZE - BOOT_REC_SIZE
                                       : BOOT_REC_AREA_ADDR);
    *v1_flash = new_flash();
    sim_flash_copy_contents(*v1_flash, f);
    uint64_t before = sim_flash_op_count(f);
    assert_int_equal(write_app(&ip, v2, layout), 0);
    if (g_signed) {
        /* and the counter stored at the new image's first start */
        assert_int_equal(stored_counter(f), 5u);
        assert_int_equal(power_on_decision(f, &info).action, BOOT_START_APP);
        assert_int_equal(stored_counter(f), 6u);
    }
    uint64_t ops = sim_flash_op_count(f) - before;
    if (g_signed) {
        /* the old image is refused from now on */
        assert_int_equal(write_app(&ip, v1, layout), 0);
        boot_decision_t d = power_on_decision(f, &info);
        assert_int_equal(d.action, BOOT_STAY_IN_DFU);
        assert_int_equal(d.validation, BOOT_ERR_COUNTER);
    }
    sim_flash_free(f);
    return ops;
}

static void run(size_t body, uint64_t stride, bool full, const char *name)
{
    app_t v1, v2;
    make_app(&v1, body, 1, 1, 5);
    make_app(&v2, body, 2, 2, 6);
    sim_flash_t *v1_flash;
    uint64_t ops = prepare(&v1, &v2, full, &v1_flash);
    tally_t t = {0};
    static const sim_flash_phase_t phases[] = {SIM_FLASH_PHASE_BEFORE, SIM_FLASH_PHASE_DURING,
                                               SIM_FLASH_PHASE_AFTER};
    for (uint64_t op = 1; op <= ops; op += (op + stride > ops && op != ops) ? ops - op : stride) {
        for (size_t p = 0; p < 3; p++) {
            one_cut(v1_flash, &v1, &v2, op, phases[p], &t);
        }
    }
    /* Signed: every one of the last operations (the body's last words with
     * the trailer, the record, the counter write at the first start). */
    for (uint64_t op = ops > 12u ? ops - 12u : 1u; g_signed && stride > 1 && op < ops; op++) {
        for (size_t p = 0; p < 3; p++) {
            one_cut(v1_flash, &v1, &v2, op, phases[p], &t);
        }
    }
    printf("powerloss %s: %llu flash operations in the update, %lu cut points tried "
           "(stride %llu, 3 phases); after the cut: %lu in DFU mode, %lu old image, %lu new "
           "image; %lu failures\n",
           name, (unsigned long long)ops, t.cuts, (unsigned long long)stride, t.dfu_after_cut,
           t.old_after_cut, t.new_after_cut, t.failures);
    assert_int_equal(t.failures, 0);
    assert_true(t.dfu_after_cut > 0);
    sim_flash_free(v1_flash);
    h7_image_free(&v1.img);
    h7_image_free(&v2.img);
    h7_image_free(&v1.body);
    h7_image_free(&v2.body);
}

/* Stride between cut points: H7_POWERLOSS_STRIDE_<name>, else the default.
 * `make test` runs the short form; `make powerloss` sets stride 1 for 256 KiB. */
static uint64_t stride(const char *var, uint64_t dflt)
{
    const char *s = getenv(var);
    unsigned long long v = s ? strtoull(s, NULL, 0) : 0;
    return v ? v : dflt;
}

static void test_update_256k(void **state)
{
    (void)state;
    uint64_t st = stride("H7_POWERLOSS_STRIDE_256K", 127);
    run(256 * 1024, st, false, st == 1 ? "256 KiB, every cut point" : "256 KiB, strided");
}

static void test_update_1m(void **state)
{
    (void)state;
    run(1024 * 1024, stride("H7_POWERLOSS_STRIDE_1M", 2039), false, "1 MiB, strided");
}

/* The record area full: the update erases it and writes the record at its
 * start; every cut point (a cut between that erase and the record leaves no
 * image: DFU mode). */
static void test_update_full_area(void **state)
{
    (void)state;
    run(32 * 1024, 1, true, "32 KiB into a full record area, every cut point");
}

/* A signed update on the signed bootloader, the counter write included. */
static void test_update_signed(void **state)
{
    (void)state;
    char err[256];
    if (h7_key_load(H7_TEST_KEY, &g_key, err, sizeof err) != 0) {
        fail_msg("%s", err);
    }
    g_signed = true;
    uint64_t st = stride("H7_POWERLOSS_STRIDE_SIGNED", 61);
    run(64 * 1024, st, false,
        st == 1 ? "64 KiB signed, every cut point" : "64 KiB signed, strided");
    g_signed = false;
    h7_key_free(&g_key);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_update_signed),
        cmocka_unit_test(test_update_256k),
        cmocka_unit_test(test_update_1m),
        cmocka_unit_test(test_update_full_area),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
