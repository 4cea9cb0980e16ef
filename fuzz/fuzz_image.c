/*
 * Fuzz target: the image loaders of host/image. Built once per format (the
 * FUZZ_IMAGE_FORMAT compile definition: H7_FMT_AUTO, H7_FMT_BIN, ...) so each
 * loader gets a fuzzer and a corpus of its own; the input is the file.
 *
 * AUTO loads the input under several file names (extension hints) and with
 * and without a base address; BIN and DFU (which need a base) load it at a
 * normal and at a near-4-GiB base.
 *
 * Invariants (abort on violation):
 *   - a failed load leaves the image empty and a non-empty, terminated
 *     message with an error code;
 *   - a loaded image has segments sorted by (alt, addr), non-empty, never
 *     overlapping, never past 0xFFFFFFFF, terminated strings, the format it
 *     was asked for;
 *   - writing it as Intel HEX (one alt setting) and as DfuSe and loading the
 *     result gives the same bytes at the same addresses;
 *   - no ASan / UBSan finding.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "h7_image.h"

#ifndef FUZZ_IMAGE_FORMAT
#define FUZZ_IMAGE_FORMAT H7_FMT_AUTO
#endif

/* Round trips only for images of reasonable size (speed). */
#define ROUNDTRIP_MAX (1u << 20)

static bool terminated(const char *s, size_t cap)
{
    return memchr(s, '\0', cap) != NULL;
}

static void check_failed(const h7_image_t *img, const h7_image_error_t *err)
{
    FUZZ_CHECK(img->count == 0 && img->seg == NULL);
    FUZZ_CHECK(img->target_count == 0 && img->targets == NULL);
    FUZZ_CHECK(err->code != H7_IMG_OK);
    FUZZ_CHECK(terminated(err->message, sizeof err->message));
    FUZZ_CHECK(err->message[0] != '\0');
    FUZZ_CHECK(terminated(err->file, sizeof err->file));
    FUZZ_CHECK(h7_image_errc_name(err->code) != NULL);
}

static void check_loaded(const h7_image_t *img, h7_image_format_t asked)
{
    FUZZ_CHECK(img->count > 0 && img->seg != NULL);
    if (asked != H7_FMT_AUTO) {
        FUZZ_CHECK(img->format == asked);
    } else {
        FUZZ_CHECK(img->format != H7_FMT_AUTO);
    }
    uint64_t total = 0;
    for (size_t i = 0; i < img->count; i++) {
        const h7_segment_t *s = &img->seg[i];
        FUZZ_CHECK(s->len > 0 && s->data != NULL);
        FUZZ_CHECK((uint64_t)s->addr + s->len <= 0x100000000ull);
        if (i > 0) {
            const h7_segment_t *p = &img->seg[i - 1];
            FUZZ_CHECK(p->alt < s->alt ||
                       (p->alt == s->alt && (uint64_t)p->addr + p->len <= s->addr));
        }
        total += s->len;
    }
    FUZZ_CHECK(h7_image_total_size(img) == total);
    FUZZ_CHECK(h7_image_min_addr(img) <= h7_image_max_addr(img));
    (void)h7_image_crc32(img); /* reads every byte */
    FUZZ_CHECK(terminated(img->header, sizeof img->header));
    FUZZ_CHECK(img->target_count == 0 || img->targets != NULL);
    for (size_t i = 0; i < img->target_count; i++) {
        FUZZ_CHECK(terminated(img->targets[i].name, sizeof img->targets[i].name));
    }
}

/* Walks an image byte by byte in (alt, addr) order. */
typedef struct cursor {
    const h7_image_t *img;
    size_t seg;
    uint32_t off;
} cursor_t;

static bool cursor_next(cursor_t *c, uint8_t *alt, uint32_t *addr, uint8_t *byte)
{
    if (c->seg >= c->img->count) {
        return false;
    }
    const h7_segment_t *s = &c->img->seg[c->seg];
    *alt = s->alt;
    *addr = s->addr + c->off;
    *byte = s->data[c->off];
    if (++c->off == s->len) {
        c->seg++;
        c->off = 0;
    }
    return true;
}

/* Same bytes at the same (alt, address), however they are cut in segments. */
static void check_same(const h7_image_t *a, const h7_image_t *b, bool ignore_alt)
{
    cursor_t ca = {a, 0, 0}, cb = {b, 0, 0};
    for (;;) {
        uint8_t alt_a, alt_b, va, vb;
        uint32_t ad_a, ad_b;
        bool more_a = cursor_next(&ca, &alt_a, &ad_a, &va);
        bool more_b = cursor_next(&cb, &alt_b, &ad_b, &vb);
        FUZZ_CHECK(more_a == more_b);
        if (!more_a) {
            return;
        }
        FUZZ_CHECK(ad_a == ad_b && va == vb);
        FUZZ_CHECK(ignore_alt || alt_a == alt_b);
    }
}

