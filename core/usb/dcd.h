/*
 * Device controller driver (dcd) interface: the only part of the USB stack that
 * touches a controller. One implementation per controller family:
 * port/stm32h743/dcd_dwc2.c (Synopsys DWC2 OTG_FS) and sim/dcd_sim.c (the
 * virtual board's controller, driven by usbfs requests from the host).
 *
 * Endpoint addresses follow USB: bit 7 set for IN. Endpoint 0 is always open.
 * Control transfers on EP0: the dcd reports SETUP with usbd_event_setup(); the
 * core answers with dcd_ep_xfer() on 0x80 (IN data) or 0x00 (OUT data), then a
 * zero-length transfer in the other direction for the status stage, or with
 * dcd_ep_stall(0x00) to stall the request.
 */
#ifndef H7_DCD_H
#define H7_DCD_H

#include <stdbool.h>
#include <stdint.h>

/* Bring the controller up (clocks and pins are the port's job beforehand). */
void dcd_init(void);
/* Attach / detach the pull-up: the host sees the device appear / vanish. */
void dcd_connect(void);
void dcd_disconnect(void);
/* Called by the core on SET_ADDRESS (before the status stage). */
void dcd_set_address(uint8_t addr);
/* Open a non-control endpoint (type: 2 bulk, 3 interrupt). */
bool dcd_ep_open(uint8_t ep_addr, uint8_t type, uint16_t max_packet);
/* Close every non-control endpoint (bus reset, SET_CONFIGURATION 0). */
void dcd_ep_close_all(void);
/* Start a transfer of len bytes; completion comes as usbd_event_xfer_done(). */
bool dcd_ep_xfer(uint8_t ep_addr, uint8_t *buf, uint16_t len);
void dcd_ep_stall(uint8_t ep_addr);
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
