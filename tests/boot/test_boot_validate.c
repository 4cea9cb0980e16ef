/*
 * boot_validate on the flash model: the good image, every failure reason,
 * ECC errors, and a power cut at every step of a header-last update.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "boot.h"
#include "boot_test_util.h"
#include "sim_flash.h"

static flash_dev_t g_dev;

/* Program img into a fresh flash and validate the slot. */
static boot_validate_t check_img(const test_img_t *img, boot_image_info_t *info)
{
    sim_flash_t *f = sim_flash_new(NULL);
    assert_non_null(f);
    assert_int_equal(img_program(f, img), FLASH_OK);
    g_dev = sim_flash_dev(f);
    boot_validate_t v = boot_validate(&g_dev, SLOT, info);
    sim_flash_free(f);
    return v;
}

static void test_crc32_check_value(void **state)
{
    (void)state;
    assert_int_equal(h7_crc32(0, "123456789", 9), 0xCBF43926u);
    /* Chaining equals one pass. */
    assert_int_equal(h7_crc32(h7_crc32(0, "1234", 4), "56789", 5), 0xCBF43926u);
    assert_int_equal(h7_crc32(0, "", 0), 0u);
}

static void test_header_layout(void **state)
{
    (void)state;
    boot_image_header_t h = {
        .magic = BOOT_HDR_MAGIC,
        .hdr_version = 2,
        .hdr_size = 64,
        .version = {2, 7, 0x1234, 0xA1B2C3D4u},
        .load_addr = 0x08020000u,
        .image_size = 0x00012340u,
        .device_id = 0x450,
        .vector_offset = 0,
        .flags = 0,
        .body_crc = 0xDEADBEEFu,
    };
    uint8_t raw[BOOT_HDR_SIZE];
    uint32_t crc = boot_header_encode(&h, raw);
    static const uint8_t expect_start[] = {
        'H',  '7',  'I',  'M',  2,    0,    64,   0,    2,    7,    0x34, 0x12, 0xD4, 0xC3,
        0xB2, 0xA1, 0x00, 0x00, 0x02, 0x08, 0x40, 0x23, 0x01, 0x00, 0x50, 0x04, 0,    0,
        0x00, 0x00, 0,    0,    0,    0,    0,    0,    0xEF, 0xBE, 0xAD, 0xDE,
    };
    assert_memory_equal(raw, expect_start, sizeof expect_start);
    for (unsigned i = BOOT_HDR_OFF_RESERVED; i < BOOT_HDR_CRC_OFFSET; i++) {
        assert_int_equal(raw[i], 0);
    }
    assert_int_equal(crc, h7_crc32(0, raw, 60));
    assert_int_equal(raw[60] | raw[61] << 8 | raw[62] << 16 | (uint32_t)raw[63] << 24, crc);

    boot_image_header_t d;
    boot_header_decode(raw, &d);
    assert_int_equal(d.magic, h.magic);
    assert_int_equal(d.version.major, 2);
    assert_int_equal(d.version.minor, 7);
    assert_int_equal(d.version.patch, 0x1234);
    assert_int_equal(d.version.build, 0xA1B2C3D4u);
    assert_int_equal(d.image_size, h.image_size);
    assert_int_equal(d.body_crc, h.body_crc);
    assert_int_equal(d.hdr_crc, crc);
    assert_int_equal(BOOT_HDR_SIZE % WORD, 0);
}

static void test_slot_size(void **state)
{
    (void)state;
    const flash_map_t *m = flash_map_stm32h743();
    /* Sectors 1..14: sector 15 is the record area (RM0433 4.3.4, Table 8). */
    assert_int_equal(boot_slot_size(m, 0x08020000u), 14u * 128u * 1024u);
    assert_int_equal(boot_slot_size(m, 0x08020000u), BOOT_APP_SLOT_SIZE);
    assert_int_equal(boot_slot_size(m, 0x08100000u), 7u * 128u * 1024u);
    assert_int_equal(boot_slot_size(m, 0x08000000u), 0); /* bootloader's sector */
    assert_int_equal(boot_slot_size(m, 0x08020400u), 0); /* not a sector start */
    assert_int_equal(boot_slot_size(m, 0x081E0000u), 0); /* the record area */
    assert_int_equal(boot_slot_size(m, 0x08200000u), 0); /* past the flash */
    assert_int_equal(boot_record_area(m), BOOT_REC_AREA_ADDR);
    assert_int_equal(m->sector_size, BOOT_REC_AREA_SIZE);
    assert_int_equal(BOOT_REC_COUNT, 2048);
}

