/*
 * h7_stamp: image header on the host side.
 */
#include "h7_stamp.h"
#include "ram_flash.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h7_util.h"
#include "mbedtls/sha256.h"

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static uint32_t slot_or_default(uint32_t slot)
{
    return slot ? slot : BOOT_APP_SLOT_ADDR;
}

int h7_stamp(const h7_image_t *in, const h7_stamp_opts_t *opts, h7_image_t *out, char *err,
             size_t errlen)
{
    static const h7_stamp_opts_t defaults = {{0, 0, 0, 0}, 0, 0, NULL, 0};
    const flash_map_t *map = flash_map_stm32h743();
    if (!opts) {
        opts = &defaults;
    }
    h7_image_init(out);
    uint32_t slot = slot_or_default(opts->slot);
    uint32_t slot_size = boot_slot_size(map, slot);
    if (slot_size == 0) {
        return fail(err, errlen,
                    "0x%08x is not the start of a free flash sector before the "
                    "record area",
                    slot);
    }
    uint64_t slot_end = (uint64_t)slot + slot_size;
    uint32_t area = boot_record_area(map);
    uint64_t area_end = (uint64_t)area + map->sector_size;

    uint64_t body_end = slot;
    for (size_t i = 0; i < in->count; i++) {
        const h7_segment_t *s = &in->seg[i];
        uint64_t end = (uint64_t)s->addr + s->len;
        if (s->alt != 0) {
            return fail(err, errlen,
                        "data for DfuSe alt setting %u: only alt 0 (internal flash) "
                        "holds the application",
                        s->alt);
        }
        /* The record area part (an earlier stamp's record) is replaced; a
         * segment may run from the slot into it (an objcopy of a stamped image). */
        uint64_t e = end > area && s->addr < area_end ? (s->addr > area ? s->addr : area) : end;
        if (e > s->addr && (s->addr < slot || e > slot_end)) {
            return fail(err, errlen,
                        "data at 0x%08x..0x%08llx is outside the application slot "
                        "0x%08x..0x%08llx (link the application at 0x%08x; sector 15 "
                        "0x%08x.. holds the image records)",
                        s->addr, (unsigned long long)(end - 1), slot,
                        (unsigned long long)(slot_end - 1), slot, area);
        }
        if (end > area_end) {
            return fail(err, errlen, "data at 0x%08x..0x%08llx runs past the end of the flash",
                        s->addr, (unsigned long long)(end - 1));
        }
        if (e > s->addr && e > body_end) {
            body_end = e;
        }
    }
    if (body_end == slot) {
        return fail(err, errlen,
                    "no application data in the slot (expected the vector table at 0x%08x)", slot);
    }

    uint32_t word = map->word_size;
    uint64_t size = (body_end - slot + word - 1u) / word * word;
    if (size > slot_size) {
        return fail(err, errlen, "image of %llu bytes does not fit the slot (%u bytes)",
                    (unsigned long long)size, slot_size);
    }
    bool sign = opts->key != NULL;
    if (sign) {
        /* The signed bootloader's slot ends where its security counter log
         * (sector 14, reserved in its map) begins: body and trailer fit
         * there or the signed bootloader never sees the image whole. */
        const flash_map_t *smap = flash_map_stm32h743_signed();
        uint32_t sslot = boot_slot_size(smap, slot), ctr = boot_counter_area(smap);
        if (sslot == 0) {
            return fail(err, errlen,
                        "0x%08x is not a slot of the signed bootloader: sector %d (0x%08x) holds "
                        "its security counter log",
                        slot, flash_map_sector_of(smap, ctr), ctr);
        }
        if (size + BOOT_SIG_SIZE > sslot) {
            return fail(err, errlen,
                        "signed image of %llu bytes and its %u-byte signature trailer do not fit "
                        "the signed bootloader's slot 0x%08x..0x%08llx (%u bytes): sector %d "
                        "(0x%08x) holds its security counter log",
                        (unsigned long long)size, BOOT_SIG_SIZE, slot,
                        (unsigned long long)slot + sslot - 1, sslot, flash_map_sector_of(smap, ctr),
                        ctr);
        }
    }
    if (sign && !opts->key->has_private) {
        return fail(err, errlen, "signing needs a private key: -k names a public key");
    }
    uint8_t *body = malloc((size_t)size + BOOT_SIG_SIZE);
    if (!body) {
        return fail(err, errlen, "out of memory");
    }
    memset(body, 0xFF, (size_t)size);
    for (size_t i = 0; i < in->count; i++) {
        const h7_segment_t *s = &in->seg[i];
        uint64_t end = (uint64_t)s->addr + s->len;
        if (end > body_end) {
            end = body_end;
        }
        if (end > s->addr) {
            memcpy(body + (s->addr - slot), s->data, (size_t)(end - s->addr));
        }
    }

    uint32_t sp = h7_get_le32(body);
    uint32_t reset = h7_get_le32(body + 4);
    if (!boot_vector_sp_ok(sp)) {
        free(body);
        return fail(err, errlen,
                    "no vector table at 0x%08x: initial stack pointer 0x%08x is not in DTCM or "
                    "AXI SRAM (link the application at 0x%08x)",
                    slot, sp, slot);
    }
    if (!boot_vector_reset_ok(reset, slot, (uint32_t)size)) {
        free(body);
        return fail(err, errlen,
                    "reset vector 0x%08x is not a Thumb address inside the image "
                    "0x%08x..0x%08llx",
                    reset, slot, (unsigned long long)(slot + size - 1));
    }

    boot_image_header_t h = {
        .magic = BOOT_HDR_MAGIC,
        .hdr_version = BOOT_HDR_VERSION,
        .hdr_size = BOOT_HDR_SIZE,
        .version = opts->version,
        .load_addr = slot,
        .image_size = (uint32_t)size,
        .device_id = opts->device_id ? opts->device_id : BOOT_DEVICE_ID_H743,
        .vector_offset = BOOT_VECTOR_OFFSET,
        .flags = 0,
        .body_crc = h7_crc32(0, body, (size_t)size),
    };
    uint8_t raw[BOOT_HDR_SIZE];
    boot_header_encode(&h, raw);

    size_t body_len = (size_t)size;
    if (sign) {
        /* The trailer after the body; the signature covers the record, the
         * trailer's first half and the body (core/boot/boot_sig.h). */
        boot_sig_trailer_t t = {.security_counter = opts->security_counter,
                                .algorithm = BOOT_SIG_ALG_P256};
        memcpy(t.key_id, opts->key->pub.id, sizeof t.key_id);
        uint8_t *tr = body + size;
        boot_sig_encode(&t, tr);
        uint8_t hash[32];
        mbedtls_sha256_context sha;
        mbedtls_sha256_init(&sha);
        mbedtls_sha256_starts_ret(&sha, 0);
        mbedtls_sha256_update_ret(&sha, raw, sizeof raw);
        mbedtls_sha256_update_ret(&sha, tr, BOOT_SIG_SIGNED_LEN);
        mbedtls_sha256_update_ret(&sha, body, (size_t)size);
        mbedtls_sha256_finish_ret(&sha, hash);
        mbedtls_sha256_free(&sha);
        char why[160];
        if (h7_key_sign_hash(opts->key, hash, t.rs, why, sizeof why) != 0) {
            free(body);
            return fail(err, errlen, "%s", why);
        }
        boot_sig_encode(&t, tr);
        body_len += BOOT_SIG_SIZE;
    }

    h7_image_error_t ie;
    if (h7_image_add(out, 0, slot, body, body_len, &ie) != 0 ||
        h7_image_add(out, 0, area, raw, sizeof raw, &ie) != 0) {
        free(body);
        h7_image_free(out);
        return fail(err, errlen, "%s", ie.message);
    }
    free(body);
    out->format = in->format;
    out->has_start = in->has_start;
    out->start = in->start;
    return 0;
}

