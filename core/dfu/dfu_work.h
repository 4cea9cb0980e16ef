/*
 * The DFU driver's flash work: jobs (erase sectors, program a block) queued
 * per flash bank and carried out in short steps, so that the main loop keeps
 * serving USB while the flash works, and both banks work at the same time.
 *
 * The DFU state machine (dfu.c) starts a job with dfu_work_start(); the
 * worker tells it through cfg.finished when the job is over (its buffer is
 * free again) and with which status. dfu_work_step() is the main loop's
 * hook: it collects the operations the flash has finished and starts the
 * next ones, one flash word (about 100 us) or one sector erase (about 1 s)
 * per bank, and returns at once.
 *
 * With a driver that only blocks (flash_ops_t without poll: the simulator's
 * model, test fakes) a step runs the whole job, and when the worker has a
 * clock the job counts as running until its typical duration has passed:
 * the model of a flash that works in the background.
 *
 * Per bank, jobs run in the order they were started (an erase before the
 * writes into its sector). After a failure the queued jobs are dropped
 * (each reported finished with the failure) until dfu_work_clear_error().
 */
#ifndef H7_DFU_WORK_H
#define H7_DFU_WORK_H

#include <stdbool.h>
#include <stdint.h>

#include "dfu_defs.h"
#include "flash.h"

#define DFU_WORK_BANKS 2u
#define DFU_WORK_QLEN  8u /* jobs per bank */

typedef enum dfu_job_kind {
    DFU_JOB_ERASE = 1, /* len sectors from sector number addr */
    DFU_JOB_WRITE,     /* len bytes (whole flash words) of data at addr */
} dfu_job_kind_t;

typedef struct dfu_job {
    uint8_t kind;
    uint8_t tag;  /* the starter's (dfu.c: the buffer index) */
    uint16_t len; /* WRITE: bytes, a multiple of the word size */
    uint32_t addr;
    const uint8_t *data;
} dfu_job_t;

/* A microsecond counter (wraps at 2^32); NULL: no clock. */
typedef uint32_t (*dfu_work_clock_fn)(void *user);

typedef struct dfu_work_config {
    const flash_dev_t *flash;
    uint32_t erase_sector_us; /* typical durations, for the estimates */
    uint32_t program_word_us;
    dfu_work_clock_fn now_us;
    void *clock_user;
    /* A job is over (status DFU_STATUS_OK or the failure). */
    void (*finished)(void *user, const dfu_job_t *job, dfu_status_t status);
    void *user;
} dfu_work_config_t;

typedef struct dfu_bank_work {
    dfu_job_t q[DFU_WORK_QLEN];
    uint32_t queued_us[DFU_WORK_QLEN];
    uint8_t head;
    uint8_t count;
    bool in_flight;       /* started driver operation, or modelled busy time */
    uint32_t pos;         /* head job: bytes done (WRITE) or sectors done */
    uint32_t busy_us;     /* blocking driver: the head job counts as running until */
    uint32_t head_end_us; /* estimate: the head job ends */
} dfu_bank_work_t;

typedef struct dfu_work {
    dfu_work_config_t cfg;
    dfu_bank_work_t bank[DFU_WORK_BANKS];
    dfu_status_t status; /* first failure since dfu_work_clear_error() */
    uint32_t words_programmed;
    uint32_t sectors_erased;
} dfu_work_t;

void dfu_work_init(dfu_work_t *w, const dfu_work_config_t *cfg);
/* Queue a job on its bank. False: that bank's queue is full (try after a
 * step). A WRITE must lie in one bank. */
bool dfu_work_start(dfu_work_t *w, const dfu_job_t *job);
/* Collect finished operations and start the next ones; never waits. */
void dfu_work_step(dfu_work_t *w);
/* Step until no job is left (a bus reset, ABORT, a read of the flash). */
void dfu_work_flush(dfu_work_t *w);
bool dfu_work_idle(const dfu_work_t *w);
/* Room for one more job on the bank of addr. */
bool dfu_work_has_room(const dfu_work_t *w, uint32_t addr);
/* Estimates from the typical durations: microseconds until the bank's
 * running job ends, and until all the work queued ends (every bank). */
uint32_t dfu_work_head_left_us(const dfu_work_t *w, unsigned bank);
uint32_t dfu_work_all_left_us(const dfu_work_t *w);
/* Until every bank whose queue is full has room for one more job. */
uint32_t dfu_work_queue_room_us(const dfu_work_t *w);
/* The typical duration of a job. */
uint32_t dfu_work_job_us(const dfu_work_t *w, const dfu_job_t *job);
/* The DFU status for a flash driver's failure (generic: for FLASH_ERR_HW). */
dfu_status_t dfu_status_of_flash(flash_status_t st, dfu_status_t generic);
static inline dfu_status_t dfu_work_error(const dfu_work_t *w)
{
    return w->status;
}
void dfu_work_clear_error(dfu_work_t *w);

#endif
