/*
 * h7_stamp: stamp an application image, write it record-last into the flash
 * model, and check the bootloader's validation agrees; inspect and refusals.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "boot_test_util.h"
#include "h7_image.h"
#include "h7_stamp.h"

/* An application as the linker would produce it: vector table at BODY. */
static uint8_t *make_app(uint32_t len, uint32_t seed)
{
    uint8_t *p = malloc(len);
    uint32_t x = seed;
    for (uint32_t i = 0; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (uint8_t)(x >> 24);
    }
    h7_put_le32(p, 0x24080000u);              /* stack at the top of AXI SRAM */
    h7_put_le32(p + 4, (BODY + 0x1C0u) | 1u); /* Reset_Handler */
    return p;
}

static void add(h7_image_t *img, uint32_t addr, const uint8_t *data, uint32_t len)
{
    h7_image_error_t err;
    assert_int_equal(h7_image_add(img, 0, addr, data, len, &err), 0);
}

/* Write an image to a fresh flash the way the DFU writer must: the body
 * first, the record last. Returns the validation. */
static boot_validate_t write_and_validate(const h7_image_t *img, boot_image_info_t *info)
{
    h7_image_t body, header;
    uint8_t rec[BOOT_REC_SIZE];
    bool has = false;
    assert_int_equal(h7_stamp_split(img, &body, rec, &has), 0);
    assert_true(has);
    h7_image_init(&header);
    add(&header, REC_AREA, rec, sizeof rec);
    sim_flash_t *f = sim_flash_new(NULL);
    const h7_image_t *order[2] = {&body, &header};
    for (int k = 0; k < 2; k++) {
        for (size_t i = 0; i < order[k]->count; i++) {
            const h7_segment_t *s = &order[k]->seg[i];
            /* Whole flash words, tail padded with 0xFF (both parts are word aligned). */
            assert_int_equal(s->addr % WORD, 0);
            for (uint32_t off = 0; off < s->len; off += WORD) {
                uint8_t w[WORD];
                memset(w, 0xFF, sizeof w);
                memcpy(w, s->data + off, s->len - off < WORD ? s->len - off : WORD);
                assert_int_equal(sim_flash_program_word(f, s->addr + off, w), FLASH_OK);
            }
        }
        if (k == 0) {
            /* Body written, record not yet: never valid. */
            flash_dev_t dev = sim_flash_dev(f);
            assert_int_equal(boot_validate(&dev, SLOT, NULL), BOOT_ERR_NO_IMAGE);
        }
    }
    flash_dev_t dev = sim_flash_dev(f);
    boot_validate_t v = boot_validate(&dev, SLOT, info);
    sim_flash_free(f);
    h7_image_free(&body);
    h7_image_free(&header);
    return v;
}

static void test_stamp_roundtrip(void **state)
{
    (void)state;
    uint8_t *app = make_app(5000, 1);
    h7_image_t in, out;
    h7_image_init(&in);
    add(&in, BODY, app, 5000);
    h7_stamp_opts_t opts = {.version = {2, 1, 0, 5}};
    char err[256] = "";
    assert_int_equal(h7_stamp(&in, &opts, &out, err, sizeof err), 0);
    assert_int_equal(out.count, 2);
    assert_int_equal(out.seg[0].addr, SLOT);
    assert_int_equal(out.seg[0].len, 5024); /* padded to a flash word */
    assert_memory_equal(out.seg[0].data, app, 5000);
    for (uint32_t i = 5000; i < 5024; i++) {
        assert_int_equal(out.seg[0].data[i], 0xFF);
    }
    assert_int_equal(out.seg[1].addr, REC_AREA);
    assert_int_equal(out.seg[1].len, BOOT_REC_SIZE);

    boot_image_info_t info;
    assert_int_equal(write_and_validate(&out, &info), BOOT_VALID);
    assert_int_equal(info.hdr.version.major, 2);
    assert_int_equal(info.hdr.version.minor, 1);
    assert_int_equal(info.hdr.version.patch, 0);
    assert_int_equal(info.hdr.version.build, 5);
    assert_int_equal(info.hdr.image_size, 5024);
    assert_int_equal(info.hdr.device_id, 0x450);
    /* Cross-check the CRC with host/image's independent implementation. */
    assert_int_equal(info.hdr.body_crc, h7_crc32(0, out.seg[0].data, out.seg[0].len));
    assert_int_equal(info.hdr.hdr_version, 2);
    assert_int_equal(info.hdr.load_addr, SLOT);
    assert_int_equal(info.hdr.vector_offset, 0);
    assert_int_equal(info.record, REC_AREA);
    h7_image_free(&in);
    h7_image_free(&out);
    free(app);
}

