/*
 * Image header encoding and the CRC-32 it uses.
 */
#include "image_header.h"

#include <stddef.h>

/* Nibble-wise table for the reflected polynomial 0xEDB88320: 64 bytes of
 * table instead of 1 KiB, about 2x slower than a byte table, enough for a
 * boot-time check of the stamped size. */
static const uint32_t crc_nibble[16] = {
    0x00000000u, 0x1DB71064u, 0x3B6E20C8u, 0x26D930ACu, 0x76DC4190u, 0x6B6B51F4u,
    0x4DB26158u, 0x5005713Cu, 0xEDB88320u, 0xF00F9344u, 0xD6D6A3E8u, 0xCB61B38Cu,
    0x9B64C2B0u, 0x86D3D2D4u, 0xA00AE278u, 0xBDBDF21Cu,
};

uint32_t boot_crc32(uint32_t crc, const void *data, size_t len)
{
    const uint8_t *p = data;
    crc = ~crc;
    while (len--) {
        crc ^= *p++;
        crc = (crc >> 4) ^ crc_nibble[crc & 0xFu];
        crc = (crc >> 4) ^ crc_nibble[crc & 0xFu];
    }
    return ~crc;
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

uint32_t boot_header_crc(const uint8_t in[BOOT_HDR_SIZE])
{
    return boot_crc32(0, in, BOOT_HDR_CRC_OFFSET);
}

uint32_t boot_header_encode(const boot_image_header_t *h, uint8_t out[BOOT_HDR_SIZE])
{
    for (unsigned i = 0; i < BOOT_HDR_SIZE; i++) {
        out[i] = 0;
    }
    put32(out + BOOT_HDR_OFF_MAGIC, h->magic);
    put16(out + BOOT_HDR_OFF_HVERSION, h->hdr_version);
    put16(out + BOOT_HDR_OFF_HSIZE, h->hdr_size);
    out[BOOT_HDR_OFF_MAJOR] = h->version.major;
    out[BOOT_HDR_OFF_MINOR] = h->version.minor;
    put16(out + BOOT_HDR_OFF_PATCH, h->version.patch);
    put32(out + BOOT_HDR_OFF_BUILD, h->version.build);
    put32(out + BOOT_HDR_OFF_LOAD, h->load_addr);
    put32(out + BOOT_HDR_OFF_SIZE, h->image_size);
    put32(out + BOOT_HDR_OFF_DEVICE, h->device_id);
    put32(out + BOOT_HDR_OFF_VECTOR, h->vector_offset);
    put32(out + BOOT_HDR_OFF_FLAGS, h->flags);
    put32(out + BOOT_HDR_OFF_BODY_CRC, h->body_crc);
    uint32_t crc = boot_header_crc(out);
    put32(out + BOOT_HDR_CRC_OFFSET, crc);
    return crc;
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/* On a little-endian machine the decoded fields up to body_crc have the
 * encoded layout: one copy (smaller code for the bootloader's budget). */
_Static_assert(offsetof(boot_image_header_t, hdr_version) == BOOT_HDR_OFF_HVERSION &&
                   offsetof(boot_image_header_t, hdr_size) == BOOT_HDR_OFF_HSIZE &&
                   offsetof(boot_image_header_t, version.major) == BOOT_HDR_OFF_MAJOR &&
                   offsetof(boot_image_header_t, version.minor) == BOOT_HDR_OFF_MINOR &&
                   offsetof(boot_image_header_t, version.patch) == BOOT_HDR_OFF_PATCH &&
                   offsetof(boot_image_header_t, version.build) == BOOT_HDR_OFF_BUILD &&
                   offsetof(boot_image_header_t, load_addr) == BOOT_HDR_OFF_LOAD &&
                   offsetof(boot_image_header_t, image_size) == BOOT_HDR_OFF_SIZE &&
                   offsetof(boot_image_header_t, device_id) == BOOT_HDR_OFF_DEVICE &&
                   offsetof(boot_image_header_t, vector_offset) == BOOT_HDR_OFF_VECTOR &&
                   offsetof(boot_image_header_t, flags) == BOOT_HDR_OFF_FLAGS &&
                   offsetof(boot_image_header_t, body_crc) == BOOT_HDR_OFF_BODY_CRC &&
                   offsetof(boot_image_header_t, hdr_crc) == BOOT_HDR_OFF_RESERVED,
               "boot_image_header_t must mirror the encoded header up to body_crc");

void boot_header_decode(const uint8_t in[BOOT_HDR_SIZE], boot_image_header_t *h)
{
    uint8_t *d = (uint8_t *)h;
    for (unsigned i = 0; i < BOOT_HDR_OFF_RESERVED; i++) {
        d[i] = in[i];
    }
    h->hdr_crc = get32(in + BOOT_HDR_CRC_OFFSET);
}
#else
static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

void boot_header_decode(const uint8_t in[BOOT_HDR_SIZE], boot_image_header_t *h)
{
    h->magic = get32(in + BOOT_HDR_OFF_MAGIC);
    h->hdr_version = get16(in + BOOT_HDR_OFF_HVERSION);
    h->hdr_size = get16(in + BOOT_HDR_OFF_HSIZE);
    h->version.major = in[BOOT_HDR_OFF_MAJOR];
    h->version.minor = in[BOOT_HDR_OFF_MINOR];
    h->version.patch = get16(in + BOOT_HDR_OFF_PATCH);
    h->version.build = get32(in + BOOT_HDR_OFF_BUILD);
    h->load_addr = get32(in + BOOT_HDR_OFF_LOAD);
    h->image_size = get32(in + BOOT_HDR_OFF_SIZE);
    h->device_id = get32(in + BOOT_HDR_OFF_DEVICE);
    h->vector_offset = get32(in + BOOT_HDR_OFF_VECTOR);
    h->flags = get32(in + BOOT_HDR_OFF_FLAGS);
    h->body_crc = get32(in + BOOT_HDR_OFF_BODY_CRC);
    h->hdr_crc = get32(in + BOOT_HDR_CRC_OFFSET);
}
#endif
