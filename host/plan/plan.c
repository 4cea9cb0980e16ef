/*
 * Planner: image + layout -> sectors to erase + aligned write blocks, or a
 * refusal. Checks, in order: the image fits the writable memory at all; every
 * data byte lies in a writable sector; the padding added to reach whole
 * program units does too. A writable sector that is not erasable (DfuSe type
 * 'd'/'e', e.g. option bytes) is written without an erase.
 */
#include "h7_plan.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int refuse(h7_plan_refusal_t *why, h7_plan_reason_t r, uint32_t addr, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int refuse(h7_plan_refusal_t *why, h7_plan_reason_t r, uint32_t addr, const char *fmt, ...)
{
    if (why) {
        why->reason = r;
        why->addr = addr;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why->message, sizeof(why->message), fmt, ap);
        va_end(ap);
    }
    return -1;
}

const char *h7_plan_reason_name(h7_plan_reason_t r)
{
    switch (r) {
    case H7_PLAN_OK:
        return "ok";
    case H7_PLAN_OUTSIDE:
        return "outside the device memory";
    case H7_PLAN_NOT_WRITABLE:
        return "sector not writable";
    case H7_PLAN_TOO_BIG:
        return "image too big";
    case H7_PLAN_EMPTY:
        return "nothing to write";
    case H7_PLAN_BAD_OPTS:
        return "bad options";
    case H7_PLAN_NOMEM:
        return "out of memory";
    }
    return "?";
}

h7_plan_opts_t h7_plan_default_opts(void)
{
    return (h7_plan_opts_t){.program_unit = 32, .pad = 0xFF, .alt = -1};
}

static bool selected(const h7_segment_t *s, const h7_plan_opts_t *o)
{
    return o->alt < 0 || s->alt == o->alt;
}

/* Every byte of [a, end) must sit in a writable sector; note erasable ones. */
static int check_range(const h7_layout_t *l, uint64_t a, uint64_t end, const char *what,
                       h7_plan_t *plan, size_t *erase_cap, h7_plan_refusal_t *why)
{
    while (a < end) {
        h7_sector_t sec;
        if (a > UINT32_MAX || !h7_layout_find(l, (uint32_t)a, &sec)) {
            return refuse(why, H7_PLAN_OUTSIDE, (uint32_t)a,
                          "%s at 0x%08llx is outside \"%s\" (no sector there)", what,
                          (unsigned long long)a, l->name);
        }
        if (!(sec.attr & H7_MEM_WRITE)) {
            char attr[64];
            bool kib = sec.size % 1024 == 0;
            return refuse(why, H7_PLAN_NOT_WRITABLE, (uint32_t)a,
                          "%s at 0x%08llx falls in sector %u (0x%08x, %u %s), which is %s: not "
                          "writable%s",
                          what, (unsigned long long)a, sec.index, sec.addr,
                          kib ? sec.size / 1024 : sec.size, kib ? "KiB" : "bytes",
                          h7_mem_attr_str(sec.attr, attr, sizeof(attr)),
                          sec.attr == H7_MEM_READ ? " (reserved, e.g. the bootloader's)" : "");
        }
        if (sec.attr & H7_MEM_ERASE) {
            bool have = false;
            for (size_t i = plan->n_erase; i-- > 0;) {
                if (plan->erase[i].index == sec.index) {
                    have = true;
                    break;
                }
            }
            if (!have) {
                if (plan->n_erase == *erase_cap) {
                    size_t cap = *erase_cap ? *erase_cap * 2 : 16;
                    h7_plan_erase_t *e = realloc(plan->erase, cap * sizeof(*e));
                    if (!e) {
                        return refuse(why, H7_PLAN_NOMEM, (uint32_t)a, "out of memory");
                    }
                    plan->erase = e;
                    *erase_cap = cap;
                }
                plan->erase[plan->n_erase++] =
                    (h7_plan_erase_t){.addr = sec.addr, .size = sec.size, .index = sec.index};
                plan->erase_bytes += sec.size;
            }
        }
        a = (uint64_t)sec.addr + sec.size;
    }
    return 0;
}

static int erase_cmp(const void *a, const void *b)
{
    const h7_plan_erase_t *x = a, *y = b;
    return x->addr < y->addr ? -1 : x->addr > y->addr;
}

