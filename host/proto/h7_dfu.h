/*
 * The DFU 1.1 / DfuSe (AN3156) client of libh7dfu: one request per call over an
 * h7_transport_t, plus the DfuSe commands and the waits and recoveries the
 * protocol asks of a host. Every failure fills dfu->err (see h7_error.h) with
 * what failed, where, the device's state and status, and what to do.
 *
 * All functions return 0 on success (or a byte count where stated) and a
 * negative h7_errc_t on failure.
 */
#ifndef H7_DFU_CLIENT_H
#define H7_DFU_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "h7_error.h"
#include "h7_transport.h"
#include "h7_util.h"

/* Class requests (DFU 1.1 Table 3.2) */
enum h7_dfu_request {
    H7_DFU_DETACH = 0,
    H7_DFU_DNLOAD = 1,
    H7_DFU_UPLOAD = 2,
    H7_DFU_GETSTATUS = 3,
    H7_DFU_CLRSTATUS = 4,
    H7_DFU_GETSTATE = 5,
    H7_DFU_ABORT = 6,
};

/* Device states (DFU 1.1 6.1.2) */
enum h7_dfu_state {
    H7_ST_APP_IDLE = 0,
    H7_ST_APP_DETACH = 1,
    H7_ST_IDLE = 2,
    H7_ST_DNLOAD_SYNC = 3,
    H7_ST_DNBUSY = 4,
    H7_ST_DNLOAD_IDLE = 5,
    H7_ST_MANIFEST_SYNC = 6,
    H7_ST_MANIFEST = 7,
    H7_ST_MANIFEST_WAIT_RESET = 8,
    H7_ST_UPLOAD_IDLE = 9,
    H7_ST_ERROR = 10,
};

/* Status codes (DFU 1.1 6.1.2) */
enum h7_dfu_status {
    H7_STATUS_OK = 0,
    H7_STATUS_ERR_TARGET,
    H7_STATUS_ERR_FILE,
    H7_STATUS_ERR_WRITE,
    H7_STATUS_ERR_ERASE,
    H7_STATUS_ERR_CHECK_ERASED,
    H7_STATUS_ERR_PROG,
    H7_STATUS_ERR_VERIFY,
    H7_STATUS_ERR_ADDRESS,
    H7_STATUS_ERR_NOTDONE,
    H7_STATUS_ERR_FIRMWARE,
    H7_STATUS_ERR_VENDOR,
    H7_STATUS_ERR_USBR,
    H7_STATUS_ERR_POR,
    H7_STATUS_ERR_UNKNOWN,
    H7_STATUS_ERR_STALLEDPKT,
};

/* DfuSe commands (AN3156) */
#define H7_DFUSE_GET_COMMANDS   0x00u
#define H7_DFUSE_SET_ADDRESS    0x21u
#define H7_DFUSE_ERASE          0x41u
#define H7_DFUSE_READ_UNPROTECT 0x92u
/* h7dfu bootloader vendor command (docs/protocol.md): CRC-32 of a flash range,
 * result read back by UPLOAD of block 1. */
#define H7_DFUSE_CRC32       0xC3u
#define H7_DFUSE_BOOT_STATUS 0xC4u
#define H7_DFUSE_ENTER_ROM   0xC5u /* restart into ST's ROM bootloader */

typedef struct h7_dfu_status_rec {
    uint8_t status;   /* enum h7_dfu_status */
    uint32_t poll_ms; /* bwPollTimeout */
    uint8_t state;    /* enum h7_dfu_state */
    uint8_t istring;
} h7_dfu_status_rec_t;

typedef struct h7_dfu {
    const h7_transport_t *t;
    uint8_t itf;            /* DFU interface number (wIndex) */
    uint16_t transfer_size; /* wTransferSize from the functional descriptor */
    unsigned timeout_ms;    /* per control transfer */
    unsigned max_wait_ms;   /* give up waiting for dfuDNBUSY after this (0: 60 s) */
    h7_error_t err;         /* the last failure */
    bool crc_known;         /* h7_dfuse_has_command() asked about the CRC command */
    bool crc_cmd;           /* ... and the device has it (the h7dfu bootloader) */
} h7_dfu_client_t;

void h7_dfu_init(h7_dfu_client_t *dfu, const h7_transport_t *t, uint8_t itf,
                 uint16_t transfer_size);

/* Plain DFU 1.1 requests. */
int h7_dfu_get_status(h7_dfu_client_t *dfu, h7_dfu_status_rec_t *out);
int h7_dfu_clr_status(h7_dfu_client_t *dfu);
int h7_dfu_get_state(h7_dfu_client_t *dfu, uint8_t *state);
int h7_dfu_abort(h7_dfu_client_t *dfu);
int h7_dfu_detach(h7_dfu_client_t *dfu, uint16_t timeout_ms);
int h7_dfu_dnload(h7_dfu_client_t *dfu, uint16_t block, const uint8_t *data, uint16_t len);
/* Returns the byte count received (a short frame ends an upload). */
int h7_dfu_upload(h7_dfu_client_t *dfu, uint16_t block, uint8_t *data, uint16_t len);

