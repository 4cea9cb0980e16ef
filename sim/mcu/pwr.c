/*
 * PWR model (RM0433 section 6; register map 6.8.19). Base 0x5802 4800
 * (RM0433 2.3.2 Table 8, D3 AHB4). The H743 has no SMPS: its VCORE comes
 * from the LDO or from outside (bypass).
 *
 * Modelled:
 *  - PWR_CR3's supply configuration (LDOEN, BYPASS, SCUEN): written once
 *    after a power-on reset (RM0433 6.4 "Power supplies", system supply
 *    startup, and PWR_CR3
 *    6.8.4: "The lower byte of this register is written once after POR";
 *    an invalid LDOEN/BYPASS combination is not applied, the register locks
 *    anyway and ACTVOSRDY keeps reporting invalid levels). Every later write
 *    of the supply bits is ignored until the next power-on reset; CR3 is
 *    reset by a power-on reset only, so the lock (and USB33DEN/USBREGEN)
 *    survive a system reset. SCUEN reads 1 until the lock and 0 after it:
 *    that is what ST's HAL (HAL_PWREx_ConfigSupply, PWR_FLAG_SCUEN) tests to
 *    know whether the supply was configured.
 *  - CSR1.ACTVOSRDY / ACTVOS after a valid supply configuration; D3CR.VOS
 *    (01 scale 3 at reset, 10 scale 2, 11 scale 1; 00 reserved on RM0433)
 *    with VOSRDY, reached at once.
 *  - CR3.USB33DEN / USBREGEN and the read-only USB33RDY: the VDD33USB level
 *    detector reports the board's USB supply (pwr_set_usb_supply_present).
 * Not modelled (a write enabling them is refused): PVD, AVD, VBAT charging,
 * the backup regulator (CR2), wakeup pins, low-power modes (their CPUCR
 * selections are kept but no Stop/Standby is ever entered).
 */
#include <stdlib.h>

#include "mcu_sys.h"

/* Offsets (RM0433 6.8.19 "PWR register map and reset value table"). */
enum {
    P_CR1 = 0x00,
    P_CSR1 = 0x04,
    P_CR2 = 0x08,
    P_CR3 = 0x0C,
    P_CPUCR = 0x10,
    P_D3CR = 0x18,
    P_WKUPCR = 0x20,
    P_WKUPFR = 0x24,
    P_WKUPEPR = 0x28,
};

/* PWR_CR1 (6.8.1), reset 0xF000 C000: SVOS = 11, bits 31:28 reserved at 1.
 * LPDS 0, PVDE 4, PLS[7:5], DBP 8, FLPS 9, SVOS[15:14], AVDEN 16, ALS[18:17]. */
#define CR1_RESET    0xF000C000u
#define CR1_RESERVED 0xF0000000u
#define CR1_PVDE     (1u << 4)
#define CR1_AVDEN    (1u << 16)
#define CR1_STORED   ((1u << 0) | (7u << 5) | (1u << 8) | (1u << 9) | (3u << 14) | (3u << 17))

/* PWR_CSR1 (6.8.2), reset 0x0000 4000: ACTVOSRDY 13, ACTVOS[15:14]. */
#define CSR1_ACTVOSRDY (1u << 13)
#define VOS_SHIFT      14u

/* PWR_CR3 (6.8.4), reset 0x0000 0006 (LDOEN | SCUEN). */
#define CR3_RESET    0x00000006u
#define CR3_BYPASS   (1u << 0)
#define CR3_LDOEN    (1u << 1)
#define CR3_SCUEN    (1u << 2)
#define CR3_SUPPLY   (CR3_BYPASS | CR3_LDOEN)
#define CR3_VBE      (1u << 8)
#define CR3_VBRS     (1u << 9)
#define CR3_USB33DEN (1u << 24)
#define CR3_USBREGEN (1u << 25)
#define CR3_USB33RDY (1u << 26)
#define CR3_DEFINED                                                                                \
    (CR3_SUPPLY | CR3_SCUEN | CR3_VBE | CR3_VBRS | CR3_USB33DEN | CR3_USBREGEN | CR3_USB33RDY)

