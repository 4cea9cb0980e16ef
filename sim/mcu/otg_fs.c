/*
 * USB2_OTG_FS register model (see otg_fs.h).
 *
 * Sources: RM0433 chapter 57 (OTG_HS; both H743 instances are the same
 * Synopsys DWC2 core): 57.14 register descriptions (offsets, reset values,
 * access types), 57.15 programming model (core/device initialisation,
 * endpoint initialisation on USB reset and on enumeration completion, packet
 * read from the RX FIFO, disabling IN/OUT endpoints, global OUT NAK, STALL
 * handshake). Register and bit names are the manual's.
 *
 * Scope: device mode, slave mode (no DMA), full speed. Host mode, DMA, LPM,
 * battery charging detection, SRP/HNP, clock gating and direct FIFO RAM
 * access are not modelled: touching them fails the access with a reason.
 * Neither are SOF/suspend/resume (FNSOF stays 0), the STSPHST status-phase
 * flag of GRXSTSP, isochronous frame parity, or timing: the device-side
 * handshakes (NAK effective, endpoint disabled, flushes) complete within the
 * access, CSRST after one read.
 */
#include "otg_fs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define BIT(n) (1u << (n))

#define NEP       9u    /* RM0433 57.3: 9 bidirectional device endpoints incl. EP0 */
#define RAM_WORDS 1024u /* RM0433 57.3: 4 Kbytes of dedicated FIFO RAM */
#define HOST_MPS  64u   /* host's bMaxPacketSize0 for EP0 (full speed) */
#define STEPS_MAX 256   /* host steps per poll: a bound should a device re-arm forever */

/* Register offsets (RM0433 57.14, OTG register map). */
#define R_GOTGCTL    0x000u
#define R_GOTGINT    0x004u
#define R_GAHBCFG    0x008u
#define R_GUSBCFG    0x00Cu
#define R_GRSTCTL    0x010u
#define R_GINTSTS    0x014u
#define R_GINTMSK    0x018u
#define R_GRXSTSR    0x01Cu
#define R_GRXSTSP    0x020u
#define R_GRXFSIZ    0x024u
#define R_DIEPTXF0   0x028u
#define R_GCCFG      0x038u
#define R_CID        0x03Cu
#define R_GSNPSID    0x040u /* Synopsys core ID, not described in RM0433 */
#define R_GLPMCFG    0x054u
#define R_DIEPTXF1   0x104u /* DIEPTXFx at 0x104 + 4 (x - 1), x = 1..8 */
#define R_DCFG       0x800u
#define R_DCTL       0x804u
#define R_DSTS       0x808u
#define R_DIEPMSK    0x810u
#define R_DOEPMSK    0x814u
#define R_DAINT      0x818u
#define R_DAINTMSK   0x81Cu
#define R_DVBUSDIS   0x828u
#define R_DVBUSPULSE 0x82Cu
#define R_DTHRCTL    0x830u
#define R_DIEPEMPMSK 0x834u
#define R_DIEP0      0x900u /* IN endpoint n at 0x900 + 0x20 n */
#define R_DOEP0      0xB00u /* OUT endpoint n at 0xB00 + 0x20 n */
#define EP_STRIDE    0x20u
#define EP_CTL       0x00u
#define EP_INT       0x08u
#define EP_TSIZ      0x10u
#define EP_DMA       0x14u
#define EP_TXFSTS    0x18u
#define R_PCGCCTL    0xE00u
#define R_FIFO0      0x1000u /* push/pop window n at 0x1000 (n + 1), 4 KB each */
#define R_FIFO_END   (R_FIFO0 * (NEP + 1u))
#define R_FIFO_RAM   0x20000u /* direct FIFO RAM access (debug) */

#define GSNPSID_VAL 0x4F54330Au /* DWC2 OTG 3.30a, the H743's core revision */

/* GOTGCTL */
#define GOTGCTL_RW       (0xFCu | BIT(20)) /* VBVALOEN..BVALOVAL, OTGVER */
#define GOTGCTL_OTGPROT  (BIT(1) | BIT(9) | BIT(10) | BIT(11) | BIT(12)) /* SRQ, HNP */
#define GOTGCTL_RO       (BIT(0) | BIT(8) | BIT(16) | BIT(17) | BIT(18) | BIT(19) | BIT(21))
#define GOTGCTL_BVALOEN  BIT(6)
#define GOTGCTL_BVALOVAL BIT(7)
#define GOTGCTL_CIDSTS   BIT(16) /* 1: B-device (ID pin high) */
#define GOTGCTL_BSVLD    BIT(19)
/* GAHBCFG */
#define GAHBCFG_DMAEN   BIT(5)
#define GAHBCFG_RW      (BIT(0) | 0x1Eu | BIT(7) | BIT(8)) /* GINTMSK, HBSTLEN, (P)TXFELVL */
#define GAHBCFG_TXFELVL BIT(7)
/* GUSBCFG: reset 0x0000 1440 (TRDT = 5, PHYSEL = 1) */
#define GUSBCFG_RESET  0x00001440u
#define GUSBCFG_PHYSEL BIT(6) /* FS serial transceiver: reads 1 */
#define GUSBCFG_FHMOD  BIT(29)
#define GUSBCFG_FDMOD  BIT(30)
#define GUSBCFG_RW     (0x7u | BIT(8) | BIT(9) | 0x3C00u | BIT(15) | 0x03FE0000u | GUSBCFG_FDMOD)
/* GRSTCTL */
#define GRSTCTL_CSRST   BIT(0)
#define GRSTCTL_RXFFLSH BIT(4)
#define GRSTCTL_TXFFLSH BIT(5)
#define GRSTCTL_TXFNUM  (0x1Fu << 6)
#define GRSTCTL_TXF_ALL 0x10u /* TXFNUM 10000: flush all TX FIFOs */
#define GRSTCTL_DMAREQ  BIT(30)
#define GRSTCTL_AHBIDL  BIT(31)
/* GINTSTS / GINTMSK */
#define GINT_CMOD     BIT(0)
#define GINT_OTGINT   BIT(2)
#define GINT_RXFLVL   BIT(4)
#define GINT_NPTXFE   BIT(5)
#define GINT_GINAKEFF BIT(6)
#define GINT_GONAKEFF BIT(7)
#define GINT_USBRST   BIT(12)
#define GINT_ENUMDNE  BIT(13)
#define GINT_IEPINT   BIT(18)
#define GINT_OEPINT   BIT(19)
#define GINT_PTXFE    BIT(26)
/* rc_w1 bits: MMIS, SOF, ESUSP, USBSUSP, USBRST, ENUMDNE, ISOODRP, EOPF,
 * IISOIXFR, IPXFR, RSTDET, LPMINT, CIDSCHG, DISCINT, SRQINT, WKUPINT */
#define GINT_W1C   0xF8B0FC0Au
#define GINTMSK_RW 0xFFFEFCFEu /* bits 0, 8, 9, 16 reserved */
/* GRXSTSR/GRXSTSP, device: EPNUM[3:0] BCNT[14:4] DPID[16:15] PKTSTS[20:17] */
#define PKTSTS_GONAK      1u /* global OUT NAK (triggers an interrupt) */
#define PKTSTS_OUT_DATA   2u
#define PKTSTS_OUT_DONE   3u /* OUT transfer completed (triggers an interrupt) */
#define PKTSTS_SETUP_DONE 4u /* SETUP transaction completed (triggers an interrupt) */
#define PKTSTS_SETUP_DATA 6u
#define DPID_DATA1        2u /* DPID 10 */
/* GRXFSIZ / DIEPTXF0 / DIEPTXFx: start [15:0],
 * depth [31:16] in words. Reset values as given by the manual for this 4 KB
 * configuration. */
