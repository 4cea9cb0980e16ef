/*
 * dcd.h for the Synopsys DWC2 core of the STM32H743's USB2_OTG_FS, device
 * mode, full speed, slave (no DMA) mode. RM0433 57.15 "OTG_HS programming
 * model" (57.15.1 core initialisation, 57.15.3 device initialisation,
 * 57.15.6 device programming model) is the sequence followed here.
 *
 * Main-loop driven: the OTG interrupt line is never enabled (GAHBCFG.GINTMSK
 * = 0); dcd_poll() reads GINTSTS (status bits are set whatever the global
 * mask) and raises the usbd_event_*() callbacks from the caller's context.
 * Flash erases in the DFU class block the loop for up to seconds; USB keeps
 * NAKing meanwhile, which DFU allows (bwPollTimeout tells the host to wait).
 *
 * Transfers are moved one packet at a time: each packet is programmed as a
 * one-packet transfer (PKTCNT = 1), so EP0's tiny DIEPTSIZ0/DOEPTSIZ0 fields
 * (XFRSIZ 7 bits, PKTCNT 2 bits) never limit the length the device core asks
 * for; a transfer ends after len bytes or a short packet. No ZLP is added:
 * the device core asks for it with a zero-length dcd_ep_xfer() when needed.
 *
 * FIFO RAM (4 KiB = 1024 words, RM0433 57.2): RX FIFO 128 words (the
 * minimum per RM0433 57.11.3 is 13 + (64/4 + 1) + 2 x 2 OUT EPs + 1 = 35),
 * EP0 TX FIFO 32 words, then each opened IN endpoint gets max(16, 2 x mps/4)
 * words; dcd_ep_open() fails rather than overrun the RAM.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "dcd.h"
#include "h743_port.h"
#include "regs/otg.h"

#ifndef H7_USB_VBUS_SENSE
/* 0: VBUS not sensed; the B-session valid override keeps the core attached
 * (board powered through the USB port it talks on, Nucleo PA9 free).
 * 1: sense VBUS on PA9 (VBDEN) and report session end as a disconnect. */
#define H7_USB_VBUS_SENSE 0
#endif

#define EP0_MPS        64u
#define RX_FIFO_WORDS  128u
#define TX0_FIFO_WORDS 32u
#define TX_FIFO_MIN    16u
#define TRDT_AHB_FAST  6u /* USB turnaround for AHB >= 32 MHz (RM0433 57.14.4) */

_Static_assert(RX_FIFO_WORDS >= 13u + (EP0_MPS / 4u + 1u) + 2u * 2u + 1u, "RX FIFO minimum");
_Static_assert(RX_FIFO_WORDS + TX0_FIFO_WORDS <= OTG_FIFO_RAM_WORDS, "FIFO RAM");

typedef struct {
    uint8_t *buf;
    uint16_t len;  /* requested */
    uint16_t done; /* moved so far */
    uint16_t mps;
    uint16_t pkt;  /* size of the packet in flight */
    uint16_t fifo; /* IN: words of TX FIFO RAM this endpoint owns */
    bool busy;
} ep_state_t;

static ep_state_t s_in[OTG_NUM_EPS];
static ep_state_t s_out[OTG_NUM_EPS];
static uint32_t s_setup[2];
static uint16_t s_fifo_next; /* first free FIFO RAM word */

static void wait_ahb_idle(void)
{
    (void)h743_wait_reg(&H7_OTG->GRSTCTL, OTG_GRSTCTL_AHBIDL, OTG_GRSTCTL_AHBIDL,
                        H7_WAIT_READY_POLLS);
}

static void flush_tx(uint32_t fifo)
{
    wait_ahb_idle();
    H7_OTG->GRSTCTL = OTG_GRSTCTL_TXFFLSH | OTG_GRSTCTL_TXFNUM(fifo);
    (void)h743_wait_reg(&H7_OTG->GRSTCTL, OTG_GRSTCTL_TXFFLSH, 0u, H7_WAIT_READY_POLLS);
}

