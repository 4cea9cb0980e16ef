/*
 * USB device core: device state (USB 2.0 9.1), standard requests (9.4), the
 * EP0 control transfer engine (8.5.3) and dispatch to class drivers.
 *
 * EP0 engine: the core moves one packet at a time through the dcd (see dcd.h).
 * IN data stage: the reply is cut to wLength and sent in 64-byte packets; when
 * the reply is shorter than wLength and a non-zero multiple of 64, a
 * zero-length packet ends it (8.5.3.2); an empty reply is one zero-length
 * packet. The status stage is then an OUT zero-length packet. OUT data stage:
 * packets are collected into the control buffer (wLength larger than it, or a
 * short packet before wLength, stalls), the driver handles the data, and the
 * status stage is an IN zero-length packet. control_done() runs once the status
 * stage has completed. A new SETUP silently abandons whatever was in progress.
 */
#include "usbd.h"

#include <string.h>

#include "dcd.h"
#include "ms_os20.h"
#include "usbd_desc.h"

#define EP_SLOTS 32u /* 16 OUT + 16 IN endpoint numbers */
#define NO_ITF   0xffu

typedef enum ctrl_stage {
    CTRL_IDLE = 0,
    CTRL_DATA_IN,
    CTRL_DATA_OUT,
    CTRL_STATUS_IN,  /* IN zero-length packet sent, awaiting its ACK */
    CTRL_STATUS_OUT, /* OUT zero-length packet armed */
    CTRL_STALLED,
} ctrl_stage_t;

typedef struct ctrl {
    ctrl_stage_t stage;
    usb_setup_t setup;
    uint8_t *data;  /* data stage buffer */
    uint16_t total; /* bytes of the data stage */
    uint16_t done;  /* bytes moved so far */
    uint16_t chunk; /* size of the packet in flight */
    bool zlp;       /* IN stage still owes a zero-length packet */
    /* Driver to tell when the status stage has completed, and which of its
     * handlers takes OUT data (std_control instead of control). */
    const usbd_class_driver_t *owner;
    bool owner_std;
    bool set_address; /* apply the new address's state after the status stage */
    uint8_t address;
} ctrl_t;

/* The device: one per program (the core is a singleton, like the controller
 * it drives). */
static struct {
    const usbd_device_desc_t *desc;
    usbd_desc_set_t ds;
    uint8_t *buf; /* control buffer */
    uint16_t buf_size;
    usbd_state_t state;
    bool suspended;
    bool remote_wakeup;
    uint8_t address;
    uint8_t alt[USBD_MAX_INTERFACES];
    uint8_t ep_itf[EP_SLOTS]; /* owning interface of each open endpoint */
    uint32_t ep_halted;       /* bit per EP slot */
    uint8_t reply[2];         /* standard request replies */
    ctrl_t ctrl;
} s_dev;

static uint8_t ctrl_default_buf[USBD_CTRL_BUF_SIZE];

static unsigned ep_slot(uint8_t ep_addr)
{
    return (ep_addr & 0x0fu) | ((ep_addr & USB_DIR_IN) ? 16u : 0u);
}

static uint16_t min16(uint16_t a, uint16_t b)
{
    return a < b ? a : b;
}

/* ---- class drivers ---------------------------------------------------- */

static const usbd_class_driver_t *itf_driver(uint8_t itf)
{
    if (s_dev.desc == NULL || itf >= s_dev.desc->num_itfs) {
        return NULL;
    }
    return s_dev.desc->itfs[itf].driver;
}

/* Each driver once, even when it owns several interfaces. */
static bool first_owner(uint8_t itf)
{
    const usbd_class_driver_t *drv = s_dev.desc->itfs[itf].driver;
    if (drv == NULL) {
        return false;
    }
    for (uint8_t i = 0; i < itf; i++) {
        if (s_dev.desc->itfs[i].driver == drv) {
            return false;
        }
    }
    return true;
}

static void reset_classes(void)
{
    for (uint8_t i = 0; s_dev.desc != NULL && i < s_dev.desc->num_itfs; i++) {
        const usbd_class_driver_t *drv = s_dev.desc->itfs[i].driver;
        if (first_owner(i) && drv->reset != NULL) {
            drv->reset(drv->ctx);
        }
    }
}

