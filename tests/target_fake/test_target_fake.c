/*
 * core/ is portable: its sources, unchanged, built against FAKE-1 (this
 * folder's h7_target.h: one bank of 16 KiB sectors at 0x10000000, 16-byte
 * words, a two-sector bootloader, one RAM window) instead of the STM32H743,
 * and run on an in-memory flash of that geometry: the map and its DfuSe
 * layout, the slot and the record area, an image downloaded through core/dfu
 * and validated by core/boot, the bootloader identity, the DFU defaults and
 * the hand-over to the chip's ROM.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bl_ident.h"
#include "boot.h"
#include "h7_util.h"
#include "dfu.h"
#include "h7_app.h"
#include "h7_target.h"

/* The build must have taken this folder's description, not the H743's. */
#if H7_TARGET_DEVICE_ID != 0x123u || H7_TARGET_FLASH_BASE != 0x10000000u
#error "test_target_fake is built against another target description"
#endif

#define BASE    H7_TARGET_FLASH_BASE
#define SECTOR  H7_TARGET_FLASH_SECTOR_SIZE
#define WORD    H7_TARGET_FLASH_WORD_SIZE
#define SIZE    (H7_TARGET_FLASH_SECTOR_SIZE * H7_TARGET_FLASH_SECTOR_COUNT)
#define RAM_TOP 0x30010000u /* the end of FAKE-1's one RAM window */

/* ---- an in-memory flash of FAKE-1's geometry (blocking operations) ---- */

typedef struct mem_flash {
    uint8_t mem[SIZE];
    unsigned erases, programs;
    flash_dev_t dev;
} mem_flash_t;

static flash_status_t mf_erase_sector(void *ctx, unsigned sector)
{
    mem_flash_t *f = ctx;
    if (sector >= H7_TARGET_FLASH_SECTOR_COUNT) {
        return FLASH_ERR_ADDRESS;
    }
    memset(&f->mem[sector * SECTOR], 0xFF, SECTOR);
    f->erases++;
    return FLASH_OK;
}

static flash_status_t mf_erase_bank(void *ctx, unsigned bank)
{
    mem_flash_t *f = ctx;
    if (bank != 0u) {
        return FLASH_ERR_ADDRESS;
    }
    memset(f->mem, 0xFF, SIZE);
    f->erases++;
    return FLASH_OK;
}

static flash_status_t mf_program_word(void *ctx, uint32_t addr, const uint8_t *word)
{
    mem_flash_t *f = ctx;
    if (addr % WORD != 0u || !flash_map_contains(f->dev.map, addr, WORD)) {
        return FLASH_ERR_ADDRESS;
    }
    uint8_t *p = &f->mem[addr - BASE];
    for (unsigned i = 0; i < WORD; i++) {
        if (p[i] != 0xFFu) {
            return FLASH_ERR_PROGRAM; /* once between erases */
        }
    }
    memcpy(p, word, WORD);
    f->programs++;
    return FLASH_OK;
}

static flash_status_t mf_read(void *ctx, uint32_t addr, void *buf, size_t len)
{
    mem_flash_t *f = ctx;
    if (!flash_map_contains(f->dev.map, addr, (uint32_t)len)) {
        return FLASH_ERR_ADDRESS;
    }
    memcpy(buf, &f->mem[addr - BASE], len);
    return FLASH_OK;
}

static bool mf_is_write_protected(void *ctx, unsigned sector)
{
    (void)ctx;
    (void)sector;
    return false;
}

static const flash_ops_t mf_ops = {
    .erase_sector = mf_erase_sector,
    .erase_bank = mf_erase_bank,
    .program_word = mf_program_word,
    .read = mf_read,
    .is_write_protected = mf_is_write_protected,
};

static mem_flash_t *mf_new(void)
{
    mem_flash_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    memset(f->mem, 0xFF, SIZE);
    f->dev = (flash_dev_t){&mf_ops, f, flash_map_fake()};
    return f;
}

