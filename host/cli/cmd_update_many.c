/*
 * `h7dfu update` on several boards (-S A,B,... or --all). Each board goes
 * through the whole cycle (detach, write, verify, leave, the application
 * back) in a run of its own: this program again, as
 *   h7dfu --json -q -S SERIAL update [OPTIONS] FILE
 * so every board has its own progress, signal and JSON state, and one that
 * fails (power cut, unplugged, refused image) does not stop the others. At
 * most --parallel runs at once. Each run's document (valid JSON, written by
 * that run) becomes its board's "result" in the one document of this run.
 * Identity is the serial number: the application and the h7dfu bootloader
 * of a board share it (the chip's unique ID).
 */
#include "cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* What is kept of a run's output; a document is a few hundred bytes. */
#define OUT_MAX 65536
#define ERR_MAX 8192

typedef struct buf {
    char *p;
    size_t len, max;
} buf_t;

typedef struct board {
    char serial[sizeof(((h7_usb_device_t *)0)->serial)];
    char path[sizeof(((h7_usb_device_t *)0)->path)];
    pid_t pid; /* 0: not started (or finished) */
    int fd_out, fd_err;
    bool started, done;
    int exit;            /* the run's exit status; 128 + N: ended by signal N */
    int signal;          /* the signal that ended the run, or 0 */
    const char *refused; /* not started: why (exit 4) */
    uint64_t t0, t1;
    buf_t out, err;
} board_t;

static volatile sig_atomic_t stops; /* SIGINT/SIGTERM received */

static void on_stop(int sig)
{
    (void)sig;
    stops++;
}

/* Append: past max, a document keeps its start (it is then cut: no valid
 * document), messages their end (the error is the last line). */
static void buf_add(buf_t *b, const char *data, size_t n)
{
    if (!b->p && !(b->p = malloc(b->max + 1))) {
        return;
    }
    const bool keep_end = b->max != OUT_MAX;
    if (n > b->max - b->len) {
        if (!keep_end) {
            n = b->max - b->len;
        } else if (n >= b->max) {
            data += n - b->max;
            n = b->max;
            b->len = 0;
        } else {
            size_t drop = n - (b->max - b->len);
            memmove(b->p, b->p + drop, b->len - drop);
            b->len -= drop;
        }
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static const char *buf_str(const buf_t *b)
{
    return b->p ? b->p : "";
}

/* The value of the string field key in a run's document (the first one after
 * from, when from is found), unescaped into out; false when absent. The
 * documents are this program's own (cli_json.c): a string has no raw quote. */
static bool doc_string(const char *doc, const char *from, const char *key, char *out, size_t len)
{
    char pat[64];
    if (from) {
        doc = strstr(doc, from);
        if (!doc) {
            return false;
        }
    }
    snprintf(pat, sizeof(pat), "\"%s\":\"", key);
    const char *p = strstr(doc, pat);
    if (!p || len == 0) {
        return false;
    }
    p += strlen(pat);
    size_t n = 0;
    for (; *p && *p != '"' && n + 1 < len; p++) {
        if (*p == '\\' && p[1]) {
            p++;
            out[n++] = *p == 'n' ? ' ' : *p == 't' ? ' ' : *p == 'u' ? '?' : *p;
            if (*p == 'u') {
                p += strspn(p + 1, "0123456789abcdefABCDEF") > 3 ? 4 : 0;
            }
        } else {
            out[n++] = *p;
        }
    }
    out[n] = '\0';
    return true;
}

static long long doc_int(const char *doc, const char *from, const char *key)
{
    char pat[64];
    if (from && !(doc = strstr(doc, from))) {
        return -1;
    }
    snprintf(pat, sizeof(pat), "\"%s\":", key);
    const char *p = strstr(doc, pat);
    return p ? strtoll(p + strlen(pat), NULL, 10) : -1;
}

static bool doc_true(const char *doc, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof(pat), "\"%s\":true", key);
    return strstr(doc, pat) != NULL;
}

/* The version the application reports after the run ("2.0.0"), else the one
 * in the file, else "?". */
static void app_version(const char *doc, char *out, size_t len)
{
    static const char app[] = "\"app_version\":{";
    long long ma = doc ? doc_int(doc, app, "major") : -1;
    long long mi = doc ? doc_int(doc, app, "minor") : -1;
    long long pa = doc ? doc_int(doc, app, "patch") : -1;
    if (ma >= 0 && mi >= 0 && pa >= 0) {
        snprintf(out, len, "%lld.%lld.%lld", ma, mi, pa);
    } else if (!doc || !doc_string(doc, "\"new_version\":{", "text", out, len)) {
        snprintf(out, len, "?");
    }
}

/* The run's document: one JSON object on one line, or NULL. */
static const char *doc_of(board_t *b)
{
    if (!b->out.p) {
        return NULL;
    }
    while (b->out.len && (b->out.p[b->out.len - 1] == '\n' || b->out.p[b->out.len - 1] == '\r')) {
        b->out.p[--b->out.len] = '\0';
    }
    if (b->out.len < 2 || b->out.p[0] != '{' || b->out.p[b->out.len - 1] != '}' ||
        memchr(b->out.p, '\n', b->out.len)) {
        return NULL;
    }
    return b->out.p;
}

/* The last line a run said on stderr (its error), into out. */
static void last_line(const buf_t *e, char *out, size_t len)
{
    const char *s = buf_str(e);
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r')) {
        n--;
    }
    size_t a = n;
    while (a && s[a - 1] != '\n') {
        a--;
    }
    const char *line = s + a;
    size_t l = n - a;
    static const char pre[] = "h7dfu: error: ";
    if (l >= sizeof(pre) - 1 && !strncmp(line, pre, sizeof(pre) - 1)) {
        line += sizeof(pre) - 1;
        l -= sizeof(pre) - 1;
    }
    snprintf(out, len, "%.*s", (int)l, line);
}