static void test_valid_image(void **state)
{
    (void)state;
    test_img_t img;
    img_make(&img, 4096, 7);
    boot_image_info_t info;
    assert_int_equal(check_img(&img, &info), BOOT_VALID);
    assert_int_equal(info.slot, SLOT);
    assert_int_equal(info.slot_size, 14u * 128u * 1024u);
    assert_int_equal(info.record, REC_AREA);
    assert_int_equal(info.vector_table, BODY);
    assert_int_equal(info.initial_sp, STACK_TOP);
    assert_int_equal(info.reset_vector, (BODY + 0x300u) | 1u);
    assert_int_equal(info.body_crc, img.h.body_crc);
    assert_int_equal(info.hdr.version.build, 7);
    assert_int_equal(info.hdr.image_size, 4096);
    /* NULL info is allowed. */
    sim_flash_t *f = sim_flash_new(NULL);
    assert_int_equal(img_program(f, &img), FLASH_OK);
    g_dev = sim_flash_dev(f);
    assert_int_equal(boot_validate(&g_dev, SLOT, NULL), BOOT_VALID);
    sim_flash_free(f);
    img_free(&img);
}

static void test_erased_slot(void **state)
{
    (void)state;
    sim_flash_t *f = sim_flash_new(NULL);
    g_dev = sim_flash_dev(f);
    boot_image_info_t info;
    assert_int_equal(boot_validate(&g_dev, SLOT, &info), BOOT_ERR_NO_IMAGE);
    /* Body present, record never written: still nothing. */
    test_img_t img;
    img_make(&img, 2048, 3);
    assert_int_equal(prog_bytes(f, BODY, img.body, img.size), FLASH_OK);
    assert_int_equal(boot_validate(&g_dev, SLOT, &info), BOOT_ERR_NO_IMAGE);
    sim_flash_free(f);
    img_free(&img);
}

static void test_bad_magic(void **state)
{
    (void)state;
    test_img_t img;
    img_make(&img, 1024, 4);
    img.h.magic = 0x4D493749u; /* "I7IM" */
    img_reencode(&img);
    assert_int_equal(check_img(&img, NULL), BOOT_ERR_BAD_MAGIC);
    img.h.magic = 0;
    img_reencode(&img);
    assert_int_equal(check_img(&img, NULL), BOOT_ERR_BAD_MAGIC);
    img_free(&img);
}

static void test_header_format(void **state)
{
    (void)state;
    test_img_t img;
    img_make(&img, 1024, 5);
    img.h.hdr_version = 1; /* the header-at-the-slot layout */
    img_reencode(&img);
    assert_int_equal(check_img(&img, NULL), BOOT_ERR_HEADER_FORMAT);
    img.h.hdr_version = BOOT_HDR_VERSION;
    img.h.hdr_size = 128;
    img_reencode(&img);
    assert_int_equal(check_img(&img, NULL), BOOT_ERR_HEADER_FORMAT);
    img.h.hdr_size = BOOT_HDR_SIZE;
    img.h.flags = 1;
    img_reencode(&img);
    assert_int_equal(check_img(&img, NULL), BOOT_ERR_HEADER_FORMAT);
    img.h.flags = 0;
    img_reencode(&img);
    assert_int_equal(check_img(&img, NULL), BOOT_VALID);
    img_free(&img);
}

