/*
 * The virtual STM32H743 flash: rules, timing, power cuts. See sim_flash.h.
 */
#include "sim_flash_priv.h"

#include <stdlib.h>
#include <string.h>

#include "h7_target.h"

/*
 * DS12110 (STM32H742xI/G STM32H743xI/G datasheet) section 6.3.11 "Flash
 * memory", table "Flash memory programming" (Table 53 in Rev 10, Table 43 in
 * Rev 11), Tj -40..125 C, by program/erase parallelism, typ / max:
 *   tprog       word (266 bits) programming  x8 290/580 us, x16 180/360 us,
 *                                            x32 130/260 us, x64 100/200 us
 *   tERASE128KB sector (128 KB) erase        x8 2/4 s,  x16 1.8/3.6 s,
 *                                            x32 1.1/2.2 s, x64 1/2 s
 *   tME         mass erase                   x8 13/26 s, x16 8/16 s,
 *                                            x32 6/12 s,  x64 5/10 s
 * tME is what the table gives for erasing a whole bank array; the two banks
 * erase in parallel, so the model charges it for one bank erase.
 */
#define US(x) ((uint64_t)(x)*SIM_NS_PER_US)
#define MS(x) ((uint64_t)(x)*SIM_NS_PER_MS)

static const sim_flash_times_t ds12110_times[4][2] = {
    /*            typ                          max */
    [SIM_FLASH_X8] = {{US(290), MS(2000), MS(13000)}, {US(580), MS(4000), MS(26000)}},
    [SIM_FLASH_X16] = {{US(180), MS(1800), MS(8000)}, {US(360), MS(3600), MS(16000)}},
    [SIM_FLASH_X32] = {{US(130), MS(1100), MS(6000)}, {US(260), MS(2200), MS(12000)}},
    [SIM_FLASH_X64] = {{US(100), MS(1000), MS(5000)}, {US(200), MS(2000), MS(10000)}},
};

/* The DFU driver's defaults (target/stm32h743/h7_target.h) are this table's
 * typical x64 times: the parallelism port/stm32h743/flash_h7.c uses. */
_Static_assert(H7_TARGET_PROGRAM_WORD_US == 100u && H7_TARGET_ERASE_SECTOR_MS == 1000u,
               "h7_target.h's flash times are DS12110's typical x64 ones");

const sim_flash_times_t *sim_flash_ds12110_times(sim_flash_psize_t psize, bool max)
{
    if ((unsigned)psize > SIM_FLASH_X64) {
        psize = SIM_FLASH_X64;
    }
    return &ds12110_times[psize][max ? 1 : 0];
}

/* ---- helpers ---- */

static uint32_t word_index(const sim_flash_t *f, uint32_t addr)
{
    return (addr - f->map->base) / f->map->word_size;
}

static bool sector_protected(const sim_flash_t *f, unsigned sector)
{
    return sector < 32u && ((f->wp_mask >> sector) & 1u);
}

static void charge(sim_flash_t *f, uint64_t ns)
{
    f->stats.busy_ns += ns;
    if (f->clock) {
        sim_clock_advance(f->clock, ns);
    }
}

static bool word_is_blank(const sim_flash_t *f, uint32_t w)
{
    return f->state[w] == SIM_WORD_ERASED;
}

/* Ask the counter helper and the hook whether power goes at this event. */
static bool cut_here(sim_flash_t *f, const sim_flash_event_t *ev)
{
    bool cut = false;
    if (f->cut_seq && f->cut_seq == ev->seq && f->cut_phase == ev->phase) {
        f->cut_seq = 0; /* one shot */
        cut = true;
    }
    if (f->hook && f->hook(f->hook_user, ev)) {
        cut = true;
    }
    if (cut) {
        f->powered = false;
        f->stats.power_cuts++;
    }
    return cut;
}

static uint64_t pro_rata(uint64_t total, unsigned permille)
{
    return total / 1000u * permille + (total % 1000u) * permille / 1000u;
}

/*
 * Erase words [first, first+count): either fully, or interrupted at the
 * progress point (see SIM_FLASH_PHASE_DURING in sim_flash.h).
 */
