/*
 * The emulated Cortex-M7 (see cm7.h). One Unicorn instance per run from
 * reset: a system reset builds a fresh one (no stale translations of code
 * that was reprogrammed), over the same host RAM buffers.
 */
#include "cm7.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unicorn/unicorn.h>

#define MAX_RAM      8
#define MAX_PERIPH   48
#define MAX_WINDOWS  16
#define WINDOW_ALIGN 0x1000u
/* Consecutive idle status polls after which the slice ends (CM7_IDLE). */
#define IDLE_POLLS 4u

/* ARMv7-M B1.5.2 exception numbers and B1.5.8 EXC_RETURN values. */
#define EXC_NMI              2u
#define EXC_HARDFAULT        3u
#define EXC_RETURN_THREAD    0xFFFFFFF9u /* thread mode, MSP */
#define EXC_RETURN_THREAD_PS 0xFFFFFFFDu /* thread mode, PSP */
#define EXC_RETURN_HANDLER   0xFFFFFFF1u
#define XPSR_STACK_ALIGN_BIT (1u << 9)
#define CCR_BFHFNMIGN        (1u << 8) /* B3.2.8 */
#define CONTROL_SPSEL        (1u << 1) /* B1.4.4 */
#define CONTROL_FPCA         (1u << 2)
/* Pages mapped over unmapped addresses for one stop (see hook_unmapped). */
#define MAX_SCRATCH 4
/* Registers saved where a precise fault is detected: R0-R12, SP, LR, APSR. */
#define NSNAP 16

typedef struct {
    uint32_t base, size;
    uint8_t *host;
} ram_t;

typedef struct {
    uint32_t base, size;
} window_t;

/* A window's callback context: the window and its core. */
typedef struct {
    window_t w;
    struct cm7 *c;
} window_ctx_t;

static const int snap_ids[NSNAP] = {UC_ARM_REG_R0,  UC_ARM_REG_R1, UC_ARM_REG_R2,  UC_ARM_REG_R3,
                                    UC_ARM_REG_R4,  UC_ARM_REG_R5, UC_ARM_REG_R6,  UC_ARM_REG_R7,
                                    UC_ARM_REG_R8,  UC_ARM_REG_R9, UC_ARM_REG_R10, UC_ARM_REG_R11,
                                    UC_ARM_REG_R12, UC_ARM_REG_SP, UC_ARM_REG_LR,  UC_ARM_REG_APSR};

struct cm7 {
    sim_clock_t *clock;
    const elf_syms_t *syms;
    uc_engine *uc;
    ram_t ram[MAX_RAM];
    unsigned nram;
    mcu_periph_t periph[MAX_PERIPH];
    unsigned nperiph;
    const mcu_periph_t *last; /* lookup cache */
    window_t win[MAX_WINDOWS];
    window_ctx_t wctx[MAX_WINDOWS];
    unsigned nwin;
    cm7_array_t array;
    bool have_array;
    ram_t rom;
    unsigned faults_told; /* fault messages printed (a reset loop is not spammed) */
    cm7_system_t sys;
    uint64_t cycles;
    uint64_t ps_rem; /* picoseconds not yet charged to the clock */
    uint64_t until_ns;
    unsigned idle;
    cm7_result_t stop;
    bool stop_set;
    bool halted;
    cm7_halt_kind_t halt_kind;
    /* A stop requested from inside a memory callback ends the block right
     * after that access with the PC back at the block's start (Unicorn
     * 2.0.1): going on from there would run the block's first instructions
     * again. Every stop that resumes is therefore taken at the next block
     * boundary. */
    bool stop_req;
    /* Handled inside cm7_run at the next block boundary, then it goes on. */
    bool internal_stop;
    /* A precise BusFault (data bus error on a load): recorded in the memory
     * callback with the registers at the access, and the core stops right
     * after that access, before the load writes its register; the load's
     * PC is found in the block afterwards (find_load). */
    bool pf;
    bool pf_data; /* a load (the PC is searched for), not a fetch */
    uint32_t pf_addr, pf_pc;
    uint32_t blk_addr, blk_size; /* the block running */
    uint32_t pf_regs[NSNAP];
    char pf_what[300];
    /* An imprecise BusFault (store) pending until it can be taken. */
    bool imprecise;
    char imp_what[300];
    /* Pages mapped over unmapped addresses a store (or an ignored load)
     * reached; unmapped again when emulation stops. */
    uint32_t scratch[MAX_SCRATCH];
    unsigned nscratch;
    uint32_t page_size;
    /* ST's system memory as it was before a store reached it (put back when
     * emulation stops); the mirror needs a sync() after stores that did not
     * reach the controller. */
    uint8_t *rom_copy;
    bool mirror_dirty;
    uint32_t unmapped_addr; /* the data address of the last unmapped access */
    bool trace;             /* H7DFU_SIM_TRACE set: every register access on stderr */
    uint32_t recent[8];     /* the last blocks executed, for fault messages */
    unsigned nrecent;
    char reason[512];
};

cm7_t *cm7_new(sim_clock_t *clock, const elf_syms_t *syms)
{
    cm7_t *c = calloc(1, sizeof(*c));
    if (!c) {
        return NULL;
    }
    c->clock = clock;
    c->syms = syms;
    c->trace = getenv("H7DFU_SIM_TRACE") != NULL;
    return c;
}

void cm7_free(cm7_t *c)
{
    if (!c) {
        return;
    }
    if (c->uc) {
        uc_close(c->uc);
    }
    free(c->rom_copy);
    free(c);
}

