/*
 * RCC model (RM0433 section 8; register map 8.7.47). Base 0x5802 4400 (RM0433
 * 2.3.2 Table 8, D3 AHB4).
 *
 * Modelled: the HSI (64 MHz, HSIDIV), HSI48 and PLL1 with their ON/RDY
 * handshakes (ready flags follow the ON bits at once; PLL1 locks only on a
 * legal configuration, RM0433 8.5.6 and 8.7.11..8.7.13), the sys_ck switch
 * (CFGR.SW -> SWS once the source is ready), the domain prescalers, the USB
 * kernel clock mux (D2CCIP2R.USBSEL) and the enable / reset bits of the
 * peripherals the board has (OTG_FS, GPIOA..K, CRS, SYSCFG).
 * Not modelled (a write setting them is refused): CSI, HSE, LSE/LSI, PLL2
 * and PLL3 running (their configuration registers are kept), MCO, the
 * clock interrupts, the backup domain (BDCR), RSR and the C1_ aliases.
 */
#include <stdlib.h>

#include "mcu_sys.h"

/* Register offsets (RM0433 8.7.47 "RCC register map and reset values"). */
enum {
    R_CR = 0x000,        /* 8.7.2 */
    R_CFGR = 0x010,      /* 8.7.7 */
    R_D1CFGR = 0x018,    /* 8.7.8 */
    R_D2CFGR = 0x01C,    /* 8.7.9 */
    R_D3CFGR = 0x020,    /* 8.7.10 */
    R_PLLCKSELR = 0x028, /* 8.7.11 */
    R_PLLCFGR = 0x02C,   /* 8.7.12 */
    R_PLL1DIVR = 0x030,  /* 8.7.13 */
    R_PLL1FRACR = 0x034, /* RCC_PLL1FRACR */
    R_PLL2DIVR = 0x038,
    R_PLL2FRACR = 0x03C,
    R_PLL3DIVR = 0x040,
    R_PLL3FRACR = 0x044,
    R_D1CCIPR = 0x04C,
    R_D2CCIP1R = 0x050,
    R_D2CCIP2R = 0x054, /* 8.7.22 */
    R_D3CCIPR = 0x058,
    R_CIER = 0x060,
    R_CIFR = 0x064,
    R_CICR = 0x068,
    R_AHB3RSTR = 0x07C,
    R_AHB1RSTR = 0x080, /* 8.7.30 */
    R_AHB2RSTR = 0x084,
    R_AHB4RSTR = 0x088,
    R_APB3RSTR = 0x08C,
    R_APB1LRSTR = 0x090,
    R_APB1HRSTR = 0x094,
    R_APB2RSTR = 0x098,
    R_APB4RSTR = 0x09C,
    R_AHB3ENR = 0x0D4,
    R_AHB1ENR = 0x0D8, /* 8.7.39 */
    R_AHB2ENR = 0x0DC,
    R_AHB4ENR = 0x0E0, /* 8.7.41 */
    R_APB3ENR = 0x0E4,
    R_APB1LENR = 0x0E8,
    R_APB1HENR = 0x0EC, /* 8.7.44 */
    R_APB2ENR = 0x0F0,
    R_APB4ENR = 0x0F4, /* 8.7.46 */
};

/* Reset values (RM0433 8.7.47). */
#define CR_RESET        0x00000025u /* HSION | HSIRDY | HSIDIVF */
#define PLLCKSELR_RESET 0x02020200u /* DIVM1..3 = 32, PLLSRC = HSI */
#define PLLCFGR_RESET   0x01FF0000u /* all DIVxyEN set, RGE 00, wide VCO */
#define PLLxDIVR_RESET  0x01010280u /* N = 129, P = Q = R = 2 */

