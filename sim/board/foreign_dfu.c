/* A foreign device with a DFU run-time interface (foreign_dfu.h). */
#include "foreign_dfu.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* USB 2.0 9.4 standard requests, DFU 1.1 3 class requests. */
#define REQ_GET_STATUS     0x00u
#define REQ_SET_ADDRESS    0x05u
#define REQ_GET_DESCRIPTOR 0x06u
#define REQ_GET_CONFIG     0x08u
#define REQ_SET_CONFIG     0x09u
#define REQ_SET_INTERFACE  0x0bu
#define DFU_DETACH         0x00u
#define DFU_GETSTATUS      0x03u
#define DFU_GETSTATE       0x05u
#define DFU_APP_IDLE       0u
#define DFU_IDLE           2u

struct foreign_dfu {
    bool dfu_mode; /* after a DETACH */
    unsigned epoch;
    uint8_t address;
    bool busy;
    int result;
    uint16_t actual;
};

static const char *const strings[] = {
    NULL, /* 0: the language IDs */
    "Example Devices",
    "USB-C dock",
    FOREIGN_DFU_SERIAL,
    "dock firmware update",
    "@Dock Flash  /0x00000000/64*1Kg",
};

/* USB 2.0 9.6.1 device descriptor. */
static size_t device_desc(uint8_t *out)
{
    const uint8_t d[18] = {18,
                           1,
                           0x00,
                           0x02,
                           0,
                           0,
                           0,
                           64,
                           FOREIGN_DFU_VID & 0xff,
                           FOREIGN_DFU_VID >> 8,
                           FOREIGN_DFU_PID & 0xff,
                           FOREIGN_DFU_PID >> 8,
                           0x00,
                           0x01,
                           1,
                           2,
                           3,
                           1};
    memcpy(out, d, sizeof d);
    return sizeof d;
}

/* Configuration, one DFU interface (run-time, protocol 1, or DFU mode, 2;
 * DFU 1.1 4.1.2, 4.2.3) and its functional descriptor (4.1.3): download and
 * will-detach, 1000 ms detach timeout, 64-byte transfers, DFU 1.1. */
static size_t config_desc(const foreign_dfu_t *f, uint8_t *out)
{
    const uint8_t c[27] = {
        9,
        2,
        27,
        0,
        1,
        1,
        0,
        0x80,
        50, /* config */
        9,
        4,
        0,
        0,
        0,
        0xfe,
        0x01,
        f->dfu_mode ? 2 : 1,
        f->dfu_mode ? 5 : 4, /* itf */
        9,
        0x21,
        0x09,
        0xe8,
        0x03,
        64,
        0,
        0x10,
        0x01, /* DFU */
    };
    memcpy(out, c, sizeof c);
    return sizeof c;
}

static size_t string_desc(uint8_t index, uint8_t *out)
{
    if (index == 0) {
        const uint8_t langs[4] = {4, 3, 0x09, 0x04};
        memcpy(out, langs, sizeof langs);
        return sizeof langs;
    }
    if (index >= sizeof strings / sizeof strings[0]) {
        return 0;
    }
    size_t n = strlen(strings[index]);
    out[0] = (uint8_t)(2 + 2 * n);
    out[1] = 3;
    for (size_t i = 0; i < n; i++) {
        out[2 + 2 * i] = (uint8_t)strings[index][i];
        out[3 + 2 * i] = 0;
    }
    return 2 + 2 * n;
}

/* One request: bytes of the IN answer in buf, 0 for no data, -EPIPE: stall. */
static int answer(foreign_dfu_t *f, const uint8_t s[8], uint8_t *buf)
{
    const uint8_t type = s[0], req = s[1], value_lo = s[2], value_hi = s[3];
    if (type == 0x80 && req == REQ_GET_DESCRIPTOR) {
        size_t n = value_hi == 1   ? device_desc(buf)
                   : value_hi == 2 ? config_desc(f, buf)
                   : value_hi == 3 ? string_desc(value_lo, buf)
                                   : 0;
        return n ? (int)n : -EPIPE;
    }
    if (type == 0x00 && req == REQ_SET_ADDRESS) {
        f->address = value_lo & 0x7fu;
        return 0;
    }
    if ((type == 0x00 && req == REQ_SET_CONFIG) || (type == 0x01 && req == REQ_SET_INTERFACE)) {
        return value_lo <= 1 ? 0 : -EPIPE;
    }
    if (type == 0x80 && req == REQ_GET_CONFIG) {
        buf[0] = 1;
        return 1;
    }
    if (type == 0x80 && req == REQ_GET_STATUS) {
        buf[0] = buf[1] = 0;
        return 2;
    }
    if (type == 0x21 && req == DFU_DETACH && !f->dfu_mode) {
        /* willDetach: it restarts in DFU mode once the status stage is done */
        f->dfu_mode = true;
        f->epoch++;
        return 0;
    }
    const uint8_t state = f->dfu_mode ? DFU_IDLE : DFU_APP_IDLE;
    if (type == 0xa1 && req == DFU_GETSTATUS) {
        const uint8_t st[6] = {0, 0, 0, 0, state, 0};
        memcpy(buf, st, sizeof st);
        return sizeof st;
    }
    if (type == 0xa1 && req == DFU_GETSTATE) {
        buf[0] = state;
        return 1;
    }
    return -EPIPE;
}

static bool op_connected(void *dev)
{
    (void)dev;
    return true;
}

static unsigned op_epoch(void *dev)
{
    return ((foreign_dfu_t *)dev)->epoch;
}

static void op_bus_reset(void *dev)
{
    foreign_dfu_t *f = dev;
    f->address = 0;
    f->busy = false;
}

static uint8_t op_address(void *dev)
{
    return ((foreign_dfu_t *)dev)->address;
}

static int op_control_start(void *dev, const uint8_t setup[8], uint8_t *data)
{
    foreign_dfu_t *f = dev;
    if (f->busy) {
        return -EBUSY;
    }
    uint8_t buf[128];
    const uint16_t wlen = (uint16_t)(setup[6] | setup[7] << 8);
    int r = answer(f, setup, buf);
    f->actual = 0;
    if (r > 0 && (setup[0] & 0x80u)) {
        f->actual = (uint16_t)(r < wlen ? r : wlen);
        memcpy(data, buf, f->actual);
    }
    f->result = r < 0 ? r : 0;
    f->busy = true;
    return 0;
}

static int op_control_result(void *dev, uint16_t *actual)
{
    foreign_dfu_t *f = dev;
    f->busy = false;
    *actual = f->actual;
    return f->result;
}

static void op_control_cancel(void *dev)
{
    ((foreign_dfu_t *)dev)->busy = false;
}

static const sim_usb_device_ops_t ops = {
    .connected = op_connected,
    .connect_epoch = op_epoch,
    .bus_reset = op_bus_reset,
    .address = op_address,
    .control_start = op_control_start,
    .control_result = op_control_result,
    .control_cancel = op_control_cancel,
};

foreign_dfu_t *foreign_dfu_new(void)
{
    return calloc(1, sizeof(foreign_dfu_t));
}

void foreign_dfu_free(foreign_dfu_t *f)
{
    free(f);
}

const sim_usb_device_ops_t *foreign_dfu_ops(void)
{
    return &ops;
}

void foreign_dfu_step(void *f)
{
    (void)f;
}

bool foreign_dfu_detached(const foreign_dfu_t *f)
{
    return f->dfu_mode;
}
