/*
 * usbfs <-> dcd_sim translation over a umockdev testbed (see sim_usb_bridge.h
 * and README.md). umockdev delivers every ioctl of the preloaded programs to
 * handle_ioctl() in its own thread; the board's timer runs in the caller's
 * main loop; one mutex covers both.
 */
#include "sim_usb_bridge.h"
#include "sim_uevent.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/usb/ch9.h>
#include <linux/usbdevice_fs.h>
#include <umockdev.h>

#include "dcd_sim.h"
#include "usb_timing.h"

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
 * dies with a request in flight (see client_alive()). */
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
    /* umockdev calls handle_ioctl() from its own thread while the tick runs
     * in ours: the board, dcd_sim and everything below are under this lock.
     * Bridges beside each other share the first one's (lk): the boards
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

/* Take the (shared) lock and make this bridge's device the current one. */
static void bridge_lock(sim_usb_bridge_t *b)
{
    g_mutex_lock(b->lk);
    if (b->cfg.enter)
        b->cfg.enter(b->cfg.user);
}

static void bridge_unlock(sim_usb_bridge_t *b)
{
    g_mutex_unlock(b->lk);
}

static bool dcd_connected(void *dev)
{
    (void)dev;
    return dcd_sim_host_connected();
}
static unsigned dcd_epoch(void *dev)
{
    (void)dev;
    return dcd_sim_host_connect_epoch();
}
static void dcd_bus_reset(void *dev)
{
    (void)dev;
    dcd_sim_host_bus_reset();
}
static uint8_t dcd_address(void *dev)
{
    (void)dev;
    return dcd_sim_host_address();
}
static int dcd_control_start(void *dev, const uint8_t setup[8], uint8_t *data)
{
    (void)dev;
    return dcd_sim_host_control_start(setup, data);
}
static int dcd_control_result(void *dev, uint16_t *actual)
{
    (void)dev;
    return dcd_sim_host_control_result(actual);
}
static void dcd_control_cancel(void *dev)
{
    (void)dev;
    dcd_sim_host_control_cancel();
}
static const sim_usb_device_ops_t dcd_sim_ops = {
    .connected = dcd_connected,
    .connect_epoch = dcd_epoch,
    .bus_reset = dcd_bus_reset,
    .address = dcd_address,
    .control_start = dcd_control_start,
    .control_result = dcd_control_result,
    .control_cancel = dcd_control_cancel,
};

#define LOG(b, ...)                                                                                \
    do {                                                                                           \
        if ((b)->cfg.verbose)                                                                      \
            fprintf(stderr, "h7dfu-sim: " __VA_ARGS__);                                            \
    } while (0)

static void claims_clear(sim_usb_bridge_t *b);

/* ---- URBs ------------------------------------------------------------- */

static void urb_free(urb_t *u)
{
    g_object_unref(u->client);
    g_object_unref(u->urb);
    if (u->buf)
        g_object_unref(u->buf);
    g_free(u);
}

static struct usbdevfs_urb *urb_of(urb_t *u)
{
    return (struct usbdevfs_urb *)u->urb->data;
}

/* The URB is over: its status and length go back to the program when it
 * reaps it (the buffer was resolved, so the IN data goes back too). */
static void urb_finish(sim_usb_bridge_t *b, urb_t *u, int status, unsigned actual)
{
    struct usbdevfs_urb *k = urb_of(u);
    k->status = status;
    k->actual_length = (int)actual;
    g_queue_push_tail(&b->done, u);
    b->st.urbs++;
}

static void fail_all_urbs(sim_usb_bridge_t *b, int status)
{
    if (b->active) {
        DEV(b, control_cancel);
        urb_finish(b, b->active, status, 0);
        b->active = NULL;
    }
    urb_t *u;
    while ((u = g_queue_pop_head(&b->pending)) != NULL)
        urb_finish(b, u, status, 0);
}

/* ---- timing (usb_timing.h) -------------------------------------------- */

static uint64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A control transfer with this setup starts now: the host's waits first,
 * then the bus time of its stages. */
/* The host waits until t (bwPollTimeout). A device whose steps run on the
 * clock (the emulated chip: its firmware does its flash work in its main
 * loop, instruction by instruction) keeps running through the wait, as on a
 * real bus; once a step passes less than a microsecond it only polls, and the
 * rest is waited out. Other boards are simply waited for. */
/* Time passes until t; a device that runs on the clock (the emulated chip)
 * runs meanwhile: its flash work goes on while the host waits and while
 * the bus carries a transfer. */
static void device_runs_until(sim_usb_bridge_t *b, uint64_t t)
{
    sim_clock_t *c = b->cfg.clock;
    while (b->cfg.device_runs_on_clock && sim_clock_now_ns(c) < t) {
        uint64_t before = sim_clock_now_ns(c);
        b->cfg.step(b->cfg.user);
        if (sim_clock_now_ns(c) - before >= SIM_NS_PER_US)
            continue;
        /* idle: on to its next event of its own, or the end of the wait */
        uint64_t e = b->cfg.next_event_ns ? b->cfg.next_event_ns(b->cfg.user) : 0;
        if (e <= sim_clock_now_ns(c) || e >= t)
            break;
        sim_clock_wait_until(c, e);
    }
}

static void host_wait_until(sim_usb_bridge_t *b, uint64_t t)
{
    device_runs_until(b, t);
    sim_clock_wait_until(b->cfg.clock, t);
}

static void timing_start(sim_usb_bridge_t *b, const uint8_t setup[8])
{
    sim_clock_t *c = b->cfg.clock;
    if (c == NULL)
        return;
    uint64_t t0 = sim_clock_now_ns(c);
    if (b->cfg.realtime > 0) {
        /* the host's real waits (and its own work) are virtual time too */
        uint64_t w = wall_ns() - b->wall0_ns;
        sim_clock_wait_until(c, b->virt0_ns + (uint64_t)((double)w * b->cfg.realtime));
    } else {
        host_wait_until(b, b->host_ready_ns);
    }
    b->st.host_wait_ns += sim_clock_now_ns(c) - t0;
    uint64_t start = sim_clock_now_ns(c);
    unsigned wlen = (unsigned)(setup[6] | (setup[7] << 8));
    uint64_t end = usb_fs_control_end_ns(start, wlen);
    device_runs_until(b, end);
    if (sim_clock_now_ns(c) < end)
        sim_clock_bus_advance(c, end - sim_clock_now_ns(c));
    b->st.usb_ns += end - start;
    if (b->cfg.realtime > 0) {
        /* the program feels the transfer: its ioctl returns when it is over */
        uint64_t due = b->wall0_ns + (uint64_t)((double)(end - b->virt0_ns) / b->cfg.realtime);
        uint64_t w = wall_ns();
        if (due > w) {
            struct timespec ts = {(time_t)((due - w) / 1000000000ull),
                                  (long)((due - w) % 1000000000ull)};
            nanosleep(&ts, NULL);
        }
    }
}

/* The transfer is over: a DFU GETSTATUS answer (DFU 1.1 6.1.2) sets when the
 * host may speak again. */
