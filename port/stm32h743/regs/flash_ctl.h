/*
 * Embedded flash controller (FLASH). RM0433 section 4 "Embedded flash memory
 * (FLASH)", register map 4.9.36 (Table "Register map and reset value").
 * Base 0x5200 2000: RM0433 2.3.2 Table 8 (D1 AHB3). Bank 1 registers at
 * 0x000.., bank 2 registers at 0x100..; the option-byte address
 * ST's ROM bootloader shows, 0x5200201C, is FLASH_OPTSR_CUR.
 *
 * Audit: base, bank stride 0x100, the offsets pinned below, the KEYR keys and
 * every CR/SR/ACR bit were checked against ST's STM32H7 CMSIS header
 * (FLASH_R_BASE, FLASH_TypeDef) and libopencm3's STM32H7 flash.h.
 * unverified: the 4.9.x sub-section numbers (names are exact).
 */
#ifndef H7_REGS_FLASH_CTL_H
#define H7_REGS_FLASH_CTL_H

#include "mmio.h"

/* One bank's control registers (the layout repeats at +0x100 for bank 2). */
typedef struct {
    H7_REG ACR;       /* 0x00 RM0433 4.9.1 FLASH_ACR (shared, mirrored) */
    H7_REG KEYR;      /* 0x04 RM0433 4.9.2 FLASH_KEYR1/2 */
    H7_REG OPTKEYR;   /* 0x08 RM0433 4.9.3 */
    H7_REG CR;        /* 0x0C RM0433 4.9.4 FLASH_CR1/2 */
    H7_REG SR;        /* 0x10 RM0433 4.9.5 FLASH_SR1/2 */
    H7_REG CCR;       /* 0x14 RM0433 4.9.6 FLASH_CCR1/2 */
    H7_REG OPTCR;     /* 0x18 RM0433 4.9.7 */
    H7_REG OPTSR_CUR; /* 0x1C RM0433 4.9.8 */
    H7_REG OPTSR_PRG; /* 0x20 */
    H7_REG OPTCCR;    /* 0x24 */
    H7_REG PRAR_CUR;  /* 0x28 */
    H7_REG PRAR_PRG;  /* 0x2C */
    H7_REG SCAR_CUR;  /* 0x30 */
    H7_REG SCAR_PRG;  /* 0x34 */
    H7_REG WPSN_CUR;  /* 0x38 RM0433 4.9.15 FLASH_WPSN_CUR1R/2R */
    H7_REG WPSN_PRG;  /* 0x3C */
    H7_REG RSVD[48];  /* 0x40..0xFC: boot, CRC, ECC registers (unused) */
} h7_flash_bank_t;

H7_CHECK_OFFSET(h7_flash_bank_t, CR, 0x0C);
H7_CHECK_OFFSET(h7_flash_bank_t, WPSN_CUR, 0x38);
_Static_assert(sizeof(h7_flash_bank_t) == 0x100, "bank 2 registers at +0x100");

#define H7_FLASH_BASE    0x52002000u
#define H7_FLASH_BANK(n) ((h7_flash_bank_t *)(H7_FLASH_BASE + 0x100u * (n)))

/* FLASH_ACR (RM0433 4.9.1): LATENCY[3:0] read wait states, WRHIGHFREQ[5:4]
 * programming delay; values from RM0433 Table 17 "FLASH recommended number
 * of wait states and programming delay". Reset: 7 wait states. */
#define FLASH_ACR_LATENCY(v)    H7_FIELD_VAL(0, 4, v)
#define FLASH_ACR_LATENCY_MASK  H7_FIELD(0, 4)
#define FLASH_ACR_WRHIGHFREQ(v) H7_FIELD_VAL(4, 2, v)

/* FLASH_KEYRx unlock sequence (RM0433 4.5.1 "FLASH configuration protection") */
#define FLASH_KEY1 0x45670123u
#define FLASH_KEY2 0xCDEF89ABu

/* FLASH_CRx (RM0433 4.9.4) */
#define FLASH_CR_LOCK H7_BIT(0)
#define FLASH_CR_PG   H7_BIT(1)
#define FLASH_CR_SER  H7_BIT(2)
#define FLASH_CR_BER  H7_BIT(3)
/* PSIZE: program/erase parallelism 00 x8 .. 11 x64. It trades speed for
 * current only (no VPP pin on the H7; ST's HAL names 11 "program/erase by 64
 * bits"); x64 gives the shortest sector erase (DS12110 flash timing table,
 * unverified: table number). */
#define FLASH_CR_PSIZE(v)  H7_FIELD_VAL(4, 2, v) /* 11: x64 parallelism */
#define FLASH_CR_PSIZE_X64 3u
#define FLASH_CR_FW        H7_BIT(6)
#define FLASH_CR_START     H7_BIT(7)
#define FLASH_CR_SNB(v)    H7_FIELD_VAL(8, 3, v)

/* FLASH_SRx (RM0433 4.9.5); FLASH_CCRx (4.9.6) clears with the same bits. */
#define FLASH_SR_BSY      H7_BIT(0)
#define FLASH_SR_WBNE     H7_BIT(1)
#define FLASH_SR_QW       H7_BIT(2)
#define FLASH_SR_CRC_BUSY H7_BIT(3)
#define FLASH_SR_EOP      H7_BIT(16)
#define FLASH_SR_WRPERR   H7_BIT(17)
#define FLASH_SR_PGSERR   H7_BIT(18)
#define FLASH_SR_STRBERR  H7_BIT(19)
#define FLASH_SR_INCERR   H7_BIT(21)
#define FLASH_SR_OPERR    H7_BIT(22)
#define FLASH_SR_RDPERR   H7_BIT(23)
#define FLASH_SR_RDSERR   H7_BIT(24)
#define FLASH_SR_SNECCERR H7_BIT(25)
#define FLASH_SR_DBECCERR H7_BIT(26)
#define FLASH_SR_CRCEND   H7_BIT(27)
#define FLASH_SR_ALL_FLAGS                                                                         \
    (FLASH_SR_EOP | FLASH_SR_WRPERR | FLASH_SR_PGSERR | FLASH_SR_STRBERR | FLASH_SR_INCERR |       \
     FLASH_SR_OPERR | FLASH_SR_RDPERR | FLASH_SR_RDSERR | FLASH_SR_SNECCERR | FLASH_SR_DBECCERR |  \
     FLASH_SR_CRCEND)

/* FLASH_WPSN_CURxR (RM0433 4.9.15): WRPSn[7:0], bit n = 0 means sector n of
 * the bank is write protected. */
#define FLASH_WPSN_WRPS(n) H7_BIT(n)

#endif
