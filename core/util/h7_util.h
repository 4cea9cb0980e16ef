/*
 * h7_util: the byte-level helpers device and host share - little-endian
 * loads and stores, CRC-32 and CRC-32C. core/, host/, sim/ and the tests all
 * use these, so both ends of the cable compute the same bytes and the same
 * CRCs by construction. Freestanding C (stdint.h, stddef.h), no state.
 */
#ifndef H7_UTIL_H
#define H7_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Little-endian loads and stores at any alignment, on a target of any byte
 * order. Sized for the bootloader's flash budget (measured): GCC turns the
 * loads' shifts into one unaligned LDR/LDRH on the Cortex-M7 but leaves the
 * stores' byte writes as they are, so on a little-endian target a store
 * copies the value's bytes (one STR/STRH); all are always inlined, which is
 * smaller than a call. */
#ifndef H7_UTIL_LE_TARGET /* -DH7_UTIL_LE_TARGET=0: the byte stores (tests/util) */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define H7_UTIL_LE_TARGET 1
#else
#define H7_UTIL_LE_TARGET 0
#endif
#endif
#if defined(__GNUC__)
#define H7_UTIL_INLINE static inline __attribute__((always_inline))
#else
#define H7_UTIL_INLINE static inline
#endif

H7_UTIL_INLINE uint16_t h7_get_le16(const void *p)
{
    const uint8_t *b = (const uint8_t *)p;
    return (uint16_t)(b[0] | b[1] << 8);
}

H7_UTIL_INLINE uint32_t h7_get_le32(const void *p)
{
    const uint8_t *b = (const uint8_t *)p;
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

H7_UTIL_INLINE void h7_put_le16(void *p, uint16_t v)
{
#if H7_UTIL_LE_TARGET
    __builtin_memcpy(p, &v, sizeof v);
#else
    uint8_t *b = (uint8_t *)p;
    b[0] = (uint8_t)v;
    b[1] = (uint8_t)(v >> 8);
#endif
}

H7_UTIL_INLINE void h7_put_le32(void *p, uint32_t v)
{
#if H7_UTIL_LE_TARGET
    __builtin_memcpy(p, &v, sizeof v);
#else
    uint8_t *b = (uint8_t *)p;
    b[0] = (uint8_t)v;
    b[1] = (uint8_t)(v >> 8);
    b[2] = (uint8_t)(v >> 16);
    b[3] = (uint8_t)(v >> 24);
#endif
}

/* CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320): the image record's
 * body and header CRCs and the DFU file suffix. Start with crc = 0 and chain
 * calls: h7_crc32(h7_crc32(0, a, n), b, m) is the CRC of a then b. Check
 * value of "123456789": 0xCBF43926. */
uint32_t h7_crc32(uint32_t crc, const void *data, size_t len);

/* CRC-32C (Castagnoli, reflected polynomial 0x82F63B78): the DfuSe CRC
 * command (0xC3) over a flash range, device and host. Not CRC-32 on purpose:
 * a range ending with its own CRC-32 (an image record, a DFU suffix) has
 * the same CRC-32 whatever it holds (the residue) and would compare equal.
 * Chained like h7_crc32. Check value of "123456789": 0xE3069283. */
uint32_t h7_crc32c(uint32_t crc, const void *data, size_t len);

#endif /* H7_UTIL_H */
