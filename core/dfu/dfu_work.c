/*
 * The DFU driver's flash work (dfu_work.h): per-bank job queues, stepped.
 *
 * A block is programmed one flash word at a time: the word must read erased
 * (a word is programmed once between erases, RM0433 4.3.9; a word that is
 * not erased would end with a broken ECC), is started, and once the bank
 * says it is done it is read back and compared, so a write that did not
 * take is reported as errVERIFY before the host goes on.
 */
#include "dfu_work.h"

#include <string.h>

/* Largest flash word we can check and verify (the STM32H743's is 32 bytes). */
#define WORK_WORD_MAX 64u

static uint32_t now_us(const dfu_work_t *w)
{
    return w->cfg.now_us != NULL ? w->cfg.now_us(w->cfg.clock_user) : 0u;
}

static bool reached(const dfu_work_t *w, uint32_t t)
{
    return (int32_t)(now_us(w) - t) >= 0;
}

static uint32_t left(const dfu_work_t *w, uint32_t t)
{
    int32_t r = (int32_t)(t - now_us(w));
    return r > 0 ? (uint32_t)r : 0u;
}

static const flash_map_t *map_of(const dfu_work_t *w)
{
    return w->cfg.flash->map;
}

dfu_status_t dfu_status_of_flash(flash_status_t st, dfu_status_t generic)
{
    switch (st) {
    case FLASH_OK:
        return DFU_STATUS_OK;
    case FLASH_ERR_ADDRESS:
        return DFU_STATUS_ERR_ADDRESS;
    case FLASH_ERR_PROTECTED:
        return DFU_STATUS_ERR_WRITE;
    case FLASH_ERR_PROGRAM:
        return DFU_STATUS_ERR_PROG;
    case FLASH_ERR_ERASE:
        return DFU_STATUS_ERR_ERASE;
    case FLASH_ERR_ECC:
        return DFU_STATUS_ERR_VERIFY;
    case FLASH_ERR_POWER:
        return DFU_STATUS_ERR_POR;
    default:
        return generic;
    }
}

void dfu_work_init(dfu_work_t *w, const dfu_work_config_t *cfg)
{
    memset(w, 0, sizeof(*w));
    w->cfg = *cfg;
}

static unsigned bank_of(const dfu_work_t *w, uint32_t addr)
{
    const flash_map_t *m = map_of(w);
    int s = flash_map_sector_of(m, addr);
    unsigned b = s < 0 ? 0u : (unsigned)s / m->sectors_per_bank;
    return b < DFU_WORK_BANKS ? b : DFU_WORK_BANKS - 1u;
}

static unsigned job_bank(const dfu_work_t *w, const dfu_job_t *j)
{
    if (j->kind == DFU_JOB_ERASE) {
        return bank_of(w, flash_map_sector_addr(map_of(w), j->addr));
    }
    return bank_of(w, j->addr);
}

uint32_t dfu_work_job_us(const dfu_work_t *w, const dfu_job_t *j)
{
    if (j->kind == DFU_JOB_ERASE) {
        return j->len * w->cfg.erase_sector_us;
    }
    return (uint32_t)j->len / map_of(w)->word_size * w->cfg.program_word_us;
}

bool dfu_work_has_room(const dfu_work_t *w, uint32_t addr)
{
    return w->bank[bank_of(w, addr)].count < DFU_WORK_QLEN;
}

bool dfu_work_start(dfu_work_t *w, const dfu_job_t *job)
{
    dfu_bank_work_t *bw = &w->bank[job_bank(w, job)];
    if (bw->count >= DFU_WORK_QLEN) {
        return false;
    }
    unsigned i = (bw->head + bw->count) % DFU_WORK_QLEN;
    bw->q[i] = *job;
    bw->queued_us[i] = now_us(w);
    bw->count++;
    return true;
}

static void job_done(dfu_work_t *w, dfu_bank_work_t *bw, dfu_status_t st)
{
    dfu_job_t j = bw->q[bw->head];
    bw->head = (uint8_t)((bw->head + 1u) % DFU_WORK_QLEN);
    bw->count--;
    bw->pos = 0;
    bw->in_flight = false;
    if (w->cfg.finished != NULL) {
        w->cfg.finished(w->cfg.user, &j, st);
    }
}

/* The bank's head job failed: it and every job queued behind it end. */
static void fail(dfu_work_t *w, dfu_bank_work_t *bw, dfu_status_t st)
{
    if (w->status == DFU_STATUS_OK) {
        w->status = st;
    }
    while (bw->count > 0) {
        job_done(w, bw, st);
    }
}

