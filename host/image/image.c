/*
 * The image container: segments, helpers, format detection, the load/save
 * front doors, and the piece builder every loader uses.
 */
#include "image_internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- errors -------------------------------------------------------------- */

int img_fail(h7_image_error_t *err, h7_image_errc_t code, const char *file, unsigned line,
             long offset, const char *fmt, ...)
{
    if (!err) {
        return -1;
    }
    memset(err, 0, sizeof(*err));
    err->code = code;
    err->line = line;
    err->offset = offset;
    snprintf(err->file, sizeof(err->file), "%s", file ? file : "<memory>");

    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);

    if (line > 0) {
        snprintf(err->message, sizeof(err->message), "%s:%u: %s", err->file, line, what);
    } else if (offset >= 0) {
        snprintf(err->message, sizeof(err->message), "%s: at byte offset %ld (0x%lx): %s",
                 err->file, offset, (unsigned long)offset, what);
    } else {
        snprintf(err->message, sizeof(err->message), "%s: %s", err->file, what);
    }
    return -1;
}

const char *h7_image_errc_name(h7_image_errc_t code)
{
    static const char *const names[] = {
        [H7_IMG_OK] = "ok",
        [H7_IMG_E_IO] = "I/O error",
        [H7_IMG_E_NOMEM] = "out of memory",
        [H7_IMG_E_FORMAT] = "bad format",
        [H7_IMG_E_SYNTAX] = "syntax error",
        [H7_IMG_E_LENGTH] = "bad length",
        [H7_IMG_E_CHECKSUM] = "checksum mismatch",
        [H7_IMG_E_RECORD] = "bad record type",
        [H7_IMG_E_NO_EOF] = "missing end record",
        [H7_IMG_E_AFTER_EOF] = "data after end record",
        [H7_IMG_E_OVERLAP] = "overlapping data",
        [H7_IMG_E_COUNT] = "record count mismatch",
        [H7_IMG_E_TRUNCATED] = "truncated",
        [H7_IMG_E_RANGE] = "address out of range",
        [H7_IMG_E_NEED_BASE] = "base address needed",
        [H7_IMG_E_EMPTY] = "no data",
        [H7_IMG_E_UNSUPPORTED] = "unsupported",
    };
    if ((unsigned)code < sizeof(names) / sizeof(names[0]) && names[code]) {
        return names[code];
    }
    return "unknown error";
}

/* ---- formats ------------------------------------------------------------- */

const char *h7_image_format_name(h7_image_format_t fmt)
{
    switch (fmt) {
    case H7_FMT_AUTO:
        return "auto";
    case H7_FMT_BIN:
        return "bin";
    case H7_FMT_IHEX:
        return "ihex";
    case H7_FMT_SREC:
        return "srec";
    case H7_FMT_DFUSE:
        return "dfuse";
    case H7_FMT_DFU:
        return "dfu";
    case H7_FMT_ELF:
        return "elf";
    }
    return "?";
}

bool h7_image_format_parse(const char *name, h7_image_format_t *fmt)
{
    static const struct {
        const char *name;
        h7_image_format_t fmt;
    } names[] = {
        {"auto", H7_FMT_AUTO}, {"bin", H7_FMT_BIN},     {"raw", H7_FMT_BIN},
        {"ihex", H7_FMT_IHEX}, {"hex", H7_FMT_IHEX},    {"srec", H7_FMT_SREC},
        {"s19", H7_FMT_SREC},  {"dfuse", H7_FMT_DFUSE}, {"dfu", H7_FMT_DFU},
        {"elf", H7_FMT_ELF},   {"elf32", H7_FMT_ELF},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcasecmp(name, names[i].name) == 0) {
            *fmt = names[i].fmt;
            return true;
        }
    }
    return false;
}

static const char *extension(const char *name)
{
    if (!name) {
        return "";
    }
    const char *slash = strrchr(name, '/');
    const char *dot = strrchr(slash ? slash : name, '.');
    return dot ? dot + 1 : "";
}

static bool ext_is(const char *ext, const char *const *list)
{
    for (; *list; list++) {
        if (strcasecmp(ext, *list) == 0) {
            return true;
        }
    }
    return false;
}

