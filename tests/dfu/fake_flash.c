#include "fake_flash.h"

#include <string.h>

static flash_status_t fk_erase_sector(void *ctx, unsigned sector)
{
    fake_flash_t *f = ctx;
    if (sector >= FAKE_SECTORS)
        return FLASH_ERR_ADDRESS;
    if (f->power_cut)
        return FLASH_ERR_POWER;
    if (f->wrp_mask & (1u << sector))
        return FLASH_ERR_PROTECTED;
    if (f->fail_erase)
        return FLASH_ERR_ERASE;
    memset(&f->mem[sector * FAKE_SECTOR], 0xff, FAKE_SECTOR);
    f->erases++;
    return FLASH_OK;
}

static flash_status_t fk_erase_bank(void *ctx, unsigned bank)
{
    fake_flash_t *f = ctx;
    for (unsigned s = bank * 4u; s < bank * 4u + 4u; s++) {
        flash_status_t st = fk_erase_sector(f, s);
        if (st != FLASH_OK)
            return st;
    }
    return FLASH_OK;
}

static flash_status_t fk_program(void *ctx, uint32_t addr, const uint8_t *word)
{
    fake_flash_t *f = ctx;
    if (addr < FAKE_BASE || addr - FAKE_BASE + 32u > FAKE_SIZE || addr % 32u)
        return FLASH_ERR_ADDRESS;
    if (f->power_cut)
        return FLASH_ERR_POWER;
    if (f->wrp_mask & (1u << ((addr - FAKE_BASE) / FAKE_SECTOR)))
        return FLASH_ERR_PROTECTED;
    if (f->fail_program)
        return FLASH_ERR_PROGRAM;
    memcpy(&f->mem[addr - FAKE_BASE], word, 32);
    if (f->corrupt_program)
        f->mem[addr - FAKE_BASE] ^= 0x01u;
    f->programs++;
    return FLASH_OK;
}

static unsigned bank_of_addr(uint32_t addr)
{
    return (addr - FAKE_BASE) / FAKE_SECTOR / 4u;
}

static flash_status_t fk_read(void *ctx, uint32_t addr, void *buf, size_t len)
{
    fake_flash_t *f = ctx;
    if (len > 0 && addr >= FAKE_BASE && addr - FAKE_BASE < FAKE_SIZE &&
        (f->busy[bank_of_addr(addr)] || f->busy[bank_of_addr(addr + (uint32_t)len - 1u)]))
        f->read_busy++;
    if (addr < FAKE_BASE || addr - FAKE_BASE > FAKE_SIZE || len > FAKE_SIZE - (addr - FAKE_BASE))
        return FLASH_ERR_ADDRESS;
    memcpy(buf, &f->mem[addr - FAKE_BASE], len);
    return FLASH_OK;
}

static bool fk_wrp(void *ctx, unsigned sector)
{
    const fake_flash_t *f = ctx;
    return (f->wrp_mask & (1u << sector)) != 0;
}

static flash_status_t started(fake_flash_t *f, unsigned bank, flash_status_t st)
{
    if (f->busy[bank])
        f->started_on_busy++;
    f->busy[bank] = f->busy_polls + 1u;
    f->result[bank] = st;
    unsigned n = (f->busy[0] != 0) + (f->busy[1] != 0);
    if (n > f->max_busy_banks)
        f->max_busy_banks = n;
    return FLASH_OK;
}

static flash_status_t fk_erase_start(void *ctx, unsigned sector)
{
    fake_flash_t *f = ctx;
    if (sector >= FAKE_SECTORS)
        return FLASH_ERR_ADDRESS;
    return started(f, sector / 4u, fk_erase_sector(f, sector));
}

static flash_status_t fk_program_start(void *ctx, uint32_t addr, const uint8_t *word)
{
    fake_flash_t *f = ctx;
    if (addr < FAKE_BASE || addr - FAKE_BASE + 32u > FAKE_SIZE || addr % 32u)
        return FLASH_ERR_ADDRESS;
    return started(f, bank_of_addr(addr), fk_program(f, addr, word));
}

static flash_status_t fk_poll(void *ctx, unsigned bank)
{
    fake_flash_t *f = ctx;
    if (bank > 1u)
        return FLASH_ERR_ADDRESS;
    if (f->busy[bank] > 1u) {
        f->busy[bank]--;
        return FLASH_BUSY;
    }
    f->busy[bank] = 0;
    flash_status_t st = f->result[bank];
    f->result[bank] = FLASH_OK;
    return st;
}

static const flash_ops_t fk_polled_ops = {
    .erase_sector = fk_erase_sector,
    .erase_bank = fk_erase_bank,
    .program_word = fk_program,
    .read = fk_read,
    .is_write_protected = fk_wrp,
    .erase_start = fk_erase_start,
    .program_start = fk_program_start,
    .poll = fk_poll,
};

void fake_flash_set_polled(fake_flash_t *f, unsigned busy_polls)
{
    f->busy_polls = busy_polls;
    f->dev.ops = &fk_polled_ops;
}

static const flash_ops_t fk_ops = {
    .erase_sector = fk_erase_sector,
    .erase_bank = fk_erase_bank,
    .program_word = fk_program,
    .read = fk_read,
    .is_write_protected = fk_wrp,
};

void fake_flash_init(fake_flash_t *f)
{
    memset(f, 0, sizeof(*f));
    memset(f->mem, 0xff, sizeof(f->mem));
    f->map.name = "Fake Flash";
    f->map.base = FAKE_BASE;
    f->map.sector_size = FAKE_SECTOR;
    f->map.sector_count = FAKE_SECTORS;
    f->map.sectors_per_bank = 4;
    f->map.word_size = 32;
    f->map.reserved_mask = 0x1u; /* sector 0: the bootloader */
    f->dev.ops = &fk_ops;
    f->dev.ctx = f;
    f->dev.map = &f->map;
}