/* ---- endpoints of the current configuration --------------------------- */

static void unmap_alt(uint8_t itf)
{
    const usbd_alt_desc_t *alt = &s_dev.desc->itfs[itf].alts[s_dev.alt[itf]];
    for (uint8_t e = 0; e < alt->num_eps; e++) {
        unsigned slot = ep_slot(alt->eps[e].addr);
        s_dev.ep_itf[slot] = NO_ITF;
        s_dev.ep_halted &= ~(1u << slot);
    }
}

/* The dcd has no per-endpoint close: endpoints of a previous alternate setting
 * stay open in the controller but are unmapped here, so nothing reaches them.
 * false when the controller cannot open one (its FIFO RAM is exhausted): the
 * endpoints it did open are mapped, the caller undoes them. */
static bool open_alt(uint8_t itf, uint8_t alt_index)
{
    const usbd_alt_desc_t *alt = &s_dev.desc->itfs[itf].alts[alt_index];
    bool ok = true;
    s_dev.alt[itf] = alt_index;
    for (uint8_t e = 0; e < alt->num_eps; e++) {
        const usbd_endpoint_desc_t *ep = &alt->eps[e];
        unsigned slot = ep_slot(ep->addr);
        ok = dcd_ep_open(ep->addr, ep->type, ep->max_packet) && ok;
        s_dev.ep_itf[slot] = itf;
        s_dev.ep_halted &= ~(1u << slot);
    }
    return ok;
}

static void clear_config(void)
{
    memset(s_dev.alt, 0, sizeof s_dev.alt);
    memset(s_dev.ep_itf, NO_ITF, sizeof s_dev.ep_itf);
    s_dev.ep_halted = 0;
}

/* Back to a state without configuration: bus reset, disconnect. */
static void device_reset(usbd_state_t state)
{
    bool was_suspended = s_dev.suspended;
    memset(&s_dev.ctrl, 0, sizeof s_dev.ctrl);
    s_dev.state = state;
    s_dev.address = 0;
    s_dev.remote_wakeup = false;
    s_dev.suspended = false;
    clear_config();
    if (was_suspended && s_dev.desc->on_suspend != NULL) {
        s_dev.desc->on_suspend(false);
    }
    reset_classes();
}

/* ---- EP0 engine -------------------------------------------------------- */

static void ctrl_stall(void)
{
    s_dev.ctrl.stage = CTRL_STALLED;
    dcd_ep_stall(0x00);
}

static void ctrl_status_in(void)
{
    s_dev.ctrl.stage = CTRL_STATUS_IN;
    s_dev.ctrl.chunk = 0;
    DCD_ASSERT(dcd_ep_xfer(0x80, s_dev.buf, 0));
}

static void ctrl_next_in(void)
{
    s_dev.ctrl.chunk = min16(USBD_EP0_SIZE, (uint16_t)(s_dev.ctrl.total - s_dev.ctrl.done));
    DCD_ASSERT(dcd_ep_xfer(0x80, s_dev.ctrl.data + s_dev.ctrl.done, s_dev.ctrl.chunk));
}

/* Reply to an IN request: the data stage, cut to wLength. */
static void ctrl_send(uint8_t *data, uint16_t len)
{
    uint16_t wlen = s_dev.ctrl.setup.wLength;
    if (wlen == 0) { /* no data stage at all */
        ctrl_status_in();
        return;
    }
    s_dev.ctrl.stage = CTRL_DATA_IN;
    s_dev.ctrl.data = data;
    s_dev.ctrl.total = min16(len, wlen);
    s_dev.ctrl.done = 0;
    s_dev.ctrl.zlp =
        s_dev.ctrl.total < wlen && s_dev.ctrl.total != 0 && s_dev.ctrl.total % USBD_EP0_SIZE == 0;
    ctrl_next_in();
}