static void flush_rx(void)
{
    wait_ahb_idle();
    H7_OTG->GRSTCTL = OTG_GRSTCTL_RXFFLSH;
    (void)h743_wait_reg(&H7_OTG->GRSTCTL, OTG_GRSTCTL_RXFFLSH, 0u, H7_WAIT_READY_POLLS);
}

static void handle_rx(void);

/* Bounded poll of a status bit: a flag that never comes (unplugged cable,
 * core in reset) must not hang the bootloader; the sequences below are
 * written so that a timeout leaves the endpoint NAKing, never transmitting. */
static void wait_bit(volatile uint32_t *reg, uint32_t bit)
{
    for (uint32_t n = 0; n < 200000u && (*reg & bit) == 0u; n++) {
    }
}

/* "Disabling an IN endpoint" (RM0433 57.15.6 device programming model):
 * SNAK and wait INEPNE, then EPDIS + SNAK and wait EPDISD, then flush the
 * endpoint's TX FIFO (TXFNUM n = endpoint n, see dcd_ep_open). */
static void in_ep_disable(uint8_t n)
{
    h7_otg_ep_t *ep = H7_OTG_IN_EP(n);
    if (ep->CTL & OTG_EPCTL_EPENA) {
        ep->CTL |= OTG_EPCTL_SNAK;
        wait_bit(&ep->INT, OTG_DIEPINT_INEPNE);
        ep->CTL |= OTG_EPCTL_SNAK | OTG_EPCTL_EPDIS;
        wait_bit(&ep->INT, OTG_EPINT_EPDISD);
        ep->INT = OTG_EPINT_EPDISD | OTG_DIEPINT_INEPNE;
    }
    flush_tx(n);
}

/* "Disabling an OUT endpoint" (RM0433 57.15.6): the core must be in global
 * OUT NAK mode first (DCTL.SGONAK, wait GINTSTS.GONAKEFF; in slave mode the
 * "global OUT NAK" status entry, PKTSTS 0001, has to be popped from the RX
 * FIFO before GONAKEFF rises, hence handle_rx() in the loop), then EPDIS +
 * SNAK, wait EPDISD, and leave global OUT NAK mode (DCTL.CGONAK). */
static void out_ep_disable(uint8_t n)
{
    h7_otg_ep_t *ep = H7_OTG_OUT_EP(n);
    if ((ep->CTL & OTG_EPCTL_EPENA) == 0u) {
        return;
    }
    H7_OTG_DEV->DCTL |= OTG_DCTL_SGONAK;
    for (uint32_t i = 0; i < 200000u && (H7_OTG->GINTSTS & OTG_GINT_GONAKEFF) == 0u; i++) {
        if (H7_OTG->GINTSTS & OTG_GINT_RXFLVL) {
            handle_rx();
        }
    }
    ep->CTL |= OTG_EPCTL_SNAK | OTG_EPCTL_EPDIS;
    wait_bit(&ep->INT, OTG_EPINT_EPDISD);
    ep->INT = OTG_EPINT_EPDISD;
    H7_OTG_DEV->DCTL |= OTG_DCTL_CGONAK;
}

static void fifo_layout_reset(void)
{
    H7_OTG->GRXFSIZ = RX_FIFO_WORDS;
    H7_OTG->DIEPTXF0 = OTG_TXF(RX_FIFO_WORDS, TX0_FIFO_WORDS);
    s_fifo_next = RX_FIFO_WORDS + TX0_FIFO_WORDS;
}

/* Copy len bytes from the buffer into an IN FIFO, whole words at a time
 * (the FIFO window only takes 32-bit accesses; the buffer may be unaligned). */
