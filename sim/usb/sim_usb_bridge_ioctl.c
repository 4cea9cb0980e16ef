/*
 * The bridge's usbfs ioctls: every request a program sends on the node goes
 * through one table (ioctl number -> handler) after the checks that hold for
 * all of them (the program or the node gone); interface claims are kept here.
 */
#include "sim_usb_bridge_priv.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include <linux/usb/ch9.h>
#include <linux/usbdevice_fs.h>

static void *resolve(UMockdevIoctlClient *c, size_t len)
{
    UMockdevIoctlData *arg = umockdev_ioctl_client_get_arg(c);
    GError *err = NULL;
    UMockdevIoctlData *d = umockdev_ioctl_data_resolve(arg, 0, len, &err);
    if (!d) {
        if (err) {
            g_error_free(err);
        }
        return NULL;
    }
    return d->data;
}

static int errno_of(int r)
{
    return r == -ETIMEDOUT ? ETIMEDOUT : r == -EPIPE ? EPIPE : r == -ENODEV ? ENODEV : EIO;
}

/* ---- claims ----------------------------------------------------------- */

void bridge_claim_set(sim_usb_bridge_t *b, unsigned itf, UMockdevIoctlClient *c)
{
    if (b->claim[itf] == c) {
        return;
    }
    if (b->claim[itf]) {
        g_object_unref(b->claim[itf]);
    }
    b->claim[itf] = c ? g_object_ref(c) : NULL;
}

void bridge_claims_clear(sim_usb_bridge_t *b)
{
    for (unsigned i = 0; i < G_N_ELEMENTS(b->claim); i++) {
        bridge_claim_set(b, i, NULL);
    }
}

/* A claim held by a program that has gone (closed the node, exited, killed)
 * is free: the kernel releases claims when the file is closed. */
static int claim(sim_usb_bridge_t *b, UMockdevIoctlClient *c, unsigned itf)
{
    if (itf >= G_N_ELEMENTS(b->claim)) {
        return EINVAL;
    }
    UMockdevIoctlClient *holder = b->claim[itf];
    if (holder && holder != c && bridge_client_alive(b, holder)) {
        return EBUSY;
    }
    bridge_claim_set(b, itf, c);
    return 0;
}

/* Linux checks an alternate setting against the active configuration's
 * descriptors before it sends SET_INTERFACE (EINVAL when there is none). */
static bool alt_exists(const sim_usb_bridge_t *b, unsigned itf, unsigned alt)
{
    size_t off = 18;
    while (off + 9 <= b->desc_len) {
        const uint8_t *c = b->desc + off;
        uint16_t total = (uint16_t)(c[2] | c[3] << 8);
        if (total < 9 || off + total > b->desc_len) {
            return false;
        }
        if (c[5] == b->config) {
            for (size_t i = 0; i + 2 <= total && c[i] >= 2; i += c[i]) {
                if (c[i + 1] == USB_DT_INTERFACE && i + 4 <= total && c[i + 2] == itf &&
                    c[i + 3] == alt) {
                    return true;
                }
            }
            return false;
        }
        off += total;
    }
    return false;
}

/* ---- handlers ----------------------------------------------------------
 * Each answers one request of client c (req: its number) and returns 0 or
 * the errno for the program; *ret (0 unless set) is the ioctl's result when
 * it succeeds. */

typedef int (*ioctl_fn)(sim_usb_bridge_t *b, UMockdevIoctlClient *c, gulong req, long *ret);

static int io_submit(sim_usb_bridge_t *b, UMockdevIoctlClient *c, gulong req, long *ret)
{
    (void)req;
    (void)ret;
    int e = bridge_urb_submit(b, c);
    /* Most requests finish right away: then the program's first poll()
     * finds the URB reapable (see README: the node is a plain file). */
    if (!e) {
        bridge_pump(b, PUMP_STEPS);
    }
    return e;
}

/* REAPURB and REAPURBNDELAY: a blocking reap with nothing to reap does not
 * wait (libusb never uses it). */