h7_image_format_t h7_image_detect(const uint8_t *buf, size_t len, const char *name)
{
    static const char *const ext_bin[] = {"bin", "raw", NULL};
    static const char *const ext_hex[] = {"hex", "ihex", "ihx", NULL};
    static const char *const ext_srec[] = {"srec", "s19", "s28", "s37", "mot", "s", NULL};
    static const char *const ext_elf[] = {"elf", "axf", "out", NULL};
    static const char *const ext_dfu[] = {"dfu", NULL};
    const char *ext = extension(name);

    /* Strong signatures win over any extension: they cannot happen by accident. */
    if (len >= 4 && memcmp(buf,
                           "\x7f"
                           "ELF",
                           4) == 0) {
        return H7_FMT_ELF;
    }
    if (img_has_dfu_suffix(buf, len)) {
        return (len >= 5 && memcmp(buf, "DfuSe", 5) == 0) ? H7_FMT_DFUSE : H7_FMT_DFU;
    }
    if (len >= 5 && memcmp(buf, "DfuSe", 5) == 0) {
        return H7_FMT_DFUSE; /* the loader will explain what is wrong with the suffix */
    }

    /* A raw binary may start with anything, so its extension decides. */
    if (ext_is(ext, ext_bin)) {
        return H7_FMT_BIN;
    }

    size_t i = 0;
    while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n')) {
        i++;
    }
    if (i < len && buf[i] == ':') {
        return H7_FMT_IHEX;
    }
    if (i + 1 < len && buf[i] == 'S' && isdigit(buf[i + 1])) {
        return H7_FMT_SREC;
    }

    /* Content said nothing: let the extension pick, so the loader can say why. */
    if (ext_is(ext, ext_hex)) {
        return H7_FMT_IHEX;
    }
    if (ext_is(ext, ext_srec)) {
        return H7_FMT_SREC;
    }
    if (ext_is(ext, ext_elf)) {
        return H7_FMT_ELF;
    }
    if (ext_is(ext, ext_dfu)) {
        return H7_FMT_DFUSE;
    }
    return H7_FMT_AUTO;
}

/* ---- image --------------------------------------------------------------- */

void h7_image_init(h7_image_t *img)
{
    memset(img, 0, sizeof(*img));
}

void h7_image_free(h7_image_t *img)
{
    if (!img) {
        return;
    }
    for (size_t i = 0; i < img->count; i++) {
        free(img->seg[i].data);
    }
    free(img->seg);
    free(img->targets);
    h7_image_init(img);
}

int h7_image_add(h7_image_t *img, uint8_t alt, uint32_t addr, const uint8_t *data, size_t len,
                 h7_image_error_t *err)
{
    if (len == 0) {
        return 0;
    }
    if ((uint64_t)addr + len > 0x100000000ull) {
        return img_fail(err, H7_IMG_E_RANGE, NULL, 0, -1, "%zu bytes at 0x%08x run past 0xFFFFFFFF",
                        len, addr);
    }
    /* Position: first segment that sorts after (alt, addr). */
    size_t pos = 0;
    while (pos < img->count &&
           (img->seg[pos].alt < alt || (img->seg[pos].alt == alt && img->seg[pos].addr < addr))) {
        pos++;
    }
    uint64_t end = (uint64_t)addr + len;
    if (pos > 0) {
        const h7_segment_t *p = &img->seg[pos - 1];
        if (p->alt == alt && (uint64_t)p->addr + p->len > addr) {
            return img_fail(err, H7_IMG_E_OVERLAP, NULL, 0, -1,
                            "data at 0x%08x overlaps the segment at 0x%08x", addr, p->addr);
        }
    }
    if (pos < img->count && img->seg[pos].alt == alt && img->seg[pos].addr < end) {
        return img_fail(err, H7_IMG_E_OVERLAP, NULL, 0, -1,
                        "data at 0x%08x..0x%08llx overlaps the segment at 0x%08x", addr,
                        (unsigned long long)(end - 1), img->seg[pos].addr);
    }

    uint8_t *copy = malloc(len);
    h7_segment_t *seg = realloc(img->seg, (img->count + 1) * sizeof(*seg));
    if (!copy || !seg) {
        free(copy);
        if (seg) {
            img->seg = seg;
        }
        return img_fail(err, H7_IMG_E_NOMEM, NULL, 0, -1, "out of memory");
    }
    img->seg = seg;
    memcpy(copy, data, len);
    memmove(&seg[pos + 1], &seg[pos], (img->count - pos) * sizeof(*seg));
    seg[pos] = (h7_segment_t){.alt = alt, .addr = addr, .len = (uint32_t)len, .data = copy};
    img->count++;
    return 0;
}