/* With a record already in the input (an earlier stamp, in its own segment
 * or at the end of one objcopy-filled segment), the result is the same as
 * without it. */
static void test_stamp_header_region_present(void **state)
{
    (void)state;
    uint8_t *app = make_app(3000, 2);
    const uint32_t span = REC_AREA + BOOT_REC_SIZE - SLOT;
    uint8_t *with = malloc(span);
    memset(with, 0xFF, span);
    memcpy(with, app, 3000);
    memset(with + (REC_AREA - SLOT), 0x12, BOOT_REC_SIZE);
    h7_image_t a, b, sa, sb;
    h7_image_init(&a);
    h7_image_init(&b);
    add(&a, BODY, app, 3000);
    add(&a, REC_AREA, with + (REC_AREA - SLOT), BOOT_REC_SIZE);
    add(&b, SLOT, with, span);
    h7_stamp_opts_t opts = {.version = {1, 0, 0, 0}};
    assert_int_equal(h7_stamp(&a, &opts, &sa, NULL, 0), 0);
    assert_int_equal(h7_stamp(&b, &opts, &sb, NULL, 0), 0);
    assert_int_equal(sa.count, 2);
    assert_int_equal(sa.seg[0].len, 3008);
    /* b's body runs up to the record area (0xFF fill): longer, same start,
     * the record right after it. */
    assert_int_equal(h7_image_total_size(&sb), BOOT_APP_SLOT_SIZE + BOOT_REC_SIZE);
    assert_memory_equal(sa.seg[0].data, sb.seg[0].data, sa.seg[0].len);
    assert_int_equal(write_and_validate(&sb, NULL), BOOT_VALID);
    /* Re-stamping a stamped image with a new version works too. */
    h7_image_t sc;
    opts.version.major = 3;
    assert_int_equal(h7_stamp(&sa, &opts, &sc, NULL, 0), 0);
    boot_image_info_t info;
    assert_int_equal(write_and_validate(&sc, &info), BOOT_VALID);
    assert_int_equal(info.hdr.version.major, 3);
    h7_image_free(&a);
    h7_image_free(&b);
    h7_image_free(&sa);
    h7_image_free(&sb);
    h7_image_free(&sc);
    free(app);
    free(with);
}

static void test_stamp_gaps(void **state)
{
    (void)state;
    uint8_t *app = make_app(1024, 3);
    uint8_t tail[100];
    memset(tail, 0x5A, sizeof tail);
    h7_image_t in, out;
    h7_image_init(&in);
    add(&in, BODY, app, 1024);
    add(&in, BODY + 0x2000u, tail, sizeof tail); /* e.g. .data load image */
    assert_int_equal(h7_stamp(&in, NULL, &out, NULL, 0), 0);
    assert_int_equal(out.seg[0].len, 0x2000u + 128u);
    for (uint32_t i = 1024; i < 0x2000u; i++) {
        assert_int_equal(out.seg[0].data[i], 0xFF); /* gap = erased flash */
    }
    assert_memory_equal(out.seg[0].data + 0x2000u, tail, sizeof tail);
    assert_int_equal(write_and_validate(&out, NULL), BOOT_VALID);
    h7_image_free(&in);
    h7_image_free(&out);
    free(app);
}

static void test_stamp_wrong_device_refused(void **state)
{
    (void)state;
    uint8_t *app = make_app(2048, 4);
    h7_image_t in, out;
    h7_image_init(&in);
    add(&in, BODY, app, 2048);
    h7_stamp_opts_t opts = {.version = {1, 0, 0, 0}, .device_id = 0x483};
    assert_int_equal(h7_stamp(&in, &opts, &out, NULL, 0), 0);
    boot_image_info_t info;
    assert_int_equal(write_and_validate(&out, &info), BOOT_ERR_WRONG_DEVICE);
    assert_int_equal(info.hdr.device_id, 0x483);
    h7_stamp_info_t si;
    assert_int_equal(h7_stamp_inspect(&out, 0, &si), 0);
    assert_int_equal(si.result, BOOT_ERR_WRONG_DEVICE);
    assert_int_equal(boot_decide(BOOT_REQ_START_APP, si.result).action, BOOT_STAY_IN_DFU);
    h7_image_free(&in);
    h7_image_free(&out);
    free(app);
}

