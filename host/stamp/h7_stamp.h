/*
 * Stamping application images on the host: put the h7dfu image header
 * (core/boot/image_header.h) in front of an application linked for the slot,
 * tell a writer which flash words hold the header (they are written last),
 * and inspect the header of any image file as the bootloader would.
 */
#ifndef H7_STAMP_H
#define H7_STAMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "boot.h"
#include "h7_image.h"

typedef struct h7_stamp_opts {
    boot_image_version_t version;
    uint32_t slot;      /* slot start; 0 = BOOT_APP_SLOT_ADDR */
    uint32_t device_id; /* 0 = BOOT_DEVICE_ID_H743 (another value makes an
                           image the bootloader refuses, for tests) */
} h7_stamp_opts_t;

/*
 * Stamp an application linked at slot + 0x400 (vector table there; the 1 KiB
 * header region before it may be present in the input, its content is
 * replaced, or absent). The result has two segments: the 64-byte header at
 * slot and the body at slot + 0x400, gaps filled with 0xFF and padded with
 * 0xFF to a whole flash word. Refuses DfuSe alt settings other than 0, data
 * outside the slot, an empty body, and a vector table the bootloader would
 * refuse. out is initialised here; free it with h7_image_free().
 * Returns 0, or -1 with a message in err (err may be NULL).
 */
int h7_stamp(const h7_image_t *in, const h7_stamp_opts_t *opts, h7_image_t *out, char *err,
             size_t errlen);

/* The flash words that hold the header of a slot: [*addr, *addr + *len). A
 * writer programs them after every other word of the image. */
void h7_stamp_header_span(uint32_t slot, uint32_t *addr, uint32_t *len);

/*
 * Split img into body (every byte outside the header span) and header (the
 * bytes inside it), so a writer can write body, then header. Both are
 * initialised here; header is empty when img has no data there.
 * Returns 0, or -1 when out of memory.
 */
int h7_stamp_split(const h7_image_t *img, uint32_t slot, h7_image_t *body, h7_image_t *header);

typedef struct h7_stamp_info {
    boot_validate_t result; /* what the bootloader would say */
    boot_image_info_t info; /* header fields, CRCs, vectors */
} h7_stamp_info_t;

/* Validate img as if it were the whole content of the slot (everything else
 * erased), with the bootloader's own code. slot 0 = BOOT_APP_SLOT_ADDR.
 * Returns 0, or -1 when out of memory. */
int h7_stamp_inspect(const h7_image_t *img, uint32_t slot, h7_stamp_info_t *out);

/* "1.2.3+45" (build omitted when 0). Returns snprintf's count. */
int h7_stamp_version_str(const boot_image_version_t *v, char *buf, size_t len);
/* Parse "MAJOR.MINOR.PATCH[+BUILD]" (major, minor <= 255, patch <= 65535). */
bool h7_stamp_parse_version(const char *s, boot_image_version_t *v);

/* Multi-line human description of an inspection (for `h7dfu image info`).
 * Returns snprintf's count. */
int h7_stamp_describe(const h7_stamp_info_t *si, char *buf, size_t len);

#endif
