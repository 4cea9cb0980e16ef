/* A tiny in-memory flash for the DFU unit tests, with failure switches. */
#ifndef H7_TEST_FAKE_FLASH_H
#define H7_TEST_FAKE_FLASH_H

#include <stdbool.h>
#include <stdint.h>

#include "flash.h"

#define FAKE_BASE    0x08000000u
#define FAKE_SECTOR  1024u
#define FAKE_SECTORS 8u
#define FAKE_SIZE    (FAKE_SECTOR * FAKE_SECTORS)

typedef struct fake_flash {
    uint8_t mem[FAKE_SIZE];
    uint32_t wrp_mask;    /* bit n: sector n write protected */
    bool fail_program;    /* program_word returns FLASH_ERR_PROGRAM */
    bool corrupt_program; /* program_word stores a flipped bit (verify fails) */
    bool fail_erase;      /* erase_sector returns FLASH_ERR_ERASE */
    bool power_cut;       /* every modifying call returns FLASH_ERR_POWER */
    unsigned erases, programs;
    /* started form (fake_flash_set_polled): each operation reads busy for
     * busy_polls polls of its bank */
    unsigned busy_polls;
    unsigned busy[2];
    flash_status_t result[2];
    unsigned max_busy_banks;  /* most banks busy at once, seen */
    unsigned started_on_busy; /* violations: a start on a busy bank */
    unsigned read_busy;       /* violations: a read of a busy bank */
    flash_map_t map;
    flash_dev_t dev;
} fake_flash_t;

void fake_flash_init(fake_flash_t *f);
/* Offer the started form (erase_start/program_start/poll) besides the
 * blocking one: the DFU worker then steps. */
void fake_flash_set_polled(fake_flash_t *f, unsigned busy_polls);

#endif
