/*
 * DFU 1.1 + DfuSe (AN3156) class driver for the bootloader: the state machine
 * of DFU 1.1 Appendix A over a flash_dev_t.
 *
 * Two ways in: as a usbd_class_driver_t (dfu_class_driver()) routed by the
 * device core, or directly with a usb_setup_t and its data (dfu_control(),
 * then dfu_control_done() once the status stage is over, and dfu_poll()).
 *
 * Flash work never runs inside a request: a DNLOAD only stores the block; the
 * following GETSTATUS answers dfuDNBUSY with the operation's typical duration
 * in bwPollTimeout, and the operation runs when that answer's status stage is
 * done (control_done, or the first poll() after it when cfg.ops_in_poll is
 * set: never before, or the host would see the status stage NAKed for the
 * whole operation and then wait bwPollTimeout on top). The next
 * GETSTATUS reports dfuDNLOAD-IDLE, or dfuERROR with the status.
 *
 * With a clock (cfg.now_us, or dfu_set_default_clock()) the driver knows
 * when its flash work ends, and:
 *  - data blocks are programmed in the background: the GETSTATUS after a
 *    DNLOAD moves the block to a second buffer, starts programming it and
 *    answers dfuDNLOAD-IDLE at once, so the next block crosses the bus while
 *    this one is programmed. If the previous block is still being programmed
 *    it answers dfuDNBUSY with bwPollTimeout = the time left until it is
 *    done (rounded up to the millisecond).
 *  - a GETSTATUS in dfuDNBUSY before the work is done answers dfuDNBUSY
 *    again with the time left (a real device would NAK or answer the same).
 *  - other flash work (erase, CRC, leave) starts after the background block
 *    and reports the sum. A background programming error is reported by the
 *    next GETSTATUS (or turns ABORT's dfuIDLE into dfuERROR): the host sees
 *    it before it leaves, reads back or erases.
 *
 * Vendor command DFUSE_CMD_CRC32 (docs/protocol.md): DNLOAD block 0 =
 * {0xC3, address LE32, length LE32, seed LE32}; after dfuDNLOAD-IDLE, ABORT, then UPLOAD
 * block 1 returns {address, length, CRC-32C} (12 bytes, LE). Advertised in
 * the "get commands" list.
 *
 * No malloc, no stdio: the state is one caller-owned dfu_t, its buffer sized
 * by H7_DFU_XFER_MAX at compile time.
 */
#ifndef H7_DFU_H
#define H7_DFU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dfu_defs.h"
#include "flash.h"
#include "usb_std.h"
#include "usbd_class.h"

/* Largest wTransferSize the driver can buffer (bytes; a multiple of 32). */
#ifndef H7_DFU_XFER_MAX
#define H7_DFU_XFER_MAX 2048u
#endif
#define H7_DFU_XFER_DEFAULT 2048u

/*
 * Typical flash timings used for bwPollTimeout, DS12110 (STM32H743xI
 * datasheet) 6.3.11 table "Flash memory programming", program/erase
 * parallelism x64 (port/stm32h743/flash_h7.c programs and erases with
 * PSIZE x64): sector erase 128 KiB (tERASE128KB) 1 s typ, flash word
 * (256 bits + ECC, tprog) programming 100 us typ.
 */
#define H7_DFU_ERASE_SECTOR_MS_DEFAULT 1000u
#define H7_DFU_PROGRAM_WORD_US_DEFAULT 100u
/* CRC-32 over flash by the CPU (bytewise, 16-entry table, flash reads with
 * wait states): about 20 ns per byte at 400 MHz; used for bwPollTimeout. */
#define H7_DFU_CRC_NS_PER_BYTE_DEFAULT 20u
/* Our vendor command and the reserved UPLOAD block of its result. */
#define DFUSE_CMD_CRC32     0xC3u
#define DFUSE_CMD_CRC32_LEN 13u /* with the seed; 9 = seed 0 */
#define DFU_RESULT_BLOCK    1u
#define DFU_CRC_RESULT_LEN  12u

/* A free-running microsecond counter of the device (wraps at 2^32). */
typedef uint32_t (*dfu_clock_fn)(void *user);

typedef struct dfu_config {
    const flash_dev_t *flash;
    uint16_t transfer_size; /* wTransferSize; 0 = H7_DFU_XFER_DEFAULT */
    uint8_t itf_num;        /* bInterfaceNumber of the DFU interface */
    uint8_t attributes;     /* DFU_ATTR_*; 0 = download|upload|willDetach */
    uint16_t detach_timeout_ms;
    uint32_t erase_sector_ms; /* 0 = default above */
    uint32_t program_word_us; /* 0 = default above */
    bool ops_in_poll;         /* run flash work in poll(), not control_done() */
    uint32_t crc_ns_per_byte; /* 0 = default above */
    /* The device's clock: enables background programming and bwPollTimeout
     * from the time left (see above). NULL = dfu_set_default_clock()'s. */
    dfu_clock_fn now_us;
    void *clock_user;
    /* Leave (zero-length DNLOAD) was confirmed by GETSTATUS: the bootloader's
     * boot layer decides what happens next (validate, reset). addr is the
     * DfuSe address pointer (where the host asked to start). May be NULL. */
    void (*manifest)(void *user, uint32_t addr);
    void *user;
} dfu_config_t;