void dfu_work_clear_error(dfu_work_t *w)
{
    w->status = DFU_STATUS_OK;
}

static bool all_erased(const uint8_t *p, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        if (p[i] != 0xffu) {
            return false;
        }
    }
    return true;
}

/* Before programming the word at a: it must read erased. */
static dfu_status_t check_erased(const dfu_work_t *w, uint32_t a)
{
    const flash_dev_t *f = w->cfg.flash;
    uint8_t back[WORK_WORD_MAX];
    unsigned ws = map_of(w)->word_size;
    flash_status_t st = f->ops->read(f->ctx, a, back, ws);
    if (st == FLASH_ERR_ECC || (st == FLASH_OK && !all_erased(back, ws))) {
        return DFU_STATUS_ERR_CHECK_ERASED;
    }
    return dfu_status_of_flash(st, DFU_STATUS_ERR_PROG);
}

/* After programming: the word reads back as sent. */
static dfu_status_t check_written(const dfu_work_t *w, uint32_t a, const uint8_t *want)
{
    const flash_dev_t *f = w->cfg.flash;
    uint8_t back[WORK_WORD_MAX];
    unsigned ws = map_of(w)->word_size;
    flash_status_t st = f->ops->read(f->ctx, a, back, ws);
    if (st != FLASH_OK) {
        return dfu_status_of_flash(st, DFU_STATUS_ERR_VERIFY);
    }
    return memcmp(back, want, ws) == 0 ? DFU_STATUS_OK : DFU_STATUS_ERR_VERIFY;
}

/* A blocking driver: the whole job now. */
static dfu_status_t run_blocking(dfu_work_t *w, const dfu_job_t *j)
{
    const flash_dev_t *f = w->cfg.flash;
    if (j->kind == DFU_JOB_ERASE) {
        for (uint32_t i = 0; i < j->len; i++) {
            flash_status_t st = f->ops->erase_sector(f->ctx, j->addr + i);
            if (st != FLASH_OK) {
                return dfu_status_of_flash(st, DFU_STATUS_ERR_ERASE);
            }
            w->sectors_erased++;
        }
        return DFU_STATUS_OK;
    }
    unsigned ws = map_of(w)->word_size;
    for (uint32_t off = 0; off < j->len; off += ws) {
        dfu_status_t ds = check_erased(w, j->addr + off);
        if (ds != DFU_STATUS_OK) {
            return ds;
        }
        flash_status_t st = f->ops->program_word(f->ctx, j->addr + off, j->data + off);
        if (st != FLASH_OK) {
            return dfu_status_of_flash(st, DFU_STATUS_ERR_PROG);
        }
        w->words_programmed++;
        ds = check_written(w, j->addr + off, j->data + off);
        if (ds != DFU_STATUS_OK) {
            return ds;
        }
    }
    return DFU_STATUS_OK;
}

/* A started operation of the bank has ended with st. */
static dfu_status_t unit_done(dfu_work_t *w, dfu_bank_work_t *bw, flash_status_t st)
{
    const dfu_job_t *j = &bw->q[bw->head];
    if (j->kind == DFU_JOB_ERASE) {
        if (st != FLASH_OK) {
            return dfu_status_of_flash(st, DFU_STATUS_ERR_ERASE);
        }
        w->sectors_erased++;
        bw->pos++;
        return DFU_STATUS_OK;
    }
    if (st != FLASH_OK) {
        return dfu_status_of_flash(st, DFU_STATUS_ERR_PROG);
    }
    w->words_programmed++;
    dfu_status_t ds = check_written(w, j->addr + bw->pos, j->data + bw->pos);
    bw->pos += map_of(w)->word_size;
    return ds;
}

/* Start the head job's next operation on a driver that polls. */
static dfu_status_t unit_start(dfu_work_t *w, dfu_bank_work_t *bw)
{
    const flash_dev_t *f = w->cfg.flash;
    const dfu_job_t *j = &bw->q[bw->head];
    flash_status_t st;
    if (j->kind == DFU_JOB_ERASE) {
        st = f->ops->erase_start(f->ctx, j->addr + bw->pos);
        if (st != FLASH_OK) {
            return dfu_status_of_flash(st, DFU_STATUS_ERR_ERASE);
        }
    } else {
        dfu_status_t ds = check_erased(w, j->addr + bw->pos);
        if (ds != DFU_STATUS_OK) {
            return ds;
        }
        st = f->ops->program_start(f->ctx, j->addr + bw->pos, j->data + bw->pos);
        if (st != FLASH_OK) {
            return dfu_status_of_flash(st, DFU_STATUS_ERR_PROG);
        }
    }
    bw->in_flight = true;
    return DFU_STATUS_OK;
}