static void expect_refused(const h7_image_t *in, const char *words)
{
    h7_image_t out;
    char err[256] = "";
    assert_int_equal(h7_stamp(in, NULL, &out, err, sizeof err), -1);
    assert_int_equal(out.count, 0);
    if (strstr(err, words) == NULL) {
        fail_msg("message \"%s\" lacks \"%s\"", err, words);
    }
}

static void test_stamp_refusals(void **state)
{
    (void)state;
    uint8_t *app = make_app(2048, 5);
    h7_image_t in;
    /* Linked for 0x08000000 (the failing product's image): outside the slot. */
    h7_image_init(&in);
    add(&in, 0x08000000u, app, 2048);
    expect_refused(&in, "outside the application slot");
    h7_image_free(&in);
    /* Linked at the old vector table address (slot + 0x400): no vector
     * table at the slot start. */
    h7_image_init(&in);
    add(&in, BODY + 0x400u, app, 2048);
    expect_refused(&in, "no vector table at 0x08020000");
    h7_image_free(&in);
    /* Runs past the end of flash. */
    h7_image_init(&in);
    add(&in, BODY, app, 2048);
    add(&in, 0x081FFFF0u, app, 32);
    expect_refused(&in, "past the end of the flash");
    h7_image_free(&in);
    /* Another DfuSe alt setting. */
    h7_image_init(&in);
    add(&in, BODY, app, 2048);
    assert_int_equal(h7_image_add(&in, 1, 0x90000000u, app, 16, NULL), 0);
    expect_refused(&in, "alt setting 1");
    h7_image_free(&in);
    /* Only record-area data. */
    h7_image_init(&in);
    add(&in, REC_AREA, app, 64);
    expect_refused(&in, "no application data in the slot");
    h7_image_free(&in);
    /* Empty image. */
    h7_image_init(&in);
    expect_refused(&in, "no application data in the slot");
    /* No vector table at BODY (SP garbage). */
    uint8_t bad[64];
    memset(bad, 0x11, sizeof bad);
    add(&in, BODY, bad, sizeof bad);
    expect_refused(&in, "initial stack pointer");
    h7_image_free(&in);
    /* Reset vector outside the image. */
    h7_image_init(&in);
    memcpy(bad, app, 8);
    h7_put_le32(bad + 4, 0x08000201u);
    add(&in, BODY, bad, sizeof bad);
    expect_refused(&in, "reset vector");
    h7_image_free(&in);
    free(app);
}

static void test_inspect_and_describe(void **state)
{
    (void)state;
    uint8_t *app = make_app(4096, 6);
    h7_image_t in, out;
    h7_image_init(&in);
    add(&in, BODY, app, 4096);
    h7_stamp_info_t si;
    char text[1024];

    /* Not stamped: no record. */
    assert_int_equal(h7_stamp_inspect(&in, 0, &si), 0);
    assert_int_equal(si.result, BOOT_ERR_NO_IMAGE);
    h7_stamp_describe(&si, text, sizeof text);
    assert_non_null(strstr(text, "no h7dfu image record"));

    h7_stamp_opts_t opts = {.version = {4, 5, 6, 78}};
    assert_int_equal(h7_stamp(&in, &opts, &out, NULL, 0), 0);
    assert_int_equal(h7_stamp_inspect(&out, 0, &si), 0);
    assert_int_equal(si.result, BOOT_VALID);
    assert_int_equal(si.info.hdr.image_size, 4096);
    h7_stamp_describe(&si, text, sizeof text);
    assert_non_null(strstr(text, "4.5.6+78"));
    assert_non_null(strstr(text, "status      valid"));
    assert_non_null(strstr(text, "0x450"));
    assert_non_null(strstr(text, "record      0x081e0000 (record 1 of 2048"));
    assert_non_null(strstr(text, "body        0x08020000..0x08020fff, 4096 bytes"));

    /* Through a file format and back (what `h7dfu image info FILE` does). */
    static const h7_image_format_t fmts[] = {H7_FMT_IHEX, H7_FMT_DFUSE};
    for (unsigned k = 0; k < 2; k++) {
        uint8_t *buf;
        size_t len;
        h7_image_t back;
        assert_int_equal(h7_image_encode(&out, fmts[k], NULL, &buf, &len, NULL), 0);
        assert_int_equal(h7_image_load_mem(&back, buf, len, "x", NULL, NULL), 0);
        assert_int_equal(h7_stamp_inspect(&back, 0, &si), 0);
        assert_int_equal(si.result, BOOT_VALID);
        h7_image_free(&back);
        free(buf);
    }

    /* One body byte changed after stamping. */
    out.seg[0].data[100] ^= 0x80;
    assert_int_equal(h7_stamp_inspect(&out, 0, &si), 0);
    assert_int_equal(si.result, BOOT_ERR_BODY_CRC);
    h7_stamp_describe(&si, text, sizeof text);
    assert_non_null(strstr(text, "INVALID: bad body CRC"));
    h7_image_free(&in);
    h7_image_free(&out);
    free(app);
}

