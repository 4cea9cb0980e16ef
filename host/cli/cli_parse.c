/* Parsing of numbers, VID:PID pairs, dfu-util style address specs, and of
 * each command's options together with the global ones. */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

bool cli_parse_u32(const char *s, uint32_t *v)
{
    if (!s || !*s) {
        return false;
    }
    errno = 0;
    char *end = NULL;
    unsigned long long n = strtoull(s, &end, 0);
    if (errno || *end || n > 0xffffffffull || *s == '-') {
        return false;
    }
    *v = (uint32_t)n;
    return true;
}

bool cli_parse_len(const char *s, uint32_t *v)
{
    if (!s || !*s) {
        return false;
    }
    size_t n = strlen(s);
    uint64_t mul = 1;
    char last = s[n - 1];
    /* A K after a hexadecimal number is no digit of it: "0x1K" is 1 KiB. */
    if (last == 'K' || last == 'k') {
        mul = 1024;
    } else if (last == 'M' || last == 'm') {
        mul = 1024 * 1024;
    }
    if (mul == 1) {
        return cli_parse_u32(s, v);
    }
    char buf[32];
    if (n < 2 || n - 1 >= sizeof(buf)) {
        return false;
    }
    memcpy(buf, s, n - 1);
    buf[n - 1] = '\0';
    uint32_t base;
    if (!cli_parse_u32(buf, &base) || (uint64_t)base * mul > 0xffffffffull) {
        return false;
    }
    *v = (uint32_t)(base * mul);
    return true;
}

static bool parse_hex16(const char *s, size_t n, uint16_t *v)
{
    char buf[8];
    if (n == 0 || n > 6) {
        return false;
    }
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *end = NULL;
    unsigned long x = strtoul(buf, &end, 16);
    if (*end || x > 0xffff) {
        return false;
    }
    *v = (uint16_t)x;
    return true;
}

bool cli_parse_vidpid(const char *s, uint16_t *vid, uint16_t *pid)
{
    const char *colon = strchr(s, ':');
    if (!colon) {
        return false;
    }
    return parse_hex16(s, (size_t)(colon - s), vid) &&
           parse_hex16(colon + 1, strlen(colon + 1), pid);
}

bool cli_parse_ids(const char *s, cli_ids_t *ids)
{
    char buf[1024];
    if (!s || strlen(s) >= sizeof(buf)) {
        return false;
    }
    strcpy(buf, s);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
        uint16_t vid, pid;
        if (ids->n >= CLI_MAX_IDS || !cli_parse_vidpid(tok, &vid, &pid)) {
            return false;
        }
        ids->vid[ids->n] = vid;
        ids->pid[ids->n] = pid;
        ids->n++;
    }
    return true;
}

int cli_add_ids(cli_opts_t *o, const char *arg)
{
    const char *what = arg ? "--id" : "H7DFU_IDS";
    const char *s = arg ? arg : getenv("H7DFU_IDS");
    if (!s) {
        return H7_EXIT_OK;
    }
    if (cli_parse_ids(s, &o->ids)) {
        return H7_EXIT_OK;
    }
    cli_error(o, H7_EXIT_USAGE,
              "%s wants VID:PID pairs in hex separated by commas (at most %d in all), e.g. "
              "1209:5750, not '%s'",
              what, CLI_MAX_IDS, s);
    return H7_EXIT_USAGE;
}

bool cli_parse_addr_spec(const char *s, cli_addr_spec_t *out)
{
    memset(out, 0, sizeof(*out));
    char buf[128];
    if (strlen(s) >= sizeof(buf)) {
        return false;
    }
    strcpy(buf, s);
    char *save = NULL;
    int field = 0;
    for (char *tok = strtok_r(buf, ":", &save); tok; tok = strtok_r(NULL, ":", &save), field++) {
        if (strcmp(tok, "leave") == 0) {
            out->leave = true;
        } else if (strcmp(tok, "mass-erase") == 0) {
            out->mass_erase = true;
        } else if (strcmp(tok, "force") == 0) {
            out->force = true;
        } else if (strcmp(tok, "will-reset") == 0)
            ; /* dfu-util compatibility: we always expect the device to reset */
        else if (field == 0 && cli_parse_u32(tok, &out->addr)) {
            out->has_addr = true;
        } else if (field == 1 && out->has_addr && cli_parse_len(tok, &out->len)) {
            out->has_len = true;
        } else {
            return false;
        }
    }
    /* ":leave" alone (no address) is valid. */
    return true;
}

