/*
 * DFU files: the DFU 1.1 suffix (USB DFU 1.1 spec, appendix B), plain DFU
 * files (raw bytes + suffix) and ST's DfuSe container (UM0391): a prefix
 * "DfuSe" v1 + image size + target count, then per target a 274-byte prefix
 * ("Target", alt setting, named flag, 255-byte name, size, element count) and
 * elements (address, size, bytes), then the suffix with bcdDFU 0x011A.
 *
 * The suffix CRC: CRC-32 register started at 0xFFFFFFFF over every byte of the
 * file but the last four, stored without the final inversion, i.e. the
 * complement of the usual IEEE CRC-32.
 */
#include "image_internal.h"

#include <stdlib.h>
#include <string.h>

enum {
    SUFFIX_LEN = 16,
    PREFIX_LEN = 11,
    TARGET_LEN = 274,
    ELEMENT_HDR = 8,
    BCD_DFUSE = 0x011A,
};

static uint32_t suffix_crc(const uint8_t *buf, size_t len)
{
    return ~h7_crc32(0, buf, len - 4);
}

bool img_has_dfu_suffix(const uint8_t *buf, size_t len)
{
    if (len < SUFFIX_LEN) {
        return false;
    }
    const uint8_t *s = buf + len - SUFFIX_LEN;
    return memcmp(s + 8, "UFD", 3) == 0 && s[11] == SUFFIX_LEN &&
           h7_get_le32(s + 12) == suffix_crc(buf, len);
}

static int load_dfuse_body(h7_image_t *img, const uint8_t *buf, size_t body, const char *name,
                           h7_image_error_t *err)
{
    if (body < PREFIX_LEN) {
        return img_fail(err, H7_IMG_E_TRUNCATED, name, 0, 0,
                        "the DfuSe prefix needs %d bytes, the file has %zu before its suffix",
                        PREFIX_LEN, body);
    }
    if (memcmp(buf, "DfuSe", 5) != 0) {
        return img_fail(err, H7_IMG_E_FORMAT, name, 0, 0, "no \"DfuSe\" prefix");
    }
    if (buf[5] != 0x01) {
        return img_fail(err, H7_IMG_E_FORMAT, name, 0, 5, "DfuSe prefix version %u (not 1)",
                        buf[5]);
    }
    uint32_t image_size = h7_get_le32(buf + 6);
    if (image_size != body) {
        return img_fail(err, H7_IMG_E_LENGTH, name, 0, 6,
                        "DfuSe image size %u differs from the file without suffix (%zu)",
                        image_size, body);
    }
    unsigned targets = buf[10];

    h7_image_target_t *tg = calloc(targets ? targets : 1, sizeof(*tg));
    if (!tg) {
        return img_fail(err, H7_IMG_E_NOMEM, name, 0, -1, "out of memory");
    }
    img->targets = tg;
    img->target_count = targets;

    img_builder_t b;
    img_builder_init(&b);
    int rc = -1;
    size_t off = PREFIX_LEN;
    for (unsigned t = 0; t < targets; t++) {
        if (body - off < TARGET_LEN) {
            img_fail(err, H7_IMG_E_TRUNCATED, name, 0, (long)off,
                     "target %u of %u: its %d-byte prefix runs past the data", t + 1, targets,
                     TARGET_LEN);
            goto out;
        }
        const uint8_t *p = buf + off;
        if (memcmp(p, "Target", 6) != 0) {
            img_fail(err, H7_IMG_E_FORMAT, name, 0, (long)off,
                     "target %u of %u: no \"Target\" signature", t + 1, targets);
            goto out;
        }
        tg[t].alt = p[6];
        if (h7_get_le32(p + 7) != 0) {
            memcpy(tg[t].name, p + 11, 255);
            tg[t].name[255] = '\0';
        }
        uint32_t tsize = h7_get_le32(p + 266), nelem = h7_get_le32(p + 270);
        size_t toff = off;
        off += TARGET_LEN;
        if (tsize > body - off) {
            img_fail(err, H7_IMG_E_TRUNCATED, name, 0, (long)toff + 266,
                     "target %u: size %u runs past the data (%zu bytes left)", t + 1, tsize,
                     body - off);
            goto out;
        }
        size_t tend = off + tsize;
        for (uint32_t e = 0; e < nelem; e++) {
            if (tend - off < ELEMENT_HDR) {
                img_fail(err, H7_IMG_E_TRUNCATED, name, 0, (long)off,
                         "target %u element %u: header runs past the target's size", t + 1, e + 1);
                goto out;
            }
            uint32_t addr = h7_get_le32(buf + off), size = h7_get_le32(buf + off + 4);
            if (size > tend - off - ELEMENT_HDR) {
                img_fail(err, H7_IMG_E_TRUNCATED, name, 0, (long)off + 4,
                         "target %u element %u: %u bytes run past the target's size", t + 1, e + 1,
                         size);
                goto out;
            }
            if ((uint64_t)addr + size > 0x100000000ull) {
                img_fail(err, H7_IMG_E_RANGE, name, 0, (long)off,
                         "element: %u bytes at 0x%08x run past 0xFFFFFFFF", size, addr);
                goto out;
            }
            if (img_builder_add(&b, tg[t].alt, addr, buf + off + ELEMENT_HDR, size, (long)off) !=
                0) {
                img_fail(err, H7_IMG_E_NOMEM, name, 0, -1, "out of memory");
                goto out;
            }
            off += ELEMENT_HDR + size;
        }
        if (off != tend) {
            img_fail(err, H7_IMG_E_LENGTH, name, 0, (long)toff + 266,
                     "target %u: size %u but its %u elements take %zu", t + 1, tsize, nelem,
                     off - (toff + TARGET_LEN));
            goto out;
        }
    }
    if (off != body) {
        img_fail(err, H7_IMG_E_LENGTH, name, 0, (long)off, "%zu stray bytes after the last target",
                 body - off);
        goto out;
    }
    img_overlap_t ov;
    int f = img_builder_finish(&b, img, &ov);
    if (f < 0) {
        img_fail(err, H7_IMG_E_NOMEM, name, 0, -1, "out of memory");
        goto out;
    }
    if (f > 0) {
        img_fail(err, H7_IMG_E_OVERLAP, name, 0, ov.origin_second,
                 "element at 0x%08x (alt %u) overlaps the element at offset %ld", ov.addr, ov.alt,
                 ov.origin_first);
        goto out;
    }
    rc = 0;
out:
    img_builder_free(&b);
    return rc;
}

