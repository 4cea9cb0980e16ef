/* What the CLI knows of the h7dfu bootloader's application slot. */
#include "cli.h"

#include <string.h>

#include "h7_stamp.h"

int cli_slot_prepare(h7_image_t *img, h7_write_cfg_t *cfg, uint8_t record[BOOT_REC_SIZE])
{
    h7_image_t body;
    bool has = false;
    if (h7_stamp_split(img, &body, record, &has) != 0)
        return -1;
    /* A stamped image (a body, and a record of the current format in the
     * record area): the record is not written as it stands (that would erase
     * sector 15 at every update) but appended after the body is written and
     * verified, so a board interrupted mid-write never holds a valid-looking
     * image. Other data for sector 15 is written as it stands. */
    bool stamped = has && body.count > 0 && record[0] == 'H' && record[1] == '7' &&
                   record[2] == 'I' && record[3] == 'M' && record[4] == BOOT_HDR_VERSION &&
                   record[5] == 0;
    if (!stamped) {
        h7_image_free(&body);
        return 0;
    }
    /* img keeps its file's details (format, suffix, targets), body's data. */
    h7_segment_t *seg = img->seg;
    size_t count = img->count;
    img->seg = body.seg;
    img->count = body.count;
    body.seg = seg;
    body.count = count;
    h7_image_free(&body);
    cfg->record = record;
    cfg->record_area = BOOT_REC_AREA_ADDR;
    cfg->record_area_size = BOOT_REC_AREA_SIZE;
    cfg->record_size = BOOT_REC_SIZE;
    return 0;
}

bool cli_slot_image_ok(const h7_image_t *img, char *why, size_t len)
{
    /* Images for other places (a whole-flash image for ST's ROM bootloader at
     * 0x08000000, say) are not ours to judge. */
    if (h7_image_min_addr(img) < BOOT_APP_SLOT_ADDR)
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
