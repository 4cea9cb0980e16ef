/*
 * Compile-time sizes of the device core. All storage is static (no malloc on
 * the firmware); override any of these with a compile definition on the
 * h7_usbd target, e.g. target_compile_definitions(h7_usbd PUBLIC
 * USBD_DESC_BUF_SIZE=768).
 */
#ifndef H7_USBD_CONFIG_H
#define H7_USBD_CONFIG_H

/* wMaxPacketSize0: full speed allows 8..64; the dcds implement 64. */
#ifndef USBD_EP0_SIZE
#define USBD_EP0_SIZE 64u
#endif

/* Bytes for the device + configuration + all string descriptors together. */
#ifndef USBD_DESC_BUF_SIZE
#define USBD_DESC_BUF_SIZE 512u
#endif

/* String descriptors, index 0 (language IDs) included. */
#ifndef USBD_MAX_STRINGS
#define USBD_MAX_STRINGS 16u
#endif

/* Interfaces of the one configuration. */
#ifndef USBD_MAX_INTERFACES
#define USBD_MAX_INTERFACES 4u
#endif

/* Control buffer used when the device description brings none. A DFU device
 * passes its own buffer of wTransferSize bytes instead (usbd_device_desc_t). */
#ifndef USBD_CTRL_BUF_SIZE
#define USBD_CTRL_BUF_SIZE 128u
#endif

#endif
