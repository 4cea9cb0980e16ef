/*
 * Boot policy: is the application in the slot valid, should the bootloader
 * stay in DFU mode or start it, and the request word that carries the answer
 * across a system reset. Portable (no hardware access, no malloc, no stdio);
 * the flash is reached only through flash_dev_t, the jump and the reset are
 * the port's job.
 *
 * The start-up flow (port/stm32h743 implements it; the virtual board follows
 * the same steps):
 *
 *   reset
 *    1. FIRST THING, before clocks, caches, USB or interrupts are touched:
 *         req = boot_request_get(&noinit_block);
 *         boot_request_clear(&noinit_block);
 *         v   = boot_validate(&flash, BOOT_APP_SLOT_ADDR, &info);
 *         d   = boot_decide(req, v);
 *       d.action == BOOT_START_APP: set VTOR to the vector table
 *         (info.vector_table), load MSP from its word 0, branch to its word 1.
 *         The application sees the core as it is after reset.
 *       d.action == BOOT_ENTER_ROM_BOOTLOADER: the same hand-over to the
 *         chip's ROM bootloader (H7_TARGET_ROM_BOOT_ADDR; ST's, AN2606, on the
 *         STM32H743), also from the reset state.
 *    2. Otherwise (BOOT_STAY_IN_DFU): clocks, USB, the DFU class driver.
 *    3. After a DFU session ends (manifest / leave) the bootloader never jumps
 *       from that state: it sets BOOT_REQ_START_APP and requests a system
 *       reset; step 1 then starts the application from a clean reset, or
 *       stays in DFU when the new image does not validate.
 *
 *   The application asks for DFU by boot_request_set(blk, BOOT_REQ_STAY_IN_DFU)
 *   and a system reset (DFU DETACH, the HID "enter update" report).
 *
 * The request block lives in RAM that the start-up code neither zeroes nor
 * initialises (a .noinit section placed at the same address in the bootloader
 * and the application's linker scripts), so it survives a system reset; at
 * power-on it holds garbage, which the magic and the complement word reject.
 */
#ifndef H7_BOOT_H
#define H7_BOOT_H

#include <stdbool.h>
#include <stdint.h>

#include "flash.h"
#include "image_header.h"

/* ---- validation ---- */

typedef enum boot_validate {
    BOOT_VALID = 0,
    BOOT_ERR_NO_IMAGE,      /* record area erased: nothing written yet */
    BOOT_ERR_READ,          /* flash read failed (ECC error, power): info.flash_status */
    BOOT_ERR_BAD_MAGIC,     /* newest record not an h7dfu header (or only partly written) */
    BOOT_ERR_HEADER_FORMAT, /* unknown header version/size or flags set */
    BOOT_ERR_HEADER_CRC,    /* header bytes do not match their CRC */
    BOOT_ERR_WRONG_DEVICE,  /* built for another chip (device_id != BOOT_DEVICE_ID) */
    BOOT_ERR_BAD_ADDRESS,   /* load address != slot, or vector offset != 0 */
    BOOT_ERR_SIZE,          /* image size 0 or body runs past the slot */
    BOOT_ERR_BODY_CRC,      /* body bytes do not match the header's CRC */
    BOOT_ERR_VECTOR_SP,     /* initial stack pointer not in the target's RAM */
    BOOT_ERR_VECTOR_RESET,  /* reset vector not Thumb or not inside the body */
    BOOT_ERR_SLOT,          /* slot address not at a free sector start */
    /* Signed bootloaders only (boot_sig.h): */
    BOOT_ERR_UNSIGNED,      /* no signature trailer after the body */
    BOOT_ERR_SIG_FORMAT,    /* trailer of an unknown version, size or algorithm */
    BOOT_ERR_SIG_KEY,       /* signed with another key than the bootloader's */
    BOOT_ERR_SIGNATURE,     /* the signature does not verify */
    BOOT_ERR_COUNTER,       /* security counter lower than the last started image's */
    BOOT_ERR_COUNTER_STORE, /* the security counter could not be stored */
    BOOT_VALIDATE_COUNT
} boot_validate_t;

/* Short English name, e.g. "bad body CRC"; never NULL. */
const char *boot_validate_reason_name(boot_validate_t v);

typedef struct boot_image_info {
    uint32_t slot;               /* slot start */
    uint32_t slot_size;          /* bytes available to the body */
    uint32_t record;             /* address of the newest record; 0: none */
    boot_image_header_t hdr;     /* as read (meaningful from BAD_MAGIC on) */
    uint32_t body_crc;           /* computed (meaningful once the body was read) */
    uint32_t vector_table;       /* slot + vector_offset */
    uint32_t initial_sp;         /* vector table word 0 */
    uint32_t reset_vector;       /* vector table word 1 */
    uint32_t fail_addr;          /* address of the failing read (BOOT_ERR_READ) */
    flash_status_t flash_status; /* status of the failing read */
    /* The signature trailer (boot_sig.h), when one was read: */
    bool has_sig;
    uint32_t security_counter; /* the image's */
    uint32_t stored_counter;   /* the bootloader's (signed builds) */
    uint8_t key_id[16];
} boot_image_info_t;