/* RCC_CR bits (RM0433 8.7.2). */
#define CR_HSION    (1u << 0)
#define CR_HSIKERON (1u << 1)
#define CR_HSIRDY   (1u << 2)
#define CR_HSIDIV   (3u << 3)
#define CR_HSIDIVF  (1u << 5)
#define CR_CSION    (1u << 7)
#define CR_CSIRDY   (1u << 8)
#define CR_CSIKERON (1u << 9)
#define CR_HSI48ON  (1u << 12)
#define CR_HSI48RDY (1u << 13)
#define CR_D1CKRDY  (1u << 14)
#define CR_D2CKRDY  (1u << 15)
#define CR_HSEON    (1u << 16)
#define CR_HSERDY   (1u << 17)
#define CR_HSEBYP   (1u << 18)
#define CR_HSECSSON (1u << 19)
#define CR_PLL1ON   (1u << 24)
#define CR_PLL1RDY  (1u << 25)
#define CR_PLL2ON   (1u << 26)
#define CR_PLL2RDY  (1u << 27)
#define CR_PLL3ON   (1u << 28)
#define CR_PLL3RDY  (1u << 29)
#define CR_STORED   (CR_HSION | CR_HSIKERON | CR_HSIDIV | CR_HSI48ON | CR_PLL1ON)
#define CR_READ_ONLY                                                                               \
    (CR_HSIRDY | CR_HSIDIVF | CR_CSIRDY | CR_HSI48RDY | CR_D1CKRDY | CR_D2CKRDY | CR_HSERDY |      \
     CR_PLL1RDY | CR_PLL2RDY | CR_PLL3RDY)

/* RCC_CFGR (RM0433 8.7.7): SW[2:0], SWS[5:3]; 000 HSI, 001 CSI, 010 HSE,
 * 011 PLL1. */
#define CFGR_SW      7u
#define CFGR_SWS     (7u << 3)
#define SRC_HSI      0u
#define SRC_PLL1     3u
#define CFGR_RESERVE (~(CFGR_SW | CFGR_SWS))

/* RCC_D1CFGR HPRE[3:0], D1PPRE[6:4], D1CPRE[11:8] (8.7.8); D2CFGR D2PPRE1
 * [6:4], D2PPRE2[10:8] (8.7.9); D3CFGR D3PPRE[6:4] (8.7.10). */
#define D1CFGR_MASK 0x00000F7Fu
#define D2CFGR_MASK 0x00000770u
#define D3CFGR_MASK 0x00000070u

/* RCC_PLLCKSELR (8.7.11): PLLSRC[1:0] (00 HSI, 01 CSI, 10 HSE, 11 none),
 * DIVM1[9:4], DIVM2[17:12], DIVM3[25:20]. */
#define PLLSRC       3u
#define PLLSRC_HSI   0u
#define PLLSRC_NONE  3u
#define DIVM1_SHIFT  4u
#define DIVM1        (0x3Fu << DIVM1_SHIFT)
#define PLLCKSELR_WR (PLLSRC | DIVM1 | (0x3Fu << 12) | (0x3Fu << 20))

/* RCC_PLLCFGR (8.7.12): PLL1FRACEN 0, PLL1VCOSEL 1, PLL1RGE[3:2]; PLL2 and
 * PLL3 the same at 4 and 8; DIVP1EN 16, DIVQ1EN 17, DIVR1EN 18, then PLL2's
 * and PLL3's DIVxEN up to bit 24. */
#define PLL1FRACEN   (1u << 0)
#define PLL1VCOSEL   (1u << 1)
#define PLL1RGE_SH   2u
#define PLL1RGE      (3u << PLL1RGE_SH)
#define DIVP1EN      (1u << 16)
#define DIVQ1EN      (1u << 17)
#define DIVR1EN      (1u << 18)
#define PLLCFGR_WR   (0x00000FFFu | (0x1FFu << 16))
#define PLLCFGR_PLL1 (PLL1VCOSEL | PLL1RGE | DIVP1EN | DIVQ1EN | DIVR1EN)

/* RCC_PLL1DIVR (8.7.13): DIVN1[8:0] (N = v + 1), DIVP1[15:9], DIVQ1[22:16],
 * DIVR1[30:24] (divider = v + 1). */
#define DIVR_MASK 0x7F7FFFFFu
/* RCC_PLL1FRACR: FRACN1[15:3]. */
#define FRACR_MASK (0x1FFFu << 3)

