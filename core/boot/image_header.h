/*
 * The h7dfu application image header ("image record"): what the bootloader
 * checks before it starts an application, and what `h7dfu image stamp` makes.
 *
 * Flash layout (the target's, h7_target.h; the flash map in
 * core/flash/flash_map.h): the bootloader in the first sector(s), reserved in
 * the flash map; the application slot (BOOT_APP_SLOT_ADDR: the application's
 * vector table at the slot start, the app is linked there, then its code);
 * the record area (BOOT_REC_AREA_ADDR), the map's last sector. On the
 * STM32H743 (target/stm32h743/h7_target.h): sector 0 at 0x08000000, the slot
 * sectors 1..14 from 0x08020000, the record area sector 15 at 0x081E0000.
 *
 * Record area: an append-only array of BOOT_REC_COUNT (2048 on the H743)
 * records of 64 bytes = two 256-bit flash words each on the H743 (a flash
 * word is programmed once between erases, RM0433 4.3.9). A writer appends
 * one record per update, after the body is written and verified; records
 * form a prefix of the area.
 * The bootloader takes the newest record = the last record slot that is not
 * fully erased (both words 0xFF). If that one is malformed (bad CRC, ECC
 * error on read, only its first word programmed) the slot holds no valid
 * image: there is no fallback to an older record (a body being overwritten
 * never matches an older record anyway). When the area is full, or its next
 * record slot cannot be programmed (a word broken by a power cut), the writer
 * erases the record area's sector and writes the record at its start
 * (compaction): one erase per BOOT_REC_COUNT updates. A power cut between
 * that erase and the record write leaves no valid image: the board stays in
 * DFU mode.
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
 *   0x10   4    load_addr       slot start (BOOT_APP_SLOT_ADDR)
 *   0x14   4    image_size      body bytes from load_addr, >= 8, at most the
 *                               slot; h7_stamp pads it to whole flash words
 *                               (0xFF)
 *   0x18   4    device_id       the target's BOOT_DEVICE_ID (H7_TARGET_DEVICE_ID;
 *                               0x450 for the STM32H743: DEV_ID of DBGMCU_IDC,
 *                               target/stm32h743/h7_target.h)
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

#include "h7_target.h"

#define BOOT_HDR_MAGIC     0x4D493748u /* bytes "H7IM" */
#define BOOT_HDR_VERSION   2u
#define BOOT_HDR_SIZE      64u /* two flash words on the H743 */
#define BOOT_APP_SLOT_ADDR H7_TARGET_APP_SLOT_ADDR
#define BOOT_APP_SLOT_SIZE H7_TARGET_APP_SLOT_SIZE
#define BOOT_VECTOR_OFFSET 0u /* vector table at the slot start */
/* The record area: the last sector of the flash map. */
#define BOOT_REC_AREA_ADDR  H7_TARGET_REC_AREA_ADDR
#define BOOT_REC_AREA_SIZE  H7_TARGET_REC_AREA_SIZE
#define BOOT_REC_SIZE       BOOT_HDR_SIZE
#define BOOT_REC_COUNT      (BOOT_REC_AREA_SIZE / BOOT_REC_SIZE) /* 2048 on the H743 */
#define BOOT_DEVICE_ID      H7_TARGET_DEVICE_ID                  /* what the records carry */
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