int img_load_dfu(h7_image_t *img, const uint8_t *buf, size_t len, const char *name,
                 h7_image_format_t fmt, const h7_load_opts_t *opts, h7_image_error_t *err)
{
    if (len < SUFFIX_LEN) {
        return img_fail(err, H7_IMG_E_TRUNCATED, name, 0, 0,
                        "%zu bytes: too short for a DFU suffix (16 bytes)", len);
    }
    size_t body = len - SUFFIX_LEN;
    const uint8_t *s = buf + body;
    if (memcmp(s + 8, "UFD", 3) != 0) {
        return img_fail(err, H7_IMG_E_FORMAT, name, 0, (long)body + 8,
                        "no DFU suffix (signature \"UFD\" missing)");
    }
    if (s[11] != SUFFIX_LEN) {
        return img_fail(err, H7_IMG_E_LENGTH, name, 0, (long)body + 11,
                        "DFU suffix length %u (expected 16)", s[11]);
    }
    uint32_t want = suffix_crc(buf, len), got = h7_get_le32(s + 12);
    if (got != want) {
        return img_fail(err, H7_IMG_E_CHECKSUM, name, 0, (long)body + 12,
                        "the DFU suffix says CRC 0x%08x but the data gives 0x%08x (corrupt file)",
                        got, want);
    }
    img->has_suffix = true;
    img->bcd_device = h7_get_le16(s);
    img->id_product = h7_get_le16(s + 2);
    img->id_vendor = h7_get_le16(s + 4);
    img->bcd_dfu = h7_get_le16(s + 6);

    if (fmt == H7_FMT_DFUSE) {
        if (img->bcd_dfu != BCD_DFUSE) {
            return img_fail(err, H7_IMG_E_FORMAT, name, 0, (long)body + 6,
                            "bcdDFU 0x%04x in the suffix; a DfuSe file has 0x011A", img->bcd_dfu);
        }
        return load_dfuse_body(img, buf, body, name, err);
    }
    if (!opts || !opts->has_base) {
        return img_fail(err, H7_IMG_E_NEED_BASE, name, 0, -1,
                        "a plain DFU file has no address: give a base address");
    }
    if ((uint64_t)opts->base + body > 0x100000000ull) {
        return img_fail(err, H7_IMG_E_RANGE, name, 0, -1, "%zu bytes at 0x%08x run past 0xFFFFFFFF",
                        body, opts->base);
    }
    if (body == 0) {
        return img_fail(err, H7_IMG_E_EMPTY, name, 0, -1, "the file holds only a suffix");
    }
    return h7_image_add(img, 0, opts->base, buf, body, err);
}