static void timing_end(sim_usb_bridge_t *b, const uint8_t setup[8], const uint8_t *data, int r,
                       unsigned actual)
{
    sim_clock_t *c = b->cfg.clock;
    if (c == NULL || b->cfg.realtime > 0)
        return;
    b->host_ready_ns = 0;
    if (r == 0 && setup[0] == 0xa1 && setup[1] == 3 && actual >= 6 && data != NULL) {
        uint64_t poll = (uint64_t)data[1] | ((uint64_t)data[2] << 8) | ((uint64_t)data[3] << 16);
        unsigned div = b->cfg.time_div ? b->cfg.time_div : 1u;
        b->host_ready_ns = sim_clock_now_ns(c) + poll * div * 1000000ull;
    }
}

/* --fast on the emulated chip: the host sees the device's bwPollTimeout
 * divided (the virtual clock charged the full one in timing_end()). */
static void host_poll_scale(sim_usb_bridge_t *b, const uint8_t setup[8], uint8_t *data, int r,
                            unsigned actual)
{
    unsigned div = b->cfg.host_poll_div;
    if (div <= 1 || r != 0 || setup[0] != 0xa1 || setup[1] != 3 || actual < 6)
        return;
    uint32_t poll = (uint32_t)data[1] | ((uint32_t)data[2] << 8) | ((uint32_t)data[3] << 16);
    poll = poll ? (poll + div - 1u) / div : 0u;
    data[1] = (uint8_t)poll;
    data[2] = (uint8_t)(poll >> 8);
    data[3] = (uint8_t)(poll >> 16);
}

/* Move EP0 along: start the next URB, step the board, collect results. */
static void pump(sim_usb_bridge_t *b, int steps)
{
    for (int i = 0; i < steps; i++) {
        if (!b->active) {
            urb_t *u = g_queue_pop_head(&b->pending);
            if (!u)
                return;
            /* The host waits out bwPollTimeout (and the bus carries the
             * request) before the device sees it: an answer that depends on
             * the device's time is the one of the moment it is asked. */
            timing_start(b, u->buf->data);
            int r = DEV(b, control_start, u->buf->data, u->buf->data + 8);
            if (r != 0) {
                urb_finish(b, u, r == -ENODEV ? -ESHUTDOWN : r, 0);
                continue;
            }
            b->active = u;
        }
        b->cfg.step(b->cfg.user);
        uint16_t actual = 0;
        int r = DEV(b, control_result, &actual);
        if (r == DCD_SIM_PENDING)
            continue;
        urb_t *u = b->active;
        b->active = NULL;
        const uint8_t *setup = u->buf->data;
        timing_end(b, setup, u->buf->data + 8, r, actual);
        host_poll_scale(b, setup, u->buf->data + 8, r, actual);
        /* Keep sysfs right when a program configures through a raw URB. */
        if (r == 0 && setup[0] == 0x00 && setup[1] == USB_REQ_SET_CONFIGURATION)
            b->config = setup[2];
        urb_finish(b, u, r == -ENODEV ? -ESHUTDOWN : r, actual);
    }
}

/* A control request of the bridge's own, run to the end. */
static int control_sync(sim_usb_bridge_t *b, uint8_t rt, uint8_t req, uint16_t val, uint16_t idx,
                        uint8_t *data, uint16_t len, uint16_t *actual)
{
    /* Let the programs' URBs go first: EP0 carries one transfer at a time. */
    for (int i = 0; i < SYNC_STEPS && (b->active || b->pending.length); i++)
        pump(b, 1);
    if (b->active || b->pending.length)
        return -ETIMEDOUT;
    uint8_t setup[8] = {rt,           req,
                        (uint8_t)val, (uint8_t)(val >> 8),
                        (uint8_t)idx, (uint8_t)(idx >> 8),
                        (uint8_t)len, (uint8_t)(len >> 8)};
    timing_start(b, setup);
    int r = DEV(b, control_start, setup, data);
    if (r != 0)
        return r;
    uint16_t got = 0;
    for (int i = 0; i < SYNC_STEPS; i++) {
        b->cfg.step(b->cfg.user);
        r = DEV(b, control_result, &got);
        if (r != DCD_SIM_PENDING) {
            if (actual)
                *actual = got;
            return r;
        }
    }
    DEV(b, control_cancel);
    return -ETIMEDOUT;
}

/* ---- enumeration (the hub driver's job) -------------------------------- */

static void string_ascii(const uint8_t *d, uint16_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (uint16_t i = 2; i + 1 < n && i < d[0] && o + 1 < cap; i += 2) {
        uint16_t c = (uint16_t)(d[i] | (d[i + 1] << 8));
        /* sysfs text goes through umockdev's escaped format: plain ASCII only */
        out[o++] = (c >= 0x20 && c < 0x7f && c != '\\') ? (char)c : '?';
    }
    out[o] = '\0';
}

static void get_string(sim_usb_bridge_t *b, uint8_t index, uint16_t lang, char *out, size_t cap)
{
    uint8_t d[255];
    uint16_t n = 0;
    out[0] = '\0';
    if (index &&
        control_sync(b, 0x80, USB_REQ_GET_DESCRIPTOR, (uint16_t)(USB_DT_STRING << 8 | index), lang,
                     d, sizeof(d), &n) == 0 &&
        n >= 2 && d[1] == USB_DT_STRING)
        string_ascii(d, n, out, cap);
}

/* Reset, address and configure the board; fills desc. */
static bool enumerate(sim_usb_bridge_t *b, uint8_t devnum, char strs[3][128])
{
    uint8_t dd[64];
    uint16_t n = 0;
    DEV(b, bus_reset);
    b->cfg.step(b->cfg.user);
    /* Like Linux: first a 64-byte read of the device descriptor at address 0. */
    if (control_sync(b, 0x80, USB_REQ_GET_DESCRIPTOR, USB_DT_DEVICE << 8, 0, dd, 64, &n) != 0 ||
        n < 8) {
        fprintf(stderr, "h7dfu-sim: device descriptor read/64, error\n");
        return false;
    }
    if (control_sync(b, 0x00, USB_REQ_SET_ADDRESS, devnum, 0, NULL, 0, NULL) != 0 ||
        DEV(b, address) != devnum) {
        fprintf(stderr, "h7dfu-sim: device not accepting address %u\n", devnum);
        return false;
    }
    if (control_sync(b, 0x80, USB_REQ_GET_DESCRIPTOR, USB_DT_DEVICE << 8, 0, dd, 18, &n) != 0 ||
        n != 18 || dd[0] != 18 || dd[1] != USB_DT_DEVICE) {
        fprintf(stderr, "h7dfu-sim: bad device descriptor\n");
        return false;
    }
    memcpy(b->desc, dd, 18);
    b->desc_len = 18;
    for (uint8_t i = 0; i < dd[17]; i++) {
        uint8_t head[9];
        if (control_sync(b, 0x80, USB_REQ_GET_DESCRIPTOR, (uint16_t)(USB_DT_CONFIG << 8 | i), 0,
                         head, 9, &n) != 0 ||
            n != 9) {
            fprintf(stderr, "h7dfu-sim: cannot read configuration %u\n", i);
            return false;
        }
        uint16_t total = (uint16_t)(head[2] | head[3] << 8);
        if (total < 9 || b->desc_len + total > sizeof(b->desc) ||
            control_sync(b, 0x80, USB_REQ_GET_DESCRIPTOR, (uint16_t)(USB_DT_CONFIG << 8 | i), 0,
                         b->desc + b->desc_len, total, &n) != 0 ||
            n != total) {
            fprintf(stderr, "h7dfu-sim: cannot read configuration %u (%u bytes)\n", i, total);
            return false;
        }
        b->desc_len += total;
    }
    /* Strings for sysfs (manufacturer, product, serial), in the first language. */
    uint8_t langs[4];
    uint16_t lang = 0x0409;
    if (control_sync(b, 0x80, USB_REQ_GET_DESCRIPTOR, USB_DT_STRING << 8, 0, langs, sizeof(langs),
                     &n) == 0 &&
        n >= 4)
        lang = (uint16_t)(langs[2] | langs[3] << 8);
    for (int i = 0; i < 3; i++)
        get_string(b, dd[14 + i], lang, strs[i], sizeof(strs[i]));
    /* The kernel's generic driver picks the first configuration. */
    b->config = 0;
    if (dd[17] > 0) {
        uint8_t value = b->desc[18 + 5];
        if (control_sync(b, 0x00, USB_REQ_SET_CONFIGURATION, value, 0, NULL, 0, NULL) == 0)
            b->config = value;
    }
    return true;
}