static void test_header_crc(void **state)
{
    (void)state;
    test_img_t img;
    img_make(&img, 1024, 6);
    /* Any flipped bit in the covered bytes, including reserved ones. */
    static const unsigned offs[] = {BOOT_HDR_OFF_MAJOR, BOOT_HDR_OFF_SIZE, BOOT_HDR_OFF_BODY_CRC,
                                    BOOT_HDR_OFF_RESERVED + 3, BOOT_HDR_CRC_OFFSET};
    for (unsigned i = 0; i < sizeof offs / sizeof offs[0]; i++) {
        img_reencode(&img);
        img.hdr[offs[i]] ^= 0x10;
        assert_int_equal(check_img(&img, NULL), BOOT_ERR_HEADER_CRC);
    }
    img_free(&img);
}

static void test_wrong_device(void **state)
{
    (void)state;
    test_img_t img;
    img_make(&img, 1024, 8);
    static const uint32_t ids[] = {0x451, 0x483, 0x480, 0x1450, 0};
    for (unsigned i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        img.h.device_id = ids[i];
        img_reencode(&img);
        boot_image_info_t info;
        assert_int_equal(check_img(&img, &info), BOOT_ERR_WRONG_DEVICE);
        assert_int_equal(info.hdr.device_id, ids[i]);
    }
    img_free(&img);
}

static void test_bad_address(void **state)
{
    (void)state;
    test_img_t img;
    img_make(&img, 1024, 9);
    img.h.load_addr = 0x08000000u;
    img_reencode(&img);
    assert_int_equal(check_img(&img, NULL), BOOT_ERR_BAD_ADDRESS);
    img.h.load_addr = SLOT;
    img.h.vector_offset = 0x400; /* the v1 layout */
    img_reencode(&img);
    assert_int_equal(check_img(&img, NULL), BOOT_ERR_BAD_ADDRESS);
    img_free(&img);
}

static void test_size_out_of_slot(void **state)
{
    (void)state;
    test_img_t img;
    img_make(&img, 1024, 10);
    const uint32_t max = BOOT_APP_SLOT_SIZE;
    static const uint32_t sizes[] = {0, 4, BOOT_APP_SLOT_SIZE + 1u, 15u * 128u * 1024u,
                                     0xFFFFFFFFu};
    for (unsigned i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        img.h.image_size = sizes[i];
        img_reencode(&img);
        assert_int_equal(check_img(&img, NULL), BOOT_ERR_SIZE);
    }
    /* The largest legal size is only a CRC question, not a size one. */
    img.h.image_size = max;
    img_reencode(&img);
    assert_int_equal(check_img(&img, NULL), BOOT_ERR_BODY_CRC);
    img_free(&img);
}

static void test_max_size_image(void **state)
{
    (void)state;
    test_img_t img;
    img_make(&img, BOOT_APP_SLOT_SIZE, 11);
    boot_image_info_t info;
    assert_int_equal(check_img(&img, &info), BOOT_VALID);
    assert_int_equal(info.hdr.image_size, BOOT_APP_SLOT_SIZE);
    img_free(&img);
}

static void test_body_crc(void **state)
{
    (void)state;
    test_img_t img;
    img_make(&img, 2048, 12);
    static const uint32_t offs[] = {8, 100, 1024, 2047};
    for (unsigned i = 0; i < sizeof offs / sizeof offs[0]; i++) {
        img.body[offs[i]] ^= 0x01;
        boot_image_info_t info;
        assert_int_equal(check_img(&img, &info), BOOT_ERR_BODY_CRC);
        assert_int_not_equal(info.body_crc, img.h.body_crc);
        img.body[offs[i]] ^= 0x01;
    }
    assert_int_equal(check_img(&img, NULL), BOOT_VALID);
    img_free(&img);
}

