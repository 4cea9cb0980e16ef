/*
 * The virtual STM32H743's embedded flash: a flash_ops_t backend that keeps the
 * rules the silicon enforces (or punishes), so the device code meets them in
 * tests exactly as on a board.
 *
 * Rules modelled (RM0433 chapter 4, DS12110):
 *  - 2 MiB, 2 banks x 8 sectors x 128 KiB, erased cells read 0xFF.
 *  - Programming unit: one 256-bit (32-byte) flash word with its ECC
 *    (RM0433 4.3.9). Each word is ERASED, PROGRAMMED or ECC_CORRUPT.
 *  - Overwriting a word that is not virgin: RM0433 4.3.9 says it "is not
 *    recommended ... may lead to an inconsistent ECC code that will be
 *    systematically reported" (4.7.7, SNECCERR/DBECCERR). The silicon raises
 *    no flag at program time. The model offers two policies:
 *      SIM_FLASH_OVERWRITE_REFUSE (default): program_word fails with
 *        FLASH_ERR_PROGRAM and leaves the word untouched, i.e. what a driver
 *        that checks for virgin words first reports (our port does);
 *      SIM_FLASH_OVERWRITE_CORRUPT: the silicon's behaviour, the call
 *        "succeeds" and the word is ECC-corrupt afterwards.
 *  - Partial words only through sim_flash_force_write() (FW1/FW2 bit,
 *    RM0433 4.9.4): missing bytes are written as 1s and the word's ECC is
 *    committed, so a second force write into the same word corrupts its ECC.
 *  - Reads touching an ECC-corrupt word return FLASH_ERR_ECC (DBECCERR,
 *    RM0433 4.7.7); the buffer still receives the stored bytes.
 *  - Write-protected sectors (option bytes WPSN, RM0433 4.5) refuse erase
 *    and program with FLASH_ERR_PROTECTED (WRPERR); a bank erase is refused
 *    when any sector of the bank is protected.
 *  - Each operation charges its DS12110 time on the attached sim_clock.
 *
 * Power cuts: every modifying operation (erase sector, erase bank, program,
 * force write) calls the power hook up to three times: BEFORE (nothing done
 * yet), DURING (half done: see SIM_FLASH_PHASE_DURING) and AFTER (completed).
 * When the hook returns true the board loses power at that point: the call
 * returns FLASH_ERR_POWER, and so does every later call until
 * sim_flash_power_on(). Reads are not operations for the hook (they change
 * nothing) but are refused while the power is off.
 */
#ifndef H7_SIM_FLASH_H
#define H7_SIM_FLASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "flash.h"
#include "sim_clock.h"

typedef struct sim_flash sim_flash_t;

typedef enum sim_flash_word_state {
    SIM_WORD_ERASED = 0,
    SIM_WORD_PROGRAMMED = 1,
    SIM_WORD_ECC_CORRUPT = 2,
} sim_flash_word_state_t;

typedef enum sim_flash_overwrite {
    SIM_FLASH_OVERWRITE_REFUSE = 0,
    SIM_FLASH_OVERWRITE_CORRUPT = 1,
} sim_flash_overwrite_t;

/* ---- timing (DS12110 "Flash memory programming" table) ---- */

/* Program/erase parallelism, FLASH_CR1/2.PSIZE (RM0433 4.9.4). */
typedef enum sim_flash_psize {
    SIM_FLASH_X8 = 0,
    SIM_FLASH_X16 = 1,
    SIM_FLASH_X32 = 2,
    SIM_FLASH_X64 = 3,
} sim_flash_psize_t;

typedef struct sim_flash_times {
    uint64_t prog_word_ns;    /* tprog: one 256-bit flash word (+10 ECC bits) */
    uint64_t sector_erase_ns; /* tERASE128KB */
    uint64_t bank_erase_ns;   /* tME, charged for a bank erase */
} sim_flash_times_t;

/* The datasheet values for a parallelism; max=false gives typical. */
const sim_flash_times_t *sim_flash_ds12110_times(sim_flash_psize_t psize, bool max);

/* ---- power cuts ---- */

