/*
 * System reset, the request word that survives it, and the jump into an
 * image's vector table.
 *
 * The .noinit block sits at a fixed address known to both images
 * (0x2000 0000, first 32 bytes of DTCM, see linker/sections.ld): neither
 * start-up initialises it, and a system reset keeps SRAM contents. A magic
 * number and its complement tell a real request from power-on garbage.
 */
#include <stdint.h>

#include "h7_port.h"
#include "regs/cm7.h"

#define H7_REQ_MAGIC 0x48374446u /* "H7DF" */

typedef struct {
    uint32_t magic;
    uint32_t request;
    uint32_t check; /* ~request */
    uint32_t reserved[5];
} h7_noinit_t;

_Static_assert(sizeof(h7_noinit_t) == 32, "shared .noinit block is 32 bytes");

__attribute__((section(".noinit.h7_request"), used)) static volatile h7_noinit_t h7_noinit;

void h7_request_set(h7_boot_request_t req)
{
    h7_noinit.request = (uint32_t)req;
    h7_noinit.check = ~(uint32_t)req;
    h7_noinit.magic = H7_REQ_MAGIC;
    h7_dsb();
}

h7_boot_request_t h7_request_take(void)
{
    uint32_t req = h7_noinit.request;
    bool valid = h7_noinit.magic == H7_REQ_MAGIC && h7_noinit.check == ~req &&
                 req <= (uint32_t)H7_REQ_ROM_BOOTLOADER;
    h7_noinit.magic = 0u;
    h7_noinit.request = 0u;
    h7_noinit.check = 0u;
    h7_dsb();
    return valid ? (h7_boot_request_t)req : H7_REQ_NONE;
}

void h7_system_reset(void)
{
    /* ARMv7-M B3.2.6 AIRCR: the write needs VECTKEY; the DSBs make sure
     * every earlier write (the request word above all) is done first. */
    h7_dsb();
    SCB_AIRCR = SCB_AIRCR_VECTKEY | (SCB_AIRCR & (7u << 8)) | SCB_AIRCR_SYSRESETREQ;
    h7_dsb();
    for (;;) {
    }
}

void h7_reset_with_request(h7_boot_request_t req)
{
    h7_request_set(req);
    h7_system_reset();
}

void h7_jump_to_vectors(uint32_t addr)
{
    const volatile uint32_t *vec = (const volatile uint32_t *)(uintptr_t)addr;
    uint32_t sp = vec[0];
    uint32_t pc = vec[1];
    h7_irq_disable();
    SCB_VTOR = addr;
    h7_dsb();
    h7_isb();
    /* MSP from the image's table and PRIMASK back to its reset value (0),
     * as after a real reset; no NVIC line is enabled at this point. */
    __asm__ volatile("msr msp, %0\n"
                     "cpsie i\n"
                     "bx %1\n"
                     :
                     : "r"(sp), "r"(pc)
                     : "memory");
    __builtin_unreachable();
}
