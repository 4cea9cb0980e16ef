/*
 * Motorola S-record loader. A record is "S<type><count><address><data><checksum>";
 * count covers address, data and checksum; the checksum is the ones' complement
 * of the low byte of the sum of count, address and data bytes.
 *   S0 header, S1/S2/S3 data (16/24/32-bit address), S5/S6 record count,
 *   S7/S8/S9 start address and end of file (32/24/16-bit).
 */
#include "image_internal.h"

#include <stdio.h>

#include <string.h>

int img_load_srec(h7_image_t *img, const uint8_t *buf, size_t len, const char *name,
                  h7_image_error_t *err)
{
    static const int addr_bytes[10] = {2, 2, 3, 4, 0, 2, 3, 4, 3, 2};
    img_builder_t b;
    img_builder_init(&b);
    size_t pos = 0;
    const uint8_t *line;
    size_t ll;
    unsigned lineno = 0;
    bool ended = false;
    unsigned long data_records = 0;
    uint8_t rec[1 + 255];
    int rc = -1;

    while (img_next_line(buf, len, &pos, &line, &ll)) {
        lineno++;
        while (ll > 0 && (line[ll - 1] == ' ' || line[ll - 1] == '\t')) {
            ll--;
        }
        if (ll == 0 || (ll == 1 && line[0] == 0x1A)) {
            continue;
        }
        if (ended) {
            img_fail(err, H7_IMG_E_AFTER_EOF, name, lineno, -1,
                     "data after the termination (S7/S8/S9) record");
            goto out;
        }
        if (line[0] != 'S' || ll < 2 || line[1] < '0' || line[1] > '9') {
            img_fail(err, H7_IMG_E_SYNTAX, name, lineno, -1,
                     "a record must start with 'S' and a type digit");
            goto out;
        }
        int type = line[1] - '0';
        if (type == 4) {
            img_fail(err, H7_IMG_E_RECORD, name, lineno, -1, "S4 is a reserved record type");
            goto out;
        }
        for (size_t i = 2; i < ll; i++) {
            if (img_hexval(line[i]) < 0) {
                img_fail(err, H7_IMG_E_SYNTAX, name, lineno, -1,
                         "non-hex character '%c' (0x%02x) in column %zu",
                         line[i] >= 0x20 && line[i] < 0x7F ? line[i] : '?', line[i], i + 1);
                goto out;
            }
        }
        size_t digits = ll - 2;
        if (digits % 2 != 0) {
            img_fail(err, H7_IMG_E_SYNTAX, name, lineno, -1, "odd number of hex digits (%zu)",
                     digits);
            goto out;
        }
        size_t n = digits / 2;
        int ab = addr_bytes[type];
        if (n < (size_t)(2 + ab) || n > sizeof(rec) ||
            n != 1u + (size_t)(img_hexval(line[2]) * 16 + img_hexval(line[3]))) {
            img_fail(err, H7_IMG_E_LENGTH, name, lineno, -1,
                     "count byte says %d bytes follow, the record holds %zu (S%d needs at least "
                     "%d)",
                     n ? img_hexval(line[2]) * 16 + img_hexval(line[3]) : 0, n ? n - 1 : 0, type,
                     ab + 1);
            goto out;
        }
        unsigned sum = 0;
        for (size_t i = 0; i < n; i++) {
            rec[i] = (uint8_t)(img_hexval(line[2 + 2 * i]) * 16 + img_hexval(line[3 + 2 * i]));
            if (i + 1 < n) {
                sum += rec[i];
            }
        }
        uint8_t want = (uint8_t)~sum;
        if (rec[n - 1] != want) {
            img_fail(err, H7_IMG_E_CHECKSUM, name, lineno, -1,
                     "bad checksum 0x%02X (expected 0x%02X)", rec[n - 1], want);
            goto out;
        }
        uint32_t addr = 0;
        for (int i = 0; i < ab; i++) {
            addr = addr << 8 | rec[1 + i];
        }
        const uint8_t *data = rec + 1 + ab;
        size_t dlen = n - 2 - (size_t)ab;

        switch (type) {
        case 0: {
            size_t k = 0;
            for (size_t i = 0; i < dlen && k + 1 < sizeof(img->header); i++) {
                if (data[i] >= 0x20 && data[i] < 0x7F) {
                    img->header[k++] = (char)data[i];
                }
            }
            img->header[k] = '\0';
            break;
        }
        case 1:
        case 2:
        case 3:
            if ((uint64_t)addr + dlen > 0x100000000ull) {
                img_fail(err, H7_IMG_E_RANGE, name, lineno, -1,
                         "data at 0x%08x runs past 0xFFFFFFFF", addr);
                goto out;
            }
            if (img_builder_add(&b, 0, addr, data, (uint32_t)dlen, lineno) != 0) {
                img_fail(err, H7_IMG_E_NOMEM, name, lineno, -1, "out of memory");
                goto out;
            }
            data_records++;
            break;
        case 5:
        case 6:
            if (dlen != 0) {
                img_fail(err, H7_IMG_E_LENGTH, name, lineno, -1, "an S%d record carries no data",
                         type);
                goto out;
            }
            if (addr != (data_records & (type == 5 ? 0xFFFFu : 0xFFFFFFu))) {
                img_fail(err, H7_IMG_E_COUNT, name, lineno, -1,
                         "S%d says %u data records, the file has %lu so far", type, addr,
                         data_records);
                goto out;
            }
            break;
        default: /* 7, 8, 9 */
            if (dlen != 0) {
                img_fail(err, H7_IMG_E_LENGTH, name, lineno, -1, "an S%d record carries no data",
                         type);
                goto out;
            }
            img->has_start = true;
            img->start = addr;
            ended = true;
            break;
        }
    }
    if (!ended) {
        /* srec_cat writes none by default, and objcopy reads such files: the
         * records themselves are checked, so take the file as it is and say
         * so (a file cut between two records looks the same). */
        snprintf(img->warning, sizeof(img->warning),
                 "the file ends without a termination (S7/S8/S9) record after line %u: taken as "
                 "complete (check it is not truncated)",
                 lineno);
    }
    img_overlap_t ov;
    int f = img_builder_finish(&b, img, &ov);
    if (f < 0) {
        img_fail(err, H7_IMG_E_NOMEM, name, 0, -1, "out of memory");
        goto out;
    }
    if (f > 0) {
        img_fail(err, H7_IMG_E_OVERLAP, name, (unsigned)ov.origin_second, -1,
                 "data for 0x%08x was already given on line %ld", ov.addr, ov.origin_first);
        goto out;
    }
    rc = 0;
out:
    img_builder_free(&b);
    return rc;
}