bool cm7_map_ram(cm7_t *c, uint32_t base, uint32_t size, uint8_t *host)
{
    if (c->nram == MAX_RAM) {
        return false;
    }
    c->ram[c->nram++] = (ram_t){base, size, host};
    return true;
}

bool cm7_map_rom(cm7_t *c, uint32_t base, uint32_t size, uint8_t *host)
{
    c->rom = (ram_t){base, size, host};
    return true;
}

void cm7_set_array(cm7_t *c, const cm7_array_t *a)
{
    c->array = *a;
    c->have_array = true;
}

bool cm7_add_periph(cm7_t *c, const mcu_periph_t *p)
{
    if (c->nperiph == MAX_PERIPH) {
        return false;
    }
    c->periph[c->nperiph++] = *p;
    return true;
}

void cm7_set_system(cm7_t *c, const cm7_system_t *s)
{
    c->sys = *s;
}

uint32_t cm7_pc(const cm7_t *c)
{
    uint32_t pc = 0;
    if (c->uc) {
        uc_reg_read(c->uc, UC_ARM_REG_PC, &pc);
    }
    return pc;
}

const char *cm7_where(const cm7_t *c, char *buf, size_t cap)
{
    char sym[160];
    uint32_t pc = cm7_pc(c);
    snprintf(buf, cap, "PC 0x%08x (%s)", pc, elf_syms_describe(c->syms, pc, sym, sizeof(sym)));
    return buf;
}

static void halt_v(cm7_t *c, cm7_halt_kind_t kind, const char *fmt, va_list ap)
{
    if (c->halted) {
        return;
    }
    vsnprintf(c->reason, sizeof(c->reason), fmt, ap);
    c->halted = true;
    c->halt_kind = kind;
    c->stop_req = true;
}

