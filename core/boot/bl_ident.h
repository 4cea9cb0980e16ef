/*
 * The h7dfu bootloader's identity: 16 bytes the bootloader image carries at a
 * fixed offset of its flash region (sector 0 on the STM32H743), right after
 * its vector table. The host's `h7dfu update-bootloader` refuses an image
 * without it (or built for another chip), and the virtual board recognises
 * the h7dfu bootloader in sector 0 by it. Header only: the firmware needs
 * the layout, the host and the virtual board also the check.
 *
 *   offset  size  field
 *   0x00    4     magic "H7BL"
 *   0x04    2     device_id: the target's (H7_TARGET_DEVICE_ID; 0x450 on the
 *                 STM32H743, target/stm32h743/h7_target.h)
 *   0x06    1+1   version major, minor
 *   0x08    4     base: where it is linked, the bootloader's region
 *                 (H7_TARGET_BL_ADDR; 0x08000000, sector 0, on the STM32H743)
 *   0x0C    4     image_size: bytes from base (vector table to the end of
 *                 the initialised data), at most the region
 *                 (H7_TARGET_BL_SIZE; one 128 KiB sector on the STM32H743)
 *
 * The identity's offset is the size of the target's vector table
 * (H7_TARGET_VECTOR_TABLE_SIZE; 0x298 on the STM32H743).
 */
#ifndef H7_BL_IDENT_H
#define H7_BL_IDENT_H

#include <stdbool.h>
#include <stdint.h>

#include "boot.h"
#include "h7_util.h"

#define H7_BL_IDENT_MAGIC 0x4C423748u /* bytes "H7BL" */
/* After the vector table (h7_target.h). The bootloader's linker script
 * asserts the placement. */
#define H7_BL_IDENT_OFFSET  H7_TARGET_VECTOR_TABLE_SIZE
#define H7_BL_IDENT_SIZE    16u
#define H7_BL_BASE          H7_TARGET_BL_ADDR
#define H7_BL_SECTOR_SIZE   H7_TARGET_BL_SIZE
#define H7_BL_VERSION_MAJOR 1u
#define H7_BL_VERSION_MINOR 0u

typedef struct h7_bl_ident {
    uint32_t magic;
    uint16_t device_id;
    uint8_t major, minor;
    uint32_t base;
    uint32_t image_size;
} h7_bl_ident_t;

typedef enum h7_bl_check {
    H7_BL_OK = 0,
    H7_BL_NO_IDENT,     /* too short, or no "H7BL" at the identity's offset */
    H7_BL_WRONG_DEVICE, /* built for another chip */
    H7_BL_BAD_BASE,     /* not linked for H7_BL_BASE */
    H7_BL_BAD_SIZE,     /* size past the region, or past the bytes given */
    H7_BL_BAD_VECTORS,  /* initial SP or reset vector implausible */
} h7_bl_check_t;

/* img: the bytes from H7_BL_BASE on (len of them, erased bytes 0xFF).
 * Fills *out (may be NULL) from the identity whenever its magic is there. */
static inline h7_bl_check_t h7_bl_check(const uint8_t *img, uint32_t len, h7_bl_ident_t *out)
{
    if (len < H7_BL_IDENT_OFFSET + H7_BL_IDENT_SIZE) {
        return H7_BL_NO_IDENT;
    }
    const uint8_t *p = img + H7_BL_IDENT_OFFSET;
    h7_bl_ident_t id = {
        .magic = h7_get_le32(p),
        .device_id = h7_get_le16(p + 4),
        .major = p[6],
        .minor = p[7],
        .base = h7_get_le32(p + 8),
        .image_size = h7_get_le32(p + 12),
    };
    if (id.magic != H7_BL_IDENT_MAGIC) {
        return H7_BL_NO_IDENT;
    }
    if (out) {
        *out = id;
    }
    if (id.device_id != BOOT_DEVICE_ID) {
        return H7_BL_WRONG_DEVICE;
    }
    if (id.base != H7_BL_BASE) {
        return H7_BL_BAD_BASE;
    }
    if (id.image_size < H7_BL_IDENT_OFFSET + H7_BL_IDENT_SIZE ||
        id.image_size > H7_BL_SECTOR_SIZE || id.image_size > len) {
        return H7_BL_BAD_SIZE;
    }
    if (!boot_vector_sp_ok(h7_get_le32(img)) ||
        !boot_vector_reset_ok(h7_get_le32(img + 4), H7_BL_BASE, id.image_size)) {
        return H7_BL_BAD_VECTORS;
    }
    return H7_BL_OK;
}

static inline const char *h7_bl_check_name(h7_bl_check_t c)
{
    switch (c) {
    case H7_BL_OK:
        return "an h7dfu bootloader";
    case H7_BL_NO_IDENT:
        return "no h7dfu bootloader identity (\"H7BL\" at offset " H7_TARGET_VECTOR_TABLE_SIZE_TEXT
               ")";
    case H7_BL_WRONG_DEVICE:
        return "built for another chip";
    case H7_BL_BAD_BASE:
        return "not linked for " H7_TARGET_BL_ADDR_TEXT;
    case H7_BL_BAD_SIZE:
        return "its size is past " H7_TARGET_BL_REGION_TEXT " or past the image";
    case H7_BL_BAD_VECTORS:
        return "no valid vector table (initial SP, reset vector)";
    }
    return "?";
}

#endif
