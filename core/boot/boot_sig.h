/*
 * Signed images: the signature trailer after the body, the trusted public
 * key, and the security counter store (downgrade protection).
 *
 * Scheme: ECDSA P-256 over SHA-256 (mcuboot's default), verified with
 * mbedtls. Only a bootloader built with H7_BOOT_SIGNED=1 checks signatures
 * (the signed firmware build, and the host build of this library for the
 * virtual board and the host tool); the unsigned bootloader has none of it
 * and starts signed images like any other (the trailer lies past image_size).
 *
 * Trailer: 128 bytes (four flash words) at load_addr + image_size (the body
 * is a whole number of flash words, so the trailer is word aligned), written
 * with the body; the image record (image_header.h) is still appended last
 * and commits both. Little endian:
 *
 *   offset size field
 *   0x00   4    magic             BOOT_SIG_MAGIC ("H7SG")
 *   0x04   2    version           1
 *   0x06   2    size              128
 *   0x08   4    security_counter  the image's counter (downgrade protection)
 *   0x0C   4    algorithm         1 = ECDSA P-256 with SHA-256
 *   0x10   16   key_id            the first 16 bytes of SHA-256 of the
 *                                 signer's public key, 65-byte uncompressed
 *                                 point 04 || X || Y
 *   0x20   32   reserved          0
 *   0x40   32   r                 the signature, big endian
 *   0x60   32   s
 *
 * Signed message: SHA-256 over the 64-byte image record as it is written
 * (so every header field, body CRC and header CRC included), then the
 * trailer's first 64 bytes (counter, algorithm, key id), then the body
 * [load_addr, load_addr + image_size).
 *
 * Security counter store: a sector of its own, the last reserved sector of
 * the flash map after sector 0 (on the STM32H743 sector 14, 0x081C0000, in
 * its signed map, flash_map_stm32h743_signed(), target/stm32h743/h7_target.h).
 * It is out of reach of DfuSe (reserved in
 * the layout), of the record-area compaction, of a reflash of the
 * bootloader, and of a write protection of sector 0 (WRPSN,
 * docs/production.md), which would refuse the bootloader's own writes.
 *
 * An append-only log of 32-byte entries (one flash word each, programmed
 * once): magic "H7SC", counter, ~counter, then zeros. The stored value is
 * the largest valid entry; an entry a power cut left unreadable (ECC) or
 * half written is skipped, and the next entry goes after it. The bootloader
 * appends an entry before it starts an image whose counter is higher than
 * the stored value, and reads it back; a power cut before that leaves the
 * old value and the image still starts later, one after it leaves the new
 * value. 4096 raises fit; a full log keeps its value and refuses images with
 * a higher counter (BOOT_ERR_COUNTER_STORE). The bootloader erases the
 * sector only when it holds no valid entry and no free one (bytes from
 * before the signed bootloader). A map without such a sector stores
 * nothing: images with a counter above 0 are refused the same way.
 */
#ifndef H7_BOOT_SIG_H
#define H7_BOOT_SIG_H

#include <stdbool.h>
#include <stdint.h>

#include "boot.h"

#define BOOT_SIG_MAGIC       0x47533748u /* bytes "H7SG" */
#define BOOT_SIG_VERSION     1u
#define BOOT_SIG_SIZE        128u
#define BOOT_SIG_SIGNED_LEN  64u /* trailer bytes covered by the signature */
#define BOOT_SIG_ALG_P256    1u
#define BOOT_SIG_KEY_ID_LEN  16u
#define BOOT_SIG_PUBKEY_LEN  65u /* 04 || X || Y */
#define BOOT_SIG_RS_LEN      64u
#define BOOT_SIG_OFF_COUNTER 0x08u
#define BOOT_SIG_OFF_KEY_ID  0x10u
#define BOOT_SIG_OFF_RS      0x40u

/* Counter store: its whole sector (4096 entries). */
#define BOOT_CTR_AREA_SIZE  0x20000u
#define BOOT_CTR_ENTRY_SIZE 32u
#define BOOT_CTR_MAGIC      0x43533748u /* bytes "H7SC" */

typedef struct boot_sig_trailer {
    uint32_t security_counter;
    uint32_t algorithm;
    uint8_t key_id[BOOT_SIG_KEY_ID_LEN];
    uint8_t rs[BOOT_SIG_RS_LEN];
} boot_sig_trailer_t;

/* The trailer's address for an image of image_size bytes at load_addr. */
static inline uint32_t boot_sig_trailer_addr(uint32_t load_addr, uint32_t image_size)
{
    return load_addr + image_size;
}

/* Parse a trailer: BOOT_VALID, BOOT_ERR_UNSIGNED (no trailer magic) or
 * BOOT_ERR_SIG_FORMAT (version, size, algorithm, reserved bytes). out may be
 * NULL. Reads exactly BOOT_SIG_SIZE bytes. */
boot_validate_t boot_sig_parse(const uint8_t raw[BOOT_SIG_SIZE], boot_sig_trailer_t *out);
/* Encode a trailer (the inverse of boot_sig_parse). */
void boot_sig_encode(const boot_sig_trailer_t *t, uint8_t out[BOOT_SIG_SIZE]);

/* ---- counter store ---- */

/* Address of the counter log in a flash map: the start of its last reserved
 * sector after sector 0; 0 when the map has none. */
uint32_t boot_counter_area(const flash_map_t *map);
/* The stored counter (0 when the log is empty) and the next free entry
 * (0 when the log is full). Unreadable entries count as used. */
flash_status_t boot_counter_read(const flash_dev_t *dev, uint32_t *value, uint32_t *next);
/* Append value (only when higher than the stored one; FLASH_OK otherwise).
 * FLASH_ERR_PROGRAM when the log is full. */
flash_status_t boot_counter_raise(const flash_dev_t *dev, uint32_t value);

#if defined(H7_BOOT_SIGNED) && H7_BOOT_SIGNED
/* ---- verification (signed builds only: mbedtls) ---- */

typedef struct boot_sig_key {
    uint8_t point[BOOT_SIG_PUBKEY_LEN]; /* 04 || X || Y */
    uint8_t id[BOOT_SIG_KEY_ID_LEN];    /* boot_sig_key_id(point) */
} boot_sig_key_t;

/* The first 16 bytes of SHA-256(point). */
void boot_sig_key_id(const uint8_t point[BOOT_SIG_PUBKEY_LEN], uint8_t id[BOOT_SIG_KEY_ID_LEN]);
/* Does rs (r || s) sign hash with point? */
bool boot_sig_verify_hash(const uint8_t point[BOOT_SIG_PUBKEY_LEN], const uint8_t hash[32],
                          const uint8_t rs[BOOT_SIG_RS_LEN]);

/* The key boot_validate trusts. A signed firmware build sets it before its
 * first validation; NULL there refuses every image. Host builds
 * (H7_BOOT_SIG_OPTIONAL) check signatures only while a key is set. */
void boot_sig_set_key(const boot_sig_key_t *key);
const boot_sig_key_t *boot_sig_get_key(void);

/* boot_validate with an explicit key (NULL: no signature required, the
 * trailer is still reported when present). */
boot_validate_t boot_validate_key(const flash_dev_t *dev, uint32_t slot, const boot_sig_key_t *key,
                                  boot_image_info_t *out);

/* After the decision to start a valid signed image: raise the stored counter
 * to the image's. false (the image must not start) when the store fails. */
bool boot_counter_commit(const flash_dev_t *dev, const boot_image_info_t *info);
#endif

#endif