int h7_stamp_split(const h7_image_t *img, h7_image_t *body, uint8_t record[BOOT_REC_SIZE],
                   bool *has_record)
{
    const flash_map_t *map = flash_map_stm32h743();
    uint32_t area = boot_record_area(map), size = map->sector_size;
    uint64_t ae = (uint64_t)area + size;
    uint8_t *copy = malloc(size);
    *has_record = false;
    h7_image_init(body);
    if (copy == NULL) {
        return -1;
    }
    memset(copy, 0xFF, size);
    for (size_t i = 0; i < img->count; i++) {
        const h7_segment_t *s = &img->seg[i];
        uint64_t start = s->addr, end = (uint64_t)s->addr + s->len;
        /* Three possible pieces: before, inside, after the record area. */
        uint64_t cut[4] = {start, start, end, end};
        if (s->alt == 0) {
            cut[1] = start < area ? (end < area ? end : area) : start;
            cut[2] = end > ae ? (start > ae ? start : ae) : end;
            if (cut[2] < cut[1]) {
                cut[2] = cut[1];
            }
        } else {
            cut[1] = cut[2] = end; /* other alt settings: all body */
        }
        if (cut[2] > cut[1]) {
            memcpy(copy + (cut[1] - area), s->data + (cut[1] - start), (size_t)(cut[2] - cut[1]));
        }
        for (int k = 0; k < 3; k += 2) {
            if (cut[k + 1] > cut[k] &&
                h7_image_add(body, s->alt, (uint32_t)cut[k], s->data + (cut[k] - start),
                             (size_t)(cut[k + 1] - cut[k]), NULL) != 0) {
                h7_image_free(body);
                free(copy);
                return -1;
            }
        }
    }
    /* The newest record: the last record slot that is not fully erased. */
    for (uint32_t off = size; off > 0 && !*has_record; off -= BOOT_REC_SIZE) {
        const uint8_t *r = copy + off - BOOT_REC_SIZE;
        for (uint32_t i = 0; i < BOOT_REC_SIZE && !*has_record; i++) {
            *has_record = r[i] != 0xFFu;
        }
        if (*has_record) {
            memcpy(record, r, BOOT_REC_SIZE);
        }
    }
    free(copy);
    return 0;
}

