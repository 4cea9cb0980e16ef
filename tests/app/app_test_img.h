/* tests/app: put a stamped application image into the flash model, built
 * with core/boot's own encoder (body first, its record appended last to the
 * record area, as a writer must). */
#ifndef APP_TEST_IMG_H
#define APP_TEST_IMG_H

#include <stdint.h>
#include <string.h>

#include "boot.h"
#include "h7_util.h"
#include "sim_flash.h"

#define APP_BODY_SIZE 1024u

/* Program a record at the first erased record slot of the area. */
static inline flash_status_t app_rec_append(sim_flash_t *f, const uint8_t hdr[BOOT_HDR_SIZE])
{
    uint32_t rec = BOOT_REC_AREA_ADDR;
    while (rec < BOOT_REC_AREA_ADDR + BOOT_REC_AREA_SIZE &&
           (sim_flash_word_state(f, rec) != SIM_WORD_ERASED ||
            sim_flash_word_state(f, rec + 32u) != SIM_WORD_ERASED)) {
        rec += BOOT_REC_SIZE;
    }
    for (uint32_t off = 0; off < BOOT_HDR_SIZE; off += 32u) {
        flash_status_t st = sim_flash_program_word(f, rec + off, hdr + off);
        if (st != FLASH_OK) {
            return st;
        }
    }
    return FLASH_OK;
}

/* Returns FLASH_OK or the first error. corrupt_body: flip one body byte after
 * the CRC was computed (an image the bootloader must refuse). */
static inline flash_status_t app_img_write(sim_flash_t *f, uint8_t major, uint8_t minor,
                                           uint16_t patch, int corrupt_body)
{
    static uint8_t body[APP_BODY_SIZE];
    for (uint32_t i = 0; i < sizeof body; i++) {
        body[i] = (uint8_t)(i * 7u + 3u);
    }
    const uint32_t sp = 0x20020000u;                           /* top of DTCM */
    const uint32_t reset = (BOOT_APP_SLOT_ADDR + 0x300u) | 1u; /* Thumb */
    for (int i = 0; i < 4; i++) {
        body[i] = (uint8_t)(sp >> (8 * i));
        body[4 + i] = (uint8_t)(reset >> (8 * i));
    }
    boot_image_header_t h = {
        .magic = BOOT_HDR_MAGIC,
        .hdr_version = BOOT_HDR_VERSION,
        .hdr_size = BOOT_HDR_SIZE,
        .version = {major, minor, patch, 0},
        .load_addr = BOOT_APP_SLOT_ADDR,
        .image_size = sizeof body,
        .device_id = BOOT_DEVICE_ID_H743,
        .vector_offset = BOOT_VECTOR_OFFSET,
        .body_crc = h7_crc32(0, body, sizeof body),
    };
    uint8_t hdr[BOOT_HDR_SIZE];
    boot_header_encode(&h, hdr);
    if (corrupt_body) {
        body[100] ^= 0x01u;
    }
    for (uint32_t off = 0; off < sizeof body; off += 32u) {
        flash_status_t st = sim_flash_program_word(f, BOOT_APP_SLOT_ADDR + off, body + off);
        if (st != FLASH_OK) {
            return st;
        }
    }
    return app_rec_append(f, hdr);
}

/* The fixture of the personality tests: a fresh flash model and a reset fake
 * controller (include cmocka.h and fake_dcd.h first). */
typedef struct {
    sim_flash_t *f;
    flash_dev_t dev;
} fx_t;

static inline int fx_setup(void **state)
{
    fx_t *fx = test_malloc(sizeof *fx);
    fx->f = sim_flash_new(NULL);
    if (fx->f == NULL) {
        return -1;
    }
    fx->dev = sim_flash_dev(fx->f);
    fake_dcd_reset();
    *state = fx;
    return 0;
}

static inline int fx_teardown(void **state)
{
    fx_t *fx = *state;
    sim_flash_free(fx->f);
    test_free(fx);
    return 0;
}

#endif
