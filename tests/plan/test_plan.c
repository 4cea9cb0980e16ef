/*
 * DfuSe layout strings and the planner: which sectors get erased, how write
 * blocks are aligned and padded, and the refusals (outside the memory, on a
 * read-only sector, too big) that happen before anything reaches a device.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h7_layout.h"
#include "h7_plan.h"

#define H743 "@Internal Flash  /0x081E0000/01*128Kg/0x08020000/14*128Kg/0x08000000/01*128Ka"
#define KiB  1024u

static void parse_ok(const char *s, h7_layout_t *l)
{
    char err[256];
    if (h7_layout_parse(s, l, err, sizeof(err)) != 0) {
        fail_msg("%s", err);
    }
}

static void fill(uint8_t *b, size_t n, uint32_t seed)
{
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        b[i] = (uint8_t)(seed >> 16);
    }
}

/* ---- layout parser ---------------------------------------------------------- */

static void test_layout_h743(void **state)
{
    (void)state;
    h7_layout_t l;
    parse_ok(H743, &l);
    assert_string_equal(l.name, "Internal Flash");
    assert_int_equal(l.ngroups, 3);
    /* Zones from the highest address down: the record area, the slot, the
     * bootloader's sector. */
    assert_int_equal(l.group[0].addr, 0x081E0000);
    assert_int_equal(l.group[0].count, 1);
    assert_int_equal(l.group[0].attr, H7_MEM_READ | H7_MEM_ERASE | H7_MEM_WRITE);
    assert_int_equal(l.group[1].addr, 0x08020000);
    assert_int_equal(l.group[1].count, 14);
    assert_int_equal(l.group[1].attr, H7_MEM_READ | H7_MEM_ERASE | H7_MEM_WRITE);
    assert_int_equal(l.group[2].addr, 0x08000000);
    assert_int_equal(l.group[2].count, 1);
    assert_int_equal(l.group[2].size, 128 * KiB);
    assert_int_equal(l.group[2].attr, H7_MEM_READ);
    assert_int_equal(h7_layout_size(&l, 0), 2048 * KiB);
    assert_int_equal(h7_layout_size(&l, H7_MEM_WRITE), 15 * 128 * KiB);

    h7_sector_t s;
    assert_true(h7_layout_find(&l, 0x08100000, &s)); /* bank 2, sector 8 overall */
    assert_int_equal(s.index, 8);
    assert_int_equal(s.addr, 0x08100000);
    assert_true(h7_layout_find(&l, 0x081FFFFF, &s));
    assert_int_equal(s.index, 15);
    assert_false(h7_layout_find(&l, 0x08200000, &s));
    assert_false(h7_layout_find(&l, 0x07FFFFFF, &s));
    /* Sector numbers count in address order, whatever the zone order. */
    assert_true(h7_layout_find(&l, 0x08000000, &s));
    assert_int_equal(s.index, 0);
    assert_int_equal(s.attr, H7_MEM_READ);
    assert_true(h7_layout_find(&l, 0x08020000, &s));
    assert_int_equal(s.index, 1);
    assert_true(h7_layout_find(&l, 0x081E0000, &s));
    assert_int_equal(s.index, 15);
    assert_int_equal(s.addr, 0x081E0000);
}