static void ctrl_next_out(void)
{
    s_dev.ctrl.chunk = min16(USBD_EP0_SIZE, (uint16_t)(s_dev.ctrl.total - s_dev.ctrl.done));
    DCD_ASSERT(dcd_ep_xfer(0x00, s_dev.ctrl.data + s_dev.ctrl.done, s_dev.ctrl.chunk));
}

/* Let a driver handle a request whose data (if any) is in s_dev.buf. OUT: the
 * whole data stage is in (cap = wLength); IN: room for the reply. */
static int call_driver(void)
{
    const usbd_class_driver_t *drv = s_dev.ctrl.owner;
    int (*fn)(void *, const usb_setup_t *, uint8_t *, uint16_t) =
        s_dev.ctrl.owner_std ? drv->std_control : drv->control;
    uint16_t cap = s_dev.ctrl.setup.wLength;
    if ((s_dev.ctrl.setup.bmRequestType & USB_DIR_IN) != 0) {
        cap = min16(cap, s_dev.buf_size);
    }
    return fn(drv->ctx, &s_dev.ctrl.setup, s_dev.buf, cap);
}

static void route_to_driver(const usbd_class_driver_t *drv, bool std)
{
    const usb_setup_t *s = &s_dev.ctrl.setup;
    if (drv == NULL || (std ? drv->std_control : drv->control) == NULL) {
        ctrl_stall();
        return;
    }
    s_dev.ctrl.owner = drv;
    s_dev.ctrl.owner_std = std;
    if ((s->bmRequestType & USB_DIR_IN) == 0 && s->wLength != 0) {
        if (s->wLength > s_dev.buf_size) {
            /* Too long to receive: the driver still hears of the request (no
             * data received: cap 0 < wLength; data still points to the control
             * buffer, never NULL) so it can record the protocol error (DFU:
             * errSTALLEDPKT), then it is stalled whatever the driver says. */
            int (*fn)(void *, const usb_setup_t *, uint8_t *, uint16_t) =
                std ? drv->std_control : drv->control;
            (void)fn(drv->ctx, s, s_dev.buf, 0);
            ctrl_stall();
            return;
        }
        s_dev.ctrl.stage = CTRL_DATA_OUT;
        s_dev.ctrl.data = s_dev.buf;
        s_dev.ctrl.total = s->wLength;
        s_dev.ctrl.done = 0;
        ctrl_next_out();
        return;
    }
    int n = call_driver();
    if (n < 0) {
        ctrl_stall();
        return;
    }
    if ((s->bmRequestType & USB_DIR_IN) != 0) {
        ctrl_send(s_dev.buf, min16((uint16_t)(n > 0xffff ? 0xffff : n), s_dev.buf_size));
    } else {
        ctrl_status_in();
    }
}

static void ctrl_complete(void)
{
    ctrl_t done = s_dev.ctrl;
    s_dev.ctrl.stage = CTRL_IDLE;
    if (done.set_address) {
        s_dev.address = done.address;
        if (s_dev.state != USBD_STATE_CONFIGURED) {
            s_dev.state = done.address != 0 ? USBD_STATE_ADDRESSED : USBD_STATE_DEFAULT;
        }
    }
    if (done.owner != NULL && done.owner->control_done != NULL) {
        done.owner->control_done(done.owner->ctx, &done.setup);
    }
}