static void set_config_attr(sim_usb_bridge_t *b)
{
    char v[8];
    snprintf(v, sizeof(v), "%u\n", b->config);
    umockdev_testbed_set_attribute(b->tb, b->syspath, "bConfigurationValue", b->config ? v : "");
}

/*
 * How a program under umockdev 0.17's preload library reaches the node
 * (libumockdev-preload.c): open() of /dev/... goes to the testbed's file only
 * if that file exists (else to the real /dev: ENOENT); then, for the opened
 * file, it connects to the ioctl socket UMOCKDEV_DIR/ioctl/dev/...: a socket
 * file that is missing means "not emulated" (its ioctls go to a plain file,
 * ENOTTY), one that exists but refuses the connection (or vanishes between
 * the check and the connect) makes it print "Failed to connect to ioctl
 * socket" and exit(1). umockdev's detach_ioctl cancels the accept loop and
 * unlinks the socket while connections may be under way.
 * So, as the kernel does it, a device appears and goes in one step for a
 * program: on add, the ioctl socket is listening before the node exists, and
 * the node exists before sysfs shows the device (enumeration finds nothing it
 * cannot open); on removal, sysfs and the node go first (new opens fail with
 * ENOENT), and the socket stays: a program that opened the node just before
 * is answered ENODEV on every request (the node is not the current one), as
 * the kernel answers a file of a disconnected device. Sockets are detached only
 * when the bridge is freed.
 */
static bool node_attached(const sim_usb_bridge_t *b, const char *devnode)
{
    for (guint i = 0; i < b->attached->len; i++)
        if (strcmp(g_ptr_array_index(b->attached, i), devnode) == 0)
            return true;
    return false;
}

static bool node_attach(sim_usb_bridge_t *b)
{
    if (node_attached(b, b->devnode))
        return true; /* a number used again (after 127): its socket still listens */
    GError *err = NULL;
    if (!umockdev_testbed_attach_ioctl(b->tb, b->devnode, b->handler, &err)) {
        fprintf(stderr, "h7dfu-sim: attach %s: %s\n", b->devnode, err->message);
        g_error_free(err);
        return false;
    }
    g_ptr_array_add(b->attached, g_strdup(b->devnode));
    return true;
}

static void node_detach_all(sim_usb_bridge_t *b)
{
    for (guint i = 0; i < b->attached->len; i++)
        umockdev_testbed_detach_ioctl(b->tb, g_ptr_array_index(b->attached, i), NULL);
    g_ptr_array_set_size(b->attached, 0);
}

/* The node: a plain file holding what reading a usbfs node gives (the device
 * descriptor, then every configuration descriptor set; Linux
 * drivers/usb/core/devio.c usbdev_read). libusb reads it when a program hands
 * it an open node (libusb_wrap_sys_device, as fwupd does); the ioctls go to
 * the bridge. */
static bool node_create(sim_usb_bridge_t *b)
{
    gchar *root = umockdev_testbed_get_root_dir(b->tb);
    gchar *node = g_build_filename(root, b->devnode, NULL);
    gchar *dir = g_path_get_dirname(node);
    FILE *f = g_mkdir_with_parents(dir, 0755) == 0 ? fopen(node, "wb") : NULL;
    bool ok = f != NULL && fwrite(b->desc, 1, b->desc_len, f) == b->desc_len;
    ok = f != NULL && fclose(f) == 0 && ok;
    if (!ok)
        fprintf(stderr, "h7dfu-sim: cannot create %s: %s\n", node, g_strerror(errno));
    g_free(dir);
    g_free(node);
    g_free(root);
    return ok;
}

static void node_delete(sim_usb_bridge_t *b)
{
    gchar *root = umockdev_testbed_get_root_dir(b->tb);
    gchar *node = g_build_filename(root, b->devnode, NULL);
    unlink(node);
    g_free(node);
    g_free(root);
}

/* The uevent of the device as it is now (sim_uevent.h): the properties
 * libusb's hotplug reads (DEVNAME, BUSNUM, DEVNUM) and those the kernel adds
 * for a usb_device. */
static void send_uevent(sim_usb_bridge_t *b, const char *action)
{
    const uint8_t *d = b->desc;
    char busnum[8], devnum[8], minor[8], product[32], type[16];
    snprintf(busnum, sizeof(busnum), "%03u", b->cfg.busnum);
    snprintf(devnum, sizeof(devnum), "%03u", b->devnum);
    snprintf(minor, sizeof(minor), "%u", (b->cfg.busnum - 1u) * 128u + b->devnum - 1u);
    snprintf(product, sizeof(product), "%x/%x/%x", d[8] | d[9] << 8, d[10] | d[11] << 8,
             d[12] | d[13] << 8);
    snprintf(type, sizeof(type), "%u/%u/%u", d[4], d[5], d[6]);
    const sim_uevent_prop_t props[] = {
        {"DEVNAME", b->devnode}, {"BUSNUM", busnum},   {"DEVNUM", devnum}, {"MAJOR", "189"},
        {"MINOR", minor},        {"PRODUCT", product}, {"TYPE", type},
    };
    gchar *root = umockdev_testbed_get_root_dir(b->tb);
    /* DEVPATH is below /sys */
    int n = sim_uevent_send(root, action, b->syspath + strlen("/sys"), "usb", "usb_device", props,
                            (int)G_N_ELEMENTS(props));
    LOG(b, "uevent %s %s to %d monitor(s)\n", action, b->syspath, n);
    g_free(root);
}

static void device_remove(sim_usb_bridge_t *b)
{
    if (!b->present)
        return;
    LOG(b, "disconnect %s\n", b->devnode);
    /* Requests from now on (they wait for the lock) find the device gone. */
    b->present = false;
    fail_all_urbs(b, -ESHUTDOWN);
    claims_clear(b);
    /* Enumeration no longer lists it, then new opens fail with ENOENT; the
     * ioctl socket stays (see above). */
    /* As the kernel does, a "remove" uevent tells programs listening to udev
     * (libusb's hotplug, fwupd) before the device goes. */
    send_uevent(b, "remove");
    umockdev_testbed_remove_device(b->tb, b->syspath);
    node_delete(b);
    b->st.devnum = 0;
}