static void fifo_write(uint8_t n, const uint8_t *src, uint16_t len)
{
    volatile uint32_t *fifo = &H7_OTG_FIFO(n);
    for (unsigned i = 0; i < len; i += 4u) {
        uint32_t w = 0;
        unsigned k = len - i < 4u ? len - i : 4u;
        memcpy(&w, src + i, k);
        *fifo = w;
    }
}

/* Pop len bytes from the RX FIFO; keep at most cap of them in dst. */
static void fifo_read(uint8_t *dst, uint16_t len, uint16_t cap)
{
    volatile uint32_t *fifo = &H7_OTG_FIFO(0);
    for (unsigned i = 0; i < len; i += 4u) {
        uint32_t w = *fifo;
        if (i < cap) {
            unsigned k = cap - i < 4u ? cap - i : 4u;
            if (k > len - i) {
                k = len - i;
            }
            memcpy(dst + i, &w, k);
        }
    }
}

static void in_next_packet(uint8_t n)
{
    ep_state_t *e = &s_in[n];
    uint16_t rem = (uint16_t)(e->len - e->done);
    e->pkt = rem > e->mps ? e->mps : rem;
    h7_otg_ep_t *ep = H7_OTG_IN_EP(n);
    ep->TSIZ = OTG_TSIZ_PKTCNT(1u) | OTG_TSIZ_XFRSIZ(e->pkt);
    ep->CTL |= OTG_EPCTL_EPENA | OTG_EPCTL_CNAK;
    /* The FIFO holds >= one packet and the previous one has left it. */
    fifo_write(n, e->buf + e->done, e->pkt);
}

static void out_arm(uint8_t n)
{
    h7_otg_ep_t *ep = H7_OTG_OUT_EP(n);
    uint32_t tsiz = OTG_TSIZ_PKTCNT(1u) | OTG_TSIZ_XFRSIZ(s_out[n].mps);
    if (n == 0u) {
        tsiz |= OTG_TSIZ_STUPCNT(3u); /* accept up to 3 back-to-back SETUPs */
    }
    s_out[n].pkt = 0;
    ep->TSIZ = tsiz;
    ep->CTL |= OTG_EPCTL_EPENA | OTG_EPCTL_CNAK;
}

/* Re-arm EP0 OUT for SETUPs: STUPCNT = 3 back-to-back SETUP packets
 * (RM0433 57.15.6 "Endpoint initialization on USB reset", step 4). In slave
 * mode SETUPs are received whatever EPENA says, so EPENA is not set here.
 * Like ST's USB_EP0_OutStart() for OTG cores newer than 3.00a (the H743's
 * is 3.30a), DOEPTSIZ0 is left alone while EP0 OUT is still enabled: a
 * transfer size register is not rewritten under an active transfer, and
 * out_arm() already put STUPCNT = 3 in it. */
static void ep0_setup_rearm(void)
{
    h7_otg_ep_t *ep = H7_OTG_OUT_EP(0);
    if ((ep->CTL & OTG_EPCTL_EPENA) == 0u) {
        ep->TSIZ = OTG_TSIZ_STUPCNT(3u) | OTG_TSIZ_PKTCNT(1u) | OTG_TSIZ_XFRSIZ(8u * 3u);
    }
}

