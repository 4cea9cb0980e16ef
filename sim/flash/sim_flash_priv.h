/* Internal state of the flash model, shared by sim_flash.c and sim_flash_file.c. */
#ifndef H7_SIM_FLASH_PRIV_H
#define H7_SIM_FLASH_PRIV_H

#include <stdio.h>

#include "sim_flash.h"

struct sim_flash {
    const flash_map_t *map;
    uint32_t size;       /* bytes */
    uint32_t word_count; /* flash words */
    uint8_t *data;       /* size bytes */
    uint8_t *state;      /* word_count sim_flash_word_state_t */
    uint32_t wp_mask;    /* bit n: sector n write protected */

    sim_clock_t *clock;
    sim_flash_times_t times;
    sim_flash_overwrite_t overwrite;

    bool powered;
    sim_flash_power_hook_t hook;
    void *hook_user;
    uint64_t cut_seq; /* 0: disarmed */
    sim_flash_phase_t cut_phase;
    unsigned cut_permille;

    /* fault: a program that succeeds but leaves a wrong bit (flip_after) */
    uint64_t flip_seq;   /* 0: disarmed */
    uint64_t flip_delay; /* operations after it before the bit turns */
    uint64_t flip_at;    /* pending: flip when an operation with this seq starts */
    uint32_t flip_word;
    uint64_t silent_changes; /* cells changed outside any operation (flips) */
    FILE *log;               /* every completed modifying operation, one line each */

    sim_flash_stats_t stats;
};

#endif
