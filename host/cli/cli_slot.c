/* What the CLI knows of the h7dfu bootloader's application slot. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#include "boot.h"
#include "flash.h"
#include "h7_stamp.h"

int cli_slot_prepare(h7_image_t *img, h7_write_cfg_t *cfg, uint8_t record[BOOT_REC_SIZE])
{
    h7_image_t body;
    bool has = false;
    if (h7_stamp_split(img, &body, record, &has) != 0) {
        return -1;
    }
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
    if (h7_image_min_addr(img) < BOOT_APP_SLOT_ADDR) {
        return true;
    }
    h7_stamp_info_t si;
    if (h7_stamp_inspect(img, 0, &si) != 0) {
        snprintf(why, len, "out of memory");
        return false;
    }
    if (si.result == BOOT_VALID) {
        return true;
    }
    snprintf(why, len, "%s", boot_validate_reason_name(si.result));
    return false;
}

/* The device's flash as core/boot reads it, through UPLOAD, a window of
 * SLOT_WIN bytes at a time (the record area is scanned record by record). */
#define SLOT_WIN 4096u

typedef struct slot_reader {
    h7_dfu_client_t *dfu;
    uint32_t base; /* of the window in buf */
    bool have;
    bool lost;    /* a transfer failed for good: the device is gone */
    bool refused; /* the device does not let the host read (a locked bootloader) */
    uint8_t buf[SLOT_WIN];
} slot_reader_t;

static flash_status_t slot_read(void *ctx, uint32_t addr, void *out, size_t len)
{
    slot_reader_t *r = ctx;
    uint8_t *o = out;
    while (len > 0) {
        uint32_t base = addr & ~(SLOT_WIN - 1u);
        if (!r->have || r->base != base) {
            r->have = false;
            if (r->lost) {
                return FLASH_ERR_HW;
            }
            if (h7_dfuse_read(r->dfu, base, r->buf, SLOT_WIN) != 0) {
                /* A refused UPLOAD (an ECC error) is a read error of the
                 * image, as on the chip; anything else ends the check. */
                if (r->dfu->err.code == H7_E_TRANSPORT && r->dfu->err.xfer != H7_XFER_STALL) {
                    r->lost = true;
                    return FLASH_ERR_HW;
                }
                if (h7_dfu_recover(r->dfu) != 0) {
                    r->lost = true;
                }
                if (r->dfu->err.status == H7_STATUS_ERR_TARGET) {
                    /* memory UPLOAD refused: the locked configuration
                     * (docs/production.md) */
                    r->refused = r->lost = true;
                    return FLASH_ERR_HW;
                }
                return FLASH_ERR_ECC;
            }
            r->base = base;
            r->have = true;
        }
        size_t off = addr - base, n = SLOT_WIN - off < len ? SLOT_WIN - off : len;
        memcpy(o, r->buf + off, n);
        o += n;
        addr += (uint32_t)n;
        len -= n;
    }
    return FLASH_OK;
}

int cli_slot_check_device(h7_dfu_client_t *dfu, char *why, size_t len)
{
    slot_reader_t *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        return -1;
    }
    r->dfu = dfu;
    static const flash_ops_t ops = {.read = slot_read};
    flash_dev_t dev = {&ops, r, flash_map_stm32h743()};
    boot_validate_t v = boot_validate(&dev, BOOT_APP_SLOT_ADDR, NULL);
    bool lost = r->lost, refused = r->refused;
    free(r);
    if (refused && h7_dfu_recover(dfu) == 0) {
        return 2;
    }
    if (lost || h7_dfu_recover(dfu) != 0) {
        return -1;
    }
    if (v == BOOT_VALID) {
        return 1;
    }
    snprintf(why, len, "%s", boot_validate_reason_name(v));
    return 0;
}
