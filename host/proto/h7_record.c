/*
 * The commit of an h7dfu image: append its record to the append-only record
 * area (core/boot/image_header.h) after the body is written and verified.
 *
 * The area is an array of records (whole flash words each, programmed once
 * between erases); records form a prefix of it, and the bootloader takes the
 * last record slot that is not fully erased. The next free slot is found by a
 * binary search with small UPLOADs (an UPLOAD that fails, e.g. on an ECC
 * error, counts as a used slot), then the rest of the area is checked erased
 * (one device CRC, or read back). When the area is full, or the rest is not
 * erased, or the free slot cannot be programmed (a word broken by a power
 * cut), the area is erased and the record written at its start (compaction).
 */
#include <stdlib.h>
#include <string.h>

#include "h7_ops.h"

#define REC_MAX 256u

/* The operation a failure of this file is reported as (h7_error.h). */
#define RECORD_OP "append the image record"

/* The device is gone (not a refusal it reported): stop. */
static bool device_gone(const h7_dfu_client_t *dfu)
{
    return dfu->err.code == H7_E_TRANSPORT && dfu->err.xfer != H7_XFER_STALL;
}

static bool all_erased(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] != 0xFFu) {
            return false;
        }
    }
    return true;
}

/* Read the record slot at addr into buf; *used when it is not fully erased or
 * cannot be read (the device refused: ECC error). */
static int slot_read(h7_dfu_client_t *dfu, uint32_t addr, uint32_t len, uint8_t *buf, bool *used)
{
    int rc = h7_dfuse_read(dfu, addr, buf, len);
    if (rc == 0) {
        *used = !all_erased(buf, len);
        return 0;
    }
    if (device_gone(dfu)) {
        return rc;
    }
    *used = true;
    memset(buf, 0, len); /* matches no record: never taken as ours */
    return h7_dfu_recover(dfu);
}

/* Is [addr, addr + len) erased? By the device's CRC or read back; a range the
 * device cannot read is not. */
static int range_erased(h7_dfu_client_t *dfu, uint32_t addr, uint32_t len, bool crc, bool *erased)
{
    uint8_t *buf = malloc(len ? len : 1);
    if (buf == NULL) {
        h7_err_set(&dfu->err, H7_E_NOMEM, RECORD_OP, NULL);
        h7_err_at(&dfu->err, addr);
        return H7_E_NOMEM;
    }
    int rc;
    if (crc) {
        uint32_t got = 0;
        rc = h7_dfuse_crc32(dfu, addr, len, 0, &got);
        memset(buf, 0xFF, len);
        *erased = rc == 0 && got == h7_crc32c(0, buf, len);
    } else {
        rc = h7_dfuse_read(dfu, addr, buf, len);
        *erased = rc == 0 && all_erased(buf, len);
    }
    free(buf);
    if (rc != 0 && !device_gone(dfu)) {
        rc = h7_dfu_recover(dfu);
    }
    return rc;
}

int h7_record_next(h7_dfu_client_t *dfu, const h7_write_cfg_t *cfg, bool crc, uint32_t *next,
                   uint8_t *newest)
{
    const uint32_t size = cfg->record_size, n = cfg->record_area_size / size;
    uint32_t lo = 0, hi = n; /* slots below lo used, from hi on free */
    int rc = 0;
    bool used = false;
    memset(newest, 0xFF, size);
    while (rc == 0 && lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2u;
        rc = slot_read(dfu, cfg->record_area + mid * size, size, newest, &used);
        if (used) {
            lo = mid + 1u;
        } else {
            hi = mid;
        }
    }
    /* newest holds the last slot read; the one before the first free slot is
     * what the caller compares with. */
    if (rc == 0 && lo > 0) {
        rc = slot_read(dfu, cfg->record_area + (lo - 1u) * size, size, newest, &used);
    }
    bool erased = true;
    if (rc == 0 && lo < n) {
        rc = range_erased(dfu, cfg->record_area + lo * size, (n - lo) * size, crc, &erased);
    }
    if (rc == 0 && !erased) {
        /* A record after a gap: the bootloader would take that one, not ours. */
        lo = n;
        memset(newest, 0, size);
    }
    *next = lo;
    return rc;
}

