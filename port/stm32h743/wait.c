/*
 * Bounded waits on hardware flags, and what happens when one never comes.
 */
#include "h743_port.h"

bool h743_wait_reg(const volatile uint32_t *reg, uint32_t mask, uint32_t want, uint32_t polls)
{
    for (uint32_t n = 0; n < polls; n++) {
        if ((*reg & mask) == want) {
            return true;
        }
    }
    return (*reg & mask) == want;
}

void h743_hw_fail(void)
{
    h743_reset_with_request(BOOT_REQ_ENTER_ROM_BOOTLOADER);
}
