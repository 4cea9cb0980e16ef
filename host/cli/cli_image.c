/* Image files as the commands see them: loading with a user-facing error,
 * the -f option, and the output format that follows a file name. */
#include "cli.h"

#include <string.h>

int cli_load_image(const cli_opts_t *o, const char *path, const h7_load_opts_t *lo, h7_image_t *img)
{
    h7_image_error_t ierr;
    h7_image_init(img);
    if (h7_image_load_file(img, path, lo, &ierr) == 0)
        return H7_EXIT_OK;
    cli_error(o, H7_EXIT_FILE, "%s%s", ierr.message,
              ierr.code == H7_IMG_E_NEED_BASE ? " (use -s ADDR, e.g. -s 0x08020000)" : "");
    h7_image_free(img);
    return H7_EXIT_FILE;
}

bool cli_parse_format(const cli_opts_t *o, const char *arg, h7_image_format_t *fmt)
{
    if (h7_image_format_parse(arg, fmt))
        return true;
    cli_error(o, H7_EXIT_USAGE, "unknown format '%s' (bin, ihex, srec, dfuse, dfu, elf)", arg);
    return false;
}

h7_image_format_t cli_output_format(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (dot && (strcmp(dot, ".hex") == 0 || strcmp(dot, ".ihex") == 0))
        return H7_FMT_IHEX;
    if (dot && strcmp(dot, ".dfu") == 0)
        return H7_FMT_DFUSE;
    return H7_FMT_BIN;
}

/* A raw binary from the image's lowest address, gaps filled with 0xFF. */
static int save_bin(const h7_image_t *img, const char *path)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    int rc = 0;
    uint64_t pos = h7_image_min_addr(img);
    for (size_t i = 0; i < img->count && rc == 0; i++) {
        for (; pos < img->seg[i].addr; pos++)
            rc |= fputc(0xff, f) == EOF;
        rc |= fwrite(img->seg[i].data, 1, img->seg[i].len, f) != img->seg[i].len;
        pos += img->seg[i].len;
    }
    rc |= fclose(f) != 0;
    return rc ? -1 : 0;
}

int cli_save_image(const cli_opts_t *o, const h7_image_t *img, const char *path, uint16_t vid,
                   uint16_t pid)
{
    h7_image_format_t fmt = cli_output_format(path);
    h7_image_error_t ierr;
    h7_write_opts_t wo = {.id_vendor = vid, .id_product = pid, .bcd_device = 0xffff};
    if (fmt == H7_FMT_BIN ? save_bin(img, path) == 0
                          : h7_image_save(img, path, fmt, &wo, &ierr) == 0)
        return H7_EXIT_OK;
    if (fmt == H7_FMT_BIN)
        cli_error(o, H7_EXIT_FILE, "cannot write %s", path);
    else
        cli_error(o, H7_EXIT_FILE, "%s", ierr.message);
    return H7_EXIT_FILE;
}