#define GRXFSIZ_RESET  0x00000200u
#define DIEPTXF0_RESET 0x02000200u
#define DIEPTXFX_RESET 0x02000400u
/* GCCFG */
#define GCCFG_PWRDWN BIT(16)
#define GCCFG_BCD    (BIT(17) | BIT(18) | BIT(19) | BIT(20)) /* BCDEN, DCDEN, PDEN, SDEN */
#define GCCFG_VBDEN  BIT(21)
#define GCCFG_RO     0xFu        /* DCDET, PDET, SDET, PS2DET */
#define CID_RESET    0x00002300u /* OTG_CID product ID reset value */
/* DCFG: reset 0x0220 0000; bit 21 reserved, kept at 1 */
#define DCFG_RESET  0x02200000u
#define DCFG_RW     0x0300DFF7u /* DSPD, NZLSOHSK, DAD, PFIVL, XCVRDLY, ERRATIM, PERSCHIVL */
#define DCFG_RO     BIT(21)
#define DCFG_DSPD   0x3u
#define DCFG_DAD_SH 4
/* DCTL: reset 0x0000 0002 (SDIS) */
#define DCTL_RESET  0x00000002u
#define DCTL_SDIS   BIT(1)
#define DCTL_GINSTS BIT(2)
#define DCTL_GONSTS BIT(3)
#define DCTL_TCTL   (0x7u << 4)
#define DCTL_SGINAK BIT(7)
#define DCTL_CGINAK BIT(8)
#define DCTL_SGONAK BIT(9)
#define DCTL_CGONAK BIT(10)
#define DCTL_RW     (BIT(0) | DCTL_SDIS | BIT(11) | BIT(18)) /* RWUSIG, SDIS, POPRGDNE, DSBESLRJCT */
/* DSTS: reset 0x0000 0010; ENUMSPD [2:1], 11 = full speed (48 MHz) */
#define DSTS_RESET       0x00000010u
#define DSTS_ENUMSPD_SH  1
#define DIEPMSK_RW       0x237Fu
#define DOEPMSK_RW       0x737Fu
#define DAINTMSK_RW      0x01FF01FFu
#define DVBUSDIS_RESET   0x000017D7u
#define DVBUSPULSE_RESET 0x000005B8u
#define DTHRCTL_EN       (BIT(0) | BIT(1) | BIT(16)) /* thresholding: DMA only */
/* DIEPCTLx / DOEPCTLx */
#define CTL_MPSIZ0 0x3u /* EP0: 00 64, 01 32, 10 16, 11 8 bytes */
#define CTL_MPSIZ  0x7FFu
#define CTL_USBAEP BIT(15)
#define CTL_DPID   BIT(16) /* EONUM/DPID, read only */
#define CTL_NAKSTS BIT(17)
#define CTL_EPTYP  (0x3u << 18)
#define CTL_SNPM   BIT(20) /* OUT only */
#define CTL_STALL  BIT(21)
#define CTL_TXFNUM (0xFu << 22) /* IN only */
#define CTL_CNAK   BIT(26)
#define CTL_SNAK   BIT(27)
#define CTL_SD0PID BIT(28)
#define CTL_SD1PID BIT(29)
#define CTL_EPDIS  BIT(30)
#define CTL_EPENA  BIT(31)
/* DIEPINTx / DOEPINTx */
#define INT_XFRC          BIT(0)
#define INT_EPDISD        BIT(1)
#define DIEPINT_ITTXFE    BIT(4)
#define DIEPINT_INEPNE    BIT(6)
#define DIEPINT_TXFE      BIT(7) /* read only, from the FIFO level */
#define DOEPINT_STUP      BIT(3)
#define DOEPINT_OTEPDIS   BIT(4)
#define DOEPINT_OUTPKTERR BIT(8)
#define INT_NAK           BIT(13)
/* DIEPTSIZx / DOEPTSIZx: EP0 XFRSIZ [6:0], PKTCNT [20:19] IN / [19] OUT,
 * STUPCNT [30:29]; EPn XFRSIZ [18:0], PKTCNT [28:19], MCNT/RXDPID [30:29] */
#define TSIZ0_IN_RW  0x0018007Fu
#define TSIZ0_OUT_RW 0x6008007Fu
#define TSIZ_RW      0x7FFFFFFFu
#define PCGCCTL_GATE (BIT(0) | BIT(1)) /* STPPCLK, GATEHCLK */
#define PCGCCTL_RO   (BIT(4) | BIT(6) | BIT(7))
#define PCGCCTL_RW   BIT(5)

typedef struct ep {
    uint32_t ctl; /* stored bits incl. EPENA, STALL, NAKSTS, DPID */
    uint32_t intr;
    uint32_t tsiz;
} ep_t;

typedef struct txfifo {
    uint32_t w[RAM_WORDS];
    unsigned head, n;
} txfifo_t;

typedef struct rxent {
    uint32_t sts;
    unsigned nw;
    uint32_t d[HOST_MPS / 4u];
} rxent_t;

enum ct_phase {
    CT_IDLE = 0,
    CT_SETUP,
    CT_DATA_IN,
    CT_DATA_OUT,
    CT_STATUS_IN,
    CT_STATUS_OUT,
    CT_DONE
};
enum tok { TOK_NAK, TOK_STALL, TOK_ACK };

struct otg_fs {
    bool (*powered)(void *user);
    void *user;

    uint32_t gotgctl, gotgint, gahbcfg, gusbcfg, gintsts, gintmsk, grxfsiz, dieptxf0, gccfg;
    uint32_t cid, glpmcfg, dieptxf[NEP - 1u];
    uint32_t grstctl_txfnum, grstctl_busy; /* self-clearing bits, shown for one read */
    uint32_t dcfg, dctl, diepmsk, doepmsk, daintmsk, dvbusdis, dvbuspulse, dthrctl;
    uint32_t diepempmsk, pcgcctl;
    unsigned enumspd;
    bool ginak, gonak_req, gonak_eff;
    ep_t in[NEP], out[NEP];
    txfifo_t tx[NEP];

    rxent_t rxq[RAM_WORDS];
    unsigned rx_head, rx_n, rx_words; /* rx_words: FIFO words in use incl. rx_cur */
    rxent_t rx_cur;                   /* popped entry whose data is being read */
    unsigned rx_cur_pos;

    /* the cable and the host */
    bool connected;
    unsigned epoch;
    bool reset_pending, enum_pending;
    enum ct_phase phase;
    uint8_t setup[8];
    uint8_t *data;
    uint16_t wlen, pos;
    int result;
    bool setup_done_owed; /* SETUP stage ends at the next token */
    unsigned host_pid;    /* next OUT data PID: 0 DATA0, 1 DATA1 */
};

static bool fail(const char **why, const char *msg)
{
    if (why) {
        *why = msg;
    }
    return false;
}

/* ---- FIFOs ------------------------------------------------------------ */

static unsigned rx_capacity(const otg_fs_t *o)
{
    unsigned d = o->grxfsiz & 0xFFFFu; /* RXFD, words */
    return d > RAM_WORDS ? RAM_WORDS : d;
}

static uint32_t rx_sts(unsigned ep, unsigned bcnt, unsigned dpid, unsigned pktsts)
{
    return (ep & 0xFu) | ((bcnt & 0x7FFu) << 4) | ((dpid & 3u) << 15) | ((pktsts & 0xFu) << 17);
}

