/*
 * USB device core: one full-speed device with one configuration, described by
 * a usbd_device_desc_t. The core builds the descriptors from the description,
 * answers the standard requests (USB 2.0 chapter 9), runs the EP0 control
 * transfer engine and routes class/vendor requests and endpoint completions to
 * the class driver that owns the interface (usbd_class.h). It reaches the
 * controller only through dcd.h; how EP0 work is split is documented there.
 *
 * String descriptor indices are assigned at usbd_init(): 0 is the language ID
 * list (0x0409 only), then manufacturer, product, serial (each only if not
 * NULL), then the interface string of every alternate setting that has one, in
 * description order. Strings are UTF-8, served as UTF-16LE (BMP only).
 */
#ifndef H7_USBD_H
#define H7_USBD_H

#include <stdbool.h>
#include <stdint.h>

#include "usb_std.h"
#include "usbd_class.h"
#include "usbd_config.h"

typedef struct usbd_endpoint_desc {
    uint8_t addr;        /* bit 7 set for IN; number 1..15 */
    uint8_t type;        /* USB_EP_BULK or USB_EP_INTERRUPT */
    uint16_t max_packet; /* wMaxPacketSize, at most 64 at full speed */
    uint8_t interval;    /* bInterval (frames) for interrupt endpoints */
} usbd_endpoint_desc_t;

typedef struct usbd_alt_desc {
    uint8_t cls, subclass, protocol; /* bInterfaceClass/SubClass/Protocol */
    const char *name;                /* interface string (iInterface), NULL: none */
    /* Class descriptors placed right after the interface descriptor, before
     * the endpoints (DFU functional descriptor, HID descriptor). */
    const uint8_t *extra;
    uint16_t extra_len;
    const usbd_endpoint_desc_t *eps;
    uint8_t num_eps;
} usbd_alt_desc_t;

typedef struct usbd_interface_desc {
    const usbd_alt_desc_t *alts; /* alternate settings 0..num_alts-1 */
    uint8_t num_alts;
    const usbd_class_driver_t *driver; /* owns this interface; NULL: none */
} usbd_interface_desc_t;

/*
 * Microsoft OS 2.0 descriptors (ms_os20.h lays them out): the BOS descriptor
 * (sent for GET_DESCRIPTOR(BOS), its wTotalLength bytes) and the descriptor
 * set (sent for the vendor device request bmRequestType 0xC0, bRequest
 * vendor_code, wIndex MS_OS20_DESCRIPTOR_INDEX, in any device state: Windows
 * reads it before it configures the device). set_len and vendor_code are the
 * values the BOS's platform capability announces.
 */
typedef struct usbd_ms_os20 {
    const uint8_t *bos;
    const void *set;
    uint16_t set_len;
    uint8_t vendor_code;
} usbd_ms_os20_t;

typedef struct usbd_device_desc {
    uint16_t vid, pid;
    uint16_t bcd_device;
    uint16_t bcd_usb; /* 0 means 0x0200 (0x0201 with ms_os20, the least for a BOS) */
    uint8_t dev_class, dev_subclass, dev_protocol; /* 0: per interface */
    const char *manufacturer, *product, *serial;   /* NULL: no string */
    uint8_t attributes;                /* USB_CONFIG_ATTR_SELF_POWERED / _REMOTE_WAKEUP */
    uint16_t max_power_ma;             /* bMaxPower = max_power_ma / 2 */
    const usbd_interface_desc_t *itfs; /* interface n is itfs[n] */
    uint8_t num_itfs;
    /* Control transfer buffer (class data stages); NULL: the core's own
     * USBD_CTRL_BUF_SIZE bytes. OUT requests longer than it are stalled. */
    uint8_t *ctrl_buf;
    uint16_t ctrl_buf_size;
    /* Suspend (true) / resume (false) notification; may be NULL. The device
     * never signals remote wakeup, even when the host enabled it. */
    void (*on_suspend)(bool suspended);
    /* NULL: no BOS (GET_DESCRIPTOR(BOS) stalls) and no descriptor set. */
    const usbd_ms_os20_t *ms_os20;
} usbd_device_desc_t;

typedef enum usbd_state {
    USBD_STATE_DETACHED = 0, /* not connected, or disconnected */
    USBD_STATE_DEFAULT,      /* after bus reset, address 0 */
    USBD_STATE_ADDRESSED,
    USBD_STATE_CONFIGURED,
} usbd_state_t;

/* Build the descriptors and bring the controller up (dcd_init). The
 * description must outlive the core. false: invalid description, or the
 * descriptors do not fit USBD_DESC_BUF_SIZE / USBD_MAX_STRINGS. */
bool usbd_init(const usbd_device_desc_t *desc);
/* Main loop: service the controller (dcd_poll), then each class driver's poll. */
void usbd_task(void);
/* Pull-up on / off. Disconnecting returns the core to the detached state. */
void usbd_connect(void);
void usbd_disconnect(void);

usbd_state_t usbd_state(void);
bool usbd_configured(void);
bool usbd_suspended(void);
/* Current alternate setting of an interface (0 when not configured). */
uint8_t usbd_alt_setting(uint8_t itf);

/* Start a transfer on a non-control endpoint of the current configuration
 * (e.g. a HID interrupt IN report). false: not configured, endpoint not in the
 * current alternate settings, halted, or the dcd refused. buf must stay valid
 * until the owner's xfer_done(). */
bool usbd_ep_xfer(uint8_t ep_addr, uint8_t *buf, uint16_t len);

/* The built descriptors, for tests and the simulator's sysfs view. */
const uint8_t *usbd_device_descriptor(void);          /* 18 bytes */
const uint8_t *usbd_config_descriptor(uint16_t *len); /* whole set */
const uint8_t *usbd_string_descriptor(uint8_t index); /* NULL: none */
/* String index of an alternate setting's name (0: none). */
uint8_t usbd_string_index_of_alt(uint8_t itf, uint8_t alt);

#endif
