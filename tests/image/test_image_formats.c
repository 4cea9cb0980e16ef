/*
 * Image loaders and writers against independent tools: arm-none-eabi-objcopy
 * makes Intel HEX, S-record and (with arm-none-eabi-ld) ELF files from a random
 * binary, dfu-suffix makes and checks DFU suffixes; what we load must be the
 * same bytes at the same addresses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ftw.h>
#include <unistd.h>

#include "h7_image.h"
#include "img_test_util.h"

static char dir[64];

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/h7img-test-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static const char *path_of(const char *name)
{
    static char p[4][256];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof(p[k]), "%s/%s", dir, name);
    return p[k];
}

static void load_ok(h7_image_t *img, const char *path, const h7_load_opts_t *opts)
{
    h7_image_error_t err;
    int rc = h7_image_load_file(img, path, opts, &err);
    if (rc != 0) {
        fail_msg("%s", err.message);
    }
}

static void expect_one_segment(const h7_image_t *img, uint32_t addr, const uint8_t *data,
                               size_t len)
{
    assert_int_equal(img->count, 1);
    assert_int_equal(img->seg[0].addr, addr);
    assert_int_equal(img->seg[0].len, len);
    assert_memory_equal(img->seg[0].data, data, len);
}

/* ---- helpers ------------------------------------------------------------- */

static void test_crc32_known_values(void **state)
{
    (void)state;
    /* The CRC-32 check value of "123456789" (IEEE 802.3). */
    assert_int_equal(h7_crc32(0, "123456789", 9), 0xCBF43926u);
    assert_int_equal(h7_crc32(h7_crc32(0, "1234", 4), "56789", 5), 0xCBF43926u);
    assert_int_equal(h7_crc32(0, "", 0), 0);
}

static void test_image_helpers(void **state)
{
    (void)state;
    uint8_t a[100], b[50];
    fill_random(a, sizeof(a), 1);
    fill_random(b, sizeof(b), 2);
    h7_image_t img;
    h7_image_init(&img);
    assert_int_equal(h7_image_add(&img, 0, 0x08040000, b, sizeof(b), NULL), 0);
    assert_int_equal(h7_image_add(&img, 0, 0x08020000, a, sizeof(a), NULL), 0);
    h7_image_error_t err;
    assert_int_equal(h7_image_add(&img, 0, 0x08020000 + 99, b, 2, &err), -1);
    assert_int_equal(err.code, H7_IMG_E_OVERLAP);
    assert_int_equal(h7_image_add(&img, 0, 0x0803FFFF, b, 2, &err), -1);
    assert_int_equal(err.code, H7_IMG_E_OVERLAP);
    assert_int_equal(img.count, 2);
    assert_int_equal(img.seg[0].addr, 0x08020000); /* kept sorted */
    assert_int_equal(h7_image_total_size(&img), 150);
    assert_int_equal(h7_image_min_addr(&img), 0x08020000);
    assert_int_equal(h7_image_max_addr(&img), 0x08040000 + 49);
    uint8_t both[150];
    memcpy(both, a, 100);
    memcpy(both + 100, b, 50);
    assert_int_equal(h7_image_crc32(&img), h7_crc32(0, both, sizeof(both)));
    h7_image_free(&img);
}

static void test_detect(void **state)
{
    (void)state;
    static const struct {
        const char *content;
        const char *name;
        h7_image_format_t want;
    } cases[] = {
        {":00000001FF\n", "x.hex", H7_FMT_IHEX},
        {":00000001FF\n", "x.txt", H7_FMT_IHEX},
        {"\r\n:00000001FF\n", NULL, H7_FMT_IHEX},
        {":00000001FF\n", "x.bin", H7_FMT_BIN}, /* a raw binary may start with ':' */
        {"S9030000FC\n", "x.s19", H7_FMT_SREC},
        {"S9030000FC\n", "noext", H7_FMT_SREC},
        {"\x7f"
         "ELF\x01\x01\x01",
         "fw.bin", H7_FMT_ELF},
        {"garbage", "fw.hex", H7_FMT_IHEX}, /* the loader then says why */
        {"garbage", "fw.srec", H7_FMT_SREC},
        {"garbage", "fw", H7_FMT_AUTO},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        h7_image_format_t got = h7_image_detect((const uint8_t *)cases[i].content,
                                                strlen(cases[i].content), cases[i].name);
        if (got != cases[i].want) {
            fail_msg("case %zu: detected %s, want %s", i, h7_image_format_name(got),
                     h7_image_format_name(cases[i].want));
        }
    }
    h7_image_format_t f;
    assert_true(h7_image_format_parse("hex", &f) && f == H7_FMT_IHEX);
    assert_true(h7_image_format_parse("DfuSe", &f) && f == H7_FMT_DFUSE);
    assert_false(h7_image_format_parse("zip", &f));
}

