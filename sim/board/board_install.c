/* h7dfu-sim --install / --bootloader: see board_install.h. */
#include "board_install.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h7_image.h"

int board_install(sim_flash_t *f, const char *path, uint32_t bin_base, char *err, size_t errlen)
{
    const flash_map_t *m = sim_flash_map(f);
    const uint32_t size = flash_map_size(m);
    h7_image_t img;
    h7_image_error_t ierr;
    h7_load_opts_t lo = {.format = H7_FMT_AUTO, .has_base = true, .base = bin_base};
    h7_image_init(&img);
    if (h7_image_load_file(&img, path, &lo, &ierr) != 0) {
        snprintf(err, errlen, "%s", ierr.message);
        return -1;
    }
    /* Start from the flash as it is, so untouched sectors are kept. */
    uint8_t *shadow = malloc(size);
    bool touched[32] = {false};
    int rc = -1;
    if (!shadow || m->sector_count > 32) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    memcpy(shadow, sim_flash_raw(f), size);
    for (size_t i = 0; i < img.count; i++) {
        const h7_segment_t *s = &img.seg[i];
        if (s->addr < m->base || (uint64_t)s->addr + s->len > (uint64_t)m->base + size) {
            snprintf(err, errlen, "%s: bytes at 0x%08x..0x%08llx are outside the flash", path,
                     s->addr, (unsigned long long)s->addr + s->len - 1u);
            goto out;
        }
        memcpy(shadow + (s->addr - m->base), s->data, s->len);
        for (uint32_t a = s->addr; a < s->addr + s->len;
             a = flash_map_sector_addr(m, (unsigned)flash_map_sector_of(m, a)) + m->sector_size) {
            touched[flash_map_sector_of(m, a)] = true;
        }
    }
    for (unsigned sec = 0; sec < m->sector_count; sec++) {
        if (!touched[sec]) {
            continue;
        }
        flash_status_t st = sim_flash_erase_sector(f, sec);
        uint32_t first = sec * m->sector_size;
        for (uint32_t off = first; st == FLASH_OK && off < first + m->sector_size;
             off += m->word_size) {
            bool blank = true;
            for (unsigned k = 0; k < m->word_size && blank; k++) {
                blank = shadow[off + k] == 0xff;
            }
            if (!blank) {
                st = sim_flash_program_word(f, m->base + off, shadow + off);
            }
        }
        if (st != FLASH_OK) {
            snprintf(err, errlen, "%s: programming sector %u: %s", path, sec,
                     flash_status_name(st));
            goto out;
        }
    }
    rc = 0;
out:
    free(shadow);
    h7_image_free(&img);
    return rc;
}
