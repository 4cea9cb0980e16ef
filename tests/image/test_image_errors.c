/*
 * Malformed files of every format, one table row each: the loader must refuse
 * with the right error code, at the right line (text formats) or byte offset
 * (binary formats), and a message that names the file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "h7_image.h"
#include "h7_util.h"
#include "img_test_util.h"

/* ---- binary fixtures, mutated per row ------------------------------------- */

/* A valid ELF32 LE ARM executable: one PT_LOAD of 16 bytes at 0x08000000. */
static size_t make_elf(uint8_t *b)
{
    memset(b, 0, 100);
    memcpy(b,
           "\x7f"
           "ELF\x01\x01\x01",
           7);
    b[16] = 2;  /* ET_EXEC */
    b[18] = 40; /* EM_ARM */
    b[20] = 1;
    h7_put_le32(b + 28, 52); /* e_phoff */
    b[42] = 32;              /* e_phentsize */
    b[44] = 1;               /* e_phnum */
    uint8_t *ph = b + 52;
    h7_put_le32(ph, 1);               /* PT_LOAD */
    h7_put_le32(ph + 4, 84);          /* p_offset */
    h7_put_le32(ph + 8, 0x08000000);  /* p_vaddr */
    h7_put_le32(ph + 12, 0x08000000); /* p_paddr */
    h7_put_le32(ph + 16, 16);         /* p_filesz */
    h7_put_le32(ph + 20, 16);         /* p_memsz */
    fill_random(b + 84, 16, 5);
    return 100;
}

/* A valid DfuSe file from the library's writer (its own round trip is tested
 * elsewhere and checked by dfu-suffix): elements at 285 (64 bytes) and 357 (32). */
static size_t make_dfuse(uint8_t *b)
{
    h7_image_t img;
    h7_image_init(&img);
    uint8_t d[64];
    fill_random(d, sizeof(d), 9);
    assert_int_equal(h7_image_add(&img, 0, 0x08000000, d, 64, NULL), 0);
    assert_int_equal(h7_image_add(&img, 0, 0x08001000, d, 32, NULL), 0);
    uint8_t *out;
    size_t len;
    assert_int_equal(h7_image_encode(&img, H7_FMT_DFUSE, NULL, &out, &len, NULL), 0);
    assert_int_equal(len, 413);
    memcpy(b, out, len);
    free(out);
    h7_image_free(&img);
    return len;
}

static void fix_crc(uint8_t *b, size_t len)
{
    h7_put_le32(b + len - 4, ~h7_crc32(0, b, len - 4));
}

static size_t elf_machine(uint8_t *b)
{
    size_t n = make_elf(b);
    b[18] = 3; /* EM_386 */
    return n;
}
static size_t elf_class64(uint8_t *b)
{
    size_t n = make_elf(b);
    b[4] = 2;
    return n;
}
static size_t elf_bigendian(uint8_t *b)
{
    size_t n = make_elf(b);
    b[5] = 2;
    return n;
}
static size_t elf_rel(uint8_t *b)
{
    size_t n = make_elf(b);
    b[16] = 1;
    return n;
}
static size_t elf_phnum(uint8_t *b)
{
    size_t n = make_elf(b);
    b[44] = 3; /* 3 headers do not fit */
    return n;
}
static size_t elf_data_past_end(uint8_t *b)
{
    size_t n = make_elf(b);
    h7_put_le32(b + 52 + 4, 90); /* 16 bytes at 90 in a 100-byte file */
    return n;
}
static size_t elf_filesz(uint8_t *b)
{
    size_t n = make_elf(b);
    h7_put_le32(b + 52 + 20, 8); /* memsz < filesz */
    return n;
}
static size_t elf_short(uint8_t *b)
{
    make_elf(b);
    return 40;
}
static size_t elf_overlap(uint8_t *b)
{
    size_t n = make_elf(b);
    b[44] = 2;
    memcpy(b + 84, b + 52, 32); /* second PT_LOAD, same place */
    h7_put_le32(b + 84 + 4, 0);
    (void)n;
    return 120;
}