static void test_layout_st_strings(void **state)
{
    (void)state;
    h7_layout_t l;
    h7_sector_t s;
    /* ST's ROM bootloader on the H743 (AN2606), flash and option bytes. */
    parse_ok("@Internal Flash   /0x08000000/16*128Kg", &l);
    assert_int_equal(l.ngroups, 1);
    assert_int_equal(l.group[0].count, 16);
    parse_ok("@Option Bytes  /0x5200201C/01*128 e", &l);
    assert_string_equal(l.name, "Option Bytes");
    assert_int_equal(l.group[0].addr, 0x5200201C);
    assert_int_equal(l.group[0].size, 128); /* ' ' unit: bytes */
    assert_int_equal(l.group[0].attr, H7_MEM_READ | H7_MEM_WRITE);
    /* Mixed sector sizes (an F4), addresses follow each other. */
    parse_ok("@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg", &l);
    assert_int_equal(l.ngroups, 3);
    assert_int_equal(l.group[1].addr, 0x08010000);
    assert_int_equal(l.group[2].addr, 0x08020000);
    assert_true(h7_layout_find(&l, 0x0801FFFF, &s));
    assert_int_equal(s.index, 4);
    assert_int_equal(s.size, 64 * KiB);
    assert_true(h7_layout_find(&l, 0x080E0000, &s));
    assert_int_equal(s.index, 11);
    /* Several regions in one string; the gap between them is no memory. */
    parse_ok("@Mixed /0x08000000/2*1Ka/0x08100000/4*2Mg,3*512Bd", &l);
    assert_int_equal(l.ngroups, 3);
    assert_int_equal(l.group[1].addr, 0x08100000);
    assert_int_equal(l.group[1].size, 2 * 1024 * KiB);
    assert_int_equal(l.group[2].addr, 0x08900000);
    assert_int_equal(l.group[2].size, 512);
    assert_int_equal(l.group[2].attr, H7_MEM_WRITE);
    assert_false(h7_layout_find(&l, 0x08000800, &s));
    assert_true(h7_layout_find(&l, 0x089003FF, &s));
    assert_int_equal(s.index, 2 + 4 + 1);
    char buf[64];
    assert_non_null(strstr(h7_mem_attr_str(7, buf, sizeof(buf)), "writable"));
    assert_non_null(strstr(h7_mem_attr_str(1, buf, sizeof(buf)), "'a'"));
}

static void test_layout_errors(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        const char *col;
        const char *what;
    } bad[] = {
        {"Internal Flash/0x08000000/16*128Kg", "column 1:", "'@'"},
        {"@Internal Flash", "column 2:", "'/'"},
        {"@X/08000000/16*128Kg", "column 4:", "0x address"},
        {"@X/0x08000000/16x128Kg", "column 17:", "'*'"},
        {"@X/0x08000000/16*128Kz", "column 22:", "'a'..'g'"},
        {"@X/0x08000000/*128Kg", "column 15:", "sector count"},
        {"@X/0xFFFF0000/2*64Kg", "column 15:", "0xFFFFFFFF"},
        {"@X/0x08000000/16*128Kg junk", "column 24:", "unexpected"},
        {"@X/0x08000000 16*128Kg", "column 15:", "'/' after the address"},
        /* found by fuzz_plan: regions that overlap, and a run past 4 GiB */
        {"@X/0x08000000/4*1Kg/0x08000800/2*1Ka", "column 32:", "overlap"},
        {"@X/0x08000000/4*1Kg,2*1Ka/0x08000400/1*1Kg", "column 38:", "overlap"},
        {"@X/0xFFFFF000/4*1Kg,1*1Kg", "column 21:", "0xFFFFFFFF"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        h7_layout_t l;
        char err[256];
        if (h7_layout_parse(bad[i].s, &l, err, sizeof(err)) == 0) {
            fail_msg("\"%s\" parsed, should fail", bad[i].s);
        }
        print_message("%s\n", err);
        if (!strstr(err, bad[i].col) || !strstr(err, bad[i].what)) {
            fail_msg("\"%s\": message \"%s\" lacks \"%s\" / \"%s\"", bad[i].s, err, bad[i].col,
                     bad[i].what);
        }
    }
}

/* ---- planner ---------------------------------------------------------------- */

