/* High-level DfuSe operations: plan first, then erase, write, verify. */
#include "h7_ops.h"

#include <stdlib.h>
#include <string.h>

#include "h7_sched.h"
#include "h7_target.h"

const char *h7_phase_name(h7_phase_t p)
{
    switch (p) {
    case H7_PHASE_ERASE:
        return "erase";
    case H7_PHASE_WRITE:
        return "write";
    case H7_PHASE_VERIFY:
        return "verify";
    case H7_PHASE_READ:
        return "read";
    case H7_PHASE_COMMIT:
        return "commit";
    }
    return "?";
}

static int parse_layout(h7_dfu_client_t *dfu, const char *layout, h7_layout_t *l)
{
    char msg[128];
    if (layout == NULL || h7_layout_parse(layout, l, msg, sizeof(msg)) != 0) {
        return h7_err_set(&dfu->err, H7_E_ARG, "read the device's memory layout", "%s",
                          layout ? msg : "no layout string");
    }
    return 0;
}

/* The caller asked to stop (h7_write_cfg_t.cancel). */
static bool cancelled(const h7_write_cfg_t *cfg)
{
    return cfg->cancel != NULL && *cfg->cancel != 0;
}

/*
 * Stop a write between two blocks: the block in flight is already done
 * (h7_dfuse_write_block waits for dfuDNLOAD-IDLE); on the h7dfu bootloader its
 * background work is waited for when anything was sent since the last settle
 * (its failure, if any, is what gets reported), then ABORT to dfuIDLE.
 */
static int stop_cancelled(h7_dfu_client_t *dfu, bool pending, uint32_t addr)
{
    int rc = pending ? h7_dfuse_settle(dfu, addr) : 0;
    if (rc == 0) {
        rc = h7_dfu_recover(dfu);
    }
    if (rc) {
        return rc;
    }
    return h7_err_set(&dfu->err, H7_E_CANCELLED, "write image",
                      "stopped on request between two blocks; the device is in dfuIDLE");
}

typedef struct prog_ctx {
    const h7_write_cfg_t *cfg;
    h7_phase_t phase;
    uint64_t before, total;
} prog_ctx_t;

static void block_progress(void *user, size_t done)
{
    prog_ctx_t *p = user;
    if (p->cfg->progress) {
        p->cfg->progress(p->cfg->user, p->phase, p->before + done, p->total);
    }
}

static int verify_block(h7_dfu_client_t *dfu, const h7_plan_block_t *b, uint8_t *tmp)
{
    int rc = h7_dfuse_read(dfu, b->addr, tmp, b->len);
    if (rc) {
        h7_err_context(&dfu->err, "read back");
        return rc;
    }
    if (memcmp(tmp, b->data, b->len) != 0) {
        uint32_t i = 0;
        while (tmp[i] == b->data[i]) {
            i++;
        }
        h7_err_set(&dfu->err, H7_E_VERIFY, "verify",
                   "the flash holds 0x%02x where the image has 0x%02x", tmp[i], b->data[i]);
        h7_err_at(&dfu->err, b->addr + i);
        return H7_E_VERIFY;
    }
    return 0;
}

/* CRC seed for a range (CRC-32C of the device's vendor command). */
static uint32_t crc_seed(uint32_t addr)
{
    return 0x9e3779b9u ^ addr;
}

/* What sector e holds after erase + write of the plan: 0xFF, then blocks. */
static void expected_sector(const h7_plan_t *plan, const h7_plan_erase_t *e, uint8_t *out)
{
    memset(out, 0xff, e->size);
    uint64_t es = e->addr, ee = (uint64_t)e->addr + e->size;
    for (size_t i = 0; i < plan->n_block; i++) {
        const h7_plan_block_t *b = &plan->block[i];
        uint64_t bs = b->addr, be = (uint64_t)b->addr + b->len;
        uint64_t s = bs > es ? bs : es, x = be < ee ? be : ee;
        if (s < x) {
            memcpy(out + (s - es), b->data + (s - bs), (size_t)(x - s));
        }
    }
}

static int crc_mismatch(h7_dfu_client_t *dfu, const h7_plan_block_t *b, uint32_t got, uint32_t want)
{
    h7_err_set(&dfu->err, H7_E_VERIFY, "verify",
               "the flash's CRC-32 is 0x%08x, the image's 0x%08x (%u bytes)", (unsigned)got,
               (unsigned)want, (unsigned)b->len);
    h7_err_at(&dfu->err, b->addr);
    return H7_E_VERIFY;
}

