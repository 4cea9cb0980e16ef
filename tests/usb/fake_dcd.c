/* Scripted fake dcd: see fake_dcd.h. */
#include "fake_dcd.h"

#include <string.h>

#include "dcd.h"

typedef struct pending {
    bool armed;
    uint8_t *buf;
    uint16_t len;
} pending_t;

static struct {
    fake_event_t log[FAKE_LOG_MAX];
    unsigned log_len;
    unsigned counts[FAKE_CALL_KINDS];
    pending_t ep[32];
    bool open[32];
    bool halted[32];
    bool ep0_stalled;
    uint8_t address;
    uint8_t refuse_open; /* this endpoint's opens fail (0: none) */
} f;

static unsigned slot(uint8_t ep)
{
    return (ep & 0x0fu) | ((ep & 0x80u) ? 16u : 0u);
}

static void record(fake_call_t call, uint8_t ep, uint8_t type, uint16_t len)
{
    f.counts[call]++;
    if (f.log_len < FAKE_LOG_MAX) {
        fake_event_t e = {call, ep, type, len};
        f.log[f.log_len++] = e;
    }
}

void fake_dcd_reset(void)
{
    memset(&f, 0, sizeof f);
}

unsigned fake_dcd_count(fake_call_t call)
{
    return f.counts[call];
}

const fake_event_t *fake_dcd_last(fake_call_t call)
{
    for (unsigned i = f.log_len; i > 0; i--) {
        if (f.log[i - 1].call == call) {
            return &f.log[i - 1];
        }
    }
    return NULL;
}

unsigned fake_dcd_log_len(void)
{
    return f.log_len;
}

const fake_event_t *fake_dcd_log(unsigned i)
{
    return i < f.log_len ? &f.log[i] : NULL;
}

bool fake_dcd_ep0_stalled(void)
{
    return f.ep0_stalled;
}

bool fake_dcd_pending(uint8_t ep, uint16_t *len)
{
    const pending_t *p = &f.ep[slot(ep)];
    if (p->armed && len != NULL) {
        *len = p->len;
    }
    return p->armed;
}

bool fake_dcd_is_open(uint8_t ep)
{
    return f.open[slot(ep)];
}

bool fake_dcd_halted(uint8_t ep)
{
    return f.halted[slot(ep)];
}

uint8_t fake_dcd_address(void)
{
    return f.address;
}

/* ---- dcd.h ---- */

void dcd_init(void)
{
    record(FAKE_INIT, 0, 0, 0);
}

void dcd_connect(void)
{
    record(FAKE_CONNECT, 0, 0, 0);
}

void dcd_disconnect(void)
{
    record(FAKE_DISCONNECT, 0, 0, 0);
}

void dcd_set_address(uint8_t addr)
{
    f.address = addr;
    record(FAKE_SET_ADDRESS, addr, 0, 0);
}

bool dcd_ep_open(uint8_t ep_addr, uint8_t type, uint16_t max_packet)
{
    record(FAKE_EP_OPEN, ep_addr, type, max_packet);
    if (f.refuse_open != 0 && ep_addr == f.refuse_open) {
        return false; /* e.g. the controller's FIFO RAM is exhausted */
    }
    f.open[slot(ep_addr)] = true;
    return true;
}

void fake_dcd_refuse_open(uint8_t ep)
{
    f.refuse_open = ep;
}

void dcd_ep_close_all(void)
{
    for (unsigned i = 0; i < 32; i++) {
        if ((i & 0x0fu) != 0) {
            f.open[i] = false;
            f.halted[i] = false;
            f.ep[i].armed = false;
        }
    }
    record(FAKE_EP_CLOSE_ALL, 0, 0, 0);
}

bool dcd_ep_xfer(uint8_t ep_addr, uint8_t *buf, uint16_t len)
{
    pending_t *p = &f.ep[slot(ep_addr)];
    record(FAKE_EP_XFER, ep_addr, 0, len);
    if ((ep_addr & 0x0fu) == 0 && len > 64u) {
        return false; /* the EP0 contract: one packet per transfer */
    }
    p->armed = true;
    p->buf = buf;
    p->len = len;
    return true;
}

void dcd_ep_stall(uint8_t ep_addr)
{
    record(FAKE_EP_STALL, ep_addr, 0, 0);
    if ((ep_addr & 0x0fu) == 0) {
        f.ep0_stalled = true;
        f.ep[0].armed = false;
        f.ep[16].armed = false;
    } else {
        f.halted[slot(ep_addr)] = true;
    }
}

