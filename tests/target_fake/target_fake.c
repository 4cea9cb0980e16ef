/* FAKE-1's flash map (h7_target.h). */
#include "h7_target.h"

static const flash_map_t fake_map = {
    .name = H7_TARGET_FLASH_NAME,
    .base = H7_TARGET_FLASH_BASE,
    .sector_size = H7_TARGET_FLASH_SECTOR_SIZE,
    .sector_count = H7_TARGET_FLASH_SECTOR_COUNT,
    .sectors_per_bank = H7_TARGET_FLASH_SECTORS_PER_BANK,
    .word_size = H7_TARGET_FLASH_WORD_SIZE,
    .reserved_mask = H7_TARGET_FLASH_RESERVED,
};

const flash_map_t *flash_map_fake(void)
{
    return &fake_map;
}