static void ep0_xfer_done(uint8_t ep_addr, uint16_t len)
{
    bool in = (ep_addr & USB_DIR_IN) != 0;
    switch (s_dev.ctrl.stage) {
    case CTRL_DATA_IN:
        if (!in) {
            return; /* stale completion of an abandoned transfer */
        }
        s_dev.ctrl.done = (uint16_t)(s_dev.ctrl.done + s_dev.ctrl.chunk);
        if (s_dev.ctrl.done < s_dev.ctrl.total) {
            ctrl_next_in();
        } else if (s_dev.ctrl.zlp) {
            s_dev.ctrl.zlp = false;
            ctrl_next_in(); /* zero bytes left: a zero-length packet */
        } else {
            s_dev.ctrl.stage = CTRL_STATUS_OUT;
            s_dev.ctrl.chunk = 0;
            DCD_ASSERT(dcd_ep_xfer(0x00, s_dev.buf, 0));
        }
        break;
    case CTRL_DATA_OUT:
        if (in) {
            return;
        }
        if (len > s_dev.ctrl.chunk ||
            (len < s_dev.ctrl.chunk && s_dev.ctrl.done + len < s_dev.ctrl.total)) {
            ctrl_stall(); /* babble, or the host ended the data stage early */
            return;
        }
        s_dev.ctrl.done = (uint16_t)(s_dev.ctrl.done + len);
        if (s_dev.ctrl.done < s_dev.ctrl.total) {
            ctrl_next_out();
        } else if (call_driver() < 0) {
            ctrl_stall();
        } else {
            ctrl_status_in();
        }
        break;
    case CTRL_STATUS_IN:
        if (in) {
            ctrl_complete();
        }
        break;
    case CTRL_STATUS_OUT:
        if (!in) {
            ctrl_complete();
        }
        break;
    case CTRL_IDLE:
    case CTRL_STALLED:
        break;
    }
}

/* ---- standard requests -------------------------------------------------- */

static bool is_in(void)
{
    return (s_dev.ctrl.setup.bmRequestType & USB_DIR_IN) != 0;
}

static void reply16(uint16_t v)
{
    s_dev.reply[0] = (uint8_t)(v & 0xffu);
    s_dev.reply[1] = (uint8_t)(v >> 8);
    ctrl_send(s_dev.reply, 2);
}

static void get_descriptor(void)
{
    uint8_t type = (uint8_t)(s_dev.ctrl.setup.wValue >> 8);
    uint8_t index = (uint8_t)(s_dev.ctrl.setup.wValue & 0xffu);
    switch (type) {
    case USB_DT_DEVICE:
        ctrl_send(s_dev.ds.buf, USBD_DEVICE_DESC_LEN);
        break;
    case USB_DT_CONFIG:
        if (index != 0) {
            ctrl_stall();
        } else {
            ctrl_send(s_dev.ds.buf + s_dev.ds.cfg_off, s_dev.ds.cfg_len);
        }
        break;
    case USB_DT_STRING:
        if (index >= s_dev.ds.num_strings) {
            ctrl_stall();
        } else {
            uint8_t *s = s_dev.ds.buf + s_dev.ds.str_off[index];
            ctrl_send(s, s[0]);
        }
        break;
    case USB_DT_BOS: /* USB 3.2 9.6.2: wTotalLength at bytes 2..3 */
        if (s_dev.desc->ms_os20 != NULL && index == 0) {
            const uint8_t *bos = s_dev.desc->ms_os20->bos;
            /* const: an IN data stage only reads its buffer */
            ctrl_send((uint8_t *)(uintptr_t)bos, (uint16_t)(bos[2] | bos[3] << 8));
            break;
        }
        ctrl_stall();
        break;
    default:
        /* Device qualifier and other-speed configuration: a full-speed-only
         * device stalls them (USB 2.0 9.6.2). */
        ctrl_stall();
        break;
    }
}

/* false (the request fails, the device stays unconfigured) when the
 * controller cannot open the configuration's endpoints. */
static bool set_configuration(uint8_t value)
{
    bool ok = true;
    dcd_ep_close_all();
    clear_config();
    s_dev.state = s_dev.address != 0 ? USBD_STATE_ADDRESSED : USBD_STATE_DEFAULT;
    if (value == 1) {
        for (uint8_t i = 0; i < s_dev.desc->num_itfs; i++) {
            ok = open_alt(i, 0) && ok;
        }
        if (ok) {
            s_dev.state = USBD_STATE_CONFIGURED;
        } else {
            clear_config(); /* what did open is unmapped: nothing reaches it */
        }
    }
    reset_classes();
    return ok;
}