static int io_reap(sim_usb_bridge_t *b, UMockdevIoctlClient *c, gulong req, long *ret)
{
    (void)req;
    (void)ret;
    bridge_pump(b, PUMP_STEPS);
    return bridge_urb_reap(b, c);
}

static int io_discard(sim_usb_bridge_t *b, UMockdevIoctlClient *c, gulong req, long *ret)
{
    (void)req;
    (void)ret;
    return bridge_urb_discard(b, c);
}

static int io_get_capabilities(sim_usb_bridge_t *b, UMockdevIoctlClient *c, gulong req, long *ret)
{
    (void)b;
    (void)req;
    (void)ret;
    uint32_t *caps = resolve(c, sizeof(*caps));
    if (caps) {
        *caps = USBDEVFS_CAP_ZERO_PACKET | USBDEVFS_CAP_NO_PACKET_SIZE_LIM;
    }
    return caps ? 0 : EFAULT;
}

static int io_claim_interface(sim_usb_bridge_t *b, UMockdevIoctlClient *c, gulong req, long *ret)
{
    (void)req;
    (void)ret;
    unsigned *itf = resolve(c, sizeof(*itf));
    return itf ? claim(b, c, *itf) : EFAULT;
}

static int io_release_interface(sim_usb_bridge_t *b, UMockdevIoctlClient *c, gulong req, long *ret)
{
    (void)req;
    (void)ret;
    unsigned *itf = resolve(c, sizeof(*itf));
    if (!itf) {
        return EFAULT;
    }
    if (*itf >= G_N_ELEMENTS(b->claim) || b->claim[*itf] != c) {
        return EINVAL;
    }
    bridge_claim_set(b, *itf, NULL);
    return 0;
}

static int io_disconnect_claim(sim_usb_bridge_t *b, UMockdevIoctlClient *c, gulong req, long *ret)
{
    (void)req;
    (void)ret;
    struct usbdevfs_disconnect_claim *dc = resolve(c, sizeof(*dc));
    return dc ? claim(b, c, dc->interface) : EFAULT;
}

static int io_setinterface(sim_usb_bridge_t *b, UMockdevIoctlClient *c, gulong req, long *ret)
{
    (void)req;
    (void)ret;
    struct usbdevfs_setinterface *si = resolve(c, sizeof(*si));
    if (!si) {
        return EFAULT;
    }
    if (!alt_exists(b, si->interface, si->altsetting)) {
        return EINVAL;
    }
    int e = claim(b, c, si->interface);
    if (e) {
        return e;
    }
    int r = bridge_control_sync(b, 0x01, USB_REQ_SET_INTERFACE, (uint16_t)si->altsetting,
                                (uint16_t)si->interface, NULL, 0, NULL);
    return r ? errno_of(r) : 0;
}

static int io_setconfiguration(sim_usb_bridge_t *b, UMockdevIoctlClient *c, gulong req, long *ret)
{
    (void)req;
    (void)ret;
    int *value = resolve(c, sizeof(*value));
    if (!value) {
        return EFAULT;
    }
    uint8_t v = *value < 0 ? 0 : (uint8_t)*value;
    int r = bridge_control_sync(b, 0x00, USB_REQ_SET_CONFIGURATION, v, 0, NULL, 0, NULL);
    if (r) {
        return errno_of(r);
    }
    b->config = v;
    bridge_set_config_attr(b);
    return 0;
}

static int io_clear_halt(sim_usb_bridge_t *b, UMockdevIoctlClient *c, gulong req, long *ret)
{
    (void)req;
    (void)ret;
    unsigned *ep = resolve(c, sizeof(*ep));
    if (!ep) {
        return EFAULT;
    }
    int r = bridge_control_sync(b, 0x02, USB_REQ_CLEAR_FEATURE, USB_ENDPOINT_HALT, (uint16_t)*ep,
                                NULL, 0, NULL);
    return r ? (r == -EFAULT ? EFAULT : errno_of(r)) : 0;
}

