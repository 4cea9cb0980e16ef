/*
 * Power control (PWR). RM0433 section 6 "Power control (PWR)", register map
 * in 6.8.19. Base 0x5802 4800: RM0433 2.3.2 Table 8 (D3 AHB4).
 *
 * Audit: base, offsets and the CR3 / CSR1 / D3CR bits used were checked
 * against ST's STM32H7 CMSIS header (PWR_BASE, PWR_CR3_USB33DEN/USBREGEN/
 * USB33RDY = bits 24/25/26, PWR_CSR1_ACTVOSRDY = bit 13, D3CR VOS[15:14]
 * with 11 = scale 1, VOSRDY = bit 13). unverified: 6.8.x sub-section numbers.
 */
#ifndef H7_REGS_PWR_H
#define H7_REGS_PWR_H

#include "mmio.h"

typedef struct {
    H7_REG CR1;   /* 0x00 RM0433 6.8.1 PWR_CR1 */
    H7_REG CSR1;  /* 0x04 RM0433 6.8.2 PWR_CSR1 */
    H7_REG CR2;   /* 0x08 RM0433 6.8.3 PWR_CR2 */
    H7_REG CR3;   /* 0x0C RM0433 6.8.4 PWR_CR3 */
    H7_REG CPUCR; /* 0x10 RM0433 6.8.5 PWR_CPUCR */
    H7_REG RSVD0; /* 0x14 */
    H7_REG D3CR;  /* 0x18 RM0433 6.8.6 PWR_D3CR */
} h7_pwr_t;

H7_CHECK_OFFSET(h7_pwr_t, CR3, 0x0C);
H7_CHECK_OFFSET(h7_pwr_t, D3CR, 0x18);

#define H7_PWR_BASE 0x58024800u
#define H7_PWR      ((h7_pwr_t *)H7_PWR_BASE)

/* PWR_CSR1 (RM0433 6.8.2): ACTVOSRDY set once the supply configuration
 * written to PWR_CR3 is applied and VOS is valid. */
#define PWR_CSR1_ACTVOSRDY H7_BIT(13)

/*
 * PWR_CR3 (RM0433 6.8.4). The supply configuration (LDOEN/BYPASS; SCUEN on
 * rev Y) may be written only once after power-on (RM0433 6.4.1 "Power supply
 * configuration"): write it once, early, to the LDO setting of the Nucleo.
 */
#define PWR_CR3_BYPASS   H7_BIT(0)
#define PWR_CR3_LDOEN    H7_BIT(1)
#define PWR_CR3_SCUEN    H7_BIT(2)
#define PWR_CR3_USB33DEN H7_BIT(24) /* VDD33USB voltage level detector enable */
#define PWR_CR3_USBREGEN H7_BIT(25) /* USB 3.3 V regulator enable (VDD50USB in) */
#define PWR_CR3_USB33RDY H7_BIT(26) /* VDD33USB supply ready (read only) */

/* PWR_D3CR (RM0433 6.8.6): VOS[15:14] 01 Scale 3 (reset), 10 Scale 2,
 * 11 Scale 1; VOSRDY bit 13. */
#define PWR_D3CR_VOS        H7_FIELD(14, 2)
#define PWR_D3CR_VOS_SCALE1 H7_FIELD_VAL(14, 2, 3u)
#define PWR_D3CR_VOSRDY     H7_BIT(13)

#endif
