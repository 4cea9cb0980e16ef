/*
 * Firmware images on the host: load them from the usual file formats, write
 * them back out, and answer simple questions about them.
 *
 * An image is a list of segments (alt setting, address, bytes) sorted by
 * (alt, address) that never overlap, plus what the file said about itself:
 * its format, a start address, a DFU suffix (VID/PID, so a caller can refuse
 * an image built for another device) and the DfuSe target names.
 *
 * Every loader works on a memory buffer (fuzzers and tests use that directly);
 * h7_image_load_file() reads a file and hands it over. Errors name the file,
 * the line (text formats) or the byte offset (binary formats).
 */
#ifndef H7_IMAGE_H
#define H7_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "h7_util.h"

typedef enum h7_image_format {
    H7_FMT_AUTO = 0, /* detect from the content, extension as a hint */
    H7_FMT_BIN,      /* raw binary, needs a base address */
    H7_FMT_IHEX,     /* Intel HEX */
    H7_FMT_SREC,     /* Motorola S-record */
    H7_FMT_DFUSE,    /* ST DfuSe .dfu (prefix, targets, elements, suffix) */
    H7_FMT_DFU,      /* plain DFU 1.1 file: raw bytes + suffix, needs a base address */
    H7_FMT_ELF,      /* ELF32 little-endian ARM, PT_LOAD at p_paddr */
} h7_image_format_t;

/* "bin", "ihex", "srec", "dfuse", "dfu", "elf" (and "auto"). */
const char *h7_image_format_name(h7_image_format_t fmt);
/* Accepts the names above plus "hex", "s19", "elf32"; returns false if unknown. */
bool h7_image_format_parse(const char *name, h7_image_format_t *fmt);

typedef enum h7_image_errc {
    H7_IMG_OK = 0,
    H7_IMG_E_IO,          /* could not open / read / write the file */
    H7_IMG_E_NOMEM,       /* out of memory */
    H7_IMG_E_FORMAT,      /* unknown format, bad magic, wrong machine/class */
    H7_IMG_E_SYNTAX,      /* non-hex character, missing ':' or 'S', odd digit count */
    H7_IMG_E_LENGTH,      /* a record/header length does not match its content */
    H7_IMG_E_CHECKSUM,    /* record checksum or DFU suffix CRC mismatch */
    H7_IMG_E_RECORD,      /* unknown or misplaced record type */
    H7_IMG_E_NO_EOF,      /* missing end-of-file / termination record */
    H7_IMG_E_AFTER_EOF,   /* data after the end-of-file record */
    H7_IMG_E_OVERLAP,     /* two pieces of data for the same address */
    H7_IMG_E_COUNT,       /* S5/S6 count differs from the data records seen */
    H7_IMG_E_TRUNCATED,   /* a structure runs past the end of the file */
    H7_IMG_E_RANGE,       /* data runs past 0xFFFFFFFF */
    H7_IMG_E_NEED_BASE,   /* raw binary / plain DFU without a base address */
    H7_IMG_E_EMPTY,       /* no data at all */
    H7_IMG_E_UNSUPPORTED, /* valid but not something we can write (e.g. big-endian ELF) */
} h7_image_errc_t;

const char *h7_image_errc_name(h7_image_errc_t code);

typedef struct h7_image_error {
    h7_image_errc_t code;
    char file[128];    /* name given to the loader (may be truncated) */
    unsigned line;     /* 1-based line for text formats, else 0 */
    long offset;       /* byte offset for binary formats, else -1 */
    char message[512]; /* complete human message: "fw.hex:12: bad checksum ..." */
} h7_image_error_t;

typedef struct h7_segment {
    uint8_t alt;   /* DfuSe alternate setting (0 for every other format) */
    uint32_t addr; /* first byte */
    uint32_t len;  /* bytes, > 0 */
    uint8_t *data;
} h7_segment_t;