void dcd_init(void)
{
    h7_otg_global_t *g = H7_OTG;

    g->GAHBCFG = 0u; /* polled: global interrupt stays masked */
    g->GUSBCFG |= OTG_GUSBCFG_PHYSEL;
    /* The embedded FS PHY (GCCFG.PWRDWN = transceiver on, RM0433 OTG_GCCFG)
     * is powered before the core soft reset, so the reset and the device
     * init after it run with the PHY clock present. ST's LL driver powers
     * it right after the reset instead; GCCFG is not touched by CSRST, so
     * powering it first only removes the window where it is off. */
    g->GCCFG |= OTG_GCCFG_PWRDWN;

    /* Core soft reset (RM0433 57.15.1): wait idle, reset, wait done. */
    wait_ahb_idle();
    g->GRSTCTL = OTG_GRSTCTL_CSRST;
    if (!h743_wait_reg(&g->GRSTCTL, OTG_GRSTCTL_CSRST, 0u, H7_WAIT_READY_POLLS)) {
        h743_hw_fail(); /* the core never leaves reset: no USB */
    }
    wait_ahb_idle();

    /* Force device mode; the switch takes up to 25 ms (57.14.4 FDMOD). */
    g->GUSBCFG = (g->GUSBCFG & ~(OTG_GUSBCFG_FHMOD | OTG_GUSBCFG_TRDT_MASK)) | OTG_GUSBCFG_FDMOD |
                 OTG_GUSBCFG_PHYSEL | OTG_GUSBCFG_TRDT(TRDT_AHB_FAST);
    h743_delay_us(25000u);

#if H7_USB_VBUS_SENSE
    g->GCCFG |= OTG_GCCFG_VBDEN;
    g->GOTGCTL &= ~(OTG_GOTGCTL_BVALOEN | OTG_GOTGCTL_BVALOVAL);
#else
    g->GCCFG &= ~OTG_GCCFG_VBDEN;
    g->GOTGCTL |= OTG_GOTGCTL_BVALOEN | OTG_GOTGCTL_BVALOVAL;
#endif

    H7_OTG_PCGCCTL = 0u; /* PHY clock running */
    /* DCFG: speed only, the other fields (PFIVL, ...) at their values. */
    H7_OTG_DEV->DCFG = (H7_OTG_DEV->DCFG & ~OTG_DCFG_DSPD_MASK) | OTG_DCFG_DSPD_FS;
    H7_OTG_DEV->DCTL |= OTG_DCTL_SDIS; /* invisible until dcd_connect() */

    fifo_layout_reset();
    flush_tx(0x10u);
    flush_rx();

    for (uint8_t n = 0; n < OTG_NUM_EPS; n++) {
        h7_otg_ep_t *in = H7_OTG_IN_EP(n);
        h7_otg_ep_t *out = H7_OTG_OUT_EP(n);
        in->CTL = (in->CTL & OTG_EPCTL_EPENA) ? (OTG_EPCTL_EPDIS | OTG_EPCTL_SNAK) : 0u;
        out->CTL = (out->CTL & OTG_EPCTL_EPENA) ? (OTG_EPCTL_EPDIS | OTG_EPCTL_SNAK) : 0u;
        in->TSIZ = 0u;
        out->TSIZ = 0u;
        in->INT = 0xFFFFu;
        out->INT = 0xFFFFu;
    }
    memset(s_in, 0, sizeof s_in);
    memset(s_out, 0, sizeof s_out);
    s_in[0].mps = EP0_MPS;
    s_out[0].mps = EP0_MPS;

    H7_OTG_DEV->DIEPMSK = OTG_EPINT_XFRC | OTG_DIEPINT_TOC;
    H7_OTG_DEV->DOEPMSK = OTG_EPINT_XFRC | OTG_DOEPINT_STUP;
    H7_OTG_DEV->DAINTMSK = 0x00010001u; /* EP0 IN and OUT */

    g->GINTSTS = 0xFFFFFFFFu;
    g->GINTMSK = OTG_GINT_USBRST | OTG_GINT_ENUMDNE | OTG_GINT_USBSUSP | OTG_GINT_WKUPINT |
                 OTG_GINT_RXFLVL | OTG_GINT_IEPINT | OTG_GINT_OEPINT
#if H7_USB_VBUS_SENSE
                 | OTG_GINT_OTGINT
#endif
        ;
}

void dcd_connect(void)
{
    H7_OTG_DEV->DCTL &= ~OTG_DCTL_SDIS;
}

void dcd_disconnect(void)
{
    H7_OTG_DEV->DCTL |= OTG_DCTL_SDIS;
}

