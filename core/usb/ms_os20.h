/*
 * Microsoft OS 2.0 descriptors, built at compile time: with them Windows 8.1
 * and later bind WinUSB to a device or to one of its functions without an INF
 * file or a driver installer, and give the device interface GUID that
 * programs open it by.
 *
 * How a host gets them (Microsoft OS 2.0 Descriptors Specification, July 2018,
 * "MS OS 2.0" below):
 *  1. the device descriptor says bcdUSB 0x0201 or more, so the host asks for
 *     the BOS descriptor (USB 3.2 9.6.2; USB 2.0 LPM ECN);
 *  2. the BOS holds a platform capability (USB 3.2 9.6.2.4) whose UUID is
 *     MS OS 2.0's, with the length of the descriptor set and a vendor code;
 *  3. the host reads the set with a vendor device IN request: bmRequestType
 *     0xC0, bRequest = that vendor code, wValue 0, wIndex 7
 *     (MS_OS_20_DESCRIPTOR_INDEX, MS OS 2.0 Table 8).
 *
 * The core (usbd.h) answers 1 and 3 for a device whose description has a
 * usbd_ms_os20_t; the blobs are plain constant arrays laid out with the
 * macros below (all multi-byte fields little endian, as USB sends them).
 * Each product needs its own device interface GUID.
 */
#ifndef H7_MS_OS20_H
#define H7_MS_OS20_H

#include <stdint.h>

/* Little-endian bytes of a 16- and 32-bit field. */
#define MS_OS20_LE16(v) (uint8_t)((v)&0xffu), (uint8_t)(((v) >> 8) & 0xffu)
#define MS_OS20_LE32(v) MS_OS20_LE16((v)&0xffffu), MS_OS20_LE16(((v) >> 16) & 0xffffu)

/* bcdUSB from which a host reads the BOS descriptor (USB 2.0 LPM ECN). */
#define MS_OS20_BCD_USB 0x0201u

/* USB 3.2 Table 9-6 / 9-14: BOS and device capability descriptor types;
 * Table 9-14 bDevCapabilityType PLATFORM. */
#define MS_OS20_DT_BOS               0x0fu
#define MS_OS20_DT_DEVICE_CAPABILITY 0x10u
#define MS_OS20_DEV_CAP_PLATFORM     0x05u
#define MS_OS20_BOS_HEADER_LEN       5u
#define MS_OS20_PLATFORM_CAP_LEN     28u /* MS OS 2.0 Table 4, one set */

/* MS OS 2.0 Table 3: platform capability UUID D8DD60DF-4589-4CC7-9CD2-
 * 659D9E648A9F, in the byte order of the wire (the first three fields little
 * endian, as a GUID is stored). */
#define MS_OS20_PLATFORM_UUID                                                                      \
    0xdfu, 0x60u, 0xddu, 0xd8u, 0x89u, 0x45u, 0xc7u, 0x4cu, 0x9cu, 0xd2u, 0x65u, 0x9du, 0x9eu,     \
        0x64u, 0x8au, 0x9fu

/* MS OS 2.0 Table 2: the lowest Windows version that reads the descriptors
 * (Windows 8.1, NTDDI_WINBLUE). */
#define MS_OS20_WINDOWS_VERSION 0x06030000u

/* MS OS 2.0 Table 8: wIndex of the descriptor set request. */
#define MS_OS20_DESCRIPTOR_INDEX 7u

/* MS OS 2.0 Table 9: wDescriptorType values. */
#define MS_OS20_SET_HEADER_DESCRIPTOR       0x00u
#define MS_OS20_SUBSET_HEADER_CONFIGURATION 0x01u
#define MS_OS20_SUBSET_HEADER_FUNCTION      0x02u
#define MS_OS20_FEATURE_COMPATIBLE_ID       0x03u
#define MS_OS20_FEATURE_REG_PROPERTY        0x04u

/* Lengths of the fixed descriptors (MS OS 2.0 Tables 10 to 13). */
#define MS_OS20_SET_HEADER_LEN      10u
#define MS_OS20_CONFIG_SUBSET_LEN   8u
#define MS_OS20_FUNCTION_SUBSET_LEN 8u
#define MS_OS20_COMPATIBLE_ID_LEN   20u

/* MS OS 2.0 Table 15: REG_MULTI_SZ. */
#define MS_OS20_REG_MULTI_SZ 7u

