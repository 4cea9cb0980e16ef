/*
 * The system peripheral models of the emulated STM32H743 (sim/mcu/mcu_sys.h):
 * reset values, the clock and supply bring-up a HAL-style start-up performs,
 * the write rules (PLL configuration with PLL1 on, PWR_CR3 written once, CRS
 * CFGR with CEN set, AIRCR's key), GPIO configuration, the SCB's fault and
 * cache registers, SysTick and DWT against the virtual clock, and refusals
 * of what is not modelled.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mcu_sys.h"

/* ---- access helpers ---- */

static uint32_t rd(const mcu_periph_t *p, uint32_t off)
{
    uint32_t v = 0xDEADBEEFu;
    const char *why = NULL;
    if (!p->read(p->ctx, off, 4, &v, &why)) {
        fail_msg("%s read +0x%03x refused: %s", p->name, (unsigned)off, why ? why : "?");
    }
    return v;
}

static void wr(const mcu_periph_t *p, uint32_t off, uint32_t v)
{
    const char *why = NULL;
    if (!p->write(p->ctx, off, 4, v, &why)) {
        fail_msg("%s write +0x%03x = 0x%08x refused: %s", p->name, (unsigned)off, (unsigned)v,
                 why ? why : "?");
    }
}

static bool try_wr(const mcu_periph_t *p, uint32_t off, uint32_t v, const char **why)
{
    *why = NULL;
    return p->write(p->ctx, off, 4, v, why);
}

static bool try_rd(const mcu_periph_t *p, uint32_t off, unsigned size, uint32_t *v)
{
    const char *why = NULL;
    bool ok = p->read(p->ctx, off, size, v, &why);
    if (!ok) {
        assert_non_null(why);
    }
    return ok;
}

static void modify(const mcu_periph_t *p, uint32_t off, uint32_t clear, uint32_t set)
{
    wr(p, off, (rd(p, off) & ~clear) | set);
}

/* RCC offsets and bits (RM0433 8.7), written here from the manual. */
#define RCC_CR        0x000u
#define RCC_CFGR      0x010u
#define RCC_D1CFGR    0x018u
#define RCC_D2CFGR    0x01Cu
#define RCC_D3CFGR    0x020u
#define RCC_PLLCKSELR 0x028u
#define RCC_PLLCFGR   0x02Cu
#define RCC_PLL1DIVR  0x030u
#define RCC_PLL1FRACR 0x034u
#define RCC_D2CCIP2R  0x054u
#define RCC_AHB1RSTR  0x080u
#define RCC_AHB4RSTR  0x088u
#define RCC_RSR       0x0D0u
#define RCC_AHB1ENR   0x0D8u
#define RCC_AHB4ENR   0x0E0u
#define RCC_APB1HENR  0x0ECu

#define CR_HSION    (1u << 0)
#define CR_HSIRDY   (1u << 2)
#define CR_HSIDIV   (3u << 3)
#define CR_HSIDIVF  (1u << 5)
#define CR_HSI48ON  (1u << 12)
#define CR_HSI48RDY (1u << 13)
#define CR_HSEON    (1u << 16)
#define CR_PLL1ON   (1u << 24)
#define CR_PLL1RDY  (1u << 25)
#define CR_PLL2ON   (1u << 26)

#define PLLCKSELR_SRC_DIVM1 (3u | (0x3Fu << 4))
#define DIVM1(m)            ((m) << 4)
#define PLLCFG_PLL1         (0x0Fu | (7u << 16)) /* FRACEN VCOSEL RGE DIVxEN */
#define PLL1RGE(v)          ((v) << 2)
#define PLL1VCOSEL          (1u << 1)
#define PLL1FRACEN          (1u << 0)
#define DIVPQR1EN           (7u << 16)
#define PLL1DIV(n, p, q, r) (((n)-1u) | (((p)-1u) << 9) | (((q)-1u) << 16) | (((r)-1u) << 24))

/* PWR (RM0433 6.8) */
#define PWR_CR1          0x00u
#define PWR_CSR1         0x04u
#define PWR_CR3          0x0Cu
#define PWR_D3CR         0x18u
#define PWR_CSR1_ACTVOSR (1u << 13)
#define CR3_BYPASS       (1u << 0)
#define CR3_LDOEN        (1u << 1)
#define CR3_SCUEN        (1u << 2)
#define CR3_USB33DEN     (1u << 24)
#define CR3_USB33RDY     (1u << 26)
#define D3CR_VOS1        (3u << 14)
#define D3CR_VOSRDY      (1u << 13)

static void supply_and_vos1(const mcu_periph_t *pwr)
{
    /* HAL_PWREx_ConfigSupply(PWR_LDO_SUPPLY): SCUEN | LDOEN | BYPASS <- LDOEN. */
    modify(pwr, PWR_CR3, CR3_SCUEN | CR3_LDOEN | CR3_BYPASS, CR3_LDOEN);
    assert_true(rd(pwr, PWR_CSR1) & PWR_CSR1_ACTVOSR);
    modify(pwr, PWR_D3CR, 3u << 14, D3CR_VOS1);
    assert_true(rd(pwr, PWR_D3CR) & D3CR_VOSRDY);
}

/* ---------------------------------------------------------------- RCC */

static void test_rcc_reset_values(void **state)
{
    (void)state;
    sim_clock_t clk;
    sim_clock_init(&clk);
    rcc_t *r = rcc_new(&clk);
    mcu_periph_t p = rcc_periph(r);
    assert_int_equal(p.base, 0x58024400u);
    assert_int_equal(rd(&p, RCC_CR), 0x00000025u); /* HSION | HSIRDY | HSIDIVF */
    assert_int_equal(rd(&p, RCC_CFGR), 0);
    assert_int_equal(rd(&p, RCC_D1CFGR), 0);
    assert_int_equal(rd(&p, RCC_D2CFGR), 0);
    assert_int_equal(rd(&p, RCC_D3CFGR), 0);
    assert_int_equal(rd(&p, RCC_PLLCKSELR), 0x02020200u);
    assert_int_equal(rd(&p, RCC_PLLCFGR), 0x01FF0000u);
    assert_int_equal(rd(&p, RCC_PLL1DIVR), 0x01010280u);
    assert_int_equal(rd(&p, 0x038), 0x01010280u); /* PLL2DIVR */
    assert_int_equal(rd(&p, 0x040), 0x01010280u); /* PLL3DIVR */
    assert_int_equal(rd(&p, RCC_D2CCIP2R), 0);
    assert_int_equal(rd(&p, RCC_AHB1ENR), 0);
    assert_int_equal(rd(&p, RCC_AHB4ENR), 0);
    assert_int_equal(rd(&p, RCC_APB1HENR), 0);
    assert_int_equal(rd(&p, RCC_AHB1RSTR), 0);
    assert_int_equal(rcc_sysclk_hz(r), 64000000u);
    assert_int_equal(rcc_cpu_hz(r), 64000000u);
    assert_false(rcc_pll1_locked(r));
    assert_false(rcc_otg_fs_clocked(r));
    assert_false(rcc_crs_clocked(r));
    rcc_free(r);
}

