/* In-process transport: setup + data straight into core/dfu on sim/flash. */
#include "h7_inproc.h"

#include <string.h>

static void on_manifest(void *user, uint32_t addr)
{
    h7_inproc_t *ip = user;
    ip->manifests++;
    ip->manifest_addr = addr;
}

static int ip_control(void *ctx, uint8_t bmRequestType, uint8_t bRequest, uint16_t wValue,
                      uint16_t wIndex, uint8_t *data, uint16_t wLength, unsigned timeout_ms)
{
    h7_inproc_t *ip = ctx;
    (void)timeout_ms;
    if (!sim_flash_powered(ip->flash)) {
        return H7_XFER_NO_DEVICE;
    }
    ip->requests++;
    if (ip->stall_next) {
        ip->stall_next--;
        return H7_XFER_STALL;
    }
    if (ip->stall_at != 0 && ip->requests == ip->stall_at) {
        ip->stall_at = 0;
        return H7_XFER_STALL;
    }
    if (wLength && data == NULL) {
        return H7_XFER_IO;
    }
    usb_setup_t s = {.bmRequestType = bmRequestType,
                     .bRequest = bRequest,
                     .wValue = wValue,
                     .wIndex = wIndex,
                     .wLength = wLength};
    int rc = dfu_control(&ip->dfu, &s, data, wLength);
    if (rc == USBD_STALL) {
        return H7_XFER_STALL;
    }
    /* The status stage is over: the device may start its flash work now. */
    dfu_control_done(&ip->dfu, &s);
    dfu_poll(&ip->dfu);
    return (bmRequestType & USB_DIR_IN) ? rc : wLength;
}

static void ip_sleep(void *ctx, unsigned ms)
{
    h7_inproc_t *ip = ctx;
    ip->slept_ms += ms;
    if (ip->clock) {
        sim_clock_bus_advance(ip->clock, (uint64_t)ms * SIM_NS_PER_MS); /* host waits: now moves */
    }
}

bool h7_inproc_init(h7_inproc_t *ip, sim_flash_t *flash, sim_clock_t *clock,
                    const dfu_config_t *cfg)
{
    memset(ip, 0, sizeof(*ip));
    ip->flash = flash;
    ip->clock = clock;
    ip->dev = sim_flash_dev(flash);
    dfu_config_t c;
    if (cfg) {
        c = *cfg;
    } else {
        /* The flash model's default timing (DS12110, x64 typical). */
        const sim_flash_times_t *t = sim_flash_ds12110_times(SIM_FLASH_X64, false);
        memset(&c, 0, sizeof(c));
        c.transfer_size = H7_DFU_XFER_DEFAULT;
        c.erase_sector_ms = (uint32_t)((t->sector_erase_ns + SIM_NS_PER_MS - 1) / SIM_NS_PER_MS);
        c.program_word_us = (uint32_t)((t->prog_word_ns + SIM_NS_PER_US - 1) / SIM_NS_PER_US);
    }
    c.flash = &ip->dev;
    if (c.bufs == NULL) {
        c.bufs = ip->bufs;
        c.buf_count = (uint8_t)(sizeof(ip->bufs) / H7_DFU_XFER_MAX);
    }
    c.manifest = on_manifest;
    c.user = ip;
    if (!dfu_init(&ip->dfu, &c)) {
        return false;
    }
    ip->tr.control = ip_control;
    ip->tr.sleep_ms = ip_sleep;
    ip->tr.ctx = ip;
    return true;
}

const h7_transport_t *h7_inproc_transport(h7_inproc_t *ip)
{
    return &ip->tr;
}

size_t h7_inproc_layout(const h7_inproc_t *ip, unsigned alt, char *buf, size_t len)
{
    return dfu_alt_string(&ip->dfu, alt, buf, len);
}

void h7_inproc_stall_next(h7_inproc_t *ip, unsigned n)
{
    ip->stall_next = n;
}

void h7_inproc_stall_at(h7_inproc_t *ip, uint64_t n)
{
    ip->stall_at = n ? ip->requests + n : 0;
}

void h7_inproc_cut_power_at(h7_inproc_t *ip, uint64_t n, sim_flash_phase_t phase)
{
    sim_flash_cut_at(ip->flash, sim_flash_op_count(ip->flash) + n, phase);
}

void h7_inproc_power_on(h7_inproc_t *ip)
{
    sim_flash_power_on(ip->flash);
    dfu_reset(&ip->dfu);
}