static void test_plan_erases_only_touched_sectors(void **state)
{
    (void)state;
    h7_layout_t l;
    parse_ok(H743, &l);
    static uint8_t a[100 * KiB], b[40];
    fill(a, sizeof(a), 1);
    fill(b, sizeof(b), 2);
    h7_image_t img;
    h7_image_init(&img);
    assert_int_equal(h7_image_add(&img, 0, 0x08020000, a, sizeof(a), NULL), 0);
    assert_int_equal(h7_image_add(&img, 0, 0x08060010, b, sizeof(b), NULL), 0);
    h7_plan_opts_t o = h7_plan_default_opts();
    h7_plan_t p;
    h7_plan_refusal_t why;
    if (h7_plan_make(&img, &l, &o, &p, &why)) {
        fail_msg("%s", why.message);
    }
    assert_int_equal(p.n_erase, 2);
    assert_int_equal(p.erase[0].index, 1);
    assert_int_equal(p.erase[0].addr, 0x08020000);
    assert_int_equal(p.erase[1].index, 3);
    assert_int_equal(p.erase[1].addr, 0x08060000);
    assert_int_equal(p.erase_bytes, 2 * 128 * KiB);

    assert_int_equal(p.n_block, 2);
    assert_int_equal(p.block[0].addr, 0x08020000);
    assert_int_equal(p.block[0].len, sizeof(a));
    assert_memory_equal(p.block[0].data, a, sizeof(a));
    /* 0x08060010 + 40 bytes -> the words 0x08060000 .. 0x0806003F, padded with 0xFF. */
    assert_int_equal(p.block[1].addr, 0x08060000);
    assert_int_equal(p.block[1].len, 64);
    for (int i = 0; i < 16; i++) {
        assert_int_equal(p.block[1].data[i], 0xFF);
    }
    assert_memory_equal(p.block[1].data + 16, b, 40);
    for (int i = 56; i < 64; i++) {
        assert_int_equal(p.block[1].data[i], 0xFF);
    }
    assert_int_equal(p.write_bytes, sizeof(a) + 64);
    h7_plan_free(&p);
    h7_image_free(&img);
}

static void test_plan_joins_shared_words(void **state)
{
    (void)state;
    h7_layout_t l;
    parse_ok(H743, &l);
    const uint8_t x[3] = {1, 2, 3}, y[4] = {4, 5, 6, 7};
    uint8_t z[32];
    fill(z, sizeof(z), 3);
    h7_image_t img;
    h7_image_init(&img);
    assert_int_equal(h7_image_add(&img, 0, 0x08020005, x, 3, NULL), 0);
    assert_int_equal(h7_image_add(&img, 0, 0x08020010, y, 4, NULL), 0);  /* same word */
    assert_int_equal(h7_image_add(&img, 0, 0x08020020, z, 32, NULL), 0); /* next word */
    assert_int_equal(h7_image_add(&img, 0, 0x08020100, x, 1, NULL), 0);  /* far away */
    h7_plan_opts_t o = h7_plan_default_opts();
    o.pad = 0xA5; /* a visible pad value */
    h7_plan_t p;
    h7_plan_refusal_t why;
    assert_int_equal(h7_plan_make(&img, &l, &o, &p, &why), 0);
    assert_int_equal(p.n_erase, 1);
    assert_int_equal(p.n_block, 2);
    assert_int_equal(p.block[0].addr, 0x08020000);
    assert_int_equal(p.block[0].len, 64);
    uint8_t want[64];
    memset(want, 0xA5, sizeof(want));
    memcpy(want + 5, x, 3);
    memcpy(want + 16, y, 4);
    memcpy(want + 32, z, 32);
    assert_memory_equal(p.block[0].data, want, 64);
    assert_int_equal(p.block[1].addr, 0x08020100);
    assert_int_equal(p.block[1].len, 32);
    h7_plan_free(&p);

    /* Program unit 1 (no alignment): blocks are the segments as they are. */
    o.program_unit = 1;
    assert_int_equal(h7_plan_make(&img, &l, &o, &p, &why), 0);
    assert_int_equal(p.n_block, 4);
    assert_int_equal(p.block[0].addr, 0x08020005);
    assert_int_equal(p.block[0].len, 3);
    assert_int_equal(p.block[1].addr, 0x08020010);
    assert_int_equal(p.block[1].len, 4);
    h7_plan_free(&p);
    h7_image_free(&img);
}