static void test_split(void **state)
{
    (void)state;
    uint8_t data[0x600];
    for (unsigned i = 0; i < sizeof data; i++) {
        data[i] = (uint8_t)i;
    }
    uint8_t rec[BOOT_REC_SIZE];
    bool has = true;
    h7_image_t img, body;

    /* No data in the record area: all body, no record. */
    h7_image_init(&img);
    add(&img, SLOT, data, sizeof data);
    assert_int_equal(h7_stamp_split(&img, &body, rec, &has), 0);
    assert_false(has);
    assert_int_equal(h7_image_total_size(&body), sizeof data);
    h7_image_free(&body);

    /* One segment from sector 14 into the record area, plus records 0..2
     * (record 2 the newest) and erased bytes after them. */
    const uint32_t s14 = REC_AREA - 0x100u;
    uint8_t span[0x100 + 4 * BOOT_REC_SIZE];
    memset(span, 0xFF, sizeof span);
    memcpy(span, data, 0x100);
    for (unsigned r = 0; r < 3; r++) {
        memset(span + 0x100 + r * BOOT_REC_SIZE, 0x10 + (int)r, BOOT_REC_SIZE);
    }
    add(&img, s14, span, sizeof span);
    assert_int_equal(h7_image_add(&img, 2, REC_AREA, data, 64, NULL), 0); /* other alt */
    assert_int_equal(h7_stamp_split(&img, &body, rec, &has), 0);
    assert_true(has);
    uint8_t want[BOOT_REC_SIZE];
    memset(want, 0x12, sizeof want);
    assert_memory_equal(rec, want, sizeof want);
    assert_int_equal(body.count, 3);
    assert_int_equal(body.seg[1].addr, s14);
    assert_int_equal(body.seg[1].len, 0x100);
    assert_int_equal(body.seg[2].alt, 2);
    assert_int_equal(h7_image_total_size(&body), sizeof data + 0x100 + 64);
    h7_image_free(&img);
    h7_image_free(&body);
}

static void test_version_parse(void **state)
{
    (void)state;
    boot_image_version_t v;
    char s[32];
    assert_true(h7_stamp_parse_version("1.2.3", &v));
    assert_int_equal(v.major, 1);
    assert_int_equal(v.minor, 2);
    assert_int_equal(v.patch, 3);
    assert_int_equal(v.build, 0);
    h7_stamp_version_str(&v, s, sizeof s);
    assert_string_equal(s, "1.2.3");
    assert_true(h7_stamp_parse_version("255.255.65535+4294967295", &v));
    assert_int_equal(v.build, 4294967295u);
    h7_stamp_version_str(&v, s, sizeof s);
    assert_string_equal(s, "255.255.65535+4294967295");
    static const char *bad[] = {"",        "1",         "1.2",   "1.2.3+",          "256.0.0",
                                "1.256.0", "1.2.65536", "a.b.c", "1.2.3x",          " 1.2.3",
                                "-1.2.3",  "1.2.3+-4",  "1..3",  "1.2.3+4294967296"};
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (h7_stamp_parse_version(bad[i], &v)) {
            fail_msg("accepted \"%s\"", bad[i]);
        }
    }
}