/* The sectors of the plan that hold b, each checked whole against what it
 * holds after this pass (pass 0: the commit span still erased). A locked
 * bootloader answers CRCs of whole sectors only (docs/production.md). */
static int verify_sectors(h7_dfu_client_t *dfu, const h7_plan_t *plan, const h7_write_cfg_t *cfg,
                          int pass, const h7_plan_block_t *b)
{
    uint64_t bs = b->addr, be = (uint64_t)b->addr + b->len;
    uint64_t cs = cfg->commit_addr, ce = (uint64_t)cfg->commit_addr + cfg->commit_len;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < plan->n_erase; i++) {
        const h7_plan_erase_t *e = &plan->erase[i];
        uint64_t es = e->addr, ee = (uint64_t)e->addr + e->size;
        if (ee <= bs || es >= be) {
            continue;
        }
        uint8_t *want = malloc(e->size);
        if (want == NULL) {
            return h7_err_set(&dfu->err, H7_E_NOMEM, "verify", NULL);
        }
        expected_sector(plan, e, want);
        if (pass == 0 && cfg->commit_len != 0 && cs < ee && ce > es) {
            uint64_t s = cs > es ? cs : es, x = ce < ee ? ce : ee;
            memset(want + (s - es), 0xff, (size_t)(x - s));
        }
        h7_plan_block_t whole = {e->addr, e->size, want};
        uint32_t got = 0, crc = h7_crc32c(crc_seed(e->addr), want, e->size);
        rc = h7_dfuse_crc32(dfu, e->addr, e->size, crc_seed(e->addr), &got);
        if (rc) {
            h7_err_context(&dfu->err, "verify");
        } else if (got != crc) {
            rc = crc_mismatch(dfu, &whole, got, crc);
        }
        free(want);
    }
    return rc;
}

/* Verify one written piece by the device's CRC-32; where the device refuses
 * a range that is not whole sectors (errTARGET), by its sectors. */
static int verify_crc(h7_dfu_client_t *dfu, const h7_plan_t *plan, const h7_write_cfg_t *cfg,
                      int pass, const h7_plan_block_t *b)
{
    uint32_t got = 0;
    int rc = h7_dfuse_crc32(dfu, b->addr, b->len, crc_seed(b->addr), &got);
    if (rc && dfu->err.has_dfu && dfu->err.status == H7_STATUS_ERR_TARGET &&
        h7_dfu_recover(dfu) == 0) {
        return verify_sectors(dfu, plan, cfg, pass, b);
    }
    if (rc) {
        h7_err_context(&dfu->err, "verify");
        return rc;
    }
    uint32_t want = h7_crc32c(crc_seed(b->addr), b->data, b->len);
    return got != want ? crc_mismatch(dfu, b, got, want) : 0;
}

/* Mark the sectors that already hold their expected content. A device that
 * cannot answer for a sector (ECC error, refusal) gets it rewritten. */
static int find_skips(h7_dfu_client_t *dfu, const h7_plan_t *plan, bool crc, bool *skip, size_t *n)
{
    uint32_t maxs = 0;
    for (size_t i = 0; i < plan->n_erase; i++) {
        if (plan->erase[i].size > maxs) {
            maxs = plan->erase[i].size;
        }
    }
    uint8_t *want = malloc(maxs ? maxs : 1), *have = crc ? NULL : malloc(maxs ? maxs : 1);
    if (want == NULL || (!crc && have == NULL)) {
        free(want);
        free(have);
        return h7_err_set(&dfu->err, H7_E_NOMEM, "compare sectors", NULL);
    }
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < plan->n_erase; i++) {
        const h7_plan_erase_t *e = &plan->erase[i];
        expected_sector(plan, e, want);
        int q;
        if (crc) {
            uint32_t c = 0;
            q = h7_dfuse_crc32(dfu, e->addr, e->size, crc_seed(e->addr), &c);
            skip[i] = q == 0 && c == h7_crc32c(crc_seed(e->addr), want, e->size);
        } else {
            q = h7_dfuse_read(dfu, e->addr, have, e->size);
            skip[i] = q == 0 && memcmp(have, want, e->size) == 0;
        }
        if (q != 0) {
            if (dfu->err.code == H7_E_TRANSPORT && dfu->err.xfer != H7_XFER_STALL) {
                rc = q; /* the device is gone: stop */
            } else {
                rc = h7_dfu_recover(dfu); /* cannot tell: rewrite it */
            }
        }
        if (skip[i]) {
            (*n)++;
        }
    }
    free(want);
    free(have);
    return rc;
}

