/*
 * System control space of the Cortex-M7 from 0xE000 ED00 to 0xE000 EFFF:
 * the system control block (ARMv7-M ARM B3.2.2 Table B3-4), the cache
 * identification and maintenance registers (B4.8 and B3.2.2), CPACR
 * (B3.2.20), DEMCR (C1.6.5), NVIC_STIR (B3.4) and the FP extension registers
 * (B3.2.2: FPCCR, FPCAR, FPDSCR, MVFR0..2). Values the architecture leaves to
 * the implementation come from the Cortex-M7 TRM (DDI 0489) for r1p1, the
 * core of every STM32H743 revision, with the H743's 16 KiB + 16 KiB L1
 * caches (RM0433 "Memory and bus architecture", DS12110).
 *
 * Modelled: IDs, VTOR, AIRCR (key, PRIGROUP, SYSRESETREQ -> hook), SCR, CCR,
 * SHPR1..3 (4 priority bits, __NVIC_PRIO_BITS of the H7), SHCSR's enables,
 * fault status and address registers (set by scb_record_*), cache IDs and
 * write-only maintenance operations accepted as no-ops (no cache is
 * modelled), CPACR, DEMCR.TRCENA, the FP registers.
 * Not modelled (refused): the CPUID attribute registers ID_PFR0..ID_ISAR4,
 * the MPU, debug halting (DHCSR writes, DCRSR/DCRDR), vector catch and the
 * debug monitor, pending an exception from software (ICSR *SET, STIR),
 * AIRCR.VECTCLRACTIVE/VECTRESET, the M7 TCM/AHBP/cache control registers
 * at 0xE000 EF90.. (ITCMCR, DTCMCR, AHBPCR, CACR, AHBSCR, ABFSR).
 */
#include <stdlib.h>

#include "mcu_sys.h"

/* Offsets from 0xE000 ED00. */
enum {
    S_CPUID = 0x000,
    S_ICSR = 0x004,
    S_VTOR = 0x008,
    S_AIRCR = 0x00C,
    S_SCR = 0x010,
    S_CCR = 0x014,
    S_SHPR1 = 0x018,
    S_SHPR2 = 0x01C,
    S_SHPR3 = 0x020,
    S_SHCSR = 0x024,
    S_CFSR = 0x028,
    S_HFSR = 0x02C,
    S_DFSR = 0x030,
    S_MMFAR = 0x034,
    S_BFAR = 0x038,
    S_AFSR = 0x03C,
    S_CLIDR = 0x078,  /* 0xE000 ED78 */
    S_CTR = 0x07C,    /* 0xE000 ED7C */
    S_CCSIDR = 0x080, /* 0xE000 ED80 */
    S_CSSELR = 0x084, /* 0xE000 ED84 */
    S_CPACR = 0x088,  /* 0xE000 ED88 */
    S_DHCSR = 0x0F0,  /* 0xE000 EDF0 */
    S_DCRSR = 0x0F4,
    S_DCRDR = 0x0F8,
    S_DEMCR = 0x0FC, /* 0xE000 EDFC */
    S_STIR = 0x200,  /* 0xE000 EF00 */
    S_FPCCR = 0x234, /* 0xE000 EF34 */
    S_FPCAR = 0x238,
    S_FPDSCR = 0x23C,
    S_MVFR0 = 0x240,
    S_MVFR1 = 0x244,
    S_MVFR2 = 0x248,
    S_ICIALLU = 0x250, /* 0xE000 EF50 */
    S_ICIMVAU = 0x258,
    S_DCIMVAC = 0x25C,
    S_DCISW = 0x260,
    S_DCCMVAU = 0x264,
    S_DCCMVAC = 0x268,
    S_DCCSW = 0x26C,
    S_DCCIMVAC = 0x270,
    S_DCCISW = 0x274,
    S_BPIALL = 0x278, /* 0xE000 EF78 */
};

/* CPUID (B3.2.3): implementer 0x41 ARM, variant 1, architecture 0xF,
 * part 0xC27 Cortex-M7, revision 1: r1p1 (Cortex-M7 TRM, CPUID). */
