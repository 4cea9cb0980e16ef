/*
 * Descriptor builder of the device core: turns a usbd_device_desc_t into the
 * device, configuration and string descriptors, once, into a fixed buffer.
 * Used by usbd.c; exposed for tests.
 */
#ifndef H7_USBD_DESC_H
#define H7_USBD_DESC_H

#include <stdbool.h>
#include <stdint.h>

#include "usbd.h"

#define USBD_DEVICE_DESC_LEN 18u
#define USBD_CONFIG_DESC_LEN 9u
#define USBD_ITF_DESC_LEN    9u
#define USBD_EP_DESC_LEN     7u

typedef struct usbd_desc_set {
    uint8_t buf[USBD_DESC_BUF_SIZE];
    uint16_t used;
    uint16_t cfg_off, cfg_len;          /* device descriptor is at offset 0 */
    uint16_t str_off[USBD_MAX_STRINGS]; /* string n at buf + str_off[n] */
    uint8_t num_strings;                /* index 0 (language IDs) included */
} usbd_desc_set_t;

/* false: invalid description or it does not fit; set is then unusable. */
bool usbd_desc_build(usbd_desc_set_t *set, const usbd_device_desc_t *d);
/* String index given to alternate setting alt of interface itf (0: none). */
uint8_t usbd_desc_alt_string_index(const usbd_device_desc_t *d, uint8_t itf, uint8_t alt);

#endif