/* RCC_D2CCIP2R (8.7.22): USBSEL[21:20]: 00 off, 01 pll1_q_ck, 10 pll3_q_ck,
 * 11 hsi48_ck. */
#define USBSEL_SH    20u
#define USBSEL       (3u << USBSEL_SH)
#define USBSEL_PLL1Q 1u
#define USBSEL_PLL3Q 2u
#define USBSEL_HSI48 3u

/* Enable / reset bits of the peripherals the board has. */
#define AHB1_OTGFS  (1u << 27) /* USB2OTGFSEN / USB2OTGFSRST (8.7.39 / 8.7.30) */
#define AHB4_GPIO   0x7FFu     /* GPIOAEN..GPIOKEN, bits 0..10 (AHB4ENR / AHB4RSTR) */
#define APB1H_CRS   (1u << 1)  /* CRSEN / CRSRST (APB1HENR / APB1HRSTR) */
#define APB4_SYSCFG (1u << 1)  /* SYSCFGEN / SYSCFGRST (APB4ENR / APB4RSTR) */

#define HSI_HZ   64000000u /* RM0433 RCC "HSI oscillator": 64 MHz */
#define HSI48_HZ 48000000u /* RM0433 RCC "HSI48 oscillator" */

struct rcc {
    sim_clock_t *clock;
    uint32_t cr; /* CR_STORED bits */
    uint32_t sw, sws;
    uint32_t d1cfgr, d2cfgr, d3cfgr;
    uint32_t pllckselr, pllcfgr;
    uint32_t pll1divr, pll1fracr, frac_latched;
    uint32_t pll2divr, pll2fracr, pll3divr, pll3fracr;
    uint32_t d2ccip2r;
    uint32_t ahb1rstr, ahb4rstr, apb1hrstr, apb4rstr;
    uint32_t ahb1enr, ahb4enr, apb1henr, apb4enr;
    void (*hook)(void *user, const char *periph);
    void *hook_user;
};

static uint32_t hsi_hz(const rcc_t *r)
{
    /* HSIDIV 00 /1, 01 /2, 10 /4, 11 /8 (8.7.2). */
    return HSI_HZ >> ((r->cr & CR_HSIDIV) >> 3);
}

static bool hsi_ready(const rcc_t *r)
{
    return (r->cr & CR_HSION) != 0u;
}

/* VCO frequency of PLL1, or 0 when the configuration cannot lock:
 *  - reference (HSI / DIVM1) inside the PLL1RGE range: 00 1-2 MHz,
 *    01 2-4 MHz, 10 4-8 MHz, 11 8-16 MHz (8.7.12 PLL1RGE);
 *  - wide VCO (VCOSEL 0) 192..960 MHz from a 2..16 MHz reference, medium
 *    VCO (VCOSEL 1) 150..420 MHz from 1..2 MHz (8.5.6 "PLL initialization
 *    phase", 8.7.12 PLL1VCOSEL; the 960 MHz top is rev V's, rev Y stops at
 *    836 MHz);
 *  - DIVN1 4..512 (8.7.13: 0x003..0x1FF), DIVM1 != 0 (0: prescaler off),
 *    DIVP1 even (8.7.13: odd factors "not allowed" for PLL1). */
static uint64_t pll1_vco_hz(const rcc_t *r)
{
    if ((r->pllckselr & PLLSRC) != PLLSRC_HSI || !hsi_ready(r)) {
        return 0;
    }
    uint32_t m = (r->pllckselr & DIVM1) >> DIVM1_SHIFT;
    if (m == 0u) {
        return 0;
    }
    uint64_t ref = hsi_hz(r) / m;
    static const uint32_t rge_lo[4] = {1000000u, 2000000u, 4000000u, 8000000u};
    static const uint32_t rge_hi[4] = {2000000u, 4000000u, 8000000u, 16000000u};
    unsigned rge = (r->pllcfgr & PLL1RGE) >> PLL1RGE_SH;
    if (ref < rge_lo[rge] || ref > rge_hi[rge]) {
        return 0;
    }
    bool medium = (r->pllcfgr & PLL1VCOSEL) != 0u;
    if (medium ? (ref > 2000000u) : (ref < 2000000u)) {
        return 0;
    }
    uint32_t nreg = r->pll1divr & 0x1FFu;
    if (nreg < 3u) {
        return 0;
    }
    uint64_t vco = ref * (nreg + 1u);
    if ((r->pllcfgr & PLL1FRACEN) != 0u) {
        vco += ref * r->frac_latched / 8192u; /* FRACN1 / 2^13 (RCC_PLL1FRACR) */
    }
    uint64_t lo = medium ? 150000000u : 192000000u;
    uint64_t hi = medium ? 420000000u : 960000000u;
    if (vco < lo || vco > hi) {
        return 0;
    }
    uint32_t preg = (r->pll1divr >> 9) & 0x7Fu;
    if ((preg & 1u) == 0u) {
        return 0;
    }
    return vco;
}

