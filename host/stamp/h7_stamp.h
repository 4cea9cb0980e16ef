/*
 * Stamping application images on the host: make the h7dfu image record
 * (core/boot/image_header.h) of an application linked for the slot, split an
 * image into its body and its record (a writer appends the record last), and
 * inspect any image file as the bootloader would.
 */
#ifndef H7_STAMP_H
#define H7_STAMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "boot.h"
#include "h7_image.h"
#include "h7_sign.h"

typedef struct h7_stamp_opts {
    boot_image_version_t version;
    uint32_t slot;             /* slot start; 0 = BOOT_APP_SLOT_ADDR */
    uint32_t device_id;        /* 0 = BOOT_DEVICE_ID_H743 (another value makes an
                                  image the bootloader refuses, for tests) */
    const h7_key_t *key;       /* sign with it (a private key); NULL: unsigned */
    uint32_t security_counter; /* in the signature trailer (signed images) */
} h7_stamp_opts_t;

/*
 * Stamp an application linked at the slot (vector table at the slot start,
 * 0x08020000). The result has two segments: the body at the slot (gaps filled
 * with 0xFF, padded with 0xFF to a whole flash word) and its 64-byte image
 * record at the start of the record area (sector 15, BOOT_REC_AREA_ADDR:
 * core/boot/image_header.h). Data of the input in the record area (the record
 * of an earlier stamp) is replaced. Refuses DfuSe alt settings other than 0,
 * data outside the slot and the record area, an empty body, and a vector
 * table the bootloader would refuse. With opts->key the body is followed by
 * the 128-byte signature trailer (core/boot/boot_sig.h), in the body's
 * segment, and both must fit the signed bootloader's slot: its flash map
 * (flash_map_stm32h743_signed) reserves sector 14 for the security counter
 * log, so the slot at 0x08020000 is 13 sectors. out is initialised here; free it with
 * h7_image_free(). Returns 0, or -1 with a message in err (err may be NULL).
 */
int h7_stamp(const h7_image_t *in, const h7_stamp_opts_t *opts, h7_image_t *out, char *err,
             size_t errlen);

/*
 * Split img into body (every byte outside the record area, other alt settings
 * included) and the newest record it puts in the record area, picked as the
 * bootloader picks it (the last record slot not fully erased). body is
 * initialised here; *has_record is false when img has no such record (no data
 * in the area, or only 0xFF). A writer writes the body, then appends the
 * record (h7_write_cfg_t.record). Returns 0, or -1 when out of memory.
 */
int h7_stamp_split(const h7_image_t *img, h7_image_t *body, uint8_t record[BOOT_REC_SIZE],
                   bool *has_record);

typedef struct h7_stamp_info {
    boot_validate_t result;     /* what the bootloader would say */
    boot_image_info_t info;     /* header fields, CRCs, vectors, the trailer */
    bool sig_checked;           /* checked with a key (h7_stamp_inspect_key) */
    boot_validate_t sig_result; /* then: BOOT_VALID, or why not */
    uint8_t checked_key_id[BOOT_SIG_KEY_ID_LEN];
    uint32_t signed_slot_size; /* the signed bootloader's slot at info.slot
                                  (flash_map_stm32h743_signed: 0 if none) */
} h7_stamp_info_t;

/* Validate img as if it were the whole content of the flash (everything else
 * erased: its record area included), with the bootloader's own code. slot 0 =
 * BOOT_APP_SLOT_ADDR.
 * Returns 0, or -1 when out of memory. */
int h7_stamp_inspect(const h7_image_t *img, uint32_t slot, h7_stamp_info_t *out);
/* The same as a signed bootloader with key would (NULL: h7_stamp_inspect):
 * with its flash map, whose slot ends at its security counter log (sector 14,
 * 0x081C0000: 13 sectors from 0x08020000), and that log empty. An image whose
 * body and signature trailer run past that slot is BOOT_ERR_SIZE, also when
 * only the trailer does (the signed bootloader would find no trailer there,
 * BOOT_ERR_UNSIGNED; its DfuSe layout refuses the write before that). */
int h7_stamp_inspect_key(const h7_image_t *img, uint32_t slot, const boot_sig_key_t *key,
                         h7_stamp_info_t *out);

/* "1.2.3+45" (build omitted when 0). Returns snprintf's count. */
int h7_stamp_version_str(const boot_image_version_t *v, char *buf, size_t len);
/*
 * Parse a version as people and git write it into the record's fields
 * (major, minor <= 255, patch <= 65535, build 32 bits; nothing else fits):
 *
 *   1.2.3              1.2.3, build 0
 *   v1.2.3, V1.2.3     the same: a leading v is dropped (tag names)
 *   1.2.3+45           build 45
 *   1.2.3-rc1          1.2.3: the pre-release is NOT stored (no text field):
 *                      a note says so; 1.2.3-rc1 and 1.2.3 make equal records
 *   v1.2.3-4-gabcdef   `git describe --tags`: 4 commits after the tag v1.2.3:
 *                      1.2.3+4 (build = commit count), the hash not stored
 *   ...-dirty          `--dirty`: accepted, not stored, noted
 *   v1.2.3-rc1-4-gabcdef  1.2.3+4, pre-release and hash noted
 *
 * Anything else (a bare hash from `git describe --always`, missing fields,
 * numbers out of range, text after '+', '+BUILD' together with a describe
 * count) is refused with the reason in err. note (may be NULL) receives ""
 * or one sentence naming what the record does not keep. Returns false on
 * refusal; *v is then untouched.
 */
bool h7_stamp_parse_version_text(const char *s, boot_image_version_t *v, char *note, size_t notelen,
                                 char *err, size_t errlen);
/* The same without the note and the reason. */
bool h7_stamp_parse_version(const char *s, boot_image_version_t *v);

/* Multi-line human description of an inspection (for `h7dfu image info`).
 * Returns snprintf's count. */
int h7_stamp_describe(const h7_stamp_info_t *si, char *buf, size_t len);
/* The signature line of it: "none (unsigned image)", or the key id and
 * counter and whether the signature verifies with the key given. */
int h7_stamp_describe_sig(const h7_stamp_info_t *si, char *buf, size_t len);

#endif