/* ---- an application image for FAKE-1's slot ---- */

typedef struct img {
    uint8_t body[1024];
    uint8_t rec[BOOT_HDR_SIZE];
    boot_image_header_t h;
} img_t;

static void img_stamp(img_t *im)
{
    im->h.body_crc = h7_crc32(0, im->body, sizeof im->body);
    im->h.hdr_crc = boot_header_encode(&im->h, im->rec);
}

static void img_make(img_t *im, uint32_t sp, uint32_t device_id)
{
    for (unsigned i = 0; i < sizeof im->body; i++) {
        im->body[i] = (uint8_t)(i * 13u + 5u);
    }
    h7_put_le32(im->body, sp);
    h7_put_le32(im->body + 4, (BOOT_APP_SLOT_ADDR + 0x200u) | 1u);
    im->h = (boot_image_header_t){
        .magic = BOOT_HDR_MAGIC,
        .hdr_version = BOOT_HDR_VERSION,
        .hdr_size = BOOT_HDR_SIZE,
        .version = {2, 1, 7, 42},
        .load_addr = BOOT_APP_SLOT_ADDR,
        .image_size = sizeof im->body,
        .device_id = device_id,
        .vector_offset = BOOT_VECTOR_OFFSET,
    };
    img_stamp(im);
}

static void prog(mem_flash_t *f, uint32_t addr, const uint8_t *p, uint32_t len)
{
    for (uint32_t off = 0; off < len; off += WORD) {
        assert_int_equal(mf_program_word(f, addr + off, p + off), FLASH_OK);
    }
}

/* Body first, then its record at record slot index of the area. */
static void img_program(mem_flash_t *f, const img_t *im, unsigned index)
{
    prog(f, BOOT_APP_SLOT_ADDR, im->body, sizeof im->body);
    prog(f, BOOT_REC_AREA_ADDR + index * BOOT_REC_SIZE, im->rec, BOOT_HDR_SIZE);
}

/* ---- the map ---- */

static void test_fake_map_and_layout(void **state)
{
    (void)state;
    const flash_map_t *m = flash_map_fake();
    assert_int_equal(flash_map_size(m), 192u * 1024u);
    assert_int_equal(flash_map_sector_of(m, 0x10000000u), 0);
    assert_int_equal(flash_map_sector_of(m, 0x10007FFFu), 1);
    assert_int_equal(flash_map_sector_of(m, 0x10008000u), 2);
    assert_int_equal(flash_map_sector_of(m, 0x1002FFFFu), 11);
    assert_int_equal(flash_map_sector_of(m, 0x10030000u), -1);
    assert_int_equal(flash_map_sector_of(m, 0x08020000u), -1); /* the H743's slot */
    assert_true(flash_map_is_reserved(m, 0));
    assert_true(flash_map_is_reserved(m, 1));
    assert_false(flash_map_is_reserved(m, 2));
    assert_false(flash_map_is_reserved(m, 11));

    char buf[128];
    size_t n = flash_map_dfuse_layout(m, buf, sizeof buf);
    assert_string_equal(buf, "@Fake Flash  /0x1002C000/01*016Kg/0x10008000/09*016Kg"
                             "/0x10000000/02*016Ka");
    assert_int_equal(n, strlen(buf));
}

static void test_fake_slot_and_record_area(void **state)
{
    (void)state;
    const flash_map_t *m = flash_map_fake();
    assert_int_equal(BOOT_APP_SLOT_ADDR, 0x10008000u);
    assert_int_equal(boot_slot_size(m, BOOT_APP_SLOT_ADDR), BOOT_APP_SLOT_SIZE);
    assert_int_equal(boot_slot_size(m, BOOT_APP_SLOT_ADDR), 9u * SECTOR);
    assert_int_equal(boot_slot_size(m, BASE + SECTOR), 0);      /* the bootloader's */
    assert_int_equal(boot_slot_size(m, BOOT_REC_AREA_ADDR), 0); /* the record area */
    assert_int_equal(boot_slot_size(m, 0x08020000u), 0);        /* the H743's slot */
    assert_int_equal(boot_record_area(m), BOOT_REC_AREA_ADDR);
    assert_int_equal(BOOT_REC_AREA_ADDR, 0x1002C000u);
    assert_int_equal(BOOT_REC_COUNT, 256);
}

