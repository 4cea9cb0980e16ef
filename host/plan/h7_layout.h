/*
 * DfuSe memory layouts: the interface string a DfuSe device gives each
 * alternate setting (AN3156, UM0424), e.g.
 *   "@Internal Flash  /0x081E0000/01*128Kg/0x08020000/14*128Kg/0x08000000/01*128Ka"
 *   (h7dfu's bootloader: zones listed from the highest address down)
 *   "@Option Bytes  /0x5200201C/01*128 e"
 * parsed into groups of equal sectors with their attributes. A string may
 * hold several regions: "/0xADDR/groups/0xADDR/groups".
 */
#ifndef H7_LAYOUT_H
#define H7_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Sector attributes: the letter 'a'..'g' minus 'a' plus 1 is this bit mask. */
enum {
    H7_MEM_READ = 1 << 0,  /* 'a' */
    H7_MEM_ERASE = 1 << 1, /* 'b' */
    H7_MEM_WRITE = 1 << 2, /* 'd'; 'g' = all three */
};

#define H7_LAYOUT_MAX_GROUPS 64

typedef struct h7_mem_group {
    uint32_t addr;  /* first sector */
    uint32_t count; /* sectors */
    uint32_t size;  /* bytes per sector */
    uint8_t attr;   /* H7_MEM_* */
} h7_mem_group_t;

typedef struct h7_layout {
    char name[64]; /* "Internal Flash" (trailing blanks removed) */
    size_t ngroups;
    h7_mem_group_t group[H7_LAYOUT_MAX_GROUPS]; /* in string order */
} h7_layout_t;

typedef struct h7_sector {
    uint32_t addr;
    uint32_t size;
    uint8_t attr;
    unsigned index; /* sectors of the layout at lower addresses: its number */
} h7_sector_t;

/* Parse s. Returns 0, or -1 with a message naming the column in err. */
int h7_layout_parse(const char *s, h7_layout_t *out, char *err, size_t err_len);

/* The sector holding addr; false when addr is in no sector. */
bool h7_layout_find(const h7_layout_t *l, uint32_t addr, h7_sector_t *out);

/* Bytes of all sectors / of the sectors with all attribute bits in mask. */
uint64_t h7_layout_size(const h7_layout_t *l, uint8_t mask);

/* "readable, erasable, writable" style text for attr into buf; returns buf. */
const char *h7_mem_attr_str(uint8_t attr, char *buf, size_t len);

#endif
