/*
 * System reset, the request block that survives it, and the jump into an
 * image's vector table.
 *
 * The request block is core/boot's boot_request_block_t (magic, request,
 * complement) at a fixed address known to both images (0x2000 0000, first
 * bytes of DTCM, linker/sections.ld .noinit): neither start-up initialises
 * it, and a system reset keeps SRAM contents (RM0433, RCC chapter, "System
 * reset": it resets the registers, not the memories).
 */
#include <stdint.h>

#include "h743_port.h"
#include "regs/rcc.h"
#include "regs/cm7.h"

__attribute__((section(".noinit.h7_request"), used)) volatile boot_request_block_t h7_boot_request;

void h743_system_reset(void)
{
    /* ARMv7-M B3.2.6 AIRCR: the write needs VECTKEY; the DSBs make sure
     * every earlier write (the request word above all) is done first. */
    h7_dsb();
    SCB_AIRCR = SCB_AIRCR_VECTKEY | (SCB_AIRCR & (7u << 8)) | SCB_AIRCR_SYSRESETREQ;
    h7_dsb();
    for (;;) {
    }
}

void h743_reset_with_request(boot_request_t req)
{
    boot_request_set(&h7_boot_request, req);
    h743_system_reset();
}

void h743_jump_to_vectors(uint32_t addr)
{
    const volatile uint32_t *vec = (const volatile uint32_t *)(uintptr_t)addr;
    uint32_t sp = vec[0];
    uint32_t pc = vec[1];
    h7_irq_disable();
    SCB_VTOR = addr;
    h7_dsb();
    h7_isb();
    /* Reset values for what our start-up changed: CPACR 0 (FPU off,
     * ARMv7-M B3.2.20) and CONTROL 0 (clears FPCA after any FP use, B1.4.4).
     * Then MSP from the image's table, PRIMASK back to 0 as after a real
     * reset (no NVIC line is enabled at this point), and branch. */
    __asm__ volatile("movs r3, #0\n"
                     "str r3, [%2]\n"
                     "dsb\n"
                     "msr control, r3\n"
                     "isb\n"
                     "msr msp, %0\n"
                     "cpsie i\n"
                     "bx %1\n"
                     :
                     : "r"(sp), "r"(pc), "r"(&SCB_CPACR)
                     : "r3", "memory");
    __builtin_unreachable();
}

bool h743_started_dirty(void)
{
    h7_rcc_t *rcc = H7_RCC;
    /* Out of reset sys_ck runs on HSI (RCC_CFGR.SWS = 000, RM0433 8.7.7) and
     * every peripheral clock is off (RCC_AHB1ENR reset value 0, 8.7.39). */
    bool not_hsi = ((rcc->CFGR >> RCC_CFGR_SWS_SHIFT) & 7u) != RCC_CFGR_SW_HSI;
    bool usb_on = (rcc->AHB1ENR & RCC_AHB1ENR_USB2OTGFSEN) != 0;
    return not_hsi || usb_on;
}