/* A HAL-style SystemClock_Config: HSI 64 MHz / 4 = 16 MHz (RGE 8..16 MHz),
 * x50 = 800 MHz wide VCO, / 2 = 400 MHz sys_ck; AHB / 2, APBs / 2. */
static void clock_up_400(const mcu_periph_t *p)
{
    modify(p, RCC_CR, 0, CR_HSION);
    assert_true(rd(p, RCC_CR) & CR_HSIRDY);
    modify(p, RCC_PLLCKSELR, PLLCKSELR_SRC_DIVM1, DIVM1(4u));
    wr(p, RCC_PLL1DIVR, PLL1DIV(50u, 2u, 8u, 2u));
    modify(p, RCC_PLLCFGR, PLL1FRACEN, 0);
    wr(p, RCC_PLL1FRACR, 0);
    modify(p, RCC_PLLCFGR, PLL1RGE(3u) | PLL1VCOSEL, PLL1RGE(3u));
    modify(p, RCC_PLLCFGR, 0, DIVPQR1EN);
    modify(p, RCC_PLLCFGR, 0, PLL1FRACEN);
    modify(p, RCC_CR, 0, CR_PLL1ON);
    unsigned spins = 0;
    while ((rd(p, RCC_CR) & CR_PLL1RDY) == 0u) {
        assert_true(++spins < 100u);
    }
    wr(p, RCC_D1CFGR, (0x8u << 0) | (0x4u << 4)); /* HPRE /2, D1PPRE /2, D1CPRE /1 */
    wr(p, RCC_D2CFGR, (0x4u << 4) | (0x4u << 8));
    wr(p, RCC_D3CFGR, 0x4u << 4);
    modify(p, RCC_CFGR, 7u, 3u); /* SW = PLL1 */
    spins = 0;
    while (((rd(p, RCC_CFGR) >> 3) & 7u) != 3u) {
        assert_true(++spins < 100u);
    }
}

static void test_rcc_clock_init_400mhz(void **state)
{
    (void)state;
    sim_clock_t clk;
    sim_clock_init(&clk);
    rcc_t *r = rcc_new(&clk);
    pwr_t *pw = pwr_new();
    mcu_periph_t p = rcc_periph(r);
    mcu_periph_t pwr = pwr_periph(pw);
    supply_and_vos1(&pwr);
    clock_up_400(&p);
    assert_true(rcc_pll1_locked(r));
    assert_int_equal(rcc_sysclk_hz(r), 400000000u);
    assert_int_equal(rcc_cpu_hz(r), 400000000u);
    assert_int_equal(rcc_hclk_hz(r), 200000000u);
    assert_int_equal(rd(&p, RCC_CFGR), 3u | (3u << 3));
    /* D1CPRE / 2 halves the core clock. */
    wr(&p, RCC_D1CFGR, (0x8u << 8) | (0x8u << 0));
    assert_int_equal(rcc_cpu_hz(r), 200000000u);
    assert_int_equal(rcc_hclk_hz(r), 100000000u);
    /* PLL1 feeds sys_ck: PLL1ON cannot be cleared, HSION can. */
    modify(&p, RCC_CR, CR_PLL1ON | CR_HSION, 0);
    assert_true(rd(&p, RCC_CR) & CR_PLL1ON);
    assert_int_equal(rcc_sysclk_hz(r), 400000000u);
    /* Back to HSI, then PLL1 can go off. */
    modify(&p, RCC_CR, 0, CR_HSION);
    modify(&p, RCC_CFGR, 7u, 0u);
    assert_int_equal(rd(&p, RCC_CFGR), 0);
    modify(&p, RCC_CR, CR_PLL1ON, 0);
    assert_false(rd(&p, RCC_CR) & (CR_PLL1ON | CR_PLL1RDY));
    assert_int_equal(rcc_sysclk_hz(r), 64000000u);
    /* System reset: everything back. */
    clock_up_400(&p);
    p.reset(p.ctx, false);
    assert_int_equal(rd(&p, RCC_CR), 0x25u);
    assert_int_equal(rd(&p, RCC_PLL1DIVR), 0x01010280u);
    assert_int_equal(rcc_sysclk_hz(r), 64000000u);
    pwr_free(pw);
    rcc_free(r);
}

static void expect_no_lock(uint32_t divm, uint32_t divr, uint32_t cfg_pll1)
{
    sim_clock_t clk;
    sim_clock_init(&clk);
    rcc_t *r = rcc_new(&clk);
    mcu_periph_t p = rcc_periph(r);
    modify(&p, RCC_PLLCKSELR, PLLCKSELR_SRC_DIVM1, DIVM1(divm));
    wr(&p, RCC_PLL1DIVR, divr);
    modify(&p, RCC_PLLCFGR, PLLCFG_PLL1, cfg_pll1);
    modify(&p, RCC_CR, 0, CR_PLL1ON);
    for (int i = 0; i < 10; i++) {
        sim_clock_bus_advance(&clk, SIM_NS_PER_MS);
        assert_false(rd(&p, RCC_CR) & CR_PLL1RDY);
    }
    /* Selecting it does not switch sys_ck. */
    modify(&p, RCC_CFGR, 7u, 3u);
    assert_int_equal((rd(&p, RCC_CFGR) >> 3) & 7u, 0u);
    assert_int_equal(rcc_sysclk_hz(r), 64000000u);
    rcc_free(r);
}

static void test_rcc_illegal_pll_never_locks(void **state)
{
    (void)state;
    uint32_t good = PLL1RGE(3u) | DIVPQR1EN;
    /* 16 MHz reference with RGE = 00 (1..2 MHz). */
    expect_no_lock(4u, PLL1DIV(50u, 2u, 8u, 2u), PLL1RGE(0u) | DIVPQR1EN);
    /* VCO 16 MHz x 100 = 1.6 GHz, above the wide range. */
    expect_no_lock(4u, PLL1DIV(100u, 2u, 8u, 2u), good);
    /* VCO 16 x 10 = 160 MHz, below the wide range. */
    expect_no_lock(4u, PLL1DIV(10u, 2u, 8u, 2u), good);
    /* Odd DIVP1 (/3) is not allowed for PLL1. */
    expect_no_lock(4u, PLL1DIV(50u, 3u, 8u, 2u), good);
    /* DIVM1 = 0: prescaler disabled. */
    expect_no_lock(0u, PLL1DIV(50u, 2u, 8u, 2u), good);
    /* Medium VCO (150..420 MHz) needs a 1..2 MHz reference. */
    expect_no_lock(4u, PLL1DIV(20u, 2u, 8u, 2u), good | PLL1VCOSEL);
    /* DIVN1 = 3 is below the minimum multiplication of 4. */
    expect_no_lock(32u, PLL1DIV(3u, 2u, 8u, 2u), PLL1RGE(0u) | PLL1VCOSEL | DIVPQR1EN);
}

