/* Microsoft OS 2.0 descriptor reader for the tests (ms_os20_parse.h). Table
 * numbers are those of the Microsoft OS 2.0 Descriptors Specification. */
#include "ms_os20_parse.h"

#include <string.h>

#include "h7_util.h"

/* Table 3: {D8DD60DF-4589-4CC7-9CD2-659D9E648A9F} as a GUID is stored: the
 * 32-bit and the two 16-bit fields little endian, the last 8 bytes in order. */
static void platform_uuid(uint8_t out[16])
{
    const uint32_t d1 = 0xD8DD60DFu;
    const uint16_t d2 = 0x4589u, d3 = 0x4CC7u;
    const uint8_t d4[8] = {0x9C, 0xD2, 0x65, 0x9D, 0x9E, 0x64, 0x8A, 0x9F};
    for (unsigned i = 0; i < 4; i++) {
        out[i] = (uint8_t)(d1 >> (8 * i));
    }
    out[4] = (uint8_t)d2;
    out[5] = (uint8_t)(d2 >> 8);
    out[6] = (uint8_t)d3;
    out[7] = (uint8_t)(d3 >> 8);
    memcpy(out + 8, d4, 8);
}

const char *ms20_parse_bos(const uint8_t *bos, size_t len, ms20_bos_info_t *out)
{
    memset(out, 0, sizeof *out);
    /* USB 3.2 Table 9-12: bLength 5, bDescriptorType BOS (15), wTotalLength,
     * bNumDeviceCaps */
    if (len < 5 || bos[0] != 5 || bos[1] != 0x0F) {
        return "BOS header: bLength must be 5 and bDescriptorType 0x0F";
    }
    out->bos_len = h7_get_le16(bos + 2);
    out->num_caps = bos[4];
    if (out->bos_len != len) {
        return "BOS wTotalLength differs from the bytes the device sent";
    }
    uint8_t want[16];
    platform_uuid(want);
    unsigned caps = 0, ms = 0;
    size_t off = 5;
    while (off < len) {
        const uint8_t *c = bos + off;
        /* Table 9-13: bLength, bDescriptorType DEVICE CAPABILITY (16),
         * bDevCapabilityType */
        if (len - off < 3 || c[0] < 3 || c[0] > len - off) {
            return "device capability runs past wTotalLength";
        }
        if (c[1] != 0x10) {
            return "BOS holds a descriptor that is not a device capability";
        }
        caps++;
        /* Table 4 (MS OS 2.0): platform capability (type 5), bReserved,
         * the UUID, then one descriptor set information structure (Table 5) */
        if (c[2] == 0x05 && c[0] >= 20 && memcmp(c + 4, want, 16) == 0) {
            if (c[0] != 28) {
                return "MS OS 2.0 platform capability: bLength must be 28 for one set";
            }
            if (c[3] != 0) {
                return "platform capability bReserved is not 0";
            }
            ms++;
            out->win_version = h7_get_le32(c + 20);
            out->set_len = h7_get_le16(c + 24);
            out->vendor_code = c[26];
            out->alt_enum = c[27];
        }
        off += c[0];
    }
    if (caps != out->num_caps) {
        return "bNumDeviceCaps differs from the capabilities present";
    }
    if (ms != 1) {
        return "no (or more than one) MS OS 2.0 platform capability";
    }
    if (out->win_version < 0x06030000u) {
        return "dwWindowsVersion below Windows 8.1 (0x06030000)";
    }
    if (out->set_len < 10) {
        return "wMSOSDescriptorSetTotalLength shorter than a set header";
    }
    if (out->vendor_code == 0) {
        return "bMS_VendorCode 0";
    }
    return NULL;
}

