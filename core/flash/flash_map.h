/*
 * The memory map of a flash: where it is, how it is cut into sectors and banks,
 * its programming unit, and which sectors the DFU side must never touch. A
 * chip's maps come with its target description (h7_target.h, e.g.
 * flash_map_stm32h743() in target/stm32h743).
 */
#ifndef H7_FLASH_MAP_H
#define H7_FLASH_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct flash_map {
    const char *name;          /* "Internal Flash" */
    uint32_t base;             /* first byte */
    uint32_t sector_size;      /* bytes */
    uint16_t sector_count;     /* all banks */
    uint16_t sectors_per_bank; /* sectors of one bank */
    uint16_t word_size;        /* programming unit in bytes */
    uint32_t reserved_mask;    /* bit n: sector n belongs to the bootloader */
} flash_map_t;

static inline uint32_t flash_map_size(const flash_map_t *m)
{
    return m->sector_size * m->sector_count;
}

/* Sector index holding addr, or -1 when addr is outside the flash. */
int flash_map_sector_of(const flash_map_t *m, uint32_t addr);
uint32_t flash_map_sector_addr(const flash_map_t *m, unsigned sector);
bool flash_map_contains(const flash_map_t *m, uint32_t addr, uint32_t len);
bool flash_map_is_reserved(const flash_map_t *m, unsigned sector);

/*
 * The DfuSe memory-layout string of the map, e.g. the STM32H743's
 * "@Internal Flash  /0x081E0000/01*128Kg/0x08020000/14*128Kg/0x08000000/01*128Ka":
 * reserved sectors readable only ('a'), the others readable, erasable and
 * writable ('g'); zones from the highest address down, the last sector a zone
 * of its own (why: flash_map.c).
 * Returns the string length (excluding NUL), or 0 when buf is too small.
 */
size_t flash_map_dfuse_layout(const flash_map_t *m, char *buf, size_t len);

#endif
