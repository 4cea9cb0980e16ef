/*
 * DfuSe memory-layout string parser (AN3156 section 4 / UM0424):
 *   '@' name '/' 0xADDR '/' N '*' SIZE UNIT TYPE {',' N '*' SIZE UNIT TYPE} {'/' 0xADDR '/' ...}
 * UNIT is ' ' (bytes), 'B', 'K' (1024) or 'M' (1024 * 1024) and may be left out;
 * TYPE is 'a'..'g': bit 0 readable, bit 1 erasable, bit 2 writable.
 */
#include "h7_layout.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int fail(char *err, size_t err_len, const char *s, const char *at, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int fail(char *err, size_t err_len, const char *s, const char *at, const char *fmt, ...)
{
    if (err && err_len) {
        char what[160];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(what, sizeof(what), fmt, ap);
        va_end(ap);
        snprintf(err, err_len, "memory layout \"%.80s\": column %td: %s", s, at - s + 1, what);
    }
    return -1;
}

static void skip_blanks(const char **p)
{
    while (**p == ' ' || **p == '\t') {
        (*p)++;
    }
}

/* Decimal number; false if there is no digit or it does not fit 32 bits. */
static bool parse_dec(const char **p, uint32_t *v)
{
    uint64_t n = 0;
    const char *q = *p;
    if (*q < '0' || *q > '9') {
        return false;
    }
    while (*q >= '0' && *q <= '9') {
        n = n * 10 + (uint64_t)(*q++ - '0');
        if (n > UINT32_MAX) {
            return false;
        }
    }
    *v = (uint32_t)n;
    *p = q;
    return true;
}

static bool parse_hex_addr(const char **p, uint32_t *v)
{
    const char *q = *p;
    if (q[0] != '0' || (q[1] != 'x' && q[1] != 'X')) {
        return false;
    }
    q += 2;
    uint64_t n = 0;
    int digits = 0;
    for (;; q++, digits++) {
        int d;
        if (*q >= '0' && *q <= '9') {
            d = *q - '0';
        } else if (*q >= 'a' && *q <= 'f') {
            d = *q - 'a' + 10;
        } else if (*q >= 'A' && *q <= 'F') {
            d = *q - 'A' + 10;
        } else {
            break;
        }
        n = n * 16 + (uint64_t)d;
        if (n > UINT32_MAX) {
            return false;
        }
    }
    if (digits == 0) {
        return false;
    }
    *v = (uint32_t)n;
    *p = q;
    return true;
}