uint64_t h7_image_total_size(const h7_image_t *img)
{
    uint64_t n = 0;
    for (size_t i = 0; i < img->count; i++) {
        n += img->seg[i].len;
    }
    return n;
}

uint32_t h7_image_min_addr(const h7_image_t *img)
{
    uint32_t lo = UINT32_MAX;
    for (size_t i = 0; i < img->count; i++) {
        if (img->seg[i].addr < lo) {
            lo = img->seg[i].addr;
        }
    }
    return img->count ? lo : 0;
}

uint64_t h7_image_end_addr(const h7_image_t *img)
{
    uint64_t hi = 0;
    for (size_t i = 0; i < img->count; i++) {
        uint64_t e = (uint64_t)img->seg[i].addr + img->seg[i].len;
        if (e > hi) {
            hi = e;
        }
    }
    return hi;
}

uint32_t h7_image_max_addr(const h7_image_t *img)
{
    uint64_t e = h7_image_end_addr(img);
    return e ? (uint32_t)(e - 1) : 0;
}

/* ---- CRC-32 of the image (h7_crc32: core/util/h7_util.h) ---------------- */

uint32_t h7_image_crc32(const h7_image_t *img)
{
    uint32_t crc = 0;
    for (size_t i = 0; i < img->count; i++) {
        crc = h7_crc32(crc, img->seg[i].data, img->seg[i].len);
    }
    return crc;
}

/* ---- builder ------------------------------------------------------------- */

void img_builder_init(img_builder_t *b)
{
    memset(b, 0, sizeof(*b));
}

void img_builder_free(img_builder_t *b)
{
    free(b->p);
    free(b->buf);
    img_builder_init(b);
}

int img_builder_add(img_builder_t *b, uint8_t alt, uint32_t addr, const uint8_t *data, uint32_t len,
                    long origin)
{
    if (len == 0) {
        return 0;
    }
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        img_piece_t *p = realloc(b->p, cap * sizeof(*p));
        if (!p) {
            return -1;
        }
        b->p = p;
        b->cap = cap;
    }
    if (b->blen + len > b->bcap) {
        size_t cap = b->bcap ? b->bcap : 4096;
        while (cap < b->blen + len) {
            cap *= 2;
        }
        uint8_t *nb = realloc(b->buf, cap);
        if (!nb) {
            return -1;
        }
        b->buf = nb;
        b->bcap = cap;
    }
    memcpy(b->buf + b->blen, data, len);
    b->p[b->n++] =
        (img_piece_t){.alt = alt, .addr = addr, .len = len, .off = b->blen, .origin = origin};
    b->blen += len;
    return 0;
}

static int piece_cmp(const void *a, const void *b)
{
    const img_piece_t *x = a, *y = b;
    if (x->alt != y->alt) {
        return x->alt < y->alt ? -1 : 1;
    }
    if (x->addr != y->addr) {
        return x->addr < y->addr ? -1 : 1;
    }
    if (x->origin != y->origin) {
        return x->origin < y->origin ? -1 : 1;
    }
    return 0;
}