static void test_rcc_medium_vco_locks(void **state)
{
    (void)state;
    sim_clock_t clk;
    sim_clock_init(&clk);
    rcc_t *r = rcc_new(&clk);
    mcu_periph_t p = rcc_periph(r);
    /* HSI / 32 = 2 MHz, RGE 00, medium VCO, x 200 = 400 MHz, / 4 = 100 MHz. */
    modify(&p, RCC_PLLCKSELR, PLLCKSELR_SRC_DIVM1, DIVM1(32u));
    wr(&p, RCC_PLL1DIVR, PLL1DIV(200u, 4u, 8u, 2u));
    modify(&p, RCC_PLLCFGR, PLLCFG_PLL1, PLL1RGE(0u) | PLL1VCOSEL | DIVPQR1EN);
    modify(&p, RCC_CR, 0, CR_PLL1ON);
    assert_true(rd(&p, RCC_CR) & CR_PLL1RDY);
    modify(&p, RCC_CFGR, 7u, 3u);
    assert_int_equal(rcc_sysclk_hz(r), 100000000u);
    rcc_free(r);
}

static void test_rcc_pll_config_refused_while_on(void **state)
{
    (void)state;
    sim_clock_t clk;
    sim_clock_init(&clk);
    rcc_t *r = rcc_new(&clk);
    mcu_periph_t p = rcc_periph(r);
    clock_up_400(&p);
    const char *why;
    uint32_t divr = rd(&p, RCC_PLL1DIVR);
    assert_false(try_wr(&p, RCC_PLL1DIVR, PLL1DIV(60u, 2u, 8u, 2u), &why));
    assert_non_null(why);
    assert_int_equal(rd(&p, RCC_PLL1DIVR), divr);
    assert_false(try_wr(&p, RCC_PLLCKSELR, DIVM1(8u), &why));
    assert_non_null(why);
    assert_false(try_wr(&p, RCC_PLLCFGR, rd(&p, RCC_PLLCFGR) & ~PLL1RGE(3u), &why));
    assert_non_null(why);
    /* Rewriting the same values, or PLL2's fields, is fine. */
    wr(&p, RCC_PLL1DIVR, divr);
    modify(&p, RCC_PLLCKSELR, 0x3Fu << 12, DIVM1(0) | (4u << 12));
    modify(&p, RCC_PLLCFGR, 0, PLL1RGE(0) | (3u << 6));
    /* FRACN1 may change at any time. */
    wr(&p, RCC_PLL1FRACR, 0x100u << 3);
    assert_int_equal(rcc_sysclk_hz(r), 400000000u);
    /* With PLL1 off (sys_ck back on HSI) the writes go through. */
    modify(&p, RCC_CFGR, 7u, 0u);
    modify(&p, RCC_CR, CR_PLL1ON, 0);
    wr(&p, RCC_PLL1DIVR, PLL1DIV(60u, 2u, 8u, 2u));
    modify(&p, RCC_CR, 0, CR_PLL1ON);
    modify(&p, RCC_CFGR, 7u, 3u);
    assert_int_equal(rcc_sysclk_hz(r), 480000000u);
    rcc_free(r);
}

static void test_rcc_hsidiv(void **state)
{
    (void)state;
    rcc_t *r = rcc_new(NULL);
    mcu_periph_t p = rcc_periph(r);
    modify(&p, RCC_CR, CR_HSIDIV, 1u << 3);
    assert_true(rd(&p, RCC_CR) & CR_HSIDIVF);
    assert_int_equal(rcc_sysclk_hz(r), 32000000u);
    modify(&p, RCC_CR, CR_HSIDIV, 3u << 3);
    assert_int_equal(rcc_sysclk_hz(r), 8000000u);
    /* HSI is sys_ck: HSION stays set. */
    modify(&p, RCC_CR, CR_HSION, 0);
    assert_true(rd(&p, RCC_CR) & (CR_HSION | CR_HSIRDY));
    /* HSIDIV is frozen while HSI feeds an enabled PLL. */
    modify(&p, RCC_CR, CR_HSIDIV, 0);
    modify(&p, RCC_PLLCKSELR, PLLCKSELR_SRC_DIVM1, DIVM1(4u));
    wr(&p, RCC_PLL1DIVR, PLL1DIV(50u, 2u, 8u, 2u));
    modify(&p, RCC_PLLCFGR, PLLCFG_PLL1, PLL1RGE(3u) | DIVPQR1EN);
    modify(&p, RCC_CR, 0, CR_PLL1ON);
    modify(&p, RCC_CR, CR_HSIDIV, 2u << 3);
    assert_int_equal(rd(&p, RCC_CR) & CR_HSIDIV, 0);
    assert_true(rcc_pll1_locked(r));
    rcc_free(r);
}

struct hook_log {
    int calls;
    char last[16];
};

static void reset_hook(void *user, const char *periph)
{
    struct hook_log *log = user;
    log->calls++;
    strncpy(log->last, periph, sizeof log->last - 1u);
}

static void test_rcc_usb_clock_and_reset_hook(void **state)
{
    (void)state;
    rcc_t *r = rcc_new(NULL);
    mcu_periph_t p = rcc_periph(r);
    struct hook_log log = {0};
    rcc_set_periph_reset_hook(r, reset_hook, &log);

    modify(&p, RCC_CR, 0, CR_HSI48ON);
    assert_true(rd(&p, RCC_CR) & CR_HSI48RDY);
    modify(&p, RCC_D2CCIP2R, 3u << 20, 3u << 20); /* USBSEL = hsi48_ck */
    assert_false(rcc_otg_fs_clocked(r));          /* bus clock still off */
    modify(&p, RCC_AHB1ENR, 0, 1u << 27);
    assert_true(rcc_otg_fs_clocked(r));
    modify(&p, RCC_CR, CR_HSI48ON, 0);
    assert_false(rd(&p, RCC_CR) & CR_HSI48RDY);
    assert_false(rcc_otg_fs_clocked(r));
    modify(&p, RCC_CR, 0, CR_HSI48ON);

    modify(&p, RCC_AHB1RSTR, 0, 1u << 27);
    assert_int_equal(log.calls, 1);
    assert_string_equal(log.last, "OTG_FS");
    modify(&p, RCC_AHB1RSTR, 0, 1u << 27); /* still set: no new edge */
    assert_int_equal(log.calls, 1);
    modify(&p, RCC_AHB1RSTR, 1u << 27, 0);
    modify(&p, RCC_AHB1RSTR, 0, 1u << 27);
    assert_int_equal(log.calls, 2);

    modify(&p, RCC_AHB4RSTR, 0, 1u << 0);
    assert_int_equal(log.calls, 3);
    assert_string_equal(log.last, "GPIOA");

    modify(&p, RCC_APB1HENR, 0, 1u << 1);
    assert_true(rcc_crs_clocked(r));
    modify(&p, RCC_AHB4ENR, 0, 1u << 0);
    assert_true(rcc_gpio_clocked(r, 0));
    assert_false(rcc_gpio_clocked(r, 1));
    rcc_free(r);
}

