/*
 * Register-level peripheral models of the emulated STM32H743 (sim/mcu): the
 * interface between a model and the emulated Cortex-M7 (mcu.h) that maps it.
 *
 * A model is written from the reference manual's register description
 * (RM0433, ARMv7-M ARM, the DWC2 programming model), never from our driver:
 * each one cites where its register map, reset values and behaviour come from.
 *
 * Accesses: off is the byte offset from the model's base, size is 1, 2 or 4.
 * A model returns false for a register or a bit it does not model (an
 * unknown offset, a write that sets a bit it does not implement, a size the
 * hardware does not accept): the CPU side then stops the firmware with a loud
 * error naming the register, the PC and the function (mcu.c). It never
 * answers an unknown register with a silent zero. It may fill in why (a short
 * phrase, static storage) to say what exactly was not modelled.
 *
 * Time: a model that needs it reads the board's virtual clock
 * (sim/clock/sim_clock.h), which the CPU keeps current before every access.
 */
#ifndef H7_MCU_PERIPH_H
#define H7_MCU_PERIPH_H

#include <stdbool.h>
#include <stdint.h>

typedef struct mcu_periph {
    const char *name; /* as in RM0433: "RCC", "FLASH", "OTG_FS", ... */
    uint32_t base;
    uint32_t size;
    void *ctx;
    bool (*read)(void *ctx, uint32_t off, unsigned size, uint32_t *val, const char **why);
    bool (*write)(void *ctx, uint32_t off, unsigned size, uint32_t val, const char **why);
    /* System reset (NRST, SYSRESETREQ, power-on): every register back to its
     * reset value. power_on: also the registers kept over a system reset
     * (backup domain, PWR_CR3's write-once state). */
    void (*reset)(void *ctx, bool power_on);
} mcu_periph_t;

#endif
