/*
 * Stand-in for the system_stm32h7xx.c that CubeMX copies into Core/Src (ST's
 * file is not part of this repository). What matters for h7dfu is what ST's
 * SystemInit() does with the vector table: it writes SCB->VTOR only when
 * USER_VECT_TAB_ADDRESS is defined, and then with VECT_TAB_BASE_ADDRESS |
 * VECT_TAB_OFFSET, both #defined inside the file (offset 0 by default). Left
 * undefined, VTOR keeps what the h7dfu bootloader set before it started the
 * application (0x08020000). Older STM32CubeH7 releases write VTOR
 * unconditionally with FLASH_BANK1_BASE | VECT_TAB_OFFSET: 0x08000000, the
 * bootloader's table. Either way main.c sets VTOR again in
 * USER CODE BEGIN 1 (docs/app-integration.md, "VTOR"), which no
 * regeneration touches; an edit of this file (it has no USER CODE sections)
 * may not survive one.
 *
 * Also as in ST's file: the FPU is made accessible (CPACR CP10/CP11 full
 * access, ARMv7-M B3.2.20) before any C code that may use it, and
 * SystemCoreClock says what the core runs at (HSI, 64 MHz, out of reset:
 * RM0433 8.5.2).
 */
#include "stm32h7xx_hal.h"

/* #define USER_VECT_TAB_ADDRESS */
#if defined(USER_VECT_TAB_ADDRESS)
#define VECT_TAB_BASE_ADDRESS FLASH_BANK1_BASE
#define VECT_TAB_OFFSET       0x00000000UL
#endif

uint32_t SystemCoreClock = 64000000UL;

void SystemInit(void)
{
    SCB_CPACR |= (3UL << 20) | (3UL << 22);
#if defined(USER_VECT_TAB_ADDRESS)
    SCB->VTOR = VECT_TAB_BASE_ADDRESS | VECT_TAB_OFFSET;
#endif
}