static void test_rcc_unmodelled(void **state)
{
    (void)state;
    rcc_t *r = rcc_new(NULL);
    mcu_periph_t p = rcc_periph(r);
    const char *why;
    uint32_t v;
    assert_false(try_wr(&p, RCC_CR, rd(&p, RCC_CR) | CR_HSEON, &why));
    assert_non_null(why);
    assert_false(try_wr(&p, RCC_CR, rd(&p, RCC_CR) | CR_PLL2ON, &why));
    assert_false(try_wr(&p, RCC_CFGR, 2u, &why));           /* SW = HSE */
    assert_false(try_wr(&p, RCC_CFGR, 1u << 15, &why));     /* TIMPRE */
    assert_false(try_wr(&p, RCC_AHB1ENR, 1u << 0, &why));   /* DMA1EN */
    assert_false(try_wr(&p, RCC_D2CCIP2R, 2u << 20, &why)); /* USBSEL = PLL3Q */
    assert_false(try_rd(&p, RCC_RSR, 4, &v));
    assert_false(try_rd(&p, 0x3FC, 4, &v));
    assert_false(try_rd(&p, RCC_CR, 2, &v));
    /* Read-only bits written back by a read-modify-write are fine. */
    wr(&p, RCC_CR, rd(&p, RCC_CR));
    rcc_free(r);
}

/* ---------------------------------------------------------------- PWR */

static void test_pwr_reset_values(void **state)
{
    (void)state;
    pwr_t *pw = pwr_new();
    mcu_periph_t p = pwr_periph(pw);
    assert_int_equal(p.base, 0x58024800u);
    assert_int_equal(rd(&p, PWR_CR1), 0xF000C000u);
    assert_int_equal(rd(&p, PWR_CSR1), 0x00004000u); /* ACTVOS = 01, not ready */
    assert_int_equal(rd(&p, PWR_CR3), 0x00000006u);  /* LDOEN | SCUEN */
    /* VOS = 01 (scale 3); VOSRDY reads 1 after reset (PWR_D3CR). */
    assert_int_equal(rd(&p, PWR_D3CR), 0x00004000u | D3CR_VOSRDY);
    assert_false(pwr_supply_locked(pw));
    assert_false(pwr_vcore_ready(pw));
    assert_int_equal(pwr_vos(pw), 1);
    pwr_free(pw);
}

static void test_pwr_cr3_written_once(void **state)
{
    (void)state;
    pwr_t *pw = pwr_new();
    mcu_periph_t p = pwr_periph(pw);
    supply_and_vos1(&p);
    assert_true(pwr_supply_locked(pw));
    assert_int_equal(rd(&p, PWR_CR3) & 7u, CR3_LDOEN); /* SCUEN 0: locked */
    assert_int_equal(rd(&p, PWR_CSR1), PWR_CSR1_ACTVOSR | D3CR_VOS1);
    assert_int_equal(pwr_vos(pw), 3);

    /* A second configuration is ignored. */
    modify(&p, PWR_CR3, CR3_LDOEN, CR3_BYPASS);
    assert_int_equal(rd(&p, PWR_CR3) & 7u, CR3_LDOEN);
    assert_true(rd(&p, PWR_CSR1) & PWR_CSR1_ACTVOSR);

    /* Kept over a system reset (VOS goes back to scale 3). */
    p.reset(p.ctx, false);
    assert_true(pwr_supply_locked(pw));
    assert_int_equal(rd(&p, PWR_CR3) & 7u, CR3_LDOEN);
    assert_true(rd(&p, PWR_CSR1) & PWR_CSR1_ACTVOSR);
    assert_int_equal(pwr_vos(pw), 1);
    modify(&p, PWR_CR3, CR3_LDOEN, CR3_BYPASS);
    assert_int_equal(rd(&p, PWR_CR3) & 7u, CR3_LDOEN);

    /* A power-on reset unlocks; a bypass configuration then applies. */
    p.reset(p.ctx, true);
    assert_false(pwr_supply_locked(pw));
    assert_int_equal(rd(&p, PWR_CR3), 0x6u);
    assert_false(rd(&p, PWR_CSR1) & PWR_CSR1_ACTVOSR);
    modify(&p, PWR_CR3, CR3_SCUEN | CR3_LDOEN | CR3_BYPASS, CR3_BYPASS);
    assert_int_equal(rd(&p, PWR_CR3) & 7u, CR3_BYPASS);
    assert_true(rd(&p, PWR_CSR1) & PWR_CSR1_ACTVOSR);

    /* The firmware's own write (LDOEN kept, SCUEN written back as 1) is a
     * valid LDO configuration too. */
    p.reset(p.ctx, true);
    modify(&p, PWR_CR3, CR3_BYPASS, CR3_LDOEN);
    assert_true(rd(&p, PWR_CSR1) & PWR_CSR1_ACTVOSR);
    assert_int_equal(rd(&p, PWR_CR3) & 7u, CR3_LDOEN);
    pwr_free(pw);
}

static void test_pwr_invalid_supply_never_ready(void **state)
{
    (void)state;
    pwr_t *pw = pwr_new();
    mcu_periph_t p = pwr_periph(pw);
    wr(&p, PWR_CR3, CR3_LDOEN | CR3_BYPASS);
    assert_true(pwr_supply_locked(pw));
    assert_false(rd(&p, PWR_CSR1) & PWR_CSR1_ACTVOSR);
    assert_int_equal(rd(&p, PWR_CR3) & 7u, CR3_LDOEN); /* the default stays */
    wr(&p, PWR_CR3, CR3_LDOEN);                        /* too late */
    assert_false(rd(&p, PWR_CSR1) & PWR_CSR1_ACTVOSR);
    wr(&p, PWR_D3CR, D3CR_VOS1);
    assert_false(rd(&p, PWR_D3CR) & D3CR_VOSRDY);
    const char *why;
    assert_false(try_wr(&p, PWR_D3CR, 0, &why));                      /* VOS 00 reserved */
    assert_false(try_wr(&p, PWR_CR1, 0xF000C000u | (1u << 4), &why)); /* PVDE */
    uint32_t v;
    assert_false(try_rd(&p, 0x30, 4, &v));
    pwr_free(pw);
}

static void test_pwr_usb33(void **state)
{
    (void)state;
    pwr_t *pw = pwr_new();
    mcu_periph_t p = pwr_periph(pw);
    supply_and_vos1(&p);
    assert_false(rd(&p, PWR_CR3) & CR3_USB33RDY);
    /* USB33RDY is read only. */
    modify(&p, PWR_CR3, 0, CR3_USB33RDY);
    assert_false(rd(&p, PWR_CR3) & CR3_USB33RDY);
    modify(&p, PWR_CR3, 0, CR3_USB33DEN);
    assert_true(rd(&p, PWR_CR3) & CR3_USB33RDY);
    assert_true(pwr_usb33_ready(pw));
    /* VDD33USB missing: never ready. */
    pwr_set_usb_supply_present(pw, false);
    for (int i = 0; i < 5; i++) {
        assert_false(rd(&p, PWR_CR3) & CR3_USB33RDY);
    }
    assert_false(pwr_usb33_ready(pw));
    pwr_set_usb_supply_present(pw, true);
    /* CR3 (USB33DEN included) is reset by a power-on reset only. */
    p.reset(p.ctx, false);
    assert_true(rd(&p, PWR_CR3) & CR3_USB33RDY);
    modify(&p, PWR_CR3, CR3_USB33DEN, 0);
    assert_false(pwr_usb33_ready(pw));
    pwr_free(pw);
}