static bool pll1_ready(const rcc_t *r)
{
    return (r->cr & CR_PLL1ON) != 0u && pll1_vco_hz(r) != 0u;
}

static uint32_t pll1_out_hz(const rcc_t *r, unsigned shift, uint32_t en)
{
    if (!pll1_ready(r) || (r->pllcfgr & en) == 0u) {
        return 0;
    }
    return (uint32_t)(pll1_vco_hz(r) / (((r->pll1divr >> shift) & 0x7Fu) + 1u));
}

static bool source_ready(const rcc_t *r, uint32_t src)
{
    if (src == SRC_HSI) {
        return hsi_ready(r);
    }
    if (src == SRC_PLL1) {
        return pll1_ready(r) && (r->pllcfgr & DIVP1EN) != 0u;
    }
    return false;
}

/* The switch completes once the selected source is ready (8.7.7 SWS). */
static void settle(rcc_t *r)
{
    if (r->sws != r->sw && source_ready(r, r->sw)) {
        r->sws = r->sw;
    }
}

uint32_t rcc_sysclk_hz(const rcc_t *r)
{
    if (r->sws == SRC_PLL1) {
        return pll1_out_hz(r, 9, DIVP1EN);
    }
    return hsi_hz(r);
}

/* D1CPRE / HPRE: 0xxx /1, 1000 /2, 1001 /4, 1010 /8, 1011 /16, 1100 /64,
 * 1101 /128, 1110 /256, 1111 /512 (8.7.8). */
static uint32_t ahb_div(uint32_t v)
{
    static const uint16_t div[8] = {2, 4, 8, 16, 64, 128, 256, 512};
    return (v & 8u) != 0u ? div[v & 7u] : 1u;
}

uint32_t rcc_cpu_hz(const rcc_t *r)
{
    return rcc_sysclk_hz(r) / ahb_div((r->d1cfgr >> 8) & 0xFu);
}

uint32_t rcc_hclk_hz(const rcc_t *r)
{
    return rcc_cpu_hz(r) / ahb_div(r->d1cfgr & 0xFu);
}

bool rcc_pll1_locked(const rcc_t *r)
{
    return pll1_ready(r);
}

bool rcc_otg_fs_clocked(const rcc_t *r)
{
    if ((r->ahb1enr & AHB1_OTGFS) == 0u) {
        return false;
    }
    switch ((r->d2ccip2r & USBSEL) >> USBSEL_SH) {
    case USBSEL_HSI48:
        return (r->cr & CR_HSI48ON) != 0u;
    case USBSEL_PLL1Q:
        return pll1_out_hz(r, 16, DIVQ1EN) == HSI48_HZ;
    default:
        return false;
    }
}

bool rcc_crs_clocked(const rcc_t *r)
{
    return (r->apb1henr & APB1H_CRS) != 0u;
}

bool rcc_gpio_clocked(const rcc_t *r, unsigned port)
{
    return port < GPIO_PORTS && (r->ahb4enr & (1u << port)) != 0u;
}

bool rcc_syscfg_clocked(const rcc_t *r)
{
    return (r->apb4enr & APB4_SYSCFG) != 0u;
}