/*
 * The whole BOS: header (USB 3.2 Table 9-12) and the one platform capability
 * (MS OS 2.0 Table 4) for a descriptor set of set_len bytes read with
 * vendor_code; 33 bytes.
 */
#define MS_OS20_BOS_LEN (MS_OS20_BOS_HEADER_LEN + MS_OS20_PLATFORM_CAP_LEN)
#define MS_OS20_BOS(set_len, vendor_code)                                                          \
    {                                                                                              \
        MS_OS20_BOS_HEADER_LEN, MS_OS20_DT_BOS, MS_OS20_LE16(MS_OS20_BOS_LEN), 1u,                 \
            MS_OS20_PLATFORM_CAP_LEN, MS_OS20_DT_DEVICE_CAPABILITY, MS_OS20_DEV_CAP_PLATFORM, 0u,  \
            MS_OS20_PLATFORM_UUID, MS_OS20_LE32(MS_OS20_WINDOWS_VERSION), MS_OS20_LE16(set_len),   \
            (vendor_code), 0u /* bAltEnumCode: no alternate enumeration */                         \
    }

/* Descriptor set header (MS OS 2.0 Table 10); total_len covers the whole set. */
#define MS_OS20_SET_HEADER(total_len)                                                              \
    MS_OS20_LE16(MS_OS20_SET_HEADER_LEN), MS_OS20_LE16(MS_OS20_SET_HEADER_DESCRIPTOR),             \
        MS_OS20_LE32(MS_OS20_WINDOWS_VERSION), MS_OS20_LE16(total_len)

/* Configuration subset header (Table 11). The field the specification calls
 * bConfigurationValue is taken by Windows as the configuration's index: 0 for
 * the first (and here only) configuration. subset_len covers this header and
 * everything up to the end of the set. */
#define MS_OS20_CONFIG_SUBSET(subset_len)                                                          \
    MS_OS20_LE16(MS_OS20_CONFIG_SUBSET_LEN), MS_OS20_LE16(MS_OS20_SUBSET_HEADER_CONFIGURATION),    \
        0u, 0u, MS_OS20_LE16(subset_len)

/* Function subset header (Table 12): the features after it apply to the
 * function whose first interface is first_itf; subset_len covers this header
 * and those features. */
#define MS_OS20_FUNCTION_SUBSET(first_itf, subset_len)                                             \
    MS_OS20_LE16(MS_OS20_FUNCTION_SUBSET_LEN), MS_OS20_LE16(MS_OS20_SUBSET_HEADER_FUNCTION),       \
        (first_itf), 0u, MS_OS20_LE16(subset_len)

/* Compatible ID descriptor (Table 13): "WINUSB", no sub-compatible ID. */
#define MS_OS20_COMPATIBLE_ID_WINUSB                                                               \
    MS_OS20_LE16(MS_OS20_COMPATIBLE_ID_LEN), MS_OS20_LE16(MS_OS20_FEATURE_COMPATIBLE_ID), 'W',     \
        'I', 'N', 'U', 'S', 'B', 0u, 0u, 0u, 0u, 0u, 0u, 0u, 0u, 0u, 0u

/*
 * Registry property descriptor (Table 14) "DeviceInterfaceGUIDs", REG_MULTI_SZ,
 * holding one GUID string "{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}". Its text
 * is UTF-16LE: kept as uint16_t arrays initialised from u"" literals, whose
 * code units are in the byte order of the wire on a little-endian machine (the
 * Cortex-M7 and the hosts this is built for; checked below).
 */
#define MS_OS20_GUID_CHARS 38u
typedef struct ms_os20_guid_property {
    uint8_t head[8];     /* wLength, wDescriptorType, wPropertyDataType, wPropertyNameLength */
    uint16_t name[21];   /* u"DeviceInterfaceGUIDs" and its NUL */
    uint8_t data_len[2]; /* wPropertyDataLength */
    uint16_t data[MS_OS20_GUID_CHARS + 2u]; /* the GUID, its NUL, the list's NUL */
} ms_os20_guid_property_t;

