/*
 * The emulated STM32H743: a Cortex-M7 (cm7.h) with the chip's memories
 * (RM0433 2.3.2 "Memory map and register boundary addresses") and register
 * models of every peripheral the firmware touches (mcu_sys.h, flash_ctl.h,
 * otg_fs.h), over the board's flash array (sim_flash.h) and virtual clock.
 *
 * Resets (RM0433 8.4 "Reset and clock control", ARMv7-M B1.5.5):
 *  - power-on: the SRAMs hold garbage, every register (PWR's supply lock
 *    included) takes its reset value, the core boots from BOOT_ADD0
 *    (0x0800 -> 0x08000000, the factory option byte);
 *  - system reset (AIRCR.SYSRESETREQ): the same, but the SRAMs keep their
 *    contents and the registers kept over a system reset are kept.
 * What is not modelled: caches (maintenance operations are accepted), the
 * MPU, interrupts (the firmware is polled; NVIC accesses stop the core),
 * cycle accuracy, DMA, the peripherals the firmware does not use, ST's ROM.
 */
#ifndef H7_MCU_H743_H
#define H7_MCU_H743_H

#include <stdbool.h>
#include <stdint.h>

#include "elf_syms.h"
#include "otg_fs.h"
#include "sim_clock.h"
#include "sim_flash.h"

#define H743_BOOT_ADDR 0x08000000u /* BOOT_ADD0 factory value 0x0800 (RM0433 4.4.7) */

typedef struct h743 h743_t;

typedef struct h743_config {
    sim_clock_t *clock;        /* the board's virtual clock (borrowed) */
    sim_flash_t *flash;        /* the flash array (borrowed) */
    uint32_t uid[3];           /* the 96-bit unique ID (RM0433 61.1) */
    uint16_t rev_id;           /* DBGMCU_IDCODE.REV_ID; 0: 0x2003 (revision V) */
    const elf_syms_t *symbols; /* names for messages; may be NULL */
    bool no_usb_supply;        /* VDD33USB absent: PWR_CR3.USB33RDY never comes */
    uint64_t flash_stuck_op;   /* the n-th program/erase never ends (flash_ctl_stick); 0: none */
} h743_config_t;

typedef enum h743_event {
    H743_RAN = 0,    /* the slice is over */
    H743_IDLE,       /* the firmware polls with nothing to do (ended early) */
    H743_RESET,      /* the firmware asked for a system reset; the chip restarted */
    H743_HALTED,     /* lockup or an unmodelled access: h743_halt_reason() */
    H743_POWER_LOST, /* the flash lost power (an injected cut): power off */
} h743_event_t;

h743_t *h743_new(const h743_config_t *cfg);
void h743_free(h743_t *h);
/* Power on (cold boot); false when the core cannot be built. */
bool h743_power_on(h743_t *h);
void h743_power_off(h743_t *h);
bool h743_powered(const h743_t *h);
/* Run the firmware until the virtual clock reaches until_ns or it idles. */
h743_event_t h743_run(h743_t *h, uint64_t until_ns);
/* When something inside the chip ends that an idle firmware waits for (a
 * flash operation): the caller must not skip time past it without running
 * the chip. 0: nothing pending. */
uint64_t h743_next_event_ns(const h743_t *h);
const char *h743_halt_reason(const h743_t *h);
/* A halt the model caused (it met something it does not model), as opposed
 * to one the firmware caused (a lockup) or the hand-over to ST's ROM. */
bool h743_halt_is_model_gap(const h743_t *h);
/* The firmware handed the chip to ST's ROM bootloader (where the model ends). */
bool h743_halt_is_rom(const h743_t *h);
/* The USB controller, whose host side the bridge drives. */
otg_fs_t *h743_otg(h743_t *h);
/* Where the core executes: the vector table base in use (SCB.VTOR). */
uint32_t h743_vtor(const h743_t *h);
/* Watch every modifying flash operation (sim_flash's power hook, which the
 * chip uses itself): fn is called at each phase of each operation and cuts
 * the power where it returns true. NULL: none. */
void h743_set_flash_observer(h743_t *h, sim_flash_power_hook_t fn, void *user);
/* Read SRAM as the firmware left it (tests: the reset request block). */
bool h743_read_ram(const h743_t *h, uint32_t addr, void *buf, uint32_t len);
uint64_t h743_cycles(const h743_t *h);

#endif
