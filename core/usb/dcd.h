/*
 * Device controller driver (dcd) interface: the only part of the USB stack that
 * touches a controller. One implementation per controller family:
 * port/stm32h743/dcd_dwc2.c (Synopsys DWC2 OTG_FS) and sim/usb/dcd_sim.c (the
 * virtual board's controller, driven by usbfs requests from the host).
 * Full speed only; endpoint 0 has wMaxPacketSize0 = 64 (USBD_EP0_SIZE).
 *
 * Endpoint addresses follow USB: bit 7 set for IN. Endpoint 0 is always open.
 *
 * How the EP0 work is split (the core, core/usb/usbd.c, owns the protocol):
 * - The dcd reports every SETUP packet with usbd_event_setup(). Before doing so
 *   it drops any EP0 transfer still armed in either direction and clears an EP0
 *   stall: a new SETUP aborts the old control transfer, and the core never
 *   expects a completion for a transfer it started before the latest SETUP.
 * - EP0 transfers are ONE PACKET each: the core never passes more than 64 bytes
 *   to dcd_ep_xfer() on 0x00 / 0x80. The core splits a data stage into packets,
 *   decides when a zero-length packet ends an IN data stage, and arms the status
 *   stage itself (a zero-length dcd_ep_xfer() in the direction opposite to the
 *   data stage, or IN when there is no data stage). The dcd just moves packets.
 * - An OUT transfer on EP0 completes when one packet arrived (len = its size,
 *   which may be shorter than armed); an IN transfer completes when the host
 *   acknowledged the packet (a zero-length one included).
 * - dcd_ep_stall(0x00) or dcd_ep_stall(0x80) on EP0 is a protocol stall: it
 *   stalls both directions until the next SETUP, which clears it.
 * - dcd_set_address() is called while the SET_ADDRESS request is processed,
 *   before its status stage; the dcd applies the address as its controller
 *   requires (DWC2: write DCFG.DAD at once; a controller that needs it after
 *   the status stage must defer it itself).
 *
 * Other endpoints: dcd_ep_xfer() may be given up to max_packet bytes (the
 * class drivers in this project move one packet per transfer); an OUT transfer
 * completes on its packet with the received length.
 *
 * Events are raised from dcd_poll() (main-loop context), never from an
 * interrupt: the core is not reentrant. Every dcd_* function may be called from
 * inside an event handler.
 */
#ifndef H7_DCD_H
#define H7_DCD_H

#include <assert.h>
#include <stdbool.h>
#include <stdint.h>

/* A dcd call that fails only when the core is wrong (an EP0 transfer longer
 * than EP0's packet, a missing buffer): asserted where assert() is compiled
 * in (host builds: the virtual board and the tests), only made on the
 * firmware (NDEBUG), as littlefs asserts around its block-device calls. */
#ifdef NDEBUG
#define DCD_ASSERT(call) ((void)(call))
#else
#define DCD_ASSERT(call) assert(call)
#endif

/* Bring the controller up (clocks and pins are the port's job beforehand). */
void dcd_init(void);
/* Attach / detach the pull-up: the host sees the device appear / vanish. */
void dcd_connect(void);
void dcd_disconnect(void);
/* Called by the core on SET_ADDRESS (before the status stage) and with 0 on
 * bus reset. */
void dcd_set_address(uint8_t addr);
/* Open a non-control endpoint (type: 2 bulk, 3 interrupt). Opening an open
 * endpoint again reconfigures it (SET_INTERFACE). */
bool dcd_ep_open(uint8_t ep_addr, uint8_t type, uint16_t max_packet);
/* Close every non-control endpoint (bus reset, SET_CONFIGURATION). */
void dcd_ep_close_all(void);
/* Start a transfer of len bytes (see above for EP0); completion comes as
 * usbd_event_xfer_done(). buf must stay valid until then. */
bool dcd_ep_xfer(uint8_t ep_addr, uint8_t *buf, uint16_t len);
void dcd_ep_stall(uint8_t ep_addr);
/* Clear a halt and reset the endpoint's data toggle to DATA0 (USB 2.0 9.4.5). */
void dcd_ep_clear_stall(uint8_t ep_addr);
/* Service the controller when interrupts are not used (main-loop driven). */
void dcd_poll(void);

/* Events the dcd raises; implemented by the device core (core/usb/usbd.c). */
void usbd_event_bus_reset(void);
void usbd_event_setup(const uint8_t setup[8]);
void usbd_event_xfer_done(uint8_t ep_addr, uint16_t len);
void usbd_event_suspend(void);
void usbd_event_resume(void);
void usbd_event_disconnect(void);

#endif
