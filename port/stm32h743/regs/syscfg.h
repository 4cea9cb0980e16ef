/*
 * System configuration controller (SYSCFG). RM0433 section 12, base
 * 0x5800 0400 (RM0433 2.3.2 Table 8, D3 APB4; matches ST's CMSIS
 * SYSCFG_BASE = D3_APB1PERIPH_BASE + 0x400).
 *
 * Deliberately not used: its only role in clock set-up is the LDO overdrive
 * (SYSCFG_PWRCR.ODEN, "VOS0") needed above 400 MHz, and we stay at 400 MHz in
 * VOS1 (see system_clock.c). No register offsets are defined here so that no
 * unverified offset can be used by accident.
 */
#ifndef H7_REGS_SYSCFG_H
#define H7_REGS_SYSCFG_H

#define H7_SYSCFG_BASE 0x58000400u

#endif