/* The pieces of the plan's blocks that lie in sectors not skipped. */
static h7_plan_block_t *unskipped_blocks(const h7_plan_t *plan, const bool *skip, size_t *n,
                                         uint64_t *bytes)
{
    h7_plan_block_t *out = malloc(sizeof(*out) * (plan->n_block + plan->n_erase + 1));
    *n = 0;
    *bytes = 0;
    if (out == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < plan->n_block; i++) {
        const h7_plan_block_t *b = &plan->block[i];
        uint64_t bs = b->addr, be = (uint64_t)b->addr + b->len;
        for (size_t k = 0; k < plan->n_erase; k++) {
            uint64_t es = plan->erase[k].addr, ee = es + plan->erase[k].size;
            uint64_t s = bs > es ? bs : es, x = be < ee ? be : ee;
            if (s >= x || skip[k]) {
                continue;
            }
            out[(*n)++] = (h7_plan_block_t){(uint32_t)s, (uint32_t)(x - s), b->data + (s - bs)};
            *bytes += x - s;
        }
    }
    return out;
}

/*
 * The pieces of block b that belong to pass 0 (outside the commit span) or
 * pass 1 (inside it). Without a span, everything is pass 0.
 */
static size_t commit_split(const h7_plan_block_t *b, const h7_write_cfg_t *cfg, int pass,
                           h7_plan_block_t out[3])
{
    uint64_t bs = b->addr, be = (uint64_t)b->addr + b->len;
    uint64_t cs = cfg->commit_addr, ce = (uint64_t)cfg->commit_addr + cfg->commit_len;
    size_t n = 0;
    if (cfg->commit_len == 0 || ce <= bs || cs >= be) {
        if (pass == 0) {
            out[n++] = *b;
        }
        return n;
    }
    uint64_t is = cs > bs ? cs : bs, ie = ce < be ? ce : be;
    if (pass == 1) {
        out[n++] = (h7_plan_block_t){(uint32_t)is, (uint32_t)(ie - is), b->data + (is - bs)};
        return n;
    }
    if (is > bs) {
        out[n++] = (h7_plan_block_t){b->addr, (uint32_t)(is - bs), b->data};
    }
    if (be > ie) {
        out[n++] = (h7_plan_block_t){(uint32_t)ie, (uint32_t)(be - ie), b->data + (ie - bs)};
    }
    return n;
}

/*
 * Pass 0: the erases the plan chose and that differ, and every block outside
 * the commit span, in the order of h7_sched.h. On the h7dfu bootloader
 * (device_crc) both banks are kept busy; on other devices one stream, an
 * erase before the blocks of its sector. Settled at the end: the device's
 * background work is over, and its failures reported, before verification.
 */