/* Each entry takes one status word plus its data words (RM0433 57.11 "FIFO RAM allocation"). */
static bool rx_room(const otg_fs_t *o, unsigned words)
{
    return o->rx_words + words <= rx_capacity(o) && o->rx_n < RAM_WORDS;
}

static bool rx_push(otg_fs_t *o, uint32_t sts, const uint8_t *bytes, unsigned bcnt)
{
    unsigned nw = (bcnt + 3u) / 4u;
    if (nw > HOST_MPS / 4u || !rx_room(o, 1u + nw)) {
        return false;
    }
    rxent_t *e = &o->rxq[(o->rx_head + o->rx_n) % RAM_WORDS];
    memset(e, 0, sizeof *e);
    e->sts = sts;
    e->nw = nw;
    if (bcnt) {
        memcpy(e->d, bytes, bcnt);
    }
    o->rx_n++;
    o->rx_words += 1u + nw;
    return true;
}

static void rx_flush(otg_fs_t *o)
{
    o->rx_head = o->rx_n = o->rx_words = 0;
    o->rx_cur_pos = o->rx_cur.nw = 0;
}

static unsigned tx_depth(const otg_fs_t *o, unsigned f)
{
    uint32_t r = f == 0 ? o->dieptxf0 : o->dieptxf[f - 1u];
    unsigned d = r >> 16; /* INEPTXFD / TX0FD, words */
    return d > RAM_WORDS ? RAM_WORDS : d;
}

/* The TX FIFO an IN endpoint transmits from: DIEPCTLx.TXFNUM. */
static unsigned in_fifo(const otg_fs_t *o, unsigned n)
{
    return (o->in[n].ctl & CTL_TXFNUM) >> 22;
}

static unsigned tx_free(const otg_fs_t *o, unsigned f)
{
    unsigned d = tx_depth(o, f);
    return o->tx[f].n >= d ? 0u : d - o->tx[f].n;
}

static void tx_flush(otg_fs_t *o, unsigned f)
{
    o->tx[f].head = o->tx[f].n = 0;
}

/* TXFE: the FIFO is half empty (GAHBCFG.TXFELVL = 0) or empty (1). */
static bool tx_empty_level(const otg_fs_t *o, unsigned f)
{
    if (f >= NEP) {
        return false;
    }
    if (o->gahbcfg & GAHBCFG_TXFELVL) {
        return o->tx[f].n == 0;
    }
    return o->tx[f].n * 2u <= tx_depth(o, f);
}

/* ---- connection ---------------------------------------------------------- */

static bool session_valid(const otg_fs_t *o)
{
    if (o->gotgctl & GOTGCTL_BVALOEN) {
        return (o->gotgctl & GOTGCTL_BVALOVAL) != 0;
    }
    return (o->gccfg & GCCFG_VBDEN) != 0; /* the cable supplies VBUS */
}

static bool gate_on(const otg_fs_t *o)
{
    return !o->powered || o->powered(o->user);
}

static bool calc_connected(const otg_fs_t *o)
{
    if (!gate_on(o)) {
        return false;
    }
    return !(o->dctl & DCTL_SDIS) && (o->gccfg & GCCFG_PWRDWN) && session_valid(o) &&
           !(o->gusbcfg & GUSBCFG_FHMOD);
}

static bool ct_running(const otg_fs_t *o)
{
    return o->phase != CT_IDLE && o->phase != CT_DONE;
}

static void ct_finish(otg_fs_t *o, int result)
{
    o->phase = CT_DONE;
    o->result = result;
}

static void update_connection(otg_fs_t *o)
{
    bool now = calc_connected(o);
    if (now == o->connected) {
        return;
    }
    o->connected = now;
    o->epoch++;
    if (!now) {
        if (ct_running(o)) {
            ct_finish(o, -ENODEV);
        }
        o->setup_done_owed = false;
    }
}

/* ---- reset --------------------------------------------------------------- */

static void regs_reset(otg_fs_t *o)
{
    o->gotgctl = 0; /* reads 0x0001 0000: CIDSTS */
    o->gotgint = 0;
    o->gahbcfg = 0;
    o->gusbcfg = GUSBCFG_RESET;
    o->gintsts = 0; /* reads 0x0400 0020: PTXFE, NPTXFE */
    o->gintmsk = 0;
    o->grxfsiz = GRXFSIZ_RESET;
    o->dieptxf0 = DIEPTXF0_RESET;
    o->gccfg = 0;
    o->cid = CID_RESET;
    o->glpmcfg = 0;
    for (unsigned i = 0; i < NEP - 1u; i++) {
        o->dieptxf[i] = DIEPTXFX_RESET;
    }
    o->grstctl_txfnum = o->grstctl_busy = 0;
    o->dcfg = DCFG_RESET;
    o->dctl = DCTL_RESET;
    o->diepmsk = o->doepmsk = o->daintmsk = 0;
    o->dvbusdis = DVBUSDIS_RESET;
    o->dvbuspulse = DVBUSPULSE_RESET;
    o->dthrctl = o->diepempmsk = o->pcgcctl = 0;
    o->enumspd = 0;
    o->ginak = o->gonak_req = o->gonak_eff = false;
    memset(o->in, 0, sizeof o->in);
    memset(o->out, 0, sizeof o->out);
    for (unsigned f = 0; f < NEP; f++) {
        tx_flush(o, f);
    }
    rx_flush(o);
    o->setup_done_owed = false;
}

/* GRSTCTL.CSRST: every CSR bit back to reset except
 * PCGCCTL.GATEHCLK/STPPCLK, DCFG.DSPD, DCTL.SDIS and GCCFG; all FIFOs flushed. */
static void core_soft_reset(otg_fs_t *o)
{
    uint32_t dspd = o->dcfg & DCFG_DSPD, sdis = o->dctl & DCTL_SDIS, gccfg = o->gccfg;
    uint32_t pcg = o->pcgcctl & PCGCCTL_GATE;
    regs_reset(o);
    o->dcfg = (o->dcfg & ~DCFG_DSPD) | dspd;
    o->dctl = (o->dctl & ~DCTL_SDIS) | sdis;
    o->gccfg = gccfg;
    o->pcgcctl |= pcg;
}

/* ---- interrupts ------------------------------------------------------- */

static uint32_t diepint_read(const otg_fs_t *o, unsigned n)
{
    uint32_t v = o->in[n].intr;
    if (tx_empty_level(o, in_fifo(o, n))) {
        v |= DIEPINT_TXFE;
    }
    return v;
}

/* DAINT: one bit per endpoint with an unmasked DxEPINT bit
 * (DIEPMSK/DOEPMSK; TXFE through DIEPEMPMSK). */
static uint32_t daint(const otg_fs_t *o)
{
    uint32_t v = 0;
    for (unsigned n = 0; n < NEP; n++) {
        uint32_t i = diepint_read(o, n);
        if ((i & o->diepmsk & ~DIEPINT_TXFE) || ((i & DIEPINT_TXFE) && (o->diepempmsk & BIT(n)))) {
            v |= BIT(n);
        }
        if (o->out[n].intr & o->doepmsk) {
            v |= BIT(16 + n);
        }
    }
    return v;
}

static uint32_t gintsts_read(const otg_fs_t *o)
{
    uint32_t v = o->gintsts | GINT_PTXFE;
    uint32_t d = daint(o) & o->daintmsk;
    if (o->gotgint) {
        v |= GINT_OTGINT;
    }
    if (o->rx_n) {
        v |= GINT_RXFLVL;
    }
    if (tx_empty_level(o, 0)) {
        v |= GINT_NPTXFE;
    }
    if (o->ginak) {
        v |= GINT_GINAKEFF;
    }
    if (o->gonak_eff) {
        v |= GINT_GONAKEFF;
    }
    if (d & 0x1FFu) {
        v |= GINT_IEPINT;
    }
    if (d & 0x1FF0000u) {
        v |= GINT_OEPINT;
    }
    return v;
}