static void halt_as(cm7_t *c, cm7_halt_kind_t kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void halt_as(cm7_t *c, cm7_halt_kind_t kind, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    halt_v(c, kind, fmt, ap);
    va_end(ap);
}

void cm7_halt(cm7_t *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    halt_v(c, CM7_HALT_MODEL_GAP, fmt, ap);
    va_end(ap);
}

const char *cm7_halt_reason(const cm7_t *c)
{
    return c->reason;
}

cm7_halt_kind_t cm7_halt_kind(const cm7_t *c)
{
    return c->halted ? c->halt_kind : CM7_HALT_NONE;
}

bool cm7_halted(const cm7_t *c)
{
    return c->halted;
}

uint64_t cm7_cycles(const cm7_t *c)
{
    return c->cycles;
}

void cm7_stop(cm7_t *c)
{
    c->stop = CM7_STOPPED;
    c->stop_set = true;
    c->stop_req = true;
}

void cm7_idle_poll(cm7_t *c, bool idle)
{
    if (!idle) {
        c->idle = 0;
        return;
    }
    if (++c->idle >= IDLE_POLLS && !c->stop_set) {
        c->stop = CM7_IDLE;
        c->stop_set = true;
        c->stop_req = true;
    }
}

/* ---- time ---- */

static void charge_cycles(cm7_t *c, uint64_t cycles)
{
    uint32_t hz = c->sys.cpu_hz ? c->sys.cpu_hz(c->sys.ctx) : 64000000u;
    if (hz == 0) {
        hz = 64000000u;
    }
    c->cycles += cycles;
    c->ps_rem += cycles * (1000000000000ull / hz);
    uint64_t ns = c->ps_rem / 1000u;
    c->ps_rem %= 1000u;
    if (ns) {
        sim_clock_wait_until(c->clock, sim_clock_now_ns(c->clock) + ns);
    }
}

static bool in_array(const cm7_t *c, uint64_t addr)
{
    return c->have_array && addr >= c->array.base && addr - c->array.base < c->array.size;
}

/* Stall while the array's bank is busy: time passes, nothing else runs. */
static void array_stall(cm7_t *c, uint32_t addr)
{
    uint64_t until = c->array.busy_until(c->array.ctx, addr);
    if (until) {
        sim_clock_wait_until(c->clock, until);
    }
}

static bool imprecise_takeable(cm7_t *c);
static void precise_fault(cm7_t *c, uint32_t addr, uint32_t pc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void hook_block(uc_engine *uc, uint64_t addr, uint32_t size, void *user)
{
    cm7_t *c = user;
    if (c->stop_req || c->internal_stop || (c->imprecise && imprecise_takeable(c))) {
        uc_emu_stop(uc); /* before this block runs: PC is exact */
        return;
    }
    c->recent[c->nrecent++ % 8u] = (uint32_t)addr;
    c->blk_addr = (uint32_t)addr;
    c->blk_size = size;
    if (c->rom.host && addr >= c->rom.base && addr - c->rom.base < c->rom.size) {
        halt_as(c, CM7_HALT_ROM,
                "jump to 0x%08x in ST's system memory: the ROM bootloader started (it is not "
                "modelled on the emulated chip)",
                (unsigned)addr);
        uc_emu_stop(uc);
        return;
    }
    if (in_array(c, addr)) {
        array_stall(c, (uint32_t)addr);
        c->array.sync(c->array.ctx);
        for (uint32_t a = (uint32_t)addr & ~31u; a < addr + size; a += 32u) {
            if (!c->array.load_ok(c->array.ctx, a, 4)) {
                /* taken before the block runs, even when the bad line holds
                 * one of its later instructions */
                precise_fault(c, a, (uint32_t)addr,
                              "BusFault (double ECC error fetching from flash at 0x%08x)", a);
                return;
            }
        }
    }
    charge_cycles(c, (size + 1u) / 2u);
    if (sim_clock_now_ns(c->clock) >= c->until_ns && !c->stop_set) {
        c->stop = CM7_RAN;
        c->stop_set = true;
        uc_emu_stop(uc);
    }
}

/* ---- bus faults ---- */

static bool faults_ignored(cm7_t *c)
{
    uint32_t fm = 0;
    uc_reg_read(c->uc, UC_ARM_REG_FAULTMASK, &fm);
    return (fm & 1u) && c->sys.ccr && (c->sys.ccr(c->sys.ctx) & CCR_BFHFNMIGN);
}

/* A model refusing an access the way the chip does (mcu_periph.h). */
static bool bus_error(const char *why)
{
    return why && strncmp(why, "bus error", 9) == 0;
}

/* In a memory hook, Unicorn 2.0.1's PC is that of the start of the block
 * (it is synced per instruction only while a UC_HOOK_CODE exists, which
 * would slow every instruction): the load is found by decoding the block. */
#define PC_SEARCH 0xFFFFFFFFu

static unsigned popcount16(uint32_t v)
{
    unsigned n = 0;
    for (v &= 0xFFFFu; v; v &= v - 1u) {
        n++;
    }
    return n;
}

/* Thumb: the length of the instruction whose first halfword is hw. */
static uint32_t insn_len(uint32_t hw)
{
    uint32_t top = hw >> 11;
    return top == 0x1Du || top == 0x1Eu || top == 0x1Fu ? 4u : 2u;
}

/* The bytes [*lo, *lo + *n) a load at pc reads with the registers r
 * (R0-R12, SP, LR as snap_ids); false: not a load this decoder knows
 * (ARMv7-M A7.7: LDR, LDRB, LDRH, LDRSB, LDRSH in their immediate, register
 * and literal forms, LDRD, LDREX, LDM, POP, TBB, TBH). */
static bool load_range(uint32_t pc, uint32_t hw, uint32_t hw2, const uint32_t *r, uint32_t *lo,
                       uint32_t *n)
{
    uint32_t lit = (pc + 4u) & ~3u;
    if (insn_len(hw) == 2u) {
        uint32_t rn = (hw >> 3) & 7u, imm5 = (hw >> 6) & 31u;
        switch (hw & 0xF800u) {
        case 0x6800u:
            *lo = r[rn] + imm5 * 4u, *n = 4u;
            return true; /* LDR imm */
        case 0x7800u:
            *lo = r[rn] + imm5, *n = 1u;
            return true; /* LDRB imm */
        case 0x8800u:
            *lo = r[rn] + imm5 * 2u, *n = 2u;
            return true; /* LDRH imm */
        case 0x4800u:
            *lo = lit + (hw & 0xFFu) * 4u, *n = 4u;
            return true; /* LDR lit */
        case 0x9800u:
            *lo = r[13] + (hw & 0xFFu) * 4u, *n = 4u;
            return true; /* LDR SP */
        case 0xC800u:
            *lo = r[(hw >> 8) & 7u], *n = 4u * popcount16(hw & 0xFFu);
            return true;
        default:
            break;
        }
        uint32_t opb = (hw >> 9) & 7u;
        if ((hw & 0xF000u) == 0x5000u && opb >= 3u) { /* LDR* register */
            static const uint32_t sz[8] = {0, 0, 0, 1, 4, 2, 1, 2};
            *lo = r[rn] + r[(hw >> 6) & 7u], *n = sz[opb];
            return true;
        }
        if ((hw & 0xFE00u) == 0xBC00u) { /* POP */
            *lo = r[13], *n = 4u * (popcount16(hw & 0xFFu) + ((hw >> 8) & 1u));
            return true;
        }
        return false;
    }
    uint32_t rn = hw & 15u;
    uint32_t base = rn == 15u ? lit : rn == 14u ? r[14] : r[rn];
    if ((hw & 0xFE10u) == 0xF810u) { /* LDR, LDRB, LDRH, LDRSB, LDRSH (.W) */
        *n = 1u << ((hw >> 5) & 3u);
        if (rn == 15u) {
            *lo = (hw & 0x80u) ? lit + (hw2 & 0xFFFu) : lit - (hw2 & 0xFFFu);
        } else if (hw & 0x80u) {
            *lo = base + (hw2 & 0xFFFu);
        } else if (hw2 & 0x800u) { /* imm8: P U W */
            *lo = !(hw2 & 0x400u)  ? base
                  : (hw2 & 0x200u) ? base + (hw2 & 0xFFu)
                                   : base - (hw2 & 0xFFu);
        } else if ((hw2 & 0xFC0u) == 0u) {
            *lo = base + (r[hw2 & 15u] << ((hw2 >> 4) & 3u));
        } else {
            return false;
        }
        return *n <= 4u;
    }
    if ((hw & 0xFE50u) == 0xE850u && (hw & 0x0120u) != 0u) { /* LDRD imm */
        uint32_t imm = (hw2 & 0xFFu) * 4u;
        *lo = !(hw & 0x100u) ? base : (hw & 0x80u) ? base + imm : base - imm;
        *n = 8u;
        return true;
    }
    if ((hw & 0xFFF0u) == 0xE850u) { /* LDREX */
        *lo = base + (hw2 & 0xFFu) * 4u, *n = 4u;
        return true;
    }
    if ((hw & 0xFFD0u) == 0xE890u) { /* LDM.W (IA), POP.W */
        *lo = base, *n = 4u * popcount16(hw2);
        return true;
    }
    if ((hw & 0xFFD0u) == 0xE910u) { /* LDMDB */
        *n = 4u * popcount16(hw2), *lo = base - *n;
        return true;
    }
    if ((hw & 0xFFF0u) == 0xE8D0u && (hw2 & 0xFFE0u) == 0xF000u) { /* TBB, TBH */
        uint32_t h = (hw2 >> 4) & 1u;
        *lo = base + (r[hw2 & 15u] << h), *n = 1u << h;
        return true;
    }
    return false;
}

/* The first load of the block from start whose address, with the registers
 * at the access, covers addr; 0 when none does. */
static uint32_t find_load(cm7_t *c, uint32_t start, uint32_t end, const uint32_t *r, uint32_t addr)
{
    for (uint32_t pc = start; pc < end;) {
        uint16_t h[2] = {0, 0};
        if (uc_mem_read(c->uc, pc, h, sizeof h) != UC_ERR_OK &&
            uc_mem_read(c->uc, pc, h, 2) != UC_ERR_OK) {
            return 0;
        }
        uint32_t lo = 0, n = 0;
        if (load_range(pc, h[0], h[1], r, &lo, &n) && addr - lo < n) {
            return pc;
        }
        pc += insn_len(h[0]);
    }
    return 0;
}

/* A synchronous (precise) BusFault from a memory callback: record the PC and
 * the registers now, and stop right after this access (see stop_req). */
static void precise_fault(cm7_t *c, uint32_t addr, uint32_t pc, const char *fmt, ...)
{
    if (c->pf) {
        return;
    }
    c->pf = true;
    c->pf_data = pc == PC_SEARCH;
    c->pf_addr = addr;
    c->pf_pc = pc == PC_SEARCH ? c->blk_addr : pc;
    for (unsigned i = 0; i < NSNAP; i++) {
        uc_reg_read(c->uc, snap_ids[i], &c->pf_regs[i]);
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->pf_what, sizeof c->pf_what, fmt, ap);
    va_end(ap);
    uc_emu_stop(c->uc);
}

/* An asynchronous (imprecise) BusFault: a store's bus error (Cortex-M7 TRM
 * and PM0253 2.5.3: writes are buffered). IMPRECISERR now; the exception is
 * taken at the next block boundary where the execution priority allows it. */
static void imprecise_fault(cm7_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void imprecise_fault(cm7_t *c, const char *fmt, ...)
{
    if (c->sys.busfault) {
        c->sys.busfault(c->sys.ctx, 0, false);
    }
    if (!c->imprecise) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->imp_what, sizeof c->imp_what, fmt, ap);
        va_end(ap);
    }
    c->imprecise = true;
    c->internal_stop = true;
}

/* B1.5.15: an imprecise BusFault that cannot preempt (FAULTMASK set, or the
 * HardFault or NMI handler running) stays pending; it is no lockup. */
static bool imprecise_takeable(cm7_t *c)
{
    uint32_t fm = 0, ipsr = 0;
    uc_reg_read(c->uc, UC_ARM_REG_FAULTMASK, &fm);
    uc_reg_read(c->uc, UC_ARM_REG_IPSR, &ipsr);
    ipsr &= 0x1FFu;
    return (fm & 1u) == 0u && ipsr != EXC_HARDFAULT && ipsr != EXC_NMI;
}

/* Map scratch pages over [addr, addr + size) so an access can complete. */
static bool map_scratch(cm7_t *c, uint64_t addr, int size)
{
    uint64_t ps = c->page_size;
    for (uint64_t p = addr & ~(ps - 1u); p < addr + (uint64_t)(size > 0 ? size : 1); p += ps) {
        if (c->nscratch == MAX_SCRATCH ||
            uc_mem_map(c->uc, p, ps, UC_PROT_READ | UC_PROT_WRITE) != UC_ERR_OK) {
            return false;
        }
        c->scratch[c->nscratch++] = (uint32_t)p;
    }
    return true;
}

/* No memory at addr. A load: a precise BusFault (Unicorn stops at the load,
 * before it writes its register), unless BFHFNMIGN ignores it. A store: an
 * imprecise one; the store completes into a scratch page (discarded) so the
 * instruction finishes as on the chip, where the error comes back later. */
static bool hook_unmapped(uc_engine *uc, uc_mem_type type, uint64_t addr, int size, int64_t val,
                          void *user)
{
    (void)uc;
    (void)val;
    cm7_t *c = user;
    if (type == UC_MEM_FETCH_UNMAPPED || c->pf) {
        return false;
    }
    c->unmapped_addr = (uint32_t)addr;
    bool write = type == UC_MEM_WRITE_UNMAPPED;
    if (!write && !faults_ignored(c)) {
        return false;
    }
    if (!map_scratch(c, addr, size)) {
        return false;
    }
    if (write) {
        imprecise_fault(c, "BusFault (store of %d bytes to unmapped 0x%08x)", size, (unsigned)addr);
    } else {
        c->internal_stop = true; /* unmap the page again */
    }
    return true;
}

/* Back to the memory map after a stop: scratch pages, ST's system memory,
 * the flash mirror. */
static void after_stop(cm7_t *c)
{
    for (unsigned i = 0; i < c->nscratch; i++) {
        uc_mem_unmap(c->uc, c->scratch[i], c->page_size);
    }
    c->nscratch = 0;
    if (c->rom_copy) {
        memcpy(c->rom.host, c->rom_copy, c->rom.size);
        free(c->rom_copy);
        c->rom_copy = NULL;
    }
    if (c->mirror_dirty && c->have_array) {
        c->array.sync(c->array.ctx);
    }
    c->mirror_dirty = false;
}

/* "PC 0x... (function+off)" of the load from addr running now (the block's
 * start, said so, when it is not found). */
static const char *load_where(cm7_t *c, uint32_t addr, char *buf, size_t cap)
{
    uint32_t r[NSNAP];
    for (unsigned i = 0; i < NSNAP; i++) {
        uc_reg_read(c->uc, snap_ids[i], &r[i]);
    }
    uint32_t pc = find_load(c, c->blk_addr, c->blk_addr + c->blk_size, r, addr);
    char sym[160];
    snprintf(buf, cap, "%sPC 0x%08x (%s)", pc ? "" : "the block at ", pc ? pc : c->blk_addr,
             elf_syms_describe(c->syms, pc ? pc : c->blk_addr, sym, sizeof sym));
    return buf;
}

/* ---- the flash array ---- */

static void hook_array_read(uc_engine *uc, uc_mem_type type, uint64_t addr, int size, int64_t val,
                            void *user)
{
    (void)uc;
    (void)type;
    (void)val;
    cm7_t *c = user;
    if (c->pf) {
        return;
    }
    array_stall(c, (uint32_t)addr);
    c->array.sync(c->array.ctx);
    if (c->array.load_ok(c->array.ctx, (uint32_t)addr, (unsigned)size)) {
        return;
    }
    if (faults_ignored(c)) {
        return; /* BFHFNMIGN: the load completes with unknown data */
    }
    precise_fault(c, (uint32_t)addr, PC_SEARCH,
                  "BusFault (double ECC error reading flash at 0x%08x)", (unsigned)addr);
}

/* A store to read-only memory: the flash array (to its controller), or ST's
 * system memory (a bus error). Returning true lets the store land in the
 * host buffer; sync() puts the array's cells back, after_stop() the ROM. */
static bool hook_write_prot(uc_engine *uc, uc_mem_type type, uint64_t addr, int size, int64_t val,
                            void *user)
{
    (void)uc;
    (void)type;
    cm7_t *c = user;
    if (!in_array(c, addr)) {
        if (!c->rom.host || addr < c->rom.base || addr - c->rom.base >= c->rom.size) {
            return false;
        }
        if (!c->rom_copy) {
            if (!(c->rom_copy = malloc(c->rom.size))) {
                return false;
            }
            memcpy(c->rom_copy, c->rom.host, c->rom.size);
        }
        imprecise_fault(c, "BusFault (store of %d bytes to read-only 0x%08x)", size,
                        (unsigned)addr);
        return true;
    }
    if (c->pf) {
        c->mirror_dirty = true; /* a precise fault is taken: this store does not happen */
        return true;
    }
    const char *why = NULL;
    if (!c->array.store(c->array.ctx, (uint32_t)addr, (unsigned)size, (uint32_t)val, &why)) {
        if (bus_error(why)) {
            c->mirror_dirty = true;
            imprecise_fault(c, "BusFault (store of 0x%x to flash 0x%08x: %s)", (unsigned)val,
                            (unsigned)addr, why);
        } else {
            char w[200];
            cm7_halt(c, "store of 0x%x (%d bytes) to flash 0x%08x not modelled (%s) at %s",
                     (unsigned)val, size, (unsigned)addr, why ? why : "?",
                     cm7_where(c, w, sizeof w));
        }
    }
    return true;
}

/* ---- registers ---- */

static const mcu_periph_t *find_periph(cm7_t *c, uint32_t addr)
{
    if (c->last && addr - c->last->base < c->last->size) {
        return c->last;
    }
    for (unsigned i = 0; i < c->nperiph; i++) {
        if (addr - c->periph[i].base < c->periph[i].size) {
            c->last = &c->periph[i];
            return c->last;
        }
    }
    return NULL;
}

static void unmodelled(cm7_t *c, uint32_t addr, bool write, uint32_t val, unsigned size,
                       const mcu_periph_t *p, const char *why)
{
    char w[240], pcw[200];
    /* a read's instruction is found; a store's PC is the block's start */
    if (write) {
        snprintf(w, sizeof w, "the block at %s", cm7_where(c, pcw, sizeof pcw));
    } else {
        load_where(c, addr, w, sizeof w);
    }
    if (p) {
        cm7_halt(c, "%s of %s+0x%03x (0x%08x, %u bytes%s%s) not modelled%s%s at %s",
                 write ? "write" : "read", p->name, addr - p->base, write ? val : 0u, size,
                 write ? "" : ", value n/a", "", why ? ": " : "", why ? why : "", w);
    } else {
        cm7_halt(c, "%s of 0x%08x (%u bytes): no peripheral is modelled there, at %s",
                 write ? "write" : "read", addr, size, w);
    }
}

static uint64_t mmio_read(uc_engine *uc, uint64_t off, unsigned size, void *user)
{
    (void)uc;
    const window_ctx_t *wc = user;
    cm7_t *c = wc->c;
    uint32_t addr = wc->w.base + (uint32_t)off;
    if (c->pf) {
        return 0; /* a precise fault is taken before this access */
    }
    const mcu_periph_t *p = find_periph(c, addr);
    uint32_t v = 0;
    const char *why = NULL;
    if (!p || !p->read || !p->read(p->ctx, addr - p->base, size, &v, &why)) {
        if (p && bus_error(why)) {
            if (!faults_ignored(c)) {
                precise_fault(c, addr, PC_SEARCH, "BusFault (read of %s+0x%03x: %s)", p->name,
                              addr - p->base, why);
            }
            return 0;
        }
        unmodelled(c, addr, false, 0, size, p, why);
        return 0;
    }
    if (c->trace) {
        char w[200];
        fprintf(stderr, "mcu: %12llu ns  %-7s+0x%03x -> 0x%08x  %s\n",
                (unsigned long long)sim_clock_now_ns(c->clock), p->name, addr - p->base, v,
                cm7_where(c, w, sizeof w));
    }
    return v;
}

static void mmio_write(uc_engine *uc, uint64_t off, unsigned size, uint64_t val, void *user)
{
    (void)uc;
    const window_ctx_t *wc = user;
    cm7_t *c = wc->c;
    uint32_t addr = wc->w.base + (uint32_t)off;
    if (c->pf) {
        return; /* a precise fault is taken before this access */
    }
    const mcu_periph_t *p = find_periph(c, addr);
    const char *why = NULL;
    if (c->trace && p) {
        char w2[200];
        fprintf(stderr, "mcu: %12llu ns  %-7s+0x%03x <- 0x%08x  %s\n",
                (unsigned long long)sim_clock_now_ns(c->clock), p->name, addr - p->base,
                (uint32_t)val, cm7_where(c, w2, sizeof w2));
    }
    if (!p || !p->write || !p->write(p->ctx, addr - p->base, size, (uint32_t)val, &why)) {
        if (p && bus_error(why)) {
            imprecise_fault(c, "BusFault (write of 0x%08x to %s+0x%03x: %s)", (unsigned)val,
                            p->name, addr - p->base, why);
        } else {
            unmodelled(c, addr, true, (uint32_t)val, size, p, why);
        }
    }
    if (c->have_array) {
        c->array.sync(c->array.ctx);
    }
}

/* Page-aligned windows covering every model, merged where they touch. */
static void build_windows(cm7_t *c)
{
    c->nwin = 0;
    for (unsigned i = 0; i < c->nperiph; i++) {
        uint32_t lo = c->periph[i].base & ~(WINDOW_ALIGN - 1u);
        uint64_t hi = ((uint64_t)c->periph[i].base + c->periph[i].size + WINDOW_ALIGN - 1u) &
                      ~(uint64_t)(WINDOW_ALIGN - 1u);
        bool merged = false;
        for (unsigned k = 0; k < c->nwin && !merged; k++) {
            window_t *w = &c->win[k];
            if (lo <= (uint64_t)w->base + w->size && hi >= w->base) {
                uint64_t nlo = lo < w->base ? lo : w->base;
                uint64_t nhi = hi > (uint64_t)w->base + w->size ? hi : (uint64_t)w->base + w->size;
                w->base = (uint32_t)nlo;
                w->size = (uint32_t)(nhi - nlo);
                merged = true;
            }
        }
        if (!merged && c->nwin < MAX_WINDOWS) {
            c->win[c->nwin++] = (window_t){lo, (uint32_t)(hi - lo)};
        }
    }
}

bool cm7_reset(cm7_t *c, uint32_t vector_table)
{
    if (c->uc) {
        uc_close(c->uc);
        c->uc = NULL;
    }
    c->halted = false;
    c->reason[0] = '\0';
    c->pf = false;
    c->imprecise = false;
    c->internal_stop = false;
    c->nscratch = 0;
    c->mirror_dirty = false;
    free(c->rom_copy);
    c->rom_copy = NULL;
    c->idle = 0;
    c->last = NULL;
    uc_engine *uc;
    if (uc_open(UC_ARCH_ARM, UC_MODE_THUMB | UC_MODE_MCLASS, &uc) != UC_ERR_OK) {
        return false;
    }
    c->uc = uc;
    bool ok = uc_ctl_set_cpu_model(uc, UC_CPU_ARM_CORTEX_M7) == UC_ERR_OK;
    for (unsigned i = 0; ok && i < c->nram; i++) {
        ok = uc_mem_map_ptr(uc, c->ram[i].base, c->ram[i].size, UC_PROT_ALL, c->ram[i].host) ==
             UC_ERR_OK;
    }
    if (ok && c->rom.host) {
        ok = uc_mem_map_ptr(uc, c->rom.base, c->rom.size, UC_PROT_READ | UC_PROT_EXEC,
                            c->rom.host) == UC_ERR_OK;
    }
    uc_hook h;
    if (ok && c->have_array) {
        ok = uc_mem_map_ptr(uc, c->array.base, c->array.size, UC_PROT_READ | UC_PROT_EXEC,
                            c->array.mirror) == UC_ERR_OK &&
             uc_hook_add(uc, &h, UC_HOOK_MEM_READ, (void *)hook_array_read, c, c->array.base,
                         (uint64_t)c->array.base + c->array.size - 1u) == UC_ERR_OK;
    }
    size_t ps = 0;
    ok = ok && uc_query(uc, UC_QUERY_PAGE_SIZE, &ps) == UC_ERR_OK && ps != 0u;
    c->page_size = (uint32_t)ps;
    ok = ok &&
         uc_hook_add(uc, &h, UC_HOOK_MEM_WRITE_PROT, (void *)hook_write_prot, c, 1, 0) ==
             UC_ERR_OK &&
         uc_hook_add(uc, &h, UC_HOOK_MEM_UNMAPPED, (void *)hook_unmapped, c, 1, 0) == UC_ERR_OK;
    build_windows(c);
    for (unsigned i = 0; ok && i < c->nwin; i++) {
        c->wctx[i] = (window_ctx_t){c->win[i], c};
        ok = uc_mmio_map(uc, c->win[i].base, c->win[i].size, mmio_read, &c->wctx[i], mmio_write,
                         &c->wctx[i]) == UC_ERR_OK;
    }
    ok = ok && uc_hook_add(uc, &h, UC_HOOK_BLOCK, (void *)hook_block, c, 1, 0) == UC_ERR_OK;
    if (!ok) {
        return false;
    }
    if (c->have_array) {
        c->array.sync(c->array.ctx);
    }
    uint32_t vec[2] = {0, 0};
    if (uc_mem_read(uc, vector_table, vec, sizeof vec) != UC_ERR_OK) {
        return false;
    }
    uint32_t pc = vec[1] & ~1u;
    uc_reg_write(uc, UC_ARM_REG_MSP, &vec[0]);
    uc_reg_write(uc, UC_ARM_REG_SP, &vec[0]);
    uc_reg_write(uc, UC_ARM_REG_PC, &pc);
    if (c->sys.vectactive) {
        c->sys.vectactive(c->sys.ctx, 0);
    }
    return true;
}

/* ---- exceptions ---- */

static void lockup(cm7_t *c, const char *what)
{
    char w[200];
    halt_as(c, CM7_HALT_LOCKUP,
            "LOCKUP: %s at %s; the core stops until the next reset (ARMv7-M B1.5.15)", what,
            cm7_where(c, w, sizeof w));
}

/* Exception entry (ARMv7-M B1.5.6 "Exception entry behavior"): the basic
 * frame R0-R3, R12, LR, return address, xPSR on the current stack (PSP in
 * thread mode with CONTROL.SPSEL set, MSP otherwise), EXC_RETURN in LR, the
 * handler on MSP, ICSR.VECTACTIVE. The extended frame (CONTROL.FPCA, B1.5.7)
 * is not modelled: the core halts instead. */
static void enter_fault(cm7_t *c, const char *what, uint32_t return_pc)
{
    uc_engine *uc = c->uc;
    uint32_t pc_t = return_pc | 1u;
    uc_reg_write(uc, UC_ARM_REG_PC, &pc_t); /* for the messages */
    uint32_t xpsr = 0, fm = 0, control = 0, msp = 0, psp = 0;
    uc_reg_read(uc, UC_ARM_REG_XPSR, &xpsr);
    uc_reg_read(uc, UC_ARM_REG_FAULTMASK, &fm);
    uc_reg_read(uc, UC_ARM_REG_CONTROL, &control);
    uc_reg_read(uc, UC_ARM_REG_MSP, &msp);
    uc_reg_read(uc, UC_ARM_REG_PSP, &psp);
    uint32_t ipsr = xpsr & 0x1FFu;
    if (ipsr == EXC_HARDFAULT || ipsr == EXC_NMI || (fm & 1u)) {
        char msg[400];
        snprintf(msg, sizeof msg, "%s while in %s", what,
                 (fm & 1u)         ? "FAULTMASK"
                 : ipsr == EXC_NMI ? "NMI"
                                   : "the HardFault handler");
        lockup(c, msg);
        return;
    }
    if (control & CONTROL_FPCA) {
        char w[200];
        cm7_halt(c,
                 "%s with CONTROL.FPCA set at %s: exception entry with the floating-point "
                 "extended frame (ARMv7-M B1.5.7) not modelled",
                 what, cm7_where(c, w, sizeof w));
        return;
    }
    if (c->sys.hardfault_forced) {
        c->sys.hardfault_forced(c->sys.ctx); /* escalated: SHCSR enables are off */
    }
    if (c->faults_told < 3u || c->trace) {
        char w[200];
        if (++c->faults_told == 3u) {
            fprintf(stderr, "h7dfu-sim: (further faults not shown; H7DFU_SIM_TRACE shows all)\n");
        }
        fprintf(stderr, "h7dfu-sim: emulated core: %s at %s: HardFault; last blocks:", what,
                cm7_where(c, w, sizeof w));
        for (unsigned i = 0; i < 8u; i++) {
            uint32_t a = c->recent[(c->nrecent + i) % 8u];
            fprintf(stderr, " %s", elf_syms_describe(c->syms, a, w, sizeof w));
        }
        fprintf(stderr, "\n");
    }
    int ids[6] = {UC_ARM_REG_R0, UC_ARM_REG_R1,  UC_ARM_REG_R2,
                  UC_ARM_REG_R3, UC_ARM_REG_R12, UC_ARM_REG_LR};
    uint32_t frame[8];
    for (int i = 0; i < 6; i++) {
        uc_reg_read(uc, ids[i], &frame[i]);
    }
    frame[6] = return_pc & ~1u;
    bool thread_psp = ipsr == 0u && (control & CONTROL_SPSEL);
    uint32_t sp = thread_psp ? psp : msp;
    uint32_t nsp = sp - 32u;
    if (nsp & 4u) {
        nsp -= 4u;
        xpsr |= XPSR_STACK_ALIGN_BIT;
    }
    frame[7] = xpsr;
    uint32_t vtor = c->sys.vtor ? c->sys.vtor(c->sys.ctx) : 0u;
    uint32_t handler = 0;
    if (uc_mem_write(uc, nsp, frame, sizeof frame) != UC_ERR_OK ||
        uc_mem_read(uc, vtor + 4u * EXC_HARDFAULT, &handler, 4) != UC_ERR_OK) {
        lockup(c, "fault during exception entry (stack or vector table unreadable)");
        return;
    }
    if (thread_psp) {
        psp = nsp;
    } else {
        msp = nsp;
    }
    uint32_t lr = ipsr != 0u   ? EXC_RETURN_HANDLER
                  : thread_psp ? EXC_RETURN_THREAD_PS
                               : EXC_RETURN_THREAD;
    if (ipsr == 0u) {
        /* CONTROL.SPSEL = 0 (B1.5.6 ExceptionTaken); from privileged thread
         * mode this also switches the banked SP to MSP. */
        uint32_t ctl = control & ~CONTROL_SPSEL;
        uc_reg_write(uc, UC_ARM_REG_CONTROL, &ctl);
    }
    uint32_t ipsr_new = EXC_HARDFAULT;
    uc_reg_write(uc, UC_ARM_REG_IPSR, &ipsr_new);
    /* Handler mode: SP is MSP whatever CONTROL holds. */
    uc_reg_write(uc, UC_ARM_REG_MSP, &msp);
    uc_reg_write(uc, UC_ARM_REG_PSP, &psp);
    handler |= 1u;
    uc_reg_write(uc, UC_ARM_REG_LR, &lr);
    uc_reg_write(uc, UC_ARM_REG_PC, &handler);
    if (c->sys.vectactive) {
        c->sys.vectactive(c->sys.ctx, EXC_HARDFAULT);
    }
}

static cm7_result_t entered(const cm7_t *c)
{
    return c->halted ? CM7_HALTED : CM7_STOPPED;
}

/* The precise fault recorded by precise_fault(): the registers as they were
 * at the access (the access's own register writes, and whatever ran after it
 * when the stop could not come at once, undone), the access's PC stacked. */
static cm7_result_t take_precise(cm7_t *c)
{
    c->pf = false;
    for (unsigned i = 0; i < NSNAP; i++) {
        uc_reg_write(c->uc, snap_ids[i], &c->pf_regs[i]);
    }
    if (c->pf_data) {
        uint32_t at = find_load(c, c->pf_pc, c->blk_addr + c->blk_size, c->pf_regs, c->pf_addr);
        size_t n = strlen(c->pf_what);
        if (at) {
            c->pf_pc = at;
        } else if (n < sizeof c->pf_what) {
            snprintf(c->pf_what + n, sizeof c->pf_what - n,
                     " (load not found in the block: the stacked PC is the block's start)");
        }
    }
    if (c->sys.busfault) {
        c->sys.busfault(c->sys.ctx, c->pf_addr, true);
    }
    enter_fault(c, c->pf_what, c->pf_pc);
    return entered(c);
}

/* uc_emu_start() ended with an error: the PC is the instruction's. */
static cm7_result_t take_error(cm7_t *c, uc_err e)
{
    uint32_t at = cm7_pc(c);
    if (e == UC_ERR_FETCH_UNMAPPED && at >= 0x1FF00000u && at < 0x1FF20000u) {
        /* RM0433 2.3.2: system memory (ST's ROM bootloader, AN2606) */
        halt_as(c, CM7_HALT_ROM,
                "jump to 0x%08x in ST's system memory: the ROM bootloader is not "
                "modelled on the emulated chip",
                at);
        return CM7_HALTED;
    }
    char what[200];
    if (e == UC_ERR_INSN_INVALID || e == UC_ERR_EXCEPTION) {
        snprintf(what, sizeof what, "UsageFault (%s)", uc_strerror(e));
    } else if (e == UC_ERR_READ_UNMAPPED) {
        /* the PC is the block's start, the registers those at the load */
        uint32_t r[NSNAP];
        for (unsigned i = 0; i < NSNAP; i++) {
            uc_reg_read(c->uc, snap_ids[i], &r[i]);
        }
        uint32_t ld = find_load(c, c->blk_addr, c->blk_addr + c->blk_size, r, c->unmapped_addr);
        if (ld) {
            at = ld;
        }
        if (c->sys.busfault) {
            c->sys.busfault(c->sys.ctx, c->unmapped_addr, true);
        }
        snprintf(what, sizeof what, "BusFault (load from unmapped 0x%08x)", c->unmapped_addr);
    } else if (e == UC_ERR_WRITE_UNMAPPED || e == UC_ERR_WRITE_PROT) {
        /* no scratch page could be mapped: the store did not complete */
        if (c->sys.busfault) {
            c->sys.busfault(c->sys.ctx, 0, false);
        }
        snprintf(what, sizeof what, "BusFault (%s)", uc_strerror(e));
    } else {
        /* an instruction fetch (IBUSERR is not modelled: recorded as a
         * precise data bus error at the PC) */
        if (c->sys.busfault) {
            c->sys.busfault(c->sys.ctx, at, true);
        }
        snprintf(what, sizeof what, "BusFault (%s)", uc_strerror(e));
    }
    enter_fault(c, what, at);
    return entered(c);
}

cm7_result_t cm7_run(cm7_t *c, uint64_t until_ns)
{
    if (c->halted || !c->uc) {
        return CM7_HALTED;
    }
    c->until_ns = until_ns;
    c->stop_set = false;
    c->stop_req = false;
    c->stop = CM7_RAN;
    for (;;) {
        c->internal_stop = false;
        uint32_t pc = cm7_pc(c);
        uc_err e = uc_emu_start(c->uc, pc | 1u, 0, 0, 0);
        bool internal = c->internal_stop;
        c->internal_stop = false;
        after_stop(c);
        if (c->halted) {
            return CM7_HALTED;
        }
        if (c->pf) {
            return take_precise(c);
        }
        if (e != UC_ERR_OK) {
            return take_error(c, e);
        }
        if (c->imprecise && imprecise_takeable(c)) {
            c->imprecise = false;
            enter_fault(c, c->imp_what, cm7_pc(c));
            return entered(c);
        }
        if (c->stop_set || !internal) {
            return c->stop;
        }
    }
}
