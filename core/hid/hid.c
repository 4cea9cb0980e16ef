/*
 * Minimal HID class driver; report layout and the update command are in hid.h.
 * Requests per HID 1.11 section 7; descriptors per 6.2.1 and 6.2.2.
 */
#include "hid.h"

#include <string.h>

#include "usbd.h"

/* Report descriptor (HID 1.11 6.2.2, short items): one vendor application
 * collection with a 64-byte Input, Output and Feature report, no report IDs. */
static const uint8_t report_desc[] = {
    0x06, 0x00, 0xff, /* Usage Page (Vendor Defined 0xFF00) */
    0x09, 0x01,       /* Usage (0x01) */
    0xa1, 0x01,       /* Collection (Application) */
    0x15, 0x00,       /*   Logical Minimum (0) */
    0x26, 0xff, 0x00, /*   Logical Maximum (255) */
    0x75, 0x08,       /*   Report Size (8) */
    0x95, 0x40,       /*   Report Count (64) */
    0x09, 0x02,       /*   Usage (0x02) */
    0x81, 0x02,       /*   Input (Data, Variable, Absolute) */
    0x09, 0x03,       /*   Usage (0x03) */
    0x91, 0x02,       /*   Output (Data, Variable, Absolute) */
    0x09, 0x04,       /*   Usage (0x04) */
    0xb1, 0x02,       /*   Feature (Data, Variable, Absolute) */
    0xc0,             /* End Collection */
};

const uint8_t hid_descriptor[HID_DESC_LEN] = {
    HID_DESC_LEN,
    USB_DT_HID,
    0x11,
    0x01, /* bcdHID 1.11 */
    0x00, /* bCountryCode: none */
    0x01, /* bNumDescriptors */
    USB_DT_HID_REPORT,
    (uint8_t)(sizeof report_desc & 0xffu),
    (uint8_t)(sizeof report_desc >> 8),
};

static struct {
    const hid_config_t *cfg;
    uint8_t idle;     /* SET_IDLE duration (4 ms units); 0: only on change */
    uint8_t protocol; /* 1 report protocol (default), 0 boot */
    bool in_busy;
    bool update_pending; /* enter update seen in a SET_REPORT data stage */
    uint8_t in_report[HID_REPORT_SIZE];
    uint8_t out_report[HID_REPORT_SIZE];
} hid;

const uint8_t *hid_report_descriptor(uint16_t *len)
{
    *len = (uint16_t)sizeof report_desc;
    return report_desc;
}

bool hid_is_enter_update(const uint8_t *report, uint16_t len)
{
    return len >= HID_ENTER_UPDATE_LEN && report[0] == HID_CMD_ENTER_UPDATE &&
           memcmp(report + 1, HID_ENTER_UPDATE_MAGIC, HID_ENTER_UPDATE_LEN - 1u) == 0;
}

void hid_version_report(uint8_t report[HID_REPORT_SIZE])
{
    memset(report, 0, HID_REPORT_SIZE);
    report[0] = HID_REPORT_VERSION;
    if (hid.cfg == NULL) {
        return;
    }
    memcpy(report + 1, hid.cfg->version, 3);
    if (hid.cfg->version_str != NULL) {
        size_t n = strlen(hid.cfg->version_str);
        size_t room = HID_REPORT_SIZE - HID_VERSION_STR_OFF - 1u;
        memcpy(report + HID_VERSION_STR_OFF, hid.cfg->version_str, n < room ? n : room);
    }
}

/* Hand a report from the host to the application. Returns true when it is an
 * update request (the caller decides when to act on it). */
static bool take_report(const uint8_t *report, uint16_t len)
{
    if (hid.cfg != NULL && hid.cfg->on_report != NULL) {
        hid.cfg->on_report(report, len, hid.cfg->user);
    }
    return hid_is_enter_update(report, len);
}

static void enter_update(void)
{
    if (hid.cfg != NULL && hid.cfg->on_enter_update != NULL) {
        hid.cfg->on_enter_update(hid.cfg->user);
    }
}

static void arm_out(void)
{
    if (hid.cfg != NULL && hid.cfg->ep_out != 0) {
        (void)usbd_ep_xfer(hid.cfg->ep_out, hid.out_report, HID_REPORT_SIZE);
    }
}

static void hid_reset(void *ctx)
{
    (void)ctx;
    hid.idle = 0;
    hid.protocol = 1;
    hid.in_busy = false;
    hid.update_pending = false;
    if (usbd_configured()) {
        arm_out();
    }
}