static void std_device(void)
{
    const usb_setup_t *s = &s_dev.ctrl.setup;
    switch (s->bRequest) {
    case USB_REQ_GET_STATUS:
        if (!is_in()) {
            break;
        }
        reply16((uint16_t)(((s_dev.desc->attributes & USB_CONFIG_ATTR_SELF_POWERED) ? 1u : 0u) |
                           (s_dev.remote_wakeup ? 2u : 0u)));
        return;
    case USB_REQ_CLEAR_FEATURE:
    case USB_REQ_SET_FEATURE:
        if (is_in() || s->wValue != USB_FEATURE_DEVICE_REMOTE_WAKEUP ||
            (s_dev.desc->attributes & USB_CONFIG_ATTR_REMOTE_WAKEUP) == 0) {
            break; /* TEST_MODE is high-speed only */
        }
        s_dev.remote_wakeup = s->bRequest == USB_REQ_SET_FEATURE;
        ctrl_status_in();
        return;
    case USB_REQ_SET_ADDRESS: /* stalled once configured (unspecified in 9.4.6) */
        if (is_in() || s->wValue > 127u || s->wIndex != 0 || s->wLength != 0 ||
            s_dev.state == USBD_STATE_CONFIGURED) {
            break;
        }
        dcd_set_address((uint8_t)s->wValue);
        s_dev.ctrl.set_address = true;
        s_dev.ctrl.address = (uint8_t)s->wValue;
        ctrl_status_in();
        return;
    case USB_REQ_GET_DESCRIPTOR:
        if (!is_in()) {
            break;
        }
        get_descriptor();
        return;
    case USB_REQ_GET_CONFIGURATION:
        if (!is_in()) {
            break;
        }
        s_dev.reply[0] = s_dev.state == USBD_STATE_CONFIGURED ? 1u : 0u;
        ctrl_send(s_dev.reply, 1);
        return;
    case USB_REQ_SET_CONFIGURATION:
        /* Accepted in the Default state too (USB 2.0 leaves it unspecified):
         * a simulator bridge may configure without addressing first. */
        if (is_in() || s->wValue > 1u) {
            break;
        }
        if (!set_configuration((uint8_t)s->wValue)) {
            break;
        }
        ctrl_status_in();
        return;
    default: /* SET_DESCRIPTOR and anything unknown */
        break;
    }
    ctrl_stall();
}

static bool set_interface(uint8_t itf, uint8_t alt)
{
    const usbd_interface_desc_t *d = &s_dev.desc->itfs[itf];
    uint8_t old = s_dev.alt[itf];
    if (alt >= d->num_alts) {
        return false;
    }
    unmap_alt(itf);
    if (!open_alt(itf, alt) || (d->driver != NULL && d->driver->set_alt != NULL &&
                                !d->driver->set_alt(d->driver->ctx, itf, alt))) {
        unmap_alt(itf);
        (void)open_alt(itf, old); /* reopened: it fitted before */
        return false;
    }
    return true;
}

static void std_interface(void)
{
    const usb_setup_t *s = &s_dev.ctrl.setup;
    uint8_t itf = (uint8_t)(s->wIndex & 0xffu);
    if (s_dev.state != USBD_STATE_CONFIGURED || itf >= s_dev.desc->num_itfs) {
        ctrl_stall();
        return;
    }
    switch (s->bRequest) {
    case USB_REQ_GET_STATUS:
        if (!is_in()) {
            break;
        }
        reply16(0);
        return;
    case USB_REQ_GET_INTERFACE:
        if (!is_in()) {
            break;
        }
        s_dev.reply[0] = s_dev.alt[itf];
        ctrl_send(s_dev.reply, 1);
        return;
    case USB_REQ_SET_INTERFACE:
        if (is_in() || s->wValue > 0xffu || !set_interface(itf, (uint8_t)s->wValue)) {
            break;
        }
        ctrl_status_in();
        return;
    case USB_REQ_CLEAR_FEATURE:
    case USB_REQ_SET_FEATURE:
        break; /* USB 2.0 defines no interface features */
    default:
        route_to_driver(itf_driver(itf), true); /* e.g. HID report descriptor */
        return;
    }
    ctrl_stall();
}

