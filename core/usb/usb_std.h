/*
 * USB 2.0 chapter 9 definitions shared by the device core, its class drivers
 * and the host side: the SETUP packet and the standard codes. No hardware here.
 */
#ifndef H7_USB_STD_H
#define H7_USB_STD_H

#include <stdint.h>

typedef struct usb_setup {
    uint8_t bmRequestType;
    uint8_t bRequest;
    uint16_t wValue;
    uint16_t wIndex;
    uint16_t wLength;
} usb_setup_t;

/* bmRequestType fields (USB 2.0 9.3.1) */
#define USB_DIR_IN          0x80u
#define USB_DIR_OUT         0x00u
#define USB_TYPE_MASK       0x60u
#define USB_TYPE_STANDARD   0x00u
#define USB_TYPE_CLASS      0x20u
#define USB_TYPE_VENDOR     0x40u
#define USB_RECIP_MASK      0x1fu
#define USB_RECIP_DEVICE    0x00u
#define USB_RECIP_INTERFACE 0x01u
#define USB_RECIP_ENDPOINT  0x02u

/* Standard requests (USB 2.0 Table 9-4) */
#define USB_REQ_GET_STATUS        0x00u
#define USB_REQ_CLEAR_FEATURE     0x01u
#define USB_REQ_SET_FEATURE       0x03u
#define USB_REQ_SET_ADDRESS       0x05u
#define USB_REQ_GET_DESCRIPTOR    0x06u
#define USB_REQ_SET_DESCRIPTOR    0x07u
#define USB_REQ_GET_CONFIGURATION 0x08u
#define USB_REQ_SET_CONFIGURATION 0x09u
#define USB_REQ_GET_INTERFACE     0x0au
#define USB_REQ_SET_INTERFACE     0x0bu

/* Descriptor types (USB 2.0 Table 9-5; DFU 1.1 4.1.3; HID 1.11 7.1) */
#define USB_DT_DEVICE             0x01u
#define USB_DT_CONFIG             0x02u
#define USB_DT_STRING             0x03u
#define USB_DT_INTERFACE          0x04u
#define USB_DT_ENDPOINT           0x05u
#define USB_DT_HID                0x21u
#define USB_DT_HID_REPORT         0x22u
#define USB_DT_DFU_FUNCTIONAL     0x21u
#define USB_DT_DEVICE_QUALIFIER   0x06u
#define USB_DT_OTHER_SPEED_CONFIG 0x07u
#define USB_DT_BOS                0x0fu

/* Standard feature selectors (USB 2.0 Table 9-6) */
#define USB_FEATURE_ENDPOINT_HALT        0x00u
#define USB_FEATURE_DEVICE_REMOTE_WAKEUP 0x01u
#define USB_FEATURE_TEST_MODE            0x02u

/* Endpoint transfer types, bmAttributes bits 1:0 (USB 2.0 Table 9-13) */
#define USB_EP_CONTROL     0x00u
#define USB_EP_ISOCHRONOUS 0x01u
#define USB_EP_BULK        0x02u
#define USB_EP_INTERRUPT   0x03u

/* Configuration bmAttributes (USB 2.0 Table 9-10): bit 7 is reserved, set to one */
#define USB_CONFIG_ATTR_ONE           0x80u
#define USB_CONFIG_ATTR_SELF_POWERED  0x40u
#define USB_CONFIG_ATTR_REMOTE_WAKEUP 0x20u

/* Language ID of US English (USB LANGIDs table), the only one served */
#define USB_LANGID_EN_US 0x0409u

/* Decode the 8 raw bytes of a SETUP packet (little endian on the wire). */
static inline usb_setup_t usb_setup_parse(const uint8_t raw[8])
{
    usb_setup_t s;
    s.bmRequestType = raw[0];
    s.bRequest = raw[1];
    s.wValue = (uint16_t)(raw[2] | (raw[3] << 8));
    s.wIndex = (uint16_t)(raw[4] | (raw[5] << 8));
    s.wLength = (uint16_t)(raw[6] | (raw[7] << 8));
    return s;
}

#endif