void rcc_set_periph_reset_hook(rcc_t *r, void (*hook)(void *user, const char *periph), void *user)
{
    r->hook = hook;
    r->hook_user = user;
}

static uint32_t cr_value(const rcc_t *r)
{
    uint32_t v = r->cr;
    if (hsi_ready(r)) {
        v |= CR_HSIRDY;
    }
    v |= CR_HSIDIVF; /* a new HSIDIV takes effect at once here */
    if ((r->cr & CR_HSI48ON) != 0u) {
        v |= CR_HSI48RDY;
    }
    if (pll1_ready(r)) {
        v |= CR_PLL1RDY;
    }
    return v;
}

static void rcc_do_reset(void *ctx, bool power_on)
{
    (void)power_on; /* nothing of the RCC model lives in the backup domain */
    rcc_t *r = ctx;
    r->cr = CR_RESET & CR_STORED;
    r->sw = r->sws = SRC_HSI;
    r->d1cfgr = r->d2cfgr = r->d3cfgr = 0;
    r->pllckselr = PLLCKSELR_RESET;
    r->pllcfgr = PLLCFGR_RESET;
    r->pll1divr = r->pll2divr = r->pll3divr = PLLxDIVR_RESET;
    r->pll1fracr = r->pll2fracr = r->pll3fracr = r->frac_latched = 0;
    r->d2ccip2r = 0;
    r->ahb1rstr = r->ahb4rstr = r->apb1hrstr = r->apb4rstr = 0;
    r->ahb1enr = r->ahb4enr = r->apb1henr = r->apb4enr = 0;
}

static bool rcc_read(void *ctx, uint32_t off, unsigned size, uint32_t *val, const char **why)
{
    rcc_t *r = ctx;
    if (size != 4u) {
        *why = "RCC: only 32-bit accesses are modelled";
        return false;
    }
    settle(r);
    switch (off) {
    case R_CR:
        *val = cr_value(r);
        return true;
    case R_CFGR:
        *val = r->sw | (r->sws << 3);
        return true;
    case R_D1CFGR:
        *val = r->d1cfgr;
        return true;
    case R_D2CFGR:
        *val = r->d2cfgr;
        return true;
    case R_D3CFGR:
        *val = r->d3cfgr;
        return true;
    case R_PLLCKSELR:
        *val = r->pllckselr;
        return true;
    case R_PLLCFGR:
        *val = r->pllcfgr;
        return true;
    case R_PLL1DIVR:
        *val = r->pll1divr;
        return true;
    case R_PLL1FRACR:
        *val = r->pll1fracr;
        return true;
    case R_PLL2DIVR:
        *val = r->pll2divr;
        return true;
    case R_PLL2FRACR:
        *val = r->pll2fracr;
        return true;
    case R_PLL3DIVR:
        *val = r->pll3divr;
        return true;
    case R_PLL3FRACR:
        *val = r->pll3fracr;
        return true;
    case R_D2CCIP2R:
        *val = r->d2ccip2r;
        return true;
    case R_D1CCIPR:
    case R_D2CCIP1R:
    case R_D3CCIPR:
    case R_CIER:
    case R_CIFR: /* RCC_CIFR: a flag rises only with its CIER enable */
    case R_CICR:
    case R_AHB3RSTR:
    case R_AHB2RSTR:
    case R_APB3RSTR:
    case R_APB1LRSTR:
    case R_APB2RSTR:
    case R_AHB3ENR:
    case R_AHB2ENR:
    case R_APB3ENR:
    case R_APB1LENR:
    case R_APB2ENR:
        *val = 0; /* reset value 0, nothing in them is modelled as set */
        return true;
    case R_AHB1RSTR:
        *val = r->ahb1rstr;
        return true;
    case R_AHB4RSTR:
        *val = r->ahb4rstr;
        return true;
    case R_APB1HRSTR:
        *val = r->apb1hrstr;
        return true;
    case R_APB4RSTR:
        *val = r->apb4rstr;
        return true;
    case R_AHB1ENR:
        *val = r->ahb1enr;
        return true;
    case R_AHB4ENR:
        *val = r->ahb4enr;
        return true;
    case R_APB1HENR:
        *val = r->apb1henr;
        return true;
    case R_APB4ENR:
        *val = r->apb4enr;
        return true;
    default:
        *why = "RCC: register not modelled";
        return false;
    }
}

