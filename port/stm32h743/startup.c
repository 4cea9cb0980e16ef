/*
 * Cortex-M7 start-up for the STM32H743: the vector table and Reset_Handler.
 *
 * Order in Reset_Handler, and why:
 *  0. VTOR to this image's own table before anything can fault: a core
 *     entered by a jump (ST's ROM bootloader's leave, a debugger) may have
 *     VTOR pointing at another image's handlers. Then the code to the
 *     region it runs from (the bootloader's ITCM; linker/sections.ld).
 *  1. .data copy and .bss zero (linker symbols from linker/sections.ld); the
 *     shared .noinit request block is in neither, so it survives.
 *  2. FPU access (CPACR CP10/CP11): the toolchain uses -mfloat-abi=hard and
 *     may emit FP instructions in any C function, h743_early_boot() included.
 *  3. h743_early_boot(): the bootloader's boot decision (core/boot), while
 *     clocks, caches, USB and interrupts are still in their reset state, so
 *     the application (or ST's ROM bootloader) starts as if straight out of
 *     reset; h743_jump_to_vectors() puts CPACR and CONTROL back.
 *  4. I- and D-cache on (cache.c). DTCM, where all our RAM lives, is never
 *     cached; the flash is (write-through), so the flash driver invalidates
 *     the lines it changes (flash_h7.c).
 *  5. main().
 */
#include <stdint.h>
#include <string.h>

#include "h743_port.h"
#include "regs/cm7.h"

/* 150 peripheral interrupt positions on the STM32H743 (RM0433 NVIC chapter,
 * "Interrupt and exception vectors": positions 0..149, the last one WKUP;
 * matches ST's CMSIS IRQn_Type, WAKEUP_PIN_IRQn = 149. unverified: the
 * sub-section number 19.1.2). */
#define H7_IRQ_COUNT    150u
#define H7_VECTOR_COUNT (16u + H7_IRQ_COUNT)

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;
extern uint32_t _sitext, _stext, _etext;
extern uint32_t __itcm_trap_start[], __itcm_trap_end[];
int main(void);
void Reset_Handler(void);
void Default_Handler(void);
void HardFault_Handler(void);

typedef void (*h7_vector_t)(void);

__attribute__((weak)) void h743_early_boot(void)
{
}

void Default_Handler(void)
{
    for (;;) {
    }
}

/* A fault leaves the board unusable until reset: reset into DFU mode, so a
 * crashing application (or bootloader) never leaves a board that is
 * invisible on USB, nor a crash/reset loop through the app. */
void HardFault_Handler(void)
{
    h743_reset_with_request(BOOT_REQ_STAY_IN_DFU);
}

extern const h7_vector_t h7_vectors[];

/* Everything after the code copy: runs from where the code was linked. */
__attribute__((noinline)) static void start(void)
{
    size_t data_len = (size_t)((uintptr_t)&_edata - (uintptr_t)&_sdata);
    memcpy(&_sdata, &_sidata, data_len);
    memset(&_sbss, 0, (size_t)((uintptr_t)&_ebss - (uintptr_t)&_sbss));

    SCB_CPACR |= SCB_CPACR_CP10_CP11_FULL;
    h7_dsb();
    h7_isb();

    h743_early_boot();

    h743_cache_enable();

    (void)main();
    h743_system_reset();
}

/*
 * The reset vector, in FLASH: the code is copied to the region it was linked
 * for first (the bootloader's ITCM, enabled at reset on the H743, RM0433
 * 2.3.1; nothing for the application, linked where it is stored), with a
 * plain loop: memcpy is part of what is being copied.
 */
__attribute__((section(".boot_text"))) void Reset_Handler(void)
{
    SCB_VTOR = (uint32_t)(uintptr_t)h7_vectors;
    if (&_stext != &_sitext) {
        const volatile uint32_t *src = &_sitext;
        for (volatile uint32_t *dst = &_stext; dst < &_etext;) {
            *dst++ = *src++;
        }
        /* UDF #0xDE twice (ARMv7-M A7.7.191, T1 0xDExx): a jump below the
         * code is a UsageFault, HardFault, reset into DFU mode */
        for (volatile uint32_t *p = __itcm_trap_start; p < __itcm_trap_end;) {
            *p++ = 0xDEDEDEDEu;
        }
    }
    h7_dsb();
    h7_isb();
    start();
}

__attribute__((section(".isr_vector"), used)) const h7_vector_t h7_vectors[H7_VECTOR_COUNT] = {
    [0] = (h7_vector_t)(uintptr_t)&_estack,
    [1] = Reset_Handler,
    [2] = Default_Handler,   /* NMI */
    [3] = HardFault_Handler, /* HardFault */
    [4] = HardFault_Handler, /* MemManage (disabled: escalates) */
    [5] = HardFault_Handler, /* BusFault (ECC double error on a flash read) */
    [6] = HardFault_Handler, /* UsageFault */
    [11] = Default_Handler,  /* SVCall */
    [12] = Default_Handler,  /* DebugMon */
    [14] = Default_Handler,  /* PendSV */
    [15] = Default_Handler,  /* SysTick (polled, never enabled) */
    /* Peripheral IRQs: none is enabled (USB is main-loop polled); any that
     * fires anyway lands in Default_Handler. Filled below by the range
     * initialiser. */
    [16 ... H7_VECTOR_COUNT - 1] = Default_Handler,
};
