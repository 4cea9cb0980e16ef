/*
 * Fuzz target: the USB device core (core/usb) with the class drivers of the
 * real devices attached, behind the fuzzers' controller (fuzz_dcd.c). The
 * input is a stream of host-side events: SETUP packets, IN and OUT packets on
 * any endpoint, whole control transfers, bus resets, suspend, disconnect.
 *
 * Input:
 *   byte 0: personality: 0 the demo app (HID + DFU run-time), 1 the
 *           bootloader (DFU mode on the virtual flash), 2 all three
 *   events until the input ends, each an op byte (low 3 bits the kind, high
 *   4 bits an endpoint number) and its operands:
 *     0 SETUP        8 bytes
 *     1 IN packet    (the host takes what is armed on the endpoint)
 *     2 OUT packet   length byte (0..64), then the bytes
 *     3 bus reset
 *     4 main loop    usbd_task()
 *     5 suspend / resume (bit 3 of op)
 *     6 disconnect / connect (bit 3 of op)
 *     7 control transfer: 8 setup bytes, then the data stage as a host does
 *       it (OUT data from the input) and the status stage
 *
 * Invariants (abort on violation): the dcd.h contract (fuzz_dcd.c: EP0
 * packets of at most 64 bytes, only open endpoints, buffers that hold what
 * was armed), an IN data stage never longer than wLength, an address of at
 * most 127, valid device and DFU states, the bootloader sector untouched,
 * and no ASan / UBSan finding.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "dfu.h"
#include "dfu_runtime.h"
#include "fuzz_common.h"
#include "fuzz_dcd.h"
#include "fuzz_flash.h"
#include "hid.h"
#include "usbd.h"

#define MAX_EVENTS 512u

static dfu_t g_dfu;
static usbd_class_driver_t g_dfu_drv;
static dfu_runtime_t g_rt;
static usbd_class_driver_t g_rt_drv;
static uint8_t g_dfu_func[DFU_FUNC_DESC_LEN];
static uint8_t g_rt_func[DFU_FUNC_DESC_LEN];
static char g_dfu_name[96];
static uint8_t g_ctrl_buf[H7_DFU_XFER_MAX];
static usbd_alt_desc_t g_alts[3];
static usbd_interface_desc_t g_itfs[3];
static usbd_device_desc_t g_dev;
static unsigned g_updates;

/* The control transfer in progress, as the host sees it. */
static struct {
    bool active;
    bool in;
    uint16_t wlength;
    uint32_t in_bytes;
} g_host;

static const usbd_endpoint_desc_t hid_eps[] = {
    {.addr = 0x81u, .type = USB_EP_INTERRUPT, .max_packet = HID_REPORT_SIZE, .interval = 10u},
    {.addr = 0x01u, .type = USB_EP_INTERRUPT, .max_packet = HID_REPORT_SIZE, .interval = 10u},
};

static void on_update(void *user)
{
    (void)user;
    g_updates++;
}

static void on_detach(void *user, uint16_t timeout_ms)
{
    (void)timeout_ms;
    on_update(user);
}

static const hid_config_t hid_cfg = {
    .ep_in = 0x81u,
    .ep_out = 0x01u,
    .version = {1, 2, 3},
    .version_str = "h7dfu fuzz",
    .on_enter_update = on_update,
};

static void add_hid(unsigned i)
{
    hid_init(&hid_cfg);
    g_alts[i] = (usbd_alt_desc_t){
        .cls = HID_CLASS,
        .subclass = HID_SUBCLASS,
        .protocol = HID_PROTOCOL,
        .name = "h7dfu demo HID",
        .extra = hid_descriptor,
        .extra_len = HID_DESC_LEN,
        .eps = hid_eps,
        .num_eps = 2,
    };
    g_itfs[i] =
        (usbd_interface_desc_t){.alts = &g_alts[i], .num_alts = 1, .driver = &hid_class_driver};
}

