/*
 * h7dfu-sim --board: several virtual boards on one virtual bus.
 *
 * Each --board SPEC is a board of its own: flash file, serial number,
 * personality (h7dfu bootloader, ST's ROM, emulated firmware), faults and
 * virtual clock. Board k (from 1, in the order given) is on bus 1, root port
 * k: sysfs name 1-k, libusb port number k. All boards' bridges join one
 * umockdev testbed and share one lock; the native boards take turns with the
 * firmware's state (board_ctx.h). Each board plugs and unplugs on its own,
 * with add/remove uevents for hotplug listeners.
 *
 * SPEC: serial=S[,flash=FILE][,rom][,boot0][,firmware=ELF][,install=FILE]
 *       [,bootloader=FILE][,power-cut=N[:before|during|after]]
 *       [,unplug=N][,power-off-ms=MS][,unplug-ms=MS][,rom-app-naive]
 */
#ifndef H7_SIM_MULTI_H
#define H7_SIM_MULTI_H

#include <stdbool.h>
#include <stddef.h>

#include "sim_flash.h"

#define MULTI_MAX_BOARDS 32

typedef struct multi_opts {
    bool fast;                      /* --fast, for every board */
    bool verbose;                   /* -v */
    bool events;                    /* --events: board events, each line with its serial */
    const sim_flash_times_t *times; /* --flash-times */
    unsigned power_off_ms;          /* --power-off-ms: default of the boards (0: the board's) */
    unsigned unplug_ms;             /* --unplug-ms: likewise */
    const char *stats_file;         /* --stats: one JSON object per board and line; NULL */
} multi_opts_t;

/*
 * Run argv (as sim_usb_bridge_run) with the boards of specs[0..n) on the bus.
 * Returns the exit status for h7dfu-sim: the command's, 2 for a bad SPEC
 * (message on stderr), 66 for an unreadable file, 70 when a board cannot
 * start, 74 when saving fails.
 */
int multi_run(const char *const *specs, size_t n, const multi_opts_t *o, char *const argv[]);

#endif