/*
 * GETSTATUS until the device leaves dfuDNBUSY (or dfuMANIFEST), sleeping
 * bwPollTimeout between polls. The final status is in *out (may be NULL).
 * Fails with H7_E_DEVICE when the device ends in dfuERROR.
 */
int h7_dfu_wait(h7_dfu_client_t *dfu, h7_dfu_status_rec_t *out);

/* Back to dfuIDLE from wherever: CLRSTATUS in dfuERROR, ABORT otherwise. */
int h7_dfu_recover(h7_dfu_client_t *dfu);

/* DfuSe commands: DNLOAD block 0 + wait for the result. */
int h7_dfuse_set_address(h7_dfu_client_t *dfu, uint32_t addr);
int h7_dfuse_erase_sector(h7_dfu_client_t *dfu, uint32_t addr);
int h7_dfuse_mass_erase(h7_dfu_client_t *dfu);
int h7_dfuse_read_unprotect(h7_dfu_client_t *dfu);
/* UPLOAD block 0: the command bytes the device supports; returns the count. */
int h7_dfuse_get_commands(h7_dfu_client_t *dfu, uint8_t *cmds, uint16_t cap);
/* Does the device's "get commands" list hold cmd? From dfuIDLE; false on any
 * failure (the device is then recovered to dfuIDLE). */
bool h7_dfuse_has_command(h7_dfu_client_t *dfu, uint8_t cmd);
/* Why the h7dfu bootloader is in DFU mode: its boot decision at the last
 * reset and the newest image record's version, as read (vendor command
 * 0xC4, docs/protocol.md). The codes are core/boot's boot_action_t,
 * boot_why_t, boot_validate_t. */
typedef struct h7_boot_status {
    uint8_t action, why, validation;
    uint8_t major, minor;
    uint16_t patch;
    uint32_t build;
} h7_boot_status_t;
int h7_dfuse_boot_status(h7_dfu_client_t *dfu, h7_boot_status_t *out);

/* CRC-32C (Castagnoli; h7_crc32c(seed, bytes, len)) of len bytes at addr
 * computed by the device with H7_DFUSE_CRC32, starting from seed. CRC-32C,
 * not the IEEE CRC-32 that image headers embed: data ending with its own
 * IEEE CRC-32 has a constant IEEE CRC-32. From dfuIDLE; ends there. */
int h7_dfuse_crc32(h7_dfu_client_t *dfu, uint32_t addr, uint32_t len, uint32_t seed, uint32_t *crc);
/* One data block (n >= 2) at address_pointer + (n - 2) * transfer_size. */
int h7_dfuse_write_block(h7_dfu_client_t *dfu, uint16_t block, const uint8_t *data, uint16_t len);
/* The end of a write. The h7dfu bootloader programs in the background: on
 * a device known to have the CRC command (h7_dfuse_has_command() asked),
 * a CRC query of the word at addr waits for all its work (bwPollTimeout),
 * then ABORT and GETSTATUS report its failure; the device ends in dfuIDLE.
 * Other devices finish each block before they answer: nothing is sent (an
 * option-byte write of ST's ROM resets it). 0 or the device's error. */
int h7_dfuse_settle(h7_dfu_client_t *dfu, uint32_t addr);
/* Write len bytes at addr: set the pointer, blocks of transfer_size, then
 * h7_dfuse_settle(). */
int h7_dfuse_write(h7_dfu_client_t *dfu, uint32_t addr, const uint8_t *data, size_t len,
                   void (*progress)(void *user, size_t done), void *user);
/* Read len bytes at addr (set address, ABORT to dfuIDLE, UPLOAD blocks, ABORT). */
int h7_dfuse_read(h7_dfu_client_t *dfu, uint32_t addr, uint8_t *buf, size_t len);
/* Leave DFU mode: set the pointer to addr (when has_addr) then a zero-length
 * DNLOAD and the GETSTATUS that starts the manifestation. */
int h7_dfuse_leave(h7_dfu_client_t *dfu, bool has_addr, uint32_t addr);

/* Names and one-sentence meanings. Unknown values give "unknown ..." text. */
const char *h7_dfu_state_name(uint8_t state);
const char *h7_dfu_state_text(uint8_t state);
const char *h7_dfu_status_name(uint8_t status);
const char *h7_dfu_status_text(uint8_t status);
/* What a user can do about a status. */
const char *h7_dfu_status_hint(uint8_t status);

#endif