static void add_runtime(unsigned i)
{
    const uint8_t attrs = DFU_ATTR_CAN_DNLOAD | DFU_ATTR_WILL_DETACH;
    dfu_runtime_config_t cfg = {
        .itf_num = (uint8_t)i,
        .attributes = attrs,
        .detach_timeout_ms = 1000u,
        .detach = on_detach,
        .detach_reset = on_update,
    };
    dfu_runtime_init(&g_rt, &cfg);
    g_rt_drv = dfu_runtime_class_driver(&g_rt);
    FUZZ_CHECK(dfu_functional_descriptor(g_rt_func, sizeof g_rt_func, attrs, 1000u,
                                         H7_DFU_XFER_DEFAULT) == DFU_FUNC_DESC_LEN);
    g_alts[i] = (usbd_alt_desc_t){
        .cls = 0xfeu,
        .subclass = 0x01u,
        .protocol = 0x01u,
        .name = "h7dfu runtime",
        .extra = g_rt_func,
        .extra_len = DFU_FUNC_DESC_LEN,
    };
    g_itfs[i] = (usbd_interface_desc_t){.alts = &g_alts[i], .num_alts = 1, .driver = &g_rt_drv};
}

static void add_dfu(unsigned i, bool ops_in_poll)
{
    static uint8_t bufs[2 * H7_DFU_XFER_MAX];
    dfu_config_t cfg = {
        .flash = fuzz_flash_dev(),
        .bufs = bufs,
        .buf_count = 2,
        .itf_num = (uint8_t)i,
        .ops_in_poll = ops_in_poll,
    };
    FUZZ_CHECK(dfu_init(&g_dfu, &cfg));
    g_dfu_drv = dfu_class_driver(&g_dfu);
    FUZZ_CHECK(dfu_alt_string(&g_dfu, 0, g_dfu_name, sizeof g_dfu_name) != 0);
    FUZZ_CHECK(dfu_functional_descriptor(g_dfu_func, sizeof g_dfu_func, g_dfu.cfg.attributes,
                                         g_dfu.cfg.detach_timeout_ms,
                                         dfu_transfer_size(&g_dfu)) == DFU_FUNC_DESC_LEN);
    g_alts[i] = (usbd_alt_desc_t){
        .cls = 0xfeu,
        .subclass = 0x01u,
        .protocol = 0x02u,
        .name = g_dfu_name,
        .extra = g_dfu_func,
        .extra_len = DFU_FUNC_DESC_LEN,
    };
    g_itfs[i] = (usbd_interface_desc_t){.alts = &g_alts[i], .num_alts = 1, .driver = &g_dfu_drv};
}

/* Build one of the devices and plug it in. Returns true when DFU mode is in. */
static bool build_device(uint8_t personality)
{
    unsigned n = 0;
    bool has_dfu = false;
    memset(&g_dev, 0, sizeof g_dev);
    switch (personality % 3u) {
    case 0:
        add_hid(n++);
        add_runtime(n++);
        break;
    case 1:
        add_dfu(n++, (personality & 0x80u) != 0);
        has_dfu = true;
        g_dev.ctrl_buf = g_ctrl_buf;
        g_dev.ctrl_buf_size = sizeof g_ctrl_buf;
        break;
    default:
        add_hid(n++);
        add_runtime(n++);
        add_dfu(n++, (personality & 0x80u) != 0);
        has_dfu = true;
        g_dev.ctrl_buf = g_ctrl_buf;
        g_dev.ctrl_buf_size = sizeof g_ctrl_buf;
        break;
    }
    g_dev.vid = 0x0483u;
    g_dev.pid = 0xdf11u;
    g_dev.bcd_device = 0x0200u;
    g_dev.manufacturer = "h7dfu";
    g_dev.product = "h7dfu fuzz";
    g_dev.serial = "0123456789AB";
    g_dev.attributes = (uint8_t)(USB_CONFIG_ATTR_ONE |
                                 ((personality & 0x40u) ? USB_CONFIG_ATTR_REMOTE_WAKEUP : 0u));
    g_dev.max_power_ma = 100u;
    g_dev.itfs = g_itfs;
    g_dev.num_itfs = (uint8_t)n;
    FUZZ_CHECK(usbd_init(&g_dev));
    usbd_connect();
    return has_dfu;
}