void dcd_set_address(uint8_t addr)
{
    /* The core answers the status stage still at address 0 and switches
     * afterwards, so the address is set before the status stage. */
    H7_OTG_DEV->DCFG = (H7_OTG_DEV->DCFG & ~OTG_DCFG_DAD_MASK) | OTG_DCFG_DAD(addr);
}

bool dcd_ep_open(uint8_t ep_addr, uint8_t type, uint16_t max_packet)
{
    uint8_t n = ep_addr & 0x7Fu;
    if (n == 0u || n >= OTG_NUM_EPS || max_packet == 0u || max_packet > 64u || type > 3u) {
        return false;
    }
    uint32_t ctl =
        OTG_EPCTL_MPSIZ(max_packet) | OTG_EPCTL_EPTYP(type) | OTG_EPCTL_SD0PID | OTG_EPCTL_USBAEP;
    if (ep_addr & 0x80u) {
        uint16_t depth = (uint16_t)(2u * max_packet / 4u);
        if (depth < TX_FIFO_MIN) {
            depth = TX_FIFO_MIN;
        }
        in_ep_disable(n);
        /* Reopening (SET_INTERFACE) keeps the FIFO it already has when it
         * is big enough, so repeated reopens cannot exhaust the FIFO RAM. */
        if (s_in[n].fifo < depth) {
            if ((uint32_t)s_fifo_next + depth > OTG_FIFO_RAM_WORDS) {
                return false;
            }
            H7_OTG->DIEPTXF[n - 1u] = OTG_TXF(s_fifo_next, depth);
            s_fifo_next = (uint16_t)(s_fifo_next + depth);
        } else {
            depth = s_in[n].fifo;
        }
        flush_tx(n);
        H7_OTG_IN_EP(n)->CTL = ctl | OTG_EPCTL_TXFNUM(n) | OTG_EPCTL_SNAK;
        s_in[n] = (ep_state_t){.mps = max_packet, .fifo = depth};
        H7_OTG_DEV->DAINTMSK |= 1u << n;
    } else {
        out_ep_disable(n);
        H7_OTG_OUT_EP(n)->CTL = ctl | OTG_EPCTL_SNAK;
        s_out[n] = (ep_state_t){.mps = max_packet};
        H7_OTG_DEV->DAINTMSK |= 1u << (16u + n);
    }
    return true;
}

/* Endpoint deactivation (RM0433 57.15.6): disable it with the sequences
 * above if it is enabled, then clear USBAEP. */
static void ep_deactivate(h7_otg_ep_t *ep)
{
    ep->CTL &= ~OTG_EPCTL_USBAEP;
    ep->INT = 0xFFFFu;
}

void dcd_ep_close_all(void)
{
    for (uint8_t n = 1; n < OTG_NUM_EPS; n++) {
        in_ep_disable(n);
        out_ep_disable(n);
        ep_deactivate(H7_OTG_IN_EP(n));
        ep_deactivate(H7_OTG_OUT_EP(n));
        s_in[n] = (ep_state_t){0};
        s_out[n] = (ep_state_t){0};
    }
    H7_OTG_DEV->DAINTMSK = 0x00010001u;
    fifo_layout_reset();
    flush_tx(0x10u);
}

bool dcd_ep_xfer(uint8_t ep_addr, uint8_t *buf, uint16_t len)
{
    uint8_t n = ep_addr & 0x7Fu;
    if (n >= OTG_NUM_EPS) {
        return false;
    }
    ep_state_t *e = (ep_addr & 0x80u) ? &s_in[n] : &s_out[n];
    if (e->mps == 0u || (len > 0u && buf == NULL)) {
        return false;
    }
    e->buf = buf;
    e->len = len;
    e->done = 0;
    e->busy = true;
    if (ep_addr & 0x80u) {
        in_next_packet(n);
    } else {
        out_arm(n);
    }
    return true;
}