static int io_reset(sim_usb_bridge_t *b, UMockdevIoctlClient *c, gulong req, long *ret)
{
    (void)c;
    (void)req;
    (void)ret;
    return bridge_port_reset(b);
}

/* No kernel driver is ever bound to the virtual board. */
static int io_getdriver(sim_usb_bridge_t *b, UMockdevIoctlClient *c, gulong req, long *ret)
{
    (void)b;
    (void)c;
    (void)req;
    (void)ret;
    return ENODATA;
}

static int io_ioctl(sim_usb_bridge_t *b, UMockdevIoctlClient *c, gulong req, long *ret)
{
    (void)b;
    (void)req;
    (void)ret;
    struct usbdevfs_ioctl *io = resolve(c, sizeof(*io));
    if (!io) {
        return EFAULT;
    }
    if (io->ioctl_code == (int)USBDEVFS_DISCONNECT) {
        return ENODATA;
    }
    if (io->ioctl_code == (int)USBDEVFS_CONNECT) {
        return 0;
    }
    return ENOTTY;
}

/* USBDEVFS_CONTROL: a control transfer that blocks until it ends (libusb
 * uses it for GET_CONFIGURATION); *ret: the bytes moved. */
static int io_control(sim_usb_bridge_t *b, UMockdevIoctlClient *c, gulong req, long *ret)
{
    (void)req;
    UMockdevIoctlData *arg = umockdev_ioctl_client_get_arg(c);
    GError *err = NULL;
    UMockdevIoctlData *cd =
        umockdev_ioctl_data_resolve(arg, 0, sizeof(struct usbdevfs_ctrltransfer), &err);
    if (!cd) {
        g_clear_error(&err);
        return EFAULT;
    }
    struct usbdevfs_ctrltransfer *ct = (struct usbdevfs_ctrltransfer *)cd->data;
    uint8_t *data = NULL;
    if (ct->wLength) {
        UMockdevIoctlData *dd = umockdev_ioctl_data_resolve(
            cd, offsetof(struct usbdevfs_ctrltransfer, data), ct->wLength, &err);
        if (!dd) {
            g_clear_error(&err);
            return EFAULT;
        }
        data = dd->data;
    }
    uint16_t actual = 0;
    int r = bridge_control_sync(b, ct->bRequestType, ct->bRequest, ct->wValue, ct->wIndex, data,
                                ct->wLength, &actual);
    if (r) {
        return errno_of(r);
    }
    *ret = actual;
    return 0;
}

/* The older form of CONNINFO_EX (libusb_wrap_sys_device asks it): the
 * device's address and whether it is low speed. */
static int io_connectinfo(sim_usb_bridge_t *b, UMockdevIoctlClient *c, gulong req, long *ret)
{
    (void)req;
    (void)ret;
    struct usbdevfs_connectinfo *ci = resolve(c, sizeof(*ci));
    if (!ci) {
        return EFAULT;
    }
    ci->devnum = b->devnum;
    ci->slow = 0;
    return 0;
}

static int io_get_speed(sim_usb_bridge_t *b, UMockdevIoctlClient *c, gulong req, long *ret)
{
    (void)b;
    (void)c;
    (void)req;
    *ret = USB_SPEED_FULL;
    return 0;
}

/* The program says how much it wants (the size in req); it gets what both
 * know. */
static int io_conninfo_ex(sim_usb_bridge_t *b, UMockdevIoctlClient *c, gulong req, long *ret)
{
    (void)ret;
    size_t len = _IOC_SIZE(req);
    struct usbdevfs_conninfo_ex ci = {.size = sizeof(ci),
                                      .busnum = b->cfg.busnum,
                                      .devnum = b->devnum,
                                      .speed = USB_SPEED_FULL,
                                      .num_ports = 1,
                                      .ports = {b->cfg.port}};
    uint8_t *p = resolve(c, len);
    if (!p) {
        return EFAULT;
    }
    memcpy(p, &ci, len < sizeof(ci) ? len : sizeof(ci));
    return 0;
}

