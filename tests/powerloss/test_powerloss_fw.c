/*
 * Power-loss runner on the exact firmware: the cross-built bootloader and a
 * stamped demo application (padded to the size asked for) run on the
 * emulated chip (sim/mcu), libh7dfu updates v1 -> v2 through the in-process
 * transport (sim/inproc/h7_inproc_chip.h), and the power is cut at flash
 * operations of that update. At each cut point the process forks: the child
 * takes the cut, powers the chip on again and checks what the firmware does
 *   - back on USB in DFU mode (0483:df11), or
 *   - running exactly the old image or exactly the new one (0483:5750),
 *   - never nothing on USB ("bricked"), never a partial image;
 * on every recover_stride-th point the child also runs the update again and
 * checks that the new application comes up. The parent carries on with the
 * clean update, so the cost is one update plus one boot per cut point.
 *
 * Environment: H7_FW_DIR (bootloader.elf, demo-app.elf; required),
 * H7_POWERLOSS_FW_KIB (image size, default 16), H7_POWERLOSS_FW_STRIDE
 * (default 64), H7_POWERLOSS_FW_PHASES (before,during,after; default during),
 * H7_POWERLOSS_FW_RECOVER (every n-th point re-updates, default 8),
 * H7_POWERLOSS_FW_JOBS (children at once, default 2).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "h743.h"
#include "h7_dfu.h"
#include "h7_inproc_chip.h"
#include "h7_ops.h"
#include "h7_stamp.h"
#include "sim_flash.h"

#define SLOT        BOOT_APP_SLOT_ADDR
#define FLASH_BASE  0x08000000u
#define PID_DFU     0xDF11u
#define PID_APP     0x5750u
#define RUNTIME_ITF 1u /* the demo app's DFU run-time interface */

/* Child exit codes. */
enum {
    R_DFU = 10,
    R_OLD,
    R_NEW,
    R_BRICKED = 20,
    R_PARTIAL,
    R_NO_RECOVERY,
    R_NO_CUT,
    R_SIM_GAP, /* the chip model met something it does not model: not the firmware's fault */
};

typedef struct cfg {
    char fw_dir[1024];
    unsigned kib, jobs;
    uint64_t stride, recover;
    bool phase[3];
} cfg_t;

typedef struct tally {
    unsigned long cuts, dfu, old_img, new_img, bricked, partial, no_recovery, sim_gap, other,
        recovered;
} tally_t;

static cfg_t g;
static h7_image_t g_v1, g_v2;
/* g_v2 split as h7dfu writes it: the body, then the record appended. */
static h7_image_t g_v2_body;
static uint8_t g_v2_rec[BOOT_REC_SIZE];
static char g_layout[256];

static unsigned long env_num(const char *name, unsigned long dflt)
{
    const char *s = getenv(name);
    unsigned long v = s ? strtoul(s, NULL, 0) : 0;
    return v ? v : dflt;
}

/* The demo application, padded with pseudo-random bytes to kib KiB (so the
 * update spans that much flash), stamped with version major.0.0. */
static void make_app(h7_image_t *out, unsigned major, unsigned seed)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/demo-app.elf", g.fw_dir);
    h7_image_t elf;
    h7_image_init(&elf);
    h7_image_error_t err;
    assert_int_equal(h7_image_load_file(&elf, path, NULL, &err), 0);
    const h7_segment_t *last = &elf.seg[elf.count - 1];
    uint32_t end = (last->addr + last->len + 31u) & ~31u;
    uint32_t want = SLOT + g.kib * 1024u;
    if (end < want) {
        size_t n = want - end;
        uint8_t *pad = malloc(n);
        assert_non_null(pad);
        uint32_t x = 0x9e3779b9u * seed;
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            pad[i] = (uint8_t)x;
        }
        assert_int_equal(h7_image_add(&elf, 0, end, pad, n, NULL), 0);
        free(pad);
    }
    h7_stamp_opts_t so;
    memset(&so, 0, sizeof so);
    so.version.major = (uint8_t)major;
    char msg[256];
    assert_int_equal(h7_stamp(&elf, &so, out, msg, sizeof msg), 0);
    h7_image_free(&elf);
}

/* Factory programming (as over SWD): erase what img touches, program it. */
static void install(sim_flash_t *f, const h7_image_t *img)
{
    const flash_map_t *m = sim_flash_map(f);
    for (size_t i = 0; i < img->count; i++) {
        const h7_segment_t *s = &img->seg[i];
        for (uint32_t a = s->addr & ~(m->sector_size - 1u); a < s->addr + s->len;
             a += m->sector_size) {
            sim_flash_erase_sector(f, (unsigned)((a - FLASH_BASE) / m->sector_size));
        }
    }
    for (size_t i = 0; i < img->count; i++) {
        const h7_segment_t *s = &img->seg[i];
        for (uint32_t w = s->addr & ~31u; w < s->addr + s->len; w += 32u) {
            uint8_t word[32];
            memset(word, 0xFF, sizeof word);
            for (uint32_t k = 0; k < 32u; k++) {
                if (w + k >= s->addr && w + k < s->addr + s->len) {
                    word[k] = s->data[w + k - s->addr];
                }
            }
            assert_int_equal(sim_flash_program_word(f, w, word), FLASH_OK);
        }
    }
}