int h7_stamp_inspect(const h7_image_t *img, uint32_t slot, h7_stamp_info_t *out)
{
    return h7_stamp_inspect_key(img, slot, NULL, out);
}

int h7_stamp_inspect_key(const h7_image_t *img, uint32_t slot, const boot_sig_key_t *key,
                         h7_stamp_info_t *out)
{
    const flash_map_t *map = flash_map_stm32h743();
    uint32_t size = flash_map_size(map);
    uint8_t *mem = malloc(size);
    if (!mem) {
        return -1;
    }
    memset(mem, 0xFF, size);
    for (size_t i = 0; i < img->count; i++) {
        const h7_segment_t *s = &img->seg[i];
        if (s->alt != 0) {
            continue;
        }
        /* Copy the part that falls inside the flash; the rest cannot be there. */
        uint64_t lo = s->addr > map->base ? s->addr : map->base;
        uint64_t hi = (uint64_t)s->addr + s->len;
        if (hi > (uint64_t)map->base + size) {
            hi = (uint64_t)map->base + size;
        }
        if (hi > lo) {
            memcpy(mem + (lo - map->base), s->data + (lo - s->addr), (size_t)(hi - lo));
        }
    }
    /* The image as the flash, read-only: every sector write protected. */
    ram_flash_t flash;
    ram_flash_init(&flash, map, mem);
    flash.wrp_mask = UINT32_MAX;
    /* Without a key: as an unsigned bootloader (the trailer is reported). */
    out->result = boot_validate_key(&flash.dev, slot_or_default(slot), NULL, &out->info);
    out->sig_checked = key != NULL;
    out->sig_result = BOOT_VALID;
    const flash_map_t *smap = flash_map_stm32h743_signed();
    out->signed_slot_size = boot_slot_size(smap, slot_or_default(slot));
    memset(out->checked_key_id, 0, sizeof out->checked_key_id);
    if (key != NULL) {
        /* As the signed bootloader: its map (the slot ends at its counter
         * log, sector 14), its counter log erased. */
        memcpy(out->checked_key_id, key->id, sizeof out->checked_key_id);
        uint32_t ctr = boot_counter_area(smap);
        memset(mem + (ctr - map->base), 0xFF, BOOT_CTR_AREA_SIZE);
        ram_flash_t sflash;
        ram_flash_init(&sflash, smap, mem);
        sflash.wrp_mask = UINT32_MAX;
        boot_image_info_t si;
        out->sig_result = boot_validate_key(&sflash.dev, slot_or_default(slot), key, &si);
        /* A trailer past the signed slot reads as none there ("image not
         * signed"); a signed board cannot even hold it: say its size. */
        if (out->sig_result == BOOT_ERR_UNSIGNED && out->info.has_sig &&
            (uint64_t)out->info.hdr.image_size + BOOT_SIG_SIZE > out->signed_slot_size) {
            out->sig_result = BOOT_ERR_SIZE;
        }
        if (out->result == BOOT_VALID) {
            out->result = out->sig_result;
        }
    }
    free(mem);
    return 0;
}