static void std_endpoint(void)
{
    const usb_setup_t *s = &s_dev.ctrl.setup;
    uint8_t ep = (uint8_t)(s->wIndex & 0xffu);
    unsigned slot = ep_slot(ep);
    bool ep0 = (ep & 0x7fu) == 0;
    if ((ep & 0x70u) != 0 ||
        (!ep0 && (s_dev.state != USBD_STATE_CONFIGURED || s_dev.ep_itf[slot] == NO_ITF))) {
        ctrl_stall();
        return;
    }
    switch (s->bRequest) {
    case USB_REQ_GET_STATUS:
        if (!is_in()) {
            break;
        }
        reply16((s_dev.ep_halted & (1u << slot)) ? 1u : 0u);
        return;
    case USB_REQ_CLEAR_FEATURE:
    case USB_REQ_SET_FEATURE:
        if (is_in() || s->wValue != USB_FEATURE_ENDPOINT_HALT) {
            break;
        }
        /* EP0 has no halt feature to keep (USB 2.0 9.4.5): accept, do nothing. */
        if (!ep0) {
            if (s->bRequest == USB_REQ_SET_FEATURE) {
                s_dev.ep_halted |= 1u << slot;
                dcd_ep_stall(ep);
            } else {
                s_dev.ep_halted &= ~(1u << slot);
                dcd_ep_clear_stall(ep);
            }
        }
        ctrl_status_in();
        return;
    default: /* SYNCH_FRAME: no isochronous endpoints */
        break;
    }
    ctrl_stall();
}

static void class_request(void)
{
    const usb_setup_t *s = &s_dev.ctrl.setup;
    uint8_t itf = NO_ITF;
    if (s_dev.state != USBD_STATE_CONFIGURED) {
        ctrl_stall();
        return;
    }
    switch (s->bmRequestType & USB_RECIP_MASK) {
    case USB_RECIP_INTERFACE:
        itf = (uint8_t)(s->wIndex & 0xffu);
        break;
    case USB_RECIP_ENDPOINT:
        itf = s_dev.ep_itf[ep_slot((uint8_t)(s->wIndex & 0xffu))];
        break;
    default:
        break;
    }
    route_to_driver(itf_driver(itf), false);
}

/* ---- events from the dcd -------------------------------------------------- */

void usbd_event_setup(const uint8_t setup[8])
{
    if (s_dev.desc == NULL) {
        return;
    }
    memset(&s_dev.ctrl, 0, sizeof s_dev.ctrl);
    s_dev.ctrl.setup = usb_setup_parse(setup);
    const usb_setup_t *s = &s_dev.ctrl.setup;
    const usbd_ms_os20_t *ms = s_dev.desc->ms_os20;
    /* The Microsoft OS 2.0 descriptor set (MS OS 2.0 Descriptors
     * Specification, Table 8): vendor, device, IN; in any state. */
    if (ms != NULL && s->bmRequestType == (USB_DIR_IN | USB_TYPE_VENDOR | USB_RECIP_DEVICE) &&
        s->bRequest == ms->vendor_code && s->wIndex == MS_OS20_DESCRIPTOR_INDEX) {
        ctrl_send((uint8_t *)(uintptr_t)ms->set, ms->set_len); /* read only, as above */
        return;
    }
    if ((s->bmRequestType & USB_TYPE_MASK) != USB_TYPE_STANDARD) {
        class_request();
        return;
    }
    switch (s->bmRequestType & USB_RECIP_MASK) {
    case USB_RECIP_DEVICE:
        std_device();
        break;
    case USB_RECIP_INTERFACE:
        std_interface();
        break;
    case USB_RECIP_ENDPOINT:
        std_endpoint();
        break;
    default:
        ctrl_stall();
        break;
    }
}

void usbd_event_xfer_done(uint8_t ep_addr, uint16_t len)
{
    if (s_dev.desc == NULL) {
        return;
    }
    if ((ep_addr & 0x0fu) == 0) {
        ep0_xfer_done(ep_addr, len);
        return;
    }
    uint8_t itf = s_dev.ep_itf[ep_slot(ep_addr)];
    const usbd_class_driver_t *drv = itf_driver(itf);
    if (s_dev.state == USBD_STATE_CONFIGURED && drv != NULL && drv->xfer_done != NULL) {
        drv->xfer_done(drv->ctx, ep_addr, len);
    }
}

