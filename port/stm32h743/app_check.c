#include "app_check.h"

/* RM0433 2.3.1 Figure 6 "Memory map": DTCM 128 KiB at 0x2000 0000, AXI SRAM
 * 512 KiB at 0x2400 0000; flash bank 1 from 0x0800 0000, 2 MiB total. */
const h7_app_region_t h7_app_region_h743 = {
    .flash_start = 0x08020000u,
    .flash_end = 0x08200000u,
    .ram_start = 0x20000000u,
    .ram_end = 0x20020000u,
    .ram2_start = 0x24000000u,
    .ram2_end = 0x24080000u,
};

#define MIN_VECTORS (16u * 4u) /* the 16 core exception vectors */

bool h7_app_vectors_plausible(const h7_app_region_t *r, uint32_t sp, uint32_t reset)
{
    bool sp_ok = (sp & 3u) == 0u && ((sp > r->ram_start && sp <= r->ram_end) ||
                                     (sp > r->ram2_start && sp <= r->ram2_end));
    uint32_t pc = reset & ~1u;
    bool pc_ok = (reset & 1u) != 0u && pc >= r->flash_start + MIN_VECTORS && pc < r->flash_end;
    return sp_ok && pc_ok;
}
