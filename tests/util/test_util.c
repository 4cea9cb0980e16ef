/* core/util/h7_util.h: byte order of the loads and stores, and the two CRCs
 * against published check values and a bit-at-a-time reference. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "h7_util.h"

static void test_le_loads(void **state)
{
    (void)state;
    const uint8_t b[7] = {0xA5, 0x11, 0x22, 0x33, 0x44, 0x55, 0x5A};
    assert_int_equal(h7_get_le16(b + 1), 0x2211u);
    assert_int_equal(h7_get_le16(b), 0x11A5u);
    assert_int_equal(h7_get_le32(b + 1), 0x44332211u); /* unaligned */
    assert_int_equal(h7_get_le32(b + 3), 0x5A554433u);
    assert_int_equal(h7_get_le32(b), 0x332211A5u);
}

static void test_le_stores(void **state)
{
    (void)state;
    uint8_t b[8];
    memset(b, 0xEE, sizeof b);
    h7_put_le32(b + 1, 0x44332211u); /* unaligned, neighbours untouched */
    const uint8_t want32[8] = {0xEE, 0x11, 0x22, 0x33, 0x44, 0xEE, 0xEE, 0xEE};
    assert_memory_equal(b, want32, sizeof b);
    h7_put_le16(b + 5, 0x6655u);
    const uint8_t want16[8] = {0xEE, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0xEE};
    assert_memory_equal(b, want16, sizeof b);
    for (unsigned off = 0; off < 4; off++) {
        h7_put_le32(b + off, 0xDEADBEEFu ^ off);
        assert_int_equal(h7_get_le32(b + off), 0xDEADBEEFu ^ off);
        h7_put_le16(b + off, (uint16_t)(0xBEEFu ^ off));
        assert_int_equal(h7_get_le16(b + off), 0xBEEFu ^ off);
    }
}

/* One bit at a time, straight from the definition of a reflected CRC. */
static uint32_t crc_ref(uint32_t poly, uint32_t crc, const uint8_t *p, size_t len)
{
    crc = ~crc;
    while (len--) {
        crc ^= *p++;
        for (int k = 0; k < 8; k++) {
            crc = (crc & 1u) ? (crc >> 1) ^ poly : crc >> 1;
        }
    }
    return ~crc;
}

static void fill(uint8_t *p, size_t len, uint32_t x)
{
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (uint8_t)(x >> 24);
    }
}

static void test_crc32(void **state)
{
    (void)state;
    assert_int_equal(h7_crc32(0, "123456789", 9), 0xCBF43926u);
    assert_int_equal(h7_crc32(h7_crc32(0, "1234", 4), "56789", 5), 0xCBF43926u);
    assert_int_equal(h7_crc32(0, "", 0), 0u);
    uint8_t d[300];
    fill(d, sizeof d, 7);
    for (size_t n = 0; n <= sizeof d; n += 13) {
        assert_int_equal(h7_crc32(0x1234u, d, n), crc_ref(0xEDB88320u, 0x1234u, d, n));
    }
}

static void test_crc32c(void **state)
{
    (void)state;
    assert_int_equal(h7_crc32c(0, "123456789", 9), 0xE3069283u);
    assert_int_equal(h7_crc32c(h7_crc32c(0, "1234", 4), "56789", 5), 0xE3069283u);
    /* RFC 3720 B.4: 32 bytes of zeros, of ones */
    uint8_t v[32];
    memset(v, 0x00, sizeof v);
    assert_int_equal(h7_crc32c(0, v, sizeof v), 0x8A9136AAu);
    memset(v, 0xFF, sizeof v);
    assert_int_equal(h7_crc32c(0, v, sizeof v), 0x62A8AB43u);
    uint8_t d[300];
    fill(d, sizeof d, 11);
    for (size_t n = 0; n <= sizeof d; n += 13) {
        assert_int_equal(h7_crc32c(0x1234u, d, n), crc_ref(0x82F63B78u, 0x1234u, d, n));
    }
}

/* Why the CRC command uses CRC-32C: bytes followed by their own CRC-32 (an
 * image record, a DFU suffix) have one CRC-32 whatever they are. */
static void test_crc32_residue(void **state)
{
    (void)state;
    uint8_t a[64], b[64];
    fill(a, sizeof a, 1);
    fill(b, sizeof b, 2);
    h7_put_le32(a + 60, h7_crc32(0, a, 60));
    h7_put_le32(b + 60, h7_crc32(0, b, 60));
    assert_int_equal(h7_crc32(0, a, sizeof a), h7_crc32(0, b, sizeof b));
    assert_int_not_equal(h7_crc32c(0, a, sizeof a), h7_crc32c(0, b, sizeof b));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_le_loads),      cmocka_unit_test(test_le_stores),
        cmocka_unit_test(test_crc32),         cmocka_unit_test(test_crc32c),
        cmocka_unit_test(test_crc32_residue),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