/* The flash holds img's body byte for byte, and the newest record of the
 * record area (the last record slot not fully erased) is img's record. */
static bool holds(const sim_flash_t *f, const h7_image_t *img)
{
    const uint8_t *raw = sim_flash_raw(f);
    h7_image_t body;
    uint8_t rec[BOOT_REC_SIZE];
    bool has = false, ok = h7_stamp_split(img, &body, rec, &has) == 0 && has;
    for (size_t i = 0; ok && i < body.count; i++) {
        ok = memcmp(raw + (body.seg[i].addr - FLASH_BASE), body.seg[i].data, body.seg[i].len) == 0;
    }
    h7_image_free(&body);
    const uint8_t *newest = NULL;
    for (uint32_t a = BOOT_REC_AREA_ADDR + BOOT_REC_AREA_SIZE;
         ok && newest == NULL && a > BOOT_REC_AREA_ADDR;) {
        a -= BOOT_REC_SIZE;
        for (uint32_t k = 0; k < BOOT_REC_SIZE && newest == NULL; k++) {
            if (raw[a - FLASH_BASE + k] != 0xFFu) {
                newest = raw + (a - FLASH_BASE);
            }
        }
    }
    return ok && newest != NULL && memcmp(newest, rec, BOOT_REC_SIZE) == 0;
}

/* ---- one board: flash, clock, chip, transport ---- */

typedef struct rig {
    sim_clock_t clock;
    sim_flash_t *flash;
    h743_t *chip;
    h7_inproc_chip_t tp;
    /* cut control (the observer) */
    uint64_t first_seq; /* seq of the update's first flash operation, 0: not started */
    uint64_t ops;       /* operations of the update seen so far */
    bool counting;
    bool child;
    uint64_t cut_op;
    int cut_phase;
    unsigned running;
    tally_t *t;
} rig_t;

static void rig_init(rig_t *r, const sim_flash_t *contents)
{
    memset(r, 0, sizeof *r);
    sim_clock_init(&r->clock);
    sim_clock_set_flash_lane(&r->clock, true);
    r->flash = sim_flash_new(&r->clock);
    assert_non_null(r->flash);
    sim_flash_copy_contents(r->flash, contents);
    h743_config_t hc = {.clock = &r->clock, .flash = r->flash, .uid = {1, 2, 3}};
    r->chip = h743_new(&hc);
    assert_non_null(r->chip);
    h7_inproc_chip_init(&r->tp, r->chip, &r->clock);
}

static void rig_free(rig_t *r)
{
    h743_free(r->chip);
    sim_flash_free(r->flash);
}

/* Power on and bring the board into DFU mode (the app detaches). */
static bool to_dfu(rig_t *r)
{
    if (!h7_inproc_chip_wait_device(&r->tp, 3000)) {
        return false;
    }
    if (r->tp.id_product == PID_APP) {
        h7_dfu_client_t d;
        h7_dfu_init(&d, h7_inproc_chip_transport(&r->tp), RUNTIME_ITF, 64);
        (void)h7_dfu_detach(&d, 1000);
        (void)h7_inproc_chip_wait_gone(&r->tp, 1000);
        uint64_t end = sim_clock_now_ns(&r->clock) + 3000ull * SIM_NS_PER_MS;
        while (sim_clock_now_ns(&r->clock) < end) {
            if (h7_inproc_chip_wait_device(&r->tp, 100) && r->tp.id_product == PID_DFU) {
                return true;
            }
        }
        return false;
    }
    return r->tp.id_product == PID_DFU;
}

static int write_v2(rig_t *r)
{
    h7_dfu_client_t d;
    h7_dfu_init(&d, h7_inproc_chip_transport(&r->tp), 0, 2048);
    h7_write_cfg_t wc = {.verify = true,
                         .record = g_v2_rec,
                         .record_area = BOOT_REC_AREA_ADDR,
                         .record_area_size = BOOT_REC_AREA_SIZE,
                         .record_size = BOOT_REC_SIZE};
    return h7_ops_write_image(&d, &g_v2_body, g_layout, &wc, NULL);
}