/* Whether another bridge on b's bus has devnum now, or keeps its socket. */
static bool devnum_taken(const sim_usb_bridge_t *b, uint8_t devnum)
{
    char node[64];
    snprintf(node, sizeof(node), "/dev/bus/usb/%03u/%03u", b->cfg.busnum, devnum);
    for (const sim_usb_bridge_t *o = b->root; o; o = o->neighbour)
        if (o != b && o->cfg.busnum == b->cfg.busnum &&
            ((o->present && o->devnum == devnum) || node_attached(o, node)))
            return true;
    return false;
}

/* The next free device number on the bus (2..127, then round again), shared
 * by the devices on it as a hub driver shares them. A number whose socket
 * another device keeps (node_attach()) is skipped; b's own old ones are
 * free, so there is always one. */
static uint8_t pick_devnum(sim_usb_bridge_t *b)
{
    uint8_t *next = &b->root->bus_next[b->cfg.busnum];
    if (*next < 2)
        *next = b->cfg.first_devnum ? b->cfg.first_devnum : 2;
    uint8_t d = *next;
    for (int i = 0; i < 126 && devnum_taken(b, d); i++)
        d = (uint8_t)(d >= 127 ? 2 : d + 1);
    *next = (uint8_t)(d >= 127 ? 2 : d + 1);
    return d;
}

static void device_add(sim_usb_bridge_t *b)
{
    char strs[3][128];
    uint8_t devnum = pick_devnum(b);
    if (!enumerate(b, devnum, strs))
        return;
    b->devnum = devnum;
    const uint8_t *d = b->desc;
    const uint8_t *c = d + 18;
    snprintf(b->devnode, sizeof(b->devnode), "/dev/bus/usb/%03u/%03u", b->cfg.busnum, devnum);

    GString *s = g_string_new(NULL);
    g_string_append_printf(s, "P: /devices/platform/h7dfu-sim/usb%u/%s\n", b->cfg.busnum, b->port);
    g_string_append_printf(s, "E: DEVNAME=%s\nE: DEVTYPE=usb_device\nE: SUBSYSTEM=usb\n",
                           b->devnode);
    g_string_append_printf(s, "E: BUSNUM=%03u\nE: DEVNUM=%03u\nE: MAJOR=189\nE: MINOR=%u\n",
                           b->cfg.busnum, devnum, (b->cfg.busnum - 1u) * 128u + devnum - 1u);
    g_string_append_printf(s, "E: PRODUCT=%x/%x/%x\nE: TYPE=%u/%u/%u\n", d[8] | d[9] << 8,
                           d[10] | d[11] << 8, d[12] | d[13] << 8, d[4], d[5], d[6]);
    /* sysfs attributes end in a newline, as the kernel writes them (tools strip it) */
    g_string_append_printf(s, "A: busnum=%u\\n\nA: devnum=%u\\n\nA: devpath=%u\\n\n", b->cfg.busnum,
                           devnum, b->cfg.port);
    g_string_append_printf(s, "A: idVendor=%04x\\n\nA: idProduct=%04x\\n\nA: bcdDevice=%04x\\n\n",
                           d[8] | d[9] << 8, d[10] | d[11] << 8, d[12] | d[13] << 8);
    g_string_append_printf(s, "A: version=%2x.%02x\\n\nA: speed=12\\n\nA: maxchild=0\\n\n", d[3],
                           d[2]);
    g_string_append_printf(s,
                           "A: bDeviceClass=%02x\\n\nA: bDeviceSubClass=%02x\\n\n"
                           "A: bDeviceProtocol=%02x\\n\nA: bMaxPacketSize0=%u\\n\n"
                           "A: bNumConfigurations=%u\\n\n",
                           d[4], d[5], d[6], d[7], d[17]);
    if (d[17] > 0)
        g_string_append_printf(s, "A: bNumInterfaces=%2u\\n\nA: bmAttributes=%02x\\n\n", c[4],
                               c[7]);
    /* the kernel's generic driver has configured it (enumerate()) */
    if (b->config)
        g_string_append_printf(s, "A: bConfigurationValue=%u\\n\n", b->config);
    static const char *const names[3] = {"manufacturer", "product", "serial"};
    for (int i = 0; i < 3; i++)
        if (strs[i][0])
            g_string_append_printf(s, "A: %s=%s\\n\n", names[i], strs[i]);
    g_string_append(s, "H: descriptors=");
    for (size_t i = 0; i < b->desc_len; i++)
        g_string_append_printf(s, "%02X", b->desc[i]);
    g_string_append_c(s, '\n');

    /* Socket, then node, then sysfs: a program that finds the device can open
     * it, and one that opens it is served (see node_attach()). The requests
     * it sends wait for the lock we hold and then find the device present. */
    GError *err = NULL;
    if (!node_attach(b) || !node_create(b)) {
        g_string_free(s, TRUE);
        return;
    }
    if (!umockdev_testbed_add_from_string(b->tb, s->str, &err)) {
        fprintf(stderr, "h7dfu-sim: testbed: %s\n", err->message);
        g_error_free(err);
        g_string_free(s, TRUE);
        node_delete(b);
        return;
    }
    g_string_free(s, TRUE);
    snprintf(b->syspath, sizeof(b->syspath), "/sys/devices/platform/h7dfu-sim/usb%u/%s",
             b->cfg.busnum, b->port);
    if (!b->config)
        set_config_attr(b); /* unconfigured: an empty attribute */
    b->present = true;
    send_uevent(b, "add");
    b->st.enumerations++;
    b->st.devnum = devnum;
    LOG(b, "connect %s %04x:%04x \"%s\" \"%s\" serial \"%s\"\n", b->devnode, d[8] | d[9] << 8,
        d[10] | d[11] << 8, strs[0], strs[1], strs[2]);
}

/* Follow the board's pull-up: a board that reset itself comes back as a new
 * device with a new number, as behind a real hub. */
static void sync_presence(sim_usb_bridge_t *b)
{
    unsigned epoch = DEV(b, connect_epoch);
    if (epoch == b->epoch_seen)
        return;
    b->epoch_seen = epoch;
    device_remove(b);
    if (DEV(b, connected))
        device_add(b);
}

/* ---- usbfs ------------------------------------------------------------ */

static void *resolve(UMockdevIoctlClient *c, size_t len)
{
    UMockdevIoctlData *arg = umockdev_ioctl_client_get_arg(c);
    GError *err = NULL;
    UMockdevIoctlData *d = umockdev_ioctl_data_resolve(arg, 0, len, &err);
    if (!d) {
        if (err)
            g_error_free(err);
        return NULL;
    }
    return d->data;
}

static int errno_of(int r)
{
    return r == -ETIMEDOUT ? ETIMEDOUT : r == -EPIPE ? EPIPE : r == -ENODEV ? ENODEV : EIO;
}

/* USBDEVFS_CONTROL: a control transfer that blocks until it ends (libusb
 * uses it for GET_CONFIGURATION); returns the bytes moved, or sets *e. */
