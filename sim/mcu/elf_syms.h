/*
 * Function names of a firmware ELF, for diagnostics of the emulated chip
 * ("unmodelled register written at 0x08000f12 in dcd_init+0x2e").
 */
#ifndef H7_MCU_ELF_SYMS_H
#define H7_MCU_ELF_SYMS_H

#include <stddef.h>
#include <stdint.h>

typedef struct elf_syms elf_syms_t;

/* An empty table (NULL when out of memory). */
elf_syms_t *elf_syms_new(void);
void elf_syms_free(elf_syms_t *s);
/* Add the function symbols of a 32-bit little-endian ELF file. 0, or -1 when
 * the file cannot be read or is not such an ELF. */
int elf_syms_add_file(elf_syms_t *s, const char *path);
/* "name+0xoff" for addr, or "?" when no function covers it. */
const char *elf_syms_describe(const elf_syms_t *s, uint32_t addr, char *buf, size_t cap);

#endif