static void erase_words(sim_flash_t *f, uint32_t first, uint32_t count, bool interrupted)
{
    uint32_t ws = f->map->word_size;
    uint32_t done = interrupted ? (uint32_t)pro_rata(count, f->cut_permille) : count;
    memset(f->data + (size_t)first * ws, 0xFF, (size_t)done * ws);
    memset(f->state + first, SIM_WORD_ERASED, done);
    for (uint32_t i = done; i < count; i++) {
        uint32_t w = first + i;
        if (i == done || f->state[w] != SIM_WORD_ERASED) {
            f->state[w] = SIM_WORD_ECC_CORRUPT;
        }
    }
}

/* Commit bytes into a word: flash cells only go from 1 to 0. */
static void merge_word(sim_flash_t *f, uint32_t w, const uint8_t *bytes, bool corrupt)
{
    uint8_t *dst = f->data + (size_t)w * f->map->word_size;
    for (unsigned i = 0; i < f->map->word_size; i++) {
        dst[i] &= bytes[i];
    }
    f->state[w] = corrupt ? SIM_WORD_ECC_CORRUPT : SIM_WORD_PROGRAMMED;
}

/*
 * The common skeleton of a modifying operation: power check, hook BEFORE,
 * the work (full or interrupted), hook DURING/AFTER, time.
 */
typedef struct op_ctx {
    sim_flash_event_t ev;
    uint64_t time_ns;
    void (*apply)(sim_flash_t *f, const struct op_ctx *op, bool interrupted);
    uint32_t first_word;
    uint32_t word_count;
    const uint8_t *bytes; /* program: one full word */
    bool was_blank;       /* program: the word was erased before */
} op_ctx_t;

/* The flip fault's bit: bit 0 of byte 21 (second half of the word). */
#define FLIP_BYTE 21u

static void flip_now(sim_flash_t *f)
{
    f->data[(size_t)f->flip_word * f->map->word_size + FLIP_BYTE] ^= 0x01u;
    f->flip_at = 0;
    f->silent_changes++;
}

uint64_t sim_flash_silent_changes(const sim_flash_t *f)
{
    return f->silent_changes;
}

static const char *op_name(sim_flash_op_t op)
{
    switch (op) {
    case SIM_FLASH_OP_ERASE_SECTOR:
        return "erase-sector";
    case SIM_FLASH_OP_ERASE_BANK:
        return "erase-bank";
    case SIM_FLASH_OP_PROGRAM:
        return "program";
    case SIM_FLASH_OP_FORCE_WRITE:
        return "force-write";
    }
    return "?";
}

static flash_status_t run_op(sim_flash_t *f, op_ctx_t *op)
{
    op->ev.seq = ++f->stats.ops;
    if (f->flip_at && op->ev.seq >= f->flip_at) {
        flip_now(f);
    }

    op->ev.phase = SIM_FLASH_PHASE_BEFORE;
    if (cut_here(f, &op->ev)) {
        return FLASH_ERR_POWER;
    }
    op->ev.phase = SIM_FLASH_PHASE_DURING;
    if (cut_here(f, &op->ev)) {
        op->apply(f, op, true);
        charge(f, pro_rata(op->time_ns, f->cut_permille));
        return FLASH_ERR_POWER;
    }
    op->apply(f, op, false);
    charge(f, op->time_ns);
    switch (op->ev.op) {
    case SIM_FLASH_OP_ERASE_SECTOR:
        f->stats.sector_erases++;
        break;
    case SIM_FLASH_OP_ERASE_BANK:
        f->stats.bank_erases++;
        break;
    case SIM_FLASH_OP_PROGRAM:
        f->stats.words_programmed++;
        break;
    case SIM_FLASH_OP_FORCE_WRITE:
        f->stats.force_writes++;
        break;
    }
    if (f->log) {
        fprintf(f->log, "%llu %s 0x%08x\n", (unsigned long long)op->ev.seq, op_name(op->ev.op),
                (unsigned)op->ev.addr);
        fflush(f->log);
    }
    if (f->flip_seq && op->ev.seq == f->flip_seq && op->ev.op == SIM_FLASH_OP_PROGRAM) {
        f->flip_seq = 0;
        f->flip_word = op->first_word;
        f->flip_at = op->ev.seq + f->flip_delay;
        if (f->flip_delay == 0) {
            flip_now(f);
        }
    }
    op->ev.phase = SIM_FLASH_PHASE_AFTER;
    if (cut_here(f, &op->ev)) {
        return FLASH_ERR_POWER;
    }
    return FLASH_OK;
}