#define CPUID_M7_R1P1 0x411FC271u

/* ICSR (B3.2.4): NMIPENDSET 31, PENDSVSET 28, PENDSVCLR 27, PENDSTSET 26,
 * PENDSTCLR 25, RETTOBASE 11, VECTACTIVE[8:0]. */
#define ICSR_SET       ((1u << 31) | (1u << 28) | (1u << 26))
#define ICSR_RETTOBASE (1u << 11)

/* VTOR (B3.2.5): TBLOFF[31:7] on the Cortex-M7. */
#define VTOR_MASK 0xFFFFFF80u

/* AIRCR (B3.2.6): VECTKEY[31:16] 0x05FA to write, reads VECTKEYSTAT 0xFA05;
 * ENDIANNESS 15 (0: little), PRIGROUP[10:8], SYSRESETREQ 2, VECTCLRACTIVE 1,
 * VECTRESET 0. */
#define AIRCR_VECTKEY     0x05FAu
#define AIRCR_VECTKEYSTAT 0xFA05u
#define AIRCR_PRIGROUP    (7u << 8)
#define AIRCR_SYSRESETREQ (1u << 2)
#define AIRCR_UNMODELLED  ((1u << 1) | (1u << 0))

/* SCR (B3.2.7): SEVONPEND 4, SLEEPDEEP 2, SLEEPONEXIT 1. */
#define SCR_MASK 0x16u

/* CCR (B3.2.8): NONBASETHRDENA 0, USERSETMPEND 1, UNALIGN_TRP 3, DIV_0_TRP 4,
 * BFHFNMIGN 8, STKALIGN 9, DC 16, IC 17, BP 18. Cortex-M7 TRM: reset value
 * 0x0004 0200, STKALIGN and BP read as one. */
#define CCR_RESET 0x00040200u
#define CCR_RAO   ((1u << 9) | (1u << 18))
#define CCR_RW    ((1u << 0) | (1u << 1) | (1u << 3) | (1u << 4) | (1u << 8) | (1u << 16) | (1u << 17))

/* SHPR1..3 (B3.2.10..12): one byte per handler, the H7 implements the top 4
 * bits (CMSIS __NVIC_PRIO_BITS = 4 for STM32H7). SHPR1: MemManage, BusFault,
 * UsageFault (bytes 0..2); SHPR2: SVCall (byte 3); SHPR3: DebugMonitor
 * (byte 0), PendSV (byte 2), SysTick (byte 3). */
#define SHPR1_MASK 0x00F0F0F0u
#define SHPR2_MASK 0xF0000000u
#define SHPR3_MASK 0xF0F000F0u

/* SHCSR (B3.2.13): MEMFAULTENA 16, BUSFAULTENA 17, USGFAULTENA 18; the
 * rest are active / pended status bits of the exception model. */
#define SHCSR_ENA    (7u << 16)
#define SHCSR_STATUS 0x0000FD8Bu

/* CFSR (B3.2.15): MMFSR IACCVIOL 0, DACCVIOL 1, MUNSTKERR 3, MSTKERR 4,
 * MLSPERR 5, MMARVALID 7; BFSR IBUSERR 8, PRECISERR 9, IMPRECISERR 10,
 * UNSTKERR 11, STKERR 12, LSPERR 13, BFARVALID 15; UFSR UNDEFINSTR 16,
 * INVSTATE 17, INVPC 18, NOCP 19, UNALIGNED 24, DIVBYZERO 25. W1C. */
#define CFSR_MASK        0x030FBFBBu
#define CFSR_PRECISERR   (1u << 9)
#define CFSR_IMPRECISERR (1u << 10)
#define CFSR_BFARVALID   (1u << 15)

/* HFSR (B3.2.16): VECTTBL 1, FORCED 30, DEBUGEVT 31. W1C. */
#define HFSR_MASK   0xC0000002u
#define HFSR_FORCED (1u << 30)

/* DFSR (C1.6.1): HALTED 0, BKPT 1, DWTTRAP 2, VCATCH 3, EXTERNAL 4. W1C. */
#define DFSR_MASK 0x1Fu