static size_t dfu_crc(uint8_t *b)
{
    size_t n = make_dfuse(b);
    b[300] ^= 0x40; /* a data byte; CRC left stale */
    return n;
}
static size_t dfu_version(uint8_t *b)
{
    size_t n = make_dfuse(b);
    b[5] = 2;
    fix_crc(b, n);
    return n;
}
static size_t dfu_image_size(uint8_t *b)
{
    size_t n = make_dfuse(b);
    h7_put_le32(b + 6, 400);
    fix_crc(b, n);
    return n;
}
static size_t dfu_target_sig(uint8_t *b)
{
    size_t n = make_dfuse(b);
    b[11] = 't';
    fix_crc(b, n);
    return n;
}
static size_t dfu_element_size(uint8_t *b)
{
    size_t n = make_dfuse(b);
    h7_put_le32(b + 289, 1000);
    fix_crc(b, n);
    return n;
}
static size_t dfu_element_count(uint8_t *b)
{
    size_t n = make_dfuse(b);
    h7_put_le32(b + 281, 1); /* target size still covers two elements */
    fix_crc(b, n);
    return n;
}
static size_t dfu_overlap(uint8_t *b)
{
    size_t n = make_dfuse(b);
    h7_put_le32(b + 357, 0x08000010);
    fix_crc(b, n);
    return n;
}
static size_t dfu_bcd(uint8_t *b)
{
    size_t n = make_dfuse(b);
    b[n - 10] = 0x00;
    b[n - 9] = 0x01; /* bcdDFU 0x0100 */
    fix_crc(b, n);
    return n;
}
static size_t dfu_suffix_len(uint8_t *b)
{
    size_t n = make_dfuse(b);
    b[n - 5] = 17;
    fix_crc(b, n);
    return n;
}
static size_t dfu_no_suffix(uint8_t *b)
{
    size_t n = make_dfuse(b);
    b[n - 8] = 'X';
    return n;
}
static size_t dfu_tiny(uint8_t *b)
{
    memcpy(b, "DfuSe\x01", 6);
    return 6;
}

/* ---- the table ------------------------------------------------------------ */

typedef struct bad_case {
    const char *name; /* file name: also gives the extension hint */
    const char *text; /* text content, or NULL when make is set */
    size_t (*make)(uint8_t *buf);
    h7_image_errc_t code;
    unsigned line;   /* expected line (text), 0 if none */
    long offset;     /* expected byte offset; -1 if none */
    bool from_end;   /* offset counts back from the end of the file */
    const char *has; /* substring of the message */
} bad_case_t;

#define EOFREC ":00000001FF\n"
#define S1OK   "S1050000AABB95\n"
#define S9OK   "S9030000FC\n"