void dcd_ep_stall(uint8_t ep_addr)
{
    uint8_t n = ep_addr & 0x7Fu;
    if (n >= OTG_NUM_EPS) {
        return;
    }
    if (n == 0u) {
        /* A control stall covers both directions; the core clears it on the
         * next SETUP (RM0433 57.15.6 "STALL handshake"). */
        H7_OTG_IN_EP(0)->CTL |= OTG_EPCTL_STALL;
        H7_OTG_OUT_EP(0)->CTL |= OTG_EPCTL_STALL;
        s_in[0].busy = false;
        s_out[0].busy = false;
        return;
    }
    if (ep_addr & 0x80u) {
        /* RM0433 57.15.6 "STALL handshake": an enabled IN endpoint is
         * disabled first (its queued packet dropped), then STALL set. */
        in_ep_disable(n);
        H7_OTG_IN_EP(n)->CTL |= OTG_EPCTL_STALL;
        s_in[n].busy = false;
    } else {
        H7_OTG_OUT_EP(n)->CTL |= OTG_EPCTL_STALL;
        s_out[n].busy = false;
    }
}

void dcd_ep_clear_stall(uint8_t ep_addr)
{
    uint8_t n = ep_addr & 0x7Fu;
    if (n == 0u || n >= OTG_NUM_EPS) {
        return;
    }
    h7_otg_ep_t *ep = (ep_addr & 0x80u) ? H7_OTG_IN_EP(n) : H7_OTG_OUT_EP(n);
    /* Data toggle back to DATA0 (USB 2.0 9.4.5, CLEAR_FEATURE(ENDPOINT_HALT)). */
    ep->CTL = (ep->CTL & ~OTG_EPCTL_STALL) | OTG_EPCTL_SD0PID;
}

static void bus_reset(void)
{
    H7_OTG_DEV->DCFG &= ~OTG_DCFG_DAD_MASK;
    for (uint8_t n = 0; n < OTG_NUM_EPS; n++) {
        H7_OTG_OUT_EP(n)->CTL |= OTG_EPCTL_SNAK;
    }
    dcd_ep_close_all();
    s_in[0] = (ep_state_t){.mps = EP0_MPS};
    s_out[0] = (ep_state_t){.mps = EP0_MPS};
    H7_OTG_IN_EP(0)->CTL &= ~OTG_EPCTL_STALL;
    H7_OTG_OUT_EP(0)->CTL &= ~OTG_EPCTL_STALL;
    flush_rx();
    ep0_setup_rearm();
}

/* One RX FIFO entry (RM0433 57.15.6 "Packet read from FIFO"). */
static void handle_rx(void)
{
    uint32_t st = H7_OTG->GRXSTSP;
    uint8_t n = (uint8_t)OTG_GRXSTS_EPNUM(st);
    uint16_t bcnt = (uint16_t)OTG_GRXSTS_BCNT(st);
    switch (OTG_GRXSTS_PKTSTS(st)) {
    case OTG_PKTSTS_SETUP_DATA:
        fifo_read((uint8_t *)s_setup, bcnt, sizeof s_setup);
        break;
    case OTG_PKTSTS_OUT_DATA: {
        ep_state_t *e = &s_out[n];
        uint16_t room = e->busy ? (uint16_t)(e->len - e->done) : 0u;
        fifo_read(room ? e->buf + e->done : NULL, bcnt, room);
        e->done = (uint16_t)(e->done + (bcnt < room ? bcnt : room));
        e->pkt = bcnt;
        break;
    }
    default: /* OUT/SETUP transfer completed, global NAK: no data */
        break;
    }
}

static void handle_out_xfrc(uint8_t n)
{
    ep_state_t *e = &s_out[n];
    if (e->pkt < e->mps || e->done >= e->len) {
        e->busy = false;
        usbd_event_xfer_done(n, e->done);
    } else {
        out_arm(n);
    }
}

