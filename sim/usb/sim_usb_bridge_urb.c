/*
 * The bridge's URB queue and EP0 pump: the programs' control URBs wait in
 * b->pending, run one at a time on EP0 through the device's controller
 * (dcd_sim or the emulated chip) while the board is stepped, and wait in
 * b->done until their program reaps them.
 */
#include "sim_usb_bridge_priv.h"

#include <errno.h>
#include <stddef.h>

#include <linux/usb/ch9.h>
#include <linux/usbdevice_fs.h>

#include "dcd_sim.h"

void bridge_urb_free(urb_t *u)
{
    g_object_unref(u->client);
    g_object_unref(u->urb);
    if (u->buf) {
        g_object_unref(u->buf);
    }
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

void bridge_fail_all_urbs(sim_usb_bridge_t *b, int status)
{
    if (b->active) {
        DEV(b, control_cancel);
        urb_finish(b, b->active, status, 0);
        b->active = NULL;
    }
    urb_t *u;
    while ((u = g_queue_pop_head(&b->pending)) != NULL) {
        urb_finish(b, u, status, 0);
    }
}

unsigned bridge_urbs_drop(sim_usb_bridge_t *b, const UMockdevIoctlClient *c)
{
    unsigned urbs = 0;
    if (b->active && b->active->client == c) {
        DEV(b, control_cancel);
        bridge_urb_free(b->active);
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
                bridge_urb_free(u);
                urbs++;
            }
            l = next;
        }
    }
    return urbs;
}

/* Start the next URB, step the board, collect results. */
void bridge_pump(sim_usb_bridge_t *b, int steps)
{
    for (int i = 0; i < steps; i++) {
        if (!b->active) {
            urb_t *u = g_queue_pop_head(&b->pending);
            if (!u) {
                return;
            }
            /* The host waits out bwPollTimeout (and the bus carries the
             * request) before the device sees it: an answer that depends on
             * the device's time is the one of the moment it is asked. */
            bridge_timing_start(b, u->buf->data);
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
        if (r == DCD_SIM_PENDING) {
            continue;
        }
        urb_t *u = b->active;
        b->active = NULL;
        const uint8_t *setup = u->buf->data;
        bridge_timing_end(b, setup, u->buf->data + 8, r, actual);
        bridge_host_poll_scale(b, setup, u->buf->data + 8, r, actual);
        /* Keep sysfs right when a program configures through a raw URB. */
        if (r == 0 && setup[0] == 0x00 && setup[1] == USB_REQ_SET_CONFIGURATION) {
            b->config = setup[2];
        }
        urb_finish(b, u, r == -ENODEV ? -ESHUTDOWN : r, actual);
    }
}

int bridge_control_sync(sim_usb_bridge_t *b, uint8_t rt, uint8_t req, uint16_t val, uint16_t idx,
                        uint8_t *data, uint16_t len, uint16_t *actual)
{
    /* Let the programs' URBs go first: EP0 carries one transfer at a time. */
    for (int i = 0; i < SYNC_STEPS && (b->active || b->pending.length); i++) {
        bridge_pump(b, 1);
    }
    if (b->active || b->pending.length) {
        return -ETIMEDOUT;
    }
    uint8_t setup[8] = {rt,           req,
                        (uint8_t)val, (uint8_t)(val >> 8),
                        (uint8_t)idx, (uint8_t)(idx >> 8),
                        (uint8_t)len, (uint8_t)(len >> 8)};
    bridge_timing_start(b, setup);
    int r = DEV(b, control_start, setup, data);
    if (r != 0) {
        return r;
    }
    uint16_t got = 0;
    for (int i = 0; i < SYNC_STEPS; i++) {
        b->cfg.step(b->cfg.user);
        r = DEV(b, control_result, &got);
        if (r != DCD_SIM_PENDING) {
            if (actual) {
                *actual = got;
            }
            return r;
        }
    }
    DEV(b, control_cancel);
    return -ETIMEDOUT;
}

/* The URB and its buffer are resolved into the bridge (copies of the
 * program's memory, written back when the reap completes) and queued. */
int bridge_urb_submit(sim_usb_bridge_t *b, UMockdevIoctlClient *c)
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
    if (k->type != USBDEVFS_URB_TYPE_CONTROL || (k->endpoint & 0x7f) != 0) {
        return ENOENT;
    }
    if (k->buffer_length < 8) {
        return EINVAL;
    }
    UMockdevIoctlData *bd = umockdev_ioctl_data_resolve(ud, offsetof(struct usbdevfs_urb, buffer),
                                                        (gsize)k->buffer_length, &err);
    if (!bd) {
        g_clear_error(&err);
        return EFAULT;
    }
    uint16_t wlen = (uint16_t)(bd->data[6] | bd->data[7] << 8);
    if (8u + wlen > (unsigned)k->buffer_length) {
        return EINVAL;
    }
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

int bridge_urb_reap(sim_usb_bridge_t *b, UMockdevIoctlClient *c)
{
    for (GList *l = b->done.head; l; l = l->next) {
        urb_t *u = l->data;
        if (u->client != c) {
            continue;
        }
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
        bridge_urb_free(u);
        return 0;
    }
    return b->present ? EAGAIN : ENODEV;
}

int bridge_urb_discard(sim_usb_bridge_t *b, UMockdevIoctlClient *c)
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