/* ---------------------------------------------------------------- CRS */

#define CRS_CR   0x00u
#define CRS_CFGR 0x04u
#define CRS_ISR  0x08u
#define CRS_ICR  0x0Cu
#define CRS_CEN  (1u << 5)
#define CRS_AUTO (1u << 6)

static void test_crs(void **state)
{
    (void)state;
    rcc_t *r = rcc_new(NULL);
    mcu_periph_t rp = rcc_periph(r);
    crs_t *c = crs_new(r);
    mcu_periph_t p = crs_periph(c);
    assert_int_equal(p.base, 0x40008400u);
    uint32_t v;
    assert_false(try_rd(&p, CRS_CR, 4, &v)); /* APB1HENR.CRSEN = 0 */
    modify(&rp, RCC_APB1HENR, 0, 1u << 1);
    assert_int_equal(rd(&p, CRS_CR), 0x00002000u);
    assert_int_equal(rd(&p, CRS_CFGR), 0x2022BB7Fu);
    assert_int_equal(rd(&p, CRS_ISR), 0);

    /* CEN = 0: CFGR takes the USB2 SOF sync (SYNCSRC 11, rev V). */
    uint32_t cfgr = 47999u | (34u << 16) | (3u << 28);
    wr(&p, CRS_CFGR, cfgr);
    assert_int_equal(rd(&p, CRS_CFGR), cfgr);
    modify(&p, CRS_CR, 0, CRS_AUTO | CRS_CEN);
    /* CEN = 1: CFGR is write protected, the write is lost. */
    wr(&p, CRS_CFGR, 0x2022BB7Fu);
    assert_int_equal(rd(&p, CRS_CFGR), cfgr);
    assert_int_equal(crs_cfgr_writes_ignored(c), 1);
    /* TRIM belongs to the hardware while AUTOTRIMEN is set. */
    modify(&p, CRS_CR, 0x3Fu << 8, 0x10u << 8);
    assert_int_equal((rd(&p, CRS_CR) >> 8) & 0x3Fu, 0x20u);

    crs_sync_event(c);
    assert_int_equal(rd(&p, CRS_ISR), 0x9u); /* ESYNCF | SYNCOKF */
    wr(&p, CRS_ICR, 0x1u);
    assert_int_equal(rd(&p, CRS_ISR), 0x8u);
    wr(&p, CRS_ICR, 0x8u);
    assert_int_equal(rd(&p, CRS_ISR), 0);

    const char *why;
    assert_false(try_wr(&p, CRS_CR, rd(&p, CRS_CR) | 1u, &why)); /* SYNCOKIE */
    assert_false(try_rd(&p, 0x10, 4, &v));
    p.reset(p.ctx, false);
    assert_int_equal(rd(&p, CRS_CFGR), 0x2022BB7Fu);
    crs_free(c);
    rcc_free(r);
}

/* ---------------------------------------------------------------- GPIO */

#define G_MODER   0x00u
#define G_OTYPER  0x04u
#define G_OSPEEDR 0x08u
#define G_PUPDR   0x0Cu
#define G_IDR     0x10u
#define G_ODR     0x14u
#define G_BSRR    0x18u
#define G_LCKR    0x1Cu
#define G_AFRL    0x20u
#define G_AFRH    0x24u

static void test_gpio_reset_values(void **state)
{
    (void)state;
    static const uint32_t moder[3] = {0xABFFFFFFu, 0xFFFFFEBFu, 0xFFFFFFFFu};
    static const uint32_t ospeedr[3] = {0x0C000000u, 0x000000C0u, 0};
    static const uint32_t pupdr[3] = {0x64000000u, 0x00000100u, 0};
    for (unsigned port = 0; port < 3u; port++) {
        gpio_t *g = gpio_new(port);
        mcu_periph_t p = gpio_periph(g);
        assert_int_equal(p.base, 0x58020000u + 0x400u * port);
        assert_int_equal(rd(&p, G_MODER), moder[port]);
        assert_int_equal(rd(&p, G_OTYPER), 0);
        assert_int_equal(rd(&p, G_OSPEEDR), ospeedr[port]);
        assert_int_equal(rd(&p, G_PUPDR), pupdr[port]);
        assert_int_equal(rd(&p, G_ODR), 0);
        assert_int_equal(rd(&p, G_BSRR), 0);
        assert_int_equal(rd(&p, G_LCKR), 0);
        assert_int_equal(rd(&p, G_AFRL), 0);
        assert_int_equal(rd(&p, G_AFRH), 0);
        gpio_free(g);
    }
    gpio_t *k = gpio_new(10);
    assert_non_null(k);
    assert_int_equal(gpio_periph(k).base, 0x58022800u);
    gpio_free(k);
    assert_null(gpio_new(11));
}

static void pin_af(const mcu_periph_t *p, unsigned pin, unsigned af)
{
    unsigned sh2 = pin * 2u, sh4 = (pin & 7u) * 4u;
    modify(p, G_MODER, 3u << sh2, 2u << sh2);
    modify(p, G_OTYPER, 1u << pin, 0);
    modify(p, G_OSPEEDR, 3u << sh2, 3u << sh2);
    modify(p, G_PUPDR, 3u << sh2, 0);
    modify(p, pin < 8u ? G_AFRL : G_AFRH, 0xFu << sh4, af << sh4);
}

static void test_gpio_af_round_trip(void **state)
{
    (void)state;
    rcc_t *r = rcc_new(NULL);
    mcu_periph_t rp = rcc_periph(r);
    gpio_t *g = gpio_new(0);
    gpio_set_rcc(g, r);
    mcu_periph_t p = gpio_periph(g);
    uint32_t v;
    assert_false(try_rd(&p, G_MODER, 4, &v)); /* AHB4ENR.GPIOAEN = 0 */
    modify(&rp, RCC_AHB4ENR, 0, 1u);
    pin_af(&p, 11u, 10u);
    pin_af(&p, 12u, 10u);
    assert_int_equal(rd(&p, G_AFRH), 0x000AA000u);
    assert_int_equal(rd(&p, G_MODER), 0xAABFFFFFu); /* PA11, PA12: 10 */
    assert_int_equal(gpio_pin_mode(g, 11), 2);
    assert_int_equal(gpio_pin_af(g, 12), 10);
    assert_int_equal(gpio_pin_af(g, 13), 0);
    assert_int_equal(rd(&p, G_OSPEEDR), 0x0C000000u | (0xFu << 22));
    /* Byte access to AFRH's second byte (pins 10, 11). */
    assert_true(try_rd(&p, G_AFRH + 1u, 1, &v));
    assert_int_equal(v, 0xA0u);
    gpio_free(g);
    rcc_free(r);
}

