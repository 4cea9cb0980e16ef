/*
 * Virtual clock of the simulated board. Nothing in the simulator sleeps: each
 * model (flash, USB timing) charges the time an operation would take on the
 * real part, and tests and benchmarks read the total.
 *
 * Two timelines:
 *  - now: the bus and the CPU answering it (USB transfers, the host's waits);
 *  - the flash lane: with sim_clock_set_flash_lane(c, true), work charged
 *    with sim_clock_advance() (the flash model's programs and erases) runs in
 *    the background from max(now, lane end) on, so flash work started by the
 *    firmware overlaps the USB traffic that follows, as on the chip where the
 *    flash controller works while the USB core receives into its FIFO.
 * Without the lane (the default) sim_clock_advance() moves now, as before.
 */
#ifndef H7_SIM_CLOCK_H
#define H7_SIM_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

#define SIM_NS_PER_US 1000ull
#define SIM_NS_PER_MS 1000000ull
#define SIM_NS_PER_S  1000000000ull

typedef struct sim_clock {
    uint64_t now_ns;  /* virtual time since sim_clock_init(); read with sim_clock_now_ns() */
    uint64_t lane_ns; /* end of the work queued on the flash lane */
    uint64_t bus_ns;  /* time charged with sim_clock_bus_advance() (statistics) */
    uint64_t work_ns; /* time charged with sim_clock_advance() (statistics) */
    bool lane;        /* sim_clock_advance() charges the flash lane */
} sim_clock_t;

void sim_clock_init(sim_clock_t *c);
uint64_t sim_clock_now_ns(const sim_clock_t *c);
/* Charge work (the flash model): moves now, or queues on the flash lane. */
void sim_clock_advance(sim_clock_t *c, uint64_t ns);
/* Move now forward by ns: bus time (saturates instead of wrapping). */
void sim_clock_bus_advance(sim_clock_t *c, uint64_t ns);
/* Move now to t if t is later (a wait that ends at t). */
void sim_clock_wait_until(sim_clock_t *c, uint64_t t_ns);
void sim_clock_set_flash_lane(sim_clock_t *c, bool on);
/* When the flash lane's queued work ends (<= now when idle). */
uint64_t sim_clock_lane_end_ns(const sim_clock_t *c);
/* The run's modeled duration: max(now, end of the flash lane). */
uint64_t sim_clock_total_ns(const sim_clock_t *c);

#endif
