/*
 * Clock tree (both images):
 *
 *   HSI 64 MHz (reset default, HSIDIV /1)
 *     -> DIVM1 /4  = 16 MHz PLL1 reference   (PLL1RGE = 8..16 MHz)
 *     -> DIVN1 x50 = 800 MHz VCO              (wide range VCO, PLL1VCOSEL = 0)
 *     -> DIVP1 /2  = 400 MHz pll1_p_ck = sys_ck   (DIVQ1/DIVR1 outputs off)
 *   sys_ck 400 MHz -> D1CPRE /1 = 400 MHz CPU
 *                  -> HPRE /2   = 200 MHz AXI/AHB (flash runs on this clock)
 *                  -> D1PPRE, D2PPRE1, D2PPRE2, D3PPRE /2 = 100 MHz APBs
 *   HSI48 -> USB kernel clock (usb_board.c), trimmed by the CRS on USB SOF.
 *
 * Why these numbers: 400 MHz is the maximum in VOS1 on every H743 silicon
 * revision (DS12110 "General operating conditions"; unverified: table
 * number); 480 MHz would need VOS0 (overdrive), rev V only. No HSE: the
 * Nucleo's ST-LINK MCO is not always fitted, and USB does not need a crystal
 * with HSI48 + CRS.
 *
 * PLL1 limits (RM0433 8.5.6 / RCC_PLLCFGR; same limits in ST's HAL RCC
 * documentation): reference 8..16 MHz for PLL1RGE = 11, wide VCO
 * (PLL1VCOSEL = 0) 192..836 MHz, DIVP1 even. 16 MHz, 800 MHz and /2 comply.
 *
 * Flash wait states: RM0433 4.3.8 table "FLASH recommended number of wait
 * states and programming delay": WRHIGHFREQ = 10 for a 185..225 MHz AXI
 * clock in VOS1 (checked against libopencm3's STM32H7 FLASH_ACR_WRHF_VOS1_*
 * constants; unverified: the table number). LATENCY = 4 is above what the
 * table asks for 200 MHz in VOS1 (2 WS; unverified: exact row): extra wait
 * states are always safe, fewer are not, and ST's own 400 MHz examples use 4.
 *
 * Sequence (RM0433 8.5.6 "PLL initialization phase" and 6.6.2 "Voltage
 * scaling"): supply config -> VOS1 -> raise wait states -> PLL -> prescalers
 * -> switch sys_ck. Wait states are raised before the clock goes up.
 */
#include "h743_port.h"
#include "regs/cm7.h"
#include "regs/flash_ctl.h"
#include "regs/pwr.h"
#include "regs/rcc.h"

#define HSI_HZ           64000000u
#define SYSCLK_HZ        400000000u
#define PLL1_M           4u
#define PLL1_N           50u
#define PLL1_P           2u
#define FLASH_WS         4u
#define FLASH_WRHIGHFREQ 2u

_Static_assert(HSI_HZ / PLL1_M == 16000000u, "PLL1 reference 16 MHz (RGE 8..16 MHz)");
_Static_assert(HSI_HZ / PLL1_M * PLL1_N == 800000000u, "VCO inside the wide range");
_Static_assert(HSI_HZ / PLL1_M * PLL1_N / PLL1_P == SYSCLK_HZ, "sys_ck");

static uint32_t s_sysclk_hz = HSI_HZ;

uint32_t h743_sysclk_hz(void)
{
    return s_sysclk_hz;
}

/* Set by h743_sysclk_hz_set(): other code (a HAL) owns the clock tree and may
 * run SysTick as its tick, so h743_delay_us() gives SysTick back. */
static bool s_systick_shared;

void h743_sysclk_hz_set(uint32_t hz)
{
    if (hz >= 1000000u) {
        s_sysclk_hz = hz;
    }
    s_systick_shared = true;
}

void h743_delay_us(uint32_t us)
{
    /* SysTick's reload is 24 bits (ARMv7-M B3.3.3): at 400 MHz that is
     * 41.9 ms, so count in chunks of at most 10 ms. In an application whose
     * HAL runs SysTick (h743_sysclk_hz_set() was called, ENABLE set) it is
     * put back afterwards. */
    uint32_t csr = 0u, rvr = 0u;
    if (s_systick_shared) {
        csr = SYST_CSR;
        rvr = SYST_RVR;
    }
    uint32_t per_us = s_sysclk_hz / 1000000u;
    while (us > 0u) {
        uint32_t chunk = us > 10000u ? 10000u : us;
        SYST_CSR = 0u;
        SYST_RVR = per_us * chunk - 1u;
        SYST_CVR = 0u;
        SYST_CSR = SYST_CSR_ENABLE | SYST_CSR_CLKSOURCE;
        while ((SYST_CSR & SYST_CSR_COUNTFLAG) == 0u) {
        }
        us -= chunk;
    }
    SYST_CSR = 0u;
    if ((csr & SYST_CSR_ENABLE) != 0u) {
        SYST_RVR = rvr;
        SYST_CVR = 0u;
        SYST_CSR = csr;
    }
}