/* Leave DFU mode: the bootloader resets into its decision. */
static void leave(rig_t *r)
{
    h7_dfu_client_t d;
    h7_dfu_init(&d, h7_inproc_chip_transport(&r->tp), 0, 2048);
    int rc = h7_ops_leave(&d, true, SLOT);
    bool gone = h7_inproc_chip_wait_gone(&r->tp, 1000);
    if (getenv("H7_POWERLOSS_FW_DEBUG")) {
        fprintf(stderr, "leave: rc %d (op %s, xfer %d), gone %d\n", rc, d.err.op, d.err.xfer, gone);
    }
}

/* The child's life after the cut. */
static int after_cut(rig_t *r, bool write_ok)
{
    if (write_ok) {
        return R_NO_CUT;
    }
    if (!h7_inproc_chip_power_on(&r->tp, r->flash) || !h7_inproc_chip_wait_device(&r->tp, 2000)) {
        if (h743_halt_is_model_gap(r->chip)) {
            fprintf(stderr, "cut %llu: %s\n", (unsigned long long)r->cut_op,
                    h743_halt_reason(r->chip));
            return R_SIM_GAP;
        }
        return R_BRICKED;
    }
    int code;
    if (r->tp.id_product == PID_DFU) {
        code = R_DFU;
    } else if (holds(r->flash, &g_v1)) {
        code = R_OLD;
    } else if (holds(r->flash, &g_v2)) {
        code = R_NEW;
    } else {
        return R_PARTIAL;
    }
    /* every recover-th cut point (and the first) runs the update again */
    if (r->cut_op != 1 && (r->cut_op / g.stride) % g.recover != 0) {
        return code;
    }
    if (!to_dfu(r)) {
        fprintf(stderr, "cut %llu: not back in DFU mode for the new update\n",
                (unsigned long long)r->cut_op);
        return R_NO_RECOVERY;
    }
    if (write_v2(r) != 0) {
        fprintf(stderr, "cut %llu: the update run again failed\n", (unsigned long long)r->cut_op);
        return R_NO_RECOVERY;
    }
    leave(r);
    if (!h7_inproc_chip_wait_device(&r->tp, 3000) || r->tp.id_product != PID_APP ||
        !holds(r->flash, &g_v2)) {
        fprintf(stderr, "cut %llu: the new application did not come up (USB id %04x)\n",
                (unsigned long long)r->cut_op, r->tp.id_product);
        return R_NO_RECOVERY;
    }
    return code + 100; /* recovered */
}

static void tally_code(tally_t *t, int status)
{
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    t->cuts++;
    if (code >= 100) {
        t->recovered++;
        code -= 100;
    }
    switch (code) {
    case R_DFU:
        t->dfu++;
        break;
    case R_OLD:
        t->old_img++;
        break;
    case R_NEW:
        t->new_img++;
        break;
    case R_BRICKED:
        t->bricked++;
        break;
    case R_PARTIAL:
        t->partial++;
        break;
    case R_NO_RECOVERY:
        t->no_recovery++;
        break;
    case R_SIM_GAP:
        t->sim_gap++;
        break;
    default:
        t->other++;
        break;
    }
}

/* sim_flash's events through the chip: count, fork at cut points, cut. */
static bool observer(void *user, const sim_flash_event_t *ev)
{
    rig_t *r = user;
    if (r->child) {
        return ev->seq == r->first_seq + r->cut_op - 1u && (int)ev->phase == r->cut_phase;
    }
    if (!r->counting || ev->phase != SIM_FLASH_PHASE_BEFORE) {
        return false;
    }
    if (r->first_seq == 0) {
        r->first_seq = ev->seq;
    }
    uint64_t n = ev->seq - r->first_seq + 1u;
    r->ops = n;
    if (r->t == NULL || (n != 1 && n % g.stride != 0)) {
        return false;
    }
    for (int p = 0; p < 3; p++) {
        if (!g.phase[p]) {
            continue;
        }
        while (r->running >= g.jobs) {
            int st;
            if (wait(&st) > 0) {
                r->running--;
                tally_code(r->t, st);
            }
        }
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0) {
            r->child = true;
            r->cut_op = n;
            r->cut_phase = p;
            return p == SIM_FLASH_PHASE_BEFORE;
        }
        if (pid > 0) {
            r->running++;
        }
    }
    return false;
}

/* In the child, the write returns at the cut; classify and exit. */
static void child_exit_if_child(rig_t *r, int write_rc)
{
    if (!r->child) {
        return;
    }
    _exit(after_cut(r, write_rc == 0));
}