static int hexdigit(unsigned c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Table 14, DeviceInterfaceGUIDs as REG_MULTI_SZ: one "{8-4-4-4-12}" string,
 * its NUL and the list's closing NUL, UTF-16LE. */
static const char *parse_guid_property(const uint8_t *p, size_t len, ms20_set_info_t *out)
{
    static const char name[] = "DeviceInterfaceGUIDs";
    if (len < 10) {
        return "registry property shorter than its fixed fields";
    }
    unsigned type = h7_get_le16(p + 4), name_len = h7_get_le16(p + 6);
    if (type != 7) {
        return "DeviceInterfaceGUIDs: wPropertyDataType must be 7 (REG_MULTI_SZ)";
    }
    if (name_len != 2 * sizeof name || 8 + name_len + 2 > len) {
        return "registry property name is not \"DeviceInterfaceGUIDs\" (length)";
    }
    for (unsigned i = 0; i < sizeof name; i++) {
        if (h7_get_le16(p + 8 + 2 * i) != (unsigned char)name[i]) {
            return "registry property name is not \"DeviceInterfaceGUIDs\" UTF-16LE";
        }
    }
    const uint8_t *d = p + 8 + name_len;
    unsigned data_len = h7_get_le16(d);
    if (10 + name_len + data_len != len) {
        return "registry property wLength differs from its name and data lengths";
    }
    if (data_len != 2 * (38 + 2)) {
        return "DeviceInterfaceGUIDs: wPropertyDataLength is not one GUID string and two NULs";
    }
    d += 2;
    for (unsigned i = 0; i < 38; i++) {
        unsigned c = h7_get_le16(d + 2 * i);
        int ok = (i == 0)                                    ? c == '{'
                 : (i == 37)                                 ? c == '}'
                 : (i == 9 || i == 14 || i == 19 || i == 24) ? c == '-'
                                                             : hexdigit(c);
        if (!ok) {
            return "DeviceInterfaceGUIDs: not a {xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx} string";
        }
        out->guid[i] = (char)c;
    }
    out->guid[38] = '\0';
    if (h7_get_le16(d + 76) != 0 || h7_get_le16(d + 78) != 0) {
        return "DeviceInterfaceGUIDs: REG_MULTI_SZ not ended by two NULs";
    }
    return NULL;
}

/* Feature descriptors from off to end; function_itf applies to them. */
static const char *parse_features(const uint8_t *set, size_t off, size_t end, int function_itf,
                                  ms20_set_info_t *out)
{
    while (off < end) {
        const uint8_t *p = set + off;
        if (end - off < 4) {
            return "descriptor header runs past its subset";
        }
        unsigned wlen = h7_get_le16(p), type = h7_get_le16(p + 2);
        if (wlen < 4 || wlen > end - off) {
            return "descriptor wLength runs past its subset";
        }
        switch (type) {
        case 0x03: /* Table 13 */
            if (wlen != 20) {
                return "compatible ID descriptor: wLength must be 20";
            }
            if (memcmp(p + 4, "WINUSB\0\0", 8) != 0) {
                return "compatible ID is not \"WINUSB\"";
            }
            for (unsigned i = 12; i < 20; i++) {
                if (p[i] != 0) {
                    return "sub-compatible ID is not empty";
                }
            }
            out->winusb++;
            out->function_itf = function_itf;
            break;
        case 0x04: {
            const char *e = parse_guid_property(p, wlen, out);
            if (e != NULL) {
                return e;
            }
            break;
        }
        case 0x00:
        case 0x01:
        case 0x02:
            return "header in the wrong place";
        default:
            break; /* other features (Table 9) are allowed */
        }
        off += wlen;
    }
    return NULL;
}

const char *ms20_parse_set(const uint8_t *set, size_t len, ms20_set_info_t *out)
{
    memset(out, 0, sizeof *out);
    out->function_itf = -1;
    /* Table 10: wLength 10, wDescriptorType 0, dwWindowsVersion, wTotalLength */
    if (len < 10 || h7_get_le16(set) != 10 || h7_get_le16(set + 2) != 0x00) {
        return "set header: wLength must be 10 and wDescriptorType 0";
    }
    if (h7_get_le32(set + 4) < 0x06030000u) {
        return "set header dwWindowsVersion below Windows 8.1";
    }
    if (h7_get_le16(set + 8) != len) {
        return "set header wTotalLength differs from the set's length";
    }
    size_t off = 10;
    if (off < len && len - off >= 4 && h7_get_le16(set + off + 2) == 0x01) {
        /* Table 11: wLength 8, type 1, bConfigurationValue (the index: 0),
         * bReserved, wTotalLength of the configuration subset */
        const uint8_t *c = set + off;
        unsigned clen = len - off >= 8 ? h7_get_le16(c + 6) : 0;
        if (h7_get_le16(c) != 8 || clen < 8 || clen > len - off) {
            return "configuration subset header: wLength 8, wTotalLength within the set";
        }
        if (c[4] != 0) {
            return "configuration subset: not the first configuration (index 0)";
        }
        out->subsets++;
        size_t cend = off + clen;
        off += 8;
        while (off < cend) {
            const uint8_t *f = set + off;
            /* Table 12: wLength 8, type 2, bFirstInterface, bReserved,
             * wSubsetLength (header and its features) */
            if (cend - off < 8 || h7_get_le16(f) != 8 || h7_get_le16(f + 2) != 0x02) {
                return "configuration subset holds something other than function subsets";
            }
            unsigned flen = h7_get_le16(f + 6);
            if (flen < 8 || flen > cend - off) {
                return "function subset wSubsetLength runs past its configuration subset";
            }
            out->subsets++;
            const char *e = parse_features(set, off + 8, off + flen, f[4], out);
            if (e != NULL) {
                return e;
            }
            off += flen;
        }
        if (off != len) {
            return "bytes after the configuration subset";
        }
    } else {
        const char *e = parse_features(set, off, len, -1, out);
        if (e != NULL) {
            return e;
        }
    }
    if (out->winusb != 1) {
        return "no (or more than one) WINUSB compatible ID";
    }
    if (out->guid[0] == '\0') {
        return "no DeviceInterfaceGUIDs property";
    }
    return NULL;
}
