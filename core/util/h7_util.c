/*
 * CRC-32 and CRC-32C (h7_util.h), a nibble at a time: two 16-entry tables
 * (128 bytes) and one loop instead of 1 KiB tables, for the bootloader's
 * flash budget; about half the speed of a byte table, plenty for a boot-time
 * check and for the host.
 */
#include "h7_util.h"

/* t[i]: the register value i after four steps of the bitwise reflected
 * CRC (shift right, XOR the polynomial when a 1 falls out). */
static const uint32_t crc32_nibble[16] = {
    0x00000000u, 0x1DB71064u, 0x3B6E20C8u, 0x26D930ACu, 0x76DC4190u, 0x6B6B51F4u,
    0x4DB26158u, 0x5005713Cu, 0xEDB88320u, 0xF00F9344u, 0xD6D6A3E8u, 0xCB61B38Cu,
    0x9B64C2B0u, 0x86D3D2D4u, 0xA00AE278u, 0xBDBDF21Cu,
};

static const uint32_t crc32c_nibble[16] = {
    0x00000000u, 0x105EC76Fu, 0x20BD8EDEu, 0x30E349B1u, 0x417B1DBCu, 0x5125DAD3u,
    0x61C69362u, 0x7198540Du, 0x82F63B78u, 0x92A8FC17u, 0xA24BB5A6u, 0xB21572C9u,
    0xC38D26C4u, 0xD3D3E1ABu, 0xE330A81Au, 0xF36E6F75u,
};

static uint32_t crc_nibbles(const uint32_t t[16], uint32_t crc, const void *data, size_t len)
{
    const uint8_t *p = data;
    crc = ~crc;
    while (len--) {
        crc ^= *p++;
        crc = (crc >> 4) ^ t[crc & 0xFu];
        crc = (crc >> 4) ^ t[crc & 0xFu];
    }
    return ~crc;
}

uint32_t h7_crc32(uint32_t crc, const void *data, size_t len)
{
    return crc_nibbles(crc32_nibble, crc, data, len);
}

uint32_t h7_crc32c(uint32_t crc, const void *data, size_t len)
{
    return crc_nibbles(crc32c_nibble, crc, data, len);
}