void dcd_ep_clear_stall(uint8_t ep_addr)
{
    record(FAKE_EP_CLEAR_STALL, ep_addr, 0, 0);
    f.halted[slot(ep_addr)] = false;
}

void dcd_poll(void)
{
    record(FAKE_POLL, 0, 0, 0);
}

/* ---- host side ---- */

void fake_dcd_setup(uint8_t bm, uint8_t req, uint16_t value, uint16_t index, uint16_t length)
{
    uint8_t raw[8] = {bm,
                      req,
                      (uint8_t)(value & 0xffu),
                      (uint8_t)(value >> 8),
                      (uint8_t)(index & 0xffu),
                      (uint8_t)(index >> 8),
                      (uint8_t)(length & 0xffu),
                      (uint8_t)(length >> 8)};
    f.ep[0].armed = false;
    f.ep[16].armed = false;
    f.ep0_stalled = false;
    usbd_event_setup(raw);
}

bool fake_dcd_complete_in(uint8_t ep, uint8_t *out, uint16_t *len)
{
    pending_t *p = &f.ep[slot(ep | 0x80u)];
    if (!p->armed) {
        return false;
    }
    p->armed = false;
    if (out != NULL && p->len != 0) {
        memcpy(out, p->buf, p->len);
    }
    if (len != NULL) {
        *len = p->len;
    }
    usbd_event_xfer_done((uint8_t)(ep | 0x80u), p->len);
    return true;
}

bool fake_dcd_complete_out(uint8_t ep, const uint8_t *data, uint16_t len)
{
    pending_t *p = &f.ep[slot(ep & 0x7fu)];
    if (!p->armed || len > p->len) {
        return false;
    }
    p->armed = false;
    if (len != 0) {
        memcpy(p->buf, data, len);
    }
    usbd_event_xfer_done((uint8_t)(ep & 0x7fu), len);
    return true;
}

int host_control_in(uint8_t bm, uint8_t req, uint16_t value, uint16_t index, uint16_t length,
                    uint8_t *buf, host_xfer_t *info)
{
    host_xfer_t local;
    host_xfer_t *x = info != NULL ? info : &local;
    memset(x, 0, sizeof *x);
    fake_dcd_setup(bm, req, value, index, length);
    if (length != 0) {
        for (;;) {
            uint8_t pkt[64];
            uint16_t n;
            if (f.ep0_stalled) {
                return HOST_STALL;
            }
            if (!fake_dcd_complete_in(0x80, pkt, &n)) {
                return HOST_PROTO; /* the device neither sent nor stalled */
            }
            if (n > 64u || x->len + n > length || x->packets >= 64u) {
                return HOST_PROTO; /* babble */
            }
            memcpy(buf + x->len, pkt, n);
            x->pkt_len[x->packets++] = n;
            x->len = (uint16_t)(x->len + n);
            if (n < 64u || x->len == length) {
                break;
            }
        }
    }
    /* Status stage: OUT zero-length packet (IN when there was no data). */
    if (f.ep0_stalled) {
        return HOST_STALL;
    }
    if (length != 0) {
        uint16_t n = 0xffff;
        if (!fake_dcd_pending(0x00, &n) || n != 0 || fake_dcd_pending(0x80, NULL)) {
            return HOST_PROTO;
        }
        (void)fake_dcd_complete_out(0x00, NULL, 0);
    } else {
        uint16_t n = 0xffff;
        if (!fake_dcd_pending(0x80, &n) || n != 0) {
            return HOST_PROTO;
        }
        (void)fake_dcd_complete_in(0x80, NULL, NULL);
    }
    return HOST_OK;
}

int host_control_out(uint8_t bm, uint8_t req, uint16_t value, uint16_t index, const uint8_t *data,
                     uint16_t length)
{
    uint16_t sent = 0;
    fake_dcd_setup(bm, req, value, index, length);
    while (sent < length) {
        uint16_t left = (uint16_t)(length - sent);
        uint16_t n = left < 64u ? left : 64u;
        if (f.ep0_stalled) {
            return HOST_STALL;
        }
        if (!fake_dcd_complete_out(0x00, data + sent, n)) {
            return HOST_PROTO;
        }
        sent = (uint16_t)(sent + n);
    }
    if (f.ep0_stalled) {
        return HOST_STALL;
    }
    uint16_t n = 0xffff;
    if (!fake_dcd_pending(0x80, &n) || n != 0) {
        return HOST_PROTO;
    }
    (void)fake_dcd_complete_in(0x80, NULL, NULL);
    return HOST_OK;
}