int h7_stamp_version_str(const boot_image_version_t *v, char *buf, size_t len)
{
    if (v->build) {
        return snprintf(buf, len, "%u.%u.%u+%lu", v->major, v->minor, v->patch,
                        (unsigned long)v->build);
    }
    return snprintf(buf, len, "%u.%u.%u", v->major, v->minor, v->patch);
}

/* A `git describe` suffix at the end of s[0..*len): "-COUNT-gHASH" (COUNT
 * commits after the tag, HASH 4..64 hex digits of the commit). Found: *len is
 * shortened to exclude it, *count set, the hash copied to hash. */
static bool take_describe(const char *s, size_t *len, unsigned long *count, char *hash,
                          size_t hashlen)
{
    size_t e = *len, h = e;
    while (h > 0 && isxdigit((unsigned char)s[h - 1])) {
        h--;
    }
    size_t nhex = e - h;
    if (nhex < 4 || nhex > 64 || h < 4 || s[h - 1] != 'g' || s[h - 2] != '-') {
        return false;
    }
    size_t c = h - 2, d = c;
    while (d > 0 && isdigit((unsigned char)s[d - 1])) {
        d--;
    }
    if (d == c || d == 0 || s[d - 1] != '-' || c - d > 9) {
        return false;
    }
    *count = strtoul(s + d, NULL, 10);
    snprintf(hash, hashlen, "%.*s", (int)nhex, s + h);
    *len = d - 1;
    return true;
}

/* A semantic-versioning pre-release: dot-separated identifiers of
 * [0-9A-Za-z-], none empty. */
static bool valid_prerelease(const char *s, size_t len)
{
    if (len == 0 || s[0] == '.' || s[len - 1] == '.') {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        char ch = s[i];
        if (ch == '.' && s[i + 1] == '.') {
            return false;
        }
        if (ch != '.' && ch != '-' && !isalnum((unsigned char)ch)) {
            return false;
        }
    }
    return true;
}

