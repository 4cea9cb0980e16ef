/*
 * General-purpose I/Os (GPIO). RM0433 section 11 "General-purpose I/Os",
 * register map 11.4.11. GPIOA base 0x5802 0000, ports every 0x400:
 * RM0433 2.3.2 Table 8 (D3 AHB4).
 *
 * Audit: GPIOA base and the register layout checked against ST's CMSIS
 * header (GPIOA_BASE = D3_AHB1PERIPH_BASE + 0). PA11/PA12 on AF10 is what
 * every Nucleo-H743ZI OTG_FS example uses. unverified: DS12110 table number.
 */
#ifndef H7_REGS_GPIO_H
#define H7_REGS_GPIO_H

#include "mmio.h"

typedef struct {
    H7_REG MODER;   /* 0x00 RM0433 11.4.1 */
    H7_REG OTYPER;  /* 0x04 RM0433 11.4.2 */
    H7_REG OSPEEDR; /* 0x08 RM0433 11.4.3 */
    H7_REG PUPDR;   /* 0x0C RM0433 11.4.4 */
    H7_REG IDR;     /* 0x10 */
    H7_REG ODR;     /* 0x14 */
    H7_REG BSRR;    /* 0x18 */
    H7_REG LCKR;    /* 0x1C */
    H7_REG AFR[2];  /* 0x20 AFRL (pins 0..7), 0x24 AFRH (8..15): RM0433 11.4.9/10 */
} h7_gpio_t;

H7_CHECK_OFFSET(h7_gpio_t, AFR, 0x20);

#define H7_GPIOA ((h7_gpio_t *)0x58020000u)

#define GPIO_MODE_AF     2u /* MODER: 10 alternate function */
#define GPIO_SPEED_VHIGH 3u /* OSPEEDR: 11 very high speed */
/* PA11 = OTG_FS_DM, PA12 = OTG_FS_DP on alternate function AF10
 * (DS12110 Table 9 "Port A alternate functions"). */
#define GPIO_AF10_OTG_FS 10u

#endif
