/* HID class requests to the application (HID 1.11 7.2). */
#include "h7_hidapp.h"

#include <string.h>

#define HID_GET_REPORT     0x01
#define HID_SET_REPORT     0x09
#define HID_REPORT_OUTPUT  0x02
#define HID_REPORT_FEATURE 0x03
#define HID_REPORT_LEN     64
#define CMD_ENTER_UPDATE   0xdf
#define REPORT_VERSION     0x56 /* 'V' */
#define REQ_CLASS_ITF_OUT  0x21
#define REQ_CLASS_ITF_IN   0xa1
#define TIMEOUT_MS         1000

int h7_app_enter_update(const h7_transport_t *t, uint8_t hid_itf)
{
    uint8_t report[HID_REPORT_LEN] = {CMD_ENTER_UPDATE, 'h', '7', 'd', 'f', 'u'};
    int rc =
        t->control(t->ctx, REQ_CLASS_ITF_OUT, HID_SET_REPORT, (uint16_t)(HID_REPORT_OUTPUT << 8),
                   hid_itf, report, sizeof(report), TIMEOUT_MS);
    return rc < 0 ? rc : 0;
}

int h7_app_read_version(const h7_transport_t *t, uint8_t hid_itf, h7_app_version_t *out)
{
    uint8_t report[HID_REPORT_LEN];
    memset(report, 0, sizeof(report));
    int rc =
        t->control(t->ctx, REQ_CLASS_ITF_IN, HID_GET_REPORT, (uint16_t)(HID_REPORT_FEATURE << 8),
                   hid_itf, report, sizeof(report), TIMEOUT_MS);
    if (rc < 0) {
        return rc;
    }
    if (rc < 4 || report[0] != REPORT_VERSION) {
        return H7_XFER_IO;
    }
    out->major = report[1];
    out->minor = report[2];
    out->patch = report[3];
    size_t n = (size_t)rc - 4;
    if (n >= sizeof(out->text)) {
        n = sizeof(out->text) - 1;
    }
    memcpy(out->text, report + 4, n);
    out->text[n] = '\0';
    return 0;
}
