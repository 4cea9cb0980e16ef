/*
 * The emulated Cortex-M7 (Unicorn engine, its "cortex-m7" model): runs a
 * firmware image instruction by instruction against the memories and the
 * register models (mcu_periph.h) the chip (h743.h) gives it.
 *
 * What Unicorn does not do, and this module does (ARMv7-M ARM chapter B1):
 *  - exception entry (B1.5.6): faults (BusFault, UsageFault, escalated to
 *    HardFault as SHCSR leaves them disabled) push the basic frame on the
 *    current stack (PSP in thread mode with CONTROL.SPSEL set, else MSP),
 *    load EXC_RETURN (0xFFFFFFF9, 0xFFFFFFFD or 0xFFFFFFF1) into LR, clear
 *    CONTROL.SPSEL, run the handler on MSP through VTOR and report the
 *    exception to the SCB (ICSR.VECTACTIVE). Not modelled: the extended frame
 *    with the FP registers (a fault with CONTROL.FPCA set halts the core),
 *    exception return, interrupts, priorities other than HardFault's.
 *  - lockup (B1.5.15): a synchronous fault in the HardFault or NMI handler,
 *    or with FAULTMASK set, halts the core ("LOCKUP: ...").
 *  - precise BusFaults, taken at the faulting instruction: a load from a
 *    flash word with a double ECC error, from unmapped memory, or from a
 *    register whose model answers "bus error ..." (mcu_periph.h). The core
 *    stops right after the access: no later instruction has run, the load
 *    has not written its register, BFAR holds the address. Unicorn 2.0.1
 *    reports the block's start as the PC inside a memory hook (the PC is
 *    synced per instruction only while a UC_HOOK_CODE exists, and one added
 *    from a hook misses the running block, even after uc_ctl_remove_cache), so
 *    the load is found by decoding the block with the registers at the
 *    access (LDR, LDRB, LDRH, LDRSB, LDRSH, LDRD, LDREX, LDM, POP, TBB, TBH);
 *    for any other load the stacked PC is the block's start and the fault
 *    message says so. Not exact: a load in an IT block stops only after the
 *    block (the registers are put back as at the load, but stores of the
 *    rest of the block have happened; register models are not called) and
 *    the stacked ITSTATE is not exact; an LDM keeps the registers loaded before the
 *    bad word (UNKNOWN on the chip). A fetch from a bad flash line is taken
 *    at the start of the block that holds it (possibly a few instructions
 *    early) and recorded like a data bus error (IBUSERR is not modelled).
 *    Stops that resume (cm7_stop, idle, time) still wait for the next block:
 *    Unicorn would run the access's instruction again.
 *  - BusFault suppression: with FAULTMASK set and CCR.BFHFNMIGN, a precise
 *    data bus error is ignored and the load returns unknown data (B3.2.8).
 *  - imprecise BusFaults: stores are buffered on the Cortex-M7, so a store
 *    to unmapped or read-only memory, or one a model refuses as "bus error"
 *    (a wrong FLASH_KEYR sequence), records IMPRECISERR (no BFAR); the store
 *    instruction completes (to nowhere) and the fault is taken at the next
 *    translation block (a few instructions later, as the architecture
 *    allows). With FAULTMASK set or in the HardFault or NMI handler it stays
 *    pending (no lockup) until it can be taken.
 *  - time: each executed block advances the virtual clock by one cycle per
 *    two bytes of code at the core clock the chip reports (about one
 *    instruction per cycle; no pipeline, wait-state or cache model).
 *  - the flash array: executable memory whose stores go to the flash
 *    controller model instead of the cells, whose loads can end in a bus
 *    error (double ECC error), and whose fetches and loads stall while its
 *    bank is busy (no read-while-write within a bank).
 *  - accesses to unmodelled registers stop the core with a message naming
 *    the register, the PC and the function (never a silent zero; for a
 *    store, the PC of the start of its block).
 */
#ifndef H7_MCU_CM7_H
#define H7_MCU_CM7_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "elf_syms.h"
#include "mcu_periph.h"
#include "sim_clock.h"