typedef enum sim_flash_op {
    SIM_FLASH_OP_ERASE_SECTOR = 0,
    SIM_FLASH_OP_ERASE_BANK,
    SIM_FLASH_OP_PROGRAM,
    SIM_FLASH_OP_FORCE_WRITE,
} sim_flash_op_t;

typedef enum sim_flash_phase {
    /* Cut before the operation: flash unchanged, no time charged. */
    SIM_FLASH_PHASE_BEFORE = 0,
    /* Cut in the middle (progress set by sim_flash_set_cut_progress, default
     * 50%): an erase leaves the words before the progress point erased, the
     * word at that point and every programmed word after it ECC-corrupt
     * (cells half erased), erased words after it erased; a program or force
     * write leaves its word ECC-corrupt. Time charged pro rata. */
    SIM_FLASH_PHASE_DURING,
    /* Cut right after completion: flash as after success, full time charged,
     * but the caller never sees the completion (FLASH_ERR_POWER). */
    SIM_FLASH_PHASE_AFTER,
} sim_flash_phase_t;

typedef struct sim_flash_event {
    uint64_t seq; /* 1-based number of this operation (see sim_flash_op_count) */
    sim_flash_op_t op;
    sim_flash_phase_t phase;
    unsigned sector; /* sector (erase, program), or bank (bank erase) */
    uint32_t addr;   /* first byte concerned */
} sim_flash_event_t;

/* Return true to cut the power at this event. */
typedef bool (*sim_flash_power_hook_t)(void *user, const sim_flash_event_t *ev);

/* ---- statistics ---- */

typedef struct sim_flash_stats {
    uint64_t ops;              /* modifying operations started (= sim_flash_op_count) */
    uint64_t sector_erases;    /* completed */
    uint64_t bank_erases;      /* completed */
    uint64_t words_programmed; /* completed program_word calls */
    uint64_t force_writes;     /* completed force writes */
    uint64_t bytes_read;
    uint64_t ecc_errors; /* reads that returned FLASH_ERR_ECC */
    uint64_t refused;    /* calls refused (address, protection, not erased) */
    uint64_t power_cuts; /* cuts that happened */
    uint64_t busy_ns;    /* virtual time charged by the flash */
} sim_flash_stats_t;

/* ---- life cycle ---- */

/* A fully erased, unprotected, powered flash. clock may be NULL (no timing);
 * it is borrowed, not owned. Returns NULL when out of memory. */
sim_flash_t *sim_flash_new(sim_clock_t *clock);
void sim_flash_free(sim_flash_t *f);

const flash_map_t *sim_flash_map(const sim_flash_t *f);
/* Describe the same chip by another map (another set of reserved sectors,
 * e.g. flash_map_stm32h743_signed()): devices made by sim_flash_dev() after
 * this carry it. false (nothing changed) when its geometry differs. */
bool sim_flash_set_map(sim_flash_t *f, const flash_map_t *map);
/* The flash as the device core sees it. */
flash_dev_t sim_flash_dev(sim_flash_t *f);
extern const flash_ops_t sim_flash_ops;

/* ---- operations (the same as through sim_flash_ops) ---- */

flash_status_t sim_flash_erase_sector(sim_flash_t *f, unsigned sector);
flash_status_t sim_flash_erase_bank(sim_flash_t *f, unsigned bank);
flash_status_t sim_flash_program_word(sim_flash_t *f, uint32_t addr, const uint8_t *word);
flash_status_t sim_flash_read(sim_flash_t *f, uint32_t addr, void *buf, size_t len);
/* Program len (1..32) bytes at addr inside one flash word, like FW1/FW2. */
flash_status_t sim_flash_force_write(sim_flash_t *f, uint32_t addr, const void *data, size_t len);

/* ---- configuration and inspection ---- */

