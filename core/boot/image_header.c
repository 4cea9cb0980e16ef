/*
 * Image header encoding (its CRC-32 and byte order: h7_util.h).
 */
#include "image_header.h"

#include <stddef.h>

#include "h7_util.h"

uint32_t boot_header_crc(const uint8_t in[BOOT_HDR_SIZE])
{
    return h7_crc32(0, in, BOOT_HDR_CRC_OFFSET);
}

uint32_t boot_header_encode(const boot_image_header_t *h, uint8_t out[BOOT_HDR_SIZE])
{
    for (unsigned i = 0; i < BOOT_HDR_SIZE; i++) {
        out[i] = 0;
    }
    h7_put_le32(out + BOOT_HDR_OFF_MAGIC, h->magic);
    h7_put_le16(out + BOOT_HDR_OFF_HVERSION, h->hdr_version);
    h7_put_le16(out + BOOT_HDR_OFF_HSIZE, h->hdr_size);
    out[BOOT_HDR_OFF_MAJOR] = h->version.major;
    out[BOOT_HDR_OFF_MINOR] = h->version.minor;
    h7_put_le16(out + BOOT_HDR_OFF_PATCH, h->version.patch);
    h7_put_le32(out + BOOT_HDR_OFF_BUILD, h->version.build);
    h7_put_le32(out + BOOT_HDR_OFF_LOAD, h->load_addr);
    h7_put_le32(out + BOOT_HDR_OFF_SIZE, h->image_size);
    h7_put_le32(out + BOOT_HDR_OFF_DEVICE, h->device_id);
    h7_put_le32(out + BOOT_HDR_OFF_VECTOR, h->vector_offset);
    h7_put_le32(out + BOOT_HDR_OFF_FLAGS, h->flags);
    h7_put_le32(out + BOOT_HDR_OFF_BODY_CRC, h->body_crc);
    uint32_t crc = boot_header_crc(out);
    h7_put_le32(out + BOOT_HDR_CRC_OFFSET, crc);
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
    h->hdr_crc = h7_get_le32(in + BOOT_HDR_CRC_OFFSET);
}
#else
void boot_header_decode(const uint8_t in[BOOT_HDR_SIZE], boot_image_header_t *h)
{
    h->magic = h7_get_le32(in + BOOT_HDR_OFF_MAGIC);
    h->hdr_version = h7_get_le16(in + BOOT_HDR_OFF_HVERSION);
    h->hdr_size = h7_get_le16(in + BOOT_HDR_OFF_HSIZE);
    h->version.major = in[BOOT_HDR_OFF_MAJOR];
    h->version.minor = in[BOOT_HDR_OFF_MINOR];
    h->version.patch = h7_get_le16(in + BOOT_HDR_OFF_PATCH);
    h->version.build = h7_get_le32(in + BOOT_HDR_OFF_BUILD);
    h->load_addr = h7_get_le32(in + BOOT_HDR_OFF_LOAD);
    h->image_size = h7_get_le32(in + BOOT_HDR_OFF_SIZE);
    h->device_id = h7_get_le32(in + BOOT_HDR_OFF_DEVICE);
    h->vector_offset = h7_get_le32(in + BOOT_HDR_OFF_VECTOR);
    h->flags = h7_get_le32(in + BOOT_HDR_OFF_FLAGS);
    h->body_crc = h7_get_le32(in + BOOT_HDR_OFF_BODY_CRC);
    h->hdr_crc = h7_get_le32(in + BOOT_HDR_CRC_OFFSET);
}
#endif