static void test_vector_sp(void **state)
{
    (void)state;
    static const struct {
        uint32_t sp;
        boot_validate_t want;
    } cases[] = {
        {0x20020000u, BOOT_VALID},         {0x24080000u, BOOT_VALID},
        {0x20010000u, BOOT_VALID},         {0x24000100u, BOOT_VALID},
        {0x20000000u, BOOT_ERR_VECTOR_SP}, {0x20020004u, BOOT_ERR_VECTOR_SP},
        {0x24000000u, BOOT_ERR_VECTOR_SP}, {0x24080004u, BOOT_ERR_VECTOR_SP},
        {0x2001FFFEu, BOOT_ERR_VECTOR_SP}, {0x30000000u, BOOT_ERR_VECTOR_SP},
        {0xFFFFFFFFu, BOOT_ERR_VECTOR_SP}, {0x08020000u, BOOT_ERR_VECTOR_SP},
        {0x00000000u, BOOT_ERR_VECTOR_SP},
    };
    test_img_t img;
    img_make(&img, 2048, 13);
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        h7_put_le32(img.body, cases[i].sp);
        img_restamp(&img);
        boot_image_info_t info;
        assert_int_equal(check_img(&img, &info), cases[i].want);
        assert_int_equal(info.initial_sp, cases[i].sp);
    }
    img_free(&img);
}

static void test_vector_reset(void **state)
{
    (void)state;
    static const struct {
        uint32_t reset;
        boot_validate_t want;
    } cases[] = {
        {(BODY + 0x40u) | 1u, BOOT_VALID},            /* first word after the core vectors */
        {(BODY + 2046u) | 1u, BOOT_VALID},            /* last halfword of the body */
        {BODY + 0x300u, BOOT_ERR_VECTOR_RESET},       /* not Thumb */
        {(BODY + 0x3Cu) | 1u, BOOT_ERR_VECTOR_RESET}, /* inside the core vectors */
        {(BODY + 2048u) | 1u, BOOT_ERR_VECTOR_RESET}, /* just past the body */
        {0x08000101u, BOOT_ERR_VECTOR_RESET},         /* the bootloader */
        {(SLOT + 0x20u) | 1u, BOOT_ERR_VECTOR_RESET}, /* the vector table */
        {(REC_AREA + 0x41u), BOOT_ERR_VECTOR_RESET},  /* the record area */
        {0xFFFFFFFFu, BOOT_ERR_VECTOR_RESET},         /* erased */
        {0x1FF09801u, BOOT_ERR_VECTOR_RESET},         /* ST ROM */
    };
    test_img_t img;
    img_make(&img, 2048, 14);
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        h7_put_le32(img.body + 4, cases[i].reset);
        img_restamp(&img);
        assert_int_equal(check_img(&img, NULL), cases[i].want);
    }
    img_free(&img);
}

static void test_bad_slot(void **state)
{
    (void)state;
    sim_flash_t *f = sim_flash_new(NULL);
    g_dev = sim_flash_dev(f);
    assert_int_equal(boot_validate(&g_dev, 0x08000000u, NULL), BOOT_ERR_SLOT);
    assert_int_equal(boot_validate(&g_dev, 0x08020400u, NULL), BOOT_ERR_SLOT);
    assert_int_equal(boot_validate(&g_dev, REC_AREA, NULL), BOOT_ERR_SLOT);
    assert_int_equal(boot_validate(&g_dev, 0x00000000u, NULL), BOOT_ERR_SLOT);
    assert_int_equal(boot_validate(NULL, SLOT, NULL), BOOT_ERR_SLOT);
    sim_flash_free(f);
}

/* A record with only one of its two flash words programmed is never valid,
 * and the older record before it is not used instead (no fallback). */
static void test_partial_header(void **state)
{
    (void)state;
    test_img_t img;
    img_make(&img, 1024, 15);
    const uint32_t rec = REC_AREA + 3u * BOOT_REC_SIZE;
    for (unsigned w = 0; w < 2; w++) {
        sim_flash_t *f = sim_flash_new(NULL);
        /* records 0..2: this very image, valid */
        for (unsigned i = 0; i < 3; i++) {
            assert_int_equal(prog_bytes(f, REC_AREA + i * BOOT_REC_SIZE, img.hdr, BOOT_HDR_SIZE),
                             FLASH_OK);
        }
        assert_int_equal(prog_bytes(f, BODY, img.body, img.size), FLASH_OK);
        g_dev = sim_flash_dev(f);
        assert_int_equal(boot_validate(&g_dev, SLOT, NULL), BOOT_VALID);
        assert_int_equal(sim_flash_program_word(f, rec + w * WORD, img.hdr + w * WORD), FLASH_OK);
        boot_image_info_t info;
        boot_validate_t v = boot_validate(&g_dev, SLOT, &info);
        assert_int_equal(v, w == 0 ? BOOT_ERR_HEADER_CRC : BOOT_ERR_BAD_MAGIC);
        assert_int_equal(info.record, rec);
        /* Completing it makes it valid. */
        assert_int_equal(sim_flash_program_word(f, rec + (1 - w) * WORD, img.hdr + (1 - w) * WORD),
                         FLASH_OK);
        assert_int_equal(boot_validate(&g_dev, SLOT, &info), BOOT_VALID);
        assert_int_equal(info.record, rec);
        sim_flash_free(f);
    }
    img_free(&img);
}