/* One refusal case: data at addr (len bytes), expected reason and address. */
static void expect_refusal(const char *layout, uint32_t addr, size_t len, h7_plan_reason_t reason,
                           uint32_t bad_addr, const char *needle)
{
    h7_layout_t l;
    parse_ok(layout, &l);
    uint8_t *d = malloc(len);
    assert_non_null(d);
    fill(d, len, 4);
    h7_image_t img;
    h7_image_init(&img);
    assert_int_equal(h7_image_add(&img, 0, addr, d, len, NULL), 0);
    free(d);
    h7_plan_t p;
    h7_plan_refusal_t why;
    h7_plan_opts_t o = h7_plan_default_opts();
    int rc = h7_plan_make(&img, &l, &o, &p, &why);
    h7_image_free(&img);
    if (rc == 0) {
        h7_plan_free(&p);
        fail_msg("0x%08x + %zu accepted, should be refused", addr, len);
    }
    print_message("%s\n", why.message);
    assert_int_equal(why.reason, reason);
    assert_int_equal(why.addr, bad_addr);
    if (!strstr(why.message, needle)) {
        fail_msg("message \"%s\" lacks \"%s\"", why.message, needle);
    }
    /* Refused means nothing to do: no erase, no block. */
    assert_int_equal(p.n_erase, 0);
    assert_int_equal(p.n_block, 0);
    assert_null(p.erase);
}

static void test_plan_refusals(void **state)
{
    (void)state;
    /* Past the end of flash, wholly and partly. */
    expect_refusal(H743, 0x08200000, 16, H7_PLAN_OUTSIDE, 0x08200000, "0x08200000");
    expect_refusal(H743, 0x081FFFF0, 32, H7_PLAN_OUTSIDE, 0x08200000, "outside");
    expect_refusal(H743, 0x07FFFFF0, 64, H7_PLAN_OUTSIDE, 0x07FFFFF0, "Internal Flash");
    /* Over the bootloader's sector ('a': read only), also when only the tail is. */
    expect_refusal(H743, 0x08000000, 1024, H7_PLAN_NOT_WRITABLE, 0x08000000, "sector 0");
    expect_refusal(H743, 0x0801FFE0, 64, H7_PLAN_NOT_WRITABLE, 0x0801FFE0, "not writable");
    /* Data fine, but the padding to a 32-byte word reaches a read-only sector. */
    expect_refusal("@X/0x08000000/01*16 a,01*48 g", 0x08000010, 16, H7_PLAN_NOT_WRITABLE,
                   0x08000000, "padding");
    /* Larger than all writable sectors: 15 x 128 KiB + 1 byte from 0x08020000. */
    expect_refusal(H743, 0x08020000, 15 * 128 * KiB + 1, H7_PLAN_TOO_BIG, 0x08200000,
                   "does not fit");
}

static void test_plan_option_bytes_and_alts(void **state)
{
    (void)state;
    h7_layout_t flash, ob;
    parse_ok(H743, &flash);
    parse_ok("@Option Bytes  /0x5200201C/01*128 e", &ob);
    uint8_t d[128];
    fill(d, sizeof(d), 5);
    h7_image_t img;
    h7_image_init(&img);
    assert_int_equal(h7_image_add(&img, 0, 0x08020000, d, 64, NULL), 0);
    assert_int_equal(h7_image_add(&img, 1, 0x5200201C, d, 128, NULL), 0);
    h7_plan_opts_t o = {.program_unit = 4, .pad = 0xFF, .alt = 1};
    h7_plan_t p;
    h7_plan_refusal_t why;
    if (h7_plan_make(&img, &ob, &o, &p, &why)) {
        fail_msg("%s", why.message);
    }
    assert_int_equal(p.n_erase, 0); /* 'e': writable, not erasable */
    assert_int_equal(p.n_block, 1);
    assert_int_equal(p.block[0].addr, 0x5200201C);
    assert_memory_equal(p.block[0].data, d, 128);
    h7_plan_free(&p);

    o.alt = 0;
    o.program_unit = 32;
    assert_int_equal(h7_plan_make(&img, &flash, &o, &p, &why), 0);
    assert_int_equal(p.n_erase, 1);
    assert_int_equal(p.n_block, 1);
    h7_plan_free(&p);

    /* All alts against the flash layout: the option bytes are outside it. */
    o.alt = -1;
    assert_int_equal(h7_plan_make(&img, &flash, &o, &p, &why), -1);
    assert_int_equal(why.reason, H7_PLAN_OUTSIDE);
    assert_int_equal(why.addr, 0x5200201C);

    o.alt = 2;
    assert_int_equal(h7_plan_make(&img, &flash, &o, &p, &why), -1);
    assert_int_equal(why.reason, H7_PLAN_EMPTY);
    h7_image_free(&img);
}