/* Cache identification (B4.8.2..B4.8.5), Cortex-M7 TRM "Cache identification
 * registers" with both caches present:
 *  CLIDR  0x0900 0003: LoUU = 1, LoC = 1, Ctype1 = 011 (separate I and D);
 *  CTR    0x8303 C003: format 100, CWG = ERG = 3, DminLine = IminLine = 3
 *         (8 words = 32-byte lines);
 *  CCSIDR WT, WB, RA, WA = 1, NumSets - 1 [27:13], Associativity - 1 [12:3],
 *         LineSize [2:0] = log2(words per line) - 2 = 1:
 *         D-cache 16 KiB, 4 ways, 32 B: 128 sets -> 0xF00F E019;
 *         I-cache 16 KiB, 2 ways, 32 B: 256 sets -> 0xF01F E009. */
#define CLIDR_M7     0x09000003u
#define CTR_M7       0x8303C003u
#define CCSIDR_FLAGS 0xF0000000u
#define CCSIDR(sets, ways)                                                                         \
    (CCSIDR_FLAGS | (((uint32_t)(sets)-1u) << 13) | (((uint32_t)(ways)-1u) << 3) | 1u)
#define CCSIDR_D CCSIDR(16384u / (4u * 32u), 4u)
#define CCSIDR_I CCSIDR(16384u / (2u * 32u), 2u)
_Static_assert(CCSIDR_D == 0xF00FE019u, "D-cache CCSIDR");
_Static_assert(CCSIDR_I == 0xF01FE009u, "I-cache CCSIDR");
/* CSSELR (B4.8.5): InD 0, Level[3:1] (only level 1, encoded 0, exists). */
#define CSSELR_IND 1u

/* Set/way operand of DCISW/DCCSW/DCCISW (B2.2.7): way in [31:30] (4 ways),
 * set in [11:5] (128 sets of 32 B), level in [3:1] = 0. */
#define SETWAY_INVALID 0x3FFFF01Fu

/* CPACR (B3.2.20): CP10[21:20], CP11[23:22]; other coprocessors are not
 * implemented and their fields are RAZ/WI. */
#define CPACR_MASK (0xFu << 20)

/* DEMCR (C1.6.5): TRCENA 24, reset by a power-on reset only. */
#define DEMCR_TRCENA (1u << 24)

/* FPCCR (B3.2.22), reset 0xC000 0000 (ASPEN, LSPEN): LSPACT 0, USER 1,
 * THREAD 3, HFRDY 4, MMRDY 5, BFRDY 6, MONRDY 8, LSPEN 30, ASPEN 31.
 * FPCAR (B3.2.23) [31:3]. FPDSCR (B3.2.24) AHP 26, DN 25, FZ 24,
 * RMode[23:22]. */
#define FPCCR_RESET 0xC0000000u
#define FPCCR_MASK  0xC000017Bu
#define FPCAR_MASK  0xFFFFFFF8u
#define FPDSCR_MASK 0x07C00000u

/* MVFR0..2 ("Media and VFP Feature Registers") of the Cortex-M7 double-precision FPU (Cortex-M7
 * TRM, "Floating Point Unit" programmers model). */
#define MVFR0_M7 0x10110221u
#define MVFR1_M7 0x12000011u
#define MVFR2_M7 0x00000040u

struct scb {
    uint32_t reset_vtor;
    uint32_t vectactive;
    uint32_t vtor, prigroup, scr, ccr;
    uint32_t shpr[3];
    uint32_t shcsr, cfsr, hfsr, dfsr, mmfar, bfar;
    uint32_t csselr, cpacr, demcr;
    uint32_t fpccr, fpcar, fpdscr;
    unsigned cache_ops;
    void (*reset_hook)(void *user);
    void *reset_user;
};

void scb_set_reset_hook(scb_t *s, void (*sysresetreq)(void *user), void *user)
{
    s->reset_hook = sysresetreq;
    s->reset_user = user;
}

void scb_set_reset_vtor(scb_t *s, uint32_t vtor)
{
    s->reset_vtor = vtor & VTOR_MASK;
}

