/*
 * Checks on the firmware images built by the fw_build fixture: reads the
 * ELF32 files (section headers, program headers) and the .bin files.
 * Usage: fw_elf_check FIRMWARE_DIR
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
#include "h7_util.h"

#define BL_BASE         0x08000000u
#define APP_BASE        BOOT_APP_SLOT_ADDR /* the slot: the vector table at its start */
#define APP_VECTORS     (BOOT_APP_SLOT_ADDR + BOOT_VECTOR_OFFSET)
#define NOINIT_ADDR     0x20000000u
#define BL_FLASH_BUDGET (16u * 1024u)
#define BL_RAM_BUDGET   (8u * 1024u)

static const char *g_dir;

typedef struct {
    uint8_t *data;
    size_t size;
} blob_t;

typedef struct {
    uint32_t addr, size, offset, type;
    bool found;
} section_t;

static blob_t load(const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", g_dir, name);
    blob_t b = {0};
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fail_msg("cannot open %s", path);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    assert_true(n > 0);
    b.size = (size_t)n;
    b.data = malloc(b.size);
    assert_non_null(b.data);
    assert_int_equal(fread(b.data, 1, b.size, f), b.size);
    fclose(f);
    return b;
}

static uint32_t rd32(const blob_t *b, size_t off)
{
    assert_true(off + 4 <= b->size);
    return h7_get_le32(b->data + off);
}

static uint16_t rd16(const blob_t *b, size_t off)
{
    assert_true(off + 2 <= b->size);
    return h7_get_le16(b->data + off);
}

static void check_header(const blob_t *e)
{
    assert_true(e->size > 52);
    assert_memory_equal(e->data, "\177ELF", 4);
    assert_int_equal(e->data[4], 1);   /* ELFCLASS32 */
    assert_int_equal(e->data[5], 1);   /* little endian */
    assert_int_equal(rd16(e, 18), 40); /* EM_ARM */
}

static section_t find_section(const blob_t *e, const char *want)
{
    uint32_t shoff = rd32(e, 32);
    uint16_t shentsize = rd16(e, 46), shnum = rd16(e, 48), shstrndx = rd16(e, 50);
    assert_true(shstrndx < shnum);
    uint32_t stroff = rd32(e, shoff + (size_t)shstrndx * shentsize + 16);
    section_t s = {0};
    for (uint16_t i = 0; i < shnum; i++) {
        size_t h = shoff + (size_t)i * shentsize;
        uint32_t name = rd32(e, h);
        assert_true(stroff + name < e->size);
        if (strcmp((const char *)e->data + stroff + name, want) == 0) {
            s.type = rd32(e, h + 4);
            s.addr = rd32(e, h + 12);
            s.offset = rd32(e, h + 16);
            s.size = rd32(e, h + 20);
            s.found = true;
        }
    }
    return s;
}

/* End of the highest loadable byte stored in flash (LMA), from PT_LOAD. */
static uint32_t flash_end(const blob_t *e, uint32_t base)
{
    uint32_t phoff = rd32(e, 28);
    uint16_t phentsize = rd16(e, 42), phnum = rd16(e, 44);
    uint32_t end = base;
    for (uint16_t i = 0; i < phnum; i++) {
        size_t h = phoff + (size_t)i * phentsize;
        if (rd32(e, h) != 1u) { /* PT_LOAD */
            continue;
        }
        uint32_t paddr = rd32(e, h + 12), filesz = rd32(e, h + 16);
        if (filesz != 0u && paddr >= base && paddr < base + 0x200000u && paddr + filesz > end) {
            end = paddr + filesz;
        }
    }
    return end;
}

static uint32_t section_size(const blob_t *e, const char *name)
{
    section_t s = find_section(e, name);
    return s.found ? s.size : 0u;
}

static void vectors(const blob_t *e, uint32_t base, uint32_t *sp, uint32_t *reset)
{
    section_t v = find_section(e, ".isr_vector");
    assert_true(v.found);
    assert_int_equal(v.addr, base);
    /* 16 core vectors + 150 H743 interrupt positions; the bootloader's
     * 16-byte identity (core/boot/bl_ident.h) may follow in the section. */
    const uint32_t table = (16u + 150u) * 4u;
    if (v.size == table + 16u) {
        assert_memory_equal(e->data + v.offset + table, "H7BL", 4);
    } else {
        assert_int_equal(v.size, table);
    }
    *sp = rd32(e, v.offset);
    *reset = rd32(e, v.offset + 4);
}

/* The .bin starts at base (objcopy: lowest loaded address); the vector table
 * sits at vt inside it. */
static void check_bin(const char *bin_name, const blob_t *e, uint32_t base, uint32_t vt)
{
    blob_t b = load(bin_name);
    uint32_t sp, reset;
    vectors(e, vt, &sp, &reset);
    assert_int_equal(rd32(&b, vt - base), sp);
    assert_int_equal(rd32(&b, vt - base + 4), reset);
    assert_int_equal(b.size, flash_end(e, base) - base);
    free(b.data);
}

/* The default bootloader and the locked one (docs/production.md): the same
 * layout and the same 16 KiB budget. */
