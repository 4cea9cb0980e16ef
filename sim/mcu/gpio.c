/*
 * GPIO port model (RM0433 section 11; registers 11.4.1..11.4.10, map 11.4.11).
 * Ports A..K at 0x5802 0000 + 0x400 * n (RM0433 2.3.2 Table 8, D3 AHB4).
 * RM0433 11.4: the registers accept byte, half-word and word accesses.
 *
 * Modelled: every register of the port with its reset value (ports A and B
 * differ: their debug pins PA13/PA14/PA15, PB3/PB4 come out of reset in
 * their JTAG/SWD alternate function: RM0433 11.3 "GPIO functional
 * description" and the reset values of 11.4.1..11.4.4), BSRR (set wins over reset), the LCKR lock
 * sequence (11.4.8) and IDR from the pins: output pins read back ODR, the others the level driven
 * from outside (gpio_set_input) or their pull (floating reads 0).
 * Not modelled: the analog and alternate-function signals themselves.
 */
#include <stdlib.h>

#include "mcu_sys.h"

enum {
    G_MODER = 0x00,   /* 11.4.1 */
    G_OTYPER = 0x04,  /* 11.4.2 */
    G_OSPEEDR = 0x08, /* 11.4.3 */
    G_PUPDR = 0x0C,   /* 11.4.4 */
    G_IDR = 0x10,     /* 11.4.5 */
    G_ODR = 0x14,     /* 11.4.6 */
    G_BSRR = 0x18,    /* 11.4.7 */
    G_LCKR = 0x1C,    /* 11.4.8 */
    G_AFRL = 0x20,    /* 11.4.9 */
    G_AFRH = 0x24,    /* 11.4.10 */
    G_END = 0x28,
};

/* Reset values (RM0433 11.4.1..11.4.4). */
#define MODER_RESET_A   0xABFFFFFFu
#define MODER_RESET_B   0xFFFFFEBFu
#define MODER_RESET     0xFFFFFFFFu
#define OSPEEDR_RESET_A 0x0C000000u
#define OSPEEDR_RESET_B 0x000000C0u
#define PUPDR_RESET_A   0x64000000u
#define PUPDR_RESET_B   0x00000100u

#define LCKK (1u << 16) /* LCKR lock key (11.4.8) */

struct gpio {
    unsigned port;
    const rcc_t *rcc;
    uint32_t moder, otyper, ospeedr, pupdr, odr, afr[2];
    uint32_t lckr;     /* LCK[15:0] as written; LCKK once the sequence completed */
    unsigned lck_step; /* position in the LCKR key sequence */
    uint16_t ext_set;  /* pins driven from outside */
    uint16_t ext_level;
};

static void gpio_do_reset(void *ctx, bool power_on)
{
    (void)power_on;
    gpio_t *g = ctx;
    g->moder = g->port == 0u ? MODER_RESET_A : g->port == 1u ? MODER_RESET_B : MODER_RESET;
    g->ospeedr = g->port == 0u ? OSPEEDR_RESET_A : g->port == 1u ? OSPEEDR_RESET_B : 0u;
    g->pupdr = g->port == 0u ? PUPDR_RESET_A : g->port == 1u ? PUPDR_RESET_B : 0u;
    g->otyper = 0;
    g->odr = 0;
    g->afr[0] = g->afr[1] = 0;
    g->lckr = 0;
    g->lck_step = 0;
}

unsigned gpio_pin_mode(const gpio_t *g, unsigned pin)
{
    return (g->moder >> (2u * (pin & 15u))) & 3u;
}

unsigned gpio_pin_af(const gpio_t *g, unsigned pin)
{
    return (g->afr[(pin >> 3) & 1u] >> (4u * (pin & 7u))) & 0xFu;
}

void gpio_set_input(gpio_t *g, unsigned pin, bool high)
{
    uint16_t bit = (uint16_t)(1u << (pin & 15u));
    g->ext_set |= bit;
    g->ext_level = (uint16_t)(high ? g->ext_level | bit : g->ext_level & ~bit);
}