typedef struct h7_image_target {
    uint8_t alt;
    char name[256]; /* DfuSe target name, "" when not named */
} h7_image_target_t;

typedef struct h7_image {
    h7_segment_t *seg; /* sorted by (alt, addr); no two overlap */
    size_t count;
    h7_image_format_t format; /* what it was loaded from */

    bool has_start; /* start address: IHEX 05, S7/S8/S9, ELF e_entry */
    uint32_t start;
    bool has_start_seg; /* IHEX 03: CS:IP */
    uint16_t start_cs, start_ip;

    char header[256]; /* S0 header text (printable bytes), "" if none */
    /* Something accepted that the user should know (an S-record file
     * without a termination record), "" if none; the caller shows it. */
    char warning[160];

    bool has_suffix; /* DFU suffix seen (DfuSe / plain DFU) */
    uint16_t bcd_device, id_product, id_vendor, bcd_dfu;

    h7_image_target_t *targets; /* DfuSe targets, in file order */
    size_t target_count;
} h7_image_t;

typedef struct h7_load_opts {
    h7_image_format_t format; /* H7_FMT_AUTO: detect */
    bool has_base;            /* base address for raw binary / plain DFU */
    uint32_t base;
} h7_load_opts_t;

/* An empty image (all fields zero). */
void h7_image_init(h7_image_t *img);
void h7_image_free(h7_image_t *img);

/* Detect the format of buf; name (may be NULL) gives the extension hint.
 * Returns H7_FMT_AUTO when nothing matches. */
h7_image_format_t h7_image_detect(const uint8_t *buf, size_t len, const char *name);

/*
 * Load an image. name is used in messages (and for the extension hint).
 * opts may be NULL (auto-detect, no base). On failure img is left empty and err
 * (if not NULL) tells what and where. Returns 0 or -1.
 */
int h7_image_load_mem(h7_image_t *img, const uint8_t *buf, size_t len, const char *name,
                      const h7_load_opts_t *opts, h7_image_error_t *err);
int h7_image_load_file(h7_image_t *img, const char *path, const h7_load_opts_t *opts,
                       h7_image_error_t *err);

/* Add a copy of data at (alt, addr); refuses overlaps. For building images in code. */
int h7_image_add(h7_image_t *img, uint8_t alt, uint32_t addr, const uint8_t *data, size_t len,
                 h7_image_error_t *err);

/* Options for the writers. */
typedef struct h7_write_opts {
    uint16_t id_vendor, id_product, bcd_device; /* DFU suffix; 0xFFFF = any */
    const char *target_name; /* DfuSe target name for targets without one; NULL = "ST..." */
} h7_write_opts_t;

/*
 * Encode img as Intel HEX (04/00/05/01 records, 16 data bytes per line) or DfuSe
 * (one target per alt setting, one element per segment, DFU 1.1a suffix).
 * *out is malloc'ed; the caller frees it. Returns 0 or -1.
 */
int h7_image_encode(const h7_image_t *img, h7_image_format_t fmt, const h7_write_opts_t *opts,
                    uint8_t **out, size_t *out_len, h7_image_error_t *err);
int h7_image_save(const h7_image_t *img, const char *path, h7_image_format_t fmt,
                  const h7_write_opts_t *opts, h7_image_error_t *err);

/* Sum of segment lengths (bytes actually present). */
uint64_t h7_image_total_size(const h7_image_t *img);
/* Lowest address / one past the highest address over all segments (0 if empty). */
uint32_t h7_image_min_addr(const h7_image_t *img);
uint64_t h7_image_end_addr(const h7_image_t *img);
/* Highest address holding data (inclusive; 0 if empty). */
uint32_t h7_image_max_addr(const h7_image_t *img);

/* CRC-32 (h7_crc32, h7_util.h) of the image's bytes in segment order (what
 * a device would hold). */
uint32_t h7_image_crc32(const h7_image_t *img);

#endif
