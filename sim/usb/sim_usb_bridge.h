/*
 * The virtual board on the host's USB, for unmodified libusb programs: a
 * umockdev testbed serves the board as /sys/bus/usb/devices/1-1 (BUS-PORT) and
 * /dev/bus/usb/001/NNN, and this bridge answers the usbfs ioctls a program
 * issues on that node by driving the simulated controller (dcd_sim.h).
 *
 * The bridge plays the kernel's part only: enumeration as a hub driver does it
 * (bus reset, descriptors, SET_ADDRESS with a fresh device number,
 * SET_CONFIGURATION), sysfs attributes, and the usbfs requests. The board
 * (device core, class drivers, flash) stays behind dcd.h; the bridge runs it by
 * calling the board's main-loop step. See sim/usb/README.md for the usbfs
 * behaviour that umockdev cannot carry and how it is handled here.
 */
#ifndef H7_SIM_USB_BRIDGE_H
#define H7_SIM_USB_BRIDGE_H

#include <stdbool.h>
#include <stdint.h>

#include "sim_clock.h"

typedef struct sim_usb_bridge sim_usb_bridge_t;

/* The device end of the cable, as a host controller sees it: dcd_sim.h's
 * dcd_sim_host_* functions (the native board), or the emulated chip's OTG_FS
 * model (sim/mcu/otg_fs.h). Same semantics as dcd_sim.h. */
typedef struct sim_usb_device_ops {
    bool (*connected)(void *dev);
    unsigned (*connect_epoch)(void *dev);
    void (*bus_reset)(void *dev);
    uint8_t (*address)(void *dev);
    int (*control_start)(void *dev, const uint8_t setup[8], uint8_t *data);
    int (*control_result)(void *dev, uint16_t *actual);
    void (*control_cancel)(void *dev);
} sim_usb_device_ops_t;

typedef struct sim_usb_bridge_config {
    /* One pass of the board's main loop; must end up calling dcd_poll(). */
    void (*step)(void *user);
    void *user;
    /* The device's controller; NULL: dcd_sim (dev is then unused). */
    const sim_usb_device_ops_t *dev_ops;
    void *dev;
    uint8_t busnum;       /* 0 = 1 */
    uint8_t port;         /* root port on that bus, 0 = 1: sysfs name BUS-PORT */
    uint8_t first_devnum; /* 0 = 2 (1 is the root hub on a real bus) */
    bool verbose;         /* log enumeration and every usbfs request on stderr */
    /* Timing (usb_timing.h): every control transfer is charged on clock (NULL:
     * no timing). The host is modelled as DFU 1.1 6.1.2 asks: after a
     * GETSTATUS answer it sends nothing before bwPollTimeout has passed. */
    sim_clock_t *clock;
    /* The device reports times divided by this (h7dfu-sim --fast, --realtime):
     * a reported millisecond is time_div virtual milliseconds. 0 = 1. */
    unsigned time_div;
    /* The host is shown bwPollTimeout divided by this (the emulated chip
     * with --fast: its firmware reports the real times). 0 = 1. */
    unsigned host_poll_div;
    /* The device's steps advance the clock (the emulated chip): it is
     * stepped while the host waits out a bwPollTimeout. */
    bool device_runs_on_clock;
    /* When an idle device next has work of its own (a flash operation
     * ends), 0: none; the wait moves there and steps it again rather than
     * skipping to its end. May be NULL. */
    uint64_t (*next_event_ns)(void *user);
    /* > 0: virtual time passes at realtime x wall-clock time; the host's own
     * waits are then real and USB transfers take (scaled) real time. */
    double realtime;
    /* NULL, or a bridge whose testbed this device joins, on a bus of its own
     * or on another port (busnum or port differs): that bridge's
     * sim_usb_bridge_run() brings all onto the bus and serves them. Device
     * numbers on a bus are shared out among them, and they share one lock,
     * so their devices never run at the same time. Free this one before it. */
    struct sim_usb_bridge *beside;
    /* Called with the lock held before the bridge touches the device (its
     * step, its controller): devices that share state (several native boards
     * in one process, sim/board/board_ctx.h) make theirs the current one.
     * May be NULL. */
    void (*enter)(void *user);
} sim_usb_bridge_config_t;

typedef struct sim_usb_bridge_stats {
    unsigned enumerations; /* devices added to the testbed */
    unsigned urbs;         /* control URBs completed */
    unsigned resets;       /* USBDEVFS_RESET requests */
    uint8_t devnum;        /* device number now (0: not on the bus) */
    uint64_t usb_ns;       /* virtual time the bus carried control transfers */
    uint64_t host_wait_ns; /* virtual time the host waited for bwPollTimeout */
} sim_usb_bridge_stats_t;

/* Create the testbed (sets UMOCKDEV_DIR in this process), or join the one of
 * cfg->beside. NULL on failure. */
sim_usb_bridge_t *sim_usb_bridge_new(const sim_usb_bridge_config_t *cfg);
/*
 * Run argv (argv[0] searched in PATH) under umockdev's preload library with the
 * board attached, serving it until the command exits. Returns the command's
 * exit status (128 + signal when killed), or -1 when it could not be started.
 */
int sim_usb_bridge_run(sim_usb_bridge_t *b, char *const argv[]);
void sim_usb_bridge_get_stats(const sim_usb_bridge_t *b, sim_usb_bridge_stats_t *st);
void sim_usb_bridge_free(sim_usb_bridge_t *b);

#endif
