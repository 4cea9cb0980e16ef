/* Image files as the commands see them: loading with a user-facing error,
 * the -s and -f options, and the output format that follows a file name. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#include "boot.h"
#include "h7_stamp.h"

/*
 * A stamped raw binary (h7dfu's own container, written by `h7dfu image stamp
 * ... OUT.bin`): the 64-byte image record, then the body from the record's
 * load address. Recognised by a record whose magic, format and CRC hold.
 * Returns the record's load address, or 0 when path is not one.
 */
static uint32_t stamped_bin_load_addr(const char *path, const h7_load_opts_t *lo)
{
    if (lo && lo->format != H7_FMT_AUTO && lo->format != H7_FMT_BIN) {
        return 0;
    }
    uint8_t raw[BOOT_HDR_SIZE];
    FILE *f = fopen(path, "rb");
    if (!f) {
        return 0;
    }
    size_t n = fread(raw, 1, sizeof raw, f);
    fclose(f);
    boot_image_header_t h;
    boot_header_decode(raw, &h);
    if (n != sizeof raw || h.magic != BOOT_HDR_MAGIC || h.hdr_version != BOOT_HDR_VERSION ||
        h.hdr_size != BOOT_HDR_SIZE || h.hdr_crc != boot_header_crc(raw) ||
        h.load_addr < BOOT_HDR_SIZE) {
        return 0;
    }
    return h.load_addr;
}

/* The container loaded at load_addr - 64 becomes body + record. */
static int split_stamped_bin(h7_image_t *img, uint32_t load_addr)
{
    if (img->count != 1 || img->seg[0].addr != load_addr - BOOT_HDR_SIZE ||
        img->seg[0].len <= BOOT_HDR_SIZE) {
        return -1;
    }
    h7_image_t out;
    h7_image_init(&out);
    const h7_segment_t *s = &img->seg[0];
    if (h7_image_add(&out, 0, load_addr, s->data + BOOT_HDR_SIZE, s->len - BOOT_HDR_SIZE, NULL) ||
        h7_image_add(&out, 0, BOOT_REC_AREA_ADDR, s->data, BOOT_HDR_SIZE, NULL)) {
        h7_image_free(&out);
        return -1;
    }
    h7_segment_t *seg = img->seg;
    size_t count = img->count;
    img->seg = out.seg;
    img->count = out.count;
    out.seg = seg;
    out.count = count;
    h7_image_free(&out);
    return 0;
}

int cli_check_base_used(const cli_opts_t *o, const char *path, const h7_load_opts_t *lo,
                        h7_image_t *img)
{
    if (!lo->has_base || img->format == H7_FMT_BIN || img->format == H7_FMT_DFU) {
        return H7_EXIT_OK;
    }
    cli_error(o, H7_EXIT_USAGE,
              "-s 0x%08x would have no effect: %s is %s, which carries its own addresses "
              "(-s is for a raw binary); drop -s",
              lo->base, path, h7_image_format_name(img->format));
    h7_image_free(img);
    return H7_EXIT_USAGE;
}

int cli_load_image(const cli_opts_t *o, const char *path, const h7_load_opts_t *lo, h7_image_t *img)
{
    h7_image_error_t ierr;
    h7_image_init(img);
    uint32_t stamped = stamped_bin_load_addr(path, lo);
    if (stamped) {
        h7_load_opts_t so = {
            .format = H7_FMT_BIN, .has_base = true, .base = stamped - BOOT_HDR_SIZE};
        if (h7_image_load_file(img, path, &so, &ierr) == 0 &&
            split_stamped_bin(img, stamped) == 0) {
            return H7_EXIT_OK;
        }
        h7_image_free(img);
        h7_image_init(img);
    }
    if (h7_image_load_file(img, path, lo, &ierr) == 0) {
        if (img->warning[0] != '\0') {
            fprintf(stderr, "h7dfu: warning: %s: %s\n", path, img->warning);
        }
        return H7_EXIT_OK;
    }
    cli_error(o, H7_EXIT_FILE, "%s%s", ierr.message,
              ierr.code == H7_IMG_E_NEED_BASE ? " (use -s ADDR, e.g. -s 0x08020000)" : "");
    h7_image_free(img);
    return H7_EXIT_FILE;
}

bool cli_parse_format(const cli_opts_t *o, const char *arg, h7_image_format_t *fmt)
{
    if (h7_image_format_parse(arg, fmt)) {
        return true;
    }
    cli_error(o, H7_EXIT_USAGE, "unknown format '%s' (bin, ihex, srec, dfuse, dfu, elf)", arg);
    return false;
}

