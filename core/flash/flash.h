/*
 * Flash interface: what the device core needs from a flash, whatever backs it
 * (a chip's flash controller driver, a model of one, a test fake).
 *
 * Addresses are absolute (from the map's base). Programming is done a whole
 * flash word (map->word_size bytes) at a time, and a word may be programmed
 * once between erases (flash with ECC per word; the STM32H743's is 256 bits,
 * target/stm32h743/h7_target.h).
 */
#ifndef H7_FLASH_H
#define H7_FLASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flash_map.h"

typedef enum flash_status {
    FLASH_OK = 0,
    FLASH_ERR_ADDRESS,   /* outside the flash, or not word aligned */
    FLASH_ERR_PROTECTED, /* write-protected sector (WRPERR) */
    FLASH_ERR_PROGRAM,   /* word not erased / sequence error (PGSERR, STRBERR) */
    FLASH_ERR_ERASE,     /* erase failed */
    FLASH_ERR_ECC,       /* uncorrectable ECC error on read (DBECCERR) */
    FLASH_ERR_HW,        /* any other controller error (OPERR, INCERR, ...) */
    FLASH_ERR_POWER,     /* power failed during the operation (a flash model's cut) */
    FLASH_BUSY,          /* poll(): the bank's operation is still running */
} flash_status_t;

/*
 * Two ways to change the flash. A driver offers one or both:
 *  - blocking: erase_sector / erase_bank / program_word return when the
 *    operation is over (a flash model, test fakes);
 *  - started: erase_start / program_start start the operation on the
 *    sector's bank and return at once; poll(bank) answers FLASH_BUSY until
 *    it is over, then its result (once; FLASH_OK when idle). Each bank works
 *    on its own (on the STM32H743 each has its own controller, RM0433 4.9:
 *    FLASH_CR1/SR1 for bank 1, FLASH_CR2/SR2 for bank 2), so both banks may
 *    work at the same time, one operation each. Reading a bank while it
 *    works may stall the bus until the operation ends (RM0433 4.3.3 on the
 *    STM32H743): the caller reads only idle banks.
 * core/dfu's flash work (dfu_work.h) uses the started form when poll is set.
 */
typedef struct flash_ops {
    /* Erase one sector (0 .. sector_count-1, counted across banks). */
    flash_status_t (*erase_sector)(void *ctx, unsigned sector);
    /* Erase one whole bank (0 or 1). */
    flash_status_t (*erase_bank)(void *ctx, unsigned bank);
    /* Program one flash word; addr is word aligned, word is map->word_size bytes. */
    flash_status_t (*program_word)(void *ctx, uint32_t addr, const uint8_t *word);
    /* Read len bytes at addr. */
    flash_status_t (*read)(void *ctx, uint32_t addr, void *buf, size_t len);
    /* True when the hardware write protection (option bytes) covers the sector. */
    bool (*is_write_protected)(void *ctx, unsigned sector);
    /* Started form (see above); NULL when the driver only blocks. word is
     * copied before program_start returns. */
    flash_status_t (*erase_start)(void *ctx, unsigned sector);
    flash_status_t (*program_start)(void *ctx, uint32_t addr, const uint8_t *word);
    flash_status_t (*poll)(void *ctx, unsigned bank);
} flash_ops_t;

typedef struct flash_dev {
    const flash_ops_t *ops;
    void *ctx;
    const flash_map_t *map;
} flash_dev_t;

const char *flash_status_name(flash_status_t st);

#endif