static double secs(const board_t *b)
{
    return b->t1 > b->t0 ? (double)(b->t1 - b->t0) / 1000.0 : 0.0;
}

/* The board's line, as it finishes. */
static void say_board(const cli_opts_t *o, board_t *b)
{
    const char *doc = doc_of(b);
    char msg[1024], ver[64];
    if (b->exit == H7_EXIT_OK) {
        if (o->quiet || o->json) {
            return;
        }
        app_version(doc, ver, sizeof(ver));
        if (doc && doc_true(doc, "up_to_date")) {
            fprintf(stderr, "%s: already up to date (%s)\n", b->serial, ver);
            return;
        }
        long long er = doc ? doc_int(doc, NULL, "sectors_erased") : -1;
        long long sk = doc ? doc_int(doc, NULL, "sectors_skipped") : -1;
        if (er >= 0 && sk >= 0) {
            fprintf(stderr,
                    "%s: updated to %s in %.1f s (%lld sector(s) erased, %lld already equal)\n",
                    b->serial, ver, secs(b), er, sk);
        } else {
            fprintf(stderr, "%s: updated to %s in %.1f s\n", b->serial, ver, secs(b));
        }
        return;
    }
    if (b->refused) {
        snprintf(msg, sizeof(msg), "%s", b->refused);
    } else if (!b->started) {
        snprintf(msg, sizeof(msg), "not started: interrupted");
    } else if (doc && doc_string(doc, NULL, "message", msg, sizeof(msg)))
        ;
    else if (b->signal) {
        snprintf(msg, sizeof(msg), "its run ended on signal %d (%s)", b->signal,
                 strsignal(b->signal));
    } else {
        last_line(&b->err, msg, sizeof(msg));
    }
    fprintf(stderr, "%s: FAILED (exit %d, %s): %s\n", b->serial, b->exit,
            b->exit == H7_EXIT_INTERRUPTED ? "interrupted" : cli_exit_category(b->exit),
            msg[0] ? msg : "no message");
}