int h7_layout_parse(const char *s, h7_layout_t *out, char *err, size_t err_len)
{
    memset(out, 0, sizeof(*out));
    const char *p = s;
    if (*p != '@') {
        return fail(err, err_len, s, p, "must start with '@'");
    }
    p++;
    const char *slash = strchr(p, '/');
    if (!slash) {
        return fail(err, err_len, s, p, "no '/' after the name");
    }
    size_t nlen = (size_t)(slash - p);
    while (nlen > 0 && (p[nlen - 1] == ' ' || p[nlen - 1] == '\t')) {
        nlen--;
    }
    if (nlen >= sizeof(out->name)) {
        nlen = sizeof(out->name) - 1;
    }
    memcpy(out->name, p, nlen);
    out->name[nlen] = '\0';
    p = slash;

    while (*p == '/') {
        p++;
        skip_blanks(&p);
        uint64_t addr; /* 64 bits: a region may end exactly at 4 GiB */
        uint32_t addr32;
        if (!parse_hex_addr(&p, &addr32)) {
            return fail(err, err_len, s, p, "expected a 0x address");
        }
        addr = addr32;
        skip_blanks(&p);
        if (*p != '/') {
            return fail(err, err_len, s, p, "expected '/' after the address");
        }
        p++;
        for (;;) {
            skip_blanks(&p);
            const char *group_start = p;
            uint32_t count, size;
            if (!parse_dec(&p, &count) || count == 0) {
                return fail(err, err_len, s, p, "expected a sector count");
            }
            if (*p != '*') {
                return fail(err, err_len, s, p, "expected '*' after the sector count");
            }
            p++;
            if (!parse_dec(&p, &size) || size == 0) {
                return fail(err, err_len, s, p, "expected a sector size");
            }
            uint64_t mult = 1;
            if (*p == 'K') {
                mult = 1024;
            } else if (*p == 'M') {
                mult = 1024 * 1024;
            }
            if (*p == 'K' || *p == 'M' || *p == 'B' || *p == ' ') {
                p++;
            }
            if (*p < 'a' || *p > 'g') {
                return fail(err, err_len, s, p, "expected a sector type letter 'a'..'g'");
            }
            uint8_t attr = (uint8_t)(*p - 'a' + 1);
            p++;
            uint64_t bytes = size * mult;
            uint64_t end = addr + bytes * count;
            if (bytes > UINT32_MAX || end > 0x100000000ull) {
                return fail(err, err_len, s, group_start, "sectors run past 0xFFFFFFFF");
            }
            /* Overlapping regions would give one address two sectors. */
            for (size_t g = 0; g < out->ngroups; g++) {
                const h7_mem_group_t *o = &out->group[g];
                uint64_t oend = (uint64_t)o->addr + (uint64_t)o->size * o->count;
                if (addr < oend && o->addr < end) {
                    return fail(err, err_len, s, group_start,
                                "sectors at 0x%08llx overlap those at 0x%08x",
                                (unsigned long long)addr, o->addr);
                }
            }
            if (out->ngroups == H7_LAYOUT_MAX_GROUPS) {
                return fail(err, err_len, s, p, "more than %d sector groups", H7_LAYOUT_MAX_GROUPS);
            }
            out->group[out->ngroups++] = (h7_mem_group_t){
                .addr = (uint32_t)addr, .count = count, .size = (uint32_t)bytes, .attr = attr};
            addr = end;
            skip_blanks(&p);
            if (*p != ',') {
                break;
            }
            p++;
        }
    }
    skip_blanks(&p);
    if (*p != '\0') {
        return fail(err, err_len, s, p, "unexpected '%c'", *p);
    }
    if (out->ngroups == 0) {
        return fail(err, err_len, s, p, "no memory region");
    }
    return 0;
}

bool h7_layout_find(const h7_layout_t *l, uint32_t addr, h7_sector_t *out)
{
    for (size_t i = 0; i < l->ngroups; i++) {
        const h7_mem_group_t *g = &l->group[i];
        uint64_t end = (uint64_t)g->addr + (uint64_t)g->size * g->count;
        if (addr >= g->addr && addr < end) {
            uint32_t k = (addr - g->addr) / g->size;
            out->addr = g->addr + k * g->size;
            out->size = g->size;
            out->attr = g->attr;
            /* Its number in address order: zones may be listed in any order. */
            out->index = k;
            for (size_t j = 0; j < l->ngroups; j++) {
                if (l->group[j].addr < g->addr) {
                    out->index += l->group[j].count;
                }
            }
            return true;
        }
    }
    return false;
}

uint64_t h7_layout_size(const h7_layout_t *l, uint8_t mask)
{
    uint64_t n = 0;
    for (size_t i = 0; i < l->ngroups; i++) {
        if ((l->group[i].attr & mask) == mask) {
            n += (uint64_t)l->group[i].size * l->group[i].count;
        }
    }
    return n;
}

const char *h7_mem_attr_str(uint8_t attr, char *buf, size_t len)
{
    snprintf(buf, len, "'%c' (%s%s%s%s)", 'a' + attr - 1, attr & H7_MEM_READ ? "readable" : "",
             (attr & H7_MEM_READ) && (attr & ~H7_MEM_READ) ? ", " : "",
             attr & H7_MEM_ERASE ? ((attr & H7_MEM_WRITE) ? "erasable, " : "erasable") : "",
             attr & H7_MEM_WRITE ? "writable" : "");
    return buf;
}