void gpio_set_rcc(gpio_t *g, const rcc_t *rcc)
{
    g->rcc = rcc;
}

static uint32_t idr_value(const gpio_t *g)
{
    uint32_t v = 0;
    for (unsigned pin = 0; pin < 16u; pin++) {
        uint32_t bit = 1u << pin;
        bool level;
        if (gpio_pin_mode(g, pin) == 1u) {
            level = (g->odr & bit) != 0u; /* output: the driven level */
        } else if ((g->ext_set & bit) != 0u) {
            level = (g->ext_level & bit) != 0u;
        } else {
            level = ((g->pupdr >> (2u * pin)) & 3u) == 1u; /* 01 pull-up */
        }
        if (level) {
            v |= bit;
        }
    }
    return v;
}

/* The 32-bit register at a word offset, without side effects. */
static uint32_t peek(const gpio_t *g, uint32_t off)
{
    switch (off) {
    case G_MODER:
        return g->moder;
    case G_OTYPER:
        return g->otyper;
    case G_OSPEEDR:
        return g->ospeedr;
    case G_PUPDR:
        return g->pupdr;
    case G_IDR:
        return idr_value(g);
    case G_ODR:
        return g->odr;
    case G_LCKR:
        return g->lckr;
    case G_AFRL:
        return g->afr[0];
    case G_AFRH:
        return g->afr[1];
    default:
        return 0; /* BSRR reads 0 (11.4.7) */
    }
}

static bool access_ok(const gpio_t *g, uint32_t off, unsigned size, const char **why)
{
    if (size != 1u && size != 2u && size != 4u) {
        *why = "GPIO: access size";
        return false;
    }
    if ((off & (size - 1u)) != 0u) {
        *why = "GPIO: unaligned access";
        return false;
    }
    if (off >= G_END) {
        *why = "GPIO: register not modelled";
        return false;
    }
    if (g->rcc != NULL && !rcc_gpio_clocked(g->rcc, g->port)) {
        *why = "GPIO accessed with its bus clock off (RCC_AHB4ENR.GPIOxEN = 0)";
        return false;
    }
    return true;
}

static bool gpio_read(void *ctx, uint32_t off, unsigned size, uint32_t *val, const char **why)
{
    gpio_t *g = ctx;
    if (!access_ok(g, off, size, why)) {
        return false;
    }
    uint32_t w = peek(g, off & ~3u);
    unsigned sh = 8u * (off & 3u);
    *val = size == 4u ? w : (w >> sh) & ((1u << (8u * size)) - 1u);
    return true;
}

/* Bits of a configuration register frozen by LCKR (2 or 4 bits per pin). */
static uint32_t locked_mask(const gpio_t *g, unsigned bits_per_pin, unsigned first_pin)
{
    if ((g->lckr & LCKK) == 0u) {
        return 0;
    }
    uint32_t m = 0;
    for (unsigned i = 0; i < 32u / bits_per_pin; i++) {
        unsigned pin = first_pin + i;
        if (pin < 16u && (g->lckr & (1u << pin)) != 0u) {
            m |= ((1u << bits_per_pin) - 1u) << (i * bits_per_pin);
        }
    }
    return m;
}

static void set_cfg(uint32_t *reg, uint32_t v, uint32_t frozen)
{
    *reg = (*reg & frozen) | (v & ~frozen);
}

/* LCKR key sequence (11.4.8): write LCKK=1 + LCK, LCKK=0 + LCK, LCKK=1 + LCK
 * (same LCK each time), then read; LCKK then reads 1 and the configuration
 * stays frozen until the next reset. A wrong step aborts the sequence. */