uint32_t scb_vtor(const scb_t *s)
{
    return s->vtor;
}

uint32_t scb_ccr(const scb_t *s)
{
    return s->ccr;
}

uint32_t scb_shcsr(const scb_t *s)
{
    return s->shcsr;
}

uint32_t scb_cpacr(const scb_t *s)
{
    return s->cpacr;
}

bool scb_trcena(const scb_t *s)
{
    return (s->demcr & DEMCR_TRCENA) != 0u;
}

void scb_set_vectactive(scb_t *s, uint32_t exception)
{
    s->vectactive = exception & 0x1FFu;
}

unsigned scb_cache_ops(const scb_t *s)
{
    return s->cache_ops;
}

/* B3.2.15: a precise data bus error records its address in BFAR. */
void scb_record_busfault(scb_t *s, uint32_t addr, bool precise)
{
    if (precise) {
        s->cfsr |= CFSR_PRECISERR | CFSR_BFARVALID;
        s->bfar = addr;
    } else {
        s->cfsr |= CFSR_IMPRECISERR;
    }
}

/* B3.2.16: a configurable fault escalated to HardFault. */
void scb_record_hardfault_forced(scb_t *s)
{
    s->hfsr |= HFSR_FORCED;
}

static void scb_do_reset(void *ctx, bool power_on)
{
    scb_t *s = ctx;
    s->vectactive = 0;
    s->vtor = s->reset_vtor;
    s->prigroup = 0;
    s->scr = 0;
    s->ccr = CCR_RESET;
    s->shpr[0] = s->shpr[1] = s->shpr[2] = 0;
    s->shcsr = 0;
    s->cfsr = s->hfsr = 0;
    s->mmfar = s->bfar = 0; /* UNKNOWN on the chip */
    s->csselr = 0;
    s->cpacr = 0;
    s->fpccr = FPCCR_RESET;
    s->fpcar = s->fpdscr = 0;
    s->cache_ops = 0;
    if (power_on) {
        s->dfsr = 0;  /* C1.6.1: power-on reset only */
        s->demcr = 0; /* C1.6.5: TRCENA survives a local reset */
    }
}

/* The register at a word offset, without side effects; false: unknown. */
static bool peek(const scb_t *s, uint32_t off, uint32_t *v)
{
    switch (off) {
    case S_CPUID:
        *v = CPUID_M7_R1P1;
        return true;
    case S_ICSR:
        *v = s->vectactive | (s->vectactive != 0u ? ICSR_RETTOBASE : 0u);
        return true;
    case S_VTOR:
        *v = s->vtor;
        return true;
    case S_AIRCR:
        *v = (AIRCR_VECTKEYSTAT << 16) | s->prigroup;
        return true;
    case S_SCR:
        *v = s->scr;
        return true;
    case S_CCR:
        *v = s->ccr;
        return true;
    case S_SHPR1:
    case S_SHPR2:
    case S_SHPR3:
        *v = s->shpr[(off - S_SHPR1) / 4u];
        return true;
    case S_SHCSR:
        *v = s->shcsr;
        return true;
    case S_CFSR:
        *v = s->cfsr;
        return true;
    case S_HFSR:
        *v = s->hfsr;
        return true;
    case S_DFSR:
        *v = s->dfsr;
        return true;
    case S_MMFAR:
        *v = s->mmfar;
        return true;
    case S_BFAR:
        *v = s->bfar;
        return true;
    case S_AFSR:
        *v = 0; /* implementation defined; nothing reported */
        return true;
    case S_CLIDR:
        *v = CLIDR_M7;
        return true;
    case S_CTR:
        *v = CTR_M7;
        return true;
    case S_CCSIDR:
        *v = (s->csselr & CSSELR_IND) != 0u ? CCSIDR_I : CCSIDR_D;
        return true;
    case S_CSSELR:
        *v = s->csselr;
        return true;
    case S_CPACR:
        *v = s->cpacr;
        return true;
    case S_DHCSR:
        *v = 0; /* C_DEBUGEN = 0: no debugger attached */
        return true;
    case S_DEMCR:
        *v = s->demcr;
        return true;
    case S_FPCCR:
        *v = s->fpccr;
        return true;
    case S_FPCAR:
        *v = s->fpcar;
        return true;
    case S_FPDSCR:
        *v = s->fpdscr;
        return true;
    case S_MVFR0:
        *v = MVFR0_M7;
        return true;
    case S_MVFR1:
        *v = MVFR1_M7;
        return true;
    case S_MVFR2:
        *v = MVFR2_M7;
        return true;
    default:
        return false;
    }
}

