/*
 * In-process transport to the emulated chip (see h7_inproc_chip.h).
 */
#include "h7_inproc_chip.h"

#include <errno.h>
#include <string.h>

#include "otg_fs.h"

/* Virtual time one chip slice may take while a transfer is pending. */
#define SLICE_NS 1000000ull

/* One slice of the chip. idle_passes: when the firmware only polls, the
 * slice's time passes all the same (a host that waits lets it spin); when a
 * transfer is pending the host side moves at the next poll instead. */
static bool run_slice_ex(h7_inproc_chip_t *t, bool idle_passes)
{
    if (t->lost) {
        return false;
    }
    uint64_t end = sim_clock_now_ns(t->clock) + SLICE_NS;
    h743_event_t ev = h743_run(t->chip, end);
    if (ev == H743_POWER_LOST || ev == H743_HALTED) {
        t->lost = true;
        return false;
    }
    if (ev == H743_IDLE && idle_passes) {
        sim_clock_wait_until(t->clock, end);
    }
    return true;
}

static bool run_slice(h7_inproc_chip_t *t)
{
    return run_slice_ex(t, true);
}

/* One control transfer to the end, stepping the chip; deadline in virtual
 * time. Returns the data stage length or an h7_xfer_error. */
static int raw_control(h7_inproc_chip_t *t, const uint8_t setup[8], uint8_t *data,
                       unsigned timeout_ms)
{
    otg_fs_t *o = h743_otg(t->chip);
    uint64_t end = sim_clock_now_ns(t->clock) + (uint64_t)timeout_ms * SIM_NS_PER_MS;
    if (t->lost || !otg_fs_host_connected(o)) {
        return H7_XFER_NO_DEVICE;
    }
    if (otg_fs_host_control_start(o, setup, data) != 0) {
        return H7_XFER_IO;
    }
    for (;;) {
        otg_fs_poll(o);
        uint16_t actual = 0;
        int r = otg_fs_host_control_result(o, &actual);
        if (r == 0) {
            t->requests++;
            return actual;
        }
        if (r == -EPIPE) {
            return H7_XFER_STALL;
        }
        if (r == -ENODEV || r == -ECONNRESET) {
            return H7_XFER_NO_DEVICE;
        }
        if (r != OTG_FS_HOST_PENDING) {
            return H7_XFER_IO;
        }
        if (!run_slice_ex(t, false) || sim_clock_now_ns(t->clock) >= end) {
            otg_fs_host_control_cancel(o);
            return t->lost ? H7_XFER_NO_DEVICE : H7_XFER_TIMEOUT;
        }
    }
}

static int std_request(h7_inproc_chip_t *t, uint8_t rt, uint8_t req, uint16_t val, uint8_t *data,
                       uint16_t len)
{
    uint8_t setup[8] = {rt, req, (uint8_t)val, (uint8_t)(val >> 8),
                        0,  0,   (uint8_t)len, (uint8_t)(len >> 8)};
    return raw_control(t, setup, data, 1000u);
}

/* What the hub driver does with a new device (USB 2.0 9.1.2). */
static bool enumerate(h7_inproc_chip_t *t)
{
    otg_fs_t *o = h743_otg(t->chip);
    t->enumerated = false;
    otg_fs_host_bus_reset(o);
    for (int i = 0; i < 20 && run_slice(t); i++) {
        otg_fs_poll(o);
    }
    uint8_t dev[18];
    if (std_request(t, 0x80, 6, 0x0100, dev, sizeof dev) != (int)sizeof dev ||
        std_request(t, 0x00, 5, 1, NULL, 0) != 0 || std_request(t, 0x00, 9, 1, NULL, 0) != 0) {
        return false;
    }
    t->id_product = (uint16_t)(dev[10] | dev[11] << 8);
    t->epoch = otg_fs_host_connect_epoch(o);
    t->enumerated = true;
    return true;
}

bool h7_inproc_chip_wait_device(h7_inproc_chip_t *t, unsigned max_ms)
{
    otg_fs_t *o = h743_otg(t->chip);
    uint64_t end = sim_clock_now_ns(t->clock) + (uint64_t)max_ms * SIM_NS_PER_MS;
    while (sim_clock_now_ns(t->clock) < end) {
        otg_fs_poll(o);
        if (otg_fs_host_connected(o)) {
            if (t->enumerated && otg_fs_host_connect_epoch(o) == t->epoch) {
                return true;
            }
            if (enumerate(t)) {
                return true;
            }
        }
        if (!run_slice(t)) {
            return false;
        }
    }
    return false;
}

bool h7_inproc_chip_wait_gone(h7_inproc_chip_t *t, unsigned max_ms)
{
    otg_fs_t *o = h743_otg(t->chip);
    uint64_t end = sim_clock_now_ns(t->clock) + (uint64_t)max_ms * SIM_NS_PER_MS;
    while (sim_clock_now_ns(t->clock) < end) {
        otg_fs_poll(o);
        if (!otg_fs_host_connected(o) || otg_fs_host_connect_epoch(o) != t->epoch) {
            t->enumerated = false;
            return true;
        }
        if (!run_slice(t)) {
            return true;
        }
    }
    return false;
}

static int tr_control(void *ctx, uint8_t rt, uint8_t req, uint16_t val, uint16_t idx, uint8_t *data,
                      uint16_t len, unsigned timeout_ms)
{
    h7_inproc_chip_t *t = ctx;
    otg_fs_t *o = h743_otg(t->chip);
    if (t->lost) {
        return H7_XFER_NO_DEVICE;
    }
    if (!t->enumerated || !otg_fs_host_connected(o) || otg_fs_host_connect_epoch(o) != t->epoch) {
        return H7_XFER_NO_DEVICE; /* it went away: the caller waits for it */
    }
    uint8_t setup[8] = {rt,           req,
                        (uint8_t)val, (uint8_t)(val >> 8),
                        (uint8_t)idx, (uint8_t)(idx >> 8),
                        (uint8_t)len, (uint8_t)(len >> 8)};
    return raw_control(t, setup, data, timeout_ms ? timeout_ms : 5000u);
}

/* The host waits: the firmware keeps running meanwhile. */
static void tr_sleep(void *ctx, unsigned ms)
{
    h7_inproc_chip_t *t = ctx;
    uint64_t end = sim_clock_now_ns(t->clock) + (uint64_t)ms * SIM_NS_PER_MS;
    while (sim_clock_now_ns(t->clock) < end && run_slice(t)) {
    }
    if (sim_clock_now_ns(t->clock) < end) {
        sim_clock_wait_until(t->clock, end);
    }
}

void h7_inproc_chip_init(h7_inproc_chip_t *t, h743_t *chip, sim_clock_t *clock)
{
    memset(t, 0, sizeof(*t));
    t->chip = chip;
    t->clock = clock;
    t->tr.control = tr_control;
    t->tr.sleep_ms = tr_sleep;
    t->tr.ctx = t;
}

const h7_transport_t *h7_inproc_chip_transport(h7_inproc_chip_t *t)
{
    return &t->tr;
}

bool h7_inproc_chip_power_on(h7_inproc_chip_t *t, sim_flash_t *flash)
{
    sim_flash_power_on(flash);
    t->lost = false;
    t->enumerated = false;
    return h743_power_on(t->chip);
}
