/*
 * USB on-the-go (Synopsys DWC2 core), used in device mode at full speed.
 * RM0433 section 57 "USB on-the-go high-speed (OTG_HS)": the H743 has two
 * instances of the same core; USB2_OTG_FS (the one wired to PA11/PA12 with
 * its embedded FS PHY) is at 0x4008 0000 (RM0433 2.3.2 Table 8, D2 AHB1;
 * USB1_OTG_HS is at 0x4004 0000). Register map: RM0433 57.14.55 (global),
 * device registers from offset 0x800, power/clock gating at 0xE00, FIFO
 * push/pop windows from 0x1000 (one 4 KiB window per endpoint).
 * Dedicated FIFO RAM: 4 Kbytes (RM0433 57.2 "OTG main features").
 *
 * Audit: the base (0x4008 0000), the 0x800/0x900/0xB00/0xE00/0x1000 block
 * offsets, the 0x20 endpoint stride, the 0x1000 FIFO window spacing and every
 * bit used below were checked against ST's STM32H7 CMSIS device header
 * (USB2_OTG_FS_PERIPH_BASE, USB_OTG_* definitions) and ST's USB LL driver
 * (USB_OTG_SPEED_FULL = 3 for DSPD). The core is Synopsys OTG 3.30a
 * (GSNPSID 0x4F54330A on H743/H750, as recorded by TinyUSB's dwc2_info
 * table): CSRST self-clears (the CSRSTDNE handshake exists only from 4.20a).
 * unverified: the 57.14.x sub-section numbers; register names are exact.
 */
#ifndef H7_REGS_OTG_H
#define H7_REGS_OTG_H

#include "mmio.h"

typedef struct {
    H7_REG GOTGCTL;    /* 0x000 RM0433 57.14.1 OTG_GOTGCTL */
    H7_REG GOTGINT;    /* 0x004 RM0433 57.14.2 OTG_GOTGINT */
    H7_REG GAHBCFG;    /* 0x008 RM0433 57.14.3 OTG_GAHBCFG */
    H7_REG GUSBCFG;    /* 0x00C RM0433 57.14.4 OTG_GUSBCFG */
    H7_REG GRSTCTL;    /* 0x010 RM0433 57.14.5 OTG_GRSTCTL */
    H7_REG GINTSTS;    /* 0x014 RM0433 57.14.6 OTG_GINTSTS */
    H7_REG GINTMSK;    /* 0x018 RM0433 57.14.7 OTG_GINTMSK */
    H7_REG GRXSTSR;    /* 0x01C RM0433 57.14.8 */
    H7_REG GRXSTSP;    /* 0x020 RM0433 57.14.9 OTG_GRXSTSP (pop) */
    H7_REG GRXFSIZ;    /* 0x024 RM0433 57.14.10 OTG_GRXFSIZ (words) */
    H7_REG DIEPTXF0;   /* 0x028 RM0433 57.14.11 OTG_DIEPTXF0 */
    H7_REG RSVD0[3];   /* 0x02C..0x034 */
    H7_REG GCCFG;      /* 0x038 RM0433 57.14.13 OTG_GCCFG */
    H7_REG CID;        /* 0x03C */
    H7_REG RSVD1[5];   /* 0x040..0x050 */
    H7_REG GLPMCFG;    /* 0x054 */
    H7_REG RSVD2[42];  /* 0x058..0x0FC */
    H7_REG HPTXFSIZ;   /* 0x100 */
    H7_REG DIEPTXF[8]; /* 0x104.. RM0433 57.14.17 OTG_DIEPTXFx, x = 1..8 */
} h7_otg_global_t;

H7_CHECK_OFFSET(h7_otg_global_t, GCCFG, 0x038);
H7_CHECK_OFFSET(h7_otg_global_t, DIEPTXF, 0x104);

typedef struct {
    H7_REG DCFG;       /* 0x800 RM0433 57.14.40 OTG_DCFG */
    H7_REG DCTL;       /* 0x804 RM0433 57.14.41 OTG_DCTL */
    H7_REG DSTS;       /* 0x808 RM0433 57.14.42 OTG_DSTS */
    H7_REG RSVD0;      /* 0x80C */
    H7_REG DIEPMSK;    /* 0x810 */
    H7_REG DOEPMSK;    /* 0x814 */
    H7_REG DAINT;      /* 0x818 */
    H7_REG DAINTMSK;   /* 0x81C */
    H7_REG RSVD1[2];   /* 0x820..0x824 */
    H7_REG DVBUSDIS;   /* 0x828 */
    H7_REG DVBUSPULSE; /* 0x82C */
    H7_REG DTHRCTL;    /* 0x830 */
    H7_REG DIEPEMPMSK; /* 0x834 */
} h7_otg_device_t;

