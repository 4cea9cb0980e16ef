/*
 * Signature trailer encoding and the security counter store (boot_sig.h).
 * Portable and free of crypto: the unsigned tools use it too.
 */
#include "boot_sig.h"
#include "h7_util.h"

boot_validate_t boot_sig_parse(const uint8_t raw[BOOT_SIG_SIZE], boot_sig_trailer_t *out)
{
    if (h7_get_le32(raw) != BOOT_SIG_MAGIC) {
        return BOOT_ERR_UNSIGNED;
    }
    if (h7_get_le32(raw + 4) != (BOOT_SIG_VERSION | (BOOT_SIG_SIZE << 16)) ||
        h7_get_le32(raw + 0x0C) != BOOT_SIG_ALG_P256) {
        return BOOT_ERR_SIG_FORMAT;
    }
    for (unsigned i = 0x20; i < BOOT_SIG_OFF_RS; i++) {
        if (raw[i] != 0) {
            return BOOT_ERR_SIG_FORMAT;
        }
    }
    if (out != NULL) {
        out->security_counter = h7_get_le32(raw + BOOT_SIG_OFF_COUNTER);
        out->algorithm = BOOT_SIG_ALG_P256;
        for (unsigned i = 0; i < BOOT_SIG_KEY_ID_LEN; i++) {
            out->key_id[i] = raw[BOOT_SIG_OFF_KEY_ID + i];
        }
        for (unsigned i = 0; i < BOOT_SIG_RS_LEN; i++) {
            out->rs[i] = raw[BOOT_SIG_OFF_RS + i];
        }
    }
    return BOOT_VALID;
}

void boot_sig_encode(const boot_sig_trailer_t *t, uint8_t out[BOOT_SIG_SIZE])
{
    for (unsigned i = 0; i < BOOT_SIG_SIZE; i++) {
        out[i] = 0;
    }
    h7_put_le32(out, BOOT_SIG_MAGIC);
    h7_put_le32(out + 4, BOOT_SIG_VERSION | (BOOT_SIG_SIZE << 16));
    h7_put_le32(out + BOOT_SIG_OFF_COUNTER, t->security_counter);
    h7_put_le32(out + 0x0C, t->algorithm);
    for (unsigned i = 0; i < BOOT_SIG_KEY_ID_LEN; i++) {
        out[BOOT_SIG_OFF_KEY_ID + i] = t->key_id[i];
    }
    for (unsigned i = 0; i < BOOT_SIG_RS_LEN; i++) {
        out[BOOT_SIG_OFF_RS + i] = t->rs[i];
    }
}

uint32_t boot_counter_area(const flash_map_t *map)
{
    for (unsigned s = map->sector_count; s-- > 1u;) {
        if (flash_map_is_reserved(map, s) && map->sector_size >= BOOT_CTR_AREA_SIZE) {
            return flash_map_sector_addr(map, s);
        }
    }
    return 0;
}

/* 1: a valid entry (its value in *v), 0: erased, -1: anything else (used). */
static int entry_kind(const uint8_t e[BOOT_CTR_ENTRY_SIZE], uint32_t *v)
{
    bool erased = true;
    for (unsigned i = 0; i < BOOT_CTR_ENTRY_SIZE; i++) {
        erased = erased && e[i] == 0xFFu;
    }
    if (erased) {
        return 0;
    }
    if (h7_get_le32(e) != BOOT_CTR_MAGIC || h7_get_le32(e + 8) != ~h7_get_le32(e + 4)) {
        return -1;
    }
    for (unsigned i = 12; i < BOOT_CTR_ENTRY_SIZE; i++) {
        if (e[i] != 0) {
            return -1;
        }
    }
    *v = h7_get_le32(e + 4);
    return 1;
}

flash_status_t boot_counter_read(const flash_dev_t *dev, uint32_t *value, uint32_t *next)
{
    uint32_t area = boot_counter_area(dev->map);
    *value = 0;
    *next = 0;
    for (uint32_t off = 0; area != 0 && off < BOOT_CTR_AREA_SIZE; off += BOOT_CTR_ENTRY_SIZE) {
        uint8_t e[BOOT_CTR_ENTRY_SIZE];
        flash_status_t st = dev->ops->read(dev->ctx, area + off, e, sizeof e);
        if (st == FLASH_ERR_ECC) {
            continue; /* a word a power cut broke: used, no value */
        }
        if (st != FLASH_OK) {
            return st;
        }
        uint32_t v = 0;
        int k = entry_kind(e, &v);
        if (k == 0) {
            *next = area + off; /* entries form a prefix of the log */
            return FLASH_OK;
        }
        if (k > 0 && v > *value) {
            *value = v;
        }
    }
    return FLASH_OK;
}

/* One flash word (w) or the erase of a sector (w NULL, addr in it), by
 * whichever form the driver offers (flash.h). */
static flash_status_t flash_op(const flash_dev_t *dev, uint32_t addr, const uint8_t *w)
{
    const flash_ops_t *o = dev->ops;
    unsigned sector = (unsigned)flash_map_sector_of(dev->map, addr);
    if (w != NULL ? o->program_word != NULL : o->erase_sector != NULL) {
        return w != NULL ? o->program_word(dev->ctx, addr, w) : o->erase_sector(dev->ctx, sector);
    }
    if ((w != NULL ? o->program_start == NULL : o->erase_start == NULL) || o->poll == NULL) {
        return FLASH_ERR_HW;
    }
    flash_status_t st =
        w != NULL ? o->program_start(dev->ctx, addr, w) : o->erase_start(dev->ctx, sector);
    if (st != FLASH_OK) {
        return st;
    }
    do {
        st = o->poll(dev->ctx, sector / dev->map->sectors_per_bank); /* bounded by the driver */
    } while (st == FLASH_BUSY);
    return st;
}

flash_status_t boot_counter_raise(const flash_dev_t *dev, uint32_t value)
{
    uint32_t stored, next;
    flash_status_t st = boot_counter_read(dev, &stored, &next);
    if (st != FLASH_OK || value <= stored) {
        return st;
    }
    uint32_t area = boot_counter_area(dev->map);
    if (area != 0 && next == 0 && stored == 0) {
        /* No free entry and no value (entries are written with values of 1
         * and up): the sector holds no log but what was there before the
         * signed bootloader (an application's bytes) or words power cuts
         * broke. Erasing it loses nothing. */
        st = flash_op(dev, area, NULL);
        if (st != FLASH_OK) {
            return st;
        }
        next = area;
    }
    uint8_t e[BOOT_CTR_ENTRY_SIZE], back[BOOT_CTR_ENTRY_SIZE];
    for (unsigned i = 0; i < sizeof e; i++) {
        e[i] = 0;
    }
    h7_put_le32(e, BOOT_CTR_MAGIC);
    h7_put_le32(e + 4, value);
    h7_put_le32(e + 8, ~value);
    /* An entry counts once it reads back whole: the controller does not
     * report programming a word that was not erased, and a word a power cut
     * programmed in part may read erased. Two words are tried: one a cut
     * broke is skipped; an error that repeats (a protected or failing
     * sector) does not use up the log. */
    for (unsigned tries = 0; tries < 2u && next != 0 && next < area + BOOT_CTR_AREA_SIZE;
         tries++, next += BOOT_CTR_ENTRY_SIZE) {
        uint32_t v = 0;
        if (flash_op(dev, next, e) == FLASH_OK &&
            dev->ops->read(dev->ctx, next, back, sizeof back) == FLASH_OK &&
            entry_kind(back, &v) > 0 && v == value) {
            return FLASH_OK;
        }
    }
    return FLASH_ERR_PROGRAM;
}