static void test_gpio_odr_bsrr_idr_lock(void **state)
{
    (void)state;
    gpio_t *g = gpio_new(3); /* port D */
    mcu_periph_t p = gpio_periph(g);
    modify(&p, G_MODER, 3u << 0, 1u << 0); /* PD0 output */
    wr(&p, G_BSRR, 1u << 0);
    assert_int_equal(rd(&p, G_ODR), 1u);
    assert_int_equal(rd(&p, G_IDR) & 1u, 1u);
    wr(&p, G_BSRR, (1u << 16) | (1u << 0)); /* set wins */
    assert_int_equal(rd(&p, G_ODR), 1u);
    const char *why = NULL;
    assert_true(p.write(p.ctx, G_BSRR + 2u, 2, 1u, &why)); /* BR0 by half-word */
    assert_int_equal(rd(&p, G_ODR), 0);
    /* Inputs: pull-up, then driven from outside. */
    modify(&p, G_MODER, 3u << 2, 0);       /* PD1 input */
    modify(&p, G_PUPDR, 3u << 2, 1u << 2); /* pull-up */
    assert_int_equal(rd(&p, G_IDR) & 2u, 2u);
    gpio_set_input(g, 1, false);
    assert_int_equal(rd(&p, G_IDR) & 2u, 0);

    /* LCKR: lock PD0's configuration. */
    wr(&p, G_LCKR, (1u << 16) | 1u);
    wr(&p, G_LCKR, 1u);
    wr(&p, G_LCKR, (1u << 16) | 1u);
    assert_int_equal(rd(&p, G_LCKR), (1u << 16) | 1u);
    modify(&p, G_MODER, 3u << 0, 3u << 0);
    assert_int_equal(rd(&p, G_MODER) & 3u, 1u); /* frozen */
    modify(&p, G_MODER, 3u << 4, 1u << 4);
    assert_int_equal((rd(&p, G_MODER) >> 4) & 3u, 1u); /* PD2 is free */
    wr(&p, G_BSRR, 1u);                                /* ODR is not locked */
    assert_int_equal(rd(&p, G_ODR), 1u);
    p.reset(p.ctx, false);
    assert_int_equal(rd(&p, G_LCKR), 0);
    assert_int_equal(rd(&p, G_MODER), 0xFFFFFFFFu);

    uint32_t v;
    assert_false(try_rd(&p, 0x28, 4, &v));
    assert_false(try_wr(&p, G_IDR, 0, &why));
    gpio_free(g);
}

/* ---------------------------------------------------------------- DBGMCU / UID */

static void test_sysinfo(void **state)
{
    (void)state;
    sysinfo_t *d = dbgmcu_new(0x2003u);
    mcu_periph_t dp = dbgmcu_periph(d);
    assert_int_equal(dp.base, 0x5C001000u);
    assert_int_equal(rd(&dp, 0x00), 0x20030450u);
    const char *why;
    assert_false(try_wr(&dp, 0x00, 0, &why));
    wr(&dp, 0x04, 7u);
    assert_int_equal(rd(&dp, 0x04), 7u);
    uint32_t v;
    assert_false(try_rd(&dp, 0x34, 4, &v));
    sysinfo_free(d);

    const uint32_t id[3] = {0x00430027u, 0x3438510Au, 0x31383236u};
    sysinfo_t *u = uid_new(id);
    mcu_periph_t up = uid_periph(u);
    assert_int_equal(up.base, 0x1FF1E800u);
    assert_int_equal(rd(&up, 0x0), id[0]);
    assert_int_equal(rd(&up, 0x4), id[1]);
    assert_int_equal(rd(&up, 0x8), id[2]);
    assert_true(try_rd(&up, 0x80, 2, &v));
    assert_int_equal(v, 2048u);
    assert_int_equal(rd(&up, 0x80) & 0xFFFFu, 2048u);
    assert_true(try_rd(&up, 0x5, 1, &v));
    assert_int_equal(v, 0x51u);
    assert_false(try_rd(&up, 0x0C, 4, &v));
    assert_false(try_wr(&up, 0x0, 0, &why));
    sysinfo_free(u);
}

/* ---------------------------------------------------------------- SCB */

#define SCB_CPUID  0x000u
#define SCB_ICSR   0x004u
#define SCB_VTOR   0x008u
#define SCB_AIRCR  0x00Cu
#define SCB_CCR    0x014u
#define SCB_SHPR3  0x020u
#define SCB_SHCSR  0x024u
#define SCB_CFSR   0x028u
#define SCB_HFSR   0x02Cu
#define SCB_BFAR   0x038u
#define SCB_CLIDR  0x078u
#define SCB_CTR    0x07Cu
#define SCB_CCSIDR 0x080u
#define SCB_CSSELR 0x084u
#define SCB_CPACR  0x088u
#define SCB_DEMCR  0x0FCu
#define SCB_STIR   0x200u
#define SCB_FPCCR  0x234u
#define SCB_ICIALL 0x250u
#define SCB_DCISW  0x260u
#define SCB_DCCIMV 0x270u
#define SCB_BPIALL 0x278u

static void sysreset(void *user)
{
    (*(int *)user)++;
}

static void test_scb_reset_values(void **state)
{
    (void)state;
    scb_t *s = scb_new();
    mcu_periph_t p = scb_periph(s);
    assert_int_equal(p.base, 0xE000ED00u);
    assert_int_equal(p.size, 0x300u);
    assert_int_equal(rd(&p, SCB_CPUID), 0x411FC271u);
    assert_int_equal(rd(&p, SCB_ICSR), 0);
    assert_int_equal(rd(&p, SCB_VTOR), 0x08000000u);
    assert_int_equal(rd(&p, SCB_AIRCR), 0xFA050000u);
    assert_int_equal(rd(&p, SCB_CCR), 0x00040200u);
    assert_int_equal(rd(&p, SCB_CFSR), 0);
    assert_int_equal(rd(&p, SCB_HFSR), 0);
    assert_int_equal(rd(&p, SCB_CPACR), 0);
    assert_int_equal(rd(&p, SCB_DEMCR), 0);
    assert_int_equal(rd(&p, SCB_FPCCR), 0xC0000000u);
    assert_int_equal(rd(&p, SCB_CLIDR), 0x09000003u);
    assert_int_equal(rd(&p, SCB_CTR), 0x8303C003u);
    scb_free(s);
}

static void test_scb_aircr_and_vtor(void **state)
{
    (void)state;
    scb_t *s = scb_new();
    mcu_periph_t p = scb_periph(s);
    int resets = 0;
    scb_set_reset_hook(s, sysreset, &resets);
    /* Without the key: ignored. */
    wr(&p, SCB_AIRCR, (5u << 8) | (1u << 2));
    assert_int_equal(resets, 0);
    assert_int_equal(rd(&p, SCB_AIRCR), 0xFA050000u);
    wr(&p, SCB_AIRCR, (0xFA05u << 16) | (1u << 2)); /* the read key is not the write key */
    assert_int_equal(resets, 0);
    /* With it: PRIGROUP, then the reset request. */
    wr(&p, SCB_AIRCR, (0x05FAu << 16) | (5u << 8));
    assert_int_equal(rd(&p, SCB_AIRCR), 0xFA050500u);
    assert_int_equal(resets, 0);
    wr(&p, SCB_AIRCR, (0x05FAu << 16) | (rd(&p, SCB_AIRCR) & (7u << 8)) | (1u << 2));
    assert_int_equal(resets, 1);
    const char *why;
    assert_false(try_wr(&p, SCB_AIRCR, (0x05FAu << 16) | 1u, &why)); /* VECTRESET */

    wr(&p, SCB_VTOR, 0x08020000u);
    assert_int_equal(scb_vtor(s), 0x08020000u);
    wr(&p, SCB_VTOR, 0x0802007Fu); /* TBLOFF is [31:7] */
    assert_int_equal(rd(&p, SCB_VTOR), 0x08000000u | 0x20000u);
    p.reset(p.ctx, false);
    assert_int_equal(scb_vtor(s), 0x08000000u);
    scb_set_reset_vtor(s, 0x1FF09800u);
    p.reset(p.ctx, true);
    assert_int_equal(scb_vtor(s), 0x1FF09800u);
    scb_free(s);
}