static int hid_control(void *ctx, const usb_setup_t *setup, uint8_t *data, uint16_t cap)
{
    (void)ctx;
    uint8_t type = (uint8_t)(setup->wValue >> 8);
    uint8_t id = (uint8_t)(setup->wValue & 0xffu);
    bool in = (setup->bmRequestType & USB_DIR_IN) != 0;
    if ((setup->bmRequestType & USB_TYPE_MASK) != USB_TYPE_CLASS) {
        return USBD_STALL;
    }
    /* HID 1.11 7.2: the GET requests are device-to-host, the SET requests
     * host-to-device; the wrong direction stalls. */
    bool want_in = setup->bRequest == HID_REQ_GET_REPORT || setup->bRequest == HID_REQ_GET_IDLE ||
                   setup->bRequest == HID_REQ_GET_PROTOCOL;
    if (in != want_in) {
        return USBD_STALL;
    }
    switch (setup->bRequest) {
    case HID_REQ_GET_REPORT:
        if (id != 0 || (type != HID_REPORT_TYPE_INPUT && type != HID_REPORT_TYPE_FEATURE)) {
            return USBD_STALL;
        }
        {
            /* Built apart from in_report, which may be in flight on the IN endpoint. */
            uint8_t report[HID_REPORT_SIZE];
            uint16_t n = cap < HID_REPORT_SIZE ? cap : (uint16_t)HID_REPORT_SIZE;
            hid_version_report(report);
            memcpy(data, report, n);
            return n;
        }
    case HID_REQ_SET_REPORT:
        /* cap < wLength: the report was not received (usbd_class.h) */
        if (id != 0 || (type != HID_REPORT_TYPE_OUTPUT && type != HID_REPORT_TYPE_FEATURE) ||
            setup->wLength == 0 || setup->wLength > HID_REPORT_SIZE || cap < setup->wLength) {
            return USBD_STALL;
        }
        hid.update_pending = take_report(data, setup->wLength);
        return 0;
    case HID_REQ_GET_IDLE:
        if (cap < 1) {
            return USBD_STALL;
        }
        data[0] = hid.idle;
        return 1;
    case HID_REQ_SET_IDLE:
        hid.idle = (uint8_t)(setup->wValue >> 8);
        return 0;
    case HID_REQ_GET_PROTOCOL:
        if (cap < 1) {
            return USBD_STALL;
        }
        data[0] = hid.protocol;
        return 1;
    case HID_REQ_SET_PROTOCOL:
        if (setup->wValue > 1u) {
            return USBD_STALL;
        }
        hid.protocol = (uint8_t)setup->wValue;
        return 0;
    default:
        return USBD_STALL;
    }
}

/* GET_DESCRIPTOR with recipient interface: HID and report descriptors. */
static int hid_std_control(void *ctx, const usb_setup_t *setup, uint8_t *data, uint16_t cap)
{
    (void)ctx;
    const uint8_t *src;
    uint16_t len;
    if (setup->bRequest != USB_REQ_GET_DESCRIPTOR || (setup->bmRequestType & USB_DIR_IN) == 0) {
        return USBD_STALL;
    }
    switch (setup->wValue >> 8) {
    case USB_DT_HID:
        src = hid_descriptor;
        len = HID_DESC_LEN;
        break;
    case USB_DT_HID_REPORT:
        src = report_desc;
        len = (uint16_t)sizeof report_desc;
        break;
    default:
        return USBD_STALL;
    }
    if (len > cap) {
        len = cap;
    }
    memcpy(data, src, len);
    return len;
}

static void hid_control_done(void *ctx, const usb_setup_t *setup)
{
    (void)ctx;
    if (setup->bRequest == HID_REQ_SET_REPORT && hid.update_pending) {
        hid.update_pending = false;
        enter_update();
    }
}

static void hid_xfer_done(void *ctx, uint8_t ep_addr, uint16_t len)
{
    (void)ctx;
    if (hid.cfg == NULL) {
        return;
    }
    if (ep_addr == hid.cfg->ep_in) {
        hid.in_busy = false;
    } else if (ep_addr == hid.cfg->ep_out) {
        uint16_t n = len < HID_REPORT_SIZE ? len : (uint16_t)HID_REPORT_SIZE;
        bool update = take_report(hid.out_report, n);
        arm_out();
        if (update) {
            enter_update();
        }
    }
}

const usbd_class_driver_t hid_class_driver = {
    .name = "hid",
    .reset = hid_reset,
    .set_alt = NULL, /* one alternate setting; the core accepts alt 0 */
    .control = hid_control,
    .control_done = hid_control_done,
    .xfer_done = hid_xfer_done,
    .poll = NULL,
    .ctx = NULL,
    .std_control = hid_std_control,
};

void hid_init(const hid_config_t *cfg)
{
    memset(&hid, 0, sizeof hid);
    hid.cfg = cfg;
    hid.protocol = 1;
}

bool hid_send_report(const uint8_t *report, uint16_t len)
{
    if (hid.cfg == NULL || hid.in_busy || len > HID_REPORT_SIZE) {
        return false;
    }
    memset(hid.in_report, 0, sizeof hid.in_report);
    memcpy(hid.in_report, report, len);
    if (!usbd_ep_xfer(hid.cfg->ep_in, hid.in_report, HID_REPORT_SIZE)) {
        return false;
    }
    hid.in_busy = true;
    return true;
}