static int send_scheduled(h7_dfu_client_t *dfu, const h7_plan_t *plan, const bool *skip,
                          const h7_plan_block_t *wb, size_t n_wb, const h7_write_cfg_t *cfg,
                          h7_write_report_t *report, prog_ctx_t *pc)
{
    h7_plan_erase_t *er = calloc(plan->n_erase + 1u, sizeof(*er));
    h7_plan_block_t *p0 = calloc(3u * n_wb + 1u, sizeof(*p0));
    size_t n_er = 0, n_p0 = 0;
    int rc = er && p0 ? 0 : H7_E_NOMEM;
    for (size_t i = 0; rc == 0 && i < plan->n_erase; i++) {
        if (!skip[i]) {
            er[n_er++] = plan->erase[i];
        }
    }
    for (size_t i = 0; rc == 0 && i < n_wb; i++) {
        n_p0 += commit_split(&wb[i], cfg, 0, &p0[n_p0]);
    }
    const flash_map_t *m = flash_map_stm32h743();
    h7_sched_in_t in = {
        .erase = er,
        .n_erase = n_er,
        .block = p0,
        .n_block = n_p0,
        .xfer = dfu->transfer_size,
        .flash_base = m->base,
        .bank_size = report->device_crc ? (uint32_t)m->sectors_per_bank * m->sector_size : 0u,
    };
    h7_sched_item_t *it = NULL;
    size_t n_it = 0;
    if (rc == 0) {
        rc = h7_sched_make(&in, &it, &n_it);
    }
    if (rc == H7_E_NOMEM) {
        h7_err_set(&dfu->err, H7_E_NOMEM, "write image", NULL);
    }
    uint64_t erased = 0;
    bool have_ptr = false;
    uint32_t ptr = 0;
    for (size_t i = 0; rc == 0 && i < n_it; i++) {
        const h7_sched_item_t *x = &it[i];
        if (cancelled(cfg)) {
            rc = stop_cancelled(dfu, i > 0, it[i - 1u].addr & ~31u);
            break;
        }
        if (x->kind == H7_SCHED_ERASE) {
            rc = h7_dfuse_erase_sector(dfu, x->addr);
            if (rc == 0) {
                report->sectors_erased++;
                erased += x->len;
                if (cfg->progress) {
                    cfg->progress(cfg->user, H7_PHASE_ERASE, erased, plan->erase_bytes);
                }
            }
            continue;
        }
        /* one address pointer for as many blocks as it reaches */
        const uint32_t xs = dfu->transfer_size;
        if (!have_ptr || x->addr < ptr || (x->addr - ptr) % xs != 0 ||
            (x->addr - ptr) / xs > 0xffffu - 2u) {
            rc = h7_dfuse_set_address(dfu, x->addr);
            ptr = x->addr;
            have_ptr = rc == 0;
        }
        if (rc == 0) {
            rc = h7_dfuse_write_block(dfu, (uint16_t)(2u + (x->addr - ptr) / xs), x->data,
                                      (uint16_t)x->len);
        }
        if (rc) {
            h7_err_at(&dfu->err, x->addr);
            break;
        }
        report->bytes_written += x->len;
        pc->before += x->len;
        block_progress(pc, 0);
    }
    if (rc == 0 && n_it > 0) {
        rc = h7_dfuse_settle(dfu, it[n_it - 1].addr & ~31u);
    }
    free(it);
    free(er);
    free(p0);
    return rc;
}

/* Pass 1's total: the bytes of the commit span among the blocks to write. */
static uint64_t commit_bytes(const h7_plan_block_t *wb, size_t n_wb, const h7_write_cfg_t *cfg)
{
    uint64_t total = 0;
    for (size_t i = 0; i < n_wb; i++) {
        h7_plan_block_t parts[3];
        size_t n = commit_split(&wb[i], cfg, 1, parts);
        for (size_t k = 0; k < n; k++) {
            total += parts[k].len;
        }
    }
    return total;
}

/* Pass 1: the commit span, one address pointer per piece. */
static int send_commit(h7_dfu_client_t *dfu, const h7_plan_block_t *wb, size_t n_wb,
                       const h7_write_cfg_t *cfg, h7_write_report_t *report, prog_ctx_t *pc)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n_wb; i++) {
        h7_plan_block_t parts[3];
        size_t n = commit_split(&wb[i], cfg, 1, parts);
        for (size_t k = 0; rc == 0 && k < n; k++) {
            rc =
                h7_dfuse_write(dfu, parts[k].addr, parts[k].data, parts[k].len, block_progress, pc);
            if (rc == 0) {
                pc->before += parts[k].len;
                report->bytes_written += parts[k].len;
            }
        }
    }
    return rc;
}

/* Verify what pass wrote: by the device's CRC-32 (crc; by the sectors of
 * plan where the device answers whole sectors only) or read back into
 * tmp. Progress is shown for pass 0 (of total bytes); pass 1, the commit
 * span, is its own step. */
static int verify_pass(h7_dfu_client_t *dfu, const h7_plan_t *plan, const h7_plan_block_t *wb,
                       size_t n_wb, const h7_write_cfg_t *cfg, int pass, bool crc, uint8_t *tmp,
                       h7_write_report_t *report, uint64_t total)
{
    /* Back to dfuIDLE before UPLOAD (AN3156: uploads start from dfuIDLE). */
    int rc = h7_dfu_abort(dfu);
    for (size_t i = 0; rc == 0 && i < n_wb; i++) {
        h7_plan_block_t parts[3];
        size_t n = commit_split(&wb[i], cfg, pass, parts);
        if (cancelled(cfg)) {
            rc = stop_cancelled(dfu, false, 0);
        }
        for (size_t k = 0; rc == 0 && k < n; k++) {
            rc = crc ? verify_crc(dfu, plan, cfg, pass, &parts[k])
                     : verify_block(dfu, &parts[k], tmp);
            if (rc == 0) {
                report->bytes_verified += parts[k].len;
                if (cfg->progress && pass == 0) {
                    cfg->progress(cfg->user, H7_PHASE_VERIFY, report->bytes_verified, total);
                }
            }
        }
    }
    return rc;
}