H7_CHECK_OFFSET(h7_otg_device_t, DAINTMSK, 0x1C);
H7_CHECK_OFFSET(h7_otg_device_t, DIEPEMPMSK, 0x34);

/* One endpoint's registers: IN at 0x900 + 0x20 n, OUT at 0xB00 + 0x20 n. */
typedef struct {
    H7_REG CTL;    /* 0x00 OTG_DIEPCTLx / OTG_DOEPCTLx (RM0433 57.14.47 / 57.14.52) */
    H7_REG RSVD0;  /* 0x04 */
    H7_REG INT;    /* 0x08 OTG_DIEPINTx / OTG_DOEPINTx */
    H7_REG RSVD1;  /* 0x0C */
    H7_REG TSIZ;   /* 0x10 OTG_DIEPTSIZx / OTG_DOEPTSIZx */
    H7_REG DMA;    /* 0x14 */
    H7_REG TXFSTS; /* 0x18 OTG_DTXFSTSx (IN only): free words in the TX FIFO */
    H7_REG RSVD2;  /* 0x1C */
} h7_otg_ep_t;

_Static_assert(sizeof(h7_otg_ep_t) == 0x20, "endpoint register stride");

#define H7_OTG_FS_BASE   0x40080000u
#define H7_OTG           ((h7_otg_global_t *)H7_OTG_FS_BASE)
#define H7_OTG_DEV       ((h7_otg_device_t *)(H7_OTG_FS_BASE + 0x800u))
#define H7_OTG_IN_EP(n)  ((h7_otg_ep_t *)(H7_OTG_FS_BASE + 0x900u + 0x20u * (n)))
#define H7_OTG_OUT_EP(n) ((h7_otg_ep_t *)(H7_OTG_FS_BASE + 0xB00u + 0x20u * (n)))
#define H7_OTG_PCGCCTL   (*(volatile uint32_t *)(H7_OTG_FS_BASE + 0xE00u))
#define H7_OTG_FIFO(n)   (*(volatile uint32_t *)(H7_OTG_FS_BASE + 0x1000u * ((n) + 1u)))

#define OTG_FIFO_RAM_WORDS 1024u /* 4 Kbytes (RM0433 57.2) */
#define OTG_NUM_EPS        9u    /* EP0..EP8 in device mode (RM0433 57.2) */