/* PWR_CPUCR (6.8.5): PDDS_D1..D3 0..2, CSSF 9 (write 1: clear flags),
 * RUN_D3 11; STOPF 5, SBF 6, SBF_D1 7, SBF_D2 8 read only. */
#define CPUCR_STORED ((7u << 0) | (1u << 11))
#define CPUCR_CSSF   (1u << 9)
#define CPUCR_RO     (0xFu << 5)

/* PWR_D3CR (6.8.6), reset 0x0000 4000: VOS[15:14] = 01, VOSRDY 13. */
#define D3CR_RESET  0x00004000u
#define D3CR_VOS    (3u << VOS_SHIFT)
#define D3CR_VOSRDY (1u << 13)

struct pwr {
    uint32_t cr1, cpucr, d3cr;
    uint32_t cr3;     /* USB33DEN | USBREGEN | VBRS, and the applied supply bits */
    bool locked;      /* supply configuration written since power-on */
    bool valid;       /* ... and it was a valid combination */
    bool usb_present; /* VDD33USB from the board */
};

/* Valid supply configurations without SMPS (RM0433 6.4, Table "Supply
 * configuration control"): LDO (LDOEN 1, BYPASS 0) or external VCORE
 * (LDOEN 0, BYPASS 1). */
static bool supply_valid(uint32_t v)
{
    uint32_t s = v & CR3_SUPPLY;
    return s == CR3_LDOEN || s == CR3_BYPASS;
}

bool pwr_vcore_ready(const pwr_t *p)
{
    return p->locked && p->valid;
}

bool pwr_supply_locked(const pwr_t *p)
{
    return p->locked;
}

unsigned pwr_vos(const pwr_t *p)
{
    return (p->d3cr & D3CR_VOS) >> VOS_SHIFT;
}

bool pwr_usb33_ready(const pwr_t *p)
{
    return (p->cr3 & CR3_USB33DEN) != 0u && p->usb_present;
}

void pwr_set_usb_supply_present(pwr_t *p, bool on)
{
    p->usb_present = on;
}

static uint32_t cr3_value(const pwr_t *p)
{
    uint32_t v = p->cr3;
    if (!p->locked) {
        v |= CR3_SCUEN;
    }
    if (pwr_usb33_ready(p)) {
        v |= CR3_USB33RDY;
    }
    return v;
}

static void pwr_do_reset(void *ctx, bool power_on)
{
    pwr_t *p = ctx;
    p->cr1 = CR1_RESET;
    p->cpucr = 0;
    p->d3cr = D3CR_RESET;
    if (power_on) {
        /* CR3 is reset by a power-on reset only (6.8.4). */
        p->cr3 = CR3_RESET & ~CR3_SCUEN;
        p->locked = false;
        p->valid = false;
    }
}

static bool pwr_read(void *ctx, uint32_t off, unsigned size, uint32_t *val, const char **why)
{
    pwr_t *p = ctx;
    if (size != 4u) {
        *why = "PWR: only 32-bit accesses are modelled";
        return false;
    }
    switch (off) {
    case P_CR1:
        *val = p->cr1;
        return true;
    case P_CSR1:
        /* ACTVOS is the VOS applied: the reset scale 3 until a valid
         * supply configuration lets D3CR.VOS through (6.8.2). */
        if (pwr_vcore_ready(p)) {
            *val = CSR1_ACTVOSRDY | (p->d3cr & D3CR_VOS);
        } else {
            *val = D3CR_RESET & D3CR_VOS;
        }
        return true;
    case P_CR2:
    case P_WKUPCR:
    case P_WKUPFR:
    case P_WKUPEPR:
        *val = 0;
        return true;
    case P_CR3:
        *val = cr3_value(p);
        return true;
    case P_CPUCR:
        *val = p->cpucr;
        return true;
    case P_D3CR:
        /* The regulator reaches a new VOS at once; with an invalid supply
         * configuration locked in, it never does. */
        *val = p->d3cr | (p->locked && !p->valid ? 0u : D3CR_VOSRDY);
        return true;
    default:
        *why = "PWR: register not modelled";
        return false;
    }
}

