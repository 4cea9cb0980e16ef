/*
 * Everything OTG_FS needs before its own registers are touched (the usual
 * reasons an H7 does not enumerate):
 *
 *  - USB supply: the Nucleo-H743ZI feeds VDD33USB from VDD (3.3 V), so the
 *    internal USB regulator stays off (USBREGEN = 0, it is for a 5 V
 *    VDD50USB input) and only the VDD33USB level detector is enabled
 *    (USB33DEN); we wait for USB33RDY (RM0433 6.4.4 "USB regulator", PWR_CR3
 *    6.8.4). Build with -DH7_USB_INTERNAL_REGULATOR=1 for boards that supply
 *    VDD50USB instead.
 *  - 48 MHz kernel clock: HSI48 (RCC_CR.HSI48ON) selected by
 *    RCC_D2CCIP2R.USBSEL = 11 (RM0433 8.7.22; same value as ST's HAL
 *    RCC_USBCLKSOURCE_HSI48), kept within USB's +-0.25 % by the CRS,
 *    synchronised on USB2_OTG_FS's start-of-frame (RM0433 9.3 "CRS
 *    functional description"; SYNCSRC per silicon revision, regs/crs.h).
 *  - Pins: PA11 (DM) and PA12 (DP) in alternate function AF10, very high
 *    speed, no pull (DS12110 Table 9).
 *  - VBUS: see dcd_dwc2.c (sensing off by default: the board is powered from
 *    the same port, so VBUS is always present while the code runs).
 */
#include "h743_port.h"
#include "regs/crs.h"
#include "regs/dbgmcu.h"
#include "regs/gpio.h"
#include "regs/pwr.h"
#include "regs/rcc.h"

#ifndef H7_USB_INTERNAL_REGULATOR
#define H7_USB_INTERNAL_REGULATOR 0
#endif

static void pin_af(h7_gpio_t *port, unsigned pin, unsigned af)
{
    unsigned sh2 = pin * 2u;
    port->MODER = (port->MODER & ~(3u << sh2)) | (GPIO_MODE_AF << sh2);
    port->OTYPER &= ~(1u << pin);
    port->OSPEEDR = (port->OSPEEDR & ~(3u << sh2)) | (GPIO_SPEED_VHIGH << sh2);
    port->PUPDR &= ~(3u << sh2);
    unsigned sh4 = (pin & 7u) * 4u;
    port->AFR[pin >> 3] = (port->AFR[pin >> 3] & ~(0xFu << sh4)) | (af << sh4);
}

void h743_usb_board_init(void)
{
    h7_rcc_t *rcc = H7_RCC;
    h7_pwr_t *pwr = H7_PWR;

#if H7_USB_INTERNAL_REGULATOR
    pwr->CR3 |= PWR_CR3_USBREGEN;
#endif
    pwr->CR3 |= PWR_CR3_USB33DEN;
    if (!h743_wait_reg(&pwr->CR3, PWR_CR3_USB33RDY, PWR_CR3_USB33RDY, H7_WAIT_READY_POLLS)) {
        h743_hw_fail(); /* no VDD33USB: USB cannot work on this board */
    }

    rcc->CR |= RCC_CR_HSI48ON;
    if (!h743_wait_reg(&rcc->CR, RCC_CR_HSI48RDY, RCC_CR_HSI48RDY, H7_WAIT_READY_POLLS)) {
        h743_hw_fail();
    }
    rcc->D2CCIP2R = (rcc->D2CCIP2R & ~RCC_D2CCIP2R_USBSEL) | RCC_D2CCIP2R_USBSEL_HSI48;

    rcc->APB1HENR |= RCC_APB1HENR_CRSEN;
    (void)rcc->APB1HENR; /* read back: clock is on before the first access */
    h7_crs_t *crs = H7_CRS;
    crs->CR &= ~CRS_CR_CEN; /* CFGR is writable only with CEN = 0 */
    /* Sync on USB2_OTG_FS's SOF: its SYNCSRC code depends on the silicon
     * revision, and the reset value (10) is USB1_OTG_HS's SOF (crs.h). */
    uint32_t syncsrc = h7_crs_syncsrc_usb2(DBGMCU_IDCODE_REV(H7_DBGMCU_IDCODE));
    crs->CFGR = CRS_CFGR_RELOAD(48000u - 1u) | CRS_CFGR_FELIM(34u) | CRS_CFGR_SYNCSRC(syncsrc);
    crs->CR |= CRS_CR_AUTOTRIMEN | CRS_CR_CEN;

    rcc->AHB4ENR |= RCC_AHB4ENR_GPIOAEN;
    (void)rcc->AHB4ENR;
    pin_af(H7_GPIOA, 11u, GPIO_AF10_OTG_FS);
    pin_af(H7_GPIOA, 12u, GPIO_AF10_OTG_FS);

    rcc->AHB1ENR |= RCC_AHB1ENR_USB2OTGFSEN;
    (void)rcc->AHB1ENR;
}

void h743_usb_board_deinit(void)
{
    h7_rcc_t *rcc = H7_RCC;
    rcc->AHB1RSTR |= RCC_AHB1RSTR_USB2OTGFSRST;
    rcc->AHB1RSTR &= ~RCC_AHB1RSTR_USB2OTGFSRST;
    rcc->AHB1ENR &= ~RCC_AHB1ENR_USB2OTGFSEN;
}