static int do_control(sim_usb_bridge_t *b, UMockdevIoctlClient *c, int *e)
{
    UMockdevIoctlData *arg = umockdev_ioctl_client_get_arg(c);
    GError *err = NULL;
    UMockdevIoctlData *cd =
        umockdev_ioctl_data_resolve(arg, 0, sizeof(struct usbdevfs_ctrltransfer), &err);
    if (!cd) {
        g_clear_error(&err);
        *e = EFAULT;
        return 0;
    }
    struct usbdevfs_ctrltransfer *ct = (struct usbdevfs_ctrltransfer *)cd->data;
    uint8_t *data = NULL;
    if (ct->wLength) {
        UMockdevIoctlData *dd = umockdev_ioctl_data_resolve(
            cd, offsetof(struct usbdevfs_ctrltransfer, data), ct->wLength, &err);
        if (!dd) {
            g_clear_error(&err);
            *e = EFAULT;
            return 0;
        }
        data = dd->data;
    }
    uint16_t actual = 0;
    int r = control_sync(b, ct->bRequestType, ct->bRequest, ct->wValue, ct->wIndex, data,
                         ct->wLength, &actual);
    *e = r ? errno_of(r) : 0;
    return r ? 0 : actual;
}

static int do_submit(sim_usb_bridge_t *b, UMockdevIoctlClient *c)
{
    UMockdevIoctlData *arg = umockdev_ioctl_client_get_arg(c);
    GError *err = NULL;
    UMockdevIoctlData *ud = umockdev_ioctl_data_resolve(arg, 0, sizeof(struct usbdevfs_urb), &err);
    if (!ud) {
        g_clear_error(&err);
        return EFAULT;
    }
    struct usbdevfs_urb *k = (struct usbdevfs_urb *)ud->data;
    /* Only EP0 control transfers reach the board so far (bootloader: DFU). */
    if (k->type != USBDEVFS_URB_TYPE_CONTROL || (k->endpoint & 0x7f) != 0)
        return ENOENT;
    if (k->buffer_length < 8)
        return EINVAL;
    UMockdevIoctlData *bd = umockdev_ioctl_data_resolve(ud, offsetof(struct usbdevfs_urb, buffer),
                                                        (gsize)k->buffer_length, &err);
    if (!bd) {
        g_clear_error(&err);
        return EFAULT;
    }
    uint16_t wlen = (uint16_t)(bd->data[6] | bd->data[7] << 8);
    if (8u + wlen > (unsigned)k->buffer_length)
        return EINVAL;
    LOG(b, "  SUBMITURB %02x %02x %02x%02x %02x%02x %u\n", bd->data[0], bd->data[1], bd->data[3],
        bd->data[2], bd->data[5], bd->data[4], wlen);
    urb_t *u = g_new0(urb_t, 1);
    u->client = g_object_ref(c);
    u->urb = g_object_ref(ud);
    u->buf = g_object_ref(bd);
    k->status = -EINPROGRESS;
    k->actual_length = 0;
    g_queue_push_tail(&b->pending, u);
    return 0;
}

static int do_reap(sim_usb_bridge_t *b, UMockdevIoctlClient *c)
{
    for (GList *l = b->done.head; l; l = l->next) {
        urb_t *u = l->data;
        if (u->client != c)
            continue;
        UMockdevIoctlData *arg = umockdev_ioctl_client_get_arg(c);
        GError *err = NULL;
        UMockdevIoctlData *p = umockdev_ioctl_data_resolve(arg, 0, sizeof(void *), &err);
        if (!p) {
            g_clear_error(&err);
            return EFAULT;
        }
        /* The program gets back its own URB pointer; the URB and its buffer
         * are written back to its memory as the ioctl completes. */
        umockdev_ioctl_data_set_ptr(p, 0, u->urb);
        g_queue_delete_link(&b->done, l);
        urb_free(u);
        return 0;
    }
    return b->present ? EAGAIN : ENODEV;
}

static int do_discard(sim_usb_bridge_t *b, UMockdevIoctlClient *c)
{
    UMockdevIoctlData *arg = umockdev_ioctl_client_get_arg(c);
    gulong addr = *(gulong *)arg->data;
    if (b->active && b->active->urb->client_addr == addr && b->active->client == c) {
        DEV(b, control_cancel);
        urb_finish(b, b->active, -ENOENT, 0);
        b->active = NULL;
        return 0;
    }
    for (GList *l = b->pending.head; l; l = l->next) {
        urb_t *u = l->data;
        if (u->urb->client_addr == addr && u->client == c) {
            g_queue_delete_link(&b->pending, l);
            urb_finish(b, u, -ENOENT, 0);
            return 0;
        }
    }
    return EINVAL;
}

/* Linux checks an alternate setting against the active configuration's
 * descriptors before it sends SET_INTERFACE (EINVAL when there is none). */
static bool alt_exists(const sim_usb_bridge_t *b, unsigned itf, unsigned alt)
{
    size_t off = 18;
    while (off + 9 <= b->desc_len) {
        const uint8_t *c = b->desc + off;
        uint16_t total = (uint16_t)(c[2] | c[3] << 8);
        if (total < 9 || off + total > b->desc_len)
            return false;
        if (c[5] == b->config) {
            for (size_t i = 0; i + 2 <= total && c[i] >= 2; i += c[i])
                if (c[i + 1] == USB_DT_INTERFACE && i + 4 <= total && c[i + 2] == itf &&
                    c[i + 3] == alt)
                    return true;
            return false;
        }
        off += total;
    }
    return false;
}

static void claim_set(sim_usb_bridge_t *b, unsigned itf, UMockdevIoctlClient *c)
{
    if (b->claim[itf] == c)
        return;
    if (b->claim[itf])
        g_object_unref(b->claim[itf]);
    b->claim[itf] = c ? g_object_ref(c) : NULL;
}

static void claims_clear(sim_usb_bridge_t *b)
{
    for (unsigned i = 0; i < G_N_ELEMENTS(b->claim); i++)
        claim_set(b, i, NULL);
}

/* ---- programs on the node (umockdev clients) ---------------------------- */

/*
 * What umockdev 0.17 tells about a program's open node, and what it does not:
 * - "client-vanished" is declared but never emitted;
 * - "connected" turns false only once umockdev has read the end of the
 *   program's socket, and it reads only between requests: it re-arms its read
 *   after it has written a request's answer. A program that dies with a request
 *   in flight (its ioctl sent, the answer not yet written) makes that write
 *   fail, the read is never re-armed, and the client stays "connected" with an
 *   open stream for ever; finalizing it then prints "CRITICAL: Destroying
 *   IoctlClient with open stream!".
 * So the bridge watches our end of each program's socket itself: a hang-up
 * there means every copy of the program's descriptor is closed (it exited, was
 * killed, or closed the node), which is when the kernel's usbdev_release()
 * drops claims and URBs. A live program shows none, however long it is idle.
 */

/* Clients that died with a request in flight: umockdev never closes their
 * stream, so they are never finalized (see above); kept reachable here until
 * the process exits, which closes the sockets. */
static GPtrArray *parked;

static peer_t *peer_of(const sim_usb_bridge_t *b, const UMockdevIoctlClient *c)
{
    for (guint i = 0; i < b->peers->len; i++) {
        peer_t *p = g_ptr_array_index(b->peers, i);
        if (p->client == c)
            return p;
    }
    return NULL;
}

