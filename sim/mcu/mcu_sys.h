/*
 * Register models of the STM32H743's system peripherals (mcu_periph.h):
 * RCC, PWR, CRS, GPIO, DBGMCU, the UID / flash-size block, the Cortex-M7
 * system control block (SCB, CPACR, cache maintenance, fault status, DEMCR),
 * SysTick and the DWT cycle counter.
 *
 * Sources: RM0433 (STM32H742/743/750/753 reference manual) chapters 6 PWR,
 * 8 RCC, 9 CRS, 11 GPIO, 61 device electronic signature, 60 debug (DBGMCU);
 * the ARMv7-M Architecture Reference Manual (DDI 0403E) B3.2 (SCB), B3.3
 * (SysTick), C1.8 (DWT); the Cortex-M7 TRM (DDI 0489) for the values ARMv7-M
 * leaves to the implementation (CPUID, CCR, CLIDR, CTR, CCSIDR, MVFRx).
 * Each .c file cites the section of every value it uses.
 *
 * Every model returns false (with a short why) for an offset or a bit it
 * does not model; see mcu_periph.h.
 */
#ifndef H7_MCU_SYS_H
#define H7_MCU_SYS_H

#include <stdbool.h>
#include <stdint.h>

#include "mcu_periph.h"
#include "sim_clock.h"

/* ---- RCC: base 0x5802 4400, 1 KiB (RM0433 2.3.2 Table 8, 8.7) ---- */
#define RCC_BASE 0x58024400u
#define RCC_SIZE 0x400u

typedef struct rcc rcc_t;

rcc_t *rcc_new(sim_clock_t *clock);
void rcc_free(rcc_t *r);
mcu_periph_t rcc_periph(rcc_t *r);
/* sys_ck (CFGR.SWS: HSI 64 MHz / HSIDIV or pll1_p_ck); 64 MHz out of reset. */
uint32_t rcc_sysclk_hz(const rcc_t *r);
/* The Cortex-M7 clock: sys_ck / D1CPRE (RM0433 8.7.8). */
uint32_t rcc_cpu_hz(const rcc_t *r);
/* AXI/AHB clock: sys_ck / D1CPRE / HPRE (RM0433 8.7.8). */
uint32_t rcc_hclk_hz(const rcc_t *r);
/* PLL1 locked (CR.PLL1RDY). */
bool rcc_pll1_locked(const rcc_t *r);
/* OTG_FS bus clock on (AHB1ENR.USB2OTGFSEN) and a running 48 MHz kernel
 * clock selected by D2CCIP2R.USBSEL (HSI48 on and ready, or pll1_q_ck at
 * 48 MHz). */
bool rcc_otg_fs_clocked(const rcc_t *r);
/* CRS bus clock (APB1HENR.CRSEN). */
bool rcc_crs_clocked(const rcc_t *r);
/* GPIOx bus clock (AHB4ENR.GPIOxEN), port 0..10 = A..K. */
bool rcc_gpio_clocked(const rcc_t *r, unsigned port);
/* SYSCFG bus clock (APB4ENR.SYSCFGEN). */
bool rcc_syscfg_clocked(const rcc_t *r);
/* A peripheral reset bit going 0 -> 1: hook(user, name) with name
 * "OTG_FS" (AHB1RSTR.USB2OTGFSRST), "GPIOA".."GPIOK" (AHB4RSTR.GPIOxRST),
 * "CRS" (APB1HRSTR.CRSRST), "SYSCFG" (APB4RSTR.SYSCFGRST). */
void rcc_set_periph_reset_hook(rcc_t *r, void (*hook)(void *user, const char *periph), void *user);

/* ---- PWR: base 0x5802 4800, 1 KiB (RM0433 2.3.2 Table 8, 6.8) ---- */
#define PWR_BASE 0x58024800u
#define PWR_SIZE 0x400u

typedef struct pwr pwr_t;

pwr_t *pwr_new(void);
void pwr_free(pwr_t *p);
mcu_periph_t pwr_periph(pwr_t *p);
/* CR3.USB33RDY: the VDD33USB detector is on (USB33DEN) and VDD33USB is
 * present (from the board, or from the USB regulator when USBREGEN is set:
 * either way pwr_set_usb_supply_present() says whether it is there). */
bool pwr_usb33_ready(const pwr_t *p);
/* The board's VDD33USB (present by default). Absent: USB33RDY never comes. */
void pwr_set_usb_supply_present(pwr_t *p, bool on);
/* The supply configuration (CR3 LDOEN/BYPASS) is written and locked until
 * the next power-on reset. */
bool pwr_supply_locked(const pwr_t *p);
/* CSR1.ACTVOSRDY: a valid supply configuration is applied. */
bool pwr_vcore_ready(const pwr_t *p);
/* D3CR.VOS as written: 1 = scale 3 (reset), 2 = scale 2, 3 = scale 1. */
unsigned pwr_vos(const pwr_t *p);

/* ---- CRS: base 0x4000 8400, 1 KiB (RM0433 2.3.2 Table 8, 9.8) ---- */
#define CRS_BASE 0x40008400u
#define CRS_SIZE 0x400u

