/*
 * Several native boards in one process (h7dfu-sim --board).
 *
 * The firmware's portable code keeps its state in file-scope variables, one
 * device per program, as on the chip: the device core (core/usb/usbd.c), the
 * DFU and HID classes, the bootloader and demo-app personalities, the ROM
 * model and the simulated controller (sim/usb/dcd_sim.c). Boards in one
 * process take turns with that state: each has a context, a saved copy of
 * it, and the context entered last is the live one. Pointers inside the
 * state point at the same file-scope objects for every board, or at memory
 * of the board itself, so a copy moved back in is whole again.
 *
 * Not thread-safe: the caller runs one board at a time (the bridges beside
 * each other share one lock, sim_usb_bridge_config_t.enter).
 */
#ifndef H7_SIM_BOARD_CTX_H
#define H7_SIM_BOARD_CTX_H

#include <stddef.h>

typedef struct board_ctx board_ctx_t;

/* A context in the state of a program that has just started (all zero). */
board_ctx_t *board_ctx_new(void);
/* Free a context; when it is the live one, the state stays as it is. */
void board_ctx_free(board_ctx_t *c);
/* Make c the live state: the live one is saved to its context first. */
void board_ctx_enter(board_ctx_t *c);

/* ---- the state's parts, one set per source file (sim/board/ctx/) ---- */

typedef struct board_ctx_part {
    void *addr;
    size_t len;
} board_ctx_part_t;

#define BOARD_CTX_MAX_PARTS 4

size_t board_ctx_parts_usbd(board_ctx_part_t *out);
size_t board_ctx_parts_dfu(board_ctx_part_t *out);
size_t board_ctx_parts_hid(board_ctx_part_t *out);
size_t board_ctx_parts_bootloader(board_ctx_part_t *out);
size_t board_ctx_parts_demo_app(board_ctx_part_t *out);
size_t board_ctx_parts_rom(board_ctx_part_t *out);
size_t board_ctx_parts_dcd_sim(board_ctx_part_t *out);

#endif