/* ---- writer --------------------------------------------------------------- */

static const char *target_name(const h7_image_t *img, uint8_t alt, const h7_write_opts_t *opts)
{
    for (size_t i = 0; i < img->target_count; i++) {
        if (img->targets[i].alt == alt && img->targets[i].name[0]) {
            return img->targets[i].name;
        }
    }
    return opts && opts->target_name ? opts->target_name : "ST...";
}

int img_write_dfuse(const h7_image_t *img, const h7_write_opts_t *opts, img_out_t *o)
{
    /* Count targets (segments are sorted by alt) and check the sizes fit. */
    unsigned targets = 0;
    uint64_t total = PREFIX_LEN;
    for (size_t i = 0; i < img->count; i++) {
        if (i == 0 || img->seg[i].alt != img->seg[i - 1].alt) {
            targets++;
            total += TARGET_LEN;
        }
        total += ELEMENT_HDR + (uint64_t)img->seg[i].len;
    }
    if (targets > 255 || total > UINT32_MAX) {
        return -1;
    }

    uint8_t prefix[PREFIX_LEN] = {'D', 'f', 'u', 'S', 'e', 0x01};
    h7_put_le32(prefix + 6, (uint32_t)total);
    prefix[10] = (uint8_t)targets;
    img_out_put(o, prefix, sizeof(prefix));

    for (size_t i = 0; i < img->count;) {
        size_t j = i;
        uint64_t tsize = 0;
        while (j < img->count && img->seg[j].alt == img->seg[i].alt) {
            tsize += ELEMENT_HDR + (uint64_t)img->seg[j++].len;
        }
        uint8_t tp[TARGET_LEN] = {'T', 'a', 'r', 'g', 'e', 't'};
        tp[6] = img->seg[i].alt;
        h7_put_le32(tp + 7, 1);
        const char *tname = target_name(img, img->seg[i].alt, opts);
        size_t tlen = strlen(tname);
        memcpy(tp + 11, tname, tlen < 254 ? tlen : 254); /* NUL-padded 255-byte field */
        h7_put_le32(tp + 266, (uint32_t)tsize);
        h7_put_le32(tp + 270, (uint32_t)(j - i));
        img_out_put(o, tp, sizeof(tp));
        for (; i < j; i++) {
            uint8_t eh[ELEMENT_HDR];
            h7_put_le32(eh, img->seg[i].addr);
            h7_put_le32(eh + 4, img->seg[i].len);
            img_out_put(o, eh, sizeof(eh));
            img_out_put(o, img->seg[i].data, img->seg[i].len);
        }
    }

    uint8_t sfx[SUFFIX_LEN];
    h7_put_le16(sfx, opts ? opts->bcd_device : 0xFFFF);
    h7_put_le16(sfx + 2, opts ? opts->id_product : 0xFFFF);
    h7_put_le16(sfx + 4, opts ? opts->id_vendor : 0xFFFF);
    h7_put_le16(sfx + 6, BCD_DFUSE);
    memcpy(sfx + 8, "UFD", 3);
    sfx[11] = SUFFIX_LEN;
    h7_put_le32(sfx + 12, 0);
    img_out_put(o, sfx, sizeof(sfx));
    if (!o->oom) {
        h7_put_le32(o->buf + o->len - 4, suffix_crc(o->buf, o->len));
    }
    return 0;
}