static bool write_cr(rcc_t *r, uint32_t v, const char **why)
{
    if ((v & (CR_CSION | CR_CSIKERON)) != 0u) {
        *why = "RCC_CR: CSI not modelled";
        return false;
    }
    if ((v & (CR_HSEON | CR_HSEBYP | CR_HSECSSON)) != 0u) {
        *why = "RCC_CR: HSE not modelled (no crystal on the board)";
        return false;
    }
    if ((v & (CR_PLL2ON | CR_PLL3ON)) != 0u) {
        *why = "RCC_CR: PLL2/PLL3 not modelled";
        return false;
    }
    if ((v & ~(CR_STORED | CR_READ_ONLY)) != 0u) {
        *why = "RCC_CR: reserved bit set";
        return false;
    }
    uint32_t nv = v & CR_STORED;
    bool hsi_feeds_pll = (r->cr & CR_PLL1ON) != 0u && (r->pllckselr & PLLSRC) == PLLSRC_HSI;
    /* HSION cannot be cleared while HSI is sys_ck or PLL1's enabled
     * reference (8.7.2 HSION). */
    if (r->sws == SRC_HSI || hsi_feeds_pll) {
        nv |= CR_HSION;
    }
    /* A new HSIDIV is ignored while HSI feeds an enabled PLL (8.7.2). */
    if (hsi_feeds_pll) {
        nv = (nv & ~CR_HSIDIV) | (r->cr & CR_HSIDIV);
    }
    /* PLL1ON cannot be cleared while PLL1 is sys_ck (8.7.2 PLL1ON). */
    if (r->sws == SRC_PLL1) {
        nv |= CR_PLL1ON;
    }
    r->cr = nv;
    return true;
}

/* A PLL1 configuration field may change only with PLL1 off (8.7.11..13:
 * "can be written only when the PLL1 is disabled (PLL1ON = 0 and
 * PLL1RDY = 0)"). On the chip such a write is lost; here it stops the
 * firmware, as it is always a bug. */
static bool pll1_locked_change(const rcc_t *r, uint32_t old, uint32_t nv, uint32_t mask)
{
    return (r->cr & CR_PLL1ON) != 0u && ((old ^ nv) & mask) != 0u;
}

static bool write_enable(uint32_t *reg, uint32_t v, uint32_t mask, const char **why,
                         const char *msg)
{
    if ((v & ~mask) != 0u) {
        *why = msg;
        return false;
    }
    *reg = v;
    return true;
}

static void write_reset(rcc_t *r, uint32_t *reg, uint32_t v, uint32_t bit, const char *name)
{
    uint32_t rising = v & ~*reg & bit;
    *reg = v;
    if (rising != 0u && r->hook != NULL) {
        r->hook(r->hook_user, name);
    }
}

static bool write_ahb4rstr(rcc_t *r, uint32_t v)
{
    static const char *const names[GPIO_PORTS] = {"GPIOA", "GPIOB", "GPIOC", "GPIOD",
                                                  "GPIOE", "GPIOF", "GPIOG", "GPIOH",
                                                  "GPIOI", "GPIOJ", "GPIOK"};
    uint32_t rising = v & ~r->ahb4rstr;
    r->ahb4rstr = v;
    for (unsigned i = 0; i < GPIO_PORTS; i++) {
        if ((rising & (1u << i)) != 0u && r->hook != NULL) {
            r->hook(r->hook_user, names[i]);
        }
    }
    return true;
}

