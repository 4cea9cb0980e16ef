/*
 * Image validation: everything the bootloader checks before it lets an
 * application run. Any failed read counts as "invalid": an ECC error in the
 * slot must end in DFU mode, never in a fault.
 */
#include "boot.h"
#include "h7_util.h"

#if defined(H7_BOOT_SIGNED) && H7_BOOT_SIGNED
#include "boot_sig.h"
#include "mbedtls/sha256.h"
#define SIGNED    1
#define KEY_PARAM , const boot_sig_key_t *key
#else
#define SIGNED 0
#define KEY_PARAM
#endif

/* One RAM window of the target (H7_TARGET_SP_RAM, h7_target.h). The initial
 * SP is the top of the stack (full descending), so the end address itself is
 * allowed and the start is not. */
#define SP_IN_RAM(start, end) || (sp > (start) && sp <= (end))

/* Read chunk: stack use stays small on the bootloader. */
#define CHUNK 64u

const char *boot_validate_reason_name(boot_validate_t v)
{
    switch (v) {
    case BOOT_VALID:
        return "valid";
    case BOOT_ERR_NO_IMAGE:
        return "no image (record area erased)";
    case BOOT_ERR_READ:
        return "flash read error";
    case BOOT_ERR_BAD_MAGIC:
        return "bad header magic";
    case BOOT_ERR_HEADER_FORMAT:
        return "unsupported header format";
    case BOOT_ERR_HEADER_CRC:
        return "bad header CRC";
    case BOOT_ERR_WRONG_DEVICE:
        return "image for another device";
    case BOOT_ERR_BAD_ADDRESS:
        return "wrong load address or vector offset";
    case BOOT_ERR_SIZE:
        return "image size out of slot";
    case BOOT_ERR_BODY_CRC:
        return "bad body CRC";
    case BOOT_ERR_VECTOR_SP:
        return "initial stack pointer not in RAM";
    case BOOT_ERR_VECTOR_RESET:
        return "reset vector not a Thumb address inside the image";
    case BOOT_ERR_SLOT:
        return "slot is not a free sector start";
    case BOOT_ERR_UNSIGNED:
        return "image not signed";
    case BOOT_ERR_SIG_FORMAT:
        return "unsupported signature format";
    case BOOT_ERR_SIG_KEY:
        return "signed with another key";
    case BOOT_ERR_SIGNATURE:
        return "signature does not verify";
    case BOOT_ERR_COUNTER:
        return "security counter lower than the last started image's";
    case BOOT_ERR_COUNTER_STORE:
        return "security counter could not be stored";
    case BOOT_VALIDATE_COUNT:
        break;
    }
    return "unknown";
}

uint32_t boot_slot_size(const flash_map_t *map, uint32_t slot)
{
    uint32_t off = slot - map->base;
    unsigned first = off / map->sector_size;
    unsigned area = map->sector_count - 1u; /* the record area's sector */
    if (slot < map->base || off % map->sector_size != 0u || first >= area) {
        return 0;
    }
    unsigned s = first;
    while (s < area && !flash_map_is_reserved(map, s)) {
        s++;
    }
    return (uint32_t)(s - first) * map->sector_size;
}

flash_status_t boot_record_newest(const flash_dev_t *dev, uint32_t *addr,
                                  uint8_t raw[BOOT_HDR_SIZE])
{
    uint32_t area = boot_record_area(dev->map);
    uint32_t a = area + dev->map->sector_size;
    /* From the end: the first record slot that is not fully erased. */
    while (a > area) {
        a -= BOOT_REC_SIZE;
        *addr = a;
        flash_status_t st = dev->ops->read(dev->ctx, a, raw, BOOT_REC_SIZE);
        if (st != FLASH_OK) {
            return st;
        }
        for (unsigned i = 0; i < BOOT_REC_SIZE; i++) {
            if (raw[i] != 0xFFu) {
                return FLASH_OK;
            }
        }
    }
    *addr = 0;
    return FLASH_OK;
}

bool boot_vector_sp_ok(uint32_t sp)
{
    if (sp & 3u) {
        return false;
    }
    /* false || (in the first window) || (in the second) ...: one term per window */
    return false H7_TARGET_SP_RAM(SP_IN_RAM);
}

