/*
 * USB DFU 1.1 and ST DfuSe (AN3156) wire constants: class requests, states,
 * status codes, functional-descriptor attributes and DfuSe commands.
 */
#ifndef H7_DFU_DEFS_H
#define H7_DFU_DEFS_H

/* Class requests (DFU 1.1 Table 3.2) */
#define DFU_REQ_DETACH    0u
#define DFU_REQ_DNLOAD    1u
#define DFU_REQ_UPLOAD    2u
#define DFU_REQ_GETSTATUS 3u
#define DFU_REQ_CLRSTATUS 4u
#define DFU_REQ_GETSTATE  5u
#define DFU_REQ_ABORT     6u

/* Device states (DFU 1.1 6.1.2) */
typedef enum dfu_state {
    DFU_STATE_APP_IDLE = 0,
    DFU_STATE_APP_DETACH = 1,
    DFU_STATE_IDLE = 2,
    DFU_STATE_DNLOAD_SYNC = 3,
    DFU_STATE_DNBUSY = 4,
    DFU_STATE_DNLOAD_IDLE = 5,
    DFU_STATE_MANIFEST_SYNC = 6,
    DFU_STATE_MANIFEST = 7,
    DFU_STATE_MANIFEST_WAIT_RESET = 8,
    DFU_STATE_UPLOAD_IDLE = 9,
    DFU_STATE_ERROR = 10,
} dfu_state_t;

/* Status codes (DFU 1.1 6.1.2, bStatus) */
typedef enum dfu_status {
    DFU_STATUS_OK = 0x00,
    DFU_STATUS_ERR_TARGET = 0x01,
    DFU_STATUS_ERR_FILE = 0x02,
    DFU_STATUS_ERR_WRITE = 0x03,
    DFU_STATUS_ERR_ERASE = 0x04,
    DFU_STATUS_ERR_CHECK_ERASED = 0x05,
    DFU_STATUS_ERR_PROG = 0x06,
    DFU_STATUS_ERR_VERIFY = 0x07,
    DFU_STATUS_ERR_ADDRESS = 0x08,
    DFU_STATUS_ERR_NOTDONE = 0x09,
    DFU_STATUS_ERR_FIRMWARE = 0x0a,
    DFU_STATUS_ERR_VENDOR = 0x0b,
    DFU_STATUS_ERR_USBR = 0x0c,
    DFU_STATUS_ERR_POR = 0x0d,
    DFU_STATUS_ERR_UNKNOWN = 0x0e,
    DFU_STATUS_ERR_STALLEDPKT = 0x0f,
} dfu_status_t;

/* Functional descriptor bmAttributes (DFU 1.1 4.1.3) */
#define DFU_ATTR_CAN_DNLOAD             0x01u
#define DFU_ATTR_CAN_UPLOAD             0x02u
#define DFU_ATTR_MANIFESTATION_TOLERANT 0x04u
#define DFU_ATTR_WILL_DETACH            0x08u

#define DFU_FUNC_DESC_LEN 9u
#define DFU_BCD_VERSION   0x011au /* DfuSe extension of DFU 1.1 (AN3156) */

/* DfuSe commands: first byte of DNLOAD block 0 (AN3156 section 6.1) */
#define DFUSE_CMD_GET_COMMANDS   0x00u
#define DFUSE_CMD_SET_ADDRESS    0x21u
#define DFUSE_CMD_ERASE          0x41u
#define DFUSE_CMD_READ_UNPROTECT 0x92u

/* GETSTATUS reply length (DFU 1.1 6.1.2) */
#define DFU_STATUS_LEN 6u

#endif
