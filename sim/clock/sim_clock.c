#include "sim_clock.h"

void sim_clock_init(sim_clock_t *c)
{
    c->now_ns = 0;
}

uint64_t sim_clock_now_ns(const sim_clock_t *c)
{
    return c->now_ns;
}

void sim_clock_advance(sim_clock_t *c, uint64_t ns)
{
    c->now_ns = (c->now_ns > UINT64_MAX - ns) ? UINT64_MAX : c->now_ns + ns;
}
