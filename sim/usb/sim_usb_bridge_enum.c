/*
 * The bridge's hub-driver and kernel bookkeeping: enumeration of the device
 * (device numbers shared on a bus), its sysfs entry, device node and ioctl
 * socket in the umockdev testbed, its uevents, and USBDEVFS_RESET's
 * re-enumeration.
 */
#include "sim_usb_bridge_priv.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <linux/usb/ch9.h>

#include "sim_uevent.h"

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
        bridge_control_sync(b, 0x80, USB_REQ_GET_DESCRIPTOR, (uint16_t)(USB_DT_STRING << 8 | index),
                            lang, d, sizeof(d), &n) == 0 &&
        n >= 2 && d[1] == USB_DT_STRING) {
        string_ascii(d, n, out, cap);
    }
}

/* Reset, address and configure the board; fills desc. */
static bool enumerate(sim_usb_bridge_t *b, uint8_t devnum, char strs[3][128])
{
    uint8_t dd[64];
    uint16_t n = 0;
    DEV(b, bus_reset);
    b->cfg.step(b->cfg.user);
    /* Like Linux: first a 64-byte read of the device descriptor at address 0. */
    if (bridge_control_sync(b, 0x80, USB_REQ_GET_DESCRIPTOR, USB_DT_DEVICE << 8, 0, dd, 64, &n) !=
            0 ||
        n < 8) {
        fprintf(stderr, "h7dfu-sim: device descriptor read/64, error\n");
        return false;
    }
    if (bridge_control_sync(b, 0x00, USB_REQ_SET_ADDRESS, devnum, 0, NULL, 0, NULL) != 0 ||
        DEV(b, address) != devnum) {
        fprintf(stderr, "h7dfu-sim: device not accepting address %u\n", devnum);
        return false;
    }
    if (bridge_control_sync(b, 0x80, USB_REQ_GET_DESCRIPTOR, USB_DT_DEVICE << 8, 0, dd, 18, &n) !=
            0 ||
        n != 18 || dd[0] != 18 || dd[1] != USB_DT_DEVICE) {
        fprintf(stderr, "h7dfu-sim: bad device descriptor\n");
        return false;
    }
    memcpy(b->desc, dd, 18);
    b->desc_len = 18;
    for (uint8_t i = 0; i < dd[17]; i++) {
        uint8_t head[9];
        if (bridge_control_sync(b, 0x80, USB_REQ_GET_DESCRIPTOR, (uint16_t)(USB_DT_CONFIG << 8 | i),
                                0, head, 9, &n) != 0 ||
            n != 9) {
            fprintf(stderr, "h7dfu-sim: cannot read configuration %u\n", i);
            return false;
        }
        uint16_t total = (uint16_t)(head[2] | head[3] << 8);
        if (total < 9 || b->desc_len + total > sizeof(b->desc) ||
            bridge_control_sync(b, 0x80, USB_REQ_GET_DESCRIPTOR, (uint16_t)(USB_DT_CONFIG << 8 | i),
                                0, b->desc + b->desc_len, total, &n) != 0 ||
            n != total) {
            fprintf(stderr, "h7dfu-sim: cannot read configuration %u (%u bytes)\n", i, total);
            return false;
        }
        b->desc_len += total;
    }
    /* Strings for sysfs (manufacturer, product, serial), in the first language. */
    uint8_t langs[4];
    uint16_t lang = 0x0409;
    if (bridge_control_sync(b, 0x80, USB_REQ_GET_DESCRIPTOR, USB_DT_STRING << 8, 0, langs,
                            sizeof(langs), &n) == 0 &&
        n >= 4) {
        lang = (uint16_t)(langs[2] | langs[3] << 8);
    }
    for (int i = 0; i < 3; i++) {
        get_string(b, dd[14 + i], lang, strs[i], sizeof(strs[i]));
    }
    /* The kernel's generic driver picks the first configuration. */
    b->config = 0;
    if (dd[17] > 0) {
        uint8_t value = b->desc[18 + 5];
        if (bridge_control_sync(b, 0x00, USB_REQ_SET_CONFIGURATION, value, 0, NULL, 0, NULL) == 0) {
            b->config = value;
        }
    }
    return true;
}

void bridge_set_config_attr(sim_usb_bridge_t *b)
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
    for (guint i = 0; i < b->attached->len; i++) {
        if (strcmp(g_ptr_array_index(b->attached, i), devnode) == 0) {
            return true;
        }
    }
    return false;
}

static bool node_attach(sim_usb_bridge_t *b)
{
    if (node_attached(b, b->devnode)) {
        return true; /* a number used again (after 127): its socket still listens */
    }
    GError *err = NULL;
    if (!umockdev_testbed_attach_ioctl(b->tb, b->devnode, b->handler, &err)) {
        fprintf(stderr, "h7dfu-sim: attach %s: %s\n", b->devnode, err->message);
        g_error_free(err);
        return false;
    }
    g_ptr_array_add(b->attached, g_strdup(b->devnode));
    return true;
}