typedef struct crs crs_t;

/* rcc gates the bus clock (APB1HENR.CRSEN): an access with it off is
 * refused. rcc may be NULL (always clocked: unit tests). */
crs_t *crs_new(const rcc_t *rcc);
void crs_free(crs_t *c);
mcu_periph_t crs_periph(crs_t *c);
/* A SYNC event from the selected source (a USB SOF): with CEN set, raises
 * SYNCOKF and ESYNCF with a zero frequency error (HSI48 taken as exact). */
void crs_sync_event(crs_t *c);
/* CFGR writes dropped because CEN was set (RM0433 9.8.2: write-protected). */
unsigned crs_cfgr_writes_ignored(const crs_t *c);

/* ---- GPIO A..K: base 0x5802 0000 + 0x400 * port (RM0433 2.3.2, 11.4) ---- */
#define GPIO_BASE(port) (0x58020000u + 0x400u * (port))
#define GPIO_SIZE       0x400u
#define GPIO_PORTS      11u

typedef struct gpio gpio_t;

gpio_t *gpio_new(unsigned port); /* 0..10 = A..K; NULL otherwise */
void gpio_free(gpio_t *g);
mcu_periph_t gpio_periph(gpio_t *g);
/* Optional: accesses with AHB4ENR.GPIOxEN off are refused. */
void gpio_set_rcc(gpio_t *g, const rcc_t *rcc);
/* The level driven on an input pin from outside (default: its pull-up /
 * pull-down, floating reads 0). */
void gpio_set_input(gpio_t *g, unsigned pin, bool high);
/* Mode (MODER field, 0 in, 1 out, 2 AF, 3 analog) and AF number of a pin. */
unsigned gpio_pin_mode(const gpio_t *g, unsigned pin);
unsigned gpio_pin_af(const gpio_t *g, unsigned pin);

/* ---- DBGMCU (base 0x5C00 1000, 4 KiB) and the UID / flash-size block
 * (base 0x1FF1 E800, 256 B) ---- */
#define DBGMCU_BASE 0x5C001000u
#define DBGMCU_SIZE 0x1000u
#define UID_BASE    0x1FF1E800u
#define UID_SIZE    0x100u

typedef struct sysinfo sysinfo_t;

sysinfo_t *dbgmcu_new(uint16_t rev_id); /* 0x1003 rev Y, 0x2003 rev V */
sysinfo_t *uid_new(const uint32_t uid[3]);
void sysinfo_free(sysinfo_t *s);
mcu_periph_t dbgmcu_periph(sysinfo_t *s);
mcu_periph_t uid_periph(sysinfo_t *s);

/* ---- SCB: 0xE000 ED00..0xE000 EFFF (ARMv7-M B3.2.2) ---- */
#define SCB_BASE 0xE000ED00u
#define SCB_SIZE 0x300u

typedef struct scb scb_t;

scb_t *scb_new(void);
void scb_free(scb_t *s);
mcu_periph_t scb_periph(scb_t *s);
/* AIRCR write with VECTKEY 0x05FA and SYSRESETREQ. */
void scb_set_reset_hook(scb_t *s, void (*sysresetreq)(void *user), void *user);
/* VTOR after a reset: the H743 boots its Cortex-M7 from BOOT_CM7_ADD0
 * (flash, 0x0800 0000, by default); this value is what VTOR resets to. */
void scb_set_reset_vtor(scb_t *s, uint32_t vtor);
uint32_t scb_vtor(const scb_t *s);
uint32_t scb_ccr(const scb_t *s); /* BFHFNMIGN, DC, IC, ... */
uint32_t scb_shcsr(const scb_t *s);
uint32_t scb_cpacr(const scb_t *s);
bool scb_trcena(const scb_t *s); /* DEMCR.TRCENA */
/* ICSR.VECTACTIVE as the core reports it (0: thread mode). */
void scb_set_vectactive(scb_t *s, uint32_t exception);
void scb_record_busfault(scb_t *s, uint32_t addr, bool precise);
void scb_record_hardfault_forced(scb_t *s);
/* Cache maintenance operations accepted since reset (no cache is modelled). */
unsigned scb_cache_ops(const scb_t *s);

/* ---- SysTick: 0xE000 E010, 16 B (ARMv7-M B3.3); DWT: 0xE000 1000, 4 KiB
 * (ARMv7-M C1.8) ---- */
#define SYSTICK_BASE 0xE000E010u
#define SYSTICK_SIZE 0x10u
#define DWT_BASE     0xE0001000u
#define DWT_SIZE     0x1000u

typedef struct systick systick_t;

systick_t *systick_new(sim_clock_t *clock, const rcc_t *rcc);
void systick_free(systick_t *t);
mcu_periph_t systick_periph(systick_t *t);
mcu_periph_t dwt_periph(systick_t *t);
/* DWT counts only with DEMCR.TRCENA set, which lives in the SCB model;
 * without an attached SCB, TRCENA is taken as set. */
void systick_attach_scb(systick_t *t, const scb_t *s);

#endif
