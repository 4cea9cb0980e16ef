/*
 * Reset and clock control (RCC). RM0433 section 8 "Reset and Clock Control",
 * register map in 8.7.47 (Table "RCC register map and reset values").
 * Base 0x5802 4400: RM0433 2.3.2 Table 8 "Register boundary addresses" (D3 AHB4).
 *
 * Audit: base, every offset below and every bit/field position used were
 * checked against ST's STM32H7 CMSIS device header (RCC_TypeDef, RCC_* bit
 * definitions). unverified: the 8.7.x sub-section numbers (they move between
 * RM0433 revisions); the register names are exact, search by name.
 */
#ifndef H7_REGS_RCC_H
#define H7_REGS_RCC_H

#include "mmio.h"

typedef struct {
    H7_REG CR;        /* 0x000 RM0433 8.7.2 RCC_CR */
    H7_REG HSICFGR;   /* 0x004 */
    H7_REG CRRCR;     /* 0x008 HSI48 calibration */
    H7_REG CSICFGR;   /* 0x00C */
    H7_REG CFGR;      /* 0x010 RM0433 8.7.7 RCC_CFGR */
    H7_REG RSVD0;     /* 0x014 */
    H7_REG D1CFGR;    /* 0x018 RM0433 8.7.8 RCC_D1CFGR */
    H7_REG D2CFGR;    /* 0x01C RM0433 8.7.9 RCC_D2CFGR */
    H7_REG D3CFGR;    /* 0x020 RM0433 8.7.10 RCC_D3CFGR */
    H7_REG RSVD1;     /* 0x024 */
    H7_REG PLLCKSELR; /* 0x028 RM0433 8.7.11 RCC_PLLCKSELR */
    H7_REG PLLCFGR;   /* 0x02C RM0433 8.7.12 RCC_PLLCFGR */
    H7_REG PLL1DIVR;  /* 0x030 RM0433 8.7.13 RCC_PLL1DIVR */
    H7_REG PLL1FRACR; /* 0x034 */
    H7_REG PLL2DIVR;  /* 0x038 */
    H7_REG PLL2FRACR; /* 0x03C */
    H7_REG PLL3DIVR;  /* 0x040 */
    H7_REG PLL3FRACR; /* 0x044 */
    H7_REG RSVD2;     /* 0x048 */
    H7_REG D1CCIPR;   /* 0x04C */
    H7_REG D2CCIP1R;  /* 0x050 */
    H7_REG D2CCIP2R;  /* 0x054 RM0433 8.7.22 RCC_D2CCIP2R (USBSEL) */
    H7_REG D3CCIPR;   /* 0x058 */
    H7_REG RSVD3;     /* 0x05C */
    H7_REG CIER;      /* 0x060 */
    H7_REG CIFR;      /* 0x064 */
    H7_REG CICR;      /* 0x068 */
    H7_REG RSVD4;     /* 0x06C */
    H7_REG BDCR;      /* 0x070 */
    H7_REG CSR;       /* 0x074 */
    H7_REG RSVD5;     /* 0x078 */
    H7_REG AHB3RSTR;  /* 0x07C */
    H7_REG AHB1RSTR;  /* 0x080 */
    H7_REG AHB2RSTR;  /* 0x084 */
    H7_REG AHB4RSTR;  /* 0x088 */
    H7_REG APB3RSTR;  /* 0x08C */
    H7_REG APB1LRSTR; /* 0x090 */
    H7_REG APB1HRSTR; /* 0x094 */
    H7_REG APB2RSTR;  /* 0x098 */
    H7_REG APB4RSTR;  /* 0x09C */
    H7_REG GCR;       /* 0x0A0 */
    H7_REG RSVD6;     /* 0x0A4 */
    H7_REG D3AMR;     /* 0x0A8 */
    H7_REG RSVD7[9];  /* 0x0AC..0x0CC */
    H7_REG RSR;       /* 0x0D0 RM0433 8.7.33 RCC_RSR (reset flags) */
    H7_REG AHB3ENR;   /* 0x0D4 */
    H7_REG AHB1ENR;   /* 0x0D8 RM0433 8.7.39 RCC_AHB1ENR */
    H7_REG AHB2ENR;   /* 0x0DC */
    H7_REG AHB4ENR;   /* 0x0E0 RM0433 8.7.41 RCC_AHB4ENR */
    H7_REG APB3ENR;   /* 0x0E4 */
    H7_REG APB1LENR;  /* 0x0E8 */
    H7_REG APB1HENR;  /* 0x0EC RM0433 8.7.44 RCC_APB1HENR (CRSEN) */
    H7_REG APB2ENR;   /* 0x0F0 */
    H7_REG APB4ENR;   /* 0x0F4 RM0433 8.7.46 RCC_APB4ENR (SYSCFGEN) */
} h7_rcc_t;

H7_CHECK_OFFSET(h7_rcc_t, CFGR, 0x010);
H7_CHECK_OFFSET(h7_rcc_t, PLLCKSELR, 0x028);
H7_CHECK_OFFSET(h7_rcc_t, D2CCIP2R, 0x054);
H7_CHECK_OFFSET(h7_rcc_t, RSR, 0x0D0);
H7_CHECK_OFFSET(h7_rcc_t, AHB1ENR, 0x0D8);
H7_CHECK_OFFSET(h7_rcc_t, APB4ENR, 0x0F4);

#define H7_RCC_BASE 0x58024400u
#define H7_RCC      ((h7_rcc_t *)H7_RCC_BASE)