static void bootloader_image_check(const char *name)
{
    char elf[64], bin[64];
    snprintf(elf, sizeof elf, "%s.elf", name);
    snprintf(bin, sizeof bin, "%s.bin", name);
    blob_t e = load(elf);
    check_header(&e);
    uint32_t sp, reset;
    vectors(&e, BL_BASE, &sp, &reset);
    section_t stack = find_section(&e, ".stack");
    assert_true(stack.found);
    assert_int_equal(sp, stack.addr + stack.size);
    assert_true((reset & 1u) != 0u);
    /* Reset_Handler runs from flash (.boot_text) and copies the rest of the
     * code to the ITCM (RM0433 2.3.1: 64 KiB at 0), where it runs while a
     * flash bank works (linker/sections.ld). */
    section_t boot = find_section(&e, ".boot_text");
    assert_true(boot.found);
    assert_true((reset & ~1u) >= boot.addr && (reset & ~1u) < boot.addr + boot.size);
    assert_true(boot.addr >= BL_BASE && boot.addr + boot.size <= BL_BASE + 0x20000u);
    section_t text = find_section(&e, ".text");
    assert_true(text.found);
    assert_true(text.addr >= 0x100u && text.addr + text.size <= 0x10000u);

    uint32_t flash_used = flash_end(&e, BL_BASE) - BL_BASE;
    uint32_t ram_used = section_size(&e, ".data") + section_size(&e, ".bss") + stack.size;
    uint32_t xfer = section_size(&e, ".xferbuf");
    printf("%s: flash %u / %u bytes, RAM %u / %u bytes (+ %u transfer buffer)\n", name, flash_used,
           BL_FLASH_BUDGET, ram_used, BL_RAM_BUDGET, xfer);
    assert_true(flash_used <= BL_FLASH_BUDGET);
    assert_true(ram_used <= BL_RAM_BUDGET);
    assert_true(xfer >= 1024u); /* the usbd control buffer really lives there */

    section_t ni = find_section(&e, ".noinit");
    assert_true(ni.found);
    assert_int_equal(ni.addr, NOINIT_ADDR);
    check_bin(bin, &e, BL_BASE, BL_BASE);
    free(e.data);
}

static void bootloader_layout_and_budget(void **state)
{
    (void)state;
    bootloader_image_check("bootloader");
    bootloader_image_check("bootloader-locked");
}

static void app_layout_and_startable(void **state)
{
    (void)state;
    blob_t e = load("demo-app.elf");
    check_header(&e);
    /* image_header.h: the vector table at the slot start, no header region;
     * nothing in the record area (sector 15), nothing past the slot. */
    assert_false(find_section(&e, ".image_header").found);
    section_t vt = find_section(&e, ".isr_vector");
    assert_true(vt.found);
    assert_int_equal(vt.addr, APP_BASE);
    assert_true(flash_end(&e, APP_BASE) <= BOOT_APP_SLOT_ADDR + BOOT_APP_SLOT_SIZE);
    uint32_t sp, reset;
    vectors(&e, APP_VECTORS, &sp, &reset);
    /* The bootloader's own vector rules (core/boot) accept the app. */
    uint32_t flash_used = flash_end(&e, APP_BASE) - APP_BASE;
    assert_true(boot_vector_sp_ok(sp));
    assert_true(boot_vector_reset_ok(reset, APP_VECTORS, flash_used));
    section_t ni = find_section(&e, ".noinit");
    assert_true(ni.found);
    assert_int_equal(ni.addr, NOINIT_ADDR);
    assert_true(ni.size >= sizeof(boot_request_block_t));
    uint32_t ram_used = section_size(&e, ".data") + section_size(&e, ".bss") +
                        section_size(&e, ".stack") + section_size(&e, ".xferbuf");
    printf("demo-app: flash %u bytes at 0x%08x (vectors 0x%08x), RAM %u bytes\n", flash_used,
           APP_BASE, APP_VECTORS, ram_used);
    check_bin("demo-app.bin", &e, APP_BASE, APP_VECTORS);
    /* Unstamped, the .bin is the body alone: the vector table at its start,
     * no record in it (the bootloader refuses it until a record is written). */
    blob_t b = load("demo-app.bin");
    assert_int_equal(rd32(&b, 0), sp);
    assert_true(b.size <= BOOT_APP_SLOT_SIZE);
    free(b.data);
    free(e.data);
}

static void hex_files_exist(void **state)
{
    (void)state;
    blob_t a = load("bootloader.hex");
    blob_t b = load("demo-app.hex");
    assert_int_equal(a.data[0], ':');
    assert_int_equal(b.data[0], ':');
    /* Extended linear address record for 0x0802 in the app's HEX. */
    assert_non_null(memmem(b.data, b.size, ":020000040802", 13));
    free(a.data);
    free(b.data);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s FIRMWARE_DIR\n", argv[0]);
        return 2;
    }
    g_dir = argv[1];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bootloader_layout_and_budget),
        cmocka_unit_test(app_layout_and_startable),
        cmocka_unit_test(hex_files_exist),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