/* Start the run of board b; false when it could not be started (said). */
static bool start(const cli_opts_t *o, const cli_many_t *m, board_t *b)
{
    const char *argv[40];
    char wait[16], dev[16], alt[16];
    int n = 0;
    argv[n++] = "h7dfu";
    argv[n++] = "--json";
    argv[n++] = o->verbose ? "-v" : "-q";
    argv[n++] = "-S";
    argv[n++] = b->serial;
    if (o->timeout_ms) {
        snprintf(wait, sizeof(wait), "%u", o->timeout_ms / 1000u);
        argv[n++] = "-w";
        argv[n++] = wait;
    }
    if (o->filter.vid || o->filter.pid) {
        snprintf(dev, sizeof(dev), "%04x:%04x", o->filter.vid, o->filter.pid);
        argv[n++] = "-d";
        argv[n++] = dev;
    }
    if (o->alt >= 0) {
        snprintf(alt, sizeof(alt), "%d", o->alt);
        argv[n++] = "-a";
        argv[n++] = alt;
    }
    argv[n++] = "update";
    if (m->address) {
        argv[n++] = "-s";
        argv[n++] = m->address;
    }
    if (m->format) {
        argv[n++] = "-f";
        argv[n++] = m->format;
    }
    if (m->wait_dfu) {
        argv[n++] = "--wait-dfu";
        argv[n++] = m->wait_dfu;
    }
    if (m->wait_app) {
        argv[n++] = "--wait-app";
        argv[n++] = m->wait_app;
    }
    if (m->force) {
        argv[n++] = "--force";
    }
    if (m->no_skip) {
        argv[n++] = "--no-skip";
    }
    argv[n++] = "--";
    argv[n++] = m->file;
    argv[n] = NULL;

    int po[2], pe[2];
    if (pipe(po) != 0) {
        b->refused = "cannot start its run: no pipe";
        return false;
    }
    if (pipe(pe) != 0) {
        close(po[0]);
        close(po[1]);
        b->refused = "cannot start its run: no pipe";
        return false;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        close(po[0]);
        close(po[1]);
        close(pe[0]);
        close(pe[1]);
        b->refused = "cannot start its run: fork failed";
        return false;
    }
    if (pid == 0) {
        /* A process group of its own: Ctrl-C on the terminal reaches this
         * program only, which hands it on once (a second one would end the
         * run at once instead of at its next safe point). */
        setpgid(0, 0);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        int null = open("/dev/null", O_RDONLY);
        if (null >= 0) {
            dup2(null, STDIN_FILENO);
            close(null);
        }
        dup2(po[1], STDOUT_FILENO);
        dup2(pe[1], STDERR_FILENO);
        close(po[0]);
        close(po[1]);
        close(pe[0]);
        close(pe[1]);
        execv("/proc/self/exe", (char *const *)argv);
        static const char msg[] = "h7dfu: error: cannot run /proc/self/exe\n";
        ssize_t w = write(STDERR_FILENO, msg, sizeof(msg) - 1);
        (void)w;
        _exit(H7_EXIT_FAIL);
    }
    close(po[1]);
    close(pe[1]);
    b->pid = pid;
    b->fd_out = po[0];
    b->fd_err = pe[0];
    b->started = true;
    b->t0 = cli_now_ms();
    if (o->verbose) {
        fprintf(stderr, "%s: started (pid %ld)\n", b->serial, (long)pid);
    }
    return true;
}

/* Read what is there from fd into bf; closes it at its end (*fd = -1). */
static void drain(int *fd, buf_t *bf)
{
    char chunk[4096];
    for (;;) {
        ssize_t r = read(*fd, chunk, sizeof(chunk));
        if (r > 0) {
            buf_add(bf, chunk, (size_t)r);
            continue;
        }
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0 && errno == EAGAIN) {
            return;
        }
        close(*fd);
        *fd = -1;
        return;
    }
}