/* Versions as tags and `git describe --tags --dirty` write them. */
static void test_version_parse_git(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        unsigned major, minor, patch, build;
        const char *note; /* substring of the note, "" = no note */
    } ok[] = {
        {"v1.2.3", 1, 2, 3, 0, ""},
        {"V1.2.3", 1, 2, 3, 0, ""},
        {"1.2.3", 1, 2, 3, 0, ""},
        {"1.2.3+7", 1, 2, 3, 7, ""},
        {"1.2.3-rc1", 1, 2, 3, 0, "pre-release 'rc1'"},
        {"v2.0.0-beta.2+9", 2, 0, 0, 9, "pre-release 'beta.2'"},
        {"v1.2.3-4-gabcdef", 1, 2, 3, 4, "commit abcdef"},
        {"v1.2.3-4-gabcdef0123456789abcdef0123456789abcd", 1, 2, 3, 4, "commits after the tag"},
        {"v1.2.3-14-g1a2b3c4-dirty", 1, 2, 3, 14, "'-dirty' mark"},
        {"v1.2.3-dirty", 1, 2, 3, 0, "'-dirty' mark"},
        {"v1.2.3-rc1-dirty", 1, 2, 3, 0, "pre-release 'rc1'"},
        {"v1.2.3-rc1-2-gdeadbeef", 1, 2, 3, 2, "pre-release 'rc1'"},
        {"255.255.65535-0-g0000", 255, 255, 65535, 0, "commit 0000"},
    };
    for (unsigned i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        boot_image_version_t v;
        char note[256], err[256];
        if (!h7_stamp_parse_version_text(ok[i].in, &v, note, sizeof note, err, sizeof err)) {
            fail_msg("refused \"%s\": %s", ok[i].in, err);
        }
        if (v.major != ok[i].major || v.minor != ok[i].minor || v.patch != ok[i].patch ||
            v.build != ok[i].build) {
            fail_msg("\"%s\" -> %u.%u.%u+%u", ok[i].in, v.major, v.minor, v.patch,
                     (unsigned)v.build);
        }
        if (ok[i].note[0] == '\0') {
            assert_string_equal(note, "");
        } else if (strstr(note, ok[i].note) == NULL) {
            fail_msg("\"%s\": note \"%s\" lacks \"%s\"", ok[i].in, note, ok[i].note);
        }
    }
    static const struct {
        const char *in, *why;
    } bad[] = {
        {"abcdef1", "want [v]MAJOR"}, /* git describe --always, no tag */
        {"vv1.2.3", "want [v]MAJOR"},
        {"v1.2", "want [v]MAJOR"},
        {"release-1.2.3", "want [v]MAJOR"},
        {"1.2.3-", "want [v]MAJOR"},
        {"1.2.3-rc..1", "want [v]MAJOR"},
        {"1.2.3-rc_1", "want [v]MAJOR"},
        {"1.2.3 ", "want [v]MAJOR"},
        {"1.2.3+abc", "must be a number"},
        {"1.2.3+", "must be a number"},
        {"1.2.3+4-5-gabcdef", "both a +BUILD"},
        {"256.0.0", "MAJOR is at most 255"},
        {"1.256.0", "MINOR is at most 255"},
        {"1.2.65536", "PATCH is at most 65535"},
        {"1.2.99999999999999999999", "PATCH is at most 65535"},
        {"1.2.3+4294967296", "at most 4294967295"},
    };
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        boot_image_version_t v = {9, 9, 9, 9};
        char note[256], err[256] = "";
        if (h7_stamp_parse_version_text(bad[i].in, &v, note, sizeof note, err, sizeof err)) {
            fail_msg("accepted \"%s\"", bad[i].in);
        }
        if (strstr(err, bad[i].why) == NULL) {
            fail_msg("\"%s\": reason \"%s\" lacks \"%s\"", bad[i].in, err, bad[i].why);
        }
        if (v.major != 9 || v.build != 9) {
            fail_msg("\"%s\": refused but changed the version", bad[i].in);
        }
    }
    boot_image_version_t v;
    assert_false(h7_stamp_parse_version_text(NULL, &v, NULL, 0, NULL, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stamp_roundtrip),
        cmocka_unit_test(test_stamp_header_region_present),
        cmocka_unit_test(test_stamp_gaps),
        cmocka_unit_test(test_stamp_wrong_device_refused),
        cmocka_unit_test(test_stamp_refusals),
        cmocka_unit_test(test_inspect_and_describe),
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_version_parse),
        cmocka_unit_test(test_version_parse_git),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