bool cli_load_opt(const cli_opts_t *o, int c, const char *arg, h7_load_opts_t *lo)
{
    if (c == 'f') {
        return cli_parse_format(o, arg, &lo->format);
    }
    if (!cli_parse_u32(arg, &lo->base)) {
        cli_error(o, H7_EXIT_USAGE, "bad -s '%s': want an address", arg);
        return false;
    }
    lo->has_base = true;
    return true;
}

h7_image_format_t cli_output_format(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (dot && (strcmp(dot, ".hex") == 0 || strcmp(dot, ".ihex") == 0)) {
        return H7_FMT_IHEX;
    }
    if (dot && strcmp(dot, ".dfu") == 0) {
        return H7_FMT_DFUSE;
    }
    return H7_FMT_BIN;
}

/* A raw binary from the image's lowest address, gaps filled with 0xFF. */
static int save_bin(const h7_image_t *img, const char *path)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        return -1;
    }
    int rc = 0;
    uint64_t pos = h7_image_min_addr(img);
    for (size_t i = 0; i < img->count && rc == 0; i++) {
        for (; pos < img->seg[i].addr; pos++) {
            rc |= fputc(0xff, f) == EOF;
        }
        rc |= fwrite(img->seg[i].data, 1, img->seg[i].len, f) != img->seg[i].len;
        pos += img->seg[i].len;
    }
    rc |= fclose(f) != 0;
    return rc ? -1 : 0;
}

/* A stamped image as a raw binary: the record, then the body (h7dfu's own
 * container; a plain raw binary cannot hold the body at 0x08020000 and the
 * record at 0x081E0000 without 1.75 MiB of 0xFF between them). */
static int save_stamped_bin(const h7_image_t *body, const uint8_t rec[BOOT_REC_SIZE],
                            const char *path)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.body", path) >= (int)sizeof tmp || save_bin(body, tmp) != 0) {
        return -1;
    }
    FILE *in = fopen(tmp, "rb"), *out = fopen(path, "wb");
    int rc = in && out ? 0 : -1;
    if (rc == 0) {
        rc |= fwrite(rec, 1, BOOT_REC_SIZE, out) != BOOT_REC_SIZE;
    }
    char buf[8192];
    size_t n;
    while (rc == 0 && (n = fread(buf, 1, sizeof buf, in)) > 0) {
        rc |= fwrite(buf, 1, n, out) != n;
    }
    if (in) {
        fclose(in);
    }
    if (out) {
        rc |= fclose(out) != 0;
    }
    remove(tmp);
    return rc ? -1 : 0;
}

int cli_save_image(const cli_opts_t *o, const h7_image_t *img, const char *path, uint16_t vid,
                   uint16_t pid)
{
    h7_image_format_t fmt = cli_output_format(path);
    h7_image_error_t ierr;
    h7_write_opts_t wo = {.id_vendor = vid, .id_product = pid, .bcd_device = 0xffff};
    if (fmt == H7_FMT_BIN ? save_bin(img, path) == 0
                          : h7_image_save(img, path, fmt, &wo, &ierr) == 0) {
        return H7_EXIT_OK;
    }
    if (fmt == H7_FMT_BIN) {
        cli_error(o, H7_EXIT_FILE, "cannot write %s", path);
    } else {
        cli_error(o, H7_EXIT_FILE, "%s", ierr.message);
    }
    return H7_EXIT_FILE;
}

int cli_save_stamped(const cli_opts_t *o, const h7_image_t *img, const char *path, uint16_t vid,
                     uint16_t pid)
{
    if (cli_output_format(path) != H7_FMT_BIN) {
        return cli_save_image(o, img, path, vid, pid);
    }
    h7_image_t body;
    uint8_t rec[BOOT_REC_SIZE];
    bool has = false;
    if (h7_stamp_split(img, &body, rec, &has) != 0) {
        cli_error(o, H7_EXIT_FILE, "out of memory");
        return H7_EXIT_FILE;
    }
    int rc = has && body.count > 0 ? save_stamped_bin(&body, rec, path) : save_bin(img, path);
    h7_image_free(&body);
    if (rc == 0) {
        return H7_EXIT_OK;
    }
    cli_error(o, H7_EXIT_FILE, "cannot write %s", path);
    return H7_EXIT_FILE;
}
