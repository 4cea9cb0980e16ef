/*
 * Stand-in for ST's STM32H7 HAL and CMSIS headers (stm32h7xx_hal.h,
 * stm32h743xx.h, core_cm7.h), which a CubeMX project has under Drivers/ and
 * this repository does not ship. It declares only what the example's
 * Cube-style files use, with the same names, so Core/Src/main.c reads as it
 * does in a generated project. In your project, ST's real files take its
 * place: delete Drivers/h7dfu-standin and nothing else changes.
 *
 * Register addresses and bits: ARMv7-M Architecture Reference Manual
 * (B3.2.2 "System control and ID registers": SCB at 0xE000ED00, VTOR +0x08,
 * AIRCR +0x0C, CPACR 0xE000ED88; C1.6.5 DEMCR 0xE000EDFC; C1.8 DWT at
 * 0xE0001000, DWT_CTRL +0x00, DWT_CYCCNT +0x04) and RM0433 (2.3.2 memory map:
 * FLASH_BANK1_BASE 0x0800 0000).
 */
#ifndef STM32H7XX_HAL_H
#define STM32H7XX_HAL_H

#include <stdint.h>

#define FLASH_BANK1_BASE 0x08000000UL

typedef struct {
    volatile uint32_t CPUID; /* +0x00 */
    volatile uint32_t ICSR;  /* +0x04 */
    volatile uint32_t VTOR;  /* +0x08 */
    volatile uint32_t AIRCR; /* +0x0C */
} SCB_Type;
#define SCB ((SCB_Type *)0xE000ED00UL)

#define SCB_CPACR              (*(volatile uint32_t *)0xE000ED88UL)
#define SCB_AIRCR_VECTKEY      (0x05FAUL << 16)
#define SCB_AIRCR_PRIGROUP_Msk (7UL << 8)
#define SCB_AIRCR_SYSRESETREQ  (1UL << 2)

typedef enum { HAL_OK = 0, HAL_ERROR = 1 } HAL_StatusTypeDef;

extern uint32_t SystemCoreClock;
void SystemInit(void);

HAL_StatusTypeDef HAL_Init(void);
uint32_t HAL_GetTick(void);
void HAL_Delay(uint32_t ms);

/* CMSIS: a system reset request (ARMv7-M B3.2.6 AIRCR.SYSRESETREQ), with the
 * barriers around it so earlier writes land first. Its type, void (void), is
 * what h7_app_enter_bootloader() takes. */
__attribute__((noreturn)) static inline void NVIC_SystemReset(void)
{
    __asm__ volatile("dsb 0xF" ::: "memory");
    SCB->AIRCR = SCB_AIRCR_VECTKEY | (SCB->AIRCR & SCB_AIRCR_PRIGROUP_Msk) | SCB_AIRCR_SYSRESETREQ;
    __asm__ volatile("dsb 0xF" ::: "memory");
    for (;;) {
    }
}

static inline void __disable_irq(void)
{
    __asm__ volatile("cpsid i" ::: "memory");
}

#endif
