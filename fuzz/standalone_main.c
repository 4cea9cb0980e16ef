/*
 * A small driver for the fuzz targets without libFuzzer (the fuzz_short_*
 * tests of make test, any compiler): runs every file given (directories are
 * read, one level), then deterministic pseudo-random mutations of them.
 *
 *   fuzz_short_X [-n ITERATIONS] [-t SECONDS] [-s SEED] [-m MAXLEN] PATH...
 *
 * Stops after ITERATIONS mutated inputs (default 20000) or SECONDS (default
 * 5), whichever comes first. A crash (abort, sanitizer report) leaves the
 * input that caused it in ./fuzz-crash-<pid>.bin for replay: run the program
 * with that file as its only PATH and -n 0.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fuzz_common.h"

/* Only when a sanitizer runtime is linked in: gcc says so with
 * __SANITIZE_ADDRESS__, clang with __has_feature. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define H7_ASAN_ON 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(H7_ASAN_ON)
#if __has_include(<sanitizer/common_interface_defs.h>)
#include <sanitizer/common_interface_defs.h>
#define HAVE_SANITIZER_DEATH_CALLBACK 1
#endif
#endif

typedef struct input {
    uint8_t *data;
    size_t len;
} input_t;

static input_t *g_corpus;
static size_t g_ncorpus, g_capcorpus;

/* The input being run, for the crash dump. */
static const uint8_t *g_cur;
static size_t g_cur_len;

static void dump_current(void)
{
    char name[64];
    snprintf(name, sizeof name, "fuzz-crash-%ld.bin", (long)getpid());
    int fd = open(name, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        return;
    }
    size_t off = 0;
    while (g_cur != NULL && off < g_cur_len) {
        ssize_t w = write(fd, g_cur + off, g_cur_len - off);
        if (w <= 0) {
            break;
        }
        off += (size_t)w;
    }
    close(fd);
    static const char msg[] = "fuzz: the crashing input is in fuzz-crash-<pid>.bin\n";
    ssize_t ignored = write(2, msg, sizeof msg - 1);
    (void)ignored;
}

static void on_abort(int sig)
{
    dump_current();
    signal(sig, SIG_DFL);
    raise(sig);
}

static void run(const uint8_t *data, size_t len)
{
    /* A private copy of exactly len bytes: ASan sees reads past the input. */
    uint8_t *copy = malloc(len ? len : 1);
    if (copy == NULL) {
        fprintf(stderr, "fuzz: out of memory\n");
        exit(2);
    }
    if (len) {
        memcpy(copy, data, len);
    }
    g_cur = copy;
    g_cur_len = len;
    (void)LLVMFuzzerTestOneInput(copy, len);
    g_cur = NULL;
    free(copy);
}

static void add_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "fuzz: %s: %s\n", path, strerror(errno));
        exit(2);
    }
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 4096;
            uint8_t *nb = realloc(buf, cap);
            if (nb == NULL) {
                exit(2);
            }
            buf = nb;
        }
        size_t r = fread(buf + len, 1, cap - len, f);
        if (r == 0) {
            break;
        }
        len += r;
    }
    fclose(f);
    if (g_ncorpus == g_capcorpus) {
        g_capcorpus = g_capcorpus ? g_capcorpus * 2 : 16;
        input_t *nc = realloc(g_corpus, g_capcorpus * sizeof *nc);
        if (nc == NULL) {
            exit(2);
        }
        g_corpus = nc;
    }
    g_corpus[g_ncorpus].data = buf;
    g_corpus[g_ncorpus].len = len;
    g_ncorpus++;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A directory's regular files in name order (the run is reproducible). */
static void add_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "fuzz: %s: %s\n", path, strerror(errno));
        exit(2);
    }
    if (!S_ISDIR(st.st_mode)) {
        add_file(path);
        return;
    }
    DIR *d = opendir(path);
    if (d == NULL) {
        exit(2);
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') {
            continue;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **nn = realloc(names, cap * sizeof *nn);
            if (nn == NULL) {
                exit(2);
            }
            names = nn;
        }
        size_t l = strlen(path) + strlen(e->d_name) + 2;
        names[n] = malloc(l);
        if (names[n] == NULL) {
            exit(2);
        }
        snprintf(names[n], l, "%s/%s", path, e->d_name);
        n++;
    }
    closedir(d);
    if (n > 1) {
        qsort(names, n, sizeof *names, name_cmp);
    }
    for (size_t i = 0; i < n; i++) {
        if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode)) {
            add_file(names[i]);
        }
        free(names[i]);
    }
    free(names);
}

/* xorshift64*: deterministic for a seed. */
static uint64_t g_rng = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
    g_rng ^= g_rng >> 12;
    g_rng ^= g_rng << 25;
    g_rng ^= g_rng >> 27;
    return g_rng * 0x2545f4914f6cdd1dull;
}

static size_t rnd_below(size_t n)
{
    return n ? (size_t)(rnd() % n) : 0;
}