int img_builder_finish(img_builder_t *b, h7_image_t *img, img_overlap_t *ov)
{
    if (b->n > 1) {
        qsort(b->p, b->n, sizeof(*b->p), piece_cmp);
    }

    /* Pass 1: overlaps (first at the lowest address) and the segment count. */
    size_t nseg = 0;
    uint64_t end = 0;
    size_t widest = 0; /* piece reaching furthest in the current run */
    for (size_t i = 0; i < b->n; i++) {
        const img_piece_t *p = &b->p[i];
        bool same_run = i > 0 && p->alt == b->p[i - 1].alt && p->addr <= end;
        if (same_run && p->addr < end) {
            const img_piece_t *q = &b->p[widest];
            ov->alt = p->alt;
            ov->addr = p->addr;
            ov->origin_first = q->origin < p->origin ? q->origin : p->origin;
            ov->origin_second = q->origin < p->origin ? p->origin : q->origin;
            return 1;
        }
        if (!same_run) {
            nseg++;
        }
        uint64_t e = (uint64_t)p->addr + p->len;
        if (!same_run || e > end) {
            end = e;
            widest = i;
        }
    }

    /* Pass 2: copy each run of touching pieces into one segment. */
    h7_segment_t *seg = calloc(nseg ? nseg : 1, sizeof(*seg));
    if (!seg) {
        return -1;
    }
    size_t s = 0;
    for (size_t i = 0; i < b->n;) {
        size_t j = i + 1;
        uint64_t run_end = (uint64_t)b->p[i].addr + b->p[i].len;
        while (j < b->n && b->p[j].alt == b->p[i].alt && b->p[j].addr == run_end) {
            run_end += b->p[j].len;
            j++;
        }
        uint32_t len = (uint32_t)(run_end - b->p[i].addr);
        uint8_t *data = malloc(len);
        if (!data) {
            for (size_t k = 0; k < s; k++) {
                free(seg[k].data);
            }
            free(seg);
            return -1;
        }
        for (size_t k = i; k < j; k++) {
            memcpy(data + (b->p[k].addr - b->p[i].addr), b->buf + b->p[k].off, b->p[k].len);
        }
        seg[s++] =
            (h7_segment_t){.alt = b->p[i].alt, .addr = b->p[i].addr, .len = len, .data = data};
        i = j;
    }
    img->seg = seg;
    img->count = s;
    return 0;
}

/* ---- shared text helpers ---------------------------------------------------- */

bool img_next_line(const uint8_t *buf, size_t len, size_t *pos, const uint8_t **line,
                   size_t *line_len)
{
    if (*pos >= len) {
        return false;
    }
    size_t start = *pos, i = start;
    while (i < len && buf[i] != '\n') {
        i++;
    }
    *pos = i < len ? i + 1 : i;
    size_t end = i;
    if (end > start && buf[end - 1] == '\r') {
        end--;
    }
    *line = buf + start;
    *line_len = end - start;
    return true;
}

int img_hexval(uint8_t c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

void img_out_put(img_out_t *o, const void *data, size_t len)
{
    if (o->oom) {
        return;
    }
    if (o->len + len > o->cap) {
        size_t cap = o->cap ? o->cap : 4096;
        while (cap < o->len + len) {
            cap *= 2;
        }
        uint8_t *nb = realloc(o->buf, cap);
        if (!nb) {
            o->oom = true;
            return;
        }
        o->buf = nb;
        o->cap = cap;
    }
    memcpy(o->buf + o->len, data, len);
    o->len += len;
}

void img_out_printf(img_out_t *o, const char *fmt, ...)
{
    char tmp[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(tmp)) {
        o->oom = true; /* callers only print short records */
        return;
    }
    img_out_put(o, tmp, (size_t)n);
}

/* ---- front doors ------------------------------------------------------------ */

static int load_bin(h7_image_t *img, const uint8_t *buf, size_t len, const char *name,
                    const h7_load_opts_t *opts, h7_image_error_t *err)
{
    if (!opts || !opts->has_base) {
        return img_fail(err, H7_IMG_E_NEED_BASE, name, 0, -1,
                        "a raw binary has no address: give a base address");
    }
    if (len == 0) {
        return img_fail(err, H7_IMG_E_EMPTY, name, 0, -1, "the file is empty");
    }
    if ((uint64_t)opts->base + len > 0x100000000ull) {
        return img_fail(err, H7_IMG_E_RANGE, name, 0, -1, "%zu bytes at 0x%08x run past 0xFFFFFFFF",
                        len, opts->base);
    }
    if (h7_image_add(img, 0, opts->base, buf, len, err) != 0) {
        return img_fail(err, H7_IMG_E_NOMEM, name, 0, -1, "out of memory");
    }
    return 0;
}

int h7_image_load_mem(h7_image_t *img, const uint8_t *buf, size_t len, const char *name,
                      const h7_load_opts_t *opts, h7_image_error_t *err)
{
    h7_image_init(img);
    if (err) {
        memset(err, 0, sizeof(*err));
    }
    if (!name) {
        name = "<memory>";
    }
    h7_image_format_t fmt = opts ? opts->format : H7_FMT_AUTO;
    if (fmt == H7_FMT_AUTO) {
        fmt = h7_image_detect(buf, len, name);
    }
    if (fmt == H7_FMT_AUTO) {
        if (opts && opts->has_base) {
            fmt = H7_FMT_BIN;
        } else {
            return img_fail(err, H7_IMG_E_FORMAT, name, 0, -1,
                            "unknown format (not Intel HEX, S-record, ELF or DFU); for a raw "
                            "binary give a base address");
        }
    }

    int rc;
    switch (fmt) {
    case H7_FMT_BIN:
        rc = load_bin(img, buf, len, name, opts, err);
        break;
    case H7_FMT_IHEX:
        rc = img_load_ihex(img, buf, len, name, err);
        break;
    case H7_FMT_SREC:
        rc = img_load_srec(img, buf, len, name, err);
        break;
    case H7_FMT_ELF:
        rc = img_load_elf(img, buf, len, name, err);
        break;
    case H7_FMT_DFUSE:
    case H7_FMT_DFU:
        rc = img_load_dfu(img, buf, len, name, fmt, opts, err);
        break;
    default:
        rc = img_fail(err, H7_IMG_E_FORMAT, name, 0, -1, "bad format value %d", (int)fmt);
        break;
    }
    if (rc == 0 && img->count == 0) {
        rc = img_fail(err, H7_IMG_E_EMPTY, name, 0, -1, "the file holds no data");
    }
    if (rc != 0) {
        h7_image_free(img);
        return -1;
    }
    img->format = fmt;
    return 0;
}

int h7_image_load_file(h7_image_t *img, const char *path, const h7_load_opts_t *opts,
                       h7_image_error_t *err)
{
    h7_image_init(img);
    FILE *f = fopen(path, "rb");
    if (!f) {
        return img_fail(err, H7_IMG_E_IO, path, 0, -1, "cannot open: %s", strerror(errno));
    }
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 65536;
            uint8_t *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                return img_fail(err, H7_IMG_E_NOMEM, path, 0, -1, "out of memory");
            }
            buf = nb;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0) {
            break;
        }
    }
    bool bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return img_fail(err, H7_IMG_E_IO, path, 0, -1, "read error");
    }
    int rc = h7_image_load_mem(img, buf, len, path, opts, err);
    free(buf);
    return rc;
}