static void handle_out_ep(uint8_t n)
{
    h7_otg_ep_t *ep = H7_OTG_OUT_EP(n);
    uint32_t st = ep->INT;
    ep->INT = st;
    if (n == 0u && (st & OTG_DOEPINT_STUP)) {
        /* The RX FIFO is in arrival order: an OUT transfer that completed in
         * the same read (the previous request's status stage) came before
         * this SETUP, so it is finished first. */
        if ((st & OTG_EPINT_XFRC) && s_out[0].busy) {
            handle_out_xfrc(0u);
        }
        /* A new SETUP cancels whatever EP0 was doing. */
        if (s_in[0].busy) {
            in_ep_disable(0u); /* NAK, disable, flush: not just a flush */
        }
        s_in[0].busy = false;
        s_out[0].busy = false;
        ep0_setup_rearm();
        uint8_t raw[8];
        memcpy(raw, s_setup, sizeof raw);
        usbd_event_setup(raw);
        return;
    }
    if ((st & OTG_EPINT_XFRC) && s_out[n].busy) {
        handle_out_xfrc(n);
    }
}

static void handle_in_ep(uint8_t n)
{
    h7_otg_ep_t *ep = H7_OTG_IN_EP(n);
    uint32_t st = ep->INT;
    ep->INT = st;
    if ((st & OTG_EPINT_XFRC) && s_in[n].busy) {
        ep_state_t *e = &s_in[n];
        e->done = (uint16_t)(e->done + e->pkt);
        if (e->done < e->len) {
            in_next_packet(n);
        } else {
            e->busy = false;
            usbd_event_xfer_done((uint8_t)(0x80u | n), e->done);
        }
    }
}

void dcd_poll(void)
{
    h7_otg_global_t *g = H7_OTG;
    uint32_t st = g->GINTSTS & g->GINTMSK;

    if (st & OTG_GINT_USBRST) {
        g->GINTSTS = OTG_GINT_USBRST;
        bus_reset();
        usbd_event_bus_reset();
    }
    if (st & OTG_GINT_ENUMDNE) {
        g->GINTSTS = OTG_GINT_ENUMDNE;
        /* Full speed enumerated: EP0 max packet 64 (MPSIZ 00), clear the
         * global IN NAK (RM0433 57.15.3 "Endpoint initialization on
         * enumeration completion"). */
        H7_OTG_IN_EP(0)->CTL &= ~OTG_EPCTL_MPSIZ(3u);
        H7_OTG_DEV->DCTL |= OTG_DCTL_CGINAK;
    }
    if (st & OTG_GINT_USBSUSP) {
        g->GINTSTS = OTG_GINT_USBSUSP;
        usbd_event_suspend();
    }
    if (st & OTG_GINT_WKUPINT) {
        g->GINTSTS = OTG_GINT_WKUPINT;
        usbd_event_resume();
    }
    if (st & OTG_GINT_OTGINT) {
        uint32_t o = g->GOTGINT;
        g->GOTGINT = o;
        if (o & OTG_GOTGINT_SEDET) {
            usbd_event_disconnect();
        }
    }
    while (g->GINTSTS & OTG_GINT_RXFLVL) {
        handle_rx();
    }
    if (st & (OTG_GINT_OEPINT | OTG_GINT_IEPINT)) {
        uint32_t daint = H7_OTG_DEV->DAINT & H7_OTG_DEV->DAINTMSK;
        /* IN before OUT: an EP0 IN packet that completed by now was queued
         * for the request before a SETUP waiting in DOEPINT0 (the core NAKs
         * EP0 IN from a SETUP on until the application clears the NAK), so
         * its XFRC belongs to that earlier request. Handled after the SETUP
         * it would be taken for the first packet of the new one, and the
         * earlier request would never see its status stage complete. */
        for (uint8_t n = 0; n < OTG_NUM_EPS; n++) {
            if (daint & (1u << n)) {
                handle_in_ep(n);
            }
            if (daint & (1u << (16u + n))) {
                handle_out_ep(n);
            }
        }
    }
}