/* The newest record is the last record slot that is not fully erased. */
static void test_newest_record(void **state)
{
    (void)state;
    test_img_t img;
    img_make(&img, 2048, 19);
    sim_flash_t *f = sim_flash_new(NULL);
    g_dev = sim_flash_dev(f);
    assert_int_equal(prog_bytes(f, BODY, img.body, img.size), FLASH_OK);
    boot_image_info_t info;
    static const unsigned index[] = {0, 1, 2, 9, 2047};
    for (unsigned k = 0; k < sizeof index / sizeof index[0]; k++) {
        img.h.version = (boot_image_version_t){(uint8_t)(k + 1), 0, 0, 0};
        img_reencode(&img);
        uint32_t rec = REC_AREA + index[k] * BOOT_REC_SIZE;
        assert_int_equal(prog_bytes(f, rec, img.hdr, BOOT_HDR_SIZE), FLASH_OK);
        assert_int_equal(boot_validate(&g_dev, SLOT, &info), BOOT_VALID);
        assert_int_equal(info.record, rec);
        assert_int_equal(info.hdr.version.major, k + 1);
    }
    /* A newest record for another body: the older ones do not count. */
    img.h.body_crc ^= 1u;
    img_reencode(&img);
    assert_int_equal(sim_flash_erase_sector(f, 15), FLASH_OK);
    assert_int_equal(boot_validate(&g_dev, SLOT, &info), BOOT_ERR_NO_IMAGE);
    assert_int_equal(info.record, 0);
    img_restamp(&img);
    assert_int_equal(prog_bytes(f, REC_AREA, img.hdr, BOOT_HDR_SIZE), FLASH_OK);
    img.h.body_crc ^= 1u;
    img_reencode(&img);
    assert_int_equal(prog_bytes(f, REC_AREA + BOOT_REC_SIZE, img.hdr, BOOT_HDR_SIZE), FLASH_OK);
    assert_int_equal(boot_validate(&g_dev, SLOT, &info), BOOT_ERR_BODY_CRC);
    sim_flash_free(f);
    img_free(&img);
}

/* A full area (2048 records): the last one counts; the area's sector erased
 * and the record written at its start (compaction) count the same. */
static void test_full_area(void **state)
{
    (void)state;
    test_img_t img;
    img_make(&img, 1024, 20);
    sim_flash_t *f = sim_flash_new(NULL);
    g_dev = sim_flash_dev(f);
    assert_int_equal(prog_bytes(f, BODY, img.body, img.size), FLASH_OK);
    for (unsigned i = 0; i < BOOT_REC_COUNT; i++) {
        img.h.version = (boot_image_version_t){1, 0, (uint16_t)i, 0};
        img_reencode(&img);
        assert_int_equal(prog_bytes(f, REC_AREA + i * BOOT_REC_SIZE, img.hdr, BOOT_HDR_SIZE),
                         FLASH_OK);
    }
    boot_image_info_t info;
    assert_int_equal(boot_validate(&g_dev, SLOT, &info), BOOT_VALID);
    assert_int_equal(info.record, REC_AREA + BOOT_REC_AREA_SIZE - BOOT_REC_SIZE);
    assert_int_equal(info.hdr.version.patch, BOOT_REC_COUNT - 1u);
    /* compaction: erase, then the record at the start */
    assert_int_equal(sim_flash_erase_sector(f, 15), FLASH_OK);
    assert_int_equal(boot_validate(&g_dev, SLOT, &info), BOOT_ERR_NO_IMAGE);
    assert_int_equal(prog_bytes(f, REC_AREA, img.hdr, BOOT_HDR_SIZE), FLASH_OK);
    assert_int_equal(boot_validate(&g_dev, SLOT, &info), BOOT_VALID);
    assert_int_equal(info.record, REC_AREA);
    sim_flash_free(f);
    img_free(&img);
}