static const bad_case_t cases[] = {
    /* Intel HEX */
    {"cksum.hex", ":020000040800F2\n:0100000000FE\n" EOFREC, NULL, H7_IMG_E_CHECKSUM, 2, -1, 0,
     "checksum"},
    {"len.hex", ":0200000000FE\n" EOFREC, NULL, H7_IMG_E_LENGTH, 1, -1, 0, "length"},
    {"noeof.hex", ":0100000000FF\n", NULL, H7_IMG_E_NO_EOF, 1, -1, 0, "end-of-file"},
    {"after.hex", EOFREC ":0100000000FF\n", NULL, H7_IMG_E_AFTER_EOF, 2, -1, 0, "after"},
    {"overlap.hex", ":0100000000FF\n:020000040000FA\n:0100000000FF\n" EOFREC, NULL,
     H7_IMG_E_OVERLAP, 3, -1, 0, "line 1"},
    {"nonhex.hex", ":01000000G0FF\n" EOFREC, NULL, H7_IMG_E_SYNTAX, 1, -1, 0, "column 10"},
    {"colon.hex", "0100000000FF\n" EOFREC, NULL, H7_IMG_E_SYNTAX, 1, -1, 0, "':'"},
    {"type.hex", ":00000006FA\n" EOFREC, NULL, H7_IMG_E_RECORD, 1, -1, 0, "type 0x06"},
    {"ela.hex", ":0100000408F3\n" EOFREC, NULL, H7_IMG_E_LENGTH, 1, -1, 0, "type 04"},
    {"odd.hex", ":0100000000F\n" EOFREC, NULL, H7_IMG_E_SYNTAX, 1, -1, 0, "odd"},
    {"short.hex", ":00000001\n", NULL, H7_IMG_E_LENGTH, 1, -1, 0, "too short"},
    {"crlf.hex", ":020000040800F2\r\n\r\n:0100000000FF\r\n:0100000000FE\r\n" EOFREC, NULL,
     H7_IMG_E_CHECKSUM, 4, -1, 0, "expected 0xFF"},
    {"range.hex", ":02000004FFFFFC\n:10FFF80000000000000000000000000000000000F9\n" EOFREC, NULL,
     H7_IMG_E_RANGE, 2, -1, 0, "0xFFFFFFFF"},
    {"empty.hex", EOFREC, NULL, H7_IMG_E_EMPTY, 0, -1, 0, "no data"},
    /* Motorola S-record */
    {"cksum.s19", "S1050000AABB94\n" S9OK, NULL, H7_IMG_E_CHECKSUM, 1, -1, 0, "expected 0x95"},
    {"count.s19", S1OK "S5030002FA\n" S9OK, NULL, H7_IMG_E_COUNT, 2, -1, 0, "says 2"},
    {"s4.s19", "S4030000FC\n" S9OK, NULL, H7_IMG_E_RECORD, 1, -1, 0, "S4"},
    {"len.s19", "S1060000AABB95\n" S9OK, NULL, H7_IMG_E_LENGTH, 1, -1, 0, "count byte"},
    {"after.s19", S9OK S1OK, NULL, H7_IMG_E_AFTER_EOF, 2, -1, 0, "after"},
    {"overlap.s19", S1OK "S1040001CC2E\n" S9OK, NULL, H7_IMG_E_OVERLAP, 2, -1, 0, "0x00000001"},
    {"nonhex.s19", "S1050000AXBB95\n" S9OK, NULL, H7_IMG_E_SYNTAX, 1, -1, 0, "column 10"},
    {"type.srec", "SX050000AABB95\n" S9OK, NULL, H7_IMG_E_SYNTAX, 1, -1, 0, "type digit"},
    /* ELF */
    {"machine.elf", NULL, elf_machine, H7_IMG_E_FORMAT, 0, 18, 0, "not ARM"},
    {"class.elf", NULL, elf_class64, H7_IMG_E_FORMAT, 0, 4, 0, "32-bit"},
    {"be.elf", NULL, elf_bigendian, H7_IMG_E_UNSUPPORTED, 0, 5, 0, "little-endian"},
    {"rel.elf", NULL, elf_rel, H7_IMG_E_FORMAT, 0, 16, 0, "not an executable"},
    {"phnum.elf", NULL, elf_phnum, H7_IMG_E_TRUNCATED, 0, 52, 0, "program headers"},
    {"data.elf", NULL, elf_data_past_end, H7_IMG_E_TRUNCATED, 0, 56, 0, "past the end"},
    {"memsz.elf", NULL, elf_filesz, H7_IMG_E_LENGTH, 0, 68, 0, "p_memsz"},
    {"short.elf", NULL, elf_short, H7_IMG_E_TRUNCATED, 0, 40, 0, "header"},
    {"overlap.elf", NULL, elf_overlap, H7_IMG_E_OVERLAP, 0, 84, 0, "overlaps"},
    /* DfuSe / DFU */
    {"crc.dfu", NULL, dfu_crc, H7_IMG_E_CHECKSUM, 0, 4, 1, "CRC"},
    {"version.dfu", NULL, dfu_version, H7_IMG_E_FORMAT, 0, 5, 0, "version 2"},
    {"size.dfu", NULL, dfu_image_size, H7_IMG_E_LENGTH, 0, 6, 0, "image size 400"},
    {"target.dfu", NULL, dfu_target_sig, H7_IMG_E_FORMAT, 0, 11, 0, "Target"},
    {"elem.dfu", NULL, dfu_element_size, H7_IMG_E_TRUNCATED, 0, 289, 0, "1000 bytes"},
    {"count.dfu", NULL, dfu_element_count, H7_IMG_E_LENGTH, 0, 277, 0, "elements take"},
    {"overlap.dfu", NULL, dfu_overlap, H7_IMG_E_OVERLAP, 0, 357, 0, "0x08000010"},
    {"bcd.dfu", NULL, dfu_bcd, H7_IMG_E_FORMAT, 0, 10, 1, "0x011A"},
    {"slen.dfu", NULL, dfu_suffix_len, H7_IMG_E_LENGTH, 0, 5, 1, "length 17"},
    {"nosuffix.dfu", NULL, dfu_no_suffix, H7_IMG_E_FORMAT, 0, 8, 1, "UFD"},
    {"tiny.dfu", NULL, dfu_tiny, H7_IMG_E_TRUNCATED, 0, 0, 0, "too short"},
    /* No format at all */
    {"mystery", "hello world", NULL, H7_IMG_E_FORMAT, 0, -1, 0, "unknown format"},
};