void h743_clock_init(void)
{
    h7_rcc_t *rcc = H7_RCC;
    h7_pwr_t *pwr = H7_PWR;

    /* Supply: LDO on, bypass off (Nucleo-H743ZI: VCORE from the internal
     * LDO), SCUEN cleared in the same write: the supply configuration is
     * then locked until the next power-on (RM0433 6.8.4 PWR_CR3; the same
     * single write as ST's HAL_PWREx_ConfigSupply(PWR_LDO_SUPPLY)). Then
     * wait for the voltage to be valid. */
    pwr->CR3 = (pwr->CR3 & ~(PWR_CR3_BYPASS | PWR_CR3_SCUEN)) | PWR_CR3_LDOEN;
    if (!h743_wait_reg(&pwr->CSR1, PWR_CSR1_ACTVOSRDY, PWR_CSR1_ACTVOSRDY, H7_WAIT_READY_POLLS)) {
        h743_hw_fail();
    }

    /* VOS1 (RM0433 6.8.6), needed above the VOS3 limit. */
    pwr->D3CR = (pwr->D3CR & ~PWR_D3CR_VOS) | PWR_D3CR_VOS_SCALE1;
    if (!h743_wait_reg(&pwr->D3CR, PWR_D3CR_VOSRDY, PWR_D3CR_VOSRDY, H7_WAIT_READY_POLLS)) {
        h743_hw_fail();
    }

    /* Flash latency before raising the clock; read back to be sure it
     * took effect (RM0433 4.3.8 "Read latency"). */
    h7_flash_bank_t *fl = H7_FLASH_BANK(0);
    fl->ACR = FLASH_ACR_LATENCY(FLASH_WS) | FLASH_ACR_WRHIGHFREQ(FLASH_WRHIGHFREQ);
    if (!h743_wait_reg(&fl->ACR, FLASH_ACR_LATENCY_MASK, FLASH_WS, H7_WAIT_READY_POLLS)) {
        h743_hw_fail();
    }

    /* HSI is on, undivided and selected out of reset; make sure, since the
     * PLL arithmetic above assumes 64 MHz (HSIDIV 00, RM0433 8.7.2 RCC_CR). */
    rcc->CR |= RCC_CR_HSION;
    if (!h743_wait_reg(&rcc->CR, RCC_CR_HSIRDY, RCC_CR_HSIRDY, H7_WAIT_READY_POLLS)) {
        h743_hw_fail();
    }
    if ((rcc->CR & RCC_CR_HSIDIV) != 0u) {
        rcc->CR &= ~RCC_CR_HSIDIV;
        if (!h743_wait_reg(&rcc->CR, RCC_CR_HSIDIVF, RCC_CR_HSIDIVF, H7_WAIT_READY_POLLS)) {
            h743_hw_fail();
        }
    }

    /* PLL1 from HSI (RM0433 8.7.11..8.7.13). */
    rcc->PLLCKSELR = (rcc->PLLCKSELR & ~(RCC_PLLCKSELR_PLLSRC | RCC_PLLCKSELR_DIVM1_MASK)) |
                     RCC_PLLCKSELR_PLLSRC_HSI | RCC_PLLCKSELR_DIVM1(PLL1_M);
    rcc->PLL1DIVR = RCC_PLL1DIVR_N1(PLL1_N) | RCC_PLL1DIVR_P1(PLL1_P) | RCC_PLL1DIVR_Q1(8u) |
                    RCC_PLL1DIVR_R1(2u);
    rcc->PLLCFGR =
        (rcc->PLLCFGR & ~(RCC_PLLCFGR_PLL1FRACEN | RCC_PLLCFGR_PLL1VCOSEL |
                          RCC_PLLCFGR_PLL1RGE_MASK | RCC_PLLCFGR_DIVQ1EN | RCC_PLLCFGR_DIVR1EN)) |
        RCC_PLLCFGR_PLL1RGE(RCC_PLL_RGE_8_16MHZ) | RCC_PLLCFGR_DIVP1EN;
    rcc->CR |= RCC_CR_PLL1ON;
    if (!h743_wait_reg(&rcc->CR, RCC_CR_PLL1RDY, RCC_CR_PLL1RDY, H7_WAIT_READY_POLLS)) {
        h743_hw_fail(); /* still on HSI: nothing has been switched yet */
    }

    /* Bus prescalers before the switch so no bus ever exceeds its limit
     * (VOS1: AXI/AHB 200 MHz, APB 100 MHz max; 240/120 MHz only in VOS0.
     * unverified: DS12110 "General operating conditions" table number). */
    rcc->D1CFGR = RCC_D1CFGR_D1CPRE(RCC_HPRE_DIV1) | RCC_D1CFGR_HPRE(RCC_HPRE_DIV2) |
                  RCC_D1CFGR_D1PPRE(RCC_PPRE_DIV2);
    rcc->D2CFGR = RCC_D2CFGR_D2PPRE1(RCC_PPRE_DIV2) | RCC_D2CFGR_D2PPRE2(RCC_PPRE_DIV2);
    rcc->D3CFGR = RCC_D3CFGR_D3PPRE(RCC_PPRE_DIV2);

    rcc->CFGR = (rcc->CFGR & ~RCC_CFGR_SW) | RCC_CFGR_SW_PLL1;
    if (!h743_wait_reg(&rcc->CFGR, RCC_CFGR_SWS, RCC_CFGR_SW_PLL1 << RCC_CFGR_SWS_SHIFT,
                       H7_WAIT_READY_POLLS)) {
        h743_hw_fail();
    }
    s_sysclk_hz = SYSCLK_HZ;
}