/* Bytes from slot to the record area (the map's last sector) or to the next
 * reserved sector; 0 when slot is not the start of a non-reserved sector
 * before the record area. */
uint32_t boot_slot_size(const flash_map_t *map, uint32_t slot);

/* The record area of a flash map: its last sector (BOOT_REC_AREA_ADDR for the
 * target's map), holding sector_size / BOOT_REC_SIZE records. */
static inline uint32_t boot_record_area(const flash_map_t *map)
{
    return map->base + (uint32_t)(map->sector_count - 1u) * map->sector_size;
}

/*
 * The newest record: the last BOOT_REC_SIZE record slot of the area that is
 * not fully erased (0xFF), read with dev->ops->read into raw. Returns FLASH_OK
 * with *addr its address (0 when the whole area is erased), or the read's
 * error with *addr the record slot that could not be read (an ECC error: a
 * word programmed or erased only partly, which is not an erased slot).
 */
flash_status_t boot_record_newest(const flash_dev_t *dev, uint32_t *addr,
                                  uint8_t raw[BOOT_HDR_SIZE]);

/*
 * Check the image in the slot: its newest record (magic, format, CRC), target
 * device, addresses, size, body CRC, and the vector table (initial SP in one
 * of the target's RAM windows, H7_TARGET_SP_RAM: on the STM32H743 DTCM
 * 0x20000000-0x2001FFFF or AXI SRAM 0x24000000-0x2407FFFF, top of RAM
 * allowed; reset vector Thumb and inside the body).
 * Read errors (FLASH_ERR_ECC, ...) make the image invalid, never anything
 * worse. out may be NULL. Uses ~200 bytes of stack.
 */
boot_validate_t boot_validate(const flash_dev_t *dev, uint32_t slot, boot_image_info_t *out);

/* The vector table rules alone (used by boot_validate and by tests). */
bool boot_vector_sp_ok(uint32_t sp);
bool boot_vector_reset_ok(uint32_t reset, uint32_t body_start, uint32_t body_size);

/* ---- request flag surviving a reset ---- */

typedef enum boot_request {
    BOOT_REQ_NONE = 0,
    BOOT_REQ_STAY_IN_DFU = 1,          /* the application asks for an update */
    BOOT_REQ_START_APP = 2,            /* the bootloader, after manifest */
    BOOT_REQ_ENTER_ROM_BOOTLOADER = 3, /* hand over to ST's system memory */
} boot_request_t;

#define BOOT_REQ_MAGIC 0xB007F1A6u

/* Keep it volatile in use: it is written right before a reset. */
typedef struct boot_request_block {
    uint32_t magic;   /* BOOT_REQ_MAGIC */
    uint32_t request; /* boot_request_t */
    uint32_t check;   /* ~request */
} boot_request_block_t;

void boot_request_set(volatile boot_request_block_t *blk, boot_request_t req);
/* The request held, or BOOT_REQ_NONE when the block is garbage. */
boot_request_t boot_request_get(const volatile boot_request_block_t *blk);
void boot_request_clear(volatile boot_request_block_t *blk);
const char *boot_request_name(boot_request_t req);

/* ---- decision ---- */

typedef enum boot_action {
    BOOT_STAY_IN_DFU = 0,
    BOOT_START_APP,
    BOOT_ENTER_ROM_BOOTLOADER,
} boot_action_t;

typedef enum boot_why {
    BOOT_WHY_DFU_REQUESTED = 0, /* request STAY_IN_DFU */
    BOOT_WHY_IMAGE_INVALID,     /* no request (or START_APP) but no valid image */
    BOOT_WHY_IMAGE_VALID,       /* no request, valid image */
    BOOT_WHY_START_REQUESTED,   /* START_APP after an update, valid image */
    BOOT_WHY_ROM_REQUESTED,     /* request ENTER_ROM_BOOTLOADER */
} boot_why_t;

typedef struct boot_decision {
    boot_action_t action;
    boot_why_t why;
    boot_validate_t validation; /* copied for logging */
} boot_decision_t;

/* DFU when asked for or when the image is invalid; otherwise the app. */
boot_decision_t boot_decide(boot_request_t req, boot_validate_t validation);
const char *boot_action_name(boot_action_t a);
const char *boot_why_name(boot_why_t w);

#endif
