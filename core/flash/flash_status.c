/* Names of flash_status_t values, for logs and error messages. */
#include "flash.h"

const char *flash_status_name(flash_status_t st)
{
    switch (st) {
    case FLASH_OK:
        return "ok";
    case FLASH_ERR_ADDRESS:
        return "address outside flash or not word aligned";
    case FLASH_ERR_PROTECTED:
        return "sector write protected (WRPERR)";
    case FLASH_ERR_PROGRAM:
        return "program error: word not erased or bad sequence (PGSERR)";
    case FLASH_ERR_ERASE:
        return "erase failed";
    case FLASH_ERR_ECC:
        return "uncorrectable ECC error on read (DBECCERR)";
    case FLASH_ERR_HW:
        return "flash controller error";
    case FLASH_ERR_POWER:
        return "power lost";
    case FLASH_BUSY:
        return "busy";
    }
    return "unknown flash status";
}