static bool socket_known(const sim_usb_bridge_t *b, int fd, ino_t ino)
{
    for (guint i = 0; i < b->peers->len; i++) {
        const peer_t *p = g_ptr_array_index(b->peers, i);
        if (p->fd == fd && p->ino == ino)
            return true;
    }
    return false;
}

/* Our end of the connection umockdev has just accepted on devnode's socket
 * (client-connected is emitted right after the accept, before the next one):
 * a socket that is not a listener, whose address is that socket's path (an
 * accepted socket carries its listener's path; other devices of the testbed
 * have other paths), and not yet known. If several, the newest: socket inode
 * numbers only grow. */
static bool peer_socket(const sim_usb_bridge_t *b, const char *devnode, int *fd_out, ino_t *ino_out)
{
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    if ((size_t)snprintf(path, sizeof(path), "%sioctl%s", b->sock_dir, devnode) >= sizeof(path))
        return false;
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return false;
    bool found = false;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char *end;
        long fd = strtol(e->d_name, &end, 10);
        if (end == e->d_name || *end || fd == dirfd(d))
            continue;
        struct stat st;
        struct sockaddr_un a;
        memset(&a, 0, sizeof(a));
        socklen_t alen = sizeof(a) - 1; /* a.sun_path stays terminated */
        int listening = 1;
        socklen_t llen = sizeof(listening);
        if (fstat((int)fd, &st) != 0 || !S_ISSOCK(st.st_mode) ||
            getsockname((int)fd, (struct sockaddr *)&a, &alen) != 0 || a.sun_family != AF_UNIX ||
            strcmp(a.sun_path, path) != 0 ||
            getsockopt((int)fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &llen) != 0 || listening ||
            socket_known(b, (int)fd, st.st_ino))
            continue;
        if (!found || st.st_ino > *ino_out) {
            *fd_out = (int)fd;
            *ino_out = st.st_ino;
            found = true;
        }
    }
    closedir(d);
    return found;
}

static bool peer_alive(const peer_t *p)
{
    if (p->gone || !umockdev_ioctl_client_get_connected(p->client))
        return false;
    if (p->fd < 0)
        return true; /* socket not found: only umockdev's word */
    struct stat st;
    if (fstat(p->fd, &st) != 0 || st.st_ino != p->ino)
        return false; /* umockdev has closed it (the number may be reused) */
    struct pollfd pf = {.fd = p->fd, .events = 0};
    return !(poll(&pf, 1, 0) == 1 && (pf.revents & (POLLHUP | POLLERR | POLLNVAL)));
}

/* The program is gone: release its claims and drop its URBs (usbdev_release). */
static void peer_gone(sim_usb_bridge_t *b, peer_t *p)
{
    if (p->gone)
        return;
    p->gone = true;
    UMockdevIoctlClient *c = p->client;
    unsigned claims = 0, urbs = 0;
    for (unsigned i = 0; i < G_N_ELEMENTS(b->claim); i++)
        if (b->claim[i] == c) {
            claim_set(b, i, NULL);
            claims++;
        }
    if (b->active && b->active->client == c) {
        DEV(b, control_cancel);
        urb_free(b->active);
        b->active = NULL;
        urbs++;
    }
    GQueue *queues[2] = {&b->pending, &b->done};
    for (int q = 0; q < 2; q++) {
        GList *l = queues[q]->head;
        while (l) {
            GList *next = l->next;
            urb_t *u = l->data;
            if (u->client == c) {
                g_queue_delete_link(queues[q], l);
                urb_free(u);
                urbs++;
            }
            l = next;
        }
    }
    if (claims || urbs)
        LOG(b, "program gone (socket %d): released %u claim(s), dropped %u URB(s)\n", p->fd, claims,
            urbs);
}

/* Our reference goes; a client whose stream is still open is parked instead
 * of finalized (see above). */
static void peer_free(peer_t *p)
{
    if (umockdev_ioctl_client_get_connected(p->client)) {
        if (!parked)
            parked = g_ptr_array_new();
        g_ptr_array_add(parked, p->client);
    } else {
        g_object_unref(p->client);
    }
    g_free(p);
}

/* Drop what dead programs held; forget programs umockdev has closed. */
static void peers_sweep(sim_usb_bridge_t *b)
{
    for (guint i = 0; i < b->peers->len;) {
        peer_t *p = g_ptr_array_index(b->peers, i);
        if (!peer_alive(p))
            peer_gone(b, p);
        if (!umockdev_ioctl_client_get_connected(p->client)) {
            g_ptr_array_remove_index_fast(b->peers, i);
            peer_free(p);
            continue;
        }
        i++;
    }
}

static bool client_alive(sim_usb_bridge_t *b, UMockdevIoctlClient *c)
{
    peer_t *p = peer_of(b, c);
    if (!p)
        return umockdev_ioctl_client_get_connected(c);
    if (!peer_alive(p))
        peer_gone(b, p);
    return !p->gone;
}

/* A claim held by a program that has gone (closed the node, exited, killed)
 * is free: the kernel releases claims when the file is closed. */
static int claim(sim_usb_bridge_t *b, UMockdevIoctlClient *c, unsigned itf)
{
    if (itf >= G_N_ELEMENTS(b->claim))
        return EINVAL;
    UMockdevIoctlClient *holder = b->claim[itf];
    if (holder && holder != c && client_alive(b, holder))
        return EBUSY;
    claim_set(b, itf, c);
    return 0;
}

/* USBDEVFS_RESET: Linux resets the port and re-enumerates the device at the
 * same address; if its descriptors changed it is a new device (new number). */
static int do_reset(sim_usb_bridge_t *b)
{
    b->st.resets++;
    fail_all_urbs(b, -ESHUTDOWN);
    uint8_t old[DESC_MAX];
    size_t old_len = b->desc_len;
    memcpy(old, b->desc, old_len);
    uint8_t cfg = b->config;
    char strs[3][128];
    bool ok = enumerate(b, b->devnum, strs);
    if (ok && b->desc_len == old_len && memcmp(old, b->desc, old_len) == 0 &&
        DEV(b, connect_epoch) == b->epoch_seen) {
        if (cfg != b->config)
            set_config_attr(b);
        claims_clear(b);
        return 0;
    }
    LOG(b, "reset: device changed, re-enumerating\n");
    b->epoch_seen = DEV(b, connect_epoch) - 1u; /* force sync_presence() */
    device_remove(b);
    sync_presence(b);
    return ENODEV;
}