int cli_split_serials(const char *const *args, unsigned n, char ***out)
{
    /* One block: the pointers, then the strings (at most the arguments'
     * length with their terminators). */
    size_t chars = 0, most = 0;
    for (unsigned i = 0; i < n; i++) {
        chars += strlen(args[i]) + 1;
        most += 1;
        for (const char *p = args[i]; *p; p++) {
            most += *p == ',';
        }
    }
    char **v = malloc(most * sizeof(char *) + chars + 1);
    *out = NULL;
    if (!v) {
        return -1;
    }
    char *buf = (char *)(v + most);
    int count = 0;
    for (unsigned i = 0; i < n; i++) {
        const char *p = args[i];
        for (;;) {
            size_t len = strcspn(p, ",");
            if (len == 0) {
                free(v);
                return -1;
            }
            memcpy(buf, p, len);
            buf[len] = '\0';
            bool dup = false;
            for (int k = 0; k < count && !dup; k++) {
                dup = strcmp(v[k], buf) == 0;
            }
            if (!dup) {
                v[count++] = buf;
                buf += len + 1;
            }
            if (p[len] == '\0') {
                break;
            }
            p += len + 1;
        }
    }
    *out = v;
    return count;
}

/* The global options (also after the command). Long-only values stay
 * clear of every short letter. */