static bool write_cr3(pwr_t *p, uint32_t v, const char **why)
{
    if ((v & ~CR3_DEFINED) != 0u) {
        *why = "PWR_CR3: reserved bit set";
        return false;
    }
    if ((v & CR3_VBE) != 0u) {
        *why = "PWR_CR3.VBE: VBAT charging not modelled";
        return false;
    }
    uint32_t supply = p->cr3 & CR3_SUPPLY;
    if (!p->locked) {
        /* First write of the lower byte since power-on: applied if valid,
         * locked in either case (6.8.4). */
        p->locked = true;
        p->valid = supply_valid(v);
        if (p->valid) {
            supply = v & CR3_SUPPLY;
        }
    }
    /* USB33RDY is read only; USB33DEN, USBREGEN, VBRS are free (6.8.4). */
    p->cr3 = supply | (v & (CR3_USB33DEN | CR3_USBREGEN | CR3_VBRS));
    return true;
}

static bool pwr_write(void *ctx, uint32_t off, unsigned size, uint32_t v, const char **why)
{
    pwr_t *p = ctx;
    if (size != 4u) {
        *why = "PWR: only 32-bit accesses are modelled";
        return false;
    }
    switch (off) {
    case P_CR1:
        if ((v & (CR1_PVDE | CR1_AVDEN)) != 0u) {
            *why = "PWR_CR1: PVD/AVD not modelled";
            return false;
        }
        if ((v & ~CR1_STORED) != CR1_RESERVED) {
            *why = "PWR_CR1: reserved bits not at their reset value";
            return false;
        }
        p->cr1 = v;
        return true;
    case P_CR3:
        return write_cr3(p, v, why);
    case P_CPUCR:
        if ((v & ~(CPUCR_STORED | CPUCR_CSSF | CPUCR_RO)) != 0u) {
            *why = "PWR_CPUCR: reserved bit set";
            return false;
        }
        p->cpucr = v & CPUCR_STORED; /* the flags never rise: no Stop/Standby */
        return true;
    case P_D3CR:
        if ((v & ~(D3CR_VOS | D3CR_VOSRDY)) != 0u) {
            *why = "PWR_D3CR: reserved bit set";
            return false;
        }
        if ((v & D3CR_VOS) == 0u) {
            *why = "PWR_D3CR.VOS = 00 is reserved on RM0433 parts";
            return false;
        }
        p->d3cr = v & D3CR_VOS;
        return true;
    case P_CR2:
    case P_WKUPEPR:
        if (v != 0u) {
            *why = "PWR: backup regulator / wakeup pins not modelled";
            return false;
        }
        return true;
    case P_WKUPCR:
        return true; /* write 1 to clear wakeup flags, which never rise */
    case P_CSR1:
    case P_WKUPFR:
        *why = "PWR: write to a read-only register";
        return false;
    default:
        *why = "PWR: register not modelled";
        return false;
    }
}

pwr_t *pwr_new(void)
{
    pwr_t *p = calloc(1, sizeof *p);
    if (p == NULL) {
        return NULL;
    }
    p->usb_present = true;
    pwr_do_reset(p, true);
    return p;
}

void pwr_free(pwr_t *p)
{
    free(p);
}

mcu_periph_t pwr_periph(pwr_t *p)
{
    mcu_periph_t m = {
        .name = "PWR",
        .base = PWR_BASE,
        .size = PWR_SIZE,
        .ctx = p,
        .read = pwr_read,
        .write = pwr_write,
        .reset = pwr_do_reset,
    };
    return m;
}