/* Random images: replaying the blocks onto an erased flash gives exactly the
 * image; blocks are aligned and disjoint; erased = touched sectors. */
static void test_plan_random_images(void **state)
{
    (void)state;
    h7_layout_t l;
    parse_ok(H743, &l);
    const uint32_t base = 0x08020000, span = 15 * 128 * KiB;
    uint8_t *flash = malloc(span), *want = malloc(span), *chunk = malloc(8192);
    assert_non_null(flash);
    assert_non_null(want);
    assert_non_null(chunk);
    uint32_t seed = 12345;
    for (int round = 0; round < 20; round++) {
        h7_image_t img;
        h7_image_init(&img);
        memset(want, 0xFF, span);
        bool touched[16] = {false};
        int nseg = 1 + round % 7;
        for (int k = 0; k < nseg; k++) {
            seed = seed * 1103515245u + 12345u;
            uint32_t off = (seed >> 3) % (span - 8192);
            seed = seed * 1103515245u + 12345u;
            uint32_t len = 1 + (seed >> 5) % 8192;
            fill(chunk, len, seed);
            if (h7_image_add(&img, 0, base + off, chunk, len, NULL) != 0) {
                continue; /* overlapped an earlier one: skip it */
            }
            memcpy(want + off, chunk, len);
            for (uint32_t a = off; a < off + len; a += 1) {
                touched[1 + a / (128 * KiB)] = true;
            }
        }
        h7_plan_opts_t o = h7_plan_default_opts();
        h7_plan_t p;
        h7_plan_refusal_t why;
        if (h7_plan_make(&img, &l, &o, &p, &why)) {
            fail_msg("round %d: %s", round, why.message);
        }
        memset(flash, 0xFF, span);
        uint64_t prev_end = 0;
        for (size_t i = 0; i < p.n_block; i++) {
            const h7_plan_block_t *b = &p.block[i];
            assert_int_equal(b->addr % 32, 0);
            assert_int_equal(b->len % 32, 0);
            assert_true(b->addr >= prev_end); /* ascending, no shared word */
            prev_end = (uint64_t)b->addr + b->len;
            memcpy(flash + (b->addr - base), b->data, b->len);
        }
        assert_memory_equal(flash, want, span);
        size_t n_touched = 0;
        for (int s = 0; s < 16; s++) {
            n_touched += touched[s];
        }
        assert_int_equal(p.n_erase, n_touched);
        for (size_t i = 0; i < p.n_erase; i++) {
            assert_true(touched[p.erase[i].index]);
        }
        h7_plan_free(&p);
        h7_image_free(&img);
    }
    free(flash);
    free(want);
    free(chunk);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout_h743),
        cmocka_unit_test(test_layout_st_strings),
        cmocka_unit_test(test_layout_errors),
        cmocka_unit_test(test_plan_erases_only_touched_sectors),
        cmocka_unit_test(test_plan_joins_shared_words),
        cmocka_unit_test(test_plan_refusals),
        cmocka_unit_test(test_plan_option_bytes_and_alts),
        cmocka_unit_test(test_plan_random_images),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
