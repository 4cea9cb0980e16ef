/*
 * Intel HEX: loader (record types 00-05) and writer (04/00/05/01).
 * A record is ":LLAAAATT<data>CC"; the bytes from LL to CC sum to 0 mod 256.
 */
#include "image_internal.h"

#include <stdlib.h>
#include <string.h>

enum {
    IHEX_DATA = 0,
    IHEX_EOF = 1,
    IHEX_EXT_SEG = 2,   /* upper address = value << 4, offset wraps at 64 KiB */
    IHEX_START_SEG = 3, /* CS:IP */
    IHEX_EXT_LIN = 4,   /* upper address = value << 16 */
    IHEX_START_LIN = 5, /* EIP */
};

int img_load_ihex(h7_image_t *img, const uint8_t *buf, size_t len, const char *name,
                  h7_image_error_t *err)
{
    img_builder_t b;
    img_builder_init(&b);
    size_t pos = 0;
    const uint8_t *line;
    size_t ll;
    unsigned lineno = 0;
    bool eof = false, linear = false;
    uint32_t upper = 0; /* segment base (<<4) or linear base (<<16) */
    uint8_t rec[5 + 255];
    int rc = -1;

    while (img_next_line(buf, len, &pos, &line, &ll)) {
        lineno++;
        while (ll > 0 && (line[ll - 1] == ' ' || line[ll - 1] == '\t')) {
            ll--;
        }
        if (ll == 0 || (ll == 1 && line[0] == 0x1A)) { /* blank line, DOS end-of-file */
            continue;
        }
        if (eof) {
            img_fail(err, H7_IMG_E_AFTER_EOF, name, lineno, -1,
                     "data after the end-of-file (01) record");
            goto out;
        }
        if (line[0] != ':') {
            img_fail(err, H7_IMG_E_SYNTAX, name, lineno, -1,
                     "a record must start with ':' (found 0x%02x)", line[0]);
            goto out;
        }
        size_t digits = ll - 1;
        for (size_t i = 1; i < ll; i++) {
            if (img_hexval(line[i]) < 0) {
                img_fail(err, H7_IMG_E_SYNTAX, name, lineno, -1,
                         "non-hex character '%c' (0x%02x) in column %zu",
                         line[i] >= 0x20 && line[i] < 0x7F ? line[i] : '?', line[i], i + 1);
                goto out;
            }
        }
        if (digits % 2 != 0) {
            img_fail(err, H7_IMG_E_SYNTAX, name, lineno, -1, "odd number of hex digits (%zu)",
                     digits);
            goto out;
        }
        size_t n = digits / 2;
        if (n < 5) {
            img_fail(err, H7_IMG_E_LENGTH, name, lineno, -1,
                     "record too short (%zu bytes, at least 5)", n);
            goto out;
        }
        if (n > sizeof(rec) || n != 5u + (size_t)(img_hexval(line[1]) * 16 + img_hexval(line[2]))) {
            img_fail(err, H7_IMG_E_LENGTH, name, lineno, -1,
                     "length byte says %d data bytes, the record holds %zu",
                     img_hexval(line[1]) * 16 + img_hexval(line[2]), n - 5);
            goto out;
        }
        uint8_t sum = 0;
        for (size_t i = 0; i < n; i++) {
            rec[i] = (uint8_t)(img_hexval(line[1 + 2 * i]) * 16 + img_hexval(line[2 + 2 * i]));
            sum = (uint8_t)(sum + rec[i]);
        }
        if (sum != 0) {
            img_fail(err, H7_IMG_E_CHECKSUM, name, lineno, -1,
                     "bad checksum 0x%02X (expected 0x%02X)", rec[n - 1],
                     (uint8_t)(rec[n - 1] - sum));
            goto out;
        }
        uint8_t count = rec[0], type = rec[3];
        uint16_t offset = (uint16_t)(rec[1] << 8 | rec[2]);
        const uint8_t *data = rec + 4;
        static const int want_len[] = {-1, 0, 2, 4, 2, 4};
        if (type > IHEX_START_LIN) {
            img_fail(err, H7_IMG_E_RECORD, name, lineno, -1, "unknown record type 0x%02x", type);
            goto out;
        }
        if (want_len[type] >= 0 && count != want_len[type]) {
            img_fail(err, H7_IMG_E_LENGTH, name, lineno, -1,
                     "a type %02x record carries %d bytes, not %u", type, want_len[type], count);
            goto out;
        }
        switch (type) {
        case IHEX_DATA:
            if (linear) {
                uint64_t a = (uint64_t)upper + offset;
                if (a + count > 0x100000000ull) {
                    img_fail(err, H7_IMG_E_RANGE, name, lineno, -1,
                             "data at 0x%08llx runs past 0xFFFFFFFF", (unsigned long long)a);
                    goto out;
                }
                if (img_builder_add(&b, 0, (uint32_t)a, data, count, lineno) != 0) {
                    goto oom;
                }
            } else {
                /* Segment addressing: the offset wraps inside the 64 KiB segment. */
                uint32_t first = 0x10000u - offset;
                uint32_t n1 = count < first ? count : first;
                if (img_builder_add(&b, 0, upper + offset, data, n1, lineno) != 0 ||
                    img_builder_add(&b, 0, upper, data + n1, count - n1, lineno) != 0) {
                    goto oom;
                }
            }
            break;
        case IHEX_EOF:
            eof = true;
            break;
        case IHEX_EXT_SEG:
            upper = (uint32_t)(data[0] << 8 | data[1]) << 4;
            linear = false;
            break;
        case IHEX_START_SEG:
            img->has_start_seg = true;
            img->start_cs = (uint16_t)(data[0] << 8 | data[1]);
            img->start_ip = (uint16_t)(data[2] << 8 | data[3]);
            break;
        case IHEX_EXT_LIN:
            upper = (uint32_t)(data[0] << 8 | data[1]) << 16;
            linear = true;
            break;
        case IHEX_START_LIN:
            img->has_start = true;
            img->start = (uint32_t)data[0] << 24 | (uint32_t)data[1] << 16 |
                         (uint32_t)data[2] << 8 | data[3];
            break;
        }
    }
    if (!eof) {
        img_fail(err, H7_IMG_E_NO_EOF, name, lineno, -1,
                 "the file ends without an end-of-file (01) record (truncated?)");
        goto out;
    }
    img_overlap_t ov;
    int f = img_builder_finish(&b, img, &ov);
    if (f < 0) {
        goto oom;
    }
    if (f > 0) {
        img_fail(err, H7_IMG_E_OVERLAP, name, (unsigned)ov.origin_second, -1,
                 "data for 0x%08x was already given on line %ld", ov.addr, ov.origin_first);
        goto out;
    }
    rc = 0;
    goto out;
oom:
    img_fail(err, H7_IMG_E_NOMEM, name, lineno, -1, "out of memory");
out:
    img_builder_free(&b);
    return rc;
}