void sim_flash_flip_after(sim_flash_t *f, uint64_t n, uint64_t delay)
{
    f->flip_seq = n;
    f->flip_delay = delay;
    f->flip_at = 0;
}

void sim_flash_set_log(sim_flash_t *f, FILE *out)
{
    f->log = out;
}

static flash_status_t refuse(sim_flash_t *f, flash_status_t st)
{
    f->stats.refused++;
    return st;
}

static void apply_erase(sim_flash_t *f, const op_ctx_t *op, bool interrupted)
{
    erase_words(f, op->first_word, op->word_count, interrupted);
}

static void apply_program(sim_flash_t *f, const op_ctx_t *op, bool interrupted)
{
    /* Interrupted: part of the cells programmed, ECC not consistent. Done
     * over a non-virgin word (CORRUPT policy or force write): RM0433 4.3.9. */
    merge_word(f, op->first_word, op->bytes, interrupted || !op->was_blank);
}

/* ---- operations ---- */

flash_status_t sim_flash_erase_sector(sim_flash_t *f, unsigned sector)
{
    const flash_map_t *m = f->map;
    if (!f->powered) {
        return FLASH_ERR_POWER;
    }
    if (sector >= m->sector_count) {
        return refuse(f, FLASH_ERR_ADDRESS);
    }
    if (sector_protected(f, sector)) {
        return refuse(f, FLASH_ERR_PROTECTED); /* WRPERR, RM0433 4.3.10 */
    }
    uint32_t words_per_sector = m->sector_size / m->word_size;
    op_ctx_t op = {
        .ev = {.op = SIM_FLASH_OP_ERASE_SECTOR,
               .sector = sector,
               .addr = flash_map_sector_addr(m, sector)},
        .time_ns = f->times.sector_erase_ns,
        .apply = apply_erase,
        .first_word = sector * words_per_sector,
        .word_count = words_per_sector,
    };
    return run_op(f, &op);
}

flash_status_t sim_flash_erase_bank(sim_flash_t *f, unsigned bank)
{
    const flash_map_t *m = f->map;
    if (!f->powered) {
        return FLASH_ERR_POWER;
    }
    unsigned banks = m->sector_count / m->sectors_per_bank;
    if (bank >= banks) {
        return refuse(f, FLASH_ERR_ADDRESS);
    }
    unsigned first_sector = bank * m->sectors_per_bank;
    /* A bank erase with a protected sector in the bank is not performed and
     * raises WRPERR (RM0433 4.3.10, bank erase). */
    for (unsigned s = 0; s < m->sectors_per_bank; s++) {
        if (sector_protected(f, first_sector + s)) {
            return refuse(f, FLASH_ERR_PROTECTED);
        }
    }
    uint32_t words_per_sector = m->sector_size / m->word_size;
    op_ctx_t op = {
        .ev = {.op = SIM_FLASH_OP_ERASE_BANK,
               .sector = bank,
               .addr = flash_map_sector_addr(m, first_sector)},
        .time_ns = f->times.bank_erase_ns,
        .apply = apply_erase,
        .first_word = first_sector * words_per_sector,
        .word_count = m->sectors_per_bank * words_per_sector,
    };
    return run_op(f, &op);
}

flash_status_t sim_flash_program_word(sim_flash_t *f, uint32_t addr, const uint8_t *word)
{
    const flash_map_t *m = f->map;
    if (!f->powered) {
        return FLASH_ERR_POWER;
    }
    if (!flash_map_contains(m, addr, m->word_size) || (addr - m->base) % m->word_size) {
        return refuse(f, FLASH_ERR_ADDRESS);
    }
    unsigned sector = (unsigned)flash_map_sector_of(m, addr);
    if (sector_protected(f, sector)) {
        return refuse(f, FLASH_ERR_PROTECTED); /* WRPERR */
    }
    uint32_t w = word_index(f, addr);
    bool blank = word_is_blank(f, w);
    if (!blank && f->overwrite == SIM_FLASH_OVERWRITE_REFUSE) {
        return refuse(f, FLASH_ERR_PROGRAM);
    }
    op_ctx_t op = {
        .ev = {.op = SIM_FLASH_OP_PROGRAM, .sector = sector, .addr = addr},
        .time_ns = f->times.prog_word_ns,
        .apply = apply_program,
        .first_word = w,
        .word_count = 1,
        .bytes = word,
        .was_blank = blank,
    };
    return run_op(f, &op);
}

