/*
 * The emulated Cortex-M7 (Unicorn engine, its "cortex-m7" model): runs a
 * firmware image instruction by instruction against the memories and the
 * register models (mcu_periph.h) the chip (h743.h) gives it.
 *
 * What Unicorn does not do, and this module does (ARMv7-M ARM chapter B1):
 *  - exception entry: faults (BusFault, UsageFault, escalated to HardFault as
 *    SHCSR leaves them disabled) push the basic frame on the current stack,
 *    load EXC_RETURN into LR and branch through VTOR; a fault while in
 *    HardFault, or with FAULTMASK set, is a lockup (B1.5.15).
 *  - BusFault suppression: with FAULTMASK set and CCR.BFHFNMIGN, a data bus
 *    error is ignored and the load returns unknown data (B3.2.8).
 *  - time: each executed block advances the virtual clock by one cycle per
 *    two bytes of code at the core clock the chip reports (about one
 *    instruction per cycle; no pipeline, wait-state or cache model).
 *  - the flash array: executable memory whose stores go to the flash
 *    controller model instead of the cells, whose loads can end in a bus
 *    error (double ECC error), and whose fetches and loads stall while its
 *    bank is busy (no read-while-write within a bank).
 *  - accesses to unmodelled registers stop the core with a message naming
 *    the register, the PC and the function (never a silent zero).
 * A bus fault from the flash array is taken at the end of the translation
 * block that caused it (Unicorn cannot abort a load from a hook): the
 * stacked PC may be a few instructions late.
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
    void (*busfault)(void *ctx, uint32_t addr, bool precise);
    void (*hardfault_forced)(void *ctx);
    uint32_t (*cpu_hz)(void *ctx);
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
bool cm7_halted(const cm7_t *c);
uint32_t cm7_pc(const cm7_t *c);
/* "name+0xoff" of the current PC (for messages). */
const char *cm7_where(const cm7_t *c, char *buf, size_t cap);
uint64_t cm7_cycles(const cm7_t *c);

#endif