/* ---- endpoint registers ----------------------------------------------- */

static unsigned ep0_mps(const otg_fs_t *o)
{
    static const unsigned mps[4] = {64, 32, 16, 8};
    return mps[o->in[0].ctl & CTL_MPSIZ0];
}

static unsigned ep_mps(const otg_fs_t *o, bool in, unsigned n)
{
    return n == 0 ? ep0_mps(o) : ((in ? o->in[n].ctl : o->out[n].ctl) & CTL_MPSIZ);
}

static uint32_t ep_ctl_read(const otg_fs_t *o, bool in, unsigned n)
{
    if (n != 0) {
        return in ? o->in[n].ctl : o->out[n].ctl;
    }
    /* EP0 is always active (USBAEP reads 1); DOEPCTL0.MPSIZ mirrors DIEPCTL0's. */
    if (in) {
        return o->in[0].ctl | CTL_USBAEP;
    }
    return (o->out[0].ctl & ~CTL_MPSIZ0) | (o->in[0].ctl & CTL_MPSIZ0) | CTL_USBAEP;
}

static unsigned tsiz_xfr(uint32_t t, unsigned n);

static bool ep_ctl_write(otg_fs_t *o, bool in, unsigned n, uint32_t v, const char **why)
{
    ep_t *e = in ? &o->in[n] : &o->out[n];
    uint32_t rw, ro, wo = CTL_CNAK | CTL_SNAK, rs = CTL_EPENA | CTL_EPDIS;
    if (n == 0) {
        /* DxEPCTL0: STALL set-only (cleared by the core on SETUP); DOEPCTL0:
         * EPDIS read only (control OUT EP0 cannot be disabled), MPSIZ read only. */
        rw = in ? (CTL_MPSIZ0 | CTL_TXFNUM) : CTL_SNPM;
        ro = CTL_USBAEP | CTL_NAKSTS | CTL_EPTYP | (in ? 0u : (CTL_MPSIZ0 | CTL_EPDIS));
        rs = CTL_STALL | CTL_EPENA | (in ? CTL_EPDIS : 0u);
    } else {
        rw = CTL_MPSIZ | CTL_USBAEP | CTL_EPTYP | CTL_STALL | (in ? CTL_TXFNUM : CTL_SNPM);
        ro = CTL_DPID | CTL_NAKSTS;
        wo |= CTL_SD0PID | CTL_SD1PID;
    }
    if (v & ~(rw | ro | wo | rs)) {
        return fail(why, in ? "DIEPCTLx: reserved bit set" : "DOEPCTLx: reserved bit set");
    }
    if ((v & (CTL_SD0PID | CTL_SD1PID)) == (CTL_SD0PID | CTL_SD1PID)) {
        return fail(why, "DxEPCTLx: SD0PID and SD1PID together");
    }

    e->ctl = (e->ctl & ~rw) | (v & rw);
    if (v & rs & CTL_STALL) {
        e->ctl |= CTL_STALL;
    }
    if (v & CTL_CNAK) {
        e->ctl &= ~CTL_NAKSTS;
    }
    if (v & CTL_SNAK) {
        e->ctl |= CTL_NAKSTS;
        if (in) {
            e->intr |= DIEPINT_INEPNE; /* NAK effective at once */
        }
    }
    if (v & wo & CTL_SD0PID) {
        e->ctl &= ~CTL_DPID;
    }
    if (v & wo & CTL_SD1PID) {
        e->ctl |= CTL_DPID;
    }
    /* "Disabling an IN/OUT endpoint" (57.15): EPDIS on an enabled endpoint
     * completes at once: EPENA and EPDIS clear, EPDISD set. EPENA written 1
     * on an enabled endpoint (read-modify-write) changes nothing. */
    if ((v & rs & CTL_EPDIS) && (e->ctl & CTL_EPENA)) {
        e->ctl &= ~CTL_EPENA;
        e->intr |= INT_EPDISD;
    } else if ((v & CTL_EPENA) && !(e->ctl & CTL_EPENA)) {
        /* OUT transfer size: "the application must program XFRSIZ as a
         * multiple of the maximum packet size" (RM0433 OTG_DOEPTSIZx, and
         * the DWC2 programming model, "OUT data transfers"): a shorter size
         * leaves the core's behaviour on a full packet undefined. */
        unsigned mps = ep_mps(o, false, n), xfr = tsiz_xfr(e->tsiz, n);
        if (!in && mps && xfr % mps != 0u) {
            return fail(why, "OUT endpoint enabled with XFRSIZ not a multiple of its maximum "
                             "packet size (the programming model requires it)");
        }
        e->ctl |= CTL_EPENA;
    }
    return true;
}

static bool ep_tsiz_write(otg_fs_t *o, bool in, unsigned n, uint32_t v, const char **why)
{
    uint32_t rw = n ? TSIZ_RW : (in ? TSIZ0_IN_RW : TSIZ0_OUT_RW);
    if (v & ~rw) {
        if (n == 0) {
            return fail(why, in ? "DIEPTSIZ0: XFRSIZ is 7 bits, PKTCNT 2 bits"
                                : "DOEPTSIZ0: XFRSIZ is 7 bits, PKTCNT 1 bit, STUPCNT 2 bits");
        }
        return fail(why, "DxEPTSIZx: reserved bit set");
    }
    if (in) {
        o->in[n].tsiz = v;
    } else {
        o->out[n].tsiz = v;
    }
    return true;
}

static unsigned tsiz_xfr(uint32_t t, unsigned n)
{
    return t & (n ? 0x7FFFFu : 0x7Fu);
}

static unsigned tsiz_pkt(uint32_t t, unsigned n, bool in)
{
    return (t >> 19) & (n ? 0x3FFu : (in ? 3u : 1u));
}

static uint32_t tsiz_set(uint32_t t, unsigned n, bool in, unsigned xfr, unsigned pkt)
{
    uint32_t xm = n ? 0x7FFFFu : 0x7Fu;
    uint32_t pm = (n ? 0x3FFu : (in ? 3u : 1u)) << 19;
    return (t & ~(xm | pm)) | (xfr & xm) | ((pkt << 19) & pm);
}

static bool ep_read(otg_fs_t *o, bool in, unsigned n, uint32_t reg, uint32_t *val, const char **why)
{
    switch (reg) {
    case EP_CTL:
        *val = ep_ctl_read(o, in, n);
        return true;
    case EP_INT:
        *val = in ? diepint_read(o, n) : o->out[n].intr;
        return true;
    case EP_TSIZ:
        *val = in ? o->in[n].tsiz : o->out[n].tsiz;
        return true;
    case EP_TXFSTS:
        if (!in) {
            break;
        }
        /* DTXFSTSx: free words in the endpoint's TX FIFO. */
        *val = in_fifo(o, n) < NEP ? tx_free(o, in_fifo(o, n)) : 0u;
        return true;
    case EP_DMA:
        return fail(why, "DxEPDMAx: DMA mode not modelled");
    default:
        break;
    }
    return fail(why, "OTG_FS: reserved endpoint register");
}