/* Corrupt the ECC of the flash word at addr (program it twice, silicon policy). */
static void corrupt_word(sim_flash_t *f, uint32_t addr)
{
    uint8_t zeros[WORD] = {0};
    sim_flash_set_overwrite_policy(f, SIM_FLASH_OVERWRITE_CORRUPT);
    assert_int_equal(sim_flash_program_word(f, addr & ~(WORD - 1u), zeros), FLASH_OK);
    sim_flash_set_overwrite_policy(f, SIM_FLASH_OVERWRITE_REFUSE);
    assert_int_equal(sim_flash_word_state(f, addr), SIM_WORD_ECC_CORRUPT);
}

static void test_ecc_in_body(void **state)
{
    (void)state;
    test_img_t img;
    img_make(&img, 4096, 16);
    static const uint32_t offs[] = {0, 32, 2000, 4064};
    for (unsigned i = 0; i < sizeof offs / sizeof offs[0]; i++) {
        sim_flash_t *f = sim_flash_new(NULL);
        assert_int_equal(img_program(f, &img), FLASH_OK);
        corrupt_word(f, BODY + offs[i]);
        g_dev = sim_flash_dev(f);
        boot_image_info_t info;
        assert_int_equal(boot_validate(&g_dev, SLOT, &info), BOOT_ERR_READ);
        assert_int_equal(info.flash_status, FLASH_ERR_ECC);
        assert_true(info.fail_addr <= BODY + offs[i] && BODY + offs[i] < info.fail_addr + 64u);
        sim_flash_free(f);
    }
    img_free(&img);
}

static void test_ecc_in_header(void **state)
{
    (void)state;
    test_img_t img;
    img_make(&img, 1024, 17);
    for (unsigned w = 0; w < 2; w++) {
        sim_flash_t *f = sim_flash_new(NULL);
        assert_int_equal(img_program(f, &img), FLASH_OK);
        corrupt_word(f, REC_AREA + w * WORD);
        g_dev = sim_flash_dev(f);
        boot_image_info_t info;
        assert_int_equal(boot_validate(&g_dev, SLOT, &info), BOOT_ERR_READ);
        assert_int_equal(info.flash_status, FLASH_ERR_ECC);
        assert_int_equal(info.fail_addr, REC_AREA);
        /* An ECC-broken record slot after a good record: no image either. */
        uint8_t ones[WORD];
        memset(ones, 0x5A, sizeof ones);
        assert_int_equal(sim_flash_program_word(f, REC_AREA + BOOT_REC_SIZE + w * WORD, ones),
                         FLASH_OK);
        corrupt_word(f, REC_AREA + BOOT_REC_SIZE + w * WORD);
        assert_int_equal(boot_validate(&g_dev, SLOT, &info), BOOT_ERR_READ);
        assert_int_equal(info.fail_addr, REC_AREA + BOOT_REC_SIZE);
        sim_flash_free(f);
    }
    img_free(&img);
}

static void test_read_without_power(void **state)
{
    (void)state;
    test_img_t img;
    img_make(&img, 1024, 18);
    sim_flash_t *f = sim_flash_new(NULL);
    assert_int_equal(img_program(f, &img), FLASH_OK);
    sim_flash_power_off(f);
    g_dev = sim_flash_dev(f);
    boot_image_info_t info;
    assert_int_equal(boot_validate(&g_dev, SLOT, &info), BOOT_ERR_READ);
    assert_int_equal(info.flash_status, FLASH_ERR_POWER);
    sim_flash_power_on(f);
    assert_int_equal(boot_validate(&g_dev, SLOT, &info), BOOT_VALID);
    sim_flash_free(f);
    img_free(&img);
}