static void handle_locked(sim_usb_bridge_t *b, UMockdevIoctlClient *c)
{
    gulong req = umockdev_ioctl_client_get_request(c);
    long ret = 0;
    int e = 0;

    const peer_t *peer = peer_of(b, c);
    if (peer && peer->gone) {
        /* A request still queued from a program found dead: nothing to keep. */
        umockdev_ioctl_client_complete(c, -1, ENODEV);
        return;
    }

    if (!b->present || strcmp(umockdev_ioctl_client_get_devnode(c), b->devnode) != 0) {
        /* The node this program opened is gone (disconnect or new number). */
        if (req == USBDEVFS_REAPURBNDELAY || req == USBDEVFS_REAPURB)
            e = do_reap(b, c) == 0 ? 0 : ENODEV;
        else
            e = ENODEV;
        umockdev_ioctl_client_complete(c, e ? -1 : 0, e);
        return;
    }

    if (req == USBDEVFS_SUBMITURB) {
        e = do_submit(b, c);
        /* Most requests finish right away: then the program's first poll()
         * finds the URB reapable (see README: the node is a plain file). */
        if (!e)
            pump(b, PUMP_STEPS);
    } else if (req == USBDEVFS_REAPURBNDELAY || req == USBDEVFS_REAPURB) {
        pump(b, PUMP_STEPS);
        e = do_reap(b, c);
    } else if (req == USBDEVFS_DISCARDURB) {
        e = do_discard(b, c);
    } else if (req == USBDEVFS_GET_CAPABILITIES) {
        uint32_t *caps = resolve(c, sizeof(*caps));
        if (caps)
            *caps = USBDEVFS_CAP_ZERO_PACKET | USBDEVFS_CAP_NO_PACKET_SIZE_LIM;
        e = caps ? 0 : EFAULT;
    } else if (req == USBDEVFS_CLAIMINTERFACE || req == USBDEVFS_RELEASEINTERFACE) {
        unsigned *itf = resolve(c, sizeof(*itf));
        if (!itf)
            e = EFAULT;
        else if (req == USBDEVFS_CLAIMINTERFACE)
            e = claim(b, c, *itf);
        else if (*itf >= G_N_ELEMENTS(b->claim) || b->claim[*itf] != c)
            e = EINVAL;
        else
            claim_set(b, *itf, NULL);
    } else if (req == USBDEVFS_DISCONNECT_CLAIM) {
        struct usbdevfs_disconnect_claim *dc = resolve(c, sizeof(*dc));
        e = dc ? claim(b, c, dc->interface) : EFAULT;
    } else if (req == USBDEVFS_SETINTERFACE) {
        struct usbdevfs_setinterface *si = resolve(c, sizeof(*si));
        if (!si)
            e = EFAULT;
        else if (!alt_exists(b, si->interface, si->altsetting))
            e = EINVAL;
        else if ((e = claim(b, c, si->interface)) == 0) {
            int r = control_sync(b, 0x01, USB_REQ_SET_INTERFACE, (uint16_t)si->altsetting,
                                 (uint16_t)si->interface, NULL, 0, NULL);
            e = r ? errno_of(r) : 0;
        }
    } else if (req == USBDEVFS_SETCONFIGURATION) {
        int *value = resolve(c, sizeof(*value));
        if (!value)
            e = EFAULT;
        else {
            uint8_t v = *value < 0 ? 0 : (uint8_t)*value;
            int r = control_sync(b, 0x00, USB_REQ_SET_CONFIGURATION, v, 0, NULL, 0, NULL);
            e = r ? errno_of(r) : 0;
            if (!e) {
                b->config = v;
                set_config_attr(b);
            }
        }
    } else if (req == USBDEVFS_CLEAR_HALT) {
        unsigned *ep = resolve(c, sizeof(*ep));
        int r = ep ? control_sync(b, 0x02, USB_REQ_CLEAR_FEATURE, USB_ENDPOINT_HALT, (uint16_t)*ep,
                                  NULL, 0, NULL)
                   : -EFAULT;
        e = r ? (r == -EFAULT ? EFAULT : errno_of(r)) : 0;
    } else if (req == USBDEVFS_RESET) {
        e = do_reset(b);
    } else if (req == USBDEVFS_GETDRIVER) {
        e = ENODATA; /* no kernel driver is ever bound to the virtual board */
    } else if (req == USBDEVFS_IOCTL) {
        struct usbdevfs_ioctl *io = resolve(c, sizeof(*io));
        if (!io)
            e = EFAULT;
        else if (io->ioctl_code == (int)USBDEVFS_DISCONNECT)
            e = ENODATA;
        else if (io->ioctl_code == (int)USBDEVFS_CONNECT)
            e = 0;
        else
            e = ENOTTY;
    } else if (req == USBDEVFS_CONTROL) {
        ret = do_control(b, c, &e);
    } else if (req == USBDEVFS_CONNECTINFO) {
        /* The older form of CONNINFO_EX (libusb_wrap_sys_device asks it):
         * the device's address and whether it is low speed. */
        struct usbdevfs_connectinfo *ci = resolve(c, sizeof(*ci));
        if (ci) {
            ci->devnum = b->devnum;
            ci->slow = 0;
        }
        e = ci ? 0 : EFAULT;
    } else if (req == USBDEVFS_GET_SPEED) {
        ret = USB_SPEED_FULL;
    } else if (_IOC_TYPE(req) == 'U' && _IOC_NR(req) == _IOC_NR(USBDEVFS_CONNINFO_EX(0))) {
        size_t len = _IOC_SIZE(req);
        struct usbdevfs_conninfo_ex ci = {.size = sizeof(ci),
                                          .busnum = b->cfg.busnum,
                                          .devnum = b->devnum,
                                          .speed = USB_SPEED_FULL,
                                          .num_ports = 1,
                                          .ports = {b->cfg.port}};
        uint8_t *p = resolve(c, len);
        if (p)
            memcpy(p, &ci, len < sizeof(ci) ? len : sizeof(ci));
        e = p ? 0 : EFAULT;
    } else {
        e = ENOTTY;
    }
    if (req != USBDEVFS_SUBMITURB && (req != USBDEVFS_REAPURBNDELAY || e != EAGAIN))
        LOG(b, "  ioctl %08lx -> %s\n", req, e ? g_strerror(e) : "ok");
    umockdev_ioctl_client_complete(c, e ? -1 : ret, e);
    /* A reset asked for by the board during this request shows now. */
    sync_presence(b);
}

/* A program opened the node: find our end of its socket (see peer_socket()). */
static void on_client_connected(UMockdevIoctlBase *h, UMockdevIoctlClient *c, gpointer user)
{
    (void)h;
    sim_usb_bridge_t *b = user;
    bridge_lock(b);
    peer_t *p = g_new0(peer_t, 1);
    p->client = g_object_ref(c);
    p->fd = -1;
    if (!peer_socket(b, umockdev_ioctl_client_get_devnode(c), &p->fd, &p->ino))
        fprintf(stderr,
                "h7dfu-sim: warning: no socket for a program on %s: if it dies with a "
                "request in flight, its claims stay\n",
                umockdev_ioctl_client_get_devnode(c));
    g_ptr_array_add(b->peers, p);
    bridge_unlock(b);
}

/* Never emitted by umockdev 0.17 (see above); handled in case a later one does. */
static void on_client_vanished(UMockdevIoctlBase *h, UMockdevIoctlClient *c, gpointer user)
{
    (void)h;
    sim_usb_bridge_t *b = user;
    bridge_lock(b);
    peer_t *p = peer_of(b, c);
    if (p)
        peer_gone(b, p);
    bridge_unlock(b);
}

static gboolean handle_ioctl(UMockdevIoctlBase *h, UMockdevIoctlClient *c, gpointer user)
{
    (void)h;
    sim_usb_bridge_t *b = user;
    bridge_lock(b);
    handle_locked(b, c);
    bridge_unlock(b);
    return TRUE;
}

