/*
 * The h7dfu application image header ("image record"): what the bootloader
 * checks before it starts an application, and what `h7dfu image stamp` makes.
 *
 * Flash layout (STM32H743: 2 banks x 8 sectors x 128 KiB, bank 1 at
 * 0x0800 0000, bank 2 at 0x0810 0000, RM0433 4.3.4 "Flash memory
 * organization", Table 8; flash map in core/flash/flash_map.h):
 *
 *   0x08000000  sector 0        bootloader (reserved in the flash map)
 *   0x08020000  sectors 1..14   application slot, 1.75 MiB: the application's
 *                               vector table at the slot start (the app is
 *                               linked at 0x08020000), then its code
 *   0x081E0000  sector 15       record area, 128 KiB (bank 2's last sector)
 *
 * Record area: an append-only array of BOOT_REC_COUNT (2048) records of 64
 * bytes = two 256-bit flash words each (RM0433 4.3.9: a flash word is
 * programmed once between erases). A writer appends one record per update,
 * after the body is written and verified; records form a prefix of the area.
 * The bootloader takes the newest record = the last record slot that is not
 * fully erased (both words 0xFF). If that one is malformed (bad CRC, ECC
 * error on read, only its first word programmed) the slot holds no valid
 * image: there is no fallback to an older record (a body being overwritten
 * never matches an older record anyway). When the area is full, or its next
 * record slot cannot be programmed (a word broken by a power cut), the writer
 * erases sector 15 and writes the record at its start (compaction): one
 * sector-15 erase per 2048 updates. A power cut between that erase and the
 * record write leaves no valid image: the board stays in DFU mode.
 *
 * Record (header v2), 64 bytes, all integers little endian:
 *
 *   offset size field
 *   0x00   4    magic           BOOT_HDR_MAGIC ("H7IM")
 *   0x04   2    hdr_version     2
 *   0x06   2    hdr_size        64
 *   0x08   1    ver_major       image version major.minor.patch + build
 *   0x09   1    ver_minor
 *   0x0A   2    ver_patch
 *   0x0C   4    ver_build
 *   0x10   4    load_addr       slot start (0x08020000)
 *   0x14   4    image_size      body bytes from load_addr, >= 8, at most the
 *                               slot (sectors 1..14); h7_stamp pads it to
 *                               whole flash words (0xFF)
 *   0x18   4    device_id       DEV_ID, bits 11:0 of DBGMCU_IDC at 0x5C001000:
 *                               0x450 for STM32H742/743/750/753 (RM0433 "DBGMCU
 *                               identity code register (DBGMCU_IDC)", 61.5.8 by
 *                               our reading; the number moves between revisions)
 *   0x1C   4    vector_offset   0: vector table = load_addr + vector_offset
 *   0x20   4    flags           none defined in v2, must be 0
 *   0x24   4    body_crc        CRC-32 of the body [load_addr, + image_size):
 *                               IEEE 802.3 reflected, poly 0xEDB88320,
 *                               init/xorout 0xFFFFFFFF (the DFU suffix CRC,
 *                               h7_crc32 in core/util/h7_util.h)
 *   0x28   20   reserved        0
 *   0x3C   4    hdr_crc         the same CRC-32 over bytes 0x00..0x3B
 *
 * A record whose second word is still erased reads flags 0xFFFFFFFF and is
 * refused, whatever its CRC field says.
 */
#ifndef H7_BOOT_IMAGE_HEADER_H
#define H7_BOOT_IMAGE_HEADER_H

#include <stddef.h>
#include <stdint.h>

#define BOOT_HDR_MAGIC     0x4D493748u /* bytes "H7IM" */
#define BOOT_HDR_VERSION   2u
#define BOOT_HDR_SIZE      64u         /* two flash words */
#define BOOT_APP_SLOT_ADDR 0x08020000u /* sector 1 */
#define BOOT_APP_SLOT_SIZE 0x001C0000u /* sectors 1..14 */
#define BOOT_VECTOR_OFFSET 0u          /* vector table at the slot start */
/* The record area: sector 15, the last sector of the flash map. */
#define BOOT_REC_AREA_ADDR  0x081E0000u
#define BOOT_REC_AREA_SIZE  0x00020000u
#define BOOT_REC_SIZE       BOOT_HDR_SIZE
#define BOOT_REC_COUNT      (BOOT_REC_AREA_SIZE / BOOT_REC_SIZE) /* 2048 */
#define BOOT_DEVICE_ID_H743 0x450u
#define BOOT_HDR_CRC_OFFSET 0x3Cu

/* Field offsets in the encoded header. */
#define BOOT_HDR_OFF_MAGIC    0x00u
#define BOOT_HDR_OFF_HVERSION 0x04u
#define BOOT_HDR_OFF_HSIZE    0x06u
#define BOOT_HDR_OFF_MAJOR    0x08u
#define BOOT_HDR_OFF_MINOR    0x09u
#define BOOT_HDR_OFF_PATCH    0x0Au
#define BOOT_HDR_OFF_BUILD    0x0Cu
#define BOOT_HDR_OFF_LOAD     0x10u
#define BOOT_HDR_OFF_SIZE     0x14u
#define BOOT_HDR_OFF_DEVICE   0x18u
#define BOOT_HDR_OFF_VECTOR   0x1Cu
#define BOOT_HDR_OFF_FLAGS    0x20u
#define BOOT_HDR_OFF_BODY_CRC 0x24u
#define BOOT_HDR_OFF_RESERVED 0x28u

typedef struct boot_image_version {
    uint8_t major;
    uint8_t minor;
    uint16_t patch;
    uint32_t build;
} boot_image_version_t;

/* The decoded header (host order). */
typedef struct boot_image_header {
    uint32_t magic;
    uint16_t hdr_version;
    uint16_t hdr_size;
    boot_image_version_t version;
    uint32_t load_addr;
    uint32_t image_size;
    uint32_t device_id;
    uint32_t vector_offset;
    uint32_t flags;
    uint32_t body_crc;
    uint32_t hdr_crc;
} boot_image_header_t;

/* Encode h into out (reserved bytes zero). hdr_crc is computed and written,
 * whatever h->hdr_crc holds; the computed value is returned. */
uint32_t boot_header_encode(const boot_image_header_t *h, uint8_t out[BOOT_HDR_SIZE]);
/* Decode raw bytes (no checks). */
void boot_header_decode(const uint8_t in[BOOT_HDR_SIZE], boot_image_header_t *h);
/* CRC of an encoded header (bytes 0x00..0x3B). */
uint32_t boot_header_crc(const uint8_t in[BOOT_HDR_SIZE]);

#endif
