/*
 * Minimal HID class driver (HID 1.11) for the demo application: one vendor
 * defined interface (usage page 0xFF00) with 64-byte reports and no report IDs:
 *   Input   (report type 1): 64 bytes, interrupt IN endpoint or GET_REPORT
 *   Output  (report type 2): 64 bytes, SET_REPORT on EP0 or interrupt OUT
 *   Feature (report type 3): 64 bytes, GET_REPORT / SET_REPORT on EP0
 *
 * "Enter update" report (an Output or Feature report, host -> device):
 *   byte 0     0xDF (HID_CMD_ENTER_UPDATE)
 *   bytes 1..5 "h7dfu" (HID_ENTER_UPDATE_MAGIC, ASCII, no terminator)
 *   rest       ignored (send zeros)
 * When such a report arrives, on_enter_update() is called: for SET_REPORT once
 * the control transfer's status stage is done (the host saw its request
 * succeed), for the interrupt OUT endpoint as soon as the packet is in. Any
 * other first byte or magic is passed to on_report() only.
 *
 * "Get version" report (device -> host): GET_REPORT of the Feature report (or
 * of the Input report, same content), report ID 0, 64 bytes:
 *   byte 0     0x56 'V' (HID_REPORT_VERSION)
 *   byte 1..3  major, minor, patch
 *   byte 4..63 version string, UTF-8, NUL padded (truncated to 59 bytes so a
 *              NUL always ends it)
 * The host tool reads it to tell "HID app v2 is back".
 *
 * One instance (static state): the demo app has one HID interface.
 */
#ifndef H7_HID_H
#define H7_HID_H

#include <stdbool.h>
#include <stdint.h>

#include "usbd_class.h"

#define HID_REPORT_SIZE        64u
#define HID_CMD_ENTER_UPDATE   0xdfu
#define HID_ENTER_UPDATE_MAGIC "h7dfu"
#define HID_ENTER_UPDATE_LEN   6u /* command byte + 5 magic bytes */
#define HID_REPORT_VERSION     0x56u
#define HID_VERSION_STR_OFF    4u

/* HID 1.11 7.2 class requests */
#define HID_REQ_GET_REPORT   0x01u
#define HID_REQ_GET_IDLE     0x02u
#define HID_REQ_GET_PROTOCOL 0x03u
#define HID_REQ_SET_REPORT   0x09u
#define HID_REQ_SET_IDLE     0x0au
#define HID_REQ_SET_PROTOCOL 0x0bu

/* Report types, high byte of wValue in GET/SET_REPORT (HID 1.11 7.2.1) */
#define HID_REPORT_TYPE_INPUT   1u
#define HID_REPORT_TYPE_OUTPUT  2u
#define HID_REPORT_TYPE_FEATURE 3u

/* The interface's class/subclass/protocol: HID, no boot subclass. */
#define HID_CLASS    0x03u
#define HID_SUBCLASS 0x00u
#define HID_PROTOCOL 0x00u

/* Length of the HID descriptor (HID 1.11 6.2.1) that goes into the
 * interface's "extra" class descriptors. */
#define HID_DESC_LEN 9u

typedef struct hid_config {
    uint8_t ep_in;           /* interrupt IN endpoint address, e.g. 0x81 */
    uint8_t ep_out;          /* interrupt OUT endpoint address, 0: none (EP0 only) */
    uint8_t version[3];      /* major, minor, patch */
    const char *version_str; /* e.g. "h7dfu demo 2.0.0"; NULL: empty */
    /* A valid "enter update" report arrived; may be NULL. */
    void (*on_enter_update)(void *user);
    /* Every Output/Feature report from the host, update request included;
     * may be NULL. */
    void (*on_report)(const uint8_t *report, uint16_t len, void *user);
    void *user;
} hid_config_t;

/* The class driver to put in the HID interface's usbd_interface_desc_t. */
extern const usbd_class_driver_t hid_class_driver;
/* The HID descriptor, for usbd_alt_desc_t.extra (extra_len HID_DESC_LEN). */
extern const uint8_t hid_descriptor[HID_DESC_LEN];

/* Set up (or reset) the driver; cfg must outlive it. */
void hid_init(const hid_config_t *cfg);
/* The report descriptor served by GET_DESCRIPTOR(0x22). */
const uint8_t *hid_report_descriptor(uint16_t *len);
/* Fill a 64-byte "get version" report from the configuration. */
void hid_version_report(uint8_t report[HID_REPORT_SIZE]);
/* Send an Input report on the interrupt IN endpoint (copied; len <= 64,
 * zero padded). false: not configured or the previous one is still pending. */
bool hid_send_report(const uint8_t *report, uint16_t len);
/* True when the given report is a valid "enter update" request. */
bool hid_is_enter_update(const uint8_t *report, uint16_t len);

#endif