/* One mutation of buf (len bytes, room for max) in place; returns the length. */
static size_t mutate_once(uint8_t *buf, size_t len, size_t max)
{
    static const uint8_t interesting[] = {0x00, 0x01, 0x02, 0x05, 0x06, 0x0a, 0x21, 0x41,
                                          0x7f, 0x80, 0xa1, 0xfe, 0xff, ':',  'S',  '0'};
    switch (rnd_below(8)) {
    case 0: /* flip a bit */
        if (len) {
            buf[rnd_below(len)] ^= (uint8_t)(1u << rnd_below(8));
        }
        return len;
    case 1: /* random byte */
        if (len) {
            buf[rnd_below(len)] = (uint8_t)rnd();
        }
        return len;
    case 2: /* interesting byte */
        if (len) {
            buf[rnd_below(len)] = interesting[rnd_below(sizeof interesting)];
        }
        return len;
    case 3: { /* insert random bytes */
        size_t at = rnd_below(len + 1), n = 1 + rnd_below(16);
        if (len + n > max) {
            return len;
        }
        memmove(buf + at + n, buf + at, len - at);
        for (size_t i = 0; i < n; i++) {
            buf[at + i] = (uint8_t)rnd();
        }
        return len + n;
    }
    case 4: { /* delete a range */
        if (len == 0) {
            return len;
        }
        size_t at = rnd_below(len), n = 1 + rnd_below(len - at < 32 ? len - at : 32);
        memmove(buf + at, buf + at + n, len - at - n);
        return len - n;
    }
    case 5: { /* duplicate a range */
        if (len == 0) {
            return len;
        }
        size_t at = rnd_below(len), n = 1 + rnd_below(len - at < 64 ? len - at : 64);
        if (len + n > max) {
            return len;
        }
        size_t to = rnd_below(len + 1);
        uint8_t tmp[64];
        memcpy(tmp, buf + at, n);
        memmove(buf + to + n, buf + to, len - to);
        memcpy(buf + to, tmp, n);
        return len + n;
    }
    case 6: { /* overwrite with a piece of another corpus input */
        if (g_ncorpus == 0 || len == 0) {
            return len;
        }
        const input_t *o = &g_corpus[rnd_below(g_ncorpus)];
        if (o->len == 0) {
            return len;
        }
        size_t from = rnd_below(o->len), to = rnd_below(len);
        size_t n = 1 + rnd_below(64);
        if (n > o->len - from) {
            n = o->len - from;
        }
        if (n > len - to) {
            n = len - to;
        }
        memcpy(buf + to, o->data + from, n);
        return len;
    }
    default: { /* little-endian 16/32-bit field set to an edge value */
        static const uint32_t edges[] = {0u,          1u,          0x7fffffffu, 0x80000000u,
                                         0xffffffffu, 0x08000000u, 0x08020000u, 0x0801ffffu,
                                         0x081fffe0u, 0x08200000u, 0xffffu,     0x800u};
        if (len < 4) {
            return len;
        }
        size_t at = rnd_below(len - 3);
        uint32_t v = edges[rnd_below(sizeof edges / sizeof edges[0])];
        size_t w = rnd_below(2) ? 4 : 2;
        for (size_t i = 0; i < w; i++) {
            buf[at + i] = (uint8_t)(v >> (8 * i));
        }
        return len;
    }
    }
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    long iterations = 20000;
    double seconds = 5.0;
    size_t max_len = 4096;
    int opt;
    while ((opt = getopt(argc, argv, "n:t:s:m:")) != -1) {
        switch (opt) {
        case 'n':
            iterations = strtol(optarg, NULL, 0);
            break;
        case 't':
            seconds = strtod(optarg, NULL);
            break;
        case 's':
            g_rng = strtoull(optarg, NULL, 0) | 1u;
            break;
        case 'm':
            max_len = (size_t)strtoul(optarg, NULL, 0);
            break;
        default:
            fprintf(stderr, "usage: %s [-n ITER] [-t SECONDS] [-s SEED] [-m MAXLEN] PATH...\n",
                    argv[0]);
            return 2;
        }
    }
    signal(SIGABRT, on_abort);
#ifdef HAVE_SANITIZER_DEATH_CALLBACK
    __sanitizer_set_death_callback(dump_current);
#endif
    for (int i = optind; i < argc; i++) {
        add_path(argv[i]);
    }

    const double t0 = now_s();
    for (size_t i = 0; i < g_ncorpus; i++) {
        run(g_corpus[i].data, g_corpus[i].len);
    }
    run(NULL, 0);

    for (size_t i = 0; i < g_ncorpus; i++) {
        if (g_corpus[i].len > max_len) {
            max_len = g_corpus[i].len;
        }
    }
    uint8_t *buf = malloc(max_len + 1);
    if (buf == NULL) {
        return 2;
    }
    long done = 0;
    for (; done < iterations; done++) {
        if ((done & 63) == 0 && now_s() - t0 > seconds) {
            break;
        }
        size_t len = 0;
        if (g_ncorpus != 0) {
            const input_t *base = &g_corpus[rnd_below(g_ncorpus)];
            len = base->len;
            memcpy(buf, base->data, len);
        }
        size_t rounds = 1 + rnd_below(8);
        for (size_t k = 0; k < rounds; k++) {
            len = mutate_once(buf, len, max_len);
        }
        run(buf, len);
    }
    printf("%s: %zu corpus inputs, %ld mutated inputs, %.2f s, no crash\n", argv[0], g_ncorpus,
           done, now_s() - t0);
    free(buf);
    for (size_t i = 0; i < g_ncorpus; i++) {
        free(g_corpus[i].data);
    }
    free(g_corpus);
    return 0;
}