bool h7_stamp_parse_version_text(const char *text, boot_image_version_t *v, char *note,
                                 size_t notelen, char *err, size_t errlen)
{
    static const char want[] = "want [v]MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD] or the output of "
                               "`git describe --tags [--dirty]` (v1.2.3-4-gabcdef[-dirty])";
    if (note && notelen) {
        note[0] = '\0';
    }
    if (text == NULL) {
        fail(err, errlen, "no version: %s", want);
        return false;
    }
    const char *s = text;
    if (*s == 'v' || *s == 'V') {
        s++;
    }
    static const struct {
        const char *name;
        unsigned long max;
    } fields[3] = {{"MAJOR", 255}, {"MINOR", 255}, {"PATCH", 65535}};
    unsigned long num[3] = {0, 0, 0}, build = 0;
    for (unsigned i = 0; i < 3; i++) {
        if (i > 0 && *s++ != '.') {
            fail(err, errlen, "bad version '%s': %s", text, want);
            return false;
        }
        if (*s < '0' || *s > '9') {
            fail(err, errlen, "bad version '%s': %s", text, want);
            return false;
        }
        const char *p = s;
        while (*p >= '0' && *p <= '9') {
            p++;
        }
        errno = 0;
        num[i] = strtoul(s, NULL, 10);
        if (errno || num[i] > fields[i].max || p - s > 10) {
            fail(err, errlen, "bad version '%s': %s is at most %lu (the image record's field)",
                 text, fields[i].name, fields[i].max);
            return false;
        }
        s = p;
    }
    /* The rest: [-PRERELEASE][+BUILD], or git describe's [-PRERELEASE]
     * -COUNT-gHASH[-dirty] (COUNT becomes the build number). */
    size_t len = strlen(s);
    bool dirty = false, described = false;
    char hash[65] = "";
    static const char dirty_sfx[] = "-dirty";
    if (len >= sizeof dirty_sfx - 1 && strcmp(s + len - (sizeof dirty_sfx - 1), dirty_sfx) == 0) {
        dirty = true;
        len -= sizeof dirty_sfx - 1;
    }
    if (take_describe(s, &len, &build, hash, sizeof hash)) {
        described = true;
    }
    const char *plus = memchr(s, '+', len);
    size_t pre_end = plus ? (size_t)(plus - s) : len;
    size_t pre_len = 0;
    if (pre_end > 0) {
        if (s[0] != '-' || !valid_prerelease(s + 1, pre_end - 1)) {
            fail(err, errlen, "bad version '%s': %s", text, want);
            return false;
        }
        pre_len = pre_end - 1;
    }
    if (plus) {
        const char *b = plus + 1;
        size_t blen = len - pre_end - 1;
        size_t k = 0;
        while (k < blen && b[k] >= '0' && b[k] <= '9') {
            k++;
        }
        if (blen == 0 || k != blen || blen > 10) {
            fail(err, errlen,
                 "bad version '%s': the build after '+' must be a number (the image record "
                 "holds a 32-bit build number, no text)",
                 text);
            return false;
        }
        errno = 0;
        build = strtoul(b, NULL, 10);
        if (errno || build > 0xFFFFFFFFul) {
            fail(err, errlen, "bad version '%s': BUILD is at most 4294967295", text);
            return false;
        }
        if (described) {
            fail(err, errlen,
                 "bad version '%s': both a +BUILD and git describe's commit count (the build "
                 "number is one of them)",
                 text);
            return false;
        }
    }
    v->major = (uint8_t)num[0];
    v->minor = (uint8_t)num[1];
    v->patch = (uint16_t)num[2];
    v->build = (uint32_t)build;
    /* What the record cannot hold, said rather than dropped in silence. */
    if (note && notelen && (pre_len || described || dirty)) {
        char ver[32];
        h7_stamp_version_str(v, ver, sizeof ver);
        int n = snprintf(note, notelen, "version '%s' is stamped as %s", text, ver);
        const char *sep = ": the image record has no room for";
        if (pre_len && n >= 0 && (size_t)n < notelen) {
            n += snprintf(note + n, notelen - (size_t)n, "%s the pre-release '%.*s'", sep,
                          (int)pre_len, s + 1);
            sep = ",";
        }
        if (described && n >= 0 && (size_t)n < notelen) {
            n += snprintf(note + n, notelen - (size_t)n, "%s the commit %s", sep, hash);
            sep = ",";
        }
        if (dirty && n >= 0 && (size_t)n < notelen) {
            n += snprintf(note + n, notelen - (size_t)n, "%s the '-dirty' mark", sep);
        }
        if (described && n >= 0 && (size_t)n < notelen) {
            snprintf(note + n, notelen - (size_t)n,
                     " (the build number %lu is the count of "
                     "commits after the tag)",
                     build);
        }
    }
    return true;
}

bool h7_stamp_parse_version(const char *s, boot_image_version_t *v)
{
    return h7_stamp_parse_version_text(s, v, NULL, 0, NULL, 0);
}

