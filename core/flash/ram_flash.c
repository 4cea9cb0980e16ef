/* A flash in RAM: see ram_flash.h. */
#include "ram_flash.h"

#include <string.h>

static uint32_t size_of(const ram_flash_t *f)
{
    return flash_map_size(&f->map);
}

static bool protected_sector(const ram_flash_t *f, unsigned sector)
{
    return sector < 32u && (f->wrp_mask & (1u << sector)) != 0;
}

/* A whole, aligned flash word inside the flash. */
static bool word_ok(const ram_flash_t *f, uint32_t addr)
{
    uint32_t word = f->map.word_size;
    return addr >= f->map.base && addr - f->map.base <= size_of(f) - word &&
           (addr - f->map.base) % word == 0;
}

static unsigned bank_of_addr(const ram_flash_t *f, uint32_t addr)
{
    return (addr - f->map.base) / f->map.sector_size / f->map.sectors_per_bank;
}

static bool bank_busy(const ram_flash_t *f, unsigned bank)
{
    return bank < 2u && f->busy[bank] != 0;
}

static flash_status_t rf_erase_sector(void *ctx, unsigned sector)
{
    ram_flash_t *f = ctx;
    if (sector >= f->map.sector_count) {
        return FLASH_ERR_ADDRESS;
    }
    if (f->power_cut) {
        return FLASH_ERR_POWER;
    }
    if (protected_sector(f, sector)) {
        return FLASH_ERR_PROTECTED;
    }
    if (f->fail_erase) {
        return FLASH_ERR_ERASE;
    }
    memset(&f->mem[sector * f->map.sector_size], 0xff, f->map.sector_size);
    f->erases++;
    return FLASH_OK;
}

static flash_status_t rf_erase_bank(void *ctx, unsigned bank)
{
    ram_flash_t *f = ctx;
    unsigned n = f->map.sectors_per_bank;
    for (unsigned s = bank * n; s < bank * n + n; s++) {
        flash_status_t st = rf_erase_sector(f, s);
        if (st != FLASH_OK) {
            return st;
        }
    }
    return FLASH_OK;
}

static flash_status_t rf_program(void *ctx, uint32_t addr, const uint8_t *word)
{
    ram_flash_t *f = ctx;
    if (!word_ok(f, addr)) {
        return FLASH_ERR_ADDRESS;
    }
    if (f->power_cut) {
        return FLASH_ERR_POWER;
    }
    uint32_t off = addr - f->map.base;
    if (protected_sector(f, off / f->map.sector_size)) {
        return FLASH_ERR_PROTECTED;
    }
    if (f->fail_program) {
        return FLASH_ERR_PROGRAM;
    }
    memcpy(&f->mem[off], word, f->map.word_size);
    if (f->corrupt_program) {
        f->mem[off] ^= 0x01u;
    }
    f->programs++;
    return FLASH_OK;
}

static flash_status_t rf_read(void *ctx, uint32_t addr, void *buf, size_t len)
{
    ram_flash_t *f = ctx;
    uint32_t size = size_of(f);
    if (len > 0 && addr >= f->map.base && addr - f->map.base < size &&
        (bank_busy(f, bank_of_addr(f, addr)) ||
         bank_busy(f, bank_of_addr(f, addr + (uint32_t)len - 1u)))) {
        f->read_busy++;
    }
    if (addr < f->map.base || addr - f->map.base > size || len > size - (addr - f->map.base)) {
        return FLASH_ERR_ADDRESS;
    }
    memcpy(buf, &f->mem[addr - f->map.base], len);
    return FLASH_OK;
}

static bool rf_wrp(void *ctx, unsigned sector)
{
    return protected_sector(ctx, sector);
}

/* An operation started on bank with the result st, known at once: the bank
 * reads busy for busy_polls polls, then st. */
static flash_status_t started(ram_flash_t *f, unsigned bank, flash_status_t st)
{
    if (bank >= 2u) {
        return FLASH_ERR_ADDRESS;
    }
    if (f->busy[bank]) {
        f->started_on_busy++;
    }
    f->busy[bank] = f->busy_polls + 1u;
    f->result[bank] = st;
    unsigned n = (f->busy[0] != 0) + (f->busy[1] != 0);
    if (n > f->max_busy_banks) {
        f->max_busy_banks = n;
    }
    return FLASH_OK;
}

static flash_status_t rf_erase_start(void *ctx, unsigned sector)
{
    ram_flash_t *f = ctx;
    if (sector >= f->map.sector_count) {
        return FLASH_ERR_ADDRESS;
    }
    return started(f, sector / f->map.sectors_per_bank, rf_erase_sector(f, sector));
}

static flash_status_t rf_program_start(void *ctx, uint32_t addr, const uint8_t *word)
{
    ram_flash_t *f = ctx;
    if (!word_ok(f, addr)) {
        return FLASH_ERR_ADDRESS;
    }
    return started(f, bank_of_addr(f, addr), rf_program(f, addr, word));
}

static flash_status_t rf_poll(void *ctx, unsigned bank)
{
    ram_flash_t *f = ctx;
    if (bank > 1u) {
        return FLASH_ERR_ADDRESS;
    }
    if (f->busy[bank] > 1u) {
        f->busy[bank]--;
        return FLASH_BUSY;
    }
    f->busy[bank] = 0;
    flash_status_t st = f->result[bank];
    f->result[bank] = FLASH_OK;
    return st;
}

static const flash_ops_t rf_ops = {
    .erase_sector = rf_erase_sector,
    .erase_bank = rf_erase_bank,
    .program_word = rf_program,
    .read = rf_read,
    .is_write_protected = rf_wrp,
};

static const flash_ops_t rf_polled_ops = {
    .erase_sector = rf_erase_sector,
    .erase_bank = rf_erase_bank,
    .program_word = rf_program,
    .read = rf_read,
    .is_write_protected = rf_wrp,
    .erase_start = rf_erase_start,
    .program_start = rf_program_start,
    .poll = rf_poll,
};

void ram_flash_init(ram_flash_t *f, const flash_map_t *map, uint8_t *mem)
{
    memset(f, 0, sizeof(*f));
    f->mem = mem;
    f->map = *map;
    f->dev.ops = &rf_ops;
    f->dev.ctx = f;
    f->dev.map = &f->map;
}

void ram_flash_set_polled(ram_flash_t *f, unsigned busy_polls)
{
    f->busy_polls = busy_polls;
    f->dev.ops = &rf_polled_ops;
}
