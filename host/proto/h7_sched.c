/* The send order of a write (h7_sched.h). */
#include "h7_sched.h"

#include <stdbool.h>
#include <stdlib.h>

#include "h7_error.h"

/* DS12110 "Flash memory programming", x64: tERASE128KB 1 s, tprog 100 us
 * per 256-bit flash word (the device's bwPollTimeout uses the same). */
#define SCHED_ERASE_US_PER_128K 1000000u
#define SCHED_WORD_US           100u
#define SCHED_WORD              32u

uint64_t h7_sched_cost_us(const h7_sched_item_t *it)
{
    if (it->kind == H7_SCHED_ERASE) {
        return (uint64_t)SCHED_ERASE_US_PER_128K * ((it->len + 131071u) / 131072u);
    }
    return (uint64_t)(it->len + SCHED_WORD - 1u) / SCHED_WORD * SCHED_WORD_US;
}

static unsigned bank_of(const h7_sched_in_t *in, uint32_t addr)
{
    if (in->bank_size == 0 || addr < in->flash_base) {
        return 0;
    }
    return (addr - in->flash_base) / in->bank_size != 0 ? 1u : 0u;
}

/* The next cut above a: a transfer-size boundary, a sector edge, the bank
 * boundary. */
static uint32_t next_cut(const h7_sched_in_t *in, uint32_t a, uint32_t end)
{
    uint64_t cut = ((uint64_t)a / in->xfer + 1u) * in->xfer;
    for (size_t i = 0; i < in->n_erase; i++) {
        uint64_t e0 = in->erase[i].addr, e1 = e0 + in->erase[i].size;
        if (e0 > a && e0 < cut) {
            cut = e0;
        }
        if (e1 > a && e1 < cut) {
            cut = e1;
        }
    }
    if (in->bank_size) {
        uint64_t b = (uint64_t)in->flash_base + in->bank_size;
        if (b > a && b < cut) {
            cut = b;
        }
    }
    return cut < end ? (uint32_t)cut : end;
}

/* Address order, an erase before the blocks at its address. */
static int cmp_item(const void *x, const void *y)
{
    const h7_sched_item_t *a = x, *b = y;
    if (a->addr != b->addr) {
        return a->addr < b->addr ? -1 : 1;
    }
    return (int)a->kind - (int)b->kind;
}

int h7_sched_make(const h7_sched_in_t *in, h7_sched_item_t **out, size_t *n)
{
    size_t cap = in->n_erase + 1u;
    for (size_t i = 0; i < in->n_block; i++) {
        cap += in->block[i].len / (in->xfer ? in->xfer : 1u) + 3u + 2u * in->n_erase;
    }
    h7_sched_item_t *all = malloc(cap * sizeof(*all));
    h7_sched_item_t *res = malloc(cap * sizeof(*res));
    if (all == NULL || res == NULL || in->xfer == 0) {
        free(all);
        free(res);
        return H7_E_NOMEM;
    }
    size_t k = 0;
    for (size_t i = 0; i < in->n_erase; i++) {
        all[k++] = (h7_sched_item_t){H7_SCHED_ERASE, in->erase[i].addr, in->erase[i].size, NULL};
    }
    for (size_t i = 0; i < in->n_block; i++) {
        const h7_plan_block_t *b = &in->block[i];
        uint32_t end = b->addr + b->len;
        for (uint32_t a = b->addr; a < end && k < cap;) {
            uint32_t c = next_cut(in, a, end);
            all[k++] = (h7_sched_item_t){H7_SCHED_BLOCK, a, c - a, b->data + (a - b->addr)};
            a = c;
        }
    }
    qsort(all, k, sizeof(*all), cmp_item);
    /* merge the two banks' streams by the flash time sent to each */
    size_t next[2] = {0, 0};
    uint64_t work[2] = {0, 0};
    size_t m = 0;
    for (;;) {
        for (unsigned bk = 0; bk < 2; bk++) {
            while (next[bk] < k && bank_of(in, all[next[bk]].addr) != bk) {
                next[bk]++;
            }
        }
        bool has0 = next[0] < k, has1 = next[1] < k;
        if (!has0 && !has1) {
            break;
        }
        unsigned bk = !has0 ? 1u : !has1 ? 0u : (work[1] < work[0] ? 1u : 0u);
        res[m] = all[next[bk]++];
        work[bk] += h7_sched_cost_us(&res[m]);
        m++;
    }
    free(all);
    *out = res;
    *n = m;
    return 0;
}