static void put_record(img_out_t *o, uint8_t type, uint16_t offset, const uint8_t *data, uint8_t n)
{
    uint8_t sum = (uint8_t)(n + (offset >> 8) + offset + type);
    img_out_printf(o, ":%02X%04X%02X", n, offset, type);
    for (uint8_t i = 0; i < n; i++) {
        img_out_printf(o, "%02X", data[i]);
        sum = (uint8_t)(sum + data[i]);
    }
    img_out_printf(o, "%02X\n", (uint8_t)(0x100 - sum));
}

int img_write_ihex(const h7_image_t *img, img_out_t *o)
{
    for (size_t i = 1; i < img->count; i++) {
        if (img->seg[i].alt != img->seg[0].alt) {
            return -1;
        }
    }
    int64_t upper = -1;
    for (size_t i = 0; i < img->count; i++) {
        const h7_segment_t *s = &img->seg[i];
        uint32_t done = 0;
        while (done < s->len) {
            uint32_t a = s->addr + done;
            if ((int64_t)(a >> 16) != upper) {
                upper = a >> 16;
                uint8_t ub[2] = {(uint8_t)(upper >> 8), (uint8_t)upper};
                put_record(o, IHEX_EXT_LIN, 0, ub, 2);
            }
            /* 16 bytes a line, never crossing a 64 KiB boundary. */
            uint32_t n = s->len - done;
            if (n > 16) {
                n = 16;
            }
            uint32_t to_boundary = 0x10000u - (a & 0xFFFFu);
            if (n > to_boundary) {
                n = to_boundary;
            }
            put_record(o, IHEX_DATA, (uint16_t)a, s->data + done, (uint8_t)n);
            done += n;
        }
    }
    if (img->has_start_seg) {
        uint8_t d[4] = {(uint8_t)(img->start_cs >> 8), (uint8_t)img->start_cs,
                        (uint8_t)(img->start_ip >> 8), (uint8_t)img->start_ip};
        put_record(o, IHEX_START_SEG, 0, d, 4);
    }
    if (img->has_start) {
        uint8_t d[4] = {(uint8_t)(img->start >> 24), (uint8_t)(img->start >> 16),
                        (uint8_t)(img->start >> 8), (uint8_t)img->start};
        put_record(o, IHEX_START_LIN, 0, d, 4);
    }
    put_record(o, IHEX_EOF, 0, NULL, 0);
    return 0;
}