/* The flash operation a DNLOAD asked for, run after GETSTATUS. */
typedef enum dfu_op {
    DFU_OP_NONE = 0,
    DFU_OP_NOP, /* DfuSe "get commands" sent by DNLOAD: nothing to do */
    DFU_OP_SET_ADDRESS,
    DFU_OP_ERASE_SECTOR,
    DFU_OP_MASS_ERASE,
    DFU_OP_WRITE,
    DFU_OP_FAIL,     /* refused before running: status in op_status */
    DFU_OP_MANIFEST, /* leave */
    DFU_OP_CRC32,    /* vendor command: CRC of a flash range */
} dfu_op_t;

typedef struct dfu {
    dfu_config_t cfg;
    dfu_state_t state;
    dfu_status_t status;
    uint32_t address; /* DfuSe address pointer */
    dfu_op_t op;      /* stored by DNLOAD */
    bool op_armed;    /* GETSTATUS answered dfuDNBUSY/dfuMANIFEST: run it */
    /* ops_in_poll: the last GETSTATUS has finished its status stage, so poll()
     * may start the flash work (the host's wait starts there, not after it). */
    bool getstatus_done;
    bool manifest_done; /* manifestation-tolerant: next GETSTATUS -> dfuIDLE */
    dfu_status_t op_status;
    uint32_t op_addr;
    uint16_t op_len;
    uint8_t alt;
    uint32_t words_programmed; /* statistics for tests and logs */
    uint32_t sectors_erased;
    uint32_t op_seed;  /* CRC start value */
    uint32_t op_len32; /* CRC length */
    /* timed mode (a clock): when the stored op and the flash work end */
    bool timed;
    bool op_ran;        /* the armed op has run; its status is op_result */
    bool waiting_write; /* a block waits for the background one */
    dfu_status_t op_result;
    uint32_t op_end_us;     /* the stored op is done at this time */
    uint32_t flash_free_us; /* flash work started so far is done at this time */
    /* background block: programmed while the next one is received */
    bool bg_run; /* stored in bgbuf, not yet programmed */
    uint32_t bg_addr;
    uint16_t bg_len;
    dfu_status_t bg_status;     /* first background failure, reported once */
    uint32_t blocks_overlapped; /* statistics: blocks accepted while busy */
    /* result of the last vendor command (UPLOAD block 1) */
    bool result_valid;
    uint8_t result[DFU_CRC_RESULT_LEN];
    uint8_t buf[H7_DFU_XFER_MAX];
    uint8_t bgbuf[H7_DFU_XFER_MAX];
} dfu_t;

/* The clock dfu_init() takes when cfg->now_us is NULL (one device per
 * program, like usbd): the virtual board sets its virtual clock here. NULL
 * turns timed mode off for later dfu_init() calls. */
void dfu_set_default_clock(dfu_clock_fn now_us, void *user);
/* CRC-32C (Castagnoli, reflected 0x82F63B78, init and final xor ~0; check
 * value of "123456789" 0xE3069283): chain from crc = 0 (or a seed). */
uint32_t dfu_crc32c(uint32_t crc, const uint8_t *data, size_t len);

/* Set up dfu with cfg (copied). False when cfg is unusable (no flash,
 * transfer size above H7_DFU_XFER_MAX or not a multiple of the word size). */
bool dfu_init(dfu_t *dfu, const dfu_config_t *cfg);

/* Back to dfuIDLE, status OK (bus reset, SET_CONFIGURATION). */
void dfu_reset(dfu_t *dfu);

/*
 * One class request, with the device core's contract (usbd_class.h). OUT:
 * data holds cap bytes, cap == setup->wLength when the data stage was
 * received (cap < wLength: it was not, the request stalls). IN: write at most
 * cap bytes into data. Returns the byte count (IN), 0 (OUT), or USBD_STALL.
 */
int dfu_control(dfu_t *dfu, const usb_setup_t *setup, uint8_t *data, uint16_t cap);
/* The status stage of an accepted request is done. */
void dfu_control_done(dfu_t *dfu, const usb_setup_t *setup);
/* Main-loop hook: runs an armed flash operation when cfg.ops_in_poll. */
void dfu_poll(dfu_t *dfu);
bool dfu_set_alt(dfu_t *dfu, uint8_t alt);

static inline dfu_state_t dfu_get_state(const dfu_t *dfu)
{
    return dfu->state;
}
static inline dfu_status_t dfu_get_status(const dfu_t *dfu)
{
    return dfu->status;
}
static inline uint16_t dfu_transfer_size(const dfu_t *dfu)
{
    return dfu->cfg.transfer_size;
}

/* Number of alternate settings (one per memory; the internal flash only). */
unsigned dfu_alt_count(const dfu_t *dfu);
/* The interface string of an alternate setting: the DfuSe layout string.
 * Returns its length, or 0 when alt is unknown or buf too small. */
size_t dfu_alt_string(const dfu_t *dfu, unsigned alt, char *buf, size_t len);

/* The 9-byte DFU functional descriptor (DFU 1.1 4.1.3, bcdDFUVersion 0x011A).
 * Returns DFU_FUNC_DESC_LEN, or 0 when len is too small. */
size_t dfu_functional_descriptor(uint8_t *buf, size_t len, uint8_t attributes,
                                 uint16_t detach_timeout_ms, uint16_t transfer_size);

/* A usbd_class_driver_t whose ctx is dfu. */
usbd_class_driver_t dfu_class_driver(dfu_t *dfu);

#endif
