/*
 * DFU 1.1 + DfuSe (AN3156) class driver for the bootloader: the state machine
 * of DFU 1.1 Appendix A over a flash_dev_t.
 *
 * Two ways in: as a usbd_class_driver_t (dfu_class_driver()) routed by the
 * device core, or directly with a usb_setup_t and its data (dfu_control(),
 * then dfu_control_done() once the status stage is over, and dfu_poll()).
 *
 * Flash work never runs inside a request. A DNLOAD stores its block in a
 * free transfer buffer (cfg.bufs: buf_count buffers of wTransferSize), or
 * its command. The GETSTATUS that follows hands a write or an erase to the
 * flash work (dfu_work.h: per-bank queues, stepped from dfu_poll(), both
 * banks at once) and answers at once:
 *  - a data block: dfuDNLOAD-IDLE when another buffer is free for the next
 *    block (it crosses the bus while this one is programmed), else
 *    dfuDNBUSY with bwPollTimeout = the time until a bank ends its job;
 *  - a command (erase, set address): dfuDNBUSY, bwPollTimeout 0 once it is
 *    queued (AN3156 and dfu-util expect dfuDNBUSY after a command), then
 *    dfuDNLOAD-IDLE: an erase runs in the background too, before the writes
 *    queued behind it on its bank;
 *  - the CRC vendor command and leave wait for all flash work, then run
 *    from dfu_poll() once their GETSTATUS's status stage is over (or in
 *    dfu_control_done() without cfg.ops_in_poll).
 * A failure of background work is reported by the next GETSTATUS (dfuERROR
 * with its status); ABORT and CLRSTATUS let the started work end first and
 * report its failure, so the host sees it before it leaves, reads back or
 * erases. bwPollTimeout comes from the typical flash times and, with a
 * clock (cfg.now_us: a cycle counter on a chip, a virtual clock in a model),
 * the time already spent.
 *
 * Vendor command DFUSE_CMD_CRC32 (docs/protocol.md): DNLOAD block 0 =
 * {0xC3, address LE32, length LE32, seed LE32}; after dfuDNLOAD-IDLE, ABORT, then UPLOAD
 * block 1 returns {address, length, CRC-32C} (12 bytes, LE; h7_crc32c in
 * core/util/h7_util.h). Advertised in the "get commands" list.
 *
 * No malloc, no stdio: the state is one caller-owned dfu_t; the transfer
 * buffers are the caller's.
 */
#ifndef H7_DFU_H
#define H7_DFU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dfu_defs.h"
#include "dfu_work.h"
#include "flash.h"
#include "h7_target.h"
#include "usb_std.h"
#include "usbd_class.h"

/* Largest wTransferSize the driver can buffer (bytes; a multiple of 32). */
#ifndef H7_DFU_XFER_MAX
#define H7_DFU_XFER_MAX 2048u
#endif
#define H7_DFU_XFER_DEFAULT 2048u
/* Most transfer buffers the driver can use. */
#define DFU_BUFS_MAX 8u

/*
 * Typical flash timings used for bwPollTimeout: the target's (h7_target.h;
 * on the STM32H743 the datasheet's, DS12110 6.3.11: sector erase 1 s, flash
 * word programming 100 us), and the CPU's CRC-32 over flash, per byte.
 */
#define H7_DFU_ERASE_SECTOR_MS_DEFAULT H7_TARGET_ERASE_SECTOR_MS
#define H7_DFU_PROGRAM_WORD_US_DEFAULT H7_TARGET_PROGRAM_WORD_US
#define H7_DFU_CRC_NS_PER_BYTE_DEFAULT H7_TARGET_CRC_NS_PER_BYTE
/* Our vendor command and the reserved UPLOAD block of its result. */
#define DFUSE_CMD_CRC32     0xC3u
#define DFUSE_CMD_CRC32_LEN 13u /* with the seed; 9 = seed 0 */
#define DFU_RESULT_BLOCK    1u
#define DFU_CRC_RESULT_LEN  12u
/* Vendor command: why the bootloader is in DFU mode (docs/protocol.md).
 * DNLOAD block 0 = {0xC4}; after dfuDNLOAD-IDLE, ABORT, UPLOAD block 1
 * returns the 12 bytes of cfg.boot_status. */
#define DFUSE_CMD_BOOT_STATUS 0xC4u
#define DFU_BOOT_STATUS_LEN   12u
/* Vendor command: restart into the chip's ROM bootloader (docs/protocol.md).
 * DNLOAD block 0 = {0xC5} acts as a leave whose address is the ROM
 * bootloader's (h7_target.h; ST's system memory bootloader on the STM32H743,
 * AN2606: 0x1FF09800): the manifest callback gets DFU_ROM_BOOT_ADDR and the
 * boot layer resets with its ENTER_ROM_BOOTLOADER request. */
#define DFUSE_CMD_ENTER_ROM 0xC5u
#define DFU_ROM_BOOT_ADDR   H7_TARGET_ROM_BOOT_ADDR

