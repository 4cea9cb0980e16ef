/* The fuzzers' controller: see fuzz_dcd.h. */
#include "fuzz_dcd.h"

#include <string.h>

#include "dcd.h"
#include "fuzz_common.h"
#include "usbd_config.h"

typedef struct ep_state {
    bool open;
    bool halted;
    bool armed;
    uint8_t type;
    uint16_t max_packet;
    uint8_t *buf;
    uint16_t len;
} ep_state_t;

static struct {
    ep_state_t ep[32];
    bool ep0_stalled;
    bool connected;
    bool inited;
    uint8_t address;
} d;

static unsigned slot(uint8_t ep_addr)
{
    return (ep_addr & 0x0fu) | ((ep_addr & 0x80u) ? 16u : 0u);
}

void fuzz_dcd_reset(void)
{
    memset(&d, 0, sizeof d);
}

/* ---- dcd.h: what the core calls ---- */

void dcd_init(void)
{
    d.inited = true;
}

void dcd_connect(void)
{
    d.connected = true;
}

void dcd_disconnect(void)
{
    d.connected = false;
}

void dcd_set_address(uint8_t addr)
{
    FUZZ_CHECK(addr <= 127u); /* USB 2.0 9.4.6 */
    d.address = addr;
}

bool dcd_ep_open(uint8_t ep_addr, uint8_t type, uint16_t max_packet)
{
    FUZZ_CHECK((ep_addr & 0x0fu) != 0 && (ep_addr & 0x70u) == 0);
    FUZZ_CHECK(type == 2u || type == 3u);
    FUZZ_CHECK(max_packet > 0 && max_packet <= 64u); /* full speed */
    ep_state_t *e = &d.ep[slot(ep_addr)];
    e->open = true;
    e->halted = false;
    e->armed = false;
    e->type = type;
    e->max_packet = max_packet;
    return true;
}

void dcd_ep_close_all(void)
{
    for (unsigned i = 0; i < 32; i++) {
        if ((i & 0x0fu) != 0) {
            memset(&d.ep[i], 0, sizeof d.ep[i]);
        }
    }
}

bool dcd_ep_xfer(uint8_t ep_addr, uint8_t *buf, uint16_t len)
{
    FUZZ_CHECK((ep_addr & 0x70u) == 0);
    ep_state_t *e = &d.ep[slot(ep_addr)];
    FUZZ_CHECK(len == 0 || buf != NULL);
    if ((ep_addr & 0x0fu) == 0) {
        FUZZ_CHECK(len <= USBD_EP0_SIZE); /* one packet per EP0 transfer */
    } else {
        FUZZ_CHECK(e->open);
        FUZZ_CHECK(len <= e->max_packet);
        if (e->halted) {
            return false;
        }
    }
    /* Touch the whole buffer now: ASan flags a buffer that is too small. */
    if (len != 0) {
        volatile uint8_t sink = 0;
        for (uint16_t i = 0; i < len; i++) {
            sink ^= buf[i];
        }
        (void)sink;
    }
    e->armed = true;
    e->buf = buf;
    e->len = len;
    return true;
}

void dcd_ep_stall(uint8_t ep_addr)
{
    if ((ep_addr & 0x0fu) == 0) {
        d.ep0_stalled = true;
        d.ep[0].armed = false;
        d.ep[16].armed = false;
        return;
    }
    FUZZ_CHECK((ep_addr & 0x70u) == 0);
    d.ep[slot(ep_addr)].halted = true;
    d.ep[slot(ep_addr)].armed = false;
}

void dcd_ep_clear_stall(uint8_t ep_addr)
{
    FUZZ_CHECK((ep_addr & 0x70u) == 0);
    d.ep[slot(ep_addr)].halted = false;
}

void dcd_poll(void)
{
}

/* ---- host side ---- */

void fuzz_dcd_setup(const uint8_t raw[8])
{
    d.ep[0].armed = false;
    d.ep[16].armed = false;
    d.ep0_stalled = false;
    usbd_event_setup(raw);
}

int fuzz_dcd_in(uint8_t ep, uint8_t *out)
{
    ep_state_t *e = &d.ep[slot((uint8_t)(ep | 0x80u))];
    if (!e->armed || ((ep & 0x0fu) == 0 ? d.ep0_stalled : e->halted)) {
        return -1;
    }
    e->armed = false;
    uint16_t n = e->len;
    if (out != NULL && n != 0) {
        memcpy(out, e->buf, n);
    }
    usbd_event_xfer_done((uint8_t)((ep & 0x0fu) | 0x80u), n);
    return n;
}

int fuzz_dcd_out(uint8_t ep, const uint8_t *data, uint16_t len)
{
    ep_state_t *e = &d.ep[slot((uint8_t)(ep & 0x0fu))];
    if (!e->armed || ((ep & 0x0fu) == 0 ? d.ep0_stalled : e->halted)) {
        return -1;
    }
    if (len > e->len) {
        len = e->len;
    }
    e->armed = false;
    if (len != 0) {
        memcpy(e->buf, data, len);
    }
    usbd_event_xfer_done((uint8_t)(ep & 0x0fu), len);
    return len;
}

void fuzz_dcd_bus_reset(void)
{
    for (unsigned i = 0; i < 32; i++) {
        d.ep[i].armed = false;
    }
    d.ep0_stalled = false;
    usbd_event_bus_reset();
}

void fuzz_dcd_suspend(bool suspended)
{
    if (suspended) {
        usbd_event_suspend();
    } else {
        usbd_event_resume();
    }
}

bool fuzz_dcd_ep0_stalled(void)
{
    return d.ep0_stalled;
}

bool fuzz_dcd_armed(uint8_t ep_addr, uint16_t *len)
{
    const ep_state_t *e = &d.ep[slot(ep_addr)];
    if (e->armed && len != NULL) {
        *len = e->len;
    }
    return e->armed;
}

bool fuzz_dcd_connected(void)
{
    return d.connected;
}

uint8_t fuzz_dcd_address(void)
{
    return d.address;
}