void bridge_node_detach_all(sim_usb_bridge_t *b)
{
    for (guint i = 0; i < b->attached->len; i++) {
        umockdev_testbed_detach_ioctl(b->tb, g_ptr_array_index(b->attached, i), NULL);
    }
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
    if (!ok) {
        fprintf(stderr, "h7dfu-sim: cannot create %s: %s\n", node, g_strerror(errno));
    }
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

void bridge_device_remove(sim_usb_bridge_t *b)
{
    if (!b->present) {
        return;
    }
    LOG(b, "disconnect %s\n", b->devnode);
    /* Requests from now on (they wait for the lock) find the device gone. */
    b->present = false;
    bridge_fail_all_urbs(b, -ESHUTDOWN);
    bridge_claims_clear(b);
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
    for (const sim_usb_bridge_t *o = b->root; o; o = o->neighbour) {
        if (o != b && o->cfg.busnum == b->cfg.busnum &&
            ((o->present && o->devnum == devnum) || node_attached(o, node))) {
            return true;
        }
    }
    return false;
}

/* The next free device number on the bus (2..127, then round again), shared
 * by the devices on it as a hub driver shares them. A number whose socket
 * another device keeps (node_attach()) is skipped; b's own old ones are
 * free, so there is always one. */
static uint8_t pick_devnum(sim_usb_bridge_t *b)
{
    uint8_t *next = &b->root->bus_next[b->cfg.busnum];
    if (*next < 2) {
        *next = b->cfg.first_devnum ? b->cfg.first_devnum : 2;
    }
    uint8_t d = *next;
    for (int i = 0; i < 126 && devnum_taken(b, d); i++) {
        d = (uint8_t)(d >= 127 ? 2 : d + 1);
    }
    *next = (uint8_t)(d >= 127 ? 2 : d + 1);
    return d;
}

static void device_add(sim_usb_bridge_t *b)
{
    char strs[3][128];
    uint8_t devnum = pick_devnum(b);
    if (!enumerate(b, devnum, strs)) {
        return;
    }
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
    if (d[17] > 0) {
        g_string_append_printf(s, "A: bNumInterfaces=%2u\\n\nA: bmAttributes=%02x\\n\n", c[4],
                               c[7]);
    }
    /* the kernel's generic driver has configured it (enumerate()) */
    if (b->config) {
        g_string_append_printf(s, "A: bConfigurationValue=%u\\n\n", b->config);
    }
    static const char *const names[3] = {"manufacturer", "product", "serial"};
    for (int i = 0; i < 3; i++) {
        if (strs[i][0]) {
            g_string_append_printf(s, "A: %s=%s\\n\n", names[i], strs[i]);
        }
    }
    g_string_append(s, "H: descriptors=");
    for (size_t i = 0; i < b->desc_len; i++) {
        g_string_append_printf(s, "%02X", b->desc[i]);
    }
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
    if (!b->config) {
        bridge_set_config_attr(b); /* unconfigured: an empty attribute */
    }
    b->present = true;
    send_uevent(b, "add");
    b->st.enumerations++;
    b->st.devnum = devnum;
    LOG(b, "connect %s %04x:%04x \"%s\" \"%s\" serial \"%s\"\n", b->devnode, d[8] | d[9] << 8,
        d[10] | d[11] << 8, strs[0], strs[1], strs[2]);
}

/* A board that reset itself comes back as a new device with a new number,
 * as behind a real hub. */
void bridge_sync_presence(sim_usb_bridge_t *b)
{
    unsigned epoch = DEV(b, connect_epoch);
    if (epoch == b->epoch_seen) {
        return;
    }
    b->epoch_seen = epoch;
    bridge_device_remove(b);
    if (DEV(b, connected)) {
        device_add(b);
    }
}

/* Linux resets the port and re-enumerates the device at the same address; if
 * its descriptors changed it is a new device (new number). */
int bridge_port_reset(sim_usb_bridge_t *b)
{
    b->st.resets++;
    bridge_fail_all_urbs(b, -ESHUTDOWN);
    uint8_t old[DESC_MAX];
    size_t old_len = b->desc_len;
    memcpy(old, b->desc, old_len);
    uint8_t cfg = b->config;
    char strs[3][128];
    bool ok = enumerate(b, b->devnum, strs);
    if (ok && b->desc_len == old_len && memcmp(old, b->desc, old_len) == 0 &&
        DEV(b, connect_epoch) == b->epoch_seen) {
        if (cfg != b->config) {
            bridge_set_config_attr(b);
        }
        bridge_claims_clear(b);
        return 0;
    }
    LOG(b, "reset: device changed, re-enumerating\n");
    b->epoch_seen = DEV(b, connect_epoch) - 1u; /* force bridge_sync_presence() */
    bridge_device_remove(b);
    bridge_sync_presence(b);
    return ENODEV;
}