/* The locked configuration (docs/production.md): H7_DFU_UPLOAD_LIMIT = 1
 * compiles in a window for memory UPLOAD (dfu_config_t.upload_*). The
 * default bootloader image leaves it out (0 bytes of its 16 KiB); the locked
 * bootloader image and the host builds (the virtual board's --locked) have
 * it. The DfuSe command list (UPLOAD block 0) and the vendor results (block
 * 1: CRC, boot status) are never limited: bitCanUpload stays set. */
#ifndef H7_DFU_UPLOAD_LIMIT
#define H7_DFU_UPLOAD_LIMIT 0
#endif

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
    /* The device's clock, for bwPollTimeout (the time left of the work
     * started). NULL = dfu_set_default_clock()'s; none: the typical times. */
    dfu_clock_fn now_us;
    void *clock_user;
    /* buf_count (1..DFU_BUFS_MAX) transfer buffers of transfer_size bytes,
     * back to back: blocks wait there for the flash. Two let a block cross
     * the bus while the previous one is programmed; one more per bank keeps
     * the bank busy while the host answers. */
    uint8_t *bufs;
    uint8_t buf_count;
    /* DFU_BOOT_STATUS_LEN bytes the boot status command answers; NULL: the
     * command stalls. */
    const uint8_t *boot_status;
    /* Leave (zero-length DNLOAD) was confirmed by GETSTATUS: the bootloader's
     * boot layer decides what happens next (validate, reset). addr is the
     * DfuSe address pointer (where the host asked to start). May be NULL. */
    void (*manifest)(void *user, uint32_t addr);
    void *user;
    /* No DfuSe command 0xC5 (restart into ST's ROM bootloader): not listed,
     * a one-byte 0xC5 download stalls. A signed or locked bootloader sets it:
     * the ROM would let any host set the boot address option bytes (BOOT_ADD0,
     * RDP level 1 included) or, at level 0, read and erase the flash, around
     * the signature and the lock (docs/production.md). */
    bool no_rom_handover;
#if H7_DFU_UPLOAD_LIMIT
    /* upload_limited: a memory UPLOAD reads only [upload_base, upload_base +
     * upload_size) (size 0: nothing); any other block stalls, dfuERROR with
     * errTARGET (the address is memory, not one this device lets the host
     * read, as for reserved sectors). */
    bool upload_limited;
    uint32_t upload_base;
    uint32_t upload_size;
    /* With upload_limited, the CRC command answers whole sectors and
     * [crc_open_base, crc_open_base + crc_open_size) only (the
     * record area: versions and CRCs, what the host checks after it appends
     * a record); any other range fails with errTARGET. CRCs of short ranges
     * would read the flash back a few bytes at a time. */
    uint32_t crc_open_base;
    uint32_t crc_open_size;
#endif
} dfu_config_t;

/* What a DNLOAD asked for, until GETSTATUS hands it on. */
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
    dfu_work_t work; /* the flash work (its counters: statistics) */
    dfu_state_t state;
    dfu_status_t status;
    uint32_t address; /* DfuSe address pointer */
    dfu_op_t op;      /* stored by DNLOAD */
    dfu_status_t op_status;
    uint32_t op_addr; /* write: address; erase: sector number */
    uint16_t op_len;  /* write: bytes padded to whole words */
    uint8_t op_buf;   /* write: its transfer buffer */
    uint8_t alt;
    uint32_t op_seed;  /* CRC start value */
    uint32_t op_len32; /* CRC length */
    /* CRC or leave: armed by GETSTATUS, run once the flash is idle */
    bool op_armed;
    bool op_ran; /* the armed op ran; its status is op_result */
    dfu_status_t op_result;
    /* ops_in_poll: the last GETSTATUS has finished its status stage, so poll()
     * may run the armed op (the host's wait starts there, not after it). */
    bool getstatus_done;
    bool manifest_done;             /* manifestation-tolerant: next GETSTATUS -> dfuIDLE */
    uint8_t buf_refs[DFU_BUFS_MAX]; /* jobs (or the stored op) using a buffer */
    uint32_t blocks_overlapped;     /* statistics: blocks received while busy */
    /* result of the last vendor command (UPLOAD block 1) */
    bool result_valid;
    uint8_t result[DFU_CRC_RESULT_LEN];
} dfu_t;

/* The clock dfu_init() takes when cfg->now_us is NULL (one device per
 * program, like usbd): the virtual board sets its virtual clock here. NULL
 * turns timed mode off for later dfu_init() calls. */
void dfu_set_default_clock(dfu_clock_fn now_us, void *user);

/* Set up dfu with cfg (copied). False when cfg is unusable (no flash, no
 * buffers, transfer size above H7_DFU_XFER_MAX or not a multiple of the
 * word size). */
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
/* Main-loop hook: steps the flash work; runs an armed CRC or leave when
 * cfg.ops_in_poll. Returns at once. */
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
