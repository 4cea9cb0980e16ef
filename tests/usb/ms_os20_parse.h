/*
 * An independent reader of Microsoft OS 2.0 descriptors, written from the
 * Microsoft OS 2.0 Descriptors Specification (July 2018) and the BOS layout
 * of USB 3.2 9.6.2, for the tests: it does not use core/usb/ms_os20.h, so a
 * mistake there is not repeated here.
 */
#ifndef H7_MS_OS20_PARSE_H
#define H7_MS_OS20_PARSE_H

#include <stddef.h>
#include <stdint.h>

typedef struct ms20_bos_info {
    uint16_t bos_len;     /* wTotalLength */
    uint8_t num_caps;     /* bNumDeviceCaps */
    uint32_t win_version; /* dwWindowsVersion of the platform capability */
    uint16_t set_len;     /* wMSOSDescriptorSetTotalLength */
    uint8_t vendor_code;  /* bMS_VendorCode */
    uint8_t alt_enum;     /* bAltEnumCode */
} ms20_bos_info_t;

typedef struct ms20_set_info {
    int function_itf; /* bFirstInterface of the function with WINUSB; -1: whole device */
    int winusb;       /* compatible ID descriptors saying "WINUSB" */
    char guid[39];    /* DeviceInterfaceGUIDs, ASCII, "{...}" */
    unsigned subsets; /* configuration + function subset headers */
} ms20_set_info_t;

/* Both return NULL when the bytes are well formed, else what is wrong. */
const char *ms20_parse_bos(const uint8_t *bos, size_t len, ms20_bos_info_t *out);
const char *ms20_parse_set(const uint8_t *set, size_t len, ms20_set_info_t *out);

#endif
