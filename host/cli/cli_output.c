/* What h7dfu prints: a progress bar on a terminal, plain lines otherwise,
 * nothing but JSON on stdout with --json. Messages go to stderr. */
#include "cli.h"

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
    if (b >= 1024u * 1024u)
        snprintf(buf, len, "%.2f MiB", (double)b / 1048576.0);
    else if (b >= 1024u)
        snprintf(buf, len, "%.1f KiB", (double)b / 1024.0);
    else
        snprintf(buf, len, "%llu B", (unsigned long long)b);
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
    if (cur >= 0)
        draw(true);
    cur = -1;
    cur_pct = -1;
    erased = 0;
}

void cli_progress(void *user, h7_phase_t phase, uint64_t done, uint64_t total)
{
    const cli_opts_t *o = user;
    if (o && (o->quiet || o->json))
        return;
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
    if (total)
        cur_total = total;
    cur_done = done;
    if (!isatty(STDERR_FILENO))
        return;
    int pct = cur_total ? (int)(cur_done * 100 / cur_total) : 0;
    double t = now_s();
    if (pct == cur_pct && t - t_draw < 0.25)
        return;
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
    if (cur >= 0 && isatty(STDERR_FILENO))
        fputc('\n', stderr);
    cur = -1;
    cur_pct = -1;
    erased = 0;
}

void cli_info(const cli_opts_t *o, const char *fmt, ...)
{
    if (o->quiet || o->json)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void cli_json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", f);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

void cli_error(const cli_opts_t *o, int code, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    progress_abort();
    if (o && o->json) {
        printf("{\"ok\":false,\"exit\":%d,\"error\":", code);
        cli_json_str(stdout, msg);
        printf("}\n");
    }
    fprintf(stderr, "h7dfu: error: %s\n", msg);
}
