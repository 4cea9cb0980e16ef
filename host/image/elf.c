/*
 * ELF32 little-endian ARM loader: the file bytes of every PT_LOAD segment go to
 * its physical (load) address p_paddr, which is where the linker's AT>/LMA put
 * them in flash; the NOBITS tail (p_memsz > p_filesz) is RAM the startup code
 * clears, so it is not part of the image.
 */
#include "image_internal.h"

enum {
    EHDR_SIZE = 52,
    PHDR_SIZE = 32,
    ELFCLASS32 = 1,
    ELFDATA2LSB = 1,
    EV_CURRENT = 1,
    ET_EXEC = 2,
    EM_ARM = 40,
    PT_LOAD = 1,
};

int img_load_elf(h7_image_t *img, const uint8_t *buf, size_t len, const char *name,
                 h7_image_error_t *err)
{
    if (len < 16 || buf[0] != 0x7F || buf[1] != 'E' || buf[2] != 'L' || buf[3] != 'F') {
        return img_fail(err, H7_IMG_E_FORMAT, name, 0, 0, "not an ELF file (bad magic)");
    }
    if (buf[4] != ELFCLASS32) {
        return img_fail(err, H7_IMG_E_FORMAT, name, 0, 4,
                        "ELF class %u: only 32-bit ELF is supported", buf[4]);
    }
    if (buf[5] != ELFDATA2LSB) {
        return img_fail(err, H7_IMG_E_UNSUPPORTED, name, 0, 5,
                        "ELF data encoding %u: only little-endian is supported", buf[5]);
    }
    if (buf[6] != EV_CURRENT) {
        return img_fail(err, H7_IMG_E_FORMAT, name, 0, 6, "ELF version %u", buf[6]);
    }
    if (len < EHDR_SIZE) {
        return img_fail(err, H7_IMG_E_TRUNCATED, name, 0, (long)len,
                        "the ELF header needs %d bytes, the file has %zu", EHDR_SIZE, len);
    }
    uint16_t type = h7_get_le16(buf + 16), machine = h7_get_le16(buf + 18);
    if (machine != EM_ARM) {
        return img_fail(err, H7_IMG_E_FORMAT, name, 0, 18,
                        "e_machine %u is not ARM (40): built for another CPU", machine);
    }
    if (type != ET_EXEC) {
        return img_fail(err, H7_IMG_E_FORMAT, name, 0, 16,
                        "e_type %u: not an executable (link it first)", type);
    }
    uint32_t entry = h7_get_le32(buf + 24), phoff = h7_get_le32(buf + 28);
    uint16_t phentsize = h7_get_le16(buf + 42), phnum = h7_get_le16(buf + 44);
    if (phnum == 0) {
        return img_fail(err, H7_IMG_E_EMPTY, name, 0, 44, "no program headers");
    }
    if (phentsize != PHDR_SIZE) {
        return img_fail(err, H7_IMG_E_LENGTH, name, 0, 42,
                        "e_phentsize %u (ELF32 program headers are %d bytes)", phentsize,
                        PHDR_SIZE);
    }
    if ((uint64_t)phoff + (uint64_t)phnum * PHDR_SIZE > len) {
        return img_fail(err, H7_IMG_E_TRUNCATED, name, 0, (long)phoff,
                        "%u program headers at %u run past the end of the file (%zu bytes)", phnum,
                        phoff, len);
    }

    img_builder_t b;
    img_builder_init(&b);
    int rc = -1;
    for (unsigned i = 0; i < phnum; i++) {
        const uint8_t *ph = buf + phoff + (size_t)i * PHDR_SIZE;
        long at = (long)(phoff + i * PHDR_SIZE);
        uint32_t p_type = h7_get_le32(ph), off = h7_get_le32(ph + 4), paddr = h7_get_le32(ph + 12);
        uint32_t filesz = h7_get_le32(ph + 16), memsz = h7_get_le32(ph + 20);
        if (p_type != PT_LOAD || filesz == 0) {
            continue;
        }
        if (filesz > memsz) {
            img_fail(err, H7_IMG_E_LENGTH, name, 0, at + 16,
                     "program header %u: p_filesz %u exceeds p_memsz %u", i, filesz, memsz);
            goto out;
        }
        if ((uint64_t)off + filesz > len) {
            img_fail(err, H7_IMG_E_TRUNCATED, name, 0, at + 4,
                     "program header %u: %u bytes at offset %u run past the end of the file "
                     "(%zu bytes)",
                     i, filesz, off, len);
            goto out;
        }
        if ((uint64_t)paddr + filesz > 0x100000000ull) {
            img_fail(err, H7_IMG_E_RANGE, name, 0, at + 12,
                     "program header %u: %u bytes at 0x%08x run past 0xFFFFFFFF", i, filesz, paddr);
            goto out;
        }
        if (img_builder_add(&b, 0, paddr, buf + off, filesz, at) != 0) {
            img_fail(err, H7_IMG_E_NOMEM, name, 0, -1, "out of memory");
            goto out;
        }
    }
    img_overlap_t ov;
    int f = img_builder_finish(&b, img, &ov);
    if (f < 0) {
        img_fail(err, H7_IMG_E_NOMEM, name, 0, -1, "out of memory");
        goto out;
    }
    if (f > 0) {
        img_fail(err, H7_IMG_E_OVERLAP, name, 0, ov.origin_second,
                 "PT_LOAD at 0x%08x overlaps the one whose header is at offset %ld", ov.addr,
                 ov.origin_first);
        goto out;
    }
    img->has_start = true;
    img->start = entry;
    rc = 0;
out:
    img_builder_free(&b);
    return rc;
}