/* Both pipes closed: reap the run, say its line. */
static void finish(const cli_opts_t *o, board_t *b)
{
    int st = 0;
    while (waitpid(b->pid, &st, 0) < 0 && errno == EINTR)
        ;
    b->t1 = cli_now_ms();
    b->signal = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
    b->exit = WIFEXITED(st) ? WEXITSTATUS(st) : b->signal ? 128 + b->signal : H7_EXIT_FAIL;
    b->pid = 0;
    b->done = true;
    /* Not seen at the start: the path its run found it on. */
    const char *doc = doc_of(b);
    if (!b->path[0] && doc) {
        doc_string(doc, NULL, "path", b->path, sizeof(b->path));
    }
    if (o->verbose && b->err.len) {
        /* Its words, together, not interleaved with the others'. */
        const char *s = buf_str(&b->err);
        while (*s) {
            size_t l = strcspn(s, "\n");
            fprintf(stderr, "%s| %.*s\n", b->serial, (int)l, s);
            s += l + (s[l] == '\n');
        }
    }
    say_board(o, b);
}

/* The boards named with -S, each found for its path (a board not seen now
 * still gets its run: it may appear within -w, and its run says otherwise). */
static int boards_by_serial(const cli_opts_t *o, board_t **out)
{
    char **serials = NULL;
    int n = cli_split_serials(o->serial_args, o->n_serial_args, &serials);
    if (n <= 0) {
        free(serials);
        cli_error(o, H7_EXIT_USAGE, "-S wants serial numbers, as -S A,B,C (no empty one)");
        return -H7_EXIT_USAGE;
    }
    board_t *b = calloc((size_t)n, sizeof(*b));
    if (!b) {
        free(serials);
        cli_error(o, H7_EXIT_FAIL, "out of memory");
        return -H7_EXIT_FAIL;
    }
    h7_usb_t *usb = NULL;
    h7_usb_device_t *found = NULL;
    int nf = 0;
    if (h7_usb_init(&usb) == 0) {
        cli_opts_t any = *o;
        any.filter.serial = NULL;
        nf = cli_find_all(usb, &any, &found);
        h7_usb_exit(usb);
    }
    for (int i = 0; i < n; i++) {
        snprintf(b[i].serial, sizeof(b[i].serial), "%s", serials[i]);
        for (int k = 0; k < nf; k++) {
            if (!strcmp(found[k].serial, serials[i]) && !b[i].path[0]) {
                snprintf(b[i].path, sizeof(b[i].path), "%s", found[k].path);
            }
        }
    }
    free(found);
    free(serials);
    *out = b;
    return n;
}

static int by_serial(const void *a, const void *b)
{
    return strcmp(((const board_t *)a)->serial, ((const board_t *)b)->serial);
}

/* --all: every h7dfu board present, by serial number. A board without one,
 * or whose serial another device shares, cannot be told apart from the
 * others across its restarts: it is refused, untouched. */
static int boards_all(const cli_opts_t *o, board_t **out)
{
    h7_usb_t *usb = NULL;
    int rc = cli_usb_init(o, &usb);
    if (rc != H7_EXIT_OK) {
        return -rc;
    }
    h7_usb_device_t *found = NULL;
    int n = cli_find_boards(usb, o, &found);
    h7_usb_exit(usb);
    if (n < 0) {
        cli_error(o, H7_EXIT_USB, "cannot list USB devices: %s", h7_usb_strerror(n));
        return -H7_EXIT_USB;
    }
    if (n == 0) {
        free(found);
        cli_error(o, H7_EXIT_NO_DEVICE, "no h7dfu board found%s: check the cables and `h7dfu list`",
                  o->timeout_ms ? " within the wait time" : "");
        return -H7_EXIT_NO_DEVICE;
    }
    board_t *b = calloc((size_t)n, sizeof(*b));
    if (!b) {
        free(found);
        cli_error(o, H7_EXIT_FAIL, "out of memory");
        return -H7_EXIT_FAIL;
    }
    for (int i = 0; i < n; i++) {
        snprintf(b[i].serial, sizeof(b[i].serial), "%s", found[i].serial);
        snprintf(b[i].path, sizeof(b[i].path), "%s", found[i].path);
        if (!found[i].serial[0]) {
            b[i].refused = "the board has no serial number: update it alone with -p PATH";
        }
        for (int k = 0; k < n; k++) {
            if (k != i && found[i].serial[0] && !strcmp(found[k].serial, found[i].serial)) {
                b[i].refused = "another device has the same serial number: the board cannot "
                               "be told apart across its restart; update it alone with -p PATH";
            }
        }
    }
    free(found);
    qsort(b, (size_t)n, sizeof(*b), by_serial);
    *out = b;
    return n;
}