static void test_bin_needs_base(void **state)
{
    (void)state;
    uint8_t data[777];
    fill_random(data, sizeof(data), 3);
    assert_int_equal(write_bytes(path_of("fw.bin"), data, sizeof(data)), 0);
    h7_image_t img;
    h7_image_error_t err;
    assert_int_equal(h7_image_load_file(&img, path_of("fw.bin"), NULL, &err), -1);
    assert_int_equal(err.code, H7_IMG_E_NEED_BASE);
    assert_non_null(strstr(err.message, "fw.bin"));

    h7_load_opts_t o = {.has_base = true, .base = 0x08020000};
    load_ok(&img, path_of("fw.bin"), &o);
    assert_int_equal(img.format, H7_FMT_BIN);
    expect_one_segment(&img, 0x08020000, data, sizeof(data));
    h7_image_free(&img);

    /* Explicit override: the .bin is read as raw even if it looks like HEX. */
    assert_int_equal(write_bytes(path_of("looks.hex"), ":00000001FF\n", 12), 0);
    o.format = H7_FMT_BIN;
    load_ok(&img, path_of("looks.hex"), &o);
    expect_one_segment(&img, 0x08020000, (const uint8_t *)":00000001FF\n", 12);
    h7_image_free(&img);
}

/* ---- cross-checks with objcopy --------------------------------------------- */

static void objcopy_and_compare(const char *ofmt, uint32_t base, size_t len, uint32_t seed,
                                h7_image_format_t want_fmt, uint32_t want_start)
{
    if (!tool_found(H7_OBJCOPY)) {
        skip();
    }
    uint8_t *data = malloc(len);
    assert_non_null(data);
    fill_random(data, len, seed);
    assert_int_equal(write_bytes(path_of("in.bin"), data, len), 0);
    assert_int_equal(run_cmd("%s -I binary -O %s --change-addresses 0x%08x %s %s", H7_OBJCOPY, ofmt,
                             base, path_of("in.bin"), path_of("out.img")),
                     0);
    h7_image_t img;
    load_ok(&img, path_of("out.img"), NULL); /* no extension: detected by content */
    assert_int_equal(img.format, want_fmt);
    expect_one_segment(&img, base, data, len);
    if (img.has_start_seg) { /* below 1 MiB objcopy writes a CS:IP (03) start record */
        assert_int_equal(((uint32_t)img.start_cs << 4) + img.start_ip, want_start);
    } else {
        assert_true(img.has_start && img.start == want_start);
    }
    h7_image_free(&img);
    free(data);
}

static void test_ihex_from_objcopy(void **state)
{
    (void)state;
    objcopy_and_compare("ihex", 0x08020000, 70000, 11, H7_FMT_IHEX, 0x08020000);
    /* Below 1 MiB objcopy uses extended segment (02) records; this crosses 64 KiB. */
    objcopy_and_compare("ihex", 0x0000F000, 9000, 12, H7_FMT_IHEX, 0x0000F000);
}

static void test_srec_from_objcopy(void **state)
{
    (void)state;
    objcopy_and_compare("srec", 0x08020000, 5000, 21, H7_FMT_SREC, 0x08020000); /* S3/S7 */
    objcopy_and_compare("srec", 0x00012000, 5000, 22, H7_FMT_SREC, 0x00012000); /* S2/S8 */
    objcopy_and_compare("srec", 0x00000100, 5000, 23, H7_FMT_SREC, 0x00000100); /* S1/S9 */
}