bool boot_vector_reset_ok(uint32_t reset, uint32_t body_start, uint32_t body_size)
{
    /* Thumb state is mandatory on ARMv7-M: bit 0 of every vector is 1. */
    if ((reset & 1u) == 0) {
        return false;
    }
    uint32_t pc = reset & ~1u;
    /* Past the 16 core vectors at least, before the end of the body. */
    return pc >= body_start + 16u * 4u && (uint64_t)pc < (uint64_t)body_start + body_size;
}

static boot_validate_t read_fail(boot_image_info_t *info, uint32_t addr, flash_status_t st)
{
    info->fail_addr = addr;
    info->flash_status = st;
    return BOOT_ERR_READ;
}

#if SIGNED
/* The trailer after the body: parsed into *t, reported in info. */
static boot_validate_t read_trailer(const flash_dev_t *dev, boot_image_info_t *info,
                                    uint8_t tr[BOOT_SIG_SIZE], boot_sig_trailer_t *t, bool required)
{
    const boot_image_header_t *h = &info->hdr;
    if ((uint64_t)h->image_size + BOOT_SIG_SIZE > info->slot_size) {
        return BOOT_ERR_UNSIGNED; /* no room for one */
    }
    uint32_t a = boot_sig_trailer_addr(info->slot, h->image_size);
    flash_status_t st = dev->ops->read(dev->ctx, a, tr, BOOT_SIG_SIZE);
    if (st != FLASH_OK) {
        /* Only an error when a signature is required. */
        return required ? read_fail(info, a, st) : BOOT_ERR_READ;
    }
    boot_validate_t v = boot_sig_parse(tr, t);
    if (v == BOOT_VALID) {
        info->has_sig = true;
        info->security_counter = t->security_counter;
        for (unsigned i = 0; i < BOOT_SIG_KEY_ID_LEN; i++) {
            info->key_id[i] = t->key_id[i];
        }
    }
    return v;
}
#endif