static bool ep_write(otg_fs_t *o, bool in, unsigned n, uint32_t reg, uint32_t v, const char **why)
{
    switch (reg) {
    case EP_CTL:
        return ep_ctl_write(o, in, n, v, why);
    case EP_INT:
        /* rc_w1; reserved and read-only bits ignore the write */
        if (in) {
            o->in[n].intr &= ~v;
        } else {
            o->out[n].intr &= ~v;
        }
        return true;
    case EP_TSIZ:
        return ep_tsiz_write(o, in, n, v, why);
    case EP_TXFSTS:
        if (in) {
            return fail(why, "DTXFSTSx is read only");
        }
        break;
    case EP_DMA:
        return fail(why, "DxEPDMAx: DMA mode not modelled");
    default:
        break;
    }
    return fail(why, "OTG_FS: reserved endpoint register");
}

/* ---- FIFO windows (57.14: 32-bit push/pop at 0x1000 (n + 1)) ------------- */

/* "Packet read from RX FIFO" (57.15): GRXSTSP pops the status, then the
 * data words are read through any FIFO window. */
static bool fifo_read(otg_fs_t *o, uint32_t *val, const char **why)
{
    if (o->rx_cur_pos >= o->rx_cur.nw) {
        return fail(why, "OTG_FS FIFO: RX FIFO read with no popped packet data left");
    }
    *val = o->rx_cur.d[o->rx_cur_pos++];
    o->rx_words--;
    return true;
}

static unsigned tx_start(const otg_fs_t *o, unsigned f)
{
    return (f == 0 ? o->dieptxf0 : o->dieptxf[f - 1u]) & 0xFFFFu; /* TX0FSA / INEPTXSA */
}

/* FIFO 0, and the FIFO of every active IN endpoint (USBAEP), hold data. */
static bool tx_in_use(const otg_fs_t *o, unsigned f)
{
    if (f == 0) {
        return true;
    }
    for (unsigned n = 1; n < NEP; n++) {
        if ((o->in[n].ctl & CTL_USBAEP) && in_fifo(o, n) == f) {
            return true;
        }
    }
    return false;
}

/* The FIFO RAM layout (RM0433 57.11 "FIFO RAM allocation"): the RX FIFO from
 * word 0, each TX FIFO within the 4 KB after it, no two in use overlapping.
 * Checked when the firmware pushes into a TX FIFO. */
static bool tx_layout_ok(const otg_fs_t *o, unsigned f, const char **why)
{
    unsigned s = tx_start(o, f), d = (f == 0 ? o->dieptxf0 : o->dieptxf[f - 1u]) >> 16;
    if (d == 0 || s + d > RAM_WORDS) {
        return fail(why, "OTG_FS FIFO: TX FIFO outside the 4 KB FIFO RAM");
    }
    if (s < (o->grxfsiz & 0xFFFFu)) {
        return fail(why, "OTG_FS FIFO: TX FIFO overlaps the RX FIFO (GRXFSIZ)");
    }
    for (unsigned g = 0; g < NEP; g++) {
        if (g == f || !tx_in_use(o, g)) {
            continue;
        }
        unsigned gs = tx_start(o, g), gd = tx_depth(o, g);
        if (s < gs + gd && gs < s + d) {
            return fail(why, "OTG_FS FIFO: TX FIFO overlaps another endpoint's TX FIFO");
        }
    }
    return true;
}

static bool fifo_write(otg_fs_t *o, unsigned n, uint32_t v, const char **why)
{
    unsigned f = in_fifo(o, n);
    if (f >= NEP) {
        return fail(why, "OTG_FS FIFO: DIEPCTLx.TXFNUM names no TX FIFO");
    }
    if (!tx_layout_ok(o, f, why)) {
        return false;
    }
    txfifo_t *t = &o->tx[f];
    if (t->n >= tx_depth(o, f)) {
        return fail(why, "OTG_FS FIFO: TX FIFO full (DTXFSTS = 0): push overruns it");
    }
    t->w[(t->head + t->n) % RAM_WORDS] = v;
    t->n++;
    return true;
}

static uint32_t tx_pop(otg_fs_t *o, unsigned f)
{
    txfifo_t *t = &o->tx[f];
    uint32_t w = t->w[t->head];
    t->head = (t->head + 1u) % RAM_WORDS;
    t->n--;
    return w;
}

static bool grxstsp_read(otg_fs_t *o, bool pop, uint32_t *val, const char **why)
{
    if (o->rx_n == 0) {
        *val = 0; /* empty: the core returns 0 */
        return true;
    }
    const rxent_t *e = &o->rxq[o->rx_head];
    *val = e->sts;
    if (!pop) {
        return true;
    }
    if (o->rx_cur_pos < o->rx_cur.nw) {
        return fail(why, "GRXSTSP: popped while data of the previous packet is unread");
    }
    o->rx_cur = *e;
    o->rx_cur_pos = 0;
    o->rx_head = (o->rx_head + 1u) % RAM_WORDS;
    o->rx_n--;
    o->rx_words--; /* the status word */
    unsigned ep = o->rx_cur.sts & 0xFu, pktsts = (o->rx_cur.sts >> 17) & 0xFu;
    if (ep >= NEP) {
        return true;
    }
    switch (pktsts) {
    case PKTSTS_GONAK: /* 57.15 "Setting the global OUT NAK" */
        if (o->gonak_req) {
            o->gonak_eff = true;
        }
        break;
    case PKTSTS_OUT_DONE:
        o->out[ep].intr |= INT_XFRC;
        break;
    case PKTSTS_SETUP_DONE:
        o->out[ep].intr |= DOEPINT_STUP;
        break;
    default:
        break;
    }
    return true;
}

/* ---- register access -------------------------------------------------- */

static bool otg_read(void *ctx, uint32_t off, unsigned size, uint32_t *val, const char **why)
{
    otg_fs_t *o = ctx;
    if (size != 4u || (off & 3u)) {
        return fail(why, "OTG_FS: 32-bit aligned accesses only");
    }
    if (off >= R_FIFO0 && off < R_FIFO_END) {
        return fifo_read(o, val, why);
    }
    if (off >= R_FIFO_RAM) {
        return fail(why, "OTG_FS: direct FIFO RAM access not modelled");
    }
    if (off >= R_DIEP0 && off < R_DIEP0 + EP_STRIDE * NEP) {
        return ep_read(o, true, (off - R_DIEP0) / EP_STRIDE, (off - R_DIEP0) % EP_STRIDE, val, why);
    }
    if (off >= R_DOEP0 && off < R_DOEP0 + EP_STRIDE * NEP) {
        return ep_read(o, false, (off - R_DOEP0) / EP_STRIDE, (off - R_DOEP0) % EP_STRIDE, val,
                       why);
    }
    if (off >= R_DIEPTXF1 && off < R_DIEPTXF1 + 4u * (NEP - 1u)) {
        *val = o->dieptxf[(off - R_DIEPTXF1) / 4u];
        return true;
    }
    switch (off) {
    case R_GOTGCTL:
        *val = o->gotgctl | GOTGCTL_CIDSTS | (session_valid(o) ? GOTGCTL_BSVLD : 0u);
        return true;
    case R_GOTGINT:
        *val = o->gotgint;
        return true;
    case R_GAHBCFG:
        *val = o->gahbcfg;
        return true;
    case R_GUSBCFG:
        *val = o->gusbcfg | GUSBCFG_PHYSEL;
        return true;
    case R_GRSTCTL:
        /* Self-clearing bits read 1 once after the write; AHBIDL is 0 while
         * a core soft reset is in progress. */
        *val = o->grstctl_txfnum | o->grstctl_busy |
               ((o->grstctl_busy & GRSTCTL_CSRST) ? 0u : GRSTCTL_AHBIDL);
        /* The soft reset finishes in the PHY clock domain: without the 48 MHz
         * kernel clock or the USB supply (the gate) CSRST never clears. */
        if (!(o->grstctl_busy & GRSTCTL_CSRST) || gate_on(o)) {
            o->grstctl_busy = 0;
        }
        return true;
    case R_GINTSTS:
        *val = gintsts_read(o);
        return true;
    case R_GINTMSK:
        *val = o->gintmsk;
        return true;
    case R_GRXSTSR:
        return grxstsp_read(o, false, val, why);
    case R_GRXSTSP:
        return grxstsp_read(o, true, val, why);
    case R_GRXFSIZ:
        *val = o->grxfsiz;
        return true;
    case R_DIEPTXF0:
        *val = o->dieptxf0;
        return true;
    case R_GCCFG:
        *val = o->gccfg;
        return true;
    case R_CID:
        *val = o->cid;
        return true;
    case R_GSNPSID:
        *val = GSNPSID_VAL;
        return true;
    case R_GLPMCFG:
        *val = o->glpmcfg;
        return true;
    case R_DCFG:
        *val = o->dcfg;
        return true;
    case R_DCTL:
        *val = o->dctl | (o->ginak ? DCTL_GINSTS : 0u) | (o->gonak_eff ? DCTL_GONSTS : 0u);
        return true;
    case R_DSTS:
        *val = DSTS_RESET | (o->enumspd << DSTS_ENUMSPD_SH);
        return true;
    case R_DIEPMSK:
        *val = o->diepmsk;
        return true;
    case R_DOEPMSK:
        *val = o->doepmsk;
        return true;
    case R_DAINT:
        *val = daint(o);
        return true;
    case R_DAINTMSK:
        *val = o->daintmsk;
        return true;
    case R_DVBUSDIS:
        *val = o->dvbusdis;
        return true;
    case R_DVBUSPULSE:
        *val = o->dvbuspulse;
        return true;
    case R_DTHRCTL:
        *val = o->dthrctl;
        return true;
    case R_DIEPEMPMSK:
        *val = o->diepempmsk;
        return true;
    case R_PCGCCTL:
        *val = o->pcgcctl;
        return true;
    default:
        break;
    }
    return fail(why, "OTG_FS: register not modelled (host mode, HW config or reserved)");
}

