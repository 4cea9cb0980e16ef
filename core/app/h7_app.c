/* Application library: hand-over requests, DFU run-time wrapper, enter-update
 * report (h7_app.h). */
#include "h7_app.h"

#include <string.h>

#include "dfu.h"
#include "hid.h"

/* ---- hand-over ---- */

static void request_and_reset(volatile boot_request_block_t *blk, boot_request_t req,
                              h7_app_reset_fn reset)
{
    boot_request_set(blk, req);
    if (reset != NULL) {
        reset();
    }
}

void h7_app_enter_bootloader(volatile boot_request_block_t *blk, h7_app_reset_fn reset)
{
    request_and_reset(blk, BOOT_REQ_STAY_IN_DFU, reset);
}

void h7_app_enter_rom_bootloader(volatile boot_request_block_t *blk, h7_app_reset_fn reset)
{
    request_and_reset(blk, BOOT_REQ_ENTER_ROM_BOOTLOADER, reset);
}

bool h7_app_early_init_check(volatile boot_request_block_t *blk, h7_app_jump_fn jump)
{
    if (boot_request_get(blk) != BOOT_REQ_ENTER_ROM_BOOTLOADER) {
        return false;
    }
    /* Cleared before the jump: the ROM's "leave" starts the application
     * without a reset, and a stale request would send it straight back. */
    boot_request_clear(blk);
    jump(H7_APP_ROM_BOOTLOADER_ADDR);
    return true;
}

bool h7_app_ensure_clean_start(bool started_dirty, h7_app_reset_fn reset)
{
    if (!started_dirty) {
        return false;
    }
    reset();
    return true;
}

/* ---- DFU run-time ---- */

/* Templates of the Microsoft OS 2.0 descriptors: interface 0 and the default
 * vendor code, patched by h7_app_dfu_init() and
 * h7_app_dfu_set_ms_os20_vendor_code(). */
static const ms_os20_function_set_t ms_set_template =
    MS_OS20_FUNCTION_SET(0u, H7_APP_DFU_INTERFACE_GUID);
static const uint8_t ms_bos_template[MS_OS20_BOS_LEN] =
    MS_OS20_BOS(MS_OS20_FUNCTION_SET_LEN, H7_APP_MS_OS20_VENDOR_CODE);

static void on_detach(void *user, uint16_t timeout_ms)
{
    (void)timeout_ms;
    h7_app_dfu_t *d = user;
    d->detach_requested = true;
}

static void on_detach_reset(void *user)
{
    h7_app_dfu_t *d = user;
    d->detach_requested = true;
}

void h7_app_dfu_init(h7_app_dfu_t *d, uint8_t itf_num, uint16_t detach_timeout_ms)
{
    memset(d, 0, sizeof *d);
    if (detach_timeout_ms == 0u) {
        detach_timeout_ms = H7_APP_DFU_DETACH_MS_DEFAULT;
    }
    const uint8_t attrs = DFU_ATTR_CAN_DNLOAD | DFU_ATTR_WILL_DETACH;
    dfu_runtime_config_t cfg = {
        .itf_num = itf_num,
        .attributes = attrs,
        .detach_timeout_ms = detach_timeout_ms,
        .detach = on_detach,
        .detach_reset = on_detach_reset,
        .user = d,
    };
    dfu_runtime_init(&d->rt, &cfg);
    /* wTransferSize: what the bootloader behind us uses (dfu-util reads it
     * from the run-time descriptor before the detach). */
    (void)dfu_functional_descriptor(d->func_desc, sizeof d->func_desc, attrs, detach_timeout_ms,
                                    H7_DFU_XFER_DEFAULT);
    d->ms_set = ms_set_template;
    memcpy(d->ms_bos, ms_bos_template, sizeof d->ms_bos);
    ((uint8_t *)&d->ms_set)[MS_OS20_FUNCTION_SET_FIRST_ITF_OFF] = itf_num;
    d->ms_os20 = (usbd_ms_os20_t){
        .bos = d->ms_bos,
        .set = &d->ms_set,
        .set_len = MS_OS20_FUNCTION_SET_LEN,
        .vendor_code = H7_APP_MS_OS20_VENDOR_CODE,
    };
}

void h7_app_dfu_set_ms_os20_vendor_code(h7_app_dfu_t *d, uint8_t vendor_code)
{
    d->ms_bos[MS_OS20_BOS_VENDOR_CODE_OFF] = vendor_code;
    d->ms_os20.vendor_code = vendor_code;
}

const usbd_ms_os20_t *h7_app_dfu_ms_os20(const h7_app_dfu_t *d)
{
    return &d->ms_os20;
}

const uint8_t *h7_app_dfu_bos_descriptor(const h7_app_dfu_t *d, uint16_t *len)
{
    *len = MS_OS20_BOS_LEN;
    return d->ms_bos;
}

