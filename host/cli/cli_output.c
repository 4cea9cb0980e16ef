/* What h7dfu prints: a progress bar on a terminal, plain lines otherwise,
 * nothing but JSON on stdout with --json. Messages go to stderr. */
#include "cli.h"

#include "boot.h"
#include "h7_stamp.h"

#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/*
 * Progress: one line per phase. On a terminal a bar redrawn in place with the
 * rate and the time left, ended at 100% with the phase's time and rate once
 * the next phase starts (a phase only ends when all of it succeeded);
 * otherwise that final line only. The erases of a write are interleaved with
 * its blocks (an erase before its sector's blocks), so they are shown on the
 * write's line, not as a phase of their own.
 */
static int cur = -1;      /* phase shown, -1: none */
static double t0, t_draw; /* the phase's start, the last redraw */
static uint64_t cur_done, cur_total, erased;
static int cur_pct = -1;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void human(uint64_t b, char *buf, size_t len)
{
    if (b >= 1024u * 1024u) {
        snprintf(buf, len, "%.2f MiB", (double)b / 1048576.0);
    } else if (b >= 1024u) {
        snprintf(buf, len, "%.1f KiB", (double)b / 1024.0);
    } else {
        snprintf(buf, len, "%llu B", (unsigned long long)b);
    }
}

static void rate_str(uint64_t bytes, double secs, char *buf, size_t len)
{
    char h[24];
    human(secs > 0 ? (uint64_t)((double)bytes / secs) : bytes, h, sizeof(h));
    snprintf(buf, len, "%s/s", h);
}

static void draw(bool final)
{
    double el = now_s() - t0;
    uint64_t done = final ? cur_total : cur_done;
    int pct = cur_total ? (int)(done * 100 / cur_total) : final ? 100 : 0;
    char d[24], t[24], r[32], tail[96] = "";
    human(done, d, sizeof(d));
    human(cur_total, t, sizeof(t));
    if (erased) {
        char e[24];
        human(erased, e, sizeof(e));
        snprintf(tail, sizeof(tail), final ? ", %s erased" : "  (%s erased)", e);
    }
    if (!isatty(STDERR_FILENO)) {
        rate_str(done, el, r, sizeof(r));
        fprintf(stderr, "%s: %llu bytes in %.2f s (%s)%s\n", h7_phase_name((h7_phase_t)cur),
                (unsigned long long)done, el, r, tail);
        return;
    }
    int fill = pct / 4;
    fprintf(stderr, "\r%-7s [%.*s%*s] %3d%%  ", h7_phase_name((h7_phase_t)cur), fill,
            "#########################", 25 - fill, "", pct);
    if (final) {
        rate_str(done, el, r, sizeof(r));
        fprintf(stderr, "%s in %.2f s, %s%s\033[K\n", d, el, r, tail);
    } else {
        char eta[32] = "ETA --:--";
        if (cur_total == 0) {
            fprintf(stderr, "erasing%s\033[K", tail);
            fflush(stderr);
            return;
        }
        if (done > 0) {
            double left = (double)(cur_total - done) * el / (double)done;
            snprintf(eta, sizeof(eta), "ETA %d:%02d", (int)left / 60, (int)left % 60);
        }
        rate_str(done, el, r, sizeof(r));
        fprintf(stderr, "%s/%s  %s  %s%s\033[K", d, t, r, eta, tail);
    }
    fflush(stderr);
}

/* The shown phase ended: its final line. */
static void finish(void)
{
    if (cur >= 0) {
        draw(true);
    }
    cur = -1;
    cur_pct = -1;
    erased = 0;
}

void cli_progress(void *user, h7_phase_t phase, uint64_t done, uint64_t total)
{
    const cli_opts_t *o = user;
    if (o && (o->quiet || o->json)) {
        return;
    }
    if (phase == H7_PHASE_ERASE) {
        erased = done;
        phase = H7_PHASE_WRITE; /* shown on the write's line */
        if (cur == (int)phase) {
            done = cur_done;
            total = cur_total;
        } else {
            done = 0;
            total = 0; /* the write's size comes with its first block */
        }
    } else if (total == 0) {
        return; /* nothing in this step */
    }
    if ((int)phase != cur) {
        uint64_t e = erased;
        finish();
        erased = phase == H7_PHASE_WRITE ? e : 0;
        cur = (int)phase;
        t0 = now_s();
        t_draw = 0;
    }
    if (total) {
        cur_total = total;
    }
    cur_done = done;
    if (!isatty(STDERR_FILENO)) {
        return;
    }
    int pct = cur_total ? (int)(cur_done * 100 / cur_total) : 0;
    double t = now_s();
    if (pct == cur_pct && t - t_draw < 0.25) {
        return;
    }
    cur_pct = pct;
    t_draw = t;
    draw(false);
}

void cli_progress_end(void)
{
    finish();
}

/* A failure: the line stays as it was (not at 100%). */
static void progress_abort(void)
{
    if (cur >= 0 && isatty(STDERR_FILENO)) {
        fputc('\n', stderr);
    }
    cur = -1;
    cur_pct = -1;
    erased = 0;
}

void cli_info(const cli_opts_t *o, const char *fmt, ...)
{
    if (o->quiet || o->json) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/*
 * The one JSON document of a run (docs/h7dfu.1, JSON OUTPUT). A command
 * writes its document at its end, once it knows it succeeded; a failure
 * prints the error document through cli_error instead. At most one document
 * is printed: a second one is dropped (its words still go to stderr).
 */
static const char *doc_command; /* NULL until main knows the command */
static bool doc_printed;
static char dev_serial[sizeof(((h7_usb_device_t *)0)->serial)],
    dev_path[sizeof(((h7_usb_device_t *)0)->path)];
static bool dev_known;

void cli_set_command(const char *name)
{
    doc_command = name;
}

void cli_note_device(const h7_usb_device_t *d)
{
    snprintf(dev_serial, sizeof(dev_serial), "%s", d->serial);
    snprintf(dev_path, sizeof(dev_path), "%s", d->path);
    dev_known = true;
}

const char *cli_exit_category(int code)
{
    switch (code) {
    case H7_EXIT_OK:
        return "ok";
    case H7_EXIT_USAGE:
        return "usage";
    case H7_EXIT_FILE:
        return "file";
    case H7_EXIT_NO_DEVICE:
        return "no-device";
    case H7_EXIT_REFUSED:
        return "refused";
    case H7_EXIT_DEVICE:
        return "device";
    case H7_EXIT_VERIFY:
        return "verify";
    case H7_EXIT_USB:
        return "usb";
    default:
        return "fail";
    }
}

bool cli_doc_begin(const cli_opts_t *o, cli_json_t *j, int exit_code)
{
    if (!o || !o->json || doc_printed) {
        return false;
    }
    doc_printed = true;
    cli_json_init(j, stdout);
    cli_json_begin_object(j, NULL);
    cli_json_int(j, "schema", CLI_JSON_SCHEMA);
    cli_json_string(j, "command", doc_command);
    cli_json_bool(j, "ok", exit_code == H7_EXIT_OK);
    cli_json_int(j, "exit", exit_code);
    return true;
}

void cli_doc_end(cli_json_t *j)
{
    while (j->depth > 0) {
        cli_json_end(j);
    }
    fputc('\n', j->f);
    fflush(j->f);
}

void cli_doc_device(cli_json_t *j, const h7_usb_device_t *d)
{
    cli_json_string(j, "serial", d->serial);
    cli_json_string(j, "path", d->path);
}

void cli_doc_image_version(cli_json_t *j, const char *key, const boot_image_version_t *v)
{
    if (!v) {
        cli_json_null(j, key);
        return;
    }
    char text[32];
    h7_stamp_version_str(v, text, sizeof(text));
    cli_json_begin_object(j, key);
    cli_json_int(j, "major", v->major);
    cli_json_int(j, "minor", v->minor);
    cli_json_int(j, "patch", v->patch);
    cli_json_int(j, "build", v->build);
    cli_json_string(j, "text", text);
    cli_json_end(j);
}

void cli_doc_app_version(cli_json_t *j, const char *key, const h7_app_version_t *v)
{
    if (!v) {
        cli_json_null(j, key);
        return;
    }
    /* The application's report has no build number. */
    cli_json_begin_object(j, key);
    cli_json_int(j, "major", v->major);
    cli_json_int(j, "minor", v->minor);
    cli_json_int(j, "patch", v->patch);
    cli_json_string(j, "text", v->text);
    cli_json_end(j);
}

void cli_doc_slot(cli_json_t *j, const char *key, const h7_boot_status_t *bs)
{
    if (!bs) {
        cli_json_null(j, key);
        return;
    }
    boot_image_version_t v = {bs->major, bs->minor, bs->patch, bs->build};
    bool has_rec = bs->major || bs->minor || bs->patch || bs->build;
    cli_json_begin_object(j, key);
    cli_json_bool(j, "valid", bs->validation == BOOT_VALID);
    cli_json_string(j, "check", boot_validate_reason_name((boot_validate_t)bs->validation));
    cli_json_string(j, "decision", boot_action_name((boot_action_t)bs->action));
    cli_json_string(j, "why", boot_why_name((boot_why_t)bs->why));
    cli_doc_image_version(j, "version", has_rec ? &v : NULL);
    cli_json_end(j);
}

/* What to do, when the message does not say it better. */
static const char *default_hint(int code)
{
    switch (code) {
    case H7_EXIT_USAGE:
        return "see `h7dfu --help` and `h7dfu COMMAND --help`";
    case H7_EXIT_FILE:
        return "check the file; `h7dfu image info FILE` shows what the bootloader would say "
               "about it";
    case H7_EXIT_NO_DEVICE:
        return "check the cable and `h7dfu list`; choose one device with -S SERIAL or -p PATH";
    case H7_EXIT_REFUSED:
        return "nothing was written: check the addresses against `h7dfu info`";
    case H7_EXIT_DEVICE:
        return "`h7dfu info` shows the device's state; the next command clears its error";
    case H7_EXIT_VERIFY:
        return "write the image again; if it differs again, the flash may be worn";
    case H7_EXIT_USB:
        return "check the cable and the permissions (a udev rule), then run the command again";
    default:
        return NULL;
    }
}

void cli_doc_error(cli_json_t *j, int code, const char *msg, const char *hint,
                   const h7_error_t *dfu)
{
    cli_json_begin_object(j, "error");
    cli_json_string(j, "category", cli_exit_category(code));
    cli_json_string(j, "message", msg);
    cli_json_string(j, "hint", hint);
    if (dfu && dfu->has_dfu) {
        cli_json_begin_object(j, "dfu");
        cli_json_string(j, "state", h7_dfu_state_name(dfu->state));
        cli_json_int(j, "state_code", dfu->state);
        cli_json_string(j, "state_text", h7_dfu_state_text(dfu->state));
        cli_json_string(j, "status", h7_dfu_status_name(dfu->status));
        cli_json_int(j, "status_code", dfu->status);
        cli_json_string(j, "status_text", h7_dfu_status_text(dfu->status));
        cli_json_end(j);
    } else {
        cli_json_null(j, "dfu");
    }
    cli_json_end(j);
}

static void verror(const cli_opts_t *o, int code, const char *hint, const h7_error_t *dfu,
                   const char *fmt, va_list ap)
{
    char msg[2048];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    progress_abort();
    fprintf(stderr, "h7dfu: error: %s\n", msg);
    cli_json_t j;
    if (!cli_doc_begin(o, &j, code)) {
        return;
    }
    if (dev_known) {
        cli_json_string(&j, "serial", dev_serial);
        cli_json_string(&j, "path", dev_path);
    }
    /* A libh7dfu message carries its advice: split it off as the hint. */
    char *what = strstr(msg, ". What to do: ");
    if (what) {
        what[1] = '\0';
        hint = what + 14;
        size_t n = strlen(hint);
        if (n && hint[n - 1] == '.') {
            what[14 + n - 1] = '\0';
        }
    }
    cli_doc_error(&j, code, msg, hint ? hint : default_hint(code), dfu);
    cli_doc_end(&j);
}

void cli_error(const cli_opts_t *o, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    verror(o, code, NULL, NULL, fmt, ap);
    va_end(ap);
}

void cli_error_hint(const cli_opts_t *o, int code, const char *hint, const h7_error_t *dfu,
                    const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    verror(o, code, hint, dfu, fmt, ap);
    va_end(ap);
}
