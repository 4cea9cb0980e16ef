/*
 * Debug MCU (DBGMCU): only the device ID / revision register, needed because
 * the CRS sync source encoding changed between silicon revisions (crs.h).
 * DBGMCU base 0x5C00 1000 (RM0433 2.3.2 Table 8, "Debug" region; same address
 * as ST's CMSIS DBGMCU_BASE). DBGMCU_IDCODE at offset 0x00: DEV_ID[11:0]
 * (0x450 for STM32H742/743/753/750), REV_ID[31:16] (0x1003 rev Y, 0x2003 rev V).
 * unverified: the RM0433 section number of DBGMCU_IDCODE (chapter 60 "Debug
 * infrastructure"), and whether it is readable with no debugger attached
 * (ST's HAL_GetREVID() reads it unconditionally).
 */
#ifndef H7_REGS_DBGMCU_H
#define H7_REGS_DBGMCU_H

#include "mmio.h"

#define H7_DBGMCU_IDCODE     (*(volatile uint32_t *)0x5C001000u)
#define DBGMCU_IDCODE_REV(r) ((r) >> 16)
#define H7_REV_ID_Y          0x1003u
#define H7_REV_ID_V          0x2003u

#endif