static void test_srec_header_and_count(void **state)
{
    (void)state;
    if (!tool_found(H7_OBJCOPY)) {
        skip();
    }
    uint8_t data[300];
    fill_random(data, sizeof(data), 24);
    assert_int_equal(write_bytes(path_of("in.bin"), data, sizeof(data)), 0);
    /* objcopy puts the output file name in S0; --srec-len 16 makes 19 S3 records. */
    assert_int_equal(run_cmd("%s -I binary -O srec --srec-len 16 --change-addresses 0x08020000 "
                             "%s %s",
                             H7_OBJCOPY, path_of("in.bin"), path_of("hdr.srec")),
                     0);
    /* Add an S5 count record (19 = 0x13) before the S7, as some tools do. */
    FILE *f = fopen(path_of("hdr.srec"), "r");
    assert_non_null(f);
    char text[8192] = "", line[256];
    while (fgets(line, sizeof(line), f)) {
        if (line[0] == 'S' && line[1] == '7') {
            strcat(text, "S5030013E9\n");
        }
        strcat(text, line);
    }
    fclose(f);
    assert_int_equal(write_bytes(path_of("cnt.srec"), text, strlen(text)), 0);
    h7_image_t img;
    load_ok(&img, path_of("cnt.srec"), NULL);
    expect_one_segment(&img, 0x08020000, data, sizeof(data));
    assert_non_null(strstr(img.header, "hdr.srec"));
    h7_image_free(&img);
}

static const char *const linker_script =
    "ENTRY(_start)\n"
    "MEMORY { FLASH (rx) : ORIGIN = 0x08020000, LENGTH = 1M\n"
    "         RAM (rwx) : ORIGIN = 0x24000000, LENGTH = 512K }\n"
    "SECTIONS {\n"
    "  _start = 0x08020001;\n"
    "  .data : { KEEP(*(.data)) } > RAM AT > FLASH\n"
    "  .bss (NOLOAD) : { . = . + 0x400; } > RAM\n"
    "}\n";

static void test_elf_from_objcopy_and_ld(void **state)
{
    (void)state;
    if (!tool_found(H7_OBJCOPY) || !tool_found(H7_ARM_LD)) {
        skip();
    }
    uint8_t data[12345];
    fill_random(data, sizeof(data), 31);
    assert_int_equal(write_bytes(path_of("in.bin"), data, sizeof(data)), 0);
    assert_int_equal(write_bytes(path_of("fw.ld"), linker_script, strlen(linker_script)), 0);
    assert_int_equal(run_cmd("%s -I binary -O elf32-littlearm -B arm %s %s", H7_OBJCOPY,
                             path_of("in.bin"), path_of("blob.o")),
                     0);
    assert_int_equal(run_cmd("%s -T %s -o %s %s", H7_ARM_LD, path_of("fw.ld"), path_of("fw.elf"),
                             path_of("blob.o")),
                     0);
    h7_image_t img;
    load_ok(&img, path_of("fw.elf"), NULL);
    assert_int_equal(img.format, H7_FMT_ELF);
    /* Executed in RAM at 0x24000000, but loaded (p_paddr) into flash. */
    expect_one_segment(&img, 0x08020000, data, sizeof(data));
    assert_true(img.has_start);
    assert_int_equal(img.start, 0x08020001);
    h7_image_free(&img);

    /* And objcopy's own view of the same ELF as a binary agrees. */
    assert_int_equal(
        run_cmd("%s -O binary %s %s", H7_OBJCOPY, path_of("fw.elf"), path_of("back.bin")), 0);
    h7_load_opts_t o = {.has_base = true, .base = 0x08020000};
    load_ok(&img, path_of("back.bin"), &o);
    expect_one_segment(&img, 0x08020000, data, sizeof(data));
    h7_image_free(&img);
}

/* A hand-made ELF: PT_LOAD with a NOBITS tail, a PT_NOTE, a PT_LOAD with filesz 0,
 * and a second PT_LOAD whose vaddr differs from its paddr. */
