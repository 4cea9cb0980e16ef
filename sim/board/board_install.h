/*
 * Factory programming of the virtual board's flash (what an SWD probe does
 * before the board ever sees USB): h7dfu-sim --install / --bootloader.
 */
#ifndef H7_SIM_BOARD_INSTALL_H
#define H7_SIM_BOARD_INSTALL_H

#include <stddef.h>
#include <stdint.h>

#include "sim_flash.h"

/*
 * Load path (any format h7_image reads: ELF, Intel HEX, S-record, DfuSe, raw
 * binary at bin_base) and program it: every sector it touches is erased, then
 * its bytes are written in whole flash words (gaps inside a word as 0xFF).
 * Reserved sectors (the bootloader's) may be written: this is not DFU.
 * Returns 0, or -1 with a message in err.
 */
int board_install(sim_flash_t *f, const char *path, uint32_t bin_base, char *err, size_t errlen);

#endif
