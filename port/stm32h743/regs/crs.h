/*
 * Clock recovery system (CRS): trims HSI48 against the USB SOF every 1 ms.
 * RM0433 section 9 "Clock recovery system (CRS)", register map 9.8.5.
 * Base 0x4000 8400: RM0433 2.3.2 Table 8 (D2 APB1); matches ST's CMSIS
 * CRS_BASE. CR.CEN = bit 5, CR.AUTOTRIMEN = bit 6 (CMSIS CRS_CR_*).
 */
#ifndef H7_REGS_CRS_H
#define H7_REGS_CRS_H

#include "dbgmcu.h"
#include "mmio.h"

typedef struct {
    H7_REG CR;   /* 0x00 RM0433 9.8.1 CRS_CR */
    H7_REG CFGR; /* 0x04 RM0433 9.8.2 CRS_CFGR */
    H7_REG ISR;  /* 0x08 RM0433 9.8.3 CRS_ISR */
    H7_REG ICR;  /* 0x0C RM0433 9.8.4 CRS_ICR */
} h7_crs_t;

#define H7_CRS ((h7_crs_t *)0x40008400u)

#define CRS_CR_CEN        H7_BIT(5) /* frequency error counter enable */
#define CRS_CR_AUTOTRIMEN H7_BIT(6) /* automatic trimming enable */

/* CRS_CFGR (RM0433 9.8.2): RELOAD[15:0], FELIM[23:16], SYNCDIV[26:24],
 * SYNCSRC[29:28], SYNCPOL bit 31. Reset value 0x2022 BB7F: RELOAD = 47999
 * (48 MHz / 1 kHz - 1), FELIM = 34, SYNCSRC = 10.
 *
 * SYNCSRC on the H743 (checked against ST's STM32H7 HAL, stm32h7xx_hal_rcc_ex.h
 * RCC_CRS_SYNC_SOURCE_* and HAL_RCCEx_CRSConfig(); unverified: the RM0433 9.8.2
 * table itself):
 *   00 CRS_SYNC pin (rev V and later); USB2_OTG_FS SOF on rev Y and earlier
 *   01 LSE
 *   10 USB1_OTG_HS SOF (the reset value: NOT our controller)
 *   11 USB2_OTG_FS SOF (rev V and later)
 * We run USB2_OTG_FS (PA11/PA12), so the reset value would leave the CRS
 * waiting for SOFs that never come (SYNCMISS, HSI48 untrimmed). */
#define CRS_CFGR_RELOAD(v)        H7_FIELD_VAL(0, 16, v)
#define CRS_CFGR_FELIM(v)         H7_FIELD_VAL(16, 8, v)
#define CRS_CFGR_SYNCSRC(v)       H7_FIELD_VAL(28, 2, v)
#define CRS_SYNCSRC_USB1_HS_SOF   2u
#define CRS_SYNCSRC_USB2_FS_SOF   3u /* rev V and later */
#define CRS_SYNCSRC_USB2_FS_SOF_Y 0u /* rev Y and earlier */

/* SYNCSRC value that selects USB2_OTG_FS's SOF on the silicon revision
 * rev_id (DBGMCU_IDCODE.REV_ID, regs/dbgmcu.h). Pure: host-tested. */
static inline uint32_t h7_crs_syncsrc_usb2(uint32_t rev_id)
{
    return rev_id <= H7_REV_ID_Y ? CRS_SYNCSRC_USB2_FS_SOF_Y : CRS_SYNCSRC_USB2_FS_SOF;
}

#endif
