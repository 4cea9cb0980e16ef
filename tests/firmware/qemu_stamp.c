/*
 * qemu_stamp BODY_IN SLOT MAJOR.MINOR.PATCH AREA_OUT BODY_OUT [corrupt]
 * Record for the QEMU boot test's application (its slot is not the H743's,
 * so `h7dfu image stamp` does not apply): core/boot's own encoder. AREA_OUT
 * is the whole 128 KiB record area (QEMU's memory is not erased flash): the
 * record at its start, 0xFF after it. BODY_OUT is the body padded to whole
 * flash words; "corrupt" flips one body byte after the CRC was taken (an
 * image the bootloader must refuse).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot.h"
#include "h7_util.h"

int main(int argc, char **argv)
{
    if (argc != 6 && argc != 7) {
        fprintf(stderr, "usage: %s BODY_IN SLOT X.Y.Z HDR_OUT BODY_OUT [corrupt]\n", argv[0]);
        return 2;
    }
    static uint8_t body[128 * 1024];
    FILE *f = fopen(argv[1], "rb");
    if (f == NULL) {
        perror(argv[1]);
        return 1;
    }
    size_t n = fread(body, 1, sizeof body, f);
    fclose(f);
    if (n == 0 || n >= sizeof body) {
        fprintf(stderr, "bad body size %zu\n", n);
        return 1;
    }
    size_t padded = (n + 31u) & ~(size_t)31u;
    memset(body + n, 0xFF, padded - n);
    unsigned ma, mi, pa;
    if (sscanf(argv[3], "%u.%u.%u", &ma, &mi, &pa) != 3) {
        return 2;
    }
    boot_image_header_t h = {
        .magic = BOOT_HDR_MAGIC,
        .hdr_version = BOOT_HDR_VERSION,
        .hdr_size = BOOT_HDR_SIZE,
        .version = {(uint8_t)ma, (uint8_t)mi, (uint16_t)pa, 0},
        .load_addr = (uint32_t)strtoul(argv[2], NULL, 0),
        .image_size = (uint32_t)padded,
        .device_id = BOOT_DEVICE_ID_H743,
        .vector_offset = BOOT_VECTOR_OFFSET,
        .body_crc = h7_crc32(0, body, padded),
    };
    static uint8_t hdr[128 * 1024];
    memset(hdr, 0xFF, sizeof hdr);
    boot_header_encode(&h, hdr);
    if (argc == 7 && strcmp(argv[6], "corrupt") == 0) {
        body[padded / 2] ^= 0x10u;
    }
    FILE *o = fopen(argv[4], "wb");
    FILE *b = fopen(argv[5], "wb");
    if (o == NULL || b == NULL || fwrite(hdr, 1, sizeof hdr, o) != sizeof hdr ||
        fwrite(body, 1, padded, b) != padded) {
        perror("write");
        return 1;
    }
    fclose(o);
    fclose(b);
    return 0;
}