static bool rcc_write(void *ctx, uint32_t off, unsigned size, uint32_t v, const char **why)
{
    rcc_t *r = ctx;
    if (size != 4u) {
        *why = "RCC: only 32-bit accesses are modelled";
        return false;
    }
    settle(r);
    bool ok = true;
    switch (off) {
    case R_CR:
        ok = write_cr(r, v, why);
        break;
    case R_CFGR: {
        if ((v & CFGR_RESERVE) != 0u) {
            *why = "RCC_CFGR: only SW is modelled (MCO, RTCPRE, TIMPRE, STOPWUCK are not)";
            return false;
        }
        uint32_t sw = v & CFGR_SW;
        if (sw != SRC_HSI && sw != SRC_PLL1) {
            *why = "RCC_CFGR.SW: only HSI and PLL1 are modelled";
            return false;
        }
        r->sw = sw;
        break;
    }
    case R_D1CFGR:
        ok = write_enable(&r->d1cfgr, v, D1CFGR_MASK, why, "RCC_D1CFGR: reserved bit set");
        break;
    case R_D2CFGR:
        ok = write_enable(&r->d2cfgr, v, D2CFGR_MASK, why, "RCC_D2CFGR: reserved bit set");
        break;
    case R_D3CFGR:
        ok = write_enable(&r->d3cfgr, v, D3CFGR_MASK, why, "RCC_D3CFGR: reserved bit set");
        break;
    case R_PLLCKSELR: {
        if ((v & ~PLLCKSELR_WR) != 0u) {
            *why = "RCC_PLLCKSELR: reserved bit set";
            return false;
        }
        uint32_t src = v & PLLSRC;
        if (src != PLLSRC_HSI && src != PLLSRC_NONE) {
            *why = "RCC_PLLCKSELR.PLLSRC: only HSI (and none) is modelled";
            return false;
        }
        if (pll1_locked_change(r, r->pllckselr, v, PLLSRC | DIVM1)) {
            *why = "RCC_PLLCKSELR: PLLSRC/DIVM1 written while PLL1 is on "
                   "(RM0433 8.7.11: only with the PLL disabled)";
            return false;
        }
        r->pllckselr = v;
        break;
    }
    case R_PLLCFGR:
        if ((v & ~PLLCFGR_WR) != 0u) {
            *why = "RCC_PLLCFGR: reserved bit set";
            return false;
        }
        if (pll1_locked_change(r, r->pllcfgr, v, PLLCFGR_PLL1)) {
            *why = "RCC_PLLCFGR: PLL1 VCOSEL/RGE/DIVxEN written while PLL1 is on "
                   "(RM0433 8.7.12: only with PLL1 disabled)";
            return false;
        }
        /* FRACN1 enters the sigma-delta modulator when PLL1FRACEN goes from
         * 0 to 1 (RCC_PLLCFGR PLL1FRACEN, RCC_PLL1FRACR). */
        if ((v & ~r->pllcfgr & PLL1FRACEN) != 0u) {
            r->frac_latched = (r->pll1fracr & FRACR_MASK) >> 3;
        }
        r->pllcfgr = v;
        break;
    case R_PLL1DIVR:
        if ((v & ~DIVR_MASK) != 0u) {
            *why = "RCC_PLL1DIVR: reserved bit set";
            return false;
        }
        if (pll1_locked_change(r, r->pll1divr, v, DIVR_MASK)) {
            *why = "RCC_PLL1DIVR written while PLL1 is on "
                   "(RM0433 8.7.13: only with PLL1ON = 0 and PLL1RDY = 0)";
            return false;
        }
        r->pll1divr = v;
        break;
    case R_PLL1FRACR:
        ok = write_enable(&r->pll1fracr, v, FRACR_MASK, why, "RCC_PLL1FRACR: reserved bit set");
        break;
    case R_PLL2DIVR:
        ok = write_enable(&r->pll2divr, v, DIVR_MASK, why, "RCC_PLL2DIVR: reserved bit set");
        break;
    case R_PLL2FRACR:
        ok = write_enable(&r->pll2fracr, v, FRACR_MASK, why, "RCC_PLL2FRACR: reserved bit set");
        break;
    case R_PLL3DIVR:
        ok = write_enable(&r->pll3divr, v, DIVR_MASK, why, "RCC_PLL3DIVR: reserved bit set");
        break;
    case R_PLL3FRACR:
        ok = write_enable(&r->pll3fracr, v, FRACR_MASK, why, "RCC_PLL3FRACR: reserved bit set");
        break;
    case R_D2CCIP2R: {
        uint32_t sel = (v & USBSEL) >> USBSEL_SH;
        if (sel == USBSEL_PLL3Q) {
            *why = "RCC_D2CCIP2R.USBSEL: pll3_q_ck not modelled";
            return false;
        }
        ok = write_enable(&r->d2ccip2r, v, USBSEL, why, "RCC_D2CCIP2R: only USBSEL is modelled");
        break;
    }
    case R_D1CCIPR:
    case R_D2CCIP1R:
    case R_D3CCIPR:
        if (v != 0u) {
            *why = "RCC: kernel clock selection of an unmodelled peripheral";
            return false;
        }
        break;
    case R_CIER:
        if (v != 0u) {
            *why = "RCC_CIER: clock interrupts not modelled";
            return false;
        }
        break;
    case R_CICR:
        break; /* write 1 to clear CIFR flags, which never rise here */
    case R_AHB1RSTR:
        if ((v & ~AHB1_OTGFS) != 0u) {
            *why = "RCC_AHB1RSTR: only USB2OTGFSRST is modelled";
            return false;
        }
        write_reset(r, &r->ahb1rstr, v, AHB1_OTGFS, "OTG_FS");
        break;
    case R_AHB4RSTR:
        if ((v & ~AHB4_GPIO) != 0u) {
            *why = "RCC_AHB4RSTR: only GPIOxRST are modelled";
            return false;
        }
        ok = write_ahb4rstr(r, v);
        break;
    case R_APB1HRSTR:
        if ((v & ~APB1H_CRS) != 0u) {
            *why = "RCC_APB1HRSTR: only CRSRST is modelled";
            return false;
        }
        write_reset(r, &r->apb1hrstr, v, APB1H_CRS, "CRS");
        break;
    case R_APB4RSTR:
        if ((v & ~APB4_SYSCFG) != 0u) {
            *why = "RCC_APB4RSTR: only SYSCFGRST is modelled";
            return false;
        }
        write_reset(r, &r->apb4rstr, v, APB4_SYSCFG, "SYSCFG");
        break;
    case R_AHB1ENR:
        ok = write_enable(&r->ahb1enr, v, AHB1_OTGFS, why,
                          "RCC_AHB1ENR: only USB2OTGFSEN is modelled");
        break;
    case R_AHB4ENR:
        ok = write_enable(&r->ahb4enr, v, AHB4_GPIO, why, "RCC_AHB4ENR: only GPIOxEN are modelled");
        break;
    case R_APB1HENR:
        ok = write_enable(&r->apb1henr, v, APB1H_CRS, why, "RCC_APB1HENR: only CRSEN is modelled");
        break;
    case R_APB4ENR:
        ok = write_enable(&r->apb4enr, v, APB4_SYSCFG, why,
                          "RCC_APB4ENR: only SYSCFGEN is modelled");
        break;
    case R_AHB3RSTR:
    case R_AHB2RSTR:
    case R_APB3RSTR:
    case R_APB1LRSTR:
    case R_APB2RSTR:
    case R_AHB3ENR:
    case R_AHB2ENR:
    case R_APB3ENR:
    case R_APB1LENR:
    case R_APB2ENR:
        if (v != 0u) {
            *why = "RCC: enable/reset bit of an unmodelled peripheral";
            return false;
        }
        break;
    default:
        *why = "RCC: register not modelled";
        return false;
    }
    settle(r);
    return ok;
}

rcc_t *rcc_new(sim_clock_t *clock)
{
    rcc_t *r = calloc(1, sizeof *r);
    if (r == NULL) {
        return NULL;
    }
    r->clock = clock;
    rcc_do_reset(r, true);
    return r;
}

void rcc_free(rcc_t *r)
{
    free(r);
}

mcu_periph_t rcc_periph(rcc_t *r)
{
    mcu_periph_t p = {
        .name = "RCC",
        .base = RCC_BASE,
        .size = RCC_SIZE,
        .ctx = r,
        .read = rcc_read,
        .write = rcc_write,
        .reset = rcc_do_reset,
    };
    return p;
}