int h7_app_dfu_request_fields(h7_app_dfu_t *d, uint8_t bm_request_type, uint8_t b_request,
                              uint16_t w_value, uint16_t w_index, uint16_t w_length, uint8_t *data,
                              uint16_t cap)
{
    /* Microsoft OS 2.0 descriptor set (MS OS 2.0 Descriptors Specification,
     * Table 8): vendor, device, IN, wIndex 7. */
    if (bm_request_type == (USB_DIR_IN | USB_TYPE_VENDOR | USB_RECIP_DEVICE) &&
        b_request == d->ms_os20.vendor_code && w_index == MS_OS20_DESCRIPTOR_INDEX) {
        uint16_t n = MS_OS20_FUNCTION_SET_LEN;
        n = n < w_length ? n : w_length;
        n = n < cap ? n : cap;
        if (n != 0u) {
            memcpy(data, &d->ms_set, n);
        }
        return n;
    }
    if ((bm_request_type & USB_TYPE_MASK) != USB_TYPE_CLASS ||
        (bm_request_type & USB_RECIP_MASK) != USB_RECIP_INTERFACE ||
        (w_index & 0xffu) != d->rt.cfg.itf_num) {
        return USBD_STALL; /* not ours: leaves the run-time state alone */
    }
    usb_setup_t s = {
        .bmRequestType = bm_request_type,
        .bRequest = b_request,
        .wValue = w_value,
        .wIndex = w_index,
        .wLength = w_length,
    };
    if (cap > w_length) {
        cap = w_length;
    }
    return dfu_runtime_control(&d->rt, &s, data, cap);
}

int h7_app_dfu_request(h7_app_dfu_t *d, const uint8_t setup[8], uint8_t *data, uint16_t cap)
{
    return h7_app_dfu_request_fields(d, setup[0], setup[1], (uint16_t)(setup[2] | setup[3] << 8),
                                     (uint16_t)(setup[4] | setup[5] << 8),
                                     (uint16_t)(setup[6] | setup[7] << 8), data, cap);
}

void h7_app_dfu_bus_reset(h7_app_dfu_t *d)
{
    dfu_runtime_reset(&d->rt);
}

bool h7_app_dfu_detach_requested(const h7_app_dfu_t *d)
{
    return d->detach_requested;
}

const uint8_t *h7_app_dfu_functional_descriptor(const h7_app_dfu_t *d)
{
    return d->func_desc;
}

size_t h7_app_dfu_interface_descriptor(const h7_app_dfu_t *d, uint8_t *buf, size_t len,
                                       uint8_t string_index)
{
    if (len < H7_APP_DFU_ITF_DESC_LEN) {
        return 0;
    }
    /* USB 2.0 9.6.5 interface descriptor; DFU 1.1 4.1.2 run-time values. */
    const uint8_t itf[9] = {
        9u,
        USB_DT_INTERFACE,
        d->rt.cfg.itf_num,
        0u /* alt */,
        0u /* no endpoints */,
        0xFEu /* application specific */,
        0x01u /* DFU */,
        0x01u /* run-time */,
        string_index,
    };
    memcpy(buf, itf, sizeof itf);
    memcpy(buf + sizeof itf, d->func_desc, DFU_FUNC_DESC_LEN);
    return H7_APP_DFU_ITF_DESC_LEN;
}

static void drv_reset(void *ctx)
{
    h7_app_dfu_bus_reset(ctx);
}

static bool drv_set_alt(void *ctx, uint8_t itf, uint8_t alt)
{
    const h7_app_dfu_t *d = ctx;
    return itf == d->rt.cfg.itf_num && alt == 0u;
}

static int drv_control(void *ctx, const usb_setup_t *s, uint8_t *data, uint16_t cap)
{
    h7_app_dfu_t *d = ctx;
    return dfu_runtime_control(&d->rt, s, data, cap);
}

usbd_class_driver_t h7_app_dfu_class_driver(h7_app_dfu_t *d)
{
    usbd_class_driver_t drv = {
        .name = "h7-app-dfu-runtime",
        .reset = drv_reset,
        .set_alt = drv_set_alt,
        .control = drv_control,
        .ctx = d,
    };
    return drv;
}

/* ---- HID ---- */

bool h7_app_is_enter_update_report(const uint8_t *report, size_t len)
{
    static const char magic[] = HID_ENTER_UPDATE_MAGIC;
    return report != NULL && len >= HID_ENTER_UPDATE_LEN && report[0] == HID_CMD_ENTER_UPDATE &&
           memcmp(report + 1, magic, sizeof magic - 1u) == 0;
}

static unsigned bcd2(unsigned v)
{
    if (v > 99u) {
        v = 99u;
    }
    return (v / 10u) << 4 | v % 10u;
}

uint16_t h7_app_bcd_device(unsigned major, unsigned minor)
{
    return (uint16_t)(bcd2(major) << 8 | bcd2(minor));
}
