/*
 * The planner: maps an image onto a device's memory layout before anything is
 * sent. Out comes the list of sectors to erase (only those the image touches)
 * and the write blocks, aligned and padded to the program unit (32-byte flash
 * words on the H743, padding 0xFF, the erased value), or a refusal naming the
 * first offending address and why. A pure function: no I/O.
 */
#ifndef H7_PLAN_H
#define H7_PLAN_H

#include "h7_image.h"
#include "h7_layout.h"

typedef struct h7_plan_opts {
    uint32_t program_unit; /* bytes; 0 means 1 */
    uint8_t pad;           /* fill for the padding, normally 0xFF */
    int alt;               /* plan only segments of this alt setting; -1: all */
} h7_plan_opts_t;

/* 32-byte words, 0xFF padding, all alt settings. */
h7_plan_opts_t h7_plan_default_opts(void);

typedef struct h7_plan_erase {
    uint32_t addr;
    uint32_t size;
    unsigned index; /* sector index in the layout */
} h7_plan_erase_t;

typedef struct h7_plan_block {
    uint32_t addr; /* multiple of program_unit */
    uint32_t len;  /* multiple of program_unit */
    uint8_t *data; /* image bytes, gaps and edges filled with opts.pad */
} h7_plan_block_t;

typedef struct h7_plan {
    h7_plan_erase_t *erase; /* ascending */
    size_t n_erase;
    h7_plan_block_t *block; /* ascending, never sharing a program unit */
    size_t n_block;
    uint64_t write_bytes; /* sum of block lengths */
    uint64_t erase_bytes; /* sum of erased sector sizes */
} h7_plan_t;

typedef enum h7_plan_reason {
    H7_PLAN_OK = 0,
    H7_PLAN_OUTSIDE,      /* address in no sector of the layout */
    H7_PLAN_NOT_WRITABLE, /* sector without the writable attribute (e.g. the bootloader's) */
    H7_PLAN_TOO_BIG,      /* more data than the layout's writable memory */
    H7_PLAN_EMPTY,        /* nothing to write for the chosen alt setting */
    H7_PLAN_BAD_OPTS,
    H7_PLAN_NOMEM,
} h7_plan_reason_t;

typedef struct h7_plan_refusal {
    h7_plan_reason_t reason;
    uint32_t addr; /* first offending address */
    char message[256];
} h7_plan_refusal_t;

const char *h7_plan_reason_name(h7_plan_reason_t r);

/* Returns 0 with *plan filled, or -1 with *why filled and *plan empty. */
int h7_plan_make(const h7_image_t *img, const h7_layout_t *layout, const h7_plan_opts_t *opts,
                 h7_plan_t *plan, h7_plan_refusal_t *why);
void h7_plan_free(h7_plan_t *plan);

#endif