/* ---- the table -------------------------------------------------------- */

typedef struct ioctl_entry {
    gulong req;
    /* matched on its type and number only (the size is the program's) */
    bool any_size;
    ioctl_fn fn;
} ioctl_entry_t;

static const ioctl_entry_t ioctls[] = {
    {USBDEVFS_SUBMITURB, false, io_submit},
    {USBDEVFS_REAPURBNDELAY, false, io_reap},
    {USBDEVFS_REAPURB, false, io_reap},
    {USBDEVFS_DISCARDURB, false, io_discard},
    {USBDEVFS_GET_CAPABILITIES, false, io_get_capabilities},
    {USBDEVFS_CLAIMINTERFACE, false, io_claim_interface},
    {USBDEVFS_RELEASEINTERFACE, false, io_release_interface},
    {USBDEVFS_DISCONNECT_CLAIM, false, io_disconnect_claim},
    {USBDEVFS_SETINTERFACE, false, io_setinterface},
    {USBDEVFS_SETCONFIGURATION, false, io_setconfiguration},
    {USBDEVFS_CLEAR_HALT, false, io_clear_halt},
    {USBDEVFS_RESET, false, io_reset},
    {USBDEVFS_GETDRIVER, false, io_getdriver},
    {USBDEVFS_IOCTL, false, io_ioctl},
    {USBDEVFS_CONTROL, false, io_control},
    {USBDEVFS_CONNECTINFO, false, io_connectinfo},
    {USBDEVFS_GET_SPEED, false, io_get_speed},
    {USBDEVFS_CONNINFO_EX(0), true, io_conninfo_ex},
};

/* The handler for req; NULL: not a request usbfs answers here (ENOTTY). */
static ioctl_fn ioctl_lookup(gulong req)
{
    for (size_t i = 0; i < G_N_ELEMENTS(ioctls); i++) {
        const ioctl_entry_t *t = &ioctls[i];
        if (t->any_size ? _IOC_TYPE(req) == _IOC_TYPE(t->req) && _IOC_NR(req) == _IOC_NR(t->req)
                        : req == t->req) {
            return t->fn;
        }
    }
    return NULL;
}

static void handle_locked(sim_usb_bridge_t *b, UMockdevIoctlClient *c)
{
    gulong req = umockdev_ioctl_client_get_request(c);
    long ret = 0;
    int e;

    const peer_t *peer = bridge_peer_of(b, c);
    if (peer && peer->gone) {
        /* A request still queued from a program found dead: nothing to keep. */
        umockdev_ioctl_client_complete(c, -1, ENODEV);
        return;
    }

    if (!b->present || strcmp(umockdev_ioctl_client_get_devnode(c), b->devnode) != 0) {
        /* The node this program opened is gone (disconnect or new number). */
        if (req == USBDEVFS_REAPURBNDELAY || req == USBDEVFS_REAPURB) {
            e = bridge_urb_reap(b, c) == 0 ? 0 : ENODEV;
        } else {
            e = ENODEV;
        }
        umockdev_ioctl_client_complete(c, e ? -1 : 0, e);
        return;
    }

    ioctl_fn fn = ioctl_lookup(req);
    e = fn ? fn(b, c, req, &ret) : ENOTTY;
    if (req != USBDEVFS_SUBMITURB && (req != USBDEVFS_REAPURBNDELAY || e != EAGAIN)) {
        LOG(b, "  ioctl %08lx -> %s\n", req, e ? g_strerror(e) : "ok");
    }
    umockdev_ioctl_client_complete(c, e ? -1 : ret, e);
    /* A reset asked for by the board during this request shows now. */
    bridge_sync_presence(b);
}

gboolean bridge_on_ioctl(UMockdevIoctlBase *h, UMockdevIoctlClient *c, gpointer user)
{
    (void)h;
    sim_usb_bridge_t *b = user;
    bridge_lock(b);
    handle_locked(b, c);
    bridge_unlock(b);
    return TRUE;
}
