/*
 * High-level operations of libh7dfu on a DfuSe device: write an image (plan,
 * skip the sectors that already hold what the image puts there, erase the
 * others, write, verify), read a range, erase, leave; with a progress
 * callback. Nothing is sent before the plan accepted the whole image.
 *
 * Skipping: for every sector the plan would erase, the expected content
 * (the image's bytes, 0xFF elsewhere, as erase + write would leave it) is
 * compared with the device's: by the device's CRC-32 (vendor command
 * H7_DFUSE_CRC32, when its "get commands" list has it) or else by reading
 * the sector back (UPLOAD, e.g. ST's ROM bootloader). Equal: neither erased
 * nor written. Verification uses the same means: CRC-32 of every written
 * piece when the device has the command, byte-for-byte read-back otherwise
 * (or always with readback_verify).
 */
#ifndef H7_OPS_H
#define H7_OPS_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "h7_dfu.h"
#include "h7_image.h"
#include "h7_plan.h"

typedef enum h7_phase {
    H7_PHASE_ERASE = 0,
    H7_PHASE_WRITE,
    H7_PHASE_VERIFY,
    H7_PHASE_READ,
    H7_PHASE_COMMIT, /* the commit span (image header), written and verified last */
} h7_phase_t;

const char *h7_phase_name(h7_phase_t p);

/* done/total in bytes (sectors' bytes for the erase phase). */
typedef void (*h7_progress_fn)(void *user, h7_phase_t phase, uint64_t done, uint64_t total);

typedef struct h7_write_cfg {
    bool verify;          /* read back and compare every block (default true) */
    bool no_skip;         /* rewrite every sector, even those already equal */
    bool readback_verify; /* verify byte for byte by UPLOAD even with CRC support */
    /* Commit span: these bytes are written (and verified) only after all the
     * others are, e.g. an image header whose presence makes the image valid.
     * Whole 32-byte words; commit_len 0 = none. */
    uint32_t commit_addr, commit_len;
    /* Image record (the h7dfu bootloader, core/boot/image_header.h): when
     * record is set, after the image is written and verified the record_size
     * bytes are appended to the append-only record area [record_area,
     * + record_area_size) at its next free record slot and verified
     * (h7_record_append). The image itself has no data in the area. */
    const uint8_t *record;
    uint32_t record_area, record_area_size, record_size;
    h7_progress_fn progress; /* may be NULL */
    void *user;
    /* When set and *cancel becomes non-zero (a signal handler may set it),
     * the write stops at the next block boundary: the device finishes the
     * block in flight, is sent back to dfuIDLE, and h7_ops_write_image fails
     * with H7_E_CANCELLED (report->bytes_written tells how far it got). */
    volatile sig_atomic_t *cancel;
} h7_write_cfg_t;

typedef struct h7_write_report {
    size_t sectors_erased;
    uint64_t bytes_written;
    uint64_t bytes_to_write; /* what the write has to send (sectors not skipped) */
    uint64_t bytes_verified;
    size_t sectors_skipped;    /* already held the image's bytes */
    bool device_crc;           /* the device computed CRCs (skip check, verify) */
    h7_plan_refusal_t refusal; /* set when the plan refused the image (H7_E_PLAN) */
    uint32_t record_addr;      /* where the record is (cfg.record) */
    bool record_present;       /* the newest record was this one already: not rewritten */
    bool record_compacted;     /* the record area was erased first */
} h7_write_report_t;

/*
 * Write img to the device whose DfuSe memory layout string is layout (the
 * interface string of the alternate setting in use). On failure dfu->err
 * tells what happened; the device is left in DFU mode. report may be NULL.
 */
int h7_ops_write_image(h7_dfu_client_t *dfu, const h7_image_t *img, const char *layout,
                       const h7_write_cfg_t *cfg, h7_write_report_t *report);

/*
 * The record commit (h7_record.c), run by h7_ops_write_image last. The next
 * free record slot: a binary search with small UPLOADs over the area (an
 * UPLOAD the device refuses, e.g. on an ECC error, counts as used), then the
 * rest of the area checked erased (device CRC when crc, else read back; not
 * erased: *next = the record count, i.e. full). newest gets the record before
 * *next (0xFF when none). From dfuIDLE.
 */
int h7_record_next(h7_dfu_client_t *dfu, const h7_write_cfg_t *cfg, bool crc, uint32_t *next,
                   uint8_t *newest);
/*
 * Append cfg->record at the next free slot and verify it (cfg->verify); erase
 * the area first when it is full, and erase it and write the record at its
 * start when the free slot does not take it (compaction). Nothing is written
 * when the newest record already equals it (unless cfg->no_skip).
 */
int h7_record_append(h7_dfu_client_t *dfu, const h7_write_cfg_t *cfg, bool crc,
                     h7_write_report_t *report);

/* Read len bytes at addr into buf. */
int h7_ops_read(h7_dfu_client_t *dfu, uint32_t addr, uint8_t *buf, size_t len,
                h7_progress_fn progress, void *user);

/* Erase every sector of layout touched by [addr, addr + len). */
int h7_ops_erase(h7_dfu_client_t *dfu, const char *layout, uint32_t addr, uint32_t len);
int h7_ops_mass_erase(h7_dfu_client_t *dfu);

/* Start the application at addr (has_addr) or where the device decides. */
int h7_ops_leave(h7_dfu_client_t *dfu, bool has_addr, uint32_t addr);

#endif
