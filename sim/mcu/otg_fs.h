/*
 * Register model of the STM32H743's USB2_OTG_FS controller (Synopsys DWC2
 * core, RM0433 chapter 57 "USB on-the-go high-speed (OTG_HS)", which covers
 * both instances): device mode, slave (polled, no DMA) mode, full speed on
 * the embedded PHY. The other end of the cable is a host controller that runs
 * control transfers on EP0 packet by packet against whatever the firmware
 * programmed, with the semantics of sim/usb/dcd_sim.h's dcd_sim_host_*.
 *
 * Progress: the device side (register effects, endpoint disable / NAK
 * handshakes, flushes, soft reset) completes within the register access; the
 * host side (bus reset, tokens and packets) only moves in otg_fs_poll().
 */
#ifndef H7_MCU_OTG_FS_H
#define H7_MCU_OTG_FS_H

#include <stdbool.h>
#include <stdint.h>

#include "mcu_periph.h"

#define OTG_FS_BASE 0x40080000u /* RM0433 2.3.2 memory map: USB2_OTG_FS */
#define OTG_FS_SIZE 0x40000u    /* registers, FIFO windows, FIFO RAM access */

/* Result of a host transfer that has not finished yet (= DCD_SIM_PENDING). */
#define OTG_FS_HOST_PENDING 1

typedef struct otg_fs otg_fs_t;

otg_fs_t *otg_fs_new(void);
void otg_fs_free(otg_fs_t *o);
/* name "OTG_FS", base OTG_FS_BASE, size OTG_FS_SIZE. */
mcu_periph_t otg_fs_periph(otg_fs_t *o);

/* The kernel/bus clock gate (RCC AHB1ENR.USB2OTGFSEN, PWR USB33RDY), read
 * whenever the model evaluates the pull-up (register writes, polls, gate
 * setting). While it says false the device is off the bus, and a core soft
 * reset (GRSTCTL.CSRST) does not complete: it finishes in the PHY clock
 * domain. NULL: always on. */
void otg_fs_set_gate(otg_fs_t *o, bool (*powered)(void *user), void *user);

/* Call between CPU slices: re-evaluates the gate and lets the host side
 * progress (bus reset, then tokens/packets until nothing can move). */
void otg_fs_poll(otg_fs_t *o);

/* ---- host side (the other end of the cable) ---- */

/* D+ pull-up on: gate on, DCTL.SDIS = 0, GCCFG.PWRDWN = 1, B-session valid
 * (GOTGCTL.BVALOEN/BVALOVAL override, or GCCFG.VBDEN with VBUS present: the
 * cable always supplies it) and not forced into host mode. */
bool otg_fs_host_connected(const otg_fs_t *o);
/* Incremented at every connect and disconnect edge. */
unsigned otg_fs_host_connect_epoch(const otg_fs_t *o);
/* Drive a bus reset: GINTSTS.USBRST at the next poll, ENUMDNE (DSTS.ENUMSPD
 * full speed) at the poll after. Aborts the running control transfer
 * (-ECONNRESET). Held until the device is connected. */
void otg_fs_host_bus_reset(otg_fs_t *o);
/* DCFG.DAD. */
uint8_t otg_fs_host_address(const otg_fs_t *o);
/* Start a control transfer on EP0; data holds wLength bytes (OUT payload or
 * room for the IN answer) and stays valid until the transfer is over or
 * cancelled. 0, -ENODEV (not connected), -EBUSY (one is running). */
int otg_fs_host_control_start(otg_fs_t *o, const uint8_t setup[8], uint8_t *data);
/* OTG_FS_HOST_PENDING while running; then 0 (actual = data stage bytes),
 * -EPIPE (stalled), -ENODEV (disconnected), -ECONNRESET (bus reset); -EINVAL
 * when no transfer was started. Reading a finished result frees the slot. */
/* The running control transfer has finished (its result is waiting for
 * otg_fs_host_control_result()); does not consume it. */
bool otg_fs_host_control_done(const otg_fs_t *o);
int otg_fs_host_control_result(otg_fs_t *o, uint16_t *actual);
/* Abandon the running control transfer; what the device armed stays armed. */
void otg_fs_host_control_cancel(otg_fs_t *o);

#endif