/* ---- validation ---- */

static void test_fake_validate(void **state)
{
    (void)state;
    mem_flash_t *f = mf_new();
    boot_image_info_t info;
    assert_int_equal(boot_validate(&f->dev, BOOT_APP_SLOT_ADDR, &info), BOOT_ERR_NO_IMAGE);

    img_t *im = calloc(1, sizeof *im);
    assert_non_null(im);
    img_make(im, RAM_TOP, BOOT_DEVICE_ID);
    img_program(f, im, 0);
    assert_int_equal(boot_validate(&f->dev, BOOT_APP_SLOT_ADDR, &info), BOOT_VALID);
    assert_int_equal(info.slot_size, BOOT_APP_SLOT_SIZE);
    assert_int_equal(info.record, BOOT_REC_AREA_ADDR);
    assert_int_equal(info.vector_table, BOOT_APP_SLOT_ADDR);
    assert_int_equal(info.initial_sp, RAM_TOP);
    assert_int_equal(info.hdr.device_id, 0x123u);
    boot_decision_t d = boot_decide(BOOT_REQ_NONE, BOOT_VALID);
    assert_int_equal(d.action, BOOT_START_APP);

    /* A second record: the newest one counts. */
    im->h.version.build = 43;
    img_stamp(im);
    prog(f, BOOT_REC_AREA_ADDR + BOOT_REC_SIZE, im->rec, BOOT_HDR_SIZE);
    assert_int_equal(boot_validate(&f->dev, BOOT_APP_SLOT_ADDR, &info), BOOT_VALID);
    assert_int_equal(info.record, BOOT_REC_AREA_ADDR + BOOT_REC_SIZE);
    assert_int_equal(info.hdr.version.build, 43);
    free(im);
    free(f);
}

static void test_fake_validate_refuses_other_chips(void **state)
{
    (void)state;
    img_t *im = calloc(1, sizeof *im);
    assert_non_null(im);
    boot_image_info_t info;

    /* Stamped for the STM32H743 (device 0x450). */
    mem_flash_t *f = mf_new();
    img_make(im, RAM_TOP, 0x450u);
    img_program(f, im, 0);
    assert_int_equal(boot_validate(&f->dev, BOOT_APP_SLOT_ADDR, &info), BOOT_ERR_WRONG_DEVICE);
    free(f);

    /* Its stack in the H743's DTCM: not RAM on FAKE-1. */
    f = mf_new();
    img_make(im, 0x20020000u, BOOT_DEVICE_ID);
    img_program(f, im, 0);
    assert_int_equal(boot_validate(&f->dev, BOOT_APP_SLOT_ADDR, &info), BOOT_ERR_VECTOR_SP);
    free(f);
    free(im);

    assert_true(boot_vector_sp_ok(RAM_TOP));
    assert_true(boot_vector_sp_ok(0x30000004u));
    assert_false(boot_vector_sp_ok(0x30000000u));
    assert_false(boot_vector_sp_ok(RAM_TOP + 4u));
    assert_false(boot_vector_sp_ok(0x24080000u)); /* the H743's AXI SRAM top */
}

/* ---- DFU: an image downloaded into FAKE-1's slot, then started ---- */

#define XFER 256u
#define OUT  (USB_DIR_OUT | USB_TYPE_CLASS | USB_RECIP_INTERFACE)
#define IN   (USB_DIR_IN | USB_TYPE_CLASS | USB_RECIP_INTERFACE)

