/*
 * The virtual H743 flash for the fuzzers: the sim/flash model behind a shim
 * that aborts when anything erases or programs the bootloader's sector 0, with
 * a cheap reset between inputs (only sectors the last input touched are
 * erased again).
 */
#ifndef H7_FUZZ_FLASH_H
#define H7_FUZZ_FLASH_H

#include "flash.h"
#include "sim_flash.h"

/* Back to the starting board: powered, nothing write protected, no power
 * cut armed, sector 0 holding the bootloader pattern, the rest erased. */
void fuzz_flash_reset(void);
/* The flash as the device code gets it (through the shim). */
const flash_dev_t *fuzz_flash_dev(void);
sim_flash_t *fuzz_flash_sim(void);
/* Abort unless sector 0 still holds exactly the bootloader pattern. */
void fuzz_flash_check_boot(void);

#endif