static void write_doc(const cli_opts_t *o, const cli_many_t *m, board_t *b, int n, int code, int ok)
{
    cli_json_t j;
    if (!cli_doc_begin(o, &j, code)) {
        return;
    }
    cli_json_string(&j, "file", m->file);
    cli_json_int(&j, "parallel", m->parallel);
    cli_json_int(&j, "boards_ok", ok);
    cli_json_int(&j, "boards_failed", n - ok);
    cli_json_begin_array(&j, "boards");
    for (int i = 0; i < n; i++) {
        cli_json_begin_object(&j, NULL);
        cli_json_string(&j, "serial", b[i].serial);
        if (b[i].path[0]) {
            cli_json_string(&j, "path", b[i].path);
        } else {
            cli_json_null(&j, "path");
        }
        cli_json_int(&j, "exit", b[i].exit);
        cli_json_bool(&j, "ok", b[i].exit == H7_EXIT_OK);
        cli_json_bool(&j, "started", b[i].started);
        cli_json_seconds(&j, "seconds", secs(&b[i]));
        const char *doc = b[i].started ? doc_of(&b[i]) : NULL;
        if (doc) {
            cli_json_raw(&j, "result", doc);
        } else {
            char msg[1024];
            if (b[i].refused) {
                snprintf(msg, sizeof(msg), "%s", b[i].refused);
            } else if (!b[i].started) {
                snprintf(msg, sizeof(msg), "not started: interrupted");
            } else if (b[i].signal) {
                snprintf(msg, sizeof(msg), "its run ended on signal %d (%s)", b[i].signal,
                         strsignal(b[i].signal));
            } else {
                last_line(&b[i].err, msg, sizeof(msg));
            }
            /* No document of its own: the error object in its place. */
            cli_json_begin_object(&j, "result");
            cli_doc_error(&j, b[i].exit, msg, NULL, NULL);
            cli_json_end(&j);
        }
        cli_json_end(&j);
    }
    cli_json_end(&j);
    cli_doc_end(&j);
}