static uint8_t status_state(dfu_t *d, uint8_t *status)
{
    uint8_t b[DFU_STATUS_LEN] = {0};
    usb_setup_t s = {.bmRequestType = IN, .bRequest = DFU_REQ_GETSTATUS, .wLength = 6};
    assert_int_equal(dfu_control(d, &s, b, sizeof b), 6);
    dfu_control_done(d, &s);
    *status = b[0];
    return b[4];
}

/* DNLOAD, then GETSTATUS until the device is no longer busy. */
static uint8_t dnload(dfu_t *d, uint16_t block, const uint8_t *data, uint16_t len)
{
    uint8_t tmp[XFER];
    memcpy(tmp, data, len);
    usb_setup_t s = {
        .bmRequestType = OUT, .bRequest = DFU_REQ_DNLOAD, .wValue = block, .wLength = len};
    assert_int_equal(dfu_control(d, &s, tmp, len), 0);
    dfu_control_done(d, &s);
    uint8_t status, state;
    do {
        state = status_state(d, &status);
    } while (state == DFU_STATE_DNBUSY);
    return status;
}

static uint8_t command(dfu_t *d, uint8_t cmd, uint32_t addr)
{
    uint8_t b[5] = {cmd};
    h7_put_le32(b + 1, addr);
    return dnload(d, 0, b, sizeof b);
}

static void test_fake_dfu_download_then_validate(void **state)
{
    (void)state;
    mem_flash_t *f = mf_new();
    dfu_t *d = calloc(1, sizeof *d);
    uint8_t *bufs = calloc(2, XFER);
    assert_non_null(d);
    assert_non_null(bufs);
    dfu_config_t cfg = {.flash = &f->dev, .transfer_size = XFER, .bufs = bufs, .buf_count = 2};
    assert_true(dfu_init(d, &cfg));
    /* The target's typical times (h7_target.h), not the H743's. */
    assert_int_equal(d->cfg.erase_sector_ms, 40);
    assert_int_equal(d->cfg.program_word_us, 20);
    assert_int_equal(d->cfg.crc_ns_per_byte, 50);
    char alt[128];
    assert_true(dfu_alt_string(d, 0, alt, sizeof alt) > 0);
    assert_string_equal(alt, "@Fake Flash  /0x1002C000/01*016Kg/0x10008000/09*016Kg"
                             "/0x10000000/02*016Ka");

    /* Sector 1 is the bootloader's on FAKE-1 (on the H743 it is the slot). */
    assert_int_equal(command(d, DFUSE_CMD_ERASE, BASE + SECTOR), DFU_STATUS_ERR_TARGET);
    assert_int_equal(f->erases, 0);
    usb_setup_t clr = {.bmRequestType = OUT, .bRequest = DFU_REQ_CLRSTATUS};
    assert_int_equal(dfu_control(d, &clr, NULL, 0), 0);
    dfu_control_done(d, &clr);

    img_t *im = calloc(1, sizeof *im);
    assert_non_null(im);
    img_make(im, RAM_TOP, BOOT_DEVICE_ID);
    assert_int_equal(command(d, DFUSE_CMD_ERASE, BOOT_APP_SLOT_ADDR), DFU_STATUS_OK);
    assert_int_equal(command(d, DFUSE_CMD_ERASE, BOOT_REC_AREA_ADDR), DFU_STATUS_OK);
    assert_int_equal(f->erases, 2);
    assert_int_equal(command(d, DFUSE_CMD_SET_ADDRESS, BOOT_APP_SLOT_ADDR), DFU_STATUS_OK);
    for (uint16_t b = 0; b < sizeof im->body / XFER; b++) {
        assert_int_equal(dnload(d, (uint16_t)(2u + b), im->body + b * XFER, XFER), DFU_STATUS_OK);
    }
    boot_image_info_t info;
    assert_int_equal(boot_validate(&f->dev, BOOT_APP_SLOT_ADDR, &info), BOOT_ERR_NO_IMAGE);
    assert_int_equal(command(d, DFUSE_CMD_SET_ADDRESS, BOOT_REC_AREA_ADDR), DFU_STATUS_OK);
    assert_int_equal(dnload(d, 2, im->rec, BOOT_HDR_SIZE), DFU_STATUS_OK);
    assert_int_equal(f->programs, (sizeof im->body + BOOT_HDR_SIZE) / WORD);

    assert_int_equal(boot_validate(&f->dev, BOOT_APP_SLOT_ADDR, &info), BOOT_VALID);
    assert_int_equal(info.hdr.version.build, 42);
    free(im);
    free(bufs);
    free(d);
    free(f);
}