const char cli_global_shorts[] = "d:S:p:a:w:jqvhV";
const struct option cli_global_longs[] = {
    {"device", required_argument, NULL, 'd'},
    {"serial", required_argument, NULL, 'S'},
    {"path", required_argument, NULL, 'p'},
    {"alt", required_argument, NULL, 'a'},
    {"wait", required_argument, NULL, 'w'},
    {"json", no_argument, NULL, 'j'},
    {"quiet", no_argument, NULL, 'q'},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

static const char *global_name(int c)
{
    switch (c) {
    case 'd':
        return "-d/--device";
    case 'S':
        return "-S/--serial";
    case 'p':
        return "-p/--path";
    case 'a':
        return "-a/--alt";
    default:
        return "-w/--wait";
    }
}

/* The first global option given of each kind, for the messages. */
static char given_name[2][16];

int cli_global_opt(cli_opts_t *o, int c, const char *arg, bool *stop)
{
    uint32_t v;
    *stop = false;
    switch (c) {
    case 'd':
        if (!cli_parse_vidpid(arg, &o->vid, &o->pid)) {
            cli_error(o, H7_EXIT_USAGE, "-d wants VID:PID in hex, e.g. 0483:df11, not '%s'", arg);
            return H7_EXIT_USAGE;
        }
        o->filter.vid = o->vid;
        o->filter.pid = o->pid;
        break;
    case 'S':
        if (o->n_serial_args >= CLI_MAX_SERIAL_ARGS) {
            cli_error(o, H7_EXIT_USAGE, "more than %d -S options: list the serials as -S A,B,C",
                      CLI_MAX_SERIAL_ARGS);
            return H7_EXIT_USAGE;
        }
        o->serial_args[o->n_serial_args++] = arg;
        o->filter.serial = arg;
        break;
    case 'p':
        o->filter.path = arg;
        break;
    case 'a':
        if (!cli_parse_u32(arg, &v) || v > 255) {
            cli_error(o, H7_EXIT_USAGE, "-a wants an alternate setting number 0..255, not '%s'",
                      arg);
            return H7_EXIT_USAGE;
        }
        o->alt = (int)v;
        break;
    case 'w':
        if (!cli_parse_u32(arg, &v) || v > 3600) {
            cli_error(o, H7_EXIT_USAGE, "-w wants seconds (0..3600), not '%s'", arg);
            return H7_EXIT_USAGE;
        }
        o->timeout_ms = v * 1000u;
        break;
    case 'j':
        o->json = true;
        return H7_EXIT_OK;
    case 'q':
        o->quiet = true;
        return H7_EXIT_OK;
    case 'v':
        o->verbose = true;
        return H7_EXIT_OK;
    case 'V':
        printf("h7dfu %s\n", H7DFU_VERSION);
        *stop = true;
        return H7_EXIT_OK;
    default:
        return H7_EXIT_USAGE;
    }
    unsigned g = c == 'a' ? CLI_G_ALT : CLI_G_DEVICE;
    if (!(o->given & g)) {
        snprintf(given_name[g == CLI_G_ALT], sizeof(given_name[0]), "%s", global_name(c));
    }
    o->given |= g;
    return H7_EXIT_OK;
}

/* An own option is one of the command's; a global one is refused when the
 * command says it has no use for it. */
static bool is_own_short(const cli_cmd_t *c, int ch)
{
    return ch > 0 && ch < 256 && ch != ':' && c->shorts && strchr(c->shorts, ch) != NULL;
}

int cli_getopt(cli_opts_t *o, int argc, char **argv, const cli_cmd_t *c, int *exit_code)
{
    /* ":" first: a missing value comes back as ':'. The command's own short
     * letters win over global ones (image stamp -V VERSION). */
    char shorts[64];
    size_t n = 0;
    shorts[n++] = ':';
    for (const char *p = c->shorts ? c->shorts : ""; *p && n < sizeof(shorts) - 1; p++) {
        shorts[n++] = *p;
    }
    for (const char *p = cli_global_shorts; *p && n < sizeof(shorts) - 2; p++) {
        bool arg = p[1] == ':';
        if (!is_own_short(c, *p)) {
            shorts[n++] = *p;
            if (arg) {
                shorts[n++] = ':';
            }
        }
        if (arg) {
            p++;
        }
    }
    shorts[n] = '\0';
    struct option longs[40];
    size_t nl = 0;
    for (const struct option *l = c->longs; l && l->name && nl < 24; l++) {
        longs[nl++] = *l;
    }
    for (const struct option *l = cli_global_longs; l->name; l++) {
        bool dup = false;
        for (size_t i = 0; i < nl; i++) {
            dup = dup || strcmp(longs[i].name, l->name) == 0;
        }
        if (!dup) {
            longs[nl++] = *l;
        }
    }
    memset(&longs[nl], 0, sizeof(longs[nl]));

    opterr = 0;
    for (;;) {
        int ch = getopt_long(argc, argv, shorts, longs, NULL);
        if (ch == -1) {
            break;
        }
        if (ch == '?') {
            if (optopt && optopt < 256 && optopt != '?') {
                cli_error(o, H7_EXIT_USAGE, "unknown option '-%c' for %s (see `h7dfu %s --help`)",
                          optopt, c->name, c->name);
            } else {
                cli_error(o, H7_EXIT_USAGE, "unknown option '%s' for %s (see `h7dfu %s --help`)",
                          argv[optind - 1], c->name, c->name);
            }
            *exit_code = H7_EXIT_USAGE;
            return CLI_OPT_EXIT;
        }
        if (ch == ':') {
            cli_error(o, H7_EXIT_USAGE, "option '%s' of %s needs a value (see `h7dfu %s --help`)",
                      argv[optind - 1], c->name, c->name);
            *exit_code = H7_EXIT_USAGE;
            return CLI_OPT_EXIT;
        }
        bool own = is_own_short(c, ch);
        for (const struct option *l = c->longs; !own && l && l->name; l++) {
            own = l->val == ch && l->flag == NULL;
        }
        if (own) {
            return ch;
        }
        if (ch == 'h') {
            fputs(c->help, stdout);
            *exit_code = H7_EXIT_OK;
            return CLI_OPT_EXIT;
        }
        bool stop;
        int rc = cli_global_opt(o, ch, optarg, &stop);
        if (rc != H7_EXIT_OK || stop) {
            *exit_code = rc;
            return CLI_OPT_EXIT;
        }
    }
    if (strcmp(c->name, "update") != 0 && cli_one_serial(o) != H7_EXIT_OK) {
        *exit_code = H7_EXIT_USAGE;
        return CLI_OPT_EXIT;
    }
    for (int k = 0; k < 2; k++) {
        unsigned g = k ? CLI_G_ALT : CLI_G_DEVICE;
        if (o->given & c->unused & g) {
            cli_error(o, H7_EXIT_USAGE, "%s would have no effect on %s: %s; drop it", given_name[k],
                      c->name,
                      g == CLI_G_DEVICE ? "it uses no device"
                                        : "it picks the alternate setting itself or uses none");
            *exit_code = H7_EXIT_USAGE;
            return CLI_OPT_EXIT;
        }
    }
    return CLI_OPT_END;
}

int cli_want_args(const cli_opts_t *o, int argc, char **argv, const cli_cmd_t *c, int min, int max,
                  const char *what)
{
    int n = argc - optind;
    if (n > max) {
        cli_error(o, H7_EXIT_USAGE,
                  "%s takes %s%s: '%s' is one argument too many (see `h7dfu %s --help`)", c->name,
                  max ? "" : "no arguments", max ? what : "", argv[optind + max], c->name);
        return H7_EXIT_USAGE;
    }
    if (n < min) {
        cli_error(o, H7_EXIT_USAGE, "%s wants %s (see `h7dfu %s --help`)", c->name, what, c->name);
        return H7_EXIT_USAGE;
    }
    return H7_EXIT_OK;
}

static struct timespec t_start;

void cli_clock_start(void)
{
    clock_gettime(CLOCK_MONOTONIC, &t_start);
}

double cli_elapsed(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t_start.tv_sec) + (double)(now.tv_nsec - t_start.tv_nsec) / 1e9;
}