void usbd_event_bus_reset(void)
{
    if (s_dev.desc == NULL) {
        return;
    }
    dcd_set_address(0);
    dcd_ep_close_all();
    device_reset(USBD_STATE_DEFAULT);
}

void usbd_event_disconnect(void)
{
    if (s_dev.desc == NULL) {
        return;
    }
    dcd_ep_close_all();
    device_reset(USBD_STATE_DETACHED);
}

void usbd_event_suspend(void)
{
    if (s_dev.desc == NULL || s_dev.suspended || s_dev.state == USBD_STATE_DETACHED) {
        return;
    }
    s_dev.suspended = true;
    if (s_dev.desc->on_suspend != NULL) {
        s_dev.desc->on_suspend(true);
    }
}

void usbd_event_resume(void)
{
    if (s_dev.desc == NULL || !s_dev.suspended) {
        return;
    }
    s_dev.suspended = false;
    if (s_dev.desc->on_suspend != NULL) {
        s_dev.desc->on_suspend(false);
    }
}

/* ---- API ------------------------------------------------------------------ */

bool usbd_init(const usbd_device_desc_t *desc)
{
    memset(&s_dev, 0, sizeof s_dev);
    clear_config();
    if (!usbd_desc_build(&s_dev.ds, desc)) {
        return false;
    }
    s_dev.desc = desc;
    s_dev.buf = desc->ctrl_buf != NULL ? desc->ctrl_buf : ctrl_default_buf;
    s_dev.buf_size = desc->ctrl_buf != NULL ? desc->ctrl_buf_size : (uint16_t)USBD_CTRL_BUF_SIZE;
    s_dev.state = USBD_STATE_DETACHED;
    dcd_init();
    return true;
}

void usbd_task(void)
{
    if (s_dev.desc == NULL) {
        return;
    }
    dcd_poll();
    for (uint8_t i = 0; i < s_dev.desc->num_itfs; i++) {
        const usbd_class_driver_t *drv = s_dev.desc->itfs[i].driver;
        if (first_owner(i) && drv->poll != NULL) {
            drv->poll(drv->ctx);
        }
    }
}

void usbd_connect(void)
{
    if (s_dev.desc != NULL) {
        dcd_connect();
    }
}

void usbd_disconnect(void)
{
    if (s_dev.desc == NULL) {
        return;
    }
    dcd_disconnect();
    usbd_event_disconnect();
}

usbd_state_t usbd_state(void)
{
    return s_dev.state;
}

bool usbd_configured(void)
{
    return s_dev.state == USBD_STATE_CONFIGURED;
}

bool usbd_suspended(void)
{
    return s_dev.suspended;
}

uint8_t usbd_alt_setting(uint8_t itf)
{
    return itf < USBD_MAX_INTERFACES ? s_dev.alt[itf] : 0;
}

bool usbd_ep_xfer(uint8_t ep_addr, uint8_t *buf, uint16_t len)
{
    unsigned slot = ep_slot(ep_addr);
    if (s_dev.state != USBD_STATE_CONFIGURED || (ep_addr & 0x0fu) == 0 || (ep_addr & 0x70u) != 0 ||
        s_dev.ep_itf[slot] == NO_ITF || (s_dev.ep_halted & (1u << slot)) != 0) {
        return false;
    }
    return dcd_ep_xfer(ep_addr, buf, len);
}

const uint8_t *usbd_device_descriptor(void)
{
    return s_dev.desc != NULL ? s_dev.ds.buf : NULL;
}

const uint8_t *usbd_config_descriptor(uint16_t *len)
{
    if (s_dev.desc == NULL) {
        *len = 0;
        return NULL;
    }
    *len = s_dev.ds.cfg_len;
    return s_dev.ds.buf + s_dev.ds.cfg_off;
}

const uint8_t *usbd_string_descriptor(uint8_t index)
{
    if (s_dev.desc == NULL || index >= s_dev.ds.num_strings) {
        return NULL;
    }
    return s_dev.ds.buf + s_dev.ds.str_off[index];
}

uint8_t usbd_string_index_of_alt(uint8_t itf, uint8_t alt)
{
    return usbd_desc_alt_string_index(s_dev.desc, itf, alt);
}
