/*
 * Fuzz target: the signed bootloader's parsing of untrusted flash (core/boot:
 * boot_sig_parse, the signature stage of boot_validate_key, the security
 * counter log of boot_counter_read / boot_counter_raise).
 *
 * Input: byte 0 = N (mod 9) counter log entries, then N * 32 bytes of the
 * log (the start of sector 14, 0x081C0000, in the signed flash map), then
 * h7dfu's stamped binary: the 64-byte record (at the record area's start),
 * then the slot's bytes (body and trailer, at most 16 KiB). Everything else
 * reads erased. The trusted key is the test key
 * tests/keys/test-signing-key.pem (corpus: images signed with it).
 *
 * Invariants (abort on violation):
 *   - parse(encode(parse(x))) == parse(x) for the trailer bytes at any offset;
 *   - VALID with the key only when the trailer parses, names the key, its
 *     counter is not below the stored one, and the same image is VALID for
 *     the unsigned policy;
 *   - the counter log read is stable, and a raise never lowers it;
 *   - no ASan / UBSan finding.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "boot_sig.h"
#include "fuzz_common.h"

#define SLOT_MAX 16384u

static const uint8_t test_key_point[BOOT_SIG_PUBKEY_LEN] = {
    0x04, 0x9d, 0xbf, 0xf8, 0x5e, 0x4d, 0xe1, 0xb3, 0xd5, 0xa8, 0xf2, 0xb2, 0xce,
    0xee, 0x1a, 0x50, 0x55, 0xcf, 0x84, 0x14, 0xb4, 0x50, 0x43, 0x6c, 0xa4, 0x29,
    0x7d, 0xc0, 0xec, 0x14, 0x11, 0x67, 0xc2, 0xe3, 0x3a, 0xe0, 0x6d, 0xdc, 0xa7,
    0xa0, 0xf6, 0x71, 0xf8, 0x5a, 0xd1, 0x07, 0x1a, 0xce, 0xa3, 0x92, 0x5b, 0x58,
    0x6a, 0x8c, 0x92, 0xf1, 0x15, 0xe4, 0xde, 0x2d, 0x31, 0xcb, 0x85, 0x08, 0xfb,
};

/* A sparse flash: the counter log's first entries (erased after them), one
 * record, the slot's first bytes. */
#define CTR_KEPT (16u * 32u)
typedef struct sparse {
    const flash_map_t *map;
    uint8_t ctr[CTR_KEPT];
    uint8_t rec[BOOT_REC_SIZE];
    uint8_t slot[SLOT_MAX];
} sparse_t;

static sparse_t g;

static uint8_t byte_at(uint32_t a)
{
    uint32_t ctr = boot_counter_area(g.map), area = boot_record_area(g.map);
    if (a >= ctr && a - ctr < CTR_KEPT) {
        return g.ctr[a - ctr];
    }
    if (a >= area && a - area < BOOT_REC_SIZE) {
        return g.rec[a - area];
    }
    if (a >= BOOT_APP_SLOT_ADDR && a - BOOT_APP_SLOT_ADDR < SLOT_MAX) {
        return g.slot[a - BOOT_APP_SLOT_ADDR];
    }
    return 0xFFu;
}

static flash_status_t sp_read(void *ctx, uint32_t addr, void *buf, size_t len)
{
    (void)ctx;
    if (len > UINT32_MAX || !flash_map_contains(g.map, addr, (uint32_t)len)) {
        return FLASH_ERR_ADDRESS;
    }
    uint8_t *o = buf;
    for (size_t i = 0; i < len; i++) {
        o[i] = byte_at(addr + (uint32_t)i);
    }
    return FLASH_OK;
}

static flash_status_t sp_program(void *ctx, uint32_t addr, const uint8_t *word)
{
    (void)ctx;
    uint32_t ctr = boot_counter_area(g.map);
    if (addr < ctr || addr - ctr >= CTR_KEPT || (addr - ctr) % 32u) {
        return FLASH_ERR_ADDRESS;
    }
    uint8_t *d = g.ctr + (addr - ctr);
    for (unsigned i = 0; i < 32u; i++) {
        if (d[i] != 0xFFu) {
            return FLASH_ERR_PROGRAM;
        }
    }
    memcpy(d, word, 32);
    return FLASH_OK;
}

static const flash_ops_t sp_ops = {.read = sp_read, .program_word = sp_program};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_reader_t r = fuzz_reader(data, size);
    g.map = flash_map_stm32h743_signed();
    memset(g.ctr, 0xFF, sizeof g.ctr);
    memset(g.slot, 0xFF, sizeof g.slot);
    unsigned n = fuzz_u8(&r) % 9u;
    fuzz_bytes(&r, g.ctr, n * 32u);
    fuzz_bytes(&r, g.rec, sizeof g.rec);
    size_t body = r.left < SLOT_MAX ? r.left : SLOT_MAX;
    memcpy(g.slot, r.p, body);

    /* The trailer parser on every 32-byte aligned window of the slot. */
    for (size_t off = 0; off + BOOT_SIG_SIZE <= body; off += 32u) {
        boot_sig_trailer_t t, t2;
        uint8_t enc[BOOT_SIG_SIZE];
        if (boot_sig_parse(g.slot + off, &t) == BOOT_VALID) {
            boot_sig_encode(&t, enc);
            FUZZ_CHECK(boot_sig_parse(enc, &t2) == BOOT_VALID);
            FUZZ_CHECK(memcmp(&t, &t2, sizeof t) == 0);
            FUZZ_CHECK(memcmp(enc, g.slot + off, BOOT_SIG_SIZE) == 0);
        }
    }

    flash_dev_t dev = {&sp_ops, NULL, g.map};
    boot_sig_key_t key;
    memcpy(key.point, test_key_point, sizeof key.point);
    boot_sig_key_id(key.point, key.id);
    boot_image_info_t info, plain;
    boot_validate_t v = boot_validate_key(&dev, BOOT_APP_SLOT_ADDR, &key, &info);
    boot_validate_t u = boot_validate_key(&dev, BOOT_APP_SLOT_ADDR, NULL, &plain);
    FUZZ_CHECK(v < BOOT_VALIDATE_COUNT && u < BOOT_VALIDATE_COUNT);
    if (v == BOOT_VALID) {
        FUZZ_CHECK(u == BOOT_VALID && info.has_sig);
        FUZZ_CHECK(memcmp(info.key_id, key.id, BOOT_SIG_KEY_ID_LEN) == 0);
        FUZZ_CHECK(info.security_counter >= info.stored_counter);
    }
    if (u != BOOT_VALID) {
        FUZZ_CHECK(v == u || v == BOOT_ERR_UNSIGNED || v == BOOT_ERR_SIG_FORMAT ||
                   v == BOOT_ERR_SIG_KEY || v == BOOT_ERR_READ);
    }

    uint32_t a, na, b, nb;
    FUZZ_CHECK(boot_counter_read(&dev, &a, &na) == FLASH_OK);
    FUZZ_CHECK(boot_counter_read(&dev, &b, &nb) == FLASH_OK && a == b && na == nb);
    uint32_t want = info.has_sig ? info.security_counter : a + 1u;
    flash_status_t st = boot_counter_raise(&dev, want);
    FUZZ_CHECK(boot_counter_read(&dev, &b, &nb) == FLASH_OK);
    FUZZ_CHECK(b >= a);
    if (st == FLASH_OK) {
        FUZZ_CHECK(b >= want);
    }
    return 0;
}