static void roundtrip(const h7_image_t *img, h7_image_format_t fmt)
{
    uint8_t *out = NULL;
    size_t out_len = 0;
    h7_image_error_t err;
    h7_write_opts_t wo = {.id_vendor = 0x0483u, .id_product = 0xdf11u, .bcd_device = 0xffffu};
    if (h7_image_encode(img, fmt, &wo, &out, &out_len, &err) != 0) {
        FUZZ_CHECK(out == NULL);
        /* Intel HEX has one address space; nothing else may fail here. */
        FUZZ_CHECK(fmt == H7_FMT_IHEX && err.code == H7_IMG_E_UNSUPPORTED);
        for (size_t i = 1; i < img->count; i++) {
            if (img->seg[i].alt != img->seg[0].alt) {
                return;
            }
        }
        FUZZ_CHECK(img->seg[0].alt != 0);
        return;
    }
    h7_image_t back;
    h7_load_opts_t lo = {.format = fmt};
    int rc = h7_image_load_mem(&back, out, out_len, "roundtrip", &lo, &err);
    if (rc != 0) {
        fprintf(stderr, "round trip through %s failed: %s\n", h7_image_format_name(fmt),
                err.message);
    }
    FUZZ_CHECK(rc == 0);
    check_same(img, &back, fmt == H7_FMT_IHEX);
    h7_image_free(&back);
    free(out);
}

static void load_one(const uint8_t *data, size_t size, const char *name, const h7_load_opts_t *opts,
                     bool do_roundtrip)
{
    h7_image_t img;
    h7_image_error_t err;
    if (h7_image_load_mem(&img, data, size, name, opts, &err) != 0) {
        check_failed(&img, &err);
        return;
    }
    check_loaded(&img, opts != NULL ? opts->format : H7_FMT_AUTO);
    if (do_roundtrip && h7_image_total_size(&img) <= ROUNDTRIP_MAX) {
        roundtrip(&img, H7_FMT_IHEX);
        roundtrip(&img, H7_FMT_DFUSE);
    }
    h7_image_free(&img);
}

/* DfuSe and plain DFU files end in a suffix whose CRC covers the whole file:
 * a mutated file almost never has a valid one, so the loader would stop at the
 * CRC. Load a copy with the CRC made right as well, so the body parsers get
 * fuzzed too (DFU 1.1 Table B.1: dwCRC is the last 4 bytes). */
static void load_crc_fixed(const uint8_t *data, size_t size, const h7_load_opts_t *opts)
{
    if (size < 16) {
        return;
    }
    uint8_t *copy = malloc(size);
    FUZZ_CHECK(copy != NULL);
    memcpy(copy, data, size);
    uint32_t crc = ~h7_crc32(0, copy, size - 4);
    for (unsigned i = 0; i < 4; i++) {
        copy[size - 4 + i] = (uint8_t)(crc >> (8 * i));
    }
    load_one(copy, size, "fixed.dfu", opts, true);
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const h7_image_format_t fmt = FUZZ_IMAGE_FORMAT;
    if (fmt == H7_FMT_AUTO) {
        load_crc_fixed(data, size, NULL);
        static const char *const names[] = {NULL, "fw.hex", "fw.s19", "fw.elf", "fw.dfu", "fw.bin"};
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
            load_one(data, size, names[i], NULL, i == 0);
        }
        h7_load_opts_t based = {.format = H7_FMT_AUTO, .has_base = true, .base = 0x08020000u};
        load_one(data, size, "fw", &based, false);
        (void)h7_image_detect(data, size, "x.");
        return 0;
    }
    h7_load_opts_t opts = {.format = fmt};
    load_one(data, size, "fw", &opts, true);
    if (fmt == H7_FMT_DFUSE || fmt == H7_FMT_DFU) {
        load_crc_fixed(data, size, &opts);
    }
    if (fmt == H7_FMT_BIN || fmt == H7_FMT_DFU) {
        opts.has_base = true;
        opts.base = 0x08020000u;
        load_one(data, size, "fw", &opts, true);
        opts.base = 0xffffffffu - (uint32_t)(size / 2u); /* runs past 4 GiB for most */
        load_one(data, size, "fw", &opts, false);
    }
    return 0;
}