/* RCC_CR (RM0433 8.7.2) */
#define RCC_CR_HSION    H7_BIT(0)
#define RCC_CR_HSIRDY   H7_BIT(2)
#define RCC_CR_HSIDIV   H7_FIELD(3, 2) /* 00: HSI = 64 MHz (reset) */
#define RCC_CR_HSIDIVF  H7_BIT(5)      /* HSI divider change applied */
#define RCC_CR_HSI48ON  H7_BIT(12)
#define RCC_CR_HSI48RDY H7_BIT(13)
#define RCC_CR_D1CKRDY  H7_BIT(14)
#define RCC_CR_D2CKRDY  H7_BIT(15)
#define RCC_CR_HSEON    H7_BIT(16)
#define RCC_CR_PLL1ON   H7_BIT(24)
#define RCC_CR_PLL1RDY  H7_BIT(25)

/* RCC_CFGR (RM0433 8.7.7): SW[2:0] selects, SWS[5:3] reports sys_ck. */
#define RCC_CFGR_SW        H7_FIELD(0, 3)
#define RCC_CFGR_SWS       H7_FIELD(3, 3)
#define RCC_CFGR_SW_HSI    0u
#define RCC_CFGR_SW_PLL1   3u
#define RCC_CFGR_SWS_SHIFT 3u

/* RCC_D1CFGR (RM0433 8.7.8): HPRE[3:0], D1PPRE[6:4], D1CPRE[11:8]. */
#define RCC_D1CFGR_HPRE(v)   H7_FIELD_VAL(0, 4, v)
#define RCC_D1CFGR_D1PPRE(v) H7_FIELD_VAL(4, 3, v)
#define RCC_D1CFGR_D1CPRE(v) H7_FIELD_VAL(8, 4, v)
#define RCC_HPRE_DIV1        0x0u /* 0xxx: not divided */
#define RCC_HPRE_DIV2        0x8u /* 1000: divided by 2 */
#define RCC_PPRE_DIV1        0x0u /* 0xx: not divided */
#define RCC_PPRE_DIV2        0x4u /* 100: divided by 2 */
/* RCC_D2CFGR (RM0433 8.7.9): D2PPRE1[6:4] (APB1), D2PPRE2[10:8] (APB2). */
#define RCC_D2CFGR_D2PPRE1(v) H7_FIELD_VAL(4, 3, v)
#define RCC_D2CFGR_D2PPRE2(v) H7_FIELD_VAL(8, 3, v)
/* RCC_D3CFGR (RM0433 8.7.10): D3PPRE[6:4] (APB4). */
#define RCC_D3CFGR_D3PPRE(v) H7_FIELD_VAL(4, 3, v)

/* RCC_PLLCKSELR (RM0433 8.7.11): PLLSRC[1:0] (00 HSI), DIVM1[9:4]. */
#define RCC_PLLCKSELR_PLLSRC     H7_FIELD(0, 2)
#define RCC_PLLCKSELR_PLLSRC_HSI 0u
#define RCC_PLLCKSELR_DIVM1(v)   H7_FIELD_VAL(4, 6, v)
#define RCC_PLLCKSELR_DIVM1_MASK H7_FIELD(4, 6)

/* RCC_PLLCFGR (RM0433 8.7.12) */
#define RCC_PLLCFGR_PLL1FRACEN   H7_BIT(0)
#define RCC_PLLCFGR_PLL1VCOSEL   H7_BIT(1) /* 0: wide VCO range (192..836/960 MHz) */
#define RCC_PLLCFGR_PLL1RGE(v)   H7_FIELD_VAL(2, 2, v)
#define RCC_PLLCFGR_PLL1RGE_MASK H7_FIELD(2, 2)
#define RCC_PLL_RGE_8_16MHZ      3u /* 11: ref clock 8..16 MHz */
#define RCC_PLLCFGR_DIVP1EN      H7_BIT(16)
#define RCC_PLLCFGR_DIVQ1EN      H7_BIT(17)
#define RCC_PLLCFGR_DIVR1EN      H7_BIT(18)

/* RCC_PLL1DIVR (RM0433 8.7.13): each field holds (divider - 1). */
#define RCC_PLL1DIVR_N1(v) H7_FIELD_VAL(0, 9, (v)-1u)
#define RCC_PLL1DIVR_P1(v) H7_FIELD_VAL(9, 7, (v)-1u)
#define RCC_PLL1DIVR_Q1(v) H7_FIELD_VAL(16, 7, (v)-1u)
#define RCC_PLL1DIVR_R1(v) H7_FIELD_VAL(24, 7, (v)-1u)

/* RCC_D2CCIP2R (RM0433 8.7.22): USBSEL[21:20], 11 = hsi48_ck. */
#define RCC_D2CCIP2R_USBSEL       H7_FIELD(20, 2)
#define RCC_D2CCIP2R_USBSEL_HSI48 H7_FIELD_VAL(20, 2, 3u)

/* RCC_AHB1ENR (RM0433 8.7.39): USB2OTGFSEN is bit 27. */
#define RCC_AHB1ENR_USB2OTGFSEN H7_BIT(27)
/* RCC_AHB1RSTR (RM0433 8.7.30): USB2OTGFSRST is bit 27. */
#define RCC_AHB1RSTR_USB2OTGFSRST H7_BIT(27)
/* RCC_AHB4ENR (RM0433 8.7.41): GPIOAEN is bit 0. */
#define RCC_AHB4ENR_GPIOAEN H7_BIT(0)
/* RCC_APB1HENR (RM0433 8.7.44): CRSEN is bit 1. */
#define RCC_APB1HENR_CRSEN H7_BIT(1)
/* RCC_APB4ENR (RM0433 8.7.46): SYSCFGEN is bit 1. */
#define RCC_APB4ENR_SYSCFGEN H7_BIT(1)

#endif
