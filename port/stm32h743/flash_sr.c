#include "flash_sr.h"

#include "regs/flash_ctl.h"

/*
 * RM0433 4.7 "FLASH error management" and 4.9.5 FLASH_SRx, in order of
 * precedence (the first cause names the failure):
 *   WRPERR  write/erase on a write-protected sector      -> PROTECTED
 *   RDPERR / RDSERR  access to a read-/secure-protected area -> PROTECTED
 *   DBECCERR double ECC error (uncorrectable read)        -> ECC
 *   PGSERR  programming sequence error (e.g. word not erased,
 *           missing PG / START order)                    -> PROGRAM / ERASE
 *   STRBERR strobe error (word written twice before QW)   -> PROGRAM / ERASE
 *   INCERR  inconsistency (flash word spans write buffers) -> PROGRAM / ERASE
 *   OPERR   write/erase error (operation aborted)         -> HW
 *   SNECCERR single ECC error, corrected: data is right   -> OK
 *   EOP, CRCEND: completion flags, not errors             -> OK
 */
flash_status_t h7_flash_decode_sr(uint32_t sr, bool erase)
{
    if (sr & FLASH_SR_WRPERR) {
        return FLASH_ERR_PROTECTED;
    }
    if (sr & (FLASH_SR_RDPERR | FLASH_SR_RDSERR)) {
        return FLASH_ERR_PROTECTED;
    }
    if (sr & FLASH_SR_DBECCERR) {
        return FLASH_ERR_ECC;
    }
    if (sr & (FLASH_SR_PGSERR | FLASH_SR_STRBERR | FLASH_SR_INCERR)) {
        return erase ? FLASH_ERR_ERASE : FLASH_ERR_PROGRAM;
    }
    if (sr & FLASH_SR_OPERR) {
        return FLASH_ERR_HW;
    }
    return FLASH_OK;
}