/* Write the record at addr and verify it. */
static int put_record(h7_dfu_client_t *dfu, const h7_write_cfg_t *cfg, uint32_t addr, bool crc)
{
    uint8_t back[REC_MAX];
    if (cfg->progress) {
        cfg->progress(cfg->user, H7_PHASE_COMMIT, 0, cfg->record_size);
    }
    int rc = h7_dfuse_write(dfu, addr, cfg->record, cfg->record_size, NULL, NULL);
    if (rc == 0 && cfg->verify) {
        bool same = false;
        rc = h7_dfu_abort(dfu);
        if (rc == 0 && crc) {
            uint32_t got = 0;
            rc = h7_dfuse_crc32(dfu, addr, cfg->record_size, addr, &got);
            same = got == h7_crc32c(addr, cfg->record, cfg->record_size);
        } else if (rc == 0) {
            rc = h7_dfuse_read(dfu, addr, back, cfg->record_size);
            same = rc == 0 && memcmp(back, cfg->record, cfg->record_size) == 0;
        }
        if (rc == 0 && !same) {
            rc = h7_err_set(&dfu->err, H7_E_VERIFY, RECORD_OP,
                            "the record read back differs from the image's");
            h7_err_at(&dfu->err, addr);
        }
    }
    if (rc == 0 && cfg->progress) {
        cfg->progress(cfg->user, H7_PHASE_COMMIT, cfg->record_size, cfg->record_size);
    }
    return rc;
}

int h7_record_append(h7_dfu_client_t *dfu, const h7_write_cfg_t *cfg, bool crc,
                     h7_write_report_t *report)
{
    const uint32_t size = cfg->record_size;
    if (size == 0 || size > REC_MAX || size % 32u != 0 || cfg->record_area_size < size ||
        cfg->record_area % 32u != 0) {
        h7_err_set(&dfu->err, H7_E_ARG, RECORD_OP,
                   "the record and its area must be whole 32-byte flash words");
        h7_err_at(&dfu->err, cfg->record_area);
        return H7_E_ARG;
    }
    uint8_t newest[REC_MAX];
    uint32_t next = 0;
    const uint32_t n = cfg->record_area_size / size;
    int rc = h7_dfu_recover(dfu);
    if (rc == 0) {
        rc = h7_record_next(dfu, cfg, crc, &next, newest);
    }
    if (rc != 0) {
        return rc;
    }
    if (next > 0 && !cfg->no_skip && memcmp(newest, cfg->record, size) == 0) {
        /* The newest record is this one already: the image is committed. */
        report->record_addr = cfg->record_area + (next - 1u) * size;
        report->record_present = true;
        return 0;
    }
    bool compact = next == n;
    for (int attempt = 0; attempt < 2; attempt++) {
        if (compact) {
            /* Full (or not programmable): erase the area, write at its start.
             * A power cut from here until the record is written leaves no
             * valid image; the board then stays in DFU mode. */
            rc = h7_dfuse_erase_sector(dfu, cfg->record_area);
            if (rc != 0) {
                return rc;
            }
            report->record_compacted = true;
            next = 0;
        }
        uint32_t addr = cfg->record_area + next * size;
        rc = put_record(dfu, cfg, addr, crc);
        if (rc == 0) {
            report->record_addr = addr;
            report->bytes_written += size;
            return 0;
        }
        if (compact || device_gone(dfu)) {
            return rc;
        }
        /* The slot did not take the record (a word a power cut left half
         * programmed): compact and write it again. */
        rc = h7_dfu_recover(dfu);
        if (rc != 0) {
            return rc;
        }
        compact = true;
    }
    return rc;
}