static bool dctl_write(otg_fs_t *o, uint32_t v, const char **why)
{
    if (v & DCTL_TCTL) {
        return fail(why, "DCTL.TCTL: test modes not modelled");
    }
    if (v & ~(DCTL_RW | DCTL_GINSTS | DCTL_GONSTS | DCTL_SGINAK | DCTL_CGINAK | DCTL_SGONAK |
              DCTL_CGONAK)) {
        return fail(why, "DCTL: reserved bit set");
    }
    o->dctl = v & DCTL_RW;
    /* Global IN NAK (57.15): effective at once, GINAKEFF/GINSTS. */
    if (v & DCTL_SGINAK) {
        o->ginak = true;
    }
    if (v & DCTL_CGINAK) {
        o->ginak = false;
    }
    /* Global OUT NAK (57.15 "Setting the global OUT NAK"): OUT data is
     * NAKed from now on; in slave mode the core writes the "global OUT NAK"
     * status (PKTSTS 0001) into the RX FIFO and GONAKEFF rises once the
     * application has popped it. */
    if ((v & DCTL_SGONAK) && !o->gonak_req) {
        o->gonak_req = true;
        if (!rx_push(o, rx_sts(0, 0, 0, PKTSTS_GONAK), NULL, 0)) {
            o->gonak_eff = true; /* no room for the entry: not modelled further */
        }
    }
    if (v & DCTL_CGONAK) {
        o->gonak_req = o->gonak_eff = false;
    }
    return true;
}

static bool otg_write(void *ctx, uint32_t off, unsigned size, uint32_t v, const char **why)
{
    otg_fs_t *o = ctx;
    bool ok = true;
    if (size != 4u || (off & 3u)) {
        return fail(why, "OTG_FS: 32-bit aligned accesses only");
    }
    if (off >= R_FIFO0 && off < R_FIFO_END) {
        return fifo_write(o, off / R_FIFO0 - 1u, v, why);
    }
    if (off >= R_FIFO_RAM) {
        return fail(why, "OTG_FS: direct FIFO RAM access not modelled");
    }
    if (off >= R_DIEP0 && off < R_DIEP0 + EP_STRIDE * NEP) {
        return ep_write(o, true, (off - R_DIEP0) / EP_STRIDE, (off - R_DIEP0) % EP_STRIDE, v, why);
    }
    if (off >= R_DOEP0 && off < R_DOEP0 + EP_STRIDE * NEP) {
        return ep_write(o, false, (off - R_DOEP0) / EP_STRIDE, (off - R_DOEP0) % EP_STRIDE, v, why);
    }
    if (off >= R_DIEPTXF1 && off < R_DIEPTXF1 + 4u * (NEP - 1u)) {
        o->dieptxf[(off - R_DIEPTXF1) / 4u] = v;
        return true;
    }
    switch (off) {
    case R_GOTGCTL:
        if (v & GOTGCTL_OTGPROT) {
            return fail(why, "GOTGCTL: SRP/HNP not modelled");
        }
        if (v & ~(GOTGCTL_RW | GOTGCTL_RO)) {
            return fail(why, "GOTGCTL: reserved bit set");
        }
        o->gotgctl = v & GOTGCTL_RW;
        break;
    case R_GOTGINT:
        o->gotgint &= ~v;
        break;
    case R_GAHBCFG:
        if (v & GAHBCFG_DMAEN) {
            return fail(why, "GAHBCFG.DMAEN: DMA mode not modelled");
        }
        if (v & ~GAHBCFG_RW) {
            return fail(why, "GAHBCFG: reserved bit set");
        }
        o->gahbcfg = v;
        break;
    case R_GUSBCFG:
        if (v & GUSBCFG_FHMOD) {
            return fail(why, "GUSBCFG.FHMOD: host mode not modelled");
        }
        if (v & ~(GUSBCFG_RW | GUSBCFG_PHYSEL)) {
            return fail(why, "GUSBCFG: reserved bit set");
        }
        o->gusbcfg = v & GUSBCFG_RW;
        break;
    case R_GRSTCTL:
        if (v & ~(GRSTCTL_CSRST | GRSTCTL_RXFFLSH | GRSTCTL_TXFFLSH | GRSTCTL_TXFNUM |
                  GRSTCTL_DMAREQ | GRSTCTL_AHBIDL)) {
            return fail(why, "GRSTCTL: bit not modelled (PSRST, FCRST or reserved)");
        }
        if (v & GRSTCTL_CSRST) {
            core_soft_reset(o);
            o->grstctl_busy = GRSTCTL_CSRST;
            break;
        }
        o->grstctl_txfnum = v & GRSTCTL_TXFNUM;
        if (v & GRSTCTL_RXFFLSH) {
            rx_flush(o);
        }
        if (v & GRSTCTL_TXFFLSH) {
            unsigned f = (v & GRSTCTL_TXFNUM) >> 6;
            if (f == GRSTCTL_TXF_ALL) {
                for (unsigned i = 0; i < NEP; i++) {
                    tx_flush(o, i);
                }
            } else if (f < NEP) {
                tx_flush(o, f);
            } else {
                return fail(why, "GRSTCTL.TXFNUM: no such TX FIFO");
            }
        }
        o->grstctl_busy = v & (GRSTCTL_RXFFLSH | GRSTCTL_TXFFLSH);
        break;
    case R_GINTSTS:
        o->gintsts &= ~(v & GINT_W1C);
        break;
    case R_GINTMSK:
        if (v & ~GINTMSK_RW) {
            return fail(why, "GINTMSK: reserved bit set");
        }
        o->gintmsk = v;
        break;
    case R_GRXFSIZ:
        if (v & 0xFFFF0000u) {
            return fail(why, "GRXFSIZ: reserved bit set");
        }
        o->grxfsiz = v;
        break;
    case R_DIEPTXF0:
        o->dieptxf0 = v;
        break;
    case R_GCCFG:
        if (v & GCCFG_BCD) {
            return fail(why, "GCCFG: battery charging detection not modelled");
        }
        if (v & ~(GCCFG_PWRDWN | GCCFG_VBDEN | GCCFG_RO)) {
            return fail(why, "GCCFG: reserved bit set");
        }
        o->gccfg = v & (GCCFG_PWRDWN | GCCFG_VBDEN);
        break;
    case R_CID:
        o->cid = v;
        break;
    case R_GLPMCFG:
        if (v) {
            return fail(why, "GLPMCFG: LPM not modelled");
        }
        break;
    case R_DCFG:
        if (v & ~(DCFG_RW | DCFG_RO)) {
            return fail(why, "DCFG: reserved bit set");
        }
        o->dcfg = (v & DCFG_RW) | DCFG_RO;
        break;
    case R_DCTL:
        ok = dctl_write(o, v, why);
        break;
    case R_DIEPMSK:
        if (v & ~DIEPMSK_RW) {
            return fail(why, "DIEPMSK: reserved bit set");
        }
        o->diepmsk = v;
        break;
    case R_DOEPMSK:
        if (v & ~DOEPMSK_RW) {
            return fail(why, "DOEPMSK: reserved bit set");
        }
        o->doepmsk = v;
        break;
    case R_DAINTMSK:
        if (v & ~DAINTMSK_RW) {
            return fail(why, "DAINTMSK: bit of an endpoint beyond EP8");
        }
        o->daintmsk = v;
        break;
    case R_DVBUSDIS:
        o->dvbusdis = v & 0xFFFFu;
        break;
    case R_DVBUSPULSE:
        o->dvbuspulse = v & 0xFFFu;
        break;
    case R_DTHRCTL:
        if (v & DTHRCTL_EN) {
            return fail(why, "DTHRCTL: thresholding (DMA) not modelled");
        }
        o->dthrctl = v;
        break;
    case R_DIEPEMPMSK:
        if (v & ~0x1FFu) {
            return fail(why, "DIEPEMPMSK: bit of an endpoint beyond EP8");
        }
        o->diepempmsk = v;
        break;
    case R_PCGCCTL:
        if (v & PCGCCTL_GATE) {
            return fail(why, "PCGCCTL: PHY/HCLK gating not modelled");
        }
        if (v & ~(PCGCCTL_RW | PCGCCTL_RO)) {
            return fail(why, "PCGCCTL: reserved bit set");
        }
        o->pcgcctl = v & PCGCCTL_RW;
        break;
    case R_GRXSTSR:
    case R_GRXSTSP:
    case R_GSNPSID:
    case R_DSTS:
    case R_DAINT:
        return fail(why, "OTG_FS: read-only register");
    default:
        return fail(why, "OTG_FS: register not modelled (host mode, HW config or reserved)");
    }
    update_connection(o);
    return ok;
}