static void check_invariants(bool has_dfu)
{
    usbd_state_t st = usbd_state();
    FUZZ_CHECK(st <= USBD_STATE_CONFIGURED);
    FUZZ_CHECK(fuzz_dcd_address() <= 127u);
    if (has_dfu) {
        dfu_state_t ds = dfu_get_state(&g_dfu);
        FUZZ_CHECK(ds >= DFU_STATE_IDLE && ds <= DFU_STATE_ERROR);
    }
    FUZZ_CHECK(g_rt.state == DFU_STATE_APP_IDLE || g_rt.state == DFU_STATE_APP_DETACH ||
               g_dev.num_itfs == 1);
}

static void host_setup(const uint8_t raw[8])
{
    g_host.active = true;
    g_host.in = (raw[0] & USB_DIR_IN) != 0;
    g_host.wlength = (uint16_t)(raw[6] | (raw[7] << 8));
    g_host.in_bytes = 0;
    fuzz_dcd_setup(raw);
}

/* The host takes an IN packet; on EP0 the data stage must fit wLength. */
static int host_in(uint8_t ep)
{
    uint8_t pkt[64];
    uint16_t armed = 0;
    bool ep0 = (ep & 0x0fu) == 0;
    if (ep0 && fuzz_dcd_armed(0x80u, &armed) && armed != 0 && g_host.active) {
        g_host.in_bytes += armed;
        FUZZ_CHECK(g_host.in && g_host.in_bytes <= g_host.wlength);
    }
    return fuzz_dcd_in(ep, pkt);
}

static void control_transfer(fuzz_reader_t *r)
{
    uint8_t raw[8];
    fuzz_bytes(r, raw, sizeof raw);
    host_setup(raw);
    uint16_t wlength = g_host.wlength;
    if (g_host.in) {
        uint32_t got = 0;
        while (got < wlength) {
            int n = host_in(0);
            if (n < 0) {
                return; /* stalled */
            }
            got += (uint32_t)n;
            if (n < 64) {
                break;
            }
        }
        if (wlength != 0) {
            (void)fuzz_dcd_out(0, NULL, 0);
        } else {
            (void)host_in(0);
        }
        return;
    }
    uint32_t sent = 0;
    while (sent < wlength) {
        uint8_t pkt[64];
        uint16_t n = (uint16_t)(wlength - sent < 64u ? wlength - sent : 64u);
        fuzz_bytes(r, pkt, n);
        if (fuzz_dcd_out(0, pkt, n) < 0) {
            return;
        }
        sent += n;
    }
    (void)host_in(0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_reader_t r = fuzz_reader(data, size);
    fuzz_flash_reset();
    fuzz_dcd_reset();
    memset(&g_host, 0, sizeof g_host);
    memset(&g_rt, 0, sizeof g_rt);
    g_updates = 0;
    const bool has_dfu = build_device(fuzz_u8(&r));

    for (unsigned i = 0; i < MAX_EVENTS && !fuzz_empty(&r); i++) {
        uint8_t op = fuzz_u8(&r);
        uint8_t ep = (uint8_t)(op >> 4);
        switch (op & 7u) {
        case 0: {
            uint8_t raw[8];
            fuzz_bytes(&r, raw, sizeof raw);
            host_setup(raw);
            break;
        }
        case 1:
            (void)host_in(ep);
            break;
        case 2: {
            uint8_t pkt[64];
            uint8_t len = (uint8_t)(fuzz_u8(&r) % 65u);
            fuzz_bytes(&r, pkt, len);
            (void)fuzz_dcd_out(ep, pkt, len);
            break;
        }
        case 3:
            g_host.active = false;
            fuzz_dcd_bus_reset();
            break;
        case 4:
            usbd_task();
            break;
        case 5:
            fuzz_dcd_suspend((op & 8u) == 0);
            break;
        case 6:
            g_host.active = false;
            if (op & 8u) {
                usbd_connect();
            } else {
                usbd_disconnect();
            }
            break;
        default:
            control_transfer(&r);
            usbd_task();
            break;
        }
        check_invariants(has_dfu);
    }
    if (has_dfu) {
        fuzz_flash_check_boot();
    }
    return 0;
}
