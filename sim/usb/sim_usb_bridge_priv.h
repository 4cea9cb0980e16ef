/*
 * The bridge's shared state, private to its own files (sim_usb_bridge*.c);
 * everyone else uses sim_usb_bridge.h. umockdev delivers every ioctl of the
 * preloaded programs in its own thread while the board's timer runs in the
 * caller's main loop: every function declared here expects the bridge lock
 * (bridge_lock()) held, unless it says otherwise.
 *
 *   sim_usb_bridge.c         lifecycle and main loop (public functions)
 *   sim_usb_bridge_urb.c     URB queue and EP0 pump
 *   sim_usb_bridge_timing.c  USB bus and host timing on the virtual clock
 *   sim_usb_bridge_enum.c    enumeration, sysfs and the testbed's nodes
 *   sim_usb_bridge_peer.c    which programs are still there (umockdev gap)
 *   sim_usb_bridge_ioctl.c   usbfs ioctls: the table, claims
 */
#ifndef H7_SIM_USB_BRIDGE_PRIV_H
#define H7_SIM_USB_BRIDGE_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <umockdev.h>

#include "sim_usb_bridge.h"

/* Board steps one pump may run before it leaves the rest to the timer. */
#define PUMP_STEPS 20000
/* Steps a request of the bridge's own (enumeration) may take. */
#define SYNC_STEPS 200000
/* Steps the board may take to come onto the bus before the program starts. */
#define START_STEPS 5000
#define DESC_MAX    4096
/* Ticks (1 ms) between two looks for programs that have died. */
#define SWEEP_TICKS 10

/* A program's open node as umockdev shows it (one socket connection per
 * open()), with our end of that socket: umockdev tells neither when a program
 * dies with a request in flight (see sim_usb_bridge_peer.c). */
typedef struct peer {
    UMockdevIoctlClient *client; /* ref */
    int fd;                      /* our end of its socket, -1: not found */
    ino_t ino;                   /* that socket's inode (fd numbers are reused) */
    bool gone;                   /* closed or dead: claims and URBs dropped */
} peer_t;

typedef struct urb {
    UMockdevIoctlClient *client;
    UMockdevIoctlData *urb;
    UMockdevIoctlData *buf;
} urb_t;

struct sim_usb_bridge {
    sim_usb_bridge_config_t cfg;
    const sim_usb_device_ops_t *dev_ops;
    UMockdevTestbed *tb;
    UMockdevIoctlBase *handler;
    GMainLoop *loop;
    guint tick;
    /* umockdev calls the ioctl handler from its own thread while the tick
     * runs in ours: the board, dcd_sim and everything below are under this
     * lock. Bridges beside each other share the first one's (lk): the boards
     * behind them may share state (cfg.enter). */
    GMutex lock;
    GMutex *lk;

    /* bridges beside this one on the same testbed (cfg.beside), run with it;
     * root: the first of them (this one when alone) */
    sim_usb_bridge_t *neighbour;
    sim_usb_bridge_t *root;
    /* root only: the next device number to try on each bus, as the kernel
     * hands them out per bus (0: 2) */
    uint8_t bus_next[256];

    /* the device as the "kernel" sees it: cfg.port of its bus */
    char port[8];
    bool present;
    unsigned epoch_seen;
    uint8_t devnum;
    char devnode[64];
    char syspath[128];
    uint8_t desc[DESC_MAX];
    size_t desc_len;
    uint8_t config; /* bConfigurationValue, 0 = unconfigured */
    UMockdevIoctlClient *claim[32];
    GPtrArray *peers;    /* peer_t*, every program connected to a node */
    GPtrArray *attached; /* char*, device nodes with our ioctl socket */
    char sock_dir[256];  /* testbed root + "/": where umockdev's sockets live */
    unsigned sweep;      /* ticks since the last liveness sweep */

    GQueue pending; /* urb_t*, waiting for EP0 */
    urb_t *active;  /* on EP0 now */
    GQueue done;    /* urb_t*, reapable */

    /* timing: the host's earliest next request (bwPollTimeout), and the
     * wall/virtual origins of --realtime */
    uint64_t host_ready_ns;
    uint64_t wall0_ns, virt0_ns;

    int child_status;
    bool child_done;
    sim_usb_bridge_stats_t st;
};

/* The device end (sim_usb_device_ops_t): dcd_sim unless the config names one. */
#define DEV(b, fn, ...) ((b)->dev_ops->fn((b)->cfg.dev, ##__VA_ARGS__))

#define LOG(b, ...)                                                                                \
    do {                                                                                           \
        if ((b)->cfg.verbose)                                                                      \
            fprintf(stderr, "h7dfu-sim: " __VA_ARGS__);                                            \
    } while (0)

/* ---- sim_usb_bridge.c: lifecycle and main loop ------------------------- */

