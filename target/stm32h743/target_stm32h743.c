/*
 * The STM32H743's flash maps (h7_target.h has the geometry and its sources).
 */
#include "h7_target.h"

static const flash_map_t h743_map = {
    .name = H7_TARGET_FLASH_NAME,
    .base = H7_TARGET_FLASH_BASE,
    .sector_size = H7_TARGET_FLASH_SECTOR_SIZE,
    .sector_count = H7_TARGET_FLASH_SECTOR_COUNT,
    .sectors_per_bank = H7_TARGET_FLASH_SECTORS_PER_BANK,
    .word_size = H7_TARGET_FLASH_WORD_SIZE,
    .reserved_mask = H7_TARGET_FLASH_RESERVED,
};

static const flash_map_t h743_signed_map = {
    .name = H7_TARGET_FLASH_NAME,
    .base = H7_TARGET_FLASH_BASE,
    .sector_size = H7_TARGET_FLASH_SECTOR_SIZE,
    .sector_count = H7_TARGET_FLASH_SECTOR_COUNT,
    .sectors_per_bank = H7_TARGET_FLASH_SECTORS_PER_BANK,
    .word_size = H7_TARGET_FLASH_WORD_SIZE,
    .reserved_mask = H7_TARGET_FLASH_RESERVED_SIGNED,
};

/* The layout core/boot assumes (image_header.h): the slot right after the
 * bootloader's sector, the record area the map's last sector. */
_Static_assert(H7_TARGET_BL_ADDR == H7_TARGET_FLASH_BASE &&
                   H7_TARGET_BL_SIZE == H7_TARGET_FLASH_SECTOR_SIZE &&
                   H7_TARGET_APP_SLOT_ADDR == H7_TARGET_BL_ADDR + H7_TARGET_BL_SIZE &&
                   H7_TARGET_REC_AREA_ADDR ==
                       H7_TARGET_FLASH_BASE +
                           (H7_TARGET_FLASH_SECTOR_COUNT - 1u) * H7_TARGET_FLASH_SECTOR_SIZE &&
                   H7_TARGET_REC_AREA_SIZE == H7_TARGET_FLASH_SECTOR_SIZE &&
                   H7_TARGET_APP_SLOT_ADDR + H7_TARGET_APP_SLOT_SIZE == H7_TARGET_REC_AREA_ADDR,
               "the STM32H743 layout does not match its flash geometry");

const flash_map_t *flash_map_stm32h743(void)
{
    return &h743_map;
}

const flash_map_t *flash_map_stm32h743_signed(void)
{
    return &h743_signed_map;
}
