/*
 * Fuzz target: the DfuSe memory-layout parser and the planner of host/plan.
 *
 * Input:
 *   byte 0        options: bits 0-2 program unit (table below), bit 3 alt 0
 *                 only (else all alt settings), bits 4-7 the pad byte's
 *                 high nibble
 *   layout        up to the first '\n' (at most 255 bytes): the interface
 *                 string; when it does not parse, the H743's own string is
 *                 used so the image half is still planned
 *   image         the rest: any format the loaders detect (raw binary at
 *                 0x08020000 otherwise)
 *
 * Invariants (abort on violation):
 *   - a refused layout leaves a terminated message; a parsed one has at most
 *     H7_LAYOUT_MAX_GROUPS groups, a terminated name;
 *   - a refused plan is empty, with a reason and a terminated message;
 *   - a plan: erase sectors ascending, each one sector of the layout that is
 *     erasable; blocks aligned to the program unit, non-empty, inside
 *     writable sectors, ascending and apart; every image byte in a block with
 *     its value; write_bytes / erase_bytes the sums;
 *   - no ASan / UBSan finding.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_common.h"
#include "h7_image.h"
#include "h7_layout.h"
#include "h7_plan.h"

#define H743_LAYOUT "@Internal Flash  /0x081E0000/01*128Kg/0x08020000/14*128Kg/0x08000000/01*128Ka"

static bool terminated(const char *s, size_t cap)
{
    return memchr(s, '\0', cap) != NULL;
}

/* Every byte of [addr, addr + len) lies in sectors with all bits of attr. */
static void check_in_sectors(const h7_layout_t *l, uint32_t addr, uint32_t len, uint8_t attr)
{
    uint64_t a = addr, end = (uint64_t)addr + len;
    while (a < end) {
        h7_sector_t sec;
        FUZZ_CHECK(a <= UINT32_MAX && h7_layout_find(l, (uint32_t)a, &sec));
        FUZZ_CHECK((sec.attr & attr) == attr);
        FUZZ_CHECK(sec.addr <= a && a - sec.addr < sec.size);
        a = (uint64_t)sec.addr + sec.size;
    }
}

static bool single_alt(const h7_image_t *img)
{
    for (size_t i = 1; i < img->count; i++) {
        if (img->seg[i].alt != img->seg[0].alt) {
            return false;
        }
    }
    return true;
}

