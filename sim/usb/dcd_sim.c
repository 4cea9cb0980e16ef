/*
 * Virtual USB device controller (see dcd_sim.h). The model is full speed with
 * a 64-byte EP0 (dcd.h): each armed EP0 transfer moves one packet.
 */
#include "dcd_sim.h"

#include <errno.h>
#include <string.h>

#define EP0_MPS 64u
/* Events raised per dcd_poll() at most: enough for a whole control transfer
 * of 4 KiB, and a bound should a device core re-arm forever. */
#define POLL_EVENTS_MAX 256

typedef struct armed {
    bool on;
    uint8_t *buf;
    uint16_t len;
} armed_t;

typedef enum ct_phase {
    CT_IDLE = 0,
    CT_SETUP,      /* waiting for dcd_poll() to deliver the SETUP */
    CT_DATA_IN,    /* host reads packets */
    CT_DATA_OUT,   /* host writes packets */
    CT_STATUS_IN,  /* host waits for the device's zero-length IN */
    CT_STATUS_OUT, /* host sends the zero-length OUT */
    CT_DONE,
} ct_phase_t;

static struct {
    bool connected;
    unsigned epoch;
    uint8_t address;
    bool reset_pending;
    armed_t ep0_in, ep0_out;
    bool ep0_stalled;
    /* the host's control transfer */
    ct_phase_t phase;
    uint8_t setup[8];
    uint8_t *data;
    uint16_t wlen, pos;
    int result;
} s;

static void ct_finish(int result)
{
    s.phase = CT_DONE;
    s.result = result;
}

/* ---- dcd.h, called by the device core -------------------------------- */

void dcd_init(void)
{
    s.address = 0;
    s.ep0_in.on = s.ep0_out.on = false;
    s.ep0_stalled = false;
}

void dcd_connect(void)
{
    if (!s.connected) {
        s.connected = true;
        s.epoch++;
    }
}

void dcd_disconnect(void)
{
    if (s.connected) {
        s.connected = false;
        s.epoch++;
        s.address = 0;
        if (s.phase != CT_IDLE && s.phase != CT_DONE) {
            ct_finish(-ENODEV);
        }
    }
}

void dcd_set_address(uint8_t addr)
{
    /* The model applies it at once, as DWC2 does (DCFG.DAD): the status stage
     * of SET_ADDRESS still completes because nothing here checks addresses on
     * EP0 traffic of the transfer in progress. */
    s.address = addr;
}

bool dcd_ep_open(uint8_t ep_addr, uint8_t type, uint16_t max_packet)
{
    /* Only EP0 traffic is carried by the host side so far; accept the
     * configuration so the core can proceed. */
    (void)ep_addr;
    (void)type;
    return max_packet > 0 && max_packet <= 64;
}

void dcd_ep_close_all(void)
{
}

bool dcd_ep_xfer(uint8_t ep_addr, uint8_t *buf, uint16_t len)
{
    if ((ep_addr & 0x7fu) != 0) {
        return false;
    }
    if (len > EP0_MPS || (len > 0 && buf == NULL)) {
        return false;
    }
    armed_t *a = (ep_addr & 0x80u) ? &s.ep0_in : &s.ep0_out;
    a->on = true;
    a->buf = buf;
    a->len = len;
    return true;
}

void dcd_ep_stall(uint8_t ep_addr)
{
    if ((ep_addr & 0x7fu) == 0) {
        s.ep0_stalled = true; /* protocol stall until the next SETUP */
    }
}

void dcd_ep_clear_stall(uint8_t ep_addr)
{
    if ((ep_addr & 0x7fu) == 0) {
        s.ep0_stalled = false;
    }
}