#define MS_OS20_GUID_PROPERTY_LEN 132u /* 10 bytes of fields + 42 + 80 */
#define MS_OS20_GUID_PROPERTY(guid_u16)                                                            \
    {                                                                                              \
        .head = {MS_OS20_LE16(MS_OS20_GUID_PROPERTY_LEN),                                          \
                 MS_OS20_LE16(MS_OS20_FEATURE_REG_PROPERTY), MS_OS20_LE16(MS_OS20_REG_MULTI_SZ),   \
                 MS_OS20_LE16(42u)},                                                               \
        .name = u"DeviceInterfaceGUIDs", .data_len = {MS_OS20_LE16(80u)}, .data = guid_u16,        \
    }

/* A single-function device (the DFU bootloader): the compatible ID and the
 * property apply to the whole device, no subset headers (MS OS 2.0 9.2). */
typedef struct ms_os20_device_set {
    uint8_t header[MS_OS20_SET_HEADER_LEN];
    uint8_t compatible_id[MS_OS20_COMPATIBLE_ID_LEN];
    ms_os20_guid_property_t property;
} ms_os20_device_set_t;

#define MS_OS20_DEVICE_SET_LEN                                                                     \
    (MS_OS20_SET_HEADER_LEN + MS_OS20_COMPATIBLE_ID_LEN + MS_OS20_GUID_PROPERTY_LEN)
#define MS_OS20_DEVICE_SET(guid_u16)                                                               \
    {                                                                                              \
        .header = {MS_OS20_SET_HEADER(MS_OS20_DEVICE_SET_LEN)},                                    \
        .compatible_id = {MS_OS20_COMPATIBLE_ID_WINUSB},                                           \
        .property = MS_OS20_GUID_PROPERTY(guid_u16),                                               \
    }

/* A composite device: WinUSB for the one function starting at interface
 * first_itf (the DFU run-time interface of an application); the other
 * interfaces keep their class drivers. */
typedef struct ms_os20_function_set {
    uint8_t header[MS_OS20_SET_HEADER_LEN];
    uint8_t config[MS_OS20_CONFIG_SUBSET_LEN];
    uint8_t function[MS_OS20_FUNCTION_SUBSET_LEN];
    uint8_t compatible_id[MS_OS20_COMPATIBLE_ID_LEN];
    ms_os20_guid_property_t property;
} ms_os20_function_set_t;

#define MS_OS20_FUNCTION_FEATURES_LEN                                                              \
    (MS_OS20_FUNCTION_SUBSET_LEN + MS_OS20_COMPATIBLE_ID_LEN + MS_OS20_GUID_PROPERTY_LEN)
#define MS_OS20_FUNCTION_SET_LEN                                                                   \
    (MS_OS20_SET_HEADER_LEN + MS_OS20_CONFIG_SUBSET_LEN + MS_OS20_FUNCTION_FEATURES_LEN)
#define MS_OS20_FUNCTION_SET(first_itf, guid_u16)                                                  \
    {                                                                                              \
        .header = {MS_OS20_SET_HEADER(MS_OS20_FUNCTION_SET_LEN)},                                  \
        .config = {MS_OS20_CONFIG_SUBSET(MS_OS20_FUNCTION_SET_LEN - MS_OS20_SET_HEADER_LEN)},      \
        .function = {MS_OS20_FUNCTION_SUBSET(first_itf, MS_OS20_FUNCTION_FEATURES_LEN)},           \
        .compatible_id = {MS_OS20_COMPATIBLE_ID_WINUSB},                                           \
        .property = MS_OS20_GUID_PROPERTY(guid_u16),                                               \
    }

/* The byte offsets of the function subset's bFirstInterface and of the BOS's
 * bMS_VendorCode, for a copy patched at run time (core/app). */
#define MS_OS20_FUNCTION_SET_FIRST_ITF_OFF (MS_OS20_SET_HEADER_LEN + MS_OS20_CONFIG_SUBSET_LEN + 4u)
#define MS_OS20_BOS_VENDOR_CODE_OFF        (MS_OS20_BOS_LEN - 2u)

/* The layouts have no padding and the text is UTF-16LE. */
_Static_assert(sizeof(ms_os20_guid_property_t) == MS_OS20_GUID_PROPERTY_LEN, "property layout");
_Static_assert(sizeof(ms_os20_device_set_t) == MS_OS20_DEVICE_SET_LEN, "device set layout");
_Static_assert(sizeof(ms_os20_function_set_t) == MS_OS20_FUNCTION_SET_LEN, "function set layout");
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "u\"\" text is sent as UTF-16LE");

#endif