int h7_ops_write_image(h7_dfu_client_t *dfu, const h7_image_t *img, const char *layout,
                       const h7_write_cfg_t *cfg_in, h7_write_report_t *report)
{
    h7_write_cfg_t defcfg = {.verify = true};
    const h7_write_cfg_t *cfg = cfg_in ? cfg_in : &defcfg;
    h7_write_report_t dummy;
    if (report == NULL) {
        report = &dummy;
    }
    memset(report, 0, sizeof(*report));

    /* Everything below is freed at out, on every path. */
    h7_layout_t *l = NULL;
    h7_plan_t plan;
    memset(&plan, 0, sizeof(plan));
    uint8_t *tmp = NULL;
    bool *skip = NULL;
    h7_plan_block_t *wb = NULL;
    int rc;

    if ((cfg->commit_addr | cfg->commit_len) % 32u != 0) {
        /* Splitting a flash word would program it twice. */
        rc = h7_err_set(&dfu->err, H7_E_ARG, "write image",
                        "the commit span must be whole 32-byte flash words");
        h7_err_at(&dfu->err, cfg->commit_addr);
        goto out;
    }
    if ((l = calloc(1, sizeof(*l))) == NULL) {
        rc = h7_err_set(&dfu->err, H7_E_NOMEM, "write image", NULL);
        goto out;
    }
    if ((rc = parse_layout(dfu, layout, l)) != 0) {
        goto out;
    }
    h7_plan_opts_t opts = h7_plan_default_opts();
    opts.alt = -1;
    if (h7_plan_make(img, l, &opts, &plan, &report->refusal) != 0) {
        /* Refused before anything reached the device. */
        rc = h7_err_set(&dfu->err, H7_E_PLAN, "plan the image", "%s", report->refusal.message);
        h7_err_at(&dfu->err, report->refusal.addr);
        goto out;
    }

    size_t maxblock = 0;
    for (size_t i = 0; i < plan.n_block; i++) {
        if (plan.block[i].len > maxblock) {
            maxblock = plan.block[i].len;
        }
    }
    if ((cfg->verify && (tmp = malloc(maxblock ? maxblock : 1)) == NULL) ||
        (skip = calloc(plan.n_erase + 1, sizeof(bool))) == NULL) {
        rc = h7_err_set(&dfu->err, H7_E_NOMEM, "write image", NULL);
        goto out;
    }

    rc = h7_dfu_recover(dfu);
    report->device_crc = rc == 0 && h7_dfuse_has_command(dfu, H7_DFUSE_CRC32);
    if (rc == 0 && !cfg->no_skip) {
        rc = find_skips(dfu, &plan, report->device_crc, skip, &report->sectors_skipped);
    }
    size_t n_wb = 0;
    uint64_t wb_bytes = 0;
    wb = unskipped_blocks(&plan, skip, &n_wb, &wb_bytes);
    if (wb == NULL && rc == 0) {
        rc = h7_err_set(&dfu->err, H7_E_NOMEM, "write image", NULL);
    }
    const bool crc_verify = report->device_crc && !cfg->readback_verify;
    report->bytes_to_write = wb_bytes;

    /* Pass 0 writes (and verifies) everything outside the commit span, pass 1
     * the span itself, so a device interrupted before the end never holds it. */
    prog_ctx_t pc = {cfg, H7_PHASE_WRITE, 0, wb_bytes};
    if (rc == 0) {
        rc = send_scheduled(dfu, &plan, skip, wb, n_wb, cfg, report, &pc);
    }
    if (rc == 0 && cfg->verify) {
        rc = verify_pass(dfu, &plan, wb, n_wb, cfg, 0, crc_verify, tmp, report, wb_bytes);
    }
    if (rc == 0 && cancelled(cfg)) {
        rc = stop_cancelled(dfu, false, 0); /* pass 0 ended settled */
    }
    if (rc == 0) {
        /* Shown as its own step: the bytes that make the image valid. */
        pc = (prog_ctx_t){cfg, H7_PHASE_COMMIT, 0, commit_bytes(wb, n_wb, cfg)};
        rc = send_commit(dfu, wb, n_wb, cfg, report, &pc);
    }
    if (rc == 0 && cfg->verify) {
        rc = verify_pass(dfu, &plan, wb, n_wb, cfg, 1, crc_verify, tmp, report, wb_bytes);
    }

    /* Last: the image record, which makes the image valid. */
    if (rc == 0 && cfg->record && cancelled(cfg)) {
        rc = stop_cancelled(dfu, false, 0);
    }
    if (rc == 0 && cfg->record) {
        rc = h7_record_append(dfu, cfg, report->device_crc, report);
    }
out:
    free(wb);
    free(skip);
    free(tmp);
    h7_plan_free(&plan);
    free(l);
    return rc;
}