/* OTG_GOTGCTL (57.14.1): B-session valid override when VBUS is not sensed. */
#define OTG_GOTGCTL_BVALOEN  H7_BIT(6)
#define OTG_GOTGCTL_BVALOVAL H7_BIT(7)
/* OTG_GOTGINT (57.14.2): session end detected (VBUS gone). */
#define OTG_GOTGINT_SEDET H7_BIT(2)
/* OTG_GAHBCFG (57.14.3) */
#define OTG_GAHBCFG_GINTMSK H7_BIT(0) /* global interrupt enable (we poll: 0) */
/* OTG_GUSBCFG (57.14.4) */
#define OTG_GUSBCFG_PHYSEL    H7_BIT(6) /* 1: full-speed serial transceiver */
#define OTG_GUSBCFG_TRDT(v)   H7_FIELD_VAL(10, 4, v)
#define OTG_GUSBCFG_TRDT_MASK H7_FIELD(10, 4)
#define OTG_GUSBCFG_FHMOD     H7_BIT(29)
#define OTG_GUSBCFG_FDMOD     H7_BIT(30)
/* OTG_GRSTCTL (57.14.5) */
#define OTG_GRSTCTL_CSRST     H7_BIT(0)
#define OTG_GRSTCTL_RXFFLSH   H7_BIT(4)
#define OTG_GRSTCTL_TXFFLSH   H7_BIT(5)
#define OTG_GRSTCTL_TXFNUM(v) H7_FIELD_VAL(6, 5, v) /* 0x10: all TX FIFOs */
#define OTG_GRSTCTL_AHBIDL    H7_BIT(31)
/* OTG_GINTSTS / OTG_GINTMSK (57.14.6 / 57.14.7) */
#define OTG_GINT_OTGINT   H7_BIT(2)
#define OTG_GINT_SOF      H7_BIT(3)
#define OTG_GINT_RXFLVL   H7_BIT(4)
#define OTG_GINT_GINAKEFF H7_BIT(6)
#define OTG_GINT_GONAKEFF H7_BIT(7)
#define OTG_GINT_ESUSP    H7_BIT(10)
#define OTG_GINT_USBSUSP  H7_BIT(11)
#define OTG_GINT_USBRST   H7_BIT(12)
#define OTG_GINT_ENUMDNE  H7_BIT(13)
#define OTG_GINT_IEPINT   H7_BIT(18)
#define OTG_GINT_OEPINT   H7_BIT(19)
#define OTG_GINT_SRQINT   H7_BIT(30)
#define OTG_GINT_WKUPINT  H7_BIT(31)
/* OTG_GRXSTSP (57.14.9): EPNUM[3:0], BCNT[14:4], PKTSTS[20:17] */
#define OTG_GRXSTS_EPNUM(r)   ((r)&0xFu)
#define OTG_GRXSTS_BCNT(r)    (((r) >> 4) & 0x7FFu)
#define OTG_GRXSTS_PKTSTS(r)  (((r) >> 17) & 0xFu)
#define OTG_PKTSTS_OUT_DATA   2u /* OUT data packet received */
#define OTG_PKTSTS_OUT_DONE   3u /* OUT transfer completed */
#define OTG_PKTSTS_SETUP_DONE 4u /* SETUP transaction completed */
#define OTG_PKTSTS_SETUP_DATA 6u /* SETUP data packet received */
/* OTG_GRXFSIZ / OTG_DIEPTXFx: start address [15:0], depth [31:16], in words */
#define OTG_TXF(start, depth) (((uint32_t)(depth) << 16) | (uint32_t)(start))
/* OTG_GCCFG (57.14.13) */
#define OTG_GCCFG_PWRDWN H7_BIT(16) /* 1: transceiver active */
#define OTG_GCCFG_VBDEN  H7_BIT(21) /* VBUS detection enable (PA9) */
/* OTG_DCFG (57.14.40) */
#define OTG_DCFG_DSPD_FS   H7_FIELD_VAL(0, 2, 3u) /* 11: full speed, internal PHY */
#define OTG_DCFG_DSPD_MASK H7_FIELD(0, 2)
#define OTG_DCFG_NZLSOHSK  H7_BIT(2)
#define OTG_DCFG_DAD(a)    H7_FIELD_VAL(4, 7, a)
#define OTG_DCFG_DAD_MASK  H7_FIELD(4, 7)
/* OTG_DCTL (57.14.41) */
#define OTG_DCTL_RWUSIG H7_BIT(0)
#define OTG_DCTL_SDIS   H7_BIT(1) /* soft disconnect: pull-up off */
#define OTG_DCTL_SGINAK H7_BIT(7)
#define OTG_DCTL_CGINAK H7_BIT(8)
#define OTG_DCTL_SGONAK H7_BIT(9)
#define OTG_DCTL_CGONAK H7_BIT(10)
/* OTG_DIEPCTLx / OTG_DOEPCTLx (57.14.47 / 57.14.52) */
#define OTG_EPCTL_MPSIZ(v)  H7_FIELD_VAL(0, 11, v) /* EP0: 00 = 64 bytes */
#define OTG_EPCTL_USBAEP    H7_BIT(15)
#define OTG_EPCTL_EPTYP(v)  H7_FIELD_VAL(18, 2, v)
#define OTG_EPCTL_STALL     H7_BIT(21)
#define OTG_EPCTL_TXFNUM(v) H7_FIELD_VAL(22, 4, v)
#define OTG_EPCTL_CNAK      H7_BIT(26)
#define OTG_EPCTL_SNAK      H7_BIT(27)
#define OTG_EPCTL_SD0PID    H7_BIT(28)
#define OTG_EPCTL_EPDIS     H7_BIT(30)
#define OTG_EPCTL_EPENA     H7_BIT(31)
/* OTG_DIEPINTx (57.14.48) / OTG_DOEPINTx (57.14.53) */
#define OTG_EPINT_XFRC       H7_BIT(0)
#define OTG_EPINT_EPDISD     H7_BIT(1)
#define OTG_DIEPINT_TOC      H7_BIT(3)
#define OTG_DIEPINT_INEPNE   H7_BIT(6) /* IN endpoint NAK effective */
#define OTG_DOEPINT_STUP     H7_BIT(3)
#define OTG_DOEPINT_OTEPDIS  H7_BIT(4)
#define OTG_DOEPINT_STSPHSRX H7_BIT(5)
/* OTG_DIEPTSIZx / OTG_DOEPTSIZx (57.14.50 / 57.14.55): XFRSIZ[18:0]
 * (EP0: [6:0]), PKTCNT[28:19] (EP0 IN: [20:19], EP0 OUT: bit 19),
 * STUPCNT[30:29] on EP0 OUT (back-to-back SETUPs the core may accept). */
#define OTG_TSIZ_XFRSIZ(v)     H7_FIELD_VAL(0, 19, v)
#define OTG_TSIZ_XFRSIZ_GET(r) ((r)&0x7FFFFu)
#define OTG_TSIZ_PKTCNT(v)     H7_FIELD_VAL(19, 10, v)
#define OTG_TSIZ_STUPCNT(v)    H7_FIELD_VAL(29, 2, v)

#endif
