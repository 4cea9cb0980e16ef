/*
 * Persistence of the flash model (format documented in sim_flash.h): what a
 * board keeps across power cycles - array, per-word ECC state, write
 * protection - so `h7dfu-sim --flash FILE` runs continue where the last ended.
 */
#include "sim_flash_priv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h7_util.h"

#define HDR_SIZE     32u
#define FILE_VERSION 1u
static const char file_magic[8] = {'H', '7', 'S', 'I', 'M', 'F', 'L', '\0'};

int sim_flash_save(const sim_flash_t *f, const char *path)
{
    uint8_t hdr[HDR_SIZE] = {0};
    memcpy(hdr, file_magic, sizeof file_magic);
    h7_put_le32(hdr + 8, FILE_VERSION);
    h7_put_le32(hdr + 12, f->size);
    h7_put_le32(hdr + 16, f->map->word_size);
    h7_put_le32(hdr + 20, f->map->sector_count);
    h7_put_le32(hdr + 24, f->wp_mask);

    size_t plen = strlen(path);
    char *tmp = malloc(plen + 5);
    if (!tmp) {
        return -1;
    }
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp", 5);

    FILE *fp = fopen(tmp, "wb");
    if (!fp) {
        free(tmp);
        return -1;
    }
    bool ok = fwrite(hdr, 1, sizeof hdr, fp) == sizeof hdr &&
              fwrite(f->data, 1, f->size, fp) == f->size &&
              fwrite(f->state, 1, f->word_count, fp) == f->word_count;
    int err = ok ? 0 : errno;
    if (fclose(fp) != 0 && ok) {
        ok = false;
        err = errno;
    }
    /* Rename only a complete file: a crash mid-save keeps the old one. */
    if (ok && rename(tmp, path) != 0) {
        ok = false;
        err = errno;
    }
    if (!ok) {
        remove(tmp);
        errno = err ? err : EIO;
    }
    free(tmp);
    return ok ? 0 : -1;
}

static int fail(FILE *fp, uint8_t *data, uint8_t *state, int err)
{
    if (fp) {
        fclose(fp);
    }
    free(data);
    free(state);
    errno = err;
    return -1;
}

int sim_flash_load(sim_flash_t *f, const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        if (errno == ENOENT) {
            /* A new board: erased and unprotected. */
            memset(f->data, 0xFF, f->size);
            memset(f->state, SIM_WORD_ERASED, f->word_count);
            f->wp_mask = 0;
            return 0;
        }
        return -1;
    }
    uint8_t hdr[HDR_SIZE];
    if (fread(hdr, 1, sizeof hdr, fp) != sizeof hdr || memcmp(hdr, file_magic, 8) != 0 ||
        h7_get_le32(hdr + 8) != FILE_VERSION || h7_get_le32(hdr + 12) != f->size ||
        h7_get_le32(hdr + 16) != f->map->word_size ||
        h7_get_le32(hdr + 20) != f->map->sector_count) {
        return fail(fp, NULL, NULL, EINVAL);
    }
    uint32_t wp = h7_get_le32(hdr + 24);
    if (f->map->sector_count < 32u && (wp >> f->map->sector_count) != 0) {
        return fail(fp, NULL, NULL, EINVAL);
    }
    /* Read into scratch buffers: a bad file leaves the flash unchanged. */
    uint8_t *data = malloc(f->size);
    uint8_t *state = malloc(f->word_count);
    if (!data || !state) {
        return fail(fp, data, state, ENOMEM);
    }
    if (fread(data, 1, f->size, fp) != f->size ||
        fread(state, 1, f->word_count, fp) != f->word_count || fgetc(fp) != EOF) {
        return fail(fp, data, state, EINVAL);
    }
    uint32_t ws = f->map->word_size;
    for (uint32_t w = 0; w < f->word_count; w++) {
        if (state[w] > SIM_WORD_ECC_CORRUPT) {
            return fail(fp, data, state, EINVAL);
        }
        if (state[w] == SIM_WORD_ERASED) {
            for (uint32_t i = 0; i < ws; i++) {
                if (data[(size_t)w * ws + i] != 0xFF) {
                    return fail(fp, data, state, EINVAL);
                }
            }
        }
    }
    fclose(fp);
    free(f->data);
    free(f->state);
    f->data = data;
    f->state = state;
    f->wp_mask = wp;
    return 0;
}
