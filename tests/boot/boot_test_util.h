/*
 * Helpers for the boot tests: build an application image in memory (header +
 * body with a plausible vector table) and program it into the flash model.
 */
#ifndef BOOT_TEST_UTIL_H
#define BOOT_TEST_UTIL_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "boot.h"
#include "h7_util.h"
#include "sim_flash.h"

#define SLOT      BOOT_APP_SLOT_ADDR
#define BODY      SLOT /* vector table at the slot start */
#define REC_AREA  BOOT_REC_AREA_ADDR
#define WORD      32u
#define STACK_TOP 0x20020000u /* top of DTCM */

typedef struct test_img {
    boot_image_header_t h;
    uint8_t hdr[BOOT_HDR_SIZE];
    uint8_t *body;
    uint32_t size; /* multiple of WORD */
} test_img_t;

/* Recompute body CRC and header bytes (with header CRC) from img->h. */
static inline void img_restamp(test_img_t *img)
{
    img->h.body_crc = h7_crc32(0, img->body, img->size);
    img->h.hdr_crc = boot_header_encode(&img->h, img->hdr);
}

/* Encode the header as it is (keeps whatever body_crc says), header CRC fresh. */
static inline void img_reencode(test_img_t *img)
{
    img->h.hdr_crc = boot_header_encode(&img->h, img->hdr);
}

/* A valid image: vector table (SP top of DTCM, reset into the body), random code. */
static inline void img_make(test_img_t *img, uint32_t size, uint32_t seed)
{
    memset(img, 0, sizeof *img);
    img->size = size;
    img->body = malloc(size);
    uint32_t x = seed ? seed : 1;
    for (uint32_t i = 0; i < size; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        img->body[i] = (uint8_t)(x >> 24);
    }
    h7_put_le32(img->body, STACK_TOP);
    h7_put_le32(img->body + 4, (BODY + (size > 0x400 ? 0x300u : size / 2u)) | 1u);
    img->h = (boot_image_header_t){
        .magic = BOOT_HDR_MAGIC,
        .hdr_version = BOOT_HDR_VERSION,
        .hdr_size = BOOT_HDR_SIZE,
        .version = {1, 2, 3, seed},
        .load_addr = SLOT,
        .image_size = size,
        .device_id = BOOT_DEVICE_ID_H743,
        .vector_offset = BOOT_VECTOR_OFFSET,
    };
    img_restamp(img);
}

static inline void img_free(test_img_t *img)
{
    free(img->body);
    img->body = NULL;
}

/* Program len bytes (multiple of WORD) word by word; first error returned. */
static inline flash_status_t prog_bytes(sim_flash_t *f, uint32_t addr, const uint8_t *p,
                                        uint32_t len)
{
    for (uint32_t off = 0; off < len; off += WORD) {
        flash_status_t st = sim_flash_program_word(f, addr + off, p + off);
        if (st != FLASH_OK) {
            return st;
        }
    }
    return FLASH_OK;
}

/* The commit protocol: body in address order, then the record's words at
 * record slot `index` of the area. */
static inline flash_status_t img_program_at(sim_flash_t *f, const test_img_t *img, unsigned index)
{
    flash_status_t st = prog_bytes(f, BODY, img->body, img->size);
    if (st != FLASH_OK) {
        return st;
    }
    return prog_bytes(f, REC_AREA + index * BOOT_REC_SIZE, img->hdr, BOOT_HDR_SIZE);
}

/* The first record of an erased area. */
static inline flash_status_t img_program(sim_flash_t *f, const test_img_t *img)
{
    return img_program_at(f, img, 0);
}

#endif
