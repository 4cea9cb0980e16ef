/* DFU run-time interface: DFU 1.1 Appendix A.1 (appIDLE, appDETACH). */
#include "dfu_runtime.h"

#include <string.h>

void dfu_runtime_init(dfu_runtime_t *rt, const dfu_runtime_config_t *cfg)
{
    memset(rt, 0, sizeof(*rt));
    rt->cfg = *cfg;
    rt->state = DFU_STATE_APP_IDLE;
}

void dfu_runtime_reset(dfu_runtime_t *rt)
{
    /* DFU 1.1 A.1: USB reset in appDETACH enters DFU mode. */
    if (rt->state == DFU_STATE_APP_DETACH && rt->cfg.detach_reset != NULL) {
        rt->cfg.detach_reset(rt->cfg.user);
    }
    rt->state = DFU_STATE_APP_IDLE;
}

void dfu_runtime_timeout(dfu_runtime_t *rt)
{
    rt->state = DFU_STATE_APP_IDLE;
}

int dfu_runtime_control(dfu_runtime_t *rt, const usb_setup_t *s, uint8_t *data, uint16_t cap)
{
    if ((s->bmRequestType & USB_TYPE_MASK) != USB_TYPE_CLASS ||
        (s->bmRequestType & USB_RECIP_MASK) != USB_RECIP_INTERFACE ||
        (s->wIndex & 0xffu) != rt->cfg.itf_num) {
        return USBD_STALL;
    }
    const bool in = (s->bmRequestType & USB_DIR_IN) != 0;
    switch (s->bRequest) {
    case DFU_REQ_DETACH:
        if (in || rt->state != DFU_STATE_APP_IDLE) {
            break;
        }
        rt->state = DFU_STATE_APP_DETACH;
        rt->detach_ms =
            s->wValue < rt->cfg.detach_timeout_ms ? s->wValue : rt->cfg.detach_timeout_ms;
        if (rt->cfg.detach != NULL) {
            rt->cfg.detach(rt->cfg.user, rt->detach_ms);
        }
        return 0;
    case DFU_REQ_GETSTATUS:
        if (!in || cap < DFU_STATUS_LEN || data == NULL) {
            break;
        }
        memset(data, 0, DFU_STATUS_LEN);
        data[0] = DFU_STATUS_OK;
        data[4] = (uint8_t)rt->state;
        return DFU_STATUS_LEN;
    case DFU_REQ_GETSTATE:
        if (!in || cap < 1 || data == NULL) {
            break;
        }
        data[0] = (uint8_t)rt->state;
        return 1;
    default:
        break;
    }
    /* DFU 1.1 A.1: any other request stalls; in appDETACH it also ends the
     * detach (back to appIDLE). */
    rt->state = DFU_STATE_APP_IDLE;
    return USBD_STALL;
}

static void rt_reset(void *ctx)
{
    dfu_runtime_reset(ctx);
}

static bool rt_set_alt(void *ctx, uint8_t itf, uint8_t alt)
{
    const dfu_runtime_t *rt = ctx;
    return itf == rt->cfg.itf_num && alt == 0;
}

static int rt_control(void *ctx, const usb_setup_t *setup, uint8_t *data, uint16_t cap)
{
    return dfu_runtime_control(ctx, setup, data, cap);
}

usbd_class_driver_t dfu_runtime_class_driver(dfu_runtime_t *rt)
{
    usbd_class_driver_t d = {
        .name = "dfu-runtime",
        .reset = rt_reset,
        .set_alt = rt_set_alt,
        .control = rt_control,
        .control_done = NULL,
        .xfer_done = NULL,
        .poll = NULL,
        .ctx = rt,
    };
    return d;
}