static void test_elf_handmade(void **state)
{
    (void)state;
    uint8_t f[52 + 4 * 32 + 256] = {0x7F, 'E', 'L', 'F', 1, 1, 1};
    uint8_t *p = f;
    p[16] = 2;  /* ET_EXEC */
    p[18] = 40; /* EM_ARM */
    p[20] = 1;
    p[24] = 0x99; /* e_entry 0x08000199 */
    p[25] = 0x01;
    p[27] = 0x08;
    p[28] = 52; /* e_phoff */
    p[40] = 52; /* e_ehsize */
    p[42] = 32; /* e_phentsize */
    p[44] = 4;  /* e_phnum */
    const uint32_t ph[4][8] = {
        /* type, offset, vaddr, paddr, filesz, memsz, flags, align */
        {1, 180, 0x08000000, 0x08000000, 100, 4096, 5, 4},
        {4, 280, 0, 0, 20, 20, 4, 4},
        {1, 0, 0x20000000, 0x20000000, 0, 512, 6, 4},
        {1, 300, 0x24000000, 0x08001000, 136, 136, 6, 4},
    };
    for (int i = 0; i < 4; i++) {
        for (int k = 0; k < 8; k++) {
            for (int b = 0; b < 4; b++) {
                f[52 + i * 32 + k * 4 + b] = (uint8_t)(ph[i][k] >> (8 * b));
            }
        }
    }
    fill_random(f + 180, 256, 41);
    h7_image_t img;
    h7_image_error_t err;
    int rc = h7_image_load_mem(&img, f, sizeof(f), "hand.elf", NULL, &err);
    if (rc) {
        fail_msg("%s", err.message);
    }
    assert_int_equal(img.count, 2);
    assert_int_equal(img.seg[0].addr, 0x08000000);
    assert_int_equal(img.seg[0].len, 100);
    assert_memory_equal(img.seg[0].data, f + 180, 100);
    assert_int_equal(img.seg[1].addr, 0x08001000);
    assert_int_equal(img.seg[1].len, 136);
    assert_memory_equal(img.seg[1].data, f + 300, 136);
    assert_int_equal(img.start, 0x08000199);
    h7_image_free(&img);
}

/* ---- Intel HEX by hand: segments, wrap, start records, CRLF ------------------ */

/* The test's own record encoder (independent of the library's writer). */
static void rec(char *out, uint8_t type, uint16_t addr, const uint8_t *d, uint8_t n,
                const char *eol)
{
    unsigned sum = n + (addr >> 8) + (addr & 0xFF) + type;
    out += sprintf(out, ":%02X%04X%02X", n, addr, type);
    for (int i = 0; i < n; i++) {
        out += sprintf(out, "%02x", d[i]); /* lower case is legal too */
        sum += d[i];
    }
    sprintf(out, "%02X%s", (unsigned)(-sum & 0xFF), eol);
}

static void test_ihex_segments_wrap_crlf(void **state)
{
    (void)state;
    char text[4096] = "", r[128];
    uint8_t d[16];
    fill_random(d, sizeof(d), 51);
    const uint8_t seg1000[2] = {0x10, 0x00}; /* segment 0x1000 -> base 0x10000 */
    const uint8_t start_seg[4] = {0x12, 0x34, 0x56, 0x78};
    const uint8_t ulba[2] = {0x08, 0x02};
    const uint8_t start_lin[4] = {0x08, 0x02, 0x01, 0x99};

    rec(r, 2, 0, seg1000, 2, "\r\n");
    strcat(text, r);
    rec(r, 0, 0xFFF8, d, 16, "\r\n"); /* wraps: 8 bytes at 0x1FFF8, 8 at 0x10000 */
    strcat(text, r);
    strcat(text, "\r\n"); /* a blank line is tolerated */
    rec(r, 3, 0, start_seg, 4, "\r\n");
    strcat(text, r);
    rec(r, 4, 0, ulba, 2, "\r\n");
    strcat(text, r);
    rec(r, 0, 0x0000, d, 4, "\r\n"); /* 0x08020000 */
    strcat(text, r);
    rec(r, 0, 0x0010, d + 4, 4, "\r\n"); /* gap: 0x08020010 */
    strcat(text, r);
    rec(r, 0, 0x0014, d + 8, 8, "\r\n"); /* contiguous: joins the previous */
    strcat(text, r);
    rec(r, 5, 0, start_lin, 4, "\r\n");
    strcat(text, r);
    rec(r, 1, 0, NULL, 0, "\r\n");
    strcat(text, r);

    h7_image_t img;
    h7_image_error_t err;
    if (h7_image_load_mem(&img, (const uint8_t *)text, strlen(text), "seg.hex", NULL, &err)) {
        fail_msg("%s", err.message);
    }
    assert_int_equal(img.count, 4);
    assert_int_equal(img.seg[0].addr, 0x10000);
    assert_int_equal(img.seg[0].len, 8);
    assert_memory_equal(img.seg[0].data, d + 8, 8);
    assert_int_equal(img.seg[1].addr, 0x1FFF8);
    assert_memory_equal(img.seg[1].data, d, 8);
    assert_int_equal(img.seg[2].addr, 0x08020000);
    assert_int_equal(img.seg[2].len, 4);
    assert_int_equal(img.seg[3].addr, 0x08020010);
    assert_int_equal(img.seg[3].len, 12);
    assert_memory_equal(img.seg[3].data, d + 4, 12);
    assert_true(img.has_start_seg);
    assert_int_equal(img.start_cs, 0x1234);
    assert_int_equal(img.start_ip, 0x5678);
    assert_true(img.has_start);
    assert_int_equal(img.start, 0x08020199);
    h7_image_free(&img);
}