static void read_layout(rig_t *r)
{
    /* GET_DESCRIPTOR(configuration): the DFU interface's iInterface, then
     * that string: the DfuSe memory layout. */
    const h7_transport_t *t = h7_inproc_chip_transport(&r->tp);
    uint8_t cfgd[256];
    int n = t->control(t->ctx, 0x80, 6, 0x0200, 0, cfgd, sizeof cfgd, 1000);
    assert_true(n > 9);
    uint8_t idx = 0;
    for (int i = 0; i + 8 < n; i += cfgd[i] ? cfgd[i] : n) {
        if (cfgd[i + 1] == 4 && cfgd[i + 5] == 0xFE && cfgd[i + 3] == 0) {
            idx = cfgd[i + 8];
        }
    }
    assert_true(idx != 0);
    uint8_t s[256];
    n = t->control(t->ctx, 0x80, 6, (uint16_t)(0x0300 | idx), 0x0409, s, sizeof s, 1000);
    assert_true(n > 2);
    size_t k = 0;
    for (int i = 2; i + 1 < n && k + 1 < sizeof g_layout; i += 2) {
        g_layout[k++] = (char)s[i];
    }
    g_layout[k] = '\0';
}

static void test_powerloss_fw(void **state)
{
    (void)state;
    const char *dir = getenv("H7_FW_DIR");
    if (!dir) {
        print_message("H7_FW_DIR not set\n");
        fail();
    }
    snprintf(g.fw_dir, sizeof g.fw_dir, "%s", dir);
    g.kib = (unsigned)env_num("H7_POWERLOSS_FW_KIB", 16);
    g.stride = env_num("H7_POWERLOSS_FW_STRIDE", 64);
    g.recover = env_num("H7_POWERLOSS_FW_RECOVER", 8);
    g.jobs = (unsigned)env_num("H7_POWERLOSS_FW_JOBS", 2);
    const char *ph = getenv("H7_POWERLOSS_FW_PHASES");
    if (!ph) {
        ph = "during";
    }
    g.phase[0] = strstr(ph, "before") != NULL;
    g.phase[1] = strstr(ph, "during") != NULL;
    g.phase[2] = strstr(ph, "after") != NULL;

    make_app(&g_v1, 1, 1);
    make_app(&g_v2, 2, 2);
    bool has = false;
    assert_int_equal(h7_stamp_split(&g_v2, &g_v2_body, g_v2_rec, &has), 0);
    assert_true(has);
    h7_image_t bl;
    h7_image_init(&bl);
    char path[1100];
    snprintf(path, sizeof path, "%s/bootloader.elf", g.fw_dir);
    h7_image_error_t err;
    assert_int_equal(h7_image_load_file(&bl, path, NULL, &err), 0);
    sim_flash_t *v1 = sim_flash_new(NULL);
    install(v1, &bl);
    install(v1, &g_v1);
    h7_image_free(&bl);

    /* A clean run counts the update's operations and reads the layout. */
    rig_t r;
    rig_init(&r, v1);
    h743_set_flash_observer(r.chip, observer, &r);
    assert_true(h7_inproc_chip_power_on(&r.tp, r.flash));
    assert_true(to_dfu(&r));
    read_layout(&r);
    r.counting = true;
    assert_int_equal(write_v2(&r), 0);
    uint64_t ops = r.ops;
    /* The clean update ends with the new application on USB. */
    leave(&r);
    assert_true(h7_inproc_chip_wait_device(&r.tp, 3000));
    if (r.tp.id_product != PID_APP) {
        print_error("after the clean update and leave: USB id %04x\n", r.tp.id_product);
    }
    assert_int_equal(r.tp.id_product, PID_APP);
    rig_free(&r);

    /* The run with cuts. */
    tally_t t = {0};
    rig_init(&r, v1);
    r.t = &t;
    h743_set_flash_observer(r.chip, observer, &r);
    assert_true(h7_inproc_chip_power_on(&r.tp, r.flash));
    assert_true(to_dfu(&r));
    r.counting = true;
    int rc = write_v2(&r);
    child_exit_if_child(&r, rc);
    assert_int_equal(rc, 0);
    int st;
    while (r.running > 0 && wait(&st) > 0) {
        r.running--;
        tally_code(&t, st);
    }
    rig_free(&r);
    sim_flash_free(v1);
    printf("powerloss on the emulated firmware (%u KiB update, %llu flash operations, stride "
           "%llu, phases %s): %lu cut points: %lu back in DFU mode, %lu old image, %lu new "
           "image, %lu bricked, %lu partial image started, %lu not recovered, %lu model gaps, "
           "%lu other; "
           "update run again and the new application up: %lu\n",
           g.kib, (unsigned long long)ops, (unsigned long long)g.stride, ph, t.cuts, t.dfu,
           t.old_img, t.new_img, t.bricked, t.partial, t.no_recovery, t.sim_gap, t.other,
           t.recovered);
    assert_true(t.cuts > 0);
    assert_int_equal(t.bricked + t.partial + t.no_recovery + t.sim_gap + t.other, 0);
    h7_image_free(&g_v1);
    h7_image_free(&g_v2);
    h7_image_free(&g_v2_body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_powerloss_fw)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
