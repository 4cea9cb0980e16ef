/*
 * The virtual STM32H743 board: flash (sim/flash), the USB controller
 * (sim/usb/dcd_sim), a RAM request block, and the two firmware personalities
 * compiled from the same portable sources as the real images
 * (firmware/bootloader/bootloader.h, firmware/demo-app/demo_app.h).
 *
 * Every power-on and every system reset runs bootloader_decide() on the
 * board's RAM request block, exactly as step 1 of the start-up flow in
 * core/boot/boot.h: the block is kept across a system reset and holds garbage
 * after a power loss. The decision picks the personality:
 *   BOOT_STAY_IN_DFU  -> the bootloader (DfuSe, 0483:df11)
 *   BOOT_START_APP    -> the demo application (HID + DFU run-time, 0483:5750)
 * The sim cannot execute the ARM code in the slot: "starting the application"
 * means running the demo app's portable USB code, which reports the version
 * from the image header that the bootloader just validated. So the sim models
 * the application by its header (version) and the demo app's USB behaviour.
 *
 * Faults for tests and the demo: a power cut at the Nth flash operation, and
 * an unplug (cable out = bus-powered board off) after N USB requests. Both
 * make the device vanish, then power it up again after a delay with the RAM
 * garbage and the boot decision run afresh.
 */
#ifndef H7_SIM_BOARD_H
#define H7_SIM_BOARD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "boot.h"
#include "sim_flash.h"

typedef struct board board_t;

typedef enum board_mode {
    BOARD_MODE_OFF = 0,    /* unpowered, or in reset */
    BOARD_MODE_BOOTLOADER, /* DFU mode */
    BOARD_MODE_APP,        /* the demo application */
    /* ROM boards (cfg.rom, sim/board/rom.h): */
    BOARD_MODE_ROM,  /* ST's system-memory bootloader in DFU mode */
    BOARD_MODE_HUNG, /* running, but nothing on USB until power is cycled */
} board_mode_t;

struct sim_usb_device_ops;

typedef struct board_config {
    const char *serial; /* USB serial number of both personalities */
    bool fast;          /* tiny bwPollTimeout and reset delays */
    unsigned poll_div;  /* bootloader's times divided by this (--realtime=S); 0 = 1 */
    FILE *events;       /* board events (power, resets, boot decisions), NULL: none */
    /* Power cut at flash operation number power_cut_op (1-based, counted from
     * board_new()), in power_cut_phase; 0: none. */
    uint64_t power_cut_op;
    sim_flash_phase_t power_cut_phase;
    unsigned unplug_after_requests; /* unplug once this many requests were served; 0: none */
    /* Wrong data reported as written: flash operation flip_op (a program,
     * counted like power_cut_op) leaves a bit inverted, flip_delay
     * operations later (sim_flash_flip_after); 0: none. */
    uint64_t flip_op;
    uint64_t flip_delay;
    unsigned power_off_ms; /* off time after a power cut; 0: 200 */
    unsigned unplug_ms;    /* time out of the socket after an unplug; 0: 500 */
    /* ROM board: no h7dfu bootloader; the chip boots from BOOT_ADD0/1 of the
     * option bytes (BOOT0 pin low/high) into the application at 0x08000000 or
     * ST's ROM bootloader (rom.h). */
    bool rom;
    bool locked;             /* the bootloader's locked configuration: no memory UPLOAD (dfu.h) */
    bool boot0;              /* BOOT0 pin high: BOOT_ADD1 (factory: the ROM) */
    bool rom_app_naive;      /* the app does not cope with the ROM's leave (no reset) */
    uint32_t rom_fail_block; /* inject a failure at this data block (1 = first); 0: none */
    uint8_t rom_fail_status; /* its DFU status; 0: errWRITE */
    const uint8_t *option_bytes; /* initial ROM_OB_SIZE bytes; NULL: factory state */
    /* Emulated chip (sim/mcu/h743.h): the firmware in the flash runs on an
     * emulated Cortex-M7 instead of the portable personalities. firmware
     * names the bootloader ELF (its symbols for messages; it must already be
     * in the flash), app_elf optionally the application's. The USB serial
     * number is then the one the firmware derives from the chip's unique ID,
     * which is taken from serial when that is 24 hex digits (else a hash). */
    const char *firmware;
    const char *app_elf;
    sim_clock_t *clock;      /* required with firmware */
    bool no_usb_supply;      /* firmware: the board's VDD33USB is missing (a fault) */
    uint64_t flash_stuck_op; /* firmware: the controller's n-th operation never ends */
} board_config_t;

typedef struct board_stats {
    unsigned power_ons;     /* cold boots, the first one included */
    unsigned system_resets; /* resets asked for by the firmware */
    unsigned app_starts;    /* boots that chose the application */
    unsigned dfu_starts;    /* boots that chose the bootloader */
    unsigned power_cuts;    /* --power-cut that happened */
    unsigned unplugs;       /* --unplug-after-requests that happened */
    unsigned rom_starts;    /* boots into ST's ROM bootloader */
    unsigned rom_jumps;     /* ROM leaves: application started by a jump */
} board_stats_t;

/* A board around flash (borrowed, not owned), powered off. NULL on bad cfg. */
board_t *board_new(const board_config_t *cfg, sim_flash_t *flash);
void board_free(board_t *b);

/* Plug in: a cold boot now. false when a personality fails to build. */
bool board_power_on(board_t *b);
/* One pass of the board's main loop (sim_usb_bridge step callback). */
void board_step(void *user);
/* When the emulated chip next ends work of its own (a flash operation): for
 * the bridge's waits (sim_usb_bridge_config_t.next_event_ns). 0: none. */
uint64_t board_next_event_ns(void *user);
/* Where the requests served so far are counted from (for the unplug fault):
 * count(user) returns the number of USB requests completed. */
void board_set_request_counter(board_t *b, unsigned (*count)(void *user), void *user);

board_mode_t board_mode(const board_t *b);
const char *board_mode_name(board_mode_t m);
void board_get_stats(const board_t *b, board_stats_t *st);
/* The RAM request block (tests: what survives a reset). */
volatile boot_request_block_t *board_request_block(board_t *b);
/* Emulated chip: the USB controller's host side for the bridge (ops, dev),
 * and whether the simulation itself failed (the firmware touched something
 * the chip model does not model). NULL / false on other boards. */
const struct sim_usb_device_ops *board_usb_ops(board_t *b, void **dev);
bool board_sim_failed(const board_t *b);
/* ROM board: the option bytes (ROM_OB_SIZE bytes at 0x5200201C), to save. */
const uint8_t *board_option_bytes(const board_t *b);

#endif