int h7_plan_make(const h7_image_t *img, const h7_layout_t *layout, const h7_plan_opts_t *opts,
                 h7_plan_t *plan, h7_plan_refusal_t *why)
{
    memset(plan, 0, sizeof(*plan));
    if (why) {
        memset(why, 0, sizeof(*why));
    }
    h7_plan_opts_t o = opts ? *opts : h7_plan_default_opts();
    if (o.program_unit == 0) {
        o.program_unit = 1;
    }
    const uint64_t unit = o.program_unit;

    /* 1. Size against the writable memory: the first byte that cannot fit. */
    uint64_t total = 0;
    uint32_t first_addr = 0;
    bool any = false;
    for (size_t i = 0; i < img->count; i++) {
        if (selected(&img->seg[i], &o)) {
            if (!any) {
                first_addr = img->seg[i].addr;
            }
            any = true;
            total += img->seg[i].len;
        }
    }
    if (!any) {
        return refuse(why, H7_PLAN_EMPTY, 0, "the image has no data%s",
                      o.alt >= 0 ? " for this alt setting" : "");
    }
    uint64_t room = h7_layout_size(layout, H7_MEM_WRITE);
    if (total > room) {
        uint64_t left = room;
        uint32_t at = first_addr;
        for (size_t i = 0; i < img->count; i++) {
            const h7_segment_t *s = &img->seg[i];
            if (!selected(s, &o)) {
                continue;
            }
            if (left < s->len) {
                at = s->addr + (uint32_t)left;
                break;
            }
            left -= s->len;
        }
        return refuse(why, H7_PLAN_TOO_BIG, at,
                      "the image holds %llu bytes but \"%s\" has %llu writable bytes; the byte "
                      "at 0x%08x does not fit",
                      (unsigned long long)total, layout->name, (unsigned long long)room, at);
    }

    /* 2. Blocks: each segment widened to whole program units; segments that
     * share or touch a unit are joined, since a unit is programmed once. */
    size_t erase_cap = 0, block_cap = 0;
    uint64_t cur_start = 0, cur_end = 0;
    bool open = false;
    int cur_alt = -1;
    size_t *seg_block = calloc(img->count, sizeof(*seg_block)); /* block of each segment */
    if (!seg_block) {
        return refuse(why, H7_PLAN_NOMEM, first_addr, "out of memory");
    }
    for (size_t i = 0; i < img->count; i++) {
        const h7_segment_t *s = &img->seg[i];
        if (!selected(s, &o)) {
            continue;
        }
        if (check_range(layout, s->addr, (uint64_t)s->addr + s->len, "data", plan, &erase_cap,
                        why) != 0) {
            goto fail;
        }
        uint64_t a = s->addr / unit * unit;
        uint64_t e = ((uint64_t)s->addr + s->len + unit - 1) / unit * unit;
        if (check_range(layout, a, e, "padding to the program unit", plan, &erase_cap, why) != 0) {
            goto fail;
        }
        if (open && a <= cur_end && cur_alt == s->alt) {
            if (e > cur_end) {
                cur_end = e;
            }
            seg_block[i] = plan->n_block - 1;
            continue;
        }
        if (open) {
            plan->block[plan->n_block - 1].addr = (uint32_t)cur_start;
            plan->block[plan->n_block - 1].len = (uint32_t)(cur_end - cur_start);
        }
        if (plan->n_block == block_cap) {
            size_t cap = block_cap ? block_cap * 2 : 8;
            h7_plan_block_t *b = realloc(plan->block, cap * sizeof(*b));
            if (!b) {
                refuse(why, H7_PLAN_NOMEM, s->addr, "out of memory");
                goto fail;
            }
            plan->block = b;
            block_cap = cap;
        }
        seg_block[i] = plan->n_block;
        plan->block[plan->n_block++] = (h7_plan_block_t){0};
        cur_alt = s->alt;
        cur_start = a;
        cur_end = e;
        open = true;
    }
    plan->block[plan->n_block - 1].addr = (uint32_t)cur_start;
    plan->block[plan->n_block - 1].len = (uint32_t)(cur_end - cur_start);

    /* 3. Fill the blocks: padding first, then the image bytes over it. */
    for (size_t b = 0; b < plan->n_block; b++) {
        h7_plan_block_t *blk = &plan->block[b];
        blk->data = malloc(blk->len);
        if (!blk->data) {
            refuse(why, H7_PLAN_NOMEM, blk->addr, "out of memory");
            goto fail;
        }
        memset(blk->data, o.pad, blk->len);
        plan->write_bytes += blk->len;
    }
    for (size_t i = 0; i < img->count; i++) {
        const h7_segment_t *s = &img->seg[i];
        if (!selected(s, &o)) {
            continue;
        }
        h7_plan_block_t *blk = &plan->block[seg_block[i]];
        memcpy(blk->data + (s->addr - blk->addr), s->data, s->len);
    }
    free(seg_block);
    if (plan->n_erase > 1) {
        qsort(plan->erase, plan->n_erase, sizeof(*plan->erase), erase_cmp);
    }
    return 0;
fail:
    free(seg_block);
    h7_plan_free(plan);
    return -1;
}

void h7_plan_free(h7_plan_t *plan)
{
    if (!plan) {
        return;
    }
    for (size_t i = 0; i < plan->n_block; i++) {
        free(plan->block[i].data);
    }
    free(plan->block);
    free(plan->erase);
    memset(plan, 0, sizeof(*plan));
}
