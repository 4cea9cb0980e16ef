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
#define EXC_HARDFAULT        3u
#define EXC_RETURN_THREAD    0xFFFFFFF9u
#define EXC_RETURN_HANDLER   0xFFFFFFF1u
#define XPSR_STACK_ALIGN_BIT (1u << 9)
#define CCR_BFHFNMIGN        (1u << 8) /* B3.2.8 */

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

typedef enum { FAULT_NONE = 0, FAULT_BUS, FAULT_USAGE } fault_t;

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
    fault_t fault;
    uint32_t fault_addr;
    bool halted;
    /* Unicorn re-runs part of a block when stopped from inside a memory
     * callback; every stop is therefore taken at the next block boundary. */
    bool stop_req;
    bool trace;         /* H7DFU_SIM_TRACE set: every register access on stderr */
    uint32_t recent[8]; /* the last blocks executed, for fault messages */
    unsigned nrecent;
    char reason[512];
};

cm7_t *cm7_new(sim_clock_t *clock, const elf_syms_t *syms)
{
    cm7_t *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->clock = clock;
    c->syms = syms;
    c->trace = getenv("H7DFU_SIM_TRACE") != NULL;
    return c;
}

void cm7_free(cm7_t *c)
{
    if (!c)
        return;
    if (c->uc)
        uc_close(c->uc);
    free(c);
}

bool cm7_map_ram(cm7_t *c, uint32_t base, uint32_t size, uint8_t *host)
{
    if (c->nram == MAX_RAM)
        return false;
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
    if (c->nperiph == MAX_PERIPH)
        return false;
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
    if (c->uc)
        uc_reg_read(c->uc, UC_ARM_REG_PC, &pc);
    return pc;
}

const char *cm7_where(const cm7_t *c, char *buf, size_t cap)
{
    char sym[160];
    uint32_t pc = cm7_pc(c);
    snprintf(buf, cap, "PC 0x%08x (%s)", pc, elf_syms_describe(c->syms, pc, sym, sizeof(sym)));
    return buf;
}

void cm7_halt(cm7_t *c, const char *fmt, ...)
{
    if (c->halted)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->reason, sizeof(c->reason), fmt, ap);
    va_end(ap);
    c->halted = true;
    c->stop_req = true;
}

const char *cm7_halt_reason(const cm7_t *c)
{
    return c->reason;
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
    if (hz == 0)
        hz = 64000000u;
    c->cycles += cycles;
    c->ps_rem += cycles * (1000000000000ull / hz);
    uint64_t ns = c->ps_rem / 1000u;
    c->ps_rem %= 1000u;
    if (ns)
        sim_clock_wait_until(c->clock, sim_clock_now_ns(c->clock) + ns);
}

static bool in_array(const cm7_t *c, uint64_t addr)
{
    return c->have_array && addr >= c->array.base && addr - c->array.base < c->array.size;
}

/* Stall while the array's bank is busy: time passes, nothing else runs. */
static void array_stall(cm7_t *c, uint32_t addr)
{
    uint64_t until = c->array.busy_until(c->array.ctx, addr);
    if (until)
        sim_clock_wait_until(c->clock, until);
}

