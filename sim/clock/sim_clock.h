/*
 * Virtual clock of the simulated board. Nothing in the simulator sleeps: each
 * model (flash, later the USB timing model) charges the time an operation
 * would take on the real part, and tests and benchmarks read the total.
 */
#ifndef H7_SIM_CLOCK_H
#define H7_SIM_CLOCK_H

#include <stdint.h>

#define SIM_NS_PER_US 1000ull
#define SIM_NS_PER_MS 1000000ull
#define SIM_NS_PER_S  1000000000ull

typedef struct sim_clock {
    uint64_t now_ns; /* virtual time since sim_clock_init(); read with sim_clock_now_ns() */
} sim_clock_t;

void sim_clock_init(sim_clock_t *c);
uint64_t sim_clock_now_ns(const sim_clock_t *c);
/* Move time forward by ns (saturates instead of wrapping). */
void sim_clock_advance(sim_clock_t *c, uint64_t ns);

#endif