static void check_plan(const h7_image_t *img, const h7_layout_t *l, const h7_plan_opts_t *o,
                       const h7_plan_t *p)
{
    const uint32_t unit = o->program_unit ? o->program_unit : 1u;
    uint64_t erase_bytes = 0, write_bytes = 0;
    for (size_t i = 0; i < p->n_erase; i++) {
        const h7_plan_erase_t *e = &p->erase[i];
        h7_sector_t sec;
        FUZZ_CHECK(h7_layout_find(l, e->addr, &sec));
        /* Groups never overlap (the parser refuses that: fuzz/crashes/plan-1,
         * plan-2), so each address is in exactly one sector. */
        FUZZ_CHECK(sec.addr == e->addr && sec.size == e->size && sec.index == e->index);
        FUZZ_CHECK(sec.attr & H7_MEM_ERASE);
        if (i > 0) {
            FUZZ_CHECK(p->erase[i - 1].addr < e->addr);
        }
        erase_bytes += e->size;
    }
    FUZZ_CHECK(p->erase_bytes == erase_bytes);
    FUZZ_CHECK(p->n_block > 0 && p->block != NULL);
    /* Blocks carry no alt setting: with several in the plan, their address
     * spaces may overlap, so order is only checked for one. */
    const bool one_space = o->alt >= 0 || single_alt(img);
    for (size_t i = 0; i < p->n_block; i++) {
        const h7_plan_block_t *b = &p->block[i];
        FUZZ_CHECK(b->len > 0 && b->data != NULL);
        FUZZ_CHECK(b->addr % unit == 0 && b->len % unit == 0);
        FUZZ_CHECK((uint64_t)b->addr + b->len <= 0x100000000ull);
        check_in_sectors(l, b->addr, b->len, H7_MEM_WRITE);
        if (i > 0 && one_space) {
            FUZZ_CHECK((uint64_t)p->block[i - 1].addr + p->block[i - 1].len < b->addr);
        }
        write_bytes += b->len;
    }
    FUZZ_CHECK(p->write_bytes == write_bytes);
    if (!one_space) {
        return;
    }
    /* Every selected image byte is in the block covering its address. */
    size_t bi = 0;
    for (size_t i = 0; i < img->count; i++) {
        const h7_segment_t *s = &img->seg[i];
        if (o->alt >= 0 && s->alt != o->alt) {
            continue;
        }
        for (uint32_t k = 0; k < s->len; k++) {
            uint64_t a = (uint64_t)s->addr + k;
            while (bi < p->n_block && (uint64_t)p->block[bi].addr + p->block[bi].len <= a) {
                bi++;
            }
            FUZZ_CHECK(bi < p->n_block && p->block[bi].addr <= a);
            FUZZ_CHECK(p->block[bi].data[a - p->block[bi].addr] == s->data[k]);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint32_t units[8] = {32u, 0u, 1u, 4u, 8u, 256u, 3u, 2048u};
    if (size < 1) {
        return 0;
    }
    const uint8_t flags = data[0];
    data++;
    size--;

    char str[256];
    size_t n = 0;
    while (n < size && n < sizeof str - 1 && data[n] != '\n') {
        str[n] = (char)data[n];
        n++;
    }
    str[n] = '\0';
    const uint8_t *rest = data + n + (n < size ? 1 : 0);
    size_t rest_len = size - n - (n < size ? 1 : 0);

    h7_layout_t layout;
    char err[200];
    err[0] = '\0';
    if (h7_layout_parse(str, &layout, err, sizeof err) != 0) {
        FUZZ_CHECK(terminated(err, sizeof err) && err[0] != '\0');
        FUZZ_CHECK(h7_layout_parse(H743_LAYOUT, &layout, err, sizeof err) == 0);
    }
    FUZZ_CHECK(layout.ngroups <= H7_LAYOUT_MAX_GROUPS);
    FUZZ_CHECK(terminated(layout.name, sizeof layout.name));
    char attr[64];
    for (size_t g = 0; g < layout.ngroups; g++) {
        FUZZ_CHECK(
            terminated(h7_mem_attr_str(layout.group[g].attr, attr, sizeof attr), sizeof attr));
    }
    (void)h7_layout_size(&layout, 0);

    h7_image_t img;
    h7_image_error_t ierr;
    h7_load_opts_t lo = {.format = H7_FMT_AUTO, .has_base = true, .base = 0x08020000u};
    if (h7_image_load_mem(&img, rest, rest_len, "plan", &lo, &ierr) != 0) {
        return 0;
    }

    h7_plan_opts_t o = h7_plan_default_opts();
    o.program_unit = units[flags & 7u];
    o.alt = (flags & 8u) ? 0 : -1;
    o.pad = (uint8_t)((flags & 0xf0u) | 0x0fu);
    h7_plan_t plan;
    h7_plan_refusal_t why;
    if (h7_plan_make(&img, &layout, &o, &plan, &why) != 0) {
        FUZZ_CHECK(why.reason != H7_PLAN_OK);
        FUZZ_CHECK(terminated(why.message, sizeof why.message) && why.message[0] != '\0');
        FUZZ_CHECK(plan.n_block == 0 && plan.block == NULL);
        FUZZ_CHECK(plan.n_erase == 0 && plan.erase == NULL);
        FUZZ_CHECK(h7_plan_reason_name(why.reason) != NULL);
    } else {
        check_plan(&img, &layout, &o, &plan);
        h7_plan_free(&plan);
    }
    h7_image_free(&img);
    return 0;
}