static void test_scb_cache_id_and_ops(void **state)
{
    (void)state;
    scb_t *s = scb_new();
    mcu_periph_t p = scb_periph(s);
    wr(&p, SCB_CSSELR, 0); /* level 1 data cache */
    uint32_t d = rd(&p, SCB_CCSIDR);
    assert_int_equal(d & 7u, 1u);                /* 8 words = 32-byte lines */
    assert_int_equal((d >> 3) & 0x3FFu, 3u);     /* 4 ways */
    assert_int_equal((d >> 13) & 0x7FFFu, 127u); /* 128 sets: 16 KiB */
    assert_int_equal(d >> 28, 0xFu);             /* WT WB RA WA */
    wr(&p, SCB_CSSELR, 1);                       /* level 1 instruction cache */
    uint32_t i = rd(&p, SCB_CCSIDR);
    assert_int_equal((i >> 3) & 0x3FFu, 1u);     /* 2 ways */
    assert_int_equal((i >> 13) & 0x7FFFu, 255u); /* 256 sets: 16 KiB */
    const char *why;
    assert_false(try_wr(&p, SCB_CSSELR, 2, &why)); /* level 2: none */

    /* The firmware's D-cache invalidate-all loop, then the enables. */
    unsigned ops = 0;
    for (uint32_t set = 0; set < 128u; set++) {
        for (uint32_t way = 0; way < 4u; way++) {
            wr(&p, SCB_DCISW, (set << 5) | (way << 30));
            ops++;
        }
    }
    wr(&p, SCB_ICIALL, 0);
    wr(&p, SCB_DCCIMV, 0x08000020u);
    wr(&p, SCB_BPIALL, 0);
    assert_int_equal(scb_cache_ops(s), ops + 3u);
    assert_false(try_wr(&p, SCB_DCISW, 128u << 5, &why)); /* set 128: none */
    uint32_t v;
    assert_false(try_rd(&p, SCB_ICIALL, 4, &v)); /* write only */
    modify(&p, SCB_CCR, 0, (1u << 16) | (1u << 17) | (1u << 8));
    assert_int_equal(scb_ccr(s), 0x00040200u | (1u << 16) | (1u << 17) | (1u << 8));
    modify(&p, SCB_CCR, (1u << 18) | (1u << 9), 0); /* BP, STKALIGN read as one */
    assert_int_equal(rd(&p, SCB_CCR) & 0x40200u, 0x40200u);

    wr(&p, SCB_CPACR, 0xFFFFFFFFu);
    assert_int_equal(rd(&p, SCB_CPACR), 0x00F00000u); /* CP10, CP11 only */
    scb_free(s);
}

static void test_scb_faults(void **state)
{
    (void)state;
    scb_t *s = scb_new();
    mcu_periph_t p = scb_periph(s);
    scb_record_busfault(s, 0x08100000u, true);
    assert_int_equal(rd(&p, SCB_CFSR), (1u << 9) | (1u << 15)); /* PRECISERR BFARVALID */
    assert_int_equal(rd(&p, SCB_BFAR), 0x08100000u);
    uint32_t v;
    assert_true(try_rd(&p, SCB_CFSR + 1u, 1, &v)); /* BFSR by byte */
    assert_int_equal(v, 0x82u);
    scb_record_busfault(s, 0, false);
    assert_true(rd(&p, SCB_CFSR) & (1u << 10)); /* IMPRECISERR */
    const char *why = NULL;
    assert_true(p.write(p.ctx, SCB_CFSR + 1u, 1, 0xFFu, &why)); /* W1C by byte */
    assert_int_equal(rd(&p, SCB_CFSR), 0);
    scb_record_hardfault_forced(s);
    assert_int_equal(rd(&p, SCB_HFSR), 1u << 30);
    wr(&p, SCB_HFSR, 1u << 30);
    assert_int_equal(rd(&p, SCB_HFSR), 0);

    /* SHCSR enables; SHPR3 PendSV priority by byte (4 bits implemented). */
    wr(&p, SCB_SHCSR, 7u << 16);
    assert_int_equal(scb_shcsr(s), 7u << 16);
    assert_false(try_wr(&p, SCB_SHCSR, 1u << 1, &why)); /* BUSFAULTACT */
    assert_true(p.write(p.ctx, SCB_SHPR3 + 2u, 1, 0xFFu, &why));
    assert_int_equal(rd(&p, SCB_SHPR3), 0x00F00000u);

    /* DEMCR.TRCENA survives a system reset, not a power-on reset. */
    wr(&p, SCB_DEMCR, 1u << 24);
    p.reset(p.ctx, false);
    assert_true(scb_trcena(s));
    assert_int_equal(rd(&p, SCB_CFSR), 0);
    p.reset(p.ctx, true);
    assert_false(scb_trcena(s));

    /* Not modelled. */
    assert_false(try_wr(&p, SCB_STIR, 3, &why));
    assert_false(try_wr(&p, SCB_ICSR, 1u << 28, &why)); /* PENDSVSET */
    assert_false(try_wr(&p, SCB_DEMCR, 1u, &why));      /* VC_CORERESET */
    assert_false(try_rd(&p, 0x040, 4, &v));             /* ID_PFR0 */
    assert_false(try_rd(&p, 0x094, 4, &v));             /* MPU_CTRL */
    assert_false(try_rd(&p, 0x290, 4, &v));             /* ITCMCR */
    assert_false(try_rd(&p, SCB_VTOR, 2, &v));          /* word register */
    scb_free(s);
}

/* ---------------------------------------------------------------- SysTick / DWT */

#define SYST_CSR   0x0u
#define SYST_RVR   0x4u
#define SYST_CVR   0x8u
#define SYST_CALIB 0xCu
#define COUNTFLAG  (1u << 16)