/* ---- writers: round trips and independent checks ---------------------------- */

static void make_multi(h7_image_t *img)
{
    static uint8_t a[70000], b[33], c[4096];
    fill_random(a, sizeof(a), 61);
    fill_random(b, sizeof(b), 62);
    fill_random(c, sizeof(c), 63);
    h7_image_init(img);
    assert_int_equal(h7_image_add(img, 0, 0x0801FFF0, a, sizeof(a), NULL), 0); /* crosses 64K */
    assert_int_equal(h7_image_add(img, 0, 0x08100003, b, sizeof(b), NULL), 0);
    assert_int_equal(h7_image_add(img, 0, 0x08180000, c, sizeof(c), NULL), 0);
}

static void expect_same(const h7_image_t *x, const h7_image_t *y)
{
    assert_int_equal(x->count, y->count);
    for (size_t i = 0; i < x->count; i++) {
        assert_int_equal(x->seg[i].alt, y->seg[i].alt);
        assert_int_equal(x->seg[i].addr, y->seg[i].addr);
        assert_int_equal(x->seg[i].len, y->seg[i].len);
        assert_memory_equal(x->seg[i].data, y->seg[i].data, x->seg[i].len);
    }
}

static void test_ihex_writer_round_trip(void **state)
{
    (void)state;
    h7_image_t img, back;
    make_multi(&img);
    img.has_start = true;
    img.start = 0x08020199;
    h7_image_error_t err;
    assert_int_equal(h7_image_save(&img, path_of("rt.hex"), H7_FMT_IHEX, NULL, &err), 0);
    load_ok(&back, path_of("rt.hex"), NULL);
    expect_same(&img, &back);
    assert_true(back.has_start);
    assert_int_equal(back.start, 0x08020199);
    h7_image_free(&back);

    /* objcopy reads our HEX too: converted by it to S-records, same image. */
    if (tool_found(H7_OBJCOPY)) {
        assert_int_equal(
            run_cmd("%s -I ihex -O srec %s %s", H7_OBJCOPY, path_of("rt.hex"), path_of("rt.srec")),
            0);
        load_ok(&back, path_of("rt.srec"), NULL);
        expect_same(&img, &back);
        h7_image_free(&back);
    }
    h7_image_free(&img);
}