int cli_update_many(cli_opts_t *o, const cli_many_t *m)
{
    board_t *b = NULL;
    int n = m->all ? boards_all(o, &b) : boards_by_serial(o, &b);
    if (n < 0) {
        return -n;
    }
    for (int i = 0; i < n; i++) {
        b[i].fd_out = b[i].fd_err = -1;
        b[i].out.max = OUT_MAX;
        b[i].err.max = ERR_MAX;
        if (b[i].refused) {
            b[i].exit = H7_EXIT_NO_DEVICE;
            b[i].done = true;
        }
    }
    unsigned par = m->parallel < (unsigned)n ? m->parallel : (unsigned)n;
    if (!o->quiet && !o->json) {
        fprintf(stderr, "updating %d board(s) with %s, %u at a time:", n, m->file, par);
        for (int i = 0; i < n; i++) {
            fprintf(stderr, " %s", b[i].serial);
        }
        fputc('\n', stderr);
    }
    for (int i = 0; i < n; i++) {
        if (b[i].refused) {
            say_board(o, &b[i]);
        }
    }

    /* Ctrl-C / SIGTERM: handed on to the running boards (they stop at their
     * next safe point, exit 130); no board is started after it. */
    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    int handed_on = 0;

    struct pollfd *pf = calloc((size_t)n * 2u + 1u, sizeof(*pf));
    int *who = calloc((size_t)n * 2u + 1u, sizeof(*who));
    if (!pf || !who) {
        free(pf);
        free(who);
        free(b);
        cli_error(o, H7_EXIT_FAIL, "out of memory");
        return H7_EXIT_FAIL;
    }
    int next = 0;
    unsigned running = 0;
    for (;;) {
        while (!stops && running < par && next < n) {
            board_t *x = &b[next++];
            if (x->done) {
                continue;
            }
            if (start(o, m, x)) {
                running++;
                fcntl(x->fd_out, F_SETFL, fcntl(x->fd_out, F_GETFL) | O_NONBLOCK);
                fcntl(x->fd_err, F_SETFL, fcntl(x->fd_err, F_GETFL) | O_NONBLOCK);
            } else {
                x->exit = H7_EXIT_FAIL;
                x->done = true;
                say_board(o, x);
            }
        }
        if (running == 0) {
            break;
        }
        if (stops != handed_on) {
            handed_on = (int)stops;
            for (int i = 0; i < n; i++) {
                if (b[i].pid > 0) {
                    kill(b[i].pid, SIGINT);
                }
            }
        }
        nfds_t np = 0;
        for (int i = 0; i < n; i++) {
            if (b[i].pid <= 0) {
                continue;
            }
            if (b[i].fd_out >= 0) {
                pf[np] = (struct pollfd){.fd = b[i].fd_out, .events = POLLIN};
                who[np++] = i;
            }
            if (b[i].fd_err >= 0) {
                pf[np] = (struct pollfd){.fd = b[i].fd_err, .events = POLLIN};
                who[np++] = i;
            }
        }
        int pr = poll(pf, np, 200);
        if (pr < 0 && errno != EINTR) {
            cli_sleep_ms(100u); /* poll failed: look again */
        }
        for (nfds_t k = 0; pr > 0 && k < np; k++) {
            if (!pf[k].revents) {
                continue;
            }
            board_t *x = &b[who[k]];
            if (pf[k].fd == x->fd_out) {
                drain(&x->fd_out, &x->out);
            } else if (pf[k].fd == x->fd_err) {
                drain(&x->fd_err, &x->err);
            }
        }
        for (int i = 0; i < n; i++) {
            if (b[i].pid > 0 && b[i].fd_out < 0 && b[i].fd_err < 0) {
                finish(o, &b[i]);
                running--;
            }
        }
    }
    free(pf);
    free(who);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);

    /* Boards never started (interrupted before their turn). */
    for (int i = 0; i < n; i++) {
        if (!b[i].done) {
            b[i].exit = H7_EXIT_INTERRUPTED;
            b[i].done = true;
            say_board(o, &b[i]);
        }
    }
    /* The exit status: the first failed board's (in the order listed), a
     * run ended by a signal as 1. */
    int ok = 0, code = H7_EXIT_OK;
    for (int i = 0; i < n; i++) {
        if (b[i].exit == H7_EXIT_OK) {
            ok++;
        } else if (code == H7_EXIT_OK) {
            code = b[i].exit <= H7_EXIT_USB || b[i].exit == H7_EXIT_INTERRUPTED ? b[i].exit
                                                                                : H7_EXIT_FAIL;
        }
    }
    if (stops) {
        code = H7_EXIT_INTERRUPTED;
    }
    if (!o->quiet && !o->json) {
        if (ok == n) {
            fprintf(stderr, "all %d board(s) updated or up to date\n", n);
        } else {
            fprintf(stderr, "%d of %d board(s) updated or up to date, %d failed%s\n", ok, n, n - ok,
                    stops ? " (interrupted)" : ": run the same command again to finish them");
        }
    }
    write_doc(o, m, b, n, code, ok);
    for (int i = 0; i < n; i++) {
        free(b[i].out.p);
        free(b[i].err.p);
    }
    free(b);
    return code;
}
