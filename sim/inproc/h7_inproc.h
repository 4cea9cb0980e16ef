/*
 * In-process transport: an h7_transport_t whose control transfers go straight
 * into core/dfu on the virtual H743's flash (sim/flash), and whose sleep_ms
 * advances the virtual clock. No USB, no threads: the fastest way to run the
 * host library against the real device code, with fault hooks for tests.
 */
#ifndef H7_INPROC_H
#define H7_INPROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dfu.h"
#include "h7_transport.h"
#include "sim_clock.h"
#include "sim_flash.h"

typedef struct h7_inproc {
    sim_flash_t *flash; /* borrowed */
    sim_clock_t *clock; /* borrowed, may be NULL */
    flash_dev_t dev;
    dfu_t dfu;
    uint8_t bufs[4 * H7_DFU_XFER_MAX]; /* the bootloader's four transfer buffers */
    h7_transport_t tr;
    unsigned stall_next; /* fault: stall this many next requests */
    uint64_t stall_at;   /* fault: stall request number stall_at (0: off) */
    uint64_t requests;   /* control transfers served */
    uint64_t slept_ms;   /* total asked through sleep_ms */
    unsigned manifests;  /* leave requests that reached the boot layer */
    uint32_t manifest_addr;
} h7_inproc_t;

/*
 * Connect a DFU device on flash. cfg may be NULL: wTransferSize 2048, the
 * H743 defaults, bwPollTimeout from the flash model's DS12110 times. When
 * cfg is given its flash, manifest and user fields are replaced, and its
 * buffers when it has none.
 * Returns false when the configuration is refused by dfu_init().
 */
bool h7_inproc_init(h7_inproc_t *ip, sim_flash_t *flash, sim_clock_t *clock,
                    const dfu_config_t *cfg);
const h7_transport_t *h7_inproc_transport(h7_inproc_t *ip);

/* The alt setting's interface string (DfuSe layout); returns its length. */
size_t h7_inproc_layout(const h7_inproc_t *ip, unsigned alt, char *buf, size_t len);

/* Fault: the next n requests are stalled at the USB level (the DFU state
 * machine never sees them). */
void h7_inproc_stall_next(h7_inproc_t *ip, unsigned n);
/* Fault: stall only the n-th request from now (1 = the next one). */
void h7_inproc_stall_at(h7_inproc_t *ip, uint64_t n);
/* Fault: cut the board's power at the n-th flash operation from now (1 =
 * the next one), in the given phase. Afterwards every transfer fails with
 * H7_XFER_NO_DEVICE until h7_inproc_power_on(). */
void h7_inproc_cut_power_at(h7_inproc_t *ip, uint64_t n, sim_flash_phase_t phase);
/* Power back: the board restarts, the DFU machine starts in dfuIDLE. */
void h7_inproc_power_on(h7_inproc_t *ip);

#endif