static void test_bad_files(void **state)
{
    (void)state;
    static uint8_t buf[1024];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const bad_case_t *c = &cases[i];
        size_t len;
        if (c->make) {
            len = c->make(buf);
        } else {
            len = strlen(c->text);
            memcpy(buf, c->text, len);
        }
        h7_image_t img;
        h7_image_error_t err;
        int rc = h7_image_load_mem(&img, buf, len, c->name, NULL, &err);
        long want_off = c->from_end ? (long)len - c->offset : c->offset;
        print_message("%-14s -> %s\n", c->name, rc ? err.message : "(loaded!)");
        if (rc != -1) {
            fail_msg("%s: loaded, should be refused", c->name);
        }
        if (err.code != c->code) {
            fail_msg("%s: code %s, want %s (%s)", c->name, h7_image_errc_name(err.code),
                     h7_image_errc_name(c->code), err.message);
        }
        if (err.line != c->line) {
            fail_msg("%s: line %u, want %u (%s)", c->name, err.line, c->line, err.message);
        }
        if (err.offset != want_off) {
            fail_msg("%s: offset %ld, want %ld (%s)", c->name, err.offset, want_off, err.message);
        }
        if (strncmp(err.message, c->name, strlen(c->name)) != 0 || !strstr(err.message, c->has)) {
            fail_msg("%s: message \"%s\" should name the file and say \"%s\"", c->name, err.message,
                     c->has);
        }
        assert_int_equal(img.count, 0); /* nothing half-loaded */
    }
}