int h7_ops_read(h7_dfu_client_t *dfu, uint32_t addr, uint8_t *buf, size_t len,
                h7_progress_fn progress, void *user)
{
    int rc = h7_dfu_recover(dfu);
    /* chunks of 64 transfers: progress without restarting the pointer often */
    const size_t chunk = (size_t)dfu->transfer_size * 64u;
    size_t off = 0;
    while (rc == 0 && off < len) {
        size_t n = len - off < chunk ? len - off : chunk;
        rc = h7_dfuse_read(dfu, addr + (uint32_t)off, buf + off, n);
        off += n;
        if (rc == 0 && progress) {
            progress(user, H7_PHASE_READ, off, len);
        }
    }
    return rc;
}

int h7_ops_erase(h7_dfu_client_t *dfu, const char *layout, uint32_t addr, uint32_t len)
{
    h7_layout_t *l = calloc(1, sizeof(*l));
    if (l == NULL) {
        return h7_err_set(&dfu->err, H7_E_NOMEM, "erase", NULL);
    }
    int rc = parse_layout(dfu, layout, l);
    if (rc == 0 && len == 0) {
        rc = h7_err_set(&dfu->err, H7_E_ARG, "erase", "empty range");
        h7_err_at(&dfu->err, addr);
    }
    uint64_t a = addr, end = (uint64_t)addr + len;
    /* Check the whole range first: refuse before erasing anything. */
    while (rc == 0 && a < end) {
        h7_sector_t s;
        if (!h7_layout_find(l, (uint32_t)a, &s) || !(s.attr & H7_MEM_ERASE)) {
            rc = h7_err_set(&dfu->err, H7_E_PLAN, "erase",
                            "the address is in no erasable sector of the device's layout");
            h7_err_at(&dfu->err, (uint32_t)a);
            break;
        }
        a = (uint64_t)s.addr + s.size;
    }
    if (rc == 0) {
        rc = h7_dfu_recover(dfu);
    }
    if (rc == 0) {
        (void)h7_dfuse_has_command(dfu, H7_DFUSE_CRC32); /* for the settle below */
    }
    for (a = addr; rc == 0 && a < end;) {
        h7_sector_t s;
        h7_layout_find(l, (uint32_t)a, &s);
        rc = h7_dfuse_erase_sector(dfu, s.addr);
        a = (uint64_t)s.addr + s.size;
    }
    /* the erases run in the background on the h7dfu bootloader: done when
     * this returns (the board may be unplugged next) */
    if (rc == 0) {
        rc = h7_dfuse_settle(dfu, addr & ~31u);
    }
    free(l);
    return rc;
}

int h7_ops_mass_erase(h7_dfu_client_t *dfu)
{
    int rc = h7_dfu_recover(dfu);
    if (rc == 0) {
        (void)h7_dfuse_has_command(dfu, H7_DFUSE_CRC32);
    }
    if (rc == 0) {
        rc = h7_dfuse_mass_erase(dfu);
    }
    /* done when this returns: the CRC query that waits for the erases
     * reads a word of the flash's first sector */
    return rc ? rc : h7_dfuse_settle(dfu, flash_map_stm32h743()->base);
}

int h7_ops_leave(h7_dfu_client_t *dfu, bool has_addr, uint32_t addr)
{
    /* The zero-length DNLOAD is only valid in dfuDNLOAD-IDLE (DFU 1.1 A.2.6):
     * right after a write, or after setting the address pointer. */
    uint8_t state = 0;
    int rc = h7_dfu_get_state(dfu, &state);
    if (rc == 0 && state == H7_ST_DNLOAD_IDLE) {
        return h7_dfuse_leave(dfu, has_addr, addr);
    }
    if (rc == 0 && !has_addr) {
        return h7_err_set(&dfu->err, H7_E_ARG, "leave",
                          "the device is not right after a download: give the start address");
    }
    rc = h7_dfu_recover(dfu);
    return rc ? rc : h7_dfuse_leave(dfu, has_addr, addr);
}