static boot_validate_t validate(const flash_dev_t *dev, uint32_t slot,
                                boot_image_info_t *info KEY_PARAM)
{
    uint8_t raw[BOOT_HDR_SIZE];
    boot_image_header_t *h = &info->hdr;

    info->slot = slot;
    info->slot_size = boot_slot_size(dev->map, slot);
    if (info->slot_size == 0) {
        return BOOT_ERR_SLOT;
    }

    flash_status_t st = boot_record_newest(dev, &info->record, raw);
    if (st != FLASH_OK) {
        return read_fail(info, info->record, st);
    }
    if (info->record == 0) {
        return BOOT_ERR_NO_IMAGE;
    }
    boot_header_decode(raw, h);
    if (h->magic != BOOT_HDR_MAGIC) {
        return BOOT_ERR_BAD_MAGIC;
    }
    if (h->hdr_version != BOOT_HDR_VERSION || h->hdr_size != BOOT_HDR_SIZE) {
        return BOOT_ERR_HEADER_FORMAT;
    }
    if (boot_header_crc(raw) != h->hdr_crc) {
        return BOOT_ERR_HEADER_CRC;
    }
    /* An erased second record word would read flags 0xFFFFFFFF: refused here
     * even if its CRC field happened to match. */
    if (h->flags != 0) {
        return BOOT_ERR_HEADER_FORMAT;
    }
    if (h->device_id != BOOT_DEVICE_ID) {
        return BOOT_ERR_WRONG_DEVICE;
    }
    if (h->load_addr != slot || h->vector_offset != BOOT_VECTOR_OFFSET) {
        return BOOT_ERR_BAD_ADDRESS;
    }
    if (h->image_size < 8u || h->image_size > info->slot_size) {
        return BOOT_ERR_SIZE;
    }

#if SIGNED
    uint8_t tr[BOOT_SIG_SIZE];
    boot_sig_trailer_t t;
    mbedtls_sha256_context sha;
    boot_validate_t tv = read_trailer(dev, info, tr, &t, key != NULL);
    if (key != NULL) {
        if (tv != BOOT_VALID) {
            return tv;
        }
        bool same = true;
        for (unsigned i = 0; i < BOOT_SIG_KEY_ID_LEN; i++) {
            same = same && t.key_id[i] == key->id[i];
        }
        if (!same) {
            return BOOT_ERR_SIG_KEY;
        }
        /* Signed message: the record as written, the trailer's signed part,
         * the body (below, read once for the CRC and the hash). */
        mbedtls_sha256_init(&sha);
        mbedtls_sha256_starts_ret(&sha, 0);
        mbedtls_sha256_update_ret(&sha, raw, BOOT_HDR_SIZE);
        mbedtls_sha256_update_ret(&sha, tr, BOOT_SIG_SIGNED_LEN);
    }
#endif

    uint32_t body = slot;
    uint8_t buf[CHUNK];
    uint32_t crc = 0;
    for (uint32_t off = 0; off < h->image_size; off += CHUNK) {
        uint32_t n = h->image_size - off < CHUNK ? h->image_size - off : CHUNK;
        st = dev->ops->read(dev->ctx, body + off, buf, n);
        if (st != FLASH_OK) {
            return read_fail(info, body + off, st);
        }
        if (off == 0) {
            info->initial_sp = h7_get_le32(buf);
            info->reset_vector = h7_get_le32(buf + 4);
        }
        crc = h7_crc32(crc, buf, n);
#if SIGNED
        if (key != NULL) {
            mbedtls_sha256_update_ret(&sha, buf, n);
        }
#endif
    }
    info->body_crc = crc;
    if (crc != h->body_crc) {
        return BOOT_ERR_BODY_CRC;
    }
    info->vector_table = body;
    if (!boot_vector_sp_ok(info->initial_sp)) {
        return BOOT_ERR_VECTOR_SP;
    }
    if (!boot_vector_reset_ok(info->reset_vector, body, h->image_size)) {
        return BOOT_ERR_VECTOR_RESET;
    }
#if SIGNED
    if (key != NULL) {
        uint8_t hash[32];
        mbedtls_sha256_finish_ret(&sha, hash);
        mbedtls_sha256_free(&sha);
        if (!boot_sig_verify_hash(key->point, hash, t.rs)) {
            return BOOT_ERR_SIGNATURE;
        }
        uint32_t next;
        st = boot_counter_read(dev, &info->stored_counter, &next);
        if (st != FLASH_OK) {
            return read_fail(info, boot_counter_area(dev->map), st);
        }
        if (t.security_counter < info->stored_counter) {
            return BOOT_ERR_COUNTER;
        }
    }
#endif
    return BOOT_VALID;
}

#if SIGNED
boot_validate_t boot_validate_key(const flash_dev_t *dev, uint32_t slot, const boot_sig_key_t *key,
                                  boot_image_info_t *out)
#else
boot_validate_t boot_validate(const flash_dev_t *dev, uint32_t slot, boot_image_info_t *out)
#endif
{
    boot_image_info_t local;
    boot_image_info_t *info = out ? out : &local;
    uint8_t *p = (uint8_t *)info;
    for (size_t i = 0; i < sizeof *info; i++) {
        p[i] = 0;
    }
    info->flash_status = FLASH_OK;
    if (dev == NULL || dev->ops == NULL || dev->ops->read == NULL || dev->map == NULL) {
        return BOOT_ERR_SLOT;
    }
#if SIGNED
    return validate(dev, slot, info, key);
#else
    return validate(dev, slot, info);
#endif
}

#if SIGNED
boot_validate_t boot_validate(const flash_dev_t *dev, uint32_t slot, boot_image_info_t *out)
{
    const boot_sig_key_t *key = boot_sig_get_key();
#if !defined(H7_BOOT_SIG_OPTIONAL)
    if (key == NULL) {
        /* A signed bootloader without its key starts nothing. */
        boot_validate_t v = boot_validate_key(dev, slot, NULL, out);
        return v == BOOT_VALID ? BOOT_ERR_SIG_KEY : v;
    }
#endif
    return boot_validate_key(dev, slot, key, out);
}
#endif