/* ---- the bootloader identity, after FAKE-1's vector table ---- */

static void test_fake_bl_ident(void **state)
{
    (void)state;
    static uint8_t bl[H7_TARGET_BL_SIZE];
    memset(bl, 0xFF, sizeof bl);
    h7_put_le32(bl, RAM_TOP);
    h7_put_le32(bl + 4, (H7_BL_BASE + 0x101u) | 1u);
    assert_int_equal(h7_bl_check(bl, sizeof bl, NULL), H7_BL_NO_IDENT);

    const uint32_t used = 0x800u;
    uint8_t *p = bl + 0xC0; /* FAKE-1: 48 vectors */
    h7_put_le32(p, H7_BL_IDENT_MAGIC);
    p[4] = (uint8_t)BOOT_DEVICE_ID;
    p[5] = (uint8_t)(BOOT_DEVICE_ID >> 8);
    p[6] = H7_BL_VERSION_MAJOR;
    p[7] = H7_BL_VERSION_MINOR;
    h7_put_le32(p + 8, 0x10000000u);
    h7_put_le32(p + 12, used);
    h7_bl_ident_t id;
    assert_int_equal(h7_bl_check(bl, sizeof bl, &id), H7_BL_OK);
    assert_int_equal(id.device_id, 0x123u);

    h7_put_le32(p + 12, H7_TARGET_BL_SIZE + WORD); /* past the two sectors */
    assert_int_equal(h7_bl_check(bl, sizeof bl, NULL), H7_BL_BAD_SIZE);
    h7_put_le32(p + 12, used);
    h7_put_le32(p + 8, 0x08000000u); /* the H743's base */
    assert_int_equal(h7_bl_check(bl, sizeof bl, NULL), H7_BL_BAD_BASE);

    assert_string_equal(h7_bl_check_name(H7_BL_NO_IDENT),
                        "no h7dfu bootloader identity (\"H7BL\" at offset 0xC0)");
    assert_string_equal(h7_bl_check_name(H7_BL_BAD_BASE), "not linked for 0x10000000");
    assert_string_equal(h7_bl_check_name(H7_BL_BAD_SIZE),
                        "its size is past sectors 0..1 or past the image");
}

/* ---- the hand-over to the chip's ROM bootloader ---- */

static uint32_t g_jump_addr;
static unsigned g_resets;

static void fake_jump(uint32_t vector_table)
{
    g_jump_addr = vector_table;
}

static void fake_reset(void)
{
    g_resets++;
}

static void test_fake_rom_hand_over(void **state)
{
    (void)state;
    assert_int_equal(DFU_ROM_BOOT_ADDR, 0x00F00000u);
    volatile boot_request_block_t blk = {0};
    h7_app_enter_rom_bootloader(&blk, fake_reset);
    assert_int_equal(g_resets, 1);
    assert_true(h7_app_early_init_check(&blk, fake_jump));
    assert_int_equal(g_jump_addr, 0x00F00000u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fake_map_and_layout),
        cmocka_unit_test(test_fake_slot_and_record_area),
        cmocka_unit_test(test_fake_validate),
        cmocka_unit_test(test_fake_validate_refuses_other_chips),
        cmocka_unit_test(test_fake_dfu_download_then_validate),
        cmocka_unit_test(test_fake_bl_ident),
        cmocka_unit_test(test_fake_rom_hand_over),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
