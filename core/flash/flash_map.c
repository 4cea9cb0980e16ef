/*
 * Flash map arithmetic and the DfuSe layout string built from a map.
 */
#include "flash_map.h"

#include <string.h>

int flash_map_sector_of(const flash_map_t *m, uint32_t addr)
{
    if (addr < m->base || (uint64_t)addr - m->base >= flash_map_size(m)) {
        return -1;
    }
    return (int)((addr - m->base) / m->sector_size);
}

uint32_t flash_map_sector_addr(const flash_map_t *m, unsigned sector)
{
    return m->base + (uint32_t)sector * m->sector_size;
}

bool flash_map_contains(const flash_map_t *m, uint32_t addr, uint32_t len)
{
    uint64_t end = (uint64_t)m->base + flash_map_size(m);
    if (addr < m->base || addr >= end) {
        return false;
    }
    return (uint64_t)addr + len <= end;
}

bool flash_map_is_reserved(const flash_map_t *m, unsigned sector)
{
    return sector < m->sector_count && sector < 32u && (m->reserved_mask >> sector) & 1u;
}

/* Tiny bounded appender: no stdio on the firmware side. */
typedef struct {
    char *buf;
    size_t cap;
    size_t len;
    bool overflow;
} out_t;

static void put_ch(out_t *o, char c)
{
    if (o->len + 1 < o->cap) {
        o->buf[o->len] = c;
    } else {
        o->overflow = true;
    }
    o->len++;
}

static void put_str(out_t *o, const char *s)
{
    while (*s) {
        put_ch(o, *s++);
    }
}

/* Decimal with at least `width` digits, zero padded (DfuSe writes "01*128K"). */
static void put_dec(out_t *o, uint32_t v, unsigned width)
{
    char tmp[10];
    unsigned n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v && n < sizeof tmp);
    while (n < width) {
        tmp[n++] = '0';
    }
    while (n) {
        put_ch(o, tmp[--n]);
    }
}

static void put_hex32(out_t *o, uint32_t v)
{
    static const char hex[] = "0123456789ABCDEF";
    put_str(o, "0x");
    for (int shift = 28; shift >= 0; shift -= 4) {
        put_ch(o, hex[(v >> shift) & 0xFu]);
    }
}

/* Sector size as DfuSe writes it: a number and a unit (' ' bytes, K, M). */
static void put_size(out_t *o, uint32_t size)
{
    if (size % (1024u * 1024u) == 0) {
        put_dec(o, size / (1024u * 1024u), 3);
        put_ch(o, 'M');
    } else if (size % 1024u == 0) {
        put_dec(o, size / 1024u, 3);
        put_ch(o, 'K');
    } else {
        put_dec(o, size, 3);
        put_ch(o, ' ');
    }
}

size_t flash_map_dfuse_layout(const flash_map_t *m, char *buf, size_t len)
{
    out_t o = {buf, len, 0, false};
    /* Two spaces between name and '/', as ST's own bootloaders write it. */
    put_ch(&o, '@');
    put_str(&o, m->name);
    put_str(&o, "  ");

    /*
     * One zone ("/addr/count*size type", UM0424 4.3.2) per run of sectors
     * with the same attribute, listed from the highest address down, and the
     * last sector (the record area, written as an element of its own) a zone
     * of its own. Some hosts take the first listed sector whose range
     * [start, start + size] holds an address, its end included (fwupd's dfu
     * plugin): in this order an element that starts on a zone boundary
     * resolves to the zone that starts there, not to the one that ends there.
     * Hosts that look a sector up by its address (dfu-util) see no
     * difference.
     */
    unsigned end = m->sector_count;
    while (end > 0) {
        unsigned start = end - 1;
        bool reserved = flash_map_is_reserved(m, start);
        if (end < m->sector_count) {
            while (start > 0 && flash_map_is_reserved(m, start - 1) == reserved) {
                start--;
            }
        }
        put_ch(&o, '/');
        put_hex32(&o, flash_map_sector_addr(m, start));
        put_ch(&o, '/');
        put_dec(&o, end - start, 2);
        put_ch(&o, '*');
        put_size(&o, m->sector_size);
        /* 'a' = readable; 'g' = readable + erasable + writable (UM0424). */
        put_ch(&o, reserved ? 'a' : 'g');
        end = start;
    }

    if (o.overflow || len == 0) {
        if (len) {
            buf[0] = '\0';
        }
        return 0;
    }
    buf[o.len] = '\0';
    return o.len;
}