flash_status_t sim_flash_force_write(sim_flash_t *f, uint32_t addr, const void *data, size_t len)
{
    const flash_map_t *m = f->map;
    if (!f->powered) {
        return FLASH_ERR_POWER;
    }
    if (len == 0 || len > m->word_size || !flash_map_contains(m, addr, (uint32_t)len)) {
        return refuse(f, FLASH_ERR_ADDRESS);
    }
    uint32_t off = (addr - m->base) % m->word_size;
    if (off + len > m->word_size) {
        return refuse(f, FLASH_ERR_ADDRESS); /* one write buffer = one word */
    }
    unsigned sector = (unsigned)flash_map_sector_of(m, addr);
    if (sector_protected(f, sector)) {
        return refuse(f, FLASH_ERR_PROTECTED);
    }
    /* FW1/FW2 (RM0433 4.9.4 FLASH_CR1): the write buffer is committed as it
     * is; bytes never written stay 1s, and the ECC covers the whole word. */
    uint8_t buf[64];
    memset(buf, 0xFF, sizeof buf);
    memcpy(buf + off, data, len);
    uint32_t w = word_index(f, addr);
    op_ctx_t op = {
        .ev = {.op = SIM_FLASH_OP_FORCE_WRITE, .sector = sector, .addr = addr},
        .time_ns = f->times.prog_word_ns,
        .apply = apply_program,
        .first_word = w,
        .word_count = 1,
        .bytes = buf,
        .was_blank = word_is_blank(f, w),
    };
    return run_op(f, &op);
}

flash_status_t sim_flash_read(sim_flash_t *f, uint32_t addr, void *buf, size_t len)
{
    const flash_map_t *m = f->map;
    if (!f->powered) {
        return FLASH_ERR_POWER;
    }
    if (len == 0) {
        return FLASH_OK;
    }
    if (len > f->size || !flash_map_contains(m, addr, (uint32_t)len)) {
        return refuse(f, FLASH_ERR_ADDRESS);
    }
    memcpy(buf, f->data + (addr - m->base), len);
    f->stats.bytes_read += len;
    uint32_t first = word_index(f, addr), last = word_index(f, addr + (uint32_t)len - 1u);
    for (uint32_t w = first; w <= last; w++) {
        if (f->state[w] == SIM_WORD_ECC_CORRUPT) {
            f->stats.ecc_errors++;
            return FLASH_ERR_ECC; /* DBECCERR, RM0433 4.7.7 */
        }
    }
    return FLASH_OK;
}

/* ---- flash_ops_t adapter ---- */

static flash_status_t op_erase_sector(void *ctx, unsigned sector)
{
    return sim_flash_erase_sector(ctx, sector);
}

static flash_status_t op_erase_bank(void *ctx, unsigned bank)
{
    return sim_flash_erase_bank(ctx, bank);
}

static flash_status_t op_program_word(void *ctx, uint32_t addr, const uint8_t *word)
{
    return sim_flash_program_word(ctx, addr, word);
}

static flash_status_t op_read(void *ctx, uint32_t addr, void *buf, size_t len)
{
    return sim_flash_read(ctx, addr, buf, len);
}

static bool op_is_write_protected(void *ctx, unsigned sector)
{
    return sim_flash_is_write_protected(ctx, sector);
}

const flash_ops_t sim_flash_ops = {
    .erase_sector = op_erase_sector,
    .erase_bank = op_erase_bank,
    .program_word = op_program_word,
    .read = op_read,
    .is_write_protected = op_is_write_protected,
};

/* ---- life cycle, configuration ---- */

sim_flash_t *sim_flash_new(sim_clock_t *clock)
{
    sim_flash_t *f = calloc(1, sizeof *f);
    if (!f) {
        return NULL;
    }
    f->map = flash_map_stm32h743();
    f->size = flash_map_size(f->map);
    f->word_count = f->size / f->map->word_size;
    f->data = malloc(f->size);
    f->state = malloc(f->word_count);
    if (!f->data || !f->state) {
        sim_flash_free(f);
        return NULL;
    }
    memset(f->data, 0xFF, f->size);
    memset(f->state, SIM_WORD_ERASED, f->word_count);
    f->clock = clock;
    f->times = *sim_flash_ds12110_times(SIM_FLASH_X64, false);
    f->overwrite = SIM_FLASH_OVERWRITE_REFUSE;
    f->powered = true;
    f->cut_permille = 500;
    return f;
}