/* B3.2.2: SHPR1..3 are byte accessible, CFSR's MMFSR / BFSR / UFSR byte and
 * half-word accessible; the rest are word registers. */
static bool size_ok(uint32_t off, unsigned size)
{
    if (size == 4u) {
        return (off & 3u) == 0u;
    }
    if ((size != 1u && size != 2u) || (off & (size - 1u)) != 0u) {
        return false;
    }
    uint32_t w = off & ~3u;
    return w == S_SHPR1 || w == S_SHPR2 || w == S_SHPR3 || w == S_CFSR;
}

static bool scb_read(void *ctx, uint32_t off, unsigned size, uint32_t *val, const char **why)
{
    scb_t *s = ctx;
    if (!size_ok(off, size)) {
        *why = "SCB: access size or alignment";
        return false;
    }
    uint32_t w;
    if (!peek(s, off & ~3u, &w)) {
        if ((off & ~3u) >= S_ICIALLU && (off & ~3u) <= S_BPIALL) {
            *why = "SCB: cache maintenance registers are write only";
        } else {
            *why = "SCB: register not modelled";
        }
        return false;
    }
    unsigned sh = 8u * (off & 3u);
    *val = size == 4u ? w : (w >> sh) & ((1u << (8u * size)) - 1u);
    return true;
}

static bool write_aircr(scb_t *s, uint32_t v, const char **why)
{
    /* Without the key the write is ignored (B3.2.6). */
    if ((v >> 16) != AIRCR_VECTKEY) {
        return true;
    }
    if ((v & AIRCR_UNMODELLED) != 0u) {
        *why = "SCB_AIRCR: VECTCLRACTIVE / VECTRESET not modelled";
        return false;
    }
    s->prigroup = v & AIRCR_PRIGROUP;
    if ((v & AIRCR_SYSRESETREQ) != 0u && s->reset_hook != NULL) {
        s->reset_hook(s->reset_user);
    }
    return true;
}

static bool cache_op(scb_t *s, uint32_t off, uint32_t v, const char **why)
{
    if ((off == S_DCISW || off == S_DCCSW || off == S_DCCISW) && (v & SETWAY_INVALID) != 0u) {
        *why = "SCB: set/way operand outside the 16 KiB 4-way L1 D-cache";
        return false;
    }
    s->cache_ops++;
    return true;
}

