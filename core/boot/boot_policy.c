/*
 * Boot decision and the request word that survives a system reset.
 */
#include "boot.h"

void boot_request_set(volatile boot_request_block_t *blk, boot_request_t req)
{
    blk->magic = BOOT_REQ_MAGIC;
    blk->request = (uint32_t)req;
    blk->check = ~(uint32_t)req;
}

boot_request_t boot_request_get(const volatile boot_request_block_t *blk)
{
    uint32_t magic = blk->magic;
    uint32_t req = blk->request;
    uint32_t check = blk->check;
    if (magic != BOOT_REQ_MAGIC || check != ~req || req > BOOT_REQ_ENTER_ROM_BOOTLOADER) {
        return BOOT_REQ_NONE;
    }
    return (boot_request_t)req;
}

void boot_request_clear(volatile boot_request_block_t *blk)
{
    blk->magic = 0;
    blk->request = 0;
    blk->check = 0;
}

const char *boot_request_name(boot_request_t req)
{
    switch (req) {
    case BOOT_REQ_NONE:
        return "none";
    case BOOT_REQ_STAY_IN_DFU:
        return "stay in DFU";
    case BOOT_REQ_START_APP:
        return "start application";
    case BOOT_REQ_ENTER_ROM_BOOTLOADER:
        return "enter ROM bootloader";
    }
    return "unknown";
}

boot_decision_t boot_decide(boot_request_t req, boot_validate_t validation)
{
    boot_decision_t d = {BOOT_STAY_IN_DFU, BOOT_WHY_IMAGE_INVALID, validation};
    if (req == BOOT_REQ_STAY_IN_DFU) {
        d.why = BOOT_WHY_DFU_REQUESTED;
    } else if (req == BOOT_REQ_ENTER_ROM_BOOTLOADER) {
        d.action = BOOT_ENTER_ROM_BOOTLOADER;
        d.why = BOOT_WHY_ROM_REQUESTED;
    } else if (validation == BOOT_VALID) {
        d.action = BOOT_START_APP;
        d.why = req == BOOT_REQ_START_APP ? BOOT_WHY_START_REQUESTED : BOOT_WHY_IMAGE_VALID;
    }
    /* Anything else (including an unknown request value): DFU, image invalid. */
    return d;
}

const char *boot_action_name(boot_action_t a)
{
    switch (a) {
    case BOOT_STAY_IN_DFU:
        return "stay in DFU";
    case BOOT_START_APP:
        return "start application";
    case BOOT_ENTER_ROM_BOOTLOADER:
        return "enter ROM bootloader";
    }
    return "unknown";
}

const char *boot_why_name(boot_why_t w)
{
    switch (w) {
    case BOOT_WHY_DFU_REQUESTED:
        return "DFU requested";
    case BOOT_WHY_IMAGE_INVALID:
        return "no valid application";
    case BOOT_WHY_IMAGE_VALID:
        return "valid application";
    case BOOT_WHY_START_REQUESTED:
        return "start requested after update";
    case BOOT_WHY_ROM_REQUESTED:
        return "ROM bootloader requested";
    }
    return "unknown";
}