void sim_flash_copy_contents(sim_flash_t *dst, const sim_flash_t *src)
{
    memcpy(dst->data, src->data, dst->size);
    memcpy(dst->state, src->state, dst->word_count);
    dst->wp_mask = src->wp_mask;
}

void sim_flash_free(sim_flash_t *f)
{
    if (f) {
        free(f->data);
        free(f->state);
        free(f);
    }
}

const flash_map_t *sim_flash_map(const sim_flash_t *f)
{
    return f->map;
}

bool sim_flash_set_map(sim_flash_t *f, const flash_map_t *map)
{
    const flash_map_t *m = f->map;
    if (map->base != m->base || map->sector_size != m->sector_size ||
        map->sector_count != m->sector_count || map->sectors_per_bank != m->sectors_per_bank ||
        map->word_size != m->word_size) {
        return false;
    }
    f->map = map;
    return true;
}

flash_dev_t sim_flash_dev(sim_flash_t *f)
{
    flash_dev_t d = {.ops = &sim_flash_ops, .ctx = f, .map = f->map};
    return d;
}

void sim_flash_set_clock(sim_flash_t *f, sim_clock_t *clock)
{
    f->clock = clock;
}

void sim_flash_set_times(sim_flash_t *f, const sim_flash_times_t *t)
{
    f->times = *t;
}

const sim_flash_times_t *sim_flash_get_times(const sim_flash_t *f)
{
    return &f->times;
}

void sim_flash_set_overwrite_policy(sim_flash_t *f, sim_flash_overwrite_t p)
{
    f->overwrite = p;
}

void sim_flash_set_write_protect(sim_flash_t *f, unsigned sector, bool on)
{
    if (sector >= f->map->sector_count || sector >= 32u) {
        return;
    }
    if (on) {
        f->wp_mask |= 1u << sector;
    } else {
        f->wp_mask &= ~(1u << sector);
    }
}

bool sim_flash_is_write_protected(const sim_flash_t *f, unsigned sector)
{
    return sector_protected(f, sector);
}

sim_flash_word_state_t sim_flash_word_state(const sim_flash_t *f, uint32_t addr)
{
    return (sim_flash_word_state_t)f->state[word_index(f, addr)];
}

const uint8_t *sim_flash_raw(const sim_flash_t *f)
{
    return f->data;
}

flash_status_t sim_flash_poke(sim_flash_t *f, uint32_t addr, const void *data, size_t len)
{
    const flash_map_t *m = f->map;
    if (len == 0 || len > f->size || !flash_map_contains(m, addr, (uint32_t)len)) {
        return FLASH_ERR_ADDRESS;
    }
    memcpy(f->data + (addr - m->base), data, len);
    uint32_t first = word_index(f, addr), last = word_index(f, addr + (uint32_t)len - 1u);
    memset(f->state + first, SIM_WORD_PROGRAMMED, last - first + 1u);
    f->silent_changes++;
    return FLASH_OK;
}

void sim_flash_get_stats(const sim_flash_t *f, sim_flash_stats_t *out)
{
    *out = f->stats;
}

void sim_flash_reset_stats(sim_flash_t *f)
{
    memset(&f->stats, 0, sizeof f->stats);
}

void sim_flash_set_power_hook(sim_flash_t *f, sim_flash_power_hook_t hook, void *user)
{
    f->hook = hook;
    f->hook_user = user;
}

void sim_flash_cut_at(sim_flash_t *f, uint64_t n, sim_flash_phase_t phase)
{
    f->cut_seq = n;
    f->cut_phase = phase;
}

void sim_flash_set_cut_progress(sim_flash_t *f, unsigned permille)
{
    f->cut_permille = permille > 1000u ? 1000u : permille;
}

uint64_t sim_flash_op_count(const sim_flash_t *f)
{
    return f->stats.ops;
}

bool sim_flash_powered(const sim_flash_t *f)
{
    return f->powered;
}

void sim_flash_power_off(sim_flash_t *f)
{
    f->powered = false;
}

void sim_flash_power_on(sim_flash_t *f)
{
    f->powered = true;
}
