/*
 * In-process transport to the emulated chip (sim/mcu/h743.h): libh7dfu's
 * control transfers go to the chip's OTG_FS model and the firmware binary
 * answers them; waits run the chip on the virtual clock. No umockdev, no
 * second process: what a runner that cuts the power at every flash
 * operation needs. Enumeration is done here, as a host's hub driver would
 * (bus reset, SET_ADDRESS, SET_CONFIGURATION), whenever the device comes
 * back on the bus.
 */
#ifndef H7_INPROC_CHIP_H
#define H7_INPROC_CHIP_H

#include <stdbool.h>
#include <stdint.h>

#include "h743.h"
#include "h7_transport.h"

typedef struct h7_inproc_chip {
    h743_t *chip;       /* borrowed */
    sim_clock_t *clock; /* borrowed */
    h7_transport_t tr;
    unsigned epoch; /* connect epoch at the last enumeration */
    bool enumerated;
    bool lost;           /* power lost: every transfer fails until power-on */
    uint16_t id_product; /* from the device descriptor at enumeration */
    uint64_t requests;
} h7_inproc_chip_t;

void h7_inproc_chip_init(h7_inproc_chip_t *t, h743_t *chip, sim_clock_t *clock);
const h7_transport_t *h7_inproc_chip_transport(h7_inproc_chip_t *t);
/* Run the chip until its USB device is on the bus and enumerated, at most
 * max_ms of virtual time; then id_product tells who answered. */
bool h7_inproc_chip_wait_device(h7_inproc_chip_t *t, unsigned max_ms);
/* Run the chip until its device leaves the bus (a reset it asked for), at
 * most max_ms of virtual time. */
bool h7_inproc_chip_wait_gone(h7_inproc_chip_t *t, unsigned max_ms);
/* Power the chip on again after a loss (flash and firmware). */
bool h7_inproc_chip_power_on(h7_inproc_chip_t *t, sim_flash_t *flash);

#endif