static bool scb_write_word(scb_t *s, uint32_t off, uint32_t v, const char **why)
{
    switch (off) {
    case S_ICSR:
        if ((v & ICSR_SET) != 0u) {
            *why = "SCB_ICSR: pending NMI/PendSV/SysTick from software not modelled";
            return false;
        }
        return true; /* PENDSVCLR / PENDSTCLR: nothing is ever pending */
    case S_VTOR:
        s->vtor = v & VTOR_MASK;
        return true;
    case S_AIRCR:
        return write_aircr(s, v, why);
    case S_SCR:
        s->scr = v & SCR_MASK;
        return true;
    case S_CCR:
        s->ccr = (v & CCR_RW) | CCR_RAO;
        return true;
    case S_SHPR1:
        s->shpr[0] = v & SHPR1_MASK;
        return true;
    case S_SHPR2:
        s->shpr[1] = v & SHPR2_MASK;
        return true;
    case S_SHPR3:
        s->shpr[2] = v & SHPR3_MASK;
        return true;
    case S_SHCSR:
        if ((v & SHCSR_STATUS) != (s->shcsr & SHCSR_STATUS)) {
            *why = "SCB_SHCSR: changing exception active/pending state not modelled";
            return false;
        }
        s->shcsr = (s->shcsr & ~SHCSR_ENA) | (v & SHCSR_ENA);
        return true;
    case S_CFSR:
        s->cfsr &= ~(v & CFSR_MASK);
        return true;
    case S_HFSR:
        s->hfsr &= ~(v & HFSR_MASK);
        return true;
    case S_DFSR:
        s->dfsr &= ~(v & DFSR_MASK);
        return true;
    case S_MMFAR:
        s->mmfar = v;
        return true;
    case S_BFAR:
        s->bfar = v;
        return true;
    case S_AFSR:
        return true;
    case S_CSSELR:
        if ((v & ~CSSELR_IND) != 0u) {
            *why = "SCB_CSSELR: only the level 1 caches exist";
            return false;
        }
        s->csselr = v;
        return true;
    case S_CPACR:
        s->cpacr = v & CPACR_MASK;
        return true;
    case S_DHCSR:
    case S_DCRSR:
    case S_DCRDR:
        *why = "SCB: debug halting not modelled";
        return false;
    case S_DEMCR:
        if ((v & ~DEMCR_TRCENA) != 0u) {
            *why = "SCB_DEMCR: vector catch / debug monitor not modelled";
            return false;
        }
        s->demcr = v;
        return true;
    case S_STIR:
        *why = "NVIC_STIR: software-triggered interrupts not modelled";
        return false;
    case S_FPCCR:
        s->fpccr = v & FPCCR_MASK;
        return true;
    case S_FPCAR:
        s->fpcar = v & FPCAR_MASK;
        return true;
    case S_FPDSCR:
        s->fpdscr = v & FPDSCR_MASK;
        return true;
    case S_ICIALLU:
    case S_ICIMVAU:
    case S_DCIMVAC:
    case S_DCISW:
    case S_DCCMVAU:
    case S_DCCMVAC:
    case S_DCCSW:
    case S_DCCIMVAC:
    case S_DCCISW:
    case S_BPIALL:
        return cache_op(s, off, v, why);
    case S_CPUID:
    case S_CLIDR:
    case S_CTR:
    case S_CCSIDR:
    case S_MVFR0:
    case S_MVFR1:
    case S_MVFR2:
        *why = "SCB: write to a read-only ID register";
        return false;
    default:
        *why = "SCB: register not modelled";
        return false;
    }
}

static bool scb_write(void *ctx, uint32_t off, unsigned size, uint32_t v, const char **why)
{
    scb_t *s = ctx;
    if (!size_ok(off, size)) {
        *why = "SCB: access size or alignment";
        return false;
    }
    if (size == 4u) {
        return scb_write_word(s, off, v, why);
    }
    /* A byte / half-word write to SHPRx or CFSR: its lanes only (CFSR lanes
     * are write-one-to-clear, so the other lanes write 0). */
    uint32_t woff = off & ~3u;
    unsigned sh = 8u * (off & 3u);
    uint32_t lane = ((1u << (8u * size)) - 1u) << sh;
    uint32_t cur = 0;
    if (woff != S_CFSR) {
        (void)peek(s, woff, &cur);
    }
    return scb_write_word(s, woff, (cur & ~lane) | ((v << sh) & lane), why);
}

scb_t *scb_new(void)
{
    scb_t *s = calloc(1, sizeof *s);
    if (s == NULL) {
        return NULL;
    }
    /* The H743 boots its Cortex-M7 from BOOT_CM7_ADD0, 0x0800 0000 by
     * default (RM0433 "Boot configuration", BOOT_CM7_ADD0 option byte);
     * VTOR resets to it. */
    s->reset_vtor = 0x08000000u;
    scb_do_reset(s, true);
    return s;
}

void scb_free(scb_t *s)
{
    free(s);
}

mcu_periph_t scb_periph(scb_t *s)
{
    mcu_periph_t p = {
        .name = "SCB",
        .base = SCB_BASE,
        .size = SCB_SIZE,
        .ctx = s,
        .read = scb_read,
        .write = scb_write,
        .reset = scb_do_reset,
    };
    return p;
}
