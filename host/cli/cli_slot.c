/* What the CLI knows of the h7dfu bootloader's application slot. */
#include "cli.h"

#include <string.h>

#include "h7_stamp.h"

void cli_slot_commit_span(const h7_image_t *img, h7_write_cfg_t *cfg)
{
    uint32_t addr, len;
    h7_stamp_header_span(0, &addr, &len);
    for (size_t i = 0; i < img->count; i++) {
        const h7_segment_t *s = &img->seg[i];
        if (s->addr < addr + len && (uint64_t)s->addr + s->len > addr) {
            /* The image covers the header: write it after everything else, so
             * a board interrupted mid-write never holds a valid-looking image. */
            cfg->commit_addr = addr;
            cfg->commit_len = len;
            return;
        }
    }
}

bool cli_slot_image_ok(const h7_image_t *img, char *why, size_t len)
{
    uint32_t addr, hlen;
    h7_stamp_header_span(0, &addr, &hlen);
    /* Images for other places (a whole-flash image for ST's ROM bootloader at
     * 0x08000000, say) are not ours to judge. */
    if (h7_image_min_addr(img) < addr)
        return true;
    h7_stamp_info_t si;
    if (h7_stamp_inspect(img, 0, &si) != 0) {
        snprintf(why, len, "out of memory");
        return false;
    }
    if (si.result == BOOT_VALID)
        return true;
    snprintf(why, len, "%s", boot_validate_reason_name(si.result));
    return false;
}