/* ---- power cut at every flash operation of an update ----
 *
 * The slot holds a valid v1 image (record 0). The update erases sector 1,
 * programs the v2 body word by word in address order, then appends the two
 * words of its record (record 1). For every
 * operation n and every phase, a fresh replay is cut there; after power comes
 * back, boot_validate may say VALID only when the slot holds, byte for byte,
 * the complete v1 image (cut before the erase changed anything) or the
 * complete v2 image (every word written).
 */

enum { SWEEP_BODY = 2048 };

static flash_status_t update(sim_flash_t *f, const test_img_t *v2)
{
    flash_status_t st = sim_flash_erase_sector(f, 1);
    return st != FLASH_OK ? st : img_program_at(f, v2, 1);
}

/* The body and the record at index, and no record after it. */
static bool slot_holds(sim_flash_t *f, const test_img_t *img, unsigned index)
{
    const uint8_t *raw = sim_flash_raw(f);
    uint32_t rec = REC_AREA + index * BOOT_REC_SIZE;
    for (uint32_t off = 0; off < img->size; off += WORD) {
        if (sim_flash_word_state(f, SLOT + off) != SIM_WORD_PROGRAMMED) {
            return false;
        }
    }
    return memcmp(raw + (SLOT - 0x08000000u), img->body, img->size) == 0 &&
           memcmp(raw + (rec - 0x08000000u), img->hdr, BOOT_HDR_SIZE) == 0 &&
           sim_flash_word_state(f, rec) == SIM_WORD_PROGRAMMED &&
           sim_flash_word_state(f, rec + WORD) == SIM_WORD_PROGRAMMED &&
           sim_flash_word_state(f, rec + BOOT_REC_SIZE) == SIM_WORD_ERASED &&
           sim_flash_word_state(f, rec + BOOT_REC_SIZE + WORD) == SIM_WORD_ERASED;
}

static void sweep(unsigned progress)
{
    test_img_t v1, v2;
    img_make(&v1, SWEEP_BODY, 101);
    img_make(&v2, SWEEP_BODY, 202);
    v2.h.version = (boot_image_version_t){2, 0, 0, 202};
    img_restamp(&v2);

    sim_flash_t *f = sim_flash_new(NULL);
    sim_flash_set_cut_progress(f, progress);
    g_dev = sim_flash_dev(f);

    /* Clean run: count the operations. */
    assert_int_equal(img_program(f, &v1), FLASH_OK);
    sim_flash_reset_stats(f);
    assert_int_equal(update(f, &v2), FLASH_OK);
    uint64_t ops = sim_flash_op_count(f);
    assert_int_equal(ops, 1u + SWEEP_BODY / WORD + 2u);

    static const sim_flash_phase_t phases[] = {SIM_FLASH_PHASE_BEFORE, SIM_FLASH_PHASE_DURING,
                                               SIM_FLASH_PHASE_AFTER};
    unsigned cuts = 0, valid_v1 = 0, valid_v2 = 0, invalid = 0;
    unsigned reasons[BOOT_VALIDATE_COUNT] = {0};
    for (uint64_t n = 1; n <= ops; n++) {
        for (unsigned p = 0; p < 3; p++) {
            /* Restore v1 (erase cleans any ECC damage of the last round). */
            sim_flash_power_on(f);
            assert_int_equal(sim_flash_erase_sector(f, 1), FLASH_OK);
            assert_int_equal(sim_flash_erase_sector(f, 15), FLASH_OK);
            assert_int_equal(img_program(f, &v1), FLASH_OK);
            sim_flash_reset_stats(f);
            sim_flash_cut_at(f, n, phases[p]);
            assert_int_equal(update(f, &v2), FLASH_ERR_POWER);
            assert_false(sim_flash_powered(f));
            sim_flash_power_on(f);
            cuts++;

            boot_image_info_t info;
            boot_validate_t v = boot_validate(&g_dev, SLOT, &info);
            reasons[v]++;
            bool is_v1 = slot_holds(f, &v1, 0), is_v2 = slot_holds(f, &v2, 1);
            if (v == BOOT_VALID) {
                if (!is_v1 && !is_v2) {
                    fail_msg("cut at op %llu phase %u: VALID but slot holds neither image",
                             (unsigned long long)n, p);
                }
                valid_v1 += is_v1;
                valid_v2 += is_v2;
                assert_int_equal(info.hdr.version.major, is_v1 ? 1 : 2);
            } else {
                invalid++;
                /* A complete image is never refused. */
                assert_false(is_v1 || is_v2);
            }
            /* Whatever validate said, the decision follows it. */
            boot_decision_t d = boot_decide(BOOT_REQ_START_APP, v);
            assert_int_equal(d.action, v == BOOT_VALID ? BOOT_START_APP : BOOT_STAY_IN_DFU);
        }
    }
    print_message("sweep (DURING progress %u/1000): %u ops, %u cuts: v1 valid %u, v2 valid %u, "
                  "invalid %u (no image %u, read error %u, bad magic %u, header crc %u, "
                  "body crc %u, other %u)\n",
                  progress, (unsigned)ops, cuts, valid_v1, valid_v2, invalid,
                  reasons[BOOT_ERR_NO_IMAGE], reasons[BOOT_ERR_READ], reasons[BOOT_ERR_BAD_MAGIC],
                  reasons[BOOT_ERR_HEADER_CRC], reasons[BOOT_ERR_BODY_CRC],
                  invalid - reasons[BOOT_ERR_NO_IMAGE] - reasons[BOOT_ERR_READ] -
                      reasons[BOOT_ERR_BAD_MAGIC] - reasons[BOOT_ERR_HEADER_CRC] -
                      reasons[BOOT_ERR_BODY_CRC]);
    assert_int_equal(cuts, 3u * ops);
    /* Exactly: BEFORE the erase keeps v1; AFTER the last header word gives v2. */
    assert_int_equal(valid_v1, 1);
    assert_int_equal(valid_v2, 1);
    assert_int_equal(invalid, cuts - 2u);

    sim_flash_free(f);
    img_free(&v1);
    img_free(&v2);
}

