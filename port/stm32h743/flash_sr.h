/*
 * Decoding of the H743 FLASH_SRx error flags into flash_status_t. Pure
 * function, no register access: also built and tested on the host.
 */
#ifndef H7_FLASH_SR_H
#define H7_FLASH_SR_H

#include <stdbool.h>
#include <stdint.h>

#include "flash.h"

/* sr: FLASH_SR1/2 value after the operation; erase: the operation was an
 * erase (its failures report FLASH_ERR_ERASE). */
flash_status_t h7_flash_decode_sr(uint32_t sr, bool erase);

#endif
