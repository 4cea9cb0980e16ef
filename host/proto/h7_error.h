/*
 * One failure of libh7dfu described for a person: what was being done, where
 * (address, block), how the transfer ended, the device's DFU state and status
 * decoded, and what to do next.
 */
#ifndef H7_ERROR_H
#define H7_ERROR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum h7_errc {
    H7_OK = 0,
    H7_E_TRANSPORT = -1, /* the control transfer failed (stall, gone, timeout) */
    H7_E_DEVICE = -2,    /* the device reported a DFU error status */
    H7_E_PROTOCOL = -3,  /* the device answered in an unexpected state or length */
    H7_E_VERIFY = -4,    /* read-back differs from what was written */
    H7_E_PLAN = -5,      /* the image does not fit the device: nothing was sent */
    H7_E_ARG = -6,       /* bad argument from the caller */
    H7_E_TIMEOUT = -7,   /* the device stayed busy longer than allowed */
    H7_E_NOMEM = -8,
    H7_E_CANCELLED = -9, /* the caller asked to stop (h7_write_cfg_t.cancel) */
} h7_errc_t;

typedef struct h7_error {
    h7_errc_t code;
    char op[48]; /* "erase sector", "write block", "read back", ... */
    bool has_addr;
    uint32_t addr;
    int block;    /* DFU block number (wValue), -1 when none */
    int xfer;     /* h7_xfer_error of the transfer, 0 when none */
    bool has_dfu; /* state/status below were read from the device */
    uint8_t state;
    uint8_t status;
    char detail[288]; /* extra words (expected state, offsets, ...) */
} h7_error_t;

void h7_error_clear(h7_error_t *e);
const char *h7_errc_name(h7_errc_t code);

/*
 * Describing a failure, the one way libh7dfu fills an h7_error_t:
 *
 *   h7_err_set      a new failure: every field cleared, then its code, the
 *                   operation ("erase sector") and, when fmt is not NULL,
 *                   the detail words. Returns code (return h7_err_set(...)).
 *   h7_err_at       the address it happened at
 *   h7_err_block    the DFU block number (wValue), -1 for none
 *   h7_err_device   the DFU state and status the device reported
 *   h7_err_context  the operation a lower-level failure belongs to: a failed
 *                   UPLOAD inside a verification is reported as "read back".
 *                   Code, detail and the device's answer are kept. Returns
 *                   the code.
 */
int h7_err_set(h7_error_t *e, h7_errc_t code, const char *op, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void h7_err_at(h7_error_t *e, uint32_t addr);
void h7_err_block(h7_error_t *e, int block);
void h7_err_device(h7_error_t *e, uint8_t state, uint8_t status);
int h7_err_context(h7_error_t *e, const char *op);

/*
 * The whole message, e.g.
 *   "write block 5 at 0x08020000 failed: the device reports state dfuERROR
 *    (an error occurred; it waits for CLRSTATUS) with status errTARGET (...).
 *    What to do: ..."
 * Returns the length (truncated to len - 1).
 */
size_t h7_error_format(const h7_error_t *e, char *buf, size_t len);

#endif
