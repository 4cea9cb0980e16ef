#include "sim_clock.h"

static uint64_t sat_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

void sim_clock_init(sim_clock_t *c)
{
    c->now_ns = 0;
    c->lane_ns = 0;
    c->bus_ns = 0;
    c->work_ns = 0;
    c->lane = false;
}

uint64_t sim_clock_now_ns(const sim_clock_t *c)
{
    return c->now_ns;
}

void sim_clock_advance(sim_clock_t *c, uint64_t ns)
{
    c->work_ns = sat_add(c->work_ns, ns);
    if (c->lane) {
        uint64_t start = c->lane_ns > c->now_ns ? c->lane_ns : c->now_ns;
        c->lane_ns = sat_add(start, ns);
    } else {
        c->now_ns = sat_add(c->now_ns, ns);
    }
}

void sim_clock_bus_advance(sim_clock_t *c, uint64_t ns)
{
    c->bus_ns = sat_add(c->bus_ns, ns);
    c->now_ns = sat_add(c->now_ns, ns);
}

void sim_clock_wait_until(sim_clock_t *c, uint64_t t_ns)
{
    if (t_ns > c->now_ns) {
        c->now_ns = t_ns;
    }
}

void sim_clock_set_flash_lane(sim_clock_t *c, bool on)
{
    c->lane = on;
}

uint64_t sim_clock_lane_end_ns(const sim_clock_t *c)
{
    return c->lane_ns;
}

uint64_t sim_clock_total_ns(const sim_clock_t *c)
{
    return c->lane_ns > c->now_ns ? c->lane_ns : c->now_ns;
}