/* The fixtures themselves load: the rows above fail for the one reason each. */
static void test_fixtures_are_valid(void **state)
{
    (void)state;
    static uint8_t buf[1024];
    h7_image_t img;
    h7_image_error_t err;
    size_t n = make_elf(buf);
    assert_int_equal(h7_image_load_mem(&img, buf, n, "ok.elf", NULL, &err), 0);
    assert_int_equal(img.seg[0].addr, 0x08000000);
    h7_image_free(&img);
    n = make_dfuse(buf);
    assert_int_equal(h7_image_load_mem(&img, buf, n, "ok.dfu", NULL, &err), 0);
    assert_int_equal(img.count, 2);
    h7_image_free(&img);
    const char *hex = ":020000040800F2\n:0100000000FF\n" EOFREC;
    assert_int_equal(
        h7_image_load_mem(&img, (const uint8_t *)hex, strlen(hex), "ok.hex", NULL, &err), 0);
    assert_int_equal(img.seg[0].addr, 0x08000000);
    h7_image_free(&img);
    const char *srec = S1OK "S5030001FB\n" S9OK;
    assert_int_equal(
        h7_image_load_mem(&img, (const uint8_t *)srec, strlen(srec), "ok.s19", NULL, &err), 0);
    assert_int_equal(img.seg[0].len, 2);
    assert_string_equal(img.warning, "");
    h7_image_free(&img);
    /* no termination record (what srec_cat writes by default): the records
     * are taken, with a warning that names the last line */
    const char *noterm = "S0030000FC\n" S1OK;
    assert_int_equal(
        h7_image_load_mem(&img, (const uint8_t *)noterm, strlen(noterm), "noterm.s19", NULL, &err),
        0);
    assert_int_equal(img.count, 1);
    assert_int_equal(img.seg[0].len, 2);
    assert_non_null(strstr(img.warning, "termination"));
    assert_non_null(strstr(img.warning, "line 2"));
    h7_image_free(&img);
}

static void test_missing_file(void **state)
{
    (void)state;
    h7_image_t img;
    h7_image_error_t err;
    assert_int_equal(h7_image_load_file(&img, "/nonexistent/fw.hex", NULL, &err), -1);
    assert_int_equal(err.code, H7_IMG_E_IO);
    assert_non_null(strstr(err.message, "/nonexistent/fw.hex"));
}

/* Random damage (flipped bytes, cuts) to a valid file of each format: the loader
 * must refuse or load cleanly, never crash (ASan/UBSan watch), and a refusal
 * always comes with a message. A short, deterministic stand-in for the fuzzer. */
static void test_random_damage(void **state)
{
    (void)state;
    static uint8_t orig[1024], buf[1024];
    const char *hex = ":020000040800F2\n:0400000001020304F2\n:040000050800019955\n" EOFREC;
    const char *srec = "S00600004844521B\n" S1OK "S5030001FB\n" S9OK;
    uint32_t x = 2024;
    for (int kind = 0; kind < 4; kind++) {
        size_t len;
        const char *name;
        if (kind == 0) {
            len = make_elf(orig), name = "d.elf";
        } else if (kind == 1) {
            len = make_dfuse(orig), name = "d.dfu";
        } else if (kind == 2) {
            len = strlen(hex), name = "d.hex";
            memcpy(orig, hex, len);
        } else {
            len = strlen(srec), name = "d.s19";
            memcpy(orig, srec, len);
        }
        h7_image_t img;
        h7_image_error_t err;
        if (h7_image_load_mem(&img, orig, len, name, NULL, &err)) {
            fail_msg("fixture %s: %s", name, err.message);
        }
        h7_image_free(&img);
        int refused = 0;
        for (int round = 0; round < 3000; round++) {
            memcpy(buf, orig, len);
            size_t n = len;
            x ^= x << 13, x ^= x >> 17, x ^= x << 5;
            int flips = 1 + (int)(x % 3);
            for (int k = 0; k < flips; k++) {
                x ^= x << 13, x ^= x >> 17, x ^= x << 5;
                buf[x % n] ^= (uint8_t)(1u << (x >> 29));
            }
            if (round % 5 == 0) {
                n = x % len; /* also cut it short */
            }
            if (h7_image_load_mem(&img, buf, n, name, NULL, &err) == 0) {
                assert_true(img.count > 0);
                h7_image_free(&img);
            } else {
                assert_int_not_equal(err.code, H7_IMG_OK);
                assert_true(strlen(err.message) > strlen(name));
                refused++;
            }
        }
        print_message("%s: %d of 3000 damaged copies refused\n", name, refused);
        if (kind > 0) { /* record checksums / the suffix CRC catch most damage */
            assert_true(refused > 2000);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixtures_are_valid),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_random_damage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
