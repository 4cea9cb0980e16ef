/*
 * The flash of the DFU tests: 8 sectors of 1 KiB in two banks, 32-byte words,
 * sector 0 reserved (the bootloader's), in RAM (core/flash/ram_flash.h: the
 * failure switches, the started form, the counters).
 */
#ifndef H7_TEST_FAKE_FLASH_H
#define H7_TEST_FAKE_FLASH_H

#include <stdint.h>
#include <string.h>

#include "ram_flash.h"

#define FAKE_BASE    0x08000000u
#define FAKE_SECTOR  1024u
#define FAKE_SECTORS 8u
#define FAKE_SIZE    (FAKE_SECTOR * FAKE_SECTORS)

/* f over mem (FAKE_SIZE bytes), erased. */
static inline void fake_flash_init(ram_flash_t *f, uint8_t *mem)
{
    static const flash_map_t map = {
        .name = "Fake Flash",
        .base = FAKE_BASE,
        .sector_size = FAKE_SECTOR,
        .sector_count = FAKE_SECTORS,
        .sectors_per_bank = 4,
        .word_size = 32,
        .reserved_mask = 0x1u, /* sector 0: the bootloader */
    };
    memset(mem, 0xff, FAKE_SIZE);
    ram_flash_init(f, &map, mem);
}

#endif