static void hook_block(uc_engine *uc, uint64_t addr, uint32_t size, void *user)
{
    (void)uc;
    cm7_t *c = user;
    if (c->stop_req) {
        uc_emu_stop(uc); /* before this block runs: PC is exact */
        return;
    }
    c->recent[c->nrecent++ % 8u] = (uint32_t)addr;
    if (c->rom.host && addr >= c->rom.base && addr - c->rom.base < c->rom.size) {
        cm7_halt(c,
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
                c->fault = FAULT_BUS;
                c->fault_addr = a;
                uc_emu_stop(uc);
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

/* ---- the flash array ---- */

static bool faults_ignored(cm7_t *c)
{
    uint32_t fm = 0;
    uc_reg_read(c->uc, UC_ARM_REG_FAULTMASK, &fm);
    return (fm & 1u) && c->sys.ccr && (c->sys.ccr(c->sys.ctx) & CCR_BFHFNMIGN);
}

static void hook_array_read(uc_engine *uc, uc_mem_type type, uint64_t addr, int size, int64_t val,
                            void *user)
{
    (void)uc;
    (void)type;
    (void)val;
    cm7_t *c = user;
    array_stall(c, (uint32_t)addr);
    c->array.sync(c->array.ctx);
    if (c->array.load_ok(c->array.ctx, (uint32_t)addr, (unsigned)size))
        return;
    if (faults_ignored(c))
        return; /* BFHFNMIGN: the load completes with unknown data */
    if (c->fault == FAULT_NONE) {
        c->fault = FAULT_BUS;
        c->fault_addr = (uint32_t)addr;
        c->stop_req = true;
    }
}

static bool hook_array_write(uc_engine *uc, uc_mem_type type, uint64_t addr, int size, int64_t val,
                             void *user)
{
    (void)uc;
    (void)type;
    cm7_t *c = user;
    if (!in_array(c, addr))
        return false; /* a store into other read-only memory: bus fault */
    const char *why = NULL;
    /* The store also lands in the mirror; sync() puts the cells back. */
    if (!c->array.store(c->array.ctx, (uint32_t)addr, (unsigned)size, (uint32_t)val, &why)) {
        char w[200];
        cm7_halt(c, "store of 0x%x (%d bytes) to flash 0x%08x not modelled (%s) at %s",
                 (unsigned)val, size, (unsigned)addr, why ? why : "?", cm7_where(c, w, sizeof w));
    }
    return true;
}

/* ---- registers ---- */

static const mcu_periph_t *find_periph(cm7_t *c, uint32_t addr)
{
    if (c->last && addr - c->last->base < c->last->size)
        return c->last;
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
    char w[200];
    if (p)
        cm7_halt(c, "%s of %s+0x%03x (0x%08x, %u bytes%s%s) not modelled%s%s at %s",
                 write ? "write" : "read", p->name, addr - p->base, write ? val : 0u, size,
                 write ? "" : ", value n/a", "", why ? ": " : "", why ? why : "",
                 cm7_where(c, w, sizeof w));
    else
        cm7_halt(c, "%s of 0x%08x (%u bytes): no peripheral is modelled there, at %s",
                 write ? "write" : "read", addr, size, cm7_where(c, w, sizeof w));
}

static uint64_t mmio_read(uc_engine *uc, uint64_t off, unsigned size, void *user)
{
    (void)uc;
    const window_ctx_t *wc = user;
    cm7_t *c = wc->c;
    uint32_t addr = wc->w.base + (uint32_t)off;
    const mcu_periph_t *p = find_periph(c, addr);
    uint32_t v = 0;
    const char *why = NULL;
    if (!p || !p->read || !p->read(p->ctx, addr - p->base, size, &v, &why)) {
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
    const mcu_periph_t *p = find_periph(c, addr);
    const char *why = NULL;
    if (c->trace && p) {
        char w2[200];
        fprintf(stderr, "mcu: %12llu ns  %-7s+0x%03x <- 0x%08x  %s\n",
                (unsigned long long)sim_clock_now_ns(c->clock), p->name, addr - p->base,
                (uint32_t)val, cm7_where(c, w2, sizeof w2));
    }
    if (!p || !p->write || !p->write(p->ctx, addr - p->base, size, (uint32_t)val, &why))
        unmodelled(c, addr, true, (uint32_t)val, size, p, why);
    if (c->have_array)
        c->array.sync(c->array.ctx);
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
        if (!merged && c->nwin < MAX_WINDOWS)
            c->win[c->nwin++] = (window_t){lo, (uint32_t)(hi - lo)};
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
    c->fault = FAULT_NONE;
    c->idle = 0;
    c->last = NULL;
    uc_engine *uc;
    if (uc_open(UC_ARCH_ARM, UC_MODE_THUMB | UC_MODE_MCLASS, &uc) != UC_ERR_OK)
        return false;
    c->uc = uc;
    bool ok = uc_ctl_set_cpu_model(uc, UC_CPU_ARM_CORTEX_M7) == UC_ERR_OK;
    for (unsigned i = 0; ok && i < c->nram; i++)
        ok = uc_mem_map_ptr(uc, c->ram[i].base, c->ram[i].size, UC_PROT_ALL, c->ram[i].host) ==
             UC_ERR_OK;
    if (ok && c->rom.host)
        ok = uc_mem_map_ptr(uc, c->rom.base, c->rom.size, UC_PROT_READ | UC_PROT_EXEC,
                            c->rom.host) == UC_ERR_OK;
    uc_hook h;
    if (ok && c->have_array) {
        ok = uc_mem_map_ptr(uc, c->array.base, c->array.size, UC_PROT_READ | UC_PROT_EXEC,
                            c->array.mirror) == UC_ERR_OK &&
             uc_hook_add(uc, &h, UC_HOOK_MEM_READ, (void *)hook_array_read, c, c->array.base,
                         (uint64_t)c->array.base + c->array.size - 1u) == UC_ERR_OK &&
             uc_hook_add(uc, &h, UC_HOOK_MEM_WRITE_PROT, (void *)hook_array_write, c, 1, 0) ==
                 UC_ERR_OK;
    }
    build_windows(c);
    for (unsigned i = 0; ok && i < c->nwin; i++) {
        c->wctx[i] = (window_ctx_t){c->win[i], c};
        ok = uc_mmio_map(uc, c->win[i].base, c->win[i].size, mmio_read, &c->wctx[i], mmio_write,
                         &c->wctx[i]) == UC_ERR_OK;
    }
    ok = ok && uc_hook_add(uc, &h, UC_HOOK_BLOCK, (void *)hook_block, c, 1, 0) == UC_ERR_OK;
    if (!ok)
        return false;
    if (c->have_array)
        c->array.sync(c->array.ctx);
    uint32_t vec[2] = {0, 0};
    if (uc_mem_read(uc, vector_table, vec, sizeof vec) != UC_ERR_OK)
        return false;
    uint32_t pc = vec[1] & ~1u;
    uc_reg_write(uc, UC_ARM_REG_MSP, &vec[0]);
    uc_reg_write(uc, UC_ARM_REG_SP, &vec[0]);
    uc_reg_write(uc, UC_ARM_REG_PC, &pc);
    return true;
}

/* ---- exceptions ---- */

static void lockup(cm7_t *c, const char *what)
{
    char w[200];
    cm7_halt(c, "LOCKUP: %s at %s; the core stops until the next reset (ARMv7-M B1.5.15)", what,
             cm7_where(c, w, sizeof w));
}

/* Exception entry (ARMv7-M B1.5.6 "Exception entry behavior"): the basic
 * frame R0-R3, R12, LR, return address, xPSR on the current stack. */
static void enter_fault(cm7_t *c, const char *what, uint32_t return_pc)
{
    uc_engine *uc = c->uc;
    uint32_t xpsr = 0, fm = 0;
    uc_reg_read(uc, UC_ARM_REG_XPSR, &xpsr);
    uc_reg_read(uc, UC_ARM_REG_FAULTMASK, &fm);
    uint32_t ipsr = xpsr & 0x1FFu;
    if (ipsr == EXC_HARDFAULT || ipsr == 2u || (fm & 1u)) {
        char msg[300];
        snprintf(msg, sizeof msg, "%s while in %s", what,
                 (fm & 1u)    ? "FAULTMASK"
                 : ipsr == 2u ? "NMI"
                              : "the HardFault handler");
        lockup(c, msg);
        return;
    }
    if (c->sys.hardfault_forced)
        c->sys.hardfault_forced(c->sys.ctx); /* escalated: SHCSR enables are off */
    if (c->faults_told < 3u || getenv("H7DFU_SIM_TRACE")) {
        char w[200];
        if (++c->faults_told == 3u)
            fprintf(stderr, "h7dfu-sim: (further faults not shown; H7DFU_SIM_TRACE shows all)\n");
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
    for (int i = 0; i < 6; i++)
        uc_reg_read(uc, ids[i], &frame[i]);
    frame[6] = return_pc;
    uint32_t sp = 0;
    uc_reg_read(uc, UC_ARM_REG_SP, &sp);
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
    uint32_t lr = ipsr == 0 ? EXC_RETURN_THREAD : EXC_RETURN_HANDLER;
    uint32_t ipsr_new = EXC_HARDFAULT;
    handler &= ~1u;
    uc_reg_write(uc, UC_ARM_REG_SP, &nsp);
    uc_reg_write(uc, UC_ARM_REG_LR, &lr);
    uc_reg_write(uc, UC_ARM_REG_IPSR, &ipsr_new);
    uc_reg_write(uc, UC_ARM_REG_PC, &handler);
}

cm7_result_t cm7_run(cm7_t *c, uint64_t until_ns)
{
    if (c->halted || !c->uc)
        return CM7_HALTED;
    c->until_ns = until_ns;
    c->stop_set = false;
    c->stop_req = false;
    c->stop = CM7_RAN;
    uint32_t pc = cm7_pc(c);
    uc_err e = uc_emu_start(c->uc, pc | 1u, 0, 0, 0);
    if (c->halted)
        return CM7_HALTED;
    char w[200];
    if (e != UC_ERR_OK) {
        uint32_t at = cm7_pc(c);
        if (e == UC_ERR_FETCH_UNMAPPED && at >= 0x1FF00000u && at < 0x1FF20000u) {
            /* RM0433 2.3.2: system memory (ST's ROM bootloader, AN2606) */
            cm7_halt(c,
                     "jump to 0x%08x in ST's system memory: the ROM bootloader is not "
                     "modelled on the emulated chip",
                     at);
            return CM7_HALTED;
        }
        char what[200];
        snprintf(what, sizeof what, "%s (%s)",
                 e == UC_ERR_INSN_INVALID || e == UC_ERR_EXCEPTION ? "UsageFault" : "BusFault",
                 uc_strerror(e));
        if (e == UC_ERR_READ_UNMAPPED || e == UC_ERR_WRITE_UNMAPPED || e == UC_ERR_FETCH_UNMAPPED ||
            e == UC_ERR_WRITE_PROT) {
            if (c->sys.busfault)
                c->sys.busfault(c->sys.ctx, at, true);
        }
        (void)w;
        enter_fault(c, what, at);
        return c->halted ? CM7_HALTED : CM7_STOPPED;
    }
    if (c->fault == FAULT_BUS) {
        c->fault = FAULT_NONE;
        if (c->sys.busfault)
            c->sys.busfault(c->sys.ctx, c->fault_addr, true);
        char what[120];
        snprintf(what, sizeof what, "BusFault (double ECC error reading flash at 0x%08x)",
                 c->fault_addr);
        enter_fault(c, what, cm7_pc(c));
        return c->halted ? CM7_HALTED : CM7_STOPPED;
    }
    return c->stop;
}
