/*
 * Scripted fake controller for the device core tests: implements dcd.h,
 * records every call, keeps one pending transfer per endpoint, and plays the
 * host side of control transfers packet by packet.
 */
#ifndef H7_FAKE_DCD_H
#define H7_FAKE_DCD_H

#include <stdbool.h>
#include <stdint.h>

typedef enum fake_call {
    FAKE_INIT,
    FAKE_CONNECT,
    FAKE_DISCONNECT,
    FAKE_SET_ADDRESS,
    FAKE_EP_OPEN,
    FAKE_EP_CLOSE_ALL,
    FAKE_EP_XFER,
    FAKE_EP_STALL,
    FAKE_EP_CLEAR_STALL,
    FAKE_POLL,
    FAKE_CALL_KINDS,
} fake_call_t;

typedef struct fake_event {
    fake_call_t call;
    uint8_t ep;   /* endpoint, or the address for FAKE_SET_ADDRESS */
    uint8_t type; /* FAKE_EP_OPEN */
    uint16_t len; /* FAKE_EP_XFER length, FAKE_EP_OPEN max packet */
} fake_event_t;

#define FAKE_LOG_MAX 512

/* Forget every call and pending transfer. */
void fake_dcd_reset(void);
unsigned fake_dcd_count(fake_call_t call);
/* Most recent event of that kind, NULL if none. */
const fake_event_t *fake_dcd_last(fake_call_t call);
unsigned fake_dcd_log_len(void);
const fake_event_t *fake_dcd_log(unsigned i);

/* EP0 protocol stall in force (cleared by the next SETUP). */
bool fake_dcd_ep0_stalled(void);
/* A transfer is armed on ep; its length in *len. */
bool fake_dcd_pending(uint8_t ep, uint16_t *len);
bool fake_dcd_is_open(uint8_t ep);
/* Make every dcd_ep_open() of ep fail from now on (0: none fails). */
void fake_dcd_refuse_open(uint8_t ep);
bool fake_dcd_halted(uint8_t ep);
uint8_t fake_dcd_address(void);

/* Deliver a SETUP packet (drops armed EP0 transfers and the EP0 stall first,
 * as dcd.h requires). */
void fake_dcd_setup(uint8_t bm, uint8_t req, uint16_t value, uint16_t index, uint16_t length);
/* Host takes the armed IN packet on ep: copies it to out (if not NULL) and
 * completes it. false: nothing armed. */
bool fake_dcd_complete_in(uint8_t ep, uint8_t *out, uint16_t *len);
/* Host sends an OUT packet on ep. false: nothing armed or len too long. */
bool fake_dcd_complete_out(uint8_t ep, const uint8_t *data, uint16_t len);

/* What a host observed in one control transfer. */
typedef struct host_xfer {
    uint16_t len;         /* data stage bytes */
    unsigned packets;     /* data stage packets, zero-length ones included */
    uint16_t pkt_len[64]; /* their sizes */
} host_xfer_t;

#define HOST_OK    0
#define HOST_STALL (-1)
#define HOST_PROTO (-2) /* the device broke the protocol (e.g. no status stage) */

/* Full control read as a host does it: SETUP, IN packets until a short one or
 * wLength bytes, then the OUT status. Returns HOST_* ; info may be NULL. */
int host_control_in(uint8_t bm, uint8_t req, uint16_t value, uint16_t index, uint16_t length,
                    uint8_t *buf, host_xfer_t *info);
/* Control write (or no-data request when length is 0): SETUP, OUT packets,
 * then the IN status. */
int host_control_out(uint8_t bm, uint8_t req, uint16_t value, uint16_t index, const uint8_t *data,
                     uint16_t length);

#endif
