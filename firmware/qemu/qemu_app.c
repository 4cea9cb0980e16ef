/*
 * The test application for the QEMU boot test: linked at the QEMU slot's
 * vector table (0x00020400), it proves it was entered through its own
 * vector table (VTOR, MSP) and says so by semihosting.
 */
#include <stdint.h>

#include "qemu_semihost.h"

#define SCB_VTOR (*(volatile uint32_t *)0xE000ED08u) /* ARMv7-M B3.2.5 */

extern uint32_t _app_estack;
void app_reset(void);
void app_fault(void);

__attribute__((section(".isr_vector"), used)) const uintptr_t app_vectors[16] = {
    [0] = (uintptr_t)&_app_estack, [1] = (uintptr_t)app_reset, [2] = (uintptr_t)app_fault,
    [3] = (uintptr_t)app_fault,    [4] = (uintptr_t)app_fault, [5] = (uintptr_t)app_fault,
    [6] = (uintptr_t)app_fault,
};

void app_fault(void)
{
    qemu_puts("app: fault\n");
    for (;;) {
    }
}

void app_reset(void)
{
    uint32_t sp;
    __asm__ volatile("mrs %0, msp" : "=r"(sp));
    if (SCB_VTOR != (uint32_t)(uintptr_t)app_vectors) {
        qemu_puts("app: VTOR not set by the bootloader\n");
    } else if (sp > (uint32_t)(uintptr_t)&_app_estack ||
               sp < (uint32_t)(uintptr_t)&_app_estack - 64u) {
        qemu_puts("app: MSP not from the app's vector table\n");
    } else {
        qemu_puts("app: started\n");
    }
    qemu_exit(0);
}
