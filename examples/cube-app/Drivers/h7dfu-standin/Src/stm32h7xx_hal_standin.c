/*
 * Stand-in for the few STM32H7 HAL functions the example's main.c calls
 * (see ../Inc/stm32h7xx_hal.h). ST's HAL_Init() starts a 1 ms SysTick
 * interrupt for HAL_GetTick(); the stand-in counts core cycles in the DWT
 * cycle counter instead (ARMv7-M C1.8.8 DWT_CYCCNT, enabled by DEMCR.TRCENA
 * C1.6.5 and DWT_CTRL.CYCCNTENA), which needs no interrupt.
 */
#include "stm32h7xx_hal.h"

#define DEMCR         (*(volatile uint32_t *)0xE000EDFCUL)
#define DEMCR_TRCENA  (1UL << 24)
#define DWT_CTRL      (*(volatile uint32_t *)0xE0001000UL)
#define DWT_CYCCNTENA (1UL << 0)
#define DWT_CYCCNT    (*(volatile uint32_t *)0xE0001004UL)

static uint32_t s_ms;
static uint32_t s_last;

HAL_StatusTypeDef HAL_Init(void)
{
    DEMCR |= DEMCR_TRCENA;
    DWT_CYCCNT = 0;
    DWT_CTRL |= DWT_CYCCNTENA;
    s_ms = 0;
    s_last = 0;
    return HAL_OK;
}

uint32_t HAL_GetTick(void)
{
    uint32_t per_ms = SystemCoreClock / 1000UL;
    uint32_t now = DWT_CYCCNT;
    uint32_t n = (now - s_last) / per_ms;
    s_ms += n;
    s_last += n * per_ms;
    return s_ms;
}

void HAL_Delay(uint32_t ms)
{
    uint32_t start = HAL_GetTick();
    while (HAL_GetTick() - start < ms + 1UL) {
    }
}
