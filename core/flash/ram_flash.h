/*
 * A flash in RAM: a flash_dev_t over a caller's buffer, for any flash_map_t.
 * Host programs use it where an image stands for the flash (host/stamp
 * validates an image file with the bootloader's own code, the flash read-only
 * there) and the tests of the device code use it as their flash, with
 * switches that make it fail.
 *
 * What it keeps: erased cells read 0xFF; a program writes one whole flash word
 * (map->word_size bytes, word aligned) over whatever the word held (no
 * erased-word check, no ECC: the virtual board's model, sim/flash, has those);
 * write-protected sectors refuse erase and program. Each call checks, in this
 * order: the address, the power cut, the protection, the failure switch.
 *
 * Two forms (flash.h): the blocking one always; ram_flash_set_polled() adds the
 * started form, each operation then reading busy for a number of polls of its
 * bank (banks 0 and 1), with counters of the rules a caller could break.
 */
#ifndef H7_RAM_FLASH_H
#define H7_RAM_FLASH_H

#include <stdbool.h>
#include <stdint.h>

#include "flash.h"

typedef struct ram_flash {
    uint8_t *mem;         /* flash_map_size(&map) bytes from map.base, the caller's */
    uint32_t wrp_mask;    /* bit n: sector n write protected */
    bool fail_program;    /* program returns FLASH_ERR_PROGRAM */
    bool corrupt_program; /* program stores bit 0 of the word's first byte flipped */
    bool fail_erase;      /* erase returns FLASH_ERR_ERASE */
    bool power_cut;       /* every erase and program returns FLASH_ERR_POWER */
    unsigned erases;      /* sectors erased */
    unsigned programs;    /* words programmed */
    /* started form: each operation reads busy for busy_polls polls of its bank */
    unsigned busy_polls;
    unsigned busy[2];
    flash_status_t result[2];
    unsigned max_busy_banks;  /* most banks busy at once, seen */
    unsigned started_on_busy; /* rule broken: an operation started on a busy bank */
    unsigned read_busy;       /* rule broken: a read of a busy bank */
    flash_map_t map;          /* a copy of the map given */
    flash_dev_t dev;          /* the flash as the device code gets it */
} ram_flash_t;

/* Set f up over mem (flash_map_size(map) bytes, left as they are: fill them
 * with 0xFF for an erased flash): nothing protected, no switch on, counters
 * 0, blocking form only. */
void ram_flash_init(ram_flash_t *f, const flash_map_t *map, uint8_t *mem);
/* Offer the started form (erase_start/program_start/poll) besides the
 * blocking one: each operation then reads busy for busy_polls polls. */
void ram_flash_set_polled(ram_flash_t *f, unsigned busy_polls);

#endif