static void otg_reset(void *ctx, bool power_on)
{
    otg_fs_t *o = ctx;
    (void)power_on; /* nothing survives a system reset differently */
    regs_reset(o);
    update_connection(o);
}

/* ---- the host side ------------------------------------------------------ */

/* An IN token on endpoint n (57.15 IN data transfers): STALL wins, then
 * NAK unless enabled, not NAKing, no global IN NAK and the whole packet
 * (min(MPS, XFRSIZ) bytes) in the TX FIFO. cap bytes of it are kept in buf. */
static enum tok in_token(otg_fs_t *o, unsigned n, uint8_t *buf, unsigned cap, unsigned *len)
{
    ep_t *e = &o->in[n];
    if (e->ctl & CTL_STALL) {
        return TOK_STALL;
    }
    unsigned xfr = tsiz_xfr(e->tsiz, n), pkt = tsiz_pkt(e->tsiz, n, true);
    if (!(e->ctl & CTL_EPENA) || (e->ctl & CTL_NAKSTS) || o->ginak || pkt == 0) {
        e->intr |= INT_NAK;
        return TOK_NAK;
    }
    unsigned mps = ep_mps(o, true, n), l = xfr < mps ? xfr : mps, nw = (l + 3u) / 4u;
    unsigned f = in_fifo(o, n);
    if (f >= NEP || o->tx[f].n < nw) {
        e->intr |= DIEPINT_ITTXFE | INT_NAK;
        return TOK_NAK;
    }
    uint8_t bytes[4 * RAM_WORDS];
    for (unsigned i = 0; i < nw; i++) {
        uint32_t w = tx_pop(o, f);
        memcpy(bytes + 4u * i, &w, 4);
    }
    if (buf && cap) {
        memcpy(buf, bytes, l < cap ? l : cap);
    }
    pkt--;
    e->tsiz = tsiz_set(e->tsiz, n, true, xfr - l, pkt);
    if (pkt == 0) {
        e->ctl &= ~CTL_EPENA;
        e->intr |= INT_XFRC;
    }
    *len = l;
    return TOK_ACK;
}

/* An OUT token + data packet on endpoint n (57.15 OUT data transfers). */
static enum tok out_token(otg_fs_t *o, unsigned n, const uint8_t *data, unsigned bcnt, unsigned pid)
{
    ep_t *e = &o->out[n];
    if (e->ctl & CTL_STALL) {
        return TOK_STALL;
    }
    if (!(e->ctl & CTL_EPENA)) {
        if (n == 0) {
            e->intr |= DOEPINT_OTEPDIS; /* OUT token while EP0 OUT is disabled */
        }
        e->intr |= INT_NAK;
        return TOK_NAK;
    }
    unsigned xfr = tsiz_xfr(e->tsiz, n), pkt = tsiz_pkt(e->tsiz, n, false);
    unsigned nw = (bcnt + 3u) / 4u, mps = ep_mps(o, false, n);
    bool last = pkt == 1u || bcnt < mps;
    if ((e->ctl & CTL_NAKSTS) || o->gonak_req || pkt == 0 ||
        !rx_room(o, 1u + nw + (last ? 1u : 0u))) {
        e->intr |= INT_NAK;
        return TOK_NAK;
    }
    rx_push(o, rx_sts(n, bcnt, pid ? DPID_DATA1 : 0u, PKTSTS_OUT_DATA), data, bcnt);
    /* More data than the transfer size left: the core flags the overflow
     * (DOEPINTx.OUTPKTERR) and the packet stays in the FIFO with its byte
     * count; the transfer size bottoms out at 0. */
    if (bcnt > xfr) {
        e->intr |= DOEPINT_OUTPKTERR;
        xfr = 0;
    } else {
        xfr -= bcnt;
    }
    pkt--;
    e->tsiz = tsiz_set(e->tsiz, n, false, xfr, pkt);
    if (last) {
        /* Transfer complete: entry 0011, endpoint disabled and NAKing
         * (DOEPCTLx.SNAK: "the core can also set this bit ... on a Transfer
         * Completed interrupt"); XFRC when the entry is popped. */
        rx_push(o, rx_sts(n, 0, pid ? DPID_DATA1 : 0u, PKTSTS_OUT_DONE), NULL, 0);
        e->ctl = (e->ctl & ~CTL_EPENA) | CTL_NAKSTS;
    }
    return TOK_ACK;
}

