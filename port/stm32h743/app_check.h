/*
 * Plausibility check of an application's vector table (no hardware access:
 * also compiled for the host tests). A proper signed/CRC'd image header is
 * the boot layer's job in a later issue; this only stops a jump into erased
 * or foreign flash.
 */
#ifndef H7_APP_CHECK_H
#define H7_APP_CHECK_H

#include <stdbool.h>
#include <stdint.h>

typedef struct h7_app_region {
    uint32_t flash_start, flash_end; /* [start, end) where the app's code lives */
    /* (start, end]: valid initial stack pointers, two RAM ranges */
    uint32_t ram_start, ram_end;
    uint32_t ram2_start, ram2_end;
} h7_app_region_t;

/* The H743 app region: flash 0x08020000..0x08200000, stack in DTCM
 * (0x20000000..0x20020000) or AXI SRAM (0x24000000..0x24080000). */
extern const h7_app_region_t h7_app_region_h743;

/* True when sp is a word-aligned address within RAM (top of RAM allowed),
 * and reset is a Thumb (bit 0 set) address inside the app's flash after its
 * vector table. */
bool h7_app_vectors_plausible(const h7_app_region_t *r, uint32_t sp, uint32_t reset);

#endif