/* The board runs on its own between requests (manifest, self reset). */
static gboolean on_tick(gpointer user)
{
    sim_usb_bridge_t *b = user;
    bridge_lock(b);
    b->cfg.step(b->cfg.user);
    pump(b, PUMP_STEPS);
    sync_presence(b);
    if (++b->sweep >= SWEEP_TICKS) {
        b->sweep = 0;
        peers_sweep(b);
    }
    bridge_unlock(b);
    return G_SOURCE_CONTINUE;
}

static void on_child_exit(GPid pid, gint status, gpointer user)
{
    sim_usb_bridge_t *b = user;
    g_spawn_close_pid(pid);
    b->child_status = status;
    b->child_done = true;
    g_main_loop_quit(b->loop);
}

/* ---- public ----------------------------------------------------------- */

sim_usb_bridge_t *sim_usb_bridge_new(const sim_usb_bridge_config_t *cfg)
{
    if (!cfg || !cfg->step)
        return NULL;
    sim_usb_bridge_t *b = g_new0(sim_usb_bridge_t, 1);
    b->cfg = *cfg;
    b->dev_ops = cfg->dev_ops ? cfg->dev_ops : &dcd_sim_ops;
    if (!b->cfg.busnum)
        b->cfg.busnum = 1;
    if (!b->cfg.port)
        b->cfg.port = 1;
    b->wall0_ns = wall_ns();
    b->virt0_ns = b->cfg.clock ? sim_clock_now_ns(b->cfg.clock) : 0;
    snprintf(b->port, sizeof(b->port), "%u-%u", b->cfg.busnum, b->cfg.port);
    b->root = b;
    b->lk = &b->lock;
    if (cfg->beside) {
        sim_usb_bridge_t *last = cfg->beside;
        while (last->neighbour)
            last = last->neighbour;
        last->neighbour = b;
        b->root = cfg->beside->root;
        b->lk = b->root->lk;
    }
    b->tb = cfg->beside ? g_object_ref(cfg->beside->tb) : umockdev_testbed_new();
    gchar *root = umockdev_testbed_get_root_dir(b->tb);
    snprintf(b->sock_dir, sizeof(b->sock_dir), "%s/", root);
    g_free(root);
    b->peers = g_ptr_array_new();
    b->attached = g_ptr_array_new_with_free_func(g_free);
    b->handler = umockdev_ioctl_base_new();
    g_signal_connect(b->handler, "handle-ioctl", G_CALLBACK(handle_ioctl), b);
    g_signal_connect(b->handler, "client-connected", G_CALLBACK(on_client_connected), b);
    g_signal_connect(b->handler, "client-vanished", G_CALLBACK(on_client_vanished), b);
    g_queue_init(&b->pending);
    g_queue_init(&b->done);
    b->loop = g_main_loop_new(NULL, FALSE);
    g_mutex_init(&b->lock);
    return b;
}

static gchar **child_env(void)
{
    gchar **env = g_get_environ();
    const gchar *pre = g_environ_getenv(env, "LD_PRELOAD");
    gchar *v = pre && *pre ? g_strdup_printf("libumockdev-preload.so.0 %s", pre)
                           : g_strdup("libumockdev-preload.so.0");
    env = g_environ_setenv(env, "LD_PRELOAD", v, TRUE);
    g_free(v);
    /* An ASan program under the preload library would abort: ASan wants to be
     * first in the link order; with the preload library first it still works
     * (the preload forwards to ASan's interceptors), so turn the check off. */
    const gchar *asan = g_environ_getenv(env, "ASAN_OPTIONS");
    v = asan && *asan ? g_strdup_printf("%s:verify_asan_link_order=0", asan)
                      : g_strdup("verify_asan_link_order=0");
    env = g_environ_setenv(env, "ASAN_OPTIONS", v, TRUE);
    g_free(v);
    return env;
}

/* Power the device's bus and enumerate it; false when it stays off. */
static bool bring_up(sim_usb_bridge_t *b)
{
    bridge_lock(b);
    b->epoch_seen = DEV(b, connect_epoch) - 1u;
    /* An emulated chip needs a few hundred steps (its start-up runs
     * instruction by instruction); a board that stays off ends it early. */
    for (int i = 0; i < START_STEPS && !DEV(b, connected); i++)
        b->cfg.step(b->cfg.user);
    sync_presence(b);
    bool present = b->present;
    bridge_unlock(b);
    return present;
}

int sim_usb_bridge_run(sim_usb_bridge_t *b, char *const argv[])
{
    /* Every device is on the bus before the program starts. */
    if (!bring_up(b))
        fprintf(stderr, "h7dfu-sim: warning: the board is not on the bus\n");
    for (sim_usb_bridge_t *n = b->neighbour; n; n = n->neighbour)
        if (!bring_up(n))
            fprintf(stderr, "h7dfu-sim: warning: the device at %s is not on the bus\n", n->port);

    gchar **env = child_env();
    GPid pid;
    GError *err = NULL;
    gboolean ok = g_spawn_async(NULL, (gchar **)argv, env,
                                G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD |
                                    G_SPAWN_CHILD_INHERITS_STDIN,
                                NULL, NULL, &pid, &err);
    g_strfreev(env);
    if (!ok) {
        fprintf(stderr, "h7dfu-sim: cannot run %s: %s\n", argv[0], err->message);
        g_error_free(err);
        return -1;
    }
    g_child_watch_add(pid, on_child_exit, b);
    for (sim_usb_bridge_t *n = b; n; n = n->neighbour)
        n->tick = g_timeout_add(1, on_tick, n);
    g_main_loop_run(b->loop);
    for (sim_usb_bridge_t *n = b; n; n = n->neighbour) {
        g_source_remove(n->tick);
        n->tick = 0;
    }
    if (WIFEXITED(b->child_status))
        return WEXITSTATUS(b->child_status);
    if (WIFSIGNALED(b->child_status))
        return 128 + WTERMSIG(b->child_status);
    return 1;
}

void sim_usb_bridge_get_stats(const sim_usb_bridge_t *b, sim_usb_bridge_stats_t *st)
{
    *st = b->st;
}

void sim_usb_bridge_free(sim_usb_bridge_t *b)
{
    if (!b)
        return;
    for (sim_usb_bridge_t *p = b->cfg.beside; p; p = p->neighbour)
        if (p->neighbour == b) {
            p->neighbour = b->neighbour;
            break;
        }
    bridge_lock(b);
    /* Parked clients keep the handler alive: no more calls into b from it. */
    g_signal_handlers_disconnect_by_data(b->handler, b);
    device_remove(b);
    node_detach_all(b);
    g_ptr_array_free(b->attached, TRUE);
    urb_t *u;
    while ((u = g_queue_pop_head(&b->done)) != NULL)
        urb_free(u);
    for (guint i = 0; i < b->peers->len; i++)
        peer_free(g_ptr_array_index(b->peers, i));
    g_ptr_array_free(b->peers, TRUE);
    bridge_unlock(b);
    g_object_unref(b->handler);
    g_object_unref(b->tb);
    g_main_loop_unref(b->loop);
    g_mutex_clear(&b->lock);
    g_free(b);
}