typedef struct cm7 cm7_t;

/* The flash array. mirror is what loads and fetches see; sync() brings it up
 * to date (the controller changes the cells behind the core's back). */
typedef struct cm7_array {
    uint32_t base, size;
    uint8_t *mirror;
    void *ctx;
    bool (*store)(void *ctx, uint32_t addr, unsigned size, uint32_t val, const char **why);
    bool (*load_ok)(void *ctx, uint32_t addr, unsigned size); /* false: bus error */
    uint64_t (*busy_until)(void *ctx, uint32_t addr);         /* 0: the bank is idle */
    void (*sync)(void *ctx);
} cm7_array_t;

/* The core's registers that live in the SCB model. */
typedef struct cm7_system {
    void *ctx;
    uint32_t (*vtor)(void *ctx);
    uint32_t (*ccr)(void *ctx);
    /* CFSR: PRECISERR with BFAR = addr, or IMPRECISERR (addr unused). */
    void (*busfault)(void *ctx, uint32_t addr, bool precise);
    void (*hardfault_forced)(void *ctx);
    uint32_t (*cpu_hz)(void *ctx);
    /* ICSR.VECTACTIVE: the exception entered (0: thread mode, at reset). */
    void (*vectactive)(void *ctx, uint32_t exception);
} cm7_system_t;

typedef enum cm7_result {
    CM7_RAN = 0, /* the time slice is over */
    CM7_IDLE,    /* the firmware polls with nothing to do */
    CM7_STOPPED, /* a model asked to stop (cm7_stop: reset request, power lost) */
    CM7_HALTED,  /* lockup or unmodelled access: cm7_halt_reason() */
} cm7_result_t;

cm7_t *cm7_new(sim_clock_t *clock, const elf_syms_t *syms);
void cm7_free(cm7_t *c);
/* Memories and models; all must be set before cm7_reset(). host stays owned
 * by the caller and keeps its contents over cm7_reset(). */
bool cm7_map_ram(cm7_t *c, uint32_t base, uint32_t size, uint8_t *host);
void cm7_set_array(cm7_t *c, const cm7_array_t *a);
/* Read-only, executable memory that stands for code the model does not run
 * (ST's system memory): the core halts as soon as it executes there. */
bool cm7_map_rom(cm7_t *c, uint32_t base, uint32_t size, uint8_t *host);
bool cm7_add_periph(cm7_t *c, const mcu_periph_t *p);
void cm7_set_system(cm7_t *c, const cm7_system_t *s);
/* Out of reset: SP and PC from the vector table at addr (thread mode, MSP,
 * no exception active). false when the core cannot be built. */
bool cm7_reset(cm7_t *c, uint32_t vector_table);
/* Run until the virtual clock reaches until_ns, the firmware idles, a model
 * stops it, or it halts. */
cm7_result_t cm7_run(cm7_t *c, uint64_t until_ns);
/* From a model's access: end the slice after this access (CM7_STOPPED). */
void cm7_stop(cm7_t *c);
/* A polled status read found nothing to do (true) or work (false). */
void cm7_idle_poll(cm7_t *c, bool idle);
/* Halt the core with a message (a model found something it cannot carry). */
void cm7_halt(cm7_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *cm7_halt_reason(const cm7_t *c);
/* Why the core halted: something the model does not carry (cm7_halt(), an
 * unmodelled access), a lockup (the firmware's doing, as on silicon), or a
 * jump into the ROM stand-in (cm7_map_rom). */
typedef enum cm7_halt_kind {
    CM7_HALT_NONE = 0,
    CM7_HALT_MODEL_GAP,
    CM7_HALT_LOCKUP,
    CM7_HALT_ROM,
} cm7_halt_kind_t;
cm7_halt_kind_t cm7_halt_kind(const cm7_t *c);
bool cm7_halted(const cm7_t *c);
uint32_t cm7_pc(const cm7_t *c);
/* "name+0xoff" of the current PC (for messages). */
const char *cm7_where(const cm7_t *c, char *buf, size_t cap);
uint64_t cm7_cycles(const cm7_t *c);

#endif