static void bank_step(dfu_work_t *w, unsigned b, bool flushing)
{
    dfu_bank_work_t *bw = &w->bank[b];
    const flash_dev_t *f = w->cfg.flash;
    const bool polled = f->ops->poll != NULL;
    while (bw->count > 0) {
        const dfu_job_t *j = &bw->q[bw->head];
        if (bw->pos == 0 && !bw->in_flight) {
            /* modelled (blocking driver): the job started when the one
             * before ended, if it was queued by then */
            uint32_t t = now_us(w);
            if (!polled && (int32_t)(bw->busy_us - bw->queued_us[bw->head]) > 0 &&
                (int32_t)(t - bw->busy_us) > 0) {
                t = bw->busy_us;
            }
            bw->head_end_us = t + dfu_work_job_us(w, j);
        }
        dfu_status_t ds = DFU_STATUS_OK;
        if (!polled) {
            if (!bw->in_flight) {
                ds = run_blocking(w, j);
                bw->in_flight = true;
                bw->busy_us = bw->head_end_us;
            } else if (!flushing && w->cfg.now_us != NULL && !reached(w, bw->busy_us)) {
                return; /* the model's flash is still at it */
            } else {
                job_done(w, bw, DFU_STATUS_OK);
                continue;
            }
        } else if (bw->in_flight) {
            flash_status_t st = f->ops->poll(f->ctx, b);
            if (st == FLASH_BUSY) {
                return;
            }
            bw->in_flight = false;
            ds = unit_done(w, bw, st);
        } else {
            if (bw->pos >= j->len) {
                job_done(w, bw, DFU_STATUS_OK);
                continue;
            }
            ds = unit_start(w, bw);
            if (ds == DFU_STATUS_OK) {
                return; /* one started operation per bank and step */
            }
        }
        if (ds != DFU_STATUS_OK) {
            fail(w, bw, ds);
        }
    }
}

void dfu_work_step(dfu_work_t *w)
{
    for (unsigned b = 0; b < DFU_WORK_BANKS; b++) {
        bank_step(w, b, false);
    }
}

bool dfu_work_idle(const dfu_work_t *w)
{
    for (unsigned b = 0; b < DFU_WORK_BANKS; b++) {
        if (w->bank[b].count != 0) {
            return false;
        }
    }
    return true;
}

void dfu_work_flush(dfu_work_t *w)
{
    while (!dfu_work_idle(w)) {
        for (unsigned b = 0; b < DFU_WORK_BANKS; b++) {
            bank_step(w, b, true);
        }
    }
}

uint32_t dfu_work_head_left_us(const dfu_work_t *w, unsigned bank)
{
    const dfu_bank_work_t *bw = &w->bank[bank];
    if (bw->count == 0) {
        return 0;
    }
    uint32_t job = dfu_work_job_us(w, &bw->q[bw->head]);
    if (bw->pos == 0 && !bw->in_flight) {
        return job;
    }
    uint32_t l = left(w, bw->head_end_us);
    /* Slower than typical (a worn sector, the maximum times): ask again
     * after an eighth of the typical time rather than at once. */
    return l != 0u ? l : job / 8u + 1u;
}

uint32_t dfu_work_queue_room_us(const dfu_work_t *w)
{
    uint32_t m = 0;
    for (unsigned b = 0; b < DFU_WORK_BANKS; b++) {
        uint32_t l = w->bank[b].count >= DFU_WORK_QLEN ? dfu_work_head_left_us(w, b) : 0u;
        m = l > m ? l : m;
    }
    return m;
}

uint32_t dfu_work_all_left_us(const dfu_work_t *w)
{
    uint32_t m = 0;
    for (unsigned b = 0; b < DFU_WORK_BANKS; b++) {
        const dfu_bank_work_t *bw = &w->bank[b];
        uint32_t l = dfu_work_head_left_us(w, b);
        for (unsigned i = 1; i < bw->count; i++) {
            l += dfu_work_job_us(w, &bw->q[(bw->head + i) % DFU_WORK_QLEN]);
        }
        m = l > m ? l : m;
    }
    return m;
}