static void write_lckr(gpio_t *g, uint32_t v)
{
    if ((g->lckr & LCKK) != 0u) {
        return;
    }
    uint32_t lck = v & 0xFFFFu;
    bool key = (v & LCKK) != 0u;
    static const bool expect[3] = {true, false, true};
    if (g->lck_step > 0u && lck != (g->lckr & 0xFFFFu)) {
        g->lck_step = 0;
    }
    if (key == expect[g->lck_step]) {
        g->lck_step++;
    } else {
        g->lck_step = key ? 1u : 0u;
    }
    g->lckr = lck;
    if (g->lck_step == 3u) {
        g->lckr |= LCKK;
        g->lck_step = 0;
    }
}

static bool gpio_write(void *ctx, uint32_t off, unsigned size, uint32_t v, const char **why)
{
    gpio_t *g = ctx;
    if (!access_ok(g, off, size, why)) {
        return false;
    }
    uint32_t woff = off & ~3u;
    unsigned sh = 8u * (off & 3u);
    uint32_t lane = size == 4u ? 0xFFFFFFFFu : ((1u << (8u * size)) - 1u) << sh;
    /* A narrow write changes only its byte lanes: BSRR's other lanes act as
     * 0 (no set, no reset), the other registers keep theirs. */
    uint32_t base = woff == G_BSRR ? 0u : peek(g, woff);
    uint32_t w = (base & ~lane) | ((v << sh) & lane);
    switch (woff) {
    case G_MODER:
        set_cfg(&g->moder, w, locked_mask(g, 2, 0));
        return true;
    case G_OTYPER:
        if ((w & 0xFFFF0000u) != 0u) {
            *why = "GPIO_OTYPER: reserved bit set";
            return false;
        }
        set_cfg(&g->otyper, w, locked_mask(g, 1, 0));
        return true;
    case G_OSPEEDR:
        set_cfg(&g->ospeedr, w, locked_mask(g, 2, 0));
        return true;
    case G_PUPDR:
        set_cfg(&g->pupdr, w, locked_mask(g, 2, 0));
        return true;
    case G_IDR:
        *why = "GPIO_IDR is read only";
        return false;
    case G_ODR:
        if ((w & 0xFFFF0000u) != 0u) {
            *why = "GPIO_ODR: reserved bit set";
            return false;
        }
        g->odr = w;
        return true;
    case G_BSRR:
        /* BR in [31:16] resets, BS in [15:0] sets; BS wins (11.4.7). */
        g->odr = (g->odr & ~(w >> 16)) | (w & 0xFFFFu);
        return true;
    case G_LCKR:
        if (size != 4u) {
            *why = "GPIO_LCKR: the lock sequence needs 32-bit writes (11.4.8)";
            return false;
        }
        if ((w & ~(LCKK | 0xFFFFu)) != 0u) {
            *why = "GPIO_LCKR: reserved bit set";
            return false;
        }
        write_lckr(g, w);
        return true;
    case G_AFRL:
        set_cfg(&g->afr[0], w, locked_mask(g, 4, 0));
        return true;
    case G_AFRH:
        set_cfg(&g->afr[1], w, locked_mask(g, 4, 8));
        return true;
    default:
        *why = "GPIO: register not modelled";
        return false;
    }
}

gpio_t *gpio_new(unsigned port)
{
    if (port >= GPIO_PORTS) {
        return NULL;
    }
    gpio_t *g = calloc(1, sizeof *g);
    if (g == NULL) {
        return NULL;
    }
    g->port = port;
    gpio_do_reset(g, true);
    return g;
}

void gpio_free(gpio_t *g)
{
    free(g);
}

mcu_periph_t gpio_periph(gpio_t *g)
{
    static const char *const names[GPIO_PORTS] = {"GPIOA", "GPIOB", "GPIOC", "GPIOD",
                                                  "GPIOE", "GPIOF", "GPIOG", "GPIOH",
                                                  "GPIOI", "GPIOJ", "GPIOK"};
    mcu_periph_t p = {
        .name = names[g->port],
        .base = GPIO_BASE(g->port),
        .size = GPIO_SIZE,
        .ctx = g,
        .read = gpio_read,
        .write = gpio_write,
        .reset = gpio_do_reset,
    };
    return p;
}
