/*
 * The fuzzers' controller: implements dcd.h for the device core and plays the
 * host side packet by packet. It enforces the dcd.h contract on the core
 * (aborting when the core breaks it) and never breaks it itself: a new SETUP
 * drops armed EP0 transfers and the EP0 stall, an OUT packet is never longer
 * than what was armed.
 */
#ifndef H7_FUZZ_DCD_H
#define H7_FUZZ_DCD_H

#include <stdbool.h>
#include <stdint.h>

/* Forget everything (before usbd_init). */
void fuzz_dcd_reset(void);

/* Host sends a SETUP packet. */
void fuzz_dcd_setup(const uint8_t raw[8]);
/* Host takes the armed IN packet of ep (number 0..15): copies it to out (64
 * bytes of room; may be NULL) and completes it. Returns its length, or -1
 * when nothing is armed or the endpoint is stalled. */
int fuzz_dcd_in(uint8_t ep, uint8_t *out);
/* Host sends an OUT packet on ep, cut to the armed length. Returns the
 * length delivered, or -1 when nothing is armed or the endpoint is stalled. */
int fuzz_dcd_out(uint8_t ep, const uint8_t *data, uint16_t len);

/* Bus reset (drops every armed transfer and the EP0 stall first), suspend
 * (true) / resume (false). */
void fuzz_dcd_bus_reset(void);
void fuzz_dcd_suspend(bool suspended);

bool fuzz_dcd_ep0_stalled(void);
bool fuzz_dcd_armed(uint8_t ep_addr, uint16_t *len);
bool fuzz_dcd_connected(void);
uint8_t fuzz_dcd_address(void);

#endif
