/*
 * The virtual board's USB controller: implements core/usb/dcd.h for the host
 * build, and gives the other side of the cable (the umockdev bridge, tests) a
 * host controller view: bus reset, and control transfers on EP0 that it runs
 * packet by packet against whatever the device core armed.
 *
 * Everything happens in dcd_poll() (the board's main loop): the host side only
 * records what it wants, the device side only arms; dcd_poll() matches the two
 * and raises the usbd_event_* callbacks, as a controller interrupt would.
 * Single-threaded, one board per process (dcd.h is a set of free functions).
 */
#ifndef H7_DCD_SIM_H
#define H7_DCD_SIM_H

#include <stdbool.h>
#include <stdint.h>

#include "dcd.h"

/* Result of a host transfer that has not finished yet. */
#define DCD_SIM_PENDING 1

/* Forget everything (controller powered off): for a new board or a test. */
void dcd_sim_host_power_off(void);
/* The device core's pull-up is on (dcd_connect() called, no disconnect). */
bool dcd_sim_host_connected(void);
/* Incremented on every dcd_connect() / dcd_disconnect(): a board that resets
 * itself shows as a change even when it is connected again before the host
 * looked. */
unsigned dcd_sim_host_connect_epoch(void);
/* Drive a bus reset: usbd_event_bus_reset() at the next dcd_poll(). Aborts
 * the control transfer in progress. */
void dcd_sim_host_bus_reset(void);
/* Address the device core set with dcd_set_address() (0 after reset). */
uint8_t dcd_sim_host_address(void);

/*
 * Start a control transfer on EP0. data holds wLength bytes: the payload for
 * an OUT request, space for the answer for an IN request; it must stay valid
 * until the transfer is finished or cancelled. Returns 0, or -ENODEV when no
 * device is connected, -EBUSY when a control transfer is already running.
 */
int dcd_sim_host_control_start(const uint8_t setup[8], uint8_t *data);
/*
 * DCD_SIM_PENDING while running; then 0 (actual = bytes of the data stage),
 * -EPIPE (the device stalled), -ENODEV (it disconnected) or -ECONNRESET
 * (cancelled or aborted by a bus reset). Reading a finished result frees the
 * slot for the next transfer.
 */
int dcd_sim_host_control_result(uint16_t *actual);
/* Abandon the running control transfer (URB discarded). */
void dcd_sim_host_control_cancel(void);

#endif