int h7_image_encode(const h7_image_t *img, h7_image_format_t fmt, const h7_write_opts_t *opts,
                    uint8_t **out, size_t *out_len, h7_image_error_t *err)
{
    img_out_t o = {0};
    int rc;
    *out = NULL;
    *out_len = 0;
    switch (fmt) {
    case H7_FMT_IHEX:
        rc = img_write_ihex(img, &o);
        if (rc != 0) {
            free(o.buf);
            return img_fail(err, H7_IMG_E_UNSUPPORTED, NULL, 0, -1,
                            "Intel HEX holds one address space: the image has several alt "
                            "settings");
        }
        break;
    case H7_FMT_DFUSE:
        rc = img_write_dfuse(img, opts, &o);
        if (rc != 0) {
            free(o.buf);
            return img_fail(err, H7_IMG_E_UNSUPPORTED, NULL, 0, -1,
                            "a segment is too large for a DfuSe element");
        }
        break;
    default:
        return img_fail(err, H7_IMG_E_UNSUPPORTED, NULL, 0, -1, "no writer for format %s",
                        h7_image_format_name(fmt));
    }
    if (o.oom) {
        free(o.buf);
        return img_fail(err, H7_IMG_E_NOMEM, NULL, 0, -1, "out of memory");
    }
    *out = o.buf;
    *out_len = o.len;
    return 0;
}

int h7_image_save(const h7_image_t *img, const char *path, h7_image_format_t fmt,
                  const h7_write_opts_t *opts, h7_image_error_t *err)
{
    uint8_t *buf;
    size_t len;
    if (h7_image_encode(img, fmt, opts, &buf, &len, err) != 0) {
        if (err) { /* put the file name in the message */
            char what[sizeof(err->message)];
            const char *colon = strstr(err->message, ": ");
            snprintf(what, sizeof(what), "%s", colon ? colon + 2 : err->message);
            return img_fail(err, err->code, path, 0, -1, "%s", what);
        }
        return -1;
    }
    FILE *f = fopen(path, "wb");
    if (!f) {
        free(buf);
        return img_fail(err, H7_IMG_E_IO, path, 0, -1, "cannot create: %s", strerror(errno));
    }
    bool ok = fwrite(buf, 1, len, f) == len;
    ok = (fclose(f) == 0) && ok;
    free(buf);
    if (!ok) {
        return img_fail(err, H7_IMG_E_IO, path, 0, -1, "write error");
    }
    return 0;
}
