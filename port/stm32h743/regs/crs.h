/*
 * Clock recovery system (CRS): trims HSI48 against the USB SOF every 1 ms.
 * RM0433 section 9 "Clock recovery system (CRS)", register map 9.8.5.
 * Base 0x4000 8400: RM0433 2.3.2 Table 8 (D2 APB1).
 */
#ifndef H7_REGS_CRS_H
#define H7_REGS_CRS_H

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
 * SYNCSRC[29:28] (10 = USB2 OTG FS SOF), SYNCPOL bit 31. Reset value
 * 0x2022 BB7F is already RELOAD = 47999 (48 MHz / 1 kHz - 1), FELIM = 34,
 * SYNCSRC = USB SOF: written explicitly anyway so the intent is in code. */
#define CRS_CFGR_RELOAD(v)  H7_FIELD_VAL(0, 16, v)
#define CRS_CFGR_FELIM(v)   H7_FIELD_VAL(16, 8, v)
#define CRS_CFGR_SYNCSRC(v) H7_FIELD_VAL(28, 2, v)
#define CRS_SYNCSRC_USB_SOF 2u

#endif