static void test_systick(void **state)
{
    (void)state;
    sim_clock_t clk;
    sim_clock_init(&clk);
    rcc_t *r = rcc_new(&clk); /* 64 MHz */
    systick_t *t = systick_new(&clk, r);
    mcu_periph_t p = systick_periph(t);
    assert_int_equal(p.base, 0xE000E010u);
    assert_int_equal(rd(&p, SYST_CSR), 0);
    assert_int_equal(rd(&p, SYST_CALIB), 0x40000000u);

    /* The firmware's delay: RVR = 1000 - 1, CVR = 0, processor clock. */
    wr(&p, SYST_CSR, 0);
    wr(&p, SYST_RVR, 999u);
    wr(&p, SYST_CVR, 0);
    wr(&p, SYST_CSR, 5u); /* ENABLE | CLKSOURCE */
    assert_int_equal(rd(&p, SYST_CVR), 0);
    sim_clock_bus_advance(&clk, 160u);             /* 10.24 ticks of 15.625 ns */
    assert_int_equal(rd(&p, SYST_CVR), 999u - 9u); /* tick 1 reloads */
    assert_false(rd(&p, SYST_CSR) & COUNTFLAG);
    sim_clock_bus_advance(&clk, 15625u - 160u - 20u); /* tick 998 */
    assert_false(rd(&p, SYST_CSR) & COUNTFLAG);
    sim_clock_bus_advance(&clk, 20u); /* tick 1000: 1 -> 0 */
    assert_int_equal(rd(&p, SYST_CVR), 0);
    assert_true(rd(&p, SYST_CSR) & COUNTFLAG);
    assert_false(rd(&p, SYST_CSR) & COUNTFLAG); /* cleared by the read */
    /* Several wraps since the last look: one COUNTFLAG. */
    sim_clock_bus_advance(&clk, 3u * 15625u);
    assert_true(rd(&p, SYST_CSR) & COUNTFLAG);
    assert_false(rd(&p, SYST_CSR) & COUNTFLAG);
    /* A write to CVR clears the counter and COUNTFLAG. */
    sim_clock_bus_advance(&clk, 15625u);
    wr(&p, SYST_CVR, 12345u);
    assert_false(rd(&p, SYST_CSR) & COUNTFLAG);
    /* Disabled: the value holds. */
    sim_clock_bus_advance(&clk, 160u);
    wr(&p, SYST_CSR, 4u);
    uint32_t held = rd(&p, SYST_CVR);
    sim_clock_bus_advance(&clk, SIM_NS_PER_MS);
    assert_int_equal(rd(&p, SYST_CVR), held);

    /* CLKSOURCE = 0: the CPU clock / 8 (8 MHz, 125 ns a tick). */
    wr(&p, SYST_RVR, 0x00FFFFFFu);
    wr(&p, SYST_CVR, 0);
    wr(&p, SYST_CSR, 1u);
    sim_clock_bus_advance(&clk, 125u * 11u);
    assert_int_equal(rd(&p, SYST_CVR), 0x00FFFFFFu - 10u);

    const char *why;
    assert_false(try_wr(&p, SYST_CSR, 3u, &why)); /* TICKINT */
    assert_false(try_wr(&p, SYST_RVR, 0x01000000u, &why));
    p.reset(p.ctx, false);
    assert_int_equal(rd(&p, SYST_CSR), 0);
    systick_free(t);
    rcc_free(r);
}

static void test_systick_at_400mhz(void **state)
{
    (void)state;
    sim_clock_t clk;
    sim_clock_init(&clk);
    rcc_t *r = rcc_new(&clk);
    mcu_periph_t rp = rcc_periph(r);
    systick_t *t = systick_new(&clk, r);
    mcu_periph_t p = systick_periph(t);
    clock_up_400(&rp);
    /* h743_delay_us(10): 4000 ticks of 2.5 ns = 10 us. */
    wr(&p, SYST_CSR, 0);
    wr(&p, SYST_RVR, 400u * 10u - 1u);
    wr(&p, SYST_CVR, 0);
    wr(&p, SYST_CSR, 5u);
    uint64_t start = sim_clock_now_ns(&clk);
    while ((rd(&p, SYST_CSR) & COUNTFLAG) == 0u) {
        sim_clock_bus_advance(&clk, 100u);
    }
    uint64_t took = sim_clock_now_ns(&clk) - start;
    assert_true(took >= 10000u && took < 10100u);
    systick_free(t);
    rcc_free(r);
}

static void test_dwt_cyccnt(void **state)
{
    (void)state;
    sim_clock_t clk;
    sim_clock_init(&clk);
    rcc_t *r = rcc_new(&clk);
    scb_t *s = scb_new();
    mcu_periph_t sp = scb_periph(s);
    systick_t *t = systick_new(&clk, r);
    systick_attach_scb(t, s);
    mcu_periph_t p = dwt_periph(t);
    assert_int_equal(p.base, 0xE0001000u);
    assert_int_equal(rd(&p, 0x000), 0x40000000u); /* NUMCOMP = 4 */
    assert_int_equal(rd(&p, 0x004), 0);
    /* CYCCNTENA without TRCENA: no count. */
    wr(&p, 0x000, 1u);
    sim_clock_bus_advance(&clk, 1000u);
    assert_int_equal(rd(&p, 0x004), 0);
    wr(&sp, SCB_DEMCR, 1u << 24);
    wr(&p, 0x004, 0);
    sim_clock_bus_advance(&clk, 1000u); /* 64 MHz: 64 cycles */
    assert_int_equal(rd(&p, 0x004), 64u);
    wr(&p, 0x004, 0xFFFFFFF0u); /* wraps at 2^32 */
    sim_clock_bus_advance(&clk, 1000u);
    assert_int_equal(rd(&p, 0x004), 48u);
    wr(&p, 0x000, 0); /* stopped: holds */
    sim_clock_bus_advance(&clk, 1000u);
    assert_int_equal(rd(&p, 0x004), 48u);
    wr(&p, 0xFB0, 0xC5ACCE55u);
    assert_int_equal(rd(&p, 0xFB4), 1u); /* implemented, unlocked */
    uint32_t v;
    assert_false(try_rd(&p, 0x008, 4, &v)); /* CPICNT */
    const char *why;
    assert_false(try_wr(&p, 0x000, 1u << 12, &why)); /* PCSAMPLENA */
    systick_free(t);
    scb_free(s);
    rcc_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rcc_reset_values),
        cmocka_unit_test(test_rcc_clock_init_400mhz),
        cmocka_unit_test(test_rcc_illegal_pll_never_locks),
        cmocka_unit_test(test_rcc_medium_vco_locks),
        cmocka_unit_test(test_rcc_pll_config_refused_while_on),
        cmocka_unit_test(test_rcc_hsidiv),
        cmocka_unit_test(test_rcc_usb_clock_and_reset_hook),
        cmocka_unit_test(test_rcc_unmodelled),
        cmocka_unit_test(test_pwr_reset_values),
        cmocka_unit_test(test_pwr_cr3_written_once),
        cmocka_unit_test(test_pwr_invalid_supply_never_ready),
        cmocka_unit_test(test_pwr_usb33),
        cmocka_unit_test(test_crs),
        cmocka_unit_test(test_gpio_reset_values),
        cmocka_unit_test(test_gpio_af_round_trip),
        cmocka_unit_test(test_gpio_odr_bsrr_idr_lock),
        cmocka_unit_test(test_sysinfo),
        cmocka_unit_test(test_scb_reset_values),
        cmocka_unit_test(test_scb_aircr_and_vtor),
        cmocka_unit_test(test_scb_cache_id_and_ops),
        cmocka_unit_test(test_scb_faults),
        cmocka_unit_test(test_systick),
        cmocka_unit_test(test_systick_at_400mhz),
        cmocka_unit_test(test_dwt_cyccnt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