/* A SETUP packet on EP0: always acknowledged (it cannot be NAKed) when the RX
 * FIFO has room; STUPCNT counts down, NAK set and STALL cleared on both EP0
 * directions (DxEPCTL0.STALL "the core clears it when a SETUP token is
 * received"). */
static bool setup_token(otg_fs_t *o)
{
    if (!rx_push(o, rx_sts(0, 8, 0, PKTSTS_SETUP_DATA), o->setup, 8)) {
        return false;
    }
    uint32_t t = o->out[0].tsiz;
    unsigned stupcnt = (t >> 29) & 3u;
    if (stupcnt) {
        stupcnt--;
    }
    o->out[0].tsiz = (t & ~(3u << 29)) | (stupcnt << 29);
    o->in[0].ctl = (o->in[0].ctl & ~CTL_STALL) | CTL_NAKSTS;
    o->out[0].ctl = (o->out[0].ctl & ~CTL_STALL) | CTL_NAKSTS;
    o->setup_done_owed = true;
    o->host_pid = 1; /* data and status stages start with DATA1 */
    return true;
}

/* USB reset seen by the core: GINTSTS.USBRST; USBAEP cleared on every
 * endpoint but EP0 (DxEPCTLx.USBAEP). */
static void usb_reset(otg_fs_t *o)
{
    o->gintsts |= GINT_USBRST;
    for (unsigned n = 1; n < NEP; n++) {
        o->in[n].ctl &= ~CTL_USBAEP;
        o->out[n].ctl &= ~CTL_USBAEP;
    }
    o->setup_done_owed = false;
}

/* Enumeration done: the speed the PHY and DCFG.DSPD allow. The embedded PHY
 * is full speed only: 11 with the FS PHY setting (DSPD 11), 01 otherwise. */
static void enum_done(otg_fs_t *o)
{
    o->enumspd = (o->dcfg & DCFG_DSPD) == 3u ? 3u : 1u;
    o->gintsts |= GINT_ENUMDNE;
}

static bool host_step(otg_fs_t *o, bool *stop)
{
    if (!o->connected) {
        return false;
    }
    if (o->reset_pending) {
        o->reset_pending = false;
        usb_reset(o);
        o->enum_pending = true;
        *stop = true; /* the reset lasts: ENUMDNE at the next poll */
        return true;
    }
    if (o->enum_pending) {
        o->enum_pending = false;
        enum_done(o);
        return true;
    }
    switch (o->phase) {
    case CT_SETUP:
        if (!setup_token(o)) {
            return false;
        }
        if (o->wlen == 0) {
            o->phase = CT_STATUS_IN;
        } else {
            o->phase = (o->setup[0] & 0x80u) ? CT_DATA_IN : CT_DATA_OUT;
        }
        return true;
    case CT_DATA_IN:
    case CT_DATA_OUT:
    case CT_STATUS_IN:
    case CT_STATUS_OUT:
        break;
    default:
        return false;
    }
    if (o->setup_done_owed) {
        /* The first token after the SETUP ends the SETUP stage (entry 0100). */
        if (!rx_push(o, rx_sts(0, 0, 0, PKTSTS_SETUP_DONE), NULL, 0)) {
            return false;
        }
        o->setup_done_owed = false;
        return true;
    }
    enum tok t;
    unsigned len = 0;
    switch (o->phase) {
    case CT_DATA_IN: {
        unsigned room = (unsigned)(o->wlen - o->pos);
        t = in_token(o, 0, o->data + o->pos, room, &len);
        if (t == TOK_ACK) {
            o->pos = (uint16_t)(o->pos + (len < room ? len : room));
            /* A short packet or a full buffer ends the data stage. */
            if (len < HOST_MPS || o->pos == o->wlen) {
                o->phase = CT_STATUS_OUT;
            }
        }
        break;
    }
    case CT_DATA_OUT: {
        unsigned left = (unsigned)(o->wlen - o->pos), n = left < HOST_MPS ? left : HOST_MPS;
        t = out_token(o, 0, o->data + o->pos, n, o->host_pid);
        if (t == TOK_ACK) {
            o->pos = (uint16_t)(o->pos + n);
            o->host_pid ^= 1u;
            if (o->pos == o->wlen) {
                o->phase = CT_STATUS_IN;
            }
        }
        break;
    }
    case CT_STATUS_IN:
        t = in_token(o, 0, NULL, 0, &len);
        if (t == TOK_ACK) {
            ct_finish(o, 0);
        }
        break;
    default: /* CT_STATUS_OUT: zero-length DATA1 */
        t = out_token(o, 0, NULL, 0, 1u);
        if (t == TOK_ACK) {
            ct_finish(o, 0);
        }
        break;
    }
    if (t == TOK_STALL) {
        ct_finish(o, -EPIPE);
        return true;
    }
    return t == TOK_ACK;
}

/* ---- public API --------------------------------------------------------- */

otg_fs_t *otg_fs_new(void)
{
    otg_fs_t *o = calloc(1, sizeof *o);
    if (o) {
        regs_reset(o);
    }
    return o;
}

void otg_fs_free(otg_fs_t *o)
{
    free(o);
}

mcu_periph_t otg_fs_periph(otg_fs_t *o)
{
    return (mcu_periph_t){
        .name = "OTG_FS",
        .base = OTG_FS_BASE,
        .size = OTG_FS_SIZE,
        .ctx = o,
        .read = otg_read,
        .write = otg_write,
        .reset = otg_reset,
    };
}

void otg_fs_set_gate(otg_fs_t *o, bool (*powered)(void *user), void *user)
{
    o->powered = powered;
    o->user = user;
    update_connection(o);
}

void otg_fs_poll(otg_fs_t *o)
{
    update_connection(o);
    bool stop = false;
    for (int i = 0; i < STEPS_MAX && !stop; i++) {
        if (!host_step(o, &stop)) {
            break;
        }
    }
}

bool otg_fs_host_connected(const otg_fs_t *o)
{
    return o->connected;
}

unsigned otg_fs_host_connect_epoch(const otg_fs_t *o)
{
    return o->epoch;
}

void otg_fs_host_bus_reset(otg_fs_t *o)
{
    o->reset_pending = true;
    o->enum_pending = false;
    if (ct_running(o)) {
        ct_finish(o, -ECONNRESET);
    }
}

uint8_t otg_fs_host_address(const otg_fs_t *o)
{
    return (uint8_t)((o->dcfg >> DCFG_DAD_SH) & 0x7Fu);
}

int otg_fs_host_control_start(otg_fs_t *o, const uint8_t setup[8], uint8_t *data)
{
    if (!o->connected) {
        return -ENODEV;
    }
    if (o->phase != CT_IDLE) {
        return -EBUSY;
    }
    memcpy(o->setup, setup, 8);
    o->wlen = (uint16_t)(setup[6] | (setup[7] << 8));
    o->data = data;
    o->pos = 0;
    o->result = 0;
    o->phase = CT_SETUP;
    return 0;
}

bool otg_fs_host_control_done(const otg_fs_t *o)
{
    return o->phase == CT_DONE;
}

int otg_fs_host_control_result(otg_fs_t *o, uint16_t *actual)
{
    if (o->phase == CT_IDLE) {
        return -EINVAL;
    }
    if (o->phase != CT_DONE) {
        return OTG_FS_HOST_PENDING;
    }
    if (actual) {
        *actual = o->pos;
    }
    o->phase = CT_IDLE;
    o->data = NULL;
    return o->result;
}

void otg_fs_host_control_cancel(otg_fs_t *o)
{
    o->phase = CT_IDLE;
    o->data = NULL;
}