static void test_power_cut_every_point(void **state)
{
    (void)state;
    sweep(500);
}

static void test_power_cut_every_point_edges(void **state)
{
    (void)state;
    sweep(0);
    sweep(1000);
}

static void test_reason_names(void **state)
{
    (void)state;
    for (int a = 0; a < BOOT_VALIDATE_COUNT; a++) {
        const char *na = boot_validate_reason_name((boot_validate_t)a);
        assert_non_null(na);
        assert_true(strlen(na) > 0);
        assert_string_not_equal(na, "unknown");
        for (int b = 0; b < a; b++) {
            assert_string_not_equal(na, boot_validate_reason_name((boot_validate_t)b));
        }
    }
    assert_string_equal(boot_validate_reason_name(BOOT_VALIDATE_COUNT), "unknown");
    assert_string_equal(boot_validate_reason_name(BOOT_ERR_BODY_CRC), "bad body CRC");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32_check_value),
        cmocka_unit_test(test_header_layout),
        cmocka_unit_test(test_slot_size),
        cmocka_unit_test(test_valid_image),
        cmocka_unit_test(test_erased_slot),
        cmocka_unit_test(test_bad_magic),
        cmocka_unit_test(test_header_format),
        cmocka_unit_test(test_header_crc),
        cmocka_unit_test(test_wrong_device),
        cmocka_unit_test(test_bad_address),
        cmocka_unit_test(test_size_out_of_slot),
        cmocka_unit_test(test_max_size_image),
        cmocka_unit_test(test_body_crc),
        cmocka_unit_test(test_vector_sp),
        cmocka_unit_test(test_vector_reset),
        cmocka_unit_test(test_bad_slot),
        cmocka_unit_test(test_partial_header),
        cmocka_unit_test(test_newest_record),
        cmocka_unit_test(test_full_area),
        cmocka_unit_test(test_ecc_in_body),
        cmocka_unit_test(test_ecc_in_header),
        cmocka_unit_test(test_read_without_power),
        cmocka_unit_test(test_power_cut_every_point),
        cmocka_unit_test(test_power_cut_every_point_edges),
        cmocka_unit_test(test_reason_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