static void test_dfuse_writer_round_trip(void **state)
{
    (void)state;
    h7_image_t img, back;
    make_multi(&img);
    uint8_t ob[128];
    fill_random(ob, sizeof(ob), 64);
    assert_int_equal(h7_image_add(&img, 1, 0x5200201C, ob, sizeof(ob), NULL), 0);
    h7_write_opts_t wo = {.id_vendor = 0x0483,
                          .id_product = 0xDF11,
                          .bcd_device = 0x2200,
                          .target_name = "Internal Flash"};
    h7_image_error_t err;
    assert_int_equal(h7_image_save(&img, path_of("rt.dfu"), H7_FMT_DFUSE, &wo, &err), 0);

    load_ok(&back, path_of("rt.dfu"), NULL);
    assert_int_equal(back.format, H7_FMT_DFUSE);
    expect_same(&img, &back);
    assert_true(back.has_suffix);
    assert_int_equal(back.id_vendor, 0x0483);
    assert_int_equal(back.id_product, 0xDF11);
    assert_int_equal(back.bcd_device, 0x2200);
    assert_int_equal(back.bcd_dfu, 0x011A);
    assert_int_equal(back.target_count, 2);
    assert_int_equal(back.targets[0].alt, 0);
    assert_int_equal(back.targets[1].alt, 1);
    assert_string_equal(back.targets[0].name, "Internal Flash");
    h7_image_free(&back);
    h7_image_free(&img);

    if (!tool_found(H7_DFU_SUFFIX)) {
        skip();
    }
    /* dfu-util's own checker accepts the suffix and its CRC ... */
    assert_int_equal(run_cmd("%s -c %s", H7_DFU_SUFFIX, path_of("rt.dfu")), 0);
    /* ... and, to show the check has teeth, refuses it after one flipped byte. */
    FILE *f = fopen(path_of("rt.dfu"), "r+b");
    assert_non_null(f);
    fseek(f, 300, SEEK_SET);
    int c = fgetc(f);
    fseek(f, 300, SEEK_SET);
    fputc(c ^ 0x01, f);
    fclose(f);
    assert_int_not_equal(run_cmd("%s -c %s", H7_DFU_SUFFIX, path_of("rt.dfu")), 0);
    assert_int_equal(h7_image_load_file(&back, path_of("rt.dfu"), NULL, &err), -1);
}

static void test_plain_dfu_from_dfu_suffix(void **state)
{
    (void)state;
    if (!tool_found(H7_DFU_SUFFIX)) {
        skip();
    }
    uint8_t data[4000];
    fill_random(data, sizeof(data), 71);
    assert_int_equal(write_bytes(path_of("plain.dfu"), data, sizeof(data)), 0);
    assert_int_equal(
        run_cmd("%s -v 0483 -p df11 -d 0200 -a %s", H7_DFU_SUFFIX, path_of("plain.dfu")), 0);
    h7_image_t img;
    h7_image_error_t err;
    assert_int_equal(h7_image_load_file(&img, path_of("plain.dfu"), NULL, &err), -1);
    assert_int_equal(err.code, H7_IMG_E_NEED_BASE);
    h7_load_opts_t o = {.has_base = true, .base = 0x08020000};
    load_ok(&img, path_of("plain.dfu"), &o);
    assert_int_equal(img.format, H7_FMT_DFU);
    expect_one_segment(&img, 0x08020000, data, sizeof(data));
    assert_true(img.has_suffix);
    assert_int_equal(img.id_vendor, 0x0483);
    assert_int_equal(img.id_product, 0xDF11);
    assert_int_equal(img.bcd_device, 0x0200);
    h7_image_free(&img);
}

static void test_encode_refusals(void **state)
{
    (void)state;
    h7_image_t img;
    h7_image_init(&img);
    uint8_t x[4] = {1, 2, 3, 4};
    assert_int_equal(h7_image_add(&img, 0, 0x08000000, x, 4, NULL), 0);
    assert_int_equal(h7_image_add(&img, 1, 0x08000000, x, 4, NULL), 0); /* other alt: ok */
    uint8_t *out;
    size_t len;
    h7_image_error_t err;
    assert_int_equal(h7_image_encode(&img, H7_FMT_IHEX, NULL, &out, &len, &err), -1);
    assert_int_equal(err.code, H7_IMG_E_UNSUPPORTED);
    assert_int_equal(h7_image_encode(&img, H7_FMT_ELF, NULL, &out, &len, &err), -1);
    assert_int_equal(h7_image_encode(&img, H7_FMT_DFUSE, NULL, &out, &len, &err), 0);
    free(out);
    h7_image_free(&img);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32_known_values),
        cmocka_unit_test(test_image_helpers),
        cmocka_unit_test(test_detect),
        cmocka_unit_test(test_bin_needs_base),
        cmocka_unit_test(test_ihex_from_objcopy),
        cmocka_unit_test(test_srec_from_objcopy),
        cmocka_unit_test(test_srec_header_and_count),
        cmocka_unit_test(test_elf_from_objcopy_and_ld),
        cmocka_unit_test(test_elf_handmade),
        cmocka_unit_test(test_ihex_segments_wrap_crlf),
        cmocka_unit_test(test_ihex_writer_round_trip),
        cmocka_unit_test(test_dfuse_writer_round_trip),
        cmocka_unit_test(test_plain_dfu_from_dfu_suffix),
        cmocka_unit_test(test_encode_refusals),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