/* Take the (shared) lock and make this bridge's device the current one. */
void bridge_lock(sim_usb_bridge_t *b);
void bridge_unlock(sim_usb_bridge_t *b);

/* ---- sim_usb_bridge_urb.c: URB queue and EP0 pump ---------------------- */

void bridge_urb_free(urb_t *u);
/* Every URB on EP0 or waiting for it completes with status. */
void bridge_fail_all_urbs(sim_usb_bridge_t *b, int status);
/* Drop the URBs of client c without completing them (one on EP0 is
 * cancelled); returns how many. */
unsigned bridge_urbs_drop(sim_usb_bridge_t *b, const UMockdevIoctlClient *c);
/* Move EP0 along for up to steps board steps. */
void bridge_pump(sim_usb_bridge_t *b, int steps);
/* A control request of the bridge's own, run to the end: 0 or a negative
 * errno. */
int bridge_control_sync(sim_usb_bridge_t *b, uint8_t rt, uint8_t req, uint16_t val, uint16_t idx,
                        uint8_t *data, uint16_t len, uint16_t *actual);
/* USBDEVFS_SUBMITURB, USBDEVFS_REAPURB(NDELAY), USBDEVFS_DISCARDURB from
 * client c: 0 or the errno for the program. */
int bridge_urb_submit(sim_usb_bridge_t *b, UMockdevIoctlClient *c);
int bridge_urb_reap(sim_usb_bridge_t *b, UMockdevIoctlClient *c);
int bridge_urb_discard(sim_usb_bridge_t *b, UMockdevIoctlClient *c);

/* ---- sim_usb_bridge_timing.c: timing (usb_timing.h) -------------------- */

/* CLOCK_MONOTONIC in ns (no lock needed). */
uint64_t bridge_wall_ns(void);
/* A control transfer with this setup starts now: the host's waits first,
 * then the bus time of its stages. */
void bridge_timing_start(sim_usb_bridge_t *b, const uint8_t setup[8]);
/* The transfer is over (r: its result): a DFU GETSTATUS answer sets when the
 * host may speak again. */
void bridge_timing_end(sim_usb_bridge_t *b, const uint8_t setup[8], const uint8_t *data, int r,
                       unsigned actual);
/* The host sees a GETSTATUS answer's bwPollTimeout divided by
 * cfg.host_poll_div (rewritten in data). */
void bridge_host_poll_scale(sim_usb_bridge_t *b, const uint8_t setup[8], uint8_t *data, int r,
                            unsigned actual);

/* ---- sim_usb_bridge_enum.c: enumeration, sysfs, testbed nodes ---------- */

/* Follow the board's pull-up: add or remove the device as it connects. */
void bridge_sync_presence(sim_usb_bridge_t *b);
/* The device leaves the testbed (no-op when it is not there). */
void bridge_device_remove(sim_usb_bridge_t *b);
/* USBDEVFS_RESET: 0, or ENODEV when the device came back as a new one. */
int bridge_port_reset(sim_usb_bridge_t *b);
/* sysfs bConfigurationValue follows b->config. */
void bridge_set_config_attr(sim_usb_bridge_t *b);
/* Detach every ioctl socket this bridge attached (when it is freed). */
void bridge_node_detach_all(sim_usb_bridge_t *b);

/* ---- sim_usb_bridge_peer.c: peer liveness ------------------------------ */

peer_t *bridge_peer_of(const sim_usb_bridge_t *b, const UMockdevIoctlClient *c);
/* Whether client c's program is still there; releases what it held if not. */
bool bridge_client_alive(sim_usb_bridge_t *b, UMockdevIoctlClient *c);
/* Drop what dead programs held; forget programs umockdev has closed. */
void bridge_peers_sweep(sim_usb_bridge_t *b);
/* Let go of every peer (when the bridge is freed). */
void bridge_peers_free(sim_usb_bridge_t *b);
/* umockdev's "client-connected" and "client-vanished" signals (they take
 * the lock themselves). */
void bridge_on_client_connected(UMockdevIoctlBase *h, UMockdevIoctlClient *c, gpointer user);
void bridge_on_client_vanished(UMockdevIoctlBase *h, UMockdevIoctlClient *c, gpointer user);

/* ---- sim_usb_bridge_ioctl.c: usbfs ioctls, claims ---------------------- */

/* Interface itf is claimed by c (NULL: released). */
void bridge_claim_set(sim_usb_bridge_t *b, unsigned itf, UMockdevIoctlClient *c);
void bridge_claims_clear(sim_usb_bridge_t *b);
/* umockdev's "handle-ioctl" signal (takes the lock itself). */
gboolean bridge_on_ioctl(UMockdevIoctlBase *h, UMockdevIoctlClient *c, gpointer user);

#endif
