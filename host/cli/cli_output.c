/* What h7dfu prints: a progress bar on a terminal, plain lines otherwise,
 * nothing but JSON on stdout with --json. Messages go to stderr. */
#include "cli.h"

#include <stdarg.h>
#include <string.h>
#include <unistd.h>

static int bar_phase = -1;
static int bar_percent = -1;

void cli_progress(void *user, h7_phase_t phase, uint64_t done, uint64_t total)
{
    const cli_opts_t *o = user;
    if (o && (o->quiet || o->json))
        return;
    int pct = total ? (int)(done * 100 / total) : 100;
    if (isatty(STDERR_FILENO)) {
        if ((int)phase == bar_phase && pct == bar_percent)
            return;
        if ((int)phase != bar_phase && bar_phase >= 0)
            fputc('\n', stderr);
        int fill = pct / 4;
        fprintf(stderr, "\r%-7s [%.*s%*s] %3d%%  %llu/%llu bytes", h7_phase_name(phase), fill,
                "#########################", 25 - fill, "", pct, (unsigned long long)done,
                (unsigned long long)total);
        fflush(stderr);
    } else if ((int)phase != bar_phase) {
        fprintf(stderr, "%s: %llu bytes\n", h7_phase_name(phase), (unsigned long long)total);
    }
    bar_phase = (int)phase;
    bar_percent = pct;
}

void cli_progress_end(void)
{
    if (bar_phase >= 0 && isatty(STDERR_FILENO))
        fputc('\n', stderr);
    bar_phase = -1;
    bar_percent = -1;
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
    cli_progress_end();
    if (o && o->json) {
        printf("{\"ok\":false,\"exit\":%d,\"error\":", code);
        cli_json_str(stdout, msg);
        printf("}\n");
    }
    fprintf(stderr, "h7dfu: error: %s\n", msg);
}
