/*
 * ELF32 symbol tables (System V gABI, "Sections" and "Symbol Table"): the
 * section headers name a SHT_SYMTAB whose sh_link is its string table; every
 * STT_FUNC entry is an address range. Thumb function addresses carry bit 0.
 */
#include "elf_syms.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h7_util.h"

#define SHT_SYMTAB 2u
#define STT_FUNC   2u

typedef struct {
    uint32_t addr, size;
    char *name;
} sym_t;

struct elf_syms {
    sym_t *v;
    size_t n, cap;
};

elf_syms_t *elf_syms_new(void)
{
    return calloc(1, sizeof(elf_syms_t));
}

void elf_syms_free(elf_syms_t *s)
{
    if (!s) {
        return;
    }
    for (size_t i = 0; i < s->n; i++) {
        free(s->v[i].name);
    }
    free(s->v);
    free(s);
}

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        return NULL;
    }
    uint8_t *buf = NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long n = ftell(f);
        if (n > 0 && fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n)) != NULL) {
            if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
                free(buf);
                buf = NULL;
            } else {
                *len = (size_t)n;
            }
        }
    }
    fclose(f);
    return buf;
}

static int add(elf_syms_t *s, uint32_t addr, uint32_t size, const char *name)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        sym_t *v = realloc(s->v, cap * sizeof(*v));
        if (!v) {
            return -1;
        }
        s->v = v;
        s->cap = cap;
    }
    char *copy = strdup(name);
    if (!copy) {
        return -1;
    }
    s->v[s->n++] = (sym_t){addr & ~1u, size, copy};
    return 0;
}

int elf_syms_add_file(elf_syms_t *s, const char *path)
{
    size_t len = 0;
    uint8_t *b = slurp(path, &len);
    int rc = -1;
    if (!b) {
        return -1;
    }
    /* e_ident: "\x7fELF", ELFCLASS32 (1), ELFDATA2LSB (1) */
    if (len < 52 ||
        memcmp(b,
               "\x7f"
               "ELF",
               4) != 0 ||
        b[4] != 1 || b[5] != 1) {
        goto out;
    }
    uint32_t shoff = h7_get_le32(b + 32);
    uint16_t shentsize = h7_get_le16(b + 46), shnum = h7_get_le16(b + 48);
    if (shentsize < 40 || shoff > len || (uint64_t)shnum * shentsize > len - shoff) {
        goto out;
    }
    for (unsigned i = 0; i < shnum; i++) {
        const uint8_t *sh = b + shoff + (size_t)i * shentsize;
        if (h7_get_le32(sh + 4) != SHT_SYMTAB) {
            continue;
        }
        uint32_t off = h7_get_le32(sh + 16), size = h7_get_le32(sh + 20),
                 link = h7_get_le32(sh + 24);
        uint32_t entsize = h7_get_le32(sh + 36);
        if (link >= shnum || entsize < 16 || off > len || size > len - off) {
            goto out;
        }
        const uint8_t *st = b + shoff + (size_t)link * shentsize;
        uint32_t stroff = h7_get_le32(st + 16), strsize = h7_get_le32(st + 20);
        if (stroff > len || strsize > len - stroff || strsize == 0) {
            goto out;
        }
        const char *strtab = (const char *)b + stroff;
        for (uint32_t e = 0; e + entsize <= size; e += entsize) {
            const uint8_t *sym = b + off + e;
            uint32_t name = h7_get_le32(sym), value = h7_get_le32(sym + 4),
                     ssize = h7_get_le32(sym + 8);
            if ((sym[12] & 0xFu) != STT_FUNC || name >= strsize ||
                memchr(strtab + name, '\0', strsize - name) == NULL) {
                continue;
            }
            if (add(s, value, ssize ? ssize : 2u, strtab + name) != 0) {
                goto out;
            }
        }
    }
    rc = 0;
out:
    free(b);
    return rc;
}

const char *elf_syms_describe(const elf_syms_t *s, uint32_t addr, char *buf, size_t cap)
{
    for (size_t i = 0; s && i < s->n; i++) {
        const sym_t *y = &s->v[i];
        if (addr >= y->addr && addr - y->addr < y->size) {
            snprintf(buf, cap, "%s+0x%x", y->name, addr - y->addr);
            return buf;
        }
    }
    snprintf(buf, cap, "?");
    return buf;
}
