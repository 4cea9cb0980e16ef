/*
 * Cortex-M7 core peripherals: SCB, SysTick, NVIC, cache maintenance, FPU
 * access. ARMv7-M Architecture Reference Manual (DDI 0403E) B3.2 "System
 * Control Space" and the Cortex-M7 TRM (DDI 0489) 4.1 / 4.8; RM0433 2.1
 * gives the same map for the H743's core.
 *
 * Audit: SCS addresses (VTOR 0xE000ED08, AIRCR 0xE000ED0C, CCR 0xE000ED14,
 * CCSIDR/CSSELR/CPACR 0xE000ED80/84/88, ICIALLU 0xE000EF50, DCIMVAC
 * 0xE000EF5C, DCISW 0xE000EF60, DCCMVAC 0xE000EF68, DCCISW 0xE000EF74), the
 * AIRCR key 0x05FA, CCR.DC/IC = bits 16/17 and the DCISW set/way positions
 * (set << 5, way << 30) agree with ARM's CMSIS core_cm7.h.
 */
#ifndef H7_REGS_CM7_H
#define H7_REGS_CM7_H

#include "mmio.h"

#define H7_SCS_REG(off) (*(volatile uint32_t *)(0xE000E000u + (off)))

/* SysTick (ARMv7-M B3.3.2) */
#define SYST_CSR           H7_SCS_REG(0x010)
#define SYST_RVR           H7_SCS_REG(0x014)
#define SYST_CVR           H7_SCS_REG(0x018)
#define SYST_CSR_ENABLE    H7_BIT(0)
#define SYST_CSR_CLKSOURCE H7_BIT(2) /* 1: processor clock */
#define SYST_CSR_COUNTFLAG H7_BIT(16)

/* DWT cycle counter (ARMv7-M C1.8.7 DWT_CTRL, C1.8.8 DWT_CYCCNT; DEMCR
 * C1.6.5 TRCENA enables the DWT; the Cortex-M7's DWT has a software lock,
 * DWT_LAR 0xE0001FB0, unlocked with 0xC5ACCE55 (CoreSight lock access)). */
#define SCB_DEMCR          H7_SCS_REG(0xDFC)
#define SCB_DEMCR_TRCENA   H7_BIT(24)
#define DWT_CTRL           (*(volatile uint32_t *)0xE0001000u)
#define DWT_CYCCNT         (*(volatile uint32_t *)0xE0001004u)
#define DWT_LAR            (*(volatile uint32_t *)0xE0001FB0u)
#define DWT_CTRL_CYCCNTENA H7_BIT(0)
#define DWT_LAR_KEY        0xC5ACCE55u

/* NVIC (ARMv7-M B3.4.3): interrupt clear-enable / clear-pending, 8 x 32 IRQs. */
#define NVIC_ICER(n) H7_SCS_REG(0x180 + 4u * (n))
#define NVIC_ICPR(n) H7_SCS_REG(0x280 + 4u * (n))

/* System control block (ARMv7-M B3.2.2) */
#define SCB_ICSR   H7_SCS_REG(0xD04)
#define SCB_VTOR   H7_SCS_REG(0xD08)
#define SCB_AIRCR  H7_SCS_REG(0xD0C)
#define SCB_CCR    H7_SCS_REG(0xD14)
#define SCB_CFSR   H7_SCS_REG(0xD28) /* configurable fault status (B3.2.15) */
#define SCB_CCSIDR H7_SCS_REG(0xD80) /* cache size ID (B4.8.3) */
#define SCB_CSSELR H7_SCS_REG(0xD84) /* cache size selection (B4.8.5) */
#define SCB_CPACR  H7_SCS_REG(0xD88) /* coprocessor access control (B3.2.20) */

#define SCB_AIRCR_VECTKEY        (0x05FAu << 16)
#define SCB_AIRCR_SYSRESETREQ    H7_BIT(2)
#define SCB_CCR_BFHFNMIGN        H7_BIT(8)    /* priority -1/-2 ignore data bus faults (B3.2.8) */
#define SCB_CFSR_BFSR_MASK       (0xFFu << 8) /* BusFault status byte, write 1 to clear */
#define SCB_CCR_DC               H7_BIT(16)   /* data cache enable */
#define SCB_CCR_IC               H7_BIT(17)   /* instruction cache enable */
#define SCB_CPACR_CP10_CP11_FULL (0xFu << 20)

/* Cache maintenance operations (ARMv7-M B2.2.7 / B3.2.2, Cortex-M7 TRM 4.8.4) */
#define SCB_ICIALLU H7_SCS_REG(0xF50) /* invalidate all I-cache */
#define SCB_DCIMVAC H7_SCS_REG(0xF5C) /* invalidate D-cache line by address */
#define SCB_DCISW   H7_SCS_REG(0xF60) /* invalidate D-cache line by set/way */
#define SCB_DCCMVAC H7_SCS_REG(0xF68) /* clean D-cache line by address */
#define SCB_DCCISW  H7_SCS_REG(0xF74) /* clean+invalidate by set/way */

/* CCSIDR fields (ARMv7-M B4.8.3) */
#define CCSIDR_LINESIZE(r) ((r)&7u)                /* log2(words per line) - 2 */
#define CCSIDR_WAYS(r)     (((r) >> 3) & 0x3FFu)   /* ways - 1 */
#define CCSIDR_SETS(r)     (((r) >> 13) & 0x7FFFu) /* sets - 1 */

#define H7_DCACHE_LINE 32u /* Cortex-M7 L1 line size (TRM 1.2.6) */

static inline void h7_dsb(void)
{
    __asm__ volatile("dsb 0xF" ::: "memory");
}

static inline void h7_isb(void)
{
    __asm__ volatile("isb 0xF" ::: "memory");
}

static inline void h7_irq_disable(void)
{
    __asm__ volatile("cpsid i" ::: "memory");
}

#endif
