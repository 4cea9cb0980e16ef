/*
 * The order h7dfu sends a write in: erases and data blocks for a device
 * whose flash works in the background (the h7dfu bootloader queues jobs per
 * bank, docs/protocol.md), arranged so that both banks of the STM32H743
 * work at the same time.
 *
 * Each bank gets a stream in address order: a sector's erase, then the
 * blocks inside that sector. The streams are merged by the flash time they
 * hold (DS12110 typical times: sector erase 1 s, flash word 100 us): the
 * next item always comes from the bank with the least work sent so far, so
 * a bank never waits for the other's blocks. With bank_size 0 there is one
 * stream: erase, blocks, erase, blocks (what dfu-util does).
 *
 * Blocks are cut at multiples of the transfer size (absolute addresses) and
 * at sector ends: with one address pointer, block number n reaches any
 * aligned block above it (DfuSe: address = pointer + (n - 2) x size), so
 * switching banks costs no set-address.
 */
#ifndef H7_SCHED_H
#define H7_SCHED_H

#include <stddef.h>
#include <stdint.h>

#include "h7_plan.h"

typedef enum h7_sched_kind {
    H7_SCHED_ERASE = 0,
    H7_SCHED_BLOCK,
} h7_sched_kind_t;

typedef struct h7_sched_item {
    h7_sched_kind_t kind;
    uint32_t addr;
    uint32_t len; /* erase: the sector's size; block: bytes, <= the transfer size */
    const uint8_t *data;
} h7_sched_item_t;

typedef struct h7_sched_in {
    const h7_plan_erase_t *erase; /* sectors to erase, ascending */
    size_t n_erase;
    const h7_plan_block_t *block; /* data, ascending */
    size_t n_block;
    uint32_t xfer;       /* transfer size */
    uint32_t flash_base; /* with bank_size: where bank 1 starts */
    uint32_t bank_size;  /* 0: one bank */
} h7_sched_in_t;

/* The typical flash time of an item, in microseconds. */
uint64_t h7_sched_cost_us(const h7_sched_item_t *it);

/* Fills *out (malloc'd, free() it) with *n items. 0, or H7_E_NOMEM. */
int h7_sched_make(const h7_sched_in_t *in, h7_sched_item_t **out, size_t *n);

#endif