int h7_stamp_describe_sig(const h7_stamp_info_t *si, char *buf, size_t len)
{
    const boot_image_info_t *in = &si->info;
    char id[2 * BOOT_SIG_KEY_ID_LEN + 1], kid[2 * BOOT_SIG_KEY_ID_LEN + 1];
    h7_key_id_str(in->key_id, id);
    h7_key_id_str(si->checked_key_id, kid);
    if (!in->has_sig) {
        return snprintf(buf, len, "none (unsigned image)%s",
                        si->sig_checked ? ": a signed bootloader refuses it" : "");
    }
    /* Body and trailer past the signed bootloader's slot (sectors 1..13):
     * no signed bootloader starts it, whatever the signature. */
    bool too_big = (uint64_t)in->hdr.image_size + BOOT_SIG_SIZE > si->signed_slot_size;
    char big[160] = "";
    if (too_big) {
        snprintf(big, sizeof big,
                 "%s: %llu bytes with the trailer, a signed bootloader's slot holds %lu",
                 si->sig_checked ? "not checked" : "; too large for a signed bootloader",
                 (unsigned long long)in->hdr.image_size + BOOT_SIG_SIZE,
                 (unsigned long)si->signed_slot_size);
    }
    if (!si->sig_checked) {
        return snprintf(buf, len,
                        "ECDSA P-256, key id %s, security counter %lu (not checked: give -k KEY)%s",
                        id, (unsigned long)in->security_counter, big);
    }
    if (too_big && si->sig_result == BOOT_ERR_SIZE) {
        return snprintf(buf, len, "ECDSA P-256, key id %s, security counter %lu: %s", id,
                        (unsigned long)in->security_counter, big);
    }
    if (si->sig_result == BOOT_VALID) {
        return snprintf(buf, len,
                        "ECDSA P-256, key id %s, security counter %lu: verifies with the key", id,
                        (unsigned long)in->security_counter);
    }
    return snprintf(buf, len,
                    "ECDSA P-256, key id %s, security counter %lu: does NOT verify with the key %s "
                    "(%s)",
                    id, (unsigned long)in->security_counter, kid,
                    boot_validate_reason_name(si->sig_result));
}

int h7_stamp_describe(const h7_stamp_info_t *si, char *buf, size_t len)
{
    const boot_image_info_t *in = &si->info;
    const boot_image_header_t *h = &in->hdr;
    const flash_map_t *map = flash_map_stm32h743();
    uint32_t area = boot_record_area(map);
    char ver[32];
    h7_stamp_version_str(&h->version, ver, sizeof ver);
    if (si->result == BOOT_ERR_NO_IMAGE || si->result == BOOT_ERR_SLOT) {
        return snprintf(buf, len,
                        "slot 0x%08x: no h7dfu image record in the record area 0x%08x.. (%s)\n",
                        in->slot, area, boot_validate_reason_name(si->result));
    }
    unsigned index = (unsigned)((in->record - area) / BOOT_REC_SIZE);
    char sig[256];
    h7_stamp_describe_sig(si, sig, sizeof sig);
    if (si->result == BOOT_ERR_BAD_MAGIC ||
        (si->result == BOOT_ERR_READ && in->fail_addr == in->record)) {
        return snprintf(buf, len,
                        "slot 0x%08x: the newest record (0x%08x, record %u of %u) is not an "
                        "h7dfu image record (%s)\n",
                        in->slot, in->record, index + 1,
                        (unsigned)(map->sector_size / BOOT_REC_SIZE),
                        boot_validate_reason_name(si->result));
    }
    int n = snprintf(
        buf, len,
        "slot        0x%08x\n"
        "version     %s\n"
        "body        0x%08x..0x%08llx, %u bytes\n"
        "record      0x%08x (record %u of %u in the record area)\n"
        "device id   0x%03x\n"
        "body crc    0x%08x\n"
        "header      v%u, %u bytes, crc 0x%08x\n"
        "vectors     sp 0x%08x, reset 0x%08x (table at 0x%08x)\n"
        "signature   %s\n"
        "status      %s%s\n",
        in->slot, ver, h->load_addr,
        (unsigned long long)h->load_addr + h->image_size - (h->image_size ? 1 : 0), h->image_size,
        in->record, index + 1, (unsigned)(map->sector_size / BOOT_REC_SIZE), h->device_id,
        h->body_crc, h->hdr_version, h->hdr_size, h->hdr_crc, in->initial_sp, in->reset_vector,
        h->load_addr + h->vector_offset, sig, si->result == BOOT_VALID ? "valid" : "INVALID: ",
        si->result == BOOT_VALID ? "" : boot_validate_reason_name(si->result));
    return n;
}
