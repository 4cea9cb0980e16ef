/* The fuzzers' flash: see fuzz_flash.h. */
#include "fuzz_flash.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

static sim_flash_t *g_flash;
static const flash_map_t *g_map;
static uint8_t *g_boot_copy; /* what sector 0 must hold */
static uint32_t g_dirty;     /* sectors touched since the last reset */
static flash_dev_t g_dev;

static flash_status_t shim_erase_sector(void *ctx, unsigned sector)
{
    FUZZ_CHECK(sector < g_map->sector_count);
    FUZZ_CHECK(!flash_map_is_reserved(g_map, sector));
    g_dirty |= 1u << sector;
    return sim_flash_ops.erase_sector(ctx, sector);
}

static flash_status_t shim_erase_bank(void *ctx, unsigned bank)
{
    FUZZ_CHECK(bank != 0); /* bank 0 holds the bootloader */
    g_dirty |= 0xffffu;
    return sim_flash_ops.erase_bank(ctx, bank);
}

static flash_status_t shim_program_word(void *ctx, uint32_t addr, const uint8_t *word)
{
    int s = flash_map_sector_of(g_map, addr);
    FUZZ_CHECK(s >= 0 && !flash_map_is_reserved(g_map, (unsigned)s));
    g_dirty |= 1u << s;
    return sim_flash_ops.program_word(ctx, addr, word);
}

static flash_status_t shim_read(void *ctx, uint32_t addr, void *buf, size_t len)
{
    return sim_flash_ops.read(ctx, addr, buf, len);
}

static bool shim_is_wp(void *ctx, unsigned sector)
{
    return sim_flash_ops.is_write_protected(ctx, sector);
}

static const flash_ops_t shim_ops = {
    .erase_sector = shim_erase_sector,
    .erase_bank = shim_erase_bank,
    .program_word = shim_program_word,
    .read = shim_read,
    .is_write_protected = shim_is_wp,
};

static void create(void)
{
    g_flash = sim_flash_new(NULL);
    FUZZ_CHECK(g_flash != NULL);
    g_map = sim_flash_map(g_flash);
    FUZZ_CHECK(flash_map_is_reserved(g_map, 0));
    /* A bootloader in sector 0: a pattern that is not the erased value. */
    uint8_t word[64];
    FUZZ_CHECK(g_map->word_size <= sizeof word);
    for (uint32_t off = 0; off < g_map->sector_size; off += g_map->word_size) {
        for (unsigned i = 0; i < g_map->word_size; i++) {
            word[i] = (uint8_t)((off + i) * 131u + 7u);
        }
        FUZZ_CHECK(sim_flash_program_word(g_flash, g_map->base + off, word) == FLASH_OK);
    }
    g_boot_copy = malloc(g_map->sector_size);
    FUZZ_CHECK(g_boot_copy != NULL);
    memcpy(g_boot_copy, sim_flash_raw(g_flash), g_map->sector_size);
    g_dev = (flash_dev_t){.ops = &shim_ops, .ctx = g_flash, .map = g_map};
}

void fuzz_flash_reset(void)
{
    if (g_flash == NULL) {
        create();
    }
    sim_flash_cut_at(g_flash, 0, SIM_FLASH_PHASE_BEFORE);
    sim_flash_power_on(g_flash);
    for (unsigned s = 0; s < g_map->sector_count; s++) {
        sim_flash_set_write_protect(g_flash, s, false);
    }
    for (unsigned s = 1; s < g_map->sector_count; s++) {
        if (g_dirty & (1u << s)) {
            FUZZ_CHECK(sim_flash_erase_sector(g_flash, s) == FLASH_OK);
        }
    }
    g_dirty = 0;
    sim_flash_reset_stats(g_flash);
}

const flash_dev_t *fuzz_flash_dev(void)
{
    return &g_dev;
}

sim_flash_t *fuzz_flash_sim(void)
{
    return g_flash;
}

void fuzz_flash_check_boot(void)
{
    FUZZ_CHECK(memcmp(sim_flash_raw(g_flash), g_boot_copy, g_map->sector_size) == 0);
}
