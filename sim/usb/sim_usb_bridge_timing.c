/*
 * The bridge's timing: every control transfer is charged on the board's
 * virtual clock (usb_timing.h's full-speed bus time), the host waits out
 * bwPollTimeout as DFU 1.1 asks, and --realtime ties the clock to the wall.
 */
#include "sim_usb_bridge_priv.h"

#include <time.h>

#include "usb_timing.h"

uint64_t bridge_wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Time passes until t; a device that runs on the clock (the emulated chip:
 * its firmware does its flash work in its main loop, instruction by
 * instruction) runs meanwhile, as on a real bus: its flash work goes on
 * while the host waits and while the bus carries a transfer. Once a step
 * passes less than a microsecond it only polls, and the rest is waited out.
 * Other boards are simply waited for. */
static void device_runs_until(sim_usb_bridge_t *b, uint64_t t)
{
    sim_clock_t *c = b->cfg.clock;
    while (b->cfg.device_runs_on_clock && sim_clock_now_ns(c) < t) {
        uint64_t before = sim_clock_now_ns(c);
        b->cfg.step(b->cfg.user);
        if (sim_clock_now_ns(c) - before >= SIM_NS_PER_US) {
            continue;
        }
        /* idle: on to its next event of its own, or the end of the wait */
        uint64_t e = b->cfg.next_event_ns ? b->cfg.next_event_ns(b->cfg.user) : 0;
        if (e <= sim_clock_now_ns(c) || e >= t) {
            break;
        }
        sim_clock_wait_until(c, e);
    }
}

/* The host waits until t (bwPollTimeout). */
static void host_wait_until(sim_usb_bridge_t *b, uint64_t t)
{
    device_runs_until(b, t);
    sim_clock_wait_until(b->cfg.clock, t);
}

void bridge_timing_start(sim_usb_bridge_t *b, const uint8_t setup[8])
{
    sim_clock_t *c = b->cfg.clock;
    if (c == NULL) {
        return;
    }
    uint64_t t0 = sim_clock_now_ns(c);
    if (b->cfg.realtime > 0) {
        /* the host's real waits (and its own work) are virtual time too */
        uint64_t w = bridge_wall_ns() - b->wall0_ns;
        sim_clock_wait_until(c, b->virt0_ns + (uint64_t)((double)w * b->cfg.realtime));
    } else {
        host_wait_until(b, b->host_ready_ns);
    }
    b->st.host_wait_ns += sim_clock_now_ns(c) - t0;
    uint64_t start = sim_clock_now_ns(c);
    unsigned wlen = (unsigned)(setup[6] | (setup[7] << 8));
    uint64_t end = usb_fs_control_end_ns(start, wlen);
    device_runs_until(b, end);
    if (sim_clock_now_ns(c) < end) {
        sim_clock_bus_advance(c, end - sim_clock_now_ns(c));
    }
    b->st.usb_ns += end - start;
    if (b->cfg.realtime > 0) {
        /* the program feels the transfer: its ioctl returns when it is over */
        uint64_t due = b->wall0_ns + (uint64_t)((double)(end - b->virt0_ns) / b->cfg.realtime);
        uint64_t w = bridge_wall_ns();
        if (due > w) {
            struct timespec ts = {(time_t)((due - w) / 1000000000ull),
                                  (long)((due - w) % 1000000000ull)};
            nanosleep(&ts, NULL);
        }
    }
}

/* DFU 1.1 6.1.2: after a GETSTATUS answer the host sends nothing before
 * bwPollTimeout (scaled back by time_div) has passed. */
void bridge_timing_end(sim_usb_bridge_t *b, const uint8_t setup[8], const uint8_t *data, int r,
                       unsigned actual)
{
    sim_clock_t *c = b->cfg.clock;
    if (c == NULL || b->cfg.realtime > 0) {
        return;
    }
    b->host_ready_ns = 0;
    if (r == 0 && setup[0] == 0xa1 && setup[1] == 3 && actual >= 6 && data != NULL) {
        uint64_t poll = (uint64_t)data[1] | ((uint64_t)data[2] << 8) | ((uint64_t)data[3] << 16);
        unsigned div = b->cfg.time_div ? b->cfg.time_div : 1u;
        b->host_ready_ns = sim_clock_now_ns(c) + poll * div * 1000000ull;
    }
}

/* --fast on the emulated chip: the host sees the device's bwPollTimeout
 * divided (the virtual clock charged the full one in bridge_timing_end()). */
void bridge_host_poll_scale(sim_usb_bridge_t *b, const uint8_t setup[8], uint8_t *data, int r,
                            unsigned actual)
{
    unsigned div = b->cfg.host_poll_div;
    if (div <= 1 || r != 0 || setup[0] != 0xa1 || setup[1] != 3 || actual < 6) {
        return;
    }
    uint32_t poll = (uint32_t)data[1] | ((uint32_t)data[2] << 8) | ((uint32_t)data[3] << 16);
    poll = poll ? (poll + div - 1u) / div : 0u;
    data[1] = (uint8_t)poll;
    data[2] = (uint8_t)(poll >> 8);
    data[3] = (uint8_t)(poll >> 16);
}
