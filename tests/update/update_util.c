/* See update_util.h. */
#include "update_util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "boot.h"
#include "h7_image.h"
#include "h7_stamp.h"
#include "sim_flash.h"

char ut_out[65536];
char ut_err[262144];

static char s_dir[256];

const char *ut_path(const char *name)
{
    static char bufs[4][512];
    static unsigned next;
    char *p = bufs[next++ % 4];
    snprintf(p, 512, "%s/%s", s_dir, name);
    return p;
}

/* A body the bootloader accepts: vector table (SP at the top of DTCM, reset
 * handler inside the body, Thumb), then a pattern that differs per marker. */
static void make_body(uint8_t *body, size_t len, unsigned marker)
{
    for (size_t i = 0; i < len; i++) {
        body[i] = (uint8_t)(i * 7u + marker * 13u + (i >> 8));
    }
    const uint32_t words[2] = {0x20020000u, BOOT_APP_SLOT_ADDR + 0x101u};
    for (int w = 0; w < 2; w++) {
        for (int k = 0; k < 4; k++) {
            body[w * 4 + k] = (uint8_t)(words[w] >> (8 * k));
        }
    }
}

static int save_sized(const char *name, unsigned major, unsigned marker, bool stamp, size_t size,
                      long poke)
{
    static uint8_t body[3 * 128 * 1024];
    if (size > sizeof body) {
        return -1;
    }
    const size_t BODY = size;
    make_body(body, BODY, marker);
    if (poke >= 0) {
        body[poke] ^= 0x01u;
    }
    h7_image_t raw, out;
    h7_image_error_t err;
    h7_image_init(&raw);
    h7_image_init(&out);
    int rc = h7_image_add(&raw, 0, BOOT_APP_SLOT_ADDR, body, BODY, &err);
    if (rc == 0 && stamp) {
        h7_stamp_opts_t o = {.version = {.major = (uint8_t)major}};
        char msg[256];
        rc = h7_stamp(&raw, &o, &out, msg, sizeof(msg));
    }
    if (rc == 0) {
        rc = h7_image_save(stamp ? &out : &raw, ut_path(name), H7_FMT_IHEX, NULL, &err);
    }
    h7_image_free(&raw);
    h7_image_free(&out);
    return rc;
}

static int save_image(const char *name, unsigned major, unsigned marker, bool stamp)
{
    return save_sized(name, major, marker, stamp, 40000, -1);
}

const char *ut_setup(void)
{
    snprintf(s_dir, sizeof(s_dir), "%s/h7upd.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(s_dir)) {
        return NULL;
    }
    if (save_image("v1.hex", 1, 1, true) || save_image("v2.hex", 2, 2, true) ||
        save_image("v3.hex", 3, 3, true) || save_image("raw.hex", 0, 2, false) ||
        save_sized("big4.hex", 4, 4, true, 3 * 128 * 1024, -1) ||
        save_sized("big5.hex", 5, 4, true, 3 * 128 * 1024, 128 * 1024 + 77)) {
        return NULL;
    }
    setenv("H7DFU", H7DFU_PATH, 1);
    setenv("HELPER", APP_HELPER_PATH, 1);
    setenv("D", s_dir, 1);
    return s_dir;
}

void ut_teardown(void)
{
    char cmd[600];
    if (!s_dir[0] || getenv("H7_KEEP")) {
        return;
    }
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s_dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "cannot remove %s\n", s_dir);
    }
}

static void slurp(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "r");
    size_t n = 0;
    if (f) {
        n = fread(buf, 1, cap - 1, f);
        fclose(f);
    }
    buf[n] = '\0';
}

int ut_board(const char *sim_opts, const char *script)
{
    FILE *f = fopen(ut_path("step.sh"), "w");
    if (!f) {
        return -1;
    }
    fprintf(f, "%s\n", script);
    fclose(f);
    char cmd[2048];
    snprintf(cmd, sizeof(cmd),
             "'%s' --fast --events --serial %s --flash '%s' %s run -- sh '%s' >'%s' 2>'%s'",
             H7_SIM_PATH, UT_SERIAL, ut_path("flash.h7"), sim_opts, ut_path("step.sh"),
             ut_path("out.txt"), ut_path("err.txt"));
    int st = system(cmd);
    slurp(ut_path("out.txt"), ut_out, sizeof(ut_out));
    slurp(ut_path("err.txt"), ut_err, sizeof(ut_err));
    if (getenv("H7_UPDATE_TRACE")) {
        fprintf(stderr, "---- %s\n%s%s", script, ut_out, ut_err);
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

void ut_fresh_board_v1(void)
{
    unlink(ut_path("flash.h7"));
    char opts[600];
    snprintf(opts, sizeof(opts), "--install '%s'", ut_path("v1.hex"));
    ut_board(opts, "true");
}

static sim_flash_t *load_flash(void)
{
    sim_flash_t *f = sim_flash_new(NULL);
    if (f && sim_flash_load(f, ut_path("flash.h7")) != 0) {
        sim_flash_free(f);
        return NULL;
    }
    return f;
}

bool ut_flash_holds(const char *image, unsigned major, unsigned minor, unsigned patch)
{
    sim_flash_t *f = load_flash();
    if (!f) {
        return false;
    }
    flash_dev_t dev = sim_flash_dev(f);
    boot_image_info_t info;
    bool ok = boot_validate(&dev, BOOT_APP_SLOT_ADDR, &info) == BOOT_VALID &&
              info.hdr.version.major == major && info.hdr.version.minor == minor &&
              info.hdr.version.patch == patch;
    h7_image_t img, body;
    h7_image_init(&img);
    h7_image_init(&body);
    uint8_t rec[BOOT_REC_SIZE];
    bool has = false;
    if (ok && (h7_image_load_file(&img, ut_path(image), NULL, NULL) != 0 ||
               h7_stamp_split(&img, &body, rec, &has) != 0 || !has)) {
        ok = false;
    }
    /* The body where the file puts it; the file's record is the newest one
     * in the record area (wherever it was appended). */
    const uint8_t *raw = sim_flash_raw(f);
    const uint32_t base = sim_flash_map(f)->base;
    for (size_t i = 0; ok && i < body.count; i++) {
        ok = memcmp(raw + (body.seg[i].addr - base), body.seg[i].data, body.seg[i].len) == 0;
    }
    ok = ok && memcmp(raw + (info.record - base), rec, sizeof rec) == 0;
    h7_image_free(&img);
    h7_image_free(&body);
    sim_flash_free(f);
    return ok;
}

bool ut_flash_slot_invalid(void)
{
    sim_flash_t *f = load_flash();
    if (!f) {
        return false;
    }
    flash_dev_t dev = sim_flash_dev(f);
    bool invalid = boot_validate(&dev, BOOT_APP_SLOT_ADDR, NULL) != BOOT_VALID;
    sim_flash_free(f);
    return invalid;
}

long ut_err_number_before(const char *suffix)
{
    const char *p = strstr(ut_err, suffix);
    if (!p) {
        return -1;
    }
    const char *q = p;
    while (q > ut_err && q[-1] == ' ') {
        q--;
    }
    while (q > ut_err && q[-1] >= '0' && q[-1] <= '9') {
        q--;
    }
    return strtol(q, NULL, 10);
}