/* One event at most; false when nothing can move. */
static bool step_once(void)
{
    if (!s.connected) {
        return false;
    }
    if (s.reset_pending) {
        s.reset_pending = false;
        s.ep0_in.on = s.ep0_out.on = false;
        s.ep0_stalled = false;
        s.address = 0;
        usbd_event_bus_reset();
        return true;
    }
    switch (s.phase) {
    case CT_SETUP: {
        /* A SETUP drops whatever EP0 had armed and clears the stall. */
        s.ep0_in.on = s.ep0_out.on = false;
        s.ep0_stalled = false;
        if (s.wlen == 0) {
            s.phase = CT_STATUS_IN;
        } else {
            s.phase = (s.setup[0] & 0x80u) ? CT_DATA_IN : CT_DATA_OUT;
        }
        usbd_event_setup(s.setup);
        return true;
    }
    case CT_DATA_IN:
    case CT_DATA_OUT:
    case CT_STATUS_IN:
    case CT_STATUS_OUT:
        if (s.ep0_stalled) {
            ct_finish(-EPIPE);
            return true;
        }
        break;
    default:
        return false;
    }

    if (s.phase == CT_DATA_IN && s.ep0_in.on) {
        uint16_t room = (uint16_t)(s.wlen - s.pos);
        uint16_t n = s.ep0_in.len < room ? s.ep0_in.len : room;
        if (n) {
            memcpy(s.data + s.pos, s.ep0_in.buf, n);
        }
        s.pos = (uint16_t)(s.pos + n);
        s.ep0_in.on = false;
        /* A short packet or a full buffer ends the data stage. */
        if (s.ep0_in.len < EP0_MPS || s.pos == s.wlen) {
            s.phase = CT_STATUS_OUT;
        }
        usbd_event_xfer_done(0x80, s.ep0_in.len);
        return true;
    }
    if (s.phase == CT_DATA_OUT && s.ep0_out.on) {
        uint16_t left = (uint16_t)(s.wlen - s.pos);
        uint16_t n = left < EP0_MPS ? left : EP0_MPS;
        if (n > s.ep0_out.len) {
            n = s.ep0_out.len; /* device armed less: the rest is lost */
        }
        if (n) {
            memcpy(s.ep0_out.buf, s.data + s.pos, n);
        }
        s.pos = (uint16_t)(s.pos + n);
        s.ep0_out.on = false;
        if (s.pos == s.wlen || n == 0) {
            s.phase = CT_STATUS_IN;
        }
        usbd_event_xfer_done(0x00, n);
        return true;
    }
    if (s.phase == CT_STATUS_OUT && s.ep0_out.on) {
        s.ep0_out.on = false;
        ct_finish(0);
        usbd_event_xfer_done(0x00, 0);
        return true;
    }
    if (s.phase == CT_STATUS_IN && s.ep0_in.on) {
        uint16_t len = s.ep0_in.len;
        s.ep0_in.on = false;
        ct_finish(0);
        usbd_event_xfer_done(0x80, len);
        return true;
    }
    return false;
}

void dcd_poll(void)
{
    for (int i = 0; i < POLL_EVENTS_MAX; i++) {
        if (!step_once()) {
            break;
        }
    }
}

/* ---- host side -------------------------------------------------------- */

void dcd_sim_host_power_off(void)
{
    unsigned epoch = s.epoch;
    memset(&s, 0, sizeof(s));
    s.epoch = epoch + 1;
}

bool dcd_sim_host_connected(void)
{
    return s.connected;
}

unsigned dcd_sim_host_connect_epoch(void)
{
    return s.epoch;
}

void dcd_sim_host_bus_reset(void)
{
    s.reset_pending = true;
    if (s.phase != CT_IDLE && s.phase != CT_DONE) {
        ct_finish(-ECONNRESET);
    }
}

uint8_t dcd_sim_host_address(void)
{
    return s.address;
}

int dcd_sim_host_control_start(const uint8_t setup[8], uint8_t *data)
{
    if (!s.connected) {
        return -ENODEV;
    }
    if (s.phase != CT_IDLE) {
        return -EBUSY;
    }
    memcpy(s.setup, setup, 8);
    s.wlen = (uint16_t)(setup[6] | (setup[7] << 8));
    s.data = data;
    s.pos = 0;
    s.result = 0;
    s.phase = CT_SETUP;
    return 0;
}

int dcd_sim_host_control_result(uint16_t *actual)
{
    if (s.phase == CT_IDLE) {
        return -EINVAL;
    }
    if (s.phase != CT_DONE) {
        return DCD_SIM_PENDING;
    }
    if (actual) {
        *actual = s.pos;
    }
    s.phase = CT_IDLE;
    s.data = NULL;
    return s.result;
}

void dcd_sim_host_control_cancel(void)
{
    /* What the device armed stays armed: the next SETUP drops it, as on the
     * wire. */
    s.phase = CT_IDLE;
    s.data = NULL;
}