void sim_flash_set_clock(sim_flash_t *f, sim_clock_t *clock);
void sim_flash_set_times(sim_flash_t *f, const sim_flash_times_t *t); /* default x64 typ */
/* The times charged now (what sim_flash_set_times() last set). */
const sim_flash_times_t *sim_flash_get_times(const sim_flash_t *f);
void sim_flash_set_overwrite_policy(sim_flash_t *f, sim_flash_overwrite_t p);
void sim_flash_set_write_protect(sim_flash_t *f, unsigned sector, bool on);
bool sim_flash_is_write_protected(const sim_flash_t *f, unsigned sector);
/* State of the flash word holding addr (addr must be inside the flash). */
sim_flash_word_state_t sim_flash_word_state(const sim_flash_t *f, uint32_t addr);
/* Raw bytes regardless of power and ECC state (for tests and dumps). */
const uint8_t *sim_flash_raw(const sim_flash_t *f);
/* Put len (>= 1) bytes at addr straight into the array, as a debugger would
 * (h7dfu-sim flash poke): no operation (no power check, protection, time or
 * count), the other bytes of the words touched kept, each word touched then
 * PROGRAMMED with a consistent ECC. Counts as a silent change.
 * FLASH_ERR_ADDRESS when the bytes are not all inside the flash. */
flash_status_t sim_flash_poke(sim_flash_t *f, uint32_t addr, const void *data, size_t len);

void sim_flash_get_stats(const sim_flash_t *f, sim_flash_stats_t *out);
void sim_flash_reset_stats(sim_flash_t *f); /* also restarts the op count */

/* ---- power ---- */

void sim_flash_set_power_hook(sim_flash_t *f, sim_flash_power_hook_t hook, void *user);
/* Counter helper: cut at operation number n (1-based, as ev->seq) in phase.
 * n = 0 disarms it. Independent of the hook; one-shot. */
void sim_flash_cut_at(sim_flash_t *f, uint64_t n, sim_flash_phase_t phase);
/* Where a DURING cut stops an operation, in per mille (0..1000, default 500). */
void sim_flash_set_cut_progress(sim_flash_t *f, unsigned permille);
/*
 * Fault: program operation number n (as ev->seq) completes and reports
 * success, but one bit of its word (bit 0 of byte 21) holds the other value,
 * with an ECC that agrees, so nothing flags it (a disturbed write buffer, a
 * weak cell). delay > 0: the word reads back right until delay further
 * operations have started ("reads back differently later"). One-shot; n = 0
 * disarms. For tests of the host's verification.
 */
void sim_flash_flip_after(sim_flash_t *f, uint64_t n, uint64_t delay);
/* How many times cells changed outside an operation (a delayed flip): a
 * cache of the array (the emulated chip's) must then be refreshed. */
uint64_t sim_flash_silent_changes(const sim_flash_t *f);
/* Log every completed modifying operation to out ("seq op addr" lines, op:
 * erase-sector, erase-bank, program, force-write); NULL: none. */
void sim_flash_set_log(sim_flash_t *f, FILE *out);

/* Modifying operations started since creation or sim_flash_reset_stats(). A
 * runner counts the operations of a clean run, then replays it with
 * sim_flash_cut_at(n, phase) for every n and phase. */
uint64_t sim_flash_op_count(const sim_flash_t *f);
/* Make dst's array (contents, word states, write protection) a copy of src's;
 * power, hooks, clock and statistics are left alone. For runners that restart
 * from the same flash many times. */
void sim_flash_copy_contents(sim_flash_t *dst, const sim_flash_t *src);
bool sim_flash_powered(const sim_flash_t *f);
void sim_flash_power_off(sim_flash_t *f); /* unplug between operations */
void sim_flash_power_on(sim_flash_t *f);

/* ---- persistence (h7dfu-sim --flash FILE) ----
 *
 * File format, all integers little endian:
 *   offset  size  field
 *   0       8     magic "H7SIMFL\0"
 *   8       4     version, 1
 *   12      4     array size in bytes (2097152)
 *   16      4     flash word size in bytes (32)
 *   20      4     sector count (16)
 *   24      4     write-protect mask (bit n: sector n)
 *   28      4     reserved, 0
 *   32      size  array contents
 *   32+size size/32  one byte per flash word: 0 erased, 1 programmed,
 *                 2 ECC-corrupt
 * An erased word must hold 0xFF bytes. Save writes FILE.tmp then renames.
 *
 * Both return 0 on success, -1 with errno set on failure (EINVAL: not a valid
 * flash file; the flash is left unchanged). Loading a missing file (ENOENT)
 * succeeds and leaves the flash erased and unprotected.
 */
int sim_flash_load(sim_flash_t *f, const char *path);
int sim_flash_save(const sim_flash_t *f, const char *path);

#endif
